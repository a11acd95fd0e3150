//! binlogd answers the statements clients send as the primary it stands in for
//! answers them: the same columns, of the same types, in the same order.

use crate::harness::*;

/// The columns (name, type) of `sql`'s answer on `port`, as `repl`, or the ERR's code.
fn columns(port: u16, sql: &str) -> Result<Vec<(String, u8)>, u16> {
    use binlogd::proto::resultset::{column_def, is_eof};
    let mut c = binlogd::proto::client::Client::connect(&repl_options(port)).unwrap();
    c.stream.seq = 0;
    c.stream.write_command(&binlogd::proto::command::query(sql)).unwrap();
    let first = c.stream.read().unwrap();
    match first.first() {
        Some(0xff) => return Err(binlogd::proto::parse_err(&first).server_code().unwrap_or(0)),
        Some(0x00) => return Ok(Vec::new()),
        _ => {}
    }
    let mut out = Vec::new();
    loop {
        let p = c.stream.read().unwrap();
        if is_eof(&p) {
            return Ok(out);
        }
        let (name, ty, _) = column_def(&p).unwrap();
        out.push((name, ty.0));
    }
}

/// Each statement's columns from binlogd equal the primary's.
fn same_columns(flavor: Flavor, tag: &str, statements: &[&str]) {
    let s = Server::start(flavor, tag);
    let (mut b, lport) = Binlogd::serving(&s, tag, "");
    s.sql("CREATE DATABASE an; CREATE TABLE an.t (a INT); INSERT INTO an.t VALUES (1)");
    if flavor != Flavor::Mysql {
        // A MariaDB replication account needs these to see replicas and replica status.
        s.sql("GRANT REPLICATION MASTER ADMIN, SLAVE MONITOR ON *.* TO 'repl'@'%'");
    }
    wait_active_mirrored(&s, &b);
    let mut wrong = Vec::new();
    for sql in statements {
        let (mut mine, theirs) = (columns(lport, sql), columns(s.port, sql));
        // binlogd's own columns follow a replica's status columns.
        if sql.contains(" STATUS") {
            if let (Ok(m), Ok(t)) = (&mut mine, &theirs) {
                m.truncate(t.len());
            }
        }
        if mine != theirs {
            wrong.push(format!("{sql}\n  binlogd: {mine:?}\n  primary: {theirs:?}"));
        }
    }
    assert!(wrong.is_empty(), "{} statements answered unlike the primary:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(b.stop(), 0);
}

#[test]
fn mysql_statements_get_the_primarys_columns_and_types() {
    same_columns(
        Flavor::Mysql,
        "columns-mysql",
        &[
            "SHOW BINARY LOG STATUS",
            "SHOW BINARY LOGS",
            "SHOW BINLOG EVENTS LIMIT 1",
            "SHOW REPLICAS",
            "SHOW VARIABLES LIKE 'server_id'",
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('binlog_checksum', 'server_id')",
            "SHOW WARNINGS",
            "SELECT @@server_id, @@version, @@lower_case_table_names, @@binlog_checksum",
            "SELECT @@read_only, @@gtid_purged, @@global.gtid_executed",
            "SHOW DATABASES",
            "SHOW GRANTS",
            "SHOW GRANTS FOR CURRENT_USER",
            "SHOW REPLICA STATUS",
            "SHOW REPLICA STATUS FOR CHANNEL 'nosuch'",
            "SHOW PROCESSLIST",
            "SELECT 1, 'a', CONNECTION_ID(), NOW(), NOW() - INTERVAL 1 DAY",
            "SELECT @@nosuch",
            "SELECT @@gtid_current_pos",
            "SELECT GTID_SUBTRACT('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5', '3E11FA47-71CA-11E1-9E33-C80AA9429562:2')",
            "USE nosuch",
            "USE information_schema",
        ],
    );
}

#[test]
fn mariadb_statements_get_the_primarys_columns_and_types() {
    same_columns(
        Flavor::MariaDb,
        "columns-maria",
        &[
            "SHOW MASTER STATUS",
            "SHOW BINLOG STATUS",
            "SHOW BINARY LOGS",
            "SHOW BINLOG EVENTS LIMIT 1",
            "SHOW SLAVE HOSTS",
            "SHOW SLAVE STATUS",
            "SHOW VARIABLES LIKE 'server_id'",
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('binlog_checksum', 'server_id')",
            "SELECT @@server_id, @@version, @@lower_case_table_names, @@binlog_checksum",
            "SELECT @@read_only, @@gtid_purged, @@global.gtid_current_pos",
            "SHOW DATABASES",
            "SHOW GRANTS",
            "SHOW PROCESSLIST",
            "SELECT 1, 'a', CONNECTION_ID(), NOW(), DATE_SUB(NOW(), INTERVAL 7 DAY)",
            "SELECT @@nosuch",
            "SELECT @@gtid_executed",
            "USE nosuch",
        ],
    );
}
