//! Command line: `binlogd CNF`, `--check-config CNF`, `--hash-password USER`, `--verify DIR`,
//! `--find-time DIR TIME`, `--find-gtid DIR SET`, `--help`, `--version`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use log::{error, info, warn};

use crate::binlog::owner::LOCK_FILE;
use crate::config::Config;
use crate::logging::{self, LogSink};
use crate::replica::{self, Control, Stats};

/// How a run ended; `main` picks the exit code for each (binlogd(8), EXIT STATUS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A clean stop, or a command that did what it was asked.
    Ok,
    /// A runtime failure: starting again may work (the systemd unit restarts it).
    Failed,
    /// A bad cnf or command line: nothing runs until a person fixes it.
    Usage,
    /// The stored binlog needs a person: corruption, a binlog_dir replaced under
    /// binlogd, another server's binlog. Starting again would find the same.
    Store,
}

pub fn usage(opts: &getopts::Options) -> String {
    let brief = "Usage: binlogd [OPTIONS] CNF\n\n\
A MySQL/MariaDB virtual replica and binlog server: mirrors the primary's binlog\n\
files byte for byte and acknowledges semi-sync transactions after fsync.";
    opts.usage(brief)
}

fn options() -> getopts::Options {
    let mut o = getopts::Options::new();
    o.optflag("h", "help", "print this help and exit");
    o.optflag("V", "version", "print the version and exit");
    o.optopt("", "check-config", "check CNF, print the effective config (password masked) and exit", "CNF");
    o.optopt("", "hash-password", "read a password on stdin, print a server_accounts entry for USER", "USER");
    o.optopt(
        "",
        "verify",
        "check every binlog file in DIR (sizes, CRC32, positions, index, GTID order), print one line per file and exit",
        "DIR",
    );
    o.optopt(
        "",
        "find-time",
        "print where a replay of the binlog files in DIR up to TIME (UTC, or with an offset) stops, and the files it reads",
        "DIR",
    );
    o.optopt("", "find-gtid", "print which binlog files in DIR hold the transactions of the GTID SET", "DIR");
    o.optflag("", "json", "with --find-time or --find-gtid: print one JSON object");
    o
}

pub fn run(args: Vec<String>) -> Outcome {
    let opts = options();
    let m = match opts.parse(&args[1.min(args.len())..]) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("binlogd: {e}\n\n{}", usage(&opts));
            return Outcome::Usage;
        }
    };
    if m.opt_present("help") {
        print!("{}", usage(&opts));
        return Outcome::Ok;
    }
    if m.opt_present("version") {
        println!("binlogd {}", env!("CARGO_PKG_VERSION"));
        return Outcome::Ok;
    }
    if let Some(user) = m.opt_str("hash-password") {
        let mut line = String::new();
        if let Err(e) = std::io::stdin().read_line(&mut line) {
            eprintln!("binlogd: cannot read the password from stdin: {e}");
            return Outcome::Failed;
        }
        let pw = line.strip_suffix('\n').unwrap_or(&line);
        let pw = pw.strip_suffix('\r').unwrap_or(pw);
        if user.is_empty() || user.contains([':', ',']) {
            eprintln!("binlogd: '{user}' cannot be a server_accounts user name");
            return Outcome::Usage;
        }
        println!("{}", crate::proto::auth::Account::from_password(&user, pw.as_bytes()).render());
        return Outcome::Ok;
    }
    if let Some(dir) = m.opt_str("verify") {
        return verify(std::path::Path::new(&dir));
    }
    for (flag, what) in [("find-time", "TIME"), ("find-gtid", "SET")] {
        if let Some(dir) = m.opt_str(flag) {
            let [arg] = m.free.as_slice() else {
                eprintln!("binlogd: --{flag} DIR takes one {what} after DIR\n\n{}", usage(&opts));
                return Outcome::Usage;
            };
            return find(flag, std::path::Path::new(&dir), arg, m.opt_present("json"));
        }
    }
    if let Some(p) = m.opt_str("check-config") {
        let checked = Config::load(&PathBuf::from(&p)).map_err(|e| e.to_string()).and_then(|c| {
            crate::tls::client(&c).map_err(|e| e.to_string())?;
            crate::tls::server(&c).map_err(|e| e.to_string())?;
            Ok(c)
        });
        return match checked {
            Ok(c) => {
                print!("{}", c.render());
                let _ = std::io::stdout().flush();
                Outcome::Ok
            }
            Err(e) => {
                eprintln!("binlogd: {e}");
                Outcome::Usage
            }
        };
    }
    let [cnf] = m.free.as_slice() else {
        eprintln!("binlogd: expected one CNF argument\n\n{}", usage(&opts));
        return Outcome::Usage;
    };
    let cfg = match Config::load(&PathBuf::from(cnf)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("binlogd: {e}");
            return Outcome::Usage;
        }
    };
    let sink = match LogSink::new(cfg.log_file.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "binlogd: cannot open log_file {}: {e}",
                cfg.log_file.as_deref().unwrap_or(std::path::Path::new("")).display()
            );
            return Outcome::Failed;
        }
    };
    logging::init(sink.clone());
    daemon(&cfg, sink)
}

/// `--find-time DIR TIME` and `--find-gtid DIR SET`: read the stored files, change
/// nothing, print the answer.
fn find(flag: &str, dir: &std::path::Path, arg: &str, json: bool) -> Outcome {
    use crate::binlog::find;
    let fs = crate::binlog::fs::os();
    let files = match crate::binlog::store::read_index(&*fs, dir) {
        Ok((_, names)) => names,
        Err(e) => {
            eprintln!("binlogd: --{flag}: {e}");
            return Outcome::Failed;
        }
    };
    // The archive catalog's files that binlog_dir no longer holds: the history before it.
    let archived: Vec<crate::binlog::catalog::Entry> = match crate::binlog::catalog::Catalog::load(&*fs, dir) {
        Ok(c) => c.not_stored(&files),
        Err(e) => {
            eprintln!("binlogd: --{flag}: {e}");
            return Outcome::Store;
        }
    };
    let out = if flag == "find-time" {
        let micros = match crate::logging::parse_utc_micros(arg) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("binlogd: --find-time: {e}");
                return Outcome::Usage;
            }
        };
        // Event timestamps are whole seconds: a transaction of the asked second is in.
        let secs = micros.div_euclid(1_000_000);
        let asked = crate::logging::utc_datetime(u64::try_from(secs).unwrap_or(0));
        let asked = match micros.rem_euclid(1_000_000) {
            0 => asked,
            us => format!("{asked}.{us:06}"),
        };
        find::find_time(dir, &files, &archived, secs).map(|a| if json { a.json(&asked) } else { a.text(&asked) })
    } else {
        let wanted = match find::Wanted::parse(arg) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("binlogd: --find-gtid: {e}");
                return Outcome::Usage;
            }
        };
        find::find_gtid(dir, &files, &archived, &wanted).map(|a| if json { a.json() } else { a.text() })
    };
    match out {
        Ok(text) => {
            print!("{text}");
            let _ = std::io::stdout().flush();
            Outcome::Ok
        }
        Err(e) => {
            eprintln!("binlogd: --{flag}: {}: {e}", dir.display());
            Outcome::Store
        }
    }
}

/// `--verify DIR`: one line per file on stdout; a progress bar on stderr when it is
/// a terminal and there is much to read.
fn verify(dir: &std::path::Path) -> Outcome {
    // SAFETY: isatty only inspects the descriptor.
    let tty = unsafe { libc::isatty(2) } == 1;
    let total: u64 = crate::binlog::verify::index_names(dir)
        .map(|v| v.iter().filter_map(|n| std::fs::metadata(dir.join(n)).ok()).map(|m| m.len()).sum())
        .unwrap_or(0);
    let bar = tty && total > 32 << 20;
    let mut done = 0u64;
    let r = crate::binlog::verify::verify(dir, |rep| {
        done += rep.size;
        if bar {
            eprint!("\r{:70}\r", "");
        }
        println!("{rep}");
        if bar {
            let pct = done * 100 / total.max(1);
            let fill = (pct / 2).min(50) as usize;
            eprint!("[{}{}] {pct:3}%", "=".repeat(fill), " ".repeat(50 - fill));
        }
    });
    if bar {
        eprint!("\r{:70}\r", "");
    }
    match r {
        Ok(files) => {
            println!("OK: {} file(s), {} bytes", files.len(), files.iter().map(|f| f.size).sum::<u64>());
            Outcome::Ok
        }
        Err(p) => {
            eprintln!("binlogd: verify: {p}");
            Outcome::Store
        }
    }
}

/// Takes an exclusive `flock` on `binlog_dir/binlogd.lock`, creating the directory if
/// needed, and writes this process's id into it. The lock goes with the process, so a
/// crash never leaves it stale.
fn lock_binlog_dir(dir: &std::path::Path) -> Result<Box<dyn crate::binlog::fs::Lock>, String> {
    let path = dir.join(LOCK_FILE);
    let fs = crate::binlog::fs::os();
    fs.create_dir_all(dir).map_err(|e| format!("cannot create binlog_dir {}: {e}", dir.display()))?;
    let lock = fs.lock(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::WouldBlock => {
            format!("another binlogd (pid {e}) is already using binlog_dir {}: refusing to start", dir.display())
        }
        _ => format!("cannot lock {}: {e}", path.display()),
    })?;
    if let Some(f) = lock.file() {
        crate::binlog::owner::set(dir, f).map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
    }
    Ok(lock)
}

/// Writes the pid file whole: a temporary file renamed into place.
fn write_pid_file(p: &std::path::Path) -> std::io::Result<()> {
    let mut tmp = p.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{}\n", std::process::id()))?;
    std::fs::rename(&tmp, p)
}

/// What `start` sets up; the lock is held until exit (a second binlogd on the same
/// binlog_dir would interleave writes).
struct Started {
    _lock: Box<dyn crate::binlog::fs::Lock>,
    ctl: Arc<Control>,
    stats: Arc<Stats>,
    shared: Arc<replica::Shared>,
}

/// Everything before mirroring begins. An error is the line to log, with how the run
/// ends: `Usage` where the cnf must change (the account to run as, TLS files), else
/// `Failed`.
fn start(cfg: &Config, sink: LogSink) -> Result<Started, (Outcome, String)> {
    let usage = |e: String| (Outcome::Usage, e);
    let (switch_to, note) = crate::privileges::plan(cfg).map_err(usage)?;
    if let Some(n) = note {
        warn!("{n}");
    }
    for (p, mode) in cfg.exposed_secrets() {
        warn!("{} holds a secret and can be read by others (mode {mode:03o}): chmod 600 it", p.display());
    }
    start_rest(cfg, sink, switch_to)
}

/// `start` once the account to run as is known: runtime failures, but for the TLS files.
fn start_rest(
    cfg: &Config,
    sink: LogSink,
    switch_to: Option<crate::privileges::Target>,
) -> Result<Started, (Outcome, String)> {
    let failed = |e: String| (Outcome::Failed, e);
    let lock = lock_binlog_dir(&cfg.binlog_dir).map_err(failed)?;
    if let Some(p) = &cfg.pid_file {
        write_pid_file(p).map_err(|e| failed(format!("cannot write pid_file {}: {e}", p.display())))?;
    }
    // What CHANGE MASTER TO set is kept in binlog_dir, over the cnf's master_* keys.
    let fs = crate::binlog::fs::os();
    let store = |e: String| (Outcome::Store, e);
    let overrides = replica::source::load(&*fs, &cfg.binlog_dir).map_err(store)?;
    let source = replica::source::Source::new(cfg, overrides.clone())
        .map_err(|e| store(format!("{}: {e}", cfg.binlog_dir.join(replica::source::SOURCE_FILE).display())))?;
    if !overrides.is_empty() {
        info!(
            "{} (set by CHANGE MASTER TO) overrides the cnf: {}. RESET SLAVE ALL returns to the cnf",
            cfg.binlog_dir.join(replica::source::SOURCE_FILE).display(),
            overrides.describe()
        );
    }
    // Keys are read (or made, at first start) and the ports bound while binlogd may still be root.
    let owner = switch_to.as_ref().map(|t| (t.uid, t.gid));
    let usage = |e: crate::tls::TlsError| (Outcome::Usage, e.to_string());
    let tls_cfg = crate::tls::auto::ensure(&source.effective(), owner).map_err(usage)?;
    let tls = Arc::new(crate::tls::Live::load(&tls_cfg).map_err(usage)?);
    let listen = |what: &str, addr: &Option<String>, default: &str, port: Option<u16>, e: std::io::Error| {
        failed(format!("cannot listen{what} on {}:{}: {e}", addr.as_deref().unwrap_or(default), port.unwrap_or(0)))
    };
    let listener =
        crate::server::bind(cfg).map_err(|e| listen("", &cfg.listen_address, "0.0.0.0", cfg.listen_port, e))?;
    let metrics = crate::metrics::bind(cfg)
        .map_err(|e| listen(" for metrics", &cfg.metrics_address, "127.0.0.1", cfg.metrics_port, e))?;
    if let Some(t) = &switch_to {
        crate::privileges::switch(t).map_err(failed)?;
        info!("switched to user {} (uid {}, gid {})", t.name, t.uid, t.gid);
        crate::privileges::check_writable(&cfg.binlog_dir, t).map_err(failed)?;
    }
    let ctl = Control::new();
    crate::signals::spawn(ctl.clone(), sink.clone(), tls.clone())
        .map_err(|e| failed(format!("cannot install signal handlers: {e}")))?;
    let stats = Arc::new(Stats::default());
    let uuid = replica::replica_uuid(cfg).map_err(|e| failed(e.to_string()))?;
    let shared = Arc::new(replica::Shared::new(cfg, uuid, stats.clone(), ctl.clone(), sink, tls, source));
    let (applied, refused) = shared.settings.load_persisted(&*crate::binlog::fs::os(), &cfg.binlog_dir);
    if !applied.is_empty() {
        log::info!("settings SET PERSIST kept, over the cnf's: {}", applied.join(", "));
    }
    for r in refused {
        log::warn!("{r}: the cnf's value holds");
    }
    let thread = |e: std::io::Error| failed(format!("cannot start a thread: {e}"));
    shared.serving.durable.spawn_waker().map_err(thread)?;
    crate::replica::purger::spawn_policy(cfg, shared.clone()).map_err(thread)?;
    crate::replica::archiver::spawn(cfg, shared.clone()).map_err(thread)?;
    crate::replica::variables::spawn(shared.clone()).map_err(thread)?;
    if let Some(l) = metrics {
        crate::metrics::spawn(l, shared.clone(), &cfg.binlog_dir).map_err(thread)?;
    }
    if let Some(l) = listener {
        crate::server::spawn(cfg, shared.clone(), l)
            .map_err(|e| failed(format!("cannot start the binlog server: {e}")))?;
    }
    Ok(Started { _lock: lock, ctl, stats, shared })
}

fn daemon(cfg: &Config, sink: LogSink) -> Outcome {
    info!("binlogd {} starting, pid {}", env!("CARGO_PKG_VERSION"), std::process::id());
    info!("current work dir {}", cfg.binlog_dir.display());
    let Started { _lock, ctl, stats, shared } = match start(cfg, sink) {
        Ok(s) => s,
        Err((outcome, e)) => {
            error!("{e}");
            return outcome;
        }
    };
    let r = replica::run(cfg, ctl, stats.clone(), shared);
    let s = &stats;
    let ld = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    info!(
        "events received {}, bytes written {}, fsyncs {}, ACKs {}, reconnects {}",
        ld(&s.events_received),
        ld(&s.bytes_written),
        ld(&s.fsyncs),
        ld(&s.acks),
        ld(&s.reconnects)
    );
    if let Some(p) = &cfg.pid_file {
        let _ = std::fs::remove_file(p);
    }
    match r {
        Ok(()) => {
            info!("binlogd stopped");
            Outcome::Ok
        }
        Err(e) => {
            error!("{e}");
            error!("binlogd stopped on an error");
            if e.needs_a_person() {
                Outcome::Store
            } else if e.is_config() {
                Outcome::Usage
            } else {
                Outcome::Failed
            }
        }
    }
}
