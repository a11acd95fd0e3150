//! Which server binlogd mirrors and how it connects: the cnf's master_* keys, with
//! what CHANGE MASTER TO set over them. Those settings outlive a restart, as a
//! replica's connection metadata does (<https://dev.mysql.com/doc/refman/8.4/en/replica-logs-status.html>):
//! they are kept in binlog_dir/binlogd.source as cnf lines, mode 600 since they may
//! hold the password, and replaced whole (`Fs::replace`), so that a crash leaves the
//! old settings or the new ones. RESET SLAVE ALL removes the file: the cnf rules again.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use crate::binlog::fs::Fs;
use crate::config::Config;

/// The file in binlog_dir.
pub const SOURCE_FILE: &str = "binlogd.source";

/// The cnf keys CHANGE MASTER TO sets; binlogd.source holds nothing else.
pub const KEYS: &[&str] = &[
    "master_host",
    "master_port",
    "master_user",
    "master_password",
    "master_ssl",
    "master_ssl_ca",
    "master_ssl_cert",
    "master_ssl_key",
    "master_ssl_verify_server_cert",
    "get_start_gtid_mode",
    "heartbeat_period",
    "master_retry_max",
];

/// Settings over the cnf's: cnf key name -> value, as cnf text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides(BTreeMap<String, String>);

impl Overrides {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Sets one of `KEYS`. A value must fit on one cnf line.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        if !KEYS.contains(&key) {
            return Err(format!("'{key}' is not a setting of the source"));
        }
        if value.contains(['\n', '\r', '\0']) {
            return Err(format!("{key}: a value must not hold a line break or a NUL"));
        }
        self.0.insert(key.to_string(), value.to_string());
        Ok(())
    }

    /// The file's text: a `[binlogd]` section of cnf lines, each value quoted (the cnf
    /// parser takes off one pair of enclosing quotes, whatever is between them).
    pub fn encode(&self) -> String {
        let mut s = String::from("# Set by CHANGE MASTER TO; over the cnf's until RESET SLAVE ALL.\n[binlogd]\n");
        for (k, v) in &self.0 {
            s.push_str(&format!("{k} = '{v}'\n"));
        }
        s
    }

    /// Reads what `encode` wrote. A line it could not have written is an error that
    /// names the line.
    pub fn decode(text: &str) -> Result<Overrides, String> {
        let mut o = Overrides::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.eq_ignore_ascii_case("[binlogd]") {
                continue;
            }
            let bad = |what: &str| format!("line {}: {what}", i + 1);
            let (k, v) = line.split_once('=').ok_or_else(|| bad("expected key = 'value'"))?;
            let v = v.trim();
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .ok_or_else(|| bad("the value is not quoted as binlogd writes it"))?;
            let k = k.trim();
            if o.0.contains_key(k) {
                return Err(bad(&format!("'{k}' is set twice")));
            }
            o.set(k, v).map_err(|e| bad(&e))?;
        }
        Ok(o)
    }

    /// `base` with these settings over it, checked as a cnf is.
    pub fn apply(&self, base: &Config) -> Result<Config, String> {
        let mut c = base.clone();
        for (k, v) in &self.0 {
            c.set(k, v)?;
        }
        c.check()?;
        Ok(c)
    }

    /// For the log: the settings, the password masked.
    pub fn describe(&self) -> String {
        let shown = |k: &str, v: &str| if k == "master_password" { "********".to_string() } else { format!("'{v}'") };
        self.0.iter().map(|(k, v)| format!("{k} = {}", shown(k, v))).collect::<Vec<_>>().join(", ")
    }
}

/// What binlog_dir holds: no file, no settings over the cnf's.
pub fn load(fs: &dyn Fs, dir: &Path) -> Result<Overrides, String> {
    let p = dir.join(SOURCE_FILE);
    if !fs.is_file(&p) {
        return Ok(Overrides::default());
    }
    let b = fs.read(&p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
    let text = String::from_utf8(b).map_err(|_| format!("{}: not UTF-8 text", p.display()))?;
    Overrides::decode(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// Replaces binlog_dir's settings with `o` (none: the file is removed).
pub fn save(fs: &dyn Fs, dir: &Path, o: &Overrides) -> std::io::Result<()> {
    if o.is_empty() {
        match fs.remove(&dir.join(SOURCE_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        return fs.sync_dir(dir);
    }
    fs.replace(dir, SOURCE_FILE, o.encode().as_bytes(), true)
}

/// The source binlogd connects to now. The supervisor reads it at each connection
/// attempt; CHANGE MASTER TO and RESET SLAVE ALL change it; SHOW SLAVE STATUS shows it.
pub struct Source {
    /// The cnf as read at start.
    base: Config,
    now: Mutex<(Overrides, Config)>,
    /// With candidate primaries (`candidates`), the one followed now.
    following: Mutex<Option<(String, u16)>>,
    /// `SET GLOBAL rpl_semi_sync_slave_enabled` over the cnf's `semisync` until binlogd
    /// stops (not kept, as a replica keeps no SET GLOBAL): the next connection uses it.
    semisync: Mutex<Option<crate::config::Semisync>>,
}

impl Source {
    pub fn new(base: &Config, o: Overrides) -> Result<Source, String> {
        let eff = o.apply(base)?;
        Ok(Source {
            base: base.clone(),
            now: Mutex::new((o, eff)),
            following: Mutex::new(None),
            semisync: Mutex::new(None),
        })
    }

    /// The candidate primary followed now (None: none, or no candidates).
    pub fn set_following(&self, c: Option<(String, u16)>) {
        *self.following.lock().unwrap_or_else(|e| e.into_inner()) = c;
    }

    /// The effective settings as SHOW SLAVE STATUS shows them: with candidate
    /// primaries, the host and port of the one followed.
    pub fn shown(&self) -> Config {
        let mut c = self.effective();
        if let Some((h, p)) = self.following.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            if c.candidates().len() > 1 {
                c.master_host = h;
                c.master_port = p;
            }
        }
        c
    }

    /// The cnf with the settings over it: what the next connection uses.
    pub fn effective(&self) -> Config {
        let mut c = self.now.lock().unwrap_or_else(|e| e.into_inner()).1.clone();
        if let Some(s) = *self.semisync.lock().unwrap_or_else(|e| e.into_inner()) {
            c.semisync = s;
        }
        c
    }

    /// Whether the next connection acknowledges (SET GLOBAL rpl_semi_sync_slave_enabled).
    pub fn set_semisync(&self, on: bool) {
        let s = if on { crate::config::Semisync::On } else { crate::config::Semisync::Off };
        *self.semisync.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
    }

    pub fn overrides(&self) -> Overrides {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).0.clone()
    }

    /// What `o` makes of the cnf, checked, without changing anything.
    pub fn preview(&self, o: &Overrides) -> Result<Config, String> {
        o.apply(&self.base)
    }

    /// Keeps `o` in binlog_dir, then makes it the source: a failed write changes
    /// nothing. Returns the new effective settings.
    pub fn replace(&self, fs: &dyn Fs, o: Overrides) -> Result<Config, String> {
        let eff = o.apply(&self.base)?;
        let dir = &self.base.binlog_dir;
        save(fs, dir, &o).map_err(|e| format!("cannot write {}: {e}", dir.join(SOURCE_FILE).display()))?;
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = (o, eff.clone());
        Ok(eff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::fs::SimFs;

    fn base() -> Config {
        Config::parse(
            "[binlogd]\nserver_id = 9\nmaster_host = a\nmaster_user = u\nmaster_password = p\nbinlog_dir = /b\n",
            Path::new("t.cnf"),
        )
        .unwrap()
    }

    #[test]
    fn settings_over_the_cnf_keep_what_they_do_not_name() {
        let mut o = Overrides::default();
        o.set("master_host", "b").unwrap();
        o.set("master_port", "3307").unwrap();
        let c = o.apply(&base()).unwrap();
        assert_eq!((c.master_host.as_str(), c.master_port), ("b", 3307));
        assert_eq!((c.master_user.as_str(), c.master_password.as_str()), ("u", "p"));
        assert!(o.describe().contains("master_host = 'b'"));
    }

    #[test]
    fn the_file_reads_back_what_was_written_quotes_and_all() {
        let mut o = Overrides::default();
        o.set("master_password", "it's = 'odd' # yes").unwrap();
        o.set("master_user", "").unwrap();
        o.set("heartbeat_period", "0.5").unwrap();
        assert_eq!(Overrides::decode(&o.encode()).unwrap(), o);
        assert!(!o.describe().contains("odd"));
    }

    #[test]
    fn bad_settings_are_refused_with_the_line_or_the_key() {
        assert!(Overrides::default().set("binlog_dir", "/x").unwrap_err().contains("binlog_dir"));
        assert!(Overrides::default().set("master_host", "a\nb").is_err());
        assert!(Overrides::decode("[binlogd]\nmaster_host = b\n").unwrap_err().starts_with("line 2"));
        assert!(Overrides::decode("master_port = '1'\nmaster_port = '2'\n").unwrap_err().contains("twice"));
        let mut o = Overrides::default();
        o.set("master_port", "x").unwrap();
        assert!(o.apply(&base()).unwrap_err().contains("master_port"));
        let mut o = Overrides::default();
        o.set("master_ssl_ca", "/ca.pem").unwrap();
        assert!(o.apply(&base()).unwrap_err().contains("master_ssl is off"));
    }

    /// A crash at any point of a change leaves the old settings or the new ones, whole.
    #[test]
    fn a_crash_while_settings_change_leaves_the_old_or_the_new() {
        let dir = Path::new("/b");
        let mut old = Overrides::default();
        old.set("master_host", "old-primary").unwrap();
        let mut new = old.clone();
        new.set("master_host", "new-primary").unwrap();
        new.set("master_port", "3307").unwrap();
        for n in 0..12 {
            for last in [Overrides::default(), new.clone()] {
                let fs = SimFs::new();
                fs.create_dir_all(dir).unwrap();
                save(&fs, dir, &old).unwrap();
                fs.fail_after(Some(n));
                let r = save(&fs, dir, &last);
                fs.fail_after(None);
                fs.crash();
                let got = load(&fs, dir).unwrap();
                assert!(got == old || got == last, "after {n} operations: {got:?}");
                if r.is_ok() {
                    assert_eq!(got, last, "a change that returned is durable");
                }
            }
        }
    }
}
