//! The condition of `SHOW [GLOBAL | SESSION] VARIABLES | STATUS [LIKE 'p' | WHERE ...]`:
//! a LIKE pattern, or a WHERE over `Variable_name` and `Value` with `=`, `LIKE`,
//! `IN (...)`, joined by `OR` and `AND`. That covers what clients send: binlogd's
//! own connect (`WHERE Variable_name IN (...)`), go-mysql, Debezium, Maxwell, Canal.
//! <https://dev.mysql.com/doc/refman/8.4/en/show-variables.html>

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
        let toks = tokens(rest)?;
        let kw = |t: Option<&Tok>, k: &str| matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k));
        match toks.first() {
            None => Ok(Filter::all()),
            Some(_) if kw(toks.first(), "LIKE") => match toks.as_slice() {
                [_, Tok::Str(p)] => Ok(Filter(vec![vec![Test::Like(0, p.clone(), false)]])),
                _ => Err("LIKE takes one quoted pattern".into()),
            },
            Some(_) if kw(toks.first(), "WHERE") => {
                let mut p = Parser { toks: &toks[1..], at: 0, depth: 0 };
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
        let col = |c: usize| if c == 0 { name } else { value };
        self.0.iter().any(|all| {
            all.iter().all(|t| match t {
                Test::Like(c, p, not) => super::sql::like(p, col(*c)) != *not,
                Test::Eq(c, v, not) => v.eq_ignore_ascii_case(col(*c)) != *not,
                Test::In(c, vs, not) => vs.iter().any(|v| v.eq_ignore_ascii_case(col(*c))) != *not,
            })
        })
    }
}

struct Parser<'a> {
    toks: &'a [Tok],
    at: usize,
    /// Parentheses open around the test being read.
    depth: usize,
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
        let col = match self.next() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("Variable_name") => 0,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("Value") => 1,
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
            other => return Err(format!("expected Variable_name or Value, found {other:?}")),
        };
        let not = self.peek_kw("NOT");
        if not {
            self.at += 1;
        }
        match self.next() {
            Some(Tok::Punct('=')) if !not => match self.next() {
                Some(Tok::Str(v)) => Ok(vec![Test::Eq(col, v.clone(), false)]),
                _ => Err("= takes a quoted string".into()),
            },
            Some(Tok::Word(w)) if w == "!=" && !not => match self.next() {
                Some(Tok::Str(v)) => Ok(vec![Test::Eq(col, v.clone(), true)]),
                _ => Err("!= takes a quoted string".into()),
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
                    match self.next() {
                        Some(Tok::Str(v)) => vs.push(v.clone()),
                        _ => return Err("IN takes quoted strings".into()),
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
    fn refuses_what_it_cannot_read_with_a_reason() {
        for bad in ["WHERE", "WHERE x = 'y'", "LIKE", "WHERE Variable_name IN ('a'", "WHERE Value = 'a", "GARBAGE"] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
    }
}
