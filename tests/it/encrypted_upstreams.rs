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
