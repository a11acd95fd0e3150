//! A certificate for clients when the cnf names none: generated in binlog_dir at first
//! start and kept there, as mysqld does with `auto_generate_certs`, so that clients
//! that ask for TLS by default (MySQL 9 replicas, MariaDB 11.4+ ones) connect with no
//! set-up. MariaDB clients verify it through the account's password (MDEV-31855, see
//! `proto::auth::cert_proof`).

use std::path::Path;

use super::TlsError;
use crate::config::Config;

/// The generated certificate and its key, in binlog_dir (mode 600).
pub const CERT_FILE: &str = "binlogd-cert.pem";
pub const KEY_FILE: &str = "binlogd-key.pem";

/// `cfg` with `ssl_cert` and `ssl_key` naming the generated files, made when missing,
/// where binlogd serves with `ssl = on` and no `ssl_cert`; otherwise `cfg` as it is.
/// New files go to `owner` (the account binlogd switches to), which reads them again
/// on SIGHUP.
pub fn ensure(cfg: &Config, owner: Option<(libc::uid_t, libc::gid_t)>) -> Result<Config, TlsError> {
    if !cfg.ssl || cfg.ssl_cert.is_some() || cfg.listen_port.is_none() {
        return Ok(cfg.clone());
    }
    let dir = &cfg.binlog_dir;
    let (cert, key) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
    if !(cert.exists() && key.exists()) {
        generate(dir, &cert, &key, &cfg.report_host)?;
        if let Some((uid, gid)) = owner {
            for p in [&cert, &key] {
                std::os::unix::fs::chown(p, Some(uid), Some(gid))
                    .map_err(|e| TlsError::File { path: p.clone(), what: format!("chown: {e}") })?;
            }
        }
        log::info!("generated a self-signed certificate for clients: {} and {}", cert.display(), key.display());
    }
    let mut c = cfg.clone();
    c.ssl_cert = Some(cert);
    c.ssl_key = Some(key);
    Ok(c)
}

fn generate(dir: &Path, cert: &Path, key: &Path, host: &str) -> Result<(), TlsError> {
    let setup = |what: String| TlsError::Setup { what };
    let mut names = vec!["localhost".to_string()];
    if !host.is_empty() && host != "localhost" {
        names.push(host.to_string());
    }
    let mut params = rcgen::CertificateParams::new(names).map_err(|e| setup(format!("certificate: {e}")))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, "binlogd_Auto_Generated_Server_Certificate");
    // Ten years from the start of this one, as mysqld's generated certificates last.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let year = 1970 + (now / 31_556_952) as i32;
    params.not_before = rcgen::date_time_ymd(year, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + 10, 1, 1);
    let pair = rcgen::KeyPair::generate().map_err(|e| setup(format!("key: {e}")))?;
    let c = params.self_signed(&pair).map_err(|e| setup(format!("certificate: {e}")))?;
    // The key first: a certificate without its key is never left behind.
    write_private(dir, key, pair.serialize_pem().as_bytes())?;
    write_private(dir, cert, c.pem().as_bytes())
}

/// Writes `path` whole with mode 600, crash-safely (`Fs::replace`).
fn write_private(dir: &Path, path: &Path, data: &[u8]) -> Result<(), TlsError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    crate::binlog::fs::os()
        .replace(dir, &name, data, true)
        .map_err(|e| TlsError::File { path: path.to_path_buf(), what: e.to_string() })
}

/// A SHA-256 fingerprint as `AB:CD:...`, the form `openssl x509 -fingerprint` prints.
pub fn colon_hex(fp: &[u8]) -> String {
    fp.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}
