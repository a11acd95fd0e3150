//! What is durable, published by the writer after each fsync and waited on by the
//! dump threads that serve it. Only fsynced bytes are ever served.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DurableState {
    /// Every stored file, oldest first.
    pub files: Vec<String>,
    /// The active file and its durable length.
    pub active: Option<(String, u64)>,
    /// Bumped on every publish.
    pub generation: u64,
}

#[derive(Default)]
pub struct Durable {
    st: Mutex<DurableState>,
    cv: Condvar,
}

impl Durable {
    /// Publishes a new durable end; `files` only when the list changed.
    pub fn publish(&self, files: Option<&[String]>, active: Option<(String, u64)>) {
        let mut g = self.st.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = files {
            g.files = f.to_vec();
        }
        g.active = active;
        g.generation += 1;
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
}
