//! The in-memory counters the query path bumps.
//!
//! One [`Tally`] per engine (its profile and category numbers are that
//! engine's). Counters are sharded: each worker thread bumps its own shard,
//! so queries on different threads never write the same cache line and no
//! lock is shared by all queries. Counting an allowed query is a few relaxed
//! atomic adds and allocates nothing; a blocked name's registrable domain is
//! tallied in a small per-shard map, which allocates only the first time a
//! domain is seen in a flush interval. The store takes (and zeroes) the
//! counters every flush.

use portable_atomic::AtomicU64;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Action, Privacy, Slot};
use crate::rules::services::{ServiceGroup, ServiceMask};

/// Shards: enough that two busy threads rarely share one.
const SHARDS: usize = 8;
/// Distinct domains remembered per shard per flush; beyond that, new ones are counted only in totals.
const MAX_NAMES: usize = 4096;

type NameKey = (u16, Action, u64);
/// The key already holds a hash of the name: foldhash, not SipHash, mixes it.
type NameMap = HashMap<NameKey, (u64, Box<str>), foldhash::fast::RandomState>;

struct Shard {
    /// profile × slot × action.
    counts: Box<[AtomicU64]>,
    /// profile × hour parity: bit m set = a query in minute m of that hour.
    minutes: Box<[AtomicU64]>,
    /// Per schedule window: queries while it was open.
    windows: Box<[AtomicU64]>,
    /// Per profile: hits on bypass names and canaries.
    bypass: Box<[AtomicU64]>,
    /// Registrable domains: (profile, action, hash) → count and name.
    names: Mutex<NameMap>,
}

fn zeros(n: usize) -> Box<[AtomicU64]> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

/// Tallies the registrable domain (eTLD+1, by the Public Suffix List) of a
/// name; allocates only for a domain not yet seen this flush interval.
fn count_name(shard: &Shard, profile: usize, action: Action, qname_wire: &[u8]) {
    let Some(name) = crate::rules::name::Candidate::from_wire(qname_wire) else {
        return;
    };
    let domain = super::suffix::registrable(name.name()).unwrap_or(name.name());
    let key = (profile as u16, action, xxhash_rust::xxh3::xxh3_64(domain));
    let Ok(mut names) = shard.names.lock() else {
        return;
    };
    if let Some(entry) = names.get_mut(&key) {
        entry.0 += 1;
    } else if names.len() < MAX_NAMES {
        let text = String::from_utf8_lossy(domain).into();
        names.insert(key, (1, text));
    }
}

/// What one flush takes out of a tally.
#[derive(Debug, Default)]
pub struct Drained {
    /// (profile, slot, action, count), non-zero only.
    pub counts: Vec<(usize, Slot, Action, u64)>,
    /// (profile, hour parity, minute bits).
    pub minutes: Vec<(usize, u64, u64)>,
    /// (window, count).
    pub windows: Vec<(usize, u64)>,
    /// (profile, count).
    pub bypass: Vec<(usize, u64)>,
    /// (profile, service index, hour parity, minute bits): minutes in which
    /// the service's names were looked up and allowed.
    pub service_minutes: Vec<(usize, usize, u64, u64)>,
    /// (profile, group, hour parity, minute bits): the union of its services'.
    pub group_minutes: Vec<(usize, ServiceGroup, u64, u64)>,
    /// (profile, action, domain, count).
    pub names: Vec<(usize, Action, String, u64)>,
}

pub struct Tally {
    profiles: usize,
    windows: usize,
    /// Per profile: what may be kept of domain names.
    pub privacy: Vec<Privacy>,
    shards: Box<[Shard]>,
    /// Minute bitmaps per service (and per group): see [`ServiceMinutes`].
    pub services: ServiceMinutes,
}

/// Per profile, the minutes of each hour in which a service's (a group's)
/// names were looked up and allowed: a 60-bit bitmap per (profile, service,
/// hour parity), as for time online. Not sharded: a bit is set once a
/// minute and is only read after that, so the cache line stays shared.
pub struct ServiceMinutes {
    /// Service index → its group.
    groups: Box<[ServiceGroup]>,
    /// Per profile: whether per-service minutes are kept (see [`keeps_services`]).
    per_service: Box<[bool]>,
    /// profile × service × hour parity.
    by_service: Box<[AtomicU64]>,
    /// profile × group × hour parity.
    by_group: Box<[AtomicU64]>,
}

/// Whether a privacy level keeps minutes per service, not only per group:
/// a service is a name ("TikTok"), and `aggregate` keeps no names.
pub fn keeps_services(privacy: Privacy) -> bool {
    privacy != Privacy::Aggregate
}

/// Sets a bit unless it is set already: after the first query of a minute,
/// later ones only read.
fn set_bit(cell: &AtomicU64, bit: u64) {
    if cell.load(Ordering::Relaxed) & bit == 0 {
        cell.fetch_or(bit, Ordering::Relaxed);
    }
}

impl ServiceMinutes {
    /// `groups`: each catalogue service's group, in catalogue order.
    pub fn new(privacy: &[Privacy], groups: Vec<ServiceGroup>) -> ServiceMinutes {
        let profiles = privacy.len();
        ServiceMinutes {
            per_service: privacy.iter().map(|p| keeps_services(*p)).collect(),
            by_service: zeros(profiles * groups.len() * 2),
            by_group: zeros(profiles * ServiceGroup::ALL.len() * 2),
            groups: groups.into(),
        }
    }

    /// Notes that `profile` looked up names of `services` in `minute`.
    /// Allocates nothing and takes no lock.
    pub fn record(&self, profile: usize, services: ServiceMask, minute: u64) {
        if profile >= self.per_service.len() {
            return;
        }
        let parity = ((minute / 60) & 1) as usize;
        let bit = 1u64 << (minute % 60);
        let n = self.groups.len();
        services.for_each(|s| {
            let s = usize::from(s.0);
            let Some(group) = self.groups.get(s) else {
                return;
            };
            let g = (profile * ServiceGroup::ALL.len() + group.index()) * 2 + parity;
            set_bit(&self.by_group[g], bit);
            if self.per_service[profile] {
                set_bit(&self.by_service[(profile * n + s) * 2 + parity], bit);
            }
        });
    }

    /// Takes the bitmaps (leaving zeros) into `d`.
    fn drain(&self, d: &mut Drained) {
        let n = self.groups.len();
        for p in 0..self.per_service.len() {
            for parity in 0..2u64 {
                for s in 0..n {
                    let bits = self.by_service[(p * n + s) * 2 + parity as usize]
                        .swap(0, Ordering::Relaxed);
                    if bits != 0 {
                        d.service_minutes.push((p, s, parity, bits));
                    }
                }
                for g in ServiceGroup::ALL {
                    let at = (p * ServiceGroup::ALL.len() + g.index()) * 2 + parity as usize;
                    let bits = self.by_group[at].swap(0, Ordering::Relaxed);
                    if bits != 0 {
                        d.group_minutes.push((p, g, parity, bits));
                    }
                }
            }
        }
    }
}

fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    MINE.with(|m| *m)
}

impl Tally {
    /// `groups`: each catalogue service's group, in catalogue order.
    pub fn new(privacy: Vec<Privacy>, windows: usize, groups: Vec<ServiceGroup>) -> Tally {
        let profiles = privacy.len();
        if privacy.iter().any(|p| *p != Privacy::Aggregate) {
            super::suffix::warm();
        }
        let shards = (0..SHARDS)
            .map(|_| Shard {
                counts: zeros(profiles * Slot::COUNT * Action::COUNT),
                minutes: zeros(profiles * 2),
                windows: zeros(windows),
                bypass: zeros(profiles),
                names: Mutex::new(NameMap::default()),
            })
            .collect();
        Tally {
            profiles,
            windows,
            services: ServiceMinutes::new(&privacy, groups),
            privacy,
            shards,
        }
    }

    /// Counts one query. `minute` is wall-clock minutes since the epoch;
    /// `qname_wire` is looked at only when the profile's privacy level keeps
    /// names for this action.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        profile: usize,
        slot: Slot,
        action: Action,
        minute: u64,
        open_windows: u64,
        bypass: bool,
        qname_wire: &[u8],
    ) {
        if profile >= self.profiles {
            return;
        }
        let shard = &self.shards[shard_index()];
        let at = (profile * Slot::COUNT + slot.index()) * Action::COUNT + action as usize;
        shard.counts[at].fetch_add(1, Ordering::Relaxed);
        let hour_parity = ((minute / 60) & 1) as usize;
        shard.minutes[profile * 2 + hour_parity].fetch_or(1 << (minute % 60), Ordering::Relaxed);
        let mut open = open_windows;
        while open != 0 {
            let w = open.trailing_zeros() as usize;
            open &= open - 1;
            if let Some(c) = shard.windows.get(w) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        if bypass {
            shard.bypass[profile].fetch_add(1, Ordering::Relaxed);
        }
        if super::keeps(self.privacy[profile], action) {
            count_name(shard, profile, action, qname_wire);
        }
    }

    /// Takes every counter (leaving zeros), summed over the shards.
    pub fn drain(&self) -> Drained {
        let mut d = Drained::default();
        let take = |cells: &dyn Fn(&Shard) -> &AtomicU64| -> u64 {
            self.shards
                .iter()
                .map(|s| cells(s).swap(0, Ordering::Relaxed))
                .sum()
        };
        for p in 0..self.profiles {
            for slot in Slot::ALL {
                for action in Action::ALL {
                    let at = (p * Slot::COUNT + slot.index()) * Action::COUNT + action as usize;
                    let n = take(&|s| &s.counts[at]);
                    if n > 0 {
                        d.counts.push((p, slot, action, n));
                    }
                }
            }
            for parity in 0..2u64 {
                let bits = self
                    .shards
                    .iter()
                    .map(|s| s.minutes[p * 2 + parity as usize].swap(0, Ordering::Relaxed))
                    .fold(0, |a, b| a | b);
                if bits != 0 {
                    d.minutes.push((p, parity, bits));
                }
            }
            let n = take(&|s| &s.bypass[p]);
            if n > 0 {
                d.bypass.push((p, n));
            }
        }
        for w in 0..self.windows {
            let n = take(&|s| &s.windows[w]);
            if n > 0 {
                d.windows.push((w, n));
            }
        }
        self.services.drain(&mut d);
        let mut merged: HashMap<NameKey, (u64, Box<str>)> = HashMap::new();
        for s in self.shards.iter() {
            // Drained, not replaced, so the map keeps its capacity.
            if let Ok(mut m) = s.names.lock() {
                for (k, (n, name)) in m.drain() {
                    merged.entry(k).or_insert((0, name)).0 += n;
                }
            }
        }
        for ((p, action, _), (n, name)) in merged {
            d.names
                .push((usize::from(p), action, name.into_string(), n));
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::services::ServiceId;

    fn mask(ids: &[u8]) -> ServiceMask {
        ids.iter()
            .fold(ServiceMask::NONE, |m, i| m.with(ServiceId(*i)))
    }

    #[test]
    fn service_minutes_are_bitmaps_per_hour_drained_once_and_groups_are_unions() {
        // Services 0 and 1 are videos, 2 is a game; profile 0 keeps
        // services, profile 1 (aggregate) only groups.
        let groups = vec![
            ServiceGroup::Video,
            ServiceGroup::Video,
            ServiceGroup::Games,
        ];
        let t = Tally::new(vec![Privacy::Detailed, Privacy::Aggregate], 0, groups);
        let hour = 480_000; // an even hour, in epoch minutes / 60
        let at = |m: u64| hour * 60 + m;
        t.services.record(0, mask(&[0]), at(1));
        t.services.record(0, mask(&[0]), at(2));
        t.services.record(0, mask(&[0]), at(2));
        t.services.record(0, mask(&[1]), at(2));
        t.services.record(0, mask(&[0, 2]), at(5)); // a shared name: both
        t.services.record(1, mask(&[2]), at(7));
        // The next hour (the other parity), before the flush.
        t.services.record(0, mask(&[1]), at(60 + 3));
        // Out of range: ignored, not a panic.
        t.services.record(9, mask(&[0]), at(1));
        let d = t.drain();
        let bits = |ms: &[u64]| ms.iter().fold(0u64, |b, m| b | 1 << m);
        let mut services = d.service_minutes.clone();
        services.sort_unstable();
        assert_eq!(
            services,
            [
                (0, 0, 0, bits(&[1, 2, 5])),
                (0, 1, 0, bits(&[2])),
                (0, 1, 1, bits(&[3])),
                (0, 2, 0, bits(&[5])),
            ]
        );
        let mut groups = d.group_minutes.clone();
        groups.sort_unstable();
        assert_eq!(
            groups,
            [
                // Video: the union of services 0 and 1, not the sum.
                (0, ServiceGroup::Video, 0, bits(&[1, 2, 5])),
                (0, ServiceGroup::Video, 1, bits(&[3])),
                (0, ServiceGroup::Games, 0, bits(&[5])),
                (1, ServiceGroup::Games, 0, bits(&[7])),
            ]
        );
        // Drained: the next flush starts from zero.
        let again = t.drain();
        assert!(again.service_minutes.is_empty() && again.group_minutes.is_empty());
    }
}
