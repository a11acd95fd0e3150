//! A TCP fault proxy between binlogd and a real primary: it can cut a connection
//! after a chosen number of bytes from the primary (mid-event, mid-transaction,
//! inside a multi-packet event), stall without closing, or slow the link down.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Default)]
pub struct Faults {
    /// For each new connection in turn: cut it after this many bytes from the primary.
    /// A connection that ends before (binlogd's probe of a file's start, say) passes its
    /// cut on to the next one.
    pub cuts: Vec<u64>,
    /// Forward nothing (both ways) while set; connections stay open.
    pub stall: bool,
    /// Sleep this long per chunk forwarded from the primary.
    pub delay: Duration,
    pub connections: usize,
    pub cut_done: usize,
    /// Bytes forwarded from the upstream, all connections together.
    pub downstream_bytes: u64,
}

pub struct Proxy {
    pub port: u16,
    pub faults: Arc<Mutex<Faults>>,
}

/// Does this client's stream hold a dump request with server_id 0: binlogd's probe of a
/// file's start (as `mysqlbinlog` asks), not its replica connection? `pending` keeps
/// what is read of a packet not yet whole.
fn asks_probe(pending: &mut Vec<u8>, bytes: &[u8]) -> bool {
    pending.extend_from_slice(bytes);
    let mut probe = false;
    while pending.len() >= 4 {
        let len = usize::from(pending[0]) | usize::from(pending[1]) << 8 | usize::from(pending[2]) << 16;
        if pending.len() < 4 + len {
            break;
        }
        let p = &pending[4..4 + len];
        // COM_BINLOG_DUMP: 0x12, pos (4), flags (2), server_id (4), file name.
        probe |= p.len() >= 11 && p[0] == 0x12 && p[7..11] == [0, 0, 0, 0];
        pending.drain(..4 + len);
    }
    probe
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    faults: Arc<Mutex<Faults>>,
    cut_at: Option<u64>,
    downstream: bool,
    probe: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut sent = 0u64;
    let mut pending = Vec::new();
    let mut cut_at = cut_at;
    loop {
        while faults.lock().unwrap().stall {
            thread::sleep(Duration::from_millis(20));
        }
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut n = n;
        if !downstream && asks_probe(&mut pending, &buf[..n]) {
            // Known before the primary answers the request.
            probe.store(true, Ordering::SeqCst);
        }
        if let (true, Some(c)) = (downstream, cut_at) {
            if probe.load(Ordering::SeqCst) {
                // The cut is for a replica connection: the next one takes it.
                faults.lock().unwrap().cuts.insert(0, c);
                cut_at = None;
            } else if sent + n as u64 >= c {
                n = (c - sent) as usize;
                let _ = to.write_all(&buf[..n]);
                faults.lock().unwrap().cut_done += 1;
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        }
        while faults.lock().unwrap().stall {
            thread::sleep(Duration::from_millis(20));
        }
        if downstream {
            let d = faults.lock().unwrap().delay;
            if !d.is_zero() {
                thread::sleep(d);
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        sent += n as u64;
        if downstream {
            faults.lock().unwrap().downstream_bytes += n as u64;
        }
    }
    if let (true, Some(c)) = (downstream, cut_at) {
        faults.lock().unwrap().cuts.insert(0, c);
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

impl Proxy {
    pub fn start(upstream_port: u16) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let faults = Arc::new(Mutex::new(Faults::default()));
        let f = faults.clone();
        thread::spawn(move || {
            for c in l.incoming() {
                let Ok(client) = c else { continue };
                let Ok(up) = TcpStream::connect(("127.0.0.1", upstream_port)) else { continue };
                let cut = {
                    let mut g = f.lock().unwrap();
                    g.connections += 1;
                    if g.cuts.is_empty() {
                        None
                    } else {
                        Some(g.cuts.remove(0))
                    }
                };
                let (c2, u2) = (client.try_clone().unwrap(), up.try_clone().unwrap());
                let (fa, fb) = (f.clone(), f.clone());
                let probe = Arc::new(AtomicBool::new(false));
                let p2 = probe.clone();
                thread::spawn(move || pump(up, client, fa, cut, true, probe));
                thread::spawn(move || pump(c2, u2, fb, None, false, p2));
            }
        });
        Proxy { port, faults }
    }
}
