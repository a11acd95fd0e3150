//! The writer thread: appends events, fsyncs by policy, publishes the durable
//! position, and only then lets the acker acknowledge it.
//!
//! It drains everything queued before syncing, so one fsync and one ACK serve a
//! whole batch. An I/O or fsync error ends the writer: the supervisor starts
//! again through recovery.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_channel::Receiver;

use super::acker::AckSlot;
use super::reader::Msg;
use super::Stats;
use crate::binlog::store::{Store, StoreError};

/// Bytes taken per batch before syncing even if more is queued.
const BATCH_BYTES: usize = 32 << 20;

pub struct Writer {
    pub store: Store,
    pub rx: Receiver<Msg>,
    /// `sync_binlog`: 0, 1 or N.
    pub sync_every: u32,
    pub acks: Arc<AckSlot>,
    pub stats: Arc<Stats>,
}

impl Writer {
    pub fn run(mut self) -> Result<Store, StoreError> {
        match self.drain() {
            Ok(()) => Ok(self.store),
            Err(e) => {
                // Events accepted before the bad one are whole and valid: keep them.
                let _ = self.store.sync();
                Err(e)
            }
        }
    }

    fn drain(&mut self) -> Result<(), StoreError> {
        let mut trx_since_sync = 0u32;
        let mut unsynced = false;
        while let Ok(first) = self.rx.recv() {
            let mut ack: Option<(String, u64)> = None;
            let mut boundaries = 0u32;
            let mut bytes = 0usize;
            let mut next = Some(first);
            while let Some(m) = next.take() {
                match m {
                    Msg::Rotate { name, pos } => self.store.switch_to(&name, pos)?,
                    Msg::Event { buf, off, hdr, ack: wants_ack } => {
                        let file = if wants_ack { self.store.active_name().map(str::to_string) } else { None };
                        let ev = &buf[off..];
                        bytes += ev.len();
                        if self.store.append(&hdr, ev)? {
                            boundaries += 1;
                        }
                        if let Some(f) = file {
                            ack = Some((f, u64::from(hdr.log_pos)));
                        }
                    }
                }
                if bytes < BATCH_BYTES {
                    next = self.rx.try_recv().ok();
                }
            }
            trx_since_sync += boundaries;
            unsynced |= bytes > 0;
            let policy_sync = match self.sync_every {
                0 => false,
                n => trx_since_sync >= n,
            };
            if ack.is_some() || policy_sync {
                self.store.sync()?;
                self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
                trx_since_sync = 0;
                unsynced = false;
                if let Some((f, p)) = ack {
                    self.acks.publish(f, p);
                }
            } else {
                self.store.flush()?;
            }
            self.stats.bytes_written.fetch_add(bytes as u64, Ordering::Relaxed);
        }
        // The reader is gone: make what was queued durable.
        if unsynced {
            self.store.sync()?;
            self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}
