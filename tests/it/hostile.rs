//! binlogd against a fake primary that misbehaves: every fault is a clear log line,
//! nothing bad is written, and what is stored stays intact.

use std::fs;
use std::time::Duration;

use crate::fake::*;
use crate::harness::*;

fn binlogd_for(fake: &FakePrimary, tag: &str) -> Binlogd {
    let timing = "master_password = x\nheartbeat_period = 0.2\nnet_read_time_out = 1\nmaster_retry_max = 0.5";
    Binlogd::for_port(fake.port, &format!("fake-{tag}"), timing)
}

#[test]
fn rejects_event_with_bad_crc_and_writes_nothing_of_it() {
    let fake = FakePrimary::start(|_| {
        let f = fde();
        let end = 4 + f.len() as u32;
        let mut q = query(end, "CREATE TABLE t (a INT)");
        let n = q.len();
        q[n - 10] ^= 0xff;
        (vec![fake_rotate(FILE1, 4), f, q], Then::Stall)
    });
    let mut b = binlogd_for(&fake, "crc");
    b.start();
    b.wait_log("CRC32 mismatch", Duration::from_secs(20));
    b.wait_log("reconnecting to master", Duration::from_secs(20));
    assert_eq!(b.stop(), 0);
    let log = b.log_text();
    let fde_len = fde().len() as u64;
    assert!(log.contains(&format!("Query event at {FILE1}:{}", 4 + fde_len)), "{log}");
    assert_eq!(fs::metadata(b.binlog_dir.join(FILE1)).unwrap().len(), 4 + fde_len, "only the FDE may be stored");
}

#[test]
fn gap_in_log_pos_stops_the_stream_with_a_clear_error() {
    let fake = FakePrimary::start(|_| {
        let f = fde();
        let end = 4 + f.len() as u32;
        (vec![fake_rotate(FILE1, 4), f, query(end + 100, "CREATE TABLE t (a INT)")], Then::Stall)
    });
    let mut b = binlogd_for(&fake, "gap");
    b.start();
    b.wait_log("leaves a gap", Duration::from_secs(20));
    assert_eq!(b.stop(), 0);
    let fde_len = fde().len() as u64;
    assert!(b.log_text().contains(&format!("at {FILE1}:{}", 4 + fde_len)), "{}", b.log_text());
    assert_eq!(fs::metadata(b.binlog_dir.join(FILE1)).unwrap().len(), 4 + fde_len);
}

#[test]
fn stalled_primary_is_detected_by_read_timeout_and_resumed_after_the_stored_bytes() {
    let fake = FakePrimary::start(|n| {
        let f = fde();
        let end = 4 + f.len() as u32;
        let q = query(end, "CREATE TABLE t (a INT)");
        if n == 0 {
            (vec![fake_rotate(FILE1, 4), f, q], Then::Stall)
        } else {
            let pos = u64::from(end) + q.len() as u64;
            (vec![fake_rotate(FILE1, pos)], Then::Stall)
        }
    });
    let mut b = binlogd_for(&fake, "stall");
    b.start();
    b.wait_log("no packet within net_read_time_out", Duration::from_secs(20));
    wait_until("a second dump request", Duration::from_secs(20), || fake.dumps.lock().unwrap().len() >= 2);
    assert_eq!(b.stop(), 0);
    let dumps = fake.dumps.lock().unwrap().clone();
    let stored = fs::metadata(b.binlog_dir.join(FILE1)).unwrap().len();
    assert_eq!(dumps[0].pos, 4);
    assert_eq!(
        (dumps[1].file.as_str(), u64::from(dumps[1].pos)),
        (FILE1, stored),
        "resume must continue right after what is stored"
    );
}

#[test]
fn rotate_to_a_path_is_refused() {
    let fake = FakePrimary::start(|_| (vec![fake_rotate("../../etc/evil.000001", 4)], Then::Stall));
    let mut b = binlogd_for(&fake, "path");
    b.start();
    b.wait_log("not a plain file name", Duration::from_secs(20));
    assert_eq!(b.stop(), 0);
    assert!(!b.dir.join("etc").exists() && !std::path::Path::new("/etc/evil.000001").exists());
}

#[test]
fn follows_an_auth_switch_to_native_password() {
    let fake = FakePrimary::start_opts(true, |_| (vec![fake_rotate(FILE1, 4), fde()], Then::Stall));
    let mut b = binlogd_for(&fake, "switch");
    b.start();
    let want = 4 + fde().len() as u64;
    wait_until("the FDE stored after the auth switch", Duration::from_secs(20), || {
        fs::metadata(b.binlog_dir.join(FILE1)).is_ok_and(|m| m.len() == want)
    });
    assert_eq!(b.stop(), 0);
    assert_eq!(fake.dumps.lock().unwrap().len(), 1);
}

#[test]
fn lost_connection_reconnects_with_capped_backoff_logging_each_attempt() {
    let fake = FakePrimary::start(|_| (vec![fake_rotate(FILE1, 4), fde()], Then::Close));
    let mut b = binlogd_for(&fake, "lost");
    b.start();
    wait_until("four connections", Duration::from_secs(20), || fake.dumps.lock().unwrap().len() >= 4);
    assert_eq!(b.stop(), 0);
    let log = b.log_text();
    assert!(log.contains("Lost connection"), "{log}");
    let waits: Vec<&str> = log.lines().filter(|l| l.contains("reconnecting to master in")).collect();
    assert!(waits.len() >= 3, "{log}");
    assert!(waits.iter().all(|l| l.ends_with("in 0.5s")), "master_retry_max = 0.5 caps every wait: {waits:?}");
    // Every reconnect resumes right after the stored FDE.
    let want = 4 + fde().len() as u32;
    assert!(fake.dumps.lock().unwrap()[1..].iter().all(|d| d.pos == want));
}

#[test]
fn streamed_large_event_with_bad_crc_is_cut_back() {
    let fake = FakePrimary::start(|_| {
        let f = fde();
        let end = 4 + f.len() as u32;
        let mut q = query(end, &format!("INSERT INTO t VALUES ('{}')", "x".repeat(3 << 20)));
        let n = q.len();
        q[n / 2] ^= 0x01;
        (vec![fake_rotate(FILE1, 4), f, q], Then::Stall)
    });
    let mut b = binlogd_for(&fake, "bigcrc");
    b.start();
    b.wait_log("CRC32 mismatch", Duration::from_secs(20));
    assert_eq!(b.stop(), 0);
    assert_eq!(
        fs::metadata(b.binlog_dir.join(FILE1)).unwrap().len(),
        4 + fde().len() as u64,
        "the 3 MiB event is cut back"
    );
}
