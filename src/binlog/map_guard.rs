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
//! call fails with EFAULT instead. A mapping shared by many threads needs one more
//! rule, as the zero page one thread's fault puts in place is there for all: the
//! kernel would read it without a fault and send zeros. So a thread hands the
//! mapping to the kernel only under [`MapGuard::sending`], which fails once the
//! guard is cut, and the handler marks the guard cut and waits until no such send is
//! under way before it puts the zero page in. A SIGBUS for any address outside a
//! guard goes to the handler that was there before (the default action: the
//! process ends).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

/// How many mappings may be guarded at once: one per file being dumped, plus the store's scans.
/// Past that, a mapping is left unguarded (as every mapping was before).
const SLOTS: usize = 4096;

struct Slot {
    taken: AtomicBool,
    start: AtomicUsize,
    len: AtomicUsize,
    cut: AtomicBool,
    /// Sends from the range under way (`Sending`).
    senders: AtomicUsize,
}

/// The guarded ranges. Lock-free, as the signal handler reads it.
static GUARDED: [Slot; SLOTS] = [const {
    Slot {
        taken: AtomicBool::new(false),
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        cut: AtomicBool::new(false),
        senders: AtomicUsize::new(0),
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
                s.cut.store(false, Ordering::SeqCst);
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
        self.slot.is_some_and(|s| s.cut.load(Ordering::SeqCst))
    }

    /// Leave to hand the range to the kernel (`sendmsg`) until the token is dropped:
    /// none once the guard is cut. While a token lives, no zero page is put in the
    /// range, so the kernel reads the file's bytes or fails.
    pub fn sending(&self) -> Option<Sending> {
        let Some(s) = self.slot else { return Some(Sending(None)) };
        // SeqCst on both sides (here and in the handler): either this sees the cut,
        // or the handler sees this send and waits for it.
        s.senders.fetch_add(1, Ordering::SeqCst);
        if s.cut.load(Ordering::SeqCst) {
            s.senders.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Sending(Some(s)))
    }
}

/// A send from a guarded range under way (`MapGuard::sending`).
pub struct Sending(Option<&'static Slot>);

impl Drop for Sending {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.senders.fetch_sub(1, Ordering::SeqCst);
        }
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
        // Cut first, then no send under way: from here no send starts, and none
        // that started can read the zero page (`MapGuard::sending`). A send blocked
        // on a full socket ends within its net_write_timeout.
        s.cut.store(true, Ordering::SeqCst);
        let pause = libc::timespec { tv_sec: 0, tv_nsec: 200_000 };
        while s.senders.load(Ordering::SeqCst) != 0 {
            // SAFETY: nanosleep reads the timespec on this stack; a raw system call.
            unsafe {
                libc::syscall(
                    libc::SYS_nanosleep,
                    &pause as *const libc::timespec,
                    std::ptr::null_mut::<libc::timespec>(),
                )
            };
        }
        // SAFETY: the page lies inside a mapping its guard's owners keep alive, and
        // only they read it, each checking the guard before acting on what it read;
        // replacing it by a private zero page changes what they read, nothing else.
        // The raw system call, not libc's wrapper, as the wrapper may take locks.
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

    #[test]
    fn a_send_under_way_never_reads_the_zero_page_another_threads_fault_puts_in() {
        let dir = crate::test_dir::TestDir::new("guard-send");
        let path = dir.join("cut");
        std::fs::File::create(&path).unwrap().write_all(&vec![7u8; 16 * 4096]).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        let m = unsafe { memmap2::Mmap::map(&f).unwrap() };
        let g = MapGuard::new(m.as_ptr(), m.len());
        let token = g.sending().expect("not cut yet");
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(4096).unwrap();
        let (addr, len) = (m.as_ptr() as usize, m.len());
        // Another thread reads past the new end: its fault waits for the send.
        let reader = std::thread::spawn(move || {
            // SAFETY: the mapping outlives the thread (joined below).
            let m = unsafe { std::slice::from_raw_parts(addr as *const u8, len) };
            std::hint::black_box(m)[9 * 4096 + 5]
        });
        while !g.is_cut() {
            std::thread::yield_now();
        }
        // The send under way: the kernel's read of that page still fails.
        let (r, w) = {
            let mut fds = [0; 2];
            assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
            (fds[0], fds[1])
        };
        let n = unsafe { libc::write(w, m.as_ptr().add(9 * 4096) as *const libc::c_void, 64) };
        assert_eq!(n, -1, "the kernel read a page past the end during the send");
        assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EFAULT));
        drop(token);
        assert_eq!(reader.join().unwrap(), 0, "the faulting read goes on, with zeros");
        assert!(g.sending().is_none(), "no send starts from a cut range");
        unsafe {
            libc::close(r);
            libc::close(w);
        }
        drop(g);
        drop(m);
    }
}
