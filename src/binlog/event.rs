//! Binlog event codec: the v4 header, checksums, and the few event bodies binlogd reads.
//!
//! Everything else passes through as raw bytes. Event layout:
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html>

use std::fmt;

use super::gtid::{parse_tag, read_varlen, Tsid};
use crate::proto::buf::{Reader, Short};

/// The 4-byte magic at the start of every binlog file.
pub const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];
pub const HEADER_LEN: usize = 19;
pub const CHECKSUM_LEN: usize = 4;
/// FDE header flag: the file is open (not cleanly closed) on the primary.
pub const LOG_EVENT_BINLOG_IN_USE_F: u16 = 0x1;
/// Header flag: the event was made up by the sender and is not in any file.
pub const LOG_EVENT_ARTIFICIAL_F: u16 = 0x20;
/// Offset of the flags field inside an event.
pub const FLAGS_OFFSET: usize = 17;
/// Offset of log_pos (the end of the event in its file) inside an event.
pub const LOG_POS_OFFSET: usize = 13;

/// An event type byte. Unknown values pass through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventType(pub u8);

/// Declares each known event type once: its constant, and its name as SHOW BINLOG
/// EVENTS prints it (`EVENT_NAMES`).
macro_rules! event_types {
    ($($konst:ident = $n:expr, $name:expr;)*) => {
        impl EventType {
            $(pub const $konst: EventType = EventType($n);)*
        }

        /// Every known event type with its SHOW BINLOG EVENTS name, by number.
        pub const EVENT_NAMES: &[(EventType, &str)] = &[$((EventType::$konst, $name)),*];
    };
}

// MySQL: libbinlogevents/include/binlog_event.h (Log_event_type); MariaDB: sql/log_event.h.
event_types! {
    START_V3 = 1, "Start_v3";
    QUERY = 2, "Query";
    STOP = 3, "Stop";
    ROTATE = 4, "Rotate";
    INTVAR = 5, "Intvar";
    LOAD = 6, "Load";
    SLAVE = 7, "Slave";
    CREATE_FILE = 8, "Create_file";
    APPEND_BLOCK = 9, "Append_block";
    EXEC_LOAD = 10, "Exec_load";
    DELETE_FILE = 11, "Delete_file";
    NEW_LOAD = 12, "New_load";
    RAND = 13, "RAND";
    USER_VAR = 14, "User var";
    FORMAT_DESCRIPTION = 15, "Format_desc";
    XID = 16, "Xid";
    BEGIN_LOAD_QUERY = 17, "Begin_load_query";
    EXECUTE_LOAD_QUERY = 18, "Execute_load_query";
    TABLE_MAP = 19, "Table_map";
    WRITE_ROWS_OLD = 20, "Write_rows_event_old";
    UPDATE_ROWS_OLD = 21, "Update_rows_event_old";
    DELETE_ROWS_OLD = 22, "Delete_rows_event_old";
    WRITE_ROWS_V1 = 23, "Write_rows_v1";
    UPDATE_ROWS_V1 = 24, "Update_rows_v1";
    DELETE_ROWS_V1 = 25, "Delete_rows_v1";
    INCIDENT = 26, "Incident";
    HEARTBEAT = 27, "Heartbeat";
    IGNORABLE = 28, "Ignorable";
    ROWS_QUERY = 29, "Rows_query";
    WRITE_ROWS = 30, "Write_rows";
    UPDATE_ROWS = 31, "Update_rows";
    DELETE_ROWS = 32, "Delete_rows";
    GTID = 33, "Gtid";
    ANONYMOUS_GTID = 34, "Anonymous_Gtid";
    PREVIOUS_GTIDS = 35, "Previous_gtids";
    TRANSACTION_CONTEXT = 36, "Transaction_context";
    VIEW_CHANGE = 37, "View_change";
    XA_PREPARE = 38, "XA_prepare";
    PARTIAL_UPDATE_ROWS = 39, "Update_rows_partial";
    TRANSACTION_PAYLOAD = 40, "Transaction_payload";
    HEARTBEAT_V2 = 41, "Heartbeat_v2";
    GTID_TAGGED = 42, "Gtid_tagged_log_event";
    MARIADB_ANNOTATE_ROWS = 160, "Annotate_rows";
    MARIADB_BINLOG_CHECKPOINT = 161, "Binlog_checkpoint";
    MARIADB_GTID = 162, "Gtid";
    MARIADB_GTID_LIST = 163, "Gtid_list";
    MARIADB_START_ENCRYPTION = 164, "Start_encryption";
    MARIADB_QUERY_COMPRESSED = 165, "Query_compressed";
    MARIADB_WRITE_ROWS_COMPRESSED_V1 = 166, "Write_rows_compressed_v1";
    MARIADB_UPDATE_ROWS_COMPRESSED_V1 = 167, "Update_rows_compressed_v1";
    MARIADB_DELETE_ROWS_COMPRESSED_V1 = 168, "Delete_rows_compressed_v1";
    MARIADB_WRITE_ROWS_COMPRESSED = 169, "Write_rows_compressed";
    MARIADB_UPDATE_ROWS_COMPRESSED = 170, "Update_rows_compressed";
    MARIADB_DELETE_ROWS_COMPRESSED = 171, "Delete_rows_compressed";
}

impl EventType {
    pub fn is_heartbeat(self) -> bool {
        self == Self::HEARTBEAT || self == Self::HEARTBEAT_V2
    }

    /// Its SHOW BINLOG EVENTS name, for a known type.
    pub fn name(self) -> Option<&'static str> {
        EVENT_NAMES.binary_search_by(|(t, _)| t.cmp(&self)).ok().and_then(|i| EVENT_NAMES.get(i)).map(|(_, n)| *n)
    }

    /// A rows event (v1, v2, MySQL's partial JSON update, MariaDB's compressed ones),
    /// whose body starts with the table id and flags.
    pub fn is_rows(self) -> bool {
        matches!(
            self,
            Self::WRITE_ROWS_V1
                | Self::UPDATE_ROWS_V1
                | Self::DELETE_ROWS_V1
                | Self::WRITE_ROWS
                | Self::UPDATE_ROWS
                | Self::DELETE_ROWS
                | Self::PARTIAL_UPDATE_ROWS
                | Self::MARIADB_WRITE_ROWS_COMPRESSED_V1
                | Self::MARIADB_UPDATE_ROWS_COMPRESSED_V1
                | Self::MARIADB_DELETE_ROWS_COMPRESSED_V1
                | Self::MARIADB_WRITE_ROWS_COMPRESSED
                | Self::MARIADB_UPDATE_ROWS_COMPRESSED
                | Self::MARIADB_DELETE_ROWS_COMPRESSED
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "type {}", self.0),
        }
    }
}

/// Errors decoding an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    Short(Short),
    /// `event_size` disagrees with the bytes there, or is below the header size.
    BadSize {
        event_size: u64,
        have: usize,
    },
    Checksum {
        expected: u32,
        computed: u32,
    },
    Malformed(String),
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::Short(s) => write!(f, "{s}"),
            EventError::BadSize { event_size, have } => {
                write!(f, "event_size {event_size} does not fit the {have} bytes received")
            }
            EventError::Checksum { expected, computed } => {
                write!(f, "CRC32 mismatch: event says {expected:08x}, computed {computed:08x}")
            }
            EventError::Malformed(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for EventError {}

impl From<Short> for EventError {
    fn from(s: Short) -> Self {
        EventError::Short(s)
    }
}

/// The common v4 event header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader {
    pub timestamp: u32,
    pub event_type: EventType,
    pub server_id: u32,
    pub event_size: u32,
    /// End offset of the event in the primary's file (0 for artificial events).
    pub log_pos: u32,
    pub flags: u16,
}

impl EventHeader {
    /// The 19 header bytes, as `decode` reads them.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..4].copy_from_slice(&self.timestamp.to_le_bytes());
        h[4] = self.event_type.0;
        h[5..9].copy_from_slice(&self.server_id.to_le_bytes());
        h[9..13].copy_from_slice(&self.event_size.to_le_bytes());
        h[13..17].copy_from_slice(&self.log_pos.to_le_bytes());
        h[17..19].copy_from_slice(&self.flags.to_le_bytes());
        h
    }

    /// A whole event: this header (its `event_size` set to fit), `body`, and a CRC32
    /// when `crc`. How binlogd makes the events it makes up (a dump's fake ROTATE and
    /// Gtid_list, heartbeats).
    pub fn event(mut self, body: &[u8], crc: bool) -> Vec<u8> {
        let size = HEADER_LEN + body.len() + if crc { 4 } else { 0 };
        self.event_size = u32::try_from(size).unwrap_or(u32::MAX);
        let mut e = Vec::with_capacity(size);
        e.extend_from_slice(&self.encode());
        e.extend_from_slice(body);
        if crc {
            let c = crc32fast::hash(&e);
            e.extend_from_slice(&c.to_le_bytes());
        }
        e
    }

    pub fn decode(b: &[u8]) -> Result<Self, EventError> {
        let mut r = Reader::new(b);
        let h = EventHeader {
            timestamp: r.u32("event timestamp")?,
            event_type: EventType(r.u8("event type")?),
            server_id: r.u32("event server_id")?,
            event_size: r.u32("event_size")?,
            log_pos: r.u32("event log_pos")?,
            flags: r.u16("event flags")?,
        };
        if (h.event_size as usize) < HEADER_LEN {
            return Err(EventError::Malformed(format!(
                "{} event_size {} is smaller than the {HEADER_LEN}-byte event header",
                h.event_type, h.event_size
            )));
        }
        Ok(h)
    }

    /// Decodes and checks that `event_size` is exactly the slice length.
    pub fn decode_exact(b: &[u8]) -> Result<Self, EventError> {
        let h = Self::decode(b)?;
        if h.event_size as usize != b.len() {
            return Err(EventError::BadSize { event_size: h.event_size.into(), have: b.len() });
        }
        Ok(h)
    }

    /// An event the sender made up for the stream, not stored in its file: flagged
    /// LOG_EVENT_ARTIFICIAL_F (a ROTATE naming the file), or one of the events a
    /// primary resends at the start of a dump with log_pos 0 (the FDE, MariaDB's
    /// Gtid_list). Other events with log_pos 0 are real: MariaDB 11.4 and later
    /// leave log_pos 0 in the events inside a transaction (binlog_legacy_event_pos=OFF).
    pub fn is_artificial(&self) -> bool {
        self.flags & LOG_EVENT_ARTIFICIAL_F != 0
            || self.log_pos == 0
                && matches!(
                    self.event_type,
                    EventType::FORMAT_DESCRIPTION | EventType::ROTATE | EventType::MARIADB_GTID_LIST
                )
    }
}

/// Checksum algorithm named in the FDE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChecksumAlg(pub u8);

impl ChecksumAlg {
    pub const OFF: ChecksumAlg = ChecksumAlg(0);
    pub const CRC32: ChecksumAlg = ChecksumAlg(1);

    pub fn trailer_len(self) -> usize {
        if self == Self::CRC32 {
            CHECKSUM_LEN
        } else {
            0
        }
    }
}

/// Verifies an event's CRC32. For an FDE the in-use flag is cleared before
/// computing, because the primary clears it in place when it closes the file
/// and the checksum is defined over the cleared form.
pub fn verify_crc(ev: &[u8]) -> Result<(), EventError> {
    if ev.len() < HEADER_LEN + CHECKSUM_LEN {
        return Err(EventError::BadSize { event_size: ev.len() as u64, have: ev.len() });
    }
    let (body, tail) = ev.split_at(ev.len() - CHECKSUM_LEN);
    let expected = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let computed = if ev[4] == EventType::FORMAT_DESCRIPTION.0 && ev[FLAGS_OFFSET] & 1 != 0 {
        let mut h = crc32fast::Hasher::new();
        h.update(&body[..FLAGS_OFFSET]);
        h.update(&[body[FLAGS_OFFSET] & !1]);
        h.update(&body[FLAGS_OFFSET + 1..]);
        h.finalize()
    } else {
        crc32fast::hash(body)
    };
    if computed != expected {
        return Err(EventError::Checksum { expected, computed });
    }
    Ok(())
}

/// What binlogd needs from a FORMAT_DESCRIPTION_EVENT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatDescription {
    pub binlog_version: u16,
    pub server_version: String,
    pub header_len: u8,
    pub checksum: ChecksumAlg,
    /// Post-header length of QUERY events (13 on every supported server).
    pub query_post_header_len: u8,
}

impl FormatDescription {
    /// Parses a whole FDE (header included). The checksum algorithm byte sits
    /// just before the 4 checksum bytes, which are present whatever the algorithm.
    pub fn decode(ev: &[u8]) -> Result<Self, EventError> {
        let h = EventHeader::decode_exact(ev)?;
        if h.event_type != EventType::FORMAT_DESCRIPTION {
            return Err(EventError::Malformed(format!("expected Format_desc, got {}", h.event_type)));
        }
        let mut r = Reader::new(&ev[HEADER_LEN..]);
        let binlog_version = r.u16("FDE binlog version")?;
        let sv = r.bytes(50, "FDE server version")?;
        let server_version = String::from_utf8_lossy(sv.split(|&b| b == 0).next().unwrap_or(&[])).into_owned();
        r.skip(4, "FDE create timestamp")?;
        let header_len = r.u8("FDE header length")?;
        if binlog_version != 4 || usize::from(header_len) != HEADER_LEN {
            return Err(EventError::Malformed(format!(
                "unsupported binlog version {binlog_version} with header length {header_len}"
            )));
        }
        let post = r.rest();
        let query_post_header_len = post.get(usize::from(EventType::QUERY.0) - 1).copied().unwrap_or(13);
        // Servers from 5.6.1 (and MariaDB 5.3) end the FDE with alg + 4 checksum bytes.
        let checksum = if post.len() > CHECKSUM_LEN && checksum_aware(&server_version) {
            ChecksumAlg(post[post.len() - 1 - CHECKSUM_LEN])
        } else {
            ChecksumAlg::OFF
        };
        if checksum != ChecksumAlg::OFF && checksum != ChecksumAlg::CRC32 {
            return Err(EventError::Malformed(format!("unknown checksum algorithm {}", checksum.0)));
        }
        Ok(FormatDescription { binlog_version, server_version, header_len, checksum, query_post_header_len })
    }
}

/// Where an FDE's `created` timestamp is: after the header, binlog_version (2) and
/// server_version (50).
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Format__description__event.html>
pub const FDE_CREATED: usize = HEADER_LEN + 2 + 50;

/// Do two FDEs open the same binlog file? A primary that sends a file's FDE again at
/// the start of a dump changes its log_pos, its in-use flag, its `created` time and so
/// its checksum; everything else is kept: the header's timestamp (when the file was
/// begun), server_id and size, the server version and the format. A file begun again
/// under the same name (RESET MASTER), or another server's, differs in those.
pub fn same_binlog_file(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() || n < FDE_CREATED + 4 + CHECKSUM_LEN {
        return false;
    }
    let kept = [0..LOG_POS_OFFSET, FLAGS_OFFSET + 2..FDE_CREATED, FDE_CREATED + 4..n - CHECKSUM_LEN];
    kept.into_iter().all(|r| a[r.clone()] == b[r])
}

fn checksum_aware(version: &str) -> bool {
    let mut it = version.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty());
    let mut n = || it.next().and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    let (a, b, c) = (n(), n(), n());
    if version.contains("MariaDB") {
        return (a, b) >= (5, 3);
    }
    (a, b, c) >= (5, 6, 1)
}

/// The body of an event without header and checksum trailer.
pub fn body(ev: &[u8], alg: ChecksumAlg) -> Result<&[u8], EventError> {
    let end = ev.len().checked_sub(alg.trailer_len()).filter(|&e| e >= HEADER_LEN);
    match end {
        Some(e) => Ok(&ev[HEADER_LEN..e]),
        None => Err(EventError::BadSize { event_size: ev.len() as u64, have: ev.len() }),
    }
}

/// ROTATE: the next file's name and the position to read it from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotate {
    pub pos: u64,
    pub next_file: String,
}

impl Rotate {
    pub fn decode(ev: &[u8], alg: ChecksumAlg) -> Result<Self, EventError> {
        let mut r = Reader::new(body(ev, alg)?);
        let pos = r.u64("rotate position")?;
        let name = r.rest();
        let next_file = std::str::from_utf8(name)
            .map_err(|_| EventError::Malformed("rotate file name is not UTF-8".into()))?
            .to_string();
        Ok(Rotate { pos, next_file })
    }
}

/// A MySQL GTID event's SID and GNO.
pub fn decode_mysql_gtid(ev: &[u8], alg: ChecksumAlg) -> Result<([u8; 16], u64), EventError> {
    let mut r = Reader::new(body(ev, alg)?);
    r.skip(1, "GTID flags")?;
    let sid: [u8; 16] = r.bytes(16, "GTID sid")?.try_into().map_err(|_| EventError::Malformed("sid".into()))?;
    let gno = r.u64("GTID gno")?;
    if gno == 0 || gno >= i64::MAX as u64 {
        return Err(EventError::Malformed(format!("GTID sequence number {gno} out of range")));
    }
    Ok((sid, gno))
}

/// A MySQL tagged GTID event's (8.3 and later, type 42) source and GNO. Its body is
/// in MySQL's serialization format: a version byte, the payload size and the last
/// non-ignorable field id (varlen), then fields as (id, value): 0 flags, 1 the UUID
/// as 16 varlen bytes, 2 the GNO (varlen, zig-zag signed), 3 the tag (varlen
/// length and bytes), then fields binlogd does not need.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Gtid__event.html>
pub fn decode_tagged_gtid(ev: &[u8], alg: ChecksumAlg) -> Result<(Tsid, u64), EventError> {
    let bad = |e: crate::binlog::gtid::GtidError| EventError::Malformed(format!("tagged GTID event: {e}"));
    let mut r = Reader::new(body(ev, alg)?);
    r.skip(1, "tagged GTID serialization version")?;
    read_varlen(&mut r, "tagged GTID payload size").map_err(bad)?;
    read_varlen(&mut r, "tagged GTID last non-ignorable field").map_err(bad)?;
    let (mut uuid, mut gno, mut tag) = (None, None, None);
    while uuid.is_none() || gno.is_none() || tag.is_none() {
        match read_varlen(&mut r, "tagged GTID field id").map_err(bad)? {
            0 => {
                read_varlen(&mut r, "tagged GTID flags").map_err(bad)?;
            }
            1 => {
                let mut u = [0u8; 16];
                for b in u.iter_mut() {
                    *b = u8::try_from(read_varlen(&mut r, "tagged GTID uuid").map_err(bad)?)
                        .map_err(|_| EventError::Malformed("tagged GTID uuid byte over 255".into()))?;
                }
                uuid = Some(u);
            }
            2 => {
                let z = read_varlen(&mut r, "tagged GTID gno").map_err(bad)?;
                gno = Some(if z & 1 == 0 { z >> 1 } else { 0 });
            }
            3 => {
                let len = read_varlen(&mut r, "tagged GTID tag length").map_err(bad)?;
                let t = r.bytes(usize::try_from(len.min(33)).unwrap_or(33), "tagged GTID tag")?;
                tag = Some(parse_tag(&String::from_utf8_lossy(t)).map_err(bad)?);
            }
            id => return Err(EventError::Malformed(format!("tagged GTID event: field {id} before the GTID's"))),
        }
    }
    let (Some(uuid), Some(gno), Some(tag)) = (uuid, gno, tag) else {
        return Err(EventError::Malformed("tagged GTID event without its GTID".into()));
    };
    if gno == 0 || gno >= i64::MAX as u64 {
        return Err(EventError::Malformed(format!("GTID sequence number {gno} out of range")));
    }
    Ok((Tsid { uuid, tag }, gno))
}

/// The source and GNO of a MySQL GTID event, tagged or not.
pub fn decode_any_mysql_gtid(t: EventType, ev: &[u8], alg: ChecksumAlg) -> Result<(Tsid, u64), EventError> {
    if t == EventType::GTID_TAGGED {
        decode_tagged_gtid(ev, alg)
    } else {
        decode_mysql_gtid(ev, alg).map(|(u, g)| (Tsid::from(u), g))
    }
}

/// MariaDB GTID event flags2: a standalone event (DDL) with no COMMIT/XID after it.
pub const MARIADB_FL_STANDALONE: u8 = 1;

/// A MariaDB GTID event: (seq_no, domain_id, flags2); the server id is in the header.
pub fn decode_mariadb_gtid(ev: &[u8], alg: ChecksumAlg) -> Result<(u64, u32, u8), EventError> {
    let mut r = Reader::new(body(ev, alg)?);
    let seq = r.u64("MariaDB GTID seq_no")?;
    let domain = r.u32("MariaDB GTID domain_id")?;
    let flags2 = r.u8("MariaDB GTID flags2")?;
    Ok((seq, domain, flags2))
}

/// The statement text of a QUERY event.
pub fn query_text(ev: &[u8], alg: ChecksumAlg, post_header_len: u8) -> Result<&[u8], EventError> {
    Ok(query_parts(ev, alg, post_header_len)?.text)
}

/// A QUERY event's status variables, default database and statement text.
pub struct QueryParts<'a> {
    pub status: &'a [u8],
    pub db: &'a [u8],
    pub text: &'a [u8],
}

pub fn query_parts(ev: &[u8], alg: ChecksumAlg, post_header_len: u8) -> Result<QueryParts<'_>, EventError> {
    let mut r = Reader::new(body(ev, alg)?);
    r.skip(8, "query thread id and exec time")?;
    let db_len = r.u8("query db length")?;
    r.skip(2, "query error code")?;
    let status_len = if post_header_len >= 13 { r.u16("query status vars length")? } else { 0 };
    r.skip(usize::from(post_header_len).saturating_sub(13), "query post-header")?;
    let status = r.bytes(usize::from(status_len), "query status vars")?;
    let db = r.bytes(usize::from(db_len), "query db")?;
    r.skip(1, "query db terminator")?;
    Ok(QueryParts { status, db, text: r.rest() })
}

/// The largest text a MariaDB compressed event may declare: its events are bounded by
/// `max_allowed_packet`, at most 1 GiB.
const MARIA_UNCOMPRESSED_MAX: usize = 1 << 30;

/// The text of a MariaDB compressed event (`log_bin_compress`): a byte with the high
/// bit set and the count (1 to 4) of the big-endian length bytes that follow, the
/// uncompressed length, then a zlib stream (`binlog_buf_compress` in MariaDB's
/// log_event.cc). The stream must inflate to exactly the length declared.
/// <https://mariadb.com/kb/en/compressed-binary-log/>
pub fn maria_uncompress(b: &[u8]) -> Result<Vec<u8>, EventError> {
    let mut r = Reader::new(b);
    let head = r.u8("compressed header")?;
    let lenlen = usize::from(head & 0x07);
    if head & 0x80 == 0 || !(1..=4).contains(&lenlen) {
        return Err(EventError::Malformed(format!("compressed header 0x{head:02x} is not MariaDB's")));
    }
    let len = r.bytes(lenlen, "uncompressed length")?.iter().fold(0usize, |n, b| n << 8 | usize::from(*b));
    if len > MARIA_UNCOMPRESSED_MAX {
        return Err(EventError::Malformed(format!("uncompressed length {len} is over 1 GiB")));
    }
    let out = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(r.rest(), len)
        .map_err(|e| EventError::Malformed(format!("compressed text does not inflate: {:?}", e.status)))?;
    if out.len() != len {
        return Err(EventError::Malformed(format!("compressed text inflates to {} bytes, not {len}", out.len())));
    }
    Ok(out)
}

/// MySQL's Q_DDL_LOGGED_WITH_XID from a QUERY event's status variables: the XID of a
/// DDL statement logged as its own transaction. None when absent, or when a variable
/// this walk does not know comes first (its length is unknown, so nothing after it
/// can be read). MariaDB numbers its own variables from 128 and has no such one.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Query__event.html>
pub fn mysql_ddl_xid(status: &[u8]) -> Option<u64> {
    let mut r = Reader::new(status);
    while r.remaining() > 0 {
        let code = r.u8("status code").ok()?;
        let fixed = match code {
            // Q_FLAGS2_CODE, Q_AUTO_INCREMENT, Q_MASTER_DATA_WRITTEN_CODE
            0 | 3 | 10 => 4,
            // Q_SQL_MODE_CODE, Q_TABLE_MAP_FOR_UPDATE_CODE
            1 | 9 => 8,
            // Q_CHARSET_CODE
            4 => 6,
            // Q_LC_TIME_NAMES_CODE, Q_CHARSET_DATABASE_CODE, Q_DEFAULT_COLLATION_FOR_UTF8MB4
            7 | 8 | 18 => 2,
            // Q_MICROSECONDS
            13 => 3,
            // Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP, Q_SQL_REQUIRE_PRIMARY_KEY, Q_DEFAULT_TABLE_ENCRYPTION
            16 | 19 | 20 => 1,
            // Q_DDL_LOGGED_WITH_XID
            17 => return r.u64("ddl xid").ok(),
            // Q_CATALOG_CODE: a length, the name and a NUL.
            2 => 1 + usize::from(r.u8("catalog length").ok()?),
            // Q_TIME_ZONE_CODE, Q_CATALOG_NZ_CODE: a length and the text.
            5 | 6 => usize::from(r.u8("length").ok()?),
            // Q_INVOKER: user and host, each a length and the text.
            11 => {
                let user = usize::from(r.u8("user length").ok()?);
                r.skip(user, "user").ok()?;
                usize::from(r.u8("host length").ok()?)
            }
            // Q_UPDATED_DB_NAMES: a count, then that many NUL-terminated names (none
            // when the count says there were too many to list).
            12 => {
                let n = r.u8("db count").ok()?;
                if n < 254 {
                    for _ in 0..n {
                        r.nul_bytes("db name").ok()?;
                    }
                }
                0
            }
            _ => return None,
        };
        r.skip(fixed, "status variable").ok()?;
    }
    None
}

#[cfg(test)]
pub mod tests {
    use super::*;

    #[test]
    fn event_names_are_sorted_by_type_and_unknown_types_pass_through() {
        for w in EVENT_NAMES.windows(2) {
            assert!(w[0].0 < w[1].0, "{:?} then {:?}", w[0], w[1]);
        }
        assert_eq!(EventType::FORMAT_DESCRIPTION.name(), Some("Format_desc"));
        assert_eq!(EventType(99).name(), None);
        assert_eq!(EventType(99).to_string(), "type 99");
        assert!(EventType::MARIADB_DELETE_ROWS_COMPRESSED.is_rows() && !EventType::TABLE_MAP.is_rows());
    }

    #[test]
    fn inflates_mariadb_compressed_text_and_rejects_what_does_not_fit() {
        let text = "INSERT INTO t VALUES ('".to_string() + &"x".repeat(300) + "')";
        let z = miniz_oxide::deflate::compress_to_vec_zlib(text.as_bytes(), 6);
        let framed = |head: u8, len: &[u8], z: &[u8]| [&[head][..], len, z].concat();
        let n = text.len() as u16;
        assert_eq!(maria_uncompress(&framed(0x82, &n.to_be_bytes(), &z)).unwrap(), text.as_bytes());
        // The same length in 3 bytes.
        assert_eq!(
            maria_uncompress(&framed(0x83, &[0, n.to_be_bytes()[0], n.to_be_bytes()[1]], &z)).unwrap(),
            text.as_bytes()
        );
        let bad = [
            framed(0x02, &n.to_be_bytes(), &z),                // no compressed flag
            framed(0x85, &[0; 5], &z),                         // 5 length bytes
            framed(0x80, &[], &z),                             // none
            framed(0x82, &(n + 1).to_be_bytes(), &z),          // declares more than it holds
            framed(0x82, &(n - 1).to_be_bytes(), &z),          // and less
            framed(0x82, &n.to_be_bytes(), &z[..z.len() / 2]), // cut short
            framed(0x82, &n.to_be_bytes(), b"not zlib at all"),
            framed(0x84, &u32::MAX.to_be_bytes(), &z), // over 1 GiB
            vec![0x84, 0, 0],                          // length cut short
            vec![],
        ];
        for b in bad {
            assert!(maria_uncompress(&b).is_err(), "{b:02x?}");
        }
    }

    #[test]
    fn log_pos_zero_marks_only_the_events_resent_at_a_dump_start_as_made_up() {
        let h = |t: EventType, log_pos: u32, flags: u16| EventHeader {
            timestamp: 0,
            event_type: t,
            server_id: 1,
            event_size: 40,
            log_pos,
            flags,
        };
        for t in [EventType::FORMAT_DESCRIPTION, EventType::ROTATE, EventType::MARIADB_GTID_LIST] {
            assert!(h(t, 0, 0).is_artificial(), "{t}");
            assert!(!h(t, 300, 0).is_artificial(), "{t}");
        }
        // Inside a MariaDB 11.4+ transaction: real events with log_pos 0.
        for t in [EventType(19), EventType(23), EventType::MARIADB_ANNOTATE_ROWS, EventType::QUERY] {
            assert!(!h(t, 0, 0).is_artificial(), "{t}");
        }
        assert!(h(EventType::ROTATE, 4, LOG_EVENT_ARTIFICIAL_F).is_artificial());
    }

    /// Builds an event with a valid header (and CRC when `crc`).
    pub fn make_event(t: EventType, log_pos_base: u32, body: &[u8], crc: bool) -> Vec<u8> {
        let size = (HEADER_LEN + body.len() + if crc { 4 } else { 0 }) as u32;
        let h = EventHeader {
            timestamp: 1_700_000_000,
            event_type: t,
            server_id: 1,
            event_size: size,
            log_pos: log_pos_base + size,
            flags: 0,
        };
        let e = h.event(body, crc);
        assert_eq!(EventHeader::decode(&e).unwrap(), h, "encode and decode agree");
        e
    }

    #[test]
    fn rejects_event_size_smaller_than_header() {
        let mut e = make_event(EventType::XID, 4, &[0; 8], true);
        e[9..13].copy_from_slice(&10u32.to_le_bytes());
        assert!(matches!(EventHeader::decode(&e), Err(EventError::Malformed(_))));
        assert!(EventHeader::decode(&e[..18]).is_err());
    }

    #[test]
    fn crc_detects_a_flipped_bit_and_ignores_fde_in_use_flag() {
        let mut e = make_event(EventType::XID, 4, &[1, 2, 3, 4, 5, 6, 7, 8], true);
        verify_crc(&e).unwrap();
        e[20] ^= 0x10;
        assert!(matches!(verify_crc(&e), Err(EventError::Checksum { .. })));
        let mut fde = make_event(EventType::FORMAT_DESCRIPTION, 4, &[0; 80], true);
        fde[FLAGS_OFFSET] |= 1;
        verify_crc(&fde).unwrap();
    }

    #[test]
    fn rejects_truncated_gtid_event() {
        let e = make_event(EventType::GTID, 4, &[0; 10], true);
        assert!(decode_mysql_gtid(&e, ChecksumAlg::CRC32).is_err());
        let e = make_event(EventType::MARIADB_GTID, 4, &[0; 5], false);
        assert!(decode_mariadb_gtid(&e, ChecksumAlg::OFF).is_err());
    }

    #[test]
    fn a_resent_fde_opens_the_same_file_and_one_begun_again_does_not() {
        let mut body = vec![4, 0];
        let mut version = b"9.7.4".to_vec();
        version.resize(50, 0);
        body.extend_from_slice(&version);
        body.extend_from_slice(&1_700_000_000u32.to_le_bytes()); // created
        body.push(HEADER_LEN as u8);
        body.extend_from_slice(&[0; 40]); // post-header lengths
        body.push(ChecksumAlg::CRC32.0);
        let mut stored = make_event(EventType::FORMAT_DESCRIPTION, 0, &body, true);
        stored[FLAGS_OFFSET] |= 1; // in use while the primary writes it
        assert_eq!(FormatDescription::decode(&stored).unwrap().checksum, ChecksumAlg::CRC32);
        let resent = crate::binlog::test_files::as_resent(&stored);
        assert!(same_binlog_file(&stored, &resent));
        let n = resent.len();
        for (at, what) in [(0, "timestamp"), (5, "server_id"), (21, "server version"), (FDE_CREATED + 6, "format")] {
            let mut other = resent.clone();
            other[at] ^= 1;
            assert!(!same_binlog_file(&stored, &other), "{what}");
        }
        assert!(!same_binlog_file(&stored, &resent[..n - 1]));
        assert!(!same_binlog_file(&stored[..40], &stored[..40]), "too short to be an FDE");
    }

    #[test]
    fn rejects_truncated_fde() {
        let e = make_event(EventType::FORMAT_DESCRIPTION, 4, &[4, 0, b'8'], true);
        assert!(FormatDescription::decode(&e).is_err());
    }

    #[test]
    fn decodes_rotate_and_query_text() {
        let mut b = 4u64.to_le_bytes().to_vec();
        b.extend_from_slice(b"binlog.000002");
        let e = make_event(EventType::ROTATE, 100, &b, true);
        assert_eq!(
            Rotate::decode(&e, ChecksumAlg::CRC32).unwrap(),
            Rotate { pos: 4, next_file: "binlog.000002".into() }
        );
        let mut q = vec![0u8; 8];
        q.push(4); // db len
        q.extend_from_slice(&[0, 0]); // error code
        q.extend_from_slice(&[2, 0]); // status vars len
        q.extend_from_slice(&[9, 9]);
        q.extend_from_slice(b"test\0COMMIT");
        let e = make_event(EventType::QUERY, 4, &q, true);
        assert_eq!(query_text(&e, ChecksumAlg::CRC32, 13).unwrap(), b"COMMIT");
        assert!(query_text(&e[..30], ChecksumAlg::OFF, 13).is_err());
    }
}
