//! SHOW BINLOG EVENTS [IN 'file'] [FROM pos] [LIMIT [offset,] count]: one row per stored
//! event, read from the file up to its durable end and sent as it is read, so a file
//! of any size needs only one event's bytes at a time.
//!
//! <https://dev.mysql.com/doc/refman/8.4/en/show-binlog-events.html>

use super::ctx::Ctx;
use super::describe;
use super::reply::err_packet;
use crate::binlog::event::{EventHeader, EventType, FormatDescription};
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
    let toks = tokens(&super::sql::clean(sql));
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
                a.file = Some(super::sql::unquote(t));
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

/// Where the answer's packets go, a batch at a time (the client connection).
pub type Sink<'a> = &'a mut dyn FnMut(&[Vec<u8>]) -> Result<(), Error>;

/// Answers the statement; the errors returned are the client connection's.
pub fn answer(s: &Ctx, a: Result<Args, String>, send: Sink) -> Result<(), Error> {
    let a = match a {
        Ok(a) => a,
        Err(e) => {
            let msg = format!("You have an error in your SQL syntax near SHOW BINLOG EVENTS: {e}");
            return send(&[err_packet(ER_PARSE_ERROR, "42000", &msg)]);
        }
    };
    let maria = super::show::is_maria(s);
    let head = || head(maria);
    let d = s.srv.serving().durable.snapshot();
    let asked = a.file.as_deref().map(|f| crate::binlog::sources::to_path(&d.files, f));
    let Some(name) = asked.or_else(|| d.files.first().cloned()) else {
        // No file stored yet: an empty list, as a primary without binlogs gives.
        let mut out = head();
        out.push(resultset::EOF.to_vec());
        return send(&out);
    };
    let opened =
        if d.files.contains(&name) { crate::binlog::read::open(&s.srv.cfg().binlog_dir, &name).ok() } else { None };
    // As mysqld's show_binlog_events: the columns are sent first, so an error found
    // from here on follows them (a client meets it as it reads the rows).
    let after_head = |why: &str| {
        let mut out = head();
        out.push(failed(why));
        out
    };
    let Some(f) = opened else { return send(&after_head("Could not find target log")) };
    let end = d.readable_len(&name, &*f);
    let mut rows = Rows { f: &*f, end, name: &name, fde: None };
    // Positions before the first event start at it, as on a primary.
    let from = a.from.max(4);
    let fde = match rows.fde() {
        Ok(x) => x,
        Err(e) => return send(&after_head(&e)),
    };
    rows.fde = fde;
    if from < end && rows.header(from).is_err() {
        return send(&after_head("Wrong offset or I/O error"));
    }
    let mut e = Emit { out: head(), skipped: 0, sent: 0, offset: a.offset, count: a.count };
    let mut pos = from;
    while pos < end && e.wants_more() {
        let (row, next, ev) = match rows.row(pos) {
            Ok(r) => r,
            Err(err) => {
                e.out.push(failed(&err));
                return send(&e.out);
            }
        };
        pos = next;
        e.push(send, row.clone())?;
        // The events inside a compressed transaction follow it, at its end position.
        if let (Some(ev), Some(fde)) = (ev.filter(|_| e.wants_more()), &rows.fde) {
            let mut sent = Ok(());
            let listed = describe::payload_events(&ev, fde, INFO_READ_MAX, &mut |t, server_id, info| {
                let mut r = row.clone();
                r[1] = Some(next.to_string());
                r[2] = Some(describe::type_name(t).into_owned());
                r[3] = Some(server_id.to_string());
                r[5] = Some(info);
                sent = e.push(send, r);
                sent.is_ok() && e.wants_more()
            });
            sent?;
            if let Err(err) = listed {
                let at = pos - ev.len() as u64;
                e.out
                    .push(failed(&format!("{name}:{at}: cannot list the events of the compressed transaction: {err}")));
                return send(&e.out);
            }
        }
    }
    e.out.push(resultset::EOF.to_vec());
    send(&e.out)
}

/// The rows of the answer, past OFFSET and up to LIMIT, sent in batches.
struct Emit {
    out: Vec<Vec<u8>>,
    skipped: u64,
    sent: u64,
    offset: u64,
    count: Option<u64>,
}

impl Emit {
    fn wants_more(&self) -> bool {
        self.count.is_none_or(|c| self.sent < c)
    }

    fn push(&mut self, send: Sink, row: Row) -> Result<(), Error> {
        if self.skipped < self.offset {
            self.skipped += 1;
            return Ok(());
        }
        self.out.push(resultset::row(&row));
        self.sent += 1;
        if self.out.len() >= ROWS_PER_WRITE {
            send(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }
}

/// The column packets, before the rows.
pub(super) fn head(maria: bool) -> Vec<Vec<u8>> {
    let cols = ["Log_name", "Pos", "Event_type", "Server_id", "End_log_pos", "Info"];
    resultset::head_typed(&cols.map(|c| super::show::column(super::columns::BINLOG_EVENTS, c, maria)))
}

/// One row of the answer: Log_name, Pos, Event_type, Server_id, End_log_pos, Info.
type Row = Vec<Option<String>>;

/// Reads the events of one stored file up to `end`.
struct Rows<'a> {
    f: &'a dyn crate::binlog::read::Stored,
    end: u64,
    name: &'a str,
    fde: Option<FormatDescription>,
}

impl Rows<'_> {
    /// The header at `pos`, checked to be an event that ends within the durable bytes.
    fn header(&self, pos: u64) -> Result<EventHeader, String> {
        match crate::binlog::walk::Walker::new(self.f, pos, self.end).next() {
            Some(Ok(found)) => Ok(found.header),
            Some(Err(crate::binlog::walk::WalkError::Io { err, .. })) => Err(format!("{}:{pos}: {err}", self.name)),
            // Not an event that ends within the durable bytes: mysqld's words for it.
            Some(Err(_)) | None => Err(format!("{}:{pos}: Wrong offset or I/O error", self.name)),
        }
    }

    fn event(&self, pos: u64, hdr: &EventHeader) -> Result<Vec<u8>, String> {
        let mut ev = vec![0u8; hdr.event_size as usize];
        self.f.read_at(&mut ev, pos).map_err(|e| format!("{}:{pos}: {e}", self.name))?;
        Ok(ev)
    }

    /// The file's format description (its first event), which says how to read the rest.
    fn fde(&self) -> Result<Option<FormatDescription>, String> {
        if self.end <= 4 {
            return Ok(None);
        }
        super::stored_fde(self.f).map(|(_, fde)| Some(fde)).map_err(|e| format!("{}:4: {e}", self.name))
    }

    /// The row for the event at `pos`, where the next event starts, and the event's
    /// bytes when it is a compressed transaction whose events are to be listed.
    fn row(&self, pos: u64) -> Result<(Row, u64, Option<Vec<u8>>), String> {
        let hdr = self.header(pos)?;
        let next = pos + u64::from(hdr.event_size);
        let (info, payload) = match &self.fde {
            Some(fde) if hdr.event_size <= INFO_READ_MAX => {
                let ev = self.event(pos, &hdr)?;
                let info = describe::info(&ev, fde);
                (info, (hdr.event_type == EventType::TRANSACTION_PAYLOAD).then_some(ev))
            }
            _ => (String::new(), None),
        };
        let row = vec![
            Some(self.name.to_string()),
            Some(pos.to_string()),
            Some(describe::type_name(hdr.event_type).into_owned()),
            Some(hdr.server_id.to_string()),
            Some(hdr.log_pos.to_string()),
            Some(info),
        ];
        Ok((row, next, payload))
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
