//! Categories as the compiled rules number them.

/// A category (or a profile's own allowlist), numbered at compile time.
/// The number is also the category's precedence: when rules of several
/// categories block a name with equal strength, the lowest id is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategoryId(pub u8);

impl CategoryId {
    /// The bits of every category before this one in precedence order (lower ids).
    pub fn before(self) -> u64 {
        (1u64 << self.0.min(63)) - 1
    }
}

/// Most categories (including one per profile allowlist) a rule set can hold.
pub const MAX_CATEGORIES: usize = 64;

/// A set of categories: the ones a profile blocks, plus its own allowlist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CategoryMask(pub u64);

impl CategoryMask {
    pub const NONE: CategoryMask = CategoryMask(0);
    pub const ALL: CategoryMask = CategoryMask(u64::MAX);

    pub fn with(self, c: CategoryId) -> CategoryMask {
        CategoryMask(self.0 | (1u64 << c.0))
    }

    pub fn contains(self, c: CategoryId) -> bool {
        self.0 & (1u64 << c.0) != 0
    }

    pub fn intersects(self, other: CategoryMask) -> bool {
        self.0 & other.0 != 0
    }
}
