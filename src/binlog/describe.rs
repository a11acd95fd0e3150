//! What SHOW BINLOG EVENTS prints for an event: its type's name and the Info column,
//! as MySQL and MariaDB print them for the events binlogd parses anyway (format
//! description, GTIDs, XID, QUERY, ROTATE, GTID lists and sets), the statement of
//! annotate/rows-query events, and the table id of table-map and row events. Other events get an empty Info. Pure: bytes in, text out;
//! bytes that do not decode give an Info saying so, never a panic.
//!
//! <https://dev.mysql.com/doc/refman/8.4/en/show-binlog-events.html>

use std::borrow::Cow;

use super::event::{self, ChecksumAlg, EventHeader, EventType, FormatDescription, Rotate};
use super::gtid::{format_uuid, GtidSet, MariaPos};
use crate::proto::buf::{Reader, Short};

/// The name in SHOW BINLOG EVENTS' Event_type column.
pub fn type_name(t: EventType) -> Cow<'static, str> {
    let n = match t.0 {
        1 => "Start_v3",
        2 => "Query",
        3 => "Stop",
        4 => "Rotate",
        5 => "Intvar",
        6 => "Load",
        7 => "Slave",
        8 => "Create_file",
        9 => "Append_block",
        10 => "Exec_load",
        11 => "Delete_file",
        12 => "New_load",
        13 => "RAND",
        14 => "User var",
        15 => "Format_desc",
        16 => "Xid",
        17 => "Begin_load_query",
        18 => "Execute_load_query",
        19 => "Table_map",
        20 => "Write_rows_event_old",
        21 => "Update_rows_event_old",
        22 => "Delete_rows_event_old",
        23 => "Write_rows_v1",
        24 => "Update_rows_v1",
        25 => "Delete_rows_v1",
        26 => "Incident",
        27 => "Heartbeat",
        28 => "Ignorable",
        29 => "Rows_query",
        30 => "Write_rows",
        31 => "Update_rows",
        32 => "Delete_rows",
        33 => "Gtid",
        34 => "Anonymous_Gtid",
        35 => "Previous_gtids",
        36 => "Transaction_context",
        37 => "View_change",
        38 => "XA_prepare",
        39 => "Update_rows_partial",
        40 => "Transaction_payload",
        41 => "Heartbeat_v2",
        42 => "Gtid_tagged_log_event",
        160 => "Annotate_rows",
        161 => "Binlog_checkpoint",
        162 => "Gtid",
        163 => "Gtid_list",
        164 => "Start_encryption",
        165 => "Query_compressed",
        166 => "Write_rows_compressed_v1",
        167 => "Update_rows_compressed_v1",
        168 => "Delete_rows_compressed_v1",
        169 => "Write_rows_compressed",
        170 => "Update_rows_compressed",
        171 => "Delete_rows_compressed",
        n => return Cow::Owned(format!("Unknown event type {n}")),
    };
    Cow::Borrowed(n)
}

/// Header flag: the statement names its database itself (CREATE DATABASE and the like),
/// so no `use` goes before it.
const LOG_EVENT_SUPPRESS_USE_F: u16 = 0x8;
/// MariaDB GTID flags2: part of a group commit, with its commit id after the flags.
const FL_GROUP_COMMIT_ID: u8 = 2;
/// Rows event flags, in the order MySQL names them.
const ROWS_FLAGS: [(u16, &str); 5] = [
    (0x01, "STMT_END_F"),
    (0x02, "NO_FOREIGN_KEY_CHECKS_F"),
    (0x04, "RELAXED_UNIQUE_CHECKS_F"),
    (0x08, "COMPLETE_ROWS_F"),
    (0x10, "USE_SQL_FOREIGN_KEY_F"),
];

/// The Info column for a whole event `ev` (header to checksum), read under the file's
/// format description `fde`.
pub fn info(ev: &[u8], fde: &FormatDescription) -> String {
    match EventHeader::decode(ev) {
        Ok(h) => info_of(ev, &h, fde).unwrap_or_else(|e| format!("(cannot decode this {}: {e})", h.event_type)),
        Err(e) => format!("(cannot decode: {e})"),
    }
}

fn info_of(ev: &[u8], h: &EventHeader, fde: &FormatDescription) -> Result<String, String> {
    let alg = if h.event_type == EventType::FORMAT_DESCRIPTION { ChecksumAlg::OFF } else { fde.checksum };
    let body = || event::body(ev, alg).map_err(|e| e.to_string());
    let maria = fde.server_version.contains("MariaDB");
    let e = |e: event::EventError| e.to_string();
    let short = |e: Short| e.to_string();
    Ok(match h.event_type.0 {
        15 => {
            let f = FormatDescription::decode(ev).map_err(e)?;
            format!("Server ver: {}, Binlog ver: {}", f.server_version, f.binlog_version)
        }
        2 => {
            let p = event::query_parts(ev, alg, fde.query_post_header_len).map_err(e)?;
            let q = String::from_utf8_lossy(p.text);
            let mut s = if p.db.is_empty() || h.flags & LOG_EVENT_SUPPRESS_USE_F != 0 {
                q.into_owned()
            } else {
                format!("use `{}`; {q}", String::from_utf8_lossy(p.db))
            };
            // MySQL shows the XID it logged a DDL statement with.
            if let Some(xid) = event::mysql_ddl_xid(p.status).filter(|_| !maria) {
                s.push_str(&format!(" /* xid={xid} */"));
            }
            s
        }
        16 => format!("COMMIT /* xid={} */", Reader::new(body()?).u64("xid").map_err(short)?),
        4 => {
            let r = Rotate::decode(ev, alg).map_err(e)?;
            format!("{};pos={}", r.next_file, r.pos)
        }
        33 => {
            let (sid, gno) = event::decode_mysql_gtid(ev, alg).map_err(e)?;
            format!("SET @@SESSION.GTID_NEXT= '{}:{gno}'", format_uuid(&sid))
        }
        34 => "SET @@SESSION.GTID_NEXT= 'ANONYMOUS'".into(),
        35 => GtidSet::decode(body()?).map_err(|e| e.to_string())?.to_string(),
        162 => {
            let (seq, domain, flags2) = event::decode_mariadb_gtid(ev, alg).map_err(e)?;
            let begin = if flags2 & event::MARIADB_FL_STANDALONE != 0 { "" } else { "BEGIN " };
            let mut s = format!("{begin}GTID {domain}-{}-{seq}", h.server_id);
            if flags2 & FL_GROUP_COMMIT_ID != 0 {
                // After seq_no (8), domain_id (4) and flags2 (1).
                let mut r = Reader::new(body()?);
                r.skip(13, "GTID fields").map_err(short)?;
                s.push_str(&format!(" cid={}", r.u64("commit_id").map_err(short)?));
            }
            s
        }
        163 => {
            let list = MariaPos::decode_gtid_list(body()?).map_err(|e| e.to_string())?;
            let v: Vec<String> = list.iter().map(ToString::to_string).collect();
            format!("[{}]", v.join(","))
        }
        // The statement behind the row events that follow: MariaDB's whole body; MySQL's
        // after a length byte, shown as a comment.
        160 => String::from_utf8_lossy(body()?).into_owned(),
        29 => {
            let mut r = Reader::new(body()?);
            r.skip(1, "Rows_query length").map_err(short)?;
            format!("# {}", String::from_utf8_lossy(r.rest()))
        }
        161 => {
            let mut r = Reader::new(body()?);
            let len = r.u32("checkpoint file name length").map_err(short)?;
            String::from_utf8_lossy(r.bytes(len as usize, "checkpoint file name").map_err(short)?).into_owned()
        }
        19 => {
            // table_id (6), flags (2), then the database and table names, each a
            // length byte, the name and a NUL.
            let mut r = Reader::new(body()?);
            let id = table_id(&mut r)?;
            r.skip(2, "Table_map flags").map_err(short)?;
            let db_len = r.u8("database name length").map_err(short)?;
            let db = r.bytes(usize::from(db_len), "database name").map_err(short)?;
            r.skip(1, "database name NUL").map_err(short)?;
            let t_len = r.u8("table name length").map_err(short)?;
            let t = r.bytes(usize::from(t_len), "table name").map_err(short)?;
            format!("table_id: {id} ({}.{})", String::from_utf8_lossy(db), String::from_utf8_lossy(t))
        }
        23..=25 | 30..=32 | 166..=171 => {
            let mut r = Reader::new(body()?);
            let id = table_id(&mut r)?;
            let flags = r.u16("rows event flags").map_err(short)?;
            // MariaDB names only the statement's end; MySQL every flag set.
            let names: Vec<&str> =
                ROWS_FLAGS.iter().filter(|(bit, _)| flags & bit != 0 && (!maria || *bit == 1)).map(|f| f.1).collect();
            if names.is_empty() {
                format!("table_id: {id}")
            } else {
                format!("table_id: {id} flags: {}", names.join(" "))
            }
        }
        _ => String::new(),
    })
}

/// A 6-byte little-endian table id.
fn table_id(r: &mut Reader<'_>) -> Result<u64, String> {
    let b = r.bytes(6, "table id").map_err(|e| e.to_string())?;
    Ok(b.iter().rev().fold(0u64, |a, &x| a << 8 | u64::from(x)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Every event of a golden file: (type name, Info).
    fn listed(name: &str) -> Vec<(String, String)> {
        let g = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)).unwrap();
        let mut pos = 4;
        let mut fde = None;
        let mut out = Vec::new();
        while pos < g.len() {
            let h = EventHeader::decode(&g[pos..]).unwrap();
            let ev = &g[pos..pos + h.event_size as usize];
            if h.event_type == EventType::FORMAT_DESCRIPTION {
                fde = Some(FormatDescription::decode(ev).unwrap());
            }
            out.push((type_name(h.event_type).into_owned(), info(ev, fde.as_ref().unwrap())));
            pos += h.event_size as usize;
        }
        out
    }

    #[test]
    fn lists_golden_mysql_events_as_the_server_does() {
        let l = listed("mysql-9.7.4.000001");
        assert!(l[0].0 == "Format_desc" && l[0].1.starts_with("Server ver: 9.7.4"), "{:?}", l[0]);
        assert_eq!(l[1].0, "Previous_gtids");
        assert!(l.iter().all(|(_, i)| !i.starts_with("(cannot")), "{l:?}");
        let has = |t: &str, p: &str| l.iter().any(|(n, i)| n == t && i.starts_with(p));
        assert!(has("Gtid", "SET @@SESSION.GTID_NEXT= '"));
        assert!(has("Xid", "COMMIT /* xid="));
        assert!(has("Table_map", "table_id: 85 ("));
        assert!(has("Write_rows", "table_id: 85 flags: STMT_END_F USE_SQL_FOREIGN_KEY_F"));
        assert!(has("Query", "BEGIN"));
        assert!(l.iter().any(|(n, i)| n == "Query" && i.ends_with(" */") && i.contains(" /* xid=")), "{l:?}");
    }

    #[test]
    fn lists_golden_mariadb_events_as_the_server_does() {
        let l = listed("mariadb-10.11.19.000001");
        assert!(l[0].1.starts_with("Server ver: 10.11.19-MariaDB"), "{:?}", l[0]);
        assert_eq!(l[1].0, "Gtid_list");
        assert!(l[1].1.starts_with('[') && l[1].1.ends_with(']'), "{:?}", l[1]);
        assert!(l.iter().all(|(_, i)| !i.starts_with("(cannot")), "{l:?}");
        let has = |t: &str, p: &str| l.iter().any(|(n, i)| n == t && i.starts_with(p));
        assert!(has("Binlog_checkpoint", "mysql-bin.0"), "{l:?}");
        assert!(has("Gtid", "BEGIN GTID 0-1-") || has("Gtid", "GTID 0-1-"), "{l:?}");
        assert!(l.iter().filter(|(n, _)| n.ends_with("_rows_v1")).all(|(_, i)| !i.contains("FOREIGN")), "{l:?}");
    }

    #[test]
    fn describing_cut_or_garbled_events_never_panics() {
        let g = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mysql-9.7.4.000001")).unwrap();
        let fde_len = EventHeader::decode(&g[4..]).unwrap().event_size as usize;
        let fde = FormatDescription::decode(&g[4..4 + fde_len]).unwrap();
        let mut pos = 4;
        while pos < g.len() {
            let size = EventHeader::decode(&g[pos..]).unwrap().event_size as usize;
            let ev = &g[pos..pos + size];
            for cut in 0..ev.len() {
                let _ = info(&ev[..cut], &fde);
            }
            let mut bad = ev.to_vec();
            for b in bad.iter_mut().skip(19) {
                *b = 0xff;
            }
            let _ = info(&bad, &fde);
            pos += size;
        }
    }
}
