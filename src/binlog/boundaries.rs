//! Which offsets of a stored file are event boundaries, remembered per file. A dump by
//! file and position is refused where its position is not the start of an event, and
//! only a walk from a known boundary can tell. Without a memory of past walks, a
//! hundred replicas reconnecting at the end of a large file would each walk it from
//! position 4; here the first walk leaves a boundary every `SPACING` bytes (and the
//! position asked), and the next check walks at most that far.
//!
//! What must hold: only offsets a walk reached from a boundary are recorded. A stored
//! file does not change below its readable length (the active file grows, and a purged
//! file's name is never reused for other bytes), so a recorded boundary stays one. The
//! one exception is an incomplete transaction at the active file's end, cut when the
//! connection to the primary is made again (`Store::cut_partial`): the primary sends the
//! same bytes again, unless it lost that transaction in a crash. A position recorded
//! inside such a transaction and asked for again would then pass this check; the
//! dump's own check of each header it sends from (`walk::found_at`: a header whose
//! `log_pos` is where its event ends) is what stands behind it then.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use super::read::Stored;
use super::walk::{ReadAt, WalkError, Walker};

/// At most this far between recorded boundaries of a walked stretch.
const SPACING: u64 = 256 * 1024;

/// The boundaries known so far, per stored file (its path in binlog_dir).
#[derive(Default)]
pub struct Boundaries {
    /// Each file's sorted boundaries, behind its own lock: checks of one file wait for
    /// the first walk and then find its result; those of other files do not wait.
    files: Mutex<HashMap<String, Arc<Mutex<Vec<u64>>>>>,
}

impl Boundaries {
    /// Is `pos` the start of an event (or the end of the last one) in `name`, opened as
    /// `f`, whose first `limit` bytes are readable? `stored` lists the files stored
    /// now: what is remembered of any other is let go.
    pub fn is_boundary(&self, name: &str, f: &dyn Stored, pos: u64, limit: u64, stored: &[String]) -> io::Result<bool> {
        if pos == 4 {
            return Ok(true);
        }
        if pos > limit {
            return Ok(false);
        }
        let file = {
            let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
            if !files.contains_key(name) {
                files.retain(|n, _| stored.iter().any(|s| s == n));
            }
            files.entry(name.to_string()).or_default().clone()
        };
        let mut known = file.lock().unwrap_or_else(|p| p.into_inner());
        let from = match known.binary_search(&pos) {
            Ok(_) => return Ok(true),
            Err(0) => 4,
            Err(i) => known[i - 1],
        };
        let mut found = Vec::new();
        // A local file is walked in a mapping (no system call per header); one brought
        // back from elsewhere by positional reads, not read whole.
        let answer = match f.local() {
            Some(local) => {
                let map = super::fs::map_file(local)?;
                let end = limit.min(map.len() as u64);
                let answer = walk(&**map, from, pos, end, &mut found)?;
                if map.cut() {
                    return Err(io::Error::other(format!("{name} was cut short while it was read")));
                }
                answer
            }
            None => walk(f, from, pos, limit, &mut found)?,
        };
        known.extend(found);
        known.sort_unstable();
        known.dedup();
        Ok(answer)
    }
}

/// Walks from boundary `from` towards `pos` (within `end`), pushing onto `found` a
/// boundary every `SPACING` bytes and `pos` itself when it is one.
fn walk<R: ReadAt + ?Sized>(src: &R, from: u64, pos: u64, end: u64, found: &mut Vec<u64>) -> io::Result<bool> {
    let mut last = from;
    for step in Walker::new(src, from, end) {
        match step {
            Ok(e) if e.end() == pos => {
                found.push(pos);
                return Ok(true);
            }
            Ok(e) if e.end() > pos => return Ok(false),
            Ok(e) => {
                if e.end() - last >= SPACING {
                    last = e.end();
                    found.push(last);
                }
            }
            Err(WalkError::Io { err, .. }) => return Err(err),
            Err(_) => return Ok(false),
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::event::tests::make_event;
    use crate::binlog::event::EventType;

    /// A stored file made of `n` events of 1,000 bytes after the magic, in memory.
    struct Mem(Vec<u8>);
    impl ReadAt for Mem {
        fn read_at(&self, buf: &mut [u8], off: u64) -> io::Result<()> {
            self.0.read_at(buf, off)
        }
    }
    impl Stored for Mem {
        fn len(&self) -> io::Result<u64> {
            Ok(self.0.len() as u64)
        }
        fn local(&self) -> Option<&std::fs::File> {
            None
        }
    }

    fn file(n: usize) -> Mem {
        let mut v = b"\xfebin".to_vec();
        for _ in 0..n {
            let at = v.len() as u32;
            v.extend(make_event(EventType::QUERY, at, &[b'q'; 1000 - 19], false));
        }
        Mem(v)
    }

    #[test]
    fn a_boundary_is_found_once_and_remembered_with_samples_on_the_way() {
        let f = file(2000);
        let b = Boundaries::default();
        let stored = vec!["b.000001".to_string()];
        let len = f.0.len() as u64;
        assert!(b.is_boundary("b.000001", &f, 4 + 1500 * 1000, len, &stored).unwrap());
        assert!(!b.is_boundary("b.000001", &f, 4 + 1500 * 1000 + 7, len, &stored).unwrap());
        assert!(b.is_boundary("b.000001", &f, len, len, &stored).unwrap());
        assert!(!b.is_boundary("b.000001", &f, len + 1, len, &stored).unwrap());
        assert!(b.is_boundary("b.000001", &f, 4, len, &stored).unwrap());
        let known = b.files.lock().unwrap()["b.000001"].lock().unwrap().clone();
        assert!(known.contains(&(4 + 1500 * 1000)) && known.contains(&len), "{known:?}");
        // A sample at least every SPACING bytes of what was walked.
        let gaps = known.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        assert!(gaps <= SPACING + 1000, "{gaps}");
        // Every one recorded really is a boundary.
        for k in &known {
            assert_eq!((k - 4) % 1000, 0, "{k}");
        }
    }

    #[test]
    fn a_file_no_longer_stored_is_forgotten() {
        let f = file(10);
        let b = Boundaries::default();
        assert!(b.is_boundary("b.000001", &f, 1004, 10_004, &["b.000001".into()]).unwrap());
        assert!(b.is_boundary("b.000002", &f, 2004, 10_004, &["b.000002".into()]).unwrap());
        assert!(!b.files.lock().unwrap().contains_key("b.000001"));
    }

    #[test]
    fn a_corrupt_stretch_is_no_boundary() {
        let mut f = file(10);
        f.0[4 + 3000 + 13] ^= 0xff; // the fourth event's log_pos
        let b = Boundaries::default();
        assert!(!b.is_boundary("b.000001", &f, 4 + 5000, 10_004, &["b.000001".into()]).unwrap());
        assert!(b.is_boundary("b.000001", &f, 4 + 2000, 10_004, &["b.000001".into()]).unwrap());
    }
}
