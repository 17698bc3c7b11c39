//! What counting minutes per service adds to a query: the name's services
//! looked up in the shipped catalogue (once per query, shared with the
//! engine's service rules), and the minute marked in the per-profile
//! bitmaps. Run with `cargo bench --bench services`; the whole query path
//! is measured by `bench/compare.py`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests say what failed by panicking

use std::hint::black_box;

use criterion::Criterion;
use nestguard::activity::tally::Tally;
use nestguard::config::Privacy;
use nestguard::rules::catalog::RulesDir;
use nestguard::rules::name::Candidate;
use nestguard::rules::services::{ServiceIndex, load_services};

/// Half service names (several hosts of a few services), half not.
const NAMES: &[&str] = &[
    "i.ytimg.com",
    "www.example.com",
    "rr3---sn-4g5e6nzl.googlevideo.com",
    "cdn.jsdelivr.net",
    "www.tiktok.com",
    "mail.google.com",
    "player.vimeo.com",
    "a.b.c.d.example.org",
];

fn wire(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

fn main() {
    let index = ServiceIndex::new(load_services(&RulesDir::Embedded).unwrap());
    let wires: Vec<Vec<u8>> = NAMES.iter().map(|n| wire(n)).collect();
    let tally = Tally::new(
        vec![Privacy::BlockedDomains; 8],
        0,
        index.defs().iter().map(|d| d.group).collect(),
    );
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("service_minutes");
    g.bench_function("candidate_from_wire", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % wires.len();
            Candidate::from_wire(black_box(&wires[i])).map(|c| c.label_count())
        })
    });
    g.bench_function("from_wire_and_services_of", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % wires.len();
            let name = Candidate::from_wire(black_box(&wires[i])).unwrap();
            index.services_of(&name)
        })
    });
    let masks: Vec<_> = wires
        .iter()
        .map(|w| index.services_of(&Candidate::from_wire(w).unwrap()))
        .collect();
    g.bench_function("record_minute", |b| {
        let (mut i, mut minute) = (0, 29_000_000u64);
        b.iter(|| {
            i = (i + 1) % masks.len();
            minute += u64::from(i == 0);
            tally.services.record(i % 8, black_box(masks[i]), minute);
        })
    });
    g.finish();
    c.final_summary();
}
