//! The writer thread: appends events, fsyncs by policy, publishes the durable
//! position, and only then lets the acker acknowledge it.
//!
//! It drains everything queued before syncing, so one fsync and one ACK serve a
//! whole batch. An I/O or fsync error ends the writer: the supervisor starts
//! again through recovery.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::acker::AckSlot;
use super::reader::{ByteBudget, Msg};
use super::Stats;
use crate::binlog::store::{Store, StoreError};

/// Bytes taken per batch before syncing even if more is queued.
const BATCH_BYTES: usize = 32 << 20;
/// Queued bytes are given back to the reader in steps of this size.
const RELEASE_BYTES: usize = 1 << 20;
/// A batch this large with no ACK asked for is a catch-up on old events: its fsync
/// may wait for the next batches (below), as nothing waits on it but the dump threads.
const CATCH_UP_BATCH: usize = 4 << 20;
/// A catch-up fsyncs at least once per this many bytes...
const CATCH_UP_SYNC_BYTES: u64 = 64 << 20;
/// ...and as soon as the stream pauses this long.
const CATCH_UP_IDLE: std::time::Duration = std::time::Duration::from_millis(20);
/// How long the writer sleeps on an empty channel before it looks again, whether or
/// not the reader woke it: a sender that went away without a word is seen by then.
const QUEUE_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);
/// A synced batch smaller than this is the live stream: its file gets preallocated
/// space (`Store::preallocate`). A catch-up does not: it writes large batches, with
/// few fsyncs, and writing the zeros first would double what goes to disk.
const LIVE_BATCH: usize = 256 << 10;

pub struct Writer {
    pub store: Store,
    pub rx: Receiver<Msg>,
    /// `sync_binlog`: 0, 1 or N.
    pub sync_every: u32,
    pub acks: Arc<AckSlot>,
    pub stats: Arc<Stats>,
    /// Bytes queued by the reader; given back once written.
    pub budget: Arc<ByteBudget>,
    /// Where the durable end is published for the dump threads.
    pub durable: Option<Arc<crate::binlog::durable::Durable>>,
    published_files: (usize, Option<String>),
    /// The ACK request of the large event being streamed.
    streaming_ack: Option<String>,
    /// Transactions written since the last fsync.
    pub trx_since_sync: u32,
    /// Bytes written since the last fsync.
    unsynced_bytes: u64,
    /// A catch-up left an fsync the policy asks for to a later batch.
    deferred: bool,
    /// Batches at least this large are catch-up batches (`CATCH_UP_BATCH`).
    pub catch_up_batch: usize,
    /// Synced batches smaller than this get preallocated space (`LIVE_BATCH`).
    pub live_batch: usize,
    /// `QUEUE_RECHECK`.
    pub queue_recheck: std::time::Duration,
    /// Messages taken from the channel, for `ByteBudget::wait_queued`.
    taken: u64,
}

/// What one batch did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Batch {
    pub bytes: usize,
    pub transactions: u32,
    pub synced: bool,
    /// The position acknowledged after the fsync, if any was asked for.
    pub acked: Option<(String, u64)>,
}

impl Writer {
    pub fn new(store: Store, rx: Receiver<Msg>, sync_every: u32, acks: Arc<AckSlot>, stats: Arc<Stats>) -> Writer {
        let budget = ByteBudget::new(super::reader::QUEUE_BYTES);
        Writer {
            store,
            rx,
            sync_every,
            acks,
            stats,
            budget,
            durable: None,
            published_files: (0, None),
            streaming_ack: None,
            trx_since_sync: 0,
            unsynced_bytes: 0,
            deferred: false,
            catch_up_batch: CATCH_UP_BATCH,
            live_batch: LIVE_BATCH,
            queue_recheck: QUEUE_RECHECK,
            taken: 0,
        }
    }

    pub fn run(mut self) -> Result<Store, StoreError> {
        // However the writer ends (an error, the reader's end, a panic), a reader
        // waiting for room in the queue must not wait for ever.
        struct CloseOnExit(Arc<ByteBudget>);
        impl Drop for CloseOnExit {
            fn drop(&mut self) {
                self.0.close();
            }
        }
        let _close = CloseOnExit(self.budget.clone());
        let r = (|| {
            loop {
                let first = match self.next() {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => {
                        self.sync()?;
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                };
                self.batch(first)?;
            }
            // The reader is gone: a large event it did not finish is dropped, and what
            // was queued made durable. The file is left as the primary's bytes only.
            self.store.abort_event()?;
            if self.unsynced_bytes > 0 {
                self.sync()?;
            }
            self.store.trim()
        })();
        match r {
            Ok(()) => Ok(self.store),
            Err(e) => {
                // Events accepted before the bad one are whole and valid: keep them.
                let _ = self.store.abort_event();
                let _ = self.store.sync();
                let _ = self.store.trim();
                Err(e)
            }
        }
    }

    /// The next message; `Timeout` once a deferred fsync is due (the stream paused for
    /// `CATCH_UP_IDLE`). On an empty channel it sleeps on the budget, which the reader
    /// wakes as it counts a message in (see `ByteBudget`), and looks at the channel again
    /// at least every `QUEUE_RECHECK`.
    fn next(&mut self) -> Result<Msg, RecvTimeoutError> {
        let until = self.deferred.then(|| Instant::now() + CATCH_UP_IDLE);
        loop {
            match self.rx.try_recv() {
                Ok(m) => return Ok(m),
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
            let recheck = self.queue_recheck;
            let wait = until.map_or(recheck, |u| u.saturating_duration_since(Instant::now()).min(recheck));
            if self.budget.wait_queued(self.taken, wait) {
                // Counted in, so sent next (or the reader is gone, and the channel ends).
                return match until {
                    Some(u) => self.rx.recv_deadline(u),
                    None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                };
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                return Err(RecvTimeoutError::Timeout);
            }
        }
    }

    fn sync(&mut self) -> Result<Option<(String, u64)>, StoreError> {
        let t = std::time::Instant::now();
        let d = self.store.sync()?;
        // Counted first, as the ACKs are: a scrape in between sees the +Inf bucket
        // ahead of the others, never behind.
        self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
        self.stats.fsync_latency.record(t.elapsed());
        self.publish(d.clone());
        self.trx_since_sync = 0;
        self.unsynced_bytes = 0;
        self.deferred = false;
        Ok(d)
    }

    /// Tells the dump threads what is durable now.
    pub fn publish(&mut self, active: Option<(String, u64)>) {
        if let Some(d) = &self.durable {
            let files = self.store.files();
            let key = (files.len(), files.first().cloned());
            let changed = key != self.published_files;
            self.published_files = key;
            let (g, m) = self.store.gtid_state();
            d.publish(changed.then_some(files), active, Some((g, m)));
        }
    }

    /// Applies `first` and whatever else is queued, then syncs if the policy or an
    /// ACK request says so, and only after that publishes the ACK.
    pub fn batch(&mut self, first: Msg) -> Result<Batch, StoreError> {
        let mut b = Batch::default();
        let mut want_ack: Option<(String, u64)> = None;
        // When the first event asking for an ACK was taken: the ACK latency starts there.
        let mut asked_at: Option<std::time::Instant> = None;
        let mut events = 0u64;
        // Bytes written and not yet given back to the reader: given back a MiB at a
        // time, not per event (each give-back wakes the reader).
        let mut written = 0usize;
        let mut next = Some(first);
        while let Some(m) = next.take() {
            self.taken += 1;
            let held = m.bytes();
            match m {
                Msg::Rotate { name, pos } => self.store.switch_to(&name, pos)?,
                Msg::Event { ev, hdr, ack } => {
                    // The ACK names where the event ends in the file, which is where the
                    // store stands after it (its log_pos may be 0, from MariaDB 11.4 on).
                    let file = if ack { self.store.active_name().map(str::to_string) } else { None };
                    b.bytes += ev.len();
                    if self.store.append(&hdr, &ev)? {
                        b.transactions += 1;
                    }
                    self.budget.recycle(ev);
                    events += 1;
                    if let Some(f) = file {
                        let end =
                            self.store.active_end().filter(|(n, _)| *n == f).map_or(u64::from(hdr.log_pos), |p| p.1);
                        want_ack = Some((f, end));
                        asked_at.get_or_insert_with(std::time::Instant::now);
                    }
                }
                Msg::Begin { head, hdr, ack } => {
                    b.bytes += head.len();
                    self.streaming_ack = if ack { self.store.active_name().map(str::to_string) } else { None };
                    self.store.begin_event(&hdr, &head)?;
                }
                Msg::Piece(p) => {
                    b.bytes += p.len();
                    self.store.event_piece(&p)?;
                    self.budget.recycle(p);
                }
                Msg::ResentFde(ev) => {
                    self.store.check_resent_fde(&ev)?;
                    self.budget.recycle(ev);
                }
                Msg::End => {
                    if self.store.end_event()? {
                        b.transactions += 1;
                    }
                    events += 1;
                    if let Some(f) = self.streaming_ack.take() {
                        let end = self.store.active_end().filter(|(n, _)| *n == f).map_or(0, |p| p.1);
                        want_ack = Some((f, end));
                        asked_at.get_or_insert_with(std::time::Instant::now);
                    }
                }
            }
            written += held;
            if written >= RELEASE_BYTES {
                self.budget.release(std::mem::take(&mut written));
            }
            if b.bytes < BATCH_BYTES {
                next = self.rx.try_recv().ok();
            }
        }
        self.budget.release(written);
        self.trx_since_sync += b.transactions;
        self.unsynced_bytes += b.bytes as u64;
        let policy = self.sync_every != 0 && self.trx_since_sync >= self.sync_every;
        // Catching up, the disk's time goes to writing, not to flushing its cache after
        // every batch; the fsync follows within CATCH_UP_SYNC_BYTES or CATCH_UP_IDLE.
        let defer =
            policy && want_ack.is_none() && b.bytes >= self.catch_up_batch && self.unsynced_bytes < CATCH_UP_SYNC_BYTES;
        if want_ack.is_some() || (policy && !defer) {
            let durable = self.sync()?;
            b.synced = true;
            if let Some((f, p)) = want_ack {
                // Files before the active one were fsynced before it was created.
                debug_assert!(durable.as_ref().is_some_and(|(df, dl)| df != &f || p <= *dl));
                self.acks.publish(f.clone(), p, asked_at.unwrap_or_else(std::time::Instant::now));
                b.acked = Some((f, p));
            }
            // After the ACK is on its way, not before: the primary waits for it.
            if b.bytes < self.live_batch {
                self.store.preallocate()?;
            }
        } else {
            if b.bytes < self.live_batch {
                self.store.flush_transactions()?;
            } else {
                self.store.flush()?;
            }
            self.deferred |= defer;
        }
        self.stats.bytes_written.fetch_add(b.bytes as u64, Ordering::Relaxed);
        self.stats.events_written.fetch_add(events, Ordering::Relaxed);
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::event::{EventHeader, EventType};
    use crate::test_dir::TestDir;
    use std::path::Path;

    /// The golden MySQL file as stream messages; with `ack_on_trx_end`, XID and QUERY events ask for an ACK.
    fn golden_msgs(ack_on_trx_end: bool) -> Vec<Msg> {
        let g = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mysql-9.7.4.000001")).unwrap();
        let mut v = vec![Msg::Rotate { name: "mysql-bin.000001".into(), pos: 4 }];
        let mut pos = 4;
        while pos < g.len() {
            let h = EventHeader::decode(&g[pos..]).unwrap();
            let end = pos + h.event_size as usize;
            let ack = ack_on_trx_end && (h.event_type.0 == 16 || h.event_type.0 == 2);
            v.push(Msg::Event { ev: g[pos..end].to_vec(), hdr: h, ack });
            pos = end;
        }
        v
    }

    /// A writer on a store in a fresh directory, removed with the returned guard.
    fn writer(tag: &str, sync_every: u32) -> (Writer, crossbeam_channel::Sender<Msg>, TestDir) {
        let d = TestDir::new(&format!("writer-{tag}"));
        let (tx, rx) = crossbeam_channel::bounded(4096);
        let w = Writer::new(Store::open(&d).unwrap(), rx, sync_every, AckSlot::new(), Arc::new(Stats::default()));
        (w, tx, d)
    }

    /// Feeds `msgs` as one batch.
    fn feed(w: &mut Writer, tx: &crossbeam_channel::Sender<Msg>, msgs: Vec<Msg>) -> Batch {
        let mut it = msgs.into_iter();
        let first = it.next().unwrap();
        for m in it {
            tx.send(m).unwrap();
        }
        w.batch(first).unwrap()
    }

    #[test]
    fn event_buffers_the_writer_empties_are_filled_again_by_size() {
        let (mut w, tx, _dir) = writer("recycle", 1);
        let budget = w.budget.clone();
        let msgs: Vec<Msg> = golden_msgs(false)
            .into_iter()
            .map(|m| match m {
                Msg::Event { ev, hdr, ack } => {
                    let mut b = budget.buffer(ev.len());
                    b.extend_from_slice(&ev);
                    Msg::Event { ev: b, hdr, ack }
                }
                m => m,
            })
            .collect();
        let held: Vec<(usize, usize)> = msgs
            .iter()
            .filter_map(|m| match m {
                Msg::Event { ev, .. } => Some((ev.as_ptr() as usize, ev.capacity())),
                _ => None,
            })
            .collect();
        assert!(held.iter().all(|&(_, c)| c.is_power_of_two() && c >= 64), "{held:?}");
        feed(&mut w, &tx, msgs);
        // Each buffer comes back, empty, for an event of its size class.
        let mut taken: Vec<Vec<u8>> = held.iter().map(|&(_, cap)| budget.buffer(cap / 2 + 1)).collect();
        let mut got: Vec<(usize, usize)> = taken.iter().map(|b| (b.as_ptr() as usize, b.capacity())).collect();
        assert!(taken.iter().all(Vec::is_empty));
        let mut want = held.clone();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "the buffers the writer emptied");
        // None is left: the next one is new.
        taken.push(budget.buffer(64));
        assert!(!want.iter().any(|&(p, _)| taken.last().is_some_and(|b| b.as_ptr() as usize == p)));
    }

    #[test]
    fn emptied_buffers_are_kept_within_their_bound_and_only_at_class_sizes() {
        let (w, _tx, _dir) = writer("spares", 1);
        let b = w.budget.clone();
        // An odd capacity (not made by `buffer`) is let go.
        let odd = Vec::<u8>::with_capacity(1000);
        b.recycle(odd);
        assert_eq!(b.buffer(1000).capacity(), 1024, "a new buffer of the class");
        // 1 MiB buffers: eight are kept (8 MiB), the ninth is let go.
        let bufs: Vec<Vec<u8>> = (0..9).map(|_| b.buffer(1 << 20)).collect();
        let ptrs: Vec<usize> = bufs.iter().map(|v| v.as_ptr() as usize).collect();
        let last = ptrs[8];
        for v in bufs {
            b.recycle(v);
        }
        let again: Vec<Vec<u8>> = (0..8).map(|_| b.buffer(1 << 20)).collect();
        let mut got: Vec<usize> = again.iter().map(|v| v.as_ptr() as usize).collect();
        got.sort_unstable();
        let mut kept = ptrs[..8].to_vec();
        kept.sort_unstable();
        assert_eq!(got, kept);
        assert!(!got.contains(&last));
    }

    #[test]
    fn queued_bytes_count_the_buffers_capacity() {
        let ev = Vec::with_capacity(8192);
        let m = Msg::Piece(ev);
        assert_eq!(m.bytes(), 8192);
    }

    #[test]
    fn a_reader_waiting_for_room_gives_up_when_the_writer_stops_on_an_error() {
        let (w, tx, _dir) = writer("gone", 1);
        let budget = w.budget.clone();
        assert!(budget.acquire(super::super::reader::QUEUE_BYTES), "the queue is full");
        let waiting = {
            let b = budget.clone();
            std::thread::spawn(move || b.acquire(1000))
        };
        // An event before the primary named a file: the writer stops with an error.
        let first = golden_msgs(false).into_iter().nth(1).unwrap();
        tx.send(first).unwrap();
        let r = std::thread::spawn(move || w.run()).join().unwrap();
        assert!(r.is_err(), "the writer took an event with no file");
        assert!(!waiting.join().unwrap(), "the waiting reader learns the writer is gone");
        assert!(!budget.acquire(1), "and so does any later one");
    }

    #[test]
    fn a_writer_asleep_on_an_empty_queue_wakes_for_the_readers_next_message_and_its_end() {
        let (mut w, tx, _dir) = writer("asleep", 1);
        // Only the reader's wake-ups may end its waits.
        w.queue_recheck = std::time::Duration::from_secs(3600);
        let (budget, stats) = (w.budget.clone(), w.stats.clone());
        let h = std::thread::spawn(move || w.run());
        let mut events = 0;
        for m in golden_msgs(true) {
            events += u64::from(matches!(m, Msg::Event { .. }));
            // The writer has taken all before and is asleep again, or about to be.
            std::thread::sleep(std::time::Duration::from_millis(2));
            super::super::reader::send(&budget, &tx, m, super::super::reader::Wake::Now).unwrap();
            until("the writer did not wake for a message", &|| stats.events_written.load(Ordering::Relaxed) == events);
        }
        // The reader ends: its sender goes after it says so.
        budget.reader_gone();
        std::thread::sleep(std::time::Duration::from_millis(2));
        drop(tx);
        until("the writer did not see the reader's end", &|| h.is_finished());
        h.join().unwrap().unwrap();
    }

    /// Waits up to a minute for `done`.
    fn until(what: &str, done: &dyn Fn() -> bool) {
        let t = std::time::Instant::now();
        while !done() {
            assert!(t.elapsed() < std::time::Duration::from_secs(60), "{what}");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn messages_that_wake_later_are_taken_in_one_batch_with_the_next_that_wakes_now() {
        use super::super::reader::{send, Wake};
        let (mut w, tx, _dir) = writer("later", 1);
        w.queue_recheck = std::time::Duration::from_secs(3600);
        let (budget, stats) = (w.budget.clone(), w.stats.clone());
        let h = std::thread::spawn(move || w.run());
        until("the writer did not go to sleep", &|| budget.writer_waits());
        let msgs = golden_msgs(false);
        let (n, events) = (msgs.len(), msgs.iter().filter(|m| matches!(m, Msg::Event { .. })).count() as u64);
        for (i, m) in msgs.into_iter().enumerate() {
            if i + 1 == n {
                assert!(budget.writer_waits(), "the writer was left asleep");
            }
            send(&budget, &tx, m, if i + 1 == n { Wake::Now } else { Wake::Later }).unwrap();
        }
        until("the writer did not take what was queued", &|| stats.events_written.load(Ordering::Relaxed) == events);
        assert_eq!(stats.fsyncs.load(Ordering::Relaxed), 1, "one wake-up, one batch, one fsync");
        budget.reader_gone();
        drop(tx);
        h.join().unwrap().unwrap();
    }

    #[test]
    fn a_reader_out_of_room_wakes_the_writer_it_left_asleep() {
        use super::super::reader::{send, Wake, QUEUE_BYTES};
        let (mut w, tx, _dir) = writer("room", 0);
        w.queue_recheck = std::time::Duration::from_secs(3600);
        let (budget, stats) = (w.budget.clone(), w.stats.clone());
        let h = std::thread::spawn(move || w.run());
        until("the writer did not go to sleep", &|| budget.writer_waits());
        // Events whose buffers fill a third of the queue each: the fourth must wait for
        // room, which only the writer makes.
        let msgs: Vec<Msg> = golden_msgs(false)
            .into_iter()
            .map(|m| match m {
                Msg::Event { ev, hdr, ack } => {
                    let mut big = Vec::with_capacity(QUEUE_BYTES / 3);
                    big.extend_from_slice(&ev);
                    Msg::Event { ev: big, hdr, ack }
                }
                m => m,
            })
            .take(6)
            .collect();
        let sent = {
            let (budget, tx) = (budget.clone(), tx.clone());
            std::thread::spawn(move || msgs.into_iter().all(|m| send(&budget, &tx, m, Wake::Later).is_ok()))
        };
        until("the reader waited for room for ever", &|| sent.is_finished());
        assert!(sent.join().unwrap());
        // The last ones sent may still be queued: the reader's end wakes the writer.
        budget.reader_gone();
        drop(tx);
        h.join().unwrap().unwrap();
        assert_eq!(stats.events_written.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn without_an_fsync_a_transaction_is_written_once_it_has_arrived_whole() {
        let (mut w, tx, dir) = writer("whole", 0);
        let mut msgs = golden_msgs(false);
        msgs.truncate(msgs.len() - 1); // leave out the ROTATE: the file stays open
        let ends: Vec<(u8, u64, u64)> = msgs
            .iter()
            .filter_map(|m| match m {
                Msg::Event { hdr, .. } => {
                    Some((hdr.event_type.0, u64::from(hdr.log_pos), u64::from(hdr.log_pos - hdr.event_size)))
                }
                _ => None,
            })
            .collect();
        let on_disk = || std::fs::metadata(dir.join("mysql-bin.000001")).unwrap().len();
        // Up to the first transaction's GTID event.
        let gtid = ends.iter().position(|e| e.0 == EventType::GTID.0).unwrap();
        let xid = gtid + ends[gtid..].iter().position(|e| e.0 == EventType::XID.0).unwrap();
        let rest = msgs.split_off(gtid + 2); // + the ROTATE that leads
        let b = feed(&mut w, &tx, msgs);
        assert!(!b.synced);
        assert_eq!(on_disk(), ends[gtid].2, "the GTID event waits for the rest of its transaction");
        let mut rest = rest.into_iter();
        let upto_xid: Vec<Msg> = rest.by_ref().take(xid - gtid).collect();
        feed(&mut w, &tx, upto_xid);
        assert_eq!(on_disk(), ends[xid].1, "the whole transaction went to the file");
    }

    #[test]
    fn sync_binlog_1_fsyncs_once_per_batch_of_transactions() {
        let (mut w, tx, _dir) = writer("s1", 1);
        let b = feed(&mut w, &tx, golden_msgs(false));
        assert!(b.transactions >= 5 && b.synced && b.acked.is_none(), "{b:?}");
        assert_eq!(w.stats.fsyncs.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn sync_binlog_0_leaves_it_to_the_os_unless_an_ack_is_asked() {
        let (mut w, tx, _dir) = writer("s0", 0);
        let b = feed(&mut w, &tx, golden_msgs(false));
        assert!(!b.synced && b.acked.is_none());
        let (mut w, tx, _dir) = writer("s0ack", 0);
        let mut msgs = golden_msgs(true);
        msgs.truncate(msgs.len() - 1); // leave out the ROTATE: the ACK is in the active file
        let last_ack = msgs
            .iter()
            .rev()
            .find_map(|m| match m {
                Msg::Event { hdr, ack: true, .. } => Some(u64::from(hdr.log_pos)),
                _ => None,
            })
            .unwrap();
        let b = feed(&mut w, &tx, msgs);
        assert!(b.synced, "an ACK needs an fsync first");
        assert_eq!(
            b.acked,
            Some(("mysql-bin.000001".to_string(), last_ack)),
            "one cumulative ACK for the highest position"
        );
        let on_disk = std::fs::metadata(w.store.dir().join("mysql-bin.000001")).unwrap().len();
        assert!(on_disk >= last_ack, "ACKed {last_ack} but only {on_disk} bytes are in the file");
    }

    #[test]
    fn a_catch_up_defers_its_fsync_until_the_stream_pauses_unless_an_ack_is_asked() {
        let (mut w, tx, _dir) = writer("catchup-ack", 1);
        w.catch_up_batch = 1;
        let mut msgs = golden_msgs(true);
        msgs.truncate(msgs.len() - 1);
        let b = feed(&mut w, &tx, msgs);
        assert!(b.synced && b.acked.is_some(), "an ACK is never deferred: {b:?}");
        let (mut w, tx, _dir) = writer("catchup", 1);
        w.catch_up_batch = 1;
        let b = feed(&mut w, &tx, golden_msgs(false));
        assert!(!b.synced && w.deferred, "{b:?}");
        assert_eq!(w.stats.fsyncs.load(Ordering::Relaxed), 0);
        // Nothing more arrives: the fsync follows within CATCH_UP_IDLE.
        let stats = w.stats.clone();
        let h = std::thread::spawn(move || w.run());
        let t = std::time::Instant::now();
        while stats.fsyncs.load(Ordering::Relaxed) == 0 {
            assert!(t.elapsed() < std::time::Duration::from_secs(10), "no fsync after the stream paused");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        drop(tx);
        h.join().unwrap().unwrap();
    }

    #[test]
    fn a_live_stream_gets_zeros_ahead_and_the_writers_end_gives_them_back() {
        let (mut w, tx, dir) = writer("prealloc", 1);
        w.store.set_preallocate(64 << 10);
        let path = dir.join("mysql-bin.000001");
        let mut msgs = golden_msgs(true);
        msgs.truncate(msgs.len() - 1); // leave out the ROTATE: the file stays open
        let end = msgs
            .iter()
            .filter_map(|m| match m {
                Msg::Event { hdr, .. } => Some(u64::from(hdr.log_pos)),
                _ => None,
            })
            .max()
            .unwrap();
        let b = feed(&mut w, &tx, msgs);
        assert!(b.synced && b.acked.is_some(), "{b:?}");
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size >= end + (32 << 10), "{size} bytes on disk for {end} stored");
        // The connection ends: the file is the primary's bytes again.
        drop(tx);
        w.run().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), end);
        // A batch as large as a catch-up's writes no zeros.
        let (mut w, tx, dir) = writer("prealloc-catchup", 1);
        w.store.set_preallocate(64 << 10);
        w.live_batch = 1;
        let mut msgs = golden_msgs(true);
        msgs.truncate(msgs.len() - 1);
        let b = feed(&mut w, &tx, msgs);
        assert!(b.synced && b.acked.is_some(), "{b:?}");
        assert_eq!(std::fs::metadata(dir.join("mysql-bin.000001")).unwrap().len(), end);
    }

    #[test]
    fn sync_binlog_n_waits_for_n_transactions() {
        let (mut w, tx, _dir) = writer("sn", 1000);
        let msgs = golden_msgs(false);
        let b = feed(&mut w, &tx, msgs);
        assert!(!b.synced && w.trx_since_sync == b.transactions);
        let (mut w, tx, _dir) = writer("sn2", 3);
        let b = feed(&mut w, &tx, golden_msgs(false));
        assert!(b.synced && w.trx_since_sync == 0);
    }
}
