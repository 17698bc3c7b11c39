//! Regular-expression rules: one multi-pattern regex per (strength, category)
//! group, so a name is tested against all the patterns of a group in one pass.
//! The same pass says which patterns matched. The set of matched patterns is a
//! per-thread buffer reused for every lookup, so a lookup does not allocate.

use std::cell::RefCell;

use regex_automata::meta::Regex;
use regex_automata::{Input, MatchKind, PatternSet};

use super::conditions::Conditions;
use super::guard::Guard;
use super::index::rank;
use super::parse::ClientInfo;
use super::verdict::RewriteId;
use super::{CategoryId, CategoryMask, Matcher, Origin, index};

/// A regex rule waiting to be compiled.
pub struct RegexRule {
    pub pattern: String,
    pub flags: u8,
    pub source: u16,
    pub line: u32,
    pub category: CategoryId,
    /// Index into the conditions table, for rules with modifiers.
    pub conditions: Option<u32>,
    /// A third party's rule of an opinion category (see [`super::guard`]).
    pub guarded: bool,
}

struct Member {
    origin: Origin,
    conditions: Option<u32>,
    guarded: bool,
}

struct Group {
    rank: u8,
    category: CategoryId,
    set: Regex,
    /// Same order as the patterns of `set`: earliest source and line first.
    members: Vec<Member>,
}

thread_local! {
    /// Which patterns of a group matched; grown to the largest group once per thread.
    static MATCHED: RefCell<PatternSet> = RefCell::new(PatternSet::new(0));
}

#[derive(Default)]
pub struct RegexRules {
    /// Strongest first.
    groups: Vec<Group>,
    count: usize,
    pattern_bytes: usize,
}

const SIZE_LIMIT: usize = 8 << 20;

impl RegexRules {
    pub fn build(mut rules: Vec<RegexRule>) -> Result<RegexRules, String> {
        rules.sort_by_key(|r| {
            (
                std::cmp::Reverse(rank(r.flags)),
                r.category,
                r.source,
                r.line,
            )
        });
        let mut out = RegexRules {
            count: rules.len(),
            ..RegexRules::default()
        };
        let mut start = 0;
        while start < rules.len() {
            let key = (rank(rules[start].flags), rules[start].category);
            let end = start
                + rules[start..]
                    .iter()
                    .take_while(|r| (rank(r.flags), r.category) == key)
                    .count();
            let group = &rules[start..end];
            let patterns: Vec<&str> = group.iter().map(|r| r.pattern.as_str()).collect();
            let set = Regex::builder()
                .configure(
                    Regex::config()
                        .match_kind(MatchKind::All)
                        .nfa_size_limit(Some(SIZE_LIMIT))
                        .hybrid_cache_capacity(2 * SIZE_LIMIT),
                )
                .syntax(regex_automata::util::syntax::Config::new().case_insensitive(true))
                .build_many(&patterns)
                .map_err(|e| format!("regex rules: {e}"))?;
            let members = group
                .iter()
                .map(|r| Member {
                    origin: Origin {
                        source: r.source,
                        line: r.line,
                        category: r.category,
                        matcher: Matcher::Regex,
                    },
                    conditions: r.conditions,
                    guarded: r.guarded,
                })
                .collect();
            out.pattern_bytes += patterns.iter().map(|p| p.len()).sum::<usize>();
            out.groups.push(Group {
                rank: key.0,
                category: key.1,
                set,
                members,
            });
            start = end;
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Pattern text only: compiled automata are not counted (the bench measures them).
    pub fn heap_bytes(&self) -> usize {
        self.pattern_bytes
    }

    /// The strongest regex rule that matches and outranks `floor` (a strength
    /// and category): stronger, or as strong in a category first in precedence.
    #[allow(clippy::too_many_arguments)]
    pub fn find(
        &self,
        name: &[u8],
        qtype: u16,
        client: &ClientInfo<'_>,
        active: CategoryMask,
        floor: (u8, CategoryId),
        ignore_allows: bool,
        conditions: &[Conditions],
        guard: &Guard,
    ) -> Option<(u8, Origin, Option<RewriteId>)> {
        // Asked of the guard only when a guarded rule matched.
        let mut covered: Option<bool> = None;
        for g in &self.groups {
            // Groups run strongest first, then by category: nothing after this one outranks.
            if g.rank < floor.0 || (g.rank == floor.0 && g.category >= floor.1) {
                break;
            }
            if !active.contains(g.category) || (ignore_allows && matches!(g.rank, 3 | 5)) {
                continue;
            }
            let input = Input::new(name);
            if !g.set.is_match(input.clone()) {
                continue;
            }
            let found = MATCHED.with(|cell| {
                let mut matched = cell.borrow_mut();
                if matched.capacity() < g.members.len() {
                    *matched = PatternSet::new(g.members.len());
                }
                matched.clear();
                g.set.which_overlapping_matches(&input, &mut matched);
                // Pattern ids follow source order: the first that applies is the earliest rule.
                matched.iter().find_map(|pid| {
                    let m = &g.members[pid.as_usize()];
                    if m.guarded && *covered.get_or_insert_with(|| guard.covers(name).is_some()) {
                        return None;
                    }
                    let Some(ci) = m.conditions else {
                        return Some((g.rank, m.origin, None));
                    };
                    let c = &conditions[ci as usize];
                    c.applies(name, qtype, client).then(|| {
                        let origin = Origin {
                            line: c.line,
                            ..m.origin
                        };
                        (g.rank, origin, c.rewrite.is_some().then_some(RewriteId(ci)))
                    })
                })
            });
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

/// Flags for a regex rule (same bits as the domain index).
pub fn flags(allow: bool, important: bool, rewrite: bool) -> u8 {
    let mut f = 0;
    if allow {
        f |= index::ALLOW;
    }
    if important {
        f |= index::IMPORTANT;
    }
    if rewrite {
        f |= index::REWRITE;
    }
    f
}
