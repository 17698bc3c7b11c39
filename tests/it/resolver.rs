//! The resolver over real loopback sockets: a real client, the real daemon, a
//! real (small) upstream server.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::support::client::{build_query, decode, encode};
use crate::support::upstream::{BIG_NAME, BIG_TXT_COUNT, NX_NAME, SLOW_NAME};
use crate::support::*;
use hickory_proto::op::{Edns, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{RData, RecordType};

fn ede_codes(edns: Option<&Edns>) -> Vec<u16> {
    edns.map(|e| {
        e.options()
            .as_ref()
            .iter()
            .filter_map(|(_, opt)| match opt {
                EdnsOption::Unknown(15, data) if data.len() >= 2 => {
                    Some(u16::from_be_bytes([data[0], data[1]]))
                }
                _ => None,
            })
            .collect()
    })
    .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_over_udp_and_tcp() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;

    let udp = query_udp(d.addr, "example.com", RecordType::A).await;
    assert_eq!(udp.metadata.response_code, ResponseCode::NoError);
    assert_eq!(a_records(&udp), vec![Ipv4Addr::new(93, 184, 215, 14)]);
    assert!(udp.metadata.recursion_available);

    let tcp = query_tcp(d.addr, "www.example.com", RecordType::A).await;
    assert_eq!(a_records(&tcp), vec![Ipv4Addr::new(93, 184, 215, 15)]);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_queries_hit_the_cache() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    let first = query_udp(d.addr, "example.com", RecordType::A).await;
    // Different case, different transport, same question: one upstream query in all.
    let second = query_tcp(d.addr, "EXAMPLE.com", RecordType::A).await;
    assert_eq!(a_records(&first), a_records(&second));
    assert_eq!(
        up.queries(),
        1,
        "the second answer must come from the cache"
    );
    assert_eq!(
        second.queries[0].name().to_ascii(),
        "EXAMPLE.com.",
        "client's spelling echoed"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_counts_down_in_cached_answers() {
    let up = FakeUpstream::start().await;
    let (d, clock) = TestDaemon::start_manual(&udp_upstream(up.addr(), "1s")).await;
    let first = min_answer_ttl(&query_udp(d.addr, "example.com", RecordType::A).await).unwrap();
    assert_eq!(first, 300);
    // Two seconds pass for the daemon (its clock moves on; no waiting).
    clock.advance(std::time::Duration::from_secs(2));
    let later = min_answer_ttl(&query_udp(d.addr, "example.com", RecordType::A).await).unwrap();
    assert!((297..=298).contains(&later), "TTL after 2 s was {later}");
    assert_eq!(up.queries(), 1);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_answers_are_cached_with_their_soa() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    for _ in 0..3 {
        let nx = query_udp(d.addr, NX_NAME, RecordType::A).await;
        assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
        let soa = &nx.authorities[0];
        assert_eq!(soa.record_type(), RecordType::SOA);
        // RFC 2308: the negative TTL is min(SOA TTL 300, MINIMUM 60).
        assert!(soa.ttl <= 60, "negative TTL {}", soa.ttl);
    }
    assert_eq!(up.queries(), 1, "NXDOMAIN cached");

    // NODATA: the name exists, the type does not.
    for _ in 0..2 {
        let nodata = query_udp(d.addr, "example.com", RecordType::AAAA).await;
        assert_eq!(nodata.metadata.response_code, ResponseCode::NoError);
        assert!(nodata.answers.is_empty());
    }
    assert_eq!(up.queries(), 2, "NODATA cached");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_over_from_a_dead_upstream_to_a_live_one() {
    let dead = FakeUpstream::start().await;
    let dead_addr = dead.addr();
    dead.stop_and_wait().await;
    let live = FakeUpstream::start().await;
    let config = format!(
        "{}{}",
        udp_upstream(dead_addr, "500ms"),
        udp_upstream(live.addr(), "1s")
    );
    let d = TestDaemon::start(&config).await;
    let r = query_udp(d.addr, "example.com", RecordType::A).await;
    assert_eq!(a_records(&r), vec![Ipv4Addr::new(93, 184, 215, 14)]);
    assert_eq!(live.queries(), 1);

    // A silent upstream (answers nothing in time) fails over too.
    let slow_first = format!(
        "{}{}",
        udp_upstream(live.addr(), "300ms"),
        udp_upstream(live.addr(), "5s")
    );
    let d2 = TestDaemon::start(&slow_first).await;
    let r = query_udp(d2.addr, SLOW_NAME, RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert_eq!(a_records(&r), vec![Ipv4Addr::new(192, 0, 2, 1)]);
    d.stop().await;
    d2.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_stale_when_every_upstream_is_down() {
    let up = FakeUpstream::start().await;
    up.set_a("fleeting.example.com.", Ipv4Addr::new(198, 51, 100, 7), 1);
    let (d, clock) = TestDaemon::start_manual(&udp_upstream(up.addr(), "1s")).await;
    let fresh = query_udp(d.addr, "fleeting.example.com", RecordType::A).await;
    assert_eq!(a_records(&fresh), vec![Ipv4Addr::new(198, 51, 100, 7)]);
    up.stop_and_wait().await;
    clock.advance(std::time::Duration::from_secs(2));

    let stale = query_udp(d.addr, "fleeting.example.com", RecordType::A).await;
    assert_eq!(stale.metadata.response_code, ResponseCode::NoError);
    assert_eq!(a_records(&stale), vec![Ipv4Addr::new(198, 51, 100, 7)]);
    assert_eq!(min_answer_ttl(&stale), Some(30), "RFC 8767 stale TTL");
    assert_eq!(
        ede_codes(stale.edns.as_ref()),
        vec![3],
        "EDE 3 Stale Answer"
    );

    // Never seen before, nothing stale to serve: SERVFAIL with EDE 22.
    let none = query_udp(d.addr, "never.example.com", RecordType::A).await;
    assert_eq!(none.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(ede_codes(none.edns.as_ref()), vec![22]);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_answers_truncate_over_udp_and_complete_over_tcp() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    let udp = query_udp(d.addr, BIG_NAME, RecordType::TXT).await;
    assert!(udp.metadata.truncation, "TC must be set");
    assert!(udp.answers.is_empty());
    let tcp = query_tcp(d.addr, BIG_NAME, RecordType::TXT).await;
    assert!(!tcp.metadata.truncation);
    assert_eq!(tcp.answers.len(), BIG_TXT_COUNT);

    // A classic client (no EDNS) gets at most 512 bytes.
    let opts = QueryOpts {
        edns: None,
        ..QueryOpts::default()
    };
    let classic = query_udp_with(d.addr, BIG_NAME, RecordType::TXT, &opts).await;
    assert!(classic.metadata.truncation);
    assert!(classic.edns.is_none(), "no OPT for a client that sent none");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_gets_formerr_or_nothing_and_service_goes_on() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    // Too short for a header: dropped.
    assert!(
        send_raw_udp(d.addr, b"\x01\x02\x03", Duration::from_millis(200))
            .await
            .is_none()
    );
    // A header claiming a question that is not there: FORMERR with our ID.
    let reply = send_raw_udp(
        d.addr,
        b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3fxx",
        Duration::from_secs(2),
    )
    .await
    .expect("FORMERR reply");
    let m = decode(&reply);
    assert_eq!(m.metadata.id, 0xabcd);
    assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
    // Random bytes of every length: never a crash.
    for len in 0..64usize {
        let junk: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
        let _ = send_raw_udp(d.addr, &junk, Duration::from_millis(20)).await;
    }
    // A response packet is not answered (no reflection loops).
    let mut resp = encode(&build_query(
        "example.com",
        RecordType::A,
        &QueryOpts::default(),
    ));
    resp[2] |= 0x80;
    assert!(
        send_raw_udp(d.addr, &resp, Duration::from_millis(200))
            .await
            .is_none()
    );

    let ok = query_udp(d.addr, "example.com", RecordType::A).await;
    assert_eq!(a_records(&ok), vec![Ipv4Addr::new(93, 184, 215, 14)]);
    let ok = query_tcp(d.addr, "example.com", RecordType::A).await;
    assert_eq!(ok.metadata.response_code, ResponseCode::NoError);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_queries_in_flight_share_one_upstream_query() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::start(&udp_upstream(up.addr(), "5s")).await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        let addr = d.addr;
        clients.push(tokio::spawn(async move {
            query_udp(addr, SLOW_NAME, RecordType::A).await
        }));
    }
    for c in clients {
        let r = c.await.unwrap();
        assert_eq!(a_records(&r), vec![Ipv4Addr::new(192, 0, 2, 1)]);
    }
    // The one query may be sent again while the slow upstream thinks: same ID.
    assert_eq!(
        up.exchanges(),
        1,
        "20 identical questions, one upstream query"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_pipelined_queries_are_answered_out_of_order() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::start(&udp_upstream(up.addr(), "5s")).await;
    let queries = [
        (SLOW_NAME.to_string(), RecordType::A),
        ("example.com.".to_string(), RecordType::A),
        ("www.example.com.".to_string(), RecordType::A),
    ];
    let answers = tcp_pipeline(d.addr, &queries).await;
    assert_eq!(answers.len(), 3);
    assert_eq!(a_records(&answers[0]), vec![Ipv4Addr::new(192, 0, 2, 1)]);
    assert_eq!(
        a_records(&answers[2]),
        vec![Ipv4Addr::new(93, 184, 215, 15)]
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dnssec_ok_bit_and_unknown_types_pass_through() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    let opts = QueryOpts {
        dnssec_ok: true,
        ..QueryOpts::default()
    };
    let r = query_udp_with(d.addr, "example.com", RecordType::A, &opts).await;
    let edns = r.edns.as_ref().expect("OPT in answer to an EDNS query");
    assert!(edns.flags().dnssec_ok, "DO bit echoed");
    assert_eq!(edns.max_payload(), 1232);

    // TYPE65400 is unassigned: forwarded as is, the upstream's NODATA comes back.
    let unknown = query_udp(d.addr, "example.com", RecordType::Unknown(65400)).await;
    assert_eq!(unknown.metadata.response_code, ResponseCode::NoError);
    assert_eq!(unknown.queries[0].query_type(), RecordType::Unknown(65400));
    assert!(matches!(unknown.authorities[0].data, RData::SOA(_)));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_what_a_forwarder_must_not_do() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    let axfr = query_tcp(d.addr, "example.com", RecordType::AXFR).await;
    assert_eq!(axfr.metadata.response_code, ResponseCode::Refused);
    assert_eq!(up.queries(), 0);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_servfail_is_passed_on_and_not_cached() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    for _ in 0..2 {
        let r = query_udp(
            d.addr,
            crate::support::upstream::SERVFAIL_NAME,
            RecordType::A,
        )
        .await;
        assert_eq!(r.metadata.response_code, ResponseCode::ServFail);
    }
    assert_eq!(up.queries(), 2);
    d.stop().await;
}

/// More datagrams than one receive batch holds, queued at once: cached
/// answers, upstream misses and malformed packets mixed inside each batch.
/// Every one is answered, with its own ID and the right rcode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_burst_of_mixed_queries_is_answered_in_full() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    // Warm the cache for the "cached" kind.
    let warm = query_udp(d.addr, "example.com", RecordType::A).await;
    assert_eq!(warm.metadata.response_code, ResponseCode::NoError);

    const N: u16 = 200;
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let expected = |id: u16| match id % 3 {
        0 => ResponseCode::NoError,  // cached
        1 => ResponseCode::NXDomain, // a miss: asked upstream
        _ => ResponseCode::FormErr,  // a question that is not there
    };
    for id in 0..N {
        let bytes = match id % 3 {
            0 => encode(&build_query(
                "example.com",
                RecordType::A,
                &QueryOpts::default(),
            )),
            1 => encode(&build_query(
                &format!("q{id}.{NX_NAME}"),
                RecordType::A,
                &QueryOpts::default(),
            )),
            _ => b"\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3fxx".to_vec(),
        };
        let mut bytes = bytes;
        bytes[..2].copy_from_slice(&id.to_be_bytes());
        sock.send_to(&bytes, d.addr).await.unwrap();
    }
    let mut seen = vec![false; usize::from(N)];
    let mut buf = vec![0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while seen.iter().any(|s| !s) {
        let (n, _) = tokio::time::timeout_at(deadline, sock.recv_from(&mut buf))
            .await
            .expect("every query of the burst is answered within 10 s")
            .unwrap();
        let m = decode(&buf[..n]);
        let id = m.metadata.id;
        assert!(id < N, "reply with an ID we did not send: {id}");
        assert!(!seen[usize::from(id)], "two replies to query {id}");
        assert_eq!(m.metadata.response_code, expected(id), "query {id}");
        seen[usize::from(id)] = true;
    }
    d.stop().await;
}

/// A query the upstream never answered (lost on a lossy link) is sent again
/// after a few round trips, long before the upstream's timeout: the client,
/// which gives up after 5 s here, gets its answer although the timeout is 10 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_upstream_query_is_sent_again() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::start(&udp_upstream(up.addr(), "10s")).await;
    let reply = query_udp(d.addr, crate::support::upstream::LOSSY_NAME, RecordType::A).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(a_records(&reply), vec![Ipv4Addr::new(192, 0, 2, 9)]);
    assert_eq!(up.queries(), 2, "the dropped query and the one sent again");
    d.stop().await;
}

/// Waits (bounded) until the upstream has seen `n` queries.
async fn upstream_reaches(up: &FakeUpstream, n: usize) {
    for _ in 0..500 {
        if up.queries() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_asked_for_near_its_end_is_refreshed_once_in_the_background() {
    let up = FakeUpstream::start().await;
    up.set_a("popular.example.com", Ipv4Addr::new(192, 0, 2, 40), 100);
    let (d, clock) = TestDaemon::start_manual(&udp_upstream(up.addr(), "2s")).await;
    let ask = || query_udp(d.addr, "popular.example.com", RecordType::A);

    ask().await;
    assert_eq!(up.queries(), 1);
    // 11 s of 100 left: not yet.
    clock.advance(std::time::Duration::from_secs(89));
    ask().await;
    assert_eq!(up.queries(), 1);
    // 10 s left: the client is answered from the cache and the name refreshed.
    clock.advance(std::time::Duration::from_secs(1));
    up.set_a("popular.example.com", Ipv4Addr::new(192, 0, 2, 41), 100);
    let r = ask().await;
    assert_eq!(a_records(&r), vec![Ipv4Addr::new(192, 0, 2, 40)]);
    upstream_reaches(&up, 2).await;
    assert_eq!(up.queries(), 2);
    assert!(d.metrics().contains("nestguard_prefetches_total 1\n"));
    // Past the old answer's end: the refreshed one answers, no miss.
    clock.advance(std::time::Duration::from_secs(20));
    let r = ask().await;
    assert_eq!(a_records(&r), vec![Ipv4Addr::new(192, 0, 2, 41)]);
    assert_eq!(up.queries(), 2, "the name in use never became a miss");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_is_claimed_once_and_prefetch_can_be_turned_off() {
    let up = FakeUpstream::start().await;
    up.set_a("popular.example.com", Ipv4Addr::new(192, 0, 2, 40), 100);
    // The upstream holds the refresh, so later asks find it claimed, not done.
    up.set_delay("popular.example.com", std::time::Duration::from_millis(300));
    let config = udp_upstream(up.addr(), "2s");
    let (d, clock) = TestDaemon::start_manual(&config).await;
    query_udp(d.addr, "popular.example.com", RecordType::A).await;
    clock.advance(std::time::Duration::from_secs(95));
    for _ in 0..5 {
        query_udp(d.addr, "popular.example.com", RecordType::A).await;
    }
    upstream_reaches(&up, 2).await;
    assert_eq!(up.queries(), 2, "one refresh however often it is asked for");
    d.stop().await;

    let up = FakeUpstream::start().await;
    up.set_a("popular.example.com", Ipv4Addr::new(192, 0, 2, 40), 100);
    let config = format!(
        "{}\n[cache]\nprefetch = false\n",
        udp_upstream(up.addr(), "2s")
    );
    let (d, clock) = TestDaemon::start_manual(&config).await;
    query_udp(d.addr, "popular.example.com", RecordType::A).await;
    clock.advance(std::time::Duration::from_secs(95));
    query_udp(d.addr, "popular.example.com", RecordType::A).await;
    clock.advance(std::time::Duration::from_secs(10));
    query_udp(d.addr, "popular.example.com", RecordType::A).await;
    assert_eq!(up.queries(), 2, "off: the answer expires into a miss");
    assert!(d.metrics().contains("nestguard_prefetches_total 0\n"));
    d.stop().await;
}
