//! Text-protocol result sets (the reply to COM_QUERY).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset.html>

use super::buf::{Put, Reader};
use super::Error;

/// A query's result: rows of nullable text values, with column names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultSet {
    pub columns: Vec<String>,
    /// What each column's definition says of its values, in the same order.
    pub shapes: Vec<Shape>,
    /// Each column's definition as sent.
    pub defs: Vec<Vec<u8>>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// The fixed fields of a column definition, after its names (`column_def`): what binlogd
/// reads of the primary's answers (the types of its system variables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub ty: ColumnType,
    pub flags: u16,
    /// Its display width, or for text its bytes.
    pub length: u32,
    pub decimals: u8,
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
        let def = next()?;
        let (name, shape) = column_def(&def)?;
        rs.columns.push(name);
        rs.shapes.push(shape);
        rs.defs.push(def);
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
    pub const TINY: ColumnType = ColumnType(0x01);
    pub const SHORT: ColumnType = ColumnType(0x02);
    pub const LONG: ColumnType = ColumnType(0x03);
    pub const FLOAT: ColumnType = ColumnType(0x04);
    pub const DOUBLE: ColumnType = ColumnType(0x05);
    /// MariaDB 11.7+'s type for NOW().
    pub const TIMESTAMP: ColumnType = ColumnType(0x07);
    pub const LONGLONG: ColumnType = ColumnType(0x08);
    pub const INT24: ColumnType = ColumnType(0x09);
    pub const DATE: ColumnType = ColumnType(0x0a);
    pub const TIME: ColumnType = ColumnType(0x0b);
    pub const DATETIME: ColumnType = ColumnType(0x0c);
    pub const YEAR: ColumnType = ColumnType(0x0d);
    /// A parameter's type as MariaDB Connector/J binds a string; a column of it is sent
    /// as VAR_STRING.
    pub const VARCHAR: ColumnType = ColumnType(0x0f);
    /// The type of a NULL literal.
    pub const NULL: ColumnType = ColumnType(0x06);
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
    /// as numbers by client libraries (pymysql, Connector/J).
    pub fn is_number(self) -> bool {
        matches!(self, Self::SHORT | Self::LONG | Self::FLOAT | Self::LONGLONG | Self::DOUBLE | Self::NEWDECIMAL)
    }

    /// TEXT and BLOB of each size: their width is in bytes.
    pub fn is_blob(self) -> bool {
        (0xf9..=0xfc).contains(&self.0)
    }
}

/// Column flags (include/mysql_com.h): what a column definition says of its values.
pub mod flags {
    pub const NOT_NULL: u16 = 0x0001;
    /// Part of the table's primary key (performance_schema's variables tables).
    pub const PRI_KEY: u16 = 0x0002;
    pub const BLOB: u16 = 0x0010;
    pub const UNSIGNED: u16 = 0x0020;
    pub const BINARY: u16 = 0x0080;
    /// A table's column declared without a default (information_schema's).
    pub const NO_DEFAULT_VALUE: u16 = 0x1000;
    /// Part of some key.
    pub const PART_KEY: u16 = 0x4000;
}

/// The decimals of a column that has no fixed number of them (text, most expressions):
/// MySQL's DECIMAL_NOT_SPECIFIED; `for_session` gives MariaDB's NOT_FIXED_DEC (39).
pub const NOT_FIXED: u8 = 31;

/// The table a column is read from, which its definition names: information_schema's
/// and performance_schema's tables behind SHOW VARIABLES, SHOW DATABASES and the like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub schema: &'static str,
    /// The table as the statement names it, and as it is named in its schema.
    pub table: String,
    pub org_table: &'static str,
    /// The column's own name there.
    pub org_name: &'static str,
}

/// A column's definition as binlogd sends it, as mysqld declares the column it
/// stands for: a name, a type, a width, flags and decimals.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_column_definition.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    /// For text, the characters it holds (a TEXT or BLOB's bytes), sent as the
    /// session's bytes for them (`for_session`); for the rest, its display width.
    pub width: u32,
    pub flags: u16,
    pub decimals: u8,
    /// Text in the session's character set; false for bytes (binary, 63).
    pub text: bool,
    pub origin: Option<Origin>,
}

impl Column {
    /// A text column of `width` characters that is never NULL, as mysqld declares
    /// most columns of its SHOW statements.
    pub fn text(name: impl Into<String>, width: u32) -> Column {
        Column {
            name: name.into(),
            ty: ColumnType::VAR_STRING,
            width,
            flags: flags::NOT_NULL,
            decimals: NOT_FIXED,
            text: true,
            origin: None,
        }
    }

    /// A column of type `ty` with mysqld's defaults for an expression of that type:
    /// nullable, a BIGINT 21 wide, a LONG 11, text of 1024 characters.
    pub fn typed(name: impl Into<String>, ty: ColumnType) -> Column {
        let (width, decimals) = match ty {
            ColumnType::LONGLONG => (21, 0),
            ColumnType::LONG => (11, 0),
            ColumnType::DATETIME | ColumnType::TIMESTAMP => (19, 0),
            ColumnType::DOUBLE => (22, NOT_FIXED),
            ColumnType::NEWDECIMAL => (20, 0),
            ColumnType::NULL => (0, 0),
            _ => (1024, NOT_FIXED),
        };
        let text = !ty.is_number() && !matches!(ty, ColumnType::NULL | ColumnType::DATETIME | ColumnType::TIMESTAMP);
        let flags = if text { 0 } else { flags::BINARY };
        Column { name: name.into(), ty, width, flags, decimals, text, origin: None }
    }

    /// A number of type `ty` and display width `width`, never NULL; `unsigned` as
    /// positions, ids and counters are.
    pub fn number(name: impl Into<String>, ty: ColumnType, width: u32, unsigned: bool) -> Column {
        let sign = if unsigned { flags::UNSIGNED } else { 0 };
        Column { width, flags: flags::NOT_NULL | flags::BINARY | sign, ..Column::typed(name, ty) }
    }

    pub fn width(self, width: u32) -> Column {
        Column { width, ..self }
    }

    pub fn flags(self, flags: u16) -> Column {
        Column { flags, ..self }
    }

    pub fn decimals(self, decimals: u8) -> Column {
        Column { decimals, ..self }
    }

    /// Bytes rather than text: binary (63) whatever the session's character set, and
    /// flagged BINARY.
    pub fn binary(self) -> Column {
        Column { text: false, flags: self.flags | flags::BINARY, ..self }
    }

    /// Read from `origin`: named there, with no decimals unset, as a table's column.
    pub fn from_table(self, origin: Origin) -> Column {
        let decimals = if self.decimals == NOT_FIXED { 0 } else { self.decimals };
        Column { origin: Some(origin), decimals, ..self }
    }
}

/// What a ColumnDefinition41 packet says: the name and the fixed fields.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_column_definition.html>
pub fn column_def(p: &[u8]) -> Result<(String, Shape), Error> {
    let at = def_layout(p)?;
    let name = Reader::new(p.get(at.name.clone()).unwrap_or_default()).lenenc_bytes("column name")?;
    let name = String::from_utf8_lossy(name).into_owned();
    let mut r = Reader::new(p.get(at.fixed..).unwrap_or_default());
    r.u16("character set")?;
    let length = r.u32("column length")?;
    let ty = ColumnType(r.u8("type")?);
    let flags = r.u16("flags")?;
    let decimals = r.u8("decimals")?;
    Ok((name, Shape { ty, flags, length, decimals }))
}

/// Where a column definition's parts are: its name, length-encoded (`name`), the end
/// of its names (where MariaDB's extended type goes), and its fixed fields (character
/// set (2), length (4), type (1), flags (2), decimals (1)).
pub struct DefLayout {
    pub name: std::ops::Range<usize>,
    pub names_end: usize,
    pub fixed: usize,
}

/// MariaDB's extended type info of a column that has none, after the names of a
/// definition sent to a client with MARIADB_CLIENT_EXTENDED_METADATA: an empty string.
pub const EMPTY_EXTENDED_TYPE: u8 = 0;

/// Gives the definition `def` (as binlogd encodes them) MariaDB's empty extended type.
pub fn with_extended_type(def: &mut Vec<u8>) {
    if let Ok(at) = def_layout(def) {
        def.insert(at.names_end, EMPTY_EXTENDED_TYPE);
    }
}

/// The layout of the column definition `p`, as binlogd encodes them (no extended type).
pub fn def_layout(p: &[u8]) -> Result<DefLayout, Error> {
    let mut r = Reader::new(p);
    for what in ["catalog", "schema", "table", "org_table"] {
        r.lenenc_bytes(what)?;
    }
    let start = r.pos();
    r.lenenc_bytes("column name")?;
    let name = start..r.pos();
    r.lenenc_bytes("org_name")?;
    let names_end = r.pos();
    r.lenenc("fixed fields length")?;
    Ok(DefLayout { name, names_end, fixed: r.pos() })
}

/// The collation binlogd's text columns carry until `for_session` makes it the
/// session's: utf8mb3_general_ci, the metadata's.
pub const TEXT_CHARSET: u16 = 33;

/// A column definition a server sent to a connection whose results take `max_bytes`
/// a character, in binlogd's own form (`head_typed`): a text column carries
/// `TEXT_CHARSET` and its length in utf8mb3 (a TEXT's or BLOB's, its characters), so
/// that `for_session` makes it any session's as it makes binlogd's own. A server's
/// length is its characters times `max_bytes` (`Protocol_classic::send_field_metadata`).
/// None when `def` does not read as a definition.
pub fn as_own_def(def: &[u8], max_bytes: u8) -> Option<Vec<u8>> {
    let at = def_layout(def).ok()?;
    if def.get(at.fixed..)?.len() < 10 {
        return None;
    }
    let mut d = def.to_vec();
    let f = d.get_mut(at.fixed..at.fixed + 10)?;
    if u16::from_le_bytes([f[0], f[1]]) != BINARY_CHARSET {
        let len = u64::from(u32::from_le_bytes([f[2], f[3], f[4], f[5]]));
        let chars = len / u64::from(max_bytes.max(1));
        let len = if ColumnType(f[6]).is_blob() { chars } else { chars * 3 };
        f[0..2].copy_from_slice(&TEXT_CHARSET.to_le_bytes());
        f[2..6].copy_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
    }
    Some(d)
}

/// The collation of bytes, and of numbers and times.
pub const BINARY_CHARSET: u16 = 63;

/// What a session's results are sent in: the collation id its text columns carry,
/// and the most bytes a character takes in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Results {
    pub collation: u16,
    pub max_bytes: u8,
}

/// How a session takes the column definitions of its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Form {
    /// The result character set; None for `character_set_results = NULL`.
    pub results: Option<Results>,
    /// A MariaDB primary's: its "not fixed" decimals are 39.
    pub mariadb: bool,
    /// MARIADB_CLIENT_EXTENDED_METADATA: each definition carries the column's extended
    /// type after its original name, empty for every column binlogd sends (none is
    /// JSON, UUID, INET or a geometry).
    pub extended: bool,
    /// CLIENT_OPTIONAL_RESULTSET_METADATA: the column count is followed by whether the
    /// definitions follow (1, `resultset_metadata = FULL`) or not (0, `NONE`).
    pub optional: Option<bool>,
}

/// Makes binlogd's column definitions of an answer the session's, as mysqld's
/// `Protocol::send_result_set_metadata` converts each: text columns carry the result
/// collation (63 for `SET NAMES binary`, where clients such as pymysql then return
/// bytes), and a length of their characters times its bytes per character (a TEXT's,
/// its bytes times that); "not fixed" decimals are MariaDB's 39 on MariaDB; then the
/// session's form of metadata (`Form::extended`, `Form::optional`). `answer` is a
/// statement's packets; an OK, an ERR or a head cut short is left as it is.
pub fn for_session(answer: &mut Vec<Vec<u8>>, form: Form) {
    let Some(first) = answer.first().filter(|p| !matches!(p.first(), Some(0x00 | 0xfe | 0xff) | None)) else {
        return;
    };
    let Ok(n) = Reader::new(first).lenenc("column count") else { return };
    let n = usize::try_from(n).unwrap_or(0);
    for def in answer.iter_mut().skip(1).take(n) {
        let Ok(DefLayout { names_end: names, fixed: at, .. }) = def_layout(def) else { continue };
        // charset (2), length (4), type (1), flags (2), decimals (1).
        let Some(f) = def.get_mut(at..at + 10) else { continue };
        if u16::from_le_bytes([f[0], f[1]]) == TEXT_CHARSET {
            if let Some(to) = form.results {
                let len = u64::from(u32::from_le_bytes([f[2], f[3], f[4], f[5]]));
                let chars = if ColumnType(f[6]).is_blob() { len } else { len / 3 };
                let len = u32::try_from(chars * u64::from(to.max_bytes)).unwrap_or(u32::MAX);
                f[0..2].copy_from_slice(&to.collation.to_le_bytes());
                f[2..6].copy_from_slice(&len.to_le_bytes());
            }
        }
        // A float's keep MySQL's 31 on MariaDB too.
        if form.mariadb && f[9] == NOT_FIXED && !matches!(ColumnType(f[6]), ColumnType::DOUBLE | ColumnType::FLOAT) {
            f[9] = 39;
        }
        if form.extended {
            def.insert(names, EMPTY_EXTENDED_TYPE);
        }
    }
    if let Some(full) = form.optional {
        if let Some(count) = answer.first_mut() {
            count.push(u8::from(full));
        }
        if !full {
            let end = answer.len().min(1 + n);
            answer.drain(1..end);
        }
    }
}

/// Encodes a result set: column count, column definitions, EOF, rows, EOF.
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

/// SERVER_STATUS_IN_TRANS and SERVER_STATUS_AUTOCOMMIT: the session's, in the status
/// flags of every OK and EOF.
pub const SERVER_STATUS_IN_TRANS: u16 = 0x0001;
pub const SERVER_STATUS_AUTOCOMMIT: u16 = 0x0002;
/// SERVER_SESSION_STATE_CHANGED: the OK carries the session tracker's changes.
pub const SERVER_SESSION_STATE_CHANGED: u16 = 0x4000;

/// SERVER_QUERY_NO_INDEX_USED: mysqld sets it where a statement read a table through
/// no index (SHOW VARIABLES, SHOW STATUS, SHOW DATABASES from their schema tables).
pub const SERVER_QUERY_NO_INDEX_USED: u16 = 0x0020;

/// Adds `flag` to the status of a result's EOF after its column definitions and, with
/// `end`, to that of the EOF after its rows. Any other answer is left as it is.
pub fn flag_result(packets: &mut [Vec<u8>], flag: u16, end: bool) {
    let Some(n) = packets.first().and_then(|p| Reader::new(p).lenenc("column count").ok()) else { return };
    let add = |p: &mut Vec<u8>| {
        if is_eof(p) {
            update_status(p, |v| v | flag);
        }
    };
    if let Some(p) = usize::try_from(n).ok().and_then(|n| packets.get_mut(n + 1)) {
        add(p);
    }
    let more_than_one = packets.len() > 1;
    if let Some(p) = packets.last_mut().filter(|_| end && more_than_one) {
        add(p);
    }
}

/// The ends of one statement's answer as its session and client take them: the
/// session's transaction flags in each OK's and EOF's status, and for a client that
/// asked for CLIENT_DEPRECATE_EOF no EOF after a result's column definitions and, for
/// the EOF that ends its rows, an OK packet headed 0xFE (affected rows 0, last insert
/// id 0, the EOF's status flags and warning count), as mysqld sends them
/// (`Protocol_classic::send_eof`, `net_send_ok`). Answers are encoded with EOFs and
/// the flags of a session that autocommits, and converted here packet by packet: one
/// `Ends` per statement's answer, which may come in several batches.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_eof_packet.html>
#[derive(Debug)]
pub struct Ends {
    deprecate_eof: bool,
    /// SERVER_STATUS_IN_TRANS and SERVER_STATUS_AUTOCOMMIT as the session has them.
    status: u16,
    stage: Stage,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before a result: an OK, an ERR, or a column count comes.
    #[default]
    Start,
    /// This many column definitions to come.
    Columns(u64),
    /// The EOF after the column definitions comes.
    ColumnsEnd,
    Rows,
}

/// Sets the transaction flags of an OK's or EOF's status to `status`'s.
fn set_transaction_flags(p: &mut [u8], status: u16) {
    let mask = SERVER_STATUS_IN_TRANS | SERVER_STATUS_AUTOCOMMIT;
    update_status(p, |v| (v & !mask) | (status & mask));
}

impl Ends {
    pub fn new(deprecate_eof: bool, status: u16) -> Ends {
        Ends { deprecate_eof, status, stage: Stage::Start }
    }

    pub fn convert(&mut self, packets: &mut Vec<Vec<u8>>) {
        let (deprecate, status) = (self.deprecate_eof, self.status);
        packets.retain_mut(|p| {
            match self.stage {
                Stage::Start => {
                    if p.first() == Some(&0x00) || is_eof(p) {
                        set_transaction_flags(p, status);
                        // An EOF alone (COM_SET_OPTION's answer) is an OK headed 0xFE too.
                        if deprecate && is_eof(p) {
                            *p = eof_as_ok(p);
                        }
                    } else if !matches!(p.first(), Some(0xfe | 0xff) | None) {
                        let mut r = crate::proto::buf::Reader::new(p);
                        let n = r.lenenc("column count").unwrap_or(0);
                        // CLIENT_OPTIONAL_RESULTSET_METADATA's 0: no definitions follow.
                        let defs = r.u8("metadata_follows").ok().is_none_or(|f| f != 0);
                        self.stage = match n {
                            0 => Stage::Rows,
                            _ if !defs => Stage::ColumnsEnd,
                            n => Stage::Columns(n),
                        };
                    }
                }
                Stage::Columns(n) => self.stage = if n <= 1 { Stage::ColumnsEnd } else { Stage::Columns(n - 1) },
                Stage::ColumnsEnd => {
                    self.stage = Stage::Rows;
                    if is_eof(p) {
                        set_transaction_flags(p, status);
                        return !deprecate;
                    }
                }
                Stage::Rows => {
                    if is_eof(p) {
                        set_transaction_flags(p, status);
                        if deprecate {
                            *p = eof_as_ok(p);
                        }
                        self.stage = Stage::Start;
                    } else if p.first() == Some(&0xff) {
                        self.stage = Stage::Start;
                    }
                }
            }
            true
        });
    }
}

/// The session tracker's report of what a statement changed, as mysqld encodes it
/// (`Session_sysvars_tracker::store`, `Current_schema_tracker::store`): each system
/// variable assigned (type 0: its name and value, as SHOW VARIABLES shows it), then the
/// database now in use (type 1).
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html>
pub fn session_state(vars: &[(&str, &str)], schema: Option<&str>, transaction: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in vars {
        let mut entry = Vec::new();
        entry.put_lenenc_bytes(name.as_bytes());
        entry.put_lenenc_bytes(value.as_bytes());
        out.push(0);
        out.put_lenenc_bytes(&entry);
    }
    if let Some(db) = schema {
        let mut entry = Vec::new();
        entry.put_lenenc_bytes(db.as_bytes());
        out.push(1);
        out.put_lenenc_bytes(&entry);
    }
    // SESSION_TRACK_TRANSACTION_STATE (5), after the others as mysqld's trackers go.
    if let Some(state) = transaction {
        let mut entry = Vec::new();
        entry.put_lenenc_bytes(state.as_bytes());
        out.push(5);
        out.put_lenenc_bytes(&entry);
    }
    out
}

/// Makes an OK packet carry `state` for a client that asked for CLIENT_SESSION_TRACK:
/// SERVER_SESSION_STATE_CHANGED in its status, its info as a length-encoded string,
/// then the state. Any other packet is left as it is.
pub fn with_session_state(p: &mut Vec<u8>, state: &[u8]) {
    let Some(at) = status_at(p).filter(|_| p.first() == Some(&0x00)) else { return };
    update_status(p, |v| v | SERVER_SESSION_STATE_CHANGED);
    // The info after the warning count: a string to the packet's end without session
    // tracking, length-encoded with it.
    let info = p.split_off((at + 4).min(p.len()));
    p.put_lenenc_bytes(&info);
    p.put_lenenc_bytes(state);
}

/// Marks the packet that ends an answer (an OK, or a result set's last EOF) as followed
/// by another answer: SERVER_MORE_RESULTS_EXISTS in its status flags. Any other packet
/// is left as it is. <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html>
pub fn set_more_results(p: &mut [u8]) {
    update_status(p, |v| v | SERVER_MORE_RESULTS_EXISTS);
}

/// Rewrites the status flags of an OK or EOF; any other packet is left as it is.
fn update_status(p: &mut [u8], f: impl FnOnce(u16) -> u16) {
    if let Some(b) = status_at(p).and_then(|i| p.get_mut(i..i + 2)) {
        let v = f(u16::from_le_bytes([b[0], b[1]]));
        b.copy_from_slice(&v.to_le_bytes());
    }
}

/// An EOF (0xFE, warnings, status) as the OK headed 0xFE that replaces it for a
/// CLIENT_DEPRECATE_EOF client (0xFE, 0 affected rows, 0 last insert id, status, warnings).
pub fn eof_as_ok(eof: &[u8]) -> Vec<u8> {
    let (w, st) = (eof.get(1..3).unwrap_or(&[0, 0]), eof.get(3..5).unwrap_or(&[2, 0]));
    vec![0xfe, 0, 0, st[0], st[1], w[0], w[1]]
}

/// The packets before the rows (column count, column definitions, EOF), for a result
/// sent a row at a time. A text column's length is its width
/// in utf8mb3 (three bytes a character; a TEXT's or BLOB's, its bytes), and its
/// collation the metadata's (`TEXT_CHARSET`), as mysqld sends them to a session whose
/// results are not converted; `for_session` makes them the session's.
pub fn head_typed(columns: &[Column]) -> Vec<Vec<u8>> {
    use super::buf::Put;
    let mut out = Vec::with_capacity(columns.len() + 2);
    let mut p = Vec::new();
    p.put_lenenc(columns.len() as u64);
    out.push(p);
    for c in columns {
        let (schema, table, org_table, org_name) = match &c.origin {
            Some(o) => (o.schema, o.table.as_str(), o.org_table, o.org_name),
            None => ("", "", "", ""),
        };
        let (charset, len) = match (c.text, c.ty.is_blob()) {
            (false, _) => (BINARY_CHARSET, c.width),
            (true, true) => (TEXT_CHARSET, c.width),
            (true, false) => (TEXT_CHARSET, c.width.saturating_mul(3)),
        };
        let names = [schema, table, org_table, &c.name, org_name];
        out.push(definition(names, Fixed { charset, len, ty: c.ty, flags: c.flags, decimals: c.decimals }));
    }
    out.push(EOF.to_vec());
    out
}

/// A column definition's fixed fields, as sent.
#[derive(Debug, Clone, Copy)]
pub struct Fixed {
    pub charset: u16,
    pub len: u32,
    pub ty: ColumnType,
    pub flags: u16,
    pub decimals: u8,
}

/// Encodes a column definition: catalog `def`, then `names` (schema, table, its own
/// name, the column's name, its own name), then the fixed fields.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_column_definition.html>
pub fn definition(names: [&str; 5], f: Fixed) -> Vec<u8> {
    use super::buf::Put;
    let mut d = Vec::new();
    for s in std::iter::once("def").chain(names) {
        d.put_lenenc_bytes(s.as_bytes());
    }
    d.push(0x0c);
    d.put_u16(f.charset);
    d.put_u32(f.len);
    d.push(f.ty.0);
    d.put_u16(f.flags);
    d.push(f.decimals);
    d.put_u16(0);
    d
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

    #[test]
    fn a_servers_definition_becomes_binlogds_own_and_then_any_sessions() {
        let names = ["information_schema", "COLLATIONS", "COLLATIONS", "Collation", "COLLATION_NAME"];
        let fixed = |charset, len, ty| Fixed { charset, len, ty, flags: flags::NOT_NULL, decimals: 0 };
        // As read over binlogd's utf8mb4 connection: 64 characters of four bytes.
        let read = definition(names, fixed(255, 256, ColumnType::VAR_STRING));
        let own = as_own_def(&read, 4).unwrap();
        assert_eq!(own, definition(names, fixed(TEXT_CHARSET, 192, ColumnType::VAR_STRING)));
        // A number's stays as it is; a TEXT's length is its characters.
        let id = definition(names, fixed(BINARY_CHARSET, 11, ColumnType::LONGLONG));
        assert_eq!(as_own_def(&id, 4).unwrap(), id);
        let text = definition(names, fixed(255, 4096, ColumnType::BLOB));
        assert_eq!(as_own_def(&text, 4).unwrap(), definition(names, fixed(TEXT_CHARSET, 1024, ColumnType::BLOB)));
        // A session in latin1 (one byte a character) gets 64.
        let mut answer = vec![vec![1], own];
        for_session(&mut answer, Form { results: Some(Results { collation: 8, max_bytes: 1 }), ..Form::default() });
        assert_eq!(answer[1], definition(names, fixed(8, 64, ColumnType::VAR_STRING)));
        assert!(as_own_def(&read[..read.len() - 3], 4).is_none());
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
    fn text_columns_take_the_sessions_collation_and_width_and_numbers_keep_theirs() {
        // (charset, length, flags, decimals) of a column definition.
        let meta = |p: &[u8]| {
            let f = &p[p.len() - 12..];
            (u16::from_le_bytes([f[0], f[1]]), u32::from_le_bytes([f[2], f[3], f[4], f[5]]), f[7], f[9])
        };
        let cols = [
            Column::text("v", 255),
            Column::number("n", ColumnType::LONGLONG, 21, true),
            Column::typed("info", ColumnType::BLOB).width(196_605),
            Column::typed("bytes", ColumnType::VAR_STRING).width(65_532).binary(),
        ];
        let base = encode_typed(&cols, &[vec![None, None, None, None]]);
        assert_eq!(column_def(&base[1]).map(|c| c.0).ok().as_deref(), Some("v"));
        // Unconverted (character_set_results = NULL): utf8mb3's lengths, MySQL's decimals.
        let mut stored = base.clone();
        for_session(&mut stored, Form::default());
        assert_eq!(stored, base);
        assert_eq!(meta(&base[1]), (33, 765, 1, NOT_FIXED));
        assert_eq!(meta(&base[2]), (63, 21, 0xa1, 0));
        assert_eq!(meta(&base[3]), (33, 196_605, 0, NOT_FIXED));
        assert_eq!(meta(&base[4]), (63, 65_532, 0x80, NOT_FIXED));
        // utf8mb4 on MariaDB: four bytes a character, and a TEXT's bytes times four.
        let mut answer = base.clone();
        for_session(
            &mut answer,
            Form { results: Some(Results { collation: 45, max_bytes: 4 }), mariadb: true, ..Form::default() },
        );
        assert_eq!(meta(&answer[1]), (45, 1020, 1, 39));
        assert_eq!(meta(&answer[2]), (63, 21, 0xa1, 0), "numbers are left as they are");
        assert_eq!(meta(&answer[3]), (45, 786_420, 0, 39));
        assert_eq!(meta(&answer[4]), (63, 65_532, 0x80, 39), "bytes keep their charset and length");
        assert_eq!(answer[6..], base[6..], "rows are left alone");
        // SET NAMES binary: a byte a character.
        let mut binary = base.clone();
        for_session(&mut binary, Form { results: Some(Results { collation: 63, max_bytes: 1 }), ..Form::default() });
        assert_eq!(meta(&binary[1]), (63, 255, 1, NOT_FIXED));
        // An OK, an ERR, a cut column definition: left as they are.
        let all = Form {
            results: Some(Results { collation: 8, max_bytes: 1 }),
            mariadb: true,
            extended: true,
            optional: Some(true),
        };
        for p in [vec![vec![0x00, 0, 0, 2, 0]], vec![vec![0xff, 1, 2]], vec![vec![1], vec![3, b'd']], vec![]] {
            let mut q = p.clone();
            for_session(&mut q, Form { optional: None, ..all });
            assert_eq!(q, p);
        }
    }

    #[test]
    fn extended_and_optional_metadata_take_the_forms_mariadb_and_mysql_send() {
        let base = encode_typed(
            &[Column::text("Log_name", 255), Column::number("File_size", ColumnType::LONGLONG, 20, true)],
            &[vec![Some("mysql-bin.000001".into()), Some("328".into())]],
        );
        // MariaDB with MARIADB_CLIENT_EXTENDED_METADATA: an empty string after the
        // original name, as MariaDB 10.11 sends SHOW BINARY LOGS.
        let mut extended = base.clone();
        for_session(&mut extended, Form { extended: true, mariadb: true, ..Form::default() });
        let mut r = Reader::new(&extended[2]);
        for _ in 0..6 {
            r.lenenc_bytes("name").unwrap();
        }
        assert_eq!(r.lenenc_bytes("extended type info").unwrap(), b"");
        assert_eq!(r.u8("fixed fields length").unwrap(), 0x0c);
        assert_eq!(extended[2].len(), base[2].len() + 1);
        assert_eq!(extended[3..], base[3..]);
        // MySQL's CLIENT_OPTIONAL_RESULTSET_METADATA: FULL keeps the definitions, NONE
        // drops them and keeps the EOF after them (as MySQL 9.7 sends SHOW BINARY LOGS).
        let mut full = base.clone();
        for_session(&mut full, Form { optional: Some(true), ..Form::default() });
        assert_eq!(full[0], [2, 1]);
        assert_eq!(full[1..], base[1..]);
        let mut none = base.clone();
        for_session(&mut none, Form { optional: Some(false), ..Form::default() });
        assert_eq!(none, [vec![2, 0], EOF.to_vec(), base[4].clone(), EOF.to_vec()]);
        // A client that also asked for CLIENT_DEPRECATE_EOF gets the count, the rows and the OK.
        Ends::new(true, SERVER_STATUS_AUTOCOMMIT).convert(&mut none);
        assert_eq!(none.len(), 3);
        assert_eq!((none[0].clone(), none[1].clone(), none[2][0]), (vec![2, 0], base[4].clone(), 0xfe));
    }

    #[test]
    fn a_column_read_from_a_table_names_it() {
        let at = Origin {
            schema: "information_schema",
            table: "SCHEMATA".into(),
            org_table: "SCHEMATA",
            org_name: "SCHEMA_NAME",
        };
        let head = head_typed(&[Column::text("Database", 64).from_table(at), Column::text("File", 512)]);
        let names = |p: &[u8]| {
            let mut r = Reader::new(p);
            (0..6).map(|_| String::from_utf8_lossy(r.lenenc_bytes("name").unwrap()).into_owned()).collect::<Vec<_>>()
        };
        assert_eq!(names(&head[1]), ["def", "information_schema", "SCHEMATA", "SCHEMATA", "Database", "SCHEMA_NAME"]);
        assert_eq!(names(&head[2]), ["def", "", "", "", "File", ""], "an expression's column has no original name");
        assert_eq!(head[1][head[1].len() - 3], 0, "a table's column has its decimals, none");
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

    #[test]
    fn a_deprecate_eof_client_gets_no_eof_after_the_columns_and_an_ok_at_the_end() {
        let cols = [Column::text("a", 4), Column::text("b", 4)];
        let mut p = encode_typed(&cols, &[vec![Some("x".into()), None]]);
        set_warning_count(p.last_mut().unwrap(), 3);
        set_more_results(p.last_mut().unwrap());
        let defs: Vec<Vec<u8>> = p[1..3].to_vec();
        let row = p[4].clone();
        let mut d = Ends::new(true, SERVER_STATUS_AUTOCOMMIT);
        d.convert(&mut p);
        // Count, definitions, the row, then OK headed 0xFE: status (2 | 8), then warnings.
        assert_eq!(p, vec![vec![2], defs[0].clone(), defs[1].clone(), row, vec![0xfe, 0, 0, 0x0a, 0, 3, 0]]);
        // An OK or an ERR alone passes as it is, and so does a row headed 0xFE.
        let mut ok = vec![vec![0x00, 0, 0, 2, 0, 0, 0]];
        Ends::new(true, SERVER_STATUS_AUTOCOMMIT).convert(&mut ok);
        assert_eq!(ok, vec![vec![0x00, 0, 0, 2, 0, 0, 0]]);
        // In batches: the head, then rows and the end.
        let mut long = vec![0xfe];
        long.extend_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0]);
        long.extend_from_slice(b"123456789");
        let mut d = Ends::new(true, SERVER_STATUS_AUTOCOMMIT);
        let mut head = head_typed(&cols[..1]);
        d.convert(&mut head);
        assert_eq!(head.len(), 2);
        let mut rest = vec![long.clone(), vec![0xff, 0x10, 0x04]];
        d.convert(&mut rest);
        assert_eq!(rest, vec![long, vec![0xff, 0x10, 0x04]]);
    }

    #[test]
    fn the_sessions_transaction_flags_and_tracked_changes_reach_the_ends() {
        // Autocommit off: every end's status loses SERVER_STATUS_AUTOCOMMIT.
        let mut p = encode_typed(&[Column::text("a", 4)], &[vec![None]]);
        Ends::new(false, 0).convert(&mut p);
        assert_eq!(p[2], vec![0xfe, 0, 0, 0, 0]);
        assert_eq!(p[4], vec![0xfe, 0, 0, 0, 0]);
        // A row that begins with 0x00 (an empty first column) is no OK.
        let mut p = vec![vec![1], p[1].clone(), EOF.to_vec(), vec![0, 0, 0, 2, 0, 0, 0], EOF.to_vec()];
        Ends::new(false, SERVER_STATUS_IN_TRANS).convert(&mut p);
        assert_eq!(p[3], vec![0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(p[4], vec![0xfe, 0, 0, 1, 0]);
        // The OK of SET autocommit=0 as mysqld sends it to a session tracker.
        let mut ok = vec![0x00, 0, 0, 0x02, 0, 0, 0];
        set_transaction_flags(&mut ok, 0);
        with_session_state(&mut ok, &session_state(&[("autocommit", "OFF")], None, None));
        let want = "000000004000000011000f0a6175746f636f6d6d6974034f4646";
        let got: String = ok.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, want);
        // USE information_schema.
        let mut ok = vec![0x00, 0, 0, 0x02, 0, 0, 0];
        with_session_state(&mut ok, &session_state(&[], Some("information_schema"), None));
        let got: String = ok.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, "000000024000000015011312696e666f726d6174696f6e5f736368656d61");
    }
}
