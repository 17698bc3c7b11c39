//! What a query is counted under: its outcome ([`Action`]) and its category
//! or fixed reason ([`Slot`]), and which of those a privacy level keeps names for.

use crate::config::Privacy;
use crate::engine::Engine;
use crate::rules::CategoryId;

/// What happened to a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Allowed = 0,
    Blocked = 1,
    /// Safe search and list rewrites.
    Rewritten = 2,
}

impl Action {
    pub const COUNT: usize = 3;
    pub const ALL: [Action; 3] = [Action::Allowed, Action::Blocked, Action::Rewritten];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allowed => "allowed",
            Action::Blocked => "blocked",
            Action::Rewritten => "rewritten",
        }
    }
}

/// What a query is counted under: a category of the engine, or one of a few
/// fixed reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot(u8);

impl Slot {
    /// Allowed with no rule involved.
    pub const NONE: Slot = Slot(64);
    /// Blocked by an allowlist-only schedule window.
    pub const SCHEDULE: Slot = Slot(65);
    pub const SAFE_SEARCH: Slot = Slot(66);
    /// Bypass canaries and resolver discovery.
    pub const CANARY: Slot = Slot(67);
    /// A service a parent blocked, closed by its hours, or out of budget.
    pub const SERVICE: Slot = Slot(68);
    pub const COUNT: usize = 69;
    pub const ALL: [Slot; Slot::COUNT] = {
        let mut all = [Slot(0); Slot::COUNT];
        let mut i = 0;
        while i < Slot::COUNT {
            all[i] = Slot(i as u8);
            i += 1;
        }
        all
    };

    pub fn category(c: CategoryId) -> Slot {
        Slot(c.0.min(63))
    }

    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The name stored for it: the category id, or `none`, `schedule`, `safe-search`, `canary`.
    pub fn name(self, engine: &Engine) -> String {
        match self {
            Slot::NONE => "none".into(),
            Slot::SCHEDULE => "schedule".into(),
            Slot::SERVICE => "service".into(),
            Slot::SAFE_SEARCH => "safe-search".into(),
            Slot::CANARY => "canary".into(),
            Slot(c) => engine
                .rules
                .category(CategoryId(c))
                .map_or_else(|| format!("category-{c}"), |i| i.id.clone()),
        }
    }
}

/// Whether a profile's privacy setting keeps the names of queries with this outcome.
pub fn keeps(privacy: Privacy, action: Action) -> bool {
    match privacy {
        Privacy::Aggregate => false,
        Privacy::BlockedDomains => action == Action::Blocked,
        Privacy::Detailed => true,
    }
}
