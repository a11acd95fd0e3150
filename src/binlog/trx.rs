//! Transaction boundaries and the GTID state they complete.
//!
//! A transaction ends with XID, XA_PREPARE, a QUERY `COMMIT`/`ROLLBACK`, a DDL QUERY
//! outside BEGIN, the one event after a MariaDB standalone GTID, or a compressed
//! TRANSACTION_PAYLOAD. Events outside any transaction (FDE, PREVIOUS_GTIDS,
//! GTID_LIST, ROTATE, STOP...) are boundaries by themselves. Only complete
//! transactions enter the GTID state, so a resume never skips a partial one.

use super::event::{self, ChecksumAlg, EventError, EventHeader, EventType, FormatDescription};
use super::gtid::{GtidSet, MariaGtid, MariaPos, Tsid};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    None,
    Mysql(Tsid, u64),
    Maria(MariaGtid),
}

/// Follows one file's event stream.
#[derive(Debug, Clone)]
pub struct Tracker {
    pub alg: ChecksumAlg,
    pub query_post_header_len: u8,
    /// Inside a group started by a GTID event (or BEGIN).
    in_group: bool,
    /// After BEGIN (or a non-standalone MariaDB GTID): ends only at COMMIT/ROLLBACK/XID.
    in_trx: bool,
    /// After a MariaDB standalone GTID: the next event ends the group.
    standalone: bool,
    pending: Pending,
    pub gtids: GtidSet,
    pub maria: MariaPos,
    pub saw_fde: bool,
}

/// What one event meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The stream is at a transaction boundary after this event.
    pub boundary: bool,
    /// This event closes the file (ROTATE or STOP).
    pub closes_file: bool,
}

impl Tracker {
    pub fn new(alg: ChecksumAlg) -> Self {
        Tracker {
            alg,
            query_post_header_len: 13,
            in_group: false,
            in_trx: false,
            standalone: false,
            pending: Pending::None,
            gtids: GtidSet::default(),
            maria: MariaPos::default(),
            saw_fde: false,
        }
    }

    pub fn at_boundary(&self) -> bool {
        !self.in_group && !self.in_trx && !self.standalone
    }

    fn end_group(&mut self) {
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::Mysql(sid, gno) => self.gtids.add(sid, gno),
            // A new source's first file may repeat groups stored from the one before
            // (`sources`): the state never moves back.
            Pending::Maria(g) => self.maria.advance(g),
            Pending::None => {}
        }
        self.in_group = false;
        self.in_trx = false;
        self.standalone = false;
    }

    /// Does `feed` read the bytes of an event of type `t`, beyond its header? For the
    /// others a header alone will do: a reader of a large event need not fetch it whole.
    /// (Kept next to `feed`: an arm that decodes a body must be listed here.)
    pub fn reads(t: EventType) -> bool {
        matches!(
            t,
            EventType::FORMAT_DESCRIPTION
                | EventType::GTID
                | EventType::GTID_TAGGED
                | EventType::MARIADB_GTID
                | EventType::QUERY
                | EventType::PREVIOUS_GTIDS
                | EventType::MARIADB_GTID_LIST
        )
    }

    /// Feeds one whole event (header to checksum), or only its header when `reads`
    /// says its bytes are not read.
    pub fn feed(&mut self, h: &EventHeader, ev: &[u8]) -> Result<Step, EventError> {
        let t = h.event_type;
        let mut closes_file = false;
        if self.standalone {
            // The single statement after a standalone GTID.
            self.end_group();
            return Ok(Step { boundary: true, closes_file: false });
        }
        match t {
            EventType::FORMAT_DESCRIPTION => {
                let fde = FormatDescription::decode(ev)?;
                self.alg = fde.checksum;
                self.query_post_header_len = fde.query_post_header_len;
                self.saw_fde = true;
                self.end_group();
            }
            EventType::GTID | EventType::ANONYMOUS_GTID | EventType::GTID_TAGGED => {
                self.end_group();
                self.in_group = true;
                if t != EventType::ANONYMOUS_GTID {
                    let (sid, gno) = event::decode_any_mysql_gtid(t, ev, self.alg)?;
                    self.pending = Pending::Mysql(sid, gno);
                }
            }
            EventType::MARIADB_GTID => {
                self.end_group();
                let (seq, domain, flags2) = event::decode_mariadb_gtid(ev, self.alg)?;
                self.pending = Pending::Maria(MariaGtid { domain, server: h.server_id, seq });
                self.in_group = true;
                if flags2 & event::MARIADB_FL_STANDALONE != 0 {
                    self.standalone = true;
                } else {
                    self.in_trx = true;
                }
            }
            EventType::QUERY => {
                let q = event::query_text(ev, self.alg, self.query_post_header_len)?;
                let q = trim_sql(q);
                if self.in_trx {
                    if is_kw(q, b"COMMIT") || is_kw(q, b"ROLLBACK") {
                        self.end_group();
                    }
                } else if is_kw(q, b"BEGIN") || is_kw(q, b"XA START") || is_kw(q, b"XA BEGIN") {
                    self.in_trx = true;
                    self.in_group = true;
                } else {
                    // DDL or another self-contained statement.
                    self.end_group();
                }
            }
            EventType::XID | EventType::XA_PREPARE | EventType::TRANSACTION_PAYLOAD => self.end_group(),
            EventType::PREVIOUS_GTIDS if !self.in_group => {
                let b = event::body(ev, self.alg)?;
                let set = GtidSet::decode(b).map_err(|e| EventError::Malformed(format!("Previous_gtids: {e}")))?;
                self.gtids.union(&set);
            }
            EventType::MARIADB_GTID_LIST if !self.in_group => {
                let b = event::body(ev, self.alg)?;
                let list =
                    MariaPos::decode_gtid_list(b).map_err(|e| EventError::Malformed(format!("Gtid_list: {e}")))?;
                for g in list {
                    // A file's Gtid_list is the state at its start.
                    self.maria.advance(g);
                }
            }
            EventType::ROTATE | EventType::STOP => {
                self.end_group();
                closes_file = true;
            }
            _ => {}
        }
        Ok(Step { boundary: self.at_boundary(), closes_file })
    }
}

fn trim_sql(q: &[u8]) -> &[u8] {
    let start = q.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(q.len());
    &q[start..]
}

/// Does `q` start with keyword `kw` (case-insensitive) followed by a non-word byte or the end?
fn is_kw(q: &[u8], kw: &[u8]) -> bool {
    q.len() >= kw.len()
        && q[..kw.len()].eq_ignore_ascii_case(kw)
        && q.get(kw.len()).is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::event::tests::make_event;

    #[test]
    fn a_header_is_enough_for_every_event_type_the_tracker_does_not_read() {
        // What a reader of a large event fetches: only the header of those `reads` leaves out.
        for &(t, name) in crate::binlog::event::EVENT_NAMES {
            if Tracker::reads(t) {
                continue;
            }
            let full = make_event(t, 4, &[0xab; 64], false);
            let head = &full[..crate::binlog::event::HEADER_LEN];
            let h = EventHeader::decode(head).unwrap();
            let mut tr = Tracker::new(crate::binlog::event::ChecksumAlg::OFF);
            assert!(tr.feed(&h, head).is_ok(), "{name}: the tracker reads more than its header");
        }
    }

    fn query(sql: &str) -> Vec<u8> {
        let mut q = vec![0u8; 8];
        q.push(0);
        q.extend_from_slice(&[0, 0, 0, 0]);
        q.push(0);
        q.extend_from_slice(sql.as_bytes());
        make_event(EventType::QUERY, 4, &q, true)
    }

    fn feed(t: &mut Tracker, ev: &[u8]) -> Step {
        let h = EventHeader::decode_exact(ev).unwrap();
        t.feed(&h, ev).unwrap()
    }

    #[test]
    fn mysql_dml_transaction_ends_at_xid() {
        let mut t = Tracker::new(ChecksumAlg::CRC32);
        let mut g = vec![1u8];
        g.extend_from_slice(&[7; 16]);
        g.extend_from_slice(&5u64.to_le_bytes());
        g.extend_from_slice(&[0; 17]);
        assert!(!feed(&mut t, &make_event(EventType::GTID, 4, &g, true)).boundary);
        assert!(!feed(&mut t, &query("BEGIN")).boundary);
        assert!(!feed(&mut t, &make_event(EventType(30), 4, &[0; 10], true)).boundary);
        assert!(t.gtids.is_empty());
        assert!(feed(&mut t, &make_event(EventType::XID, 4, &[0; 8], true)).boundary);
        assert!(t.gtids.contains([7; 16], 5));
    }

    #[test]
    fn tagged_gtids_enter_the_state_at_their_transactions_end() {
        let g = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mysql-9.7.4-tagged.000001")).unwrap();
        let mut t = Tracker::new(ChecksumAlg::OFF);
        let mut pos = 4;
        while pos < g.len() {
            let h = EventHeader::decode(&g[pos..]).unwrap();
            t.feed(&h, &g[pos..pos + h.event_size as usize]).unwrap();
            pos += h.event_size as usize;
        }
        assert!(t.at_boundary());
        assert_eq!(t.gtids.to_string(), "d2088dd1-e70c-11f1-b41e-02fc00000001:1-3:mytag:1-2");
    }

    #[test]
    fn ddl_and_mariadb_standalone_end_after_one_statement() {
        let mut t = Tracker::new(ChecksumAlg::CRC32);
        assert!(feed(&mut t, &query("CREATE TABLE t (a int)")).boundary);
        let mut g = 9u64.to_le_bytes().to_vec();
        g.extend_from_slice(&0u32.to_le_bytes());
        g.push(MARIADB_FL_STANDALONE_TEST);
        assert!(!feed(&mut t, &make_event(EventType::MARIADB_GTID, 4, &g, true)).boundary);
        assert!(feed(&mut t, &query("  create table t2 (a int)")).boundary);
        assert_eq!(t.maria.to_string(), "0-1-9");
    }

    const MARIADB_FL_STANDALONE_TEST: u8 = crate::binlog::event::MARIADB_FL_STANDALONE;

    #[test]
    fn mariadb_transaction_ends_at_commit_query_not_at_inner_statements() {
        let mut t = Tracker::new(ChecksumAlg::CRC32);
        let mut g = 10u64.to_le_bytes().to_vec();
        g.extend_from_slice(&3u32.to_le_bytes());
        g.push(0);
        feed(&mut t, &make_event(EventType::MARIADB_GTID, 4, &g, true));
        assert!(!feed(&mut t, &query("INSERT INTO t VALUES (1)")).boundary);
        assert!(!feed(&mut t, &query("COMMITTED_NOT")).boundary);
        assert!(feed(&mut t, &query("COMMIT")).boundary);
        assert_eq!(t.maria.to_string(), "3-1-10");
    }
}
