//! What is durable, published by the writer after each fsync and waited on by the
//! dump threads that serve it. Only fsynced bytes are ever served.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
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

/// The durable end, published by the writer (and by purges) and waited on by the
/// dump threads.
///
/// A publish costs the writer the same whatever the number of readers: the state is
/// swapped whole (a reader's snapshot is an `Arc` clone, so the lock is held for no
/// work), and the readers are woken by the waker thread (`spawn_waker`), not by the
/// writer. Waking hundreds of tailing dumps is a futex wake per thread: that cost, and
/// the readers' own, fall on other threads than the one the semisync ACK waits for. A
/// reader that stalls (its client reads nothing) waits in its own socket write and is
/// woken by nothing.
#[derive(Default)]
pub struct Durable {
    st: RwLock<Arc<DurableState>>,
    /// Publishers one at a time: each builds on the state before it.
    publishing: Mutex<()>,
    /// `st`'s generation, tested by waiters without the state's lock.
    generation: AtomicU64,
    /// The lock the waiters wait under. Every publish: the dump threads tailing the
    /// active file wait on `cv`.
    wait: Mutex<()>,
    cv: Condvar,
    /// Only a new file list: threads that work on whole files wait here, so that the
    /// publish after each fsync does not wake them for nothing.
    files_cv: Condvar,
    /// What the waker thread has to wake, when it runs.
    waker: Mutex<Wake>,
    waker_cv: Condvar,
    has_waker: AtomicBool,
    /// Threads in `wait_newer`, counted before they test the generation: a publish
    /// that finds none wakes no one (no thread, and no waker thread, per commit
    /// when nothing is read).
    tailing: AtomicU64,
}

/// Wake-ups asked of the waker thread and not yet done.
#[derive(Default)]
struct Wake {
    pending: bool,
    files: bool,
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
        let _one = self.publishing.lock().unwrap_or_else(|e| e.into_inner());
        let cur = self.current();
        // The writer publishes after each fsync: the rest is shared, not copied.
        let mut g = DurableState {
            files: cur.files.clone(),
            active,
            gtids: cur.gtids.clone(),
            maria: cur.maria.clone(),
            generation: cur.generation,
        };
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
        self.swap(g, files.is_some());
    }

    /// Replaces the file list alone (after a purge).
    pub fn replace_files(&self, files: &[String]) {
        let _one = self.publishing.lock().unwrap_or_else(|e| e.into_inner());
        let mut g = (*self.current()).clone();
        g.files = Arc::new(files.to_vec());
        self.swap(g, true);
    }

    /// Wakes every waiter with nothing new: a dump that was killed sees it at once.
    pub fn wake_all(&self) {
        let _one = self.publishing.lock().unwrap_or_else(|e| e.into_inner());
        let g = (*self.current()).clone();
        self.swap(g, false);
    }

    /// Makes `g` the next generation and has the waiters woken.
    fn swap(&self, mut g: DurableState, files: bool) {
        g.generation += 1;
        let generation = g.generation;
        *self.st.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(g);
        self.generation.store(generation, Ordering::SeqCst);
        // A waiter counts itself in before it tests the generation, and this reads the
        // count after storing it (both sequentially consistent): either the count is seen
        // here, or the new generation there. File-list waiters test the state itself,
        // and are woken whenever the list changes.
        if !files && self.tailing.load(Ordering::SeqCst) == 0 {
            return;
        }
        if self.has_waker.load(Ordering::SeqCst) {
            let mut w = self.waker.lock().unwrap_or_else(|e| e.into_inner());
            w.pending = true;
            w.files |= files;
            drop(w);
            self.waker_cv.notify_one();
        } else {
            self.notify(files);
        }
    }

    /// Wakes the waiters. The wait lock is taken first: a waiter that found nothing
    /// new is then asleep on the condition variable, not about to be.
    fn notify(&self, files: bool) {
        drop(self.wait.lock().unwrap_or_else(|e| e.into_inner()));
        self.cv.notify_all();
        if files {
            self.files_cv.notify_all();
        }
    }

    /// Starts the thread that wakes the readers after each publish, so that the
    /// writer's publish costs it the same for any number of readers. Without it (unit
    /// tests), a publish wakes them itself.
    pub fn spawn_waker(self: &Arc<Self>) -> std::io::Result<()> {
        let d = self.clone();
        std::thread::Builder::new().name("durable-waker".into()).spawn(move || loop {
            let mut w = d.waker.lock().unwrap_or_else(|e| e.into_inner());
            while !w.pending {
                w = d.waker_cv.wait(w).unwrap_or_else(|e| e.into_inner());
            }
            let files = std::mem::take(&mut w.files);
            w.pending = false;
            drop(w);
            // Publishes made meanwhile are covered by this one wake-up.
            d.notify(files);
        })?;
        self.has_waker.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn current(&self) -> Arc<DurableState> {
        self.st.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The durable end as last published: shared, not copied, so that hundreds of dump
    /// threads woken by one publish take it without allocating.
    pub fn snapshot(&self) -> Arc<DurableState> {
        self.current()
    }

    /// Waits until something newer than `generation` is published, or `timeout`.
    pub fn wait_newer(&self, generation: u64, timeout: Duration) -> Arc<DurableState> {
        let g = self.wait.lock().unwrap_or_else(|e| e.into_inner());
        self.tailing.fetch_add(1, Ordering::SeqCst);
        let newer = |_: &mut ()| self.generation.load(Ordering::SeqCst) <= generation;
        let r = self.cv.wait_timeout_while(g, timeout, newer).unwrap_or_else(|e| e.into_inner());
        self.tailing.fetch_sub(1, Ordering::SeqCst);
        drop(r);
        self.snapshot()
    }

    /// Waits until the file list is no longer `files` (a file begun, or purged), or
    /// `timeout`.
    pub fn wait_files_changed(&self, files: &Arc<Vec<String>>, timeout: Duration) -> Arc<DurableState> {
        let g = self.wait.lock().unwrap_or_else(|e| e.into_inner());
        let same = |_: &mut ()| Arc::ptr_eq(&self.current().files, files);
        let r = self.files_cv.wait_timeout_while(g, timeout, same).unwrap_or_else(|e| e.into_inner());
        drop(r);
        self.snapshot()
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

    /// A publish skips the wake-up when no one is tailing; one racing waiters that are
    /// about to sleep still wakes them, one or many. Publish and wait take turns, so
    /// each wait must end with the publish that follows it.
    #[test]
    fn a_publish_racing_tailing_waiters_is_never_missed() {
        for waiters in [1, 20] {
            let d = Arc::new(Durable::default());
            d.spawn_waker().unwrap();
            let (tx, rx) = crossbeam_channel::bounded::<u64>(waiters);
            let rounds = 3000 / waiters as u64;
            let threads: Vec<_> = (0..waiters)
                .map(|_| {
                    let (d, tx) = (d.clone(), tx.clone());
                    std::thread::spawn(move || {
                        let mut g = 0;
                        while g < rounds {
                            let now = d.wait_newer(g, Duration::from_secs(60)).generation;
                            assert!(now > g, "the publish after generation {g} was missed");
                            g = now;
                            tx.send(g).unwrap();
                        }
                    })
                })
                .collect();
            for i in 0..rounds {
                d.publish(None, Some(("b.000001".into(), i)), None);
                for _ in 0..waiters {
                    assert_eq!(rx.recv().unwrap(), i + 1);
                }
            }
            for t in threads {
                t.join().unwrap();
            }
        }
    }

    /// With the waker thread, a publish still wakes every kind of waiter.
    #[test]
    fn the_waker_thread_wakes_tailing_and_file_list_waiters() {
        let d = Arc::new(Durable::default());
        d.spawn_waker().unwrap();
        d.publish(Some(&names(&["b.000001"])), Some(("b.000001".into(), 4)), None);
        let first = d.snapshot();
        let tails: Vec<_> = (0..8)
            .map(|_| {
                let d = d.clone();
                let g = first.generation;
                std::thread::spawn(move || d.wait_newer(g, Duration::from_secs(600)).active.clone())
            })
            .collect();
        let lists = {
            let d = d.clone();
            let f = first.files.clone();
            std::thread::spawn(move || d.wait_files_changed(&f, Duration::from_secs(600)).files.clone())
        };
        d.publish(None, Some(("b.000001".into(), 400)), None);
        for t in tails {
            assert_eq!(t.join().unwrap(), Some(("b.000001".into(), 400)));
        }
        d.publish(Some(&names(&["b.000001", "b.000002"])), Some(("b.000002".into(), 4)), None);
        assert_eq!(*lists.join().unwrap(), names(&["b.000001", "b.000002"]));
    }
}
