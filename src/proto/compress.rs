//! The compressed protocol: frames of a 7-byte header (the body's length, the frame's
//! own sequence id, the length before compression or 0 for a body sent as is) around
//! a piece of the stream of ordinary packets, deflated (zlib) or zstd-compressed.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_compression.html>
//!
//! What binlogd sends is cut and numbered as mysqld's net layer cuts and numbers it
//! (sql-common/net_serv.cc: `net_write_buff`, `net_real_write`, `net_flush`,
//! `my_real_read`; mysys/my_compress.cc: `my_compress`): bytes gather in a 16 KiB
//! buffer, a write that overflows it sends the buffer full and what is left as one
//! frame; a frame under 50 bytes, or one that compression would not make smaller, goes
//! as is. A frame read sets both counters: the next frame and the next inner packet
//! are numbered after it. After a flush the inner packets' numbering starts again at
//! the frames' (mysqld's `pkt_nr = compress_pkt_nr`). Readers of the compressed
//! protocol (libmysqlclient, MariaDB's, mysqld) check the frames' numbers only; the
//! inner ones are made the same as mysqld's all the same.
//!
//! `Frame`, `Unpacker::unpack` and `Packer` take and give bytes; `read_frame` drives a reader.

use std::io::{self, Read, Write};

use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};

/// Length of a frame's header.
pub const FRAME_HEADER: usize = 7;
/// mysqld's MIN_COMPRESS_LENGTH: shorter frames go as they are.
pub const MIN_COMPRESS_LENGTH: usize = 50;
/// mysqld's net_buffer_length: bytes gather up to this before a frame is sent.
pub const NET_BUFFER: usize = 16 << 10;
/// The most a frame's 3-byte lengths can say (MAX_PACKET_LENGTH).
pub const MAX_FRAME: usize = 0xff_ffff;
/// zlib's level for the protocol (mysqld's `mysql_default_compression_level`).
const ZLIB_LEVEL: i32 = 6;

/// How a connection's frames are compressed: CLIENT_COMPRESS is zlib,
/// CLIENT_ZSTD_COMPRESSION_ALGORITHM zstd (MySQL 8.0.18 and later) at the level the
/// client named in its login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Zlib,
    Zstd { level: u8 },
}

impl Algorithm {
    /// As MySQL's `Compression_algorithm` status names it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Zlib => "zlib",
            Algorithm::Zstd { .. } => "zstd",
        }
    }

    /// The level in use (`Compression_level`): zlib's is fixed.
    pub fn level(self) -> u8 {
        match self {
            Algorithm::Zlib => ZLIB_LEVEL as u8,
            Algorithm::Zstd { level } => level,
        }
    }
}

/// A frame's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The body's length on the wire.
    pub len: usize,
    pub seq: u8,
    /// The body's length once uncompressed; 0: the body is not compressed.
    pub raw_len: usize,
}

fn u24(b: &[u8]) -> usize {
    b.iter().take(3).rev().fold(0, |a, &x| (a << 8) | usize::from(x))
}

impl Frame {
    pub fn decode(h: &[u8; FRAME_HEADER]) -> Frame {
        Frame { len: u24(&h[..3]), seq: h[3], raw_len: u24(&h[4..]) }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.len as u32).to_le_bytes()[..3]);
        out.push(self.seq);
        out.extend_from_slice(&(self.raw_len as u32).to_le_bytes()[..3]);
    }
}

/// The reading side's state between frames: the body's buffer and zstd's context,
/// kept rather than made again for each frame.
#[derive(Default)]
pub struct Unpacker {
    body: Vec<u8>,
    zstd: Option<zstd::bulk::Decompressor<'static>>,
}

impl Unpacker {
    /// Appends what a frame's `body` stands for to `out`: the body itself, or its bytes
    /// uncompressed, which must be exactly `raw_len` of them.
    pub fn unpack(&mut self, alg: Algorithm, f: &Frame, body: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        if f.raw_len == 0 {
            out.extend_from_slice(body);
            return Ok(());
        }
        let start = out.len();
        match alg {
            Algorithm::Zlib => {
                let v = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(body, f.raw_len)
                    .map_err(|e| format!("zlib data does not inflate: {:?}", e.status))?;
                out.extend_from_slice(&v);
            }
            Algorithm::Zstd { .. } => {
                if self.zstd.is_none() {
                    self.zstd = Some(zstd::bulk::Decompressor::new().map_err(|e| format!("no zstd context: {e}"))?);
                }
                let d = self.zstd.as_mut().ok_or("no zstd context")?;
                let bad = |e: io::Error| format!("zstd data does not decode: {e}");
                // Into the spare room of an empty `out` directly (zstd writes from its
                // start), else through a buffer; at most raw_len bytes either way.
                if out.is_empty() {
                    out.reserve_exact(f.raw_len);
                    d.decompress_to_buffer(body, out).map_err(bad)?;
                } else {
                    let mut v = Vec::with_capacity(f.raw_len);
                    d.decompress_to_buffer(body, &mut v).map_err(bad)?;
                    out.extend_from_slice(&v);
                }
            }
        }
        let got = out.len() - start;
        if got != f.raw_len {
            out.truncate(start);
            return Err(format!("the frame uncompresses to {got} bytes, its header says {}", f.raw_len));
        }
        Ok(())
    }

    /// Reads one frame from `r` and appends its bytes to `out`; returns its header, or
    /// None where the stream ends before a frame begins.
    pub fn read_frame<R: Read>(&mut self, r: &mut R, alg: Algorithm, out: &mut Vec<u8>) -> io::Result<Option<Frame>> {
        let mut h = [0u8; FRAME_HEADER];
        let mut got = 0;
        while got < FRAME_HEADER {
            match r.read(&mut h[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed inside a compressed frame's header",
                    ))
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let f = Frame::decode(&h);
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        let read = r.take(f.len as u64).read_to_end(&mut body);
        let r = match read {
            Ok(n) if n < f.len => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("connection closed inside a compressed frame ({n} of {} bytes)", f.len),
            )),
            Ok(_) => self
                .unpack(alg, &f, &body, out)
                .map(|()| Some(f))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("compressed frame {}: {e}", f.seq))),
            Err(e) => Err(e),
        };
        // A large body's buffer is let go; a usual one kept for the next frame.
        if body.capacity() <= KEEP_WIRE {
            self.body = body;
        }
        r
    }
}

/// The writing side of a compressed connection: gathers the stream of packets, renumbers
/// their sequence ids as mysqld numbers them, and cuts it into frames.
pub struct Packer {
    alg: Algorithm,
    deflate: Option<Box<CompressorOxide>>,
    zstd: Option<zstd::bulk::Compressor<'static>>,
    /// Bytes not yet framed (at most NET_BUFFER between calls).
    pending: Vec<u8>,
    /// The next frame's sequence id (mysqld's compress_pkt_nr).
    seq: u8,
    /// The next inner packet's sequence id (pkt_nr).
    inner_seq: u8,
    /// Payload bytes of the inner packet being written still to come.
    left: usize,
    /// Its header's length bytes seen so far.
    head: [u8; 3],
    head_got: usize,
}

impl Packer {
    pub fn new(alg: Algorithm) -> Packer {
        Packer {
            alg,
            deflate: None,
            zstd: None,
            pending: Vec::new(),
            seq: 0,
            inner_seq: 0,
            left: 0,
            head: [0; 3],
            head_got: 0,
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// A frame numbered `seq` was read: what is written next answers it.
    pub fn answer(&mut self, seq: u8) {
        self.seq = seq.wrapping_add(1);
        self.inner_seq = self.seq;
    }

    /// A new command starts (a client's `net_clear`): both counters restart at 0.
    pub fn start_command(&mut self) {
        self.seq = 0;
        self.inner_seq = 0;
    }

    /// Takes `data`, the next bytes of the packet stream, appending to `wire` the frames
    /// that are complete. Each packet's header and payload are taken as mysqld's
    /// `my_net_write` hands them to `net_write_buff`, however the caller cut the stream.
    pub fn push(&mut self, mut data: &[u8], wire: &mut Vec<u8>) {
        while !data.is_empty() {
            if self.left > 0 {
                let k = self.left.min(data.len());
                self.write_buff(&data[..k], wire);
                self.left -= k;
                data = &data[k..];
                continue;
            }
            // Header bytes: the length kept, the sequence id replaced.
            let k = (4 - self.head_got).min(data.len());
            let mut h = [0u8; 4];
            h[..k].copy_from_slice(&data[..k]);
            for b in &mut h[..k] {
                if self.head_got < 3 {
                    self.head[self.head_got] = *b;
                } else {
                    *b = self.inner_seq;
                    self.inner_seq = self.inner_seq.wrapping_add(1);
                }
                self.head_got += 1;
            }
            if self.head_got == 4 {
                self.left = u24(&self.head);
                self.head_got = 0;
            }
            self.write_buff(&h[..k], wire);
            data = &data[k..];
        }
    }

    /// `net_write_buff`: bytes gather up to NET_BUFFER; what overflows it sends the
    /// buffer full, then the rest as frames of its own where it is over NET_BUFFER.
    fn write_buff(&mut self, mut data: &[u8], wire: &mut Vec<u8>) {
        let room = NET_BUFFER.saturating_sub(self.pending.len());
        if data.len() > room {
            if !self.pending.is_empty() {
                self.pending.extend_from_slice(&data[..room]);
                let full = std::mem::take(&mut self.pending);
                self.frame(&full, wire);
                self.pending = full;
                self.pending.clear();
                data = &data[room..];
            }
            while data.len() > MAX_FRAME {
                self.frame(&data[..MAX_FRAME], wire);
                data = &data[MAX_FRAME..];
            }
            if data.len() > NET_BUFFER {
                self.frame(data, wire);
                return;
            }
        }
        self.pending.extend_from_slice(data);
    }

    /// Sends what is gathered (`net_flush`); the inner numbering then follows the frames'.
    pub fn flush(&mut self, wire: &mut Vec<u8>) {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            self.frame(&pending, wire);
            self.pending = pending;
            self.pending.clear();
        }
        self.inner_seq = self.seq;
    }

    /// Bytes taken and not yet framed.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Appends one frame of `raw` to `wire`: compressed if that makes it smaller.
    fn frame(&mut self, raw: &[u8], wire: &mut Vec<u8>) {
        let at = wire.len();
        wire.extend_from_slice(&[0; FRAME_HEADER]);
        let packed = raw.len() >= MIN_COMPRESS_LENGTH && self.compress(raw, wire) && {
            let n = wire.len() - at - FRAME_HEADER;
            match self.alg {
                Algorithm::Zlib => n < raw.len(),
                Algorithm::Zstd { .. } => n <= raw.len(),
            }
        };
        if !packed {
            wire.truncate(at + FRAME_HEADER);
            wire.extend_from_slice(raw);
        }
        let len = wire.len() - at - FRAME_HEADER;
        let mut h = Vec::with_capacity(FRAME_HEADER);
        Frame { len, seq: self.seq, raw_len: if packed { raw.len() } else { 0 } }.encode(&mut h);
        wire[at..at + FRAME_HEADER].copy_from_slice(&h);
        self.seq = self.seq.wrapping_add(1);
    }

    /// Appends `raw` compressed to `out`; false if it could not be.
    fn compress(&mut self, raw: &[u8], out: &mut Vec<u8>) -> bool {
        match self.alg {
            Algorithm::Zlib => {
                let d = self.deflate.get_or_insert_with(|| {
                    Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(ZLIB_LEVEL, 1, 0)))
                });
                d.reset();
                let (status, used) = compress_to_output(d, raw, TDEFLFlush::Finish, |b| {
                    out.extend_from_slice(b);
                    true
                });
                status == TDEFLStatus::Done && used == raw.len()
            }
            Algorithm::Zstd { level } => {
                // The level the client named, as mysqld's `zstd_compress_alloc` uses it.
                if self.zstd.is_none() {
                    self.zstd = zstd::bulk::Compressor::new(i32::from(level)).ok();
                }
                match self.zstd.as_mut().map(|c| c.compress(raw)) {
                    Some(Ok(v)) => {
                        out.extend_from_slice(&v);
                        true
                    }
                    _ => false,
                }
            }
        }
    }
}

/// One side of a compressed connection: what was read and not yet taken, and the
/// writing side's `Packer`. Reads and writes go through the socket passed in.
pub struct Compressed {
    packer: Packer,
    unpacker: Unpacker,
    unpacked: Vec<u8>,
    at: usize,
    wire: Vec<u8>,
}

/// Largest frame buffer kept between writes; a larger one is let go.
const KEEP_WIRE: usize = 1 << 20;

impl Compressed {
    pub fn new(alg: Algorithm) -> Compressed {
        Compressed {
            packer: Packer::new(alg),
            unpacker: Unpacker::default(),
            unpacked: Vec::new(),
            at: 0,
            wire: Vec::new(),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.packer.algorithm()
    }

    pub fn packer(&mut self) -> &mut Packer {
        &mut self.packer
    }

    /// Bytes uncompressed and not yet taken.
    pub fn buffered(&self) -> usize {
        self.unpacked.len() - self.at
    }

    /// Makes bytes available, reading a frame from `r` where none are left; false
    /// where `r` ends between frames.
    fn fill<R: Read>(&mut self, r: &mut R) -> io::Result<bool> {
        while self.at >= self.unpacked.len() {
            self.unpacked.clear();
            self.at = 0;
            match self.unpacker.read_frame(r, self.packer.alg, &mut self.unpacked)? {
                None => return Ok(false),
                Some(f) => self.packer.answer(f.seq),
            }
        }
        Ok(true)
    }

    /// Reads the packet stream's next bytes; 0 where `r` ends between frames.
    pub fn read<R: Read>(&mut self, r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
        if !self.fill(r)? {
            return Ok(0);
        }
        let rest = self.unpacked.get(self.at..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }

    /// Appends up to `n` of the packet stream's next bytes to `v`; fewer only where `r` ends.
    pub fn append<R: Read>(&mut self, r: &mut R, v: &mut Vec<u8>, n: usize) -> io::Result<usize> {
        let mut got = 0;
        while got < n && self.fill(r)? {
            let rest = self.unpacked.get(self.at..).unwrap_or_default();
            let k = rest.len().min(n - got);
            v.extend_from_slice(&rest[..k]);
            self.at += k;
            got += k;
        }
        Ok(got)
    }

    /// Takes the packet stream's next bytes, writing to `w` the frames that are complete.
    pub fn write<W: Write>(&mut self, w: &mut W, data: &[u8]) -> io::Result<()> {
        self.push(data);
        self.send(w)
    }

    /// Takes the packet stream's next bytes; the frames complete wait for `send`.
    pub fn push(&mut self, data: &[u8]) {
        self.packer.push(data, &mut self.wire);
    }

    /// Writes what is gathered as a frame (`net_flush`).
    pub fn flush<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.packer.flush(&mut self.wire);
        self.send(w)
    }

    /// Writes the frames made so far.
    pub fn send<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        let r = if self.wire.is_empty() { Ok(()) } else { w.write_all(&self.wire) };
        self.wire.clear();
        if self.wire.capacity() > KEEP_WIRE {
            self.wire = Vec::new();
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::packet;

    fn stream(payloads: &[&[u8]]) -> Vec<u8> {
        let mut seq = 0;
        let mut v = Vec::new();
        for p in payloads {
            packet::encode(&mut seq, p, &mut v);
        }
        v
    }

    /// Reads every frame of `wire`: (header, bytes).
    fn frames(alg: Algorithm, wire: &[u8]) -> Vec<(Frame, Vec<u8>)> {
        let mut r = wire;
        let mut out = Vec::new();
        while !r.is_empty() {
            let mut v = Vec::new();
            let f = Unpacker::default().read_frame(&mut r, alg, &mut v).unwrap().unwrap();
            out.push((f, v));
        }
        out
    }

    #[test]
    fn a_short_answer_goes_as_is_and_a_long_one_compressed_each_algorithm() {
        for alg in [Algorithm::Zlib, Algorithm::Zstd { level: 3 }] {
            let mut p = Packer::new(alg);
            p.answer(0);
            let mut wire = Vec::new();
            let ok = stream(&[&[0, 0, 0, 2, 0, 0, 0]]);
            p.push(&ok, &mut wire);
            p.flush(&mut wire);
            // 7-byte header, not compressed, then the packet renumbered 1.
            assert_eq!(&wire[..7], &[11, 0, 0, 1, 0, 0, 0]);
            assert_eq!(&wire[7..], &[7, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]);
            let rows: Vec<Vec<u8>> = (0..40).map(|i| format!("row number {i} of a result").into_bytes()).collect();
            let refs: Vec<&[u8]> = rows.iter().map(|r| r.as_slice()).collect();
            let plain = stream(&refs);
            wire.clear();
            p.push(&plain, &mut wire);
            assert!(wire.is_empty(), "{alg:?}: under 16 KiB waits for the flush");
            p.flush(&mut wire);
            let got = frames(alg, &wire);
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].0.seq, 2, "{alg:?}");
            assert_eq!(got[0].0.raw_len, plain.len());
            assert!(got[0].0.len < plain.len() / 2, "{alg:?}: {} of {}", got[0].0.len, plain.len());
            // The inner packets numbered from the frame's number, one by one.
            let seqs: Vec<u8> = {
                let b = &got[0].1;
                let mut at = 0;
                let mut s = Vec::new();
                while at < b.len() {
                    s.push(b[at + 3]);
                    at += 4 + u24(&b[at..]);
                }
                s
            };
            assert_eq!(seqs, (2..42).collect::<Vec<u8>>());
        }
    }

    #[test]
    fn a_stream_is_cut_as_mysqld_cuts_it_and_reads_back_whole() {
        let big = vec![b'x'; 100_000];
        let small: Vec<u8> = (0..2000u32).flat_map(|i| i.to_le_bytes()).collect();
        let plain = stream(&[&small, &big, b"tail"]);
        let mut p = Packer::new(Algorithm::Zlib);
        let mut wire = Vec::new();
        // Written in pieces: the first fills part of the buffer, the second overflows it.
        let (a, b) = plain.split_at(small.len() + 4);
        p.push(a, &mut wire);
        assert!(wire.is_empty());
        p.push(b, &mut wire);
        // The buffer sent full, then the rest of the large payload as a frame of its
        // own; the last packet waits for the flush.
        let raw: Vec<usize> = frames(Algorithm::Zlib, &wire).iter().map(|(f, v)| f.raw_len.max(v.len())).collect();
        let gathered = 4 + small.len() + 4;
        assert_eq!(raw, vec![NET_BUFFER, big.len() - (NET_BUFFER - gathered)]);
        assert_eq!(p.pending(), 8);
        p.flush(&mut wire);
        let got = frames(Algorithm::Zlib, &wire);
        assert_eq!(got.len(), 3);
        let back: Vec<u8> = got.iter().flat_map(|(_, v)| v.clone()).collect();
        let mut want = plain.clone();
        // Inner numbers 0, 1, 2, as the frames' counter started at 0.
        assert_eq!((back[3], want[3]), (0, 0));
        want[3] = back[3];
        assert_eq!(back, want);
    }

    #[test]
    fn a_frame_is_appended_to_what_was_read_before_each_algorithm() {
        for alg in [Algorithm::Zlib, Algorithm::Zstd { level: 3 }] {
            let mut p = Packer::new(alg);
            let mut wire = Vec::new();
            let plain = stream(&[&[b'z'; 500], &[b'y'; 700]]);
            p.push(&plain, &mut wire);
            p.flush(&mut wire);
            let mut u = Unpacker::default();
            let mut out = b"before".to_vec();
            let f = u.read_frame(&mut wire.as_slice(), alg, &mut out).unwrap().unwrap();
            assert!(f.raw_len > 0, "{alg:?}");
            assert_eq!(&out[..6], b"before");
            assert_eq!(out.len(), 6 + plain.len(), "{alg:?}");
            // The same again into an empty buffer, with the context kept.
            let mut again = Vec::new();
            u.read_frame(&mut wire.as_slice(), alg, &mut again).unwrap().unwrap();
            assert_eq!(again, out[6..]);
        }
    }

    #[test]
    fn numbering_restarts_at_the_frames_after_a_flush() {
        let mut p = Packer::new(Algorithm::Zlib);
        p.answer(0);
        let mut wire = Vec::new();
        p.push(&stream(&[b"a", b"b", b"c"]), &mut wire);
        p.flush(&mut wire);
        p.push(&stream(&[b"d"]), &mut wire);
        p.flush(&mut wire);
        let got = frames(Algorithm::Zlib, &wire);
        assert_eq!(got.iter().map(|(f, _)| f.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!([got[0].1[3], got[0].1[8], got[0].1[13]], [1, 2, 3]);
        assert_eq!(got[1].1[3], 2, "pkt_nr = compress_pkt_nr at the flush");
    }

    #[test]
    fn a_header_cut_between_writes_is_still_renumbered() {
        let plain = stream(&[b"hello", b"world"]);
        let mut p = Packer::new(Algorithm::Zlib);
        p.answer(4);
        let mut wire = Vec::new();
        for b in &plain {
            p.push(std::slice::from_ref(b), &mut wire);
        }
        p.flush(&mut wire);
        let got = frames(Algorithm::Zlib, &wire);
        assert_eq!((got[0].1[3], got[0].1[12]), (5, 6));
    }

    #[test]
    fn a_bad_frame_is_an_error_and_never_a_panic() {
        let zstd = Algorithm::Zstd { level: 3 };
        for made in [Algorithm::Zlib, zstd] {
            let mut p = Packer::new(made);
            let mut wire = Vec::new();
            let text: Vec<u8> = (0..600u32).map(|i| b"binlog"[(i % 6) as usize] ^ (i / 50) as u8).collect();
            p.push(&stream(&[&text]), &mut wire);
            p.flush(&mut wire);
            assert_ne!(Frame::decode(wire[..7].try_into().unwrap()).raw_len, 0, "{made:?}: compressed");
            for alg in [Algorithm::Zlib, zstd] {
                // Every cut, and every byte of the body flipped, read by either algorithm.
                for n in 0..wire.len() {
                    let _ = Unpacker::default().read_frame(&mut &wire[..n], alg, &mut Vec::new());
                }
                for i in FRAME_HEADER..wire.len() {
                    for x in [0x01, 0x5a, 0xff] {
                        let mut w = wire.clone();
                        w[i] ^= x;
                        let _ = Unpacker::default().read_frame(&mut w.as_slice(), alg, &mut Vec::new());
                    }
                }
            }
        }
        let mut p = Packer::new(Algorithm::Zlib);
        let mut wire = Vec::new();
        p.push(&stream(&[&[b'q'; 300]]), &mut wire);
        p.flush(&mut wire);
        // A header that claims more than the body gives.
        let mut w = wire.clone();
        w[4] = w[4].wrapping_add(1);
        assert!(Unpacker::default().read_frame(&mut w.as_slice(), Algorithm::Zlib, &mut Vec::new()).is_err());
        assert!(Unpacker::default().read_frame(&mut &wire[..0], Algorithm::Zlib, &mut Vec::new()).unwrap().is_none());
        let cut = &wire[..wire.len() - 1];
        let e = Unpacker::default().read_frame(&mut &cut[..], Algorithm::Zlib, &mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
