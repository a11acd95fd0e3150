//! `restore_command`: an archived file, purged from binlog_dir, brought back to be
//! served, in PostgreSQL's convention (`%f` its name, `%p` the path to write, `%%` a
//! percent sign).
//!
//! What must hold:
//! - only a file the archive catalog records is restored, and what comes back is
//!   served only if it has the size and CRC-32 the catalog recorded (its md5 where
//!   the catalog has no CRC-32): a wrong, short or corrupt restore is refused and
//!   named, never served;
//! - readers of the same file share one restore;
//! - the restored files live in `binlog_dir/restored`, at most `restore_cache_size`
//!   bytes of them: the least recently used goes first, and no original is touched.
//!   They are not fsynced: the cache is emptied when binlogd starts, so a file a power
//!   loss left with the right size and the wrong bytes is never served;
//! - a command that fails, or runs past `restore_timeout`, ends only the dump that
//!   waits for it, with its exit status and the end of what it said.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use log::{info, warn};

use crate::binlog::catalog::{Entry, Kept};
use crate::binlog::fs::Fs;
use crate::binlog::read::Stored;
use crate::config::Config;

/// Where restored files are kept, in binlog_dir.
pub const CACHE_DIR: &str = "restored";

/// How many archived files after the one being read are restored ahead: on more than
/// one CPU, the check of one overlaps the copy of the other.
const AHEAD: usize = 2;

/// One restore under way, waited on by the readers of that file.
#[derive(Default)]
struct Flight {
    done: Mutex<Option<Result<(), String>>>,
    cv: Condvar,
}

/// Brings archived files back, one restore per file at a time.
pub struct Restorer {
    cmd: String,
    dir: PathBuf,
    cache_size: u64,
    timeout: Duration,
    fs: Arc<dyn Fs>,
    flights: Mutex<HashMap<String, Arc<Flight>>>,
    /// The archive catalog, as the archiver keeps it.
    catalog: Arc<Kept>,
}

impl Restorer {
    /// With `restore_command` set; None without it.
    pub fn new(cfg: &Config, catalog: Arc<Kept>) -> Option<Arc<Restorer>> {
        let cmd = cfg.restore_command.clone()?;
        let r = Restorer {
            cmd,
            dir: cfg.binlog_dir.clone(),
            cache_size: cfg.restore_cache_size,
            timeout: cfg.restore_timeout,
            fs: crate::binlog::fs::os(),
            flights: Mutex::default(),
            catalog,
        };
        r.empty_cache();
        Some(Arc::new(r))
    }

    /// Removes what an earlier run restored (see the module's comment).
    fn empty_cache(&self) {
        let cache = self.cache();
        let Ok(names) = self.fs.list(&cache) else { return };
        for n in names {
            let _ = self.fs.remove(&cache.join(n));
        }
        let _ = self.fs.sync_dir(&cache);
    }

    /// The cache directory (its files are `flat` names).
    fn cache(&self) -> PathBuf {
        self.dir.join(CACHE_DIR)
    }

    /// The GTID state the oldest archived file binlogd no longer stores starts with:
    /// where what binlogd can serve begins, with restore_command.
    pub fn oldest_start(&self, stored: &[String]) -> Option<crate::binlog::gtid_index::FileStart> {
        let cat = self.catalog.get().ok()?;
        cat.entries.iter().find(|e| !stored.contains(&e.name))?.start.clone()
    }

    /// The archive catalog's files that are not among `stored` (binlog_dir's index),
    /// oldest first: what binlogd serves by restoring them.
    pub fn archived(&self, stored: &[String]) -> Vec<Entry> {
        self.catalog.get().map(|c| c.not_stored(stored)).unwrap_or_default()
    }

    /// The archived files that follow `name` in the catalog, not stored locally, at
    /// most `AHEAD` of them: a reader of `name` reads them next. Only as many as fit in
    /// restore_cache_size beside `name`: one restored ahead must not evict another
    /// before it is read, to be restored again.
    fn next_archived(&self, name: &str) -> Vec<Entry> {
        let Ok(cat) = self.catalog.get() else { return Vec::new() };
        let Some(i) = cat.entries.iter().position(|e| e.name == name) else { return Vec::new() };
        let mut room = self.cache_size.saturating_sub(cat.entries.get(i).map_or(0, |e| e.size));
        let after = cat.entries.get(i + 1..).unwrap_or_default();
        after
            .iter()
            .take(AHEAD)
            .take_while(|e| !self.fs.is_file(&self.dir.join(&e.name)))
            .take_while(|e| {
                let fits = e.size <= room;
                room = room.saturating_sub(e.size);
                fits
            })
            .cloned()
            .collect()
    }

    /// The archived file `name`, restored or taken from the cache, opened for reading;
    /// the next archived ones are restored meanwhile, in the background. None when the
    /// archive catalog does not record it.
    pub fn open(self: &Arc<Self>, name: &str) -> Result<Option<Box<dyn Stored>>, String> {
        let Some(entry) = self.catalog.get()?.get(name).cloned() else { return Ok(None) };
        self.fetch(&entry)?;
        let path = self.cache().join(flat(name));
        // Used now: the last to be evicted.
        let f = std::fs::File::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let _ = f.set_modified(SystemTime::now());
        for next in self.next_archived(name) {
            let me = self.clone();
            let _ = std::thread::Builder::new().name("restore-ahead".into()).spawn(move || {
                if let Err(err) = me.fetch(&next) {
                    warn!("restoring {} ahead of the reader: {err}", next.name);
                }
            });
        }
        Ok(Some(Box::new(f)))
    }

    /// Makes sure the cache holds `e` whole, restoring it once for all who ask.
    fn fetch(&self, e: &Entry) -> Result<(), String> {
        let path = self.cache().join(flat(&e.name));
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == e.size) {
            return Ok(());
        }
        let (flight, mine) = {
            let mut g = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            match g.get(&e.name) {
                Some(f) => (f.clone(), false),
                None => {
                    let f = Arc::new(Flight::default());
                    g.insert(e.name.clone(), f.clone());
                    (f, true)
                }
            }
        };
        if !mine {
            let mut d = flight.done.lock().unwrap_or_else(|p| p.into_inner());
            while d.is_none() {
                d = flight.cv.wait(d).unwrap_or_else(|p| p.into_inner());
            }
            return d.clone().unwrap_or(Ok(()));
        }
        let r = self.restore(e);
        *flight.done.lock().unwrap_or_else(|p| p.into_inner()) = Some(r.clone());
        flight.cv.notify_all();
        self.flights.lock().unwrap_or_else(|p| p.into_inner()).remove(&e.name);
        r
    }

    /// Runs restore_command for `e` into a temporary file, checks it against the
    /// catalog, and moves it into the cache.
    fn restore(&self, e: &Entry) -> Result<(), String> {
        let cache = self.cache();
        self.fs.create_dir_all(&cache).map_err(|err| format!("cannot create {}: {err}", cache.display()))?;
        let part = cache.join(format!(".{}.part", flat(&e.name)));
        match self.fs.remove(&part) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!("cannot remove {}: {err}", part.display()))
            }
            _ => {}
        }
        let t = Instant::now();
        run(&self.cmd, &part, &e.name, self.timeout)?;
        let refuse = |what: String| {
            let _ = self.fs.remove(&part);
            Err(format!("restore_command brought back {} {what}: refused", e.name))
        };
        let size = std::fs::metadata(&part)
            .map_err(|err| format!("restore_command succeeded but wrote no {} ({err})", part.display()))?
            .len();
        if size != e.size {
            return refuse(format!("with {size} bytes, but the archive catalog records {}", e.size));
        }
        let unreadable = |err: std::io::Error| format!("cannot read {}: {err}", part.display());
        if let Some(want) = e.crc32 {
            // CRC-32 runs at several GB/s where MD5 runs at a few hundred MB/s: the
            // check no longer holds a reader back behind the copy.
            let crc = crate::binlog::catalog::crc32_file(&part).map_err(unreadable)?;
            if crc != want {
                return refuse(format!("with CRC-32 {crc:08x}, but the archive catalog records {want:08x}"));
            }
        } else if !e.md5.is_empty() {
            let md5 = crate::binlog::catalog::md5_file(&part).map_err(unreadable)?;
            if md5 != e.md5 {
                return refuse(format!("with md5 {md5}, but the archive catalog records {}", e.md5));
            }
        }
        self.fs
            .rename(&part, &cache.join(flat(&e.name)))
            .map_err(|err| format!("cannot move {} into place: {err}", e.name))?;
        self.fs.sync_dir(&cache).map_err(|err| format!("cannot fsync {}: {err}", cache.display()))?;
        info!("restored {} ({} bytes) in {:.1}s", e.name, e.size, t.elapsed().as_secs_f64());
        self.evict(&e.name);
        Ok(())
    }

    /// Removes the least recently used restored files while the cache holds more than
    /// restore_cache_size, never `keep`. A file a dump still reads stays readable to it.
    fn evict(&self, keep: &str) {
        let cache = self.cache();
        let Ok(names) = self.fs.list(&cache) else { return };
        let mut files: Vec<(SystemTime, u64, String)> = names
            .into_iter()
            .filter(|n| !n.starts_with('.'))
            .filter_map(|n| {
                let m = std::fs::metadata(cache.join(&n)).ok()?;
                Some((m.modified().ok()?, m.len(), n))
            })
            .collect();
        files.sort();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        let mut removed = false;
        for (_, size, name) in files {
            if total <= self.cache_size {
                break;
            }
            if name == flat(keep) {
                continue;
            }
            if self.fs.remove(&cache.join(&name)).is_ok() {
                total = total.saturating_sub(size);
                removed = true;
            }
        }
        if removed {
            let _ = self.fs.sync_dir(&cache);
        }
    }
}

/// A later source's file (`source-K/name`) has one name in the flat cache directory.
fn flat(name: &str) -> String {
    name.replace('/', "~")
}

/// Runs the command with `%p` and `%f` for `part` and `name`, within `timeout`; Err
/// holds why it failed: its exit status and the end of its standard error.
fn run(cmd: &str, part: &Path, name: &str, timeout: Duration) -> Result<(), String> {
    let line = super::archiver::expand(cmd, &part.to_string_lossy(), name);
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(&line)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run /bin/sh: {e}"))?;
    // Read as it comes, so that a chatty command never blocks on a full pipe.
    let err = child.stderr.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = s.read_to_end(&mut v);
            v
        })
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Ok(st),
            Ok(None) if Instant::now() >= deadline => {
                // The command's whole process group: a shell's children too.
                // SAFETY: kill(2) on the group this child leads.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.wait();
                break Err(format!(
                    "restore_command ran past restore_timeout ({} s) and was killed",
                    timeout.as_secs_f64()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(format!("cannot wait for restore_command: {e}")),
        }
    };
    let said = err.and_then(|t| t.join().ok()).unwrap_or_default();
    let said = String::from_utf8_lossy(&said);
    let tail: String = said.trim().chars().rev().take(300).collect::<Vec<_>>().into_iter().rev().collect();
    let tail = if tail.is_empty() { String::new() } else { format!(": {}", tail.replace('\n', " | ")) };
    match status {
        Ok(st) if st.success() => Ok(()),
        Ok(st) => Err(format!("restore_command for {name} failed ({st}){tail}")),
        Err(e) => Err(format!("{e}{tail}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::catalog::{Catalog, Entry};

    /// Waits for `f` (a restore ahead runs in its own thread).
    fn wait_until(mut f: impl FnMut() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(t.elapsed() < Duration::from_secs(30), "timed out");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn restorer(d: &Path, cmd: &str, cache_size: u64, timeout: Duration) -> Arc<Restorer> {
        Arc::new(Restorer {
            cmd: cmd.into(),
            dir: d.to_path_buf(),
            cache_size,
            timeout,
            fs: crate::binlog::fs::os(),
            flights: Mutex::default(),
            catalog: Arc::new(Kept::new(crate::binlog::fs::os(), d)),
        })
    }

    /// An archive directory with `n` files of 100 bytes, recorded in the catalog of `d`.
    fn archive(d: &Path, n: usize) -> PathBuf {
        let arch = d.join("archive");
        std::fs::create_dir_all(&arch).unwrap();
        let mut cat = Catalog::default();
        for i in 1..=n {
            let name = format!("b.{i:06}");
            std::fs::write(arch.join(&name), vec![i as u8; 100]).unwrap();
            cat.add(Entry::describe(&arch, &name).unwrap_or_else(|_| {
                use md5::{Digest, Md5};
                let md5 = Md5::digest(vec![i as u8; 100]).iter().map(|b| format!("{b:02x}")).collect();
                Entry { size: 100, md5, ..Entry::named(&name) }
            }));
        }
        cat.save(&*crate::binlog::fs::os(), d).unwrap();
        arch
    }

    #[test]
    fn an_archived_file_comes_back_checked_shared_and_cached_within_its_size() {
        let d = crate::test_dir::TestDir::new("restore");
        let arch = archive(&d, 4);
        let log = d.join("calls");
        let cmd = format!("echo %f >> {}; cp {}/%f %p", log.display(), arch.display());
        let r = restorer(&d, &cmd, 300, Duration::from_secs(30));
        // Four readers of one file: one restore.
        let ts: Vec<_> = (0..4)
            .map(|_| {
                let r = r.clone();
                std::thread::spawn(move || r.open("b.000001").map(|f| f.unwrap().len().unwrap()))
            })
            .collect();
        for t in ts {
            assert_eq!(t.join().unwrap().unwrap(), 100);
        }
        // The next two are restored ahead, and the three fit in the cache.
        wait_until(|| d.join("restored/b.000002").exists() && d.join("restored/b.000003").exists());
        let calls = std::fs::read_to_string(&log).unwrap();
        assert_eq!(calls.matches("b.000001").count(), 1, "{calls}");
        // Past 300 bytes, the least recently used goes: b.000001, made the oldest here
        // (each of its four readers marked it used, some maybe after the others came).
        let old = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000);
        std::fs::File::options().write(true).open(d.join("restored/b.000001")).unwrap().set_modified(old).unwrap();
        r.open("b.000003").unwrap();
        // b.000004 is renamed into place before the eviction it causes.
        wait_until(|| d.join("restored/b.000004").exists() && !d.join("restored/b.000001").exists());
        let kept: Vec<String> = std::fs::read_dir(d.join("restored"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert!(kept.len() == 3 && !kept.contains(&"b.000001".to_string()), "{kept:?}");
        assert!(r.open("b.000009").unwrap().is_none());
    }

    #[test]
    fn a_small_cache_restores_ahead_only_what_fits_so_each_file_is_restored_once() {
        let d = crate::test_dir::TestDir::new("restore-small");
        let arch = archive(&d, 5);
        let log = d.join("calls");
        let cmd = format!("echo %f >> {}; cp {}/%f %p", log.display(), arch.display());
        // What is restored ahead of a reader of b.000001: what fits beside it.
        let ahead = |cache: u64| {
            let names = restorer(&d, &cmd, cache, Duration::from_secs(30)).next_archived("b.000001");
            names.into_iter().map(|e| e.name).collect::<Vec<_>>()
        };
        assert_eq!(ahead(1 << 20), ["b.000002", "b.000003"]);
        assert_eq!(ahead(300), ["b.000002", "b.000003"]);
        assert_eq!(ahead(299), ["b.000002"]);
        assert_eq!(ahead(200), ["b.000002"]);
        assert!(ahead(199).is_empty() && ahead(0).is_empty());
        // Room for two files: the one being read and the next.
        let r = restorer(&d, &cmd, 200, Duration::from_secs(30));
        for i in 1..=5 {
            let name = format!("b.{i:06}");
            assert_eq!(r.open(&name).unwrap().unwrap().len().unwrap(), 100);
            if i < 5 {
                // The restores ahead are done before the reader goes on.
                wait_until(|| {
                    d.join(format!("restored/b.{:06}", i + 1)).exists()
                        && r.flights.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
                });
            }
        }
        let calls = std::fs::read_to_string(&log).unwrap();
        for i in 1..=5 {
            assert_eq!(calls.matches(&format!("b.{i:06}")).count(), 1, "{calls}");
        }
    }

    #[test]
    fn a_failing_wrong_or_hanging_restore_is_refused_and_named() {
        let d = crate::test_dir::TestDir::new("restore-bad");
        archive(&d, 1);
        let e = |cmd: &str, t: u64| restorer(&d, cmd, 1 << 20, Duration::from_secs(t)).open("b.000001").err().unwrap();
        let failed = e("echo 'no such key' >&2; exit 3", 30);
        assert!(failed.contains("exit status: 3") && failed.contains("no such key"), "{failed}");
        let short = e("printf abc > %p", 30);
        assert!(short.contains("with 3 bytes") && short.contains("refused"), "{short}");
        let wrong = e("head -c 100 /dev/zero > %p", 30);
        assert!(wrong.contains("CRC-32") && wrong.contains("refused"), "{wrong}");
        let hung = e("sleep 30", 1);
        assert!(hung.contains("restore_timeout"), "{hung}");
        assert!(!d.join("restored/b.000001").exists());
    }

    #[test]
    fn a_restored_file_is_checked_by_its_crc32_and_by_its_md5_where_the_catalog_has_no_crc32() {
        let d = crate::test_dir::TestDir::new("restore-crc");
        let arch = archive(&d, 1);
        let os = crate::binlog::fs::os();
        let record = |crc32: Option<u32>, md5: String| {
            let mut cat = Catalog::load(&*os, &d).unwrap();
            let e = cat.get("b.000001").unwrap().clone();
            cat.add(Entry { crc32, md5, ..e });
            cat.save(&*os, &d).unwrap();
        };
        let restore = || restorer(&d, &format!("cp {}/%f %p", arch.display()), 1 << 20, Duration::from_secs(30));
        let (crc, md5) =
            (crc32fast::hash(&[1u8; 100]), crate::binlog::catalog::md5_file(&arch.join("b.000001")).unwrap());
        // An md5 that matches nothing: where the CRC-32 is recorded, only it is read.
        record(Some(crc ^ 1), "0".repeat(32));
        let wrong = restore().open("b.000001").err().unwrap();
        assert!(wrong.contains("CRC-32") && wrong.contains("refused"), "{wrong}");
        assert!(!d.join("restored/b.000001").exists());
        record(Some(crc), "0".repeat(32));
        assert_eq!(restore().open("b.000001").unwrap().unwrap().len().unwrap(), 100);
        // A catalog written before the CRC-32 was kept: the md5 is checked.
        std::fs::remove_file(d.join("restored/b.000001")).unwrap();
        record(None, "0".repeat(32));
        let wrong = restore().open("b.000001").err().unwrap();
        assert!(wrong.contains("md5") && wrong.contains("refused"), "{wrong}");
        record(None, md5);
        assert_eq!(restore().open("b.000001").unwrap().unwrap().len().unwrap(), 100);
    }
}
