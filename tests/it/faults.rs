//! Crash-safety and fault tests against real primaries.

use std::time::Duration;

use crate::harness::*;

fn checksum_none_mirrors_identically(flavor: Flavor) {
    let s = Server::start(flavor, "nocrc");
    // Changing binlog_checksum rotates the primary's binlog; later files have no CRCs.
    s.sql("SET GLOBAL binlog_checksum = NONE");
    let mut b = Binlogd::mirroring(&s, "nocrc", "get_start_gtid_mode = 2");
    s.sql("CREATE DATABASE n; CREATE TABLE n.t (a INT PRIMARY KEY, b MEDIUMTEXT); INSERT INTO n.t VALUES (1, 'x'), (2, 'y')");
    s.sql("FLUSH BINARY LOGS; INSERT INTO n.t VALUES (3, REPEAT('z', 100000)); FLUSH BINARY LOGS");
    assert_eq!(s.semi_status("no_tx"), "0");
    assert!(assert_rotated_identical(&s, &b) >= 3, "expected at least 3 rotated files");
    assert_eq!(b.stop(), 0);
}

#[test]
fn mariadb_binlog_checksum_none_is_mirrored_byte_identical() {
    checksum_none_mirrors_identically(Flavor::MariaDb);
}

#[test]
fn mysql_binlog_checksum_none_is_mirrored_byte_identical() {
    checksum_none_mirrors_identically(Flavor::Mysql);
}

#[test]
fn corrupt_stored_event_refuses_to_start_and_deletes_nothing() {
    let s = Server::start(Flavor::MariaDb, "corrupt");
    let mut b = Binlogd::mirroring(&s, "corrupt", "binlog_preallocate = 1M");
    s.sql("CREATE DATABASE c; CREATE TABLE c.t (a INT); INSERT INTO c.t VALUES (1), (2); INSERT INTO c.t VALUES (3)");
    let active = wait_active_mirrored(&s, &b);
    let path = b.binlog_dir.join(&active);
    assert_eq!(b.stop(), 0);
    let len = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
    assert_eq!(len(&path), len(&s.binlog_dir().join(&active)), "a stop cuts the preallocated zeros off");
    let mut data = std::fs::read(&path).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0xff;
    std::fs::write(&path, &data).unwrap();
    b.start();
    assert_eq!(b.wait(Duration::from_secs(30)), 3, "{}", b.log_text());
    let log = b.log_text();
    assert!(log.contains(&format!("corrupt binlog {active}:")), "{log}");
    assert_eq!(std::fs::read(&path).unwrap(), data, "the corrupt file is left as it is");
}

/// Peak resident memory of a process (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn huge_transaction_with_events_over_64_mib_is_mirrored_in_bounded_memory() {
    let s = Server::start(Flavor::MariaDb, "huge");
    let mut b = Binlogd::mirroring(&s, "huge", "");
    s.sql("CREATE DATABASE hg; CREATE TABLE hg.t (id INT PRIMARY KEY, v LONGBLOB)");
    // Four rows of 80 MiB in one transaction: about 320 MiB, each row event over 64 MiB.
    s.sql(
        "BEGIN; INSERT INTO hg.t VALUES (1, REPEAT('a', 80 * 1048576)); INSERT INTO hg.t VALUES (2, REPEAT('b', 80 * 1048576));
         INSERT INTO hg.t VALUES (3, REPEAT('c', 80 * 1048576)); INSERT INTO hg.t VALUES (4, REPEAT('d', 80 * 1048576)); COMMIT",
    );
    s.sql("FLUSH BINARY LOGS");
    assert_rotated_identical(&s, &b);
    let pid = b.child.as_ref().unwrap().id();
    let peak = peak_rss_kib(pid);
    eprintln!("binlogd peak RSS {peak} KiB for a {} MiB transaction", 320);
    assert_eq!(s.semi_status("no_tx"), "0");
    assert_eq!(b.stop(), 0);
    assert!(peak > 0 && peak < 64 * 1024, "binlogd's peak RSS was {peak} KiB while mirroring 80 MiB events");
}
