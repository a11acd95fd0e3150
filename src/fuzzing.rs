//! Fuzz targets: every parser that sees bytes from a peer, a file or a cnf, each fed
//! arbitrary input. They must return (an `Err` is fine) and never panic or allocate
//! from an unchecked length. `fuzz/` runs them under cargo-fuzz (nightly); the tests
//! below replay the committed corpus in `fuzz/corpus/<target>/` plus a few thousand
//! mutated inputs on stable, in CI.

use std::io::{self, Cursor, Read, Write};
use std::path::Path;

use crate::binlog::event::{self, ChecksumAlg, EventHeader, FormatDescription, Rotate};
use crate::binlog::fs::{Fs, SimFs};
use crate::binlog::gtid::{GtidSet, MariaPos};
use crate::binlog::gtid_index;
use crate::binlog::store;
use crate::binlog::trx::Tracker;
use crate::proto::command::{BinlogDump, BinlogDumpGtid, RegisterSlave};
use crate::proto::handshake::{HandshakeResponse41, HandshakeV10};
use crate::proto::packet::PacketStream;

/// A fuzz target: takes any bytes, and must not panic.
pub type Target = fn(&[u8]);

/// Every target by name, as cargo-fuzz and the replay test know them.
pub const TARGETS: &[(&str, Target)] = &[
    ("packets", packets),
    ("handshake", handshake),
    ("dump_commands", dump_commands),
    ("gtid_sets", gtid_sets),
    ("events", events),
    ("recovery_scan", recovery_scan),
    ("cnf", cnf),
    ("statements", statements),
    ("compressed", compressed),
];

/// A peer that sends `data` and swallows what it is sent.
struct Peer(Cursor<Vec<u8>>);

impl Read for Peer {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        self.0.read(b)
    }
}

impl crate::proto::packet::Source for Peer {}

impl Write for Peer {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Packet reassembly, whole and piece by piece, with a small size cap.
pub fn packets(data: &[u8]) {
    let mut s = PacketStream::new(Peer(Cursor::new(data.to_vec())), 1 << 16);
    s.follow_seq = data.first().is_some_and(|b| b & 1 == 1);
    for _ in 0..64 {
        if s.read().is_err() {
            break;
        }
    }
    let mut s = PacketStream::new(Peer(Cursor::new(data.to_vec())), 1 << 16);
    s.follow_seq = true;
    for _ in 0..64 {
        let Ok(mut p) = s.begin() else { break };
        let mut v = Vec::new();
        if p.read_exact(&mut v, 5).is_err() || p.read_some(&mut v, 1000).is_err() || p.is_done().is_err() {
            break;
        }
    }
    let _ = crate::proto::parse_err(data);
}

/// Compressed frames (zlib and zstd) read into packets, as a server reads a compressed
/// client and a replica its primary; the first byte picks the algorithm.
pub fn compressed(data: &[u8]) {
    use crate::proto::compress::{Algorithm, Compressed};
    let alg = if data.first().is_some_and(|b| b & 1 == 1) { Algorithm::Zstd { level: 3 } } else { Algorithm::Zlib };
    let rest = data.get(1..).unwrap_or_default();
    let mut z = Compressed::new(alg);
    let mut peer = Peer(Cursor::new(rest.to_vec()));
    let mut buf = [0u8; 4096];
    for _ in 0..256 {
        match z.read(&mut peer, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    // Through the packet layer, as a session reads commands.
    struct Zipped(Compressed, Peer);
    impl Read for Zipped {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            self.0.read(&mut self.1, b)
        }
    }
    impl Write for Zipped {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.write(&mut self.1, b).map(|()| b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.0.flush(&mut self.1)
        }
    }
    impl crate::proto::packet::Source for Zipped {}
    let mut s = PacketStream::new(Zipped(Compressed::new(alg), Peer(Cursor::new(rest.to_vec()))), 1 << 16);
    s.follow_seq = true;
    for _ in 0..64 {
        match s.read() {
            // Answered, as a session answers: the writing side frames it.
            Ok(p) => {
                if s.write(&p).is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
}

/// The handshake and auth parsers in both roles.
pub fn handshake(data: &[u8]) {
    let _ = HandshakeV10::decode(data);
    let _ = HandshakeResponse41::decode(data);
    // COM_CHANGE_USER, read by every combination of the capabilities it depends on.
    for caps in [
        0,
        crate::proto::caps::SECURE_CONNECTION,
        crate::proto::caps::SECURE_CONNECTION | crate::proto::caps::PLUGIN_AUTH,
    ] {
        let _ = crate::proto::handshake::ChangeUser::decode(data, caps);
    }
    let nonce = &data[..data.len().min(20)];
    let stored = [7u8; 32];
    let _ = crate::proto::auth::sha2_verify(data, nonce, &stored);
    let _ = crate::proto::auth::native_verify(data, nonce, &[3u8; 20]);
    let _ = crate::proto::auth::nonce_from(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = crate::proto::auth::Account::parse(s);
    }
}

/// COM_REGISTER_SLAVE, COM_BINLOG_DUMP and COM_BINLOG_DUMP_GTID as binlogd's server reads them.
pub fn dump_commands(data: &[u8]) {
    let _ = RegisterSlave::decode(data);
    let _ = BinlogDump::decode(data);
    if let Ok(d) = BinlogDumpGtid::decode(data) {
        let _ = GtidSet::decode(&d.gtid_data);
    }
}

/// MySQL and MariaDB GTID sets, binary and text, and the GTID index file.
pub fn gtid_sets(data: &[u8]) {
    if let Ok(s) = GtidSet::decode(data) {
        let again = GtidSet::decode(&s.encode()).ok();
        assert_eq!(again.as_ref(), Some(&s), "a decoded GTID set must encode to itself");
        let _ = s.difference(&GtidSet::default());
    }
    if let Ok(list) = MariaPos::decode_gtid_list(data) {
        // A Gtid_list read as the binlog state is (any servers, any order).
        let mut st = MariaPos::default();
        for g in list {
            st.advance(g);
        }
        let text = st.state();
        let again = MariaPos::parse_state(&text).ok().map(|p| p.domains);
        assert_eq!(again, Some(st.domains), "a binlog state must read back: {text}");
    }
    if let Ok(t) = std::str::from_utf8(data) {
        if let Ok(s) = GtidSet::parse(t) {
            assert_eq!(GtidSet::parse(&s.to_string()).ok(), Some(s.clone()), "text form must round-trip");
        }
        let _ = MariaPos::parse(t);
        let _ = gtid_index::decode(t);
    }
}

/// The event header, FDE, CRC, and the decoders of the events binlogd reads,
/// fed through the transaction tracker.
pub fn events(data: &[u8]) {
    let _ = EventHeader::decode_exact(data);
    let _ = event::verify_crc(data);
    let _ = FormatDescription::decode(data);
    let mut t = Tracker::new(ChecksumAlg::OFF);
    let mut at = 0usize;
    for _ in 0..256 {
        let rest = &data[at.min(data.len())..];
        let Ok(h) = EventHeader::decode(rest) else { break };
        let size = (h.event_size as usize).min(rest.len());
        let ev = &rest[..size];
        for alg in [ChecksumAlg::OFF, ChecksumAlg::CRC32] {
            let _ = Rotate::decode(ev, alg);
            let _ = event::decode_mysql_gtid(ev, alg);
            let _ = event::decode_tagged_gtid(ev, alg);
            let _ = event::decode_mariadb_gtid(ev, alg);
            let _ = event::query_text(ev, alg, 13);
            let _ = event::body(ev, alg);
            for server_version in ["9.7.4", "10.11.19-MariaDB"] {
                let fde = FormatDescription {
                    binlog_version: 4,
                    server_version: server_version.into(),
                    header_len: 19,
                    checksum: alg,
                    query_post_header_len: 13,
                };
                let _ = crate::server::describe::info(ev, &fde);
            }
        }
        let _ = t.feed(&h, ev);
        if size == 0 {
            break;
        }
        at += size;
    }
}

/// Recovery's scanner over an arbitrary file (after the magic), and the GTID index
/// reader over the same bytes.
pub fn recovery_scan(data: &[u8]) {
    let fs = SimFs::new();
    let dir = Path::new("/fuzz");
    let path = dir.join("bin.000001");
    let _ = fs.create_dir_all(dir);
    if let Ok(mut f) = fs.open(&path, true) {
        let mut bytes = event::MAGIC.to_vec();
        bytes.extend_from_slice(data);
        let _ = f.write_at(&bytes, 0);
        let _ = f.sync();
    }
    for tail_ok in [false, true] {
        let _ = store::scan_file(&fs, &path, "bin.000001", tail_ok);
    }
}

/// The cnf parser, and those of the small files binlogd keeps in binlog_dir and reads
/// at start: the primary's variables (which read back as written) and what SET PERSIST
/// kept.
pub fn cnf(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::config::Config::parse(&text, Path::new("fuzz.cnf"));
    let vars = crate::sysvars::decode_file(&text);
    assert_eq!(crate::sysvars::decode_file(&crate::sysvars::encode_file(&vars)), vars);
    drop(crate::settings::persisted(&text));
}

/// What a logged-in client's statement goes through before any state is read: its
/// query attributes, where the session has them, then its text.
pub fn statements(data: &[u8]) {
    if let Some(text) = crate::proto::command::query_text(data, true) {
        assert!(text.len() <= data.len(), "the text is a part of the payload");
    }
    // The same bytes as a COM_STMT_EXECUTE of statements of a few parameters.
    for count in 0..3 {
        for attributes in [false, true] {
            let mut types = Vec::new();
            if let Ok((_, v)) = crate::proto::stmt::execute_params(data, count, attributes, &mut types, &[]) {
                assert_eq!(v.len(), count);
                v.iter().for_each(|v| drop(v.literal()));
            }
        }
    }
    crate::server::query::fuzz(&String::from_utf8_lossy(data));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator, so a failure replays the same way.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn corpus(target: &str) -> Vec<Vec<u8>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
        let mut v: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .map(|rd| rd.flatten().filter_map(|e| std::fs::read(e.path()).ok()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Flips, truncates, splices and repeats bytes of a seed.
    fn mutate(r: &mut XorShift, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..=r.below(4) {
            match r.below(6) {
                0 if !v.is_empty() => {
                    let i = r.below(v.len());
                    v[i] ^= 1 << r.below(8);
                }
                1 => v.truncate(r.below(v.len() + 1)),
                2 => {
                    let i = r.below(v.len() + 1);
                    let b = [0x00, 0xff, 0xfe, 0x7f, 0x80, 0x01][r.below(6)];
                    v.splice(i..i, std::iter::repeat_n(b, 1 + r.below(9)));
                }
                3 if !v.is_empty() => {
                    let i = r.below(v.len());
                    v[i] = r.next() as u8;
                }
                4 if v.len() >= 4 => {
                    // A length-like field set huge.
                    let i = r.below(v.len() - 3);
                    v[i..i + 4].copy_from_slice(&(0xffff_fff0u32 - r.below(64) as u32).to_le_bytes());
                }
                _ => v.push(r.next() as u8),
            }
        }
        v
    }

    #[test]
    fn every_fuzz_target_survives_its_corpus_and_mutations() {
        for (name, target) in TARGETS {
            let seeds = corpus(name);
            assert!(!seeds.is_empty(), "fuzz/corpus/{name} is empty");
            for s in &seeds {
                target(s);
            }
            let mut r = XorShift(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
            for _ in 0..3000 {
                let s = &seeds[r.below(seeds.len())];
                target(&mutate(&mut r, s));
            }
            for n in 0..200 {
                let v: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
                target(&v);
            }
        }
    }
}
