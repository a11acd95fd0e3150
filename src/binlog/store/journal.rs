//! The purge journal: removing a prefix of the index crash-safely (the names go to
//! `binlogd.purge` first, then the index is rewritten without them, then the files
//! are unlinked, and `binlogd.purge` goes last), finishing a purge a crash
//! interrupted when the store opens, and `binlogd.reserve`, the room kept so that a
//! purge works on a full disk, which is when it is needed most.
//!
//! Whoever rewrites the index (a purge, or the writer at a rotation) holds the lock
//! in `IndexShare`, and the writer drops purged names from its list through it.

use super::*;
use std::io::Write;
use std::sync::MutexGuard;

pub const PURGE_FILE: &str = "binlogd.purge";
/// Room set aside for the list and the index of a purge on a full disk.
pub const RESERVE_FILE: &str = "binlogd.reserve";
pub(super) const RESERVE_LEN: usize = 1 << 20;

/// Makes `binlogd.reserve` in `dir` if it is missing and there is room for it.
pub fn keep_reserve(dir: &Path) {
    let path = dir.join(RESERVE_FILE);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == RESERVE_LEN as u64) {
        return;
    }
    let tmp = path.with_extension("tmp-reserve");
    let made = owned(dir).is_ok()
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
pub(super) fn with_reserve(dir: &Path, write: impl Fn() -> Result<(), StoreError>) -> Result<(), StoreError> {
    match write() {
        Err(e) if e.is_disk_full() && std::fs::remove_file(dir.join(RESERVE_FILE)).is_ok() => {
            warn!("{e}: using the room kept in {} to finish the purge", RESERVE_FILE);
            fsync_dir(dir)?;
            write()
        }
        r => r,
    }
}

pub(super) fn io<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |err| StoreError::Io { path: path.to_path_buf(), op, err }
}

pub(super) fn fsync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir, "fsync directory"))
}

/// Writes `text` to `path` whole: a temporary file, fsync, rename, directory fsync.
pub(super) fn write_whole(dir: &Path, path: &Path, text: &str) -> Result<(), StoreError> {
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
    let path = pick_index(dir, entries)?
        .ok_or_else(|| StoreError::Index { path: dir.to_path_buf(), what: "no .index file".into() })?;
    let text = std::fs::read_to_string(&path).map_err(io(&path, "read index"))?;
    let names = index_names(&path, &text)?;
    Ok((path, names))
}

/// Removes `names` (a prefix of the index) crash-safely, under `share`'s lock, which
/// the caller holds (`guard`). Returns the index as it is afterwards.
pub fn execute(
    dir: &Path,
    guard: &mut MutexGuard<'_, Option<String>>,
    share: &IndexShare,
    names: &[String],
) -> Result<Vec<String>, StoreError> {
    owned(dir)?;
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
    share.purged();
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
    owned(dir)?;
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
