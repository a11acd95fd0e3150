//! Removing old binlog files: by statement (`PURGE BINARY LOGS TO | BEFORE`) and by
//! policy (`binlog_expire_logs_seconds`, `binlog_space_limit`, with `min_binlog_files`
//! as a floor).
//!
//! What must hold:
//! - only a prefix of the index goes, never the active (last) file, never a file a
//!   connected replica is reading or will read next, never a file whose archive
//!   command has not succeeded;
//! - a crash at any step leaves a directory that opens, and no file goes that the
//!   plan did not name: the store carries a plan out (`store::execute`, with its
//!   journal `binlogd.purge` and the room `binlogd.reserve` keeps for a full disk).
//!
//! This module decides what goes; the store, which owns binlog_dir, removes it.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::store::StoreError;

/// What is known of one stored file.
#[derive(Debug, Clone)]
pub struct FileFacts {
    pub name: String,
    pub size: u64,
    pub mtime: SystemTime,
    /// Its archive command succeeded (always true without `archive_command`).
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `PURGE BINARY LOGS TO 'name'`: every file before it.
    To(String),
    /// `PURGE BINARY LOGS BEFORE 'datetime'`: files last modified before it.
    Before(SystemTime),
    /// The cnf's policy.
    Policy { expire: Option<Duration>, space_limit: Option<u64> },
}

/// Why a purge stopped short of what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// A connected replica reads this file (or an earlier one).
    InUse {
        file: String,
        readers: usize,
    },
    NotArchived(String),
    MinFiles(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub purge: Vec<String>,
    /// How many files the target asked for.
    pub wanted: usize,
    pub held: Option<Held>,
}

/// Decides which files go. `files` is the index, oldest first; `readers` counts the
/// connected replicas per file they are reading.
pub fn plan(
    files: &[FileFacts],
    target: &Target,
    readers: &BTreeMap<String, usize>,
    min_files: usize,
    now: SystemTime,
) -> Result<Plan, String> {
    // Never the active file.
    let closed = files.len().saturating_sub(1);
    let wanted = match target {
        Target::To(name) => files
            .iter()
            .position(|f| f.name == *name)
            .ok_or_else(|| "Target log not found in binlog index".to_string())?,
        Target::Before(t) => files[..closed].iter().take_while(|f| f.mtime < *t).count(),
        Target::Policy { expire, space_limit } => {
            let by_age = expire.map_or(0, |e| {
                let cut = now.checked_sub(e).unwrap_or(SystemTime::UNIX_EPOCH);
                files[..closed].iter().take_while(|f| f.mtime < cut).count()
            });
            let by_space = space_limit.map_or(0, |limit| {
                let mut total: u64 = files.iter().map(|f| f.size).sum();
                let mut n = 0;
                while n < closed && total > limit {
                    total -= files[n].size;
                    n += 1;
                }
                n
            });
            by_age.max(by_space)
        }
    };
    let mut n = wanted.min(closed);
    let mut held = None;
    if let Some(i) = files[..n].iter().position(|f| readers.contains_key(&f.name)) {
        let file = files[i].name.clone();
        let count = readers.get(&file).copied().unwrap_or(0);
        held = Some(Held::InUse { file, readers: count });
        n = i;
    }
    if let Some(i) = files[..n].iter().position(|f| !f.archived) {
        held = Some(Held::NotArchived(files[i].name.clone()));
        n = i;
    }
    let floor = files.len().saturating_sub(min_files);
    if n > floor {
        held = Some(Held::MinFiles(min_files));
        n = floor;
    }
    Ok(Plan { purge: files[..n].iter().map(|f| f.name.clone()).collect(), wanted, held })
}

impl Held {
    /// The warning text a primary gives (ER_WARN_PURGE_LOG_IN_USE and kin).
    pub fn message(&self, purged: usize, wanted: usize) -> String {
        match self {
            Held::InUse { file, readers } => format!(
                "file {file} was not purged because it is being read by {readers} thread(s), purged only {purged} out of {wanted} files."
            ),
            Held::NotArchived(file) => format!(
                "file {file} was not purged because its archive_command has not succeeded yet, purged only {purged} out of {wanted} files."
            ),
            Held::MinFiles(m) => format!(
                "min_binlog_files = {m} keeps the newest {m} files, purged only {purged} out of {wanted} files."
            ),
        }
    }
}

fn io<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |err| StoreError::Io { path: path.to_path_buf(), op, err }
}

/// Facts about every file in the index, for `plan`.
pub fn facts(dir: &Path, names: &[String], archived: impl Fn(&str) -> bool) -> Result<Vec<FileFacts>, StoreError> {
    names
        .iter()
        .map(|n| {
            let p = dir.join(n);
            let m = std::fs::metadata(&p).map_err(io(&p, "stat"))?;
            Ok(FileFacts {
                name: n.clone(),
                size: m.len(),
                mtime: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                archived: archived(n),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, size: u64, age_s: u64, archived: bool) -> FileFacts {
        FileFacts {
            name: name.into(),
            size,
            mtime: SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 - age_s),
            archived,
        }
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)
    }

    fn files() -> Vec<FileFacts> {
        vec![
            f("b.000001", 100, 500, true),
            f("b.000002", 100, 400, true),
            f("b.000003", 100, 300, true),
            f("b.000004", 100, 0, true),
        ]
    }

    #[test]
    fn purge_to_stops_before_the_named_file_and_never_takes_the_active_one() {
        let p = plan(&files(), &Target::To("b.000003".into()), &BTreeMap::new(), 0, now()).unwrap();
        assert_eq!(p.purge, vec!["b.000001", "b.000002"]);
        let p = plan(&files(), &Target::To("b.000004".into()), &BTreeMap::new(), 0, now()).unwrap();
        assert_eq!(p.purge.len(), 3);
        assert!(plan(&files(), &Target::To("b.000009".into()), &BTreeMap::new(), 0, now()).is_err());
        let p = plan(&files(), &Target::Before(now()), &BTreeMap::new(), 0, now()).unwrap();
        assert_eq!(p.purge.len(), 3, "the active file stays whatever its age");
    }

    #[test]
    fn readers_archive_and_floor_hold_files_back() {
        let mut r = BTreeMap::new();
        r.insert("b.000002".to_string(), 2);
        let p = plan(&files(), &Target::To("b.000004".into()), &r, 0, now()).unwrap();
        assert_eq!(p.purge, vec!["b.000001"]);
        assert_eq!(p.held, Some(Held::InUse { file: "b.000002".into(), readers: 2 }));
        assert!(p.held.unwrap().message(1, 3).contains("being read by 2 thread(s), purged only 1 out of 3"));
        let mut v = files();
        v[0].archived = false;
        let p = plan(&v, &Target::To("b.000004".into()), &BTreeMap::new(), 0, now()).unwrap();
        assert!(p.purge.is_empty());
        assert_eq!(p.held, Some(Held::NotArchived("b.000001".into())));
        let p = plan(&files(), &Target::To("b.000004".into()), &BTreeMap::new(), 3, now()).unwrap();
        assert_eq!(p.purge, vec!["b.000001"]);
    }

    #[test]
    fn policy_takes_the_larger_of_age_and_space() {
        let age = Target::Policy { expire: Some(Duration::from_secs(350)), space_limit: None };
        assert_eq!(plan(&files(), &age, &BTreeMap::new(), 0, now()).unwrap().purge.len(), 2);
        let space = Target::Policy { expire: Some(Duration::from_secs(450)), space_limit: Some(150) };
        assert_eq!(plan(&files(), &space, &BTreeMap::new(), 0, now()).unwrap().purge.len(), 3);
        let none = Target::Policy { expire: None, space_limit: None };
        assert!(plan(&files(), &none, &BTreeMap::new(), 0, now()).unwrap().purge.is_empty());
    }
}
