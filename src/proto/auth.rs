//! Authentication scrambles: `mysql_native_password` and `caching_sha2_password`.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods_native_password_authentication.html>
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html>

use rsa::pkcs8::DecodePublicKey;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use super::Error;

pub const NATIVE: &str = "mysql_native_password";
pub const CACHING_SHA2: &str = "caching_sha2_password";

/// caching_sha2_password AuthMoreData status bytes.
pub const SHA2_REQUEST_PUBLIC_KEY: u8 = 0x02;
pub const SHA2_FAST_AUTH_OK: u8 = 0x03;
pub const SHA2_PERFORM_FULL_AUTH: u8 = 0x04;

/// SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))); empty for an empty password.
pub fn native_scramble(password: &[u8], nonce: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let s1 = Sha1::digest(password);
    let s2 = Sha1::digest(s1);
    let mut h = Sha1::new();
    h.update(nonce);
    h.update(s2);
    let x = h.finalize();
    s1.iter().zip(x.iter()).map(|(a, b)| a ^ b).collect()
}

/// SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce); empty for an empty password.
pub fn sha2_scramble(password: &[u8], nonce: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let d1 = Sha256::digest(password);
    let d2 = Sha256::digest(d1);
    let mut h = Sha256::new();
    h.update(d2);
    h.update(nonce);
    let d3 = h.finalize();
    d1.iter().zip(d3.iter()).map(|(a, b)| a ^ b).collect()
}

/// Checks a sha2 fast-auth reply against the stored SHA256(SHA256(password)).
/// Constant time in the compared bytes.
pub fn sha2_verify(reply: &[u8], nonce: &[u8], stored: &[u8; 32]) -> bool {
    if reply.len() != 32 {
        return false;
    }
    let mut h = Sha256::new();
    h.update(stored);
    h.update(nonce);
    let d3 = h.finalize();
    let d1: Vec<u8> = reply.iter().zip(d3.iter()).map(|(a, b)| a ^ b).collect();
    let candidate = Sha256::digest(&d1);
    ct_eq(&candidate, stored)
}

/// Constant-time equality of two byte strings of the same length.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Full auth without TLS: (password + NUL) XOR nonce, encrypted with the server's
/// RSA public key (PEM, SubjectPublicKeyInfo) using OAEP padding with SHA-1, as
/// MySQL 8.0.5 and later expect.
pub fn sha2_rsa_encrypt(password: &[u8], nonce: &[u8], pem: &[u8]) -> Result<Vec<u8>, Error> {
    if nonce.is_empty() {
        return Err(Error::Auth { what: "empty nonce for RSA password exchange".into() });
    }
    let pem = std::str::from_utf8(pem).map_err(|_| Error::Auth { what: "server public key is not PEM text".into() })?;
    let key = rsa::RsaPublicKey::from_public_key_pem(pem.trim_matches(char::from(0)).trim())
        .map_err(|e| Error::Auth { what: format!("cannot parse the server's RSA public key: {e}") })?;
    let mut plain = password.to_vec();
    plain.push(0);
    for (i, b) in plain.iter_mut().enumerate() {
        *b ^= nonce[i % nonce.len()];
    }
    key.encrypt(&mut rand_core::OsRng, rsa::Oaep::new::<Sha1>(), &plain)
        .map_err(|e| Error::Auth { what: format!("RSA encryption of the password failed: {e}") })
}

/// The scramble for a named plugin.
pub fn scramble_for(plugin: &str, password: &[u8], nonce: &[u8]) -> Result<Vec<u8>, Error> {
    match plugin {
        NATIVE => Ok(native_scramble(password, nonce)),
        CACHING_SHA2 => Ok(sha2_scramble(password, nonce)),
        other => Err(Error::Unsupported { what: format!("authentication plugin '{other}'") }),
    }
}

/// Strips the NUL that servers append to a nonce in auth-switch requests.
pub fn nonce_from(data: &[u8]) -> &[u8] {
    data.strip_suffix(&[0]).unwrap_or(data)
}

/// What binlogd's server side stores for an account: never the password, only
/// the hashes each plugin verifies against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: String,
    /// SHA1(SHA1(password)): mysql_native_password, as `PASSWORD()` shows it after '*'.
    pub native: Option<[u8; 20]>,
    /// SHA256(SHA256(password)): caching_sha2_password fast auth.
    pub sha2: Option<[u8; 32]>,
    /// The account has an empty password.
    pub empty: bool,
}

impl Account {
    pub fn from_password(user: &str, password: &[u8]) -> Account {
        use sha1::Digest as _;
        Account {
            user: user.to_string(),
            native: Some(sha1::Sha1::digest(sha1::Sha1::digest(password)).into()),
            sha2: Some(sha2::Sha256::digest(sha2::Sha256::digest(password)).into()),
            empty: password.is_empty(),
        }
    }

    /// Parses `user:*NATIVEHEX:SHA2HEX` (either hash may be left empty).
    pub fn parse(s: &str) -> Result<Account, String> {
        let f: Vec<&str> = s.trim().split(':').collect();
        let [user, native, sha2] = f.as_slice() else {
            return Err(format!("'{s}' is not user:*native_hash:sha2_hash"));
        };
        if user.is_empty() {
            return Err(format!("'{s}' names no user"));
        }
        let native = match native.strip_prefix('*') {
            None if native.is_empty() => None,
            Some(h) => Some(unhex::<20>(h).ok_or_else(|| format!("'{native}' is not '*' and 40 hex digits"))?),
            None => return Err(format!("'{native}' is not '*' and 40 hex digits")),
        };
        let sha2 = if sha2.is_empty() {
            None
        } else {
            Some(unhex::<32>(sha2).ok_or_else(|| format!("'{sha2}' is not 64 hex digits"))?)
        };
        if native.is_none() && sha2.is_none() {
            return Err(format!("'{s}' gives no hash"));
        }
        Ok(Account { user: user.to_string(), native, sha2, empty: false })
    }

    /// The cnf form of this account.
    pub fn render(&self) -> String {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
        format!(
            "{}:{}:{}",
            self.user,
            self.native.map(|h| format!("*{}", hex(&h))).unwrap_or_default(),
            self.sha2.map(|h| hex(&h)).unwrap_or_default()
        )
    }
}

fn unhex<const N: usize>(h: &str) -> Option<[u8; N]> {
    let b = h.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(std::str::from_utf8(&b[2 * i..2 * i + 2]).ok()?, 16).ok()?;
    }
    Some(out)
}

/// The proof that a server which knows the account's password sends a MariaDB
/// client (11.4 and later) in the OK after login over TLS, so that the client can
/// trust a self-signed certificate (MDEV-31855): 0x01, then the upper-case hex of
/// SHA-256(SHA1(SHA1(password)) || scramble || SHA-256 of the certificate). MariaDB
/// Connector/C compares it with `strcmp` (`run_plugin_auth`, plugins/auth/my_auth.c).
pub fn cert_proof(stage2: &[u8; 20], scramble: &[u8], fingerprint: &[u8; 32]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(stage2);
    h.update(scramble);
    h.update(fingerprint);
    let mut out = vec![0x01];
    for b in h.finalize() {
        out.extend_from_slice(format!("{b:02X}").as_bytes());
    }
    out
}

/// Checks a mysql_native_password reply against SHA1(SHA1(password)):
/// reply = SHA1(pw) XOR SHA1(nonce + stage2), so SHA1(reply XOR SHA1(nonce + stage2)) == stage2.
pub fn native_verify(reply: &[u8], nonce: &[u8], stage2: &[u8; 20]) -> bool {
    use sha1::Digest as _;
    if reply.len() != 20 {
        return false;
    }
    let mut h = sha1::Sha1::new();
    h.update(nonce);
    h.update(stage2);
    let x = h.finalize();
    let stage1: Vec<u8> = reply.iter().zip(x.iter()).map(|(a, b)| a ^ b).collect();
    ct_eq(&sha1::Sha1::digest(&stage1), stage2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    // Vectors computed independently with Python's hashlib for password "secret"
    // and nonce 0x01..0x14.
    #[test]
    fn native_scramble_matches_known_vector() {
        let nonce: Vec<u8> = (1..=20).collect();
        assert_eq!(hex(&native_scramble(b"secret", &nonce)), "b32bb3a583e1340c0a1108d58b1be49781ad8c2f");
        assert!(native_scramble(b"", &nonce).is_empty());
    }

    #[test]
    fn sha2_scramble_matches_known_vector_and_verifies() {
        let nonce: Vec<u8> = (1..=20).collect();
        let s = sha2_scramble(b"secret", &nonce);
        assert_eq!(hex(&s), "746ebe205d56a0707acb3e796e834e0dd7b1d61743b26bd5202c7a623230c7c9");
        let stored: [u8; 32] = Sha256::digest(Sha256::digest(b"secret")).into();
        assert!(sha2_verify(&s, &nonce, &stored));
        assert!(!sha2_verify(&sha2_scramble(b"Secret", &nonce), &nonce, &stored));
        assert!(!sha2_verify(&s[..31], &nonce, &stored));
    }

    #[test]
    fn accounts_hold_hashes_that_verify_both_plugins() {
        let a = Account::from_password("repl", b"secret");
        // SELECT PASSWORD('secret') gives the native form.
        assert!(a.render().starts_with("repl:*14E65567ABDB5135D0CFD9A70B3032C179A49EE7:"), "{}", a.render());
        let b = Account::parse(&a.render()).unwrap();
        assert_eq!((b.native, b.sha2), (a.native, a.sha2));
        let nonce: Vec<u8> = (1..=20).collect();
        assert!(native_verify(&native_scramble(b"secret", &nonce), &nonce, &b.native.unwrap()));
        assert!(!native_verify(&native_scramble(b"Secret", &nonce), &nonce, &b.native.unwrap()));
        assert!(sha2_verify(&sha2_scramble(b"secret", &nonce), &nonce, &b.sha2.unwrap()));
        let only_native = Account::parse("x:*14E65567ABDB5135D0CFD9A70B3032C179A49EE7:").unwrap();
        assert!(only_native.sha2.is_none());
        for bad in ["x", "x:14E6:", ":*14E65567ABDB5135D0CFD9A70B3032C179A49EE7:", "x::", "x::zz", "x:*zz:"] {
            assert!(Account::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_garbage_public_key() {
        assert!(
            sha2_rsa_encrypt(b"pw", b"nonce", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").is_err()
        );
        assert!(sha2_rsa_encrypt(b"pw", b"nonce", &[0xff, 0xfe]).is_err());
    }

    #[test]
    fn unknown_plugin_is_an_error() {
        assert!(scramble_for("client_ed25519", b"x", b"y").is_err());
    }
}
