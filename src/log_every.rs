//! "Log at most once per interval": a limit that is reached under load is
//! logged the first time, then at most once per [`LogEvery::INTERVAL`] with
//! how many hits went unlogged, never once per packet; every hit is counted
//! for `/metrics`. Takes no lock and allocates nothing, so the query path
//! may use it.

use portable_atomic::AtomicU64;
use std::sync::atomic::Ordering;

use crate::clock::Clock;

/// Says when a limit that is hit should be logged: the first time, then at
/// most once per [`LogEvery::INTERVAL`], with how many hits went unlogged.
pub struct LogEvery {
    clock: Clock,
    /// Seconds ([`Clock::now_secs`]) of the last log line; u64::MAX before the first.
    last: AtomicU64,
    hits: AtomicU64,
    /// Every hit since start, for `/metrics`.
    total: AtomicU64,
}

impl LogEvery {
    /// Seconds between two log lines about one limit.
    pub const INTERVAL: u64 = 10;

    /// Measures its interval by `clock` (the daemon's).
    pub fn new(clock: &Clock) -> LogEvery {
        LogEvery {
            clock: clock.clone(),
            last: AtomicU64::new(u64::MAX),
            hits: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }

    /// Counts a hit; returns the hits since the last log line when one is due now.
    pub fn hit(&self) -> Option<u64> {
        self.hits.fetch_add(1, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
        let now = self.clock.now_secs();
        let last = self.last.load(Ordering::Relaxed);
        let due = last == u64::MAX || now >= last.saturating_add(Self::INTERVAL);
        (due && self
            .last
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok())
        .then(|| self.hits.swap(0, Ordering::Relaxed))
    }

    /// Every hit since start.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{LocalTime, ManualClock};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_limit_is_logged_once_per_interval_with_the_hits_between() {
        let m = Arc::new(ManualClock::new(LocalTime {
            weekday: 0,
            minute: 0,
        }));
        let l = LogEvery::new(&Clock::manual(m.clone()));
        assert_eq!(l.hit(), Some(1), "the first hit is logged");
        assert_eq!(l.hit(), None);
        m.advance(Duration::from_secs(LogEvery::INTERVAL - 1));
        assert_eq!(l.hit(), None, "not within the interval");
        m.advance(Duration::from_secs(1));
        assert_eq!(l.hit(), Some(3), "then with the hits between");
        assert_eq!(l.total(), 4);
    }
}
