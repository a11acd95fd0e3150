//! The command line and the cnf, through the real binary.

use std::process::Command;
use std::time::Duration;

use crate::harness::*;

const VIRTUAL_SLAVE_CNF: &str = include_str!("../data/virtual_slave.cnf");

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(binlogd_bin()).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn check_config_accepts_virtual_slave_cnf_and_masks_password() {
    let d = tempdir("cli");
    let p = d.join("vs.cnf");
    std::fs::write(&p, VIRTUAL_SLAVE_CNF).unwrap();
    let (code, out, err) = run(&["--check-config", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("server_id = 123456"), "{out}");
    assert!(out.contains("master_password = ********"), "{out}");
    assert!(!out.contains("ashe\n") || !out.contains("= ashe\nbinlog"), "{out}");
}

#[test]
fn check_config_names_the_bad_line() {
    let d = tempdir("cli");
    let p = d.join("bad.cnf");
    std::fs::write(&p, "server_id = 5\nmaster_host = h\nbogus_key = 1\n").unwrap();
    let (code, _, err) = run(&["--check-config", p.to_str().unwrap()]);
    assert_eq!(code, 2, "a bad cnf");
    assert!(err.contains("bad.cnf:3: unknown key 'bogus_key'"), "{err}");
}

#[test]
fn help_and_version() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Usage: binlogd"));
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("binlogd "));
    let (code, _, _) = run(&[]);
    assert_eq!(code, 2, "a bad command line");
}

#[test]
fn man_pages_and_sample_cnf_document_every_key_and_option() {
    let cnf5 = std::fs::read_to_string(repo().join("man/binlogd.cnf.5")).unwrap();
    let sample = std::fs::read_to_string(repo().join("etc/binlogd.cnf")).unwrap();
    for k in binlogd::config::KEYS {
        let key = k.name;
        assert!(!k.doc.is_empty() && !k.unit.is_empty(), "{key} has no doc line or unit");
        let entry = format!(".B {key}\n");
        let listed = cnf5.contains(&entry)
            || cnf5.lines().any(|l| l.starts_with(".BR ") && l.split([' ', '"', ',']).any(|w| w == key));
        assert!(listed, "man/binlogd.cnf.5 has no entry for {key}");
        assert!(cnf5.contains(&format!("Example:\n.B {}", key.replace('-', "\\-"))), "no example of {key}");
        let in_sample = sample.lines().any(|l| l.trim_start_matches("# ").starts_with(&format!("{key} =")));
        assert!(in_sample, "etc/binlogd.cnf does not show {key}");
        for alias in k.aliases {
            assert!(cnf5.contains(alias), "man/binlogd.cnf.5 does not name {alias}, the other spelling of {key}");
        }
    }
    // Both pages render without a warning.
    for page in ["man/binlogd.8", "man/binlogd.cnf.5"] {
        let o =
            std::process::Command::new("groff").args(["-man", "-ww", "-z"]).arg(repo().join(page)).output().unwrap();
        assert!(o.status.success() && o.stderr.is_empty(), "{page}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let man = std::fs::read_to_string(repo().join("man/binlogd.8")).unwrap();
    // The exit codes, and the unit that does not restart on those a person must mend.
    for code in ["0", "1", "2", "3"] {
        assert!(man.contains(&format!(".TP\n.B {code}\n")), "binlogd.8 does not list exit status {code}");
    }
    let unit = std::fs::read_to_string(repo().join("etc/binlogd.service")).unwrap();
    assert!(unit.contains("\nRestartPreventExitStatus=2 3\n"), "{unit}");
    let usage = run(&["--help"]).1;
    for opt in usage.split_whitespace().filter(|w| w.starts_with("--")) {
        let opt = opt.trim_end_matches(',');
        assert!(man.contains(&opt.replace('-', "\\-")), "man/binlogd.8 does not document {opt}");
    }
}

#[test]
fn a_second_binlogd_on_the_same_binlog_dir_is_refused() {
    // No primary listens there: the first one keeps retrying, holding the directory.
    let mut a = Binlogd::for_port(free_port(), "lock", "master_password = x\nmaster_retry_max = 1");
    // A lock file left longer than a pid by someone else: the holder's pid replaces it whole.
    std::fs::create_dir_all(&a.binlog_dir).unwrap();
    std::fs::write(a.binlog_dir.join("binlogd.lock"), "1234567890\nleft here\n").unwrap();
    a.start();
    // The "current work dir" line comes before the lock is taken: wait for the lock itself.
    let pid = a.child.as_ref().unwrap().id();
    let lock = a.binlog_dir.join("binlogd.lock");
    wait_until("binlogd to take the lock", Duration::from_secs(10), || {
        std::fs::read_to_string(&lock).is_ok_and(|t| t == format!("{pid}\n"))
    });
    let out = std::process::Command::new(binlogd_bin()).arg(&a.cnf).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    a.wait_log(&format!("another binlogd (pid {pid}) is already using binlog_dir"), Duration::from_secs(10));
    assert_eq!(a.stop(), 0);
}

#[test]
fn a_binlogd_whose_binlog_dir_is_replaced_stops_without_writing_into_the_new_one() {
    let s = Server::start(Flavor::MariaDb, "replaced");
    let mut a = Binlogd::mirroring(&s, "replaced", "");
    s.sql("CREATE DATABASE rp; CREATE TABLE rp.t (v INT); INSERT INTO rp.t VALUES (1); FLUSH BINARY LOGS");
    let m = rotated_md5s(&s, &a);
    // The directory is moved away and a new one takes its path, with another
    // process's lock file (as when it is deleted and a second binlogd started there).
    let moved = a.dir.join("binlogs.moved");
    std::fs::rename(&a.binlog_dir, &moved).unwrap();
    std::fs::create_dir(&a.binlog_dir).unwrap();
    std::fs::write(a.binlog_dir.join("binlogd.lock"), "4242\n").unwrap();
    // The primary moves to a new file, which binlogd would create: it stops instead.
    s.sql("INSERT INTO rp.t VALUES (2); FLUSH BINARY LOGS");
    assert_eq!(a.wait(Duration::from_secs(30)), 3, "{}", a.log_text());
    let log = a.log_text();
    assert!(log.contains("was replaced while binlogd ran") && log.contains("stopping without touching it"), "{log}");
    let left: Vec<_> = std::fs::read_dir(&a.binlog_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("binlogd.lock")], "binlogd wrote into the new directory");
    for (name, (p, _)) in &m {
        assert_eq!(&md5_file(&moved.join(name)), p, "{name} in the moved directory changed");
    }
}

#[test]
fn password_file_is_used_exposed_secrets_are_warned_about_and_the_password_is_never_logged() {
    use std::os::unix::fs::PermissionsExt;
    let s = Server::start(Flavor::MariaDb, "pwfile");
    let mut b = Binlogd::for_port(s.port, "pwfile", "heartbeat_period = 1\nnet_read_time_out = 5");
    let pw = b.dir.join("repl.password");
    std::fs::write(&pw, "replpass\n").unwrap();
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&b.cnf).unwrap();
    std::fs::write(&b.cnf, format!("{text}master_password_file = {}\n", pw.display())).unwrap();
    let (code, out, _) = run(&["--check-config", b.cnf.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(!out.contains("replpass"), "{out}");
    b.start();
    wait_semisync_client(&s, &b);
    b.wait_log("can be read by others (mode 644)", Duration::from_secs(5));
    s.sql("CREATE DATABASE pw1; FLUSH BINARY LOGS");
    assert_rotated_identical(&s, &b);
    assert_eq!(b.stop(), 0);
    assert!(!b.log_text().contains("replpass"), "the password reached the log");
    // Both ways at once is refused.
    std::fs::write(&b.cnf, format!("{text}master_password = replpass\nmaster_password_file = {}\n", pw.display()))
        .unwrap();
    let (code, _, err) = run(&["--check-config", b.cnf.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("both set"), "{err}");
}

/// uid of `name` from the password database.
fn uid_of(name: &str) -> u32 {
    let o = Command::new("id").args(["-u", name]).output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

/// The real, effective, saved and filesystem uids of every thread of `pid`.
fn thread_uids(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|t| {
            let st = std::fs::read_to_string(t.unwrap().path().join("status")).unwrap();
            st.lines().find(|l| l.starts_with("Uid:")).unwrap().to_string()
        })
        .collect()
}

#[test]
fn refuses_root_without_user_and_switches_to_user_after_binding() {
    // The test command runs as root (it installs packages and runs servers in a chroot).
    assert!(running_as_root(), "this test switches users: run it as root, as scripts/test.sh does");
    let s = Server::start(Flavor::MariaDb, "privs");
    // Without user =, root is refused, and nothing is started.
    let mut b = Binlogd::new(&s, "privs-root", "");
    b.edit_cnf("user = root\n", "");
    b.start();
    assert_eq!(b.wait(Duration::from_secs(20)), 2, "root without user = is a cnf to fix");
    assert!(b.log_text().contains("binlogd is running as root: set user = <account>"), "{}", b.log_text());
    assert!(!b.binlog_dir.join("binlogd.lock").exists(), "a refused start must not touch binlog_dir");

    // With user = nobody: the port below 1024 is bound as root, then every thread runs as nobody.
    let port =
        (900..1000).find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok()).expect("a free port below 1024");
    let mut b = Binlogd::new(&s, "privs-nobody", &format!("listen_address = 127.0.0.1\nlisten_port = {port}"));
    b.edit_cnf("user = root\n", "user = nobody\n");
    let nobody = uid_of("nobody");
    std::fs::create_dir_all(&b.binlog_dir).unwrap();
    std::os::unix::fs::chown(&b.binlog_dir, Some(nobody), None).unwrap();
    b.start();
    wait_semisync_client(&s, &b);
    b.wait_log(&format!("switched to user nobody (uid {nobody}"), Duration::from_secs(10));
    let pid = b.child.as_ref().unwrap().id();
    for u in thread_uids(pid) {
        let ids: Vec<&str> = u.split_whitespace().skip(1).collect();
        assert!(ids.iter().all(|x| *x == nobody.to_string()), "a thread kept another uid: {u}");
    }
    s.sql("CREATE DATABASE p1; FLUSH BINARY LOGS");
    assert_rotated_identical(&s, &b);
    use std::os::unix::fs::MetadataExt;
    let first = &s.binary_logs()[0];
    assert_eq!(std::fs::metadata(b.binlog_dir.join(first)).unwrap().uid(), nobody);
    let out = client(port, "replpass", "SHOW MASTER STATUS");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(b.stop(), 0);

    // A binlog_dir the account cannot write is named at start.
    let mut b = Binlogd::new(&s, "privs-dir", "");
    b.edit_cnf("user = root\n", "user = nobody\n");
    std::fs::create_dir_all(&b.binlog_dir).unwrap();
    b.start();
    assert_eq!(b.wait(Duration::from_secs(20)), 1);
    assert!(b.log_text().contains("is not writable by user nobody: chown -R nobody"), "{}", b.log_text());
}

#[test]
fn verify_reports_each_file_and_names_the_first_problem() {
    let s = Server::start(Flavor::Mysql, "verify");
    let mut b = Binlogd::mirroring(&s, "verify", "get_start_gtid_mode = 0");
    s.sql("CREATE DATABASE v; CREATE TABLE v.t (a INT); INSERT INTO v.t VALUES (1); FLUSH BINARY LOGS");
    // A gap in the primary's GTIDs (SET gtid_next) is legitimate: verify accepts it.
    let uuid = s.sql("SELECT @@server_uuid").trim().to_string();
    s.sql(&format!(
        "INSERT INTO v.t VALUES (2), (3); SET gtid_next = '{uuid}:100'; INSERT INTO v.t VALUES (100); \
         SET gtid_next = AUTOMATIC; FLUSH BINARY LOGS; INSERT INTO v.t VALUES (4)"
    ));
    // Over 32 MiB in all, so a terminal gets a progress bar.
    s.sql("CREATE TABLE v.big (b LONGBLOB); INSERT INTO v.big VALUES (REPEAT('b', 18 << 20)), (REPEAT('c', 18 << 20))");
    let md5s = rotated_md5s(&s, &b);
    assert_eq!(b.stop(), 0);
    let dir = b.binlog_dir.to_str().unwrap().to_string();
    let (code, out, err) = run(&["--verify", &dir]);
    assert_eq!(code, 0, "{out}{err}");
    for (name, (primary, _)) in &md5s {
        let line = out.lines().find(|l| l.starts_with(name.as_str())).unwrap_or_else(|| panic!("{name}: {out}"));
        assert!(line.ends_with(&format!("md5 {primary}")), "{line}");
    }
    assert!(out.contains(&format!("gtids {uuid}:1 .. {uuid}:")), "{out}");
    assert!(out.contains(&format!(".. {uuid}:100  md5")), "{out}");
    assert!(!out.contains("note:"), "{out}");
    assert!(out.contains("OK: 3 file(s)"), "{out}");
    // On a terminal (script(1) gives it one), a progress bar is drawn on stderr too.
    let o = std::process::Command::new("script")
        .args(["-qec", &format!("{} --verify {dir}", binlogd_bin().display()), "/dev/null"])
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && tty.contains("] 100%") && tty.contains("OK: 3 file(s)"), "{tty}");

    // A flipped byte inside the first file: the CRC check names file and offset.
    let first = md5s.keys().next().unwrap().clone();
    let p = b.binlog_dir.join(&first);
    let mut data = std::fs::read(&p).unwrap();
    let at = data.len() / 2;
    data[at] ^= 0xff;
    std::fs::write(&p, &data).unwrap();
    let (code, _, err) = run(&["--verify", &dir]);
    assert_eq!(code, 3, "a stored file that needs a person");
    assert!(err.starts_with(&format!("binlogd: verify: {first}:")), "{err}");
    data[at] ^= 0xff;
    std::fs::write(&p, &data).unwrap();

    // The index must list exactly the directory's files.
    let idx = b.binlog_dir.join("mysql-bin.index");
    let text = std::fs::read_to_string(&idx).unwrap();
    std::fs::write(&idx, text.lines().skip(1).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let (code, _, err) = run(&["--verify", &dir]);
    assert_eq!(code, 3);
    assert!(err.contains(&format!("does not list {first}")), "{err}");
}

#[test]
fn verify_follows_mariadb_gtid_lists_across_server_ids_gaps_and_deleted_domains() {
    let s = Server::start(Flavor::MariaDb, "verify-maria");
    let mut b = Binlogd::mirroring(&s, "verify-maria", "");
    s.sql(
        "CREATE DATABASE v; CREATE TABLE v.t (a INT); SET server_id = 5; INSERT INTO v.t VALUES (1); \
         SET gtid_seq_no = 100; INSERT INTO v.t VALUES (2); SET server_id = 1; SET gtid_domain_id = 3; \
         INSERT INTO v.t VALUES (3); SET gtid_domain_id = 0; INSERT INTO v.t VALUES (4); FLUSH BINARY LOGS",
    );
    // The purge leaves a file the engine's crash recovery still needs: try until it goes.
    wait_until("the primary to purge mysql-bin.000001", Duration::from_secs(30), || {
        s.sql("PURGE BINARY LOGS TO 'mysql-bin.000002'");
        !s.binary_logs().contains(&"mysql-bin.000001".to_string())
    });
    s.sql("FLUSH BINARY LOGS DELETE_DOMAIN_ID = (3)");
    s.sql("INSERT INTO v.t VALUES (5); FLUSH BINARY LOGS");
    let md5s = rotated_md5s(&s, &b);
    assert_eq!(b.stop(), 0);
    assert!(md5s.len() >= 2, "{md5s:?}");
    let (code, out, err) = run(&["--verify", b.binlog_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("gtids 0-1-1 .. 0-1-101"), "{out}");
    let third = out.lines().find(|l| l.starts_with("mysql-bin.000003")).unwrap_or_else(|| panic!("{out}"));
    assert!(third.contains("(note: domain 3 is no longer listed"), "{third}");
    assert_eq!(out.matches("note:").count(), 1, "{out}");
}

#[test]
fn tells_systemd_when_ready_and_when_stopping() {
    use std::os::unix::net::UnixDatagram;
    let s = Server::start(Flavor::MariaDb, "notify");
    let dir = tempdir("notify");
    let path = dir.join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut b = Binlogd::new(&s, "notify", "");
    b.start_env(&[("NOTIFY_SOCKET", path.to_str().unwrap())]);
    let mut buf = [0u8; 256];
    let n = sock.recv(&mut buf).expect("READY=1 within 20 s");
    assert_eq!(&buf[..n], b"READY=1");
    wait_semisync_client(&s, &b);
    assert_eq!(b.stop(), 0);
    let n = sock.recv(&mut buf).expect("STOPPING=1");
    assert_eq!(&buf[..n], b"STOPPING=1");
}
