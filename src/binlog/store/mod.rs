//! The binlog directory: files under the primary's names, the `.index`, appends,
//! durability, and recovery on open.
//!
//! Rules that must hold:
//! - a file's bytes are the primary's bytes at the same offsets;
//! - after a crash only the tail of the last file can be incomplete, and recovery
//!   cuts it back to the last transaction boundary; closed files are never rewritten;
//! - a new file and the index are fsynced, and the directory after them;
//! - every byte made durable is on disk in its binlog file, or in the sync log's
//!   current epoch (`synclog`), which opening writes back before recovery.

mod append;
mod error;
mod index;
mod journal;
mod names;
mod recovery;
mod synclog;

use super::event::{self, ChecksumAlg, EventHeader, EventType, HEADER_LEN, MAGIC};
use super::gtid::{GtidSet, MariaPos};
use super::sources::{self, Origin};
use super::trx::Tracker;
use crate::binlog::fs::{Fs, FsFile};
use log::{debug, info, warn};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use append::{Active, Pending};
use error::io_err;
pub use error::StoreError;
pub use index::{drop_purged, index_names, pick_index, IndexShare};
pub use journal::{execute, finish_interrupted, keep_reserve, read_index, PURGE_FILE, RESERVE_FILE};
use names::follows;
pub use names::{is_safe_name, split_name};
pub use recovery::{cut_outside, scan_bytes, scan_file, Scan};
use recovery::{describe_fde, PAGE};

/// Fails if `dir` is the locked binlog_dir and is no longer the directory locked.
pub fn owned(dir: &Path) -> Result<(), StoreError> {
    super::owner::check(dir).map_err(|what| StoreError::Replaced { what })
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
    share: Option<Arc<crate::binlog::store::IndexShare>>,
    share_seen: u64,
    /// Bytes of zeros kept ahead of the active file's end (`preallocate`); 0: none.
    prealloc: u64,
    /// The source new files go to (`sources`): the newest stored one, or the next
    /// once `begin_source` was called.
    source: u32,
    /// A new source's `binlogd.primary`, written with its first file.
    begun: Option<Origin>,
    /// Where live batches are made durable (`synclog`); None: the binlog file is fsynced.
    sync_log: Option<synclog::SyncLog>,
}

impl Store {
    /// Opens `dir`, creating it if missing, and recovers the tail of the last file.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Self::open_on(crate::binlog::fs::os(), dir)
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
            source: 1,
            begun: None,
            sync_log: None,
        };
        finish_interrupted(&*s.fs, dir)?;
        s.load_index()?;
        let log = s.replay_sync_log()?;
        s.recover()?;
        if let Some(mut log) = log {
            // Recovery may have cut what the log holds: it must not be replayed again.
            log.retire()?;
            s.sync_log = Some(log);
        }
        Ok(s)
    }

    /// Makes `binlogd.reserve` when it is missing and there is room: what a purge on
    /// a full disk takes its room from.
    pub fn keep_reserve(&self) {
        keep_reserve(&*self.fs, &self.dir);
    }

    /// Replaces `name` in binlog_dir with `data`, crash-safely (`Fs::replace`): the
    /// small files binlogd keeps beside the binlogs.
    pub fn replace_file(&self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.fs.replace(&self.dir, name, data, false).map_err(io_err(&self.dir.join(name), "replace"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn files(&self) -> &[String] {
        &self.files
    }

    fn fsync_dir(&self) -> Result<(), StoreError> {
        self.fs.sync_dir(&self.dir).map_err(io_err(&self.dir, "fsync directory"))
    }

    /// Where the primary should continue from.
    pub fn resume_point(&self) -> ResumePoint {
        let (gtids, maria) = match &self.active {
            Some(a) => (a.tracker.gtids.clone(), a.tracker.maria.clone()),
            None => (self.gtids.clone(), self.maria.clone()),
        };
        let file = match (&self.active, &self.next) {
            (Some(a), Some(n)) if a.closed => Some((n.clone(), 4)),
            (Some(a), _) => Some((sources::plain(&a.name).to_string(), a.trx_end)),
            (None, _) => None,
        };
        ResumePoint { file, gtids, maria }
    }

    /// The server the newest source's files came from (its `binlogd.primary`), if known.
    pub fn origin(&self) -> Result<Option<Origin>, StoreError> {
        let path = self.dir.join(sources::path_in(self.source, sources::ORIGIN_FILE));
        let text = match self.fs.read(&path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path, "read")(e)),
        };
        Origin::decode(&text, &path.display().to_string())
            .map(|o| (!o.id.is_empty()).then_some(o))
            .map_err(|what| StoreError::Index { path, what })
    }

    /// Records which server the newest source is (the first connection to it).
    pub fn set_origin(&self, o: &Origin) -> Result<(), StoreError> {
        let d = self.dir.join(sources::dir_of(self.source));
        let name = sources::ORIGIN_FILE;
        self.fs.replace(&d, name, o.encode().as_bytes(), false).map_err(io_err(&d.join(name), "replace"))
    }

    /// Files from now on come from another server, `o`: the next file the stream
    /// names is created in a new source directory (`sources`), whatever its name,
    /// and the file being appended to is finished where it stands. `o` gets the GTID
    /// state of everything stored, and is written with that first file.
    pub fn begin_source(&mut self, mut o: Origin) {
        let (g, m) = self.gtid_state();
        o.gtids = g.clone();
        o.maria = m.clone();
        if !self.files.is_empty() {
            self.source = sources::newest(&self.files) + 1;
        }
        self.next = None;
        self.begun = Some(o);
    }

    /// The source new files go to.
    pub fn source(&self) -> u32 {
        self.source
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
            assert!(disk.len().is_multiple_of(4096) && disk.len() >= end + 4096, "{} bytes at {end}", disk.len());
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

    /// Live batches are made durable in the sync log: the binlog file is the primary's
    /// bytes at every moment, it is not fsynced per batch, and after a power loss the
    /// log writes back what the file lost. A stop retires the log.
    #[test]
    fn a_live_batch_is_made_durable_by_the_sync_log_and_written_back_after_power_loss() {
        let sim = SimFs::new();
        let fs: Arc<dyn Fs> = Arc::new(sim.clone());
        let dir = Path::new("/sim/synclog");
        let path = dir.join("mysql-bin.000001");
        let full = golden(MYSQL);
        let ends = event_ends(&full);
        let half = ends[ends.len() / 2];
        let mut s = Store::open_on(fs.clone(), dir).unwrap();
        s.set_sync_log(64 << 10).unwrap();
        feed_file(&mut s, "mysql-bin.000001", &full[..half]).unwrap();
        s.sync().unwrap();
        let (mut pos, mut trx_end) = (half, half);
        // Short of the ROTATE, which closes the file (and fsyncs it).
        for &end in &ends[ends.len() / 2 + 1..ends.len() - 2] {
            let ev = &full[pos..end];
            if s.append(&EventHeader::decode_exact(ev).unwrap(), ev).unwrap() {
                trx_end = end;
            }
            assert_eq!(s.sync().unwrap(), Some(("mysql-bin.000001".to_string(), end as u64)));
            assert_eq!(sim.contents(&path).unwrap(), &full[..end], "a whole binlog, no zeros");
            pos = end;
        }
        drop(s);
        sim.crash();
        let lost = sim.contents(&path).unwrap();
        assert!(lost.len() < trx_end, "the file itself was not fsynced per batch ({} of {pos} bytes)", lost.len());
        let mut s = Store::open_on(fs.clone(), dir).unwrap();
        // Written back from the log, then cut to the last whole transaction.
        assert_eq!(sim.contents(&path).unwrap(), &full[..trx_end]);
        assert_eq!(s.position(), Some(("mysql-bin.000001".to_string(), trx_end as u64)));
        let pos = trx_end;
        // A stop retires it: nothing is written back into a file changed after it.
        s.set_sync_log(64 << 10).unwrap();
        for w in ends.iter().filter(|&&e| e > pos && e < ends[ends.len() - 1]).scan(pos, |p, &e| {
            let r = (*p, e);
            *p = e;
            Some(r)
        }) {
            let ev = &full[w.0..w.1];
            s.append(&EventHeader::decode_exact(ev).unwrap(), ev).unwrap();
            s.sync().unwrap();
        }
        s.trim().unwrap();
        drop(s);
        fs.open(&path, false).unwrap().set_len(half as u64).unwrap();
        let s = Store::open_on(fs.clone(), dir).unwrap();
        assert_eq!(s.position(), Some(("mysql-bin.000001".to_string(), half as u64)));
    }

    /// A sync log that does not fit on the disk is given back, and the binlog file is
    /// fsynced itself: mirroring goes on.
    #[test]
    fn a_sync_log_refused_by_a_full_disk_is_given_back_and_files_are_fsynced_instead() {
        let sim = SimFs::new();
        let fs: Arc<dyn Fs> = Arc::new(sim.clone());
        let dir = Path::new("/sim/synclog-full");
        let full = golden(MYSQL);
        let ends = event_ends(&full);
        let mut s = Store::open_on(fs.clone(), dir).unwrap();
        sim.limit_size(Some(32 << 10));
        s.set_sync_log(64 << 10).unwrap();
        assert!(sim.contents(&dir.join("binlogd.synclog")).is_none(), "the partial log is removed");
        sim.limit_size(None);
        let half = ends[ends.len() / 2];
        feed_file(&mut s, "mysql-bin.000001", &full[..half]).unwrap();
        s.sync().unwrap();
        drop(s);
        sim.crash();
        assert_eq!(sim.contents(&dir.join("mysql-bin.000001")).unwrap(), &full[..half], "fsynced itself");
    }

    /// A sync log naming a file longer than what it finds (another directory's, or a
    /// file cut from outside) is refused with both named, rather than written into.
    #[test]
    fn a_sync_log_whose_file_was_cut_from_outside_is_refused() {
        let sim = SimFs::new();
        let fs: Arc<dyn Fs> = Arc::new(sim.clone());
        let dir = Path::new("/sim/synclog-cut");
        let path = dir.join("mysql-bin.000001");
        let full = golden(MYSQL);
        let ends = event_ends(&full);
        let mut s = Store::open_on(fs.clone(), dir).unwrap();
        s.set_sync_log(64 << 10).unwrap();
        feed_file(&mut s, "mysql-bin.000001", &full[..ends[ends.len() / 2]]).unwrap();
        s.sync_file().unwrap();
        let ev = &full[ends[ends.len() / 2]..ends[ends.len() / 2 + 1]];
        s.append(&EventHeader::decode_exact(ev).unwrap(), ev).unwrap();
        s.sync().unwrap();
        drop(s);
        sim.crash();
        fs.open(&path, false).unwrap().set_len(100).unwrap();
        let e = Store::open_on(fs.clone(), dir).err().unwrap().to_string();
        assert!(e.contains("mysql-bin.000001") && e.contains("binlogd.synclog"), "{e}");
        assert!(e.contains("is 100 bytes"), "{e}");
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
        assert!(crate::binlog::fs::free_space(Path::new("/")).is_ok());
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
        assert!(direct > data.len() as u64 - 5 * 4096 && direct.is_multiple_of(4096), "direct bytes {direct}");
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

    /// A new source's first file has the name of a stored one: it goes to a directory
    /// of its own. A crash at any point leaves the history as it was, or the new
    /// source begun whole: its file in the index and its server named.
    #[test]
    fn a_crash_while_a_new_source_begins_keeps_the_history_and_the_source_whole() {
        use crate::binlog::fs::SimFs;
        use crate::binlog::sources::Origin;
        let dir = Path::new("/b");
        let one = maria_file(&[], &[(0, 1, 1), (0, 1, 2), (0, 1, 3)], "mysql-bin.000002");
        // The new server's file: it starts within what is stored, repeats 0-1-3, then its own.
        let theirs = maria_file(&[(0, 1, 2)], &[(0, 1, 3), (0, 2, 4)], "mysql-bin.000002");
        let origin = |id: &str| Origin { id: id.into(), address: "db:3306".into(), ..Origin::default() };
        let mut whole = false;
        for n in 0..60 {
            let fs = SimFs::new();
            let mut s = Store::open_on(Arc::new(fs.clone()), dir).unwrap();
            s.set_origin(&origin("server_id 1")).unwrap();
            feed_file(&mut s, "mysql-bin.000001", &one).unwrap();
            s.sync().unwrap();
            fs.fail_after(Some(n));
            let r = (|| {
                s.begin_source(origin("server_id 2"));
                feed_file(&mut s, "mysql-bin.000001", &theirs)?;
                s.sync()
            })();
            fs.fail_after(None);
            fs.crash();
            let s = Store::open_on(Arc::new(fs.clone()), dir).unwrap_or_else(|e| panic!("after {n}: {e}"));
            assert_eq!(fs.read(&dir.join("mysql-bin.000001")).unwrap(), one, "after {n}");
            let id = s.origin().unwrap().unwrap().id;
            // Each file's ROTATE makes the next one at once (empty), in its source.
            let files: Vec<&str> = s.files().iter().map(String::as_str).collect();
            match files[..] {
                ["mysql-bin.000001", "mysql-bin.000002"] => assert_eq!(id, "server_id 1", "after {n}"),
                ["mysql-bin.000001", "mysql-bin.000002", "source-2/mysql-bin.000001", ..] => {
                    assert!(files.len() == 3 || files[3] == "source-2/mysql-bin.000002", "{files:?}");
                    assert_eq!(id, "server_id 2", "after {n}");
                    let o = s.origin().unwrap().unwrap();
                    assert_eq!(o.maria.to_string(), "0-1-3", "what was held before it");
                    assert!(s.resume_point().maria.domains[&0].seq >= 3, "after {n}");
                }
                _ => panic!("after {n}: {files:?}"),
            }
            if r.is_ok() {
                whole = true;
                assert_eq!(fs.read(&dir.join("source-2/mysql-bin.000001")).unwrap(), theirs, "after {n}");
                assert_eq!(s.resume_point().maria.to_string(), "0-2-4");
            }
        }
        assert!(whole, "some run completed");
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
