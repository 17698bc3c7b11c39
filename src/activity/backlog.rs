//! Counts taken from the tallies but not yet in the database.
//!
//! The writer drains the in-memory tallies every flush interval whether or
//! not the database can be written (a tally is per engine and must not grow
//! without bound either). What could not be written waits here and goes in
//! with the next write that works: a full disk, a locked or missing database,
//! a state folder that is not there yet lose nothing while they last. The
//! backlog is bounded: batches of the same engine and hour are merged, at most
//! [`MAX_BATCHES`] are kept (the oldest dropped first, counted), and a batch
//! keeps at most [`MAX_NAMES`] domain names.

use portable_atomic::AtomicU64;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Action;
use super::tally::Drained;
use crate::engine::Engine;

/// Batches kept at most: with one per engine and hour, more than two days.
pub const MAX_BATCHES: usize = 64;
/// Domain names kept per batch.
pub const MAX_NAMES: usize = 16_384;
/// Devices that went quiet, kept at most.
pub const MAX_GONE: usize = 4096;

/// How the writer is doing, for `/metrics`.
#[derive(Default)]
pub struct Health {
    /// Writes (or opens) of the database that failed.
    pub write_failures: AtomicU64,
    /// Batches of counts dropped because the backlog was full.
    pub dropped_batches: AtomicU64,
    /// Batches waiting to be written now.
    pub pending_batches: AtomicU64,
}

/// One interval's (or several merged intervals') counts of one engine.
pub struct Batch {
    pub engine: Arc<Engine>,
    /// Wall-clock minute of the first drain in it (its hour is the batch's).
    pub minute: u64,
    pub drained: Drained,
}

#[derive(Default)]
pub struct Backlog {
    pub batches: Vec<Batch>,
    /// Devices that went quiet, with their engine and minute.
    pub gone: Vec<(Arc<Engine>, u64, Gone)>,
}

/// Devices that went quiet: (address, profile number).
pub type Gone = Vec<(std::net::IpAddr, usize)>;

fn is_empty(d: &Drained) -> bool {
    d.counts.is_empty()
        && d.minutes.is_empty()
        && d.service_minutes.is_empty()
        && d.group_minutes.is_empty()
        && d.windows.is_empty()
        && d.bypass.is_empty()
        && d.names.is_empty()
}

/// Adds `from` into `into` (same engine, same hour).
fn merge(into: &mut Drained, from: Drained) {
    let mut counts: HashMap<(usize, usize, Action), usize> = into
        .counts
        .iter()
        .enumerate()
        .map(|(i, (p, s, a, _))| ((*p, s.index(), *a), i))
        .collect();
    for (p, s, a, n) in from.counts {
        match counts.get(&(p, s.index(), a)) {
            Some(&i) => into.counts[i].3 += n,
            None => {
                counts.insert((p, s.index(), a), into.counts.len());
                into.counts.push((p, s, a, n));
            }
        }
    }
    for (p, parity, bits) in from.minutes {
        match into
            .minutes
            .iter_mut()
            .find(|(q, r, _)| *q == p && *r == parity)
        {
            Some(m) => m.2 |= bits,
            None => into.minutes.push((p, parity, bits)),
        }
    }
    // Minutes on services: the same hour, so the bits are OR-ed (a flush
    // held back merges the next drain into its batch; dropping these lost
    // minutes whenever a flush waited).
    for (p, svc, parity, bits) in from.service_minutes {
        match into
            .service_minutes
            .iter_mut()
            .find(|(q, t, r, _)| (*q, *t, *r) == (p, svc, parity))
        {
            Some(m) => m.3 |= bits,
            None => into.service_minutes.push((p, svc, parity, bits)),
        }
    }
    for (p, g, parity, bits) in from.group_minutes {
        match into
            .group_minutes
            .iter_mut()
            .find(|(q, h, r, _)| (*q, *h, *r) == (p, g, parity))
        {
            Some(m) => m.3 |= bits,
            None => into.group_minutes.push((p, g, parity, bits)),
        }
    }
    for (w, n) in from.windows {
        match into.windows.iter_mut().find(|(v, _)| *v == w) {
            Some(x) => x.1 += n,
            None => into.windows.push((w, n)),
        }
    }
    for (p, n) in from.bypass {
        match into.bypass.iter_mut().find(|(q, _)| *q == p) {
            Some(x) => x.1 += n,
            None => into.bypass.push((p, n)),
        }
    }
    let mut names: HashMap<(usize, Action, String), usize> = into
        .names
        .iter()
        .enumerate()
        .map(|(i, (p, a, name, _))| ((*p, *a, name.clone()), i))
        .collect();
    for (p, a, name, n) in from.names {
        let key = (p, a, name);
        match names.get(&key) {
            Some(&i) => into.names[i].3 += n,
            None if into.names.len() < MAX_NAMES => {
                names.insert(key.clone(), into.names.len());
                into.names.push((key.0, key.1, key.2, n));
            }
            // Counted in the totals already; only the name is not kept.
            None => {}
        }
    }
}

impl Backlog {
    /// Adds what was drained from `engine`'s tally at `minute`.
    pub fn push(&mut self, engine: &Arc<Engine>, minute: u64, drained: Drained, health: &Health) {
        if is_empty(&drained) {
            return;
        }
        match self.batches.last_mut() {
            Some(last) if Arc::ptr_eq(&last.engine, engine) && last.minute / 60 == minute / 60 => {
                merge(&mut last.drained, drained);
            }
            _ => {
                self.batches.push(Batch {
                    engine: engine.clone(),
                    minute,
                    drained,
                });
                if self.batches.len() > MAX_BATCHES {
                    self.batches.remove(0);
                    health.dropped_batches.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        health
            .pending_batches
            .store(self.batches.len() as u64, Ordering::Relaxed);
    }

    /// Adds devices that went quiet.
    pub fn push_gone(&mut self, engine: &Arc<Engine>, minute: u64, gone: Gone) {
        let kept: usize = self.gone.iter().map(|g| g.2.len()).sum();
        let room = MAX_GONE.saturating_sub(kept);
        if !gone.is_empty() && room > 0 {
            let mut gone = gone;
            gone.truncate(room);
            self.gone.push((engine.clone(), minute, gone));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.batches.is_empty() && self.gone.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::services::ServiceGroup;

    #[test]
    fn a_merged_drain_keeps_its_minutes_on_services() {
        let mut held = Drained {
            service_minutes: vec![(0, 3, 0, 0b0110)],
            group_minutes: vec![(0, ServiceGroup::Video, 0, 0b0110)],
            ..Drained::default()
        };
        let next = Drained {
            service_minutes: vec![(0, 3, 0, 0b10_0000), (1, 7, 0, 0b1)],
            group_minutes: vec![(0, ServiceGroup::Video, 0, 0b10_0000)],
            ..Drained::default()
        };
        assert!(!is_empty(&next), "minutes alone are something to write");
        merge(&mut held, next);
        assert_eq!(
            held.service_minutes,
            vec![(0, 3, 0, 0b10_0110), (1, 7, 0, 0b1)]
        );
        assert_eq!(
            held.group_minutes,
            vec![(0, ServiceGroup::Video, 0, 0b10_0110)]
        );
    }
}
