//! GTID sets: MySQL's `uuid:1-5:7` sets and MariaDB's `domain-server-seq` positions.
//!
//! MySQL encoding (PREVIOUS_GTIDS body, COM_BINLOG_DUMP_GTID data):
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump_gtid.html>
//! MariaDB GTID_LIST: <https://mariadb.com/kb/en/gtid_list_event/>

use std::collections::BTreeMap;
use std::fmt;

use crate::proto::buf::{Put, Reader};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtidError(pub String);

impl fmt::Display for GtidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GtidError {}

impl From<crate::proto::buf::Short> for GtidError {
    fn from(s: crate::proto::buf::Short) -> Self {
        GtidError(s.to_string())
    }
}

pub type Uuid = [u8; 16];

pub fn parse_uuid(s: &str) -> Result<Uuid, GtidError> {
    let hex: Vec<u8> = s.bytes().filter(|&b| b != b'-').collect();
    let dashes_ok = s.len() == 36 && [8, 13, 18, 23].iter().all(|&i| s.as_bytes()[i] == b'-');
    if hex.len() != 32 || !(dashes_ok || s.len() == 32) {
        return Err(GtidError(format!("'{s}' is not a UUID")));
    }
    let mut u = [0u8; 16];
    for (i, c) in hex.chunks(2).enumerate() {
        let t = std::str::from_utf8(c).ok().and_then(|t| u8::from_str_radix(t, 16).ok());
        u[i] = t.ok_or_else(|| GtidError(format!("'{s}' is not a UUID")))?;
    }
    Ok(u)
}

pub fn format_uuid(u: &Uuid) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// A GTID's source: the server's UUID and, since MySQL 8.3, an optional tag
/// (`uuid:tag:5`). Untagged GTIDs have an empty tag. Tags are case-insensitive and
/// kept in lower case, as the server keeps them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tsid {
    pub uuid: Uuid,
    pub tag: String,
}

impl From<Uuid> for Tsid {
    fn from(uuid: Uuid) -> Self {
        Tsid { uuid, tag: String::new() }
    }
}

impl From<&Uuid> for Tsid {
    fn from(uuid: &Uuid) -> Self {
        Tsid::from(*uuid)
    }
}

impl From<&Tsid> for Tsid {
    fn from(t: &Tsid) -> Self {
        t.clone()
    }
}

impl fmt::Display for Tsid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_uuid(&self.uuid))?;
        if !self.tag.is_empty() {
            write!(f, ":{}", self.tag)?;
        }
        Ok(())
    }
}

/// A GTID tag as MySQL allows it: a letter or `_`, then up to 31 letters, digits
/// or `_`; lower-cased.
pub fn parse_tag(t: &str) -> Result<String, GtidError> {
    let ok = (1..=32).contains(&t.len())
        && t.bytes().next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && t.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
    if ok {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(GtidError(format!("'{t}' is not a GTID tag")))
    }
}

/// An unsigned integer in the variable-length form of MySQL's serialization library
/// (tagged GTID events and sets): the number of trailing one bits of the first byte
/// is the number of bytes that follow; the value is the little-endian whole shifted
/// right by that number plus one (a first byte of 0xff: the next 8 bytes).
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/PageLibsMysqlSerialization.html>
pub fn read_varlen(r: &mut Reader<'_>, what: &'static str) -> Result<u64, GtidError> {
    let first = r.u8(what)?;
    let extra = first.trailing_ones() as usize;
    if extra == 8 {
        return Ok(r.u64(what)?);
    }
    let rest = r.bytes(extra, what)?;
    let whole = rest.iter().rev().fold(0u64, |a, &b| a << 8 | u64::from(b)) << 8 | u64::from(first);
    Ok(whole >> (extra + 1))
}

/// The inverse of `read_varlen`.
pub fn put_varlen(out: &mut Vec<u8>, v: u64) {
    // n more bytes carry 7 * (n + 1) bits of value.
    let extra = (0..8).find(|&n| v < 1u64 << (7 * (n + 1))).unwrap_or(8);
    if extra == 8 {
        out.push(0xff);
        out.extend_from_slice(&v.to_le_bytes());
        return;
    }
    let whole = (v << (extra + 1)) | ((1u64 << extra) - 1);
    out.extend_from_slice(&whole.to_le_bytes()[..=extra]);
}

/// A MySQL GTID set: per source (UUID and tag), sorted disjoint half-open intervals
/// [start, end). Sources are ordered by UUID, untagged first, as MySQL prints them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GtidSet {
    pub sids: BTreeMap<Tsid, Vec<(u64, u64)>>,
}

impl GtidSet {
    pub fn is_empty(&self) -> bool {
        self.sids.values().all(|v| v.is_empty())
    }

    /// Parses `uuid:1-5:7, uuid2:1-3` (whitespace and newlines allowed, as MySQL prints it).
    /// A UUID or a tag with no interval after it adds nothing, as MySQL 9.7 reads it.
    pub fn parse(s: &str) -> Result<Self, GtidError> {
        let mut set = GtidSet::default();
        for part in s.split(',') {
            let part: String = part.chars().filter(|c| !c.is_whitespace()).collect();
            if part.is_empty() {
                continue;
            }
            let mut it = part.split(':');
            let mut sid = Tsid::from(parse_uuid(it.next().unwrap_or(""))?);
            for iv in it {
                if iv.bytes().next().is_some_and(|c| !c.is_ascii_digit()) {
                    // `uuid:tag:1-5`: the intervals after a tag are that tag's.
                    sid.tag = parse_tag(iv)?;
                    continue;
                }
                let (a, b) = match iv.split_once('-') {
                    Some((a, b)) => (a, b),
                    None => (iv, iv),
                };
                let bad = || GtidError(format!("bad GTID interval '{iv}' in '{part}'"));
                let a: u64 = a.parse().map_err(|_| bad())?;
                let b: u64 = b.parse().map_err(|_| bad())?;
                if a == 0 || b < a || b >= i64::MAX as u64 {
                    return Err(bad());
                }
                set.sids.entry(sid.clone()).or_default().push((a, b + 1));
            }
        }
        set.normalize();
        Ok(set)
    }

    /// Sorts and merges each source's intervals, once for a whole batch: the sets
    /// come from peers and may list their intervals in any order.
    fn normalize(&mut self) {
        for v in self.sids.values_mut() {
            v.sort_unstable();
            v.dedup_by(|next, kept| {
                let joins = next.0 <= kept.1;
                if joins {
                    kept.1 = kept.1.max(next.1);
                }
                joins
            });
        }
        self.sids.retain(|_, v| !v.is_empty());
    }

    pub fn add(&mut self, sid: impl Into<Tsid>, gno: u64) {
        self.add_interval(sid, gno, gno + 1);
    }

    /// Adds [start, end), merging with neighbours.
    pub fn add_interval(&mut self, sid: impl Into<Tsid>, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let v = self.sids.entry(sid.into()).or_default();
        // Fast path: appending right after the last interval, as in a stream of new GTIDs.
        if let Some(last) = v.last_mut() {
            if last.1 == start {
                last.1 = end;
                return;
            }
            if last.1 < start {
                v.push((start, end));
                return;
            }
        } else {
            v.push((start, end));
            return;
        }
        // Intervals are sorted, disjoint and not touching: those from `first` to
        // `past` overlap or touch [start, end) and become one with it.
        let first = v.partition_point(|iv| iv.1 < start);
        let past = v.partition_point(|iv| iv.0 <= end);
        if first == past {
            v.insert(first, (start, end));
        } else {
            v[first] = (v[first].0.min(start), v[past - 1].1.max(end));
            v.drain(first + 1..past);
        }
    }

    pub fn union(&mut self, other: &GtidSet) {
        for (sid, ivs) in other.sids.iter().filter(|(_, v)| !v.is_empty()) {
            self.sids.entry(sid.clone()).or_default().extend_from_slice(ivs);
        }
        self.normalize();
    }

    pub fn contains(&self, sid: impl Into<Tsid>, gno: u64) -> bool {
        self.sids.get(&sid.into()).is_some_and(|v| {
            let i = v.partition_point(|iv| iv.1 <= gno);
            v.get(i).is_some_and(|iv| iv.0 <= gno)
        })
    }

    /// The GTIDs of `self` that are not in `other`, in one pass over both.
    pub fn difference(&self, other: &GtidSet) -> GtidSet {
        let mut out = GtidSet::default();
        for (sid, ivs) in &self.sids {
            let minus = other.sids.get(sid).map_or(&[][..], |v| &v[..]);
            let mut left = Vec::new();
            let mut k = 0usize;
            for &(a, b) in ivs {
                while minus.get(k).is_some_and(|m| m.1 <= a) {
                    k += 1;
                }
                let mut at = a;
                for &(c, d) in minus[k..].iter().take_while(|m| m.0 < b) {
                    if c > at {
                        left.push((at, c));
                    }
                    at = at.max(d);
                }
                if at < b {
                    left.push((at, b));
                }
            }
            if !left.is_empty() {
                out.sids.insert(sid.clone(), left);
            }
        }
        out
    }

    /// Only the GTIDs of server `uuid`, with or without a tag.
    pub fn only(&self, uuid: &Uuid) -> GtidSet {
        let sids = self.sids.iter().filter(|(t, _)| t.uuid == *uuid).map(|(t, v)| (t.clone(), v.clone())).collect();
        GtidSet { sids }
    }

    /// Is every GTID of `self` in `other`?
    pub fn is_subset(&self, other: &GtidSet) -> bool {
        self.sids.iter().all(|(sid, ivs)| {
            let o = other.sids.get(sid).map_or(&[][..], |v| &v[..]);
            ivs.iter().all(|&(a, b)| {
                let i = o.partition_point(|iv| iv.1 < b);
                o.get(i).is_some_and(|iv| iv.0 <= a)
            })
        })
    }

    /// The binary form used in PREVIOUS_GTIDS and COM_BINLOG_DUMP_GTID: the source
    /// count (8 bytes), then per source the UUID, the interval count (8) and the
    /// intervals (8 + 8 each). With any tag, MySQL's tagged form: the count field is
    /// `1 << 56 | count << 8 | 1`, and each UUID is followed by its tag (a varlen
    /// length, then the bytes; empty for untagged sources).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let sids: Vec<_> = self.sids.iter().filter(|(_, v)| !v.is_empty()).collect();
        let tagged = sids.iter().any(|(t, _)| !t.tag.is_empty());
        let n = sids.len() as u64;
        out.put_u64(if tagged { 1 << 56 | n << 8 | 1 } else { n });
        for (sid, ivs) in sids {
            out.extend_from_slice(&sid.uuid);
            if tagged {
                put_varlen(&mut out, sid.tag.len() as u64);
                out.extend_from_slice(sid.tag.as_bytes());
            }
            out.put_u64(ivs.len() as u64);
            for &(a, b) in ivs {
                out.put_u64(a);
                out.put_u64(b);
            }
        }
        out
    }

    pub fn decode(b: &[u8]) -> Result<Self, GtidError> {
        let mut r = Reader::new(b);
        let head = r.u64("GTID set sid count")?;
        let (n, tagged) = match head >> 56 {
            0 => (head, false),
            1 if head & 0xff == 1 => ((head & !(0xff << 56)) >> 8, true),
            f => return Err(GtidError(format!("GTID set has unknown format {f}"))),
        };
        let mut set = GtidSet::default();
        for _ in 0..n {
            let uuid: Uuid = r.bytes(16, "GTID set sid")?.try_into().map_err(|_| GtidError("sid".into()))?;
            let mut sid = Tsid::from(uuid);
            if tagged {
                let len = read_varlen(&mut r, "GTID tag length")?;
                if len > 32 {
                    return Err(GtidError(format!("GTID tag of {len} bytes (at most 32)")));
                }
                let t = r.bytes(len as usize, "GTID tag")?;
                if !t.is_empty() {
                    sid.tag = parse_tag(&String::from_utf8_lossy(t))?;
                }
            }
            let k = r.u64("GTID set interval count")?;
            // Each interval needs 16 bytes; check before looping on a huge count.
            if k.saturating_mul(16) > r.remaining() as u64 {
                return Err(GtidError(format!("GTID set claims {k} intervals but has {} bytes", r.remaining())));
            }
            let v = set.sids.entry(sid).or_default();
            for _ in 0..k {
                let (a, e) = (r.u64("interval start")?, r.u64("interval end")?);
                if a == 0 || e <= a {
                    return Err(GtidError(format!("bad GTID interval [{a}, {e})")));
                }
                v.push((a, e));
            }
        }
        set.normalize();
        Ok(set)
    }
}

impl fmt::Display for GtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last: Option<&Uuid> = None;
        for (sid, ivs) in &self.sids {
            if ivs.is_empty() {
                continue;
            }
            // One element per UUID: `uuid:1-5:tag:1-3`.
            if last != Some(&sid.uuid) {
                if last.is_some() {
                    f.write_str(",\n")?;
                }
                f.write_str(&format_uuid(&sid.uuid))?;
                last = Some(&sid.uuid);
            }
            if !sid.tag.is_empty() {
                write!(f, ":{}", sid.tag)?;
            }
            for &(a, b) in ivs {
                if b - a == 1 {
                    write!(f, ":{a}")?;
                } else {
                    write!(f, ":{a}-{}", b - 1)?;
                }
            }
        }
        Ok(())
    }
}

/// One MariaDB GTID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MariaGtid {
    pub domain: u32,
    pub server: u32,
    pub seq: u64,
}

impl fmt::Display for MariaGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server, self.seq)
    }
}

/// A MariaDB replication position: the last GTID per domain. Tracked from a binlog,
/// it also keeps the last sequence number of every server in each domain, MariaDB's
/// binlog state (`gtid_binlog_state`, `rpl_binlog_state` in sql/rpl_gtid.cc), which a
/// file's Gtid_list carries whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MariaPos {
    pub domains: BTreeMap<u32, MariaGtid>,
    /// Each domain's servers with their last sequence numbers, in the order first
    /// seen (which decides MariaDB's order of them), the domain's last among them.
    pub servers: BTreeMap<u32, Vec<(u32, u64)>>,
}

impl MariaPos {
    pub fn parse(s: &str) -> Result<Self, GtidError> {
        let mut p = MariaPos::default();
        for part in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            let f: Vec<&str> = part.split('-').collect();
            let bad = || GtidError(format!("'{part}' is not a MariaDB GTID (domain-server-seq)"));
            if f.len() != 3 {
                return Err(bad());
            }
            let g = MariaGtid {
                domain: f[0].parse().map_err(|_| bad())?,
                server: f[1].parse().map_err(|_| bad())?,
                seq: f[2].parse().map_err(|_| bad())?,
            };
            if p.domains.insert(g.domain, g).is_some() {
                return Err(GtidError(format!("domain {} appears twice in '{s}'", g.domain)));
            }
            p.servers.insert(g.domain, vec![(g.server, g.seq)]);
        }
        Ok(p)
    }

    /// Reads a binlog state as `state` writes it: a domain may appear once per server,
    /// its last entry the domain's last GTID (as mysqld reads its `.state` file). A
    /// position reads as a state.
    pub fn parse_state(s: &str) -> Result<Self, GtidError> {
        let mut p = MariaPos::default();
        for part in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            p.update(MariaPos::parse(part)?.domains.into_values().next().ok_or_else(|| GtidError(part.into()))?);
        }
        Ok(p)
    }

    /// The binlog state as MariaDB's `gtid_binlog_state` shows it
    /// (`rpl_binlog_state::append_state`): by domain, each domain's servers in the
    /// order of mysqld's hash of them, its last GTID after the others.
    pub fn state(&self) -> String {
        let mut v = Vec::new();
        for (d, last) in &self.domains {
            let servers = self.servers.get(d).map_or(&[][..], |s| s.as_slice());
            let keys: Vec<u32> = servers.iter().map(|(s, _)| *s).collect();
            for i in mysys_hash_order(&keys) {
                let (server, seq) = servers[i];
                if server != last.server {
                    v.push(MariaGtid { domain: *d, server, seq }.to_string());
                }
            }
            v.push(last.to_string());
        }
        v.join(",")
    }

    /// Takes in `other`'s GTIDs as `advance` does each.
    pub fn absorb(&mut self, other: &MariaPos) {
        for (&domain, servers) in &other.servers {
            for &(server, seq) in servers {
                self.advance_server(MariaGtid { domain, server, seq });
            }
        }
        for g in other.domains.values() {
            self.advance(*g);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    pub fn update(&mut self, g: MariaGtid) {
        self.domains.insert(g.domain, g);
        let e = self.server_mut(g);
        e.1 = g.seq;
    }

    /// `g`'s server's entry in its domain, added (at its sequence number) if new.
    fn server_mut(&mut self, g: MariaGtid) -> &mut (u32, u64) {
        let servers = self.servers.entry(g.domain).or_default();
        let j = match servers.iter().position(|(s, _)| *s == g.server) {
            Some(j) => j,
            None => {
                servers.push((g.server, g.seq));
                servers.len() - 1
            }
        };
        &mut servers[j]
    }

    /// Takes `g` for its domain unless the domain is already further on: a file's
    /// Gtid_list, or a later source's first file repeating groups already held, never
    /// moves a domain back (nor a server within it).
    pub fn advance(&mut self, g: MariaGtid) {
        if self.domains.get(&g.domain).is_none_or(|o| o.seq <= g.seq) {
            self.domains.insert(g.domain, g);
        }
        self.advance_server(g);
    }

    fn advance_server(&mut self, g: MariaGtid) {
        let e = self.server_mut(g);
        e.1 = e.1.max(g.seq);
    }

    /// The domains where this position is past `other`: its GTID there, and how far
    /// `other` goes in that domain (None: not at all). A domain's transactions are
    /// ordered by sequence number alone, as MariaDB orders them (`gtid_strict_mode`).
    pub fn ahead_of(&self, other: &MariaPos) -> Vec<(MariaGtid, Option<u64>)> {
        self.domains
            .values()
            .filter_map(|g| {
                let theirs = other.domains.get(&g.domain).map(|o| o.seq);
                (theirs.is_none_or(|t| t < g.seq)).then_some((*g, theirs))
            })
            .collect()
    }

    /// The GTIDs of a GTID_LIST event body. The later entry for a domain is the newer one.
    pub fn decode_gtid_list(body: &[u8]) -> Result<Vec<MariaGtid>, GtidError> {
        let mut r = Reader::new(body);
        let count = r.u32("Gtid_list count")? & 0x0fff_ffff;
        if u64::from(count) * 16 > r.remaining() as u64 {
            return Err(GtidError(format!("Gtid_list claims {count} entries but has {} bytes", r.remaining())));
        }
        let mut v = Vec::with_capacity(count as usize);
        for _ in 0..count {
            v.push(MariaGtid { domain: r.u32("domain")?, server: r.u32("server")?, seq: r.u64("seq")? });
        }
        Ok(v)
    }
}

/// The order in which mysys's `HASH` (mysys/hash.c, `my_hash_insert`) holds `keys`,
/// 32-bit keys hashed as bytes (`my_charset_bin`) and inserted in the given order with
/// nothing deleted: MariaDB lists GTID domains and a domain's servers in that order
/// (`my_hash_element` 0, 1, ...). Returns indexes into `keys`.
///
/// The table is linear hashing: `blength` doubles as records reach it, and each insert
/// first splits the chain of bucket `records - blength/2`, moving the keys whose hash
/// has the `blength/2` bit into the new slot, then places the new key at its bucket,
/// moving a key that holds it to the free slot.
pub fn mysys_hash_order(keys: &[u32]) -> Vec<usize> {
    const NONE: usize = usize::MAX;
    #[derive(Clone, Copy)]
    struct Link {
        next: usize,
        hash: u32,
        key: usize,
    }
    fn mask(hash: u32, buffmax: usize, maxlength: usize) -> usize {
        let h = hash as usize;
        if h & (buffmax - 1) < maxlength {
            h & (buffmax - 1)
        } else {
            h & ((buffmax >> 1).wrapping_sub(1))
        }
    }
    // my_hash_sort_bin over the key's bytes as they lie in memory (little-endian).
    fn hash_of(key: u32) -> u32 {
        let (mut nr1, mut nr2): (u64, u64) = (1, 4);
        for b in key.to_le_bytes() {
            nr1 ^= ((nr1 & 63).wrapping_add(nr2)).wrapping_mul(u64::from(b)).wrapping_add(nr1 << 8);
            nr2 = nr2.wrapping_add(3);
        }
        nr1 as u32
    }
    let (lowfind, lowused, highfind, highused) = (1u8, 2u8, 4u8, 8u8);
    let mut t: Vec<Link> = Vec::with_capacity(keys.len());
    let mut blength = 1usize;
    for (k, &key) in keys.iter().enumerate() {
        let records = t.len();
        let hash = hash_of(key);
        t.push(Link { next: NONE, hash: 0, key: NONE });
        let mut empty = records;
        let halfbuff = blength >> 1;
        let first = records - halfbuff;
        let (mut flag, mut gpos, mut gpos2) = (0u8, 0usize, 0usize);
        let (mut low, mut high) = ((0usize, 0u32), (0usize, 0u32));
        if first != records {
            let mut idx = first;
            loop {
                let pos = idx;
                let h = t[pos].hash;
                if flag == 0 && mask(h, blength, records) != first {
                    break;
                }
                if h as usize & halfbuff == 0 {
                    // Stays in the low bucket.
                    if flag & lowfind == 0 {
                        if flag & highfind != 0 {
                            flag = lowfind | highfind;
                            gpos = empty;
                            empty = pos;
                        } else {
                            flag = lowfind | lowused;
                            gpos = pos;
                        }
                    } else {
                        if flag & lowused == 0 {
                            t[gpos] = Link { next: pos, hash: low.1, key: low.0 };
                            flag = (flag & highfind) | lowfind | lowused;
                        }
                        gpos = pos;
                    }
                    low = (t[pos].key, t[pos].hash);
                } else {
                    // Moves to the new bucket.
                    if flag & highfind == 0 {
                        flag = (flag & lowfind) | highfind;
                        gpos2 = empty;
                        empty = pos;
                    } else {
                        if flag & highused == 0 {
                            t[gpos2] = Link { next: pos, hash: high.1, key: high.0 };
                            flag = (flag & lowfind) | highfind | highused;
                        }
                        gpos2 = pos;
                    }
                    high = (t[pos].key, t[pos].hash);
                }
                idx = t[pos].next;
                if idx == NONE {
                    break;
                }
            }
            if flag & (lowfind | lowused) == lowfind {
                t[gpos] = Link { next: NONE, hash: low.1, key: low.0 };
            }
            if flag & (highfind | highused) == highfind {
                t[gpos2] = Link { next: NONE, hash: high.1, key: high.0 };
            }
        }
        let pos = mask(hash, blength, records + 1);
        if pos == empty {
            t[pos].next = NONE;
        } else {
            t[empty] = t[pos];
            let g = mask(t[pos].hash, blength, records + 1);
            if pos == g {
                t[pos].next = empty;
            } else {
                t[pos].next = NONE;
                // The chain from g that led to pos now leads to its new place.
                let mut at = g;
                while t[at].next != pos && t[at].next != NONE {
                    at = t[at].next;
                }
                t[at].next = empty;
            }
        }
        t[pos].key = k;
        t[pos].hash = hash;
        if records + 1 == blength {
            blength += blength;
        }
    }
    t.into_iter().map(|l| l.key).collect()
}

impl fmt::Display for MariaPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v: Vec<String> = self.domains.values().map(|g| g.to_string()).collect();
        f.write_str(&v.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const U2: &str = "1c78a195-b077-11e6-9a8f-246e9601e1c8";

    #[test]
    fn the_binlog_state_keeps_every_server_of_a_domain_in_mysqlds_order_its_last_after_them() {
        let g = |t: &str| MariaPos::parse(t).unwrap().domains.into_values().next().unwrap();
        let mut st = MariaPos::default();
        for t in ["0-1-1", "0-1-2", "0-77-3", "0-1-4", "3-1-1", "0-78-5"] {
            st.advance(g(t));
        }
        // MariaDB 10.11 and 11.8 list them so: its hash holds 77, 78, 1.
        assert_eq!(st.state(), "0-77-3,0-1-4,0-78-5,3-1-1");
        // From a file's Gtid_list (or mysqld's state file, read at its start) the hash
        // is built in the list's order: after a restart, as after mysqld's own.
        let mut read = MariaPos::default();
        for t in ["0-77-3", "0-1-4", "3-1-1", "0-78-5"] {
            read.advance(g(t));
        }
        assert_eq!(read.state(), "0-1-4,0-77-3,0-78-5,3-1-1");
        assert_eq!(st.to_string(), "0-78-5,3-1-1");
        // A repeated older group moves neither the domain nor its server back.
        st.advance(MariaGtid { domain: 0, server: 77, seq: 2 });
        assert_eq!(st.state(), "0-77-3,0-1-4,0-78-5,3-1-1");
        // Read back as written, the servers are first seen in the text's order.
        let back = MariaPos::parse_state(&st.state()).unwrap();
        assert_eq!(back.state(), read.state());
        assert_eq!(back.domains, st.domains);
        assert_eq!(MariaPos::parse_state("0-1-5").unwrap(), MariaPos::parse("0-1-5").unwrap());
        assert!(MariaPos::parse_state("0-1").is_err());
        let mut other = MariaPos::parse("0-1-3").unwrap();
        other.absorb(&st);
        assert_eq!(other.state(), st.state());
    }

    #[test]
    fn mysys_hash_order_is_linear_hashings() {
        let order = |keys: &[u32]| mysys_hash_order(keys).into_iter().map(|i| keys[i]).collect::<Vec<_>>();
        assert_eq!(order(&[1, 77, 78]), [77, 78, 1]);
        assert_eq!(order(&[]), Vec::<u32>::new());
        assert_eq!(order(&[5]), [5]);
        // Every key once, however many.
        let many: Vec<u32> = (0..1000).map(|i| i * 7919).collect();
        let mut got = order(&many);
        got.sort_unstable();
        let mut want = many.clone();
        want.sort_unstable();
        assert_eq!(got, want);
    }

    #[test]
    fn a_maria_position_is_ahead_in_the_domains_the_other_has_not_reached() {
        let mine = MariaPos::parse("0-1-10,1-1-5,2-3-7").unwrap();
        let theirs = MariaPos::parse("0-2-12,1-1-4").unwrap();
        let ahead = mine.ahead_of(&theirs);
        assert_eq!(
            ahead.iter().map(|(g, t)| (g.to_string(), *t)).collect::<Vec<_>>(),
            [("1-1-5".to_string(), Some(4)), ("2-3-7".to_string(), None)]
        );
        assert!(mine.ahead_of(&mine).is_empty());
    }

    #[test]
    fn difference_leaves_what_the_other_lacks() {
        let a = GtidSet::parse(&format!("{U1}:1-10:20-30,{U2}:1-3")).unwrap();
        let b = GtidSet::parse(&format!("{U1}:3-5:8-22")).unwrap();
        assert_eq!(a.difference(&b).to_string(), format!("{U2}:1-3,\n{U1}:1-2:6-7:23-30"));
        assert!(b.difference(&b).is_empty());
        assert_eq!(a.only(&parse_uuid(U2).unwrap()).to_string(), format!("{U2}:1-3"));
    }

    #[test]
    fn parses_formats_and_merges() {
        let s = GtidSet::parse(&format!("{U1}:1-5:7, {U2}:3\n,{U1}:6")).unwrap();
        assert_eq!(s.to_string(), format!("{U2}:3,\n{U1}:1-7"));
        assert!(s.contains(parse_uuid(U1).unwrap(), 7));
        assert!(!s.contains(parse_uuid(U2).unwrap(), 4));
        assert!(GtidSet::parse("").unwrap().is_empty());
    }

    #[test]
    fn union_and_subset() {
        let mut a = GtidSet::parse(&format!("{U1}:1-3")).unwrap();
        let b = GtidSet::parse(&format!("{U1}:5-9,{U2}:1")).unwrap();
        assert!(!b.is_subset(&a));
        a.union(&b);
        assert_eq!(a.to_string(), format!("{U2}:1,\n{U1}:1-3:5-9"));
        assert!(b.is_subset(&a));
        a.add(parse_uuid(U1).unwrap(), 4);
        assert_eq!(a.sids[&Tsid::from(parse_uuid(U1).unwrap())], vec![(1, 10)]);
    }

    #[test]
    fn encode_decode_round_trip() {
        let s = GtidSet::parse(&format!("{U1}:1-5:7,{U2}:1-100")).unwrap();
        let e = s.encode();
        assert_eq!(e.len(), 8 + (16 + 8 + 32) + (16 + 8 + 16));
        assert_eq!(GtidSet::decode(&e).unwrap(), s);
    }

    #[test]
    fn rejects_bad_text_and_bytes() {
        for bad in ["x:1", &format!("{U1}:0"), &format!("{U1}:5-3"), &format!("{U1}:1-a")] {
            assert!(GtidSet::parse(bad).is_err(), "{bad}");
        }
        let e = GtidSet::parse(&format!("{U1}:1-5")).unwrap().encode();
        for n in 0..e.len() {
            assert!(GtidSet::decode(&e[..n]).is_err(), "{n}");
        }
        // A huge interval count with no bytes behind it.
        let mut h = 1u64.to_le_bytes().to_vec();
        h.extend_from_slice(&[0; 16]);
        h.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(GtidSet::decode(&h).is_err());
    }

    /// A set as a plain bitmap over small numbers, to check the interval code against.
    fn model(s: &GtidSet, sid: &Uuid) -> Vec<bool> {
        (0..64).map(|g| s.contains(sid, g)).collect()
    }

    #[test]
    fn interval_operations_agree_with_a_bitmap_in_any_order() {
        let sid = parse_uuid(U1).unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..2000 {
            let (mut a, mut b) = (GtidSet::default(), GtidSet::default());
            let (mut ma, mut mb) = (vec![false; 64], vec![false; 64]);
            for (set, m) in [(&mut a, &mut ma), (&mut b, &mut mb)] {
                for _ in 0..next(6) {
                    let start = 1 + next(60);
                    let end = start + 1 + next(6);
                    set.add_interval(sid, start, end);
                    for g in start..end.min(64) {
                        m[g as usize] = true;
                    }
                }
            }
            assert_eq!(model(&a, &sid), ma);
            // Merged: sorted, disjoint, not touching.
            for w in a.sids.get(&Tsid::from(sid)).map_or(&[][..], |v| &v[..]).windows(2) {
                assert!(w[0].1 < w[1].0, "{:?}", a.sids);
            }
            let d = a.difference(&b);
            let want: Vec<bool> = ma.iter().zip(&mb).map(|(x, y)| *x && !*y).collect();
            assert_eq!(model(&d, &sid), want, "{a} minus {b}");
            assert_eq!(a.is_subset(&b), ma.iter().zip(&mb).all(|(x, y)| !*x || *y), "{a} in {b}");
            let mut u = a.clone();
            u.union(&b);
            let want: Vec<bool> = ma.iter().zip(&mb).map(|(x, y)| *x || *y).collect();
            assert_eq!(model(&u, &sid), want);
            assert_eq!(GtidSet::decode(&u.encode()).unwrap(), u);
        }
    }

    #[test]
    fn decodes_intervals_sent_in_reverse_order_in_one_pass() {
        // A replica's COM_BINLOG_DUMP_GTID may list up to 16 MiB of intervals in any
        // order; merging them one by one with a sort each time takes hours.
        let n = 400_000u64;
        let mut b = 1u64.to_le_bytes().to_vec();
        b.extend_from_slice(&parse_uuid(U1).unwrap());
        b.put_u64(n);
        for i in (0..n).rev() {
            b.put_u64(1 + 2 * i);
            b.put_u64(2 + 2 * i);
        }
        let s = GtidSet::decode(&b).unwrap();
        let sid = parse_uuid(U1).unwrap();
        assert_eq!(s.sids[&Tsid::from(sid)].len(), n as usize);
        assert!(s.contains(sid, 2 * n - 1) && !s.contains(sid, 2 * n));
        assert!(s.difference(&s).is_empty() && s.is_subset(&s));
        let text = GtidSet::parse(&s.to_string()).unwrap();
        assert_eq!(text, s);
    }

    #[test]
    fn tagged_sets_parse_print_and_encode_as_mysql_does() {
        // Previous_gtids of a MySQL 9.7 binlog after `SET gtid_next = 'AUTOMATIC:mytag'`
        // (tests/data/mysql-9.7.4-tagged.000002 at 127), without its header and CRC.
        let from_server = "0102000000000001d2088dd1e70c11f1b41e02fc0000000100010000000000000001000000000000000400\
                           000000000000d2088dd1e70c11f1b41e02fc000000010a6d79746167010000000000000001000000000000\
                           000300000000000000";
        let bytes: Vec<u8> = (0..from_server.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&from_server[i..i + 2], 16).unwrap())
            .collect();
        let s = GtidSet::decode(&bytes).unwrap();
        let text = "d2088dd1-e70c-11f1-b41e-02fc00000001:1-3:mytag:1-2";
        assert_eq!(s.to_string(), text);
        assert_eq!(s.encode(), bytes);
        assert_eq!(GtidSet::parse(text).unwrap(), s);
        let u = parse_uuid("d2088dd1-e70c-11f1-b41e-02fc00000001").unwrap();
        let tagged = Tsid { uuid: u, tag: "mytag".into() };
        assert!(s.contains(&tagged, 2) && !s.contains(&tagged, 3) && s.contains(u, 3));
        assert_eq!(s.only(&u), s);
        // Tags are case-insensitive; several per UUID print in order after its own intervals.
        let m = GtidSet::parse(&format!("{U1}:1-2:Zeta:4:alpha:7,{U2}:b_2:1")).unwrap();
        assert_eq!(m.to_string(), format!("{U2}:b_2:1,\n{U1}:1-2:alpha:7:zeta:4"));
        assert_eq!(GtidSet::decode(&m.encode()).unwrap(), m);
        for bad in [format!("{U1}:9tag:1"), format!("{U1}:{}:1", "t".repeat(33)), format!("{U1}:"), format!("{U1}::1")]
        {
            assert!(GtidSet::parse(&bad).is_err(), "{bad}");
        }
        // A UUID or a tag with no interval after it adds nothing, as MySQL 9.7 parses it.
        assert_eq!(GtidSet::parse(&format!("{U1}:1-3:tag")).unwrap().to_string(), format!("{U1}:1-3"));
        assert!(GtidSet::parse(U1).unwrap().is_empty());
        assert!(GtidSet::parse(&format!("{U1}:tag")).unwrap().is_empty());
        assert_eq!(GtidSet::parse(&format!("{U1}, {U2}:4")).unwrap().to_string(), format!("{U2}:4"));
        assert_eq!(GtidSet::parse(&format!("{U1}:a:b:1")).unwrap().to_string(), format!("{U1}:b:1"));
        // The format byte must be one MySQL writes.
        let mut odd = bytes.clone();
        odd[7] = 2;
        assert!(GtidSet::decode(&odd).is_err());
    }

    #[test]
    fn varlen_integers_round_trip_in_the_fewest_bytes() {
        for (v, len) in
            [(0u64, 1), (5, 1), (127, 1), (128, 2), (210, 2), (16383, 2), (16384, 3), (1 << 56, 9), (u64::MAX, 9)]
        {
            let mut out = Vec::new();
            put_varlen(&mut out, v);
            assert_eq!(out.len(), len, "{v}");
            let mut r = Reader::new(&out);
            assert_eq!(read_varlen(&mut r, "v").unwrap(), v);
            assert_eq!(r.remaining(), 0);
        }
        // As MySQL writes them: 5 is 0x0a, 210 is 0x49 0x03.
        let mut out = Vec::new();
        put_varlen(&mut out, 5);
        put_varlen(&mut out, 210);
        assert_eq!(out, [0x0a, 0x49, 0x03]);
        assert!(read_varlen(&mut Reader::new(&[0x01]), "v").is_err());
    }

    #[test]
    fn maria_pos_parse_and_gtid_list() {
        let p = MariaPos::parse("0-1-100, 2-5-7").unwrap();
        assert_eq!(p.to_string(), "0-1-100,2-5-7");
        assert!(MariaPos::parse("0-1").is_err());
        assert!(MariaPos::parse("0-1-2,0-1-3").is_err());
        let mut b = 2u32.to_le_bytes().to_vec();
        for (d, s, q) in [(0u32, 1u32, 5u64), (1, 2, 9)] {
            b.put_u32(d);
            b.put_u32(s);
            b.put_u64(q);
        }
        let l = MariaPos::decode_gtid_list(&b).unwrap();
        assert_eq!(l[1], MariaGtid { domain: 1, server: 2, seq: 9 });
        assert!(MariaPos::decode_gtid_list(&b[..20]).is_err());
    }
}
