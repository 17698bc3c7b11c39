//! Throwaway PKI for TLS tests plus a dependency-free temporary directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

/// DNS name in the server certificate (also valid for IP 127.0.0.1).
pub const SERVER_NAME: &str = "upstream.test";

/// A freshly generated CA plus a server certificate it signed.
///
/// The server certificate carries the SANs `DNS:upstream.test` and
/// `IP:127.0.0.1`.
pub struct TestCa {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server_cert_der: CertificateDer<'static>,
    server_key_der: Vec<u8>,
}

impl TestCa {
    /// Generates a new CA and server certificate (ECDSA P-256).
    pub fn new() -> TestCa {
        let ca_key = KeyPair::generate().expect("generate CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "nestguard test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign CA");
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("generate server key");
        let mut server_params =
            CertificateParams::new(vec![SERVER_NAME.to_string(), "127.0.0.1".to_string()])
                .expect("server params");
        server_params
            .distinguished_name
            .push(DnType::CommonName, SERVER_NAME);
        server_params.use_authority_key_identifier_extension = true;
        server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("sign server certificate");

        TestCa {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            server_cert_der: server_cert.der().clone(),
            server_key_der: server_key.serialize_der(),
        }
    }

    /// The CA certificate in PEM form.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// The CA certificate in DER form.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca_der.clone()
    }

    /// Writes the CA PEM to `dir/test-ca.pem` and returns the path.
    pub fn write_ca_file(&self, dir: &Path) -> PathBuf {
        let path = dir.join("test-ca.pem");
        fs::write(&path, &self.ca_pem).expect("write CA PEM file");
        path
    }

    /// A rustls server config presenting the server certificate, with the
    /// given ALPN protocols (e.g. `&[b"h2"]`, `&[b"dot"]`, or `&[]`).
    pub fn server_config(&self, alpn: &[&[u8]]) -> Arc<rustls::ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![self.server_cert_der.clone()], key)
        .expect("server certificate/key");
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    /// A rustls client config trusting only this CA, with the given ALPN
    /// protocols. Handy for test-side DoT/DoH clients.
    pub fn client_config(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).expect("add CA root");
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    /// `ServerName` for [`SERVER_NAME`].
    pub fn server_name() -> ServerName<'static> {
        ServerName::try_from(SERVER_NAME).expect("valid server name")
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

/// A unique directory under the system temp dir, removed (recursively) on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/nestguard-test-<pid>-<counter>-<nanos>`.
    pub fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("nestguard-test-{}-{n}-{nanos}", std::process::id()));
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    /// The directory path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `self.path().join(name)`.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}
