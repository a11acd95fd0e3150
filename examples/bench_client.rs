//! A small measuring client for `scripts/bench/`: the time from connecting to the
//! first event of a dump (by file+pos, MySQL GTID or MariaDB GTID), and the fsync
//! latency of a directory. Built with `cargo build --release --example bench_client`.

use std::io::Write;
use std::time::{Duration, Instant};

use binlogd::binlog::gtid::GtidSet;
use binlogd::proto::client::{Client, ConnectOptions};
use binlogd::proto::command::{BinlogDump, BinlogDumpGtid};

fn usage() -> ! {
    eprintln!(
        "usage: bench_client first-event HOST PORT USER PASSWORD (file NAME POS | mysql-gtid SET | maria-gtid STATE)\n\
         \x20      bench_client fsync-p50 DIR COUNT"
    );
    std::process::exit(2)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("first-event") if a.len() >= 8 => first_event(&a[2..]),
        Some("fsync-p50") if a.len() == 4 => fsync_p50(&a[2], a[3].parse().unwrap_or_else(|_| usage())),
        _ => usage(),
    }
}

/// Prints milliseconds from the TCP connect to the first event packet.
fn first_event(a: &[String]) {
    let t = Instant::now();
    let opts = ConnectOptions {
        host: a[0].clone(),
        port: a[1].parse().unwrap_or_else(|_| usage()),
        user: a[2].clone(),
        password: a[3].clone(),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Some(Duration::from_secs(30)),
        program: "bench_client".into(),
        tls: None,
    };
    let fail = |what: &str, e: &dyn std::fmt::Display| -> ! {
        eprintln!("bench_client: {what}: {e}");
        std::process::exit(1)
    };
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
