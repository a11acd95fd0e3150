//! The MySQL client/server wire protocol: framing, handshake, auth, commands, result sets.
//!
//! Encoders and decoders here are pure (bytes in, structs out); the only I/O is
//! `PacketStream` and `client::Client`, which the connection-owning threads drive.

pub mod auth;
pub mod buf;
pub mod client;
pub mod command;
pub mod compress;
pub mod handshake;
pub mod packet;
pub mod resultset;
pub mod stmt;

use std::fmt;
use std::io;

/// Errors of the protocol layer.
#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    /// A field was cut short or its value is impossible.
    Malformed {
        what: String,
    },
    Sequence {
        expected: u8,
        got: u8,
    },
    PacketTooLarge {
        len: usize,
        max: usize,
    },
    /// An ERR packet from the server.
    Server {
        code: u16,
        state: String,
        message: String,
    },
    /// The server asked for something binlogd will not do.
    Unsupported {
        what: String,
    },
    Auth {
        what: String,
    },
    /// TLS could not be set up, or the peer's certificate was refused.
    Tls {
        what: String,
    },
}

impl Error {
    pub fn malformed(what: impl Into<String>) -> Self {
        Error::Malformed { what: what.into() }
    }

    /// The server's errno when this is an ERR packet.
    pub fn server_code(&self) -> Option<u16> {
        match self {
            Error::Server { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A timeout on a socket read.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Io(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Malformed { what } => write!(f, "malformed packet: {what}"),
            Error::Sequence { expected, got } => {
                write!(f, "packets out of order: expected sequence {expected}, got {got}")
            }
            Error::PacketTooLarge { len, max } => {
                write!(f, "packet of {len} bytes is over the limit of {max}")
            }
            Error::Server { code, state, message } => {
                if state.is_empty() {
                    write!(f, "{code},{message}")
                } else {
                    write!(f, "{code} ({state}),{message}")
                }
            }
            Error::Unsupported { what } => write!(f, "unsupported: {what}"),
            Error::Auth { what } => write!(f, "authentication failed: {what}"),
            Error::Tls { what } => write!(f, "TLS: {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<buf::Short> for Error {
    fn from(e: buf::Short) -> Self {
        Error::Malformed { what: e.to_string() }
    }
}

/// Capability flags.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/group__group__cs__capabilities__flags.html>
pub mod caps {
    /// Also MariaDB's CLIENT_MYSQL: a MariaDB server clears it in its greeting, and a
    /// MariaDB client in its login, to say that the extended capabilities (`ext`) follow.
    pub const LONG_PASSWORD: u32 = 1;
    pub const FOUND_ROWS: u32 = 2;
    pub const LONG_FLAG: u32 = 4;
    pub const CONNECT_WITH_DB: u32 = 8;
    pub const NO_SCHEMA: u32 = 0x10;
    /// The compressed protocol, zlib (`proto::compress`).
    pub const COMPRESS: u32 = 0x20;
    pub const ODBC: u32 = 0x40;
    /// Never set by binlogd as a client: a server must not be able to make it read
    /// local files. As a server binlogd may offer it: it never asks for a file.
    pub const LOCAL_FILES: u32 = 0x80;
    /// The session's sql_mode gains IGNORE_SPACE.
    pub const IGNORE_SPACE: u32 = 0x100;
    pub const PROTOCOL_41: u32 = 0x200;
    /// The session idles out after interactive_timeout rather than wait_timeout.
    pub const INTERACTIVE: u32 = 0x400;
    pub const SSL: u32 = 0x800;
    pub const IGNORE_SIGPIPE: u32 = 0x1000;
    pub const TRANSACTIONS: u32 = 0x2000;
    pub const RESERVED: u32 = 0x4000;
    pub const SECURE_CONNECTION: u32 = 0x8000;
    pub const MULTI_STATEMENTS: u32 = 0x1_0000;
    pub const MULTI_RESULTS: u32 = 0x2_0000;
    pub const PS_MULTI_RESULTS: u32 = 0x4_0000;
    pub const PLUGIN_AUTH: u32 = 0x8_0000;
    pub const CONNECT_ATTRS: u32 = 0x10_0000;
    pub const PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 0x20_0000;
    pub const CAN_HANDLE_EXPIRED_PASSWORDS: u32 = 0x40_0000;
    /// OK packets report what a statement changed of the session (`resultset::with_session_state`).
    pub const SESSION_TRACK: u32 = 0x80_0000;
    pub const DEPRECATE_EOF: u32 = 0x100_0000;
    /// A result's column count is followed by whether its column definitions follow
    /// (MySQL 8.0.3 and later; `resultset_metadata`).
    pub const OPTIONAL_RESULTSET_METADATA: u32 = 0x200_0000;
    /// The compressed protocol with zstd (MySQL 8.0.18 and later); the login names a level.
    pub const ZSTD_COMPRESSION_ALGORITHM: u32 = 0x400_0000;
    /// COM_QUERY carries named parameters before its text (MySQL 8.0.23 and later;
    /// `proto::command::query_text`).
    pub const QUERY_ATTRIBUTES: u32 = 0x800_0000;
    pub const MULTI_FACTOR_AUTHENTICATION: u32 = 0x1000_0000;
    pub const SSL_VERIFY_SERVER_CERT: u32 = 0x4000_0000;
    pub const REMEMBER_OPTIONS: u32 = 0x8000_0000;

    /// MariaDB's extended capabilities: the greeting's and the login's four bytes
    /// where MySQL's have filler, read where CLIENT_MYSQL (`LONG_PASSWORD`) is clear.
    /// <https://mariadb.com/docs/server/reference/clientserver-protocol/mariadb-protocol-differences-with-mysql>
    pub mod ext {
        /// Progress reports of long statements (binlogd has none to send).
        pub const PROGRESS: u32 = 1;
        pub const STMT_BULK_OPERATIONS: u32 = 4;
        /// Each column definition carries the column's extended type (10.5.2 and later).
        pub const EXTENDED_METADATA: u32 = 8;
        /// A prepared statement's metadata is sent once (10.6 and later).
        pub const CACHE_METADATA: u32 = 0x10;
        /// A bulk statement's results one by one (11.5.1 and later).
        pub const BULK_UNIT_RESULTS: u32 = 0x20;
    }
}

/// Parses an ERR packet (first byte 0xFF).
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html>
pub fn parse_err(p: &[u8]) -> Error {
    let mut r = buf::Reader::new(p);
    let _ = r.u8("err header");
    let code = match r.u16("error code") {
        Ok(c) => c,
        Err(e) => return e.into(),
    };
    let mut state = String::new();
    if r.peek() == Some(b'#') && r.remaining() >= 6 {
        let s = r.bytes(6, "sql state").unwrap_or(b"#");
        state = String::from_utf8_lossy(&s[1..]).into_owned();
    }
    let message = String::from_utf8_lossy(r.rest()).into_owned();
    Error::Server { code, state, message }
}

/// Checks a reply for OK; an ERR becomes `Error::Server`.
pub fn expect_ok(p: &[u8], what: &str) -> Result<(), Error> {
    match p.first() {
        Some(0x00) => Ok(()),
        Some(0xfe) if p.len() < 9 => Ok(()),
        Some(0xff) => Err(parse_err(p)),
        Some(b) => Err(Error::malformed(format!("{what}: expected OK, got a packet starting 0x{b:02x}"))),
        None => Err(Error::malformed(format!("{what}: empty reply"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_err_with_and_without_sql_state() {
        let mut p = vec![0xff, 0x15, 0x04];
        p.extend_from_slice(b"#28000Access denied");
        match parse_err(&p) {
            Error::Server { code, state, message } => {
                assert_eq!((code, state.as_str(), message.as_str()), (1045, "28000", "Access denied"));
            }
            e => panic!("{e}"),
        }
        let e = parse_err(&[0xff, 0xd4, 0x04, b'x']);
        assert_eq!(e.server_code(), Some(1236));
        assert!(matches!(parse_err(&[0xff, 1]), Error::Malformed { .. }));
    }
}
