//! The one table binlogd answers SELECT from: `information_schema.PROCESSLIST`, whose
//! rows are SHOW PROCESSLIST's. Failover managers read it to find a server's replicas
//! (orchestrator's discovery: `select substring_index(host, ':', 1) as slave_hostname
//! from information_schema.processlist where command IN ('Binlog Dump', 'Binlog Dump
//! GTID')`). A SELECT of it takes its columns, `SUBSTRING_INDEX`, and what `eval`
//! takes; a WHERE of `expr = | <> | != | LIKE expr` and `expr [NOT] IN (list)`
//! joined by AND. Anything else is refused as any table is.
//! <https://dev.mysql.com/doc/refman/8.4/en/information-schema-processlist-table.html>

use super::ctx::Ctx;
use super::query::{ER_BAD_FIELD_ERROR, ER_NOT_SUPPORTED_YET};
use super::reply::err_packet;
use super::show::{is_maria, no_schema, processlist_rows};
use super::sql::{call_args, like, named, split_list, top_level, unquoted};
use super::values::{eval, Typed};
use crate::proto::resultset::{self, Column, ColumnType};

/// The table's columns as MySQL lists them, and their types on the wire (INFO is a
/// LONGTEXT). MariaDB has these and more; `*` is taken on MySQL only.
const COLUMNS: [(&str, ColumnType); 8] = [
    ("ID", ColumnType::LONGLONG),
    ("USER", ColumnType::VAR_STRING),
    ("HOST", ColumnType::VAR_STRING),
    ("DB", ColumnType::VAR_STRING),
    ("COMMAND", ColumnType::VAR_STRING),
    ("TIME", ColumnType::LONG),
    ("STATE", ColumnType::VAR_STRING),
    ("INFO", ColumnType::BLOB),
];

/// `SELECT list` where `list` reads from the PROCESSLIST table: its result, or None
/// when it names no table binlogd has.
pub(super) fn select(s: &Ctx, list: &str) -> Option<Vec<Vec<u8>>> {
    let up = list.to_ascii_uppercase();
    let at = top_level(&up, " FROM ")?;
    let rest = list[at + 6..].trim();
    let (table, cond) = match top_level(&rest.to_ascii_uppercase(), " WHERE ") {
        Some(i) => (&rest[..i], Some(rest[i + 7..].trim())),
        None => (rest, None),
    };
    let table = table.trim().replace('`', "");
    if !table.eq_ignore_ascii_case("information_schema.processlist") {
        return None;
    }
    if nesting(list) > MAX_NESTING {
        return Some(vec![refuse(&format!("SELECT {list}"))]);
    }
    Some(answer(s, &list[..at], cond).unwrap_or_else(|e| vec![e]))
}

/// The deepest parentheses a statement may nest: each level of a function call is a
/// level of recursion on the connection thread's stack.
const MAX_NESTING: usize = 32;

/// How deep `t` nests parentheses outside quotes.
fn nesting(t: &str) -> usize {
    let deepest = unquoted(t).filter(|&(_, c, _)| c == '(').map(|(_, _, d)| d + 1).max();
    usize::try_from(deepest.unwrap_or(0)).unwrap_or(0)
}

fn answer(s: &Ctx, items: &str, cond: Option<&str>) -> Result<Vec<Vec<u8>>, Vec<u8>> {
    let items = split_list(items);
    let star = matches!(items.as_slice(), [one] if one == "*");
    if star && is_maria(s) {
        return Err(refuse("SELECT * FROM information_schema.PROCESSLIST"));
    }
    let conds = match cond {
        Some(c) => split_and(c),
        None => Vec::new(),
    };
    // The columns are named and typed from an empty row: a column's type does not
    // depend on its value, and an unknown column is refused even with no row.
    let cols: Vec<Column> = if star {
        COLUMNS.iter().map(|(n, t)| Column::typed(*n, *t)).collect()
    } else {
        let empty = vec![None; COLUMNS.len()];
        let mut cols = Vec::new();
        for item in &items {
            let (expr, name) = named(item);
            cols.push(Column::typed(name, value(s, &expr, &empty, Clause::Fields)?.1));
        }
        cols
    };
    let mut out = Vec::new();
    for row in processlist_rows(s, true) {
        let mut keep = true;
        for c in &conds {
            keep &= test(s, c, &row)?;
        }
        if !keep {
            continue;
        }
        if star {
            out.push(row);
            continue;
        }
        let mut vals = Vec::new();
        for item in &items {
            vals.push(value(s, &named(item).0, &row, Clause::Fields)?.0);
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
}

/// The value of `e` on `row`: a column, `SUBSTRING_INDEX(str, delim, count)`, or
/// what `eval` takes. A name that is none of those is an unknown column, as mysqld
/// says.
fn value(s: &Ctx, e: &str, row: &[Option<String>], at: Clause) -> Result<Typed, Vec<u8>> {
    let t = e.trim();
    let bare = t.replace('`', "");
    let name = bare.rsplit_once('.').filter(|(q, _)| q.eq_ignore_ascii_case("processlist")).map_or(&*bare, |x| x.1);
    if let Some(i) = COLUMNS.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Ok((row.get(i).cloned().flatten(), COLUMNS[i].1));
    }
    if let Some(args) = call_args(t, "SUBSTRING_INDEX(") {
        let parts = split_list(args);
        let [x, delim, count] = parts.as_slice() else {
            return Err(refuse(t));
        };
        let (x, delim, count) = (value(s, x, row, at)?.0, value(s, delim, row, at)?.0, value(s, count, row, at)?.0);
        let v = match (x, delim, count.and_then(|c| c.parse::<i64>().ok())) {
            (Some(x), Some(d), Some(n)) => Some(substring_index(&x, &d, n)),
            _ => None,
        };
        return Ok((v, ColumnType::VAR_STRING));
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
                (Clause::Fields, true) => "SELECT",
                (Clause::Where, true) => "WHERE",
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
fn test(s: &Ctx, c: &str, row: &[Option<String>]) -> Result<bool, Vec<u8>> {
    let up = c.to_ascii_uppercase();
    let eq = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => Some(a.eq_ignore_ascii_case(b)),
        _ => None,
    };
    for (kw, negate) in [(" NOT IN ", true), (" IN ", false)] {
        if let Some(i) = top_level(&up, kw) {
            let list = c[i + kw.len()..].trim();
            let Some(inner) = list.strip_prefix('(').and_then(|l| l.strip_suffix(')')) else {
                return Err(refuse(c));
            };
            let a = value(s, &c[..i], row, Clause::Where)?.0;
            let mut found = false;
            for v in split_list(inner) {
                found |= eq(&a, &value(s, &v, row, Clause::Where)?.0) == Some(true);
            }
            return Ok(a.is_some() && found != negate);
        }
    }
    if let Some(i) = top_level(&up, " LIKE ") {
        let (a, p) = (value(s, &c[..i], row, Clause::Where)?.0, value(s, &c[i + 6..], row, Clause::Where)?.0);
        return Ok(matches!((a, p), (Some(a), Some(p)) if like(&p, &a)));
    }
    for (op, want) in [("<>", false), ("!=", false), ("=", true)] {
        if let Some(i) = top_level(&up, op) {
            let w = Clause::Where;
            let (a, b) = (value(s, &c[..i], row, w)?.0, value(s, &c[i + op.len()..], row, w)?.0);
            return Ok(eq(&a, &b) == Some(want));
        }
    }
    Err(refuse(c))
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

fn refuse(what: &str) -> Vec<u8> {
    if what.to_ascii_uppercase().starts_with("SELECT") {
        return no_schema(what);
    }
    err_packet(ER_NOT_SUPPORTED_YET, "42000", &format!("binlogd cannot evaluate '{}' on PROCESSLIST", what.trim()))
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
