//! Loopback DoT and DoH upstreams that watch how they are used: connections
//! accepted and open, TLS sessions resumed, queries in flight at once. The
//! DoT one answers pipelined queries concurrently and can answer in reverse
//! order or close a connection with queries unanswered.
//!
//! Each answers `q<N>.<anything>` with the A record `10.0.0.0 + N` (TTL 300)
//! and any other name with 192.0.2.1, so a test can tell whose answer a
//! client got.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record};
use rustls::HandshakeKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::tls::TestCa;

/// How the DoT server answers the queries of a connection.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// Each query after `delay`, concurrently: answers go out as they are ready.
    Answer { delay: Duration },
    /// Collects `batch` queries, then answers them last first.
    Reverse { batch: usize },
    /// The first connection reads `queries` queries (or what came within
    /// 500 ms) and closes without answering any; later ones answer at once.
    CloseFirst { queries: usize },
}

/// What the server saw.
#[derive(Default)]
pub struct Seen {
    pub accepted: AtomicUsize,
    pub open: AtomicUsize,
    pub resumed: AtomicUsize,
    pub queries: AtomicUsize,
    pub in_flight: AtomicUsize,
    pub peak_in_flight: AtomicUsize,
    /// The most streams in flight on any one connection (DoH).
    pub peak_on_one: AtomicUsize,
    /// Queries read and never answered ([`Mode::CloseFirst`]).
    pub unanswered: AtomicUsize,
}

impl Seen {
    fn started(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::SeqCst);
    }

    fn finished(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A DoT or DoH server on 127.0.0.1; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
    stop: CancellationToken,
    /// Cancelling it closes every connection open now (not the listener).
    drop_conns: Arc<std::sync::Mutex<CancellationToken>>,
    tracker: TaskTracker,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
        self.tracker.close();
    }
}

impl Server {
    pub fn accepted(&self) -> usize {
        self.seen.accepted.load(Ordering::SeqCst)
    }

    pub fn open(&self) -> usize {
        self.seen.open.load(Ordering::SeqCst)
    }

    pub fn resumed(&self) -> usize {
        self.seen.resumed.load(Ordering::SeqCst)
    }

    pub fn queries(&self) -> usize {
        self.seen.queries.load(Ordering::SeqCst)
    }

    pub fn unanswered(&self) -> usize {
        self.seen.unanswered.load(Ordering::SeqCst)
    }

    pub fn peak_in_flight(&self) -> usize {
        self.seen.peak_in_flight.load(Ordering::SeqCst)
    }

    pub fn peak_on_one_connection(&self) -> usize {
        self.seen.peak_on_one.load(Ordering::SeqCst)
    }

    /// Closes every connection open now, as a server restarting would.
    pub fn close_connections(&self) {
        let mut token = self.drop_conns.lock().unwrap();
        token.cancel();
        *token = self.stop.child_token();
    }

    async fn bind(ca: &TestCa, alpn: &[&[u8]]) -> (TcpListener, TlsAcceptor, Server) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stop = CancellationToken::new();
        let server = Server {
            addr: listener.local_addr().unwrap(),
            seen: Arc::default(),
            drop_conns: Arc::new(std::sync::Mutex::new(stop.child_token())),
            stop,
            tracker: TaskTracker::new(),
        };
        (listener, TlsAcceptor::from(ca.server_config(alpn)), server)
    }

    /// Accepts TLS connections and hands each to `serve`, counting them.
    fn accept_loop<F, Fut>(&self, listener: TcpListener, acceptor: TlsAcceptor, serve: F)
    where
        F: Fn(tokio_rustls::server::TlsStream<tokio::net::TcpStream>, Arc<Seen>, bool) -> Fut
            + Send
            + Sync
            + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (seen, tracker, stop) = (self.seen.clone(), self.tracker.clone(), self.stop.clone());
        let tokens = self.drop_conns.clone();
        self.tracker.spawn(async move {
            stop.run_until_cancelled(async move {
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    };
                    let first = seen.accepted.fetch_add(1, Ordering::SeqCst) == 0;
                    let Ok(Ok(tls)) =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                    else {
                        continue;
                    };
                    if tls.get_ref().1.handshake_kind() == Some(HandshakeKind::Resumed) {
                        seen.resumed.fetch_add(1, Ordering::SeqCst);
                    }
                    seen.open.fetch_add(1, Ordering::SeqCst);
                    let conn = serve(tls, seen.clone(), first);
                    let token = tokens.lock().unwrap().clone();
                    let seen = seen.clone();
                    tracker.spawn(async move {
                        token.run_until_cancelled(conn).await;
                        seen.open.fetch_sub(1, Ordering::SeqCst);
                    });
                }
            })
            .await;
        });
    }

    /// A DNS-over-TLS upstream answering as `mode` says.
    pub async fn dot(ca: &TestCa, mode: Mode) -> Server {
        let (listener, acceptor, server) = Server::bind(ca, &[b"dot"]).await;
        server.accept_loop(listener, acceptor, move |tls, seen, first| {
            serve_dot(tls, seen, mode, first)
        });
        server
    }

    /// A DNS-over-HTTPS upstream (HTTP/2, GET or POST) allowing `max_streams`
    /// concurrent streams per connection, answering each after `delay`.
    pub async fn doh(ca: &TestCa, max_streams: u32, delay: Duration) -> Server {
        let (listener, acceptor, server) = Server::bind(ca, &[b"h2"]).await;
        server.accept_loop(listener, acceptor, move |tls, seen, _| {
            serve_doh(tls, seen, max_streams, delay)
        });
        server
    }
}

/// The answer this server gives to `query` (None for garbage).
pub fn answer(query: &[u8]) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata.message_type = MessageType::Response;
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.queries = request.queries.clone();
    let q = request.queries.first()?;
    let name = q.name().to_ascii().to_ascii_lowercase();
    let ip = name
        .split('.')
        .next()
        .and_then(|l| l.strip_prefix('q'))
        .and_then(|n| n.parse::<u32>().ok())
        .map_or(Ipv4Addr::new(192, 0, 2, 1), |n| {
            Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 0)) + n)
        });
    response.add_answer(Record::from_rdata(q.name().clone(), 300, RData::A(A(ip))));
    response.to_vec().ok()
}

/// The address [`answer`] gives `q<n>.…`.
pub fn address_of(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 0)) + n)
}

fn framed(reply: &[u8]) -> Vec<u8> {
    let mut out = (reply.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(reply);
    out
}

async fn serve_dot(
    tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    seen: Arc<Seen>,
    mode: Mode,
    first: bool,
) {
    let (mut rd, mut wr) = tokio::io::split(tls);
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if wr.write_all(&frame).await.is_err() || wr.flush().await.is_err() {
                return;
            }
        }
    });
    let read_one = async |rd: &mut tokio::io::ReadHalf<_>| -> Option<Vec<u8>> {
        let len = rd.read_u16().await.ok()?;
        let mut q = vec![0; usize::from(len)];
        rd.read_exact(&mut q).await.ok()?;
        Some(q)
    };
    let mut held = Vec::new();
    loop {
        let wait = match mode {
            Mode::CloseFirst { .. } if first && !held.is_empty() => Duration::from_millis(500),
            _ => Duration::from_secs(30),
        };
        // The end of the stream, or (closing the first) nothing more came.
        let Ok(Some(query)) = tokio::time::timeout(wait, read_one(&mut rd)).await else {
            break;
        };
        seen.queries.fetch_add(1, Ordering::SeqCst);
        match mode {
            Mode::Answer { delay } => {
                let (tx, seen) = (tx.clone(), seen.clone());
                seen.started();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Some(reply) = answer(&query) {
                        let _ = tx.send(framed(&reply));
                    }
                    seen.finished();
                });
            }
            Mode::Reverse { batch } => {
                held.push(query);
                if held.len() == batch {
                    for q in held.drain(..).rev() {
                        if let Some(reply) = answer(&q) {
                            let _ = tx.send(framed(&reply));
                        }
                    }
                }
            }
            Mode::CloseFirst { queries } if first => {
                held.push(query);
                if held.len() >= queries {
                    break;
                }
            }
            Mode::CloseFirst { .. } => {
                if let Some(reply) = answer(&query) {
                    let _ = tx.send(framed(&reply));
                }
            }
        }
    }
    if let Mode::CloseFirst { .. } = mode
        && first
    {
        seen.unanswered.store(held.len(), Ordering::SeqCst);
    }
    drop(tx);
    let _ = writer.await;
}

async fn serve_doh(
    tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    seen: Arc<Seen>,
    max_streams: u32,
    delay: Duration,
) {
    let Ok(mut conn) = h2::server::Builder::new()
        .max_concurrent_streams(max_streams)
        .handshake::<_, Bytes>(tls)
        .await
    else {
        return;
    };
    let here = Arc::new(AtomicUsize::new(0));
    while let Some(Ok((request, mut respond))) = conn.accept().await {
        let seen = seen.clone();
        seen.queries.fetch_add(1, Ordering::SeqCst);
        seen.started();
        let on_this = here.fetch_add(1, Ordering::SeqCst) + 1;
        seen.peak_on_one.fetch_max(on_this, Ordering::SeqCst);
        let here = here.clone();
        tokio::spawn(async move {
            // GET `?dns=<base64url>` (what nestguard sends), or POST.
            let from_url = request
                .uri()
                .query()
                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("dns=")))
                .and_then(super::upstream::base64url_decode);
            let mut body = request.into_body();
            let mut query = from_url.unwrap_or_default();
            while let Some(Ok(chunk)) = body.data().await {
                let _ = body.flow_control().release_capacity(chunk.len());
                query.extend_from_slice(&chunk);
            }
            tokio::time::sleep(delay).await;
            let reply = answer(&query).unwrap_or_default();
            let response = http::Response::builder()
                .status(200)
                .header("content-type", "application/dns-message")
                .header("content-length", reply.len())
                .body(())
                .unwrap();
            seen.finished();
            here.fetch_sub(1, Ordering::SeqCst);
            if let Ok(mut send) = respond.send_response(response, false) {
                let _ = send.send_data(Bytes::from(reply), true);
            }
        });
    }
}
