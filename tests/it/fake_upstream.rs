//! Self-test of the test-support fake upstream and client.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::support::client::{self, build_query, encode, read_framed, write_framed};
use crate::support::upstream::{BIG_TXT_COUNT, BIG_TXT_LEN, SOA_MINIMUM, SOA_TTL};
use crate::support::{
    FakeUpstream, QueryOpts, TempDir, TestCa, a_records, aaaa_records, min_answer_ttl, query_tcp,
    query_tcp_with, query_udp, query_udp_with, send_raw_udp, tcp_pipeline,
};
use bytes::Bytes;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

fn assert_soa_authority(msg: &Message) {
    assert_eq!(msg.authorities.len(), 1, "one SOA in authority: {msg:?}");
    let soa = &msg.authorities[0];
    assert_eq!(soa.name.to_ascii(), "example.com.");
    assert_eq!(soa.ttl, SOA_TTL);
    match &soa.data {
        RData::SOA(soa) => assert_eq!(soa.minimum, SOA_MINIMUM),
        other => panic!("expected SOA, got {other:?}"),
    }
}

#[tokio::test]
async fn a_over_udp_and_tcp() {
    let up = FakeUpstream::start().await;
    let udp = query_udp(up.addr(), "example.com", RecordType::A).await;
    assert_eq!(udp.metadata.response_code, ResponseCode::NoError);
    assert!(udp.metadata.authoritative && udp.metadata.recursion_available);
    assert!(udp.metadata.recursion_desired);
    assert_eq!(a_records(&udp), vec![Ipv4Addr::new(93, 184, 215, 14)]);
    assert_eq!(min_answer_ttl(&udp), Some(300));
    let edns = udp.edns.as_ref().expect("OPT echoed");
    assert_eq!(edns.max_payload(), 1232);
    assert!(!edns.flags().dnssec_ok);

    let tcp = query_tcp(up.addr(), "WWW.Example.COM.", RecordType::A).await;
    assert_eq!(a_records(&tcp), vec![Ipv4Addr::new(93, 184, 215, 15)]);

    let short = query_udp(up.addr(), "short.example.com", RecordType::A).await;
    assert_eq!(min_answer_ttl(&short), Some(2));

    assert_eq!(up.queries(), 3);
    up.reset_count();
    assert_eq!(up.queries(), 0);
}

#[tokio::test]
async fn id_edns_and_do_bit_are_echoed() {
    let up = FakeUpstream::start().await;
    let opts = QueryOpts {
        edns: Some(4096),
        dnssec_ok: true,
        id: 0xBEEF,
    };
    let msg = query_udp_with(up.addr(), "example.com.", RecordType::A, &opts).await;
    assert_eq!(msg.metadata.id, 0xBEEF);
    assert_eq!(msg.queries.len(), 1);
    assert_eq!(msg.queries[0].query_type(), RecordType::A);
    let edns = msg.edns.as_ref().expect("OPT echoed");
    assert!(edns.flags().dnssec_ok);

    let no_edns = QueryOpts {
        edns: None,
        ..QueryOpts::default()
    };
    let msg = query_udp_with(up.addr(), "example.com.", RecordType::A, &no_edns).await;
    assert!(msg.edns.is_none());
}

#[tokio::test]
async fn negative_answers() {
    let up = FakeUpstream::start().await;
    for name in ["nx.example.com", "deep.nx.example.com", "unknown.test"] {
        let msg = query_udp(up.addr(), name, RecordType::A).await;
        assert_eq!(msg.metadata.response_code, ResponseCode::NXDomain, "{name}");
        assert!(msg.answers.is_empty());
        assert_soa_authority(&msg);
    }

    let nodata = query_udp(up.addr(), "example.com", RecordType::AAAA).await;
    assert_eq!(nodata.metadata.response_code, ResponseCode::NoError);
    assert!(nodata.answers.is_empty());
    assert_soa_authority(&nodata);

    let servfail = query_tcp(up.addr(), "servfail.example.com", RecordType::A).await;
    assert_eq!(servfail.metadata.response_code, ResponseCode::ServFail);
}

#[tokio::test]
async fn configurable_records() {
    let up = FakeUpstream::start().await;
    up.set_a("Added.Example.com", Ipv4Addr::new(192, 0, 2, 7), 42);
    up.set_aaaa("added.example.com.", Ipv6Addr::LOCALHOST, 43);
    let a = query_udp(up.addr(), "added.example.com", RecordType::A).await;
    assert_eq!(a_records(&a), vec![Ipv4Addr::new(192, 0, 2, 7)]);
    assert_eq!(min_answer_ttl(&a), Some(42));
    let aaaa = query_tcp(up.addr(), "added.example.com", RecordType::AAAA).await;
    assert_eq!(aaaa_records(&aaaa), vec![Ipv6Addr::LOCALHOST]);
}

#[tokio::test]
async fn big_truncates_over_udp_only() {
    let up = FakeUpstream::start().await;
    let udp = query_udp(up.addr(), "big.example.com", RecordType::TXT).await;
    assert!(udp.metadata.truncation, "TC over UDP with EDNS 1232");
    assert!(udp.answers.is_empty());

    let tcp = query_tcp(up.addr(), "big.example.com", RecordType::TXT).await;
    assert!(!tcp.metadata.truncation);
    assert_eq!(tcp.answers.len(), BIG_TXT_COUNT);
    match &tcp.answers[0].data {
        RData::TXT(txt) => assert_eq!(txt.txt_data[0].len(), BIG_TXT_LEN),
        other => panic!("expected TXT, got {other:?}"),
    }

    let big_edns = QueryOpts {
        edns: Some(8192),
        ..QueryOpts::default()
    };
    let udp = query_udp_with(up.addr(), "big.example.com", RecordType::TXT, &big_edns).await;
    assert!(!udp.metadata.truncation);
    assert_eq!(udp.answers.len(), BIG_TXT_COUNT);

    let tcp_no_edns = QueryOpts {
        edns: None,
        ..QueryOpts::default()
    };
    let tcp = query_tcp_with(up.addr(), "big.example.com", RecordType::TXT, &tcp_no_edns).await;
    assert_eq!(tcp.answers.len(), BIG_TXT_COUNT);
}

#[tokio::test]
async fn tcp_pipelining() {
    let up = FakeUpstream::start().await;
    let queries = vec![
        ("example.com".to_string(), RecordType::A),
        ("www.example.com".to_string(), RecordType::A),
        ("nx.example.com".to_string(), RecordType::A),
    ];
    let replies = tcp_pipeline(up.addr(), &queries).await;
    assert_eq!(replies.len(), 3);
    assert_eq!(
        a_records(&replies[0]),
        vec![Ipv4Addr::new(93, 184, 215, 14)]
    );
    assert_eq!(
        a_records(&replies[1]),
        vec![Ipv4Addr::new(93, 184, 215, 15)]
    );
    assert_eq!(replies[2].metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(up.queries(), 3);
}

#[tokio::test]
async fn slow_name_is_slow() {
    let up = FakeUpstream::start().await;
    let start = Instant::now();
    let msg = query_udp(up.addr(), "slow.example.com", RecordType::A).await;
    assert!(start.elapsed() >= Duration::from_millis(2900));
    assert_eq!(a_records(&msg).len(), 1);
}

#[tokio::test]
async fn garbage_gets_formerr_or_silence() {
    let up = FakeUpstream::start().await;
    let reply = send_raw_udp(
        up.addr(),
        &[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff],
        Duration::from_secs(2),
    )
    .await
    .expect("FORMERR reply");
    let msg = client::decode(&reply);
    assert_eq!(msg.metadata.id, 0x1234);
    assert_eq!(msg.metadata.response_code, ResponseCode::FormErr);
    assert!(
        send_raw_udp(up.addr(), &[1, 2, 3], Duration::from_millis(200))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn stop_makes_it_dead() {
    let up = FakeUpstream::start().await;
    let query = encode(&build_query(
        "example.com",
        RecordType::A,
        &QueryOpts::default(),
    ));
    assert!(
        send_raw_udp(up.addr(), &query, Duration::from_secs(2))
            .await
            .is_some()
    );

    up.stop();
    assert!(
        send_raw_udp(up.addr(), &query, Duration::from_millis(500))
            .await
            .is_none(),
        "no UDP answer after stop"
    );
    up.stop_and_wait().await;
    assert!(
        TcpStream::connect(up.addr()).await.is_err(),
        "TCP refused after stop"
    );
}

#[tokio::test]
async fn dot_round_trip() {
    let ca = TestCa::new();
    let up = FakeUpstream::start_tls(&ca).await;
    let connector = TlsConnector::from(ca.client_config(&[b"dot"]));

    let tcp = TcpStream::connect(up.addr()).await.expect("connect DoT");
    let mut tls = connector
        .connect(TestCa::server_name(), tcp)
        .await
        .expect("TLS handshake");
    // Two queries on one connection.
    for name in ["example.com", "big.example.com"] {
        let rtype = if name.starts_with("big") {
            RecordType::TXT
        } else {
            RecordType::A
        };
        let query = build_query(name, rtype, &QueryOpts::default());
        write_framed(&mut tls, &encode(&query)).await;
        let reply = client::decode(&read_framed(&mut tls).await.expect("DoT reply"));
        assert_eq!(reply.metadata.id, query.metadata.id);
        assert!(!reply.answers.is_empty(), "{name}");
    }
    assert_eq!(up.queries(), 2);
}

async fn doh_request(
    ca: &TestCa,
    addr: SocketAddr,
    request: http::Request<()>,
    body: Option<Vec<u8>>,
) -> (http::StatusCode, Vec<u8>) {
    let connector = TlsConnector::from(ca.client_config(&[b"h2"]));
    let tcp = TcpStream::connect(addr).await.expect("connect DoH");
    let tls = connector
        .connect(TestCa::server_name(), tcp)
        .await
        .expect("TLS handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, conn) = h2::client::handshake(tls).await.expect("h2 handshake");
    let driver = tokio::spawn(conn);
    let mut send = send.ready().await.expect("h2 ready");
    let (response, mut stream) = send
        .send_request(request, body.is_none())
        .expect("send request");
    if let Some(body) = body {
        stream
            .send_data(Bytes::from(body), true)
            .expect("send body");
    }
    let response = response.await.expect("DoH response");
    let status = response.status();
    let mut recv = response.into_body();
    let mut data = Vec::new();
    while let Some(chunk) = recv.data().await {
        let chunk = chunk.expect("body chunk");
        let _ = recv.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    driver.abort();
    (status, data)
}

#[tokio::test]
async fn doh_round_trip() {
    let ca = TestCa::new();
    let up = FakeUpstream::start_https(&ca).await;
    let authority = format!("upstream.test:{}", up.addr().port());

    let query = build_query("example.com", RecordType::A, &QueryOpts::default());
    let request = http::Request::post(format!("https://{authority}/dns-query"))
        .header("content-type", "application/dns-message")
        .header("accept", "application/dns-message")
        .body(())
        .expect("request");
    let (status, body) = doh_request(&ca, up.addr(), request, Some(encode(&query))).await;
    assert_eq!(status, http::StatusCode::OK);
    let reply = client::decode(&body);
    assert_eq!(reply.metadata.id, query.metadata.id);
    assert_eq!(a_records(&reply), vec![Ipv4Addr::new(93, 184, 215, 14)]);

    // GET with id 0 as RFC 8484 recommends; big answers are never truncated.
    let get_query = build_query(
        "big.example.com",
        RecordType::TXT,
        &QueryOpts {
            id: 0,
            ..QueryOpts::default()
        },
    );
    let dns = crate::support::upstream::base64url_encode(&encode(&get_query));
    let request = http::Request::get(format!("https://{authority}/dns-query?dns={dns}"))
        .body(())
        .expect("request");
    let (status, body) = doh_request(&ca, up.addr(), request, None).await;
    assert_eq!(status, http::StatusCode::OK);
    assert_eq!(client::decode(&body).answers.len(), BIG_TXT_COUNT);

    let request = http::Request::post(format!("https://{authority}/wrong"))
        .body(())
        .expect("request");
    let (status, _) = doh_request(&ca, up.addr(), request, Some(vec![0; 12])).await;
    assert_eq!(status, http::StatusCode::NOT_FOUND);
    assert_eq!(up.queries(), 2);
}

#[test]
fn base64url_round_trip() {
    for len in 0..20 {
        let data: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
        let enc = crate::support::upstream::base64url_encode(&data);
        assert!(!enc.contains('='));
        assert_eq!(crate::support::upstream::base64url_decode(&enc), Some(data));
    }
    assert_eq!(
        crate::support::upstream::base64url_encode(b"hello"),
        "aGVsbG8"
    );
}

#[test]
fn temp_dir_and_ca_file() {
    let ca = TestCa::new();
    let path;
    {
        let dir = TempDir::new();
        path = ca.write_ca_file(dir.path());
        let pem = std::fs::read_to_string(&path).expect("read CA file");
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(pem, ca.ca_pem());
    }
    assert!(!path.exists(), "TempDir removed on drop");
}
