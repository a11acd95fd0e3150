//! Sources: the primaries binlogd followed, one after another, and where each one's
//! files live in binlog_dir.
//!
//! What must hold:
//! - every stored file keeps the name it has on the server it came from, and its
//!   bytes, so two sources' files of the same name never meet: the first source's
//!   files lie in binlog_dir itself (as before binlogd followed a second one), the
//!   K-th source's in `binlog_dir/source-K/`;
//! - a stored file is named inside binlogd by its path in binlog_dir
//!   (`mysql-bin.000007`, `source-2/mysql-bin.000003`): the index lists those;
//! - clients see the newest source's files under the names that primary gives them,
//!   and an older source's as `source-K.name` (`source-1.…` for binlog_dir's own),
//!   so a client never confuses two files of the same name. No `/` in what a client
//!   sees: MySQL's `mysqlbinlog --raw` refuses a ROTATE naming a path, as it would
//!   write outside its directory;
//! - each source's directory holds `binlogd.primary`: which server it is and what
//!   binlogd held when it began following it (`Origin`).

use super::gtid::{GtidSet, MariaPos};
use std::borrow::Cow;

/// The file beside a source's binlogs naming its server.
pub const ORIGIN_FILE: &str = "binlogd.primary";

const DIR_PREFIX: &str = "source-";

/// The source a stored file came from: 1 for binlog_dir's own files, K for `source-K/…`.
pub fn number(path: &str) -> u32 {
    path.split_once('/').and_then(|(d, _)| d.strip_prefix(DIR_PREFIX)).and_then(|k| k.parse().ok()).unwrap_or(1)
}

/// The name the primary gave a stored file.
pub fn plain(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, n)| n)
}

/// The directory of source `k` inside binlog_dir ("" for the first).
pub fn dir_of(k: u32) -> String {
    if k <= 1 {
        String::new()
    } else {
        format!("{DIR_PREFIX}{k}")
    }
}

/// Where source `k` stores the file the primary calls `name`.
pub fn path_in(k: u32, name: &str) -> String {
    if k <= 1 {
        name.to_string()
    } else {
        format!("{DIR_PREFIX}{k}/{name}")
    }
}

/// A source directory's name (`source-K`, K ≥ 2), as listed in binlog_dir.
pub fn dir_number(entry: &str) -> Option<u32> {
    entry
        .strip_prefix(DIR_PREFIX)
        .and_then(|k| k.parse().ok())
        .filter(|&k| k >= 2 && format!("{DIR_PREFIX}{k}") == entry)
}

/// A stored file's path is well-formed: a safe name, under a source directory or not.
pub fn is_safe_path(path: &str) -> bool {
    match path.split_once('/') {
        None => super::store::is_safe_name(path),
        Some((d, n)) => dir_number(d).is_some() && super::store::is_safe_name(n),
    }
}

/// The newest source among stored files (1 when there are none).
pub fn newest(files: &[String]) -> u32 {
    files.last().map_or(1, |f| number(f))
}

/// The name clients see for a stored file, `newest` being the newest source.
pub fn shown(path: &str, newest: u32) -> Cow<'_, str> {
    let k = number(path);
    if k == newest {
        Cow::Borrowed(plain(path))
    } else {
        Cow::Owned(format!("{DIR_PREFIX}{k}.{}", plain(path)))
    }
}

/// A qualified name, `source-K.name` as clients see it or `source-K/name` as the
/// path is: (K, name).
fn qualified(asked: &str) -> Option<(u32, &str)> {
    let rest = asked.strip_prefix(DIR_PREFIX)?;
    let at = rest.find(['.', '/'])?;
    let k = rest.get(..at)?.parse().ok()?;
    Some((k, rest.get(at + 1..)?))
}

/// The stored file a client means by `asked`: `source-K.name` (or the path,
/// `source-K/name`) names one source's file; a plain name is the newest source's file
/// of that name (the current primary's coordinates), or an older source's when no
/// newer one has that name.
pub fn resolve<'a>(files: &'a [String], asked: &str) -> Option<&'a String> {
    if let Some((k, n)) = qualified(asked) {
        let want = path_in(k, n);
        if let Some(f) = files.iter().find(|f| **f == want) {
            return Some(f);
        }
    }
    files.iter().rev().find(|f| plain(f) == asked)
}

/// The path of the file a client names, stored or not (an archived one): resolved
/// among `files`, else a qualified name's path, else the name as given.
pub fn to_path(files: &[String], asked: &str) -> String {
    if let Some(f) = resolve(files, asked) {
        return f.clone();
    }
    match qualified(asked) {
        Some((k, n)) => path_in(k, n),
        None => asked.to_string(),
    }
}

/// Which server a source is, and what binlogd held when it began following it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// Its server_uuid (MySQL) or `server_id N` (MariaDB).
    pub id: String,
    /// host:port it was reached at.
    pub address: String,
    /// The GTID state of everything stored before this source's first file: what a
    /// reader crossing into this source already has.
    pub gtids: GtidSet,
    pub maria: MariaPos,
    /// When binlogd began following it (UTC).
    pub since: String,
}

impl Origin {
    /// `binlogd.primary`: the id on the first line (all that older versions wrote),
    /// then `key value` lines.
    pub fn encode(&self) -> String {
        let mut s = format!("{}\n", self.id);
        if !self.address.is_empty() {
            s.push_str(&format!("address {}\n", self.address));
        }
        if !self.since.is_empty() {
            s.push_str(&format!("since {}\n", self.since));
        }
        if !self.gtids.is_empty() {
            s.push_str(&format!("gtids {}\n", self.gtids.to_string().replace('\n', "")));
        }
        if !self.maria.is_empty() {
            s.push_str(&format!("maria {}\n", self.maria.state()));
        }
        s
    }

    /// Reads `binlogd.primary`; `what` names it in errors.
    pub fn decode(text: &str, what: &str) -> Result<Origin, String> {
        let mut lines = text.lines();
        let id = lines.next().unwrap_or("").trim().to_string();
        let mut o = Origin { id, ..Origin::default() };
        for (i, line) in lines.enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (k, v) = line.split_once(' ').unwrap_or((line, ""));
            let bad = |e: String| format!("{what}: line {}: {e}", i + 2);
            match k {
                "address" => o.address = v.to_string(),
                "since" => o.since = v.to_string(),
                "gtids" => o.gtids = GtidSet::parse(v).map_err(|e| bad(e.to_string()))?,
                "maria" => o.maria = MariaPos::parse_state(v).map_err(|e| bad(e.to_string()))?,
                // A later version's line: kept readable.
                _ => {}
            }
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sources_files_keep_their_names_and_clients_see_the_newest_plain() {
        let files: Vec<String> =
            ["b.000006", "b.000007", "source-2/b.000003", "source-2/b.000007"].iter().map(|s| s.to_string()).collect();
        assert_eq!(number("b.000007"), 1);
        assert_eq!(number("source-2/b.000003"), 2);
        assert_eq!(plain("source-2/b.000003"), "b.000003");
        assert_eq!(newest(&files), 2);
        assert_eq!(shown("source-2/b.000003", 2), "b.000003");
        assert_eq!(shown("b.000007", 2), "source-1.b.000007");
        assert_eq!(shown("b.000007", 1), "b.000007");
        // A plain name is the current primary's; a qualified one reaches an older source.
        assert_eq!(resolve(&files, "b.000007").map(String::as_str), Some("source-2/b.000007"));
        assert_eq!(resolve(&files, "source-1.b.000007").map(String::as_str), Some("b.000007"));
        assert_eq!(resolve(&files, "source-1/b.000007").map(String::as_str), Some("b.000007"));
        assert_eq!(resolve(&files, "source-2.b.000003").map(String::as_str), Some("source-2/b.000003"));
        assert_eq!(resolve(&files, "b.000006").map(String::as_str), Some("b.000006"));
        assert_eq!(resolve(&files, "source-2.b.000006"), None);
        assert_eq!(resolve(&files, "source-x/b.000006"), None);
        assert_eq!(to_path(&files, "source-1.b.000001"), "b.000001");
        assert_eq!(to_path(&files, "source-3.b.000001"), "source-3/b.000001");
        assert_eq!(to_path(&files, "b.000007"), "source-2/b.000007");
        assert!(is_safe_path("source-2/b.000003") && is_safe_path("b.1"));
        assert!(!is_safe_path("source-1/b.000003") && !is_safe_path("x/b.1") && !is_safe_path("source-2/../b"));
        assert_eq!(dir_number("source-12"), Some(12));
        assert_eq!(dir_number("source-012"), None);
        assert_eq!(path_in(1, "b.1"), "b.1");
        assert_eq!(path_in(3, "b.1"), "source-3/b.1");
    }

    #[test]
    fn an_origin_reads_back_and_an_older_versions_file_is_its_id() {
        let o = Origin {
            id: "3e11fa47-71ca-11e1-9e33-c80aa9429562".into(),
            address: "db2:3306".into(),
            gtids: GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-20").unwrap(),
            maria: MariaPos::parse("0-1-20,1-2-5").unwrap(),
            since: "2026-12-06 03:00:00".into(),
        };
        assert_eq!(Origin::decode(&o.encode(), "x").unwrap(), o);
        assert_eq!(Origin::decode("abc\n", "x").unwrap().id, "abc");
        let e = Origin::decode("abc\ngtids nonsense\n", "source-2/binlogd.primary").unwrap_err();
        assert!(e.contains("source-2/binlogd.primary: line 2"), "{e}");
    }
}
