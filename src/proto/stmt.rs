//! The prepared-statement commands (COM_STMT_PREPARE, COM_STMT_EXECUTE and the rest):
//! the prepare's answer, the values COM_STMT_EXECUTE binds, and the binary rows of its
//! result. Pure: bytes in, bytes out.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase_ps.html>,
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_binary_resultset.html>

use super::buf::{Put, Reader};
use super::resultset::{is_eof, ColumnType};
use super::Error;

pub const COM_STMT_PREPARE: u8 = 0x16;
pub const COM_STMT_EXECUTE: u8 = 0x17;
/// A parameter's value in pieces, before the execute that binds it; never answered.
pub const COM_STMT_SEND_LONG_DATA: u8 = 0x18;
/// Never answered.
pub const COM_STMT_CLOSE: u8 = 0x19;
pub const COM_STMT_RESET: u8 = 0x1a;
pub const COM_STMT_FETCH: u8 = 0x1c;
/// MariaDB's execute of a statement for many rows of values (INSERT and the like).
pub const COM_STMT_BULK_EXECUTE: u8 = 0xfa;

/// COM_STMT_PREPARE_OK: the statement's id, its result's columns (as known when it is
/// prepared) and its parameters, and the prepare's warning count; with
/// CLIENT_OPTIONAL_RESULTSET_METADATA, whether the definitions follow (`metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrepareOk {
    pub id: u32,
    pub columns: u16,
    pub params: u16,
    pub warnings: u16,
    pub metadata: Option<bool>,
}

impl PrepareOk {
    pub fn encode(&self) -> Vec<u8> {
        let mut p = vec![0x00];
        p.put_u32(self.id);
        p.put_u16(self.columns);
        p.put_u16(self.params);
        p.push(0);
        p.put_u16(self.warnings);
        if let Some(full) = self.metadata {
            p.push(u8::from(full));
        }
        p
    }
}

/// The statement id every COM_STMT_* command but PREPARE begins with.
pub fn statement_id(p: &[u8]) -> Result<u32, Error> {
    Ok(Reader::new(p.get(1..).unwrap_or_default()).u32("statement_id")?)
}

/// A value in the binary protocol of a parameter (a COM_STMT_EXECUTE's or a query
/// attribute) of type `ty`: its bytes, without a length, as mysqld's
/// `get_ps_param_len` reads them. Fixed sizes for the integers and floats; a one-byte
/// length for the times; a length-encoded string for any other type, a length beyond
/// what is left (or 0xFB) taking the rest. None where mysqld finds it malformed: a
/// fixed size or a length header cut short, or a length headed 0xFF.
pub fn binary_value<'a>(r: &mut Reader<'a>, ty: u8) -> Option<&'a [u8]> {
    let fixed = match ColumnType(ty) {
        ColumnType::TINY => Some(1),
        ColumnType::SHORT => Some(2),
        ColumnType::LONG | ColumnType::FLOAT => Some(4),
        ColumnType::DOUBLE | ColumnType::LONGLONG => Some(8),
        _ => None,
    };
    if let Some(n) = fixed {
        return r.bytes(n, "parameter value").ok();
    }
    if matches!(ColumnType(ty), ColumnType::TIMESTAMP | ColumnType::DATE | ColumnType::TIME | ColumnType::DATETIME) {
        let n = r.u8("parameter value length").ok()?;
        return r.bytes(usize::from(n), "parameter value").ok();
    }
    let n = match r.peek()? {
        0xfb => {
            r.skip(1, "parameter value length").ok()?;
            u64::MAX
        }
        0xff => return None,
        _ => r.lenenc("parameter value length").ok()?,
    };
    let n = usize::try_from(n).unwrap_or(usize::MAX).min(r.remaining());
    r.bytes(n, "parameter value").ok()
}

/// A bound parameter, as the statement's text is to hold it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    UInt(u64),
    Double(f64),
    /// A string, a decimal, bytes: whatever is sent as a length-encoded string.
    Text(Vec<u8>),
    /// A date or a date and time: year, month, day, hour, minute, second, microsecond.
    DateTime([u32; 7]),
    /// A time: negative, days, hours, minutes, seconds, microseconds.
    Time(bool, [u32; 5]),
}

impl Value {
    /// The value of type `ty` (its high byte the unsigned flag) from its bytes.
    pub fn decode(ty: u16, b: &[u8]) -> Value {
        let unsigned = ty & 0x8000 != 0;
        let le = |n: usize| b.iter().take(n).rev().fold(0u64, |a, &x| (a << 8) | u64::from(x));
        let int = |n: usize| {
            let v = le(n);
            if unsigned {
                Value::UInt(v)
            } else {
                let shift = 64 - 8 * n as u32;
                Value::Int(((v << shift) as i64) >> shift)
            }
        };
        match ColumnType(ty as u8) {
            ColumnType::TINY => int(1),
            ColumnType::SHORT => int(2),
            ColumnType::LONG => int(4),
            ColumnType::LONGLONG => int(8),
            ColumnType::FLOAT => Value::Double(f64::from(f32::from_bits(le(4) as u32))),
            ColumnType::DOUBLE => Value::Double(f64::from_bits(le(8))),
            ColumnType::TIMESTAMP | ColumnType::DATE | ColumnType::DATETIME => {
                let at = |i: usize| u32::from(b.get(i).copied().unwrap_or(0));
                let micro = b.get(7..11).map_or(0, |m| u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
                Value::DateTime([at(0) | at(1) << 8, at(2), at(3), at(4), at(5), at(6), micro])
            }
            ColumnType::TIME => {
                let at = |i: usize| u32::from(b.get(i).copied().unwrap_or(0));
                let days = b.get(1..5).map_or(0, |d| u32::from_le_bytes([d[0], d[1], d[2], d[3]]));
                let micro = b.get(8..12).map_or(0, |m| u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
                Value::Time(at(0) != 0, [days, at(5), at(6), at(7), micro])
            }
            _ => Value::Text(b.to_vec()),
        }
    }

    /// What kind of value it is, as a prepare types a parameter: 0 for a string or
    /// NULL (what a placeholder is taken for), else the type it is sent as.
    pub fn kind(&self) -> u8 {
        match self {
            Value::Null | Value::Text(_) => 0,
            Value::Int(_) | Value::UInt(_) => ColumnType::LONGLONG.0,
            Value::Double(_) => ColumnType::DOUBLE.0,
            Value::DateTime(_) => ColumnType::DATETIME.0,
            Value::Time(..) => ColumnType::TIME.0,
        }
    }

    /// The value as a literal of the statement's text: NULL, a number, or a quoted
    /// string (its quotes doubled; bytes that are not UTF-8 as U+FFFD).
    pub fn literal(&self) -> String {
        let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
        match self {
            Value::Null => "NULL".into(),
            Value::Int(v) => v.to_string(),
            Value::UInt(v) => v.to_string(),
            // With an exponent: a DOUBLE literal, as the value was bound.
            Value::Double(v) if v.is_finite() => format!("{v:e}"),
            Value::Double(_) => "NULL".into(),
            Value::Text(b) => quoted(&String::from_utf8_lossy(b)),
            Value::DateTime([y, mo, d, h, mi, s, us]) => {
                let frac = if *us > 0 { format!(".{us:06}") } else { String::new() };
                quoted(&format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{frac}"))
            }
            Value::Time(neg, [days, h, mi, s, us]) => {
                let frac = if *us > 0 { format!(".{us:06}") } else { String::new() };
                let hours = u64::from(*days) * 24 + u64::from(*h);
                quoted(&format!("{}{hours:02}:{mi:02}:{s:02}{frac}", if *neg { "-" } else { "" }))
            }
        }
    }
}

/// COM_STMT_EXECUTE's parameters for a statement of `count` of them: the flags byte
/// (a cursor asked for), then each value. `types` holds the types the last execute
/// bound, which an execute that sends none (its bind flag 0) reuses, and is updated;
/// `long` the values sent by COM_STMT_SEND_LONG_DATA, which stand in for theirs. A
/// session with CLIENT_QUERY_ATTRIBUTES (`attributes`) sends how many values follow
/// (the parameters, then query attributes, which no statement binlogd answers reads)
/// and each one's name after its type.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_execute.html>
pub fn execute_params(
    p: &[u8],
    count: usize,
    attributes: bool,
    types: &mut Vec<u16>,
    long: &[Option<Vec<u8>>],
) -> Result<(u8, Vec<Value>), Error> {
    let malformed = || Error::Malformed { what: "COM_STMT_EXECUTE's parameters".into() };
    let mut r = Reader::new(p.get(1..).unwrap_or_default());
    r.u32("statement_id")?;
    let flags = r.u8("flags")?;
    r.u32("iteration_count")?;
    // PARAMETER_COUNT_AVAILABLE: a count comes though the statement has no parameters.
    let mut sent = count;
    if attributes && (count > 0 || flags & 0x08 != 0) {
        sent = usize::try_from(r.lenenc("parameter_count")?).map_err(|_| malformed())?;
        if sent < count {
            return Err(malformed());
        }
    }
    if sent == 0 {
        return Ok((flags, Vec::new()));
    }
    let nulls = r.bytes(sent.div_ceil(8), "null_bitmap")?;
    if r.u8("new_params_bind_flag")? != 0 {
        types.clear();
        for _ in 0..sent.min(r.remaining()) {
            types.push(r.u16("parameter_type")?);
            if attributes {
                r.lenenc_bytes("parameter_name")?;
            }
        }
    }
    if types.len() != sent {
        return Err(malformed());
    }
    let mut values = Vec::with_capacity(count);
    for (i, &ty) in types.iter().enumerate() {
        let value = if nulls.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0) {
            Value::Null
        } else if let Some(Some(data)) = long.get(i) {
            Value::Text(data.clone())
        } else {
            let b = binary_value(&mut r, ty as u8).ok_or_else(malformed)?;
            Value::decode(ty, b)
        };
        if i < count {
            values.push(value);
        }
    }
    Ok((flags, values))
}

/// Turns a text result's rows into the binary protocol's, as COM_STMT_EXECUTE's
/// result carries them: a 0x00 header, a bitmap of the NULLs (offset by 2), then each
/// value by its column's type. The column count, definitions, EOFs, OKs and ERRs pass
/// as they are. One per statement's answer, which may come in several batches.
#[derive(Debug, Default)]
pub struct BinaryRows {
    /// Each column's type and whether it is unsigned, once the definitions are read.
    columns: Vec<(ColumnType, bool)>,
    /// Definitions still to come.
    pending: usize,
    rows: bool,
}

impl BinaryRows {
    pub fn convert(&mut self, packets: &mut [Vec<u8>]) {
        for p in packets.iter_mut() {
            if self.rows {
                if is_eof(p) || p.first() == Some(&0xff) {
                    self.rows = false;
                } else {
                    *p = binary_row(p, &self.columns);
                }
                continue;
            }
            if self.pending > 0 {
                self.pending -= 1;
                self.columns.push(column_type(p));
                continue;
            }
            if !self.columns.is_empty() || matches!(p.first(), Some(0x00 | 0xff) | None) {
                // The EOF after the definitions: rows follow.
                self.rows = is_eof(p) && !self.columns.is_empty();
                continue;
            }
            if !is_eof(p) {
                let n = Reader::new(p).lenenc("column count").unwrap_or(0);
                self.pending = usize::try_from(n).unwrap_or(0).min(4096);
            }
        }
    }
}

/// A column definition's type and UNSIGNED flag.
fn column_type(def: &[u8]) -> (ColumnType, bool) {
    match super::resultset::column_def(def) {
        Ok((_, d)) => (d.ty, d.flags & super::resultset::flags::UNSIGNED != 0),
        Err(_) => (ColumnType::VAR_STRING, false),
    }
}

/// A text row as a binary one.
fn binary_row(text: &[u8], columns: &[(ColumnType, bool)]) -> Vec<u8> {
    let mut r = Reader::new(text);
    let mut nulls = vec![0u8; (columns.len() + 9) / 8];
    let mut values = Vec::with_capacity(text.len() + 8);
    for (i, &(ty, unsigned)) in columns.iter().enumerate() {
        let v = if r.peek() == Some(0xfb) {
            let _ = r.u8("NULL");
            None
        } else {
            r.lenenc_bytes("value").ok()
        };
        let Some(v) = v.filter(|_| ty != ColumnType::NULL) else {
            nulls[(i + 2) / 8] |= 1 << ((i + 2) % 8);
            continue;
        };
        put_binary(&mut values, ty, unsigned, v);
    }
    let mut out = Vec::with_capacity(1 + nulls.len() + values.len());
    out.push(0x00);
    out.extend_from_slice(&nulls);
    out.extend_from_slice(&values);
    out
}

/// One value of a text row, `v`, in the binary protocol for a column of type `ty`.
fn put_binary(out: &mut Vec<u8>, ty: ColumnType, unsigned: bool, v: &[u8]) {
    let text = std::str::from_utf8(v).unwrap_or_default().trim();
    let int = |n: usize, out: &mut Vec<u8>| {
        let bits = if unsigned { text.parse::<u64>().unwrap_or(0) } else { text.parse::<i64>().unwrap_or(0) as u64 };
        out.extend_from_slice(&bits.to_le_bytes()[..n]);
    };
    match ty {
        ColumnType::TINY => int(1, out),
        ColumnType::SHORT | ColumnType::YEAR => int(2, out),
        ColumnType::LONG | ColumnType::INT24 => int(4, out),
        ColumnType::LONGLONG => int(8, out),
        ColumnType::FLOAT => out.extend_from_slice(&text.parse::<f32>().unwrap_or(0.0).to_le_bytes()),
        ColumnType::DOUBLE => out.extend_from_slice(&text.parse::<f64>().unwrap_or(0.0).to_le_bytes()),
        ColumnType::DATE | ColumnType::DATETIME | ColumnType::TIMESTAMP => put_datetime(out, text),
        ColumnType::TIME => put_time(out, text),
        _ => out.put_lenenc_bytes(v),
    }
}

/// The numbers of `t` split at any of `seps`; a fraction's digits as microseconds.
fn fields(t: &str, seps: &[char]) -> Vec<u32> {
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let mut v: Vec<u32> = whole.split(|c| seps.contains(&c)).map(|x| x.parse().unwrap_or(0)).collect();
    let digits: String = frac.chars().take(6).collect();
    v.push(if digits.is_empty() { 0 } else { format!("{digits:0<6}").parse().unwrap_or(0) });
    v
}

/// `YYYY-MM-DD[ HH:MM:SS[.ffffff]]`: the length (0, 4, 7 or 11), then what is not zero.
fn put_datetime(out: &mut Vec<u8>, t: &str) {
    let f = fields(t, &['-', ' ', ':']);
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    let (micro, time) = (at(f.len().saturating_sub(1)), (at(3), at(4), at(5)));
    let len: u8 = if micro > 0 {
        11
    } else if time != (0, 0, 0) {
        7
    } else if (at(0), at(1), at(2)) != (0, 0, 0) {
        4
    } else {
        0
    };
    out.push(len);
    if len >= 4 {
        out.put_u16(at(0) as u16);
        out.push(at(1) as u8);
        out.push(at(2) as u8);
    }
    if len >= 7 {
        out.extend_from_slice(&[time.0 as u8, time.1 as u8, time.2 as u8]);
    }
    if len == 11 {
        out.put_u32(micro);
    }
}

/// `[-]HHH:MM:SS[.ffffff]`: the length (0, 8 or 12), the sign, the days, then the rest.
fn put_time(out: &mut Vec<u8>, t: &str) {
    let (neg, t) = t.strip_prefix('-').map_or((false, t), |r| (true, r));
    let f = fields(t, &[':']);
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    let (hours, micro) = (at(0), at(3));
    if (hours, at(1), at(2), micro) == (0, 0, 0, 0) {
        out.push(0);
        return;
    }
    out.push(if micro > 0 { 12 } else { 8 });
    out.push(u8::from(neg));
    out.put_u32(hours / 24);
    out.extend_from_slice(&[(hours % 24) as u8, at(1) as u8, at(2) as u8]);
    if micro > 0 {
        out.put_u32(micro);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::resultset::{encode_typed, Column};

    #[test]
    fn a_text_result_becomes_the_binary_rows_mysqld_sends() {
        // MySQL 9.7's answer to an executed `SELECT 1, @@version_compile_os, NULL, 1.5`
        // and `SELECT ?` bound to 5 and `NOW()`: the rows after the same head.
        let cols = [
            Column::number("1", ColumnType::LONGLONG, 2, false),
            Column::text("@@version_compile_os", 5),
            Column::typed("NULL", ColumnType::NULL),
            Column::typed("1.5", ColumnType::NEWDECIMAL),
            Column::typed("NOW()", ColumnType::DATETIME),
        ];
        let text = vec![
            Some("1".to_string()),
            Some("Linux".into()),
            None,
            Some("1.5".into()),
            Some("2026-12-07 03:55:24".into()),
        ];
        let mut packets = encode_typed(&cols, &[text]);
        let head = packets[..7].to_vec();
        BinaryRows::default().convert(&mut packets);
        assert_eq!(packets[..7], head[..], "the head is left as it is");
        let row = &packets[7];
        assert_eq!(row[..2], [0x00, 0x10], "the NULL's bit is its index plus 2");
        assert_eq!(
            row[2..],
            [&[1, 0, 0, 0, 0, 0, 0, 0][..], b"\x05Linux", b"\x031.5", &[7, 0xea, 0x07, 12, 7, 3, 55, 24]].concat()[..]
        );
        assert!(is_eof(&packets[8]));
    }

    #[test]
    fn times_take_the_shortest_form() {
        let dt = |t: &str| {
            let mut o = Vec::new();
            put_datetime(&mut o, t);
            o
        };
        assert_eq!(dt("0000-00-00 00:00:00"), [0]);
        assert_eq!(dt("2010-10-17"), [4, 0xda, 0x07, 10, 17]);
        assert_eq!(dt("2010-10-17 19:27:30.000001"), [11, 0xda, 0x07, 10, 17, 19, 27, 30, 1, 0, 0, 0]);
        let tm = |t: &str| {
            let mut o = Vec::new();
            put_time(&mut o, t);
            o
        };
        assert_eq!(tm("00:00:00"), [0]);
        assert_eq!(tm("-2899:27:30"), [8, 1, 120, 0, 0, 0, 19, 27, 30]);
    }

    #[test]
    fn execute_binds_each_type_and_reuses_the_last_types() {
        // Four parameters: 5 (LONGLONG), 'ab' (STRING), NULL, 2026-01-02 03:04:05 (DATETIME).
        let mut p = vec![COM_STMT_EXECUTE, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0b0100, 1];
        p.extend_from_slice(&[8, 0, 0xfe, 0, 6, 0, 12, 0]);
        p.extend_from_slice(&5i64.to_le_bytes());
        p.extend_from_slice(b"\x02ab\x07\xea\x07\x01\x02\x03\x04\x05");
        assert_eq!(statement_id(&p).unwrap(), 9);
        let mut types = Vec::new();
        let (flags, v) = execute_params(&p, 4, false, &mut types, &[]).unwrap();
        assert_eq!(flags, 0);
        assert_eq!(
            v,
            [Value::Int(5), Value::Text(b"ab".to_vec()), Value::Null, Value::DateTime([2026, 1, 2, 3, 4, 5, 0])]
        );
        let lits: Vec<String> = v.iter().map(Value::literal).collect();
        assert_eq!(lits, ["5", "'ab'", "NULL", "'2026-01-02 03:04:05'"]);
        // The next execute sends no types (bind flag 0): the last ones hold; a long
        // value stands in for the second.
        let mut q = vec![COM_STMT_EXECUTE, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0b0100, 0];
        q.extend_from_slice(&(-1i64).to_le_bytes());
        q.extend_from_slice(b"\x07\xea\x07\x01\x02\x03\x04\x05");
        let long = [None, Some(b"it's".to_vec())];
        let (_, v) = execute_params(&q, 4, false, &mut types, &long).unwrap();
        assert_eq!(v[..2], [Value::Int(-1), Value::Text(b"it's".to_vec())]);
        assert_eq!(v[1].literal(), "'it''s'");
        // Cut anywhere: an error, never a panic.
        for n in 0..p.len() {
            let _ = execute_params(&p[..n], 4, false, &mut Vec::new(), &[]);
            let _ = execute_params(&p[..n], 4, true, &mut Vec::new(), &[]);
        }
        assert!(execute_params(&q, 4, false, &mut Vec::new(), &[]).is_err(), "no types known");
        // With query attributes, as Connector/Python 9.7 sends `SELECT ?` bound to 5 and
        // a statement of none: a count, then a name after each type.
        let a = [&[COM_STMT_EXECUTE, 9, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0][..], &[5]].concat();
        assert_eq!(execute_params(&a, 1, true, &mut Vec::new(), &[]).unwrap().1, [Value::Int(5)]);
        let none = [COM_STMT_EXECUTE, 9, 0, 0, 0, 0x08, 1, 0, 0, 0, 0];
        assert_eq!(execute_params(&none, 0, true, &mut Vec::new(), &[]).unwrap().1, []);
        let fewer = [COM_STMT_EXECUTE, 9, 0, 0, 0, 0x08, 1, 0, 0, 0, 0];
        assert!(execute_params(&fewer, 1, true, &mut Vec::new(), &[]).is_err());
        assert_eq!(Value::decode(0x8001, &[0xff]), Value::UInt(255));
        assert_eq!(Value::decode(0x0001, &[0xff]), Value::Int(-1));
        assert_eq!(Value::Time(true, [1, 2, 3, 4, 0]).literal(), "'-26:03:04'");
        assert_eq!(
            PrepareOk { id: 1, columns: 1, params: 1, warnings: 0, metadata: None }.encode(),
            [0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0]
        );
    }
}
