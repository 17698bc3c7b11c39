//! Who holds the TCP connection slots, so one device cannot take them all.
//!
//! `max_tcp_clients` connections are served at once, and at most
//! `max_tcp_clients_per_address` from one address. Under pressure idle
//! connections are closed early (RFC 7766 §6.2.3): a new connection from an
//! address at its cap replaces that address's longest-idle connection, and
//! when every slot is taken the longest-idle connection overall is closed
//! to make room. A connection is idle while it waits for a query with no
//! answer outstanding; one that is busy is never closed for room.
//!
//! The lock here is taken per connection (accept, close, eviction), never
//! per query: a query only touches its connection's atomics.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// Answers one connection may have outstanding (being resolved or not yet
/// written). Beyond it the server stops reading that connection until the
/// client takes its answers: this bounds what a client that never reads can
/// make the server hold.
pub const MAX_PENDING: usize = 32;

/// `reading_since` while the connection is not waiting for a query.
const BUSY: u64 = u64::MAX;

/// One connection's state, shared by its reader, its writer and the pool.
pub struct Conn {
    id: u64,
    ip: IpAddr,
    /// Milliseconds (pool clock) since the reader began waiting for the next
    /// query; [`BUSY`] while it handles one.
    reading_since: AtomicU64,
    /// One permit per answer that may be outstanding (see [`MAX_PENDING`]).
    pub pending: Arc<Semaphore>,
    /// Cancelled to close the connection: for room, or because its answers
    /// went unread too long.
    pub close: CancellationToken,
}

impl Conn {
    fn idle_since(&self) -> Option<u64> {
        let since = self.reading_since.load(Ordering::Relaxed);
        // The reader holds one pending slot, for the query it waits for.
        let outstanding = MAX_PENDING - self.pending.available_permits();
        (since != BUSY && outstanding <= 1).then_some(since)
    }
}

/// Why a new connection was not taken.
#[derive(Debug, PartialEq, Eq)]
pub struct OverCap;

/// What [`TcpPool::register`] did to make room.
#[derive(Debug, PartialEq, Eq)]
pub enum Admitted {
    Plainly,
    /// The address was at its cap; its longest-idle connection is being closed.
    ReplacedIdle,
}

pub struct TcpPool {
    slots: Arc<Semaphore>,
    per_address: usize,
    epoch: Instant,
    next_id: AtomicU64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    per_ip: HashMap<IpAddr, usize>,
    conns: HashMap<u64, Arc<Conn>>,
}

/// A connection's place in the pool; dropping it frees the slot.
pub struct Registered {
    pool: Arc<TcpPool>,
    pub conn: Arc<Conn>,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let Ok(mut inner) = self.pool.inner.lock() else {
            return;
        };
        inner.conns.remove(&self.conn.id);
        if let Some(n) = inner.per_ip.get_mut(&self.conn.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                inner.per_ip.remove(&self.conn.ip);
            }
        }
    }
}

impl TcpPool {
    pub fn new(max_clients: usize, per_address: usize) -> TcpPool {
        TcpPool {
            slots: Arc::new(Semaphore::new(max_clients.max(1))),
            per_address: per_address.max(1),
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(BUSY - 1)
    }

    /// A free slot now, if there is one.
    pub fn try_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Waits for a slot (None once the pool is closed, which it never is).
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().acquire_owned().await.ok()
    }

    /// Closes the connection idle longest, so that its slot comes free;
    /// false when no connection is idle.
    pub fn close_longest_idle(&self) -> bool {
        let Ok(inner) = self.inner.lock() else {
            return false;
        };
        let victim = inner
            .conns
            .values()
            .filter(|c| !c.close.is_cancelled())
            .filter_map(|c| Some((c.idle_since()?, c)))
            .min_by_key(|(since, c)| (*since, c.id));
        match victim {
            Some((_, c)) => {
                c.close.cancel();
                true
            }
            None => false,
        }
    }

    /// Takes a connection from `ip` into the pool with the slot it was
    /// accepted on. At the per-address cap, that address's longest-idle
    /// connection is closed to make room; if none is idle, it is refused.
    pub fn register(
        self: &Arc<Self>,
        ip: IpAddr,
        slot: OwnedSemaphorePermit,
    ) -> Result<(Registered, Admitted), OverCap> {
        let Ok(mut inner) = self.inner.lock() else {
            return Err(OverCap);
        };
        let mut admitted = Admitted::Plainly;
        if inner.per_ip.get(&ip).copied().unwrap_or(0) >= self.per_address {
            let victim = inner
                .conns
                .values()
                // Not one already being closed, or each newcomer would pick the same.
                .filter(|c| c.ip == ip && !c.close.is_cancelled())
                .filter_map(|c| Some((c.idle_since()?, c)))
                .min_by_key(|(since, c)| (*since, c.id));
            match victim {
                Some((_, c)) => c.close.cancel(),
                None => return Err(OverCap),
            }
            admitted = Admitted::ReplacedIdle;
        }
        let conn = Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            ip,
            reading_since: AtomicU64::new(BUSY),
            pending: Arc::new(Semaphore::new(MAX_PENDING)),
            close: CancellationToken::new(),
        });
        *inner.per_ip.entry(ip).or_insert(0) += 1;
        inner.conns.insert(conn.id, conn.clone());
        Ok((
            Registered {
                pool: self.clone(),
                conn,
                _slot: slot,
            },
            admitted,
        ))
    }

    /// The reader is waiting for the next query.
    pub fn reading(&self, conn: &Conn) {
        Self::reading_at(conn, self.now_ms());
    }

    fn reading_at(conn: &Conn, ms: u64) {
        conn.reading_since.store(ms, Ordering::Relaxed);
    }

    /// The reader has a query to handle.
    pub fn busy(conn: &Conn) {
        conn.reading_since.store(BUSY, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn an_address_at_its_cap_replaces_its_longest_idle_connection() {
        let pool = Arc::new(TcpPool::new(10, 2));
        let (a, _) = pool
            .register(ip("10.0.0.1"), pool.try_slot().unwrap())
            .unwrap();
        let (b, _) = pool
            .register(ip("10.0.0.1"), pool.try_slot().unwrap())
            .unwrap();
        // Both busy: a third from the same address is refused.
        let slot = pool.try_slot().unwrap();
        assert!(pool.register(ip("10.0.0.1"), slot).is_err());
        // Another address is unaffected.
        let (_c, how) = pool
            .register(ip("10.0.0.2"), pool.try_slot().unwrap())
            .unwrap();
        assert_eq!(how, Admitted::Plainly);
        TcpPool::reading_at(&b.conn, 1_000);
        TcpPool::reading_at(&a.conn, 2_000);
        let (_d, how) = pool
            .register(ip("10.0.0.1"), pool.try_slot().unwrap())
            .unwrap();
        assert_eq!(how, Admitted::ReplacedIdle);
        assert!(b.conn.close.is_cancelled(), "the one idle longest");
        assert!(!a.conn.close.is_cancelled());
    }

    #[tokio::test]
    async fn a_connection_with_answers_outstanding_is_not_idle() {
        let pool = Arc::new(TcpPool::new(2, 2));
        let (a, _) = pool
            .register(ip("10.0.0.1"), pool.try_slot().unwrap())
            .unwrap();
        let _next_query = a.conn.pending.clone().try_acquire_owned().unwrap();
        pool.reading(&a.conn);
        let _answer = a.conn.pending.clone().try_acquire_owned().unwrap();
        assert!(!pool.close_longest_idle());
        drop(_answer);
        assert!(pool.close_longest_idle());
        assert!(a.conn.close.is_cancelled());
        drop(a);
        assert!(pool.inner.lock().unwrap().per_ip.is_empty());
    }
}
