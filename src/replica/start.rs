//! Where a dump from the primary starts: from what binlog_dir holds (its resume point)
//! or, on an empty directory, from `get_start_gtid_mode` and `exclude_gtids`. The
//! decision is pure: what it needs from the primary (its binary logs, the GTIDs before
//! a file) comes through `PrimaryFiles`, so every mode is unit-tested.

use super::connect::{Flavor, Primary, Start};
use super::ReplicaError;
use crate::binlog::gtid::{GtidSet, MariaPos};
use crate::binlog::store::ResumePoint;
use crate::config::StartMode;

/// What the start decision asks the primary.
pub trait PrimaryFiles {
    /// Its binary logs, oldest first (SHOW BINARY LOGS).
    fn binary_logs(&mut self) -> Result<Vec<String>, ReplicaError>;
    /// The GTIDs before `file`: its Previous_gtids (MySQL) or Gtid_list (MariaDB).
    fn file_start(&mut self, file: &str) -> Result<(GtidSet, MariaPos), ReplicaError>;
}

/// What the source lacks of the transactions binlogd stored, from its GTID state
/// (`gtid_executed` on MySQL, `gtid_binlog_pos` on MariaDB): None when it holds them
/// all. A source that lacks some would fork the history binlogd serves (a replica
/// promoted before it took what binlogd has, or a primary whose binary log lost
/// what it had sent): nothing of it may be appended.
pub fn source_lacks(rp: &ResumePoint, flavor: Flavor, source_state: &str) -> Result<Option<String>, String> {
    match flavor {
        Flavor::Mysql => {
            let theirs = GtidSet::parse(&source_state.replace('\n', ""))
                .map_err(|e| format!("the source's gtid_executed '{source_state}': {e}"))?;
            let missing = rp.gtids.difference(&theirs);
            Ok((!missing.is_empty()).then(|| missing.to_string().replace('\n', "")))
        }
        Flavor::MariaDb => {
            let theirs = MariaPos::parse(source_state)
                .map_err(|e| format!("the source's gtid_binlog_pos '{source_state}': {e}"))?;
            let ahead = rp.maria.ahead_of(&theirs);
            let said: Vec<String> = ahead
                .iter()
                .map(|(g, t)| match t {
                    Some(t) => format!("domain {} up to {g} (the source has up to sequence {t})", g.domain),
                    None => format!("domain {} up to {g} (the source has none of that domain)", g.domain),
                })
                .collect();
            Ok((!said.is_empty()).then(|| said.join(", ")))
        }
    }
}

/// Where to start. `file_pos_once`: continue by file+pos this once (the primary's
/// file must be read to its end before a GTID dump may pick the next one).
pub fn decide(
    mode: StartMode,
    exclude_gtids: &str,
    rp: ResumePoint,
    p: &Primary,
    file_pos_once: bool,
    primary: &mut dyn PrimaryFiles,
) -> Result<Start, ReplicaError> {
    if let Some((file, pos)) = rp.file {
        if file_pos_once {
            return Ok(Start::FilePos(file, pos));
        }
        // A GTID dump that starts in a file we don't have yet would send that file's
        // FDE altered (created time zeroed); position 4 by file+pos sends it as stored.
        let by_gtid = mode != StartMode::FilePos && pos > 4;
        return Ok(match p.flavor {
            // Naming our file and position keeps the tail of the open file (its
            // ROTATE or STOP), which a dump that picks its own start file skips.
            Flavor::Mysql if by_gtid && p.gtid_mode && !rp.gtids.is_empty() => {
                Start::MysqlGtid(rp.gtids, Some((file, pos)))
            }
            Flavor::MariaDb if by_gtid && !rp.maria.is_empty() => Start::MariaGtid(rp.maria),
            _ => Start::FilePos(file, pos),
        });
    }
    // Empty directory.
    let logs = primary.binary_logs()?;
    let (Some(first), Some(last)) = (logs.first(), logs.last()) else {
        return Err(ReplicaError::Fatal("the primary lists no binary logs (SHOW BINARY LOGS is empty)".into()));
    };
    match mode {
        StartMode::FilePos => Ok(Start::FilePos(first.clone(), 4)),
        // The whole current file is taken so that its offsets match the primary's.
        StartMode::Current => Ok(Start::FilePos(last.clone(), 4)),
        StartMode::Gtid if exclude_gtids.trim().is_empty() => Ok(Start::FilePos(first.clone(), 4)),
        StartMode::Gtid => {
            // Start at the newest file all of whose earlier transactions are excluded,
            // so files stay byte-identical; transactions in it before the first
            // wanted one are stored too.
            let ex = exclude_gtids.trim();
            let have = match p.flavor {
                Flavor::Mysql => (GtidSet::parse(ex).ok(), None),
                Flavor::MariaDb => (None, MariaPos::parse(ex).ok()),
            };
            match newest_covered(p, &logs, &have, primary)? {
                Some(name) => Ok(Start::FilePos(name, 4)),
                None => Err(ReplicaError::Fatal(format!(
                    "exclude_gtids '{ex}' does not cover the GTIDs before the primary's oldest binary log {first}: those transactions are purged"
                ))),
            }
        }
    }
}

/// The newest of the primary's binary logs `logs` all of whose earlier transactions
/// `have` holds (a MySQL set, or MariaDB's position per domain), asking it for each
/// file's start, newest first. None: even its oldest file starts after a transaction
/// `have` lacks. A start there keeps files byte-identical; the transactions of that
/// file `have` holds are stored again, and readers skip them.
fn newest_covered(
    p: &Primary,
    logs: &[String],
    have: &(Option<GtidSet>, Option<MariaPos>),
    primary: &mut dyn PrimaryFiles,
) -> Result<Option<String>, ReplicaError> {
    for name in logs.iter().rev() {
        let (g, m) = primary.file_start(name)?;
        let covered = match (p.flavor, have) {
            (Flavor::Mysql, (Some(e), _)) => g.is_subset(e),
            (Flavor::MariaDb, (_, Some(e))) => {
                m.domains.values().all(|x| e.domains.get(&x.domain).is_some_and(|y| x.seq <= y.seq))
            }
            _ => false,
        };
        if covered {
            return Ok(Some(name.clone()));
        }
    }
    Ok(None)
}

/// Where to start on a new source (another server than the one the newest stored
/// files came from), which holds every transaction stored (`source_lacks`): at the
/// start of its newest file whose earlier transactions binlogd holds.
pub fn new_source(rp: &ResumePoint, p: &Primary, primary: &mut dyn PrimaryFiles) -> Result<Start, ReplicaError> {
    let logs = primary.binary_logs()?;
    let have = (Some(rp.gtids.clone()), Some(rp.maria.clone()));
    match newest_covered(p, &logs, &have, primary)? {
        Some(name) => Ok(Start::FilePos(name, 4)),
        None => Err(ReplicaError::Fork(format!(
            "the new source's binary logs ({}) all start after transactions binlogd does not hold: what lies \
             between binlogd's history and them is purged from it, so binlogd cannot continue its history there",
            logs.first().map_or("none", String::as_str)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_that_lacks_stored_transactions_is_named_with_what_it_lacks() {
        let u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let rp = ResumePoint {
            file: Some(("b.000002".into(), 900)),
            gtids: GtidSet::parse(&format!("{u}:1-20")).unwrap(),
            maria: MariaPos::parse("0-1-20").unwrap(),
        };
        assert_eq!(source_lacks(&rp, Flavor::Mysql, &format!("{u}:1-25,\n{u}:30")).unwrap(), None);
        assert_eq!(source_lacks(&rp, Flavor::Mysql, &format!("{u}:1-17")).unwrap(), Some(format!("{u}:18-20")));
        assert_eq!(source_lacks(&rp, Flavor::MariaDb, "0-2-21").unwrap(), None);
        let lacks = source_lacks(&rp, Flavor::MariaDb, "0-1-18").unwrap().unwrap();
        assert!(lacks.contains("0-1-20") && lacks.contains("sequence 18"), "{lacks}");
        assert!(source_lacks(&rp, Flavor::MariaDb, "").unwrap().unwrap().contains("none of that domain"));
        assert!(source_lacks(&rp, Flavor::Mysql, "garbage").is_err());
    }
    use crate::binlog::event::ChecksumAlg;

    const U: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    /// A primary with three files from b.00000`first` on; before file n come
    /// transactions 1..10(n-1) of U (MySQL), or 0-1-10(n-1) (MariaDB).
    struct Fake {
        first: u64,
        asked: Vec<String>,
    }

    impl PrimaryFiles for Fake {
        fn binary_logs(&mut self) -> Result<Vec<String>, ReplicaError> {
            Ok((self.first..self.first + 3).map(|n| format!("b.{n:06}")).collect())
        }
        fn file_start(&mut self, file: &str) -> Result<(GtidSet, MariaPos), ReplicaError> {
            self.asked.push(file.to_string());
            let n: u64 = file.rsplit('.').next().and_then(|x| x.parse().ok()).unwrap_or(1) - 1;
            let g = if n == 0 { GtidSet::default() } else { GtidSet::parse(&format!("{U}:1-{}", 10 * n)).unwrap() };
            let m = if n == 0 { MariaPos::default() } else { MariaPos::parse(&format!("0-1-{}", 10 * n)).unwrap() };
            Ok((g, m))
        }
    }

    fn primary(flavor: Flavor, gtid_mode: bool) -> Primary {
        Primary {
            flavor,
            version: String::new(),
            greeting_version: String::new(),
            server_id: 1,
            server_uuid: Some(U.into()),
            checksum: ChecksumAlg::CRC32,
            gtid_mode,
            semisync: true,
            variables: Default::default(),
        }
    }

    fn empty() -> ResumePoint {
        ResumePoint::default()
    }

    fn stored(pos: u64) -> ResumePoint {
        ResumePoint {
            file: Some(("b.000002".into(), pos)),
            gtids: GtidSet::parse(&format!("{U}:1-15")).unwrap(),
            maria: MariaPos::parse("0-1-15").unwrap(),
        }
    }

    fn run(
        mode: StartMode,
        ex: &str,
        rp: ResumePoint,
        p: &Primary,
        once: bool,
    ) -> (Result<Start, ReplicaError>, Vec<String>) {
        run_from(1, mode, ex, rp, p, once)
    }

    fn run_from(
        first: u64,
        mode: StartMode,
        ex: &str,
        rp: ResumePoint,
        p: &Primary,
        once: bool,
    ) -> (Result<Start, ReplicaError>, Vec<String>) {
        let mut f = Fake { first, asked: Vec::new() };
        let r = decide(mode, ex, rp, p, once, &mut f);
        (r, f.asked)
    }

    #[test]
    fn an_empty_directory_starts_where_each_mode_says() {
        for flavor in [Flavor::Mysql, Flavor::MariaDb] {
            let p = primary(flavor, true);
            let fp = |f: &str| Start::FilePos(f.into(), 4);
            assert_eq!(run(StartMode::FilePos, "", empty(), &p, false).0.unwrap(), fp("b.000001"));
            assert_eq!(run(StartMode::Current, "", empty(), &p, false).0.unwrap(), fp("b.000003"));
            assert_eq!(run(StartMode::Gtid, " ", empty(), &p, false).0.unwrap(), fp("b.000001"));
            let ex = if flavor == Flavor::Mysql { format!("{U}:1-12") } else { "0-1-12".into() };
            let (r, asked) = run(StartMode::Gtid, &ex, empty(), &p, false);
            assert_eq!(
                r.unwrap(),
                fp("b.000002"),
                "{flavor:?}: the newest file whose earlier transactions are excluded"
            );
            assert_eq!(asked, ["b.000003", "b.000002"], "newest first, stopping at the first that fits");
            // The primary purged its first file: what came before its oldest must be excluded.
            let ex = if flavor == Flavor::Mysql { format!("{U}:5-9") } else { "0-1-9".into() };
            let (r, _) = run_from(2, StartMode::Gtid, &ex, empty(), &p, false);
            let e = r.unwrap_err().to_string();
            assert!(e.contains("does not cover the GTIDs before the primary's oldest binary log b.000002"), "{e}");
        }
    }

    #[test]
    fn a_new_source_starts_at_its_newest_file_that_begins_inside_what_binlogd_holds() {
        for flavor in [Flavor::Mysql, Flavor::MariaDb] {
            let p = primary(flavor, true);
            let mut f = Fake { first: 1, asked: Vec::new() };
            assert_eq!(new_source(&stored(1000), &p, &mut f).unwrap(), Start::FilePos("b.000002".into(), 4));
            assert_eq!(f.asked, ["b.000003", "b.000002"]);
            // Its oldest file starts after transaction 10, and binlogd holds only 1-5.
            let few = ResumePoint {
                gtids: GtidSet::parse(&format!("{U}:1-5")).unwrap(),
                maria: MariaPos::parse("0-1-5").unwrap(),
                ..stored(1000)
            };
            let mut f = Fake { first: 2, asked: Vec::new() };
            let e = new_source(&few, &p, &mut f).unwrap_err().to_string();
            assert!(e.contains("b.000002") && e.contains("purged"), "{e}");
        }
    }

    #[test]
    fn a_stored_directory_resumes_by_gtid_or_by_file_and_position_as_the_mode_and_primary_allow() {
        let mysql = primary(Flavor::Mysql, true);
        let maria = primary(Flavor::MariaDb, true);
        let at = Some(("b.000002".to_string(), 1000));
        for mode in [StartMode::Gtid, StartMode::Current] {
            let (r, asked) = run(mode, "", stored(1000), &mysql, false);
            assert_eq!(r.unwrap(), Start::MysqlGtid(GtidSet::parse(&format!("{U}:1-15")).unwrap(), at.clone()));
            assert!(asked.is_empty(), "a stored directory asks the primary nothing");
            let r = run(mode, "", stored(1000), &maria, false).0.unwrap();
            assert_eq!(r, Start::MariaGtid(MariaPos::parse("0-1-15").unwrap()));
        }
        let fp = Start::FilePos("b.000002".into(), 1000);
        // Mode 2 resumes by file+pos; so does a MySQL primary with GTIDs off; so does
        // the one resume after a file that must be read to its end; and a file's start.
        assert_eq!(run(StartMode::FilePos, "", stored(1000), &mysql, false).0.unwrap(), fp);
        assert_eq!(run(StartMode::Gtid, "", stored(1000), &primary(Flavor::Mysql, false), false).0.unwrap(), fp);
        assert_eq!(run(StartMode::Gtid, "", stored(1000), &maria, true).0.unwrap(), fp);
        assert_eq!(run(StartMode::Gtid, "", stored(4), &mysql, false).0.unwrap(), Start::FilePos("b.000002".into(), 4));
        // No GTIDs stored yet: by file+pos.
        let none = ResumePoint { file: Some(("b.000002".into(), 1000)), ..ResumePoint::default() };
        assert_eq!(run(StartMode::Gtid, "", none.clone(), &mysql, false).0.unwrap(), fp);
        assert_eq!(run(StartMode::Gtid, "", none, &maria, false).0.unwrap(), fp);
    }
}
