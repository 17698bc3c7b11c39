//! The rule engine: lists in every common format, compiled once into an
//! immutable [`RuleSet`] that answers "what do the rules say about this name?"
//! without allocating.
//!
//! - [`parse`] reads lines (hosts, plain, wildcard, adblock with modifiers, regex, keywords);
//! - [`name`] normalises names (lowercase, punycode) and builds the per-query [`name::Candidate`];
//! - [`index`], [`keywords`] and [`regexes`] are the three matchers;
//! - [`compile`] turns sources into a [`RuleSet`], reporting every rejected line;
//! - [`catalog`] reads the shipped categories and age profiles.
//!
//! Precedence, strongest first (documented in the README):
//! 1. an `$important` exception;
//! 2. an `$important` block or rewrite;
//! 3. an exception (`@@`, or an allowlist entry);
//! 4. a rewrite (`$dnsrewrite`, or a hosts line with a real address);
//! 5. a block (domain rule, keyword, regex).
//!
//! Between rules of equal strength, the most specific name wins, and then the
//! matcher: domain index before regex. Keywords only decide a name that no
//! domain rule decided.

pub mod catalog;
pub mod compile;
pub mod index;
pub mod keywords;
pub mod name;
pub mod parse;
pub mod regexes;
mod set;

pub use compile::{Builder, CompileError, Diagnostics, ListKind, SourceStats};
pub use set::{RewriteId, RuleSet, SourceInfo, SourceLocation, Verdict};

/// A category (or a profile's own allowlist), numbered at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategoryId(pub u8);

/// Most categories (including one per profile allowlist) a rule set can hold.
pub const MAX_CATEGORIES: usize = 64;

/// A set of categories: the ones a profile blocks, plus its own allowlist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CategoryMask(pub u64);

impl CategoryMask {
    pub const NONE: CategoryMask = CategoryMask(0);
    pub const ALL: CategoryMask = CategoryMask(u64::MAX);

    pub fn with(self, c: CategoryId) -> CategoryMask {
        CategoryMask(self.0 | (1u64 << c.0))
    }

    pub fn contains(self, c: CategoryId) -> bool {
        self.0 & (1u64 << c.0) != 0
    }

    pub fn intersects(self, other: CategoryMask) -> bool {
        self.0 & other.0 != 0
    }
}

/// Which matcher decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matcher {
    Domain,
    Keyword,
    Regex,
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
