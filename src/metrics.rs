//! Prometheus metrics over plain HTTP (`metrics_address`, `metrics_port`):
//! `GET /metrics` answers the text exposition format, anything else 404.
//!
//! <https://prometheus.io/docs/instrumenting/exposition_formats/>
//! Each scrape gets a thread of its own, up to `MAX_SCRAPES` at once (more are closed
//! at once); its request must arrive within two seconds and fit in 8 KiB. A stalled or
//! hostile client therefore costs one thread for two seconds and never holds up the
//! scrapes behind it.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use log::{info, warn};

use crate::config::Config;
use crate::replica::{Latency, Shared, LATENCY_BUCKETS_US};

/// Binds the metrics port when `metrics_port` is set.
pub fn bind(cfg: &Config) -> std::io::Result<Option<TcpListener>> {
    let Some(port) = cfg.metrics_port else { return Ok(None) };
    let addr = cfg.metrics_address.clone().unwrap_or_else(|| "127.0.0.1".into());
    Ok(Some(TcpListener::bind((addr.as_str(), port))?))
}

/// Scrapes answered at once; a connection over this is closed unanswered.
const MAX_SCRAPES: usize = 8;

/// Gives a scrape's slot back when its thread ends, however it ends.
struct Done(Arc<AtomicUsize>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub fn spawn(listener: TcpListener, shared: Arc<Shared>, dir: &Path) -> std::io::Result<()> {
    let dir = Arc::new(dir.to_path_buf());
    info!("metrics on http://{}/metrics", listener.local_addr().map(|a| a.to_string()).unwrap_or_default());
    let busy = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new().name("metrics".into()).spawn(move || {
        for c in listener.incoming() {
            let s = match c {
                Ok(s) => s,
                Err(e) => {
                    warn!("accept on the metrics port failed: {e}");
                    continue;
                }
            };
            if busy.fetch_add(1, Ordering::SeqCst) >= MAX_SCRAPES {
                busy.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
            let (shared, dir, done) = (shared.clone(), dir.clone(), Done(busy.clone()));
            let r = std::thread::Builder::new().name("scrape".into()).spawn(move || {
                let _done = done;
                if let Err(e) = answer(s, &shared, &dir) {
                    log::debug!("metrics request: {e}");
                }
            });
            if let Err(e) = r {
                // The closure, and the slot it held, went with the error.
                warn!("cannot start a thread for a metrics request: {e}");
            }
        }
    })?;
    Ok(())
}

fn answer(mut s: TcpStream, shared: &Shared, dir: &Path) -> std::io::Result<()> {
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        let n = s.read(&mut chunk)?;
        if n == 0 || buf.len() + n > 8192 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(buf.split(|&b| b == b'\n').next().unwrap_or(&[])).into_owned();
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, body) = if method == "GET" && (path == "/metrics" || path.starts_with("/metrics?")) {
        ("200 OK", render(shared, dir))
    } else {
        ("404 Not Found", "binlogd serves /metrics\n".to_string())
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body.as_bytes())
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
}

/// A histogram in seconds from one of `Stats`' latencies and its count.
fn histogram(out: &mut String, name: &str, help: &str, l: &Latency, count: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (b, le) in l.buckets.iter().zip(LATENCY_BUCKETS_US) {
        let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {}", le as f64 / 1e6, b.load(Relaxed));
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
    let _ = writeln!(out, "{name}_sum {}", l.sum_us.load(Relaxed) as f64 / 1e6);
    let _ = writeln!(out, "{name}_count {count}");
}

/// The exposition text.
pub fn render(sh: &Shared, dir: &Path) -> String {
    let st = &sh.stats;
    let mut o = String::with_capacity(4096);
    let counters = [
        ("binlogd_events_received_total", "Events read from the primary.", st.events_received.load(Relaxed)),
        ("binlogd_bytes_received_total", "Event bytes read from the primary.", st.bytes_received.load(Relaxed)),
        ("binlogd_events_written_total", "Events written to the binlog files.", st.events_written.load(Relaxed)),
        ("binlogd_bytes_written_total", "Bytes written to the binlog files.", st.bytes_written.load(Relaxed)),
        ("binlogd_fsyncs_total", "fsyncs of the binlog files.", st.fsyncs.load(Relaxed)),
        ("binlogd_acks_sent_total", "Semisync ACKs sent to the primary.", st.acks.load(Relaxed)),
        ("binlogd_reconnects_total", "Reconnects to the primary.", st.reconnects.load(Relaxed)),
        ("binlogd_bytes_sent_total", "Binlog bytes sent to replicas and clients.", st.bytes_sent.load(Relaxed)),
    ];
    for (n, h, v) in counters {
        metric(&mut o, n, "counter", h, v);
    }
    let u = sh.link.upstream().clone();
    metric(
        &mut o,
        "binlogd_mirroring",
        "gauge",
        "1 while the dump from the primary is streaming.",
        u8::from(u.running),
    );
    metric(
        &mut o,
        "binlogd_binlog_dir_full",
        "gauge",
        "1 while mirroring waits for free space in binlog_dir.",
        u8::from(u.state == crate::replica::SPACE_STATE),
    );
    if let Ok(free) = crate::binlog::fs::free_space(dir) {
        metric(
            &mut o,
            "binlogd_binlog_dir_free_bytes",
            "gauge",
            "Bytes still free for binlogd in binlog_dir's file system (statvfs f_bavail).",
            free,
        );
    }
    if let Some(b) = sh.seconds_behind() {
        metric(&mut o, "binlogd_seconds_behind_master", "gauge", "Age of the last event read; 0 when caught up.", b);
    }
    let last = st.last_ack_us.load(Relaxed) as f64 / 1e6;
    metric(&mut o, "binlogd_last_ack_latency_seconds", "gauge", "Latency of the last semisync ACK.", last);
    let acks = st.acks.load(Relaxed);
    let help = "From the event asking for an ACK to the ACK sent (after fsync).";
    histogram(&mut o, "binlogd_ack_latency_seconds", help, &st.ack_latency, acks);
    let help = "Time to write out what was pending and fsync it.";
    histogram(&mut o, "binlogd_fsync_seconds", help, &st.fsync_latency, st.fsyncs.load(Relaxed));
    // Per replica: bytes stored and not yet sent to it.
    let d = sh.serving.durable.snapshot();
    let readers = sh.serving.readers.lock().unwrap_or_else(|e| e.into_inner()).clone();
    metric(&mut o, "binlogd_replicas_connected", "gauge", "Connections dumping binlogs from binlogd.", readers.len());
    metric(&mut o, "binlogd_binlog_files", "gauge", "Binlog files stored, of every source.", d.files.len());
    let help = "The primaries binlogd has followed: the number of the newest source whose files are stored.";
    metric(&mut o, "binlogd_sources", "gauge", help, crate::binlog::sources::newest(&d.files));
    let _ = writeln!(
        o,
        "# HELP binlogd_replica_lag_bytes Durable bytes a dumping connection has not been sent yet.\n# TYPE binlogd_replica_lag_bytes gauge"
    );
    for (id, r) in &readers {
        let lag = lag_bytes(dir, &d, &r.file, r.pos);
        let sid = r.server_id.map(|s| s.to_string()).unwrap_or_default();
        let _ = writeln!(
            o,
            "binlogd_replica_lag_bytes{{connection=\"{id}\",server_id=\"{sid}\",file=\"{}\"}} {lag}",
            r.file
        );
    }
    o
}

/// Bytes from (file, pos) to the durable end.
fn lag_bytes(dir: &Path, d: &crate::binlog::durable::DurableState, file: &str, pos: u64) -> u64 {
    let Some(i) = d.files.iter().position(|f| f == file) else { return 0 };
    let mut lag = 0u64;
    for (k, f) in d.files.iter().enumerate().skip(i) {
        let len = d.stored_len(dir, f);
        lag += if k == i { len.saturating_sub(pos) } else { len };
    }
    lag
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_histogram_is_cumulative_and_ends_at_its_count() {
        let l = Latency::default();
        for us in [50, 300, 2_000_000] {
            l.record(Duration::from_micros(us));
        }
        let mut o = String::new();
        histogram(&mut o, "x_seconds", "help", &l, 3);
        let v = |k: &str| o.lines().find_map(|l| l.strip_prefix(k)).map(str::trim).unwrap_or("missing").to_string();
        assert_eq!(v("x_seconds_bucket{le=\"0.0001\"}"), "1", "{o}");
        assert_eq!(v("x_seconds_bucket{le=\"0.00025\"}"), "1", "{o}");
        assert_eq!(v("x_seconds_bucket{le=\"0.0005\"}"), "2", "{o}");
        assert_eq!(v("x_seconds_bucket{le=\"1\"}"), "2", "{o}");
        assert_eq!(v("x_seconds_bucket{le=\"+Inf\"}"), "3", "{o}");
        assert_eq!(v("x_seconds_sum"), "2.00035", "{o}");
        assert_eq!(v("x_seconds_count"), "3", "{o}");
        assert!(o.starts_with("# HELP x_seconds help\n# TYPE x_seconds histogram\n"), "{o}");
    }
}
