//! Daily time budgets per child and service ("an hour of YouTube a day"):
//! active minutes estimated from lookups, extra time a parent grants, and
//! what is kept of both in the state folder.
//!
//! A DNS filter sees names, not screens. A minute counts as active when the
//! service's names are asked for in it; answers for budgeted services carry
//! a TTL of at most [`METERED_TTL`] so a device that keeps using a service
//! keeps asking. Between two active minutes at most [`BRIDGE`] minutes
//! apart the minutes in between count too (a video plays for a minute or
//! two on names already looked up); a longer gap is a break. How well that
//! does, and what it cannot see, is in docs/decisions.md.
//!
//! The query path marks minutes with one atomic `fetch_or`; everything else
//! (the estimate, the ring's upkeep, saving) runs once a second off it.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// TTL cap of answers for a budgeted service: a cut-off takes effect
/// within about a minute of the budget running out.
pub const METERED_TTL: u32 = 60;

/// Gaps of up to this many minutes between two active minutes count as
/// active: a device plays on names it already has.
pub const BRIDGE: u64 = 3;

/// How many (child, service) budgets the daemon keeps.
pub const MAX_SLOTS: usize = 512;

/// Minutes in the ring: two days, so the last 24 hours are always whole
/// while the next hours are cleared ahead.
const RING: u64 = 2 * 1440;
const WORDS: usize = (RING / 64) as usize;

/// One budget's minutes, a bit each, in a ring indexed by epoch minute.
struct Slot {
    bits: [AtomicU64; WORDS],
}

impl Slot {
    fn new() -> Slot {
        Slot {
            bits: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    fn is_set(&self, minute: u64) -> bool {
        let i = minute % RING;
        self.bits[(i / 64) as usize].load(Ordering::Relaxed) & (1 << (i % 64)) != 0
    }

    fn set(&self, minute: u64) {
        let i = minute % RING;
        self.bits[(i / 64) as usize].fetch_or(1 << (i % 64), Ordering::Relaxed);
    }

    fn clear(&self, minute: u64) {
        let i = minute % RING;
        self.bits[(i / 64) as usize].fetch_and(!(1 << (i % 64)), Ordering::Relaxed);
    }
}

/// Every budget's active minutes: shared by every engine, so a reload does
/// not forget how long a child has watched today.
pub struct Usage {
    slots: Box<[Slot]>,
    /// Slot i belongs to keys[i] (`leo/youtube`); registered off the query path.
    keys: Mutex<Vec<String>>,
    /// Slots asked for when all were taken (counted in /metrics).
    full: AtomicU64,
    /// The ring is clean up to (not including) this minute ahead.
    swept_to: AtomicU64,
}

impl Default for Usage {
    fn default() -> Usage {
        Usage::new()
    }
}

impl Usage {
    pub fn new() -> Usage {
        Usage {
            slots: (0..MAX_SLOTS).map(|_| Slot::new()).collect(),
            keys: Mutex::new(Vec::new()),
            full: AtomicU64::new(0),
            swept_to: AtomicU64::new(0),
        }
    }

    /// The slot of a budget (`leo/youtube`), registering it if new; None
    /// when every slot is taken (counted, and the budget is not enforced).
    pub fn slot(&self, key: &str) -> Option<u16> {
        let mut keys = self.keys.lock().ok()?;
        if let Some(i) = keys.iter().position(|k| k == key) {
            return u16::try_from(i).ok();
        }
        if keys.len() >= MAX_SLOTS {
            self.full.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        keys.push(key.to_string());
        u16::try_from(keys.len() - 1).ok()
    }

    /// Budgets that could not be kept because every slot was taken.
    pub fn slots_full(&self) -> u64 {
        self.full.load(Ordering::Relaxed)
    }

    /// Notes that the budget's service was asked for in `minute` (epoch
    /// minutes). On the query path: one atomic operation, no allocation.
    pub fn mark(&self, slot: u16, minute: u64) {
        if let Some(s) = self.slots.get(usize::from(slot)) {
            s.set(minute);
        }
    }

    /// Keeps the ring's next hours clean for the minutes to come. Off the
    /// query path (once a second).
    pub fn sweep(&self, now: u64) {
        let ahead = now + 1440 - 60;
        let from = self.swept_to.load(Ordering::Relaxed).max(now + 1);
        if from >= ahead {
            return;
        }
        for s in self.slots.iter() {
            for m in from..ahead {
                s.clear(m);
            }
        }
        self.swept_to.store(ahead, Ordering::Relaxed);
    }

    /// Active minutes of a budget in `[from, to]` (epoch minutes, at most a
    /// day apart): marked minutes, and gaps of up to [`BRIDGE`] minutes
    /// between two of them.
    pub fn used(&self, slot: u16, from: u64, to: u64) -> u64 {
        let Some(s) = self.slots.get(usize::from(slot)) else {
            return 0;
        };
        let from = from.max(to.saturating_sub(RING / 2 - 1));
        active_minutes((from..=to).filter(|&m| s.is_set(m)))
    }

    /// What the file keeps: each budget's marked minutes of the last day.
    fn snapshot(&self, now: u64) -> BTreeMap<String, Vec<u64>> {
        let keys = self.keys.lock().map(|k| k.clone()).unwrap_or_default();
        keys.into_iter()
            .enumerate()
            .map(|(i, key)| {
                let s = &self.slots[i];
                let minutes = (now.saturating_sub(1439)..=now)
                    .filter(|&m| s.is_set(m))
                    .collect();
                (key, minutes)
            })
            .filter(|(_, m): &(String, Vec<u64>)| !m.is_empty())
            .collect()
    }

    /// Saves the last day's minutes to `path` (atomically).
    pub fn save(&self, path: &Path, now: u64) -> Result<(), String> {
        let file = UsageFile {
            budget: self
                .snapshot(now)
                .into_iter()
                .map(|(key, minutes)| UsageEntry {
                    key,
                    minutes: ranges(&minutes),
                })
                .collect(),
        };
        let body = toml::to_string(&file).map_err(|e| e.to_string())?;
        let text = format!(
            "# Active minutes of each daily budget (child/service), as epoch-minute\n# ranges; kept by the daemon so a restart does not forget them.\n\n{body}"
        );
        crate::state::write_atomic(path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads the minutes a previous run saved (nothing if there is no file).
    pub fn restore(&self, path: &Path, now: u64) -> Result<usize, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let file: UsageFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut n = 0;
        for entry in file.budget {
            let Some(slot) = self.slot(&entry.key) else {
                continue;
            };
            for (a, b) in entry.minutes {
                for m in a.max(now.saturating_sub(1439))..=b.min(now) {
                    self.mark(slot, m);
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

/// Active minutes among `marked` (minutes in which a service's names were
/// asked for, ascending): each of them, and the gaps of up to [`BRIDGE`]
/// minutes between two of them. The budget and the activity report both
/// count time this way, so their figures agree.
pub fn active_minutes(marked: impl IntoIterator<Item = u64>) -> u64 {
    let mut used = 0;
    let mut last: Option<u64> = None;
    for m in marked {
        used += match last {
            Some(l) if m <= l => 0,
            Some(l) if m - l <= BRIDGE => m - l,
            _ => 1,
        };
        last = Some(last.map_or(m, |l| l.max(m)));
    }
    used
}

/// Runs of consecutive minutes, as (first, last).
fn ranges(minutes: &[u64]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &m in minutes {
        match out.last_mut() {
            Some((_, b)) if *b + 1 == m => *b = m,
            _ => out.push((m, m)),
        }
    }
    out
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageFile {
    #[serde(default)]
    budget: Vec<UsageEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageEntry {
    key: String,
    minutes: Vec<(u64, u64)>,
}

/// A daily budget of one service for one policy.
#[derive(Clone, Debug)]
pub struct Budget {
    pub profile: usize,
    pub service: crate::rules::services::ServiceId,
    pub minutes: u32,
    /// Local minute of the day the budget starts again.
    pub reset: u16,
    /// `leo/youtube`: the usage store's and the grants' key.
    pub key: String,
}

/// A budget's state now.
#[derive(Clone, Debug)]
pub struct BudgetNow {
    pub budget: Budget,
    /// Active minutes so far this budget day.
    pub used: u64,
    /// Minutes a parent granted on top, this budget day.
    pub granted: u64,
    /// The local date this budget day began on.
    pub day: jiff::civil::Date,
}

impl BudgetNow {
    pub fn allowed(&self) -> u64 {
        u64::from(self.budget.minutes) + self.granted
    }

    pub fn left(&self) -> u64 {
        self.allowed().saturating_sub(self.used)
    }
}

/// Extra time a parent gave for one budget day (`nestguard grant leo youtube 30m`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The child's id (`leo`), or a profile's.
    pub who: String,
    /// The service's id (`youtube`).
    pub service: String,
    pub minutes: u32,
    /// The budget day it is for (the local date the day's budget started on).
    pub day: jiff::civil::Date,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
    pub at: Timestamp,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantsFile {
    #[serde(default, rename = "grant")]
    grants: Vec<Grant>,
}

/// The grants in the file (none when it does not exist).
pub fn load_grants(path: &Path) -> Result<Vec<Grant>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_grants(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

pub fn parse_grants(text: &str) -> Result<Vec<Grant>, String> {
    toml::from_str::<GrantsFile>(text)
        .map(|f| f.grants)
        .map_err(|e| e.to_string())
}

/// Adds a grant, dropping those of days before `day` (written atomically).
pub fn add_grant(path: &Path, grant: Grant) -> Result<(), String> {
    let mut grants = load_grants(path)?;
    grants.retain(|g| g.day >= grant.day);
    grants.push(grant);
    let body = toml::to_string(&GrantsFile { grants }).map_err(|e| e.to_string())?;
    let text = format!(
        "# Extra time on daily budgets, written by `nestguard grant` and the dashboard;\n# each is for one budget day.\n\n{body}"
    );
    crate::state::write_atomic(path, text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Minutes granted to `who` for `service` on `day`.
pub fn granted(grants: &[Grant], who: &str, service: &str, day: jiff::civil::Date) -> u64 {
    grants
        .iter()
        .filter(|g| g.who == who && g.service == service && g.day == day)
        .map(|g| u64::from(g.minutes))
        .sum()
}

/// The budget day a moment is in, for a budget that starts again at local
/// minute `reset`: its first epoch minute and the local date it began on.
/// `now` is in epoch minutes, `local` and `today` the local time and date
/// of the same moment (from the daemon's clock).
pub fn budget_day(
    now: u64,
    local: crate::clock::LocalTime,
    today: jiff::civil::Date,
    reset: u16,
) -> (u64, jiff::civil::Date) {
    let since = (u64::from(local.minute) + 1440 - u64::from(reset)) % 1440;
    let day = if local.minute < reset {
        today.yesterday().unwrap_or(today)
    } else {
        today
    };
    (now.saturating_sub(since), day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_up_to_the_bridge_count_and_longer_ones_do_not() {
        let u = Usage::new();
        let s = u.slot("leo/youtube").unwrap();
        for m in [100, 101, 103, 106, 120] {
            u.mark(s, m);
        }
        // 100, 101, (102) 103, (104, 105) 106: 7; 120 after a break: 1.
        assert_eq!(u.used(s, 0, 200), 8);
        assert_eq!(u.used(s, 104, 200), 2);
    }

    #[test]
    fn active_minutes_of_a_list_are_the_budgets_count() {
        let u = Usage::new();
        let s = u.slot("leo/youtube").unwrap();
        let marked = [100, 101, 103, 106, 120, 124];
        for m in marked {
            u.mark(s, m);
        }
        assert_eq!(active_minutes(marked), u.used(s, 0, 200));
        // Repeats count once.
        assert_eq!(active_minutes([1, 2, 2, 5]), 5);
    }

    #[test]
    fn the_ring_forgets_what_is_older_than_a_day_once_swept() {
        let u = Usage::new();
        let s = u.slot("a/b").unwrap();
        u.mark(s, 10);
        u.sweep(10);
        assert_eq!(u.used(s, 0, 10), 1);
        // Two days on, the same ring position holds a new day.
        u.sweep(10 + 1440);
        u.sweep(10 + RING - 30);
        assert_eq!(u.used(s, 10 + RING - 100, 10 + RING - 30), 0);
    }

    #[test]
    fn usage_survives_a_save_and_restore() {
        let dir = std::env::temp_dir().join(format!("nestguard-budget-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("budgets.toml");
        let u = Usage::new();
        let s = u.slot("leo/youtube").unwrap();
        for m in 5000..5030 {
            u.mark(s, m);
        }
        u.save(&path, 5040).unwrap();
        let v = Usage::new();
        assert_eq!(v.restore(&path, 5040).unwrap(), 30);
        let s = v.slot("leo/youtube").unwrap();
        assert_eq!(v.used(s, 4000, 5040), 30);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_budget_day_starts_at_the_reset_time() {
        let today = jiff::civil::date(2026, 12, 3);
        let three_am = crate::clock::LocalTime {
            weekday: 3,
            minute: 180,
        };
        assert_eq!(
            budget_day(10_000, three_am, today, 0),
            (10_000 - 180, today)
        );
        let (start, day) = budget_day(10_000, three_am, today, 240);
        assert_eq!(day, jiff::civil::date(2026, 12, 2));
        assert_eq!(start, 10_000 - 1380);
    }
}
