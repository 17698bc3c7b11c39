//! Rule engine at scale: compile time, heap of the compiled set, lookup latency.
//!
//! The rule set is deterministic:
//! - 1,000,000 distinct domain names, one per line, in one plain-domain Block
//!   source: the union of the domain lists in `../shared/data` (when present),
//!   topped up with generated names;
//! - 1,000 generated keywords (a Keywords source);
//! - 100 generated regexes (a second Block source).
//!
//! Run with `cargo bench --bench rules`. Before the criterion benches it prints the
//! data set, one wall-clock compile, and the heap the compiled set holds, counted
//! on the compiling thread by `allocation-counter` (this binary's allocator).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests say what failed by panicking

use std::collections::HashSet;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use nestguard::rules::name::Candidate;
use nestguard::rules::parse::ClientInfo;
use nestguard::rules::{
    Builder, CategoryMask, Diagnostics, ListKind, Matcher, RuleSet, SourceLocation, Verdict,
};

fn mib(bytes: isize) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

// ---------------------------------------------------------------------------
// Deterministic data.
// ---------------------------------------------------------------------------

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");
const TOTAL_NAMES: usize = 1_000_000;
const KEYWORDS: usize = 1_000;
const REGEXES: usize = 100;
/// Names each lookup bench rotates over.
const ROTATION: usize = 1_000;

#[path = "support/splitmix.rs"]
mod splitmix;
use splitmix::SplitMix64 as Rng;

impl Rng {
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn word(&mut self, alphabet: &[u8], lo: usize, hi: usize) -> String {
        let n = self.range(lo, hi);
        (0..n)
            .map(|_| char::from(alphabet[self.below(alphabet.len())]))
            .collect()
    }
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const TLDS: &[&str] = &[
    "com", "net", "org", "xyz", "top", "info", "de", "ru", "co.uk", "com.br", "io", "site",
    "online", "fr", "nl", "shop",
];
const SUBS: &[&str] = &[
    "www", "cdn", "api", "m", "img", "static", "mail", "app", "login", "track",
];

/// A name the engine accepts as is: lowercase a-z, 0-9, `-`, `_`; labels 1-63; at most 253; not an IPv4 address.
fn clean_name(raw: &str) -> Option<String> {
    let name = raw.strip_suffix('.').unwrap_or(raw).to_ascii_lowercase();
    // Single labels are refused in plain lists (they would cover a whole TLD).
    let ok = name.contains('.')
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        })
        && name.parse::<std::net::Ipv4Addr>().is_err();
    ok.then_some(name)
}

/// The domain names of one list line, in any of the shared lists' formats
/// (plain, `*.name`, hosts with a blocking address, `||name^`). Rewrites, regexes,
/// exceptions and bare addresses give none.
fn names_of_line(line: &str, out: &mut Vec<String>) {
    let t = line.trim();
    if t.is_empty() || t.starts_with(['#', '!', '[', '@', '/']) || t.contains('$') {
        return;
    }
    if let Some(r) = t.strip_prefix("||") {
        if let Some(n) = r.strip_suffix('^').and_then(clean_name) {
            out.push(n);
        }
        return;
    }
    let body = t.split('#').next().unwrap_or("");
    let words: Vec<&str> = body.split_whitespace().collect();
    match words.as_slice() {
        [one] => out.extend(clean_name(one.strip_prefix("*.").unwrap_or(one))),
        [addr, names @ ..] if matches!(*addr, "0.0.0.0" | "127.0.0.1" | "::" | "::1") => {
            out.extend(
                names
                    .iter()
                    .filter(|n| !n.eq_ignore_ascii_case("localhost"))
                    .filter_map(|n| clean_name(n)),
            );
        }
        _ => {}
    }
}

struct Data {
    /// The 1,000,000 names in list order (shared ones first).
    names: Vec<String>,
    from_shared: usize,
    shared_files: usize,
    domains: String,
    keywords: String,
    regexes: String,
    keyword_words: Vec<String>,
    regex_hits: Vec<String>,
}

fn collect_shared(names: &mut Vec<String>, seen: &mut HashSet<String>) -> usize {
    let dir = Path::new(DATA);
    if !dir.is_dir() {
        eprintln!("note: {DATA} is absent; the rule set is generated names only");
        return 0;
    }
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            // `popular/` holds the most-visited sites (false-positive
            // evidence), not a block list: a bench set of it would block
            // `example.net` and the other names the lookups expect open.
            if p.is_dir() {
                if p.file_name().is_none_or(|n| n != "popular") {
                    stack.push(p);
                }
            } else if p.extension().is_none_or(|x| x != "md") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut line_names = Vec::new();
    for f in &files {
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        for line in String::from_utf8_lossy(&bytes).lines() {
            line_names.clear();
            names_of_line(line, &mut line_names);
            for n in line_names.drain(..) {
                if names.len() < TOTAL_NAMES && seen.insert(n.clone()) {
                    names.push(n);
                }
            }
        }
    }
    files.len()
}

fn generated_name(rng: &mut Rng) -> String {
    let core = match rng.below(4) {
        0 => format!("{}-{}", rng.word(LETTERS, 3, 8), rng.word(LETTERS, 3, 8)),
        1 => format!("{}{}", rng.word(LETTERS, 4, 9), rng.range(1, 999)),
        _ => rng.word(ALNUM, 5, 14),
    };
    let tld = TLDS[rng.below(TLDS.len())];
    match rng.below(10) {
        0..=5 => format!("{core}.{tld}"),
        6..=8 => format!("{}.{core}.{tld}", SUBS[rng.below(SUBS.len())]),
        _ => format!(
            "{}.{}.{core}.{tld}",
            rng.word(ALNUM, 2, 8),
            SUBS[rng.below(SUBS.len())]
        ),
    }
}

impl Data {
    fn build() -> Data {
        let mut names = Vec::with_capacity(TOTAL_NAMES);
        let mut seen = HashSet::with_capacity(TOTAL_NAMES);
        let shared_files = collect_shared(&mut names, &mut seen);
        let from_shared = names.len();
        let mut rng = Rng(0x6e65_7374_6775_6172);
        while names.len() < TOTAL_NAMES {
            let n = generated_name(&mut rng);
            if seen.insert(n.clone()) {
                names.push(n);
            }
        }
        drop(seen);
        let mut domains = String::with_capacity(names.iter().map(|n| n.len() + 1).sum());
        for n in &names {
            domains.push_str(n);
            domains.push('\n');
        }

        let mut kw_seen = HashSet::new();
        let mut keyword_words = Vec::with_capacity(KEYWORDS);
        while keyword_words.len() < KEYWORDS {
            let w = rng.word(LETTERS, 6, 10);
            if kw_seen.insert(w.clone()) {
                keyword_words.push(w);
            }
        }
        let keywords: String = keyword_words.iter().map(|w| format!("{w}\n")).collect();

        // 100 regexes in five realistic shapes, each with its own literal, and a name each matches.
        let mut regexes = String::new();
        let mut regex_hits = Vec::with_capacity(REGEXES);
        for i in 0..REGEXES {
            let w = format!("{}{}", rng.word(LETTERS, 3, 5), i);
            let (re, hit) = match i % 5 {
                0 => (
                    format!(r"^[a-z]{{3}}[0-9]{{2}}-{w}[0-9]+\."),
                    format!("abc12-{w}7.example.net"),
                ),
                1 => (
                    format!(r"^(?:ads?|track|pixel)[0-9]*\.{w}\."),
                    format!("ads3.{w}.example.com"),
                ),
                2 => (
                    format!(r"(?:^|\.){w}[0-9]{{2,4}}\.(?:com|net|xyz)$"),
                    format!("cdn.{w}123.xyz"),
                ),
                3 => (
                    format!(r"^[0-9a-f]{{8}}-{w}\."),
                    format!("0badc0de-{w}.example.org"),
                ),
                _ => (
                    format!(r"^{w}-?(?:cdn|img|static)[0-9]*\."),
                    format!("{w}-img2.example.com"),
                ),
            };
            regexes.push_str(&format!("/{re}/\n"));
            regex_hits.push(hit);
        }
        Data {
            names,
            from_shared,
            shared_files,
            domains,
            keywords,
            regexes,
            keyword_words,
            regex_hits,
        }
    }
}

/// The three sources as the brief has them: `add_source` (which keeps a copy of each text for `explain`).
fn compile(domains: &[u8], keywords: &[u8], regexes: &[u8]) -> (RuleSet, Diagnostics) {
    let mut b = Builder::new();
    let cat = b.category("bench", "Bench").expect("category");
    b.add_source("domains.txt", domains, cat, ListKind::Block)
        .expect("domains");
    b.add_source("keywords.txt", keywords, cat, ListKind::Keywords)
        .expect("keywords");
    b.add_source("regexes.txt", regexes, cat, ListKind::Block)
        .expect("regexes");
    b.build().expect("build")
}

/// As the daemon does it (rules/catalog.rs): file locations, so no text is kept, and `reserve`.
fn compile_like_daemon(domains: &[u8], keywords: &[u8], regexes: &[u8]) -> (RuleSet, Diagnostics) {
    let mut b = Builder::new();
    b.reserve((domains.len() + keywords.len() + regexes.len()) / 24);
    let cat = b.category("bench", "Bench").expect("category");
    let file = |n: &str| SourceLocation::File(Path::new("/nonexistent/bench").join(n));
    b.add_source_at(
        "domains.txt",
        file("domains.txt"),
        domains,
        cat,
        ListKind::Block,
    )
    .expect("domains");
    b.add_source_at(
        "keywords.txt",
        file("keywords.txt"),
        keywords,
        cat,
        ListKind::Keywords,
    )
    .expect("keywords");
    b.add_source_at(
        "regexes.txt",
        file("regexes.txt"),
        regexes,
        cat,
        ListKind::Block,
    )
    .expect("regexes");
    b.build().expect("build")
}

type CompileFn = fn(&[u8], &[u8], &[u8]) -> (RuleSet, Diagnostics);

/// Heap held by the compiled set and the peak while compiling (with the
/// input texts, copied in first and dropped after), counted on this thread.
fn measure_heap(data: &Data, label: &str, f: CompileFn) -> RuleSet {
    let mut out = None;
    let mut input = 0usize;
    let counted = allocation_counter::measure(|| {
        let (d, k, r) = (
            data.domains.clone(),
            data.keywords.clone(),
            data.regexes.clone(),
        );
        input = d.capacity() + k.capacity() + r.capacity();
        let (set, diagnostics) = f(d.as_bytes(), k.as_bytes(), r.as_bytes());
        assert_eq!(diagnostics.rejected(), 0, "{diagnostics}");
        out = Some(set);
    });
    let set = out.expect("compiled");
    let (held, peak, input) = (
        counted.bytes_current as isize,
        counted.bytes_max as isize,
        input as isize,
    );
    eprintln!(
        "heap [{label}]: compiled set {:.1} MiB ({} bytes; engine's own heap_bytes() says {:.1} MiB); \
         peak during compile {:.1} MiB counting the {:.1} MiB of input text, i.e. {:.2}x the list text",
        mib(held),
        held,
        mib(set.heap_bytes() as isize),
        mib(peak),
        mib(input),
        peak as f64 / input as f64,
    );
    set
}

/// Query names in wire format, packed back to back in one buffer: a received
/// packet is hot in cache, and 1,000 scattered heap buffers would not be
/// (they cost ~150 ns of cache misses per lookup in a first version of this bench).
struct Wires {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Wires {
    fn new(names: &[String]) -> Wires {
        let mut w = Wires {
            buf: Vec::new(),
            ends: Vec::with_capacity(names.len()),
        };
        for name in names {
            for label in name.split('.') {
                w.buf.push(label.len() as u8);
                w.buf.extend_from_slice(label.as_bytes());
            }
            w.buf.push(0);
            w.ends.push(w.buf.len());
        }
        w
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }
}

fn verdict(set: &RuleSet, name: &str) -> Verdict {
    let c = Candidate::from_text(name).expect("candidate");
    set.check(&c, 1, &ClientInfo::default(), CategoryMask::ALL, false)
}

struct Lookups {
    blocked: Wires,
    allowed: Wires,
    by_regex: Wires,
    by_keyword: Wires,
}

/// The names each lookup bench rotates over, each checked once against the set.
fn lookups(data: &Data, set: &RuleSet) -> Lookups {
    let mut rng = Rng(0x6c6f_6f6b_7570);
    // Blocked: half names from the set, half subdomains of them, spread over the whole list
    // (so shared and generated names in their proportions).
    let mut blocked = Vec::with_capacity(ROTATION);
    for i in 0..ROTATION {
        let base = &data.names[rng.below(data.names.len())];
        let name = if i % 2 == 0 {
            base.clone()
        } else {
            format!("{}.{base}", SUBS[rng.below(SUBS.len())])
        };
        let name = if name.len() > 253 { base.clone() } else { name };
        match verdict(set, &name) {
            Verdict::Blocked(o) if o.matcher == Matcher::Domain => blocked.push(name),
            v => panic!("{name} should be blocked by a domain rule: {v:?}"),
        }
    }
    // Allowed: names that look like ordinary traffic, 2 to 5 labels, none in the set.
    let mut allowed = Vec::with_capacity(ROTATION);
    while allowed.len() < ROTATION {
        let site = format!(
            "{}{}",
            rng.word(LETTERS, 4, 10),
            ["", "-online", "-group", "24"][rng.below(4)]
        );
        let tld = TLDS[rng.below(TLDS.len())];
        let name = match rng.below(4) {
            0 => format!("{site}.{tld}"),
            1 => format!("www.{site}.{tld}"),
            2 => format!("{}.{site}.{tld}", SUBS[rng.below(SUBS.len())]),
            _ => format!(
                "{}{}.{}.{site}.{tld}",
                rng.word(LETTERS, 1, 3),
                rng.range(1, 99),
                SUBS[rng.below(SUBS.len())]
            ),
        };
        if verdict(set, &name) == Verdict::NoMatch {
            allowed.push(name);
        }
    }
    let by_regex: Vec<String> = data.regex_hits.clone();
    for n in &by_regex {
        assert!(
            matches!(verdict(set, n), Verdict::Blocked(o) if o.matcher == Matcher::Regex),
            "{n} should hit a regex: {:?}",
            verdict(set, n)
        );
    }
    let by_keyword: Vec<String> = data
        .keyword_words
        .iter()
        .enumerate()
        .map(|(i, w)| match i % 3 {
            0 => format!("free-{w}.example.net"),
            1 => format!("{w}4u.example.com"),
            _ => format!("www.{w}.example.org"),
        })
        .collect();
    for n in &by_keyword {
        assert!(
            matches!(verdict(set, n), Verdict::Blocked(o) if o.matcher == Matcher::Keyword),
            "{n} should hit a keyword: {:?}",
            verdict(set, n)
        );
    }
    Lookups {
        blocked: Wires::new(&blocked),
        allowed: Wires::new(&allowed),
        by_regex: Wires::new(&by_regex),
        by_keyword: Wires::new(&by_keyword),
    }
}

/// What the daemon does per query: wire QNAME → candidate → check.
#[inline]
fn lookup(set: &RuleSet, wire: &[u8]) -> Verdict {
    let c = Candidate::from_wire(wire).expect("name");
    set.check(&c, 1, &ClientInfo::default(), CategoryMask::ALL, false)
}

/// Median over 31 rounds of the mean time per lookup in one pass over `names` (×20).
fn rotating_median(set: &RuleSet, names: &Wires) -> f64 {
    let mut rounds = Vec::with_capacity(31);
    for _ in 0..31 {
        let t = Instant::now();
        for _ in 0..20 {
            for i in 0..names.len() {
                black_box(lookup(set, black_box(names.get(i))));
            }
        }
        rounds.push(t.elapsed().as_nanos() as f64 / (20 * names.len()) as f64);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

fn bench_lookup(c: &mut Criterion, set: &RuleSet, l: &Lookups) {
    let mut g = c.benchmark_group("lookup");
    for (name, names) in [
        ("blocked", &l.blocked),
        ("allowed", &l.allowed),
        ("blocked_by_regex", &l.by_regex),
        ("blocked_by_keyword", &l.by_keyword),
    ] {
        g.bench_function(name, |b| {
            let mut i = 0;
            b.iter(|| {
                i = if i + 1 == names.len() { 0 } else { i + 1 };
                lookup(set, black_box(names.get(i)))
            })
        });
    }
    g.finish();
    // The check alone, with the candidates built beforehand.
    let mut g = c.benchmark_group("check_only");
    for (name, names) in [("blocked", &l.blocked), ("allowed", &l.allowed)] {
        let cands: Vec<Candidate> = (0..names.len())
            .map(|i| Candidate::from_wire(names.get(i)).expect("name"))
            .collect();
        g.bench_function(name, |b| {
            let mut i = 0;
            b.iter(|| {
                i = if i + 1 == cands.len() { 0 } else { i + 1 };
                set.check(
                    black_box(&cands[i]),
                    1,
                    &ClientInfo::default(),
                    CategoryMask::ALL,
                    false,
                )
            })
        });
    }
    g.finish();
}

/// Where the time of an allowed name goes: each matcher alone (sets holding only
/// that matcher's rules), and building the candidate.
fn bench_breakdown(c: &mut Criterion, data: &Data, l: &Lookups) {
    let (d, k, r) = (
        data.domains.as_bytes(),
        data.keywords.as_bytes(),
        data.regexes.as_bytes(),
    );
    let sets = [
        ("domains_only", compile(d, b"", b"").0),
        ("keywords_only", compile(b"", k, b"").0),
        ("regexes_only", compile(b"", b"", r).0),
    ];
    let cands: Vec<Candidate> = (0..l.allowed.len())
        .map(|i| Candidate::from_wire(l.allowed.get(i)).expect("name"))
        .collect();
    let mut g = c.benchmark_group("allowed_breakdown");
    for (name, set) in &sets {
        assert!(cands.iter().all(|c| set.check(
            c,
            1,
            &ClientInfo::default(),
            CategoryMask::ALL,
            false
        ) == Verdict::NoMatch));
        g.bench_function(*name, |b| {
            let mut i = 0;
            b.iter(|| {
                i = if i + 1 == cands.len() { 0 } else { i + 1 };
                set.check(
                    black_box(&cands[i]),
                    1,
                    &ClientInfo::default(),
                    CategoryMask::ALL,
                    false,
                )
            })
        });
    }
    g.bench_function("candidate_from_wire", |b| {
        let mut i = 0;
        b.iter(|| {
            i = if i + 1 == l.allowed.len() { 0 } else { i + 1 };
            Candidate::from_wire(black_box(l.allowed.get(i)))
        })
    });
    g.finish();
}

fn bench_compile(c: &mut Criterion, data: &Data) {
    let mut g = c.benchmark_group("compile");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15));
    let (d, k, r) = (
        data.domains.as_bytes(),
        data.keywords.as_bytes(),
        data.regexes.as_bytes(),
    );
    g.bench_function("1m_domains_1k_keywords_100_regexes", |b| {
        b.iter(|| compile(black_box(d), k, r))
    });
    g.bench_function("like_daemon", |b| {
        b.iter(|| compile_like_daemon(black_box(d), k, r))
    });
    g.finish();
}

fn main() {
    let t = Instant::now();
    let data = Data::build();
    eprintln!(
        "data set: {} distinct names = {} from {} files in {DATA} + {} generated; {:.1} MiB of list text; {} keywords; {} regexes (prepared in {:.2?})",
        data.names.len(),
        data.from_shared,
        data.shared_files,
        data.names.len() - data.from_shared,
        mib(data.domains.len() as isize),
        KEYWORDS,
        REGEXES,
        t.elapsed()
    );

    // Heap, with the counting allocator on.
    let set = measure_heap(&data, "add_source x3", compile);
    assert_eq!(set.domain_rules(), TOTAL_NAMES);
    assert_eq!(
        (set.keyword_count(), set.regex_count()),
        (KEYWORDS, REGEXES)
    );
    drop(set);
    drop(measure_heap(
        &data,
        "like the daemon: add_source_at(File) + reserve",
        compile_like_daemon,
    ));

    // One wall-clock compile of each kind.
    let (d, k, r) = (
        data.domains.as_bytes(),
        data.keywords.as_bytes(),
        data.regexes.as_bytes(),
    );
    let t = Instant::now();
    let (set, _) = compile(d, k, r);
    eprintln!(
        "wall clock: one compile (add_source x3 + build) took {:.3?}",
        t.elapsed()
    );
    let t = Instant::now();
    drop(compile_like_daemon(d, k, r));
    eprintln!(
        "wall clock: one compile like the daemon took {:.3?}",
        t.elapsed()
    );

    let l = lookups(&data, &set);
    for (name, names) in [
        ("blocked", &l.blocked),
        ("allowed", &l.allowed),
        ("blocked_by_regex", &l.by_regex),
        ("blocked_by_keyword", &l.by_keyword),
    ] {
        eprintln!(
            "rotating median, wire→candidate→check, {name}: {:.0} ns ({} names)",
            rotating_median(&set, names),
            names.len()
        );
    }

    let mut c = Criterion::default().configure_from_args();
    bench_lookup(&mut c, &set, &l);
    drop(set);
    bench_breakdown(&mut c, &data, &l);
    bench_compile(&mut c, &data);
    c.final_summary();
}
