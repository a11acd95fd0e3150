//! Every cnf key, declared once (`KEYS`): its name, default, unit, doc line, how its
//! value is read and shown. The parser, `--check-config` and the man-page check read it.

use std::path::PathBuf;
use std::time::Duration;

use super::*;

/// The most zeros `binlog_preallocate` may keep ahead. Off by default: every file in
/// binlog_dir is then a whole binlog at every moment, as mysqld's active file is.
pub(super) const MAX_PREALLOCATE: u64 = 64 << 20;

/// Bounds of `binlog_sync_log_size` (other than 0): room for a few live batches, and
/// no more disk than an epoch between two fsyncs of the binlog file needs.
pub(super) const MIN_SYNC_LOG: u64 = 64 << 10;
pub(super) const MAX_SYNC_LOG: u64 = 1 << 30;

/// One cnf key, declared once: the parser, `--check-config` (`render`) and the
/// man-page check all read `KEYS`.
pub struct Key {
    pub name: &'static str,
    /// Other spellings accepted for it (virtual_slave's).
    pub aliases: &'static [&'static str],
    /// Its value when the cnf does not set it, as cnf text; "" for none.
    pub default: &'static str,
    /// What its value is (the man page's "Unit:").
    pub unit: &'static str,
    /// One line saying what it does.
    pub doc: &'static str,
    pub(super) set: fn(&mut Config, &str) -> Result<(), String>,
    /// Its effective value as cnf text; None for a key shown under another
    /// (`expire_logs_days` as `binlog_expire_logs_seconds`).
    pub(super) get: fn(&Config) -> Option<String>,
}

fn path_of(v: &str) -> Option<PathBuf> {
    (!v.is_empty()).then(|| PathBuf::from(v))
}

fn text_of(v: &str) -> Option<String> {
    (!v.is_empty()).then(|| v.to_string())
}

fn shown(p: &Option<PathBuf>) -> Option<String> {
    Some(p.as_ref().map(|x| x.display().to_string()).unwrap_or_default())
}

fn onoff(b: bool) -> Option<String> {
    Some(if b { "on" } else { "off" }.to_string())
}

fn secs_shown(d: Duration) -> Option<String> {
    Some(d.as_secs_f64().to_string())
}

/// A number of seconds that must be more than 0.
fn positive_seconds(v: &str) -> Result<Duration, String> {
    let d = seconds(v)?;
    if d.is_zero() {
        return Err("must be more than 0".into());
    }
    Ok(d)
}

/// Every key the parser knows, in the order `--check-config` prints them.
pub static KEYS: &[Key] = &[
    Key {
        name: "get_start_gtid_mode",
        aliases: &[],
        default: "2",
        unit: "0, 1 or 2",
        doc: "0: start from exclude_gtids (or the oldest binlog); 1: from the primary's current file; 2: file+pos",
        set: |c, v| {
            c.start_mode = match v {
                "0" => StartMode::Gtid,
                "1" => StartMode::Current,
                "2" => StartMode::FilePos,
                _ => return Err(format!("'{v}' must be 0, 1 or 2")),
            };
            Ok(())
        },
        get: |c| Some((c.start_mode as u8).to_string()),
    },
    Key {
        name: "exclude_gtids",
        aliases: &[],
        default: "",
        unit: "a MySQL GTID set or a MariaDB GTID list",
        doc: "GTIDs not to fetch when starting in mode 0 on an empty binlog_dir",
        set: |c, v| {
            if !v.is_empty() && GtidSet::parse(v).is_err() && MariaPos::parse(v).is_err() {
                return Err(format!("'{v}' is neither a MySQL GTID set nor a MariaDB GTID list"));
            }
            c.exclude_gtids = v.to_string();
            Ok(())
        },
        get: |c| Some(c.exclude_gtids.clone()),
    },
    Key {
        name: "server_id",
        aliases: &["virtual_slave_server_id"],
        default: "",
        unit: "1 to 4294967295",
        doc: "server_id binlogd registers with (required; alias virtual_slave_server_id)",
        set: |c, v| {
            c.server_id = number(v)?;
            if c.server_id == 0 {
                return Err("must be between 1 and 4294967295".into());
            }
            Ok(())
        },
        get: |c| Some(c.server_id.to_string()),
    },
    Key {
        name: "master_host",
        aliases: &[],
        default: "",
        unit: "a host name or address, or candidates: host:port, host:port",
        doc: "primary's host name or address (required); a list of candidate primaries follows the one that is writable and replicates from no one",
        set: |c, v| {
            if v.contains(',') {
                for e in v.split(',').map(str::trim) {
                    if e.is_empty() {
                        return Err("an empty entry in the list of candidate primaries".into());
                    }
                    super::split_host_port(e)?;
                }
            }
            c.master_host = v.to_string();
            Ok(())
        },
        get: |c| Some(c.master_host.clone()),
    },
    Key {
        name: "master_port",
        aliases: &[],
        default: "3306",
        unit: "a TCP port",
        doc: "primary's port",
        set: |c, v| {
            c.master_port = number(v)?;
            if c.master_port == 0 {
                return Err("must be between 1 and 65535".into());
            }
            Ok(())
        },
        get: |c| Some(c.master_port.to_string()),
    },
    Key {
        name: "master_user",
        aliases: &[],
        default: "",
        unit: "an account name",
        doc: "replication user (required)",
        set: |c, v| {
            c.master_user = v.to_string();
            Ok(())
        },
        get: |c| Some(c.master_user.clone()),
    },
    Key {
        name: "master_password",
        aliases: &[],
        default: "",
        unit: "a password",
        doc: "replication user's password",
        set: |c, v| {
            c.master_password = v.to_string();
            Ok(())
        },
        get: |c| Some(if c.master_password.is_empty() { String::new() } else { "********".into() }),
    },
    Key {
        name: "master_password_file",
        aliases: &[],
        default: "",
        unit: "a file path",
        doc: "file holding the replication password (its first line), instead of master_password",
        set: |c, v| {
            c.master_password_file = path_of(v);
            Ok(())
        },
        get: |c| shown(&c.master_password_file),
    },
    Key {
        name: "binlog_dir",
        aliases: &[],
        default: "",
        unit: "a directory path",
        doc: "directory for the mirrored binlog files (required)",
        set: |c, v| {
            c.binlog_dir = PathBuf::from(v);
            Ok(())
        },
        get: |c| Some(c.binlog_dir.display().to_string()),
    },
    Key {
        name: "heartbeat_period",
        aliases: &[],
        default: "5",
        unit: "seconds, fractional allowed",
        doc: "seconds between primary heartbeats",
        set: |c, v| {
            c.heartbeat_period = seconds(v)?;
            Ok(())
        },
        get: |c| secs_shown(c.heartbeat_period),
    },
    Key {
        name: "net_read_time_out",
        aliases: &["net_read_timeout"],
        default: "10",
        unit: "seconds",
        doc: "seconds without any packet before reconnecting",
        set: |c, v| {
            c.net_read_timeout = positive_seconds(v)?;
            Ok(())
        },
        get: |c| secs_shown(c.net_read_timeout),
    },
    Key {
        name: "connect_timeout",
        aliases: &[],
        default: "10",
        unit: "seconds",
        doc: "seconds to wait for a TCP connect and login",
        set: |c, v| {
            c.connect_timeout = seconds(v)?.max(Duration::from_millis(100));
            Ok(())
        },
        get: |c| secs_shown(c.connect_timeout),
    },
    Key {
        name: "master_retry_max",
        aliases: &[],
        default: "60",
        unit: "seconds",
        doc: "longest wait between reconnect attempts",
        set: |c, v| {
            c.retry_max = seconds(v)?.max(Duration::from_millis(100));
            Ok(())
        },
        get: |c| secs_shown(c.retry_max),
    },
    Key {
        name: "variables_refresh_interval",
        aliases: &[],
        default: "60",
        unit: "seconds",
        doc: "how often the primary's variables are read again while mirroring runs, besides at each of its new files; 0: at its new files only",
        set: |c, v| {
            c.variables_refresh_interval = seconds(v)?;
            Ok(())
        },
        get: |c| secs_shown(c.variables_refresh_interval),
    },
    Key {
        name: "replica_uuid",
        aliases: &[],
        default: "",
        unit: "a UUID",
        doc: "UUID reported as @slave_uuid; default: generated once and kept in binlog_dir",
        set: |c, v| {
            if !v.is_empty() {
                crate::binlog::gtid::parse_uuid(v).map_err(|e| e.to_string())?;
                c.replica_uuid = Some(v.to_ascii_lowercase());
            }
            Ok(())
        },
        get: |c| Some(c.replica_uuid.clone().unwrap_or_default()),
    },
    Key {
        name: "sync_binlog",
        aliases: &[],
        default: "1",
        unit: "transactions",
        doc: "1: fsync at every transaction end; N: every N transactions; 0: leave it to the OS",
        set: |c, v| {
            c.sync_binlog = number(v)?;
            Ok(())
        },
        get: |c| Some(c.sync_binlog.to_string()),
    },
    Key {
        name: "binlog_preallocate",
        aliases: &[],
        default: "0",
        unit: "bytes, with K or M; at most 64M",
        doc: "bytes of zeros kept fsynced ahead of the active file's end, so each fsync flushes data only (0: off)",
        set: |c, v| {
            let n = bytes(v)?;
            if n > MAX_PREALLOCATE {
                return Err(format!("'{v}' is more than the largest, 64M"));
            }
            c.binlog_preallocate = n;
            Ok(())
        },
        get: |c| Some(c.binlog_preallocate.to_string()),
    },
    Key {
        name: "binlog_sync_log_size",
        aliases: &[],
        default: "16M",
        unit: "bytes, with K or M; 0, or 64K to 1G",
        doc: "size of binlogd.synclog, the file of zeros live batches are made durable in, so each fsync flushes data only (0: fsync the binlog file itself)",
        set: |c, v| {
            let n = bytes(v)?;
            if n != 0 && !(MIN_SYNC_LOG..=MAX_SYNC_LOG).contains(&n) {
                return Err(format!("'{v}' is outside 64K to 1G (or 0, for none)"));
            }
            c.binlog_sync_log_size = n;
            Ok(())
        },
        get: |c| Some(c.binlog_sync_log_size.to_string()),
    },
    Key {
        name: "semisync",
        aliases: &[],
        default: "on",
        unit: "on or off",
        doc: "on: acknowledge when the primary has semisync enabled; off: never",
        set: |c, v| {
            c.semisync = if boolean(v)? { Semisync::On } else { Semisync::Off };
            Ok(())
        },
        get: |c| onoff(c.semisync == Semisync::On),
    },
    Key {
        name: "log_file",
        aliases: &[],
        default: "",
        unit: "a file path",
        doc: "error log path (default stderr)",
        set: |c, v| {
            c.log_file = path_of(v);
            Ok(())
        },
        get: |c| shown(&c.log_file),
    },
    Key {
        name: "pid_file",
        aliases: &[],
        default: "",
        unit: "a file path",
        doc: "file to write the process id to",
        set: |c, v| {
            c.pid_file = path_of(v);
            Ok(())
        },
        get: |c| shown(&c.pid_file),
    },
    Key {
        name: "listen_address",
        aliases: &[],
        default: "",
        unit: "an address",
        doc: "address the binlog server listens on",
        set: |c, v| {
            c.listen_address = text_of(v);
            Ok(())
        },
        get: |c| Some(c.listen_address.clone().unwrap_or_default()),
    },
    Key {
        name: "listen_port",
        aliases: &[],
        default: "",
        unit: "a TCP port",
        doc: "port the binlog server listens on",
        set: |c, v| {
            c.listen_port = if v.is_empty() { None } else { Some(number(v)?) };
            Ok(())
        },
        get: |c| Some(c.listen_port.map(|p| p.to_string()).unwrap_or_default()),
    },
    Key {
        name: "report_host",
        aliases: &[],
        default: "",
        unit: "a host name",
        doc: "host name shown in the primary's SHOW SLAVE HOSTS",
        set: |c, v| {
            c.report_host = v.to_string();
            Ok(())
        },
        get: |c| Some(c.report_host.clone()),
    },
    Key {
        name: "max_connections",
        aliases: &[],
        default: "64",
        unit: "connections",
        doc: "most client connections the binlog server accepts at once",
        set: |c, v| {
            c.max_connections = number(v)?;
            if c.max_connections == 0 {
                return Err("must be at least 1".into());
            }
            Ok(())
        },
        get: |c| Some(c.max_connections.to_string()),
    },
    Key {
        name: "wait_timeout",
        aliases: &[],
        default: "28800",
        unit: "seconds",
        doc: "seconds a binlog server client may stay idle outside a dump",
        set: |c, v| {
            c.wait_timeout = positive_seconds(v)?;
            Ok(())
        },
        get: |c| secs_shown(c.wait_timeout),
    },
    Key {
        name: "interactive_timeout",
        aliases: &[],
        default: "28800",
        unit: "seconds",
        doc: "seconds an interactive client (the mysql client's prompt) may stay idle, in place of wait_timeout",
        set: |c, v| {
            c.interactive_timeout = positive_seconds(v)?;
            Ok(())
        },
        get: |c| secs_shown(c.interactive_timeout),
    },
    Key {
        name: "net_write_timeout",
        aliases: &[],
        default: "60",
        unit: "seconds",
        doc: "seconds a write to a binlog server client may block before its connection is closed",
        set: |c, v| {
            c.net_write_timeout = positive_seconds(v)?;
            Ok(())
        },
        get: |c| secs_shown(c.net_write_timeout),
    },
    Key {
        name: "server_accounts",
        aliases: &[],
        default: "",
        unit: "comma-separated user:*NATIVE:SHA2 entries",
        doc: "more accounts for the binlog server: user:*NATIVE_HASH:SHA2_HASH, comma-separated (binlogd --hash-password)",
        set: |c, v| {
            c.server_accounts = v
                .split(',')
                .filter(|x| !x.trim().is_empty())
                .map(crate::proto::auth::Account::parse)
                .collect::<Result<_, _>>()?;
            Ok(())
        },
        get: |c| Some(c.server_accounts.iter().map(|a| a.render()).collect::<Vec<_>>().join(",")),
    },
    Key {
        name: "master_ssl",
        aliases: &[],
        default: "off",
        unit: "off, on or required",
        doc: "TLS to the primary: off, on (when the primary offers it) or required",
        set: |c, v| {
            c.master_ssl = match v.to_ascii_lowercase().as_str() {
                "off" | "0" | "no" | "false" => MasterSsl::Off,
                "on" | "1" | "yes" | "true" => MasterSsl::On,
                "required" => MasterSsl::Required,
                _ => return Err(format!("'{v}' must be off, on or required")),
            };
            Ok(())
        },
        get: |c| {
            Some(
                match c.master_ssl {
                    MasterSsl::Off => "off",
                    MasterSsl::On => "on",
                    MasterSsl::Required => "required",
                }
                .into(),
            )
        },
    },
    Key {
        name: "master_compression_algorithms",
        aliases: &[],
        default: "uncompressed",
        unit: "zlib, zstd or uncompressed, comma-separated",
        doc: "the compressed protocol to the primary: the first of these it offers (MySQL offers zlib and zstd, MariaDB zlib)",
        set: |c, v| {
            use crate::proto::compress::Algorithm;
            let mut list = Vec::new();
            for w in v.split(',').map(|w| w.trim().to_ascii_lowercase()) {
                let a = match w.as_str() {
                    "zlib" => Some(Algorithm::Zlib),
                    // The level is master_zstd_compression_level's, set in `options`.
                    "zstd" => Some(Algorithm::Zstd { level: 0 }),
                    "uncompressed" => None,
                    _ => return Err(format!("'{w}' is not zlib, zstd or uncompressed")),
                };
                if !list.contains(&a) {
                    list.push(a);
                }
            }
            c.master_compression_algorithms = list;
            Ok(())
        },
        get: |c| {
            let names: Vec<&str> =
                c.master_compression_algorithms.iter().map(|a| a.map_or("uncompressed", |a| a.name())).collect();
            Some(names.join(","))
        },
    },
    Key {
        name: "master_zstd_compression_level",
        aliases: &[],
        default: "3",
        unit: "1 to 22",
        doc: "zstd's level asked of the primary where master_compression_algorithms chooses zstd",
        set: |c, v| {
            c.master_zstd_compression_level = match v.parse::<u8>() {
                Ok(n @ 1..=22) => n,
                _ => return Err(format!("'{v}' must be a level from 1 to 22")),
            };
            Ok(())
        },
        get: |c| Some(c.master_zstd_compression_level.to_string()),
    },
    Key {
        name: "master_ssl_ca",
        aliases: &[],
        default: "",
        unit: "a PEM file path",
        doc: "PEM file of CAs the primary's certificate must chain to; makes TLS required",
        set: |c, v| {
            c.master_ssl_ca = path_of(v);
            Ok(())
        },
        get: |c| shown(&c.master_ssl_ca),
    },
    Key {
        name: "master_ssl_cert",
        aliases: &[],
        default: "",
        unit: "a PEM file path",
        doc: "PEM client certificate binlogd presents to the primary",
        set: |c, v| {
            c.master_ssl_cert = path_of(v);
            Ok(())
        },
        get: |c| shown(&c.master_ssl_cert),
    },
    Key {
        name: "master_ssl_key",
        aliases: &[],
        default: "",
        unit: "a PEM file path",
        doc: "PEM private key of master_ssl_cert",
        set: |c, v| {
            c.master_ssl_key = path_of(v);
            Ok(())
        },
        get: |c| shown(&c.master_ssl_key),
    },
    Key {
        name: "master_ssl_verify_server_cert",
        aliases: &[],
        default: "off",
        unit: "on or off",
        doc: "on: the primary's certificate must also name master_host; makes TLS required",
        set: |c, v| {
            c.master_ssl_verify_server_cert = boolean(v)?;
            Ok(())
        },
        get: |c| onoff(c.master_ssl_verify_server_cert),
    },
    Key {
        name: "ssl_cert",
        aliases: &[],
        default: "",
        unit: "a PEM file path",
        doc: "PEM certificate (chain) of the binlog server, instead of the one generated in binlog_dir",
        set: |c, v| {
            c.ssl_cert = path_of(v);
            Ok(())
        },
        get: |c| shown(&c.ssl_cert),
    },
    Key {
        name: "ssl_key",
        aliases: &[],
        default: "",
        unit: "a PEM file path",
        doc: "PEM private key of ssl_cert",
        set: |c, v| {
            c.ssl_key = path_of(v);
            Ok(())
        },
        get: |c| shown(&c.ssl_key),
    },
    Key {
        name: "ssl_ca",
        aliases: &[],
        default: "",
        unit: "a PEM file path",
        doc: "PEM file of CAs that client certificates are checked against, when a client presents one",
        set: |c, v| {
            c.ssl_ca = path_of(v);
            Ok(())
        },
        get: |c| shown(&c.ssl_ca),
    },
    Key {
        name: "require_secure_transport",
        aliases: &[],
        default: "off",
        unit: "on or off",
        doc: "on: clients must use TLS",
        set: |c, v| {
            c.require_secure_transport = boolean(v)?;
            Ok(())
        },
        get: |c| onoff(c.require_secure_transport),
    },
    Key {
        name: "ssl",
        aliases: &[],
        default: "on",
        unit: "on or off",
        doc: "on: offer TLS to clients, with ssl_cert or else a certificate generated in binlog_dir; off: no TLS",
        set: |c, v| {
            c.ssl = boolean(v)?;
            Ok(())
        },
        get: |c| onoff(c.ssl),
    },
    Key {
        name: "user",
        aliases: &[],
        default: "",
        unit: "an account name",
        doc: "account to switch to after start when started as root (required when run as root)",
        set: |c, v| {
            c.user = text_of(v);
            Ok(())
        },
        get: |c| Some(c.user.clone().unwrap_or_default()),
    },
    Key {
        name: "binlog_expire_logs_seconds",
        aliases: &[],
        default: "0",
        unit: "seconds",
        doc: "purge files last written longer ago than this many seconds (0: never)",
        set: |c, v| {
            let secs = v.parse::<u64>().ok().filter(|s| *s <= 4_294_967_295).map(|s| s as f64);
            set_expire(c, v, secs)
        },
        get: |c| Some(c.expire.map_or(0, |d| d.as_secs()).to_string()),
    },
    Key {
        name: "expire_logs_days",
        aliases: &[],
        default: "",
        unit: "days, fractional allowed",
        doc: "the same in days (MariaDB's and MySQL 5.7's spelling)",
        set: |c, v| {
            let secs = v.parse::<f64>().ok().filter(|d| d.is_finite() && *d >= 0.0 && *d <= 99.0).map(|d| d * 86400.0);
            set_expire(c, v, secs)
        },
        get: |_| None,
    },
    Key {
        name: "binlog_space_limit",
        aliases: &[],
        default: "0",
        unit: "bytes, with K, M or G",
        doc: "purge the oldest files while all stored files take more than this (0: no limit)",
        set: |c, v| {
            let n = bytes(v)?;
            c.space_limit = (n > 0).then_some(n);
            Ok(())
        },
        get: |c| Some(c.space_limit.unwrap_or(0).to_string()),
    },
    Key {
        name: "min_binlog_files",
        aliases: &[],
        default: "0",
        unit: "files",
        doc: "purges always keep at least this many files (the active file is never purged)",
        set: |c, v| {
            c.min_binlog_files = number(v)?;
            Ok(())
        },
        get: |c| Some(c.min_binlog_files.to_string()),
    },
    Key {
        name: "archive_command",
        aliases: &[],
        default: "",
        unit: "a shell command",
        doc: "shell command run once for each closed file (%p its path, %f its name); a file is purged only after it succeeds",
        set: |c, v| {
            c.archive_command = text_of(v);
            Ok(())
        },
        get: |c| Some(c.archive_command.clone().unwrap_or_default()),
    },
    Key {
        name: "restore_command",
        aliases: &[],
        default: "",
        unit: "a shell command",
        doc: "shell command that brings an archived file back (%f its name, %p the path to write), to serve it",
        set: |c, v| {
            c.restore_command = text_of(v);
            Ok(())
        },
        get: |c| Some(c.restore_command.clone().unwrap_or_default()),
    },
    Key {
        name: "restore_cache_size",
        aliases: &[],
        default: "4G",
        unit: "bytes, K, M or G",
        doc: "most bytes of restored files kept in binlog_dir/restored; the least recently used go first",
        set: |c, v| {
            c.restore_cache_size = bytes(v)?;
            Ok(())
        },
        get: |c| Some(c.restore_cache_size.to_string()),
    },
    Key {
        name: "restore_timeout",
        aliases: &[],
        default: "600",
        unit: "seconds",
        doc: "seconds restore_command may take before it is killed and the dump that waits for it ends",
        set: |c, v| {
            c.restore_timeout = positive_seconds(v)?;
            Ok(())
        },
        get: |c| secs_shown(c.restore_timeout),
    },
    Key {
        name: "metrics_address",
        aliases: &[],
        default: "",
        unit: "an address",
        doc: "address the Prometheus metrics endpoint listens on (default 127.0.0.1)",
        set: |c, v| {
            c.metrics_address = text_of(v);
            Ok(())
        },
        get: |c| Some(c.metrics_address.clone().unwrap_or_default()),
    },
    Key {
        name: "metrics_port",
        aliases: &[],
        default: "",
        unit: "a TCP port",
        doc: "port of the Prometheus metrics endpoint, GET /metrics (default: none)",
        set: |c, v| {
            c.metrics_port = if v.is_empty() { None } else { Some(number(v)?) };
            Ok(())
        },
        get: |c| Some(c.metrics_port.map(|p| p.to_string()).unwrap_or_default()),
    },
    Key {
        name: "admin_accounts",
        aliases: &[],
        default: "",
        unit: "comma-separated account names",
        doc: "accounts allowed the statements that change binlogd's state (default: master_user)",
        set: |c, v| {
            c.admin_accounts =
                Some(v.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect());
            Ok(())
        },
        get: |c| Some(c.admin_accounts.as_ref().map(|v| v.join(",")).unwrap_or_default()),
    },
];

/// Sets `expire` from either spelling's value, `secs` when it is a valid age.
fn set_expire(c: &mut Config, v: &str, secs: Option<f64>) -> Result<(), String> {
    let secs = secs.ok_or_else(|| format!("'{v}' is not a valid age"))?;
    c.expire = (secs > 0.0).then(|| Duration::from_secs_f64(secs));
    Ok(())
}

/// The key `name` stands for, by its name or an alias (any case, `-` for `_`).
pub fn key(name: &str) -> Option<&'static Key> {
    let k = name.trim().to_ascii_lowercase().replace('-', "_");
    KEYS.iter().find(|x| x.name == k || x.aliases.contains(&k.as_str()))
}

pub(super) fn seconds(v: &str) -> Result<Duration, String> {
    let f: f64 = v.parse().map_err(|_| format!("'{v}' is not a number of seconds"))?;
    if !f.is_finite() || !(0.0..=4_294_967.0).contains(&f) {
        return Err(format!("'{v}' is out of range"));
    }
    Ok(Duration::from_secs_f64(f))
}

pub(super) fn boolean(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "on" | "1" | "yes" | "true" => Ok(true),
        "off" | "0" | "no" | "false" => Ok(false),
        _ => Err(format!("'{v}' must be on or off")),
    }
}

/// A byte count with an optional K, M or G suffix (powers of 1024).
pub(super) fn bytes(v: &str) -> Result<u64, String> {
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

pub(super) fn number<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("'{v}' is not a valid number here"))
}
