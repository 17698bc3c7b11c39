//! DNS-over-HTTPS (RFC 8484): GET `?dns=<base64url>` over shared HTTP/2
//! connections, multiplexed, re-established when the server closes one.
//!
//! GET, not POST: a query is then one HEADERS frame with no body, so neither
//! side does flow control for it and the server parses one frame, not two.
//! On the bench's loopback upstream (unbound) that cut the upstream's CPU per
//! query and lifted DoH's throughput (BENCHMARKS.md, "Encrypted forwarding").
//! Every RFC 8484 server takes both. The queries sent upstream are built
//! from one question (a name of at most 255 bytes) and an OPT record, so
//! their base64url is a few hundred bytes of URL at most.
//!
//! Each query is a stream of its own. The server's `MAX_CONCURRENT_STREAMS`
//! is honoured: a query goes to the open connection with the fewest streams
//! in flight; when every one is at the server's limit, another connection is
//! opened, up to [`MAX_CONNECTIONS`] (as for DoT); past that, h2's
//! `SendRequest::ready` makes queries wait in the client rather than be sent
//! and refused. So a household's trickle of misses uses one connection, and a
//! burst larger than the server allows on one is not held to its stream limit
//! (unbound allows 100 by default). The tasks that drive the connections are
//! the daemon's (`Lifecycle`): they stop, and the connections close, when the
//! daemon stops.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use h2::client::SendRequest;
use http::{Method, Request, Uri};
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::error::UpstreamError;
use super::lifecycle::Connections;

const MEDIA_TYPE: &str = "application/dns-message";
const MAX_BODY: usize = 65_535;
/// Times one query is sent again after the server refused its stream.
const MAX_REFUSED: usize = 3;
/// Connections per upstream at most; a second opens only when the first has
/// as many streams in flight as the server allows.
pub const MAX_CONNECTIONS: usize = 4;

/// One open connection: how to send on it, and its streams in flight.
#[derive(Clone)]
struct Link {
    /// Numbered so a query that saw it fail drops only it.
    generation: u64,
    sender: SendRequest<Bytes>,
    in_flight: Arc<AtomicUsize>,
}

impl Link {
    /// Whether the server lets one more stream open on it now.
    fn has_room(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) < self.sender.current_max_send_streams()
    }
}

/// A stream counted in flight on its link until dropped (answered, failed,
/// or the query given up by its timeout).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn on(link: &Link) -> InFlight {
        link.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(link.in_flight.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How one request failed, which decides what is tried next.
enum Failed {
    /// The server refused the stream unprocessed: try again on the same connection.
    Refused(UpstreamError),
    /// The connection (or the stream on it) broke: try once on a new connection.
    Connection(UpstreamError),
    /// An answer that is no use (an HTTP error status, an oversized body).
    Other(UpstreamError),
}

pub struct DohClient {
    addr: SocketAddr,
    connector: TlsConnector,
    server_name: ServerName<'static>,
    /// `https://host/path?dns=` (or `&dns=` when the path has a query): a GET
    /// query's URL is this and the query in base64url.
    get_prefix: String,
    /// The connections open, at most [`MAX_CONNECTIONS`].
    conns: Mutex<Vec<Link>>,
    generation: AtomicU64,
    /// One connect at a time: a burst of first queries shares one handshake.
    dialing: tokio::sync::Mutex<()>,
    /// The daemon's lifecycle and the connection counters.
    links: Connections,
}

impl DohClient {
    pub fn new(
        addr: SocketAddr,
        config: Arc<rustls::ClientConfig>,
        server_name: ServerName<'static>,
        host: &str,
        path: &str,
        links: Connections,
    ) -> Result<DohClient, String> {
        let join = if path.contains('?') { '&' } else { '?' };
        let get_prefix = format!("https://{host}{path}{join}dns=");
        // Checked once here, so a query's URL (this and base64url) parses.
        format!("{get_prefix}AA")
            .parse::<Uri>()
            .map_err(|e| format!("bad DoH URL https://{host}{path}: {e}"))?;
        Ok(DohClient {
            addr,
            connector: TlsConnector::from(config),
            server_name,
            get_prefix,
            conns: Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
            dialing: tokio::sync::Mutex::new(()),
            links,
        })
    }

    async fn connect(&self, reconnect: bool) -> Result<Link, UpstreamError> {
        let _dialing = self.dialing.lock().await;
        if let Some(link) = self.pick() {
            return Ok(link); // Another query connected meanwhile.
        }
        if self.links.life.is_stopping() {
            return Err(UpstreamError::Io(std::io::Error::other("shutting down")));
        }
        let connected = self.handshake().await;
        let counters = &self.links.counters;
        match connected {
            Ok((conn, kind)) => {
                counters.opened(Some(kind), reconnect);
                Ok(conn)
            }
            Err(e) => {
                counters.connect_failures.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    async fn handshake(&self) -> Result<(Link, Option<rustls::HandshakeKind>), UpstreamError> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(UpstreamError::Io)?;
        tcp.set_nodelay(true).map_err(UpstreamError::Io)?;
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(UpstreamError::Tls)?;
        let kind = tls.get_ref().1.handshake_kind();
        if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
            return Err(UpstreamError::Http("server did not agree to HTTP/2".into()));
        }
        let (sender, connection) = h2::client::handshake(tls)
            .await
            .map_err(|e| UpstreamError::Http(e.to_string()))?;
        self.links.life.spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "DoH connection closed");
            }
        });
        let link = Link {
            generation: self.generation.fetch_add(1, Ordering::Relaxed),
            sender,
            in_flight: Arc::default(),
        };
        if let Ok(mut conns) = self.conns.lock() {
            conns.push(link.clone());
        }
        Ok((link, kind))
    }

    /// The open connection with the fewest streams in flight, if the server
    /// lets it take one more, or if no other connection may be opened;
    /// `None` when a connection should be opened.
    fn pick(&self) -> Option<Link> {
        let conns = self.conns.lock().ok()?;
        let least = conns
            .iter()
            .min_by_key(|l| l.in_flight.load(Ordering::Relaxed))?;
        (least.has_room() || conns.len() >= MAX_CONNECTIONS).then(|| least.clone())
    }

    /// Drops `failed` (not a newer connection another query made meanwhile).
    fn forget(&self, failed: u64) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.retain(|l| l.generation != failed);
        }
    }

    pub async fn exchange(&self, query: &[u8]) -> Result<Vec<u8>, UpstreamError> {
        let mut reconnect = false;
        let mut refused = 0;
        let mut conn = self.pick();
        loop {
            let link = match conn.take() {
                Some(c) => c,
                None => self.connect(reconnect).await?,
            };
            let sent = {
                let _stream = InFlight::on(&link);
                self.send(link.sender.clone(), query).await
            };
            match sent {
                Ok(resp) => return Ok(resp),
                // Not processed (RFC 9113 §8.7): sent again on the same
                // connection. Streams opened before the server's SETTINGS
                // arrived may exceed its limit; later ones wait in h2.
                Err(Failed::Refused(_)) if refused < MAX_REFUSED => {
                    refused += 1;
                    conn = Some(link);
                }
                // A connection the server has closed: start a new one, once.
                Err(Failed::Connection(_)) if !reconnect => {
                    self.forget(link.generation);
                    reconnect = true;
                    self.links.counters.resent.fetch_add(1, Ordering::Relaxed);
                }
                Err(Failed::Refused(e) | Failed::Connection(e) | Failed::Other(e)) => {
                    return Err(e);
                }
            }
        }
    }

    async fn send(&self, sender: SendRequest<Bytes>, query: &[u8]) -> Result<Vec<u8>, Failed> {
        let h2err = |e: h2::Error| {
            let refused = e.reason() == Some(h2::Reason::REFUSED_STREAM);
            let e = UpstreamError::Http(e.to_string());
            if refused {
                Failed::Refused(e)
            } else {
                Failed::Connection(e)
            }
        };
        let request = {
            use base64::Engine as _;
            let mut url = String::with_capacity(self.get_prefix.len() + query.len() * 4 / 3 + 4);
            url.push_str(&self.get_prefix);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(query, &mut url);
            Request::builder()
                .method(Method::GET)
                .uri(url)
                .header(http::header::ACCEPT, MEDIA_TYPE)
                .body(())
                .map_err(|e| Failed::Other(UpstreamError::Http(e.to_string())))?
        };
        let mut sender = sender.ready().await.map_err(h2err)?;
        let (response, _) = sender.send_request(request, true).map_err(h2err)?;
        let response = response.await.map_err(h2err)?;
        if response.status() != http::StatusCode::OK {
            return Err(Failed::Other(UpstreamError::Status(
                response.status().as_u16(),
            )));
        }
        let mut body = response.into_body();
        let mut out = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(h2err)?;
            let _ = body.flow_control().release_capacity(chunk.len());
            out.extend_from_slice(&chunk);
            if out.len() > MAX_BODY {
                return Err(Failed::Other(UpstreamError::Malformed));
            }
        }
        Ok(out)
    }
}
