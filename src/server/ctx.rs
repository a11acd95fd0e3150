//! What a statement's handler may use: its connection's own state (id, account, user
//! variables, warnings, TLS), and, through `View`, the parts of the server a statement
//! reads or changes. Handlers get a `Ctx` rather than the session, which also owns
//! the socket and every internal of the server, so what a statement can reach is
//! written down here.

use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use super::{conns::Conns, Registered, Server};
use crate::config::Config;
use crate::replica::connect::Primary;
use crate::replica::{Link, Serving, Stats};

/// The session's own values of the variables a client's session tracker follows
/// besides the character sets (`autocommit`, `time_zone`), its explicit transaction, and
/// what the statement being answered assigned of them, for the OK that ends it.
/// <https://dev.mysql.com/doc/refman/8.4/en/session-state-tracking.html>
#[derive(Debug, Clone)]
pub struct Tracked {
    pub autocommit: bool,
    /// None: the server's.
    pub time_zone: Option<String>,
    /// BEGIN until COMMIT or ROLLBACK, or a transaction a MySQL primary would open
    /// (SERVER_STATUS_IN_TRANS).
    pub in_transaction: bool,
    /// The transaction open began with BEGIN.
    pub explicit: bool,
    /// The tracked system variables the statement assigned, whatever their value was,
    /// in the order they were.
    pub assigned: Vec<&'static str>,
    /// The statement made a database the one in use.
    pub schema: bool,
    /// The transaction state a MySQL primary's tracker reports when a statement begins
    /// or ends a transaction (`T_______`, `________`), though `session_track_transaction_info`
    /// is OFF: MySQL 9.7 does.
    pub transaction_state: Option<&'static str>,
    /// `resultset_metadata = NONE` (MySQL): answers carry no column definitions. No
    /// tracker follows it.
    pub no_metadata: bool,
    /// The session's own values of the other variables it SET (`wait_timeout`,
    /// `sql_mode`, `foreign_key_checks`, ...), by lower-case name, as SHOW VARIABLES
    /// shows them. At most one per variable the primary has.
    pub own: Vec<(String, String)>,
}

impl Default for Tracked {
    fn default() -> Tracked {
        Tracked {
            autocommit: true,
            time_zone: None,
            in_transaction: false,
            explicit: false,
            assigned: Default::default(),
            schema: false,
            transaction_state: None,
            no_metadata: false,
            own: Vec::new(),
        }
    }
}

/// The system variables mysqld's session tracker follows by default
/// (`session_track_system_variables`, MySQL's and MariaDB's alike; MariaDB 11.3 and
/// later add `redirect_url`).
pub const TRACKED_VARIABLES: [&str; 6] = [
    "autocommit",
    "character_set_client",
    "character_set_connection",
    "character_set_results",
    "time_zone",
    "redirect_url",
];

/// What the OK of a login reports to a session tracker, in the order the primary's
/// does: MySQL 9.7 and MariaDB 10.11 nothing; MariaDB 11.8 its tracked variables
/// (MariaDB 11.3 added `redirect_url`, which a client is to reconnect to; the versions
/// between are not told apart).
pub const LOGIN_REPORT_MARIADB: [&str; 6] = [
    "autocommit",
    "time_zone",
    "character_set_client",
    "character_set_connection",
    "character_set_results",
    "redirect_url",
];

/// Those of them a login, SET NAMES and SET CHARACTER SET assign together.
pub const TRACKED_CHARSETS: [&str; 3] = ["character_set_client", "character_set_connection", "character_set_results"];

impl Tracked {
    /// A new statement: nothing assigned yet.
    pub fn begin(&mut self) {
        self.assigned.clear();
        self.schema = false;
        self.transaction_state = None;
    }

    /// BEGIN (true) or COMMIT, ROLLBACK, SET autocommit = 1 (false); `mysql`: the
    /// primary is MySQL, whose tracker reports it.
    pub fn transaction(&mut self, open: bool, mysql: bool) {
        // Only a transaction BEGIN opened is reported ending.
        if mysql && (open || self.explicit) {
            self.transaction_state = Some(if open { "T_______" } else { "________" });
        }
        self.in_transaction = open;
        self.explicit = open;
    }

    /// Notes an assignment of `name`, if it is a tracked variable.
    pub fn assign(&mut self, name: &str) {
        if let Some(n) = TRACKED_VARIABLES.iter().find(|n| n.eq_ignore_ascii_case(name)) {
            if !self.assigned.contains(n) {
                self.assigned.push(n);
            }
        }
    }

    /// The session's own value of `name`, if it SET one.
    pub fn own(&self, name: &str) -> Option<&str> {
        self.own.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Makes `value` the session's own value of `name`; None (`= DEFAULT`): the server's.
    pub fn set_own(&mut self, name: &str, value: Option<String>) {
        self.own.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        if let Some(v) = value {
            self.own.push((name.to_ascii_lowercase(), v));
        }
    }

    /// SERVER_STATUS_IN_TRANS and SERVER_STATUS_AUTOCOMMIT as the session has them.
    pub fn status(&self) -> u16 {
        use crate::proto::resultset::{SERVER_STATUS_AUTOCOMMIT, SERVER_STATUS_IN_TRANS};
        (if self.autocommit { SERVER_STATUS_AUTOCOMMIT } else { 0 })
            | (if self.in_transaction { SERVER_STATUS_IN_TRANS } else { 0 })
    }
}

/// A connection's diagnostics area: the conditions (level, code, message) the last
/// statement raised, its error among them, as mysqld keeps them for SHOW WARNINGS,
/// SHOW ERRORS and `@@warning_count`. <https://dev.mysql.com/doc/refman/8.4/en/diagnostics-area.html>
#[derive(Debug, Default)]
pub struct Warnings {
    /// Shared-mutable: an expression raises a warning while it is evaluated through a
    /// shared `Ctx` (a deprecated variable or function).
    list: std::cell::RefCell<Vec<Condition>>,
    /// `(@@warning_count, @@error_count)` as the statement before this one left them:
    /// a statement reads them before its own conditions replace them.
    before: (usize, usize),
    /// The last statement's conditions while the next one runs, for `end`.
    previous: Vec<Condition>,
    /// How many conditions the statement that just ended raised itself (not those
    /// MariaDB kept from the one before), for its answer's warning count.
    raised: usize,
    /// Those raised beyond `MAX_CONDITIONS`: counted, not kept.
    dropped: std::cell::Cell<usize>,
}

/// The conditions a statement keeps, as mysqld's `max_error_count` (64) does; more are
/// counted in `@@warning_count` but not listed, so that a statement of thousands of
/// deprecated variables cannot grow a session without bound.
const MAX_CONDITIONS: usize = 64;

/// One condition: level, code, message.
pub type Condition = (&'static str, u16, String);

impl Warnings {
    /// A statement other than SHOW WARNINGS, SHOW ERRORS and SHOW COUNT(*) begins:
    /// it starts with none of its own, and reads the last one's counts.
    pub fn begin(&mut self) {
        self.before = self.counts();
        self.previous = std::mem::take(self.list.get_mut());
        self.dropped.set(0);
    }
    /// The statement ended. MariaDB leaves the last statement's conditions in place
    /// when one that reads no table raises none (`quiet_keeps`); MySQL clears them
    /// at every statement.
    pub fn end(&mut self, quiet_keeps: bool) {
        self.raised = self.list.get_mut().len() + self.dropped.get();
        if quiet_keeps && self.raised == 0 {
            *self.list.get_mut() = std::mem::take(&mut self.previous);
        } else {
            self.previous.clear();
        }
    }
    /// The count the answer's end carries: the conditions the statement that ended
    /// raised; 0 for one that read them (SHOW WARNINGS), which neither begins nor ends.
    pub fn take_raised(&mut self) -> usize {
        std::mem::take(&mut self.raised)
    }
    pub fn push(&self, level: &'static str, code: u16, message: String) {
        let mut l = self.list.borrow_mut();
        if l.len() < MAX_CONDITIONS {
            l.push((level, code, message));
        } else {
            self.dropped.set(self.dropped.get() + 1);
        }
    }
    /// The statement failed with `code` and `message`.
    pub fn error(&self, code: u16, message: String) {
        self.push("Error", code, message);
    }
    /// The conditions, all or the errors only (SHOW ERRORS).
    pub fn listed(&self, errors_only: bool) -> Vec<Condition> {
        self.list.borrow().iter().filter(|c| !errors_only || c.0 == "Error").cloned().collect()
    }
    /// `(@@warning_count, @@error_count)` of the last statement.
    pub fn counts(&self) -> (usize, usize) {
        let l = self.list.borrow();
        (l.len() + self.dropped.get(), l.iter().filter(|c| c.0 == "Error").count())
    }
    /// The counts the statement now running reads (`@@warning_count`, `@@error_count`).
    pub fn before(&self) -> (usize, usize) {
        self.before
    }
}

/// A session's user variables (`SET @x = ...`), each with the type its value was set
/// with, as mysqld keeps them: `SELECT @x` gives an integer as BIGINT, a string as a
/// (LONG)BLOB of the session's character set, NULL as NULL. Replicas and CDC readers
/// set the few the dump reads (`@master_binlog_checksum`, `@slave_connect_state`, ...),
/// which `get` gives as text.
#[derive(Debug, Clone, Default)]
pub struct UserVars(std::collections::BTreeMap<String, (Option<String>, crate::proto::resultset::ColumnType)>);

impl UserVars {
    /// The value of `name` (lower case) as text; None when unset or NULL.
    pub fn get(&self, name: &str) -> Option<&String> {
        self.0.get(name).and_then(|v| v.0.as_ref())
    }
    /// The value of `name` (lower case) and its type; None when unset.
    pub fn typed(&self, name: &str) -> Option<&(Option<String>, crate::proto::resultset::ColumnType)> {
        self.0.get(name)
    }
    pub fn contains_key(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
    pub fn insert(&mut self, name: String, value: (Option<String>, crate::proto::resultset::ColumnType)) {
        self.0.insert(name, value);
    }
    pub fn clear(&mut self) {
        self.0.clear();
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The bytes of names and values held, but `name`'s.
    pub fn size_without(&self, name: &str) -> usize {
        self.0.iter().filter(|(k, _)| *k != name).map(|(k, v)| k.len() + v.0.as_ref().map_or(0, String::len)).sum()
    }
}

/// A statement's context.
pub struct Ctx<'a> {
    /// This connection's id (CONNECTION_ID()).
    pub id: u32,
    /// The account logged in as.
    pub user: &'a str,
    /// The client's address, without its port (USER()).
    pub host: &'a str,
    /// User variables set by the client (`SET @x = ...`).
    pub vars: &'a mut UserVars,
    /// The database the session uses (USE, COM_INIT_DB): information_schema or none.
    pub db: &'a mut Option<String>,
    /// The session's character sets (SET NAMES).
    pub charsets: &'a mut super::collations::Charsets,
    /// Its autocommit, time zone and transaction, and what the statement assigned.
    pub tracked: &'a mut Tracked,
    /// The last statement's warnings.
    pub warnings: &'a mut Warnings,
    /// Set to end this connection after the answer (KILL of itself).
    pub killed: &'a AtomicBool,
    /// This connection's TLS version and cipher, when it has TLS.
    pub tls: Option<&'a str>,
    /// The connection's compressed protocol, when it has one.
    pub compression: Option<crate::proto::compress::Algorithm>,
    /// The capabilities the client and binlogd's greeting both have, and MariaDB's
    /// extended ones (`caps::ext`).
    pub client_caps: u32,
    pub client_ext_caps: u32,
    /// The server, as statements see it.
    pub srv: View<'a>,
}

/// The server's parts a statement reads or changes, and no others.
#[derive(Clone, Copy)]
pub struct View<'a>(&'a Server);

impl<'a> View<'a> {
    pub fn new(s: &'a Server) -> View<'a> {
        View(s)
    }
    pub fn cfg(&self) -> &'a Config {
        &self.0.cfg
    }
    /// What SET GLOBAL changes while binlogd runs (its timeouts, max_connections, the
    /// purge policy): read these, not the cnf's.
    pub fn settings(&self) -> &'a crate::settings::Settings {
        &self.0.shared.settings
    }
    /// The cnf with what CHANGE MASTER TO set over its master_* keys: the source
    /// binlogd connects to.
    pub fn source(&self) -> Config {
        self.0.shared.link.source.shown()
    }
    /// The connection to the primary: its state, STOP/START SLAVE, TLS, the source.
    pub fn link(&self) -> &'a Link {
        &self.0.shared.link
    }
    /// What is stored and durable, who reads what, the index lock, the error log.
    pub fn serving(&self) -> &'a Serving {
        &self.0.shared.serving
    }
    pub fn stats(&self) -> &'a Stats {
        &self.0.shared.stats
    }
    /// Seconds_Behind_Master.
    pub fn seconds_behind(&self) -> Option<u64> {
        self.0.shared.seconds_behind()
    }
    /// The primary's facts, live or as the stored files tell.
    pub fn primary(&self) -> Option<Primary> {
        self.0.primary()
    }
    /// Every client connection, for PROCESSLIST and KILL.
    pub fn conns(&self) -> &'a Conns {
        &self.0.conns
    }
    /// The replicas registered, by connection id.
    pub fn replicas(&self) -> &'a Mutex<std::collections::BTreeMap<u32, Registered>> {
        &self.0.replicas
    }
    pub fn uptime_secs(&self) -> u64 {
        self.0.started.elapsed().as_secs()
    }
    pub fn questions(&self) -> u64 {
        self.0.questions.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// PURGE BINARY LOGS: through the purger, which owns what leaves binlog_dir.
    pub fn purge(&self, target: &crate::binlog::purge::Target) -> Result<crate::binlog::purge::Plan, String> {
        crate::replica::purger::purge(&self.0.cfg, &self.0.shared, target)
    }
    pub fn threads_connected(&self) -> usize {
        self.0.threads_connected()
    }
    pub fn max_used_connections(&self) -> usize {
        self.0.max_used_connections()
    }
    pub fn connection_attempts(&self) -> usize {
        self.0.connection_attempts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_keeps_64_conditions_and_counts_them_all() {
        let mut w = Warnings::default();
        w.begin();
        for i in 0..100 {
            w.push("Warning", 1287, format!("number {i}"));
        }
        assert_eq!((w.listed(false).len(), w.counts()), (64, (100, 0)));
        w.end(false);
        assert_eq!(w.take_raised(), 100);
        w.begin();
        assert_eq!(w.before(), (100, 0), "the next statement reads the count");
        w.end(false);
        assert_eq!((w.listed(false).len(), w.counts(), w.take_raised()), (0, (0, 0), 0));
    }
}
