//! Writes the benchmark data, the same bytes on every machine (a hand-written
//! SplitMix64, so no library update can change them):
//!
//!     cargo run --release --example bench_data -- OUT_DIR [DOMAINS]
//!
//! - `blocklist.txt`: DOMAINS (default 1,000,000) distinct names, one per line,
//!   shaped like real list entries (one to three labels under a TLD);
//! - `hosts`: 1,000 allowed names under `bench.test` with an IPv4 and an IPv6
//!   address each, for the loopback upstream (`/etc/hosts` format);
//! - `queries-mix.txt`: 1,000,000 dnsperf queries, 30% blocked names from the
//!   list and 70% the allowed names again and again; 20% of all are AAAA;
//! - `queries-forward.txt`: 2,000,000 queries, 70% names never asked before
//!   (under `fresh.bench.test`, which the upstream answers with a wildcard),
//!   30% the allowed names.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests say what failed by panicking

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

#[path = "../benches/support/splitmix.rs"]
mod splitmix;
use splitmix::SplitMix64;

trait Pick {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str;
}

impl Pick for SplitMix64 {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const WORDS: &[&str] = &[
    "ads",
    "track",
    "cdn",
    "casino",
    "bet",
    "poker",
    "slots",
    "cam",
    "chat",
    "video",
    "stream",
    "free",
    "win",
    "promo",
    "click",
    "media",
    "static",
    "img",
    "mail",
    "shop",
    "news",
    "live",
    "game",
    "play",
    "lucky",
    "spin",
    "metrics",
    "pixel",
    "analytics",
    "tube",
];
const TLDS: &[&str] = &[
    "com", "net", "org", "io", "info", "xyz", "top", "ru", "de", "co.uk", "biz", "online", "site",
    "club", "app",
];
/// Allowed names the upstream knows.
const ALLOWED: usize = 1_000;

fn allowed(i: usize) -> String {
    format!("a{i:04}.bench.test")
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "bench/data".into());
    let domains: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let out = Path::new(&out);
    std::fs::create_dir_all(out)?;
    let mut rng = SplitMix64(0x6e65_7374_6775_6172);

    // Distinct by construction: the serial number is part of the first label.
    let mut list = Vec::with_capacity(domains);
    for i in 0..domains {
        let mut name = format!("{}{}{}", rng.pick(WORDS), i, rng.pick(WORDS));
        for _ in 0..rng.below(3) {
            name = format!("{}.{name}", rng.pick(WORDS));
        }
        list.push(format!("{name}.{}", rng.pick(TLDS)));
    }
    let mut w = BufWriter::new(File::create(out.join("blocklist.txt"))?);
    for name in &list {
        writeln!(w, "{name}")?;
    }
    w.flush()?;

    let mut w = BufWriter::new(File::create(out.join("hosts"))?);
    for i in 0..ALLOWED {
        writeln!(w, "10.0.{}.{} {}", i / 256, i % 256, allowed(i))?;
        writeln!(w, "fd00::{i:x} {}", allowed(i))?;
    }
    w.flush()?;

    let qtype = |rng: &mut SplitMix64| if rng.below(5) == 0 { "AAAA" } else { "A" };
    let mut w = BufWriter::new(File::create(out.join("queries-mix.txt"))?);
    for _ in 0..1_000_000 {
        let t = qtype(&mut rng);
        if rng.below(10) < 3 {
            writeln!(w, "{} {t}", list[rng.below(domains)])?;
        } else {
            writeln!(w, "{} {t}", allowed(rng.below(ALLOWED)))?;
        }
    }
    w.flush()?;

    let mut w = BufWriter::new(File::create(out.join("queries-forward.txt"))?);
    for i in 0..2_000_000u64 {
        let t = qtype(&mut rng);
        if rng.below(10) < 7 {
            writeln!(w, "q{i}.fresh.bench.test {t}")?;
        } else {
            writeln!(w, "{} {t}", allowed(rng.below(ALLOWED)))?;
        }
    }
    w.flush()?;
    eprintln!("wrote {} ({domains} blocked names)", out.display());
    Ok(())
}
