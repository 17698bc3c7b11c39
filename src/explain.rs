//! `nestguard explain`: what the rules say about a name, and exactly why.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::rules::catalog::source_line;
use crate::rules::name::Candidate;
use crate::rules::parse::{ClientInfo, Rewrite};
use crate::rules::{CategoryMask, Matcher, Origin, RuleSet, Verdict};

/// What a rewrite answers to a query of `qtype`, in words.
fn rewritten(rewrite: Option<&Rewrite>, qtype: u16) -> String {
    match rewrite {
        Some(Rewrite::Address(ip)) => {
            let fits = matches!((ip, qtype), (IpAddr::V4(_), 1) | (IpAddr::V6(_), 28));
            if fits {
                format!("answered with the address {ip}")
            } else {
                let qt = crate::dns::wire::TypeName(qtype);
                format!("answered with no {qt} records (the rule gives the address {ip})")
            }
        }
        Some(Rewrite::Cname(target)) => format!(
            "answered with an alias to {} (its records come from the upstream)",
            target.trim_end_matches('.')
        ),
        Some(Rewrite::NxDomain) => "answered \"no such name\" (NXDOMAIN)".into(),
        Some(Rewrite::Refused) => "answered REFUSED".into(),
        Some(Rewrite::NoData) => "answered with no records (NODATA)".into(),
        None => "answered as the rule says (it is missing from the compiled rules)".into(),
    }
}

/// The Extended DNS Error a client sees on an answer a rule made.
fn ede_line(set: &RuleSet, o: &Origin) -> String {
    let security = set.category(o.category).is_some_and(|c| c.security);
    let (code, name) = if security {
        (15, "Blocked")
    } else {
        (17, "Filtered")
    };
    format!("  the answer carries EDE {code} \"{name}\" with the rule's category and line")
}

fn describe(set: &RuleSet, o: &Origin) -> String {
    let (source, text) = match set.source(o.source) {
        Some(s) => (
            s.name.as_str(),
            source_line(&s.location, o.line).unwrap_or_default(),
        ),
        None => ("?", String::new()),
    };
    let category = set.category(o.category).map_or("?", |c| c.id.as_str());
    let how = match o.matcher {
        Matcher::Domain => "domain rule",
        Matcher::Keyword => "keyword",
        Matcher::Score => "token score",
        Matcher::Regex => "regular expression",
    };
    format!(
        "{source}:{}: {text}\n    ({how}, category {category})",
        o.line
    )
}

/// The explanation for `name` under `profile` (every category when None).
pub fn explain(
    set: &RuleSet,
    name: &str,
    qtype: u16,
    profile: Option<&str>,
) -> Result<String, String> {
    let candidate =
        Candidate::from_text(name).ok_or_else(|| format!("`{name}` is not a valid domain name"))?;
    let (mask, scope) = match profile {
        Some(p) => (
            set.profile_mask(p).ok_or_else(|| {
                format!(
                    "no profile `{p}`; profiles: {}",
                    set.profile_ids().collect::<Vec<_>>().join(", ")
                )
            })?,
            format!("profile {p}"),
        ),
        None => (CategoryMask::ALL, "all categories".to_string()),
    };
    let client = ClientInfo::default();
    let verdict = set.check(&candidate, qtype, &client, mask, false);
    let mut out = String::new();
    let qt = crate::dns::wire::TypeName(qtype);
    let _ = writeln!(out, "{} {qt} ({scope})", candidate.text());
    match verdict {
        Verdict::NoMatch => {
            let _ = writeln!(
                out,
                "  not blocked: no rule matches; the query goes upstream"
            );
        }
        Verdict::Blocked(o) => {
            let category = set
                .category(o.category)
                .map_or(String::new(), |c| format!("{} ({})", c.id, c.name));
            let _ = writeln!(out, "  BLOCKED: {category}");
            let _ = writeln!(out, "  by {}", describe(set, &o));
        }
        Verdict::Rewritten(o, id) => {
            let _ = writeln!(out, "  REWRITTEN: {}", rewritten(set.rewrite(id), qtype));
            let _ = writeln!(out, "  by {}", describe(set, &o));
            let _ = writeln!(out, "{}", ede_line(set, &o));
        }
        Verdict::Allowed(o) => {
            let _ = writeln!(out, "  ALLOWED by exception {}", describe(set, &o));
            match set.check(&candidate, qtype, &client, mask, true) {
                Verdict::NoMatch => {
                    let _ = writeln!(out, "  (no block rule matches it anyway)");
                }
                other => {
                    if let Some(b) = other.origin() {
                        let _ = writeln!(out, "  which wins over {}", describe(set, &b));
                    }
                }
            }
        }
    }
    score_lines(set, &candidate, mask, &mut out);
    Ok(out)
}

/// The token score's reckoning: each token with its weight, the total and the threshold.
fn score_lines(set: &RuleSet, name: &Candidate, mask: CategoryMask, out: &mut String) {
    for d in set.score_detail(name, mask) {
        let category = set.category(d.category).map_or("?", |c| c.id.as_str());
        let tokens = d
            .tokens
            .iter()
            .map(|t| format!("{} {:+} (line {})", t.word, t.weight, t.line))
            .collect::<Vec<_>>()
            .join(", ");
        let positive = d.tokens.iter().filter(|t| t.weight > 0).count();
        let outcome = if d.caught {
            "caught".to_string()
        } else if positive < 2 {
            "not caught: one token alone never is".to_string()
        } else if d.total < d.threshold {
            "not caught: below the threshold".to_string()
        } else if d.tokens.iter().all(|t| t.weight * 2 < d.threshold) {
            "not caught: no token weighs half the threshold".to_string()
        } else {
            "not caught: a help line or public institution".to_string()
        };
        let _ = writeln!(
            out,
            "  token score ({category}): {tokens}; total {} of threshold {}: {outcome}",
            d.total, d.threshold
        );
        if !d.excepted.is_empty() {
            let _ = writeln!(
                out,
                "    exception words (their tokens do not count): {}",
                d.excepted.join(", ")
            );
        }
    }
}

/// Who `explain --client` asks for: an IP address, a MAC address or an OS user.
pub enum ClientArg {
    Ip(std::net::IpAddr),
    Mac(crate::policy::neighbours::Mac),
    User(String, Option<u32>),
}

impl ClientArg {
    pub fn parse(s: &str) -> ClientArg {
        if let Ok(ip) = s.parse() {
            ClientArg::Ip(ip)
        } else if let Ok(mac) = s.parse() {
            ClientArg::Mac(mac)
        } else {
            ClientArg::User(s.to_owned(), crate::policy::users::uid_by_name(s))
        }
    }
}

/// Answers [`crate::policy::Lookups`] with what the command line said.
struct Given<'a>(&'a ClientArg);

impl crate::policy::Lookups for Given<'_> {
    fn uid(&self, _: &crate::policy::Who) -> Option<u32> {
        match self.0 {
            ClientArg::User(_, uid) => *uid,
            _ => None,
        }
    }

    fn mac(&self, _: std::net::IpAddr) -> Option<crate::policy::neighbours::Mac> {
        match self.0 {
            ClientArg::Mac(m) => Some(*m),
            _ => None,
        }
    }
}

/// What the state files say holds: temporary allows, pauses, exams.
#[derive(Debug, Default)]
pub struct Held {
    pub allows: Vec<crate::policy::overrides::TempAllow>,
    pub pauses: Vec<crate::policy::pause::Pause>,
    pub exam: crate::policy::exam::ExamFile,
}

/// `explain NAME --client C [--at T]`: which profile the client gets and why,
/// what holds at that time (schedules, temporary allows), and the decision.
pub fn explain_client(
    engine: &crate::engine::Engine,
    name: &str,
    qtype: u16,
    client: &ClientArg,
    at: (crate::schedule::LocalTime, jiff::Timestamp, String),
    held: &Held,
) -> Result<String, String> {
    let Held {
        allows,
        pauses,
        exam,
    } = held;
    use crate::engine::{Decision, MatchedBy};
    use crate::policy::overrides::TempAllows;
    use crate::policy::{Live, Proto, Who};
    use std::net::{Ipv4Addr, SocketAddr};

    let candidate =
        Candidate::from_text(name).ok_or_else(|| format!("`{name}` is not a valid domain name"))?;
    if let ClientArg::User(user, None) = client {
        return Err(format!(
            "no user `{user}` on this system (and not an IP or MAC address)"
        ));
    }
    let ip = match client {
        ClientArg::Ip(ip) => *ip,
        _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    let who = Who {
        peer: SocketAddr::new(ip, 0),
        listener: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        proto: Proto::Udp,
        behind: crate::policy::ForwardedFor::NONE,
    };
    let (profile, by) = engine.profile_for(&who, &Given(client));
    let (local, timestamp, at_text) = at;
    let live = Live {
        windows: engine.active_windows(local),
        allows: TempAllows::compile(allows, timestamp, |p| engine.profile_index(p)),
        paused: crate::policy::pause::compile(pauses, timestamp, |p| engine.profile_index(p)),
        // Hours a service is open are judged at that time; budgets as unused
        // (how much a child will have used then is not known).
        services: engine
            .services_now(
                &crate::policy::budget::Usage::new(),
                &[],
                (
                    u64::try_from(timestamp.as_second() / 60).unwrap_or(0),
                    local,
                    timestamp
                        .to_zoned_datetime(jiff::tz::TimeZone::system())
                        .date(),
                ),
            )
            .0,
        metering: Default::default(),
        budgets: Vec::new(),
        exam: crate::policy::exam::ExamLive::compile(
            exam,
            engine.exam_windows(),
            timestamp,
            local,
            |n| engine.exam_targets(n).unwrap_or(0),
        ),
    };
    let mut out = String::new();
    let table = |i: usize| match (engine.client_name(i), engine.child_of(profile)) {
        (Some(_), Some(_)) => "[[child]]".to_string(),
        (Some(n), None) => format!("[[client]] \"{n}\""),
        (None, _) => format!("[[client]] #{}", i + 1),
    };
    let why = match by {
        MatchedBy::Listener(i) => format!("{} by listener", table(i)),
        MatchedBy::User(i, uid) => format!("{} by OS user (uid {uid})", table(i)),
        MatchedBy::Mac(i, mac) => format!("{} by MAC address {mac}", table(i)),
        MatchedBy::Address(i) => format!("{} by address", table(i)),
        MatchedBy::Default => "no [[client]] matches: policy.default_profile".into(),
    };
    match engine.child_of(profile) {
        Some(child) => {
            let age = child
                .age
                .map_or(String::new(), |a| format!(", {a} years old"));
            let _ = writeln!(
                out,
                "child {} ({why}): band {}{age}, with {}'s own settings",
                child.name, child.band, child.name
            );
            if let Some(notice) =
                child.notice(timestamp.to_zoned_datetime(jiff::tz::TimeZone::UTC).date())
            {
                let _ = writeln!(out, "  {notice}");
            }
        }
        None => {
            let _ = writeln!(out, "profile {} ({why})", engine.profile_id(profile));
        }
    }
    if profile < 64 && live.paused & (1u64 << profile) != 0 {
        let _ = writeln!(
            out,
            "at {at_text}: paused by a parent (`nestguard resume`): only help lines are reachable"
        );
    }
    if live.exam.holds(profile) {
        let end = live.exam.ends(profile);
        let _ = writeln!(
            out,
            "at {at_text}: an exam holds until {:02}:{:02} (`nestguard exam status`): only the exam's sites and help lines are reachable; AI chatbots and filter bypass stay blocked",
            end / 60,
            end % 60
        );
    }
    let open = engine.open_windows(profile, live.windows);
    if open.is_empty() {
        let _ = writeln!(out, "at {at_text}: no schedule window open");
    }
    for (w, allow_only) in open {
        let what = if allow_only {
            "only the profile's allowlist is reachable: no safe search, no YouTube, \
             nothing a category allow lifted"
        } else {
            "more categories blocked"
        };
        let _ = writeln!(out, "at {at_text}: schedule \"{w}\" is open ({what})");
    }
    if let Some(scope) = live.allows.scope(&candidate, profile) {
        let _ = writeln!(
            out,
            "a temporary allow (`nestguard allow`) covers this name: {}",
            scope.describe()
        );
    }
    let wire = crate::rules::name::to_wire(&candidate.text());
    let qt = crate::dns::wire::TypeName(qtype);
    let _ = writeln!(out, "{} {qt}", candidate.text());
    let set = &engine.rules;
    match engine.decide(&wire, qtype, profile, ip, &live) {
        Decision::Metered(b) => {
            let (service, minutes) = engine.budgets().get(usize::from(b)).map_or(("?", 0), |b| {
                (
                    engine
                        .services()
                        .get(b.service)
                        .map_or("?", |d| d.name.as_str()),
                    b.minutes,
                )
            });
            let _ = writeln!(
                out,
                "  not blocked: {service}, on a daily budget of {minutes} min; this lookup counts towards it (answers live at most {} s)",
                crate::policy::budget::METERED_TTL
            );
        }
        Decision::Service(s, why) => {
            let service = engine.services().get(s).map_or("?", |d| d.name.as_str());
            let why = match why {
                crate::engine::ServiceWhy::Parent => "a parent blocked it".to_string(),
                crate::engine::ServiceWhy::Hours => {
                    "it is outside the hours it is open".to_string()
                }
                crate::engine::ServiceWhy::Budget(b) => format!(
                    "its daily budget of {} min is used up",
                    engine
                        .budgets()
                        .get(usize::from(b))
                        .map_or(0, |b| b.minutes)
                ),
            };
            let _ = writeln!(out, "  BLOCKED: the service {service}: {why}");
        }
        Decision::Forward => {
            let fail = if engine.fails_open(profile) {
                "fails open: the fallback upstreams, if any"
            } else {
                "fails closed: SERVFAIL"
            };
            let _ = writeln!(
                out,
                "  not blocked: the query goes upstream (with every upstream down and nothing stale, it {fail})"
            );
        }
        Decision::Block(o) => {
            let category = set
                .category(o.category)
                .map_or(String::new(), |c| format!("{} ({})", c.id, c.name));
            let _ = writeln!(out, "  BLOCKED: {category}");
            let _ = writeln!(out, "  by {}", describe(set, &o));
        }
        Decision::Scheduled(w) => {
            let _ = writeln!(
                out,
                "  BLOCKED by schedule \"{}\": not on the profile's allowlist (nor allowed \"also during bedtime\")",
                engine.window_name(w)
            );
        }
        Decision::Paused => {
            let _ = writeln!(
                out,
                "  BLOCKED: paused by a parent; only help lines are reachable until the pause ends"
            );
        }
        Decision::Exam(end) => {
            let _ = writeln!(
                out,
                "  BLOCKED by the exam until {:02}:{:02}: not one of the exam's sites, or an AI chatbot",
                end / 60,
                end % 60
            );
        }
        Decision::Canary => {
            let _ = writeln!(
                out,
                "  NXDOMAIN: a bypass canary (tells browsers and phones to keep using this filter)"
            );
        }
        Decision::NoData => {
            let _ = writeln!(
                out,
                "  NODATA: resolver discovery (RFC 9462) is not offered"
            );
        }
        d @ Decision::SafeSearch(_) => {
            let target = engine.alias_target(d).unwrap_or_default();
            let target = crate::dns::wire::name_to_text(&target);
            let target = target.trim_end_matches('.');
            let _ = writeln!(
                out,
                "  SAFE SEARCH: answered with an alias to {target} (safe search)"
            );
            let _ = writeln!(
                out,
                "  the answer carries EDE 17 \"Filtered\" with the text \"safe search: {target}\""
            );
        }
        Decision::Rewrite(o, id) => {
            let _ = writeln!(out, "  REWRITTEN: {}", rewritten(set.rewrite(id), qtype));
            let _ = writeln!(out, "  by {}", describe(set, &o));
            let _ = writeln!(out, "{}", ede_line(set, &o));
        }
    }
    Ok(out)
}
