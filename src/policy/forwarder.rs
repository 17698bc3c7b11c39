//! Noticing that per-user profiles cannot work on this machine.
//!
//! `users` in a `[[client]]` matches the account that owns the socket a
//! query came from. When a local stub or forwarder (systemd-resolved's
//! 127.0.0.53, dnsmasq, a forwarder running as root) sits in front, every
//! account's lookups arrive from the forwarder's socket, and every child gets
//! the default profile without a word. The sign is simple: with per-user
//! clients configured, a query comes from a *system* account (uid below 1000,
//! or the nobody/dynamic range from 60000) that no `[[client]]` names. That
//! is logged at most once per interval on the query path (atomics only), and
//! the first time in a run it becomes a `resolver` protection event, which
//! `nestguard status` and the report show. A system service that looks names
//! up itself (a root cron job, say) trips it too; the message says what to
//! check rather than claiming a forwarder.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::clock::Clock;
use crate::log_every::LogEvery;

/// Accounts below this uid are system accounts on Debian, Ubuntu, Fedora and
/// Arch (`SYS_UID_MAX` is 999 in their login.defs).
const FIRST_USER_UID: u32 = 1000;
/// From here on: `nobody`, systemd's dynamic users and other service ranges
/// (`UID_MAX` is 60000 in login.defs).
const LAST_USER_UID: u32 = 59_999;

/// Whether `uid` belongs to a system account rather than a person.
pub fn is_system_account(uid: u32) -> bool {
    !(FIRST_USER_UID..=LAST_USER_UID).contains(&uid)
}

/// Queries from system accounts no `[[client]]` names, per engine.
pub struct ForwarderWatch {
    hits: AtomicU64,
    uid: AtomicU32,
    log: LogEvery,
}

impl Default for ForwarderWatch {
    fn default() -> Self {
        ForwarderWatch {
            hits: AtomicU64::new(0),
            uid: AtomicU32::new(0),
            // The engine that holds this is built without the daemon's clock,
            // so the log interval is the system's; only how often a warning
            // repeats depends on it.
            log: LogEvery::new(&Clock::system()),
        }
    }
}

impl ForwarderWatch {
    /// On the query path: a query from `uid`, a system account that matched no
    /// `[[client]]`, while some `[[client]]` matches by user. Allocates nothing
    /// except for the log line, at most once per interval.
    pub fn saw(&self, uid: u32) {
        self.uid.store(uid, Ordering::Relaxed);
        self.hits.fetch_add(1, Ordering::Relaxed);
        if let Some(n) = self.log.hit() {
            tracing::warn!(
                uid,
                queries = n,
                "per-user profiles: queries arrive from system account uid {uid}, which no [[client]] names; \
                 if it is a local DNS stub or forwarder (systemd-resolved, dnsmasq), every account's lookups look like its own \
                 and get the default profile. `nestguard system-resolver enable` makes programs ask nestguard directly"
            );
        }
    }

    /// The last such uid and how many queries so far, if any.
    pub fn seen(&self) -> Option<(u32, u64)> {
        let hits = self.hits.load(Ordering::Relaxed);
        (hits > 0).then(|| (self.uid.load(Ordering::Relaxed), hits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_not_system_accounts() {
        assert!(is_system_account(0));
        assert!(is_system_account(991));
        assert!(is_system_account(65534));
        assert!(!is_system_account(1000));
        assert!(!is_system_account(1001));
    }

    #[test]
    fn a_sighting_is_remembered() {
        let w = ForwarderWatch::default();
        assert_eq!(w.seen(), None);
        w.saw(991);
        w.saw(991);
        assert_eq!(w.seen(), Some((991, 2)));
    }
}
