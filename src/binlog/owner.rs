//! The binlog directory this process locked. Before it creates, rewrites or deletes
//! anything there (a new file, the index, a purge, recovery's cut), binlogd checks
//! that the directory at that path is still the one it locked: one removed or moved
//! away, and replaced (say by a second binlogd started on the same path), belongs to
//! someone else, and this binlogd must stop rather than write into it.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The lock file in binlog_dir, held with `flock` for the life of the process.
pub const LOCK_FILE: &str = "binlogd.lock";

/// binlog_dir as configured, and the device and inode of its locked lock file.
static LOCKED: OnceLock<(PathBuf, u64, u64)> = OnceLock::new();

/// Records that this process locked `dir`, through the open lock file `f`.
pub fn set(dir: &Path, f: &std::fs::File) -> std::io::Result<()> {
    let m = f.metadata()?;
    let _ = LOCKED.set((dir.to_path_buf(), m.dev(), m.ino()));
    Ok(())
}

/// Whether `dir` may be written: not the locked directory, or still it. The error
/// says what changed.
pub fn check(dir: &Path) -> Result<(), String> {
    let Some((locked, dev, ino)) = LOCKED.get() else { return Ok(()) };
    if locked != dir {
        return Ok(());
    }
    let lock = dir.join(LOCK_FILE);
    match std::fs::metadata(&lock) {
        Ok(m) if m.dev() == *dev && m.ino() == *ino => Ok(()),
        Ok(_) => Err(format!(
            "binlog_dir {} was replaced while binlogd ran: {} is not the file this binlogd (pid {}) locked",
            dir.display(),
            lock.display(),
            std::process::id()
        )),
        Err(e) => {
            Err(format!("binlog_dir {} was removed or moved while binlogd ran: {}: {e}", dir.display(), lock.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_replaced_after_locking_is_refused() {
        let base = crate::test_dir::TestDir::new("owner");
        let dir = base.join("binlogs");
        std::fs::create_dir_all(&dir).unwrap();
        let f = std::fs::File::create(dir.join(LOCK_FILE)).unwrap();
        set(&dir, &f).unwrap();
        assert_eq!(check(&dir), Ok(()));
        assert_eq!(check(&base), Ok(()), "another directory is not checked");
        std::fs::rename(&dir, base.join("moved")).unwrap();
        let e = check(&dir).unwrap_err();
        assert!(e.contains("removed or moved"), "{e}");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::File::create(dir.join(LOCK_FILE)).unwrap();
        let e = check(&dir).unwrap_err();
        assert!(e.contains("was replaced") && e.contains("not the file"), "{e}");
    }
}
