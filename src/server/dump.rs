//! Serving COM_BINLOG_DUMP by file and position, as a primary does: a made-up
//! ROTATE naming the file, the FDE, then the stored events, following rotations
//! and tailing the active file. Only durable bytes are sent; the dump waits on the
//! writer's publish, sending heartbeats when idle.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump.html>

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

use log::info;

use super::session::{err_packet, Session, ER_MASTER_FATAL_READING_BINLOG};
use crate::binlog::event::{self, EventHeader, EventType, FormatDescription, HEADER_LEN, LOG_EVENT_ARTIFICIAL_F};
use std::collections::BTreeMap;

use crate::binlog::gtid::{GtidSet, MariaGtid, MariaPos};
use crate::binlog::gtid_index::{Entry, FileStart};
use crate::binlog::map_guard::MapGuard;
use crate::binlog::store::is_safe_name;
use crate::binlog::trx::Tracker;
use crate::proto::command::{BinlogDump, BinlogDumpGtid, BINLOG_DUMP_NON_BLOCK, BINLOG_SEND_ANNOTATE_ROWS_EVENT};
use crate::proto::packet::MAX_CHUNK;
use crate::proto::Error;

/// Builds an event made up for the stream (fake ROTATE, heartbeat): timestamp 0, log_pos 0.
fn made_up(t: EventType, server_id: u32, log_pos: u32, body: &[u8], crc: bool) -> Vec<u8> {
    let size = HEADER_LEN + body.len() + if crc { 4 } else { 0 };
    let mut e = Vec::with_capacity(size);
    e.extend_from_slice(&0u32.to_le_bytes());
    e.push(t.0);
    e.extend_from_slice(&server_id.to_le_bytes());
    e.extend_from_slice(&(size as u32).to_le_bytes());
    e.extend_from_slice(&log_pos.to_le_bytes());
    e.extend_from_slice(&LOG_EVENT_ARTIFICIAL_F.to_le_bytes());
    e.extend_from_slice(body);
    if crc {
        let c = crc32fast::hash(&e);
        e.extend_from_slice(&c.to_le_bytes());
    }
    e
}

fn fake_rotate(server_id: u32, name: &str, pos: u64, crc: bool) -> Vec<u8> {
    let mut b = pos.to_le_bytes().to_vec();
    b.extend_from_slice(name.as_bytes());
    made_up(EventType::ROTATE, server_id, 0, &b, crc)
}

/// The stream of one dump: a socket, a packet sequence, and the file being read.
struct Dump<'s, 'a> {
    s: &'s mut Session<'a>,
    file: String,
    f: File,
    pos: u64,
    /// Made-up events carry a CRC32: as the client asked until an FDE is sent, then
    /// as that FDE says.
    crc: bool,
    /// MySQL auto-position: transactions the replica has are not sent.
    skip: Option<Skip>,
    /// MariaDB's Annotate_rows events are sent only to a client that asked for them
    /// (BINLOG_SEND_ANNOTATE_ROWS_EVENT), as a MariaDB primary does (`send_events`,
    /// sql/sql_repl.cc): a replica or a CDC client that did not gets none.
    annotate: bool,
    /// The file, mapped: small events cost no syscall each.
    win: Window,
    /// Event packets not yet written to the socket, all readable through `win`.
    out: Vec<Queued>,
    /// Event bytes in `out`.
    out_bytes: usize,
    /// Event bytes sent and not yet added to `Server::bytes_sent`.
    sent: u64,
}

/// Events up to this size are queued and sent with the packets around them; larger
/// ones are sent on their own, in 16 MiB packets.
const WINDOW: usize = 2 << 20;
/// The socket is written once this many event bytes are queued (or when the dump
/// catches up, or moves to another file).
const OUT_FLUSH: usize = 1 << 20;
/// Events of at least this size go from the page cache to the socket by `sendfile`
/// (on a plain socket): no copy by binlogd, at the price of a second system call for
/// the event. Below it, the copy into the socket costs less than that call.
/// Measured on loopback: at 32 KiB the two cost about the same, at 64 KiB sendfile
/// takes half the CPU time, at 8 KiB three times as much.
const SEND_FILE_MIN: usize = 64 << 10;
/// Events queued per write: two slices each, within the kernel's IOV_MAX of 1024.
const OUT_EVENTS: usize = 500;
/// Address space reserved for a file's mapping: binlog positions are 32-bit, so no
/// file is larger. Pages are mapped only where they are read.
const MAP_SPAN: usize = 1 << 32;
/// Pages already sent are unmapped in steps of this size, so a reader holds about
/// this much of the file in its resident set.
const DROP_STEP: u64 = 1 << 20;
/// What a dump reports when its file lost bytes it had stored.
const CUT_OUTSIDE: &str = "the file was cut short from outside binlogd";

/// One event packet waiting to be written: its header (length, sequence id, the 0x00
/// status byte) and where its event lies in the file.
struct Queued {
    head: [u8; 5],
    at: u64,
    len: usize,
}

/// The file being sent, mapped once for the whole dump of that file. Event bytes go
/// from the page cache to the socket with no copy in between, a growing active file
/// needs no new mapping, and the pages already sent are let go as the dump moves on.
#[derive(Default)]
struct Window {
    /// Declared before `map`: released before the mapping goes.
    guard: Option<MapGuard>,
    map: Option<memmap2::Mmap>,
    /// Bytes below this offset may be read (the durable end when last loaded).
    end: u64,
    /// Pages below this offset were let go.
    dropped: u64,
}

impl Window {
    fn covers(&self, at: u64, len: usize) -> bool {
        self.map.is_some() && at + len as u64 <= self.end
    }

    /// The bytes `[at, at + len)`, which `load` made readable.
    fn slice(&self, at: u64, len: usize) -> std::io::Result<&[u8]> {
        let m: &[u8] = self.map.as_deref().unwrap_or(&[]);
        usize::try_from(at)
            .ok()
            .and_then(|a| m.get(a..a.checked_add(len)?))
            .ok_or_else(|| std::io::Error::other(format!("[{at}, +{len}) is outside the mapped file")))
    }

    /// Makes `[at, at + len)` readable, below `limit` (the durable end).
    fn load(&mut self, f: &File, at: u64, len: usize, limit: u64) -> std::io::Result<()> {
        if at + len as u64 > limit {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "read past the durable end"));
        }
        if limit > MAP_SPAN as u64 {
            return Err(std::io::Error::other("binlog file over 4 GiB: its positions cannot be expressed"));
        }
        if self.map.is_none() {
            // SAFETY: bytes are read only below the durable end, which binlogd never
            // truncates or rewrites while it runs (a torn event is cut off only beyond
            // it, and recovery runs before serving). The one exception, the FDE's
            // in-use flag cleared at rotation, changes two bytes a reader would see
            // the same way through read(). Pages past the end of the file are
            // reserved address space, never touched.
            // A file cut short from outside while mapped reads as zeros behind the
            // guard, which `intact` then reports.
            let m = unsafe { memmap2::MmapOptions::new().len(MAP_SPAN).map(f)? };
            self.guard = Some(MapGuard::new(m.as_ptr(), m.len()));
            self.map = Some(m);
        }
        self.end = limit;
        Ok(())
    }

    /// Fails if a read of the mapping went past the file's end: the bytes read since
    /// the last check may be zeros, not the file's. Called before acting on them.
    fn intact(&self, name: &str, at: u64) -> std::io::Result<()> {
        if self.guard.as_ref().is_some_and(MapGuard::is_cut) {
            return Err(in_file(name, at, std::io::Error::other(CUT_OUTSIDE)));
        }
        Ok(())
    }

    /// Lets go of the pages wholly below `at` (already sent), a step at a time.
    fn drop_before(&mut self, at: u64) {
        let Some(m) = &self.map else { return };
        let to = at / DROP_STEP * DROP_STEP;
        if to > self.dropped {
            // SAFETY: a read-only shared file mapping: the pages are read again from
            // the page cache if ever touched, nothing is lost.
            let _ = unsafe {
                m.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    self.dropped as usize,
                    (to - self.dropped) as usize,
                )
            };
            self.dropped = to;
        }
    }
}

/// Follows transactions to leave out those the replica already has.
struct Skip {
    mode: SkipMode,
    tracker: Tracker,
    /// Inside a transaction being left out.
    skipping: bool,
}

enum SkipMode {
    /// MySQL auto-position: leave out every transaction whose GTID the replica has.
    Mysql(GtidSet),
    /// MariaDB: per domain, leave out groups until the replica's GTID is reached.
    Maria(MariaSkip),
}

/// A MariaDB GTID dump's progress through the replica's connect state.
struct MariaSkip {
    /// Domains whose requested GTID has not been reached yet.
    pending: BTreeMap<u32, MariaGtid>,
    /// Highest seq_no seen per domain (from the start file's GTID_LIST and the stream).
    seen: BTreeMap<u32, u64>,
    /// START SLAVE UNTIL master_gtid_pos (`@slave_until_gtid`).
    until: Option<Until>,
    /// The replica runs with gtid_strict_mode (`@slave_gtid_strict_mode`): a requested
    /// GTID missing between two stored ones is refused, as a primary refuses it.
    strict: bool,
    /// The replica runs with gtid_ignore_duplicates (`@slave_gtid_ignore_duplicates`):
    /// it may be ahead of this binlog in a domain, having had those GTIDs by another
    /// path, and is not refused for it (MariaDB's check_slave_start_position).
    ignore_duplicates: bool,
    /// That GTID, once found missing.
    hole: Option<MariaGtid>,
    /// The binlog state the dump has read (last seq_no per domain and server_id), for
    /// the made-up Gtid_lists: the GTIDs read while a domain is pending or an UNTIL
    /// condition is set, and with one, each file's Gtid_list.
    state: BTreeMap<(u32, u32), u64>,
    /// The replica's GTID was reached in a domain: a made-up Gtid_list goes out as
    /// soon as no group is being left out, so the replica learns its position in the
    /// primary's binlog (MASTER_POS_WAIT, Read_Master_Log_Pos) as from a primary.
    tell_position: bool,
    /// The replica's GTID lies past the start file's beginning in a domain the binlog
    /// has: the start file's FDE goes with `created` 0, as MariaDB sends it when its
    /// `is_pos_reached()` is false (a fresh replica, with an empty state, gets it as
    /// stored).
    behind_start: bool,
}

/// Where a MariaDB replica asked to stop (`START SLAVE UNTIL master_gtid_pos`), as a
/// primary follows it: in each domain, groups up to and including the UNTIL GTID
/// are sent and later ones left out; groups of a domain the condition does not name
/// are left out; after the group that reaches the last domain's GTID, a made-up
/// Gtid_list flagged UNTIL_REACHED is sent and the dump ends, and the replica stops.
struct Until {
    /// Domains whose UNTIL GTID has not been reached.
    pending: BTreeMap<u32, MariaGtid>,
    /// The current group reaches the condition: stop at its end.
    stop_after_group: bool,
    /// The condition is reached and the group that reached it ended.
    reached: bool,
}

/// The Gtid_list flag a primary sets on the made-up event that ends a dump at the
/// replica's UNTIL position.
const GTID_LIST_UNTIL_REACHED: u32 = 1 << 28;

/// A made-up Gtid_list body: the count with `flags`, then each domain, server_id
/// and seq_no.
fn gtid_list_body(state: &BTreeMap<(u32, u32), u64>, flags: u32) -> Vec<u8> {
    let mut b = (state.len() as u32 | flags).to_le_bytes().to_vec();
    for (&(d, s), &n) in state {
        b.extend_from_slice(&d.to_le_bytes());
        b.extend_from_slice(&s.to_le_bytes());
        b.extend_from_slice(&n.to_le_bytes());
    }
    b
}

impl Until {
    /// A GTID event: is its group left out?
    fn gtid(&mut self, g: MariaGtid) -> bool {
        let Some(want) = self.pending.get(&g.domain).copied() else {
            // This domain reached its condition, or the condition does not name it.
            return true;
        };
        if g.server == want.server && g.seq >= want.seq {
            self.pending.remove(&g.domain);
            if self.pending.is_empty() {
                self.stop_after_group = true;
            }
            // Past the UNTIL GTID (it is not in the binlog): this group is beyond it.
            return g.seq > want.seq;
        }
        false
    }
}

impl MariaSkip {
    /// Whether a group with this GTID is left out; reaching the requested GTID ends
    /// the skipping for its domain (the rule a MariaDB primary follows).
    fn skips(&mut self, g: MariaGtid) -> bool {
        let top = self.seen.entry(g.domain).or_insert(0);
        *top = (*top).max(g.seq);
        let Some(want) = self.pending.get(&g.domain).copied() else {
            return false;
        };
        let skip = g.server != want.server || g.seq <= want.seq;
        if g.server == want.server && g.seq >= want.seq {
            self.pending.remove(&g.domain);
            if self.strict && g.seq > want.seq {
                self.hole = Some(want);
                return true;
            }
            self.tell_position = true;
        }
        skip
    }

    /// Once every stored event was read: a requested GTID in a domain binlogd has
    /// but that never turned up is not in binlogd's binlog.
    fn missing(&self) -> Option<String> {
        let (want, top) = self.pending.iter().find_map(|(d, w)| {
            let top = self.seen.get(d).copied()?;
            (!self.ignore_duplicates || top >= w.seq).then_some((w, top))
        })?;
        Some(not_in_binlog(*want, top >= want.seq))
    }
}

/// MariaDB's 1236 text for a connect state binlogd does not have.
fn not_in_binlog(g: MariaGtid, diverged: bool) -> String {
    if diverged {
        format!(
            "Error: connecting slave requested to start from GTID {g}, which is not in the master's binlog. Since \
             the master's binlog contains GTIDs with higher sequence numbers, it probably means that the slave has \
             diverged due to executing extra erroneous transactions"
        )
    } else {
        format!("Error: connecting slave requested to start from GTID {g}, which is not in the master's binlog")
    }
}

impl Skip {
    fn new(mode: SkipMode) -> Skip {
        Skip { mode, tracker: Tracker::new(event::ChecksumAlg::OFF), skipping: false }
    }

    /// Whether to send this event (whole bytes for the types the tracker reads).
    fn send(&mut self, h: &EventHeader, ev: &[u8]) -> bool {
        match (&mut self.mode, h.event_type) {
            (SkipMode::Mysql(have), t @ (EventType::GTID | EventType::GTID_TAGGED)) => {
                if let Ok((sid, gno)) = event::decode_any_mysql_gtid(t, ev, self.tracker.alg) {
                    self.skipping = have.contains(&sid, gno);
                }
            }
            (SkipMode::Maria(m), EventType::MARIADB_GTID) => {
                if let Ok((seq, domain, _)) = event::decode_mariadb_gtid(ev, self.tracker.alg) {
                    let g = MariaGtid { domain, server: h.server_id, seq };
                    if !m.pending.is_empty() || m.until.is_some() {
                        m.state.insert((g.domain, g.server), g.seq);
                    }
                    self.skipping = m.skips(g);
                    if let Some(u) = m.until.as_mut() {
                        self.skipping |= u.gtid(g);
                    }
                }
            }
            (SkipMode::Maria(m @ MariaSkip { until: Some(_), .. }), EventType::MARIADB_GTID_LIST) => {
                // Each file's Gtid_list is the binlog state at its start.
                if let Ok(Ok(list)) = event::body(ev, self.tracker.alg).map(MariaPos::decode_gtid_list) {
                    m.state = list.iter().map(|g| ((g.domain, g.server), g.seq)).collect();
                }
            }
            _ => {}
        }
        let was = self.skipping;
        if let Ok(step) = self.tracker.feed(h, ev) {
            if step.boundary {
                self.skipping = false;
                if let SkipMode::Maria(MariaSkip { until: Some(u), .. }) = &mut self.mode {
                    u.reached |= u.stop_after_group;
                }
            }
        }
        !was
    }

    /// A strict replica's GTID found missing between two stored ones: the error to end with.
    fn hole(&self) -> Option<String> {
        match &self.mode {
            SkipMode::Maria(MariaSkip { hole: Some(g), .. }) => Some(format!(
                "The binlog on the master is missing the GTID {g} requested by the slave (even though both a \
                 prior and a subsequent sequence number does exist), and GTID strict mode is enabled"
            )),
            _ => None,
        }
    }

    /// The replica's UNTIL position was reached: the made-up Gtid_list body to end with.
    fn until_reached(&self) -> Option<Vec<u8>> {
        match &self.mode {
            SkipMode::Maria(m @ MariaSkip { until: Some(u), .. }) if u.reached => {
                Some(gtid_list_body(&m.state, GTID_LIST_UNTIL_REACHED))
            }
            _ => None,
        }
    }

    /// The replica's GTID was reached and no group is being left out: the made-up
    /// Gtid_list body a MariaDB primary sends then (once per domain reached).
    fn position_reached(&mut self) -> Option<Vec<u8>> {
        match &mut self.mode {
            SkipMode::Maria(m) if m.tell_position && !self.skipping => {
                m.tell_position = false;
                Some(gtid_list_body(&m.state, 0))
            }
            _ => None,
        }
    }
}

/// Event types whose bytes the transaction tracker reads.
fn tracker_reads(t: EventType) -> bool {
    matches!(
        t,
        EventType::FORMAT_DESCRIPTION
            | EventType::GTID
            | EventType::GTID_TAGGED
            | EventType::QUERY
            | EventType::PREVIOUS_GTIDS
            | EventType::MARIADB_GTID
            | EventType::MARIADB_GTID_LIST
            | EventType::ROTATE
    )
}

/// MariaDB's ER_SLAVE_SAME_ID.
const ER_SLAVE_SAME_ID: u16 = 4052;

/// The error a primary ends a dump with when its replica registered again on another
/// connection (the same server_uuid on MySQL, else the same server_id): MariaDB's
/// 4052, MySQL's 1236 (`Binlog_sender::run`). A replica stops on it rather than
/// reconnect and end the other's dump in turn. `first` is where the dump started,
/// `last` how far it read.
fn displaced_error(maria: bool, first: &(String, u64), last: (&str, u64)) -> (u16, String) {
    let (head, code) = if maria {
        ("A slave with the same server_id is already connected", ER_SLAVE_SAME_ID)
    } else {
        (
            "A replica with the same server_uuid/server_id as this replica has connected to the source",
            ER_MASTER_FATAL_READING_BINLOG,
        )
    };
    let (f, p) = last;
    (code, format!("{head}; the first event '{}' at {}, the last event read from '{f}' at {p}, the last byte read from '{f}' at {p}.", first.0, first.1))
}

fn fail(s: &mut Session, msg: &str) -> Result<(), Error> {
    s.stream.write(&err_packet(ER_MASTER_FATAL_READING_BINLOG, "HY000", msg))
}

/// Is `pos` an event boundary of the file `f` (of `limit` readable bytes)? Walks the
/// event headers from the start.
fn on_boundary(f: &File, pos: u64, limit: u64) -> std::io::Result<bool> {
    let mut at = 4u64;
    let mut h = [0u8; HEADER_LEN];
    while at < pos && at + HEADER_LEN as u64 <= limit {
        f.read_exact_at(&mut h, at)?;
        let size = u32::from_le_bytes([h[9], h[10], h[11], h[12]]) as u64;
        if size < HEADER_LEN as u64 {
            return Ok(false);
        }
        at += size;
    }
    Ok(at == pos)
}

pub fn serve(s: &mut Session, d: BinlogDump) -> Result<(), Error> {
    // A MariaDB replica that set @slave_connect_state asks by GTID, whatever file
    // and position it also sends (those are only where it last read).
    if let Some(state) = s.vars.get("slave_connect_state").cloned() {
        return serve_maria(s, &state, d.flags);
    }
    let st = stored(s);
    // No name: from the first file, as a primary does.
    let name = if d.file.is_empty() { st.files.first().cloned().unwrap_or_default() } else { d.file.clone() };
    let Some((f, pos)) = open_at(s, &st, &name, u64::from(d.pos))? else { return Ok(()) };
    info!("connection {}: dump from {name}:{pos}", s.id);
    start(s, name, f, pos, d.flags, None)
}

/// Opens stored file `name` to be read from `pos`, or answers the client the 1236
/// a primary gives for a file it lacks or a position off an event boundary (`None`).
fn open_at(
    s: &mut Session,
    st: &crate::binlog::durable::DurableState,
    name: &str,
    pos: u64,
) -> Result<Option<(File, u64)>, Error> {
    if !is_safe_name(name) {
        fail(s, "Could not find first log file name in binary log index file (a plain file name is required)")?;
        return Ok(None);
    }
    if !st.files.iter().any(|n| n == name) {
        fail(s, "Could not find first log file name in binary log index file")?;
        return Ok(None);
    }
    let dir = s.srv.cfg.binlog_dir.clone();
    let f = File::open(dir.join(name)).map_err(Error::Io)?;
    let pos = pos.max(4);
    let limit = st.readable_len(name, &f);
    if pos > limit || !on_boundary(&f, pos, limit).map_err(Error::Io)? {
        fail(s, &format!("Client requested master to start replication from impossible position {pos} in {name}"))?;
        return Ok(None);
    }
    Ok(Some((f, pos)))
}

/// What is stored, once binlogd has opened its directory: a dump that arrives while
/// it starts waits for that (at most connect_timeout) instead of finding no files.
fn stored(s: &Session) -> crate::binlog::durable::DurableState {
    let d = &s.srv.shared.durable;
    let deadline = std::time::Instant::now() + s.srv.cfg.connect_timeout;
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
        shared.set_reading(id, file, 4, server_id);
        Reading { shared: shared.clone(), id }
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        self.shared.readers.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

/// Streams from `file` at `pos` until the connection ends.
fn start(s: &mut Session, file: String, f: File, pos: u64, flags: u16, skip: Option<Skip>) -> Result<(), Error> {
    let crc = s
        .vars
        .get("master_binlog_checksum")
        .or_else(|| s.vars.get("source_binlog_checksum"))
        .is_some_and(|v| v.eq_ignore_ascii_case("CRC32"));
    let non_block = flags & BINLOG_DUMP_NON_BLOCK != 0;
    let hb = heartbeat_period(s);
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
        out: Vec::with_capacity(OUT_EVENTS),
        out_bytes: 0,
        sent: 0,
    };
    dump.run(&dir, non_block, hb)
}

/// The newest stored file whose start state `pick` accepts, from the GTID index, with
/// every entry. The entry found is checked against its file; a stale index is rebuilt
/// and searched again.
fn find_start(s: &Session, pick: impl Fn(&FileStart) -> bool) -> Result<(Option<Entry>, Vec<Option<Entry>>), Error> {
    let dir = s.srv.cfg.binlog_dir.clone();
    for _ in 0..2 {
        let st = s.srv.shared.durable.snapshot();
        let mut idx = s.srv.shared.gtid_index.lock().unwrap_or_else(|e| e.into_inner());
        let entries = idx.entries(&st.files, |name, f| st.readable_len(name, f)).map_err(Error::Io)?;
        let found = entries.iter().rev().flatten().find(|e| pick(&e.start)).cloned();
        let Some(e) = found else { return Ok((None, entries)) };
        let limit = File::open(dir.join(&e.name)).map(|f| st.readable_len(&e.name, &f)).unwrap_or(0);
        if idx.verify(&e, limit) {
            return Ok((Some(e), entries));
        }
    }
    Err(Error::malformed("the GTID index does not match the binlog files even after a rebuild"))
}

/// What binlogd can no longer serve: the GTIDs before its oldest stored file (its
/// `Previous_gtids`), as `@@gtid_purged` of a server whose binlog starts there.
pub fn purged_gtids(s: &Session) -> GtidSet {
    let st = s.srv.shared.durable.snapshot();
    let mut idx = s.srv.shared.gtid_index.lock().unwrap_or_else(|e| e.into_inner());
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
pub fn serve_gtid(s: &mut Session, d: BinlogDumpGtid) -> Result<(), Error> {
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
        info!("connection {}: GTID dump from {name}:{pos}", s.id);
        return start(s, name, f, pos, d.flags, Some(Skip::new(SkipMode::Mysql(have))));
    }
    let (found, entries) = find_start(s, |start| match start {
        FileStart::Mysql(prev) => prev.is_subset(&have),
        FileStart::NoGtids | FileStart::Maria(_) => true,
    })?;
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
    let f = File::open(dir.join(&e.name)).map_err(Error::Io)?;
    info!("connection {}: GTID dump from {}:4", s.id, e.name);
    start(s, e.name, f, 4, d.flags, Some(Skip::new(SkipMode::Mysql(have))))
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
fn serve_maria(s: &mut Session, state_text: &str, flags: u16) -> Result<(), Error> {
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
    let f = File::open(dir.join(&e.name)).map_err(Error::Io)?;
    let until_text = s.vars.get("slave_until_gtid").map(|u| format!(", until {u}")).unwrap_or_default();
    info!("connection {}: MariaDB GTID dump ({state_text}{until_text}) from {}:4", s.id, e.name);
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

/// An error sending a file's bytes (from the file or to the socket), naming where.
fn in_file(name: &str, at: u64, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("sending {name} from {at}: {e}"))
}

fn heartbeat_period(s: &Session) -> Duration {
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

impl Dump<'_, '_> {
    /// Does the client take this kind of event? (Its skipping by GTID aside.)
    fn wanted(&self, hdr: &EventHeader) -> bool {
        self.annotate || hdr.event_type != EventType::MARIADB_ANNOTATE_ROWS
    }

    /// Sends one packet whose payload is 0x00 followed by the file's bytes [at, at+len),
    /// split into 16 MiB physical packets, without holding a large event in memory.
    fn send_from_file(&mut self, at: u64, len: u64) -> Result<(), Error> {
        self.flush_out()?;
        let total = len + 1;
        let mut sent = 0u64;
        let mut buf = Vec::new();
        loop {
            let n = (total - sent).min(MAX_CHUNK as u64);
            buf.clear();
            buf.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
            buf.push(self.s.stream.seq);
            self.s.stream.seq = self.s.stream.seq.wrapping_add(1);
            let mut body_from = sent;
            if sent == 0 && n > 0 {
                buf.push(0x00);
                body_from = 1;
            }
            let body_len = sent + n - body_from;
            let file_at = at + body_from - 1;
            let mut done = 0u64;
            self.s.stream.inner.write_all_slices(&mut [std::io::IoSlice::new(&buf)], body_len > 0)?;
            if self.s.stream.inner.send_file(&self.f, file_at, body_len).map_err(|e| in_file(&self.file, file_at, e))? {
                done = body_len;
            }
            while done < body_len {
                let k = (body_len - done).min(1 << 20) as usize;
                let mut piece = vec![0u8; k];
                self.f.read_exact_at(&mut piece, file_at + done)?;
                self.s.stream.inner.write_all(&piece)?;
                done += k as u64;
            }
            sent += n;
            if n < MAX_CHUNK as u64 {
                break;
            }
        }
        self.s.stream.inner.flush()?;
        Ok(())
    }

    /// Writes the queued event packets, and counts the event bytes sent since the
    /// last flush into the shared counter (once per flush, not per event).
    fn flush_out(&mut self) -> Result<(), Error> {
        if !self.out.is_empty() {
            let plain = !self.s.stream.inner.is_tls();
            let mut iov = Vec::with_capacity(self.out.len() * 2);
            let mut i = 0;
            while i < self.out.len() {
                // Packets up to the next large event go in one write; a large event's
                // bytes then go by sendfile, right behind its packet header.
                iov.clear();
                let at = self.out.get(i).map_or(0, |q| q.at);
                let mut whole = None;
                while let Some(q) = self.out.get(i) {
                    i += 1;
                    iov.push(std::io::IoSlice::new(&q.head));
                    if plain && q.len >= SEND_FILE_MIN {
                        whole = Some((q.at, q.len as u64));
                        break;
                    }
                    iov.push(std::io::IoSlice::new(self.win.slice(q.at, q.len)?));
                }
                let (win, file) = (&self.win, &self.file);
                self.s
                    .stream
                    .inner
                    .write_all_slices_checked(&mut iov, whole.is_some(), || win.intact(file, at))
                    .map_err(|e| {
                        // The kernel's read of a mapped page past the file's end.
                        if e.raw_os_error() == Some(libc::EFAULT) {
                            in_file(file, at, std::io::Error::other(CUT_OUTSIDE))
                        } else {
                            e
                        }
                    })?;
                if let Some((at, len)) = whole {
                    self.s.stream.inner.send_file(&self.f, at, len).map_err(|e| in_file(&self.file, at, e))?;
                }
            }
            if let Some(q) = self.out.last() {
                let sent_to = q.at + q.len as u64;
                self.win.drop_before(sent_to);
            }
            self.out.clear();
            self.out_bytes = 0;
        }
        if self.sent > 0 {
            self.s
                .srv
                .shared
                .stats
                .bytes_sent
                .fetch_add(std::mem::take(&mut self.sent), std::sync::atomic::Ordering::Relaxed);
        }
        self.s.srv.shared.set_reading(self.s.id, &self.file, self.pos, self.s.registered);
        Ok(())
    }

    /// The replica's UNTIL position is reached: the made-up Gtid_list flagged
    /// UNTIL_REACHED, then the end of the dump, as a MariaDB primary ends it.
    fn end_at_until(&mut self, sid: u32, list: &[u8]) -> Result<(), Error> {
        let ev = made_up(EventType::MARIADB_GTID_LIST, sid, self.pos as u32, list, self.crc);
        self.send_event(&ev)?;
        info!("connection {}: the replica's UNTIL position is reached at {}:{}", self.s.id, self.file, self.pos);
        self.s.stream.write(&[0xfe, 0, 0, 0x02, 0])
    }

    fn send_event(&mut self, ev: &[u8]) -> Result<(), Error> {
        self.flush_out()?;
        let mut p = Vec::with_capacity(ev.len() + 1);
        p.push(0);
        p.extend_from_slice(ev);
        self.s.stream.write(&p)
    }

    /// Makes the window cover the file's bytes `[at, at + len)` (the mapping stays,
    /// so what is queued remains readable).
    fn cover(&mut self, at: u64, len: usize, limit: u64) -> Result<(), Error> {
        if !self.win.covers(at, len) {
            self.win.load(&self.f, at, len, limit)?;
        }
        Ok(())
    }

    fn open(&mut self, dir: &Path, name: &str) -> Result<(), Error> {
        self.flush_out()?;
        // Registered before it is opened, so a purge that follows leaves it alone.
        self.s.srv.shared.set_reading(self.s.id, name, 4, self.s.registered);
        if let Some(sk) = self.skip.as_mut() {
            sk.tracker = Tracker::new(event::ChecksumAlg::OFF);
            sk.skipping = false;
        }
        self.f = File::open(dir.join(name))?;
        self.win = Window::default();
        self.file = name.to_string();
        self.pos = 4;
        Ok(())
    }

    fn run(&mut self, dir: &Path, non_block: bool, hb: Duration) -> Result<(), Error> {
        let sid = self.s.srv.cfg.server_id;
        let first = (self.file.clone(), self.pos);
        self.s.stream.seq = 1;
        let rot = fake_rotate(sid, &self.file, self.pos, self.crc);
        self.send_event(&rot)?;
        // A dump that does not send its first file from the start gets that file's FDE
        // with `created` 0, as a primary sends it: a replica takes an FDE with `created`
        // set for a primary that restarted, and drops its temporary tables (MySQL's and
        // MariaDB's Start_log_event_v3::do_apply_event). Mid-file (file and position) its
        // log_pos is 0 too, so the replica does not move its position; a MariaDB GTID
        // dump reads the file from its start and skips, and keeps the log_pos; it
        // zeroes `created` only while the replica's GTID lies ahead (`behind_start`).
        let maria_behind = match &self.skip {
            Some(Skip { mode: SkipMode::Maria(m), .. }) => Some(m.behind_start),
            _ => None,
        };
        let maria_gtid = maria_behind.is_some();
        let clear_created = self.pos > 4 || maria_behind == Some(true);
        let mut h = [0u8; HEADER_LEN];
        let fde_size = if self.pos > 4 || maria_gtid {
            self.f.read_exact_at(&mut h, 4)?;
            let size = EventHeader::decode(&h).map_err(|e| Error::malformed(e.to_string()))?.event_size as usize;
            // At the start of a file, only an FDE already durable (the loop below waits for it otherwise).
            let durable = self.s.srv.shared.durable.snapshot().readable_len(&self.file, &self.f);
            (self.pos > 4 || 4 + size as u64 <= durable).then_some(size)
        } else {
            None
        };
        if let Some(size) = fde_size {
            let mut fde = vec![0u8; size];
            self.f.read_exact_at(&mut fde, 4)?;
            let alg = FormatDescription::decode(&fde).map_err(|e| Error::malformed(e.to_string()))?.checksum;
            self.crc = alg == event::ChecksumAlg::CRC32;
            if self.pos > 4 {
                fde[event::LOG_POS_OFFSET..event::LOG_POS_OFFSET + 4].copy_from_slice(&0u32.to_le_bytes());
            }
            if let Some(created) = fde.get_mut(event::FDE_CREATED..event::FDE_CREATED + 4).filter(|_| clear_created) {
                created.copy_from_slice(&0u32.to_le_bytes());
            }
            if alg == event::ChecksumAlg::CRC32 && size >= HEADER_LEN + 4 {
                let c = crc32fast::hash(&fde[..size - 4]);
                fde[size - 4..].copy_from_slice(&c.to_le_bytes());
            }
            if self.pos == 4 {
                // Sent here in place of the stored one: the stream goes on after it.
                let hdr = EventHeader::decode(&fde).map_err(|e| Error::malformed(e.to_string()))?;
                if let Some(sk) = self.skip.as_mut() {
                    sk.send(&hdr, &fde);
                }
                self.pos = 4 + size as u64;
                self.sent += size as u64;
            }
            self.send_event(&fde)?;
        }
        if let Some(list) = self.skip.as_ref().and_then(Skip::until_reached) {
            // The replica's UNTIL position lies before where it starts.
            return self.end_at_until(sid, &list);
        }
        let mut generation = 0;
        'files: loop {
            let st = self.s.srv.shared.durable.snapshot();
            generation = generation.max(st.generation);
            let limit = st.readable_len(&self.file, &self.f);
            while self.pos + HEADER_LEN as u64 <= limit {
                self.cover(self.pos, HEADER_LEN, limit)?;
                let h = self.win.slice(self.pos, HEADER_LEN)?;
                let hdr = EventHeader::decode(h);
                self.win.intact(&self.file, self.pos)?;
                let hdr = hdr.map_err(|e| Error::malformed(format!("{}:{}: {e}", self.file, self.pos)))?;
                let size = u64::from(hdr.event_size);
                if self.pos + size > limit {
                    break;
                }
                if size as usize <= WINDOW {
                    self.cover(self.pos, size as usize, limit)?;
                    let ev = self.win.slice(self.pos, size as usize)?;
                    if hdr.event_type == EventType::FORMAT_DESCRIPTION {
                        // From here on, made-up events carry the file's checksum, as a
                        // primary's do: the client now reads them with that FDE.
                        if let Ok(fde) = FormatDescription::decode(ev) {
                            self.crc = fde.checksum == event::ChecksumAlg::CRC32;
                        }
                    }
                    let send = self.skip.as_mut().is_none_or(|sk| sk.send(&hdr, ev)) && self.wanted(&hdr);
                    self.win.intact(&self.file, self.pos)?;
                    if send {
                        // One packet: length, sequence id, 0x00, the event as stored.
                        let l = (size as u32 + 1).to_le_bytes();
                        let head = [l[0], l[1], l[2], self.s.stream.seq, 0];
                        self.s.stream.seq = self.s.stream.seq.wrapping_add(1);
                        self.out.push(Queued { head, at: self.pos, len: size as usize });
                        self.out_bytes += size as usize;
                        self.sent += size;
                        if self.out_bytes >= OUT_FLUSH || self.out.len() >= OUT_EVENTS {
                            self.flush_out()?;
                        }
                    }
                } else {
                    let send = match self.skip.as_mut() {
                        None => true,
                        Some(sk) => {
                            let n = if tracker_reads(hdr.event_type) { WINDOW } else { HEADER_LEN };
                            let mut ev = vec![0u8; n];
                            self.f.read_exact_at(&mut ev, self.pos)?;
                            sk.send(&hdr, &ev)
                        }
                    } && self.wanted(&hdr);
                    if send {
                        self.send_from_file(self.pos, size)?;
                        self.sent += size;
                    }
                }
                self.pos += size;
                if let Some(msg) = self.skip.as_ref().and_then(Skip::hole) {
                    self.flush_out()?;
                    return fail(self.s, &msg);
                }
                if let Some(list) = self.skip.as_mut().and_then(Skip::position_reached) {
                    let ev = made_up(EventType::MARIADB_GTID_LIST, sid, self.pos as u32, &list, self.crc);
                    self.send_event(&ev)?;
                }
                if let Some(list) = self.skip.as_ref().and_then(Skip::until_reached) {
                    return self.end_at_until(sid, &list);
                }
                if hdr.event_type == EventType::ROTATE {
                    self.cover(self.pos - size, size as usize, limit)?;
                    let ev = self.win.slice(self.pos - size, size as usize)?;
                    // The stored event carries the file's own checksum, whatever the client asked.
                    let alg =
                        if event::verify_crc(ev).is_ok() { event::ChecksumAlg::CRC32 } else { event::ChecksumAlg::OFF };
                    let next = event::Rotate::decode(ev, alg);
                    self.win.intact(&self.file, self.pos - size)?;
                    let next = next.map_err(|e| Error::malformed(e.to_string()))?.next_file;
                    if !is_safe_name(&next) {
                        return Err(Error::malformed("stored ROTATE names a bad file"));
                    }
                    self.open(dir, &next)?;
                    // As a primary does, each new file starts with a made-up ROTATE naming
                    // it (mysqlbinlog stops there when it was not asked for that file).
                    let rot = fake_rotate(sid, &next, 4, self.crc);
                    self.send_event(&rot)?;
                    // The next file has its own limit.
                    continue 'files;
                }
            }
            self.flush_out()?;
            let st = self.s.srv.shared.durable.snapshot();
            let active = st.active.as_ref().is_some_and(|(a, _)| *a == self.file);
            if !active {
                // A closed file that ended without ROTATE (a STOP): go on with the next one.
                if let Some(i) = st.files.iter().position(|f| *f == self.file) {
                    if let Some(next) = st.files.get(i + 1).cloned() {
                        if self.pos >= st.readable_len(&self.file, &self.f) {
                            self.open(dir, &next)?;
                            let rot = fake_rotate(sid, &next, 4, self.crc);
                            self.send_event(&rot)?;
                            continue 'files;
                        }
                    }
                }
            }
            // Everything stored was read: a MariaDB replica's GTID that never
            // turned up is not here.
            if let Some(Skip { mode: SkipMode::Maria(m), .. }) = &self.skip {
                if let Some(msg) = m.missing() {
                    return fail(self.s, &msg);
                }
            }
            if non_block {
                return self.s.stream.write(&[0xfe, 0, 0, 0x02, 0]);
            }
            let st2 = self.s.srv.shared.durable.wait_newer(generation, hb);
            if self.s.killed.load(std::sync::atomic::Ordering::SeqCst) {
                if self.s.srv.conns.is_displaced(self.s.id) {
                    let maria = self.s.vars.contains_key("mariadb_slave_capability");
                    let (code, msg) = displaced_error(maria, &first, (&self.file, self.pos));
                    let _ = self.s.stream.write(&err_packet(code, "HY000", &msg));
                }
                return Err(Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "ended by KILL")));
            }
            if st2.generation == generation {
                let mut b = Vec::new();
                b.extend_from_slice(self.file.as_bytes());
                let hbev = made_up(EventType::HEARTBEAT, sid, self.pos as u32, &b, self.crc);
                self.send_event(&hbev)?;
            }
            generation = st2.generation;
        }
    }
}

#[cfg(test)]
mod tests {
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
