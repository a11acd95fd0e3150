//! The settings a `SET GLOBAL` changes while binlogd runs, as mysqld's dynamic system
//! variables are: each starts as the cnf's, holds until the next `SET GLOBAL`, and is
//! the cnf's again after a restart, but where `SET PERSIST` kept it in binlog_dir
//! (`PERSIST_FILE`, as mysqld's mysqld-auto.cnf in its datadir), which a start reads
//! over the cnf. The threads that act on them read them here at each use: the accept
//! loop, each session, the purger.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::binlog::fs::Fs;
use crate::config::Config;

/// The settings SET PERSIST kept, in binlog_dir: `name = value` lines, in the
/// variables' units as SHOW VARIABLES shows them.
pub const PERSIST_FILE: &str = "binlogd.persisted";

/// One setting a `SET GLOBAL` may change: the variable's name, its slot, the range
/// mysqld takes (a value outside it is brought within, with a warning), and how many
/// of the slot's units one of the variable's is (`expire_logs_days` is in days, its
/// slot in seconds).
pub struct Dynamic {
    pub name: &'static str,
    slot: Slot,
    pub min: u64,
    pub max: u64,
    per_unit: u64,
    /// A server's setting only, not a session's: a session's SET of it is refused.
    pub global_only: bool,
}

#[derive(Clone, Copy)]
enum Slot {
    MaxConnections,
    WaitTimeout,
    InteractiveTimeout,
    NetWriteTimeout,
    ConnectTimeout,
    /// Seconds; 0: no purge by age.
    Expire,
    /// Bytes; 0: no purge by space.
    SpaceLimit,
}

const YEAR: u64 = 31_536_000;

/// Every setting `SET GLOBAL` changes, by name (the ranges are mysqld's).
pub const DYNAMIC: &[Dynamic] = &[
    Dynamic {
        name: "binlog_expire_logs_seconds",
        slot: Slot::Expire,
        min: 0,
        max: 4_294_967_295,
        per_unit: 1,
        global_only: true,
    },
    Dynamic {
        name: "binlog_space_limit",
        slot: Slot::SpaceLimit,
        min: 0,
        max: u64::MAX,
        per_unit: 1,
        global_only: true,
    },
    Dynamic { name: "connect_timeout", slot: Slot::ConnectTimeout, min: 2, max: YEAR, per_unit: 1, global_only: true },
    Dynamic { name: "expire_logs_days", slot: Slot::Expire, min: 0, max: 99, per_unit: 86_400, global_only: true },
    Dynamic {
        name: "interactive_timeout",
        slot: Slot::InteractiveTimeout,
        min: 1,
        max: YEAR,
        per_unit: 1,
        global_only: false,
    },
    Dynamic {
        name: "max_binlog_total_size",
        slot: Slot::SpaceLimit,
        min: 0,
        max: u64::MAX,
        per_unit: 1,
        global_only: true,
    },
    Dynamic {
        name: "max_connections",
        slot: Slot::MaxConnections,
        min: 1,
        max: 100_000,
        per_unit: 1,
        global_only: true,
    },
    Dynamic {
        name: "net_write_timeout",
        slot: Slot::NetWriteTimeout,
        min: 1,
        max: YEAR,
        per_unit: 1,
        global_only: false,
    },
    Dynamic { name: "wait_timeout", slot: Slot::WaitTimeout, min: 1, max: YEAR, per_unit: 1, global_only: false },
];

/// The setting called `name` (any case).
pub fn dynamic(name: &str) -> Option<&'static Dynamic> {
    DYNAMIC.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

/// The settings' values now.
#[derive(Debug)]
pub struct Settings {
    slots: [AtomicU64; 7],
    /// Held while PERSIST_FILE is rewritten.
    persisting: Mutex<()>,
}

impl Settings {
    pub fn new(cfg: &Config) -> Settings {
        let v = |slot: Slot| match slot {
            Slot::MaxConnections => cfg.max_connections as u64,
            Slot::WaitTimeout => cfg.wait_timeout.as_secs(),
            Slot::InteractiveTimeout => cfg.interactive_timeout.as_secs(),
            Slot::NetWriteTimeout => cfg.net_write_timeout.as_secs(),
            // The cnf takes fractions of a second (tests use them): kept in milliseconds.
            Slot::ConnectTimeout => cfg.connect_timeout.as_millis() as u64,
            Slot::Expire => cfg.expire.map_or(0, |d| d.as_secs()),
            Slot::SpaceLimit => cfg.space_limit.unwrap_or(0),
        };
        use Slot::*;
        let all =
            [MaxConnections, WaitTimeout, InteractiveTimeout, NetWriteTimeout, ConnectTimeout, Expire, SpaceLimit];
        Settings { slots: all.map(|s| AtomicU64::new(v(s))), persisting: Mutex::new(()) }
    }

    /// Applies what SET PERSIST kept in `dir` over the cnf's values, at start. Returns
    /// what it applied, and what it could not, for the error log.
    pub fn load_persisted(&self, fs: &dyn Fs, dir: &Path) -> (Vec<String>, Vec<String>) {
        let (mut applied, mut refused) = (Vec::new(), Vec::new());
        let text = match fs.read(&dir.join(PERSIST_FILE)) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (applied, refused),
            Err(e) => {
                refused.push(format!("{}: {e}", dir.join(PERSIST_FILE).display()));
                return (applied, refused);
            }
        };
        for (n, (name, value)) in persisted(&text).into_iter().enumerate() {
            let at = format!("{}:{}", dir.join(PERSIST_FILE).display(), n + 1);
            match (dynamic(&name), value.parse::<f64>()) {
                (Some(d), Ok(v)) if (d.min as f64..=d.max as f64).contains(&v) => {
                    self.set(d, v);
                    applied.push(format!("{} = {}", d.name, self.shown(d)));
                }
                (Some(_), _) => refused.push(format!("{at}: {name} = '{value}' is not a value it takes")),
                (None, _) => refused.push(format!("{at}: {name} is not a setting SET PERSIST keeps")),
            }
        }
        (applied, refused)
    }

    /// Keeps `changes` in `dir`'s PERSIST_FILE (SET PERSIST): each name's value (None:
    /// no longer kept, for DEFAULT), the others as they were.
    pub fn persist(&self, fs: &dyn Fs, dir: &Path, changes: &[(String, Option<String>)]) -> std::io::Result<()> {
        self.rewrite(fs, dir, |kept| {
            for (name, value) in changes {
                kept.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                if let Some(v) = value {
                    kept.push((name.to_ascii_lowercase(), v.clone()));
                }
            }
        })
        .map(drop)
    }

    /// RESET PERSIST: `name`'s kept value (None: every one) is no longer kept. Returns
    /// whether there was one to forget.
    pub fn forget(&self, fs: &dyn Fs, dir: &Path, name: Option<&str>) -> std::io::Result<bool> {
        let before =
            self.rewrite(fs, dir, |kept| kept.retain(|(n, _)| name.is_some_and(|x| !n.eq_ignore_ascii_case(x))))?;
        Ok(name.is_none_or(|x| before.iter().any(|n| n.eq_ignore_ascii_case(x))))
    }

    /// Rewrites PERSIST_FILE with `change` made to its lines, one writer at a time;
    /// with none left, removes it. Returns the names it held before.
    fn rewrite(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        change: impl FnOnce(&mut Vec<(String, String)>),
    ) -> std::io::Result<Vec<String>> {
        let _one = self.persisting.lock().unwrap_or_else(|e| e.into_inner());
        let text = match fs.read(&dir.join(PERSIST_FILE)) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        let mut kept = persisted(&text);
        let before = kept.iter().map(|(n, _)| n.clone()).collect();
        change(&mut kept);
        kept.sort();
        if kept.is_empty() {
            match fs.remove(&dir.join(PERSIST_FILE)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            fs.sync_dir(dir)?;
            return Ok(before);
        }
        let text: String = kept.iter().map(|(n, v)| format!("{n} = {v}\n")).collect();
        fs.replace(dir, PERSIST_FILE, text.as_bytes(), false)?;
        Ok(before)
    }

    fn get(&self, slot: Slot) -> u64 {
        self.slots[slot as usize].load(Ordering::Relaxed)
    }

    pub fn max_connections(&self) -> usize {
        usize::try_from(self.get(Slot::MaxConnections)).unwrap_or(usize::MAX)
    }
    pub fn wait_timeout(&self) -> Duration {
        Duration::from_secs(self.get(Slot::WaitTimeout))
    }
    pub fn interactive_timeout(&self) -> Duration {
        Duration::from_secs(self.get(Slot::InteractiveTimeout))
    }
    pub fn net_write_timeout(&self) -> Duration {
        Duration::from_secs(self.get(Slot::NetWriteTimeout))
    }
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.get(Slot::ConnectTimeout))
    }
    /// Purge files older than this; None: not by age.
    pub fn expire(&self) -> Option<Duration> {
        Some(self.get(Slot::Expire)).filter(|s| *s > 0).map(Duration::from_secs)
    }
    /// Purge the oldest files while the stored total is over this; None: not by space.
    pub fn space_limit(&self) -> Option<u64> {
        Some(self.get(Slot::SpaceLimit)).filter(|b| *b > 0)
    }

    /// `d`'s value as SHOW VARIABLES shows it.
    pub fn shown(&self, d: &Dynamic) -> String {
        let v = self.get(d.slot);
        match d.slot {
            Slot::ConnectTimeout => (v / 1000).to_string(),
            _ if d.per_unit > 1 => format!("{:.6}", v as f64 / d.per_unit as f64),
            _ => v.to_string(),
        }
    }

    /// `SET GLOBAL d = DEFAULT`: the cnf's value.
    pub fn set_default(&self, d: &Dynamic, cfg: &Config) {
        let cnf = Settings::new(cfg);
        self.slots[d.slot as usize].store(cnf.get(d.slot), Ordering::Relaxed);
    }

    /// `SET GLOBAL d = value`, `value` in the variable's units, already within its range.
    pub fn set(&self, d: &Dynamic, value: f64) {
        let v = match d.slot {
            Slot::ConnectTimeout => value * 1000.0,
            _ => value * d.per_unit as f64,
        };
        self.slots[d.slot as usize].store(v.round().clamp(0.0, u64::MAX as f64) as u64, Ordering::Relaxed);
    }
}

/// PERSIST_FILE's `name = value` lines; others (comments, blank lines) are skipped.
pub(crate) fn persisted(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .filter(|(n, _)| !n.is_empty() && !n.starts_with('#'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_global_changes_what_each_reader_reads_in_its_own_units() {
        let text = "server_id = 2\nmaster_host = db1\nmaster_user = u\nbinlog_dir = /d\nmax_connections = 64\n";
        let cfg = Config::parse(text, std::path::Path::new("a.cnf")).unwrap();
        let s = Settings::new(&cfg);
        assert_eq!(s.max_connections(), 64);
        assert_eq!(s.expire(), None);
        s.set(dynamic("EXPIRE_LOGS_DAYS").unwrap(), 1.5);
        assert_eq!(s.expire(), Some(Duration::from_secs(129_600)));
        assert_eq!(s.shown(dynamic("binlog_expire_logs_seconds").unwrap()), "129600");
        assert_eq!(s.shown(dynamic("expire_logs_days").unwrap()), "1.500000");
        s.set(dynamic("max_binlog_total_size").unwrap(), 1e9);
        assert_eq!(s.space_limit(), Some(1_000_000_000));
        assert_eq!(s.shown(dynamic("binlog_space_limit").unwrap()), "1000000000");
        s.set(dynamic("connect_timeout").unwrap(), 5.0);
        assert_eq!(
            (s.connect_timeout(), s.shown(dynamic("connect_timeout").unwrap())),
            (Duration::from_secs(5), "5".into())
        );
        s.set(dynamic("binlog_expire_logs_seconds").unwrap(), 0.0);
        assert_eq!(s.expire(), None);
        s.set(dynamic("max_connections").unwrap(), 500.0);
        s.set_default(dynamic("max_connections").unwrap(), &cfg);
        assert_eq!(s.max_connections(), 64);
        assert!(dynamic("sync_binlog").is_none());
    }

    #[test]
    fn what_set_persist_keeps_is_applied_over_the_cnf_at_start() {
        let dir = crate::test_dir::TestDir::new("persist");
        let fs = crate::binlog::fs::os();
        let text = "server_id = 2\nmaster_host = db1\nmaster_user = u\nbinlog_dir = /d\nmax_connections = 64\n";
        let cfg = Config::parse(text, std::path::Path::new("a.cnf")).unwrap();
        let s = Settings::new(&cfg);
        assert_eq!(s.load_persisted(&*fs, &dir), (vec![], vec![]));
        let set = |n: &str, v: &str| (n.to_string(), Some(v.to_string()));
        s.persist(&*fs, &dir, &[set("max_connections", "500"), set("wait_timeout", "60")]).unwrap();
        assert!(s.forget(&*fs, &dir, Some("WAIT_TIMEOUT")).unwrap());
        assert!(!s.forget(&*fs, &dir, Some("wait_timeout")).unwrap());
        let again = Settings::new(&cfg);
        let (applied, refused) = again.load_persisted(&*fs, &dir);
        assert_eq!((applied, refused.len()), (vec!["max_connections = 500".to_string()], 0));
        assert_eq!(again.max_connections(), 500);
        // What a start cannot take is named, and the rest applied.
        std::fs::write(dir.join(PERSIST_FILE), "max_connections = lots\nsync_binlog = 0\nwait_timeout = 9\n").unwrap();
        let (applied, refused) = Settings::new(&cfg).load_persisted(&*fs, &dir);
        assert_eq!(applied, ["wait_timeout = 9"]);
        assert!(refused[0].ends_with(":1: max_connections = 'lots' is not a value it takes"), "{refused:?}");
        assert!(refused[1].ends_with(":2: sync_binlog is not a setting SET PERSIST keeps"), "{refused:?}");
        // RESET PERSIST of the last one removes the file.
        assert!(s.forget(&*fs, &dir, None).unwrap());
        assert!(!dir.join(PERSIST_FILE).exists());
    }
}
