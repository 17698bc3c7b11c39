//! The protocol as a client sees it, over real loopback sockets: header bits,
//! EDNS, rewrites and stale answers. These are the behaviours the ISC DNS
//! compliance suite (genreport, the DNS flag day tests; `.ci/run` runs it
//! against the daemon) checks in recursive mode, plus the ones it cannot see
//! with an authoritative upstream that never sets RA or AD.

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::client::decode;
use crate::support::upstream::BIG_NAME;
use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};

// Header flag bits (the 16-bit word after the ID).
const QR: u16 = 0x8000;
const AA: u16 = 0x0400;
const TC: u16 = 0x0200;
const RD: u16 = 0x0100;
const RA: u16 = 0x0080;
const Z: u16 = 0x0040;
const AD: u16 = 0x0020;
const CD: u16 = 0x0010;
const RCODE: u16 = 0x000f;

const TYPE_A: u16 = 1;
const TYPE_SOA: u16 = 6;
const TYPE_TXT: u16 = 16;
const TYPE_OPT: u16 = 41;

fn flags_of(reply: &[u8]) -> u16 {
    u16::from_be_bytes([reply[2], reply[3]])
}

fn count(reply: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([reply[at], reply[at + 1]])
}

/// A query built by hand, so any header bit and any EDNS field can be set:
/// `opt` is (UDP size, the OPT TTL word: extended rcode, version, DO and
/// flags, and raw options).
fn raw_query(
    id: u16,
    flags: u16,
    name: &str,
    qtype: u16,
    opt: Option<(u16, u32, &[u8])>,
) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&flags.to_be_bytes());
    p.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, u8::from(opt.is_some())]);
    for label in name.trim_end_matches('.').split('.') {
        p.push(label.len() as u8);
        p.extend_from_slice(label.as_bytes());
    }
    p.push(0);
    p.extend_from_slice(&qtype.to_be_bytes());
    p.extend_from_slice(&1u16.to_be_bytes());
    if let Some((size, ttl, options)) = opt {
        p.push(0);
        p.extend_from_slice(&TYPE_OPT.to_be_bytes());
        p.extend_from_slice(&size.to_be_bytes());
        p.extend_from_slice(&ttl.to_be_bytes());
        p.extend_from_slice(&(options.len() as u16).to_be_bytes());
        p.extend_from_slice(options);
    }
    p
}

/// The OPT record of a reply: (UDP size, TTL word, option codes).
fn opt_of(reply: &[u8]) -> Option<(u16, u32, Vec<u16>)> {
    let m = decode(reply);
    let edns = m.edns.as_ref()?;
    // hickory models the OPT record; the raw TTL word is rebuilt from the reply bytes
    // because hickory drops unknown EDNS flag bits.
    let ttl = opt_ttl_word(reply)?;
    let codes = edns
        .options()
        .as_ref()
        .iter()
        .map(|(code, _)| u16::from(*code))
        .collect();
    Some((edns.max_payload(), ttl, codes))
}

/// The TTL word of the OPT record: found as the last record of the reply (nestguard
/// always writes it last), checked by its owner (root) and type.
fn opt_ttl_word(reply: &[u8]) -> Option<u32> {
    // Walk back over the options to the fixed part: owner 0, TYPE 41, CLASS, TTL, RDLEN.
    (0..reply.len().saturating_sub(10)).rev().find_map(|at| {
        let rdlen = usize::from(u16::from_be_bytes([reply[at + 9], reply[at + 10]]));
        let fits = at + 11 + rdlen == reply.len();
        let is_opt = reply[at] == 0 && reply[at + 1] == 0 && reply[at + 2] == 41;
        (fits && is_opt).then(|| {
            u32::from_be_bytes([reply[at + 5], reply[at + 6], reply[at + 7], reply[at + 8]])
        })
    })
}

async fn udp(d: &TestDaemon, packet: &[u8]) -> Vec<u8> {
    send_raw_udp(d.addr, packet, Duration::from_secs(5))
        .await
        .expect("a reply within 5 s")
}

async fn tcp(d: &TestDaemon, packet: &[u8]) -> Vec<u8> {
    let mut framed = (packet.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(packet);
    send_raw_tcp(d.addr, &framed, Duration::from_secs(5))
        .await
        .expect("a reply within 5 s")
}

/// Item 11: an authoritative upstream (a school's DNS, nsd) answers with AA and
/// without RA; nestguard is the recursive service its clients asked, so every
/// answer it relays, fresh or from the cache, says RA and not AA, and never Z.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relayed_and_cached_answers_say_recursion_available_even_from_an_authoritative_upstream() {
    let up = FakeUpstream::start().await;
    up.set_reply_flags(AA | Z, RA);
    let d = TestDaemon::with_upstream(&up, "").await;
    for (name, qtype, rcode) in [
        ("example.com", TYPE_A, 0),
        ("example.com", TYPE_TXT, 0), // NODATA
        ("nx.example.com", TYPE_A, 3),
    ] {
        for pass in ["forwarded", "cached (UDP)", "cached (TCP)"] {
            let q = raw_query(0x4242, RD, name, qtype, Some((1232, 0, &[])));
            let reply = if pass.ends_with("(TCP)") {
                tcp(&d, &q).await
            } else {
                udp(&d, &q).await
            };
            let f = flags_of(&reply);
            let what = format!("{name} type {qtype}, {pass}: flags {f:#06x}");
            assert_eq!(f & RCODE, rcode, "{what}");
            assert!(f & RA != 0, "RA missing: {what}");
            assert!(f & AA == 0, "AA from the upstream passed on: {what}");
            assert!(f & Z == 0, "Z bit set: {what}");
            assert!(f & RD != 0, "RD not echoed: {what}");
        }
    }
    assert_eq!(up.exchanges(), 3, "the second and third asks are cached");
    d.stop().await;
}

/// Item 11: RFC 6840 §5.8: AD only for a client that asked for it (AD or DO),
/// even when a trusted (loopback) upstream set it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ad_from_a_trusted_upstream_goes_only_to_clients_that_ask_for_it() {
    let up = FakeUpstream::start().await;
    up.set_reply_flags(AD, 0);
    let d = TestDaemon::with_upstream(&up, "").await;
    for _ in 0..2 {
        let plain = udp(&d, &raw_query(1, RD, "example.com", TYPE_A, None)).await;
        assert_eq!(flags_of(&plain) & AD, 0, "AD for a client that did not ask");
        let asks_ad = udp(&d, &raw_query(2, RD | AD, "example.com", TYPE_A, None)).await;
        assert_ne!(flags_of(&asks_ad) & AD, 0, "AD asked for with the AD bit");
        let dnssec_ok = raw_query(3, RD, "example.com", TYPE_A, Some((1232, 0x8000, &[])));
        assert_ne!(
            flags_of(&udp(&d, &dnssec_ok).await) & AD,
            0,
            "AD asked for with DO"
        );
    }
    d.stop().await;
}

/// Item 11: an opcode we do not implement gets NOTIMP with the opcode echoed
/// and no other bit: RA, AA, RD, CD, AD, TC and Z are defined for QUERY only
/// (genreport `opcode` and `opcodeflg`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_opcode_gets_notimp_with_no_flags_set() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    let opcode15 = 15 << 11;
    let every_flag = TC | RD | RA | CD | AD | AA | Z;
    // Header only (no question), as genreport sends it.
    for flags in [RD, opcode15 | RD, opcode15 | every_flag] {
        let flags = flags | opcode15;
        let mut q = vec![0x12, 0x34];
        q.extend_from_slice(&flags.to_be_bytes());
        q.extend_from_slice(&[0; 8]);
        let reply = udp(&d, &q).await;
        assert_eq!(&reply[..2], &[0x12, 0x34]);
        assert_eq!(
            flags_of(&reply),
            QR | opcode15 | 4,
            "query flags {flags:#06x}: reply flags {:#06x}",
            flags_of(&reply)
        );
        assert_eq!(count(&reply, 4), 0, "no question in the reply");
    }
    // With a question and EDNS (opcode 2, STATUS): the same, over TCP too.
    let status = 2 << 11;
    let q = raw_query(
        7,
        status | RD | CD,
        "example.com",
        TYPE_SOA,
        Some((1232, 0, &[])),
    );
    for reply in [udp(&d, &q).await, tcp(&d, &q).await] {
        assert_eq!(
            flags_of(&reply) & !RCODE,
            QR | status,
            "{:#06x}",
            flags_of(&reply)
        );
        assert_eq!(flags_of(&reply) & RCODE, 4, "NOTIMP");
    }
    assert_eq!(up.queries(), 0, "nothing of this goes upstream");
    d.stop().await;
}

/// Item 11: genreport's EDNS tests: unknown EDNS flags and options are ignored
/// and never echoed (not even the upstream's own NSID), version 1 gets BADVERS
/// with version 0 and no records, the Z bit is not echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edns_is_answered_as_rfc_6891_says() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    // Option 100 (unassigned), NSID, EXPIRE, a client cookie; EDNS flag 0x0080 (unassigned).
    let options: &[u8] = b"\x00\x64\x00\x00\x00\x03\x00\x00\x00\x09\x00\x00\x00\x0a\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08";
    for pass in ["forwarded", "cached"] {
        let q = raw_query(
            9,
            RD | Z,
            "example.com",
            TYPE_SOA,
            Some((4096, 0x0080, options)),
        );
        let reply = udp(&d, &q).await;
        let f = flags_of(&reply);
        assert_eq!(f & RCODE, 0, "{pass}");
        assert_eq!(f & Z, 0, "{pass}: Z echoed");
        let (size, ttl, codes) = opt_of(&reply).expect("an OPT record");
        assert_eq!(size, 1232, "{pass}: our own UDP size");
        assert_eq!(ttl, 0, "{pass}: version 0, no flags, no extended rcode");
        assert!(
            codes.iter().all(|&c| c == 15),
            "{pass}: options echoed: {codes:?}"
        );
    }
    // EDNS version 1: BADVERS (extended rcode 1, header rcode 0), version 0, no records.
    for transport in ["UDP", "TCP"] {
        let q = raw_query(
            10,
            RD,
            "example.com",
            TYPE_SOA,
            Some((4096, 0x0001_0000, &[])),
        );
        let reply = if transport == "TCP" {
            tcp(&d, &q).await
        } else {
            udp(&d, &q).await
        };
        let f = flags_of(&reply);
        assert_eq!(f & RCODE, 0, "{transport}");
        assert_ne!(f & RA, 0, "{transport}: RA");
        let (_, ttl, _) = opt_of(&reply).expect("an OPT record");
        assert_eq!(ttl >> 24, 1, "{transport}: extended rcode 1 (BADVERS)");
        assert_eq!((ttl >> 16) & 0xff, 0, "{transport}: our version is 0");
        assert_eq!(count(&reply, 6) + count(&reply, 8), 0, "no records");
    }
    // No EDNS asked, none given.
    let reply = udp(&d, &raw_query(11, RD, "example.com", TYPE_SOA, None)).await;
    assert_eq!(count(&reply, 10), 0, "no OPT for a client that sent none");
    d.stop().await;
}

/// Item 11: genreport `edns@512`: a reply fits the size the client advertised
/// (never more than 512 here), else it is truncated with TC, from the
/// upstream and from the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_fit_the_advertised_size_or_say_tc() {
    let up = FakeUpstream::start().await;
    let d = TestDaemon::with_upstream(&up, "").await;
    // Prime the cache over TCP, where the whole answer fits.
    let full = tcp(
        &d,
        &raw_query(1, RD, BIG_NAME, TYPE_TXT, Some((512, 0x8000, &[]))),
    )
    .await;
    assert_eq!(flags_of(&full) & TC, 0);
    assert!(full.len() > 512);
    for size in [512, 600, 1000] {
        let q = raw_query(2, RD, BIG_NAME, TYPE_TXT, Some((size, 0x8000, &[])));
        let reply = udp(&d, &q).await;
        assert!(reply.len() <= usize::from(size), "{} > {size}", reply.len());
        assert_ne!(flags_of(&reply) & TC, 0, "size {size}: TC");
        assert_ne!(flags_of(&reply) & RA, 0, "size {size}: RA");
    }
    // A small answer at 512 is whole.
    let q = raw_query(3, RD, "example.com", TYPE_A, Some((512, 0x8000, &[])));
    let reply = udp(&d, &q).await;
    assert_eq!(flags_of(&reply) & TC, 0);
    assert_eq!(count(&reply, 6), 1);
    d.stop().await;
}

/// A list with an address rewrite and an alias rewrite, in `adult` (blocked for a child).
fn rewrite_lists(dir: &TempDir) -> String {
    std::fs::write(
        dir.join("rewrites.txt"),
        "||addr.example^$dnsrewrite=192.0.2.55\n||alias.example^$dnsrewrite=NOERROR;CNAME;safe.example\n",
    )
    .unwrap();
    format!(
        "[[rules.list]]\npath = \"{}\"\ncategory = \"adult\"\n",
        dir.join("rewrites.txt").display()
    )
}

/// Item 12: every answer the household's policy rewrote (a list's address or
/// alias, safe search) says so the same way: NOERROR with the records, and EDE
/// 17 "Filtered" naming the rule or "safe search".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rewritten_answer_carries_ede_filtered_with_its_reason() {
    let up = FakeUpstream::start().await;
    up.set_a("safe.example.", Ipv4Addr::new(192, 0, 2, 77), 300);
    up.set_a(
        "forcesafesearch.google.com.",
        Ipv4Addr::new(216, 239, 38, 120),
        300,
    );
    let dir = TempDir::new();
    let d = TestDaemon::with_upstream(&up, &rewrite_lists(&dir)).await;
    let list = dir.join("rewrites.txt").display().to_string();
    for (name, want_a, want_cname, want_text) in [
        (
            "addr.example",
            Ipv4Addr::new(192, 0, 2, 55),
            None,
            format!("adult: {list}:1"),
        ),
        (
            "www.alias.example",
            Ipv4Addr::new(192, 0, 2, 77),
            Some("safe.example."),
            format!("adult: {list}:2"),
        ),
        (
            "www.google.com",
            Ipv4Addr::new(216, 239, 38, 120),
            Some("forcesafesearch.google.com."),
            "safe search: forcesafesearch.google.com".to_string(),
        ),
    ] {
        for m in [
            query_udp(d.addr, name, RecordType::A).await,
            query_tcp(d.addr, name, RecordType::A).await,
        ] {
            assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{name}");
            assert_eq!(a_records(&m), vec![want_a], "{name}");
            let cname = m.answers.iter().find_map(|r| match &r.data {
                RData::CNAME(c) => Some(c.0.to_ascii()),
                _ => None,
            });
            assert_eq!(cname.as_deref(), want_cname, "{name}");
            assert!(m.metadata.recursion_available, "{name}: RA");
            assert_eq!(
                ede(m.edns.as_ref()),
                Some((17, want_text.clone())),
                "{name}: EDE 17 Filtered with the reason"
            );
        }
    }
    // An unrewritten name carries no EDE.
    let plain = query_udp(d.addr, "example.com", RecordType::A).await;
    assert_eq!(ede(plain.edns.as_ref()), None);
    d.stop().await;
}

fn explain(args: &[&str], config: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nestguard"))
        .arg("explain")
        .args(args)
        .arg("-c")
        .arg(config)
        .env_remove("NESTGUARD_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "explain {args:?}: {}{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Item 12: `explain` says in words what a rewrite answers, with the profile
/// and with a client, and names the EDE the client sees.
#[test]
fn explain_describes_rewrites_in_words() {
    let dir = TempDir::new();
    let config = dir.join("nestguard.toml");
    std::fs::write(&config, rewrite_lists(&dir)).unwrap();
    let by_profile = ["--profile", "child"];
    let by_client = ["--client", "127.0.0.1"];
    let run = |name: &str, qtype: &str, how: [&str; 2]| {
        let text = explain(&[name, "--type", qtype, how[0], how[1]], &config);
        assert!(!text.contains("Some("), "Rust debug text: {text}");
        text
    };
    let text = run("addr.example", "A", by_profile);
    assert!(
        text.contains("REWRITTEN: answered with the address 192.0.2.55"),
        "{text}"
    );
    assert!(text.contains("EDE 17 \"Filtered\""), "{text}");
    let text = run("addr.example", "AAAA", by_client);
    assert!(
        text.contains(
            "REWRITTEN: answered with no AAAA records (the rule gives the address 192.0.2.55)"
        ),
        "{text}"
    );
    for how in [by_profile, by_client] {
        let text = run("www.alias.example", "A", how);
        assert!(
            text.contains("REWRITTEN: answered with an alias to safe.example (its records come from the upstream)"),
            "{text}"
        );
        assert!(text.contains("EDE 17 \"Filtered\""), "{text}");
    }
    let text = run("www.google.com", "A", by_client);
    assert!(
        text.contains(
            "SAFE SEARCH: answered with an alias to forcesafesearch.google.com (safe search)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "EDE 17 \"Filtered\" with the text \"safe search: forcesafesearch.google.com\""
        ),
        "{text}"
    );
}

/// Item 13: RFC 8767 §5: with an expired answer in the cache and the upstream
/// slow, the client gets the stale answer after the client response timer
/// (`stale_answer_timeout`, 1.8 s by default; short here), before its own
/// timer gives up, while the refresh goes on and lands in the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_answer_comes_before_the_clients_timer_and_the_refresh_still_lands() {
    let up = FakeUpstream::start().await;
    let name = "fleeting.example.com.";
    up.set_a(name, Ipv4Addr::new(198, 51, 100, 7), 60);
    let config = format!(
        "{}[cache]\nstale_answer_timeout = \"300ms\"\n",
        udp_upstream(up.addr(), "5s")
    );
    let (d, clock) = TestDaemon::start_manual(&config).await;
    let fresh = query_udp(d.addr, name, RecordType::A).await;
    assert_eq!(a_records(&fresh), vec![Ipv4Addr::new(198, 51, 100, 7)]);

    // The answer expires (the daemon's clock moves on, no waiting), and the
    // upstream becomes slow: its new answer comes after 1.5 s.
    clock.advance(Duration::from_secs(61));
    up.set_a(name, Ipv4Addr::new(198, 51, 100, 8), 60);
    up.set_delay(name, Duration::from_millis(1500));

    let asked = Instant::now();
    let stale = tokio::time::timeout(
        Duration::from_millis(1400),
        query_udp(d.addr, name, RecordType::A),
    )
    .await
    .expect("the stale answer comes before the upstream's (and the client's 2 s timer)");
    assert_eq!(a_records(&stale), vec![Ipv4Addr::new(198, 51, 100, 7)]);
    assert_eq!(min_answer_ttl(&stale), Some(30), "RFC 8767 stale TTL");
    assert_eq!(ede(stale.edns.as_ref()).map(|e| e.0), Some(3), "EDE 3");
    let served_stale = || {
        let c = &d.daemon.resolver.counters;
        c.stale_answers.load(std::sync::atomic::Ordering::Relaxed)
    };
    assert_eq!(served_stale(), 1, "counted for /metrics");

    // The refresh was not abandoned: once the upstream answers, the new address is served fresh.
    let mut refreshed = None;
    while asked.elapsed() < Duration::from_secs(6) {
        let m = query_udp(d.addr, name, RecordType::A).await;
        if a_records(&m) == vec![Ipv4Addr::new(198, 51, 100, 8)] {
            refreshed = Some(m);
            break;
        }
        assert_eq!(
            a_records(&m),
            vec![Ipv4Addr::new(198, 51, 100, 7)],
            "stale meanwhile"
        );
        // A poll step: the refresh from the slow upstream landing ends it.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refreshed = refreshed.expect("the refreshed answer within 6 s");
    assert_eq!(ede(refreshed.edns.as_ref()), None, "fresh, not stale");
    assert!(min_answer_ttl(&refreshed).unwrap() > 30);
    assert_eq!(
        up.exchanges(),
        2,
        "one refresh for every client that asked meanwhile"
    );
    d.stop().await;
}

/// Item 13: the client response timer's default is RFC 8767's 1.8 s.
#[test]
fn the_stale_answer_timer_defaults_to_rfc_8767s_1_8_seconds() {
    let c = nestguard::config::Config::parse("", "t.toml", None).unwrap();
    assert_eq!(c.cache.stale_answer_timeout, Duration::from_millis(1800));
    let c = nestguard::config::Config::embedded().unwrap();
    assert_eq!(c.cache.stale_answer_timeout, Duration::from_millis(1800));
}
