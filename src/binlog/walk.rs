//! The one walk over a stored binlog file's events: each step gives where an event
//! starts and its header, after checking what every reader relies on. Recovery,
//! `--verify`, the GTID index, dumps and SHOW BINLOG EVENTS walk files with it.
//!
//! What a step checks:
//! - a whole header is there, and `event_size` is at least a header;
//! - the event ends within the bytes walked (else the file ends inside it: `Torn`);
//! - a non-zero `log_pos` is where the event ends (MariaDB 11.4 and later leave it 0
//!   inside a transaction);
//! - with `checking_crc`, the CRC32 the file's format description announces.
//!
//! A file that ends inside an event is `Torn`, which a crash leaves at the end of the
//! file being written; whether that is acceptable is the caller's call (recovery cuts
//! it, a closed file reports it). Anything else is `Corrupt`. Both name the offset.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use super::event::{self, ChecksumAlg, EventHeader, EventType, HEADER_LEN};

/// Where a walk reads: a stored file's bytes by offset.
pub trait ReadAt {
    fn read_at(&self, buf: &mut [u8], off: u64) -> io::Result<()>;
}

impl ReadAt for [u8] {
    fn read_at(&self, buf: &mut [u8], off: u64) -> io::Result<()> {
        let start = usize::try_from(off).map_err(|_| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.get(start..end))
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

impl ReadAt for File {
    fn read_at(&self, buf: &mut [u8], off: u64) -> io::Result<()> {
        self.read_exact_at(buf, off)
    }
}

/// An event found by a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where it starts in the file.
    pub offset: u64,
    pub header: EventHeader,
}

impl Found {
    /// Where it ends in the file.
    pub fn end(&self) -> u64 {
        self.offset + u64::from(self.header.event_size)
    }
}

/// Why a walk stopped before its end.
#[derive(Debug)]
pub enum WalkError {
    /// The bytes end inside the event at `offset`.
    Torn { offset: u64, what: String },
    /// The bytes at `offset` are no event binlogd would have stored.
    Corrupt { offset: u64, what: String },
    /// Reading them failed.
    Io { offset: u64, err: io::Error },
}

impl WalkError {
    pub fn offset(&self) -> u64 {
        match self {
            WalkError::Torn { offset, .. } | WalkError::Corrupt { offset, .. } | WalkError::Io { offset, .. } => {
                *offset
            }
        }
    }
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WalkError::Torn { what, .. } | WalkError::Corrupt { what, .. } => f.write_str(what),
            WalkError::Io { err, .. } => write!(f, "{err}"),
        }
    }
}

/// The checks of one step, on the header bytes at `offset` of a file readable up to
/// `end`: what a walk yields, or why it stops. A reader that holds the bytes already
/// (a dump's mapped window) steps with this alone.
pub fn found_at(h: &[u8], offset: u64, end: u64) -> Result<Found, WalkError> {
    let left = end.saturating_sub(offset);
    if left < HEADER_LEN as u64 || h.len() < HEADER_LEN {
        return Err(WalkError::Torn { offset, what: format!("{left} bytes of a partial event header") });
    }
    let header = EventHeader::decode(h).map_err(|e| WalkError::Corrupt { offset, what: e.to_string() })?;
    let size = u64::from(header.event_size);
    if size > left {
        return Err(WalkError::Torn { offset, what: format!("partial event: {size} bytes announced, {left} present") });
    }
    let found = Found { offset, header };
    if header.log_pos != 0 && u64::from(header.log_pos) != found.end() {
        return Err(WalkError::Corrupt {
            offset,
            what: format!("log_pos {} but the event ends at {}", header.log_pos, found.end()),
        });
    }
    Ok(found)
}

/// A walk over `[from, end)` of a file's bytes.
pub struct Walker<'a, R: ReadAt + ?Sized> {
    src: &'a R,
    pos: u64,
    end: u64,
    /// Read each whole event and check its CRC32 as the format description says.
    check_crc: bool,
    alg: ChecksumAlg,
    buf: Vec<u8>,
    stopped: bool,
}

impl<'a, R: ReadAt + ?Sized> Walker<'a, R> {
    /// From `from` (4, after the magic, for a whole file) to `end`.
    pub fn new(src: &'a R, from: u64, end: u64) -> Self {
        Walker { src, pos: from, end, check_crc: false, alg: ChecksumAlg::OFF, buf: Vec::new(), stopped: false }
    }

    /// Checks each event's CRC32 too (reading it whole), as the file's format
    /// description event, met on the way, says.
    pub fn checking_crc(mut self) -> Self {
        self.check_crc = true;
        self
    }

    /// Where the next event would start.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    fn step(&mut self) -> Result<Found, WalkError> {
        let offset = self.pos;
        let left = self.end - offset;
        if left < HEADER_LEN as u64 {
            return Err(WalkError::Torn { offset, what: format!("{left} bytes of a partial event header") });
        }
        let mut h = [0u8; HEADER_LEN];
        self.src.read_at(&mut h, offset).map_err(|err| WalkError::Io { offset, err })?;
        let found = found_at(&h, offset, self.end)?;
        let (header, size) = (found.header, u64::from(found.header.event_size));
        if self.check_crc {
            let n = usize::try_from(size).map_err(|_| WalkError::Corrupt { offset, what: "event too large".into() })?;
            self.buf.resize(n, 0);
            self.src.read_at(&mut self.buf, offset).map_err(|err| WalkError::Io { offset, err })?;
            let corrupt = |e: event::EventError| WalkError::Corrupt { offset, what: e.to_string() };
            let alg = if header.event_type == EventType::FORMAT_DESCRIPTION {
                event::FormatDescription::decode(&self.buf).map_err(corrupt)?.checksum
            } else {
                self.alg
            };
            if alg == ChecksumAlg::CRC32 {
                event::verify_crc(&self.buf).map_err(corrupt)?;
            }
            if header.event_type == EventType::FORMAT_DESCRIPTION {
                self.alg = alg;
            }
        }
        self.pos = found.end();
        Ok(found)
    }
}

impl<R: ReadAt + ?Sized> Iterator for Walker<'_, R> {
    type Item = Result<Found, WalkError>;

    /// The next event, None at the end; after an error, None.
    fn next(&mut self) -> Option<Self::Item> {
        if self.stopped || self.pos >= self.end {
            return None;
        }
        let r = self.step();
        self.stopped = r.is_err();
        Some(r)
    }
}

/// The bytes of `found` within a whole file's `data` (a walk over a slice).
pub fn bytes_of<'a>(data: &'a [u8], found: &Found) -> &'a [u8] {
    let (start, end) = (found.offset as usize, found.end() as usize);
    data.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::event::tests::make_event;

    fn file(events: &[Vec<u8>]) -> Vec<u8> {
        let mut f = event::MAGIC.to_vec();
        for e in events {
            f.extend_from_slice(e);
        }
        f
    }

    #[test]
    fn walks_every_event_and_names_a_torn_tail_and_corruption_by_offset() {
        let a = make_event(EventType::QUERY, 4, b"one", false);
        let b = make_event(EventType::XID, 4 + a.len() as u32, &[0; 8], false);
        let data = file(&[a.clone(), b.clone()]);
        let found: Vec<u64> = Walker::new(&data[..], 4, data.len() as u64).map(|f| f.unwrap().offset).collect();
        assert_eq!(found, vec![4, 4 + a.len() as u64]);
        // Cut inside the second event: torn, at its start.
        let cut = &data[..data.len() - 3];
        let last = Walker::new(cut, 4, cut.len() as u64).last().unwrap();
        assert!(matches!(last, Err(WalkError::Torn { offset, .. }) if offset == 4 + a.len() as u64), "{last:?}");
        // A log_pos that does not continue the file is corruption.
        let mut bad = data.clone();
        bad[4 + 13] ^= 1;
        let r = Walker::new(&bad[..], 4, bad.len() as u64).next().unwrap();
        assert!(matches!(r, Err(WalkError::Corrupt { offset: 4, .. })), "{r:?}");
        // A size under a header is corruption.
        let mut small = data.clone();
        small[4 + 9..4 + 13].copy_from_slice(&10u32.to_le_bytes());
        assert!(matches!(Walker::new(&small[..], 4, small.len() as u64).next(), Some(Err(WalkError::Corrupt { .. }))));
    }

    #[test]
    fn a_step_on_header_bytes_already_held_checks_what_a_walk_checks() {
        let a = make_event(EventType::QUERY, 4, b"one", false);
        let end = 4 + a.len() as u64;
        assert_eq!(found_at(&a, 4, end).unwrap().end(), end);
        // The event's end not yet readable: torn (a dump waits for it).
        assert!(matches!(found_at(&a, 4, end - 1), Err(WalkError::Torn { offset: 4, .. })));
        assert!(matches!(found_at(&a[..HEADER_LEN - 1], 4, end), Err(WalkError::Torn { .. })));
        // The same event where its log_pos says it is not: corruption.
        assert!(matches!(found_at(&a, 8, end + 4), Err(WalkError::Corrupt { offset: 8, .. })));
    }

    #[test]
    fn checks_crcs_as_the_format_description_says() {
        let fde = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mysql-9.7.4.000001"))
            .unwrap();
        let n = Walker::new(&fde[..], 4, fde.len() as u64).checking_crc().filter(|r| r.is_ok()).count();
        assert!(n > 3, "the golden file walks whole");
        let mut bad = fde.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        let err = Walker::new(&bad[..], 4, bad.len() as u64).checking_crc().find_map(|r| r.err());
        assert!(matches!(err, Some(WalkError::Corrupt { .. })), "{err:?}");
        assert!(Walker::new(&bad[..], 4, bad.len() as u64).all(|r| r.is_ok()), "without checking_crc, headers only");
    }
}
