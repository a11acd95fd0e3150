//! `--find-time` and `--find-gtid`: where in the stored history a point-in-time
//! recovery stops, and which files hold given transactions. Read-only: the files are
//! walked (`walk::Walker`) and their transactions told apart by the same tracker as
//! recovery (`trx::Tracker`).
//!
//! A transaction's time is its last event's timestamp: when it committed, in whole
//! seconds since the epoch, UTC (the binlog event header's `timestamp`, written by the
//! primary in UTC whatever its time zone).

use std::fmt;
use std::ops::ControlFlow;
use std::path::Path;

use super::catalog::Entry;
use super::event::{self, EventType};
use super::gtid::{GtidSet, MariaGtid, MariaPos, Tsid};
use super::trx::Tracker;
use super::walk::{bytes_of, WalkError, Walker};

/// A transaction's GTID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gtid {
    Mysql(Tsid, u64),
    Maria(MariaGtid),
}

impl fmt::Display for Gtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gtid::Mysql(sid, gno) => {
                let mut one = GtidSet::default();
                one.add(sid.clone(), *gno);
                write!(f, "{one}")
            }
            Gtid::Maria(g) => write!(f, "{g}"),
        }
    }
}

/// One complete transaction of a stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trx {
    pub file: String,
    /// Where its first event starts, and where its last one ends.
    pub start: u64,
    pub end: u64,
    /// When it committed: its last event's timestamp (seconds, UTC).
    pub time: u32,
    pub gtid: Option<Gtid>,
}

/// Why a search could not read the history.
#[derive(Debug)]
pub struct FindError {
    pub file: String,
    pub offset: u64,
    pub what: String,
}

impl fmt::Display for FindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.offset, self.what)
    }
}

/// Events that are a file's, not a transaction's.
fn file_event(t: EventType) -> bool {
    matches!(
        t,
        EventType::FORMAT_DESCRIPTION
            | EventType::PREVIOUS_GTIDS
            | EventType::MARIADB_GTID_LIST
            | EventType::MARIADB_BINLOG_CHECKPOINT
            | EventType::MARIADB_START_ENCRYPTION
            | EventType::ROTATE
            | EventType::STOP
            | EventType::HEARTBEAT
    )
}

/// Calls `f` with each complete transaction of the stored files `files` of `dir`, in
/// order, until it breaks. A file that ends inside a transaction (the one being
/// written) gives what it holds whole.
pub fn transactions(dir: &Path, files: &[String], mut f: impl FnMut(&Trx) -> ControlFlow<()>) -> Result<(), FindError> {
    for name in files {
        let err = |offset: u64, what: String| FindError { file: name.clone(), offset, what };
        let stored = super::read::open(dir, name).map_err(|e| err(0, format!("cannot open: {e}")))?;
        let data = stored.whole().map_err(|e| err(0, format!("cannot read: {e}")))?;
        let data: &[u8] = &data;
        if data.len() < 4 {
            continue;
        }
        let mut tracker = Tracker::new(event::ChecksumAlg::OFF);
        let mut open: Option<(u64, Option<Gtid>)> = None;
        for found in Walker::new(data, 4, data.len() as u64) {
            let found = match found {
                Ok(x) => x,
                Err(WalkError::Torn { .. }) => break,
                Err(e) => return Err(err(e.offset(), e.to_string())),
            };
            let (h, ev) = (found.header, bytes_of(data, &found));
            let before = tracker.at_boundary();
            let gtid = match h.event_type {
                t @ (EventType::GTID | EventType::GTID_TAGGED) => {
                    event::decode_any_mysql_gtid(t, ev, tracker.alg).ok().map(|(sid, gno)| Gtid::Mysql(sid, gno))
                }
                EventType::MARIADB_GTID => event::decode_mariadb_gtid(ev, tracker.alg)
                    .ok()
                    .map(|(seq, domain, _)| Gtid::Maria(MariaGtid { domain, server: h.server_id, seq })),
                _ => None,
            };
            let step = tracker.feed(&h, ev).map_err(|e| err(found.offset, e.to_string()))?;
            if before && !file_event(h.event_type) && open.is_none() {
                open = Some((found.offset, gtid));
            }
            if step.boundary {
                if let Some((start, gtid)) = open.take() {
                    let t = Trx { file: name.clone(), start, end: found.end(), time: h.timestamp, gtid };
                    if f(&t).is_break() {
                        return Ok(());
                    }
                }
            }
        }
    }
    Ok(())
}

/// MariaDB's BINLOG_GTID_POS: the GTID position of a replica that would start
/// reading the stored file `data` at `pos`. It is the file's Gtid_list, then each
/// GTID whose event starts before `pos`, the latest of each domain; None where `pos`
/// is neither where an event starts nor where the file ends (mysqld's
/// `gtid_state_from_binlog_pos`, sql/sql_repl.cc). A position before the first event
/// means the file's start.
pub fn maria_pos_at(data: &[u8], pos: u64) -> Result<Option<MariaPos>, WalkError> {
    let pos = pos.max(4);
    let mut state = MariaPos::default();
    let mut alg = event::ChecksumAlg::OFF;
    let mut at_event = pos == 4;
    // Whether the file's state is read: its Gtid_list, or a transaction (it has none).
    let mut listed = false;
    let bad = |offset: u64, what: String| WalkError::Corrupt { offset, what };
    for found in Walker::new(data, 4, data.len() as u64) {
        let found = match found {
            Ok(f) => f,
            // The end of what is written so far.
            Err(WalkError::Torn { .. }) => break,
            Err(e) => return Err(e),
        };
        let (h, ev) = (found.header, bytes_of(data, &found));
        at_event |= found.offset == pos || found.end() == pos;
        match h.event_type {
            EventType::FORMAT_DESCRIPTION => {
                alg = event::FormatDescription::decode(ev).map(|f| f.checksum).unwrap_or(alg);
            }
            // The state the file starts with, wherever `pos` is.
            EventType::MARIADB_GTID_LIST => {
                let body = event::body(ev, alg).map_err(|e| bad(found.offset, e.to_string()))?;
                let list =
                    MariaPos::decode_gtid_list(body).map_err(|e| bad(found.offset, format!("Gtid_list: {}", e.0)))?;
                for g in list {
                    state.domains.insert(g.domain, g);
                }
                listed = true;
            }
            EventType::MARIADB_GTID => {
                listed = true;
                if found.offset < pos {
                    let (seq, domain, _) =
                        event::decode_mariadb_gtid(ev, alg).map_err(|e| bad(found.offset, e.to_string()))?;
                    state.domains.insert(domain, MariaGtid { domain, server: h.server_id, seq });
                }
            }
            _ => {}
        }
        if listed && found.offset >= pos {
            break;
        }
    }
    Ok(at_event.then_some(state))
}

/// Where a replay up to a time stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeAnswer {
    /// Files the archive catalog records and binlog_dir no longer holds, that the replay
    /// reads before the stored ones, oldest first.
    pub archived: Vec<String>,
    /// When the time falls before every stored transaction: the archived file the stop
    /// lies in, by the catalog's times (the offset needs the file).
    pub stop_archived: Option<String>,
    /// The last transaction that committed at or before the time, before any that
    /// committed after it; None if the first one is already after it.
    pub last: Option<Trx>,
    /// The first transaction that committed after the time (the one a replay must
    /// not apply); None if every stored one is at or before it.
    pub next: Option<Trx>,
    /// The files a replay from the start of the history to `last` reads, in order.
    pub files: Vec<String>,
}

/// Where a replay up to `time` (seconds since the epoch, UTC) stops in `files`:
/// just after the last transaction that committed at or before it. `archived`: the
/// catalog's files no longer stored, oldest first, read by their recorded times.
pub fn find_time(dir: &Path, files: &[String], archived: &[Entry], time: i64) -> Result<TimeAnswer, FindError> {
    let (mut last, mut next) = (None, None);
    transactions(dir, files, |t| {
        if i64::from(t.time) <= time {
            last = Some(t.clone());
            ControlFlow::Continue(())
        } else {
            next = Some(t.clone());
            ControlFlow::Break(())
        }
    })?;
    let upto = last.as_ref().or(next.as_ref()).map(|t| t.file.clone());
    let mut files = match upto.and_then(|f| files.iter().position(|x| *x == f)) {
        Some(i) => files[..=i].to_vec(),
        None => files.to_vec(),
    };
    let mut names: Vec<String> = archived.iter().map(|e| e.name.clone()).collect();
    let mut stop_archived = None;
    if last.is_none() && !archived.is_empty() {
        // Before every stored transaction: the stop lies in the archive, in the last file
        // whose first transaction committed at or before the time.
        match archived.iter().rposition(|e| e.first.is_some_and(|f| i64::from(f) <= time)) {
            Some(i) => {
                stop_archived = Some(archived[i].name.clone());
                names.truncate(i + 1);
                files.clear();
            }
            None => names.clear(),
        }
    }
    Ok(TimeAnswer { archived: names, stop_archived, last, next, files })
}

/// What a set of GTIDs asks for: a MySQL GTID set, or MariaDB GTIDs (each one
/// transaction, `domain-server-seq`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    Mysql(GtidSet),
    Maria(Vec<MariaGtid>),
}

impl Wanted {
    pub fn parse(s: &str) -> Result<Wanted, String> {
        let parts: Vec<&str> = s.split(',').map(str::trim).filter(|x| !x.is_empty()).collect();
        if parts.is_empty() {
            return Err("no GTID given".into());
        }
        // MariaDB's are domain-server-seq; MySQL's hold a ':'.
        if parts.iter().all(|p| !p.contains(':') && p.matches('-').count() == 2) {
            let mut v = Vec::new();
            for part in parts {
                let one = MariaPos::parse(part).map_err(|e| e.0)?;
                v.extend(one.domains.values().copied());
            }
            return Ok(Wanted::Maria(v));
        }
        let set =
            GtidSet::parse(s).map_err(|e| format!("'{s}' is neither a MySQL GTID set nor MariaDB GTIDs: {}", e.0))?;
        Ok(Wanted::Mysql(set))
    }

    /// Whether an archived file, by the GTIDs its catalog entry records, holds any.
    fn in_entry(&self, e: &Entry) -> bool {
        match self {
            Wanted::Mysql(set) => GtidSet::parse(&e.gtids).is_ok_and(|have| set.difference(&have) != *set),
            Wanted::Maria(list) => list.iter().any(|g| maria_in(&e.gtids, g)),
        }
    }

    fn holds(&self, g: &Gtid) -> bool {
        match (self, g) {
            (Wanted::Mysql(set), Gtid::Mysql(sid, gno)) => set.contains(sid.clone(), *gno),
            (Wanted::Maria(list), Gtid::Maria(m)) => list.contains(m),
            _ => false,
        }
    }
}

/// Whether the catalog's MariaDB ranges (`first..last` per domain) hold `g`.
fn maria_in(ranges: &str, g: &MariaGtid) -> bool {
    ranges.split(',').any(|r| {
        let Some((a, b)) = r.split_once("..") else { return false };
        match (MariaPos::parse(a), MariaPos::parse(b)) {
            (Ok(a), Ok(b)) => match (a.domains.get(&g.domain), b.domains.get(&g.domain)) {
                (Some(a), Some(b)) => (a.seq..=b.seq).contains(&g.seq),
                _ => false,
            },
            _ => false,
        }
    })
}

/// Which files hold the transactions asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtidAnswer {
    /// Files the archive catalog records, no longer stored, that hold any of them.
    pub archived: Vec<String>,
    /// The first of them in the history: where a replay of them starts.
    pub first: Option<Trx>,
    /// The files that hold any of them, in order.
    pub files: Vec<String>,
    /// How many were found.
    pub found: usize,
    /// Those not stored (purged, or not yet received), as text; empty when all are.
    pub missing: String,
}

/// The files of `files` that hold the transactions of `wanted`, and of `archived` (the
/// catalog's files no longer stored) those whose recorded GTIDs hold any.
pub fn find_gtid(dir: &Path, files: &[String], archived: &[Entry], wanted: &Wanted) -> Result<GtidAnswer, FindError> {
    let mut first = None;
    let mut holding: Vec<String> = Vec::new();
    let mut seen_mysql = GtidSet::default();
    let mut seen_maria: Vec<MariaGtid> = Vec::new();
    let mut found = 0;
    transactions(dir, files, |t| {
        if let Some(g) = t.gtid.clone().filter(|g| wanted.holds(g)) {
            found += 1;
            if first.is_none() {
                first = Some(t.clone());
            }
            if holding.last() != Some(&t.file) {
                holding.push(t.file.clone());
            }
            match g {
                Gtid::Mysql(sid, gno) => seen_mysql.add(sid, gno),
                Gtid::Maria(m) => seen_maria.push(m),
            }
        }
        ControlFlow::Continue(())
    })?;
    let in_archive: Vec<&Entry> = archived.iter().filter(|e| wanted.in_entry(e)).collect();
    let missing = match wanted {
        Wanted::Mysql(set) => {
            let mut left = set.difference(&seen_mysql);
            for e in &in_archive {
                if let Ok(have) = GtidSet::parse(&e.gtids) {
                    left = left.difference(&have);
                }
            }
            left.to_string().replace('\n', "")
        }
        Wanted::Maria(list) => {
            let left: Vec<String> = list
                .iter()
                .filter(|g| !seen_maria.contains(g) && !in_archive.iter().any(|e| maria_in(&e.gtids, g)))
                .map(|g| g.to_string())
                .collect();
            left.join(",")
        }
    };
    let archived = in_archive.iter().map(|e| e.name.clone()).collect();
    Ok(GtidAnswer { archived, first, files: holding, found, missing })
}

/// A string as a JSON string literal.
fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

impl Trx {
    fn text(&self) -> String {
        let g = self.gtid.as_ref().map(|g| format!("{g} ")).unwrap_or_default();
        format!(
            "{g}committed {} UTC, {} {}-{}",
            crate::logging::utc_datetime(u64::from(self.time)),
            self.file,
            self.start,
            self.end
        )
    }

    fn json(&self) -> String {
        format!(
            "{{\"file\":{},\"start\":{},\"end\":{},\"timestamp\":{},\"time\":{},\"gtid\":{}}}",
            json_str(&self.file),
            self.start,
            self.end,
            self.time,
            json_str(&crate::logging::utc_datetime(u64::from(self.time))),
            self.gtid.as_ref().map_or("null".to_string(), |g| json_str(&g.to_string()))
        )
    }
}

/// The files, archived ones first, each with where it is.
fn json_files(archived: &[String], files: &[String]) -> String {
    let one = |f: &String, at: &str| format!("{{\"name\":{},\"stored\":\"{at}\"}}", json_str(f));
    let v: Vec<String> =
        archived.iter().map(|f| one(f, "archive")).chain(files.iter().map(|f| one(f, "local"))).collect();
    format!("[{}]", v.join(","))
}

/// The files as text, archived ones marked.
fn text_files(archived: &[String], files: &[String]) -> String {
    archived.iter().map(|f| format!("{f} (archived)")).chain(files.iter().cloned()).collect::<Vec<_>>().join(" ")
}

impl TimeAnswer {
    /// For `--find-time`: what a person reads, `asked` being the time asked for (UTC).
    pub fn text(&self, asked: &str) -> String {
        let mut s = format!("time: {asked} UTC\n");
        match &self.last {
            Some(t) => {
                s.push_str(&format!("stop: {} {}\n", t.file, t.end));
                s.push_str(&format!("last transaction at or before the time: {}\n", t.text()));
            }
            None => match &self.stop_archived {
                Some(f) => s.push_str(&format!("stop: in {f} (archived; its offset needs the file)\n")),
                None => s.push_str("stop: before every stored transaction\n"),
            },
        }
        match &self.next {
            Some(t) => s.push_str(&format!("first transaction after the time: {}\n", t.text())),
            None => s.push_str("first transaction after the time: none stored yet\n"),
        }
        s.push_str(&format!("files: {}\n", text_files(&self.archived, &self.files)));
        s
    }

    /// For `--find-time --json`: one object.
    pub fn json(&self, asked: &str) -> String {
        let stop = match (&self.last, &self.stop_archived) {
            (Some(t), _) => format!("{{\"file\":{},\"offset\":{},\"stored\":\"local\"}}", json_str(&t.file), t.end),
            (None, Some(f)) => format!("{{\"file\":{},\"offset\":null,\"stored\":\"archive\"}}", json_str(f)),
            (None, None) => "null".to_string(),
        };
        format!(
            "{{\"time\":{},\"stop\":{stop},\"last\":{},\"next\":{},\"files\":{}}}\n",
            json_str(asked),
            self.last.as_ref().map_or("null".to_string(), Trx::json),
            self.next.as_ref().map_or("null".to_string(), Trx::json),
            json_files(&self.archived, &self.files)
        )
    }
}

impl GtidAnswer {
    /// For `--find-gtid`: what a person reads.
    pub fn text(&self) -> String {
        let mut s = format!("found: {} transaction(s)\n", self.found);
        if !self.missing.is_empty() {
            s.push_str(&format!("not stored: {}\n", self.missing));
        }
        if let Some(t) = &self.first {
            s.push_str(&format!("first: {}\n", t.text()));
        }
        s.push_str(&format!("files: {}\n", text_files(&self.archived, &self.files)));
        s
    }

    /// For `--find-gtid --json`: one object.
    pub fn json(&self) -> String {
        format!(
            "{{\"found\":{},\"missing\":{},\"first\":{},\"files\":{}}}\n",
            self.found,
            json_str(&self.missing),
            self.first.as_ref().map_or("null".to_string(), Trx::json),
            json_files(&self.archived, &self.files)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::event::EventHeader;

    fn golden(name: &str) -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)).unwrap()
    }

    /// `data` with each event's timestamp set to `base` plus 10 s for each transaction
    /// before it (the CRC32s made again): a file whose times are known.
    fn retimed(data: &[u8], base: u32) -> Vec<u8> {
        let mut out = data[..4].to_vec();
        let mut t = Tracker::new(event::ChecksumAlg::OFF);
        let mut done = 0u32;
        let mut pos = 4;
        while pos < data.len() {
            let mut h = EventHeader::decode(&data[pos..]).unwrap();
            let ev = &data[pos..pos + h.event_size as usize];
            let crc = t.alg == event::ChecksumAlg::CRC32 || h.event_type == EventType::FORMAT_DESCRIPTION;
            let before = t.at_boundary();
            let step = t.feed(&h, ev).unwrap();
            h.timestamp = base + 10 * done;
            out.extend_from_slice(&h.event(&ev[event::HEADER_LEN..ev.len() - 4], crc));
            if step.boundary && !(before && file_event(h.event_type)) {
                done += 1;
            }
            pos += ev.len();
        }
        out
    }

    #[test]
    fn the_transactions_of_real_files_are_told_apart_with_their_gtids() {
        let d = crate::test_dir::TestDir::new("find-trx");
        for (name, n, first) in [
            ("mariadb-10.11.19.000001", 7, "0-1-1"),
            ("mysql-9.7.4.000001", 7, ":1"),
            ("mysql-9.7.4-compressed.000001", 4, ":1"),
        ] {
            std::fs::write(d.join(name), golden(name)).unwrap();
            let mut v = Vec::new();
            transactions(&d, &[name.to_string()], |t| {
                v.push(t.clone());
                ControlFlow::Continue(())
            })
            .unwrap();
            assert_eq!(v.len(), n, "{name}: {v:?}");
            assert!(v[0].gtid.as_ref().unwrap().to_string().ends_with(first), "{name}: {v:?}");
            assert!(v.windows(2).all(|w| w[0].end <= w[1].start), "{name}");
        }
    }

    #[test]
    fn a_time_stops_after_the_last_transaction_committed_by_then() {
        let d = crate::test_dir::TestDir::new("find-time");
        let g = golden("mariadb-10.11.19.000001");
        // Seven transactions at 1000, 1010, ... 1060; then seven at 2000 ... 2060.
        std::fs::write(d.join("b.000001"), retimed(&g, 1000)).unwrap();
        std::fs::write(d.join("b.000002"), retimed(&g, 2000)).unwrap();
        let files = vec!["b.000001".to_string(), "b.000002".to_string()];
        let a = find_time(&d, &files, &[], 2025).unwrap();
        let (last, next) = (a.last.unwrap(), a.next.unwrap());
        assert_eq!((last.file.as_str(), last.time, next.time), ("b.000002", 2020, 2030));
        assert_eq!(last.gtid.as_ref().unwrap().to_string(), "0-1-3");
        assert_eq!(last.end, next.start);
        assert_eq!(a.files, files);
        // A transaction of that very second is in.
        let a = find_time(&d, &files, &[], 1030).unwrap();
        assert_eq!((a.last.unwrap().time, a.files.len()), (1030, 1));
        // Before everything, and after everything.
        let a = find_time(&d, &files, &[], 10).unwrap();
        assert!(a.last.is_none());
        assert_eq!(a.next.unwrap().time, 1000);
        assert!(find_time(&d, &files, &[], 5000).unwrap().next.is_none());
    }

    #[test]
    fn archived_files_are_read_by_the_catalogs_times_and_gtids() {
        let d = crate::test_dir::TestDir::new("find-archived");
        let g = golden("mariadb-10.11.19.000001");
        std::fs::write(d.join("b.000003"), retimed(&g, 3000)).unwrap();
        let files = vec!["b.000003".to_string()];
        let arch = |n: &str, first: u32, gtids: &str| Entry {
            first: Some(first),
            last: Some(first + 60),
            gtids: gtids.into(),
            ..Entry::named(n)
        };
        let archived = vec![arch("b.000001", 1000, "0-1-1..0-1-7"), arch("b.000002", 2000, "0-1-8..0-1-14")];
        // In the stored files: every archived file comes before them.
        let a = find_time(&d, &files, &archived, 3025).unwrap();
        assert_eq!((a.archived.len(), a.stop_archived.as_deref(), a.files.len()), (2, None, 1));
        // Before them: the stop is in the archived file that began by then.
        let a = find_time(&d, &files, &archived, 2030).unwrap();
        assert_eq!((a.archived.len(), a.stop_archived.as_deref(), a.files.len()), (2, Some("b.000002"), 0));
        let a = find_time(&d, &files, &archived, 1500).unwrap();
        assert_eq!((a.archived.len(), a.stop_archived.as_deref()), (1, Some("b.000001")));
        assert!(find_time(&d, &files, &archived, 10).unwrap().archived.is_empty());
        // GTIDs by the catalog's ranges.
        let a = find_gtid(&d, &files, &archived, &Wanted::parse("0-1-9,0-1-20").unwrap()).unwrap();
        assert_eq!((a.archived, a.missing.as_str()), (vec!["b.000002".to_string()], "0-1-20"));
    }

    #[test]
    fn gtids_are_found_in_the_files_that_hold_them() {
        let d = crate::test_dir::TestDir::new("find-gtid");
        std::fs::write(d.join("m.000001"), golden("mysql-9.7.4-tagged.000001")).unwrap();
        std::fs::write(d.join("m.000002"), golden("mysql-9.7.4-tagged.000002")).unwrap();
        let files = vec!["m.000001".to_string(), "m.000002".to_string()];
        let mut all = Vec::new();
        transactions(&d, &files, |t| {
            all.push(t.clone());
            ControlFlow::Continue(())
        })
        .unwrap();
        let last = all.last().unwrap().clone();
        assert_eq!(last.file, "m.000002");
        let uuid = last.gtid.as_ref().unwrap().to_string();
        let uuid = uuid.split(':').next().unwrap();
        let a = find_gtid(&d, &files, &[], &Wanted::parse(&format!("{uuid}:2-3,{uuid}:40")).unwrap()).unwrap();
        assert_eq!((a.files.as_slice(), a.found), (&["m.000001".to_string()][..], 2));
        assert_eq!(a.first.unwrap().gtid.as_ref().unwrap().to_string(), format!("{uuid}:2"));
        assert_eq!(a.missing, format!("{uuid}:40"));
        let a = find_gtid(&d, &files, &[], &Wanted::parse(&last.gtid.as_ref().unwrap().to_string()).unwrap()).unwrap();
        assert_eq!((a.first.unwrap(), a.files), (last, vec!["m.000002".to_string()]));
        assert!(matches!(Wanted::parse("0-1-3,0-1-5").unwrap(), Wanted::Maria(v) if v.len() == 2));
        assert!(Wanted::parse("nonsense").is_err());
    }

    #[test]
    fn answers_print_as_text_and_as_json() {
        let t = Trx {
            file: "b.000002".into(),
            start: 100,
            end: 200,
            time: 1_764_979_200,
            gtid: Some(Gtid::Maria(MariaGtid { domain: 0, server: 1, seq: 3 })),
        };
        let a = TimeAnswer {
            archived: vec![],
            stop_archived: None,
            last: Some(t.clone()),
            next: None,
            files: vec!["b.000001".into(), "b.000002".into()],
        };
        let text = a.text("2025-12-06 00:00:00");
        assert!(
            text.contains("stop: b.000002 200") && text.contains("0-1-3 committed 2025-12-06 00:00:00 UTC"),
            "{text}"
        );
        let j = a.json("2025-12-06 00:00:00");
        assert!(
            j.starts_with("{\"time\":\"2025-12-06 00:00:00\",\"stop\":{\"file\":\"b.000002\",\"offset\":200,"),
            "{j}"
        );
        assert!(j.contains("\"next\":null") && j.contains("{\"name\":\"b.000001\",\"stored\":\"local\"}"), "{j}");
        // A time before every stored transaction: the stop is in the archive.
        let a = TimeAnswer {
            archived: vec!["b.000000".into()],
            stop_archived: Some("b.000000".into()),
            last: None,
            next: Some(t),
            files: vec![],
        };
        assert!(a.text("x").contains("stop: in b.000000 (archived"), "{}", a.text("x"));
        assert!(a.json("x").contains("\"stop\":{\"file\":\"b.000000\",\"offset\":null,\"stored\":\"archive\"}"));
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }

    #[test]
    fn binlog_gtid_pos_is_the_state_a_replica_starting_there_has() {
        let g = golden("mariadb-10.11.19.000001");
        let at = |pos: u64| maria_pos_at(&g, pos).unwrap().map(|p| p.to_string());
        // Before the first GTID: the file's (empty) Gtid_list.
        for pos in [0, 4, 256, 328] {
            assert_eq!(at(pos).as_deref(), Some(""), "{pos}");
        }
        // A GTID counts once its event starts before the position, even mid-transaction.
        assert_eq!(at(370).as_deref(), Some("0-1-1"));
        assert_eq!(at(451).as_deref(), Some("0-1-1"));
        assert_eq!(at(688).as_deref(), Some("0-1-3"));
        assert_eq!(at(862).as_deref(), Some("0-1-3"));
        // Not where an event starts, or past the end.
        assert_eq!(at(371), None);
        assert_eq!(at(g.len() as u64 + 1), None);
        assert_eq!(at(g.len() as u64).as_deref(), Some("0-1-7"));
    }
}
