//! The binlog server: replicas and `mysqlbinlog --read-from-remote-server` connect
//! here and read the mirrored files. One named thread per connection, capped by
//! `max_connections`; a connection that stalls or sends garbage costs only its thread.

pub mod change;
pub mod collations;
pub mod columns;
pub mod conns;
pub mod ctx;
pub mod describe;
pub mod dump;
pub mod events;
pub mod filter;
pub mod prepared;
pub mod query;
pub mod reply;
pub mod session;
pub mod show;
pub mod socket;
pub mod sql;
pub mod tables;
pub mod values;

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use log::{error, info, warn};

use crate::config::Config;

use crate::binlog::event::{EventHeader, EventType, FormatDescription, HEADER_LEN};
use crate::replica::connect::{Flavor, Primary};
use crate::replica::Shared;

/// A replica registered with COM_REGISTER_SLAVE.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The connection that registered it.
    pub conn: u32,
    pub server_id: u32,
    pub host: String,
    pub port: u16,
    pub uuid: String,
}

/// State of the serving side.
pub struct Server {
    pub cfg: Config,
    pub shared: Arc<Shared>,
    /// The registered replicas, by connection id.
    pub replicas: Mutex<BTreeMap<u32, Registered>>,
    connections: AtomicUsize,
    /// The most connections open at once (Max_used_connections).
    max_used: AtomicUsize,
    next_id: AtomicUsize,
    pub started: std::time::Instant,
    /// Who may log in: `master_user` first, then `server_accounts`; hashed once.
    pub accounts: Vec<crate::proto::auth::Account>,
    /// The primary's facts as read from the newest stored file, and that file's name.
    stored_primary: Mutex<Option<(String, Primary)>>,
    /// Every connection, for SHOW PROCESSLIST and KILL.
    pub conns: conns::Conns,
    /// Statements received (COM_QUERY), for Questions.
    pub questions: std::sync::atomic::AtomicU64,
    /// How often each server_id ended its own older connection lately.
    pub displacements: Mutex<Displacements>,
    /// Failed logins, warned of at most once per `DENIED_LOG_EVERY`.
    pub denied_log: RateLimited,
}

/// How often a failed login is warned of at most; the warning counts those left out.
const DENIED_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// A warning that repeats (failed logins): logged at most once per period, with the
/// number of those left out since the last one.
#[derive(Default)]
pub struct RateLimited {
    state: Mutex<(Option<std::time::Instant>, u64)>,
}

impl RateLimited {
    pub fn warn(&self, msg: &str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        if st.0.is_some_and(|t| now.duration_since(t) < DENIED_LOG_EVERY) {
            st.1 += 1;
            return;
        }
        let left_out = std::mem::take(&mut st.1);
        st.0 = Some(now);
        drop(st);
        if left_out > 0 {
            warn!("{msg} ({left_out} more failed logins in the last {}s not logged)", DENIED_LOG_EVERY.as_secs());
        } else {
            warn!("{msg}");
        }
    }
}

/// Counts, per server_id, the connections a new registration ended within a window,
/// to tell a replica reconnecting now and then from two replicas sharing a server_id
/// (or a MySQL server_uuid), which end each other's connection over and over.
#[derive(Default)]
pub struct Displacements {
    seen: BTreeMap<u32, (std::time::Instant, u32)>,
}

/// Registrations ending an older connection of one server_id within `TWINS_WINDOW`
/// that are taken for two replicas sharing it.
pub const TWINS_COUNT: u32 = 5;
pub const TWINS_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

impl Displacements {
    /// Records that a registration of `server_id` ended an older connection at `now`;
    /// true once, when that happened `TWINS_COUNT` times within `TWINS_WINDOW`.
    pub fn record(&mut self, server_id: u32, now: std::time::Instant) -> bool {
        let e = self.seen.entry(server_id).or_insert((now, 0));
        if now.duration_since(e.0) > TWINS_WINDOW {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1 == TWINS_COUNT
    }
}

/// Binds the listening socket when `listen_port` is set (before privileges are dropped,
/// so a port below 1024 works).
pub fn bind(cfg: &Config) -> std::io::Result<Option<TcpListener>> {
    let Some(port) = cfg.listen_port else { return Ok(None) };
    let addr = cfg.listen_address.clone().unwrap_or_else(|| "0.0.0.0".into());
    let listener = TcpListener::bind((addr.as_str(), port))?;
    Ok(Some(listener))
}

/// Starts the listener thread, which greets clients once the replica has recovered
/// and published the stored files (`Opened`).
pub fn spawn(cfg: &Config, shared: Arc<Shared>, listener: TcpListener) -> std::io::Result<()> {
    let srv = Arc::new(Server {
        cfg: cfg.clone(),
        shared,
        replicas: Mutex::new(BTreeMap::new()),
        displacements: Mutex::new(Displacements::default()),
        connections: AtomicUsize::new(0),
        max_used: AtomicUsize::new(0),
        next_id: AtomicUsize::new(1),
        started: std::time::Instant::now(),
        accounts: std::iter::once(crate::proto::auth::Account::from_password(
            &cfg.master_user,
            cfg.master_password.as_bytes(),
        ))
        .chain(cfg.server_accounts.iter().cloned())
        .collect(),
        stored_primary: Mutex::new(None),
        denied_log: RateLimited::default(),
        conns: Default::default(),
        questions: Default::default(),
    });
    let sh = srv.shared.clone();
    thread::Builder::new().name("gtid-index".into()).spawn(move || keep_gtid_index(&sh))?;
    thread::Builder::new().name("listener".into()).spawn(move || {
        // Clients that connect before the stored files are recovered wait in the
        // listen backlog for their greeting (see `Opened`).
        srv.shared.serving.opened.wait();
        info!(
            "binlog server listening on {}{}",
            listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            match (srv.shared.link.tls.acceptor(), srv.cfg.require_secure_transport) {
                (Some(_), true) => ", TLS required",
                (Some(_), false) => ", TLS offered",
                (None, _) => "",
            }
        );
        for conn in listener.incoming() {
            match conn {
                Ok(sock) => srv.accept(sock),
                Err(e) => warn!("accept on the binlog server port failed: {e}"),
            }
        }
    })?;
    Ok(())
}

/// Indexes each new file as soon as its header is durable, so a GTID dump finds the
/// index up to date. The files stored at start are left to the first who needs the
/// index (a GTID dump, a purge, `@@gtid_purged`), which indexes what it lacks itself,
/// or to the next new file: reading the index of years of files must not compete with
/// recovery and the first clients for the CPU.
fn keep_gtid_index(sh: &Shared) {
    let mut seen: Option<(Arc<Vec<String>>, bool)> = None;
    let mut generation = 0;
    loop {
        // Once every file is indexed, only a new file list brings work: the publish
        // after each fsync does not wake this thread. Until then, each publish may
        // have made the newest file's header durable.
        let st = match &seen {
            Some((files, true)) => sh.serving.durable.wait_files_changed(files, std::time::Duration::from_secs(5)),
            _ => sh.serving.durable.wait_newer(generation, std::time::Duration::from_secs(5)),
        };
        generation = st.generation;
        if generation == 0 {
            // Nothing published yet: the store is still being opened.
            continue;
        }
        // A list published again with the same names (the writer republishes it
        // when mirroring begins) brings no new file either.
        if seen.is_none() || seen.as_ref().is_some_and(|(f, done)| *done && **f == *st.files) {
            seen = Some((st.files.clone(), true));
            continue;
        }
        let mut idx = sh.serving.gtid_index.lock().unwrap_or_else(|e| e.into_inner());
        match idx.entries(&st.files, |name, f| st.readable_len(name, f)) {
            Ok(v) => seen = Some((st.files.clone(), v.iter().all(Option::is_some))),
            Err(e) => {
                warn!("GTID index: {e}");
                seen = Some((st.files.clone(), true));
            }
        }
    }
}

/// The format description that opens a stored file (its event at offset 4).
pub(crate) fn stored_fde(f: &dyn crate::binlog::read::Stored) -> Result<(EventHeader, FormatDescription), String> {
    let mut h = [0u8; HEADER_LEN];
    f.read_at(&mut h, 4).map_err(|e| e.to_string())?;
    let hdr = EventHeader::decode(&h).map_err(|e| e.to_string())?;
    if hdr.event_type != EventType::FORMAT_DESCRIPTION || hdr.event_size > 4096 {
        return Err(format!("a {}-byte {} event where the format description belongs", hdr.event_size, hdr.event_type));
    }
    let mut ev = vec![0u8; hdr.event_size as usize];
    f.read_at(&mut ev, 4).map_err(|e| e.to_string())?;
    let fde = FormatDescription::decode(&ev).map_err(|e| e.to_string())?;
    Ok((hdr, fde))
}

/// Takes a connection off the list and the count when its thread ends.
struct Gone<'a>(&'a Server, u32);

impl Drop for Gone<'_> {
    fn drop(&mut self) {
        self.0.conns.remove(self.1);
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Server {
    /// Client connections open now.
    pub fn threads_connected(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The most client connections open at once since binlogd started.
    pub fn max_used_connections(&self) -> usize {
        self.max_used.load(Ordering::Relaxed)
    }

    /// Connections attempted since binlogd started (each takes an id).
    pub fn connection_attempts(&self) -> usize {
        self.next_id.load(Ordering::Relaxed).saturating_sub(1)
    }

    /// COM_STATISTICS' one line, in mysqld's format (what `mysqladmin status` prints).
    pub fn statistics(&self) -> String {
        let up = self.started.elapsed().as_secs();
        let q = self.questions.load(Ordering::Relaxed);
        // MySQL's line names its flushes of tables, MariaDB's not.
        let mysql = self.primary().is_none_or(|p| p.flavor == crate::replica::connect::Flavor::Mysql);
        let flushes = if mysql { "  Flush tables: 0" } else { "" };
        format!(
            "Uptime: {up}  Threads: {}  Questions: {q}  Slow queries: 0  Opens: 0{flushes}  Open tables: 0  Queries per second avg: {:.3}",
            self.threads_connected(),
            q as f64 / up.max(1) as f64
        )
    }

    /// The primary's facts: as seen at binlogd's last connect to it or, when binlogd
    /// has not reached it since it started (the primary is down), as the stored files
    /// tell: the newest file's FDE and the kept server_uuid.
    pub fn primary(&self) -> Option<Primary> {
        if let Some(p) = self.shared.link.primary.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Some(p);
        }
        let d = self.shared.serving.durable.snapshot();
        let name = d.files.last()?;
        let mut cached = self.stored_primary.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, p)) = cached.as_ref().filter(|(n, _)| n == name) {
            return Some(p.clone());
        }
        let p = self.primary_from_file(name, &d)?;
        *cached = Some((name.clone(), p.clone()));
        Some(p)
    }

    /// Reads the primary's facts from the FDE of the stored file `name`.
    fn primary_from_file(&self, name: &str, d: &crate::binlog::durable::DurableState) -> Option<Primary> {
        let f = crate::binlog::read::open(&self.cfg.binlog_dir, name).ok()?;
        let (hdr, fde) = stored_fde(&*f).ok()?;
        let maria = fde.server_version.contains("MariaDB");
        use crate::binlog::sources;
        let origin = sources::path_in(sources::number(name), sources::ORIGIN_FILE);
        // The first line is its server_uuid, or for MariaDB (none) `server_id N`.
        let uuid = std::fs::read_to_string(self.cfg.binlog_dir.join(origin))
            .ok()
            .and_then(|s| s.lines().next().map(|l| l.trim().to_string()))
            .filter(|s| !s.is_empty() && !s.starts_with("server_id "));
        Some(Primary {
            flavor: if maria { Flavor::MariaDb } else { Flavor::Mysql },
            greeting_version: if maria { format!("5.5.5-{}", fde.server_version) } else { fde.server_version.clone() },
            version: fde.server_version,
            server_id: hdr.server_id,
            server_uuid: uuid,
            checksum: fde.checksum,
            gtid_mode: !d.gtids.is_empty(),
            semisync: false,
            variables: std::sync::Arc::new(
                std::fs::read_to_string(self.cfg.binlog_dir.join(crate::sysvars::VARIABLES_FILE))
                    .map(|t| crate::sysvars::decode_file(&t))
                    .unwrap_or_default(),
            ),
        })
    }

    /// The next connection id: 1 to 4294967295, then around again, skipping those still
    /// in use (a dump may stay connected for months), as mysqld's thread ids do. The
    /// accept loop is the only caller, so an id found free stays free until it is added.
    fn next_conn_id(&self) -> u32 {
        loop {
            let n = self.next_id.fetch_add(1, Ordering::Relaxed) as u64;
            let id = (n % u64::from(u32::MAX)) as u32 + 1;
            if !self.conns.contains(id) {
                return id;
            }
        }
    }

    fn accept(self: &Arc<Self>, sock: TcpStream) {
        let id = self.next_conn_id();
        let n = self.connections.fetch_add(1, Ordering::SeqCst) + 1;
        if n > self.shared.settings.max_connections() {
            self.connections.fetch_sub(1, Ordering::SeqCst);
            session::refuse_too_many(sock, id);
            return;
        }
        self.max_used.fetch_max(n, Ordering::Relaxed);
        let srv = self.clone();
        let peer = sock.peer_addr().map(|a| a.to_string()).unwrap_or_default();
        let killed = self.conns.add(id, &peer, sock.try_clone().ok());
        let r = thread::Builder::new().name(format!("conn-{id}")).stack_size(CONNECTION_STACK).spawn(move || {
            // Counted and listed until the thread ends, however it ends.
            let _gone = Gone(&srv, id);
            match session::Session::new(&srv, sock, id, peer.clone(), killed).run() {
                Ok(()) => {}
                Err(e @ crate::proto::Error::Auth { .. }) => {
                    srv.denied_log.warn(&format!("connection {id} from {peer}: {e}"))
                }
                Err(e) => info!("connection {id} from {peer} ended: {e}"),
            }
        });
        if let Err(e) = r {
            error!("cannot start a connection thread: {e}");
            self.conns.remove(id);
            self.connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Stack of a client connection's thread. Its deepest work is a TLS handshake
/// (rustls and ring) and a statement nested as deep as binlogd parses
/// (`filter::MAX_DEPTH`, `values::MAX_DATE_DEPTH`); a dump holds its buffers on the
/// heap. A thousand readers reserve 512 MiB of address space instead of the 2 GiB of
/// Rust's default, and touch only the pages they use. The tests run every statement
/// and handshake on it (`answers::a_dbas_statements_get_the_answers_a_primary_gives`, `tls`).
const CONNECTION_STACK: usize = 512 << 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_id_ending_its_own_connections_often_is_taken_for_twins_once() {
        let t0 = std::time::Instant::now();
        let mut d = Displacements::default();
        let at = |s: u64| t0 + std::time::Duration::from_secs(s);
        // A replica that reconnects now and then: never.
        for i in 0..10 {
            assert!(!d.record(7, at(i * 61)));
        }
        // Five within the window: once.
        let hits: Vec<bool> = (0..8).map(|i| d.record(9, at(1000 + i))).collect();
        assert_eq!(hits.iter().filter(|h| **h).count(), 1);
        assert!(hits[TWINS_COUNT as usize - 1]);
        // Another window: again.
        assert!((0..TWINS_COUNT).any(|i| d.record(9, at(2000 + u64::from(i)))));
    }
}
