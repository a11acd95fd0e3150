//! A fake primary for what a real server won't do: bad CRCs, gaps in log_pos, stalls.
//! It answers the replica setup generically and then plays a scripted event stream.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use binlogd::proto::buf::Put;
use binlogd::proto::command::BinlogDump;
use binlogd::proto::handshake::HandshakeV10;
use binlogd::proto::packet;

pub const FILE1: &str = "fake-bin.000001";

/// What to do after the scripted events.
#[derive(Clone, Copy)]
pub enum Then {
    Stall,
    Close,
    /// A heartbeat every 100 ms, as an idle primary sends them, until the replica goes.
    Heartbeats,
}

pub struct FakePrimary {
    pub port: u16,
    pub dumps: Arc<Mutex<Vec<BinlogDump>>>,
}

/// Builds one event: header, body, CRC32.
pub fn event(t: u8, log_pos_end: u32, flags: u16, body: &[u8]) -> Vec<u8> {
    let size = 19 + body.len() + 4;
    let mut e = Vec::with_capacity(size);
    e.put_u32(1_763_800_000);
    e.push(t);
    e.put_u32(77);
    e.put_u32(size as u32);
    e.put_u32(log_pos_end);
    e.put_u16(flags);
    e.extend_from_slice(body);
    let c = crc32fast::hash(&e);
    e.put_u32(c);
    e
}

/// A FORMAT_DESCRIPTION_EVENT at offset 4, with CRC32 checksums.
pub fn fde() -> Vec<u8> {
    let mut b = Vec::new();
    b.put_u16(4);
    let mut v = b"8.0.99-fake".to_vec();
    v.resize(50, 0);
    b.extend_from_slice(&v);
    b.put_u32(0);
    b.push(19);
    let mut post = vec![0u8; 41];
    post[1] = 13; // QUERY post-header length
    b.extend_from_slice(&post);
    b.push(1); // checksum alg CRC32
    let size = 19 + b.len() + 4;
    event(15, 4 + size as u32, 0, &b)
}

/// A QUERY event ending at `end`.
pub fn query(end_after: u32, sql: &str) -> Vec<u8> {
    let mut b = vec![0u8; 8];
    b.push(0);
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.push(0);
    b.extend_from_slice(sql.as_bytes());
    let size = (19 + b.len() + 4) as u32;
    event(2, end_after + size, 0, &b)
}

/// The primary's made-up ROTATE naming the file to stream.
pub fn fake_rotate(name: &str, pos: u64) -> Vec<u8> {
    let mut b = pos.to_le_bytes().to_vec();
    b.extend_from_slice(name.as_bytes());
    event(4, 0, 0x20, &b)
}

pub fn send(s: &mut TcpStream, seq: &mut u8, payload: &[u8]) -> std::io::Result<()> {
    let mut out = Vec::new();
    packet::encode(seq, payload, &mut out);
    s.write_all(&out)
}

pub fn read_packet(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h)?;
    let (len, _) = packet::parse_header(h);
    let mut p = vec![0u8; len];
    s.read_exact(&mut p)?;
    Ok(p)
}

pub fn resultset(s: &mut TcpStream, cols: &[&str], rows: &[Vec<&str>]) -> std::io::Result<()> {
    let mut seq = 1;
    let mut p = Vec::new();
    p.put_lenenc(cols.len() as u64);
    send(s, &mut seq, &p)?;
    for c in cols {
        let mut d = Vec::new();
        for x in ["def", "", "", "", c, c] {
            d.put_lenenc_bytes(x.as_bytes());
        }
        d.extend_from_slice(&[0x0c, 33, 0, 0, 1, 0, 0xfd, 0, 0, 0, 0, 0]);
        send(s, &mut seq, &d)?;
    }
    send(s, &mut seq, &[0xfe, 0, 0, 2, 0])?;
    for r in rows {
        let mut d = Vec::new();
        for v in r {
            d.put_lenenc_bytes(v.as_bytes());
        }
        send(s, &mut seq, &d)?;
    }
    send(s, &mut seq, &[0xfe, 0, 0, 2, 0])
}

pub fn ok(s: &mut TcpStream) -> std::io::Result<()> {
    send(s, &mut 1, &[0, 0, 0, 2, 0, 0, 0])
}

/// The password the fake primary expects after an auth switch.
pub const SWITCH_PASSWORD: &str = "x";

/// The scripted streams, numbered by the replica dumps asked for so far.
type Script = dyn Fn(usize) -> (Vec<Vec<u8>>, Then) + Send;

struct Scripts {
    script: Box<Script>,
    dumps: usize,
}

impl Scripts {
    /// The stream for the next replica dump.
    fn next(&mut self) -> (Vec<Vec<u8>>, Then) {
        self.dumps += 1;
        (self.script)(self.dumps - 1)
    }

    /// What a probe of a file's start gets (a non-blocking dump with server_id 0, as
    /// binlogd makes before a dump from inside a file): the FDE the next replica dump
    /// will send, or the usual one.
    fn probe(&self) -> Vec<Vec<u8>> {
        let (events, _) = (self.script)(self.dumps);
        let fde = events.into_iter().find(|e| e.get(4) == Some(&15)).unwrap_or_else(fde);
        vec![fake_rotate(FILE1, 4), fde]
    }
}

fn serve(
    mut s: TcpStream,
    scripts: Arc<Mutex<Scripts>>,
    dumps: Arc<Mutex<Vec<BinlogDump>>>,
    auth_switch: bool,
) -> std::io::Result<()> {
    let g = greeting(if auth_switch { "caching_sha2_password" } else { "mysql_native_password" });
    send(&mut s, &mut 0, &g.encode())?;
    read_packet(&mut s)?;
    if auth_switch {
        // AuthSwitchRequest to mysql_native_password with a fresh nonce.
        let nonce = [9u8; 20];
        let mut p = vec![0xfe];
        p.extend_from_slice(b"mysql_native_password\0");
        p.extend_from_slice(&nonce);
        p.push(0);
        send(&mut s, &mut 2, &p)?;
        let reply = read_packet(&mut s)?;
        if reply != binlogd::proto::auth::native_scramble(SWITCH_PASSWORD.as_bytes(), &nonce) {
            let mut e = vec![0xff, 0x15, 0x04];
            e.extend_from_slice(b"#28000Access denied (fake)");
            return send(&mut s, &mut 4, &e);
        }
        send(&mut s, &mut 4, &[0, 0, 0, 2, 0, 0, 0])?;
    } else {
        send(&mut s, &mut 2, &[0, 0, 0, 2, 0, 0, 0])?;
    }
    loop {
        let p = read_packet(&mut s)?;
        match p.first() {
            Some(0x03) => {
                let q = String::from_utf8_lossy(&p[1..]).to_ascii_uppercase();
                if q.starts_with("SELECT @@GLOBAL.SERVER_ID") {
                    resultset(&mut s, &["id"], &[vec!["77"]])?;
                } else if q.starts_with("SHOW GLOBAL VARIABLES") {
                    resultset(
                        &mut s,
                        &["Variable_name", "Value"],
                        &[
                            vec!["binlog_checksum", "CRC32"],
                            vec!["log_bin", "ON"],
                            vec!["server_uuid", "11111111-2222-3333-4444-555555555555"],
                        ],
                    )?;
                } else if q.starts_with("SHOW BINARY LOGS") {
                    resultset(&mut s, &["Log_name", "File_size"], &[vec![FILE1, "4096"]])?;
                } else {
                    ok(&mut s)?;
                }
            }
            Some(0x15) => ok(&mut s)?,
            Some(0x12) => {
                let d = BinlogDump::decode(&p).ok();
                let probe = d.as_ref().is_some_and(|d| d.server_id == 0);
                let (events, then) = if probe {
                    (scripts.lock().unwrap().probe(), Then::Stall)
                } else {
                    dumps.lock().unwrap().extend(d);
                    scripts.lock().unwrap().next()
                };
                let mut seq = 1;
                for e in &events {
                    let mut pk = vec![0u8];
                    pk.extend_from_slice(e);
                    send(&mut s, &mut seq, &pk)?;
                }
                if probe {
                    // A non-blocking dump ends with EOF at the end of the binlog.
                    return send(&mut s, &mut seq, &[0xfe, 0, 0, 2, 0]);
                }
                match then {
                    Then::Stall => thread::sleep(Duration::from_secs(3600)),
                    Then::Close => return Ok(()),
                    Then::Heartbeats => loop {
                        thread::sleep(Duration::from_millis(100));
                        let mut pk = vec![0u8];
                        pk.extend_from_slice(&event(27, 4, 0, FILE1.as_bytes()));
                        send(&mut s, &mut seq, &pk)?;
                    },
                }
            }
            _ => return Ok(()),
        }
    }
}

/// The fake primary's greeting, offering `plugin`.
pub fn greeting(plugin: &str) -> HandshakeV10 {
    HandshakeV10 {
        server_version: "8.0.99-fake".into(),
        connection_id: 1,
        scramble: vec![7; 20],
        capabilities: 0x000f_f7ff | 0x0008_0000 | 0x0020_0000,
        ext_capabilities: 0,
        charset: 45,
        status: 2,
        auth_plugin: plugin.into(),
    }
}

/// Sends a mysql_native_password greeting and accepts any login.
pub fn greet_and_login(s: &mut TcpStream) -> std::io::Result<()> {
    send(s, &mut 0, &greeting("mysql_native_password").encode())?;
    read_packet(s)?;
    send(s, &mut 2, &[0, 0, 0, 2, 0, 0, 0])
}

impl FakePrimary {
    /// A primary that runs `f` on each connection, for faults below the event stream.
    pub fn start_raw(f: impl Fn(usize, TcpStream) + Send + Sync + 'static) -> FakePrimary {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let f = Arc::new(f);
        thread::spawn(move || {
            for (n, c) in l.incoming().enumerate() {
                let Ok(c) = c else { continue };
                let f = f.clone();
                thread::spawn(move || f(n, c));
            }
        });
        FakePrimary { port, dumps: Arc::new(Mutex::new(Vec::new())) }
    }

    /// `script(n)` gives the events for the n-th replica dump.
    pub fn start(script: impl Fn(usize) -> (Vec<Vec<u8>>, Then) + Send + 'static) -> FakePrimary {
        Self::start_opts(false, script)
    }

    /// With `auth_switch`, the login is switched to mysql_native_password.
    pub fn start_opts(
        auth_switch: bool,
        script: impl Fn(usize) -> (Vec<Vec<u8>>, Then) + Send + 'static,
    ) -> FakePrimary {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let dumps = Arc::new(Mutex::new(Vec::new()));
        let d2 = dumps.clone();
        let scripts = Arc::new(Mutex::new(Scripts { script: Box::new(script), dumps: 0 }));
        thread::spawn(move || {
            for c in l.incoming() {
                let Ok(c) = c else { continue };
                let (d, scripts) = (d2.clone(), scripts.clone());
                thread::spawn(move || {
                    let _ = serve(c, scripts, d, auth_switch);
                });
            }
        });
        FakePrimary { port, dumps }
    }
}
