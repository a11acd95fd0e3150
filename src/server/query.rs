//! Answers the statements replicas, clients and DBAs send, as the primary would:
//! `SET` of user and session variables, `SELECT` of variables, date arithmetic and a
//! few functions, `SHOW VARIABLES`/`STATUS` with LIKE or WHERE, the binlog and replica
//! `SHOW` statements, and the administrative ones (PURGE, STOP/START SLAVE, KILL, ...),
//! those that change binlogd's state for admin accounts only. Anything else gets a
//! clear ERR and the connection stays open.

use std::time::{SystemTime, UNIX_EPOCH};

use super::session::{err_packet, ok_packet, ok_with_warnings, Session};
use crate::proto::resultset::{self, Column, ColumnType};
use crate::replica::connect::Primary;
use crate::sysvars::{self, Source, Var};

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
const ER_MALFORMED_GTID_SET_SPECIFICATION: u16 = 1772;
const ER_DBACCESS_DENIED_ERROR: u16 = 1044;
const ER_REPLICA_CHANNEL_DOES_NOT_EXIST: u16 = 3074;

/// ERROR 1227, naming the privileges mysqld would ask for.
fn denied(privileges: &str) -> Vec<u8> {
    err_packet(
        ER_SPECIFIC_ACCESS_DENIED,
        "42000",
        &format!("Access denied; you need (at least one of) the {privileges} privilege(s) for this operation"),
    )
}

/// May this session run the statements that change binlogd's state? (`admin_accounts`,
/// or `master_user` when that is not set.)
fn is_admin(s: &Session) -> bool {
    match &s.srv.cfg.admin_accounts {
        Some(list) => list.contains(&s.user),
        None => s.user == s.srv.cfg.master_user,
    }
}

/// The value binlogd reports for `var` now, as SHOW VARIABLES shows it, or None
/// where the primary's flavour has no such variable.
fn variable(s: &Session, p: Option<&Primary>, var: &Var) -> Option<String> {
    use crate::replica::connect::Flavor;
    let flavor = p.map(|p| p.flavor);
    match (var.only, flavor) {
        (sysvars::Only::Mysql, Some(Flavor::MariaDb)) | (sysvars::Only::MariaDb, Some(Flavor::Mysql)) => return None,
        _ => {}
    }
    let cfg = &s.srv.cfg;
    match var.from {
        Source::Primary(default) => {
            if let Some(p) = p.filter(|p| !p.variables.is_empty()) {
                // Read from the primary: what it lacks, this server lacks.
                return p.variables.iter().find(|(k, _)| k == var.name).map(|(_, v)| v.clone());
            }
            // Not read yet (or an older binlog_dir): what the stored files tell.
            Some(match (var.name, p) {
                ("version", Some(p)) => p.version.clone(),
                ("binlog_checksum", Some(p)) => {
                    if p.checksum == crate::binlog::event::ChecksumAlg::CRC32 { "CRC32" } else { "NONE" }.into()
                }
                ("gtid_mode" | "enforce_gtid_consistency", Some(p)) => if p.gtid_mode { "ON" } else { "OFF" }.into(),
                _ => default.to_string(),
            })
        }
        Source::Own => {
            let d = || s.srv.shared.durable.snapshot();
            Some(match var.name {
                "gtid_executed" => d().gtids.to_string(),
                "gtid_purged" => super::dump::purged_gtids(s).to_string(),
                "gtid_binlog_pos" | "gtid_current_pos" => d().maria.to_string(),
                "hostname" => cfg.report_host.clone(),
                "port" => cfg.listen_port.unwrap_or(0).to_string(),
                "server_id" => cfg.server_id.to_string(),
                "server_id_bits" => "32".into(),
                "server_uuid" => s.srv.shared.uuid.clone(),
                "version_comment" => "binlogd".into(),
                "wait_timeout" => cfg.wait_timeout.as_secs().to_string(),
                // binlogd is no semi-sync primary: its readers' ACKs are not awaited.
                _ => "OFF".into(),
            })
        }
    }
}

/// The system variables binlogd reports, as (name, value), by name.
fn system_variables(s: &Session) -> Vec<(String, String)> {
    let p = s.srv.primary();
    sysvars::VARS.iter().filter_map(|v| Some((v.name.to_string(), variable(s, p.as_ref(), v)?))).collect()
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

/// `@@name` as `SELECT` gives it, with its column type.
fn lookup(s: &Session, name: &str) -> Option<(String, ColumnType)> {
    let var = sysvars::find(name)?;
    let v = variable(s, s.srv.primary().as_ref(), var)?;
    let ty = if var.kind == sysvars::Kind::Text { ColumnType::VAR_STRING } else { ColumnType::LONGLONG };
    Some((sysvars::selected(var, &v), ty))
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

/// A value with the column type a server gives it.
type Typed = (Option<String>, ColumnType);

/// Evaluates one expression: a literal, `@var`, `@@[global.|session.]var`, date
/// arithmetic (`NOW() - INTERVAL 1 DAY`), or a known function.
fn eval(s: &Session, e: &str) -> Result<Typed, Vec<u8>> {
    let t = e.trim();
    let up = t.to_ascii_uppercase();
    let text = |v: Option<String>| Ok((v, ColumnType::VAR_STRING));
    // MariaDB types a small integer (a literal, CONNECTION_ID()) as LONG, MySQL as LONGLONG.
    let maria = is_maria(s);
    let int = |v: String| {
        let small = maria && v.parse::<i32>().is_ok();
        Ok((Some(v), if small { ColumnType::LONG } else { ColumnType::LONGLONG }))
    };
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
        return lookup(s, name).map(|(v, ty)| (Some(v), ty)).ok_or_else(|| {
            err_packet(ER_UNKNOWN_SYSTEM_VARIABLE, "HY000", &format!("Unknown system variable '{name}'"))
        });
    }
    if let Some(v) = t.strip_prefix('@') {
        return text(s.vars.get(&v.trim_matches('`').to_ascii_lowercase()).cloned());
    }
    if let Some(args) = up.strip_prefix("GTID_SUBTRACT(").and_then(|_| t.get(14..)).and_then(|a| a.strip_suffix(')')) {
        return gtid_subtract(args).map(|v| (Some(v), ColumnType::VAR_STRING));
    }
    match up.as_str() {
        "UNIX_TIMESTAMP()" => int(now_secs().to_string()),
        "VERSION()" => text(lookup(s, "version").map(|v| v.0)),
        "DATABASE()" | "SCHEMA()" | "NULL" => text(None),
        "USER()" | "CURRENT_USER()" | "CURRENT_USER" | "SESSION_USER()" | "SYSTEM_USER()" => {
            text(Some(format!("{}@%", s.user)))
        }
        "CONNECTION_ID()" => int(s.id.to_string()),
        _ if t.starts_with('\'') || t.starts_with('"') => text(Some(unquote(t))),
        _ if t.parse::<i64>().is_ok() => int(t.to_string()),
        _ if t.parse::<f64>().is_ok() => Ok((Some(t.to_string()), ColumnType::NEWDECIMAL)),
        _ => match datetime(t) {
            Some(Ok(secs)) => Ok((Some(crate::logging::datetime(secs)), ColumnType::DATETIME)),
            Some(Err(why)) => Err(err_packet(ER_WRONG_ARGUMENTS, "HY000", &why)),
            None => Err(err_packet(ER_NOT_SUPPORTED_YET, "42000", &format!("binlogd cannot evaluate '{t}'"))),
        },
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// `GTID_SUBTRACT('set', 'set')`: Debezium asks it of the server it reads.
fn gtid_subtract(args: &str) -> Result<String, Vec<u8>> {
    use crate::binlog::gtid::GtidSet;
    let parts = split_list(args);
    let [a, b] = parts.as_slice() else {
        return Err(err_packet(ER_WRONG_ARGUMENTS, "HY000", "GTID_SUBTRACT takes two GTID sets"));
    };
    let parse = |x: &str| {
        GtidSet::parse(&unquote(x)).map_err(|e| {
            err_packet(
                ER_MALFORMED_GTID_SET_SPECIFICATION,
                "HY000",
                &format!("Malformed GTID set specification '{}': {e}", unquote(x)),
            )
        })
    };
    Ok(parse(a)?.difference(&parse(b)?).to_string().replace('\n', ""))
}

/// A date and time expression as DBAs type them, in seconds since the epoch (local
/// time, as mysqld's session time zone SYSTEM): `NOW()`, `CURRENT_TIMESTAMP`, a quoted
/// `'YYYY-MM-DD HH:MM:SS'`, `DATE_SUB(x, INTERVAL n unit)`, `DATE_ADD(...)`, and
/// `x - INTERVAL n unit` / `x + INTERVAL n unit`. None when `e` is none of those;
/// Some(Err) when it is one, wrongly written.
/// <https://dev.mysql.com/doc/refman/8.4/en/date-and-time-functions.html#function_date-add>
fn datetime(e: &str) -> Option<Result<u64, String>> {
    let t = e.trim();
    let up = t.to_ascii_uppercase();
    // `x +|- INTERVAL n unit`, the last one first.
    let (mut depth, mut quote) = (0i32, None::<char>);
    let mut split = None;
    for (i, c) in t.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, '+' | '-') if depth == 0 && up[i + 1..].trim_start().starts_with("INTERVAL") => split = Some(i),
            _ => {}
        }
    }
    if let Some(i) = split {
        let base = match datetime(&t[..i])? {
            Ok(b) => b,
            Err(e) => return Some(Err(e)),
        };
        let sign = if t[i..].starts_with('-') { -1 } else { 1 };
        return Some(interval(t[i + 1..].trim_start().get(8..).unwrap_or("")).and_then(|(n, unit)| {
            crate::logging::shift_local(base, unit, sign * n).ok_or_else(|| format!("'{t}' is out of range"))
        }));
    }
    for f in ["DATE_SUB(", "DATE_ADD(", "SUBDATE(", "ADDDATE("] {
        if let Some(args) = up.strip_prefix(f).and_then(|_| t.get(f.len()..)).and_then(|a| a.strip_suffix(')')) {
            let parts = split_list(args);
            let [base, iv] = parts.as_slice() else { return Some(Err(format!("{f}...) takes two arguments"))) };
            let base = match datetime(base)? {
                Ok(b) => b,
                Err(e) => return Some(Err(e)),
            };
            let Some(iv) = iv.get(..8).filter(|k| k.eq_ignore_ascii_case("INTERVAL")).and_then(|_| iv.get(8..)) else {
                return Some(Err(format!("{f}...) takes INTERVAL n unit")));
            };
            let sign = if f.contains("SUB") { -1 } else { 1 };
            return Some(interval(iv).and_then(|(n, unit)| {
                crate::logging::shift_local(base, unit, sign * n).ok_or_else(|| format!("'{t}' is out of range"))
            }));
        }
    }
    match up.as_str() {
        "NOW()"
        | "CURRENT_TIMESTAMP"
        | "CURRENT_TIMESTAMP()"
        | "SYSDATE()"
        | "LOCALTIME"
        | "LOCALTIME()"
        | "LOCALTIMESTAMP"
        | "LOCALTIMESTAMP()" => Some(Ok(now_secs())),
        _ if t.starts_with('\'') || t.starts_with('"') => {
            let lit = unquote(t);
            Some(
                crate::logging::parse_local(&lit)
                    .and_then(|st| st.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_secs())
                    .ok_or_else(|| format!("Incorrect datetime value: '{lit}'")),
            )
        }
        _ => None,
    }
}

/// `n unit` after INTERVAL.
fn interval(t: &str) -> Result<(i64, crate::logging::Unit), String> {
    use crate::logging::Unit;
    let w: Vec<&str> = t.split_whitespace().collect();
    let [n, unit] = w.as_slice() else { return Err(format!("INTERVAL takes a number and a unit: '{}'", t.trim())) };
    let n: i64 = unquote(n).trim().parse().map_err(|_| format!("INTERVAL {n}: not a whole number"))?;
    let unit = match unit.to_ascii_uppercase().as_str() {
        "SECOND" => Unit::Second,
        "MINUTE" => Unit::Minute,
        "HOUR" => Unit::Hour,
        "DAY" => Unit::Day,
        "WEEK" => Unit::Week,
        "MONTH" => Unit::Month,
        "YEAR" => Unit::Year,
        u => return Err(format!("INTERVAL unit {u}: binlogd takes SECOND, MINUTE, HOUR, DAY, WEEK, MONTH or YEAR")),
    };
    Ok((n, unit))
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
pub(super) fn like(pattern: &str, name: &str) -> bool {
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
    resultset::encode_typed(&cols.iter().map(|c| column(c)).collect::<Vec<_>>(), &rows)
}

/// A result column by its name, typed as mysqld and MariaDB type it: the
/// positions, sizes, ids, ports and counters of SHOW statements are integers
/// (pymysql and Connector/J read them as numbers), the rest text.
pub(super) fn column(name: &str) -> Column {
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
    ];
    let ty = if LONGLONG.contains(&name) {
        ColumnType::LONGLONG
    } else if LONG.contains(&name) {
        ColumnType::LONG
    } else if name == "Progress" {
        ColumnType::DOUBLE
    } else {
        ColumnType::VAR_STRING
    };
    Column::typed(name, ty)
}

/// Who may run a statement. Each entry of `STATEMENTS` declares one: none is open to
/// every account by being left out of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    /// Any account that logged in: statements that change nothing.
    Anyone,
    /// Admin accounts only (`admin_accounts`, else `master_user`); others get ERROR
    /// 1227 naming these privileges, as mysqld names them.
    Admin(&'static str),
    /// Anyone for their own connection, admin accounts for the others' (KILL).
    OwnOrAdmin(&'static str),
}

/// One statement binlogd runs.
pub struct Statement {
    /// Its words, upper case; `*` stands for any one word and a last `..` for any rest.
    pub words: &'static [&'static str],
    pub privilege: Privilege,
    /// An instance of it, for the tests and the docs.
    pub example: &'static str,
    run: fn(&mut Session, &Parsed) -> Vec<Vec<u8>>,
}

/// A statement as received: its text without comments, and its words in upper case.
pub struct Parsed<'a> {
    pub text: &'a str,
    pub words: &'a [&'a str],
    /// For an `OwnOrAdmin` statement run by another account: the privileges to name
    /// when it reaches past its own connection.
    pub own_only: Option<&'static str>,
}

impl Statement {
    fn matches(&self, words: &[&str]) -> bool {
        let (pat, rest) = match self.words.split_last() {
            Some((&"..", pat)) => (pat, true),
            _ => (self.words, false),
        };
        let n = pat.len();
        (words.len() == n || (rest && words.len() >= n)) && pat.iter().zip(words).all(|(p, w)| *p == "*" || p == w)
    }
}

const fn st(
    words: &'static [&'static str],
    privilege: Privilege,
    example: &'static str,
    run: fn(&mut Session, &Parsed) -> Vec<Vec<u8>>,
) -> Statement {
    Statement { words, privilege, example, run }
}

use Privilege::{Admin, Anyone, OwnOrAdmin};

/// Every statement binlogd runs, the first that matches: declared once, with who may
/// run it. mysqld's privilege names for each: <https://dev.mysql.com/doc/refman/8.4/en/privileges-provided.html>
pub static STATEMENTS: &[Statement] = &[
    st(&["STOP", "SLAVE", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "STOP SLAVE", stop_slave),
    st(&["STOP", "REPLICA", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "STOP REPLICA", stop_slave),
    st(&["START", "SLAVE", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "START SLAVE", start_slave),
    st(&["START", "REPLICA", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "START REPLICA", start_slave),
    st(&["FLUSH", "BINARY", "LOGS"], Admin("RELOAD"), "FLUSH BINARY LOGS", flush_binary_logs),
    st(&["FLUSH", "*", "BINARY", "LOGS"], Admin("RELOAD"), "FLUSH LOCAL BINARY LOGS", flush_binary_logs),
    st(&["FLUSH", "LOGS"], Admin("RELOAD"), "FLUSH LOGS", flush_logs),
    st(&["FLUSH", "*", "LOGS"], Admin("RELOAD"), "FLUSH ERROR LOGS", flush_logs),
    // MySQL's statement and MariaDB's: the TLS files are read again, for both directions.
    st(&["ALTER", "INSTANCE", "RELOAD", "TLS"], Admin("CONNECTION_ADMIN"), "ALTER INSTANCE RELOAD TLS", reload_tls),
    st(&["FLUSH", "SSL"], Admin("RELOAD"), "FLUSH SSL", reload_tls),
    st(&["PURGE", "BINARY", "LOGS", ".."], Admin("SUPER, BINLOG_ADMIN"), "PURGE BINARY LOGS TO 'x.000001'", purge_logs),
    st(&["PURGE", "MASTER", "LOGS", ".."], Admin("SUPER, BINLOG_ADMIN"), "PURGE MASTER LOGS TO 'x.000001'", purge_logs),
    st(&["KILL", ".."], OwnOrAdmin("SUPER, CONNECTION_ADMIN"), "KILL 4294967295", kill_statement),
    st(&["SHUTDOWN"], Admin("SHUTDOWN"), "SHUTDOWN", shutdown_statement),
    st(&["SET", ".."], Anyone, "SET @master_heartbeat_period = 1000000000", set_statement),
    st(&["SELECT", ".."], Anyone, "SELECT @@server_id", select_statement),
    st(&["SHOW", ".."], Anyone, "SHOW MASTER STATUS", show_statement),
    st(&["USE", "*"], Anyone, "USE information_schema", use_statement),
    st(&["BEGIN"], Anyone, "BEGIN", nothing),
    st(&["COMMIT"], Anyone, "COMMIT", nothing),
    st(&["ROLLBACK"], Anyone, "ROLLBACK", nothing),
    st(&["DO", ".."], Anyone, "DO 1", nothing),
];

/// The reply packets for one statement: the first of `STATEMENTS` that matches, if
/// this account may run it.
pub fn answer(s: &mut Session, sql: &str) -> Vec<Vec<u8>> {
    let t = clean(sql);
    let up = t.to_ascii_uppercase();
    let words: Vec<&str> = up.split_whitespace().collect();
    if words.as_slice() != ["SHOW", "WARNINGS"] {
        s.warnings.clear();
    }
    if words.is_empty() {
        return vec![ok_packet()];
    }
    let Some(stmt) = STATEMENTS.iter().find(|st| st.matches(&words)) else {
        return vec![err_packet(
            ER_NOT_SUPPORTED_YET,
            "42000",
            &format!("binlogd does not support this statement: {}", first_words(&t)),
        )];
    };
    let own_only = match stmt.privilege {
        Admin(privileges) if !is_admin(s) => return vec![denied(privileges)],
        OwnOrAdmin(privileges) if !is_admin(s) => Some(privileges),
        _ => None,
    };
    (stmt.run)(s, &Parsed { text: &t, words: &words, own_only })
}

fn nothing(_: &mut Session, _: &Parsed) -> Vec<Vec<u8>> {
    vec![ok_packet()]
}

fn stop_slave(s: &mut Session, _: &Parsed) -> Vec<Vec<u8>> {
    if s.srv.shared.control.pause() {
        vec![ok_packet()]
    } else {
        s.warnings.push(("Note", 3084, "Replication thread(s) for channel '' are already stopped.".into()));
        vec![ok_with_warnings(1)]
    }
}

fn start_slave(s: &mut Session, _: &Parsed) -> Vec<Vec<u8>> {
    if s.srv.shared.control.resume() {
        vec![ok_packet()]
    } else {
        s.warnings.push(("Note", 3083, "Replication thread(s) for channel '' are already runnning.".into()));
        vec![ok_with_warnings(1)]
    }
}

/// The files are the primary's: binlogd cannot rotate them.
fn flush_binary_logs(s: &mut Session, _: &Parsed) -> Vec<Vec<u8>> {
    let p = &s.srv.cfg;
    vec![err_packet(
        ER_NOT_SUPPORTED_YET,
        "42000",
        &format!(
            "binlogd does not rotate its binary logs: they are the primary's, copied byte for byte, and \
             rotate when the primary's do. Run FLUSH BINARY LOGS on the primary ({}:{})",
            p.master_host, p.master_port
        ),
    )]
}

/// FLUSH [ERROR | LOCAL | NO_WRITE_TO_BINLOG] LOGS: the error log is reopened.
fn flush_logs(s: &mut Session, p: &Parsed) -> Vec<Vec<u8>> {
    if !matches!(p.words.get(1), Some(&"LOGS" | &"ERROR" | &"LOCAL" | &"NO_WRITE_TO_BINLOG")) {
        return vec![err_packet(ER_NOT_SUPPORTED_YET, "42000", &format!("binlogd does not support {}", p.text))];
    }
    match s.srv.shared.log.reopen() {
        Ok(()) => {
            log::info!("FLUSH LOGS: reopened the error log");
            vec![ok_packet()]
        }
        Err(e) => vec![err_packet(1105, "HY000", &format!("cannot reopen the error log: {e}"))],
    }
}

fn reload_tls(s: &mut Session, p: &Parsed) -> Vec<Vec<u8>> {
    match s.srv.shared.tls.reload_logged(p.text) {
        Ok(()) => vec![ok_packet()],
        Err(e) => vec![err_packet(
            ER_DA_SSL_LIBRARY_ERROR,
            "HY000",
            &format!("Failed to set up SSL because of the following SSL library error: {e}"),
        )],
    }
}

/// PURGE {BINARY | MASTER} LOGS {TO 'file' | BEFORE datetime}.
fn purge_logs(s: &mut Session, p: &Parsed) -> Vec<Vec<u8>> {
    match p.words.get(3) {
        Some(how @ (&"TO" | &"BEFORE")) => {
            let arg = p.text.split_whitespace().skip(4).collect::<Vec<_>>().join(" ");
            purge(s, how, arg.trim())
        }
        _ => vec![err_packet(ER_PARSE_ERROR, "42000", "PURGE BINARY LOGS takes TO 'file' or BEFORE a date and time")],
    }
}

fn kill_statement(s: &mut Session, p: &Parsed) -> Vec<Vec<u8>> {
    vec![kill(s, p.words.get(1..).unwrap_or_default(), p.own_only)]
}

fn shutdown_statement(s: &mut Session, _: &Parsed) -> Vec<Vec<u8>> {
    vec![shutdown(s)]
}

fn set_statement(s: &mut Session, p: &Parsed) -> Vec<Vec<u8>> {
    set(s, p.text.get(3..).unwrap_or_default())
}

fn select_statement(s: &mut Session, p: &Parsed) -> Vec<Vec<u8>> {
    select(s, p.text.get(6..).unwrap_or_default())
}

fn show_statement(s: &mut Session, p: &Parsed) -> Vec<Vec<u8>> {
    match p.words {
        [_, "WARNINGS", ..] => {
            let v = s
                .warnings
                .iter()
                .map(|(l, c, m)| vec![Some(l.to_string()), Some(c.to_string()), Some(m.clone())])
                .collect();
            rows(&["Level", "Code", "Message"], v)
        }
        [_, rest @ ..] => show(s, rest, p.text),
        [] => vec![ok_packet()],
    }
}

fn use_statement(s: &mut Session, p: &Parsed) -> Vec<Vec<u8>> {
    vec![init_db(&s.user, p.text.split_whitespace().nth(1).unwrap_or(""))]
}

/// COM_INIT_DB and `USE db`: a server with no databases of its own knows only
/// information_schema. <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_init_db.html>
/// An account holds no privilege on any database, so any other is refused as mysqld
/// refuses it to such an account (1044), whether it exists or not.
pub fn init_db(user: &str, db: &str) -> Vec<u8> {
    let db = db.trim().trim_matches('`');
    if db.eq_ignore_ascii_case("information_schema") {
        ok_packet()
    } else {
        err_packet(
            ER_DBACCESS_DENIED_ERROR,
            "42000",
            &format!("Access denied for user '{user}'@'%' to database '{db}'"),
        )
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
                Ok(v) => v.0.unwrap_or_default(),
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
        Target::To(unquote(arg))
    } else {
        // What DBAs type: a quoted time, NOW() - INTERVAL 1 DAY, DATE_SUB(NOW(), INTERVAL 7 DAY).
        match datetime(arg) {
            Some(Ok(secs)) => Target::Before(UNIX_EPOCH + std::time::Duration::from_secs(secs)),
            _ => return vec![err_packet(ER_WRONG_ARGUMENTS, "HY000", "Incorrect arguments to PURGE LOGS BEFORE")],
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
    if up.contains(" FROM ") && !up.contains(" FROM DUAL") {
        return vec![no_schema(&format!("SELECT {l}"))];
    }
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
            // A string literal's column is named by its text, as mysqld names it.
            None if item.starts_with('\'') || item.starts_with('"') => (item.clone(), unquote(&item)),
            None => (item.clone(), item.clone()),
        };
        match eval(s, &expr) {
            Ok((v, ty)) => {
                cols.push(Column::typed(alias, ty));
                row.push(v);
            }
            Err(e) => return vec![e],
        }
    }
    resultset::encode_typed(&cols, &[row])
}

fn show(s: &mut Session, words: &[&str], t: &str) -> Vec<Vec<u8>> {
    let w: Vec<&str> = words.iter().copied().filter(|x| *x != "GLOBAL" && *x != "SESSION" && *x != "FULL").collect();
    match w.as_slice() {
        ["VARIABLES", ..] | ["STATUS", ..] => {
            let kw = if w[0] == "VARIABLES" { "VARIABLES" } else { "STATUS" };
            let filter = match super::filter::Filter::parse(after_word(t, kw)) {
                Ok(f) => f,
                Err(why) => {
                    return vec![err_packet(
                        ER_PARSE_ERROR,
                        "42000",
                        &format!("binlogd cannot read the condition of {}: {why}", first_words(t)),
                    )]
                }
            };
            let all = if kw == "VARIABLES" { system_variables(s) } else { status_counters(s) };
            let v: Vec<Vec<Option<String>>> =
                all.into_iter().filter(|(k, v)| filter.matches(k, v)).map(|(k, v)| vec![Some(k), Some(v)]).collect();
            rows(&["Variable_name", "Value"], v)
        }
        // MySQL 8.2+ and MariaDB 10.5.2+ names, and the old one.
        ["MASTER", "STATUS"] | ["BINARY", "LOG", "STATUS"] | ["BINLOG", "STATUS"] => {
            let d = s.srv.shared.durable.snapshot();
            let gtids = d.gtids.to_string();
            let maria = is_maria(s);
            let r = d.active.map(|(f, p)| {
                let mut r = vec![Some(f), Some(p.to_string()), Some(String::new()), Some(String::new())];
                if !maria {
                    r.push(Some(gtids));
                }
                r
            });
            let cols = ["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"];
            rows(&cols[..if maria { 4 } else { 5 }], r.into_iter().collect())
        }
        ["BINARY", "LOGS"] | ["MASTER", "LOGS"] => {
            let d = s.srv.shared.durable.snapshot();
            // MySQL 8.0.14+ adds Encrypted; MariaDB has no such column.
            let maria = is_maria(s);
            let v = stored_sizes(s, &d)
                .into_iter()
                .map(|(f, size)| {
                    let mut r = vec![Some(f), Some(size.to_string())];
                    if !maria {
                        r.push(Some("No".into()));
                    }
                    r
                })
                .collect();
            rows(&["Log_name", "File_size", "Encrypted"][..if maria { 2 } else { 3 }], v)
        }
        ["DATABASES"] | ["SCHEMAS"] => rows(&["Database"], vec![vec![Some("information_schema".into())]]),
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
        ["SLAVE" | "REPLICA", "STATUS", "FOR", "CHANNEL", ..] => {
            let channel = unquote(after_word(t, "CHANNEL"));
            if channel.is_empty() {
                upstream_status(s, w[0] == "REPLICA", false)
            } else {
                vec![err_packet(
                    ER_REPLICA_CHANNEL_DOES_NOT_EXIST,
                    "HY000",
                    &format!("Replication channel '{channel}' does not exist."),
                )]
            }
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
                rows(&["Server_Id", "Host", "Port", "Source_Id", "Replica_UUID"][..n], v)
            } else {
                rows(&["Server_id", "Host", "Port", "Master_id", "Slave_UUID"][..n], v)
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

/// Does binlogd stand in for a MariaDB primary (as far as it knows)?
fn is_maria(s: &Session) -> bool {
    s.srv.primary().is_some_and(|p| p.flavor == crate::replica::connect::Flavor::MariaDb)
}

/// The text of `t` after its first word `kw` (any case), or "".
fn after_word<'a>(t: &'a str, kw: &str) -> &'a str {
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
fn no_schema(t: &str) -> Vec<u8> {
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
fn grants(s: &Session, words: &[&str], t: &str) -> Vec<Vec<u8>> {
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
    rows(&[&format!("Grants for {me}@%")], v)
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
    let v: Vec<Vec<Option<String>>> = upstream
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
    let cols = ["Id", "User", "Host", "db", "Command", "Time", "State", "Info", "Progress"];
    if is_maria(s) {
        // MariaDB adds the progress of long statements; binlogd's have none.
        let v = v
            .into_iter()
            .map(|mut r| {
                r.push(Some("0.000".into()));
                r
            })
            .collect();
        return rows(&cols, v);
    }
    rows(&cols[..8], v)
}

/// SHUTDOWN (or COM_SHUTDOWN, from mysqladmin): stops binlogd as SIGTERM does, after
/// writing and fsyncing what is queued; exit 0.
fn shutdown(s: &Session) -> Vec<u8> {
    log::info!("SHUTDOWN from connection {} ({}): stopping after writing and syncing what is queued", s.id, s.user);
    crate::notify::notify("STOPPING=1");
    s.srv.shared.control.request_stop();
    ok_packet()
}

/// KILL [CONNECTION | QUERY] id. A connection is ended by shutting its socket down,
/// which ends its thread's read or write at once; a dump waiting for new events is
/// woken to see it. KILL QUERY ends only a dump (binlogd's other statements are
/// instant). Ending one's own connection answers ERROR 1317 and then closes it; an
/// account that may end only its own (`own_only`) is refused the others.
fn kill(s: &Session, words: &[&str], own_only: Option<&str>) -> Vec<u8> {
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
    if let Some(privileges) = own_only {
        return denied(privileges);
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
        ("Replica_IO_State", Some(io_state(u.state, p.as_ref()))),
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
    let names: Vec<Column> = names.iter().map(|n| column(n)).collect();
    resultset::encode_typed(&names, &[row])
}

/// The I/O thread's state in the words a replica of this primary uses: MySQL 8.0.26
/// and later say "source" where older servers and MariaDB say "master".
fn io_state(state: &str, p: Option<&Primary>) -> String {
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
    fn each_statement_example_is_matched_by_its_own_entry_first() {
        for st in STATEMENTS {
            let up = st.example.to_ascii_uppercase();
            let words: Vec<&str> = up.split_whitespace().collect();
            let first = STATEMENTS.iter().find(|x| x.matches(&words)).map(|x| x.words);
            assert_eq!(first, Some(st.words), "{}", st.example);
        }
        let up = ["FLUSH", "LOCAL", "BINARY", "LOGS"];
        assert_eq!(STATEMENTS.iter().find(|x| x.matches(&up)).map(|x| x.example), Some("FLUSH LOCAL BINARY LOGS"));
        assert!(!STATEMENTS.iter().any(|x| x.matches(&["SHUTDOWN", "NOW"])));
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
