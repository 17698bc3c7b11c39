//! The token score: names that carry several weaker tokens together, none
//! of which is safe alone (`sexy` + `movie`, `teen` + a body word), and that
//! no list or keyword decided.
//!
//! A score file (`rules/lists/<category>/score.txt`) gives each token a
//! weight and the category a threshold. Tokens are found anywhere in the
//! name (one Aho–Corasick automaton, built once); each distinct token counts
//! once; exception words (`@@essex`) cancel the tokens that overlap them;
//! negative weights (`education -200`) pull a name back. A name is caught
//! when at least two distinct positive tokens are present, one of them
//! weighing at least half the threshold, and the total reaches the
//! threshold; a single token never suffices, whatever its weight. `nestguard explain` shows every token, its weight and the total.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::guard::Guard;
use super::{CategoryId, CategoryMask, MAX_CATEGORIES, Origin};

/// Most tokens (exceptions included) a rule set's score files may hold: a
/// name's distinct tokens are tracked in a 128-bit set, so matching allocates nothing.
pub const MAX_TOKENS: usize = 128;
/// Largest weight, either sign.
const MAX_WEIGHT: i32 = 10_000;

/// One line of a score file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScoreLine {
    Threshold(i32),
    Token { word: String, weight: i32 },
    Exception(String),
}

/// Reads one line of a score file; `Ok(None)` for comments and blank lines.
pub fn parse_line(line: &str) -> Result<Option<ScoreLine>, String> {
    let body = line.split('#').next().unwrap_or("").trim();
    if body.is_empty() {
        return Ok(None);
    }
    let mut words = body.split_whitespace();
    let first = words.next().unwrap_or("");
    let second = words.next();
    if let Some(extra) = words.next() {
        return Err(format!("unexpected text `{extra}`"));
    }
    let number = |s: Option<&str>| -> Result<i32, String> {
        let s = s.ok_or_else(|| format!("`{first}` needs a weight"))?;
        let n: i32 = s
            .parse()
            .map_err(|_| format!("`{s}` is not a whole number"))?;
        if n.abs() > MAX_WEIGHT {
            return Err(format!("`{n}` is beyond ±{MAX_WEIGHT}"));
        }
        Ok(n)
    };
    if first == "threshold" {
        let n = number(second)?;
        if n <= 0 {
            return Err("the threshold must be above 0".into());
        }
        return Ok(Some(ScoreLine::Threshold(n)));
    }
    let (exception, word) = match first.strip_prefix("@@") {
        Some(w) => (true, w),
        None => (false, first),
    };
    if word.len() < 2
        || !word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "`{word}`: a token is 2 or more of lowercase a-z, 0-9 and -"
        ));
    }
    if exception {
        if let Some(s) = second {
            return Err(format!("unexpected text `{s}` after an exception"));
        }
        return Ok(Some(ScoreLine::Exception(word.to_string())));
    }
    let weight = number(second)?;
    if weight == 0 {
        return Err(format!("`{word}` has weight 0: leave it out"));
    }
    Ok(Some(ScoreLine::Token {
        word: word.to_string(),
        weight,
    }))
}

#[derive(Clone, Copy, Debug)]
pub struct TokenMeta {
    /// 0 for an exception.
    pub weight: i32,
    pub origin: Origin,
}

/// A token found in a name, for `explain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub word: String,
    pub weight: i32,
    pub line: u32,
}

/// What the score says about a name, for `explain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detail {
    pub category: CategoryId,
    pub tokens: Vec<Found>,
    pub total: i32,
    pub threshold: i32,
    /// At least two positive tokens and the total at the threshold.
    pub caught: bool,
    /// Tokens cancelled by exception words.
    pub excepted: Vec<String>,
}

/// The rule: at least two distinct positive tokens, one of them weighing at
/// least half the threshold (generic tokens such as `free`, `hd`, `video`
/// only add to a stronger one), and the total at the threshold.
pub fn catches(threshold: i32, positive: usize, heaviest: i32, total: i32) -> bool {
    threshold > 0 && positive >= 2 && heaviest * 2 >= threshold && total >= threshold
}

#[derive(Default)]
pub struct ScoreMatcher {
    ac: Option<AhoCorasick>,
    words: Vec<Box<str>>,
    meta: Vec<TokenMeta>,
    /// Per category id; 0 means no score for it.
    thresholds: Vec<i32>,
    categories: CategoryMask,
}

/// Most exception spans remembered per name.
const MAX_SPANS: usize = 16;
/// Most token hits judged per name (beyond, the first ones decide).
const MAX_HITS: usize = 32;

/// A hit: token index, start, end.
type Hit = (usize, usize, usize);

impl ScoreMatcher {
    pub fn build(
        tokens: Vec<(String, TokenMeta)>,
        thresholds: Vec<(CategoryId, i32)>,
    ) -> Result<ScoreMatcher, String> {
        let mut t = vec![0; MAX_CATEGORIES];
        for (c, n) in thresholds {
            t[usize::from(c.0)] = n;
        }
        let categories = tokens
            .iter()
            .filter(|(_, m)| m.weight > 0 && t[usize::from(m.origin.category.0)] > 0)
            .fold(CategoryMask::NONE, |acc, (_, m)| {
                acc.with(m.origin.category)
            });
        if tokens.is_empty() {
            return Ok(ScoreMatcher::default());
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(tokens.iter().map(|(w, _)| w.as_bytes()))
            .map_err(|e| format!("score automaton: {e}"))?;
        Ok(ScoreMatcher {
            ac: Some(ac),
            words: tokens
                .iter()
                .map(|(w, _)| w.clone().into_boxed_str())
                .collect(),
            meta: tokens.into_iter().map(|(_, m)| m).collect(),
            thresholds: t,
            categories,
        })
    }

    /// Heap held: the automaton, the tokens' weights and their text.
    pub fn heap_bytes(&self) -> usize {
        let text: usize = self.words.iter().map(|w| w.len()).sum();
        self.ac.as_ref().map_or(0, |ac| ac.memory_usage())
            + self.meta.capacity() * std::mem::size_of::<TokenMeta>()
            + text
    }

    /// Calls `f` for every token hit no exception covers and no longer token
    /// contains (`sex` inside `sexy` counts as `sexy` only), each distinct token once.
    fn hits(&self, name: &[u8], mut f: impl FnMut(Hit)) {
        let Some(ac) = &self.ac else { return };
        let mut spans = [(0usize, 0usize); MAX_SPANS];
        let mut n_spans = 0;
        let mut found = [(0usize, 0usize, 0usize); MAX_HITS];
        let mut n_found = 0;
        for m in ac.find_overlapping_iter(name) {
            let id = m.pattern().as_usize();
            if self.meta[id].weight == 0 {
                if n_spans < MAX_SPANS {
                    spans[n_spans] = (m.start(), m.end());
                    n_spans += 1;
                }
            } else if n_found < MAX_HITS {
                found[n_found] = (id, m.start(), m.end());
                n_found += 1;
            }
        }
        let mut seen = 0u128;
        for (i, &(id, s, e)) in found[..n_found].iter().enumerate() {
            let bit = 1u128 << (id % MAX_TOKENS);
            let excepted = spans[..n_spans].iter().any(|&(a, b)| a < e && s < b);
            let inside = found[..n_found]
                .iter()
                .enumerate()
                .any(|(j, &(_, a, b))| j != i && a <= s && e <= b && b - a > e - s);
            if seen & bit != 0 || excepted || inside {
                continue;
            }
            seen |= bit;
            f((id, s, e));
        }
    }

    /// The category whose score catches `name` (first in precedence among
    /// the active ones), with the origin of its heaviest token. Allocates nothing.
    pub fn find(&self, name: &[u8], active: CategoryMask, guard: &Guard) -> Option<Origin> {
        if self.ac.is_none() || !active.intersects(self.categories) {
            return None;
        }
        let mut total = [0i32; MAX_CATEGORIES];
        let mut positive = [0u8; MAX_CATEGORIES];
        let mut heaviest: [Option<(i32, Origin)>; MAX_CATEGORIES] = [None; MAX_CATEGORIES];
        let mut any = false;
        self.hits(name, |(id, _, _)| {
            let m = &self.meta[id];
            let c = usize::from(m.origin.category.0);
            if !active.contains(m.origin.category) {
                return;
            }
            any = true;
            total[c] += m.weight;
            if m.weight > 0 {
                positive[c] = positive[c].saturating_add(1);
                if heaviest[c].is_none_or(|(w, _)| m.weight > w) {
                    heaviest[c] = Some((m.weight, m.origin));
                }
            }
        });
        if !any {
            return None;
        }
        let caught = (0..MAX_CATEGORIES).find(|&c| {
            let heaviest = heaviest[c].map_or(0, |(w, _)| w);
            catches(self.thresholds[c], positive[c].into(), heaviest, total[c])
        })?;
        // Help lines and public institutions are never caught by a guess.
        if guard.covers(name).is_some() {
            return None;
        }
        heaviest[caught].map(|(_, o)| o)
    }

    /// Every token of an active category's score in `name`, with the total
    /// and whether it is caught (for `explain`; allocates).
    pub fn explain(&self, name: &[u8], active: CategoryMask, guard: &Guard) -> Vec<Detail> {
        let mut out: Vec<Detail> = Vec::new();
        self.hits(name, |(id, _, _)| {
            let m = &self.meta[id];
            if !active.contains(m.origin.category) {
                return;
            }
            let c = m.origin.category;
            let i = match out.iter().position(|d| d.category == c) {
                Some(i) => i,
                None => {
                    out.push(Detail {
                        category: c,
                        tokens: Vec::new(),
                        total: 0,
                        threshold: self.thresholds[usize::from(c.0)],
                        caught: false,
                        excepted: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            out[i].tokens.push(Found {
                word: self.words[id].to_string(),
                weight: m.weight,
                line: m.origin.line,
            });
            out[i].total += m.weight;
        });
        let guarded = guard.covers(name).is_some();
        for d in &mut out {
            let positive = d.tokens.iter().filter(|t| t.weight > 0).count();
            let heaviest = d.tokens.iter().map(|t| t.weight).max().unwrap_or(0);
            d.caught = !guarded && catches(d.threshold, positive, heaviest, d.total);
        }
        // The exception words found, so `explain` can say what they cancelled.
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(name) {
                let id = m.pattern().as_usize();
                if self.meta[id].weight == 0
                    && let Some(d) = out
                        .iter_mut()
                        .find(|d| d.category == self.meta[id].origin.category)
                {
                    d.excepted.push(self.words[id].to_string());
                }
            }
        }
        out
    }
}
