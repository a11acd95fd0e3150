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

/// Encodes a text result set: column count, column definitions, EOF, rows, EOF.
/// Every column is a VAR_STRING, which the `mysql` client prints as a table.
pub fn encode(columns: &[String], rows: &[Vec<Option<String>>]) -> Vec<Vec<u8>> {
    let mut out = head(columns);
    out.extend(rows.iter().map(|r| row(r)));
    out.push(EOF.to_vec());
    out
}

/// The EOF packet after the column definitions and after the last row.
pub const EOF: [u8; 5] = [0xfe, 0, 0, 0x02, 0];

/// The packets before the rows: column count, column definitions, EOF; for a result
/// sent a row at a time.
pub fn head(columns: &[String]) -> Vec<Vec<u8>> {
    use super::buf::Put;
    let mut out = Vec::with_capacity(columns.len() + 2);
    let mut p = Vec::new();
    p.put_lenenc(columns.len() as u64);
    out.push(p);
    for c in columns {
        let mut d = Vec::new();
        for s in ["def", "", "", ""] {
            d.put_lenenc_bytes(s.as_bytes());
        }
        d.put_lenenc_bytes(c.as_bytes());
        d.put_lenenc_bytes(c.as_bytes());
        d.push(0x0c);
        d.put_u16(33); // utf8_general_ci
        d.put_u32(1024);
        d.push(0xfd); // VAR_STRING
        d.put_u16(0);
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

    fn coldef(name: &str) -> Vec<u8> {
        let mut p = Vec::new();
        for s in ["def", "", "", "", name, name] {
            p.put_lenenc_bytes(s.as_bytes());
        }
        p.extend_from_slice(&[0x0c, 33, 0, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0]);
        p
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
