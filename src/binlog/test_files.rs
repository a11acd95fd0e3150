//! Binlog files for unit tests: the golden files captured from real servers
//! (`tests/data/`), and files built or rewritten from them.

use super::event::{self, tests::make_event, EventHeader, EventType, HEADER_LEN};
use super::gtid::GtidSet;

/// A file of `tests/data/`.
pub fn golden(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Offsets of the events of `t` in a file.
pub fn offsets(file: &[u8], t: EventType) -> Vec<usize> {
    let mut out = Vec::new();
    let mut pos = 4;
    while pos < file.len() {
        let h = EventHeader::decode(&file[pos..]).unwrap();
        if h.event_type == t {
            out.push(pos);
        }
        pos += h.event_size as usize;
    }
    out
}

/// Puts `body` in place of the (same length) body of the CRC32 event at `pos`.
pub fn rewrite(file: &mut [u8], pos: usize, body: &[u8]) {
    let size = EventHeader::decode(&file[pos..]).unwrap().event_size as usize;
    assert_eq!(body.len(), size - HEADER_LEN - 4, "same length only");
    file[pos + HEADER_LEN..pos + size - 4].copy_from_slice(body);
    let crc = crc32fast::hash(&file[pos..pos + size - 4]);
    file[pos + size - 4..pos + size].copy_from_slice(&crc.to_le_bytes());
}

/// `file` with its Previous_gtids saying `set` (encoded to the same length).
pub fn with_previous_gtids(mut file: Vec<u8>, set: &str) -> Vec<u8> {
    let at = offsets(&file, EventType::PREVIOUS_GTIDS)[0];
    rewrite(&mut file, at, &GtidSet::parse(set).unwrap().encode());
    file
}

/// A MariaDB file: the golden file's FDE, a Gtid_list, standalone GTID + statement
/// groups, and a ROTATE to the next file.
pub fn maria_file(list: &[(u32, u32, u64)], gtids: &[(u32, u32, u64)], next: &str) -> Vec<u8> {
    let g = golden("mariadb-10.11.19.000001");
    let fde_len = EventHeader::decode(&g[4..]).unwrap().event_size as usize;
    let mut f = g[..4 + fde_len].to_vec();
    let ev = |f: &mut Vec<u8>, t: EventType, server: u32, body: &[u8]| {
        let mut e = make_event(t, f.len() as u32, body, false);
        e[5..9].copy_from_slice(&server.to_le_bytes());
        let n = e.len() + 4;
        e[9..13].copy_from_slice(&(n as u32).to_le_bytes());
        e[13..17].copy_from_slice(&((f.len() + n) as u32).to_le_bytes());
        let crc = crc32fast::hash(&e);
        e.extend_from_slice(&crc.to_le_bytes());
        f.extend_from_slice(&e);
    };
    let mut b = (list.len() as u32).to_le_bytes().to_vec();
    for &(d, s, n) in list {
        b.extend_from_slice(&d.to_le_bytes());
        b.extend_from_slice(&s.to_le_bytes());
        b.extend_from_slice(&n.to_le_bytes());
    }
    ev(&mut f, EventType::MARIADB_GTID_LIST, 1, &b);
    for &(d, s, n) in gtids {
        let mut b = n.to_le_bytes().to_vec();
        b.extend_from_slice(&d.to_le_bytes());
        b.push(event::MARIADB_FL_STANDALONE);
        b.extend_from_slice(&[0; 6]);
        ev(&mut f, EventType::MARIADB_GTID, s, &b);
        let mut q = vec![0u8; 13];
        q.push(0);
        q.extend_from_slice(b"CREATE TABLE t (a INT)");
        ev(&mut f, EventType::QUERY, s, &q);
    }
    let mut r = 4u64.to_le_bytes().to_vec();
    r.extend_from_slice(next.as_bytes());
    ev(&mut f, EventType::ROTATE, 1, &r);
    f
}

/// An FDE as a primary sends it again at the start of a dump from inside its file:
/// log_pos 0, `created` 0, the in-use flag cleared, the checksum computed again.
pub fn as_resent(fde: &[u8]) -> Vec<u8> {
    let mut e = fde.to_vec();
    e[event::LOG_POS_OFFSET..event::LOG_POS_OFFSET + 4].fill(0);
    e[event::FDE_CREATED..event::FDE_CREATED + 4].fill(0);
    e[event::FLAGS_OFFSET] &= !1;
    let n = e.len() - event::CHECKSUM_LEN;
    let crc = crc32fast::hash(&e[..n]);
    e[n..].copy_from_slice(&crc.to_le_bytes());
    e
}

/// `fde` as if its file had been begun `secs` seconds later.
pub fn begun_later(fde: &[u8], secs: u32) -> Vec<u8> {
    let mut e = fde.to_vec();
    let t = u32::from_le_bytes([e[0], e[1], e[2], e[3]]) + secs;
    e[..4].copy_from_slice(&t.to_le_bytes());
    let n = e.len() - event::CHECKSUM_LEN;
    let crc = crc32fast::hash(&e[..n]);
    e[n..].copy_from_slice(&crc.to_le_bytes());
    e
}
