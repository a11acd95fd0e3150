//! The tables binlogd answers SELECT from. `information_schema.PROCESSLIST`, whose rows
//! are SHOW PROCESSLIST's: failover managers read it to find a server's replicas
//! (orchestrator's discovery: `select substring_index(host, ':', 1) as slave_hostname
//! from information_schema.processlist where command IN ('Binlog Dump', 'Binlog Dump
//! GTID')`). The variables and status tables, whose rows are SHOW VARIABLES' and SHOW
//! STATUS': MySQL's in performance_schema (`global_variables`, which MySQL Shell
//! reads), MariaDB's in information_schema (`GLOBAL_VARIABLES`, its names in upper
//! case). `information_schema.ENGINES`, whose rows are the primary's SHOW ENGINES'. A SELECT of one takes its columns, `SUBSTRING_INDEX`, and what `eval`
//! takes; a WHERE of `expr = | <> | != | LIKE expr` and `expr [NOT] IN (list)`
//! joined by AND; ORDER BY and LIMIT. Anything else is refused as any table is, but
//! for the statement binlogd asks of its source about the primary's variables
//! (`sysvars::META_MARIADB`, `META_MYSQL`), answered as the primary answered it, so
//! that a binlogd reading this one checks a session's SET as it does.
//! <https://dev.mysql.com/doc/refman/8.4/en/information-schema-processlist-table.html>
//! <https://dev.mysql.com/doc/refman/8.4/en/performance-schema-system-variable-tables.html>

use super::ctx::Ctx;
use super::query::{ER_BAD_FIELD_ERROR, ER_NOT_SUPPORTED_YET};
use super::reply::err_packet;
use super::show::{is_maria, no_schema, processlist_rows};
use super::sql::{call_args, like, limit, named, split_list, top_level, unquoted};
use super::values::{eval, Typed};
use super::values::{status_counters, system_variables};
use crate::proto::resultset::{self, flags, Column, ColumnType, Origin};

/// A table binlogd answers: where it is, which kind of server has it, its columns as
/// the server lists them (their types on the wire, and their widths and flags on
/// MariaDB and on MySQL: a text column's width is its characters), and its rows.
struct Table {
    schema: &'static str,
    name: &'static str,
    /// Which kind of primary has it: MariaDB (true), MySQL (false), or both (None).
    kind: Option<bool>,
    columns: &'static [Col],
    rows: fn(&Ctx) -> Vec<Vec<Option<String>>>,
    /// `SELECT *` is answered (MariaDB's PROCESSLIST has more columns than binlogd's).
    star: bool,
}

type Col = (&'static str, ColumnType, WidthFlags, WidthFlags);

const TABLES: &[Table] = &[
    Table {
        schema: "information_schema",
        name: "PROCESSLIST",
        kind: None,
        columns: &PROCESSLIST,
        rows: |s| processlist_rows(s, true),
        star: false,
    },
    Table {
        schema: "performance_schema",
        name: "global_variables",
        kind: Some(false),
        columns: &PS_VARIABLES,
        rows: |s| named_rows(system_variables(s, true), false),
        star: true,
    },
    Table {
        schema: "performance_schema",
        name: "session_variables",
        kind: Some(false),
        columns: &PS_VARIABLES,
        rows: |s| named_rows(system_variables(s, false), false),
        star: true,
    },
    Table {
        schema: "performance_schema",
        name: "global_status",
        kind: Some(false),
        columns: &PS_VARIABLES,
        rows: |s| named_rows(status_counters(s, true), false),
        star: true,
    },
    Table {
        schema: "performance_schema",
        name: "session_status",
        kind: Some(false),
        columns: &PS_VARIABLES,
        rows: |s| named_rows(status_counters(s, false), false),
        star: true,
    },
    Table {
        schema: "information_schema",
        name: "GLOBAL_VARIABLES",
        kind: Some(true),
        columns: &IS_VARIABLES,
        rows: |s| named_rows(system_variables(s, true), true),
        star: true,
    },
    Table {
        schema: "information_schema",
        name: "SESSION_VARIABLES",
        kind: Some(true),
        columns: &IS_VARIABLES,
        rows: |s| named_rows(system_variables(s, false), true),
        star: true,
    },
    Table {
        schema: "information_schema",
        name: "GLOBAL_STATUS",
        kind: Some(true),
        columns: &IS_VARIABLES,
        rows: |s| named_rows(status_counters(s, true), true),
        star: true,
    },
    Table {
        schema: "information_schema",
        name: "SESSION_STATUS",
        kind: Some(true),
        columns: &IS_VARIABLES,
        rows: |s| named_rows(status_counters(s, false), true),
        star: true,
    },
    Table {
        schema: "information_schema",
        name: "ENGINES",
        kind: None,
        columns: &ENGINES,
        rows: engine_rows,
        star: true,
    },
];

/// The primary's storage engines, as its SHOW ENGINES listed them (the same columns).
fn engine_rows(s: &Ctx) -> Vec<Vec<Option<String>>> {
    let p = s.srv.primary();
    p.as_ref().and_then(|p| p.variables.listing("SHOW ENGINES")).map(|l| l.rows.clone()).unwrap_or_default()
}

/// information_schema.ENGINES (mysqltuner reads it).
const ENGINES: [Col; 6] = [
    ("ENGINE", ColumnType::VAR_STRING, (64, NOT_NULL), (64, flags::NOT_NULL)),
    ("SUPPORT", ColumnType::VAR_STRING, (8, NOT_NULL), (8, flags::NOT_NULL)),
    ("COMMENT", ColumnType::VAR_STRING, (160, NOT_NULL), (80, flags::NOT_NULL)),
    ("TRANSACTIONS", ColumnType::VAR_STRING, (3, flags::NO_DEFAULT_VALUE), (3, 0)),
    ("XA", ColumnType::VAR_STRING, (3, flags::NO_DEFAULT_VALUE), (3, 0)),
    ("SAVEPOINTS", ColumnType::VAR_STRING, (3, flags::NO_DEFAULT_VALUE), (3, 0)),
];

/// SHOW VARIABLES' or SHOW STATUS' rows as a table's: MariaDB's names in upper case.
fn named_rows(v: Vec<(String, String)>, upper: bool) -> Vec<Vec<Option<String>>> {
    v.into_iter().map(|(n, x)| vec![Some(if upper { n.to_ascii_uppercase() } else { n }), Some(x)]).collect()
}

/// MySQL's performance_schema variables and status tables: the name is the key.
const PS_VARIABLES: [Col; 2] = [
    (
        "VARIABLE_NAME",
        ColumnType::VAR_STRING,
        (64, NOT_NULL),
        (64, flags::NOT_NULL | flags::PRI_KEY | flags::PART_KEY | flags::NO_DEFAULT_VALUE),
    ),
    ("VARIABLE_VALUE", ColumnType::VAR_STRING, (1024, 0), (1024, 0)),
];

/// MariaDB's information_schema variables and status tables.
const IS_VARIABLES: [Col; 2] = [
    ("VARIABLE_NAME", ColumnType::VAR_STRING, (64, NOT_NULL), (64, NOT_NULL)),
    ("VARIABLE_VALUE", ColumnType::VAR_STRING, (4096, NOT_NULL), (4096, NOT_NULL)),
];

/// PROCESSLIST's columns as MySQL lists them (INFO is a LONGTEXT of 65535 utf8mb3
/// characters). MariaDB has these and more.
const PROCESSLIST: [Col; 8] = [
    ("ID", ColumnType::LONGLONG, (4, NOT_NULL), (22, flags::NOT_NULL | flags::UNSIGNED)),
    ("USER", ColumnType::VAR_STRING, (128, NOT_NULL), (32, flags::NOT_NULL)),
    ("HOST", ColumnType::VAR_STRING, (64, NOT_NULL), (261, flags::NOT_NULL)),
    ("DB", ColumnType::VAR_STRING, (64, flags::NO_DEFAULT_VALUE), (64, 0)),
    ("COMMAND", ColumnType::VAR_STRING, (16, NOT_NULL), (16, flags::NOT_NULL)),
    ("TIME", ColumnType::LONG, (7, NOT_NULL), (8, flags::NOT_NULL)),
    ("STATE", ColumnType::VAR_STRING, (64, flags::NO_DEFAULT_VALUE), (64, 0)),
    ("INFO", ColumnType::BLOB, (196_605, flags::BLOB | flags::NO_DEFAULT_VALUE), (196_605, flags::BLOB)),
];

/// A column's width and flags on one server kind.
type WidthFlags = (u32, u16);

/// MariaDB's information_schema columns are NOT NULL without a default.
const NOT_NULL: u16 = flags::NOT_NULL | flags::NO_DEFAULT_VALUE;

/// Column `i` of table `t`, named `name` by the statement, which names the table
/// `table`, as the primary's kind declares it.
fn column(t: &Table, i: usize, name: &str, table: &str, maria: bool) -> Option<Column> {
    let (org_name, ty, m, y) = t.columns.get(i)?;
    let (width, flags) = if maria { *m } else { *y };
    let at = Origin { schema: t.schema, table: table.into(), org_table: t.name, org_name };
    Some(Column { width, flags, ..Column::typed(name, *ty) }.from_table(at))
}

/// `SELECT list` where `list` reads from one of the tables binlogd answers: its result,
/// or None when it names no table binlogd has.
pub(super) fn select(s: &Ctx, list: &str) -> Option<Vec<Vec<u8>>> {
    // What binlogd asks of its source about the variables (a binlogd reading this
    // one asks it so), answered as the primary answered it.
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let asked = words(&format!("SELECT {list}"));
    let kept = [crate::sysvars::META_MARIADB, crate::sysvars::META_MYSQL].into_iter().find(|m| words(m) == asked);
    if let Some(statement) = kept {
        let p = s.srv.primary();
        if let Some(l) = p.as_ref().and_then(|p| p.variables.listing(statement)) {
            return Some(super::show::listing_rows(l, |_| true));
        }
    }
    let up = list.to_ascii_uppercase();
    let at = top_level(&up, " FROM ")?;
    let rest = list[at + 6..].trim();
    // The clauses from the end: [LIMIT ...], before it [ORDER BY ...], before it [WHERE ...].
    let clause = |t: &'_ str, kw: &str| -> (String, Option<String>) {
        match top_level(&t.to_ascii_uppercase(), kw) {
            Some(i) => (
                t.get(..i).unwrap_or_default().to_string(),
                Some(t.get(i + kw.len()..).unwrap_or_default().trim().to_string()),
            ),
            None => (t.to_string(), None),
        }
    };
    let (rest, limit) = clause(rest, " LIMIT ");
    let (rest, order) = clause(&rest, " ORDER BY ");
    let (table, cond) = clause(&rest, " WHERE ");
    let table = table.trim().replace('`', "");
    let (schema, written) = table.split_once('.')?;
    let maria = is_maria(s);
    let t = TABLES.iter().find(|t| {
        t.schema.eq_ignore_ascii_case(schema.trim())
            && t.name.eq_ignore_ascii_case(written.trim())
            && t.kind.is_none_or(|k| k == maria)
    })?;
    if nesting(list) > MAX_NESTING {
        return Some(vec![refuse(t, &format!("SELECT {list}"))]);
    }
    let how = Shape { table: written.trim(), cond: cond.as_deref(), order: order.as_deref(), limit: limit.as_deref() };
    Some(answer(s, t, &list[..at], &how).unwrap_or_else(|e| vec![e]))
}

/// A SELECT's clauses after its table, as written.
struct Shape<'a> {
    /// The table as the statement names it, without its schema.
    table: &'a str,
    cond: Option<&'a str>,
    order: Option<&'a str>,
    limit: Option<&'a str>,
}

/// How two values of a column compare in ORDER BY: numbers as numbers, text in the
/// table's case-insensitive collation, NULL first.
fn order_of(a: &Typed, b: &Typed) -> std::cmp::Ordering {
    match (&a.0, &b.0) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Less,
        (_, None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => match (x.parse::<i128>(), y.parse::<i128>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
        },
    }
}

/// The deepest parentheses a statement may nest: each level of a function call is a
/// level of recursion on the connection thread's stack.
const MAX_NESTING: usize = 32;

/// How deep `t` nests parentheses outside quotes.
fn nesting(t: &str) -> usize {
    let deepest = unquoted(t).filter(|&(_, c, _)| c == '(').map(|(_, _, d)| d + 1).max();
    usize::try_from(deepest.unwrap_or(0)).unwrap_or(0)
}

fn answer(s: &Ctx, t: &Table, items: &str, how: &Shape) -> Result<Vec<Vec<u8>>, Vec<u8>> {
    let items = split_list(items);
    let star = matches!(items.as_slice(), [one] if one == "*");
    if star && !t.star && is_maria(s) {
        return Err(refuse(t, &format!("SELECT * FROM {}.{}", t.schema, t.name)));
    }
    let conds = match how.cond {
        Some(c) => split_and(c),
        None => Vec::new(),
    };
    let (offset, count) = match how.limit {
        Some(l) => limit(l).ok_or_else(|| refuse(t, &format!("LIMIT {l}")))?,
        None => (0, usize::MAX),
    };
    // ORDER BY items: an expression, a select item's alias, or its position; then
    // ASC or DESC.
    let mut order = Vec::new();
    for o in how.order.map(split_list).unwrap_or_default() {
        let up = o.to_ascii_uppercase();
        // `up` is `o` in ASCII upper case: the same length, the same boundaries.
        let (e, desc) = match (up.strip_suffix(" DESC"), up.strip_suffix(" ASC")) {
            (Some(k), _) => (o.get(..k.len()).unwrap_or_default().trim().to_string(), true),
            (_, Some(k)) => (o.get(..k.len()).unwrap_or_default().trim().to_string(), false),
            _ => (o.clone(), false),
        };
        let by_alias = items.iter().map(|i| named(i)).find(|(_, n)| n.eq_ignore_ascii_case(&e)).map(|(x, _)| x);
        let by_position = e.parse::<usize>().ok().map(|k| {
            if star {
                t.columns.get(k.wrapping_sub(1)).map(|c| c.0.to_string())
            } else {
                items.get(k.wrapping_sub(1)).map(|i| named(i).0)
            }
        });
        let e = match by_position {
            Some(Some(x)) => x,
            Some(None) => return Err(refuse(t, &format!("ORDER BY {e}"))),
            None => by_alias.unwrap_or(e),
        };
        order.push((e, desc));
    }
    // The columns are named and typed from an empty row: a column's type does not
    // depend on its value, and an unknown column is refused even with no row.
    let cols: Vec<Column> = if star {
        t.columns.iter().enumerate().filter_map(|(i, c)| column(t, i, c.0, how.table, is_maria(s))).collect()
    } else {
        let empty = vec![None; t.columns.len()];
        let mut cols = Vec::new();
        for item in &items {
            let (expr, name) = named(item);
            let mut c = Column { name, ..value(s, t, &expr, &empty, Clause::Fields)?.1 };
            if let Some(o) = c.origin.as_mut() {
                o.table = how.table.to_string();
                // A column named as itself (`t`.`host`) is named without its quotes and table.
                if c.name == expr {
                    let bare = expr.rsplit('.').next().unwrap_or(&expr);
                    c.name = bare.trim_matches('`').to_string();
                }
            }
            cols.push(c);
        }
        cols
    };
    let mut kept = Vec::new();
    for row in (t.rows)(s) {
        let mut keep = true;
        for c in &conds {
            keep &= test(s, t, c, &row)?;
        }
        if keep {
            let mut keys = Vec::new();
            for (e, _) in &order {
                keys.push(value(s, t, e, &row, Clause::Order)?);
            }
            kept.push((keys, row));
        }
    }
    kept.sort_by(|(a, _), (b, _)| {
        let mut o = std::cmp::Ordering::Equal;
        for ((x, y), (_, desc)) in a.iter().zip(b).zip(&order) {
            o = o.then_with(|| if *desc { order_of(y, x) } else { order_of(x, y) });
        }
        o
    });
    let mut out = Vec::new();
    for (_, row) in kept.into_iter().skip(offset).take(count) {
        if star {
            out.push(row);
            continue;
        }
        let mut vals = Vec::new();
        for item in &items {
            vals.push(value(s, t, &named(item).0, &row, Clause::Fields)?.0);
        }
        out.push(vals);
    }
    Ok(resultset::encode_typed(&cols, &out))
}

/// Where an expression is, for ER_BAD_FIELD_ERROR's message.
#[derive(Clone, Copy)]
enum Clause {
    Fields,
    Where,
    Order,
}

/// The value of `e` on `row`: a column, `SUBSTRING_INDEX(str, delim, count)`, or
/// what `eval` takes. A name that is none of those is an unknown column, as mysqld
/// says.
fn value(s: &Ctx, table: &Table, e: &str, row: &[Option<String>], at: Clause) -> Result<Typed, Vec<u8>> {
    let t = e.trim();
    let bare = t.replace('`', "");
    let name = bare.rsplit_once('.').filter(|(q, _)| q.eq_ignore_ascii_case(table.name)).map_or(&*bare, |x| x.1);
    if let Some(i) = table.columns.iter().position(|c| c.0.eq_ignore_ascii_case(name)) {
        let c = column(table, i, name, table.name, is_maria(s)).ok_or_else(|| refuse(table, t))?;
        return Ok((row.get(i).cloned().flatten(), c));
    }
    if let Some(args) = call_args(t, "SUBSTRING_INDEX(") {
        let parts = split_list(args);
        let [x, delim, count] = parts.as_slice() else {
            return Err(refuse(table, t));
        };
        let (x, delim, count) =
            (value(s, table, x, row, at)?, value(s, table, delim, row, at)?.0, value(s, table, count, row, at)?.0);
        // Text as wide as the string it cuts, which may be NULL.
        let col = Column::typed("", ColumnType::VAR_STRING).width(x.1.width);
        let v = match (x.0, delim, count.and_then(|c| c.parse::<i64>().ok())) {
            (Some(x), Some(d), Some(n)) => Some(substring_index(&x, &d, n)),
            _ => None,
        };
        return Ok((v, col));
    }
    let ident = |w: &str| {
        w.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    match eval(s, t) {
        Err(_) if bare.split('.').all(ident) => {
            // MariaDB (10.11, 11.x) names the clause as it is written.
            let clause = match (at, is_maria(s)) {
                (Clause::Fields, false) => "field list",
                (Clause::Where, false) => "where clause",
                (Clause::Order, false) => "order clause",
                (Clause::Fields, true) => "SELECT",
                (Clause::Where, true) => "WHERE",
                (Clause::Order, true) => "ORDER BY",
            };
            Err(err_packet(ER_BAD_FIELD_ERROR, "42S22", &format!("Unknown column '{bare}' in '{clause}'")))
        }
        r => r,
    }
}

/// MySQL's SUBSTRING_INDEX: what comes before the `n`th `delim` from the left (n > 0),
/// or after the `n`th from the right (n < 0); all of `x` when it has fewer.
fn substring_index(x: &str, delim: &str, n: i64) -> String {
    if n == 0 || delim.is_empty() {
        return String::new();
    }
    let k = n.unsigned_abs() as usize;
    if n > 0 {
        match x.match_indices(delim).nth(k - 1) {
            Some((i, _)) => x[..i].to_string(),
            None => x.to_string(),
        }
    } else {
        match x.rmatch_indices(delim).nth(k - 1) {
            Some((i, _)) => x[i + delim.len()..].to_string(),
            None => x.to_string(),
        }
    }
}

/// Whether `row` passes the condition `c`: `a [NOT] IN (list)`, `a LIKE b`, `a = b`,
/// `a <> b`, `a != b`, compared as strings with ASCII case ignored (the table's
/// collation). A NULL passes none.
fn test(s: &Ctx, t: &Table, c: &str, row: &[Option<String>]) -> Result<bool, Vec<u8>> {
    let up = c.to_ascii_uppercase();
    let eq = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => Some(a.eq_ignore_ascii_case(b)),
        _ => None,
    };
    for (kw, negate) in [(" NOT IN ", true), (" IN ", false)] {
        if let Some(i) = top_level(&up, kw) {
            let list = c[i + kw.len()..].trim();
            let Some(inner) = list.strip_prefix('(').and_then(|l| l.strip_suffix(')')) else {
                return Err(refuse(t, c));
            };
            let a = value(s, t, &c[..i], row, Clause::Where)?.0;
            let mut found = false;
            for v in split_list(inner) {
                found |= eq(&a, &value(s, t, &v, row, Clause::Where)?.0) == Some(true);
            }
            return Ok(a.is_some() && found != negate);
        }
    }
    if let Some(i) = top_level(&up, " LIKE ") {
        let (a, p) = (value(s, t, &c[..i], row, Clause::Where)?.0, value(s, t, &c[i + 6..], row, Clause::Where)?.0);
        return Ok(matches!((a, p), (Some(a), Some(p)) if like(&p, &a)));
    }
    for (op, want) in [("<>", false), ("!=", false), ("=", true)] {
        if let Some(i) = top_level(&up, op) {
            let w = Clause::Where;
            let (a, b) = (value(s, t, &c[..i], row, w)?.0, value(s, t, &c[i + op.len()..], row, w)?.0);
            return Ok(eq(&a, &b) == Some(want));
        }
    }
    Err(refuse(t, c))
}

/// The conditions of a WHERE joined by AND.
fn split_and(c: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = c;
    while let Some(i) = top_level(&rest.to_ascii_uppercase(), " AND ") {
        out.push(rest[..i].trim().to_string());
        rest = &rest[i + 5..];
    }
    out.push(rest.trim().to_string());
    out
}

fn refuse(t: &Table, what: &str) -> Vec<u8> {
    if what.to_ascii_uppercase().starts_with("SELECT") {
        return no_schema(what);
    }
    err_packet(ER_NOT_SUPPORTED_YET, "42000", &format!("binlogd cannot evaluate '{}' on {}", what.trim(), t.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_index_counts_from_either_end() {
        assert_eq!(substring_index("10.0.0.5:53412", ":", 1), "10.0.0.5");
        assert_eq!(substring_index("www.mysql.com", ".", 2), "www.mysql");
        assert_eq!(substring_index("www.mysql.com", ".", -2), "mysql.com");
        assert_eq!(substring_index("localhost", ":", 1), "localhost");
        assert_eq!(substring_index("a:b", ":", 0), "");
        assert_eq!(substring_index("a:b", "", 1), "");
        assert_eq!(substring_index("a:b", ":", -9), "a:b");
    }

    #[test]
    fn order_by_compares_numbers_as_numbers_text_without_case_and_null_first() {
        use std::cmp::Ordering::*;
        let v = |x: Option<&str>| (x.map(str::to_string), Column::typed("", ColumnType::VAR_STRING));
        assert_eq!(order_of(&v(Some("9")), &v(Some("10"))), Less);
        assert_eq!(order_of(&v(Some("b")), &v(Some("A"))), Greater);
        assert_eq!(order_of(&v(None), &v(Some("0"))), Less);
        assert_eq!(order_of(&v(None), &v(None)), Equal);
    }

    #[test]
    fn nesting_is_counted_outside_quotes() {
        assert_eq!(nesting("substring_index(substring_index(host, '((', 1), ':', 1)"), 2);
        let deep = format!("{}host{}", "substring_index(".repeat(5000), ", ':', 1)".repeat(5000));
        assert_eq!(nesting(&deep), 5000);
    }

    #[test]
    fn where_clauses_split_on_and_outside_quotes() {
        assert_eq!(split_and("command = 'a AND b' AND id <> 3"), vec!["command = 'a AND b'", "id <> 3"]);
        assert_eq!(top_level("X IN ('A IN B')", " IN "), Some(1));
        assert_eq!(top_level("F(A = B)", "="), None);
    }
}
