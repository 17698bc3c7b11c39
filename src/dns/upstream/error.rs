//! Why one upstream exchange failed.

use crate::dns::wire::LayoutError;

/// Why one upstream exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("network: {0}")]
    Io(std::io::Error),
    #[error("TLS: {0}")]
    Tls(std::io::Error),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("timed out")]
    Timeout,
    #[error("not connecting yet: backing off after failed connects")]
    Backoff,
    #[error("malformed response")]
    Malformed,
    #[error("{0}")]
    Layout(#[from] LayoutError),
}
