//! Serving COM_BINLOG_DUMP and COM_BINLOG_DUMP_GTID as a primary does: where a dump
//! starts (by file and position, MySQL GTID set or MariaDB GTID state) and the 1236
//! a primary gives when it cannot; `stream` sends the events, `skip` leaves out what
//! a GTID reader has. Only durable bytes are sent.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump.html>

mod skip;
mod stream;

use super::reply::{err_packet, ER_MASTER_FATAL_READING_BINLOG};
use super::socket::ClientSocket;
use crate::binlog::gtid::{GtidSet, MariaGtid, MariaPos};
use crate::binlog::gtid_index::{Entry, FileStart};
use crate::binlog::read::Stored;
use crate::proto::command::{BinlogDump, BinlogDumpGtid, BINLOG_DUMP_NON_BLOCK, BINLOG_SEND_ANNOTATE_ROWS_EVENT};
use crate::proto::packet::PacketStream;
use crate::proto::Error;
use log::info;
use skip::{not_in_binlog, MariaSkip, Skip, SkipMode, Until};
use std::collections::BTreeMap;
use std::time::Duration;
use stream::{Dump, Window, OUT_EVENTS, PLAIN, SEMISYNC};

/// What a dump reaches of its connection: the socket it takes over, and what the
/// client set before it (user variables, COM_REGISTER_SLAVE). It is not the session,
/// which owns the command loop that hands the socket over.
pub struct Conn<'a> {
    pub srv: &'a std::sync::Arc<super::Server>,
    pub stream: &'a mut PacketStream<ClientSocket>,
    pub id: u32,
    pub vars: &'a crate::server::ctx::UserVars,
    /// Set by KILL from another connection, or when the replica registers again.
    pub killed: &'a std::sync::atomic::AtomicBool,
    /// The server_id the replica registered with, if it did.
    pub registered: Option<u32>,
    /// The client asked for CLIENT_DEPRECATE_EOF: a dump's end is an OK headed 0xFE.
    pub deprecate_eof: bool,
}

/// The packet that ends a dump that stops (a non-blocking one at the end of the
/// binlog, an UNTIL position reached): mysqld's `my_eof`, as the client takes an EOF.
pub(super) fn end_packet(deprecate_eof: bool) -> Vec<u8> {
    use crate::proto::resultset::{eof_as_ok, EOF};
    if deprecate_eof {
        eof_as_ok(&EOF)
    } else {
        EOF.to_vec()
    }
}

/// How the log names a dump's compressed protocol: ", zstd-compressed", or nothing.
fn compressed(s: &Conn) -> String {
    s.stream.inner.compression().map(|a| format!(", {}-compressed", a.name())).unwrap_or_default()
}

fn fail(s: &mut Conn, msg: &str) -> Result<(), Error> {
    s.stream.write(&err_packet(ER_MASTER_FATAL_READING_BINLOG, "HY000", msg))
}

pub fn serve(s: &mut Conn, d: BinlogDump) -> Result<(), Error> {
    // A MariaDB replica that set @slave_connect_state asks by GTID, whatever file
    // and position it also sends (those are only where it last read).
    if let Some(state) = s.vars.get("slave_connect_state").cloned() {
        return serve_maria(s, &state, d.flags);
    }
    let st = stored(s);
    // No name: from the first file, as a primary does.
    let name = if d.file.is_empty() {
        st.files.first().cloned().unwrap_or_default()
    } else {
        crate::binlog::sources::to_path(&st.files, &d.file)
    };
    let Some((f, pos)) = open_at(s, &st, &name, u64::from(d.pos))? else { return Ok(()) };
    info!("connection {}: dump from {name}:{pos}{}", s.id, compressed(s));
    start(s, name, f, pos, d.flags, None)
}

/// A stored file opened for a dump, and where the dump starts in it.
type Opened = (Box<dyn Stored>, u64);

/// An archived file brought back for a dump, by name.
type Restored = (String, Box<dyn Stored>);

/// Opens stored file `name` to be read from `pos`, or answers the client the 1236
/// a primary gives for a file it lacks or a position off an event boundary (`None`).
fn open_at(
    s: &mut Conn,
    st: &crate::binlog::durable::DurableState,
    name: &str,
    pos: u64,
) -> Result<Option<Opened>, Error> {
    if !crate::binlog::sources::is_safe_path(name) {
        fail(s, "Could not find first log file name in binary log index file (a plain file name is required)")?;
        return Ok(None);
    }
    let dir = s.srv.cfg.binlog_dir.clone();
    let f = if st.files.iter().any(|n| n == name) {
        crate::binlog::read::open(&dir, name).map_err(Error::Io)?
    } else {
        // Purged after it was archived: brought back, when binlogd can.
        match bring_back(s, name) {
            Ok(Some(f)) => f,
            Ok(None) => {
                fail(s, "Could not find first log file name in binary log index file")?;
                return Ok(None);
            }
            // The client was told why.
            Err(_) => return Ok(None),
        }
    };
    let pos = pos.max(4);
    let limit = st.readable_len(name, &*f);
    let boundary = s.srv.shared.serving.boundaries.is_boundary(name, &*f, pos, limit, &st.files);
    if !boundary.map_err(Error::Io)? {
        fail(s, &format!("Client requested master to start replication from impossible position {pos} in {name}"))?;
        return Ok(None);
    }
    Ok(Some((f, pos)))
}

/// What is stored, once binlogd has opened its directory: a dump that arrives while
/// it starts waits for that (at most connect_timeout) instead of finding no files.
fn stored(s: &Conn) -> std::sync::Arc<crate::binlog::durable::DurableState> {
    let d = &s.srv.shared.serving.durable;
    let deadline = std::time::Instant::now() + s.srv.shared.settings.connect_timeout();
    let mut st = d.snapshot();
    while st.generation == 0 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        st = d.wait_newer(0, left);
    }
    st
}

/// Marks a connection as reading a file while it dumps, so purges spare that file
/// and the ones after it.
struct Reading {
    shared: std::sync::Arc<crate::replica::Shared>,
    id: u32,
}

impl Reading {
    fn new(shared: &std::sync::Arc<crate::replica::Shared>, id: u32, file: &str, server_id: Option<u32>) -> Reading {
        shared.serving.set_reading(id, file, 4, server_id);
        Reading { shared: shared.clone(), id }
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        self.shared.serving.readers.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

/// Streams from `file` at `pos` until the connection ends.
fn start(
    s: &mut Conn,
    file: String,
    f: Box<dyn Stored>,
    pos: u64,
    flags: u16,
    skip: Option<Skip>,
) -> Result<(), Error> {
    let crc = s
        .vars
        .get("master_binlog_checksum")
        .or_else(|| s.vars.get("source_binlog_checksum"))
        .is_some_and(|v| v.eq_ignore_ascii_case("CRC32"));
    let non_block = flags & BINLOG_DUMP_NON_BLOCK != 0;
    let hb = heartbeat_period(s);
    // A semi-sync replica says so before its dump (MariaDB's and MySQL's
    // ReplSemiSyncSlave::requestTransmit).
    let semisync =
        ["rpl_semi_sync_slave", "rpl_semi_sync_replica"].iter().any(|v| s.vars.get(v).is_some_and(|x| x.trim() == "1"));
    s.stream.inner.set_read_timeout(None)?;
    let dir = s.srv.cfg.binlog_dir.clone();
    let _reading = Reading::new(&s.srv.shared, s.id, &file, s.registered);
    let mut dump = Dump {
        s,
        file,
        f,
        pos,
        crc,
        skip,
        annotate: flags & BINLOG_SEND_ANNOTATE_ROWS_EVENT != 0,
        win: Window::default(),
        prefix: if semisync { SEMISYNC } else { PLAIN },
        out: Vec::with_capacity(OUT_EVENTS),
        out_bytes: 0,
        sent: 0,
    };
    dump.run(&dir, non_block, hb)
}

/// The newest stored file whose start state `pick` accepts, from the GTID index, with
/// every entry. The entry found is checked against its file; a stale index is rebuilt
/// and searched again.
fn find_start(s: &Conn, pick: impl Fn(&FileStart) -> bool) -> Result<(Option<Entry>, Vec<Option<Entry>>), Error> {
    let dir = s.srv.cfg.binlog_dir.clone();
    for _ in 0..2 {
        let st = s.srv.shared.serving.durable.snapshot();
        let mut idx = s.srv.shared.serving.gtid_index.lock().unwrap_or_else(|e| e.into_inner());
        let entries = idx.entries(&st.files, |name, f| st.readable_len(name, f)).map_err(Error::Io)?;
        let found = entries.iter().rev().flatten().find(|e| pick(&e.start)).cloned();
        let Some(e) = found else { return Ok((None, entries)) };
        let limit = crate::binlog::read::open(&dir, &e.name).map(|f| st.readable_len(&e.name, &*f)).unwrap_or(0);
        if idx.verify(&e, limit) {
            return Ok((Some(e), entries));
        }
    }
    Err(Error::malformed("the GTID index does not match the binlog files even after a rebuild"))
}

/// What binlogd can no longer serve: the GTIDs before its oldest stored file (its
/// `Previous_gtids`), as `@@gtid_purged` of a server whose binlog starts there.
pub fn purged_gtids(serving: &crate::replica::Serving) -> GtidSet {
    // With restore_command, what binlogd serves begins at its oldest archived file.
    let st = serving.durable.snapshot();
    if let Some(FileStart::Mysql(set)) = serving.restorer.as_ref().and_then(|r| r.oldest_start(&st.files)) {
        return set;
    }
    let mut idx = serving.gtid_index.lock().unwrap_or_else(|e| e.into_inner());
    match idx.entries(&st.files, |name, f| st.readable_len(name, f)) {
        Ok(entries) => match entries.into_iter().next().flatten().map(|e| e.start) {
            Some(FileStart::Mysql(prev)) => prev,
            _ => GtidSet::default(),
        },
        Err(_) => GtidSet::default(),
    }
}

/// COM_BINLOG_DUMP_GTID (MySQL auto-position): start at the newest file whose
/// earlier transactions the replica all has, and leave out the ones it has.
pub fn serve_gtid(s: &mut Conn, d: BinlogDumpGtid) -> Result<(), Error> {
    // A replica with no GTIDs may send no set at all.
    let have = match if d.gtid_data.is_empty() { Ok(GtidSet::default()) } else { GtidSet::decode(&d.gtid_data) } {
        Ok(g) => g,
        Err(e) => return fail(s, &format!("bad GTID set in COM_BINLOG_DUMP_GTID: {e}")),
    };
    let st = stored(s);
    // Transactions of the primary's own UUID that binlogd never stored: binlogd
    // lost the end of its binlog, or the replica ran ahead of it.
    let primary_uuid = s.srv.primary().and_then(|p| p.server_uuid);
    if let Some(u) = primary_uuid.and_then(|u| crate::binlog::gtid::parse_uuid(&u).ok()) {
        let extra = have.only(&u).difference(&st.gtids);
        if !extra.is_empty() {
            return fail(
                s,
                &format!(
                    "Slave has more GTIDs than the master has, using the master's SERVER_UUID. binlogd holds '{}' of \
                     the primary's transactions but the replica has '{}' too. The end of binlogd's binlog may have \
                     been lost, or the replica read from the primary ahead of binlogd.",
                    st.gtids.only(&u).to_string().replace('\n', ""),
                    extra.to_string().replace('\n', "")
                ),
            );
        }
    }
    // A file named in the request is where mysqld starts, still leaving out what the
    // replica has (`Binlog_sender::check_start_file`).
    if !d.file.is_empty() {
        let name = d.file.clone();
        let Some((f, pos)) = open_at(s, &st, &name, d.pos)? else { return Ok(()) };
        info!("connection {}: GTID dump from {name}:{pos}{}", s.id, compressed(s));
        return start(s, name, f, pos, d.flags, Some(Skip::new(SkipMode::Mysql(have))));
    }
    let (found, entries) = find_start(s, |start| match start {
        FileStart::Mysql(prev) => prev.is_subset(&have),
        FileStart::NoGtids | FileStart::Maria(_) => true,
    })?;
    if found.is_none() {
        if let Some((name, f)) = archived_start(s, &entries, &have)? {
            info!("connection {}: GTID dump from the archived {name}:4{}", s.id, compressed(s));
            return start(s, name, f, 4, d.flags, Some(Skip::new(SkipMode::Mysql(have))));
        }
    }
    let Some(e) = found else {
        let oldest = entries.iter().flatten().next();
        let missing = match oldest.map(|e| &e.start) {
            Some(FileStart::Mysql(prev)) => prev.difference(&have).to_string().replace('\n', ""),
            _ => String::new(),
        };
        return fail(
            s,
            &format!(
                "Cannot replicate because the source purged required binary logs. Replicate the missing \
                 transactions from elsewhere, or provision a new replica from backup. Consider increasing the \
                 source's binary log expiration period. The GTID set sent by the replica is '{}', and the missing \
                 transactions are '{missing}'",
                have.to_string().replace('\n', "")
            ),
        );
    };
    let dir = s.srv.cfg.binlog_dir.clone();
    let f = crate::binlog::read::open(&dir, &e.name).map_err(Error::Io)?;
    info!("connection {}: GTID dump from {}:4{}", s.id, e.name, compressed(s));
    start(s, e.name, f, 4, d.flags, Some(Skip::new(SkipMode::Mysql(have))))
}

/// For a MySQL replica that needs transactions older than every stored file: the
/// newest archived file (purged after its archive) whose earlier transactions it all
/// has, brought back by restore_command. A file's start is what the oldest stored
/// file's Previous_gtids holds less the GTIDs of that archived file and the ones after
/// it, as the archive catalog records them. None when binlogd cannot restore, or no
/// archived file will do; a 1236 was sent when one would but its restore failed.
fn archived_start(s: &mut Conn, entries: &[Option<Entry>], have: &GtidSet) -> Result<Option<Restored>, Error> {
    let Some(FileStart::Mysql(oldest)) = entries.iter().flatten().next().map(|e| e.start.clone()) else {
        return Ok(None);
    };
    let mut derived = oldest;
    for e in archived(s).iter().rev() {
        // Its recorded start; else what the files after it leave of the oldest stored one's.
        let Ok(held) = GtidSet::parse(&e.gtids) else { return Ok(None) };
        derived = derived.difference(&held);
        let start = match &e.start {
            Some(FileStart::Mysql(set)) => set,
            _ => &derived,
        };
        if start.is_subset(have) {
            return Ok(bring_back(s, &e.name)?.map(|f| (e.name.clone(), f)));
        }
    }
    Ok(None)
}

/// The archive catalog's files that binlog_dir no longer holds, oldest first (none
/// without restore_command: binlogd cannot serve them).
fn archived(s: &Conn) -> Vec<crate::binlog::catalog::Entry> {
    let st = s.srv.shared.serving.durable.snapshot();
    s.srv.shared.serving.restorer.as_ref().map(|r| r.archived(&st.files)).unwrap_or_default()
}

/// The archived file `name`, brought back by restore_command; None when binlogd
/// cannot restore or the catalog does not record it. When it fails, the client is
/// told why, and the error ends the dump.
pub(super) fn bring_back(s: &mut Conn, name: &str) -> Result<Option<Box<dyn Stored>>, Error> {
    let Some(r) = s.srv.shared.serving.restorer.clone() else { return Ok(None) };
    r.open(name).or_else(|why| {
        let msg = format!("could not bring back the archived binlog {name}: {why}");
        fail(s, &msg)?;
        Err(Error::Io(std::io::Error::other(msg)))
    })
}

/// Is every GTID the replica asks for in this file or a later one? (MariaDB's rule:
/// a domain in the GTID_LIST must be in the state, at or after the list's last GTID
/// for that domain and server.)
fn covers(state: &MariaPos, list: &[MariaGtid]) -> bool {
    list.iter().enumerate().all(|(i, g)| match state.domains.get(&g.domain) {
        None => false,
        Some(w) if w.server == g.server && w.seq <= g.seq => {
            w.seq == g.seq && list.get(i + 1).is_none_or(|n| n.domain != g.domain)
        }
        Some(_) => true,
    })
}

/// COM_BINLOG_DUMP after `SET @slave_connect_state` (MariaDB `MASTER_USE_GTID`):
/// start at the newest file the state covers, and per domain leave out groups
/// until the replica's GTID.
fn serve_maria(s: &mut Conn, state_text: &str, flags: u16) -> Result<(), Error> {
    let mut state = match MariaPos::parse(state_text) {
        Ok(p) => p,
        Err(e) => return fail(s, &format!("bad @slave_connect_state '{state_text}': {}", e.0)),
    };
    let st = stored(s);
    // The replica's settings it sends as user variables (`@slave_gtid_...`), 1 for on.
    let on = |name: &str| s.vars.get(name).is_some_and(|v| v.trim() == "1");
    let (strict, ignore_duplicates) = (on("slave_gtid_strict_mode"), on("slave_gtid_ignore_duplicates"));
    for w in state.domains.values() {
        if let Some(top) = st.maria.domains.get(&w.domain) {
            if top.server == w.server && top.seq < w.seq && !ignore_duplicates {
                return fail(s, &not_in_binlog(*w, false));
            }
        }
    }
    let (found, _) = find_start(s, |start| match start {
        FileStart::Maria(list) => covers(&state, list),
        FileStart::NoGtids | FileStart::Mysql(_) => true,
    })?;
    // Older than every stored file: the newest archived file whose recorded start the
    // state covers, when binlogd can bring it back.
    let mut restored = None;
    let found = match found {
        None => {
            let pick = archived(s).into_iter().rev().find(|e| match &e.start {
                Some(FileStart::Maria(list)) => covers(&state, list),
                _ => false,
            });
            match pick {
                Some(a) => {
                    restored = bring_back(s, &a.name)?;
                    a.start.filter(|_| restored.is_some()).map(|start| Entry { name: a.name, stamp: 0, start })
                }
                None => None,
            }
        }
        found => found,
    };
    let Some(e) = found else {
        return fail(
            s,
            "Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old \
             and required binlog files have been purged.",
        );
    };
    let mut seen = BTreeMap::new();
    if let FileStart::Maria(list) = &e.start {
        for g in list {
            // The replica asked for exactly the last GTID before this file: nothing to skip.
            if state.domains.get(&g.domain) == Some(g) && !list.iter().any(|n| n.domain == g.domain && n.seq > g.seq) {
                state.domains.remove(&g.domain);
            }
            let t = seen.entry(g.domain).or_insert(0);
            *t = g.seq.max(*t);
        }
    }
    let until = match s.vars.get("slave_until_gtid").map(|t| t.trim()).filter(|t| !t.is_empty()) {
        None => None,
        Some(text) => match MariaPos::parse(text) {
            Ok(p) => {
                let mut pending = p.domains;
                if let FileStart::Maria(list) = &e.start {
                    // A condition already reached before this file needs nothing from it.
                    for g in list {
                        if pending.get(&g.domain).is_some_and(|w| w.server == g.server && w.seq <= g.seq) {
                            pending.remove(&g.domain);
                        }
                    }
                }
                let reached = pending.is_empty();
                Some(Until { pending, stop_after_group: reached, reached })
            }
            Err(err) => return fail(s, &format!("bad @slave_until_gtid '{text}': {}", err.0)),
        },
    };
    let dir = s.srv.cfg.binlog_dir.clone();
    let f = match restored {
        Some(f) => f,
        None => crate::binlog::read::open(&dir, &e.name).map_err(Error::Io)?,
    };
    let until_text = s.vars.get("slave_until_gtid").map(|u| format!(", until {u}")).unwrap_or_default();
    info!("connection {}: MariaDB GTID dump ({state_text}{until_text}) from {}:4{}", s.id, e.name, compressed(s));
    // A domain the binlog has never held does not hold the start back (MariaDB flags
    // it START_ON_EMPTY_DOMAIN).
    let behind_start = state.domains.keys().any(|d| st.maria.domains.contains_key(d));
    let skip = Skip::new(SkipMode::Maria(MariaSkip {
        behind_start,
        pending: state.domains,
        seen,
        until,
        strict,
        ignore_duplicates,
        hole: None,
        state: BTreeMap::new(),
        tell_position: false,
    }));
    start(s, e.name, f, 4, flags, Some(skip))
}

fn heartbeat_period(s: &Conn) -> Duration {
    let ns: u64 = s
        .vars
        .get("master_heartbeat_period")
        .or_else(|| s.vars.get("source_heartbeat_period"))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0, |v| v as u64);
    if ns == 0 {
        Duration::from_secs(30)
    } else {
        Duration::from_nanos(ns).max(Duration::from_millis(10))
    }
}

#[cfg(test)]
mod tests {
    use super::skip::{gtid_list_body, GTID_LIST_UNTIL_REACHED};
    use super::stream::displaced_error;
    use super::*;

    fn g(domain: u32, server: u32, seq: u64) -> MariaGtid {
        MariaGtid { domain, server, seq }
    }

    #[test]
    fn a_displaced_dump_ends_with_each_servers_error() {
        let first = ("mysql-bin.000001".to_string(), 4);
        let (code, msg) = displaced_error(false, &first, ("mysql-bin.000002", 1234));
        assert_eq!(code, 1236);
        assert_eq!(
            msg,
            "A replica with the same server_uuid/server_id as this replica has connected to the source; the first \
             event 'mysql-bin.000001' at 4, the last event read from 'mysql-bin.000002' at 1234, the last byte read \
             from 'mysql-bin.000002' at 1234."
        );
        let (code, msg) = displaced_error(true, &first, ("mysql-bin.000001", 4));
        assert_eq!(code, 4052);
        assert!(msg.starts_with("A slave with the same server_id is already connected; the first event"), "{msg}");
    }

    #[test]
    fn a_strict_replica_asking_for_a_hole_is_refused_and_a_lenient_one_starts_after_it() {
        for strict in [true, false] {
            let mut m = MariaSkip {
                pending: [(0, g(0, 1, 6))].into_iter().collect(),
                seen: BTreeMap::new(),
                until: None,
                strict,
                ignore_duplicates: false,
                hole: None,
                state: BTreeMap::new(),
                tell_position: false,
                behind_start: true,
            };
            assert!(m.skips(g(0, 1, 5)), "before the replica's GTID");
            assert!(m.skips(g(0, 2, 6)), "another server_id does not end the skipping");
            let skipped = m.skips(g(0, 1, 7));
            assert_eq!((skipped, m.hole), if strict { (true, Some(g(0, 1, 6))) } else { (false, None) });
            assert_eq!(m.tell_position, !strict, "the lenient replica's position is reached");
            assert!(m.pending.is_empty());
        }
    }

    #[test]
    fn until_sends_each_domain_up_to_its_gtid_and_leaves_out_the_rest() {
        let mut u = Until {
            pending: [(0, g(0, 1, 5)), (3, g(3, 1, 2))].into_iter().collect(),
            stop_after_group: false,
            reached: false,
        };
        assert!(!u.gtid(g(0, 1, 4)), "before the UNTIL GTID: sent");
        assert!(u.gtid(g(7, 1, 1)), "a domain the condition does not name: left out");
        assert!(!u.gtid(g(0, 2, 9)), "another server_id in the domain does not reach it");
        assert!(!u.gtid(g(0, 1, 5)), "the UNTIL GTID itself is sent");
        assert!(!u.stop_after_group, "domain 3 is still pending");
        assert!(u.gtid(g(0, 1, 6)), "domain 0 is done: left out");
        assert!(u.gtid(g(3, 1, 3)), "past a GTID not in the binlog: left out, and the end");
        assert!(u.stop_after_group);
        // The made-up Gtid_list: the last seq_no of each domain and server_id.
        let state: BTreeMap<(u32, u32), u64> = [((0, 1), 6), ((0, 2), 9), ((3, 1), 3), ((7, 1), 1)].into();
        let list = gtid_list_body(&state, GTID_LIST_UNTIL_REACHED);
        assert_eq!(u32::from_le_bytes(list[..4].try_into().unwrap()), 4 | GTID_LIST_UNTIL_REACHED);
        let entries = MariaPos::decode_gtid_list(&list).unwrap();
        assert_eq!(entries.len(), 4);
        assert!(entries.contains(&g(3, 1, 3)) && entries.contains(&g(0, 2, 9)));
        assert_eq!(u32::from_le_bytes(gtid_list_body(&state, 0)[..4].try_into().unwrap()), 4);
    }
}
