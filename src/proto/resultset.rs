//! Text-protocol result sets (the reply to COM_QUERY).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset.html>

use super::buf::Reader;
use super::Error;

/// A query's result: rows of nullable text values, with column names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl ResultSet {
    /// The first row's first value, if any.
    pub fn scalar(&self) -> Option<&str> {
        self.rows.first()?.first()?.as_deref()
    }

    /// For `SHOW VARIABLES`-shaped results: the value for `name` (case-insensitive).
    pub fn variable(&self, name: &str) -> Option<&str> {
        self.rows
            .iter()
            .find(|r| r.first().and_then(|c| c.as_deref()).is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .and_then(|r| r.get(1)?.as_deref())
    }
}

/// Is this packet an EOF marker (0xFE and shorter than 9 bytes)?
pub fn is_eof(p: &[u8]) -> bool {
    p.first() == Some(&0xfe) && p.len() < 9
}

/// Column name from a ColumnDefinition41 packet.
pub fn column_name(p: &[u8]) -> Result<String, Error> {
    let mut r = Reader::new(p);
    for what in ["catalog", "schema", "table", "org_table"] {
        r.lenenc_bytes(what)?;
    }
    Ok(String::from_utf8_lossy(r.lenenc_bytes("column name")?).into_owned())
}

/// One text row: `n` length-encoded strings, 0xFB for NULL.
pub fn parse_row(p: &[u8], n: usize) -> Result<Vec<Option<String>>, Error> {
    let mut r = Reader::new(p);
    let mut row = Vec::with_capacity(n.min(4096));
    for _ in 0..n {
        if r.peek() == Some(0xfb) {
            r.skip(1, "NULL")?;
            row.push(None);
        } else {
            row.push(Some(String::from_utf8_lossy(r.lenenc_bytes("row value")?).into_owned()));
        }
    }
    Ok(row)
}

/// Reads a whole COM_QUERY reply with `next` supplying packets. An OK gives an
/// empty result; an ERR gives `Error::Server`. Works with or without CLIENT_DEPRECATE_EOF.
pub fn read_result(mut next: impl FnMut() -> Result<Vec<u8>, Error>) -> Result<ResultSet, Error> {
    let first = next()?;
    match first.first() {
        Some(0x00) => return Ok(ResultSet::default()),
        Some(0xff) => return Err(super::parse_err(&first)),
        Some(0xfb) => return Err(Error::Unsupported { what: "LOCAL INFILE request from the server".into() }),
        None => return Err(Error::malformed("empty result set header")),
        _ => {}
    }
    let n = Reader::new(&first).lenenc("column count")?;
    if n == 0 || n > 4096 {
        return Err(Error::malformed(format!("column count {n}")));
    }
    let n = n as usize;
    let mut rs = ResultSet::default();
    for _ in 0..n {
        rs.columns.push(column_name(&next()?)?);
    }
    let mut p = next()?;
    if is_eof(&p) {
        p = next()?;
    }
    loop {
        // The row stream ends with EOF, or with an OK whose header is 0xFE under
        // CLIENT_DEPRECATE_EOF; a row cannot start with 0xFE unless its first
        // value is 16 MiB or longer.
        if p.first() == Some(&0xfe) && p.len() < 0xff_ffff {
            return Ok(rs);
        }
        if p.first() == Some(&0xff) {
            return Err(super::parse_err(&p));
        }
        rs.rows.push(parse_row(&p, n)?);
        p = next()?;
    }
}

/// A column's type in its definition: a newtype, so that any value a server sends
/// passes through. <https://dev.mysql.com/doc/dev/mysql-server/latest/field__types_8h.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnType(pub u8);

impl ColumnType {
    pub const LONG: ColumnType = ColumnType(0x03);
    pub const DOUBLE: ColumnType = ColumnType(0x05);
    pub const LONGLONG: ColumnType = ColumnType(0x08);
    pub const DATETIME: ColumnType = ColumnType(0x0c);
    pub const NEWDECIMAL: ColumnType = ColumnType(0xf6);
    /// MySQL's type for a user variable set to NULL.
    pub const MEDIUM_BLOB: ColumnType = ColumnType(0xfa);
    /// MariaDB's type for BINLOG_GTID_POS(), and a string user variable's.
    pub const LONG_BLOB: ColumnType = ColumnType(0xfb);
    /// A TEXT or BLOB of any size (information_schema's LONGTEXT columns).
    pub const BLOB: ColumnType = ColumnType(0xfc);
    pub const VAR_STRING: ColumnType = ColumnType(0xfd);
    /// A fixed-length CHAR.
    pub const STRING: ColumnType = ColumnType(0xfe);

    /// Numbers: binary collation, right-aligned by the `mysql` client, and read
    /// as integers by client libraries (pymysql, Connector/J).
    pub fn is_integer(self) -> bool {
        self == Self::LONG || self == Self::LONGLONG
    }
}

/// A column's definition as binlogd sends it: a name and a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
}

impl Column {
    pub fn text(name: impl Into<String>) -> Column {
        Column { name: name.into(), ty: ColumnType::VAR_STRING }
    }

    pub fn typed(name: impl Into<String>, ty: ColumnType) -> Column {
        Column { name: name.into(), ty }
    }
}

/// What a ColumnDefinition41 packet says: the name, the type and the flags.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_column_definition.html>
pub fn column_def(p: &[u8]) -> Result<(String, ColumnType, u16), Error> {
    let mut r = Reader::new(p);
    for what in ["catalog", "schema", "table", "org_table"] {
        r.lenenc_bytes(what)?;
    }
    let name = String::from_utf8_lossy(r.lenenc_bytes("column name")?).into_owned();
    r.lenenc_bytes("org_name")?;
    r.lenenc("fixed fields length")?;
    r.u16("character set")?;
    r.u32("column length")?;
    let ty = ColumnType(r.u8("type")?);
    let flags = r.u16("flags")?;
    Ok((name, ty, flags))
}

/// The text columns' character set binlogd's column definitions carry until the
/// session names its own (`text_charset`): utf8_general_ci, the metadata's.
pub const TEXT_CHARSET: u16 = 33;

/// Gives a result set's text columns the collation `id`: a server marks each string
/// column with the session's result character set (63 for `SET NAMES binary`, where
/// clients such as pymysql then return bytes). `answer` is a statement's packets;
/// those of an OK, an ERR or a head cut short are left as they are.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_column_definition.html>
pub fn text_charset(answer: &mut [Vec<u8>], id: u16) {
    use super::buf::Reader;
    let Some(first) = answer.first().filter(|p| !matches!(p.first(), Some(0x00 | 0xfe | 0xff) | None)) else {
        return;
    };
    let Ok(n) = Reader::new(first).lenenc("column count") else { return };
    for def in answer.iter_mut().skip(1).take(usize::try_from(n).unwrap_or(0)) {
        let mut r = Reader::new(def);
        let at = (|| {
            for what in ["catalog", "schema", "table", "org_table", "name", "org_name"] {
                r.lenenc_bytes(what)?;
            }
            r.lenenc("fixed fields length")?;
            Ok::<usize, Error>(r.pos())
        })();
        if let Ok(at) = at {
            if let Some(cs) = def.get_mut(at..at + 2).filter(|cs| u16::from_le_bytes([cs[0], cs[1]]) == TEXT_CHARSET) {
                cs.copy_from_slice(&id.to_le_bytes());
            }
        }
    }
}

/// Encodes a text result set: column count, column definitions, EOF, rows, EOF.
/// Every column is a VAR_STRING, which the `mysql` client prints as a table.
pub fn encode(columns: &[String], rows: &[Vec<Option<String>>]) -> Vec<Vec<u8>> {
    let cols: Vec<Column> = columns.iter().map(Column::text).collect();
    encode_typed(&cols, rows)
}

/// `encode` with each column's type given.
pub fn encode_typed(columns: &[Column], rows: &[Vec<Option<String>>]) -> Vec<Vec<u8>> {
    let mut out = head_typed(columns);
    out.extend(rows.iter().map(|r| row(r)));
    out.push(EOF.to_vec());
    out
}

/// The EOF packet after the column definitions and after the last row.
pub const EOF: [u8; 5] = [0xfe, 0, 0, 0x02, 0];

/// SERVER_MORE_RESULTS_EXISTS: another statement's answer follows this one.
pub const SERVER_MORE_RESULTS_EXISTS: u16 = 0x0008;

/// Where the status flags of the packet that ends an answer (an OK, or a result set's
/// EOF) are; the warning count follows them. None for any other packet.
fn status_at(p: &[u8]) -> Option<usize> {
    // A length-encoded integer's size from its first byte.
    let lenenc = |at: usize| match p.get(at) {
        Some(0..=0xfa) => Some(1),
        Some(0xfc) => Some(3),
        Some(0xfd) => Some(4),
        Some(0xfe) => Some(9),
        _ => None,
    };
    match p.first() {
        Some(0xfe) if p.len() < 9 => Some(3),
        // affected rows, last insert id, then the status flags.
        Some(0x00) => lenenc(1).and_then(|a| lenenc(1 + a).map(|b| 1 + a + b)),
        _ => None,
    }
}

/// Sets the warning count of the packet that ends an answer (an OK, or a result set's
/// last EOF): what the statement's conditions number, as the client's "1 warning"
/// and `warning_count` read it. Any other packet is left as it is.
pub fn set_warning_count(p: &mut [u8], n: u16) {
    // An EOF's count comes before its status flags, an OK's after them.
    let at = match p.first() {
        Some(0xfe) => status_at(p).map(|_| 1),
        _ => status_at(p).map(|s| s + 2),
    };
    if let Some(f) = at.and_then(|i| p.get_mut(i..i + 2)) {
        f.copy_from_slice(&n.to_le_bytes());
    }
}

/// Marks the packet that ends an answer (an OK, or a result set's last EOF) as followed
/// by another answer: SERVER_MORE_RESULTS_EXISTS in its status flags. Any other packet
/// is left as it is. <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html>
pub fn set_more_results(p: &mut [u8]) {
    if let Some(f) = status_at(p).and_then(|i| p.get_mut(i..i + 2)) {
        let v = u16::from_le_bytes([f[0], f[1]]) | SERVER_MORE_RESULTS_EXISTS;
        f.copy_from_slice(&v.to_le_bytes());
    }
}

/// The packets before the rows: column count, column definitions, EOF; for a result
/// sent a row at a time.
pub fn head(columns: &[String]) -> Vec<Vec<u8>> {
    let cols: Vec<Column> = columns.iter().map(Column::text).collect();
    head_typed(&cols)
}

/// `head` with each column's type given.
pub fn head_typed(columns: &[Column]) -> Vec<Vec<u8>> {
    use super::buf::Put;
    /// Column flags: NOT_NULL, UNSIGNED, BINARY, NUM (include/mysql_com.h).
    const NUMBER_FLAGS: u16 = 0x0001 | 0x0020 | 0x0080 | 0x8000;
    let mut out = Vec::with_capacity(columns.len() + 2);
    let mut p = Vec::new();
    p.put_lenenc(columns.len() as u64);
    out.push(p);
    for c in columns {
        let mut d = Vec::new();
        for s in ["def", "", "", ""] {
            d.put_lenenc_bytes(s.as_bytes());
        }
        d.put_lenenc_bytes(c.name.as_bytes());
        d.put_lenenc_bytes(c.name.as_bytes());
        d.push(0x0c);
        // Character set (63 is binary), display length, flags: as mysqld sends them.
        let (charset, len, flags) = match c.ty {
            ColumnType::LONGLONG => (63, 20, NUMBER_FLAGS),
            ColumnType::LONG => (63, 10, NUMBER_FLAGS),
            ColumnType::DATETIME => (63, 19, 0x0080),
            ColumnType::DOUBLE => (63, 22, 0x0080 | 0x8000),
            ColumnType::NEWDECIMAL => (63, 20, 0x0080 | 0x8000),
            _ => (TEXT_CHARSET, 1024, 0),
        };
        d.put_u16(charset);
        d.put_u32(len);
        d.push(c.ty.0);
        d.put_u16(flags);
        d.push(0);
        d.put_u16(0);
        out.push(d);
    }
    out.push(EOF.to_vec());
    out
}

/// One row: each value length-encoded, NULL as 0xfb.
pub fn row(values: &[Option<String>]) -> Vec<u8> {
    use super::buf::Put;
    let mut d = Vec::new();
    for v in values {
        match v {
            Some(s) => d.put_lenenc_bytes(s.as_bytes()),
            None => d.push(0xfb),
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::buf::Put;

    #[test]
    fn an_answers_end_is_marked_as_followed_by_more() {
        let mut eof = EOF.to_vec();
        set_more_results(&mut eof);
        assert_eq!(eof, [0xfe, 0, 0, 0x0a, 0]);
        // OK: affected rows 300 (3 bytes), last insert id 0, then the status flags.
        let mut ok = vec![0x00, 0xfc, 0x2c, 0x01, 0, 0x02, 0, 1, 0];
        set_more_results(&mut ok);
        assert_eq!(ok, [0x00, 0xfc, 0x2c, 0x01, 0, 0x0a, 0, 1, 0]);
        // Anything else (an ERR, a row, a truncated OK) is left alone.
        for p in [vec![0xff, 0x51, 0x04], vec![0x01, 0x31], vec![0x00, 0xfd, 1], vec![]] {
            let mut q = p.clone();
            set_more_results(&mut q);
            assert_eq!(q, p);
        }
    }

    #[test]
    fn an_answers_end_carries_its_warning_count() {
        let mut eof = EOF.to_vec();
        set_warning_count(&mut eof, 2);
        assert_eq!(eof, [0xfe, 2, 0, 0x02, 0]);
        let mut ok = vec![0x00, 0xfc, 0x2c, 0x01, 0, 0x02, 0, 0, 0];
        set_warning_count(&mut ok, 1);
        assert_eq!(ok, [0x00, 0xfc, 0x2c, 0x01, 0, 0x02, 0, 1, 0]);
        for p in [vec![0xff, 0x51, 0x04], vec![0x01, 0x31], vec![0x00, 0, 0, 2], vec![]] {
            let mut q = p.clone();
            set_warning_count(&mut q, 3);
            assert_eq!(q, p);
        }
    }

    fn coldef(name: &str) -> Vec<u8> {
        let mut p = Vec::new();
        for s in ["def", "", "", "", name, name] {
            p.put_lenenc_bytes(s.as_bytes());
        }
        p.extend_from_slice(&[0x0c, 33, 0, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0]);
        p
    }

    #[test]
    fn text_columns_take_the_sessions_collation_and_numbers_keep_theirs() {
        let mut answer =
            encode_typed(&[Column::text("v"), Column::typed("n", ColumnType::LONGLONG)], &[vec![None, None]]);
        let rows = answer[4..].to_vec();
        text_charset(&mut answer, 63);
        assert_eq!(column_def(&answer[1]).map(|c| c.0).ok().as_deref(), Some("v"));
        let cs = |p: &[u8]| {
            let at = p.len() - 12;
            u16::from_le_bytes([p[at], p[at + 1]])
        };
        assert_eq!((cs(&answer[1]), cs(&answer[2])), (63, 63), "the number column was 63 already");
        assert_eq!(answer[4..], rows[..], "rows are left alone");
        let mut text = encode_typed(&[Column::text("v")], &[]);
        text_charset(&mut text, 255);
        assert_eq!(cs(&text[1]), 255);
        // An OK, an ERR, a cut column definition: left as they are.
        for p in [vec![vec![0x00, 0, 0, 2, 0]], vec![vec![0xff, 1, 2]], vec![vec![1], vec![3, b'd']], vec![]] {
            let mut q = p.clone();
            text_charset(&mut q, 8);
            assert_eq!(q, p);
        }
    }

    #[test]
    fn reads_rows_with_nulls_and_eof() {
        let mut row = Vec::new();
        row.put_lenenc_bytes(b"server_id");
        row.push(0xfb);
        let packets = vec![vec![2], coldef("a"), coldef("b"), vec![0xfe, 0, 0, 2, 0], row, vec![0xfe, 0, 0, 2, 0]];
        let mut it = packets.into_iter();
        let rs = read_result(|| it.next().ok_or_else(|| Error::malformed("eof"))).unwrap();
        assert_eq!(rs.columns, vec!["a", "b"]);
        assert_eq!(rs.rows, vec![vec![Some("server_id".to_string()), None]]);
    }

    #[test]
    fn rejects_local_infile_request_and_garbage() {
        let mut it = vec![vec![0xfb, b'/', b'e']].into_iter();
        assert!(matches!(read_result(|| Ok(it.next().unwrap_or_default())), Err(Error::Unsupported { .. })));
        let mut it = vec![vec![1], vec![0xfc]].into_iter();
        assert!(read_result(|| it.next().ok_or_else(|| Error::malformed("end"))).is_err());
    }
}
