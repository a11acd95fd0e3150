//! SHOW BINLOG EVENTS [IN 'file'] [FROM pos] [LIMIT [offset,] count]: one row per stored
//! event, read from the file up to its durable end and sent as it is read, so a file
//! of any size needs only one event's bytes at a time.
//!
//! <https://dev.mysql.com/doc/refman/8.4/en/show-binlog-events.html>

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::session::{err_packet, Session};
use crate::binlog::describe;
use crate::binlog::event::{EventHeader, EventType, FormatDescription, HEADER_LEN};
use crate::proto::{resultset, Error};

/// ER_ERROR_WHEN_EXECUTING_COMMAND, as a primary answers a file it lacks or a bad offset.
const ER_ERROR_WHEN_EXECUTING_COMMAND: u16 = 1220;
const ER_PARSE_ERROR: u16 = 1064;
/// Events larger than this are listed without reading their bytes (Info is empty).
const INFO_READ_MAX: u32 = 16 << 20;
/// Rows sent per write.
const ROWS_PER_WRITE: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Args {
    pub file: Option<String>,
    pub from: u64,
    pub offset: u64,
    pub count: Option<u64>,
}

/// None when `sql` is not SHOW BINLOG EVENTS; otherwise its arguments, or what is
/// wrong with them.
pub fn parse(sql: &str) -> Option<Result<Args, String>> {
    let toks = tokens(&super::query::clean(sql));
    let up = |i: usize| toks.get(i).map(|t| t.to_ascii_uppercase());
    if up(0)? != "SHOW" || up(1)? != "BINLOG" || up(2)? != "EVENTS" {
        return None;
    }
    Some(parse_rest(&toks[3..]))
}

fn parse_rest(toks: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let num = |t: Option<&String>, what: &str| -> Result<u64, String> {
        t.and_then(|t| t.parse().ok()).ok_or_else(|| format!("{what} needs a number"))
    };
    let mut i = 0;
    while i < toks.len() {
        match toks[i].to_ascii_uppercase().as_str() {
            "IN" => {
                let t = toks.get(i + 1).ok_or("IN needs a file name")?;
                if !(t.len() >= 2 && (t.starts_with('\'') || t.starts_with('"'))) {
                    return Err("IN needs a quoted file name".into());
                }
                a.file = Some(super::query::unquote(t));
                i += 2;
            }
            "FROM" => {
                a.from = num(toks.get(i + 1), "FROM")?;
                i += 2;
            }
            "LIMIT" => {
                let first = num(toks.get(i + 1), "LIMIT")?;
                if toks.get(i + 2).is_some_and(|t| t == ",") {
                    a.offset = first;
                    a.count = Some(num(toks.get(i + 3), "LIMIT")?);
                    i += 4;
                } else if toks.get(i + 2).is_some_and(|t| t.eq_ignore_ascii_case("OFFSET")) {
                    a.count = Some(first);
                    a.offset = num(toks.get(i + 3), "OFFSET")?;
                    i += 4;
                } else {
                    a.count = Some(first);
                    i += 2;
                }
            }
            t => return Err(format!("unexpected '{t}'")),
        }
    }
    Ok(a)
}

/// Words, numbers, commas and quoted strings (kept with their quotes).
fn tokens(sql: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut it = sql.trim().trim_end_matches(';').chars().peekable();
    while let Some(&c) = it.peek() {
        if c.is_whitespace() {
            it.next();
        } else if c == ',' {
            v.push(",".to_string());
            it.next();
        } else if c == '\'' || c == '"' || c == '`' {
            let mut s = String::from(c);
            it.next();
            while let Some(d) = it.next() {
                s.push(d);
                if d == c {
                    // A doubled quote is one quote inside the string.
                    if it.peek() == Some(&c) {
                        it.next();
                        continue;
                    }
                    break;
                }
            }
            v.push(s);
        } else {
            let mut s = String::new();
            while let Some(&d) = it.peek() {
                if d.is_whitespace() || d == ',' {
                    break;
                }
                s.push(d);
                it.next();
            }
            v.push(s);
        }
    }
    v
}

fn failed(what: &str) -> Vec<u8> {
    err_packet(
        ER_ERROR_WHEN_EXECUTING_COMMAND,
        "HY000",
        &format!("Error when executing command SHOW BINLOG EVENTS: {what}"),
    )
}

/// Answers the statement; the errors returned are the client connection's.
pub fn answer(s: &mut Session, a: Result<Args, String>) -> Result<(), Error> {
    let a = match a {
        Ok(a) => a,
        Err(e) => {
            let msg = format!("You have an error in your SQL syntax near SHOW BINLOG EVENTS: {e}");
            return s.stream.write(&err_packet(ER_PARSE_ERROR, "42000", &msg));
        }
    };
    let d = s.srv.shared.durable.snapshot();
    let Some(name) = a.file.clone().or_else(|| d.files.first().cloned()) else {
        // No file stored yet: an empty list, as a primary without binlogs gives.
        let mut out = head();
        out.push(resultset::EOF.to_vec());
        return s.stream.write_many(&out);
    };
    let opened = if d.files.contains(&name) { File::open(s.srv.cfg.binlog_dir.join(&name)).ok() } else { None };
    let Some(f) = opened else { return s.stream.write(&failed("Could not find target log")) };
    let end = d.readable_len(&name, &f);
    let mut rows = Rows { f: &f, end, name: &name, fde: None };
    // Positions before the first event start at it, as on a primary.
    let from = a.from.max(4);
    let fde = match rows.fde() {
        Ok(x) => x,
        Err(e) => return s.stream.write(&failed(&e)),
    };
    rows.fde = fde;
    if from < end && rows.header(from).is_err() {
        return s.stream.write(&failed("Wrong offset or I/O error"));
    }
    let mut out = head();
    let (mut skipped, mut sent, mut pos) = (0u64, 0u64, from);
    // OFFSET and LIMIT count rows, the events inside a compressed transaction too.
    'events: while pos < end && a.count.is_none_or(|c| sent < c) {
        let (listed, next) = match rows.rows(pos) {
            Ok(r) => r,
            Err(e) => {
                out.push(failed(&e));
                return s.stream.write_many(&out);
            }
        };
        pos = next;
        for row in listed {
            if a.count.is_some_and(|c| sent >= c) {
                break 'events;
            }
            if skipped < a.offset {
                skipped += 1;
                continue;
            }
            out.push(resultset::row(&row));
            sent += 1;
        }
        if out.len() >= ROWS_PER_WRITE {
            s.stream.write_many(&out)?;
            out.clear();
        }
    }
    out.push(resultset::EOF.to_vec());
    s.stream.write_many(&out)
}

/// The column packets, before the rows.
fn head() -> Vec<Vec<u8>> {
    let cols = ["Log_name", "Pos", "Event_type", "Server_id", "End_log_pos", "Info"];
    resultset::head(&cols.map(String::from))
}

/// One row of the answer: Log_name, Pos, Event_type, Server_id, End_log_pos, Info.
type Row = Vec<Option<String>>;

/// Reads the events of one stored file up to `end`.
struct Rows<'a> {
    f: &'a File,
    end: u64,
    name: &'a str,
    fde: Option<FormatDescription>,
}

impl Rows<'_> {
    /// The header at `pos`, checked to be an event that ends within the durable bytes.
    fn header(&self, pos: u64) -> Result<EventHeader, String> {
        let mut h = [0u8; HEADER_LEN];
        self.f.read_exact_at(&mut h, pos).map_err(|e| format!("{}:{pos}: {e}", self.name))?;
        let hdr = EventHeader::decode(&h).map_err(|e| format!("{}:{pos}: {e}", self.name))?;
        let next = pos + u64::from(hdr.event_size);
        if next > self.end || (hdr.log_pos != 0 && u64::from(hdr.log_pos) != next) {
            return Err(format!("{}:{pos}: Wrong offset or I/O error", self.name));
        }
        Ok(hdr)
    }

    fn event(&self, pos: u64, hdr: &EventHeader) -> Result<Vec<u8>, String> {
        let mut ev = vec![0u8; hdr.event_size as usize];
        self.f.read_exact_at(&mut ev, pos).map_err(|e| format!("{}:{pos}: {e}", self.name))?;
        Ok(ev)
    }

    /// The file's format description (its first event), which says how to read the rest.
    fn fde(&self) -> Result<Option<FormatDescription>, String> {
        if self.end <= 4 {
            return Ok(None);
        }
        super::stored_fde(self.f).map(|(_, fde)| Some(fde)).map_err(|e| format!("{}:4: {e}", self.name))
    }

    /// The rows for the event at `pos`, and where the next event starts: one, and
    /// for a compressed transaction one more for each event inside it, listed at the
    /// transaction's end as a primary lists them.
    fn rows(&self, pos: u64) -> Result<(Vec<Row>, u64), String> {
        let hdr = self.header(pos)?;
        let next = pos + u64::from(hdr.event_size);
        let row = |at: u64, t: EventType, server_id: u32, info: String| {
            vec![
                Some(self.name.to_string()),
                Some(at.to_string()),
                Some(describe::type_name(t).into_owned()),
                Some(server_id.to_string()),
                Some(hdr.log_pos.to_string()),
                Some(info),
            ]
        };
        let (Some(fde), true) = (&self.fde, hdr.event_size <= INFO_READ_MAX) else {
            return Ok((vec![row(pos, hdr.event_type, hdr.server_id, String::new())], next));
        };
        let ev = self.event(pos, &hdr)?;
        let mut info = describe::info(&ev, fde);
        let mut inner = Vec::new();
        if hdr.event_type == EventType::TRANSACTION_PAYLOAD {
            match describe::payload_rows(&ev, fde) {
                Ok(r) => inner = r,
                Err(e) => info.push_str(&format!(" (cannot list the events inside: {e})")),
            }
        }
        let mut listed = vec![row(pos, hdr.event_type, hdr.server_id, info)];
        listed.extend(inner.into_iter().map(|(t, server_id, info)| row(next, t, server_id, info)));
        Ok((listed, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_show_binlog_events_arguments_as_mysql_takes_them() {
        let p = |s: &str| parse(s).unwrap().unwrap();
        assert_eq!(p("show binlog events"), Args::default());
        assert_eq!(
            p("SHOW BINLOG EVENTS IN 'mysql-bin.000002' FROM 120 LIMIT 2, 5;"),
            Args { file: Some("mysql-bin.000002".into()), from: 120, offset: 2, count: Some(5) }
        );
        assert_eq!(p("SHOW BINLOG EVENTS LIMIT 5 OFFSET 2"), Args { offset: 2, count: Some(5), ..Args::default() });
        assert_eq!(p("SHOW BINLOG EVENTS IN \"a'b\" LIMIT 3").file.as_deref(), Some("a'b"));
        assert!(parse("SHOW BINARY LOGS").is_none());
        for bad in
            ["SHOW BINLOG EVENTS IN", "SHOW BINLOG EVENTS FROM x", "SHOW BINLOG EVENTS IN f", "SHOW BINLOG EVENTS x"]
        {
            assert!(parse(bad).unwrap().is_err(), "{bad}");
        }
    }
}
