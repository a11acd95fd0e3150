//! Controlling binlogd as a replica is controlled: START/STOP SLAVE (REPLICA), CHANGE
//! MASTER TO / CHANGE REPLICATION SOURCE TO and RESET SLAVE ALL / RESET REPLICA ALL, so
//! that a failover manager's `STOP SLAVE; CHANGE MASTER TO ...; START SLAVE` works on
//! it. Each option maps to the cnf key it sets (`OPTIONS`); what it leaves out keeps its
//! value. The settings are kept in binlog_dir by `replica::source`. binlogd has one
//! connection to a primary, the default channel (MySQL) or the unnamed connection
//! (MariaDB), and an I/O thread but no SQL thread: it applies nothing.
//!
//! <https://dev.mysql.com/doc/refman/8.4/en/change-replication-source-to.html>,
//! <https://mariadb.com/kb/en/change-master-to/>,
//! <https://dev.mysql.com/doc/refman/8.4/en/start-replica.html>,
//! <https://mariadb.com/kb/en/start-replica/>, <https://mariadb.com/kb/en/stop-replica/>

use super::ctx::Ctx;
use super::query::{parse_error, Parsed, ER_NOT_SUPPORTED_YET, ER_PARSE_ERROR, ER_WRONG_ARGUMENTS};
use super::reply::{err_packet, ok_packet, ok_with_warnings};
use super::sql::{tokens, Tok};
use crate::config::StartMode;
use crate::replica::connect::Flavor;
use crate::replica::source::Overrides;

/// MariaDB's ER_SLAVE_MUST_STOP.
const ER_SLAVE_MUST_STOP: u16 = 1198;
/// MySQL's ER_REPLICA_IO_THREAD_MUST_STOP (CHANGE REPLICATION SOURCE TO).
const ER_REPLICA_IO_THREAD_MUST_STOP: u16 = 3021;
/// MySQL's ER_REPLICA_CHANNEL_MUST_STOP (RESET REPLICA).
const ER_REPLICA_CHANNEL_MUST_STOP: u16 = 3081;
/// MySQL's ER_BAD_REPLICA_AUTO_POSITION.
const ER_BAD_REPLICA_AUTO_POSITION: u16 = 1777;
/// MariaDB's ER_SLAVE_WAS_RUNNING and ER_SLAVE_WAS_NOT_RUNNING (Notes).
const ER_SLAVE_WAS_RUNNING: u16 = 1254;
const ER_SLAVE_WAS_NOT_RUNNING: u16 = 1255;
/// MariaDB's ER_SLAVE_STARTED and ER_SLAVE_STOPPED (Notes of START/STOP ALL SLAVES).
const ER_SLAVE_STARTED: u16 = 1937;
const ER_SLAVE_STOPPED: u16 = 1938;
/// MySQL's ER_REPLICA_CHANNEL_OPERATION... Notes: the threads were running, or stopped.
const ER_REPLICA_WAS_RUNNING: u16 = 3083;
const ER_REPLICA_WAS_NOT_RUNNING: u16 = 3084;

/// Which replica control statement.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verb {
    Start,
    Stop,
    Reset,
}

/// What follows the words of START/STOP SLAVE, START/STOP ALL SLAVES or RESET SLAVE.
#[derive(Debug, Default, PartialEq, Eq)]
struct Control {
    /// MariaDB's connection name, right after SLAVE or REPLICA.
    name: Option<String>,
    /// FOR CHANNEL 'name'.
    channel: Option<String>,
    /// The thread types named (none: both).
    io: bool,
    sql: bool,
    /// START's UNTIL clause was given.
    until: bool,
    /// MySQL START REPLICA's connection options named (USER, PASSWORD, ...).
    options: Vec<String>,
    /// RESET's ALL.
    all: bool,
}

/// Reads what follows the first `lead` words of a control statement, in the grammar
/// of the primary's flavour; a form its parser refuses gets its ERROR 1064, quoting
/// the text from the token where it stops.
fn control(s: &Ctx, p: &Parsed, lead: usize, verb: Verb, all_form: bool) -> Result<Control, Vec<u8>> {
    let maria = super::show::is_maria(s);
    let t = p.text.trim_start();
    let mut from = 0;
    for _ in 0..lead {
        from = t.get(from..).and_then(|r| r.find(char::is_whitespace)).map_or(t.len(), |i| from + i);
        from = t.get(from..).and_then(|r| r.find(|c: char| !c.is_whitespace())).map_or(t.len(), |i| from + i);
    }
    let toks = super::sql::tokens_at(t.get(from..).unwrap_or_default())
        .map_err(|(at, _)| near(s, t, from + at))?
        .into_iter()
        .map(|(at, tok)| (from + at, tok))
        .collect::<Vec<_>>();
    let stop_at = |i: usize| near(s, t, toks.get(i).map_or(t.len(), |x| x.0));
    let words: Vec<String> =
        toks.iter().map(|(_, x)| if let Tok::Word(w) = x { w.to_ascii_uppercase() } else { String::new() }).collect();
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    let mut c = Control::default();
    let mut i = 0;
    if maria && !all_form {
        if let Some((_, Tok::Str(n))) = toks.get(i) {
            c.name = Some(n.clone());
            i += 1;
        }
    }
    if verb == Verb::Reset {
        if word(i) == "ALL" {
            c.all = true;
            i += 1;
        }
    } else {
        // thread_type [, thread_type]: MariaDB's parser also takes a comma at the end.
        while matches!(word(i), "IO_THREAD" | "SQL_THREAD") {
            if word(i) == "IO_THREAD" {
                c.io = true;
            } else {
                c.sql = true;
            }
            i += 1;
            if toks.get(i).is_some_and(|x| x.1 == Tok::Punct(',')) {
                i += 1;
                if !matches!(word(i), "IO_THREAD" | "SQL_THREAD") && !maria {
                    return Err(stop_at(i));
                }
            } else {
                break;
            }
        }
    }
    if verb == Verb::Start && !all_form && word(i) == "UNTIL" {
        c.until = true;
        i += 1;
        if word(i) == "SQL_AFTER_MTS_GAPS" && !maria {
            i += 1;
        } else {
            let names: &[&str] = if maria {
                &["MASTER_LOG_FILE", "MASTER_LOG_POS", "RELAY_LOG_FILE", "RELAY_LOG_POS", "MASTER_GTID_POS"]
            } else {
                &[
                    "SOURCE_LOG_FILE",
                    "SOURCE_LOG_POS",
                    "MASTER_LOG_FILE",
                    "MASTER_LOG_POS",
                    "RELAY_LOG_FILE",
                    "RELAY_LOG_POS",
                    "SQL_BEFORE_GTIDS",
                    "SQL_AFTER_GTIDS",
                ]
            };
            loop {
                if !names.contains(&word(i)) {
                    return Err(stop_at(i));
                }
                if toks.get(i + 1).map(|x| &x.1) != Some(&Tok::Punct('=')) {
                    return Err(stop_at(i + 1));
                }
                match toks.get(i + 2) {
                    Some((_, Tok::Str(_) | Tok::Word(_))) => i += 3,
                    _ => return Err(stop_at(i + 2)),
                }
                if toks.get(i).is_some_and(|x| x.1 == Tok::Punct(',')) {
                    i += 1;
                } else {
                    break;
                }
            }
        }
    }
    if verb == Verb::Start && !all_form && !maria {
        while matches!(word(i), "USER" | "PASSWORD" | "DEFAULT_AUTH" | "PLUGIN_DIR") {
            match (toks.get(i + 1), toks.get(i + 2)) {
                (Some((_, Tok::Punct('='))), Some((_, Tok::Str(_)))) => {
                    c.options.push(word(i).to_string());
                    i += 3;
                }
                _ => return Err(stop_at(i)),
            }
        }
    }
    if !all_form && word(i) == "FOR" && word(i + 1) == "CHANNEL" {
        match toks.get(i + 2) {
            Some((_, Tok::Str(n))) => {
                c.channel = Some(n.clone());
                i += 3;
            }
            _ => return Err(stop_at(i + 2)),
        }
    }
    if i < toks.len() {
        return Err(stop_at(i));
    }
    Ok(c)
}

/// ERROR 1064 quoting `t` from byte `at`.
fn near(s: &Ctx, t: &str, at: usize) -> Vec<u8> {
    let rest = t.get(at..).unwrap_or_default();
    // parse_error quotes from a word index: 0 here, the text starting at the token.
    parse_error(s, rest, 0)
}

/// The connection or channel a control statement names, if it is not binlogd's one:
/// the primary's error for it. MariaDB refuses both a name and FOR CHANNEL.
fn other_connection(s: &Ctx, c: &Control) -> Option<Vec<u8>> {
    if c.name.is_some() && c.channel.is_some() {
        return Some(err(
            ER_WRONG_ARGUMENTS,
            "Incorrect arguments to CONNECTION_NAME AND FOR CHANNEL CAN NOT BE SPECIFIED AT THE SAME TIME)",
        ));
    }
    c.name.as_ref().or(c.channel.as_ref()).filter(|n| !n.is_empty()).map(|n| super::show::no_such_channel(s, n))
}

/// The Note of a START or STOP that found the threads as asked, in the primary's words.
fn already(s: &mut Ctx, running: bool) -> Vec<Vec<u8>> {
    let (code, msg) = match (super::show::is_maria(s), running) {
        (true, true) => (ER_SLAVE_WAS_RUNNING, "Slave is already running"),
        (true, false) => (ER_SLAVE_WAS_NOT_RUNNING, "Slave already has been stopped"),
        // "runnning" is mysqld's spelling (ER_REPLICA_CHANNEL_OPERATION_... 3083).
        (false, true) => (ER_REPLICA_WAS_RUNNING, "Replication thread(s) for channel '' are already runnning."),
        (false, false) => (ER_REPLICA_WAS_NOT_RUNNING, "Replication thread(s) for channel '' are already stopped."),
    };
    noted(s, code, msg)
}

/// OK with one Note.
pub(super) fn noted(s: &mut Ctx, code: u16, msg: &str) -> Vec<Vec<u8>> {
    s.warnings.push("Note", code, msg.into());
    vec![ok_with_warnings(1)]
}

/// What a START, STOP or RESET names, read and checked to be binlogd's connection; and
/// whether it is MariaDB's ALL SLAVES form.
fn target(s: &Ctx, p: &Parsed, verb: Verb) -> Result<(Control, bool), Vec<u8>> {
    let all = p.words.get(1) == Some(&"ALL");
    let c = control(s, p, if all { 3 } else { 2 }, verb, all)?;
    match other_connection(s, &c) {
        Some(e) => Err(e),
        None => Ok((c, all)),
    }
}

/// STOP SLAVE / STOP REPLICA [connection] [thread types] [FOR CHANNEL], STOP ALL SLAVES.
/// The I/O thread is binlogd's mirroring; its SQL thread is always stopped.
pub(super) fn stop_slave(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    let (c, all) = match target(s, p, Verb::Stop) {
        Ok(x) => x,
        Err(e) => return vec![e],
    };
    let stopped = (c.io || !c.sql) && s.srv.link().control.pause();
    match (all, stopped) {
        (true, true) => noted(s, ER_SLAVE_STOPPED, "SLAVE '' stopped"),
        (true, false) | (false, true) => vec![ok_packet()],
        (false, false) => already(s, false),
    }
}

/// START SLAVE / START REPLICA [connection] [thread types] [FOR CHANNEL], START ALL
/// SLAVES. UNTIL and MySQL's connection options are refused, saying why: binlogd
/// mirrors every event with the credentials it keeps.
pub(super) fn start_slave(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    let (c, all) = match target(s, p, Verb::Start) {
        Ok(x) => x,
        Err(e) => return vec![e],
    };
    let words = super::query::first_words(p.text);
    if c.until {
        return vec![err(
            ER_NOT_SUPPORTED_YET,
            &format!(
                "binlogd does not run {words} UNTIL: it mirrors every event its primary writes, and has no SQL \
                 thread to stop at a point"
            ),
        )];
    }
    if !c.options.is_empty() {
        return vec![err(
            ER_NOT_SUPPORTED_YET,
            &format!(
                "binlogd does not take {} with {words}: it connects with the user and password it keeps, which \
                 CHANGE REPLICATION SOURCE TO sets",
                c.options.join(", ")
            ),
        )];
    }
    if c.sql && !c.io {
        return vec![err(
            ER_NOT_SUPPORTED_YET,
            &format!("binlogd has no SQL thread to start: it applies nothing. {words} IO_THREAD starts its mirroring"),
        )];
    }
    let started = s.srv.link().control.resume();
    match (all, started) {
        (true, true) => noted(s, ER_SLAVE_STARTED, "SLAVE '' started"),
        (true, false) | (false, true) => vec![ok_packet()],
        (false, false) => already(s, true),
    }
}

/// What an option's value must be.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// A quoted string.
    Text,
    /// A number (a decimal for the heartbeat period).
    Number,
    /// 0 or 1.
    Flag,
    /// MASTER_USE_GTID's words.
    UseGtid,
}

/// What an option sets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sets {
    /// This cnf key, with the value as given (flags as on/off).
    Key(&'static str),
    /// MASTER_SSL: 1 is `required`, 0 `off`.
    Ssl,
    /// MASTER_USE_GTID / SOURCE_AUTO_POSITION: whether binlogd resumes by GTID
    /// (`get_start_gtid_mode` 0, or 1 kept) or by file and position (2).
    ByGtid,
    /// MASTER_LOG_FILE / MASTER_LOG_POS: only binlogd's own resume point.
    LogFile,
    LogPos,
    /// Nothing: what binlogd always does (it asks for the RSA key whenever the
    /// caching_sha2_password exchange needs it).
    Nothing,
}

/// One option: its names (MySQL's old and new spellings, MariaDB's), what its value
/// is, and what it sets.
#[derive(Debug)]
struct Opt {
    names: &'static [&'static str],
    kind: Kind,
    sets: Sets,
}

const fn opt(names: &'static [&'static str], kind: Kind, sets: Sets) -> Opt {
    Opt { names, kind, sets }
}

/// Every option binlogd takes. Others that mysqld knows (relay log, delay, filters,
/// compression) are refused by name: binlogd has no such setting.
static OPTIONS: &[Opt] = &[
    opt(&["MASTER_HOST", "SOURCE_HOST"], Kind::Text, Sets::Key("master_host")),
    opt(&["MASTER_PORT", "SOURCE_PORT"], Kind::Number, Sets::Key("master_port")),
    opt(&["MASTER_USER", "SOURCE_USER"], Kind::Text, Sets::Key("master_user")),
    opt(&["MASTER_PASSWORD", "SOURCE_PASSWORD"], Kind::Text, Sets::Key("master_password")),
    opt(&["MASTER_SSL", "SOURCE_SSL"], Kind::Flag, Sets::Ssl),
    opt(&["MASTER_SSL_CA", "SOURCE_SSL_CA"], Kind::Text, Sets::Key("master_ssl_ca")),
    opt(&["MASTER_SSL_CERT", "SOURCE_SSL_CERT"], Kind::Text, Sets::Key("master_ssl_cert")),
    opt(&["MASTER_SSL_KEY", "SOURCE_SSL_KEY"], Kind::Text, Sets::Key("master_ssl_key")),
    opt(
        &["MASTER_SSL_VERIFY_SERVER_CERT", "SOURCE_SSL_VERIFY_SERVER_CERT"],
        Kind::Flag,
        Sets::Key("master_ssl_verify_server_cert"),
    ),
    opt(&["MASTER_USE_GTID"], Kind::UseGtid, Sets::ByGtid),
    opt(&["MASTER_AUTO_POSITION", "SOURCE_AUTO_POSITION"], Kind::Flag, Sets::ByGtid),
    opt(&["MASTER_HEARTBEAT_PERIOD", "SOURCE_HEARTBEAT_PERIOD"], Kind::Number, Sets::Key("heartbeat_period")),
    opt(&["MASTER_CONNECT_RETRY", "SOURCE_CONNECT_RETRY"], Kind::Number, Sets::Key("master_retry_max")),
    opt(&["MASTER_LOG_FILE", "SOURCE_LOG_FILE"], Kind::Text, Sets::LogFile),
    opt(&["MASTER_LOG_POS", "SOURCE_LOG_POS"], Kind::Number, Sets::LogPos),
    opt(&["GET_MASTER_PUBLIC_KEY", "GET_SOURCE_PUBLIC_KEY"], Kind::Flag, Sets::Nothing),
];

/// Options mysqld has and binlogd does not: named in the refusal.
const NOT_BINLOGDS: &[&str] = &[
    "RELAY_LOG_FILE",
    "RELAY_LOG_POS",
    "MASTER_DELAY",
    "SOURCE_DELAY",
    "IGNORE_SERVER_IDS",
    "DO_DOMAIN_IDS",
    "IGNORE_DOMAIN_IDS",
    "MASTER_BIND",
    "SOURCE_BIND",
    "MASTER_RETRY_COUNT",
    "SOURCE_RETRY_COUNT",
    "MASTER_SSL_CAPATH",
    "SOURCE_SSL_CAPATH",
    "MASTER_SSL_CIPHER",
    "SOURCE_SSL_CIPHER",
    "MASTER_SSL_CRL",
    "SOURCE_SSL_CRL",
    "MASTER_SSL_CRLPATH",
    "SOURCE_SSL_CRLPATH",
    "MASTER_TLS_VERSION",
    "SOURCE_TLS_VERSION",
    "MASTER_TLS_CIPHERSUITES",
    "SOURCE_TLS_CIPHERSUITES",
    "MASTER_COMPRESSION_ALGORITHMS",
    "SOURCE_COMPRESSION_ALGORITHMS",
    "MASTER_ZSTD_COMPRESSION_LEVEL",
    "SOURCE_ZSTD_COMPRESSION_LEVEL",
    "MASTER_PUBLIC_KEY_PATH",
    "SOURCE_PUBLIC_KEY_PATH",
    "PRIVILEGE_CHECKS_USER",
    "REQUIRE_ROW_FORMAT",
    "REQUIRE_TABLE_PRIMARY_KEY_CHECK",
    "ASSIGN_GTIDS_TO_ANONYMOUS_TRANSACTIONS",
    "SOURCE_CONNECTION_AUTO_FAILOVER",
    "NETWORK_NAMESPACE",
    "GTID_ONLY",
    "MASTER_DEMOTE_TO_SLAVE",
];

/// A refusal: the error number and its message.
type Refusal = (u16, String);

fn syntax(near: &str) -> Refusal {
    (
        ER_PARSE_ERROR,
        format!(
            "You have an error in your SQL syntax; check the manual that corresponds to your server version \
             for the right syntax to use near '{near}' at line 1"
        ),
    )
}

/// An option as given.
#[derive(Debug)]
struct Given {
    opt: &'static Opt,
    name: String,
    value: String,
}

/// Parses `opt = value [, opt = value]... [FOR CHANNEL 'name']` (the text after TO):
/// the options, and the channel named.
fn parse(rest: &str) -> Result<(Vec<Given>, Option<String>), Refusal> {
    let toks = tokens(rest).map_err(|e| syntax(&format!("{rest} ({e})")))?;
    let mut given = Vec::new();
    let mut channel = None;
    let mut i = 0;
    let near = |i: usize| -> String {
        toks.get(i..)
            .unwrap_or_default()
            .iter()
            .map(|t| match t {
                Tok::Word(w) => w.clone(),
                Tok::Str(s) => format!("'{s}'"),
                Tok::Punct(p) => p.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    loop {
        let Some(Tok::Word(name)) = toks.get(i) else { return Err(syntax(&near(i))) };
        let up = name.to_ascii_uppercase();
        if up == "FOR" && !given.is_empty() {
            match (toks.get(i + 1), toks.get(i + 2), toks.get(i + 3)) {
                (Some(Tok::Word(c)), Some(Tok::Str(n)), None) if c.eq_ignore_ascii_case("CHANNEL") => {
                    channel = Some(n.clone());
                    break;
                }
                _ => return Err(syntax(&near(i))),
            }
        }
        let Some(opt) = OPTIONS.iter().find(|o| o.names.contains(&up.as_str())) else {
            if NOT_BINLOGDS.contains(&up.as_str()) {
                return Err((
                    ER_NOT_SUPPORTED_YET,
                    format!(
                        "binlogd does not support {up}: it mirrors the primary's binlog whole and has no relay log, \
                         filters or delay; nothing was changed"
                    ),
                ));
            }
            return Err(syntax(&near(i)));
        };
        if toks.get(i + 1) != Some(&Tok::Punct('=')) {
            return Err(syntax(&near(i)));
        }
        let value = match (opt.kind, toks.get(i + 2)) {
            (Kind::Text, Some(Tok::Str(s))) => s.clone(),
            (Kind::Number | Kind::Flag, Some(Tok::Word(w)))
                if !w.is_empty() && w.chars().all(|c| c.is_ascii_digit() || c == '.') =>
            {
                w.clone()
            }
            (Kind::UseGtid, Some(Tok::Word(w))) => w.to_ascii_lowercase(),
            _ => return Err(syntax(&near(i + 2))),
        };
        if opt.kind == Kind::Flag && value != "0" && value != "1" {
            return Err((ER_WRONG_ARGUMENTS, format!("Incorrect arguments to {up}: it takes 0 or 1")));
        }
        if opt.kind == Kind::UseGtid && !matches!(value.as_str(), "slave_pos" | "current_pos" | "no") {
            return Err(syntax(&near(i + 2)));
        }
        if given.iter().any(|g: &Given| std::ptr::eq(g.opt, opt)) {
            return Err(syntax(&near(i)));
        }
        given.push(Given { opt, name: up, value });
        i += 3;
        match toks.get(i) {
            None => break,
            Some(Tok::Punct(',')) => i += 1,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("FOR") => {}
            Some(_) => return Err(syntax(&near(i))),
        }
    }
    if given.is_empty() {
        return Err(syntax(rest));
    }
    Ok((given, channel))
}

/// What the options make of the current settings. `stored_end`: binlogd's resume
/// point by file and position, the only one MASTER_LOG_FILE/POS may name.
fn changed(
    cur: &Overrides,
    mode: StartMode,
    given: &[Given],
    stored_end: Option<(&str, u64)>,
) -> Result<Overrides, Refusal> {
    let mut o = cur.clone();
    let bad = |name: &str, e: String| (ER_WRONG_ARGUMENTS, format!("Incorrect arguments to {name}: {e}"));
    let mut mode = mode;
    let (mut file, mut pos) = (None, None);
    for g in given {
        let r = match g.opt.sets {
            Sets::Key(k) => {
                if k == "master_host" && g.value.trim().is_empty() {
                    return Err(bad(&g.name, "it must not be empty".into()));
                }
                let v = match g.opt.kind {
                    Kind::Flag => if g.value == "1" { "on" } else { "off" }.to_string(),
                    _ => g.value.clone(),
                };
                o.set(k, &v)
            }
            Sets::Ssl => o.set("master_ssl", if g.value == "1" { "required" } else { "off" }),
            Sets::ByGtid => {
                let by_gtid = !matches!(g.value.as_str(), "0" | "no");
                mode = match (by_gtid, mode) {
                    (false, _) => StartMode::FilePos,
                    (true, StartMode::FilePos) => StartMode::Gtid,
                    (true, m) => m,
                };
                o.set("get_start_gtid_mode", &(mode as u8).to_string())
            }
            Sets::Nothing => Ok(()),
            Sets::LogFile => {
                file = Some(g.value.clone());
                Ok(())
            }
            Sets::LogPos => {
                pos =
                    Some(g.value.parse::<u64>().map_err(|_| bad(&g.name, format!("'{}' is not a position", g.value)))?);
                Ok(())
            }
        };
        r.map_err(|e| bad(&g.name, e))?;
    }
    if file.is_some() || pos.is_some() {
        if mode != StartMode::FilePos {
            return Err((
                ER_BAD_REPLICA_AUTO_POSITION,
                "Parameters MASTER_LOG_FILE and MASTER_LOG_POS cannot be set when binlogd resumes by GTID \
                 (MASTER_USE_GTID / SOURCE_AUTO_POSITION): it continues from the GTIDs it has stored"
                    .into(),
            ));
        }
        let (f, p) = stored_end.unwrap_or(("", 4));
        let same = file.as_deref().is_none_or(|x| x == f) && pos.is_none_or(|x| x == p);
        if !same {
            return Err((
                ER_WRONG_ARGUMENTS,
                format!(
                    "Incorrect arguments to MASTER_LOG_FILE/MASTER_LOG_POS: binlogd keeps the primary's files whole \
                     and continues from what it has stored ({}), so they can only name that point",
                    if f.is_empty() { "nothing yet".to_string() } else { format!("{f}:{p}") }
                ),
            ));
        }
    }
    Ok(o)
}

/// mysqld's answer to a statement that needs the replica stopped, for the source's kind.
fn must_stop(s: &Ctx, reset: bool) -> Vec<u8> {
    let maria = s.srv.primary().is_some_and(|p| p.flavor == Flavor::MariaDb);
    if maria {
        err_packet(
            ER_SLAVE_MUST_STOP,
            "HY000",
            "This operation cannot be performed as you have a running slave ''; run STOP SLAVE '' first",
        )
    } else if reset {
        err_packet(
            ER_REPLICA_CHANNEL_MUST_STOP,
            "HY000",
            "This operation cannot be performed with running replication threads; run STOP REPLICA FOR CHANNEL '' first",
        )
    } else {
        err_packet(
            ER_REPLICA_IO_THREAD_MUST_STOP,
            "HY000",
            "This operation cannot be performed with a running replica io thread; run STOP REPLICA IO_THREAD FOR \
             CHANNEL '' first.",
        )
    }
}

/// CHANGE MASTER TO / CHANGE REPLICATION SOURCE TO.
pub(super) fn change_master(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    // The text after TO (MASTER TO, REPLICATION SOURCE TO).
    let Some(to) = p.words.iter().position(|w| *w == "TO") else { return vec![syntax_err(p.text)] };
    // MariaDB's CHANGE MASTER 'name' TO: another name would make a second connection.
    if to == 3 && p.words.get(1) == Some(&"MASTER") {
        let name = super::sql::unquote(p.text.split_whitespace().nth(2).unwrap_or_default());
        if !name.is_empty() {
            return vec![err(
                ER_NOT_SUPPORTED_YET,
                &format!(
                    "binlogd does not make a connection '{name}': it follows one primary, through its unnamed \
                     connection (''), which CHANGE MASTER TO repoints"
                ),
            )];
        }
    }
    let rest: String = p.text.split_whitespace().skip(to + 1).collect::<Vec<_>>().join(" ");
    let (given, channel) = match parse(&rest) {
        Ok(x) => x,
        Err((code, msg)) => return vec![err(code, &msg)],
    };
    if let Some(c) = channel.filter(|c| !c.is_empty()) {
        return vec![super::show::no_such_channel(s, &c)];
    }
    let link = s.srv.link();
    if !link.control.is_paused() {
        return vec![must_stop(s, false)];
    }
    let cur = link.source.overrides();
    let mode = link.source.effective().start_mode;
    let d = s.srv.serving().durable.snapshot();
    let end = d.active.as_ref().map(|(f, p)| (f.as_str(), *p));
    let o = match changed(&cur, mode, &given, end) {
        Ok(o) => o,
        Err((code, msg)) => return vec![err(code, &msg)],
    };
    // Checked whole before anything is kept: the keys together, and the TLS files.
    let eff = match link.source.preview(&o) {
        Ok(c) => c,
        Err(e) => return vec![err(ER_WRONG_ARGUMENTS, &format!("Incorrect arguments to CHANGE MASTER: {e}"))],
    };
    if let Err(e) = crate::tls::client(&eff) {
        return vec![err(ER_WRONG_ARGUMENTS, &format!("Incorrect arguments to CHANGE MASTER: TLS: {e}"))];
    }
    let fs = crate::binlog::fs::os();
    let eff = match link.source.replace(&*fs, o.clone()) {
        Ok(c) => c,
        Err(e) => return vec![err(1105, &e)],
    };
    if let Err(e) = link.tls.set_master(&eff) {
        log::warn!("CHANGE MASTER TO: TLS to the primary: {e}");
    }
    log::info!(
        "CHANGE MASTER TO by '{}' (connection {}): the source is now {}:{} ({}); START SLAVE connects to it",
        s.user,
        s.id,
        eff.master_host,
        eff.master_port,
        o.describe()
    );
    vec![ok_packet()]
}

/// RESET SLAVE ALL / RESET REPLICA ALL: back to the cnf's source. Without ALL, a
/// replica forgets its relay log and position; binlogd's position is what it stored.
pub(super) fn reset_slave(s: &mut Ctx, p: &Parsed) -> Vec<Vec<u8>> {
    let c = match target(s, p, Verb::Reset) {
        Ok((c, _)) => c,
        Err(e) => return vec![e],
    };
    if !c.all {
        return vec![err(
            ER_NOT_SUPPORTED_YET,
            "binlogd has no relay log or position to forget: what it stored is its position. RESET SLAVE ALL \
             returns to the cnf's master_* settings",
        )];
    }
    let link = s.srv.link();
    if !link.control.is_paused() {
        return vec![must_stop(s, true)];
    }
    let fs = crate::binlog::fs::os();
    let eff = match link.source.replace(&*fs, Overrides::default()) {
        Ok(c) => c,
        Err(e) => return vec![err(1105, &e)],
    };
    if let Err(e) = link.tls.set_master(&eff) {
        log::warn!("RESET SLAVE ALL: TLS to the primary: {e}");
    }
    log::info!(
        "RESET SLAVE ALL by '{}' (connection {}): the source is the cnf's again, {}:{}",
        s.user,
        s.id,
        eff.master_host,
        eff.master_port
    );
    vec![ok_packet()]
}

fn err(code: u16, msg: &str) -> Vec<u8> {
    let state = if code == ER_PARSE_ERROR { "42000" } else { "HY000" };
    err_packet(code, state, msg)
}

fn syntax_err(t: &str) -> Vec<u8> {
    let (code, msg) = syntax(t);
    err(code, &msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(t: &str) -> Vec<(String, String)> {
        parse(t).unwrap().0.into_iter().map(|g| (g.name, g.value)).collect()
    }

    #[test]
    fn options_are_read_with_either_spelling_and_mysqlds_string_literals() {
        assert_eq!(
            opts("MASTER_HOST='b', master_port=3307, SOURCE_PASSWORD='it''s \\'x\\'', MASTER_USE_GTID=Slave_Pos"),
            [
                ("MASTER_HOST".into(), "b".into()),
                ("MASTER_PORT".into(), "3307".into()),
                ("SOURCE_PASSWORD".into(), "it's 'x'".into()),
                ("MASTER_USE_GTID".into(), "slave_pos".into()),
            ]
        );
        let (g, ch) = parse("SOURCE_HOST = \"h\" FOR CHANNEL ''").unwrap();
        assert_eq!((g.len(), ch.as_deref()), (1, Some("")));
        assert_eq!(opts("MASTER_HEARTBEAT_PERIOD=0.5")[0].1, "0.5");
    }

    #[test]
    fn unknown_options_and_bad_values_are_refused() {
        assert_eq!(parse("MASTER_HOSTS='b'").unwrap_err().0, ER_PARSE_ERROR);
        assert_eq!(parse("MASTER_PORT='3306'").unwrap_err().0, ER_PARSE_ERROR);
        assert_eq!(parse("MASTER_HOST='a', MASTER_HOST='b'").unwrap_err().0, ER_PARSE_ERROR);
        assert_eq!(parse("MASTER_HOST='a' MASTER_PORT=1").unwrap_err().0, ER_PARSE_ERROR);
        assert_eq!(parse("").unwrap_err().0, ER_PARSE_ERROR);
        assert_eq!(parse("MASTER_HOST='a").unwrap_err().0, ER_PARSE_ERROR);
        assert_eq!(parse("MASTER_USE_GTID=maybe").unwrap_err().0, ER_PARSE_ERROR);
        assert_eq!(parse("MASTER_SSL=2").unwrap_err().0, ER_WRONG_ARGUMENTS);
        let (code, msg) = parse("MASTER_DELAY=10").unwrap_err();
        assert_eq!(code, ER_NOT_SUPPORTED_YET);
        assert!(msg.contains("MASTER_DELAY"), "{msg}");
    }

    fn change(cur: &Overrides, t: &str, end: Option<(&str, u64)>) -> Result<Overrides, Refusal> {
        changed(cur, StartMode::FilePos, &parse(t).unwrap().0, end)
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name() {
        let mut cur = Overrides::default();
        cur.set("master_user", "repl").unwrap();
        let o = change(&cur, "MASTER_HOST='b', MASTER_PORT=3306", None).unwrap();
        assert_eq!((o.get("master_host"), o.get("master_user")), (Some("b"), Some("repl")));
        let o = change(&o, "MASTER_SSL=1, MASTER_SSL_VERIFY_SERVER_CERT=1", None).unwrap();
        assert_eq!((o.get("master_ssl"), o.get("master_ssl_verify_server_cert")), (Some("required"), Some("on")));
        assert_eq!(change(&o, "MASTER_AUTO_POSITION=1", None).unwrap().get("get_start_gtid_mode"), Some("0"));
        assert_eq!(change(&o, "MASTER_USE_GTID=no", None).unwrap().get("get_start_gtid_mode"), Some("2"));
        let kept = changed(&o, StartMode::Current, &parse("MASTER_USE_GTID=current_pos").unwrap().0, None).unwrap();
        assert_eq!(kept.get("get_start_gtid_mode"), Some("1"));
        assert_eq!(change(&o, "MASTER_HOST=''", None).unwrap_err().0, ER_WRONG_ARGUMENTS);
    }

    #[test]
    fn log_file_and_pos_may_name_only_where_binlogd_continues() {
        let cur = Overrides::default();
        let end = Some(("mysql-bin.000002", 1234));
        assert!(change(&cur, "MASTER_LOG_FILE='mysql-bin.000002', MASTER_LOG_POS=1234", end).is_ok());
        let (code, msg) = change(&cur, "MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4", end).unwrap_err();
        assert_eq!(code, ER_WRONG_ARGUMENTS);
        assert!(msg.contains("mysql-bin.000002:1234"), "{msg}");
        let gtid = changed(&cur, StartMode::Gtid, &parse("MASTER_LOG_POS=4").unwrap().0, end).unwrap_err();
        assert_eq!(gtid.0, ER_BAD_REPLICA_AUTO_POSITION);
    }
}
