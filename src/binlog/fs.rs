//! The file operations the store needs, behind a trait, so tests can simulate a
//! power loss: `SimFs` remembers what was fsynced and can drop everything else.
//!
//! What must hold for `OsFs` (and what `SimFs` models): file bytes are durable
//! after `FsFile::sync`; a created or renamed name is durable after `Fs::sync_dir`.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::ops::Deref;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::map_guard::MapGuard;

/// An open file.
pub trait FsFile: Send {
    fn write_at(&mut self, buf: &[u8], off: u64) -> io::Result<()>;
    fn read_at(&self, buf: &mut [u8], off: u64) -> io::Result<()>;
    fn set_len(&mut self, len: u64) -> io::Result<()>;
    /// The file's size in bytes.
    fn size(&self) -> io::Result<u64>;
    /// Makes the file's bytes durable (fdatasync).
    fn sync(&mut self) -> io::Result<()>;
    /// Writes `buf` at `off` past the page cache (O_DIRECT) where the file system
    /// allows it, else as `write_at`. `buf`'s address, its length and `off` are
    /// multiples of 4096. Durability still comes only from `sync`.
    fn write_direct(&mut self, buf: &[u8], off: u64) -> io::Result<()> {
        self.write_at(buf, off)
    }
    /// Starts writing `[off, off + len)` back to disk without waiting, so the next
    /// `sync` has little left to do. A hint: durability still comes only from `sync`.
    fn start_writeback(&mut self, _off: u64, _len: u64) {}
}

/// A directory tree.
pub trait Fs: Send + Sync {
    fn create_dir_all(&self, p: &Path) -> io::Result<()>;
    /// Names of the entries of a directory.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    fn is_file(&self, p: &Path) -> bool;
    /// Opens for reading and writing; with `create_new`, fails if it exists.
    fn open(&self, p: &Path, create_new: bool) -> io::Result<Box<dyn FsFile>>;
    /// The whole file, for scanning (a read-only mapping on a real file system).
    fn map(&self, p: &Path) -> io::Result<Box<dyn Mapping>>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes created and renamed names in `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Removes a file; the removal is durable once `sync_dir` has run.
    fn remove(&self, p: &Path) -> io::Result<()>;
    /// Makes a file readable and writable by its owner only (mode 600).
    fn make_private(&self, _p: &Path) -> io::Result<()> {
        Ok(())
    }

    /// Replaces `dir/name` with `data`, crash-safely: a temporary file beside it is
    /// written and fsynced, renamed over it, and the directory fsynced. After a crash
    /// the name holds the old bytes or the new ones, whole. Every file binlogd keeps in
    /// binlog_dir but the binlogs themselves (the index, the purge journal and reserve,
    /// the GTID index, the archive status, the UUID, the primary's facts, the
    /// generated certificate) is written so. `private`: mode 600, set before the bytes.
    fn replace(&self, dir: &Path, name: &str, data: &[u8], private: bool) -> io::Result<()> {
        let tmp = dir.join(format!(".{name}.tmp"));
        match self.remove(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut f = self.open(&tmp, true)?;
        if private {
            self.make_private(&tmp)?;
        }
        f.write_at(data, 0)?;
        f.sync()?;
        drop(f);
        self.rename(&tmp, &dir.join(name))?;
        self.sync_dir(dir)
    }

    /// A whole small file's bytes.
    fn read(&self, p: &Path) -> io::Result<Vec<u8>> {
        Ok(self.map(p)?.to_vec())
    }

    /// Takes binlog_dir's lock for this process at `path`: an exclusive lock on the
    /// file, which then holds this process's id, held as long as the handle lives.
    /// Another holder makes it fail with `WouldBlock`, its message naming that
    /// holder's pid. (The simulated file system has one process: it always succeeds.)
    fn lock(&self, _path: &Path) -> io::Result<Box<dyn Lock>> {
        Ok(Box::new(NoLock))
    }
}

/// A held binlog_dir lock (`Fs::lock`).
pub trait Lock: Send {
    /// The locked file, on a real file system: what tells binlog_dir replaced under
    /// binlogd (`owner`).
    fn file(&self) -> Option<&File> {
        None
    }
}

struct NoLock;
impl Lock for NoLock {}

/// The real lock: the open, flocked file.
struct FileLock(File);
impl Lock for FileLock {
    fn file(&self) -> Option<&File> {
        Some(&self.0)
    }
}

/// The real file system.
pub struct OsFs;

struct OsFile(File, Direct);

/// Whether direct I/O works on a file: unknown until tried.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direct {
    Untried,
    Works,
    Refused,
}

impl OsFile {
    /// Sets or clears O_DIRECT on the descriptor (only the writer uses it).
    fn set_direct(&self, on: bool) -> io::Result<()> {
        use std::os::unix::io::AsRawFd;
        let fd = self.0.as_raw_fd();
        // SAFETY: plain fcntl calls on a descriptor this file owns.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let want = if on { flags | libc::O_DIRECT } else { flags & !libc::O_DIRECT };
        // SAFETY: as above.
        if unsafe { libc::fcntl(fd, libc::F_SETFL, want) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl FsFile for OsFile {
    fn write_at(&mut self, buf: &[u8], off: u64) -> io::Result<()> {
        self.0.write_all_at(buf, off)
    }
    fn write_direct(&mut self, buf: &[u8], off: u64) -> io::Result<()> {
        if self.1 != Direct::Refused && self.set_direct(true).is_ok() {
            let r = self.0.write_all_at(buf, off);
            self.set_direct(false)?;
            match r {
                Ok(()) => {
                    self.1 = Direct::Works;
                    return Ok(());
                }
                // The file system or device does not take these writes (alignment,
                // tmpfs): write through the page cache from now on. A write that
                // stopped half way is simply written again in full below.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) && self.1 == Direct::Untried => {}
                Err(e) => return Err(e),
            }
        }
        self.1 = Direct::Refused;
        self.0.write_all_at(buf, off)
    }
    fn start_writeback(&mut self, off: u64, len: u64) {
        use std::os::unix::io::AsRawFd;
        // SAFETY: a plain syscall on a descriptor this file owns; failure only loses the hint.
        unsafe {
            libc::sync_file_range(self.0.as_raw_fd(), off as i64, len as i64, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    fn read_at(&self, buf: &mut [u8], off: u64) -> io::Result<()> {
        self.0.read_exact_at(buf, off)
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
}

/// A whole file's bytes, for a scan.
pub trait Mapping: Deref<Target = [u8]> {
    /// Whether a read went past the file's end since it was mapped (it was cut short
    /// from outside): the bytes read there were zeros, not the file's.
    fn cut(&self) -> bool {
        false
    }
}

impl Mapping for Vec<u8> {}

/// A whole file mapped for a scan. If it is cut short from outside during the scan,
/// the guard makes the lost bytes read as zeros and says so (`cut`), rather than
/// SIGBUS ending the daemon.
struct Mapped {
    /// Declared before `map`: released before the mapping goes.
    guard: Option<MapGuard>,
    map: Option<memmap2::Mmap>,
}

impl Mapping for Mapped {
    fn cut(&self) -> bool {
        self.guard.as_ref().is_some_and(MapGuard::is_cut)
    }
}

impl Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

impl Fs for OsFs {
    fn create_dir_all(&self, p: &Path) -> io::Result<()> {
        fs::create_dir_all(p)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut v = Vec::new();
        for e in fs::read_dir(dir)? {
            v.push(e?.file_name().to_string_lossy().into_owned());
        }
        Ok(v)
    }
    fn is_file(&self, p: &Path) -> bool {
        p.is_file()
    }
    fn open(&self, p: &Path, create_new: bool) -> io::Result<Box<dyn FsFile>> {
        let f = OpenOptions::new().read(true).write(true).create_new(create_new).open(p)?;
        Ok(Box::new(OsFile(f, Direct::Untried)))
    }
    fn map(&self, p: &Path) -> io::Result<Box<dyn Mapping>> {
        map_file(&File::open(p)?)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
    fn remove(&self, p: &Path) -> io::Result<()> {
        fs::remove_file(p)
    }
    fn make_private(&self, p: &Path) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(p, fs::Permissions::from_mode(0o600))
    }
    fn read(&self, p: &Path) -> io::Result<Vec<u8>> {
        fs::read(p)
    }
    fn lock(&self, path: &Path) -> io::Result<Box<dyn Lock>> {
        use std::os::unix::fs::FileExt as _;
        use std::os::unix::io::AsRawFd;
        let f = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let holder = fs::read_to_string(path).unwrap_or_default();
            return Err(io::Error::new(io::ErrorKind::WouldBlock, holder.trim().to_string()));
        }
        // The pid over what is there, then the file cut to it only if it was longer: on
        // ext4 a truncation to 0 of a file with data starts its writeback and waits (about
        // half a millisecond, a sixth of a restart), and the pid is usually as long as the
        // one before.
        let line = format!("{}\n", std::process::id());
        let _ = f.write_all_at(line.as_bytes(), 0);
        if f.metadata().is_ok_and(|m| m.len() > line.len() as u64) {
            let _ = f.set_len(line.len() as u64);
        }
        Ok(Box::new(FileLock(f)))
    }
}

#[derive(Default, Clone)]
struct SimInode {
    data: Vec<u8>,
    durable: Vec<u8>,
}

#[derive(Default)]
struct SimState {
    /// Live names -> inode id.
    names: BTreeMap<PathBuf, usize>,
    /// Names as they would be found after a power loss.
    durable_names: BTreeMap<PathBuf, usize>,
    inodes: Vec<SimInode>,
    dirs: Vec<PathBuf>,
    /// Fail every fsync from now on (an EIO).
    fail_sync: bool,
    /// Every file read whole through `map`, in order.
    mapped: Vec<PathBuf>,
    /// Bytes written by `write_direct`.
    direct_bytes: u64,
    /// `limit_size`.
    size_limit: Option<u64>,
    /// `fail_after`: changes left before the power goes (every later one fails).
    ops_left: Option<u64>,
}

impl SimState {
    /// Counts one change (a write, a truncation, an fsync, a create, a rename, a
    /// removal); past `fail_after`'s count it fails, as a machine whose power went.
    fn count_op(&mut self) -> io::Result<()> {
        match self.ops_left {
            Some(0) => Err(io::Error::other("simulated power loss")),
            Some(n) => {
                self.ops_left = Some(n - 1);
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// An in-memory file system that can lose power.
#[derive(Clone, Default)]
pub struct SimFs {
    st: Arc<Mutex<SimState>>,
}

struct SimFile {
    st: Arc<Mutex<SimState>>,
    ino: usize,
}

impl SimFs {
    pub fn new() -> SimFs {
        SimFs::default()
    }

    /// Power loss: every byte and every name not made durable is gone.
    pub fn crash(&self) {
        self.crash_keeping(|_| 0);
    }

    /// Power loss where a disk may have written part of what was not fsynced:
    /// `keep(n)` picks how many of a file's `n` unsynced bytes survive, counted from
    /// the first one that differs from its durable value (bytes written over
    /// preallocated zeros, or past the durable end); the rest revert to their durable
    /// value, or are gone past the durable end.
    pub fn crash_keeping(&self, mut keep: impl FnMut(usize) -> usize) {
        let mut s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        for i in s.inodes.iter_mut() {
            let common = i.durable.len().min(i.data.len());
            let first = (0..common).find(|&j| i.durable[j] != i.data[j]).unwrap_or(common);
            let dirty = i.data.len() - first;
            let upto = first + keep(dirty).min(dirty);
            let mut v = i.data[..upto].to_vec();
            if let Some(old) = i.durable.get(upto..) {
                v.extend_from_slice(old);
            }
            i.data = v.clone();
            i.durable = v;
        }
        s.names = s.durable_names.clone();
    }

    /// Writes that would take a file past `bytes` fail as on a full disk (None: no limit).
    pub fn limit_size(&self, bytes: Option<u64>) {
        self.st.lock().unwrap_or_else(|e| e.into_inner()).size_limit = bytes;
    }

    /// After `n` more changes every change fails, as when the power goes at that point
    /// of a sequence of writes (then `crash` loses what was not durable). None: never.
    pub fn fail_after(&self, n: Option<u64>) {
        self.st.lock().unwrap_or_else(|e| e.into_inner()).ops_left = n;
    }

    pub fn fail_sync(&self, on: bool) {
        self.st.lock().unwrap_or_else(|e| e.into_inner()).fail_sync = on;
    }

    /// The files read whole so far (for assertions on what recovery reads).
    pub fn mapped(&self) -> Vec<PathBuf> {
        self.st.lock().unwrap_or_else(|e| e.into_inner()).mapped.clone()
    }

    /// Bytes written with direct I/O so far.
    pub fn direct_bytes(&self) -> u64 {
        self.st.lock().unwrap_or_else(|e| e.into_inner()).direct_bytes
    }

    /// The live bytes of a file (for assertions).
    pub fn contents(&self, p: &Path) -> Option<Vec<u8>> {
        let s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        s.names.get(p).map(|&i| s.inodes[i].data.clone())
    }
}

fn not_found(p: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{}: no such file", p.display()))
}

impl FsFile for SimFile {
    fn write_at(&mut self, buf: &[u8], off: u64) -> io::Result<()> {
        let mut s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        s.count_op()?;
        if s.size_limit.is_some_and(|l| off + buf.len() as u64 > l) {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        let d = &mut s.inodes[self.ino].data;
        let end = off as usize + buf.len();
        if d.len() < end {
            d.resize(end, 0);
        }
        d[off as usize..end].copy_from_slice(buf);
        Ok(())
    }
    /// Refuses what the kernel refuses for O_DIRECT: a misaligned address, length
    /// or offset.
    fn write_direct(&mut self, buf: &[u8], off: u64) -> io::Result<()> {
        if !(buf.as_ptr() as usize).is_multiple_of(4096) || !buf.len().is_multiple_of(4096) || !off.is_multiple_of(4096)
        {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        self.write_at(buf, off)?;
        self.st.lock().unwrap_or_else(|e| e.into_inner()).direct_bytes += buf.len() as u64;
        Ok(())
    }
    fn read_at(&self, buf: &mut [u8], off: u64) -> io::Result<()> {
        let s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        let d = &s.inodes[self.ino].data;
        let end = off as usize + buf.len();
        if end > d.len() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"));
        }
        buf.copy_from_slice(&d[off as usize..end]);
        Ok(())
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        let mut s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        s.count_op()?;
        s.inodes[self.ino].data.resize(len as usize, 0);
        Ok(())
    }
    fn size(&self) -> io::Result<u64> {
        let s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        Ok(s.inodes[self.ino].data.len() as u64)
    }
    fn sync(&mut self) -> io::Result<()> {
        let mut s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        s.count_op()?;
        if s.fail_sync {
            return Err(io::Error::other("simulated EIO on fsync"));
        }
        let i = &mut s.inodes[self.ino];
        i.durable = i.data.clone();
        Ok(())
    }
}

impl Fs for SimFs {
    fn create_dir_all(&self, p: &Path) -> io::Result<()> {
        let mut s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        if !s.dirs.iter().any(|d| d == p) {
            s.dirs.push(p.to_path_buf());
        }
        Ok(())
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        Ok(s.names
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect())
    }
    fn is_file(&self, p: &Path) -> bool {
        self.st.lock().unwrap_or_else(|e| e.into_inner()).names.contains_key(p)
    }
    fn open(&self, p: &Path, create_new: bool) -> io::Result<Box<dyn FsFile>> {
        let mut s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        if create_new {
            s.count_op()?;
        }
        let ino = match s.names.get(p) {
            Some(_) if create_new => return Err(io::Error::new(io::ErrorKind::AlreadyExists, "exists")),
            Some(&i) => i,
            None if create_new => {
                s.inodes.push(SimInode::default());
                let i = s.inodes.len() - 1;
                s.names.insert(p.to_path_buf(), i);
                i
            }
            None => return Err(not_found(p)),
        };
        Ok(Box::new(SimFile { st: self.st.clone(), ino }))
    }
    fn map(&self, p: &Path) -> io::Result<Box<dyn Mapping>> {
        let mut s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        let &i = s.names.get(p).ok_or_else(|| not_found(p))?;
        s.mapped.push(p.to_path_buf());
        Ok(Box::new(s.inodes[i].data.clone()))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        s.count_op()?;
        let i = s.names.remove(from).ok_or_else(|| not_found(from))?;
        s.names.insert(to.to_path_buf(), i);
        Ok(())
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        s.count_op()?;
        if s.fail_sync {
            return Err(io::Error::other("simulated EIO on directory fsync"));
        }
        let live: Vec<(PathBuf, usize)> =
            s.names.iter().filter(|(p, _)| p.parent() == Some(dir)).map(|(p, &i)| (p.clone(), i)).collect();
        s.durable_names.retain(|p, _| p.parent() != Some(dir));
        s.durable_names.extend(live);
        Ok(())
    }
    fn remove(&self, p: &Path) -> io::Result<()> {
        let mut s = self.st.lock().unwrap_or_else(|e| e.into_inner());
        s.count_op()?;
        s.names.remove(p).map(|_| ()).ok_or_else(|| not_found(p))
    }
}

/// A whole open file, mapped read-only behind a guard.
pub fn map_file(f: &File) -> io::Result<Box<dyn Mapping>> {
    if f.metadata()?.len() == 0 {
        return Ok(Box::new(Mapped { guard: None, map: None }));
    }
    // SAFETY: no byte of a file changes while it is mapped here. The store maps its
    // files (and index, and sync log) from the one thread that writes them, between
    // writes (when it opens binlog_dir, and to re-read the active file after cutting
    // it), under the binlog_dir lock that keeps a second binlogd out; `--verify`, which
    // may run beside a binlogd, maps only closed files, which nothing writes, and reads
    // the last one into memory. A dump's boundary check (`boundaries`) reads only a file's
    // durable part, which the writer appends after; the one cut it makes there, of an
    // incomplete transaction before it reconnects (`cut_partial`), is met like a cut
    // from outside. A file cut short is what the guard is for: the lost bytes read as
    // zeros and `cut` says so.
    let m = unsafe { memmap2::Mmap::map(f)? };
    Ok(Box::new(Mapped { guard: Some(MapGuard::new(m.as_ptr(), m.len())), map: Some(m) }))
}

/// The real file system, shared.
pub fn os() -> Arc<dyn Fs> {
    Arc::new(OsFs)
}

/// Bytes an unprivileged user may still write on the file system holding `dir`
/// (statvfs's available blocks: the root-reserved ones are left out).
pub fn free_space(dir: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"))?;
    // SAFETY: `c` is a NUL-terminated path; `st` is a plain C struct the call fills.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_says_when_its_file_was_cut_short_under_it() {
        let dir = crate::test_dir::TestDir::new("fs-cut");
        let path = dir.join("f");
        fs::write(&path, vec![7u8; 64 << 10]).unwrap();
        let m = os().map(&path).unwrap();
        assert_eq!(m[40 << 10], 7);
        assert!(!m.cut());
        OpenOptions::new().write(true).open(&path).unwrap().set_len(4096).unwrap();
        // Past the new end: zeros, and the mapping says why.
        assert_eq!(std::hint::black_box(&m[..])[48 << 10], 0);
        assert!(m.cut());
        drop(m);
        assert!(!os().map(&path).unwrap().cut());
    }
}
