//! One mapping of a stored file, shared by every dump that reads it.
//!
//! A dump sends event bytes from a mapping of the file, so that small events cost no
//! system call each. Were each dump to map the file itself, every page it reads would
//! count once per dump in binlogd's resident set (and cost a page fault per dump): a
//! thousand readers tailing one file kept a few hundred MiB resident while the page
//! cache held those pages once. Mapped once per file, a page read by any number of
//! dumps is mapped once; the pages mapped are those between the slowest and the
//! fastest of the dumps still holding pages, not their sum.
//!
//! Pages already sent are let go in steps ([`STEP`]): the dump that leads, one step
//! behind itself, for all of them (a dump just behind it reads on undisturbed); a dump
//! behind that mark, for the pages it read there (it mapped them again). A page let go
//! while another dump still reads it is read again from the page cache: it costs that
//! dump a page fault, never a byte.

use super::map_guard::{MapGuard, Sending};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Address space reserved for a file's mapping: binlog positions are 32-bit, so no
/// file is larger. Pages are mapped only where they are read.
pub const MAP_SPAN: usize = 1 << 32;

/// Pages already sent are let go in steps of this size. At 64 KiB a dump catching up
/// at 400 MB/s makes some 6,000 madvise calls a second, the leading tailing one a few
/// dozen, and the others none.
pub const STEP: u64 = 64 << 10;

/// A stored file, mapped read-only over [`MAP_SPAN`].
pub struct Mapped {
    /// Declared before `map`: released before the mapping goes.
    guard: MapGuard,
    map: memmap2::Mmap,
    /// Pages below this offset were let go by the dump that led (a multiple of STEP).
    behind: AtomicU64,
}

impl Mapped {
    /// The file's bytes as mapped; those past its end are reserved address space that
    /// must not be read.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Whether a read of the mapping went past the file's end (and read zeros).
    pub fn is_cut(&self) -> bool {
        self.guard.is_cut()
    }

    /// Leave to hand the mapping to the kernel, as long as the token lives (`MapGuard::sending`).
    pub fn sending(&self) -> Option<Sending> {
        self.guard.sending()
    }

    /// A dump that let go of its pages below `own` has sent everything below `at`:
    /// lets go of what is due, and returns the dump's new mark.
    pub fn sent(&self, own: u64, at: u64) -> u64 {
        let to = at / STEP * STEP;
        if to <= own {
            return own;
        }
        // Leading: one step behind itself, for every dump.
        let lead = to.saturating_sub(STEP);
        let mut mark = self.behind.load(Ordering::Acquire);
        let mut below = mark;
        while lead > mark {
            match self.behind.compare_exchange_weak(mark, lead, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    self.let_go(mark, lead);
                    // What this dump read below the old mark, it may have mapped again.
                    below = mark;
                    break;
                }
                Err(now) => {
                    mark = now;
                    below = now;
                }
            }
        }
        // Behind the mark: the pages it read there, which it mapped again.
        let end = to.min(below);
        if own < end {
            self.let_go(own, end);
        }
        to
    }

    /// A dump leaves the file, having let go below `own` and read nothing past `at`.
    pub fn leave(&self, own: u64, at: u64) {
        let end = at.div_ceil(STEP).saturating_mul(STEP).min(self.behind.load(Ordering::Acquire));
        if own < end {
            self.let_go(own, end);
        }
    }

    fn let_go(&self, from: u64, to: u64) {
        let (Ok(from), Ok(to)) = (usize::try_from(from), usize::try_from(to.min(MAP_SPAN as u64))) else { return };
        if to > from {
            // SAFETY: a read-only shared file mapping: the pages are read again from
            // the page cache if ever touched, nothing is lost.
            let _ = unsafe { self.map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from) };
        }
    }
}

/// The files mapped for dumps, by device and inode: a file put back under the same
/// name (restored from the archive) is another file.
#[derive(Default)]
pub struct Maps {
    by_file: Mutex<HashMap<(u64, u64), Weak<Mapped>>>,
}

impl Maps {
    /// The mapping of `f`, shared with every other dump reading it. A mapping found
    /// cut short is not handed out again: the file is mapped anew.
    pub fn get(&self, f: &File) -> std::io::Result<Arc<Mapped>> {
        let md = f.metadata()?;
        let key = (md.dev(), md.ino());
        let mut g = self.by_file.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = g.get(&key).and_then(Weak::upgrade).filter(|m| !m.is_cut()) {
            return Ok(m);
        }
        // SAFETY: bytes are read only below the durable end, which binlogd never
        // truncates or rewrites while it runs (a torn event is cut off only beyond it,
        // and recovery runs before serving). The one exception, the FDE's in-use flag
        // cleared at rotation, changes two bytes a reader would see the same way
        // through read(). Pages past the end of the file are reserved address space,
        // never touched. A file cut short from outside while mapped reads as zeros
        // behind the guard, which its readers check.
        let map = unsafe { memmap2::MmapOptions::new().len(MAP_SPAN).map(f)? };
        let guard = MapGuard::new(map.as_ptr(), map.len());
        let m = Arc::new(Mapped { guard, map, behind: AtomicU64::new(0) });
        g.retain(|_, w| w.strong_count() > 0);
        g.insert(key, Arc::downgrade(&m));
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// The resident KiB of the mapping starting at `start`, from /proc/self/smaps.
    fn resident_kib(start: *const u8) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let head = format!("{:x}-", start as usize);
        let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&head));
        lines.next().expect("the mapping is listed");
        let rss = lines.find(|l| l.starts_with("Rss:")).unwrap();
        rss.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    fn file_of(dir: &crate::test_dir::TestDir, len: usize) -> File {
        let path = dir.join("f");
        // Appended in small writes, as the writer appends events.
        let mut w = std::fs::File::create(&path).unwrap();
        for _ in 0..len / 512 {
            w.write_all(&[7u8; 512]).unwrap();
        }
        File::open(&path).unwrap()
    }

    #[test]
    fn dumps_of_one_file_share_its_mapping_and_another_file_gets_its_own() {
        let dir = crate::test_dir::TestDir::new("shared-map");
        let maps = Maps::default();
        let f = file_of(&dir, 8192);
        let again = File::open(dir.join("f")).unwrap();
        let a = maps.get(&f).unwrap();
        let b = maps.get(&again).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let other = dir.join("g");
        std::fs::write(&other, b"x").unwrap();
        let c = maps.get(&File::open(&other).unwrap()).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        drop((a, b));
        let d = maps.get(&f).unwrap();
        assert_eq!(d.bytes()[100], 7, "mapped anew once every holder let it go");
    }

    #[test]
    fn a_hundred_dumps_reading_one_file_keep_its_pages_resident_once() {
        let dir = crate::test_dir::TestDir::new("shared-map-rss");
        let len = 4 << 20;
        let f = file_of(&dir, len);
        let maps = Maps::default();
        let m = maps.get(&f).unwrap();
        let step = 4096;
        // A hundred dumps tail the file together, a page at a time, one of them
        // (the last) 1 MiB behind the others.
        let mut own = vec![0u64; 100];
        let mut sum = 0u64;
        let mut peak = 0;
        for at in (0..len).step_by(step) {
            for (i, o) in own.iter_mut().enumerate() {
                let at = if i == 99 { at.saturating_sub(1 << 20) } else { at };
                sum += u64::from(std::hint::black_box(m.bytes())[at]);
                *o = m.sent(*o, (at + step) as u64);
            }
            peak = peak.max(resident_kib(m.bytes().as_ptr()));
        }
        assert!(sum > 0);
        // The step behind the leaders, the step being read, the laggard's two: no
        // more, whatever the number of dumps.
        assert!(peak <= 4 * STEP / 1024, "peak {peak} KiB resident");
        for o in &own {
            m.leave(*o, len as u64);
        }
        assert!(resident_kib(m.bytes().as_ptr()) <= STEP / 1024);
    }
}
