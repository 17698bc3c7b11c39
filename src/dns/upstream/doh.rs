//! DNS-over-HTTPS (RFC 8484): POST `application/dns-message` over one shared HTTP/2
//! connection, multiplexed, re-established when the server closes it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use h2::client::SendRequest;
use http::{Method, Request, Uri};
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::error::UpstreamError;

const MEDIA_TYPE: &str = "application/dns-message";
const MAX_BODY: usize = 65_535;

pub struct DohClient {
    addr: SocketAddr,
    connector: TlsConnector,
    server_name: ServerName<'static>,
    uri: Uri,
    conn: Mutex<Option<SendRequest<Bytes>>>,
}

impl DohClient {
    pub fn new(
        addr: SocketAddr,
        config: Arc<rustls::ClientConfig>,
        server_name: ServerName<'static>,
        host: &str,
        path: &str,
    ) -> Result<DohClient, String> {
        let uri: Uri = format!("https://{host}{path}")
            .parse()
            .map_err(|e| format!("bad DoH URL https://{host}{path}: {e}"))?;
        Ok(DohClient {
            addr,
            connector: TlsConnector::from(config),
            server_name,
            uri,
            conn: Mutex::new(None),
        })
    }

    async fn connect(&self) -> Result<SendRequest<Bytes>, UpstreamError> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(UpstreamError::Io)?;
        tcp.set_nodelay(true).map_err(UpstreamError::Io)?;
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(UpstreamError::Tls)?;
        if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
            return Err(UpstreamError::Http("server did not agree to HTTP/2".into()));
        }
        let (sender, connection) = h2::client::handshake(tls)
            .await
            .map_err(|e| UpstreamError::Http(e.to_string()))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "DoH connection closed");
            }
        });
        if let Ok(mut slot) = self.conn.lock() {
            *slot = Some(sender.clone());
        }
        Ok(sender)
    }

    fn current(&self) -> Option<SendRequest<Bytes>> {
        self.conn.lock().ok().and_then(|s| s.clone())
    }

    fn forget(&self) {
        if let Ok(mut slot) = self.conn.lock() {
            *slot = None;
        }
    }

    pub async fn exchange(&self, query: &[u8]) -> Result<Vec<u8>, UpstreamError> {
        if let Some(sender) = self.current() {
            match self.send(sender, query).await {
                Ok(resp) => return Ok(resp),
                // A connection the server has closed: start a new one, once.
                Err(UpstreamError::Http(_)) => self.forget(),
                Err(e) => return Err(e),
            }
        }
        let sender = self.connect().await?;
        self.send(sender, query).await
    }

    async fn send(
        &self,
        sender: SendRequest<Bytes>,
        query: &[u8],
    ) -> Result<Vec<u8>, UpstreamError> {
        let h2err = |e: h2::Error| UpstreamError::Http(e.to_string());
        let request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(http::header::CONTENT_TYPE, MEDIA_TYPE)
            .header(http::header::ACCEPT, MEDIA_TYPE)
            .header(http::header::CONTENT_LENGTH, query.len())
            .body(())
            .map_err(|e| UpstreamError::Http(e.to_string()))?;
        let mut sender = sender.ready().await.map_err(h2err)?;
        let (response, mut body_tx) = sender.send_request(request, false).map_err(h2err)?;
        body_tx
            .send_data(Bytes::copy_from_slice(query), true)
            .map_err(h2err)?;
        let response = response.await.map_err(h2err)?;
        if response.status() != http::StatusCode::OK {
            return Err(UpstreamError::Status(response.status().as_u16()));
        }
        let mut body = response.into_body();
        let mut out = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(h2err)?;
            let _ = body.flow_control().release_capacity(chunk.len());
            out.extend_from_slice(&chunk);
            if out.len() > MAX_BODY {
                return Err(UpstreamError::Malformed);
            }
        }
        Ok(out)
    }
}
