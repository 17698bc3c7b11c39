//! The dashboard's HTTP connections, bounded in number and in time.
//!
//! `axum::serve` accepts every connection and waits forever for its request,
//! so a thousand half-sent requests held a thousand descriptors and starved
//! DNS. Here at most `max_connections` are open; when a new one comes and
//! all are taken, the oldest connection that is not in the middle of a
//! request (half-sent headers, or idle keep-alive) is closed to make room,
//! as a careful server sheds idle clients under pressure; when every one is
//! busy, the new connection is closed. Each request's headers must arrive
//! within `header_read_timeout`, which also closes a keep-alive connection
//! idle for that long, and no connection lives longer than
//! [`MAX_CONNECTION_TIME`]. Every closing is counted in `/metrics`. A
//! reload may change both limits while the server runs ([`Limits::set`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service as _;

use super::metrics::AdminCounters;
use crate::log_every::LogEvery;

/// The longest a connection stays open, however busy: a dashboard request
/// takes milliseconds, so only a client dribbling a body or not reading its
/// answer gets near it.
pub const MAX_CONNECTION_TIME: Duration = Duration::from_secs(60);
/// After [`MAX_CONNECTION_TIME`], how long the request under way may take to finish.
const FINISH_GRACE: Duration = Duration::from_secs(5);
/// At shutdown, how long requests under way may take to finish.
const STOP_GRACE: Duration = Duration::from_secs(1);
/// After a failed accept (out of descriptors), wait before the next try.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The connection limits in force, shared with the accept loop so a reload
/// can change them without closing the listener.
pub struct Limits {
    max_connections: AtomicUsize,
    header_read_timeout: Mutex<Duration>,
}

impl Limits {
    pub fn new(max_connections: usize, header_read_timeout: Duration) -> Limits {
        Limits {
            max_connections: AtomicUsize::new(max_connections),
            header_read_timeout: Mutex::new(header_read_timeout),
        }
    }

    /// New limits, for the connections accepted from now on (and, for the
    /// number, for which connections make room).
    pub fn set(&self, max_connections: usize, header_read_timeout: Duration) {
        self.max_connections
            .store(max_connections, Ordering::Relaxed);
        *self
            .header_read_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = header_read_timeout;
    }

    fn max_connections(&self) -> usize {
        self.max_connections.load(Ordering::Relaxed)
    }

    fn header_read_timeout(&self) -> Duration {
        *self
            .header_read_timeout
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One open connection, as the accept loop sees it.
struct Slot {
    /// Requests under way (headers read, answer not yet produced).
    busy: Arc<AtomicUsize>,
    close: CancellationToken,
}

/// Open connections by accept order (so the first idle one is the oldest).
#[derive(Default)]
struct Table {
    next_id: u64,
    open: BTreeMap<u64, Slot>,
}

type Shared = Arc<Mutex<Table>>;

fn table(t: &Shared) -> std::sync::MutexGuard<'_, Table> {
    t.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Logs {
    full: LogEvery,
    accept: LogEvery,
    timeout: LogEvery,
    lifetime: LogEvery,
}

/// Serves `router` on `listener` until `stop`.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: Arc<Limits>,
    counters: Arc<AdminCounters>,
    clock: crate::clock::Clock,
    stop: CancellationToken,
    tasks: TaskTracker,
) {
    let open: Shared = Arc::default();
    let logs = Arc::new(Logs {
        full: LogEvery::new(&clock),
        accept: LogEvery::new(&clock),
        timeout: LogEvery::new(&clock),
        lifetime: LogEvery::new(&clock),
    });
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                counters.accept_errors.fetch_add(1, Ordering::Relaxed);
                if let Some(times) = logs.accept.hit() {
                    tracing::warn!(error = %e, times, "dashboard cannot accept connections");
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let Some((id, busy, close)) = admit(&open, limits.max_connections(), &counters, &logs)
        else {
            // Every connection is in the middle of a request: this one waits
            // for none of them. Dropping it closes it.
            drop(stream);
            continue;
        };
        counters.connections_open.fetch_add(1, Ordering::Relaxed);
        let conn = Connection {
            stream,
            peer,
            router: router.clone(),
            busy,
            close,
            stop: stop.clone(),
            limits: limits.clone(),
            counters: counters.clone(),
            logs: logs.clone(),
        };
        let open = open.clone();
        tasks.spawn(async move {
            let counters = conn.counters.clone();
            conn.serve().await;
            table(&open).open.remove(&id);
            counters.connections_open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Makes room for a new connection: its id and handles, or `None` when all
/// `max` are in the middle of a request. After a reload lowered `max`, more
/// than one idle connection may be closed to get under it.
fn admit(
    open: &Shared,
    max: usize,
    counters: &AdminCounters,
    logs: &Logs,
) -> Option<(u64, Arc<AtomicUsize>, CancellationToken)> {
    let mut t = table(open);
    if t.open.len() >= max {
        counters.closed_full.fetch_add(1, Ordering::Relaxed);
        if let Some(times) = logs.full.hit() {
            tracing::warn!(
                max,
                times,
                "dashboard connections at their limit; closing the oldest idle ones"
            );
        }
    }
    while t.open.len() >= max.max(1) {
        let idle = t
            .open
            .iter()
            .find(|(_, s)| s.busy.load(Ordering::Relaxed) == 0)
            .map(|(id, _)| *id)?;
        if let Some(slot) = t.open.remove(&idle) {
            slot.close.cancel();
        }
    }
    let id = t.next_id;
    t.next_id += 1;
    let busy = Arc::new(AtomicUsize::new(0));
    let close = CancellationToken::new();
    t.open.insert(
        id,
        Slot {
            busy: busy.clone(),
            close: close.clone(),
        },
    );
    Some((id, busy, close))
}

/// Counts a request as under way until it is answered (or dropped).
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn start(n: &Arc<AtomicUsize>) -> Busy {
        n.fetch_add(1, Ordering::Relaxed);
        Busy(n.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    busy: Arc<AtomicUsize>,
    close: CancellationToken,
    stop: CancellationToken,
    limits: Arc<Limits>,
    counters: Arc<AdminCounters>,
    logs: Arc<Logs>,
}

impl Connection {
    async fn serve(self) {
        let (peer, router, busy) = (self.peer, self.router, self.busy);
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            counted.fetch_add(1, Ordering::Relaxed);
            let under_way = Busy::start(&busy);
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            let answer = router.clone().call(req);
            async move {
                let r = answer.await;
                drop(under_way);
                r
            }
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_read_timeout());
        let conn = http.serve_connection(TokioIo::new(self.stream), service);
        tokio::pin!(conn);
        let served: Option<Result<(), hyper::Error>> = tokio::select! {
            r = conn.as_mut() => Some(r),
            // Closed to make room: dropping the connection closes it.
            _ = self.close.cancelled() => None,
            _ = self.stop.cancelled() => {
                conn.as_mut().graceful_shutdown();
                tokio::time::timeout(STOP_GRACE, conn.as_mut()).await.ok()
            }
            _ = tokio::time::sleep(MAX_CONNECTION_TIME) => {
                self.counters.closed_lifetime.fetch_add(1, Ordering::Relaxed);
                if let Some(times) = self.logs.lifetime.hit() {
                    tracing::warn!(%peer, times, "dashboard connection open too long; closing it");
                }
                conn.as_mut().graceful_shutdown();
                tokio::time::timeout(FINISH_GRACE, conn.as_mut()).await.ok()
            }
        };
        if let Some(Err(e)) = served
            && e.is_timeout()
        {
            if requests.load(Ordering::Relaxed) == 0 {
                self.counters
                    .closed_header_timeout
                    .fetch_add(1, Ordering::Relaxed);
                if let Some(times) = self.logs.timeout.hit() {
                    tracing::warn!(%peer, times, "dashboard request headers not sent in time; closing the connection");
                }
            } else {
                // A browser's keep-alive connection, done with: routine.
                self.counters.closed_idle.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
