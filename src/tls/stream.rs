//! A connection's byte transport: a plain TCP socket, or TLS over it.
//!
//! One TLS session can be shared by two threads: the reader, which blocks on the
//! socket, and the acker, which writes semisync replies between events. The session
//! state sits behind a mutex that is held only while bytes are moved in memory or
//! written; the reader waits for ciphertext with the mutex released, so an ACK never
//! waits for the next event to arrive.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Ciphertext read from the socket at a time: a little over one full TLS record.
const CIPHER_CHUNK: usize = 18 << 10;
/// Slices per `sendmsg`: the kernel's limit (UIO_MAXIOV).
const IOV_MAX: usize = 1024;

pub struct Transport {
    tcp: TcpStream,
    tls: Option<Arc<Mutex<rustls::Connection>>>,
    /// Ciphertext read from the socket that the session has not taken in yet.
    cipher: Vec<u8>,
    used: usize,
}

fn tls_err(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl Transport {
    pub fn plain(tcp: TcpStream) -> Transport {
        Transport { tcp, tls: None, cipher: Vec::new(), used: 0 }
    }

    /// Runs the TLS handshake on this plain connection; from then on it is encrypted.
    /// Reads give up at `deadline`, however slowly the peer sends.
    pub fn start_tls(&mut self, mut conn: rustls::Connection, deadline: Option<Instant>) -> io::Result<()> {
        if self.tls.is_some() {
            return Err(io::Error::other("TLS is already on"));
        }
        let mut io = Deadline { s: &self.tcp, deadline };
        while conn.is_handshaking() {
            conn.complete_io(&mut io)?;
        }
        while conn.wants_write() {
            conn.write_tls(&mut io)?;
        }
        self.tls = Some(Arc::new(Mutex::new(conn)));
        Ok(())
    }

    /// Writes every slice: in `sendmsg` calls on a plain socket, so bytes go from where
    /// they are (a mapped file) to the socket with no copy in between; joined into one
    /// buffer first over TLS, so they make full TLS records. `more` says that more
    /// bytes follow at once (`send_file`): TCP holds a short tail back for them instead
    /// of sending it as a segment of its own (the socket has TCP_NODELAY).
    pub fn write_all_slices(&mut self, bufs: &mut [io::IoSlice<'_>], more: bool) -> io::Result<()> {
        self.write_all_slices_checked(bufs, more, || Ok(()))
    }

    /// Like `write_all_slices`; over TLS, `copied` runs after the slices are copied in
    /// user space and before anything is sent, and its error stops the write (a mapped
    /// file cut short reads as zeros there, where `sendmsg` would fail instead).
    pub fn write_all_slices_checked(
        &mut self,
        mut bufs: &mut [io::IoSlice<'_>],
        more: bool,
        copied: impl FnOnce() -> io::Result<()>,
    ) -> io::Result<()> {
        if self.tls.is_some() {
            let mut joined = Vec::with_capacity(bufs.iter().map(|b| b.len()).sum());
            for b in bufs.iter() {
                joined.extend_from_slice(b);
            }
            copied()?;
            return self.write_all(&joined);
        }
        let flags = libc::MSG_NOSIGNAL | if more { libc::MSG_MORE } else { 0 };
        io::IoSlice::advance_slices(&mut bufs, 0);
        while !bufs.is_empty() {
            // SAFETY: IoSlice has the layout of iovec (std guarantees it on Unix); the
            // message names no address and no control data.
            let n = unsafe {
                let mut m: libc::msghdr = std::mem::zeroed();
                m.msg_iov = bufs.as_ptr() as *mut libc::iovec;
                m.msg_iovlen = bufs.len().min(IOV_MAX) as _;
                libc::sendmsg(self.tcp.as_raw_fd(), &m, flags)
            };
            match n {
                0 => return Err(io::Error::new(io::ErrorKind::WriteZero, "the socket takes no more data")),
                n if n > 0 => io::IoSlice::advance_slices(&mut bufs, n as usize),
                _ => {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// Sends the file's bytes `[at, at + len)` with `sendfile`: TCP takes references to
    /// the page cache's pages, so the sender copies nothing. Returns `Ok(false)`, having
    /// sent nothing, over TLS, where the bytes must pass through the session.
    pub fn send_file(&mut self, f: &std::fs::File, at: u64, len: u64) -> io::Result<bool> {
        if self.tls.is_some() {
            return Ok(false);
        }
        let mut off = libc::off_t::try_from(at).map_err(|_| io::Error::other("file offset out of range"))?;
        let end = at + len;
        while (off as u64) < end {
            let want = (end - off as u64).min(1 << 30) as usize;
            // SAFETY: both descriptors are open for the call; `off` is ours.
            let n = unsafe { libc::sendfile(self.tcp.as_raw_fd(), f.as_raw_fd(), &mut off, want) };
            match n {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("file ends at {off}, before {end}: cut short from outside"),
                    ))
                }
                n if n > 0 => {}
                _ => {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
            }
        }
        Ok(true)
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The protocol version and cipher suite, for the log.
    pub fn describe(&self) -> Option<String> {
        let g = self.session()?;
        let v = g.protocol_version().map_or_else(|| "?".to_string(), |v| format!("{v:?}"));
        let c = g.negotiated_cipher_suite().map_or_else(|| "?".to_string(), |c| format!("{:?}", c.suite()));
        Some(format!("{v} {c}").replace("TLSv1_", "TLSv1.").replace('_', "-"))
    }

    fn session(&self) -> Option<MutexGuard<'_, rustls::Connection>> {
        self.tls.as_ref().map(|t| t.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A second handle on the same connection, for a thread that only writes.
    pub fn try_clone(&self) -> io::Result<Transport> {
        Ok(Transport { tcp: self.tcp.try_clone()?, tls: self.tls.clone(), cipher: Vec::new(), used: 0 })
    }

    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Hands the session what was read and returns plaintext if any is ready.
    fn pump(&mut self, out: &mut [u8]) -> io::Result<Option<usize>> {
        let Some(tls) = self.tls.as_ref() else { return Ok(None) };
        let mut c = tls.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match c.reader().read(out) {
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if self.used >= self.cipher.len() {
                return Ok(None);
            }
            let mut rest = &self.cipher[self.used..];
            let n = c.read_tls(&mut rest)?;
            self.used += n;
            let r = c.process_new_packets();
            // Alerts, and replies such as key updates, go out at once.
            while c.wants_write() {
                c.write_tls(&mut &self.tcp)?;
            }
            r.map_err(tls_err)?;
        }
    }
}

/// The socket during the handshake: each read waits at most until the deadline.
struct Deadline<'a> {
    s: &'a TcpStream,
    deadline: Option<Instant>,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(d) = self.deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "TLS handshake not done in time"));
            }
            self.s.set_read_timeout(Some(left))?;
        }
        self.s.read(buf)
    }
}

impl Write for Deadline<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.s.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.s.flush()
    }
}

impl std::ops::Deref for Transport {
    type Target = TcpStream;
    fn deref(&self) -> &TcpStream {
        &self.tcp
    }
}

impl Read for Transport {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.tls.is_none() {
            return self.tcp.read(out);
        }
        loop {
            if let Some(n) = self.pump(out)? {
                return Ok(n);
            }
            // Wait for more ciphertext with the session unlocked.
            self.cipher.resize(CIPHER_CHUNK, 0);
            self.used = 0;
            let n = match self.tcp.read(&mut self.cipher) {
                Ok(n) => n,
                Err(e) => {
                    self.cipher.clear();
                    return Err(e);
                }
            };
            self.cipher.truncate(n);
            if n == 0 {
                // The peer closed: the session tells a clean close_notify (0) from a cut.
                let mut g = self.session().ok_or_else(|| io::Error::other("no TLS session"))?;
                g.read_tls(&mut io::empty())?;
                g.process_new_packets().map_err(tls_err)?;
                return match g.reader().read(out) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                    r => r,
                };
            }
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(tls) = self.tls.as_ref() else { return self.tcp.write(buf) };
        let mut c = tls.lock().unwrap_or_else(|e| e.into_inner());
        // The session takes a bounded amount of plaintext at a time: encrypt and send
        // each part before handing it the next.
        let mut done = 0;
        while done < buf.len() {
            let n = c.writer().write(&buf[done..])?;
            done += n;
            let pending = c.wants_write();
            while c.wants_write() {
                c.write_tls(&mut &self.tcp)?;
            }
            if n == 0 && !pending {
                return Err(io::Error::new(io::ErrorKind::WriteZero, "the TLS session takes no more data"));
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(tls) = self.tls.as_ref() {
            let mut c = tls.lock().unwrap_or_else(|e| e.into_inner());
            while c.wants_write() {
                c.write_tls(&mut &self.tcp)?;
            }
        }
        self.tcp.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn pair() -> (Transport, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        (Transport::plain(l.accept().unwrap().0), c)
    }

    fn file(tag: &str, bytes: &[u8]) -> (crate::test_dir::TestDir, std::fs::File) {
        let d = crate::test_dir::TestDir::new(&format!("stream-{tag}"));
        let p = d.join("f");
        std::fs::write(&p, bytes).unwrap();
        let f = std::fs::File::open(&p).unwrap();
        (d, f)
    }

    #[test]
    fn slices_then_a_file_range_arrive_in_order() {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let (_dir, f) = file("range", &bytes);
        let (mut t, mut c) = pair();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            c.read_to_end(&mut got).unwrap();
            got
        });
        t.write_all_slices(&mut [io::IoSlice::new(b"head"), io::IoSlice::new(b"-")], true).unwrap();
        assert!(t.send_file(&f, 1000, 250_000).unwrap());
        t.write_all_slices(&mut [io::IoSlice::new(b"tail")], false).unwrap();
        drop(t);
        let got = reader.join().unwrap();
        let mut want = b"head-".to_vec();
        want.extend_from_slice(&bytes[1000..251_000]);
        want.extend_from_slice(b"tail");
        assert!(got == want, "{} bytes arrived, {} expected", got.len(), want.len());
    }

    #[test]
    fn a_file_cut_short_under_send_file_is_an_error_not_a_hang() {
        let (dir, f) = file("cut", &[7u8; 10_000]);
        let (mut t, _c) = pair();
        std::fs::OpenOptions::new().write(true).open(dir.join("f")).unwrap().set_len(4000).unwrap();
        let e = t.send_file(&f, 0, 10_000).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
        assert!(e.to_string().contains("4000"), "{e}");
    }
}
