//! One connection to the primary: log in, check it is the primary binlogd mirrors
//! (its server_uuid, the start of the file to resume), decide where to start, then
//! run the reader, writer and acker threads until the stream ends.

use super::*;

/// The primary as the start decision sees it: its logs over this connection, a
/// file's start by a short dump of its own.
struct Asking<'a> {
    cfg: &'a Config,
    tls: &'a crate::tls::Live,
    c: &'a mut proto::client::Client,
    p: &'a Primary,
}

/// Where to start, asking the primary what the decision needs (`start::decide`).
fn decide_start(
    cfg: &Config,
    tls: &crate::tls::Live,
    store: &Store,
    c: &mut proto::client::Client,
    p: &Primary,
    file_pos_once: bool,
) -> Result<Start, ReplicaError> {
    let mut asking = Asking { cfg, tls, c, p };
    start::decide(cfg.start_mode, &cfg.exclude_gtids, store.resume_point(), p, file_pos_once, &mut asking)
}

/// Where to start on a new source (`start::new_source`).
fn new_source_start(
    cfg: &Config,
    tls: &crate::tls::Live,
    rp: &crate::binlog::store::ResumePoint,
    c: &mut proto::client::Client,
    p: &Primary,
) -> Result<Start, ReplicaError> {
    let mut asking = Asking { cfg, tls, c, p };
    start::new_source(rp, p, &mut asking)
}

impl start::PrimaryFiles for Asking<'_> {
    fn binary_logs(&mut self) -> Result<Vec<String>, ReplicaError> {
        connect::binary_logs(self.c)
    }
    fn file_start(
        &mut self,
        file: &str,
    ) -> Result<(crate::binlog::gtid::GtidSet, crate::binlog::gtid::MariaPos), ReplicaError> {
        let s = connect::probe_file_start(self.cfg, self.tls, self.p, file)?;
        Ok((s.gtids, s.maria))
    }
}

/// One connection's worth of replication.
pub(super) struct Session<'a> {
    pub(super) cfg: &'a Config,
    pub(super) ctl: &'a Arc<Control>,
    pub(super) stats: &'a Arc<Stats>,
    pub(super) shared: &'a Arc<Shared>,
    pub(super) uuid: &'a str,
    pub(super) first: bool,
    pub(super) file_pos_once: bool,
}

impl Session<'_> {
    pub(super) fn run(&self, mut store: Store, backoff: &mut Duration) -> Result<(), ReplicaError> {
        let Session { cfg, ctl, stats, shared, uuid, first, file_pos_once } = *self;
        shared.link.upstream().set_state("Connecting to master");
        let (mut c, p) = connect::connect(cfg, &shared.link.tls)?;
        let who = p.identity();
        info!(
            "{} master {}:{} ({} {}), master_uuid:{}",
            if first { "connect to master first times," } else { "reconnect to master," },
            cfg.master_host,
            cfg.master_port,
            if p.flavor == Flavor::MariaDb { "MariaDB" } else { "MySQL" },
            p.version,
            who
        );
        match (c.stream.inner.describe(), c.tls) {
            (Some(t), Some(checks)) => info!("connection to master is encrypted: {t}, {checks}"),
            _ if cfg.master_ssl != crate::config::MasterSsl::Off => {
                warn!(
                    "master {}:{} does not offer TLS: the connection is not encrypted",
                    cfg.master_host, cfg.master_port
                )
            }
            _ => {}
        }
        // Before anything is appended: does the source hold every transaction stored?
        // MariaDB's gtid_binlog_pos counts what its binary log holds, a commit that
        // waits for binlogd's ACK included. MySQL's gtid_executed leaves such a commit
        // out until it is acknowledged, so the primary binlogd mirrors would seem to lack
        // what binlogd stored just before a crash: there the check is for another server.
        let rp = store.resume_point();
        // Which server the newest stored files came from (`binlogd.primary` of their source).
        let known = store.origin()?.map(|o| o.id);
        let other_server = !store.files().is_empty() && known.as_deref().is_some_and(|k| k != who);
        let check = match p.flavor {
            Flavor::MariaDb => !rp.maria.is_empty(),
            Flavor::Mysql => other_server && !rp.gtids.is_empty(),
        };
        if check {
            let state = connect::gtid_state(&mut c, p.flavor);
            match state.as_deref().map(|st| start::source_lacks(&rp, p.flavor, st)) {
                Some(Ok(None)) => {}
                Some(Ok(Some(missing))) => {
                    let changed = match (other_server, known.as_deref()) {
                        (true, Some(k)) => format!("the source changed from {k} to {who}, and "),
                        _ => String::new(),
                    };
                    return Err(ReplicaError::Fork(format!(
                        "{changed}the source {}:{} ({who}) lacks transactions binlogd stored: {missing}. Its binary log does \
                         not continue what binlogd holds: a replica promoted before it took those transactions, or a \
                         binary log begun again (RESET MASTER) or that lost them. binlogd appends nothing from it, \
                         keeps serving its files and tries again; take the transactions from binlogd first (README, \
                         \"Failover compensation, step by step\")",
                        cfg.master_host, cfg.master_port
                    )));
                }
                Some(Err(e)) => warn!("cannot check that the source holds what binlogd stored: {e}"),
                None => info!("the source did not report its GTID state: not checked against what binlogd stored"),
            }
        }
        let origin = crate::binlog::sources::Origin {
            id: who.clone(),
            address: format!("{}:{}", cfg.master_host, cfg.master_port),
            since: crate::logging::utc_datetime(
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            ),
            ..Default::default()
        };
        if other_server {
            info!(
                "the source changed from {} to {who} at {}:{}, which holds every transaction binlogd stored: \
                 its files go to a directory of their own and the history continues",
                known.as_deref().unwrap_or(""),
                cfg.master_host,
                cfg.master_port
            );
        } else if known.is_none() {
            store.set_origin(&origin)?;
        } else {
            info!("M-S does not switch");
        }
        // The primary's variables, kept for clients to read while it is down.
        super::variables::keep(shared, &cfg.binlog_dir, &p.variables, |b| {
            store.replace_file(crate::sysvars::VARIABLES_FILE, b)
        })?;
        *shared.link.primary.lock().unwrap_or_else(|e| e.into_inner()) = Some(p.clone());
        let semisync = connect::setup(&mut c, cfg, &p, uuid)?;
        let start = if other_server {
            let start = new_source_start(cfg, &shared.link.tls, &rp, &mut c, &p)?;
            store.begin_source(origin);
            start
        } else {
            decide_start(cfg, &shared.link.tls, &store, &mut c, &p, file_pos_once)?
        };
        if let Start::FilePos(file, pos) = &start {
            if *pos > 4 {
                // Is the primary's file of that name still the stored one? The FDE a dump
                // sends first answers that too (Store::check_resent_fde), but a MariaDB
                // primary with semi-sync asked for an offset inside an event of another
                // file stops that dump without a word, and leaves it stuck on its side.
                if let Some(fde) = connect::probe_file_start(cfg, &shared.link.tls, &p, file)?.fde {
                    store.check_resent_fde(&fde)?;
                }
            }
        }
        connect::warn_if_server_id_taken(&mut c, cfg, &p, uuid);
        connect::register(&mut c, cfg, &p)?;
        connect::request_dump(&mut c, cfg, &p, &start)?;
        info!("requested binlog dump from {start}");
        {
            let mut u = shared.link.upstream();
            u.running = true;
            u.semisync = semisync;
            u.set_state("Waiting for master to send event");
            if let Start::FilePos(f, _) = &start {
                u.read_file.clone_from(f);
            }
        }

        let sock = c.stream.inner.tcp().try_clone().map_err(|e| ReplicaError::Connect(e.into()))?;
        let ack_sock = c.stream.inner.try_clone().map_err(|e| ReplicaError::Connect(e.into()))?;
        ctl.set_socket(Some(sock));
        // A stop or STOP SLAVE that came while connecting ends this connection now.
        if ctl.halt.load(Ordering::SeqCst) || ctl.stop.load(Ordering::SeqCst) || ctl.is_paused() {
            ctl.end_connection();
        }
        let (tx, rx) = crossbeam_channel::bounded(1024);
        let slot = acker::AckSlot::new();
        // A commit may still wait for an ACK binlogd could not send before it
        // stopped. Recovery fsynced everything stored, so its end can be
        // acknowledged: a GTID dump starts elsewhere and would never ask for it.
        // Not to a new source: the position names another server's file.
        let catch_up_ack = if semisync && !other_server {
            store.position().filter(|(_, p)| *p > 4).map(|(f, p)| (crate::binlog::sources::plain(&f).to_string(), p))
        } else {
            None
        };
        let w = writer::Writer::new(store, rx, cfg.sync_binlog, slot.clone(), stats.clone());
        let budget = w.budget.clone();
        let mut w = w;
        // What recovery kept was published when the store was opened (in `run`).
        w.durable = Some(shared.serving.durable.clone());
        // A writer that stops on an error ends the connection's reads: otherwise the
        // reader, fed only heartbeats (a primary whose commits wait for this ACK sends
        // nothing else), would not learn of it until the next event.
        let wctl = ctl.clone();
        let writer = thread::Builder::new()
            .name("writer".into())
            .spawn(move || {
                let r = w.run();
                if r.is_err() {
                    wctl.close_socket();
                }
                r
            })
            .map_err(|e| ReplicaError::Fatal(e.to_string()))?;
        let acker = if semisync {
            let (s, st, z) = (slot.clone(), stats.clone(), c.compression);
            Some(
                thread::Builder::new()
                    .name("acker".into())
                    .spawn(move || acker::run(ack_sock, z, s, st))
                    .map_err(|e| ReplicaError::Fatal(e.to_string()))?,
            )
        } else {
            None
        };
        let file = match &start {
            Start::FilePos(f, _) => f.clone(),
            _ => String::from("(file not yet named)"),
        };
        let r = reader::Reader {
            shared: shared.clone(),
            stream: c.stream,
            semisync,
            alg: p.checksum,
            tx,
            stop: ctl.halt.clone(),
            stats: stats.clone(),
            budget: budget.clone(),
            file,
            catch_up_ack: catch_up_ack.map(|(f, p)| (f, p, slot.clone())),
            head: Vec::with_capacity(64),
            deferred: false,
        };
        let received_before = stats.events_received.load(Ordering::Relaxed);
        let reader = thread::Builder::new()
            .name("reader".into())
            .spawn(move || r.run())
            .map_err(|e| ReplicaError::Fatal(e.to_string()))?;
        let read_result = reader.join().unwrap_or_else(|_| Err(ReplicaError::Fatal("reader thread panicked".into())));
        let write_result = writer.join().unwrap_or_else(|_| {
            Err(StoreError::Stream { file: String::new(), offset: 0, what: "writer thread panicked".into() })
        });
        slot.close();
        if let Some(a) = acker {
            let _ = a.join();
        }
        ctl.set_socket(None);
        {
            let mut u = shared.link.upstream();
            u.running = false;
            u.set_state("Reconnecting after a failed master event read");
        }
        let received = stats.events_received.load(Ordering::Relaxed).saturating_sub(received_before);
        if received == 0 && matches!(&read_result, Err(ReplicaError::Read(e)) if e.is_timeout()) {
            // A primary answers a dump at once with the ROTATE it starts with. MariaDB's
            // dump thread stays silent when another replica registered the same server_id.
            warn!(
                "the primary sent nothing for {:?} after the dump request, not even the ROTATE a dump starts \
                 with. A MariaDB primary does this while it ends another dump with binlogd's server_id {}: \
                 another replica's, or binlogd's own previous connection",
                cfg.net_read_timeout, cfg.server_id
            );
            connect::warn_if_dump_stuck(cfg, &shared.link.tls);
        }
        if received > 1 {
            // The connection worked: the next failure starts the backoff afresh.
            *backoff = FIRST_RETRY.min(cfg.retry_max);
        }
        // A writer error explains why the reader stopped, so it comes first; the
        // reader's read error is then only the connection the writer ended.
        if let (Err(_), Err(r)) = (&write_result, &read_result) {
            if !matches!(r, ReplicaError::Read(_)) {
                error!("{r}");
            }
        }
        write_result?;
        read_result
    }
}
