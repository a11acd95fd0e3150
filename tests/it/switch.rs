//! Repointing binlogd as a replica is repointed: `STOP SLAVE; CHANGE MASTER TO ...;
//! START SLAVE` (or the REPLICA spellings) from the mysql client, kept across restarts
//! in binlog_dir until RESET SLAVE ALL, with the errors a real replica gives.

use crate::harness::*;
use crate::serve::{point_replica, replica, start_replica, stop_replica, Follow};
use std::process::Command;
use std::time::Duration;

/// The client's error line without its "at line 1" (the mysql and mariadb clients
/// differ there): `ERROR n (state): message`.
fn error_line(stderr: &str) -> String {
    let l = stderr.lines().find_map(|l| l.find("ERROR ").map(|i| &l[i..])).unwrap_or(stderr).trim();
    match (l.split_once(" at line 1: "), l.split_once(": ")) {
        (Some((head, msg)), _) | (None, Some((head, msg))) => format!("{head}: {msg}"),
        _ => l.to_string(),
    }
}

fn binlogd_error(port: u16, sql: &str) -> String {
    let o = client(port, "replpass", sql);
    assert!(!o.status.success(), "{sql}: binlogd accepted it");
    error_line(&String::from_utf8_lossy(&o.stderr))
}

fn binlogd_ok(port: u16, sql: &str) {
    let o = client(port, "replpass", sql);
    assert!(o.status.success(), "{sql}: {}", String::from_utf8_lossy(&o.stderr));
}

/// The statements of `flavor`'s dialect: (SLAVE or REPLICA, CHANGE ... TO, option prefix).
fn dialect(flavor: Flavor) -> (&'static str, &'static str, &'static str) {
    match flavor {
        Flavor::Mysql => ("REPLICA", "CHANGE REPLICATION SOURCE TO", "SOURCE"),
        _ => ("SLAVE", "CHANGE MASTER TO", "MASTER"),
    }
}

fn repointed_as_a_replica_is(flavor: Flavor) {
    let p = Server::start(flavor, "sw-primary");
    let (mut b, port) = Binlogd::serving(&p, "sw", "");
    let (verb, change, o) = dialect(flavor);
    p.sql("CREATE DATABASE sw; CREATE TABLE sw.t (id INT PRIMARY KEY); INSERT INTO sw.t VALUES (1)");
    // Another server: a real replica of the primary, running.
    let other = replica(flavor, "sw-other", 2);
    let first = p.binary_logs()[0].clone();
    point_replica(&other, p.port, Follow::FilePos, None, &first);
    start_replica(&other);
    other.wait_same(&p.sql("CHECKSUM TABLE sw.t"), "CHECKSUM TABLE sw.t", "the other server following", &b);

    // While mirroring runs, the statements are refused as a running replica refuses them.
    for sql in [format!("{change} {o}_PORT = {}", other.port), format!("RESET {verb} ALL")] {
        let real = error_line(&other.sql_result(&sql).expect_err("the running replica accepted it"));
        assert_eq!(binlogd_error(port, &sql), real, "{flavor:?} {sql}");
    }
    other.sql(&format!("STOP {verb}"));
    // It lags now: binlogd holds a commit it lacks.
    p.sql("INSERT INTO sw.t VALUES (10)");

    // An unknown option, a bad value or one binlogd lacks changes nothing.
    binlogd_ok(port, &format!("STOP {verb}"));
    let status = format!("SHOW {verb} STATUS");
    let before = binlogd_row(port, &status);
    for (sql, code) in [
        (format!("{change} {o}_HOSTNAME = 'x'"), "1064"),
        (format!("{change} {o}_PORT = 'x'"), "1064"),
        (format!("{change} {o}_PORT = 0"), "1210"),
        (format!("{change} {o}_SSL = 7"), "1210"),
        (format!("{change} {o}_HOST = 'x', {o}_DELAY = 5"), "1235"),
        // MySQL's channels; MariaDB's named connections, which FOR CHANNEL names.
        (format!("{change} {o}_PORT = 1 FOR CHANNEL 'nosuch'"), if flavor == Flavor::Mysql { "3074" } else { "1617" }),
    ] {
        let e = binlogd_error(port, &sql);
        assert!(e.starts_with(&format!("ERROR {code} ")), "{sql}: {e}");
    }
    assert_eq!(binlogd_row(port, &status), before, "a refused change changed something");
    assert!(!b.binlog_dir.join("binlogd.source").exists());

    // A failover manager's dialogue: the other server, with the user and password kept.
    let files_before = b.index();
    let sizes = |b: &Binlogd| -> Vec<u64> {
        b.index().iter().map(|f| std::fs::metadata(b.binlog_dir.join(f)).map(|m| m.len()).unwrap_or(0)).collect()
    };
    let sizes_before = sizes(&b);
    binlogd_ok(port, &format!("{change} {o}_HOST = '127.0.0.1', {o}_PORT = {}; START {verb}", other.port));
    let (host, port_col, user) = if flavor == Flavor::Mysql {
        ("Source_Host", "Source_Port", "Source_User")
    } else {
        ("Master_Host", "Master_Port", "Master_User")
    };
    let row = binlogd_row(port, &status);
    assert_eq!((row[host].as_str(), row[port_col].as_str()), ("127.0.0.1", other.port.to_string().as_str()));
    assert_eq!(row[user], "repl", "options not named keep their values");
    // A server lacking what binlogd holds is not followed.
    wait_until("binlogd to refuse the other server", Duration::from_secs(60), || {
        binlogd_row(port, &status).get("Last_IO_Errno").is_some_and(|e| e != "0")
    });
    assert_eq!((b.index(), sizes(&b)), (files_before.clone(), sizes_before.clone()), "{}", b.log_text());
    let kept = b.binlog_dir.join("binlogd.source");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!std::fs::read_to_string(&kept).unwrap().contains("binlogd.cnf"));

    // The settings outlive a crash, over the cnf's.
    b.kill9();
    b.start();
    b.wait_log("overrides the cnf", Duration::from_secs(20));
    wait_until("binlogd to serve again", Duration::from_secs(20), || {
        binlogd_row(port, &status).get(port_col) == Some(&other.port.to_string())
    });

    // RESET SLAVE ALL: the cnf's primary again, mirrored on from where binlogd stopped.
    binlogd_ok(port, &format!("STOP {verb}; RESET {verb} ALL; START {verb}"));
    assert!(!kept.exists());
    wait_semisync_client(&p, &b);
    p.sql("INSERT INTO sw.t VALUES (2); FLUSH BINARY LOGS");
    assert!(assert_rotated_identical(&p, &b) >= 1);

    // The same primary by GTID, named in full as a manager names it.
    let by_gtid = if flavor == Flavor::Mysql { "SOURCE_AUTO_POSITION = 1" } else { "MASTER_USE_GTID = slave_pos" };
    binlogd_ok(
        port,
        &format!(
            "STOP {verb}; {change} {o}_HOST = '127.0.0.1', {o}_PORT = {}, {o}_USER = 'repl', {o}_PASSWORD = 'replpass', \
             {by_gtid}; START {verb}",
            p.port
        ),
    );
    wait_semisync_client(&p, &b);
    p.sql("INSERT INTO sw.t VALUES (3); FLUSH BINARY LOGS");
    assert!(assert_rotated_identical(&p, &b) >= 2);
    let row = binlogd_row(port, &status);
    if flavor == Flavor::Mysql {
        assert_eq!(row["Auto_Position"], "1", "{row:?}");
        assert_eq!(row["Source_UUID"], p.sql("SELECT @@server_uuid").trim());
    } else {
        assert_eq!(row["Using_Gtid"], "Slave_Pos", "{row:?}");
    }
    assert_eq!(p.semi_status("no_tx"), "0");
    assert_eq!(b.stop(), 0);
}

#[test]
fn a_mariadb_binlogd_is_repointed_as_a_replica_is() {
    repointed_as_a_replica_is(Flavor::MariaDb);
}

#[test]
fn a_mysql_binlogd_is_repointed_as_a_replica_is() {
    repointed_as_a_replica_is(Flavor::Mysql);
}

/// Each statement's outcome in one session on `port` as repl, one line each: its
/// error, or OK with its rows, their column types and the warnings it raised
/// (pymysql, as a failover manager reads them).
fn outcomes<S: AsRef<std::ffi::OsStr>>(port: u16, statements: &[S]) -> Vec<String> {
    const BODY: &str = r#"
for q in sys.argv[2:]:
    try:
        cur.execute(q)
        rows, types, w = cur.fetchall(), [d[1] for d in cur.description or ()], ()
        if cur._result.warning_count:
            cur.execute("SHOW WARNINGS")
            w = cur.fetchall()
        print(q, "=> OK", rows, types, w)
    except pymysql.MySQLError as e:
        print(q, "=>", e.args)
"#;
    pymysql(port, BODY, statements).lines().map(str::to_string).collect()
}

/// START/STOP SLAVE (REPLICA) in their forms: notes, other connections and channels,
/// thread types, syntax errors, sent to binlogd and to a real replica of the same
/// primary, in the same order, leave the same outcomes.
fn control_statements_answered_as_a_replica_answers_them(flavor: Flavor) {
    let p = Server::start(flavor, "ctl-primary");
    let (mut b, port) = Binlogd::serving(&p, "ctl", "");
    let r = replica(flavor, "ctl-replica", 2);
    point_replica(&r, p.port, Follow::FilePos, None, &p.binary_logs()[0]);
    start_replica(&r);
    r.sql("GRANT ALL ON *.* TO 'repl'@'%'");
    let statements: &[&str] = if flavor == Flavor::Mysql {
        &[
            "STOP REPLICA",
            "STOP REPLICA",
            "START REPLICA",
            "START REPLICA",
            "STOP REPLICA FOR CHANNEL 'x'",
            "START REPLICA FOR CHANNEL 'x'",
            "START REPLICA FOR CHANNEL ''",
            "START REPLICA IO_THREAD, SQL_THREAD",
            "STOP REPLICA IO_THREAD FOR CHANNEL 'x'",
            "START REPLICA 'x'",
            "START REPLICA nonsense",
            "STOP REPLICA nonsense",
            "STOP REPLICA IO_THREAD SQL_THREAD",
            "STOP REPLICA IO_THREAD,",
            "START REPLICA UNTIL nonsense",
            "START REPLICA UNTIL SOURCE_LOG_POS",
            "START REPLICA FOR CHANNEL 'x' USER='x'",
            "START REPLICA USER='x' FOR CHANNEL 'x'",
            "START REPLICA UNTIL SQL_AFTER_MTS_GAPS FOR CHANNEL 'x'",
            "RESET REPLICA FOR CHANNEL 'x'",
            "RESET REPLICA ALL FOR CHANNEL 'x'",
            "STOP ALL REPLICAS",
            "START SLAVE",
        ]
    } else {
        &[
            "STOP SLAVE",
            "STOP SLAVE",
            "START SLAVE",
            "START SLAVE",
            "STOP SLAVE 'x'",
            "START SLAVE 'x' IO_THREAD",
            "START SLAVE ''",
            "STOP SLAVE FOR CHANNEL 'x'",
            "START SLAVE FOR CHANNEL ''",
            "STOP SLAVE '' FOR CHANNEL 'x'",
            "START SLAVE IO_THREAD, SQL_THREAD",
            "START SLAVE USER='x'",
            "START SLAVE nonsense",
            "STOP SLAVE IO_THREAD SQL_THREAD",
            "START SLAVE UNTIL nonsense",
            "START SLAVE UNTIL MASTER_LOG_POS",
            "STOP SLAVE IO_THREAD,",
            "START SLAVE IO_THREAD",
            "STOP ALL SLAVES",
            "STOP ALL SLAVES",
            "START ALL SLAVES",
            "START ALL SLAVES",
            "START ALL SLAVES 'x'",
            "START ALL SLAVES FOR CHANNEL ''",
            "RESET SLAVE 'x'",
            "RESET SLAVE 'x' ALL",
            "RESET SLAVE ALL 'x'",
            "RESET SLAVE FOR CHANNEL 'x'",
            "START REPLICA 'x'",
        ]
    };
    assert_eq!(outcomes(port, statements), outcomes(r.port, statements), "{flavor:?}");

    // What binlogd cannot do as a replica does is refused, saying why; the SQL thread
    // it lacks is always stopped.
    let (verb, _, o) = dialect(flavor);
    let refused = |sql: &str, says: &str| {
        let e = binlogd_error(port, sql);
        assert!(e.starts_with("ERROR 1235") && e.contains(says), "{sql}: {e}");
    };
    refused(&format!("START {verb} UNTIL {o}_LOG_FILE = 'x.000001', {o}_LOG_POS = 4"), "UNTIL");
    refused(&format!("START {verb} SQL_THREAD"), "no SQL thread");
    let stopped = outcomes(port, &[&format!("STOP {verb} SQL_THREAD")]);
    assert!(stopped[0].contains("=> OK") && stopped[0].contains("already"), "{stopped:?}");
    if flavor == Flavor::Mysql {
        refused("START REPLICA USER = 'u' PASSWORD = 'p'", "USER, PASSWORD");
    } else {
        refused("CHANGE MASTER 'x' TO MASTER_CONNECT_RETRY = 60", "connection 'x'");
        binlogd_ok(port, "STOP SLAVE");
        binlogd_ok(port, "CHANGE MASTER '' TO MASTER_CONNECT_RETRY = 60");
        binlogd_ok(port, "START SLAVE");
    }
    // Still mirroring: a commit is stored as the primary wrote it.
    p.sql("CREATE DATABASE ctl; FLUSH BINARY LOGS");
    let m = rotated_md5s(&p, &b);
    assert!(!m.is_empty() && m.values().all(|(a, z)| a == z), "{m:?}");
    assert_eq!(b.stop(), 0);
}

#[test]
fn mariadb_control_statements_are_answered_as_a_replica_answers_them() {
    control_statements_answered_as_a_replica_answers_them(Flavor::MariaDb);
}

#[test]
fn mariadb11_control_statements_are_answered_as_a_replica_answers_them() {
    control_statements_answered_as_a_replica_answers_them(Flavor::MariaDb11);
}

#[test]
fn mysql_control_statements_are_answered_as_a_replica_answers_them() {
    control_statements_answered_as_a_replica_answers_them(Flavor::Mysql);
}

/// MASTER_GTID_WAIT (MariaDB) and WAIT_FOR_EXECUTED_GTID_SET (MySQL): binlogd, whose
/// executed transactions are those it stored, answers as a caught-up replica of the
/// same primary answers; and a wait for a transaction not yet committed ends when
/// binlogd has stored it.
fn gtid_waits_answered_as_a_replica_answers_them(flavor: Flavor) {
    let p = Server::start(flavor, "wait-primary");
    let (mut b, port) = Binlogd::serving(&p, "wait", "");
    let r = replica(flavor, "wait-replica", 2);
    p.sql("CREATE DATABASE w; CREATE TABLE w.t (id INT PRIMARY KEY); INSERT INTO w.t VALUES (1)");
    point_replica(&r, p.port, Follow::Gtid, None, "");
    start_replica(&r);
    r.wait_same(&p.sql("CHECKSUM TABLE w.t"), "CHECKSUM TABLE w.t", "the replica following", &b);
    r.sql("GRANT ALL ON *.* TO 'repl'@'%'");
    wait_active_mirrored(&p, &b);
    let (statements, next): (Vec<String>, String) = if flavor == Flavor::Mysql {
        let have = p.sql("SELECT @@gtid_executed").trim().replace('\n', "");
        let (uuid, range) = have.split_once(':').unwrap();
        let last: u64 = range.rsplit('-').next().unwrap().parse().unwrap();
        let f = "WAIT_FOR_EXECUTED_GTID_SET";
        (
            vec![
                format!("SELECT {f}('{have}', 1)"),
                format!("SELECT {f}('{uuid}:1-{}', 0.2)", last + 5),
                format!("SELECT {f}('', 1)"),
                format!("SELECT {f}('')"),
                format!("SELECT {f}('junk', 1)"),
                format!("SELECT {f}(NULL, 1)"),
                format!("SELECT {f}('', -1)"),
                format!("SELECT {f}('', NULL)"),
                format!("SELECT {f}('{have}', 1e40)"),
                format!("SELECT {f}()"),
            ],
            format!("SELECT {f}('{uuid}:{}', 60)", last + 1),
        )
    } else {
        let have = p.sql("SELECT @@gtid_binlog_pos").trim().to_string();
        let (ds, seq) = have.rsplit_once('-').unwrap();
        let seq: u64 = seq.parse().unwrap();
        let f = "MASTER_GTID_WAIT";
        (
            vec![
                format!("SELECT {f}('{have}', 1)"),
                format!("SELECT {f}('{ds}-{}', 0.2)", seq + 5),
                format!("SELECT {f}('{ds}-{}', 0)", seq + 5),
                format!("SELECT {f}('')"),
                format!("SELECT {f}('{have}')"),
                format!("SELECT {f}('{have}', -1)"),
                format!("SELECT {f}('junk', 1)"),
                format!("SELECT {f}(NULL, 1)"),
                format!("SELECT {f}('{have}', 1e40)"),
                format!("SELECT {f}()"),
            ],
            format!("SELECT {f}('{ds}-{}', 60)", seq + 1),
        )
    };
    // By file and position: the primary's end, which binlogd has stored and the
    // replica executed.
    let end = p.sql(if flavor == Flavor::Mysql { "SHOW BINARY LOG STATUS" } else { "SHOW MASTER STATUS" });
    let end: Vec<&str> = end.split('\t').collect();
    let (file, pos) = (end[0], end[1].trim());
    let (base, n) = file.rsplit_once('.').unwrap();
    let next_file = format!("{base}.{:06}", n.parse::<u64>().unwrap() + 1);
    let mut statements = statements;
    for f in if flavor == Flavor::Mysql { &["SOURCE_POS_WAIT"][..] } else { &["MASTER_POS_WAIT"][..] } {
        for args in [
            format!("'{file}', {pos}, 1"),
            format!("'{file}', 4, 1"),
            format!("'{file}', {}, 1", pos.parse::<u64>().unwrap() + 100_000),
            format!("'{next_file}', 4, 1.4"),
            format!("'{base}', 4, 1"),
            "'zzz.000001', 4, 1".to_string(),
            format!("'{file}', -4, 1"),
            "NULL, 4, 1".to_string(),
            format!("'{file}', NULL, 1"),
            format!("'{file}', '{pos}', 1"),
            format!("'{file}', 4, 1, ''"),
            format!("'{file}'"),
        ] {
            statements.push(format!("SELECT {f}({args})"));
        }
    }
    assert_eq!(outcomes(port, &statements), outcomes(r.port, &statements), "{flavor:?}");
    // A wait for the next transaction, which the primary commits while it waits.
    let shown = next.get(..24).unwrap_or_default().to_string();
    let waiting = std::thread::spawn(move || outcomes(port, &[next]));
    wait_until("the wait to begin", Duration::from_secs(10), || {
        String::from_utf8_lossy(&client(port, "replpass", "SHOW PROCESSLIST").stdout).contains(&shown)
    });
    p.sql("INSERT INTO w.t VALUES (2)");
    let got = waiting.join().unwrap();
    assert!(got[0].contains("=> OK ((0,),) ["), "{got:?}");
    // KILL QUERY ends a wait with ERROR 1317 and leaves its connection, on binlogd as on
    // the replica.
    let never = statements[1].replace("0.2)", "3600)");
    let interrupted = |port: u16| {
        let (stmt, shown) = (never.clone(), never.get(..24).unwrap_or_default().to_string());
        let waiting = std::thread::spawn(move || outcomes(port, &[stmt, "SELECT 1".to_string()]));
        let mut id = String::new();
        wait_until("the wait to begin", Duration::from_secs(10), || {
            let list = String::from_utf8_lossy(&client(port, "replpass", "SHOW PROCESSLIST").stdout).into_owned();
            id = list.lines().find(|l| l.contains(&shown)).and_then(|l| l.split('\t').next()).unwrap_or("").into();
            !id.is_empty()
        });
        assert!(client(port, "replpass", &format!("KILL QUERY {id}")).status.success());
        waiting.join().unwrap()
    };
    let (mine, theirs) = (interrupted(port), interrupted(r.port));
    assert!(mine[0].contains("1317"), "{mine:?}");
    assert_eq!(mine, theirs);
    assert_eq!(b.stop(), 0);
}

#[test]
fn mariadb_gtid_waits_are_answered_as_a_replica_answers_them() {
    gtid_waits_answered_as_a_replica_answers_them(Flavor::MariaDb);
}

#[test]
fn mysql_gtid_waits_are_answered_as_a_replica_answers_them() {
    gtid_waits_answered_as_a_replica_answers_them(Flavor::Mysql);
}

/// A replica promoted before it took what binlogd holds would fork binlogd's history:
/// binlogd names the transactions it lacks, appends nothing and keeps serving.
fn a_source_lacking_stored_transactions_is_refused(flavor: Flavor) {
    let p = Server::start(flavor, "fork-primary");
    let (mut b, port) = Binlogd::serving(&p, "fork", "");
    let (verb, change, o) = dialect(flavor);
    p.sql("CREATE DATABASE fk; CREATE TABLE fk.t (id INT PRIMARY KEY); INSERT INTO fk.t VALUES (1)");
    let r = replica(flavor, "fork-replica", 2);
    let first = p.binary_logs()[0].clone();
    point_replica(&r, p.port, Follow::Gtid, None, &first);
    start_replica(&r);
    r.wait_same(&p.sql("CHECKSUM TABLE fk.t"), "CHECKSUM TABLE fk.t", "the replica following", &b);
    // The replica lags; the primary commits on, each commit acknowledged by binlogd.
    r.sql(&format!("STOP {verb} IO_THREAD"));
    for i in 2..5 {
        p.sql(&format!("INSERT INTO fk.t VALUES ({i})"));
    }
    assert_eq!(p.semi_status("no_tx"), "0");
    // Each commit returned once binlogd acknowledged it: it is in binlogd's files.
    let sizes = |b: &Binlogd| -> Vec<(String, u64)> {
        b.index().into_iter().map(|f| (f.clone(), std::fs::metadata(b.binlog_dir.join(&f)).unwrap().len())).collect()
    };
    let before = sizes(&b);

    // Promoted without compensation, and binlogd pointed at it.
    binlogd_ok(port, &format!("STOP {verb}; {change} {o}_PORT = {}; START {verb}", r.port));
    let status = format!("SHOW {verb} STATUS");
    let mut err = String::new();
    wait_until("binlogd to refuse the fork", Duration::from_secs(60), || {
        err = binlogd_row(port, &status).get("Last_IO_Error").cloned().unwrap_or_default();
        err.contains("lacks transactions binlogd stored")
    });
    let lacking = if flavor == Flavor::Mysql {
        let uuid = p.sql("SELECT @@server_uuid").trim().to_string();
        format!("{uuid}:")
    } else {
        "domain 0 up to 0-1-".to_string()
    };
    assert!(err.contains(&lacking), "{err}");
    assert!(b.log_text().contains("lacks transactions binlogd stored"));
    assert_eq!(sizes(&b), before, "nothing is appended from a source that forks the history");
    // Still serving what it stored.
    assert_eq!(binlogd_binlog_status(port, flavor)["File"], before.last().unwrap().0);

    // Compensated from binlogd (the README's steps), the promoted server holds what
    // binlogd stored, and binlogd, retrying on its own, follows it.
    stop_replica(&r, "");
    point_replica(&r, port, Follow::Gtid, None, "");
    start_replica(&r);
    r.wait_same(&p.sql("CHECKSUM TABLE fk.t"), "CHECKSUM TABLE fk.t", "compensation from binlogd", &b);
    stop_replica(&r, "");
    r.sql(&format!("RESET {verb} ALL"));
    semisync_source(&r, true);
    b.wait_log("which holds every transaction binlogd stored", Duration::from_secs(60));
    wait_semisync_client(&r, &b);
    r.sql("INSERT INTO fk.t VALUES (100)");
    assert_eq!(r.semi_status("no_tx"), "0", "{}", b.log_text());
    assert!(b.index().iter().any(|f| f.starts_with("source-2/")), "{:?}", b.index());
    assert_eq!(sizes(&b)[..before.len()], before[..], "the first source's files are untouched");
    // A fresh replica reads the whole history, across the fork that was refused.
    let fresh = replica(flavor, "fork-fresh", 3);
    point_replica(&fresh, port, Follow::Gtid, None, "");
    start_replica(&fresh);
    fresh.wait_same(&r.sql("CHECKSUM TABLE fk.t"), "CHECKSUM TABLE fk.t", "the whole history", &b);
    assert_eq!(b.stop(), 0);
}

#[test]
fn a_mariadb_source_lacking_what_binlogd_stored_is_refused() {
    a_source_lacking_stored_transactions_is_refused(Flavor::MariaDb);
}

#[test]
fn a_mariadb11_source_lacking_what_binlogd_stored_is_refused() {
    a_source_lacking_stored_transactions_is_refused(Flavor::MariaDb11);
}

#[test]
fn a_mysql_source_lacking_what_binlogd_stored_is_refused() {
    a_source_lacking_stored_transactions_is_refused(Flavor::Mysql);
}

/// `n` commits of `tag` on `s`, each returning once semisync was acknowledged.
fn commits(s: &Server, tag: &str, n: usize) {
    let values: Vec<String> = (0..n).map(|i| format!("INSERT INTO so.t (v) VALUES ('{tag}-{i}')")).collect();
    s.sql(&values.join("; "));
}

fn semisync_source(s: &Server, on: bool) {
    let v = if s.flavor == Flavor::Mysql { "rpl_semi_sync_source_enabled" } else { "rpl_semi_sync_master_enabled" };
    s.sql(&format!("SET GLOBAL {v} = {}", if on { "ON" } else { "OFF" }));
}

/// A planned switchover: the primary goes read-only, its replica catches up and is
/// promoted, binlogd is repointed through the mysql client, and the old primary
/// follows the new one. binlogd acknowledges the new primary's commits, keeps its
/// files byte for byte in a directory of their own, and serves the whole history.
fn a_switchover_continues_the_history(flavor: Flavor) {
    let a = Server::start(flavor, "so-a");
    let nb = replica(flavor, "so-b", 2);
    point_replica(&nb, a.port, Follow::Gtid, None, "");
    start_replica(&nb);
    let mport = free_port();
    let arch = crate::harness::tempdir("so-archive");
    let archive = format!("mkdir -p {0}/$(dirname %f) && cp %p {0}/%f", arch.display());
    let (mut b, port) = Binlogd::serving(
        &a,
        "so",
        &format!("metrics_address = 127.0.0.1\nmetrics_port = {mport}\narchive_command = {archive}"),
    );
    let (verb, change, o) = dialect(flavor);
    a.sql("CREATE DATABASE so; CREATE TABLE so.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(50))");
    commits(&a, "a", 20);
    a.sql("FLUSH BINARY LOGS");
    commits(&a, "a2", 5);
    let first_files = b.index();

    // The switchover.
    a.sql("SET GLOBAL read_only = ON");
    nb.wait_same(&a.sql("CHECKSUM TABLE so.t"), "CHECKSUM TABLE so.t", "the replica catching up", &b);
    stop_replica(&nb, "");
    nb.sql(&format!("RESET {verb} ALL"));
    semisync_source(&nb, true);
    binlogd_ok(port, &format!("STOP {verb}; {change} {o}_PORT = {}; START {verb}", nb.port));
    wait_semisync_client(&nb, &b);
    semisync_source(&a, false);
    point_replica(&a, nb.port, Follow::Gtid, None, "");
    start_replica(&a);

    // Load on the new primary, each commit acknowledged by binlogd.
    commits(&nb, "b", 20);
    nb.sql("FLUSH BINARY LOGS");
    commits(&nb, "b2", 5);
    assert_eq!(nb.semi_status("no_tx"), "0", "{}", b.log_text());
    b.wait_log("following a new source", Duration::from_secs(20));
    a.wait_same(&nb.sql("CHECKSUM TABLE so.t"), "CHECKSUM TABLE so.t", "the old primary following", &b);

    // The first source's files are untouched; the new one's are its own, byte for byte.
    let idx = b.index();
    assert_eq!(idx[..first_files.len()], first_files[..], "{idx:?}");
    let second: Vec<&String> = idx.iter().filter(|f| f.starts_with("source-2/")).collect();
    assert!(second.len() >= 2, "{idx:?}");
    let logs = nb.binary_logs();
    let rotated = &logs[..logs.len() - 1];
    let ndir = nb.binlog_dir();
    wait_until("binlogd to hold the new primary's rotated files", Duration::from_secs(30), || {
        second.iter().filter(|f| rotated.iter().any(|r| f.ends_with(&format!("/{r}")))).all(|f| {
            let name = &f["source-2/".len()..];
            std::fs::metadata(b.binlog_dir.join(f)).map(|m| m.len()).ok()
                == std::fs::metadata(ndir.join(name)).map(|m| m.len()).ok()
        })
    });
    let mut compared = 0;
    for f in &second {
        let name = &f["source-2/".len()..];
        if rotated.iter().any(|r| r == name) {
            assert_eq!(md5_file(&b.binlog_dir.join(f)), md5_file(&ndir.join(name)), "{f}");
            compared += 1;
        }
    }
    assert!(compared >= 1, "{second:?} {rotated:?}");
    let who = std::fs::read_to_string(b.binlog_dir.join("source-2/binlogd.primary")).unwrap();
    assert!(who.contains(&format!("127.0.0.1:{}", nb.port)), "{who}");

    // Clients see the current primary's names, and the first source's qualified.
    let listed = client(port, "replpass", "SHOW BINARY LOGS");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains(&format!("source-1.{}", first_files[0])), "{listed}");
    assert_eq!(binlogd_binlog_status(port, flavor)["File"], *logs.last().unwrap());

    // The whole history, read by GTID from an empty state by a fresh replica.
    let fresh = replica(flavor, "so-fresh", 3);
    point_replica(&fresh, port, Follow::Gtid, None, "");
    start_replica(&fresh);
    fresh.wait_same(&nb.sql("CHECKSUM TABLE so.t"), "CHECKSUM TABLE so.t", "the whole history", &b);
    assert_eq!(fresh.sql("SELECT COUNT(*) FROM so.t").trim(), "50");

    // And a replica by file and position, from the first file, across the switch.
    let byname = replica(flavor, "so-byname", 4);
    point_replica(&byname, port, Follow::FilePos, None, &format!("source-1.{}", first_files[0]));
    start_replica(&byname);
    byname.wait_same(&nb.sql("CHECKSUM TABLE so.t"), "CHECKSUM TABLE so.t", "file and position across", &b);

    if flavor != Flavor::MariaDb11 {
        // mysqlbinlog (mariadb-binlog for MariaDB; 10.11's knows no 11.8 server) reads
        // an old source's file, and the new one's, byte for byte.
        let f = &second[0];
        for (asked, stored) in [
            (format!("source-1.{}", first_files[0]), first_files[0].clone()),
            (f["source-2/".len()..].to_string(), f.to_string()),
        ] {
            let got = raw_read(flavor, port, &asked);
            assert_eq!(md5_file(&got), md5_file(&b.binlog_dir.join(&stored)), "{asked}");
        }
    }

    // Metrics count the whole history.
    let (body, _) = curl(&format!("http://127.0.0.1:{mport}/metrics"));
    assert_eq!(metric(&body, "binlogd_sources"), 2.0);
    assert_eq!(metric(&body, "binlogd_binlog_files"), b.index().len() as f64);

    // --verify follows the GTIDs across the sources.
    assert!(verify(&b).contains("source 2 begins"));

    // Every closed file of both sources is archived, a later source's under its
    // directory; a purge then runs over the whole history, the first source's first.
    let current = logs.last().unwrap().clone();
    let closed: Vec<String> = b.index().into_iter().filter(|f| *f != format!("source-2/{current}")).collect();
    wait_until("every closed file archived", Duration::from_secs(30), || closed.iter().all(|f| arch.join(f).exists()));
    for f in &closed {
        assert_eq!(md5_file(&arch.join(f)), md5_file(&b.binlog_dir.join(f)), "{f}");
    }
    binlogd_ok(port, &format!("PURGE BINARY LOGS TO '{current}'"));
    assert_eq!(b.index()[0], format!("source-2/{current}"), "{:?}", b.index());
    assert!(!b.binlog_dir.join(&first_files[0]).exists());
    assert_eq!(b.stop(), 0);
    b.start();
    wait_semisync_client(&nb, &b);
    commits(&nb, "c", 3);
    assert_eq!(nb.semi_status("no_tx"), "0", "{}", b.log_text());
    let listed = client(port, "replpass", "SHOW BINARY LOGS");
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&current));

    assert_eq!(b.stop(), 0);
    assert!(verify(&b).contains("OK: "));
}

/// One file read from binlogd by `mysqlbinlog --read-from-remote-server --raw` (MySQL's,
/// in its chroot, or mariadb-binlog), named as asked: where its copy lies.
fn raw_read(flavor: Flavor, port: u16, asked: &str) -> std::path::PathBuf {
    let inner = format!("/var/tmp/binlogd-switch-raw-{}-{port}", std::process::id());
    let (out, mut c) = if flavor == Flavor::Mysql {
        let mut c = Command::new("chroot");
        c.arg(sid_root()).arg("/usr/bin/mysqlbinlog");
        (std::path::PathBuf::from(format!("{}{inner}", sid_root().display())), c)
    } else {
        (std::path::PathBuf::from(&inner), Command::new("mariadb-binlog"))
    };
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let st = c
        .args(["--no-defaults", "--read-from-remote-server", "--host=127.0.0.1", &format!("--port={port}")])
        .args(["--user=repl", "--password=replpass", "--raw", &format!("--result-file={inner}/"), asked])
        .output()
        .unwrap();
    assert!(st.status.success(), "{asked}: {}", String::from_utf8_lossy(&st.stderr));
    out.join(asked)
}

/// `binlogd --verify` over binlogd's directory: its report, which must say OK.
fn verify(b: &Binlogd) -> String {
    let out = Command::new(binlogd_bin()).args(["--verify", b.binlog_dir.to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    text
}

#[test]
fn a_mariadb_switchover_continues_the_history() {
    a_switchover_continues_the_history(Flavor::MariaDb);
}

#[test]
fn a_mariadb11_switchover_continues_the_history() {
    a_switchover_continues_the_history(Flavor::MariaDb11);
}

#[test]
fn a_mysql_switchover_continues_the_history() {
    a_switchover_continues_the_history(Flavor::Mysql);
}

/// The old primary rejoins as a replica of the new one, by GTID from its own state.
fn rejoin(old: &Server, new: &Server) {
    semisync_source(old, false);
    point_replica(old, new.port, Follow::Gtid, None, "");
    if old.flavor != Flavor::Mysql {
        // A former primary's position is its binlog's (as MariaDB's own failover test,
        // rpl_semi_sync_fail_over, rejoins it).
        old.sql("SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_binlog_pos");
    }
    start_replica(old);
}

/// Waits until `s` holds at least `n` rows of so.t; returns how many it holds.
fn wait_count(s: &Server, n: usize, what: &str) -> usize {
    let t = std::time::Instant::now();
    loop {
        let got: usize = s.sql("SELECT COUNT(*) FROM so.t").trim().parse().unwrap_or(0);
        if got >= n {
            return got;
        }
        let status = if s.flavor == Flavor::Mysql { "SHOW REPLICA STATUS" } else { "SHOW SLAVE STATUS" };
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "{what}: {got} rows, not {n}; replication: {:?}",
            s.status_row(status)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn kill9_server(s: &Server) {
    let dir = s.dir.to_str().unwrap();
    assert!(Command::new(repo().join("scripts/server.sh")).args(["kill", dir]).status().unwrap().success());
}

/// What binlogd holds, as the README's compensation steps read it: MySQL's
/// Executed_Gtid_Set, MariaDB's Gtid_IO_Pos.
fn binlogd_gtids(port: u16, flavor: Flavor) -> String {
    if flavor == Flavor::Mysql {
        binlogd_binlog_status(port, flavor)["Executed_Gtid_Set"].replace('\n', "")
    } else {
        binlogd_row(port, "SHOW SLAVE STATUS")["Gtid_IO_Pos"].clone()
    }
}

/// A lagging replica is compensated from binlogd (the README's steps: point it at
/// binlogd, wait for binlogd's GTIDs) and promoted.
fn compensate_and_promote(r: &Server, port: u16) {
    let verb = if r.flavor == Flavor::Mysql { "REPLICA" } else { "SLAVE" };
    stop_replica(r, "");
    point_replica(r, port, Follow::Gtid, None, "");
    if r.flavor != Flavor::Mysql {
        r.sql("CHANGE MASTER TO MASTER_USE_GTID = current_pos");
    }
    start_replica(r);
    let held = binlogd_gtids(port, r.flavor);
    let wait = if r.flavor == Flavor::Mysql {
        format!("SELECT WAIT_FOR_EXECUTED_GTID_SET('{held}', 60)")
    } else {
        format!("SELECT MASTER_GTID_WAIT('{held}', 60)")
    };
    let got = r.sql(&wait);
    let status = if r.flavor == Flavor::Mysql { "SHOW REPLICA STATUS" } else { "SHOW SLAVE STATUS" };
    assert_eq!(got.trim(), "0", "{wait}: {:?}\nbinlogd log:\n{}", r.status_row(status), port);
    stop_replica(r, "");
    r.sql(&format!("RESET {verb} ALL"));
    semisync_source(r, true);
    r.sql("SET GLOBAL read_only = OFF");
}

/// A primary killed under load restarts to rejoin `new`. It may hold a transaction
/// whose commit never returned (binlogd had not acknowledged it):
/// - MariaDB restarts as a semisync replica (`init_rpl_role` SLAVE, as 11.x asks, and
///   `rpl_semi_sync_slave_enabled`), whose recovery truncates it (MDEV-21117); with
///   `gtid_strict_mode` it then takes back such a transaction that binlogd had stored
///   and the new primary has, though it bears its own server_id (MDEV-27760);
/// - MySQL keeps it, an errant GTID that the new primary lacks: the DBA undoes it
///   (here its rows, with sql_log_bin off) and begins the binary log again at what
///   remains (`RESET BINARY LOGS AND GTIDS`, gtid_purged).
fn restart_crashed(s: &Server, new: &Server) {
    if s.flavor != Flavor::Mysql {
        s.reconfigure(&["rpl_semi_sync_slave_enabled=ON", "init_rpl_role=SLAVE", "gtid_strict_mode=ON"]);
        return;
    }
    s.restart();
    let theirs = new.sql("SELECT @@GLOBAL.gtid_executed").replace('\n', "");
    let errant = s.sql(&format!("SELECT GTID_SUBTRACT(@@GLOBAL.gtid_executed, '{}')", theirs.trim()));
    if errant.trim().is_empty() {
        return;
    }
    let mine = s.sql("SELECT v FROM so.t");
    let have = new.sql("SELECT v FROM so.t");
    let have: std::collections::BTreeSet<&str> = have.lines().collect();
    let undo: Vec<String> = mine.lines().filter(|v| !have.contains(v)).map(|v| format!("'{v}'")).collect();
    assert!(undo.len() <= 1, "more than the one commit in flight: {undo:?}");
    let keep = s.sql(&format!("SELECT GTID_SUBTRACT(@@GLOBAL.gtid_executed, '{}')", errant.trim()));
    let mut sql = String::from("SET sql_log_bin = 0; ");
    if !undo.is_empty() {
        sql.push_str(&format!("DELETE FROM so.t WHERE v IN ({}); ", undo.join(",")));
    }
    sql.push_str(&format!("RESET BINARY LOGS AND GTIDS; SET GLOBAL gtid_purged = '{}'", keep.trim()));
    s.sql(&sql);
}

/// Two unplanned failovers, ending on the first server. The first primary is killed
/// -9 under a write load with commits its replica lacks; the replica takes them from
/// binlogd (the README's steps) and is promoted, binlogd is repointed (and killed -9
/// after the CHANGE MASTER), the old primary rejoins. Then back, binlogd killed -9
/// during its first dump from the new source. Every acknowledged commit is on the
/// final primary and in binlogd's history, which a fresh replica reads whole.
fn failovers_back_and_forth(flavor: Flavor) {
    let a = Server::start(flavor, "fb-a");
    let nb = replica(flavor, "fb-b", 2);
    point_replica(&nb, a.port, Follow::Gtid, None, "");
    start_replica(&nb);
    if flavor != Flavor::Mysql {
        // As MySQL by default: a commit stays uncommitted until acknowledged, so a
        // crashed primary's recovery as a semisync replica can take it back.
        for s in [&a, &nb] {
            s.sql("SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC");
        }
    }
    let (mut b, port) = Binlogd::serving(&a, "fb", "");
    let (verb, change, o) = dialect(flavor);
    a.sql("CREATE DATABASE so; CREATE TABLE so.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(50))");
    commits(&a, "a", 10);
    wait_count(&nb, 10, "the replica following");

    // 1. The replica lags; the primary dies under a write load, each commit it
    // returned acknowledged by binlogd.
    stop_replica(&nb, "IO_THREAD");
    let load = {
        let dir = a.dir.to_path_buf();
        let sql: String = (0..1500).map(|i| format!("INSERT INTO so.t(v)VALUES('L{i}');SELECT 'L{i}';")).collect();
        std::thread::spawn(move || {
            let o = Command::new(repo().join("scripts/server.sh")).args(["sql", dir.to_str().unwrap(), &sql]).output();
            String::from_utf8_lossy(&o.unwrap().stdout).into_owned()
        })
    };
    wait_count(&a, 40, "the load to run");
    kill9_server(&a);
    let acked: Vec<String> = load.join().unwrap().lines().filter(|l| l.starts_with('L')).map(str::to_string).collect();
    assert!(acked.len() >= 30 && acked.len() < 1500, "{}", acked.len());
    compensate_and_promote(&nb, port);
    let have = nb.sql("SELECT v FROM so.t WHERE v LIKE 'L%'");
    let have: std::collections::BTreeSet<&str> = have.lines().collect();
    let lost: Vec<&String> = acked.iter().filter(|v| !have.contains(v.as_str())).collect();
    assert!(lost.is_empty(), "acknowledged commits missing after the failover: {lost:?}");
    // Repointed, and binlogd killed right after the CHANGE MASTER.
    binlogd_ok(port, &format!("STOP {verb}; {change} {o}_PORT = {}", nb.port));
    b.kill9();
    b.start();
    // Once it listens again.
    wait_until("binlogd to take START SLAVE after its restart", Duration::from_secs(20), || {
        client(port, "replpass", &format!("START {verb}")).status.success()
    });
    wait_semisync_client(&nb, &b);
    commits(&nb, "b", 10);
    assert_eq!(nb.semi_status("no_tx"), "0", "{}", b.log_text());
    restart_crashed(&a, &nb);
    rejoin(&a, &nb);
    let on_b: usize = nb.sql("SELECT COUNT(*) FROM so.t").trim().parse().unwrap();
    wait_count(&a, on_b, "the old primary rejoining");

    // 2. Back: the first server lags now, the second dies with commits it lacks.
    stop_replica(&a, "IO_THREAD");
    commits(&nb, "b-unseen", 10);
    assert_eq!(nb.semi_status("no_tx"), "0");
    kill9_server(&nb);
    compensate_and_promote(&a, port);
    wait_count(&a, on_b + 10, "every commit of the second primary");
    binlogd_ok(port, &format!("STOP {verb}; {change} {o}_PORT = {}; START {verb}", a.port));
    // Killed during the first dump from the new source.
    wait_until("binlogd to begin the third source", Duration::from_secs(30), || {
        b.log_text().matches("following a new source").count() >= 2
    });
    b.kill9();
    b.start();
    wait_semisync_client(&a, &b);
    commits(&a, "a-again", 10);
    assert_eq!(a.semi_status("no_tx"), "0", "{}", b.log_text());
    restart_crashed(&nb, &a);
    rejoin(&nb, &a);
    let on_a: usize = a.sql("SELECT COUNT(*) FROM so.t").trim().parse().unwrap();
    wait_count(&nb, on_a, "the second server rejoining");

    // Three sources, each in its place; the whole history, read by a fresh replica.
    let idx = b.index();
    assert!(
        idx.iter().any(|f| f.starts_with("source-2/")) && idx.iter().any(|f| f.starts_with("source-3/")),
        "{idx:?}"
    );
    let fresh = replica(flavor, "fb-fresh", 3);
    point_replica(&fresh, port, Follow::Gtid, None, "");
    start_replica(&fresh);
    fresh.wait_same(&a.sql("CHECKSUM TABLE so.t"), "CHECKSUM TABLE so.t", "the whole history", &b);
    assert_eq!(fresh.sql("SELECT COUNT(*) FROM so.t").trim(), on_a.to_string());
    let fresh_rows = fresh.sql("SELECT v FROM so.t WHERE v LIKE 'L%'");
    let fresh_rows: std::collections::BTreeSet<&str> = fresh_rows.lines().collect();
    assert!(acked.iter().all(|v| fresh_rows.contains(v.as_str())), "binlogd's history lacks an acknowledged commit");
    assert_eq!(b.stop(), 0);
    assert!(verify(&b).contains("source 3 begins"));
}

#[test]
fn mariadb_failovers_back_and_forth_keep_every_acknowledged_commit() {
    failovers_back_and_forth(Flavor::MariaDb);
}

#[test]
fn mariadb11_failovers_back_and_forth_keep_every_acknowledged_commit() {
    failovers_back_and_forth(Flavor::MariaDb11);
}

#[test]
fn mysql_failovers_back_and_forth_keep_every_acknowledged_commit() {
    failovers_back_and_forth(Flavor::Mysql);
}

/// `master_host` lists two candidate primaries: binlogd follows the writable one that
/// replicates from no one, follows the promoted replica after the primary dies, and
/// refuses to choose while both are writable (split brain).
fn follows_the_candidate_that_is_the_primary(flavor: Flavor) {
    let a = Server::start(flavor, "af-a");
    let nb = replica(flavor, "af-b", 2);
    point_replica(&nb, a.port, Follow::Gtid, None, "");
    start_replica(&nb);
    let port = free_port();
    let mut b = Binlogd::new(&a, "af", &format!("listen_address = 127.0.0.1\nlisten_port = {port}"));
    b.edit_cnf("master_host = 127.0.0.1\n", &format!("master_host = 127.0.0.1:{}, 127.0.0.1:{}\n", a.port, nb.port));
    b.start();
    wait_semisync_client(&a, &b);
    b.wait_log(&format!("candidate primaries: following 127.0.0.1:{}", a.port), Duration::from_secs(20));
    let (verb, _, _) = dialect(flavor);
    a.sql("CREATE DATABASE so; CREATE TABLE so.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(50))");
    commits(&a, "a", 10);
    assert_eq!(a.semi_status("no_tx"), "0");
    wait_count(&nb, 10, "the replica following");

    // The primary dies; the replica is promoted; binlogd follows it by itself.
    kill9_server(&a);
    stop_replica(&nb, "");
    nb.sql(&format!("RESET {verb} ALL"));
    semisync_source(&nb, true);
    wait_semisync_client(&nb, &b);
    commits(&nb, "b", 10);
    assert_eq!(nb.semi_status("no_tx"), "0", "{}", b.log_text());
    let status = format!("SHOW {verb} STATUS");
    let port_col = if flavor == Flavor::Mysql { "Source_Port" } else { "Master_Port" };
    assert_eq!(binlogd_row(port, &status)[port_col], nb.port.to_string());

    // The old primary comes back writable: two primaries. binlogd, asked to connect
    // again, follows neither and says why.
    a.restart();
    a.sql("SET GLOBAL read_only = OFF");
    binlogd_ok(port, &format!("STOP {verb}; START {verb}"));
    let mut err = String::new();
    wait_until("binlogd to refuse a split brain", Duration::from_secs(30), || {
        err = binlogd_row(port, &status).get("Last_IO_Error").cloned().unwrap_or_default();
        err.contains("split brain")
    });
    assert!(err.contains(&a.port.to_string()) && err.contains(&nb.port.to_string()), "{err}");
    // Once the old primary rejoins as a replica, binlogd follows the new one again.
    rejoin(&a, &nb);
    wait_semisync_client(&nb, &b);
    commits(&nb, "c", 5);
    assert_eq!(nb.semi_status("no_tx"), "0", "{}", b.log_text());
    wait_count(&a, 25, "the old primary rejoining");
    assert!(b.index().iter().any(|f| f.starts_with("source-2/")), "{:?}", b.index());
    assert_eq!(b.stop(), 0);
}

#[test]
fn a_mariadb_binlogd_follows_the_candidate_that_is_the_primary() {
    follows_the_candidate_that_is_the_primary(Flavor::MariaDb);
}

#[test]
fn a_mariadb11_binlogd_follows_the_candidate_that_is_the_primary() {
    follows_the_candidate_that_is_the_primary(Flavor::MariaDb11);
}

#[test]
fn a_mysql_binlogd_follows_the_candidate_that_is_the_primary() {
    follows_the_candidate_that_is_the_primary(Flavor::Mysql);
}

/// SET GLOBAL rpl_semi_sync_slave_enabled turns binlogd's ACK off and on as on a
/// replica: from the next connection to the primary (STOP SLAVE; START SLAVE), for an
/// admin account only; other SET GLOBALs change nothing and are answered OK.
#[test]
fn set_global_semisync_takes_effect_at_the_next_connection_as_on_a_replica() {
    let s = Server::start(Flavor::MariaDb, "semi-set-src");
    let (mut b, lport) = Binlogd::serving(&s, "semi-set", &alice_account());
    let o = client_as(lport, "alice", "alice-pw", "SET GLOBAL rpl_semi_sync_slave_enabled = OFF");
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERROR 1227"), "{o:?}");
    let o = client_as(lport, "alice", "alice-pw", "SET @@global.rpl_semi_sync_slave_enabled = OFF");
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERROR 1227"), "{o:?}");
    let (ok, _, err) = session(lport, "SET GLOBAL rpl_semi_sync_slave_enabled = 'maybe'");
    assert!(!ok && err.contains("ERROR 1231"), "{err}");
    let (ok, out, err) =
        session(lport, "SET GLOBAL rpl_semi_sync_slave_enabled = OFF; SELECT @@rpl_semi_sync_slave_enabled");
    assert!(ok && out == "0\n", "{out}{err}");
    // Still acknowledging until the connection starts again.
    assert_eq!(s.semi_status("clients"), "1");
    let (ok, _, err) = session(lport, "STOP SLAVE IO_THREAD; START SLAVE IO_THREAD");
    assert!(ok, "{err}");
    wait_until("binlogd no longer the semisync client", Duration::from_secs(20), || {
        s.semi_status("clients") == "0" && binlogd_row(lport, "SHOW SLAVE STATUS")["Slave_IO_Running"] == "Yes"
    });
    let status = |lport: u16| session(lport, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_slave_status'").1;
    assert!(status(lport).contains("OFF"), "{}", status(lport));
    // (No commit here: the primary, with no semisync replica left, would wait out its
    // rpl_semi_sync_master_timeout for each, as it would for a real replica's.)
    let (ok, _, err) =
        session(lport, "SET @@GLOBAL.rpl_semi_sync_slave_enabled = 1, GLOBAL read_only = 1; STOP SLAVE; START SLAVE");
    assert!(ok, "{err}");
    wait_semisync_client(&s, &b);
    wait_until("Rpl_semi_sync_slave_status ON", Duration::from_secs(20), || status(lport).contains("ON"));
    assert_eq!(b.stop(), 0);
}
