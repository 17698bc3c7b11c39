//! Activity for parents: aggregate counters, never a log of lookups.
//!
//! The query path bumps counters in memory ([`tally`]); every
//! `flush_interval` the store ([`store`]) adds them to SQLite in one
//! transaction, by hour. What is kept per profile: queries per hour ×
//! category × action, the minutes of each hour with any query (time online),
//! queries while a schedule window was open (bedtime attempts), bypass
//! attempts, and the top blocked registrable domains of each day. Allowed
//! domain names are kept only at the `detailed` privacy level.

use portable_atomic::AtomicU64;
use std::sync::atomic::Ordering;

use crate::engine::{Decision, Engine};

pub use crate::config::Privacy;

pub mod backlog;
mod counted;
pub mod events;
pub mod report;
pub mod store;
mod suffix;
pub mod tally;

pub use counted::{Action, Slot, keeps};
pub use tally::Tally;

/// Queries per (profile, category, action) since the daemon started, for
/// `/metrics`; added to at every flush.
#[derive(Default)]
pub struct Totals {
    counts: std::sync::Mutex<std::collections::BTreeMap<(String, String, &'static str), u64>>,
    /// How the database writer is doing.
    pub writer: backlog::Health,
}

impl Totals {
    pub fn add(&self, drained: &tally::Drained, engine: &Engine) {
        if let Ok(mut t) = self.counts.lock() {
            for (p, slot, action, n) in &drained.counts {
                let key = (
                    engine.profile_id(*p).to_string(),
                    slot.name(engine),
                    action.as_str(),
                );
                *t.entry(key).or_default() += n;
            }
        }
    }

    pub fn snapshot(&self) -> Vec<((String, String, &'static str), u64)> {
        self.counts
            .lock()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }
}

/// When each client was last seen, to notice a device that stopped using the
/// filter (a day without a query from a client that was active): a sign of
/// another resolver, a VPN, or a device taken off the network.
pub struct LastSeen {
    /// Client address → minute last seen (high 48 bits) and profile (low 16).
    map: papaya::HashMap<std::net::IpAddr, AtomicU64, foldhash::fast::RandomState>,
}

/// Clients remembered at most (a router's LAN, a school lab).
const MAX_CLIENTS: usize = 65_536;
/// How long a client must be silent to count as gone.
pub const QUIET_MINUTES: u64 = 24 * 60;

impl Default for LastSeen {
    fn default() -> Self {
        LastSeen {
            map: papaya::HashMap::with_hasher(Default::default()),
        }
    }
}

impl LastSeen {
    /// Notes a query from `ip` (allocates only for a client not seen before).
    pub fn saw(&self, ip: std::net::IpAddr, profile: usize, minute: u64) {
        let packed = (minute << 16) | (profile as u64 & 0xffff);
        let map = self.map.pin();
        match map.get(&ip) {
            // Written only when the minute changes: no cache-line traffic per query.
            Some(seen) if seen.load(Ordering::Relaxed) != packed => {
                seen.store(packed, Ordering::Relaxed);
            }
            Some(_) => {}
            None if map.len() < MAX_CLIENTS => {
                map.insert(ip, AtomicU64::new(packed));
            }
            None => {}
        }
    }

    /// The clients silent for [`QUIET_MINUTES`] at `minute`, with their
    /// profile numbers; they are forgotten (reported once).
    pub fn gone(&self, minute: u64) -> Vec<(std::net::IpAddr, usize)> {
        let map = self.map.pin();
        let gone: Vec<(std::net::IpAddr, usize)> = map
            .iter()
            // This machine itself does not stop using its own resolver.
            .filter(|(ip, _)| !ip.is_loopback())
            .filter_map(|(ip, seen)| {
                let v = seen.load(Ordering::Relaxed);
                (minute.saturating_sub(v >> 16) >= QUIET_MINUTES)
                    .then_some((*ip, (v & 0xffff) as usize))
            })
            .collect();
        for (ip, _) in &gone {
            map.remove(ip);
        }
        gone
    }
}

impl crate::observe::SeenClients for LastSeen {
    fn seen_since(&self, since: u64) -> Vec<(std::net::IpAddr, u64)> {
        let map = self.map.pin();
        let mut seen: Vec<(std::net::IpAddr, u64)> = map
            .iter()
            .map(|(ip, v)| (*ip, v.load(Ordering::Relaxed) >> 16))
            .filter(|(_, m)| *m >= since)
            .collect();
        seen.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        seen
    }
}

/// The activity side of [`crate::observe`]: counts in an engine's numbers
/// ([`EngineCounts`]), and when each client was last seen (across engines).
#[derive(Default)]
pub struct Recorder {
    pub last_seen: std::sync::Arc<LastSeen>,
}

impl crate::observe::Observer for Recorder {
    fn for_engine(&self, engine: &Engine) -> std::sync::Arc<dyn crate::observe::Counts> {
        std::sync::Arc::new(EngineCounts {
            tally: Tally::new(
                engine.privacy.clone(),
                engine.window_count(),
                engine.services().defs().iter().map(|d| d.group).collect(),
            ),
            last_seen: self.last_seen.clone(),
        })
    }
}

/// What is counted for one engine, in its profile and category numbers.
pub struct EngineCounts {
    pub tally: Tally,
    last_seen: std::sync::Arc<LastSeen>,
}

impl crate::observe::Counts for EngineCounts {
    fn decided(&self, q: &crate::observe::Decided<'_>) {
        self.last_seen.saw(q.client, q.profile, q.minute);
        let bypass_category = q.engine.bypass_category();
        let (slot, action, bypass) = match q.decision {
            Decision::Forward | Decision::Metered(_) => (Slot::NONE, Action::Allowed, false),
            Decision::Block(o) => (
                Slot::category(o.category),
                Action::Blocked,
                Some(o.category) == bypass_category,
            ),
            // A pause is a time rule like bedtime: counted with schedules.
            // An exam too.
            Decision::Scheduled(_) | Decision::Paused | Decision::Exam(_) => {
                (Slot::SCHEDULE, Action::Blocked, false)
            }
            Decision::Canary | Decision::NoData => (Slot::CANARY, Action::Blocked, true),
            Decision::Service(..) => (Slot::SERVICE, Action::Blocked, false),
            Decision::SafeSearch(_) => (Slot::SAFE_SEARCH, Action::Rewritten, false),
            Decision::Rewrite(o, _) => (Slot::category(o.category), Action::Rewritten, false),
        };
        // Time spent on a service is what the child could use: allowed
        // lookups (safe search included: restricted YouTube is YouTube).
        let reachable = matches!(
            q.decision,
            Decision::Forward | Decision::Metered(_) | Decision::SafeSearch(_)
        );
        if reachable && !q.engine.services().is_empty() {
            let services = q.services.of_wire(q.engine.services(), q.qname_wire);
            if !services.is_empty() {
                self.tally.services.record(q.profile, services, q.minute);
            }
        }
        let windows = q.open_windows & q.engine.profile_windows(q.profile);
        self.tally.record(
            q.profile,
            slot,
            action,
            q.minute,
            windows,
            bypass,
            q.qname_wire,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_silent_for_a_day_is_reported_once() {
        let seen = LastSeen::default();
        let tablet: std::net::IpAddr = "192.168.1.20".parse().unwrap();
        let phone: std::net::IpAddr = "192.168.1.21".parse().unwrap();
        seen.saw(tablet, 2, 1_000);
        seen.saw(phone, 3, 1_000);
        seen.saw("127.0.0.1".parse().unwrap(), 0, 1_000);
        seen.saw(phone, 3, 1_000 + QUIET_MINUTES - 1);
        assert!(seen.gone(1_000 + QUIET_MINUTES - 1).is_empty());
        assert_eq!(seen.gone(1_000 + QUIET_MINUTES), vec![(tablet, 2)]);
        assert!(
            seen.gone(1_000 + QUIET_MINUTES + 1).is_empty(),
            "reported once"
        );
        assert_eq!(seen.gone(1_000 + 2 * QUIET_MINUTES), vec![(phone, 3)]);
    }
}
