//! Network faults between binlogd and a real primary, through the fault proxy.
//! After each fault the files converge to the primary's, with nothing duplicated.

use std::time::Duration;

use crate::harness::*;
use crate::proxy::Proxy;

fn binlogd_via(p: &Proxy, tag: &str, mode: u8) -> Binlogd {
    Binlogd::for_port(
        p.port,
        tag,
        &format!(
            "master_password = replpass\nheartbeat_period = 0.5\nnet_read_time_out = 2\nmaster_retry_max = 0.5\nget_start_gtid_mode = {mode}"
        ),
    )
}

fn assert_converged(s: &Server, b: &Binlogd) {
    s.sql("FLUSH BINARY LOGS");
    assert_rotated_identical(s, b);
    assert_eq!(b.index(), s.binary_logs());
}

fn cuts_converge(flavor: Flavor, mode: u8) {
    let s = Server::start(flavor, "cuts");
    // These cuts test convergence of the stream, not semisync. (A semisync dump thread
    // cut just after the primary accepted it can hang on MariaDB 10.11, blocking every
    // later dump with that server_id: a server-side hang that the kill -9 test meets too.)
    let var = if flavor == Flavor::Mysql { "rpl_semi_sync_source_enabled" } else { "rpl_semi_sync_master_enabled" };
    s.sql(&format!("SET GLOBAL {var} = OFF"));
    let p = Proxy::start(s.port);
    s.sql("CREATE DATABASE nf; CREATE TABLE nf.t (id INT AUTO_INCREMENT PRIMARY KEY, v LONGBLOB)");
    for i in 0..30 {
        s.sql(&format!("INSERT INTO nf.t (v) VALUES (REPEAT('a', {})), ('b'); ", 1000 + i * 997));
    }
    // One event over 16 MiB: several packets.
    s.sql("INSERT INTO nf.t (v) VALUES (REPEAT('z', 20 * 1024 * 1024))");
    s.sql("FLUSH BINARY LOGS; INSERT INTO nf.t (v) VALUES ('after')");
    {
        // Cut early (handshake, FDE), mid small events, and inside the big event.
        let mut f = p.faults.lock().unwrap();
        f.cuts = vec![50, 700, 1500, 3000, 9000, 20_000, 45_000, 5_000_000, 12_000_000, 20_500_000];
    }
    let mut b = binlogd_via(&p, &format!("cuts-{}", flavor.name()), mode);
    b.start();
    let t = std::time::Instant::now();
    while p.faults.lock().unwrap().cut_done < 10 {
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "not every cut was made; binlogd's log ends:\n{}\nprimary's log ends:\n{}",
            b.log_text().lines().rev().take(20).collect::<Vec<_>>().join("\n"),
            s.error_log_tail(10)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.sql("INSERT INTO nf.t (v) VALUES ('tail')");
    assert_converged(&s, &b);
    assert_eq!(b.stop(), 0);
    let log = b.log_text();
    assert!(log.matches("reconnecting to master in").count() >= 10, "{log}");
}

#[test]
fn mariadb_gtid_cut_connections_converge_without_duplicates() {
    cuts_converge(Flavor::MariaDb, 0);
}

#[test]
fn mysql_file_pos_cut_connections_converge_without_duplicates() {
    cuts_converge(Flavor::Mysql, 2);
}

#[test]
fn stalled_link_is_detected_by_net_read_time_out_and_recovers() {
    let s = Server::start(Flavor::MariaDb, "stall");
    let p = Proxy::start(s.port);
    let mut b = binlogd_via(&p, "stall", 0);
    b.start();
    wait_semisync_client(&s, &b);
    s.sql("CREATE DATABASE st; CREATE TABLE st.t (a INT)");
    p.faults.lock().unwrap().stall = true;
    b.wait_log("no packet within net_read_time_out", Duration::from_secs(20));
    p.faults.lock().unwrap().stall = false;
    wait_semisync_client(&s, &b);
    s.sql("INSERT INTO st.t VALUES (1)");
    assert_converged(&s, &b);
    assert_eq!(b.stop(), 0);
}

#[test]
fn slow_link_still_mirrors_identically() {
    let s = Server::start(Flavor::MariaDb, "slow");
    let p = Proxy::start(s.port);
    p.faults.lock().unwrap().delay = Duration::from_millis(3);
    let mut b = binlogd_via(&p, "slow", 2);
    b.start();
    wait_semisync_client(&s, &b);
    s.sql("CREATE DATABASE sl; CREATE TABLE sl.t (v LONGBLOB); INSERT INTO sl.t VALUES (REPEAT('q', 2000000))");
    for _ in 0..5 {
        s.sql("INSERT INTO sl.t VALUES ('x'), ('y')");
    }
    assert_eq!(s.semi_status("no_tx"), "0");
    assert_converged(&s, &b);
    assert_eq!(b.stop(), 0);
}
