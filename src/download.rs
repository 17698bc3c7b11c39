//! The HTTPS client downloads are made with (`nestguard update`'s lists and
//! a fleet's bundles): rustls with the public roots, or only the CAs of
//! `[update] ca_file`, and `[update] timeout` for the whole of a download.

use std::sync::Arc;

use crate::config::Config;

/// The client: the public roots, or `[update] ca_file`'s.
pub fn agent(config: &Config) -> Result<ureq::Agent, String> {
    use ureq::tls::{PemItem, RootCerts, TlsConfig};
    let mut builder = ureq::Agent::config_builder()
        .timeout_global(Some(config.update.timeout))
        .http_status_as_error(false)
        .user_agent(format!("nestguard/{}", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &config.update.ca_file {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(format!("{}: no certificates in it", ca.display()));
        }
        builder = builder.tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::Specific(Arc::new(certs)))
                .build(),
        );
    }
    Ok(builder.build().new_agent())
}
