//! The registrable domain (eTLD+1) of a name, by the Public Suffix List.
//!
//! The list is data, not code: `data/public_suffix_list.txt` (the rules of
//! the `psl` crate's copy, see docs/decisions.md), gzip-compressed into the
//! binary by build.rs and read into memory the first time a name is counted:
//! the rules' text (about 150 KB), where each starts (about 40 KB) and a
//! hash table of them (64 KB). The `psl` crate compiled the same list to
//! about 650 KiB of code (BENCHMARKS.md, "Binary size").

use std::io::Read;
use std::ops::Range;
use std::sync::LazyLock;

static LIST: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/public_suffix_list.txt.gz"));

static RULES: LazyLock<Rules> = LazyLock::new(|| Rules::parse(LIST));

/// The list's rules without their marks, in three sorted runs: the
/// exceptions (`!www.ck` as `www.ck`), the wildcards (`*.ck` as `ck`) and
/// the plain rules (`co.uk`).
struct Rules {
    /// Each rule followed by `\n`.
    text: Box<[u8]>,
    /// Where each rule starts in `text`, and then `text.len()`.
    starts: Box<[u32]>,
    exceptions: Range<usize>,
    wildcards: Range<usize>,
    plain: Range<usize>,
    /// Open addressing by [`hash`] (of a run and a rule) to the rule's
    /// index, [`EMPTY`] where none: a name is looked up in one or two probes.
    table: Box<[u32]>,
}

const EMPTY: u32 = u32::MAX;

fn hash(run: &Range<usize>, name: &[u8]) -> usize {
    xxhash_rust::xxh3::xxh3_64_with_seed(name, run.start as u64) as usize
}

impl Rules {
    fn parse(gz: &[u8]) -> Rules {
        let mut list = Vec::new();
        if flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut list)
            .is_err()
        {
            // Built into the binary: cannot happen. Every TLD is then a suffix.
            list.clear();
        }
        let (mut exceptions, mut wildcards, mut plain) = (Vec::new(), Vec::new(), Vec::new());
        for line in list.split(|b| *b == b'\n') {
            let rule = line.trim_ascii();
            if rule.is_empty() || rule.starts_with(b"//") {
                continue;
            }
            if let Some(name) = rule.strip_prefix(b"!") {
                exceptions.push(name);
            } else if let Some(name) = rule.strip_prefix(b"*.") {
                wildcards.push(name);
            } else {
                plain.push(rule);
            }
        }
        let mut text = Vec::with_capacity(list.len());
        let mut starts = Vec::with_capacity(exceptions.len() + wildcards.len() + plain.len() + 1);
        let mut run = |mut rules: Vec<&[u8]>| {
            rules.sort_unstable();
            rules.dedup();
            let first = starts.len();
            for r in rules {
                starts.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
                text.extend_from_slice(r);
                text.push(b'\n');
            }
            first..starts.len()
        };
        let exceptions = run(exceptions);
        let wildcards = run(wildcards);
        let plain = run(plain);
        starts.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        let count = starts.len() - 1;
        let mut rules = Rules {
            text: text.into_boxed_slice(),
            starts: starts.into_boxed_slice(),
            exceptions,
            wildcards,
            plain,
            // At most two thirds full.
            table: vec![EMPTY; (count + count / 2 + 1).next_power_of_two()].into_boxed_slice(),
        };
        let mask = rules.table.len() - 1;
        for run in [&rules.exceptions, &rules.wildcards, &rules.plain] {
            for i in run.clone() {
                let mut at = hash(run, rules.rule(i)) & mask;
                while rules.table[at] != EMPTY {
                    at = (at + 1) & mask;
                }
                rules.table[at] = u32::try_from(i).unwrap_or(EMPTY);
            }
        }
        rules
    }

    fn rule(&self, i: usize) -> &[u8] {
        let at = |i: usize| self.starts.get(i).map_or(0, |s| *s as usize);
        let (start, end) = (at(i), at(i + 1).saturating_sub(1));
        self.text.get(start..end).unwrap_or_default()
    }

    /// Whether one of `run` is `name` (no allocation).
    fn has(&self, run: &Range<usize>, name: &[u8]) -> bool {
        let mask = self.table.len() - 1;
        let mut at = hash(run, name) & mask;
        loop {
            let i = self.table[at];
            if i == EMPTY {
                return false;
            }
            let i = i as usize;
            if run.contains(&i) && self.rule(i) == name {
                return true;
            }
            at = (at + 1) & mask;
        }
    }

    /// The length in bytes of the public suffix that ends `name` (no
    /// trailing dot): the longest matching rule, an exception rule before
    /// any, and a name's last label when no rule matches (the list's
    /// implicit `*`). 0 for an empty name.
    fn suffix_len(&self, name: &[u8]) -> usize {
        if name.is_empty() {
            return 0;
        }
        let mut best = 0;
        // The suffixes of whole labels, shortest first: name[at..].
        let mut shorter: Option<&[u8]> = None;
        let mut end = name.len();
        loop {
            let at = name[..end]
                .iter()
                .rposition(|b| *b == b'.')
                .map_or(0, |i| i + 1);
            let suffix = &name[at..];
            let wildcard = shorter.is_some_and(|s| self.has(&self.wildcards, s));
            // The list's exceptions (`!www.ck`) each undo a wildcard (`*.ck`).
            if wildcard && self.has(&self.exceptions, suffix) {
                return shorter.map_or(0, <[u8]>::len);
            }
            if shorter.is_none() || wildcard || self.has(&self.plain, suffix) {
                best = suffix.len();
            }
            if at == 0 {
                return best;
            }
            shorter = Some(suffix);
            end = at - 1;
        }
    }
}

/// Reads the list now, so that the first name counted does not pay for it
/// on the query path.
pub fn warm() {
    LazyLock::force(&RULES);
}

/// The registrable domain of `name` (lower-case, as on the wire, a trailing
/// dot kept): the public suffix and one label before it. `None` for a name
/// that is a public suffix itself.
pub fn registrable(name: &[u8]) -> Option<&[u8]> {
    let body = name.strip_suffix(b".").unwrap_or(name);
    let n = RULES.suffix_len(body);
    if n == 0 || body.len() < n + 2 {
        return None;
    }
    let rest = &body[..body.len() - n - 1];
    let start = rest.iter().rposition(|b| *b == b'.').map_or(0, |i| i + 1);
    name.get(start..)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(name: &str) -> Option<&str> {
        registrable(name.as_bytes()).and_then(|d| std::str::from_utf8(d).ok())
    }

    fn theirs(name: &str) -> Option<&str> {
        psl::domain(name.as_bytes()).and_then(|d| std::str::from_utf8(d.as_bytes()).ok())
    }

    #[test]
    fn wildcards_exceptions_and_plain_rules() {
        let cases: &[(&str, Option<&str>)] = &[
            ("com", None),
            ("example.com", Some("example.com")),
            ("www.example.com", Some("example.com")),
            ("a.b.example.co.uk", Some("example.co.uk")),
            ("co.uk", None),
            // *.ck and !www.ck
            ("ck", None),
            ("foo.ck", None),
            ("bar.foo.ck", Some("bar.foo.ck")),
            ("www.ck", Some("www.ck")),
            ("a.www.ck", Some("www.ck")),
            // *.kawasaki.jp and !city.kawasaki.jp
            ("kawasaki.jp", Some("kawasaki.jp")),
            ("x.kawasaki.jp", None),
            ("y.x.kawasaki.jp", Some("y.x.kawasaki.jp")),
            ("z.y.x.kawasaki.jp", Some("y.x.kawasaki.jp")),
            ("city.kawasaki.jp", Some("city.kawasaki.jp")),
            ("www.city.kawasaki.jp", Some("city.kawasaki.jp")),
            // An unknown TLD: its last label is the suffix.
            ("example.invalidtld", Some("example.invalidtld")),
            ("a.example.invalidtld", Some("example.invalidtld")),
            ("invalidtld", None),
            // Private section.
            ("foo.github.io", Some("foo.github.io")),
            ("a.foo.github.io", Some("foo.github.io")),
            ("example.com.", Some("example.com.")),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(ours(name), *want, "{name}");
            assert_eq!(ours(name), theirs(name), "{name}: psl says otherwise");
        }
    }

    /// [`Rules::suffix_len`] looks for an exception only under a wildcard.
    #[test]
    fn every_exception_undoes_a_wildcard() {
        let rules = &*RULES;
        assert!(rules.exceptions.len() >= 8, "{:?}", rules.exceptions);
        for i in rules.exceptions.clone() {
            let exception = rules.rule(i);
            let parent = exception.splitn(2, |b| *b == b'.').nth(1).unwrap();
            assert!(
                rules.has(&rules.wildcards, parent),
                "!{}",
                String::from_utf8_lossy(exception)
            );
        }
    }

    /// Agrees with the `psl` crate (the same list compiled to code) on every
    /// name of the Tranco top 100k in ../shared/data, and on its subdomains.
    #[test]
    fn agrees_with_psl_on_tranco_top_100k() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/popular/tranco-top-100k.txt"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipped: {path} is not here");
            return;
        };
        let mut n = 0;
        for name in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let name = name.to_ascii_lowercase();
            for probe in [name.clone(), format!("www.{name}"), format!("a.b.{name}")] {
                assert_eq!(ours(&probe), theirs(&probe), "{probe}");
                n += 1;
            }
        }
        assert!(n >= 100_000, "{n} names");
    }
}
