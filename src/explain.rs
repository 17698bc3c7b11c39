//! `nestguard explain`: what the rules say about a name, and exactly why.

use std::fmt::Write as _;

use crate::rules::catalog::source_line;
use crate::rules::name::Candidate;
use crate::rules::parse::ClientInfo;
use crate::rules::{CategoryMask, Matcher, Origin, RuleSet, Verdict};

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
            let _ = writeln!(out, "  REWRITTEN to {:?}", set.rewrite(id));
            let _ = writeln!(out, "  by {}", describe(set, &o));
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
    Ok(out)
}
