//! Runs the statements replicas, clients and DBAs send, as the primary would: each is
//! declared once in `STATEMENTS`, with who may run it and its handler. Those that
//! change binlogd's state (PURGE, STOP/START SLAVE, KILL, ...) are for admin accounts
//! only. Anything else gets a clear ERR and the connection stays open.

use std::time::UNIX_EPOCH;

use super::change::{change_master, reset_slave};
use super::ctx::Ctx;
use super::reply::{err_packet, ok_packet, ok_with_warnings};
use super::show::{rows, show};
use super::sql::{clean, like, split_list, unquote};
use super::values::{datetime, eval, select};

pub(super) const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;

pub(super) const ER_NOT_SUPPORTED_YET: u16 = 1235;

pub(super) const ER_UNKNOWN_TARGET_BINLOG: u16 = 1373;

pub(super) const ER_BINLOG_PURGE_FATAL_ERR: u16 = 1377;

pub(super) const ER_WRONG_ARGUMENTS: u16 = 1210;

pub(super) const ER_WARN_PURGE_LOG_IN_USE: u16 = 1867;

pub(super) const ER_SPECIFIC_ACCESS_DENIED: u16 = 1227;

pub(super) const ER_DA_SSL_LIBRARY_ERROR: u16 = 3888;

pub(super) const ER_NO_SUCH_THREAD: u16 = 1094;

pub(super) const ER_QUERY_INTERRUPTED: u16 = 1317;

pub(super) const ER_PARSE_ERROR: u16 = 1064;

pub(super) const ER_MALFORMED_GTID_SET_SPECIFICATION: u16 = 1772;

pub(super) const ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT: u16 = 1582;

pub(super) const ER_BAD_FIELD_ERROR: u16 = 1054;

pub(super) const ER_DBACCESS_DENIED_ERROR: u16 = 1044;

pub(super) const ER_REPLICA_CHANNEL_DOES_NOT_EXIST: u16 = 3074;

/// ERROR 1227, naming the privileges mysqld would ask for.
pub(super) fn denied(privileges: &str) -> Vec<u8> {
    err_packet(
        ER_SPECIFIC_ACCESS_DENIED,
        "42000",
        &format!("Access denied; you need (at least one of) the {privileges} privilege(s) for this operation"),
    )
}

/// May this session run the statements that change binlogd's state? (`admin_accounts`,
/// or `master_user` when that is not set.)
pub(super) fn is_admin(s: &Ctx) -> bool {
    match &s.srv.cfg().admin_accounts {
        Some(list) => list.iter().any(|a| a == s.user),
        None => s.user == s.srv.cfg().master_user,
    }
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
    run: fn(&mut Ctx, &Parsed) -> Vec<Vec<u8>>,
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
    run: fn(&mut Ctx, &Parsed) -> Vec<Vec<u8>>,
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
    st(
        &["CHANGE", "MASTER", "TO", ".."],
        Admin("SUPER, REPLICATION_SLAVE_ADMIN"),
        "CHANGE MASTER TO MASTER_PORT = 3306",
        change_master,
    ),
    st(
        &["CHANGE", "REPLICATION", "SOURCE", "TO", ".."],
        Admin("SUPER, REPLICATION_SLAVE_ADMIN"),
        "CHANGE REPLICATION SOURCE TO SOURCE_PORT = 3306",
        change_master,
    ),
    st(&["RESET", "SLAVE", ".."], Admin("RELOAD"), "RESET SLAVE ALL", reset_slave),
    st(&["RESET", "REPLICA", ".."], Admin("RELOAD"), "RESET REPLICA ALL", reset_slave),
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
pub fn answer(s: &mut Ctx, sql: &str) -> Vec<Vec<u8>> {
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

fn nothing(_: &mut Ctx, _: &Parsed) -> Vec<Vec<u8>> {
    vec![ok_packet()]
}

fn stop_slave(s: &mut Ctx, _: &Parsed) -> Vec<Vec<u8>> {
    if s.srv.link().control.pause() {
        vec![ok_packet()]
    } else {
        s.warnings.push(("Note", 3084, "Replication thread(s) for channel '' are already stopped.".into()));
        vec![ok_with_warnings(1)]
    }
}

fn start_slave(s: &mut Ctx, _: &Parsed) -> Vec<Vec<u8>> {
    if s.srv.link().control.resume() {
        vec![ok_packet()]
    } else {
        s.warnings.push(("Note", 3083, "Replication thread(s) for channel '' are already runnning.".into()));
        vec![ok_with_warnings(1)]
    }
}

/// The files are the primary's: binlogd cannot rotate them.
fn flush_binary_logs(s: &mut Ctx, _: &Parsed) -> Vec<Vec<u8>> {
    let p = s.srv.source();
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
fn flush_logs(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    if !matches!(p.words.get(1), Some(&"LOGS" | &"ERROR" | &"LOCAL" | &"NO_WRITE_TO_BINLOG")) {
        return vec![err_packet(ER_NOT_SUPPORTED_YET, "42000", &format!("binlogd does not support {}", p.text))];
    }
    match s.srv.serving().log.reopen() {
        Ok(()) => {
            log::info!("FLUSH LOGS: reopened the error log");
            vec![ok_packet()]
        }
        Err(e) => vec![err_packet(1105, "HY000", &format!("cannot reopen the error log: {e}"))],
    }
}

fn reload_tls(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    match s.srv.link().tls.reload_logged(p.text) {
        Ok(()) => vec![ok_packet()],
        Err(e) => vec![err_packet(
            ER_DA_SSL_LIBRARY_ERROR,
            "HY000",
            &format!("Failed to set up SSL because of the following SSL library error: {e}"),
        )],
    }
}

/// PURGE {BINARY | MASTER} LOGS {TO 'file' | BEFORE datetime}.
fn purge_logs(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    match p.words.get(3) {
        Some(how @ (&"TO" | &"BEFORE")) => {
            let arg = p.text.split_whitespace().skip(4).collect::<Vec<_>>().join(" ");
            purge(s, how, arg.trim())
        }
        _ => vec![err_packet(ER_PARSE_ERROR, "42000", "PURGE BINARY LOGS takes TO 'file' or BEFORE a date and time")],
    }
}

fn kill_statement(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    vec![kill(s, p.words.get(1..).unwrap_or_default(), p.own_only)]
}

fn shutdown_statement(s: &mut Ctx, _: &Parsed) -> Vec<Vec<u8>> {
    vec![shutdown(s)]
}

fn set_statement(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    set(s, p.text.get(3..).unwrap_or_default())
}

fn select_statement(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    select(s, p.text.get(6..).unwrap_or_default())
}

fn show_statement(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
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

fn use_statement(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    vec![init_db(s.user, p.text.split_whitespace().nth(1).unwrap_or(""))]
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

pub(super) fn first_words(t: &str) -> String {
    t.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
}

/// The most bytes (names and values) of user variables one session keeps.
const USER_VARS_MAX: usize = 1 << 20;

/// The most user variables one session keeps (each SET sums their sizes).
const USER_VARS_COUNT_MAX: usize = 1000;

/// ER_OUT_OF_RESOURCES.
pub(super) const ER_OUT_OF_RESOURCES: u16 = 1041;

fn set(s: &mut Ctx, list: &str) -> Vec<Vec<u8>> {
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
fn purge(s: &mut Ctx, how: &str, arg: &str) -> Vec<Vec<u8>> {
    use crate::binlog::purge::Target;
    let target = if how == "TO" {
        let files = s.srv.serving().durable.snapshot().files.clone();
        Target::To(crate::binlog::sources::to_path(&files, &unquote(arg)))
    } else {
        // What DBAs type: a quoted time, NOW() - INTERVAL 1 DAY, DATE_SUB(NOW(), INTERVAL 7 DAY).
        match datetime(arg) {
            Some(Ok(secs)) => Target::Before(UNIX_EPOCH + std::time::Duration::from_secs(secs)),
            _ => return vec![err_packet(ER_WRONG_ARGUMENTS, "HY000", "Incorrect arguments to PURGE LOGS BEFORE")],
        }
    };
    match s.srv.purge(&target) {
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

/// SHUTDOWN (or COM_SHUTDOWN, from mysqladmin): stops binlogd as SIGTERM does, after
/// writing and fsyncing what is queued; exit 0.
fn shutdown(s: &Ctx) -> Vec<u8> {
    log::info!("SHUTDOWN from connection {} ({}): stopping after writing and syncing what is queued", s.id, s.user);
    crate::notify::notify("STOPPING=1");
    s.srv.link().control.request_stop();
    ok_packet()
}

/// KILL [CONNECTION | QUERY] id. A connection is ended by shutting its socket down,
/// which ends its thread's read or write at once; a dump waiting for new events is
/// woken to see it. KILL QUERY ends only a dump (binlogd's other statements are
/// instant). Ending one's own connection answers ERROR 1317 and then closes it; an
/// account that may end only its own (`own_only`) is refused the others.
fn kill(s: &Ctx, words: &[&str], own_only: Option<&str>) -> Vec<u8> {
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
    match s.srv.conns().kill(id, dump_only) {
        Some(who) => {
            log::info!("connection {id} ({who}) ended by KILL from connection {} ({})", s.id, s.user);
            s.srv.serving().durable.wake_all();
            ok_packet()
        }
        None => err_packet(ER_NO_SUCH_THREAD, "HY000", &format!("Unknown thread id: {id}")),
    }
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
    // SHOW ... LIKE/WHERE conditions, and date arithmetic (SELECT, PURGE BEFORE).
    if let Ok(f) = super::filter::Filter::parse(&t) {
        let _ = f.matches("server_id", "1");
    }
    let _ = super::values::datetime(&t);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_statement_text_gets_answers_never_a_panic() {
        let cases = [
            "WHERE Variable_name IN (",
            "WHERE (((",
            "LIKE '\\",
            "WHERE Value != ",
            "WHERE `",
            "'",
            "NOW() - INTERVAL",
            "NOW() + INTERVAL 99999999999 YEAR",
            "DATE_SUB(",
            "DATE_ADD(NOW(), INTERVAL x DAY)",
            "- INTERVAL 1 DAY",
            "'2026-13-45 99:99:99' - INTERVAL 1 DAY",
            "DATE_SUB(NOW(),,)",
            "é - INTERVAL 1 DAY",
            "NOW() - INTERVAL -2147483649 SECOND",
            "GTID_SUBTRACT(",
            "/*!",
            "SHOW BINLOG EVENTS FROM",
        ];
        for c in cases {
            fuzz(c);
        }
        let mut seed = 7u64;
        for _ in 0..2000 {
            let alphabet: Vec<char> =
                "WHERE Value LIKE IN ( ) , = ! ' \" NOW() - + INTERVAL 1 DAY DATE_SUB( é`\\%_".chars().collect();
            let s: String = (0..(seed % 40))
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            fuzz(&s);
        }
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
}
