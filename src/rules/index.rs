//! The domain index: every plain domain rule as one 8-byte word in an
//! open-addressed table ordered by fingerprint, found by a fingerprint of its name.
//!
//! No name is stored. A lookup hashes each suffix of the query name
//! (`a.b.example.com`, `b.example.com`, …) and compares the top 55 bits of
//! that hash (the *key*) with the words it finds. Two different names share
//! a key with probability 2⁻⁵⁵: against a million rules, one false match in
//! about 3·10¹⁰ suffix lookups. That is the price of 8 bytes per rule
//! instead of 40 or more, and a price worth paying on a router: the index
//! exists twice during a hot reload, so its size sets the reload's peak.
//!
//! A word holds the key, the rule's category and its kind (exact,
//! exception, important); *not* the list and line it came from. The daemon
//! has no use for them on the query path, and they would double the
//! index. `explain` and `check` compile with [`Origins::Kept`], which keeps
//! them in a side table. Rules with conditions (`$dnstype`, `$client`,
//! `$denyallow`, rewrites) are rare and keep 16-byte entries of their own,
//! with their source and line.
//!
//! The table is built in the vector the words were collected in, in sorted
//! order with a monotone slot function ("ordered linear probing"): a lookup
//! stops at the first word whose key is larger than its own, so even a miss
//! reads only a few words, at a load factor of 0.8.

/// Covers subdomains unless set.
pub const EXACT: u8 = 1;
pub const ALLOW: u8 = 2;
pub const IMPORTANT: u8 = 4;
/// `rule` indexes the conditions table (`$dnstype`, `$client`, `$denyallow`, rewrite)
/// instead of being the line number.
pub const EXTRA: u8 = 8;
pub const REWRITE: u8 = 16;

/// The kinds a plain word can carry (the low three bits).
const PLAIN_FLAGS: u64 = (EXACT | ALLOW | IMPORTANT) as u64;
const CATEGORY_SHIFT: u32 = 3;
/// The key: the top 55 bits of the fingerprint.
const KEY_MASK: u64 = !((1 << 9) - 1);

/// A rule with conditions, or a plain rule compiled with [`Origins::Kept`]:
/// the name's fingerprint and everything about the rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// Fingerprint of the name.
    pub fp: u64,
    /// Line number in the source, or the conditions index when `flags & EXTRA`.
    pub rule: u32,
    pub source: u16,
    pub flags: u8,
    pub category: u8,
}

/// A rule the index found for a name, as [`DomainIndex::for_each`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub category: u8,
    pub flags: u8,
    /// The source list, or [`UNKNOWN_SOURCE`] when not kept.
    pub source: u16,
    /// The line (0 when not kept), or the conditions index when `flags & EXTRA`.
    pub rule: u32,
}

/// The source of a plain rule in a daemon's index: not kept (see the module doc).
pub const UNKNOWN_SOURCE: u16 = u16::MAX;

/// Whether a compile keeps each plain rule's list and line (for `explain`
/// and `check`) or not (the daemon: half the memory).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origins {
    #[default]
    Dropped,
    Kept,
}

/// Fingerprint of a normalised name.
pub fn fingerprint(name: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(name)
}

/// The key of a fingerprint: never 0, which marks an empty slot.
#[inline]
fn key_of(fp: u64) -> u64 {
    match fp & KEY_MASK {
        0 => 1 << 9,
        k => k,
    }
}

/// The word for a plain rule.
pub fn word(fp: u64, category: u8, flags: u8) -> u64 {
    key_of(fp) | (u64::from(category) << CATEGORY_SHIFT) | (u64::from(flags) & PLAIN_FLAGS)
}

/// The word with its kind and category left out: what a `$badfilter` names.
pub fn word_kind(word: u64) -> u64 {
    word & (KEY_MASK | PLAIN_FLAGS)
}

fn category_of(word: u64) -> u8 {
    ((word >> CATEGORY_SHIFT) & 0x3f) as u8
}

/// Home slots per word: a load factor of 0.8. Ordered probing keeps misses
/// short even so (a lookup stops at the first larger key).
const SLOTS_PER_WORD: f64 = 1.25;

pub struct DomainIndex {
    /// Words in key order, each at or after its home slot; 0 is empty.
    /// Longer than `homes` by however far the last run spills.
    slots: Box<[u64]>,
    /// Number of home slots (what keys are mapped onto).
    homes: usize,
    len: usize,
    /// Rules with conditions, sorted by fingerprint.
    extras: Box<[Entry]>,
    /// With [`Origins::Kept`]: every plain word's first list and line, sorted by word.
    origins: Box<[(u64, u16, u32)]>,
    /// Bit n set when some rule's name has n labels (63 stands for 63 or more):
    /// a lookup skips suffixes no rule could match, such as the bare TLD.
    label_counts: u64,
}

/// The bit for a name of `labels` labels in [`DomainIndex`]'s label mask.
pub fn label_bit(labels: usize) -> u64 {
    1u64 << labels.min(63)
}

/// Distinct names the domain rules block (exceptions and rewrites left out).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameCounts {
    /// Per category id: names whose block is reported under that category,
    /// so each name is counted once, under the first of its categories in
    /// precedence order. These add up to `total`.
    pub by_category: Vec<u32>,
    /// Distinct names blocked by any category.
    pub total: u32,
    /// Per profile mask given to [`DomainIndex::build`]: distinct names one
    /// of its categories blocks.
    pub by_profile: Vec<u32>,
}

impl NameCounts {
    /// Counts over words sorted by key and conditional entries sorted by fingerprint.
    fn of(words: &[u64], extras: &[Entry], profiles: &[u64]) -> NameCounts {
        let mut counts = NameCounts {
            by_category: Vec::new(),
            total: 0,
            by_profile: vec![0; profiles.len()],
        };
        let mut plain = words
            .iter()
            .filter(|&&w| w & u64::from(ALLOW) == 0)
            .map(|&w| (w & KEY_MASK, category_of(w)))
            .peekable();
        let mut conditional = extras
            .iter()
            .filter(|e| e.flags & (ALLOW | REWRITE) == 0)
            .map(|e| (key_of(e.fp), e.category))
            .peekable();
        // Both in key order: merged, so each name's categories come together.
        let blocks = std::iter::from_fn(|| match (plain.peek(), conditional.peek()) {
            (Some(a), Some(b)) if b.0 < a.0 => conditional.next(),
            (Some(_), _) => plain.next(),
            (None, _) => conditional.next(),
        });
        let mut last: Option<u64> = None;
        let mut mask = 0u64;
        let flush = |mask: u64, counts: &mut NameCounts| {
            if mask == 0 {
                return;
            }
            let first = mask.trailing_zeros() as usize;
            if counts.by_category.len() <= first {
                counts.by_category.resize(first + 1, 0);
            }
            counts.by_category[first] += 1;
            counts.total += 1;
            for (n, p) in counts.by_profile.iter_mut().zip(profiles) {
                if p & mask != 0 {
                    *n += 1;
                }
            }
        };
        for (key, category) in blocks {
            if last != Some(key) {
                flush(mask, &mut counts);
                mask = 0;
                last = Some(key);
            }
            mask |= 1u64 << category.min(63);
        }
        flush(mask, &mut counts);
        counts
    }
}

/// What [`DomainIndex::build`] is built from.
#[derive(Default)]
pub struct Collected {
    /// One [`word`] per plain rule, in any order, duplicates allowed.
    pub words: Vec<u64>,
    /// Rules with conditions.
    pub extras: Vec<Entry>,
    /// With [`Origins::Kept`]: each word's list and line.
    pub origins: Option<Vec<(u64, u16, u32)>>,
    pub label_counts: u64,
}

impl DomainIndex {
    /// Builds the table in the words' own vector (no second copy: the index
    /// exists twice during a reload as it is). Duplicates (same name,
    /// category and kind) are kept once; with origins kept, under the
    /// earliest source and line, so `explain` names the first list that has
    /// the rule. Also counts the distinct names blocked, per category and
    /// per profile mask.
    pub fn build(collected: Collected, profiles: &[u64]) -> (DomainIndex, NameCounts) {
        let Collected {
            mut words,
            mut extras,
            origins,
            label_counts,
        } = collected;
        words.sort_unstable();
        words.dedup();
        extras.sort_unstable_by_key(|e| (e.fp, e.category, e.flags, e.source, e.rule));
        extras.dedup_by_key(|e| (e.fp, e.category, e.flags, e.rule));
        let counts = NameCounts::of(&words, &extras, profiles);
        let origins = origins.map_or_else(Default::default, |mut o| {
            o.sort_unstable();
            o.dedup_by_key(|o| o.0);
            o.into_boxed_slice()
        });
        let len = words.len();
        let homes = ((len as f64 * SLOTS_PER_WORD) as usize).max(8);
        let index = DomainIndex {
            slots: place(words, homes),
            homes,
            len: len + extras.len(),
            extras: extras.into_boxed_slice(),
            origins,
            label_counts,
        };
        (index, counts)
    }

    /// Could a rule name with this many labels be in the index?
    #[inline]
    pub fn may_hold(&self, labels: usize) -> bool {
        self.label_counts & label_bit(labels) != 0
    }

    /// Rules in the index (after deduplication).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.slots)
            + std::mem::size_of_val(&*self.extras)
            + std::mem::size_of_val(&*self.origins)
    }

    /// Calls `f` for every rule whose name has fingerprint `fp`.
    #[inline]
    pub fn for_each(&self, fp: u64, mut f: impl FnMut(Hit)) {
        let key = key_of(fp);
        let mut at = slot_of(key, self.homes);
        // Words are in key order from their home slots on: the first empty
        // slot or larger key ends the search.
        while let Some(&w) = self.slots.get(at) {
            if w == 0 || w & KEY_MASK > key {
                break;
            }
            if w & KEY_MASK == key {
                f(self.hit(w));
            }
            at += 1;
        }
        if !self.extras.is_empty() {
            let from = self.extras.partition_point(|e| e.fp < fp);
            for e in self.extras[from..].iter().take_while(|e| e.fp == fp) {
                f(Hit {
                    category: e.category,
                    flags: e.flags,
                    source: e.source,
                    rule: e.rule,
                });
            }
        }
    }

    fn hit(&self, w: u64) -> Hit {
        let (source, rule) = match self.origins.binary_search_by_key(&w, |o| o.0) {
            Ok(i) => (self.origins[i].1, self.origins[i].2),
            Err(_) => (UNKNOWN_SOURCE, 0),
        };
        Hit {
            category: category_of(w),
            flags: (w & PLAIN_FLAGS) as u8,
            source,
            rule,
        }
    }
}

/// Lays sorted, distinct words out as the table, in place: each word at its
/// home slot or, when that is taken, right after the word before it.
///
/// The words are first moved to the end of the grown vector; then, front to
/// back, each moves down to its slot. A word's slot is never past where it
/// waits (word `i` waits at `i + spare` and its slot is `i + m` with `m` at
/// most `spare`), so no word is overwritten before it has moved.
fn place(mut words: Vec<u64>, homes: usize) -> Box<[u64]> {
    let n = words.len();
    let mut end = 0;
    for &w in &words {
        end = slot_of(w & KEY_MASK, homes).max(end) + 1;
    }
    let total = end.max(homes);
    let spare = total - n;
    words.resize(total, 0);
    words.copy_within(0..n, spare);
    words[..spare.min(n)].fill(0);
    let mut next = 0;
    for i in spare..total {
        let w = words[i];
        let at = slot_of(w & KEY_MASK, homes).max(next);
        words[i] = 0;
        words[at] = w;
        next = at + 1;
    }
    words.into_boxed_slice()
}

/// Maps a key onto `0..homes` with a multiply: monotone, so sorted keys get
/// slots in order (and no power-of-two table is needed).
#[inline]
fn slot_of(key: u64, homes: usize) -> usize {
    ((u128::from(key) * homes as u128) >> 64) as usize
}

/// Strength of a rule; see the precedence list in `rules/mod.rs`.
pub(super) fn rank(flags: u8) -> u8 {
    let important = flags & IMPORTANT != 0;
    match (important, flags & ALLOW != 0, flags & REWRITE != 0) {
        (true, true, _) => 5,
        (true, false, _) => 4,
        (false, true, _) => 3,
        (false, false, true) => 2,
        (false, false, false) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(names: impl Iterator<Item = (String, u8, u8)>) -> Collected {
        let mut c = Collected {
            label_counts: u64::MAX,
            ..Collected::default()
        };
        for (name, category, flags) in names {
            c.words
                .push(word(fingerprint(name.as_bytes()), category, flags));
        }
        c
    }

    fn hits(idx: &DomainIndex, name: &str) -> Vec<Hit> {
        let mut out = Vec::new();
        idx.for_each(fingerprint(name.as_bytes()), |h| out.push(h));
        out
    }

    #[test]
    fn finds_every_word_once_and_nothing_else() {
        // Each name twice (a later line of the same list): kept once.
        let names = (0..20_000u32).flat_map(|i| {
            let n = format!("n{i}.example");
            [(n.clone(), 2, 0), (n, 2, 0)]
        });
        let (idx, counts) = DomainIndex::build(collect(names), &[1 << 2, 1 << 3]);
        assert_eq!(counts.total, 20_000);
        assert_eq!(counts.by_category, vec![0, 0, 20_000]);
        assert_eq!(counts.by_profile, vec![20_000, 0]);
        assert_eq!(idx.len(), 20_000);
        for i in 0..20_000u32 {
            let h = hits(&idx, &format!("n{i}.example"));
            assert_eq!(
                h,
                vec![Hit {
                    category: 2,
                    flags: 0,
                    source: UNKNOWN_SOURCE,
                    rule: 0
                }]
            );
        }
        for i in 0..20_000u32 {
            assert!(hits(&idx, &format!("absent{i}.example")).is_empty());
        }
        assert_eq!(std::mem::size_of_val(&*idx.slots), 8 * idx.slots.len());
    }

    #[test]
    fn the_table_keeps_every_word_at_or_after_its_home_in_key_order() {
        // Keys crowded into one corner of the key space make long runs and
        // spill past the last home slot.
        let mut c = Collected::default();
        for i in 0..5_000u64 {
            c.words.push(word(u64::MAX - (i << 12), 1, 0));
            c.words.push(word(i << 40, 1, 0));
        }
        let (idx, _) = DomainIndex::build(c, &[]);
        assert!(idx.slots.len() > idx.homes, "the last run spills");
        let mut last = 0;
        for (at, &w) in idx.slots.iter().enumerate() {
            if w != 0 {
                assert!(w > last, "key order");
                assert!(slot_of(w & KEY_MASK, idx.homes) <= at, "at or after home");
                last = w;
            }
        }
        assert_eq!(idx.slots.iter().filter(|&&w| w != 0).count(), 10_000);
        for i in 0..5_000u64 {
            let mut n = 0;
            idx.for_each(u64::MAX - (i << 12), |_| n += 1);
            idx.for_each(i << 40, |_| n += 1);
            assert_eq!(n, 2);
        }
    }

    #[test]
    fn kinds_categories_and_origins_come_back() {
        let fp = fingerprint(b"both.example");
        let mut c = Collected {
            origins: Some(Vec::new()),
            label_counts: u64::MAX,
            ..Collected::default()
        };
        for (category, flags, source, line) in [
            (5, EXACT, 3, 9),
            (1, ALLOW | IMPORTANT, 2, 4),
            (5, EXACT, 1, 7),
        ] {
            let w = word(fp, category, flags);
            c.words.push(w);
            if let Some(o) = c.origins.as_mut() {
                o.push((w, source, line));
            }
        }
        c.extras.push(Entry {
            fp,
            rule: 0,
            source: 4,
            flags: EXTRA | REWRITE,
            category: 7,
        });
        let (idx, _) = DomainIndex::build(c, &[]);
        let got = hits(&idx, "both.example");
        assert_eq!(
            got,
            vec![
                Hit {
                    category: 1,
                    flags: ALLOW | IMPORTANT,
                    source: 2,
                    rule: 4
                },
                // The duplicate keeps its earliest source and line.
                Hit {
                    category: 5,
                    flags: EXACT,
                    source: 1,
                    rule: 7
                },
                Hit {
                    category: 7,
                    flags: EXTRA | REWRITE,
                    source: 4,
                    rule: 0
                },
            ]
        );
    }
}

#[cfg(test)]
mod count_tests {
    use super::*;

    fn entry(name: &str, category: u8, flags: u8) -> Entry {
        Entry {
            fp: fingerprint(name.as_bytes()),
            rule: 1,
            source: 0,
            flags,
            category,
        }
    }

    #[test]
    fn each_name_is_counted_once_under_its_first_category() {
        let mut c = Collected::default();
        for (name, category, flags) in [
            ("both.example", 3, 0),
            ("both.example", 1, 0),
            ("one.example", 3, 0),
            ("allowed.example", 1, ALLOW),
        ] {
            c.words
                .push(word(fingerprint(name.as_bytes()), category, flags));
        }
        c.extras
            .push(entry("rewritten.example", 1, EXTRA | REWRITE));
        // A conditional block of a name a plain rule also blocks: one name.
        c.extras.push(entry("one.example", 4, EXTRA));
        c.extras.push(entry("only-conditional.example", 4, EXTRA));
        let (_, c) = DomainIndex::build(c, &[1 << 3, 1 << 1]);
        assert_eq!(c.by_category, vec![0, 1, 0, 1, 1]);
        assert_eq!(c.total, 3);
        assert_eq!(c.by_category.iter().sum::<u32>(), c.total);
        assert_eq!(c.by_profile, vec![2, 1]);
    }
}
