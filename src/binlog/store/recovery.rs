//! Recovery on open: scanning a file, cutting a torn tail back to the last
//! transaction boundary, and keeping aside what follows a page a power loss left unwritten.

use super::*;
use crate::binlog::walk::{bytes_of, Walker};

/// When, by which server and which version a file was begun, from its FDE.
pub(super) fn describe_fde(ev: &[u8]) -> String {
    match (EventHeader::decode(ev), event::FormatDescription::decode(ev)) {
        (Ok(h), Ok(f)) => format!(
            "{} by server_id {} ({}, {} bytes)",
            crate::logging::short_time(u64::from(h.timestamp)),
            h.server_id,
            f.server_version,
            h.event_size
        ),
        _ => "(an FDE that does not decode)".into(),
    }
}

/// Result of scanning one file.
#[derive(Debug, Clone)]
pub struct Scan {
    pub len: u64,
    /// Offset after the last complete transaction (or the end, for a clean file).
    pub cut_at: u64,
    pub closed: bool,
    pub rotate_to: Option<String>,
    pub events: u64,
    pub reason: Option<String>,
    /// The bytes after `cut_at` follow a page that was never written (a power
    /// failure): they may hold whole events, so recovery keeps them aside.
    pub hole: bool,
    /// Zero bytes at the end of the file (preallocated space, or a crash's; the last
    /// bytes of a whole event may be among them).
    pub zero_tail: u64,
}

/// Walks a file's events checking sizes and CRCs. With `tail_ok`, a broken or
/// partial tail is reported as the cut point; without it, it is an error. A file
/// cut short from outside while it is read is an error of its own: the bytes lost
/// read as zeros, and must not be taken for a torn tail or a broken event.
pub fn scan_file(fs: &dyn Fs, path: &Path, name: &str, tail_ok: bool) -> Result<(Scan, Tracker), StoreError> {
    let map = fs.map(path).map_err(io_err(path, "read"))?;
    let r = scan_bytes(&map, name, tail_ok);
    if map.cut() {
        return Err(StoreError::Corrupt { file: name.to_string(), offset: 0, what: cut_outside(map.len()) });
    }
    r
}

/// What went wrong with a file cut short from outside while it was read.
pub fn cut_outside(mapped: usize) -> String {
    format!("the file was cut short from outside while it was read (it had {mapped} bytes): read it again")
}

pub fn scan_bytes(data: &[u8], name: &str, tail_ok: bool) -> Result<(Scan, Tracker), StoreError> {
    let len = data.len() as u64;
    let corrupt = |offset: u64, what: String| StoreError::Corrupt { file: name.to_string(), offset, what };
    if len < 4 {
        return Err(corrupt(0, format!("file is {len} bytes, shorter than the magic")));
    }
    if data[..4] != MAGIC {
        return Err(corrupt(0, "bad magic: not a binlog file".into()));
    }
    let mut t = Tracker::new(ChecksumAlg::OFF);
    let mut pos = 4usize;
    let mut cut_at = 4u64;
    let mut closed = false;
    let mut rotate_to = None;
    let mut events = 0u64;
    let mut reason = None;
    let mut hole = false;
    let zero_tail = trailing_zeros(data);
    let mut walk = Walker::new(data, 4, len).checking_crc();
    while pos < data.len() {
        let (h, size) = match walk.next() {
            Some(Ok(f)) => (f.header, f.header.event_size as usize),
            None => break,
            Some(Err(e)) => {
                if tail_ok && is_torn_tail(data.get(pos..data.len() - zero_tail).unwrap_or(&[])) {
                    reason = Some(if pos + zero_tail >= data.len() {
                        format!("zeros from {pos} to the end")
                    } else {
                        format!("{e} at {pos}")
                    });
                    break;
                }
                if let Some(page) = unwritten_page(data, pos).filter(|_| tail_ok) {
                    reason = Some(format!("{e} at {pos}; the 4 KiB at {page} read as zeros, never written"));
                    hole = true;
                    break;
                }
                return Err(corrupt(pos as u64, e.to_string()));
            }
        };
        let ev = &data[pos..pos + size];
        let step = match t.feed(&h, ev) {
            Ok(s) => s,
            Err(e) if tail_ok => {
                reason = Some(format!("{e} at {pos}"));
                break;
            }
            Err(e) => return Err(corrupt(pos as u64, e.to_string())),
        };
        events += 1;
        pos += size;
        if step.boundary {
            cut_at = pos as u64;
        }
        if step.closes_file {
            closed = true;
            if h.event_type == EventType::ROTATE {
                rotate_to = event::Rotate::decode(ev, t.alg).ok().map(|r| r.next_file).filter(|n| is_safe_name(n));
            }
            if pos < data.len() {
                if tail_ok {
                    reason = Some(format!("bytes after {} at {}", h.event_type, pos));
                } else {
                    return Err(corrupt(pos as u64, format!("bytes after {}", h.event_type)));
                }
            }
            break;
        }
    }
    if !tail_ok && (cut_at as usize) < data.len() && !closed {
        // A closed file may legitimately end inside a transaction only if the primary crashed.
        warn!("{name}: ends inside a transaction at {cut_at}");
        cut_at = data.len() as u64;
    }
    // Recovered state is the state at the cut point: rescan if the tracker went past it.
    let t = if cut_at < pos as u64 && tail_ok { tracker_until(data, cut_at as usize)? } else { t };
    Ok((Scan { len, cut_at, closed, rotate_to, events, reason, hole, zero_tail: zero_tail as u64 }, t))
}

/// Can `rest` (from a bad event to the file's trailing zeros, left out) be what a
/// crash left behind? Yes when the last event is cut short, when the bad event is
/// the last one (a write torn inside it), or when nothing is left (zeros only: the
/// length grew before the data reached the disk, or space preallocated ahead of the
/// writes, where a torn event is followed by them). A bad event with whole events
/// after it is corruption, and recovery must not cut valid data after it.
pub(super) fn is_torn_tail(rest: &[u8]) -> bool {
    if rest.len() < HEADER_LEN {
        return true;
    }
    match EventHeader::decode(rest) {
        Ok(h) => h.event_size as usize >= rest.len(),
        Err(_) => false,
    }
}

/// How many bytes at the end of `data` are zeros.
pub(super) fn trailing_zeros(data: &[u8]) -> usize {
    data.iter().rev().take_while(|&&b| b == 0).count()
}

/// Page size of the file systems binlogd runs on: the unit a lost write leaves as zeros.
pub(super) const PAGE: usize = 4096;

/// The offset of a whole page of zeros that overlaps the bad event at `pos` (its
/// announced extent, or the zeros it starts with when its header is zeros too), if any.
///
/// After a power failure, pages written after the last fsync may be missing from a
/// file whose length did reach the disk: they read as zeros, with later pages that
/// did reach it after them. Everything past the last fsync was never acknowledged,
/// and a hole can only be past it. A bad event that is not such a page is corruption.
pub(super) fn unwritten_page(data: &[u8], pos: usize) -> Option<usize> {
    let rest = data.get(pos..)?;
    let zeros = rest.iter().take_while(|&&b| b == 0).count();
    let extent = match EventHeader::decode(rest) {
        Ok(h) if h.event_size as usize > zeros => (h.event_size as usize).min(rest.len()),
        _ => zeros,
    };
    let end = pos + extent;
    let mut p = pos / PAGE * PAGE;
    while p < end {
        if data.get(p..p + PAGE).is_some_and(|pg| pg.iter().all(|&b| b == 0)) {
            return Some(p);
        }
        p += PAGE;
    }
    None
}

/// Tracker state after the events in `data[4..end]` (all already validated).
pub(super) fn tracker_until(data: &[u8], end: usize) -> Result<Tracker, StoreError> {
    let mut t = Tracker::new(ChecksumAlg::OFF);
    let corrupt = |offset: u64, what: String| StoreError::Corrupt { file: String::new(), offset, what };
    for found in Walker::new(data, 4, end as u64) {
        let f = found.map_err(|e| corrupt(e.offset(), e.to_string()))?;
        t.feed(&f.header, bytes_of(data, &f)).map_err(|e| corrupt(f.offset, e.to_string()))?;
    }
    Ok(t)
}

impl Store {
    /// Copies `name`'s bytes `[from, to)`, about to be cut, to `<name>.torn-<from>`
    /// and makes the copy durable first: bytes found after an unwritten page may be
    /// whole events, and recovery deletes nothing that could matter. The primary
    /// sends the cut transactions again.
    pub(super) fn keep_aside(&self, file: &dyn FsFile, name: &str, from: u64, to: u64) -> Result<(), StoreError> {
        let side = self.dir.join(format!("{name}.torn-{from}"));
        let exists = self.fs.is_file(&side);
        let mut out = self.fs.open(&side, !exists).map_err(io_err(&side, "create"))?;
        out.set_len(0).map_err(io_err(&side, "truncate"))?;
        let mut buf = vec![0u8; (to - from).min(1 << 20) as usize];
        let mut at = from;
        while at < to {
            let n = (to - at).min(buf.len() as u64) as usize;
            let chunk = buf.get_mut(..n).unwrap_or_default();
            file.read_at(chunk, at).map_err(io_err(&self.dir.join(name), "read"))?;
            out.write_at(chunk, at - from).map_err(io_err(&side, "write"))?;
            at += n as u64;
        }
        out.sync().map_err(io_err(&side, "fsync"))?;
        self.fsync_dir()?;
        warn!(
            "recovery: {name} has a page of zeros with data after it (writes lost at a power failure, past the last \
             fsync): its {} bytes from {from} on are kept in {}",
            to - from,
            side.display()
        );
        Ok(())
    }

    /// Scans the last file, cuts a partial trailing event or transaction, and
    /// computes the GTID state.
    pub(super) fn recover(&mut self) -> Result<(), StoreError> {
        let Some(last) = self.files.last().cloned() else {
            return Ok(());
        };
        let path = self.dir.join(&last);
        let mut file = self.fs.open(&path, false).map_err(io_err(&path, "open"))?;
        let len = file.size().map_err(io_err(&path, "stat"))?;
        if len < 4 {
            // Crash while creating the file: it has no events yet.
            file.set_len(0).map_err(io_err(&path, "truncate"))?;
            file.write_at(&MAGIC, 0).map_err(io_err(&path, "write"))?;
            file.sync().map_err(io_err(&path, "fsync"))?;
        }
        let (scan, tracker) = scan_file(&*self.fs, &path, &last, true)?;
        // What is kept may have been written but not fsynced before a crash; it is
        // acknowledged on reconnect, so make it durable now.
        file.sync().map_err(io_err(&path, "fsync"))?;
        if scan.hole {
            self.keep_aside(&*file, &last, scan.cut_at, scan.len)?;
        }
        if scan.cut_at < scan.len {
            let cut = scan.len - scan.cut_at;
            let what = if scan.zero_tail >= cut {
                "of zeros after the last event (space preallocated for writes, or not yet written at a crash)"
                    .to_string()
            } else {
                let why = scan.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                format!("after the last complete transaction{why}")
            };
            info!("recovery: cut {}:{} to {}: {cut} bytes {what}", last, scan.len, scan.cut_at);
            file.set_len(scan.cut_at).map_err(io_err(&path, "truncate"))?;
            file.sync().map_err(io_err(&path, "fsync"))?;
        }
        let mut tracker = tracker;
        if !tracker.saw_fde && self.files.len() >= 2 {
            // The last file has no events yet: its GTID state is the previous file's end state.
            let prev = &self.files[self.files.len() - 2];
            let (_, t) = scan_file(&*self.fs, &self.dir.join(prev), prev, false)?;
            tracker.gtids = t.gtids;
            tracker.maria = t.maria;
        }
        if sources::number(&last) > 1 {
            // A later source's file starts from that server's state, which may lack
            // nothing binlogd held before but need not name it all: the state binlogd
            // held when it began following it is part of what it holds.
            if let Some(o) = self.origin()? {
                tracker.gtids.union(&o.gtids);
                tracker.maria.absorb(&o.maria);
            }
        }
        if scan.closed {
            self.next = scan.rotate_to.clone();
        }
        self.default_alg = if tracker.saw_fde { tracker.alg } else { ChecksumAlg::CRC32 };
        self.gtids = tracker.gtids.clone();
        self.maria = tracker.maria.clone();
        let k = sources::number(&last);
        let source_start =
            k > 1 && scan.cut_at <= 4 && self.files.iter().filter(|f| sources::number(f) == k).count() == 1;
        self.active = Some(Active {
            name: last,
            path,
            file,
            len: scan.cut_at,
            zeroed_to: scan.cut_at,
            prealloc_retry_at: 0,
            trx_end: scan.cut_at,
            synced: scan.cut_at,
            written_back: scan.cut_at,
            closed: scan.closed,
            after_stored: false,
            tracker,
            pending: Pending::default(),
            partial: None,
            // A source's first file with nothing past its magic yet: its header is
            // still to come, and is that server's past.
            source_start,
        });
        Ok(())
    }
}
