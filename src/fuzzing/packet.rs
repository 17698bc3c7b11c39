//! The query path end to end: a packet from some client → client identity →
//! profile → decision → answer; and when the answer needs an upstream, the
//! daemon's own miss path (`answer_slow`) asks a scripted upstream that
//! answers with the input's bytes → checks → cache → the answer rendered for
//! the client. Nothing of the upstream leg is re-implemented here.
//!
//! Input: byte 0 picks the client address, byte 1 the transport and how the
//! upstream response is built, bytes 2–3 the length of the query; the query;
//! then the upstream's response.
//!
//! Oracles: every reply carries the query's ID with QR set; replies we build
//! ourselves parse with hickory-proto; replies rendered from the cache parse
//! with our own response scanner and hold only records about the question
//! (scrubbing them again changes nothing).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};

use crate::config::Config;
use crate::dns::bailiwick;
use crate::dns::resolve::{Client, Fast, Resolver, Transport};
use crate::dns::upstream::Upstream;
use crate::dns::wire::{self, MAX_KEY_LEN};
use crate::policy::neighbours::{KernelNeighbours, Neighbours};

/// What the scripted upstream answers next (its ID is set to the query's,
/// as a real upstream's would be).
static NEXT_REPLY: Mutex<Vec<u8>> = Mutex::new(Vec::new());

const CONFIG: &str = r#"
[server]
listen = ["127.0.0.1:5353"]
deny = ["10.9.9.0/24"]
rate_limit = 0

[[upstream]]
protocol = "udp"
address = "127.0.0.1:9"

[policy]
default_profile = "young-child"

[[client]]
name = "sam"
profile = "child"
addresses = ["10.0.0.2"]

[[client]]
name = "alex"
profile = "teen"
addresses = ["10.0.0.3", "fd00::3"]

[[client]]
name = "parent"
profile = "unfiltered"
addresses = ["10.0.0.4"]
"#;

const PEERS: &[&str] = &[
    "127.0.0.1",
    "10.0.0.2",
    "10.0.0.3",
    "fd00::3",
    "10.0.0.4",
    "10.9.9.9",
    "8.8.8.8",
];

fn resolver() -> &'static Resolver {
    static R: OnceLock<Resolver> = OnceLock::new();
    R.get_or_init(|| {
        let mut config = Config::parse(CONFIG, "fuzz.toml", None).expect("fuzz config");
        config.activity.enabled = true;
        config.cache.max_entries = 256;
        let neighbours = Arc::new(Neighbours::new(Arc::new(KernelNeighbours)));
        let upstream = Upstream::scripted(Arc::new(|query: &[u8]| {
            let mut reply = NEXT_REPLY.lock().map(|r| r.clone()).unwrap_or_default();
            if reply.len() >= 2 && query.len() >= 2 {
                reply[..2].copy_from_slice(&query[..2]);
            }
            reply
        }));
        crate::app::resolver_on(
            &config,
            vec![upstream],
            neighbours,
            Arc::new(crate::policy::users::KernelOwners),
            Arc::new(crate::activity::Recorder::default()),
            &crate::clock::Clock::system(),
            crate::dns::upstream::Connections::default(),
        )
        .expect("resolver")
    })
}

/// Drives the miss path; one thread, as the fuzzer runs one input at a time.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fn check_reply(query: &[u8], out: &[u8]) {
    assert!(out.len() >= wire::HEADER_LEN, "short reply");
    assert_eq!(&out[..2], &query[..2], "reply ID differs from the query's");
    assert!(
        wire::read_u16(out, 2) & wire::FLAG_QR != 0,
        "reply without QR"
    );
}

pub fn packet(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let peer: IpAddr = PEERS[usize::from(data[0]) % PEERS.len()]
        .parse()
        .expect("peer");
    let mode = data[1];
    let qlen = usize::from(u16::from_be_bytes([data[2], data[3]]));
    let rest = &data[4..];
    let (query, upstream) = rest.split_at(qlen.min(rest.len()));
    let client = Client {
        peer: SocketAddr::new(peer, 40000),
        listener: "127.0.0.1:5353".parse().expect("listener"),
    };
    let transport = if mode & 1 == 0 {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let r = resolver();
    let mut out = Vec::new();
    match r.answer_fast(query, client, transport, &mut out) {
        Fast::Drop => return,
        Fast::Reply | Fast::ReplyPrefetch => {
            check_reply(query, &out);
            // Answers we wrote ourselves (blocks, errors, refusals) are well-formed.
            if r.cache()
                .with(&key_of(query).unwrap_or_default(), now(), |f| {
                    matches!(f, crate::dns::cache::Lookup::Miss)
                })
            {
                hickory_proto::op::Message::from_vec(&out).expect("our reply parses");
            }
            return;
        }
        Fast::Miss => {}
    }
    // The miss path: what the upstream would have said to this question.
    let Some(key) = key_of(query) else { return };
    let response = if mode & 2 == 0 {
        upstream.to_vec()
    } else {
        // Splice the question in so the fuzzer explores the records, not the match.
        let Some((header, records)) = upstream.split_at_checked(wire::HEADER_LEN) else {
            return;
        };
        let mut m = header.to_vec();
        wire::write_u16(&mut m, 4, 1);
        m.extend_from_slice(&key[..key.len() - 1]);
        m.extend_from_slice(records);
        m
    };
    if let Ok(mut next) = NEXT_REPLY.lock() {
        *next = response;
    }
    out.clear();
    runtime().block_on(r.answer_slow(query, client, transport, &mut out));
    if !out.is_empty() {
        check_reply(query, &out);
    }
    out.clear();
    match r.answer_fast(query, client, transport, &mut out) {
        Fast::Reply | Fast::ReplyPrefetch => {
            check_reply(query, &out);
            let tc = wire::read_u16(&out, 2) & wire::FLAG_TC != 0;
            if !tc {
                let mut ours = out.clone();
                wire::write_u16(&mut ours, 0, 7);
                let layout = wire::scan_response(&ours, 7, &key).expect("rendered answer scans");
                // Scrubbing what we send changes nothing: every record is about the question.
                let (again, _) = bailiwick::scrub(ours.clone(), layout, 7, &key).expect("scrubs");
                assert_eq!(
                    again, ours,
                    "a record outside the bailiwick reached a client"
                );
            }
        }
        // Not cacheable (TTL 0, SERVFAIL): would be passed on once, uncached.
        Fast::Miss | Fast::Drop => {}
    }
}

fn key_of(query: &[u8]) -> Option<Vec<u8>> {
    let q = wire::parse_query(query).ok()?;
    let mut buf = [0u8; MAX_KEY_LEN];
    Some(q.cache_key(&mut buf).to_vec())
}

fn now() -> u64 {
    resolver().cache().now()
}
