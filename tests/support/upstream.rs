//! A tiny authoritative-style DNS server on loopback, for use as the upstream
//! of the daemon under test.
//!
//! Zone behaviour (names are matched case-insensitively):
//!
//! | name                          | behaviour                                            |
//! |-------------------------------|------------------------------------------------------|
//! | `example.com.`                | A 93.184.215.14 TTL 300 (SOA query: the zone SOA)    |
//! | `www.example.com.`            | A 93.184.215.15 TTL 300                              |
//! | `short.example.com.`          | A 10.0.0.1 TTL 2                                     |
//! | `slow.example.com.`           | A 192.0.2.1 TTL 300, answered after 3 s (any type)   |
//! | `big.example.com.`            | TXT: 40 × 100 'x' (TC=1 over UDP if it doesn't fit)  |
//! | `servfail.example.com.`       | SERVFAIL                                             |
//! | `nx.example.com.` and below   | NXDOMAIN + SOA                                       |
//! | `poison.example.com.`         | A 192.0.2.7 plus stray records about other names (in |
//! |                               | every section); with DO, an RRSIG and the AD bit     |
//! | known name, other type        | NOERROR/NODATA + SOA                                 |
//! | anything else                 | NXDOMAIN + SOA                                       |
//!
//! Use [`FakeUpstream::set_a`] / [`FakeUpstream::set_aaaa`] (and the `add_*`
//! variants) to change the A/AAAA data at runtime,
//! [`FakeUpstream::set_reply_flags`] to answer like another kind of server
//! (an authoritative one: AA set, RA clear), and [`FakeUpstream::set_delay`]
//! to make one name slow.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::tls::TestCa;

/// Zone apex; the SOA owner for all negative answers.
pub const ZONE: &str = "example.com.";
/// TTL of the SOA record in negative answers.
pub const SOA_TTL: u32 = 300;
/// SOA MINIMUM field (negative-caching TTL is min(SOA TTL, MINIMUM) = 60).
pub const SOA_MINIMUM: u32 = 60;
/// Name with a large TXT RRset.
pub const BIG_NAME: &str = "big.example.com.";
/// Number of TXT records at [`BIG_NAME`].
pub const BIG_TXT_COUNT: usize = 40;
/// Length of each TXT string at [`BIG_NAME`].
pub const BIG_TXT_LEN: usize = 100;
/// Name whose first UDP query is dropped (as a lossy link would); later
/// ones, and every one over TCP, are answered.
pub const LOSSY_NAME: &str = "lossy.example.com.";
/// Name that answers only after [`SLOW_DELAY`].
pub const SLOW_NAME: &str = "slow.example.com.";
/// Delay for [`SLOW_NAME`].
pub const SLOW_DELAY: Duration = Duration::from_secs(3);
/// Name that always returns SERVFAIL.
pub const SERVFAIL_NAME: &str = "servfail.example.com.";
/// Name (and subtree) that returns NXDOMAIN.
pub const NX_NAME: &str = "nx.example.com.";
/// Name whose answer carries stray records a poisoning attempt would (see the table).
pub const POISON_NAME: &str = "poison.example.com.";
/// Address given for [`POISON_NAME`].
pub const POISON_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 7);
/// EDNS payload size advertised in responses.
pub const RESPONSE_EDNS_PAYLOAD: u16 = 1232;
/// Idle timeout for TCP / TLS / HTTP/2 connections.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

const MAX_MESSAGE: usize = 65535;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Transport {
    /// Responses are limited to the client's UDP payload size.
    Udp,
    /// TCP, DoT, DoH: responses are never truncated.
    Stream,
}

#[derive(Default, Clone)]
struct NameRecords {
    a: Vec<(Ipv4Addr, u32)>,
    aaaa: Vec<(Ipv6Addr, u32)>,
    /// An alias: answered as CNAME, followed by the target's records if the zone has them.
    cname: Option<(String, u32)>,
}

struct Inner {
    queries: AtomicUsize,
    /// Set once the first UDP query for [`LOSSY_NAME`] was dropped.
    lossy_dropped: std::sync::atomic::AtomicBool,
    /// Message IDs seen: a query sent again keeps its ID, so this counts
    /// exchanges where `queries` counts datagrams.
    ids: Mutex<std::collections::HashSet<u16>>,
    zone: Mutex<HashMap<String, NameRecords>>,
    /// Header flag bits (second 16-bit word) forced on and off in every reply.
    reply_flags: Mutex<(u16, u16)>,
    /// Names answered only after a delay.
    delays: Mutex<HashMap<String, Duration>>,
    /// EDNS option codes of every query received, in order.
    options: Mutex<Vec<u16>>,
}

/// Spawner whose tasks all end when the token is cancelled.
#[derive(Clone)]
struct Ctl {
    inner: Arc<Inner>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Ctl {
    fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let cancel = self.cancel.clone();
        self.tracker.spawn(async move {
            cancel.run_until_cancelled(fut).await;
        });
    }
}

/// A fake DNS upstream on 127.0.0.1. Stops on [`FakeUpstream::stop`] or drop.
pub struct FakeUpstream {
    addr: SocketAddr,
    ctl: Ctl,
}

impl FakeUpstream {
    /// Plain DNS: UDP and TCP on the same 127.0.0.1 port.
    pub async fn start() -> FakeUpstream {
        const ATTEMPTS: usize = 20;
        for attempt in 1..=ATTEMPTS {
            let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP");
            let addr = udp.local_addr().expect("UDP local addr");
            match TcpListener::bind(addr).await {
                Ok(tcp) => {
                    let up = FakeUpstream::new(addr);
                    let udp = Arc::new(udp);
                    up.ctl.spawn(serve_udp(up.ctl.clone(), udp));
                    up.ctl.spawn(serve_tcp(up.ctl.clone(), tcp, None));
                    return up;
                }
                Err(e) if attempt == ATTEMPTS => panic!("bind TCP on {addr}: {e}"),
                Err(_) => continue,
            }
        }
        unreachable!("loop returns or panics")
    }

    /// DNS-over-TLS (RFC 7858) on 127.0.0.1:0. ALPN "dot" is offered; clients
    /// that send no ALPN are accepted too.
    pub async fn start_tls(ca: &TestCa) -> FakeUpstream {
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind DoT");
        let addr = tcp.local_addr().expect("DoT local addr");
        let acceptor = TlsAcceptor::from(ca.server_config(&[b"dot"]));
        let up = FakeUpstream::new(addr);
        up.ctl.spawn(serve_tcp(up.ctl.clone(), tcp, Some(acceptor)));
        up
    }

    /// DNS-over-HTTPS (RFC 8484) over HTTP/2 on 127.0.0.1:0, path `/dns-query`
    /// (POST with `application/dns-message`, or GET `?dns=<base64url>`).
    pub async fn start_https(ca: &TestCa) -> FakeUpstream {
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind DoH");
        let addr = tcp.local_addr().expect("DoH local addr");
        let acceptor = TlsAcceptor::from(ca.server_config(&[b"h2"]));
        let up = FakeUpstream::new(addr);
        up.ctl.spawn(serve_https(up.ctl.clone(), tcp, acceptor));
        up
    }

    fn new(addr: SocketAddr) -> FakeUpstream {
        let mut zone = HashMap::new();
        let mut put = |name: &str, ip: Ipv4Addr, ttl: u32| {
            zone.insert(
                name.to_string(),
                NameRecords {
                    a: vec![(ip, ttl)],
                    ..NameRecords::default()
                },
            );
        };
        put("example.com.", Ipv4Addr::new(93, 184, 215, 14), 300);
        put("www.example.com.", Ipv4Addr::new(93, 184, 215, 15), 300);
        put("short.example.com.", Ipv4Addr::new(10, 0, 0, 1), 2);
        put(SLOW_NAME, Ipv4Addr::new(192, 0, 2, 1), 300);
        put(LOSSY_NAME, Ipv4Addr::new(192, 0, 2, 9), 300);
        FakeUpstream {
            addr,
            ctl: Ctl {
                inner: Arc::new(Inner {
                    queries: AtomicUsize::new(0),
                    lossy_dropped: Default::default(),
                    ids: Default::default(),
                    zone: Mutex::new(zone),
                    reply_flags: Mutex::new((0, 0)),
                    delays: Mutex::default(),
                    options: Mutex::default(),
                }),
                cancel: CancellationToken::new(),
                tracker: TaskTracker::new(),
            },
        }
    }

    /// The listening address (UDP+TCP for `start`, TLS/HTTPS port otherwise).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:<port>/dns-query` (the certificate covers the IP).
    pub fn doh_url(&self) -> String {
        format!("https://{}/dns-query", self.addr)
    }

    /// Total DNS messages received over all transports (including malformed).
    pub fn queries(&self) -> usize {
        self.ctl.inner.queries.load(Ordering::SeqCst)
    }

    /// Distinct query IDs seen: exchanges, whatever was sent again.
    pub fn exchanges(&self) -> usize {
        self.ctl.inner.ids.lock().map_or(0, |ids| ids.len())
    }

    /// The EDNS option codes the queries received so far carried (what a
    /// forwarder passed on).
    pub fn edns_options_seen(&self) -> Vec<u16> {
        self.ctl
            .inner
            .options
            .lock()
            .map_or(Vec::new(), |o| o.clone())
    }

    /// Resets [`FakeUpstream::queries`] to zero.
    pub fn reset_count(&self) {
        self.ctl.inner.queries.store(0, Ordering::SeqCst);
    }

    /// Replaces the A RRset of `name` with a single record.
    pub fn set_a(&self, name: &str, ip: Ipv4Addr, ttl: u32) {
        self.with_name(name, |r| r.a = vec![(ip, ttl)]);
    }

    /// Appends an A record to `name`.
    pub fn add_a(&self, name: &str, ip: Ipv4Addr, ttl: u32) {
        self.with_name(name, |r| r.a.push((ip, ttl)));
    }

    /// Replaces the AAAA RRset of `name` with a single record.
    pub fn set_aaaa(&self, name: &str, ip: Ipv6Addr, ttl: u32) {
        self.with_name(name, |r| r.aaaa = vec![(ip, ttl)]);
    }

    /// Appends an AAAA record to `name`.
    pub fn add_aaaa(&self, name: &str, ip: Ipv6Addr, ttl: u32) {
        self.with_name(name, |r| r.aaaa.push((ip, ttl)));
    }

    /// Makes `name` an alias (CNAME) of `target`.
    pub fn set_cname(&self, name: &str, target: &str, ttl: u32) {
        let target = normalize(target);
        self.with_name(name, |r| r.cname = Some((target, ttl)));
    }

    /// Header flag bits (the 16-bit word after the ID: 0x0400 AA, 0x0080 RA,
    /// 0x0040 Z, 0x0020 AD, …) set and cleared in every reply from now on.
    /// `set_reply_flags(0x0400, 0x0080)` answers like an authoritative server
    /// that offers no recursion (a school's internal DNS, nsd, knot).
    pub fn set_reply_flags(&self, set: u16, clear: u16) {
        *self.ctl.inner.reply_flags.lock().expect("flags lock") = (set, clear);
    }

    /// Answers `name` (any type, any transport) only after `delay` from now on.
    pub fn set_delay(&self, name: &str, delay: Duration) {
        let mut delays = self.ctl.inner.delays.lock().expect("delays lock");
        delays.insert(normalize(name), delay);
    }

    /// Removes `name` entirely (it becomes NXDOMAIN).
    pub fn remove_name(&self, name: &str) {
        self.zone().remove(&normalize(name));
    }

    fn zone(&self) -> std::sync::MutexGuard<'_, HashMap<String, NameRecords>> {
        self.ctl.inner.zone.lock().expect("zone lock")
    }

    fn with_name(&self, name: &str, f: impl FnOnce(&mut NameRecords)) {
        f(self.zone().entry(normalize(name)).or_default());
    }

    /// Stops answering and closes all listeners and connections, like a dead
    /// upstream. Takes effect asynchronously (as soon as the runtime polls
    /// the tasks); use [`FakeUpstream::stop_and_wait`] to be sure the sockets
    /// are closed (e.g. before expecting "connection refused").
    pub fn stop(&self) {
        self.ctl.cancel.cancel();
        self.ctl.tracker.close();
    }

    /// [`FakeUpstream::stop`], then waits until every task (and so every
    /// socket) is gone.
    pub async fn stop_and_wait(&self) {
        self.stop();
        self.ctl.tracker.wait().await;
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Lowercase, fully-qualified textual form.
fn normalize(name: &str) -> String {
    let mut s = name.to_ascii_lowercase();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

async fn serve_udp(ctl: Ctl, sock: Arc<UdpSocket>) {
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let (n, peer) = match sock.recv_from(&mut buf).await {
            Ok(v) => v,
            Err(_) => {
                // e.g. ICMP errors surfacing on Linux; don't spin.
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
        };
        let request = buf[..n].to_vec();
        let inner = ctl.inner.clone();
        let sock = sock.clone();
        ctl.spawn(async move {
            if let Some(reply) = inner.handle(&request, Transport::Udp).await {
                let _ = sock.send_to(&reply, peer).await;
            }
        });
    }
}

async fn serve_tcp(ctl: Ctl, listener: TcpListener, tls: Option<TlsAcceptor>) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // After a failed accept: do not spin.
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        let inner = ctl.inner.clone();
        let tls = tls.clone();
        ctl.spawn(async move {
            match tls {
                None => serve_stream(inner, stream).await,
                Some(acceptor) => {
                    if let Ok(Ok(tls)) =
                        timeout(Duration::from_secs(10), acceptor.accept(stream)).await
                    {
                        serve_stream(inner, tls).await;
                    }
                }
            }
        });
    }
}

/// RFC 1035 §4.2.2 / RFC 7858 framing: queries handled one after another.
async fn serve_stream<S: AsyncRead + AsyncWrite + Unpin>(inner: Arc<Inner>, mut stream: S) {
    loop {
        let mut len = [0u8; 2];
        match timeout(IDLE_TIMEOUT, stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let mut request = vec![0u8; usize::from(u16::from_be_bytes(len))];
        match timeout(IDLE_TIMEOUT, stream.read_exact(&mut request)).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let Some(reply) = inner.handle(&request, Transport::Stream).await else {
            continue;
        };
        let Ok(reply_len) = u16::try_from(reply.len()) else {
            return;
        };
        let mut out = Vec::with_capacity(reply.len() + 2);
        out.extend_from_slice(&reply_len.to_be_bytes());
        out.extend_from_slice(&reply);
        if stream.write_all(&out).await.is_err() || stream.flush().await.is_err() {
            return;
        }
    }
}

async fn serve_https(ctl: Ctl, listener: TcpListener, acceptor: TlsAcceptor) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // After a failed accept: do not spin.
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        let conn_ctl = ctl.clone();
        let acceptor = acceptor.clone();
        ctl.spawn(async move {
            let Ok(Ok(tls)) = timeout(Duration::from_secs(10), acceptor.accept(stream)).await
            else {
                return;
            };
            let Ok(Ok(mut conn)) =
                timeout(Duration::from_secs(10), h2::server::handshake(tls)).await
            else {
                return;
            };
            // Polling `accept` also drives the connection (sending responses).
            while let Ok(Some(Ok((request, respond)))) = timeout(IDLE_TIMEOUT, conn.accept()).await
            {
                let inner = conn_ctl.inner.clone();
                conn_ctl.spawn(handle_doh(inner, request, respond));
            }
        });
    }
}

async fn handle_doh(
    inner: Arc<Inner>,
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
) {
    let (reply, status) = match doh_wire_query(request).await {
        Ok(wire) => match inner.handle(&wire, Transport::Stream).await {
            Some(reply) => (Some(reply), http::StatusCode::OK),
            None => (None, http::StatusCode::BAD_REQUEST),
        },
        Err(status) => (None, status),
    };
    let mut builder = http::Response::builder().status(status);
    if let Some(reply) = &reply {
        builder = builder
            .header(http::header::CONTENT_TYPE, "application/dns-message")
            .header(http::header::CONTENT_LENGTH, reply.len());
    }
    let response = builder.body(()).expect("build HTTP response");
    match reply {
        Some(reply) => {
            if let Ok(mut body) = respond.send_response(response, false) {
                let _ = body.send_data(Bytes::from(reply), true);
            }
        }
        None => {
            let _ = respond.send_response(response, true);
        }
    }
}

/// Extracts the DNS wire query from a DoH request, or the HTTP error status.
async fn doh_wire_query(
    request: http::Request<h2::RecvStream>,
) -> Result<Vec<u8>, http::StatusCode> {
    let (parts, mut body) = request.into_parts();
    if parts.uri.path() != "/dns-query" {
        return Err(http::StatusCode::NOT_FOUND);
    }
    match parts.method {
        http::Method::POST => {
            let content_type = parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !content_type.eq_ignore_ascii_case("application/dns-message") {
                return Err(http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
            }
            let mut wire = Vec::new();
            while let Some(chunk) = body.data().await {
                let chunk = chunk.map_err(|_| http::StatusCode::BAD_REQUEST)?;
                let _ = body.flow_control().release_capacity(chunk.len());
                wire.extend_from_slice(&chunk);
                if wire.len() > MAX_MESSAGE {
                    return Err(http::StatusCode::PAYLOAD_TOO_LARGE);
                }
            }
            Ok(wire)
        }
        http::Method::GET => parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .find_map(|kv| kv.strip_prefix("dns="))
            .and_then(base64url_decode)
            .ok_or(http::StatusCode::BAD_REQUEST),
        _ => Err(http::StatusCode::METHOD_NOT_ALLOWED),
    }
}

/// Decodes unpadded (or padded) base64url.
pub fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.trim_end_matches('=').as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// Encodes bytes as unpadded base64url (for DoH GET).
pub fn base64url_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let mut acc = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            acc |= u32::from(b) << (16 - 8 * i);
        }
        for i in 0..=chunk.len() {
            out.push(char::from(
                ALPHABET[((acc >> (18 - 6 * i)) & 0x3f) as usize],
            ));
        }
    }
    out
}

fn soa_record() -> Record {
    let zone = Name::from_ascii(ZONE).expect("zone name");
    let soa = SOA::new(
        Name::from_ascii("ns1.example.com.").expect("mname"),
        Name::from_ascii("hostmaster.example.com.").expect("rname"),
        2_024_010_101,
        7200,
        3600,
        1_209_600,
        SOA_MINIMUM,
    );
    Record::from_rdata(zone, SOA_TTL, RData::SOA(soa))
}

impl Inner {
    /// Produces the wire response to one wire query (or `None` to stay silent).
    async fn handle(&self, wire: &[u8], transport: Transport) -> Option<Vec<u8>> {
        self.queries.fetch_add(1, Ordering::SeqCst);
        if let (Some(id), Ok(mut ids)) = (wire.get(..2), self.ids.lock()) {
            ids.insert(u16::from_be_bytes([id[0], id[1]]));
        }
        let Ok(request) = Message::from_vec(wire) else {
            return formerr_for_garbage(wire);
        };
        if request.metadata.message_type != MessageType::Query {
            return None;
        }
        if let (Some(edns), Ok(mut seen)) = (&request.edns, self.options.lock()) {
            seen.extend(
                edns.options()
                    .as_ref()
                    .iter()
                    .map(|(code, _)| u16::from(*code)),
            );
        }

        let mut response = Message::response(request.metadata.id, request.metadata.op_code);
        response.metadata.recursion_desired = request.metadata.recursion_desired;
        response.metadata.checking_disabled = request.metadata.checking_disabled;
        response.metadata.authoritative = true;
        response.metadata.recursion_available = true;
        response.queries = request.queries.clone();
        if let Some(edns) = &request.edns {
            let mut out = Edns::new();
            out.set_max_payload(RESPONSE_EDNS_PAYLOAD);
            out.set_dnssec_ok(edns.flags().dnssec_ok);
            response.edns = Some(out);
        }

        if request.metadata.op_code != OpCode::Query {
            response.metadata.response_code = ResponseCode::NotImp;
        } else if request.queries.len() != 1 {
            response.metadata.response_code = ResponseCode::FormErr;
        } else {
            let query = &request.queries[0];
            let lname = normalize(&query.name().to_ascii());
            if lname == LOSSY_NAME
                && transport == Transport::Udp
                && !self.lossy_dropped.swap(true, Ordering::Relaxed)
            {
                return None;
            }
            if lname == SLOW_NAME {
                // A deliberate delay: the slow name answers late on purpose.
                tokio::time::sleep(SLOW_DELAY).await;
            }
            let delay = self.delays.lock().ok().and_then(|d| d.get(&lname).copied());
            if let Some(delay) = delay {
                // A deliberate delay: set_delay makes this name slow on purpose.
                tokio::time::sleep(delay).await;
            }
            if lname == POISON_NAME && query.query_type() == RecordType::A {
                let dnssec_ok = request.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
                poisoned(query.name(), dnssec_ok, &mut response);
            } else {
                self.resolve(query, &lname, &mut response);
            }
        }

        let mut bytes = response.to_vec().ok()?;
        if transport == Transport::Udp && bytes.len() > usize::from(request.max_payload()) {
            response.answers.clear();
            response.authorities.clear();
            response.additionals.clear();
            response.metadata.truncation = true;
            bytes = response.to_vec().ok()?;
        }
        let (set, clear) = *self.reply_flags.lock().ok()?;
        if set | clear != 0 && bytes.len() >= 4 {
            let flags = (u16::from_be_bytes([bytes[2], bytes[3]]) | set) & !clear;
            bytes[2..4].copy_from_slice(&flags.to_be_bytes());
        }
        Some(bytes)
    }

    fn resolve(&self, query: &Query, lname: &str, response: &mut Message) {
        let owner = query.name().clone();
        let qtype = query.query_type();

        if lname == SERVFAIL_NAME {
            response.metadata.response_code = ResponseCode::ServFail;
            return;
        }
        if lname == NX_NAME || lname.ends_with(&format!(".{NX_NAME}")) {
            return negative(response, ResponseCode::NXDomain);
        }
        if lname == BIG_NAME {
            if qtype != RecordType::TXT {
                return negative(response, ResponseCode::NoError);
            }
            let text = "x".repeat(BIG_TXT_LEN);
            for _ in 0..BIG_TXT_COUNT {
                let txt = TXT::new(vec![text.clone()]);
                response.add_answer(Record::from_rdata(owner.clone(), 300, RData::TXT(txt)));
            }
            return;
        }
        if lname == ZONE && qtype == RecordType::SOA {
            response.add_answer(soa_record());
            return;
        }

        let zone = self.zone.lock().expect("zone lock");
        let Some(records) = zone.get(lname) else {
            let rcode = if lname == ZONE {
                ResponseCode::NoError
            } else {
                ResponseCode::NXDomain
            };
            return negative(response, rcode);
        };
        let rrset = |records: &NameRecords, owner: &Name| -> Vec<Record> {
            match qtype {
                RecordType::A => records
                    .a
                    .iter()
                    .map(|&(ip, ttl)| Record::from_rdata(owner.clone(), ttl, RData::A(A(ip))))
                    .collect(),
                RecordType::AAAA => records
                    .aaaa
                    .iter()
                    .map(|&(ip, ttl)| Record::from_rdata(owner.clone(), ttl, RData::AAAA(AAAA(ip))))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let answers: Vec<Record> = match &records.cname {
            Some((target, ttl)) => {
                let target_name = Name::from_ascii(target).expect("CNAME target is a valid name");
                let mut chain = vec![Record::from_rdata(
                    owner.clone(),
                    *ttl,
                    RData::CNAME(hickory_proto::rr::rdata::CNAME(target_name.clone())),
                )];
                if let Some(t) = zone.get(target.as_str()) {
                    chain.extend(rrset(t, &target_name));
                }
                chain
            }
            None => rrset(records, &owner),
        };
        if answers.is_empty() {
            return negative(response, ResponseCode::NoError);
        }
        response.answers = answers;
    }
}

/// The right answer, with records about other names an attacker would like
/// cached: another name's address, a delegation of someone else's zone, glue.
fn poisoned(owner: &Name, dnssec_ok: bool, response: &mut Message) {
    let evil = Ipv4Addr::new(6, 6, 6, 6);
    let name = |s: &str| Name::from_ascii(s).expect("valid name");
    response.add_answer(Record::from_rdata(
        owner.clone(),
        300,
        RData::A(A(POISON_ADDR)),
    ));
    response.add_answer(Record::from_rdata(
        name("bank.example."),
        86400,
        RData::A(A(evil)),
    ));
    let ns = |zone: &str, host: &str| {
        Record::from_rdata(
            name(zone),
            86400,
            RData::NS(hickory_proto::rr::rdata::NS(name(host))),
        )
    };
    response.add_authority(ns(ZONE, "ns1.example.com."));
    response.add_authority(ns("bank.example.", "ns.evil.example."));
    response.add_additional(Record::from_rdata(
        name("ns.evil.example."),
        86400,
        RData::A(A(evil)),
    ));
    if dnssec_ok {
        // An RRSIG's bytes need not verify here: a forwarder passes them on.
        let rrsig = hickory_proto::rr::rdata::NULL::with(vec![0, 1, 8, 3, 0, 0, 1, 44]);
        response.add_answer(Record::from_rdata(
            owner.clone(),
            300,
            RData::Unknown {
                code: RecordType::RRSIG,
                rdata: rrsig,
            },
        ));
        response.metadata.authentic_data = true;
    }
}

/// NXDOMAIN or NODATA: rcode plus the zone SOA in the authority section.
fn negative(response: &mut Message, rcode: ResponseCode) {
    response.metadata.response_code = rcode;
    response.add_authority(soa_record());
}

/// FORMERR for an unparseable query whose header is at least readable.
fn formerr_for_garbage(wire: &[u8]) -> Option<Vec<u8>> {
    if wire.len() < 12 || wire[2] & 0x80 != 0 {
        return None;
    }
    let id = u16::from_be_bytes([wire[0], wire[1]]);
    Message::error_msg(id, OpCode::Query, ResponseCode::FormErr)
        .to_vec()
        .ok()
}
