//! TLS in both directions, with rustls and its ring provider (no C library to link,
//! so the static musl build keeps working).
//!
//! To the primary, the modes follow a MySQL replica's:
//! - `master_ssl = on`: TLS when the primary offers it, certificate not checked;
//! - `master_ssl = required`: a primary without TLS is an error;
//! - `master_ssl_ca`: the certificate must chain to one of these CAs (VERIFY_CA);
//! - `master_ssl_verify_server_cert = on`: it must also name `master_host` (VERIFY_IDENTITY).
//!
//! A CA or host check makes TLS required: checking a certificate the primary may
//! choose not to send would protect nothing.
//!
//! Upgrading a connection: <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_ssl_request.html>

pub mod auto;
pub mod stream;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::{Config, MasterSsl};

pub use stream::Transport;

#[derive(Debug)]
pub enum TlsError {
    /// A certificate, key or CA file that cannot be used.
    File { path: PathBuf, what: String },
    /// Settings rustls refuses.
    Setup { what: String },
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::File { path, what } => write!(f, "{}: {what}", path.display()),
            TlsError::Setup { what } => write!(f, "TLS setup: {what}"),
        }
    }
}

impl std::error::Error for TlsError {}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn setup_err(e: rustls::Error) -> TlsError {
    TlsError::Setup { what: e.to_string() }
}

fn certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let err = |w: String| TlsError::File { path: path.to_path_buf(), what: w };
    let v = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(format!("cannot read {what}: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(format!("cannot parse {what}: {e}")))?;
    if v.is_empty() {
        return Err(err(format!("no PEM certificate in this {what} file")));
    }
    Ok(v)
}

fn key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| TlsError::File { path: path.to_path_buf(), what: format!("no usable PEM private key: {e}") })
}

fn roots(path: &Path) -> Result<Arc<RootCertStore>, TlsError> {
    let mut r = RootCertStore::empty();
    for c in certs(path, "CA")? {
        r.add(c).map_err(|e| TlsError::File { path: path.to_path_buf(), what: format!("bad CA certificate: {e}") })?;
    }
    Ok(Arc::new(r))
}

/// How binlogd talks TLS to the primary.
#[derive(Debug, Clone)]
pub struct ClientTls {
    pub config: Arc<rustls::ClientConfig>,
    pub server_name: ServerName<'static>,
    /// A primary that does not offer TLS is refused.
    pub required: bool,
    /// What is checked, for the log.
    pub checks: &'static str,
}

impl ClientTls {
    pub fn connection(&self) -> Result<rustls::Connection, rustls::Error> {
        Ok(rustls::ClientConnection::new(self.config.clone(), self.server_name.clone())?.into())
    }
}

/// The TLS settings for the primary, or None when `master_ssl = off`.
pub fn client(cfg: &Config) -> Result<Option<ClientTls>, TlsError> {
    if cfg.master_ssl == MasterSsl::Off {
        return Ok(None);
    }
    let server_name = ServerName::try_from(cfg.master_host.clone())
        .map_err(|_| TlsError::Setup { what: format!("master_host '{}' is not a valid TLS name", cfg.master_host) })?;
    let prov = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match &cfg.master_ssl_ca {
        Some(ca) => {
            let v = WebPkiServerVerifier::builder_with_provider(roots(ca)?, prov.clone())
                .build()
                .map_err(|e| TlsError::Setup { what: e.to_string() })?;
            if cfg.master_ssl_verify_server_cert {
                v
            } else {
                Arc::new(ChainOnly(v))
            }
        }
        None if cfg.master_ssl_verify_server_cert => {
            return Err(TlsError::Setup { what: "master_ssl_verify_server_cert needs master_ssl_ca".into() })
        }
        None => Arc::new(AnyCertificate(prov.clone())),
    };
    let builder = rustls::ClientConfig::builder_with_provider(prov)
        .with_safe_default_protocol_versions()
        .map_err(setup_err)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&cfg.master_ssl_cert, &cfg.master_ssl_key) {
        (Some(c), Some(k)) => builder
            .with_client_auth_cert(certs(c, "certificate")?, key(k)?)
            .map_err(|e| TlsError::File { path: k.clone(), what: format!("does not match master_ssl_cert: {e}") })?,
        _ => builder.with_no_client_auth(),
    };
    let checks = match (&cfg.master_ssl_ca, cfg.master_ssl_verify_server_cert) {
        (Some(_), true) => "certificate checked against master_ssl_ca and master_host",
        (Some(_), false) => "certificate checked against master_ssl_ca",
        (None, _) => "certificate not checked",
    };
    Ok(Some(ClientTls {
        config: Arc::new(config),
        server_name,
        required: cfg.master_ssl == MasterSsl::Required || cfg.master_ssl_ca.is_some(),
        checks,
    }))
}

/// What clients are served with: the TLS settings and the SHA-256 of the certificate.
type ServerTls = Option<(Arc<rustls::ServerConfig>, [u8; 32])>;

/// The binlog server's TLS settings and its certificate's fingerprint, or None without
/// `ssl_cert` (or with `ssl = off`).
pub fn server(cfg: &Config) -> Result<ServerTls, TlsError> {
    if !cfg.ssl {
        return Ok(None);
    }
    let (Some(cert), Some(k)) = (&cfg.ssl_cert, &cfg.ssl_key) else { return Ok(None) };
    let prov = provider();
    let builder = rustls::ServerConfig::builder_with_provider(prov.clone())
        .with_safe_default_protocol_versions()
        .map_err(setup_err)?;
    let builder = match &cfg.ssl_ca {
        // A client certificate is asked for and, when one is sent, must chain to ssl_ca.
        Some(ca) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(roots(ca)?, prov)
                .allow_unauthenticated()
                .build()
                .map_err(|e| TlsError::Setup { what: e.to_string() })?,
        ),
        None => builder.with_no_client_auth(),
    };
    let chain = certs(cert, "certificate")?;
    let fp = {
        use sha2::Digest as _;
        let d = sha2::Sha256::digest(chain.first().map(|c| c.as_ref()).unwrap_or_default());
        let mut fp = [0u8; 32];
        fp.copy_from_slice(&d);
        fp
    };
    let config = builder
        .with_single_cert(chain, key(k)?)
        .map_err(|e| TlsError::File { path: k.clone(), what: format!("does not match ssl_cert: {e}") })?;
    Ok(Some((Arc::new(config), fp)))
}

/// The TLS settings in use in both directions, built from the files the cnf names.
/// SIGHUP, `ALTER INSTANCE RELOAD TLS` and `FLUSH SSL` read the files again: both
/// directions are rebuilt, and swapped in together only if every file is usable, so a
/// bad file leaves the previous settings in use. Connections already made keep theirs;
/// the next ones, to the primary and from clients, get the new ones.
pub struct Live {
    /// The settings the files are named by: the cnf's, with the primary's as CHANGE
    /// MASTER TO last set them (`set_master`).
    cfg: Mutex<Config>,
    now: Mutex<(Option<ClientTls>, ServerTls)>,
    /// The files' stamps when last read (or tried), to tell whether they changed since.
    read: Mutex<Vec<Stamp>>,
}

/// A file's modification time, size and inode (None when it cannot be stat'ed):
/// a file edited in place or replaced by a rename changes it.
type Stamp = Option<(std::time::SystemTime, u64, u64)>;

fn stamp(p: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len(), m.ino()))
}

impl Live {
    /// Reads the files at start, while binlogd may still be root.
    pub fn load(cfg: &Config) -> Result<Live, TlsError> {
        let live = Live {
            cfg: Mutex::new(cfg.clone()),
            now: Mutex::new((client(cfg)?, server(cfg)?)),
            read: Mutex::default(),
        };
        *live.read.lock().unwrap_or_else(|e| e.into_inner()) = live.stamps();
        if let (Some(fp), Some(cert)) = (live.fingerprint(), &cfg.ssl_cert) {
            log::info!("TLS for clients with {}, SHA-256 fingerprint {}", cert.display(), auto::colon_hex(&fp));
        }
        Ok(live)
    }

    fn stamps(&self) -> Vec<Stamp> {
        self.files().iter().map(|p| stamp(p)).collect()
    }

    /// Whether any file changed since it was last read or tried.
    pub fn changed(&self) -> bool {
        *self.read.lock().unwrap_or_else(|e| e.into_inner()) != self.stamps()
    }

    /// For connecting to the primary, or None when `master_ssl = off`.
    pub fn master(&self) -> Option<ClientTls> {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).0.clone()
    }

    /// For clients of the binlog server, or None without `ssl_cert`.
    pub fn acceptor(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).1.as_ref().map(|s| s.0.clone())
    }

    /// The SHA-256 of the certificate clients are served, when TLS is offered.
    pub fn fingerprint(&self) -> Option<[u8; 32]> {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).1.as_ref().map(|s| s.1)
    }

    /// The files the settings come from, for the log; empty when TLS is off both ways.
    pub fn files(&self) -> Vec<PathBuf> {
        let c = self.cfg.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let master = [&c.master_ssl_ca, &c.master_ssl_cert, &c.master_ssl_key];
        let server = [&c.ssl_cert, &c.ssl_key, &c.ssl_ca];
        let master = master.into_iter().filter(|_| c.master_ssl != MasterSsl::Off);
        let server = server.into_iter().filter(|_| c.ssl_cert.is_some() && c.ssl);
        master.chain(server).flatten().cloned().collect()
    }

    /// Reads every file again; on an error the certificates and keys in use stay.
    /// The files' stamps are taken either way, so a file that failed is not tried
    /// (and warned about) again at every SIGHUP until it changes.
    pub fn reload(&self) -> Result<(), TlsError> {
        *self.read.lock().unwrap_or_else(|e| e.into_inner()) = self.stamps();
        let c = self.cfg.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let fresh = (client(&c)?, server(&c)?);
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    /// CHANGE MASTER TO: the next connections to the primary use `cfg`'s master_*
    /// settings (its host names the certificate). On an error nothing changes.
    pub fn set_master(&self, cfg: &Config) -> Result<(), TlsError> {
        let fresh = client(cfg)?;
        // Only the primary's side: the clients' may name a generated certificate.
        let mut c = self.cfg.lock().unwrap_or_else(|e| e.into_inner());
        c.master_host.clone_from(&cfg.master_host);
        c.master_ssl = cfg.master_ssl;
        c.master_ssl_ca.clone_from(&cfg.master_ssl_ca);
        c.master_ssl_cert.clone_from(&cfg.master_ssl_cert);
        c.master_ssl_key.clone_from(&cfg.master_ssl_key);
        c.master_ssl_verify_server_cert = cfg.master_ssl_verify_server_cert;
        drop(c);
        self.now.lock().unwrap_or_else(|e| e.into_inner()).0 = fresh;
        Ok(())
    }

    /// `reload`, when there are files, with a line in the log saying `why` and what happened.
    pub fn reload_logged(&self, why: &str) -> Result<(), TlsError> {
        let files = self.files();
        if files.is_empty() {
            return Ok(());
        }
        let r = self.reload();
        match &r {
            Ok(()) => {
                let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
                log::info!("{why}: reloaded TLS from {}; new connections use it", names.join(", "));
            }
            Err(e) => log::warn!("{why}: cannot reload TLS, the previous certificates and keys stay in use: {e}"),
        }
        r
    }
}

/// Checks the chain but not the name: MySQL's VERIFY_CA.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The name is checked only after the chain, so a name error means the chain held.
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Encryption without authentication of the primary (`master_ssl = on` alone):
/// what a MySQL replica does with MASTER_SSL=1 and no CA. The handshake signatures
/// are still checked, so the session is bound to the certificate presented.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
