//! Bounds-checked little-endian readers and writers for MySQL wire and binlog bytes.
//!
//! Every read returns `Err(Short)` instead of panicking: the bytes come from a peer or a
//! file. Encodings follow
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_dt_integers.html>.

use std::fmt;

/// Not enough bytes, or a value that cannot be what the field says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Short {
    pub what: &'static str,
    pub at: usize,
    pub need: usize,
    pub have: usize,
}

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "truncated {} at byte {}: need {} bytes, have {}", self.what, self.at, self.need, self.have)
    }
}

impl std::error::Error for Short {}

/// A cursor over a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Short> {
        if n > self.remaining() {
            return Err(Short { what, at: self.pos, need: n, have: self.remaining() });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn skip(&mut self, n: usize, what: &'static str) -> Result<(), Short> {
        self.bytes(n, what).map(|_| ())
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, Short> {
        Ok(self.bytes(1, what)?[0])
    }

    pub fn uint(&mut self, n: usize, what: &'static str) -> Result<u64, Short> {
        let b = self.bytes(n, what)?;
        Ok(b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, Short> {
        Ok(self.uint(2, what)? as u16)
    }

    pub fn u24(&mut self, what: &'static str) -> Result<u32, Short> {
        Ok(self.uint(3, what)? as u32)
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, Short> {
        Ok(self.uint(4, what)? as u32)
    }

    pub fn u64(&mut self, what: &'static str) -> Result<u64, Short> {
        self.uint(8, what)
    }

    /// Length-encoded integer. `0xFB` (NULL) and `0xFF` are not integers here.
    pub fn lenenc(&mut self, what: &'static str) -> Result<u64, Short> {
        let at = self.pos;
        match self.u8(what)? {
            x @ 0..=0xfa => Ok(u64::from(x)),
            0xfc => self.uint(2, what),
            0xfd => self.uint(3, what),
            0xfe => self.uint(8, what),
            _ => Err(Short { what, at, need: 1, have: 0 }),
        }
    }

    /// Length-encoded string; the length is checked against what is there before any use.
    pub fn lenenc_bytes(&mut self, what: &'static str) -> Result<&'a [u8], Short> {
        let n = self.lenenc(what)?;
        let n =
            usize::try_from(n).map_err(|_| Short { what, at: self.pos, need: usize::MAX, have: self.remaining() })?;
        self.bytes(n, what)
    }

    /// NUL-terminated string (without the NUL).
    pub fn nul_bytes(&mut self, what: &'static str) -> Result<&'a [u8], Short> {
        let rest = &self.buf[self.pos..];
        match rest.iter().position(|&b| b == 0) {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => Err(Short { what, at: self.pos, need: rest.len() + 1, have: rest.len() }),
        }
    }
}

/// Append helpers for encoders.
pub trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u24(&mut self, v: u32);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    fn put_lenenc(&mut self, v: u64);
    fn put_lenenc_bytes(&mut self, b: &[u8]);
    fn put_nul_bytes(&mut self, b: &[u8]);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u24(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes()[..3]);
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_lenenc(&mut self, v: u64) {
        if v < 0xfb {
            self.push(v as u8);
        } else if v < 1 << 16 {
            self.push(0xfc);
            self.put_u16(v as u16);
        } else if v < 1 << 24 {
            self.push(0xfd);
            self.put_u24(v as u32);
        } else {
            self.push(0xfe);
            self.put_u64(v);
        }
    }
    fn put_lenenc_bytes(&mut self, b: &[u8]) {
        self.put_lenenc(b.len() as u64);
        self.extend_from_slice(b);
    }
    fn put_nul_bytes(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
        self.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenenc_round_trips_every_width() {
        for v in [0u64, 250, 251, 65535, 65536, (1 << 24) - 1, 1 << 24, u64::MAX] {
            let mut b = Vec::new();
            b.put_lenenc(v);
            assert_eq!(Reader::new(&b).lenenc("x").unwrap(), v);
        }
    }

    #[test]
    fn rejects_lenenc_string_longer_than_input() {
        let b = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2];
        assert!(Reader::new(&b).lenenc_bytes("s").is_err());
        assert!(Reader::new(&[0xfc, 1]).lenenc("s").is_err());
        assert!(Reader::new(&[0xff]).lenenc("s").is_err());
    }

    #[test]
    fn rejects_unterminated_nul_string() {
        assert!(Reader::new(b"abc").nul_bytes("s").is_err());
        let mut r = Reader::new(b"abc\0d");
        assert_eq!(r.nul_bytes("s").unwrap(), b"abc");
        assert_eq!(r.rest(), b"d");
    }
}
