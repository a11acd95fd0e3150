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
    // An idle logged-in client is closed after wait_timeout.
    let mut c = binlogd::proto::client::Client::connect(&repl_options(lport)).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(c.query("SELECT 1").is_err(), "an idle client outlived wait_timeout");
    assert!(b.log_text().contains("max_connections reached"), "the cap of 24 was never reached");
    assert_rotated_identical(&s, &b);
    r.sql("STOP SLAVE");
    assert_eq!(b.stop(), 0);
}
