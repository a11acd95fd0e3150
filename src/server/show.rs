//! The `SHOW` statements, in the shape the primary's flavour gives them: binlog
//! files and status, variables and status counters, replicas, grants, the process
//! list, and binlogd's own connection as a replica's status.

use std::time::UNIX_EPOCH;

use super::columns::{self, Spec};
use super::ctx::Ctx;
use super::query::{
    first_words, is_admin, parse_error, ER_NOT_SUPPORTED_YET, ER_PARSE_ERROR, ER_REPLICA_CHANNEL_DOES_NOT_EXIST,
};
use super::reply::err_packet;
use super::sql::unquote;
use super::values::{status_counters, system_variables};
use crate::proto::resultset::{self, Column, ColumnType};
use crate::replica::connect::Primary;

/// A SHOW statement's answer: the columns named `cols` of `table` (`columns`), as the
/// primary's kind declares them, and `rows`.
pub(super) fn rows(s: &Ctx, table: &[Spec], cols: &[&str], rows: Vec<Vec<Option<String>>>) -> Vec<Vec<u8>> {
    let maria = is_maria(s);
    let cols: Vec<Column> = cols.iter().map(|c| column(table, c, maria)).collect();
    typed_rows(cols, rows)
}

/// `rows` with the columns given; those whose values set their width (`columns::FIT`)
/// are as wide as their longest value.
pub(super) fn typed_rows(mut cols: Vec<Column>, rows: Vec<Vec<Option<String>>>) -> Vec<Vec<u8>> {
    for (i, c) in cols.iter_mut().enumerate().filter(|(_, c)| c.width == columns::FIT_WIDTH) {
        let longest = rows.iter().filter_map(|r| r.get(i)?.as_deref()).map(|v| v.chars().count()).max();
        c.width = u32::try_from(longest.unwrap_or(0)).unwrap_or(u32::MAX - 1);
    }
    resultset::encode_typed(&cols, &rows)
}

/// The column `name` of a SHOW statement's `table`, as the primary's kind declares
/// it; one of binlogd's own typed as mysqld types its like: the positions, sizes, ids,
/// ports and counters are integers (pymysql and Connector/J read them as numbers),
/// the rest text.
pub(super) fn column(table: &[Spec], name: &str, maria: bool) -> Column {
    if let Some(c) = columns::column(table, name, maria) {
        return c;
    }
    const LONGLONG: &[&str] = &[
        "Position",
        "File_size",
        "Pos",
        "End_log_pos",
        "Id",
        "Read_Source_Log_Pos",
        "Read_Master_Log_Pos",
        "Relay_Log_Pos",
        "Exec_Source_Log_Pos",
        "Exec_Master_Log_Pos",
        "Relay_Log_Space",
        "Until_Log_Pos",
        "Seconds_Behind_Source",
        "Seconds_Behind_Master",
        "Durable_Log_Pos",
        "Slave_DDL_Groups",
        "Slave_Non_Transactional_Groups",
        "Slave_Transactional_Groups",
        "Source_Retry_Count",
        "Master_Retry_Count",
        "Max_relay_log_size",
    ];
    const LONG: &[&str] = &[
        "Server_id",
        "Server_Id",
        "Port",
        "Master_id",
        "Source_Id",
        "Code",
        "Time",
        "Source_Port",
        "Master_Port",
        "Connect_Retry",
        "Last_Errno",
        "Skip_Counter",
        "Last_IO_Errno",
        "Last_SQL_Errno",
        "Source_Server_Id",
        "Master_Server_Id",
        "SQL_Delay",
        "SQL_Remaining_Delay",
        "Auto_Position",
        "Get_Source_public_key",
        "Get_master_public_key",
        "Retried_transactions",
        "Executed_log_entries",
        "Slave_received_heartbeats",
    ];
    if LONGLONG.contains(&name) {
        Column::number(name, ColumnType::LONGLONG, 21, true)
    } else if LONG.contains(&name) {
        Column::number(name, ColumnType::LONG, 11, true)
    } else {
        Column::text(name, 512)
    }
}

pub(super) fn show(s: &mut Ctx, words: &[&str], t: &str) -> Vec<Vec<u8>> {
    let w: Vec<&str> = words.iter().copied().filter(|x| *x != "GLOBAL" && *x != "SESSION" && *x != "FULL").collect();
    match w.as_slice() {
        ["VARIABLES", ..] | ["STATUS", ..] => {
            let kw = if w[0] == "VARIABLES" { "VARIABLES" } else { "STATUS" };
            let filter = match super::filter::Filter::parse(after_word(t, kw)) {
                Ok(f) => f,
                Err(why) => return vec![unreadable_condition(t, &why)],
            };
            let global = words.contains(&"GLOBAL");
            let all = if kw == "VARIABLES" { system_variables(s, global) } else { status_counters(s, global) };
            let v: Vec<Vec<Option<String>>> =
                all.into_iter().filter(|(k, v)| filter.matches(k, v)).map(|(k, v)| vec![Some(k), Some(v)]).collect();
            let mut a = typed_rows(columns::variables(kw == "STATUS", global, is_maria(s)).to_vec(), v);
            // Read from a schema table through no index, as mysqld says in the status of
            // the EOF after the columns, and after the rows for SHOW VARIABLES.
            resultset::flag_result(&mut a, resultset::SERVER_QUERY_NO_INDEX_USED, kw == "VARIABLES");
            a
        }
        // MySQL 8.2+ and MariaDB 10.5.2+ names, and the old one.
        ["MASTER", "STATUS"] | ["BINARY", "LOG", "STATUS"] | ["BINLOG", "STATUS"] => {
            let d = s.srv.serving().durable.snapshot();
            let gtids = d.gtids.to_string();
            let maria = is_maria(s);
            let r = d.active.clone().map(|(f, p)| {
                let f = crate::binlog::sources::plain(&f).to_string();
                let mut r = vec![Some(f), Some(p.to_string()), Some(String::new()), Some(String::new())];
                if !maria {
                    r.push(Some(gtids));
                }
                r
            });
            let cols = ["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"];
            rows(s, columns::MASTER_STATUS, &cols[..if maria { 4 } else { 5 }], r.into_iter().collect())
        }
        ["BINARY", "LOGS"] | ["MASTER", "LOGS"] => {
            let d = s.srv.serving().durable.snapshot();
            // MySQL 8.0.14+ adds Encrypted; MariaDB has no such column.
            let maria = is_maria(s);
            // With restore_command, the archived files binlogd no longer stores are
            // served too: listed first, told apart by binlogd's own last column, Stored.
            // Without any, the answer is the primary's.
            let archived: Vec<(String, u64)> = match &s.srv.serving().restorer {
                Some(r) => r.archived(&d.files).into_iter().map(|e| (e.name, e.size)).collect(),
                None => Vec::new(),
            };
            let with_stored = !archived.is_empty();
            // Each source's files under the names clients use (`sources::shown`).
            let newest = crate::binlog::sources::newest(&d.files);
            let listed = archived
                .into_iter()
                .map(|f| (f, "archive"))
                .chain(stored_sizes(s, &d).into_iter().map(|f| (f, "local")));
            let v = listed
                .map(|((f, size), at)| {
                    let mut r =
                        vec![Some(crate::binlog::sources::shown(&f, newest).into_owned()), Some(size.to_string())];
                    if !maria {
                        r.push(Some("No".into()));
                    }
                    if with_stored {
                        r.push(Some(at.into()));
                    }
                    r
                })
                .collect();
            let mut cols = vec!["Log_name", "File_size"];
            if !maria {
                cols.push("Encrypted");
            }
            if with_stored {
                cols.push("Stored");
            }
            rows(s, columns::BINARY_LOGS, &cols, v)
        }
        ["DATABASES"] | ["SCHEMAS"] => {
            // A MySQL primary reads its data dictionary (InnoDB) for it: with autocommit
            // off, that opens a transaction, which the status then shows until it ends.
            if !is_maria(s) && !s.tracked.autocommit {
                s.tracked.in_transaction = true;
            }
            let mut a =
                typed_rows(vec![columns::databases(is_maria(s))], vec![vec![Some("information_schema".into())]]);
            resultset::flag_result(&mut a, resultset::SERVER_QUERY_NO_INDEX_USED, true);
            a
        }
        ["GRANTS", ..] => grants(s, &w[1..], t),
        ["CREATE", ..]
        | ["COLUMNS", ..]
        | ["FIELDS", ..]
        | ["INDEX", ..]
        | ["INDEXES", ..]
        | ["KEYS", ..]
        | ["TABLES", ..]
        | ["TABLE", "STATUS", ..]
        | ["TRIGGERS", ..] => vec![no_schema(t)],
        // binlogd has one connection to a primary: the default channel (MySQL), the
        // default, unnamed connection (MariaDB).
        ["SLAVE" | "REPLICA", "STATUS", "FOR", "CHANNEL", _] => {
            let channel = unquote(after_word(t, "CHANNEL"));
            if channel.is_empty() {
                upstream_status(s, w[0] == "REPLICA", false)
            } else {
                vec![no_such_channel(s, &channel)]
            }
        }
        ["SLAVE" | "REPLICA", "STATUS"] => upstream_status(s, w[0] == "REPLICA", false),
        // SHOW SLAVE 'connection_name' STATUS (MariaDB).
        ["SLAVE" | "REPLICA", _, "STATUS"] => {
            let name = unquote(t.split_whitespace().nth(2).unwrap_or_default());
            if name.is_empty() {
                upstream_status(s, w[0] == "REPLICA", false)
            } else {
                vec![no_such_channel(s, &name)]
            }
        }
        ["SLAVE" | "REPLICA", "STATUS", ..] => vec![parse_error(s, t, 3)],
        ["ALL", "SLAVES" | "REPLICAS", "STATUS"] => upstream_status(s, false, true),
        ["ALL", "SLAVES" | "REPLICAS", "STATUS", ..] => vec![parse_error(s, t, 4)],
        ["SLAVE" | "REPLICA", "HOSTS"] | ["REPLICAS"] => {
            let replica_words = words == ["REPLICAS"];
            // One row per server_id, the latest to register, as a primary keeps them.
            let reps: std::collections::BTreeMap<u32, super::Registered> = s
                .srv
                .replicas()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .values()
                .map(|r| (r.server_id, r.clone()))
                .collect();
            let me = s.srv.cfg().server_id.to_string();
            // MariaDB's replicas send no UUID, and it has no such column.
            let maria = is_maria(s);
            let v = reps
                .values()
                .map(|r| {
                    let mut row = vec![
                        Some(r.server_id.to_string()),
                        Some(r.host.clone()),
                        Some(r.port.to_string()),
                        Some(me.clone()),
                    ];
                    if !maria {
                        row.push(Some(r.uuid.clone()));
                    }
                    row
                })
                .collect();
            let n = if maria { 4 } else { 5 };
            // MySQL 8.0.22 and later name the columns in the new words for SHOW REPLICAS.
            if replica_words {
                rows(s, columns::REPLICAS, &["Server_Id", "Host", "Port", "Source_Id", "Replica_UUID"][..n], v)
            } else {
                rows(s, columns::REPLICAS, &["Server_id", "Host", "Port", "Master_id", "Slave_UUID"][..n], v)
            }
        }
        ["ENGINES"] | ["STORAGE", "ENGINES"] => listing(s, "SHOW ENGINES", "", t),
        ["CHARACTER", "SET", ..] | ["CHARSET", ..] | ["COLLATION", ..] => {
            let (statement, kw) = match w[0] {
                "COLLATION" => ("SHOW COLLATION", "COLLATION"),
                "CHARSET" => ("SHOW CHARACTER SET", "CHARSET"),
                _ => ("SHOW CHARACTER SET", "SET"),
            };
            listing(s, statement, after_word(t, kw), t)
        }
        ["PROCESSLIST"] => {
            // MySQL 8.0.35 deprecated the INFORMATION_SCHEMA implementation SHOW
            // PROCESSLIST uses (performance_schema_show_processlist OFF, its default).
            super::values::deprecated(s, "INFORMATION_SCHEMA.PROCESSLIST", |v| {
                (v >= 80035).then(|| " Please use performance_schema.processlist instead".to_string())
            });
            processlist(s, words.contains(&"FULL"))
        }
        _ => vec![err_packet(
            ER_NOT_SUPPORTED_YET,
            "42000",
            &format!("binlogd does not support this statement: {}", first_words(t)),
        )],
    }
}

/// The primary's answer to `statement` (one of `sysvars::LISTINGS`), as it gave it,
/// its rows those `condition` (LIKE on the first column, or WHERE) passes.
fn listing(s: &Ctx, statement: &str, condition: &str, t: &str) -> Vec<Vec<u8>> {
    let p = s.srv.primary();
    let Some(l) = p.as_ref().and_then(|p| p.variables.listing(statement)) else {
        return vec![err_packet(
            ER_NOT_SUPPORTED_YET,
            "42000",
            &format!("binlogd answers {statement} as the primary does, and has not read the primary's answer yet"),
        )];
    };
    let names: Vec<String> =
        l.defs.iter().map(|d| resultset::column_def(d).map(|(n, _)| n).unwrap_or_default()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let filter = match super::filter::Filter::parse_over(condition, &names) {
        Ok(f) => f,
        Err(why) => return vec![unreadable_condition(t, &why)],
    };
    listing_rows(l, |r| filter.matches_row(r))
}

/// ERROR 1064 for a SHOW statement's condition binlogd cannot read, saying why.
fn unreadable_condition(t: &str, why: &str) -> Vec<u8> {
    err_packet(ER_PARSE_ERROR, "42000", &format!("binlogd cannot read the condition of {}: {why}", first_words(t)))
}

/// A kept answer's packets, its rows those `keep` passes: read from a schema table
/// through no index, as mysqld says in the status of both EOFs.
pub(super) fn listing_rows(l: &crate::sysvars::Listing, keep: impl Fn(&[Option<&str>]) -> bool) -> Vec<Vec<u8>> {
    let mut a = Vec::with_capacity(l.defs.len() + l.rows.len() + 3);
    let mut count = Vec::new();
    crate::proto::buf::Put::put_lenenc(&mut count, l.defs.len() as u64);
    a.push(count);
    a.extend(l.defs.iter().cloned());
    a.push(resultset::EOF.to_vec());
    for r in &l.rows {
        let values: Vec<Option<&str>> = r.iter().map(|v| v.as_deref()).collect();
        if keep(&values) {
            a.push(resultset::row(r));
        }
    }
    a.push(resultset::EOF.to_vec());
    resultset::flag_result(&mut a, resultset::SERVER_QUERY_NO_INDEX_USED, true);
    a
}

/// The error for a replication channel (MySQL) or named connection (MariaDB) other
/// than the one binlogd has, in the primary's words.
pub(super) fn no_such_channel(s: &Ctx, name: &str) -> Vec<u8> {
    if is_maria(s) {
        err_packet(ER_MASTER_CONNECTION_NOT_FOUND, "HY000", &format!("There is no master connection '{name}'"))
    } else {
        err_packet(ER_REPLICA_CHANNEL_DOES_NOT_EXIST, "HY000", &format!("Replica channel '{name}' does not exist."))
    }
}

/// MariaDB's ER_MASTER_CONNECTION_NOT_FOUND.
const ER_MASTER_CONNECTION_NOT_FOUND: u16 = 1617;

/// Does binlogd stand in for a MariaDB primary (as far as it knows)?
pub(super) fn is_maria(s: &Ctx) -> bool {
    super::values::maria_from(s, 0)
}

/// The text of `t` after its first word `kw` (any case), or "".
pub(super) fn after_word<'a>(t: &'a str, kw: &str) -> &'a str {
    let up = t.to_ascii_uppercase();
    let mut from = 0;
    while let Some(i) = up[from..].find(kw).map(|i| i + from) {
        let before = up[..i].chars().next_back().is_none_or(|c| c.is_whitespace());
        let after = up[i + kw.len()..].chars().next().is_none_or(|c| c.is_whitespace() || c == '\'');
        if before && after {
            return t[i + kw.len()..].trim();
        }
        from = i + kw.len();
    }
    ""
}

/// The refusal of a question about tables: binlogd keeps binary logs, not a schema.
pub(super) fn no_schema(t: &str) -> Vec<u8> {
    err_packet(
        ER_NOT_SUPPORTED_YET,
        "42000",
        &format!(
            "binlogd keeps binary logs, not tables, so it cannot answer '{}': point the tool's schema \
             connection at the primary or at a replica",
            first_words(t)
        ),
    )
}

/// SHOW GRANTS [FOR CURRENT_USER[()] | FOR user]: what binlogd lets this account do,
/// in the words of the primary's flavour.
pub(super) fn grants(s: &Ctx, words: &[&str], t: &str) -> Vec<Vec<u8>> {
    let me = &s.user;
    if let ["FOR", who, ..] = words {
        let named = unquote(after_word(t, "FOR").split('@').next().unwrap_or(""));
        if !who.starts_with("CURRENT_USER") && named != *me {
            return vec![err_packet(
                1141,
                "42000",
                &format!("There is no such grant defined for user '{named}' on host '%'"),
            )];
        }
    }
    let maria = is_maria(s);
    let privileges = match (maria, is_admin(s)) {
        (false, false) => "REPLICATION SLAVE, REPLICATION CLIENT",
        (false, true) => "SHUTDOWN, SUPER, REPLICATION SLAVE, REPLICATION CLIENT",
        (true, false) => "REPLICATION SLAVE, BINLOG MONITOR",
        (true, true) => "SHUTDOWN, SUPER, REPLICATION SLAVE, BINLOG MONITOR, BINLOG ADMIN, CONNECTION ADMIN",
    };
    let mut v = vec![vec![Some(format!("GRANT {privileges} ON *.* TO `{me}`@`%`"))]];
    if !maria && is_admin(s) {
        v.push(vec![Some(format!("GRANT BINLOG_ADMIN,CONNECTION_ADMIN ON *.* TO `{me}`@`%`"))]);
    }
    // `mysql_show_grants`: 1024 characters.
    typed_rows(vec![Column::text(format!("Grants for {me}@%"), 1024)], v)
}

/// SHOW [FULL] PROCESSLIST: every client connection. A dump's Info is the file and
/// position it has reached, and its State says whether it has sent all that is durable.
pub(super) fn processlist(s: &Ctx, full: bool) -> Vec<Vec<u8>> {
    let v = processlist_rows(s, full);
    let maria = is_maria(s);
    let names = ["Id", "User", "Host", "db", "Command", "Time", "State", "Info", "Progress"];
    // MariaDB adds the progress of long statements; binlogd's have none.
    let names = if maria { &names[..] } else { &names[..8] };
    let mut cols: Vec<Column> = names.iter().map(|c| column(columns::PROCESSLIST, c, maria)).collect();
    if let Some(info) = cols.get_mut(7).filter(|_| full) {
        *info = column(&[columns::FULL_INFO], "Info", maria);
    }
    let v = v
        .into_iter()
        .map(|mut r| {
            if maria {
                r.push(Some("0.000".into()));
            }
            r
        })
        .collect();
    typed_rows(cols, v)
}

/// The rows of SHOW PROCESSLIST, and of information_schema.PROCESSLIST: Id, User,
/// Host, db, Command, Time, State, Info.
pub(super) fn processlist_rows(s: &Ctx, full: bool) -> Vec<Vec<Option<String>>> {
    let readers = s.srv.serving().readers.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let active = s.srv.serving().durable.snapshot().active.clone();
    // binlogd's own connection to the primary, as mysqld lists its replica I/O thread
    // (not while STOP SLAVE or an error has stopped it).
    let mut upstream = Vec::new();
    if !s.srv.link().control.is_paused() {
        let u = s.srv.link().upstream();
        let cfg = s.srv.source();
        upstream.push(vec![
            Some("0".to_string()),
            Some("system user".to_string()),
            Some(format!("{}:{}", cfg.master_host, cfg.master_port)),
            None,
            Some("Connect".to_string()),
            Some(u.since.map_or(0, |t| t.elapsed().as_secs()).to_string()),
            Some(u.state.to_string()),
            None,
        ]);
    }
    upstream
        .into_iter()
        .chain(s.srv.conns().rows().into_iter().map(|c| {
            use super::conns::Command;
            let (state, info) = match (c.command, readers.get(&c.id)) {
                (Command::BinlogDump | Command::BinlogDumpGtid, Some(r)) => {
                    let done = active.as_ref().is_some_and(|(f, len)| *f == r.file && *len <= r.pos);
                    let state = if done {
                        "Source has sent all binlog to replica; waiting for more updates"
                    } else {
                        "Sending binlog event to replica"
                    };
                    let newest = s
                        .srv
                        .serving()
                        .durable
                        .snapshot()
                        .files
                        .last()
                        .map_or(1, |f| crate::binlog::sources::number(f));
                    (state, Some(format!("{}:{}", crate::binlog::sources::shown(&r.file, newest), r.pos)))
                }
                (Command::Connect, _) => ("login", None),
                (Command::Query, _) => ("init", c.info.map(|q| if full { q } else { q.chars().take(100).collect() })),
                _ => ("", None),
            };
            vec![
                Some(c.id.to_string()),
                Some(c.user),
                Some(c.peer),
                None,
                Some(if c.killed { "Killed" } else { c.command.name() }.to_string()),
                Some(c.seconds.to_string()),
                Some(state.to_string()),
                info,
            ]
        }))
        .collect()
}

/// SHOW SLAVE STATUS / SHOW REPLICA STATUS: binlogd's own connection to its primary,
/// in every column of a replica of the
/// primary's kind (MariaDB's SHOW SLAVE STATUS and SHOW ALL SLAVES STATUS, MySQL's
/// SHOW REPLICA STATUS, or its SHOW SLAVE STATUS names), so that what reads a
/// replica's status by column name finds each one; binlogd's own columns follow.
/// binlogd has no relay log and applies nothing: the relay-log and executed columns
/// describe the stored binlog up to what is durable, and filters, delays and SQL
/// errors are empty.
/// <https://mariadb.com/kb/en/show-replica-status/>
/// <https://dev.mysql.com/doc/refman/8.4/en/show-replica-status.html>
pub(super) fn upstream_status(s: &Ctx, replica_words: bool, all: bool) -> Vec<Vec<u8>> {
    use crate::replica::connect::Flavor;
    use std::sync::atomic::Ordering::Relaxed;
    let cfg = s.srv.source();
    let u = s.srv.link().upstream().clone();
    let d = s.srv.serving().durable.snapshot();
    let p = s.srv.primary();
    let maria = p.as_ref().is_some_and(|p| p.flavor == Flavor::MariaDb);
    // MariaDB 11.6+ answers from its information_schema.SLAVE_STATUS table.
    let as_table = maria && p.as_ref().is_some_and(|p| super::query::version_number(&p.version) >= 110600);
    if all && !maria {
        return vec![err_packet(ER_PARSE_ERROR, "42000", "SHOW ALL SLAVES STATUS is MariaDB's: the primary is MySQL")];
    }
    let err_at = u.last_error_at.map(|t| {
        let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        crate::logging::short_time(secs)
    });
    let text = |v: &str| Some(v.to_string());
    let num = |v: u64| Some(v.to_string());
    let yes_no = |b: bool| text(if b { "Yes" } else { "No" });
    let (durable_file, durable_pos) = d.active.clone().unwrap_or_default();
    // The primary's name for it.
    let durable_file = crate::binlog::sources::plain(&durable_file).to_string();
    let stored: u64 = stored_sizes(s, &d).iter().map(|(_, n)| n).sum();
    let by_gtid = cfg.start_mode != crate::config::StartMode::FilePos;
    let ssl = cfg.master_ssl != crate::config::MasterSsl::Off || cfg.master_ssl_ca.is_some();
    let path = |v: &Option<std::path::PathBuf>| Some(v.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
    // As mysqld's I/O thread: Connecting while it tries to reach the primary again,
    // No only once stopped (STOP SLAVE, or an error retrying cannot mend).
    let io_running = if u.running {
        "Yes"
    } else if s.srv.link().control.is_paused() {
        "No"
    } else {
        "Connecting"
    };
    let mut cols: Vec<(&str, Option<String>)> = Vec::with_capacity(80);
    if all {
        cols.extend([("Connection_name", text("")), ("Slave_SQL_State", text(""))]);
    }
    cols.extend([
        ("Replica_IO_State", Some(io_state(u.state, p.as_ref()))),
        ("Source_Host", text(&cfg.master_host)),
        ("Source_User", text(&cfg.master_user)),
        ("Source_Port", num(cfg.master_port.into())),
        ("Connect_Retry", num(cfg.retry_max.as_secs())),
        ("Source_Log_File", text(&u.read_file)),
        ("Read_Source_Log_Pos", num(s.srv.stats().read_pos.load(Relaxed))),
        ("Relay_Log_File", text(&durable_file)),
        ("Relay_Log_Pos", num(durable_pos)),
        ("Relay_Source_Log_File", text(&durable_file)),
        ("Replica_IO_Running", text(io_running)),
        ("Replica_SQL_Running", yes_no(false)),
        ("Replicate_Do_DB", text("")),
        ("Replicate_Ignore_DB", text("")),
        ("Replicate_Do_Table", text("")),
        ("Replicate_Ignore_Table", text("")),
        ("Replicate_Wild_Do_Table", text("")),
        ("Replicate_Wild_Ignore_Table", text("")),
        ("Last_Errno", num(0)),
        ("Last_Error", text("")),
        ("Skip_Counter", num(0)),
        ("Exec_Source_Log_Pos", num(durable_pos)),
        ("Relay_Log_Space", num(stored)),
        ("Until_Condition", text("None")),
        ("Until_Log_File", text("")),
        ("Until_Log_Pos", num(0)),
        ("Source_SSL_Allowed", yes_no(ssl)),
        ("Source_SSL_CA_File", path(&cfg.master_ssl_ca)),
        ("Source_SSL_CA_Path", text("")),
        ("Source_SSL_Cert", path(&cfg.master_ssl_cert)),
        ("Source_SSL_Cipher", text("")),
        ("Source_SSL_Key", path(&cfg.master_ssl_key)),
        ("Seconds_Behind_Source", s.srv.seconds_behind().map(|b| b.to_string())),
        ("Source_SSL_Verify_Server_Cert", yes_no(cfg.master_ssl_verify_server_cert)),
        ("Last_IO_Errno", num(u.last_errno.into())),
        ("Last_IO_Error", Some(u.last_error.clone())),
        ("Last_SQL_Errno", num(0)),
        ("Last_SQL_Error", text("")),
        ("Replicate_Ignore_Server_Ids", text("")),
        ("Source_Server_Id", text(&p.as_ref().map(|p| p.server_id.to_string()).unwrap_or_default())),
    ]);
    let gtids = d.gtids.to_string();
    let maria_pos = d.maria.to_string();
    if maria {
        cols.extend([
            ("Source_SSL_Crl", text("")),
            ("Source_SSL_Crlpath", text("")),
            ("Using_Gtid", text(if by_gtid { "Slave_Pos" } else { "No" })),
            ("Gtid_IO_Pos", text(&maria_pos)),
            ("Replicate_Do_Domain_Ids", text("")),
            ("Replicate_Ignore_Domain_Ids", text("")),
            ("Parallel_Mode", text("none")),
            ("SQL_Delay", num(0)),
            ("SQL_Remaining_Delay", None),
            ("Replica_SQL_Running_State", text("")),
            ("Slave_DDL_Groups", num(0)),
            ("Slave_Non_Transactional_Groups", num(0)),
            ("Slave_Transactional_Groups", num(0)),
            ("Replicate_Rewrite_DB", text("")),
        ]);
        if all {
            cols.extend([
                ("Retried_transactions", num(0)),
                ("Max_relay_log_size", num(0)),
                ("Executed_log_entries", num(s.srv.stats().events_written.load(Relaxed))),
                ("Slave_received_heartbeats", num(s.srv.stats().heartbeats.load(Relaxed))),
                ("Slave_heartbeat_period", Some(format!("{:.3}", cfg.heartbeat_period.as_secs_f64()))),
                ("Gtid_Slave_Pos", text(&maria_pos)),
            ]);
            // MariaDB 11.6+: when the last event was written on the primary, and when
            // the last one was applied (for binlogd, stored: the same one).
            if as_table {
                let last = s.srv.stats().last_event_ts.load(Relaxed);
                let at = (last > 0).then(|| crate::logging::datetime(last));
                cols.extend([
                    ("Master_last_event_time", at.clone()),
                    ("Slave_last_event_time", at.clone()),
                    ("Master_Slave_time_diff", at.map(|_| "0".to_string())),
                ]);
            }
        }
    } else {
        cols.extend([
            ("Source_UUID", text(&p.as_ref().and_then(|p| p.server_uuid.clone()).unwrap_or_default())),
            ("Source_Info_File", text("")),
            ("SQL_Delay", num(0)),
            ("SQL_Remaining_Delay", None),
            ("Replica_SQL_Running_State", text("")),
            ("Source_Retry_Count", num(0)),
            ("Source_Bind", text("")),
            ("Last_IO_Error_Timestamp", Some(err_at.clone().unwrap_or_default())),
            ("Last_SQL_Error_Timestamp", text("")),
            ("Source_SSL_Crl", text("")),
            ("Source_SSL_Crlpath", text("")),
            ("Retrieved_Gtid_Set", text(&gtids)),
            ("Executed_Gtid_Set", text(&gtids)),
            ("Auto_Position", num(by_gtid.into())),
            ("Replicate_Rewrite_DB", text("")),
            ("Channel_Name", text("")),
            ("Source_TLS_Version", text("")),
            ("Source_public_key_path", text("")),
            ("Get_Source_public_key", num(1)),
            ("Network_Namespace", text("")),
        ]);
    }
    // binlogd's own.
    if maria {
        cols.push(("Last_IO_Error_Timestamp", Some(err_at.unwrap_or_default())));
    }
    cols.extend([
        ("Source_Version", text(&p.as_ref().map(|p| p.version.clone()).unwrap_or_default())),
        ("Durable_Log_File", text(&durable_file)),
        ("Durable_Log_Pos", num(durable_pos)),
        ("Rpl_semi_sync_slave_status", text(if u.semisync && u.running { "ON" } else { "OFF" })),
        ("Sync_Binlog", num(cfg.sync_binlog.into())),
    ]);
    // MariaDB, and MySQL's SHOW SLAVE STATUS, say Master and Slave.
    let old_words = maria || !replica_words;
    let names: Vec<String> = cols
        .iter()
        .map(|(n, _)| match *n {
            "Get_Source_public_key" if old_words => "Get_master_public_key".to_string(),
            n if old_words => n
                .split('_')
                .map(|w| match w {
                    "Source" => "Master",
                    "Replica" => "Slave",
                    w => w,
                })
                .collect::<Vec<_>>()
                .join("_"),
            n => n.to_string(),
        })
        .collect();
    let row: Vec<Option<String>> = cols.into_iter().map(|(_, v)| v).collect();
    let names: Vec<Column> = names
        .iter()
        .map(|n| {
            let table = if as_table { columns::slave_status_table(n) } else { None };
            table.unwrap_or_else(|| column(columns::REPLICA_STATUS, n, maria))
        })
        .collect();
    typed_rows(names, vec![row])
}

/// The I/O thread's state in the words a replica of this primary uses: MySQL 8.0.26
/// and later say "source" where older servers and MariaDB say "master".
pub(super) fn io_state(state: &str, p: Option<&Primary>) -> String {
    let source_words = p.is_some_and(|p| {
        p.flavor == crate::replica::connect::Flavor::Mysql && {
            let v: Vec<u32> = p.version.split(['.', '-']).take(3).map(|x| x.parse().unwrap_or(0)).collect();
            v.as_slice() >= [8, 0, 26].as_slice()
        }
    });
    if source_words {
        state.replace("master", "source")
    } else {
        state.to_string()
    }
}

/// Each stored file and its size: the durable length for the active file.
pub(super) fn stored_sizes(s: &Ctx, d: &crate::binlog::durable::DurableState) -> Vec<(String, u64)> {
    d.files.iter().map(|f| (f.clone(), d.stored_len(&s.srv.cfg().binlog_dir, f))).collect()
}
