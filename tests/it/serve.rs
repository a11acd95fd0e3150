//! binlogd as a binlog server: real clients and replicas read the mirrored files.

use std::process::Command;
use std::time::Duration;

use crate::harness::*;

fn workload(s: &Server) {
    s.sql("CREATE DATABASE sv; CREATE TABLE sv.t (id INT AUTO_INCREMENT PRIMARY KEY, v LONGBLOB)");
    for i in 0..20 {
        s.sql(&format!("INSERT INTO sv.t (v) VALUES (REPEAT('r', {})), ('s')", 100 + i * 1000));
    }
    s.sql("FLUSH BINARY LOGS; INSERT INTO sv.t (v) VALUES (REPEAT('z', 18 * 1024 * 1024)); FLUSH BINARY LOGS");
    s.sql("UPDATE sv.t SET v = 'u' WHERE id % 3 = 0; FLUSH BINARY LOGS; DELETE FROM sv.t WHERE id % 5 = 0");
}

#[test]
fn mariadb_binlog_reads_byte_identical_files_from_binlogd() {
    let s = Server::start(Flavor::MariaDb, "serve-raw");
    let (mut b, lport) = Binlogd::serving(&s, "serve-raw", "");
    workload(&s);
    let m = rotated_md5s(&s, &b);
    let out = b.dir.join("raw");
    std::fs::create_dir_all(&out).unwrap();
    let first = s.binary_logs()[0].clone();
    let st = Command::new("mariadb-binlog")
        .args([
            "--read-from-remote-server",
            "--host=127.0.0.1",
            &format!("--port={lport}"),
            "--user=repl",
            "--password=replpass",
        ])
        .args(["--raw", "--to-last-log", &format!("--result-file={}/", out.display()), &first])
        .output()
        .unwrap();
    assert!(st.status.success(), "mariadb-binlog failed: {}\n{}", String::from_utf8_lossy(&st.stderr), b.log_text());
    for (name, (p, _)) in &m {
        assert_eq!(&md5_file(&out.join(name)), p, "{name} read from binlogd differs from the primary's");
    }
    assert_eq!(b.stop(), 0);
}

#[test]
fn mariadb_replica_replicates_from_binlogd_by_file_and_position() {
    let s = Server::start(Flavor::MariaDb, "serve-src");
    let (mut b, lport) = Binlogd::serving(&s, "serve-rep", "");
    let r = Server::start_with_id(Flavor::MariaDb, "serve-replica", 2);
    r.sql("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
    let first = s.binary_logs()[0].clone();
    r.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={lport}, MASTER_USER='repl', MASTER_PASSWORD='replpass', \
         MASTER_LOG_FILE='{first}', MASTER_LOG_POS=4, MASTER_USE_GTID=no; START SLAVE"
    ));
    workload(&s);
    let want = s.sql("CHECKSUM TABLE sv.t");
    let t = std::time::Instant::now();
    while !(r.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'sv'").trim() == "1"
        && r.sql("CHECKSUM TABLE sv.t") == want)
    {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the replica did not catch up through binlogd: {}\n{}",
            r.sql("SHOW SLAVE STATUS"),
            b.log_text().lines().rev().take(20).collect::<Vec<_>>().join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = r.sql("SHOW SLAVE STATUS");
    assert!(status.contains("\tYes\tYes\t"), "replica threads not running: {status}");
    assert!(b.index().len() >= 4);
    r.sql("STOP SLAVE");
    assert_eq!(b.stop(), 0);
}

#[test]
fn answers_the_mysql_client_refuses_bad_passwords_and_survives_garbage() {
    use std::io::Write;
    let s = Server::start(Flavor::MariaDb, "serve-cli");
    let (mut b, lport) = Binlogd::serving(&s, "serve-cli", "");
    s.sql("CREATE DATABASE c1; FLUSH BINARY LOGS");
    let client = |pw: &str, sql: &str| {
        Command::new("mariadb")
            .args([
                "--no-defaults",
                "-h127.0.0.1",
                &format!("-P{lport}"),
                "-urepl",
                &format!("-p{pw}"),
                "-N",
                "-B",
                "-e",
                sql,
            ])
            .output()
            .unwrap()
    };
    // Garbage and half packets cost only their own connection.
    for junk in [&b"\xff\xff\xff\x00garbage"[..], &[0x05, 0, 0][..], &[0xff; 64][..]] {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", lport)).unwrap();
        let _ = c.write_all(junk);
    }
    wait_until("binlogd to serve the rotated file", Duration::from_secs(20), || {
        String::from_utf8_lossy(&client("replpass", "SHOW BINARY LOGS").stdout).lines().count() >= 2
    });
    let o = client("replpass", "SELECT @@version_comment; SHOW BINARY LOGS; SELECT @@GLOBAL.server_id");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("binlogd") && out.contains("mysql-bin.000001") && out.contains("1001"), "{out}");
    let o = client("wrong", "SELECT 1");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("1045"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = client("replpass", "DROP DATABASE c1");
    assert!(String::from_utf8_lossy(&o.stderr).contains("binlogd does not support this statement"));
    assert_eq!(b.stop(), 0);
}

#[test]
fn dump_requests_it_cannot_serve_get_clear_errors() {
    use binlogd::proto::client::{Client, ConnectOptions};
    use binlogd::proto::command::{BinlogDump, RegisterSlave};
    let s = Server::start(Flavor::MariaDb, "serve-err");
    let (mut b, lport) = Binlogd::serving(&s, "serve-err", "");
    let opts = ConnectOptions {
        host: "127.0.0.1".into(),
        port: lport,
        user: "repl".into(),
        password: "replpass".into(),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Some(Duration::from_secs(10)),
        program: "test".into(),
    };
    let register = |c: &mut Client, id: u32| {
        c.command_ok(&RegisterSlave { server_id: id, ..Default::default() }.encode(), "register")
    };
    let mut c1 = Client::connect(&opts).unwrap();
    let e = register(&mut c1, 1001).unwrap_err();
    assert!(e.to_string().contains("equals binlogd's server_id"), "{e}");
    register(&mut c1, 77).unwrap();
    let mut c2 = Client::connect(&opts).unwrap();
    let e = register(&mut c2, 77).unwrap_err();
    assert!(e.to_string().contains("same server_id 77"), "{e}");
    let first = s.binary_logs()[0].clone();
    for (file, pos, want) in [
        ("../../etc/passwd", 4, "plain file name"),
        ("nope-bin.000009", 4, "Could not find first log file name"),
        (first.as_str(), 5, "impossible position"),
    ] {
        let mut c = Client::connect(&opts).unwrap();
        let d = BinlogDump { pos, flags: 0, server_id: 88, file: file.into() };
        c.stream.write_command(&d.encode()).unwrap();
        let p = c.stream.read().unwrap();
        let e = binlogd::proto::parse_err(&p);
        assert_eq!(e.server_code(), Some(1236), "{e}");
        assert!(e.to_string().contains(want), "{file}:{pos}: {e}");
    }
    // binlogd still mirrors and serves.
    let o = Command::new("mariadb")
        .args([
            "--no-defaults",
            "-h127.0.0.1",
            &format!("-P{lport}"),
            "-urepl",
            "-preplpass",
            "-N",
            "-e",
            "SHOW SLAVE HOSTS",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("77"), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(b.stop(), 0);
}

#[test]
fn mysql_replica_replicates_from_binlogd_with_auto_position() {
    let s = Server::start(Flavor::Mysql, "serve-gtid-src");
    let lport = free_port();
    let mut b = Binlogd::new(
        &s,
        "serve-gtid",
        &format!("get_start_gtid_mode = 0\nlisten_address = 127.0.0.1\nlisten_port = {lport}"),
    );
    b.start();
    wait_semisync_client(&s, &b);
    let r = Server::start_with_id(Flavor::Mysql, "serve-gtid-replica", 2);
    r.sql("SET GLOBAL rpl_semi_sync_source_enabled = OFF");
    workload(&s);
    r.sql(&format!(
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={lport}, SOURCE_USER='repl', \
         SOURCE_PASSWORD='replpass', SOURCE_AUTO_POSITION=1, SOURCE_SSL=0, GET_SOURCE_PUBLIC_KEY=1; START REPLICA"
    ));
    let want = s.sql("CHECKSUM TABLE sv.t");
    let t = std::time::Instant::now();
    while r.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'sv'").trim() != "1"
        || r.sql("CHECKSUM TABLE sv.t") != want
    {
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "the MySQL replica did not catch up through binlogd: {}\n{}",
            r.sql("SHOW REPLICA STATUS"),
            b.log_text().lines().rev().take(15).collect::<Vec<_>>().join("\n")
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // The replica's executed GTIDs now equal the primary's.
    assert_eq!(r.sql("SELECT @@GLOBAL.gtid_executed"), s.sql("SELECT @@GLOBAL.gtid_executed"));
    // Reconnecting with what it has: binlogd must leave those transactions out
    // (applied twice, the inserts would hit duplicate keys).
    r.sql("STOP REPLICA");
    s.sql("INSERT INTO sv.t (v) VALUES ('second'), ('round'); UPDATE sv.t SET v = 'w' WHERE id = 2");
    s.sql("INSERT INTO sv.t (v) VALUES ('more'); FLUSH BINARY LOGS; INSERT INTO sv.t (v) VALUES ('last')");
    r.sql("START REPLICA");
    let want = s.sql("CHECKSUM TABLE sv.t");
    wait_until("the replica to catch up again", Duration::from_secs(60), || r.sql("CHECKSUM TABLE sv.t") == want);
    assert!(r.sql("SHOW REPLICA STATUS").contains("\tYes\tYes\t"), "{}", r.sql("SHOW REPLICA STATUS"));
    assert_eq!(r.sql("SELECT @@GLOBAL.gtid_executed"), s.sql("SELECT @@GLOBAL.gtid_executed"));
    r.sql("STOP REPLICA");
    assert_eq!(b.stop(), 0);
}

/// The failover scenario: a replica lags, the primary keeps committing (acknowledged
/// by binlogd) and dies; the replica is pointed at binlogd and ends with the
/// primary's last data.
fn failover_compensation(flavor: Flavor) {
    let p = Server::start(flavor, "fo-primary");
    let lport = free_port();
    let mode = if flavor == Flavor::Mysql { 0 } else { 2 };
    let mut b = Binlogd::new(
        &p,
        "fo",
        &format!("get_start_gtid_mode = {mode}\nlisten_address = 127.0.0.1\nlisten_port = {lport}"),
    );
    b.start();
    wait_semisync_client(&p, &b);
    let r = Server::start_with_id(flavor, "fo-replica", 2);
    let first = p.binary_logs()[0].clone();
    match flavor {
        Flavor::MariaDb => {
            r.sql("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
            r.sql(&format!(
                "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', MASTER_PASSWORD='replpass', \
                 MASTER_LOG_FILE='{first}', MASTER_LOG_POS=4, MASTER_USE_GTID=no; START SLAVE",
                p.port
            ));
        }
        Flavor::Mysql => {
            r.sql("SET GLOBAL rpl_semi_sync_source_enabled = OFF");
            r.sql(&format!(
                "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={}, SOURCE_USER='repl', \
                 SOURCE_PASSWORD='replpass', SOURCE_AUTO_POSITION=1, SOURCE_SSL=0, GET_SOURCE_PUBLIC_KEY=1; START REPLICA",
                p.port
            ));
        }
    }
    p.sql("CREATE DATABASE fo; CREATE TABLE fo.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(100))");
    p.sql("INSERT INTO fo.t (v) VALUES ('before-1'), ('before-2')");
    let base = p.sql("CHECKSUM TABLE fo.t");
    wait_until("the replica to follow the primary", Duration::from_secs(60), || {
        r.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'fo'").trim() == "1"
            && r.sql("CHECKSUM TABLE fo.t") == base
    });
    // 1. The replica lags.
    let stop_io = if flavor == Flavor::Mysql { "STOP REPLICA IO_THREAD" } else { "STOP SLAVE IO_THREAD" };
    r.sql(stop_io);
    // 2. The primary keeps committing, each acknowledged by binlogd, then dies.
    for i in 0..20 {
        p.sql(&format!("INSERT INTO fo.t (v) VALUES ('after-{i}')"));
    }
    p.sql("UPDATE fo.t SET v = 'changed' WHERE id = 1; FLUSH BINARY LOGS; INSERT INTO fo.t (v) VALUES ('last')");
    assert_eq!(p.semi_status("no_tx"), "0", "every commit was acknowledged by binlogd");
    let last_state = p.sql("CHECKSUM TABLE fo.t");
    let _ =
        std::process::Command::new(repo().join("scripts/server.sh")).args(["kill", p.dir.to_str().unwrap()]).status();
    // 3. The replica is pointed at binlogd with the same user and password.
    match flavor {
        Flavor::MariaDb => {
            let st = r.sql("SELECT 1; SHOW SLAVE STATUS");
            let cols: Vec<&str> = st.lines().nth(1).unwrap_or("").split('\t').collect();
            // Relay_Master_Log_File and Exec_Master_Log_Pos (columns 10 and 22 of SHOW SLAVE STATUS).
            let (file, pos) = (cols[9].to_string(), cols[21].to_string());
            r.sql(&format!(
                "STOP SLAVE; CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={lport}, \
                 MASTER_LOG_FILE='{file}', MASTER_LOG_POS={pos}, MASTER_USE_GTID=no; START SLAVE"
            ));
        }
        Flavor::Mysql => {
            r.sql(&format!("STOP REPLICA; CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={lport}; START REPLICA"));
        }
    }
    // 4. The replica pulls the missing transactions from binlogd.
    let t = std::time::Instant::now();
    while r.sql("CHECKSUM TABLE fo.t") != last_state {
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "the replica did not catch up from binlogd:\n{}",
            b.log_text().lines().rev().take(15).collect::<Vec<_>>().join("\n")
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(b.stop(), 0);
}

#[test]
fn mariadb_failover_compensation_by_file_and_position() {
    failover_compensation(Flavor::MariaDb);
}

#[test]
fn mysql_failover_compensation_by_auto_position() {
    failover_compensation(Flavor::Mysql);
}
