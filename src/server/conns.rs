//! Every client connection, for SHOW PROCESSLIST and KILL: who it is, what it is
//! doing and since when, and a handle to end it from another thread.

use std::collections::BTreeMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a connection is doing, as SHOW PROCESSLIST's Command column names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Connect,
    Sleep,
    Query,
    BinlogDump,
    BinlogDumpGtid,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Connect => "Connect",
            Command::Sleep => "Sleep",
            Command::Query => "Query",
            Command::BinlogDump => "Binlog Dump",
            Command::BinlogDumpGtid => "Binlog Dump GTID",
        }
    }
}

struct Conn {
    user: String,
    peer: String,
    command: Command,
    since: Instant,
    /// The statement being answered.
    info: Option<String>,
    /// A second handle on the socket: shutting it down ends the connection's reads
    /// and writes, whatever its thread is blocked on.
    sock: Option<TcpStream>,
    killed: Arc<AtomicBool>,
    /// KILL QUERY asked the statement being answered (a wait) to end.
    interrupted: bool,
    /// Ended because the same replica registered again on another connection.
    displaced: bool,
}

/// One row of SHOW PROCESSLIST, before the dump positions are added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: u32,
    pub user: String,
    pub peer: String,
    pub command: Command,
    /// KILL was asked and the connection has not ended yet.
    pub killed: bool,
    pub seconds: u64,
    pub info: Option<String>,
}

#[derive(Default)]
pub struct Conns {
    all: Mutex<BTreeMap<u32, Conn>>,
}

impl Conns {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, Conn>> {
        self.all.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new connection, before it logs in; the flag it returns is set by KILL.
    pub fn add(&self, id: u32, peer: &str, sock: Option<TcpStream>) -> Arc<AtomicBool> {
        let killed = Arc::new(AtomicBool::new(false));
        let c = Conn {
            user: "unauthenticated user".into(),
            peer: peer.to_string(),
            command: Command::Connect,
            since: Instant::now(),
            info: None,
            sock,
            killed: killed.clone(),
            interrupted: false,
            displaced: false,
        };
        self.lock().insert(id, c);
        killed
    }

    /// Is a connection with this id open now?
    pub fn contains(&self, id: u32) -> bool {
        self.lock().contains_key(&id)
    }

    pub fn remove(&self, id: u32) {
        self.lock().remove(&id);
    }

    pub fn set_user(&self, id: u32, user: &str) {
        if let Some(c) = self.lock().get_mut(&id) {
            c.user = user.to_string();
        }
    }

    /// The connection starts `command` now (with the statement, for a query).
    pub fn set_command(&self, id: u32, command: Command, info: Option<&str>) {
        if let Some(c) = self.lock().get_mut(&id) {
            c.command = command;
            c.since = Instant::now();
            c.info = info.map(str::to_string);
            c.interrupted = false;
        }
    }

    /// Ends connection `id`: its socket is shut down and its flag set. With
    /// `dump_only` (KILL QUERY), a connection that is not dumping is left alone.
    /// None when there is no such connection; otherwise who it was ("user@peer").
    pub fn kill(&self, id: u32, dump_only: bool) -> Option<String> {
        let mut g = self.lock();
        let c = g.get_mut(&id)?;
        let who = format!("{}@{}", c.user, c.peer);
        if dump_only && !matches!(c.command, Command::BinlogDump | Command::BinlogDumpGtid) {
            // A statement that waits (MASTER_GTID_WAIT...) ends; the connection stays.
            if c.command == Command::Query {
                c.interrupted = true;
            }
            return Some(who);
        }
        c.killed.store(true, Ordering::SeqCst);
        if let Some(s) = &c.sock {
            let _ = s.shutdown(Shutdown::Both);
        }
        Some(who)
    }

    /// Ends connection `id` because its replica registered again on another one, as
    /// a primary ends a zombie dump: its flag is set, so a dump waiting for events, or
    /// one about to start (the replica registered and has not sent its dump yet),
    /// tells its replica why before it ends (`is_displaced`): a MariaDB replica then
    /// reconnects at once rather than after its connect retry. A connection still
    /// there after `grace` (blocked writing to, or waiting for, a peer that vanished)
    /// has its socket shut down. None when there is no such connection; otherwise
    /// "user@peer".
    pub fn displace(&self, id: u32, grace: Duration) -> Option<String> {
        let mut g = self.lock();
        let c = g.get_mut(&id)?;
        c.displaced = true;
        c.killed.store(true, Ordering::SeqCst);
        if let Some(s) = c.sock.as_ref().and_then(|s| s.try_clone().ok()) {
            let spawned = std::thread::Builder::new().name("displace".into()).spawn(move || {
                std::thread::sleep(grace);
                let _ = s.shutdown(Shutdown::Both);
            });
            if spawned.is_err() {
                if let Some(s) = &c.sock {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
        }
        Some(format!("{}@{}", c.user, c.peer))
    }

    /// Did KILL QUERY ask connection `id`'s statement to end?
    pub fn is_interrupted(&self, id: u32) -> bool {
        self.lock().get(&id).is_some_and(|c| c.interrupted)
    }

    /// Was connection `id` ended by `displace`?
    pub fn is_displaced(&self, id: u32) -> bool {
        self.lock().get(&id).is_some_and(|c| c.displaced)
    }

    pub fn rows(&self) -> Vec<Row> {
        self.lock()
            .iter()
            .map(|(id, c)| Row {
                id: *id,
                user: c.user.clone(),
                peer: c.peer.clone(),
                command: c.command,
                killed: c.killed.load(Ordering::SeqCst),
                seconds: c.since.elapsed().as_secs(),
                info: c.info.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn kill_shuts_the_socket_and_kill_query_spares_an_idle_connection() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server, _) = l.accept().unwrap();
        let conns = Conns::default();
        let killed = conns.add(7, "127.0.0.1:1", server.try_clone().ok());
        conns.set_user(7, "repl");
        conns.set_command(7, Command::Sleep, None);
        assert_eq!(conns.kill(7, true).as_deref(), Some("repl@127.0.0.1:1"));
        assert!(!killed.load(Ordering::SeqCst), "KILL QUERY ended an idle connection");
        assert_eq!(conns.kill(8, false), None);
        assert!(conns.kill(7, false).is_some());
        assert!(killed.load(Ordering::SeqCst));
        assert!(conns.rows()[0].killed);
        // The peer sees the connection closed.
        use std::io::Read;
        let mut b = [0u8; 1];
        assert_eq!((&client).read(&mut b).unwrap(), 0);
        conns.remove(7);
        assert!(conns.rows().is_empty());
    }

    #[test]
    fn a_displaced_connection_is_flagged_and_shut_down_after_its_grace() {
        use std::io::Read;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let pair = || {
            let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
            (client, l.accept().unwrap().0)
        };
        let conns = Conns::default();
        let (c1, s1) = pair();
        let killed = conns.add(1, "127.0.0.1:1", s1.try_clone().ok());
        conns.set_command(1, Command::BinlogDumpGtid, None);
        let t = Instant::now();
        assert!(conns.displace(1, Duration::from_millis(300)).is_some());
        assert!(killed.load(Ordering::SeqCst) && conns.is_displaced(1));
        // Its own thread may still write (the error that tells why)...
        (&s1).write_all(b"why").unwrap();
        let mut b = [0u8; 3];
        (&c1).read_exact(&mut b).unwrap();
        // ...until the grace is over.
        assert_eq!((&c1).read(&mut b).unwrap(), 0);
        assert!(t.elapsed() >= Duration::from_millis(300));
        // One not dumping yet gets the same grace: its dump, when it comes, says why.
        let (c2, s2) = pair();
        conns.add(2, "127.0.0.1:2", s2.try_clone().ok());
        let t = Instant::now();
        assert!(conns.displace(2, Duration::from_millis(300)).is_some());
        assert!(conns.is_displaced(2));
        assert_eq!((&c2).read(&mut b).unwrap(), 0);
        assert!(t.elapsed() >= Duration::from_millis(300));
        assert!(!conns.is_displaced(3) && conns.displace(3, Duration::ZERO).is_none());
    }
}
