//! The archive catalog: every file `archive_command` archived, kept after the file is
//! purged from binlog_dir, so that the archived files stay part of the history. For
//! each: its size, md5 and CRC-32 (what a file brought back must match), the GTIDs it holds,
//! its first and last transaction times, and the server it came from (a search reads
//! them without the file).
//!
//! What must hold: the catalog names a file only once its archive succeeded (it is
//! written after the command returns), and it is replaced whole (`Fs::replace`), so a
//! crash leaves it as it was before or after one file's record. It is binlog_dir's only
//! record of what is archived: the purge asks it.

use std::fmt;
use std::ops::ControlFlow;
use std::path::Path;

use super::fs::Fs;
use super::gtid_index::FileStart;

/// The file in binlog_dir.
pub const CATALOG_FILE: &str = "binlogd.catalog";

/// Names recorded as archived by binlogd before it kept a catalog: still archived.
pub const LEGACY_STATUS_FILE: &str = "binlogd.archive";

/// One archived file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    /// Lower-case hex; empty when not known (a file archived before the catalog).
    pub md5: String,
    /// Its first and last transactions' commit times (seconds, UTC), if it has any.
    pub first: Option<u32>,
    pub last: Option<u32>,
    /// The server_id of the server that wrote it (its format description's).
    pub server_id: Option<u32>,
    /// The GTIDs it holds: a MySQL GTID set, or per MariaDB domain `first..last`.
    pub gtids: String,
    /// The GTID state it starts with (its Previous_gtids or Gtid_list), for a GTID
    /// dump to pick where to start; None when not recorded.
    pub start: Option<FileStart>,
    /// The CRC-32 (IEEE) of the whole file; None when not recorded (a catalog written
    /// before it was kept). A restored file is checked against it rather than the md5:
    /// it is computed many times faster, and catches what the md5 catches in a file
    /// whose size is already known to match.
    pub crc32: Option<u32>,
}

impl fmt::Display for Entry {
    /// One line: the fields separated by tabs, unknown ones empty. The CRC-32 is
    /// a ninth field, written only when known, so that a line without it reads as
    /// it did before the field was kept.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_default();
        let start = self.start.as_ref().map(|s| s.text()).map(|(k, v)| format!("{k}:{v}")).unwrap_or_default();
        write!(
            f,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{start}",
            self.name,
            self.size,
            self.md5,
            opt(self.first),
            opt(self.last),
            opt(self.server_id),
            self.gtids
        )?;
        match self.crc32 {
            Some(c) => write!(f, "\t{c:08x}"),
            None => Ok(()),
        }
    }
}

impl Entry {
    /// A file known only by name (recorded before the catalog was kept).
    pub fn named(name: &str) -> Entry {
        Entry { name: name.to_string(), ..Entry::default() }
    }

    fn parse(line: &str) -> Result<Entry, String> {
        let f: Vec<&str> = line.split('\t').collect();
        let (&[name, size, md5, first, last, server, gtids], start, crc) =
            (f.get(..7).unwrap_or_default(), f.get(7), f.get(8))
        else {
            return Err(format!("{} fields, not 7 to 9", f.len()));
        };
        if f.len() > 9 {
            return Err(format!("{} fields, not 7 to 9", f.len()));
        }
        let crc32 = match crc.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match u32::from_str_radix(c, 16) {
                Ok(v) if c.len() == 8 && c.bytes().all(|b| b.is_ascii_hexdigit()) => Some(v),
                _ => return Err(format!("crc32 '{c}' is not 8 hex digits")),
            },
        };
        let start = match start.filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => {
                let (kind, v) = s.split_once(':').ok_or_else(|| format!("start '{s}' has no kind"))?;
                Some(FileStart::from_text(kind, v).map_err(|e| format!("start '{s}': {e}"))?)
            }
        };
        let opt = |v: &str, what: &str| -> Result<Option<u32>, String> {
            if v.is_empty() {
                Ok(None)
            } else {
                v.parse().map(Some).map_err(|_| format!("{what} '{v}' is not a number"))
            }
        };
        if !super::sources::is_safe_path(name) {
            return Err(format!("'{name}' is not a binlog file name"));
        }
        if !(md5.is_empty() || md5.len() == 32 && md5.chars().all(|c| c.is_ascii_hexdigit())) {
            return Err(format!("md5 '{md5}' is not 32 hex digits"));
        }
        Ok(Entry {
            name: name.to_string(),
            size: size.parse().map_err(|_| format!("size '{size}' is not a number"))?,
            md5: md5.to_string(),
            first: opt(first, "first time")?,
            last: opt(last, "last time")?,
            server_id: opt(server, "server_id")?,
            gtids: gtids.to_string(),
            start,
            crc32,
        })
    }

    /// What the stored file `name` of `dir` is, for its record: read whole once.
    pub fn describe(dir: &Path, name: &str) -> Result<Entry, String> {
        let stored = super::read::open(dir, name).map_err(|e| format!("{name}: cannot open: {e}"))?;
        let size = stored.len().map_err(|e| format!("{name}: cannot stat: {e}"))?;
        let (md5, crc32) = digests(&dir.join(name)).map_err(|e| format!("{name}: cannot read: {e}"))?;
        // The FDE's header: the server that wrote the file.
        let mut head = [0u8; 4 + super::event::HEADER_LEN];
        let server_id = stored
            .read_at(&mut head, 0)
            .ok()
            .and_then(|()| super::event::EventHeader::decode(head.get(4..).unwrap_or_default()).ok())
            .map(|h| h.server_id);
        let (mut first, mut last) = (None, None);
        let mut mysql = super::gtid::GtidSet::default();
        let mut maria: std::collections::BTreeMap<u32, (super::gtid::MariaGtid, super::gtid::MariaGtid)> =
            Default::default();
        super::find::transactions(dir, &[name.to_string()], |t| {
            first.get_or_insert(t.time);
            last = Some(t.time);
            match &t.gtid {
                Some(super::find::Gtid::Mysql(sid, gno)) => mysql.add(sid.clone(), *gno),
                Some(super::find::Gtid::Maria(g)) => {
                    maria.entry(g.domain).and_modify(|e| e.1 = *g).or_insert((*g, *g));
                }
                None => {}
            }
            ControlFlow::Continue(())
        })
        .map_err(|e| e.to_string())?;
        let gtids = if maria.is_empty() {
            mysql.to_string().replace('\n', "")
        } else {
            maria.values().map(|(a, b)| format!("{a}..{b}")).collect::<Vec<_>>().join(",")
        };
        let start = stored
            .local()
            .and_then(|f| super::gtid_index::history_start(dir, name, f, size).ok().flatten())
            .map(|(_, s)| s);
        Ok(Entry { name: name.to_string(), size, md5, first, last, server_id, gtids, start, crc32: Some(crc32) })
    }
}

/// Reads a file in 1 MiB pieces (a file of a GiB costs no GiB of memory), handing
/// each to `each`.
fn read_pieces(p: &Path, mut each: impl FnMut(&[u8])) -> std::io::Result<()> {
    use std::io::Read;
    let mut f = std::fs::File::open(p)?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        each(buf.get(..n).unwrap_or_default());
    }
}

/// The md5 of a file as lower-case hex.
pub fn md5_file(p: &Path) -> std::io::Result<String> {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    read_pieces(p, |b| h.update(b))?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The CRC-32 of a file.
pub fn crc32_file(p: &Path) -> std::io::Result<u32> {
    let mut h = crc32fast::Hasher::new();
    read_pieces(p, |b| h.update(b))?;
    Ok(h.finalize())
}

/// A file's md5 (lower-case hex) and CRC-32, in one read.
fn digests(p: &Path) -> std::io::Result<(String, u32)> {
    use md5::{Digest, Md5};
    let (mut m, mut c) = (Md5::new(), crc32fast::Hasher::new());
    read_pieces(p, |b| {
        m.update(b);
        c.update(b);
    })?;
    Ok((m.finalize().iter().map(|b| format!("{b:02x}")).collect(), c.finalize()))
}

/// The catalog as the running binlogd holds it: read once, and kept current by the
/// archiver, the file's only writer while binlogd runs (`record`). Years of archived
/// files make a catalog of tens of thousands of lines, which every dump into the
/// archive, every restored file and every `@@gtid_purged` would otherwise read again.
/// A catalog that does not read is read again at the next ask, so that one mended
/// while binlogd runs is taken.
pub struct Kept {
    fs: std::sync::Arc<dyn Fs>,
    dir: std::path::PathBuf,
    cat: std::sync::RwLock<Option<std::sync::Arc<Catalog>>>,
}

impl Kept {
    pub fn new(fs: std::sync::Arc<dyn Fs>, dir: &Path) -> Kept {
        Kept { fs, dir: dir.to_path_buf(), cat: std::sync::RwLock::new(None) }
    }

    /// The catalog (read the first time), or why it cannot be read.
    pub fn get(&self) -> Result<std::sync::Arc<Catalog>, String> {
        if let Some(c) = self.cat.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
            return Ok(c.clone());
        }
        let mut slot = self.cat.write().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = std::sync::Arc::new(Catalog::load(&*self.fs, &self.dir)?);
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Records `e` in the file, then in what readers get: a reader never sees a file as
    /// archived before the catalog on disk says so. Over a catalog that cannot be read
    /// (the archiver said so, and archives its files again), a new one is begun.
    pub fn record(&self, e: Entry) -> Result<(), String> {
        let mut slot = self.cat.write().unwrap_or_else(|e| e.into_inner());
        let mut c = match slot.as_ref() {
            Some(c) => (**c).clone(),
            None => Catalog::load(&*self.fs, &self.dir).unwrap_or_default(),
        };
        c.add(e);
        c.save(&*self.fs, &self.dir)
            .map_err(|e| format!("{}: cannot write: {e}", self.dir.join(CATALOG_FILE).display()))?;
        *slot = Some(std::sync::Arc::new(c));
        Ok(())
    }
}

/// Every archived file, in the order archived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub entries: Vec<Entry>,
}

impl Catalog {
    /// binlog_dir's catalog, with the names a binlogd without one recorded as archived.
    /// A line that cannot be read is an error naming it: the purge must not take a
    /// file for unarchived, nor for archived, on a guess.
    pub fn load(fs: &dyn Fs, dir: &Path) -> Result<Catalog, String> {
        let mut c = Catalog::default();
        let p = dir.join(CATALOG_FILE);
        if fs.is_file(&p) {
            let b = fs.read(&p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
            for (i, line) in String::from_utf8_lossy(&b).lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let e = Entry::parse(line).map_err(|e| format!("{}:{}: {e}", p.display(), i + 1))?;
                c.entries.push(e);
            }
        }
        let legacy = dir.join(LEGACY_STATUS_FILE);
        if fs.is_file(&legacy) {
            let b = fs.read(&legacy).map_err(|e| format!("{}: cannot read: {e}", legacy.display()))?;
            for n in String::from_utf8_lossy(&b).lines().map(str::trim).filter(|l| !l.is_empty()) {
                if !c.contains(n) {
                    c.entries.push(Entry::named(n));
                }
            }
        }
        Ok(c)
    }

    /// The files it records that are not among `stored` (binlog_dir's index): the
    /// archive's alone, oldest first.
    pub fn not_stored(&self, stored: &[String]) -> Vec<Entry> {
        let stored: std::collections::HashSet<&str> = stored.iter().map(String::as_str).collect();
        self.entries.iter().filter(|e| !stored.contains(e.name.as_str())).cloned().collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.name == name)
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// Records `e` (again, if its name was known only by name).
    pub fn add(&mut self, e: Entry) {
        match self.entries.iter_mut().find(|x| x.name == e.name) {
            Some(x) => *x = e,
            None => self.entries.push(e),
        }
    }

    /// Replaces the catalog in binlog_dir with this one, crash-safely.
    pub fn save(&self, fs: &dyn Fs, dir: &Path) -> std::io::Result<()> {
        let text: String = self.entries.iter().map(|e| format!("{e}\n")).collect();
        fs.replace(dir, CATALOG_FILE, text.as_bytes(), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::fs::SimFs;

    #[test]
    fn an_entry_reads_back_as_written_and_a_bad_line_is_named() {
        let e = Entry {
            name: "mysql-bin.000007".into(),
            size: 1_073_741_900,
            md5: "0123456789abcdef0123456789abcdef".into(),
            first: Some(1_764_979_200),
            last: Some(1_764_979_260),
            server_id: Some(1),
            gtids: "0-1-5..0-1-9,1-2-3..1-2-3".into(),
            start: Some(FileStart::from_text("mariadb", "0-1-4,1-2-2").unwrap()),
            crc32: Some(0x0a1b2c3d),
        };
        assert_eq!(Entry::parse(&e.to_string()).unwrap(), e);
        assert!(e.to_string().ends_with("\t0a1b2c3d"), "{e}");
        // A line of a catalog written before the CRC-32 was kept reads without it.
        let old = Entry { crc32: None, ..e.clone() };
        assert_eq!(old.to_string().split('\t').count(), 8);
        assert_eq!(Entry::parse(&old.to_string()).unwrap(), old);
        assert!(Entry::parse(&format!("{old}\t+a1b2c3d")).unwrap_err().contains("crc32"));
        assert!(Entry::parse(&format!("{e}\t")).unwrap_err().contains("10 fields"));
        assert_eq!(Entry::parse(&Entry::named("b.000001").to_string()).unwrap(), Entry::named("b.000001"));
        assert!(Entry::parse("b.000001\tx\t\t\t\t\t").unwrap_err().contains("size"));
        assert!(Entry::parse("../etc/passwd\t1\t\t\t\t\t").is_err());
        let fs = SimFs::new();
        let dir = Path::new("/c");
        fs.create_dir_all(dir).unwrap();
        fs.replace(dir, CATALOG_FILE, b"b.000001\t1\t\t\t\t\t\nbroken\n", false).unwrap();
        assert!(Catalog::load(&fs, dir).unwrap_err().contains("binlogd.catalog:2"));
    }

    #[test]
    fn the_kept_catalog_is_read_once_and_what_is_recorded_is_on_disk_first() {
        let fs = std::sync::Arc::new(SimFs::new());
        let dir = Path::new("/k");
        fs.create_dir_all(dir).unwrap();
        fs.replace(dir, CATALOG_FILE, b"b.000001\t1\t\t\t\t\t\nbroken\n", false).unwrap();
        let kept = Kept::new(fs.clone(), dir);
        assert!(kept.get().unwrap_err().contains("binlogd.catalog:2"));
        // Mended while binlogd runs: read at the next ask.
        fs.replace(dir, CATALOG_FILE, b"b.000001\t1\t\t\t\t\t\n", false).unwrap();
        assert!(kept.get().unwrap().contains("b.000001"));
        kept.record(Entry { size: 7, ..Entry::named("b.000002") }).unwrap();
        assert_eq!(kept.get().unwrap().get("b.000002").unwrap().size, 7);
        assert_eq!(Catalog::load(&*fs, dir).unwrap(), *kept.get().unwrap());
        // Read once: a change on disk behind its back is not read again.
        fs.replace(dir, CATALOG_FILE, b"", false).unwrap();
        assert_eq!(kept.get().unwrap().entries.len(), 2);
        let stored = ["b.000002".to_string()];
        assert_eq!(
            kept.get().unwrap().not_stored(&stored),
            vec![Entry::named("b.000001")].into_iter().map(|e| Entry { size: 1, ..e }).collect::<Vec<_>>()
        );
    }

    #[test]
    fn names_recorded_before_the_catalog_stay_archived() {
        let fs = SimFs::new();
        let dir = Path::new("/c");
        fs.create_dir_all(dir).unwrap();
        fs.replace(dir, LEGACY_STATUS_FILE, b"b.000001\nb.000002\n", false).unwrap();
        let mut c = Catalog::load(&fs, dir).unwrap();
        assert!(c.contains("b.000001") && c.contains("b.000002") && !c.contains("b.000003"));
        c.add(Entry { size: 9, ..Entry::named("b.000002") });
        c.add(Entry::named("b.000003"));
        c.save(&fs, dir).unwrap();
        let again = Catalog::load(&fs, dir).unwrap();
        assert_eq!(again.entries.len(), 3);
        assert_eq!(again.get("b.000002").unwrap().size, 9);
    }

    #[test]
    fn a_real_file_is_described_with_its_gtids_times_md5_and_crc32() {
        let d = crate::test_dir::TestDir::new("catalog");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        for (name, gtids) in [("mariadb-10.11.19.000001", "0-1-1..0-1-7"), ("mysql-9.7.4.000001", ":1-7")] {
            std::fs::copy(src.join(name), d.join(name)).unwrap();
            let e = Entry::describe(&d, name).unwrap();
            assert!(e.gtids.ends_with(gtids), "{name}: {e}");
            assert_eq!(e.size, std::fs::metadata(d.join(name)).unwrap().len());
            assert_eq!((e.md5.len(), e.server_id), (32, Some(1)));
            let bytes = std::fs::read(d.join(name)).unwrap();
            assert_eq!(e.crc32, Some(crc32fast::hash(&bytes)));
            assert!(e.first.is_some() && e.first <= e.last, "{e}");
            assert!(e.start.is_some(), "{e}");
        }
    }
}
