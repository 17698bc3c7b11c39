//! Regular-expression rules: one `RegexSet` per (strength, category) group, so a
//! name is tested against all the patterns of a group in one pass, and only a
//! group that matches is searched for the rule that did.

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::parse::ClientInfo;
use super::set::{Conditions, RewriteId, rank};
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
}

struct Member {
    regex: Regex,
    origin: Origin,
    conditions: Option<u32>,
}

struct Group {
    rank: u8,
    category: CategoryId,
    set: RegexSet,
    members: Vec<Member>,
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
            let set = RegexSetBuilder::new(group.iter().map(|r| r.pattern.as_str()))
                .case_insensitive(true)
                .size_limit(SIZE_LIMIT)
                .build()
                .map_err(|e| format!("regex rules: {e}"))?;
            let mut members = Vec::with_capacity(group.len());
            for r in group {
                let regex = RegexBuilder::new(&r.pattern)
                    .case_insensitive(true)
                    .size_limit(SIZE_LIMIT)
                    .build()
                    .map_err(|e| format!("regex rule {}: {e}", r.pattern))?;
                out.pattern_bytes += r.pattern.len();
                members.push(Member {
                    regex,
                    origin: Origin {
                        source: r.source,
                        line: r.line,
                        category: r.category,
                        matcher: Matcher::Regex,
                    },
                    conditions: r.conditions,
                });
            }
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

    /// Pattern text only: compiled automata are not counted (measure with the bench).
    pub fn heap_bytes(&self) -> usize {
        self.pattern_bytes
    }

    /// The strongest regex rule stronger than `floor` that matches.
    #[allow(clippy::too_many_arguments)]
    pub fn find(
        &self,
        name: &[u8],
        qtype: u16,
        client: &ClientInfo<'_>,
        active: CategoryMask,
        floor: u8,
        ignore_allows: bool,
        conditions: &[Conditions],
    ) -> Option<(u8, Origin, Option<RewriteId>)> {
        for g in &self.groups {
            if g.rank <= floor {
                break;
            }
            if !active.contains(g.category)
                || (ignore_allows && matches!(g.rank, 3 | 5))
                || !g.set.is_match(name)
            {
                continue;
            }
            for m in &g.members {
                if !m.regex.is_match(name) {
                    continue;
                }
                match m.conditions {
                    None => return Some((g.rank, m.origin, None)),
                    Some(ci) => {
                        let c = &conditions[ci as usize];
                        if c.applies(name, qtype, client) {
                            let mut origin = m.origin;
                            origin.line = c.line;
                            return Some((
                                g.rank,
                                origin,
                                c.rewrite.is_some().then_some(RewriteId(ci)),
                            ));
                        }
                    }
                }
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
