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
fn a_writer_error_ends_the_connection_even_when_only_heartbeats_follow() {
    // The first connection stores FILE1's FDE and a statement and closes: FILE1 has no
    // ROTATE. Every later one names the next file at once (the primary moved on), then
    // sends only heartbeats, as a primary whose commits wait for binlogd's ACK does.
    // The writer refuses the switch; binlogd must then reconnect to fetch the rest of
    // FILE1 by file+pos, not wait for an event that will not come.
    let fake = FakePrimary::start(|n| {
        let f = fde();
        let end = 4 + f.len() as u32;
        let q = query(end, "CREATE TABLE t (a INT)");
        if n == 0 {
            (vec![fake_rotate(FILE1, 4), f, q], Then::Close)
        } else {
            (vec![fake_rotate("fake-bin.000002", 4)], Then::Heartbeats)
        }
    });
    let mut b = binlogd_for(&fake, "hb-writer-err");
    b.start();
    b.wait_log("the primary moved on to fake-bin.000002", Duration::from_secs(20));
    wait_until("a dump after the refused switch", Duration::from_secs(20), || fake.dumps.lock().unwrap().len() >= 3);
    assert_eq!(b.stop(), 0);
    let dumps = fake.dumps.lock().unwrap().clone();
    let stored = fs::metadata(b.binlog_dir.join(FILE1)).unwrap().len();
    assert_eq!((dumps[2].file.as_str(), u64::from(dumps[2].pos)), (FILE1, stored));
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
    assert!(!b.log_text().contains("sent nothing"), "a dump that began is not a silent one");
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
fn a_primary_silent_from_the_dump_request_on_gets_a_hint_about_server_ids() {
    // What a MariaDB primary does while another replica uses binlogd's server_id.
    let fake = FakePrimary::start(|_| (vec![], Then::Stall));
    let mut b = binlogd_for(&fake, "silent");
    b.start();
    b.wait_log("the primary sent nothing for", Duration::from_secs(20));
    assert!(b.log_text().contains("another dump with binlogd's server_id 1001"), "{}", b.log_text());
    assert_eq!(b.stop(), 0);
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

/// Runs binlogd against `fake` until `needle` is logged, then checks that it is still
/// running (retrying), that it stored nothing but FILE1 and its index, and returns the log.
fn survives(fake: &FakePrimary, tag: &str, needle: &str) -> String {
    survives_keeping(fake, tag, needle, None)
}

/// `survives`, and FILE1 then holds exactly `kept` when given: what an honest primary
/// sent before the fault, nothing of the fault.
fn survives_keeping(fake: &FakePrimary, tag: &str, needle: &str, kept: Option<&[u8]>) -> String {
    let mut b = binlogd_for(fake, tag);
    b.start();
    b.wait_log(needle, Duration::from_secs(20));
    b.wait_log("reconnecting to master", Duration::from_secs(20));
    let log = b.log_text();
    assert_eq!(b.stop(), 0, "binlogd must keep running and stop cleanly:\n{log}");
    if let Some(kept) = kept {
        let stored = fs::read(b.binlog_dir.join(FILE1)).unwrap();
        assert!(
            stored == kept,
            "{tag}: {FILE1} holds {} bytes, not the {} sent before the fault",
            stored.len(),
            kept.len()
        );
    }
    assert!(!log.contains("panicked"), "{log}");
    for e in fs::read_dir(&b.binlog_dir).unwrap() {
        let n = e.unwrap().file_name().into_string().unwrap();
        assert!(n == FILE1 || n.ends_with(".index") || n.starts_with("binlogd."), "unexpected file {n} in binlog_dir");
    }
    log
}

/// A ROTATE in the file, ending at `end` plus its size, naming `name` at `pos`.
fn rotate_in_file(end: u32, name: &str, pos: u64) -> Vec<u8> {
    let mut b = pos.to_le_bytes().to_vec();
    b.extend_from_slice(name.as_bytes());
    event(4, end + 19 + b.len() as u32 + 4, 0, &b)
}

#[test]
fn malformed_events_are_refused_with_a_clear_error_naming_the_fault() {
    let long_name = format!("{}.000002", "x".repeat(10_000));
    type MakeEvent = Box<dyn Fn(u32) -> Vec<u8> + Send + Sync>;
    let cases: Vec<(&str, MakeEvent, &str)> = vec![
        (
            "small",
            Box::new(|end| {
                let mut e = query(end, "CREATE TABLE t (a INT)");
                e[9..13].copy_from_slice(&10u32.to_le_bytes());
                e
            }),
            "smaller than",
        ),
        ("backwards", Box::new(|end| query(end - 40, "CREATE TABLE t (a INT)")), "goes back into"),
        (
            // A header promising 4 GiB in a 60-byte packet: refused before anything is read or held.
            "huge",
            Box::new(|end| {
                let mut e = query(end, "CREATE TABLE t (a INT)");
                e[9..13].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
                e
            }),
            "over the largest event",
        ),
        ("abs-rotate", Box::new(|end| rotate_in_file(end, "/tmp/binlogd-evil.000002", 4)), "binlogd-evil"),
        ("long-rotate", Box::new(move |end| rotate_in_file(end, &long_name, 4)), "not a plain file name"),
        ("dotdot-rotate", Box::new(|end| rotate_in_file(end, "../../binlogd-evil.000002", 4)), "binlogd-evil"),
        (
            "sequence-rotate",
            Box::new(|end| rotate_in_file(end, "other-bin.000009", 4)),
            "does not follow fake-bin.000001 in sequence",
        ),
        ("position-rotate", Box::new(|end| rotate_in_file(end, "fake-bin.000002", 1234)), "a new file starts at 4"),
    ];
    for (tag, make, needle) in cases {
        let make = std::sync::Arc::new(make);
        let m = make.clone();
        let fake = FakePrimary::start(move |_| {
            let f = fde();
            let end = 4 + f.len() as u32;
            (vec![fake_rotate(FILE1, 4), f, m(end)], Then::Stall)
        });
        let mut honest = b"\xfebin".to_vec();
        honest.extend_from_slice(&fde());
        let log = survives_keeping(&fake, &format!("ev-{tag}"), needle, Some(&honest));
        let line = log.lines().find(|l| l.contains(needle)).unwrap_or_default();
        assert!(line.contains(FILE1) || tag.ends_with("rotate"), "{tag}: the error must name the file: {line}");
        assert!(line.len() < 1000, "{tag}: the error line must stay short: {} bytes", line.len());
        assert!(!std::path::Path::new("/tmp/binlogd-evil.000002").exists());
    }
}

#[test]
fn a_truncated_format_description_is_refused() {
    let fake = FakePrimary::start(|_| {
        let mut body = 4u16.to_le_bytes().to_vec();
        body.extend_from_slice(b"8.0.99-fake");
        (vec![fake_rotate(FILE1, 4), event(15, 4 + 19 + body.len() as u32 + 4, 0, &body)], Then::Stall)
    });
    let log = survives(&fake, "short-fde", "Format_desc");
    assert!(log.contains(FILE1), "{log}");
}

#[test]
fn hostile_handshakes_and_replies_are_refused_without_harm() {
    use std::io::Write;
    // Each fake answers one way on every connection; binlogd must log the fault and retry.
    type Answer = fn(std::net::TcpStream);
    let cases: Vec<(&str, Answer, &str)> = vec![
        (
            "garbage-greeting",
            |mut s| {
                let _ = send(&mut s, &mut 0, &[0x0a, b'x', 0xff, 0xfe]);
                std::thread::sleep(Duration::from_secs(2));
            },
            "error connecting to master",
        ),
        (
            "short-packet",
            |mut s| {
                // A header promising 16 MiB, then ten bytes and the end of the connection.
                let _ = s.write_all(&[0xfe, 0xff, 0xff, 0x00]);
                let _ = s.write_all(&[0x0a; 10]);
            },
            "error connecting to master",
        ),
        (
            "unknown-plugin",
            |mut s| {
                let g = greeting("mysql_native_password");
                let _ = send(&mut s, &mut 0, &g.encode());
                let _ = read_packet(&mut s);
                let mut p = vec![0xfe];
                p.extend_from_slice(b"evil_plugin\0");
                p.extend_from_slice(&[1; 20]);
                let _ = send(&mut s, &mut 2, &p);
                std::thread::sleep(Duration::from_secs(2));
            },
            "evil_plugin",
        ),
        (
            "local-infile",
            |mut s| {
                if greet_and_login(&mut s).is_ok() && read_packet(&mut s).is_ok() {
                    let mut p = vec![0xfb];
                    p.extend_from_slice(b"/etc/passwd");
                    let _ = send(&mut s, &mut 1, &p);
                    // Nothing of the file may come back.
                    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                    if let Ok(got) = read_packet(&mut s) {
                        assert!(!String::from_utf8_lossy(&got).contains("root:"), "binlogd sent /etc/passwd");
                    }
                }
            },
            "LOCAL INFILE",
        ),
        (
            "huge-column-count",
            |mut s| {
                if greet_and_login(&mut s).is_ok() && read_packet(&mut s).is_ok() {
                    // 2^64 - 1 columns as a length-encoded integer, and nothing after.
                    let _ = send(&mut s, &mut 1, &[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
                    std::thread::sleep(Duration::from_secs(2));
                }
            },
            "column count",
        ),
    ];
    for (tag, f, needle) in cases {
        let fake = FakePrimary::start_raw(move |_, s| f(s));
        let log = survives(&fake, &format!("hs-{tag}"), needle);
        assert!(!log.contains("root:"), "{tag}");
    }
}

#[test]
fn a_source_that_reports_no_binlog_checksum_is_named_before_any_event_is_read() {
    // An older binlogd answered binlogd's own SHOW GLOBAL VARIABLES ... WHERE with no
    // rows: the first event would then be read as if it had no checksum.
    let fake = FakePrimary::start_raw(|_, mut s| {
        if greet_and_login(&mut s).is_err() {
            return;
        }
        while let Ok(p) = read_packet(&mut s) {
            let q = String::from_utf8_lossy(p.get(1..).unwrap_or_default()).to_ascii_uppercase();
            let r = if q.starts_with("SELECT @@GLOBAL.SERVER_ID") {
                resultset(&mut s, &["id"], &[vec!["77"]])
            } else if q.starts_with("SHOW GLOBAL VARIABLES") {
                resultset(&mut s, &["Variable_name", "Value"], &[])
            } else {
                ok(&mut s)
            };
            if r.is_err() {
                return;
            }
        }
    });
    let mut b = binlogd_for(&fake, "no-checksum");
    b.start();
    b.wait_log("reported no binlog_checksum", Duration::from_secs(20));
    assert_eq!(b.stop(), 0);
    assert!(!b.binlog_dir.join(FILE1).exists(), "nothing is stored from such a source");
}
