//! The per-file GTID index: for every stored file, the GTID state at its start
//! (MySQL's PREVIOUS_GTIDS, MariaDB's GTID_LIST), so a GTID dump finds where to
//! start without opening every file.
//!
//! It lives in `binlog_dir/binlogd.gtid_index`, one line per file, and is only a
//! cache of what the files' headers say: it is replaced whole (temp file, fsync,
//! rename, directory fsync), and rebuilt from the headers when missing, unreadable
//! or stale. Each line carries a CRC32 of the header bytes it was built from; an
//! entry is checked against its file before a dump starts there.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use log::{info, warn};

use super::event::{self, ChecksumAlg, EventType, FormatDescription};
use super::gtid::{GtidSet, MariaGtid, MariaPos};
use super::walk::{WalkError, Walker};

pub const INDEX_FILE: &str = "binlogd.gtid_index";
const HEAD: &str = "# binlogd GTID index v1: file, CRC32 of its header, kind, GTID state at its start";

/// The GTID state a file starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStart {
    /// MySQL: the GTIDs of every earlier file.
    Mysql(GtidSet),
    /// MariaDB: the GTID_LIST entries, in the event's order (the later entry of a
    /// domain is the newer one).
    Maria(Vec<MariaGtid>),
    /// Neither event before the first transaction (GTIDs off, or an old format).
    NoGtids,
}

impl FileStart {
    /// As text: its kind (`mysql`, `mariadb`, `none`) and its GTIDs.
    pub fn text(&self) -> (&'static str, String) {
        match self {
            FileStart::Mysql(s) => ("mysql", s.to_string().replace('\n', "")),
            FileStart::Maria(l) => ("mariadb", l.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(",")),
            FileStart::NoGtids => ("none", String::new()),
        }
    }

    /// What `text` wrote.
    pub fn from_text(kind: &str, v: &str) -> Result<FileStart, String> {
        Ok(match kind {
            "mysql" => FileStart::Mysql(GtidSet::parse(v).map_err(|e| e.0)?),
            "mariadb" => {
                let mut l = Vec::new();
                for part in v.split(',').filter(|p| !p.is_empty()) {
                    // Each part alone, since a list may name a domain more than once.
                    let p = MariaPos::parse(part).map_err(|e| e.0)?;
                    l.extend(p.domains.into_values());
                }
                FileStart::Maria(l)
            }
            "none" => FileStart::NoGtids,
            _ => return Err(format!("unknown kind '{kind}'")),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// CRC32 of the bytes [4, end of the event the state came from).
    pub stamp: u32,
    pub start: FileStart,
}

/// Formats the index file.
pub fn encode(entries: &[Entry]) -> String {
    let mut out = String::from(HEAD);
    out.push('\n');
    for e in entries {
        let (kind, v) = e.start.text();
        out.push_str(&format!("{}\t{:08x}\t{kind}\t{v}\n", e.name, e.stamp));
    }
    out
}

/// Parses the index file; the error names the line.
pub fn decode(text: &str) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let bad = |what: &str| format!("line {}: {what}", i + 1);
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 4 {
            return Err(bad("expected 4 tab-separated fields"));
        }
        if !super::sources::is_safe_path(f[0]) {
            return Err(bad("bad file name"));
        }
        let stamp = u32::from_str_radix(f[1], 16).map_err(|_| bad("bad stamp"))?;
        let start = FileStart::from_text(f[2], f[3]).map_err(|e| bad(&e))?;
        out.push(Entry { name: f[0].to_string(), stamp, start });
    }
    Ok(out)
}

/// Reads a file's start state from its first events, looking no further than
/// `limit` bytes (the durable end of an active file). None when the header is not
/// all there yet.
pub fn read_start(f: &File, limit: u64) -> std::io::Result<Option<(u32, FileStart)>> {
    let mut at = 4u64;
    let mut crc = crc32fast::Hasher::new();
    let mut alg = ChecksumAlg::OFF;
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    // FDE, then maybe a checkpoint or two, then the state event; a transaction means none.
    let mut seen = 0;
    for found in Walker::new(f, 4, limit).take(8) {
        seen += 1;
        let hdr = match found {
            Ok(found) => found.header,
            // The file's first events are not all written yet.
            Err(WalkError::Torn { .. }) => return Ok(None),
            Err(WalkError::Io { err, .. }) => return Err(err),
            Err(e) => return Err(bad(format!("at {}: {e}", e.offset()))),
        };
        let size = u64::from(hdr.event_size);
        let t = hdr.event_type;
        if size > 1 << 20 {
            // The events before a file's first transaction are small.
            return Err(bad(format!("{t} event of {size} bytes at {at}, before any transaction")));
        }
        let mut ev = vec![0u8; size as usize];
        f.read_exact_at(&mut ev, at)?;
        crc.update(&ev);
        at += size;
        match t {
            EventType::FORMAT_DESCRIPTION => {
                alg = FormatDescription::decode(&ev).map_err(|e| bad(format!("Format_desc: {e}")))?.checksum;
            }
            EventType::PREVIOUS_GTIDS => {
                let body = event::body(&ev, alg).map_err(|e| bad(e.to_string()))?;
                let s = GtidSet::decode(body).map_err(|e| bad(format!("Previous_gtids: {}", e.0)))?;
                return Ok(Some((crc.finalize(), FileStart::Mysql(s))));
            }
            EventType::MARIADB_GTID_LIST => {
                let body = event::body(&ev, alg).map_err(|e| bad(e.to_string()))?;
                let l = MariaPos::decode_gtid_list(body).map_err(|e| bad(format!("Gtid_list: {}", e.0)))?;
                return Ok(Some((crc.finalize(), FileStart::Maria(l))));
            }
            EventType::GTID
            | EventType::GTID_TAGGED
            | EventType::ANONYMOUS_GTID
            | EventType::MARIADB_GTID
            | EventType::QUERY
            | EventType::ROTATE
            | EventType::STOP => return Ok(Some((crc.finalize(), FileStart::NoGtids))),
            _ => {}
        }
    }
    // The file ends before its state event could have come: not all written yet.
    if seen < 8 {
        return Ok(None);
    }
    Ok(Some((crc.finalize(), FileStart::NoGtids)))
}

/// A file's start state in binlogd's history: its header's (`read_start`), and for
/// a later source's file (`sources`) also what binlogd held before that source.
/// That server's first file may start before binlogd's history ends (it repeats
/// transactions binlogd had): a GTID reader starts there only if it holds them.
pub fn history_start(dir: &Path, name: &str, f: &File, limit: u64) -> std::io::Result<Option<(u32, FileStart)>> {
    let got = read_start(f, limit)?;
    let k = super::sources::number(name);
    let Some((stamp, start)) = got else { return Ok(None) };
    if k <= 1 {
        return Ok(Some((stamp, start)));
    }
    let path = dir.join(super::sources::path_in(k, super::sources::ORIGIN_FILE));
    let text = std::fs::read_to_string(&path)?;
    let o = super::sources::Origin::decode(&text, &path.display().to_string()).map_err(std::io::Error::other)?;
    let start = match start {
        FileStart::Mysql(mut set) => {
            set.union(&o.gtids);
            FileStart::Mysql(set)
        }
        FileStart::Maria(mut list) => {
            for g in o.maria.domains.values() {
                // A domain's later entry is its newer one.
                let top = list.iter().filter(|x| x.domain == g.domain).map(|x| x.seq).max();
                if top.is_none_or(|t| t < g.seq) {
                    list.push(*g);
                }
            }
            FileStart::Maria(list)
        }
        FileStart::NoGtids => FileStart::NoGtids,
    };
    Ok(Some((stamp, start)))
}

/// The index, loaded on first use and kept in memory.
pub struct GtidIndex {
    dir: PathBuf,
    entries: BTreeMap<String, Entry>,
    loaded: bool,
}

impl GtidIndex {
    pub fn new(dir: &Path) -> GtidIndex {
        GtidIndex { dir: dir.to_path_buf(), entries: BTreeMap::new(), loaded: false }
    }

    fn load(&mut self) {
        self.loaded = true;
        let path = self.dir.join(INDEX_FILE);
        match std::fs::read_to_string(&path) {
            Ok(t) => match decode(&t) {
                Ok(v) => self.entries = v.into_iter().map(|e| (e.name.clone(), e)).collect(),
                Err(e) => warn!("{}: {e}; rebuilding it from the binlog headers", path.display()),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => info!("{} missing: building it", path.display()),
            Err(e) => warn!("{}: {e}; rebuilding it from the binlog headers", path.display()),
        }
    }

    /// The start state of each of `files` (oldest first), reading the headers of
    /// files not indexed yet; `limit` gives how far a file may be read. A file whose
    /// header is not durable yet has no entry.
    pub fn entries(
        &mut self,
        files: &[String],
        limit: impl Fn(&str, &File) -> u64,
    ) -> std::io::Result<Vec<Option<Entry>>> {
        if !self.loaded {
            self.load();
        }
        let mut changed = false;
        let before = self.entries.len();
        // A set, not `files.contains`: with a thousand files that scan was a million
        // name comparisons per GTID connect.
        let listed: std::collections::HashSet<&str> = files.iter().map(String::as_str).collect();
        self.entries.retain(|n, _| listed.contains(n.as_str()));
        changed |= self.entries.len() != before;
        let mut out = Vec::with_capacity(files.len());
        for name in files {
            if let Some(e) = self.entries.get(name) {
                out.push(Some(e.clone()));
                continue;
            }
            let path = self.dir.join(name);
            let f = File::open(&path)?;
            let got = self
                .start_of(name, &f, limit(name, &f))
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            match got {
                Some((stamp, start)) => {
                    let e = Entry { name: name.clone(), stamp, start };
                    self.entries.insert(name.clone(), e.clone());
                    changed = true;
                    out.push(Some(e));
                }
                None => out.push(None),
            }
        }
        if changed {
            if let Err(e) = self.save() {
                // Only a cache: serving goes on, and the next start rebuilds it.
                warn!("could not write {}: {e}", self.dir.join(INDEX_FILE).display());
            }
        }
        Ok(out)
    }

    /// Does the entry still match its file? If not, the whole index is dropped, to
    /// be rebuilt from the headers.
    pub fn verify(&mut self, e: &Entry, limit: u64) -> bool {
        let ok = File::open(self.dir.join(&e.name))
            .and_then(|f| self.start_of(&e.name, &f, limit))
            .is_ok_and(|got| got.is_some_and(|(stamp, start)| stamp == e.stamp && start == e.start));
        if !ok {
            warn!("{}: the entry for {} is stale; rebuilding the index", self.dir.join(INDEX_FILE).display(), e.name);
            self.entries.clear();
        }
        ok
    }

    fn start_of(&self, name: &str, f: &File, limit: u64) -> std::io::Result<Option<(u32, FileStart)>> {
        history_start(&self.dir, name, f, limit)
    }

    fn save(&self) -> std::io::Result<()> {
        let v: Vec<Entry> = self.entries.values().cloned().collect();
        crate::binlog::fs::os().replace(&self.dir, INDEX_FILE, encode(&v).as_bytes(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    fn sample() -> Vec<Entry> {
        vec![
            Entry {
                name: "b.000001".into(),
                stamp: 0xdeadbeef,
                start: FileStart::Mysql(GtidSet::parse(&format!("{U1}:1-5:9")).unwrap()),
            },
            Entry {
                name: "b.000002".into(),
                stamp: 7,
                start: FileStart::Maria(vec![
                    MariaGtid { domain: 0, server: 1, seq: 4 },
                    MariaGtid { domain: 0, server: 2, seq: 9 },
                ]),
            },
            Entry { name: "b.000003".into(), stamp: 0, start: FileStart::NoGtids },
        ]
    }

    #[test]
    fn index_text_round_trips() {
        let v = sample();
        assert_eq!(decode(&encode(&v)).unwrap(), v);
    }

    #[test]
    fn rejects_a_damaged_index_naming_the_line() {
        let mut t = encode(&sample());
        t.push_str("b.000004\tzz\tmysql\t\n");
        assert!(decode(&t).unwrap_err().starts_with("line 5"), "{:?}", decode(&t));
        assert!(decode("../x\t0\tnone\t\n").is_err());
        assert!(decode("b.1\t0\tmysql\tnot-a-set\n").is_err());
        assert!(decode("b.1\t0\tnone\n").is_err());
    }
}
