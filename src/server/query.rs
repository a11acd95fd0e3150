//! Answers the statements replicas and clients send, generally rather than from a
//! captured list: `SET` of user and session variables, `SELECT` of variables and a
//! few functions, `SHOW VARIABLES LIKE`, and the binlog `SHOW` statements.
//! Anything else gets a clear ERR and the connection stays open.

use std::time::{SystemTime, UNIX_EPOCH};

use super::session::{err_packet, ok_packet, ok_with_warnings, Session};
use crate::proto::resultset;

const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;
const ER_NOT_SUPPORTED_YET: u16 = 1235;
const ER_UNKNOWN_TARGET_BINLOG: u16 = 1373;
const ER_BINLOG_PURGE_FATAL_ERR: u16 = 1377;
const ER_WRONG_ARGUMENTS: u16 = 1210;
const ER_WARN_PURGE_LOG_IN_USE: u16 = 1867;
const ER_SPECIFIC_ACCESS_DENIED: u16 = 1227;
const ER_DA_SSL_LIBRARY_ERROR: u16 = 3888;
const ER_NO_SUCH_THREAD: u16 = 1094;
const ER_QUERY_INTERRUPTED: u16 = 1317;
const ER_PARSE_ERROR: u16 = 1064;

/// May this session run the statements that change binlogd's state?
/// ERROR 1227, naming the privileges mysqld would ask for.
fn denied(privileges: &str) -> Vec<u8> {
    err_packet(
        ER_SPECIFIC_ACCESS_DENIED,
        "42000",
        &format!("Access denied; you need (at least one of) the {privileges} privilege(s) for this operation"),
    )
}

fn is_admin(s: &Session) -> bool {
    match &s.srv.cfg.admin_accounts {
        Some(list) => list.contains(&s.user),
        None => s.user == s.srv.cfg.master_user,
    }
}

/// The system variables binlogd reports, as (name, value).
fn system_variables(s: &Session) -> Vec<(String, String)> {
    let cfg = &s.srv.cfg;
    let p = s.srv.primary();
    let (version, gtid_mode, checksum) = match &p {
        Some(p) => (
            p.version.clone(),
            if p.gtid_mode { "ON" } else { "OFF" },
            if p.checksum == crate::binlog::event::ChecksumAlg::CRC32 { "CRC32" } else { "NONE" },
        ),
        None => ("8.0.99-binlogd".to_string(), "OFF", "CRC32"),
    };
    let d = s.srv.shared.durable.snapshot();
    let (gtids, maria) = (d.gtids.to_string(), d.maria.to_string());
    let v = [
        ("gtid_executed", gtids),
        ("gtid_binlog_pos", maria.clone()),
        ("gtid_current_pos", maria),
        ("server_id", cfg.server_id.to_string()),
        ("server_uuid", s.srv.shared.uuid.clone()),
        ("version", version),
        ("version_comment", "binlogd".into()),
        ("gtid_mode", gtid_mode.into()),
        ("enforce_gtid_consistency", gtid_mode.into()),
        ("binlog_checksum", checksum.into()),
        ("log_bin", "ON".into()),
        ("binlog_format", "ROW".into()),
        ("gtid_domain_id", "0".into()),
        ("gtid_strict_mode", "OFF".into()),
        ("hostname", cfg.report_host.clone()),
        ("port", cfg.listen_port.unwrap_or(0).to_string()),
        ("max_allowed_packet", "1073741824".into()),
        ("character_set_server", "utf8mb4".into()),
        ("collation_server", "utf8mb4_general_ci".into()),
        ("character_set_client", "utf8mb4".into()),
        ("time_zone", "SYSTEM".into()),
        ("system_time_zone", "UTC".into()),
        ("lower_case_table_names", "0".into()),
        ("sql_mode", String::new()),
        ("auto_increment_increment", "1".into()),
        ("wait_timeout", cfg.wait_timeout.as_secs().to_string()),
        ("rpl_semi_sync_master_enabled", "OFF".into()),
        ("rpl_semi_sync_source_enabled", "OFF".into()),
        ("server_id_bits", "32".into()),
    ];
    v.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// binlogd's counters, as SHOW GLOBAL STATUS rows.
fn status_counters(s: &Session) -> Vec<(String, String)> {
    use std::sync::atomic::Ordering::Relaxed;
    let st = &s.srv.shared.stats;
    let replicas = s.srv.replicas.lock().unwrap_or_else(|e| e.into_inner()).len();
    let u = s.srv.shared.upstream().clone();
    // This session's TLS, as mysqld reports it (empty without TLS).
    let described = s.stream.inner.describe().unwrap_or_default();
    let tls = described.split_once(' ').unwrap_or(("", ""));
    let v = [
        ("Binlogd_events_received", st.events_received.load(Relaxed).to_string()),
        ("Binlogd_events_written", st.events_written.load(Relaxed).to_string()),
        ("Binlogd_last_ack_latency_us", st.last_ack_us.load(Relaxed).to_string()),
        ("Binlogd_bytes_received", st.bytes_received.load(Relaxed).to_string()),
        ("Binlogd_bytes_written", st.bytes_written.load(Relaxed).to_string()),
        ("Binlogd_fsyncs", st.fsyncs.load(Relaxed).to_string()),
        ("Binlogd_fsync_time_us", st.fsync_latency.sum_us.load(Relaxed).to_string()),
        ("Binlogd_acks_sent", st.acks.load(Relaxed).to_string()),
        ("Binlogd_ack_time_us", st.ack_latency.sum_us.load(Relaxed).to_string()),
        ("Binlogd_reconnects", st.reconnects.load(Relaxed).to_string()),
        ("Binlogd_replicas_connected", replicas.to_string()),
        ("Binlogd_bytes_sent", st.bytes_sent.load(Relaxed).to_string()),
        ("Rpl_semi_sync_slave_status", if u.semisync && u.running { "ON" } else { "OFF" }.to_string()),
        ("Uptime", s.srv.started.elapsed().as_secs().to_string()),
        ("Questions", s.srv.questions.load(Relaxed).to_string()),
        ("Threads_connected", s.srv.threads_connected().to_string()),
        ("Ssl_version", tls.0.to_string()),
        ("Ssl_cipher", tls.1.to_string()),
    ];
    v.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn lookup(s: &Session, name: &str) -> Option<String> {
    let n = name.to_ascii_lowercase();
    system_variables(s).into_iter().find(|(k, _)| *k == n).map(|(_, v)| v)
}

/// Splits on commas outside quotes and parentheses.
fn split_list(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None::<char>);
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"' | '`') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, '(') => {
                depth += 1;
                cur.push(c);
            }
            (None, ')') => {
                depth -= 1;
                cur.push(c);
            }
            (None, ',') if depth == 0 => out.push(std::mem::take(&mut cur)),
            (None, c) => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out.into_iter().map(|x| x.trim().to_string()).collect()
}

pub(super) fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2 && (v.starts_with('\'') && v.ends_with('\'') || v.starts_with('"') && v.ends_with('"')) {
        v[1..v.len() - 1].replace("''", "'")
    } else {
        v.to_string()
    }
}

/// Evaluates one expression: a literal, `@var`, `@@[global.|session.]var`, or a known function.
fn eval(s: &Session, e: &str) -> Result<Option<String>, Vec<u8>> {
    let t = e.trim();
    let up = t.to_ascii_uppercase();
    if let Some(v) = t.strip_prefix("@@") {
        let name = v.split_once('.').map_or(v, |(scope, n)| {
            if scope.eq_ignore_ascii_case("global")
                || scope.eq_ignore_ascii_case("session")
                || scope.eq_ignore_ascii_case("local")
            {
                n
            } else {
                v
            }
        });
        let name = name.trim_matches('`');
        return lookup(s, name).map(Some).ok_or_else(|| {
            err_packet(ER_UNKNOWN_SYSTEM_VARIABLE, "HY000", &format!("Unknown system variable '{name}'"))
        });
    }
    if let Some(v) = t.strip_prefix('@') {
        return Ok(s.vars.get(&v.trim_matches('`').to_ascii_lowercase()).cloned());
    }
    match up.as_str() {
        "UNIX_TIMESTAMP()" => {
            Ok(Some(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs().to_string()))
        }
        "VERSION()" => Ok(lookup(s, "version")),
        "DATABASE()" | "NULL" => Ok(None),
        "USER()" | "CURRENT_USER()" => Ok(Some(format!("{}@%", s.srv.cfg.master_user))),
        "CONNECTION_ID()" => Ok(Some(s.id.to_string())),
        _ if t.starts_with('\'') || t.starts_with('"') || t.parse::<f64>().is_ok() => Ok(Some(unquote(t))),
        _ => Err(err_packet(ER_NOT_SUPPORTED_YET, "42000", &format!("binlogd cannot evaluate '{t}'"))),
    }
}

/// Strips comments at the start (`/* ... */`) and a trailing `;`.
/// The statement without comments and trailing semicolons. The text of a versioned
/// comment (`/*!50002 GLOBAL */`, MariaDB's `/*M!100100 ... */`) is kept, as a server
/// of that version or later keeps it: clients such as mysqladmin send them. Quoted
/// strings are left as they are.
pub fn clean(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    let mut quote: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        if let Some(q) = quote {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            if c == q {
                quote = None;
            }
            continue;
        }
        if let Some(body) = rest.strip_prefix("/*") {
            let (inside, after) = body.split_once("*/").unwrap_or((body, ""));
            let kept = inside.strip_prefix('!').or_else(|| inside.strip_prefix("M!"));
            if let Some(k) = kept {
                out.push(' ');
                out.push_str(k.trim_start_matches(|c: char| c.is_ascii_digit()));
            }
            out.push(' ');
            rest = after;
            continue;
        }
        if matches!(c, '\'' | '"' | '`') {
            quote = Some(c);
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.trim().trim_end_matches(';').trim().to_string()
}

/// SQL LIKE as SHOW VARIABLES/STATUS use it: `%` any run, `_` one character, `\\`
/// escaping the next one, ASCII case ignored. The pattern comes from a client, so
/// this is the greedy matcher with one resume point, O(pattern × name) at worst:
/// a backtracking one takes exponential time on a run of `%`s.
fn like(pattern: &str, name: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Any,
        One,
        Lit(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        let t = match c {
            '%' => Tok::Any,
            '_' => Tok::One,
            '\\' => Tok::Lit(it.next().unwrap_or('\\')),
            c => Tok::Lit(c),
        };
        if !(t == Tok::Any && toks.last() == Some(&Tok::Any)) {
            toks.push(t);
        }
    }
    let name: Vec<char> = name.chars().collect();
    let fits = |t: Tok, c: char| match t {
        Tok::One => true,
        Tok::Lit(l) => l.eq_ignore_ascii_case(&c),
        Tok::Any => false,
    };
    // (token after the last `%`, name position it was tried at)
    let (mut i, mut j, mut resume) = (0usize, 0usize, None::<(usize, usize)>);
    while j < name.len() {
        match toks.get(i) {
            Some(&Tok::Any) => {
                resume = Some((i + 1, j));
                i += 1;
            }
            Some(&t) if fits(t, name[j]) => {
                i += 1;
                j += 1;
            }
            _ => match resume {
                // Let the last `%` take one more character and try again from there.
                Some((ti, nj)) => {
                    resume = Some((ti, nj + 1));
                    i = ti;
                    j = nj + 1;
                }
                None => return false,
            },
        }
    }
    toks[i.min(toks.len())..].iter().all(|t| *t == Tok::Any)
}

fn rows(cols: &[&str], rows: Vec<Vec<Option<String>>>) -> Vec<Vec<u8>> {
    resultset::encode(&cols.iter().map(|c| c.to_string()).collect::<Vec<_>>(), &rows)
}

/// The reply packets for one statement.
pub fn answer(s: &mut Session, sql: &str) -> Vec<Vec<u8>> {
    let t = clean(sql);
    let up = t.to_ascii_uppercase();
    let words: Vec<&str> = up.split_whitespace().collect();
    if words.as_slice() != ["SHOW", "WARNINGS"] {
        s.warnings.clear();
    }
    match words.as_slice() {
        [] => vec![ok_packet()],
        ["SHOW", "WARNINGS", ..] => {
            let v = s
                .warnings
                .iter()
                .map(|(l, c, m)| vec![Some(l.to_string()), Some(c.to_string()), Some(m.clone())])
                .collect();
            rows(&["Level", "Code", "Message"], v)
        }
        ["STOP" | "START", "SLAVE" | "REPLICA", ..] | ["FLUSH", ..] | ["PURGE", ..] | ["ALTER", "INSTANCE", ..]
            if !is_admin(s) =>
        {
            vec![denied("SUPER, BINLOG_ADMIN")]
        }
        ["STOP", "SLAVE" | "REPLICA", ..] => {
            if s.srv.shared.control.pause() {
                vec![ok_packet()]
            } else {
                s.warnings.push(("Note", 3084, "Replication thread(s) for channel '' are already stopped.".into()));
                vec![ok_with_warnings(1)]
            }
        }
        ["START", "SLAVE" | "REPLICA", ..] => {
            if s.srv.shared.control.resume() {
                vec![ok_packet()]
            } else {
                s.warnings.push(("Note", 3083, "Replication thread(s) for channel '' are already runnning.".into()));
                vec![ok_with_warnings(1)]
            }
        }
        ["FLUSH", "LOGS"] | ["FLUSH", "ERROR", "LOGS"] | ["FLUSH", "LOCAL" | "NO_WRITE_TO_BINLOG", "LOGS"] => {
            match s.srv.shared.log.reopen() {
                Ok(()) => {
                    log::info!("FLUSH LOGS: reopened the error log");
                    vec![ok_packet()]
                }
                Err(e) => vec![err_packet(1105, "HY000", &format!("cannot reopen the error log: {e}"))],
            }
        }
        // MySQL's statement and MariaDB's: the TLS files are read again, for both directions.
        ["ALTER", "INSTANCE", "RELOAD", "TLS"] | ["FLUSH", "SSL"] => match s.srv.shared.tls.reload_logged(&t) {
            Ok(()) => vec![ok_packet()],
            Err(e) => vec![err_packet(
                ER_DA_SSL_LIBRARY_ERROR,
                "HY000",
                &format!("Failed to set up SSL because of the following SSL library error: {e}"),
            )],
        },
        ["PURGE", "BINARY" | "MASTER", "LOGS", how, ..] if *how == "TO" || *how == "BEFORE" => {
            let arg = unquote(t.split_whitespace().skip(4).collect::<Vec<_>>().join(" ").trim());
            purge(s, how, &arg)
        }
        ["KILL", rest @ ..] => vec![kill(s, rest)],
        ["SHUTDOWN"] => vec![shutdown(s)],
        ["SET", ..] => set(s, &t[3..]),
        ["SELECT", ..] => select(s, &t[6..]),
        ["SHOW", rest @ ..] => show(s, rest, &t),
        ["BEGIN"] | ["COMMIT"] | ["ROLLBACK"] | ["USE", ..] | ["DO", ..] => vec![ok_packet()],
        _ => vec![err_packet(
            ER_NOT_SUPPORTED_YET,
            "42000",
            &format!("binlogd does not support this statement: {}", first_words(&t)),
        )],
    }
}

fn first_words(t: &str) -> String {
    t.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
}

/// The most bytes (names and values) of user variables one session keeps.
const USER_VARS_MAX: usize = 1 << 20;
/// The most user variables one session keeps (each SET sums their sizes).
const USER_VARS_COUNT_MAX: usize = 1000;
/// ER_OUT_OF_RESOURCES.
const ER_OUT_OF_RESOURCES: u16 = 1041;

fn set(s: &mut Session, list: &str) -> Vec<Vec<u8>> {
    for item in split_list(list) {
        let Some((k, v)) = item.split_once('=') else {
            // SET NAMES utf8, SET CHARACTER SET ...: accepted and ignored.
            continue;
        };
        let k = k.trim().trim_start_matches(':');
        if let Some(name) = k.strip_prefix('@').filter(|n| !n.starts_with('@')) {
            let v = match eval(s, v.trim_start_matches('=').trim()) {
                Ok(v) => v.unwrap_or_default(),
                Err(e) => return vec![e],
            };
            let name = name.trim_matches('`').to_ascii_lowercase();
            // Replicas set a few short variables; a client must not grow a session without bound.
            let held: usize = s.vars.iter().filter(|(k, _)| **k != name).map(|(k, v)| k.len() + v.len()).sum();
            let count = s.vars.len() + usize::from(!s.vars.contains_key(&name));
            if held + name.len() + v.len() > USER_VARS_MAX || count > USER_VARS_COUNT_MAX {
                return vec![err_packet(
                    ER_OUT_OF_RESOURCES,
                    "HY000",
                    &format!(
                        "binlogd keeps at most {USER_VARS_COUNT_MAX} user variables, {} KiB in all, per session",
                        USER_VARS_MAX >> 10
                    ),
                )];
            }
            s.vars.insert(name, v);
        }
        // Session system variables (autocommit, sql_mode, ...) are accepted and ignored.
    }
    vec![ok_packet()]
}

/// PURGE BINARY LOGS TO 'name' | BEFORE 'datetime', with a primary's answers: a file
/// that a replica reads (or the active file) stays, and a warning says so.
fn purge(s: &mut Session, how: &str, arg: &str) -> Vec<Vec<u8>> {
    use crate::binlog::purge::Target;
    let target = if how == "TO" {
        Target::To(arg.to_string())
    } else {
        match crate::logging::parse_local(arg) {
            Some(t) => Target::Before(t),
            None => return vec![err_packet(ER_WRONG_ARGUMENTS, "HY000", "Incorrect arguments to PURGE LOGS BEFORE")],
        }
    };
    match crate::replica::purger::purge(&s.srv.cfg, &s.srv.shared, &target) {
        Ok(p) => match &p.held {
            Some(h) => {
                s.warnings.push(("Warning", ER_WARN_PURGE_LOG_IN_USE, h.message(p.purge.len(), p.wanted)));
                vec![ok_with_warnings(1)]
            }
            None => vec![ok_packet()],
        },
        Err(e) if e.starts_with("Target log not found") => vec![err_packet(ER_UNKNOWN_TARGET_BINLOG, "HY000", &e)],
        Err(e) => vec![err_packet(ER_BINLOG_PURGE_FATAL_ERR, "HY000", &format!("Fatal error during log purge: {e}"))],
    }
}

fn select(s: &mut Session, list: &str) -> Vec<Vec<u8>> {
    // Drop LIMIT and FROM DUAL, which the mysql client and replicas add.
    let mut l = list.trim().to_string();
    let up = l.to_ascii_uppercase();
    for kw in [" LIMIT ", " FROM DUAL"] {
        if let Some(i) = up.find(kw) {
            l.truncate(i);
            break;
        }
    }
    let mut cols = Vec::new();
    let mut row = Vec::new();
    for item in split_list(&l) {
        let (expr, alias) = match item.to_ascii_uppercase().rfind(" AS ") {
            Some(i) => (item[..i].to_string(), unquote(item[i + 4..].trim_matches('`'))),
            None => (item.clone(), item.clone()),
        };
        match eval(s, &expr) {
            Ok(v) => {
                cols.push(alias);
                row.push(v);
            }
            Err(e) => return vec![e],
        }
    }
    resultset::encode(&cols, &[row])
}

fn show(s: &mut Session, words: &[&str], t: &str) -> Vec<Vec<u8>> {
    let w: Vec<&str> = words.iter().copied().filter(|x| *x != "GLOBAL" && *x != "SESSION" && *x != "FULL").collect();
    match w.as_slice() {
        ["VARIABLES", ..] | ["STATUS", ..] => {
            let pat = t.find('\'').map(|i| unquote(&t[i..])).unwrap_or_else(|| "%".into());
            let all = if w[0] == "VARIABLES" { system_variables(s) } else { status_counters(s) };
            let v: Vec<Vec<Option<String>>> =
                all.into_iter().filter(|(k, _)| like(&pat, k)).map(|(k, v)| vec![Some(k), Some(v)]).collect();
            rows(&["Variable_name", "Value"], v)
        }
        ["MASTER", "STATUS"] | ["BINARY", "LOG", "STATUS"] => {
            let d = s.srv.shared.durable.snapshot();
            let gtids = d.gtids.to_string();
            let r = d.active.map(|(f, p)| {
                vec![Some(f), Some(p.to_string()), Some(String::new()), Some(String::new()), Some(gtids)]
            });
            rows(
                &["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"],
                r.into_iter().collect(),
            )
        }
        ["BINARY", "LOGS"] | ["MASTER", "LOGS"] => {
            let d = s.srv.shared.durable.snapshot();
            let v = stored_sizes(s, &d)
                .into_iter()
                .map(|(f, size)| vec![Some(f), Some(size.to_string()), Some("No".into())])
                .collect();
            rows(&["Log_name", "File_size", "Encrypted"], v)
        }
        ["SLAVE", "STATUS", ..] => upstream_status(s, false, false),
        ["REPLICA", "STATUS", ..] => upstream_status(s, true, false),
        ["ALL", "SLAVES" | "REPLICAS", "STATUS"] => upstream_status(s, false, true),
        ["SLAVE", "HOSTS"] | ["REPLICAS"] => {
            let replica_words = words == ["REPLICAS"];
            // One row per server_id, the latest to register, as a primary keeps them.
            let reps: std::collections::BTreeMap<u32, super::Registered> = s
                .srv
                .replicas
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .values()
                .map(|r| (r.server_id, r.clone()))
                .collect();
            let me = s.srv.cfg.server_id.to_string();
            let v = reps
                .values()
                .map(|r| {
                    vec![
                        Some(r.server_id.to_string()),
                        Some(r.host.clone()),
                        Some(r.port.to_string()),
                        Some(me.clone()),
                        Some(r.uuid.clone()),
                    ]
                })
                .collect();
            // MySQL 8.0.22 and later name the columns in the new words for SHOW REPLICAS.
            if replica_words {
                rows(&["Server_Id", "Host", "Port", "Source_Id", "Replica_UUID"], v)
            } else {
                rows(&["Server_id", "Host", "Port", "Master_id", "Slave_UUID"], v)
            }
        }
        ["PROCESSLIST"] => processlist(s, words.contains(&"FULL")),
        _ => vec![err_packet(
            ER_NOT_SUPPORTED_YET,
            "42000",
            &format!("binlogd does not support this statement: {}", first_words(t)),
        )],
    }
}

/// SHOW [FULL] PROCESSLIST: every client connection. A dump's Info is the file and
/// position it has reached, and its State says whether it has sent all that is durable.
fn processlist(s: &Session, full: bool) -> Vec<Vec<u8>> {
    let readers = s.srv.shared.readers.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let active = s.srv.shared.durable.snapshot().active;
    // binlogd's own connection to the primary, as mysqld lists its replica I/O thread
    // (not while STOP SLAVE or an error has stopped it).
    let mut upstream = Vec::new();
    if !s.srv.shared.control.is_paused() {
        let u = s.srv.shared.upstream();
        let cfg = &s.srv.cfg;
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
    let v = upstream
        .into_iter()
        .chain(s.srv.conns.rows().into_iter().map(|c| {
            use super::conns::Command;
            let (state, info) = match (c.command, readers.get(&c.id)) {
                (Command::BinlogDump | Command::BinlogDumpGtid, Some(r)) => {
                    let done = active.as_ref().is_some_and(|(f, len)| *f == r.file && *len <= r.pos);
                    let state = if done {
                        "Source has sent all binlog to replica; waiting for more updates"
                    } else {
                        "Sending binlog event to replica"
                    };
                    (state, Some(format!("{}:{}", r.file, r.pos)))
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
        .collect();
    rows(&["Id", "User", "Host", "db", "Command", "Time", "State", "Info"], v)
}

/// SHUTDOWN (or COM_SHUTDOWN, from mysqladmin): stops binlogd as SIGTERM does, after
/// writing and fsyncing what is queued; exit 0.
pub fn shutdown(s: &Session) -> Vec<u8> {
    if !is_admin(s) {
        return denied("SHUTDOWN");
    }
    log::info!("SHUTDOWN from connection {} ({}): stopping after writing and syncing what is queued", s.id, s.user);
    crate::notify::notify("STOPPING=1");
    s.srv.shared.control.request_stop();
    ok_packet()
}

/// KILL [CONNECTION | QUERY] id. A connection is ended by shutting its socket down,
/// which ends its thread's read or write at once; a dump waiting for new events is
/// woken to see it. KILL QUERY ends only a dump (binlogd's other statements are
/// instant). Ending one's own connection answers ERROR 1317 and then closes it.
fn kill(s: &Session, words: &[&str]) -> Vec<u8> {
    let (dump_only, id) = match words {
        [id] | ["CONNECTION", id] => (false, id),
        ["QUERY", id] => (true, id),
        _ => return err_packet(ER_PARSE_ERROR, "42000", "KILL takes [CONNECTION | QUERY] and a connection id"),
    };
    let parsed = if *id == "CONNECTION_ID()" { Ok(s.id) } else { id.parse::<u32>() };
    let Ok(id) = parsed else {
        return err_packet(ER_PARSE_ERROR, "42000", &format!("KILL: '{id}' is not a connection id"));
    };
    if id == s.id {
        s.killed.store(true, std::sync::atomic::Ordering::SeqCst);
        return err_packet(ER_QUERY_INTERRUPTED, "70100", "Query execution was interrupted");
    }
    if !is_admin(s) {
        return denied("SUPER, CONNECTION_ADMIN");
    }
    match s.srv.conns.kill(id, dump_only) {
        Some(who) => {
            log::info!("connection {id} ({who}) ended by KILL from connection {} ({})", s.id, s.user);
            s.srv.shared.durable.wake_all();
            ok_packet()
        }
        None => err_packet(ER_NO_SUCH_THREAD, "HY000", &format!("Unknown thread id: {id}")),
    }
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
fn upstream_status(s: &Session, replica_words: bool, all: bool) -> Vec<Vec<u8>> {
    use crate::replica::connect::Flavor;
    use std::sync::atomic::Ordering::Relaxed;
    let cfg = &s.srv.cfg;
    let sh = &s.srv.shared;
    let u = sh.upstream().clone();
    let d = sh.durable.snapshot();
    let p = s.srv.primary();
    let maria = p.as_ref().is_some_and(|p| p.flavor == Flavor::MariaDb);
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
    let stored: u64 = stored_sizes(s, &d).iter().map(|(_, n)| n).sum();
    let by_gtid = cfg.start_mode != crate::config::StartMode::FilePos;
    let ssl = cfg.master_ssl != crate::config::MasterSsl::Off || cfg.master_ssl_ca.is_some();
    let path = |v: &Option<std::path::PathBuf>| Some(v.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
    // As mysqld's I/O thread: Connecting while it tries to reach the primary again,
    // No only once stopped (STOP SLAVE, or an error retrying cannot mend).
    let io_running = if u.running {
        "Yes"
    } else if sh.control.is_paused() {
        "No"
    } else {
        "Connecting"
    };
    let mut cols: Vec<(&str, Option<String>)> = Vec::with_capacity(80);
    if all {
        cols.extend([("Connection_name", text("")), ("Slave_SQL_State", text(""))]);
    }
    cols.extend([
        ("Replica_IO_State", Some(u.state.to_string())),
        ("Source_Host", text(&cfg.master_host)),
        ("Source_User", text(&cfg.master_user)),
        ("Source_Port", num(cfg.master_port.into())),
        ("Connect_Retry", num(cfg.retry_max.as_secs())),
        ("Source_Log_File", text(&u.read_file)),
        ("Read_Source_Log_Pos", num(sh.stats.read_pos.load(Relaxed))),
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
        ("Seconds_Behind_Source", sh.seconds_behind().map(|b| b.to_string())),
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
                ("Executed_log_entries", num(sh.stats.events_written.load(Relaxed))),
                ("Slave_received_heartbeats", num(sh.stats.heartbeats.load(Relaxed))),
                ("Slave_heartbeat_period", Some(format!("{:.3}", cfg.heartbeat_period.as_secs_f64()))),
                ("Gtid_Slave_Pos", text(&maria_pos)),
            ]);
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
    resultset::encode(&names, &[row])
}

/// Each stored file and its size: the durable length for the active file.
fn stored_sizes(s: &Session, d: &crate::binlog::durable::DurableState) -> Vec<(String, u64)> {
    d.files.iter().map(|f| (f.clone(), d.stored_len(&s.srv.cfg.binlog_dir, f))).collect()
}

/// The statement handling that needs no session (comments, lists, quotes, LIKE,
/// SHOW BINLOG EVENTS' arguments), over any client text: the `statements` fuzz target.
#[doc(hidden)]
pub fn fuzz(sql: &str) {
    let t = clean(sql);
    for item in split_list(&t) {
        let _ = unquote(&item);
    }
    let (pattern, name) = t.split_at(t.char_indices().nth(t.chars().count() / 2).map_or(0, |(i, _)| i));
    let _ = like(pattern, name);
    let _ = like(&t, "rpl_semi_sync_master_enabled");
    let _ = super::events::parse(sql);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lists_outside_quotes_and_parens() {
        assert_eq!(split_list("@a = 'x,y', @b = f(1,2)"), vec!["@a = 'x,y'", "@b = f(1,2)"]);
        assert_eq!(clean("/* mysql-connector */ SELECT 1;"), "SELECT 1");
        let words = |s: &str| clean(s).split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words("show /*!50002 GLOBAL */ status"), ["show", "GLOBAL", "status"]);
        assert_eq!(words("SELECT /*M!100100 1 */ /* no */ 2"), ["SELECT", "1", "2"]);
        assert_eq!(clean("SELECT '/* kept */'"), "SELECT '/* kept */'");
        assert_eq!(clean("SELECT 1 /* unterminated"), "SELECT 1");
    }

    #[test]
    fn like_matches_variable_patterns() {
        assert!(like("SERVER\\_ID", "server_id"));
        assert!(like("server%", "server_uuid"));
        assert!(!like("server_id", "server_uuid"));
        assert!(like("%", ""));
        assert!(like("", ""));
        assert!(!like("", "a"));
        assert!(like("%_id", "server_id"));
        assert!(!like("%_id", "id"));
        assert!(like("%ver%uu%", "server_uuid"));
        assert!(like("s_rver\\%", "server%"));
        assert!(!like("s_rver\\%", "servers"));
        assert!(like("a\\", "a\\"));
        assert!(like("%a%b", "xaxxab"));
        assert!(!like("%a%b", "xaxxa"));
    }

    #[test]
    fn like_answers_at_once_on_a_pattern_of_many_wildcards() {
        // A backtracking matcher takes exponential time on these; a client sends them.
        let pattern = format!("{}x", "%a".repeat(40));
        assert!(!like(&pattern, &"a".repeat(200)));
        assert!(!like(&format!("{}!", "%".repeat(5000)), &"v".repeat(5000)));
        assert!(like(&"%_".repeat(100), &"y".repeat(300)));
    }
}
