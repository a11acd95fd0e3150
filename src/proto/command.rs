//! Replication commands: COM_QUERY, COM_REGISTER_SLAVE, COM_BINLOG_DUMP,
//! COM_BINLOG_DUMP_GTID, and the semisync reply.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication.html>

use super::buf::{Put, Reader};
use super::Error;

pub const COM_QUIT: u8 = 0x01;
pub const COM_INIT_DB: u8 = 0x02;
pub const COM_QUERY: u8 = 0x03;
pub const COM_FIELD_LIST: u8 = 0x04;
/// MariaDB's: flush what the option bits name (`mysql_refresh`).
pub const COM_REFRESH: u8 = 0x07;
pub const COM_SHUTDOWN: u8 = 0x08;
pub const COM_STATISTICS: u8 = 0x09;
/// MariaDB's: SHOW PROCESSLIST (`mysql_list_processes`).
pub const COM_PROCESS_INFO: u8 = 0x0a;
/// MariaDB's: KILL of a connection id (`mysql_kill`).
pub const COM_PROCESS_KILL: u8 = 0x0c;
pub const COM_PING: u8 = 0x0e;
pub const COM_CHANGE_USER: u8 = 0x11;
pub const COM_BINLOG_DUMP: u8 = 0x12;
pub const COM_REGISTER_SLAVE: u8 = 0x15;
pub const COM_BINLOG_DUMP_GTID: u8 = 0x1e;
/// Turns CLIENT_MULTI_STATEMENTS on (option 0) or off (1) for the session.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_set_option.html>
pub const COM_SET_OPTION: u8 = 0x1b;
/// Resets the session to its state at login, without logging in again.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_reset_connection.html>
pub const COM_RESET_CONNECTION: u8 = 0x1f;

/// COM_REFRESH's option that flushes the logs.
pub const REFRESH_LOG: u8 = 0x02;

/// COM_BINLOG_DUMP flag: answer EOF at the end instead of waiting.
pub const BINLOG_DUMP_NON_BLOCK: u16 = 0x01;
/// MariaDB: send ANNOTATE_ROWS events (otherwise they are left out and offsets differ).
pub const BINLOG_SEND_ANNOTATE_ROWS_EVENT: u16 = 0x02;
/// COM_BINLOG_DUMP_GTID flag: a GTID set follows.
pub const BINLOG_THROUGH_GTID: u16 = 0x04;

/// Magic byte of the semisync header and reply.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_semi_sync.html>
pub const SEMISYNC_MAGIC: u8 = 0xef;
pub const SEMISYNC_NEED_ACK: u8 = 0x01;

pub fn query(sql: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(sql.len() + 1);
    p.push(COM_QUERY);
    p.extend_from_slice(sql.as_bytes());
    p
}

/// The statement's text of a COM_QUERY `payload` (its command byte left off). A
/// session that has CLIENT_QUERY_ATTRIBUTES (`attributes`) puts named parameters
/// before the text, which no statement binlogd answers reads (a primary reads them
/// only through its query_attributes component); they are skipped as mysqld 9.7
/// reads them. None where mysqld answers ER_MALFORMED_PACKET: counts or a parameter
/// set count other than 1, a zero bind flag, and fixed-size values, types, names or
/// length headers cut short; a string value longer than what is left (or NULL-length,
/// 0xFB) takes the rest, as mysqld's does, leaving an empty statement.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query.html>
pub fn query_text(payload: &[u8], attributes: bool) -> Option<&[u8]> {
    if !attributes {
        return Some(payload);
    }
    let mut r = Reader::new(payload);
    let count = r.lenenc("parameter_count").ok()?;
    if r.lenenc("parameter_set_count").ok()? != 1 {
        return None;
    }
    if count == 0 {
        return Some(r.rest());
    }
    let count = usize::try_from(count).ok()?;
    let nulls = r.bytes(count.div_ceil(8), "null_bitmap").ok()?;
    if r.u8("new_params_bind_flag").ok()? == 0 {
        return None;
    }
    // The low byte of each parameter's type; its high byte is the unsigned flag.
    let mut types = Vec::with_capacity(count.min(r.remaining()));
    for _ in 0..count {
        types.push(r.u16("parameter_type").ok()? as u8);
        r.lenenc_bytes("parameter_name").ok()?;
    }
    for (i, ty) in types.into_iter().enumerate() {
        if nulls.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0) {
            continue;
        }
        super::stmt::binary_value(&mut r, ty)?;
    }
    Some(r.rest())
}

/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_register_slave.html>
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegisterSlave {
    pub server_id: u32,
    pub host: String,
    pub user: String,
    pub password: String,
    pub port: u16,
    pub rank: u32,
    pub master_id: u32,
}

/// A string with a one-byte length; one over 255 bytes cannot be sent, and is refused
/// rather than cut (a cut name would be shown as another host).
fn put_short_str(p: &mut Vec<u8>, s: &str, what: &str) -> Result<(), Error> {
    let n = u8::try_from(s.len())
        .map_err(|_| Error::malformed(format!("COM_REGISTER_SLAVE {what} is {} bytes, over 255", s.len())))?;
    p.push(n);
    p.extend_from_slice(s.as_bytes());
    Ok(())
}

impl RegisterSlave {
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut p = vec![COM_REGISTER_SLAVE];
        p.put_u32(self.server_id);
        put_short_str(&mut p, &self.host, "host")?;
        put_short_str(&mut p, &self.user, "user")?;
        put_short_str(&mut p, &self.password, "password")?;
        p.put_u16(self.port);
        p.put_u32(self.rank);
        p.put_u32(self.master_id);
        Ok(p)
    }

    pub fn decode(p: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(p);
        if r.u8("command")? != COM_REGISTER_SLAVE {
            return Err(Error::malformed("not COM_REGISTER_SLAVE"));
        }
        let server_id = r.u32("server id")?;
        let mut s = |what| -> Result<String, Error> {
            let n = r.u8(what)?;
            Ok(String::from_utf8_lossy(r.bytes(usize::from(n), what)?).into_owned())
        };
        let (host, user, password) = (s("host")?, s("user")?, s("password")?);
        let port = r.u16("port")?;
        // Rank and master id are optional in practice.
        let rank = r.u32("rank").unwrap_or(0);
        let master_id = r.u32("master id").unwrap_or(0);
        Ok(RegisterSlave { server_id, host, user, password, port, rank, master_id })
    }
}

/// A dump request's file name as the server reads it, a C string: it ends at the
/// first NUL if there is one. zongji sends "name\0", python-mysql-replication's GTID
/// dump three NULs for no name.
fn c_string(b: &[u8]) -> Result<String, Error> {
    let b = b.split(|&c| c == 0).next().unwrap_or(b);
    String::from_utf8(b.to_vec()).map_err(|_| Error::malformed("binlog file name is not UTF-8"))
}

/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogDump {
    pub pos: u32,
    pub flags: u16,
    pub server_id: u32,
    pub file: String,
}

impl BinlogDump {
    pub fn encode(&self) -> Vec<u8> {
        let mut p = vec![COM_BINLOG_DUMP];
        p.put_u32(self.pos);
        p.put_u16(self.flags);
        p.put_u32(self.server_id);
        p.extend_from_slice(self.file.as_bytes());
        p
    }

    pub fn decode(p: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(p);
        if r.u8("command")? != COM_BINLOG_DUMP {
            return Err(Error::malformed("not COM_BINLOG_DUMP"));
        }
        let pos = r.u32("binlog position")?;
        let flags = r.u16("flags")?;
        let server_id = r.u32("server id")?;
        let file = c_string(r.rest())?;
        Ok(BinlogDump { pos, flags, server_id, file })
    }
}

/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump_gtid.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogDumpGtid {
    pub flags: u16,
    pub server_id: u32,
    pub file: String,
    pub pos: u64,
    /// The encoded GTID set (`gtid::GtidSet::encode`).
    pub gtid_data: Vec<u8>,
}

impl BinlogDumpGtid {
    pub fn encode(&self) -> Vec<u8> {
        let mut p = vec![COM_BINLOG_DUMP_GTID];
        p.put_u16(self.flags | BINLOG_THROUGH_GTID);
        p.put_u32(self.server_id);
        p.put_u32(self.file.len() as u32);
        p.extend_from_slice(self.file.as_bytes());
        p.put_u64(self.pos);
        p.put_u32(self.gtid_data.len() as u32);
        p.extend_from_slice(&self.gtid_data);
        p
    }

    pub fn decode(p: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(p);
        if r.u8("command")? != COM_BINLOG_DUMP_GTID {
            return Err(Error::malformed("not COM_BINLOG_DUMP_GTID"));
        }
        let flags = r.u16("flags")?;
        let server_id = r.u32("server id")?;
        let n = r.u32("file name length")? as usize;
        let file = c_string(r.bytes(n, "file name")?)?;
        let pos = r.u64("position")?;
        // mysqld reads the set whatever the flags say (`com_binlog_dump_gtid`,
        // sql/rpl_source.cc): MySQL replicas send flags 0 and mysqlbinlog 0x01.
        let n = r.u32("gtid data length")? as usize;
        let gtid_data = r.bytes(n, "gtid data")?.to_vec();
        Ok(BinlogDumpGtid { flags, server_id, file, pos, gtid_data })
    }
}

/// The semisync reply: magic, 8-byte position, file name. Sent with sequence id 0.
pub fn semisync_ack(file: &str, pos: u64) -> Vec<u8> {
    let mut p = Vec::with_capacity(9 + file.len());
    p.push(SEMISYNC_MAGIC);
    p.put_u64(pos);
    p.extend_from_slice(file.as_bytes());
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case as mysqld 9.7 answered it: the text it ran, or None for
    /// ER_MALFORMED_PACKET.
    #[test]
    fn query_attributes_are_skipped_as_mysqld_reads_them() {
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            (b"\x00\x01SELECT 1", Some(b"SELECT 1")),
            (b"\x00\x01", Some(b"")),
            (b"\x00\x01\x00SELECT 1", Some(b"\x00SELECT 1")),
            (b"", None),
            (b"\x00", None),
            (b"\x00\x00SELECT 6", None),
            (b"\x01\x02\x00\x01\xfe\x00\x01aVSELECT 2", None),
            (b"\xfb\x01SELECT 1", None),
            // A string value: its length, clamped to what is left.
            (b"\x01\x01\x00\x01\xfe\x00\x01a\x01XSELECT 2", Some(b"SELECT 2")),
            (b"\x01\x01\x00\x01\xfe\x00\x01aVSELECT 2", Some(b"")),
            (b"\x01\x01\x00\x01\xfe\x00\x01a\xfbSELECT 1", Some(b"")),
            (b"\x01\x01\x00\x01\xfe\x00\x01a\xfcSELECT 14", Some(b"")),
            (b"\x01\x01\x00\x01\xfe\x00\x01a\xffSELECT 1", None),
            (b"\x01\x01\x00\x01\xfe\x00\x01a\xfc\x05", None),
            (b"\x02\x01\x00\x01\xfe\x00\x01a\xfe\x00\x01b\x01X\x01YSELECT 7", Some(b"SELECT 7")),
            // The bind flag: any but 0.
            (b"\x01\x01\x00\x00SELECT 4", None),
            (b"\x01\x01\x00\x02\xfe\x00\x01a\x00SELECT 16", Some(b"SELECT 16")),
            // A NULL parameter has no value.
            (b"\x01\x01\x01\x01\xfe\x00\x01aSELECT 5", Some(b"SELECT 5")),
            // Names are not clamped.
            (b"\x01\x01\x01\x01\xfe\x00\x09abc", None),
            (b"\x01\x01\x01\x01\xfe\x00\xfbabc", None),
            (b"\x01\x01\x00\x01\xfe\x00\xfc\x05", None),
            (b"\x01\x01\x00\x01\x08", None),
            // Fixed sizes, signed or not.
            (b"\x01\x01\x00\x01\x08\x00\x01n\x05\x00\x00\x00\x00\x00\x00\x00SELECT 3", Some(b"SELECT 3")),
            (b"\x01\x01\x00\x01\x08\x80\x01n\x05\x00\x00\x00\x00\x00\x00\x00SELECT 29", Some(b"SELECT 29")),
            (b"\x01\x01\x00\x01\x08\x00\x01nabc", None),
            (b"\x01\x01\x00\x01\x04\x00\x01n\x00\x00\x00\x00SELECT 18", Some(b"SELECT 18")),
            (b"\x01\x01\x00\x01\x05\x00\x01n\x00\x00\x00\x00\x00\x00\x00\x00SELECT 19", Some(b"SELECT 19")),
            (b"\x01\x01\x00\x01\x02\x00\x01n\x00\x00SELECT 23", Some(b"SELECT 23")),
            (b"\x01\x01\x00\x01\x03\x00\x01n\x00\x00\x00\x00SELECT 24", Some(b"SELECT 24")),
            (b"\x01\x01\x00\x01\x01\x00\x01n\x00SELECT 25", Some(b"SELECT 25")),
            // INT24 and YEAR go as strings.
            (b"\x01\x01\x00\x01\x09\x00\x01n\x01\x00\x00\x00SELECT 12", Some(b"\x00\x00SELECT 12")),
            (b"\x01\x01\x00\x01\x0d\x00\x01n\x05\x00SELECT 13", Some(b"CT 13")),
            // Times: a one-byte length, not clamped.
            (b"\x01\x01\x00\x01\x0c\x00\x01n\x04\xe8\x07\x01\x02SELECT 8", Some(b"SELECT 8")),
            (b"\x01\x01\x00\x01\x0c\x00\x01n\x0b\xe8\x07\x01\x02SELECT 8", Some(b"8")),
            (b"\x01\x01\x00\x01\x0c\x00\x01n\x0f\xe8\x07", None),
            (b"\x01\x01\x00\x01\x0b\x00\x01n\x0f\xe8\x07", None),
            (b"\x01\x01\x00\x01\xf0\x00\x01n\x01aSELECT 9", Some(b"SELECT 9")),
        ];
        for (payload, text) in cases {
            assert_eq!(query_text(payload, true), *text, "{payload:x?}");
        }
        assert_eq!(query_text(b"\x00\x01SELECT 1", false), Some(&b"\x00\x01SELECT 1"[..]));
        // A count no packet could hold is refused before anything is allocated for it.
        assert_eq!(query_text(b"\xfe\xff\xff\xff\xff\xff\xff\xff\x7f\x01\x00", true), None);
    }

    #[test]
    fn register_slave_round_trips() {
        let r = RegisterSlave { server_id: 123456, host: "h".into(), port: 3307, ..Default::default() };
        let e = r.encode().unwrap();
        assert_eq!(e.len(), 1 + 4 + 2 + 1 + 1 + 2 + 4 + 4);
        assert_eq!(RegisterSlave::decode(&e).unwrap(), r);
        assert!(RegisterSlave::decode(&e[..7]).is_err());
        let long = RegisterSlave { host: "h".repeat(256), ..r };
        assert!(long.encode().unwrap_err().to_string().contains("host is 256 bytes, over 255"));
    }

    #[test]
    fn dump_commands_round_trip_and_reject_truncation() {
        let d = BinlogDump { pos: 4, flags: 2, server_id: 9, file: "mysql-bin.000001".into() };
        assert_eq!(BinlogDump::decode(&d.encode()).unwrap(), d);
        let g = BinlogDumpGtid {
            flags: BINLOG_THROUGH_GTID,
            server_id: 9,
            file: String::new(),
            pos: 4,
            gtid_data: vec![0; 8],
        };
        let e = g.encode();
        assert_eq!(BinlogDumpGtid::decode(&e).unwrap(), g);
        for n in 0..e.len() {
            assert!(BinlogDumpGtid::decode(&e[..n]).is_err());
        }
    }

    #[test]
    fn a_file_name_ends_at_its_first_nul() {
        let mut d = BinlogDump { pos: 4, flags: 0, server_id: 9, file: "b.000001".into() }.encode();
        d.push(0);
        assert_eq!(BinlogDump::decode(&d).unwrap().file, "b.000001");
        let g = BinlogDumpGtid { flags: 0, server_id: 9, file: "\0\0\0".into(), pos: 4, gtid_data: vec![] };
        assert_eq!(BinlogDumpGtid::decode(&g.encode()).unwrap().file, "");
    }

    #[test]
    fn a_gtid_dump_set_is_read_whatever_the_flags() {
        // A MySQL replica sends flags 0, mysqlbinlog 0x01 (non-blocking): the set is
        // there either way.
        for flags in [0u16, BINLOG_DUMP_NON_BLOCK] {
            let mut e = vec![COM_BINLOG_DUMP_GTID];
            e.put_u16(flags);
            e.put_u32(7);
            e.put_u32(0);
            e.put_u64(4);
            e.put_u32(3);
            e.extend_from_slice(&[1, 2, 3]);
            let d = BinlogDumpGtid::decode(&e).unwrap();
            assert_eq!((d.flags, d.gtid_data), (flags, vec![1, 2, 3]));
        }
    }

    #[test]
    fn semisync_ack_layout() {
        let a = semisync_ack("b.000002", 0x1234);
        assert_eq!(a[0], 0xef);
        assert_eq!(&a[1..9], &0x1234u64.to_le_bytes());
        assert_eq!(&a[9..], b"b.000002");
    }
}
