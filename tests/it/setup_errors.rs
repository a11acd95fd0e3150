//! Setup failures against a real primary: clear log lines, never a panic.

use std::time::Duration;

use crate::harness::*;

#[test]
fn wrong_password_logs_1045_and_keeps_retrying() {
    let s = Server::start(Flavor::MariaDb, "badpw");
    let mut b = Binlogd::new(&s, "badpw", "");
    b.edit_cnf("master_password = replpass", "master_password = wrong");
    b.start();
    b.wait_log("1045", Duration::from_secs(20));
    b.wait_log("reconnecting to master", Duration::from_secs(20));
    assert_eq!(b.stop(), 0);
    let log = b.log_text();
    assert!(log.contains("[ERROR] error connecting to master: 1045,Access denied"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn same_server_id_as_primary_is_refused() {
    let s = Server::start(Flavor::MariaDb, "sameid");
    let mut b = Binlogd::new(&s, "sameid", "");
    b.edit_cnf("server_id = 1001", "server_id = 1");
    b.start();
    assert_eq!(b.wait(Duration::from_secs(30)), 2, "a cnf to fix");
    assert!(b.log_text().contains("the same as binlogd's server_id"), "{}", b.log_text());
}

#[test]
fn primary_without_semisync_falls_back_to_async() {
    let s = Server::start(Flavor::MariaDb, "nosemi");
    s.sql("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
    let mut b = Binlogd::new(&s, "nosemi", "");
    let pid_file = b.dir.join("binlogd.pid");
    b.edit_cnf("[binlogd]\n", &format!("[binlogd]\npid_file = {}\n", pid_file.display()));
    b.start();
    b.wait_log(
        "Master server does not support semi-sync, fallback to asynchronous replication",
        Duration::from_secs(20),
    );
    s.sql("CREATE DATABASE x; CREATE TABLE x.t (a INT); INSERT INTO x.t VALUES (1); FLUSH BINARY LOGS");
    assert_rotated_identical(&s, &b);
    let pid: u32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert_eq!(Some(pid), b.child.as_ref().map(|c| c.id()));
    assert_eq!(b.stop(), 0);
    assert!(!pid_file.exists(), "pid_file is removed on a clean exit");
}

#[test]
fn another_primary_at_the_same_address_is_refused_and_files_stay_intact() {
    let a = Server::start(Flavor::Mysql, "uuid-a");
    let mut b = Binlogd::new(&a, "uuid", "semisync = off");
    b.start();
    a.sql("CREATE DATABASE u; FLUSH BINARY LOGS");
    let before = rotated_md5s(&a, &b);
    assert_eq!(b.stop(), 0);
    let other = Server::start(Flavor::Mysql, "uuid-b");
    b.edit_cnf(&format!("master_port = {}", a.port), &format!("master_port = {}", other.port));
    let files_before = b.index();
    b.start();
    // An unrelated server lacks what binlogd stored: refused as a fork of the history.
    b.wait_log("lacks transactions binlogd stored", Duration::from_secs(30));
    b.wait_log("reconnecting to master", Duration::from_secs(30));
    assert_eq!(b.stop(), 0);
    assert_eq!(b.index(), files_before, "nothing may be appended from another server");
    for (name, (_, d)) in before {
        assert_eq!(md5_file(&b.binlog_dir.join(&name)), d);
    }
}

/// RESET MASTER begins the primary's binary log again under the same names. The same
/// statements after it put binlogd's resume offset on an event boundary of the new
/// file, so a replica that resumes by file and position would take the new file's
/// transactions as the rest of the old one; one more statement before them moves it
/// inside an event, where a MariaDB primary with semi-sync stops the dump without a
/// word and leaves it stuck. binlogd reads the primary's file's FDE first and refuses
/// another file.
#[test]
fn a_primary_whose_binlog_was_reset_is_refused_and_the_stored_file_stays_as_it_was() {
    let statements = "CREATE DATABASE r; CREATE TABLE r.t (a INT PRIMARY KEY); INSERT INTO r.t VALUES (1)";
    for (flavor, semisync, before) in [
        (Flavor::MariaDb, false, ""),
        (Flavor::Mysql, false, ""),
        (Flavor::MariaDb, true, "CREATE DATABASE moves_the_offsets_of_what_follows;"),
    ] {
        let s = Server::start(flavor, "reset");
        let semi = |on: bool| s.sql(&format!("SET GLOBAL {}_enabled = {}", flavor.semi().to_lowercase(), on as u8));
        semi(semisync);
        let port = free_port();
        let mut b = Binlogd::new(&s, "reset", &format!("listen_address = 127.0.0.1\nlisten_port = {port}"));
        b.start();
        s.sql(statements);
        let active = wait_active_mirrored(&s, &b);
        assert_eq!(b.stop(), 0);
        let stored = std::fs::read(b.binlog_dir.join(&active)).unwrap();
        // The new file is begun in another second than the stored one.
        std::thread::sleep(Duration::from_millis(1100));
        let reset = if flavor == Flavor::Mysql { "RESET BINARY LOGS AND GTIDS" } else { "RESET MASTER" };
        semi(false);
        s.sql(&format!("DROP DATABASE r; {reset}; {before} {statements}; INSERT INTO r.t VALUES (2)"));
        semi(semisync);
        assert_eq!(s.binary_logs().last(), Some(&active));
        b.start();
        b.wait_log("is not the file stored under that name", Duration::from_secs(30));
        b.wait_log("reconnecting to master", Duration::from_secs(30));
        let st = binlogd_replica_status(port, flavor);
        let err = st.get("Last_IO_Error").cloned().unwrap_or_default();
        assert!(
            err.contains(&format!("the primary's {active} is not the file")) && err.contains("RESET MASTER"),
            "{st:?}"
        );
        assert_eq!(b.stop(), 0);
        let log = b.log_text();
        assert!(!log.contains("stuck in"), "{flavor:?}: {log}");
        assert_eq!(std::fs::read(b.binlog_dir.join(&active)).unwrap(), stored, "{flavor:?}: nothing appended");
    }
}

#[test]
fn purged_binlogs_give_1236_retried_with_backoff_and_nothing_wiped() {
    let s = Server::start(Flavor::MariaDb, "purged");
    s.sql("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
    let mut b = Binlogd::new(&s, "purged", "");
    b.start();
    s.sql("CREATE DATABASE p; FLUSH BINARY LOGS");
    let before = rotated_md5s(&s, &b);
    assert_eq!(b.stop(), 0);
    // The primary moves on and purges everything binlogd would continue from.
    s.sql("FLUSH BINARY LOGS; FLUSH BINARY LOGS");
    let last = s.binary_logs().last().unwrap().clone();
    s.sql(&format!("PURGE BINARY LOGS TO '{last}'"));
    let files = b.index();
    b.start();
    b.wait_log("Got error reading packet from server: 1236", Duration::from_secs(30));
    b.wait_log("the primary offers", Duration::from_secs(30));
    b.wait_log("reconnecting to master in 2.0s", Duration::from_secs(30));
    assert_eq!(b.stop(), 0);
    assert_eq!(b.index(), files, "nothing is wiped or added");
    for (name, (_, d)) in before {
        assert_eq!(md5_file(&b.binlog_dir.join(&name)), d);
    }
}

#[test]
fn sighup_reopens_the_log_file() {
    let s = Server::start(Flavor::MariaDb, "hup");
    let mut b = Binlogd::new(&s, "hup", "");
    b.start();
    b.wait_log("requested binlog dump", Duration::from_secs(20));
    let rotated = b.dir.join("binlogd.log.1");
    std::fs::rename(&b.log, &rotated).unwrap();
    b.signal(libc::SIGHUP);
    b.wait_log("reopened the error log", Duration::from_secs(10));
    assert_eq!(b.stop(), 0);
    assert!(std::fs::read_to_string(&rotated).unwrap().contains("requested binlog dump"));
    assert!(b.log_text().contains("binlogd stopped"));
}
