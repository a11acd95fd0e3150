//! Change-data-capture consumers reading binlogd with both their connections, never
//! the primary: python-mysql-replication (PyPI) and zongji (npm). The rows each one
//! reads from binlogd must equal the rows it reads from the primary.

use std::process::Command;

use crate::harness::*;

/// python-mysql-replication's rows from `port` (one JSON line each; `tests/cdc/pyrepl_rows.py`).
fn pyrepl(port: u16, server_id: u32, args: &[&str]) -> Vec<String> {
    let o = Command::new("python3")
        .arg(repo().join("tests/cdc/pyrepl_rows.py"))
        .args(["--port", &port.to_string(), "--server-id", &server_id.to_string()])
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        o.status.success(),
        "python-mysql-replication {args:?} on port {port} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect()
}

/// The same rows from binlogd as from the primary, and `want` of them.
fn same_rows(mine: &[String], theirs: &[String], want: usize, what: &str) {
    assert_eq!(theirs.len(), want, "{what}: the primary gave {} rows:\n{}", theirs.len(), theirs.join("\n"));
    for (i, (m, t)) in mine.iter().zip(theirs).enumerate() {
        assert_eq!(m, t, "{what}: row {i} differs");
    }
    assert_eq!(mine.len(), theirs.len(), "{what}: binlogd gave {} rows, the primary {}", mine.len(), theirs.len());
}

fn python_mysql_replication_reads_binlogd_as_the_primary(flavor: Flavor, tag: &str) {
    let s = Server::start(flavor, tag);
    // Column names travel in the table maps (what the library asks binlogd for).
    s.sql("SET GLOBAL binlog_row_metadata = FULL");
    let (mut b, lport) = Binlogd::serving(&s, tag, "");
    let maria = flavor != Flavor::Mysql;
    s.sql(
        "CREATE DATABASE cdc; CREATE TABLE cdc.t (id INT PRIMARY KEY, name VARCHAR(40), data BLOB, \
         amount DECIMAL(10,2), at DATETIME(3))",
    );
    let first = s.binary_logs()[0].clone();
    s.sql(
        "INSERT INTO cdc.t VALUES (1, 'one', x'00ff10', 1.50, '2026-01-02 03:04:05.678'), \
         (2, 'två', REPEAT('b', 3000), -2.25, NULL); FLUSH BINARY LOGS; \
         UPDATE cdc.t SET name = 'uno', data = x'c3' WHERE id = 1; DELETE FROM cdc.t WHERE id = 2; \
         INSERT INTO cdc.t VALUES (3, NULL, NULL, 0, NOW())",
    );
    wait_active_mirrored(&s, &b);
    let from_start = ["--log-file", first.as_str(), "--log-pos", "4"];
    let theirs = pyrepl(s.port, 201, &from_start);
    let mine = pyrepl(lport, 202, &from_start);
    same_rows(&mine, &theirs, 5, "from the first file");
    assert!(mine[0].contains("\"name\": \"one\""), "column names from binlog_row_metadata: {}", mine[0]);

    // resume_stream from where the third row was read.
    let third: serde_free::Pos = serde_free::pos(&theirs[2]);
    let resume = ["--log-file", third.file.as_str(), "--log-pos", &third.pos.to_string()];
    let resume: Vec<&str> = resume.to_vec();
    same_rows(&pyrepl(lport, 203, &resume), &pyrepl(s.port, 204, &resume), 2, "resumed");

    // A blocking tail across rotations, both readers at the same start.
    let logs = s.binary_logs();
    let (file, pos) = (
        logs.last().unwrap().clone(),
        s.status_row(if maria { "SHOW MASTER STATUS" } else { "SHOW BINARY LOG STATUS" })["Position"].clone(),
    );
    let tail = |port: u16, id: u32| {
        let (file, pos) = (file.clone(), pos.clone());
        std::thread::spawn(move || {
            pyrepl(port, id, &["--log-file", &file, "--log-pos", &pos, "--blocking", "--rows", "6"])
        })
    };
    let (tp, tb) = (tail(s.port, 205), tail(lport, 206));
    for i in 10..16 {
        s.sql(&format!("INSERT INTO cdc.t VALUES ({i}, 'tail', NULL, {i}, NULL); FLUSH BINARY LOGS"));
    }
    same_rows(&tb.join().unwrap(), &tp.join().unwrap(), 6, "blocking tail across rotations");

    // A GTID resume: everything after the first transaction that wrote rows.
    let gtid = if maria {
        let pos = s.sql("SELECT @@gtid_binlog_pos").trim().to_string();
        let (head, last) = pos.rsplit_once('-').unwrap();
        format!("{head}-{}", last.parse::<u64>().unwrap() - 4)
    } else {
        let uuid = s.sql("SELECT @@server_uuid").trim().to_string();
        let n: u64 = s.sql("SELECT @@gtid_executed").trim().rsplit_once('-').unwrap().1.parse().unwrap();
        format!("{uuid}:1-{}", n - 4)
    };
    let mut args = vec!["--gtid", gtid.as_str(), "--rows", "4"];
    if maria {
        args.push("--mariadb");
    }
    same_rows(&pyrepl(lport, 207, &args), &pyrepl(s.port, 208, &args), 4, "GTID resume");
    assert_eq!(b.stop(), 0);
}

/// Where a row line says it was read.
mod serde_free {
    pub struct Pos {
        pub file: String,
        pub pos: u64,
    }

    fn field<'a>(line: &'a str, key: &str) -> &'a str {
        let at = line.find(&format!("\"{key}\": ")).map(|i| i + key.len() + 4).unwrap_or(line.len());
        let rest = &line[at..];
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        rest[..end].trim_matches('"')
    }

    pub fn pos(line: &str) -> Pos {
        Pos { file: field(line, "file").to_string(), pos: field(line, "pos").parse().unwrap_or(0) }
    }
}

#[test]
fn python_mysql_replication_reads_binlogd_as_a_mariadb_primary() {
    python_mysql_replication_reads_binlogd_as_the_primary(Flavor::MariaDb, "pyrepl-maria");
}

#[test]
fn python_mysql_replication_reads_binlogd_as_a_mysql_primary() {
    python_mysql_replication_reads_binlogd_as_the_primary(Flavor::Mysql, "pyrepl-mysql");
}

/// zongji's rows: its binlog connection on `port`, its schema connection on the primary.
fn zongji(port: u16, schema_port: u16, server_id: u32, first: &str, rows: usize) -> Vec<String> {
    let o = Command::new("node")
        .arg(repo().join("tests/cdc/zongji_rows.js"))
        .args(["--port", &port.to_string(), "--schema-port", &schema_port.to_string()])
        .args(["--server-id", &server_id.to_string(), "--log-file", first, "--rows", &rows.to_string()])
        .env("NODE_PATH", "/var/cache/binlogd-test/node/node_modules")
        .output()
        .expect("run node");
    assert!(o.status.success(), "zongji on port {port} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect()
}

/// What the `mysql` npm package's changeUser (COM_CHANGE_USER) leaves on `port`.
fn change_user(port: u16, user: &str, password: &str, database: &str) -> String {
    let o = Command::new("node")
        .arg(repo().join("tests/cdc/change_user.js"))
        .args([&port.to_string(), user, password, database])
        .env("NODE_PATH", "/var/cache/binlogd-test/node/node_modules")
        .output()
        .expect("run node");
    assert!(o.status.success(), "node on port {port} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A connection pool's COM_CHANGE_USER logs in again as another account: the same
/// answers from binlogd as from the primary, a wrong password refused with 1045.
#[test]
fn change_user_logs_in_again_as_on_the_primary() {
    let s = Server::start(Flavor::MariaDb, "chuser-src");
    let (mut b, lport) = Binlogd::serving(&s, "chuser", &alice_account());
    // Once binlogd acknowledges: the primary waits for a semisync replica before then.
    s.sql("CREATE USER 'alice'@'%' IDENTIFIED BY 'alice-pw'");
    for (user, password, db, want) in [
        ("repl", "replpass", "", "{"),
        ("alice", "alice-pw", "", "{"),
        ("alice", "alice-pw", "information_schema", "{"),
        ("alice", "alice-pw", "nosuch", "ERROR 1044"),
        ("alice", "wrong", "", "ERROR 1045"),
        ("nobody", "x", "", "ERROR 1045"),
    ] {
        let (mine, theirs) = (change_user(lport, user, password, db), change_user(s.port, user, password, db));
        assert_eq!(mine, theirs, "changeUser to {user} ({db})");
        assert!(mine.starts_with(want), "{mine}");
    }
    assert_eq!(b.stop(), 0);
}

#[test]
fn zongji_reads_binlogd_as_a_mariadb_primary() {
    // zongji's `mysql` driver speaks only mysql_native_password, which MySQL 9 turns off.
    let s = Server::start(Flavor::MariaDb, "zongji-maria");
    let (mut b, lport) = Binlogd::serving(&s, "zongji", "");
    let first = s.binary_logs()[0].clone();
    s.sql(
        "CREATE DATABASE zj; CREATE TABLE zj.t (id INT PRIMARY KEY, name VARCHAR(40), data BLOB, n BIGINT); \
         INSERT INTO zj.t VALUES (1, 'one', x'00ff', 9007199254740993), (2, 'two', NULL, -1); FLUSH BINARY LOGS; \
         UPDATE zj.t SET name = 'uno' WHERE id = 1; DELETE FROM zj.t WHERE id = 2; INSERT INTO zj.t VALUES (3, NULL, '', 0)",
    );
    // zongji reads column names from information_schema on the primary: it must see the table.
    s.sql("GRANT SELECT ON zj.* TO 'repl'@'%'");
    wait_active_mirrored(&s, &b);
    let theirs = zongji(s.port, s.port, 301, &first, 5);
    let mine = zongji(lport, s.port, 302, &first, 5);
    same_rows(&mine, &theirs, 5, "zongji across a rotation");
    assert_eq!(b.stop(), 0);
}

/// (event type, log_pos) of each event a non-blocking COM_BINLOG_DUMP from `file`:4
/// on `port` sends with `flags`, as a CDC client that asks as python-mysql-replication does.
fn dumped(port: u16, file: &str, flags: u16) -> Vec<(u8, u32)> {
    use binlogd::proto::command::{BinlogDump, BINLOG_DUMP_NON_BLOCK};
    let mut c = binlogd::proto::client::Client::connect(&repl_options(port)).unwrap();
    c.query("SET @master_binlog_checksum = @@global.binlog_checksum").unwrap();
    c.query("SET @mariadb_slave_capability = 4").unwrap();
    let d = BinlogDump { pos: 4, flags: flags | BINLOG_DUMP_NON_BLOCK, server_id: 0, file: file.to_string() };
    c.stream.write_command(&d.encode()).unwrap();
    let mut out = Vec::new();
    loop {
        let p = c.stream.read().unwrap();
        match p.first() {
            Some(0x00) if p.len() >= 20 => {
                out.push((p[5], u32::from_le_bytes([p[14], p[15], p[16], p[17]])));
            }
            Some(0xfe) => return out,
            _ => panic!("unexpected packet from port {port}: {p:?}"),
        }
    }
}

#[test]
fn annotate_rows_events_go_only_to_mariadb_clients_that_ask_for_them() {
    const ANNOTATE_ROWS: u8 = 160;
    const SEND_ANNOTATE: u16 = 0x02;
    let s = Server::start(Flavor::MariaDb, "annotate-src");
    let (mut b, lport) = Binlogd::serving(&s, "annotate", "");
    let first = s.binary_logs()[0].clone();
    s.sql(
        "SET SESSION binlog_format = ROW, SESSION binlog_annotate_row_events = ON; CREATE DATABASE an; \
         CREATE TABLE an.t (a INT); INSERT INTO an.t VALUES (1), (2); UPDATE an.t SET a = a + 1",
    );
    wait_active_mirrored(&s, &b);
    for flags in [0, SEND_ANNOTATE] {
        let (mine, theirs) = (dumped(lport, &first, flags), dumped(s.port, &first, flags));
        assert_eq!(mine, theirs, "flags {flags}: binlogd's events differ from the primary's");
        let annotated = theirs.iter().filter(|(t, _)| *t == ANNOTATE_ROWS).count();
        assert_eq!(annotated > 0, flags == SEND_ANNOTATE, "flags {flags}: {theirs:?}");
    }
    assert_eq!(b.stop(), 0);
}
