//! DNS over a byte stream (TCP, or TLS on TCP): two-byte length framing (RFC 1035 §4.2.2,
//! RFC 7858), with idle connections kept for reuse so a DoT upstream does not pay a
//! handshake per query.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::error::UpstreamError;

pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Idle connections older than this are not reused: servers close idle DoT
/// connections after 10–30 s and a dead one costs a retry.
const MAX_IDLE: Duration = Duration::from_secs(15);
const MAX_POOLED: usize = 8;

pub struct StreamPool {
    addr: SocketAddr,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    idle: Mutex<Vec<(Box<dyn Stream>, Instant)>>,
}

impl StreamPool {
    pub fn new(addr: SocketAddr, tls: Option<(TlsConnector, ServerName<'static>)>) -> StreamPool {
        StreamPool {
            addr,
            tls,
            idle: Mutex::new(Vec::new()),
        }
    }

    async fn connect(&self) -> Result<Box<dyn Stream>, UpstreamError> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(UpstreamError::Io)?;
        tcp.set_nodelay(true).map_err(UpstreamError::Io)?;
        match &self.tls {
            None => Ok(Box::new(tcp)),
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(UpstreamError::Tls)?;
                Ok(Box::new(tls))
            }
        }
    }

    fn take_idle(&self) -> Option<Box<dyn Stream>> {
        let mut idle = self.idle.lock().ok()?;
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < MAX_IDLE {
                return Some(conn);
            }
        }
        None
    }

    fn put_idle(&self, conn: Box<dyn Stream>) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_POOLED
        {
            idle.push((conn, Instant::now()));
        }
    }

    /// Sends one query and reads its response. A pooled connection that turns out
    /// to be closed is replaced once by a fresh one.
    pub async fn exchange(&self, query: &[u8]) -> Result<Vec<u8>, UpstreamError> {
        if let Some(mut conn) = self.take_idle()
            && let Ok(resp) = exchange_on(&mut conn, query).await
        {
            self.put_idle(conn);
            return Ok(resp);
        }
        let mut conn = self.connect().await?;
        let resp = exchange_on(&mut conn, query).await?;
        self.put_idle(conn);
        Ok(resp)
    }
}

/// One framed query and response on an open stream. The response must carry the query's ID.
pub async fn exchange_on<S: AsyncRead + AsyncWrite + Unpin + ?Sized>(
    conn: &mut S,
    query: &[u8],
) -> Result<Vec<u8>, UpstreamError> {
    let len = u16::try_from(query.len()).map_err(|_| UpstreamError::Malformed)?;
    let mut frame = Vec::with_capacity(query.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(query);
    conn.write_all(&frame).await.map_err(UpstreamError::Io)?;
    conn.flush().await.map_err(UpstreamError::Io)?;
    let len = conn.read_u16().await.map_err(UpstreamError::Io)?;
    let mut resp = vec![0; usize::from(len)];
    conn.read_exact(&mut resp)
        .await
        .map_err(UpstreamError::Io)?;
    if resp.len() < 2 || resp[..2] != query[..2] {
        return Err(UpstreamError::Malformed);
    }
    Ok(resp)
}

/// A one-off TCP exchange, for UDP answers that came back truncated.
pub async fn tcp_once(addr: SocketAddr, query: &[u8]) -> Result<Vec<u8>, UpstreamError> {
    let mut conn = TcpStream::connect(addr).await.map_err(UpstreamError::Io)?;
    exchange_on(&mut conn, query).await
}

pub fn tls_connector(config: Arc<rustls::ClientConfig>) -> TlsConnector {
    TlsConnector::from(config)
}
