//! `binlogd --verify DIR`: checks a binlog directory without changing it.
//!
//! For each file in index order: the magic, every event's length and CRC32, that
//! each event's log_pos is where it ends, that a ROTATE names the next file in
//! the index; across files, that each source's GTIDs follow one another with no gap
//! and no repeat. The index must list exactly the binlog files in the directory.
//! The first problem stops the walk and is reported as file:offset.

use std::collections::BTreeMap;
use std::path::Path;

use md5::{Digest, Md5};

use super::event::{self, ChecksumAlg, EventHeader, EventType, HEADER_LEN};
use super::gtid::Tsid;
use super::store::{scan_file, split_name};

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

/// Follows each source's GTIDs across files.
#[derive(Default)]
struct GtidOrder {
    mysql: BTreeMap<Tsid, u64>,
    maria: BTreeMap<u32, (u32, u64)>,
}

impl GtidOrder {
    fn mysql(&mut self, sid: impl Into<Tsid>, gno: u64) -> Result<String, String> {
        let sid = sid.into();
        let g = format!("{sid}:{gno}");
        match self.mysql.insert(sid.clone(), gno) {
            Some(last) if gno <= last => Err(format!("GTID {g} repeats or goes back (after {last})")),
            Some(last) if gno > last + 1 => Err(format!("gap: GTID {g} follows {sid}:{last}")),
            _ => Ok(g),
        }
    }

    fn maria(&mut self, domain: u32, server: u32, seq: u64) -> Result<String, String> {
        let g = format!("{domain}-{server}-{seq}");
        match self.maria.insert(domain, (server, seq)) {
            Some((_, last)) if seq <= last => Err(format!("GTID {g} repeats or goes back (after seq_no {last})")),
            Some((s, last)) if seq > last + 1 => Err(format!("gap: GTID {g} follows {domain}-{s}-{last}")),
            _ => Ok(g),
        }
    }
}

/// The binlog files listed in the index, checked against the directory.
pub fn index_names(dir: &Path) -> Result<Vec<String>, Problem> {
    let at = |what: String| Problem { file: dir.display().to_string(), offset: 0, what };
    let (index, names) = super::purge::read_index(dir).map_err(|e| at(e.to_string()))?;
    let base = names.first().and_then(|n| split_name(n)).map(|(b, _)| b.to_string());
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| at(e.to_string()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| split_name(n).is_some_and(|(b, _)| Some(b) == base.as_deref()))
        .collect();
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
    let mut order = GtidOrder::default();
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let last = i + 1 == names.len();
        let path = dir.join(name);
        let problem = |offset: u64, what: String| Problem { file: name.clone(), offset, what };
        let (scan, _) = scan_file(&*super::fs::os(), &path, name, last).map_err(|e| match e {
            super::store::StoreError::Corrupt { offset, what, .. } => problem(offset, what),
            other => problem(0, other.to_string()),
        })?;
        if let (Some(next), Some(want)) = (&scan.rotate_to, names.get(i + 1)) {
            if next != want {
                return Err(problem(scan.len, format!("ROTATE names {next}, but the index has {want} next")));
            }
        }
        let data = std::fs::read(&path).map_err(|e| problem(0, e.to_string()))?;
        let mut rep = FileReport {
            name: name.clone(),
            size: data.len() as u64,
            events: scan.events,
            first_gtid: None,
            last_gtid: None,
            md5: Md5::digest(&data).iter().map(|b| format!("{b:02x}")).collect(),
            open_tail: scan
                .reason
                .as_ref()
                .map(|r| format!("{r}; recovery keeps {} of {} bytes", scan.cut_at, scan.len)),
        };
        // The GTIDs, in order; the scan already checked sizes and CRCs up to `cut_at`.
        let mut alg = ChecksumAlg::OFF;
        let mut pos = 4usize;
        while pos + HEADER_LEN <= scan.cut_at as usize {
            let h = EventHeader::decode(&data[pos..]).map_err(|e| problem(pos as u64, e.to_string()))?;
            let ev = data
                .get(pos..pos + h.event_size as usize)
                .ok_or_else(|| problem(pos as u64, format!("event_size {} runs past the end", h.event_size)))?;
            let g = if h.event_type == EventType::FORMAT_DESCRIPTION {
                alg = event::FormatDescription::decode(ev).map_err(|e| problem(pos as u64, e.to_string()))?.checksum;
                None
            } else if h.event_type == EventType::GTID || h.event_type == EventType::GTID_TAGGED {
                let (sid, gno) = event::decode_any_mysql_gtid(h.event_type, ev, alg)
                    .map_err(|e| problem(pos as u64, e.to_string()))?;
                Some(order.mysql(sid, gno).map_err(|e| problem(pos as u64, e))?)
            } else if h.event_type == EventType::MARIADB_GTID {
                let (seq, domain, _) =
                    event::decode_mariadb_gtid(ev, alg).map_err(|e| problem(pos as u64, e.to_string()))?;
                Some(order.maria(domain, h.server_id, seq).map_err(|e| problem(pos as u64, e))?)
            } else {
                None
            };
            if let Some(g) = g {
                rep.first_gtid.get_or_insert_with(|| g.clone());
                rep.last_gtid = Some(g);
            }
            pos += h.event_size as usize;
        }
        each(&rep);
        out.push(rep);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::GtidOrder;

    #[test]
    fn gtid_order_finds_gaps_and_repeats() {
        let mut o = GtidOrder::default();
        let sid = [7u8; 16];
        assert!(o.mysql(sid, 5).is_ok(), "a source may start anywhere");
        assert!(o.mysql(sid, 6).is_ok());
        assert!(o.mysql(sid, 6).unwrap_err().contains("repeats"));
        assert!(o.mysql(sid, 9).unwrap_err().starts_with("gap"));
        assert!(o.maria(0, 1, 10).is_ok());
        assert!(o.maria(0, 2, 11).is_ok());
        assert!(o.maria(0, 1, 13).unwrap_err().contains("gap: GTID 0-1-13 follows 0-2-11"));
        assert!(o.maria(1, 1, 1).is_ok(), "domains are apart");
    }
}
