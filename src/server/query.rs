//! Runs the statements replicas, clients and DBAs send, as the primary would: each is
//! declared once in `STATEMENTS`, with who may run it and its handler. Those that
//! change binlogd's state (PURGE, STOP/START SLAVE, KILL, ...) are for admin accounts
//! only. Anything else gets a clear ERR and the connection stays open.

use std::time::UNIX_EPOCH;

use super::change::{change_master, reset_slave, start_slave, stop_slave};
use super::ctx::Ctx;
use super::reply::{err_packet, ok_packet, ok_with_warnings};
use super::show::{rows, show};
use super::sql::{clean, like, split_list, unquote};
use super::values::{datetime, eval, select};
use crate::proto::resultset::{self, flags, Column, ColumnType};

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

pub(super) const ER_NO_SUCH_QUERY: u16 = 1957;

pub(super) const ER_PARSE_ERROR: u16 = 1064;

pub(super) const ER_EMPTY_QUERY: u16 = 1065;

/// A COM_QUERY's attributes that cannot be read.
pub(super) const ER_MALFORMED_PACKET: u16 = 1835;

/// `@@global.x` of a variable only a session has (1238), `SET GLOBAL` of one (1228).
pub(super) const ER_INCORRECT_GLOBAL_LOCAL_VAR: u16 = 1238;
pub(super) const ER_LOCAL_VARIABLE: u16 = 1228;

/// `SET resultset_metadata = NONE` from a client without CLIENT_OPTIONAL_RESULTSET_METADATA.
pub(super) const ER_CLIENT_DOES_NOT_SUPPORT: u16 = 3640;

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
    /// Which primaries have it: the others' clients get their parser's ERROR 1064.
    pub grammar: Grammar,
    run: fn(&mut Ctx, &Parsed) -> Vec<Vec<u8>>,
}

/// The versions of one flavour whose grammar has a statement: `since` up to, not
/// including, `until`, each as major * 10000 + minor * 100 + patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    pub since: u32,
    pub until: u32,
}

pub const ALWAYS: Versions = Versions { since: 0, until: u32::MAX };
pub const NEVER: Versions = Versions { since: 0, until: 0 };

const fn since(v: u32) -> Versions {
    Versions { since: v, until: u32::MAX }
}

const fn until(v: u32) -> Versions {
    Versions { since: 0, until: v }
}

/// MySQL 8.4 removed the statements in the old words (SHOW MASTER STATUS, START
/// SLAVE, CHANGE MASTER TO, ...). <https://dev.mysql.com/doc/relnotes/mysql/8.4/en/news-8-4-0.html>
const BEFORE_MYSQL_8_4: Versions = until(80400);

/// Which primaries' grammar has a statement, and the word at which the others'
/// parser stops (what their ERROR 1064 quotes from): a client gets from binlogd what
/// the primary it stands in for would answer, an error included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grammar {
    pub mysql: Versions,
    pub mariadb: Versions,
    pub near: usize,
}

impl Grammar {
    /// Every MySQL and MariaDB has it.
    pub const ANY: Grammar = Grammar { mysql: ALWAYS, mariadb: ALWAYS, near: 0 };

    /// Does a primary of this flavour and version (`version_number`) have it?
    pub fn has(&self, flavor: crate::replica::connect::Flavor, version: u32) -> bool {
        let v = match flavor {
            crate::replica::connect::Flavor::MariaDb => self.mariadb,
            _ => self.mysql,
        };
        v.since <= version && version < v.until
    }
}

/// A server version ("9.7.4-2", "10.11.19-MariaDB-0+deb12u1-log") as major * 10000
/// + minor * 100 + patch: what `Versions` compare.
pub fn version_number(version: &str) -> u32 {
    let digits = version.split(|c: char| !c.is_ascii_digit() && c != '.').next().unwrap_or("");
    let mut parts = digits.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let mut next = |max: u64| parts.next().unwrap_or(0).min(max) as u32;
    let (a, b, c) = (next(42_000), next(99), next(99));
    a * 10000 + b * 100 + c
}

/// ERROR 1064 as the primary's parser words it, quoting the statement from the word
/// `near` on (mysqld quotes at most 80 characters: `ER_PARSE_ERROR`'s `%-.80s`).
pub(super) fn parse_error(s: &Ctx, text: &str, near: usize) -> Vec<u8> {
    let quoted = near_text(text, near);
    let server = if super::show::is_maria(s) { "MariaDB" } else { "MySQL" };
    err_packet(
        ER_PARSE_ERROR,
        "42000",
        &format!(
            "You have an error in your SQL syntax; check the manual that corresponds to your {server} server \
             version for the right syntax to use near '{quoted}' at line 1"
        ),
    )
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
    Statement { words, privilege, example, grammar: Grammar::ANY, run }
}

impl Statement {
    /// Had only by these MySQL and MariaDB versions; the others' parser stops at the
    /// word `near`.
    const fn on(self, mysql: Versions, mariadb: Versions, near: usize) -> Statement {
        Statement { grammar: Grammar { mysql, mariadb, near }, ..self }
    }
}

use Privilege::{Admin, Anyone, OwnOrAdmin};

/// Every statement binlogd runs, the first that matches: declared once, with who may
/// run it. mysqld's privilege names for each: <https://dev.mysql.com/doc/refman/8.4/en/privileges-provided.html>
pub static STATEMENTS: &[Statement] = &[
    // Which versions have which words: MySQL 8.0.22 added the REPLICA ones
    // (8.0.23 CHANGE REPLICATION SOURCE, 8.2 SHOW BINARY LOG STATUS and RESET BINARY
    // LOGS AND GTIDS) and 8.4 removed the old; MariaDB 10.5.1 added REPLICA as an
    // alias and 10.5.2 SHOW BINLOG STATUS, and keeps the old words.
    st(&["STOP", "SLAVE", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "STOP SLAVE", stop_slave).on(
        BEFORE_MYSQL_8_4,
        ALWAYS,
        1,
    ),
    st(&["STOP", "REPLICA", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "STOP REPLICA", stop_slave).on(
        since(80022),
        since(100501),
        1,
    ),
    // MariaDB's multi-source forms; binlogd has the one connection.
    st(&["STOP", "ALL", "SLAVES", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "STOP ALL SLAVES", stop_slave)
        .on(NEVER, ALWAYS, 1),
    st(&["STOP", "ALL", "REPLICAS", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "STOP ALL REPLICAS", stop_slave)
        .on(NEVER, since(100501), 1),
    st(&["START", "SLAVE", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "START SLAVE", start_slave).on(
        BEFORE_MYSQL_8_4,
        ALWAYS,
        1,
    ),
    st(&["START", "REPLICA", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "START REPLICA", start_slave).on(
        since(80022),
        since(100501),
        1,
    ),
    st(&["START", "ALL", "SLAVES", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "START ALL SLAVES", start_slave)
        .on(NEVER, ALWAYS, 1),
    st(&["START", "ALL", "REPLICAS", ".."], Admin("SUPER, REPLICATION_SLAVE_ADMIN"), "START ALL REPLICAS", start_slave)
        .on(NEVER, since(100501), 1),
    st(
        &["CHANGE", "MASTER", "TO", ".."],
        Admin("SUPER, REPLICATION_SLAVE_ADMIN"),
        "CHANGE MASTER TO MASTER_PORT = 3306",
        change_master,
    )
    .on(BEFORE_MYSQL_8_4, ALWAYS, 1),
    // MariaDB's named connections: binlogd's one is the unnamed ('').
    st(
        &["CHANGE", "MASTER", "*", "TO", ".."],
        Admin("SUPER, REPLICATION_SLAVE_ADMIN"),
        "CHANGE MASTER '' TO MASTER_PORT = 3306",
        change_master,
    )
    .on(NEVER, ALWAYS, 1),
    st(
        &["CHANGE", "REPLICATION", "SOURCE", "TO", ".."],
        Admin("SUPER, REPLICATION_SLAVE_ADMIN"),
        "CHANGE REPLICATION SOURCE TO SOURCE_PORT = 3306",
        change_master,
    )
    .on(since(80023), NEVER, 1),
    st(&["RESET", "SLAVE", ".."], Admin("RELOAD"), "RESET SLAVE ALL", reset_slave).on(BEFORE_MYSQL_8_4, ALWAYS, 1),
    st(&["RESET", "REPLICA", ".."], Admin("RELOAD"), "RESET REPLICA ALL", reset_slave).on(
        since(80022),
        since(100501),
        1,
    ),
    st(&["RESET", "MASTER", ".."], Admin("RELOAD"), "RESET MASTER", reset_binary_logs).on(BEFORE_MYSQL_8_4, ALWAYS, 1),
    st(
        &["RESET", "BINARY", "LOGS", "AND", "GTIDS", ".."],
        Admin("RELOAD"),
        "RESET BINARY LOGS AND GTIDS",
        reset_binary_logs,
    )
    .on(since(80200), NEVER, 1),
    st(&["FLUSH", "BINARY", "LOGS"], Admin("RELOAD"), "FLUSH BINARY LOGS", flush_binary_logs),
    st(&["FLUSH", "*", "BINARY", "LOGS"], Admin("RELOAD"), "FLUSH LOCAL BINARY LOGS", flush_binary_logs),
    st(&["FLUSH", "LOGS"], Admin("RELOAD"), "FLUSH LOGS", flush_logs),
    st(&["FLUSH", "*", "LOGS"], Admin("RELOAD"), "FLUSH ERROR LOGS", flush_logs),
    // MySQL's statement and MariaDB's: the TLS files are read again, for both directions.
    st(&["ALTER", "INSTANCE", "RELOAD", "TLS"], Admin("CONNECTION_ADMIN"), "ALTER INSTANCE RELOAD TLS", reload_tls).on(
        since(80016),
        NEVER,
        1,
    ),
    st(&["FLUSH", "SSL"], Admin("RELOAD"), "FLUSH SSL", reload_tls).on(NEVER, since(100401), 1),
    // What binlogd has none of to flush (privileges, tables, relay logs, ...).
    st(&["FLUSH", ".."], Admin("RELOAD"), "FLUSH PRIVILEGES", flush_other),
    st(&["PURGE", "BINARY", "LOGS", ".."], Admin("SUPER, BINLOG_ADMIN"), "PURGE BINARY LOGS TO 'x.000001'", purge_logs),
    st(&["PURGE", "MASTER", "LOGS", ".."], Admin("SUPER, BINLOG_ADMIN"), "PURGE MASTER LOGS TO 'x.000001'", purge_logs)
        .on(BEFORE_MYSQL_8_4, ALWAYS, 1),
    st(&["KILL", ".."], OwnOrAdmin("SUPER, CONNECTION_ADMIN"), "KILL 4294967295", kill_statement),
    st(&["SHUTDOWN"], Admin("SHUTDOWN"), "SHUTDOWN", shutdown_statement),
    // mysqld asks SUPER or SYSTEM_VARIABLES_ADMIN of any SET GLOBAL (`set_global`).
    st(&["SET", "GLOBAL", ".."], Admin(SET_GLOBAL), "SET GLOBAL rpl_semi_sync_slave_enabled = ON", set_statement),
    // MySQL 8.0's: kept in binlog_dir for the next start (`settings::PERSIST_FILE`).
    st(&["SET", "PERSIST", ".."], Admin(SET_GLOBAL), "SET PERSIST max_connections = 500", set_statement).on(
        since(80011),
        NEVER,
        2,
    ),
    st(&["SET", "PERSIST_ONLY", ".."], Admin(SET_GLOBAL), "SET PERSIST_ONLY max_connections = 500", set_statement).on(
        since(80011),
        NEVER,
        2,
    ),
    st(&["RESET", "PERSIST", ".."], Admin(SET_GLOBAL), "RESET PERSIST", reset_persist).on(since(80011), NEVER, 1),
    st(&["SET", "PASSWORD", ".."], Anyone, "SET PASSWORD = 'x'", set_password),
    st(&["SET", ".."], Anyone, "SET @master_heartbeat_period = 1000000000", set_statement),
    st(&["SELECT", ".."], Anyone, "SELECT @@server_id", select_statement),
    // The SHOW statements whose words some primaries lack; the rest after them.
    st(&["SHOW", "MASTER", "STATUS"], Anyone, "SHOW MASTER STATUS", show_statement).on(BEFORE_MYSQL_8_4, ALWAYS, 1),
    st(&["SHOW", "BINLOG", "STATUS"], Anyone, "SHOW BINLOG STATUS", show_statement).on(NEVER, since(100502), 2),
    // MariaDB 11.8 has it, 10.11 not; 11.4 is the first long-term release after 10.11.
    st(&["SHOW", "BINARY", "LOG", "STATUS"], Anyone, "SHOW BINARY LOG STATUS", show_statement).on(
        since(80200),
        since(110400),
        2,
    ),
    st(&["SHOW", "MASTER", "LOGS"], Anyone, "SHOW MASTER LOGS", show_statement).on(BEFORE_MYSQL_8_4, ALWAYS, 1),
    st(&["SHOW", "SLAVE", "STATUS", ".."], Anyone, "SHOW SLAVE STATUS", show_statement).on(BEFORE_MYSQL_8_4, ALWAYS, 1),
    st(&["SHOW", "REPLICA", "STATUS", ".."], Anyone, "SHOW REPLICA STATUS", show_statement).on(
        since(80022),
        since(100501),
        1,
    ),
    // MariaDB's named connections: SHOW SLAVE 'name' STATUS.
    st(&["SHOW", "SLAVE", "*", "STATUS"], Anyone, "SHOW SLAVE '' STATUS", show_statement).on(NEVER, ALWAYS, 1),
    st(&["SHOW", "REPLICA", "*", "STATUS"], Anyone, "SHOW REPLICA '' STATUS", show_statement).on(
        NEVER,
        since(100501),
        2,
    ),
    st(&["SHOW", "ALL", "SLAVES", "STATUS", ".."], Anyone, "SHOW ALL SLAVES STATUS", show_statement)
        .on(NEVER, ALWAYS, 1),
    st(&["SHOW", "ALL", "REPLICAS", "STATUS", ".."], Anyone, "SHOW ALL REPLICAS STATUS", show_statement).on(
        NEVER,
        since(100501),
        1,
    ),
    st(&["SHOW", "SLAVE", "HOSTS"], Anyone, "SHOW SLAVE HOSTS", show_statement).on(BEFORE_MYSQL_8_4, ALWAYS, 1),
    st(&["SHOW", "REPLICA", "HOSTS"], Anyone, "SHOW REPLICA HOSTS", show_statement).on(NEVER, since(100501), 2),
    st(&["SHOW", "REPLICAS"], Anyone, "SHOW REPLICAS", show_statement).on(since(80022), NEVER, 1),
    st(&["SHOW", ".."], Anyone, "SHOW BINARY LOGS", show_statement),
    st(&["USE", "*"], Anyone, "USE information_schema", use_statement),
    st(&["BEGIN"], Anyone, "BEGIN", transaction),
    st(&["COMMIT"], Anyone, "COMMIT", transaction),
    st(&["ROLLBACK"], Anyone, "ROLLBACK", transaction),
    st(&["DO", ".."], Anyone, "DO 1", nothing),
];

/// The words a statement of MySQL's or MariaDB's grammar may begin with (their
/// `sql_yacc.yy`'s statements): a text that begins with another is a syntax error
/// there, where binlogd says which statement it does not answer.
const STATEMENT_WORDS: &[&str] = &[
    "ALTER",
    "ANALYZE",
    "BACKUP",
    "BEGIN",
    "BINLOG",
    "CACHE",
    "CALL",
    "CHANGE",
    "CHECK",
    "CHECKSUM",
    "CLONE",
    "COMMIT",
    "CREATE",
    "DEALLOCATE",
    "DELETE",
    "DESC",
    "DESCRIBE",
    "DO",
    "DROP",
    "EXECUTE",
    "EXPLAIN",
    "FLUSH",
    "GET",
    "GRANT",
    "HANDLER",
    "HELP",
    "IMPORT",
    "INSERT",
    "INSTALL",
    "KILL",
    "LOAD",
    "LOCK",
    "OPTIMIZE",
    "PREPARE",
    "PURGE",
    "RELEASE",
    "RENAME",
    "REPAIR",
    "REPLACE",
    "RESET",
    "RESIGNAL",
    "RESTART",
    "REVOKE",
    "ROLLBACK",
    "SAVEPOINT",
    "SELECT",
    "SET",
    "SHOW",
    "SHUTDOWN",
    "SIGNAL",
    "START",
    "STOP",
    "TABLE",
    "TRUNCATE",
    "UNINSTALL",
    "UNLOCK",
    "UPDATE",
    "USE",
    "VALUES",
    "WITH",
    "XA",
];

/// What ERROR 1064 quotes of `text`: from its word `near` on, spacing kept, at most
/// 80 characters.
fn near_text(text: &str, near: usize) -> String {
    let mut rest = text.trim_start();
    for _ in 0..near {
        rest = rest.split_once(char::is_whitespace).map_or("", |(_, r)| r.trim_start());
    }
    rest.chars().take(80).collect()
}

/// The reply packets for one statement: the first of `STATEMENTS` that matches, if
/// this account may run it.
pub fn answer(s: &mut Ctx, sql: &str) -> Vec<Vec<u8>> {
    let t = clean(sql);
    let up = t.to_ascii_uppercase();
    let words: Vec<&str> = up.split_whitespace().collect();
    // The statements that read the diagnostics area leave it as it is.
    if matches!(words.as_slice(), ["SHOW", "WARNINGS" | "ERRORS", ..] | ["SHOW", "COUNT(*)", "WARNINGS" | "ERRORS"]) {
        return run(s, &t, &words);
    }
    s.warnings.begin();
    let packets = run(s, &t, &words);
    let maria = super::show::is_maria(s);
    finish(s.warnings, &words, packets.first().map(Vec::as_slice), maria);
    packets
}

/// A second statement in the text of a client that did not ask for
/// CLIENT_MULTI_STATEMENTS: mysqld's parser stops there, and nothing runs. MariaDB's
/// parser finds an unknown `@@x` of the first statement before it gets there.
pub fn second_statement(s: &mut Ctx, first: &str, rest: &str) -> Vec<Vec<u8>> {
    let unknown = super::show::is_maria(s).then(|| super::values::unknown_variable(s, first)).flatten();
    let e = unknown.unwrap_or_else(|| parse_error(s, rest, 0));
    refused(s, e)
}

/// A query of nothing but spaces and semicolons (one of comments alone is answered OK).
pub fn empty_query(s: &mut Ctx) -> Vec<Vec<u8>> {
    refused(s, err_packet(ER_EMPTY_QUERY, "42000", "Query was empty"))
}

/// A COM_QUERY whose query attributes cannot be read (`command::query_text`). No
/// statement begins: mysqld adds the error to the conditions the last statement left,
/// which SHOW WARNINGS then lists before it.
pub fn malformed_packet(s: &mut Ctx) -> Vec<Vec<u8>> {
    // MySQL's ends with a full stop, MariaDB's not.
    let msg =
        if super::show::is_maria(s) { "Malformed communication packet" } else { "Malformed communication packet." };
    s.warnings.error(ER_MALFORMED_PACKET, msg.into());
    vec![err_packet(ER_MALFORMED_PACKET, "HY000", msg)]
}

/// COM_FIELD_LIST with no database in use.
pub fn no_database_selected(s: &mut Ctx) -> Vec<Vec<u8>> {
    refused(s, err_packet(super::values::ER_NO_DB_ERROR, "3D000", "No database selected"))
}

/// A statement refused before it is parsed, with its error in the diagnostics area.
pub(super) fn refused(s: &mut Ctx, e: Vec<u8>) -> Vec<Vec<u8>> {
    s.warnings.begin();
    let maria = super::show::is_maria(s);
    finish(s.warnings, &[], Some(&e), maria);
    // An ERR carries no count: the next answer's end must not carry this one's.
    s.warnings.take_raised();
    vec![e]
}

/// Closes the diagnostics area a statement opened (`Warnings::begin`): the error its
/// reply begins with, if any, joins its conditions, and a MariaDB primary's keeps the
/// last statement's when this one raised none and read no table (`Warnings::end`).
pub(super) fn finish(w: &mut super::ctx::Warnings, words: &[&str], reply: Option<&[u8]>, maria: bool) {
    if let Some(err) = reply.filter(|p| p.first() == Some(&0xff)) {
        if let crate::proto::Error::Server { code, message, .. } = crate::proto::parse_err(err) {
            w.error(code, message);
        }
    }
    // MariaDB answers SHOW VARIABLES and SHOW STATUS from information_schema tables.
    let reads_table = words.contains(&"FROM")
        || (words.first() == Some(&"SHOW")
            && matches!(words.get(1), Some(&"VARIABLES" | &"STATUS" | &"GLOBAL" | &"SESSION")));
    w.end(maria && !reads_table);
}

fn run(s: &mut Ctx, t: &str, words: &[&str]) -> Vec<Vec<u8>> {
    if words.is_empty() {
        return vec![ok_packet()];
    }
    let Some(stmt) = STATEMENTS.iter().find(|st| st.matches(words)) else {
        // A word no statement begins with is the primary's syntax error, quoted from it.
        if !words.first().is_some_and(|w| STATEMENT_WORDS.contains(w) || w.starts_with('(')) {
            return vec![parse_error(s, t, 0)];
        }
        return vec![err_packet(
            ER_NOT_SUPPORTED_YET,
            "42000",
            &format!("binlogd does not support this statement: {}", first_words(t)),
        )];
    };
    // The parser comes first, as in mysqld: a statement the primary lacks is a syntax
    // error, whoever sends it. Unknown until binlogd has met a primary or stored a file.
    if stmt.grammar != Grammar::ANY
        && s.srv.primary().is_some_and(|p| !stmt.grammar.has(p.flavor, version_number(&p.version)))
    {
        return vec![parse_error(s, t, stmt.grammar.near)];
    }
    let own_only = match stmt.privilege {
        Admin(privileges) if !is_admin(s) => return vec![denied(privileges)],
        OwnOrAdmin(privileges) if !is_admin(s) => Some(privileges),
        _ => None,
    };
    (stmt.run)(s, &Parsed { text: t, words, own_only })
}

/// RESET PERSIST [[IF EXISTS] name]: the settings SET PERSIST kept are kept no more
/// (all of them, or `name`'s); the values now stay until binlogd stops. A name not
/// kept is mysqld's ERROR 3615, or with IF EXISTS its warning.
fn reset_persist(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    let rest: Vec<&str> = p.text.split_whitespace().skip(2).collect();
    let (if_exists, name) = match rest.as_slice() {
        [] => (false, None),
        [n] => (false, Some(n.trim_matches('`'))),
        [i, e, n] if i.eq_ignore_ascii_case("IF") && e.eq_ignore_ascii_case("EXISTS") => {
            (true, Some(n.trim_matches('`')))
        }
        _ => return vec![parse_error(s, p.text, 2)],
    };
    let dir = &s.srv.cfg().binlog_dir;
    match (s.srv.settings().forget(&*crate::binlog::fs::os(), dir, name), name) {
        (Err(e), _) => vec![persist_failed(dir, &e)],
        (Ok(false), Some(n)) => {
            let msg = format!("Variable {n} does not exist in persisted config file");
            if !if_exists {
                return vec![err_packet(ER_VAR_DOES_NOT_EXIST, "HY000", &msg)];
            }
            s.warnings.push("Warning", ER_VAR_DOES_NOT_EXIST, msg);
            vec![ok_with_warnings(1)]
        }
        (Ok(_), _) => {
            log::info!("RESET PERSIST{} by '{}'", name.map(|n| format!(" {n}")).unwrap_or_default(), s.user);
            vec![ok_packet()]
        }
    }
}

/// ER_VAR_DOES_NOT_EXIST.
const ER_VAR_DOES_NOT_EXIST: u16 = 3615;

/// mysqld's ER_ERROR_ON_WRITE for the settings file SET PERSIST keeps.
fn persist_failed(dir: &std::path::Path, e: &std::io::Error) -> Vec<u8> {
    let path = dir.join(crate::settings::PERSIST_FILE);
    err_packet(ER_ERROR_ON_WRITE, "HY000", &format!("Error writing file '{}' ({e})", path.display()))
}

/// SET PASSWORD [FOR user] = ...: binlogd's accounts are its cnf's, which a statement
/// does not change.
fn set_password(_: &mut Ctx, _: &Parsed) -> Vec<Vec<u8>> {
    let msg = "binlogd does not run SET PASSWORD: its accounts are set in its cnf (master_password, server_accounts)";
    vec![err_packet(ER_NOT_SUPPORTED_YET, "42000", msg)]
}

fn nothing(_: &mut Ctx, _: &Parsed) -> Vec<Vec<u8>> {
    vec![ok_packet()]
}

/// RESET MASTER, RESET BINARY LOGS AND GTIDS: the files are the primary's, and
/// replicas and CDC readers may still need them; PURGE BINARY LOGS removes old ones.
fn reset_binary_logs(_: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    vec![err_packet(
        ER_NOT_SUPPORTED_YET,
        "42000",
        &format!(
            "binlogd does not run {}: its binary logs are the primary's, which its readers may still need. \
             PURGE BINARY LOGS removes the files before one",
            first_words(p.text)
        ),
    )]
}

/// How long FLUSH BINARY LOGS waits for binlogd to store the primary's new file.
const FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// FLUSH [LOCAL | NO_WRITE_TO_BINLOG] BINARY LOGS: binlogd's files are the primary's,
/// copied byte for byte, so the rotation is asked of the primary (`connect::
/// flush_binary_logs`, as `master_user`, who needs RELOAD there), and the statement
/// returns once binlogd has stored the primary's new file, as the primary's returns
/// once its new file is open: SHOW MASTER STATUS right after names it. Mirroring
/// stopped, or the file not stored within `FLUSH_WAIT`: OK with a note that says so.
/// The primary's ERR (1227 without RELOAD) is passed on with its code.
fn flush_binary_logs(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    use crate::binlog::store::split_name;
    if p.words.len() == 4 && !matches!(p.words[1], "LOCAL" | "NO_WRITE_TO_BINLOG") {
        return vec![err_packet(ER_NOT_SUPPORTED_YET, "42000", &format!("binlogd does not support {}", p.text))];
    }
    let cfg = s.srv.source();
    let at = format!("{}:{}", cfg.master_host, cfg.master_port);
    let newest = match crate::replica::connect::flush_binary_logs(&cfg, &s.srv.link().tls) {
        Ok(n) => n,
        Err(crate::replica::ReplicaError::Setup(crate::proto::Error::Server { code, state, message })) => {
            return vec![err_packet(code, &state, &format!("the primary ({at}) refused FLUSH BINARY LOGS: {message}"))]
        }
        Err(e) => {
            return vec![err_packet(1105, "HY000", &format!("cannot run FLUSH BINARY LOGS on the primary ({at}): {e}"))]
        }
    };
    log::info!("FLUSH BINARY LOGS: the primary {at} rotated to {}", newest.as_deref().unwrap_or("?"));
    let Some((base, seq)) = newest.as_deref().and_then(split_name) else { return vec![ok_packet()] };
    let stored = |st: &crate::binlog::durable::DurableState| {
        st.active
            .as_ref()
            .and_then(|(f, _)| split_name(crate::binlog::sources::plain(f)))
            .is_some_and(|(b, n)| b == base && n >= seq)
    };
    let note = if s.srv.link().control.is_paused() {
        "binlogd's mirroring is stopped (STOP SLAVE): it stores the primary's new file once started"
    } else {
        match super::values::wait_stored(s, Some(FLUSH_WAIT), stored) {
            Ok(true) => return vec![ok_packet()],
            Ok(false) => "binlogd has not yet stored the primary's new file",
            Err(e) => return vec![e],
        }
    };
    let file = newest.as_deref().unwrap_or_default();
    super::change::noted(s, 1105, &format!("The primary ({at}) rotated to '{file}'; {note}"))
}

/// The FLUSH options that flush what binlogd has none of: mysqld answers OK after
/// flushing its own, and so does binlogd, with nothing to do.
/// <https://dev.mysql.com/doc/refman/8.4/en/flush.html>, <https://mariadb.com/kb/en/flush/>
const FLUSH_NOTHING: &[&[&str]] = &[
    &["PRIVILEGES"],
    &["TABLES"],
    &["TABLE"],
    &["STATUS"],
    &["HOSTS"],
    &["USER_RESOURCES"],
    &["QUERY", "CACHE"],
    &["RELAY", "LOGS"],
    &["ENGINE", "LOGS"],
    &["GENERAL", "LOGS"],
    &["SLOW", "LOGS"],
    &["OPTIMIZER_COSTS"],
    &["CLIENT_STATISTICS"],
    &["INDEX_STATISTICS"],
    &["TABLE_STATISTICS"],
    &["USER_STATISTICS"],
];

/// FLUSH [LOCAL | NO_WRITE_TO_BINLOG] option [, option] ... of `FLUSH_NOTHING`: OK.
/// FLUSH TABLES WITH READ LOCK (or of named tables, or FOR EXPORT) is refused: a backup
/// tool that takes it would copy tables binlogd does not keep. RELAY LOGS FOR CHANNEL
/// names the one channel binlogd has (''), as START SLAVE does. An option mysqld
/// lacks is its parser's error.
fn flush_other(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    let skip = if matches!(p.words.get(1), Some(&"LOCAL" | &"NO_WRITE_TO_BINLOG")) { 2 } else { 1 };
    let rest = p.words.get(skip..).unwrap_or_default().join(" ");
    for option in rest.split(',').map(|o| o.split_whitespace().collect::<Vec<_>>()) {
        if FLUSH_NOTHING.contains(&option.as_slice()) {
            continue;
        }
        match option.as_slice() {
            ["TABLE" | "TABLES", ..] => {
                return vec![err_packet(
                    ER_NOT_SUPPORTED_YET,
                    "42000",
                    &format!(
                        "binlogd keeps binary logs, not tables: {} has nothing to lock or export. Run it on the \
                         primary or on a replica",
                        first_words(p.text)
                    ),
                )]
            }
            ["RELAY", "LOGS", "FOR", "CHANNEL", _] => {
                let channel = unquote(super::show::after_word(p.text, "CHANNEL"));
                if !channel.is_empty() {
                    return vec![super::show::no_such_channel(s, &channel)];
                }
            }
            _ => return vec![parse_error(s, p.text, skip)],
        }
    }
    vec![ok_packet()]
}

/// FLUSH [ERROR | LOCAL | NO_WRITE_TO_BINLOG] LOGS: the error log is reopened.
fn flush_logs(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    if !matches!(p.words.get(1), Some(&"LOGS" | &"ERROR" | &"LOCAL" | &"NO_WRITE_TO_BINLOG")) {
        // RELAY, ENGINE, GENERAL, SLOW LOGS: logs binlogd does not keep.
        return flush_other(s, p);
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
    vec![kill(s, p.text, p.words.get(1..).unwrap_or_default(), p.own_only)]
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
        [_, what @ ("WARNINGS" | "ERRORS"), rest @ ..] => {
            // [LIMIT [offset,] count]
            let limit = match rest {
                [] => Some((0, usize::MAX)),
                ["LIMIT", ..] => super::sql::limit(super::show::after_word(p.text, "LIMIT")),
                _ => None,
            };
            let Some((off, n)) = limit else { return vec![parse_error(s, p.text, 2)] };
            let v = s
                .warnings
                .listed(*what == "ERRORS")
                .into_iter()
                .skip(off)
                .take(n)
                .map(|(l, c, m)| vec![Some(l.to_string()), Some(c.to_string()), Some(m)])
                .collect();
            rows(s, super::columns::WARNINGS, &["Level", "Code", "Message"], v)
        }
        [_, "COUNT(*)", what] => {
            let (warnings, errors) = s.warnings.counts();
            let (name, n) = if *what == "ERRORS" {
                ("@@session.error_count", errors)
            } else {
                ("@@session.warning_count", warnings)
            };
            // An unsigned system variable's column.
            let col = Column::typed(name, ColumnType::LONGLONG).flags(flags::UNSIGNED | flags::BINARY);
            resultset::encode_typed(&[col], &[vec![Some(n.to_string())]])
        }
        [_, rest @ ..] => show(s, rest, p.text),
        [] => vec![ok_packet()],
    }
}

fn use_statement(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    match init_db(s.user, p.text.split_whitespace().nth(1).unwrap_or("")) {
        Ok(db) => {
            *s.db = Some(db);
            s.tracked.schema = true;
            vec![ok_packet()]
        }
        Err(e) => vec![e],
    }
}

/// BEGIN, COMMIT, ROLLBACK: binlogd reads no tables, and its answers' status says
/// whether the session is in a transaction, as mysqld's do.
fn transaction(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    let mysql = !super::show::is_maria(s);
    s.tracked.transaction(p.words.first() == Some(&"BEGIN"), mysql);
    vec![ok_packet()]
}

/// COM_INIT_DB and `USE db`: a server with no databases of its own knows only
/// information_schema. <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_init_db.html>
/// An account holds no privilege on any database, so any other is refused as mysqld
/// refuses it to such an account (1044), whether it exists or not.
/// The database the session then uses (its name as the server spells it), or the ERR.
pub fn init_db(user: &str, db: &str) -> Result<String, Vec<u8>> {
    let db = db.trim().trim_matches('`');
    if db.eq_ignore_ascii_case("information_schema") {
        Ok("information_schema".into())
    } else {
        Err(no_database(user, db))
    }
}

/// ERROR 1044: an account of binlogd's holds no privilege on database `db`.
pub(super) fn no_database(user: &str, db: &str) -> Vec<u8> {
    err_packet(ER_DBACCESS_DENIED_ERROR, "42000", &format!("Access denied for user '{user}'@'%' to database '{db}'"))
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

/// SET of a list: all of it or, where one item fails, none of it, as mysqld (the
/// user variables, character sets and global settings stay as they were).
/// <https://dev.mysql.com/doc/refman/8.4/en/set-variable.html>
fn set(s: &mut Ctx, list: &str) -> Vec<Vec<u8>> {
    let (vars, charsets, tracked) = (s.vars.clone(), s.charsets.clone(), s.tracked.clone());
    let mut globals = Globals::default();
    let mut r = set_items(s, list, &mut globals);
    // What SET PERSIST keeps goes to disk before anything changes: where that fails,
    // nothing does.
    let kept: Vec<(String, Option<String>)> = globals
        .settings
        .iter()
        .filter(|c| c.scope != Scope::Global)
        .map(|c| (c.d.name.into(), c.shown.clone()))
        .collect();
    if r.first().and_then(|p| p.first()) != Some(&0xff) && !kept.is_empty() {
        let dir = &s.srv.cfg().binlog_dir;
        if let Err(e) = s.srv.settings().persist(&*crate::binlog::fs::os(), dir, &kept) {
            r = vec![persist_failed(dir, &e)];
        }
    }
    if r.first().and_then(|p| p.first()) == Some(&0xff) {
        *s.vars = vars;
        *s.charsets = charsets;
        *s.tracked = tracked;
        return r;
    }
    if let Some(on) = globals.semisync {
        s.srv.link().source.set_semisync(on);
        log::info!(
            "SET GLOBAL rpl_semi_sync_slave_enabled = {}: the next connection to the primary uses it",
            super::values::onoff(on)
        );
    }
    let settings = s.srv.settings();
    for c in globals.settings {
        let scope = match c.scope {
            Scope::PersistOnly => {
                log::info!(
                    "SET PERSIST_ONLY {} = {} by '{}': from the next start",
                    c.d.name,
                    c.shown.as_deref().unwrap_or("DEFAULT"),
                    s.user
                );
                continue;
            }
            Scope::Persist => "PERSIST",
            Scope::Global => "GLOBAL",
        };
        match c.value {
            Some(v) => settings.set(c.d, v),
            None => settings.set_default(c.d, s.srv.cfg()),
        }
        log::info!("SET {scope} {} = {} by '{}'", c.d.name, settings.shown(c.d), s.user);
    }
    r
}

/// ER_VARIABLE_IS_NOT_STRUCT.
const ER_VARIABLE_IS_NOT_STRUCT: u16 = 1272;

/// ER_ERROR_ON_WRITE.
const ER_ERROR_ON_WRITE: u16 = 1026;

/// What the SET GLOBALs of a list change, left for `set` to apply once every item of
/// the list is taken: the ACK for the next connection, and binlogd's settings (None:
/// DEFAULT, the cnf's).
#[derive(Default)]
struct Globals {
    semisync: Option<bool>,
    settings: Vec<Change>,
}

/// A SET GLOBAL or PERSIST of one of binlogd's settings: its value (None: DEFAULT, the
/// cnf's) and that value as SHOW VARIABLES shows it, which SET PERSIST keeps.
struct Change {
    d: &'static crate::settings::Dynamic,
    value: Option<f64>,
    shown: Option<String>,
    scope: Scope,
}

/// Each item of a SET in turn, up to the first that fails; the SET GLOBALs left in
/// `globals` for `set` to apply.
fn set_items(s: &mut Ctx, list: &str, globals: &mut Globals) -> Vec<Vec<u8>> {
    for item in split_list(list) {
        let Some((k, v)) = item.split_once('=') else {
            // SET NAMES cs [COLLATE coll], SET CHARACTER SET cs, SET CHARSET cs.
            let w: Vec<&str> = item.split_whitespace().collect();
            let mut srv = super::values::charset_server(s.srv.primary().as_ref());
            // SET CHARACTER SET takes the connection's from the database in use.
            if let Some(Some(c)) = super::values::session_value(s, "collation_database") {
                srv.collation_database = c;
            }
            let up = |i: usize| w.get(i).map(|x| x.to_ascii_uppercase());
            let r = match (up(0).as_deref(), up(1).as_deref()) {
                (Some("NAMES"), _) if w.len() == 2 || (w.len() == 4 && up(2).as_deref() == Some("COLLATE")) => {
                    let cs = if up(1).as_deref() == Some("DEFAULT") { srv.charset_server() } else { w[1].into() };
                    s.charsets.set_names(&srv, &cs, w.get(3).copied())
                }
                (Some("CHARACTER"), Some("SET")) if w.len() == 3 => s.charsets.set_character_set(&srv, w[2]),
                (Some("CHARSET"), _) if w.len() == 2 => s.charsets.set_character_set(&srv, w[1]),
                // SET TRANSACTION ...: accepted and ignored (binlogd reads no tables).
                _ => continue,
            };
            if let Err((code, state, msg)) = r {
                return vec![err_packet(code, state, &msg)];
            }
            for name in super::ctx::TRACKED_CHARSETS {
                s.tracked.assign(name);
            }
            let named = if up(0).as_deref() == Some("CHARACTER") { 2 } else { 1 };
            if let Some((code, msg)) = w.get(named).and_then(|n| srv.utf8_warning(n)) {
                s.warnings.push("Warning", code, msg);
            }
            continue;
        };
        let k = k.trim().trim_start_matches(':');
        if let Some((scope, name)) = global_variable(k) {
            if let Err(e) = set_global(s, scope, name, v.trim_start_matches('=').trim(), globals) {
                return vec![e];
            }
            continue;
        }
        // SET [SESSION | LOCAL] x = v, SET @@[session.]x = v: the session's character sets.
        if let Some(name) = session_variable(k) {
            // One the primary lacks (the other kind's, its version's before it came, a
            // misspelt name): the primary's 1193. Until binlogd has read the primary's
            // names, one it does not know is taken.
            if super::values::primary_lacks(s, name) {
                let msg = format!("Unknown system variable '{name}'");
                return vec![err_packet(ER_UNKNOWN_SYSTEM_VARIABLE, "HY000", &msg)];
            }
            let srv = super::values::charset_server(s.srv.primary().as_ref());
            let default = super::values::lookup(s, name).and_then(|v| v.0).unwrap_or_default();
            let v = v.trim_start_matches('=').trim();
            match s.charsets.set(&srv, name, v, &default) {
                Ok(true) => {
                    s.tracked.assign(name);
                    // MariaDB 11.8 reports the character set a collation_connection
                    // implies as assigned too (10.11 does not; the versions between are
                    // not told apart).
                    if name.eq_ignore_ascii_case("collation_connection") && super::values::maria_from(s, 110800) {
                        s.tracked.assign("character_set_connection");
                    }
                    if let Some((code, msg)) = srv.utf8_warning(v) {
                        s.warnings.push("Warning", code, msg);
                    }
                    continue;
                }
                Ok(false) => {}
                Err((code, state, msg)) => return vec![err_packet(code, state, &msg)],
            }
            // The session's autocommit and time zone, which its answers' status and a
            // client's session tracker report.
            let v = v.trim_start_matches('=').trim();
            if name.eq_ignore_ascii_case("autocommit") {
                let default = unquote(v).eq_ignore_ascii_case("DEFAULT");
                let Some(on) = boolean(v).or(default.then_some(true)) else {
                    return vec![wrong_value("autocommit", v)];
                };
                s.tracked.autocommit = on;
                s.tracked.assign("autocommit");
                // Turning it on commits the transaction open.
                if on && s.tracked.in_transaction {
                    let mysql = !super::show::is_maria(s);
                    s.tracked.transaction(false, mysql);
                }
                continue;
            }
            if name.eq_ignore_ascii_case("resultset_metadata") && !super::show::is_maria(s) {
                let none = match unquote(v).to_ascii_uppercase().as_str() {
                    "FULL" | "1" | "DEFAULT" => false,
                    "NONE" | "0" => true,
                    _ => return vec![wrong_value("resultset_metadata", v)],
                };
                if none && s.client_caps & crate::proto::caps::OPTIONAL_RESULTSET_METADATA == 0 {
                    let msg = "The client doesn't support optional metadata transfer";
                    return vec![err_packet(ER_CLIENT_DOES_NOT_SUPPORT, "HY000", msg)];
                }
                s.tracked.no_metadata = none;
                continue;
            }
            if name.eq_ignore_ascii_case("time_zone") {
                match time_zone(v, super::show::is_maria(s)) {
                    Ok(tz) => s.tracked.time_zone = tz,
                    Err(e) => return vec![e],
                }
                s.tracked.assign("time_zone");
                continue;
            }
            if super::values::read_only(s, name) {
                return vec![read_only(name)];
            }
            if super::values::global_only(s, name) {
                let msg = format!(
                    "Variable '{}' is a GLOBAL variable and should be set with SET GLOBAL",
                    name.to_ascii_lowercase()
                );
                return vec![err_packet(ER_GLOBAL_VARIABLE, "HY000", &msg)];
            }
            // Any other of the primary's: the session's own value, which SHOW VARIABLES
            // and `@@x` then give (and wait_timeout and net_write_timeout apply).
            if let Some(kind) = super::values::settable(s, name) {
                match own_value(s, name, kind, v) {
                    Ok(value) => s.tracked.set_own(name, value),
                    Err(Some(e)) => return vec![e],
                    Err(None) => {}
                }
                continue;
            }
        }
        if let Some(name) = k.strip_prefix('@').filter(|n| !n.starts_with('@')) {
            let (v, ty) = match eval(s, v.trim_start_matches('=').trim()) {
                Ok(v) => v,
                Err(e) => return vec![e],
            };
            let name = name.trim_matches('`').to_ascii_lowercase();
            // Replicas set a few short variables; a client must not grow a session without bound.
            let held = s.vars.size_without(&name);
            let count = s.vars.len() + usize::from(!s.vars.contains_key(&name));
            if held + name.len() + v.as_ref().map_or(0, String::len) > USER_VARS_MAX || count > USER_VARS_COUNT_MAX {
                return vec![err_packet(
                    ER_OUT_OF_RESOURCES,
                    "HY000",
                    &format!(
                        "binlogd keeps at most {USER_VARS_COUNT_MAX} user variables, {} KiB in all, per session",
                        USER_VARS_MAX >> 10
                    ),
                )];
            }
            let ty = super::values::user_var_type(ty.ty, v.is_none(), super::show::is_maria(s));
            s.vars.insert(name, (v, ty));
        }
        // Session system variables (autocommit, sql_mode, ...) are accepted and ignored.
    }
    match s.warnings.counts().0 {
        0 => vec![ok_packet()],
        n => vec![ok_with_warnings(u16::try_from(n).unwrap_or(u16::MAX))],
    }
}

/// mysqld's range for `name`'s values where it is narrower than its type's: binlogd's
/// settings' (`settings::DYNAMIC`), and net_read_timeout's.
fn value_range(name: &str) -> Option<(i128, i128)> {
    let d = crate::settings::dynamic(name).map(|d| (i128::from(d.min), i128::from(d.max)));
    d.or_else(|| name.eq_ignore_ascii_case("net_read_timeout").then_some((1, 31_536_000)))
}

/// What `SET name = v` makes a session's own value of a variable of kind `kind`, as
/// SHOW VARIABLES shows it; None for DEFAULT (the server's again). Refused as mysqld
/// refuses: text for a number is 1232, a value a boolean cannot take 1231; a timeout
/// outside its range is brought within it, with mysqld's warning 1292. A text that is
/// an expression binlogd cannot evaluate (`CONCAT(@@sql_mode, ...)`) is taken as the
/// primary takes it, and the value shown stays as it was (`Err(None)`).
fn own_value(s: &mut Ctx, name: &str, kind: crate::sysvars::Kind, v: &str) -> Result<Option<String>, Option<Vec<u8>>> {
    use crate::sysvars::Kind;
    let v = v.trim();
    if v.eq_ignore_ascii_case("DEFAULT") {
        return Ok(None);
    }
    let wrong_type =
        || err_packet(ER_WRONG_TYPE_FOR_VAR, "42000", &format!("Incorrect argument type to variable '{name}'"));
    // A word, as enumerations and sets take them unquoted (`SET sql_mode = ANSI`).
    let word =
        v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !v.starts_with(|c: char| c.is_ascii_digit());
    if kind == Kind::Bool {
        if let Some(on) = boolean(v) {
            return Ok(Some(super::values::onoff(on)));
        }
    }
    let takes = s.srv.primary().and_then(|p| p.variables.takes.get(&name.to_ascii_lowercase()).cloned());
    let takes = takes.unwrap_or_default();
    if let (Some(m), Kind::Text | Kind::TextOrNull) = (&takes.members, kind) {
        return member_value(s, name, m, v, word).map(Some);
    }
    match kind {
        Kind::Text | Kind::TextOrNull if word => return Ok(Some(v.to_string())),
        Kind::Bool if word => return Err(Some(wrong_value(name, v))),
        Kind::Int | Kind::SignedInt | Kind::Double if word && !v.eq_ignore_ascii_case("NULL") => {
            return Err(Some(wrong_type()))
        }
        _ => {}
    }
    let (value, col) = match eval(s, v) {
        Ok(x) => x,
        Err(_) if matches!(kind, Kind::Text | Kind::TextOrNull) => return Err(None),
        Err(e) => return Err(Some(e)),
    };
    let Some(value) = value else {
        return if kind == Kind::TextOrNull { Ok(Some(String::new())) } else { Err(Some(wrong_value(name, "NULL"))) };
    };
    let number = col.ty.is_number();
    match kind {
        Kind::Bool => {
            boolean(&value).map(|on| Some(super::values::onoff(on))).ok_or_else(|| Some(wrong_value(name, &value)))
        }
        Kind::Int | Kind::SignedInt => {
            let n: i128 = value.parse().ok().filter(|_| number).ok_or_else(|| Some(wrong_type()))?;
            let low = if kind == Kind::Int { 0 } else { i128::from(i64::MIN) };
            let said = |v: &Option<String>| v.as_deref().and_then(|x| x.parse::<i128>().ok());
            let (low, high) = value_range(name)
                .unwrap_or((said(&takes.min).unwrap_or(low), said(&takes.max).unwrap_or(i128::from(u64::MAX))));
            let mut kept = n.clamp(low, high);
            // Rounded down to the primary's step (join_buffer_size's 128), not below the least.
            if let Some(b) = takes.block.map(i128::from) {
                kept = (kept - kept.rem_euclid(b)).max(low);
            }
            if kept != n {
                let msg = format!("Truncated incorrect {} value: '{n}'", name.to_ascii_lowercase());
                s.warnings.push("Warning", ER_TRUNCATED_WRONG_VALUE, msg);
            }
            Ok(Some(kept.to_string()))
        }
        Kind::Double => {
            let x: f64 = value.parse().ok().filter(|_| number).ok_or_else(|| Some(wrong_type()))?;
            let said = |v: &Option<String>| v.as_deref().and_then(|x| x.parse::<f64>().ok());
            let range = value_range(name).map(|(low, high)| (low as f64, high as f64));
            let range = range.or(said(&takes.min).zip(said(&takes.max)));
            let kept = range.map_or(x, |(low, high)| x.clamp(low, high));
            if kept != x {
                let msg = format!("Truncated incorrect {} value: '{value}'", name.to_ascii_lowercase());
                s.warnings.push("Warning", ER_TRUNCATED_WRONG_VALUE, msg);
            }
            Ok(Some(format!("{kept:.6}")))
        }
        Kind::Text | Kind::TextOrNull => Ok(Some(value)),
    }
}

/// What `SET name = v` makes a session's value of an enumeration or a set with these
/// `members`, as mysqld's `Sys_var_enum` and `Sys_var_set` check it: a member by name
/// in any case (given back in the primary's), or by number (an enumeration's index, a
/// set's bits); a set's members are listed in the primary's order, empty items
/// skipped. Anything else is 1231 naming what is not a member, a number with a
/// fraction 1232. An expression binlogd cannot evaluate is taken as `own_value` takes
/// it (`Err(None)`).
fn member_value(
    s: &mut Ctx,
    name: &str,
    m: &crate::sysvars::Members,
    v: &str,
    word: bool,
) -> Result<String, Option<Vec<u8>>> {
    let name = &name.to_ascii_lowercase();
    let wrong_type =
        || err_packet(ER_WRONG_TYPE_FOR_VAR, "42000", &format!("Incorrect argument type to variable '{name}'"));
    let (text, number) = if word {
        (v.to_string(), false)
    } else {
        let Ok((value, col)) = eval(s, v) else { return Err(None) };
        let Some(value) = value else { return Err(Some(wrong_value(name, "NULL"))) };
        let number = col.ty.is_number();
        if number && value.parse::<i128>().is_err() {
            return Err(Some(wrong_type()));
        }
        (value, number)
    };
    member_text(name, m, &text, number).map_err(Some)
}

/// `member_value` of a value read: `text`, a number where `number`.
fn member_text(name: &str, m: &crate::sysvars::Members, text: &str, number: bool) -> Result<String, Vec<u8>> {
    let wrong_type =
        || err_packet(ER_WRONG_TYPE_FOR_VAR, "42000", &format!("Incorrect argument type to variable '{name}'"));
    // The value as it was read, its spaces kept.
    let wrong_value = |_: &str, v: &str| {
        err_packet(ER_WRONG_VALUE_FOR_VAR, "42000", &format!("Variable '{name}' can't be set to the value of '{v}'"))
    };
    let mut on = vec![false; m.names.len()];
    if number {
        let n: i128 = text.parse().map_err(|_| wrong_type())?;
        if m.set {
            // A set of mysqld's has at most 64 members (a ulonglong of bits).
            if !(0..(1i128 << m.names.len().min(64))).contains(&n) {
                return Err(wrong_value(name, text));
            }
            for (i, o) in on.iter_mut().enumerate().take(64) {
                *o = n & (1i128 << i) != 0;
            }
        } else {
            let i = usize::try_from(n).ok().filter(|i| *i < m.names.len()).ok_or_else(|| wrong_value(name, text))?;
            on[i] = true;
        }
    } else {
        let find = |item: &str| m.names.iter().position(|x| x.eq_ignore_ascii_case(item));
        if m.set {
            for item in text.split(',').filter(|i| !i.is_empty()) {
                on[find(item).ok_or_else(|| wrong_value(name, item))?] = true;
            }
        } else {
            on[find(text).ok_or_else(|| wrong_value(name, text))?] = true;
        }
    }
    if name.eq_ignore_ascii_case("sql_mode") {
        for (mode, implies) in SQL_MODE_COMBINATIONS {
            if m.names.iter().zip(&on).any(|(x, on)| *on && x == mode) {
                for (x, o) in m.names.iter().zip(on.iter_mut()) {
                    *o |= implies.split(',').any(|i| i == x);
                }
            }
        }
    }
    let names: Vec<&str> = m.names.iter().zip(&on).filter(|(_, on)| **on).map(|(x, _)| x.as_str()).collect();
    Ok(names.join(","))
}

/// The sql_mode members that stand for others, and those they add, as MariaDB adds
/// them (`expand_sql_mode`; `SET sql_mode = ANSI` on 10.11 and 11.8 shows
/// `REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI`). Only a primary
/// that lists sql_mode's members (MariaDB) has its value built here.
const SQL_MODE_COMBINATIONS: &[(&str, &str)] = &[
    ("ANSI", "REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE"),
    ("ORACLE", "PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,NO_KEY_OPTIONS,NO_TABLE_OPTIONS,NO_FIELD_OPTIONS,NO_AUTO_CREATE_USER,SIMULTANEOUS_ASSIGNMENT"),
    ("MSSQL", "PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,NO_KEY_OPTIONS,NO_TABLE_OPTIONS,NO_FIELD_OPTIONS"),
    ("POSTGRESQL", "PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,NO_KEY_OPTIONS,NO_TABLE_OPTIONS,NO_FIELD_OPTIONS"),
    ("DB2", "PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,NO_KEY_OPTIONS,NO_TABLE_OPTIONS,NO_FIELD_OPTIONS"),
    ("MAXDB", "PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,NO_KEY_OPTIONS,NO_TABLE_OPTIONS,NO_FIELD_OPTIONS,NO_AUTO_CREATE_USER"),
    ("MYSQL323", "HIGH_NOT_PRECEDENCE"),
    ("MYSQL40", "HIGH_NOT_PRECEDENCE"),
    ("TRADITIONAL", "STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"),
];

/// ERROR 1238 for a variable no SET changes.
fn read_only(name: &str) -> Vec<u8> {
    let msg = format!("Variable '{}' is a read only variable", name.to_ascii_lowercase());
    err_packet(ER_INCORRECT_GLOBAL_LOCAL_VAR, "HY000", &msg)
}

/// ER_GLOBAL_VARIABLE.
const ER_GLOBAL_VARIABLE: u16 = 1229;

/// ER_TRUNCATED_WRONG_VALUE.
const ER_TRUNCATED_WRONG_VALUE: u16 = 1292;

/// ER_UNKNOWN_TIME_ZONE, ER_WRONG_TYPE_FOR_VAR.
const ER_UNKNOWN_TIME_ZONE: u16 = 1298;
const ER_WRONG_TYPE_FOR_VAR: u16 = 1232;

/// The session time zone `SET time_zone = v` gives (None: the server's, for DEFAULT),
/// or its error as the primary's: an offset `[+-]H:MM` written `+HH:MM`, within
/// -13:59..+14:00 on MySQL and -12:59..+13:00 on MariaDB; `SYSTEM` in any case; a
/// number is of the wrong type, NULL a wrong value. A zone's name is taken as a
/// primary with its time zone tables loaded takes it: binlogd cannot see whether the
/// primary has them (without them it refuses every name, `UTC` too).
fn time_zone(v: &str, maria: bool) -> Result<Option<String>, Vec<u8>> {
    let quoted = v.starts_with('\'') || v.starts_with('"');
    if !quoted {
        if v.eq_ignore_ascii_case("DEFAULT") {
            return Ok(None);
        }
        if v.eq_ignore_ascii_case("NULL") {
            return Err(wrong_value("time_zone", v));
        }
        if v.parse::<f64>().is_ok() {
            let msg = "Incorrect argument type to variable 'time_zone'";
            return Err(err_packet(ER_WRONG_TYPE_FOR_VAR, "42000", msg));
        }
    }
    let tz = unquote(v);
    let unknown = || err_packet(ER_UNKNOWN_TIME_ZONE, "HY000", &format!("Unknown or incorrect time zone: '{tz}'"));
    if tz.eq_ignore_ascii_case("SYSTEM") {
        return Ok(Some("SYSTEM".into()));
    }
    let Some((sign, rest)) = tz.strip_prefix('+').map(|r| (1, r)).or_else(|| tz.strip_prefix('-').map(|r| (-1, r)))
    else {
        return Ok(Some(tz.clone()));
    };
    let (h, m) = rest.split_once(':').ok_or_else(unknown)?;
    let digits = |x: &str, n: usize| (1..=n).contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(h, 2) || !digits(m, 2) {
        return Err(unknown());
    }
    let (h, m): (i32, i32) = (h.parse().unwrap_or(99), m.parse().unwrap_or(99));
    let minutes = sign * (h * 60 + m);
    let (low, high) = if maria { (-(12 * 60 + 59), 13 * 60) } else { (-(13 * 60 + 59), 14 * 60) };
    if m > 59 || minutes < low || minutes > high {
        return Err(unknown());
    }
    let sign = if minutes < 0 { '-' } else { '+' };
    Ok(Some(format!("{sign}{:02}:{:02}", h, m)))
}

/// Where a SET GLOBAL, PERSIST or PERSIST_ONLY puts a value: the server's now, and
/// kept for the next start (MySQL 8.0's SET PERSIST), or kept only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Global,
    Persist,
    PersistOnly,
}

/// The scope and name of the global system variable a SET item assigns (`GLOBAL x`,
/// `@@global.x`, `PERSIST x`, `@@persist.x`, `PERSIST_ONLY x`); None for another.
fn global_variable(k: &str) -> Option<(Scope, &str)> {
    let word = |p: &str| k.get(..p.len()).filter(|h| h.eq_ignore_ascii_case(p)).and_then(|_| k.get(p.len()..));
    let scoped = |scope, forms: [&str; 2]| Some((scope, word(forms[0]).or_else(|| word(forms[1]))?));
    let (scope, name) = scoped(Scope::Global, ["GLOBAL ", "@@GLOBAL."])
        .or_else(|| scoped(Scope::PersistOnly, ["PERSIST_ONLY ", "@@PERSIST_ONLY."]))
        .or_else(|| scoped(Scope::Persist, ["PERSIST ", "@@PERSIST."]))?;
    Some((scope, name.trim().trim_matches('`')))
}

/// SET GLOBAL name = v: for `rpl_semi_sync_slave_enabled` (MySQL's `..._replica_enabled`
/// too), whether the semisync ACK is to be on for the next connection to the primary, as
/// on a replica, whose I/O thread takes it when it starts (STOP SLAVE IO_THREAD; START
/// SLAVE IO_THREAD); it needs an admin account (mysqld: SUPER or
/// SYSTEM_VARIABLES_ADMIN). Of binlogd's own settings (`settings::DYNAMIC`:
/// max_connections, the timeouts, the purge policy), the value until the next SET
/// GLOBAL or a restart, checked as mysqld checks it. Of a name the primary lacks, its
/// 1193; of one it has, checked as the primary checks it and changing nothing: failover
/// managers set read_only and the like on every replica they manage.
/// <https://mariadb.com/kb/en/semisynchronous-replication/>
fn set_global(s: &mut Ctx, scope: Scope, name: &str, v: &str, globals: &mut Globals) -> Result<(), Vec<u8>> {
    let name = name.to_ascii_lowercase();
    // MariaDB has no persisted settings: `@@persist.x` is a structured variable to it.
    if scope != Scope::Global && super::show::is_maria(s) {
        let msg = format!("Variable '{name}' is not a variable component (can't be used as XXXX.variable_name)");
        return Err(err_packet(ER_VARIABLE_IS_NOT_STRUCT, "HY000", &msg));
    }
    if super::values::primary_lacks(s, &name) {
        return Err(err_packet(ER_UNKNOWN_SYSTEM_VARIABLE, "HY000", &format!("Unknown system variable '{name}'")));
    }
    if super::values::session_only(s, &name) {
        let msg = format!("Variable '{name}' is a SESSION variable and can't be used with SET GLOBAL");
        return Err(err_packet(ER_LOCAL_VARIABLE, "HY000", &msg));
    }
    if super::values::read_only(s, &name) {
        return Err(read_only(&name));
    }
    let dynamic = crate::settings::dynamic(&name);
    let semisync = matches!(name.as_str(), "rpl_semi_sync_slave_enabled" | "rpl_semi_sync_replica_enabled");
    if dynamic.is_none() && !semisync {
        // Checked as the primary checks it (an enumeration's members, a number's range
        // and its warning), then left as it is.
        if let Some(kind) = super::values::settable(s, &name) {
            if let Err(Some(e)) = own_value(s, &name, kind, v) {
                return Err(e);
            }
        }
        return Ok(());
    }
    // `SET @@global.x`, which the statement table's `SET GLOBAL` does not match.
    if !is_admin(s) {
        return Err(denied(SET_GLOBAL));
    }
    if let Some(d) = dynamic {
        let kind = super::values::settable(s, &name).unwrap_or(crate::sysvars::Kind::Int);
        let shown = own_value(s, &name, kind, v).map_err(|e| e.unwrap_or_else(|| wrong_value(&name, v)))?;
        let value = shown.as_ref().map(|x| x.parse::<f64>().map_err(|_| wrong_value(&name, x))).transpose()?;
        globals.settings.push(Change { d, value, shown, scope });
        return Ok(());
    }
    globals.semisync = Some(boolean(v).ok_or_else(|| wrong_value(&name, v))?);
    Ok(())
}

/// A boolean variable's value as SET takes it: 1, ON, TRUE or 0, OFF, FALSE, quoted or not.
fn boolean(v: &str) -> Option<bool> {
    match unquote(v).to_ascii_uppercase().as_str() {
        "1" | "ON" | "TRUE" => Some(true),
        "0" | "OFF" | "FALSE" => Some(false),
        _ => None,
    }
}

/// ERROR 1231: `name` cannot take the value `v`.
fn wrong_value(name: &str, v: &str) -> Vec<u8> {
    err_packet(
        ER_WRONG_VALUE_FOR_VAR,
        "42000",
        &format!("Variable '{name}' can't be set to the value of '{}'", unquote(v)),
    )
}

/// The privileges SET GLOBAL asks for.
const SET_GLOBAL: &str = "SUPER, SYSTEM_VARIABLES_ADMIN";

/// ER_WRONG_VALUE_FOR_VAR.
const ER_WRONG_VALUE_FOR_VAR: u16 = 1231;

/// The name of a session system variable a SET item assigns (`x`, `SESSION x`, `LOCAL
/// x`, `@@x`, `@@session.x`, `@@local.x`); None for a user or global one.
fn session_variable(k: &str) -> Option<&str> {
    let k = k.trim();
    let word = |p: &str| k.get(..p.len()).filter(|h| h.eq_ignore_ascii_case(p)).and_then(|_| k.get(p.len()..));
    let name = word("SESSION ")
        .or_else(|| word("LOCAL "))
        .or_else(|| word("@@SESSION."))
        .or_else(|| word("@@LOCAL."))
        .or_else(|| k.strip_prefix("@@").filter(|n| !n.contains('.')))
        .unwrap_or(k)
        .trim()
        .trim_matches('`');
    (!name.starts_with('@') && !name.contains(['.', ' '])).then_some(name)
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
        match datetime(arg, super::values::clock(s)) {
            Some(Ok(secs)) => Target::Before(UNIX_EPOCH + std::time::Duration::from_secs(secs)),
            _ => return vec![err_packet(ER_WRONG_ARGUMENTS, "HY000", "Incorrect arguments to PURGE LOGS BEFORE")],
        }
    };
    match s.srv.purge(&target) {
        Ok(p) => match &p.held {
            Some(h) => {
                s.warnings.push("Warning", ER_WARN_PURGE_LOG_IN_USE, h.message(p.purge.len(), p.wanted));
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
fn kill(s: &Ctx, text: &str, words: &[&str], own_only: Option<&str>) -> Vec<u8> {
    // MariaDB's KILL [HARD | SOFT] ...: binlogd's statements hold nothing to roll back,
    // so both end a connection at once. MySQL's parser has no such words.
    let words = match words {
        ["HARD" | "SOFT", rest @ ..] if super::show::is_maria(s) => rest,
        ["HARD" | "SOFT", _, ..] => return parse_error(s, text, 2),
        _ => words,
    };
    let (dump_only, id) = match words {
        [id] | ["CONNECTION", id] => (false, id),
        ["QUERY", id] => (true, id),
        // MariaDB's KILL QUERY ID: binlogd's statements have no query ids.
        ["QUERY", "ID", id] if super::show::is_maria(s) => {
            return err_packet(ER_NO_SUCH_QUERY, "HY000", &format!("Unknown query id: {id}"))
        }
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
    for r in super::sql::statements(&t) {
        let _ = &t[r];
    }
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
    let _ = super::values::datetime(&t, super::values::Clock::default());
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_enumeration_or_a_set_takes_its_members_in_any_case_and_gives_them_in_the_primarys() {
        use crate::sysvars::Members;
        let names = |l: &str| l.split(',').map(str::to_string).collect::<Vec<_>>();
        let set = Members { set: true, names: names("REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI") };
        let one = Members { set: false, names: names("NO_CHAIN,CHAIN,RELEASE") };
        let ok = |m, t: &str, n| super::member_text("x", m, t, n).unwrap();
        let refused = |m, t: &str, n| {
            let e = super::member_text("x", m, t, n).unwrap_err();
            String::from_utf8_lossy(&e[9..]).into_owned()
        };
        assert_eq!(ok(&set, "ignore_space,ansi_quotes,,", false), "ANSI_QUOTES,IGNORE_SPACE");
        assert_eq!(ok(&set, "", false), "");
        assert_eq!(ok(&set, "5", true), "REAL_AS_FLOAT,ANSI_QUOTES");
        assert!(refused(&set, "32", true).ends_with("value of '32'"));
        assert!(refused(&set, "ansi_quotes, ignore_space", false).ends_with("value of ' ignore_space'"));
        assert_eq!(ok(&one, "release", false), "RELEASE");
        assert_eq!(ok(&one, "1", true), "CHAIN");
        assert!(refused(&one, "3", true).ends_with("value of '3'"));
        assert!(refused(&one, "-1", true).ends_with("value of '-1'"));
        assert!(refused(&one, "chain ", false).ends_with("value of 'chain '"));
        assert!(refused(&one, "1.5", true).contains("Incorrect argument type"));
        // sql_mode's combinations add what they stand for.
        let modes = Members { set: true, names: names("REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI") };
        assert_eq!(
            super::member_text("sql_mode", &modes, "ansi", false).unwrap(),
            "REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI"
        );
        // More members than mysqld's 64 bits: no bit past them is read.
        let many = Members { set: true, names: (0..200).map(|i| format!("M{i}")).collect() };
        assert_eq!(super::member_text("x", &many, "3", true).unwrap(), "M0,M1");
    }

    use super::*;

    #[test]
    fn a_session_time_zone_is_read_as_the_primary_reads_it() {
        let ok = |v: &str, maria| time_zone(v, maria).ok().flatten();
        assert_eq!(ok("'+5:3'", false).as_deref(), Some("+05:03"));
        assert_eq!(ok("'-00:00'", true).as_deref(), Some("+00:00"));
        assert_eq!(ok("'system'", false).as_deref(), Some("SYSTEM"));
        assert_eq!(ok("'Europe/Paris'", false).as_deref(), Some("Europe/Paris"));
        assert_eq!(time_zone("DEFAULT", false).ok(), Some(None));
        // MySQL 9.7 takes -13:59..+14:00, MariaDB -12:59..+13:00.
        assert!(time_zone("'+14:00'", false).is_ok() && time_zone("'+14:00'", true).is_err());
        assert!(time_zone("'-13:59'", false).is_ok() && time_zone("'-13:00'", true).is_err());
        for bad in ["'+25:00'", "'+00:60'", "'+1'", "'+:30'", "'+123:00'", "5", "NULL"] {
            assert!(time_zone(bad, false).is_err(), "{bad}");
        }
    }

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
    fn server_versions_compare_as_numbers() {
        assert_eq!(version_number("9.7.4-2"), 90704);
        assert_eq!(version_number("8.0.22"), 80022);
        assert_eq!(version_number("10.11.19-MariaDB-0+deb12u1-log"), 101119);
        assert_eq!(version_number("11.8.9-MariaDB-4 from Debian-log"), 110809);
        assert_eq!(version_number("8.4"), 80400);
        assert_eq!(version_number(""), 0);
        assert_eq!(version_number("x.y"), 0);
        assert_eq!(version_number("99999999999.999.999"), 42_000 * 10000 + 99 * 100 + 99);
        assert_eq!(version_number("8.0.1.2"), 80001);
    }

    #[test]
    fn each_flavour_has_the_statement_words_of_its_version() {
        use crate::replica::connect::Flavor::{MariaDb, Mysql};
        let has = |sql: &str, flavor, version| {
            let words: Vec<&str> = sql.split_whitespace().collect();
            STATEMENTS.iter().find(|x| x.matches(&words)).is_some_and(|x| x.grammar.has(flavor, version))
        };
        for (sql, mysql80, mysql84, maria1011, maria118) in [
            ("SHOW MASTER STATUS", true, false, true, true),
            ("SHOW BINARY LOG STATUS", false, true, false, true),
            ("SHOW BINLOG STATUS", false, false, true, true),
            ("SHOW SLAVE STATUS", true, false, true, true),
            ("SHOW REPLICA STATUS", true, true, true, true),
            ("SHOW REPLICAS", true, true, false, false),
            ("SHOW REPLICA HOSTS", false, false, true, true),
            ("SHOW SLAVE HOSTS", true, false, true, true),
            ("SHOW SLAVE 'X' STATUS", false, false, true, true),
            ("STOP ALL SLAVES", false, false, true, true),
            ("CHANGE MASTER TO MASTER_PORT = 1", true, false, true, true),
            ("CHANGE REPLICATION SOURCE TO SOURCE_PORT = 1", true, true, false, false),
            ("RESET BINARY LOGS AND GTIDS", false, true, false, false),
            ("ALTER INSTANCE RELOAD TLS", true, true, false, false),
            ("FLUSH SSL", false, false, true, true),
            ("SHOW BINARY LOGS", true, true, true, true),
            ("PURGE BINARY LOGS TO 'X'", true, true, true, true),
        ] {
            assert_eq!(has(sql, Mysql, 80036), mysql80, "{sql} on MySQL 8.0.36");
            assert_eq!(has(sql, Mysql, 90704), mysql84, "{sql} on MySQL 9.7");
            assert_eq!(has(sql, MariaDb, 101119), maria1011, "{sql} on MariaDB 10.11");
            assert_eq!(has(sql, MariaDb, 110809), maria118, "{sql} on MariaDB 11.8");
        }
        // A statement some primary lacks names where that primary's parser stops.
        for st in STATEMENTS {
            assert_eq!(st.grammar == Grammar::ANY, st.grammar.near == 0, "{}", st.example);
            assert!(st.grammar.near < st.words.len(), "{}", st.example);
        }
    }

    #[test]
    fn a_syntax_error_quotes_the_statement_from_where_the_parser_stopped() {
        assert_eq!(near_text("SHOW MASTER STATUS", 1), "MASTER STATUS");
        assert_eq!(near_text("  show   slave   hosts", 1), "slave   hosts");
        assert_eq!(near_text("SHOW REPLICA 'x' STATUS", 2), "'x' STATUS");
        assert_eq!(near_text("KILL HARD", 2), "");
        assert_eq!(near_text(&format!("CHANGE MASTER TO {}", "é".repeat(100)), 1).chars().count(), 80);
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
