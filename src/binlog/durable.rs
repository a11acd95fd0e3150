//! What is durable, published by the writer after each fsync and waited on by the
//! dump threads that serve it. Only fsynced bytes are ever served.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::gtid::{GtidSet, MariaPos};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DurableState {
    /// Every stored file, oldest first (shared: snapshots are taken per wakeup).
    pub files: Arc<Vec<String>>,
    /// The active file and its durable length.
    pub active: Option<(String, u64)>,
    /// GTIDs of every complete transaction stored (MySQL), and the last GTID per
    /// domain (MariaDB), as of the durable end.
    pub gtids: Arc<GtidSet>,
    pub maria: Arc<MariaPos>,
    /// Bumped on every publish.
    pub generation: u64,
}

impl DurableState {
    /// How far `name` may be read: the durable length if it is the active file,
    /// else the size of the closed file `f`.
    pub fn readable_len(&self, name: &str, f: &dyn super::read::Stored) -> u64 {
        self.active_len(name).unwrap_or_else(|| f.len().unwrap_or(0))
    }

    /// The same for the stored file `name` in `dir`, not open: 0 if it is gone.
    pub fn stored_len(&self, dir: &std::path::Path, name: &str) -> u64 {
        self.active_len(name).unwrap_or_else(|| std::fs::metadata(dir.join(name)).map(|m| m.len()).unwrap_or(0))
    }

    /// The durable length of `name` if it is the active file.
    fn active_len(&self, name: &str) -> Option<u64> {
        self.active.as_ref().filter(|(a, _)| a == name).map(|(_, len)| *len)
    }
}

#[derive(Default)]
pub struct Durable {
    st: Mutex<DurableState>,
    /// Every publish: the dump threads tailing the active file wait here.
    cv: Condvar,
    /// Only a new file list: threads that work on whole files wait here, so that the
    /// publish after each fsync does not wake them for nothing.
    files_cv: Condvar,
}

impl Durable {
    /// Publishes a new durable end; `files` only when the list changed, the GTID
    /// state only when it moved.
    pub fn publish(
        &self,
        files: Option<&[String]>,
        active: Option<(String, u64)>,
        gtids: Option<(&GtidSet, &MariaPos)>,
    ) {
        let mut g = self.st.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = files {
            g.files = Arc::new(f.to_vec());
        }
        if let Some((m, a)) = gtids {
            if *g.gtids != *m {
                g.gtids = Arc::new(m.clone());
            }
            if *g.maria != *a {
                g.maria = Arc::new(a.clone());
            }
        }
        g.active = active;
        g.generation += 1;
        // Woken after the lock is let go: a waiter woken while it is held would
        // block on it at once and need a second wake-up.
        drop(g);
        self.cv.notify_all();
        if files.is_some() {
            self.files_cv.notify_all();
        }
    }

    /// Replaces the file list alone (after a purge).
    pub fn replace_files(&self, files: &[String]) {
        let mut g = self.st.lock().unwrap_or_else(|e| e.into_inner());
        g.files = Arc::new(files.to_vec());
        g.generation += 1;
        drop(g);
        self.cv.notify_all();
        self.files_cv.notify_all();
    }

    /// Wakes every waiter with nothing new: a dump that was killed sees it at once.
    pub fn wake_all(&self) {
        let mut g = self.st.lock().unwrap_or_else(|e| e.into_inner());
        g.generation += 1;
        drop(g);
        self.cv.notify_all();
    }

    pub fn snapshot(&self) -> DurableState {
        self.st.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until something newer than `generation` is published, or `timeout`.
    pub fn wait_newer(&self, generation: u64, timeout: Duration) -> DurableState {
        let g = self.st.lock().unwrap_or_else(|e| e.into_inner());
        let (g, _) =
            self.cv.wait_timeout_while(g, timeout, |s| s.generation <= generation).unwrap_or_else(|e| e.into_inner());
        g.clone()
    }

    /// Waits until the file list is no longer `files` (a file begun, or purged), or
    /// `timeout`.
    pub fn wait_files_changed(&self, files: &Arc<Vec<String>>, timeout: Duration) -> DurableState {
        let g = self.st.lock().unwrap_or_else(|e| e.into_inner());
        let (g, _) = self
            .files_cv
            .wait_timeout_while(g, timeout, |s| Arc::ptr_eq(&s.files, files))
            .unwrap_or_else(|e| e.into_inner());
        g.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_file_list_waiter_sees_new_files_and_purges_but_not_each_fsync() {
        let d = Arc::new(Durable::default());
        d.publish(Some(&names(&["b.000001"])), Some(("b.000001".into(), 4)), None);
        let first = d.snapshot();
        // Publishes of a longer active file leave the list as it was.
        d.publish(None, Some(("b.000001".into(), 400)), None);
        let st = d.wait_files_changed(&first.files, Duration::from_millis(20));
        assert!(Arc::ptr_eq(&st.files, &first.files));
        assert_eq!(st.active, Some(("b.000001".into(), 400)));
        // A new file, published from another thread, ends the wait.
        let d2 = d.clone();
        let t = std::thread::spawn(move || {
            d2.publish(Some(&names(&["b.000001", "b.000002"])), Some(("b.000002".into(), 4)), None)
        });
        let st = d.wait_files_changed(&first.files, Duration::from_secs(600));
        t.join().unwrap();
        assert_eq!(*st.files, names(&["b.000001", "b.000002"]));
        // So does a purge.
        let d2 = d.clone();
        let t = std::thread::spawn(move || d2.replace_files(&names(&["b.000002"])));
        let st = d.wait_files_changed(&st.files, Duration::from_secs(600));
        t.join().unwrap();
        assert_eq!(*st.files, names(&["b.000002"]));
        assert_eq!(st.generation, 4);
    }
}
