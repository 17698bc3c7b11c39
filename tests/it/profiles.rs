//! Profiles in the live daemon, over real sockets: clients told apart by their
//! loopback source address and by the listener they ask on.

use std::net::{Ipv4Addr, SocketAddr};

use crate::support::*;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};

/// Config text: `up` as the upstream, 127.0.0.2 as an unfiltered client, plus `extra`.
fn with_unfiltered_client(up: &FakeUpstream, extra: &str) -> String {
    format!(
        "{}{extra}[[client]]\nprofile = \"unfiltered\"\naddresses = [\"127.0.0.2\"]\n",
        udp_upstream(up.addr(), "1s")
    )
}

/// Lists of our own, so the test does not depend on what the shipped lists hold.
fn lists(dir: &TempDir) -> String {
    std::fs::write(dir.join("adult.txt"), "blocked.example\n").unwrap();
    std::fs::write(dir.join("malware.txt"), "evil.example\n").unwrap();
    format!(
        "[[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n[[rules.list]]\npath = \"{}\"\ncategory = \"scams-malware\"\n",
        dir.join("adult.txt").display(),
        dir.join("malware.txt").display()
    )
}

async fn upstream_with_names() -> FakeUpstream {
    let up = FakeUpstream::start().await;
    for n in [
        "blocked.example.",
        "evil.example.",
        "use-application-dns.net.",
        "mask.icloud.com.",
    ] {
        up.set_a(n, Ipv4Addr::new(192, 0, 2, 80), 300);
    }
    up
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_get_their_own_profiles() {
    let up = upstream_with_names().await;
    let dir = TempDir::new();
    let config = with_unfiltered_client(&up, &lists(&dir));
    let d = TestDaemon::start(&config).await;

    // 127.0.0.1 gets the default profile, child.
    let child = query_from("127.0.0.1", d.addr, "www.blocked.example", RecordType::A).await;
    assert_eq!(child.metadata.response_code, ResponseCode::NXDomain);
    assert!(child.answers.is_empty());
    let soa = &child.authorities[0];
    assert!(matches!(soa.data, RData::SOA(_)));
    assert_eq!(soa.ttl, 10, "short blocked TTL");
    let (code, text) = ede(child.edns.as_ref()).expect("EDE on a blocked answer");
    assert_eq!(code, 17, "Filtered: the household's own policy");
    // The category: the daemon keeps no list and line for a plain domain rule.
    assert_eq!(text, "adult", "{text}");

    // 127.0.0.2 is configured as unfiltered: the upstream's answer.
    let adult = query_from("127.0.0.2", d.addr, "www.blocked.example", RecordType::A).await;
    assert_eq!(
        adult.metadata.response_code,
        ResponseCode::NXDomain,
        "fake upstream knows only the apex"
    );
    let adult = query_from("127.0.0.2", d.addr, "blocked.example", RecordType::A).await;
    assert_eq!(a_records(&adult), vec![Ipv4Addr::new(192, 0, 2, 80)]);

    // Security lists say 15 Blocked.
    let m = query_from("127.0.0.1", d.addr, "evil.example", RecordType::A).await;
    assert_eq!(ede(m.edns.as_ref()).map(|e| e.0), Some(15));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_of_a_blocked_name_is_blocked() {
    let up = upstream_with_names().await;
    let dir = TempDir::new();
    let d = TestDaemon::start(&format!("{}{}", udp_upstream(up.addr(), "1s"), lists(&dir))).await;
    for t in [
        RecordType::A,
        RecordType::AAAA,
        RecordType::HTTPS,
        RecordType::Unknown(64),
        RecordType::TXT,
    ] {
        let m = query_udp(d.addr, "blocked.example", t).await;
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain, "{t}");
    }
    // Over TCP too, and with no EDNS: no OPT record then.
    let m = query_tcp(d.addr, "blocked.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    let opts = QueryOpts {
        edns: None,
        ..QueryOpts::default()
    };
    let m = query_udp_with(d.addr, "blocked.example", RecordType::A, &opts).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert!(m.edns.is_none());
    assert_eq!(up.queries(), 0, "blocked names never reach the upstream");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_mode_answers_unspecified_addresses() {
    let up = upstream_with_names().await;
    let dir = TempDir::new();
    let config = format!(
        "{}{}[policy]\nblock_mode = \"null\"\nblocked_ttl = \"2s\"\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let d = TestDaemon::start(&config).await;
    let a = query_udp(d.addr, "blocked.example", RecordType::A).await;
    assert_eq!(a_records(&a), vec![Ipv4Addr::UNSPECIFIED]);
    assert_eq!(a.answers[0].ttl, 2);
    let aaaa = query_udp(d.addr, "blocked.example", RecordType::AAAA).await;
    assert_eq!(aaaa_records(&aaaa), vec![std::net::Ipv6Addr::UNSPECIFIED]);
    let txt = query_udp(d.addr, "blocked.example", RecordType::TXT).await;
    assert_eq!(txt.metadata.response_code, ResponseCode::NoError);
    assert!(txt.answers.is_empty());
    // Canaries stay NXDOMAIN whatever the block mode: that is what switches the bypass off.
    let canary = query_udp(d.addr, "use-application-dns.net", RecordType::A).await;
    assert_eq!(canary.metadata.response_code, ResponseCode::NXDomain);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anti_bypass_for_filtered_profiles_only() {
    let up = upstream_with_names().await;
    let config = with_unfiltered_client(&up, "");
    let d = TestDaemon::start(&config).await;
    for name in ["use-application-dns.net", "mask.icloud.com"] {
        let m = query_from("127.0.0.1", d.addr, name, RecordType::A).await;
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain, "{name}");
        assert_eq!(ede(m.edns.as_ref()).map(|e| e.0), Some(17), "{name}");
        let open = query_from("127.0.0.2", d.addr, name, RecordType::A).await;
        assert_eq!(
            a_records(&open),
            vec![Ipv4Addr::new(192, 0, 2, 80)],
            "{name} for unfiltered"
        );
    }
    // RFC 9462 discovery: no designated resolver to upgrade to.
    let ddr = query_from("127.0.0.1", d.addr, "_dns.resolver.arpa", RecordType::SVCB).await;
    assert_eq!(ddr.metadata.response_code, ResponseCode::NoError);
    assert!(ddr.answers.is_empty());
    // A DoH resolver from the shipped bypass list.
    let doh = query_from("127.0.0.1", d.addr, "dns.google", RecordType::A).await;
    assert_eq!(doh.metadata.response_code, ResponseCode::NXDomain);
    assert!(ede(doh.edns.as_ref()).unwrap().1 == "bypass");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_can_carry_a_profile() {
    let up = upstream_with_names().await;
    let dir = TempDir::new();
    // A second listener on 127.0.0.3 at a port picked now; everyone asking there is unfiltered.
    let port = std::net::UdpSocket::bind("127.0.0.3:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let open: SocketAddr = format!("127.0.0.3:{port}").parse().unwrap();
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:0\", \"{open}\"]\n{}{}[[client]]\nprofile = \"unfiltered\"\nlisteners = [\"{open}\"]\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let d = TestDaemon::start(&config).await;
    let filtered = query_udp(d.addr, "blocked.example", RecordType::A).await;
    assert_eq!(filtered.metadata.response_code, ResponseCode::NXDomain);
    let unfiltered = query_udp(open, "blocked.example", RecordType::A).await;
    assert_eq!(a_records(&unfiltered), vec![Ipv4Addr::new(192, 0, 2, 80)]);
    let unfiltered_tcp = query_tcp(open, "blocked.example", RecordType::A).await;
    assert_eq!(
        a_records(&unfiltered_tcp),
        vec![Ipv4Addr::new(192, 0, 2, 80)]
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_profile_in_the_config_stops_startup() {
    let up = FakeUpstream::start().await;
    let text = format!(
        "[server]\nlisten = [\"127.0.0.1:0\"]\n{}[policy]\ndefault_profile = \"toddler\"\n",
        udp_upstream(up.addr(), "1s")
    );
    let config = nestguard::config::Config::parse(&text, "t.toml", None).unwrap();
    let err = nestguard::app::Daemon::start(&config)
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{err:#}").contains("no profile `toddler`"),
        "{err:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cname_to_a_blocked_name_is_blocked() {
    let up = upstream_with_names().await;
    // An innocent-looking name that is an alias of a blocked one (CNAME cloaking).
    up.set_cname("innocent.example.", "blocked.example.", 300);
    let dir = TempDir::new();
    let config = with_unfiltered_client(&up, &lists(&dir));
    let d = TestDaemon::start(&config).await;
    // Twice: once from the fresh upstream answer, once from the cache.
    for round in ["fresh", "cached"] {
        let m = query_from("127.0.0.1", d.addr, "innocent.example", RecordType::A).await;
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain, "{round}");
        let (code, text) = ede(m.edns.as_ref()).unwrap();
        assert_eq!(code, 17);
        assert_eq!(text, "adult", "{round}");
    }
    // The same cached answer still reaches the unfiltered client whole.
    let open = query_from("127.0.0.2", d.addr, "innocent.example", RecordType::A).await;
    assert_eq!(open.answers.len(), 2, "CNAME and A");
    assert_eq!(a_records(&open), vec![Ipv4Addr::new(192, 0, 2, 80)]);
    assert_eq!(up.queries(), 1);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safe_search_is_enforced_for_children_only() {
    let up = FakeUpstream::start().await;
    let targets = [
        (
            "www.google.de",
            "forcesafesearch.google.com",
            Ipv4Addr::new(216, 239, 38, 120),
        ),
        (
            "www.bing.com",
            "strict.bing.com",
            Ipv4Addr::new(204, 79, 197, 220),
        ),
        (
            "duckduckgo.com",
            "safe.duckduckgo.com",
            Ipv4Addr::new(192, 0, 2, 53),
        ),
        (
            "www.youtube.com",
            "restrictmoderate.youtube.com",
            Ipv4Addr::new(216, 239, 38, 119),
        ),
    ];
    for (host, target, ip) in targets {
        up.set_a(&format!("{target}."), ip, 300);
        // What an unfiltered client gets: the engine's own address.
        up.set_a(&format!("{host}."), Ipv4Addr::new(198, 51, 100, 1), 300);
    }
    let config = with_unfiltered_client(&up, "");
    let d = TestDaemon::start(&config).await;
    for (host, target, ip) in targets {
        let m = query_from("127.0.0.1", d.addr, host, RecordType::A).await;
        assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{host}");
        match &m.answers[0].data {
            RData::CNAME(c) => assert_eq!(c.0.to_ascii(), format!("{target}."), "{host}"),
            other => panic!("{host}: expected a CNAME first, got {other:?}"),
        }
        assert_eq!(
            a_records(&m),
            vec![ip],
            "{host}: the target's address, resolved upstream"
        );
        assert_eq!(m.queries[0].name().to_ascii(), format!("{host}."));
        let open = query_from("127.0.0.2", d.addr, host, RecordType::A).await;
        assert_eq!(
            a_records(&open),
            vec![Ipv4Addr::new(198, 51, 100, 1)],
            "{host} not rewritten for unfiltered"
        );
        assert!(
            !open
                .answers
                .iter()
                .any(|r| matches!(r.data, RData::CNAME(_)))
        );
    }
    // Over TCP too.
    let m = query_tcp(d.addr, "www.google.de", RecordType::A).await;
    assert_eq!(a_records(&m), vec![Ipv4Addr::new(216, 239, 38, 120)]);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_tighten_profiles_at_the_right_time() {
    use nestguard::app::Environment;
    use nestguard::clock::{Clock, LocalTime, ManualClock};
    use nestguard::policy::neighbours::KernelNeighbours;
    use nestguard::schedule::parse_hhmm;
    use std::sync::Arc;

    let up = FakeUpstream::start().await;
    for n in ["childline.org.uk.", "tiktok.com."] {
        up.set_a(n, Ipv4Addr::new(192, 0, 2, 90), 300);
    }
    let text = format!(
        "{}\
         [[client]]\nprofile = \"unfiltered\"\naddresses = [\"127.0.0.2\"]\n\
         [[client]]\nprofile = \"teen\"\naddresses = [\"127.0.0.3\"]\n\
         [[schedule]]\nprofile = \"child\"\nname = \"bedtime\"\nfrom = \"20:30\"\nto = \"07:00\"\nallow_only = true\n\
         [[schedule]]\nprofile = \"teen\"\nname = \"homework\"\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\n\
         from = \"16:00\"\nto = \"18:00\"\nblock = [\"short-video\"]\n",
        udp_upstream(up.addr(), "1s")
    );
    let at = |weekday, hhmm| LocalTime {
        weekday,
        minute: parse_hhmm(hhmm).unwrap(),
    };
    let clock = Arc::new(ManualClock::new(at(0, "12:00")));
    let env = Environment {
        clock: Clock::manual(clock.clone()),
        neighbours: Arc::new(KernelNeighbours),
        ..Environment::system()
    };
    let td = TestDaemon::start_in(&text, env).await;
    let (d, addr) = (&td.daemon, td.addr);
    let a = |m: &Message| a_records(m);

    // Monday noon: nothing scheduled.
    assert_eq!(
        a(&query_from("127.0.0.1", addr, "example.com", RecordType::A).await).len(),
        1
    );
    assert_eq!(
        a(&query_from("127.0.0.3", addr, "tiktok.com", RecordType::A).await).len(),
        1
    );

    // Monday 21:30, bedtime: only the child profile's allowlist is reachable.
    clock.set(at(0, "21:30"));
    d.refresh();
    let m = query_from("127.0.0.1", addr, "example.com", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(
        ede(m.edns.as_ref()),
        Some((17, "schedule: bedtime".to_string()))
    );
    let help = query_from("127.0.0.1", addr, "childline.org.uk", RecordType::A).await;
    assert_eq!(
        a(&help),
        vec![Ipv4Addr::new(192, 0, 2, 90)],
        "help lines stay reachable at bedtime"
    );
    let adult = query_from("127.0.0.2", addr, "example.com", RecordType::A).await;
    assert_eq!(a(&adult).len(), 1, "the unfiltered profile has no bedtime");

    // Tuesday 06:59 is still Monday's bedtime; 07:00 is over.
    clock.set(at(1, "06:59"));
    d.refresh();
    let m = query_from("127.0.0.1", addr, "example.com", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    clock.set(at(1, "07:00"));
    d.refresh();
    assert_eq!(
        a(&query_from("127.0.0.1", addr, "example.com", RecordType::A).await).len(),
        1
    );

    // Tuesday 16:30, homework: the teen's short video is blocked; Saturday it is not.
    clock.set(at(1, "16:30"));
    d.refresh();
    let m = query_from("127.0.0.3", addr, "tiktok.com", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert!(ede(m.edns.as_ref()).unwrap().1 == "short-video");
    clock.set(at(5, "16:30"));
    d.refresh();
    assert_eq!(
        a(&query_from("127.0.0.3", addr, "tiktok.com", RecordType::A).await).len(),
        1
    );
    td.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_and_block_page_modes() {
    let up = upstream_with_names().await;
    let dir = TempDir::new();
    let refused = format!(
        "{}{}[policy]\nblock_mode = \"refused\"\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let d = TestDaemon::start(&refused).await;
    let m = query_udp(d.addr, "blocked.example", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    assert_eq!(ede(m.edns.as_ref()).map(|e| e.0), Some(17));
    d.stop().await;

    let page = format!(
        "{}{}[policy]\nblock_mode = \"address\"\nblock_addresses = [\"192.0.2.99\", \"2001:db8::99\"]\n",
        udp_upstream(up.addr(), "1s"),
        lists(&dir)
    );
    let d = TestDaemon::start(&page).await;
    let a = query_udp(d.addr, "blocked.example", RecordType::A).await;
    assert_eq!(a_records(&a), vec![Ipv4Addr::new(192, 0, 2, 99)]);
    let aaaa = query_udp(d.addr, "blocked.example", RecordType::AAAA).await;
    assert_eq!(
        aaaa_records(&aaaa),
        vec!["2001:db8::99".parse::<std::net::Ipv6Addr>().unwrap()]
    );
    let https = query_udp(d.addr, "blocked.example", RecordType::HTTPS).await;
    assert_eq!(https.metadata.response_code, ResponseCode::NoError);
    assert!(
        https.answers.is_empty(),
        "no HTTPS record for a blocked name"
    );
    d.stop().await;

    // The address mode without addresses is a config error, located.
    let bad = "[policy]\nblock_mode = \"address\"\n";
    let err = nestguard::config::Config::parse(bad, "t.toml", None).unwrap_err();
    assert!(err.to_string().starts_with("t.toml:2:14: "), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dnsrewrite_cname_is_answered_with_the_target_resolved_upstream() {
    let up = upstream_with_names().await;
    up.set_a("safe.example.", Ipv4Addr::new(192, 0, 2, 77), 300);
    let dir = TempDir::new();
    std::fs::write(
        dir.join("rewrite.txt"),
        "||video.example^$dnsrewrite=NOERROR;CNAME;safe.example\n",
    )
    .unwrap();
    let config = format!(
        "{}[[rules.list]]\npath = \"{}\"\ncategory = \"short-video\"\n",
        udp_upstream(up.addr(), "1s"),
        dir.join("rewrite.txt").display()
    );
    let d = TestDaemon::start(&config).await;
    for m in [
        query_udp(d.addr, "www.video.example", RecordType::A).await,
        query_tcp(d.addr, "www.video.example", RecordType::A).await,
    ] {
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        let cname = m.answers.iter().find_map(|r| match &r.data {
            RData::CNAME(c) => Some(c.0.to_ascii()),
            _ => None,
        });
        assert_eq!(cname.as_deref(), Some("safe.example."));
        assert_eq!(a_records(&m), vec![Ipv4Addr::new(192, 0, 2, 77)]);
    }
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_engines_without_safe_search_are_blocked_for_children() {
    let up = upstream_with_names().await;
    up.set_a("www.startpage.com.", Ipv4Addr::new(192, 0, 2, 81), 300);
    let config = with_unfiltered_client(
        &up,
        "[[client]]\nprofile = \"older-teen\"\naddresses = [\"127.0.0.4\"]\n",
    );
    let d = TestDaemon::start(&config).await;
    let m = query_from("127.0.0.1", d.addr, "www.startpage.com", RecordType::A).await;
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert!(ede(m.edns.as_ref()).unwrap().1 == "unsafe-search");
    let m = query_from("127.0.0.4", d.addr, "www.startpage.com", RecordType::A).await;
    assert_eq!(a_records(&m), vec![Ipv4Addr::new(192, 0, 2, 81)]);
    d.stop().await;
}
