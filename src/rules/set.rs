//! The compiled rule set and the per-query check.

use super::conditions::Conditions;
use super::index::rank;
use super::index::{self, DomainIndex, Hit, NameCounts};
use super::keywords::KeywordMatcher;
use super::name::Candidate;
use super::parse::{ClientInfo, Rewrite};
use super::regexes::RegexRules;
use super::{CategoryId, CategoryMask, Matcher, Origin, RewriteId, Verdict};

/// Where a source's text can be read again, to quote a rule.
#[derive(Clone, Debug)]
pub enum SourceLocation {
    /// A file of the rules shipped inside the binary (path relative to `rules/`).
    Embedded(String),
    File(std::path::PathBuf),
    /// Small sources (a profile's allowlist, tests) keep their text.
    Inline(String),
    /// A large source given as bytes only: its rules can be named by line, not quoted.
    Unknown,
}

/// A source list, as named in diagnostics and `explain`.
#[derive(Clone, Debug)]
pub struct SourceInfo {
    pub name: String,
    pub category: CategoryId,
    pub location: SourceLocation,
}

/// A category as the rule set knows it.
#[derive(Clone, Debug)]
pub struct CategoryInfo {
    pub id: String,
    pub name: String,
    /// Blocks by this category are security (EDE 15), not household policy (EDE 17).
    pub security: bool,
    /// Third-party opinion (piracy, drugs, social media …): its third-party
    /// rules never block a name the public-institution guard covers.
    pub opinion: bool,
}

pub struct RuleSet {
    pub(super) domains: DomainIndex,
    pub(super) keywords: KeywordMatcher,
    pub(super) regexes: RegexRules,
    /// Distinct names the domain rules block, counted when the index was built.
    pub(super) names: NameCounts,
    pub(super) score: super::score::ScoreMatcher,
    /// The public-institution guard, for keyword and regex rules of opinion categories.
    pub(super) guard: super::guard::Guard,
    pub(super) conditions: Vec<Conditions>,
    pub(super) sources: Vec<SourceInfo>,
    pub(super) categories: Vec<CategoryInfo>,
    /// Profile id and the categories it blocks (plus its own allowlist).
    pub(super) profiles: Vec<(String, CategoryMask)>,
}

#[derive(Clone, Copy)]
struct Best {
    rank: u8,
    origin: Origin,
    rewrite: Option<RewriteId>,
}

/// Whether a rule of strength `rank` in `category` takes the decision from `best`.
fn outranks(rank: u8, category: CategoryId, best: &Best) -> bool {
    rank > best.rank || (rank == best.rank && category < best.origin.category)
}

impl RuleSet {
    /// What the rules of the `active` categories say about `name`.
    /// With `ignore_allows`, exceptions are skipped (to show what an exception overrode).
    /// Allocates nothing.
    pub fn check(
        &self,
        name: &Candidate,
        qtype: u16,
        client: &ClientInfo<'_>,
        active: CategoryMask,
        ignore_allows: bool,
    ) -> Verdict {
        self.check_noting(name, qtype, client, active, ignore_allows, None)
            .0
    }

    /// [`RuleSet::check`], also returning a domain block rule of category
    /// `note` that matches, if any, whatever rule decides (found in the same
    /// walk of the index, so it costs nothing extra).
    pub fn check_noting(
        &self,
        name: &Candidate,
        qtype: u16,
        client: &ClientInfo<'_>,
        active: CategoryMask,
        ignore_allows: bool,
        note: Option<CategoryId>,
    ) -> (Verdict, Option<Origin>) {
        let full = name.name();
        let mut best: Option<Best> = None;
        let mut noted: Option<Origin> = None;
        let labels = name.label_count();
        for i in 0..labels {
            if !self.domains.may_hold(labels - i) {
                continue;
            }
            let fp = index::fingerprint(name.suffix(i));
            self.domains.for_each(fp, |e: Hit| {
                let category = CategoryId(e.category);
                if !active.contains(category)
                    || (e.flags & index::EXACT != 0 && i > 0)
                    || (ignore_allows && e.flags & index::ALLOW != 0)
                {
                    return;
                }
                let (line, rewrite) = if e.flags & index::EXTRA != 0 {
                    let c = &self.conditions[e.rule as usize];
                    if !c.applies(full, qtype, client) {
                        return;
                    }
                    (c.line, c.rewrite.is_some().then_some(RewriteId(e.rule)))
                } else {
                    (e.rule, None)
                };
                let r = rank(e.flags);
                if noted.is_none() && Some(category) == note && e.flags & index::ALLOW == 0 {
                    noted = Some(Origin {
                        source: e.source,
                        line,
                        category,
                        matcher: Matcher::Domain,
                    });
                }
                // A stronger rule wins; between rules of equal strength, the
                // category first in precedence order (lower id), whatever the
                // name's specificity; within one category the more specific
                // name (found first) stays.
                if best.is_none_or(|b| outranks(r, category, &b)) {
                    let origin = Origin {
                        source: e.source,
                        line,
                        category,
                        matcher: Matcher::Domain,
                    };
                    best = Some(Best {
                        rank: r,
                        origin,
                        rewrite,
                    });
                }
            });
        }
        let floor = best.map_or((0, CategoryId(u8::MAX)), |b| (b.rank, b.origin.category));
        if let Some((r, origin, rewrite)) = self.regexes.find(
            full,
            qtype,
            client,
            active,
            floor,
            ignore_allows,
            &self.conditions,
            &self.guard,
        ) {
            best = Some(Best {
                rank: r,
                origin,
                rewrite,
            });
        }
        // Keywords decide a name no rule decided, and take the reason of a
        // plain block when their category comes first in precedence (a name
        // an adult keyword and a gambling list both block is reported as adult).
        let keyword_mask = match best {
            None => active,
            Some(b) if b.rank == 1 && b.rewrite.is_none() => {
                CategoryMask(active.0 & b.origin.category.before())
            }
            Some(_) => CategoryMask::NONE,
        };
        if keyword_mask != CategoryMask::NONE
            && let Some(origin) = self.keywords.find(full, keyword_mask, &self.guard)
        {
            return (Verdict::Blocked(origin), noted);
        }
        // The token score decides only a name nothing else decided.
        if best.is_none()
            && let Some(origin) = self.score.find(full, active, &self.guard)
        {
            return (Verdict::Blocked(origin), noted);
        }
        let verdict = match best {
            None => Verdict::NoMatch,
            Some(b) if b.rank == 5 || b.rank == 3 => Verdict::Allowed(b.origin),
            Some(Best {
                origin,
                rewrite: Some(id),
                ..
            }) => Verdict::Rewritten(origin, id),
            Some(b) => Verdict::Blocked(b.origin),
        };
        (verdict, noted)
    }

    pub fn rewrite(&self, id: RewriteId) -> Option<&Rewrite> {
        self.conditions
            .get(id.0 as usize)
            .and_then(|c| c.rewrite.as_ref())
    }

    pub fn source(&self, id: u16) -> Option<&SourceInfo> {
        self.sources.get(usize::from(id))
    }

    pub fn category(&self, id: CategoryId) -> Option<&CategoryInfo> {
        self.categories.get(usize::from(id.0))
    }

    pub fn category_id(&self, id: &str) -> Option<CategoryId> {
        self.categories
            .iter()
            .position(|c| c.id == id)
            .map(|i| CategoryId(i as u8))
    }

    /// The categories a profile blocks, plus its own allowlist.
    pub fn profile_mask(&self, id: &str) -> Option<CategoryMask> {
        self.profiles.iter().find(|(p, _)| p == id).map(|(_, m)| *m)
    }

    pub fn profile_ids(&self) -> impl Iterator<Item = &str> {
        self.profiles.iter().map(|(p, _)| p.as_str())
    }

    /// Domain rules in the index (after deduplication).
    pub fn domain_rules(&self) -> usize {
        self.domains.len()
    }

    /// Distinct names the domain rules block, per category (each name once,
    /// under the category its block is reported as), in total and per profile.
    pub fn blocked_names(&self) -> &NameCounts {
        &self.names
    }

    /// The token score's view of `name` under `active`, per category (for `explain`).
    pub fn score_detail(
        &self,
        name: &Candidate,
        active: CategoryMask,
    ) -> Vec<super::score::Detail> {
        self.score.explain(name.name(), active, &self.guard)
    }

    pub fn keyword_count(&self) -> usize {
        self.keywords.len()
    }

    pub fn regex_count(&self) -> usize {
        self.regexes.len()
    }

    /// Heap held by the matchers, as far as they can tell (the benches measure the real figure).
    pub fn heap_bytes(&self) -> usize {
        self.domains.heap_bytes()
            + self.keywords.heap_bytes()
            + self.score.heap_bytes()
            + self.regexes.heap_bytes()
            + self.conditions.capacity() * std::mem::size_of::<Conditions>()
    }
}
