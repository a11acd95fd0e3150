//! Scratch directories for the tests (unit and integration): made empty, removed when
//! the test passes.

use std::path::{Path, PathBuf};

/// An empty directory. Dropped, it is removed, unless the test is failing: what it
/// holds is then left to look at.
pub struct TestDir(PathBuf);

impl TestDir {
    /// `$TMPDIR/binlogd-<tag>-<pid>`.
    pub fn new(tag: &str) -> TestDir {
        Self::at(std::env::temp_dir().join(format!("binlogd-{tag}-{}", std::process::id())))
    }

    /// `path`, emptied or made.
    pub fn at(path: PathBuf) -> TestDir {
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        TestDir(path)
    }

    /// The path, for an owner that removes the directory itself.
    pub fn keep(self) -> PathBuf {
        let p = self.0.clone();
        std::mem::forget(self);
        p
    }
}

impl std::ops::Deref for TestDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
