//! What the transports (UDP and TCP sockets, `server` and `udp_batch`) ask of
//! whatever answers queries: an answer now if it needs no upstream
//! ([`Handler::answer_fast`]), or later ([`Handler::answer_slow`]). The
//! sockets know only this interface; `resolve::Resolver` is the one the
//! daemon plugs in.

use portable_atomic::AtomicU64;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use crate::clock::Clock;

/// Who asked, and on which of our addresses.
#[derive(Clone, Copy, Debug)]
pub struct Client {
    pub peer: SocketAddr,
    pub listener: SocketAddr,
}

/// Which transport the query came on; it decides the size limit of the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// What the fast path did with a packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Fast {
    /// `out` holds the response.
    Reply,
    /// Nothing to send.
    Drop,
    /// Needs an upstream: call [`Handler::answer_slow`] off the receive loop.
    Miss,
    /// `out` holds the response, from a cached answer near the end of its
    /// TTL: send it, then call [`Handler::prefetch`] off the receive loop so
    /// the answer is refreshed before it expires.
    ReplyPrefetch,
}

/// Running totals for `/metrics` (relaxed atomics; never reset).
#[derive(Default)]
pub struct Counters {
    /// Queries refused: not on the access list, over the rate limit.
    pub refused_acl: AtomicU64,
    pub refused_rate: AtomicU64,
    /// UDP cache misses dropped because `max_inflight` queries were waiting on upstreams.
    pub dropped_busy: AtomicU64,
    pub queries_udp: AtomicU64,
    pub queries_tcp: AtomicU64,
    pub cache_hits: AtomicU64,
    pub upstream_queries: AtomicU64,
    pub upstream_failures: AtomicU64,
    /// Sum of upstream answer times, in microseconds.
    pub upstream_micros: AtomicU64,
    /// Queries sent to the fallback upstreams (profiles that fail open).
    pub fallback_queries: AtomicU64,
    /// TCP accepts that failed, and those of them for want of a file descriptor.
    pub accept_failures: AtomicU64,
    pub fds_exhausted_accept: AtomicU64,
    /// Times every TCP slot was taken when a connection was waiting.
    pub tcp_pool_full: AtomicU64,
    /// Idle TCP connections closed early to make room (RFC 7766 §6.2.3).
    pub tcp_closed_idle_early: AtomicU64,
    /// TCP connections closed (an idle one replaced, or a new one refused)
    /// because their address had `max_tcp_clients_per_address` open.
    pub tcp_closed_per_address: AtomicU64,
    /// TCP connections closed because their client did not read its answers.
    pub tcp_closed_unread: AtomicU64,
    /// Gauges: the limits in force, after fitting them to the open-file limit.
    pub max_inflight: AtomicU64,
    pub max_tcp_clients: AtomicU64,
    /// Expired answers served (RFC 8767): every upstream failed, or was slower
    /// than `stale_answer_timeout`.
    pub stale_answers: AtomicU64,
    /// Cached answers refreshed before they expired (prefetch), and those
    /// not refreshed because `max_inflight` resolutions were under way.
    pub prefetches: AtomicU64,
    /// Queries a trusted forwarder named a device for (MAC or address in
    /// EDNS options), judged by that device.
    pub forwarded_identities: AtomicU64,
    pub prefetches_skipped: AtomicU64,
    /// Answers blocked because an exam held for the client (`nestguard exam`).
    pub exam_blocked: AtomicU64,
}

/// Answers queries for the transports.
pub trait Handler: Send + Sync + 'static {
    /// Answers into `out` what needs no upstream (blocked, cached, refused,
    /// malformed). Must not allocate, lock or block: it runs on the thread
    /// that reads the socket.
    fn answer_fast(
        &self,
        packet: &[u8],
        client: Client,
        transport: Transport,
        out: &mut Vec<u8>,
    ) -> Fast;

    /// Answers a packet [`Handler::answer_fast`] returned [`Fast::Miss`] for
    /// (an empty `out`: nothing to send).
    fn answer_slow<'a>(
        &'a self,
        packet: &'a [u8],
        client: Client,
        transport: Transport,
        out: &'a mut Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

    /// Refreshes the cached answer to `packet`'s question from the upstreams
    /// (for [`Fast::ReplyPrefetch`]); nothing is sent to the client.
    fn prefetch<'a>(&'a self, packet: &'a [u8]) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

    /// Where the transports count what they refuse, drop and close.
    fn counters(&self) -> &Counters;

    /// The daemon's clock, for the transports' once-per-interval logs.
    fn clock(&self) -> &Clock;
}
