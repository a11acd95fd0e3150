//! Where binlogd starts on an empty binlog_dir (virtual_slave's get_start_gtid_mode).

use std::time::Duration;

use crate::harness::*;

fn prepare(s: &Server) {
    // No semisync replica is attached while the history is written.
    let var = match s.flavor {
        Flavor::Mysql => "rpl_semi_sync_source_enabled",
        Flavor::MariaDb | Flavor::MariaDb11 => "rpl_semi_sync_master_enabled",
    };
    s.sql(&format!("SET GLOBAL {var} = OFF"));
    s.sql("CREATE DATABASE h; CREATE TABLE h.t (a INT); INSERT INTO h.t VALUES (1); FLUSH BINARY LOGS");
    s.sql("INSERT INTO h.t VALUES (2); FLUSH BINARY LOGS; INSERT INTO h.t VALUES (3)");
}

#[test]
fn mode_1_starts_with_the_primarys_current_file() {
    let s = Server::start(Flavor::MariaDb, "mode1");
    prepare(&s);
    let current = s.binary_logs().last().unwrap().clone();
    let mut b = Binlogd::new(&s, "mode1", "get_start_gtid_mode = 1");
    b.start();
    b.wait_log(&format!("dump from file {current} position 4"), Duration::from_secs(20));
    s.sql("INSERT INTO h.t VALUES (4); FLUSH BINARY LOGS");
    wait_until("the rotated current file", Duration::from_secs(20), || {
        b.binlog_dir.join(&current).exists()
            && md5_file(&b.binlog_dir.join(&current)) == md5_file(&s.binlog_dir().join(&current))
    });
    assert_eq!(b.index().first(), Some(&current), "older files are not fetched in mode 1");
    assert_eq!(b.stop(), 0);
}

#[test]
fn mode_0_with_exclude_gtids_starts_at_the_first_file_with_wanted_transactions() {
    let s = Server::start(Flavor::Mysql, "mode0");
    s.sql("SET GLOBAL rpl_semi_sync_source_enabled = OFF");
    s.sql("CREATE DATABASE h; CREATE TABLE h.t (a INT); FLUSH BINARY LOGS");
    let excluded = s.sql("SELECT @@GLOBAL.gtid_executed").trim().replace('\n', "");
    s.sql("INSERT INTO h.t VALUES (2); FLUSH BINARY LOGS; INSERT INTO h.t VALUES (3)");
    let logs = s.binary_logs();
    let mut b = Binlogd::new(&s, "mode0", &format!("get_start_gtid_mode = 0\nexclude_gtids = {excluded}"));
    b.start();
    // The second file's Previous_gtids is exactly the excluded set: start there.
    b.wait_log(&format!("dump from file {} position 4", logs[1]), Duration::from_secs(20));
    s.sql("FLUSH BINARY LOGS");
    let m = rotated_md5s_from(&s, &b, 1);
    for (name, (p, d)) in &m {
        assert_eq!(p, d, "{name}");
    }
    assert_eq!(b.index().first(), Some(&logs[1]));
    assert_eq!(b.stop(), 0);
}
