//! A monotonic clock in whole seconds since the daemon started.
//!
//! DNS TTLs are whole seconds, and every expiry in the daemon is compared
//! against this one clock, so wall-clock jumps (NTP on a router that booted
//! in 1970) never expire or resurrect cache entries.

use std::sync::OnceLock;
use std::time::Instant;

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Seconds since the first call in this process.
pub fn now_secs() -> u64 {
    base().elapsed().as_secs()
}

/// [`now_secs`], plus however far this clock was moved on by hand. The cache
/// keeps time by one of these, so a test can expire answers without waiting
/// for their TTL to pass; the daemon itself never moves it.
#[derive(Debug, Default)]
pub struct Clock {
    skipped: portable_atomic::AtomicU64,
}

impl Clock {
    pub fn now_secs(&self) -> u64 {
        now_secs().saturating_add(self.skipped.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Moves this clock `secs` seconds on (for tests).
    pub fn skip(&self, secs: u64) {
        self.skipped
            .fetch_add(secs, std::sync::atomic::Ordering::Relaxed);
    }
}
