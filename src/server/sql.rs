//! The text of statements as clients send them: comments (versioned ones kept, as a
//! server of that version keeps them), comma lists, quoted strings, and SQL LIKE.

/// The characters of `t` outside quotes (`'`, `"`, `` ` ``; the quote marks left
/// out), each with its byte offset and how deep in parentheses it stands (a `(` counts
/// from the character after it).
pub(super) fn unquoted(t: &str) -> impl Iterator<Item = (usize, char, i32)> + '_ {
    let (mut depth, mut quote, mut escaped) = (0i32, None::<char>, false);
    t.char_indices().filter_map(move |(i, c)| match (quote, c) {
        // In a string, a backslash escapes the next character (a quote among them).
        (Some(_), _) if std::mem::take(&mut escaped) => None,
        (Some(q), '\\') if q != '`' => {
            escaped = true;
            None
        }
        (Some(q), c) if c == q => {
            quote = None;
            None
        }
        (Some(_), _) => None,
        (None, '\'' | '"' | '`') => {
            quote = Some(c);
            None
        }
        (None, '(') => {
            depth += 1;
            Some((i, c, depth - 1))
        }
        (None, ')') => {
            depth -= 1;
            Some((i, c, depth + 1))
        }
        (None, c) => Some((i, c, depth)),
    })
}

/// The argument of LIMIT: `count`, `offset, count` or `count OFFSET offset`, as
/// (offset, count).
pub(super) fn limit(t: &str) -> Option<(usize, usize)> {
    let num = |x: &str| x.trim().parse::<usize>().ok();
    let up = t.to_ascii_uppercase();
    if let Some((n, off)) = up.split_once(" OFFSET ") {
        return Some((num(off)?, num(n)?));
    }
    match t.split_once(',') {
        Some((off, n)) => Some((num(off)?, num(n)?)),
        None => Some((0, num(t)?)),
    }
}

/// The statements of a statement text (`clean`ed), as byte ranges: split at each `;`
/// outside quotes and parentheses, the empty ones left out.
pub fn statements(t: &str) -> Vec<std::ops::Range<usize>> {
    pieces(t, ';').into_iter().filter(|r| !r.is_empty()).collect()
}

/// Where `needle` first appears in `hay` outside quotes and parentheses (both in the
/// same case).
pub(super) fn top_level(hay: &str, needle: &str) -> Option<usize> {
    unquoted(hay).find(|&(i, _, d)| d == 0 && hay[i..].starts_with(needle)).map(|(i, _, _)| i)
}

/// The arguments of `t` when it is a call of `f` (given as `NAME(`, any case):
/// what stands between the parentheses.
pub(super) fn call_args<'a>(t: &'a str, f: &str) -> Option<&'a str> {
    t.get(..f.len()).filter(|p| p.eq_ignore_ascii_case(f))?;
    t.get(f.len()..)?.strip_suffix(')')
}

/// A select item's expression and its column name: its alias (`AS name`), else its
/// text (a string literal's column is named by the string, as mysqld names it).
pub(super) fn named(item: &str) -> (String, String) {
    match item.to_ascii_uppercase().rfind(" AS ") {
        Some(i) => (item[..i].to_string(), unquote(item[i + 4..].trim().trim_matches('`'))),
        // A string literal alone, nothing outside its quotes.
        None if (item.starts_with('\'') || item.starts_with('"')) && unquoted(item).next().is_none() => {
            (item.to_string(), unquote(item))
        }
        // A string with an introducer (`_binary'A'`): named as the string is.
        None => (item.to_string(), introduced(item).map_or_else(|| item.to_string(), unquote)),
    }
}

/// The quoted string of `_charset'...'`, where nothing stands outside its quotes.
fn introduced(item: &str) -> Option<&str> {
    let rest = item.strip_prefix('_')?;
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let s = rest[end..].trim_start();
    ((s.starts_with('\'') || s.starts_with('"')) && unquoted(s).next().is_none()).then_some(s)
}

/// The pieces of `t` between the `sep`s that stand outside quotes and parentheses,
/// each trimmed, as byte ranges of `t` (an empty piece is an empty range).
fn pieces(t: &str, sep: char) -> Vec<std::ops::Range<usize>> {
    let ends = unquoted(t).filter(|&(_, c, d)| c == sep && d == 0).map(|(i, _, _)| i).chain([t.len()]);
    let mut start = 0;
    let mut out = Vec::new();
    for end in ends {
        let piece = t.get(start..end).unwrap_or_default();
        let lead = piece.len() - piece.trim_start().len();
        out.push(start + lead..start + piece.trim_end().len().max(lead));
        start = end + 1;
    }
    out
}

/// Splits on commas outside quotes and parentheses (a last empty item left out).
pub(super) fn split_list(s: &str) -> Vec<String> {
    let mut ranges = pieces(s, ',');
    if ranges.last().is_some_and(|r| r.is_empty()) {
        ranges.pop();
    }
    ranges.into_iter().map(|r| s.get(r).unwrap_or_default().to_string()).collect()
}

pub(super) fn unquote(v: &str) -> String {
    let v = v.trim();
    let quote = v.chars().next().filter(|&q| q == '\'' || q == '"');
    match quote {
        Some(q) if v.len() >= 2 && v.ends_with(q) => string_value(&v[1..v.len() - 1], q),
        _ => v.to_string(),
    }
}

/// The value of a string literal's body, quoted by `q`: a doubled quote stands for one,
/// and backslash escapes (`\n`, `\t`, `\r`, `\0`, `\Z`, `\b` stand for their
/// characters; `\%` and `\_` keep their backslash, which LIKE reads; any other escaped
/// character stands for itself), as mysqld reads them without NO_BACKSLASH_ESCAPES.
/// <https://dev.mysql.com/doc/refman/8.4/en/string-literals.html>
pub(super) fn string_value(body: &str, q: char) -> String {
    let mut out = String::with_capacity(body.len());
    let mut it = body.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some(e @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(e);
                }
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some('b') => out.push('\u{8}'),
                Some('Z') => out.push('\u{1a}'),
                Some(e) => out.push(e),
                None => out.push('\\'),
            },
            c if c == q && it.peek() == Some(&q) => {
                it.next();
                out.push(q);
            }
            c => out.push(c),
        }
    }
    out
}

/// The statement without comments and trailing semicolons. The text of a versioned
/// comment (`/*!50002 GLOBAL */`, MariaDB's `/*M!100100 ... */`) is kept, as a server
/// of that version or later keeps it: clients such as mysqladmin send them. `# ...`
/// and `-- ...` (the dashes followed by a space or a control character) end at the
/// line's end. Quoted strings are left as they are.
/// <https://dev.mysql.com/doc/refman/8.4/en/comments.html>
pub fn clean(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    let mut quote: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        if let Some(q) = quote {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            if c == '\\' && q != '`' {
                // The escaped character, a quote among them, is kept as it is.
                if let Some(e) = rest.chars().next() {
                    out.push(e);
                    rest = &rest[e.len_utf8()..];
                }
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if let Some(body) = rest.strip_prefix("/*") {
            let (inside, after) = body.split_once("*/").unwrap_or((body, ""));
            let kept = inside.strip_prefix('!').or_else(|| inside.strip_prefix("M!"));
            if let Some(k) = kept {
                out.push(' ');
                out.push_str(k.trim_start_matches(|c: char| c.is_ascii_digit()));
            }
            out.push(' ');
            rest = after;
            continue;
        }
        let dashes = rest.strip_prefix("--").is_some_and(|r| r.chars().next().is_none_or(|n| n <= ' '));
        if c == '#' || dashes {
            rest = rest.split_once('\n').map_or("", |(_, after)| after);
            out.push(' ');
            continue;
        }
        if matches!(c, '\'' | '"' | '`') {
            quote = Some(c);
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.trim().trim_end_matches(';').trim().to_string()
}

/// SQL LIKE as SHOW VARIABLES/STATUS use it: `%` any run, `_` one character, `\\`
/// escaping the next one, ASCII case ignored. The pattern comes from a client, so
/// this is the greedy matcher with one resume point, O(pattern × name) at worst:
/// a backtracking one takes exponential time on a run of `%`s.
pub(super) fn like(pattern: &str, name: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Any,
        One,
        Lit(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        let t = match c {
            '%' => Tok::Any,
            '_' => Tok::One,
            '\\' => Tok::Lit(it.next().unwrap_or('\\')),
            c => Tok::Lit(c),
        };
        if !(t == Tok::Any && toks.last() == Some(&Tok::Any)) {
            toks.push(t);
        }
    }
    let name: Vec<char> = name.chars().collect();
    let fits = |t: Tok, c: char| match t {
        Tok::One => true,
        Tok::Lit(l) => l.eq_ignore_ascii_case(&c),
        Tok::Any => false,
    };
    // (token after the last `%`, name position it was tried at)
    let (mut i, mut j, mut resume) = (0usize, 0usize, None::<(usize, usize)>);
    while j < name.len() {
        match toks.get(i) {
            Some(&Tok::Any) => {
                resume = Some((i + 1, j));
                i += 1;
            }
            Some(&t) if fits(t, name[j]) => {
                i += 1;
                j += 1;
            }
            _ => match resume {
                // Let the last `%` take one more character and try again from there.
                Some((ti, nj)) => {
                    resume = Some((ti, nj + 1));
                    i = ti;
                    j = nj + 1;
                }
                None => return false,
            },
        }
    }
    toks[i.min(toks.len())..].iter().all(|t| *t == Tok::Any)
}

/// A token of a statement's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    /// A word or number as written (a backquoted name without its quotes; `!=` and
    /// `<>` as `!=`).
    Word(String),
    /// A quoted string's value.
    Str(String),
    /// `(`, `)`, `,` or `=`.
    Punct(char),
}

/// Splits a statement's text into tokens. Quoted strings read as mysqld's string
/// literals (`string_value`).
pub(super) fn tokens(t: &str) -> Result<Vec<Tok>, String> {
    tokens_at(t).map(|v| v.into_iter().map(|(_, tok)| tok).collect()).map_err(|(_, e)| e)
}

/// `tokens`, each with the byte offset where it starts in `t`; an error with the
/// offset of what could not be read.
pub(super) fn tokens_at(t: &str) -> Result<Vec<(usize, Tok)>, (usize, String)> {
    let mut out = Vec::new();
    let mut it = t.char_indices().peekable();
    while let Some(&(at, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
        } else if c == '\'' || c == '"' {
            // The string's end: the first quote outside an escape and not doubled.
            it.next();
            let body_start = at + 1;
            let mut end = None;
            while let Some((i, x)) = it.next() {
                match x {
                    '\\' => {
                        it.next();
                    }
                    q if q == c && it.peek().map(|p| p.1) == Some(c) => {
                        it.next();
                    }
                    q if q == c => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let Some(end) = end else { return Err((at, "a quoted string is not closed".into())) };
            out.push((at, Tok::Str(string_value(t.get(body_start..end).unwrap_or_default(), c))));
        } else if c == '`' {
            it.next();
            let w: String = it.by_ref().map(|(_, x)| x).take_while(|&x| x != '`').collect();
            out.push((at, Tok::Word(w)));
        } else if matches!(c, '(' | ')' | ',' | '=') {
            it.next();
            out.push((at, Tok::Punct(c)));
        } else if c == '!' || c == '<' {
            // != and <>: the negated =.
            it.next();
            if matches!(it.peek(), Some((_, '=' | '>'))) {
                it.next();
            }
            out.push((at, Tok::Word("!=".into())));
        } else {
            let mut w = String::new();
            while let Some(&(_, x)) = it.peek() {
                if x.is_alphanumeric() || x == '_' || x == '.' || x == '@' {
                    w.push(x);
                    it.next();
                } else {
                    break;
                }
            }
            if w.is_empty() {
                return Err((at, format!("unexpected '{c}'")));
            }
            out.push((at, Tok::Word(w)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_takes_each_form_mysqld_takes() {
        assert_eq!(limit("5"), Some((0, 5)));
        assert_eq!(limit("2, 5"), Some((2, 5)));
        assert_eq!(limit("5 offset 2"), Some((2, 5)));
        assert_eq!(limit("x"), None);
        assert_eq!(limit("-1"), None);
        assert_eq!(limit("1,"), None);
    }

    #[test]
    fn strings_read_backslash_escapes_as_mysqld_does() {
        assert_eq!(unquote(r"'it\'s'"), "it's");
        assert_eq!(unquote(r"'a\nb\tc\0\Z\b'"), "a\nb\tc\0\u{1a}\u{8}");
        assert_eq!(unquote(r"'x\%y\_z\\w\q'"), r"x\%y\_z\wq");
        assert_eq!(unquote(r#""c\"d""c""#), "c\"d\"c");
        assert_eq!(unquote("'a''b'"), "a'b");
        // An escaped quote neither ends the string nor hides what follows it.
        let t = r"SELECT 'a\'b;c', 'd'; SELECT 2";
        assert_eq!(statements(t).len(), 2);
        assert_eq!(split_list(r"'a\',b', 'c'"), [r"'a\',b'", "'c'"]);
        assert_eq!(clean(r"SELECT 'a\' -- b' # c"), r"SELECT 'a\' -- b'", "the comment is after the string");
        assert_eq!(tokens(r"'a\'b' = x").unwrap(), [Tok::Str("a'b".into()), Tok::Punct('='), Tok::Word("x".into())]);
        // Backquoted names have no escapes.
        assert_eq!(split_list(r"`a\`, b"), [r"`a\`", "b"]);
    }

    #[test]
    fn a_select_item_is_named_by_its_alias_its_string_or_its_text() {
        assert_eq!(named("@@server_id AS id").1, "id");
        assert_eq!(named("'it''s'").1, "it's");
        assert_eq!(named("'a' = 'A'").1, "'a' = 'A'");
        assert_eq!(named("1 = 1").1, "1 = 1");
    }

    #[test]
    fn a_text_splits_into_statements_at_semicolons_outside_quotes() {
        let parts = |t: &str| statements(t).into_iter().map(|r| t[r].to_string()).collect::<Vec<_>>();
        assert_eq!(parts("SELECT 1"), ["SELECT 1"]);
        assert_eq!(parts("SELECT 1 ;  SELECT 2;"), ["SELECT 1", "SELECT 2"]);
        assert_eq!(parts("SELECT 'a;b'; SELECT \"c;\", `d;`"), ["SELECT 'a;b'", "SELECT \"c;\", `d;`"]);
        assert_eq!(parts("SELECT IFNULL(1, ';'); ;; DO 1"), ["SELECT IFNULL(1, ';')", "DO 1"]);
        assert!(parts("").is_empty() && parts(" ; ;").is_empty());
        assert_eq!(parts("SELECT 'é;'; SELECT 'ü'"), ["SELECT 'é;'", "SELECT 'ü'"]);
    }

    #[test]
    fn tokens_read_string_literals_as_mysqld_does() {
        let t = tokens(r"a.b @x 'it''s' 'l\n\%' `my col` != <> (1, 2) = 0.5").unwrap();
        let w = |s: &str| Tok::Word(s.into());
        assert_eq!(
            t,
            [
                w("a.b"),
                w("@x"),
                Tok::Str("it's".into()),
                Tok::Str("l\n\\%".into()),
                w("my col"),
                w("!="),
                w("!="),
                Tok::Punct('('),
                w("1"),
                Tok::Punct(','),
                w("2"),
                Tok::Punct(')'),
                Tok::Punct('='),
                w("0.5"),
            ]
        );
        assert!(tokens("'open").is_err() && tokens("a ; b").is_err());
    }

    #[test]
    fn splits_lists_outside_quotes_and_parens() {
        assert_eq!(split_list("@a = 'x,y', @b = f(1,2)"), vec!["@a = 'x,y'", "@b = f(1,2)"]);
        assert_eq!(split_list("a,,b"), ["a", "", "b"]);
        assert_eq!(split_list(" , a"), ["", "a"]);
        assert_eq!(split_list("a, "), ["a"]);
        assert!(split_list("  ").is_empty());
        assert_eq!(clean("/* mysql-connector */ SELECT 1;"), "SELECT 1");
        let words = |s: &str| clean(s).split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words("show /*!50002 GLOBAL */ status"), ["show", "GLOBAL", "status"]);
        assert_eq!(words("SELECT /*M!100100 1 */ /* no */ 2"), ["SELECT", "1", "2"]);
        assert_eq!(clean("SELECT '/* kept */'"), "SELECT '/* kept */'");
        assert_eq!(clean("SELECT 1 /* unterminated"), "SELECT 1");
        assert_eq!(clean("SELECT 1 -- a comment\n, 2 # another"), "SELECT 1  , 2");
        assert_eq!(clean("SELECT '-- kept', \"# kept\" --"), "SELECT '-- kept', \"# kept\"");
        assert_eq!(clean("SELECT 2--1"), "SELECT 2--1");
        assert_eq!(clean("-- ping"), "");
    }

    #[test]
    fn like_matches_variable_patterns() {
        assert!(like("SERVER\\_ID", "server_id"));
        assert!(like("server%", "server_uuid"));
        assert!(!like("server_id", "server_uuid"));
        assert!(like("%", ""));
        assert!(like("", ""));
        assert!(!like("", "a"));
        assert!(like("%_id", "server_id"));
        assert!(!like("%_id", "id"));
        assert!(like("%ver%uu%", "server_uuid"));
        assert!(like("s_rver\\%", "server%"));
        assert!(!like("s_rver\\%", "servers"));
        assert!(like("a\\", "a\\"));
        assert!(like("%a%b", "xaxxab"));
        assert!(!like("%a%b", "xaxxa"));
    }

    #[test]
    fn like_answers_at_once_on_a_pattern_of_many_wildcards() {
        // A backtracking matcher takes exponential time on these; a client sends them.
        let pattern = format!("{}x", "%a".repeat(40));
        assert!(!like(&pattern, &"a".repeat(200)));
        assert!(!like(&format!("{}!", "%".repeat(5000)), &"v".repeat(5000)));
        assert!(like(&"%_".repeat(100), &"y".repeat(300)));
    }
}
