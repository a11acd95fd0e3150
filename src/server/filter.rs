//! The condition of `SHOW [GLOBAL | SESSION] VARIABLES | STATUS [LIKE 'p' | WHERE ...]`:
//! a LIKE pattern, or a WHERE over `Variable_name` and `Value` with `=`, `LIKE`,
//! `IN (...)`, joined by `OR` and `AND`. That covers what clients send: binlogd's
//! own connect (`WHERE Variable_name IN (...)`), go-mysql, Debezium, Maxwell, Canal.
//! <https://dev.mysql.com/doc/refman/8.4/en/show-variables.html>

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

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Punct(char),
}

fn tokens(t: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut it = t.chars().peekable();
    while let Some(&c) = it.peek() {
        if c.is_whitespace() {
            it.next();
        } else if c == '\'' || c == '"' {
            it.next();
            let mut s = String::new();
            loop {
                match it.next() {
                    None => return Err("a quoted string is not closed".into()),
                    // As in SQL string literals: `\%` and `\_` keep their backslash
                    // (LIKE reads it), other escapes stand for the character.
                    Some('\\') => match it.next() {
                        Some(e @ ('%' | '_')) => {
                            s.push('\\');
                            s.push(e);
                        }
                        Some(e) => s.push(e),
                        None => s.push('\\'),
                    },
                    Some(q) if q == c && it.peek() == Some(&c) => {
                        it.next();
                        s.push(c);
                    }
                    Some(q) if q == c => break,
                    Some(x) => s.push(x),
                }
            }
            out.push(Tok::Str(s));
        } else if c == '`' {
            it.next();
            let w: String = it.by_ref().take_while(|&x| x != '`').collect();
            out.push(Tok::Word(w));
        } else if matches!(c, '(' | ')' | ',' | '=') {
            it.next();
            out.push(Tok::Punct(c));
        } else if c == '!' || c == '<' {
            // != and <>: the negated =.
            it.next();
            if matches!(it.peek(), Some('=') | Some('>')) {
                it.next();
            }
            out.push(Tok::Word("!=".into()));
        } else {
            let mut w = String::new();
            while let Some(&x) = it.peek() {
                if x.is_alphanumeric() || x == '_' || x == '.' || x == '@' {
                    w.push(x);
                    it.next();
                } else {
                    break;
                }
            }
            if w.is_empty() {
                return Err(format!("unexpected '{c}'"));
            }
            out.push(Tok::Word(w));
        }
    }
    Ok(out)
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
