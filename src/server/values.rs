//! Values: the system variables binlogd reports (the primary's, kept in `sysvars`,
//! and its own), `SELECT` of them, of literals and of the functions and date
//! arithmetic clients and DBAs use, and binlogd's status counters.

use std::time::{SystemTime, UNIX_EPOCH};

use super::ctx::Ctx;
use super::query::{
    ER_INCORRECT_GLOBAL_LOCAL_VAR, ER_MALFORMED_GTID_SET_SPECIFICATION, ER_NOT_SUPPORTED_YET, ER_QUERY_INTERRUPTED,
    ER_UNKNOWN_SYSTEM_VARIABLE, ER_WRONG_ARGUMENTS, ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT,
};
use super::reply::err_packet;
use super::show::{is_maria, no_schema};
use super::sql::{call_args, named, split_list, unquote, unquoted};
use crate::proto::resultset::{self, flags, Column, ColumnType};
use crate::replica::connect::Primary;
use crate::sysvars::{self, Source, Var};

/// The value binlogd reports for `var` now, as SHOW VARIABLES shows it, or None
/// where the primary's flavour has no such variable.
pub(super) fn variable(s: &Ctx, p: Option<&Primary>, var: &Var) -> Option<String> {
    use crate::replica::connect::Flavor;
    let flavor = p.map(|p| p.flavor);
    let version = p.map_or(0, |p| super::query::version_number(&p.version));
    match (var.only, flavor) {
        (sysvars::Only::Mysql, Some(Flavor::MariaDb)) | (sysvars::Only::MariaDb, Some(Flavor::Mysql)) => return None,
        (sysvars::Only::MariaDbFrom(v) | sysvars::Only::MariaDbOnlyFrom(v), Some(Flavor::MariaDb)) if version < v => {
            return None
        }
        (sysvars::Only::MariaDbOnlyFrom(_), Some(Flavor::Mysql) | None) => return None,
        (sysvars::Only::BothBeforeMysql(v), Some(Flavor::Mysql)) if version >= v => return None,
        _ => {}
    }
    let cfg = s.srv.cfg();
    match var.from {
        Source::Primary(default) => primary_value(p, var.name, default),
        Source::Own => {
            // As SET GLOBAL left it.
            if let Some(d) = crate::settings::dynamic(var.name) {
                return Some(s.srv.settings().shown(d));
            }
            let d = || s.srv.serving().durable.snapshot();
            Some(match var.name {
                "gtid_executed" => d().gtids.to_string(),
                "gtid_purged" => super::dump::purged_gtids(s.srv.serving()).to_string(),
                "gtid_binlog_pos" | "gtid_current_pos" | "gtid_slave_pos" => d().maria.to_string(),
                "gtid_binlog_state" => d().maria.state(),
                // As mysqld: the machine's name. The one binlogd registers with is report_host.
                "hostname" => host_name(),
                "report_host" => cfg.report_host.clone(),
                "port" => cfg.listen_port.unwrap_or(0).to_string(),
                "server_id" => cfg.server_id.to_string(),
                "server_id_bits" => "32".into(),
                "server_uuid" => s.srv.link().uuid.clone(),
                "version_comment" => "binlogd".into(),
                // A session's default.
                "resultset_metadata" => "FULL".into(),
                // A replica's: how long binlogd waits for the primary's next packet.
                "slave_net_timeout" | "replica_net_timeout" => cfg.net_read_timeout.as_secs().to_string(),
                "report_port" => cfg.listen_port.unwrap_or(0).to_string(),
                "sync_binlog" => cfg.sync_binlog.to_string(),
                "bind_address" => cfg.listen_address.clone().unwrap_or_else(|| "*".into()),
                "pid_file" => cfg.pid_file.as_ref().map_or(String::new(), |f| f.display().to_string()),
                // The generated certificate's where the cnf names none (and TLS is on).
                "ssl_cert" | "ssl_key" | "ssl_ca" => {
                    let (named, generated) = match var.name {
                        "ssl_cert" => (&cfg.ssl_cert, Some(crate::tls::auto::CERT_FILE)),
                        "ssl_key" => (&cfg.ssl_key, Some(crate::tls::auto::KEY_FILE)),
                        _ => (&cfg.ssl_ca, None),
                    };
                    match (named, generated) {
                        (Some(f), _) => f.display().to_string(),
                        (None, Some(g)) if cfg.ssl && cfg.ssl_cert.is_none() => {
                            cfg.binlog_dir.join(g).display().to_string()
                        }
                        _ => String::new(),
                    }
                }
                "require_secure_transport" => onoff(cfg.require_secure_transport),
                "have_ssl" => if cfg.ssl { "YES" } else { "DISABLED" }.into(),
                // As SET GLOBAL left it: what the next connection to the primary does.
                "rpl_semi_sync_slave_enabled" | "rpl_semi_sync_replica_enabled" => {
                    onoff(s.srv.source().semisync == crate::config::Semisync::On)
                }
                // Where binlogd keeps what it stores, as mysqld's datadir names its own.
                "datadir" => format!("{}/", cfg.binlog_dir.display()),
                "log_error" => cfg.log_file.as_ref().map_or("stderr".into(), |f| f.display().to_string()),
                // The active file's path without its number, as mysqld's: tools find the
                // files and their index from it. Empty (NULL) before the first file.
                "log_bin_basename" | "log_bin_index" => {
                    let st = d();
                    let Some((f, _)) = st.active.as_ref() else { return Some(String::new()) };
                    let base = cfg.binlog_dir.join(f).display().to_string();
                    let base = base.rsplit_once('.').map_or(base.as_str(), |(b, _)| b).to_string();
                    if var.name == "log_bin_index" {
                        format!("{base}.index")
                    } else {
                        base
                    }
                }
                // binlogd's sessions read and write nothing of their own.
                "transaction_read_only" | "tx_read_only" => "OFF".into(),
                // binlogd is no semi-sync primary: its readers' ACKs are not awaited.
                _ => "OFF".into(),
            })
        }
    }
}

/// A variable whose value is the primary's: as read from it (what it lacks, this
/// server lacks), or before that what the stored files tell, else `default`.
fn primary_value(p: Option<&Primary>, name: &str, default: &str) -> Option<String> {
    if let Some(p) = p.filter(|p| !p.variables.declared.is_empty()) {
        return p.variables.declared(name).map(str::to_string);
    }
    Some(match (name, p) {
        ("version", Some(p)) => p.version.clone(),
        ("binlog_checksum", Some(p)) => {
            if p.checksum == crate::binlog::event::ChecksumAlg::CRC32 { "CRC32" } else { "NONE" }.into()
        }
        ("gtid_mode" | "enforce_gtid_consistency", Some(p)) => if p.gtid_mode { "ON" } else { "OFF" }.into(),
        _ => default.to_string(),
    })
}

/// A variable binlogd reports as the primary's: its value, else the default `sysvars`
/// declares for it ("" for none).
pub(super) fn primary_variable(p: Option<&Primary>, name: &str) -> String {
    let default = match sysvars::find(name).map(|v| v.from) {
        Some(Source::Primary(d)) => d,
        _ => "",
    };
    primary_value(p, name, default).unwrap_or_default()
}

/// What a session's character sets are set from: the primary's kind and settings.
pub(super) fn charset_server(p: Option<&Primary>) -> super::collations::Server {
    let get = |name: &str| primary_variable(p, name);
    super::collations::Server {
        mariadb: p.is_some_and(|p| p.flavor == crate::replica::connect::Flavor::MariaDb),
        collations: get("character_set_collations"),
        collation_server: get("collation_server"),
        collation_database: get("collation_database"),
    }
}

/// A variable whose session value is the session's own, not the server's: its
/// character sets, and the database's while one is in use (information_schema's are
/// utf8mb3). None for the others; Some(None) for NULL.
pub(super) fn session_value(s: &Ctx, name: &str) -> Option<Option<String>> {
    if let Some(v) = s.tracked.own(name) {
        return Some(Some(v.to_string()));
    }
    if let Some(v) = s.charsets.get(name) {
        return Some(v.map(str::to_string));
    }
    if name.eq_ignore_ascii_case("autocommit") {
        return Some(Some(onoff(s.tracked.autocommit)));
    }
    if let Some(tz) = s.tracked.time_zone.as_ref().filter(|_| name.eq_ignore_ascii_case("time_zone")) {
        return Some(Some(tz.clone()));
    }
    // A client that asked for CLIENT_IGNORE_SPACE gets IGNORE_SPACE in its sql_mode.
    if name.eq_ignore_ascii_case("sql_mode") && s.client_caps & crate::proto::caps::IGNORE_SPACE != 0 {
        return Some(Some(with_ignore_space(&primary_variable(s.srv.primary().as_ref(), "sql_mode"))));
    }
    if name.eq_ignore_ascii_case("resultset_metadata") && !is_maria(s) {
        return Some(Some(if s.tracked.no_metadata { "NONE" } else { "FULL" }.into()));
    }
    let schema = s.db.as_deref().is_some_and(|d| d.eq_ignore_ascii_case("information_schema"));
    // MariaDB 11.8's identifiers collate as utf8mb3_general1400_as_ci (10.11's as
    // utf8mb3_general_ci; the versions between are not told apart).
    let collation = if maria_from(s, 110800) { "utf8mb3_general1400_as_ci" } else { "utf8mb3_general_ci" };
    match name.to_ascii_lowercase().as_str() {
        "character_set_database" if schema => Some(Some("utf8mb3".into())),
        "collation_database" if schema => Some(Some(collation.into())),
        _ => None,
    }
}

/// `mode` with IGNORE_SPACE, in its place in the order mysqld lists the modes (by their
/// bits: REAL_AS_FLOAT, PIPES_AS_CONCAT and ANSI_QUOTES come before it, all else after).
fn with_ignore_space(mode: &str) -> String {
    let mut modes: Vec<&str> = mode.split(',').filter(|m| !m.is_empty()).collect();
    if !modes.iter().any(|m| m.eq_ignore_ascii_case("IGNORE_SPACE")) {
        let before = ["REAL_AS_FLOAT", "PIPES_AS_CONCAT", "ANSI_QUOTES"];
        let at = modes.iter().take_while(|m| before.iter().any(|b| b.eq_ignore_ascii_case(m))).count();
        modes.insert(at, "IGNORE_SPACE");
    }
    modes.join(",")
}

/// On a MySQL primary, warns 1287 that `what` is deprecated where `instead` finds it so
/// at the primary's version (and gives the message's end).
pub(super) fn deprecated(s: &Ctx, what: &str, instead: impl Fn(u32) -> Option<String>) {
    let Some(p) = s.srv.primary().filter(|p| p.flavor == crate::replica::connect::Flavor::Mysql) else { return };
    if let Some(end) = instead(super::query::version_number(&p.version)) {
        s.warnings.push(
            "Warning",
            ER_WARN_DEPRECATED_SYNTAX,
            format!("'{what}' is deprecated and will be removed in a future release.{end}"),
        );
    }
}

/// ER_WARN_DEPRECATED_SYNTAX.
const ER_WARN_DEPRECATED_SYNTAX: u16 = 1287;

/// Makes an answer's column definitions this session's (`resultset::for_session`):
/// its result character set, the server kind's decimals, and the metadata's form the
/// client and its `resultset_metadata` ask for.
pub(super) fn for_session(s: &Ctx, answer: &mut Vec<Vec<u8>>) {
    resultset::for_session(answer, form(s));
}

/// How this session takes column definitions (`resultset::Form`).
pub(super) fn form(s: &Ctx) -> resultset::Form {
    use crate::proto::caps;
    let srv = charset_server(s.srv.primary().as_ref());
    resultset::Form {
        results: srv.results(s.charsets),
        mariadb: srv.mariadb,
        extended: s.client_ext_caps & caps::ext::EXTENDED_METADATA != 0,
        optional: (s.client_caps & caps::OPTIONAL_RESULTSET_METADATA != 0).then_some(!s.tracked.no_metadata),
    }
}

/// The type a user variable keeps for a value of type `ty`: an integer is BIGINT, a
/// decimal DECIMAL, a float DOUBLE, anything else (strings, times) a LONGBLOB of text;
/// NULL a LONGBLOB on MariaDB, a MEDIUMBLOB on MySQL.
pub(super) fn user_var_type(ty: ColumnType, null: bool, maria: bool) -> ColumnType {
    match ty {
        _ if null && !maria => ColumnType::MEDIUM_BLOB,
        _ if null => ColumnType::LONG_BLOB,
        ColumnType::LONG | ColumnType::LONGLONG => ColumnType::LONGLONG,
        ColumnType::NEWDECIMAL | ColumnType::DOUBLE => ty,
        _ => ColumnType::LONG_BLOB,
    }
}

/// A boolean variable's value as SHOW VARIABLES shows it.
pub(super) fn onoff(on: bool) -> String {
    if on { "ON" } else { "OFF" }.into()
}

/// The system variables binlogd reports, as (name, value), by name: the session's
/// (its character sets) or the global ones; those `sysvars` declares, and the
/// primary's others as it shows them.
pub(super) fn system_variables(s: &Ctx, global: bool) -> Vec<(String, String)> {
    let p = s.srv.primary();
    let declared = sysvars::VARS.iter().filter(|v| !(global && sysvars::session_only(v.name))).filter_map(|v| {
        let session = session_value(s, v.name).filter(|_| !global).map(Option::unwrap_or_default);
        Some((v.name.to_string(), session.or_else(|| variable(s, p.as_ref(), v))?))
    });
    let others = p.iter().flat_map(|p| p.variables.others.iter());
    let others = others.filter(|o| !(global && o.session_only)).map(|o| {
        let own = s.tracked.own(&o.name).filter(|_| !global).map(str::to_string);
        (o.name.clone(), own.unwrap_or_else(|| other_value(s, o)))
    });
    merge_by_name(declared.collect(), others.collect())
}

/// The value of another of the primary's variables: its own, or for one of the
/// session only that each session has apart (`sysvars::PER_SESSION`), this session's.
fn other_value(s: &Ctx, o: &sysvars::Other) -> String {
    match o.name.as_str() {
        _ if !o.session_only => o.value.clone(),
        "timestamp" => {
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            format!("{}.{:06}", t.as_secs(), t.subsec_micros())
        }
        "pseudo_thread_id" => s.id.to_string(),
        "in_transaction" => u8::from(s.tracked.in_transaction).to_string(),
        // MySQL's: the statements run so far (binlogd's, a count of its own).
        "statement_id" => s.srv.questions().to_string(),
        // Write-only seeds, which MySQL reads as 0 (MariaDB as its session's seeds).
        "rand_seed1" | "rand_seed2" => "0".into(),
        _ => o.value.clone(),
    }
}

/// Two lists of variables, each in order, as one: `b`'s order is kept where it is
/// not by name (the primary's), and each of `a`'s goes before the first of `b`'s after it.
fn merge_by_name(a: Vec<(String, String)>, b: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut a = a.into_iter().peekable();
    for x in b {
        while let Some(y) = a.next_if(|y| y.0 <= x.0) {
            out.push(y);
        }
        out.push(x);
    }
    out.extend(a);
    out
}

/// binlogd's counters, as SHOW [GLOBAL] STATUS rows.
pub(super) fn status_counters(s: &Ctx, global: bool) -> Vec<(String, String)> {
    use std::sync::atomic::Ordering::Relaxed;
    let st = &s.srv.stats();
    let replicas = s.srv.replicas().lock().unwrap_or_else(|e| e.into_inner()).len();
    let u = s.srv.link().upstream().clone();
    // This session's TLS, as mysqld reports it (empty without TLS).
    let tls = s.tls.unwrap_or_default().split_once(' ').unwrap_or(("", ""));
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
        ("Rpl_semi_sync_slave_status", onoff(u.semisync && u.running)),
        ("Rpl_semi_sync_replica_status", onoff(u.semisync && u.running)),
        ("Uptime", s.srv.uptime_secs().to_string()),
        ("Questions", s.srv.questions().to_string()),
        ("Threads_connected", s.srv.threads_connected().to_string()),
        ("Ssl_version", tls.0.to_string()),
        ("Ssl_cipher", tls.1.to_string()),
    ];
    // A replica's semisync status in its plugin's words, as its variables are named:
    // MariaDB's and MySQL's before 8.4 `slave`, MySQL's `replica` (the only one from 8.4).
    let p = s.srv.primary();
    let mysql_version = p
        .as_ref()
        .filter(|p| p.flavor == crate::replica::connect::Flavor::Mysql)
        .map(|p| super::query::version_number(&p.version));
    let named = |k: &str| match k {
        "Rpl_semi_sync_slave_status" => mysql_version.is_none_or(|v| v < 80400),
        "Rpl_semi_sync_replica_status" => mysql_version.is_some(),
        _ => true,
    };
    let mut v: Vec<(String, String)> =
        v.into_iter().filter(|(k, _)| named(k)).map(|(k, v)| (k.to_string(), v)).collect();
    // The compressed protocol, as each kind reports it: MariaDB's `Compression` in
    // both scopes, MySQL's three in the session's only.
    let z = s.compression;
    let at = v.iter().position(|(k, _)| !k.starts_with("Binlogd_")).unwrap_or(v.len());
    let compression = if is_maria(s) {
        vec![("Compression", onoff(z.is_some()))]
    } else if global {
        vec![]
    } else {
        vec![
            ("Compression", onoff(z.is_some())),
            ("Compression_algorithm", z.map(|a| a.name().to_string()).unwrap_or_default()),
            ("Compression_level", z.map_or(0, |a| a.level()).to_string()),
        ]
    };
    v.splice(at..at, compression.into_iter().map(|(k, x)| (k.to_string(), x)));
    // The counters a server of the primary's kind and version lists, in its order, with
    // binlogd's values: its own where it keeps one, else none counted (0, OFF, or empty).
    let names = p.as_ref().map(|p| &p.variables.status).filter(|n| !n.is_empty());
    let Some(names) = names else { return v };
    let running = s.srv.conns().rows().iter().filter(|r| r.command != super::conns::Command::Sleep).count();
    let mirroring = onoff(u.running);
    let derived = [
        ("Threads_running", running.to_string()),
        ("Connections", s.srv.connection_attempts().to_string()),
        ("Max_used_connections", s.srv.max_used_connections().to_string()),
        ("Queries", s.srv.questions().to_string()),
        ("Uptime_since_flush_status", s.srv.uptime_secs().to_string()),
        ("Slave_running", mirroring),
    ];
    let own = |name: &str| {
        v.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, x)| x.clone())
            .or_else(|| derived.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, x)| x.clone()))
    };
    let listed: Vec<(String, String)> =
        names.iter().map(|(name, kind)| (name.clone(), own(name).unwrap_or_else(|| kind.none().to_string()))).collect();
    let mut extra: Vec<(String, String)> =
        v.iter().filter(|(k, _)| !names.iter().any(|(n, _)| n.eq_ignore_ascii_case(k))).cloned().collect();
    extra.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    merge_by_name(extra, listed)
}

/// `@@name` as `SELECT` gives it (None: NULL), with its column type; None for a
/// variable this server has not.
pub(super) fn lookup(s: &Ctx, name: &str) -> Option<Typed> {
    // The diagnostics area's counts, which only a session has (SHOW VARIABLES does
    // not list them).
    let (warnings, errors) = s.warnings.before();
    let int = int_variable;
    if name.eq_ignore_ascii_case("warning_count") {
        return Some((Some(warnings.to_string()), int()));
    }
    if name.eq_ignore_ascii_case("error_count") {
        return Some((Some(errors.to_string()), int()));
    }
    let p = s.srv.primary();
    let (kind, v) = match sysvars::find(name) {
        Some(var) => (var.kind, variable(s, p.as_ref(), var)?),
        // Another of the primary's, as it gives it.
        None => p.as_ref()?.variables.other(name).map(|o| (o.kind, other_value(s, o)))?,
    };
    Some(typed_variable(s, kind, v))
}

/// A variable of kind `kind` whose value SHOW VARIABLES shows as `v`, as `SELECT @@x`
/// gives it.
fn typed_variable(s: &Ctx, kind: sysvars::Kind, v: String) -> Typed {
    use sysvars::Kind;
    let int = int_variable;
    match kind {
        Kind::TextOrNull if v.is_empty() => (None, text_variable(s, "")),
        Kind::Text | Kind::TextOrNull => (Some(v.clone()), text_variable(s, &v)),
        Kind::Int => (Some(v), int()),
        Kind::Bool => (Some(sysvars::selected(kind, &v)), Column::typed("", ColumnType::LONGLONG).width(1)),
        Kind::SignedInt => (Some(v), Column::typed("", ColumnType::LONGLONG)),
        // mysqld's Item_func_get_system_var: 6 decimals, 23 characters on MySQL, 21 on MariaDB.
        Kind::Double => {
            let width = if is_maria(s) { 21 } else { 23 };
            (Some(v), Column::typed("", ColumnType::DOUBLE).width(width).decimals(6))
        }
    }
}

/// The kind of a variable a session may SET a value of its own for: one the primary
/// has, declared or not, but those whose session value binlogd gives itself
/// (`sysvars::PER_SESSION`), of which `timestamp` alone, the session's clock
/// (`clock`), may be set.
pub(super) fn settable(s: &Ctx, name: &str) -> Option<sysvars::Kind> {
    match sysvars::find(name) {
        Some(var) => lookup(s, name).map(|_| var.kind),
        None => {
            let p = s.srv.primary()?;
            let o = p.variables.other(name)?;
            let given = sysvars::PER_SESSION.contains(&o.name.as_str()) && o.name != "timestamp";
            (!given).then_some(o.kind)
        }
    }
}

/// Whether the primary has no variable `name`: one `sysvars` declares that is not the
/// primary's (the other kind's, its version's before it came), or, once the primary's
/// names were read, any other it does not list.
pub(super) fn primary_lacks(s: &Ctx, name: &str) -> bool {
    if sysvars::find(name).is_some() {
        return lookup(s, name).is_none();
    }
    s.srv.primary().is_some_and(|p| p.variables.lacks(name))
}

/// Whether `name` is a server's only, which a session has no value of: binlogd's
/// settings of the server (`settings::DYNAMIC`) and the read-only variables.
pub(super) fn global_only(s: &Ctx, name: &str) -> bool {
    if sysvars::find(name).is_some() {
        return crate::settings::dynamic(name).is_some_and(|d| d.global_only)
            || sysvars::READ_ONLY.iter().any(|n| n.eq_ignore_ascii_case(name));
    }
    s.srv.primary().and_then(|p| p.variables.other(name).map(|o| o.global_only)).unwrap_or(false)
}

/// Whether no SET changes `name`: one binlogd declares so (`sysvars::READ_ONLY`), or
/// one of the primary's that it says is.
pub(super) fn read_only(s: &Ctx, name: &str) -> bool {
    if sysvars::find(name).is_some() {
        return sysvars::READ_ONLY.iter().any(|n| n.eq_ignore_ascii_case(name));
    }
    s.srv.primary().and_then(|p| p.variables.other(name).map(|o| o.read_only)).unwrap_or(false)
}

/// Whether `name` is a variable of the session only, which `@@global.x` and `SET
/// GLOBAL` refuse: one `sysvars` declares so, or one of the primary's.
pub(super) fn session_only(s: &Ctx, name: &str) -> bool {
    if sysvars::find(name).is_some() {
        return sysvars::session_only(name) && lookup(s, name).is_some();
    }
    s.srv.primary().and_then(|p| p.variables.other(name).map(|o| o.session_only)).unwrap_or(false)
}

/// A double as mysqld prints it (`my_gcvt`): its shortest digits, plainly written
/// where its exponent is from -7 to 14 (`7`, `0.000015`), else as `1e20`.
pub(super) fn double_text(v: f64) -> String {
    let e = format!("{v:e}");
    let exp = e.split_once('e').and_then(|(_, x)| x.parse::<i32>().ok()).unwrap_or(0);
    if (-7..15).contains(&exp) {
        format!("{v}")
    } else {
        e
    }
}

/// An integer system variable's column.
fn int_variable() -> Column {
    Column::typed("", ColumnType::LONGLONG).flags(flags::UNSIGNED | flags::BINARY)
}

/// A text system variable's column: MySQL's are as wide as any (21845 characters,
/// 64 KiB of utf8mb3), MariaDB's as its value.
fn text_variable(s: &Ctx, value: &str) -> Column {
    let width = if is_maria(s) { chars(value) } else { 21845 };
    Column::typed("", ColumnType::VAR_STRING).width(width)
}

/// A value's characters, for a column as wide as it.
fn chars(v: &str) -> u32 {
    u32::try_from(v.chars().count()).unwrap_or(u32::MAX)
}

/// The machine's host name, which mysqld reports as `@@hostname`.
fn host_name() -> String {
    let mut b = [0u8; 256];
    // SAFETY: gethostname writes at most `b.len()` bytes into the live local buffer.
    if unsafe { libc::gethostname(b.as_mut_ptr().cast(), b.len()) } != 0 {
        return String::new();
    }
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..n]).into_owned()
}

/// A value with the column a server gives it (its name left to the statement).
pub(super) type Typed = (Option<String>, Column);

/// Evaluates one expression: a literal, `@var`, `@@[global.|session.]var`, date
/// arithmetic (`NOW() - INTERVAL 1 DAY`), a known function, or `=`, `<>`, `!=` of
/// those.
pub(super) fn eval(s: &Ctx, e: &str) -> Result<Typed, Vec<u8>> {
    eval_at(s, e, 0)
}

/// The most `IFNULL`/`COALESCE` (or comparisons) one expression may nest: each is a
/// level of recursion on the connection thread's stack.
const MAX_NULL_DEPTH: usize = 32;

/// The replication functions binlogd evaluates that only MySQL has, and only MariaDB.
const MYSQL_ONLY: &[&str] = &["GTID_SUBTRACT", "GTID_SUBSET", "WAIT_FOR_EXECUTED_GTID_SET", "SOURCE_POS_WAIT"];
const MARIADB_ONLY: &[&str] = &["BINLOG_GTID_POS", "MASTER_GTID_WAIT"];

/// ER_SP_DOES_NOT_EXIST and ER_NO_DB_ERROR: a function this flavour lacks.
const ER_SP_DOES_NOT_EXIST: u16 = 1305;
pub(super) const ER_NO_DB_ERROR: u16 = 1046;

fn eval_at(s: &Ctx, e: &str, level: usize) -> Result<Typed, Vec<u8>> {
    // Whatever nests (a function's arguments are expressions too), no deeper than
    // the connection thread's stack allows. Each form is evaluated in a function of
    // its own, so that a level of nesting costs only its frame.
    if level > MAX_NULL_DEPTH {
        return Err(err_packet(
            ER_NOT_SUPPORTED_YET,
            "42000",
            &format!("binlogd cannot evaluate expressions nested more than {MAX_NULL_DEPTH} deep"),
        ));
    }
    let t = e.trim();
    // `a = b`, `a <> b`, `a != b`: orchestrator asks `@@global.gtid_mode = 'ON'`.
    if let Some((a, b, equal)) = comparison(t) {
        return compare(s, a, b, equal, level);
    }
    if let Some(r) = call(s, t, level) {
        return r;
    }
    value_of(s, t)
}

/// `a = b` (`equal`) or `a <> b`: an integer 0 or 1, NULL where a side is.
#[inline(never)]
fn compare(s: &Ctx, a: &str, b: &str, equal: bool, level: usize) -> Result<Typed, Vec<u8>> {
    if level >= MAX_NULL_DEPTH {
        return Err(err_packet(
            ER_NOT_SUPPORTED_YET,
            "42000",
            &format!("binlogd cannot evaluate comparisons nested more than {MAX_NULL_DEPTH} deep"),
        ));
    }
    let (x, y) = (eval_at(s, a, level + 1)?, eval_at(s, b, level + 1)?);
    let not_null = x.1.flags & y.1.flags & flags::NOT_NULL;
    let v = match (x.0, y.0) {
        (Some(x), Some(y)) => Some(u8::from(same(&x, &y) == equal).to_string()),
        _ => None,
    };
    // An integer result, typed as a literal 0 or 1 is; NULL where a side may be.
    let ty = if is_maria(s) { ColumnType::LONG } else { ColumnType::LONGLONG };
    Ok((v, number_column(ty, 1, flags::BINARY | not_null)))
}

/// A function of arguments binlogd evaluates (the replication functions, IFNULL,
/// COALESCE), or the other flavour's, refused as it refuses them; None for none of those.
#[inline(never)]
fn call(s: &Ctx, t: &str, level: usize) -> Option<Result<Typed, Vec<u8>>> {
    let maria = is_maria(s);
    // The other flavour's replication functions are unknown to this one's server:
    // MariaDB says so; MySQL takes an unknown name for a stored function of the
    // current database, and says none is selected.
    let theirs = if maria { MYSQL_ONLY } else { MARIADB_ONLY };
    if let Some(f) = theirs.iter().find(|f| call_args(t, &format!("{f}(")).is_some()) {
        // With a database in use, both look for a stored function there.
        if let Some(db) = s.db.as_deref() {
            return Some(Err(super::query::no_database(s.user, db)));
        }
        if maria {
            return Some(Err(err_packet(ER_SP_DOES_NOT_EXIST, "42000", &format!("FUNCTION {f} does not exist"))));
        }
        // MySQL 9.7 raises it twice: SHOW WARNINGS lists it twice (the statement's end
        // adds the second).
        let msg = "No database selected";
        s.warnings.error(ER_NO_DB_ERROR, msg.into());
        return Some(Err(err_packet(ER_NO_DB_ERROR, "3D000", msg)));
    }
    // The waits give NULL on bad arguments; GTID_SUBSET never.
    let wait = || number_column(ColumnType::LONGLONG, 21, flags::BINARY);
    if let Some(args) = call_args(t, "GTID_SUBTRACT(") {
        return Some(gtid_subtract(s, args, level).map(|v| (v, Column::typed("", ColumnType::VAR_STRING).width(450))));
    }
    if let Some(args) = call_args(t, "GTID_SUBSET(") {
        // NULL of a NULL argument: NULL-able where an argument is.
        return Some(gtid_subset(s, args, level).map(|(v, not_null)| {
            (v, number_column(ColumnType::LONGLONG, 21, flags::BINARY | if not_null { flags::NOT_NULL } else { 0 }))
        }));
    }
    if let Some(args) = call_args(t, "BINLOG_GTID_POS(").filter(|_| maria) {
        return Some(
            binlog_gtid_pos(s, args, level).map(|v| (v, Column::typed("", ColumnType::LONG_BLOB).width(1 << 24))),
        );
    }
    if let Some(args) = call_args(t, "MASTER_GTID_WAIT(").filter(|_| maria) {
        return Some(
            master_gtid_wait(s, args, level).map(|v| (v, number_column(ColumnType::LONG, 2, NOT_NULL_NUMBER))),
        );
    }
    for f in ["MASTER_POS_WAIT(", "SOURCE_POS_WAIT("] {
        if let Some(args) = call_args(t, f).filter(|_| !maria || f.starts_with('M')) {
            if f.starts_with('M') {
                // The message lacks the variables' final stop.
                deprecated(s, "MASTER_POS_WAIT", |v| {
                    (v >= 80026).then(|| " Please use SOURCE_POS_WAIT instead".into())
                });
            }
            return Some(source_pos_wait(s, args, level, f.trim_end_matches('(')).map(|v| (v, wait())));
        }
    }
    if let Some(args) = call_args(t, "WAIT_FOR_EXECUTED_GTID_SET(").filter(|_| !maria) {
        return Some(wait_for_executed_gtid_set(s, args, level).map(|v| (Some(v), wait())));
    }
    // IFNULL(a, b) and COALESCE(a, ...): orchestrator reads `ifnull(@@global.report_host, '')`.
    for (f, two) in [("IFNULL(", true), ("COALESCE(", false)] {
        let Some(args) = call_args(t, f) else {
            continue;
        };
        let name = f.trim_end_matches('(');
        if level >= MAX_NULL_DEPTH {
            return Some(Err(err_packet(
                ER_NOT_SUPPORTED_YET,
                "42000",
                &format!("binlogd cannot evaluate {name} nested more than {MAX_NULL_DEPTH} deep"),
            )));
        }
        let parts = split_list(args);
        if (two && parts.len() != 2) || parts.is_empty() {
            return Some(Err(wrong_count(name)));
        }
        let values = match parts.iter().map(|a| eval_at(s, a, level + 1)).collect::<Result<Vec<_>, _>>() {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        let col =
            values.iter().map(|v| v.1.clone()).reduce(either).unwrap_or_else(|| Column::typed("", ColumnType::NULL));
        let v = values.into_iter().find_map(|v| v.0);
        return Some(Ok((v, col)));
    }
    None
}

/// A variable, a literal, a function of no arguments, or time arithmetic.
#[inline(never)]
fn value_of(s: &Ctx, t: &str) -> Result<Typed, Vec<u8>> {
    let up = t.to_ascii_uppercase();
    // Text of `width` characters, NULL or not.
    let text = |v: Option<String>, width: u32| Ok((v, Column::typed("", ColumnType::VAR_STRING).width(width)));
    // MariaDB types a small integer (a literal, CONNECTION_ID()) as LONG, MySQL as LONGLONG.
    let maria = is_maria(s);
    let int_type = |v: &str| if maria && v.parse::<i32>().is_ok() { ColumnType::LONG } else { ColumnType::LONGLONG };
    if let Some(v) = t.strip_prefix("@@") {
        let (global, name) = scoped(v);
        // The session's autocommit, a boolean as the server's is.
        if !global && name.eq_ignore_ascii_case("autocommit") {
            let v = if s.tracked.autocommit { "1" } else { "0" };
            return Ok((Some(v.into()), Column::typed("", ColumnType::LONGLONG).width(1)));
        }
        if global && session_only(s, name) {
            let msg = format!("Variable '{}' is a SESSION variable", name.to_ascii_lowercase());
            return Err(err_packet(ER_INCORRECT_GLOBAL_LOCAL_VAR, "HY000", &msg));
        }
        // A server's setting asked for as a session's (`@@session.port`).
        let session =
            ["session.", "local."].iter().any(|p| v.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)));
        if session && global_only(s, name) && lookup(s, name).is_some() {
            let msg = format!("Variable '{}' is a GLOBAL variable", name.to_ascii_lowercase());
            return Err(err_packet(ER_INCORRECT_GLOBAL_LOCAL_VAR, "HY000", &msg));
        }
        // A value the session SET, as its variable is typed.
        if let (Some(v), Some(kind)) = (s.tracked.own(name).filter(|_| !global), settable(s, name)) {
            return Ok(typed_variable(s, kind, v.to_string()));
        }
        // The session's character sets and time zone, unless the global value is asked for.
        if let Some(v) = session_value(s, name).filter(|_| !global) {
            let col = match sysvars::find(name).map(|v| v.kind) {
                Some(sysvars::Kind::Int) => int_variable(),
                _ => text_variable(s, v.as_deref().unwrap_or_default()),
            };
            return Ok((v, col));
        }
        let found = lookup(s, name);
        if found.is_some() {
            deprecated(s, &format!("@@{}", name.to_ascii_lowercase()), |since| {
                sysvars::DEPRECATED_ON_MYSQL
                    .iter()
                    .find(|d| d.0.eq_ignore_ascii_case(name) && since >= d.1)
                    .map(|d| d.2.map(|n| format!(" Please use {n} instead.")).unwrap_or_default())
            });
        }
        return found.ok_or_else(|| unknown(name));
    }
    if let Some(v) = t.strip_prefix('@') {
        return Ok(match s.vars.typed(&v.trim_matches('`').to_ascii_lowercase()) {
            Some((v, ty)) => (v.clone(), user_var_column(*ty, v.is_none(), maria)),
            // Never set: NULL bytes, typed as each server types them.
            None => {
                let (ty, width) =
                    if maria { (ColumnType::LONG_BLOB, 1 << 24) } else { (ColumnType::VAR_STRING, 65532) };
                (None, Column::typed("", ty).width(width).binary())
            }
        });
    }
    // A hex or bit literal, or a string with a binary or UTF-8 introducer (pymysql
    // writes bytes as `_binary'...'`, mysql2 as `X'...'`).
    if let Some((v, form)) = literal(t) {
        let c = Column::text("", chars(&v));
        let bytes = || c.clone().width(u32::try_from(v.len()).unwrap_or(u32::MAX)).binary();
        let c = match form {
            Literal::Text => c.clone(),
            Literal::Bytes => bytes(),
            // A hex or bit literal is also a number: no decimals, flagged UNSIGNED
            // (a bit literal on MariaDB only).
            Literal::Hex | Literal::Bit => {
                let unsigned = if form == Literal::Hex || maria { flags::UNSIGNED } else { 0 };
                bytes().flags(flags::NOT_NULL | flags::BINARY | unsigned).decimals(0)
            }
        };
        return Ok((Some(v), c));
    }
    // `~0`, the greatest 64-bit value (mysqltuner asks it to tell a 64-bit server):
    // the bits of an unsigned integer turned over, a BIGINT UNSIGNED.
    if let Some(n) = t.strip_prefix('~').and_then(|n| n.trim().parse::<u64>().ok()) {
        return Ok((
            Some((!n).to_string()),
            number_column(ColumnType::LONGLONG, 21, NOT_NULL_NUMBER | flags::UNSIGNED),
        ));
    }
    // USER(): 384 characters on MariaDB (a user name and a host name of 255), 288 on
    // MySQL (32 and 255).
    let user_width = if maria { 384 } else { 288 };
    match up.as_str() {
        // BIGINT on both flavours, however small (MariaDB types small literals INT).
        "UNIX_TIMESTAMP()" => Ok((
            Some(clock(s).now.to_string()),
            if maria {
                number_column(ColumnType::LONGLONG, 17, flags::BINARY)
            } else {
                number_column(ColumnType::LONGLONG, 21, NOT_NULL_NUMBER)
            },
        )),
        "VERSION()" => {
            let v = lookup(s, "version").and_then(|v| v.0).unwrap_or_default();
            Ok((Some(v.clone()), Column::text("", chars(&v))))
        }
        "DATABASE()" | "SCHEMA()" => text(s.db.clone(), 64),
        "NULL" => Ok((None, Column::typed("", ColumnType::NULL))),
        // The user and the host the client connected from; CURRENT_USER the account
        // it was let in as (binlogd's accounts are for any host).
        // MariaDB 11.4+ (MDEV-30908) names the account by SESSION_USER(), as CURRENT_USER().
        "SESSION_USER()" if maria_from(s, 110400) => text(Some(format!("{}@%", s.user)), user_width),
        "USER()" | "SESSION_USER()" | "SYSTEM_USER()" => text(Some(format!("{}@{}", s.user, s.host)), user_width),
        "CURRENT_USER()" | "CURRENT_USER" => text(Some(format!("{}@%", s.user)), user_width),
        "CONNECTION_ID()" => {
            let v = s.id.to_string();
            let c = if maria { (ColumnType::LONG, 10) } else { (ColumnType::LONGLONG, 21) };
            Ok((Some(v), number_column(c.0, c.1, NOT_NULL_NUMBER | flags::UNSIGNED)))
        }
        // Canal sets `@slave_uuid = uuid()`. mysqld's are version 1 (time-based); these
        // are version 4, as unique and in the same 36-character form.
        // MariaDB types it CHAR(36), MySQL VARCHAR(36).
        "UUID()" => match crate::replica::new_uuid() {
            Ok(u) => {
                let ty = if maria { ColumnType::STRING } else { ColumnType::VAR_STRING };
                let c = Column::typed("", ty).width(36);
                // MariaDB 11.7+ gives it its UUID type: NOT NULL, flagged UNSIGNED, no decimals.
                let c = if maria_from(s, 110700) { c.flags(flags::NOT_NULL | flags::UNSIGNED).decimals(0) } else { c };
                Ok((Some(u), c))
            }
            Err(e) => Err(err_packet(1105, "HY000", &format!("UUID(): no randomness from the OS: {e}"))),
        },
        _ if t.starts_with('\'') || t.starts_with('"') => {
            let v = unquote(t);
            Ok((Some(v.clone()), Column::text("", chars(&v))))
        }
        // A literal's width: its characters on MariaDB, its digits and a sign on MySQL.
        _ if t.parse::<i64>().is_ok() => {
            let digits = chars(t.trim_start_matches(['-', '+']));
            let width = if maria { chars(t) } else { digits + 1 };
            Ok((Some(t.to_string()), number_column(int_type(t), width, NOT_NULL_NUMBER)))
        }
        // With an exponent: a DOUBLE, as wide as it is written (MySQL's negative one,
        // an expression, 23), its value as mysqld prints a double.
        _ if t.contains(['e', 'E']) && t.parse::<f64>().is_ok() => {
            let v = t.parse::<f64>().unwrap_or(0.0);
            let width = if !maria && t.starts_with('-') { 23 } else { chars(t) };
            let c = number_column(ColumnType::DOUBLE, width, NOT_NULL_NUMBER).decimals(resultset::NOT_FIXED);
            Ok((Some(double_text(v)), c))
        }
        // Past BIGINT's range, BIGINT UNSIGNED's: as wide as its digits.
        _ if t.parse::<u64>().is_ok() && !t.starts_with('+') => {
            let c = number_column(ColumnType::LONGLONG, chars(t), NOT_NULL_NUMBER | flags::UNSIGNED);
            Ok((Some(t.to_string()), c))
        }
        _ if t.parse::<f64>().is_ok() => {
            // DECIMAL: its digits, the point and a sign's room.
            let decimals = t.split_once('.').map_or(0, |(_, f)| chars(f));
            let digits = chars(&t.replace(['-', '+', '.'], ""));
            let c = number_column(ColumnType::NEWDECIMAL, digits + 1 + u32::from(decimals > 0), NOT_NULL_NUMBER)
                .decimals(u8::try_from(decimals).unwrap_or(u8::MAX));
            Ok((Some(t.to_string()), c))
        }
        _ => match datetime(t, clock(s)) {
            // NOW() is never NULL; arithmetic on a time may be.
            Some(Ok(secs)) => {
                // A function alone, with no arithmetic, is never NULL.
                let alone = !up.contains(' ');
                let not_null = if alone { flags::NOT_NULL } else { 0 };
                // MariaDB 11.7+ types NOW() and CURRENT_TIMESTAMP as TIMESTAMP.
                let timestamp = alone && (up.starts_with("NOW(") || up.starts_with("CURRENT_TIMESTAMP"));
                let ty = if timestamp && maria_from(s, 110700) { ColumnType::TIMESTAMP } else { ColumnType::DATETIME };
                let shown = crate::logging::datetime_in(secs, clock(s).zone);
                Ok((Some(shown), number_column(ty, 19, flags::BINARY | not_null)))
            }
            Some(Err(why)) => Err(err_packet(ER_WRONG_ARGUMENTS, "HY000", &why)),
            None => Err(err_packet(ER_NOT_SUPPORTED_YET, "42000", &format!("binlogd cannot evaluate '{t}'"))),
        },
    }
}

/// `[global. | session. | local.]name` after `@@`: whether the global value is asked
/// for, and the name.
fn scoped(v: &str) -> (bool, &str) {
    let global = v.get(..7).is_some_and(|g| g.eq_ignore_ascii_case("global."));
    let name = v.split_once('.').map_or(v, |(scope, n)| {
        let scope = scope.to_ascii_lowercase();
        if matches!(scope.as_str(), "global" | "session" | "local") {
            n
        } else {
            v
        }
    });
    (global, name.trim_matches('`'))
}

/// ER_UNKNOWN_SYSTEM_VARIABLE for the first `@@` reference in `t` this server has not:
/// mysqld finds one as it parses a statement, before it evaluates any of it (so before
/// an unknown function's error, say).
pub(super) fn unknown_variable(s: &Ctx, t: &str) -> Option<Vec<u8>> {
    variables_named(t).into_iter().find_map(|v| {
        let (_, name) = scoped(v.get(2..).unwrap_or_default());
        let known = session_value(s, name).is_some() || lookup(s, name).is_some();
        (!known).then(|| unknown(name))
    })
}

/// ER_UNKNOWN_SYSTEM_VARIABLE.
fn unknown(name: &str) -> Vec<u8> {
    err_packet(ER_UNKNOWN_SYSTEM_VARIABLE, "HY000", &format!("Unknown system variable '{name}'"))
}

/// The `@@name` references in `t` outside quotes.
fn variables_named(t: &str) -> Vec<&str> {
    let b = t.as_bytes();
    // A name may be quoted: `@@global.`x``, as binlogd itself asks a primary.
    let name = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'$' | b'`');
    let starts = unquoted(t)
        .filter(|&(i, c, _)| c == '@' && b.get(i + 1) == Some(&b'@') && (i == 0 || b.get(i - 1) != Some(&b'@')));
    starts
        .map(|(i, _, _)| {
            let len = b.get(i + 2..).map_or(0, |r| r.iter().take_while(|&&c| name(c)).count());
            t.get(i..i + 2 + len).unwrap_or_default()
        })
        .collect()
}

/// Is the primary MariaDB of version `v` (`version_number`) or later?
pub(super) fn maria_from(s: &Ctx, v: u32) -> bool {
    primary_maria_from(s.srv.primary().as_ref(), v)
}

/// The primary `p` is MariaDB of version `v` (`query::version_number`) or later.
pub(super) fn primary_maria_from(p: Option<&Primary>, v: u32) -> bool {
    p.is_some_and(|p| {
        p.flavor == crate::replica::connect::Flavor::MariaDb && super::query::version_number(&p.version) >= v
    })
}

/// A column of type `ty`, `width` wide, with `flags`.
fn number_column(ty: ColumnType, width: u32, flags: u16) -> Column {
    Column::typed("", ty).width(width).flags(flags)
}

/// The value of a hex literal (`X'41'`, `0x41`), a bit literal (`b'1000001'`,
/// `0b1000001`) or a string with an introducer (`_binary'A'`, `_utf8mb4'A'`), and
/// what it is (`Literal`); None for anything else, and for bytes that
/// are not UTF-8 or an introducer of another character set, which binlogd's text
/// values cannot carry (refused as expressions it cannot evaluate).
/// <https://dev.mysql.com/doc/refman/8.4/en/hexadecimal-literals.html>
fn literal(t: &str) -> Option<(String, Literal)> {
    let t = t.trim();
    if let Some(rest) = t.strip_prefix('_') {
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
        let (set, value) = (rest[..end].to_ascii_lowercase(), rest[end..].trim_start());
        // One introducer, as mysqld's grammar takes (and no recursion a client can deepen).
        if value.starts_with('_') {
            return None;
        }
        let v = match literal(value) {
            Some((v, _)) => v,
            None if value.starts_with('\'') || value.starts_with('"') => unquote(value),
            None => return None,
        };
        return match set.as_str() {
            "binary" => Some((v, Literal::Bytes)),
            "utf8mb4" | "utf8mb3" | "utf8" => Some((v, Literal::Text)),
            _ => None,
        };
    }
    let quoted = |prefix: char| {
        let body = t.strip_prefix(prefix).or_else(|| t.strip_prefix(prefix.to_ascii_uppercase()))?;
        body.strip_prefix('\'')?.strip_suffix('\'')
    };
    let (digits, radix, padded) = if let Some(h) = quoted('x') {
        // X'...' takes whole bytes only; 0x... is padded on the left.
        (h, 16, false)
    } else if let Some(h) = t.strip_prefix("0x") {
        (h, 16, true)
    } else if let Some(b) = quoted('b') {
        (b, 2, true)
    } else if let Some(b) = t.strip_prefix("0b") {
        (b, 2, true)
    } else {
        return None;
    };
    let per_byte = if radix == 16 { 2 } else { 8 };
    if !digits.chars().all(|c| c.is_digit(radix)) || (!padded && digits.len() % per_byte != 0) {
        return None;
    }
    if padded && digits.is_empty() {
        return None;
    }
    let pad = (per_byte - digits.len() % per_byte) % per_byte;
    let all: String = "0".repeat(pad) + digits;
    let bytes: Option<Vec<u8>> = (0..all.len())
        .step_by(per_byte)
        .map(|i| all.get(i..i + per_byte).and_then(|d| u8::from_str_radix(d, radix).ok()))
        .collect();
    let form = if radix == 16 { Literal::Hex } else { Literal::Bit };
    String::from_utf8(bytes?).ok().map(|v| (v, form))
}

/// What `literal` read: text, bytes, or a hex or a bit literal's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Literal {
    Text,
    Bytes,
    Hex,
    Bit,
}

/// A number's flags where it is never NULL.
const NOT_NULL_NUMBER: u16 = flags::NOT_NULL | flags::BINARY;

/// The column of IFNULL or COALESCE of two arguments' columns: their type if they
/// agree (a NULL's agrees with any), else text as wide as either; never NULL where
/// either never is.
fn either(a: Column, b: Column) -> Column {
    let not_null = (a.flags | b.flags) & flags::NOT_NULL;
    if a.ty == ColumnType::NULL {
        return b;
    }
    if b.ty == ColumnType::NULL {
        return a;
    }
    let width = a.width.max(b.width);
    let c = if a.ty == b.ty { a } else { Column::typed("", ColumnType::VAR_STRING) };
    Column { width, flags: (c.flags & !flags::NOT_NULL) | not_null, ..c }
}

/// A user variable's column for a value of type `ty` (`user_var_type`): an integer
/// BIGINT, a decimal DECIMAL of 38 (MariaDB) or 30 digits after the point, a double
/// DOUBLE, text a LONGBLOB of the session's character set; NULL bytes.
fn user_var_column(ty: ColumnType, null: bool, maria: bool) -> Column {
    let c = Column::typed("", ty);
    match ty {
        ColumnType::LONGLONG => c.width(if maria { 20 } else { 21 }),
        ColumnType::NEWDECIMAL if maria => c.width(83).decimals(38),
        ColumnType::NEWDECIMAL => c.width(67).decimals(30),
        ColumnType::DOUBLE => c.width(23).decimals(resultset::NOT_FIXED),
        _ if null => c.width(16_777_215).binary(),
        _ => c.width(if maria { 16_777_215 } else { 67_108_860 }),
    }
}

/// The last `=`, `<>` or `!=` of `t` outside quotes and parentheses, not part of
/// `<=`, `>=`, `:=` or `<=>` (the last, as `a = b = c` is `(a = b) = c`): (left
/// side, right side, whether it asks for equality).
fn comparison(t: &str) -> Option<(&str, &str, bool)> {
    let b = t.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let mut found = None;
    for (i, c, depth) in unquoted(t) {
        if depth != 0 {
            continue;
        }
        let before = i.checked_sub(1).and_then(at);
        match (c, at(i + 1)) {
            ('<', Some(b'>')) | ('!', Some(b'=')) => found = Some((i, 2, false)),
            ('=', next) if !matches!(before, Some(b'<' | b'>' | b'!' | b':')) && next != Some(b'>') => {
                found = Some((i, 1, true))
            }
            _ => {}
        }
    }
    let (i, len, equal) = found?;
    Some((t.get(..i)?, t.get(i + len..)?, equal))
}

/// Whether two values compare equal: as numbers when both are, else as text with
/// ASCII case ignored (the general_ci collations of variable values).
fn same(x: &str, y: &str) -> bool {
    // Rust reads "inf" and "NaN" as numbers; MySQL reads them as words.
    let num = |v: &str| v.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    match (num(x), num(y)) {
        (Some(a), Some(b)) => a == b,
        _ => x.eq_ignore_ascii_case(y),
    }
}

pub(super) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// `GTID_SUBTRACT(a, b)`: Debezium asks it of the server it reads, MySQL Shell with
/// `@@GLOBAL.GTID_EXECUTED` as an argument. NULL where either is.
fn gtid_subtract(s: &Ctx, args: &str, level: usize) -> Result<Option<String>, Vec<u8>> {
    let (Some((a, b)), _) = gtid_sets(s, "GTID_SUBTRACT", args, level)? else { return Ok(None) };
    Ok(Some(a.difference(&b).to_string().replace('\n', "")))
}

/// `GTID_SUBSET(a, b)`: 1 when every GTID of `a` is in `b`, else 0; NULL when either
/// is NULL. MySQL Shell and failover tools ask it to compare a server's GTIDs with
/// another's. <https://dev.mysql.com/doc/refman/8.4/en/gtid-functions.html>
/// `GTID_SUBSET(a, b)`, and whether neither argument can be NULL.
fn gtid_subset(s: &Ctx, args: &str, level: usize) -> Result<(Option<String>, bool), Vec<u8>> {
    let (sets, not_null) = gtid_sets(s, "GTID_SUBSET", args, level)?;
    let Some((a, b)) = sets else { return Ok((None, not_null)) };
    Ok((Some(if a.difference(&b).is_empty() { "1" } else { "0" }.to_string()), not_null))
}

/// The two GTID set arguments of `name`, each an expression (None where either is
/// NULL), and whether neither's column can be NULL.
type GtidPair = (Option<(crate::binlog::gtid::GtidSet, crate::binlog::gtid::GtidSet)>, bool);

fn gtid_sets(s: &Ctx, name: &str, args: &str, level: usize) -> Result<GtidPair, Vec<u8>> {
    use crate::binlog::gtid::GtidSet;
    let parts = split_list(args);
    let [a, b] = parts.as_slice() else {
        return Err(wrong_count(name));
    };
    let parse = |x: &str| -> Result<(Option<GtidSet>, bool), Vec<u8>> {
        let (v, col) = eval_at(s, x, level + 1)?;
        let not_null = col.flags & flags::NOT_NULL != 0;
        let Some(v) = v else { return Ok((None, not_null)) };
        GtidSet::parse(&v).map(|g| (Some(g), not_null)).map_err(|e| {
            err_packet(
                ER_MALFORMED_GTID_SET_SPECIFICATION,
                "HY000",
                &format!("Malformed GTID set specification '{v}': {e}"),
            )
        })
    };
    let ((a, x), (b, y)) = (parse(a)?, parse(b)?);
    Ok((a.zip(b), x && y))
}

/// MariaDB's `BINLOG_GTID_POS(file, pos)`: the GTID position to give a replica that
/// would start at that file and position, so that it can be pointed at binlogd by GTID
/// (<https://mariadb.com/kb/en/binlog_gtid_pos/>). NULL, as from the primary, for a
/// file binlogd does not store, a negative position, or one where no event starts.
/// A position string with text after its digits warns 1292, as mysqld's does.
fn binlog_gtid_pos(s: &Ctx, args: &str, level: usize) -> Result<Option<String>, Vec<u8>> {
    let parts = split_list(args);
    let [file, pos] = parts.as_slice() else {
        return Err(wrong_count("BINLOG_GTID_POS"));
    };
    let (Some(file), _) = eval_at(s, file, level + 1)? else { return Ok(None) };
    let (Some(pos), Column { ty, .. }) = eval_at(s, pos, level + 1)? else { return Ok(None) };
    // A number rounds (370.5 is 371); a string is read as an integer from its start.
    let pos: i64 = if ty == ColumnType::NEWDECIMAL {
        pos.parse::<f64>().map_or(0, |f| f.round() as i64)
    } else {
        if ty == ColumnType::VAR_STRING {
            truncated(s, &pos, Numeric::Integer);
        }
        let t = pos.trim_start();
        let sign = usize::from(t.starts_with(['-', '+']));
        let digits = t.get(sign..).map_or(0, |r| r.bytes().take_while(u8::is_ascii_digit).count());
        t.get(..sign + digits).and_then(|n| n.parse().ok()).unwrap_or(0)
    };
    let Ok(pos) = u64::try_from(pos) else { return Ok(None) };
    let st = s.srv.serving().durable.snapshot();
    let Some(path) = crate::binlog::sources::resolve(&st.files, &file) else { return Ok(None) };
    let dir = &s.srv.cfg().binlog_dir;
    let read = || -> std::io::Result<Option<String>> {
        let f = crate::binlog::read::open(dir, path)?;
        let len = st.readable_len(path, &*f);
        let data = f.whole()?;
        let data: &[u8] = &data;
        let data = data.get(..usize::try_from(len).unwrap_or(usize::MAX)).unwrap_or(data);
        crate::binlog::find::maria_pos_at(data, pos)
            .map(|p| p.map(|p| p.to_string()))
            .map_err(|e| std::io::Error::other(format!("at {}: {e}", e.offset())))
    };
    read().map_err(|e| err_packet(1105, "HY000", &format!("BINLOG_GTID_POS: {file}: {e}")))
}

/// Waits until binlogd's durable state satisfies `reached`, or `timeout` passes (None:
/// no limit): whether it did. What binlogd has stored is what it has executed: its
/// @@gtid_executed and @@gtid_slave_pos. KILL QUERY ends the wait with ERROR 1317, as
/// KILL ends the connection.
pub(super) fn wait_stored(
    s: &Ctx,
    timeout: Option<std::time::Duration>,
    reached: impl Fn(&crate::binlog::durable::DurableState) -> bool,
) -> Result<bool, Vec<u8>> {
    use std::time::{Duration, Instant};
    let d = &s.srv.serving().durable;
    let until = timeout.map(|t| Instant::now() + t);
    let mut st = d.snapshot();
    loop {
        if reached(&st) {
            return Ok(true);
        }
        if s.killed.load(std::sync::atomic::Ordering::SeqCst) || s.srv.conns().is_interrupted(s.id) {
            return Err(err_packet(ER_QUERY_INTERRUPTED, "70100", "Query execution was interrupted"));
        }
        // In slices, so that a KILL or KILL QUERY is seen within one.
        let left = until.map_or(Duration::from_secs(1), |u| u.saturating_duration_since(Instant::now()));
        if left.is_zero() {
            return Ok(false);
        }
        st = d.wait_newer(st.generation, left.min(Duration::from_secs(1)));
    }
}

/// `MASTER_POS_WAIT(file, pos [, timeout [, channel]])` and MySQL's `SOURCE_POS_WAIT`:
/// once binlogd has stored the primary's binlog up to `file`:`pos`, how many times
/// its stored end moved while it waited (0 when it was there already; a replica counts
/// the events its applier went through); -1 when `timeout` seconds pass first (none,
/// 0 or a negative one waits without limit). NULL, as from a replica whose applier is
/// stopped or which follows no such file, while STOP SLAVE has stopped mirroring, for
/// a file of another base name or without a number, a negative position, or another
/// channel. <https://mariadb.com/kb/en/master_pos_wait/>,
/// <https://dev.mysql.com/doc/refman/8.4/en/replication-functions-synchronization.html>
fn source_pos_wait(s: &Ctx, args: &str, level: usize, name: &str) -> Result<Option<String>, Vec<u8>> {
    use crate::binlog::store::split_name;
    let parts = split_list(args);
    let (file, pos, timeout, channel) = match parts.as_slice() {
        [f, p] => (f, p, None, None),
        [f, p, t] => (f, p, Some(t), None),
        [f, p, t, c] => (f, p, Some(t), Some(c)),
        _ => return Err(wrong_count(name)),
    };
    if let Some(c) = channel {
        if eval_at(s, c, level + 1)?.0.is_none_or(|c| !c.is_empty()) {
            return Ok(None);
        }
    }
    let (Some(file), _) = eval_at(s, file, level + 1)? else { return Ok(None) };
    let pos = number(s, pos, level, Numeric::Integer)?.unwrap_or(0.0).round();
    // MariaDB takes whole seconds (0.2 is 0: no limit), MySQL fractions.
    let maria = is_maria(s);
    let timeout = match timeout {
        Some(t) => number(s, t, level, Numeric::Double)?
            .map(|t| if maria { t.round() } else { t })
            .and_then(|t| std::time::Duration::try_from_secs_f64(t).ok()),
        None => None,
    }
    .filter(|d| !d.is_zero());
    if pos < 0.0 || s.srv.link().control.is_paused() {
        return Ok(None);
    }
    let Some((base, seq)) = split_name(&file) else { return Ok(None) };
    let st = s.srv.serving().durable.snapshot();
    let at = |st: &crate::binlog::durable::DurableState| {
        st.active
            .as_ref()
            .and_then(|(f, len)| split_name(crate::binlog::sources::plain(f)).map(|(b, n)| (b.to_string(), n, *len)))
    };
    if at(&st).is_none_or(|(b, _, _)| b != base) {
        return Ok(None);
    }
    // How many times the stored end moved before it got there.
    let (first, moves) = (st.generation, std::cell::Cell::new(0u64));
    let reached = wait_stored(s, timeout, |st| {
        moves.set(st.generation.saturating_sub(first));
        at(st).is_some_and(|(_, n, len)| (n, len as f64) >= (seq, pos))
    })?;
    Ok(Some(if reached { moves.get().to_string() } else { "-1".to_string() }))
}

/// A wait function's arguments: what to wait for, and maybe a timeout; ERROR 1582
/// for another count, as mysqld's parser answers.
fn what_and_timeout<'a>(parts: &'a [String], name: &str) -> Result<(&'a str, Option<&'a str>), Vec<u8>> {
    match parts {
        [w] => Ok((w, None)),
        [w, t] => Ok((w, Some(t))),
        _ => Err(wrong_count(name)),
    }
}

/// A numeric argument (a timeout in seconds, a position), as mysqld reads a number or
/// a string's leading number; None for NULL.
fn number(s: &Ctx, e: &str, level: usize, kind: Numeric) -> Result<Option<f64>, Vec<u8>> {
    let (v, Column { ty, .. }) = eval_at(s, e, level + 1)?;
    Ok(v.map(|v| {
        let t = v.trim_start();
        if ty == ColumnType::VAR_STRING {
            truncated(s, &v, kind);
        }
        if let Some(f) = t.trim_end().parse::<f64>().ok().filter(|f| f.is_finite()) {
            return f;
        }
        let end = t
            .char_indices()
            .take_while(|&(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && matches!(c, '-' | '+')))
            .map(|(i, c)| i + c.len_utf8())
            .last()
            .unwrap_or(0);
        t.get(..end).and_then(|n| n.parse().ok()).unwrap_or(0.0)
    }))
}

/// ERROR 1582, as mysqld's parser answers a function called with another number of
/// arguments than it takes.
fn wrong_count(name: &str) -> Vec<u8> {
    err_packet(
        ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT,
        "42000",
        &format!("Incorrect parameter count in the call to native function '{name}'"),
    )
}

/// What a string argument is read as, for the warning its trailing text raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numeric {
    Integer,
    Double,
}

/// mysqld reads a string argument's leading number and warns 1292 when more follows
/// (`'370abc'` as an INTEGER is 370). <https://mariadb.com/kb/en/type-conversion/>
fn truncated(s: &Ctx, v: &str, kind: Numeric) {
    let t = v.trim();
    let whole = match kind {
        Numeric::Integer => t.parse::<i64>().is_ok(),
        Numeric::Double => t.parse::<f64>().is_ok_and(f64::is_finite),
    };
    if !whole {
        let k = if kind == Numeric::Integer { "INTEGER" } else { "DOUBLE" };
        s.warnings.push("Warning", ER_TRUNCATED_WRONG_VALUE, format!("Truncated incorrect {k} value: '{v}'"));
    }
}

/// ER_TRUNCATED_WRONG_VALUE.
const ER_TRUNCATED_WRONG_VALUE: u16 = 1292;

/// MariaDB's `MASTER_GTID_WAIT(pos [, timeout])`: 0 once binlogd has stored, in each
/// domain of `pos`, its sequence number; -1 when `timeout` seconds pass first (a
/// negative one, or none, waits without limit). A failover script asks it before it
/// repoints a replica at binlogd. <https://mariadb.com/kb/en/master_gtid_wait/>
fn master_gtid_wait(s: &Ctx, args: &str, level: usize) -> Result<Option<String>, Vec<u8>> {
    let parts = split_list(args);
    let (pos, timeout) = what_and_timeout(&parts, "MASTER_GTID_WAIT")?;
    let (Some(pos), _) = eval_at(s, pos, level + 1)? else { return Ok(None) };
    let want = crate::binlog::gtid::MariaPos::parse(&pos)
        .map_err(|_| err_packet(ER_CANNOT_PARSE_GTID_LIST, "HY000", "Could not parse GTID list"))?;
    let timeout = match timeout {
        // Too long a timeout for a Duration is none.
        Some(t) => number(s, t, level, Numeric::Double)?.and_then(|t| std::time::Duration::try_from_secs_f64(t).ok()),
        None => None,
    };
    let reached = wait_stored(s, timeout, |st| {
        want.domains.values().all(|g| st.maria.domains.get(&g.domain).is_some_and(|h| h.seq >= g.seq))
    })?;
    Ok(Some(if reached { "0" } else { "-1" }.to_string()))
}

/// MariaDB's error 1941, "Could not parse GTID list".
const ER_CANNOT_PARSE_GTID_LIST: u16 = 1941;

/// MySQL's `WAIT_FOR_EXECUTED_GTID_SET(set [, timeout])`: 0 once binlogd has stored
/// every GTID of `set`, 1 when `timeout` seconds pass first (0, or none, waits without
/// limit). <https://dev.mysql.com/doc/refman/8.4/en/gtid-functions.html>
fn wait_for_executed_gtid_set(s: &Ctx, args: &str, level: usize) -> Result<String, Vec<u8>> {
    use crate::binlog::gtid::GtidSet;
    let parts = split_list(args);
    let (set, timeout) = what_and_timeout(&parts, "WAIT_FOR_EXECUTED_GTID_SET")?;
    let text = eval_at(s, set, level + 1)?.0;
    let malformed = |v: &str| {
        err_packet(ER_MALFORMED_GTID_SET_SPECIFICATION, "HY000", &format!("Malformed GTID set specification '{v}'."))
    };
    let Some(text) = text else { return Err(malformed("NULL")) };
    let want = GtidSet::parse(&text).map_err(|_| malformed(&text))?;
    let timeout = match timeout {
        None => None,
        Some(t) => match number(s, t, level, Numeric::Double)? {
            Some(secs) if secs >= 0.0 => std::time::Duration::try_from_secs_f64(secs).ok().filter(|d| !d.is_zero()),
            _ => {
                return Err(err_packet(
                    ER_WRONG_ARGUMENTS,
                    "HY000",
                    "Incorrect arguments to WAIT_FOR_EXECUTED_GTID_SET.",
                ))
            }
        },
    };
    let reached = wait_stored(s, timeout, |st| want.is_subset(&st.gtids))?;
    Ok(if reached { "0" } else { "1" }.to_string())
}

/// A date and time expression as DBAs type them, in seconds since the epoch (local
/// time, as mysqld's session time zone SYSTEM): `NOW()`, `CURRENT_TIMESTAMP`, a quoted
/// `'YYYY-MM-DD HH:MM:SS'`, `DATE_SUB(x, INTERVAL n unit)`, `DATE_ADD(...)`, and
/// `x - INTERVAL n unit` / `x + INTERVAL n unit`. None when `e` is none of those;
/// Some(Err) when it is one, wrongly written.
/// <https://dev.mysql.com/doc/refman/8.4/en/date-and-time-functions.html#function_date-add>
pub(super) fn datetime(e: &str, c: Clock) -> Option<Result<u64, String>> {
    datetime_at(e, c, 0)
}

/// A session's clock: the time its `SET timestamp` gave it, else the time, and its
/// time zone (`SET time_zone`, else the primary's `time_zone`), in which NOW() is shown
/// and a written time (`PURGE BINARY LOGS BEFORE '...'`) is read, as on mysqld.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Clock {
    pub now: u64,
    pub zone: crate::logging::Zone,
}

pub(super) fn clock(s: &Ctx) -> Clock {
    let now = s.tracked.own("timestamp").and_then(|t| t.parse::<f64>().ok()).filter(|t| *t > 0.0);
    let now = now.map_or_else(now_secs, |t| t as u64);
    let zone = match &s.tracked.time_zone {
        Some(tz) => tz.clone(),
        None => primary_variable(s.srv.primary().as_ref(), "time_zone"),
    };
    Clock { now, zone: crate::logging::Zone::of(&zone) }
}

/// The most date functions and intervals one expression may nest: each is a level of
/// recursion, and a client's statement must not exhaust the connection thread's stack.
const MAX_DATE_DEPTH: usize = 32;

fn datetime_at(e: &str, c: Clock, level: usize) -> Option<Result<u64, String>> {
    if level > MAX_DATE_DEPTH {
        return Some(Err(format!("date arithmetic nested more than {MAX_DATE_DEPTH} deep")));
    }
    let t = e.trim();
    let up = t.to_ascii_uppercase();
    // `x +|- INTERVAL n unit`, the last one first.
    let split = unquoted(t)
        .filter(|&(i, c, d)| d == 0 && matches!(c, '+' | '-') && up[i + 1..].trim_start().starts_with("INTERVAL"))
        .last();
    if let Some((i, _, _)) = split {
        let base = match datetime_at(&t[..i], c, level + 1)? {
            Ok(b) => b,
            Err(e) => return Some(Err(e)),
        };
        let sign = if t[i..].starts_with('-') { -1 } else { 1 };
        return Some(interval(t[i + 1..].trim_start().get(8..).unwrap_or("")).and_then(|(n, unit)| {
            crate::logging::shift_in(base, unit, sign * n, c.zone).ok_or_else(|| format!("'{t}' is out of range"))
        }));
    }
    for f in ["DATE_SUB(", "DATE_ADD(", "SUBDATE(", "ADDDATE("] {
        if let Some(args) = call_args(t, f) {
            let parts = split_list(args);
            let [base, iv] = parts.as_slice() else { return Some(Err(format!("{f}...) takes two arguments"))) };
            let base = match datetime_at(base, c, level + 1)? {
                Ok(b) => b,
                Err(e) => return Some(Err(e)),
            };
            let Some(iv) = iv.get(..8).filter(|k| k.eq_ignore_ascii_case("INTERVAL")).and_then(|_| iv.get(8..)) else {
                return Some(Err(format!("{f}...) takes INTERVAL n unit")));
            };
            let sign = if f.contains("SUB") { -1 } else { 1 };
            return Some(interval(iv).and_then(|(n, unit)| {
                crate::logging::shift_in(base, unit, sign * n, c.zone).ok_or_else(|| format!("'{t}' is out of range"))
            }));
        }
    }
    match up.as_str() {
        // The time the statement runs, which `SET timestamp` does not move.
        "SYSDATE()" => Some(Ok(now_secs())),
        "NOW()"
        | "CURRENT_TIMESTAMP"
        | "CURRENT_TIMESTAMP()"
        | "LOCALTIME"
        | "LOCALTIME()"
        | "LOCALTIMESTAMP"
        | "LOCALTIMESTAMP()" => Some(Ok(c.now)),
        _ if t.starts_with('\'') || t.starts_with('"') => {
            let lit = unquote(t);
            Some(
                crate::logging::parse_in(&lit, c.zone)
                    .and_then(|st| st.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_secs())
                    .ok_or_else(|| format!("Incorrect datetime value: '{lit}'")),
            )
        }
        _ => None,
    }
}

/// `n unit` after INTERVAL.
pub(super) fn interval(t: &str) -> Result<(i64, crate::logging::Unit), String> {
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

pub(super) fn select(s: &mut Ctx, list: &str) -> Vec<Vec<u8>> {
    if let Some(e) = unknown_variable(s, list) {
        return vec![e];
    }
    // Drop LIMIT and FROM DUAL, which the mysql client and replicas add.
    let mut l = list.trim().to_string();
    let up = l.to_ascii_uppercase();
    if up.contains(" FROM ") && !up.contains(" FROM DUAL") {
        return super::tables::select(s, &l).unwrap_or_else(|| vec![no_schema(&format!("SELECT {l}"))]);
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
        let (expr, alias) = named(&item);
        match eval(s, &expr) {
            Ok((v, col)) => {
                cols.push(Column { name: alias, ..col });
                row.push(v);
            }
            Err(e) => return vec![e],
        }
    }
    resultset::encode_typed(&cols, &[row])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_double_is_printed_as_mysqld_prints_it() {
        // As MySQL 9.7 and MariaDB 10.11 print 7e0, 1.5e0, 1e20, 1.5e-5, -2.5E3,
        // 123456789012345678e0 and 0.1e0.
        let printed: Vec<String> = [7.0, 1.5, 1e20, 1.5e-5, -2500.0, 123456789012345678.0, 0.1].map(double_text).into();
        assert_eq!(printed, ["7", "1.5", "1e20", "0.000015", "-2500", "1.2345678901234568e17", "0.1"]);
    }

    #[test]
    fn ignore_space_takes_its_place_among_the_modes() {
        // As MariaDB 10.11 and MySQL 9.7 show them to a CLIENT_IGNORE_SPACE session.
        let maria = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION";
        assert_eq!(with_ignore_space(maria), format!("IGNORE_SPACE,{maria}"));
        assert_eq!(with_ignore_space(""), "IGNORE_SPACE");
        assert_eq!(
            with_ignore_space("PIPES_AS_CONCAT,ANSI_QUOTES,STRICT_ALL_TABLES"),
            "PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,STRICT_ALL_TABLES"
        );
        let ansi = "REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ONLY_FULL_GROUP_BY,ANSI";
        assert_eq!(with_ignore_space(ansi), ansi);
    }

    #[test]
    fn binlogds_variables_go_among_the_primarys_in_its_order() {
        let v = |names: &[&str]| names.iter().map(|n| (n.to_string(), String::new())).collect::<Vec<_>>();
        // MariaDB lists wsrep_OSU_method (shown in lower case) before wsrep_allowlist.
        let primary = v(&["autocommit", "proxy_protocol_networks", "wsrep_osu_method", "wsrep_allowlist", "wsrep_on"]);
        let own = v(&["max_connections", "server_id", "zz"]);
        let names: Vec<String> = merge_by_name(own, primary).into_iter().map(|(n, _)| n).collect();
        let want = [
            "autocommit",
            "max_connections",
            "proxy_protocol_networks",
            "server_id",
            "wsrep_osu_method",
            "wsrep_allowlist",
            "wsrep_on",
            "zz",
        ];
        assert_eq!(names, want);
    }

    #[test]
    fn variables_are_found_outside_quotes() {
        assert_eq!(variables_named("F(@@global.gtid_executed, '@@x', @@y)"), ["@@global.gtid_executed", "@@y"]);
        assert_eq!(variables_named("F(@a, @@)"), ["@@"]);
        assert_eq!(variables_named("@@global.`x_y`, @@`z`"), ["@@global.`x_y`", "@@`z`"]);
        assert!(variables_named("F('a', \"@@b\")").is_empty());
    }

    #[test]
    fn a_comparison_is_found_at_the_top_level_only() {
        assert_eq!(comparison("@@global.gtid_mode = 'ON'"), Some(("@@global.gtid_mode ", " 'ON'", true)));
        assert_eq!(comparison("1 <> 2"), Some(("1 ", " 2", false)));
        assert_eq!(comparison("1 != 2"), Some(("1 ", " 2", false)));
        assert_eq!(comparison("'a=b'"), None);
        assert_eq!(comparison("IFNULL(1 = 1, 0)"), None);
        assert_eq!(comparison("1 <= 2"), None);
        assert_eq!(comparison("1 >= 2"), None);
        assert_eq!(comparison("1 <=> 2"), None);
        assert_eq!(comparison("@a := 2"), None);
        assert_eq!(comparison("="), Some(("", "", true)));
        assert_eq!(comparison("a = b = c"), Some(("a = b ", " c", true)));
        assert_eq!(comparison("a != b"), Some(("a ", " b", false)));
        assert!(same("ON", "on") && same("1", "1.0") && !same("ON", "OFF") && !same("1", "2"));
        assert!(same("NaN", "nan") && !same("inf", "infinity"));
    }

    #[test]
    fn hex_and_bit_literals_and_introducers_read_as_mysqld_reads_them() {
        let read = literal;
        assert_eq!(read("x'4142'"), Some(("AB".into(), Literal::Hex)));
        assert_eq!(read("0x141"), Some(("\u{1}A".into(), Literal::Hex)));
        assert_eq!(read("b'1000001'"), Some(("A".into(), Literal::Bit)));
        assert_eq!(read("0b1"), Some(("\u{1}".into(), Literal::Bit)));
        assert_eq!(read("_binary'A'"), Some(("A".into(), Literal::Bytes)));
        assert_eq!(read("_utf8mb4 x'41'"), Some(("A".into(), Literal::Text)));
        assert_eq!(read("X''"), Some((String::new(), Literal::Hex)));
        // Odd digits between quotes, no digits, not UTF-8, another character set: not read.
        let deep = format!("{}'A'", "_binary ".repeat(100_000));
        for no in ["x'414'", "0x", "0xzz", "x'ff'", "_latin1'A'", "_binary", "b'2'", "'A'", "_'A'", &deep] {
            assert_eq!(read(no), None, "{no}");
        }
    }

    #[test]
    fn deeply_nested_date_arithmetic_is_refused_not_recursed_into() {
        let nest = |n: usize| format!("{}NOW(){}", "DATE_ADD(".repeat(n), ", INTERVAL 1 DAY)".repeat(n));
        assert!(matches!(datetime(&nest(3), Clock::default()), Some(Ok(_))));
        let deep = datetime(&nest(5_000), Clock::default()).unwrap().unwrap_err();
        assert!(deep.contains("nested"), "{deep}");
        let chained = format!("NOW(){}", " - INTERVAL 1 DAY".repeat(5_000));
        assert!(datetime(&chained, Clock::default()).unwrap().unwrap_err().contains("nested"));
    }
}
