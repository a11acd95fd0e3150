//! A small measuring client for `scripts/bench/`: the time from connecting to the
//! first event of a dump (by file+pos, MySQL GTID or MariaDB GTID), the fsync
//! latency of a directory, the wait for binlogd to hold a number of bytes durably, and
//! the least a semisync acker that answers after fsync must do, in one thread, and
//! many tailing readers of which some stop reading.
//! Built with `cargo build --release --example bench_client`.

use std::io::Write;
use std::time::{Duration, Instant};

use binlogd::binlog::gtid::GtidSet;
use binlogd::proto::client::{Client, ConnectOptions};
use binlogd::proto::command::{BinlogDump, BinlogDumpGtid};

fn usage() -> ! {
    eprintln!(
        "usage: bench_client first-event HOST PORT USER PASSWORD (file NAME POS | mysql-gtid SET | maria-gtid STATE)\n\
         \x20      bench_client restart BINLOGD CNF STDERR_FILE HOST PORT USER PASSWORD (file NAME POS | ...)\n\
         \x20      bench_client fsync-p50 DIR COUNT\n\
         \x20      bench_client wait-stored PORT USER PASSWORD PID BYTES START_EPOCH_S LIMIT_S\n\
         \x20      bench_client fsync-acker HOST PORT USER PASSWORD SERVER_ID FILE\n\
         \x20      bench_client readers HOST PORT USER PASSWORD FILE POS LIVE STALLED\n\
         \x20      bench_client lag SQL_HOST SQL_PORT SQL_USER SQL_PASSWORD SECONDS INTERVAL_MS (HOST PORT USER PASSWORD)..."
    );
    std::process::exit(2)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("first-event") if a.len() >= 8 => first_event(&a[2..]),
        Some("restart") if a.len() >= 11 => restart(&a[2..]),
        Some("fsync-p50") if a.len() == 4 => fsync_p50(&a[2], a[3].parse().unwrap_or_else(|_| usage())),
        Some("wait-stored") if a.len() == 9 => wait_stored(&a[2..]),
        Some("fsync-acker") if a.len() == 8 => fsync_acker(&a[2..]),
        Some("readers") if a.len() == 10 => readers(&a[2..]),
        Some("lag") if a.len() >= 12 && (a.len() - 8).is_multiple_of(4) => lag(&a[2..]),
        _ => usage(),
    }
}

fn fail(what: &str, e: &dyn std::fmt::Display) -> ! {
    eprintln!("bench_client: {what}: {e}");
    std::process::exit(1)
}

/// Connection options for `host`:`port` (the port as text, as given on the command line).
fn options(host: &str, port: &str, user: &str, password: &str) -> ConnectOptions {
    ConnectOptions {
        host: host.into(),
        port: port.parse().unwrap_or_else(|_| usage()),
        user: user.into(),
        password: password.into(),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Some(Duration::from_secs(30)),
        program: "bench_client".into(),
        tls: None,
        compression: Vec::new(),
        extra_capabilities: 0,
        ext_capabilities: 0,
    }
}

/// LIVE dumps from FILE:POS that read and discard everything, and STALLED ones that
/// never read, each on its own connection, until killed. Prints "ready" once every
/// dump is requested and the live ones have read their first event.
fn readers(a: &[String]) {
    let mut opts = options(&a[0], &a[1], &a[2], &a[3]);
    // Tailing readers wait as long as the primary is idle.
    opts.read_timeout = None;
    let file = a[4].clone();
    let count = |s: &str| s.parse::<u32>().unwrap_or_else(|_| usage());
    let (pos, live, stalled) = (count(&a[5]), count(&a[6]), count(&a[7]));
    let dump = |id: u32| -> Client {
        let mut c = Client::connect(&opts).unwrap_or_else(|e| fail("connect", &e));
        // A primary refuses a dump to a reader that does not take its checksums.
        c.query("SET @master_binlog_checksum = 'CRC32', @source_binlog_checksum = 'CRC32'")
            .unwrap_or_else(|e| fail("set checksum", &e));
        let d = BinlogDump { pos, flags: 0, server_id: 4_000_100_000 + id, file: file.clone() };
        c.stream.write_command(&d.encode()).unwrap_or_else(|e| fail("dump", &e));
        c
    };
    let (tx, rx) = std::sync::mpsc::channel();
    for i in 0..live {
        let mut c = dump(i);
        let tx = tx.clone();
        // Small stacks: the thread holds one packet at a time.
        let t = std::thread::Builder::new().stack_size(64 << 10).spawn(move || {
            let _ = c.stream.read().map(|_| tx.send(()));
            drop(tx);
            while c.stream.read().is_ok() {}
        });
        t.unwrap_or_else(|e| fail("thread", &e));
    }
    drop(tx);
    let held: Vec<Client> = (live..live + stalled).map(dump).collect();
    for _ in 0..live {
        rx.recv().unwrap_or_else(|e| fail("a reader ended before its first event", &e));
    }
    println!("ready");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(Duration::from_secs(3600));
        let _ = held.len();
    }
}

/// Delivery lag: every INTERVAL_MS for SECONDS, a marker statement (`DROP TABLE IF
/// EXISTS bench_lag.m<k>`, written to the binlog as a Query event) is committed on the
/// SQL server, and dumps tailing each (HOST PORT USER PASSWORD) source from its end
/// note when each marker arrives. Prints, per source, "markers p50_ms p99_ms missing
/// sent_p50_ms sent_p99_ms added_p50_ms added_p99_ms ahead_p50_ms ahead_pct": the lag
/// from the statement's return to the marker's arrival (0 when it arrived first, as a
/// reader of an acker may get it before the commit returns), then from the statement's
/// start, then what this source adds to the one before it, marker by marker (0 for the
/// first source), then how long before the return the median marker arrived (negative
/// when after it) and the share of markers that arrived before the return.
/// How many ms `t` came before `then` (negative when after it).
fn ms_ahead(t: Instant, then: Instant) -> f64 {
    (then.saturating_duration_since(t).as_secs_f64() - t.saturating_duration_since(then).as_secs_f64()) * 1000.0
}

fn lag(a: &[String]) {
    let secs: u64 = a[4].parse().unwrap_or_else(|_| usage());
    let every = Duration::from_millis(a[5].parse().unwrap_or_else(|_| usage()));
    let sources: Vec<&[String]> = a[6..].chunks(4).collect();
    let (tx, rx) = std::sync::mpsc::channel::<(usize, u64, Instant)>();
    let mut ready = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        let mut opts = options(&src[0], &src[1], &src[2], &src[3]);
        opts.read_timeout = None;
        let mut c = Client::connect(&opts).unwrap_or_else(|e| fail("connect", &e));
        let st = c
            .query("SHOW BINARY LOG STATUS")
            .or_else(|_| c.query("SHOW MASTER STATUS"))
            .unwrap_or_else(|e| fail("binary log status", &e));
        let row = st.rows.first().unwrap_or_else(|| fail("binary log status", &"no row"));
        let file = row.first().cloned().flatten().unwrap_or_default();
        let pos: u32 = row.get(1).cloned().flatten().and_then(|p| p.parse().ok()).unwrap_or(4);
        c.query("SET @master_binlog_checksum = 'CRC32', @source_binlog_checksum = 'CRC32'")
            .unwrap_or_else(|e| fail("set checksum", &e));
        let d = BinlogDump { pos, flags: 0, server_id: 4_000_200_000 + i as u32, file };
        c.stream.write_command(&d.encode()).unwrap_or_else(|e| fail("dump", &e));
        let tx = tx.clone();
        let (rtx, rrx) = std::sync::mpsc::channel();
        ready.push(rrx);
        std::thread::spawn(move || {
            let _ = rtx.send(());
            const MARK: &[u8] = b"bench_lag`.`m";
            while let Ok(p) = c.stream.read() {
                // An event packet: 0x00, then the header; a Query event is type 2.
                if p.first() != Some(&0) || p.get(5) != Some(&2) {
                    continue;
                }
                let Some(at) = p.windows(MARK.len()).position(|w| w == MARK) else { continue };
                let digits: String =
                    p[at + MARK.len()..].iter().take_while(|b| b.is_ascii_digit()).map(|&b| b as char).collect();
                if let Ok(k) = digits.parse() {
                    let _ = tx.send((i, k, Instant::now()));
                }
            }
        });
    }
    drop(tx);
    for r in ready {
        let _ = r.recv();
    }
    let mut sql = Client::connect(&options(&a[0], &a[1], &a[2], &a[3])).unwrap_or_else(|e| fail("connect", &e));
    let mut returned = Vec::new();
    let t0 = Instant::now();
    let mut k = 0u64;
    while t0.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(every);
        let issued = Instant::now();
        sql.query(&format!("DROP TABLE IF EXISTS `bench_lag`.`m{k}`")).unwrap_or_else(|e| fail("marker", &e));
        returned.push((issued, Instant::now()));
        k += 1;
    }
    // The last markers' arrival.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut arrived: Vec<Vec<Option<Instant>>> = vec![vec![None; returned.len()]; sources.len()];
    while let Ok((i, k, t)) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if let Some(slot) = arrived.get_mut(i).and_then(|v| v.get_mut(k as usize)) {
            *slot = Some(t);
        }
        if arrived.iter().all(|v| v.iter().all(Option::is_some)) {
            break;
        }
    }
    let quantiles = |mut ms: Vec<f64>| {
        ms.sort_by(f64::total_cmp);
        let q = |f: f64| ms.get(((ms.len() as f64 - 1.0) * f).round() as usize).copied().unwrap_or(0.0);
        (ms.len(), q(0.5), q(0.99))
    };
    // BENCH_LAG_TRACE=1: each marker's times, to find where an outlier comes from.
    if std::env::var_os("BENCH_LAG_TRACE").is_some() {
        for (k, (issued, ret)) in returned.iter().enumerate() {
            let at = |t: Instant| t.saturating_duration_since(t0).as_secs_f64() * 1000.0;
            let arr: Vec<String> = arrived
                .iter()
                .map(|v| {
                    // Signed: negative when the reader had it before the commit returned.
                    v[k].map_or("-".into(), |a| format!("{:.3}", -ms_ahead(a, *ret)))
                })
                .collect();
            eprintln!(
                "marker {k} issued {:.1} took {:.3} arrived+ {}",
                at(*issued),
                (*ret - *issued).as_secs_f64() * 1000.0,
                arr.join(" ")
            );
        }
    }
    for (i, v) in arrived.iter().enumerate() {
        // Per marker, this source's arrival after the previous source's.
        let added: Vec<f64> = match i.checked_sub(1).and_then(|p| arrived.get(p)) {
            Some(prev) => v
                .iter()
                .zip(prev)
                .filter_map(|(a, b)| Some(a.as_ref()?.saturating_duration_since(*b.as_ref()?).as_secs_f64() * 1000.0))
                .collect(),
            None => Vec::new(),
        };
        let (_, a50, a99) = quantiles(added);
        let since = |pick: fn(&(Instant, Instant)) -> Instant| -> Vec<f64> {
            v.iter()
                .zip(&returned)
                .filter_map(|(a, r)| a.map(|a| a.saturating_duration_since(pick(r)).as_secs_f64() * 1000.0))
                .collect()
        };
        let (n, p50, p99) = quantiles(since(|r| r.1));
        let (_, s50, s99) = quantiles(since(|r| r.0));
        let ahead: Vec<f64> = v.iter().zip(&returned).filter_map(|(a, r)| Some(ms_ahead((*a)?, r.1))).collect();
        let first = ahead.iter().filter(|&&ms| ms > 0.0).count() as f64 * 100.0 / ahead.len().max(1) as f64;
        let (_, h50, _) = quantiles(ahead);
        println!(
            "{n} {p50:.3} {p99:.3} {} {s50:.3} {s99:.3} {a50:.3} {a99:.3} {h50:.3} {first:.0}",
            returned.len() - n
        );
    }
}

/// Prints milliseconds from the TCP connect to the first event packet.
fn first_event(a: &[String]) {
    let t = Instant::now();
    dump_to_first_event(a).unwrap_or_else(|(what, e)| fail(what, &e));
    println!("{:.3}", t.elapsed().as_secs_f64() * 1000.0);
}

/// Connects to `a` = HOST PORT USER PASSWORD and dumps as the rest of `a` says,
/// until the first event read from a file arrives.
fn dump_to_first_event(a: &[String]) -> Result<(), (&'static str, String)> {
    let opts = options(&a[0], &a[1], &a[2], &a[3]);
    let mut c = Client::connect(&opts).map_err(|e| ("connect", e.to_string()))?;
    c.query("SET @master_binlog_checksum = 'CRC32', @source_binlog_checksum = 'CRC32'")
        .map_err(|e| ("set checksum", e.to_string()))?;
    let cmd = match a[4].as_str() {
        "file" if a.len() == 7 => BinlogDump {
            pos: a[6].parse().unwrap_or_else(|_| usage()),
            flags: 0,
            server_id: 4_000_000_001,
            file: a[5].clone(),
        }
        .encode(),
        "mysql-gtid" if a.len() == 6 => {
            let set = GtidSet::parse(&a[5]).unwrap_or_else(|e| fail("GTID set", &e.0));
            BinlogDumpGtid { flags: 0, server_id: 4_000_000_001, file: String::new(), pos: 4, gtid_data: set.encode() }
                .encode()
        }
        "maria-gtid" if a.len() == 6 => {
            c.query(&format!("SET @slave_connect_state = '{}'", a[5])).map_err(|e| ("connect state", e.to_string()))?;
            c.query("SET @mariadb_slave_capability = 4").map_err(|e| ("capability", e.to_string()))?;
            BinlogDump { pos: 4, flags: 0, server_id: 4_000_000_001, file: String::new() }.encode()
        }
        _ => usage(),
    };
    c.stream.write_command(&cmd).map_err(|e| ("dump", e.to_string()))?;
    // The fake ROTATE, then the FDE: the first event read from a file.
    for _ in 0..2 {
        let p = c.stream.read().map_err(|e| ("read", e.to_string()))?;
        if p.first() != Some(&0) {
            return Err(("dump refused", binlogd::proto::parse_err(&p).to_string()));
        }
    }
    Ok(())
}

/// Starts `binlogd CNF` (its standard error appended to STDERR_FILE), then tries the
/// dump of `first-event` every 100 µs until its first event arrives, and prints
/// binlogd's pid and the milliseconds since the start. One process times the whole
/// wait, so the figure is binlogd's, not a shell's loop starting a client each try.
fn restart(a: &[String]) {
    let err = std::fs::OpenOptions::new().create(true).append(true).open(&a[2]).unwrap_or_else(|e| fail(&a[2], &e));
    let t = Instant::now();
    let mut child = std::process::Command::new(&a[0])
        .arg(&a[1])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| fail(&a[0], &e));
    loop {
        match dump_to_first_event(&a[3..]) {
            Ok(()) => break,
            Err((what, e)) if t.elapsed() >= Duration::from_secs(60) => {
                eprintln!("bench_client: binlogd {} did not serve within 60 s: {what}: {e}", child.id());
                println!("{}", child.id());
                std::process::exit(1);
            }
            Err(_) => {
                if let Ok(Some(st)) = child.try_wait() {
                    fail("binlogd", &format!("exited ({st}) before serving; see {}", a[2]));
                }
                std::thread::sleep(Duration::from_micros(100))
            }
        }
    }
    println!("{} {:.3}", child.id(), t.elapsed().as_secs_f64() * 1000.0);
}

/// Prints the median microseconds of a 4 KiB write plus fsync in `dir`.
fn fsync_p50(dir: &str, count: usize) {
    let path = std::path::Path::new(dir).join("bench-fsync.tmp");
    let mut f = std::fs::File::create(&path).unwrap_or_else(|e| {
        eprintln!("bench_client: {}: {e}", path.display());
        std::process::exit(1)
    });
    let block = vec![0u8; 4096];
    let mut v = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        let t = Instant::now();
        if f.write_all(&block).and_then(|_| f.sync_data()).is_err() {
            std::process::exit(1);
        }
        v.push(t.elapsed().as_micros());
    }
    let _ = std::fs::remove_file(&path);
    v.sort_unstable();
    println!("{}", v[v.len() / 2]);
}

/// Waits until binlogd (process PID, serving on 127.0.0.1:PORT) holds BYTES durably, by
/// its own SHOW BINARY LOGS over one connection, and prints the seconds since
/// START_EPOCH_S. One query every 5 ms takes next to none of the CPU the catch-up needs.
fn wait_stored(a: &[String]) {
    let pid: i32 = a[3].parse().unwrap_or_else(|_| usage());
    let want: u64 = a[4].parse().unwrap_or_else(|_| usage());
    let start: f64 = a[5].parse().unwrap_or_else(|_| usage());
    let limit: f64 = a[6].parse().unwrap_or_else(|_| usage());
    let epoch = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let mut client: Option<Client> = None;
    let mut durable = 0u64;
    loop {
        // SAFETY: signal 0 only checks that the process exists.
        if unsafe { libc::kill(pid, 0) } != 0 {
            fail("binlogd", &format!("process {pid} exited"));
        }
        if epoch() - start > limit {
            fail("binlogd", &format!("holds {durable} of {want} bytes durably after {limit} s"));
        }
        if client.is_none() {
            // Not listening yet, or the last query failed: try again next time.
            client = Client::connect(&options("127.0.0.1", &a[0], &a[1], &a[2])).ok();
        }
        if let Some(c) = client.as_mut() {
            match c.query("SHOW BINARY LOGS") {
                Ok(rs) => {
                    durable = rs.rows.iter().filter_map(|r| r.get(1)?.as_deref()?.parse::<u64>().ok()).sum();
                    if durable >= want {
                        println!("{:.3}", epoch() - start);
                        return;
                    }
                }
                Err(_) => client = None,
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The floor of an acker that answers after fsync: one thread that reads each event
/// from the primary's current position on and appends it to FILE over zeros written
/// ahead (as binlogd's `binlog_preallocate` does). Once the primary has asked for a
/// reply and nothing more has arrived, it runs one fdatasync and sends one reply for
/// the last position asked, on the same connection, as binlogd batches. It checks no
/// CRC, writes every file of the primary into the one FILE, serves nothing and hands
/// nothing to another thread: what binlogd does beyond it is the cost of its checks,
/// its files and its reader, writer and acker threads. Runs until killed or the
/// primary ends the stream; each second with fsyncs it prints "fsyncs N us T" (the
/// count and total microseconds so far) on stderr.
fn fsync_acker(a: &[String]) {
    use binlogd::binlog::event::{ChecksumAlg, EventHeader, EventType, Rotate, LOG_EVENT_ARTIFICIAL_F};
    use binlogd::proto::command::{semisync_ack, RegisterSlave, SEMISYNC_MAGIC, SEMISYNC_NEED_ACK};
    use std::os::unix::fs::FileExt;
    const AHEAD: u64 = 1 << 20;
    let mut opts = options(&a[0], &a[1], &a[2], &a[3]);
    opts.read_timeout = None;
    let server_id: u32 = a[4].parse().unwrap_or_else(|_| usage());
    let mut c = Client::connect(&opts).unwrap_or_else(|e| fail("connect", &e));
    let maria = c.server_version().contains("MariaDB");
    let status = if maria { "SHOW MASTER STATUS" } else { "SHOW BINARY LOG STATUS" };
    let rs = c.query(status).unwrap_or_else(|e| fail(status, &e));
    let row = rs.rows.first().unwrap_or_else(|| fail(status, &"binary logging is off"));
    let mut file = row.first().cloned().flatten().unwrap_or_default();
    let pos: u32 = row.get(1).cloned().flatten().and_then(|p| p.parse().ok()).unwrap_or(4);
    for q in [
        "SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum",
        "SET @mariadb_slave_capability = 4",
        // Heartbeats let the primary notice at once when this process is killed.
        "SET @master_heartbeat_period = 1000000000, @source_heartbeat_period = 1000000000",
        "SET @rpl_semi_sync_slave = 1, @rpl_semi_sync_replica = 1",
    ] {
        c.query(q).unwrap_or_else(|e| fail(q, &e));
    }
    let alg = match c.query("SELECT @@global.binlog_checksum") {
        Ok(rs) if rs.scalar() == Some("CRC32") => ChecksumAlg::CRC32,
        _ => ChecksumAlg::OFF,
    };
    let reg = RegisterSlave { server_id, ..Default::default() };
    let p = reg.encode().unwrap_or_else(|e| fail("register", &e));
    c.command_ok(&p, "COM_REGISTER_SLAVE").unwrap_or_else(|e| fail("register", &e));
    let flags = if maria { binlogd::proto::command::BINLOG_SEND_ANNOTATE_ROWS_EVENT } else { 0 };
    let dump = BinlogDump { pos, flags, server_id, file: file.clone() }.encode();
    c.stream.write_command(&dump).unwrap_or_else(|e| fail("dump", &e));
    c.stream.follow_seq = true;
    let mut ack_sock = c.stream.inner.try_clone().unwrap_or_else(|e| fail("socket", &e));
    let out = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&a[5])
        .unwrap_or_else(|e| fail(&a[5], &e));
    let zeros = vec![0u8; AHEAD as usize];
    let (mut at, mut zeroed) = (0u64, 0u64);
    let (mut p, mut reply) = (Vec::new(), Vec::new());
    let mut asked: Option<(String, u32)> = None;
    // fsyncs and their time, reported on stderr each second.
    let (mut fsyncs, mut fsync_us, mut last_report) = (0u64, 0u64, Instant::now());
    let fd = std::os::fd::AsRawFd::as_raw_fd(c.stream.inner.tcp());
    loop {
        if asked.is_some() && c.stream.inner.buffered() == 0 && !readable(fd) {
            if let Some((f, pos)) = asked.take() {
                let t = Instant::now();
                out.sync_data().unwrap_or_else(|e| fail(&a[5], &e));
                fsyncs += 1;
                fsync_us += t.elapsed().as_micros() as u64;
                if last_report.elapsed() >= Duration::from_secs(1) {
                    eprintln!("fsyncs {fsyncs} us {fsync_us}");
                    last_report = Instant::now();
                }
                reply.clear();
                let mut seq = 0u8;
                binlogd::proto::packet::encode(&mut seq, &semisync_ack(&f, u64::from(pos)), &mut reply);
                if ack_sock.write_all(&reply).and_then(|_| ack_sock.flush()).is_err() {
                    return;
                }
            }
        }
        if zeroed - at < AHEAD / 2 {
            out.write_all_at(&zeros, zeroed).and_then(|_| out.sync_data()).unwrap_or_else(|e| fail(&a[5], &e));
            zeroed += AHEAD;
        }
        p.clear();
        if c.stream.read_into(&mut p).is_err() {
            return;
        }
        // OK byte, the semisync magic and flag, then a whole event.
        if p.len() < 3 || p[0] != 0 || p[1] != SEMISYNC_MAGIC {
            fail("stream", &binlogd::proto::parse_err(&p));
        }
        let ev = &p[3..];
        let h = EventHeader::decode(ev).unwrap_or_else(|e| fail("event", &e));
        if h.event_type == EventType::ROTATE {
            file = Rotate::decode(ev, alg).unwrap_or_else(|e| fail("rotate", &e)).next_file;
        }
        // Heartbeats (MySQL's two kinds) are not in the primary's file.
        let heartbeat = matches!(h.event_type, EventType::HEARTBEAT | EventType::HEARTBEAT_V2);
        if h.flags & LOG_EVENT_ARTIFICIAL_F == 0 && !heartbeat {
            out.write_all_at(ev, at).unwrap_or_else(|e| fail(&a[5], &e));
            at += ev.len() as u64;
        }
        if p[2] & SEMISYNC_NEED_ACK != 0 {
            asked = Some((file.clone(), h.log_pos));
        }
    }
}

/// Whether a read of `fd` would not block.
fn readable(fd: i32) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd, no wait.
    unsafe { libc::poll(&mut p, 1, 0) > 0 }
}
