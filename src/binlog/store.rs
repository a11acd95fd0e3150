//! The binlog directory: files under the primary's names, the `.index`, appends,
//! durability, and recovery on open.
//!
//! Rules that must hold:
//! - a file's bytes are the primary's bytes at the same offsets;
//! - after a crash only the tail of the last file can be incomplete, and recovery
//!   cuts it back to the last transaction boundary; closed files are never rewritten;
//! - a new file and the index are fsynced, and the directory after them.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use log::{debug, info, warn};

use super::event::{self, ChecksumAlg, EventError, EventHeader, EventType, HEADER_LEN, MAGIC};
use super::fs::{Fs, FsFile};
use super::gtid::{GtidSet, MariaPos};
use super::trx::Tracker;

/// Errors of the storage layer, each naming the file and offset.
#[derive(Debug)]
pub enum StoreError {
    Io {
        path: PathBuf,
        op: &'static str,
        err: io::Error,
    },
    /// Writing a binlog file at `offset` failed.
    Write {
        path: PathBuf,
        offset: u64,
        err: io::Error,
    },
    /// A stored event is broken somewhere other than the tail of the last file.
    Corrupt {
        file: String,
        offset: u64,
        what: String,
    },
    /// The index and the directory disagree.
    Index {
        path: PathBuf,
        what: String,
    },
    /// The stream does not continue the stored files.
    Stream {
        file: String,
        offset: u64,
        what: String,
    },
    BadName {
        name: String,
    },
    /// binlog_dir is no longer the directory this process locked.
    Replaced {
        what: String,
    },
    /// The primary's file `file` is not the one stored under that name, or does not
    /// continue the stored files: its binary log was begun again, or another server
    /// answers at its address. `what` says how it differs.
    OtherBinlog {
        file: String,
        what: String,
    },
    /// The primary moved on to `next` while `file` lacks its closing ROTATE/STOP
    /// (a GTID dump starts at the first file with a missing transaction, so it
    /// skips whatever ends the previous one). Fetch the rest by file+pos.
    Unfinished {
        file: String,
        len: u64,
        next: String,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io { path, op, err } => write!(f, "{op} {}: {err}", path.display()),
            StoreError::Write { path, offset, err } => write!(f, "write {}:{offset}: {err}", path.display()),
            StoreError::Corrupt { file, offset, what } => write!(f, "corrupt binlog {file}:{offset}: {what}"),
            StoreError::Index { path, what } => write!(f, "index {}: {what}", path.display()),
            StoreError::Stream { file, offset, what } => write!(f, "at {file}:{offset}: {what}"),
            StoreError::Unfinished { file, len, next } => write!(
                f,
                "the primary moved on to {next} but {file} ends at {len} without ROTATE or STOP; fetching the rest of {file} by file+pos"
            ),
            StoreError::Replaced { what } => write!(f, "{what}: stopping without touching it"),
            StoreError::OtherBinlog { file, what } => write!(
                f,
                "the primary's {file} {what}. Its binary log was begun again (RESET MASTER) or another server \
                 answers at its address: binlogd appends nothing of it and keeps serving the stored files. To mirror \
                 that binary log, start binlogd on a new binlog_dir"
            ),
            StoreError::BadName { name } => {
                write!(f, "refusing binlog file name {:?}: not a plain file name", truncate_for_log(name))
            }
        }
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    /// The file system holding binlog_dir is full, or the user's quota on it is
    /// spent: waiting for space can cure it, retrying at once cannot.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Io { err, .. } | StoreError::Write { err, .. } => {
                matches!(err.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
            }
            _ => false,
        }
    }
}

fn truncate_for_log(s: &str) -> String {
    if s.len() <= 80 {
        s.to_string()
    } else {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}... ({} bytes)", &s[..end], s.len())
    }
}

fn io_err<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |err| StoreError::Io { path: path.to_path_buf(), op, err }
}

/// A name the primary may give a binlog file: a plain name, no path, no dot-start.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// The `.index` file among a directory's entries: None when there is none, an error
/// when there are several (which one lists the files would be a guess).
pub fn pick_index(
    dir: &Path,
    entries: impl IntoIterator<Item = impl AsRef<str>>,
) -> Result<Option<PathBuf>, StoreError> {
    let mut found: Vec<PathBuf> = entries
        .into_iter()
        .filter(|n| n.as_ref().ends_with(".index") && !n.as_ref().starts_with('.'))
        .map(|n| dir.join(n.as_ref()))
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(StoreError::Index { path: dir.to_path_buf(), what: format!("more than one .index file: {found:?}") }),
    }
}

/// The file names an index lists, in order (a path's last component, as mysqld writes
/// `./name`); a line that is not a safe file name is an error naming it.
pub fn index_names(path: &Path, text: &str) -> Result<Vec<String>, StoreError> {
    let mut v = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let name = line.rsplit('/').next().unwrap_or(line);
        if !is_safe_name(name) {
            return Err(StoreError::Index {
                path: path.to_path_buf(),
                what: format!("line {}: bad file name {line:?}", i + 1),
            });
        }
        v.push(name.to_string());
    }
    Ok(v)
}

/// Fails if `dir` is the locked binlog_dir and is no longer the directory locked.
pub fn owned(dir: &Path) -> Result<(), StoreError> {
    super::owner::check(dir).map_err(|what| StoreError::Replaced { what })
}

/// `mysql-bin.000012` -> (`mysql-bin`, 12).
pub fn split_name(name: &str) -> Option<(&str, u64)> {
    let (base, num) = name.rsplit_once('.')?;
    if base.is_empty() || num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((base, num.parse().ok()?))
}

/// Can `next` be the file after `current`? The same base name and a higher number
/// (a name without a number is not compared).
fn follows(current: &str, next: &str) -> bool {
    match (split_name(current), split_name(next)) {
        (Some((b1, n1)), Some((b2, n2))) => b1 == b2 && n2 > n1,
        _ => true,
    }
}

/// Where to ask the primary to continue from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResumePoint {
    /// File and position to continue by file+pos; None on an empty directory.
    pub file: Option<(String, u64)>,
    /// MySQL GTIDs of every complete transaction stored.
    pub gtids: GtidSet,
    /// MariaDB position after the last complete transaction stored.
    pub maria: MariaPos,
}

/// The file being appended to.
struct Active {
    name: String,
    /// binlog_dir joined with `name`, for errors.
    path: PathBuf,
    file: Box<dyn FsFile>,
    /// Bytes in the file (written or buffered).
    len: u64,
    /// The file holds zeros from `len` (or what is written) up to here: space
    /// preallocated so that an fsync after an append does not change the file's size.
    zeroed_to: u64,
    /// A preallocation failed (a full disk): the next is tried once `len` is past this.
    prealloc_retry_at: u64,
    /// Offset after the last complete transaction.
    trx_end: u64,
    /// The file ended with ROTATE or STOP.
    closed: bool,
    /// The last event placed was one already stored (a resent one).
    after_stored: bool,
    tracker: Tracker,
    /// Appended but not yet written.
    pending: Pending,
    /// A large event being written piece by piece; `len` moves past it only at its end.
    partial: Option<Partial>,
}

/// A large event arriving in pieces.
struct Partial {
    hdr: EventHeader,
    start: u64,
    /// Bytes of it received so far.
    got: u64,
    /// Already stored: compare instead of writing.
    stored: bool,
    /// Its first bytes, enough for the transaction tracker.
    head: Vec<u8>,
}

/// Bytes of a streamed event kept for the tracker (a QUERY's statement start).
const PARTIAL_HEAD: usize = 64 << 10;

/// Block size and address alignment of direct (O_DIRECT) writes.
const DIRECT_ALIGN: u64 = 4096;
/// Writes at least this large are made with direct I/O.
const DIRECT_MIN: usize = 1 << 20;
/// The store writes its pending bytes once this many are held. Large enough that a
/// catch-up goes to disk at its full rate (4 and 8 MiB direct writes measured the same
/// here), small enough to stay well inside the memory budget with the reader's queue.
const PENDING_WRITE: usize = 4 << 20;
/// The largest event the reader hands over whole (larger ones come in pieces).
const WHOLE_EVENT_MAX: usize = 1 << 20;

/// Bytes appended to the active file and not yet written: `buf[lead..]`, from file
/// offset `at`. `lead` gives each byte an address with the same alignment as its
/// file offset (modulo `DIRECT_ALIGN`), so the whole blocks of a large write can go
/// to disk straight from this buffer, with no copy.
#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    lead: usize,
    at: u64,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.buf.len() <= self.lead
    }

    fn len(&self) -> usize {
        self.buf.len().saturating_sub(self.lead)
    }

    fn bytes(&self) -> &[u8] {
        self.buf.get(self.lead..).unwrap_or(&[])
    }

    /// Appends `ev`, which goes at file offset `at` if nothing is pending.
    fn push(&mut self, at: u64, ev: &[u8]) {
        if self.is_empty() {
            self.restart(at);
        }
        self.buf.extend_from_slice(ev);
    }

    /// Empties the buffer; the next bytes go at file offset `at`.
    fn restart(&mut self, at: u64) {
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

/// The binlog directory, open for appending.
pub struct Store {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    files: Vec<String>,
    active: Option<Active>,
    /// GTID state of the files before the active one's start (for MySQL: its Previous_gtids).
    gtids: GtidSet,
    maria: MariaPos,
    /// ROTATE target of a closed last file that is not created yet.
    next: Option<String>,
    default_alg: ChecksumAlg,
    /// Shared with purges: its lock guards index rewrites, and names purged meanwhile
    /// are dropped from `files`.
    share: Option<Arc<super::purge::IndexShare>>,
    share_seen: u64,
    /// Bytes of zeros kept ahead of the active file's end (`preallocate`); 0: none.
    prealloc: u64,
}

impl Store {
    /// Opens `dir`, creating it if missing, and recovers the tail of the last file.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Self::open_on(super::fs::os(), dir)
    }

    /// Like `open`, on the given file system.
    pub fn open_on(fs: Arc<dyn Fs>, dir: &Path) -> Result<Store, StoreError> {
        fs.create_dir_all(dir).map_err(io_err(dir, "create directory"))?;
        owned(dir)?;
        let mut s = Store {
            fs,
            dir: dir.to_path_buf(),
            files: Vec::new(),
            active: None,
            gtids: GtidSet::default(),
            maria: MariaPos::default(),
            next: None,
            default_alg: ChecksumAlg::CRC32,
            share: None,
            share_seen: 0,
            prealloc: 0,
        };
        super::purge::finish_interrupted(dir)?;
        s.load_index()?;
        s.recover()?;
        Ok(s)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// From now on, index rewrites take `share`'s lock and purges are followed.
    pub fn share_index(&mut self, share: Arc<super::purge::IndexShare>) {
        self.share_seen = share.generation();
        self.share = Some(share);
    }

    /// Drops the names a purge removed since the last look.
    fn follow_purges(&mut self) {
        let Some(sh) = self.share.clone() else { return };
        if sh.generation() == self.share_seen {
            return;
        }
        let g = sh.lock();
        self.share_seen = sh.generation();
        if let Some(first) = g.as_deref() {
            super::purge::drop_purged(&mut self.files, first);
        }
    }

    fn index_path_for(&self, name: &str) -> PathBuf {
        let base = split_name(name).map_or(name, |(b, _)| b);
        self.dir.join(format!("{base}.index"))
    }

    fn fsync_dir(&self) -> Result<(), StoreError> {
        self.fs.sync_dir(&self.dir).map_err(io_err(&self.dir, "fsync directory"))
    }

    /// Binlog-shaped names (`base.NNNN`) among `names` (directory entries), in order.
    /// Each name is parsed once, not at each comparison of the sort.
    fn dir_binlogs<'a>(names: impl Iterator<Item = &'a String>, base: Option<&str>) -> Vec<String> {
        let mut v: Vec<(u64, &String)> = names
            .filter_map(|n| {
                let (b, k) = split_name(n)?;
                (base.is_none_or(|x| x == b) && is_safe_name(n)).then_some((k, n))
            })
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, n)| n.clone()).collect()
    }

    fn load_index(&mut self) -> Result<(), StoreError> {
        // One listing serves every question below: a restart's time does not grow
        // with the number of files stored more than it must.
        let listed = self.fs.list(&self.dir).map_err(io_err(&self.dir, "read directory"))?;
        let Some(path) = pick_index(&self.dir, &listed)? else {
            // No index: either a fresh directory, or a crash between creating the
            // first file and writing the index.
            let found = Self::dir_binlogs(listed.iter(), None);
            match found.len() {
                0 => return Ok(()),
                1 => {
                    warn!("binlog {} is not in any index; adding it (crash after creating the file)", found[0]);
                    self.files = found;
                    return self.write_index();
                }
                _ => {
                    return Err(StoreError::Index {
                        path: self.dir.clone(),
                        what: format!("binlog files {found:?} but no .index file"),
                    })
                }
            }
        };
        let bytes = self.fs.map(&path).map_err(io_err(&path, "read index"))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| StoreError::Index { path: path.clone(), what: "not UTF-8 text".into() })?;
        // One listing instead of a stat per file, and one pass over it: the entries the
        // index names are counted, the others kept as candidates for files it lacks.
        // Thousands of files open about as fast as a few.
        let names = index_names(&path, text)?;
        let indexed: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        let (mut found, mut others) = (0, Vec::new());
        for n in &listed {
            if indexed.contains(n.as_str()) {
                found += 1;
            } else {
                others.push(n);
            }
        }
        if found < indexed.len() {
            let present: std::collections::HashSet<&str> = listed.iter().map(String::as_str).collect();
            if let Some(name) = names.iter().find(|n| !present.contains(n.as_str())) {
                return Err(StoreError::Index {
                    path: path.clone(),
                    what: format!("{name} is listed but missing from {}", self.dir.display()),
                });
            }
        }
        self.files = names;
        let base = self.files.first().and_then(|n| split_name(n)).map(|(b, _)| b.to_string());
        let mut extra = Self::dir_binlogs(others.into_iter(), base.as_deref());
        if let (Some(last), Some(first_extra)) = (self.files.last(), extra.first()) {
            let succ = split_name(last).map(|(_, k)| k + 1);
            if extra.len() == 1 && split_name(first_extra).map(|(_, k)| k) == succ {
                warn!("binlog {first_extra} is not in the index; adding it (crash after creating the file)");
                self.files.push(extra.remove(0));
                self.write_index()?;
            }
        }
        if !extra.is_empty() {
            return Err(StoreError::Index {
                path,
                what: format!("files in the directory but not in the index: {extra:?}"),
            });
        }
        Ok(())
    }

    /// Rewrites the index atomically: tmp file, fsync, rename, directory fsync.
    fn write_index(&mut self) -> Result<(), StoreError> {
        owned(&self.dir)?;
        let sh = self.share.clone();
        let guard = sh.as_ref().map(|s| s.lock());
        if let (Some(s), Some(g)) = (&sh, &guard) {
            self.share_seen = s.generation();
            if let Some(first) = g.as_deref() {
                super::purge::drop_purged(&mut self.files, first);
            }
        }
        let Some(first) = self.files.first() else {
            return Ok(());
        };
        let path = self.index_path_for(first);
        let tmp = path.with_extension("index.tmp");
        let mut text = String::new();
        for f in &self.files {
            text.push_str(f);
            text.push('\n');
        }
        let exists = self.fs.is_file(&tmp);
        let mut f = self.fs.open(&tmp, !exists).map_err(io_err(&tmp, "create"))?;
        f.set_len(0).map_err(io_err(&tmp, "truncate"))?;
        f.write_at(text.as_bytes(), 0).map_err(io_err(&tmp, "write"))?;
        f.sync().map_err(io_err(&tmp, "fsync"))?;
        self.fs.rename(&tmp, &path).map_err(io_err(&path, "rename"))?;
        self.fsync_dir()
    }

    /// Copies `name`'s bytes `[from, to)`, about to be cut, to `<name>.torn-<from>`
    /// and makes the copy durable first: bytes found after an unwritten page may be
    /// whole events, and recovery deletes nothing that could matter. The primary
    /// sends the cut transactions again.
    fn keep_aside(&self, file: &dyn FsFile, name: &str, from: u64, to: u64) -> Result<(), StoreError> {
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
    fn recover(&mut self) -> Result<(), StoreError> {
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
        if scan.closed {
            self.next = scan.rotate_to.clone();
        }
        self.default_alg = if tracker.saw_fde { tracker.alg } else { ChecksumAlg::CRC32 };
        self.gtids = tracker.gtids.clone();
        self.maria = tracker.maria.clone();
        self.active = Some(Active {
            name: last,
            path,
            file,
            len: scan.cut_at,
            zeroed_to: scan.cut_at,
            prealloc_retry_at: 0,
            trx_end: scan.cut_at,
            closed: scan.closed,
            after_stored: false,
            tracker,
            pending: Pending::default(),
            partial: None,
        });
        Ok(())
    }

    /// Where the primary should continue from.
    pub fn resume_point(&self) -> ResumePoint {
        let (gtids, maria) = match &self.active {
            Some(a) => (a.tracker.gtids.clone(), a.tracker.maria.clone()),
            None => (self.gtids.clone(), self.maria.clone()),
        };
        let file = match (&self.active, &self.next) {
            (Some(a), Some(n)) if a.closed => Some((n.clone(), 4)),
            (Some(a), _) => Some((a.name.clone(), a.trx_end)),
            (None, _) => None,
        };
        ResumePoint { file, gtids, maria }
    }

    /// The GTID state after the last complete transaction appended.
    pub fn gtid_state(&self) -> (&GtidSet, &MariaPos) {
        match &self.active {
            Some(a) => (&a.tracker.gtids, &a.tracker.maria),
            None => (&self.gtids, &self.maria),
        }
    }

    pub fn active_name(&self) -> Option<&str> {
        self.active.as_ref().map(|a| a.name.as_str())
    }

    /// The active file and how far it is filled, without copying its name.
    pub fn active_end(&self) -> Option<(&str, u64)> {
        self.active.as_ref().map(|a| (a.name.as_str(), a.len))
    }

    /// Durable length of the active file (what recovery would keep).
    pub fn position(&self) -> Option<(String, u64)> {
        self.active.as_ref().map(|a| (a.name.clone(), a.len))
    }

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
        if let Some(a) = &self.active {
            if a.name == name {
                if pos > a.len {
                    return Err(StoreError::Stream {
                        file: name.into(),
                        offset: a.len,
                        what: format!("primary resumes at {pos}, past the {} bytes stored", a.len),
                    });
                }
                return Ok(());
            }
            if self.files.iter().any(|f| f == name) {
                return Err(StoreError::Stream {
                    file: name.into(),
                    offset: pos,
                    what: "primary went back to a file that is already complete here".into(),
                });
            }
            if !a.closed && a.len > 4 {
                return Err(StoreError::Unfinished { file: a.name.clone(), len: a.len, next: name.to_string() });
            }
            if !follows(&a.name, name) {
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
        self.create_file(name)
    }

    fn create_file(&mut self, name: &str) -> Result<(), StoreError> {
        owned(&self.dir)?;
        self.flush()?;
        if let Some(a) = self.active.as_mut() {
            a.file.sync().map_err(io_err(&a.path, "fsync"))?;
        }
        let path = self.dir.join(name);
        let mut file = self.fs.open(&path, true).map_err(io_err(&path, "create"))?;
        file.write_at(&MAGIC, 0).map_err(io_err(&path, "write"))?;
        file.sync().map_err(io_err(&path, "fsync"))?;
        self.fsync_dir()?;
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
            closed: false,
            after_stored: false,
            tracker,
            pending: Pending::default(),
            partial: None,
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

    /// The active file, for an event that must go into one.
    fn active_for(&mut self, h: &EventHeader) -> Result<&mut Active, StoreError> {
        let a = self.active.as_mut().ok_or_else(|| StoreError::Stream {
            file: String::new(),
            offset: 0,
            what: format!("{} event before the primary named a file", h.event_type),
        })?;
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
        let a = self.active.as_mut().ok_or_else(|| StoreError::Stream {
            file: String::new(),
            offset: 0,
            what: "event piece without a file".into(),
        })?;
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
        let a = self.active.as_mut().ok_or_else(|| StoreError::Stream {
            file: String::new(),
            offset: 0,
            what: "event end without a file".into(),
        })?;
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
    fn close_active(&mut self) -> Result<(), StoreError> {
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
        if let Some(next) = self.next.clone() {
            self.create_file(&next)?;
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
        let Some(a) = self.active.as_mut() else {
            return Ok(None);
        };
        a.write_pending()?;
        a.file.sync().map_err(io_err(&a.path, "fsync"))?;
        Ok(Some((a.name.clone(), a.len)))
    }

    /// Cuts a partial transaction at the end (before resuming with a new connection).
    pub fn cut_partial(&mut self) -> Result<(), StoreError> {
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
        match self.active.as_mut() {
            Some(a) if a.partial.is_none() => {
                a.write_pending()?;
                a.drop_zeros()
            }
            _ => Ok(()),
        }
    }
}

impl Active {
    /// Cuts the preallocated zeros off (no fsync: the caller's follows).
    fn drop_zeros(&mut self) -> Result<(), StoreError> {
        if self.zeroed_to > self.len {
            self.cut_to(self.len)?;
        }
        Ok(())
    }

    /// Cuts the file to `at` bytes, preallocated zeros with the rest (no fsync).
    fn cut_to(&mut self, at: u64) -> Result<(), StoreError> {
        self.file.set_len(at).map_err(io_err(&self.path, "truncate"))?;
        self.zeroed_to = at;
        Ok(())
    }

    /// Where an event of `size` bytes ending at `h.log_pos` goes: (start, already stored).
    /// Anything that does not continue the file, or follows its ROTATE/STOP, is an error.
    /// An event with log_pos 0 (inside a transaction, from MariaDB 11.4 on) continues
    /// the file where it stands, which only holds after an event that was new.
    fn place(&self, h: &EventHeader, size: u64) -> Result<(u64, bool), StoreError> {
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

    fn write_pending(&mut self) -> Result<(), StoreError> {
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
            && (bytes[head..].as_ptr() as usize) % DIRECT_ALIGN as usize == 0
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
    fn check_rotate(&self, start: u64, ev: &[u8]) -> Result<String, StoreError> {
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

    fn check_continues(&self, h: &EventHeader, ev: &[u8]) -> Result<(), StoreError> {
        // What does not decode is the tracker's to report, with its offset.
        let Ok(body) = event::body(ev, self.tracker.alg) else { return Ok(()) };
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

    /// The FDE a primary sends at the start of a dump from inside this file: it must
    /// be the stored one's, as the primary sends it again.
    fn check_resent_fde(&mut self, ev: &[u8]) -> Result<(), StoreError> {
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

    fn same_file(&self, have: &[u8], ev: &[u8]) -> Result<(), StoreError> {
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

    fn compare_stored(&mut self, start: u64, ev: &[u8]) -> Result<(), StoreError> {
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

/// When, by which server and which version a file was begun, from its FDE.
fn describe_fde(ev: &[u8]) -> String {
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
    while pos < data.len() {
        let res = (|| -> Result<(EventHeader, usize), EventError> {
            let rest = &data[pos..];
            if rest.len() < HEADER_LEN {
                return Err(EventError::Malformed(format!("{} bytes of a partial event header", rest.len())));
            }
            let h = EventHeader::decode(rest)?;
            let size = h.event_size as usize;
            if size > rest.len() {
                return Err(EventError::Malformed(format!(
                    "partial event: {size} bytes announced, {} present",
                    rest.len()
                )));
            }
            let ev = &rest[..size];
            let alg = if h.event_type == EventType::FORMAT_DESCRIPTION {
                event::FormatDescription::decode(ev)?.checksum
            } else {
                t.alg
            };
            if alg == ChecksumAlg::CRC32 {
                event::verify_crc(ev)?;
            }
            // log_pos 0: an event inside a transaction from MariaDB 11.4 on.
            if h.log_pos != 0 && u64::from(h.log_pos) != (pos + size) as u64 {
                return Err(EventError::Malformed(format!(
                    "log_pos {} but the event ends at {}",
                    h.log_pos,
                    pos + size
                )));
            }
            Ok((h, size))
        })();
        let (h, size) = match res {
            Ok(x) => x,
            Err(e) => {
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
fn is_torn_tail(rest: &[u8]) -> bool {
    if rest.len() < HEADER_LEN {
        return true;
    }
    match EventHeader::decode(rest) {
        Ok(h) => h.event_size as usize >= rest.len(),
        Err(_) => false,
    }
}

/// How many bytes at the end of `data` are zeros.
fn trailing_zeros(data: &[u8]) -> usize {
    data.iter().rev().take_while(|&&b| b == 0).count()
}

/// Page size of the file systems binlogd runs on: the unit a lost write leaves as zeros.
const PAGE: usize = 4096;

/// The offset of a whole page of zeros that overlaps the bad event at `pos` (its
/// announced extent, or the zeros it starts with when its header is zeros too), if any.
///
/// After a power failure, pages written after the last fsync may be missing from a
/// file whose length did reach the disk: they read as zeros, with later pages that
/// did reach it after them. Everything past the last fsync was never acknowledged,
/// and a hole can only be past it. A bad event that is not such a page is corruption.
fn unwritten_page(data: &[u8], pos: usize) -> Option<usize> {
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
fn tracker_until(data: &[u8], end: usize) -> Result<Tracker, StoreError> {
    let mut t = Tracker::new(ChecksumAlg::OFF);
    let mut pos = 4;
    while pos < end {
        let h = EventHeader::decode(&data[pos..]).map_err(|e| StoreError::Corrupt {
            file: String::new(),
            offset: pos as u64,
            what: e.to_string(),
        })?;
        let size = h.event_size as usize;
        let ev = data.get(pos..pos + size).ok_or_else(|| StoreError::Corrupt {
            file: String::new(),
            offset: pos as u64,
            what: "event runs past the end".into(),
        })?;
        t.feed(&h, ev).map_err(|e| StoreError::Corrupt {
            file: String::new(),
            offset: pos as u64,
            what: e.to_string(),
        })?;
        pos += size;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_lists_names_and_a_bad_line_is_named() {
        let p = Path::new("/b/mysql-bin.index");
        assert_eq!(
            index_names(p, "./mysql-bin.000001\n\nmysql-bin.000002\n").unwrap(),
            ["mysql-bin.000001", "mysql-bin.000002"]
        );
        let e = index_names(p, "./mysql-bin.000001\n\n..\n").unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("mysql-bin.index"), "{e}");
        let two = ["a.index".to_string(), "b.index".to_string(), ".hidden.index".to_string()];
        assert!(pick_index(Path::new("/b"), two).is_err());
        assert_eq!(pick_index(Path::new("/b"), ["a.index".to_string()]).unwrap(), Some(PathBuf::from("/b/a.index")));
    }
    use crate::binlog::fs::SimFs;
    use crate::binlog::test_files::{as_resent, begun_later, golden, maria_file, with_previous_gtids};
    use crate::test_dir::TestDir;
    use std::fs;

    const MARIADB: &str = "mariadb-10.11.19.000001";
    const MYSQL: &str = "mysql-9.7.4.000001";
    /// Two of its transactions are compressed: one Transaction_payload event each.
    const COMPRESSED: &str = "mysql-9.7.4-compressed.000001";

    fn tmp(tag: &str) -> TestDir {
        TestDir::new(&format!("store-{tag}"))
    }

    /// Offsets where each event of a valid file ends.
    fn event_ends(data: &[u8]) -> Vec<usize> {
        let mut v = Vec::new();
        let mut pos = 4;
        while pos < data.len() {
            let h = EventHeader::decode(&data[pos..]).unwrap();
            pos += h.event_size as usize;
            v.push(pos);
        }
        v
    }

    fn put_dir(dir: &Path, name: &str, data: &[u8]) {
        fs::write(dir.join(name), data).unwrap();
        fs::write(dir.join("binlog.index"), format!("{name}\n")).unwrap();
    }

    #[test]
    fn golden_files_scan_clean_and_closed() {
        for (name, flavor) in [(MARIADB, "mariadb"), (MYSQL, "mysql"), (COMPRESSED, "mysql")] {
            let d = tmp(&format!("scan-{name}"));
            fs::write(d.join("binlog.000001"), golden(name)).unwrap();
            let (scan, t) = scan_file(&crate::binlog::fs::OsFs, &d.join("binlog.000001"), name, false).unwrap();
            assert!(scan.closed, "{name} ends with ROTATE");
            assert_eq!(scan.cut_at, scan.len);
            assert!(scan.events > 10, "{name}: {} events", scan.events);
            if name == COMPRESSED {
                assert_eq!(t.gtids.to_string(), "78543647-e714-11f1-bb99-02fc00000001:1-4");
            }
            assert_eq!(scan.rotate_to.as_deref(), Some("mysql-bin.000002"));
            match flavor {
                "mariadb" => assert!(!t.maria.is_empty(), "MariaDB GTIDs tracked"),
                _ => assert!(!t.gtids.is_empty(), "MySQL GTIDs tracked"),
            }
        }
    }

    #[test]
    fn recovery_cuts_a_torn_tail_back_to_a_transaction_boundary() {
        for name in [MARIADB, MYSQL, COMPRESSED] {
            let full = golden(name);
            let ends = event_ends(&full);
            // Boundaries as the tracker sees them, from a clean scan of each prefix.
            for cut in (5..full.len()).step_by(7).chain(ends.iter().copied()) {
                let d = tmp("torn");
                put_dir(&d, "mysql-bin.000001", &full[..cut]);
                let s = Store::open(&d).unwrap_or_else(|e| panic!("{name} cut at {cut}: {e}"));
                let kept = fs::read(d.join("mysql-bin.000001")).unwrap();
                assert!(kept.len() <= cut && full.starts_with(&kept), "{name} cut at {cut}");
                assert!(
                    kept.len() == 4 || ends.contains(&kept.len()),
                    "{name}: kept {} is not an event end",
                    kept.len()
                );
                let rp = s.resume_point();
                let want = if kept.len() == full.len() {
                    ("mysql-bin.000002", 4)
                } else {
                    ("mysql-bin.000001", kept.len() as u64)
                };
                assert_eq!(rp.file, Some((want.0.to_string(), want.1)));
                // The kept prefix must itself end at a boundary: scanning it strictly agrees.
                let (scan, _) = scan_file(&crate::binlog::fs::OsFs, &d.join("mysql-bin.000001"), name, true).unwrap();
                assert_eq!(scan.cut_at, kept.len() as u64, "{name} cut at {cut}");
            }
        }
    }

    #[test]
    fn recovery_cuts_an_event_torn_inside_preallocated_zeros() {
        for name in [MARIADB, MYSQL, COMPRESSED] {
            let full = golden(name);
            let ends = event_ends(&full);
            // Zeros are preallocated only once the FDE is on disk, so tears come after it.
            for cut in (ends[0]..full.len()).step_by(5).chain(ends.iter().copied()) {
                let d = tmp("torn-zeros");
                put_dir(&d, "mysql-bin.000001", &[&full[..cut], &[0u8; 9000][..]].concat());
                let s = Store::open(&d).unwrap_or_else(|e| panic!("{name} cut at {cut}: {e}"));
                let kept = fs::read(d.join("mysql-bin.000001")).unwrap();
                assert!(kept.len() <= cut && full.starts_with(&kept), "{name} cut at {cut}: kept {}", kept.len());
                assert!(ends.contains(&kept.len()), "{name} cut at {cut}: kept {} is not an event end", kept.len());
                if kept.len() < full.len() {
                    assert_eq!(s.resume_point().file, Some(("mysql-bin.000001".to_string(), kept.len() as u64)));
                }
            }
        }
    }

    #[test]
    fn preallocated_zeros_stay_ahead_and_a_closed_file_is_the_primarys_bytes() {
        let gtids: Vec<(u32, u32, u64)> = (1..=400).map(|n| (0, 1, n)).collect();
        let full = maria_file(&[], &gtids, "mysql-bin.000002");
        let d = tmp("prealloc");
        let path = d.join("mysql-bin.000001");
        let mut s = Store::open(&d).unwrap();
        s.set_preallocate(8192);
        s.switch_to("mysql-bin.000001", 4).unwrap();
        let mut pos = 4;
        let mut top_ups = 0;
        for end in event_ends(&full) {
            let ev = &full[pos..end];
            s.append(&EventHeader::decode_exact(ev).unwrap(), ev).unwrap();
            pos = end;
            if end == full.len() {
                break;
            }
            // As the writer does after each synced batch.
            s.sync().unwrap();
            top_ups += usize::from(s.preallocate().unwrap());
            // Whole pages on disk, at least half the preallocation past the end, zeros.
            let disk = fs::read(&path).unwrap();
            assert!(disk.len() % 4096 == 0 && disk.len() >= end + 4096, "{} bytes at {end}", disk.len());
            assert!(disk[end..].iter().all(|&b| b == 0) && disk[..end] == full[..end]);
        }
        assert!(top_ups > 3, "topped up as the file grew: {top_ups} times for {} bytes", full.len());
        // The ROTATE closed the file: exactly the primary's bytes, as a real replica's.
        assert_eq!(fs::read(&path).unwrap(), full);
    }

    #[test]
    fn trim_leaves_the_primarys_bytes_and_recovery_agrees() {
        let full = golden(MYSQL);
        let ends = event_ends(&full);
        let half = ends[ends.len() / 2];
        let d = tmp("prealloc-trim");
        let mut s = Store::open(&d).unwrap();
        s.set_preallocate(1 << 20);
        feed_file(&mut s, "mysql-bin.000001", &full[..half]).unwrap();
        s.sync().unwrap();
        assert!(s.preallocate().unwrap());
        assert!(!s.preallocate().unwrap(), "more than half is still ahead: nothing to do");
        let path = d.join("mysql-bin.000001");
        assert_eq!(fs::metadata(&path).unwrap().len(), (half as u64 + (1 << 20)).next_multiple_of(4096));
        let at = s.position();
        // A crash here leaves the zeros: recovery cuts them and resumes at the same place.
        drop(s);
        let mut s = Store::open(&d).unwrap();
        assert_eq!(fs::read(&path).unwrap(), &full[..half]);
        assert_eq!(s.position(), at);
        s.set_preallocate(1 << 20);
        s.sync().unwrap();
        assert!(s.preallocate().unwrap());
        // A stop gives them back.
        s.trim().unwrap();
        assert_eq!(fs::read(&path).unwrap(), &full[..half]);
    }

    #[test]
    fn a_preallocation_refused_by_a_full_disk_is_given_back_and_writing_goes_on() {
        let sim = SimFs::new();
        let fs: Arc<dyn Fs> = Arc::new(sim.clone());
        let dir = Path::new("/sim/full");
        let full = golden(MYSQL);
        let ends = event_ends(&full);
        let mut s = Store::open_on(fs.clone(), dir).unwrap();
        s.set_preallocate(1 << 20);
        sim.limit_size(Some(full.len() as u64 + 100));
        feed_file(&mut s, "mysql-bin.000001", &full[..ends[ends.len() / 2]]).unwrap();
        s.sync().unwrap();
        assert!(!s.preallocate().unwrap(), "the zeros do not fit");
        let path = dir.join("mysql-bin.000001");
        assert_eq!(sim.contents(&path).unwrap(), &full[..ends[ends.len() / 2]], "the space is given back");
        let mut pos = ends[ends.len() / 2];
        for &end in &ends[ends.len() / 2 + 1..] {
            let ev = &full[pos..end];
            s.append(&EventHeader::decode_exact(ev).unwrap(), ev).unwrap();
            s.sync().unwrap();
            s.preallocate().unwrap();
            pos = end;
        }
        assert_eq!(sim.contents(&path).unwrap(), full);
    }

    #[test]
    fn recovery_keeps_the_gtids_of_complete_transactions_only() {
        let full = golden(MYSQL);
        let d = tmp("gtids");
        put_dir(&d, "mysql-bin.000001", &full);
        let all = Store::open(&d).unwrap().resume_point();
        assert_eq!(all.file, Some(("mysql-bin.000002".into(), 4)), "closed file resumes at the ROTATE target");
        // Cut inside the last transaction: its GTID must not be in the resume set.
        let ends = event_ends(&full);
        let cut = ends[ends.len() - 3] + 1;
        put_dir(&d, "mysql-bin.000001", &full[..cut]);
        let part = Store::open(&d).unwrap().resume_point();
        assert!(part.gtids.is_subset(&all.gtids) && part.gtids != all.gtids, "{} vs {}", part.gtids, all.gtids);
    }

    #[test]
    fn refuses_corruption_before_the_tail_and_deletes_nothing() {
        let mut data = golden(MARIADB);
        let ends = event_ends(&data);
        let mid = ends[ends.len() / 2] + 25;
        data[mid] ^= 0x55;
        let d = tmp("corrupt");
        put_dir(&d, "mysql-bin.000001", &data);
        match Store::open(&d) {
            Err(StoreError::Corrupt { file, offset, .. }) => {
                assert_eq!(file, "mysql-bin.000001");
                assert!(offset as usize <= mid);
            }
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("corruption accepted"),
        }
        assert_eq!(fs::read(d.join("mysql-bin.000001")).unwrap(), data, "nothing may be cut");
    }

    /// The golden MariaDB file up to its first row transaction, then `n` transactions
    /// of its GTID, TABLE_MAP, a row event of `rows` bytes and its XID, each event
    /// with its own position and CRC32.
    fn trx_stream(n: usize, rows: usize) -> Vec<u8> {
        trx_stream_with(n, rows, false)
    }

    /// With `no_pos`, the events inside each transaction have log_pos 0, as MariaDB
    /// 11.4 and later write them.
    fn trx_stream_with(n: usize, rows: usize, no_pos: bool) -> Vec<u8> {
        let g = golden(MARIADB);
        let ends = event_ends(&g);
        let body = |i: usize| g[ends[i] + HEADER_LEN..ends[i + 1] - 4].to_vec();
        let (gtid, map, xid) = (body(5), body(7), body(9));
        let mut v = g[..ends[5]].to_vec();
        let push = |v: &mut Vec<u8>, t: u8, flags: u16, b: &[u8]| {
            let size = HEADER_LEN + b.len() + 4;
            let mut e = vec![0u8; HEADER_LEN];
            e[4] = t;
            e[5] = 1;
            e[9..13].copy_from_slice(&(size as u32).to_le_bytes());
            let inside = no_pos && (t == 19 || t == 23);
            let end = if inside { 0 } else { (v.len() + size) as u32 };
            e[13..17].copy_from_slice(&end.to_le_bytes());
            e[17..19].copy_from_slice(&flags.to_le_bytes());
            e.extend_from_slice(b);
            let c = crc32fast::hash(&e);
            e.extend_from_slice(&c.to_le_bytes());
            v.extend_from_slice(&e);
        };
        for i in 0..n {
            let mut gt = gtid.clone();
            gt[..8].copy_from_slice(&(100 + i as u64).to_le_bytes());
            push(&mut v, 162, 8, &gt);
            push(&mut v, 19, 0, &map);
            push(&mut v, 23, 0, &vec![(i % 251) as u8 | 1; rows]);
            push(&mut v, 16, 0, &xid);
        }
        v
    }

    #[test]
    fn recovery_keeps_what_follows_an_unwritten_page_aside_and_resumes_before_it() {
        let data = trx_stream(40, 1500);
        let ends = event_ends(&data);
        assert!(data.len() > 14 * PAGE && ends.len() > 100);
        for page in 2..14 {
            let mut holed = data.clone();
            holed[page * PAGE..(page + 1) * PAGE].fill(0);
            let d = tmp("hole");
            put_dir(&d, "mysql-bin.000001", &holed);
            let s = Store::open(&d).unwrap_or_else(|e| panic!("hole at page {page}: {e}"));
            let kept = fs::read(d.join("mysql-bin.000001")).unwrap();
            let k = kept.len();
            assert!(k <= page * PAGE && k > page * PAGE - 2000 && data.starts_with(&kept), "page {page}: kept {k}");
            assert!(ends.contains(&k), "page {page}: kept {k} is not an event end");
            assert_eq!(s.resume_point().file, Some(("mysql-bin.000001".into(), k as u64)));
            let side = fs::read(d.join(format!("mysql-bin.000001.torn-{k}")))
                .unwrap_or_else(|e| panic!("page {page}: no side file for {k}: {e}"));
            assert_eq!(side, holed[k..], "page {page}: the side file holds the cut bytes as found");
            // The side file is no binlog: the next start finds the same files.
            drop(s);
            let again = Store::open(&d).unwrap();
            assert_eq!(again.files(), ["mysql-bin.000001"]);
        }
        // Zeros shorter than a page in the middle are corruption, as before.
        let mut bad = data.clone();
        bad[5 * PAGE + 100..5 * PAGE + 400].fill(0);
        let d = tmp("hole-short");
        put_dir(&d, "mysql-bin.000001", &bad);
        assert!(matches!(Store::open(&d), Err(StoreError::Corrupt { .. })));
        assert_eq!(fs::read(d.join("mysql-bin.000001")).unwrap(), bad, "nothing may be cut");
    }

    #[test]
    fn only_a_full_file_system_or_spent_quota_counts_as_disk_full() {
        let w = |errno| StoreError::Write {
            path: "/d/b.000001".into(),
            offset: 4,
            err: io::Error::from_raw_os_error(errno),
        };
        assert!(w(libc::ENOSPC).is_disk_full());
        assert!(w(libc::EDQUOT).is_disk_full());
        assert!(!w(libc::EIO).is_disk_full());
        assert_eq!(
            w(libc::ENOSPC).to_string().split(" (os error").next(),
            Some("write /d/b.000001:4: No space left on device")
        );
        let io = StoreError::Io { path: "/d".into(), op: "fsync", err: io::Error::from_raw_os_error(libc::ENOSPC) };
        assert!(io.is_disk_full());
        assert!(!StoreError::BadName { name: "x".into() }.is_disk_full());
        assert!(super::super::fs::free_space(Path::new("/")).is_ok());
    }

    #[test]
    fn index_that_disagrees_with_the_directory_is_an_error() {
        let g = golden(MARIADB);
        let d = tmp("index-missing");
        put_dir(&d, "mysql-bin.000001", &g);
        fs::write(d.join("binlog.index"), "mysql-bin.000001\nmysql-bin.000002\n").unwrap();
        match Store::open(&d) {
            Err(StoreError::Index { what, .. }) => {
                assert!(what.starts_with("mysql-bin.000002 is listed but missing"), "{what}")
            }
            other => panic!("{:?}", other.map(|s| s.files().to_vec())),
        }

        // Files the index lacks are named in their numbers' order, 10 after 9, and a
        // file of another base name is not one of them.
        let d = tmp("index-extra");
        put_dir(&d, "mysql-bin.000001", &g);
        for n in ["mysql-bin.000010", "mysql-bin.000009", "other-bin.000002"] {
            fs::write(d.join(n), &g).unwrap();
        }
        match Store::open(&d) {
            Err(StoreError::Index { what, .. }) => assert_eq!(
                what,
                "files in the directory but not in the index: [\"mysql-bin.000009\", \"mysql-bin.000010\"]"
            ),
            other => panic!("{:?}", other.map(|s| s.files().to_vec())),
        }
    }

    #[test]
    fn file_created_but_not_yet_indexed_is_adopted() {
        let g = golden(MARIADB);
        let d = tmp("adopt");
        put_dir(&d, "mysql-bin.000001", &g);
        fs::write(d.join("mysql-bin.000002"), MAGIC).unwrap();
        let s = Store::open(&d).unwrap();
        assert_eq!(s.files(), ["mysql-bin.000001", "mysql-bin.000002"]);
        assert_eq!(s.resume_point().file, Some(("mysql-bin.000002".into(), 4)));
        assert!(!s.resume_point().maria.is_empty(), "GTID state comes from the previous file");
    }

    /// The golden MariaDB file's FDE followed by `n` row events of `size` bytes
    /// (contents the tracker does not read), each with its own end as log_pos.
    fn big_stream(n: usize, size: usize) -> Vec<u8> {
        let g = golden(MARIADB);
        let mut v = g[..event_ends(&g)[0]].to_vec();
        for i in 0..n {
            let end = (v.len() + size) as u32;
            let mut e = vec![(i % 251) as u8; size];
            e[..HEADER_LEN].copy_from_slice(&[0; HEADER_LEN]);
            e[4] = 30; // WRITE_ROWS_EVENT
            e[5] = 1;
            e[9..13].copy_from_slice(&(size as u32).to_le_bytes());
            e[13..17].copy_from_slice(&end.to_le_bytes());
            v.extend_from_slice(&e);
        }
        v
    }

    fn append_all(s: &mut Store, data: &[u8]) {
        let mut pos = 4;
        for end in event_ends(data) {
            let ev = &data[pos..end];
            s.append(&EventHeader::decode_exact(ev).unwrap(), ev).unwrap();
            pos = end;
        }
    }

    #[test]
    fn large_writes_go_to_disk_in_aligned_direct_blocks_and_store_the_same_bytes() {
        // 12 MiB: a write each time 4 MiB are held, the rest at the sync; each starts
        // and ends off a block boundary, so each has a head, direct blocks and a tail
        // (at most one block between two writes goes through the page cache).
        let data = big_stream(120, 104_857);
        let fs = SimFs::new();
        let d = PathBuf::from("/sim/direct");
        let mut s = Store::open_on(Arc::new(fs.clone()), &d).unwrap();
        s.switch_to("mysql-bin.000001", 4).unwrap();
        append_all(&mut s, &data);
        s.sync().unwrap();
        assert_eq!(fs.contents(&d.join("mysql-bin.000001")).unwrap(), data);
        let direct = fs.direct_bytes();
        assert!(direct > data.len() as u64 - 5 * 4096 && direct % 4096 == 0, "direct bytes {direct}");
        // Small writes (a live stream, a commit at a time) stay in the page cache.
        let fs = SimFs::new();
        let mut s = Store::open_on(Arc::new(fs.clone()), &d).unwrap();
        s.switch_to("mysql-bin.000001", 4).unwrap();
        let small = big_stream(40, 3000);
        let mut pos = 4;
        for end in event_ends(&small) {
            let ev = &small[pos..end];
            s.append(&EventHeader::decode_exact(ev).unwrap(), ev).unwrap();
            s.flush().unwrap();
            pos = end;
        }
        assert_eq!(fs.contents(&d.join("mysql-bin.000001")).unwrap(), small);
        assert_eq!(fs.direct_bytes(), 0);
    }

    /// Stores `data` as mysql-bin.000001 in a new directory, fsyncs it and checks the
    /// file holds exactly those bytes.
    fn stored_as_written(tag: &str, data: &[u8]) -> (TestDir, Store) {
        let d = tmp(tag);
        let mut s = Store::open(&d).unwrap();
        s.switch_to("mysql-bin.000001", 4).unwrap();
        append_all(&mut s, data);
        s.sync().unwrap();
        assert_eq!(fs::read(d.join("mysql-bin.000001")).unwrap(), data);
        (d, s)
    }

    #[test]
    fn direct_writes_on_a_real_file_system_store_the_same_bytes() {
        let (d, _) = stored_as_written("direct-os", &big_stream(30, 100_003));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn events_with_no_log_pos_inside_transactions_are_stored_recovered_and_placed_by_size() {
        let data = trx_stream_with(6, 300, true);
        let (d, s) = stored_as_written("nopos", &data);
        assert_eq!(s.position(), Some(("mysql-bin.000001".into(), data.len() as u64)));
        drop(s);
        // Recovery scans such a file; cut inside a transaction, it goes back to the
        // transaction's start.
        let s = Store::open(&d).unwrap();
        assert_eq!(s.position().unwrap().1, data.len() as u64);
        drop(s);
        let ends = event_ends(&data);
        let mid = ends[ends.len() - 2] - 10;
        fs::write(d.join("mysql-bin.000001"), &data[..mid]).unwrap();
        let s = Store::open(&d).unwrap();
        assert_eq!(s.position().unwrap().1, ends[ends.len() - 5] as u64, "not cut back to the last transaction");
        drop(s);
        // After an event the store already had, one with no log_pos cannot be placed.
        let mut s = Store::open(&d).unwrap();
        let fde = &data[4..ends[0]];
        s.append(&EventHeader::decode_exact(fde).unwrap(), fde).unwrap();
        let nopos = &data[ends[6]..ends[7]];
        let h = EventHeader::decode_exact(nopos).unwrap();
        assert_eq!(h.log_pos, 0);
        let e = s.append(&h, nopos).unwrap_err().to_string();
        assert!(e.contains("no log_pos"), "{e}");
        let _ = fs::remove_dir_all(&d);
    }

    /// Switches to `name` and appends every event of `file`.
    fn feed_file(s: &mut Store, name: &str, file: &[u8]) -> Result<(), StoreError> {
        s.switch_to(name, 4)?;
        let mut pos = 4;
        for end in event_ends(file) {
            let ev = &file[pos..end];
            s.append(&EventHeader::decode_exact(ev).unwrap(), ev)?;
            pos = end;
        }
        Ok(())
    }

    #[test]
    fn a_primary_file_begun_again_under_a_stored_name_is_refused_and_nothing_appended() {
        let g = golden(MARIADB);
        let ends = event_ends(&g);
        let open_end = ends[ends.len() - 2]; // before its ROTATE: the file is still open
        let d = tmp("begun-again");
        let mut s = Store::open(&d).unwrap();
        feed_file(&mut s, "mysql-bin.000001", &g[..open_end]).unwrap();
        s.sync().unwrap();
        let fde = &g[4..ends[0]];
        s.check_resent_fde(&as_resent(fde)).unwrap();
        let again = begun_later(fde, 5);
        let e = s.check_resent_fde(&as_resent(&again)).unwrap_err();
        assert!(matches!(e, StoreError::OtherBinlog { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("mysql-bin.000001 is not the file stored under that name"), "{msg}");
        assert!(msg.contains("RESET MASTER") && msg.contains("new binlog_dir"), "{msg}");
        // A dump from the file's start sends the FDE with its log_pos: compared the same way.
        let h = EventHeader::decode_exact(&again).unwrap();
        assert!(matches!(s.append(&h, &again), Err(StoreError::OtherBinlog { .. })));
        s.append(&EventHeader::decode_exact(fde).unwrap(), fde).unwrap();
        s.sync().unwrap();
        assert_eq!(fs::read(d.join("mysql-bin.000001")).unwrap(), &g[..open_end]);
    }

    #[test]
    fn a_next_file_whose_gtid_header_forgets_stored_transactions_is_refused() {
        const UUID: &str = "d2088dd1-e70c-11f1-b41e-02fc00000001";
        let one = golden("mysql-9.7.4-tagged.000001");
        let two = golden("mysql-9.7.4-tagged.000002");
        let lacks = with_previous_gtids(two.clone(), &format!("{UUID}:1-2:mytag:1-2"));
        let maria_one = maria_file(&[], &[(0, 1, 1), (0, 1, 2), (1, 2, 7)], "mysql-bin.000002");
        let maria = |list: &[(u32, u32, u64)]| maria_file(list, &[(0, 1, 9)], "mysql-bin.000003");
        let cases = [
            ("mysql-kept", &one, two.clone(), true),
            ("mysql-lacks", &one, lacks, false),
            ("maria-kept", &maria_one, maria(&[(0, 1, 2), (1, 2, 7)]), true),
            // Another server_id of the domain further on, a domain deleted: kept.
            ("maria-more", &maria_one, maria(&[(0, 1, 2), (0, 3, 40)]), true),
            ("maria-behind", &maria_one, maria(&[(0, 1, 1), (1, 2, 7)]), false),
            ("maria-reset", &maria_one, maria(&[]), false),
        ];
        for (tag, first, second, ok) in cases {
            let d = tmp(tag);
            let mut s = Store::open(&d).unwrap();
            feed_file(&mut s, "mysql-bin.000001", first).unwrap();
            match feed_file(&mut s, "mysql-bin.000002", &second) {
                Ok(()) => assert!(ok, "{tag}: appended"),
                Err(e @ StoreError::OtherBinlog { .. }) => {
                    assert!(!ok, "{tag}: {e}");
                    assert!(e.to_string().contains("does not continue the files stored before it"), "{e}");
                    s.sync().unwrap();
                    let len = fs::metadata(d.join("mysql-bin.000002")).unwrap().len() as usize;
                    assert!(len < second.len(), "{tag}: nothing after the header is stored");
                }
                Err(e) => panic!("{tag}: {e}"),
            }
        }
    }

    #[test]
    fn stream_replay_writes_identical_file_and_refuses_gaps() {
        let g = golden(MYSQL);
        let d = tmp("replay");
        let mut s = Store::open(&d).unwrap();
        s.switch_to("mysql-bin.000001", 4).unwrap();
        let mut pos = 4;
        for end in event_ends(&g) {
            let ev = &g[pos..end];
            let h = EventHeader::decode_exact(ev).unwrap();
            s.append(&h, ev).unwrap();
            // Replaying an event already stored is accepted (a resumed stream).
            if pos == 4 {
                s.append(&h, ev).unwrap();
            }
            pos = end;
        }
        s.sync().unwrap();
        let mut want = g.clone();
        // binlogd clears the in-use flag on ROTATE, as the primary did.
        want[4 + event::FLAGS_OFFSET] &= !1;
        assert_eq!(fs::read(d.join("mysql-bin.000001")).unwrap(), want);
        assert_eq!(s.files(), ["mysql-bin.000001", "mysql-bin.000002"]);
        // A gap: an event that does not start where the file ends.
        let ev = &g[4..event_ends(&g)[0]];
        let mut h = EventHeader::decode_exact(ev).unwrap();
        h.log_pos = 4 + ev.len() as u32 + 10;
        assert!(matches!(s.append(&h, ev), Err(StoreError::Stream { .. })));
        assert!(matches!(s.switch_to("../x.000003", 4), Err(StoreError::BadName { .. })));
        assert!(matches!(s.switch_to("/etc/x.000003", 4), Err(StoreError::BadName { .. })));
        assert!(matches!(s.switch_to(&"a".repeat(10_000), 4), Err(StoreError::BadName { .. })));
    }
}
