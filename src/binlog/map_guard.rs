//! Guards for mapped binlog files that another process may cut short.
//!
//! Reading a mapped page that lies past the file's end raises SIGBUS, whose default
//! action ends the whole daemon: every dump, the mirror and its semisync ACKs. binlogd
//! never truncates a file it maps below what it maps it for, but an operator (or a
//! tool) may, from outside. A guarded mapping turns such a read into zeros and a flag:
//! the SIGBUS handler installed here puts a zero page over the faulting page and marks
//! the guard as cut, and its owner checks [`MapGuard::is_cut`] after reading, before it
//! acts on what it read, and ends with an error naming the file.
//!
//! A read by the kernel (the mapping handed to `sendmsg`) never raises SIGBUS: the
//! call fails with EFAULT instead. A SIGBUS for any address outside a guard goes to
//! the handler that was there before (the default action: the process ends).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

/// How many mappings may be guarded at once: one per dump, plus the store's scans.
/// Past that, a mapping is left unguarded (as every mapping was before).
const SLOTS: usize = 4096;

struct Slot {
    taken: AtomicBool,
    start: AtomicUsize,
    len: AtomicUsize,
    cut: AtomicBool,
}

/// The guarded ranges. Lock-free, as the signal handler reads it.
static GUARDED: [Slot; SLOTS] = [const {
    Slot {
        taken: AtomicBool::new(false),
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        cut: AtomicBool::new(false),
    }
}; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(4096);
static INSTALL: Once = Once::new();
/// The SIGBUS action before ours, given back for a fault outside every guard.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

/// A mapped range `[start, start + len)` whose reads past the file's end are caught.
/// Drop it before the mapping is unmapped.
pub struct MapGuard {
    slot: Option<&'static Slot>,
}

impl MapGuard {
    /// Guards the mapped range. The range must stay mapped while the guard lives.
    pub fn new(start: *const u8, len: usize) -> MapGuard {
        install();
        for s in GUARDED.iter() {
            if s.taken.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                s.cut.store(false, Ordering::Release);
                s.len.store(len, Ordering::Release);
                s.start.store(start as usize, Ordering::Release);
                return MapGuard { slot: Some(s) };
            }
        }
        log::warn!("more than {SLOTS} files mapped at once: a file cut short from outside may stop binlogd");
        MapGuard { slot: None }
    }

    /// Whether a read of the range went past the file's end (and read zeros).
    pub fn is_cut(&self) -> bool {
        self.slot.is_some_and(|s| s.cut.load(Ordering::Acquire))
    }
}

impl Drop for MapGuard {
    fn drop(&mut self) {
        if let Some(s) = self.slot.take() {
            s.start.store(0, Ordering::Release);
            s.len.store(0, Ordering::Release);
            s.taken.store(false, Ordering::Release);
        }
    }
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: sysconf has no preconditions; the sigaction struct is zeroed and
        // then filled, and the handler below only touches atomics and makes raw
        // system calls, which is what a signal handler may do.
        unsafe {
            let p = libc::sysconf(libc::_SC_PAGESIZE);
            if p > 0 {
                PAGE.store(p as usize, Ordering::Release);
            }
            let mut sa: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = on_sigbus;
            sa.sa_sigaction = handler as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut sa.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) == 0 {
                let _ = PREVIOUS.set(old);
            }
            if libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut()) != 0 {
                log::warn!("cannot catch SIGBUS: {}", std::io::Error::last_os_error());
            }
        }
    });
}

extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    for s in GUARDED.iter() {
        let start = s.start.load(Ordering::Acquire);
        if start == 0 || addr < start || addr - start >= s.len.load(Ordering::Acquire) {
            continue;
        }
        let page = addr & !(PAGE.load(Ordering::Acquire) - 1);
        // SAFETY: the page lies inside a mapping its guard's owner keeps alive, and
        // only that thread reads it; replacing it by a private zero page changes what
        // that thread reads, nothing else. The raw system call, not libc's wrapper,
        // as the wrapper may take locks.
        let r = unsafe {
            libc::syscall(
                libc::SYS_mmap,
                page,
                PAGE.load(Ordering::Acquire),
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if r as usize == page {
            s.cut.store(true, Ordering::Release);
            return;
        }
        break;
    }
    // Not a guarded read: the previous action (or the default), taken when the
    // faulting read runs again.
    // SAFETY: sigaction and signal are async-signal-safe; PREVIOUS was set before
    // this handler was installed and never changes.
    unsafe {
        match PREVIOUS.get() {
            Some(old) => {
                libc::sigaction(libc::SIGBUS, old, std::ptr::null_mut());
            }
            None => {
                libc::signal(libc::SIGBUS, libc::SIG_DFL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reading_a_mapped_file_cut_short_from_outside_gives_zeros_and_a_flag() {
        let dir = crate::test_dir::TestDir::new("guard");
        let path = dir.join("cut");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&vec![7u8; 3 * 4096 * 4]).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        let m = unsafe { memmap2::Mmap::map(&f).unwrap() };
        let g = MapGuard::new(m.as_ptr(), m.len());
        assert_eq!(m[5 * 4096], 7);
        assert!(!g.is_cut());
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(4096).unwrap();
        // Past the new end: zeros, not a SIGBUS.
        let past = std::hint::black_box(&m[..])[10 * 4096 + 3];
        assert_eq!(past, 0);
        assert!(g.is_cut());
        // Before it, the file's bytes.
        assert_eq!(std::hint::black_box(&m[..])[17], 7);
        drop(g);
        let g2 = MapGuard::new(m.as_ptr(), m.len());
        assert!(!g2.is_cut(), "a slot is reused clean");
        drop(g2);
        drop(m);
    }
}
