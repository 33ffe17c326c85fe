//! The API's credentials: a CA, a server certificate for 127.0.0.1/::1/localhost signed by it, and a random
//! bearer token. The first start makes them in `<state dir>/api/` (dir 0700, files 0600); later starts reuse
//! them, so a kubeconfig stays valid across restarts. Any missing or unreadable piece makes a fresh set.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

use super::ApiError;
use super::private::{private_dir, write_private};

const CA_CERT: &str = "ca.crt";
const SERVER_CERT: &str = "server.crt";
const SERVER_KEY: &str = "server.key";
const TOKEN: &str = "token";

/// What clients need to trust and authenticate to the API, and what the server presents.
#[derive(Clone)]
pub struct Credentials {
    /// The CA certificate (PEM), for the kubeconfig's `certificate-authority-data`.
    pub ca_pem: String,
    /// The server certificate (PEM).
    pub cert_pem: String,
    /// The server's private key (PEM).
    pub key_pem: String,
    /// The bearer token every request must carry.
    pub token: String,
    /// When the credentials were made: the playground node's registration time.
    pub created: Timestamp,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

fn io_err(path: &Path, source: std::io::Error) -> ApiError {
    ApiError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The credentials in `dir`, made there first if any piece is missing.
pub fn load_or_create(dir: &Path, node: &str) -> Result<Credentials, ApiError> {
    private_dir(dir).map_err(|e| io_err(dir, e))?;
    if let Some(c) = load(dir) {
        return Ok(c);
    }
    let c = generate(node)?;
    for (file, text) in [
        (CA_CERT, c.ca_pem.as_str()),
        (SERVER_CERT, c.cert_pem.as_str()),
        (SERVER_KEY, c.key_pem.as_str()),
        (TOKEN, c.token.as_str()),
    ] {
        let path = dir.join(file);
        write_private(&path, text.as_bytes()).map_err(|e| io_err(&path, e))?;
    }
    // The CA's key signed the server certificate and is dropped: it is never written, so nothing here can sign
    // another certificate the kubeconfig would trust. A new set replaces both.
    Ok(c)
}

fn load(dir: &Path) -> Option<Credentials> {
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
    let c = Credentials {
        ca_pem: read(CA_CERT)?,
        cert_pem: read(SERVER_CERT)?,
        key_pem: read(SERVER_KEY)?,
        token: read(TOKEN)?.trim().to_string(),
        created: std::fs::metadata(dir.join(CA_CERT))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| Timestamp::try_from(t).ok())?,
    };
    // A set that does not parse, or a token too short to be ours, is replaced.
    (c.token.len() >= 32 && server_config(&c).is_ok()).then_some(c)
}

/// 32 random bytes from the kernel, hex-encoded.
fn random_token() -> Result<String, ApiError> {
    use std::io::Read;
    let mut buf = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| io_err(Path::new("/dev/urandom"), e))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn validity(p: &mut CertificateParams) {
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(3650);
}

fn generate(node: &str) -> Result<Credentials, ApiError> {
    let tls = |e: rcgen::Error| ApiError::Certificate(e.to_string());
    let ca_key = KeyPair::generate().map_err(tls)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(tls)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, format!("podtui-ca@{node}"));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut ca);
    let ca_cert = ca.self_signed(&ca_key).map_err(tls)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().map_err(tls)?;
    let mut server = CertificateParams::new(vec!["localhost".to_string()]).map_err(tls)?;
    server
        .distinguished_name
        .push(DnType::CommonName, format!("podtui-apiserver@{node}"));
    for ip in [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ] {
        server.subject_alt_names.push(SanType::IpAddress(ip));
    }
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    validity(&mut server);
    let cert = server.signed_by(&key, &issuer).map_err(tls)?;
    Ok(Credentials {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        token: random_token()?,
        created: Timestamp::now(),
    })
}

/// The rustls configuration serving `c` (HTTP/1.1 only: watches and log streams are chunked responses, and the
/// upgrades exec will need are HTTP/1.1 too).
pub fn server_config(c: &Credentials) -> Result<Arc<ServerConfig>, ApiError> {
    let bad = |e: String| ApiError::Certificate(e);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(c.cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("server certificate: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(c.key_pem.as_bytes())
        .map_err(|e| bad(format!("server key: {e}")))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad(e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// `<state dir>/api`: where the credentials and the remembered address live.
pub fn api_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("api")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn made_once_then_reused() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("api");
        let a = load_or_create(&dir, "n1").unwrap();
        let b = load_or_create(&dir, "n1").unwrap();
        assert_eq!(a.token, b.token);
        assert_eq!(a.ca_pem, b.ca_pem);
        assert_eq!(a.token.len(), 64);
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        for f in [CA_CERT, SERVER_CERT, SERVER_KEY, TOKEN] {
            assert_eq!(
                std::fs::metadata(dir.join(f)).unwrap().mode() & 0o777,
                0o600,
                "{f}"
            );
        }
        // A damaged key makes a new set (and a new token).
        std::fs::write(dir.join(SERVER_KEY), "garbage").unwrap();
        let c = load_or_create(&dir, "n1").unwrap();
        assert_ne!(c.token, a.token);
        assert!(server_config(&c).is_ok());
    }
}
