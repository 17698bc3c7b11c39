//! rustls client settings for DoT and DoH upstreams.

use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Builds a client config that trusts either the public web roots or, when
/// `ca_file` is set, only the CAs in that PEM file (a private CA replaces the
/// public ones rather than adding to them, so a school's own resolver cannot
/// be impersonated by any public CA).
pub fn client_config(ca_file: Option<&Path>, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
            for cert in certs {
                let cert =
                    cert.map_err(|e| format!("bad certificate in {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("unusable certificate in {}: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("ca_file {} holds no certificate", path.display()));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config.resumption = rustls::client::Resumption::in_memory_sessions(64);
    Ok(Arc::new(config))
}
