//! Purging stored files: the statements, the policy, and what must never go.

use std::io::Write;
use std::time::Duration;

use crate::harness::*;

fn stored(b: &Binlogd) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(&b.binlog_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("mysql-bin.0"))
        .collect();
    v.sort();
    v
}

#[test]
fn purge_statements_spare_the_active_file_files_being_read_and_the_floor() {
    let s = Server::start(Flavor::MariaDb, "purge-stmt");
    let (mut b, lport) = Binlogd::serving(&s, "purge-stmt", "min_binlog_files = 2");
    s.sql("CREATE DATABASE pg; CREATE TABLE pg.t (id INT AUTO_INCREMENT PRIMARY KEY, v LONGBLOB); FLUSH BINARY LOGS");
    // The second file is large, so a reader that stops reading stays inside it.
    for _ in 0..3 {
        s.sql("INSERT INTO pg.t (v) VALUES (REPEAT('p', 8 * 1024 * 1024))");
    }
    s.sql("FLUSH BINARY LOGS; INSERT INTO pg.t (v) VALUES ('a'); FLUSH BINARY LOGS; INSERT INTO pg.t (v) VALUES ('b')");
    s.sql("FLUSH BINARY LOGS; INSERT INTO pg.t (v) VALUES ('c')");
    assert_rotated_identical(&s, &b);
    let logs = s.binary_logs();
    assert_eq!(logs.len(), 5, "{logs:?}");
    let (f1, f2, f5) = (&logs[0], &logs[1], &logs[4]);

    // A replica connection that dumps from the large file and then reads nothing.
    let mut c = binlogd::proto::client::Client::connect(&repl_options(lport)).unwrap();
    c.query("SET @master_binlog_checksum = 'CRC32'").unwrap();
    let d = binlogd::proto::command::BinlogDump { pos: 4, flags: 0, server_id: 77, file: f2.clone() };
    c.stream.write_command(&d.encode()).unwrap();
    wait_until("binlogd to list the dump reading the large file", Duration::from_secs(10), || {
        session(lport, "SHOW PROCESSLIST").1.lines().any(|l| l.contains("\tBinlog Dump\t") && l.contains(f2.as_str()))
    });

    let (ok, out, err) = session(lport, &format!("PURGE BINARY LOGS TO '{f5}'; SHOW WARNINGS"));
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!(
            "1867\tfile {f2} was not purged because it is being read by 1 thread(s), purged only 1 out of 4 files."
        )),
        "{out}"
    );
    assert_eq!(stored(&b)[0], *f2, "only the file before the one being read goes");
    assert!(!b.index().contains(f1));
    wait_until("the GTID index to forget the purged file", Duration::from_secs(10), || {
        !std::fs::read_to_string(b.binlog_dir.join("binlogd.gtid_index")).unwrap_or_default().contains(f1.as_str())
    });
    let (_, out, _) = session(lport, "SHOW BINARY LOGS");
    assert!(out.starts_with(f2.as_str()), "{out}");

    // The reader goes; min_binlog_files = 2 keeps the newest two.
    drop(c);
    wait_until("the reader to be gone and the floor to hold", Duration::from_secs(20), || {
        let (_, o, _) = session(lport, "PURGE BINARY LOGS BEFORE '2099-01-01 00:00:00'; SHOW WARNINGS");
        o.contains("min_binlog_files = 2 keeps the newest 2 files")
    });
    assert_eq!(stored(&b), logs[3..].to_vec());

    // Errors a primary gives.
    let (ok, _, err) = session(lport, "PURGE BINARY LOGS TO 'mysql-bin.999999'");
    assert!(!ok && err.contains("1373"), "{err}");
    let (ok, _, err) = session(lport, "PURGE BINARY LOGS BEFORE 'yesterday'");
    assert!(!ok && err.contains("1210"), "{err}");

    // A purge cut short by a crash is finished at the next start, and mirroring goes on.
    assert_eq!(b.stop(), 0);
    let mut f = std::fs::File::create(b.binlog_dir.join("binlogd.purge")).unwrap();
    writeln!(f, "{}", logs[3]).unwrap();
    drop(f);
    b.start();
    b.wait_log("finishing an interrupted purge of 1 file(s)", Duration::from_secs(20));
    wait_semisync_client(&s, &b);
    assert_eq!(stored(&b), vec![f5.clone()]);
    assert_eq!(b.index(), vec![f5.clone()]);
    s.sql("INSERT INTO pg.t (v) VALUES ('d'); FLUSH BINARY LOGS; INSERT INTO pg.t (v) VALUES ('e')");
    let m = rotated_md5s_from(&s, &b, 4);
    for (name, (p, d)) in &m {
        assert_eq!(p, d, "{name}");
    }
    assert_eq!(b.stop(), 0);
}

#[test]
fn space_limit_and_expiry_purge_by_policy() {
    let s = Server::start(Flavor::MariaDb, "purge-policy");
    let mut b = Binlogd::mirroring(&s, "purge-policy", "binlog_space_limit = 1\nmin_binlog_files = 3");
    s.sql("CREATE DATABASE pp; CREATE TABLE pp.t (a INT)");
    for i in 0..6 {
        s.sql(&format!("INSERT INTO pp.t VALUES ({i}); FLUSH BINARY LOGS"));
    }
    let logs = s.binary_logs();
    wait_until("the space limit to leave three files", Duration::from_secs(30), || {
        stored(&b) == logs[logs.len() - 3..]
    });
    b.wait_log("binlog file(s): mysql-bin.000001", Duration::from_secs(5));
    assert_eq!(b.stop(), 0);

    // Expiry: files last written over a second ago go, down to the active file.
    b.edit_cnf("binlog_space_limit = 1\nmin_binlog_files = 3", "binlog_expire_logs_seconds = 1");
    std::thread::sleep(Duration::from_millis(1500));
    b.start();
    wait_semisync_client(&s, &b);
    let last = s.binary_logs().last().unwrap().clone();
    wait_until("expiry to leave the active file", Duration::from_secs(30), || stored(&b) == vec![last.clone()]);
    assert_eq!(b.stop(), 0);
}

/// An S3-compatible endpoint on loopback (moto), killed when dropped.
pub struct Moto(std::process::Child, u16);

impl Moto {
    pub fn start() -> Moto {
        let port = free_port();
        let bin = which("moto_server");
        let child = std::process::Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start moto_server");
        wait_until("moto_server to listen", Duration::from_secs(30), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Moto(child, port)
    }

    /// The aws command line for this endpoint, with throwaway credentials.
    pub fn aws(&self) -> String {
        format!(
            "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 {} --endpoint-url http://127.0.0.1:{}",
            which("aws"),
            self.1
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn which(prog: &str) -> String {
    // On PATH, or where pip put the scripts of the python3 on PATH.
    let script = format!(
        "command -v {prog} || {{ d=$(python3 -c 'import sysconfig; print(sysconfig.get_path(\"scripts\"))'); [ -x \"$d/{prog}\" ] && echo \"$d/{prog}\"; }}"
    );
    let o = std::process::Command::new("sh").args(["-c", &script]).output().unwrap();
    let p = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(!p.is_empty(), "{prog} is not installed (scripts/install-deps.sh installs it)");
    p
}

pub fn sh(cmd: &str) -> String {
    let o = std::process::Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(o.status.success(), "{cmd}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn archive_command_copies_closed_files_to_s3_and_purge_waits_for_it() {
    let moto = Moto::start();
    let aws = moto.aws();
    let s = Server::start(Flavor::MariaDb, "archive");
    let (mut b, lport) = Binlogd::serving(&s, "archive", &format!("archive_command = {aws} s3 cp %p s3://binlogs/%f"));
    s.sql("CREATE DATABASE ar; CREATE TABLE ar.t (v TEXT); INSERT INTO ar.t VALUES (REPEAT('a', 5000)); FLUSH BINARY LOGS");
    s.sql("INSERT INTO ar.t VALUES ('b'); FLUSH BINARY LOGS; INSERT INTO ar.t VALUES ('c')");
    let md5s = rotated_md5s(&s, &b);
    let logs = s.binary_logs();
    let last = logs.last().unwrap().clone();

    // No bucket yet: the command fails, binlogd says so and retries, and a purge waits.
    b.wait_log(&format!("archive_command failed for {}", logs[0]), Duration::from_secs(30));
    let (ok, out, err) = session(lport, &format!("PURGE BINARY LOGS TO '{last}'; SHOW WARNINGS"));
    assert!(ok, "{err}");
    assert!(out.contains("archive_command has not succeeded yet, purged only 0 out of 2 files"), "{out}");
    assert_eq!(stored(&b).len(), 3);

    sh(&format!("{aws} s3 mb s3://binlogs"));
    b.wait_log(&format!("archived {}", logs[1]), Duration::from_secs(60));
    let back = b.dir.join("from-s3");
    std::fs::create_dir_all(&back).unwrap();
    for (name, (primary_md5, _)) in &md5s {
        sh(&format!("{aws} s3 cp s3://binlogs/{name} {}/{name}", back.display()));
        assert_eq!(&md5_file(&back.join(name)), primary_md5, "{name} fetched back from S3 differs");
    }
    let (ok, out, err) = session(lport, &format!("PURGE BINARY LOGS TO '{last}'; SHOW WARNINGS"));
    assert!(ok && out.is_empty(), "{out}{err}");
    assert_eq!(stored(&b), vec![last.clone()]);

    // The purged files stay in the history: the catalog records each as the primary
    // wrote it, --find-gtid names the archived file a GTID is in, --verify checks it.
    let catalog = std::fs::read_to_string(b.binlog_dir.join("binlogd.catalog")).unwrap();
    let line = |name: &str| -> String {
        let l = catalog.lines().find(|l| l.starts_with(&format!("{name}\t")));
        l.unwrap_or_else(|| panic!("{name} is not in the catalog:\n{catalog}")).to_string()
    };
    for (name, (primary_md5, _)) in &md5s {
        assert!(line(name).contains(primary_md5.as_str()), "{}", line(name));
    }
    let gtids = line(&logs[0]).split('\t').nth(6).unwrap().to_string();
    let one = gtids.split("..").last().unwrap().to_string();
    let dir = b.binlog_dir.to_str().unwrap().to_string();
    let o = std::process::Command::new(binlogd_bin()).args(["--find-gtid", &dir, &one]).output().unwrap();
    let found = String::from_utf8_lossy(&o.stdout);
    assert!(found.contains(&format!("{} (archived)", logs[0])) && !found.contains("not stored"), "{one}: {found}");
    let v = std::process::Command::new(binlogd_bin()).args(["--verify", &dir]).output().unwrap();
    assert!(v.status.success(), "{}{}", String::from_utf8_lossy(&v.stdout), String::from_utf8_lossy(&v.stderr));

    // After a restart nothing is archived twice, and the next closed file is archived.
    assert_eq!(b.stop(), 0);
    b.start();
    wait_semisync_client(&s, &b);
    s.sql("INSERT INTO ar.t VALUES ('d'); FLUSH BINARY LOGS");
    b.wait_log(&format!("archived {last}"), Duration::from_secs(60));
    let log = b.log_text();
    for n in &logs[..2] {
        assert_eq!(log.matches(&format!("archived {n}\n")).count(), 1, "{n} archived more than once:\n{log}");
    }
    let listing = sh(&format!("{aws} s3 ls s3://binlogs/"));
    assert_eq!(listing.lines().count(), 3, "{listing}");
    assert_eq!(b.stop(), 0);
}
