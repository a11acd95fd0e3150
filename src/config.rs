//! The cnf file: ini-style `key = value` lines, optionally under a `[binlogd]` section.
//!
//! virtual_slave's cnf is accepted unchanged. Unknown keys, bad values and missing
//! required keys are errors naming the line.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::binlog::gtid::{GtidSet, MariaPos};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub line: Option<usize>,
    pub what: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.path, l, self.what),
            None => write!(f, "{}: {}", self.path, self.what),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Where to start on an empty binlog_dir (virtual_slave's `get_start_gtid_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// 0: from `exclude_gtids`, or the primary's oldest binlog when empty; resume by GTID.
    Gtid = 0,
    /// 1: from the primary's current binlog file; resume by GTID.
    Current = 1,
    /// 2: file+pos, from the primary's first binlog; resume by file+pos.
    FilePos = 2,
}

/// TLS to the primary (`master_ssl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterSsl {
    /// Never.
    Off,
    /// When the primary offers it.
    On,
    /// Always; a primary without TLS is an error.
    Required,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Semisync {
    On,
    Off,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub start_mode: StartMode,
    pub exclude_gtids: String,
    pub server_id: u32,
    pub master_host: String,
    pub master_port: u16,
    pub master_user: String,
    pub master_password: String,
    /// Where the password was read from instead of the cnf.
    pub master_password_file: Option<PathBuf>,
    pub binlog_dir: PathBuf,
    pub heartbeat_period: Duration,
    pub net_read_timeout: Duration,
    pub connect_timeout: Duration,
    pub replica_uuid: Option<String>,
    pub sync_binlog: u32,
    /// Bytes of zeros kept written ahead of the active file's end (0: none).
    pub binlog_preallocate: u64,
    pub semisync: Semisync,
    pub log_file: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub listen_address: Option<String>,
    pub listen_port: Option<u16>,
    pub report_host: String,
    pub retry_max: Duration,
    pub max_connections: usize,
    /// A client connection idle this long (not dumping) is closed.
    pub wait_timeout: Duration,
    /// Accounts besides master_user that may connect to the binlog server.
    pub server_accounts: Vec<crate::proto::auth::Account>,
    pub master_ssl: MasterSsl,
    pub master_ssl_ca: Option<PathBuf>,
    pub master_ssl_cert: Option<PathBuf>,
    pub master_ssl_key: Option<PathBuf>,
    pub master_ssl_verify_server_cert: bool,
    pub ssl_cert: Option<PathBuf>,
    pub ssl_key: Option<PathBuf>,
    pub ssl_ca: Option<PathBuf>,
    pub require_secure_transport: bool,
    /// TLS for clients: on (default) with ssl_cert, or without it a certificate binlogd
    /// generates in binlog_dir at first start (as mysqld's auto_generate_certs); off: none.
    pub ssl: bool,
    /// The account to switch to after start when started as root.
    pub user: Option<String>,
    /// Files last written longer ago than this are purged.
    pub expire: Option<Duration>,
    /// Oldest files are purged while the stored total is over this many bytes.
    pub space_limit: Option<u64>,
    /// Purges by policy or statement keep at least this many files.
    pub min_binlog_files: usize,
    /// Shell command run for each closed file (`%p` path, `%f` name).
    pub archive_command: Option<String>,
    pub metrics_address: Option<String>,
    pub metrics_port: Option<u16>,
    /// Accounts that may run PURGE, STOP/START SLAVE and FLUSH LOGS; None: master_user.
    pub admin_accounts: Option<Vec<String>>,
}

/// `binlog_preallocate` unless the cnf says otherwise (off: every file in binlog_dir
/// is then a whole binlog at every moment, as mysqld's active file is), and the most
/// it may say.
const DEFAULT_PREALLOCATE: u64 = 0;
const MAX_PREALLOCATE: u64 = 64 << 20;

/// Every key the parser knows, with a one-line description (the man page lists them all).
pub const KEYS: &[(&str, &str)] = &[
    (
        "get_start_gtid_mode",
        "0: start from exclude_gtids (or the oldest binlog); 1: from the primary's current file; 2: file+pos",
    ),
    ("exclude_gtids", "GTIDs not to fetch when starting in mode 0 on an empty binlog_dir"),
    ("server_id", "server_id binlogd registers with (required; alias virtual_slave_server_id)"),
    ("virtual_slave_server_id", "same as server_id"),
    ("master_host", "primary's host name or address (required)"),
    ("master_port", "primary's port (default 3306)"),
    ("master_user", "replication user (required)"),
    ("master_password", "replication user's password"),
    ("master_password_file", "file holding the replication password (its first line), instead of master_password"),
    ("binlog_dir", "directory for the mirrored binlog files (required)"),
    ("heartbeat_period", "seconds between primary heartbeats; fractional allowed (default 5)"),
    ("net_read_time_out", "seconds without any packet before reconnecting (default 10)"),
    ("connect_timeout", "seconds to wait for a TCP connect and login (default 10)"),
    ("replica_uuid", "UUID reported as @slave_uuid; default: generated once and kept in binlog_dir"),
    ("sync_binlog", "1: fsync at every transaction end (default); N: every N transactions; 0: leave it to the OS"),
    (
        "binlog_preallocate",
        "bytes of zeros kept fsynced ahead of the active file's end, so each fsync flushes data only (K, M suffixes; default 1M; 0: off)",
    ),
    ("semisync", "on: acknowledge when the primary has semisync enabled (default); off: never"),
    ("log_file", "error log path (default stderr)"),
    ("pid_file", "file to write the process id to"),
    ("listen_address", "address the binlog server listens on"),
    ("listen_port", "port the binlog server listens on"),
    ("report_host", "host name shown in the primary's SHOW SLAVE HOSTS"),
    ("max_connections", "most client connections the binlog server accepts at once (default 64)"),
    ("master_retry_max", "longest wait between reconnect attempts in seconds (default 60)"),
    ("wait_timeout", "seconds a binlog server client may stay idle outside a dump (default 28800)"),
    (
        "server_accounts",
        "more accounts for the binlog server: user:*NATIVE_HASH:SHA2_HASH, comma-separated (binlogd --hash-password)",
    ),
    ("master_ssl", "TLS to the primary: off (default), on (when the primary offers it) or required"),
    ("master_ssl_ca", "PEM file of CAs the primary's certificate must chain to; makes TLS required"),
    ("master_ssl_cert", "PEM client certificate binlogd presents to the primary"),
    ("master_ssl_key", "PEM private key of master_ssl_cert"),
    (
        "master_ssl_verify_server_cert",
        "on: the primary's certificate must also name master_host (default off); makes TLS required",
    ),
    ("ssl_cert", "PEM certificate (chain) of the binlog server; enables TLS for clients"),
    ("ssl_key", "PEM private key of ssl_cert"),
    ("ssl_ca", "PEM file of CAs that client certificates are checked against, when a client presents one"),
    ("require_secure_transport", "on: clients must use TLS (default off)"),
    (
        "ssl",
        "on (default): offer TLS to clients, with ssl_cert or else a certificate generated in binlog_dir; off: no TLS",
    ),
    ("user", "account to switch to after start when started as root (required when run as root)"),
    ("binlog_expire_logs_seconds", "purge files last written longer ago than this many seconds (default 0: never)"),
    ("expire_logs_days", "the same in days, fractional allowed (MariaDB's and MySQL 5.7's spelling)"),
    ("binlog_space_limit", "purge the oldest files while all stored files take more than this (bytes; K, M, G suffixes; 0: no limit)"),
    ("min_binlog_files", "purges always keep at least this many files (default 0; the active file is never purged)"),
    (
        "admin_accounts",
        "accounts allowed PURGE BINARY LOGS, STOP/START SLAVE and FLUSH LOGS, comma-separated (default: master_user)",
    ),
    ("metrics_address", "address the Prometheus metrics endpoint listens on (default 127.0.0.1)"),
    ("metrics_port", "port of the Prometheus metrics endpoint, GET /metrics (default: none)"),
    (
        "archive_command",
        "shell command run once for each closed file (%p its path, %f its name); a file is purged only after it succeeds",
    ),
];

fn canonical(key: &str) -> String {
    let k = key.trim().to_ascii_lowercase().replace('-', "_");
    match k.as_str() {
        "virtual_slave_server_id" => "server_id".into(),
        "net_read_timeout" => "net_read_time_out".into(),
        _ => k,
    }
}

fn seconds(v: &str) -> Result<Duration, String> {
    let f: f64 = v.parse().map_err(|_| format!("'{v}' is not a number of seconds"))?;
    if !f.is_finite() || !(0.0..=4_294_967.0).contains(&f) {
        return Err(format!("'{v}' is out of range"));
    }
    Ok(Duration::from_secs_f64(f))
}

fn boolean(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "on" | "1" | "yes" | "true" => Ok(true),
        "off" | "0" | "no" | "false" => Ok(false),
        _ => Err(format!("'{v}' must be on or off")),
    }
}

/// A byte count with an optional K, M or G suffix (powers of 1024).
fn bytes(v: &str) -> Result<u64, String> {
    let (digits, mult) = match v.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&v[..v.len() - 1], 1u64 << 10),
        Some('M') => (&v[..v.len() - 1], 1 << 20),
        Some('G') => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("'{v}' is not a byte count"))
}

fn number<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("'{v}' is not a valid number here"))
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.display().to_string(),
            line: None,
            what: format!("cannot read: {e}"),
        })?;
        let mut c = Self::parse(&text, path)?;
        if let Some(f) = c.master_password_file.clone() {
            let err = |what: String| ConfigError { path: f.display().to_string(), line: None, what };
            if !c.master_password.is_empty() {
                return Err(err("master_password and master_password_file are both set; keep one".into()));
            }
            let t = std::fs::read_to_string(&f).map_err(|e| err(format!("cannot read master_password_file: {e}")))?;
            c.master_password = t.lines().next().unwrap_or("").to_string();
        }
        Ok(c)
    }

    /// Files holding a secret that others may read: (path, mode).
    pub fn exposed_secrets(&self) -> Vec<(PathBuf, u32)> {
        use std::os::unix::fs::PermissionsExt;
        let mut v = Vec::new();
        let cnf_has_secret =
            !self.master_password.is_empty() && self.master_password_file.is_none() || !self.server_accounts.is_empty();
        let mut check = |p: &Path| {
            if let Ok(m) = std::fs::metadata(p) {
                let mode = m.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    v.push((p.to_path_buf(), mode));
                }
            }
        };
        if cnf_has_secret {
            check(&self.path);
        }
        for f in [&self.master_password_file, &self.master_ssl_key, &self.ssl_key].into_iter().flatten() {
            check(f);
        }
        v
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let p = path.display().to_string();
        let err = |line: Option<usize>, what: String| ConfigError { path: p.clone(), line, what };
        let mut c = Config {
            path: path.to_path_buf(),
            start_mode: StartMode::FilePos,
            exclude_gtids: String::new(),
            server_id: 0,
            master_host: String::new(),
            master_port: 3306,
            master_user: String::new(),
            master_password: String::new(),
            master_password_file: None,
            binlog_dir: PathBuf::new(),
            heartbeat_period: Duration::from_secs(5),
            net_read_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            replica_uuid: None,
            sync_binlog: 1,
            binlog_preallocate: DEFAULT_PREALLOCATE,
            semisync: Semisync::On,
            log_file: None,
            pid_file: None,
            listen_address: None,
            listen_port: None,
            report_host: String::new(),
            retry_max: Duration::from_secs(60),
            max_connections: 64,
            server_accounts: Vec::new(),
            wait_timeout: Duration::from_secs(28800),
            master_ssl: MasterSsl::Off,
            master_ssl_ca: None,
            master_ssl_cert: None,
            master_ssl_key: None,
            master_ssl_verify_server_cert: false,
            ssl_cert: None,
            ssl_key: None,
            ssl_ca: None,
            require_secure_transport: false,
            ssl: true,
            user: None,
            expire: None,
            space_limit: None,
            min_binlog_files: 0,
            archive_command: None,
            metrics_address: None,
            metrics_port: None,
            admin_accounts: None,
        };
        let path_of = |v: &str| (!v.is_empty()).then(|| PathBuf::from(v));
        let mut seen: Vec<String> = Vec::new();
        let mut section_ok = true;
        for (i, raw) in text.lines().enumerate() {
            let n = Some(i + 1);
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(s) = line.strip_prefix('[') {
                let name = s.strip_suffix(']').ok_or_else(|| err(n, format!("bad section header '{line}'")))?;
                // Keys under other sections ([mysqld], [client]) belong to other programs.
                section_ok = name.trim().eq_ignore_ascii_case("binlogd");
                continue;
            }
            if !section_ok {
                continue;
            }
            let (k, v) = line.split_once('=').ok_or_else(|| err(n, format!("expected key = value, got '{line}'")))?;
            let key = canonical(k);
            let mut v = v.trim();
            if v.len() >= 2 && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
            {
                v = &v[1..v.len() - 1];
            }
            if seen.contains(&key) {
                return Err(err(n, format!("'{key}' is set twice")));
            }
            let bad = |e: String| err(n, format!("{key}: {e}"));
            match key.as_str() {
                "get_start_gtid_mode" => {
                    c.start_mode = match v {
                        "0" => StartMode::Gtid,
                        "1" => StartMode::Current,
                        "2" => StartMode::FilePos,
                        _ => return Err(bad(format!("'{v}' must be 0, 1 or 2"))),
                    }
                }
                "exclude_gtids" => {
                    if !v.is_empty() && GtidSet::parse(v).is_err() && MariaPos::parse(v).is_err() {
                        return Err(bad(format!("'{v}' is neither a MySQL GTID set nor a MariaDB GTID list")));
                    }
                    c.exclude_gtids = v.to_string();
                }
                "server_id" => {
                    c.server_id = number(v).map_err(bad)?;
                    if c.server_id == 0 {
                        return Err(bad("must be between 1 and 4294967295".into()));
                    }
                }
                "master_host" => c.master_host = v.to_string(),
                "master_port" => {
                    c.master_port = number(v).map_err(bad)?;
                    if c.master_port == 0 {
                        return Err(bad("must be between 1 and 65535".into()));
                    }
                }
                "master_user" => c.master_user = v.to_string(),
                "master_password" => c.master_password = v.to_string(),
                "master_password_file" => c.master_password_file = (!v.is_empty()).then(|| PathBuf::from(v)),
                "binlog_dir" => c.binlog_dir = PathBuf::from(v),
                "heartbeat_period" => c.heartbeat_period = seconds(v).map_err(bad)?,
                "net_read_time_out" => {
                    c.net_read_timeout = seconds(v).map_err(bad)?;
                    if c.net_read_timeout.is_zero() {
                        return Err(bad("must be more than 0".into()));
                    }
                }
                "connect_timeout" => c.connect_timeout = seconds(v).map_err(bad)?.max(Duration::from_millis(100)),
                "master_retry_max" => c.retry_max = seconds(v).map_err(bad)?.max(Duration::from_millis(100)),
                "replica_uuid" => {
                    if !v.is_empty() {
                        crate::binlog::gtid::parse_uuid(v).map_err(|e| bad(e.to_string()))?;
                        c.replica_uuid = Some(v.to_ascii_lowercase());
                    }
                }
                "sync_binlog" => c.sync_binlog = number(v).map_err(bad)?,
                "binlog_preallocate" => {
                    let n = bytes(v).map_err(bad)?;
                    if n > MAX_PREALLOCATE {
                        return Err(bad(format!("'{v}' is more than the largest, 64M")));
                    }
                    c.binlog_preallocate = n;
                }
                "semisync" => c.semisync = if boolean(v).map_err(bad)? { Semisync::On } else { Semisync::Off },
                "log_file" => c.log_file = (!v.is_empty()).then(|| PathBuf::from(v)),
                "pid_file" => c.pid_file = (!v.is_empty()).then(|| PathBuf::from(v)),
                "listen_address" => c.listen_address = (!v.is_empty()).then(|| v.to_string()),
                "listen_port" => c.listen_port = Some(number(v).map_err(bad)?),
                "report_host" => c.report_host = v.to_string(),
                "max_connections" => {
                    c.max_connections = number(v).map_err(bad)?;
                    if c.max_connections == 0 {
                        return Err(bad("must be at least 1".into()));
                    }
                }
                "wait_timeout" => {
                    c.wait_timeout = seconds(v).map_err(bad)?;
                    if c.wait_timeout.is_zero() {
                        return Err(bad("must be more than 0".into()));
                    }
                }
                "server_accounts" => {
                    c.server_accounts = v
                        .split(',')
                        .filter(|x| !x.trim().is_empty())
                        .map(crate::proto::auth::Account::parse)
                        .collect::<Result<_, _>>()
                        .map_err(bad)?;
                }
                "master_ssl" => {
                    c.master_ssl = match v.to_ascii_lowercase().as_str() {
                        "off" | "0" | "no" | "false" => MasterSsl::Off,
                        "on" | "1" | "yes" | "true" => MasterSsl::On,
                        "required" => MasterSsl::Required,
                        _ => return Err(bad(format!("'{v}' must be off, on or required"))),
                    }
                }
                "master_ssl_ca" => c.master_ssl_ca = path_of(v),
                "master_ssl_cert" => c.master_ssl_cert = path_of(v),
                "master_ssl_key" => c.master_ssl_key = path_of(v),
                "master_ssl_verify_server_cert" => c.master_ssl_verify_server_cert = boolean(v).map_err(bad)?,
                "ssl_cert" => c.ssl_cert = path_of(v),
                "ssl_key" => c.ssl_key = path_of(v),
                "ssl_ca" => c.ssl_ca = path_of(v),
                "require_secure_transport" => c.require_secure_transport = boolean(v).map_err(bad)?,
                "ssl" => c.ssl = boolean(v).map_err(bad)?,
                "user" => c.user = (!v.is_empty()).then(|| v.to_string()),
                "binlog_expire_logs_seconds" | "expire_logs_days" => {
                    let other =
                        if key == "expire_logs_days" { "binlog_expire_logs_seconds" } else { "expire_logs_days" };
                    if seen.iter().any(|k| k == other) {
                        return Err(bad(format!("{other} is set too; keep one")));
                    }
                    let secs = if key == "expire_logs_days" {
                        v.parse::<f64>().ok().filter(|d| d.is_finite() && *d >= 0.0 && *d <= 99.0).map(|d| d * 86400.0)
                    } else {
                        v.parse::<u64>().ok().filter(|s| *s <= 4_294_967_295).map(|s| s as f64)
                    };
                    let secs = secs.ok_or_else(|| bad(format!("'{v}' is not a valid age")))?;
                    c.expire = (secs > 0.0).then(|| Duration::from_secs_f64(secs));
                }
                "binlog_space_limit" => {
                    let n = bytes(v).map_err(bad)?;
                    c.space_limit = (n > 0).then_some(n);
                }
                "min_binlog_files" => c.min_binlog_files = number(v).map_err(bad)?,
                "archive_command" => c.archive_command = (!v.is_empty()).then(|| v.to_string()),
                "metrics_address" => c.metrics_address = (!v.is_empty()).then(|| v.to_string()),
                "metrics_port" => c.metrics_port = Some(number(v).map_err(bad)?),
                "admin_accounts" => {
                    c.admin_accounts =
                        Some(v.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect())
                }
                _ => return Err(err(n, format!("unknown key '{}'", k.trim()))),
            }
            seen.push(key);
        }
        for (key, ok) in [
            ("server_id", c.server_id != 0),
            ("master_host", !c.master_host.is_empty()),
            ("master_user", !c.master_user.is_empty()),
            ("binlog_dir", !c.binlog_dir.as_os_str().is_empty()),
        ] {
            if !ok {
                return Err(err(None, format!("required key '{key}' is missing")));
            }
        }
        let tls_conflict = if c.master_ssl == MasterSsl::Off {
            [
                ("master_ssl_ca", c.master_ssl_ca.is_some()),
                ("master_ssl_cert", c.master_ssl_cert.is_some()),
                ("master_ssl_key", c.master_ssl_key.is_some()),
                ("master_ssl_verify_server_cert", c.master_ssl_verify_server_cert),
            ]
            .into_iter()
            .find(|(_, set)| *set)
            .map(|(k, _)| format!("{k} is set but master_ssl is off: set master_ssl = on or required"))
        } else {
            None
        };
        let pairs = [
            ("master_ssl_cert", c.master_ssl_cert.is_some(), "master_ssl_key", c.master_ssl_key.is_some()),
            ("master_ssl_key", c.master_ssl_key.is_some(), "master_ssl_cert", c.master_ssl_cert.is_some()),
            ("ssl_cert", c.ssl_cert.is_some(), "ssl_key", c.ssl_key.is_some()),
            ("ssl_key", c.ssl_key.is_some(), "ssl_cert", c.ssl_cert.is_some()),
            ("ssl_ca", c.ssl_ca.is_some(), "ssl = on", c.ssl),
            ("require_secure_transport", c.require_secure_transport, "ssl = on", c.ssl),
            ("ssl_cert", c.ssl_cert.is_some(), "ssl = on", c.ssl),
        ];
        let missing = pairs.iter().find(|(_, a, _, b)| *a && !*b).map(|(a, _, b, _)| format!("{a} needs {b}"));
        if let Some(what) = tls_conflict.or(missing) {
            return Err(err(None, what));
        }
        if c.heartbeat_period >= c.net_read_timeout && !c.heartbeat_period.is_zero() {
            log::warn!(
                "heartbeat_period ({:?}) is not below net_read_time_out ({:?}): idle periods will cause reconnects",
                c.heartbeat_period,
                c.net_read_timeout
            );
        }
        Ok(c)
    }

    /// The effective config as cnf lines, password masked.
    pub fn render(&self) -> String {
        let opt = |p: &Option<PathBuf>| p.as_ref().map(|x| x.display().to_string()).unwrap_or_default();
        let onoff = |b: bool| if b { "on" } else { "off" }.to_string();
        let lines = [
            ("get_start_gtid_mode", (self.start_mode as u8).to_string()),
            ("exclude_gtids", self.exclude_gtids.clone()),
            ("server_id", self.server_id.to_string()),
            ("master_host", self.master_host.clone()),
            ("master_port", self.master_port.to_string()),
            ("master_user", self.master_user.clone()),
            ("master_password", if self.master_password.is_empty() { String::new() } else { "********".into() }),
            (
                "master_password_file",
                self.master_password_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            ),
            ("binlog_dir", self.binlog_dir.display().to_string()),
            ("heartbeat_period", self.heartbeat_period.as_secs_f64().to_string()),
            ("net_read_time_out", self.net_read_timeout.as_secs_f64().to_string()),
            ("connect_timeout", self.connect_timeout.as_secs_f64().to_string()),
            ("master_retry_max", self.retry_max.as_secs_f64().to_string()),
            ("replica_uuid", self.replica_uuid.clone().unwrap_or_default()),
            ("sync_binlog", self.sync_binlog.to_string()),
            ("binlog_preallocate", self.binlog_preallocate.to_string()),
            ("semisync", if self.semisync == Semisync::On { "on" } else { "off" }.into()),
            ("log_file", opt(&self.log_file)),
            ("pid_file", opt(&self.pid_file)),
            ("listen_address", self.listen_address.clone().unwrap_or_default()),
            ("listen_port", self.listen_port.map(|p| p.to_string()).unwrap_or_default()),
            ("report_host", self.report_host.clone()),
            ("max_connections", self.max_connections.to_string()),
            ("wait_timeout", self.wait_timeout.as_secs_f64().to_string()),
            ("server_accounts", self.server_accounts.iter().map(|a| a.render()).collect::<Vec<_>>().join(",")),
            (
                "master_ssl",
                match self.master_ssl {
                    MasterSsl::Off => "off",
                    MasterSsl::On => "on",
                    MasterSsl::Required => "required",
                }
                .into(),
            ),
            ("master_ssl_ca", opt(&self.master_ssl_ca)),
            ("master_ssl_cert", opt(&self.master_ssl_cert)),
            ("master_ssl_key", opt(&self.master_ssl_key)),
            ("master_ssl_verify_server_cert", onoff(self.master_ssl_verify_server_cert)),
            ("ssl_cert", opt(&self.ssl_cert)),
            ("ssl_key", opt(&self.ssl_key)),
            ("ssl_ca", opt(&self.ssl_ca)),
            ("require_secure_transport", onoff(self.require_secure_transport)),
            ("ssl", onoff(self.ssl)),
            ("user", self.user.clone().unwrap_or_default()),
            ("binlog_expire_logs_seconds", self.expire.map_or(0, |d| d.as_secs()).to_string()),
            ("binlog_space_limit", self.space_limit.unwrap_or(0).to_string()),
            ("min_binlog_files", self.min_binlog_files.to_string()),
            ("archive_command", self.archive_command.clone().unwrap_or_default()),
            ("metrics_address", self.metrics_address.clone().unwrap_or_default()),
            ("metrics_port", self.metrics_port.map(|p| p.to_string()).unwrap_or_default()),
            ("admin_accounts", self.admin_accounts.as_ref().map(|v| v.join(",")).unwrap_or_default()),
        ];
        let mut s = String::from("[binlogd]\n");
        for (k, v) in lines {
            s.push_str(&format!("{k} = {v}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIRTUAL_SLAVE_CNF: &str = "#virtual_slave同步binlog模式，0/1 GTID; 2 binlog file+pos.
#0:decide by exclude_gtids(clean binlog_dir);
get_start_gtid_mode=2

# 指定不需要同步的GTID
exclude_gtids=
virtual_slave_server_id=123456
master_host=10.211.55.32
master_port=13307
master_user=ashe
master_password=ashe

#binlog的目录
binlog_dir=/data/binlog_backup

#心跳间隔
heartbeat_period = 5

#网络超时时间
net_read_time_out = 10
";

    #[test]
    fn accepts_virtual_slave_cnf_unchanged() {
        let c = Config::parse(VIRTUAL_SLAVE_CNF, Path::new("vs.cnf")).unwrap();
        assert_eq!(c.server_id, 123456);
        assert_eq!(c.master_port, 13307);
        assert_eq!(c.start_mode, StartMode::FilePos);
        assert_eq!(c.heartbeat_period, Duration::from_secs(5));
        assert_eq!(c.net_read_timeout, Duration::from_secs(10));
        assert_eq!(c.binlog_dir, PathBuf::from("/data/binlog_backup"));
    }

    #[test]
    fn section_and_fractional_heartbeat() {
        let t = "[mysqld]\nserver_id=1\n[binlogd]\nserver_id=7\nmaster_host=h\nmaster_user=u\nbinlog_dir=/d\nheartbeat_period=0.5\n";
        let c = Config::parse(t, Path::new("x")).unwrap();
        assert_eq!(c.server_id, 7);
        assert_eq!(c.heartbeat_period, Duration::from_millis(500));
    }

    #[test]
    fn unknown_key_and_bad_value_name_the_line() {
        let e = Config::parse("server_id=1\nfoo=2\n", Path::new("a.cnf")).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("unknown key 'foo'"), "{e}");
        let e = Config::parse("server_id=x\n", Path::new("a.cnf")).unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = Config::parse("server_id=1\nmaster_host=h\nmaster_user=u\n", Path::new("a.cnf")).unwrap_err();
        assert!(e.to_string().contains("binlog_dir"), "{e}");
        let e = Config::parse("sync_binlog=-1", Path::new("a.cnf")).unwrap_err();
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn binlog_preallocate_takes_a_byte_count_up_to_64m() {
        let base = "server_id = 2\nmaster_host = h\nmaster_user = u\nbinlog_dir = /d\n";
        let parse = |extra: &str| Config::parse(&format!("{base}{extra}"), Path::new("t.cnf"));
        assert_eq!(parse("").unwrap().binlog_preallocate, 0, "off by default");
        assert_eq!(parse("binlog_preallocate = 4M\n").unwrap().binlog_preallocate, 4 << 20);
        assert_eq!(parse("binlog-preallocate = 0\n").unwrap().binlog_preallocate, 0);
        let e = parse("binlog_preallocate = 65M\n").unwrap_err();
        assert_eq!(e.line, Some(5));
        assert!(e.to_string().contains("binlog_preallocate: '65M' is more than the largest, 64M"), "{e}");
        assert!(parse("binlog_preallocate = lots\n").unwrap_err().to_string().contains("not a byte count"));
    }

    #[test]
    fn render_masks_password() {
        let c = Config::parse(VIRTUAL_SLAVE_CNF, Path::new("vs.cnf")).unwrap();
        let r = c.render();
        assert!(!r.contains("ashe\n") || !r.contains("master_password = ashe"));
        assert!(r.contains("master_password = ********"));
    }

    #[test]
    fn tls_settings_that_cannot_work_are_refused() {
        let base = "server_id = 2\nmaster_host = h\nmaster_user = u\nbinlog_dir = /d\n";
        let bad = |extra: &str| Config::parse(&format!("{base}{extra}"), Path::new("t.cnf")).unwrap_err().what;
        assert!(bad("master_ssl_ca = /ca.pem\n").contains("master_ssl_ca is set but master_ssl is off"));
        assert!(bad("master_ssl = on\nmaster_ssl_cert = /c.pem\n").contains("master_ssl_cert needs master_ssl_key"));
        assert!(bad("ssl_key = /k.pem\n").contains("ssl_key needs ssl_cert"));
        assert!(bad("require_secure_transport = on\nssl = off\n").contains("require_secure_transport needs ssl = on"));
        assert!(bad("master_ssl = maybe\n").contains("must be off, on or required"));
        let c =
            Config::parse(&format!("{base}master_ssl = required\nmaster_ssl_verify_server_cert = 1\n"), Path::new("t"))
                .unwrap();
        assert_eq!(c.master_ssl, MasterSsl::Required);
        assert!(c.master_ssl_verify_server_cert);
        // A host check needs a CA to check the chain against.
        let e = crate::tls::client(&c).unwrap_err().to_string();
        assert!(e.contains("master_ssl_verify_server_cert needs master_ssl_ca"), "{e}");
    }

    #[test]
    fn missing_certificate_files_are_named() {
        let base = "server_id = 2\nmaster_host = h\nmaster_user = u\nbinlog_dir = /d\n";
        let c = Config::parse(
            &format!("{base}ssl_cert = /nonexistent/cert.pem\nssl_key = /nonexistent/key.pem\n"),
            Path::new("t"),
        )
        .unwrap();
        let e = crate::tls::server(&c).unwrap_err().to_string();
        assert!(e.starts_with("/nonexistent/cert.pem: cannot read certificate"), "{e}");
        let c = Config::parse(&format!("{base}master_ssl = on\nmaster_ssl_ca = /nonexistent/ca.pem\n"), Path::new("t"))
            .unwrap();
        let e = crate::tls::client(&c).unwrap_err().to_string();
        assert!(e.starts_with("/nonexistent/ca.pem: cannot read CA"), "{e}");
    }
}
