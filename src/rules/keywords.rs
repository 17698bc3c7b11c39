//! Keyword matching with Aho-Corasick, aware of labels and tokens.
//!
//! By default a keyword matches only a whole label (`porn.example`) or a whole
//! token inside a label, where labels split into tokens at `-`, `_` and digits
//! (`free-porn.example`, `porn4u.example`). So `essex`, `scunthorpe` and
//! `analytics` stay reachable. `substring` keywords match anywhere. Exception
//! words (`@@word`) cancel any keyword match that overlaps them (`sussex` cancels the `sexe` of
//! `sussexexpress`).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::guard::Guard;
use super::parse::KeywordMode;
use super::{CategoryMask, Origin};

#[derive(Clone, Copy, Debug)]
pub struct KeywordMeta {
    pub mode: KeywordMode,
    pub exception: bool,
    /// A third party's keyword of an opinion category: it does not match a
    /// name the public-institution guard covers.
    pub guarded: bool,
    pub origin: Origin,
}

pub struct KeywordMatcher {
    ac: Option<AhoCorasick>,
    meta: Vec<KeywordMeta>,
    /// Categories that have at least one keyword: a quick "nothing to do" test.
    categories: CategoryMask,
}

/// Most exception spans and keyword hits remembered per name (a name has at most 253 bytes;
/// beyond 16 of either, the first ones decide).
const MAX_SPANS: usize = 16;
/// Keyword lists up to this size get the DFA form of the automaton.
const DFA_MAX_PATTERNS: usize = 5_000;

fn is_token_sep(b: u8) -> bool {
    b == b'.' || b == b'-' || b == b'_' || b.is_ascii_digit()
}

fn bounded(name: &[u8], start: usize, end: usize, mode: KeywordMode) -> bool {
    let before = start.checked_sub(1).map(|i| name[i]);
    let after = name.get(end).copied();
    match mode {
        KeywordMode::Substring => true,
        KeywordMode::Label => before.is_none_or(|b| b == b'.') && after.is_none_or(|b| b == b'.'),
        KeywordMode::Token => before.is_none_or(is_token_sep) && after.is_none_or(is_token_sep),
    }
}

impl KeywordMatcher {
    pub fn build(words: Vec<(String, KeywordMeta)>) -> Result<KeywordMatcher, String> {
        let categories = words
            .iter()
            .filter(|(_, m)| !m.exception)
            .fold(CategoryMask::NONE, |acc, (_, m)| {
                acc.with(m.origin.category)
            });
        if words.is_empty() {
            return Ok(KeywordMatcher {
                ac: None,
                meta: Vec::new(),
                categories,
            });
        }
        // The DFA is the fastest form; aho-corasick builds it by itself only for
        // about 100 patterns. A few thousand keywords stay around a few MiB.
        let kind = (words.len() <= DFA_MAX_PATTERNS).then_some(AhoCorasickKind::DFA);
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(kind)
            .build(words.iter().map(|(w, _)| w.as_bytes()))
            .map_err(|e| format!("keyword automaton: {e}"))?;
        Ok(KeywordMatcher {
            ac: Some(ac),
            meta: words.into_iter().map(|(_, m)| m).collect(),
            categories,
        })
    }

    pub fn len(&self) -> usize {
        self.meta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    pub fn heap_bytes(&self) -> usize {
        self.ac.as_ref().map_or(0, |ac| ac.memory_usage())
            + self.meta.capacity() * std::mem::size_of::<KeywordMeta>()
    }

    /// The keyword of an active category that matches `name`, of the category
    /// first in precedence order. Allocates nothing.
    pub fn find(&self, name: &[u8], active: CategoryMask, guard: &Guard) -> Option<Origin> {
        let ac = self.ac.as_ref()?;
        if !active.intersects(self.categories) {
            return None;
        }
        // Most names hold no keyword at all: a plain scan says so faster than the
        // overlapping pass that boundaries and exceptions need.
        if !ac.is_match(name) {
            return None;
        }
        // One pass collects exception spans and keyword hits; an exception that
        // contains a hit may end after it, so hits are judged once the pass is done.
        let mut spans = [(0usize, 0usize); MAX_SPANS];
        let mut hits = [(0usize, 0usize, 0usize); MAX_SPANS];
        let (mut n_spans, mut n_hits) = (0, 0);
        // Asked of the guard only when a guarded keyword matched.
        let mut covered: Option<bool> = None;
        for m in ac.find_overlapping_iter(name) {
            let id = m.pattern().as_usize();
            let meta = &self.meta[id];
            if !bounded(name, m.start(), m.end(), meta.mode) {
                continue;
            }
            if meta.exception {
                if n_spans < MAX_SPANS {
                    spans[n_spans] = (m.start(), m.end());
                    n_spans += 1;
                }
            } else if active.contains(meta.origin.category)
                && n_hits < MAX_SPANS
                && !(meta.guarded && *covered.get_or_insert_with(|| guard.covers(name).is_some()))
            {
                hits[n_hits] = (m.start(), m.end(), id);
                n_hits += 1;
            }
        }
        // Of the hits no exception covers, the category first in precedence
        // order is reported; within it, the first in the name.
        hits[..n_hits]
            .iter()
            .filter(|&&(start, end, _)| {
                !spans[..n_spans].iter().any(|&(s, e)| s < end && start < e)
            })
            .map(|&(_, _, id)| self.meta[id].origin)
            .min_by_key(|o| o.category)
    }
}
