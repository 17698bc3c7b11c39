//! Robust under attack and failure, over real sockets: who may ask (the
//! access list), how fast (the rate limit), and failing closed for children.

use std::net::Ipv4Addr;

use crate::support::upstream::{POISON_ADDR, POISON_NAME};
use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

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
    // EDE 18 Prohibited only where it fits: a refusal is never larger than
    // the query (tests/dns_limits.rs), and this one has no room for it.
    assert!(ede(m.edns.as_ref()).is_none_or(|e| e.0 == 18));
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

fn owners(records: &[hickory_proto::rr::Record]) -> Vec<String> {
    records.iter().map(|r| r.name.to_ascii()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_records_about_the_question_are_passed_on_and_cached() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    // First from the upstream, then from the cache: the same clean answer.
    for _ in 0..2 {
        let m = query_udp(d.addr, "poison.example.com", RecordType::A).await;
        assert_eq!(a_records(&m), vec![POISON_ADDR]);
        assert_eq!(owners(&m.answers), [POISON_NAME]);
        assert_eq!(
            owners(&m.authorities),
            ["example.com."],
            "only our zone's NS"
        );
        assert!(m.additionals.is_empty(), "no glue: {:?}", m.additionals);
    }
    assert_eq!(up.queries(), 1);
    // The stray address was never believed for the name it claimed.
    let m = query_udp(d.addr, "bank.example", RecordType::A).await;
    assert!(a_records(&m).is_empty());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_do_bit_is_forwarded_and_signatures_come_back_only_to_who_asked() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    let with_do = QueryOpts {
        dnssec_ok: true,
        ..QueryOpts::default()
    };
    let m = query_udp_with(d.addr, "poison.example.com", RecordType::A, &with_do).await;
    let types: Vec<RecordType> = m.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(types, [RecordType::A, RecordType::RRSIG]);
    assert!(m.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok));
    // From a resolver on this machine the AD bit is passed on.
    assert!(m.metadata.authentic_data);

    let m = query_udp(d.addr, "poison.example.com", RecordType::A).await;
    let types: Vec<RecordType> = m.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(
        types,
        [RecordType::A],
        "no signatures for a client without DO"
    );
    assert!(!m.metadata.authentic_data);
    assert_eq!(up.queries(), 2, "DO and non-DO answers are cached apart");
    d.stop().await;
}

/// An upstream that, before each real answer, sends what an off-path attacker
/// would: a reply with the wrong ID, and one with the right ID about another
/// name. Records the source port and ID of every query it gets.
async fn spoofed_upstream(
    sock: tokio::net::UdpSocket,
    queries: usize,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(u16, u16)>>>,
) {
    use hickory_proto::op::Message;
    use hickory_proto::rr::{RData, Record, rdata::A};
    let mut buf = vec![0u8; 4096];
    for _ in 0..queries {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            return;
        };
        let Ok(q) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        seen.lock().unwrap().push((peer.port(), q.metadata.id));
        let answer = |id: u16, name: &str, ip: Ipv4Addr| {
            let mut r = Message::response(id, q.metadata.op_code);
            let mut question = q.queries[0].clone();
            question.set_name(hickory_proto::rr::Name::from_ascii(name).unwrap());
            r.add_query(question);
            let owner = hickory_proto::rr::Name::from_ascii(name).unwrap();
            r.add_answer(Record::from_rdata(owner, 300, RData::A(A(ip))));
            r.to_vec().unwrap()
        };
        let asked = q.queries[0].name().to_ascii();
        let evil = Ipv4Addr::new(6, 6, 6, 6);
        let forged = [
            answer(q.metadata.id.wrapping_add(1), &asked, evil),
            answer(q.metadata.id, "other.example.net.", evil),
            answer(q.metadata.id, &asked, Ipv4Addr::new(192, 0, 2, 9)),
        ];
        for f in forged {
            let _ = sock.send_to(&f, peer).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_upstream_answers_are_ignored_and_ports_and_ids_are_random() {
    const N: usize = 8;
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let server = tokio::spawn(spoofed_upstream(sock, N, seen.clone()));
    let d = TestDaemon::start(&udp_upstream(addr, "2s")).await;
    for i in 0..N {
        let m = query_udp(d.addr, &format!("n{i}.example.net"), RecordType::A).await;
        assert_eq!(
            a_records(&m),
            vec![Ipv4Addr::new(192, 0, 2, 9)],
            "query {i}"
        );
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), N);
    let distinct = |v: Vec<u16>| {
        v.into_iter()
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    // 16 random bits each: a repeat among eight is a 1-in-2,300 event, two a 1-in-10^7 one.
    assert!(
        distinct(seen.iter().map(|s| s.0).collect()) >= N - 1,
        "ports {seen:?}"
    );
    assert!(
        distinct(seen.iter().map(|s| s.1).collect()) >= N - 1,
        "IDs {seen:?}"
    );
    server.abort();
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_upstreams_down_a_teen_gets_the_fallback_and_a_child_does_not() {
    let main = FakeUpstream::start().await;
    let fallback = FakeUpstream::start().await;
    main.set_a("short.example.com.", Ipv4Addr::new(10, 0, 0, 1), 2);
    fallback.set_a("short.example.com.", Ipv4Addr::new(10, 9, 9, 9), 300);
    fallback.set_a("fresh.example.com.", OPEN, 300);
    let config = format!(
        "{}[[upstream]]\nprotocol = \"udp\"\naddress = \"{}\"\nfallback = true\n\
         [[client]]\nname = \"alex\"\nprofile = \"teen\"\naddresses = [\"127.0.0.2\"]\n",
        udp_upstream(main.addr(), "300ms"),
        fallback.addr()
    );
    let (d, clock) = TestDaemon::start_manual(&config).await;
    // Cached while the upstream was up, then it goes away and the entry
    // expires (the daemon's clock moves past the 2 s TTL; no waiting).
    let m = query_from("127.0.0.2", d.addr, "short.example.com", RecordType::A).await;
    assert_eq!(a_records(&m), vec![Ipv4Addr::new(10, 0, 0, 1)]);
    main.stop_and_wait().await;
    clock.advance(std::time::Duration::from_millis(2500));

    // Serve-stale comes first, for every profile.
    let m = query_from("127.0.0.2", d.addr, "short.example.com", RecordType::A).await;
    assert_eq!(
        a_records(&m),
        vec![Ipv4Addr::new(10, 0, 0, 1)],
        "stale first"
    );
    assert_eq!(
        ede(m.edns.as_ref()).map(|e| e.0),
        Some(3),
        "EDE 3 Stale Answer"
    );
    assert_eq!(fallback.queries(), 0);

    // Nothing stale: the teen profile fails open, to the fallback upstream.
    let m = query_from("127.0.0.2", d.addr, "fresh.example.com", RecordType::A).await;
    assert_eq!(a_records(&m), vec![OPEN]);
    assert_eq!(fallback.queries(), 1);

    // The child (the default profile) fails closed, even for the name the teen just got.
    let m = query_from("127.0.0.1", d.addr, "fresh.example.com", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(m.answers.is_empty(), "the fallback's answer was not cached");
    assert_eq!(ede(m.edns.as_ref()).map(|e| e.0), Some(22));
    assert_eq!(
        fallback.queries(),
        1,
        "a fail-closed profile never asks the fallback"
    );
    // And what the teen's profile blocks stays blocked on the fallback path.
    let m = query_from("127.0.0.2", d.addr, "pornhub.com", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    d.stop().await;
}

/// `nestguard ARGS -c CONFIG`: exit code and standard output.
fn run_cli(args: &[&str], config: &std::path::Path) -> (i32, String) {
    let (code, out, _) = crate::support::cli::run(args, config);
    (code.unwrap_or(-1), out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_filter_or_loosening_a_profile_shows_in_status_and_report() {
    use nestguard::app::Daemon;
    use nestguard::config::{Config, ConfigSource};
    let up = FakeUpstream::start().await;
    let dir = TempDir::new();
    let path = dir.path().join("nestguard.toml");
    let config_with = |profile: &str| {
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n[state]\ndir = \"{}\"\n{}\
             [[client]]\nname = \"sam\"\nprofile = \"{profile}\"\naddresses = [\"127.0.0.2\"]\n",
            dir.path().join("state").display(),
            udp_upstream(up.addr(), "1s")
        )
    };
    std::fs::write(&path, config_with("child")).unwrap();
    let load = || Config::load(&ConfigSource::File(path.clone())).unwrap();

    let d = Daemon::start(&load()).await.unwrap();
    let (code, out) = run_cli(&["status"], &path);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(": running"), "{out}");
    assert!(out.contains("filtering started"), "{out}");

    // Someone moves sam to the unfiltered profile; the reload puts it in force.
    std::fs::write(&path, config_with("unfiltered")).unwrap();
    d.reload().await.unwrap();
    d.shutdown().await;

    let (code, out) = run_cli(&["status"], &path);
    assert_eq!(code, 3, "stopped filtering exits 3: {out}");
    assert!(out.contains("STOPPED at"), "{out}");
    assert!(
        out.contains("client sam: profile child → unfiltered (filtering off)"),
        "{out}"
    );
    assert!(
        out.contains("filtering stopped (the service was stopped)"),
        "{out}"
    );

    // Started again: the gap is named. Then the daemon dies without a word
    // (it is dropped, as a kill would leave it), and the next start says so.
    let d = Daemon::start(&load()).await.unwrap();
    drop(d);
    let d = Daemon::start(&load()).await.unwrap();
    let (_, out) = run_cli(&["report", "--since", "1h"], &path);
    for line in [
        "protection events (filtering stopped or loosened):",
        "client sam: profile child → unfiltered (filtering off)",
        "filtering stopped (the service was stopped)",
        "filtering on again after",
        "filtering stopped unexpectedly",
        "filtering on again after up to",
    ] {
        assert!(out.contains(line), "report lacks `{line}`:\n{out}");
    }
    let (_, csv) = run_cli(&["report", "--since", "1h", "--format", "csv"], &path);
    assert!(csv.contains(",event,"), "{csv}");
    d.shutdown().await;
}
