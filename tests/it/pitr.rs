//! Point-in-time recovery through binlogd: `--find-time` and `--find-gtid` name where a
//! replay stops and which files it reads, on real servers' files, and a replay read
//! from binlogd with mysqlbinlog stops there.

use crate::harness::*;
use crate::serve::decoded;
use std::process::Command;

/// The number after `"key":` in the JSON object that follows `"within":`.
fn json_num(j: &str, within: &str, key: &str) -> u64 {
    let at = j.find(&format!("\"{within}\":")).unwrap_or_else(|| panic!("no {within} in {j}"));
    let rest = &j[at..];
    let k = rest.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("no {within}.{key} in {j}"));
    rest[k + key.len() + 3..].chars().take_while(|c| c.is_ascii_digit()).collect::<String>().parse().unwrap()
}

fn json_text(j: &str, within: &str, key: &str) -> String {
    let at = j.find(&format!("\"{within}\":")).unwrap_or_else(|| panic!("no {within} in {j}"));
    let rest = &j[at..];
    let k = rest.find(&format!("\"{key}\":\"")).unwrap_or_else(|| panic!("no {within}.{key} in {j}"));
    rest[k + key.len() + 4..].split('"').next().unwrap().to_string()
}

fn binlogd(args: &[&str]) -> String {
    let o = Command::new(binlogd_bin()).args(args).output().unwrap();
    assert!(o.status.success(), "binlogd {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The GTID of the first transaction with an event of type `kind` or whose Info
/// contains `needle` (either may be empty: not looked for), and where its first event starts, from the primary's SHOW
/// BINLOG EVENTS of `file`.
fn gtid_before(p: &Server, file: &str, kind: &str, needle: &str) -> (String, u64) {
    let rows: Vec<Vec<String>> = p
        .sql(&format!("SHOW BINLOG EVENTS IN '{file}'"))
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    let i = rows
        .iter()
        .position(|r| {
            let t = r.get(2).is_some_and(|t| !kind.is_empty() && t.starts_with(kind));
            t || r.get(5).is_some_and(|i| !needle.is_empty() && i.contains(needle))
        })
        .unwrap_or_else(|| panic!("no {kind} or {needle} in {file}: {rows:?}"));
    let g = rows[..i].iter().rev().find(|r| r[2] == "Gtid").unwrap();
    // MySQL: SET @@SESSION.GTID_NEXT= 'uuid:n'; MariaDB: GTID 0-1-n (or BEGIN GTID 0-1-n).
    let info = &g[5];
    let gtid = match info.split_once('\'') {
        Some((_, rest)) => rest.trim_end_matches('\'').to_string(),
        None => info.rsplit(' ').next().unwrap().to_string(),
    };
    (gtid, g[1].parse().unwrap())
}

fn find_time_names_where_a_replay_stops(flavor: Flavor) {
    let p = Server::start(flavor, "pitr");
    let (mut b, lport) = Binlogd::serving(&p, "pitr", "");
    // Known times: each statement's session sets its own.
    let t0: u64 = 1_900_000_000;
    p.sql(&format!("SET TIMESTAMP = {t0}; CREATE DATABASE pt; CREATE TABLE pt.t (id INT PRIMARY KEY)"));
    for i in 1..=3 {
        p.sql(&format!("SET TIMESTAMP = {}; INSERT INTO pt.t VALUES ({i})", t0 + 10 * i));
    }
    p.sql("FLUSH BINARY LOGS");
    p.sql(&format!("SET TIMESTAMP = {}; INSERT INTO pt.t VALUES (4)", t0 + 40));
    // The destructive statement, then more writes.
    p.sql(&format!("SET TIMESTAMP = {}; DROP TABLE pt.t", t0 + 50));
    p.sql(&format!("SET TIMESTAMP = {}; CREATE TABLE pt.u (id INT)", t0 + 60));
    p.sql("FLUSH BINARY LOGS");
    assert_rotated_identical(&p, &b);
    let logs = p.binary_logs();
    let second = logs[logs.len() - 2].clone();
    let (drop_gtid, drop_at) = gtid_before(&p, &second, "", "DROP TABLE");
    let (insert_gtid, _) = gtid_before(&p, &second, "Write_rows", "");

    // One second before the DROP: the replay stops just before it.
    let dir = b.binlog_dir.to_str().unwrap().to_string();
    let before = "2030-03-17 17:47:29"; // t0 + 49, UTC
    let j = binlogd(&["--find-time", &dir, before, "--json"]);
    // Just after the last transaction before the DROP (a MariaDB checkpoint event may
    // lie between them), and the DROP is the first transaction after the time.
    let stop_at = json_num(&j, "stop", "offset");
    assert_eq!(stop_at, json_num(&j, "last", "end"), "{j}");
    assert!(stop_at <= drop_at, "{j}");
    assert_eq!(json_num(&j, "next", "start"), drop_at, "{j}");
    assert_eq!(json_text(&j, "stop", "file"), second, "{j}");
    assert_eq!(json_text(&j, "next", "gtid"), drop_gtid, "{j}");
    assert_eq!(json_text(&j, "last", "gtid"), insert_gtid, "{j}");
    assert_eq!(json_num(&j, "next", "timestamp"), t0 + 50, "{j}");
    let first = logs[0].clone();
    assert!(j.contains(&format!("{{\"name\":\"{first}\"")) && j.contains(&format!("{{\"name\":\"{second}\"")), "{j}");
    // The same time with an offset, and as text.
    let text = binlogd(&["--find-time", &dir, "2030-03-17 19:47:29+02:00"]);
    assert!(text.contains(&format!("stop: {second} {stop_at}")), "{text}");

    // The DROP's GTID is found where it is.
    let j = binlogd(&["--find-gtid", &dir, &drop_gtid, "--json"]);
    assert_eq!((json_num(&j, "first", "start"), json_num(&j, "found", "found")), (drop_at, 1), "{j}");

    // mysqlbinlog reading from binlogd, stopped there, has the last insert and no DROP.
    let stop = format!("--stop-position={stop_at}");
    let replay = decoded(flavor, lport, &[&stop, &second]);
    assert!(replay.contains(&insert_gtid) && !replay.contains("DROP TABLE"), "{replay}");
    assert_eq!(b.stop(), 0);
}

#[test]
fn find_time_names_where_a_mariadb_replay_stops_before_a_destructive_statement() {
    find_time_names_where_a_replay_stops(Flavor::MariaDb);
}

#[test]
fn find_time_names_where_a_mysql_replay_stops_before_a_destructive_statement() {
    find_time_names_where_a_replay_stops(Flavor::Mysql);
}

/// Point-in-time recovery by replication, as a DBA does it: a logical backup with its
/// GTIDs; writes over several files, a DROP TABLE, more writes; binlogd archives every
/// closed file to S3 (moto) and purges it, so only S3 has what the recovery needs. A
/// fresh server loads the backup and replicates from binlogd until just before the
/// DROP (MySQL `UNTIL SQL_BEFORE_GTIDS`, MariaDB `UNTIL master_gtid_pos`), and ends as
/// the primary was then.
fn restored_from_a_backup_replicates_from_s3_to_just_before_a_drop(flavor: Flavor) {
    use crate::purge::{sh, Moto};
    use crate::serve::replica;
    let mysql = flavor == Flavor::Mysql;
    let moto = Moto::start();
    let aws = moto.aws();
    sh(&format!("{aws} s3 mb s3://pitr"));
    let s = Server::start(flavor, "pitr-repl");
    let (mut b, lport) = Binlogd::serving(
        &s,
        "pitr-repl",
        // Each closed file goes to S3 and, once there, out of binlog_dir (the space limit).
        &format!(
            "archive_command = {aws} s3 cp %p s3://pitr/%f\nrestore_command = {aws} s3 cp s3://pitr/%f %p\n\
             binlog_space_limit = 1K"
        ),
    );
    s.sql("CREATE DATABASE pr; CREATE TABLE pr.t (id INT PRIMARY KEY, v TEXT); INSERT INTO pr.t VALUES (1, 'a'), (2, 'b')");
    // The backup, with the GTIDs it holds.
    let (root, inner) = (s.root(), s.inner());
    let mut dump = if mysql {
        let mut c = Command::new("chroot");
        c.arg(sid_root()).args(["/usr/bin/mysqldump", "--no-defaults", "-uroot", &format!("-S{inner}/sock")]);
        c.args(["--single-transaction", "--source-data=2", "--set-gtid-purged=ON"]);
        c
    } else {
        let mut c = Command::new("mariadb-dump");
        c.args([
            "--no-defaults",
            "-uroot",
            &format!("-S{}/sock", root.display()),
            "--single-transaction",
            "--master-data=2",
            "--gtid",
        ]);
        c
    };
    let o = dump.args(["--databases", "pr"]).output().unwrap();
    assert!(o.status.success(), "dump: {}", String::from_utf8_lossy(&o.stderr));
    let backup = String::from_utf8_lossy(&o.stdout).into_owned();
    for i in 3..6 {
        s.sql(&format!("INSERT INTO pr.t VALUES ({i}, REPEAT('w', 1000)); FLUSH BINARY LOGS"));
    }
    // Known times from here on: the DROP at t0 + 20.
    let t0: u64 = 1_900_000_000;
    s.sql(&format!("SET TIMESTAMP = {}; UPDATE pr.t SET v = 'last before the drop' WHERE id = 1", t0 + 10));
    let before_drop = s.sql("CHECKSUM TABLE pr.t");
    s.sql(&format!("SET TIMESTAMP = {}; DROP TABLE pr.t", t0 + 20));
    s.sql(&format!(
        "SET TIMESTAMP = {}; CREATE TABLE pr.u (a INT); INSERT INTO pr.u VALUES (1); FLUSH BINARY LOGS",
        t0 + 30
    ));
    let logs = s.binary_logs();
    let last = logs.last().unwrap().clone();
    let (drop_gtid, _) = gtid_before(&s, &logs[logs.len() - 2], "", "DROP TABLE");
    let (update_gtid, _) = gtid_before(&s, &logs[logs.len() - 2], "Update_rows", "");
    // Only S3 has the files the recovery needs: the space limit purged them once archived.
    for n in &logs[..logs.len() - 1] {
        b.wait_log(&format!("archived {n}"), std::time::Duration::from_secs(60));
    }
    s.sql(&format!("SET TIMESTAMP = {}; INSERT INTO pr.u VALUES (2)", t0 + 40));
    wait_until("the archived files purged by the space limit", std::time::Duration::from_secs(60), || {
        b.index() == vec![last.clone()]
    });
    let dir = b.binlog_dir.to_str().unwrap().to_string();
    let j = binlogd(&["--find-gtid", &dir, &drop_gtid, "--json"]);
    assert!(j.contains("\"stored\":\"archive\"") && j.contains("\"missing\":\"\""), "{j}");

    // The restore: the backup, then replication from binlogd until the DROP.
    let r = replica(flavor, "pitr-restored", 2);
    r.sql(if mysql { "RESET BINARY LOGS AND GTIDS" } else { "RESET MASTER; SET GLOBAL gtid_slave_pos = ''" });
    r.sql(&backup);
    if mysql {
        r.sql(&format!(
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT={lport}, SOURCE_USER='repl', \
             SOURCE_PASSWORD='replpass', SOURCE_AUTO_POSITION=1, SOURCE_SSL=0, GET_SOURCE_PUBLIC_KEY=1"
        ));
        r.sql(&format!("START REPLICA UNTIL SQL_BEFORE_GTIDS = '{drop_gtid}'"));
    } else {
        // mariadb-dump --gtid set gtid_slave_pos to the backup's position.
        r.sql(&format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={lport}, MASTER_USER='repl', \
             MASTER_PASSWORD='replpass', MASTER_USE_GTID=slave_pos"
        ));
        r.sql(&format!("START SLAVE UNTIL master_gtid_pos = '{update_gtid}'"));
    }
    let status = if mysql { "SHOW REPLICA STATUS" } else { "SHOW SLAVE STATUS" };
    let sql_running = if mysql { "Replica_SQL_Running" } else { "Slave_SQL_Running" };
    wait_until("the restored server to reach the DROP", std::time::Duration::from_secs(90), || {
        r.status_row(status).get(sql_running).is_some_and(|v| v == "No")
    });
    let st = r.status_row(status);
    assert_eq!(st["Last_SQL_Errno"], "0", "{st:?}");
    assert_eq!(r.sql("CHECKSUM TABLE pr.t"), before_drop, "{st:?}\n{}", b.log_text());
    assert!(b.log_text().contains("restored "), "nothing was restored from S3");

    // The same by mysqlbinlog: --find-time names the archived file the stop is in, and
    // mysqlbinlog reads from binlogd, from the backup's position to one second before the
    // DROP, into another server restored from the backup.
    let j = binlogd(&["--find-time", &dir, "2030-03-17 17:46:59", "--json"]);
    let drop_file = logs[logs.len() - 2].clone();
    assert!(
        j.contains(&format!("\"stop\":{{\"file\":\"{drop_file}\",\"offset\":null,\"stored\":\"archive\"}}")),
        "{j}"
    );
    let at = |key: &str| -> String {
        let i = backup.find(key).unwrap_or_else(|| panic!("no {key} in the backup"));
        backup[i + key.len()..].chars().take_while(|c| *c != '\'' && *c != ',' && *c != ';').collect()
    };
    let (file, pos) = (at("_LOG_FILE='"), at("_LOG_POS="));
    let r2 = replica(flavor, "pitr-restored-2", 3);
    r2.sql(if mysql { "RESET BINARY LOGS AND GTIDS" } else { "RESET MASTER" });
    r2.sql(&backup);
    let mut c = if mysql {
        let mut c = Command::new("chroot");
        c.arg(sid_root()).args(["/usr/bin/mysqlbinlog", "--no-defaults"]);
        c
    } else {
        Command::new("mariadb-binlog")
    };
    let replay = c
        .env("TZ", "UTC")
        .args(["--read-from-remote-server", "--host=127.0.0.1", &format!("--port={lport}"), "--user=repl"])
        .args(["--password=replpass", "--to-last-log", &format!("--start-position={pos}")])
        .args(["--stop-datetime=2030-03-17 17:46:59", &file])
        .output()
        .unwrap();
    assert!(replay.status.success(), "mysqlbinlog: {}", String::from_utf8_lossy(&replay.stderr));
    pipe_into(&r2, &replay.stdout);
    assert_eq!(r2.sql("CHECKSUM TABLE pr.t"), before_drop, "{}", b.log_text());
    assert_eq!(b.stop(), 0);
}

/// Runs `sql` (a mysqlbinlog output, with its DELIMITER lines) through the server's own
/// client on its socket, as `mysqlbinlog ... | mysql` does.
fn pipe_into(r: &Server, sql: &[u8]) {
    use std::io::Write;
    let (root, inner) = (r.root(), r.inner());
    let mut c = if r.flavor == Flavor::Mysql {
        let mut c = Command::new("chroot");
        c.arg(sid_root()).args(["/usr/bin/mysql", "--no-defaults", "-uroot", &format!("-S{inner}/sock")]);
        c
    } else {
        let mut c = Command::new("mariadb");
        c.args(["--no-defaults", "-uroot", &format!("-S{}/sock", root.display())]);
        c
    };
    let mut child = c
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(sql).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "the replay failed: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_mysql_server_restored_from_a_backup_replicates_from_s3_to_just_before_a_drop() {
    restored_from_a_backup_replicates_from_s3_to_just_before_a_drop(Flavor::Mysql);
}

#[test]
fn a_mariadb_server_restored_from_a_backup_replicates_from_s3_to_just_before_a_drop() {
    restored_from_a_backup_replicates_from_s3_to_just_before_a_drop(Flavor::MariaDb);
}
