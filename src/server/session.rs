//! One client connection: handshake, authentication, and the command loop.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html>

use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{debug, info, warn};

use super::conns::Command;
use super::ctx::{Ctx, View, Warnings};
use super::prepared::{Execution, Prepared};
use super::reply::*;
use super::socket::ClientSocket;
use super::{query, Registered, Server};
use crate::proto::auth::Account;
use crate::proto::buf::Put;
use crate::proto::command::{self, BinlogDump, RegisterSlave};
use crate::proto::compress::Algorithm;
use crate::proto::handshake::{HandshakeResponse41, HandshakeV10};
use crate::proto::packet::PacketStream;
use crate::proto::resultset::{self, Ends};
use crate::proto::stmt::{self, Value};
use crate::proto::{auth, caps, Error};
use crate::replica::connect::Flavor;
use crate::tls::Transport;

/// What binlogd's greeting offers: the capabilities the primary's greeting has, as
/// mysqld and mariadbd of its version send them (`sql_authentication.cc`,
/// `sql_acl.cc`), so that a client sends binlogd what it sends the primary, and its
/// default authentication plugin. Every capability offered is honoured or is one
/// that changes nothing binlogd sends: LOCAL INFILE is never asked for, nor a second
/// authentication factor, expired passwords or progress reports; prepared statements
/// are refused, so their capabilities and MariaDB's bulk and metadata caching change
/// nothing. CLIENT_SSL is the listener's own (`ssl`), not the primary's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub capabilities: u32,
    /// MariaDB's extended capabilities (`caps::ext`); 0 for MySQL.
    pub ext_capabilities: u32,
    pub auth_plugin: &'static str,
}

/// The greeting's capabilities for a primary of `flavor` and `version` (None before
/// any primary is known: as the latest MySQL's).
pub fn offer(primary: Option<(Flavor, &str)>) -> Offer {
    use caps::ext;
    // Every capability of the 4.1 protocol up to CLIENT_DEPRECATE_EOF, both servers.
    let base = caps::LONG_PASSWORD
        | caps::FOUND_ROWS
        | caps::LONG_FLAG
        | caps::CONNECT_WITH_DB
        | caps::NO_SCHEMA
        | caps::COMPRESS
        | caps::ODBC
        | caps::LOCAL_FILES
        | caps::IGNORE_SPACE
        | caps::PROTOCOL_41
        | caps::INTERACTIVE
        | caps::IGNORE_SIGPIPE
        | caps::TRANSACTIONS
        | caps::RESERVED
        | caps::SECURE_CONNECTION
        | caps::MULTI_STATEMENTS
        | caps::MULTI_RESULTS
        | caps::PS_MULTI_RESULTS
        | caps::PLUGIN_AUTH
        | caps::CONNECT_ATTRS
        | caps::PLUGIN_AUTH_LENENC_CLIENT_DATA
        | caps::CAN_HANDLE_EXPIRED_PASSWORDS
        | caps::SESSION_TRACK
        | caps::DEPRECATE_EOF
        | caps::REMEMBER_OPTIONS;
    let (flavor, version) = primary.unwrap_or((Flavor::Mysql, "8.0.99"));
    let v = super::query::version_number(version);
    let from = |since: u32, bits: u32| if v >= since { bits } else { 0 };
    match flavor {
        Flavor::MariaDb => Offer {
            // CLIENT_MYSQL cleared: the extended capabilities follow.
            capabilities: base & !caps::LONG_PASSWORD,
            ext_capabilities: ext::PROGRESS
                | ext::STMT_BULK_OPERATIONS
                | from(100502, ext::EXTENDED_METADATA)
                | from(100600, ext::CACHE_METADATA)
                | from(110501, ext::BULK_UNIT_RESULTS),
            auth_plugin: auth::NATIVE,
        },
        Flavor::Mysql => Offer {
            capabilities: base
                | caps::SSL_VERIFY_SERVER_CERT
                | from(80003, caps::OPTIONAL_RESULTSET_METADATA)
                | from(80018, caps::ZSTD_COMPRESSION_ALGORITHM)
                | from(80023, caps::QUERY_ATTRIBUTES)
                | from(80027, caps::MULTI_FACTOR_AUTHENTICATION),
            ext_capabilities: 0,
            // caching_sha2_password is the default from 8.0.4.
            auth_plugin: if v >= 80004 { auth::CACHING_SHA2 } else { auth::NATIVE },
        },
    }
}

/// The host of a peer address `host:port` (`[v6]:port`), as mysqld names it.
fn host_of(peer: &str) -> &str {
    peer.rsplit_once(':').map_or(peer, |(h, _)| h).trim_start_matches('[').trim_end_matches(']')
}

/// Before authentication, packets are small: cap them so an unauthenticated peer
/// cannot make binlogd allocate much.
const PREAUTH_MAX: usize = 64 << 10;
const AFTER_AUTH_MAX: usize = 16 << 20;

/// Answers a connection over the cap with ERR 1040 and closes it.
pub fn refuse_too_many(sock: TcpStream, id: u32) {
    let _ = sock.set_write_timeout(Some(Duration::from_secs(2)));
    let mut s = PacketStream::new(sock, PREAUTH_MAX);
    let _ = s.write(&err_packet(ER_CON_COUNT, "08004", "Too many connections"));
    info!("connection {id} refused: max_connections reached");
}

/// The compression a login asks for of what was offered: zlib before zstd, as mysqld
/// takes them (CLIENT_COMPRESS, else CLIENT_ZSTD_COMPRESSION_ALGORITHM).
fn compression_asked(resp: &HandshakeResponse41, offered: u32) -> Option<Algorithm> {
    let asked = resp.capabilities & offered;
    if asked & caps::COMPRESS != 0 {
        Some(Algorithm::Zlib)
    } else if asked & caps::ZSTD_COMPRESSION_ALGORITHM != 0 {
        Some(Algorithm::Zstd { level: resp.zstd_level.unwrap_or(crate::proto::handshake::ZSTD_DEFAULT_LEVEL) })
    } else {
        None
    }
}

/// A 20-byte login nonce from the OS CSPRNG, mapped to printable bytes so it holds
/// no NUL. Without the CSPRNG there is no safe nonce: the login is refused.
fn nonce() -> Result<Vec<u8>, Error> {
    let mut b = [0u8; 20];
    getrandom::getrandom(&mut b).map_err(|e| Error::Io(std::io::Error::other(format!("no OS randomness: {e}"))))?;
    Ok(b.iter().map(|x| 33 + x % 94).collect())
}

pub struct Session<'a> {
    pub srv: &'a Arc<Server>,
    pub stream: PacketStream<ClientSocket>,
    pub id: u32,
    pub peer: String,
    /// User variables set by the client (`SET @x = ...`).
    pub vars: super::ctx::UserVars,
    /// The last statement's warnings: level, code, message (SHOW WARNINGS).
    pub warnings: Warnings,
    pub registered: Option<u32>,
    /// The account logged in as.
    pub user: String,
    /// Set by KILL from another connection (or this one).
    pub killed: Arc<std::sync::atomic::AtomicBool>,
    /// TLS version and cipher, as negotiated at login (a connection's TLS is set up
    /// once, before authentication); None for a plain connection.
    pub tls: Option<String>,
    /// The client asked for CLIENT_MULTI_STATEMENTS at login.
    pub multi_statements: bool,
    /// The collation the client named at login, and the session's character sets.
    pub login_collation: u8,
    /// The client's capabilities at login, and the scramble last sent to it (what a
    /// COM_CHANGE_USER's answer is computed from).
    pub client_caps: u32,
    /// The MariaDB extended capabilities both sides have (`caps::ext`).
    pub client_ext_caps: u32,
    pub scramble: Vec<u8>,
    pub greeting_scramble: Vec<u8>,
    pub charsets: super::collations::Charsets,
    /// Autocommit, time zone, transaction, and what the statement assigned of them.
    pub tracked: super::ctx::Tracked,
    /// The database in use (USE, COM_INIT_DB, a login or COM_CHANGE_USER naming one).
    pub db: Option<String>,
    /// The prepared statements (COM_STMT_PREPARE).
    pub prepared: Prepared,
    /// How long the session may idle, and a write to it wait, as last set on its
    /// socket (`apply_timeouts`).
    timeouts: (Duration, Duration),
}

impl<'a> Session<'a> {
    /// What a statement's handler may reach of this connection and the server.
    fn ctx(&mut self) -> Ctx<'_> {
        self.split().0
    }

    /// What a dump may reach of this connection: it takes the socket over.
    fn dump_conn(&mut self) -> super::dump::Conn<'_> {
        super::dump::Conn {
            srv: self.srv,
            stream: &mut self.stream,
            id: self.id,
            vars: &self.vars,
            killed: &self.killed,
            registered: self.registered,
            deprecate_eof: self.client_caps & caps::DEPRECATE_EOF != 0,
        }
    }

    /// The statement's context and, apart from it, the socket, for answers sent as they
    /// are read.
    fn split(&mut self) -> (Ctx<'_>, &mut PacketStream<ClientSocket>) {
        let ctx = Ctx {
            id: self.id,
            user: &self.user,
            host: host_of(&self.peer),
            vars: &mut self.vars,
            db: &mut self.db,
            charsets: &mut self.charsets,
            tracked: &mut self.tracked,
            warnings: &mut self.warnings,
            killed: &self.killed,
            tls: self.tls.as_deref(),
            compression: self.stream.inner.compression(),
            client_caps: self.client_caps,
            client_ext_caps: self.client_ext_caps,
            srv: View::new(self.srv),
        };
        (ctx, &mut self.stream)
    }

    pub fn new(
        srv: &'a Arc<Server>,
        sock: TcpStream,
        id: u32,
        peer: String,
        killed: Arc<std::sync::atomic::AtomicBool>,
    ) -> Session<'a> {
        let _ = sock.set_nodelay(true);
        Session {
            srv,
            stream: PacketStream::new(ClientSocket::new(Transport::plain(sock)), PREAUTH_MAX),
            id,
            peer,
            vars: Default::default(),
            warnings: Default::default(),
            user: String::new(),
            registered: None,
            killed,
            tls: None,
            multi_statements: false,
            login_collation: 0,
            client_caps: 0,
            client_ext_caps: 0,
            scramble: Vec::new(),
            greeting_scramble: Vec::new(),
            charsets: super::collations::Charsets::default(),
            tracked: Default::default(),
            db: None,
            prepared: Prepared::default(),
            timeouts: (Duration::ZERO, Duration::ZERO),
        }
    }

    pub fn run(mut self) -> Result<(), Error> {
        let settings = &self.srv.shared.settings;
        let t = settings.connect_timeout().max(Duration::from_secs(1));
        self.stream.inner.deadline = Some(Instant::now() + t);
        self.stream.inner.set_write_timeout(Some(settings.net_write_timeout()))?;
        self.timeouts.1 = settings.net_write_timeout();
        let user = self.handshake()?;
        self.tls = self.stream.inner.describe();
        let over = self.tls.as_ref().map(|t| format!(" over {t}")).unwrap_or_default();
        // At debug level: a monitor that polls every second would fill the error log.
        debug!("connection {} from {} authenticated as '{user}'{over}", self.id, self.peer);
        self.srv.conns.set_user(self.id, &user);
        self.srv.conns.set_command(self.id, Command::Sleep, None);
        self.user = user;
        self.stream.max_payload = AFTER_AUTH_MAX;
        self.stream.inner.deadline = None;
        self.tracked = self.new_tracked();
        let r = self.commands();
        if self.registered.is_some() {
            self.srv.replicas.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
        }
        r
    }

    fn handshake(&mut self) -> Result<String, Error> {
        let n = nonce()?;
        let version = self.srv.primary().map_or_else(|| "8.0.99-binlogd".to_string(), |p| p.greeting_version);
        let tls = self.srv.shared.link.tls.acceptor();
        let offer = self.offer();
        let g = HandshakeV10 {
            server_version: version,
            connection_id: self.id,
            scramble: n.clone(),
            capabilities: offer.capabilities | if tls.is_some() { caps::SSL } else { 0 },
            ext_capabilities: offer.ext_capabilities,
            charset: super::values::charset_server(self.srv.primary().as_ref()).greeting_id(),
            status: 2,
            auth_plugin: offer.auth_plugin.into(),
        };
        self.stream.write(&g.encode())?;
        let mut first = self.stream.read()?;
        let wants_tls = first.get(..4).is_some_and(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) & caps::SSL != 0);
        if wants_tls {
            let Some(config) = tls else {
                let msg = "Bad handshake: TLS was asked for but is not offered";
                self.stream.write(&err_packet(ER_HANDSHAKE_ERROR, "08S01", msg))?;
                return Err(Error::Tls { what: msg.into() });
            };
            if first.len() == 32 {
                // SSLRequest: the TLS handshake follows, then the real login packet.
                let conn = rustls::ServerConnection::new(config).map_err(|e| Error::Tls { what: e.to_string() })?;
                let cs = &mut self.stream.inner;
                cs.s.start_tls(conn.into(), cs.deadline)
                    .map_err(|e| Error::Tls { what: format!("handshake failed: {e}") })?;
                first = self.stream.read()?;
            }
        }
        if self.srv.cfg.require_secure_transport && !self.stream.inner.is_tls() {
            let msg = "Connections using insecure transport are prohibited while --require_secure_transport=ON.";
            self.stream.write(&err_packet(ER_SECURE_TRANSPORT_REQUIRED, "HY000", msg))?;
            return Err(Error::Tls { what: "a client without TLS was refused (require_secure_transport)".into() });
        }
        let resp = HandshakeResponse41::decode(&first)?;
        let compression = compression_asked(&resp, offer.capabilities);
        self.multi_statements = resp.capabilities & caps::MULTI_STATEMENTS != 0;
        // A database named at login is the session's where binlogd has it
        // (information_schema); another is left unused.
        self.db = resp.database.as_deref().and_then(|d| query::init_db(&resp.user, d).ok());
        self.login_collation = resp.charset;
        // What both sides have is what the session uses.
        self.client_caps = resp.capabilities & (offer.capabilities | caps::SSL);
        // A MariaDB client's extended capabilities, where it cleared CLIENT_MYSQL.
        if resp.capabilities & caps::LONG_PASSWORD == 0 {
            self.client_ext_caps = resp.ext_capabilities & offer.ext_capabilities;
        }
        self.charsets = self.login_charsets();
        // What the login's OK reports to a session tracker, as the primary's does.
        if self.maria_from(110300) {
            for name in super::ctx::LOGIN_REPORT_MARIADB {
                self.tracked.assign(name);
            }
        }
        self.scramble.clone_from(&n);
        self.greeting_scramble.clone_from(&n);
        match self.authenticate(&resp.user, &resp.auth_plugin, &resp.auth_response, &[&n], None)? {
            Ok(()) => {
                // The OK went as is; the client compresses from its next command on
                // (libmysqlclient's `mysql_real_connect` sets `net->compress` after it).
                if let Some(alg) = compression {
                    self.stream.inner.compress(alg);
                    // The inner packets' numbers are not checked where frames carry them, as mysqld does not.
                    self.stream.follow_seq = true;
                }
                Ok(resp.user)
            }
            Err(msg) => Err(Error::Auth { what: msg }),
        }
    }

    /// The primary is MariaDB of `version` (`query::version_number`) or later.
    fn maria_from(&self, version: u32) -> bool {
        super::values::primary_maria_from(self.srv.primary().as_ref(), version)
    }

    /// What the greeting offers: as the primary's.
    fn offer(&self) -> Offer {
        let p = self.srv.primary();
        offer(p.as_ref().map(|p| (p.flavor, p.version.as_str())))
    }

    /// Checks `user`'s answer (`response`, by `plugin`) to the scramble `nonces[0]` (a
    /// mysql_native_password answer to any of `nonces`), switching to
    /// mysql_native_password where it cannot be checked as given (no answer, another
    /// plugin, an account without a SHA-2 hash), and sends the OK, or the ERR 1045 whose
    /// message it returns. The login, and COM_CHANGE_USER, whose answer is to a scramble
    /// the connection sent before (`self.scramble`, the last, kept up to date here).
    fn authenticate(
        &mut self,
        user: &str,
        plugin: &str,
        response: &[u8],
        nonces: &[&[u8]],
        refused: Option<Vec<u8>>,
    ) -> Result<Result<(), String>, Error> {
        let n = nonces.first().copied().unwrap_or_default();
        let found = self.srv.accounts.iter().find(|a| a.user == user).cloned();
        let known = found.is_some();
        // An unknown user goes through the same steps against a throwaway account.
        let acct = found.unwrap_or_else(|| Account::from_password("", n));
        let answered = !response.is_empty() || acct.empty;
        // The scramble a mysql_native_password login was checked against, if it was one.
        let mut native_scramble = None;
        let ok = match (plugin, acct.sha2) {
            (auth::CACHING_SHA2, Some(stored)) if answered => {
                let good = if acct.empty { response.is_empty() } else { auth::sha2_verify(response, n, &stored) };
                if good && known {
                    // Fast auth succeeded.
                    self.stream.write(&[0x01, auth::SHA2_FAST_AUTH_OK])?;
                }
                good
            }
            (auth::NATIVE, _) if answered => {
                let matched = nonces.iter().find(|n| native_ok(response, n, &acct));
                native_scramble = Some(matched.copied().unwrap_or(n).to_vec());
                matched.is_some()
            }
            _ => {
                // Switch to mysql_native_password with a fresh nonce.
                let n2 = nonce()?;
                let mut p = vec![0xfe];
                p.put_nul_bytes(auth::NATIVE.as_bytes());
                p.extend_from_slice(&n2);
                p.push(0);
                self.stream.write(&p)?;
                let reply = self.stream.read()?;
                let ok = native_ok(&reply, &n2, &acct);
                self.scramble.clone_from(&n2);
                native_scramble = Some(n2);
                ok
            }
        };
        if !(ok && known) {
            let msg = format!(
                "Access denied for user '{user}'@'{}' (using password: {})",
                self.peer_host(),
                if response.is_empty() { "NO" } else { "YES" }
            );
            self.stream.write(&err_packet(ER_ACCESS_DENIED, "28000", &msg))?;
            return Ok(Err(msg));
        }
        // Let in, and refused after all (COM_CHANGE_USER's database).
        if let Some(e) = refused {
            self.stream.write(&e)?;
            let why = match crate::proto::parse_err(&e) {
                crate::proto::Error::Server { message, .. } => message,
                other => other.to_string(),
            };
            return Ok(Err(why));
        }
        // Over TLS, after mysql_native_password, the OK proves that binlogd knows the
        // password: a MariaDB client trusts a self-signed certificate by it. Others
        // ignore the OK's info, as they do a MariaDB server's. MariaDB 11.4 and later
        // send it over a plain connection too.
        let proves = self.stream.inner.is_tls() || self.maria_from(110400);
        let proof = match (native_scramble, acct.native, self.srv.shared.link.tls.fingerprint()) {
            (Some(scramble), Some(stage2), Some(fp)) if proves => Some(auth::cert_proof(&stage2, &scramble, &fp)),
            _ => None,
        };
        // The info ends the packet, or with CLIENT_SESSION_TRACK is length-encoded,
        // before what the login's tracker reports: what `handshake` marked assigned
        // (`tracked` holds it until the first command); COM_CHANGE_USER's reports none.
        let mut ok = ok_packet();
        let info = proof.unwrap_or_default();
        match self.state_report() {
            Some(state) => {
                ok.extend_from_slice(&info);
                resultset::with_session_state(&mut ok, &state);
            }
            None if self.client_caps & caps::SESSION_TRACK != 0 && !info.is_empty() => ok.put_lenenc_bytes(&info),
            None => ok.extend_from_slice(&info),
        }
        self.tracked.begin();
        self.stream.write(&ok)?;
        Ok(Ok(()))
    }

    /// COM_CHANGE_USER: the connection logs in again as `user`, its answer to the last
    /// scramble (a client that names no plugin answers by mysql_native_password), and
    /// starts anew: user variables, conditions and character sets as at a login (the
    /// command's collation, else the login's), the database it names. Refused (a wrong
    /// answer, a database binlogd has not), the connection is closed, as mysqld closes it. <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_change_user.html>
    fn change_user(&mut self, p: &[u8]) -> Result<(), Error> {
        let c = crate::proto::handshake::ChangeUser::decode(p, self.client_caps)?;
        let plugin = if c.auth_plugin.is_empty() { auth::NATIVE } else { c.auth_plugin.as_str() };
        // Clients compute it from the greeting's scramble (the `mysql` npm package) or
        // from the last one (after an auth switch): either is the connection's own.
        let (last, greeting) = (self.scramble.clone(), self.greeting_scramble.clone());
        // Its database as USE takes it: one binlogd has not refuses the change (1044).
        let db = (!c.database.is_empty()).then(|| query::init_db(&c.user, &c.database));
        let refused = db.clone().and_then(Result::err);
        if let Err(msg) = self.authenticate(&c.user, plugin, &c.auth_response, &[&last, &greeting], refused)? {
            return Err(Error::Auth { what: format!("COM_CHANGE_USER: {msg}") });
        }
        self.db = db.and_then(Result::ok);
        debug!("connection {} changed user from '{}' to '{}'", self.id, self.user, c.user);
        self.srv.conns.set_user(self.id, &c.user);
        self.user = c.user;
        self.vars.clear();
        self.prepared.clear();
        self.warnings = Default::default();
        self.tracked = self.new_tracked();
        if let Some(cs) = c.charset {
            self.login_collation = u8::try_from(cs).unwrap_or(self.login_collation);
        }
        self.charsets = self.login_charsets();
        Ok(())
    }

    /// The character sets the collation named at login gives, as the primary's kind.
    fn login_charsets(&self) -> super::collations::Charsets {
        super::values::charset_server(self.srv.primary().as_ref()).at_login(u32::from(self.login_collation))
    }

    fn peer_host(&self) -> &str {
        host_of(&self.peer)
    }

    /// Writes a command's one-packet answer, its status the session's.
    fn reply(&mut self, payload: &[u8]) -> Result<(), Error> {
        let mut one = vec![payload.to_vec()];
        self.ends().convert(&mut one);
        self.stream.write(one.first().map_or(payload, Vec::as_slice))
    }

    /// How this client and session take the ends of one statement's answer.
    fn ends(&self) -> Ends {
        Ends::new(self.client_caps & caps::DEPRECATE_EOF != 0, self.tracked.status())
    }

    /// The session tracker's report of what the statement assigned, for a client that
    /// asked for CLIENT_SESSION_TRACK; None when there is nothing to report.
    fn state_report(&self) -> Option<Vec<u8>> {
        let t = &self.tracked;
        if self.client_caps & caps::SESSION_TRACK == 0
            || (t.assigned.is_empty() && !t.schema && t.transaction_state.is_none())
        {
            return None;
        }
        let values: Vec<(&str, String)> =
            t.assigned
                .iter()
                .map(|n| {
                    let v = match *n {
                        "autocommit" => super::values::onoff(t.autocommit),
                        // The server's until the session sets its own.
                        "time_zone" => t.time_zone.clone().unwrap_or_else(|| {
                            super::values::primary_variable(self.srv.primary().as_ref(), "time_zone")
                        }),
                        "redirect_url" => super::values::primary_variable(self.srv.primary().as_ref(), "redirect_url"),
                        _ => self.charsets.get(n).flatten().unwrap_or_default().to_string(),
                    };
                    (*n, v)
                })
                .collect();
        let pairs: Vec<(&str, &str)> = values.iter().map(|(n, v)| (*n, v.as_str())).collect();
        Some(resultset::session_state(&pairs, self.db.as_deref().filter(|_| t.schema), t.transaction_state))
    }

    /// Writes one statement's answer as this client and session take it.
    fn send_answer(&mut self, mut packets: Vec<Vec<u8>>) -> Result<(), Error> {
        self.ends().convert(&mut packets);
        if let (Some(state), [ok]) = (self.state_report(), packets.as_mut_slice()) {
            resultset::with_session_state(ok, &state);
        }
        self.stream.write_many(&packets)
    }

    /// COM_QUERY's text: one statement, or several separated by `;` for a client that
    /// asked for CLIENT_MULTI_STATEMENTS, each answered in turn with
    /// SERVER_MORE_RESULTS_EXISTS on all but the last answer, stopping at the first
    /// error. Without that capability, a second statement is a syntax error, as in
    /// mysqld. <https://dev.mysql.com/doc/c-api/8.4/en/c-api-multiple-queries.html>
    fn statements(&mut self, sql: &str) -> Result<(), Error> {
        self.tracked.begin();
        if sql.trim_matches(|c: char| c.is_whitespace() || c == ';').is_empty() {
            let packets = query::empty_query(&mut self.ctx());
            return self.send_answer(packets);
        }
        let text = super::sql::clean(sql);
        let parts = super::sql::statements(&text);
        if let Some(second) = parts.get(1).filter(|_| !self.multi_statements) {
            let first = parts.first().and_then(|r| text.get(r.clone())).unwrap_or_default();
            let packets = query::second_statement(&mut self.ctx(), first, text.get(second.start..).unwrap_or_default());
            return self.send_answer(packets);
        }
        let n = parts.len().max(1);
        for i in 0..n {
            let one = parts.get(i).and_then(|r| text.get(r.clone())).unwrap_or_default();
            let more = i + 1 < n;
            if !self.statement(one, more, None)? {
                break;
            }
        }
        Ok(())
    }

    /// Answers one statement; `more` marks its answer's end as followed by another's.
    /// Returns whether it succeeded.
    /// `exec`: an execute of a prepared statement, whose answer goes in the binary
    /// protocol.
    fn statement(&mut self, sql: &str, more: bool, mut exec: Option<&mut Execution>) -> Result<bool, Error> {
        self.tracked.begin();
        // Listed as it is read, however large the file: not built in memory. The last
        // batch is held back so that its end can be marked.
        if let Some(args) = super::events::parse(sql) {
            let mut style = self.ends();
            let (ctx, stream) = self.split();
            ctx.warnings.begin();
            // The error that ends the answer, if one does: first, or after the columns
            // and rows (a row never begins with 0xff).
            let mut failed: Option<Vec<u8>> = None;
            let mut held: Vec<Vec<u8>> = Vec::new();
            let mut head = true;
            super::events::answer(&ctx, args, &mut |p| {
                let mut p = p.to_vec();
                if let Some(x) = exec.as_deref_mut() {
                    x.apply(&mut p);
                }
                if std::mem::take(&mut head) {
                    super::values::for_session(&ctx, &mut p);
                    if let Some(x) = exec.as_deref_mut() {
                        x.finish(&mut p, super::values::form(&ctx));
                    }
                }
                if let Some(e) = p.last().filter(|e| e.first() == Some(&0xff)) {
                    failed = Some(e.clone());
                }
                let r = if held.is_empty() {
                    Ok(())
                } else {
                    style.convert(&mut held);
                    stream.write_many(&held)
                };
                held = p;
                r
            })?;
            if more && failed.is_none() {
                if let Some(last) = held.last_mut() {
                    crate::proto::resultset::set_more_results(last);
                }
            }
            style.convert(&mut held);
            stream.write_many(&held)?;
            let maria = super::show::is_maria(&ctx);
            query::finish(ctx.warnings, &["SHOW", "BINLOG", "EVENTS"], failed.as_deref(), maria);
            // It raises no warnings of its own.
            ctx.warnings.take_raised();
            return Ok(failed.is_none());
        }
        let mut packets = query::answer(&mut self.ctx(), sql);
        if let Some(x) = exec.as_deref_mut() {
            x.apply(&mut packets);
        }
        // The character set the statement left the session with marks its columns,
        // and its end counts the conditions it raised.
        super::values::for_session(&self.ctx(), &mut packets);
        if let Some(x) = exec {
            x.finish(&mut packets, super::values::form(&self.ctx()));
        }
        let raised = self.warnings.take_raised();
        if let Some(end) = packets.last_mut().filter(|_| raised > 0) {
            crate::proto::resultset::set_warning_count(end, u16::try_from(raised).unwrap_or(u16::MAX));
        }
        let ok = packets.first().is_some_and(|p| p.first() != Some(&0xff));
        if more && ok {
            if let Some(last) = packets.last_mut() {
                crate::proto::resultset::set_more_results(last);
            }
        }
        self.send_answer(packets)?;
        Ok(ok)
    }

    /// COM_STMT_PREPARE: the statement kept under the next id, or the error a primary
    /// gives it.
    fn prepare(&mut self, p: &[u8]) -> Result<(), Error> {
        let sql = String::from_utf8_lossy(p.get(1..).unwrap_or_default()).into_owned();
        // Not a question: mysqld's Questions leaves out COM_STMT_PREPARE, CLOSE and RESET.
        self.srv.conns.set_command(self.id, Command::Query, Some(&sql));
        let id = self.prepared.take_id();
        let held = std::mem::take(&mut self.prepared);
        let r = super::prepared::prepare(&mut self.ctx(), &held, &sql);
        self.prepared = held;
        match r {
            Ok(prep) => {
                let warnings = u16::try_from(self.warnings.take_raised()).unwrap_or(u16::MAX);
                let status = self.tracked.status();
                let packets = super::prepared::prepare_ok(&self.ctx(), id, &prep, warnings, status);
                self.prepared.insert(id, prep.statement);
                self.stream.write_many(&packets)?;
            }
            Err(packets) => {
                self.prepared.failed();
                // An ERR carries no count.
                self.warnings.take_raised();
                self.send_answer(packets)?
            }
        }
        self.srv.conns.set_command(self.id, Command::Sleep, None);
        Ok(())
    }

    /// COM_STMT_EXECUTE: the statement's text with the values bound, answered as a
    /// query is, its rows in the binary protocol. A cursor asked for is not opened:
    /// the rows come with the answer.
    fn execute(&mut self, p: &[u8]) -> Result<(), Error> {
        let sent = stmt::statement_id(p).unwrap_or(0);
        let maria = self.maria_from(0);
        let id = self.prepared.resolve(sent, maria);
        if self.prepared.get_mut(id).is_none() {
            let e = super::prepared::unknown(&self.ctx(), sent, "mysqld_stmt_execute");
            return self.reply(&e);
        }
        let attributes = self.client_caps & caps::QUERY_ATTRIBUTES != 0;
        let Some(st) = self.prepared.get_mut(id) else { return Ok(()) };
        if std::mem::take(&mut st.too_long) {
            st.long.clear();
            return self.reply(&super::prepared::too_long());
        }
        let values = match stmt::execute_params(p, st.at.len(), attributes, &mut st.types, &st.long) {
            Ok((_, v)) => v,
            Err(_) => {
                let packets = query::malformed_packet(&mut self.ctx());
                return self.send_answer(packets);
            }
        };
        let sql = super::prepared::bind(&st.text, &st.at, &values);
        st.long.clear();
        // MySQL prepares a statement again for values of other kinds, which takes an id.
        let again = st.reprepared(&values) && !maria;
        // The bare placeholders' columns, with the value and type each is bound to,
        // and the other items that hold one.
        let bare: Vec<(usize, Value, u16)> = st
            .items
            .iter()
            .filter_map(|it| {
                let k = it.bare?;
                Some((it.column, values.get(k).cloned().unwrap_or(Value::Null), st.types.get(k).copied().unwrap_or(0)))
            })
            .collect();
        let renamed: Vec<(usize, String, bool)> =
            st.items.iter().filter(|it| it.bare.is_none()).map(|it| (it.column, it.name.clone(), !maria)).collect();
        if again {
            self.prepared.take_id();
        }
        let defs = {
            let ctx = self.ctx();
            bare.iter().map(|(i, v, ty)| (*i, super::prepared::placeholder_def(&ctx, v, *ty))).collect()
        };
        let mut exec = Execution::new(defs, renamed);
        if self.client_ext_caps & caps::ext::CACHE_METADATA != 0 {
            exec.cached = self.prepared.get_mut(id).map(|st| std::mem::take(&mut st.sent));
        }
        self.srv.questions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.srv.conns.set_command(self.id, Command::Query, Some(&sql));
        self.statement(&sql, false, Some(&mut exec))?;
        if let (Some(st), Some(sent)) = (self.prepared.get_mut(id), exec.cached) {
            st.sent = sent;
        }
        self.srv.conns.set_command(self.id, Command::Sleep, None);
        Ok(())
    }

    /// A new session's state (at login, COM_CHANGE_USER, COM_RESET_CONNECTION), with its
    /// timeouts the server's now, as mysqld gives a session its copy of the global
    /// values: a later SET GLOBAL changes those of new sessions, not this one's. An
    /// interactive client's wait_timeout is interactive_timeout ("On thread startup, the
    /// session wait_timeout value is initialized from ... interactive_timeout ...
    /// depending on ... CLIENT_INTERACTIVE": the server system variables page).
    fn new_tracked(&self) -> super::ctx::Tracked {
        let settings = &self.srv.shared.settings;
        let interactive = self.client_caps & caps::INTERACTIVE != 0;
        let idle = if interactive { settings.interactive_timeout() } else { settings.wait_timeout() };
        let mut t = super::ctx::Tracked::default();
        t.set_own("wait_timeout", Some(idle.as_secs().to_string()));
        t.set_own("interactive_timeout", Some(settings.interactive_timeout().as_secs().to_string()));
        t.set_own("net_write_timeout", Some(settings.net_write_timeout().as_secs().to_string()));
        t
    }

    /// Sets the session's timeouts on its socket where they changed: an idle client that
    /// is not dumping is closed after its wait_timeout (`new_tracked`), and a write to
    /// it waits its net_write_timeout; its own `SET wait_timeout` or `net_write_timeout`
    /// (Canal sets both) counts from its next command, as on mysqld.
    fn apply_timeouts(&mut self) -> Result<(), Error> {
        let own = |name: &str| self.tracked.own(name).and_then(|v| v.parse::<u64>().ok()).map(Duration::from_secs);
        let settings = &self.srv.shared.settings;
        let want = (
            own("wait_timeout").unwrap_or(settings.wait_timeout()),
            own("net_write_timeout").unwrap_or(settings.net_write_timeout()),
        );
        if want.0 != self.timeouts.0 {
            self.stream.inner.set_read_timeout(Some(want.0))?;
        }
        if want.1 != self.timeouts.1 {
            self.stream.inner.set_write_timeout(Some(want.1))?;
        }
        self.timeouts = want;
        Ok(())
    }

    fn commands(&mut self) -> Result<(), Error> {
        loop {
            self.apply_timeouts()?;
            self.stream.seq = 0;
            let p = match self.stream.read() {
                Ok(p) => p,
                Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            };
            // A command's answer reports only what it assigned itself.
            self.tracked.begin();
            match p.first().copied() {
                Some(command::COM_QUIT) => return Ok(()),
                Some(command::COM_PING) => self.reply(&ok_packet())?,
                // `USE db` in the mysql client, and a database named at connect by some drivers.
                Some(command::COM_INIT_DB) => {
                    self.tracked.begin();
                    match query::init_db(&self.user, &String::from_utf8_lossy(&p[1..])) {
                        Ok(db) => {
                            self.db = Some(db);
                            self.tracked.schema = true;
                            self.send_answer(vec![ok_packet()])?
                        }
                        Err(e) => self.reply(&e)?,
                    }
                }
                // The reply is the text alone, with no header byte.
                Some(command::COM_STATISTICS) => self.reply(self.srv.statistics().as_bytes())?,
                // As the SHUTDOWN statement, with its privilege (mysqladmin shutdown sends this).
                Some(command::COM_SHUTDOWN) => {
                    let packets = query::answer(&mut self.ctx(), "SHUTDOWN");
                    self.send_answer(packets)?;
                }
                Some(command::COM_QUERY) => {
                    let attributes = self.client_caps & caps::QUERY_ATTRIBUTES != 0;
                    let Some(text) = command::query_text(&p[1..], attributes) else {
                        let packets = query::malformed_packet(&mut self.ctx());
                        self.send_answer(packets)?;
                        continue;
                    };
                    let sql = String::from_utf8_lossy(text).into_owned();
                    self.srv.questions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.srv.conns.set_command(self.id, Command::Query, Some(&sql));
                    self.statements(&sql)?;
                    // A replica displaced before its dump goes on to it, to be told why
                    // there (`Conns::displace` shuts it down after a grace otherwise).
                    if self.killed.load(std::sync::atomic::Ordering::SeqCst) && !self.srv.conns.is_displaced(self.id) {
                        return Ok(());
                    }
                    self.srv.conns.set_command(self.id, Command::Sleep, None);
                }
                Some(stmt::COM_STMT_PREPARE) => self.prepare(&p)?,
                Some(stmt::COM_STMT_EXECUTE) => self.execute(&p)?,
                // Neither is answered.
                Some(stmt::COM_STMT_SEND_LONG_DATA) => {
                    if let (Ok(id), Some(param)) = (stmt::statement_id(&p), p.get(5..7)) {
                        let param = usize::from(u16::from_le_bytes([param[0], param[1]]));
                        let id = self.prepared.resolve(id, self.maria_from(0));
                        self.prepared.long_data(id, param, p.get(7..).unwrap_or_default());
                    }
                }
                Some(stmt::COM_STMT_CLOSE) => {
                    if let Ok(id) = stmt::statement_id(&p) {
                        let id = self.prepared.resolve(id, self.maria_from(0));
                        self.prepared.close(id);
                    }
                }
                Some(stmt::COM_STMT_RESET) => {
                    let sent = stmt::statement_id(&p).unwrap_or(0);
                    let id = self.prepared.resolve(sent, self.maria_from(0));
                    match self.prepared.get_mut(id) {
                        Some(st) => {
                            st.long.clear();
                            st.too_long = false;
                            self.reply(&ok_packet())?
                        }
                        None => {
                            let e = super::prepared::unknown(&self.ctx(), sent, "mysqld_stmt_reset");
                            self.reply(&e)?
                        }
                    }
                }
                Some(stmt::COM_STMT_FETCH) => {
                    let id = stmt::statement_id(&p).unwrap_or(0);
                    let held = std::mem::take(&mut self.prepared);
                    let e = super::prepared::fetch(&self.ctx(), &held, id);
                    self.prepared = held;
                    self.reply(&e)?
                }
                // Connection pools (PHP's, Node's `changeUser`) log in again as another account.
                Some(command::COM_CHANGE_USER) => self.change_user(&p)?,
                // Connection pools reset a session before they lend it again: its user
                // variables and diagnostics go, its login and capabilities stay.
                Some(command::COM_RESET_CONNECTION) => {
                    self.vars.clear();
                    self.prepared.clear();
                    // The character sets go back to those of the login.
                    self.charsets = super::values::charset_server(self.srv.primary().as_ref())
                        .at_reset(u32::from(self.login_collation));
                    self.warnings = Default::default();
                    self.tracked = self.new_tracked();
                    self.reply(&ok_packet())?
                }
                // mysqld answers it with an EOF packet, not an OK; MySQL's counts the
                // conditions the last statement left, MariaDB's none.
                Some(command::COM_SET_OPTION) => match p.get(1..3) {
                    Some(&[option @ (0 | 1), 0]) => {
                        self.multi_statements = option == 0;
                        let maria = super::show::is_maria(&self.ctx());
                        let n = if maria { 0 } else { self.warnings.counts().0.min(usize::from(u16::MAX)) as u16 };
                        let mut eof = crate::proto::resultset::EOF;
                        eof[1..3].copy_from_slice(&n.to_le_bytes());
                        self.reply(&eof)?
                    }
                    _ => self.reply(&err_packet(ER_UNKNOWN_COM, "08S01", "Unknown command"))?,
                },
                Some(command::COM_REGISTER_SLAVE) => self.register(&p)?,
                Some(command::COM_BINLOG_DUMP) => {
                    let d = match BinlogDump::decode(&p) {
                        Ok(d) => d,
                        Err(e) => {
                            return self.reply(&err_packet(ER_MASTER_FATAL_READING_BINLOG, "HY000", &e.to_string()))
                        }
                    };
                    self.srv.conns.set_command(self.id, Command::BinlogDump, None);
                    let r = super::dump::serve(&mut self.dump_conn(), d);
                    return r.map_err(|e| self.write_timed_out(e));
                }
                Some(command::COM_BINLOG_DUMP_GTID) => {
                    let d = match command::BinlogDumpGtid::decode(&p) {
                        Ok(d) => d,
                        Err(e) => {
                            return self.reply(&err_packet(ER_MASTER_FATAL_READING_BINLOG, "HY000", &e.to_string()))
                        }
                    };
                    self.srv.conns.set_command(self.id, Command::BinlogDumpGtid, None);
                    let r = super::dump::serve_gtid(&mut self.dump_conn(), d);
                    return r.map_err(|e| self.write_timed_out(e));
                }
                // A table's columns: binlogd has no tables, and none is in use without a database.
                Some(command::COM_FIELD_LIST) => {
                    let packets = if self.db.is_none() {
                        query::no_database_selected(&mut self.ctx())
                    } else {
                        let table = String::from_utf8_lossy(p.get(1..).unwrap_or_default());
                        let table = table.split('\0').next().unwrap_or_default().replace('`', "``");
                        query::answer(&mut self.ctx(), &format!("SHOW COLUMNS FROM `{table}`"))
                    };
                    self.send_answer(packets)?
                }
                // MariaDB's commands for what statements now do (Connector/C's
                // mysql_kill, mysql_list_processes, mysql_refresh); MySQL 9.7 has none.
                Some(c @ (command::COM_PROCESS_KILL | command::COM_PROCESS_INFO | command::COM_REFRESH))
                    if self.maria_from(0) =>
                {
                    let sql = match c {
                        command::COM_PROCESS_KILL => match p.get(1..5) {
                            Some(id) => format!("KILL {}", u32::from_le_bytes([id[0], id[1], id[2], id[3]])),
                            None => {
                                let packets = query::malformed_packet(&mut self.ctx());
                                self.send_answer(packets)?;
                                continue;
                            }
                        },
                        command::COM_PROCESS_INFO => "SHOW PROCESSLIST".into(),
                        // REFRESH_LOG flushes the logs; the rest is nothing binlogd keeps.
                        _ if p.get(1).is_some_and(|o| o & command::REFRESH_LOG != 0) => "FLUSH LOGS".into(),
                        _ => "FLUSH PRIVILEGES".into(),
                    };
                    self.srv.conns.set_command(self.id, Command::Query, Some(&sql));
                    self.statements(&sql)?;
                    if self.killed.load(std::sync::atomic::Ordering::SeqCst) {
                        return Ok(());
                    }
                    self.srv.conns.set_command(self.id, Command::Sleep, None);
                }
                // MariaDB's bulk execute: for the statements binlogd answers, none (MariaDB
                // 10.11 and 11.8 say so before they look for the statement).
                Some(stmt::COM_STMT_BULK_EXECUTE) if self.maria_from(0) => {
                    if p.len() < 7 {
                        let packets = query::malformed_packet(&mut self.ctx());
                        self.send_answer(packets)?;
                    } else {
                        self.reply(&super::prepared::bulk_unsupported())?
                    }
                }
                // As mysqld words it, whatever the command.
                Some(_) => self.reply(&err_packet(ER_UNKNOWN_COM, "08S01", "Unknown command"))?,
                None => return Err(Error::malformed("empty command packet")),
            }
        }
    }

    /// A dump only writes: a socket timeout there is a client that read nothing for
    /// net_write_timeout, and is named so in the log.
    fn write_timed_out(&self, e: Error) -> Error {
        match e {
            Error::Io(io) if matches!(io.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "the client read nothing for net_write_timeout ({} s): its dump is closed ({io})",
                        self.timeouts.1.as_secs_f64()
                    ),
                ))
            }
            e => e,
        }
    }

    fn register(&mut self, p: &[u8]) -> Result<(), Error> {
        let r = match RegisterSlave::decode(p) {
            Ok(r) => r,
            Err(e) => return self.reply(&err_packet(ER_UNKNOWN_COM, "08S01", &e.to_string())),
        };
        let primary_id = self.srv.primary().map(|p| p.server_id);
        let refuse = if r.server_id == self.srv.cfg.server_id {
            Some("the replica's server_id equals binlogd's server_id")
        } else if Some(r.server_id) == primary_id {
            Some("the replica's server_id equals the primary's server_id")
        } else {
            None
        };
        if let Some(why) = refuse {
            return self.reply(&err_packet(ER_MASTER_FATAL_READING_BINLOG, "HY000", why));
        }
        let uuid = self.vars.get("slave_uuid").or_else(|| self.vars.get("replica_uuid")).cloned().unwrap_or_default();
        let mut reps = self.srv.replicas.lock().unwrap_or_else(|e| e.into_inner());
        // A replica that reconnects often finds its previous connection still open here
        // (a peer that vanished leaves its TCP connection up until a write times out):
        // as a primary does with such a zombie dump, the older connection is ended. It
        // is the one with the same replica UUID when the replica sent one (MySQL), else
        // the one with the same server_id (MariaDB): two MySQL replicas that share a
        // server_id but not a UUID both stay, as on a MySQL primary.
        let zombies: Vec<u32> = reps
            .values()
            .filter(|o| o.conn != self.id)
            .filter(|o| if uuid.is_empty() { o.server_id == r.server_id } else { o.uuid == uuid })
            .map(|o| o.conn)
            .collect();
        for old in zombies {
            reps.remove(&old);
            if let Some(who) = self.srv.conns.displace(old, DISPLACE_GRACE) {
                info!(
                    "replica server_id {} registered again on connection {} from {}: ending its older connection {old} ({who})",
                    r.server_id, self.id, self.peer
                );
                self.srv.shared.serving.durable.wake_all();
                let twins = self
                    .srv
                    .displacements
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .record(r.server_id, Instant::now());
                if twins {
                    warn!(
                        "replica server_id {} registered {} times within {} s, each time ending its older \
                         connection (last {who}, now {}): two replicas share this server_id{}. Each replica needs \
                         its own",
                        r.server_id,
                        super::TWINS_COUNT,
                        super::TWINS_WINDOW.as_secs(),
                        self.peer,
                        if uuid.is_empty() { "" } else { " and server_uuid" }
                    );
                }
            }
        }
        let reg = Registered { conn: self.id, server_id: r.server_id, host: r.host.clone(), port: r.port, uuid };
        reps.insert(self.id, reg);
        drop(reps);
        self.registered = Some(r.server_id);
        self.reply(&ok_packet())
    }
}

/// How long a dump ended for a replica that registered again may take to tell its
/// replica why, before its socket is shut down.
const DISPLACE_GRACE: Duration = Duration::from_secs(2);

fn native_ok(reply: &[u8], nonce: &[u8], a: &Account) -> bool {
    if a.empty {
        return reply.is_empty();
    }
    a.native.is_some_and(|stage2| auth::native_verify(reply, nonce, &stage2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_greeting_offers_what_the_primarys_version_offers() {
        // As MariaDB 10.11, MariaDB 11.8 and MySQL 9.7 greet (CLIENT_SSL aside).
        let maria = offer(Some((Flavor::MariaDb, "10.11.19-MariaDB-0+deb12u1-log")));
        assert_eq!((maria.capabilities, maria.ext_capabilities, maria.auth_plugin), (0x81ff_f7fe, 0x1d, auth::NATIVE));
        let maria11 = offer(Some((Flavor::MariaDb, "11.8.9-MariaDB-4 from Debian-log")));
        assert_eq!((maria11.capabilities, maria11.ext_capabilities), (0x81ff_f7fe, 0x3d));
        let mysql = offer(Some((Flavor::Mysql, "9.7.4-2")));
        assert_eq!(
            (mysql.capabilities | caps::SSL, mysql.ext_capabilities, mysql.auth_plugin),
            (0xdfff_ffff, 0, auth::CACHING_SHA2)
        );
        assert_eq!(offer(None), mysql, "before a primary is known: the latest MySQL's");
        // Older versions offer less, and a client then sends less.
        let m57 = offer(Some((Flavor::Mysql, "5.7.44-log")));
        assert_eq!(m57.auth_plugin, auth::NATIVE);
        let newer = caps::OPTIONAL_RESULTSET_METADATA
            | caps::ZSTD_COMPRESSION_ALGORITHM
            | caps::QUERY_ATTRIBUTES
            | caps::MULTI_FACTOR_AUTHENTICATION;
        assert_eq!(m57.capabilities & newer, 0);
        assert_eq!(offer(Some((Flavor::Mysql, "8.0.22"))).capabilities & caps::QUERY_ATTRIBUTES, 0);
        assert_eq!(offer(Some((Flavor::MariaDb, "10.4.34-MariaDB"))).ext_capabilities, 0x5);
    }
}
