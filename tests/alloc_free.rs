//! The cache-hit path allocates nothing: a counting allocator watches this
//! thread while the resolver answers 10,000 queries from the cache.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests say what failed by panicking

mod support;

use hickory_proto::rr::RecordType;
use nestguard::dns::resolve::{Client, Fast, Transport};
use support::client::{build_query, encode, query_with_options};
use support::*;

/// Answers the packets in turn 10,000 times on the fast path: how many were
/// answered there, and how many allocations this thread made meanwhile.
fn answer_10_000(
    resolver: &nestguard::dns::resolve::Resolver,
    client: Client,
    packets: &[Vec<u8>],
    out: &mut Vec<u8>,
) -> (usize, u64) {
    let mut replies = 0;
    // allocation-counter is this binary's global allocator and counts only
    // this thread's allocations, so the runtime's own work is not counted.
    let counted = allocation_counter::measure(|| {
        for i in 0..10_000 {
            let p = &packets[i % packets.len()];
            if resolver.answer_fast(p, client, Transport::Udp, out) == Fast::Reply {
                replies += 1;
            }
        }
    });
    (replies, counted.count_total)
}

/// Queries for `names`, asked once over the socket and once more through
/// the resolver (the miss path where needed) from a client nobody names:
/// the resolver, that client, the packets and an answer buffer.
async fn warmed(
    d: &TestDaemon,
    names: &[&str],
) -> (
    std::sync::Arc<nestguard::dns::resolve::Resolver>,
    Client,
    Vec<Vec<u8>>,
    Vec<u8>,
) {
    let mut packets = Vec::new();
    for name in names {
        query_udp(d.addr, name, RecordType::A).await;
        packets.push(encode(&build_query(
            name,
            RecordType::A,
            &QueryOpts {
                edns: Some(1232),
                dnssec_ok: false,
                id: 7,
            },
        )));
    }
    let resolver = d.daemon.resolver.clone();
    let client = Client {
        peer: "127.0.0.1:9".parse().unwrap(),
        listener: d.addr,
    };
    let mut out = Vec::with_capacity(4096);
    for p in &packets {
        if resolver.answer_fast(p, client, Transport::Udp, &mut out) == Fast::Miss {
            resolver
                .answer_slow(p, client, Transport::Udp, &mut out)
                .await;
        }
    }
    (resolver, client, packets, out)
}

/// One round answered on the hot path before counting, so thread-local
/// state (the flow map's epoch guard) settles.
fn warm_up(
    resolver: &nestguard::dns::resolve::Resolver,
    packets: &[Vec<u8>],
    client: Client,
    out: &mut Vec<u8>,
) {
    for p in packets {
        assert_eq!(
            resolver.answer_fast(p, client, Transport::Udp, out),
            Fast::Reply
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_hits_and_blocked_answers_do_not_allocate() {
    let up = FakeUpstream::start().await;
    up.set_a(
        "sussexexpress.co.uk.",
        std::net::Ipv4Addr::new(192, 0, 2, 9),
        300,
    );
    // A client table by OS user and by MAC: every query below also pays for both
    // lookups (a netlink round trip, the neighbour map), which must not allocate either.
    let d = TestDaemon::with_upstream(
        &up,
        "[[client]]\nprofile = \"teen\"\nusers = [\"root\"]\nmacs = [\"02:00:00:00:00:01\"]\n",
    )
    .await;
    // Cached answers, and a blocked name (shipped adult list) answered by the engine.
    let names = [
        "example.com",
        "www.example.com",
        "nx.example.com",
        "pornhub.com",
        // Blocked by a substring keyword, by the token score, and a name an
        // exception word and the score's tokens both look at, unblocked.
        "freeporn-zone.example",
        "sexy-movie.example",
        "sussexexpress.co.uk",
    ];
    let mut packets = Vec::new();
    for name in names {
        // Warm the cache through the real socket, then build varied client packets.
        query_udp(d.addr, name, RecordType::A).await;
        for (i, edns) in [None, Some(1232), Some(4096)].into_iter().enumerate() {
            let opts = QueryOpts {
                edns,
                dnssec_ok: false,
                id: i as u16,
            };
            packets.push(encode(&build_query(name, RecordType::A, &opts)));
        }
    }
    let resolver = d.daemon.resolver.clone();
    // The default profile (child) applies: every answer below passes through the rules.
    let client = Client {
        // No such socket: the user lookup finds nobody and the default profile applies.
        peer: "127.0.0.1:9".parse().unwrap(),
        listener: d.addr,
    };
    let mut out = Vec::with_capacity(4096);
    // Who owns a client's socket is asked off the hot path: the first query of
    // a flow goes to the miss path, which has a worker ask the kernel; after
    // that the hot path reads the owner from the flow map.
    assert_eq!(
        resolver.answer_fast(&packets[0], client, Transport::Udp, &mut out),
        Fast::Miss
    );
    resolver
        .answer_slow(&packets[0], client, Transport::Udp, &mut out)
        .await;
    warm_up(&resolver, &packets, client, &mut out);
    let (replies, allocations) = answer_10_000(&resolver, client, &packets, &mut out);
    assert_eq!(replies, 10_000);
    assert_eq!(allocations, 0, "allocations on the cache-hit path");
    // The counter must be live, or zero would prove nothing.
    assert_eq!(
        allocation_counter::measure(|| drop(std::hint::black_box(vec![1u8]))).count_total,
        1
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_naming_a_device_behind_a_forwarder_do_not_allocate() {
    let up = FakeUpstream::start().await;
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:0\"]\ntrusted_forwarders = [\"127.0.0.1\"]\n{}\
         [[client]]\nprofile = \"teen\"\nmacs = [\"02:00:00:00:00:01\"]\n\
         [[client]]\nprofile = \"young-child\"\naddresses = [\"192.168.1.20\"]\n",
        udp_upstream(up.addr(), "1s")
    );
    let d = TestDaemon::start(&config).await;
    let options: [&[(u16, &[u8])]; 3] = [
        &[(65001, &[2, 0, 0, 0, 0, 1])],
        &[(8, &[0, 1, 32, 0, 192, 168, 1, 20])],
        &[(65073, b"AgAAAAAB"), (8, &[0, 1, 32, 0, 192, 168, 1, 21])],
    ];
    let mut packets = Vec::new();
    for name in ["example.com", "pornhub.com"] {
        query_udp(d.addr, name, RecordType::A).await;
        for opts in options {
            packets.push(query_with_options(name, opts));
        }
    }
    let resolver = d.daemon.resolver.clone();
    // The trusted forwarder, and someone whose options are ignored (counted,
    // and logged once per interval: the warm-up round takes that log line).
    let clients = [
        Client {
            peer: "127.0.0.1:9".parse().unwrap(),
            listener: d.addr,
        },
        Client {
            peer: "127.0.0.2:9".parse().unwrap(),
            listener: d.addr,
        },
    ];
    let mut out = Vec::with_capacity(4096);
    for p in &packets {
        for c in clients {
            let fast = resolver.answer_fast(p, c, Transport::Udp, &mut out);
            if fast == Fast::Miss {
                resolver.answer_slow(p, c, Transport::Udp, &mut out).await;
            }
        }
    }
    let mut replies = 0;
    let counted = allocation_counter::measure(|| {
        for i in 0..10_000 {
            let p = &packets[i % packets.len()];
            let c = clients[(i / packets.len()) % 2];
            if resolver.answer_fast(p, c, Transport::Udp, &mut out) == Fast::Reply {
                replies += 1;
            }
        }
    });
    assert_eq!(replies, 10_000);
    assert_eq!(counted.count_total, 0, "allocations on the forwarded path");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_during_an_exam_do_not_allocate() {
    let up = FakeUpstream::start().await;
    for name in ["www.example.com.", "childline.org.uk."] {
        up.set_a(name, std::net::Ipv4Addr::new(192, 0, 2, 9), 300);
    }
    let d = TestDaemon::with_upstream(&up, "").await;
    // An exam for everyone: an exam site (cached), a help line (cached), a
    // site outside the exam, a chatbot and a bypass name (answered by the engine).
    nestguard::policy::exam::start(
        &nestguard::state::layout::exam(d.state.path()),
        nestguard::policy::exam::Exam {
            who: vec!["all".into()],
            until: jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2),
            allow: vec!["example.com".into()],
            by: String::new(),
        },
    )
    .unwrap();
    d.daemon.refresh();
    let (resolver, client, packets, mut out) = warmed(
        &d,
        &[
            "www.example.com",
            "childline.org.uk",
            "site.example",
            "chatgpt.com",
            "airvpn.org",
        ],
    )
    .await;
    let blocked = d.metrics();
    assert!(
        blocked.contains("nestguard_exam_blocked_total 4"),
        "{blocked}"
    );
    let (replies, allocations) = answer_10_000(&resolver, client, &packets, &mut out);
    assert_eq!(replies, 10_000);
    assert_eq!(allocations, 0, "allocations during an exam");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_and_budgets_do_not_allocate() {
    let up = FakeUpstream::start().await;
    for name in ["i.ytimg.com.", "www.tiktok.com.", "www.roblox.com."] {
        up.set_a(name, std::net::Ipv4Addr::new(192, 0, 2, 9), 300);
    }
    // The default profile (child) with a service blocked, one on a daily
    // budget (each lookup marks a minute), one with hours, one allowed.
    let d = TestDaemon::with_upstream(
        &up,
        "[profile.child]\nservices = { tiktok = \"block\", youtube = { budget = \"60m\" }, \
         roblox = { from = \"16:00\", to = \"18:00\" }, discord = \"allow\" }\n",
    )
    .await;
    let (resolver, client, packets, mut out) = warmed(
        &d,
        &[
            "example.com",
            "i.ytimg.com",
            "www.tiktok.com",
            "www.roblox.com",
        ],
    )
    .await;
    let (replies, allocations) = answer_10_000(&resolver, client, &packets, &mut out);
    assert_eq!(replies, 10_000);
    assert_eq!(allocations, 0, "allocations with services and budgets");
    // The budgeted lookups were counted.
    d.daemon.refresh();
    assert!(d.daemon.budgets_now().iter().any(|b| b.used >= 1));
    d.stop().await;
}

/// Names of catalogue services looked up by a profile with no service
/// rules: the activity counters look the services up themselves (the engine
/// did not) and mark their minutes, per service and per group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minutes_on_services_are_counted_without_allocating() {
    let up = FakeUpstream::start().await;
    let names = [
        "i.ytimg.com",
        "player.vimeo.com",
        "www.tiktok.com",
        "www.roblox.com",
    ];
    for name in names {
        up.set_a(
            &format!("{name}."),
            std::net::Ipv4Addr::new(192, 0, 2, 9),
            300,
        );
    }
    // A teen (services reachable) whose minutes are kept per service.
    let d = TestDaemon::with_upstream(
        &up,
        "[activity]\nprivacy = { teen = \"blocked-domains\" }\n\
         [[client]]\nprofile = \"teen\"\naddresses = [\"127.0.0.1\"]\n",
    )
    .await;
    let (resolver, client, packets, mut out) = warmed(&d, &names).await;
    let (replies, allocations) = answer_10_000(&resolver, client, &packets, &mut out);
    assert_eq!(replies, 10_000);
    assert_eq!(allocations, 0, "allocations counting minutes on services");
    // They were counted.
    d.daemon.flush_activity().await;
    let db = nestguard::state::layout::activity_db(d.state.path());
    let since = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(2))
        .unwrap();
    let r = nestguard::activity::report::build(&db, since, Some("teen")).unwrap();
    let time = &r.profiles[0].service_time;
    assert!(
        time.iter()
            .any(|t| t.services.iter().any(|(s, _)| s == "youtube")),
        "{time:?}"
    );
    d.stop().await;
}

/// A blocked lookup of a local user whose desktop agent listens is handed to
/// the notice ring on the hot path: that too allocates nothing, whether the
/// ring has room or is full (then it is counted).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_handed_to_desktop_notices_do_not_allocate() {
    let up = FakeUpstream::start().await;
    let me = nix::unistd::geteuid().as_raw();
    let Some(name) = nestguard::policy::users::name_of(me) else {
        eprintln!("SKIPPED blocks_handed_to_desktop_notices_do_not_allocate: this uid has no name");
        return;
    };
    let d = TestDaemon::with_upstream(
        &up,
        &format!("[[client]]\nprofile = \"teen\"\nusers = [\"{name}\"]\n"),
    )
    .await;
    let packets: Vec<Vec<u8>> = ["pornhub.com", "freeporn-zone.example"]
        .iter()
        .map(|n| encode(&build_query(n, RecordType::A, &QueryOpts::default())))
        .collect();
    let resolver = d.daemon.resolver.clone();
    // A real socket of this user, so the kernel names its owner.
    let mine = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = Client {
        peer: mine.local_addr().unwrap(),
        listener: d.addr,
    };
    // As if an agent were connected.
    resolver.notices().agent_connected();
    let mut out = Vec::with_capacity(4096);
    if resolver.answer_fast(&packets[0], client, Transport::Udp, &mut out) == Fast::Miss {
        resolver
            .answer_slow(&packets[0], client, Transport::Udp, &mut out)
            .await;
    }
    warm_up(&resolver, &packets, client, &mut out);
    let counted = allocation_counter::measure(|| {
        for i in 0..10_000 {
            let p = &packets[i % packets.len()];
            resolver.answer_fast(p, client, Transport::Udp, &mut out);
        }
    });
    assert_eq!(counted.count_total, 0, "allocations handing blocks over");
    let queue = resolver.notices();
    let first = queue.pop().expect("the blocks were handed over");
    assert_eq!(first.uid, me);
    assert_eq!(first.name(), "pornhub.com");
    assert!(queue.dropped() > 0, "the full ring counted what it dropped");
    d.stop().await;
}
