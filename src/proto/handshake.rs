//! HandshakeV10 (server greeting) and HandshakeResponse41 (client login).
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html>
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_response.html>

use super::buf::{Put, Reader};
use super::{caps, Error};

/// The server greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeV10 {
    pub server_version: String,
    pub connection_id: u32,
    /// The 20-byte nonce (both parts, without the trailing NUL).
    pub scramble: Vec<u8>,
    pub capabilities: u32,
    /// MariaDB's extended capabilities (`caps::ext`), sent where CLIENT_MYSQL is clear.
    pub ext_capabilities: u32,
    pub charset: u8,
    pub status: u16,
    pub auth_plugin: String,
}

impl HandshakeV10 {
    pub fn decode(p: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(p);
        let proto = r.u8("protocol version")?;
        if proto == 0xff {
            return Err(super::parse_err(p));
        }
        if proto != 10 {
            return Err(Error::Unsupported { what: format!("handshake protocol version {proto}") });
        }
        let server_version = String::from_utf8_lossy(r.nul_bytes("server version")?).into_owned();
        let connection_id = r.u32("connection id")?;
        let mut scramble = r.bytes(8, "auth-plugin-data-part-1")?.to_vec();
        r.skip(1, "filler")?;
        let mut capabilities = u32::from(r.u16("capability flags")?);
        let (mut charset, mut status, mut auth_plugin, mut ext_capabilities) = (0u8, 0u16, String::new(), 0);
        if !r.is_empty() {
            charset = r.u8("character set")?;
            status = r.u16("status flags")?;
            capabilities |= u32::from(r.u16("capability flags (upper)")?) << 16;
            let data_len = r.u8("auth-plugin-data length")?;
            r.skip(6, "reserved")?;
            let ext = r.u32("MariaDB extended capabilities")?;
            if capabilities & caps::LONG_PASSWORD == 0 {
                ext_capabilities = ext;
            }
            if capabilities & caps::SECURE_CONNECTION != 0 {
                let n = (usize::from(data_len).saturating_sub(8)).max(13);
                let part2 = r.bytes(n.min(r.remaining()), "auth-plugin-data-part-2")?;
                // The part ends with a NUL that is not part of the nonce.
                let part2 = part2.strip_suffix(&[0]).unwrap_or(part2);
                scramble.extend_from_slice(part2);
            }
            if capabilities & caps::PLUGIN_AUTH != 0 {
                let rest = r.rest();
                let name = rest.split(|&b| b == 0).next().unwrap_or(&[]);
                auth_plugin = String::from_utf8_lossy(name).into_owned();
            }
        }
        if capabilities & caps::PROTOCOL_41 == 0 {
            return Err(Error::Unsupported { what: "server without CLIENT_PROTOCOL_41".into() });
        }
        Ok(HandshakeV10 {
            server_version,
            connection_id,
            scramble,
            capabilities,
            ext_capabilities,
            charset,
            status,
            auth_plugin,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut p = vec![10u8];
        p.put_nul_bytes(self.server_version.as_bytes());
        p.put_u32(self.connection_id);
        let (a, b) = self.scramble.split_at(self.scramble.len().min(8));
        p.extend_from_slice(a);
        p.push(0);
        p.put_u16(self.capabilities as u16);
        p.push(self.charset);
        p.put_u16(self.status);
        p.put_u16((self.capabilities >> 16) as u16);
        p.push((self.scramble.len() + 1) as u8);
        p.extend_from_slice(&[0; 6]);
        p.put_u32(if self.capabilities & caps::LONG_PASSWORD == 0 { self.ext_capabilities } else { 0 });
        p.extend_from_slice(b);
        p.push(0);
        p.put_nul_bytes(self.auth_plugin.as_bytes());
        p
    }
}

/// zstd's level where none is named (`mysql_default_compression_level`).
pub const ZSTD_DEFAULT_LEVEL: u8 = 3;

/// The client's login packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HandshakeResponse41 {
    pub capabilities: u32,
    /// A MariaDB client's extended capabilities (`caps::ext`): the filler's last four
    /// bytes, which count where it cleared CLIENT_MYSQL for a server that did.
    pub ext_capabilities: u32,
    pub max_packet: u32,
    pub charset: u8,
    pub user: String,
    pub auth_response: Vec<u8>,
    pub database: Option<String>,
    pub auth_plugin: String,
    pub attrs: Vec<(String, String)>,
    /// The zstd level asked for with CLIENT_ZSTD_COMPRESSION_ALGORITHM, the login's last byte.
    pub zstd_level: Option<u8>,
}

impl HandshakeResponse41 {
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(128);
        p.put_u32(self.capabilities);
        p.put_u32(self.max_packet);
        p.put_u8(self.charset);
        p.extend_from_slice(&[0; 19]);
        p.put_u32(self.ext_capabilities);
        p.put_nul_bytes(self.user.as_bytes());
        if self.capabilities & caps::PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            p.put_lenenc_bytes(&self.auth_response);
        } else {
            p.put_u8(self.auth_response.len() as u8);
            p.extend_from_slice(&self.auth_response);
        }
        if self.capabilities & caps::CONNECT_WITH_DB != 0 {
            p.put_nul_bytes(self.database.as_deref().unwrap_or("").as_bytes());
        }
        if self.capabilities & caps::PLUGIN_AUTH != 0 {
            p.put_nul_bytes(self.auth_plugin.as_bytes());
        }
        if self.capabilities & caps::CONNECT_ATTRS != 0 {
            let mut a = Vec::new();
            for (k, v) in &self.attrs {
                a.put_lenenc_bytes(k.as_bytes());
                a.put_lenenc_bytes(v.as_bytes());
            }
            p.put_lenenc_bytes(&a);
        }
        if self.capabilities & caps::ZSTD_COMPRESSION_ALGORITHM != 0 {
            p.put_u8(self.zstd_level.unwrap_or(ZSTD_DEFAULT_LEVEL));
        }
        p
    }

    pub fn decode(p: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(p);
        let capabilities = r.u32("client capabilities")?;
        if capabilities & caps::PROTOCOL_41 == 0 {
            return Err(Error::Unsupported { what: "client without CLIENT_PROTOCOL_41".into() });
        }
        let max_packet = r.u32("max packet size")?;
        let charset = r.u8("character set")?;
        r.skip(19, "filler")?;
        let ext_capabilities = r.u32("MariaDB extended capabilities")?;
        let user = String::from_utf8_lossy(r.nul_bytes("user name")?).into_owned();
        let auth_response = if capabilities & caps::PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            r.lenenc_bytes("auth response")?.to_vec()
        } else {
            let n = r.u8("auth response length")?;
            r.bytes(usize::from(n), "auth response")?.to_vec()
        };
        let mut database = None;
        if capabilities & caps::CONNECT_WITH_DB != 0 && !r.is_empty() {
            database = Some(String::from_utf8_lossy(r.nul_bytes("database")?).into_owned());
        }
        let mut auth_plugin = String::new();
        if capabilities & caps::PLUGIN_AUTH != 0 && !r.is_empty() {
            auth_plugin = String::from_utf8_lossy(r.nul_bytes("auth plugin")?).into_owned();
        }
        let mut attrs = Vec::new();
        if capabilities & caps::CONNECT_ATTRS != 0 && !r.is_empty() {
            let mut a = Reader::new(r.lenenc_bytes("connection attributes")?);
            while !a.is_empty() {
                let k = String::from_utf8_lossy(a.lenenc_bytes("attribute key")?).into_owned();
                let v = String::from_utf8_lossy(a.lenenc_bytes("attribute value")?).into_owned();
                attrs.push((k, v));
            }
        }
        // A login that asks for zstd without naming a level gets zstd's default.
        let zstd_level = (capabilities & caps::ZSTD_COMPRESSION_ALGORITHM != 0)
            .then(|| r.u8("zstd compression level").unwrap_or(ZSTD_DEFAULT_LEVEL));
        Ok(HandshakeResponse41 {
            capabilities,
            ext_capabilities,
            max_packet,
            charset,
            user,
            auth_response,
            database,
            auth_plugin,
            attrs,
            zstd_level,
        })
    }
}

/// COM_CHANGE_USER: log in again as another account on the same connection, its
/// answer computed from the login's scramble. The fields after the database are
/// optional, each present by the client's capabilities.
/// <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_change_user.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeUser {
    pub user: String,
    pub auth_response: Vec<u8>,
    pub database: String,
    pub charset: Option<u16>,
    pub auth_plugin: String,
}

impl ChangeUser {
    /// `p` is the command's payload, its 0x11 included; `capabilities` the client's at login.
    pub fn decode(p: &[u8], capabilities: u32) -> Result<Self, Error> {
        let mut r = Reader::new(p);
        r.skip(1, "command")?;
        let user = String::from_utf8_lossy(r.nul_bytes("user name")?).into_owned();
        let auth_response = if capabilities & caps::SECURE_CONNECTION != 0 {
            let n = r.u8("auth response length")?;
            r.bytes(usize::from(n), "auth response")?.to_vec()
        } else {
            r.nul_bytes("auth response")?.to_vec()
        };
        let database = String::from_utf8_lossy(r.nul_bytes("database")?).into_owned();
        let charset = if r.is_empty() { None } else { Some(r.u16("character set")?) };
        let mut auth_plugin = String::new();
        if capabilities & caps::PLUGIN_AUTH != 0 && !r.is_empty() {
            auth_plugin = String::from_utf8_lossy(r.nul_bytes("auth plugin")?).into_owned();
        }
        // Connection attributes may follow; nothing here reads them.
        Ok(ChangeUser { user, auth_response, database, charset, auth_plugin })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mysql9_greeting() -> Vec<u8> {
        // Shape of a MySQL 9 greeting: version, id 8, 20-byte nonce, caching_sha2_password.
        HandshakeV10 {
            server_version: "9.1.0".into(),
            connection_id: 8,
            scramble: (1..=20).collect(),
            capabilities: 0xdfff_ffff,
            ext_capabilities: 0,
            charset: 255,
            status: 2,
            auth_plugin: "caching_sha2_password".into(),
        }
        .encode()
    }

    #[test]
    fn decodes_greeting_with_both_nonce_parts() {
        let h = HandshakeV10::decode(&mysql9_greeting()).unwrap();
        assert_eq!(h.server_version, "9.1.0");
        assert_eq!(h.scramble, (1..=20).collect::<Vec<u8>>());
        assert_eq!(h.auth_plugin, "caching_sha2_password");
        assert_eq!(h.connection_id, 8);
    }

    #[test]
    fn mariadb_extended_capabilities_travel_where_client_mysql_is_clear() {
        // MariaDB 10.11's greeting: CLIENT_MYSQL clear, then progress, bulk, extended
        // metadata and metadata caching in the reserved bytes.
        let maria = HandshakeV10 {
            server_version: "5.5.5-10.11.19-MariaDB-log".into(),
            connection_id: 3,
            scramble: (1..=20).collect(),
            capabilities: 0x81ff_f7fe,
            ext_capabilities: 0x1d,
            charset: 8,
            status: 2,
            auth_plugin: "mysql_native_password".into(),
        };
        let bytes = maria.encode();
        assert_eq!(bytes[bytes.len() - 22 - 13 - 4..][..4], [0x1d, 0, 0, 0], "the reserved bytes' last four");
        assert_eq!(HandshakeV10::decode(&bytes).unwrap(), maria);
        // With CLIENT_MYSQL set the four bytes are filler, whatever they hold.
        let mysql = HandshakeV10 { capabilities: 0x81ff_f7ff, ..maria.clone() };
        assert_eq!(HandshakeV10::decode(&mysql.encode()).unwrap().ext_capabilities, 0);
        let r = HandshakeResponse41 {
            capabilities: caps::PROTOCOL_41 | caps::SECURE_CONNECTION,
            ext_capabilities: caps::ext::EXTENDED_METADATA,
            user: "repl".into(),
            ..Default::default()
        };
        let e = r.encode();
        assert_eq!(e[28..32], [8, 0, 0, 0]);
        assert_eq!(HandshakeResponse41::decode(&e).unwrap(), r);
    }

    #[test]
    fn rejects_truncated_greeting_at_every_length() {
        let g = mysql9_greeting();
        for n in 0..20 {
            assert!(HandshakeV10::decode(&g[..n]).is_err(), "length {n}");
        }
        // Longer prefixes may decode or fail, but never panic.
        for n in 20..g.len() {
            let _ = HandshakeV10::decode(&g[..n]);
        }
    }

    #[test]
    fn response_round_trips() {
        let r = HandshakeResponse41 {
            capabilities: caps::PROTOCOL_41
                | caps::SECURE_CONNECTION
                | caps::PLUGIN_AUTH
                | caps::PLUGIN_AUTH_LENENC_CLIENT_DATA
                | caps::CONNECT_ATTRS,
            ext_capabilities: 0,
            max_packet: 1 << 30,
            charset: 45,
            user: "repl".into(),
            auth_response: vec![1; 32],
            database: None,
            auth_plugin: "caching_sha2_password".into(),
            attrs: vec![("program_name".into(), "binlogd".into())],
            zstd_level: None,
        };
        assert_eq!(HandshakeResponse41::decode(&r.encode()).unwrap(), r);
        let r = HandshakeResponse41 {
            capabilities: r.capabilities | caps::ZSTD_COMPRESSION_ALGORITHM,
            zstd_level: Some(7),
            ..r
        };
        assert_eq!(HandshakeResponse41::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn a_change_user_reads_each_field_its_client_sends_and_a_cut_one_is_an_error() {
        // As the `mysql` npm package sends it: no plugin name.
        let mut p = vec![0x11];
        p.extend_from_slice(b"alice\0");
        p.push(20);
        p.extend_from_slice(&[7; 20]);
        p.extend_from_slice(b"information_schema\0");
        p.extend_from_slice(&33u16.to_le_bytes());
        let caps = caps::PROTOCOL_41 | caps::SECURE_CONNECTION;
        let c = ChangeUser::decode(&p, caps).unwrap();
        assert_eq!((c.user.as_str(), c.auth_response.len(), c.database.as_str()), ("alice", 20, "information_schema"));
        assert_eq!((c.charset, c.auth_plugin.as_str()), (Some(33), ""));
        let mut with_plugin = p.clone();
        with_plugin.extend_from_slice(b"mysql_native_password\0");
        let c = ChangeUser::decode(&with_plugin, caps | caps::PLUGIN_AUTH).unwrap();
        assert_eq!(c.auth_plugin, "mysql_native_password");
        // Cut anywhere but after the database (where the character set is optional).
        for n in (0..p.len()).filter(|&n| n != p.len() - 2) {
            assert!(ChangeUser::decode(&p[..n], caps).is_err(), "length {n}");
        }
        assert_eq!(ChangeUser::decode(&p[..p.len() - 2], caps).unwrap().charset, None);
    }
}
