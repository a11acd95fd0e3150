//! The virtual replica: connect to the primary, stream its binlog into the store,
//! acknowledge durable transactions, and reconnect with backoff on any failure. This
//! module is the supervisor (`run`) and the state it shares with the server; one
//! connection is `session`, where it starts is `start`.
//!
//! Threads per connection: `reader` (owns the socket) -> bounded channel ->
//! `writer` (append, fsync, publish) -> `acker` (semisync reply on a socket clone).

pub mod acker;
pub mod archiver;
pub mod candidates;
pub mod connect;
#[cfg(test)]
mod crash_sim;
pub mod purger;
pub mod reader;
pub mod restorer;
mod session;
pub mod source;
pub mod start;
pub mod variables;
use session::Session;
pub mod writer;

use std::fmt;
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use log::{error, info, warn};

use crate::binlog::store::{Store, StoreError};
use crate::config::Config;
use crate::proto;
use connect::{Flavor, Primary, Start};

/// Errors of the replica layer.
#[derive(Debug)]
pub enum ReplicaError {
    /// Could not connect or log in.
    Connect(proto::Error),
    /// A setup statement or command failed.
    Setup(proto::Error),
    /// Reading the stream failed (ERR packet, lost connection, timeout).
    Read(proto::Error),
    Protocol(String),
    /// A bad event from the primary (size, CRC).
    Event(String),
    Store(StoreError),
    /// Retrying cannot help (e.g. same server_id).
    Fatal(String),
    /// No candidate of `master_host` can be followed now (`candidates`).
    Candidates(String),
    /// The source lacks transactions binlogd stored: its history forks from binlogd's.
    Fork(String),
    /// The cnf is wrong for this primary (the same server_id).
    Config(String),
}

impl ReplicaError {
    /// The stored binlog needs a person: starting again would find the same fault.
    pub fn needs_a_person(&self) -> bool {
        matches!(
            self,
            ReplicaError::Store(
                StoreError::Corrupt { .. }
                    | StoreError::Index { .. }
                    | StoreError::Replaced { .. }
                    | StoreError::OtherBinlog { .. }
            )
        )
    }

    /// The cnf must change (binlogd's server_id is the primary's).
    pub fn is_config(&self) -> bool {
        matches!(self, ReplicaError::Config(_))
    }

    pub fn connect(e: proto::Error) -> Self {
        ReplicaError::Connect(e)
    }
    pub fn setup(e: proto::Error) -> Self {
        ReplicaError::Setup(e)
    }
    pub fn read(e: proto::Error) -> Self {
        ReplicaError::Read(e)
    }
}

/// Client-side error numbers mysqld uses in its replica messages.
const CR_SERVER_LOST: u16 = 2013;
const CR_CONN_HOST_ERROR: u16 = 2003;

impl fmt::Display for ReplicaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplicaError::Connect(proto::Error::Server { code, message, .. }) => {
                write!(f, "error connecting to master: {code},{message}")
            }
            ReplicaError::Connect(e) => write!(f, "error connecting to master: {CR_CONN_HOST_ERROR},{e}"),
            ReplicaError::Setup(e) => write!(f, "error setting up replication on master: {e}"),
            ReplicaError::Read(e @ proto::Error::Server { .. }) => {
                write!(f, "Got error reading packet from server: {e}")
            }
            ReplicaError::Read(e) if e.is_timeout() => write!(
                f,
                "Got error reading packet from server: {CR_SERVER_LOST},no packet within net_read_time_out ({e})"
            ),
            ReplicaError::Read(e) => {
                write!(
                    f,
                    "Got error reading packet from server: {CR_SERVER_LOST},Lost connection to MySQL server ({e})"
                )
            }
            ReplicaError::Protocol(m) => write!(f, "replication protocol error: {m}"),
            ReplicaError::Event(m) => write!(f, "bad event from master: {m}"),
            ReplicaError::Store(e) => write!(f, "{e}"),
            ReplicaError::Fatal(m) => write!(f, "{m}"),
            ReplicaError::Candidates(m) | ReplicaError::Fork(m) | ReplicaError::Config(m) => write!(f, "{m}"),
        }
    }
}

impl ReplicaError {
    /// The error number SHOW SLAVE STATUS reports (Last_IO_Errno).
    pub fn errno(&self) -> u16 {
        match self {
            ReplicaError::Connect(proto::Error::Server { code, .. })
            | ReplicaError::Setup(proto::Error::Server { code, .. })
            | ReplicaError::Read(proto::Error::Server { code, .. }) => *code,
            ReplicaError::Connect(_) => CR_CONN_HOST_ERROR,
            ReplicaError::Read(_) => CR_SERVER_LOST,
            // ER_SLAVE_RELAY_LOG_WRITE_FAILURE / ER_SLAVE_FATAL_ERROR, as mysqld's I/O thread would say.
            ReplicaError::Store(_) => 13122,
            _ => 1593,
        }
    }

    /// binlog_dir's file system is full (see `StoreError::is_disk_full`).
    fn is_disk_full(&self) -> bool {
        matches!(self, ReplicaError::Store(e) if e.is_disk_full())
    }
}

impl std::error::Error for ReplicaError {}

impl From<StoreError> for ReplicaError {
    fn from(e: StoreError) -> Self {
        ReplicaError::Store(e)
    }
}

/// Counters for the log and for status.
#[derive(Default, Debug)]
pub struct Stats {
    /// Binlog bytes sent to replicas and clients.
    pub bytes_sent: AtomicU64,
    pub events_received: AtomicU64,
    pub events_written: AtomicU64,
    /// ACK latency: from the writer taking the first event that asked for the ACK
    /// to the ACK's send; the last one, and all of them (counted by `acks`).
    pub last_ack_us: AtomicU64,
    pub ack_latency: Latency,
    /// Time to write out what was pending and fsync it (counted by `fsyncs`): the
    /// part of an ACK's latency that the disk decides.
    pub fsync_latency: Latency,
    pub bytes_received: AtomicU64,
    pub bytes_written: AtomicU64,
    pub fsyncs: AtomicU64,
    pub acks: AtomicU64,
    pub reconnects: AtomicU64,
    pub heartbeats: AtomicU64,
    /// The primary's position after the last event read (its log_pos).
    pub read_pos: AtomicU64,
    /// Timestamp of the last event read, and whether a heartbeat came after it
    /// (the primary had nothing more to send).
    pub last_event_ts: AtomicU64,
    pub idle: AtomicBool,
}

/// Upper bounds (µs) of the latency histograms' buckets; +Inf is the count kept
/// beside each histogram.
pub const LATENCY_BUCKETS_US: [u64; 12] =
    [100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000];

/// A latency histogram: the sum and cumulative buckets. Its count is a counter of its
/// own in `Stats` (`acks`, `fsyncs`), which status has shown all along.
#[derive(Default, Debug)]
pub struct Latency {
    pub sum_us: AtomicU64,
    pub buckets: [AtomicU64; LATENCY_BUCKETS_US.len()],
}

impl Latency {
    /// Adds one observation; returns it in µs.
    pub fn record(&self, d: Duration) -> u64 {
        let us = d.as_micros().min(u128::from(u64::MAX)) as u64;
        self.sum_us.fetch_add(us, Ordering::Relaxed);
        for (b, le) in self.buckets.iter().zip(LATENCY_BUCKETS_US) {
            if us <= le {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        us
    }
}

impl Stats {
    pub fn record_ack_latency(&self, d: Duration) {
        let us = self.ack_latency.record(d);
        self.last_ack_us.store(us, Ordering::Relaxed);
    }
}

/// binlogd's own connection to the primary, for SHOW SLAVE STATUS.
#[derive(Debug, Clone, Default)]
pub struct Upstream {
    pub state: &'static str,
    /// When `state` was entered, for SHOW PROCESSLIST's Time.
    pub since: Option<std::time::Instant>,
    /// The dump is streaming.
    pub running: bool,
    pub semisync: bool,
    /// The primary's file being read.
    pub read_file: String,
    pub last_errno: u16,
    pub last_error: String,
    pub last_error_at: Option<std::time::SystemTime>,
}

impl Upstream {
    pub fn set_state(&mut self, state: &'static str) {
        if self.state != state || self.since.is_none() {
            self.since = Some(std::time::Instant::now());
        }
        self.state = state;
    }
}

/// Where a dumping connection is reading.
#[derive(Debug, Clone, Default)]
pub struct ReaderPos {
    pub file: String,
    pub pos: u64,
    /// Its COM_REGISTER_SLAVE server_id, if it registered.
    pub server_id: Option<u32>,
}

/// State the replica side shares with the binlog server side, in three owners: the
/// connection to the primary (`link`), the counters (`stats`, which metrics read), and
/// what the server reads of the store (`serving`).
pub struct Shared {
    pub link: Link,
    pub stats: Arc<Stats>,
    pub serving: Serving,
    /// What SET GLOBAL changes while binlogd runs.
    pub settings: crate::settings::Settings,
}

/// The connection to the primary: its state (SHOW SLAVE STATUS), the primary as last
/// seen, STOP/START SLAVE, the TLS settings both ways, binlogd's own UUID.
pub struct Link {
    pub upstream: Mutex<Upstream>,
    /// The primary as last seen at connect time.
    pub primary: Mutex<Option<Primary>>,
    /// binlogd's own UUID (reported to the primary, and served as server_uuid).
    pub uuid: String,
    /// STOP SLAVE / START SLAVE.
    pub control: Arc<Control>,
    /// TLS both ways, reloadable.
    pub tls: Arc<crate::tls::Live>,
    /// The server to mirror and how to connect to it (CHANGE MASTER TO).
    pub source: source::Source,
    /// Held while binlogd.variables is written (`variables::keep`).
    pub variables_kept: Mutex<()>,
}

/// What the binlog server reads: what is durable, where each file starts, who reads
/// which file, the lock the index is rewritten under, the error log (FLUSH LOGS).
pub struct Serving {
    pub durable: Arc<crate::binlog::durable::Durable>,
    /// Where each stored file starts in GTID terms, for GTID dumps.
    pub gtid_index: Mutex<crate::binlog::gtid_index::GtidIndex>,
    /// Guards index rewrites between the writer and purges.
    pub index: Arc<crate::binlog::store::IndexShare>,
    /// Where each dumping connection is reading (connection id -> position).
    pub readers: Mutex<std::collections::BTreeMap<u32, ReaderPos>>,
    /// The error log, for FLUSH LOGS.
    pub log: crate::logging::LogSink,
    /// The archive catalog: written by the archiver, read by the restorer.
    pub catalog: Arc<crate::binlog::catalog::Kept>,
    /// Brings archived files back to serve them (`restore_command`), when set.
    pub restorer: Option<Arc<restorer::Restorer>>,
    /// The event boundaries found so far in stored files, for dumps by position.
    pub boundaries: crate::binlog::boundaries::Boundaries,
    /// The stored files mapped for dumps, each once.
    pub maps: crate::binlog::shared_map::Maps,
    /// Set once the binlog server may take connections.
    pub opened: Opened,
}

/// Whether the binlog server may greet clients. mysqld takes connections only after
/// its recovery, so a client never sees a server that knows none of its binary logs:
/// binlogd does the same, and greets once the stored files are recovered and
/// published. A recovery that waits for space on a full binlog_dir opens it too, so
/// that a DBA can connect and PURGE BINARY LOGS to free some.
#[derive(Default)]
pub struct Opened {
    done: Mutex<bool>,
    cv: Condvar,
}

impl Opened {
    pub fn set(&self) {
        let mut g = self.done.lock().unwrap_or_else(|e| e.into_inner());
        if !*g {
            *g = true;
            self.cv.notify_all();
        }
    }

    /// Returns once `set` was called.
    pub fn wait(&self) {
        let mut g = self.done.lock().unwrap_or_else(|e| e.into_inner());
        while !*g {
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Shared {
    pub fn new(
        cfg: &Config,
        uuid: String,
        stats: Arc<Stats>,
        control: Arc<Control>,
        log: crate::logging::LogSink,
        tls: Arc<crate::tls::Live>,
        source: source::Source,
    ) -> Shared {
        let catalog = Arc::new(crate::binlog::catalog::Kept::new(crate::binlog::fs::os(), &cfg.binlog_dir));
        Shared {
            link: Link {
                upstream: Mutex::new(Upstream { state: "Connecting to master", ..Default::default() }),
                primary: Default::default(),
                uuid,
                control,
                tls,
                source,
                variables_kept: Mutex::new(()),
            },
            stats,
            settings: crate::settings::Settings::new(cfg),
            serving: Serving {
                durable: Default::default(),
                gtid_index: Mutex::new(crate::binlog::gtid_index::GtidIndex::new(&cfg.binlog_dir)),
                index: Default::default(),
                readers: Default::default(),
                log,
                restorer: restorer::Restorer::new(cfg, catalog.clone()),
                catalog,
                boundaries: Default::default(),
                maps: Default::default(),
                opened: Default::default(),
            },
        }
    }

    /// Seconds_Behind_Master: None when not mirroring, 0 when caught up, else the
    /// age of the last event read.
    pub fn seconds_behind(&self) -> Option<u64> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        if !self.link.upstream().running {
            None
        } else if self.stats.idle.load(Ordering::Relaxed) {
            Some(0)
        } else {
            Some(now.saturating_sub(self.stats.last_event_ts.load(Ordering::Relaxed)))
        }
    }
}

impl Link {
    pub fn upstream(&self) -> std::sync::MutexGuard<'_, Upstream> {
        self.upstream.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn failed(&self, e: &ReplicaError) {
        let mut u = self.upstream();
        u.running = false;
        u.set_state("Waiting to reconnect after a failed master event read");
        u.last_errno = e.errno();
        u.last_error = e.to_string();
        u.last_error_at = Some(std::time::SystemTime::now());
    }
}

impl Serving {
    /// Records where a dumping connection is.
    pub fn set_reading(&self, id: u32, file: &str, pos: u64, server_id: Option<u32>) {
        let mut g = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        let r = g.entry(id).or_default();
        if r.file != file {
            r.file = file.to_string();
        }
        r.pos = pos;
        r.server_id = server_id;
    }
}

/// Shared between the supervisor, the signal thread and STOP/START SLAVE.
#[derive(Default)]
pub struct Control {
    /// binlogd is stopping.
    pub stop: Arc<AtomicBool>,
    /// The current connection must end (a stop, or STOP SLAVE).
    halt: Arc<AtomicBool>,
    /// Mirroring is paused by STOP SLAVE until START SLAVE.
    paused: AtomicBool,
    socket: Mutex<Option<TcpStream>>,
}

impl Control {
    pub fn new() -> Arc<Control> {
        Arc::new(Control::default())
    }

    /// Stops reading: the reader's blocking read returns at once.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.end_connection();
    }

    /// STOP SLAVE: what is queued is written and fsynced, then the connection ends
    /// and no other is made until `resume`. Returns false if already paused.
    pub fn pause(&self) -> bool {
        let was = self.paused.swap(true, Ordering::SeqCst);
        self.end_connection();
        !was
    }

    /// START SLAVE. Returns false if it was not paused.
    pub fn resume(&self) -> bool {
        self.paused.swap(false, Ordering::SeqCst)
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    fn end_connection(&self) {
        self.halt.store(true, Ordering::SeqCst);
        self.close_socket();
    }

    /// Ends the reader's reads on the connection now, without stopping anything else.
    fn close_socket(&self) {
        if let Some(s) = self.socket.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = s.shutdown(Shutdown::Read);
        }
    }

    fn set_socket(&self, s: Option<TcpStream>) {
        *self.socket.lock().unwrap_or_else(|e| e.into_inner()) = s;
    }
}

/// The first wait before reconnecting; it doubles up to `master_retry_max`.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// A full binlog_dir, as mysqld treats a full disk under its binlog
/// (https://dev.mysql.com/doc/refman/8.4/en/full-disk.html): mirroring waits, trying
/// again once a minute, and says so in the log every ten minutes while it lasts. It also
/// tries again as soon as this much more space is free than when the wait began.
const SPACE_RETRY: Duration = Duration::from_secs(60);
const SPACE_LOG: Duration = Duration::from_secs(600);
const SPACE_FREED: u64 = 1 << 20;
const SPACE_POLL: Duration = Duration::from_secs(1);
pub const SPACE_STATE: &str = "Waiting for free space in binlog_dir";

/// A full binlog_dir: logged when the wait begins, then every SPACE_LOG while it lasts.
#[derive(Default)]
struct FullDisk {
    logged: Option<std::time::Instant>,
}

impl FullDisk {
    /// A write found binlog_dir full: SHOW SLAVE STATUS and the log say so.
    fn hit(&mut self, e: &ReplicaError, dir: &Path, shared: &Shared) {
        shared.link.failed(e);
        shared.link.upstream().set_state(SPACE_STATE);
        if self.logged.is_some_and(|t| t.elapsed() < SPACE_LOG) {
            return;
        }
        self.logged = Some(std::time::Instant::now());
        error!(
            "{e}: {} is full. Mirroring waits for free space (PURGE BINARY LOGS, binlog_space_limit, \
             binlog_expire_logs_seconds, or a larger disk) and tries again once a minute, or as soon as space \
             is freed; what is stored is kept and still served",
            dir.display()
        );
    }

    /// Waits (see `wait_for_space`); once space was freed, the next hit is logged at once.
    fn wait(&mut self, dir: &Path, ctl: &Control) {
        if wait_for_space(dir, ctl) {
            self.logged = None;
        }
    }
}

/// Waits up to SPACE_RETRY for `dir`'s file system to gain SPACE_FREED, or for a
/// stop or STOP SLAVE. Returns whether space was freed.
fn wait_for_space(dir: &Path, ctl: &Control) -> bool {
    let free = || crate::binlog::fs::free_space(dir).ok();
    let before = free().unwrap_or(0);
    let start = std::time::Instant::now();
    while start.elapsed() < SPACE_RETRY {
        connect::sleep_unless(&ctl.halt, SPACE_POLL);
        if ctl.stop.load(Ordering::SeqCst) || ctl.is_paused() {
            return false;
        }
        if let Some(now) = free().filter(|&n| n >= before.saturating_add(SPACE_FREED)) {
            info!("{}: {} MiB free now; mirroring resumes", dir.display(), now >> 20);
            return true;
        }
    }
    false
}

const UUID_FILE: &str = "binlogd.uuid";

/// A random (version 4) UUID from the OS CSPRNG.
pub fn new_uuid() -> Result<String, std::io::Error> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(std::io::Error::other)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Ok(crate::binlog::gtid::format_uuid(&b))
}

/// Replaces a small file of binlog_dir before the store is open (`Fs::replace`).
fn write_small_file(dir: &Path, name: &str, text: &str) -> Result<(), StoreError> {
    crate::binlog::fs::os().replace(dir, name, text.as_bytes(), false).map_err(|err| StoreError::Io {
        path: dir.join(name),
        op: "replace",
        err,
    })
}

/// The replica UUID: from the cnf, else kept in binlog_dir (generated on first start).
pub fn replica_uuid(cfg: &Config) -> Result<String, StoreError> {
    if let Some(u) = &cfg.replica_uuid {
        return Ok(u.clone());
    }
    std::fs::create_dir_all(&cfg.binlog_dir).map_err(|err| StoreError::Io {
        path: cfg.binlog_dir.clone(),
        op: "create directory",
        err,
    })?;
    let path = cfg.binlog_dir.join(UUID_FILE);
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim();
        if crate::binlog::gtid::parse_uuid(t).is_ok() {
            return Ok(t.to_string());
        }
        warn!("{} does not hold a UUID; generating a new one", path.display());
    }
    let u = new_uuid().map_err(|err| StoreError::Io { path: path.clone(), op: "generate UUID", err })?;
    write_small_file(&cfg.binlog_dir, UUID_FILE, &format!("{u}\n"))?;
    info!("generated replica UUID {u}, kept in {}", path.display());
    Ok(u)
}

/// The primary cannot send what binlogd asked for (purged binlogs or GTIDs).
const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;
/// MariaDB's ER_SLAVE_SAME_ID: another replica registered with this server_id.
const ER_SLAVE_SAME_ID: u16 = 4052;

/// Did the primary end this connection because another replica connected with
/// binlogd's server_id (MariaDB, 4052) or server_uuid (MySQL, a 1236 saying so)?
/// Reconnecting would only end the other one's connection in turn, so binlogd
/// stops mirroring, as a MySQL replica's I/O thread does.
fn displaced_by_same_id(e: &ReplicaError) -> bool {
    match e {
        ReplicaError::Read(proto::Error::Server { code: ER_SLAVE_SAME_ID, .. }) => true,
        ReplicaError::Read(proto::Error::Server { code: ER_MASTER_FATAL_ERROR_READING_BINLOG, message, .. }) => {
            message.to_ascii_lowercase().contains("same server_uuid/server_id")
        }
        _ => false,
    }
}

/// After a 1236, logs what binlogd has and what the primary still offers.
fn explain_missing(cfg: &Config, tls: &crate::tls::Live, store: &Store) {
    let rp = store.resume_point();
    let have = match &rp.file {
        Some((f, p)) => format!("binlogd has up to {f}:{p}"),
        None => "binlogd has no files".to_string(),
    };
    let mut have_gtids = String::new();
    if !rp.gtids.is_empty() {
        have_gtids = format!(", GTIDs {}", rp.gtids.to_string().replace('\n', ""));
    } else if !rp.maria.is_empty() {
        have_gtids = format!(", GTID position {}", rp.maria);
    }
    let offers = (|| -> Result<String, ReplicaError> {
        let (mut c, p) = connect::connect(cfg, tls)?;
        let logs = connect::binary_logs(&mut c)?;
        let gtid_q = match p.flavor {
            Flavor::Mysql => "SELECT @@GLOBAL.gtid_purged",
            Flavor::MariaDb => "SELECT @@GLOBAL.gtid_binlog_state",
        };
        let g = c.query(gtid_q).ok().and_then(|r| r.scalar().map(str::to_string)).unwrap_or_default();
        let files = match (logs.first(), logs.last()) {
            (Some(a), Some(b)) => format!("files {a} to {b}"),
            _ => "no binlog files".into(),
        };
        let what = if p.flavor == Flavor::Mysql { "gtid_purged" } else { "gtid_binlog_state" };
        Ok(format!("{files}, {what} '{}'", g.replace('\n', "")))
    })()
    .unwrap_or_else(|e| format!("(could not ask: {e})"));
    error!("{have}{have_gtids}; the primary offers {offers}. binlogd keeps its files and retries; if the primary really purged them, point binlogd at a server that still has them or start a new binlog_dir");
}

/// Runs the replica until stopped. Errors returned are the ones retrying cannot fix.
pub fn run(cfg: &Config, ctl: Arc<Control>, stats: Arc<Stats>, shared: Arc<Shared>) -> Result<(), ReplicaError> {
    let uuid = shared.link.uuid.clone();
    let mut backoff = FIRST_RETRY.min(cfg.retry_max);
    let mut first = true;
    let mut file_pos_once = false;
    let mut stopped_by_error = false;
    let mut full_disk = FullDisk::default();
    // The last attempt found binlog_dir full: wait for space before the next.
    let mut wait_space = false;
    while !ctl.stop.load(Ordering::SeqCst) {
        if ctl.is_paused() {
            {
                let mut u = shared.link.upstream();
                u.running = false;
                u.set_state(if stopped_by_error { "" } else { "Replica stopped by STOP SLAVE" });
            }
            if !stopped_by_error {
                info!("mirroring paused by STOP SLAVE: what was received is stored and fsynced; START SLAVE resumes");
            }
            stopped_by_error = false;
            while ctl.is_paused() && !ctl.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if ctl.stop.load(Ordering::SeqCst) {
                break;
            }
            info!("mirroring resumed by START SLAVE");
            backoff = FIRST_RETRY.min(cfg.retry_max);
        }
        ctl.halt.store(false, Ordering::SeqCst);
        if ctl.is_paused() {
            continue;
        }
        // The source as CHANGE MASTER TO last set it (else the cnf's), for this attempt.
        let source = shared.link.source.effective();
        let cfg = &source;
        // Every connection starts from what recovery finds on disk. Recovery fsynced
        // it, so it is served at once, even while the primary cannot be reached.
        let opened = {
            let _index = shared.serving.index.lock();
            Store::open(&cfg.binlog_dir)
        };
        let mut store = match opened {
            Ok(s) => s,
            // Recovery may need to write (a file's magic, the index): wait as for
            // any other write.
            Err(e) if e.is_disk_full() => {
                full_disk.hit(&ReplicaError::Store(e), &cfg.binlog_dir, &shared);
                shared.serving.opened.set();
                full_disk.wait(&cfg.binlog_dir, &ctl);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        store.share_index(shared.serving.index.clone());
        store.set_preallocate(cfg.binlog_preallocate);
        store.set_sync_log(cfg.binlog_sync_log_size)?;
        // Room for a purge to run when the disk is full.
        store.keep_reserve();
        shared.serving.durable.publish(Some(store.files()), store.position(), Some(store.gtid_state()));
        shared.serving.opened.set();
        if first {
            // The stored files are served from now on, whether the primary answers or not.
            crate::notify::notify("READY=1");
        }
        if std::mem::take(&mut wait_space) {
            // Recovery has just cut the transaction that did not fit, freeing its space.
            full_disk.wait(&cfg.binlog_dir, &ctl);
            if ctl.stop.load(Ordering::SeqCst) || ctl.is_paused() {
                continue;
            }
        }
        // With candidate primaries, the one that is the primary now.
        let picked;
        let cfg = if cfg.candidates().len() > 1 {
            let known = match store.origin() {
                Ok(o) => o.map(|o| o.id),
                Err(e) => return Err(e.into()),
            };
            match candidates::pick(cfg, &shared.link.tls, &store.resume_point(), known.as_deref()) {
                Ok(c) => {
                    info!("candidate primaries: following {}:{}", c.master_host, c.master_port);
                    shared.link.source.set_following(Some((c.master_host.clone(), c.master_port)));
                    picked = c;
                    &picked
                }
                Err(e) => {
                    error!("{e}");
                    shared.link.failed(&e);
                    shared.link.source.set_following(None);
                    first = false;
                    drop(store);
                    info!("asking the candidate primaries again in {:.1}s", backoff.as_secs_f64());
                    connect::sleep_unless(&ctl.halt, backoff);
                    backoff = (backoff * 2).min(cfg.retry_max);
                    continue;
                }
            }
        } else {
            cfg
        };
        let s = Session { cfg, ctl: &ctl, stats: &stats, shared: &shared, uuid: &uuid, first, file_pos_once };
        file_pos_once = false;
        match s.run(store, &mut backoff) {
            Ok(()) => {}
            Err(ReplicaError::Store(e @ StoreError::Unfinished { .. })) => {
                info!("{e}");
                file_pos_once = true;
                first = false;
                continue;
            }
            Err(
                e @ (ReplicaError::Fatal(_)
                | ReplicaError::Config(_)
                | ReplicaError::Store(
                    StoreError::Corrupt { .. } | StoreError::Index { .. } | StoreError::Replaced { .. },
                )),
            ) => {
                shared.link.failed(&e);
                return Err(e);
            }
            Err(e) if e.is_disk_full() => {
                full_disk.hit(&e, &cfg.binlog_dir, &shared);
                wait_space = true;
                first = false;
                stats.reconnects.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            Err(e) if displaced_by_same_id(&e) => {
                shared.link.failed(&e);
                error!(
                    "{e}. Another replica of the primary uses binlogd's server_id {} (or its server_uuid, kept in {}), \
                     and each connection ends the other's: mirroring is stopped, the stored files are still served. \
                     Give binlogd a server_id of its own in {} and restart it, or run START SLAVE (START REPLICA) once the other \
                     replica is gone",
                    cfg.server_id,
                    cfg.binlog_dir.join(UUID_FILE).display(),
                    cfg.path.display()
                );
                ctl.paused.store(true, Ordering::SeqCst);
                stopped_by_error = true;
                first = false;
                continue;
            }
            Err(e) => {
                error!("{e}");
                shared.link.failed(&e);
                if matches!(
                    &e,
                    ReplicaError::Read(proto::Error::Server { code: ER_MASTER_FATAL_ERROR_READING_BINLOG, .. })
                ) {
                    explain_missing(cfg, &shared.link.tls, &Store::open(&cfg.binlog_dir)?);
                }
            }
        }
        first = false;
        if ctl.stop.load(Ordering::SeqCst) {
            break;
        }
        if ctl.is_paused() {
            continue;
        }
        stats.reconnects.fetch_add(1, Ordering::Relaxed);
        info!("reconnecting to master in {:.1}s", backoff.as_secs_f64());
        connect::sleep_unless(&ctl.halt, backoff);
        backoff = (backoff * 2).min(cfg.retry_max);
    }
    Ok(())
}
