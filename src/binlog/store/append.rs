//! Appending: the active file, the pending buffer written in whole transactions,
//! direct I/O, preallocated zeros, and the checks an event passes before it is kept.

use super::*;

/// The file being appended to.
pub(super) struct Active {
    pub(super) name: String,
    /// binlog_dir joined with `name`, for errors.
    pub(super) path: PathBuf,
    pub(super) file: Box<dyn FsFile>,
    /// Bytes in the file (written or buffered).
    pub(super) len: u64,
    /// The file holds zeros from `len` (or what is written) up to here: space
    /// preallocated so that an fsync after an append does not change the file's size.
    pub(super) zeroed_to: u64,
    /// A preallocation failed (a full disk): the next is tried once `len` is past this.
    pub(super) prealloc_retry_at: u64,
    /// Offset after the last complete transaction.
    pub(super) trx_end: u64,
    /// Bytes made durable (fsynced, or through the sync log).
    pub(super) synced: u64,
    /// Where the last writeback hint ended (sync-log mode).
    pub(super) written_back: u64,
    /// The file ended with ROTATE or STOP.
    pub(super) closed: bool,
    /// The last event placed was one already stored (a resent one).
    pub(super) after_stored: bool,
    pub(super) tracker: Tracker,
    /// Appended but not yet written.
    pub(super) pending: Pending,
    /// A large event being written piece by piece; `len` moves past it only at its end.
    pub(super) partial: Option<Partial>,
    /// The first file of a source followed after another (`sources`): its GTID
    /// header states that server's past, which must lie within what is stored.
    pub(super) source_start: bool,
}

/// A large event arriving in pieces.
pub(super) struct Partial {
    pub(super) hdr: EventHeader,
    pub(super) start: u64,
    /// Bytes of it received so far.
    pub(super) got: u64,
    /// Already stored: compare instead of writing.
    pub(super) stored: bool,
    /// Its first bytes, enough for the transaction tracker.
    pub(super) head: Vec<u8>,
}

/// Bytes of a streamed event kept for the tracker (a QUERY's statement start).
pub(super) const PARTIAL_HEAD: usize = 64 << 10;

/// Block size and address alignment of direct (O_DIRECT) writes.
pub(super) const DIRECT_ALIGN: u64 = 4096;

/// Writes at least this large are made with direct I/O.
pub(super) const DIRECT_MIN: usize = 1 << 20;

/// The store writes its pending bytes once this many are held. Large enough that a
/// catch-up goes to disk at its full rate (4 and 8 MiB direct writes measured the same
/// here), small enough to stay well inside the memory budget with the reader's queue.
pub(super) const PENDING_WRITE: usize = 4 << 20;

/// The largest event the reader hands over whole (larger ones come in pieces).
pub(super) const WHOLE_EVENT_MAX: usize = 1 << 20;

/// Bytes appended to the active file and not yet written: `buf[lead..]`, from file
/// offset `at`. `lead` gives each byte an address with the same alignment as its
/// file offset (modulo `DIRECT_ALIGN`), so the whole blocks of a large write can go
/// to disk straight from this buffer, with no copy.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) buf: Vec<u8>,
    pub(super) lead: usize,
    pub(super) at: u64,
}

impl Pending {
    pub(super) fn is_empty(&self) -> bool {
        self.buf.len() <= self.lead
    }

    pub(super) fn len(&self) -> usize {
        self.buf.len().saturating_sub(self.lead)
    }

    pub(super) fn bytes(&self) -> &[u8] {
        self.buf.get(self.lead..).unwrap_or(&[])
    }

    /// Appends `ev`, which goes at file offset `at` if nothing is pending.
    pub(super) fn push(&mut self, at: u64, ev: &[u8]) {
        if self.is_empty() {
            self.restart(at);
        }
        self.buf.extend_from_slice(ev);
    }

    /// Empties the buffer; the next bytes go at file offset `at`.
    pub(super) fn restart(&mut self, at: u64) {
        // Room for a full write and the event that crosses the threshold, so the
        // buffer is not moved (and its alignment lost) while it fills.
        let cap = PENDING_WRITE + WHOLE_EVENT_MAX + 2 * DIRECT_ALIGN as usize;
        self.buf.clear();
        self.buf.reserve(cap);
        let a = DIRECT_ALIGN as usize;
        self.lead = ((at as usize % a) + a - (self.buf.as_ptr() as usize % a)) % a;
        self.buf.resize(self.lead, 0);
        self.at = at;
    }
}

impl Active {
    /// Cuts the preallocated zeros off (no fsync: the caller's follows).
    pub(super) fn drop_zeros(&mut self) -> Result<(), StoreError> {
        if self.zeroed_to > self.len {
            self.cut_to(self.len)?;
        }
        Ok(())
    }

    /// Cuts the file to `at` bytes, preallocated zeros with the rest (no fsync).
    pub(super) fn cut_to(&mut self, at: u64) -> Result<(), StoreError> {
        self.file.set_len(at).map_err(io_err(&self.path, "truncate"))?;
        self.zeroed_to = at;
        Ok(())
    }

    /// Where an event of `size` bytes ending at `h.log_pos` goes: (start, already stored).
    /// Anything that does not continue the file, or follows its ROTATE/STOP, is an error.
    /// An event with log_pos 0 (inside a transaction, from MariaDB 11.4 on) continues
    /// the file where it stands, which only holds after an event that was new.
    pub(super) fn place(&self, h: &EventHeader, size: u64) -> Result<(u64, bool), StoreError> {
        let err = |what: String| StoreError::Stream { file: self.name.clone(), offset: self.len, what };
        let end = match h.log_pos {
            0 if self.after_stored => {
                return Err(err(format!(
                    "{} event with no log_pos follows an event already stored: where it goes is unknown",
                    h.event_type
                )))
            }
            0 => self.len + size,
            p => u64::from(p),
        };
        let start = end
            .checked_sub(size)
            .filter(|&s| s >= 4)
            .ok_or_else(|| err(format!("{} event ends at {end} but is {size} bytes long", h.event_type)))?;
        if end <= self.len {
            return Ok((start, true));
        }
        if start < self.len {
            return Err(err(format!(
                "{} event at {start} goes back into the {} bytes stored and past their end (log_pos {end})",
                h.event_type, self.len
            )));
        }
        if start != self.len {
            return Err(err(format!(
                "{} event at {start} leaves a gap after the {} bytes stored",
                h.event_type, self.len
            )));
        }
        if self.closed {
            return Err(err(format!("{} event after the file was closed by ROTATE/STOP", h.event_type)));
        }
        Ok((start, false))
    }

    pub(super) fn write_pending(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let (at, bytes) = (self.pending.at, self.pending.bytes());
        let end = at + bytes.len() as u64;
        let io = |err| StoreError::Write { path: self.path.clone(), offset: at, err };
        // Whole blocks of a large write (a catch-up) go past the page cache: copying
        // them into it costs more CPU than everything else binlogd does with them,
        // and they are read back, if at all, once the dump threads get there.
        let blocks = (at.next_multiple_of(DIRECT_ALIGN), end / DIRECT_ALIGN * DIRECT_ALIGN);
        let head = (blocks.0 - at) as usize;
        if bytes.len() >= DIRECT_MIN
            && blocks.1 > blocks.0
            && (bytes[head..].as_ptr() as usize).is_multiple_of(DIRECT_ALIGN as usize)
        {
            let body = (blocks.1 - blocks.0) as usize;
            self.file.write_at(&bytes[..head], at).map_err(io)?;
            self.file.write_direct(&bytes[head..head + body], blocks.0).map_err(io)?;
            self.file.write_at(&bytes[head + body..], blocks.1).map_err(io)?;
        } else {
            self.file.write_at(bytes, at).map_err(io)?;
            if bytes.len() >= 1 << 20 {
                // Large writes come in a catch-up: let the disk work while more arrives.
                self.file.start_writeback(at, bytes.len() as u64);
            }
        }
        self.pending.restart(end);
        Ok(())
    }

    /// A new file's Previous_gtids (MySQL) or Gtid_list (MariaDB) holds what the
    /// primary wrote before the file: everything stored so far, or more (MySQL's
    /// `gtid_purged` extended, a MariaDB domain deleted), never less.
    /// The file a ROTATE at `start` names, if it may follow this one: a plain name,
    /// the same base with a higher number, read from position 4.
    pub(super) fn check_rotate(&self, start: u64, ev: &[u8]) -> Result<String, StoreError> {
        let bad = |what: String| StoreError::Stream { file: self.name.clone(), offset: start, what };
        let r = event::Rotate::decode(ev, self.tracker.alg).map_err(|e| bad(format!("Rotate: {e}")))?;
        if !is_safe_name(&r.next_file) {
            return Err(StoreError::BadName { name: r.next_file });
        }
        if !follows(&self.name, &r.next_file) {
            return Err(bad(format!("Rotate names {} which does not follow {} in sequence", r.next_file, self.name)));
        }
        if r.pos != 4 {
            return Err(bad(format!("Rotate to {} at position {}: a new file starts at 4", r.next_file, r.pos)));
        }
        Ok(r.next_file)
    }

    pub(super) fn check_continues(&self, h: &EventHeader, ev: &[u8]) -> Result<(), StoreError> {
        // What does not decode is the tracker's to report, with its offset.
        let Ok(body) = event::body(ev, self.tracker.alg) else { return Ok(()) };
        if self.source_start {
            return self.check_within(h, body);
        }
        let lacks = if h.event_type == EventType::PREVIOUS_GTIDS {
            let Ok(set) = GtidSet::decode(body) else { return Ok(()) };
            let missing = self.tracker.gtids.difference(&set);
            (!missing.is_empty()).then(|| format!("Previous_gtids lacks {missing}"))
        } else {
            let Ok(list) = MariaPos::decode_gtid_list(body) else { return Ok(()) };
            if list.is_empty() && !self.tracker.maria.is_empty() {
                // A domain may be deleted, but not every domain while transactions go on:
                // the binary log began again.
                Some(format!("Gtid_list is empty, after {}", self.tracker.maria))
            } else {
                self.tracker.maria.domains.values().find_map(|g| {
                    let top = list.iter().filter(|x| x.domain == g.domain).map(|x| x.seq).max()?;
                    (top < g.seq).then(|| format!("Gtid_list has domain {} at sequence {top}, before {g}", g.domain))
                })
            }
        };
        match lacks {
            None => Ok(()),
            Some(w) => Err(StoreError::OtherBinlog {
                file: self.name.clone(),
                what: format!("does not continue the files stored before it: its {w}, which binlogd stored"),
            }),
        }
    }

    /// A new source's first file starts inside what is stored: nothing between the
    /// stored history and that file is missing (the start chosen for it ensures it;
    /// this holds it whatever the server sends).
    fn check_within(&self, h: &EventHeader, body: &[u8]) -> Result<(), StoreError> {
        let gap = if h.event_type == EventType::PREVIOUS_GTIDS {
            let Ok(set) = GtidSet::decode(body) else { return Ok(()) };
            let beyond = set.difference(&self.tracker.gtids);
            (!beyond.is_empty()).then(|| format!("Previous_gtids has {beyond}"))
        } else {
            let Ok(list) = MariaPos::decode_gtid_list(body) else { return Ok(()) };
            list.iter().find_map(|g| {
                let top = self.tracker.maria.domains.get(&g.domain).map(|x| x.seq);
                top.is_none_or(|t| t < g.seq).then(|| format!("Gtid_list has {g}"))
            })
        };
        match gap {
            None => Ok(()),
            Some(w) => Err(StoreError::OtherBinlog {
                file: self.name.clone(),
                what: format!("starts after transactions binlogd lacks: its {w}, which binlogd never stored"),
            }),
        }
    }

    /// The FDE a primary sends at the start of a dump from inside this file: it must
    /// be the stored one's, as the primary sends it again.
    pub(super) fn check_resent_fde(&mut self, ev: &[u8]) -> Result<(), StoreError> {
        if self.len < (4 + HEADER_LEN) as u64 {
            return Ok(()); // nothing stored past the magic bytes yet
        }
        self.write_pending()?;
        let read = |at: u64, buf: &mut [u8]| self.file.read_at(buf, at).map_err(io_err(&self.path, "read"));
        let mut head = [0u8; HEADER_LEN];
        read(4, &mut head)?;
        let size = EventHeader::decode(&head).map(|h| u64::from(h.event_size)).unwrap_or(0);
        if head[4] != EventType::FORMAT_DESCRIPTION.0 || 4 + size > self.len {
            return Ok(()); // recovery keeps only files that begin with a whole FDE
        }
        let mut have = vec![0u8; size as usize];
        read(4, &mut have)?;
        self.same_file(&have, ev)
    }

    pub(super) fn same_file(&self, have: &[u8], ev: &[u8]) -> Result<(), StoreError> {
        if event::same_binlog_file(have, ev) {
            return Ok(());
        }
        Err(StoreError::OtherBinlog {
            file: self.name.clone(),
            what: format!(
                "is not the file stored under that name: the primary's was begun {}, the stored one {}",
                describe_fde(ev),
                describe_fde(have)
            ),
        })
    }

    pub(super) fn compare_stored(&mut self, start: u64, ev: &[u8]) -> Result<(), StoreError> {
        self.write_pending()?;
        let mut have = vec![0u8; ev.len()];
        self.file.read_at(&mut have, start).map_err(|err| StoreError::Io {
            path: self.path.clone(),
            op: "read",
            err,
        })?;
        if ev.len() > HEADER_LEN && ev[4] == EventType::FORMAT_DESCRIPTION.0 && have[4] == ev[4] {
            // A resent FDE may differ in the in-use flag (the primary closed the file
            // since), and a GTID dump zeroes its `created` time and recomputes the CRC.
            return self.same_file(&have, ev);
        }
        let differs = have.iter().zip(ev).enumerate().find(|(_, (a, b))| a != b);
        if let Some((i, (a, b))) = differs {
            return Err(StoreError::Stream {
                file: self.name.clone(),
                offset: start,
                what: format!(
                    "the primary's {}-byte event differs from the stored one at byte {i}: stored 0x{a:02x}, primary 0x{b:02x}",
                    ev.len()
                ),
            });
        }
        Ok(())
    }
}

impl Store {
    /// The FDE a primary sends first when a dump starts inside a file (log_pos 0) is
    /// the active file's, or the primary's file of that name is another one.
    pub fn check_resent_fde(&mut self, ev: &[u8]) -> Result<(), StoreError> {
        match self.active.as_mut() {
            Some(a) => a.check_resent_fde(ev),
            None => Ok(()),
        }
    }

    /// The stream says it is now reading `name` from `pos` (a ROTATE the sender made up).
    pub fn switch_to(&mut self, name: &str, pos: u64) -> Result<(), StoreError> {
        if !is_safe_name(name) {
            return Err(StoreError::BadName { name: name.to_string() });
        }
        let path = sources::path_in(self.source, name);
        // The first file of a source begun: the files before it are another server's.
        let new_source = self.begun.is_some();
        if let Some(a) = self.active.as_ref().filter(|_| !new_source) {
            if a.name == path {
                if pos > a.len {
                    return Err(StoreError::Stream {
                        file: name.into(),
                        offset: a.len,
                        what: format!("primary resumes at {pos}, past the {} bytes stored", a.len),
                    });
                }
                return Ok(());
            }
            if self.files.contains(&path) {
                return Err(StoreError::Stream {
                    file: name.into(),
                    offset: pos,
                    what: "primary went back to a file that is already complete here".into(),
                });
            }
            if !a.closed && a.len > 4 {
                return Err(StoreError::Unfinished { file: a.name.clone(), len: a.len, next: name.to_string() });
            }
            if !follows(&a.name, &path) {
                return Err(StoreError::Stream {
                    file: name.into(),
                    offset: pos,
                    what: format!("does not follow {} in sequence", a.name),
                });
            }
        }
        if pos != 4 {
            return Err(StoreError::Stream {
                file: name.into(),
                offset: pos,
                what: "a new file must be read from position 4 to be stored byte for byte".into(),
            });
        }
        self.create_file(&path)
    }

    /// Creates `name` (a path in binlog_dir, `sources`), fsynced, then lists it in the
    /// index. A new source's directory and its `binlogd.primary` come first.
    pub(super) fn create_file(&mut self, name: &str) -> Result<(), StoreError> {
        owned(&self.dir)?;
        // The file before is durable before the next exists (and the sync log retired).
        self.sync_file()?;
        let path = self.dir.join(name);
        let sub = sources::dir_of(sources::number(name));
        let new_source = self.begun.is_some();
        if let Some(o) = self.begun.take() {
            if !sub.is_empty() {
                let d = self.dir.join(&sub);
                self.fs.create_dir_all(&d).map_err(io_err(&d, "create directory"))?;
                self.fsync_dir()?;
            }
            self.set_origin(&o)?;
            info!("following a new source {} ({}): its files go to {}", o.id, o.address, self.dir.join(&sub).display());
        }
        let mut file = self.fs.open(&path, true).map_err(io_err(&path, "create"))?;
        file.write_at(&MAGIC, 0).map_err(io_err(&path, "write"))?;
        file.sync().map_err(io_err(&path, "fsync"))?;
        let d = self.dir.join(&sub);
        self.fs.sync_dir(&d).map_err(io_err(&d, "fsync directory"))?;
        self.files.push(name.to_string());
        self.write_index()?;
        let (gtids, maria) = match &self.active {
            Some(a) => (a.tracker.gtids.clone(), a.tracker.maria.clone()),
            None => (self.gtids.clone(), self.maria.clone()),
        };
        let mut tracker = Tracker::new(self.default_alg);
        tracker.gtids = gtids;
        tracker.maria = maria;
        self.next = None;
        self.active = Some(Active {
            name: name.to_string(),
            path: path.clone(),
            file,
            len: 4,
            zeroed_to: 4,
            prealloc_retry_at: 0,
            trx_end: 4,
            synced: 4,
            written_back: 4,
            closed: false,
            after_stored: false,
            tracker,
            pending: Pending::default(),
            partial: None,
            source_start: new_source,
        });
        info!("created binlog {}", path.display());
        Ok(())
    }

    /// Appends one event the primary stored at `[log_pos - size, log_pos)`.
    /// Returns true at a transaction boundary. Events already stored are
    /// compared and skipped; anything else out of sequence is an error.
    pub fn append(&mut self, h: &EventHeader, ev: &[u8]) -> Result<bool, StoreError> {
        let a = self.active_for(h)?;
        let (start, stored) = a.place(h, ev.len() as u64)?;
        a.after_stored = stored;
        let end = start + ev.len() as u64;
        if stored {
            return a.compare_stored(start, ev).map(|_| false);
        }
        if h.event_type == EventType::PREVIOUS_GTIDS || h.event_type == EventType::MARIADB_GTID_LIST {
            a.check_continues(h, ev)?;
        }
        // A ROTATE is checked before it is kept: every reader of the file acts on its
        // target (a replica asks for that file, `mysqlbinlog --raw` names its output
        // after it), so the file stays a prefix of what an honest primary sends.
        let next = if h.event_type == EventType::ROTATE { Some(a.check_rotate(start, ev)?) } else { None };
        let step = a.tracker.feed(h, ev).map_err(|e| StoreError::Stream {
            file: a.name.clone(),
            offset: start,
            what: e.to_string(),
        })?;
        a.pending.push(a.len, ev);
        a.len = end;
        if a.pending.len() >= PENDING_WRITE {
            a.write_pending()?;
        }
        if step.boundary {
            a.trx_end = end;
        }
        if step.closes_file {
            a.closed = true;
            if next.is_some() {
                self.next = next;
            }
            self.close_active()?;
        }
        Ok(step.boundary)
    }

    /// The active file, or the stream error saying `what` came without one.
    fn active_or(&mut self, what: impl FnOnce() -> String) -> Result<&mut Active, StoreError> {
        self.active.as_mut().ok_or_else(|| StoreError::Stream { file: String::new(), offset: 0, what: what() })
    }

    /// The active file, for an event that must go into one.
    pub(super) fn active_for(&mut self, h: &EventHeader) -> Result<&mut Active, StoreError> {
        let a = self.active_or(|| format!("{} event before the primary named a file", h.event_type))?;
        if a.partial.is_some() {
            return Err(StoreError::Stream {
                file: a.name.clone(),
                offset: a.len,
                what: format!("{} event inside an unfinished large event", h.event_type),
            });
        }
        Ok(a)
    }

    /// Starts a large event that arrives in pieces; `head` holds its first bytes.
    /// The checks are those of `append`.
    pub fn begin_event(&mut self, h: &EventHeader, head: &[u8]) -> Result<(), StoreError> {
        let a = self.active_for(h)?;
        let (start, stored) = a.place(h, u64::from(h.event_size))?;
        a.after_stored = stored;
        a.write_pending()?;
        a.partial = Some(Partial { hdr: *h, start, got: 0, stored, head: Vec::new() });
        self.event_piece(head)
    }

    /// The next piece of the large event: written at once, not held in memory.
    pub fn event_piece(&mut self, piece: &[u8]) -> Result<(), StoreError> {
        let a = self.active_or(|| "event piece without a file".into())?;
        let Some(pt) = a.partial.as_mut() else {
            return Err(StoreError::Stream {
                file: a.name.clone(),
                offset: a.len,
                what: "event piece without a start".into(),
            });
        };
        if pt.got + piece.len() as u64 > u64::from(pt.hdr.event_size) {
            return Err(StoreError::Stream {
                file: a.name.clone(),
                offset: pt.start,
                what: "event longer than its event_size".into(),
            });
        }
        let at = pt.start + pt.got;
        if pt.head.len() < PARTIAL_HEAD {
            let k = (PARTIAL_HEAD - pt.head.len()).min(piece.len());
            pt.head.extend_from_slice(&piece[..k]);
        }
        pt.got += piece.len() as u64;
        if pt.stored {
            let mut have = vec![0u8; piece.len()];
            a.file.read_at(&mut have, at).map_err(|err| StoreError::Io { path: a.path.clone(), op: "read", err })?;
            if have != piece {
                return Err(StoreError::Stream {
                    file: a.name.clone(),
                    offset: at,
                    what: "the primary's event differs from the stored one at the same offset".into(),
                });
            }
            return Ok(());
        }
        a.file.write_at(piece, at).map_err(|err| StoreError::Write { path: a.path.clone(), offset: at, err })
    }

    /// The large event is whole and its CRC matched: it now counts as stored.
    pub fn end_event(&mut self) -> Result<bool, StoreError> {
        let a = self.active_or(|| "event end without a file".into())?;
        let Some(pt) = a.partial.take() else {
            return Err(StoreError::Stream {
                file: a.name.clone(),
                offset: a.len,
                what: "event end without a start".into(),
            });
        };
        if pt.got != u64::from(pt.hdr.event_size) {
            a.partial = Some(pt);
            self.abort_event()?;
            return Err(StoreError::Stream {
                file: self.active_name().unwrap_or("").into(),
                offset: 0,
                what: "event shorter than its event_size".into(),
            });
        }
        if pt.stored {
            return Ok(false);
        }
        // Large events are row events or statements: the tracker needs only their start.
        let step = a.tracker.feed(&pt.hdr, &pt.head).map_err(|e| StoreError::Stream {
            file: a.name.clone(),
            offset: pt.start,
            what: e.to_string(),
        })?;
        a.len = pt.start + pt.got;
        if step.boundary {
            a.trx_end = a.len;
        }
        Ok(step.boundary)
    }

    /// Drops a large event that did not arrive whole: the file goes back to its length before it.
    pub fn abort_event(&mut self) -> Result<(), StoreError> {
        let Some(a) = self.active.as_mut() else { return Ok(()) };
        if a.partial.take().is_some() {
            a.cut_to(a.len)?;
        }
        Ok(())
    }

    /// The primary clears the FDE's in-use flag when it closes a file; do the same so
    /// the closed file is identical.
    pub(super) fn close_active(&mut self) -> Result<(), StoreError> {
        // The in-use flag is cleared below, a change the sync log does not record.
        self.settle()?;
        let Some(a) = self.active.as_mut() else {
            return Ok(());
        };
        a.write_pending()?;
        a.drop_zeros()?;
        let path = a.path.clone();
        let mut flags = [0u8; 2];
        a.file.read_at(&mut flags, 4 + event::FLAGS_OFFSET as u64).map_err(io_err(&path, "read"))?;
        let v = u16::from_le_bytes(flags);
        if v & event::LOG_EVENT_BINLOG_IN_USE_F != 0 {
            let v = v & !event::LOG_EVENT_BINLOG_IN_USE_F;
            a.file.write_at(&v.to_le_bytes(), 4 + event::FLAGS_OFFSET as u64).map_err(io_err(&path, "write"))?;
        }
        a.file.sync().map_err(io_err(&path, "fsync"))?;
        a.synced = a.len;
        if let Some(next) = self.next.clone() {
            // The next file of the same source.
            self.create_file(&sources::path_in(self.source, &next))?;
        }
        Ok(())
    }

    /// Writes buffered events to the file (no fsync).
    pub fn flush(&mut self) -> Result<(), StoreError> {
        match self.active.as_mut() {
            Some(a) => a.write_pending(),
            None => Ok(()),
        }
    }

    /// Writes the buffered events of whole transactions to the file (no fsync). The
    /// start of one still arriving waits for the rest, to go with it in one write:
    /// nothing reads those bytes before an fsync, and after a crash recovery would cut
    /// them. For the few bytes of a live stream: they are written as they are, not with
    /// direct I/O.
    pub fn flush_transactions(&mut self) -> Result<(), StoreError> {
        let Some(a) = self.active.as_mut() else { return Ok(()) };
        if a.len == a.trx_end || a.partial.is_some() {
            return a.write_pending();
        }
        let at = a.pending.at;
        if a.pending.is_empty() || a.trx_end <= at {
            return Ok(());
        }
        let whole = (a.trx_end - at) as usize;
        let rest = a.pending.bytes().get(whole..).unwrap_or(&[]).to_vec();
        let head = a.pending.bytes().get(..whole).unwrap_or(&[]);
        a.file.write_at(head, at).map_err(|err| StoreError::Write { path: a.path.clone(), offset: at, err })?;
        a.pending.restart(a.trx_end);
        a.pending.buf.extend_from_slice(&rest);
        Ok(())
    }

    /// Writes and fsyncs. Returns the durable (file, length).
    pub fn sync(&mut self) -> Result<Option<(String, u64)>, StoreError> {
        self.follow_purges();
        let logged = self.sync_through_log()?;
        let Some(a) = self.active.as_ref() else {
            return Ok(None);
        };
        // With a sync log, a file with nothing new since its last fsync needs none.
        let clean = self.sync_log.is_some() && a.synced == a.len;
        if !logged && !clean {
            self.sync_file()?;
        }
        Ok(self.active.as_ref().map(|a| (a.name.clone(), a.len)))
    }

    /// Cuts a partial transaction at the end (before resuming with a new connection).
    pub fn cut_partial(&mut self) -> Result<(), StoreError> {
        // The cut is a change the sync log does not record.
        self.settle()?;
        let Some(a) = self.active.as_mut() else {
            return Ok(());
        };
        a.write_pending()?;
        if a.len > a.trx_end {
            let path = a.path.clone();
            info!(
                "cut {}:{} to {}: {} bytes of an incomplete transaction",
                a.name,
                a.len,
                a.trx_end,
                a.len - a.trx_end
            );
            a.cut_to(a.trx_end)?;
            a.file.sync().map_err(io_err(&path, "fsync"))?;
            a.len = a.trx_end;
            a.synced = a.trx_end;
            a.written_back = a.written_back.min(a.trx_end);
            // Re-derive the tracker state at the boundary: its pending GTID is dropped.
            let (_, t) = scan_file(&*self.fs, &path, &a.name, false)?;
            a.tracker = t;
        }
        Ok(())
    }

    /// Keeps `bytes` of zeros written and fsynced ahead of the active file's end
    /// (0: never). An fdatasync after an append that grows the file must also commit
    /// its new size to the file system's journal; one after writing over zeros already
    /// on disk flushes only the data, which here took a quarter less time.
    pub fn set_preallocate(&mut self, bytes: u64) {
        self.prealloc = bytes.next_multiple_of(PAGE as u64);
    }

    /// Tops up the zeros ahead of the active file's end when fewer than half of
    /// `set_preallocate`'s bytes are left, and fsyncs them. For the writer to call once
    /// an ACK is out and the stream is live: it costs one write and one fsync per
    /// half of those bytes. Returns whether it wrote. A write refused (a full disk)
    /// gives the space back and is tried again later: mirroring goes on without it.
    pub fn preallocate(&mut self) -> Result<bool, StoreError> {
        let want = self.prealloc;
        let Some(a) = self.active.as_mut() else { return Ok(false) };
        // Recovery tells an event torn inside the zeros by its CRC32. So the FDE, which
        // says whether events carry one, must be on disk first (it is: this follows an
        // fsync), and they must carry one.
        let checked = a.tracker.saw_fde && a.tracker.alg == ChecksumAlg::CRC32;
        if want == 0 || !checked || a.closed || a.partial.is_some() || a.len < a.prealloc_retry_at {
            return Ok(false);
        }
        a.write_pending()?;
        let from = a.zeroed_to.max(a.len);
        if from >= a.len + want / 2 {
            return Ok(false);
        }
        // Whole pages: the next top-up starts where this one ended, on a page boundary.
        let to = (a.len + want).next_multiple_of(PAGE as u64);
        let zeros = vec![0u8; (to - from) as usize];
        if let Err(err) = a.file.write_at(&zeros, from) {
            debug!("{}: preallocating {} bytes at {from} failed: {err}", a.path.display(), to - from);
            a.file.set_len(from).map_err(io_err(&a.path, "truncate"))?;
            a.prealloc_retry_at = a.len + want;
            return Ok(false);
        }
        a.file.sync().map_err(io_err(&a.path, "fsync"))?;
        a.zeroed_to = to;
        Ok(true)
    }

    /// Gives back the zeros preallocated after the active file's end, so the file is
    /// again exactly the primary's bytes (for when the writer stops). No fsync: should
    /// the cut not reach the disk, recovery cuts the zeros again.
    pub fn trim(&mut self) -> Result<(), StoreError> {
        if self.active.as_ref().is_none_or(|a| a.partial.is_some()) {
            return Ok(());
        }
        // A stopped binlogd leaves no records to replay: its files may be copied or
        // moved before the next start.
        self.settle()?;
        match self.active.as_mut() {
            Some(a) => {
                a.write_pending()?;
                a.drop_zeros()
            }
            None => Ok(()),
        }
    }
}
