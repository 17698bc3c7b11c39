//! The domain index: every domain rule as a 16-byte entry in one open-addressed
//! table, found by a 64-bit fingerprint of its name.
//!
//! No name is stored. A lookup hashes each suffix of the query name
//! (`a.b.example.com`, `b.example.com`, …) and compares fingerprints. Two
//! different names collide with probability 2⁻⁶⁴ per comparison, about one
//! false match in 10¹³ lookups against a million rules. That is the price of
//! 16 bytes per rule instead of 40 or more, and a price worth paying on a
//! router. Where a rule came from (source and line) is kept, so `explain` can
//! show its text.

/// Covers subdomains unless set.
pub const EXACT: u8 = 1;
pub const ALLOW: u8 = 2;
pub const IMPORTANT: u8 = 4;
/// `rule` indexes the conditions table (`$dnstype`, `$client`, `$denyallow`, rewrite)
/// instead of being the line number.
pub const EXTRA: u8 = 8;
pub const REWRITE: u8 = 16;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// Fingerprint of the name; 0 marks an empty slot.
    pub fp: u64,
    /// Line number in the source, or the conditions index when `flags & EXTRA`.
    pub rule: u32,
    pub source: u16,
    pub flags: u8,
    pub category: u8,
}

/// Fingerprint of a normalised name.
pub fn fingerprint(name: &[u8]) -> u64 {
    match xxhash_rust::xxh3::xxh3_64(name) {
        0 => 1,
        h => h,
    }
}

/// Slots per entry: a load factor of 0.7 keeps linear probes short.
const SLOTS_PER_ENTRY: f64 = 1.0 / 0.7;

pub struct DomainIndex {
    slots: Box<[Entry]>,
    len: usize,
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
    /// Counts over entries sorted by fingerprint, then category.
    fn of(entries: &[Entry], profiles: &[u64]) -> NameCounts {
        let mut counts = NameCounts {
            by_category: Vec::new(),
            total: 0,
            by_profile: vec![0; profiles.len()],
        };
        let blocks = entries.iter().filter(|e| e.flags & (ALLOW | REWRITE) == 0);
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
        for e in blocks {
            if last != Some(e.fp) {
                flush(mask, &mut counts);
                mask = 0;
                last = Some(e.fp);
            }
            mask |= 1u64 << e.category.min(63);
        }
        flush(mask, &mut counts);
        counts
    }
}

impl DomainIndex {
    /// Builds the table. Duplicates (same name, category, kind and conditions) keep the
    /// earliest source and line, so `explain` names the first list that has the rule.
    /// Also counts the distinct names blocked, per category and per profile mask.
    pub fn build(
        mut entries: Vec<Entry>,
        label_counts: u64,
        profiles: &[u64],
    ) -> (DomainIndex, NameCounts) {
        entries.sort_unstable_by_key(|e| (e.fp, e.category, e.flags, e.source, e.rule));
        entries.dedup_by_key(|e| {
            (
                e.fp,
                e.category,
                e.flags,
                if e.flags & EXTRA != 0 { e.rule } else { 0 },
            )
        });
        let counts = NameCounts::of(&entries, profiles);
        let cap = ((entries.len() as f64 * SLOTS_PER_ENTRY) as usize).max(8);
        let mut slots = vec![Entry::default(); cap].into_boxed_slice();
        for e in &entries {
            let mut at = slot_of(e.fp, cap);
            while slots[at].fp != 0 {
                at = if at + 1 == cap { 0 } else { at + 1 };
            }
            slots[at] = *e;
        }
        let index = DomainIndex {
            len: entries.len(),
            slots,
            label_counts,
        };
        (index, counts)
    }

    /// Could a rule name with this many labels be in the index?
    #[inline]
    pub fn may_hold(&self, labels: usize) -> bool {
        self.label_counts & label_bit(labels) != 0
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn heap_bytes(&self) -> usize {
        self.slots.len() * std::mem::size_of::<Entry>()
    }

    /// Calls `f` for every entry whose name has fingerprint `fp`.
    #[inline]
    pub fn for_each(&self, fp: u64, mut f: impl FnMut(&Entry)) {
        let cap = self.slots.len();
        let mut at = slot_of(fp, cap);
        loop {
            let e = &self.slots[at];
            if e.fp == 0 {
                return;
            }
            if e.fp == fp {
                f(e);
            }
            at = if at + 1 == cap { 0 } else { at + 1 };
        }
    }
}

/// Maps a fingerprint onto `0..cap` with a multiply (no power-of-two table needed).
#[inline]
fn slot_of(fp: u64, cap: usize) -> usize {
    ((u128::from(fp) * cap as u128) >> 64) as usize
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

    #[test]
    fn finds_every_entry_and_dedupes() {
        let mut entries = Vec::new();
        for i in 0..1000u32 {
            let name = format!("n{i}.example");
            entries.push(Entry {
                fp: fingerprint(name.as_bytes()),
                rule: i,
                source: 1,
                flags: 0,
                category: 2,
            });
            // The same rule again from a later line: deduplicated, first line kept.
            entries.push(Entry {
                fp: fingerprint(name.as_bytes()),
                rule: i + 5000,
                source: 1,
                flags: 0,
                category: 2,
            });
        }
        let (idx, counts) = DomainIndex::build(entries, u64::MAX, &[1 << 2, 1 << 3]);
        assert_eq!(counts.total, 1000);
        assert_eq!(counts.by_category, vec![0, 0, 1000]);
        assert_eq!(counts.by_profile, vec![1000, 0]);
        assert_eq!(idx.len(), 1000);
        for i in 0..1000u32 {
            let mut hits = Vec::new();
            idx.for_each(fingerprint(format!("n{i}.example").as_bytes()), |e| {
                hits.push(e.rule)
            });
            assert_eq!(hits, vec![i]);
        }
        let mut none = 0;
        idx.for_each(fingerprint(b"absent.example"), |_| none += 1);
        assert_eq!(none, 0);
        assert_eq!(std::mem::size_of::<Entry>(), 16);
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
        let entries = vec![
            entry("both.example", 3, 0),
            entry("both.example", 1, 0),
            entry("one.example", 3, 0),
            entry("allowed.example", 1, ALLOW),
            entry("rewritten.example", 1, REWRITE),
        ];
        let (_, c) = DomainIndex::build(entries, u64::MAX, &[1 << 3, 1 << 1]);
        assert_eq!(c.by_category, vec![0, 1, 0, 1]);
        assert_eq!(c.total, 2);
        assert_eq!(c.by_category.iter().sum::<u32>(), c.total);
        assert_eq!(c.by_profile, vec![2, 1]);
    }
}
