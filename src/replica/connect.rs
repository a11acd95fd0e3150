//! Connecting to the primary as a replica does: login, read the primary's identity,
//! set the session variables a dump needs, register, and request the dump.
//!
//! The sequence follows a real replica's `get_master_version_and_clock`,
//! `register_slave_on_master` and `request_dump`.

use std::time::Duration;

use log::{info, warn};

use super::ReplicaError;
use crate::binlog::event::ChecksumAlg;
use crate::binlog::gtid::{GtidSet, MariaPos};
use crate::config::{Config, Semisync};
use crate::proto::client::{Client, ConnectOptions};
use crate::proto::command::{self, BinlogDump, BinlogDumpGtid, RegisterSlave};
use crate::proto::resultset::ResultSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Mysql,
    MariaDb,
}

/// What binlogd learns about the primary at connect time.
#[derive(Debug, Clone)]
pub struct Primary {
    pub flavor: Flavor,
    pub version: String,
    /// The version string of its greeting (MariaDB prefixes "5.5.5-").
    pub greeting_version: String,
    pub server_id: u32,
    pub server_uuid: Option<String>,
    pub checksum: ChecksumAlg,
    pub gtid_mode: bool,
    pub semisync: bool,
    /// The primary's variables: those binlogd declares as the primary's
    /// (`sysvars::from_primary`), and all its others.
    pub variables: std::sync::Arc<crate::sysvars::PrimaryVars>,
}

impl Primary {
    /// Which server it is, as `binlogd.primary` records it (`sources::Origin::id`): its
    /// server_uuid, or on MariaDB, which has none, `server_id N`.
    pub fn identity(&self) -> String {
        self.server_uuid.clone().unwrap_or_else(|| format!("server_id {}", self.server_id))
    }
}

/// Where the dump starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    FilePos(String, u64),
    /// A MySQL GTID dump. With a file and position, the primary starts there and
    /// uses the set to skip what binlogd has; without, it picks the first file
    /// holding a transaction outside the set.
    MysqlGtid(GtidSet, Option<(String, u64)>),
    MariaGtid(MariaPos),
}

impl std::fmt::Display for Start {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Start::FilePos(n, p) => write!(f, "file {n} position {p}"),
            Start::MysqlGtid(s, None) => write!(f, "GTID set '{}'", s.to_string().replace('\n', "")),
            Start::MysqlGtid(s, Some((n, p))) => {
                write!(f, "GTID set '{}' at file {n} position {p}", s.to_string().replace('\n', ""))
            }
            Start::MariaGtid(p) => write!(f, "MariaDB GTID position '{p}'"),
        }
    }
}

/// Login options, with the TLS settings in use now.
pub fn options(cfg: &Config, tls: &crate::tls::Live) -> ConnectOptions {
    ConnectOptions {
        host: cfg.master_host.clone(),
        port: cfg.master_port,
        user: cfg.master_user.clone(),
        password: cfg.master_password.clone(),
        connect_timeout: cfg.connect_timeout,
        read_timeout: Some(cfg.net_read_timeout),
        program: "binlogd".into(),
        tls: tls.master(),
        extra_capabilities: 0,
        ext_capabilities: 0,
        compression: cfg
            .master_compression_algorithms
            .iter()
            .map(|a| match a {
                Some(crate::proto::compress::Algorithm::Zstd { .. }) => {
                    Some(crate::proto::compress::Algorithm::Zstd { level: cfg.master_zstd_compression_level })
                }
                other => *other,
            })
            .collect(),
    }
}

fn sql_quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('\'');
    for c in s.chars() {
        match c {
            '\'' => o.push_str("''"),
            '\\' => o.push_str("\\\\"),
            _ => o.push(c),
        }
    }
    o.push('\'');
    o
}

/// Logs in and reads the primary's identity.
pub fn connect(cfg: &Config, tls: &crate::tls::Live) -> Result<(Client, Primary), ReplicaError> {
    let mut c = Client::connect(&options(cfg, tls)).map_err(ReplicaError::connect)?;

    let version = c.server_version().to_string();
    let flavor = if version.contains("MariaDB") { Flavor::MariaDb } else { Flavor::Mysql };
    let rs = c.query("SELECT @@global.server_id").map_err(ReplicaError::setup)?;
    let server_id = rs
        .scalar()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ReplicaError::Protocol("the primary did not report its server_id".into()))?;
    // Every variable of the primary's, in one statement: what binlogd needs to mirror,
    // what it reports to its own clients as the primary's (`sysvars`), and the others,
    // which it reports as the primary gives them.
    let vars = c.query("SHOW GLOBAL VARIABLES").map_err(ReplicaError::setup)?;
    let on = |n: &str| vars.variable(n).is_some_and(|v| v.eq_ignore_ascii_case("ON") || v == "1");
    if vars.variable("log_bin").is_some() && !on("log_bin") {
        return Err(ReplicaError::Fatal("the primary has binary logging disabled (log_bin=OFF)".into()));
    }
    // Every supported server has it (MySQL 5.6.1 and later, MariaDB 5.3 and later):
    // a source without it would have its first event misread.
    let checksum = match vars.variable("binlog_checksum") {
        Some(v) if v.eq_ignore_ascii_case("CRC32") => ChecksumAlg::CRC32,
        Some(v) if v.eq_ignore_ascii_case("NONE") => ChecksumAlg::OFF,
        Some(v) => {
            return Err(ReplicaError::Protocol(format!(
                "the source reports binlog_checksum = '{v}', which binlogd does not know"
            )))
        }
        None => {
            return Err(ReplicaError::Protocol(format!(
                "the source reported no binlog_checksum in SHOW GLOBAL VARIABLES ({} variables came back): \
                 binlogd cannot tell whether its events end with a checksum",
                vars.rows.len()
            )))
        }
    };
    let mut variables = primary_variables(&mut c, flavor, &vars);
    variables.listings.extend(listings(&mut c));
    variables.status = status_names(&mut c);
    let variables = std::sync::Arc::new(variables);
    let primary = Primary {
        flavor,
        version: vars.variable("version").unwrap_or(&version).to_string(),
        greeting_version: version.clone(),
        server_id,
        server_uuid: vars.variable("server_uuid").filter(|u| !u.is_empty()).map(str::to_string),
        checksum,
        gtid_mode: on("gtid_mode"),
        semisync: on("rpl_semi_sync_master_enabled") || on("rpl_semi_sync_source_enabled"),
        variables,
    };
    if primary.server_id == cfg.server_id {
        return Err(ReplicaError::Config(format!(
            "the primary's server_id is {}, the same as binlogd's server_id: set a different server_id in {}",
            primary.server_id,
            cfg.path.display()
        )));
    }
    Ok((c, primary))
}

/// The primary's variables from its `SHOW GLOBAL VARIABLES` (`global`): the values of
/// those `sysvars` declares as the primary's, and all its others, with those of the
/// session only (`SHOW SESSION VARIABLES`, as a new session has them) and the type of
/// each, which `SELECT @@x` tells (a boolean and an enum both show ON in SHOW
/// VARIABLES). Where the primary refuses those reads, the others are left unknown, as
/// before binlogd read them: nothing a dump needs.
fn primary_variables(c: &mut Client, flavor: Flavor, global: &ResultSet) -> crate::sysvars::PrimaryVars {
    use crate::sysvars::{find, Other, PrimaryVars, Source, NOT_MIRRORED, PER_SESSION};
    let mut vars = PrimaryVars::default();
    // (name, value, of the session only)
    let mut others: Vec<(String, String, bool)> = Vec::new();
    // A name a statement can carry quoted in backticks (all of them so far).
    let plain = |k: &str| k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    for r in &global.rows {
        let (Some(Some(k)), Some(v)) = (r.first(), r.get(1)) else { continue };
        let (k, v) = (k.to_ascii_lowercase(), v.clone().unwrap_or_default());
        match find(&k).map(|d| d.from) {
            Some(Source::Primary(_)) => vars.declared.push((k, v)),
            None if plain(&k) && !NOT_MIRRORED.contains(&k.as_str()) => others.push((k, v, false)),
            _ => {}
        }
    }
    // Said once, not at each of the reads that follow (`variables::refresh`).
    static SAID: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
    let unknown = |what: &str, e: crate::proto::Error| {
        let msg = format!("the primary's variables: {what} failed ({e}): binlogd reports only those it declares");
        let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
        if *said != msg {
            warn!("{msg}");
            *said = msg;
        }
    };
    let (meta, kept) = variable_meta(c, flavor);
    vars.listings.extend(kept);
    vars.takes = meta.iter().filter(|(_, m)| !m.takes.is_empty()).map(|(k, m)| (k.clone(), m.takes.clone())).collect();
    match c.query("SHOW SESSION VARIABLES") {
        Ok(session) => {
            // In the order it lists them, which SHOW VARIABLES keeps (MariaDB's is not
            // quite by name): each global one where the session's list has it.
            let mut listed = Vec::with_capacity(others.len() + 32);
            for r in &session.rows {
                let (Some(Some(k)), Some(v)) = (r.first(), r.get(1)) else { continue };
                let k = k.to_ascii_lowercase();
                if let Some(i) = others.iter().position(|o| o.0 == k) {
                    listed.push(others.swap_remove(i));
                } else if find(&k).is_none() && global.variable(&k).is_none() && plain(&k) {
                    let v = if PER_SESSION.contains(&k.as_str()) { None } else { v.clone() };
                    listed.push((k, v.unwrap_or_default(), true));
                }
            }
            listed.append(&mut others);
            others = listed;
        }
        Err(e) => {
            unknown("SHOW SESSION VARIABLES", e);
            return vars;
        }
    }
    // A few hundred columns per statement: mysqld takes up to 4096.
    for chunk in others.chunks(500) {
        let list: Vec<String> = chunk
            .iter()
            .map(|(k, _, session)| format!("@@{}.`{k}`", if *session { "session" } else { "global" }))
            .collect();
        let rs = match c.query(&format!("SELECT {}", list.join(", "))) {
            Ok(rs) => rs,
            Err(e) => {
                unknown(&format!("SELECT of {} of them", chunk.len()), e);
                return PrimaryVars { others: Vec::new(), ..vars };
            }
        };
        let row = rs.rows.first().cloned().unwrap_or_default();
        for (i, (k, v, session_only)) in chunk.iter().enumerate() {
            let Some(shape) = rs.shapes.get(i) else { continue };
            let kind = crate::sysvars::kind_of(shape, row.get(i).and_then(|x| x.as_deref()));
            let (global_only, read_only) = meta.get(k).map_or((false, false), |m| (m.global_only, m.read_only));
            let session_only = *session_only;
            vars.others.push(Other { name: k.clone(), value: v.clone(), kind, session_only, global_only, read_only });
        }
    }
    vars
}

/// The primary's answers to `sysvars::LISTINGS` (its character sets and collations),
/// those it gives: binlogd's clients get them as the primary gives them.
fn listings(c: &mut Client) -> Vec<crate::sysvars::Listing> {
    let mut v = Vec::new();
    for statement in crate::sysvars::LISTINGS {
        if let Ok(rs) = c.query(statement) {
            v.extend(listing(statement, &rs));
        }
    }
    v
}

/// The names of the primary's status counters, in its order, each with what its value
/// is; empty where it does not answer.
fn status_names(c: &mut Client) -> Vec<(String, crate::sysvars::Counter)> {
    let Ok(rs) = c.query("SHOW GLOBAL STATUS") else { return Vec::new() };
    rs.rows
        .iter()
        .filter_map(|r| {
            let name = r.first()?.as_deref()?;
            let value = r.get(1).and_then(|v| v.as_deref()).unwrap_or("");
            Some((name.to_string(), crate::sysvars::Counter::of(value)))
        })
        .collect()
}

/// What the primary says of one of its variables.
#[derive(Debug, Default)]
struct Meta {
    global_only: bool,
    read_only: bool,
    takes: crate::sysvars::Takes,
}

/// What the primary says of its variables, by lower-case name: which are the server's
/// only, which no SET changes, and what values they take. MariaDB's
/// information_schema.SYSTEM_VARIABLES says all of it; MySQL's
/// performance_schema.variables_metadata (8.0.34 and later) the scope and a number's
/// range. Empty where it says nothing (an older server): nothing is refused for it.
fn variable_meta(
    c: &mut Client,
    flavor: Flavor,
) -> (std::collections::HashMap<String, Meta>, Option<crate::sysvars::Listing>) {
    let sql = match flavor {
        Flavor::MariaDb => crate::sysvars::META_MARIADB,
        Flavor::Mysql => crate::sysvars::META_MYSQL,
    };
    let Ok(rs) = c.query(sql) else { return Default::default() };
    let kept = listing(sql, &rs);
    let meta = rs
        .rows
        .iter()
        .filter_map(|r| {
            let at = |i: usize| r.get(i).and_then(|x| x.as_deref()).filter(|x| !x.is_empty());
            let name = at(0)?.to_ascii_lowercase();
            let ty = at(6).unwrap_or("").to_ascii_uppercase();
            // MySQL gives some doubles' bounds as their bits (long_query_time's greatest
            // as 4719230590769954816, 31536000.0): a "Numeric" bound past 2^53 is read so.
            let number = |v: Option<&str>| {
                let v = v.filter(|v| v.parse::<f64>().is_ok())?;
                match v.parse::<u64>() {
                    Ok(bits) if ty == "NUMERIC" && bits > 1 << 53 => {
                        Some(f64::from_bits(bits)).filter(|x| x.is_finite()).map(|x| x.to_string())
                    }
                    _ => Some(v.to_string()),
                }
            };
            // A range of one value (MySQL's timestamp, 0 to 0) says nothing.
            let (min, max) = match (number(at(3)), number(at(4))) {
                (Some(a), Some(b)) if a == b => (None, None),
                range => range,
            };
            let members = at(7).filter(|_| ty == "ENUM" || ty == "SET").map(|list| crate::sysvars::Members {
                set: ty == "SET",
                names: list.split(',').map(str::to_string).collect(),
            });
            let takes = crate::sysvars::Takes {
                min,
                max,
                block: at(5).and_then(|b| b.parse().ok()).filter(|b| *b > 1),
                members,
            };
            Some((
                name,
                Meta {
                    global_only: at(1).is_some_and(|x| x.eq_ignore_ascii_case("GLOBAL")),
                    read_only: at(2).is_some_and(|x| x.eq_ignore_ascii_case("YES")),
                    takes,
                },
            ))
        })
        .collect();
    (meta, kept)
}

/// The primary's answer `rs` to `statement`, kept to be given as it gave it; None when
/// a column definition does not read.
fn listing(statement: &str, rs: &ResultSet) -> Option<crate::sysvars::Listing> {
    // binlogd's connection takes results in utf8mb4: four bytes a character.
    let defs: Option<Vec<Vec<u8>>> = rs.defs.iter().map(|d| crate::proto::resultset::as_own_def(d, 4)).collect();
    let defs = defs.filter(|d| !d.is_empty())?;
    Some(crate::sysvars::Listing { statement: statement.to_string(), defs, rows: rs.rows.clone() })
}

/// Sets the session variables a replica sets before dumping. Returns whether
/// events will carry the semisync header.
pub fn setup(c: &mut Client, cfg: &Config, p: &Primary, replica_uuid: &str) -> Result<bool, ReplicaError> {
    let hb = cfg.heartbeat_period.as_nanos().min(u128::from(u64::MAX)) as u64;
    let stmts = [
        format!("SET @master_heartbeat_period = {hb}, @source_heartbeat_period = {hb}"),
        "SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum"
            .to_string(),
        format!("SET @slave_uuid = {u}, @replica_uuid = {u}", u = sql_quote(replica_uuid)),
    ];
    for s in &stmts {
        c.query(s).map_err(ReplicaError::setup)?;
    }
    if p.flavor == Flavor::MariaDb {
        c.query("SET @mariadb_slave_capability = 4").map_err(ReplicaError::setup)?;
    }
    let semisync = cfg.semisync == Semisync::On && p.semisync;
    if semisync {
        c.query("SET @rpl_semi_sync_slave = 1, @rpl_semi_sync_replica = 1").map_err(ReplicaError::setup)?;
        info!("semi-sync replication enabled: acknowledging transactions after fsync");
    } else if cfg.semisync == Semisync::On {
        warn!("Master server does not support semi-sync, fallback to asynchronous replication");
    }
    let wanted = &cfg.master_compression_algorithms;
    match c.compression {
        Some(a) => info!("the connection to the primary uses the compressed protocol ({})", a.name()),
        None if wanted.iter().any(Option::is_some) && !wanted.contains(&None) => {
            let names: Vec<&str> = wanted.iter().flatten().map(|a| a.name()).collect();
            warn!(
                "the primary offers none of master_compression_algorithms ({}): the connection is not compressed",
                names.join(",")
            );
        }
        None => {}
    }
    Ok(semisync)
}

/// `FLUSH BINARY LOGS` run on the primary `cfg` names, as `master_user`: binlogd's
/// files are the primary's, so a rotation asked of binlogd is the primary's to make
/// (go-mysql's canal sends it to the server it reads, in `WaitUntilPos`). Returns the
/// primary's newest file after it. The primary checks the privilege (RELOAD); its
/// ERR comes back as `ReplicaError::Setup(Server { .. })`.
/// <https://dev.mysql.com/doc/refman/8.4/en/flush.html#flush-binary-logs>
pub fn flush_binary_logs(cfg: &Config, tls: &crate::tls::Live) -> Result<Option<String>, ReplicaError> {
    let (mut c, _) = connect(cfg, tls)?;
    c.query("FLUSH BINARY LOGS").map_err(ReplicaError::setup)?;
    Ok(binary_logs(&mut c)?.pop())
}

/// The primary's binlog files, oldest first (`SHOW BINARY LOGS`).
pub fn binary_logs(c: &mut Client) -> Result<Vec<String>, ReplicaError> {
    let rs = c.query("SHOW BINARY LOGS").map_err(ReplicaError::setup)?;
    Ok(rs.rows.iter().filter_map(|r| r.first().cloned().flatten()).collect())
}

/// The source's GTID state: `gtid_executed` (MySQL), `gtid_binlog_pos` (MariaDB).
/// None when it does not answer (best effort: a real server always does).
pub fn gtid_state(c: &mut Client, flavor: Flavor) -> Option<String> {
    let q = match flavor {
        Flavor::Mysql => "SELECT @@GLOBAL.gtid_executed",
        Flavor::MariaDb => "SELECT @@GLOBAL.gtid_binlog_pos",
    };
    c.query(q).ok().and_then(|r| r.scalar().map(str::to_string))
}

/// The replicas in the primary's `SHOW REPLICAS` / `SHOW SLAVE HOSTS` that use
/// `server_id` but are not this binlogd: a different server_uuid where the primary
/// lists one (MySQL), else a different port or a host not in `hosts` (MariaDB, which
/// lists the replica's address when it reports no host). An entry that matches is
/// taken for binlogd's own earlier connection, which the primary ends when the new
/// one dumps. Each is described as "host:port" with its uuid when known.
pub fn others_with_server_id(rs: &ResultSet, server_id: u32, uuid: &str, hosts: &[&str], port: u16) -> Vec<String> {
    let col = |names: &[&str]| rs.columns.iter().position(|c| names.iter().any(|n| c.eq_ignore_ascii_case(n)));
    let (Some(id_col), host_col, port_col) = (col(&["Server_id"]), col(&["Host"]), col(&["Port"])) else {
        return Vec::new();
    };
    let uuid_col = col(&["Replica_UUID", "Slave_UUID"]);
    let get = |r: &[Option<String>], c: Option<usize>| c.and_then(|c| r.get(c)?.clone()).unwrap_or_default();
    rs.rows
        .iter()
        .filter(|r| get(r, Some(id_col)).parse::<u32>().ok() == Some(server_id))
        .filter_map(|r| {
            let (h, p, u) = (get(r, host_col), get(r, port_col), get(r, uuid_col));
            let other = if u.is_empty() {
                !hosts.contains(&h.as_str()) || p.parse::<u16>().ok() != Some(port)
            } else {
                u != uuid
            };
            other.then(|| if u.is_empty() { format!("{h}:{p}") } else { format!("{h}:{p} (server_uuid {u})") })
        })
        .collect()
}

/// Warns when the primary already lists another replica with binlogd's server_id:
/// the primary ends one replica's dump when another with its server_id (MariaDB)
/// or server_uuid (MySQL) starts one. Best effort: a refused query says nothing.
pub fn warn_if_server_id_taken(c: &mut Client, cfg: &Config, p: &Primary, uuid: &str) {
    let rs = match p.flavor {
        Flavor::Mysql => c.query("SHOW REPLICAS").or_else(|_| c.query("SHOW SLAVE HOSTS")),
        Flavor::MariaDb => c.query("SHOW SLAVE HOSTS"),
    };
    let Ok(rs) = rs else { return };
    let local = c.stream.inner.tcp().local_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    let hosts = [cfg.report_host.as_str(), local.as_str()];
    for o in others_with_server_id(&rs, cfg.server_id, uuid, &hosts, cfg.listen_port.unwrap_or(0)) {
        warn!(
            "the primary lists another replica with binlogd's server_id {}: {o}. Each replica needs a server_id \
             of its own; otherwise the primary ends one's connection whenever the other connects",
            cfg.server_id
        );
    }
}

/// The state a dump thread shows while it ends; normally gone within a moment.
const FINALIZING: &str = "Waiting to finalize termination";

/// The dump threads in a `SHOW PROCESSLIST` that have been ending for at least
/// `min_secs`, as "thread Id (Command, Time s)". Without the PROCESS privilege the
/// list holds only the account's own threads, which is what binlogd's dumps are.
pub fn stuck_dumps(rs: &ResultSet, min_secs: u64) -> Vec<String> {
    let col = |name: &str| rs.columns.iter().position(|c| c.eq_ignore_ascii_case(name));
    let (Some(id), Some(cmd), Some(time), Some(state)) = (col("Id"), col("Command"), col("Time"), col("State")) else {
        return Vec::new();
    };
    let get = |r: &[Option<String>], c: usize| r.get(c).cloned().flatten().unwrap_or_default();
    rs.rows
        .iter()
        .filter(|r| get(r, state) == FINALIZING)
        .filter_map(|r| {
            let secs = get(r, time).parse::<u64>().ok().filter(|t| *t >= min_secs)?;
            Some(format!("thread {} ({}, {secs} s)", get(r, id), get(r, cmd)))
        })
        .collect()
}

/// After a dump request went unanswered: names the primary's dump threads that
/// cannot end, and how to release them. A MariaDB primary with semi-sync can leave
/// a dump whose replica went away right after it started waiting forever for the
/// semi-sync ACK receiver, which missed both its start and its end; the primary then
/// holds back every later dump with that server_id. Stopping the receiver, by
/// turning semi-sync off and on, lets the dump end. Best effort: errors say nothing.
pub fn warn_if_dump_stuck(cfg: &Config, tls: &crate::tls::Live) {
    let Ok((mut c, p)) = connect(cfg, tls) else { return };
    if p.flavor != Flavor::MariaDb {
        return;
    }
    let Ok(rs) = c.query("SHOW PROCESSLIST") else { return };
    let stuck = stuck_dumps(&rs, 5);
    if !stuck.is_empty() {
        warn!(
            "the primary's {} of user '{}' is stuck in '{FINALIZING}'. A MariaDB primary with semi-sync leaves a \
             dump there for good when its replica goes away just after asking for it, and holds back every later \
             dump with that server_id. On the primary, SET GLOBAL rpl_semi_sync_master_enabled = OFF, then ON, \
             releases it",
            stuck.join(", "),
            cfg.master_user
        );
    }
}

/// Registers binlogd so the primary lists it in SHOW SLAVE HOSTS / SHOW REPLICAS.
pub fn register(c: &mut Client, cfg: &Config, p: &Primary) -> Result<(), ReplicaError> {
    let r = RegisterSlave {
        server_id: cfg.server_id,
        host: cfg.report_host.clone(),
        user: String::new(),
        password: String::new(),
        port: cfg.listen_port.unwrap_or(0),
        rank: 0,
        master_id: p.server_id,
    };
    let p = r.encode().map_err(|e| ReplicaError::Config(format!("report_host in {}: {e}", cfg.path.display())))?;
    c.command_ok(&p, "COM_REGISTER_SLAVE").map_err(ReplicaError::setup)
}

/// Sends the dump request for `start`.
pub fn request_dump(c: &mut Client, cfg: &Config, p: &Primary, start: &Start) -> Result<(), ReplicaError> {
    // MariaDB leaves ANNOTATE_ROWS events out unless asked, and offsets would differ.
    let flags = if p.flavor == Flavor::MariaDb { command::BINLOG_SEND_ANNOTATE_ROWS_EVENT } else { 0 };
    let payload = match start {
        Start::FilePos(file, pos) => {
            let pos = u32::try_from(*pos)
                .map_err(|_| ReplicaError::Protocol(format!("position {pos} does not fit COM_BINLOG_DUMP")))?;
            BinlogDump { pos, flags, server_id: cfg.server_id, file: file.clone() }.encode()
        }
        Start::MysqlGtid(set, at) => BinlogDumpGtid {
            flags: command::BINLOG_THROUGH_GTID,
            server_id: cfg.server_id,
            file: at.as_ref().map(|(f, _)| f.clone()).unwrap_or_default(),
            pos: at.as_ref().map_or(4, |(_, p)| *p),
            gtid_data: set.encode(),
        }
        .encode(),
        Start::MariaGtid(pos) => {
            c.query(&format!(
                "SET @slave_connect_state = {}, @slave_gtid_strict_mode = 1, @slave_gtid_ignore_duplicates = 0",
                sql_quote(&pos.to_string())
            ))
            .map_err(ReplicaError::setup)?;
            BinlogDump { pos: 4, flags, server_id: cfg.server_id, file: String::new() }.encode()
        }
    };
    c.stream.write_command(&payload).map_err(ReplicaError::connect)?;
    Ok(())
}

/// The start of a primary's file: its FDE as stored, and the GTID state its first
/// GTID-state event holds (MySQL's Previous_gtids or MariaDB's Gtid_list).
pub struct FileStart {
    pub fde: Option<Vec<u8>>,
    pub gtids: GtidSet,
    pub maria: MariaPos,
}

/// Reads the start of a primary's file with a non-blocking dump of its own, which
/// registers no replica (server_id 0) and asks for no semi-sync.
pub fn probe_file_start(
    cfg: &Config,
    tls: &crate::tls::Live,
    p: &Primary,
    file: &str,
) -> Result<FileStart, ReplicaError> {
    use crate::binlog::event::{EventHeader, EventType};
    use crate::binlog::trx::Tracker;
    let (mut c, _) = connect(cfg, tls)?;
    c.query(
        "SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum",
    )
    .map_err(ReplicaError::setup)?;
    if p.flavor == Flavor::MariaDb {
        c.query("SET @mariadb_slave_capability = 4").map_err(ReplicaError::setup)?;
    }
    let d = BinlogDump { pos: 4, flags: command::BINLOG_DUMP_NON_BLOCK, server_id: 0, file: file.into() };
    c.stream.write_command(&d.encode()).map_err(ReplicaError::connect)?;
    let mut t = Tracker::new(p.checksum);
    let mut fde = None;
    for _ in 0..8 {
        let pk = c.stream.read().map_err(ReplicaError::read)?;
        match pk.first() {
            Some(0x00) => {}
            Some(0xff) => return Err(ReplicaError::read(crate::proto::parse_err(&pk))),
            _ => break,
        }
        let ev = &pk[1..];
        let h = EventHeader::decode_exact(ev).map_err(|e| ReplicaError::Protocol(e.to_string()))?;
        if h.event_type == EventType::FORMAT_DESCRIPTION
            || h.event_type == EventType::PREVIOUS_GTIDS
            || h.event_type == EventType::MARIADB_GTID_LIST
        {
            t.feed(&h, ev).map_err(|e| ReplicaError::Protocol(e.to_string()))?;
            if h.event_type == EventType::FORMAT_DESCRIPTION {
                fde = Some(ev.to_vec());
            } else {
                break;
            }
        }
    }
    Ok(FileStart { fde, gtids: t.gtids, maria: t.maria })
}

/// Waits `d`, waking early when `stop` is set.
pub fn sleep_unless(stop: &std::sync::atomic::AtomicBool, d: Duration) {
    let step = Duration::from_millis(50);
    let mut left = d;
    while !left.is_zero() && !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(columns: &[&str], rows: &[&[&str]]) -> ResultSet {
        ResultSet {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            shapes: Vec::new(),
            defs: Vec::new(),
            rows: rows.iter().map(|r| r.iter().map(|v| Some(v.to_string())).collect()).collect(),
        }
    }

    #[test]
    fn dump_threads_ending_for_long_are_named() {
        let cols = ["Id", "User", "Host", "db", "Command", "Time", "State", "Info", "Progress"];
        let pl = rs(
            &cols,
            &[
                &["7", "repl", "127.0.0.1:4", "NULL", "Killed", "60", FINALIZING, "NULL", "0.000"],
                &["9", "repl", "127.0.0.1:5", "NULL", "Binlog Dump", "2", FINALIZING, "NULL", "0.000"],
                &["11", "repl", "127.0.0.1:6", "NULL", "Binlog Dump", "80", "starting", "NULL", "0.000"],
                &["12", "repl", "127.0.0.1:7", "NULL", "Binlog Dump", "x", FINALIZING, "NULL", "0.000"],
            ],
        );
        assert_eq!(stuck_dumps(&pl, 5), ["thread 7 (Killed, 60 s)"]);
        assert_eq!(stuck_dumps(&pl, 0), ["thread 7 (Killed, 60 s)", "thread 9 (Binlog Dump, 2 s)"]);
        assert!(stuck_dumps(&rs(&["Id"], &[&["1"]]), 0).is_empty());
    }

    #[test]
    fn another_replica_with_binlogds_server_id_is_found_by_uuid_or_else_by_host_and_port() {
        // MySQL's SHOW REPLICAS: the uuid tells binlogd's own earlier connection apart.
        let mysql = rs(
            &["Server_Id", "Host", "Port", "Source_Id", "Replica_UUID"],
            &[&["1001", "", "0", "1", "aaaa"], &["1001", "db2", "3306", "1", "bbbb"], &["7", "", "0", "1", "cccc"]],
        );
        assert_eq!(others_with_server_id(&mysql, 1001, "aaaa", &[""], 0), ["db2:3306 (server_uuid bbbb)"]);
        assert_eq!(others_with_server_id(&mysql, 1001, "bbbb", &[""], 0), [":0 (server_uuid aaaa)"]);
        assert!(others_with_server_id(&mysql, 8, "aaaa", &[""], 0).is_empty());
        // MariaDB's SHOW SLAVE HOSTS has no uuid: host and port must differ.
        // It lists the replica's address when it reported no host.
        let maria = rs(&["Server_id", "Host", "Port", "Master_id"], &[&["1001", "10.0.0.5", "3307", "1"]]);
        assert!(others_with_server_id(&maria, 1001, "aaaa", &["", "10.0.0.5"], 3307).is_empty());
        assert_eq!(others_with_server_id(&maria, 1001, "aaaa", &["", "10.0.0.5"], 3308), ["10.0.0.5:3307"]);
        assert_eq!(others_with_server_id(&maria, 1001, "aaaa", &["binlog1", "10.0.0.6"], 3307), ["10.0.0.5:3307"]);
        // Anything else (no Server_id column, odd values) finds nothing.
        assert!(others_with_server_id(&rs(&["x"], &[&["1001"]]), 1001, "", &[""], 0).is_empty());
        assert!(others_with_server_id(&rs(&["Server_id"], &[&["-1"]]), 1001, "", &[""], 0).is_empty());
    }
}
