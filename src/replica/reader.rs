//! The reader thread: owns the socket, turns packets into events, checks each
//! event's size and CRC32, and hands them to the writer over a bounded channel
//! (so a slow disk slows the network read instead of growing memory).
//!
//! Event packets: <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html>

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossbeam_channel::Sender;
use log::debug;

use super::{ReplicaError, Stats};
use crate::binlog::event::{self, ChecksumAlg, EventHeader, EventType, FormatDescription, Rotate};
use crate::proto::packet::PacketStream;
use crate::proto::{command, parse_err};

/// What the reader hands the writer.
pub enum Msg {
    /// The primary is now sending `name` from `pos` (a ROTATE the primary made up).
    Rotate { name: String, pos: u64 },
    /// One stored event: `buf[off..]` is the event, exactly as in the primary's file.
    Event { buf: Vec<u8>, off: usize, hdr: EventHeader, ack: bool },
}

pub struct Reader {
    pub stream: PacketStream<TcpStream>,
    pub semisync: bool,
    pub alg: ChecksumAlg,
    pub tx: Sender<Msg>,
    pub stop: Arc<AtomicBool>,
    pub stats: Arc<Stats>,
    /// The primary's file being streamed, for error messages.
    pub file: String,
    /// Durable position to acknowledge once the primary has started the dump (its
    /// first packet arrived), before any event reaches the writer, so it never
    /// replaces a newer ACK.
    pub catch_up_ack: Option<(String, u64, Arc<super::acker::AckSlot>)>,
}

impl Reader {
    /// Reads until the connection ends, `stop` is set, or an event is bad.
    pub fn run(mut self) -> Result<(), ReplicaError> {
        let mut buf = Vec::new();
        self.stream.follow_seq = self.semisync;
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            match self.stream.read_into(&mut buf) {
                Ok(()) => {}
                Err(_) if self.stop.load(Ordering::SeqCst) => return Ok(()),
                Err(e) => return Err(ReplicaError::read(e)),
            }
            if let Some((f, p, slot)) = self.catch_up_ack.take() {
                slot.publish(f, p);
            }
            let msg = self.decode(std::mem::take(&mut buf))?;
            if let Some(m) = msg {
                if self.tx.send(m).is_err() {
                    // The writer stopped; its error is reported by the supervisor.
                    return Ok(());
                }
            }
        }
    }

    fn decode(&mut self, buf: Vec<u8>) -> Result<Option<Msg>, ReplicaError> {
        match buf.first() {
            Some(0x00) => {}
            Some(0xff) => return Err(ReplicaError::read(parse_err(&buf))),
            Some(0xfe) if buf.len() < 9 => {
                return Err(ReplicaError::Protocol("the primary ended the binlog stream (is it shutting down?)".into()))
            }
            Some(b) => return Err(ReplicaError::Protocol(format!("unexpected packet 0x{b:02x} in the binlog stream"))),
            None => return Err(ReplicaError::Protocol("empty packet in the binlog stream".into())),
        }
        let mut off = 1;
        let mut ack = false;
        if self.semisync {
            if buf.get(1) != Some(&command::SEMISYNC_MAGIC) || buf.len() < 3 {
                return Err(ReplicaError::Protocol("semi-sync header missing from an event packet".into()));
            }
            ack = buf[2] & command::SEMISYNC_NEED_ACK != 0;
            off = 3;
        }
        let ev = &buf[off..];
        let hdr = EventHeader::decode_exact(ev).map_err(|e| ReplicaError::Event(format!("in {}: {e}", self.file)))?;
        self.stats.events_received.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes_received.fetch_add(ev.len() as u64, Ordering::Relaxed);
        if hdr.event_type.is_heartbeat() {
            debug!("heartbeat at primary position {}", hdr.log_pos);
            return Ok(None);
        }
        if hdr.event_type == EventType::FORMAT_DESCRIPTION {
            self.alg =
                FormatDescription::decode(ev).map_err(|e| ReplicaError::Event(format!("Format_desc: {e}")))?.checksum;
        }
        if self.alg == ChecksumAlg::CRC32 {
            event::verify_crc(ev).map_err(|e| {
                let start = u64::from(hdr.log_pos).saturating_sub(ev.len() as u64);
                ReplicaError::Event(format!(
                    "{} event at {}:{start}: {e}; nothing of it was written",
                    hdr.event_type, self.file
                ))
            })?;
        }
        if hdr.event_type == EventType::ROTATE {
            let r = Rotate::decode(ev, self.alg)
                .map_err(|e| ReplicaError::Event(format!("Rotate in {}: {e}", self.file)))?;
            if hdr.is_artificial() {
                self.file.clone_from(&r.next_file);
                return Ok(Some(Msg::Rotate { name: r.next_file, pos: r.pos }));
            }
            self.file = r.next_file.clone();
        }
        if hdr.is_artificial() && !ack {
            // Made up by the sender (a resent FDE, MariaDB's fake Gtid_list): not in the file.
            return Ok(None);
        }
        Ok(Some(Msg::Event { buf, off, hdr, ack }))
    }
}
