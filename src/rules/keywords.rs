//! Keyword matching with Aho-Corasick, aware of labels and tokens.
//!
//! By default a keyword matches only a whole label (`porn.example`) or a whole
//! token inside a label, where labels split into tokens at `-`, `_` and digits
//! (`free-porn.example`, `porn4u.example`). So `essex`, `scunthorpe` and
//! `analytics` stay reachable. `substring` keywords match anywhere. Exception
//! words (`@@word`) cancel any keyword match that lies inside them.

use aho_corasick::{AhoCorasick, MatchKind};

use super::parse::KeywordMode;
use super::{CategoryMask, Origin};

#[derive(Clone, Copy, Debug)]
pub struct KeywordMeta {
    pub mode: KeywordMode,
    pub exception: bool,
    pub origin: Origin,
}

pub struct KeywordMatcher {
    ac: Option<AhoCorasick>,
    meta: Vec<KeywordMeta>,
    /// Categories that have at least one keyword: a quick "nothing to do" test.
    categories: CategoryMask,
}

/// Most exception spans remembered per name; names with more are checked against the first ones.
const MAX_SPANS: usize = 16;

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
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
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

    /// The first keyword of an active category that matches `name`. Allocates nothing.
    pub fn find(&self, name: &[u8], active: CategoryMask) -> Option<Origin> {
        let ac = self.ac.as_ref()?;
        if !active.intersects(self.categories) {
            return None;
        }
        let mut spans = [(0usize, 0usize); MAX_SPANS];
        let mut n = 0;
        for m in ac.find_overlapping_iter(name) {
            let meta = &self.meta[m.pattern().as_usize()];
            if meta.exception && n < MAX_SPANS && bounded(name, m.start(), m.end(), meta.mode) {
                spans[n] = (m.start(), m.end());
                n += 1;
            }
        }
        for m in ac.find_overlapping_iter(name) {
            let meta = &self.meta[m.pattern().as_usize()];
            if meta.exception
                || !active.contains(meta.origin.category)
                || !bounded(name, m.start(), m.end(), meta.mode)
                || spans[..n]
                    .iter()
                    .any(|&(s, e)| s <= m.start() && m.end() <= e)
            {
                continue;
            }
            return Some(meta.origin);
        }
        None
    }
}
