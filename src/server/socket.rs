//! A client's socket, as the session and a dump both write to it: the login deadline,
//! and the vectored and `sendfile` writes a dump uses.

use std::io::{Read, Write};
use std::time::Instant;

use crate::tls::Transport;

/// A client's socket. Until authentication its reads share one deadline, so a peer
/// that trickles bytes cannot hold a connection slot longer than `connect_timeout`.
pub struct ClientSocket {
    pub(super) s: Transport,
    pub(super) deadline: Option<Instant>,
}

impl std::ops::Deref for ClientSocket {
    type Target = Transport;
    fn deref(&self) -> &Transport {
        &self.s
    }
}

impl Read for ClientSocket {
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

impl crate::proto::packet::Source for ClientSocket {}

impl ClientSocket {
    pub fn write_all_slices(&mut self, bufs: &mut [std::io::IoSlice<'_>], more: bool) -> std::io::Result<()> {
        self.s.write_all_slices(bufs, more)
    }

    pub fn write_all_slices_checked(
        &mut self,
        bufs: &mut [std::io::IoSlice<'_>],
        more: bool,
        copied: impl FnOnce() -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        self.s.write_all_slices_checked(bufs, more, copied)
    }

    pub fn send_file(&mut self, f: &std::fs::File, at: u64, len: u64) -> std::io::Result<bool> {
        self.s.send_file(f, at, len)
    }
}

impl Write for ClientSocket {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.s.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.s.flush()
    }
}
