//! A small real DNS client (UDP / TCP) for tests.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

/// Timeout for every query helper in this module.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Per-query options.
#[derive(Clone, Debug)]
pub struct QueryOpts {
    /// EDNS UDP payload size; `None` sends no OPT record.
    pub edns: Option<u16>,
    /// EDNS DO bit (only meaningful with `edns`).
    pub dnssec_ok: bool,
    /// Message id.
    pub id: u16,
}

impl Default for QueryOpts {
    /// EDNS 1232, DO clear, random id.
    fn default() -> Self {
        QueryOpts {
            edns: Some(1232),
            dnssec_ok: false,
            id: rand::random(),
        }
    }
}

/// Builds a recursive (RD=1) query message for `name` (trailing dot optional).
pub fn build_query(name: &str, rtype: RecordType, opts: &QueryOpts) -> Message {
    let mut qname = Name::from_ascii(name).unwrap_or_else(|e| panic!("bad name {name:?}: {e}"));
    qname.set_fqdn(true);
    let mut msg = Message::new(opts.id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(qname, rtype));
    if let Some(payload) = opts.edns {
        let mut edns = Edns::new();
        edns.set_max_payload(payload);
        edns.set_dnssec_ok(opts.dnssec_ok);
        msg.set_edns(edns);
    }
    msg
}

/// Encodes a message to wire format.
pub fn encode(msg: &Message) -> Vec<u8> {
    msg.to_vec().expect("encode DNS message")
}

/// Decodes a wire-format message, panicking with context on failure.
pub fn decode(bytes: &[u8]) -> Message {
    Message::from_vec(bytes).unwrap_or_else(|e| panic!("decode DNS message ({e}): {bytes:02x?}"))
}

fn local_bind_for(server: SocketAddr) -> SocketAddr {
    if server.is_ipv6() {
        SocketAddr::from((Ipv6Addr::LOCALHOST, 0))
    } else {
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
    }
}

/// UDP query with default options.
pub async fn query_udp(server: SocketAddr, name: &str, rtype: RecordType) -> Message {
    query_udp_with(server, name, rtype, &QueryOpts::default()).await
}

/// UDP query; waits for a reply with the matching id (5 s timeout, panics).
pub async fn query_udp_with(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    opts: &QueryOpts,
) -> Message {
    let wire = encode(&build_query(name, rtype, opts));
    let exchange = async {
        let sock = UdpSocket::bind(local_bind_for(server))
            .await
            .expect("bind client UDP socket");
        sock.connect(server).await.expect("connect UDP socket");
        sock.send(&wire).await.expect("send UDP query");
        let mut buf = vec![0u8; 65535];
        loop {
            let n = sock
                .recv(&mut buf)
                .await
                .unwrap_or_else(|e| panic!("UDP recv from {server} for {name} {rtype}: {e}"));
            match Message::from_vec(&buf[..n]) {
                Ok(msg) if msg.metadata.id == opts.id => return msg,
                _ => continue, // stray or garbage datagram
            }
        }
    };
    timeout(QUERY_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| panic!("UDP query {name} {rtype} to {server} timed out after 5 s"))
}

/// TCP query with default options.
pub async fn query_tcp(server: SocketAddr, name: &str, rtype: RecordType) -> Message {
    query_tcp_with(server, name, rtype, &QueryOpts::default()).await
}

/// TCP query with 2-byte length framing (5 s timeout, panics).
pub async fn query_tcp_with(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    opts: &QueryOpts,
) -> Message {
    let wire = encode(&build_query(name, rtype, opts));
    let exchange = async {
        let mut stream = TcpStream::connect(server)
            .await
            .unwrap_or_else(|e| panic!("TCP connect to {server}: {e}"));
        write_framed(&mut stream, &wire).await;
        let reply = read_framed(&mut stream)
            .await
            .unwrap_or_else(|e| panic!("TCP read from {server} for {name} {rtype}: {e}"));
        decode(&reply)
    };
    timeout(QUERY_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| panic!("TCP query {name} {rtype} to {server} timed out after 5 s"))
}

/// Writes a 2-byte length prefix followed by `msg`.
pub async fn write_framed<W: AsyncWriteExt + Unpin>(w: &mut W, msg: &[u8]) {
    let len = u16::try_from(msg.len()).expect("DNS message too long for TCP framing");
    let mut out = Vec::with_capacity(msg.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(msg);
    w.write_all(&out).await.expect("write framed DNS message");
    w.flush().await.expect("flush framed DNS message");
}

/// Reads one 2-byte-length-prefixed message.
pub async fn read_framed<R: AsyncReadExt + Unpin>(r: &mut R) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    r.read_exact(&mut len).await?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    r.read_exact(&mut msg).await?;
    Ok(msg)
}

/// Sends raw bytes over UDP and returns the first reply datagram received
/// within `wait`, or `None` (also `None` on ICMP "port unreachable").
pub async fn send_raw_udp(server: SocketAddr, bytes: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let sock = UdpSocket::bind(local_bind_for(server))
        .await
        .expect("bind client UDP socket");
    sock.connect(server).await.expect("connect UDP socket");
    sock.send(bytes).await.ok()?;
    let mut buf = vec![0u8; 65535];
    match timeout(wait, sock.recv(&mut buf)).await {
        Ok(Ok(n)) => Some(buf[..n].to_vec()),
        _ => None,
    }
}

/// Sends raw bytes (already framed or not — sent as-is) over a fresh TCP
/// connection and returns one length-prefixed reply read within `wait`, or
/// `None` on timeout / connection error / EOF.
pub async fn send_raw_tcp(server: SocketAddr, bytes: &[u8], wait: Duration) -> Option<Vec<u8>> {
    timeout(wait, async {
        let mut stream = TcpStream::connect(server).await.ok()?;
        stream.write_all(bytes).await.ok()?;
        read_framed(&mut stream).await.ok()
    })
    .await
    .ok()
    .flatten()
}

/// Writes all queries on one TCP connection before reading anything, then
/// reads one response per query. Responses are matched by id and returned
/// in the order of `queries` (5 s timeout overall, panics).
pub async fn tcp_pipeline(server: SocketAddr, queries: &[(String, RecordType)]) -> Vec<Message> {
    let base: u16 = rand::random();
    let ids: Vec<u16> = (0..queries.len())
        .map(|i| base.wrapping_add(i as u16))
        .collect();
    let mut out = Vec::new();
    for ((name, rtype), &id) in queries.iter().zip(&ids) {
        let opts = QueryOpts {
            id,
            ..QueryOpts::default()
        };
        let wire = encode(&build_query(name, *rtype, &opts));
        out.extend_from_slice(&u16::try_from(wire.len()).expect("len").to_be_bytes());
        out.extend_from_slice(&wire);
    }
    let exchange = async {
        let mut stream = TcpStream::connect(server)
            .await
            .unwrap_or_else(|e| panic!("TCP connect to {server}: {e}"));
        stream
            .write_all(&out)
            .await
            .expect("write pipelined queries");
        stream.flush().await.expect("flush pipelined queries");
        let mut by_id = HashMap::new();
        while by_id.len() < queries.len() {
            let reply = read_framed(&mut stream).await.unwrap_or_else(|e| {
                panic!(
                    "TCP pipeline to {server}: got {} of {} replies: {e}",
                    by_id.len(),
                    queries.len()
                )
            });
            let msg = decode(&reply);
            by_id.insert(msg.metadata.id, msg);
        }
        ids.iter()
            .map(|id| by_id.remove(id).expect("reply for every query id"))
            .collect()
    };
    timeout(QUERY_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| panic!("TCP pipeline to {server} timed out after 5 s"))
}

/// IPv4 addresses in the answer section.
pub fn a_records(msg: &Message) -> Vec<Ipv4Addr> {
    msg.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

/// IPv6 addresses in the answer section.
pub fn aaaa_records(msg: &Message) -> Vec<Ipv6Addr> {
    msg.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::AAAA(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

/// Smallest TTL in the answer section.
pub fn min_answer_ttl(msg: &Message) -> Option<u32> {
    msg.answers.iter().map(|r| r.ttl).min()
}

/// A query from a chosen loopback source address (Linux routes all of 127/8 to lo).
pub async fn query_from(src: &str, server: SocketAddr, name: &str, rtype: RecordType) -> Message {
    let q = encode(&build_query(name, rtype, &QueryOpts::default()));
    exchange_from(src, server, &q).await
}

/// An A query for `name` whose OPT record carries `options` (code, data),
/// such as the device options a forwarder adds.
pub fn query_with_options(name: &str, options: &[(u16, &[u8])]) -> Vec<u8> {
    let mut msg = build_query(name, RecordType::A, &QueryOpts::default());
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    for (code, data) in options {
        edns.options_mut()
            .insert(EdnsOption::Unknown(*code, data.to_vec()));
    }
    msg.set_edns(edns);
    encode(&msg)
}

/// Sends `query` over UDP from a chosen loopback source address and waits for the answer.
pub async fn exchange_from(src: &str, server: SocketAddr, query: &[u8]) -> Message {
    let sock = tokio::net::UdpSocket::bind((src.parse::<IpAddr>().unwrap(), 0))
        .await
        .unwrap();
    sock.send_to(query, server).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .expect("answer within 5 s")
        .unwrap();
    decode(&buf[..n])
}

pub fn ede(edns: Option<&Edns>) -> Option<(u16, String)> {
    edns?.options().as_ref().iter().find_map(|(_, o)| match o {
        EdnsOption::Unknown(15, d) if d.len() >= 2 => Some((
            u16::from_be_bytes([d[0], d[1]]),
            String::from_utf8_lossy(&d[2..]).into_owned(),
        )),
        _ => None,
    })
}

/// Polls until `name` gets `want` (blocked or not); returns how long it took,
/// or None after `limit`.
pub async fn time_until(
    server: SocketAddr,
    name: &str,
    blocked: bool,
    limit: std::time::Duration,
) -> Option<std::time::Duration> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        let m = query_udp(server, name, RecordType::A).await;
        let is_blocked = m.metadata.response_code == hickory_proto::op::ResponseCode::NXDomain;
        if is_blocked == blocked {
            return Some(start.elapsed());
        }
        // A poll step: the answer changing ends it.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    None
}
