//! Forwarding to upstream resolvers: UDP, TCP, DoT and DoH, with failover.
//!
//! Queries are forwarded as bytes and answers come back as bytes, so DNSSEC
//! records, the AD bit, unknown record types and upstream EDE options pass
//! through untouched. Each upstream is asked with its own timeout; an error, a
//! timeout, SERVFAIL or REFUSED moves on to the next one. An upstream that
//! failed recently is asked after the healthy ones until its back-off ends.

mod doh;
mod error;
mod lifecycle;
mod stream;
mod tls;

use portable_atomic::AtomicU64;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rustls_pki_types::ServerName;
use tokio::net::UdpSocket;

use super::fd_limit;
use super::wire::{self, FLAG_AD, FLAG_TC, LayoutError, ResponseLayout};
use crate::clock::Clock;
use crate::config::{Protocol, UpstreamConfig};
use crate::log_every::LogEvery;
use doh::DohClient;
use stream::StreamPool;

pub use error::UpstreamError;
pub use lifecycle::{ConnectionStats, Connections, Lifecycle};

enum Transport {
    Udp(SocketAddr),
    Stream(StreamPool),
    Https(DohClient),
    /// The fuzz target's upstream: answers each query with what the input says.
    #[cfg(feature = "fuzzing")]
    Scripted(Scripted),
}

/// What a scripted upstream answers to a query (in wire form).
#[cfg(feature = "fuzzing")]
pub type Scripted = std::sync::Arc<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// Back-off state of one upstream.
#[derive(Default)]
struct Health {
    failures: AtomicU32,
    retry_at: AtomicU64,
}

impl Health {
    fn is_healthy(&self, now: u64) -> bool {
        self.failures.load(Ordering::Relaxed) == 0 || now >= self.retry_at.load(Ordering::Relaxed)
    }

    fn succeeded(&self) {
        if self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Relaxed);
        }
    }

    fn failed(&self, now: u64) {
        let n = self
            .failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        // 1, 2, 4 … 64 seconds before it is trusted first again.
        self.retry_at
            .store(now + (1u64 << n.min(6)), Ordering::Relaxed);
    }
}

/// Smoothed round-trip time of a UDP upstream, for retransmission: a query
/// or answer lost on the way is sent again after a few round trips instead
/// of waiting out the whole timeout (clients give up after 1–2 s).
#[derive(Default)]
struct Rtt {
    /// Microseconds; 0 until the first answer.
    smoothed_us: AtomicU32,
}

/// First wait before sending again, while the round trip is unknown.
const RTO_INITIAL: Duration = Duration::from_millis(400);
/// Never sooner than this: a slow answer is likelier than a lost one.
const RTO_MIN: Duration = Duration::from_millis(100);
const RTO_MAX: Duration = Duration::from_secs(1);

impl Rtt {
    fn retransmit_after(&self) -> Duration {
        match self.smoothed_us.load(Ordering::Relaxed) {
            0 => RTO_INITIAL,
            us => (Duration::from_micros(u64::from(us)) * 4).clamp(RTO_MIN, RTO_MAX),
        }
    }

    /// Takes a sample from an exchange that was not retransmitted (Karn's rule).
    fn observe(&self, took: Duration) {
        let sample = u32::try_from(took.as_micros()).unwrap_or(u32::MAX).max(1);
        let old = self.smoothed_us.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            // An eighth of the way to the sample, as TCP's SRTT (RFC 6298).
            let (old, sample) = (i64::from(old), i64::from(sample));
            u32::try_from(old + (sample - old) / 8)
                .unwrap_or(u32::MAX)
                .max(1)
        };
        self.smoothed_us.store(new, Ordering::Relaxed);
    }
}

pub struct Upstream {
    label: String,
    protocol: Protocol,
    addr: SocketAddr,
    /// Asked only for profiles that fail open, after the others (see `UpstreamConfig::fallback`).
    fallback: bool,
    timeout: Duration,
    transport: Transport,
    health: Health,
    rtt: Rtt,
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

impl Upstream {
    /// The upstream `c` describes; its connections are made and counted in `links`.
    pub fn from_config(c: &UpstreamConfig, links: &Connections) -> Result<Upstream, String> {
        let addr = c.socket_addr();
        let tls_setup = |alpn: &[&[u8]]| -> Result<_, String> {
            let name = c.tls_name.clone().unwrap_or_default();
            let server_name = ServerName::try_from(name.clone())
                .map_err(|_| format!("tls_name `{name}` is not a valid server name"))?;
            let ca = c.ca_file.as_ref().map(|p| p.get_ref().as_path());
            Ok((tls::client_config(ca, alpn)?, server_name, name))
        };
        let (transport, label) = match c.protocol {
            Protocol::Udp => (Transport::Udp(addr), format!("udp://{addr}")),
            Protocol::Tcp => (
                Transport::Stream(StreamPool::new(
                    addr,
                    None,
                    links.counters.clone(),
                    links.life.clone(),
                )),
                format!("tcp://{addr}"),
            ),
            Protocol::Tls => {
                let (config, server_name, name) = tls_setup(&[])?;
                let connector = stream::tls_connector(config);
                (
                    Transport::Stream(StreamPool::new(
                        addr,
                        Some((connector, server_name)),
                        links.counters.clone(),
                        links.life.clone(),
                    )),
                    format!("tls://{addr}#{name}"),
                )
            }
            Protocol::Https => {
                let (config, server_name, name) = tls_setup(&[b"h2"])?;
                let path = c.doh_path();
                let client = DohClient::new(addr, config, server_name, &name, path, links.clone())?;
                (
                    Transport::Https(client),
                    format!("https://{name}{path} at {addr}"),
                )
            }
        };
        Ok(Upstream {
            label,
            protocol: c.protocol,
            addr,
            fallback: c.fallback,
            timeout: c.timeout,
            transport,
            health: Health::default(),
            rtt: Rtt::default(),
        })
    }

    /// An upstream that answers with `reply` (the fuzz target's), checked
    /// like any other; it counts as a loopback resolver.
    #[cfg(feature = "fuzzing")]
    pub fn scripted(reply: Scripted) -> Upstream {
        Upstream {
            label: "scripted".into(),
            protocol: Protocol::Udp,
            addr: SocketAddr::from(([127, 0, 0, 1], 9)),
            fallback: false,
            timeout: Duration::from_secs(1),
            transport: Transport::Scripted(reply),
            health: Health::default(),
            rtt: Rtt::default(),
        }
    }

    /// Asks this upstream `key`'s question; returns the checked response.
    async fn exchange(
        &self,
        key: &[u8],
        payload: u16,
    ) -> Result<(Vec<u8>, ResponseLayout), UpstreamError> {
        // DoH uses ID 0 so HTTP caches can share answers (RFC 8484 §4.1);
        // elsewhere a random ID is part of the defence against spoofed answers.
        let id = if self.protocol == Protocol::Https {
            0
        } else {
            rand::random()
        };
        let mut query = Vec::with_capacity(key.len() + 32);
        wire::write_upstream_query(key, id, payload, &mut query);
        let response = match &self.transport {
            Transport::Udp(addr) => {
                let resp = udp_exchange(*addr, payload, &query, id, key, &self.rtt).await?;
                if resp.len() >= 4 && wire::read_u16(&resp, 2) & FLAG_TC != 0 {
                    Box::pin(stream::tcp_once(*addr, &query)).await?
                } else {
                    resp
                }
            }
            // Boxed: their state is large, and inline it would be carried
            // (and copied) by every UDP forward too.
            Transport::Stream(pool) => Box::pin(pool.exchange(&query)).await?,
            Transport::Https(client) => Box::pin(client.exchange(&query)).await?,
            #[cfg(feature = "fuzzing")]
            Transport::Scripted(reply) => reply(&query),
        };
        let layout = wire::scan_response(&response, id, key)?;
        let (mut response, mut layout) = super::bailiwick::scrub(response, layout, id, key)?;
        // The AD bit means something only from a resolver we reach over an
        // authenticated channel (RFC 6840 §5.7): TLS, or this very machine.
        if layout.flags & FLAG_AD != 0 && !self.protocol.uses_tls() && !self.addr.ip().is_loopback()
        {
            layout.flags &= !FLAG_AD;
            wire::write_u16(&mut response, 2, layout.flags);
        }
        Ok((response, layout))
    }
}

/// Sends one UDP query from a fresh random port and waits for the matching answer,
/// ignoring datagrams that do not match (late answers, spoofing attempts).
/// Sends the same query again (same port and ID) each time a retransmission
/// interval passes without an answer; the caller's timeout bounds it all.
async fn udp_exchange(
    addr: SocketAddr,
    payload: u16,
    query: &[u8],
    id: u16,
    key: &[u8],
    rtt: &Rtt,
) -> Result<Vec<u8>, UpstreamError> {
    let local: SocketAddr = match addr.ip() {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(local).await.map_err(UpstreamError::Io)?;
    sock.connect(addr).await.map_err(UpstreamError::Io)?;
    sock.send(query).await.map_err(UpstreamError::Io)?;
    let sent = Instant::now();
    let mut wait = rtt.retransmit_after();
    let mut resent = false;
    // Room for what we advertised (`server.max_udp_payload`): an upstream
    // that sends more is cut short and fails to parse. Read into spare
    // capacity: no zeroing, and the answer stays in the buffer it arrived in.
    let mut buf = Vec::with_capacity(usize::from(payload).max(512));
    loop {
        buf.clear();
        match tokio::time::timeout(wait, sock.recv_buf(&mut buf)).await {
            Ok(received) => {
                received.map_err(UpstreamError::Io)?;
            }
            Err(_) => {
                sock.send(query).await.map_err(UpstreamError::Io)?;
                resent = true;
                wait = (wait * 2).min(RTO_MAX);
                continue;
            }
        }
        let resp = &buf[..];
        match wire::scan_response(resp, id, key) {
            Err(LayoutError::Mismatch) => continue,
            // A truncated answer may be cut mid-record; it is retried over TCP anyway.
            Err(LayoutError::Malformed)
                if resp.len() >= 4 && wire::read_u16(resp, 2) & FLAG_TC != 0 =>
            {
                return Ok(buf);
            }
            Err(e) => return Err(e.into()),
            Ok(_) => {
                if !resent {
                    rtt.observe(sent.elapsed());
                }
                return Ok(buf);
            }
        }
    }
}

/// What the upstreams said about one question.
pub enum Forwarded {
    /// A usable answer (NOERROR or NXDOMAIN).
    Answer(Vec<u8>, ResponseLayout),
    /// Every upstream failed; the last SERVFAIL/REFUSED one of them sent, if any.
    Failed(Option<(Vec<u8>, ResponseLayout)>),
}

/// The ordered upstream list, and the fallbacks kept apart.
pub struct Upstreams {
    list: Vec<Upstream>,
    fallbacks: Vec<Upstream>,
    payload: u16,
    /// Exchanges that could not open a socket for want of file descriptors
    /// (for `/metrics`); logged once per interval.
    fds_exhausted: AtomicU64,
    fds_logged: LogEvery,
    /// An upstream that failed is trusted first again after a backoff on this clock.
    clock: Clock,
    /// Connections opened, handshakes, reconnects (for `/metrics`).
    links: Connections,
}

impl Upstreams {
    pub fn new(list: Vec<Upstream>, payload: u16, clock: &Clock, links: Connections) -> Upstreams {
        let (fallbacks, list) = list.into_iter().partition(|u| u.fallback);
        Upstreams {
            list,
            fallbacks,
            payload,
            fds_exhausted: AtomicU64::new(0),
            fds_logged: LogEvery::new(clock),
            clock: clock.clone(),
            links,
        }
    }

    /// Connections opened to stream and DoH upstreams, their handshakes and reconnects.
    pub fn connections(&self) -> ConnectionStats {
        self.links.counters.stats()
    }

    /// Exchanges that failed because no socket could be opened (EMFILE, ENFILE).
    pub fn fds_exhausted(&self) -> u64 {
        self.fds_exhausted.load(Ordering::Relaxed)
    }

    /// Counts and logs (once per interval) an exchange that could not get a
    /// descriptor. Not the upstream's fault, so its health is left alone.
    fn out_of_descriptors(&self, up: &Upstream, e: &std::io::Error) {
        self.fds_exhausted.fetch_add(1, Ordering::Relaxed);
        if let Some(times) = self.fds_logged.hit() {
            tracing::warn!(
                upstream = %up,
                error = %e,
                times,
                "cannot open a socket to the upstream: out of file descriptors (raise LimitNOFILE, or lower max_inflight)"
            );
        }
    }

    /// Every upstream, fallbacks last.
    pub fn iter(&self) -> impl Iterator<Item = &Upstream> {
        self.list.iter().chain(&self.fallbacks)
    }

    /// Whether any `fallback = true` upstream is configured.
    pub fn has_fallbacks(&self) -> bool {
        !self.fallbacks.is_empty()
    }

    /// Asks the upstreams in order, healthy ones first, until one answers.
    pub async fn forward(&self, key: &[u8]) -> Forwarded {
        self.ask(&self.list, key).await
    }

    /// Asks the fallback upstreams, for a profile that fails open.
    pub async fn forward_fallback(&self, key: &[u8]) -> Forwarded {
        self.ask(&self.fallbacks, key).await
    }

    async fn ask(&self, list: &[Upstream], key: &[u8]) -> Forwarded {
        let mut refusal = None;
        // Bit i set: upstream i was asked already (config allows at most 64).
        let mut tried = 0u64;
        for healthy_pass in [true, false] {
            for (i, up) in list.iter().enumerate() {
                let bit = 1u64 << (i % 64);
                if tried & bit != 0 || up.health.is_healthy(self.clock.now_secs()) != healthy_pass {
                    continue;
                }
                tried |= bit;
                let result = tokio::time::timeout(up.timeout, up.exchange(key, self.payload))
                    .await
                    .unwrap_or(Err(UpstreamError::Timeout));
                match result {
                    Ok((resp, layout)) if matches!(layout.rcode, 0 | 3) => {
                        up.health.succeeded();
                        return Forwarded::Answer(resp, layout);
                    }
                    Ok((resp, layout)) => {
                        tracing::debug!(upstream = %up, rcode = layout.rcode, "upstream refused or failed");
                        up.health.failed(self.clock.now_secs());
                        refusal = Some((resp, layout));
                    }
                    Err(UpstreamError::Io(e)) if fd_limit::is_exhausted(&e) => {
                        self.out_of_descriptors(up, &e);
                    }
                    Err(e) => {
                        tracing::debug!(upstream = %up, error = %e, "upstream exchange failed");
                        up.health.failed(self.clock.now_secs());
                    }
                }
            }
        }
        Forwarded::Failed(refusal)
    }
}
