//! binlogd answers the statements clients send as the primary it stands in for
//! answers them: the same columns, defined alike (type, width, flags, decimals, the
//! table they are read from), in the same order.

use crate::harness::*;

/// A column's definition as a client reads it: name, type, collation, length, flags,
/// decimals, and the schema, table, table's own name and column's own name it is read
/// from.
type Def = (String, u8, u16, u32, u16, u8, [String; 4]);

/// The column definitions of `sql`'s answer on `port`, as `repl`, or the ERR's code.
fn columns(port: u16, sql: &str) -> Result<Vec<Def>, u16> {
    use binlogd::proto::resultset::is_eof;
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
        out.push(definition(&p));
    }
}

/// A ColumnDefinition41 packet's fields.
fn definition(p: &[u8]) -> Def {
    let mut r = binlogd::proto::buf::Reader::new(p);
    let mut text = || String::from_utf8_lossy(r.lenenc_bytes("field").unwrap()).into_owned();
    let (_catalog, schema, table, org_table, name, org_name) = (text(), text(), text(), text(), text(), text());
    let f = &p[p.len() - 12..];
    let (charset, len) = (u16::from_le_bytes([f[0], f[1]]), u32::from_le_bytes([f[2], f[3], f[4], f[5]]));
    (name, f[6], charset, len, u16::from_le_bytes([f[7], f[8]]), f[9], [schema, table, org_table, org_name])
}

/// The rows of `sql`'s answer on `port`, as the `mariadb` client prints them.
fn rows_of(port: u16, sql: &str) -> String {
    forced(port, sql)
}

/// What CDC tools send before and while they stream (read from their sources), each
/// with the columns the primary gives. Those marked `=` must also give the primary's
/// values: they are the primary's settings, which the tools act on.
const CDC_STATEMENTS: &[&str] = &[
    // go-mysql (BinlogSyncer, canal)
    "=SHOW GLOBAL VARIABLES LIKE 'binlog_format'",
    "=SHOW GLOBAL VARIABLES LIKE 'binlog_row_image'",
    // mysql-binlog-connector-java, Debezium
    "SHOW GLOBAL VARIABLES LIKE 'gtid_purged'",
    "SELECT @@global.gtid_purged",
    "=SHOW GLOBAL VARIABLES LIKE 'GTID_MODE'",
    "SHOW GRANTS FOR CURRENT_USER",
    "SET net_write_timeout = 600",
    "SELECT @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS \
     character_set_client, @@character_set_connection AS character_set_connection, @@character_set_results AS \
     character_set_results, @@character_set_server AS character_set_server, @@collation_server AS \
     collation_server, @@collation_connection AS collation_connection, @@init_connect AS init_connect, \
     @@interactive_timeout AS interactive_timeout, @@license AS license, @@lower_case_table_names AS \
     lower_case_table_names, @@max_allowed_packet AS max_allowed_packet, @@net_write_timeout AS \
     net_write_timeout, @@performance_schema AS performance_schema, @@sql_mode AS sql_mode, \
     @@system_time_zone AS system_time_zone, @@time_zone AS time_zone, @@transaction_isolation AS \
     transaction_isolation, @@wait_timeout AS wait_timeout",
    // Maxwell
    "=select @@lower_case_table_names",
    "=SHOW VARIABLES LIKE 'log_slave_updates'",
    // Canal
    "set names 'binary'",
    "set @slave_uuid=uuid()",
    "select uuid() as u",
    "set wait_timeout = 28800",
    "show binlog events limit 1",
    "=select @@global.binlog_checksum",
    // What the server's files are and where (backup and failover scripts), and its
    // replica settings: binlogd's own values, the primary's types.
    "~SELECT @@global.log_bin_basename, @@global.log_bin_index, @@global.sync_binlog, \
     @@global.binlog_expire_logs_seconds, @@global.max_binlog_size, @@global.report_port, @@datadir, \
     @@log_error, @@version_compile_os, @@default_storage_engine, @@character_set_system, \
     @@session.sql_select_limit, @@require_secure_transport, @@global.slave_net_timeout",
    "SELECT UNIX_TIMESTAMP(), USER(), CURRENT_USER()",
    "=SELECT USER(), SESSION_USER(), CURRENT_USER()",
];

/// What failover managers send to each server they find, binlogd included (the
/// primary lists it in SHOW SLAVE HOSTS): orchestrator's discovery
/// (`ReadTopologyInstanceBufferable`), which gives up on a server whose first query
/// fails.
const FAILOVER_STATEMENTS: &[&str] = &[
    "show variables like 'maxscale%'",
    "show global status like 'Uptime'",
    "~select @@global.hostname, ifnull(@@global.report_host, ''), @@global.server_id, @@global.version, \
     @@global.version_comment, @@global.read_only, @@global.binlog_format, @@global.log_bin, \
     @@global.log_slave_updates",
    "show global status like 'rpl_semi_sync_%_status'",
    "=select @@hostname, @@report_host, ifnull(@@report_host, 'none'), coalesce(NULL, @@report_host, 7)",
    // Its replicas, when not found by SHOW SLAVE HOSTS.
    "select substring_index(host, ':', 1) as slave_hostname from information_schema.processlist \
     where command IN ('Binlog Dump', 'Binlog Dump GTID')",
    "select id, user, host, db, command, time, state, info from information_schema.processlist where id = -1",
    "=select count_of_nothing from information_schema.processlist where command LIKE 'Binlog%' AND id <> 0",
    "=select id from information_schema.processlist where nothing = 1",
    "select host from information_schema.processlist where command = 'Binlog Dump' and id != 0 and user NOT IN ('x')",
    "select id, command from information_schema.processlist where id <> 0 order by id desc, 2 limit 1",
    "=select id from information_schema.processlist limit 0",
    "=select id from information_schema.processlist order by nothing",
    // orchestrator's Oracle GTID probe, and comparisons as MySQL and MariaDB evaluate them.
    "select @@global.gtid_mode = 'ON', @@global.server_uuid, @@global.gtid_purged",
    "=select 1 = 1, 'a' = 'A', 2 <> 3, 2 != 2, NULL = 1, @@server_id = @@server_id, @@server_id = @@server_id = 1",
];

/// The `mariadb` client's output for `script` on `port` as `repl`, read from stdin so
/// that it goes on after an error, as a session of statements.
fn forced(port: u16, script: &str) -> String {
    client_output(port, script, &["-N", "-B", "--force"])
}

/// The `mariadb` client's output for `script` on `port` as `repl`, with `how` its
/// options for the output.
fn client_output(port: u16, script: &str, how: &[&str]) -> String {
    use std::io::Write;
    let mut c = std::process::Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", &format!("-P{port}"), "-urepl", "-preplpass"])
        .args(how)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Statements in the words some versions lack, and the diagnostics statements, for
/// either flavour: binlogd answers each as the primary does, its syntax errors included.
const GRAMMAR_STATEMENTS: &[&str] = &[
    // String literals as a client that escapes its values writes them (pymysql,
    // Connector/Python), and integers past BIGINT's range.
    "=SELECT 'it\\'s', 'a\\nb', 'back\\\\slash', \"c\\\"d\", 'a''b', 'x\\%y', 'semi;colon\\''",
    "=SELECT 18446744073709551615, 9223372036854775808, 9223372036854775807",
    "=SELECT 7e0, 1.5e0, 1e20, 1.5e-5, -2.5E3, 123456789012345678e0, 0.1e0",
    "=SET @d = 7e0; SELECT @d",
    "=SET @e = 'q\\'uote'; SELECT @e",
    "=SHOW COUNT(*) WARNINGS",
    "=SHOW COUNT(*) ERRORS",
    "SHOW WARNINGS LIMIT 1",
    "SHOW ERRORS",
    "=SELECT @@warning_count, @@error_count",
    "=SHOW REPLICA STATUS FOR CHANNEL 'nosuch'",
];

/// Expressions and statements of each kind, for the widths, flags and decimals of
/// their columns (the `mysql` client's `--quick` tables are as wide as a column's
/// length; connectors report nullability and display sizes from them).
/// Any of the primary's variables, beyond those binlogd declares: their values and
/// types as the primary gives them, and a SET of a name it lacks refused as it refuses it.
const VARIABLE_STATEMENTS: &[&str] = &[
    "=SELECT @@innodb_buffer_pool_size, @@global.long_query_time, @@max_user_connections, @@event_scheduler, \
     @@innodb_file_per_table, @@skip_name_resolve, @@innodb_flush_log_at_trx_commit, \
     @@slow_query_log, @@table_open_cache, @@global.innodb_max_dirty_pages_pct",
    // Those that are binlogd's own settings: its values, the primary's types.
    "~SELECT @@max_connections, @@connect_timeout, @@bind_address, @@pid_file, @@ssl_cert, @@ssl_key",
    "=SHOW VARIABLES LIKE 'innodb_flush%'",
    "=SHOW GLOBAL VARIABLES WHERE Variable_name IN ('long_query_time', 'table_open_cache', 'event_scheduler')",
    "=SET GLOBAL rpl_semi_sync_master_enable = 1",
    "=SET nosuch_variable = 1",
    "=SET @@session.nosuch_variable = 1",
    "=SET SESSION foreign_key_checks = 0, unique_checks = 0",
    "=SET timestamp = DEFAULT",
    "=SET GLOBAL timestamp = 1",
    "=SELECT @@global.timestamp",
    // Those of the session only, each session's own.
    "~SELECT @@timestamp, @@session.pseudo_thread_id, @@rand_seed1, @@insert_id",
    "=SELECT @@pseudo_thread_id = CONNECTION_ID()",
    "~SHOW SESSION VARIABLES LIKE 'pseudo_thread_id'",
    "=SHOW GLOBAL VARIABLES LIKE 'pseudo_thread_id'",
    // A session's own values: typed as the variable, within a timeout's range, refused
    // where the primary refuses them, gone with DEFAULT.
    "=SET wait_timeout = 100, net_write_timeout = 0; SHOW WARNINGS; SELECT @@wait_timeout, @@net_write_timeout",
    "=SET sql_mode = 'ANSI_QUOTES'; SELECT @@sql_mode, @@session.sql_mode; SHOW SESSION VARIABLES LIKE 'sql_mode'",
    "=SET foreign_key_checks = OFF, sql_safe_updates = 1, long_query_time = 2.5; \
     SELECT @@foreign_key_checks, @@sql_safe_updates, @@long_query_time, @@global.sql_safe_updates; \
     SHOW VARIABLES LIKE 'sql_safe_updates'; SET sql_safe_updates = DEFAULT; SELECT @@sql_safe_updates",
    "=SET max_join_size = 'abc'",
    "=SET sql_safe_updates = 'maybe'",
    "=SET max_join_size = 1000; SELECT @@max_join_size",
    // A session's clock and zone: NOW() and date arithmetic as the primary gives them.
    "=SET timestamp = 1700000000, time_zone = '+09:00'; SELECT NOW(), CURRENT_TIMESTAMP - INTERVAL 1 DAY, \
      DATE_ADD('2026-01-31 10:00:00', INTERVAL 1 MONTH), UNIX_TIMESTAMP(); SET time_zone = '-05:30'; \
      SELECT NOW(), DATE_SUB(NOW(), INTERVAL 7 DAY)",
    // A number below the least the primary says it takes: brought to it, warning 1292.
    "=SET sort_buffer_size = 10; SHOW WARNINGS; SELECT @@sort_buffer_size",
    "=SET long_query_time = 99999999; SHOW WARNINGS; SELECT @@long_query_time",
    "=SET max_connections = 5",
    "=SET wait_timeout = abc",
    "=SET foreign_key_checks = maybe",
    "=SET sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')",
    "=SET GLOBAL port = 1",
    "=SET port = 1",
    "=SET @@global.version_comment = 'x'",
    "=SELECT @@session.port",
    // SHOW VARIABLES is a statement that clears the counts it shows (SELECT @@warning_count
    // is not).
    "=SELECT @@nosuch; SHOW SESSION VARIABLES LIKE '%_count'",
    // The primary's own of the server only, as it says (SYSTEM_VARIABLES, variables_metadata).
    "=SET innodb_buffer_pool_size = 1",
    "=SELECT @@session.innodb_buffer_pool_size",
    "=SELECT @@local.max_connections",
];

const METADATA_STATEMENTS: &[&str] = &[
    "=SELECT ~0, ~5",
    "=SELECT x'41', 0x41, _binary'A', _utf8mb4'A', b'1000001', X'', _binary x'4142', 0x141, b'1'",
    // The primary's character sets and collations (Connector/NET reads SHOW COLLATION
    // at each connect), as it lists them.
    "=SHOW COLLATION",
    "=SHOW CHARACTER SET",
    "=SHOW CHARSET LIKE 'utf8%'",
    "=SHOW COLLATION WHERE Charset = 'latin1' AND `Default` = 'Yes'",
    "=SHOW COLLATION LIKE 'utf8mb4\\_bin'",
    "=SHOW COLLATION WHERE Id IN (33, 45, 255)",
    "=SHOW CHARACTER SET WHERE Maxlen = 4 OR Charset = 'binary'",
    // And its storage engines (pt-slave-find asks each replica whether it has InnoDB).
    "=SHOW ENGINES",
    "=SHOW STORAGE ENGINES",
    "=SELECT ENGINE,SUPPORT FROM information_schema.ENGINES ORDER BY ENGINE ASC",
    "=SELECT * FROM information_schema.ENGINES WHERE ENGINE = 'InnoDB'",
    "SELECT 1.5, NULL, -5, 7, 123456789012, 'abc', '', UUID(), NOW(), NOW() - INTERVAL 1 DAY",
    "SELECT coalesce(NULL, 'x'), ifnull(NULL, 'abc'), ifnull(5, 'ab'), 1 = 1, NULL = 1, 'a' <> 'b'",
    "SELECT @@character_set_client, @@collation_connection, @@sql_mode, @@max_allowed_packet, @@log_bin, \
     @@warning_count, VERSION(), DATABASE(), CURRENT_USER(), SESSION_USER(), CONNECTION_ID()",
    "SHOW FULL PROCESSLIST",
    "SHOW COUNT(*) WARNINGS",
    "SHOW GLOBAL STATUS LIKE 'Uptime'",
    "SHOW STATUS LIKE 'Uptime'",
    "SHOW SESSION VARIABLES LIKE 'x'",
    "SHOW SCHEMAS",
    "SHOW BINLOG EVENTS IN 'nosuch.000001'",
    "select id as i, user, `host`, PROCESSLIST.db, command, time, state, info from information_schema.PROCESSLIST where id = -1",
];

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
    let all = statements.iter().chain(CDC_STATEMENTS).chain(FAILOVER_STATEMENTS).chain(GRAMMAR_STATEMENTS);
    let all = all.chain(VARIABLE_STATEMENTS);
    for sql in all.chain(METADATA_STATEMENTS) {
        let (values, sql) = match sql.strip_prefix('=') {
            Some(q) => (true, q),
            None => (false, *sql),
        };
        // `~`: binlogd's own values, whose widths follow them on MariaDB: the names
        // and types only.
        let (whole, sql) = match sql.strip_prefix('~') {
            Some(q) => (false, q),
            None => (true, sql),
        };
        if values && rows_of(lport, sql) != rows_of(s.port, sql) {
            wrong.push(format!("{sql}\n  binlogd: {}\n  primary: {}", rows_of(lport, sql), rows_of(s.port, sql)));
        }
        let (mut mine, mut theirs) = (columns(lport, sql), columns(s.port, sql));
        // binlogd's own columns follow a replica's status columns; its GTID sets,
        // whose widths are their values', are binlogd's own.
        if sql.contains(" STATUS") {
            if let (Ok(m), Ok(t)) = (&mut mine, &mut theirs) {
                m.truncate(t.len());
                for d in
                    m.iter_mut().chain(t.iter_mut()).filter(|d| d.0.ends_with("Gtid_Set") || d.0 == "Gtid_Slave_Pos")
                {
                    d.3 = 0;
                }
            }
        }
        if !whole {
            let name_and_type =
                |d: Result<Vec<Def>, u16>| d.map(|v| v.into_iter().map(|c| (c.0, c.1)).collect::<Vec<_>>());
            if name_and_type(mine.clone()) != name_and_type(theirs.clone()) {
                wrong.push(format!("{sql}\n  binlogd: {mine:?}\n  primary: {theirs:?}"));
            }
        } else if mine != theirs {
            let differ: Vec<String> = match (&mine, &theirs) {
                (Ok(m), Ok(t)) if m.len() == t.len() => m
                    .iter()
                    .zip(t)
                    .filter(|(a, b)| a != b)
                    .map(|(a, b)| format!("\n    binlogd: {a:?}\n    primary: {b:?}"))
                    .collect(),
                _ => vec![format!("\n    binlogd: {mine:?}\n    primary: {theirs:?}")],
            };
            wrong.push(format!("{sql}{}", differ.concat()));
        }
    }
    // The status counters a server of the primary's kind lists, in its order, with
    // binlogd's own among them.
    let names = |port| {
        rows_of(port, "SHOW GLOBAL STATUS")
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    let (mine, theirs) = (names(lport), names(s.port));
    let mut at = mine.iter();
    if theirs.len() < 100 || !theirs.iter().all(|n| at.any(|m| m == n)) {
        wrong.push(format!("SHOW GLOBAL STATUS's names\n  binlogd: {mine:?}\n  primary: {theirs:?}"));
    }
    // The diagnostics area, statement after statement: a failed statement's error is
    // in it, the statements that read it leave it, any other clears it.
    let script = "SELECT @@nosuch; SHOW WARNINGS; SHOW ERRORS LIMIT 1; SHOW COUNT(*) WARNINGS; SELECT @@error_count; \
                  SET @a = 1; SHOW WARNINGS; SHOW COUNT(*) ERRORS; SHOW WARNINGS LIMIT 1, 1; \
                  SHOW BINLOG EVENTS IN 'nosuch.000001'; SHOW ERRORS;";
    let (mine, theirs) = (forced(lport, script), forced(s.port, script));
    if mine != theirs {
        wrong.push(format!("{script}\n  binlogd: {mine}\n  primary: {theirs}"));
    }
    // The `mariadb` client's tables with --quick, which are as wide as the columns'
    // lengths: the same as the primary's.
    let script = "SHOW BINARY LOGS; SHOW MASTER STATUS; SHOW WARNINGS; SELECT @@binlog_format, USER(), DATABASE();";
    let quick = ["--quick", "--table", "--force"];
    let (mine, theirs) = (client_output(lport, script, &quick), client_output(s.port, script, &quick));
    if mine != theirs {
        wrong.push(format!("mariadb --quick --table\n  binlogd: {mine}\n  primary: {theirs}"));
    }
    // Several statements in one COM_QUERY (pymysql), with CLIENT_MULTI_STATEMENTS and
    // without it: the same answers, errors and syntax errors as the primary's.
    let (mine, theirs) = (multi_statements(lport), multi_statements(s.port));
    if mine != theirs {
        wrong.push(format!("multi-statements\n  binlogd: {mine}\n  primary: {theirs}"));
    }
    // The conditions statements raise, and the counts their answers carry.
    let (mine, theirs) = (conditions(lport), conditions(s.port));
    if mine != theirs {
        wrong.push(format!("conditions\n  binlogd: {mine}\n  primary: {theirs}"));
    }
    // The session's character sets: from the login, SET NAMES and the rest, reset.
    // A client's session tracker, and the status flags of every answer.
    let (mine, theirs) = (session_tracking(lport), session_tracking(s.port));
    if mine != theirs {
        let lines = |t: &str| t.lines().map(str::to_string).collect::<Vec<_>>();
        wrong.push(format!("session tracking{}", differing(&lines(&mine), &lines(&theirs))));
    }
    let (mine, theirs) = (charsets(lport), charsets(s.port));
    if mine != theirs {
        wrong.push(format!("character sets\n  binlogd: {mine}\n  primary: {theirs}"));
    }
    // A client that asked for CLIENT_DEPRECATE_EOF: the same packets as the primary's.
    let eof =
        ["SELECT 1", "SELECT @@version_comment LIMIT 1", "SHOW WARNINGS", "SELECT 1; SELECT 2", "SELECT @@nosuch"];
    let (mine, theirs) = (deprecate_eof_framing(lport, &eof), deprecate_eof_framing(s.port, &eof));
    if mine != theirs {
        wrong.push(format!("CLIENT_DEPRECATE_EOF\n  binlogd: {mine:?}\n  primary: {theirs:?}"));
    }
    // The greeting, and what the capabilities it offers change in the answers.
    let (mine, theirs) = (capabilities(lport), capabilities(s.port));
    if mine != theirs {
        wrong.push(format!("capabilities{}", differing(&mine, &theirs)));
    }
    // Prepared statements: plain, and as the MariaDB connectors ask (CLIENT_DEPRECATE_EOF,
    // MariaDB's extended metadata and its metadata cache).
    use binlogd::proto::caps::{ext, DEPRECATE_EOF};
    for (extra, ext) in
        [(0, 0), (DEPRECATE_EOF, ext::EXTENDED_METADATA | ext::CACHE_METADATA), (0, ext::CACHE_METADATA)]
    {
        let (mine, theirs) = (prepared(lport, extra, ext), prepared(s.port, extra, ext));
        if mine != theirs {
            wrong.push(format!("prepared statements {extra:x} {ext:x}{}", differing(&mine, &theirs)));
        }
    }
    for script in ["mariadb_connector.js", "mysql2_connector.js"] {
        let (mine, theirs) = (node_connector(script, lport), node_connector(script, s.port));
        if mine != theirs {
            wrong.push(format!("{script}\n  binlogd: {mine}\n  primary: {theirs}"));
        }
    }
    let (mine, theirs) = (connector(lport), connector(s.port));
    if mine != theirs {
        wrong.push(format!("Connector/Python\n  binlogd: {mine}\n  primary: {theirs}"));
    }
    let (mine, theirs) = (connector_j(lport), connector_j(s.port));
    if mine != theirs {
        wrong.push(format!("MariaDB Connector/J{}", differing(&mine, &theirs)));
    }
    // COM_SET_OPTION and COM_RESET_CONNECTION, as a connector sends them.
    let (mine, theirs) = (session_commands(lport), session_commands(s.port));
    if mine != theirs {
        wrong.push(format!("COM_SET_OPTION, COM_RESET_CONNECTION\n  binlogd: {mine:?}\n  primary: {theirs:?}"));
    }
    assert!(wrong.is_empty(), "{} statements answered unlike the primary:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(b.stop(), 0);
}

/// The answers that differ, side by side, and how many each gave.
fn differing(mine: &[String], theirs: &[String]) -> String {
    let pairs = mine.iter().zip(theirs).filter(|(a, b)| a != b);
    let shown: String = pairs.map(|(a, b)| format!("\n    binlogd: {a}\n    primary: {b}")).collect();
    format!(" ({} against {} answers){shown}", mine.len(), theirs.len())
}

/// The answers on `port` to one COM_QUERY: each result's row count or OK, until one
/// that says no more follow (SERVER_MORE_RESULTS_EXISTS), or an error's code.
fn results(c: &mut binlogd::proto::client::Client, sql: &str) -> String {
    let status = |p: &[u8], at: usize| p.get(at..at + 2).map_or(0, |f| u16::from_le_bytes([f[0], f[1]]));
    c.stream.seq = 0;
    c.stream.write_command(&binlogd::proto::command::query(sql)).unwrap();
    let mut out = Vec::new();
    loop {
        let p = c.stream.read().unwrap();
        let flags = match p.first() {
            Some(0xff) => {
                out.push(format!("ERR {}", binlogd::proto::parse_err(&p).server_code().unwrap_or(0)));
                return out.join(" ");
            }
            Some(0x00) => {
                out.push("OK".to_string());
                status(&p, 3)
            }
            _ => {
                // Column definitions up to an EOF, then rows up to the last EOF.
                while !binlogd::proto::resultset::is_eof(&c.stream.read().unwrap()) {}
                let mut rows = 0;
                let last = loop {
                    let r = c.stream.read().unwrap();
                    if binlogd::proto::resultset::is_eof(&r) {
                        break r;
                    }
                    rows += 1;
                };
                out.push(format!("{rows} rows"));
                status(&last, 3)
            }
        };
        if flags & 0x08 == 0 {
            return out.join(" ");
        }
    }
}

/// The packets on `port` of each answer to `statements`, for a client that asked for
/// CLIENT_DEPRECATE_EOF and CLIENT_MULTI_STATEMENTS (as the `mysql` and `mariadb` clients
/// ask): each result's column and row counts, and the bytes of the packet that ends
/// it (no EOF follows the column definitions; an OK headed 0xFE ends the rows).
fn deprecate_eof_framing(port: u16, statements: &[&str]) -> Vec<String> {
    use binlogd::proto::caps;
    let mut o = repl_options(port);
    o.extra_capabilities = caps::DEPRECATE_EOF | caps::MULTI_STATEMENTS;
    let mut c = binlogd::proto::client::Client::connect(&o).unwrap();
    let mut out = Vec::new();
    for sql in statements {
        c.stream.seq = 0;
        c.stream.write_command(&binlogd::proto::command::query(sql)).unwrap();
        let mut answer = Vec::new();
        loop {
            let p = c.stream.read().unwrap();
            let end = match p.first() {
                Some(0x00 | 0xff) => p,
                _ => {
                    let n = binlogd::proto::buf::Reader::new(&p).lenenc("count").unwrap();
                    for _ in 0..n {
                        c.stream.read().unwrap();
                    }
                    let mut rows = 0;
                    let end = loop {
                        let r = c.stream.read().unwrap();
                        if r.first() == Some(&0xff) || binlogd::proto::resultset::is_eof(&r) {
                            break r;
                        }
                        rows += 1;
                    };
                    answer.push(format!("{n} columns, {rows} rows"));
                    end
                }
            };
            let more = end.first() != Some(&0xff) && end.get(3).is_some_and(|f| f & 0x08 != 0);
            answer.push(format!("{:02x?}", end.get(..7.min(end.len())).unwrap_or_default()));
            if !more {
                break;
            }
        }
        out.push(format!("{sql}: {}", answer.join(" ")));
    }
    out
}

/// What a connector's COM_SET_OPTION (multi-statements on, then off) and
/// COM_RESET_CONNECTION get on `port`, and what the session holds after each.
fn session_commands(port: u16) -> Vec<String> {
    let mut c = binlogd::proto::client::Client::connect(&repl_options(port)).unwrap();
    let command = |c: &mut binlogd::proto::client::Client, payload: &[u8]| {
        c.stream.seq = 0;
        c.stream.write_command(payload).unwrap();
        format!("{:02x?}", c.stream.read().unwrap())
    };
    let mut out = vec![results(&mut c, "SET @x = 5; SELECT @x")];
    out.push(command(&mut c, &[0x1b, 0, 0]));
    out.push(results(&mut c, "SET @x = 5; SELECT @x, 1; SHOW BINARY LOGS; SELECT @@nosuch; SELECT 1"));
    out.push(command(&mut c, &[0x1b, 1, 0]));
    out.push(results(&mut c, "SELECT 1; SELECT 2"));
    out.push(command(&mut c, &[0x1b, 7, 0]).get(..5).unwrap_or_default().to_string());
    out.push(command(&mut c, &[0x1f]));
    // COM_FIELD_LIST with no database in use, commands each server knows or not
    // (COM_TIME, MariaDB's COM_PROCESS_KILL of no connection, its bulk execute cut short
    // and of no statement).
    for payload in
        [&b"\x04x\0"[..], b"\x0f", b"\x05db", b"\x0c\xff\xff\0\0", b"\xfa\x01\0\0\0", b"\xfa\x40\x42\x0f\0\0\0\0"]
    {
        out.push(command(&mut c, payload));
    }
    // COM_STATISTICS (`mysqladmin status`): the line's words, its numbers aside.
    c.stream.seq = 0;
    c.stream.write_command(&[0x09]).unwrap();
    let line = String::from_utf8_lossy(&c.stream.read().unwrap()).into_owned();
    out.push(line.split_whitespace().filter(|w| w.parse::<f64>().is_err()).collect::<Vec<_>>().join(" "));
    let rs = c.query("SELECT @x").unwrap();
    out.push(format!("{:?}", rs.rows));
    out
}

/// What a client gets on `port` for the capabilities a primary's greeting offers: the
/// greeting (its capabilities but CLIENT_SSL, which is each server's own, MariaDB's
/// extended ones, the collation, status and plugin), then the packets of each answer
/// to a client that asked, where the greeting offers it, for MariaDB's extended
/// metadata, MySQL's optional metadata (`resultset_metadata` FULL and NONE), MySQL's
/// query attributes (read and malformed), and an interactive client's and an
/// IGNORE_SPACE client's variables.
fn capabilities(port: u16) -> Vec<String> {
    use binlogd::proto::caps;
    use binlogd::proto::client::Client;
    let answer = |c: &mut Client, payload: &[u8]| {
        c.stream.seq = 0;
        c.stream.write_command(payload).unwrap();
        let (mut packets, mut eofs) = (Vec::new(), 0);
        loop {
            let p = c.stream.read().unwrap();
            eofs += usize::from(binlogd::proto::resultset::is_eof(&p));
            let end = p.first() == Some(&0xff) || (packets.is_empty() && p.first() == Some(&0)) || eofs == 2;
            packets.push(format!("{p:02x?}"));
            if end {
                return format!("{:?}: {}", String::from_utf8_lossy(payload), packets.join(" "));
            }
        }
    };
    let connect = |extra: u32, ext: u32| {
        let mut o = repl_options(port);
        (o.extra_capabilities, o.ext_capabilities) = (extra, ext);
        Client::connect(&o).unwrap()
    };
    let c = connect(0, 0);
    let g = &c.greeting;
    let mut out = vec![format!(
        "greeting {:08x} {:x} {} {} {}",
        g.capabilities & !caps::SSL,
        g.ext_capabilities,
        g.charset,
        g.status,
        g.auth_plugin
    )];
    let mut c = connect(0, caps::ext::EXTENDED_METADATA);
    for q in ["SELECT 1, 'a', @@sql_mode", "SHOW BINARY LOGS", "SHOW VARIABLES LIKE 'sql_mode'"] {
        let ext = c.ext_capabilities;
        let a = answer(&mut c, &binlogd::proto::command::query(q));
        out.push(format!("extended metadata {ext:x} {a}"));
    }
    let mut c = connect(caps::OPTIONAL_RESULTSET_METADATA, 0);
    if c.capabilities & caps::OPTIONAL_RESULTSET_METADATA != 0 {
        for q in [
            "SELECT 1",
            "SET resultset_metadata = NONE",
            "SELECT 1, 'a'",
            "SHOW BINARY LOGS",
            "SELECT @@resultset_metadata, @@session.resultset_metadata",
            "SHOW VARIABLES LIKE 'resultset%'",
            "SHOW GLOBAL VARIABLES LIKE 'resultset%'",
            "SELECT @@global.resultset_metadata",
            "SET GLOBAL resultset_metadata = FULL",
            "SET resultset_metadata = 'x'",
            "SET resultset_metadata = 1",
            "SELECT 1",
        ] {
            out.push(format!("optional metadata {}", answer(&mut c, &binlogd::proto::command::query(q))));
        }
        let mut plain = connect(0, 0);
        out.push(format!(
            "without it {}",
            answer(&mut plain, &binlogd::proto::command::query("SET resultset_metadata = 0"))
        ));
    }
    let mut c = connect(caps::QUERY_ATTRIBUTES, 0);
    if c.capabilities & caps::QUERY_ATTRIBUTES != 0 {
        let attributes: [&[u8]; 7] = [
            b"\x03\x00\x01SELECT 1",
            b"\x03\x02\x01\x00\x01\xfe\x00\x01a\x08\x00\x01b\x01X\x05\x00\x00\x00\x00\x00\x00\x00SELECT 2",
            b"\x03\x01\x01\x01\x01\xfe\x00\x01aSELECT 3",
            b"\x03\x01\x01\x00\x01\xfe\x00\x01aVSELECT 4",
            b"\x03\x01\x02\x00\x01\xfe\x00\x01aVSELECT 5",
            b"\x03\x00\x01SHOW WARNINGS",
            b"\x03\x00",
        ];
        for q in attributes {
            out.push(format!("query attributes {}", answer(&mut c, q)));
        }
    }
    let mut c = connect(caps::INTERACTIVE | caps::IGNORE_SPACE, 0);
    for q in [
        "SELECT @@wait_timeout, @@session.wait_timeout, @@global.wait_timeout, @@interactive_timeout",
        "SELECT @@sql_mode, @@global.sql_mode",
        "SHOW VARIABLES LIKE 'sql_mode'",
        "SHOW GLOBAL VARIABLES LIKE 'wait_timeout'",
    ] {
        out.push(format!("interactive, ignore space {}", answer(&mut c, &binlogd::proto::command::query(q))));
    }
    out
}

/// A parameter of COM_STMT_EXECUTE: its type and its value's bytes (None: NULL).
type Param = (u16, Option<Vec<u8>>);

/// The packets on `port` of prepared statements (COM_STMT_PREPARE, then
/// COM_STMT_EXECUTE with each set of parameters), for a client that asked for
/// `extra` and MariaDB's `ext` capabilities: the prepare's answer (statement ids
/// counted from the session's first), the parameters' and columns' definitions, and
/// the binary rows; then COM_STMT_RESET, COM_STMT_FETCH and executes of statements
/// closed or never prepared.
fn prepared(port: u16, extra: u32, ext: u32) -> Vec<String> {
    use binlogd::proto::client::Client;
    let mut o = repl_options(port);
    (o.extra_capabilities, o.ext_capabilities) = (extra, ext);
    let mut c = Client::connect(&o).unwrap();
    let deprecate_eof = c.capabilities & binlogd::proto::caps::DEPRECATE_EOF != 0;
    let hex = |p: &[u8]| format!("{p:02x?}");
    let int = |v: i64| (8u16, Some(v.to_le_bytes().to_vec()));
    let text = |v: &str| (0xfeu16, Some([&[v.len() as u8][..], v.as_bytes()].concat()));
    let null: Param = (6, None);
    let double = |v: f64| (5u16, Some(v.to_le_bytes().to_vec()));
    let datetime: Param = (12, Some(vec![7, 0xea, 0x07, 1, 2, 3, 4, 5]));
    let cases: Vec<(&str, Vec<Vec<Param>>)> = vec![
        ("SELECT ?", vec![vec![text("x")], vec![int(5)], vec![int(6)]]),
        ("SELECT 1, @@version_compile_os, NULL, 1.5", vec![vec![]]),
        ("SHOW BINARY LOGS", vec![vec![]]),
        ("SHOW BINLOG EVENTS LIMIT 2", vec![vec![]]),
        ("SHOW MASTER STATUS", vec![vec![]]),
        ("SHOW GLOBAL VARIABLES LIKE ?", vec![]),
        ("SET @x = ?", vec![vec![int(7)]]),
        ("SELECT @x", vec![vec![]]),
        ("SELECT ?, ?", vec![vec![text("a"), null.clone()]]),
        ("SELECT @@nosuch", vec![]),
        ("SELECT ?, ?, ?, ?", vec![vec![double(1.5), datetime, null, int(-3)]]),
        ("SELECT ?", vec![vec![text("abc")]]),
        ("DO 1", vec![vec![]]),
        ("SELECT 1; SELECT 2", vec![]),
    ];
    let mut out = Vec::new();
    let mut first_id = None;
    let read = |c: &mut Client| c.stream.read().unwrap();
    for (sql, runs) in cases {
        c.stream.seq = 0;
        c.stream.write_command(&[&[0x16][..], sql.as_bytes()].concat()).unwrap();
        let mut ok = read(&mut c);
        if ok.first() != Some(&0) {
            out.push(format!("PREPARE {sql}: {}", hex(&ok)));
            continue;
        }
        let id = u32::from_le_bytes([ok[1], ok[2], ok[3], ok[4]]);
        let first = *first_id.get_or_insert(id);
        ok[1..5].copy_from_slice(&(id - first + 1).to_le_bytes());
        let (columns, params) = (u16::from_le_bytes([ok[5], ok[6]]), u16::from_le_bytes([ok[7], ok[8]]));
        let mut packets = vec![hex(&ok)];
        for n in [params, columns] {
            if n > 0 {
                for _ in 0..n + u16::from(!deprecate_eof) {
                    packets.push(hex(&read(&mut c)));
                }
            }
        }
        out.push(format!("PREPARE {sql}: {}", packets.join(" ")));
        for values in runs {
            let mut p = vec![0x17];
            p.extend_from_slice(&id.to_le_bytes());
            p.push(0);
            p.extend_from_slice(&1u32.to_le_bytes());
            if !values.is_empty() {
                let mut nulls = vec![0u8; values.len().div_ceil(8)];
                for (i, v) in values.iter().enumerate() {
                    if v.1.is_none() {
                        nulls[i / 8] |= 1 << (i % 8);
                    }
                }
                p.extend_from_slice(&nulls);
                p.push(1);
                for v in &values {
                    p.extend_from_slice(&v.0.to_le_bytes());
                }
                for v in &values {
                    p.extend_from_slice(v.1.as_deref().unwrap_or_default());
                }
            }
            c.stream.seq = 0;
            c.stream.write_command(&p).unwrap();
            let mut answer = Vec::new();
            let first = read(&mut c);
            answer.push(hex(&first));
            if !matches!(first.first(), Some(0x00 | 0xff)) {
                let mut r = binlogd::proto::buf::Reader::new(&first);
                let n = r.lenenc("count").unwrap();
                // MariaDB's metadata cache: 0 after the count where the definitions
                // are those sent before, and none follow.
                let n = if r.u8("metadata_follows").ok() == Some(0) { 0 } else { n };
                for _ in 0..n + u64::from(!deprecate_eof) {
                    answer.push(hex(&read(&mut c)));
                }
                loop {
                    let r = read(&mut c);
                    answer.push(hex(&r));
                    if matches!(r.first(), Some(0xfe | 0xff)) {
                        break;
                    }
                }
            }
            out.push(format!("EXECUTE {sql} {values:?}: {}", answer.join(" ")));
        }
        c.stream.seq = 0;
        c.stream.write_command(&[&[0x19][..], &id.to_le_bytes()].concat()).unwrap();
    }
    // COM_STMT_RESET, COM_STMT_FETCH, COM_STMT_EXECUTE of a statement closed, of none.
    let first = first_id.unwrap_or(0);
    for cmd in [0x1a, 0x1c, 0x17] {
        for id in [first, 4_000_000] {
            c.stream.seq = 0;
            let mut p = vec![cmd];
            p.extend_from_slice(&id.to_le_bytes());
            p.extend_from_slice(&[0; 5]);
            c.stream.write_command(&p).unwrap();
            let r = read(&mut c);
            out.push(format!(
                "{cmd:02x} {}: {}",
                if id == first { "closed" } else { "none" },
                String::from_utf8_lossy(&r)
            ));
        }
    }
    out
}

/// MySQL Connector/Python's answers on `port` (its pure-Python protocol): statements
/// sent with query attributes of each type it encodes, one added at a time (a NULL
/// one it sends malformed, which MySQL 9.7 refuses with 1835), then without them;
/// then statements prepared and executed (its prepared cursor), with parameters of
/// each type, their rows and columns as it reads them from the binary protocol.
fn connector(port: u16) -> String {
    const SCRIPT: &str = r#"
import sys, datetime, mysql.connector
c = mysql.connector.connect(host="127.0.0.1", port=int(sys.argv[1]), user="repl", password="replpass",
                            use_pure=True, ssl_disabled=True)
cur = c.cursor()
for a in [("s", "v1"), ("i", 7), ("neg", -5), ("null", None), ("dt", datetime.datetime(2026, 1, 2, 3, 4, 5)),
          ("f", 1.5), ("d", datetime.date(2026, 1, 2)), ("t", datetime.time(1, 2, 3)), ("b", b"\x00\xff")]:
    cur.add_attribute(*a)
    try:
        cur.execute("SELECT 1 AS a, @@sql_mode")
        print(a[0], cur.fetchall(), cur.description)
    except mysql.connector.Error as e:
        print(a[0], e.errno, e.msg)
        cur.clear_attributes()
cur.clear_attributes()
cur.execute("SHOW BINARY LOGS")
print(len(cur.fetchall()), cur.description)
cur = c.cursor(prepared=True)
for q, args in [("SELECT ?, ?, ?, ?", (5, "a", None, 1.5)), ("SHOW BINARY LOGS", ()),
                ("SELECT @@version_compile_os, 1.5, NULL", ()), ("SET @x = ?", (7,)), ("SELECT @x", ()),
                ("SELECT ?", (datetime.datetime(2026, 1, 2, 3, 4, 5),)), ("SELECT @@nosuch", ()),
                ("SHOW BINLOG EVENTS LIMIT 1", ()), ("SELECT ?", ("x",)), ("SELECT ?", (6,)),
                ("SELECT GTID_SUBSET(?, ?)", ("", "")), ("SHOW GLOBAL VARIABLES LIKE ?", ("version",))]:
    try:
        cur.execute(q, args)
        rows = cur.fetchall() if cur.with_rows else None
        print(q, rows, [(d[0], d[1], d[6]) for d in (cur.description or [])])
    except mysql.connector.Error as e:
        print(q, e.errno, e.msg)
"#;
    let o = std::process::Command::new("python3").args(["-c", SCRIPT, &port.to_string()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A Node.js connector's answers on `port` (`tests/cdc/<script>`): MariaDB
/// Connector/Node.js's text queries and prepared statements, with the extended metadata
/// and metadata cache it asks a MariaDB server for; mysql2's, escaping its values and
/// binding numbers as doubles.
/// MariaDB Connector/J's answers on `port` (`tests/cdc/ConnectorJ.java`), one line
/// each, the connection id its errors carry left out.
fn connector_j(port: u16) -> Vec<String> {
    let o = std::process::Command::new("java")
        .args(["-cp", "/usr/share/java/mariadb-java-client.jar"])
        .arg(repo().join("tests/cdc/ConnectorJ.java"))
        .arg(port.to_string())
        .output()
        .unwrap();
    assert!(o.status.success(), "java on port {port}: {}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    out.lines()
        .map(|l| match l.split_once(" (conn=").and_then(|(a, b)| Some((a, b.split_once(") ")?.1))) {
            Some((a, b)) => format!("{a} {b}"),
            None => l.to_string(),
        })
        .collect()
}

fn node_connector(script: &str, port: u16) -> String {
    let o = std::process::Command::new("node")
        .arg(repo().join("tests/cdc").join(script))
        .arg(port.to_string())
        .env("NODE_PATH", "/var/cache/binlogd-test/node/node_modules")
        .output()
        .unwrap();
    assert!(o.status.success(), "node on port {port}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// pymysql's answers on `port` to texts of several statements, as one line each:
/// the rows of each result, then the error that ended them.
fn multi_statements(port: u16) -> String {
    const SCRIPT: &str = r#"
import sys, pymysql
for flags in (0, pymysql.constants.CLIENT.MULTI_STATEMENTS):
    c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="repl", password="replpass", client_flag=flags)
    cur = c.cursor()
    for q in ["SELECT 1; SELECT 2", "SELECT 1 ;  SELECT 2;", "SELECT 'a;b'; SELECT 2", "SET @x = 1; SELECT @x",
              "SELECT 1; SELECT @@nosuch; SELECT 3", "SHOW BINLOG EVENTS LIMIT 1; SELECT 2",
              "SELECT 2; SHOW BINLOG EVENTS LIMIT 1", "SELECT 1;;", "", " ; ", "/* ping */", "-- ping",
              "SELECT 1 # one\n, 2 -- two"]:
        r = []
        try:
            cur.execute(q)
            r.append(len(cur.fetchall()))
            while cur.nextset():
                r.append(len(cur.fetchall()))
            print(flags, repr(q), r)
        except Exception as e:
            print(flags, repr(q), r, e)
"#;
    let o = std::process::Command::new("python3").args(["-c", SCRIPT, &port.to_string()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The packets pymysql reads on `port` for a client that asked for
/// CLIENT_SESSION_TRACK: the login's OK, then each statement's (and COM_RESET_CONNECTION's
/// and COM_INIT_DB's) packets that carry a status, in hex: the session tracker's
/// reports (the character sets, autocommit, time zone, the database, the transaction
/// state MySQL reports), and each OK's and EOF's status flags (autocommit, in a
/// transaction, no index used).
fn session_tracking(port: u16) -> String {
    const SCRIPT: &str = r#"
import sys, pymysql
from pymysql.constants import CLIENT
import pymysql.connections as pc
log = []
orig = pc.Connection._read_packet
def rp(self, packet_type=pc.MysqlPacket):
    p = orig(self, packet_type); log.append(p._data); return p
pc.Connection._read_packet = rp
def lenenc(b, i):
    f = b[i]
    if f < 0xfb: return f, i + 1
    n = {0xfc: 2, 0xfd: 3, 0xfe: 8}[f]
    return int.from_bytes(b[i + 1:i + 1 + n], "little"), i + 1 + n
def shown(x):
    # An OK's session state: its entries in a sorted order (the servers keep the changed
    # variables in a hash, whose order differs from one server to the next).
    if x[:1] != b"\x00":
        return x.hex()
    _, i = lenenc(x, 1); _, i = lenenc(x, i)
    status = int.from_bytes(x[i:i + 2], "little")
    if not status & 0x4000:
        return x.hex()
    i += 4
    # The info: MariaDB 11.4+'s proof of the password is another at each login: its
    # length alone.
    at = i
    n, i = lenenc(x, i); i += n
    head = x[:at].hex() + "info(%d)" % n
    n, i = lenenc(x, i)
    state, entries = x[i:i + n], []
    j = 0
    while j < len(state):
        k, e = lenenc(state, j + 1)
        entries.append(state[j:e + k].hex()); j = e + k
    return head + "[" + ",".join(sorted(entries)) + "]"
# Without TLS, which pymysql would take from binlogd and not from a primary without it.
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="repl", password="replpass",
                    client_flag=CLIENT.SESSION_TRACK | CLIENT.MULTI_STATEMENTS, autocommit=None, ssl_disabled=True)
# The login's OK (after the greeting and any auth exchange), then that of the SET NAMES
# pymysql sends.
print("login", shown(next(x for x in log[1:] if x[:1] == b"\x00")), shown(log[-1]))
cur = c.cursor()
ends = lambda: " ".join(shown(x) for x in log if x[:1] == b"\x00" and len(x) < 200 or x[:1] == b"\xfe" and len(x) < 9)
for q in sys.argv[2:]:
    log.clear()
    try:
        cur.execute(q)
        while cur.nextset():
            pass
        print(q, "|", ends())
    except pymysql.MySQLError as e:
        print(q, "| ERR", e.args[0])
log.clear()
c._execute_command(0x1f, b""); c._read_ok_packet()
print("COM_RESET_CONNECTION |", shown(log[-1]))
log.clear()
c.select_db("information_schema")
print("COM_INIT_DB |", shown(log[-1]))
"#;
    let statements = [
        "SET NAMES utf8mb4",
        "USE information_schema",
        "SET CHARACTER SET latin1",
        "SET NAMES latin1 COLLATE latin1_bin",
        "SET time_zone='+00:00', autocommit=1",
        "SET autocommit=1",
        "SET SESSION autocommit=0, @@session.time_zone='+02:00'",
        "SELECT @@autocommit, @@session.autocommit, @@global.autocommit, @@time_zone",
        "BEGIN",
        "SELECT 1",
        "COMMIT",
        "BEGIN",
        "SET autocommit=1",
        "ROLLBACK",
        "SET time_zone=DEFAULT",
        "SET character_set_client=utf8mb4",
        "SET collation_connection=utf8mb4_bin",
        "SET character_set_results=NULL, autocommit=1",
        "SET @x=1",
        "SET autocommit=2",
        "SHOW SESSION VARIABLES LIKE 'autocommit'",
        "SHOW GLOBAL STATUS LIKE 'Uptime'",
        "SHOW DATABASES",
        "SHOW PROCESSLIST",
        "SHOW WARNINGS",
        // With autocommit off, SHOW DATABASES reads a MySQL primary's data dictionary,
        // which opens a transaction there (not on MariaDB): the status says so until COMMIT.
        "SET @@session.autocommit=OFF; SELECT 1",
        "SHOW DATABASES",
        "SHOW WARNINGS",
        "COMMIT",
        "SELECT 1",
    ];
    let o = std::process::Command::new("python3")
        .args(["-c", SCRIPT, &port.to_string()])
        .args(statements)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A session's character sets on `port`, as pymysql sees them: the greeting's
/// collation, then the four variables after each way of setting them, and the
/// collation and lengths their result's columns (and SHOW BINARY LOGS') carry; a SET
/// that fails in part changes nothing.
fn charsets(port: u16) -> String {
    const BODY: &str = r#"
four = "SELECT @@character_set_client, @@character_set_connection, @@character_set_results, @@collation_connection"
# Each column's collation, length, flags and decimals, as clients read them.
meta = lambda: [(f.charsetnr, f.length, f.flags, f.scale) for f in cur._result.fields]
print("greeting", c.server_language)
for q in ["SET NAMES latin1", "SET NAMES 'utf8mb4' COLLATE utf8mb4_bin", "SET NAMES utf8", "SET NAMES binary",
          "SET character_set_results = NULL", "SET CHARACTER SET cp1251", "SET SESSION collation_connection = latin1_bin",
          "SET @@character_set_client = DEFAULT", "SET NAMES nosuch", "SET NAMES latin1 COLLATE utf8mb4_bin",
          "SET NAMES latin1 COLLATE nosuch", "SET character_set_client = NULL",
          "SET autocommit = 1, @x = 1", "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
          "SET @a = 1, character_set_client = NULL", "SET NAMES latin1, @b = 2, character_set_results = nosuch",
          "SET @a = 3, NAMES cp1251", "reset"]:
    try:
        if q == "reset":
            c._execute_command(0x1f, b"")
            c._read_ok_packet()
        else:
            cur.execute(q)
        cur.execute("SHOW WARNINGS")
        w = [r[:2] for r in cur.fetchall()]
    except Exception as e:
        w = e.args[0]
    cur.execute(four)
    print(q, w, cur.fetchall(), meta())
    # A SHOW statement's columns in the session's character set: its collation, and
    # its characters' bytes in it.
    cur.execute("SHOW BINARY LOGS")
    print(meta())
    if q.startswith("SET @a") or q.startswith("SET NAMES latin1,"):
        # A SET that fails changes nothing (values only: user variables' types differ).
        cur.execute("SELECT @a, @b")
        print([str(v) for v in cur.fetchone()])
cur.execute("SHOW VARIABLES LIKE 'character_set_c%'")
print(cur.fetchall())
cur.execute("SHOW GLOBAL VARIABLES LIKE 'character_set_c%'")
print(cur.fetchall())
# User variables keep their value's type (their text columns' collation is the session's).
cur.execute("SET @i = 3, @s = 'abc', @n = NULL, @d = 1.5, @neg = -2")
cur.execute("SELECT @nosuch, @i, @s, @n, @d, @neg")
print(cur.fetchall(), [f.type_code for f in cur._result.fields], meta())
cur.execute("SELECT @@global.character_set_client, @@session.character_set_client")
print(cur.fetchall())
# The database in use has its own character set: information_schema's is utf8mb3.
cur.execute("USE information_schema")
cur.execute("SELECT @@character_set_database, @@collation_database, @@global.character_set_database")
print(cur.fetchall(), meta())
cur.execute("SHOW VARIABLES LIKE 'c%_database'")
print(cur.fetchall())
"#;
    pymysql::<&str>(port, BODY, &[])
}

/// Statements whose conditions a server raises: deprecations (MySQL), strings read as
/// numbers, the other flavour's words; and the diagnostics statements after them.
const CONDITION_STATEMENTS: &[&str] = &[
    " ",
    "status",
    "foo bar",
    "SET time_zone = '+25:00'",
    "SET time_zone = '+5:3'",
    "SELECT @@time_zone, DATABASE()",
    "SET time_zone = '-13:30'",
    "SET time_zone = 5",
    "SET time_zone = NULL",
    "SET time_zone = 'system'",
    "SET resultset_metadata = FULL",
    "SELECT @@time_zone, DATABASE()",
    "SELECT @@binlog_format",
    "SHOW WARNINGS",
    "SELECT @@log_slave_updates, @@slave_net_timeout, @@global.binlog_format",
    "SELECT @@nosuch",
    "SELECT 1",
    "SHOW WARNINGS",
    "SELECT MASTER_POS_WAIT('x.000001', '4x', 1)",
    "SELECT WAIT_FOR_EXECUTED_GTID_SET('', 'x')",
    "SELECT BINLOG_GTID_POS('mysql-bin.000001', '370abc')",
    "SELECT MASTER_GTID_WAIT('0-1-1', '0.5x')",
    "SET NAMES utf8",
    "SHOW COUNT(*) WARNINGS",
    // The database in use: the other flavour's functions become stored ones of it.
    "SELECT DATABASE(), SCHEMA()",
    "USE nosuch",
    "USE INFORMATION_SCHEMA",
    "SELECT DATABASE(), SCHEMA()",
    "SELECT MASTER_GTID_WAIT('0-1-1', 1)",
    "SELECT GTID_SUBSET('', '')",
    // Arguments are expressions (MySQL Shell passes @@GLOBAL.GTID_EXECUTED), NULL
    // gives NULL; the count is checked as for any native function.
    "SELECT GTID_SUBTRACT(NULL, ''), GTID_SUBSET(NULL, NULL), GTID_SUBSET(@@global.gtid_executed, '')",
    "SELECT GTID_SUBTRACT(@@GLOBAL.GTID_EXECUTED, '3E11FA47-71CA-11E1-9E33-C80AA9429562:1')",
    "SELECT GTID_SUBTRACT('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5')",
];

/// Each statement's conditions on `port`, as pymysql sees them: the warning count its
/// answer carries, then SHOW WARNINGS (or the statement's error code); and the rows of
/// those that ask which database is in use or compare GTID sets.
fn conditions(port: u16) -> String {
    const BODY: &str = r#"
for q in sys.argv[2:]:
    try:
        cur.execute(q)
        n = cur._result.warning_count
        rows = cur.fetchall() if "DATABASE()" in q or "GTID_SU" in q else ""
        cur.execute("SHOW WARNINGS")
        print(q, n, rows, cur.fetchall())
    except Exception as e:
        # The error in the diagnostics area, and the count SHOW WARNINGS's own end carries.
        cur.execute("SHOW WARNINGS")
        print(q, e.args, cur.fetchall(), cur._result.warning_count)
"#;
    pymysql(port, BODY, CONDITION_STATEMENTS)
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
            "SELECT @@GLOBAL.GTID_EXECUTED",
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
            "SHOW PROCESSLIST",
            // The words MySQL 8.4 removed, and MariaDB's own: its parser's errors.
            "=SHOW MASTER STATUS",
            "=SHOW BINLOG STATUS",
            "=SHOW MASTER LOGS",
            "=show  slave   status",
            "=SHOW SLAVE HOSTS",
            "=SHOW REPLICA HOSTS",
            "=SHOW ALL SLAVES STATUS",
            "=SHOW SLAVE 'x' STATUS",
            "=SHOW REPLICA 'x' STATUS",
            "=STOP SLAVE",
            "=START SLAVE IO_THREAD",
            "=STOP ALL REPLICAS",
            "=CHANGE MASTER TO MASTER_CONNECT_RETRY = 60",
            "=RESET SLAVE ALL",
            "=RESET MASTER",
            "=PURGE MASTER LOGS TO 'x.000001'",
            "=FLUSH SSL",
            "=KILL HARD 4294967295",
            "SELECT 1, 'a', CONNECTION_ID(), NOW(), NOW() - INTERVAL 1 DAY",
            "SELECT @@nosuch",
            "SELECT @@gtid_current_pos",
            "SELECT GTID_SUBTRACT('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5', '3E11FA47-71CA-11E1-9E33-C80AA9429562:2')",
            "SELECT GTID_SUBSET(NULL, NULL), GTID_SUBSET(@@global.gtid_executed, ''), GTID_SUBSET('', '')",
            "USE nosuch",
            "USE information_schema",
            // MySQL Shell and failover tools compare GTID sets on the server; MariaDB's
            // functions are stored functions of no database to MySQL.
            "=SELECT GTID_SUBSET('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5', '3E11FA47-71CA-11E1-9E33-C80AA9429562:2'), GTID_SUBSET('3E11FA47-71CA-11E1-9E33-C80AA9429562:2', '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5'), GTID_SUBSET(NULL, '')",
            "=SELECT MASTER_GTID_WAIT('0-1-1', 1)",
            "=SELECT BINLOG_GTID_POS('mysql-bin.000001', 4)",
            "SELECT @@global.super_read_only",
            // The variables and status tables (MySQL Shell reads global_variables).
            "=SELECT * FROM performance_schema.global_variables WHERE VARIABLE_NAME = 'gtid_mode'",
            "=SELECT VARIABLE_VALUE FROM performance_schema.session_variables \
              WHERE VARIABLE_NAME IN ('autocommit', 'sql_mode') ORDER BY VARIABLE_NAME",
            "=SELECT variable_value FROM performance_schema.global_variables WHERE variable_name LIKE 'binlog_row_i%'",
            "~SELECT * FROM performance_schema.global_status WHERE VARIABLE_NAME = 'Uptime'",
            // The old semi-sync names, gone with their plugins in 8.4.
            "=SELECT @@rpl_semi_sync_slave_enabled",
            "=SET GLOBAL rpl_semi_sync_master_enabled = OFF",
            "SELECT @@session.transaction_read_only",
            "=SELECT @@tx_read_only",
            "SELECT @@global.replica_net_timeout, @@max_execution_time, @@global.binlog_transaction_compression, \
             @@global.binlog_encryption, @@global.binlog_row_value_options, @@global.binlog_gtid_simple_recovery",
        ],
    );
}

/// MariaDB's statements: those of its replicas, CDC tools and DBAs.
const MARIADB_STATEMENTS: &[&str] = &[
    "SHOW MASTER STATUS",
    "SHOW BINLOG STATUS",
    "SELECT @@global.gtid_current_pos",
    "SHOW BINARY LOGS",
    "SHOW BINLOG EVENTS LIMIT 1",
    "SHOW SLAVE HOSTS",
    "SHOW REPLICA HOSTS",
    "SHOW SLAVE STATUS",
    "SHOW ALL REPLICAS STATUS",
    "SHOW SLAVE '' STATUS",
    "=SHOW SLAVE 'x' STATUS",
    "=SHOW REPLICA STATUS FOR CHANNEL 'x'",
    // MySQL's words, and what MariaDB 10.11 lacks: its parser's errors.
    "=SHOW BINARY LOG STATUS",
    "=SHOW REPLICAS",
    "=CHANGE REPLICATION SOURCE TO SOURCE_CONNECT_RETRY = 60",
    "=RESET BINARY LOGS AND GTIDS",
    "=ALTER INSTANCE RELOAD TLS",
    "=SHOW SLAVE STATUS NONBLOCKING",
    "=SHOW ALL SLAVES STATUS FOR CHANNEL ''",
    "=KILL HARD 4294967295",
    "=KILL SOFT CONNECTION 4294967295",
    "=KILL QUERY ID 4294967295",
    "SHOW VARIABLES LIKE 'server_id'",
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('binlog_checksum', 'server_id')",
    "SELECT @@server_id, @@version, @@lower_case_table_names, @@binlog_checksum",
    "SELECT @@read_only, @@gtid_purged, @@global.gtid_current_pos",
    "=SELECT @@gtid_binlog_state",
    // Enumerations and sets, by the members SYSTEM_VARIABLES lists: given back in the
    // primary's case and order, refused as it refuses, sql_mode's combinations added.
    "=SET sql_mode = 'ansi_quotes,strict_trans_tables'; SELECT @@sql_mode",
    "=SET sql_mode = 'ansi_quotes,nosuch,x'",
    "=SET sql_mode = 'ANSI_QUOTES,,IGNORE_SPACE'; SELECT @@sql_mode",
    "=SET sql_mode = 3; SELECT @@sql_mode",
    "=SET sql_mode = 68719476736",
    "=SET sql_mode = ANSI; SELECT @@sql_mode",
    "=SET sql_mode = 'traditional'; SELECT @@sql_mode",
    "=SET sql_mode = ''; SELECT @@sql_mode",
    "=SET completion_type = 1; SELECT @@completion_type",
    "=SET completion_type = 'release'; SELECT @@completion_type",
    "=SET completion_type = 7",
    "=SET completion_type = 'chain '",
    "=SET completion_type = 1.5",
    "=SET completion_type = -1",
    "=SET tx_isolation = 'read-committed'; SELECT @@tx_isolation",
    // A number rounded down to the primary's step.
    "=SET join_buffer_size = 1000; SHOW WARNINGS; SELECT @@join_buffer_size",
    // orchestrator's MariaDB GTID query.
    "~select @@global.gtid_domain_id, @@global.gtid_current_pos, @@global.gtid_binlog_pos, \
     @@global.gtid_slave_pos",
    "SHOW DATABASES",
    "SHOW GRANTS",
    "SHOW PROCESSLIST",
    "SELECT 1, 'a', CONNECTION_ID(), NOW(), DATE_SUB(NOW(), INTERVAL 7 DAY)",
    "SELECT @@nosuch",
    "SELECT @@gtid_executed",
    "USE nosuch",
    // MySQL's functions are unknown to MariaDB.
    "=SELECT GTID_SUBSET('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5', '3E11FA47-71CA-11E1-9E33-C80AA9429562:2')",
    "=SELECT GTID_SUBTRACT('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5', '3E11FA47-71CA-11E1-9E33-C80AA9429562:2')",
    "=SELECT WAIT_FOR_EXECUTED_GTID_SET('', 1)",
    "=SELECT SOURCE_POS_WAIT('mysql-bin.000001', 4, 1)",
    "SELECT @@tx_read_only, @@session.tx_read_only",
    // The variables and status tables: MariaDB's in information_schema, names in upper case.
    "=SELECT * FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'BINLOG_FORMAT'",
    "=SELECT variable_name, variable_value FROM information_schema.global_variables \
      where variable_name = 'binlog_row_image'",
    "~SELECT * FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME LIKE 'uptime'",
    // What no SET changes, as MariaDB's SYSTEM_VARIABLES says.
    "=SET GLOBAL innodb_page_size = 1",
    "=SET innodb_page_size = 1",
    // MySQL 8.0's persisted settings are MySQL's words.
    "=SET PERSIST max_connections = 5",
    "=SET PERSIST_ONLY max_connections = 5",
    "=RESET PERSIST max_connections",
    "=SET @@persist.max_connections = 5",
    "=SELECT @@transaction_read_only",
    "~SELECT @@global.binlog_annotate_row_events, @@have_ssl",
];

#[test]
fn mariadb_statements_get_the_primarys_columns_and_types() {
    same_columns(Flavor::MariaDb, "columns-maria", MARIADB_STATEMENTS);
}

/// MariaDB 11.8 answers SHOW SLAVE STATUS from information_schema.SLAVE_STATUS, with
/// the last events' times, and types NOW() as TIMESTAMP and UUID() as its UUID type.
#[test]
fn mariadb11_statements_get_the_primarys_columns_and_types() {
    same_columns(Flavor::MariaDb11, "columns-maria11", MARIADB_STATEMENTS);
}

/// MariaDB's binlog state names every server that logged in a domain, not only the
/// last: failover tools find a server's errant transactions with it. binlogd's comes
/// from the stored files (a file's Gtid_list, then its GTIDs), also after a restart.
#[test]
fn gtid_binlog_state_names_every_server_of_each_domain_as_the_primarys() {
    binlog_state_as_the_primarys(Flavor::MariaDb, "gbs");
}

#[test]
fn gtid_binlog_state_names_every_server_of_each_domain_as_mariadb11s() {
    binlog_state_as_the_primarys(Flavor::MariaDb11, "gbs11");
}

fn binlog_state_as_the_primarys(flavor: Flavor, tag: &str) {
    let s = Server::start(flavor, &format!("{tag}-src"));
    let (mut b, lport) = Binlogd::serving(&s, tag, "");
    s.sql("CREATE DATABASE g; CREATE TABLE g.t (a INT)");
    s.sql("SET SESSION server_id = 77; INSERT INTO g.t VALUES (1)");
    s.sql("SET SESSION gtid_domain_id = 3; INSERT INTO g.t VALUES (2)");
    s.sql("INSERT INTO g.t VALUES (3)");
    let q = "SELECT @@gtid_binlog_state, @@global.gtid_binlog_pos; SHOW GLOBAL VARIABLES LIKE 'gtid_binlog_state'";
    let want = s.sql(q);
    assert!(want.starts_with("0-77-3,0-1-4,3-1-1\t0-1-4,3-1-1\n"), "{want}");
    wait_answer(lport, q, &want, "the state mirrored");
    // A new file starts with the whole state in its Gtid_list: read from there on restart.
    s.sql("FLUSH BINARY LOGS; SET SESSION server_id = 78; INSERT INTO g.t VALUES (4)");
    let want = s.sql(q);
    wait_answer(lport, q, &want, "the state mirrored");
    // Read again from the Gtid_list, the hash of servers is built in the list's order,
    // as mysqld builds its own from its state file when it starts.
    b.stop();
    s.restart();
    b.start();
    let want = s.sql(q);
    assert!(want.starts_with("0-1-4,0-77-3,0-78-5,3-1-1\t"), "{want}");
    wait_answer(lport, q, &want, "the state read again");
}

/// A SET GLOBAL on the primary reaches binlogd's clients within
/// `variables_refresh_interval`, with no new file of the primary's.
#[test]
fn the_primarys_variables_are_read_again_every_refresh_interval() {
    let s = Server::start(Flavor::MariaDb, "refresh-src");
    let (mut b, lport) = Binlogd::serving(&s, "refresh", "variables_refresh_interval = 0.5");
    wait_answer(lport, "SELECT @@long_query_time", "10.000000\n", "the primary's value");
    s.sql("SET GLOBAL long_query_time = 4");
    wait_answer(lport, "SELECT @@long_query_time", "4.000000\n", "the primary's new value");
    b.wait_log("long_query_time = '4.000000'", std::time::Duration::from_secs(5));
    assert_eq!(b.stop(), 0);
}

#[test]
fn a_dbas_statements_get_the_answers_a_primary_gives() {
    let s = Server::start(Flavor::MariaDb, "dba-src");
    s.sql("SET GLOBAL binlog_row_metadata = FULL, GLOBAL read_only = ON");
    let (mut b, lport) = Binlogd::serving(&s, "dba", "");
    s.sql("CREATE DATABASE dba; CREATE TABLE dba.t (a INT); FLUSH BINARY LOGS; INSERT INTO dba.t VALUES (1); FLUSH BINARY LOGS");
    wait_active_mirrored(&s, &b);
    // USE sends COM_INIT_DB; a server with no databases of its own has information_schema.
    let (ok, out, err) = session(lport, "USE information_schema; SHOW DATABASES; SELECT DATABASE()");
    assert!(ok && out.starts_with("information_schema\n"), "{out}{err}");
    let (ok, _, err) = session(lport, "USE dba");
    assert!(!ok && err.contains("ERROR 1044"), "{err}");
    // The primary's variables, as the primary reports them, also while it is down.
    let primary_vars = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('binlog_row_metadata', 'read_only', 'sql_mode', \
                        'long_query_time', 'innodb_buffer_pool_size')";
    let want = s.sql(primary_vars);
    assert_eq!(want.lines().count(), 5, "{want}");
    let others = "SELECT @@long_query_time, @@table_open_cache, @@event_scheduler";
    let others_want = s.sql(others);
    let collations = "SHOW COLLATION WHERE Charset = 'utf8mb4'";
    let collations_want = s.sql(collations);
    assert!(collations_want.lines().count() > 10, "{collations_want}");
    assert!(want.contains("binlog_row_metadata\tFULL") && want.contains("read_only\tON"), "{want}");
    let (_, out, _) = session(lport, primary_vars);
    assert_eq!(out, want);
    let (_, out, _) = session(lport, "SELECT @@read_only, @@server_id");
    assert_eq!(out, "1\t1001\n");
    // A SET GLOBAL of the primary's, which changes nothing on binlogd, is checked as the
    // primary checks it (repl is binlogd's admin; root the primary's).
    for bad in ["SET GLOBAL read_only = 'maybe'", "SET GLOBAL sql_mode = 'nosuch'", "SET GLOBAL long_query_time = 'x'"]
    {
        let error = |out: &str| out.lines().find(|l| l.starts_with("ERROR ")).map(str::to_string);
        let theirs = error(&s.sql_result(bad).unwrap_err());
        let (ok, _, mine) = session(lport, bad);
        assert!(!ok && theirs.is_some() && error(&mine) == theirs, "{bad}: {mine} / {theirs:?}");
    }
    // A SET GLOBAL on the primary reaches binlogd's clients at its next rotation, not
    // at binlogd's next connect.
    s.sql("SET GLOBAL long_query_time = 3, GLOBAL binlog_row_metadata = MINIMAL, GLOBAL read_only = OFF");
    s.sql("FLUSH BINARY LOGS");
    wait_until("the primary's new settings", std::time::Duration::from_secs(20), || {
        session(lport, "SELECT @@long_query_time, @@binlog_row_metadata, @@read_only").1 == "3.000000\tMINIMAL\t0\n"
    });
    b.wait_log("the primary's variables changed: ", std::time::Duration::from_secs(5));
    let log = b.log_text();
    assert!(log.contains("binlog_row_metadata = 'MINIMAL'") && log.contains("long_query_time = '3.000000'"), "{log}");
    s.sql(
        "SET GLOBAL long_query_time = 10, GLOBAL binlog_row_metadata = FULL, GLOBAL read_only = ON; FLUSH BINARY LOGS",
    );
    wait_until("the primary's settings back", std::time::Duration::from_secs(20), || {
        session(lport, primary_vars).1 == want
    });
    // Date arithmetic as DBAs type it, in SELECT and in PURGE.
    let (ok, out, err) = session(lport, "SELECT NOW() > DATE_SUB(NOW(), INTERVAL 7 DAY), NOW() - INTERVAL 1 DAY");
    assert!(!ok && err.contains("ERROR 1235"), "a comparison is not date arithmetic: {out}{err}");
    let (ok, out, _) = session(
        lport,
        "SELECT NOW(), CURRENT_TIMESTAMP - INTERVAL 1 DAY, DATE_ADD('2026-01-31 10:00:00', INTERVAL 1 MONTH)",
    );
    assert!(ok && out.trim_end().ends_with("\t2026-02-28 10:00:00"), "{out}");
    let logs = s.binary_logs();
    let (ok, _, err) = session(lport, "PURGE BINARY LOGS BEFORE DATE_SUB(NOW(), INTERVAL 7 DAY)");
    assert!(ok, "{err}");
    assert_eq!(b.index(), logs, "nothing is a week old");
    let (ok, _, err) = session(lport, "PURGE BINARY LOGS BEFORE NOW() + INTERVAL 1 DAY");
    assert!(ok, "{err}");
    assert_eq!(b.index(), logs[logs.len() - 1..].to_vec(), "all but the active file are older than tomorrow");
    // The deepest statements binlogd parses run on a connection thread's stack; one
    // level more is an error, and the connection thread goes on.
    let nested =
        |n: usize| format!("SHOW GLOBAL VARIABLES WHERE {}Variable_name = 'read_only'{}", "(".repeat(n), ")".repeat(n));
    let (ok, out, err) = session(lport, &nested(32));
    assert!(ok && out.contains("read_only"), "{out}{err}");
    let (ok, _, err) = session(lport, &nested(33));
    assert!(!ok && err.contains("nested"), "{err}");
    let ifnull = |n: usize| format!("SELECT {}1{}", "IFNULL(NULL, ".repeat(n), ")".repeat(n));
    let (ok, out, err) = session(lport, &ifnull(32));
    assert!(ok && out == "1\n", "{out}{err}");
    let (ok, _, err) = session(lport, &ifnull(33));
    assert!(!ok && err.contains("ERROR 1235") && err.contains("nested"), "{err}");
    // A function whose arguments are expressions nests no deeper.
    let pos = |n: usize| format!("SELECT {}'f'{}", "BINLOG_GTID_POS(".repeat(n), ", 4)".repeat(n));
    let (ok, _, err) = session(lport, &pos(5000));
    assert!(!ok && err.contains("ERROR 1235") && err.contains("nested"), "{err}");
    let date = |n: usize| format!("SELECT {}NOW(){}", "DATE_ADD(".repeat(n), ", INTERVAL 1 DAY)".repeat(n));
    let (ok, out, err) = session(lport, &date(32));
    assert!(ok, "{out}{err}");
    let (ok, _, _) = session(lport, &date(2000));
    assert!(!ok);
    let (ok, _, err) = session(lport, "SELECT 1");
    assert!(ok, "{err}");
    // Refusals that say why.
    // FLUSH BINARY LOGS is the primary's to do: asked of it as master_user, who needs
    // RELOAD there, and answered once binlogd stored the new file.
    let (ok, _, err) = session(lport, "FLUSH BINARY LOGS");
    assert!(!ok && err.contains("ERROR 1227") && err.contains("RELOAD"), "{err}");
    s.sql("GRANT RELOAD ON *.* TO 'repl'@'%'; GRANT RELOAD ON *.* TO 'repl'@'localhost'");
    for flush in ["FLUSH BINARY LOGS", "FLUSH LOCAL BINARY LOGS", "FLUSH NO_WRITE_TO_BINLOG BINARY LOGS"] {
        let before = s.binary_logs();
        let (ok, out, err) = session(lport, &format!("{flush}; SHOW MASTER STATUS"));
        let after = s.binary_logs();
        assert_eq!(after.len(), before.len() + 1, "{flush}: the primary rotated");
        assert!(ok && out.starts_with(&format!("{}\t", after[after.len() - 1])), "{flush}: {out}{err}");
    }
    let (ok, _, err) = session(lport, "FLUSH NOSUCH BINARY LOGS");
    assert!(!ok && err.contains("ERROR 1235"), "{err}");
    // What binlogd has none of to flush is flushed at once, as by mysqld; tables to
    // lock for a backup it does not have.
    for flush in [
        "FLUSH PRIVILEGES",
        "FLUSH LOCAL TABLES",
        "FLUSH RELAY LOGS",
        "FLUSH STATUS, HOSTS",
        "FLUSH NO_WRITE_TO_BINLOG QUERY CACHE",
        "FLUSH RELAY LOGS FOR CHANNEL ''",
    ] {
        let (ok, _, err) = session(lport, flush);
        assert!(ok, "{flush}: {err}");
        assert!(s.sql_result(flush).is_ok(), "the primary takes {flush}");
    }
    // A session's own wait_timeout closes it when it idles longer.
    let mut o = repl_options(lport);
    o.read_timeout = Some(std::time::Duration::from_secs(60));
    let mut c = binlogd::proto::client::Client::connect(&o).unwrap();
    c.query("SET wait_timeout = 1").unwrap();
    let idle = std::time::Instant::now();
    assert!(c.stream.read().is_err(), "binlogd closes the idle session");
    assert!(idle.elapsed() < std::time::Duration::from_secs(30), "after its own wait_timeout, not binlogd's");
    // Its accounts are its cnf's.
    let (ok, _, err) = session(lport, "SET PASSWORD = 'x'");
    assert!(!ok && err.contains("ERROR 1235") && err.contains("cnf"), "{err}");
    let (ok, _, err) = session(lport, "FLUSH TABLES WITH READ LOCK");
    assert!(!ok && err.contains("ERROR 1235") && err.contains("not tables"), "{err}");
    let (ok, _, err) = session(lport, "FLUSH NOSUCH");
    assert!(!ok && err.contains("ERROR 1064") && err.contains("near 'NOSUCH'"), "{err}");
    let (ok, _, err) = session(lport, "FLUSH RELAY LOGS FOR CHANNEL 'x'");
    assert!(!ok && err.contains("'x'"), "{err}");
    let (ok, out, err) = session(lport, "STOP SLAVE; FLUSH BINARY LOGS; SHOW WARNINGS; START SLAVE");
    assert!(ok && out.contains("Note\t1105\t") && out.contains("mirroring is stopped"), "{out}{err}");
    wait_active_mirrored(&s, &b);
    let (ok, _, err) = session(lport, "SHOW CREATE TABLE dba.t");
    assert!(!ok && err.contains("not tables") && err.contains("primary or at a replica"), "{err}");
    let (ok, _, err) = session(lport, "SELECT * FROM information_schema.columns");
    assert!(!ok && err.contains("not tables"), "{err}");
    // The MariaDB shapes, and the answers kept while the primary is down.
    let (_, out, _) = session(lport, "SHOW BINLOG STATUS");
    assert_eq!(out.trim_end_matches('\n').split('\t').count(), 4, "{out}");
    let _ =
        std::process::Command::new(repo().join("scripts/server.sh")).args(["kill", s.dir.to_str().unwrap()]).status();
    assert_eq!(b.stop(), 0);
    b.start();
    b.wait_log("binlog server listening on", std::time::Duration::from_secs(20));
    let (_, out, _) = session(lport, primary_vars);
    assert_eq!(out, want, "the primary's variables while it is down");
    let (_, out, _) = session(lport, others);
    assert_eq!(out, others_want, "the primary's variables while it is down");
    let (_, out, _) = session(lport, collations);
    assert_eq!(out, collations_want, "the primary's collations while it is down");
    let (ok, _, err) = session(lport, "SET nosuch_variable = 1");
    assert!(!ok && err.contains("ERROR 1193"), "the primary's names while it is down: {err}");
    let (ok, _, err) = session(lport, "FLUSH BINARY LOGS");
    assert!(!ok && err.contains("ERROR 1105") && err.contains("cannot run FLUSH BINARY LOGS on the primary"), "{err}");
    // A successful login is not a Note in the error log; a failed one is one warning.
    let before = b.log_text().lines().count();
    for _ in 0..5 {
        let _ = session(lport, "SELECT 1");
        let _ = client(lport, "wrong", "SELECT 1");
    }
    let log = b.log_text();
    let new: Vec<&str> = log.lines().skip(before).collect();
    assert!(!new.iter().any(|l| l.contains("authenticated")), "{new:?}");
    assert_eq!(new.iter().filter(|l| l.contains("[Warning]") && l.contains("Access denied")).count(), 1, "{new:?}");
    assert_eq!(b.stop(), 0);
}

/// binlogd's own settings change with SET GLOBAL while it runs, as mysqld's dynamic
/// variables: max_connections, the timeouts, the purge policy; a session may not set
/// those of the server only, nor an account that is not admin any.
#[test]
fn set_global_changes_binlogds_own_settings_while_it_runs() {
    use binlogd::proto::client::Client;
    use std::time::Duration;
    let s = Server::start(Flavor::MariaDb, "dyn-src");
    let (mut b, lport) = Binlogd::serving(&s, "dyn", &format!("{}\nmax_connections = 50", alice_account()));
    s.sql("CREATE DATABASE dy; CREATE TABLE dy.t (a INT)");
    for _ in 0..3 {
        s.sql("INSERT INTO dy.t VALUES (1); FLUSH BINARY LOGS");
    }
    wait_active_mirrored(&s, &b);
    // max_connections: the connections over it are refused, DEFAULT is the cnf's again.
    let mut first = Client::connect(&repl_options(lport)).unwrap();
    let set = first.query("SET GLOBAL max_connections = 2; SELECT @@max_connections");
    assert!(set.is_err(), "one statement at a time without CLIENT_MULTI_STATEMENTS");
    first.query("SET GLOBAL max_connections = 2").unwrap();
    assert_eq!(first.query("SELECT @@global.max_connections").unwrap().scalar(), Some("2"));
    let _second = Client::connect(&repl_options(lport)).unwrap();
    let third = Client::connect(&repl_options(lport)).map(|_| ()).unwrap_err().to_string();
    assert!(third.contains("1040") || third.contains("Too many connections"), "{third}");
    b.wait_log("SET GLOBAL max_connections = 2 by 'repl'", Duration::from_secs(5));
    first.query("SET GLOBAL max_connections = DEFAULT").unwrap();
    assert_eq!(first.query("SELECT @@max_connections").unwrap().scalar(), Some("50"));
    assert!(Client::connect(&repl_options(lport)).is_ok());
    // Only an admin account, and the server's settings only with GLOBAL.
    let o = client_as(lport, "alice", "alice-pw", "SET GLOBAL max_connections = 10");
    assert!(String::from_utf8_lossy(&o.stderr).contains("ERROR 1227"), "{o:?}");
    let (ok, _, err) = session(lport, "SET max_connections = 10");
    assert!(!ok && err.contains("ERROR 1229"), "{err}");
    // When a commit may be acknowledged is the cnf's alone.
    let (ok, _, err) = session(lport, "SET GLOBAL sync_binlog = 0");
    assert!(!ok && err.contains("ERROR 1238") && err.contains("read only"), "{err}");
    let (ok, out, err) = session(lport, "SET GLOBAL max_connections = 0; SHOW WARNINGS; SELECT @@max_connections");
    assert!(ok && out.contains("1292") && out.ends_with("\n1\n"), "{out}{err}");
    first.query("SET GLOBAL max_connections = DEFAULT").unwrap();
    // wait_timeout: a new session idles out after it.
    first.query("SET GLOBAL wait_timeout = 1").unwrap();
    let mut o = repl_options(lport);
    o.read_timeout = Some(Duration::from_secs(60));
    let mut idle = Client::connect(&o).unwrap();
    let since = std::time::Instant::now();
    assert!(idle.stream.read().is_err(), "binlogd closes the idle session");
    assert!(since.elapsed() < Duration::from_secs(30), "after the new wait_timeout, not the cnf's");
    let (_, out, _) = session(lport, "SELECT @@global.wait_timeout, @@session.wait_timeout");
    assert_eq!(out, "1\t1\n");
    first.query("SET GLOBAL wait_timeout = DEFAULT").unwrap();
    // The purge policy: files older than a second go, all but the active one.
    assert!(b.index().len() >= 4, "{:?}", b.index());
    first.query("SET GLOBAL binlog_expire_logs_seconds = 1").unwrap();
    wait_until("the purge by the new policy", Duration::from_secs(30), || b.index().len() == 1);
    b.wait_log("purging by policy: expire after 1s", Duration::from_secs(5));
    assert_eq!(first.query("SELECT @@expire_logs_days").unwrap().scalar(), Some("0.000012"));
    first.query("SET GLOBAL expire_logs_days = 0").unwrap();
    b.wait_log("purging by policy: none", Duration::from_secs(5));
    // A list whose last item fails changes none of it.
    let (ok, _, err) = session(lport, "SET GLOBAL max_connections = 7, GLOBAL nosuch_variable = 1");
    assert!(!ok && err.contains("ERROR 1193"), "{err}");
    assert_eq!(first.query("SELECT @@max_connections").unwrap().scalar(), Some("50"));
    assert_eq!(b.stop(), 0);
}

/// MySQL 8.0's SET PERSIST: binlogd's settings kept in binlog_dir for the next start,
/// over the cnf's; SET PERSIST_ONLY for the next start alone; RESET PERSIST forgets them.
#[test]
fn set_persist_keeps_binlogds_settings_for_the_next_start() {
    use std::time::Duration;
    let s = Server::start(Flavor::Mysql, "persist-src");
    let (mut b, lport) = Binlogd::serving(&s, "persist", "max_connections = 50");
    wait_active_mirrored(&s, &b);
    let (ok, out, err) = session(
        lport,
        "SET PERSIST max_connections = 77; SET PERSIST_ONLY wait_timeout = 99; \
         SELECT @@max_connections, @@global.wait_timeout",
    );
    assert!(ok && out == "77\t28800\n", "{out}{err}");
    b.wait_log("SET PERSIST max_connections = 77 by 'repl'", Duration::from_secs(5));
    let kept = std::fs::read_to_string(b.binlog_dir.join("binlogd.persisted")).unwrap();
    assert_eq!(kept, "max_connections = 77\nwait_timeout = 99\n");
    // A restart that logs `said` before it serves.
    let restart = |b: &mut Binlogd, said: &str| {
        assert_eq!(b.stop(), 0);
        b.start();
        b.wait_log(said, Duration::from_secs(20));
        b.wait_log("binlog server listening on", Duration::from_secs(20));
    };
    restart(&mut b, "settings SET PERSIST kept, over the cnf's: max_connections = 77, wait_timeout = 99");
    let (_, out, _) = session(lport, "SELECT @@max_connections, @@global.wait_timeout");
    assert_eq!(out, "77\t99\n");
    let (ok, _, err) = session(lport, "RESET PERSIST nosuch_variable");
    assert!(!ok && err.contains("ERROR 3615") && err.contains("does not exist in persisted config file"), "{err}");
    let (ok, out, err) = session(lport, "RESET PERSIST IF EXISTS nosuch_variable; SHOW WARNINGS");
    assert!(ok && out.contains("3615"), "{out}{err}");
    let (ok, _, err) = session(lport, "RESET PERSIST max_connections");
    assert!(ok, "{err}");
    let kept = std::fs::read_to_string(b.binlog_dir.join("binlogd.persisted")).unwrap();
    assert_eq!(kept, "wait_timeout = 99\n");
    let (ok, _, err) = session(lport, "RESET PERSIST; SELECT @@max_connections");
    assert!(ok, "{err}");
    assert!(!b.binlog_dir.join("binlogd.persisted").exists());
    // What a start cannot take is named in the error log, and the cnf's value holds.
    std::fs::write(b.binlog_dir.join("binlogd.persisted"), "max_connections = many\n").unwrap();
    restart(&mut b, "binlogd.persisted:1: max_connections = 'many' is not a value it takes: the cnf's value holds");
    let (_, out, _) = session(lport, "SELECT @@max_connections");
    assert_eq!(out, "50\n");
    assert_eq!(b.stop(), 0);
}

#[test]
fn every_statement_that_changes_state_is_refused_to_an_account_that_is_not_admin() {
    use binlogd::server::query::{Privilege, STATEMENTS};
    let s = Server::start(Flavor::MariaDb, "privs-table-src");
    let (mut b, lport) = Binlogd::serving(&s, "privs-table", &alice_account());
    s.sql("CREATE DATABASE pt; FLUSH BINARY LOGS; CREATE TABLE pt.t (a INT)");
    wait_active_mirrored(&s, &b);
    let index = b.index();
    let mut checked = 0;
    let version = binlogd::server::query::version_number(&s.sql("SELECT VERSION()"));
    for st in STATEMENTS {
        if st.privilege == Privilege::Anyone {
            continue;
        }
        let o = client_as(lport, "alice", "alice-pw", st.example);
        let err = String::from_utf8_lossy(&o.stderr);
        // The parser comes first: MySQL's words are a syntax error here, whoever sends them.
        let code = if st.grammar.has(binlogd::replica::connect::Flavor::MariaDb, version) { 1227 } else { 1064 };
        assert!(
            !o.status.success() && err.contains(&format!("ERROR {code}")),
            "{:?} ({}) as alice: {err}",
            st.words,
            st.example
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} statements declared a privilege");
    // Nothing changed: still mirroring, no file purged, and the statements work for an admin.
    assert_eq!(b.index(), index);
    assert_eq!(binlogd_row(lport, "SHOW SLAVE STATUS")["Slave_IO_Running"], "Yes");
    let o = client(lport, "replpass", "STOP SLAVE; START SLAVE");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(b.stop(), 0);
}

/// MariaDB's BINLOG_GTID_POS, at every event of every file (two domains, a second
/// file that starts with a Gtid_list), at positions where no event starts, and with
/// odd arguments: binlogd gives the primary's answers and column.
#[test]
fn binlog_gtid_pos_gives_the_primarys_answer_at_every_event() {
    let s = Server::start(Flavor::MariaDb, "bgp-src");
    let (mut b, lport) = Binlogd::serving(&s, "bgp", "");
    s.sql(
        "CREATE DATABASE bg; CREATE TABLE bg.t (a INT); INSERT INTO bg.t VALUES (1); FLUSH BINARY LOGS; \
         SET gtid_domain_id = 2; INSERT INTO bg.t VALUES (2); SET gtid_domain_id = 0; INSERT INTO bg.t VALUES (3)",
    );
    wait_active_mirrored(&s, &b);
    let logs = s.binary_logs();
    let mut asked = Vec::new();
    for f in &logs {
        for l in s.sql(&format!("SHOW BINLOG EVENTS IN '{f}'")).lines() {
            // Log_name, Pos, Event_type, Server_id, End_log_pos, Info.
            let c: Vec<&str> = l.split('\t').collect();
            let pos: u64 = c[1].parse().unwrap();
            for p in [c[1].to_string(), c[4].to_string(), (pos + 1).to_string(), format!("{pos}.4")] {
                asked.push(format!("SELECT BINLOG_GTID_POS('{f}', {p})"));
            }
        }
    }
    let first = &logs[0];
    for args in [
        "'nosuch.000001', 4".to_string(),
        format!("'{first}', -1"),
        format!("'{first}', 0"),
        format!("'{first}', NULL"),
        "NULL, 4".to_string(),
        format!("'{first}', '  4'"),
        format!("'{first}'"),
        format!("'{first}', 99999999999"),
    ] {
        asked.push(format!("SELECT BINLOG_GTID_POS({args})"));
    }
    let script = asked.join("; ");
    assert_eq!(rows_of(lport, &script), rows_of(s.port, &script));
    let one = format!("SELECT BINLOG_GTID_POS('{}', 4)", logs[1]);
    assert_eq!(columns(lport, &one), columns(s.port, &one));
    assert_eq!(b.stop(), 0);
}
