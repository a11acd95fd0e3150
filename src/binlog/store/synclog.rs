//! The sync log (`binlogd.synclog`): a file of zeros written once, into which each
//! small batch of the live stream is copied before its fsync, so that the binlog file
//! stays a whole binlog at every moment and the fsync that acknowledges a commit still
//! commits no metadata.
//!
//! Why: on ext4 an fdatasync after an append that grows a file must also commit the
//! file's new size to the journal, which here costs about a third more than flushing the
//! data alone. Writing over blocks already on disk flushes data only. So a live batch
//! goes to the binlog file through the page cache (readers see it at once, and the file
//! is exactly the primary's bytes), and to this log, whose fdatasync makes it durable.
//! The binlog file itself is fsynced when the log is full, at a rotation, and whenever
//! something is written that does not go through the log.
//!
//! What must hold:
//! - the log's records of the current epoch, applied in order to the file its start
//!   names, give back every byte acknowledged since that file was last fsynced;
//! - before the binlog file is changed in any way the log does not record (a flag
//!   cleared at rotation, a cut), the file is fsynced and the log retired, so replaying
//!   it can never undo such a change;
//! - a file before the last one was fsynced before the last was created: a log naming
//!   an older file holds nothing that is not already on disk.
//!
//! Layout: frames, each `kind (1) | epoch (8) | at (8) | len (4) | crc32 (4) | payload`,
//! little-endian, the CRC over everything else. The frame at 0 is a START naming the
//! binlog file (its payload) and the durable length the records continue from (`at`);
//! DATA frames follow, each the bytes at `at` in that file, each starting where the last
//! ended. A START with no name retires the log. A frame of another epoch, a bad CRC or
//! zeros end the epoch: what follows is from before.

use super::*;

/// The sync log's name in binlog_dir.
pub const SYNC_LOG_FILE: &str = "binlogd.synclog";

/// Largest batch copied to the log; larger ones are catch-up and fsync the file.
const MAX_RECORD: usize = 256 << 10;

/// Bytes of a frame before its payload.
const FRAME_HEAD: usize = 1 + 8 + 8 + 4 + 4;

/// Frame kinds (unknown ones end the epoch).
const START: u8 = 1;
const DATA: u8 = 2;

/// Appends one frame to `out`.
pub(super) fn encode_frame(out: &mut Vec<u8>, kind: u8, epoch: u64, at: u64, payload: &[u8]) {
    let start = out.len();
    out.push(kind);
    out.extend_from_slice(&epoch.to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(payload);
    let mut h = crc32fast::Hasher::new();
    h.update(&out[start..start + FRAME_HEAD - 4]);
    h.update(payload);
    let crc = h.finalize().to_le_bytes();
    out[start + FRAME_HEAD - 4..start + FRAME_HEAD].copy_from_slice(&crc);
}

/// One frame read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Frame<'a> {
    pub kind: u8,
    pub epoch: u64,
    pub at: u64,
    pub payload: &'a [u8],
}

/// The frame at the start of `buf` and its length, if whole with a matching CRC.
pub(super) fn decode_frame(buf: &[u8]) -> Option<(Frame<'_>, usize)> {
    let head = buf.get(..FRAME_HEAD)?;
    let u64_at = |i: usize| head.get(i..i + 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes);
    let u32_at = |i: usize| head.get(i..i + 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes);
    let (kind, epoch, at) = (head[0], u64_at(1)?, u64_at(9)?);
    let len = u32_at(17)? as usize;
    let crc = u32_at(21)?;
    let payload = buf.get(FRAME_HEAD..FRAME_HEAD.checked_add(len)?)?;
    let mut h = crc32fast::Hasher::new();
    h.update(&head[..FRAME_HEAD - 4]);
    h.update(payload);
    (h.finalize() == crc && epoch != 0).then_some((Frame { kind, epoch, at, payload }, FRAME_HEAD + len))
}

/// What a sync log holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Records<'a> {
    /// The epoch of its START, if that is whole.
    pub epoch: Option<u64>,
    /// The binlog file its records go to ("" once retired).
    pub file: String,
    /// The file's length when the epoch began (fsynced then).
    pub base: u64,
    /// Bytes and where they go, contiguous from `base`.
    pub data: Vec<(u64, &'a [u8])>,
}

impl Records<'_> {
    /// Where the records end in their file.
    pub fn end(&self) -> u64 {
        self.data.last().map_or(self.base, |(at, b)| at + b.len() as u64)
    }
}

/// Reads the current epoch's records from a whole log.
pub(super) fn read_records(log: &[u8]) -> Records<'_> {
    let Some((start, mut pos)) = decode_frame(log).filter(|(f, _)| f.kind == START) else {
        return Records::default();
    };
    let mut r = Records {
        epoch: Some(start.epoch),
        file: String::from_utf8_lossy(start.payload).into_owned(),
        base: start.at,
        data: Vec::new(),
    };
    if r.file.is_empty() {
        return r;
    }
    let mut next = start.at;
    while let Some((f, n)) = log.get(pos..).and_then(decode_frame) {
        if f.kind != DATA || f.epoch != start.epoch || f.at != next {
            break;
        }
        r.data.push((f.at, f.payload));
        next += f.payload.len() as u64;
        pos += n;
    }
    r
}

/// The open sync log.
pub(super) struct SyncLog {
    file: Box<dyn FsFile>,
    path: PathBuf,
    /// Its size: the zeros written when it was made.
    cap: u64,
    /// The epoch of the last START written (or found).
    epoch: u64,
    /// Where the next frame goes; 0 while the epoch holds no records.
    pos: u64,
    /// The file the epoch's records go to, and where the next one must start.
    name: String,
    next: u64,
    /// Frames being written (kept to save an allocation per batch).
    buf: Vec<u8>,
}

impl SyncLog {
    /// A new epoch number: above every one this log has had, and above any it may have
    /// had before a START was torn (a clock in nanoseconds), so that no stale frame
    /// past the new ones can pass for one of them.
    fn next_epoch(&mut self) -> u64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        self.epoch = (self.epoch + 1).max(now);
        self.epoch
    }

    /// Whether `bytes` at `at` in `name` can be recorded in this epoch: they fit, and
    /// continue its records (otherwise the file is fsynced, which begins a new epoch).
    fn fits(&self, name: &str, at: u64, bytes: usize) -> bool {
        if self.pos > 0 && (name != self.name || at != self.next) {
            return false;
        }
        let start = if self.pos == 0 { FRAME_HEAD + name.len() } else { 0 };
        bytes <= MAX_RECORD && self.pos + (start + FRAME_HEAD + bytes) as u64 <= self.cap
    }

    /// Writes `bytes`, which go at `at` in `name` (durable up to `at`), as the next record
    /// (a new epoch's START first if it has none yet). No fsync.
    fn record(&mut self, name: &str, at: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        if self.pos == 0 {
            let e = self.next_epoch();
            encode_frame(&mut buf, START, e, at, name.as_bytes());
            self.name = name.to_string();
        }
        self.next = at + bytes.len() as u64;
        encode_frame(&mut buf, DATA, self.epoch, at, bytes);
        let r = self.file.write_at(&buf, self.pos).map_err(|err| StoreError::Write {
            path: self.path.clone(),
            offset: self.pos,
            err,
        });
        self.pos += buf.len() as u64;
        self.buf = buf;
        r
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        self.file.sync().map_err(io_err(&self.path, "fsync"))
    }

    /// Ends the epoch, durably: its records can no longer be replayed. For after the
    /// binlog file they went to is fsynced.
    pub(super) fn retire(&mut self) -> Result<(), StoreError> {
        let mut buf = Vec::with_capacity(FRAME_HEAD);
        let e = self.next_epoch();
        encode_frame(&mut buf, START, e, 0, b"");
        self.file.write_at(&buf, 0).map_err(|err| StoreError::Write { path: self.path.clone(), offset: 0, err })?;
        self.sync()?;
        self.pos = 0;
        Ok(())
    }
}

impl Store {
    /// Makes the records of a sync log left by a crash durable in their binlog file,
    /// before recovery scans it. Returns the log, open, for `set_sync_log`.
    pub(super) fn replay_sync_log(&mut self) -> Result<Option<SyncLog>, StoreError> {
        let path = self.dir.join(SYNC_LOG_FILE);
        if !self.fs.is_file(&path) {
            return Ok(None);
        }
        let file = self.fs.open(&path, false).map_err(io_err(&path, "open"))?;
        let cap = file.size().map_err(io_err(&path, "stat"))?;
        // Mapped: only the pages of the current epoch's records are read.
        let log = self.fs.map(&path).map_err(io_err(&path, "read"))?;
        let r = read_records(&log);
        let last = self.files.last().map(String::as_str);
        if !r.data.is_empty() && last == Some(r.file.as_str()) {
            let bin = self.dir.join(&r.file);
            let mut f = self.fs.open(&bin, false).map_err(io_err(&bin, "open"))?;
            let size = f.size().map_err(io_err(&bin, "stat"))?;
            if size < r.base {
                return Err(StoreError::Corrupt {
                    file: r.file.clone(),
                    offset: size,
                    what: format!(
                        "the file is {size} bytes, but {} says {} were fsynced before its records: it is not the \
                         file binlogd wrote (move {SYNC_LOG_FILE} away to open the directory without it)",
                        path.display(),
                        r.base
                    ),
                });
            }
            for (at, bytes) in &r.data {
                f.write_at(bytes, *at).map_err(|err| StoreError::Write { path: bin.clone(), offset: *at, err })?;
            }
            f.sync().map_err(io_err(&bin, "fsync"))?;
            info!("recovery: {}: bytes {} to {} written again from {SYNC_LOG_FILE}", r.file, r.base, r.end());
        }
        let epoch = r.epoch.unwrap_or(0);
        Ok(Some(SyncLog { file, path, cap, epoch, pos: 0, name: String::new(), next: 0, buf: Vec::new() }))
    }

    /// Uses a sync log of `bytes` (rounded up to whole pages) from now on; 0: none, the
    /// binlog file is fsynced itself. A log that cannot be made (a full disk) is warned
    /// about, and binlogd goes on without it.
    pub fn set_sync_log(&mut self, bytes: u64) -> Result<(), StoreError> {
        let bytes = bytes.next_multiple_of(PAGE as u64);
        if let Some(log) = self.sync_log.as_mut() {
            if log.cap == bytes {
                return Ok(()); // retired on open
            }
        }
        let path = self.dir.join(SYNC_LOG_FILE);
        if self.sync_log.take().is_some() || self.fs.is_file(&path) {
            // Whatever it held was made durable in its file on open.
            self.fs.remove(&path).map_err(io_err(&path, "remove"))?;
            self.fsync_dir()?;
        }
        if bytes == 0 {
            return Ok(());
        }
        match self.make_sync_log(&path, bytes) {
            Ok(log) => self.sync_log = Some(log),
            Err(e) => {
                warn!("{e}: binlogd fsyncs each binlog file itself instead, without a sync log");
                let _ = self.fs.remove(&path);
            }
        }
        Ok(())
    }

    /// Creates the log: zeros written and fsynced, so that writing over them later
    /// allocates nothing and changes no size.
    fn make_sync_log(&self, path: &Path, bytes: u64) -> Result<SyncLog, StoreError> {
        let mut file = self.fs.open(path, true).map_err(io_err(path, "create"))?;
        let zeros = vec![0u8; bytes.min(1 << 20) as usize];
        let mut at = 0;
        while at < bytes {
            let n = (bytes - at).min(zeros.len() as u64) as usize;
            file.write_at(&zeros[..n], at).map_err(|err| StoreError::Write {
                path: path.to_path_buf(),
                offset: at,
                err,
            })?;
            at += n as u64;
        }
        file.sync().map_err(io_err(path, "fsync"))?;
        self.fsync_dir()?;
        let mut log = SyncLog {
            file,
            path: path.to_path_buf(),
            cap: bytes,
            epoch: 0,
            pos: 0,
            name: String::new(),
            next: 0,
            buf: Vec::new(),
        };
        log.next_epoch();
        Ok(log)
    }

    /// Makes the active file durable through the sync log if the bytes since its last
    /// fsync are all pending and fit: copies them to the log, writes them to the file
    /// without an fsync, and fsyncs the log. Returns whether it did.
    pub(super) fn sync_through_log(&mut self) -> Result<bool, StoreError> {
        let (Some(log), Some(a)) = (self.sync_log.as_mut(), self.active.as_mut()) else { return Ok(false) };
        let pending_end = a.pending.at + a.pending.len() as u64;
        if a.partial.is_some() || a.pending.is_empty() || a.pending.at != a.synced || pending_end != a.len {
            return Ok(false);
        }
        if !log.fits(&a.name, a.synced, a.pending.len()) {
            return Ok(false);
        }
        log.record(&a.name, a.synced, a.pending.bytes())?;
        a.write_pending()?;
        log.sync()?;
        a.synced = a.len;
        // The file's own pages go to disk in the background, a MiB at a time, so that
        // the fsync when the log is full has little left to write.
        if a.len - a.written_back >= WRITEBACK_STEP {
            a.file.start_writeback(a.written_back, a.len - a.written_back);
            a.written_back = a.len;
        }
        Ok(true)
    }

    /// Writes and fsyncs the active file, then retires the sync log if it holds records.
    pub(super) fn sync_file(&mut self) -> Result<(), StoreError> {
        let Some(a) = self.active.as_mut() else { return Ok(()) };
        a.write_pending()?;
        a.file.sync().map_err(io_err(&a.path, "fsync"))?;
        a.synced = a.len;
        a.written_back = a.len;
        match self.sync_log.as_mut() {
            Some(log) if log.pos > 0 => log.retire(),
            _ => Ok(()),
        }
    }

    /// For before the active file changes in a way the sync log does not record (a
    /// flag cleared, a cut): if the log holds records, the file is fsynced and the log
    /// retired, so that replaying it cannot undo the change.
    pub(super) fn settle(&mut self) -> Result<(), StoreError> {
        match &self.sync_log {
            Some(log) if log.pos > 0 => self.sync_file(),
            _ => Ok(()),
        }
    }
}

/// Bytes of the active file between writeback hints in sync-log mode.
const WRITEBACK_STEP: u64 = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(frames: &[(u8, u64, u64, &[u8])], cap: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for (k, e, at, p) in frames {
            encode_frame(&mut v, *k, *e, *at, p);
        }
        v.resize(cap, 0);
        v
    }

    #[test]
    fn frames_round_trip_and_a_flipped_byte_or_a_cut_is_refused() {
        let mut v = Vec::new();
        encode_frame(&mut v, DATA, 7, 1234, b"events");
        let (f, n) = decode_frame(&v).unwrap();
        assert_eq!((f.kind, f.epoch, f.at, f.payload, n), (DATA, 7, 1234, &b"events"[..], v.len()));
        for i in 0..v.len() {
            let mut w = v.clone();
            w[i] ^= 0x40;
            assert!(decode_frame(&w).is_none_or(|(g, _)| g != f), "byte {i} flipped");
        }
        assert!(decode_frame(&v[..v.len() - 1]).is_none());
        assert!(decode_frame(&[0u8; 64]).is_none(), "zeros are no frame");
    }

    #[test]
    fn records_are_the_starts_epoch_contiguous_from_its_base() {
        let log = log_of(
            &[(START, 5, 100, b"b.000002"), (DATA, 5, 100, b"aaaa"), (DATA, 5, 104, b"bb"), (DATA, 4, 106, b"old")],
            4096,
        );
        let r = read_records(&log);
        assert_eq!((r.epoch, r.file.as_str(), r.base, r.end()), (Some(5), "b.000002", 100, 106));
        assert_eq!(r.data, vec![(100, &b"aaaa"[..]), (104, &b"bb"[..])]);
        // A stale frame of the same epoch that does not continue is not taken.
        let gap = log_of(&[(START, 5, 100, b"f"), (DATA, 5, 100, b"aa"), (DATA, 5, 103, b"x")], 4096);
        assert_eq!(read_records(&gap).end(), 102);
    }

    #[test]
    fn a_retired_torn_or_blank_log_has_no_records() {
        assert!(read_records(&log_of(&[(START, 9, 0, b""), (DATA, 9, 0, b"zz")], 512)).data.is_empty());
        assert_eq!(read_records(&[0u8; 512]), Records::default());
        let mut torn = log_of(&[(START, 3, 4, b"f"), (DATA, 3, 4, b"abc")], 512);
        torn[2] ^= 1;
        assert_eq!(read_records(&torn), Records::default());
    }
}
