//! More than one binlogd per primary: MySQL's semisync quorum
//! (`rpl_semi_sync_source_wait_for_replica_count`) over two binlogd instances.

use std::time::Duration;

use crate::harness::*;

#[test]
fn two_binlogd_instances_form_a_semisync_quorum_on_mysql() {
    let s = Server::start(Flavor::Mysql, "ha");
    s.sql("SET GLOBAL rpl_semi_sync_source_wait_for_replica_count = 2");
    let mut a = Binlogd::new(&s, "ha-a", "get_start_gtid_mode = 0");
    let mut b = Binlogd::new(&s, "ha-b", "get_start_gtid_mode = 0");
    b.edit_cnf("server_id = 1001", "server_id = 1002");
    a.start();
    b.start();
    wait_until("both instances to be semisync replicas", Duration::from_secs(60), || s.semi_status("clients") == "2");
    s.sql("CREATE DATABASE ha; CREATE TABLE ha.t (a INT)");
    let no_tx = s.semi_status("no_tx");

    // With B frozen, a commit waits: it needs both ACKs.
    b.signal(libc::SIGSTOP);
    let dir = s.dir.to_path_buf();
    let commit = std::thread::spawn(move || {
        let out = std::process::Command::new(repo().join("scripts/server.sh"))
            .args(["sql", dir.to_str().unwrap(), "INSERT INTO ha.t VALUES (1)"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(!commit.is_finished(), "the commit returned with one of two ACKs");
    b.signal(libc::SIGCONT);
    commit.join().unwrap();
    assert_eq!(s.semi_status("no_tx"), no_tx, "the commit fell back to asynchronous");

    // A count of 1 and one instance killed: commits go on, every one acknowledged.
    s.sql("SET GLOBAL rpl_semi_sync_source_wait_for_replica_count = 1");
    b.kill9();
    let yes = s.semi_status("yes_tx").parse::<u64>().unwrap();
    for i in 0..10 {
        s.sql(&format!("INSERT INTO ha.t VALUES ({i})"));
    }
    assert_eq!(s.semi_status("no_tx"), no_tx);
    assert_eq!(s.semi_status("yes_tx").parse::<u64>().unwrap(), yes + 10);
    s.sql("FLUSH BINARY LOGS");
    assert_rotated_identical(&s, &a);
    assert_eq!(a.stop(), 0);
}
