//! The acker thread: sends one cumulative semisync reply for the highest durable
//! position the primary asked about.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_semi_sync.html>

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use log::{debug, warn};

use super::Stats;
use crate::proto::compress::{Algorithm, Packer};
use crate::proto::{command, packet};

#[derive(Default)]
struct State {
    /// File, position, and when the oldest request it covers arrived.
    target: Option<(String, u64, Instant)>,
    closed: bool,
}

/// The latest position that is durable and was asked to be acknowledged.
/// The writer overwrites it; the acker takes it. Older targets are covered by
/// the newer one, so one reply serves a whole batch.
#[derive(Default)]
pub struct AckSlot {
    state: Mutex<State>,
    cv: Condvar,
}

impl AckSlot {
    pub fn new() -> Arc<AckSlot> {
        Arc::new(AckSlot::default())
    }

    /// Called by the writer only after the bytes up to `pos` are fsynced.
    pub fn publish(&self, file: String, pos: u64, asked_at: Instant) {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // A target not sent yet is covered by this one; its wait started earlier.
        let since = g.target.as_ref().map_or(asked_at, |t| t.2.min(asked_at));
        g.target = Some((file, pos, since));
        // Woken after the lock is let go, so the acker does not wake only to wait
        // for it: the ACK is on the primary's commit path.
        drop(g);
        self.cv.notify_one();
    }

    pub fn close(&self) {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        g.closed = true;
        drop(g);
        self.cv.notify_all();
    }

    fn take(&self) -> Option<(String, u64, Instant)> {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(t) = g.target.take() {
                return Some(t);
            }
            if g.closed {
                return None;
            }
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Runs until the slot is closed or the socket fails. On a compressed connection
/// (`compression`) each reply goes in a frame of its own.
pub fn run(mut sock: crate::tls::Transport, compression: Option<Algorithm>, slot: Arc<AckSlot>, stats: Arc<Stats>) {
    let mut buf = Vec::with_capacity(64);
    let mut wire = Vec::with_capacity(64);
    let mut packer = compression.map(Packer::new);
    while let Some((file, pos, since)) = slot.take() {
        buf.clear();
        // Each reply is a new exchange: sequence id 0, its frame's too (the replica's
        // `net_clear` in `repl_semi_slave_reply`).
        let mut seq = 0u8;
        packet::encode(&mut seq, &command::semisync_ack(crate::binlog::sources::plain(&file), pos), &mut buf);
        let out = match packer.as_mut() {
            Some(p) => {
                wire.clear();
                p.start_command();
                p.push(&buf, &mut wire);
                p.flush(&mut wire);
                &wire
            }
            None => &buf,
        };
        if let Err(e) = sock.write_all(out).and_then(|_| sock.flush()) {
            warn!("semi-sync ACK for {file}:{pos} could not be sent: {e}");
            return;
        }
        stats.acks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        stats.record_ack_latency(since.elapsed());
        debug!("ACK {file}:{pos}");
    }
}
