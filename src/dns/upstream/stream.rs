//! DNS over a byte stream (TCP, or TLS on TCP): two-byte length framing (RFC
//! 1035 §4.2.2, RFC 7858), pipelined as RFC 7766 §6.2.1.1 asks of a client.
//!
//! Each upstream has a few persistent connections (at most [`MAX_CONNS`]).
//! On each, one task writes the queries and one reads the answers; many
//! queries are in flight at once and the answers may come in any order. A
//! query gets a message ID unique on its connection on the way out (the
//! caller's own ID is put back on the answer), which is how an answer finds
//! its query. A connection idle for [`IDLE_TIMEOUT`] is closed; one the
//! upstream closes with queries in flight has them sent again on a new
//! connection (a few times at most, then the upstream counts as failed and
//! the next one is asked). A failed connect is retried after a backoff.
//! TLS sessions are resumed on reconnect: every connection of an upstream is
//! made with the same `rustls::ClientConfig`, whose session store keeps the
//! tickets the server sent.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

use super::error::UpstreamError;
use super::lifecycle::{ConnectionCounters, Lifecycle};

pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Connections per upstream. A handful is what unbound and the public
/// resolvers expect of a forwarder; more would cost handshakes and server
/// memory without making one upstream faster.
pub const MAX_CONNS: usize = 4;
/// Another connection is opened (up to [`MAX_CONNS`]) once every open one
/// carries this many queries, so a burst is spread, while a quiet household
/// keeps one connection.
const SPREAD_AT: usize = 32;
/// A connection with nothing in flight for this long is closed. Servers
/// close idle DoT connections after 10–30 s (unbound's `tcp-idle-timeout`
/// is 30 s); closing first spares a query the race with their close.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Times a query is sent again after its connection closed under it.
const MAX_RESENDS: usize = 2;
/// Waits after failed connects: doubling from the first to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(8);
/// Frames queued for one connection's writer before senders wait.
const QUEUE: usize = 256;
/// The writer sends queued frames together up to this many bytes.
const WRITE_BATCH: usize = 16 * 1024;

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Nothing in flight for [`IDLE_TIMEOUT`], or the daemon stopping.
    Idle,
    /// The upstream closed it, or a read or write failed.
    Lost,
}

/// A query in flight on a connection: who waits for its answer.
struct Waiter {
    /// Told apart from a later query that got the same ID.
    seq: u64,
    tx: oneshot::Sender<Vec<u8>>,
}

struct ConnState {
    open: bool,
    next_id: u16,
    waiting: HashMap<u16, Waiter>,
}

/// One open connection: its queries in flight, and the queue to its writer.
struct Conn {
    frames: mpsc::Sender<Vec<u8>>,
    state: Mutex<ConnState>,
    in_flight: AtomicUsize,
    seq: AtomicU64,
    /// Cancelled when the connection ends; stops its reader and writer.
    closed: CancellationToken,
}

/// The answer's connection closed before it came: send the query again.
struct Lost;

impl Conn {
    fn load(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    fn is_open(&self) -> bool {
        !self.closed.is_cancelled()
    }

    /// Sends `query` on this connection under an ID of its own and waits for
    /// the answer, which gets the query's ID back.
    async fn ask(&self, query: &[u8]) -> Result<Vec<u8>, Lost> {
        if query.len() < 2 {
            return Err(Lost);
        }
        let len = u16::try_from(query.len()).map_err(|_| Lost)?;
        let (tx, rx) = oneshot::channel();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let id = self.register(Waiter { seq, tx })?;
        let pending = Pending {
            conn: self,
            id,
            seq,
        };
        let mut frame = Vec::with_capacity(query.len() + 2);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(&id.to_be_bytes());
        frame.extend_from_slice(&query[2..]);
        self.frames.send(frame).await.map_err(|_| Lost)?;
        // The daemon stopping ends the connection's tasks without a word:
        // its token tells the query.
        let mut answer = tokio::select! {
            biased;
            answer = rx => answer.map_err(|_| Lost)?,
            _ = self.closed.cancelled() => return Err(Lost),
        };
        drop(pending);
        answer[..2].copy_from_slice(&query[..2]);
        Ok(answer)
    }

    /// Takes the next free ID on this connection for `waiter`.
    fn register(&self, waiter: Waiter) -> Result<u16, Lost> {
        let mut state = self.state.lock().map_err(|_| Lost)?;
        if !state.open {
            return Err(Lost);
        }
        // Every ID in use (65,536 in flight on one connection): use another.
        for _ in 0..=u16::MAX {
            let id = state.next_id;
            state.next_id = id.wrapping_add(1);
            if let std::collections::hash_map::Entry::Vacant(slot) = state.waiting.entry(id) {
                slot.insert(waiter);
                self.in_flight.fetch_add(1, Ordering::Relaxed);
                return Ok(id);
            }
        }
        Err(Lost)
    }

    /// Hands an answer to the query that waits for its ID.
    fn answered(&self, answer: Vec<u8>) {
        let id = u16::from_be_bytes([answer[0], answer[1]]);
        let waiter = match self.state.lock() {
            Ok(mut state) => state.waiting.remove(&id),
            Err(_) => None,
        };
        match waiter {
            Some(w) => {
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
                let _ = w.tx.send(answer);
            }
            // Its query timed out and left; a late answer is dropped.
            None => tracing::trace!(id, "upstream answer for no query in flight"),
        }
    }

    /// Ends the connection: no new queries, and those in flight are told it
    /// is lost (they are sent again elsewhere). Returns how many were in flight.
    fn close(&self) -> usize {
        self.closed.cancel();
        let waiting = match self.state.lock() {
            Ok(mut state) => {
                state.open = false;
                std::mem::take(&mut state.waiting)
            }
            Err(_) => HashMap::new(),
        };
        self.in_flight.store(0, Ordering::Relaxed);
        // Dropping the senders wakes every waiter with `Lost`.
        waiting.len()
    }

    fn idle(&self) -> bool {
        self.state.lock().map_or(true, |s| s.waiting.is_empty())
    }
}

/// Takes a query's ID back if it leaves before its answer (a timeout), so
/// the connection's table does not fill with queries nobody waits for.
struct Pending<'c> {
    conn: &'c Conn,
    id: u16,
    seq: u64,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Ok(mut state) = self.conn.state.lock()
            && state
                .waiting
                .get(&self.id)
                .is_some_and(|w| w.seq == self.seq)
        {
            state.waiting.remove(&self.id);
            self.conn.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Failed connects in a row, and when the next may be tried.
#[derive(Default)]
struct Backoff {
    failures: u32,
    until: Option<Instant>,
}

pub struct StreamPool {
    addr: SocketAddr,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    conns: Mutex<Vec<Arc<Conn>>>,
    /// One connect at a time per upstream: a burst of first queries waits
    /// for one handshake instead of starting hundreds.
    dialing: tokio::sync::Mutex<()>,
    backoff: Mutex<Backoff>,
    /// Set when a connection ended in an error: the next one is a reconnect.
    lost_one: Arc<AtomicBool>,
    counters: Arc<ConnectionCounters>,
    life: Lifecycle,
}

impl StreamPool {
    pub fn new(
        addr: SocketAddr,
        tls: Option<(TlsConnector, ServerName<'static>)>,
        counters: Arc<ConnectionCounters>,
        life: Lifecycle,
    ) -> StreamPool {
        StreamPool {
            addr,
            tls,
            conns: Mutex::new(Vec::new()),
            dialing: tokio::sync::Mutex::new(()),
            backoff: Mutex::new(Backoff::default()),
            lost_one: Arc::new(AtomicBool::new(false)),
            counters,
            life,
        }
    }

    /// Sends one query and returns its answer (with the query's ID). A query
    /// whose connection closes under it is sent again on another, at most
    /// [`MAX_RESENDS`] times; then it fails and the next upstream is asked.
    pub async fn exchange(&self, query: &[u8]) -> Result<Vec<u8>, UpstreamError> {
        for attempt in 0..=MAX_RESENDS {
            if attempt > 0 {
                self.counters.resent.fetch_add(1, Ordering::Relaxed);
            }
            let conn = self.pick().await?;
            if let Ok(answer) = conn.ask(query).await {
                return Ok(answer);
            }
        }
        Err(UpstreamError::Io(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "the upstream closed the connection with the query in flight",
        )))
    }

    /// The connection to send the next query on: the least loaded open one,
    /// a new one when every open one is busy and there is room, or the first
    /// one when none is open.
    async fn pick(&self) -> Result<Arc<Conn>, UpstreamError> {
        for _ in 0..=MAX_CONNS {
            let (least, open) = self.least_loaded();
            if let Some(conn) = least {
                if conn.load() < SPREAD_AT || open >= MAX_CONNS {
                    return Ok(conn);
                }
                // Busy: one query opens another connection; the rest go on.
                let Ok(_dialing) = self.dialing.try_lock() else {
                    return Ok(conn);
                };
                return Ok(self.dial().await.unwrap_or(conn));
            }
            let _dialing = self.dialing.lock().await;
            if self.least_loaded().0.is_some() {
                continue; // Another query opened one meanwhile.
            }
            return self.dial().await;
        }
        self.least_loaded()
            .0
            .ok_or_else(|| UpstreamError::Io(io::Error::other("no upstream connection")))
    }

    fn least_loaded(&self) -> (Option<Arc<Conn>>, usize) {
        let Ok(mut conns) = self.conns.lock() else {
            return (None, 0);
        };
        conns.retain(|c| c.is_open());
        let least = conns.iter().min_by_key(|c| c.load()).cloned();
        (least, conns.len())
    }

    /// Opens a connection (after the backoff of earlier failures), starts its
    /// reader and writer, and adds it to the pool.
    async fn dial(&self) -> Result<Arc<Conn>, UpstreamError> {
        if self.life.is_stopping() {
            return Err(UpstreamError::Io(io::Error::other("shutting down")));
        }
        if let Ok(b) = self.backoff.lock()
            && let Some(until) = b.until
            && Instant::now() < until
        {
            return Err(UpstreamError::Backoff);
        }
        let stream = match self.connect().await {
            Ok(s) => {
                if let Ok(mut b) = self.backoff.lock() {
                    *b = Backoff::default();
                }
                s
            }
            Err(e) => {
                self.counters
                    .connect_failures
                    .fetch_add(1, Ordering::Relaxed);
                if let Ok(mut b) = self.backoff.lock() {
                    let wait = BACKOFF_FIRST * 2u32.saturating_pow(b.failures.min(6));
                    b.failures = b.failures.saturating_add(1);
                    b.until = Some(Instant::now() + wait.min(BACKOFF_MAX));
                }
                // Whatever made it fail, the next one that works is a reconnect.
                self.lost_one.store(true, Ordering::Relaxed);
                return Err(e);
            }
        };
        let (reader, writer) = tokio::io::split(stream);
        let (frames, queue) = mpsc::channel(QUEUE);
        let conn = Arc::new(Conn {
            frames,
            state: Mutex::new(ConnState {
                open: true,
                next_id: rand::random(),
                waiting: HashMap::new(),
            }),
            in_flight: AtomicUsize::new(0),
            seq: AtomicU64::new(0),
            closed: self.life.child_token(),
        });
        let lost = self.lost_one.clone();
        let (r, w) = (conn.clone(), conn.clone());
        self.life.spawn(async move {
            let end = read_answers(&r, reader).await;
            ended(&r, end, &lost);
        });
        let lost = self.lost_one.clone();
        self.life.spawn(async move {
            let end = write_queries(&w, writer, queue).await;
            ended(&w, end, &lost);
        });
        if let Ok(mut conns) = self.conns.lock() {
            conns.push(conn.clone());
        }
        Ok(conn)
    }

    /// TCP, then TLS if this is a DoT upstream; counted.
    async fn connect(&self) -> Result<Box<dyn Stream>, UpstreamError> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(UpstreamError::Io)?;
        tcp.set_nodelay(true).map_err(UpstreamError::Io)?;
        let reconnect = self.lost_one.swap(false, Ordering::Relaxed);
        match &self.tls {
            None => {
                self.counters.opened(None, reconnect);
                Ok(Box::new(tcp))
            }
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(UpstreamError::Tls)?;
                let kind = tls.get_ref().1.handshake_kind();
                self.counters.opened(Some(kind), reconnect);
                Ok(Box::new(tls))
            }
        }
    }
}

/// A connection's reader or writer stopped: the connection ends. One lost
/// with queries in flight (or in an error) makes the next one a reconnect.
fn ended(conn: &Conn, end: End, lost_one: &AtomicBool) {
    // Marked before the waiters are woken: they send again at once, and the
    // connection that carries them must count as a reconnect.
    if end == End::Lost && conn.load() > 0 {
        lost_one.store(true, Ordering::Relaxed);
    }
    let in_flight = conn.close();
    if end == End::Lost && in_flight > 0 {
        tracing::debug!(
            in_flight,
            "upstream connection closed with queries in flight; sending them again"
        );
    }
}

/// Reads answers until the connection ends, handing each to its query.
async fn read_answers(conn: &Conn, mut reader: ReadHalf<Box<dyn Stream>>) -> End {
    loop {
        let len = tokio::select! {
            _ = conn.closed.cancelled() => return End::Idle,
            len = reader.read_u16() => match len {
                Ok(len) => usize::from(len),
                Err(_) => return End::Lost,
            },
        };
        let mut answer = vec![0; len];
        let read = tokio::select! {
            _ = conn.closed.cancelled() => return End::Idle,
            read = reader.read_exact(&mut answer) => read,
        };
        if read.is_err() || len < 2 {
            return End::Lost;
        }
        conn.answered(answer);
    }
}

/// Writes queued queries (several to a write when they queue up) until the
/// connection ends or has been idle for [`IDLE_TIMEOUT`].
async fn write_queries(
    conn: &Conn,
    mut writer: WriteHalf<Box<dyn Stream>>,
    mut queue: mpsc::Receiver<Vec<u8>>,
) -> End {
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    let end = loop {
        let next = tokio::select! {
            _ = conn.closed.cancelled() => break End::Idle,
            next = tokio::time::timeout(IDLE_TIMEOUT, queue.recv()) => next,
        };
        let frame = match next {
            Ok(Some(frame)) => frame,
            Ok(None) => break End::Idle,
            // Nothing sent for a while: close if nothing waits either.
            Err(_) if conn.idle() => break End::Idle,
            Err(_) => continue,
        };
        batch.clear();
        batch.extend_from_slice(&frame);
        while batch.len() < WRITE_BATCH {
            match queue.try_recv() {
                Ok(frame) => batch.extend_from_slice(&frame),
                Err(_) => break,
            }
        }
        if writer.write_all(&batch).await.is_err() || writer.flush().await.is_err() {
            break End::Lost;
        }
    };
    if end == End::Idle {
        // A TLS close_notify, then FIN: the upstream sees a clean close.
        let _ = tokio::time::timeout(Duration::from_secs(1), writer.shutdown()).await;
    }
    end
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
