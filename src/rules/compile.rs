//! Turning sources into a [`RuleSet`].
//!
//! Every line is accounted for: a rule, a comment, hosts boilerplate, or a
//! rejection with `file:line: reason`. A bad line never stops the compile;
//! things that make the whole set unusable (a regex set too big to build, too
//! many categories) do, and the caller keeps serving its previous rule set.

use std::collections::HashSet;
use std::fmt;
use std::io::{BufRead, Read};

use super::conditions::Conditions;
use super::guard::Guard;
use super::index::{self, Collected, DomainIndex, Entry, Origins};
use super::keywords::{KeywordMatcher, KeywordMeta};
use super::parse::{self, Action, LineKind, Pattern, Rule};
use super::regexes::{self, RegexRule, RegexRules};
use super::score::{self, ScoreLine, ScoreMatcher, TokenMeta};
use super::set::{CategoryInfo, RuleSet, SourceInfo, SourceLocation};
use super::{CategoryId, CategoryMask, MAX_CATEGORIES, Matcher, Origin};

/// How a source's lines are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Rules as written: blocks, plus any `@@` exceptions.
    Block,
    /// Every rule is an exception (an allowlist).
    Allow,
    /// Keyword lines.
    Keywords,
    /// Token-score lines (`token weight`, `@@word`, `threshold n`).
    Score,
}

/// Who wrote a source: the public-institution guard applies to third parties' lists only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provenance {
    /// Shipped with nestguard or subscribed to: another party's judgement.
    ThirdParty,
    /// The parent's own list, or an allowlist.
    Own,
}

/// Sources given without a location keep their text (for `explain`) up to this size.
const KEPT_TEXT: usize = 64 << 10;

/// Rejected lines kept word for word per source; the rest are only counted.
const KEPT_REJECTS: usize = 20;

/// What happened to one source's lines.
#[derive(Clone, Debug, Default)]
pub struct SourceStats {
    pub name: String,
    /// The category its rules belong to.
    pub category: String,
    pub lines: usize,
    pub rules: usize,
    pub comments: usize,
    pub boilerplate: usize,
    pub rejected: usize,
    /// The first rejections, as `file:line: reason`.
    pub rejects: Vec<String>,
    /// The file it was read from, when it was.
    pub file: Option<std::path::PathBuf>,
    /// Every rule in it is an exception: losing some only blocks more.
    pub allow: bool,
    /// Lines the public-institution guard kept out, as `file:line: name: why`.
    pub guarded: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub sources: Vec<SourceStats>,
}

impl Diagnostics {
    pub fn rules(&self) -> usize {
        self.sources.iter().map(|s| s.rules).sum()
    }

    pub fn rejected(&self) -> usize {
        self.sources.iter().map(|s| s.rejected).sum()
    }

    /// Every list line the public-institution guard overrides, as `file:line: name: why`.
    pub fn guarded(&self) -> impl Iterator<Item = &str> {
        self.sources
            .iter()
            .flat_map(|s| s.guarded.iter().map(String::as_str))
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.sources {
            writeln!(
                f,
                "{}: {} rules, {} rejected, {} comment lines",
                s.name, s.rules, s.rejected, s.comments
            )?;
            for r in &s.rejects {
                writeln!(f, "  {r}")?;
            }
            if s.rejected > s.rejects.len() {
                writeln!(
                    f,
                    "  … and {} more rejected lines",
                    s.rejected - s.rejects.len()
                )?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("more than {MAX_CATEGORIES} categories and profile allowlists")]
    TooManyCategories,
    #[error("more than 65535 rule sources")]
    TooManySources,
    #[error("{0}")]
    Matcher(String),
    #[error("{path}: {message}")]
    Source { path: String, message: String },
    #[error(
        "the rule lists need about {needed_mib} MiB to compile, more than the memory budget of {budget_mib} MiB \
         (rules.memory_budget_mib); largest lists: {largest}. Remove lists or raise the budget"
    )]
    OverBudget {
        needed_mib: u64,
        budget_mib: u64,
        largest: String,
    },
}

/// A source being added: its id and what its lines came to so far.
struct Adding {
    source: u16,
    category: CategoryId,
    kind: ListKind,
    stats: SourceStats,
}

pub struct Builder {
    /// The domain rules collected so far.
    domains: Collected,
    /// The text of each rule with conditions (`domains.extras`), for `$badfilter`.
    extra_text: Vec<u64>,
    regex: Vec<RegexRule>,
    regex_text: Vec<u64>,
    keywords: Vec<(String, KeywordMeta)>,
    score_tokens: Vec<(String, TokenMeta)>,
    thresholds: Vec<(CategoryId, i32)>,
    conditions: Vec<Conditions>,
    /// `$badfilter`ed rule texts (rules with conditions, regexes).
    badfilters: HashSet<u64>,
    /// `$badfilter`ed plain domain rules, as [`index::word_kind`]s.
    bad_words: HashSet<u64>,
    sources: Vec<SourceInfo>,
    categories: Vec<CategoryInfo>,
    profiles: Vec<(String, CategoryMask)>,
    diagnostics: Diagnostics,
    guard: Guard,
    /// Who wrote the sources added next.
    provenance: Provenance,
    /// The source being read is a third party's list of an opinion category.
    guarding: bool,
    /// The source being read is a third party's block list outside security:
    /// its whole-portal lines are kept out.
    portal_guarding: bool,
    /// Lines the guard kept out of the source being read.
    guarded: Vec<String>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            domains: Collected::default(),
            extra_text: Vec::new(),
            regex: Vec::new(),
            regex_text: Vec::new(),
            keywords: Vec::new(),
            score_tokens: Vec::new(),
            thresholds: Vec::new(),
            conditions: Vec::new(),
            badfilters: HashSet::new(),
            bad_words: HashSet::new(),
            sources: Vec::new(),
            categories: Vec::new(),
            profiles: Vec::new(),
            diagnostics: Diagnostics::default(),
            guard: Guard::default(),
            provenance: Provenance::Own,
            guarding: false,
            portal_guarding: false,
            guarded: Vec::new(),
        }
    }

    /// Whether a category (or allowlist) of this id was declared.
    pub fn has_category(&self, id: &str) -> bool {
        self.categories.iter().any(|c| c.id == id)
    }

    /// Declares a category (or a profile's allowlist); returns its id. Declaring an id twice returns the first.
    pub fn category(&mut self, id: &str, name: &str) -> Result<CategoryId, CompileError> {
        if let Some(i) = self.categories.iter().position(|c| c.id == id) {
            return Ok(CategoryId(i as u8));
        }
        if self.categories.len() >= MAX_CATEGORIES {
            return Err(CompileError::TooManyCategories);
        }
        self.categories.push(CategoryInfo {
            id: id.to_string(),
            name: name.to_string(),
            security: false,
            opinion: false,
        });
        Ok(CategoryId((self.categories.len() - 1) as u8))
    }

    /// Marks a category as a security list (EDE 15 rather than 17 when it blocks).
    pub fn mark_security(&mut self, id: CategoryId) {
        if let Some(c) = self.categories.get_mut(usize::from(id.0)) {
            c.security = true;
        }
    }

    /// Marks a category as third-party opinion: the public-institution guard
    /// keeps its third-party rules off guarded names.
    pub fn mark_opinion(&mut self, id: CategoryId) {
        if let Some(c) = self.categories.get_mut(usize::from(id.0)) {
            c.opinion = true;
        }
    }

    /// Who wrote the sources added from now on (the guards apply to third parties').
    pub fn set_provenance(&mut self, provenance: Provenance) {
        self.provenance = provenance;
    }

    /// The public-institution guard (see [`super::guard`]).
    pub fn set_guard(&mut self, guard: Guard) {
        self.guard = guard;
    }

    pub fn profile(&mut self, id: &str, mask: CategoryMask) {
        self.profiles.push((id.to_string(), mask));
    }

    /// Reserves room for about `rules` more domain rules (saves regrowth on big lists).
    pub fn reserve(&mut self, rules: usize) {
        self.domains.words.reserve(rules);
    }

    /// Keeps each domain rule's list and line, for `explain` (see
    /// [`index::Origins`]); the daemon's compile leaves them out.
    pub fn keep_origins(&mut self, origins: Origins) {
        self.domains.origins = match origins {
            Origins::Kept => Some(Vec::new()),
            Origins::Dropped => None,
        };
    }

    /// Adds one source. `bytes` may be gzip-compressed; the text need not be UTF-8
    /// (bad bytes become U+FFFD and those lines are rejected).
    pub fn add_source(
        &mut self,
        name: &str,
        bytes: &[u8],
        category: CategoryId,
        kind: ListKind,
    ) -> Result<(), CompileError> {
        self.add_source_at(
            name,
            SourceLocation::Inline(String::new()),
            bytes,
            category,
            kind,
        )
    }

    /// Like [`Builder::add_source`], remembering where the text can be read again (for `explain`).
    /// Who wrote it is what [`Builder::set_provenance`] last said (the parent, by default).
    pub fn add_source_at(
        &mut self,
        name: &str,
        location: SourceLocation,
        bytes: &[u8],
        category: CategoryId,
        kind: ListKind,
    ) -> Result<(), CompileError> {
        let text = decode(name, bytes)?;
        let location = match location {
            // Only small sources keep their text for `explain`; a big one would double its memory.
            SourceLocation::Inline(s) if s.is_empty() && text.len() <= KEPT_TEXT => {
                SourceLocation::Inline(text.clone().into_owned())
            }
            SourceLocation::Inline(s) if s.is_empty() => SourceLocation::Unknown,
            other => other,
        };
        let mut adding = self.begin_source(name, location, category, kind)?;
        for line in text.lines() {
            self.add_line(&mut adding, line);
        }
        self.end_source(adding);
        Ok(())
    }

    /// Like [`Builder::add_source_at`], reading the text (which may be
    /// gzip-compressed) from `reader` a line at a time: a big list's text is
    /// never in memory whole, which keeps a hot reload's peak down.
    pub fn add_source_from(
        &mut self,
        name: &str,
        location: SourceLocation,
        reader: impl Read,
        category: CategoryId,
        kind: ListKind,
    ) -> Result<(), CompileError> {
        let failed = |e: std::io::Error, what: &str| CompileError::Source {
            path: name.to_string(),
            message: format!("{what}{e}"),
        };
        let mut reader = std::io::BufReader::with_capacity(64 << 10, reader);
        let gzip = reader
            .fill_buf()
            .map_err(|e| failed(e, ""))?
            .starts_with(&[0x1f, 0x8b]);
        let mut text: Box<dyn BufRead> = if gzip {
            Box::new(std::io::BufReader::with_capacity(
                64 << 10,
                flate2::read::MultiGzDecoder::new(reader).take(MAX_DECOMPRESSED),
            ))
        } else {
            Box::new(reader)
        };
        let mut adding = self.begin_source(name, location, category, kind)?;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let read = text
                .read_until(b'\n', &mut buf)
                .map_err(|e| failed(e, if gzip { "bad gzip data: " } else { "" }))?;
            if read == 0 {
                break;
            }
            // As `str::lines`: the line ending, `\n` or `\r\n`, is not part of the line.
            if buf.last() == Some(&b'\n') {
                buf.pop();
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
            }
            self.add_line(&mut adding, &String::from_utf8_lossy(&buf));
        }
        self.end_source(adding);
        Ok(())
    }

    fn begin_source(
        &mut self,
        name: &str,
        location: SourceLocation,
        category: CategoryId,
        kind: ListKind,
    ) -> Result<Adding, CompileError> {
        let info = self.categories.get(usize::from(category.0));
        let third_party = self.provenance == Provenance::ThirdParty && kind != ListKind::Allow;
        self.guarding = third_party && info.is_some_and(|c| c.opinion);
        self.portal_guarding = third_party && info.is_some_and(|c| !c.security);
        let source = u16::try_from(self.sources.len())
            .ok()
            .filter(|&s| s != index::UNKNOWN_SOURCE)
            .ok_or(CompileError::TooManySources)?;
        let file = match &location {
            SourceLocation::File(p) => Some(p.clone()),
            _ => None,
        };
        self.sources.push(SourceInfo {
            name: name.to_string(),
            category,
            location,
        });
        let stats = SourceStats {
            name: name.to_string(),
            category: self
                .categories
                .get(usize::from(category.0))
                .map(|c| c.id.clone())
                .unwrap_or_default(),
            file,
            allow: kind == ListKind::Allow,
            ..SourceStats::default()
        };
        Ok(Adding {
            source,
            category,
            kind,
            stats,
        })
    }

    fn add_line(&mut self, adding: &mut Adding, line: &str) {
        let Adding {
            source,
            category,
            kind,
            ref mut stats,
        } = *adding;
        stats.lines += 1;
        let line_no = stats.lines as u32;
        let result = match kind {
            ListKind::Keywords => match parse::parse_keyword_line(line) {
                Ok(Some(k)) => {
                    let origin = Origin {
                        source,
                        line: line_no,
                        category,
                        matcher: Matcher::Keyword,
                    };
                    self.keywords.push((
                        k.word,
                        KeywordMeta {
                            mode: k.mode,
                            exception: k.exception,
                            guarded: self.guarding,
                            origin,
                        },
                    ));
                    Ok(LineKind::Rules(1))
                }
                Ok(None) => Ok(LineKind::Comment),
                Err(e) => Err(e),
            },
            ListKind::Score => self.add_score_line(line, source, line_no, category),
            ListKind::Block | ListKind::Allow => parse::parse_line(line, &mut |rule| {
                self.add_rule(rule, source, line_no, category, kind)
            }),
        };
        match result {
            Ok(LineKind::Comment) => stats.comments += 1,
            Ok(LineKind::Boilerplate) => stats.boilerplate += 1,
            Ok(LineKind::Rules(n)) => stats.rules += n,
            Err(reason) => {
                stats.rejected += 1;
                if stats.rejects.len() < KEPT_REJECTS {
                    stats
                        .rejects
                        .push(format!("{}:{line_no}: {reason}", stats.name));
                }
            }
        }
    }

    fn end_source(&mut self, adding: Adding) {
        let mut stats = adding.stats;
        stats.guarded = std::mem::take(&mut self.guarded);
        self.diagnostics.sources.push(stats);
    }

    fn add_rule(
        &mut self,
        rule: Rule,
        source: u16,
        line: u32,
        category: CategoryId,
        kind: ListKind,
    ) {
        let allow = kind == ListKind::Allow || rule.action == Action::Allow;
        let m = rule.modifiers;
        let rewrite = m.rewrite.is_some();
        let mut flags = regexes::flags(allow, m.important, rewrite);
        if m.badfilter {
            // A plain domain rule is named by what it does (name, exactness,
            // kind), whatever its syntax; other rules by their text.
            match &rule.pattern {
                Pattern::Domain { name, exact } if !m.is_conditional() => {
                    let exact = if *exact { index::EXACT } else { 0 };
                    let w = index::word(index::fingerprint(name.as_bytes()), 0, flags | exact);
                    self.bad_words.insert(index::word_kind(w));
                }
                _ => {
                    self.badfilters.insert(rule.text_hash);
                }
            }
            return;
        }
        let conditions = if m.is_conditional() {
            self.conditions.push(Conditions {
                line,
                dnstype: m.dnstype,
                client: m.client,
                denyallow: m
                    .denyallow
                    .into_iter()
                    .map(String::into_boxed_str)
                    .collect(),
                rewrite: m.rewrite,
            });
            flags |= index::EXTRA;
            Some((self.conditions.len() - 1) as u32)
        } else {
            None
        };
        match rule.pattern {
            Pattern::Domain { name, exact } => {
                if allow || self.passes_guards(&name, source, line) {
                    self.push_domain(
                        name,
                        exact,
                        flags,
                        conditions,
                        source,
                        line,
                        category,
                        rule.text_hash,
                    );
                }
                // A rule kept out leaves any conditions it had in the table,
                // unreferenced: rare, and small.
            }
            Pattern::Regex(pattern) => {
                self.regex.push(RegexRule {
                    pattern,
                    guarded: self.guarding && !allow,
                    flags: flags & !index::EXTRA,
                    source,
                    line,
                    category,
                    conditions,
                });
                self.regex_text.push(rule.text_hash);
            }
        }
    }

    /// Whether a block rule for `name` goes in, after the guards: a third
    /// party's opinion rule for a public institution or help line stays
    /// out, and so does a third party's rule that would block a whole
    /// portal. Every such line, and every whole-portal line kept, is
    /// reported as `file:line`.
    fn passes_guards(&mut self, name: &str, source: u16, line: u32) -> bool {
        let file = self
            .sources
            .get(usize::from(source))
            .map_or("?", |s| &s.name);
        if self.guarding
            && let Some(why) = self.guard.covers_rule(name.as_bytes())
        {
            self.guarded
                .push(format!("{file}:{line}: {name}: kept reachable, {why}"));
            return false;
        }
        if let Some(portal) = self.guard.portal_rule(name.as_bytes()) {
            let what = if self.portal_guarding {
                "kept out"
            } else {
                "blocks"
            };
            self.guarded.push(format!(
                "{file}:{line}: {name}: {what}, the whole portal {portal}"
            ));
            return !self.portal_guarding;
        }
        true
    }

    /// One line of a score file.
    fn add_score_line(
        &mut self,
        line: &str,
        source: u16,
        line_no: u32,
        category: CategoryId,
    ) -> Result<LineKind, parse::Reject> {
        let parsed = score::parse_line(line).map_err(parse::Reject::BadScore)?;
        let origin = Origin {
            source,
            line: line_no,
            category,
            matcher: Matcher::Score,
        };
        let (word, weight) = match parsed {
            None => return Ok(LineKind::Comment),
            Some(ScoreLine::Threshold(n)) => {
                self.thresholds.retain(|(c, _)| *c != category);
                self.thresholds.push((category, n));
                return Ok(LineKind::Rules(1));
            }
            Some(ScoreLine::Token { word, weight }) => (word, weight),
            Some(ScoreLine::Exception(word)) => (word, 0),
        };
        if self.score_tokens.len() >= score::MAX_TOKENS {
            return Err(parse::Reject::BadScore(format!(
                "more than {} score tokens in all",
                score::MAX_TOKENS
            )));
        }
        self.score_tokens.push((word, TokenMeta { weight, origin }));
        Ok(LineKind::Rules(1))
    }

    #[allow(clippy::too_many_arguments)]
    fn push_domain(
        &mut self,
        name: String,
        exact: bool,
        mut flags: u8,
        conditions: Option<u32>,
        source: u16,
        line: u32,
        category: CategoryId,
        text_hash: u64,
    ) {
        if exact {
            flags |= index::EXACT;
        }
        let d = &mut self.domains;
        d.label_counts |= index::label_bit(name.bytes().filter(|&b| b == b'.').count() + 1);
        let fp = index::fingerprint(name.as_bytes());
        match conditions {
            Some(rule) => {
                d.extras.push(Entry {
                    fp,
                    rule,
                    source,
                    flags,
                    category: category.0,
                });
                self.extra_text.push(text_hash);
            }
            None => {
                let w = index::word(fp, category.0, flags);
                d.words.push(w);
                if let Some(o) = d.origins.as_mut() {
                    o.push((w, source, line));
                }
            }
        }
    }

    pub fn build(mut self) -> Result<(RuleSet, Diagnostics), CompileError> {
        // `$badfilter` disables the rules it names, wherever they are.
        if !self.bad_words.is_empty() {
            let bad = &self.bad_words;
            let d = &mut self.domains;
            d.words.retain(|w| !bad.contains(&index::word_kind(*w)));
            if let Some(o) = d.origins.as_mut() {
                o.retain(|(w, ..)| !bad.contains(&index::word_kind(*w)));
            }
        }
        if !self.badfilters.is_empty() {
            let bad = &self.badfilters;
            let mut keep = self.extra_text.iter().map(|h| !bad.contains(h));
            self.domains.extras.retain(|_| keep.next().unwrap_or(true));
            let mut keep = self.regex_text.iter().map(|h| !bad.contains(h));
            self.regex.retain(|_| keep.next().unwrap_or(true));
        }
        let masks: Vec<u64> = self.profiles.iter().map(|(_, m)| m.0).collect();
        let (domains, names) = DomainIndex::build(self.domains, &masks);
        let regexes = RegexRules::build(self.regex).map_err(CompileError::Matcher)?;
        let keywords = KeywordMatcher::build(self.keywords).map_err(CompileError::Matcher)?;
        let score = ScoreMatcher::build(self.score_tokens, self.thresholds)
            .map_err(CompileError::Matcher)?;
        let set = RuleSet {
            domains,
            keywords,
            regexes,
            names,
            score,
            guard: self.guard,
            conditions: self.conditions,
            sources: self.sources,
            categories: self.categories,
            profiles: self.profiles,
        };
        Ok((set, self.diagnostics))
    }
}

/// Most bytes a gzip source may expand to (a guard against decompression bombs).
const MAX_DECOMPRESSED: u64 = 1 << 30;

pub(super) fn decode<'a>(
    name: &str,
    bytes: &'a [u8],
) -> Result<std::borrow::Cow<'a, str>, CompileError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(
            gzip_size_hint(bytes)
                .unwrap_or(bytes.len() as u64 * 4)
                .min(MAX_DECOMPRESSED) as usize,
        );
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_DECOMPRESSED)
            .read_to_end(&mut out)
            .map_err(|e| CompileError::Source {
                path: name.to_string(),
                message: format!("bad gzip data: {e}"),
            })?;
        return Ok(std::borrow::Cow::Owned(match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }));
    }
    Ok(String::from_utf8_lossy(bytes))
}

/// The uncompressed size a gzip file records in its trailer (modulo 4 GiB).
pub fn gzip_size_hint(bytes: &[u8]) -> Option<u64> {
    if bytes.len() < 18 || !bytes.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let t = &bytes[bytes.len() - 4..];
    Some(u64::from(u32::from_le_bytes([t[0], t[1], t[2], t[3]])))
}

/// Bytes of heap a compile of `text_bytes` of rule text may need at its peak:
/// the text of one list, the entries as they are collected, and the final table
/// (measured by the rules bench with 16-byte entries and whole-text reads: 4.0 to
/// 4.3 bytes per byte of list text; since the 8-byte words and line-at-a-time
/// reads, the daemon's whole RSS stays under one byte per byte of list text, so
/// 5 is a wide margin, kept so that budgets set before still mean the same).
pub fn peak_estimate(text_bytes: u64) -> u64 {
    text_bytes.saturating_mul(5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::name::Candidate;
    use crate::rules::parse::ClientInfo;
    use crate::rules::{Matcher, Verdict};

    fn build(lists: &[(&str, ListKind)]) -> (RuleSet, Diagnostics) {
        build_keeping(lists, Origins::Kept)
    }

    fn build_keeping(lists: &[(&str, ListKind)], origins: Origins) -> (RuleSet, Diagnostics) {
        let mut b = Builder::new();
        b.keep_origins(origins);
        let c = b.category("test", "Test").unwrap();
        for (i, (text, kind)) in lists.iter().enumerate() {
            b.add_source(&format!("list{i}.txt"), text.as_bytes(), c, *kind)
                .unwrap();
        }
        b.build().unwrap()
    }

    #[test]
    fn a_daemon_compile_leaves_out_plain_rules_origins_and_decides_the_same() {
        let lists = [(
            "plain.example\n||cond.example^$dnstype=A\n/^re[0-9]+\\.example$/\n",
            ListKind::Block,
        )];
        let (kept, _) = build_keeping(&lists, Origins::Kept);
        let (dropped, _) = build_keeping(&lists, Origins::Dropped);
        assert!(
            matches!(verdict(&kept, "a.plain.example"), Verdict::Blocked(o) if o.source == 0 && o.line == 1)
        );
        assert!(matches!(
            verdict(&dropped, "a.plain.example"),
            Verdict::Blocked(o) if o.source == index::UNKNOWN_SOURCE && o.line == 0
        ));
        // Rules with conditions and regexes keep theirs either way.
        for set in [&kept, &dropped] {
            assert!(
                matches!(verdict(set, "cond.example"), Verdict::Blocked(o) if o.source == 0 && o.line == 2)
            );
            assert!(
                matches!(verdict(set, "re12.example"), Verdict::Blocked(o) if o.source == 0 && o.line == 3)
            );
            assert_eq!(verdict(set, "other.example"), Verdict::NoMatch);
        }
        assert!(dropped.heap_bytes() < kept.heap_bytes());
    }

    #[test]
    fn badfilter_names_a_plain_rule_by_what_it_does_whatever_its_syntax() {
        let (s, _) = build(&[
            ("0.0.0.0 ads.example\nkeep.example\n", ListKind::Block),
            ("||ads.example^$badfilter\n", ListKind::Block),
        ]);
        assert_eq!(verdict(&s, "ads.example"), Verdict::NoMatch);
        assert!(matches!(verdict(&s, "keep.example"), Verdict::Blocked(_)));
        // An exact rule is a different rule: not named by a badfilter for the name and its subdomains.
        let (s, _) = build(&[(
            "|exact.example^\n||exact.example^$badfilter\n",
            ListKind::Block,
        )]);
        assert!(matches!(verdict(&s, "exact.example"), Verdict::Blocked(_)));
    }

    fn verdict(set: &RuleSet, name: &str) -> Verdict {
        verdict_t(set, name, 1)
    }

    fn verdict_t(set: &RuleSet, name: &str, qtype: u16) -> Verdict {
        let c = Candidate::from_text(name).unwrap();
        set.check(&c, qtype, &ClientInfo::default(), CategoryMask::ALL, false)
    }

    fn blocked(set: &RuleSet, name: &str) -> bool {
        matches!(verdict(set, name), Verdict::Blocked(_))
    }

    #[test]
    fn domain_rules_cover_subdomains_unless_exact() {
        let (s, _) = build(&[(
            "example.com\n|exact.example^\n*.wild.example\n0.0.0.0 hosts.example\n",
            ListKind::Block,
        )]);
        assert!(blocked(&s, "example.com"));
        assert!(blocked(&s, "a.b.example.com"));
        assert!(!blocked(&s, "notexample.com"));
        assert!(blocked(&s, "exact.example"));
        assert!(!blocked(&s, "www.exact.example"));
        assert!(blocked(&s, "wild.example") && blocked(&s, "x.wild.example"));
        assert!(blocked(&s, "sub.hosts.example"));
    }

    #[test]
    fn exceptions_beat_blocks_and_important_beats_exceptions() {
        let (s, _) = build(&[(
            "||example.com^\n@@||ok.example.com^\n||bad.ok.example.com^\n",
            ListKind::Block,
        )]);
        assert!(blocked(&s, "x.example.com"));
        // The exception covers its subtree, even where a more specific block exists.
        assert!(matches!(verdict(&s, "ok.example.com"), Verdict::Allowed(o) if o.line == 2));
        assert!(matches!(
            verdict(&s, "bad.ok.example.com"),
            Verdict::Allowed(_)
        ));
        let (s, _) = build(&[(
            "||example.com^$important\n@@||ok.example.com^\n",
            ListKind::Block,
        )]);
        assert!(
            blocked(&s, "ok.example.com"),
            "$important block beats a plain exception"
        );
        let (s, _) = build(&[(
            "||example.com^$important\n@@||ok.example.com^$important\n",
            ListKind::Block,
        )]);
        assert!(
            !blocked(&s, "ok.example.com"),
            "$important exception beats $important block"
        );
    }

    #[test]
    fn allowlists_win_within_the_same_rules() {
        let (s, _) = build(&[
            ("casino.example\n", ListKind::Block),
            ("help.casino.example\n", ListKind::Allow),
        ]);
        assert!(blocked(&s, "casino.example"));
        assert!(matches!(verdict(&s, "help.casino.example"), Verdict::Allowed(o) if o.source == 1));
    }

    #[test]
    fn modifiers_apply() {
        let (s, _) = build(&[(
            "||t.example^$dnstype=AAAA\n||d.example^$denyallow=ok.d.example\n|r.example^$dnsrewrite=1.2.3.4\n||r.example^\n",
            ListKind::Block,
        )]);
        assert!(!blocked(&s, "t.example"));
        assert!(matches!(
            verdict_t(&s, "t.example", 28),
            Verdict::Blocked(_)
        ));
        assert!(blocked(&s, "x.d.example"));
        assert!(!blocked(&s, "ok.d.example") && !blocked(&s, "a.ok.d.example"));
        // A rewrite beats a plain block.
        match verdict(&s, "r.example") {
            Verdict::Rewritten(_, id) => assert_eq!(
                s.rewrite(id),
                Some(&parse::Rewrite::Address("1.2.3.4".parse().unwrap()))
            ),
            v => panic!("expected a rewrite, got {v:?}"),
        }
        assert!(
            blocked(&s, "www.r.example"),
            "the exact rewrite does not cover subdomains; the block does"
        );
    }

    #[test]
    fn client_modifier_needs_a_matching_client() {
        let (s, _) = build(&[("||c.example^$client=10.0.0.0/8\n", ListKind::Block)]);
        let c = Candidate::from_text("c.example").unwrap();
        let kid = ClientInfo {
            ip: Some("10.1.2.3".parse().unwrap()),
            name: None,
        };
        assert!(matches!(
            s.check(&c, 1, &kid, CategoryMask::ALL, false),
            Verdict::Blocked(_)
        ));
        assert_eq!(
            s.check(&c, 1, &ClientInfo::default(), CategoryMask::ALL, false),
            Verdict::NoMatch
        );
    }

    #[test]
    fn badfilter_disables_its_twin() {
        let (s, _) = build(&[
            ("||ads.example^\n||keep.example^\n", ListKind::Block),
            ("||ads.example^$badfilter\n", ListKind::Block),
        ]);
        assert!(!blocked(&s, "ads.example"));
        assert!(blocked(&s, "keep.example"));
    }

    #[test]
    fn regex_and_keywords() {
        let (s, _) = build(&[
            ("/^ad[0-9]+\\./\n||x*y.example^\n", ListKind::Block),
            ("porn\n@@pornic\n", ListKind::Keywords),
        ]);
        assert!(
            matches!(verdict(&s, "ad12.example"), Verdict::Blocked(o) if o.matcher == Matcher::Regex && o.line == 1)
        );
        assert!(blocked(&s, "xay.example") && !blocked(&s, "xay.example.org"));
        assert!(
            matches!(verdict(&s, "free-porn.example"), Verdict::Blocked(o) if o.matcher == Matcher::Keyword)
        );
        assert!(blocked(&s, "porn4u.example"));
        assert!(!blocked(&s, "pornic.example"), "exception word");
        assert!(!blocked(&s, "sporno.example"), "not a token");
    }

    #[test]
    fn inactive_categories_do_not_match() {
        let mut b = Builder::new();
        let adult = b.category("adult", "Adult").unwrap();
        let games = b.category("gaming", "Gaming").unwrap();
        b.add_source("a.txt", b"adult.example\n", adult, ListKind::Block)
            .unwrap();
        b.add_source("g.txt", b"game.example\n", games, ListKind::Block)
            .unwrap();
        let (s, _) = b.build().unwrap();
        let only_adult = CategoryMask::NONE.with(adult);
        let c = Candidate::from_text("game.example").unwrap();
        assert_eq!(
            s.check(&c, 1, &ClientInfo::default(), only_adult, false),
            Verdict::NoMatch
        );
        let c = Candidate::from_text("adult.example").unwrap();
        assert!(
            matches!(s.check(&c, 1, &ClientInfo::default(), only_adult, false), Verdict::Blocked(o) if o.category == adult)
        );
    }

    #[test]
    fn rejected_lines_are_counted_with_file_and_line() {
        let (_, d) = build(&[(
            "good.example\nbad..example\n# comment\n||x^$ctag=pc\n127.0.0.1 localhost\n",
            ListKind::Block,
        )]);
        let s = &d.sources[0];
        assert_eq!(
            (s.rules, s.rejected, s.comments, s.boilerplate),
            (1, 2, 1, 1)
        );
        assert!(
            s.rejects[0].starts_with("list0.txt:2: bad domain name"),
            "{:?}",
            s.rejects
        );
        assert!(
            s.rejects[1].starts_with("list0.txt:4: modifier `$ctag`"),
            "{:?}",
            s.rejects
        );
    }

    #[test]
    fn the_guard_keeps_third_party_opinion_rules_off_institutions() {
        let build = |provenance| {
            let mut b = Builder::new();
            let c = b.category("drugs", "Drugs").unwrap();
            b.mark_opinion(c);
            let (g, _) = crate::rules::guard::Guard::parse(
                "gov\n",
                "portal.example\n",
                ["help.example".to_string()],
            );
            b.set_guard(g);
            b.set_provenance(provenance);
            for (text, kind) in [
                (
                    "agency.gov\nhelp.example\nuk\n/^rx[0-9]/\nshop.example\nportal.example\nbad.portal.example\n",
                    ListKind::Block,
                ),
                ("cannabis\n", ListKind::Keywords),
            ] {
                b.add_source_at("l.txt", SourceLocation::Unknown, text.as_bytes(), c, kind)
                    .unwrap();
            }
            b.build().unwrap()
        };
        let (s, d) = build(Provenance::ThirdParty);
        for n in [
            "agency.gov",
            "www.help.example",
            "cannabis.agency.gov",
            "rx1.gov",
            "x.uk",
        ] {
            assert!(!blocked(&s, n), "{n}");
        }
        assert!(
            blocked(&s, "shop.example")
                && blocked(&s, "cannabis.example")
                && blocked(&s, "rx1.example")
        );
        let lines: Vec<&str> = d.guarded().collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(
            lines[2],
            "l.txt:6: portal.example: kept out, the whole portal portal.example"
        );
        assert!(!blocked(&s, "www.portal.example") && blocked(&s, "bad.portal.example"));
        assert!(
            lines[0].starts_with("l.txt:1: agency.gov: kept reachable, public institution (.gov)"),
            "{lines:?}"
        );
        // The parent's own list is the parent's judgement.
        let (s, d) = build(Provenance::Own);
        assert!(
            blocked(&s, "agency.gov")
                && blocked(&s, "cannabis.agency.gov")
                && blocked(&s, "rx1.gov")
        );
        // Its whole-portal line is reported, and kept.
        let lines: Vec<&str> = d.guarded().collect();
        assert_eq!(
            lines,
            ["l.txt:6: portal.example: blocks, the whole portal portal.example"]
        );
        assert!(blocked(&s, "www.portal.example"));
    }

    #[test]
    fn gzip_sources_are_read() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"zipped.example\n").unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(gzip_size_hint(&bytes), Some(15));
        let mut b = Builder::new();
        let c = b.category("t", "T").unwrap();
        b.add_source("l.txt.gz", &bytes, c, ListKind::Block)
            .unwrap();
        let (s, _) = b.build().unwrap();
        assert!(blocked(&s, "zipped.example"));
    }

    #[test]
    fn a_source_read_a_line_at_a_time_compiles_as_the_same_bytes_do() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        // CRLF endings, a bad byte, a rejected line, no final newline.
        let text: &[u8] =
            b"# list\r\none.example\r\nbad\xffname.example\n!!!\ntwo.example\r\nlast.example";
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text).unwrap();
        let zipped = gz.finish().unwrap();
        let compile = |bytes: &[u8], streamed: bool| {
            let mut b = Builder::new();
            let c = b.category("t", "T").unwrap();
            if streamed {
                b.add_source_from("l", SourceLocation::Unknown, bytes, c, ListKind::Block)
            } else {
                b.add_source_at("l", SourceLocation::Unknown, bytes, c, ListKind::Block)
            }
            .unwrap();
            b.build().unwrap()
        };
        let (whole, d) = compile(text, false);
        for bytes in [text, &zipped[..]] {
            let (s, streamed) = compile(bytes, true);
            for name in [
                "one.example",
                "two.example",
                "last.example",
                "other.example",
            ] {
                assert_eq!(blocked(&s, name), blocked(&whole, name), "{name}");
            }
            let stats = (&streamed.sources[0], &d.sources[0]);
            assert_eq!(stats.0.lines, stats.1.lines);
            assert_eq!(stats.0.rules, stats.1.rules);
            assert_eq!(stats.0.rejects, stats.1.rejects);
        }
        assert!(blocked(&whole, "last.example") && blocked(&whole, "one.example"));
        assert_eq!(d.sources[0].lines, 6);
    }
}
