//! What the rules say about a name, and which rule said it.

use super::CategoryId;

/// Which matcher decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matcher {
    Domain,
    Keyword,
    Regex,
    /// The token score (several weaker tokens together).
    Score,
}

/// Where a rule came from: enough to print `file:line: rule text`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub source: u16,
    pub line: u32,
    pub category: CategoryId,
    pub matcher: Matcher,
}

impl Origin {
    /// No rule: a decision made by policy (a schedule), not by a list.
    pub const NONE: Origin = Origin {
        source: u16::MAX,
        line: 0,
        category: CategoryId(u8::MAX),
        matcher: Matcher::Domain,
    };
}

/// Index of a rewrite in [`RuleSet::rewrite`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RewriteId(pub u32);

/// What the rules say about one name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    NoMatch,
    Allowed(Origin),
    Blocked(Origin),
    Rewritten(Origin, RewriteId),
}

impl Verdict {
    pub fn origin(&self) -> Option<Origin> {
        match self {
            Verdict::NoMatch => None,
            Verdict::Allowed(o) | Verdict::Blocked(o) | Verdict::Rewritten(o, _) => Some(*o),
        }
    }
}
