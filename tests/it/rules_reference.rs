//! The domain matcher of the rule engine against a naive reference.
//!
//! The engine hashes every suffix of a query name and looks the fingerprints up
//! in an open-addressed table. The reference below keeps a plain `Vec` of rules
//! and compares strings, so the two share no code beyond the documented
//! semantics:
//!
//! - `name`, `*.name`, `0.0.0.0 name` and `||name^` cover the name and its
//!   subdomains (on a label boundary); `|name^` covers the exact name only;
//! - `@@` makes a rule an exception, and so does being in an allowlist source;
//! - names are case-insensitive and Unicode labels are punycode (IDNA);
//! - precedence, strongest first: `$important` exception, `$important` block,
//!   exception, block.

use nestguard::rules::name::Candidate;
use nestguard::rules::parse::ClientInfo;
use nestguard::rules::{Builder, CategoryId, CategoryMask, ListKind, Matcher, RuleSet, Verdict};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// The reference
// ---------------------------------------------------------------------------

/// How a rule is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    /// `name`
    Plain,
    /// `*.name`
    Wildcard,
    /// `<address> name` with a blocking address (`0.0.0.0`, `127.0.0.1`, `::`).
    Hosts(&'static str),
    /// `||name^`
    Subtree,
    /// `|name^`
    Exact,
    /// `@@||name^`
    ExceptSubtree,
    /// `@@|name^`
    ExceptExact,
}

const SYNTAXES: &[Syntax] = &[
    Syntax::Plain,
    Syntax::Wildcard,
    Syntax::Hosts("0.0.0.0"),
    Syntax::Hosts("127.0.0.1"),
    Syntax::Hosts("::"),
    Syntax::Subtree,
    Syntax::Exact,
    Syntax::ExceptSubtree,
    Syntax::ExceptExact,
];

impl Syntax {
    /// Whether `$important` may follow the rule. Hosts lines take no modifiers,
    /// and `*.name$important` is adblock syntax (a regex), not the wildcard shape.
    fn takes_modifiers(self) -> bool {
        !matches!(self, Syntax::Wildcard | Syntax::Hosts(_))
    }
}

#[derive(Clone, Debug)]
struct RefRule {
    /// The name as written in the rule (any case, maybe Unicode).
    name: String,
    syntax: Syntax,
    important: bool,
    /// In the allowlist source (`ListKind::Allow`): an exception whatever its syntax.
    allow_list: bool,
}

impl RefRule {
    /// The rule as a line of its list.
    fn line(&self) -> String {
        let n = &self.name;
        let mut s = match self.syntax {
            Syntax::Plain => n.clone(),
            Syntax::Wildcard => format!("*.{n}"),
            Syntax::Hosts(addr) => format!("{addr} {n}"),
            Syntax::Subtree => format!("||{n}^"),
            Syntax::Exact => format!("|{n}^"),
            Syntax::ExceptSubtree => format!("@@||{n}^"),
            Syntax::ExceptExact => format!("@@|{n}^"),
        };
        if self.important {
            s.push_str("$important");
        }
        s
    }

    fn exception(&self) -> bool {
        self.allow_list || matches!(self.syntax, Syntax::ExceptSubtree | Syntax::ExceptExact)
    }

    fn exact(&self) -> bool {
        matches!(self.syntax, Syntax::Exact | Syntax::ExceptExact)
    }

    /// 4: important exception, 3: important block, 2: exception, 1: block.
    fn strength(&self) -> u8 {
        match (self.important, self.exception()) {
            (true, true) => 4,
            (true, false) => 3,
            (false, true) => 2,
            (false, false) => 1,
        }
    }

    /// Whether the rule covers `query` (already normalised).
    fn matches(&self, query: &str) -> bool {
        let rule = normalize(&self.name);
        if self.exact() {
            query == rule
        } else {
            query == rule || query.ends_with(&format!(".{rule}"))
        }
    }
}

/// Reads a rule line of the shapes above (for the hand-written cases).
fn parse_ref(line: &str, allow_list: bool) -> RefRule {
    let (body, important) = match line.strip_suffix("$important") {
        Some(b) => (b, true),
        None => (line, false),
    };
    let (syntax, name) = if let Some(n) = body.strip_prefix("@@||") {
        (
            Syntax::ExceptSubtree,
            n.strip_suffix('^').expect("`^` after the name"),
        )
    } else if let Some(n) = body.strip_prefix("@@|") {
        (
            Syntax::ExceptExact,
            n.strip_suffix('^').expect("`^` after the name"),
        )
    } else if let Some(n) = body.strip_prefix("||") {
        (
            Syntax::Subtree,
            n.strip_suffix('^').expect("`^` after the name"),
        )
    } else if let Some(n) = body.strip_prefix('|') {
        (
            Syntax::Exact,
            n.strip_suffix('^').expect("`^` after the name"),
        )
    } else if let Some(n) = body.strip_prefix("*.") {
        (Syntax::Wildcard, n)
    } else if let Some((addr, n)) = body.split_once(' ') {
        let addr = SYNTAXES
            .iter()
            .find_map(|s| match s {
                Syntax::Hosts(a) if *a == addr => Some(*a),
                _ => None,
            })
            .expect("a blocking hosts address");
        (Syntax::Hosts(addr), n)
    } else {
        (Syntax::Plain, body)
    };
    RefRule {
        name: name.to_string(),
        syntax,
        important,
        allow_list,
    }
}

/// Lowercase, with the one Unicode label the tests use in punycode.
fn normalize(name: &str) -> String {
    name.split('.')
        .map(|label| {
            let label = label.to_lowercase();
            match label.as_str() {
                "bücher" => "xn--bcher-kva".to_string(),
                l if l.is_ascii() => label,
                l => panic!("the reference knows no punycode for `{l}`"),
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    NoMatch,
    Allowed,
    Blocked,
}

/// The strongest strength among the rules that match `name`, if any.
fn strongest(rules: &[RefRule], name: &str, ignore_allows: bool) -> Option<u8> {
    let query = normalize(name);
    rules
        .iter()
        .filter(|r| !(ignore_allows && r.exception()))
        .filter(|r| r.matches(&query))
        .map(RefRule::strength)
        .max()
}

fn kind_of(strength: Option<u8>) -> Kind {
    match strength {
        None => Kind::NoMatch,
        Some(s) if s % 2 == 0 => Kind::Allowed,
        Some(_) => Kind::Blocked,
    }
}

/// What the rules say about `name`.
fn reference(rules: &[RefRule], name: &str) -> Kind {
    kind_of(strongest(rules, name, false))
}

// ---------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------

const BLOCK_SOURCE: u16 = 0;
const ALLOW_SOURCE: u16 = 1;

/// The engine built from `rules`, and for each (source, line) the rule on it.
struct Engine {
    set: RuleSet,
    category: CategoryId,
    /// `lines[source][line - 1]`: index into the rules, `None` for a comment line.
    lines: [Vec<Option<usize>>; 2],
}

/// Builds the two sources (block list, allowlist) from `rules`. With
/// `comments[i]`, a comment line goes before rule `i`, so line numbers differ
/// from rule positions.
fn build(rules: &[RefRule], comments: &[bool]) -> Engine {
    let mut texts = [String::new(), String::new()];
    let mut lines: [Vec<Option<usize>>; 2] = [Vec::new(), Vec::new()];
    for (i, r) in rules.iter().enumerate() {
        let s = usize::from(r.allow_list);
        if comments.get(i).copied().unwrap_or(false) {
            texts[s].push_str("# a comment\n");
            lines[s].push(None);
        }
        texts[s].push_str(&r.line());
        texts[s].push('\n');
        lines[s].push(Some(i));
    }
    let mut b = Builder::new();
    // The reference names the line that decides: keep lines, as `explain` does.
    b.keep_origins(nestguard::rules::index::Origins::Kept);
    let category = b.category("test", "Test").unwrap();
    b.add_source("block.txt", texts[0].as_bytes(), category, ListKind::Block)
        .unwrap();
    b.add_source("allow.txt", texts[1].as_bytes(), category, ListKind::Allow)
        .unwrap();
    let (set, diagnostics) = b.build().unwrap();
    assert_eq!(
        diagnostics.rejected(),
        0,
        "every generated line is a valid rule:\n{diagnostics}"
    );
    assert_eq!(
        diagnostics.rules(),
        rules.len(),
        "one rule per line:\n{diagnostics}"
    );
    Engine {
        set,
        category,
        lines,
    }
}

impl Engine {
    fn verdict(&self, name: &str, ignore_allows: bool) -> Verdict {
        let c =
            Candidate::from_text(name).unwrap_or_else(|| panic!("`{name}` is a valid query name"));
        self.set.check(
            &c,
            1,
            &ClientInfo::default(),
            CategoryMask::ALL,
            ignore_allows,
        )
    }

    /// Checks the engine against the reference for `name`, origin included.
    fn check(&self, rules: &[RefRule], name: &str, ignore_allows: bool) -> Result<(), String> {
        let listing = || {
            rules
                .iter()
                .map(|r| {
                    format!(
                        "  {} {}",
                        if r.allow_list { "allow:" } else { "block:" },
                        r.line()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let want = strongest(rules, name, ignore_allows);
        let v = self.verdict(name, ignore_allows);
        let (got, origin) = match v {
            Verdict::NoMatch => (Kind::NoMatch, None),
            Verdict::Allowed(o) => (Kind::Allowed, Some(o)),
            Verdict::Blocked(o) => (Kind::Blocked, Some(o)),
            Verdict::Rewritten(..) => {
                return Err(format!(
                    "{name}: unexpected rewrite {v:?}\nrules:\n{}",
                    listing()
                ));
            }
        };
        if got != kind_of(want) {
            return Err(format!(
                "{name} (ignore_allows={ignore_allows}): engine says {got:?}, reference {:?}\nrules:\n{}",
                kind_of(want),
                listing()
            ));
        }
        if let Some(o) = origin {
            let source = match o.source {
                BLOCK_SOURCE => 0,
                ALLOW_SOURCE => 1,
                s => return Err(format!("{name}: origin in unknown source {s}")),
            };
            let rule = (o.line as usize)
                .checked_sub(1)
                .and_then(|l| self.lines[source].get(l).copied().flatten())
                .ok_or_else(|| {
                    format!(
                        "{name}: origin {o:?} is not a rule line\nrules:\n{}",
                        listing()
                    )
                })?;
            let r = &rules[rule];
            if o.matcher != Matcher::Domain || o.category != self.category {
                return Err(format!(
                    "{name}: origin {o:?} not the domain matcher of the test category"
                ));
            }
            if !r.matches(&normalize(name))
                || Some(r.strength()) != want
                || (ignore_allows && r.exception())
            {
                return Err(format!(
                    "{name}: origin {o:?} points at `{}`, which does not decide the name (strongest {want:?})\nrules:\n{}",
                    r.line(),
                    listing()
                ));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Random rule sets
// ---------------------------------------------------------------------------

const LABELS: &[&str] = &["a", "b", "c", "ab", "xn--bcher-kva", "bücher"];
const TLDS: &[&str] = &["example", "com"];

/// 1–4 labels ending in a TLD, over a small alphabet so names collide often.
fn name_strategy() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(LABELS), 0..=3),
        prop::sample::select(TLDS),
    )
        .prop_map(|(mut labels, tld)| {
            labels.push(tld);
            labels.join(".")
        })
}

/// Upper-cases the characters of `name` whose bit is set in `mask`.
fn recase(name: &str, mask: u64) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_uppercase().collect::<String>()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A name in random case (half the time all lowercase).
fn query_strategy() -> impl Strategy<Value = String> {
    (
        name_strategy(),
        prop_oneof![Just(0u64), any::<u64>(), Just(u64::MAX)],
    )
        .prop_map(|(n, m)| recase(&n, m))
}

fn rule_strategy() -> impl Strategy<Value = RefRule> {
    (
        query_strategy(),
        prop::sample::select(SYNTAXES),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.25),
    )
        .prop_map(|(name, syntax, important, allow_list)| RefRule {
            // A lone label in plain, wildcard or hosts syntax is rejected on purpose (it
            // would cover a whole TLD); the explicit `||tld^` form means the same thing.
            syntax: match syntax {
                Syntax::Plain | Syntax::Wildcard | Syntax::Hosts(_) if !name.contains('.') => {
                    Syntax::Subtree
                }
                other => other,
            },
            name,
            important: important && syntax.takes_modifiers(),
            allow_list,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn engine_agrees_with_the_reference(
        rules in prop::collection::vec(rule_strategy(), 1..=30),
        comments in prop::collection::vec(prop::bool::weighted(0.2), 30),
        queries in prop::collection::vec(query_strategy(), 8),
        prefix in prop::sample::select(LABELS),
    ) {
        let engine = build(&rules, &comments);
        let mut names: Vec<String> = queries;
        for r in &rules {
            let n = normalize(&r.name);
            names.push(r.name.clone());
            names.push(format!("{prefix}.{}", r.name));
            names.push(format!("C.{n}"));
            // Not a subdomain: the same text without a label boundary.
            names.push(format!("x{n}"));
            if let Some((_, parent)) = n.split_once('.') {
                names.push(parent.to_string());
            }
        }
        for name in &names {
            for ignore_allows in [false, true] {
                if let Err(e) = engine.check(&rules, name, ignore_allows) {
                    return Err(TestCaseError::fail(e));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Hand-written cases
// ---------------------------------------------------------------------------

/// Builds `block` and `allow` lists and checks each `(name, kind)` against both
/// the engine and the reference (which checks the reference as well).
fn case(block: &[&str], allow: &[&str], expect: &[(&str, Kind)]) {
    let rules: Vec<RefRule> = block
        .iter()
        .map(|l| parse_ref(l, false))
        .chain(allow.iter().map(|l| parse_ref(l, true)))
        .collect();
    for (r, l) in rules.iter().zip(block.iter().chain(allow)) {
        assert_eq!(&r.line(), l, "the reference reads `{l}` back as written");
    }
    let engine = build(&rules, &[]);
    for &(name, kind) in expect {
        assert_eq!(
            reference(&rules, name),
            kind,
            "reference on {name} with {block:?} / allow {allow:?}"
        );
        engine
            .check(&rules, name, false)
            .unwrap_or_else(|e| panic!("{e}"));
        engine
            .check(&rules, name, true)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

use Kind::{Allowed, Blocked, NoMatch};

#[test]
fn exception_of_parent_beats_block_of_child() {
    case(
        &["@@||example.com^", "||ads.example.com^"],
        &[],
        &[
            ("ads.example.com", Allowed),
            ("x.ads.example.com", Allowed),
            ("example.com", Allowed),
            ("com", NoMatch),
        ],
    );
    // The same with the exception in an allowlist, written as a plain name.
    case(
        &["||ads.example.com^", "0.0.0.0 x.ads.example.com"],
        &["example.com"],
        &[
            ("x.ads.example.com", Allowed),
            ("ads.example.com", Allowed),
            ("other.com", NoMatch),
        ],
    );
}

#[test]
fn block_of_parent_and_exception_of_child() {
    case(
        &[
            "||example.com^",
            "@@||ok.example.com^",
            "||bad.ok.example.com^",
        ],
        &[],
        &[
            ("example.com", Blocked),
            ("x.example.com", Blocked),
            ("ok.example.com", Allowed),
            ("bad.ok.example.com", Allowed),
            ("notok.example.com", Blocked),
        ],
    );
}

#[test]
fn important_against_exceptions() {
    // An important block beats a plain exception, wherever either sits.
    case(
        &[
            "||example.com^$important",
            "@@||ok.example.com^",
            "@@|example.com^",
        ],
        &["a.example.com"],
        &[
            ("ok.example.com", Blocked),
            ("example.com", Blocked),
            ("a.example.com", Blocked),
        ],
    );
    // An important exception beats an important block, even of a more specific name.
    case(
        &[
            "@@||example.com^$important",
            "||ads.example.com^$important",
            "||ads.example.com^",
        ],
        &[],
        &[("ads.example.com", Allowed), ("x.ads.example.com", Allowed)],
    );
    // An allowlist line with $important is an important exception.
    case(
        &["||ads.example.com^$important"],
        &["||ads.example.com^$important"],
        &[("ads.example.com", Allowed), ("x.ads.example.com", Allowed)],
    );
    // A plain name may carry $important too (it is then adblock syntax).
    case(
        &["example.com$important", "@@||ok.example.com^"],
        &[],
        &[("ok.example.com", Blocked), ("example.com", Blocked)],
    );
    // An important exact exception covers the exact name only.
    case(
        &["||example.com^$important", "@@|ok.example.com^$important"],
        &[],
        &[("ok.example.com", Allowed), ("x.ok.example.com", Blocked)],
    );
}

#[test]
fn exact_against_subtree() {
    case(
        &["|a.example^"],
        &[],
        &[
            ("a.example", Blocked),
            ("x.a.example", NoMatch),
            ("example", NoMatch),
            ("ba.example", NoMatch),
        ],
    );
    case(
        &["||a.example^", "@@|a.example^"],
        &[],
        &[("a.example", Allowed), ("x.a.example", Blocked)],
    );
    case(
        &["@@||a.example^", "|x.a.example^"],
        &[],
        &[("x.a.example", Allowed), ("a.example", Allowed)],
    );
    // An exact rule in an allowlist stays exact.
    case(
        &["a.example"],
        &["|x.a.example^"],
        &[("x.a.example", Allowed), ("y.x.a.example", Blocked)],
    );
}

#[test]
fn label_boundaries() {
    case(
        &["b.example", "0.0.0.0 c.com"],
        &[],
        &[
            ("b.example", Blocked),
            ("a.b.example", Blocked),
            ("ab.example", NoMatch),
            ("b.example.com", NoMatch),
            ("abc.com", NoMatch),
            ("x.c.com", Blocked),
        ],
    );
}

#[test]
fn punycode_both_ways() {
    // A Unicode rule matches punycode queries and Unicode queries in any case.
    case(
        &["bücher.example"],
        &[],
        &[
            ("xn--bcher-kva.example", Blocked),
            ("XN--BCHER-KVA.example", Blocked),
            ("BÜCHER.example", Blocked),
            ("www.Bücher.EXAMPLE", Blocked),
            ("bucher.example", NoMatch),
            ("example", NoMatch),
        ],
    );
    // A punycode rule matches Unicode queries.
    case(
        &["||XN--BCHER-KVA.example^"],
        &["@@|a.bücher.example^"],
        &[
            ("bücher.example", Blocked),
            ("A.BÜCHER.example", Allowed),
            ("b.a.bücher.example", Blocked),
        ],
    );
    // Every syntax converts its name.
    case(
        &[
            "*.bücher.com",
            "0.0.0.0 a.bücher.example",
            "|b.BÜCHER.example^$important",
        ],
        &["@@||b.bücher.example^"],
        &[
            ("xn--bcher-kva.com", Blocked),
            ("a.xn--bcher-kva.example", Blocked),
            ("b.xn--bcher-kva.example", Blocked),
            ("c.b.xn--bcher-kva.example", Allowed),
        ],
    );
}

#[test]
fn wildcard_covers_its_apex() {
    case(
        &["*.example.com", "||com^"],
        &["*.ok.example.com"],
        &[
            ("example.com", Blocked),
            ("a.example.com", Blocked),
            ("other.com", Blocked),
            ("com", Blocked),
            ("ok.example.com", Allowed),
            ("x.ok.example.com", Allowed),
            ("example", NoMatch),
        ],
    );
}

/// `*.name` means "the name and its subdomains" even with a modifier, when the
/// line is read as adblock syntax (it once became the unanchored regex `.*\.name`).
#[test]
fn wildcard_with_a_modifier_keeps_wildcard_semantics() {
    let mut b = Builder::new();
    let category = b.category("test", "Test").unwrap();
    b.add_source(
        "block.txt",
        b"*.a.example$important\n",
        category,
        ListKind::Block,
    )
    .unwrap();
    let (set, _) = b.build().unwrap();
    let kind = |name: &str| match set.check(
        &Candidate::from_text(name).unwrap(),
        1,
        &ClientInfo::default(),
        CategoryMask::ALL,
        false,
    ) {
        Verdict::NoMatch => NoMatch,
        Verdict::Allowed(_) => Allowed,
        _ => Blocked,
    };
    assert_eq!(kind("x.a.example"), Blocked);
    assert_eq!(kind("a.example"), Blocked, "the wildcard covers its apex");
    assert_eq!(kind("x.a.example.com"), NoMatch, "a different domain");
    assert_eq!(kind("x.a.examplefoo"), NoMatch, "not on a label boundary");
}
