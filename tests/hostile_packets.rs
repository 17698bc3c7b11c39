//! 10,000 random and mutated packets at the running daemon, over UDP and TCP,
//! with real queries in between: every real query is answered, nothing panics,
//! and memory stays within a bound.
//!
//! In a file of its own so the process's RSS is this daemon's and this test's.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests say what failed by panicking

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::client::{build_query, encode};
use support::*;
use tokio::io::AsyncWriteExt;

const PACKETS: usize = 10_000;
/// A real query after every this many hostile packets.
const EVERY: usize = 100;
/// RSS growth allowed from the warmed-up daemon to the end of the flood. The
/// cache legitimately takes in the mutated names that are valid queries
/// (a few thousand entries of a few hundred bytes).
const RSS_BOUND_KIB: u64 = 16 * 1024;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A valid query to start mutating from: a few names, types and EDNS shapes.
fn seed_query(rng: &mut StdRng) -> Vec<u8> {
    const NAMES: &[&str] = &[
        "example.com",
        "www.example.com",
        "pornhub.com",
        "www.google.com",
        "use-application-dns.net",
        "a.b.c.d.e.f.g.example.org",
    ];
    let name = NAMES[rng.random_range(0..NAMES.len())];
    let rtype = [
        RecordType::A,
        RecordType::AAAA,
        RecordType::HTTPS,
        RecordType::ANY,
    ][rng.random_range(0..4)];
    let opts = QueryOpts {
        edns: rng.random_bool(0.7).then_some(1232),
        dnssec_ok: rng.random_bool(0.3),
        id: rng.random(),
    };
    encode(&build_query(name, rtype, &opts))
}

/// One hostile packet: pure noise, or a valid query with some bytes
/// flipped, fields set to extremes, a pointer loop, or a cut.
fn hostile(rng: &mut StdRng) -> Vec<u8> {
    if rng.random_bool(0.25) {
        let len = rng.random_range(0..600);
        return (0..len).map(|_| rng.random()).collect();
    }
    let mut p = seed_query(rng);
    for _ in 0..rng.random_range(1..6) {
        let n = p.len();
        // Header edits need a header; a cut packet gets byte edits only.
        let ops = if n >= 14 { 7 } else { 2 };
        match rng.random_range(0..ops) {
            0 => {
                let i = rng.random_range(0..n);
                p[i] ^= 1 << rng.random_range(0..8);
            }
            1 => {
                let i = rng.random_range(0..n);
                p[i] = rng.random();
            }
            // QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT to 0, 2 or 0xffff.
            2 => {
                let at = 4 + 2 * rng.random_range(0..4);
                let v: u16 = [0, 2, 0xffff][rng.random_range(0..3)];
                p[at..at + 2].copy_from_slice(&v.to_be_bytes());
            }
            // A compression pointer to itself where the name starts.
            3 => {
                p[12] = 0xc0;
                p[13] = 12;
            }
            4 => p.truncate(rng.random_range(0..n)),
            5 => {
                let extra = rng.random_range(1..200);
                p.extend((0..extra).map(|_| rng.random::<u8>()));
            }
            // Opcode, flags and rcode bits at random (responses, NOTIFY, UPDATE…).
            _ => {
                p[2] = rng.random();
                p[3] = rng.random();
            }
        }
        if p.is_empty() {
            break;
        }
    }
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_hostile_packets_leave_the_daemon_answering() {
    let panics = Arc::new(AtomicUsize::new(0));
    let seen = panics.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));

    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    let flood = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    flood.connect(d.addr).await.unwrap();
    let mut tcp = tokio::net::TcpStream::connect(d.addr).await.unwrap();
    // Replies to the flood are read and counted, so no socket buffer fills.
    let replies = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (flood, replies) = (Arc::new(flood), replies.clone());
        let sock = flood.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 65_535];
            while let Ok(n) = sock.recv(&mut buf).await {
                assert!(n >= 12, "a reply shorter than a DNS header");
                replies.fetch_add(1, Ordering::Relaxed);
            }
        });
        (flood, task)
    };
    let (flood, reader_task) = reader;

    let mut rng = StdRng::seed_from_u64(0x6e65_7374);
    let mut baseline = None;
    let mut answered = 0;
    for i in 0..PACKETS {
        let packet = hostile(&mut rng);
        if i % 20 == 19 {
            // Over TCP too: a length prefix, then the packet (or a lie about its length).
            let len = if rng.random_bool(0.9) {
                packet.len()
            } else {
                rng.random_range(0..65_535)
            };
            let mut framed = (len as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&packet);
            if tcp.write_all(&framed).await.is_err() {
                // The daemon closed a connection that lied; open another.
                tcp = tokio::net::TcpStream::connect(d.addr).await.unwrap();
            }
        } else {
            let _ = flood.send(&packet).await;
        }
        if i % EVERY == EVERY - 1 {
            let real = query_udp(d.addr, "www.example.com", RecordType::A).await;
            assert_eq!(
                real.metadata.response_code,
                ResponseCode::NoError,
                "after packet {i}"
            );
            assert!(!a_records(&real).is_empty(), "after packet {i}");
            answered += 1;
            if i + 1 == 2_000 {
                // Warmed up: buffers, cache shards and tasks have reached their working size.
                baseline = Some(rss_kib());
            }
        }
    }
    // A last real query over TCP, on a fresh connection.
    let real = query_tcp(d.addr, "www.example.com", RecordType::A).await;
    assert!(!a_records(&real).is_empty());

    assert_eq!(answered, PACKETS / EVERY, "every real query was answered");
    let end = rss_kib();
    let baseline = baseline.unwrap();
    eprintln!(
        "RSS {baseline} KiB after 2,000 packets, {end} KiB after {PACKETS}; {} UDP replies to the flood",
        replies.load(Ordering::Relaxed)
    );
    assert!(
        end <= baseline + RSS_BOUND_KIB,
        "RSS grew from {baseline} KiB to {end} KiB"
    );
    assert!(
        replies.load(Ordering::Relaxed) > 0,
        "FORMERR and friends came back"
    );
    assert_eq!(panics.load(Ordering::SeqCst), 0, "a panic in the daemon");
    reader_task.abort();
    d.stop().await;
}
