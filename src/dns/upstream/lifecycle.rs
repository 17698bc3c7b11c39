//! What the upstream connections share: the daemon's lifecycle (their
//! reader, writer and HTTP/2 tasks are the daemon's tasks, stopped at
//! shutdown) and the counters of connections opened, for `/metrics`.

use portable_atomic::AtomicU64;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustls::HandshakeKind;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The daemon's stop signal and task tracker, handed down to the upstreams
/// so a connection's tasks end when the daemon stops, and shutdown waits for
/// them.
#[derive(Clone, Default)]
pub struct Lifecycle {
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl Lifecycle {
    pub fn new(stop: CancellationToken, tasks: TaskTracker) -> Lifecycle {
        Lifecycle { stop, tasks }
    }

    /// Runs `fut` as one of the daemon's tasks, dropped when the daemon stops.
    pub fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            stop.run_until_cancelled(fut).await;
        });
    }

    /// A token cancelled when the daemon stops (or earlier, by its holder).
    pub fn child_token(&self) -> CancellationToken {
        self.stop.child_token()
    }

    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }
}

/// Connections to stream (TCP, DoT) and DoH upstreams, all upstreams together.
#[derive(Default, Debug)]
pub struct ConnectionCounters {
    /// Connections opened (TCP connected, and the TLS handshake done if any).
    pub opened: AtomicU64,
    /// TLS handshakes that were full, and that resumed an earlier session.
    pub handshakes_full: AtomicU64,
    pub handshakes_resumed: AtomicU64,
    /// Connections opened to replace one that ended in an error, or that the
    /// upstream closed with queries in flight.
    pub reconnects: AtomicU64,
    /// Queries sent again on another connection because theirs closed under them.
    pub resent: AtomicU64,
    /// Connects or handshakes that failed.
    pub connect_failures: AtomicU64,
}

/// The counters as plain numbers, for `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectionStats {
    pub opened: u64,
    pub handshakes_full: u64,
    pub handshakes_resumed: u64,
    pub reconnects: u64,
    pub resent: u64,
    pub connect_failures: u64,
}

impl ConnectionCounters {
    /// Counts a connection opened, with its TLS handshake if it has one.
    pub fn opened(&self, handshake: Option<Option<HandshakeKind>>, reconnect: bool) {
        self.opened.fetch_add(1, Ordering::Relaxed);
        if reconnect {
            self.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        match handshake {
            None => {}
            Some(Some(HandshakeKind::Resumed)) => {
                self.handshakes_resumed.fetch_add(1, Ordering::Relaxed);
            }
            Some(_) => {
                self.handshakes_full.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub fn stats(&self) -> ConnectionStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ConnectionStats {
            opened: get(&self.opened),
            handshakes_full: get(&self.handshakes_full),
            handshakes_resumed: get(&self.handshakes_resumed),
            reconnects: get(&self.reconnects),
            resent: get(&self.resent),
            connect_failures: get(&self.connect_failures),
        }
    }
}

/// What every upstream's connections share: the daemon's lifecycle and the counters.
#[derive(Clone, Default)]
pub struct Connections {
    pub life: Lifecycle,
    pub counters: Arc<ConnectionCounters>,
}

impl Connections {
    pub fn new(life: Lifecycle) -> Connections {
        Connections {
            life,
            counters: Arc::default(),
        }
    }
}
