//! Relay tiers: binlogd reading another binlogd (primary → A → B), as fan-out across
//! machines is built. B stores the primary's files byte for byte, survives A's kill -9
//! under load, and serves a real replica what the primary wrote.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::harness::*;

/// A second tier: binlogd B with its own server_id, reading A on `a_port` by
/// `get_start_gtid_mode = mode`, serving on a port of its own. By GTID, B asks A for
/// the compressed protocol, as a tier in another region would.
fn second_tier(a_port: u16, tag: &str, mode: u8) -> (Binlogd, u16) {
    let zip = if mode == 0 { "\nmaster_compression_algorithms = zstd,zlib" } else { "" };
    let port = free_port();
    let b = Binlogd::for_port(
        a_port,
        tag,
        &format!(
            "master_password = replpass\nheartbeat_period = 1\nnet_read_time_out = 5\nmaster_retry_max = 1\n\
             get_start_gtid_mode = {mode}\nlisten_address = 127.0.0.1\nlisten_port = {port}{zip}"
        ),
    );
    b.edit_cnf("server_id = 1001", "server_id = 1002");
    (b, port)
}

/// Each file the primary has rotated is md5-identical in A and in B.
fn assert_three_identical(s: &Server, a: &Binlogd, b: &Binlogd) {
    let from_a = rotated_md5s(s, a);
    let from_b = rotated_md5s(s, b);
    for (name, (p, m)) in &from_a {
        assert_eq!(p, m, "{name}: A differs from the primary\n{}", a.log_text());
        assert_eq!(Some(p), from_b.get(name).map(|x| &x.1), "{name}: B differs from the primary\n{}", b.log_text());
    }
}

fn relay_tier(flavor: Flavor, tag: &str, mode: u8) {
    let s = Server::start(flavor, &format!("{tag}-src"));
    let a_mode = if flavor == Flavor::Mysql { 0 } else { mode };
    let (mut a, a_port) = Binlogd::serving(&s, &format!("{tag}-a"), &format!("get_start_gtid_mode = {a_mode}"));
    let (mut b, b_port) = second_tier(a_port, &format!("{tag}-b"), mode);
    b.start();
    s.sql("CREATE DATABASE ti; CREATE TABLE ti.t (id INT AUTO_INCREMENT PRIMARY KEY, v LONGBLOB)");
    for i in 0..5 {
        s.sql(&format!("INSERT INTO ti.t (v) VALUES (REPEAT('a', {})); FLUSH BINARY LOGS", 1000 + i * 70000));
    }
    assert_three_identical(&s, &a, &b);

    // A dies under load and comes back; B reconnects and resumes with no gap.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (dir, stop) = (s.dir.to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) && n < 400 {
                let ok = std::process::Command::new(repo().join("scripts/server.sh"))
                    .args(["sql", dir.to_str().unwrap(), "INSERT INTO ti.t (v) VALUES (REPEAT('l', 300))"])
                    .status()
                    .map(|st| st.success())
                    .unwrap_or(false);
                assert!(ok, "a commit on the primary failed");
                n += 1;
            }
            n
        })
    };
    wait_until("some commits under load", Duration::from_secs(30), || {
        s.sql("SELECT COUNT(*) FROM ti.t").trim().parse::<u32>().unwrap_or(0) > 40
    });
    a.kill9();
    a.start();
    wait_until("more commits after A came back", Duration::from_secs(60), || {
        s.sql("SELECT COUNT(*) FROM ti.t").trim().parse::<u32>().unwrap_or(0) > 120
    });
    stop.store(true, Ordering::SeqCst);
    let committed = load.join().unwrap();
    assert!(committed > 0);
    s.sql("FLUSH BINARY LOGS");
    assert_three_identical(&s, &a, &b);
    assert!(b.log_text().contains("reconnecting to master"), "B must have seen A go: {}", b.log_text());

    // A replica of B reads what the primary wrote.
    let r = Server::start_with_id(flavor, &format!("{tag}-replica"), 3);
    r.sql(if flavor == Flavor::Mysql {
        "SET GLOBAL rpl_semi_sync_source_enabled = OFF"
    } else {
        "SET GLOBAL rpl_semi_sync_master_enabled = OFF"
    });
    let first = s.binary_logs()[0].clone();
    r.sql(&match (flavor, mode) {
        (Flavor::Mysql, _) => format!(
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={b_port}, SOURCE_USER='repl', \
             SOURCE_PASSWORD='replpass', SOURCE_AUTO_POSITION=1, SOURCE_SSL=0, GET_SOURCE_PUBLIC_KEY=1; START REPLICA"
        ),
        (_, 2) => format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={b_port}, MASTER_USER='repl', \
             MASTER_PASSWORD='replpass', MASTER_LOG_FILE='{first}', MASTER_LOG_POS=4, MASTER_USE_GTID=no; START SLAVE"
        ),
        _ => format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={b_port}, MASTER_USER='repl', \
             MASTER_PASSWORD='replpass', MASTER_USE_GTID=slave_pos; START SLAVE"
        ),
    });
    r.wait_same(&s.sql("CHECKSUM TABLE ti.t"), "CHECKSUM TABLE ti.t", "a replica of the second tier", &b);
    for log in [a.log_text(), b.log_text()] {
        assert!(!log.contains("panicked"), "{log}");
        assert!(!log.contains("the primary's variables"), "{log}");
    }
    // B answers the primary's variables as A does, as the primary does: those of the
    // session only too.
    let innodb = "SHOW GLOBAL VARIABLES LIKE 'innodb%'";
    let want = s.sql(innodb);
    assert!(want.lines().count() > 20, "{want}");
    assert_eq!(session(b_port, innodb), (true, want, String::new()));
    let (ok, _, err) = session(b_port, "SET timestamp = DEFAULT, foreign_key_checks = 1");
    assert!(ok, "{err}");
    let (ok, _, err) = session(b_port, "SET GLOBAL timestamp = 1");
    assert!(!ok && err.contains("ERROR 1228"), "{err}");
    // And checks a session's SET as the primary does: A gives B what the primary says
    // its variables take (their scopes, ranges and members).
    let (ok, _, err) = session(b_port, "SET innodb_buffer_pool_size = 1");
    assert!(!ok && err.contains("ERROR 1229"), "{err}");
    let mut checked = vec!["SET sort_buffer_size = 10; SHOW WARNINGS; SELECT @@sort_buffer_size"];
    if flavor != Flavor::Mysql {
        checked.push("SET sql_mode = 'ansi,strict_trans_tables'; SELECT @@sql_mode");
    }
    for q in checked {
        assert_eq!(session(b_port, q).1, s.sql(q), "{q}");
    }
    if mode == 0 {
        // zstd where A stands in for MySQL, zlib for MariaDB (which offers no zstd).
        let alg = if flavor == Flavor::Mysql { "zstd" } else { "zlib" };
        let (from_b, from_a) = (b.log_text(), a.log_text());
        assert!(
            from_b.contains(&format!("the connection to the primary uses the compressed protocol ({alg})")),
            "{from_b}"
        );
        assert!(from_a.contains(&format!(", {alg}-compressed")), "{from_a}");
    }
    assert_eq!(b.stop(), 0);
    assert_eq!(a.stop(), 0);
}

#[test]
fn mariadb_second_tier_by_file_and_position() {
    relay_tier(Flavor::MariaDb, "tier-maria-fp", 2);
}

#[test]
fn mariadb_second_tier_by_gtid() {
    relay_tier(Flavor::MariaDb, "tier-maria-gtid", 0);
}

#[test]
fn mysql_second_tier_by_file_and_position() {
    relay_tier(Flavor::Mysql, "tier-mysql-fp", 2);
}

#[test]
fn mysql_second_tier_by_gtid() {
    relay_tier(Flavor::Mysql, "tier-mysql-gtid", 0);
}
