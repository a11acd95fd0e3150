//! A client's socket, as the session and a dump both write to it: the login deadline,
//! the compressed protocol once the login asked for it, and the vectored and
//! `sendfile` writes a dump uses.

use std::io::{Read, Write};
use std::time::Instant;

use crate::proto::compress::{Algorithm, Compressed};
use crate::tls::Transport;

/// A client's socket. Until authentication its reads share one deadline, so a peer
/// that trickles bytes cannot hold a connection slot longer than `connect_timeout`.
pub struct ClientSocket {
    pub(super) s: Transport,
    pub(super) deadline: Option<Instant>,
    /// Set after the login's OK where the client asked for compression.
    pub(super) z: Option<Box<Compressed>>,
    /// Bytes taken into the compressor were found cut short before they were sent: the
    /// frames made of them must never go, so nothing more is written.
    broken: bool,
}

fn cut() -> std::io::Error {
    std::io::Error::other("the compressed stream was cut short: nothing more is sent")
}

impl std::ops::Deref for ClientSocket {
    type Target = Transport;
    fn deref(&self) -> &Transport {
        &self.s
    }
}

/// The transport under the login deadline.
struct Timed<'a> {
    s: &'a mut Transport,
    deadline: Option<Instant>,
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(d) = self.deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "no login within connect_timeout"));
            }
            self.s.set_read_timeout(Some(left))?;
        }
        self.s.read(buf)
    }
}

impl Read for ClientSocket {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut t = Timed { s: &mut self.s, deadline: self.deadline };
        match self.z.as_mut() {
            Some(z) => z.read(&mut t, buf),
            None => t.read(buf),
        }
    }
}

impl crate::proto::packet::Source for ClientSocket {}

impl ClientSocket {
    pub fn new(s: Transport) -> ClientSocket {
        ClientSocket { s, deadline: None, z: None, broken: false }
    }

    /// From the next byte on, both ways go in compressed frames.
    pub fn compress(&mut self, alg: Algorithm) {
        self.z = Some(Box::new(Compressed::new(alg)));
    }

    /// The compression in use, if any.
    pub fn compression(&self) -> Option<Algorithm> {
        self.z.as_ref().map(|z| z.algorithm())
    }

    /// A file's bytes can go to the socket as they are stored (`sendfile`, vectored
    /// writes straight from a mapping): neither TLS nor compression rewrites them.
    pub fn sends_as_stored(&self) -> bool {
        !self.s.is_tls() && self.z.is_none()
    }

    pub fn write_all_slices(&mut self, bufs: &mut [std::io::IoSlice<'_>], more: bool) -> std::io::Result<()> {
        self.write_all_slices_checked(bufs, more, || Ok(()))
    }

    /// Writes the slices; `copied` runs once their bytes are taken, before any is sent
    /// where they are copied first (TLS, compression). With `more`, more follows at once.
    pub fn write_all_slices_checked(
        &mut self,
        bufs: &mut [std::io::IoSlice<'_>],
        more: bool,
        copied: impl FnOnce() -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let Some(z) = self.z.as_mut() else {
            return self.s.write_all_slices_checked(bufs, more, copied);
        };
        // Framed whole before the check and sent after it: a frame sent before could
        // carry bytes of a mapping cut short.
        if self.broken {
            return Err(cut());
        }
        for b in bufs.iter() {
            z.push(b);
        }
        if let Err(e) = copied() {
            self.broken = true;
            return Err(e);
        }
        z.send(&mut self.s)?;
        if !more {
            z.flush(&mut self.s)?;
            self.s.flush()?;
        }
        Ok(())
    }

    /// Sends the file's bytes by `sendfile`; false where they must be read and written
    /// instead (TLS, compression).
    pub fn send_file(&mut self, f: &std::fs::File, at: u64, len: u64) -> std::io::Result<bool> {
        if self.z.is_some() {
            return Ok(false);
        }
        self.s.send_file(f, at, len)
    }
}

impl Write for ClientSocket {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.z.as_mut() {
            Some(_) if self.broken => Err(cut()),
            Some(z) => z.write(&mut self.s, buf).map(|()| buf.len()),
            None => self.s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if self.broken {
            return Err(cut());
        }
        if let Some(z) = self.z.as_mut() {
            z.flush(&mut self.s)?;
        }
        self.s.flush()
    }
}
