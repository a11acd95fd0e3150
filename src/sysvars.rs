//! The system variables binlogd reports, declared once: each one's type, which
//! flavour of server has it, and whether its value is the primary's or binlogd's own.
//!
//! The primary's are read at each connect (`replica::connect`) and kept in binlog_dir
//! (`VARIABLES_FILE`), so that clients get them while the primary is down. Clients
//! act on them: python-mysql-replication reads `binlog_row_metadata` to name columns,
//! Debezium `gtid_mode`, Maxwell `lower_case_table_names`, Connector/J the character
//! set and timeouts at connect.

/// The file in binlog_dir that keeps the primary's variables: `name<TAB>value` lines.
pub const VARIABLES_FILE: &str = "binlogd.variables";

/// How a variable's value is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Text that `SELECT @@x` gives as NULL while it is empty (an unset
    /// `report_host`); `SHOW VARIABLES` shows it empty.
    TextOrNull,
    /// An integer: `SELECT @@x` gives a LONGLONG column.
    Int,
    /// ON/OFF in `SHOW VARIABLES`, 1/0 (LONGLONG) in `SELECT @@x`.
    Bool,
    /// An integer that may be negative (`max_user_connections`' -1): LONGLONG, signed.
    SignedInt,
    /// A real number (`long_query_time`): DOUBLE with 6 decimals.
    Double,
}

/// Where the value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The primary's value; this one until binlogd has read it.
    Primary(&'static str),
    /// binlogd's own, computed by the server (`server::query`).
    Own,
}

/// Which flavour of server has the variable (`@@x` of the other gets 1193).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Only {
    Both,
    Mysql,
    MariaDb,
    /// MySQL's, and MariaDB's from this version (`version_number`) on.
    MariaDbFrom(u32),
    /// MariaDB's from this version on, and not MySQL's.
    MariaDbOnlyFrom(u32),
    /// MariaDB's, and MySQL's before this version (8.4 removed the semi-sync plugins
    /// of the old names, and with them their variables).
    BothBeforeMysql(u32),
}

#[derive(Debug, Clone, Copy)]
pub struct Var {
    pub name: &'static str,
    pub kind: Kind,
    pub from: Source,
    pub only: Only,
}

const fn v(name: &'static str, kind: Kind, from: Source, only: Only) -> Var {
    Var { name, kind, from, only }
}

use Kind::{Bool, Double, Int, Text, TextOrNull};
use Only::{Both, MariaDb, Mysql};
use Source::{Own, Primary as P};

/// Every variable binlogd reports, sorted by name (SHOW VARIABLES lists them so).
pub const VARS: &[Var] = &[
    v("auto_increment_increment", Int, P("1"), Both),
    v("auto_increment_offset", Int, P("1"), Both),
    v("autocommit", Bool, P("ON"), Both),
    // Where binlogd listens (cnf listen_address).
    v("bind_address", Text, Own, Both),
    v("binlog_annotate_row_events", Bool, P("ON"), MariaDb),
    v("binlog_checksum", Text, P("CRC32"), Both),
    v("binlog_encryption", Bool, P("OFF"), Mysql),
    v("binlog_expire_logs_seconds", Int, Own, Both),
    v("binlog_format", Text, P("ROW"), Both),
    v("binlog_gtid_simple_recovery", Bool, P("ON"), Mysql),
    v("binlog_row_image", Text, P("FULL"), Both),
    v("binlog_row_metadata", Text, P("MINIMAL"), Both),
    v("binlog_row_value_options", Text, P(""), Mysql),
    // MariaDB 11.4+'s limit on the stored files, binlogd's own (cnf binlog_space_limit).
    v("binlog_space_limit", Int, Own, Only::MariaDbOnlyFrom(110400)),
    v("binlog_transaction_compression", Bool, P("OFF"), Mysql),
    v("character_set_client", Text, P("utf8mb4"), Both),
    // MariaDB 11.2+: each set's collation where none is named (SET NAMES, a login).
    v("character_set_collations", Text, P(""), MariaDb),
    v("character_set_connection", Text, P("utf8mb4"), Both),
    v("character_set_database", Text, P("utf8mb4"), Both),
    v("character_set_results", Text, P("utf8mb4"), Both),
    v("character_set_server", Text, P("utf8mb4"), Both),
    v("character_set_system", Text, P("utf8mb3"), Both),
    v("collation_connection", Text, P("utf8mb4_general_ci"), Both),
    v("collation_database", Text, P("utf8mb4_general_ci"), Both),
    v("collation_server", Text, P("utf8mb4_general_ci"), Both),
    v("connect_timeout", Int, Own, Both),
    v("datadir", Text, Own, Both),
    v("default_storage_engine", Text, P("InnoDB"), Both),
    v("enforce_gtid_consistency", Text, P("OFF"), Mysql),
    // MariaDB's purge by age in days, binlogd's own (cnf expire_logs_days).
    v("expire_logs_days", Double, Own, MariaDb),
    v("gtid_binlog_pos", Text, Own, MariaDb),
    // Every server's last GTID in each domain, from the stored files' Gtid_lists on.
    v("gtid_binlog_state", Text, Own, MariaDb),
    v("gtid_current_pos", Text, Own, MariaDb),
    v("gtid_domain_id", Int, P("0"), MariaDb),
    v("gtid_executed", Text, Own, Mysql),
    v("gtid_mode", Text, P("OFF"), Mysql),
    v("gtid_purged", Text, Own, Mysql),
    // binlogd's replica side: the last transaction stored, as a replica's last applied.
    v("gtid_slave_pos", Text, Own, MariaDb),
    v("gtid_strict_mode", Bool, P("OFF"), MariaDb),
    v("have_ssl", Text, Own, MariaDb),
    v("hostname", Text, Own, Both),
    v("init_connect", Text, P(""), Both),
    v("interactive_timeout", Int, Own, Both),
    v("license", Text, P("GPL"), Both),
    v("log_bin", Bool, P("ON"), Both),
    v("log_bin_basename", TextOrNull, Own, Both),
    v("log_bin_index", TextOrNull, Own, Both),
    v("log_error", Text, Own, Both),
    v("log_replica_updates", Bool, P("OFF"), Mysql),
    v("log_slave_updates", Bool, P("OFF"), Both),
    v("lower_case_table_names", Int, P("0"), Both),
    v("max_allowed_packet", Int, P("1073741824"), Both),
    v("max_binlog_size", Int, P("1073741824"), Both),
    v("max_binlog_total_size", Int, Own, Only::MariaDbOnlyFrom(110400)),
    v("max_connections", Int, Own, Both),
    v("max_execution_time", Int, P("0"), Mysql),
    v("net_buffer_length", Int, P("16384"), Both),
    v("net_read_timeout", Int, P("30"), Both),
    v("net_write_timeout", Int, Own, Both),
    v("performance_schema", Bool, P("OFF"), Both),
    v("pid_file", Text, Own, Both),
    v("port", Int, Own, Both),
    v("query_cache_size", Int, P("0"), Both),
    v("query_cache_type", Text, P("OFF"), Both),
    v("read_only", Bool, P("OFF"), Both),
    // MariaDB 11.3+: where a client is to reconnect (connection redirection).
    v("redirect_url", Text, P(""), Only::MariaDbOnlyFrom(110300)),
    v("replica_net_timeout", Int, Own, Mysql),
    v("report_host", TextOrNull, Own, Both),
    v("report_port", Int, Own, Both),
    v("require_secure_transport", Bool, Own, Both),
    // MySQL 8.0.3+: whether answers carry column definitions (a session's own, `SESSION_ONLY`).
    v("resultset_metadata", Text, Own, Mysql),
    v("rpl_semi_sync_master_enabled", Bool, Own, Only::BothBeforeMysql(80400)),
    v("rpl_semi_sync_replica_enabled", Bool, Own, Mysql),
    v("rpl_semi_sync_slave_enabled", Bool, Own, Only::BothBeforeMysql(80400)),
    v("rpl_semi_sync_source_enabled", Bool, Own, Mysql),
    v("server_id", Int, Own, Both),
    v("server_id_bits", Int, Own, Mysql),
    v("server_uuid", Text, Own, Mysql),
    v("slave_net_timeout", Int, Own, Both),
    v("sql_mode", Text, P(""), Both),
    v("sql_select_limit", Int, P("18446744073709551615"), Both),
    // binlogd's TLS for its clients: the cnf's files, or those it generated.
    v("ssl_ca", TextOrNull, Own, Both),
    v("ssl_cert", TextOrNull, Own, Both),
    v("ssl_key", TextOrNull, Own, Both),
    v("super_read_only", Bool, P("OFF"), Mysql),
    v("sync_binlog", Int, Own, Both),
    v("system_time_zone", Text, P("UTC"), Both),
    v("time_zone", Text, P("SYSTEM"), Both),
    v("transaction_isolation", Text, P("REPEATABLE-READ"), Both),
    // MariaDB 11.1 took MySQL's name for tx_read_only, and kept the old one.
    v("transaction_read_only", Bool, Own, Only::MariaDbFrom(110100)),
    v("tx_isolation", Text, P("REPEATABLE-READ"), MariaDb),
    v("tx_read_only", Bool, Own, MariaDb),
    v("version", Text, P("8.0.99-binlogd"), Both),
    v("version_comment", Text, Own, Both),
    v("version_compile_os", Text, P("Linux"), Both),
    v("wait_timeout", Int, Own, Both),
];

/// The variables only a session has: SHOW GLOBAL VARIABLES leaves them out,
/// `@@global.x` is ERROR 1238 and `SET GLOBAL x` 1228.
pub const SESSION_ONLY: &[&str] = &["resultset_metadata"];

/// Whether `name` (any case) is one of `SESSION_ONLY`.
pub fn session_only(name: &str) -> bool {
    SESSION_ONLY.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The variables no SET changes, ERROR 1238 to any (read-only on mysqld too), and
/// binlogd's sync_binlog, which decides when a commit may be acknowledged and is the
/// cnf's alone.
pub const READ_ONLY: &[&str] = &[
    "bind_address",
    "character_set_system",
    "datadir",
    "have_ssl",
    "hostname",
    "license",
    "log_bin",
    "log_bin_basename",
    "log_bin_index",
    "log_error",
    "log_replica_updates",
    "log_slave_updates",
    "lower_case_table_names",
    "performance_schema",
    "pid_file",
    "port",
    "report_host",
    "report_port",
    "server_id_bits",
    "server_uuid",
    "sync_binlog",
    "system_time_zone",
    "version",
    "version_comment",
    "version_compile_os",
];

/// The variables a MySQL server warns about (1287) when a statement reads them: since
/// which version (as `server::query::version_number` gives it), and what to use
/// instead. MariaDB deprecates none of binlogd's.
pub const DEPRECATED_ON_MYSQL: &[(&str, u32, Option<&str>)] = &[
    ("binlog_format", 80034, None),
    ("log_slave_updates", 80026, Some("log_replica_updates")),
    ("slave_net_timeout", 80026, Some("replica_net_timeout")),
];

/// The variable called `name` (any case).
pub fn find(name: &str) -> Option<&'static Var> {
    let n = name.to_ascii_lowercase();
    VARS.binary_search_by(|v| v.name.cmp(n.as_str())).ok().and_then(|i| VARS.get(i))
}

/// The names binlogd reads from the primary.
pub fn from_primary() -> impl Iterator<Item = &'static str> {
    VARS.iter().filter(|v| matches!(v.from, Source::Primary(_))).map(|v| v.name)
}

/// `value` as `SELECT @@x` gives it: a Bool's ON/OFF as 1/0.
pub fn selected(kind: Kind, value: &str) -> String {
    match kind {
        Kind::Bool if value.eq_ignore_ascii_case("ON") => "1".into(),
        Kind::Bool if value.eq_ignore_ascii_case("OFF") => "0".into(),
        _ => value.to_string(),
    }
}

/// A variable of the primary's that `VARS` does not declare. binlogd reports it as the
/// primary gives it, so that a client reading any of the primary's variables (a
/// connector's, a monitoring agent's) gets its answer, and a SET of a name the primary
/// lacks is refused as the primary refuses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Other {
    /// In lower case.
    pub name: String,
    /// As SHOW VARIABLES shows it: the global value, or for a variable of the session
    /// only a new session's (binlogd's own on the primary).
    pub value: String,
    /// Its type in `SELECT @@x` (the primary's answer's column definition).
    pub kind: Kind,
    /// A variable of the session only (`timestamp`, `pseudo_thread_id`): SHOW GLOBAL
    /// VARIABLES leaves it out, `@@global.x` and `SET GLOBAL x` are refused.
    pub session_only: bool,
    /// The server's only (`innodb_buffer_pool_size`): a session's SET and
    /// `@@session.x` are refused. Known where the primary says (MariaDB's
    /// information_schema.SYSTEM_VARIABLES, MySQL's performance_schema.variables_metadata).
    pub global_only: bool,
    /// No SET changes it (MariaDB's SYSTEM_VARIABLES says which).
    pub read_only: bool,
}

/// The primary's variables, as read at its last connect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrimaryVars {
    /// `VARS`' that are the primary's: (lower-case name, value).
    pub declared: Vec<(String, String)>,
    /// All of its others, in the order its SHOW VARIABLES lists them (MariaDB's is not
    /// quite by name). Empty when they were not read (a file kept by a binlogd before
    /// them): then the primary's names are not known.
    pub others: Vec<Other>,
    /// The primary's answers to `LISTINGS`, those it gave.
    pub listings: Vec<Listing>,
    /// What values its variables take, by lower-case name, where it says.
    pub takes: std::collections::BTreeMap<String, Takes>,
    /// The names of its status counters (`SHOW GLOBAL STATUS`), in its order, each with
    /// what its value is: binlogd's SHOW STATUS lists the same, with its own values
    /// (tools such as pt-mysql-summary do arithmetic on them).
    pub status: Vec<(String, Counter)>,
}

/// What a status counter's value is, as the primary showed it: what binlogd shows for
/// one it does not keep follows (0, OFF, or nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Number,
    Switch,
    Text,
}

impl Counter {
    /// The kind of a value as the primary showed it.
    pub fn of(value: &str) -> Counter {
        if !value.is_empty() && value.parse::<f64>().is_ok() {
            Counter::Number
        } else if value == "ON" || value == "OFF" {
            Counter::Switch
        } else {
            Counter::Text
        }
    }

    /// The value of a counter binlogd does not keep.
    pub fn none(self) -> &'static str {
        match self {
            Counter::Number => "0",
            Counter::Switch => "OFF",
            Counter::Text => "",
        }
    }

    const WORDS: [(Counter, &'static str); 3] =
        [(Counter::Number, "number"), (Counter::Switch, "switch"), (Counter::Text, "text")];
}

/// What values one of the primary's variables takes, as it says (MariaDB's
/// information_schema.SYSTEM_VARIABLES: a number's range and step, an enumeration's or
/// a set's members; MySQL's performance_schema.variables_metadata: a number's range):
/// a session's `SET` is checked against it as the primary checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Takes {
    /// A number's least and greatest value, as the primary writes them.
    pub min: Option<String>,
    pub max: Option<String>,
    /// A number's step: a value is rounded down to a multiple of it.
    pub block: Option<u64>,
    /// An enumeration's or a set's members, in the primary's order and case.
    pub members: Option<Members>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members {
    /// A set (any of them, `sql_mode`) rather than an enumeration (one).
    pub set: bool,
    pub names: Vec<String>,
}

impl Takes {
    pub fn is_empty(&self) -> bool {
        *self == Takes::default()
    }
}

/// What the primary lists of itself that binlogd answers as it does: its character
/// sets and collations, which connectors read at connect (MySQL Connector/NET's
/// `SHOW COLLATION` maps collation ids to character sets) and which differ with each
/// server's version, and its storage engines (Percona Toolkit's pt-slave-find asks each
/// replica whether it has InnoDB).
pub const LISTINGS: &[&str] = &["SHOW CHARACTER SET", "SHOW COLLATION", "SHOW ENGINES"];

/// What binlogd asks of a MariaDB and of a MySQL primary about its variables
/// (`connect::variable_meta`): the scope, whether SET changes it, and what it takes.
/// Its answer is kept as a listing too, so that a binlogd reading this one gets it.
pub const META_MARIADB: &str = "SELECT VARIABLE_NAME, VARIABLE_SCOPE, READ_ONLY, NUMERIC_MIN_VALUE, \
     NUMERIC_MAX_VALUE, NUMERIC_BLOCK_SIZE, VARIABLE_TYPE, ENUM_VALUE_LIST FROM information_schema.SYSTEM_VARIABLES";
pub const META_MYSQL: &str = "SELECT VARIABLE_NAME, VARIABLE_SCOPE, NULL, MIN_VALUE, MAX_VALUE, NULL, DATA_TYPE, NULL \
     FROM performance_schema.variables_metadata";

/// Is `statement` one whose answer binlogd keeps (`Listing`)?
pub fn kept(statement: &str) -> bool {
    LISTINGS.contains(&statement) || statement == META_MARIADB || statement == META_MYSQL
}

/// The primary's answer to one of `LISTINGS`, or to `META_MARIADB` or `META_MYSQL`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub statement: String,
    /// Its column definitions in binlogd's own form (`resultset::as_own_def`).
    pub defs: Vec<Vec<u8>>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl PrimaryVars {
    pub fn is_empty(&self) -> bool {
        self.declared.is_empty() && self.others.is_empty()
    }

    /// The primary's answer to `statement`, one of `LISTINGS`.
    pub fn listing(&self, statement: &str) -> Option<&Listing> {
        self.listings.iter().find(|l| l.statement == statement)
    }

    /// The value of a variable `VARS` declares as the primary's.
    pub fn declared(&self, name: &str) -> Option<&str> {
        self.declared.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The variable `name` (any case) among the others.
    pub fn other(&self, name: &str) -> Option<&Other> {
        self.others.iter().find(|o| o.name.eq_ignore_ascii_case(name))
    }

    /// Whether the primary has no variable `name` that binlogd does not declare: known
    /// only once its names were read.
    pub fn lacks(&self, name: &str) -> bool {
        !self.others.is_empty() && find(name).is_none() && self.other(name).is_none()
    }
}

/// The kind of a variable the primary answered `SELECT @@global.x` for with a column
/// shaped `shape` and `value` (None: NULL).
pub fn kind_of(shape: &crate::proto::resultset::Shape, value: Option<&str>) -> Kind {
    use crate::proto::resultset::{flags, ColumnType as T};
    match shape.ty {
        T::LONGLONG | T::LONG if shape.length == 1 => Kind::Bool,
        T::LONGLONG | T::LONG if shape.flags & flags::UNSIGNED != 0 => Kind::Int,
        T::LONGLONG | T::LONG => Kind::SignedInt,
        T::DOUBLE | T::FLOAT => Kind::Double,
        _ if value.is_none() => Kind::TextOrNull,
        _ => Kind::Text,
    }
}

/// The primary's variables that are its state, not its settings, which binlogd's
/// own differ from: they are not reported as the primary's.
pub const NOT_MIRRORED: &[&str] = &["gtid_owned"];

/// The primary's variables of the session only whose value binlogd gives each session
/// its own (`server::values`), so it keeps none of the primary's (which would change at
/// every connect).
pub const PER_SESSION: &[&str] =
    &["in_transaction", "pseudo_thread_id", "rand_seed1", "rand_seed2", "statement_id", "timestamp"];

/// How a kind is written in `VARIABLES_FILE`, and read back.
const KIND_WORDS: &[(Kind, &str)] = &[
    (Kind::Text, "text"),
    (Kind::TextOrNull, "null"),
    (Kind::Int, "uint"),
    (Kind::Bool, "bool"),
    (Kind::SignedInt, "int"),
    (Kind::Double, "double"),
];

/// The words in `VARIABLES_FILE` after the kind: a variable of the session only, of the
/// server only, and one no SET changes.
const SESSION_WORD: &str = "session";
const GLOBAL_WORD: &str = "global";
const READ_ONLY_WORD: &str = "readonly";

/// `VARIABLES_FILE`'s text for `vars`: `name<TAB>value` for a declared variable,
/// `name<TAB>value<TAB>kind[<TAB>words]` for another, its words among `session`,
/// `global`, `readonly`, joined by commas. A value never holds a tab or a line break in
/// practice; one that does is cut there rather than break the file.
pub fn encode_file(vars: &PrimaryVars) -> String {
    let mut t = String::new();
    let clean = |v: &str| v.split(['\t', '\n', '\r']).next().unwrap_or("").to_string();
    for (k, v) in &vars.declared {
        t.push_str(&format!("{k}\t{}\n", clean(v)));
    }
    for o in &vars.others {
        let word = KIND_WORDS.iter().find(|(k, _)| *k == o.kind).map_or("text", |(_, w)| w);
        let flags = [(o.session_only, SESSION_WORD), (o.global_only, GLOBAL_WORD), (o.read_only, READ_ONLY_WORD)];
        let words: Vec<&str> = flags.iter().filter(|(on, _)| *on).map(|(_, w)| *w).collect();
        let scope = if words.is_empty() { String::new() } else { format!("\t{}", words.join(",")) };
        t.push_str(&format!("{}\t{}\t{word}{scope}\n", o.name, clean(&o.value)));
    }
    for (name, k) in &vars.takes {
        let opt = |v: &Option<String>| v.as_deref().map(clean).unwrap_or_default();
        let (kind, members) = match &k.members {
            Some(m) => (if m.set { "set" } else { "enum" }, m.names.join(",")),
            None => ("", String::new()),
        };
        let block = k.block.map(|b| b.to_string()).unwrap_or_default();
        t.push_str(&format!(
            "{TAKES_WORD}\t{name}\t{}\t{}\t{block}\t{kind}\t{}\n",
            opt(&k.min),
            opt(&k.max),
            clean(&members)
        ));
    }
    for (name, kind) in &vars.status {
        let word = Counter::WORDS.iter().find(|(k, _)| k == kind).map_or("text", |(_, w)| w);
        t.push_str(&format!("{STATUS_WORD}\t{}\t{word}\n", clean(name)));
    }
    for l in &vars.listings {
        t.push_str(&format!("{LISTING_WORD}\t{}\n", l.statement));
        for d in &l.defs {
            let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
            t.push_str(&format!("{COLUMN_WORD}\t{hex}\n"));
        }
        for r in &l.rows {
            let values: Vec<String> = r.iter().map(|v| v.as_deref().map_or("\\N".into(), escape)).collect();
            t.push_str(&format!("{ROW_WORD}\t{}\n", values.join("\t")));
        }
    }
    t
}

/// The lines of a listing in `VARIABLES_FILE`: no variable's name starts with `@`.
const LISTING_WORD: &str = "@listing";
/// `@takes<TAB>name<TAB>min<TAB>max<TAB>block<TAB>enum|set|<TAB>members,...`.
const TAKES_WORD: &str = "@takes";
/// `@status<TAB>name<TAB>number|switch|text`.
const STATUS_WORD: &str = "@status";
const COLUMN_WORD: &str = "@column";
const ROW_WORD: &str = "@row";

/// A listing's value in `VARIABLES_FILE`: a backslash, tab, line feed and carriage
/// return escaped as `\\`, `\t`, `\n`, `\r` (NULL is `\N`).
fn escape(v: &str) -> String {
    let mut o = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\t' => o.push_str("\\t"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            _ => o.push(c),
        }
    }
    o
}

fn unescape(v: &str) -> Option<String> {
    if v == "\\N" {
        return None;
    }
    let mut o = String::with_capacity(v.len());
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            o.push(c);
            continue;
        }
        match it.next() {
            Some('t') => o.push('\t'),
            Some('n') => o.push('\n'),
            Some('r') => o.push('\r'),
            Some(x) => o.push(x),
            None => o.push('\\'),
        }
    }
    Some(o)
}

/// Reads a listing's line of `VARIABLES_FILE` into `vars`. A listing that is not one
/// of `LISTINGS`, or one of whose definitions does not read, is marked with an empty
/// statement, its lines skipped, and dropped at the end (`decode_file`).
fn decode_listing_line(vars: &mut PrimaryVars, l: &str) {
    let Some((word, rest)) = l.split_once('\t') else { return };
    if word == STATUS_WORD {
        let rest = rest.split('\r').next().unwrap_or("");
        if let Some((name, word)) = rest.split_once('\t').filter(|(n, _)| !n.is_empty()) {
            if let Some((kind, _)) = Counter::WORDS.iter().find(|(_, w)| *w == word) {
                vars.status.push((name.to_string(), *kind));
            }
        }
        return;
    }
    if word == TAKES_WORD {
        // As `encode_file` writes values: cut at a carriage return.
        let f: Vec<&str> = rest.split('\r').next().unwrap_or("").split('\t').collect();
        let &[name, min, max, block, kind, members] = f.as_slice() else { return };
        let opt = |v: &str| (!v.is_empty()).then(|| v.to_string());
        let members = match kind {
            "enum" | "set" => Some(Members {
                set: kind == "set",
                names: members.split(',').filter(|m| !m.is_empty()).map(str::to_string).collect(),
            }),
            "" => None,
            _ => return,
        };
        let block = match block {
            "" => None,
            b => match b.parse() {
                Ok(b) => Some(b),
                Err(_) => return,
            },
        };
        let t = Takes { min: opt(min), max: opt(max), block, members };
        if !name.is_empty() && !t.is_empty() {
            vars.takes.insert(name.to_ascii_lowercase(), t);
        }
        return;
    }
    if word == LISTING_WORD {
        let statement = if kept(rest) { rest.to_string() } else { String::new() };
        vars.listings.push(Listing { statement, ..Listing::default() });
        return;
    }
    let Some(last) = vars.listings.last_mut().filter(|l| !l.statement.is_empty()) else { return };
    match word {
        COLUMN_WORD => {
            let bytes: Option<Vec<u8>> = (0..rest.len())
                .step_by(2)
                .map(|i| rest.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect();
            match bytes.filter(|b| crate::proto::resultset::column_def(b).is_ok()) {
                Some(b) if last.rows.is_empty() => last.defs.push(b),
                _ => last.statement.clear(),
            }
        }
        ROW_WORD => {
            let row: Vec<Option<String>> = rest.split('\t').map(unescape).collect();
            if row.len() == last.defs.len() {
                last.rows.push(row);
            }
        }
        _ => {}
    }
}

/// The variables in `VARIABLES_FILE`'s text. Lines that are neither a declared
/// variable read from the primary nor another with a known kind are left out.
pub fn decode_file(text: &str) -> PrimaryVars {
    let mut vars = PrimaryVars::default();
    for l in text.lines() {
        if l.starts_with('@') {
            decode_listing_line(&mut vars, l);
            continue;
        }
        let mut parts = l.split('\t');
        let (Some(k), Some(v)) = (parts.next(), parts.next()) else { continue };
        // As `encode_file` writes values: cut at a carriage return.
        let v = v.split('\r').next().unwrap_or("");
        let (kind, scope) = (parts.next(), parts.next());
        match (find(k), kind) {
            (Some(var), None) if matches!(var.from, Source::Primary(_)) => vars.declared.push((k.into(), v.into())),
            (None, Some(w)) if parts.next().is_none() => {
                let words: Vec<&str> = scope.map(|s| s.split(',').collect()).unwrap_or_default();
                let known = words.iter().all(|x| [SESSION_WORD, GLOBAL_WORD, READ_ONLY_WORD].contains(x));
                if let Some((kind, _)) = KIND_WORDS.iter().find(|(_, x)| *x == w).filter(|_| known) {
                    vars.others.push(Other {
                        name: k.into(),
                        value: v.into(),
                        kind: *kind,
                        session_only: words.contains(&SESSION_WORD),
                        global_only: words.contains(&GLOBAL_WORD),
                        read_only: words.contains(&READ_ONLY_WORD),
                    });
                }
            }
            _ => {}
        }
    }
    vars.listings.retain(|l| !l.statement.is_empty() && !l.defs.is_empty());
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_each_name_declared_once() {
        for w in VARS.windows(2) {
            assert!(w[0].name < w[1].name, "{} then {}", w[0].name, w[1].name);
        }
        assert_eq!(find("BINLOG_ROW_METADATA").map(|v| v.name), Some("binlog_row_metadata"));
        assert!(find("nosuch").is_none());
    }

    fn def(name: &str, ty: crate::proto::resultset::ColumnType, charset: u16, len: u32) -> Vec<u8> {
        use crate::proto::resultset::{definition, Fixed};
        let names = ["information_schema", "COLLATIONS", "COLLATIONS", name, name];
        definition(names, Fixed { charset, len, ty, flags: 1, decimals: 0 })
    }

    #[test]
    fn the_kept_file_round_trips_and_skips_what_is_not_the_primarys() {
        use crate::proto::resultset::ColumnType;
        let other = |n: &str, v: &str, kind| Other {
            name: n.into(),
            value: v.into(),
            kind,
            session_only: false,
            global_only: false,
            read_only: false,
        };
        let vars = PrimaryVars {
            declared: vec![
                ("sql_mode".to_string(), "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION".to_string()),
                ("read_only".to_string(), "OFF".to_string()),
            ],
            others: vec![
                other("admin_address", "", Kind::TextOrNull),
                Other { global_only: true, ..other("innodb_buffer_pool_size", "134217728", Kind::Int) },
                Other { global_only: true, read_only: true, ..other("innodb_page_size", "16384", Kind::Int) },
                other("long_query_time", "10.000000", Kind::Double),
                other("max_user_connections", "-1", Kind::SignedInt),
                Other { session_only: true, ..other("pseudo_thread_id", "12", Kind::Int) },
                other("skip_name_resolve", "ON", Kind::Bool),
                other("socket", "/run/mysqld/mysqld.sock", Kind::Text),
            ],
            takes: Default::default(),
            status: Vec::new(),
            listings: vec![Listing {
                statement: "SHOW COLLATION".into(),
                defs: vec![def("Collation", ColumnType::VAR_STRING, 33, 192), def("Id", ColumnType::LONGLONG, 63, 20)],
                rows: vec![
                    vec![Some("utf8mb4_uca1400_ai_ci".into()), None],
                    vec![Some("a\tb\\N\n\\".into()), Some("45".into())],
                    vec![Some("\\N".into()), Some(String::new())],
                ],
            }],
        };
        let mut vars = vars;
        vars.takes.insert(
            "sort_buffer_size".into(),
            Takes { min: Some("1024".into()), max: Some("18446744073709551615".into()), block: None, members: None },
        );
        vars.takes
            .insert("join_buffer_size".into(), Takes { min: Some("128".into()), block: Some(128), ..Takes::default() });
        let members = |set, l: &str| Some(Members { set, names: l.split(',').map(str::to_string).collect() });
        vars.takes.insert(
            "sql_mode".into(),
            Takes { members: members(true, "ANSI_QUOTES,IGNORE_SPACE"), ..Takes::default() },
        );
        vars.takes
            .insert("completion_type".into(), Takes { members: members(false, "NO_CHAIN,CHAIN"), ..Takes::default() });
        vars.status = vec![
            ("Aborted_clients".into(), Counter::Number),
            ("Rpl_semi_sync_source_status".into(), Counter::Switch),
            ("Ssl_cipher".into(), Counter::Text),
        ];
        assert_eq!(decode_file(&encode_file(&vars)), vars);
        assert!(decode_file("@takes\tx\t1\t2\tnotanumber\t\t\n@takes\ty\t\t\t\tflagset\ta\n").takes.is_empty());
        assert!(decode_file("@status\tx\tmaybe\n@status\t\tnumber\n@status\ty\n").status.is_empty());
        // A listing's definition that does not read drops it; a row of another width is left out.
        let text = encode_file(&vars).replace("@row\tutf8mb4_uca1400_ai_ci\t\\N\n", "@row\tshort\n");
        assert_eq!(decode_file(&text).listings[0].rows.len(), 2);
        let text = encode_file(&vars).replacen("@column\t", "@column\tzz", 1);
        assert!(decode_file(&text).listings.is_empty());
        let text = format!("{}@listing\tSHOW ENGINES\n@column\t00\n", encode_file(&vars));
        assert_eq!(decode_file(&text).listings.len(), 1);
        // A file of an older binlogd: declared variables only.
        let old = decode_file("server_id\t7\nnonsense\nbinlog_format\tROW\nsocket\t/tmp/s\n");
        assert_eq!(old.declared, vec![("binlog_format".to_string(), "ROW".to_string())]);
        assert!(old.others.is_empty() && !old.lacks("nosuch"));
        // A declared variable with a kind, an unknown kind: left out.
        let odd = decode_file("binlog_format\tROW\ttext\nx\t1\tquaternion\ny\t2\r9\tuint\nz\t3\tuint\tcosmic\n");
        assert!(odd.declared.is_empty());
        assert_eq!(odd.others, vec![other("y", "2", Kind::Int)]);
        assert!(odd.lacks("nosuch") && !odd.lacks("Y") && !odd.lacks("server_id"));
    }

    #[test]
    fn a_variables_kind_is_its_column_in_the_primarys_answer() {
        use crate::proto::resultset::{flags, ColumnType, Shape};
        let shape = |ty, flags, length| Shape { ty, flags, length, decimals: 0 };
        let b = flags::BINARY;
        assert_eq!(kind_of(&shape(ColumnType::LONGLONG, b, 1), Some("1")), Kind::Bool);
        assert_eq!(kind_of(&shape(ColumnType::LONGLONG, b | flags::UNSIGNED, 21), Some("8")), Kind::Int);
        assert_eq!(kind_of(&shape(ColumnType::LONGLONG, b, 21), Some("-1")), Kind::SignedInt);
        assert_eq!(kind_of(&shape(ColumnType::DOUBLE, b, 23), Some("10.000000")), Kind::Double);
        assert_eq!(kind_of(&shape(ColumnType::VAR_STRING, 0, 87380), None), Kind::TextOrNull);
        assert_eq!(kind_of(&shape(ColumnType::VAR_STRING, 0, 12), Some("ROW")), Kind::Text);
    }

    #[test]
    fn booleans_are_selected_as_numbers() {
        let ro = find("read_only").unwrap();
        assert_eq!(selected(ro.kind, "ON"), "1");
        assert_eq!(selected(find("sql_mode").unwrap().kind, "ON"), "ON");
    }
}
