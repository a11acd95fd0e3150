//! A blocking client connection: connect, authenticate, run queries, send commands.
//!
//! Connection phase:
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html>

use std::net::{TcpStream, ToSocketAddrs};

use crate::tls::Transport;
use std::time::Duration;

use super::auth;
use super::compress::Algorithm;
use super::handshake::{HandshakeResponse41, HandshakeV10};
use super::packet::{BufSocket, PacketStream};
use super::resultset::{self, ResultSet};
use super::{caps, command, Error};

/// utf8mb4_general_ci: understood by every supported server.
const CHARSET_UTF8MB4: u8 = 45;

/// Replication events may be up to 1 GiB (max_allowed_packet's ceiling).
pub const MAX_PACKET: usize = (1 << 30) + 4096;

/// What binlogd offers. CLIENT_LOCAL_FILES is never among them, so a server
/// cannot make binlogd read a local file.
pub const CLIENT_CAPABILITIES: u32 = caps::LONG_PASSWORD
    | caps::LONG_FLAG
    | caps::PROTOCOL_41
    | caps::TRANSACTIONS
    | caps::SECURE_CONNECTION
    | caps::MULTI_RESULTS
    | caps::PLUGIN_AUTH
    | caps::PLUGIN_AUTH_LENENC_CLIENT_DATA
    | caps::CONNECT_ATTRS;

#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub connect_timeout: Duration,
    pub read_timeout: Option<Duration>,
    pub program: String,
    /// TLS settings; None for a plain connection.
    pub tls: Option<crate::tls::ClientTls>,
    /// The compressed protocol, in order of preference (None: uncompressed).
    pub compression: Vec<Option<Algorithm>>,
    /// Capabilities asked for beyond binlogd's own, where the server offers them
    /// (CLIENT_DEPRECATE_EOF, say, for a caller that reads the packets itself).
    pub extra_capabilities: u32,
    /// MariaDB's extended capabilities asked for (`caps::ext`), where the greeting
    /// offers them (a MariaDB server's, which clears CLIENT_MYSQL).
    pub ext_capabilities: u32,
}

/// An authenticated connection.
pub struct Client {
    pub stream: PacketStream<BufSocket>,
    pub greeting: HandshakeV10,
    pub capabilities: u32,
    pub ext_capabilities: u32,
    /// What was checked of the server's certificate, when the connection is encrypted.
    pub tls: Option<&'static str>,
    /// The compressed protocol in use.
    pub compression: Option<Algorithm>,
}

/// The first of `wanted` the server offers; uncompressed where it offers none of them.
pub fn choose_compression(wanted: &[Option<Algorithm>], server_caps: u32) -> Option<Algorithm> {
    wanted
        .iter()
        .find(|a| match a {
            None => true,
            Some(Algorithm::Zlib) => server_caps & caps::COMPRESS != 0,
            Some(Algorithm::Zstd { .. }) => server_caps & caps::ZSTD_COMPRESSION_ALGORITHM != 0,
        })
        .copied()
        .flatten()
}

impl Client {
    pub fn connect(o: &ConnectOptions) -> Result<Client, Error> {
        let addrs: Vec<_> = (o.host.as_str(), o.port).to_socket_addrs()?.collect();
        let mut last = None;
        let mut sock = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, o.connect_timeout) {
                Ok(s) => {
                    sock = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let sock = match sock {
            Some(s) => s,
            None => {
                return Err(Error::Io(last.unwrap_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, format!("no address for {}", o.host))
                })))
            }
        };
        sock.set_nodelay(true)?;
        // The connection phase gets the connect timeout; the caller sets the read timeout after.
        sock.set_read_timeout(Some(o.connect_timeout))?;
        sock.set_write_timeout(Some(o.connect_timeout))?;
        let mut stream = PacketStream::new(BufSocket::new(Transport::plain(sock)), MAX_PACKET);
        let greeting = HandshakeV10::decode(&stream.read()?)?;
        let mut capabilities =
            (CLIENT_CAPABILITIES | o.extra_capabilities) & greeting.capabilities & !caps::LOCAL_FILES;
        let compression = choose_compression(&o.compression, greeting.capabilities);
        capabilities |= match compression {
            Some(Algorithm::Zlib) => caps::COMPRESS,
            Some(Algorithm::Zstd { .. }) => caps::ZSTD_COMPRESSION_ALGORITHM,
            None => 0,
        };
        let mut tls = None;
        if let Some(t) = &o.tls {
            if greeting.capabilities & caps::SSL != 0 {
                capabilities |= caps::SSL;
                // SSLRequest: the first 32 bytes of the login packet; TLS starts after it.
                let head = HandshakeResponse41 {
                    capabilities,
                    max_packet: MAX_PACKET as u32,
                    charset: CHARSET_UTF8MB4,
                    ..Default::default()
                };
                stream.write(&head.encode()[..32])?;
                let conn = t.connection().map_err(|e| Error::Tls { what: e.to_string() })?;
                stream.inner.start_tls(conn, None).map_err(|e| Error::Tls {
                    what: format!("{}:{}: {}", o.host, o.port, e.to_string().trim_start_matches("TLS: ")),
                })?;
                tls = Some(t.checks);
            } else if t.required {
                return Err(Error::Tls {
                    what: format!("{}:{} does not offer TLS, and master_ssl requires it", o.host, o.port),
                });
            }
        }
        let mut plugin =
            if greeting.auth_plugin.is_empty() { auth::NATIVE.to_string() } else { greeting.auth_plugin.clone() };
        if plugin != auth::NATIVE && plugin != auth::CACHING_SHA2 {
            // Answer with native and let the server switch us if it must.
            plugin = auth::NATIVE.to_string();
        }
        let mut nonce = greeting.scramble.clone();
        // Sent in the filler where the greeting cleared CLIENT_MYSQL, as this login does then.
        let ext_capabilities =
            if capabilities & caps::LONG_PASSWORD == 0 { o.ext_capabilities & greeting.ext_capabilities } else { 0 };
        let resp = HandshakeResponse41 {
            capabilities,
            ext_capabilities,
            max_packet: MAX_PACKET as u32,
            charset: CHARSET_UTF8MB4,
            user: o.user.clone(),
            auth_response: auth::scramble_for(&plugin, o.password.as_bytes(), &nonce)?,
            database: None,
            auth_plugin: plugin.clone(),
            attrs: vec![("_client_name".into(), "binlogd".into()), ("program_name".into(), o.program.clone())],
            zstd_level: match compression {
                Some(Algorithm::Zstd { level }) => Some(level),
                _ => None,
            },
        };
        stream.write(&resp.encode())?;
        // Auth exchange: at most a few round trips; bound it so a hostile server can't loop us.
        for _ in 0..8 {
            let p = stream.read()?;
            match p.first() {
                Some(0x00) => {
                    let s = &stream.inner;
                    s.set_read_timeout(o.read_timeout)?;
                    s.set_write_timeout(Some(o.connect_timeout.max(Duration::from_secs(30))))?;
                    // Compressed from the next command on, as libmysqlclient turns it on
                    // after the OK; the inner packets' numbers are then the frames' business.
                    if let Some(a) = compression {
                        stream.inner.compress(a);
                        stream.follow_seq = true;
                    }
                    return Ok(Client { stream, greeting, capabilities, ext_capabilities, tls, compression });
                }
                Some(0xff) => return Err(super::parse_err(&p)),
                Some(0xfe) => {
                    // AuthSwitchRequest: plugin name, then the new nonce.
                    let mut r = super::buf::Reader::new(&p[1..]);
                    plugin = String::from_utf8_lossy(r.nul_bytes("auth switch plugin")?).into_owned();
                    nonce = auth::nonce_from(r.rest()).to_vec();
                    let reply = auth::scramble_for(&plugin, o.password.as_bytes(), &nonce)?;
                    stream.write(&reply)?;
                }
                Some(0x01) if plugin == auth::CACHING_SHA2 => match p.get(1) {
                    Some(&auth::SHA2_FAST_AUTH_OK) => {}
                    Some(&auth::SHA2_PERFORM_FULL_AUTH) => {
                        if tls.is_some() {
                            // Over TLS the password itself is sent, NUL-terminated.
                            let mut pw = o.password.as_bytes().to_vec();
                            pw.push(0);
                            stream.write(&pw)?;
                            continue;
                        }
                        // No TLS: ask for the server's RSA key, then send the encrypted password.
                        stream.write(&[auth::SHA2_REQUEST_PUBLIC_KEY])?;
                        let key = stream.read()?;
                        match key.first() {
                            Some(0x01) => {}
                            Some(0xff) => return Err(super::parse_err(&key)),
                            _ => return Err(Error::Auth { what: "expected the server's RSA public key".into() }),
                        }
                        let enc = auth::sha2_rsa_encrypt(o.password.as_bytes(), &nonce, &key[1..])?;
                        stream.write(&enc)?;
                    }
                    _ => return Err(Error::Auth { what: "unexpected caching_sha2_password status".into() }),
                },
                Some(b) => {
                    return Err(Error::Auth { what: format!("unexpected packet 0x{b:02x} during authentication") })
                }
                None => return Err(Error::Auth { what: "empty packet during authentication".into() }),
            }
        }
        Err(Error::Auth { what: "too many authentication round trips".into() })
    }

    /// Runs a statement and returns its rows (empty for statements without a result).
    pub fn query(&mut self, sql: &str) -> Result<ResultSet, Error> {
        self.stream.write_command(&command::query(sql))?;
        let stream = &mut self.stream;
        resultset::read_result(|| stream.read())
    }

    /// Sends a command and expects OK.
    pub fn command_ok(&mut self, payload: &[u8], what: &str) -> Result<(), Error> {
        self.stream.write_command(payload)?;
        let p = self.stream.read()?;
        super::expect_ok(&p, what)
    }

    pub fn server_version(&self) -> &str {
        &self.greeting.server_version
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn never_offers_local_files() {
        assert_eq!(super::CLIENT_CAPABILITIES & super::caps::LOCAL_FILES, 0);
    }
}
