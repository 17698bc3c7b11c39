//! Reading rule lines. One function reads every format, line by line, so a file
//! may mix them (many public lists do):
//!
//! | line | format | meaning |
//! | --- | --- | --- |
//! | `# …`, `! …`, `[Adblock Plus 2.0]` | comment | ignored |
//! | `example.com` | plain domain | the name and its subdomains |
//! | `*.example.com` | wildcard | the name and its subdomains |
//! | `0.0.0.0 a.com b.com # c` | hosts | block each name (and subdomains); `0.0.0.0`, `127.x`, `::`, `::1` block, any other address answers with that address for the exact name |
//! | `\|\|example.com^` | adblock | the name and its subdomains |
//! | `\|example.com^` | adblock | the exact name only |
//! | `@@\|\|example.com^` | adblock | exception: allow the name and its subdomains |
//! | `/regex/` | adblock | a regular expression on the whole name |
//! | anything else with `*`, `^`, `\|` | adblock | translated to a regular expression |
//!
//! Adblock modifiers after `$`: `important`, `badfilter`, `denyallow=a.com|b.com`,
//! `dnstype=A|~AAAA`, `client=name|~1.2.3.4|10.0.0.0/8`, and `dnsrewrite=` with an
//! IP, a name (CNAME), `NXDOMAIN`, `REFUSED`, `NOERROR` or the full `RCODE;TYPE;VALUE`
//! form for A, AAAA and CNAME. A rule with any other modifier is rejected whole,
//! never half applied (as AdGuard Home does).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

use super::name::{self, NameError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Block,
    Allow,
}

/// What a rule matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// A normalised name; `exact` rules do not cover subdomains.
    Domain { name: String, exact: bool },
    /// A regular expression matched against the whole lowercase name (no trailing dot).
    Regex(String),
}

/// `$dnstype`: which query types a rule applies to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeFilter {
    pub only: Vec<u16>,
    pub except: Vec<u16>,
}

impl TypeFilter {
    pub fn allows(&self, qtype: u16) -> bool {
        (self.only.is_empty() || self.only.contains(&qtype)) && !self.except.contains(&qtype)
    }
}

/// One entry of `$client`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientSpec {
    Net(IpNet),
    Name(String),
}

/// `$client`: which clients a rule applies to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientFilter {
    pub only: Vec<ClientSpec>,
    pub except: Vec<ClientSpec>,
}

/// Who is asking, as far as the rules care.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientInfo<'a> {
    pub ip: Option<IpAddr>,
    pub name: Option<&'a str>,
}

impl ClientSpec {
    fn matches(&self, client: &ClientInfo<'_>) -> bool {
        match self {
            ClientSpec::Net(net) => client.ip.is_some_and(|ip| net.contains(&ip)),
            ClientSpec::Name(n) => client.name.is_some_and(|c| c.eq_ignore_ascii_case(n)),
        }
    }
}

impl ClientFilter {
    pub fn allows(&self, client: &ClientInfo<'_>) -> bool {
        (self.only.is_empty() || self.only.iter().any(|s| s.matches(client)))
            && !self.except.iter().any(|s| s.matches(client))
    }
}

/// `$dnsrewrite` (and hosts lines with a real address): the answer to give instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rewrite {
    NxDomain,
    Refused,
    /// NOERROR with no records of the asked type.
    NoData,
    Cname(String),
    Address(IpAddr),
}

/// Everything after `$`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Modifiers {
    pub important: bool,
    pub badfilter: bool,
    pub dnstype: Option<TypeFilter>,
    pub client: Option<ClientFilter>,
    pub denyallow: Vec<String>,
    pub rewrite: Option<Rewrite>,
}

impl Modifiers {
    /// True when the rule needs more than its name to decide (kept beside the index).
    pub fn is_conditional(&self) -> bool {
        self.dnstype.is_some()
            || self.client.is_some()
            || !self.denyallow.is_empty()
            || self.rewrite.is_some()
    }
}

/// A parsed rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    pub pattern: Pattern,
    pub modifiers: Modifiers,
    /// Hash of the rule's text without `$badfilter`, to pair `$badfilter` rules with their targets.
    pub text_hash: u64,
}

/// Why a line was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reject {
    Name(NameError),
    UnsupportedModifier(String),
    BadModifier { modifier: String, reason: String },
    BadRegex(String),
    BadAddress(String),
    TrailingText(String),
    NoPattern,
    BadKeyword(String),
    BadScore(String),
    AddressWithoutName(String),
    SingleLabel(String),
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::Name(e) => write!(f, "bad domain name: {e}"),
            Reject::UnsupportedModifier(m) => {
                write!(f, "modifier `${m}` is not supported; rule skipped")
            }
            Reject::BadModifier { modifier, reason } => write!(f, "bad `${modifier}`: {reason}"),
            Reject::BadRegex(e) => write!(f, "bad regular expression: {e}"),
            Reject::BadAddress(a) => write!(f, "`{a}` is not an IP address"),
            Reject::TrailingText(t) => write!(f, "unexpected text `{t}` after the name"),
            Reject::NoPattern => f.write_str("rule has no pattern"),
            Reject::BadKeyword(why) => write!(f, "bad keyword line: {why}"),
            Reject::BadScore(why) => write!(f, "bad score line: {why}"),
            Reject::AddressWithoutName(a) => write!(f, "`{a}` is an address with no name after it"),
            Reject::SingleLabel(n) => write!(
                f,
                "`{n}` is a single label and would cover a whole top-level domain; write ||{n}^ if that is meant"
            ),
        }
    }
}

impl From<NameError> for Reject {
    fn from(e: NameError) -> Self {
        Reject::Name(e)
    }
}

/// What a line turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// Blank or comment.
    Comment,
    /// Standard hosts-file boilerplate (`127.0.0.1 localhost` and friends), not a rule.
    Boilerplate,
    /// This many rules were emitted.
    Rules(usize),
}

/// Names that every hosts file maps to loopback and that are never rules.
const HOSTS_BOILERPLATE: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "local",
    "broadcasthost",
    "ip6-localhost",
    "ip6-loopback",
    "ip6-localnet",
    "ip6-mcastprefix",
    "ip6-allnodes",
    "ip6-allrouters",
    "ip6-allhosts",
    "0.0.0.0",
];

fn text_hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// Reads one line of a rule list, calling `emit` for each rule on it.
pub fn parse_line(line: &str, emit: &mut impl FnMut(Rule)) -> Result<LineKind, Reject> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with('!') || line.starts_with('[') {
        return Ok(LineKind::Comment);
    }
    // Adblock syntax is recognised by its markers; a `#` there is not a comment.
    let adblock = line.starts_with('|')
        || line.starts_with('@')
        || line.starts_with('/')
        || line.contains(['^', '$', '|'])
        || (line.contains('*') && !line.starts_with("*."));
    if adblock {
        let rule = parse_adblock(line)?;
        emit(rule);
        return Ok(LineKind::Rules(1));
    }
    let body = line.split('#').next().unwrap_or("").trim();
    if body.is_empty() {
        return Ok(LineKind::Comment);
    }
    let mut words = body.split_whitespace();
    let first = words.next().ok_or(Reject::NoPattern)?;
    if let Some(addr) = parse_hosts_address(first) {
        return parse_hosts(addr, first, words, emit);
    }
    if let Some(rest) = words.next() {
        return Err(Reject::TrailingText(rest.to_string()));
    }
    let raw = first.strip_prefix("*.").unwrap_or(first);
    let name = multi_label(name::normalize(raw)?)?;
    emit(Rule {
        action: Action::Block,
        pattern: Pattern::Domain { name, exact: false },
        modifiers: Modifiers::default(),
        text_hash: text_hash(line),
    });
    Ok(LineKind::Rules(1))
}

/// Plain, wildcard and hosts lines name hosts; a lone label there (`com`, or `en` left
/// over from a broken line) would block a whole TLD, so only `||tld^` may do that.
fn multi_label(name: String) -> Result<String, Reject> {
    if name.contains('.') {
        Ok(name)
    } else {
        Err(Reject::SingleLabel(name))
    }
}

/// An address at the start of a hosts line (IPv6 zone suffixes like `%lo0` allowed).
fn parse_hosts_address(word: &str) -> Option<IpAddr> {
    let word = word.split('%').next().unwrap_or(word);
    if !word.contains([':', '.'])
        || !word
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_hexdigit() || b == b':')
    {
        return None;
    }
    word.parse().ok()
}

fn blocks(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.is_unspecified() || a.is_loopback(),
        IpAddr::V6(a) => a.is_unspecified() || a.is_loopback(),
    }
}

fn parse_hosts<'a>(
    addr: IpAddr,
    first: &str,
    names: impl Iterator<Item = &'a str>,
    emit: &mut impl FnMut(Rule),
) -> Result<LineKind, Reject> {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        return Err(Reject::AddressWithoutName(first.to_string()));
    }
    if names
        .iter()
        .all(|n| HOSTS_BOILERPLATE.contains(&n.to_ascii_lowercase().as_str()))
    {
        return Ok(LineKind::Boilerplate);
    }
    // Check every name before emitting any, so a bad line is rejected whole.
    let mut parsed = Vec::with_capacity(names.len());
    for n in &names {
        if HOSTS_BOILERPLATE.contains(&n.to_ascii_lowercase().as_str()) {
            continue;
        }
        parsed.push(multi_label(name::normalize(n)?)?);
    }
    let count = parsed.len();
    for name in parsed {
        let text = format!("{first} {name}");
        let (pattern, modifiers) = if blocks(addr) {
            (Pattern::Domain { name, exact: false }, Modifiers::default())
        } else {
            // A hosts line with a real address is a local record for that exact name.
            let modifiers = Modifiers {
                rewrite: Some(Rewrite::Address(addr)),
                ..Modifiers::default()
            };
            (Pattern::Domain { name, exact: true }, modifiers)
        };
        emit(Rule {
            action: Action::Block,
            pattern,
            modifiers,
            text_hash: text_hash(&text),
        });
    }
    Ok(LineKind::Rules(count))
}

/// Splits `s` at `sep` where it is not escaped with `\` or inside '…' / "…" quotes.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    cur.push(next);
                }
            }
            '\'' | '"' if quote.is_none() => quote = Some(c),
            c if Some(c) == quote => quote = None,
            c if c == sep && quote.is_none() => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

fn parse_adblock(line: &str) -> Result<Rule, Reject> {
    let (action, body) = match line.strip_prefix("@@") {
        Some(rest) => (Action::Allow, rest),
        None => (Action::Block, line),
    };
    // A regex runs to its closing slash; modifiers may follow it.
    let (pattern_text, modifier_text) = if body.starts_with('/') && body.len() > 1 {
        let close = body[1..]
            .rfind('/')
            .map(|i| i + 1)
            .filter(|&i| i > 0 && (body[i + 1..].is_empty() || body[i + 1..].starts_with('$')))
            .ok_or_else(|| Reject::BadRegex("no closing `/`".into()))?;
        (&body[..=close], body[close + 1..].strip_prefix('$'))
    } else {
        match body.find('$') {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        }
    };
    let (modifiers, canonical) = parse_modifiers(modifier_text.unwrap_or(""))?;
    if action == Action::Allow && modifiers.rewrite.is_some() {
        return Err(Reject::UnsupportedModifier(
            "dnsrewrite on an exception".into(),
        ));
    }
    if action == Action::Allow && !modifiers.denyallow.is_empty() {
        return Err(Reject::BadModifier {
            modifier: "denyallow".into(),
            reason: "only applies to blocking rules".into(),
        });
    }
    let pattern = parse_pattern(pattern_text)?;
    // The rule's identity for $badfilter: its text with the badfilter modifier removed.
    let at = if action == Action::Allow { "@@" } else { "" };
    let identity = if canonical.is_empty() {
        format!("{at}{pattern_text}")
    } else {
        format!("{at}{pattern_text}${canonical}")
    };
    Ok(Rule {
        action,
        pattern,
        modifiers,
        text_hash: text_hash(&identity),
    })
}

fn parse_pattern(p: &str) -> Result<Pattern, Reject> {
    if p.is_empty() {
        return Err(Reject::NoPattern);
    }
    if p.len() >= 2 && p.starts_with('/') && p.ends_with('/') {
        let re = &p[1..p.len() - 1];
        check_regex(re)?;
        return Ok(Pattern::Regex(re.to_string()));
    }
    // The common shapes become index entries; everything else a regex.
    let (subtree_start, rest) = match p.strip_prefix("||") {
        Some(r) => (true, r),
        None => (false, p),
    };
    let (exact_start, rest) = match (subtree_start, rest.strip_prefix('|')) {
        (false, Some(r)) => (true, r),
        _ => (false, rest),
    };
    let (anchored_end, core) = match rest
        .strip_suffix("^|")
        .or_else(|| rest.strip_suffix('^'))
        .or_else(|| rest.strip_suffix('|'))
    {
        Some(c) => (true, c),
        None => (false, rest),
    };
    // `*.name` with modifiers is still a wildcard: the name and its subdomains.
    if !subtree_start
        && !exact_start
        && !anchored_end
        && let Some(rest) = core.strip_prefix("*.")
        && !rest.contains(['*', '^', '|', '/'])
    {
        return Ok(Pattern::Domain {
            name: name::normalize(rest)?,
            exact: false,
        });
    }
    let plain = !core.contains(['*', '^', '|', '/']);
    if plain && !core.is_empty() {
        // A plain core must be a valid name in every shape; only `*` masks and
        // half-anchored shapes (`||example.com` without `^`) become regexes.
        let name = name::normalize(core)?;
        match (subtree_start, exact_start, anchored_end) {
            (true, _, true) => return Ok(Pattern::Domain { name, exact: false }),
            (_, true, true) => return Ok(Pattern::Domain { name, exact: true }),
            // A bare name: our rule is "a domain rule covers subdomains" (README).
            (false, false, false) => {
                return Ok(Pattern::Domain {
                    name: multi_label(name)?,
                    exact: false,
                });
            }
            _ => {}
        }
    }
    let re = adblock_to_regex(subtree_start, exact_start, anchored_end, core);
    check_regex(&re)?;
    Ok(Pattern::Regex(re))
}

/// `||a*b^` → `(?:^|\.)a.*b$`. `^` (a separator) can only be the end of a host name.
fn adblock_to_regex(
    subtree_start: bool,
    exact_start: bool,
    anchored_end: bool,
    core: &str,
) -> String {
    let mut re = String::with_capacity(core.len() + 16);
    if subtree_start {
        re.push_str(r"(?:^|\.)");
    } else if exact_start {
        re.push('^');
    }
    for c in core.chars() {
        match c {
            '*' => re.push_str(".*"),
            '^' => re.push('$'),
            c => {
                let mut buf = [0u8; 4];
                re.push_str(&regex::escape(c.encode_utf8(&mut buf)));
            }
        }
    }
    if anchored_end {
        re.push('$');
    }
    re
}

fn check_regex(re: &str) -> Result<(), Reject> {
    if has_unicode_class(re) {
        return Err(Reject::BadRegex(
            "Unicode classes such as \\p{Greek} are not supported: names are matched in ASCII (punycode)"
                .into(),
        ));
    }
    regex::bytes::RegexBuilder::new(re)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .map(|_| ())
        .map_err(|e| {
            Reject::BadRegex(
                e.to_string()
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .to_string(),
            )
        })
}

/// Whether a regex uses a Unicode property class (`\p{Greek}`, `\pL`,
/// `[\P{Han}]`). Their tables are left out of the build (docs/decisions.md,
/// "Router size"): a name is matched in its ASCII (punycode) form, where
/// they could never match. Checked on the syntax tree, so every build (the
/// tests' too, whose dev-dependencies bring the tables) refuses them alike.
/// A regex that does not parse is left to the compiler's own message.
fn has_unicode_class(re: &str) -> bool {
    use regex_syntax::ast::{self, Ast, ClassSetItem};
    struct Finder;
    impl ast::Visitor for Finder {
        type Output = ();
        type Err = ();
        fn finish(self) -> Result<(), ()> {
            Ok(())
        }
        fn visit_pre(&mut self, ast: &Ast) -> Result<(), ()> {
            match ast {
                Ast::ClassUnicode(_) => Err(()),
                _ => Ok(()),
            }
        }
        fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), ()> {
            match item {
                ClassSetItem::Unicode(_) => Err(()),
                _ => Ok(()),
            }
        }
    }
    ast::parse::Parser::new()
        .parse(re)
        .is_ok_and(|tree| ast::visit(&tree, Finder).is_err())
}

fn parse_type(name: &str) -> Result<u16, Reject> {
    hickory_proto::rr::RecordType::from_str(&name.to_ascii_uppercase())
        .map(u16::from)
        .map_err(|_| Reject::BadModifier {
            modifier: "dnstype".into(),
            reason: format!("unknown record type `{name}`"),
        })
}

fn parse_client(item: &str) -> ClientSpec {
    let bare = item.trim_start_matches('[').trim_end_matches(']');
    if let Ok(net) = bare.parse::<IpNet>() {
        return ClientSpec::Net(net);
    }
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return ClientSpec::Net(IpNet::from(ip));
    }
    ClientSpec::Name(item.to_string())
}

fn parse_rewrite(value: &str) -> Result<Rewrite, Reject> {
    let bad = |reason: String| Reject::BadModifier {
        modifier: "dnsrewrite".into(),
        reason,
    };
    let unsupported = |what: &str| Reject::UnsupportedModifier(format!("dnsrewrite with {what}"));
    if value.contains(';') {
        let parts: Vec<&str> = value.splitn(3, ';').collect();
        let (rcode, rtype, val) = (
            parts[0],
            parts.get(1).copied().unwrap_or(""),
            parts.get(2).copied().unwrap_or(""),
        );
        return match (rcode, rtype.to_ascii_uppercase().as_str()) {
            ("NXDOMAIN", "") => Ok(Rewrite::NxDomain),
            ("REFUSED", "") => Ok(Rewrite::Refused),
            ("NOERROR", "") => Ok(Rewrite::NoData),
            ("NOERROR", "A") => val
                .parse::<Ipv4Addr>()
                .map(|a| Rewrite::Address(a.into()))
                .map_err(|_| bad(format!("`{val}` is not an IPv4 address"))),
            ("NOERROR", "AAAA") => val
                .parse::<Ipv6Addr>()
                .map(|a| Rewrite::Address(a.into()))
                .map_err(|_| bad(format!("`{val}` is not an IPv6 address"))),
            ("NOERROR", "CNAME") => Ok(Rewrite::Cname(name::normalize(val)?)),
            ("NOERROR", other) => Err(unsupported(other)),
            (other, _) => Err(unsupported(other)),
        };
    }
    match value {
        "NXDOMAIN" => Ok(Rewrite::NxDomain),
        "REFUSED" => Ok(Rewrite::Refused),
        "NOERROR" => Ok(Rewrite::NoData),
        "" => Err(unsupported("no value")),
        v => match v.parse::<IpAddr>() {
            Ok(ip) => Ok(Rewrite::Address(ip)),
            Err(_) => Ok(Rewrite::Cname(name::normalize(v)?)),
        },
    }
}

/// Parses the modifier list; returns it and its canonical text without `badfilter`.
fn parse_modifiers(text: &str) -> Result<(Modifiers, String), Reject> {
    let mut m = Modifiers::default();
    let mut canonical = Vec::new();
    if text.is_empty() {
        return Ok((m, String::new()));
    }
    for raw in split_unescaped_keep(text, ',') {
        let item = raw.trim();
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (item, None),
        };
        let bad = |reason: &str| Reject::BadModifier {
            modifier: key.to_string(),
            reason: reason.to_string(),
        };
        match (key, value) {
            ("important", None) => m.important = true,
            ("badfilter", None) => {
                m.badfilter = true;
                continue;
            }
            ("dnstype", Some(v)) => {
                let mut f = TypeFilter::default();
                for t in v.split('|') {
                    match t.strip_prefix('~') {
                        Some(t) => f.except.push(parse_type(t)?),
                        None => f.only.push(parse_type(t)?),
                    }
                }
                m.dnstype = Some(f);
            }
            ("client", Some(v)) => {
                let mut f = ClientFilter::default();
                for c in split_unescaped(v, '|') {
                    let c = c.trim();
                    if c.is_empty() {
                        return Err(bad("empty client"));
                    }
                    match c.strip_prefix('~') {
                        Some(c) => f.except.push(parse_client(c)),
                        None => f.only.push(parse_client(c)),
                    }
                }
                m.client = Some(f);
            }
            ("denyallow", Some(v)) => {
                for d in v.split('|') {
                    if d.starts_with('~') || d.contains('*') {
                        return Err(bad("takes plain domain names"));
                    }
                    m.denyallow.push(name::normalize(d)?);
                }
            }
            ("dnsrewrite", Some(v)) => m.rewrite = Some(parse_rewrite(v)?),
            ("dnsrewrite", None) => m.rewrite = Some(parse_rewrite("")?),
            ("important" | "badfilter", Some(_)) => return Err(bad("takes no value")),
            ("dnstype" | "client" | "denyallow", None) => return Err(bad("needs a value")),
            (other, _) => return Err(Reject::UnsupportedModifier(other.to_string())),
        }
        canonical.push(item);
    }
    Ok((m, canonical.join(",")))
}

/// Like [`split_unescaped`] but keeps escapes and quotes in the parts (they are parsed later).
fn split_unescaped_keep(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '\'' | '"' if quote.is_none() => quote = Some(c),
            c if Some(c) == quote => quote = None,
            c if c == sep && quote.is_none() => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// How a keyword must sit in a name to match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeywordMode {
    /// A whole label, or a whole token of a label split at `-`, `_` and digits (the default).
    Token,
    /// A whole label only.
    Label,
    /// Anywhere, even inside a word (use sparingly: this is how Scunthorpe gets blocked).
    Substring,
}

/// One line of a keyword list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyword {
    pub word: String,
    pub mode: KeywordMode,
    /// An exception (`@@word`): keyword matches inside it do not count.
    pub exception: bool,
}

/// Reads one line of a keyword list: `word [token|label|substring]`, `@@word [mode]`, `# comment`.
pub fn parse_keyword_line(line: &str) -> Result<Option<Keyword>, Reject> {
    let body = line.split('#').next().unwrap_or("").trim();
    if body.is_empty() {
        return Ok(None);
    }
    let mut words = body.split_whitespace();
    let first = words.next().unwrap_or("");
    let (exception, word) = match first.strip_prefix("@@") {
        Some(w) => (true, w),
        None => (false, first),
    };
    let mode = match words.next() {
        None | Some("token") => KeywordMode::Token,
        Some("label") => KeywordMode::Label,
        Some("substring") => KeywordMode::Substring,
        Some(other) => {
            return Err(Reject::BadKeyword(format!(
                "unknown mode `{other}` (token, label or substring)"
            )));
        }
    };
    if let Some(extra) = words.next() {
        return Err(Reject::TrailingText(extra.to_string()));
    }
    let word = word.to_ascii_lowercase();
    if word.len() < 3 {
        return Err(Reject::BadKeyword(
            "keywords need at least 3 characters".into(),
        ));
    }
    if !word
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Reject::BadKeyword(format!(
            "`{word}` may hold only a-z, 0-9 and -"
        )));
    }
    Ok(Some(Keyword {
        word,
        mode,
        exception,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(line: &str) -> Result<Vec<Rule>, Reject> {
        let mut out = Vec::new();
        parse_line(line, &mut |r| out.push(r))?;
        Ok(out)
    }

    fn one(line: &str) -> Rule {
        let mut r = rules(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(r.len(), 1, "{line}");
        r.remove(0)
    }

    fn domain(name: &str, exact: bool) -> Pattern {
        Pattern::Domain {
            name: name.into(),
            exact,
        }
    }

    #[test]
    fn comments_and_blank_lines() {
        for l in ["", "   ", "# x", "! x", "[Adblock Plus 2.0]"] {
            assert_eq!(parse_line(l, &mut |_| panic!()), Ok(LineKind::Comment));
        }
    }

    #[test]
    fn plain_and_wildcard_lines() {
        assert_eq!(one("Example.COM").pattern, domain("example.com", false));
        assert_eq!(
            one("example.com. # trailing comment").pattern,
            domain("example.com", false)
        );
        assert_eq!(one("*.example.com").pattern, domain("example.com", false));
        assert_eq!(one("müller.de").pattern, domain("xn--mller-kva.de", false));
        assert!(matches!(
            rules("exa mple.com"),
            Err(Reject::TrailingText(_))
        ));
        assert!(matches!(rules("exa_mple!.com"), Err(Reject::Name(_))));
    }

    #[test]
    fn hosts_lines() {
        let r = rules("0.0.0.0 a.example b.example # two names").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].pattern, domain("b.example", false));
        assert_eq!(one("127.0.0.1 x.example").action, Action::Block);
        assert_eq!(one(":: x.example").action, Action::Block);
        let local = one("192.168.1.10 nas.home.example");
        assert_eq!(local.pattern, domain("nas.home.example", true));
        assert_eq!(
            local.modifiers.rewrite,
            Some(Rewrite::Address("192.168.1.10".parse().unwrap()))
        );
        assert_eq!(
            parse_line("127.0.0.1 localhost", &mut |_| {}),
            Ok(LineKind::Boilerplate)
        );
        assert_eq!(
            parse_line("fe80::1%lo0 localhost", &mut |_| {}),
            Ok(LineKind::Boilerplate)
        );
        assert_eq!(
            parse_line("0.0.0.0 0.0.0.0", &mut |_| {}),
            Ok(LineKind::Boilerplate)
        );
        assert!(
            rules("0.0.0.0 good.example bad..example").is_err(),
            "a bad name rejects the whole line"
        );
    }

    #[test]
    fn adblock_domain_shapes() {
        assert_eq!(one("||example.com^").pattern, domain("example.com", false));
        assert_eq!(
            one("|exact.example^").pattern,
            domain("exact.example", true)
        );
        assert_eq!(
            one("|exact.example|").pattern,
            domain("exact.example", true)
        );
        let ex = one("@@||ok.example.com^");
        assert_eq!(ex.action, Action::Allow);
        assert_eq!(ex.pattern, domain("ok.example.com", false));
        assert_eq!(
            one("||ads*.example.com^").pattern,
            Pattern::Regex(r"(?:^|\.)ads.*\.example\.com$".into())
        );
        assert_eq!(
            one("*.w.example$important").pattern,
            domain("w.example", false)
        );
        assert_eq!(
            one("||example.com").pattern,
            Pattern::Regex(r"(?:^|\.)example\.com".into())
        );
        assert_eq!(
            one("/^ad[0-9]+\\./").pattern,
            Pattern::Regex(r"^ad[0-9]+\.".into())
        );
        assert!(matches!(rules("/ad[/"), Err(Reject::BadRegex(_))));
        // Unicode-aware \w, \d, \s, \b and case folding stay; property
        // classes are not built in (names are ASCII punycode), and say so.
        assert!(rules(r"/^\w+\d\s*\b/").is_ok());
        for re in [r"/\p{Greek}/", r"/^\pL+\./", r"/\P{Han}/"] {
            match rules(re) {
                Err(Reject::BadRegex(why)) => {
                    assert!(why.contains("punycode"), "{re}: {why}")
                }
                other => panic!("{re}: {other:?}"),
            }
        }
    }

    #[test]
    fn modifiers() {
        let r = one("||x.example^$important,dnstype=A|~AAAA");
        assert!(r.modifiers.important);
        let t = r.modifiers.dnstype.unwrap();
        assert!(t.allows(1) && !t.allows(28) && !t.allows(16));
        let r = one("||x.example^$client='Frank\\'s laptop'|~192.168.1.0/24");
        let c = r.modifiers.client.unwrap();
        assert_eq!(c.only, vec![ClientSpec::Name("Frank's laptop".into())]);
        assert!(c.allows(&ClientInfo {
            ip: None,
            name: Some("frank's laptop")
        }));
        assert!(!c.allows(&ClientInfo {
            ip: Some("192.168.1.5".parse().unwrap()),
            name: Some("Frank's laptop")
        }));
        let r = one("||example.com^$denyallow=ok.example.com|fine.example.com");
        assert_eq!(
            r.modifiers.denyallow,
            vec!["ok.example.com", "fine.example.com"]
        );
        assert_eq!(
            one("|a.example^$dnsrewrite=1.2.3.4").modifiers.rewrite,
            Some(Rewrite::Address("1.2.3.4".parse().unwrap()))
        );
        assert_eq!(
            one("|a.example^$dnsrewrite=NOERROR;CNAME;Safe.Example")
                .modifiers
                .rewrite,
            Some(Rewrite::Cname("safe.example".into()))
        );
        assert_eq!(
            one("||a.example^$dnsrewrite=NXDOMAIN;;").modifiers.rewrite,
            Some(Rewrite::NxDomain)
        );
        assert_eq!(
            one("||a.example^$dnsrewrite=REFUSED").modifiers.rewrite,
            Some(Rewrite::Refused)
        );
        assert!(
            matches!(rules("||a.example^$ctag=device_pc"), Err(Reject::UnsupportedModifier(m)) if m == "ctag")
        );
        assert!(matches!(
            rules("||a.example^$dnsrewrite=NOERROR;MX;10 mx.example"),
            Err(Reject::UnsupportedModifier(_))
        ));
        assert!(matches!(
            rules("||a.example^$dnstype=BOGUS"),
            Err(Reject::BadModifier { .. })
        ));
    }

    #[test]
    fn badfilter_pairs_with_the_rule_text() {
        let target = one("||ads.example^$dnstype=A");
        let bf = one("||ads.example^$badfilter,dnstype=A");
        assert!(bf.modifiers.badfilter);
        assert_eq!(target.text_hash, bf.text_hash);
        assert_ne!(one("||ads.example^").text_hash, target.text_hash);
    }

    #[test]
    fn keyword_lines() {
        let k = parse_keyword_line("porn").unwrap().unwrap();
        assert_eq!(
            (k.word.as_str(), k.mode, k.exception),
            ("porn", KeywordMode::Token, false)
        );
        let k = parse_keyword_line("@@essex substring # comment")
            .unwrap()
            .unwrap();
        assert_eq!(
            (k.word.as_str(), k.mode, k.exception),
            ("essex", KeywordMode::Substring, true)
        );
        assert_eq!(parse_keyword_line("  # only a comment"), Ok(None));
        assert!(parse_keyword_line("xx").is_err());
        assert!(parse_keyword_line("porn everywhere").is_err());
    }

    #[test]
    fn nothing_panics_on_odd_input() {
        for l in [
            "$",
            "@@",
            "@@$",
            "||",
            "|",
            "^",
            "/",
            "//",
            "/$x",
            "||é^",
            "0.0.0.0",
            "::",
            "*.",
            "*",
            "|$important",
            "@@/x/$dnsrewrite",
            "a$client=",
            "||x^$client='unterminated",
        ] {
            let _ = rules(l);
        }
    }
}
