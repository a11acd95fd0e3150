//! Removing old binlog files: by statement (`PURGE BINARY LOGS TO | BEFORE`) and by
//! policy (`binlog_expire_logs_seconds`, `binlog_space_limit`, with `min_binlog_files`
//! as a floor).
//!
//! What must hold:
//! - only a prefix of the index goes, never the active (last) file, never a file a
//!   connected replica is reading or will read next, never a file whose archive
//!   command has not succeeded;
//! - a crash at any step leaves a directory that opens: the names to remove are
//!   written to `binlogd.purge` first, then the index is rewritten without them, then
//!   the files are unlinked, and `binlogd.purge` goes last. Opening a directory
//!   that still has `binlogd.purge` finishes the job (`finish_interrupted`);
//! - a purge works on a full disk, which is when it is needed most: its two small
//!   writes use the room `binlogd.reserve` (zeros, made when there is room) gives
//!   back when it is removed.
//!
//! Whoever rewrites the index (this module, or the writer at a rotation) holds the
//! lock in `IndexShare`, and the writer drops purged names from its list through it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use log::{info, warn};

use super::store::{is_safe_name, StoreError};

pub const PURGE_FILE: &str = "binlogd.purge";
/// Room set aside for the list and the index of a purge on a full disk.
pub const RESERVE_FILE: &str = "binlogd.reserve";
const RESERVE_LEN: usize = 1 << 20;

/// Makes `binlogd.reserve` in `dir` if it is missing and there is room for it.
pub fn keep_reserve(dir: &Path) {
    let path = dir.join(RESERVE_FILE);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == RESERVE_LEN as u64) {
        return;
    }
    let tmp = path.with_extension("tmp-reserve");
    let made = super::store::owned(dir).is_ok()
        && std::fs::File::create(&tmp)
            .and_then(|mut f| {
                f.write_all(&vec![0u8; RESERVE_LEN])?;
                f.sync_all()
            })
            .and_then(|()| std::fs::rename(&tmp, &path))
            .and_then(|()| fsync_dir(dir).map_err(std::io::Error::other))
            .is_ok();
    if !made {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// Runs `write`; when it fails for lack of room, removes `binlogd.reserve` (once)
/// and runs it again.
fn with_reserve(dir: &Path, write: impl Fn() -> Result<(), StoreError>) -> Result<(), StoreError> {
    match write() {
        Err(e) if e.is_disk_full() && std::fs::remove_file(dir.join(RESERVE_FILE)).is_ok() => {
            warn!("{e}: using the room kept in {} to finish the purge", RESERVE_FILE);
            fsync_dir(dir)?;
            write()
        }
        r => r,
    }
}

/// Shared by the index's writers: the lock, and the first file kept by the last purge.
#[derive(Default)]
pub struct IndexShare {
    first_kept: Mutex<Option<String>>,
    generation: AtomicU64,
}

impl IndexShare {
    pub fn lock(&self) -> MutexGuard<'_, Option<String>> {
        self.first_kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bumped by each purge; a holder of an older list compares it to drop names.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

/// Drops from `files` the names before `first_kept` (if it is in the list).
pub fn drop_purged(files: &mut Vec<String>, first_kept: &str) {
    if let Some(i) = files.iter().position(|f| f == first_kept) {
        files.drain(..i);
    }
}

/// What is known of one stored file.
#[derive(Debug, Clone)]
pub struct FileFacts {
    pub name: String,
    pub size: u64,
    pub mtime: SystemTime,
    /// Its archive command succeeded (always true without `archive_command`).
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `PURGE BINARY LOGS TO 'name'`: every file before it.
    To(String),
    /// `PURGE BINARY LOGS BEFORE 'datetime'`: files last modified before it.
    Before(SystemTime),
    /// The cnf's policy.
    Policy { expire: Option<Duration>, space_limit: Option<u64> },
}

/// Why a purge stopped short of what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// A connected replica reads this file (or an earlier one).
    InUse {
        file: String,
        readers: usize,
    },
    NotArchived(String),
    MinFiles(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub purge: Vec<String>,
    /// How many files the target asked for.
    pub wanted: usize,
    pub held: Option<Held>,
}

/// Decides which files go. `files` is the index, oldest first; `readers` counts the
/// connected replicas per file they are reading.
pub fn plan(
    files: &[FileFacts],
    target: &Target,
    readers: &BTreeMap<String, usize>,
    min_files: usize,
    now: SystemTime,
) -> Result<Plan, String> {
    // Never the active file.
    let closed = files.len().saturating_sub(1);
    let wanted = match target {
        Target::To(name) => files
            .iter()
            .position(|f| f.name == *name)
            .ok_or_else(|| "Target log not found in binlog index".to_string())?,
        Target::Before(t) => files[..closed].iter().take_while(|f| f.mtime < *t).count(),
        Target::Policy { expire, space_limit } => {
            let by_age = expire.map_or(0, |e| {
                let cut = now.checked_sub(e).unwrap_or(SystemTime::UNIX_EPOCH);
                files[..closed].iter().take_while(|f| f.mtime < cut).count()
            });
            let by_space = space_limit.map_or(0, |limit| {
                let mut total: u64 = files.iter().map(|f| f.size).sum();
                let mut n = 0;
                while n < closed && total > limit {
                    total -= files[n].size;
                    n += 1;
                }
                n
            });
            by_age.max(by_space)
        }
    };
    let mut n = wanted.min(closed);
    let mut held = None;
    if let Some(i) = files[..n].iter().position(|f| readers.contains_key(&f.name)) {
        let file = files[i].name.clone();
        let count = readers.get(&file).copied().unwrap_or(0);
        held = Some(Held::InUse { file, readers: count });
        n = i;
    }
    if let Some(i) = files[..n].iter().position(|f| !f.archived) {
        held = Some(Held::NotArchived(files[i].name.clone()));
        n = i;
    }
    let floor = files.len().saturating_sub(min_files);
    if n > floor {
        held = Some(Held::MinFiles(min_files));
        n = floor;
    }
    Ok(Plan { purge: files[..n].iter().map(|f| f.name.clone()).collect(), wanted, held })
}

impl Held {
    /// The warning text a primary gives (ER_WARN_PURGE_LOG_IN_USE and kin).
    pub fn message(&self, purged: usize, wanted: usize) -> String {
        match self {
            Held::InUse { file, readers } => format!(
                "file {file} was not purged because it is being read by {readers} thread(s), purged only {purged} out of {wanted} files."
            ),
            Held::NotArchived(file) => format!(
                "file {file} was not purged because its archive_command has not succeeded yet, purged only {purged} out of {wanted} files."
            ),
            Held::MinFiles(m) => format!(
                "min_binlog_files = {m} keeps the newest {m} files, purged only {purged} out of {wanted} files."
            ),
        }
    }
}

fn io<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |err| StoreError::Io { path: path.to_path_buf(), op, err }
}

fn fsync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir, "fsync directory"))
}

/// Writes `text` to `path` whole: a temporary file, fsync, rename, directory fsync.
fn write_whole(dir: &Path, path: &Path, text: &str) -> Result<(), StoreError> {
    let tmp = path.with_extension("tmp-purge");
    {
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp, "create"))?;
        f.write_all(text.as_bytes()).map_err(io(&tmp, "write"))?;
        f.sync_all().map_err(io(&tmp, "fsync"))?;
    }
    std::fs::rename(&tmp, path).map_err(io(path, "rename"))?;
    fsync_dir(dir)
}

/// The one `.index` file of `dir` and its names.
pub fn read_index(dir: &Path) -> Result<(PathBuf, Vec<String>), StoreError> {
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io(dir, "read directory"))? {
        entries.push(e.map_err(io(dir, "read directory"))?.file_name().to_string_lossy().into_owned());
    }
    let path = super::store::pick_index(dir, entries)?
        .ok_or_else(|| StoreError::Index { path: dir.to_path_buf(), what: "no .index file".into() })?;
    let text = std::fs::read_to_string(&path).map_err(io(&path, "read index"))?;
    let names = super::store::index_names(&path, &text)?;
    Ok((path, names))
}

/// Facts about every file in the index, for `plan`.
pub fn facts(dir: &Path, names: &[String], archived: impl Fn(&str) -> bool) -> Result<Vec<FileFacts>, StoreError> {
    names
        .iter()
        .map(|n| {
            let p = dir.join(n);
            let m = std::fs::metadata(&p).map_err(io(&p, "stat"))?;
            Ok(FileFacts {
                name: n.clone(),
                size: m.len(),
                mtime: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                archived: archived(n),
            })
        })
        .collect()
}

/// Removes `names` (a prefix of the index) crash-safely, under `share`'s lock, which
/// the caller holds (`guard`). Returns the index as it is afterwards.
pub fn execute(
    dir: &Path,
    guard: &mut MutexGuard<'_, Option<String>>,
    share: &IndexShare,
    names: &[String],
) -> Result<Vec<String>, StoreError> {
    super::store::owned(dir)?;
    let (index, mut files) = read_index(dir)?;
    if names.is_empty() {
        return Ok(files);
    }
    if files.len() <= names.len() || files[..names.len()] != *names {
        return Err(StoreError::Index { path: index, what: format!("purge of {names:?}: not the start of the index") });
    }
    let list = dir.join(PURGE_FILE);
    with_reserve(dir, || write_whole(dir, &list, &(names.join("\n") + "\n")))?;
    files.drain(..names.len());
    with_reserve(dir, || write_whole(dir, &index, &(files.join("\n") + "\n")))?;
    **guard = files.first().cloned();
    share.generation.fetch_add(1, Ordering::AcqRel);
    for n in names {
        let p = dir.join(n);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::Io { path: p, op: "remove", err: e }),
        }
    }
    fsync_dir(dir)?;
    std::fs::remove_file(&list).map_err(io(&list, "remove"))?;
    fsync_dir(dir)?;
    info!("purged {} binlog file(s): {} .. {}", names.len(), names[0], names[names.len() - 1]);
    keep_reserve(dir);
    Ok(files)
}

/// Finishes a purge a crash interrupted: the names in `binlogd.purge` leave the
/// index and the directory. Called when the store is opened.
pub fn finish_interrupted(dir: &Path) -> Result<(), StoreError> {
    super::store::owned(dir)?;
    let list = dir.join(PURGE_FILE);
    let text = match std::fs::read_to_string(&list) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::Io { path: list, op: "read", err: e }),
    };
    let names: Vec<String> = text.lines().map(str::trim).filter(|n| is_safe_name(n)).map(str::to_string).collect();
    warn!("{} found: finishing an interrupted purge of {} file(s)", list.display(), names.len());
    let (index, files) = read_index(dir)?;
    let kept: Vec<String> = files.iter().filter(|f| !names.contains(f)).cloned().collect();
    if kept.len() != files.len() {
        with_reserve(dir, || write_whole(dir, &index, &(kept.join("\n") + "\n")))?;
    }
    for n in &names {
        let _ = std::fs::remove_file(dir.join(n));
    }
    fsync_dir(dir)?;
    std::fs::remove_file(&list).map_err(io(&list, "remove"))?;
    fsync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, size: u64, age_s: u64, archived: bool) -> FileFacts {
        FileFacts {
            name: name.into(),
            size,
            mtime: SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 - age_s),
            archived,
        }
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)
    }

    fn files() -> Vec<FileFacts> {
        vec![
            f("b.000001", 100, 500, true),
            f("b.000002", 100, 400, true),
            f("b.000003", 100, 300, true),
            f("b.000004", 100, 0, true),
        ]
    }

    #[test]
    fn purge_to_stops_before_the_named_file_and_never_takes_the_active_one() {
        let p = plan(&files(), &Target::To("b.000003".into()), &BTreeMap::new(), 0, now()).unwrap();
        assert_eq!(p.purge, vec!["b.000001", "b.000002"]);
        let p = plan(&files(), &Target::To("b.000004".into()), &BTreeMap::new(), 0, now()).unwrap();
        assert_eq!(p.purge.len(), 3);
        assert!(plan(&files(), &Target::To("b.000009".into()), &BTreeMap::new(), 0, now()).is_err());
        let p = plan(&files(), &Target::Before(now()), &BTreeMap::new(), 0, now()).unwrap();
        assert_eq!(p.purge.len(), 3, "the active file stays whatever its age");
    }

    #[test]
    fn readers_archive_and_floor_hold_files_back() {
        let mut r = BTreeMap::new();
        r.insert("b.000002".to_string(), 2);
        let p = plan(&files(), &Target::To("b.000004".into()), &r, 0, now()).unwrap();
        assert_eq!(p.purge, vec!["b.000001"]);
        assert_eq!(p.held, Some(Held::InUse { file: "b.000002".into(), readers: 2 }));
        assert!(p.held.unwrap().message(1, 3).contains("being read by 2 thread(s), purged only 1 out of 3"));
        let mut v = files();
        v[0].archived = false;
        let p = plan(&v, &Target::To("b.000004".into()), &BTreeMap::new(), 0, now()).unwrap();
        assert!(p.purge.is_empty());
        assert_eq!(p.held, Some(Held::NotArchived("b.000001".into())));
        let p = plan(&files(), &Target::To("b.000004".into()), &BTreeMap::new(), 3, now()).unwrap();
        assert_eq!(p.purge, vec!["b.000001"]);
    }

    #[test]
    fn policy_takes_the_larger_of_age_and_space() {
        let age = Target::Policy { expire: Some(Duration::from_secs(350)), space_limit: None };
        assert_eq!(plan(&files(), &age, &BTreeMap::new(), 0, now()).unwrap().purge.len(), 2);
        let space = Target::Policy { expire: Some(Duration::from_secs(450)), space_limit: Some(150) };
        assert_eq!(plan(&files(), &space, &BTreeMap::new(), 0, now()).unwrap().purge.len(), 3);
        let none = Target::Policy { expire: None, space_limit: None };
        assert!(plan(&files(), &none, &BTreeMap::new(), 0, now()).unwrap().purge.is_empty());
    }

    #[test]
    fn an_interrupted_purge_is_finished_when_the_directory_is_opened() {
        let d = crate::test_dir::TestDir::new("purge");
        for n in ["b.000001", "b.000002", "b.000003"] {
            std::fs::write(d.join(n), b"\xfebin").unwrap();
        }
        // The crash came after binlogd.purge was written, before the index was rewritten.
        std::fs::write(d.join("b.index"), "b.000001\nb.000002\nb.000003\n").unwrap();
        std::fs::write(d.join(PURGE_FILE), "b.000001\n").unwrap();
        finish_interrupted(&d).unwrap();
        assert_eq!(std::fs::read_to_string(d.join("b.index")).unwrap(), "b.000002\nb.000003\n");
        assert!(!d.join("b.000001").exists() && !d.join(PURGE_FILE).exists());
        // Executing a purge leaves the same shape.
        let share = IndexShare::default();
        let mut g = share.lock();
        let left = execute(&d, &mut g, &share, &["b.000002".to_string()]).unwrap();
        assert_eq!(left, vec!["b.000003"]);
        assert_eq!(g.as_deref(), Some("b.000003"));
        assert_eq!(share.generation(), 1);
        assert!(!d.join("b.000002").exists());
    }
}
