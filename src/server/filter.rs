//! The condition of `SHOW [GLOBAL | SESSION] VARIABLES | STATUS [LIKE 'p' | WHERE ...]`
//! and of the other SHOW statements that take one (`SHOW COLLATION`, `SHOW CHARACTER
//! SET`): a LIKE pattern on the first column, or a WHERE over the columns by name
//! (`Variable_name` and `Value`) with `=`, `LIKE`, `IN (...)`, joined by `OR` and
//! `AND`. That covers what clients send: binlogd's own connect (`WHERE Variable_name
//! IN (...)`), go-mysql, Debezium, Maxwell, Canal.
//! <https://dev.mysql.com/doc/refman/8.4/en/show-variables.html>
//! <https://dev.mysql.com/doc/refman/8.4/en/extended-show.html>

use super::sql::{tokens, Tok};

/// A parsed condition: OR of ANDs of tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter(Vec<Vec<Test>>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Test {
    /// Column (0 name, 1 value), pattern.
    Like(usize, String, bool),
    Eq(usize, String, bool),
    In(usize, Vec<String>, bool),
}

impl Filter {
    /// Everything.
    pub fn all() -> Filter {
        Filter(vec![Vec::new()])
    }

    /// Parses what follows `VARIABLES` or `STATUS`: nothing, `LIKE 'p'`, or `WHERE ...`.
    pub fn parse(rest: &str) -> Result<Filter, String> {
        Filter::parse_over(rest, &["Variable_name", "Value"])
    }

    /// The same for a listing whose columns are `columns`.
    pub fn parse_over(rest: &str, columns: &[&str]) -> Result<Filter, String> {
        let toks = tokens(rest)?;
        let kw = |t: Option<&Tok>, k: &str| matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k));
        match toks.first() {
            None => Ok(Filter::all()),
            Some(_) if kw(toks.first(), "LIKE") => match toks.as_slice() {
                [_, Tok::Str(p)] => Ok(Filter(vec![vec![Test::Like(0, p.clone(), false)]])),
                _ => Err("LIKE takes one quoted pattern".into()),
            },
            Some(_) if kw(toks.first(), "WHERE") => {
                let mut p = Parser { toks: &toks[1..], at: 0, depth: 0, columns };
                let f = p.or()?;
                if p.at != p.toks.len() {
                    return Err("unexpected words after the condition".into());
                }
                Ok(f)
            }
            Some(_) => Err("expected LIKE or WHERE".into()),
        }
    }

    pub fn matches(&self, name: &str, value: &str) -> bool {
        self.matches_row(&[Some(name), Some(value)])
    }

    /// Does a row pass? A test of a NULL value passes neither way, as in SQL.
    pub fn matches_row(&self, row: &[Option<&str>]) -> bool {
        self.0.iter().any(|all| {
            all.iter().all(|t| {
                let (c, not) = match t {
                    Test::Like(c, _, not) | Test::Eq(c, _, not) | Test::In(c, _, not) => (*c, *not),
                };
                let Some(x) = row.get(c).copied().flatten() else { return false };
                let hit = match t {
                    Test::Like(_, p, _) => super::sql::like(p, x),
                    Test::Eq(_, v, _) => v.eq_ignore_ascii_case(x),
                    Test::In(_, vs, _) => vs.iter().any(|v| v.eq_ignore_ascii_case(x)),
                };
                hit != not
            })
        })
    }
}

/// A value in a condition: a quoted string, or a number as written.
fn value(t: Option<&Tok>) -> Option<String> {
    match t {
        Some(Tok::Str(v)) => Some(v.clone()),
        Some(Tok::Word(w)) if w.parse::<f64>().is_ok() => Some(w.clone()),
        _ => None,
    }
}

struct Parser<'a> {
    toks: &'a [Tok],
    at: usize,
    /// Parentheses open around the test being read.
    depth: usize,
    /// The columns a test may name.
    columns: &'a [&'a str],
}

/// The most parentheses a condition may nest: each is a level of recursion, and a
/// client's statement must not exhaust the connection thread's stack.
const MAX_DEPTH: usize = 32;

impl Parser<'_> {
    fn peek_kw(&self, k: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn next(&mut self) -> Option<&Tok> {
        let t = self.toks.get(self.at);
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut any = Vec::new();
        loop {
            let mut all = Vec::new();
            loop {
                all.extend(self.test()?);
                if !self.peek_kw("AND") {
                    break;
                }
                self.at += 1;
            }
            any.push(all);
            if !self.peek_kw("OR") {
                return Ok(Filter(any));
            }
            self.at += 1;
        }
    }

    /// One test; a parenthesized OR of single tests is taken as an IN.
    fn test(&mut self) -> Result<Vec<Test>, String> {
        let columns = self.columns;
        let col = match self.next() {
            Some(Tok::Word(w)) if columns.iter().any(|c| c.eq_ignore_ascii_case(w)) => {
                columns.iter().position(|c| c.eq_ignore_ascii_case(w)).unwrap_or(0)
            }
            Some(Tok::Punct('(')) => {
                if self.depth >= MAX_DEPTH {
                    return Err(format!("conditions nested more than {MAX_DEPTH} deep"));
                }
                self.depth += 1;
                let inner = self.or()?;
                self.depth -= 1;
                if self.next() != Some(&Tok::Punct(')')) {
                    return Err("a parenthesis is not closed".into());
                }
                // (a OR b) AND c: only one group inside is supported, as written.
                return match inner.0.as_slice() {
                    [one] => Ok(one.clone()),
                    _ => Err("OR inside parentheses is not supported".into()),
                };
            }
            other => return Err(format!("expected one of the columns {}, found {other:?}", columns.join(", "))),
        };
        let not = self.peek_kw("NOT");
        if not {
            self.at += 1;
        }
        match self.next() {
            Some(Tok::Punct('=')) if !not => match value(self.next()) {
                Some(v) => Ok(vec![Test::Eq(col, v, false)]),
                _ => Err("= takes a quoted string or a number".into()),
            },
            Some(Tok::Word(w)) if w == "!=" && !not => match value(self.next()) {
                Some(v) => Ok(vec![Test::Eq(col, v, true)]),
                _ => Err("!= takes a quoted string or a number".into()),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("LIKE") => match self.next() {
                Some(Tok::Str(p)) => Ok(vec![Test::Like(col, p.clone(), not)]),
                _ => Err("LIKE takes a quoted pattern".into()),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IN") => {
                if self.next() != Some(&Tok::Punct('(')) {
                    return Err("IN takes a parenthesized list".into());
                }
                let mut vs = Vec::new();
                loop {
                    match value(self.next()) {
                        Some(v) => vs.push(v),
                        _ => return Err("IN takes quoted strings or numbers".into()),
                    }
                    match self.next() {
                        Some(Tok::Punct(',')) => {}
                        Some(Tok::Punct(')')) => return Ok(vec![Test::In(col, vs, not)]),
                        _ => return Err("IN's list is not closed".into()),
                    }
                }
            }
            other => Err(format!("expected =, LIKE or IN, found {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeply_nested_conditions_are_refused_not_recursed_into() {
        let deep = format!("WHERE {}Variable_name = 'x'{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(Filter::parse(&deep).unwrap_err().contains("nested"));
        let ok = format!("WHERE {}Variable_name = 'x'{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(Filter::parse(&ok).is_ok());
    }

    #[test]
    fn parses_what_clients_send() {
        let f = Filter::parse("WHERE Variable_name IN ('server_uuid','binlog_checksum')").unwrap();
        assert!(f.matches("binlog_checksum", "CRC32") && f.matches("SERVER_UUID", "x") && !f.matches("version", ""));
        let f = Filter::parse("LIKE 'binlog\\_format'").unwrap();
        assert!(f.matches("binlog_format", "ROW") && !f.matches("binlogxformat", ""));
        let f = Filter::parse("where `Variable_name` = 'gtid_mode' or Variable_name like 'log_%'").unwrap();
        assert!(f.matches("gtid_mode", "") && f.matches("log_bin", "") && !f.matches("version", ""));
        let f = Filter::parse("WHERE Variable_name LIKE 'binlog%' AND Value != 'ROW'").unwrap();
        assert!(f.matches("binlog_checksum", "CRC32") && !f.matches("binlog_format", "ROW"));
        let f = Filter::parse("WHERE Variable_name NOT IN ('a')").unwrap();
        assert!(f.matches("b", "") && !f.matches("a", ""));
        assert!(Filter::parse("").unwrap().matches("anything", ""));
    }

    #[test]
    fn a_listings_condition_names_its_columns_and_skips_nulls() {
        let cols = ["Collation", "Charset", "Id", "Default"];
        let f = Filter::parse_over("WHERE Charset = 'utf8mb4' AND `Default` = 'Yes'", &cols).unwrap();
        assert!(f.matches_row(&[Some("utf8mb4_general_ci"), Some("utf8mb4"), Some("45"), Some("Yes")]));
        assert!(!f.matches_row(&[Some("utf8mb4_bin"), Some("utf8mb4"), Some("46"), Some("")]));
        let f = Filter::parse_over("WHERE Id IN (33, 45)", &cols).unwrap();
        assert!(f.matches_row(&[Some("x"), Some("y"), Some("45"), None]));
        assert!(!f.matches_row(&[Some("x"), Some("y"), None, None]));
        let f = Filter::parse_over("WHERE Id NOT IN (33)", &cols).unwrap();
        assert!(!f.matches_row(&[Some("x"), Some("y"), None, None]), "NULL passes no test");
        assert!(Filter::parse_over("LIKE 'utf8%'", &cols).unwrap().matches_row(&[Some("utf8mb4_bin")]));
        assert!(Filter::parse_over("WHERE Variable_name = 'x'", &cols).is_err());
    }

    #[test]
    fn refuses_what_it_cannot_read_with_a_reason() {
        for bad in ["WHERE", "WHERE x = 'y'", "LIKE", "WHERE Variable_name IN ('a'", "WHERE Value = 'a", "GARBAGE"] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
    }
}
