//! Hostile clients of the binlog server: floods of connections that send garbage,
//! half packets, huge length fields or nothing at all, while an honest replica reads.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::*;

#[test]
fn a_flood_of_hostile_connections_costs_the_honest_replica_and_the_primary_nothing() {
    let s = Server::start(Flavor::MariaDb, "flood-src");
    let (mut b, lport) = Binlogd::serving(&s, "flood", "max_connections = 24\nconnect_timeout = 1\nwait_timeout = 2");
    s.sql("CREATE DATABASE fl; CREATE TABLE fl.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(100))");
    let r = Server::start_with_id(Flavor::MariaDb, "flood-replica", 2);
    r.sql("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
    let first = s.binary_logs()[0].clone();
    r.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={lport}, MASTER_USER='repl', \
         MASTER_PASSWORD='replpass', MASTER_LOG_FILE='{first}', MASTER_LOG_POS=4, MASTER_USE_GTID=no; START SLAVE"
    ));
    r.wait_same(&s.sql("CHECKSUM TABLE fl.t"), "CHECKSUM TABLE fl.t", "before the flood", &b);
    let no_tx = s.semi_status("no_tx");
    // Sixty connections: garbage, a header promising 16 MiB, half a header, a greeting
    // read and then silence, and bytes trickled one by one.
    let mut held = Vec::new();
    for i in 0..60 {
        let Ok(mut c) = TcpStream::connect(("127.0.0.1", lport)) else { continue };
        let _ = c.set_write_timeout(Some(Duration::from_secs(1)));
        let _ = match i % 5 {
            0 => c.write_all(&[0x5a; 4096]),
            1 => c.write_all(&[0xff, 0xff, 0xff, 0x01, 0x00, 0x01]),
            2 => c.write_all(&[0x20, 0x00]),
            3 => Ok(()),
            _ => c.write_all(&[0x40]),
        };
        held.push(c);
    }
    let trickle = std::thread::spawn(move || {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(4) {
            for c in held.iter_mut() {
                let _ = c.write_all(&[0x00]);
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        held
    });
    // The primary keeps committing, binlogd keeps acknowledging, the replica keeps reading.
    for i in 0..30 {
        s.sql(&format!("INSERT INTO fl.t (v) VALUES ('during-{i}')"));
    }
    s.sql("FLUSH BINARY LOGS; INSERT INTO fl.t (v) VALUES ('last')");
    r.wait_same(&s.sql("CHECKSUM TABLE fl.t"), "CHECKSUM TABLE fl.t", "during the flood", &b);
    assert_eq!(s.semi_status("no_tx"), no_tx, "a commit waited for an ACK during the flood");
    drop(trickle.join().unwrap());
    // The slots came back: trickled logins hit connect_timeout, the rest closed.
    wait_until("a client to get in again", Duration::from_secs(15), || {
        client(lport, "replpass", "SELECT 1").status.success()
    });
    // An idle logged-in client is closed after wait_timeout: its read ends.
    let mut o = repl_options(lport);
    o.read_timeout = Some(Duration::from_secs(60));
    let mut c = binlogd::proto::client::Client::connect(&o).unwrap();
    let idle = std::time::Instant::now();
    assert!(c.stream.read().is_err(), "binlogd closes the idle client");
    assert!(idle.elapsed() < Duration::from_secs(30), "an idle client outlived wait_timeout");
    assert!(b.log_text().contains("max_connections reached"), "the cap of 24 was never reached");
    assert_rotated_identical(&s, &b);
    r.sql("STOP SLAVE");
    assert_eq!(b.stop(), 0);
}

/// 200 readers tail binlogd while the primary commits through binlogd's ACKs; 20 of them
/// stop reading. The others receive everything, every commit is acknowledged, and the
/// stalled ones cost only their own connection, closed by net_write_timeout. (The ACK
/// latency against a run without readers is measured by scripts/bench/serve.sh.)
#[test]
fn stalled_readers_among_many_cost_only_their_own_connection_and_are_closed_by_net_write_timeout() {
    use binlogd::proto::client::Client;
    use binlogd::proto::command::BinlogDump;
    use std::sync::{Arc, Mutex};
    let s = Server::start(Flavor::MariaDb, "fanout");
    let (mut b, lport) = Binlogd::serving(&s, "fanout", "max_connections = 300\nnet_write_timeout = 2");
    s.sql("CREATE DATABASE fo; CREATE TABLE fo.t (v LONGBLOB)");
    let first = s.binary_logs()[0].clone();
    let dump = |id: u32| {
        let mut o = repl_options(lport);
        o.read_timeout = Some(Duration::from_secs(120));
        let mut c = Client::connect(&o).unwrap();
        // One stalled reader's session sets its own, as Canal does: closed after it.
        if id == 199 {
            c.query("SET net_write_timeout = 1").unwrap();
        }
        let d = BinlogDump { pos: 4, flags: 0, server_id: 1000 + id, file: first.clone() };
        c.stream.write_command(&d.encode()).unwrap();
        c
    };
    // The name of the file the primary rotates to once the load is done.
    let target: Arc<Mutex<Option<String>>> = Arc::default();
    let live: Vec<_> = (0..180)
        .map(|i| {
            let mut c = dump(i);
            let target = target.clone();
            std::thread::spawn(move || -> Result<u64, String> {
                let mut bytes = 0u64;
                loop {
                    let p = c.stream.read().map_err(|e| format!("reader {i} after {bytes} bytes: {e}"))?;
                    bytes += p.len() as u64;
                    // A ROTATE (event type 4) to the target file ends the reading.
                    if p.first() == Some(&0) && p.get(5) == Some(&4) {
                        if let Some(t) = target.lock().unwrap().as_deref() {
                            if p.windows(t.len()).any(|w| w == t.as_bytes()) {
                                return Ok(bytes);
                            }
                        }
                    }
                }
            })
        })
        .collect();
    let stalled: Vec<Client> = (180..200).map(dump).collect();
    wait_until("200 dumps", Duration::from_secs(60), || {
        binlogd_sqlv(lport, "SHOW PROCESSLIST").matches("Binlog Dump").count() >= 200
    });
    // More than a stalled reader's socket buffers hold: its dump blocks in a write.
    for _ in 0..8 {
        s.sql("INSERT INTO fo.t VALUES (REPEAT('f', 1000000))");
    }
    let next = {
        let logs = s.binary_logs();
        let last = logs.last().unwrap();
        let (stem, n) = last.rsplit_once('.').unwrap();
        format!("{stem}.{:0w$}", n.parse::<u64>().unwrap() + 1, w = n.len())
    };
    *target.lock().unwrap() = Some(next);
    s.sql("FLUSH BINARY LOGS");
    for t in live {
        let bytes = t.join().unwrap().unwrap_or_else(|e| panic!("{e}\n{}", b.log_text()));
        assert!(bytes > 8_000_000, "a live reader got {bytes} bytes");
    }
    assert_eq!(s.semi_status("no_tx"), "0", "a commit waited for an ACK in vain");
    wait_until("the stalled dumps closed by net_write_timeout", Duration::from_secs(60), || {
        b.log_text().matches("read nothing for net_write_timeout").count() >= 20
    });
    assert_eq!(b.log_text().matches("read nothing for net_write_timeout (1 s)").count(), 1, "{}", b.log_text());
    drop(stalled);
    assert_rotated_identical(&s, &b);
    assert_eq!(b.stop(), 0);
}
