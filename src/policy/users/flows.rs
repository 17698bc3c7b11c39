//! The owner of each client flow, found off the query path.
//!
//! Asking the kernel who owns a socket is a netlink round trip that can
//! stall; the threads that answer queries must never wait on it. So the
//! query path only *reads* a bounded, lock-free map from flow (client
//! address and port, our address, transport) to owner. A flow the map does
//! not know goes to the miss path (a tokio task), which hands the lookup to
//! one of [`WORKERS`] threads through a bounded queue and waits for it at most
//! [`WAIT`]. When the owner stays unknown (the queue is full, or the lookup is
//! slower than that), the query gets the default profile: never a looser one
//! because the kernel was slow (docs/decisions.md, issue 16).
//!
//! Entries live [`TTL`]: a client port is soon closed and reused, possibly by
//! another account's socket, so a flow's owner is trusted only briefly.

use std::collections::HashMap;
use std::collections::hash_map::Entry as Slot;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use portable_atomic::AtomicU64;
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::log_every::LogEvery;

/// Flows remembered at most; a full map drops the oldest (counted).
pub const MAX_FLOWS: usize = 4096;
/// How long a flow's owner is trusted. Long enough for the A and AAAA
/// queries a stub sends together and a quick retry; short, because the
/// client's port may soon belong to another account's socket.
pub const TTL: Duration = Duration::from_secs(2);
/// Lookups waiting for a worker at most; beyond, the query's owner is unknown.
pub const QUEUE: usize = 256;
/// Threads asking the kernel: one slow answer does not hold up the others.
pub const WORKERS: usize = 2;
/// How long a query waits for its owner on the miss path.
pub const WAIT: Duration = Duration::from_millis(250);

/// The transport a query came on (the socket table to search).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    Udp,
    Tcp,
}

/// Where the owner of a client socket comes from: the kernel, or a test's
/// table (which may be as slow as the test likes).
pub trait OwnerSource: Send + Sync {
    /// The uid owning the client socket `peer` that sent a query to our
    /// socket `local`; None when there is no such socket or it is not local.
    fn owner(&self, peer: SocketAddr, local: SocketAddr, proto: Proto) -> Option<u32>;
}

/// One client flow: whose socket sent this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flow {
    pub peer: SocketAddr,
    pub listener: SocketAddr,
    pub proto: Proto,
}

/// What is known of a flow's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Asked: the uid, or None (no such local socket, or not a loopback client).
    Known(Option<u32>),
    /// Not asked yet, or the answer did not come in time.
    Unknown,
}

/// How often each limit was reached, for `/metrics`.
#[derive(Default)]
pub struct Counters {
    /// Lookups the workers made.
    pub lookups: AtomicU64,
    /// Flows dropped from a full map before their time.
    pub evicted: AtomicU64,
    /// Queries whose owner stayed unknown: the queue was full.
    pub queue_full: AtomicU64,
    /// ... the lookup took longer than [`WAIT`].
    pub timed_out: AtomicU64,
}

#[derive(Clone, Copy)]
struct Known {
    uid: Option<u32>,
    /// Milliseconds on the daemon's clock.
    at: u64,
}

type Waiters = Vec<oneshot::Sender<Option<u32>>>;

/// What the workers share with the query path.
struct Shared {
    source: Arc<dyn OwnerSource>,
    map: papaya::HashMap<Flow, Known, foldhash::fast::RandomState>,
    /// Flows queued or being looked up, and who waits for each.
    pending: Mutex<HashMap<Flow, Waiters>>,
    counters: Counters,
    evicted_log: LogEvery,
    clock: Clock,
}

/// The flow → owner map and the workers that fill it.
pub struct Owners {
    shared: Arc<Shared>,
    /// The workers' queue, started on the first lookup (a config without
    /// per-user clients never starts them). Dropping it ends the workers.
    queue: OnceLock<Option<SyncSender<Flow>>>,
    queue_full_log: LogEvery,
    timed_out_log: LogEvery,
}

impl Owners {
    pub fn new(source: Arc<dyn OwnerSource>, clock: &Clock) -> Owners {
        Owners {
            shared: Arc::new(Shared {
                source,
                map: papaya::HashMap::with_hasher(Default::default()),
                pending: Mutex::new(HashMap::new()),
                counters: Counters::default(),
                evicted_log: LogEvery::new(clock),
                clock: clock.clone(),
            }),
            queue: OnceLock::new(),
            queue_full_log: LogEvery::new(clock),
            timed_out_log: LogEvery::new(clock),
        }
    }

    pub fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    /// On the query path: what the map knows of this flow's owner. Lock-free,
    /// allocation-free, never waits. Only loopback clients have a local owner.
    pub fn cached(&self, flow: &Flow) -> Owner {
        if !flow.peer.ip().is_loopback() {
            return Owner::Known(None);
        }
        self.shared.cached_at(flow, self.shared.now())
    }

    /// On the miss path: the flow's owner, asking a worker if the map does
    /// not know it and waiting at most [`WAIT`]. Unknown (counted, logged at
    /// most once per interval) when the queue is full or the answer is late.
    pub async fn resolve(&self, flow: &Flow) -> Owner {
        self.resolve_within(flow, WAIT).await
    }

    async fn resolve_within(&self, flow: &Flow, wait: Duration) -> Owner {
        let known = self.cached(flow);
        if known != Owner::Unknown {
            return known;
        }
        let rx = match self.ask(flow) {
            Some(rx) => rx,
            None => {
                self.shared
                    .counters
                    .queue_full
                    .fetch_add(1, Ordering::Relaxed);
                if let Some(n) = self.queue_full_log.hit() {
                    tracing::warn!(
                        queries = n,
                        "socket owner lookups: {QUEUE} are queued; queries meanwhile get the default profile"
                    );
                }
                return Owner::Unknown;
            }
        };
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(uid)) => Owner::Known(uid),
            Ok(Err(_)) => Owner::Unknown,
            Err(_) => {
                self.shared
                    .counters
                    .timed_out
                    .fetch_add(1, Ordering::Relaxed);
                if let Some(n) = self.timed_out_log.hit() {
                    tracing::warn!(
                        queries = n,
                        "socket owner lookups slower than {WAIT:?}; those queries got the default profile"
                    );
                }
                Owner::Unknown
            }
        }
    }

    /// Registers a waiter for `flow`, queueing a lookup unless one is
    /// already pending. None when the queue is full (or the workers could
    /// not be started).
    fn ask(&self, flow: &Flow) -> Option<oneshot::Receiver<Option<u32>>> {
        let (tx, rx) = oneshot::channel();
        let mut pending = self.shared.pending.lock().ok()?;
        match pending.entry(*flow) {
            Slot::Occupied(mut waiting) => waiting.get_mut().push(tx),
            Slot::Vacant(slot) => {
                let queue = self.queue.get_or_init(|| start(&self.shared)).as_ref()?;
                match queue.try_send(*flow) {
                    Ok(()) => {
                        slot.insert(vec![tx]);
                    }
                    Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => return None,
                }
            }
        }
        Some(rx)
    }
}

/// Starts the workers; None (logged) if no thread could be started.
fn start(shared: &Arc<Shared>) -> Option<SyncSender<Flow>> {
    let (tx, rx) = sync_channel(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    let mut started = 0;
    for i in 0..WORKERS {
        let (shared, rx) = (shared.clone(), rx.clone());
        match std::thread::Builder::new()
            .name(format!("owner lookup {i}"))
            .spawn(move || work(&shared, &rx))
        {
            Ok(_) => started += 1,
            Err(e) => {
                tracing::warn!(error = %e, "cannot start a socket owner lookup thread");
            }
        }
    }
    (started > 0).then_some(tx)
}

/// One worker: takes flows off the queue until the queue is dropped.
fn work(shared: &Shared, rx: &Mutex<Receiver<Flow>>) {
    loop {
        let next = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(flow) = next else {
            return;
        };
        let uid = shared.source.owner(flow.peer, flow.listener, flow.proto);
        shared.counters.lookups.fetch_add(1, Ordering::Relaxed);
        shared.insert_at(flow, uid, shared.now());
        let waiters = shared
            .pending
            .lock()
            .ok()
            .and_then(|mut p| p.remove(&flow))
            .unwrap_or_default();
        for tx in waiters {
            let _ = tx.send(uid);
        }
    }
}

impl Shared {
    fn now(&self) -> u64 {
        self.clock.now_millis()
    }

    fn cached_at(&self, flow: &Flow, now: u64) -> Owner {
        match self.map.pin().get(flow) {
            Some(k) if now.saturating_sub(k.at) < ttl_ms() => Owner::Known(k.uid),
            _ => Owner::Unknown,
        }
    }

    /// Remembers a flow's owner, making room first if the map is full:
    /// expired flows go, then (counted) the oldest.
    fn insert_at(&self, flow: Flow, uid: Option<u32>, now: u64) {
        let map = self.map.pin();
        if map.len() >= MAX_FLOWS && !map.contains_key(&flow) {
            map.retain(|_, k| now.saturating_sub(k.at) < ttl_ms());
            if map.len() >= MAX_FLOWS {
                let oldest = map.iter().min_by_key(|(_, k)| k.at).map(|(f, _)| *f);
                if let Some(oldest) = oldest {
                    map.remove(&oldest);
                    self.counters.evicted.fetch_add(1, Ordering::Relaxed);
                    if let Some(n) = self.evicted_log.hit() {
                        tracing::warn!(
                            evicted = n,
                            "socket owner map full ({MAX_FLOWS} flows): dropped the oldest; their next query asks the kernel again"
                        );
                    }
                }
            }
        }
        map.insert(flow, Known { uid, at: now });
    }
}

fn ttl_ms() -> u64 {
    u64::try_from(TTL.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Everyone(u32);
    impl OwnerSource for Everyone {
        fn owner(&self, _: SocketAddr, _: SocketAddr, _: Proto) -> Option<u32> {
            Some(self.0)
        }
    }

    fn flow(port: u16) -> Flow {
        Flow {
            peer: SocketAddr::from(([127, 0, 0, 1], port)),
            listener: "127.0.0.1:53".parse().unwrap(),
            proto: Proto::Udp,
        }
    }

    #[test]
    fn a_flows_owner_is_trusted_for_the_ttl_only() {
        let owners = Owners::new(Arc::new(Everyone(1000)), &Clock::system());
        let s = &owners.shared;
        assert_eq!(s.cached_at(&flow(1), 0), Owner::Unknown);
        s.insert_at(flow(1), Some(1000), 10);
        assert_eq!(s.cached_at(&flow(1), 10), Owner::Known(Some(1000)));
        assert_eq!(
            s.cached_at(&flow(1), 10 + ttl_ms() - 1),
            Owner::Known(Some(1000))
        );
        assert_eq!(s.cached_at(&flow(1), 10 + ttl_ms()), Owner::Unknown);
        // "No such socket" is an answer too, for as long.
        s.insert_at(flow(2), None, 10);
        assert_eq!(s.cached_at(&flow(2), 11), Owner::Known(None));
    }

    #[test]
    fn non_loopback_clients_have_no_local_owner_and_are_never_asked() {
        let owners = Owners::new(Arc::new(Everyone(1000)), &Clock::system());
        let lan = Flow {
            peer: "192.168.1.5:4000".parse().unwrap(),
            ..flow(1)
        };
        assert_eq!(owners.cached(&lan), Owner::Known(None));
        assert!(owners.queue.get().is_none(), "no worker started");
    }

    #[test]
    fn a_full_map_drops_expired_flows_first_then_the_oldest_counted() {
        let owners = Owners::new(Arc::new(Everyone(1000)), &Clock::system());
        let s = &owners.shared;
        for port in 0..MAX_FLOWS as u16 {
            s.insert_at(flow(port), Some(1), u64::from(port > 0)); // port 0 the oldest
        }
        // Nothing expired: the oldest goes, counted.
        s.insert_at(flow(60_000), Some(2), 5);
        assert_eq!(s.counters.evicted.load(Ordering::Relaxed), 1);
        assert_eq!(s.cached_at(&flow(0), 5), Owner::Unknown);
        assert_eq!(s.cached_at(&flow(60_000), 5), Owner::Known(Some(2)));
        assert!(s.map.pin().len() <= MAX_FLOWS);
        // Later, everything from before has expired: it goes, uncounted.
        s.insert_at(flow(60_001), Some(3), 5 + ttl_ms());
        assert_eq!(s.counters.evicted.load(Ordering::Relaxed), 1);
        assert_eq!(s.map.pin().len(), 1);
    }

    #[tokio::test]
    async fn the_miss_path_gets_the_owner_from_a_worker_and_the_map_keeps_it() {
        let owners = Owners::new(Arc::new(Everyone(1234)), &Clock::system());
        assert_eq!(owners.cached(&flow(7)), Owner::Unknown);
        assert_eq!(owners.resolve(&flow(7)).await, Owner::Known(Some(1234)));
        assert_eq!(owners.cached(&flow(7)), Owner::Known(Some(1234)));
        assert_eq!(owners.counters().lookups.load(Ordering::Relaxed), 1);
    }

    /// A source that never answers within the test (until dropped).
    struct Stuck(Mutex<()>, std::sync::Condvar);
    impl OwnerSource for Stuck {
        fn owner(&self, _: SocketAddr, _: SocketAddr, _: Proto) -> Option<u32> {
            let g = self.0.lock().unwrap();
            let _ = self.1.wait_timeout(g, Duration::from_secs(5));
            Some(1)
        }
    }

    #[tokio::test]
    async fn a_late_lookup_leaves_the_owner_unknown_and_is_counted() {
        let stuck = Arc::new(Stuck(Mutex::new(()), std::sync::Condvar::new()));
        let owners = Owners::new(stuck.clone(), &Clock::system());
        // No time to wait at all: the answer is late whatever the worker does.
        assert_eq!(
            owners.resolve_within(&flow(9), Duration::ZERO).await,
            Owner::Unknown
        );
        assert_eq!(owners.counters().timed_out.load(Ordering::Relaxed), 1);
        stuck.1.notify_all();
    }

    #[test]
    fn a_full_queue_leaves_the_owner_unknown_and_is_counted() {
        let stuck = Arc::new(Stuck(Mutex::new(()), std::sync::Condvar::new()));
        let owners = Owners::new(stuck.clone(), &Clock::system());
        // Each worker holds one flow, the queue QUEUE more; the next is refused.
        let mut refused = 0;
        for port in 0..(WORKERS + QUEUE + 1) as u16 {
            if owners.ask(&flow(port)).is_none() {
                refused += 1;
            }
        }
        assert!(refused >= 1, "a bounded queue");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(owners.resolve(&flow(60_000))), Owner::Unknown);
        assert_eq!(owners.counters().queue_full.load(Ordering::Relaxed), 1);
        stuck.1.notify_all();
    }
}
