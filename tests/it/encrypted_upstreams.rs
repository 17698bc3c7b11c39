//! DoT and DoH upstreams against loopback TLS servers with a throwaway CA.

use std::net::Ipv4Addr;

use crate::support::upstream::BIG_NAME;
use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

fn tls_upstream(protocol: &str, up: &FakeUpstream, ca_file: &std::path::Path) -> String {
    format!(
        "[[upstream]]\nprotocol = \"{protocol}\"\naddress = \"{}\"\ntls_name = \"upstream.test\"\nca_file = \"{}\"\n",
        up.addr(),
        ca_file.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_over_dns_over_tls() {
    let ca = TestCa::new();
    let dir = TempDir::new();
    let ca_file = ca.write_ca_file(dir.path());
    let up = FakeUpstream::start_tls(&ca).await;
    let d = TestDaemon::start(&tls_upstream("tls", &up, &ca_file)).await;

    let r = query_udp(d.addr, "example.com", RecordType::A).await;
    assert_eq!(a_records(&r), vec![Ipv4Addr::new(93, 184, 215, 14)]);
    // A second question reuses the pooled TLS connection; a big answer needs no truncation upstream.
    let big = query_tcp(d.addr, BIG_NAME, RecordType::TXT).await;
    assert_eq!(big.answers.len(), crate::support::upstream::BIG_TXT_COUNT);
    assert_eq!(up.queries(), 2);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_over_dns_over_https() {
    let ca = TestCa::new();
    let dir = TempDir::new();
    let ca_file = ca.write_ca_file(dir.path());
    let up = FakeUpstream::start_https(&ca).await;
    let d = TestDaemon::start(&tls_upstream("https", &up, &ca_file)).await;

    let r = query_udp(d.addr, "example.com", RecordType::A).await;
    assert_eq!(a_records(&r), vec![Ipv4Addr::new(93, 184, 215, 14)]);
    let nx = query_udp(d.addr, "nx.example.com", RecordType::A).await;
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(up.queries(), 2);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_an_upstream_failure() {
    // The upstream's certificate is from one CA; we trust only another.
    let ca = TestCa::new();
    let other = TestCa::new();
    let dir = TempDir::new();
    let wrong_ca = other.write_ca_file(dir.path());
    let up = FakeUpstream::start_tls(&ca).await;
    let d = TestDaemon::start(&tls_upstream("tls", &up, &wrong_ca)).await;
    let r = query_udp(d.addr, "example.com", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(
        up.queries(),
        0,
        "no query may cross an unverified connection"
    );
    d.stop().await;
}

use crate::support::pipelined::{Mode, Server, address_of};
use std::time::Duration;

/// A DoT upstream at `addr` (certificates from the CA in `ca_file`).
fn dot_at(addr: std::net::SocketAddr, ca_file: &std::path::Path, protocol: &str) -> String {
    format!(
        "[[upstream]]\nprotocol = \"{protocol}\"\naddress = \"{addr}\"\ntls_name = \"upstream.test\"\nca_file = \"{}\"\ntimeout = \"5s\"\n",
        ca_file.display()
    )
}

/// A CA, the folder its PEM file is in (removed when dropped), and the file.
fn throwaway_ca() -> (TestCa, TempDir, std::path::PathBuf) {
    let ca = TestCa::new();
    let dir = TempDir::new();
    let ca_file = ca.write_ca_file(dir.path());
    (ca, dir, ca_file)
}

/// The value of one `/metrics` sample (`name{labels}` as printed).
fn metric(d: &TestDaemon, sample: &str) -> u64 {
    let text = d.metrics();
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {sample} in /metrics:\n{text}"))
        .parse::<f64>()
        .unwrap() as u64
}

/// Asks `q<i>.example.net` for every i in `range` at once; checks each
/// client got its own answer.
async fn ask_all(d: &TestDaemon, range: std::ops::Range<u32>) {
    let mut asks = tokio::task::JoinSet::new();
    for i in range {
        let addr = d.addr;
        asks.spawn(async move {
            let r = query_udp(addr, &format!("q{i}.example.net"), RecordType::A).await;
            assert_eq!(r.metadata.response_code, ResponseCode::NoError, "q{i}");
            assert_eq!(
                a_records(&r),
                vec![address_of(i)],
                "q{i} got another's answer"
            );
        });
    }
    while let Some(done) = asks.join_next().await {
        done.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_misses_share_at_most_four_dot_connections() {
    let (ca, _dir, ca_file) = throwaway_ca();
    // Slow enough that the misses are all in flight together.
    let delay = Duration::from_millis(200);
    let up = Server::dot(&ca, Mode::Answer { delay }).await;
    let d = TestDaemon::start(&dot_at(up.addr, &ca_file, "tls")).await;

    ask_all(&d, 0..500).await;
    assert_eq!(up.queries(), 500);
    assert!(
        (1..=4).contains(&up.accepted()),
        "{} connections for 500 misses",
        up.accepted()
    );
    assert!(up.peak_in_flight() > 4, "the queries were pipelined");
    let handshakes = metric(&d, "nestguard_upstream_tls_handshakes_total{kind=\"full\"}")
        + metric(
            &d,
            "nestguard_upstream_tls_handshakes_total{kind=\"resumed\"}",
        );
    assert_eq!(handshakes, up.accepted() as u64);
    assert_eq!(
        metric(&d, "nestguard_upstream_connections_opened_total"),
        up.accepted() as u64
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_answers_in_another_order_reach_their_own_queries() {
    let (ca, _dir, ca_file) = throwaway_ca();
    // Eight queries held, then answered last first.
    let up = Server::dot(&ca, Mode::Reverse { batch: 8 }).await;
    let d = TestDaemon::start(&dot_at(up.addr, &ca_file, "tls")).await;
    ask_all(&d, 100..108).await;
    assert_eq!(up.accepted(), 1);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dot_connection_closed_with_queries_in_flight_loses_none() {
    let (ca, _dir, ca_file) = throwaway_ca();
    // The first connection takes 20 queries and closes unanswered.
    let up = Server::dot(&ca, Mode::CloseFirst { queries: 20 }).await;
    let d = TestDaemon::start(&dot_at(up.addr, &ca_file, "tls")).await;
    ask_all(&d, 0..20).await;
    assert!(up.accepted() >= 2, "a new connection carried them");
    // What the first connection dropped (all 20, or what came within its
    // wait on a slow host), and any query still queued on it, went again.
    assert!(up.unanswered() >= 1);
    assert!(metric(&d, "nestguard_upstream_resent_total") >= up.unanswered() as u64);
    assert!(metric(&d, "nestguard_upstream_reconnects_total") >= 1);
    assert_eq!(metric(&d, "nestguard_upstream_failures_total"), 0);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dot_reconnect_resumes_the_tls_session() {
    let (ca, _dir, ca_file) = throwaway_ca();
    let delay = Duration::ZERO;
    let up = Server::dot(&ca, Mode::Answer { delay }).await;
    let d = TestDaemon::start(&dot_at(up.addr, &ca_file, "tls")).await;
    ask_all(&d, 0..1).await;
    // The upstream restarts its connections; the next miss opens a new one.
    up.close_connections();
    for _ in 0..200 {
        if up.open() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    ask_all(&d, 1..2).await;
    assert_eq!(up.accepted(), 2);
    assert_eq!(
        up.resumed(),
        1,
        "the second handshake resumed the first session"
    );
    let kind = |k: &str| {
        metric(
            &d,
            &format!("nestguard_upstream_tls_handshakes_total{{kind=\"{k}\"}}"),
        )
    };
    assert_eq!((kind("full"), kind("resumed")), (1, 1));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doh_keeps_to_the_servers_max_concurrent_streams() {
    let (ca, _dir, ca_file) = throwaway_ca();
    let up = Server::doh(&ca, 4, Duration::from_millis(50)).await;
    let d = TestDaemon::start(&dot_at(up.addr, &ca_file, "https")).await;
    // One query first, so the server's SETTINGS (4 streams) are known
    // before the burst: streams opened before them may be refused.
    ask_all(&d, 0..1).await;
    ask_all(&d, 1..41).await;
    // 40 at once against 4 streams per connection: more connections, never
    // more than the pool allows, none with more than 4 streams.
    let conns = up.accepted();
    assert!(
        (2..=4).contains(&conns),
        "{conns} connections for 40 queries at 4 streams each"
    );
    assert!(
        up.peak_on_one_connection() <= 4,
        "{} streams at once on one connection",
        up.peak_on_one_connection()
    );
    assert_eq!(up.queries(), 41, "each query sent once");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doh_uses_one_connection_while_it_has_room() {
    let (ca, _dir, ca_file) = throwaway_ca();
    let up = Server::doh(&ca, 100, Duration::from_millis(50)).await;
    let d = TestDaemon::start(&dot_at(up.addr, &ca_file, "https")).await;
    ask_all(&d, 0..1).await;
    ask_all(&d, 1..61).await;
    assert_eq!(up.accepted(), 1, "60 streams fit in one connection");
    assert!(
        up.peak_on_one_connection() > 1,
        "the streams were concurrent"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_an_open_doh_connection_is_prompt_and_closes_it() {
    let (ca, _dir, ca_file) = throwaway_ca();
    let up = Server::doh(&ca, 100, Duration::ZERO).await;
    let d = TestDaemon::start(&dot_at(up.addr, &ca_file, "https")).await;
    ask_all(&d, 0..3).await;
    assert_eq!(up.open(), 1);
    // Whatever still holds the resolver after shutdown (a task the drain
    // timeout cut off, say) must not keep the connection open.
    let resolver = d.daemon.resolver.clone();
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(10), d.stop())
        .await
        .expect("shutdown finishes");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown took {:?}",
        started.elapsed()
    );
    // The daemon's end closes the connection (the upstream sees it go).
    for _ in 0..200 {
        if up.open() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(up.open(), 0, "the DoH connection outlived the daemon");
    drop(resolver);
}
