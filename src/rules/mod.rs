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
mod category;
pub mod compile;
mod conditions;
pub mod guard;
pub mod index;
pub mod keywords;
pub mod name;
pub mod parse;
pub mod regexes;
pub mod score;
pub mod services;
mod set;
pub mod subscriptions;
mod verdict;

pub use category::{CategoryId, CategoryMask, MAX_CATEGORIES};
pub use compile::{Builder, CompileError, Diagnostics, ListKind, SourceStats};
pub use set::{RuleSet, SourceInfo, SourceLocation};
pub use verdict::{Matcher, Origin, RewriteId, Verdict};
