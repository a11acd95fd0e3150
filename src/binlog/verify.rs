//! `binlogd --verify DIR`: checks a binlog directory without changing it.
//!
//! For each file in index order: the magic, every event's length and CRC32, that
//! each event's log_pos is where it ends, that a ROTATE names the next file in
//! the index; across files, that each file's Previous_gtids or Gtid_list agrees
//! with the files before it, and that no MySQL GTID repeats. The index must list
//! exactly the binlog files in the directory.
//! The first problem stops the walk and is reported as file:offset.

use std::collections::BTreeMap;
use std::path::Path;

use md5::{Digest, Md5};

use super::event::{self, ChecksumAlg, EventType};
use super::gtid::{GtidSet, MariaGtid, MariaPos, Tsid};
use super::sources;
use super::store::{scan_bytes, split_name};
use super::walk::{bytes_of, Walker};

/// What one file holds.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub name: String,
    pub size: u64,
    pub events: u64,
    pub first_gtid: Option<String>,
    pub last_gtid: Option<String>,
    pub md5: String,
    /// The last file may end inside a transaction (binlogd was stopped or is running):
    /// what recovery would cut.
    pub open_tail: Option<String>,
    /// What the GTID check found odd but possible on a healthy primary.
    pub notes: Vec<String>,
}

impl std::fmt::Display for FileReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}  size {}  events {}  gtids {} .. {}  md5 {}",
            self.name,
            self.size,
            self.events,
            self.first_gtid.as_deref().unwrap_or("-"),
            self.last_gtid.as_deref().unwrap_or("-"),
            self.md5
        )?;
        if let Some(t) = &self.open_tail {
            write!(f, "  (open tail: {t})")?;
        }
        for n in &self.notes {
            write!(f, "  (note: {n})")?;
        }
        Ok(())
    }
}

/// A problem, at file:offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub offset: u64,
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.offset, self.what)
    }
}

/// Follows the GTIDs across files. A file's header states what was executed before
/// it: MySQL's Previous_gtids is the set, MariaDB's Gtid_list the last GTID of each
/// domain and server_id. Each header must agree with the one before plus the
/// transactions in between. Gaps and order within a source are not checked: a
/// primary may have them legitimately (`SET gtid_next`, `SET gtid_seq_no`, a
/// multi-threaded replica's binlog, MariaDB without gtid_strict_mode).
#[derive(Default)]
struct GtidCheck {
    /// What the files read so far hold, once a Previous_gtids was seen.
    mysql: Option<GtidSet>,
    /// MariaDB's binlog state: the last seq_no per (domain, server_id), once a
    /// Gtid_list was seen.
    maria: Option<BTreeMap<(u32, u32), u64>>,
    /// Inside the first files of a later source (`sources`): what was held before it,
    /// whose transactions that server's files may repeat.
    earlier: Option<GtidSet>,
}

impl GtidCheck {
    /// A file's Previous_gtids. Returns a note when it has GTIDs no earlier file has.
    fn previous_gtids(&mut self, set: GtidSet) -> Result<Option<String>, String> {
        let note = match &self.mysql {
            None => None,
            Some(have) => {
                let lacks = have.difference(&set);
                if !lacks.is_empty() {
                    return Err(format!("Previous_gtids lacks {lacks}, which the files before it hold"));
                }
                let adds = set.difference(have);
                (!adds.is_empty()).then(|| {
                    format!(
                        "Previous_gtids adds {adds}, which no file before it holds \
                         (gtid_purged set on the primary, or transactions missing here)"
                    )
                })
            }
        };
        self.mysql = Some(set);
        Ok(note)
    }

    /// The first file of a later source starts with `set`: it must start inside what
    /// the files before it hold (no transaction between them is missing); its
    /// transactions that they hold already are repeats, not errors.
    fn cross_mysql(&mut self, set: GtidSet) -> Result<Option<String>, String> {
        let have = self.mysql.take().unwrap_or_default();
        let gap = set.difference(&have);
        if !gap.is_empty() {
            return Err(format!(
                "a new source's first file starts after {gap}, which no file before it holds: the history has a gap"
            ));
        }
        self.mysql = Some(set);
        self.earlier = Some(have);
        Ok(None)
    }

    /// MariaDB's: every domain of the new source's Gtid_list is within what the files
    /// before it reached.
    fn cross_maria(&mut self, list: &[MariaGtid]) -> Result<(), String> {
        let state = self.maria.take().unwrap_or_default();
        for g in list {
            let top = state.iter().filter(|((d, _), _)| *d == g.domain).map(|(_, &n)| n).max();
            if top.is_none_or(|t| t < g.seq) {
                return Err(format!(
                    "a new source's first file starts after {}-{}-{}, past what the files before it reach in domain {}: the history has a gap",
                    g.domain, g.server, g.seq, g.domain
                ));
            }
        }
        self.maria = Some(list.iter().map(|g| ((g.domain, g.server), g.seq)).collect());
        Ok(())
    }

    fn mysql_gtid(&mut self, sid: Tsid, gno: u64) -> Result<String, String> {
        let g = format!("{sid}:{gno}");
        let earlier = self.earlier.as_ref().is_some_and(|e| e.contains(&sid, gno));
        let have = self.mysql.get_or_insert_with(GtidSet::default);
        if have.contains(&sid, gno) && !earlier {
            return Err(format!("GTID {g} repeats: the Previous_gtids or an earlier transaction has it"));
        }
        have.add(sid, gno);
        Ok(g)
    }

    /// A file's Gtid_list. Returns notes for what can change it legitimately:
    /// GTIDs past the files before it, a domain deleted.
    fn gtid_list(&mut self, list: &[MariaGtid]) -> Result<Vec<String>, String> {
        let new: BTreeMap<(u32, u32), u64> = list.iter().map(|g| ((g.domain, g.server), g.seq)).collect();
        let mut notes = Vec::new();
        if let Some(state) = &self.maria {
            let mut adds = Vec::new();
            for (&(d, s), &n) in &new {
                match state.get(&(d, s)) {
                    Some(&m) if m > n => {
                        return Err(format!("Gtid_list has {d}-{s}-{n}, but the files before it reach {d}-{s}-{m}"))
                    }
                    Some(&m) if m == n => {}
                    _ => adds.push(format!("{d}-{s}-{n}")),
                }
            }
            if !adds.is_empty() {
                notes.push(format!(
                    "Gtid_list has {}, past the files before it (transactions missing here?)",
                    adds.join(",")
                ));
            }
            let mut gone = Vec::new();
            for (&(d, s), &m) in state {
                if new.contains_key(&(d, s)) {
                    continue;
                }
                if new.keys().any(|&(nd, _)| nd == d) {
                    return Err(format!("Gtid_list lacks {d}-{s}-{m}, which the files before it hold"));
                }
                if !gone.contains(&d) {
                    gone.push(d);
                }
            }
            for d in gone {
                notes.push(format!("domain {d} is no longer listed (FLUSH BINARY LOGS DELETE_DOMAIN_ID)"));
            }
        }
        self.maria = Some(new);
        Ok(notes)
    }

    fn maria_gtid(&mut self, domain: u32, server: u32, seq: u64) -> String {
        self.maria.get_or_insert_with(BTreeMap::new).insert((domain, server), seq);
        format!("{domain}-{server}-{seq}")
    }
}

/// The binlog files listed in the index, checked against the directory.
pub fn index_names(dir: &Path) -> Result<Vec<String>, Problem> {
    let at = |what: String| Problem { file: dir.display().to_string(), offset: 0, what };
    let (index, names) = super::store::read_index(&*super::fs::os(), dir).map_err(|e| at(e.to_string()))?;
    // Each source's directory, and in it the files of that source's base name.
    let mut on_disk: Vec<String> = Vec::new();
    let mut sources_seen: Vec<u32> = names.iter().map(|n| sources::number(n)).collect();
    sources_seen.dedup();
    for k in sources_seen {
        let first = names.iter().find(|n| sources::number(n) == k);
        let base = first.and_then(|n| split_name(sources::plain(n))).map(|(b, _)| b.to_string());
        let d = dir.join(sources::dir_of(k));
        on_disk.extend(
            std::fs::read_dir(&d)
                .map_err(|e| at(format!("{}: {e}", d.display())))?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| split_name(n).is_some_and(|(b, _)| Some(b) == base.as_deref()))
                .map(|n| sources::path_in(k, &n)),
        );
    }
    on_disk.sort();
    let idx = index.display().to_string();
    if let Some(missing) = names.iter().find(|n| !on_disk.contains(n)) {
        return Err(Problem { file: idx, offset: 0, what: format!("lists {missing}, which is not in the directory") });
    }
    if let Some(extra) = on_disk.iter().find(|n| !names.contains(n)) {
        return Err(Problem {
            file: idx,
            offset: 0,
            what: format!("does not list {extra}, which is in the directory"),
        });
    }
    Ok(names)
}

/// Checks the directory, calling `each` with every file's report (for progress and
/// printing) before going on.
pub fn verify(dir: &Path, mut each: impl FnMut(&FileReport)) -> Result<Vec<FileReport>, Problem> {
    let names = index_names(dir)?;
    let mut checks = GtidCheck::default();
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let last = i + 1 == names.len();
        let problem = |offset: u64, what: String| Problem { file: name.clone(), offset, what };
        // Closed files are mapped, not read: they can be GiBs, and the pages stay the page
        // cache's; nothing writes them. The last one may be the active file of a running
        // binlogd, which appends to it (and writes over the zeros binlog_preallocate keeps):
        // it is read into memory, so that no byte changes under a slice being read.
        let stored = super::read::open(dir, name).map_err(|e| problem(0, e.to_string()))?;
        let map: Box<dyn super::fs::Mapping> = if last {
            Box::new(stored.read_all().map_err(|e| problem(0, e.to_string()))?)
        } else {
            stored.whole().map_err(|e| problem(0, e.to_string()))?
        };
        let scanned = scan_bytes(&map, name, last);
        if map.cut() {
            return Err(problem(0, super::store::cut_outside(map.len())));
        }
        let (scan, _) = scanned.map_err(|e| match e {
            super::store::StoreError::Corrupt { offset, what, .. } => problem(offset, what),
            other => problem(0, other.to_string()),
        })?;
        if let (Some(next), Some(want)) = (&scan.rotate_to, names.get(i + 1)) {
            if sources::path_in(sources::number(name), next) != *want {
                return Err(problem(scan.len, format!("ROTATE names {next}, but the index has {want} next")));
            }
        }
        let data: &[u8] = &map;
        let mut rep = FileReport {
            name: name.clone(),
            size: data.len() as u64,
            events: scan.events,
            first_gtid: None,
            last_gtid: None,
            md5: Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect(),
            open_tail: scan
                .reason
                .as_ref()
                .map(|r| format!("{r}; recovery keeps {} of {} bytes", scan.cut_at, scan.len)),
            notes: Vec::new(),
        };
        // The first file of a later source: which server, from when.
        let crossing = i > 0 && sources::number(name) != sources::number(&names[i - 1]);
        if crossing {
            let k = sources::number(name);
            let p = dir.join(sources::path_in(k, sources::ORIGIN_FILE));
            let text = std::fs::read_to_string(&p).map_err(|e| problem(0, format!("{}: {e}", p.display())))?;
            let o = sources::Origin::decode(&text, &p.display().to_string()).map_err(|e| problem(0, e))?;
            rep.notes.push(format!("source {k} begins: {} at {}, followed since {}", o.id, o.address, o.since));
        }
        // The GTIDs, in order; the scan already checked sizes and CRCs up to `cut_at`.
        let mut alg = ChecksumAlg::OFF;
        let mut header_seen = false;
        // The file may have changed since the scan (a running binlogd appends; recovery
        // cuts): never read past what is mapped now.
        let end = (scan.cut_at as usize).min(data.len());
        let mut walk = || -> Result<(), Problem> {
            for found in Walker::new(data, 4, end as u64) {
                let f = found.map_err(|e| problem(e.offset(), e.to_string()))?;
                let (at, h, ev) = (f.offset, f.header, bytes_of(data, &f));
                let t = h.event_type;
                let mut g = None;
                if t == EventType::FORMAT_DESCRIPTION {
                    alg = event::FormatDescription::decode(ev).map_err(|e| problem(at, e.to_string()))?.checksum;
                } else if t == EventType::PREVIOUS_GTIDS && !header_seen {
                    header_seen = true;
                    let body = event::body(ev, alg).map_err(|e| problem(at, e.to_string()))?;
                    let set = GtidSet::decode(body).map_err(|e| problem(at, format!("Previous_gtids: {e}")))?;
                    let note = if crossing { checks.cross_mysql(set) } else { checks.previous_gtids(set) };
                    rep.notes.extend(note.map_err(|e| problem(at, e))?);
                } else if t == EventType::MARIADB_GTID_LIST && !header_seen {
                    header_seen = true;
                    let body = event::body(ev, alg).map_err(|e| problem(at, e.to_string()))?;
                    let list = MariaPos::decode_gtid_list(body).map_err(|e| problem(at, format!("Gtid_list: {e}")))?;
                    if crossing {
                        checks.cross_maria(&list).map_err(|e| problem(at, e))?;
                    } else {
                        rep.notes.extend(checks.gtid_list(&list).map_err(|e| problem(at, e))?);
                    }
                } else if t == EventType::GTID || t == EventType::GTID_TAGGED {
                    let (sid, gno) =
                        event::decode_any_mysql_gtid(t, ev, alg).map_err(|e| problem(at, e.to_string()))?;
                    g = Some(checks.mysql_gtid(sid, gno).map_err(|e| problem(at, e))?);
                } else if t == EventType::MARIADB_GTID {
                    let (seq, domain, _) =
                        event::decode_mariadb_gtid(ev, alg).map_err(|e| problem(at, e.to_string()))?;
                    g = Some(checks.maria_gtid(domain, h.server_id, seq));
                }
                if t != EventType::FORMAT_DESCRIPTION
                    && t != EventType::PREVIOUS_GTIDS
                    && t != EventType::MARIADB_GTID_LIST
                {
                    // Previous_gtids and Gtid_list state the file's start only before its first transaction.
                    header_seen = true;
                }
                if let Some(g) = g {
                    rep.first_gtid.get_or_insert_with(|| g.clone());
                    rep.last_gtid = Some(g);
                }
            }
            Ok(())
        };
        let walked = walk();
        // Zeros read where the file was cut short from outside are not its bytes.
        if map.cut() {
            return Err(problem(0, super::store::cut_outside(data.len())));
        }
        walked?;
        each(&rep);
        out.push(rep);
    }
    check_catalog(dir, &out)?;
    Ok(out)
}

/// The archive catalog agrees with the files still stored: each one it records with an
/// md5 has that size and md5 here. A file it names that is no longer stored is the
/// archive's alone (purged after its archive succeeded).
fn check_catalog(dir: &Path, files: &[FileReport]) -> Result<(), Problem> {
    let cat = super::catalog::Catalog::load(&*super::fs::os(), dir).map_err(|what| Problem {
        file: super::catalog::CATALOG_FILE.into(),
        offset: 0,
        what,
    })?;
    for e in cat.entries.iter().filter(|e| !e.md5.is_empty()) {
        let Some(f) = files.iter().find(|f| f.name == e.name) else { continue };
        if f.size != e.size || f.md5 != e.md5 {
            return Err(Problem {
                file: e.name.clone(),
                offset: 0,
                what: format!(
                    "the archive catalog records it as {} bytes with md5 {}, but it is {} bytes with md5 {}: the \
                     stored file changed after it was archived",
                    e.size, e.md5, f.size, f.md5
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::event::{EventHeader, HEADER_LEN};
    use crate::binlog::test_files::{golden, maria_file, offsets, rewrite, with_previous_gtids};
    use crate::test_dir::TestDir;

    /// A directory holding `files` as mysql-bin.000001, .000002, ... and their index.
    fn dir_of(tag: &str, files: &[Vec<u8>]) -> TestDir {
        let d = TestDir::new(&format!("verify-{tag}"));
        let mut index = String::new();
        for (i, f) in files.iter().enumerate() {
            let name = format!("mysql-bin.{:06}", i + 1);
            std::fs::write(d.join(&name), f).unwrap();
            index.push_str(&format!("./{name}\n"));
        }
        std::fs::write(d.join("mysql-bin.index"), index).unwrap();
        d
    }

    fn problem(d: &Path) -> Problem {
        verify(d, |_| {}).unwrap_err()
    }

    const UUID: &str = "d2088dd1-e70c-11f1-b41e-02fc00000001";

    #[test]
    fn consecutive_mysql_files_with_tagged_gtids_verify_clean() {
        let d = dir_of("tagged", &[golden("mysql-9.7.4-tagged.000001"), golden("mysql-9.7.4-tagged.000002")]);
        let reps = verify(&d, |_| {}).unwrap();
        assert_eq!(reps.len(), 2);
        assert!(reps.iter().all(|r| r.notes.is_empty()), "{reps:?}");
        assert_eq!(reps[1].first_gtid.as_deref(), Some(format!("{UUID}:4").as_str()));
    }

    #[test]
    fn a_previous_gtids_that_lacks_an_earlier_files_transaction_is_a_problem() {
        let second = with_previous_gtids(golden("mysql-9.7.4-tagged.000002"), &format!("{UUID}:1-2:mytag:1-2"));
        let d = dir_of("lacks", &[golden("mysql-9.7.4-tagged.000001"), second]);
        let p = problem(&d);
        assert_eq!(p.file, "mysql-bin.000002");
        assert!(p.what.contains(&format!("Previous_gtids lacks {UUID}:3")), "{p}");
    }

    #[test]
    fn a_gtid_already_in_the_previous_gtids_repeats() {
        let second = with_previous_gtids(golden("mysql-9.7.4-tagged.000002"), &format!("{UUID}:1-4:mytag:1-2"));
        let d = dir_of("repeat", &[golden("mysql-9.7.4-tagged.000001"), second]);
        let p = problem(&d);
        assert!(p.what.contains(&format!("GTID {UUID}:4 repeats")), "{p}");
        assert_eq!(p.offset, offsets(&golden("mysql-9.7.4-tagged.000002"), EventType::GTID)[0] as u64);
    }

    #[test]
    fn a_previous_gtids_with_more_than_the_files_before_it_is_a_note_not_a_problem() {
        // gtid_purged extended on the primary, or files missing: possible on a healthy primary.
        let second = with_previous_gtids(golden("mysql-9.7.4-tagged.000002"), &format!("{UUID}:1-3:mytag:1-3"));
        let d = dir_of("adds", &[golden("mysql-9.7.4-tagged.000001"), second]);
        let reps = verify(&d, |_| {}).unwrap();
        assert!(reps[1].notes[0].contains(&format!("Previous_gtids adds {UUID}:mytag:3")), "{reps:?}");
        assert!(reps[1].to_string().contains("(note: Previous_gtids adds"));
    }

    #[test]
    fn gaps_and_order_within_a_source_are_not_problems() {
        // `SET gtid_next` can leave gaps; a multi-threaded replica's binlog can be out of order.
        let mut second = golden("mysql-9.7.4-tagged.000002");
        let at = offsets(&second, EventType::GTID)[0];
        let size = EventHeader::decode(&second[at..]).unwrap().event_size as usize;
        let mut body = second[at + HEADER_LEN..at + size - 4].to_vec();
        body[17..25].copy_from_slice(&100u64.to_le_bytes());
        rewrite(&mut second, at, &body);
        let d = dir_of("gap", &[golden("mysql-9.7.4-tagged.000001"), second]);
        let reps = verify(&d, |_| {}).unwrap();
        assert_eq!(reps[1].last_gtid.as_deref(), Some(format!("{UUID}:100").as_str()));
    }

    #[test]
    fn mariadb_gtid_lists_follow_the_files_before_them() {
        // Two server_ids in one domain, a gap (SET gtid_seq_no) and a step back
        // (no gtid_strict_mode): the next Gtid_list is the state they leave.
        let a = maria_file(&[], &[(0, 1, 1), (0, 1, 5), (0, 2, 6), (0, 1, 3), (7, 1, 1)], "mysql-bin.000002");
        let ok = maria_file(&[(0, 1, 3), (0, 2, 6), (7, 1, 1)], &[(0, 1, 7)], "mysql-bin.000003");
        let d = dir_of("maria-ok", &[a.clone(), ok.clone()]);
        let reps = verify(&d, |_| {}).unwrap();
        assert!(reps.iter().all(|r| r.notes.is_empty()), "{reps:?}");
        assert_eq!(reps[0].last_gtid.as_deref(), Some("7-1-1"));

        let back = maria_file(&[(0, 1, 2), (0, 2, 6), (7, 1, 1)], &[], "mysql-bin.000003");
        let p = problem(&dir_of("maria-back", &[a.clone(), back]));
        assert_eq!(
            (p.file.as_str(), p.offset),
            ("mysql-bin.000002", offsets(&ok, EventType::MARIADB_GTID_LIST)[0] as u64)
        );
        assert!(p.what.contains("Gtid_list has 0-1-2, but the files before it reach 0-1-3"), "{p}");

        let lacks = maria_file(&[(0, 1, 3), (7, 1, 1)], &[], "mysql-bin.000003");
        let p = problem(&dir_of("maria-lacks", &[a.clone(), lacks]));
        assert!(p.what.contains("Gtid_list lacks 0-2-6"), "{p}");

        let notes = maria_file(&[(0, 1, 3), (0, 2, 9)], &[], "mysql-bin.000003");
        let reps = verify(&dir_of("maria-notes", &[a, notes]), |_| {}).unwrap();
        assert!(reps[1].notes[0].contains("Gtid_list has 0-2-9, past the files before it"), "{reps:?}");
        assert!(reps[1].notes[1].contains("domain 7 is no longer listed"), "{reps:?}");
    }
}
