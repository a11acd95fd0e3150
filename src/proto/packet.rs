//! MySQL packet framing: 3-byte length, 1-byte sequence id, payloads over 16 MiB split.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html>
//! A payload of exactly 0xFFFFFF bytes (or a multiple) is followed by an empty packet,
//! which is how the reader knows the payload ended.

use std::io::{self, BufRead, Read, Write};

use super::compress::{Algorithm, Compressed};
use super::Error;
use crate::tls::Transport;

/// Largest payload of one physical packet.
pub const MAX_CHUNK: usize = 0xff_ffff;

/// Splits a payload into physical packets, appending them to `out`; `seq` advances.
pub fn encode(seq: &mut u8, payload: &[u8], out: &mut Vec<u8>) {
    let mut rest = payload;
    loop {
        let n = rest.len().min(MAX_CHUNK);
        out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        out.push(*seq);
        *seq = seq.wrapping_add(1);
        out.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        if n < MAX_CHUNK {
            break;
        }
    }
}

/// Parses a 4-byte packet header into (payload length, sequence id).
pub fn parse_header(h: [u8; 4]) -> (usize, u8) {
    (u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize, h[3])
}

/// A connection read through a buffer: one `read` syscall brings in many small event
/// packets instead of several syscalls per packet. Writes go straight through.
/// It derefs to the `Transport` (and on to the `TcpStream`) for timeouts, clones
/// and shutdown.
pub struct BufSocket {
    r: io::BufReader<Transport>,
    /// Set once the login asked for the compressed protocol and was let in.
    z: Option<Box<Compressed>>,
}

/// Read buffer of a replication connection.
const SOCKET_BUFFER: usize = 256 << 10;

impl BufSocket {
    pub fn new(t: Transport) -> BufSocket {
        BufSocket { r: io::BufReader::with_capacity(SOCKET_BUFFER, t), z: None }
    }

    /// Bytes read from the socket and not taken yet.
    pub fn buffered(&self) -> usize {
        self.r.buffer().len() + self.z.as_ref().map_or(0, |z| z.buffered())
    }

    /// From the next byte on, both ways go in compressed frames.
    pub fn compress(&mut self, alg: Algorithm) {
        self.z = Some(Box::new(Compressed::new(alg)));
    }

    /// The compression in use, if any.
    pub fn compression(&self) -> Option<Algorithm> {
        self.z.as_ref().map(|z| z.algorithm())
    }

    /// Starts TLS on the connection. Bytes read ahead would be taken for plaintext:
    /// a peer that sent any before the TLS handshake is refused.
    pub fn start_tls(&mut self, conn: rustls::Connection, deadline: Option<std::time::Instant>) -> Result<(), Error> {
        if !self.r.buffer().is_empty() {
            return Err(Error::malformed("the server sent data before the TLS handshake"));
        }
        self.r.get_mut().start_tls(conn, deadline).map_err(|e| Error::Tls { what: format!("handshake failed: {e}") })
    }
}

impl std::ops::Deref for BufSocket {
    type Target = Transport;
    fn deref(&self) -> &Transport {
        self.r.get_ref()
    }
}

impl Read for BufSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.z.as_mut() {
            Some(z) => z.read(&mut self.r, buf),
            None => self.r.read(buf),
        }
    }
}

impl Write for BufSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.z.as_mut() {
            Some(z) => z.write(self.r.get_mut(), buf).map(|()| buf.len()),
            None => self.r.get_mut().write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        if let Some(z) = self.z.as_mut() {
            z.flush(self.r.get_mut())?;
        }
        self.r.get_mut().flush()
    }
}

/// A byte source packets are read from.
pub trait Source: Read + Write {
    /// Appends up to `n` bytes to `v`; fewer only at the end of the stream.
    fn append(&mut self, v: &mut Vec<u8>, n: usize) -> io::Result<usize> {
        self.take(n as u64).read_to_end(v)
    }

    /// A client starts a new command: compressed frames are numbered from 0 again
    /// (`net_clear`).
    fn new_command(&mut self) {}
}

impl Source for std::net::TcpStream {}

/// Copies straight from the read buffer: `read_to_end` would zero the room it
/// reads into first, a cost per event byte on a replication stream.
impl Source for BufSocket {
    fn new_command(&mut self) {
        if let Some(z) = self.z.as_mut() {
            z.packer().start_command();
        }
    }

    fn append(&mut self, v: &mut Vec<u8>, n: usize) -> io::Result<usize> {
        if let Some(z) = self.z.as_mut() {
            return z.append(&mut self.r, v, n);
        }
        let mut got = 0;
        while got < n {
            let b = match self.r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if b.is_empty() {
                break;
            }
            let k = b.len().min(n - got);
            v.extend_from_slice(&b[..k]);
            self.r.consume(k);
            got += k;
        }
        Ok(got)
    }
}

/// A blocking packet stream over any `Read + Write` (a socket in the daemon, a
/// byte buffer in tests). Tracks the sequence id and caps reassembled size, so
/// a lying length field can make it allocate at most what actually arrives.
pub struct PacketStream<S> {
    pub inner: S,
    pub seq: u8,
    pub max_payload: usize,
    /// Follow the peer's sequence ids instead of checking them. A semisync primary
    /// restarts its numbering after each event that asks for an ACK.
    pub follow_seq: bool,
    out: Vec<u8>,
}

impl<S: Source> PacketStream<S> {
    pub fn new(inner: S, max_payload: usize) -> Self {
        PacketStream { inner, seq: 0, max_payload, follow_seq: false, out: Vec::new() }
    }

    /// Reads one logical packet, reassembling 16 MiB chunks into `buf` (cleared first).
    pub fn read_into(&mut self, buf: &mut Vec<u8>) -> Result<(), Error> {
        buf.clear();
        loop {
            let mut h = [0u8; 4];
            read_full(&mut self.inner, &mut h)?;
            let (len, seq) = parse_header(h);
            if self.follow_seq && buf.is_empty() {
                self.seq = seq;
            }
            if seq != self.seq {
                return Err(Error::Sequence { expected: self.seq, got: seq });
            }
            self.seq = self.seq.wrapping_add(1);
            if buf.len() + len > self.max_payload {
                return Err(Error::PacketTooLarge { len: buf.len() + len, max: self.max_payload });
            }
            let got = (&mut self.inner).take(len as u64).read_to_end(buf)?;
            if got < len {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("connection closed inside a packet ({got} of {len} bytes)"),
                )));
            }
            if len < MAX_CHUNK {
                return Ok(());
            }
        }
    }

    /// Starts reading one logical packet piece by piece, so a packet of any size
    /// needs only as much memory as the pieces asked for.
    pub fn begin(&mut self) -> Result<Pieces<'_, S>, Error> {
        let mut p = Pieces { s: self, left: 0, more: true, total: 0 };
        p.next_physical()?;
        Ok(p)
    }

    pub fn read(&mut self) -> Result<Vec<u8>, Error> {
        let mut v = Vec::new();
        self.read_into(&mut v)?;
        Ok(v)
    }

    /// Writes one logical packet and flushes.
    pub fn write(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.out.clear();
        let mut out = std::mem::take(&mut self.out);
        encode(&mut self.seq, payload, &mut out);
        let r = self.inner.write_all(&out).and_then(|_| self.inner.flush());
        self.out = out;
        r.map_err(Error::Io)
    }

    /// Writes several packets with one write and one flush.
    pub fn write_many(&mut self, payloads: &[Vec<u8>]) -> Result<(), Error> {
        self.out.clear();
        let mut out = std::mem::take(&mut self.out);
        for p in payloads {
            encode(&mut self.seq, p, &mut out);
        }
        let r = self.inner.write_all(&out).and_then(|_| self.inner.flush());
        self.out = out;
        r.map_err(Error::Io)
    }

    /// Starts a new command: the client's sequence restarts at 0.
    pub fn write_command(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.seq = 0;
        self.inner.new_command();
        self.write(payload)
    }
}

/// One logical packet being read piece by piece across its physical packets.
pub struct Pieces<'a, S> {
    s: &'a mut PacketStream<S>,
    /// Bytes left in the current physical packet.
    left: usize,
    /// Another physical packet follows the current one.
    more: bool,
    total: usize,
}

impl<S: Source> Pieces<'_, S> {
    fn next_physical(&mut self) -> Result<(), Error> {
        let mut h = [0u8; 4];
        read_full(&mut self.s.inner, &mut h)?;
        let (len, seq) = parse_header(h);
        if self.s.follow_seq && self.total == 0 {
            self.s.seq = seq;
        }
        if seq != self.s.seq {
            return Err(Error::Sequence { expected: self.s.seq, got: seq });
        }
        self.s.seq = self.s.seq.wrapping_add(1);
        self.total += len;
        if self.total > self.s.max_payload {
            return Err(Error::PacketTooLarge { len: self.total, max: self.s.max_payload });
        }
        self.left = len;
        self.more = len == MAX_CHUNK;
        Ok(())
    }

    /// Appends up to `n` payload bytes to `v`; returns how many (0 at the end of the packet).
    pub fn read_some(&mut self, v: &mut Vec<u8>, n: usize) -> Result<usize, Error> {
        while self.left == 0 {
            if !self.more {
                return Ok(0);
            }
            self.next_physical()?;
        }
        let k = n.min(self.left);
        let got = self.s.inner.append(v, k)?;
        if got < k {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("connection closed inside a packet ({} bytes short)", k - got),
            )));
        }
        self.left -= k;
        Ok(k)
    }

    /// Appends exactly `n` payload bytes to `v`, or fails if the packet ends first.
    pub fn read_exact(&mut self, v: &mut Vec<u8>, n: usize) -> Result<(), Error> {
        let mut want = n;
        while want > 0 {
            let k = self.read_some(v, want)?;
            if k == 0 {
                return Err(Error::malformed(format!("packet ended {want} bytes early")));
            }
            want -= k;
        }
        Ok(())
    }

    /// No payload bytes are left.
    pub fn is_done(&mut self) -> Result<bool, Error> {
        while self.left == 0 && self.more {
            self.next_physical()?;
        }
        Ok(self.left == 0)
    }
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<(), Error> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed by peer"))
        } else {
            Error::Io(e)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    struct Duplex {
        r: Cursor<Vec<u8>>,
        w: Vec<u8>,
    }
    impl Read for Duplex {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            self.r.read(b)
        }
    }
    impl Write for Duplex {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.w.write(b)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Source for Duplex {}

    fn stream(bytes: Vec<u8>, max: usize) -> PacketStream<Duplex> {
        PacketStream::new(Duplex { r: Cursor::new(bytes), w: Vec::new() }, max)
    }

    #[test]
    fn reassembles_payload_over_16_mib() {
        let payload: Vec<u8> = (0..MAX_CHUNK * 2 + 7).map(|i| i as u8).collect();
        let mut seq = 0;
        let mut wire = Vec::new();
        encode(&mut seq, &payload, &mut wire);
        assert_eq!(seq, 3);
        let mut s = stream(wire, 64 << 20);
        assert_eq!(s.read().unwrap(), payload);
    }

    #[test]
    fn pieces_cross_physical_packets_in_small_steps() {
        let payload: Vec<u8> = (0..MAX_CHUNK + 100).map(|i| (i % 251) as u8).collect();
        let mut seq = 0;
        let mut wire = Vec::new();
        encode(&mut seq, &payload, &mut wire);
        let mut s = stream(wire, 64 << 20);
        let mut p = s.begin().unwrap();
        let mut got = Vec::new();
        while p.read_some(&mut got, 1 << 20).unwrap() > 0 {}
        assert!(p.is_done().unwrap());
        assert_eq!(got, payload);
        let mut s = stream(vec![5, 0, 0, 0, 1, 2], 64);
        let mut p = s.begin().unwrap();
        let mut v = Vec::new();
        assert!(p.read_exact(&mut v, 5).is_err(), "cut inside the packet");
    }

    #[test]
    fn exact_multiple_of_chunk_ends_with_empty_packet() {
        let payload = vec![7u8; MAX_CHUNK];
        let mut seq = 0;
        let mut wire = Vec::new();
        encode(&mut seq, &payload, &mut wire);
        assert_eq!(wire.len(), MAX_CHUNK + 8);
        assert_eq!(&wire[wire.len() - 4..], &[0, 0, 0, 1]);
        assert_eq!(stream(wire, 32 << 20).read().unwrap(), payload);
    }

    #[test]
    fn rejects_truncated_packet_without_allocating_its_length() {
        // Claims 16 MiB - 1 but carries 3 bytes.
        let wire = vec![0xff, 0xff, 0xfe, 0, 1, 2, 3];
        let e = stream(wire, 1 << 30).read().unwrap_err();
        assert!(e.to_string().contains("inside a packet"), "{e}");
    }

    #[test]
    fn rejects_packet_over_the_cap_and_wrong_sequence() {
        let e = stream(vec![10, 0, 0, 0], 5).read().unwrap_err();
        assert!(matches!(e, Error::PacketTooLarge { .. }));
        let e = stream(vec![1, 0, 0, 9, 0], 5).read().unwrap_err();
        assert!(matches!(e, Error::Sequence { expected: 0, got: 9 }));
    }
}
