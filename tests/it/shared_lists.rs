//! Every real-world list in `../shared/data` goes through the rule parser.
//!
//! For each file: nothing panics, a table of accepted / rejected / comment
//! lines is printed, and every rejected line the diagnostics quote is re-read
//! from the file and checked with an independent validator (below) that says
//! why it really is not a valid rule. Then format parity (the same list in
//! plain, hosts and adblock syntax gives the same rules) and a sample of real
//! matches.
//!
//! The data is optional: without the directory the test prints why and passes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use nestguard::rules::name::Candidate;
use nestguard::rules::parse::ClientInfo;
use nestguard::rules::{
    Builder, CategoryMask, Diagnostics, ListKind, RuleSet, SourceStats, Verdict,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

/// Lines checked against the compiled set per file (spread evenly over the file).
const SAMPLES_PER_FILE: usize = 400;

fn list_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------
// An independent validator: why a line is *not* a valid rule.
// Written from the list formats (RFC 1035 names, hosts, adblock), not from the
// engine's parser, so that the two can disagree.
// ---------------------------------------------------------------------------

/// Why `name` is not a domain name a rule can hold, or None when it is one.
/// Letters, digits, `-` and `_` (DNS allows `_` in service names), labels of
/// 1–63 octets, 253 octets in all, one trailing dot allowed, not an IP address.
fn bad_name(raw: &str) -> Option<String> {
    let name = raw.strip_suffix('.').unwrap_or(raw);
    if name.is_empty() {
        return Some("empty name".into());
    }
    if name.parse::<IpAddr>().is_ok() {
        return Some(format!("`{name}` is an IP address"));
    }
    let ascii;
    let name = if name.is_ascii() {
        name
    } else {
        // A Unicode name is fine if it has a punycode form.
        match idna::domain_to_ascii(name) {
            Ok(a) => {
                ascii = a;
                ascii.as_str()
            }
            Err(_) => return Some(format!("`{name}` has no IDNA form")),
        }
    };
    if name.len() > 253 {
        return Some(format!("{} octets, more than 253", name.len()));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some("empty label".into());
        }
        if label.len() > 63 {
            return Some(format!("label of {} octets, more than 63", label.len()));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Some(format!("character {c:?}"));
        }
    }
    None
}

const MODIFIERS: &[&str] = &[
    "important",
    "badfilter",
    "dnstype",
    "client",
    "denyallow",
    "dnsrewrite",
];

/// Why an adblock-style line is not a valid rule, or None.
fn bad_adblock(line: &str) -> Option<String> {
    let body = line.strip_prefix("@@").unwrap_or(line);
    if body.starts_with('/') && body.len() > 1 {
        let Some(close) = body[1..].rfind('/').map(|i| i + 1) else {
            return Some("regex without closing `/`".into());
        };
        return regex::Regex::new(&body[1..close])
            .err()
            .map(|e| format!("bad regex: {e}"));
    }
    let (pattern, modifiers) = match body.split_once('$') {
        Some((p, m)) => (p, Some(m)),
        None => (body, None),
    };
    for m in modifiers.into_iter().flat_map(|m| m.split(',')) {
        let key = m.split('=').next().unwrap_or("").trim();
        if !MODIFIERS.contains(&key) {
            return Some(format!("modifier `{key}` is not one this filter applies"));
        }
    }
    let core = pattern
        .strip_prefix("||")
        .or_else(|| pattern.strip_prefix('|'))
        .unwrap_or(pattern);
    let core = core
        .strip_suffix('^')
        .or_else(|| core.strip_suffix('|'))
        .unwrap_or(core);
    if core.is_empty() {
        return Some("no pattern".into());
    }
    if core.contains('*') {
        // A mask: its literal parts must still be made of name characters.
        let bad = core
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*')));
        return bad.map(|c| format!("character {c:?} in a mask"));
    }
    bad_name(core)
}

/// Why `line` is not a valid rule in any of the list formats, or None when it is
/// one (or is a comment, which must not be rejected either).
fn invalid_reason(line: &str) -> Option<String> {
    let t = line.trim();
    if t.is_empty() || t.starts_with(['#', '!', '[']) {
        return None;
    }
    if t.starts_with(['|', '@', '/'])
        || t.contains(['^', '$', '|'])
        || (t.contains('*') && !t.starts_with("*."))
    {
        return bad_adblock(t);
    }
    let body = t.split('#').next().unwrap_or("").trim();
    if body.is_empty() {
        return None;
    }
    let words: Vec<&str> = body.split_whitespace().collect();
    if let Ok(addr) = words[0].split('%').next().unwrap_or("").parse::<IpAddr>() {
        if words.len() == 1 {
            return Some(format!("hosts address `{addr}` with no name after it"));
        }
        let boilerplate = |n: &str| {
            let n = n.to_ascii_lowercase();
            matches!(
                n.as_str(),
                "localhost" | "localhost.localdomain" | "local" | "broadcasthost" | "0.0.0.0"
            ) || n.starts_with("ip6-")
        };
        if words[1..].iter().all(|n| boilerplate(n)) {
            return None;
        }
        return words[1..]
            .iter()
            .filter(|n| !boilerplate(n))
            .find_map(|n| bad_host_name(n).map(|why| format!("`{n}`: {why}")));
    }
    if words.len() > 1 {
        return Some(format!("{} words where one name is expected", words.len()));
    }
    let name = words[0].strip_prefix("*.").unwrap_or(words[0]);
    bad_host_name(name).map(|why| format!("`{name}`: {why}"))
}

/// Host names in plain, wildcard and hosts lines need two labels or more: a lone
/// label there would cover a whole top-level domain (only `||tld^` may do that).
fn bad_host_name(name: &str) -> Option<String> {
    bad_name(name).or_else(|| {
        (!name.trim_end_matches('.').contains('.')).then(|| "a single label".to_string())
    })
}

#[test]
fn validator_is_sane() {
    for ok in [
        "example.com",
        "*.example.com",
        "0.0.0.0 a.example b.example",
        "||x.example^",
        "_dmarc.example.",
        "bücher.example",
        "# c",
        "|x.example^$dnsrewrite=NOERROR;CNAME;y.example",
    ] {
        assert_eq!(invalid_reason(ok), None, "{ok}");
    }
    for bad in [
        "a..b",
        "a b",
        "1.2.3.4",
        "0.0.0.0",
        "2001:db8::1 # x",
        "exa!mple.com",
        "||x.example^$ctag=pc",
        &"a".repeat(64),
        "0.0.0.0 xxxhindi.to en",
        "com",
    ] {
        assert!(invalid_reason(bad).is_some(), "{bad}");
    }
}

// ---------------------------------------------------------------------------

struct FileResult {
    rel: String,
    stats: SourceStats,
    set: RuleSet,
    text: String,
}

/// The domain name a simple rule line blocks, and whether it is an exact-name rule
/// (`|x^`, a rewrite). None for anything else.
fn simple_rule_name(line: &str) -> Option<(String, bool)> {
    let t = line.trim();
    if t.is_empty() || t.starts_with(['#', '!', '[', '@', '/']) {
        return None;
    }
    let name = if let Some(r) = t.strip_prefix("||") {
        (r.strip_suffix('^')?, false)
    } else if let Some(r) = t.strip_prefix('|') {
        (r.split('$').next()?.strip_suffix('^')?, true)
    } else if t.contains(['^', '$', '|', '*']) && !t.starts_with("*.") {
        return None;
    } else {
        let words: Vec<&str> = t.split('#').next()?.split_whitespace().collect();
        match words.as_slice() {
            [n] => (n.strip_prefix("*.").unwrap_or(n), false),
            [a, n] if matches!(*a, "0.0.0.0" | "127.0.0.1") => (*n, false),
            _ => return None,
        }
    };
    if invalid_reason(t).is_some() || !name.0.is_ascii() || name.0.eq_ignore_ascii_case("localhost")
    {
        return None;
    }
    Some((name.0.to_ascii_lowercase(), name.1))
}

fn verdict(set: &RuleSet, name: &str) -> Verdict {
    let c = Candidate::from_text(name).unwrap_or_else(|| panic!("candidate {name}"));
    set.check(&c, 1, &ClientInfo::default(), CategoryMask::ALL, false)
}

fn matches_line(v: Verdict, line: u32) -> bool {
    matches!(v, Verdict::Blocked(o) | Verdict::Rewritten(o, _) | Verdict::Allowed(o) if o.line == line)
}

/// Checks an evenly spread sample of the file's simple rules against its own set.
/// Returns how many names were checked.
fn check_sample(r: &FileResult) -> usize {
    let lines: Vec<&str> = r.text.lines().collect();
    let step = (lines.len() / SAMPLES_PER_FILE).max(1);
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate().step_by(step) {
        let Some((name, exact)) = simple_rule_name(line) else {
            continue;
        };
        let v = verdict(&r.set, &name);
        assert!(
            !matches!(v, Verdict::NoMatch),
            "{}:{}: `{name}` is not matched: {v:?}",
            r.rel,
            i + 1
        );
        let sub = format!("zq9-sub.{name}");
        if sub.len() <= 253 {
            let vs = verdict(&r.set, &sub);
            if exact {
                assert!(
                    !matches_line(vs, (i + 1) as u32),
                    "{}:{}: exact rule matched `{sub}`",
                    r.rel,
                    i + 1
                );
            } else {
                assert!(
                    !matches!(vs, Verdict::NoMatch),
                    "{}:{}: subdomain `{sub}` is not matched",
                    r.rel,
                    i + 1
                );
            }
        }
        // A longer name that merely ends with the same text is not covered by this rule.
        let lookalike = format!("zq9lookalike{name}");
        if lookalike.len() <= 253 && lookalike.split('.').next().is_some_and(|l| l.len() <= 63) {
            let vl = verdict(&r.set, &lookalike);
            assert!(
                !matches_line(vl, (i + 1) as u32),
                "{}:{}: `{lookalike}` matched the rule for `{name}`",
                r.rel,
                i + 1
            );
        }
        checked += 1;
    }
    checked
}

#[test]
fn shared_lists_parse_and_rejections_are_genuine() {
    let dir = Path::new(DATA);
    if !dir.is_dir() {
        eprintln!(
            "SKIP shared_lists: {} does not exist; nothing to check (the test passes)",
            dir.display()
        );
        return;
    }
    let started = Instant::now();
    let mut results: Vec<FileResult> = Vec::new();
    for path in list_files(dir) {
        let rel = path.strip_prefix(dir).unwrap().display().to_string();
        // Documentation and licence files (README.md, ut1's LICENSE.pdf) are not lists.
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.extension().is_some_and(|e| e == "md" || e == "pdf") || name.starts_with("LICENSE")
        {
            eprintln!("(not a list, skipped: {rel})");
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let mut b = Builder::new();
        let category = rel.split('/').next().unwrap_or("data");
        let cat = b.category(category, category).unwrap();
        b.add_source(&rel, &bytes, cat, ListKind::Block)
            .unwrap_or_else(|e| panic!("{rel}: {e}"));
        let (set, Diagnostics { mut sources }) = b.build().unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(sources.len(), 1);
        let stats = sources.remove(0);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert_eq!(
            stats.lines,
            text.lines().count(),
            "{rel}: every line is accounted for"
        );
        results.push(FileResult {
            rel,
            stats,
            set,
            text,
        });
    }
    let parsed = started.elapsed();

    // The table.
    eprintln!();
    eprintln!(
        "{:<44} {:>8} {:>8} {:>8} {:>8} {:>6} {:>8}",
        "file", "lines", "rules", "indexed", "comments", "boiler", "rejected"
    );
    for r in &results {
        let s = &r.stats;
        eprintln!(
            "{:<44} {:>8} {:>8} {:>8} {:>8} {:>6} {:>8}",
            r.rel,
            s.lines,
            s.rules,
            r.set.domain_rules() + r.set.regex_count(),
            s.comments,
            s.boilerplate,
            s.rejected
        );
    }
    let total_rules: usize = results.iter().map(|r| r.stats.rules).sum();
    let total_rejected: usize = results.iter().map(|r| r.stats.rejected).sum();
    eprintln!(
        "{} files, {total_rules} rules, {total_rejected} rejected lines, parsed and indexed in {parsed:.2?}",
        results.len()
    );

    // Every quoted rejection is genuine.
    let mut failures = Vec::new();
    eprintln!();
    eprintln!(
        "Rejected lines (the first {} per file are quoted by the diagnostics):",
        20
    );
    for r in &results {
        if r.stats.rejected == 0 {
            continue;
        }
        assert!(
            !r.stats.rejects.is_empty(),
            "{}: rejections counted but none quoted",
            r.rel
        );
        assert_eq!(
            r.stats.rejects.len(),
            r.stats.rejected.min(20),
            "{}: quoted rejections",
            r.rel
        );
        let lines: Vec<&str> = r.text.lines().collect();
        for msg in &r.stats.rejects {
            let rest = msg
                .strip_prefix(&format!("{}:", r.rel))
                .unwrap_or_else(|| panic!("`{msg}` does not start with the file name"));
            let (no, reason) = rest
                .split_once(": ")
                .unwrap_or_else(|| panic!("`{msg}` has no line number"));
            let no: usize = no
                .parse()
                .unwrap_or_else(|_| panic!("`{msg}`: bad line number"));
            let line = lines
                .get(no - 1)
                .unwrap_or_else(|| panic!("`{msg}`: no such line"));
            match invalid_reason(line) {
                Some(why) => eprintln!(
                    "  {}:{no}: {:?}\n      engine: {reason}\n      validator: {why}",
                    r.rel,
                    line.trim()
                ),
                None => failures.push(format!(
                    "{}:{no}: {:?} was rejected ({reason}) but looks valid",
                    r.rel,
                    line.trim()
                )),
            }
        }
        if r.stats.rejected > r.stats.rejects.len() {
            eprintln!(
                "  {}: … and {} more rejected lines (not quoted)",
                r.rel,
                r.stats.rejected - r.stats.rejects.len()
            );
        }
    }
    assert!(
        failures.is_empty(),
        "rejections that look like valid rules:\n{}",
        failures.join("\n")
    );

    // The other direction, for every line: what the validator calls invalid must be rejected.
    // Counted per file against the engine's own count (only the first 20 are quoted).
    for r in &results {
        let invalid = r
            .text
            .lines()
            .filter(|l| invalid_reason(l).is_some())
            .count();
        assert_eq!(
            invalid, r.stats.rejected,
            "{}: the validator finds {invalid} invalid lines, the engine rejected {}",
            r.rel, r.stats.rejected
        );
    }

    let by_name: HashMap<&str, &FileResult> = results.iter().map(|r| (r.rel.as_str(), r)).collect();
    let get = |n: &str| {
        *by_name
            .get(n)
            .unwrap_or_else(|| panic!("{n} is missing from {DATA}"))
    };

    // Format parity: the same entries in three syntaxes.
    let drugs = [
        "blocklistproject/drugs-nl.txt",
        "blocklistproject/drugs.hosts.txt",
        "blocklistproject/drugs-ags.txt",
    ];
    for n in drugs {
        let r = get(n);
        assert_eq!((r.stats.rules, r.stats.rejected), (26_029, 0), "{n}");
        assert_eq!(r.set.domain_rules(), 26_029, "{n}: indexed rules");
        assert_eq!(r.set.regex_count(), 0, "{n}: no regexes");
    }
    let gambling = [
        "hagezi/adblock_gambling.txt",
        "hagezi/wildcard_gambling.txt",
    ];
    for n in gambling {
        let r = get(n);
        assert_eq!((r.stats.rules, r.stats.rejected), (182_244, 0), "{n}");
        assert_eq!(r.set.domain_rules(), 182_244, "{n}: indexed rules");
    }
    let nsfw = [
        "hagezi/adblock_nsfw.txt",
        "hagezi/wildcard_nsfw-onlydomains.txt",
    ];
    assert_eq!(
        get(nsfw[0]).stats.rules,
        get(nsfw[1]).stats.rules,
        "nsfw in adblock and plain syntax"
    );

    // The fixture's README: pornography-hosts "contains a few malformed names".
    let porn = get("sinfonietta/pornography-hosts");
    assert!(
        porn.stats.rejected > 0 && porn.stats.rules > 60_000,
        "pornography-hosts: {:?}",
        porn.stats
    );

    // Real matches.
    let nsfw_set = &get("hagezi/adblock_nsfw.txt").set;
    let first = get("hagezi/adblock_nsfw.txt")
        .text
        .lines()
        .find_map(simple_rule_name)
        .expect("a rule in adblock_nsfw.txt")
        .0;
    for name in [
        first.clone(),
        format!("www.{first}"),
        format!("a.b.c.{first}"),
    ] {
        assert!(
            matches!(verdict(nsfw_set, &name), Verdict::Blocked(_)),
            "{name} should be blocked by adblock_nsfw.txt"
        );
    }
    assert_eq!(
        verdict(nsfw_set, "nestguard-test.invalid"),
        Verdict::NoMatch
    );
    assert_eq!(verdict(nsfw_set, "wikipedia.org"), Verdict::NoMatch);
    let safe = &get("adguardhome-safesearch/google.txt").set;
    let v = verdict(safe, "www.google.de");
    let Verdict::Rewritten(_, id) = v else {
        panic!("www.google.de should be rewritten, got {v:?}")
    };
    assert!(format!("{:?}", safe.rewrite(id)).contains("forcesafesearch.google.com"));
    assert_eq!(
        verdict(safe, "mail.www.google.de"),
        Verdict::NoMatch,
        "safe-search rewrites are exact-name"
    );

    // Single-label names are accepted as rules, and such a rule covers every name
    // under that label. Listed for the report (not an error in the data format).
    eprintln!();
    for r in &results {
        for (i, line) in r.text.lines().enumerate() {
            if invalid_reason(line).is_some()
                || line
                    .trim_start()
                    .starts_with(['#', '!', '[', '|', '@', '/'])
            {
                continue;
            }
            let body = line.split('#').next().unwrap_or("");
            for word in body
                .split_whitespace()
                .filter(|w| w.parse::<IpAddr>().is_err())
            {
                let word = word.trim_end_matches('.');
                if !word.is_empty()
                    && !word.contains('.')
                    && !word.eq_ignore_ascii_case("localhost")
                {
                    let probe = format!("anything.{word}");
                    eprintln!(
                        "single-label rule {}:{}: {:?} -> `{probe}` is {:?}",
                        r.rel,
                        i + 1,
                        line.trim(),
                        verdict(&r.set, &probe)
                    );
                }
            }
        }
    }

    // A sample of every file's own rules matches, with subdomains, and no look-alikes.
    let mut checked = 0;
    for r in &results {
        checked += check_sample(r);
    }
    eprintln!();
    eprintln!(
        "{checked} sampled rules matched (name and subdomain); total time {:.2?}",
        started.elapsed()
    );
}
