//! A small measuring client for `scripts/bench/`: the time from connecting to the
//! first event of a dump (by file+pos, MySQL GTID or MariaDB GTID), the fsync
//! latency of a directory, and the wait for binlogd to hold a number of bytes durably.
//! Built with `cargo build --release --example bench_client`.

use std::io::Write;
use std::time::{Duration, Instant};

use binlogd::binlog::gtid::GtidSet;
use binlogd::proto::client::{Client, ConnectOptions};
use binlogd::proto::command::{BinlogDump, BinlogDumpGtid};

fn usage() -> ! {
    eprintln!(
        "usage: bench_client first-event HOST PORT USER PASSWORD (file NAME POS | mysql-gtid SET | maria-gtid STATE)\n\
         \x20      bench_client fsync-p50 DIR COUNT\n\
         \x20      bench_client wait-stored PORT USER PASSWORD PID BYTES START_EPOCH_S LIMIT_S"
    );
    std::process::exit(2)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("first-event") if a.len() >= 8 => first_event(&a[2..]),
        Some("fsync-p50") if a.len() == 4 => fsync_p50(&a[2], a[3].parse().unwrap_or_else(|_| usage())),
        Some("wait-stored") if a.len() == 9 => wait_stored(&a[2..]),
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
    }
}

/// Prints milliseconds from the TCP connect to the first event packet.
fn first_event(a: &[String]) {
    let t = Instant::now();
    let opts = options(&a[0], &a[1], &a[2], &a[3]);
    let mut c = Client::connect(&opts).unwrap_or_else(|e| fail("connect", &e));
    c.query("SET @master_binlog_checksum = 'CRC32', @source_binlog_checksum = 'CRC32'")
        .unwrap_or_else(|e| fail("set checksum", &e));
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
            c.query(&format!("SET @slave_connect_state = '{}'", a[5])).unwrap_or_else(|e| fail("connect state", &e));
            c.query("SET @mariadb_slave_capability = 4").unwrap_or_else(|e| fail("capability", &e));
            BinlogDump { pos: 4, flags: 0, server_id: 4_000_000_001, file: String::new() }.encode()
        }
        _ => usage(),
    };
    c.stream.write_command(&cmd).unwrap_or_else(|e| fail("dump", &e));
    // The fake ROTATE, then the FDE: the first event read from a file.
    for _ in 0..2 {
        let p = c.stream.read().unwrap_or_else(|e| fail("read", &e));
        if p.first() != Some(&0) {
            fail("dump refused", &binlogd::proto::parse_err(&p));
        }
    }
    println!("{:.3}", t.elapsed().as_secs_f64() * 1000.0);
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
