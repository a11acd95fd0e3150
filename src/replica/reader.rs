//! The reader thread: owns the socket, turns packets into events, checks each
//! event's size and CRC32, and hands them to the writer over a bounded channel.
//!
//! Memory is bounded whatever the backlog or the event size: every byte handed
//! over is counted against a `ByteBudget` the writer gives back after writing, and
//! an event over `STREAM_OVER` bytes is passed on in pieces as it arrives, its CRC
//! computed as the bytes pass. A slow disk therefore slows the network read.
//!
//! Event packets: <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html>

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crossbeam_channel::Sender;
use log::debug;

use super::{ReplicaError, Stats};
use crate::binlog::event::{self, ChecksumAlg, EventHeader, EventType, FormatDescription, Rotate, HEADER_LEN};
use crate::proto::packet::{BufSocket, PacketStream};
use crate::proto::{command, parse_err};

/// Events larger than this are streamed in pieces of this size.
pub const STREAM_OVER: usize = 1 << 20;
/// Bytes that may be queued between reader and writer: more than the writer's 4 MiB
/// writes, so the network is read while the disk writes, and with them the bulk of
/// binlogd's peak memory.
pub const QUEUE_BYTES: usize = 8 << 20;
/// The largest event a primary can send: max_allowed_packet is at most 1 GiB.
const MAX_EVENT: usize = 1 << 30;

/// What the reader hands the writer.
pub enum Msg {
    /// The primary is now sending `name` from `pos` (a ROTATE the primary made up).
    Rotate {
        name: String,
        pos: u64,
    },
    /// One whole event, exactly as in the primary's file.
    Event {
        ev: Vec<u8>,
        hdr: EventHeader,
        ack: bool,
    },
    /// The start of a large event: its header bytes; pieces follow, then `End`.
    Begin {
        head: Vec<u8>,
        hdr: EventHeader,
        ack: bool,
    },
    Piece(Vec<u8>),
    /// The large event arrived whole and its CRC matched.
    End,
    /// The FDE of the file a dump starts inside, as the primary sends it again
    /// (log_pos 0): not written, but compared with the stored file's.
    ResentFde(Vec<u8>),
}

impl Msg {
    /// Bytes this message holds against the budget: its buffer's capacity, so the
    /// budget bounds the memory queued, not only the bytes.
    pub fn bytes(&self) -> usize {
        match self {
            Msg::Event { ev, .. } => ev.capacity(),
            Msg::Begin { head, .. } => head.capacity(),
            Msg::Piece(p) | Msg::ResentFde(p) => p.capacity(),
            Msg::Rotate { .. } | Msg::End => 0,
        }
    }
}

/// Counts bytes in flight from reader to writer; the reader waits when full, and the
/// writer, finding the channel empty, waits here until the reader counts a message in.
///
/// The writer does not block in the channel's own receive: that spins and yields the
/// CPU a few times before it sleeps, some microseconds of CPU after every batch, while
/// the acker it has just woken may be waiting for that CPU. Here it sleeps at once, and
/// is woken by the reader, which takes this lock for every message anyway.
///
/// It also carries the writer's emptied event buffers back to the reader. Filling a
/// buffer that is already mapped costs no page faults: with musl's allocator (the
/// static binary's), a fresh allocation for every event meant a page fault and a
/// zeroed page per 4 KiB received, a third of the reader's CPU time in a catch-up.
pub struct ByteBudget {
    used: Mutex<Queued>,
    /// The reader waits here for room.
    room: Condvar,
    /// The writer waits here for a message.
    queued: Condvar,
    cap: usize,
    spares: Mutex<Spares>,
}

#[derive(Default)]
struct Queued {
    /// Bytes counted in by the reader and not yet given back by the writer.
    bytes: usize,
    /// Messages counted in by the reader, ever: more than the writer has taken means
    /// one is in the channel or about to be (some hold no bytes, as a ROTATE).
    counted: u64,
    writer_gone: bool,
    reader_gone: bool,
    writer_waits: bool,
    reader_waits: bool,
}

/// Emptied buffers by size: `by_class[c]` holds buffers of `1 << (c + MIN_CLASS)`
/// bytes, so an event takes one of its own size class and no more.
#[derive(Default)]
struct Spares {
    by_class: Vec<Vec<Vec<u8>>>,
    /// Their capacity, kept within `SPARE_BYTES`.
    bytes: usize,
}

/// The smallest buffer: 64 bytes (a GTID or XID event fits).
const MIN_CLASS: u32 = 6;
/// Capacity kept in emptied buffers. Buffers are made only when none of the size
/// is kept, so what is queued and what is kept together stay within the queue's
/// bytes, plus what is kept of other sizes.
const SPARE_BYTES: usize = 8 << 20;

impl ByteBudget {
    pub fn new(cap: usize) -> Arc<ByteBudget> {
        Arc::new(ByteBudget {
            used: Mutex::new(Queued::default()),
            room: Condvar::new(),
            queued: Condvar::new(),
            cap,
            spares: Mutex::new(Spares::default()),
        })
    }

    /// An empty buffer for `n` bytes, of `n`'s size class: one the writer emptied
    /// if one is kept, else a new one.
    pub fn buffer(&self, n: usize) -> Vec<u8> {
        let size = n.max(1 << MIN_CLASS).next_power_of_two();
        let class = (size.trailing_zeros() - MIN_CLASS) as usize;
        let mut sp = self.spares.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = sp.by_class.get_mut(class).and_then(Vec::pop) {
            sp.bytes -= v.capacity();
            return v;
        }
        drop(sp);
        Vec::with_capacity(size)
    }

    /// Keeps a buffer the writer is done with, emptied, for `buffer`. Only buffers
    /// of a class's exact size are kept (those `buffer` made), within `SPARE_BYTES`.
    pub fn recycle(&self, mut v: Vec<u8>) {
        let c = v.capacity();
        if !c.is_power_of_two() || c < 1 << MIN_CLASS {
            return;
        }
        let class = (c.trailing_zeros() - MIN_CLASS) as usize;
        let mut sp = self.spares.lock().unwrap_or_else(|e| e.into_inner());
        if sp.bytes + c > SPARE_BYTES {
            return;
        }
        if sp.by_class.len() <= class {
            sp.by_class.resize_with(class + 1, Vec::new);
        }
        v.clear();
        sp.bytes += c;
        sp.by_class[class].push(v);
    }

    /// Counts in `n` bytes as `send` does, for tests that fill the queue: waits until
    /// they fit, and is false once the writer is gone.
    #[cfg(test)]
    pub fn acquire(&self, n: usize) -> bool {
        let (ok, wake) = self.count_in(n, Wake::Now);
        if wake {
            self.wake_writer();
        }
        ok
    }

    /// Counts in a message of `n` bytes, once they fit (a single message always fits an
    /// empty queue); the caller sends it next, then wakes the writer if told to (the
    /// second bool): woken after the send, the writer finds it in the channel. The
    /// first bool is false once the writer is gone. With `Wake::Later` a waiting
    /// writer is left asleep, and stays marked as waiting for the next message sent
    /// with `Wake::Now`.
    fn count_in(&self, n: usize, wake: Wake) -> (bool, bool) {
        let mut u = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while !u.writer_gone && u.bytes > 0 && u.bytes + n > self.cap {
            // The writer left asleep with messages queued must take them to make room.
            if std::mem::take(&mut u.writer_waits) {
                self.queued.notify_one();
            }
            u.reader_waits = true;
            u = self.room.wait(u).unwrap_or_else(|e| e.into_inner());
        }
        u.bytes += n;
        u.counted += 1;
        let woken = wake == Wake::Now && std::mem::take(&mut u.writer_waits);
        (!u.writer_gone, woken)
    }

    /// Whether the writer sleeps, waiting to be woken for a message.
    #[cfg(test)]
    pub fn writer_waits(&self) -> bool {
        self.used.lock().unwrap_or_else(|e| e.into_inner()).writer_waits
    }

    fn wake_writer(&self) {
        self.queued.notify_one();
    }

    /// Wakes the writer if it sleeps with messages counted in with `Wake::Later`.
    fn wake_if_waiting(&self) {
        let wake = std::mem::take(&mut self.used.lock().unwrap_or_else(|e| e.into_inner()).writer_waits);
        if wake {
            self.wake_writer();
        }
    }

    pub fn release(&self, n: usize) {
        let mut u = self.used.lock().unwrap_or_else(|e| e.into_inner());
        u.bytes = u.bytes.saturating_sub(n);
        // Only a waiting reader is woken: the writer gives back after every batch.
        let wake = std::mem::take(&mut u.reader_waits);
        drop(u);
        if wake {
            self.room.notify_all();
        }
    }

    /// For the writer, which has found the channel empty after taking `taken` messages:
    /// waits until the reader counts in one more (true: it is in the channel or about
    /// to be), or the reader is gone (true: the channel's end follows), or `timeout`
    /// passes (false).
    pub fn wait_queued(&self, taken: u64, timeout: Duration) -> bool {
        let mut u = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if u.counted <= taken && !u.reader_gone {
            u.writer_waits = true;
            u = self
                .queued
                .wait_timeout_while(u, timeout, |u| u.counted <= taken && !u.reader_gone)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            u.writer_waits = false;
        }
        u.counted > taken || u.reader_gone
    }

    /// The writer is gone (stopped by an error, or finished): a reader waiting for
    /// room, or about to, gives up instead of waiting for ever.
    pub fn close(&self) {
        let mut u = self.used.lock().unwrap_or_else(|e| e.into_inner());
        u.writer_gone = true;
        drop(u);
        self.room.notify_all();
    }

    /// The reader is gone: a writer waiting for a message looks at the channel, whose
    /// end follows as the reader's sender is dropped.
    pub fn reader_gone(&self) {
        let mut u = self.used.lock().unwrap_or_else(|e| e.into_inner());
        u.reader_gone = true;
        drop(u);
        self.queued.notify_all();
    }
}

pub struct Reader {
    pub shared: Arc<super::Shared>,
    pub stream: PacketStream<BufSocket>,
    pub semisync: bool,
    pub alg: ChecksumAlg,
    pub tx: Sender<Msg>,
    pub budget: Arc<ByteBudget>,
    pub stop: Arc<AtomicBool>,
    pub stats: Arc<Stats>,
    /// The primary's file being streamed, for error messages.
    pub file: String,
    /// Durable position to acknowledge once the primary has started the dump (its
    /// first packet arrived), before any event reaches the writer, so it never
    /// replaces a newer ACK.
    pub catch_up_ack: Option<(String, u64, Arc<super::acker::AckSlot>)>,
    /// A packet's first bytes and an event's header, read before its buffer is taken.
    pub head: Vec<u8>,
    /// A message was sent with `Wake::Later` since the last `Wake::Now`.
    pub deferred: bool,
}

/// The writer went away; its own error says why.
#[derive(Debug)]
pub(crate) struct WriterGone;

/// However the reader ends (its stream's end, an error, a panic), a writer waiting for
/// a message must learn of it.
impl Drop for Reader {
    fn drop(&mut self) {
        self.budget.reader_gone();
    }
}

impl Reader {
    /// Reads until the connection ends, `stop` is set, or an event is bad.
    pub fn run(mut self) -> Result<(), ReplicaError> {
        // A compressed stream's inner numbers are not checked either (`Client::connect`).
        self.stream.follow_seq |= self.semisync;
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            match self.next_event() {
                Ok(Ok(())) => {}
                Ok(Err(WriterGone)) => return Ok(()),
                Err(_) if self.stop.load(Ordering::SeqCst) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads one packet of the stream and passes on what it holds.
    fn next_event(&mut self) -> Result<Result<(), WriterGone>, ReplicaError> {
        if self.stream.inner.buffered() == 0 {
            // All that has arrived is handed over: caught up, as a replica whose applier
            // has applied what its receiver got (Seconds_Behind_Master 0), until the
            // next event.
            self.stats.idle.store(true, Ordering::Relaxed);
            if self.deferred {
                // The last packet buffered sent nothing (a heartbeat, an event the sender
                // made up): what was left for a later wake-up must not wait on the socket.
                self.deferred = false;
                self.budget.wake_if_waiting();
            }
        }
        let semisync = self.semisync;
        let (budget, tx, file) = (&self.budget, &self.tx, &self.file);
        let bad = |what: String| bad(file, what);
        let mut p = self.stream.begin().map_err(ReplicaError::read)?;
        let head = &mut self.head;
        head.clear();
        p.read_exact(head, 1).map_err(ReplicaError::read)?;
        match head[0] {
            0x00 => {}
            0xff => {
                p.read_some(head, 64 << 10).map_err(ReplicaError::read)?;
                return Err(ReplicaError::read(parse_err(head)));
            }
            0xfe => {
                return Err(ReplicaError::Protocol("the primary ended the binlog stream (is it shutting down?)".into()))
            }
            b => return Err(ReplicaError::Protocol(format!("unexpected packet 0x{b:02x} in the binlog stream"))),
        }
        let mut ack = false;
        if semisync {
            head.clear();
            p.read_exact(head, 2).map_err(ReplicaError::read)?;
            if head[0] != command::SEMISYNC_MAGIC {
                return Err(ReplicaError::Protocol("semi-sync header missing from an event packet".into()));
            }
            ack = head[1] & command::SEMISYNC_NEED_ACK != 0;
        }
        if let Some((f, pos, slot)) = self.catch_up_ack.take() {
            slot.publish(f, pos, std::time::Instant::now());
        }
        head.clear();
        p.read_exact(head, HEADER_LEN).map_err(|e| bad(format!("event header: {e}")))?;
        let hdr = EventHeader::decode(head).map_err(|e| bad(e.to_string()))?;
        let size = hdr.event_size as usize;
        if size > MAX_EVENT {
            return Err(bad(format!(
                "{} event_size {size} is over the largest event a primary sends (1 GiB, max_allowed_packet's ceiling)",
                hdr.event_type
            )));
        }
        self.stats.events_received.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes_received.fetch_add(size as u64, Ordering::Relaxed);
        if size > STREAM_OVER {
            return stream_event(p, head.clone(), hdr, ack, self.alg, budget, tx, file);
        }
        let mut ev = budget.buffer(size);
        ev.extend_from_slice(head);
        p.read_exact(&mut ev, size - HEADER_LEN).map_err(|e| bad(format!("{} event: {e}", hdr.event_type)))?;
        if !p.is_done().map_err(ReplicaError::read)? {
            return Err(bad(format!("{} event is longer than its event_size {size}", hdr.event_type)));
        }
        if hdr.event_type.is_heartbeat() {
            debug!("heartbeat at primary position {}", hdr.log_pos);
            self.stats.heartbeats.fetch_add(1, Ordering::Relaxed);
            self.stats.idle.store(true, Ordering::Relaxed);
            return Ok(Ok(()));
        }
        if hdr.event_type == EventType::FORMAT_DESCRIPTION {
            self.alg = FormatDescription::decode(&ev).map_err(|e| bad(format!("Format_desc: {e}")))?.checksum;
        }
        if self.alg == ChecksumAlg::CRC32 {
            event::verify_crc(&ev).map_err(|e| crc_error(file, &hdr, e.to_string()))?;
        }
        if hdr.event_type == EventType::ROTATE {
            let r = Rotate::decode(&ev, self.alg).map_err(|e| bad(format!("Rotate: {e}")))?;
            self.file.clone_from(&r.next_file);
            self.shared.link.upstream().read_file.clone_from(&r.next_file);
            self.stats.read_pos.store(r.pos, Ordering::Relaxed);
            if hdr.is_artificial() {
                let wake = self.wake(false);
                return Ok(send(&self.budget, &self.tx, Msg::Rotate { name: r.next_file, pos: r.pos }, wake));
            }
        }
        if !hdr.is_artificial() {
            // log_pos 0: inside a MariaDB 11.4+ transaction; the position moves at its end.
            if hdr.log_pos != 0 {
                self.stats.read_pos.store(u64::from(hdr.log_pos), Ordering::Relaxed);
            }
            self.stats.last_event_ts.store(u64::from(hdr.timestamp), Ordering::Relaxed);
            self.stats.idle.store(false, Ordering::Relaxed);
        }
        if hdr.is_artificial() && !ack {
            // Made up by the sender, not in the file: MariaDB's fake Gtid_list, or the FDE
            // of the file the dump starts inside, which must be the stored file's.
            if hdr.event_type == EventType::FORMAT_DESCRIPTION {
                let wake = self.wake(false);
                return Ok(send(&self.budget, &self.tx, Msg::ResentFde(ev), wake));
            }
            return Ok(Ok(()));
        }
        let wake = self.wake(ack);
        Ok(send(&self.budget, &self.tx, Msg::Event { ev, hdr, ack }, wake))
    }

    /// When the message just read wakes the writer: now if it asks for an ACK (the
    /// primary waits for it) or if the next read may wait on the socket (nothing more
    /// is buffered), else with a later message of what is already buffered. A packet
    /// begun in the buffer and ended by a read that waits delays the writer by no more
    /// than that packet, or `queue_recheck`.
    fn wake(&mut self, ack: bool) -> Wake {
        let later = !ack && self.stream.inner.buffered() > 0;
        self.deferred = later;
        if later {
            Wake::Later
        } else {
            Wake::Now
        }
    }
}

/// When a message sent wakes a writer waiting for one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Wake {
    Now,
    /// At the next message sent with `Now`: the reader holds more of the stream
    /// already read, so the writer is woken once for all of it. A burst of a
    /// transaction's events then costs the writer one wake-up, not one per event.
    Later,
}

/// Counts `m` in, sends it, then wakes the writer if it waits (and `wake` says now):
/// in this order, so a writer that sees the count finds the message in the channel,
/// or about to be.
pub(crate) fn send(budget: &ByteBudget, tx: &Sender<Msg>, m: Msg, wake: Wake) -> Result<(), WriterGone> {
    let (ok, wake) = budget.count_in(m.bytes(), wake);
    if !ok {
        return Err(WriterGone);
    }
    let sent = tx.send(m).map_err(|_| WriterGone);
    if wake {
        budget.wake_writer();
    }
    sent
}

fn bad(file: &str, what: String) -> ReplicaError {
    ReplicaError::Event(format!("in {file}: {what}"))
}

fn crc_error(file: &str, hdr: &EventHeader, e: String) -> ReplicaError {
    let start = u64::from(hdr.log_pos).saturating_sub(u64::from(hdr.event_size));
    ReplicaError::Event(format!("{} event at {file}:{start}: {e}; nothing of it was kept", hdr.event_type))
}

/// Passes a large event on in pieces, checking its CRC as the bytes pass.
#[allow(clippy::too_many_arguments)]
fn stream_event(
    mut p: crate::proto::packet::Pieces<'_, BufSocket>,
    head: Vec<u8>,
    hdr: EventHeader,
    ack: bool,
    alg: ChecksumAlg,
    budget: &ByteBudget,
    tx: &Sender<Msg>,
    file: &str,
) -> Result<Result<(), WriterGone>, ReplicaError> {
    let bad = |what: String| bad(file, what);
    let size = hdr.event_size as usize;
    let crc_on = alg == ChecksumAlg::CRC32;
    let crc_end = if crc_on { size - event::CHECKSUM_LEN } else { size };
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head);
    let mut trailer = [0u8; 4];
    // A large event's pieces are read as they arrive: each wakes the writer.
    let send = |m: Msg| send(budget, tx, m, Wake::Now);
    if let Err(g) = send(Msg::Begin { head, hdr, ack }) {
        return Ok(Err(g));
    }
    let mut at = HEADER_LEN;
    while at < size {
        let mut piece = budget.buffer((size - at).min(STREAM_OVER));
        let n = p
            .read_some(&mut piece, (size - at).min(STREAM_OVER))
            .map_err(|e| bad(format!("{} event cut at byte {at} of {size}: {e}", hdr.event_type)))?;
        if n == 0 {
            return Err(bad(format!("{} event ends at byte {at} of its event_size {size}", hdr.event_type)));
        }
        let crc_part = crc_end.saturating_sub(at).min(n);
        crc.update(&piece[..crc_part]);
        for (i, b) in piece.iter().enumerate().skip(crc_part) {
            let k = at + i - crc_end;
            if k < 4 {
                trailer[k] = *b;
            }
        }
        at += n;
        if let Err(g) = send(Msg::Piece(piece)) {
            return Ok(Err(g));
        }
    }
    if !p.is_done().map_err(ReplicaError::read)? {
        return Err(bad(format!("{} event is longer than its event_size {size}", hdr.event_type)));
    }
    if crc_on {
        let (expected, computed) = (u32::from_le_bytes(trailer), crc.finalize());
        if expected != computed {
            return Err(crc_error(
                file,
                &hdr,
                format!("CRC32 mismatch: event says {expected:08x}, computed {computed:08x}"),
            ));
        }
    }
    Ok(send(Msg::End))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::event::{EventHeader, EventType};
    use crate::proto::packet::{BufSocket, PacketStream};
    use std::io::Write;
    use std::time::Instant;

    /// A reader of the stream a test writes to the returned socket.
    fn reader(budget: &Arc<ByteBudget>) -> (Reader, std::net::TcpStream, crossbeam_channel::Receiver<Msg>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mine = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let theirs = l.accept().unwrap().0;
        let dir = crate::test_dir::TestDir::new("reader");
        let cfg = crate::config::Config::parse(
            &format!("server_id = 2\nmaster_user = u\nmaster_host = h\nbinlog_dir = {}\n", dir.display()),
            std::path::Path::new("t.cnf"),
        )
        .unwrap();
        let source = super::super::source::Source::new(&cfg, Default::default()).unwrap();
        let shared = Arc::new(super::super::Shared::new(
            &cfg,
            "u".into(),
            Arc::new(Stats::default()),
            super::super::Control::new(),
            crate::logging::LogSink::new(None).unwrap(),
            Arc::new(crate::tls::Live::load(&cfg).unwrap()),
            source,
        ));
        let (tx, rx) = crossbeam_channel::bounded(64);
        let stream = PacketStream::new(BufSocket::new(crate::tls::Transport::plain(mine)), 1 << 30);
        let r = Reader {
            shared,
            stream,
            semisync: false,
            alg: ChecksumAlg::OFF,
            tx,
            budget: budget.clone(),
            stop: Arc::new(AtomicBool::new(false)),
            stats: Arc::new(Stats::default()),
            file: "b.000001".into(),
            catch_up_ack: None,
            head: Vec::new(),
            deferred: false,
        };
        (r, theirs, rx)
    }

    /// A binlog stream packet holding an event of `ty` with `body`.
    fn packet(seq: &mut u8, ty: EventType, body: &[u8], out: &mut Vec<u8>) {
        let h = EventHeader {
            timestamp: 1,
            event_type: ty,
            server_id: 1,
            event_size: (HEADER_LEN + body.len()) as u32,
            log_pos: 0,
            flags: 0,
        };
        let mut p = vec![0u8];
        p.extend_from_slice(&h.encode());
        p.extend_from_slice(body);
        crate::proto::packet::encode(seq, &p, out);
    }

    #[test]
    fn an_event_left_for_a_later_wake_up_is_not_kept_waiting_behind_a_heartbeat() {
        let budget = ByteBudget::new(QUEUE_BYTES);
        let (r, mut primary, rx) = reader(&budget);
        // The writer, asleep on an empty queue for as long as the test may take.
        let writer = {
            let b = budget.clone();
            std::thread::spawn(move || b.wait_queued(0, Duration::from_secs(3600)))
        };
        let t = Instant::now();
        while !budget.writer_waits() {
            assert!(t.elapsed() < Duration::from_secs(60), "the writer did not go to sleep");
            std::thread::sleep(Duration::from_millis(1));
        }
        let reading = std::thread::spawn(move || r.run());
        // An event, then a heartbeat, read together: the event is sent while more is
        // buffered, and the heartbeat sends nothing.
        let (mut seq, mut bytes) = (0u8, Vec::new());
        packet(&mut seq, EventType::QUERY, b"an event body", &mut bytes);
        packet(&mut seq, EventType::HEARTBEAT, b"b.000001", &mut bytes);
        primary.write_all(&bytes).unwrap();
        let t = Instant::now();
        while !writer.is_finished() {
            assert!(t.elapsed() < Duration::from_secs(60), "the writer was left asleep with an event queued");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(writer.join().unwrap());
        assert!(!reading.is_finished(), "the reader ended: {:?}", reading.join().unwrap().err());
        assert!(matches!(rx.try_recv(), Ok(Msg::Event { .. })));
        drop(primary);
        let _ = reading.join().unwrap();
    }

    #[test]
    fn a_reader_that_handed_over_all_that_arrived_is_caught_up() {
        let budget = ByteBudget::new(QUEUE_BYTES);
        let (r, mut primary, rx) = reader(&budget);
        let stats = r.stats.clone();
        let reading = std::thread::spawn(move || r.run());
        // An event written in 1970: behind by decades while it is being handed over,
        // caught up (Seconds_Behind_Master 0) once nothing more has arrived.
        let (mut seq, mut bytes) = (0u8, Vec::new());
        packet(&mut seq, EventType::QUERY, b"an event body", &mut bytes);
        primary.write_all(&bytes).unwrap();
        assert!(matches!(rx.recv_timeout(Duration::from_secs(60)), Ok(Msg::Event { .. })));
        assert_eq!(stats.last_event_ts.load(Ordering::Relaxed), 1);
        let t = Instant::now();
        while !stats.idle.load(Ordering::Relaxed) {
            assert!(t.elapsed() < Duration::from_secs(10), "a reader waiting for the next event is not caught up");
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(primary);
        let _ = reading.join().unwrap();
    }
}
