//! The cnf file: ini-style `key = value` lines, optionally under a `[binlogd]` section.
//!
//! virtual_slave's cnf is accepted unchanged. Unknown keys, bad values and missing
//! required keys are errors naming the line.

mod keys;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::binlog::gtid::{GtidSet, MariaPos};
pub use keys::{key, Key, KEYS};

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
    /// Size of the sync log (`binlogd.synclog`); 0: none.
    pub binlog_sync_log_size: u64,
    pub semisync: Semisync,
    pub log_file: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub listen_address: Option<String>,
    pub listen_port: Option<u16>,
    pub report_host: String,
    pub retry_max: Duration,
    /// How often the primary's variables are read again while mirroring runs (besides at
    /// each of its new files); zero: at its new files only.
    pub variables_refresh_interval: Duration,
    pub max_connections: usize,
    /// A client connection idle this long (not dumping) is closed.
    pub wait_timeout: Duration,
    /// The idle limit of a client that logged in with CLIENT_INTERACTIVE.
    pub interactive_timeout: Duration,
    /// A write to a client that blocks this long (a reader that stopped reading)
    /// ends its connection.
    pub net_write_timeout: Duration,
    /// Accounts besides master_user that may connect to the binlog server.
    pub server_accounts: Vec<crate::proto::auth::Account>,
    pub master_ssl: MasterSsl,
    pub master_ssl_ca: Option<PathBuf>,
    pub master_ssl_cert: Option<PathBuf>,
    pub master_ssl_key: Option<PathBuf>,
    pub master_ssl_verify_server_cert: bool,
    /// The compressed protocol to the primary, in order of preference (`None`:
    /// uncompressed); zstd's level is `master_zstd_compression_level`'s.
    pub master_compression_algorithms: Vec<Option<crate::proto::compress::Algorithm>>,
    pub master_zstd_compression_level: u8,
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
    /// Shell command that writes an archived file back (`%f` name, `%p` path).
    pub restore_command: Option<String>,
    /// Most bytes of restored files kept.
    pub restore_cache_size: u64,
    /// How long restore_command may run.
    pub restore_timeout: Duration,
    pub metrics_address: Option<String>,
    pub metrics_port: Option<u16>,
    /// Accounts that may run PURGE, STOP/START SLAVE and FLUSH LOGS; None: master_user.
    pub admin_accounts: Option<Vec<String>>,
}

impl Config {
    /// The primaries `master_host` names: one, or candidates for automatic following
    /// (`host:port, host:port`; a host without a port has master_port), in order.
    pub fn candidates(&self) -> Vec<(String, u16)> {
        self.master_host
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| match split_host_port(e) {
                Ok((h, Some(p))) => (h, p),
                _ => (e.to_string(), self.master_port),
            })
            .collect()
    }

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
        let mut c = Config::unset(path);
        for k in KEYS.iter().filter(|k| !k.default.is_empty()) {
            (k.set)(&mut c, k.default).map_err(|e| err(None, format!("{}: default '{}': {e}", k.name, k.default)))?;
        }
        let mut seen: Vec<&str> = Vec::new();
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
            let Some(key) = key(k) else { return Err(err(n, format!("unknown key '{}'", k.trim()))) };
            let mut v = v.trim();
            if v.len() >= 2 && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
            {
                v = &v[1..v.len() - 1];
            }
            if seen.contains(&key.name) {
                return Err(err(n, format!("'{}' is set twice", key.name)));
            }
            // Two spellings of one setting, in different units.
            for (a, b) in
                [("binlog_expire_logs_seconds", "expire_logs_days"), ("expire_logs_days", "binlog_expire_logs_seconds")]
            {
                if key.name == a && seen.contains(&b) {
                    return Err(err(n, format!("{a}: {b} is set too; keep one")));
                }
            }
            (key.set)(&mut c, v).map_err(|e| err(n, format!("{}: {e}", key.name)))?;
            seen.push(key.name);
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
        c.check().map_err(|what| err(None, what))?;
        if c.heartbeat_period >= c.net_read_timeout && !c.heartbeat_period.is_zero() {
            log::warn!(
                "heartbeat_period ({:?}) is not below net_read_time_out ({:?}): idle periods will cause reconnects",
                c.heartbeat_period,
                c.net_read_timeout
            );
        }
        Ok(c)
    }

    /// The settings that must agree with each other (TLS): checked after the cnf is
    /// read, and after CHANGE MASTER TO changes some of them.
    pub fn check(&self) -> Result<(), String> {
        let tls_conflict = if self.master_ssl == MasterSsl::Off {
            [
                ("master_ssl_ca", self.master_ssl_ca.is_some()),
                ("master_ssl_cert", self.master_ssl_cert.is_some()),
                ("master_ssl_key", self.master_ssl_key.is_some()),
                ("master_ssl_verify_server_cert", self.master_ssl_verify_server_cert),
            ]
            .into_iter()
            .find(|(_, set)| *set)
            .map(|(k, _)| format!("{k} is set but master_ssl is off: set master_ssl = on or required"))
        } else {
            None
        };
        let pairs = [
            ("master_ssl_cert", self.master_ssl_cert.is_some(), "master_ssl_key", self.master_ssl_key.is_some()),
            ("master_ssl_key", self.master_ssl_key.is_some(), "master_ssl_cert", self.master_ssl_cert.is_some()),
            ("ssl_cert", self.ssl_cert.is_some(), "ssl_key", self.ssl_key.is_some()),
            ("ssl_key", self.ssl_key.is_some(), "ssl_cert", self.ssl_cert.is_some()),
            ("ssl_ca", self.ssl_ca.is_some(), "ssl = on", self.ssl),
            ("require_secure_transport", self.require_secure_transport, "ssl = on", self.ssl),
            ("ssl_cert", self.ssl_cert.is_some(), "ssl = on", self.ssl),
        ];
        let missing = pairs.iter().find(|(_, a, _, b)| *a && !*b).map(|(a, _, b, _)| format!("{a} needs {b}"));
        match tls_conflict.or(missing) {
            Some(what) => Err(what),
            None => Ok(()),
        }
    }

    /// Sets one key from its cnf text, as a cnf line would.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let k = key(name).ok_or_else(|| format!("unknown key '{name}'"))?;
        (k.set)(self, value).map_err(|e| format!("{}: {e}", k.name))
    }

    /// The effective config as cnf lines, password masked.
    pub fn render(&self) -> String {
        let mut s = String::from("[binlogd]\n");
        for k in KEYS {
            if let Some(v) = (k.get)(self) {
                s.push_str(&format!("{} = {v}\n", k.name));
            }
        }
        s
    }

    /// Every setting empty, zero or off, before the keys' defaults are applied.
    fn unset(path: &Path) -> Config {
        Config {
            path: path.to_path_buf(),
            start_mode: StartMode::FilePos,
            exclude_gtids: String::new(),
            server_id: 0,
            master_host: String::new(),
            master_port: 0,
            master_user: String::new(),
            master_password: String::new(),
            master_password_file: None,
            binlog_dir: PathBuf::new(),
            heartbeat_period: Duration::ZERO,
            net_read_timeout: Duration::ZERO,
            connect_timeout: Duration::ZERO,
            replica_uuid: None,
            sync_binlog: 0,
            binlog_preallocate: 0,
            binlog_sync_log_size: 16 << 20,
            semisync: Semisync::Off,
            log_file: None,
            pid_file: None,
            listen_address: None,
            listen_port: None,
            report_host: String::new(),
            retry_max: Duration::ZERO,
            variables_refresh_interval: Duration::ZERO,
            max_connections: 0,
            server_accounts: Vec::new(),
            wait_timeout: Duration::ZERO,
            interactive_timeout: Duration::ZERO,
            net_write_timeout: Duration::ZERO,
            master_ssl: MasterSsl::Off,
            master_ssl_ca: None,
            master_ssl_cert: None,
            master_ssl_key: None,
            master_ssl_verify_server_cert: false,
            master_compression_algorithms: Vec::new(),
            master_zstd_compression_level: 0,
            ssl_cert: None,
            ssl_key: None,
            ssl_ca: None,
            require_secure_transport: false,
            ssl: false,
            user: None,
            expire: None,
            space_limit: None,
            min_binlog_files: 0,
            archive_command: None,
            restore_command: None,
            restore_cache_size: 0,
            restore_timeout: Duration::ZERO,
            metrics_address: None,
            metrics_port: None,
            admin_accounts: None,
        }
    }
}

/// One entry of a candidate list: `host:port`, `[v6]:port` or a host alone (the
/// port then is master_port's).
pub fn split_host_port(e: &str) -> Result<(String, Option<u16>), String> {
    let port = |p: &str| match p.parse::<u16>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{e:?}: the port must be between 1 and 65535")),
    };
    if let Some(rest) = e.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(|| format!("{e:?}: an unclosed ["))?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((h.to_string(), Some(port(p)?))),
            None if after.is_empty() => Ok((h.to_string(), None)),
            None => Err(format!("{e:?}: text after ]")),
        };
    }
    match e.split_once(':') {
        Some((h, p)) if !p.contains(':') && !h.is_empty() => Ok((h.to_string(), Some(port(p)?))),
        _ => Ok((e.to_string(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_host_may_list_candidate_primaries_each_with_its_port() {
        let base = "server_id = 2\nmaster_user = u\nbinlog_dir = /d\nmaster_port = 3307\n";
        let c = Config::parse(&format!("{base}master_host = db1:3306, db2, [::1]:3310\n"), Path::new("a.cnf")).unwrap();
        assert_eq!(c.candidates(), [("db1".to_string(), 3306), ("db2".to_string(), 3307), ("::1".to_string(), 3310)]);
        let one = Config::parse(&format!("{base}master_host = db1\n"), Path::new("a.cnf")).unwrap();
        assert_eq!(one.candidates(), [("db1".to_string(), 3307)]);
        for bad in ["db1:0, db2", "db1,,db2", "db1:x, db2", "[::1, db2"] {
            let e = Config::parse(&format!("{base}master_host = {bad}\n"), Path::new("a.cnf")).unwrap_err().to_string();
            assert!(e.contains("master_host"), "{bad}: {e}");
        }
    }

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
    fn each_key_is_declared_once_and_what_check_config_prints_reads_back_the_same() {
        let mut names: Vec<&str> =
            KEYS.iter().flat_map(|k| std::iter::once(k.name).chain(k.aliases.iter().copied())).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a key or alias declared twice");
        let c = Config::parse(VIRTUAL_SLAVE_CNF, Path::new("vs.cnf")).unwrap();
        let shown = c.render().replace("master_password = ********", "master_password = x");
        let again = Config::parse(&shown, Path::new("shown.cnf")).unwrap();
        assert_eq!(again.render(), c.render());
    }

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
    fn binlog_sync_log_size_is_16m_by_default_0_or_within_64k_to_1g() {
        let base = "server_id = 2\nmaster_host = h\nmaster_user = u\nbinlog_dir = /d\n";
        let parse = |extra: &str| Config::parse(&format!("{base}{extra}"), Path::new("t.cnf"));
        assert_eq!(parse("").unwrap().binlog_sync_log_size, 16 << 20);
        assert_eq!(parse("binlog_sync_log_size = 0\n").unwrap().binlog_sync_log_size, 0);
        assert_eq!(parse("binlog-sync-log-size = 64K\n").unwrap().binlog_sync_log_size, 64 << 10);
        for bad in ["32K", "2048M"] {
            let e = parse(&format!("binlog_sync_log_size = {bad}\n")).unwrap_err().to_string();
            assert!(e.contains(&format!("binlog_sync_log_size: '{bad}' is outside 64K to 1G")), "{e}");
        }
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
