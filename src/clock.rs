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
