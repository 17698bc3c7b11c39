//! Robust under attack and failure, over real sockets: who may ask (the
//! access list), how fast (the rate limit), and failing closed for children.

mod support;

use std::net::Ipv4Addr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use support::*;

const OPEN: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_off_the_access_list_are_refused() {
    let up = FakeUpstream::start().await;
    up.set_a("example.com.", OPEN, 300);
    // 127.0.0.3 stands for a client outside the allowed networks.
    let d = TestDaemon::with_upstream(
        &up,
        "[server]\nlisten = [\"127.0.0.1:0\"]\ndeny = [\"127.0.0.3\"]\n",
    )
    .await;
    let m = query_from("127.0.0.3", d.addr, "example.com", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    assert_eq!(
        ede(m.edns.as_ref()).map(|e| e.0),
        Some(18),
        "EDE 18 Prohibited"
    );
    let m = query_from("127.0.0.1", d.addr, "example.com", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN]);
    d.stop().await;

    // An allow list that leaves 127.0.0.2 out.
    let d = TestDaemon::with_upstream(
        &up,
        "[server]\nlisten = [\"127.0.0.1:0\"]\nallow = [\"127.0.0.1/32\"]\n",
    )
    .await;
    let m = query_from("127.0.0.2", d.addr, "example.com", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    // Junk from a refused client gets nothing at all (no amplification).
    let sock = tokio::net::UdpSocket::bind("127.0.0.2:0").await.unwrap();
    sock.send_to(b"\x00\x01junk", d.addr).await.unwrap();
    let mut buf = [0u8; 512];
    let got = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        sock.recv_from(&mut buf),
    )
    .await;
    assert!(got.is_err(), "no answer to junk from a refused client");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_above_the_rate_limit_is_refused_and_others_are_served() {
    let up = FakeUpstream::start().await;
    up.set_a("example.com.", OPEN, 300);
    let d = TestDaemon::with_upstream(
        &up,
        "[server]\nlisten = [\"127.0.0.1:0\"]\nrate_limit = 20\nrate_limit_burst = 20\nrate_limit_exempt = []\n",
    )
    .await;
    let (mut answered, mut refused) = (0, 0);
    let started = std::time::Instant::now();
    for i in 0..60 {
        let m = query_from("127.0.0.5", d.addr, "example.com", RecordType::A).await;
        match m.metadata.response_code {
            ResponseCode::NoError => answered += 1,
            ResponseCode::Refused => refused += 1,
            other => panic!("unexpected {other}"),
        }
        // Another network (127.0.1.0/24), asking at a normal pace, is served meanwhile.
        if i % 10 == 9 {
            let other = query_from("127.0.1.5", d.addr, "example.com", RecordType::A).await;
            assert_eq!(a_records(&other), vec![OPEN]);
        }
    }
    // The burst, plus what refilled at 20 a second while the loop ran.
    let refilled = (started.elapsed().as_secs_f64() * 20.0).ceil() as usize;
    assert!(
        answered >= 20 && answered <= 20 + refilled + 1,
        "answered {answered}, refused {refused}, refilled up to {refilled}"
    );
    assert!(refused > 0, "answered {answered}, refused {refused}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_with_no_upstream_and_no_stale_answer_gets_servfail_not_the_name() {
    let up = FakeUpstream::start().await;
    let addr = up.addr();
    up.stop_and_wait().await;
    // The default profile is child; the only upstream is gone.
    let d = TestDaemon::start(&udp_upstream(addr, "200ms")).await;
    let m = query_udp(d.addr, "anything.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(m.answers.is_empty());
    assert_eq!(
        ede(m.edns.as_ref()).map(|e| e.0),
        Some(22),
        "EDE 22 No Reachable Authority"
    );
    d.stop().await;
}

/// Lifts this process's open-file limit to its hard limit (1,000 client
/// sockets plus the daemon's own need more than the common default of 1,024).
fn raise_fd_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    if soft < hard {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
    getrlimit(Resource::RLIMIT_NOFILE).unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_tcp_connections_do_not_stop_udp_service() {
    if raise_fd_limit() < 2_500 {
        eprintln!(
            "SKIPPED a_thousand_idle_tcp_connections_do_not_stop_udp_service: the open-file limit is below 2,500"
        );
        return;
    }
    let up = FakeUpstream::start().await;
    up.set_a("example.com.", OPEN, 300);
    let d = TestDaemon::with_upstream(
        &up,
        "[server]\nlisten = [\"127.0.0.1:0\"]\ntcp_idle_timeout = \"30s\"\n",
    )
    .await;
    let mut idle = Vec::with_capacity(1000);
    for _ in 0..1000 {
        idle.push(tokio::net::TcpStream::connect(d.addr).await.unwrap());
    }
    // UDP is answered at once while all of them sit there.
    for i in 0..20 {
        let m = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            query_udp(d.addr, "example.com", RecordType::A),
        )
        .await
        .unwrap_or_else(|_| panic!("UDP query {i} not answered within 2 s"));
        assert_eq!(a_records(&m), vec![OPEN]);
    }
    drop(idle);
    d.stop().await;
}
