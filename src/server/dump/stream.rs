//! Streaming one dump: the made-up ROTATE and FDE a primary sends, then the stored
//! events from a mapped window or by sendfile, following rotations and tailing the
//! active file as the writer publishes; heartbeats when idle.

use super::fail;
use super::skip::{Skip, SkipMode};
use super::Conn;
use crate::binlog::event::{self, EventHeader, EventType, FormatDescription, HEADER_LEN, LOG_EVENT_ARTIFICIAL_F};
use crate::binlog::map_guard::Sending;
use crate::binlog::read::Stored;
use crate::binlog::shared_map::{Mapped, Maps, MAP_SPAN};
use crate::binlog::sources;
use crate::binlog::store::is_safe_name;
use crate::binlog::trx::Tracker;
use crate::binlog::walk::{self, WalkError};
use crate::proto::packet::MAX_CHUNK;
use crate::proto::Error;
use crate::server::reply::{err_packet, ER_MASTER_FATAL_READING_BINLOG};
use log::info;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Builds an event made up for the stream (fake ROTATE, heartbeat): timestamp 0, log_pos 0.
pub(super) fn made_up(t: EventType, server_id: u32, log_pos: u32, body: &[u8], crc: bool) -> Vec<u8> {
    let h =
        EventHeader { timestamp: 0, event_type: t, server_id, event_size: 0, log_pos, flags: LOG_EVENT_ARTIFICIAL_F };
    h.event(body, crc)
}

pub(super) fn fake_rotate(server_id: u32, name: &str, pos: u64, crc: bool) -> Vec<u8> {
    let mut b = pos.to_le_bytes().to_vec();
    b.extend_from_slice(name.as_bytes());
    made_up(EventType::ROTATE, server_id, 0, &b, crc)
}

/// The stream of one dump: a socket, a packet sequence, and the file being read.
pub(super) struct Dump<'s, 'a> {
    pub(super) s: &'s mut Conn<'a>,
    pub(super) file: String,
    pub(super) f: Box<dyn Stored>,
    pub(super) pos: u64,
    /// Made-up events carry a CRC32: as the client asked until an FDE is sent, then
    /// as that FDE says.
    pub(super) crc: bool,
    /// MySQL auto-position: transactions the replica has are not sent.
    pub(super) skip: Option<Skip>,
    /// MariaDB's Annotate_rows events are sent only to a client that asked for them
    /// (BINLOG_SEND_ANNOTATE_ROWS_EVENT), as a MariaDB primary does (`send_events`,
    /// sql/sql_repl.cc): a replica or a CDC client that did not gets none.
    pub(super) annotate: bool,
    /// The file, mapped: small events cost no syscall each.
    pub(super) win: Window,
    /// What goes before each event in its packet (`PLAIN` or `SEMISYNC`).
    pub(super) prefix: &'static [u8],
    /// Event packets not yet written to the socket, all readable through `win`.
    pub(super) out: Vec<Queued>,
    /// Event bytes in `out`.
    pub(super) out_bytes: usize,
    /// Event bytes sent and not yet added to `Server::bytes_sent`.
    pub(super) sent: u64,
}

/// Events up to this size are queued and sent with the packets around them; larger
/// ones are sent on their own, in 16 MiB packets.
pub(super) const WINDOW: usize = 2 << 20;

/// The socket is written once this many event bytes are queued (or when the dump
/// catches up, or moves to another file).
pub(super) const OUT_FLUSH: usize = 1 << 20;

/// Events of at least this size go from the page cache to the socket by `sendfile`
/// (on a plain socket): no copy by binlogd, at the price of a second system call for
/// the event. Below it, the copy into the socket costs less than that call.
/// Measured on loopback: at 32 KiB the two cost about the same, at 64 KiB sendfile
/// takes half the CPU time, at 8 KiB three times as much.
pub(super) const SEND_FILE_MIN: usize = 64 << 10;

/// Events queued per write: two slices each, within the kernel's IOV_MAX of 1024.
pub(super) const OUT_EVENTS: usize = 500;

/// What a dump reports when its file lost bytes it had stored.
pub(super) const CUT_OUTSIDE: &str = "the file was cut short from outside binlogd";

/// One event packet waiting to be written: its header (length, sequence id, the
/// `Dump::prefix`) and where its event lies in the file.
pub(super) struct Queued {
    pub(super) head: [u8; 7],
    pub(super) head_len: u8,
    pub(super) at: u64,
    pub(super) len: usize,
}

/// What goes before each event in its packet: the 0x00 status byte, and for a replica
/// that asked for semi-sync (`@rpl_semi_sync_slave` / `@rpl_semi_sync_replica` = 1) the
/// semi-sync header, magic 0xef and flags 0: binlogd never asks its readers for an ACK,
/// as a primary whose commit waits for none (ReplSemiSyncMaster::reserveSyncHeader,
/// sql/semisync_master.cc; MySQL's ReplSemiSyncMaster::reserveSyncHeader). A replica
/// that asked for it refuses packets without it ("Missing magic byte").
pub(super) const PLAIN: &[u8] = &[0x00];
pub(super) const SEMISYNC: &[u8] = &[0x00, crate::proto::command::SEMISYNC_MAGIC, 0x00];

/// The file being sent, through its one mapping shared by every dump of it
/// (`shared_map`). Event bytes go from the page cache to the socket with no copy in
/// between, a growing active file needs no new mapping, and the pages already sent
/// are let go as the dumps move on.
#[derive(Default)]
pub(super) struct Window {
    pub(super) map: Option<Arc<Mapped>>,
    /// Bytes below this offset may be read (the durable end when last loaded).
    pub(super) end: u64,
    /// This dump let go of its pages below this offset.
    pub(super) dropped: u64,
}

impl Window {
    pub(super) fn covers(&self, at: u64, len: usize) -> bool {
        self.map.is_some() && at + len as u64 <= self.end
    }

    /// The bytes `[at, at + len)`, which `load` made readable.
    pub(super) fn slice(&self, at: u64, len: usize) -> std::io::Result<&[u8]> {
        let m: &[u8] = self.map.as_deref().map_or(&[], Mapped::bytes);
        usize::try_from(at)
            .ok()
            .and_then(|a| m.get(a..a.checked_add(len)?))
            .ok_or_else(|| std::io::Error::other(format!("[{at}, +{len}) is outside the mapped file")))
    }

    /// Makes `[at, at + len)` readable, below `limit` (the durable end).
    pub(super) fn load(&mut self, maps: &Maps, f: &File, at: u64, len: usize, limit: u64) -> std::io::Result<()> {
        if at + len as u64 > limit {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "read past the durable end"));
        }
        if limit > MAP_SPAN as u64 {
            return Err(std::io::Error::other("binlog file over 4 GiB: its positions cannot be expressed"));
        }
        if self.map.is_none() {
            self.map = Some(maps.get(f)?);
        }
        self.end = limit;
        Ok(())
    }

    /// Fails if a read of the mapping went past the file's end: the bytes read since
    /// the last check may be zeros, not the file's. Called before acting on them.
    pub(super) fn intact(&self, name: &str, at: u64) -> std::io::Result<()> {
        if self.map.as_ref().is_some_and(|m| m.is_cut()) {
            return Err(cut_at(name, at));
        }
        Ok(())
    }

    /// Leave to hand the mapped bytes to the kernel while the token lives; an error
    /// naming the file once it was found cut short.
    pub(super) fn sending(&self, name: &str, at: u64) -> std::io::Result<Option<Sending>> {
        match &self.map {
            None => Ok(None),
            Some(m) => m.sending().map(Some).ok_or_else(|| cut_at(name, at)),
        }
    }

    /// Lets go of the pages wholly below `at` (already sent), a step at a time.
    pub(super) fn drop_before(&mut self, at: u64) {
        if let Some(m) = &self.map {
            self.dropped = m.sent(self.dropped, at);
        }
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        if let Some(m) = &self.map {
            // It read nothing past `end`.
            m.leave(self.dropped, self.end);
        }
    }
}

/// MariaDB's ER_SLAVE_SAME_ID.
pub(super) const ER_SLAVE_SAME_ID: u16 = 4052;

/// The error a primary ends a dump with when its replica registered again on another
/// connection (the same server_uuid on MySQL, else the same server_id): MariaDB's
/// 4052, MySQL's 1236 (`Binlog_sender::run`). A replica stops on it rather than
/// reconnect and end the other's dump in turn. `first` is where the dump started,
/// `last` how far it read.
pub(super) fn displaced_error(maria: bool, first: &(String, u64), last: (&str, u64)) -> (u16, String) {
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

/// A stored file whose bytes are not in a local file cannot be mapped nor sent with
/// sendfile, the two ways a dump sends. (Every stored file is local today.)
pub(super) fn no_local(name: &str) -> std::io::Error {
    std::io::Error::other(format!("{name}: its bytes are not in a local file to send from"))
}

/// The error of a dump whose mapped file was found cut short, naming where.
pub(super) fn cut_at(name: &str, at: u64) -> std::io::Error {
    in_file(name, at, std::io::Error::other(CUT_OUTSIDE))
}

/// An error sending a file's bytes (from the file or to the socket), naming where.
pub(super) fn in_file(name: &str, at: u64, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("sending {name} from {at}: {e}"))
}

impl Dump<'_, '_> {
    /// Does the client take this kind of event? (Its skipping by GTID aside.)
    pub(super) fn wanted(&self, hdr: &EventHeader) -> bool {
        self.annotate || hdr.event_type != EventType::MARIADB_ANNOTATE_ROWS
    }

    /// Sends one packet whose payload is the prefix followed by the file's bytes
    /// [at, at+len), split into 16 MiB physical packets, without holding a large event
    /// in memory.
    pub(super) fn send_from_file(&mut self, at: u64, len: u64) -> Result<(), Error> {
        self.flush_out()?;
        let pre = self.prefix;
        let plen = pre.len() as u64;
        let total = len + plen;
        let mut sent = 0u64;
        let mut buf = Vec::new();
        loop {
            let n = (total - sent).min(MAX_CHUNK as u64);
            buf.clear();
            buf.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
            buf.push(self.s.stream.seq);
            self.s.stream.seq = self.s.stream.seq.wrapping_add(1);
            // The prefix's bytes in this chunk (all of it in the first: a chunk is 16 MiB).
            let body_from = sent.max(plen.min(sent + n));
            if let Some(p) = pre.get(sent as usize..body_from as usize) {
                buf.extend_from_slice(p);
            }
            let body_len = sent + n - body_from;
            let file_at = at + body_from - plen;
            let mut done = 0u64;
            self.s.stream.inner.write_all_slices(&mut [std::io::IoSlice::new(&buf)], body_len > 0)?;
            let local = self.f.local().ok_or_else(|| no_local(&self.file))?;
            if self.s.stream.inner.send_file(local, file_at, body_len).map_err(|e| in_file(&self.file, file_at, e))? {
                done = body_len;
            }
            while done < body_len {
                let k = (body_len - done).min(1 << 20) as usize;
                let mut piece = vec![0u8; k];
                self.f.read_at(&mut piece, file_at + done)?;
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
    pub(super) fn flush_out(&mut self) -> Result<(), Error> {
        if !self.out.is_empty() {
            let plain = self.s.stream.inner.sends_as_stored();
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
                    iov.push(std::io::IoSlice::new(q.head.get(..usize::from(q.head_len)).unwrap_or(&q.head)));
                    if plain && q.len >= SEND_FILE_MIN {
                        whole = Some((q.at, q.len as u64));
                        break;
                    }
                    iov.push(std::io::IoSlice::new(self.win.slice(q.at, q.len)?));
                }
                let (win, file) = (&self.win, &self.file);
                // Handed to the kernel as they are: no other dump's fault on a cut file
                // may put zeros under them meanwhile (`Window::sending`).
                let sending = if plain { Some(win.sending(file, at)?) } else { None };
                self.s
                    .stream
                    .inner
                    .write_all_slices_checked(&mut iov, whole.is_some(), || win.intact(file, at))
                    .map_err(|e| {
                        // The kernel's read of a mapped page past the file's end.
                        if e.raw_os_error() == Some(libc::EFAULT) {
                            cut_at(file, at)
                        } else {
                            e
                        }
                    })?;
                drop(sending);
                if let Some((at, len)) = whole {
                    let local = self.f.local().ok_or_else(|| no_local(&self.file))?;
                    self.s.stream.inner.send_file(local, at, len).map_err(|e| in_file(&self.file, at, e))?;
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
        self.s.srv.shared.serving.set_reading(self.s.id, &self.file, self.pos, self.s.registered);
        Ok(())
    }

    /// The replica's UNTIL position is reached: the made-up Gtid_list flagged
    /// UNTIL_REACHED, then the end of the dump, as a MariaDB primary ends it.
    pub(super) fn end_at_until(&mut self, sid: u32, list: &[u8]) -> Result<(), Error> {
        let ev = made_up(EventType::MARIADB_GTID_LIST, sid, self.pos as u32, list, self.crc);
        self.send_event(&ev)?;
        info!("connection {}: the replica's UNTIL position is reached at {}:{}", self.s.id, self.file, self.pos);
        self.s.stream.write(&super::end_packet(self.s.deprecate_eof))
    }

    pub(super) fn send_event(&mut self, ev: &[u8]) -> Result<(), Error> {
        self.flush_out()?;
        let mut p = Vec::with_capacity(ev.len() + self.prefix.len());
        p.extend_from_slice(self.prefix);
        p.extend_from_slice(ev);
        self.s.stream.write(&p)
    }

    /// Makes the window cover the file's bytes `[at, at + len)` (the mapping stays,
    /// so what is queued remains readable).
    pub(super) fn cover(&mut self, at: u64, len: usize, limit: u64) -> Result<(), Error> {
        if !self.win.covers(at, len) {
            let f = self.f.local().ok_or_else(|| no_local(&self.file))?;
            self.win.load(&self.s.srv.shared.serving.maps, f, at, len, limit)?;
        }
        Ok(())
    }

    pub(super) fn open(&mut self, dir: &Path, name: &str) -> Result<(), Error> {
        self.flush_out()?;
        // Registered before it is opened, so a purge that follows leaves it alone.
        self.s.srv.shared.serving.set_reading(self.s.id, name, 4, self.s.registered);
        if let Some(sk) = self.skip.as_mut() {
            sk.tracker = Tracker::new(event::ChecksumAlg::OFF);
            sk.skipping = false;
        }
        self.f = match crate::binlog::read::open(dir, name) {
            Ok(f) => f,
            // Purged after it was archived: brought back, when binlogd can.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match super::bring_back(self.s, name)? {
                Some(f) => f,
                None => return Err(e.into()),
            },
            Err(e) => return Err(e.into()),
        };
        self.win = Window::default();
        self.file = name.to_string();
        self.pos = 4;
        Ok(())
    }

    /// The name the client sees for stored file `path` (`sources::shown`).
    pub(super) fn shown(&self, path: &str) -> String {
        let st = self.s.srv.shared.serving.durable.snapshot();
        sources::shown(path, sources::newest(&st.files)).into_owned()
    }

    /// Crossed from one source's files into the next one's (`first` its first file):
    /// that file repeats transactions stored from the source before, which the
    /// reader had or was sent. They are left out, as a replica repointed to that
    /// server by GTID would not get them.
    fn cross(&mut self, dir: &Path, first: &str) -> Result<(), Error> {
        let k = sources::number(first);
        let path = dir.join(sources::path_in(k, sources::ORIGIN_FILE));
        let text = std::fs::read_to_string(&path)?;
        let o = sources::Origin::decode(&text, &path.display().to_string()).map_err(std::io::Error::other)?;
        info!("connection {}: crossing into {first}, the files of source {k} ({})", self.s.id, o.id);
        let sk = self.skip.get_or_insert_with(|| Skip::new(SkipMode::Nothing));
        sk.earlier = Some((o.gtids, o.maria));
        Ok(())
    }

    /// Ends a dump whose connection was killed; a replica that registered again
    /// elsewhere (`Conns::displace`) is first told why, as a primary tells it.
    fn killed(&mut self, first: &(String, u64)) -> Error {
        if self.s.srv.conns.is_displaced(self.s.id) {
            let maria = self.s.vars.contains_key("mariadb_slave_capability");
            let (code, msg) = displaced_error(maria, first, (&self.file, self.pos));
            let _ = self.s.stream.write(&err_packet(code, "HY000", &msg));
        }
        Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "ended by KILL"))
    }

    pub(super) fn run(&mut self, dir: &Path, non_block: bool, hb: Duration) -> Result<(), Error> {
        let sid = self.s.srv.cfg.server_id;
        let first = (self.file.clone(), self.pos);
        self.s.stream.seq = 1;
        // Displaced between its registration and its dump: told why, and nothing sent.
        if self.s.killed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(self.killed(&first));
        }
        let rot = fake_rotate(sid, &self.shown(&self.file), self.pos, self.crc);
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
            self.f.read_at(&mut h, 4)?;
            let size = match EventHeader::decode(&h) {
                Ok(h) => h.event_size as usize,
                Err(e) => return fail(self.s, &format!("corrupt binlog {}:4: {e}", self.file)),
            };
            // At the start of a file, only an FDE already durable (the loop below waits for it otherwise).
            let durable = self.s.srv.shared.serving.durable.snapshot().readable_len(&self.file, &*self.f);
            (self.pos > 4 || 4 + size as u64 <= durable).then_some(size)
        } else {
            None
        };
        if let Some(size) = fde_size {
            let mut fde = vec![0u8; size];
            self.f.read_at(&mut fde, 4)?;
            let alg = match FormatDescription::decode(&fde) {
                Ok(f) => f.checksum,
                Err(e) => return fail(self.s, &format!("corrupt binlog {}:4: {e}", self.file)),
            };
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
                let hdr = match EventHeader::decode(&fde) {
                    Ok(h) => h,
                    Err(e) => return fail(self.s, &format!("corrupt binlog {}:4: {e}", self.file)),
                };
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
            let st = self.s.srv.shared.serving.durable.snapshot();
            generation = generation.max(st.generation);
            let limit = st.readable_len(&self.file, &*self.f);
            while self.pos + HEADER_LEN as u64 <= limit {
                self.cover(self.pos, HEADER_LEN, limit)?;
                let h = self.win.slice(self.pos, HEADER_LEN)?;
                // The walker's checks, on the header already in the window.
                let found = walk::found_at(h, self.pos, limit);
                self.win.intact(&self.file, self.pos)?;
                let hdr = match found {
                    Ok(f) => f.header,
                    // Not all durable yet: wait for the rest, or go on past a closed file's end.
                    Err(WalkError::Torn { .. }) => break,
                    // A stored file that is no binlog there: the reader is told, as a
                    // primary tells it of a corrupt binlog, and nothing more is sent.
                    Err(e) => return fail(self.s, &format!("corrupt binlog {}:{}: {e}", self.file, self.pos)),
                };
                let size = u64::from(hdr.event_size);
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
                        // One packet: length, sequence id, the prefix, the event as stored.
                        let pre = self.prefix;
                        let l = (size as u32 + pre.len() as u32).to_le_bytes();
                        let mut head = [l[0], l[1], l[2], self.s.stream.seq, 0, 0, 0];
                        head[4..4 + pre.len()].copy_from_slice(pre);
                        self.s.stream.seq = self.s.stream.seq.wrapping_add(1);
                        let head_len = 4 + pre.len() as u8;
                        self.out.push(Queued { head, head_len, at: self.pos, len: size as usize });
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
                            let n = if Tracker::reads(hdr.event_type) { WINDOW } else { HEADER_LEN };
                            let mut ev = vec![0u8; n];
                            self.f.read_at(&mut ev, self.pos)?;
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
                    let at = self.pos - size;
                    let next = match next {
                        // The next file of the same source.
                        Ok(r) if is_safe_name(&r.next_file) => {
                            sources::path_in(sources::number(&self.file), &r.next_file)
                        }
                        Ok(r) => {
                            let what = format!("its ROTATE names {:?}, not a binlog file name", r.next_file);
                            return fail(self.s, &format!("corrupt binlog {}:{at}: {what}", self.file));
                        }
                        Err(e) => return fail(self.s, &format!("corrupt binlog {}:{at}: {e}", self.file)),
                    };
                    self.open(dir, &next)?;
                    // As a primary does, each new file starts with a made-up ROTATE naming
                    // it (mysqlbinlog stops there when it was not asked for that file).
                    let rot = fake_rotate(sid, &self.shown(&next), 4, self.crc);
                    self.send_event(&rot)?;
                    // The next file has its own limit.
                    continue 'files;
                }
            }
            self.flush_out()?;
            let st = self.s.srv.shared.serving.durable.snapshot();
            let active = st.active.as_ref().is_some_and(|(a, _)| *a == self.file);
            if !active {
                // A closed file that ended without ROTATE (a STOP): go on with the next one.
                if let Some(i) = st.files.iter().position(|f| *f == self.file) {
                    if let Some(next) = st.files.get(i + 1).cloned() {
                        if self.pos >= st.readable_len(&self.file, &*self.f) {
                            let crossing = sources::number(&next) != sources::number(&self.file);
                            self.open(dir, &next)?;
                            if crossing {
                                self.cross(dir, &next)?;
                            }
                            let rot = fake_rotate(sid, &self.shown(&next), 4, self.crc);
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
                return self.s.stream.write(&super::end_packet(self.s.deprecate_eof));
            }
            let st2 = self.s.srv.shared.serving.durable.wait_newer(generation, hb);
            if self.s.killed.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(self.killed(&first));
            }
            if st2.generation == generation {
                let mut b = Vec::new();
                b.extend_from_slice(self.shown(&self.file).as_bytes());
                let hbev = made_up(EventType::HEARTBEAT, sid, self.pos as u32, &b, self.crc);
                self.send_event(&hbev)?;
            }
            generation = st2.generation;
        }
    }
}
