//! The purge journal: removing a prefix of the index crash-safely (the names go to
//! `binlogd.purge` first, then the index is rewritten without them, then the files
//! are unlinked, and `binlogd.purge` goes last), finishing a purge a crash
//! interrupted when the store opens, and `binlogd.reserve`, the room kept so that a
//! purge works on a full disk, which is when it is needed most.
//!
//! Whoever rewrites the index (a purge, or the writer at a rotation) holds the lock
//! in `IndexShare`, and the writer drops purged names from its list through it.

use super::*;
use std::sync::MutexGuard;

pub const PURGE_FILE: &str = "binlogd.purge";
/// Room set aside for the list and the index of a purge on a full disk.
pub const RESERVE_FILE: &str = "binlogd.reserve";
pub(super) const RESERVE_LEN: usize = 1 << 20;

/// Makes `binlogd.reserve` in `dir` if it is missing and there is room for it.
pub fn keep_reserve(fs: &dyn Fs, dir: &Path) {
    let path = dir.join(RESERVE_FILE);
    if fs.open(&path, false).and_then(|f| f.size()).is_ok_and(|n| n == RESERVE_LEN as u64) {
        return;
    }
    if owned(dir).is_err() || fs.replace(dir, RESERVE_FILE, &vec![0u8; RESERVE_LEN], false).is_err() {
        let _ = fs.remove(&dir.join(format!(".{RESERVE_FILE}.tmp")));
    }
}

/// Runs `write`; when it fails for lack of room, removes `binlogd.reserve` (once)
/// and runs it again.
fn with_reserve(fs: &dyn Fs, dir: &Path, write: impl Fn() -> Result<(), StoreError>) -> Result<(), StoreError> {
    match write() {
        Err(e) if e.is_disk_full() && fs.remove(&dir.join(RESERVE_FILE)).is_ok() => {
            warn!("{e}: using the room kept in {} to finish the purge", RESERVE_FILE);
            fs.sync_dir(dir).map_err(io_err(dir, "fsync directory"))?;
            write()
        }
        r => r,
    }
}

/// Replaces `dir/name` with `lines`, one name per line (`Fs::replace`).
fn write_names(fs: &dyn Fs, dir: &Path, name: &str, lines: &[String]) -> Result<(), StoreError> {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    fs.replace(dir, name, text.as_bytes(), false).map_err(io_err(&dir.join(name), "replace"))
}

/// The one `.index` file of `dir` and its names.
pub fn read_index(fs: &dyn Fs, dir: &Path) -> Result<(PathBuf, Vec<String>), StoreError> {
    let entries = fs.list(dir).map_err(io_err(dir, "read directory"))?;
    let path = pick_index(dir, entries)?
        .ok_or_else(|| StoreError::Index { path: dir.to_path_buf(), what: "no .index file".into() })?;
    let bytes = fs.read(&path).map_err(io_err(&path, "read index"))?;
    let names = index_names(&path, &String::from_utf8_lossy(&bytes))?;
    Ok((path, names))
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Removes `names` (a prefix of the index) crash-safely, under `share`'s lock, which
/// the caller holds (`guard`). Returns the index as it is afterwards.
pub fn execute(
    fs: &dyn Fs,
    dir: &Path,
    guard: &mut MutexGuard<'_, Option<String>>,
    share: &IndexShare,
    names: &[String],
) -> Result<Vec<String>, StoreError> {
    owned(dir)?;
    let (index, mut files) = read_index(fs, dir)?;
    if names.is_empty() {
        return Ok(files);
    }
    if files.len() <= names.len() || files[..names.len()] != *names {
        return Err(StoreError::Index { path: index, what: format!("purge of {names:?}: not the start of the index") });
    }
    with_reserve(fs, dir, || write_names(fs, dir, PURGE_FILE, names))?;
    files.drain(..names.len());
    with_reserve(fs, dir, || write_names(fs, dir, &file_name(&index), &files))?;
    **guard = files.first().cloned();
    share.purged();
    for n in names {
        let p = dir.join(n);
        match fs.remove(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::Io { path: p, op: "remove", err: e }),
        }
    }
    fs.sync_dir(dir).map_err(io_err(dir, "fsync directory"))?;
    let list = dir.join(PURGE_FILE);
    fs.remove(&list).map_err(io_err(&list, "remove"))?;
    fs.sync_dir(dir).map_err(io_err(dir, "fsync directory"))?;
    info!("purged {} binlog file(s): {} .. {}", names.len(), names[0], names[names.len() - 1]);
    keep_reserve(fs, dir);
    Ok(files)
}

/// Finishes a purge a crash interrupted: the names in `binlogd.purge` leave the
/// index and the directory. Called when the store is opened.
pub fn finish_interrupted(fs: &dyn Fs, dir: &Path) -> Result<(), StoreError> {
    owned(dir)?;
    let list = dir.join(PURGE_FILE);
    let text = match fs.read(&list) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::Io { path: list, op: "read", err: e }),
    };
    let names: Vec<String> =
        text.lines().map(str::trim).filter(|n| crate::binlog::sources::is_safe_path(n)).map(str::to_string).collect();
    warn!("{} found: finishing an interrupted purge of {} file(s)", list.display(), names.len());
    let (index, files) = read_index(fs, dir)?;
    let kept: Vec<String> = files.iter().filter(|f| !names.contains(f)).cloned().collect();
    if kept.len() != files.len() {
        with_reserve(fs, dir, || write_names(fs, dir, &file_name(&index), &kept))?;
    }
    for n in &names {
        let _ = fs.remove(&dir.join(n));
    }
    fs.sync_dir(dir).map_err(io_err(dir, "fsync directory"))?;
    fs.remove(&list).map_err(io_err(&list, "remove"))?;
    fs.sync_dir(dir).map_err(io_err(dir, "fsync directory"))
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
        let fs = crate::binlog::fs::os();
        finish_interrupted(&*fs, &d).unwrap();
        assert_eq!(std::fs::read_to_string(d.join("b.index")).unwrap(), "b.000002\nb.000003\n");
        assert!(!d.join("b.000001").exists() && !d.join(PURGE_FILE).exists());
        // Executing a purge leaves the same shape.
        let share = IndexShare::default();
        let mut g = share.lock();
        let left = execute(&*fs, &d, &mut g, &share, &["b.000002".to_string()]).unwrap();
        assert_eq!(left, vec!["b.000003"]);
        assert_eq!(g.as_deref(), Some("b.000003"));
        assert_eq!(share.generation(), 1);
        assert!(!d.join("b.000002").exists());
    }
}
