//! A session's prepared statements (COM_STMT_PREPARE and the commands that name one):
//! each statement's text, its `?` placeholders, and what its prepare answers. An
//! execute binds its values into the text as literals and answers it as COM_QUERY
//! would, its rows in the binary protocol (`proto::stmt::BinaryRows`).
//! <https://dev.mysql.com/doc/refman/8.4/en/sql-prepared-statements.html>

use std::collections::BTreeMap;

use super::ctx::Ctx;
use super::reply::err_packet;
use crate::proto::buf::Put;
use crate::proto::resultset::{self, ColumnType};
use crate::proto::stmt::{BinaryRows, PrepareOk, Value};

/// The statements a session may hold, and the bytes of their texts and long data:
/// bounds on what a client can make binlogd keep (mysqld's `max_prepared_stmt_count`
/// is 16382, for the whole server).
const MAX_STATEMENTS: usize = 1024;
const MAX_BYTES: usize = 16 << 20;

/// ER_UNKNOWN_STMT_HANDLER, ER_MAX_PREPARED_STMT_COUNT_REACHED, ER_STMT_HAS_NO_OPEN_CURSOR,
/// ER_NET_PACKET_TOO_LARGE.
const ER_UNKNOWN_STMT_HANDLER: u16 = 1243;
const ER_MAX_PREPARED_STMT_COUNT_REACHED: u16 = 1461;
const ER_STMT_HAS_NO_OPEN_CURSOR: u16 = 1421;
const ER_NET_PACKET_TOO_LARGE: u16 = 1153;

/// ER_UNSUPPORTED_PS: MariaDB's answer to a bulk execute of a statement that takes
/// none (all that binlogd answers).
pub fn bulk_unsupported() -> Vec<u8> {
    err_packet(1295, "HY000", "This command is not supported in the prepared statement protocol yet")
}

/// An execute whose long data went past what binlogd keeps.
pub fn too_long() -> Vec<u8> {
    let msg = format!(
        "Got a packet bigger than 'max_allowed_packet' bytes (binlogd keeps {} MiB of long data)",
        MAX_BYTES >> 20
    );
    err_packet(ER_NET_PACKET_TOO_LARGE, "08S01", &msg)
}

/// One prepared statement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The text without comments.
    pub text: String,
    /// Where its placeholders are in `text`.
    pub at: Vec<usize>,
    /// The types the last execute bound, and COM_STMT_SEND_LONG_DATA's values.
    pub types: Vec<u16>,
    pub long: Vec<Option<Vec<u8>>>,
    /// More long data came than binlogd keeps: the next execute fails.
    pub too_long: bool,
    /// The result's columns that hold a placeholder, which a primary names by the
    /// text as prepared.
    pub items: Vec<Item>,
    /// The kinds of value the statement was last prepared for (`Value::kind`; 0: a
    /// string, as at first).
    pub kinds: Vec<u8>,
    /// The column definitions last sent for it (by the prepare or an execute), which
    /// a client with MariaDB's metadata cache is not sent again.
    pub sent: Vec<Vec<u8>>,
}

impl Statement {
    /// Whether a MySQL primary prepares the statement again to execute it with
    /// `values` (which takes a statement id): where one of them is the first that is
    /// not a string for its parameter, which is typed as a string until then.
    pub fn reprepared(&mut self, values: &[Value]) -> bool {
        self.kinds.resize(values.len(), 0);
        let mut changed = false;
        for (was, v) in self.kinds.iter_mut().zip(values) {
            // A parameter typed once keeps its type (MySQL then converts what is bound).
            if *was == 0 && v.kind() != 0 {
                *was = v.kind();
                changed = true;
            }
        }
        changed
    }
}

/// A session's statements by id.
#[derive(Debug, Default)]
pub struct Prepared {
    last_id: u32,
    map: BTreeMap<u32, Statement>,
    /// The statement the last prepare made, if it succeeded: MariaDB's id -1.
    last: Option<u32>,
}

/// The statement id a MariaDB client sends for the statement it prepared last, so that
/// it can send COM_STMT_PREPARE and COM_STMT_EXECUTE together.
/// <https://mariadb.com/docs/server/reference/clientserver-protocol/3-binary-protocol-prepared-statements/com_stmt_execute>
pub const LAST_PREPARED: u32 = u32::MAX;

impl Prepared {
    /// The next statement id: every prepare takes one, failed or not, as mysqld's do
    /// (and on MySQL an execute that prepares again, `Statement::reprepared`).
    pub fn take_id(&mut self) -> u32 {
        self.last_id = self.last_id.wrapping_add(1).max(1);
        self.last_id
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut Statement> {
        self.map.get_mut(&id)
    }

    pub fn insert(&mut self, id: u32, s: Statement) {
        self.map.insert(id, s);
        self.last = Some(id);
    }

    /// A prepare failed: no statement is the last prepared.
    pub fn failed(&mut self) {
        self.last = None;
    }

    /// The statement a command names: on MariaDB, -1 is the last one prepared.
    pub fn resolve(&self, id: u32, maria: bool) -> u32 {
        match self.last {
            Some(last) if maria && id == LAST_PREPARED => last,
            _ => id,
        }
    }

    pub fn close(&mut self, id: u32) {
        self.map.remove(&id);
    }

    /// COM_RESET_CONNECTION and COM_CHANGE_USER close them all; the ids go on.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    fn bytes(&self) -> usize {
        self.map.values().map(|s| s.text.len() + s.long.iter().flatten().map(Vec::len).sum::<usize>()).sum()
    }

    /// Appends COM_STMT_SEND_LONG_DATA's `data` to parameter `param` of `id`; nothing
    /// is answered, whatever happens (an unknown statement's data is dropped).
    pub fn long_data(&mut self, id: u32, param: usize, data: &[u8]) {
        let full = self.bytes() + data.len() > MAX_BYTES;
        let Some(s) = self.map.get_mut(&id).filter(|s| param < s.at.len()) else { return };
        if full {
            s.too_long = true;
            return;
        }
        s.long.resize(s.at.len(), None);
        if let Some(slot) = s.long.get_mut(param) {
            slot.get_or_insert_with(Vec::new).extend_from_slice(data);
        }
    }
}

/// ERROR 1243 for a statement id the session does not hold, as the command's
/// function words it: MariaDB's `mysqld_stmt_execute` and the like (`command`), MySQL
/// 9.7's `mysql_stmt_precheck` for every one.
pub fn unknown(s: &Ctx, id: u32, command: &str) -> Vec<u8> {
    let function = if super::show::is_maria(s) { command } else { "mysql_stmt_precheck" };
    err_packet(
        ER_UNKNOWN_STMT_HANDLER,
        "HY000",
        &format!("Unknown prepared statement handler ({id}) given to {function}"),
    )
}

/// COM_STMT_FETCH: binlogd opens no cursor, so there is none to fetch from.
pub fn fetch(s: &Ctx, p: &Prepared, id: u32) -> Vec<u8> {
    if p.map.contains_key(&id) {
        err_packet(ER_STMT_HAS_NO_OPEN_CURSOR, "HY000", &format!("The statement ({id}) has no open cursor."))
    } else {
        unknown(s, id, "mysqld_stmt_fetch")
    }
}

/// The placeholders of `text` (comments already gone): each `?` outside quotes.
pub fn placeholders(text: &str) -> Vec<usize> {
    super::sql::unquoted(text).filter(|&(_, c, _)| c == '?').map(|(i, _, _)| i).collect()
}

/// `text` with the placeholder at each of `at` replaced by the literal of its value.
pub fn bind(text: &str, at: &[usize], values: &[Value]) -> String {
    let mut out = String::with_capacity(text.len() + 16 * at.len());
    let mut from = 0;
    for (i, &p) in at.iter().enumerate() {
        out.push_str(text.get(from..p).unwrap_or_default());
        out.push_str(&values.get(i).unwrap_or(&Value::Null).literal());
        from = p + 1;
    }
    out.push_str(text.get(from..).unwrap_or_default());
    out
}

/// A select item that holds a placeholder, whose column a primary names by the text
/// as prepared: its position, its name, and which placeholder it is where it is one
/// alone (`SELECT ?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub column: usize,
    pub name: String,
    pub bare: Option<usize>,
}

/// The select items of a SELECT that hold a placeholder.
fn placeholder_items(text: &str) -> Vec<Item> {
    let Some(list) = text.get(6..).filter(|_| text.get(..6).is_some_and(|w| w.eq_ignore_ascii_case("SELECT"))) else {
        return Vec::new();
    };
    // The list ends where FROM, WHERE, LIMIT and the like begin: none follows a bare `?`.
    let mut seen = 0;
    let mut out = Vec::new();
    for (column, item) in super::sql::split_list(list).iter().enumerate() {
        let (_, name) = super::sql::named(item);
        let here = placeholders(item).len();
        if here > 0 && name.contains('?') {
            let bare = (item.trim() == "?").then_some(seen);
            out.push(Item { column, name, bare });
        }
        seen += here;
    }
    out
}

/// A definition as this client takes it: with an empty extended type after the names
/// where it asked for MariaDB's extended metadata.
fn as_sent(s: &Ctx, mut d: Vec<u8>) -> Vec<u8> {
    if s.client_ext_caps & crate::proto::caps::ext::EXTENDED_METADATA != 0 {
        resultset::with_extended_type(&mut d);
    }
    d
}

/// The definition a primary gives a parameter: MySQL's a VAR_STRING of 16383
/// characters in the connection's collation, MariaDB's a NULL.
fn param_def(s: &Ctx, name: &str) -> Vec<u8> {
    if super::show::is_maria(s) {
        def(name, resultset::BINARY_CHARSET, 0, ColumnType::NULL, resultset::flags::BINARY, 0)
    } else {
        let coll = super::collations::id_of(&s.charsets.collation, false).unwrap_or(45);
        let len = 16383 * u32::from(super::collations::max_bytes(&s.charsets.connection));
        def(name, u16::try_from(coll).unwrap_or(45), len, ColumnType::VAR_STRING, 0, 31)
    }
}

/// What a prepare found: the statement to keep, and the column definitions its answer
/// will have where they are known before it runs.
pub struct Prepare {
    pub statement: Statement,
    pub columns: Vec<Vec<u8>>,
}

/// COM_STMT_PREPARE of `sql`: the statement, or the ERR the primary gives. A SELECT is
/// answered once with its placeholders NULL, for its columns (and an error a primary
/// finds at prepare); so is a SHOW, whose columns a MariaDB primary gives at prepare
/// and a MySQL one only when it runs. A SELECT that waits (for a position, a GTID)
/// is not run until it is executed: its columns are left unknown. Nothing else is
/// run before its execute; a placeholder in one of them is the syntax error a
/// primary's parser gives.
pub fn prepare(s: &mut Ctx, p: &Prepared, sql: &str) -> Result<Prepare, Vec<Vec<u8>>> {
    let text = super::sql::clean(sql);
    if text.is_empty() {
        return Err(super::query::empty_query(s));
    }
    let parts = super::sql::statements(&text);
    if let Some(second) = parts.get(1) {
        let first = parts.first().and_then(|r| text.get(r.clone())).unwrap_or_default();
        return Err(super::query::second_statement(s, first, text.get(second.start..).unwrap_or_default()));
    }
    if p.map.len() >= MAX_STATEMENTS || p.bytes() + text.len() > MAX_BYTES {
        let msg =
            format!("Can't create more than max_prepared_stmt_count statements (current value: {MAX_STATEMENTS})");
        return Err(super::query::refused(s, err_packet(ER_MAX_PREPARED_STMT_COUNT_REACHED, "42000", &msg)));
    }
    let at = placeholders(&text);
    let up = text.to_ascii_uppercase();
    let first = up.split_whitespace().next().unwrap_or_default();
    let maria = super::show::is_maria(s);
    if let Some(&q) = at.first().filter(|_| !matches!(first, "SELECT" | "SET" | "DO")) {
        // The parser quotes from the word the first placeholder begins.
        let near = text.get(..q).unwrap_or_default().split_whitespace().count();
        let e = super::query::parse_error(s, &text, near);
        return Err(super::query::refused(s, e));
    }
    let statement = Statement {
        items: placeholder_items(&text),
        at: at.clone(),
        text,
        types: Vec::new(),
        long: Vec::new(),
        too_long: false,
        kinds: Vec::new(),
        sent: Vec::new(),
    };
    let waits = up.contains("WAIT") || up.contains("SLEEP(");
    let run = match first {
        "SELECT" => !waits,
        "SHOW" => super::events::parse(&statement.text).is_none(),
        _ => false,
    };
    if !run {
        // What is not run now still begins a statement: the last one's conditions go.
        s.warnings.begin();
        s.warnings.end(false);
    }
    let mut columns = Vec::new();
    if first == "SHOW" && !run && maria {
        columns = super::events::head(true);
    } else if run {
        let nulls = vec![Value::Null; at.len()];
        let answer = super::query::answer(s, &bind(&statement.text, &at, &nulls));
        if answer.first().is_some_and(|p| p.first() == Some(&0xff)) {
            return Err(answer);
        }
        if first == "SELECT" || maria {
            columns = answer;
        }
    }
    let form = crate::proto::resultset::Form { optional: None, ..super::values::form(s) };
    crate::proto::resultset::for_session(&mut columns, form);
    // The column count, the definitions, the EOF: the definitions alone are kept.
    let n = columns.first().and_then(|c| crate::proto::buf::Reader::new(c).lenenc("column count").ok());
    let n = n.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
    let mut columns: Vec<Vec<u8>> = columns.into_iter().skip(1).take(n).collect();
    for item in statement.items.iter().filter(|i| i.bare.is_some()) {
        if let Some(c) = columns.get_mut(item.column) {
            *c = as_sent(s, param_def(s, "?"));
        }
    }
    let statement = Statement { sent: columns.clone(), ..statement };
    Ok(Prepare { statement, columns })
}

/// The packets of a prepare that succeeded: COM_STMT_PREPARE_OK, then the parameters'
/// definitions and the columns', each followed by an EOF unless the client asked for
/// CLIENT_DEPRECATE_EOF, and none of them after `resultset_metadata = NONE`.
pub fn prepare_ok(s: &Ctx, id: u32, prepared: &Prepare, warnings: u16, status: u16) -> Vec<Vec<u8>> {
    use crate::proto::caps;
    let optional = (s.client_caps & caps::OPTIONAL_RESULTSET_METADATA != 0).then_some(!s.tracked.no_metadata);
    let deprecate_eof = s.client_caps & caps::DEPRECATE_EOF != 0;
    let params = prepared.statement.at.len();
    let ok = PrepareOk {
        id,
        columns: u16::try_from(prepared.columns.len()).unwrap_or(u16::MAX),
        params: u16::try_from(params).unwrap_or(u16::MAX),
        warnings,
        metadata: optional,
    };
    let mut out = vec![ok.encode()];
    if optional == Some(false) {
        return out;
    }
    let mut eof = resultset::EOF.to_vec();
    if let Some(f) = eof.get_mut(3..5) {
        f.copy_from_slice(&status.to_le_bytes());
    }
    let params_defs: Vec<Vec<u8>> = (0..params).map(|_| as_sent(s, param_def(s, "?"))).collect();
    for defs in [params_defs, prepared.columns.clone()] {
        if defs.is_empty() {
            continue;
        }
        out.extend(defs);
        if !deprecate_eof {
            out.push(eof.clone());
        }
    }
    out
}

/// Readies an execute's answer for the binary protocol: the rows in binary, the
/// columns that are a placeholder alone defined as the primary defines them for the
/// value bound (`placeholder_def`), and those of an expression that holds one named by
/// its text as prepared (NULL-able on MySQL, as a parameter may be NULL). `apply`
/// takes each batch before the session's form is applied to the definitions, `finish`
/// the first after it.
#[derive(Debug, Default)]
pub struct Execution {
    /// The bare placeholders' columns and their definitions.
    pub bare: Vec<(usize, Vec<u8>)>,
    /// The other columns to name: position, name, whether NOT NULL is dropped.
    pub renamed: Vec<(usize, String, bool)>,
    /// For a client with MariaDB's metadata cache (MARIADB_CLIENT_CACHE_METADATA):
    /// the definitions it was last sent for the statement; the column count then says
    /// whether they follow (1) or are those (0, and none follow).
    pub cached: Option<Vec<Vec<u8>>>,
    rows: BinaryRows,
    head_done: bool,
    finished: bool,
}

impl Execution {
    pub fn new(bare: Vec<(usize, Vec<u8>)>, renamed: Vec<(usize, String, bool)>) -> Execution {
        Execution { bare, renamed, ..Default::default() }
    }

    /// Whether `packets` begin a result set (a column count).
    fn is_result(packets: &[Vec<u8>]) -> bool {
        packets.first().is_some_and(|p| !matches!(p.first(), Some(0x00 | 0xfe | 0xff) | None))
    }

    pub fn apply(&mut self, packets: &mut [Vec<u8>]) {
        if !self.head_done && Self::is_result(packets) {
            // The rows are written by these definitions' types.
            for (i, def) in &self.bare {
                if let Some(d) = packets.get_mut(1 + i) {
                    d.clone_from(def);
                }
            }
            for (i, name, nullable) in &self.renamed {
                if let Some(d) = packets.get_mut(1 + i) {
                    rename(d, name, *nullable);
                }
            }
        }
        self.head_done = true;
        self.rows.convert(packets);
    }

    /// Puts the bare placeholders' definitions back as they are sent, where the
    /// session's form changed them (MariaDB's decimals); none where it left the
    /// definitions out (`resultset_metadata = NONE`).
    pub fn finish(&mut self, packets: &mut Vec<Vec<u8>>, form: crate::proto::resultset::Form) {
        if std::mem::replace(&mut self.finished, true) || form.optional == Some(false) || !Self::is_result(packets) {
            return;
        }
        for (i, def) in &self.bare {
            if let Some(d) = packets.get_mut(1 + i) {
                d.clone_from(def);
                if form.extended {
                    resultset::with_extended_type(d);
                }
            }
        }
        let Some(cached) = self.cached.as_mut() else { return };
        let n = packets.first().and_then(|c| crate::proto::buf::Reader::new(c).lenenc("column count").ok());
        let n = n.and_then(|n| usize::try_from(n).ok()).unwrap_or(0).min(packets.len().saturating_sub(1));
        let same = packets.get(1..1 + n).is_some_and(|defs| defs == cached.as_slice());
        if let Some(count) = packets.first_mut() {
            count.push(u8::from(!same));
        }
        if same {
            packets.drain(1..1 + n);
        } else {
            *cached = packets.get(1..1 + n).map(<[Vec<u8>]>::to_vec).unwrap_or_default();
        }
    }
}

/// Renames a column definition, and drops its NOT NULL flag where `nullable`.
fn rename(def: &mut Vec<u8>, name: &str, nullable: bool) {
    let Ok(at) = resultset::def_layout(def) else { return };
    let mut named = Vec::with_capacity(name.len() + 9);
    named.put_lenenc_bytes(name.as_bytes());
    let fixed = at.fixed + named.len() - at.name.len();
    def.splice(at.name, named);
    // The flags follow the character set (2), the length (4) and the type (1).
    if let Some(f) = def.get_mut(fixed + 7..fixed + 9).filter(|_| nullable) {
        let flags = u16::from_le_bytes([f[0], f[1]]) & !resultset::flags::NOT_NULL;
        f.copy_from_slice(&flags.to_le_bytes());
    }
}

/// The column definition a primary gives a placeholder alone (`SELECT ?`) when the
/// statement runs with `v` bound as type `ty` (its high byte the unsigned flag), as
/// MariaDB 10.11 and 11.8 and MySQL 9.7 give it: MariaDB keeps the type bound (an
/// integer as wide as its type's, a string as long as its characters, a NULL as a
/// NULL), MySQL makes any integer a BIGINT, any float a DOUBLE, and a string or
/// NULL the parameter's own definition.
pub fn placeholder_def(s: &Ctx, v: &Value, ty: u16) -> Vec<u8> {
    use crate::proto::resultset::flags;
    let maria = super::show::is_maria(s);
    // MariaDB's values are NOT NULL but a NULL; MySQL's all NULL-able.
    let not_null = if maria { flags::NOT_NULL } else { 0 };
    let unsigned = if ty & 0x8000 != 0 { flags::UNSIGNED } else { 0 };
    let binary = |t: ColumnType, len: u32, decimals: u8| {
        def("?", resultset::BINARY_CHARSET, len, t, flags::BINARY | not_null | unsigned, decimals)
    };
    let bound = ColumnType(ty as u8);
    let width = |t: ColumnType| match t {
        ColumnType::TINY => 4,
        ColumnType::SHORT => 6,
        ColumnType::INT24 => 9,
        ColumnType::LONG => 11,
        _ => 21,
    };
    match v {
        Value::Int(_) | Value::UInt(_) if maria => binary(bound, width(bound), 0),
        Value::Int(_) | Value::UInt(_) => binary(ColumnType::LONGLONG, 21, 0),
        Value::Double(_) if maria => binary(bound, 23, 31),
        Value::Double(_) => binary(ColumnType::DOUBLE, 23, 31),
        Value::DateTime(_) if maria => binary(ColumnType::DATETIME, 19, 0),
        Value::DateTime(_) => binary(ColumnType::DATETIME, 26, 6),
        Value::Time(..) if maria => binary(ColumnType::TIME, 10, 0),
        Value::Time(..) => binary(ColumnType::TIME, 17, 6),
        Value::Null if maria => def("?", resultset::BINARY_CHARSET, 0, ColumnType::NULL, flags::BINARY, 0),
        Value::Text(t) if matches!(bound, ColumnType::NEWDECIMAL | ColumnType(0)) && decimal(t).is_some() => {
            // A decimal (DECIMAL is type 0): MariaDB's of its digits, MySQL's of 65.
            let (digits, scale) = decimal(t).unwrap_or((1, 0));
            if maria {
                binary(ColumnType::NEWDECIMAL, digits + u32::from(scale > 0) + 1, scale)
            } else {
                binary(ColumnType::NEWDECIMAL, 67, 30)
            }
        }
        Value::Text(t) if maria => {
            let srv = super::values::charset_server(s.srv.primary().as_ref());
            let coll = srv.sent_id(&s.charsets.collation).unwrap_or(45);
            let chars = u32::try_from(String::from_utf8_lossy(t).chars().count()).unwrap_or(u32::MAX);
            let len = chars.saturating_mul(u32::from(super::collations::max_bytes(&s.charsets.connection)));
            // The string type bound (mysql2's VAR_STRING, Connector/C's CHAR; Connector/J's
            // VARCHAR, sent as VAR_STRING), else a CHAR.
            let ty = match bound {
                ColumnType::VAR_STRING | ColumnType::STRING => bound,
                ColumnType::VARCHAR => ColumnType::VAR_STRING,
                _ => ColumnType::STRING,
            };
            def("?", coll, len, ty, flags::NOT_NULL, 39)
        }
        Value::Null | Value::Text(_) => param_def(s, "?"),
    }
}

/// A decimal's digits and the digits after its point.
fn decimal(t: &[u8]) -> Option<(u32, u8)> {
    let t = std::str::from_utf8(t).ok()?.trim().trim_start_matches(['-', '+']);
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let all = int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) && !t.is_empty();
    all.then(|| {
        (u32::try_from(int.len() + frac.len()).unwrap_or(u32::MAX), u8::try_from(frac.len()).unwrap_or(u8::MAX))
    })
}

/// A column definition of an expression (no table).
fn def(name: &str, charset: u16, len: u32, ty: ColumnType, flags: u16, decimals: u8) -> Vec<u8> {
    resultset::definition(["", "", "", name, ""], resultset::Fixed { charset, len, ty, flags, decimals })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_outside_quotes_and_bound_as_literals() {
        let t = "SELECT ?, '?', `?`, \"?\", F(?)";
        let at = placeholders(t);
        assert_eq!(at, [7, 27]);
        let v = [Value::Text(b"it's".to_vec()), Value::Int(-3)];
        assert_eq!(bind(t, &at, &v), "SELECT 'it''s', '?', `?`, \"?\", F(-3)");
        assert_eq!(bind("SELECT ?", &[7], &[]), "SELECT NULL", "a value not sent is NULL");
        let items = placeholder_items("SELECT F(?), ?, 1, ? , F(?) AS f, '?'");
        let at = |column, name: &str, bare| Item { column, name: name.into(), bare };
        assert_eq!(items, [at(0, "F(?)", None), at(1, "?", Some(1)), at(3, "?", Some(2))]);
        assert!(placeholder_items("SET @x = ?").is_empty());
    }

    #[test]
    fn a_bare_placeholders_column_is_defined_for_its_value() {
        let mut packets = resultset::encode_typed(
            &[resultset::Column::number("5", ColumnType::LONG, 1, false)],
            &[vec![Some("5".into())]],
        );
        let d = def("?", 63, 21, ColumnType::LONGLONG, 0x81, 0);
        Execution::new(vec![(0, d.clone())], Vec::new()).apply(&mut packets);
        assert_eq!(packets[1], d);
        assert_eq!(packets[3], [0, 0, 5, 0, 0, 0, 0, 0, 0, 0], "written as its definition's type");
        // An expression that holds one: named by its text as prepared, and NULL-able.
        let col = resultset::Column::number("GTID_SUBSET('', '')", ColumnType::LONGLONG, 1, false)
            .flags(resultset::flags::NOT_NULL | resultset::flags::BINARY);
        let mut head = resultset::head_typed(&[col]);
        Execution::new(Vec::new(), vec![(0, "GTID_SUBSET(?, ?)".into(), true)]).apply(&mut head);
        let (name, resultset::Shape { ty, flags, .. }) = resultset::column_def(&head[1]).unwrap();
        assert_eq!((name.as_str(), ty, flags), ("GTID_SUBSET(?, ?)", ColumnType::LONGLONG, resultset::flags::BINARY));
    }

    #[test]
    fn long_data_is_bounded() {
        let mut p = Prepared::default();
        let id = p.take_id();
        let st = Statement {
            text: "SELECT ?".into(),
            at: vec![7],
            types: Vec::new(),
            long: Vec::new(),
            too_long: false,
            items: vec![Item { column: 0, name: "?".into(), bare: Some(0) }],
            kinds: Vec::new(),
            sent: Vec::new(),
        };
        p.map.insert(id, st);
        p.long_data(id, 0, b"ab");
        p.long_data(id, 0, b"cd");
        p.long_data(id, 5, b"nowhere");
        p.long_data(id + 1, 0, b"nobody's");
        assert_eq!(p.get_mut(id).unwrap().long, [Some(b"abcd".to_vec())]);
        p.long_data(id, 0, &vec![0; MAX_BYTES]);
        assert!(p.get_mut(id).unwrap().too_long);
        assert_eq!(p.take_id(), id + 1);
    }
}
