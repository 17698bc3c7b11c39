//! Wrong passwords, per source: slow guesses down, never lock anyone out.
//!
//! A lockout ("five wrong passwords, wait five minutes") lets a child on the
//! family computer keep the parent out. Instead each source gets one guess
//! per [`wait_after`] (one second, growing to at most four after many wrong
//! ones), reserved *before* the Argon2 check so a burst of concurrent guesses
//! runs one check, not forty. A guess that comes too soon is refused without
//! a check and does not extend the wait, so hammering the form keeps nobody
//! out for longer than the wait itself.
//!
//! A source is the OS user for connections from this computer (any local
//! user can send from any 127.0.0.0/8 address, and the parent and the child
//! are different users), otherwise the address, with IPv6 taken per /64 so
//! rotating privacy addresses does not buy more guesses.
//!
//! The table is bounded ([`MAX_SOURCES`], oldest evicted). It also gathers
//! each source's failures into one audit row per [`AUDIT_PERIOD`], so the
//! trail the parents read cannot be flooded.
//!
//! Times here are the daemon's monotonic clock (`Clock::elapsed`), so a test
//! moves them on instead of waiting out a wait.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::policy::Proto;

/// Sources remembered at most; beyond this the least recently seen is dropped.
pub const MAX_SOURCES: usize = 1024;
/// A source that has not tried for this long starts afresh.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// One audit row per source for at most this long.
pub const AUDIT_PERIOD: Duration = Duration::from_secs(10 * 60);

/// How long a source waits after its `failures`-th wrong password in a row
/// (and, as a reservation, before the check of its next guess completes):
/// one second for the first five, two for the next five, then four.
pub fn wait_after(failures: u32) -> Duration {
    match failures {
        0..=5 => Duration::from_secs(1),
        6..=10 => Duration::from_secs(2),
        _ => Duration::from_secs(4),
    }
}

/// Who is guessing: an OS user on this computer, or an address (IPv6 per /64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    User(u32),
    Addr(IpAddr),
}

impl Source {
    /// The source of a connection from `peer` to our `local` socket.
    pub fn of(peer: SocketAddr, local: SocketAddr) -> Source {
        let ip = match peer.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        if ip.is_loopback()
            && let Some(uid) = crate::policy::users::uid_of(peer, local, Proto::Tcp)
        {
            return Source::User(uid);
        }
        match ip {
            IpAddr::V6(v6) => {
                let net = u128::from(v6) & !((1u128 << 64) - 1);
                Source::Addr(IpAddr::V6(Ipv6Addr::from(net)))
            }
            v4 => Source::Addr(v4),
        }
    }

    /// A stable text key (stored with children's requests).
    pub fn key(&self) -> String {
        match self {
            Source::User(uid) => format!("uid:{uid}"),
            Source::Addr(ip) => format!("addr:{ip}"),
        }
    }
}

impl fmt::Display for Source {
    /// For parents: the account's name when the system knows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::User(uid) => match user_name(*uid) {
                Some(name) => write!(f, "user {name} on this computer"),
                None => write!(f, "uid {uid} on this computer"),
            },
            Source::Addr(IpAddr::V6(net)) => write!(f, "{net}/64"),
            Source::Addr(ip) => write!(f, "{ip}"),
        }
    }
}

#[cfg(target_os = "linux")]
fn user_name(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

#[cfg(not(target_os = "linux"))]
fn user_name(_uid: u32) -> Option<String> {
    None
}

/// A source's failures gathered into one audit row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureRow {
    pub source: Source,
    /// The row's id once written.
    pub id: Option<i64>,
    /// When the row was started (Unix seconds), and, as its identity, the instant.
    pub since: i64,
    opened: Duration,
    /// Wrong passwords that were checked.
    pub wrong: u32,
    /// Guesses refused unchecked because they came too soon.
    pub too_soon: u32,
    dirty: bool,
}

impl FailureRow {
    pub fn tries(&self) -> u32 {
        self.wrong.saturating_add(self.too_soon)
    }
}

struct Entry {
    /// The next guess is checked no earlier than this.
    next: Duration,
    /// Wrong passwords in a row.
    failures: u32,
    last_seen: Duration,
    row: Option<FailureRow>,
}

/// What became of an attempt to reserve a guess.
#[derive(Debug, PartialEq, Eq)]
pub enum Reserve {
    /// Check it.
    Go,
    /// Too soon: refused unchecked; try again after this long.
    Wait(Duration),
}

#[derive(Default)]
pub struct Throttle {
    sources: HashMap<Source, Entry>,
    /// Sources dropped because the table was full.
    pub evicted: u64,
}

impl Throttle {
    fn entry(&mut self, source: Source, now: Duration) -> &mut Entry {
        if !self.sources.contains_key(&source) && self.sources.len() >= MAX_SOURCES {
            let oldest = self
                .sources
                .iter()
                .min_by_key(|(_, e)| e.last_seen)
                .map(|(s, _)| *s);
            if let Some(s) = oldest {
                self.sources.remove(&s);
                self.evicted += 1;
            }
        }
        let e = self.sources.entry(source).or_insert(Entry {
            next: now,
            failures: 0,
            last_seen: now,
            row: None,
        });
        if now.saturating_sub(e.last_seen) >= FORGET_AFTER {
            e.failures = 0;
        }
        e.last_seen = now;
        e
    }

    /// Reserves `source`'s next guess at `now`, or says how long to wait.
    /// The reservation assumes the guess is wrong; [`Throttle::succeeded`]
    /// lifts it.
    pub fn reserve(&mut self, source: Source, now: Duration, wall: i64) -> Reserve {
        let e = self.entry(source, now);
        if now < e.next {
            let wait = e.next - now;
            row(e, source, now, wall).too_soon += 1;
            return Reserve::Wait(wait);
        }
        e.next = now + wait_after(e.failures.saturating_add(1));
        Reserve::Go
    }

    /// A checked guess was wrong (its audit row is then due to be written).
    pub fn failed(&mut self, source: Source, now: Duration, wall: i64) {
        let e = self.entry(source, now);
        e.failures = e.failures.saturating_add(1);
        e.next = e.next.max(now + wait_after(e.failures));
        row(e, source, now, wall).wrong += 1;
    }

    /// The right password: the source's next guess is not held back. Its
    /// audit row stays, to be written with the others.
    pub fn succeeded(&mut self, source: Source, now: Duration) {
        let e = self.entry(source, now);
        e.failures = 0;
        e.next = now;
    }

    /// Rows with failures not yet written, marked written.
    pub fn take_dirty(&mut self) -> Vec<FailureRow> {
        self.sources
            .values_mut()
            .filter_map(|e| e.row.as_mut())
            .filter(|r| r.dirty)
            .map(|r| {
                r.dirty = false;
                r.clone()
            })
            .collect()
    }

    /// A row was inserted into the audit table with `id`.
    pub fn written(&mut self, row: &FailureRow, id: i64) {
        if let Some(r) = self
            .sources
            .get_mut(&row.source)
            .and_then(|e| e.row.as_mut())
            .filter(|r| r.opened == row.opened)
        {
            r.id = Some(id);
        }
    }

    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }
}

/// The source's current audit row, a new one when the last is too old.
fn row(e: &mut Entry, source: Source, now: Duration, wall: i64) -> &mut FailureRow {
    if e.row
        .as_ref()
        .is_some_and(|r| now.saturating_sub(r.opened) >= AUDIT_PERIOD)
    {
        e.row = None;
    }
    let r = e.row.get_or_insert(FailureRow {
        source,
        id: None,
        since: wall,
        opened: now,
        wrong: 0,
        too_soon: 0,
        dirty: true,
    });
    r.dirty = true;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHILD: Source = Source::User(1001);
    const PARENT: Source = Source::User(1000);

    #[test]
    fn a_burst_gets_one_check_and_hammering_does_not_extend_the_wait() {
        let mut t = Throttle::default();
        let t0 = Duration::from_secs(1_000);
        assert_eq!(t.reserve(CHILD, t0, 0), Reserve::Go);
        for _ in 0..99 {
            assert!(matches!(t.reserve(CHILD, t0, 0), Reserve::Wait(_)));
        }
        t.failed(CHILD, t0 + Duration::from_millis(30), 0);
        // Hammering all through the second changes nothing.
        for ms in (0..1000).step_by(10) {
            assert!(matches!(
                t.reserve(CHILD, t0 + Duration::from_millis(ms), 0),
                Reserve::Wait(_)
            ));
        }
        assert_eq!(
            t.reserve(CHILD, t0 + Duration::from_millis(1030), 0),
            Reserve::Go
        );
        // Another user of the same computer was never held up.
        assert_eq!(t.reserve(PARENT, t0, 0), Reserve::Go);
    }

    #[test]
    fn after_twenty_wrong_passwords_the_wait_is_four_seconds_at_most() {
        let mut t = Throttle::default();
        let mut now = Duration::from_secs(1_000);
        for _ in 0..20 {
            while let Reserve::Wait(w) = t.reserve(CHILD, now, 0) {
                assert!(w <= Duration::from_secs(4), "{w:?}");
                now += w;
            }
            t.failed(CHILD, now, 0);
        }
        let Reserve::Wait(w) = t.reserve(CHILD, now, 0) else {
            panic!("not slowed down at all");
        };
        assert_eq!(w, Duration::from_secs(4));
        // The right password four seconds later is checked, and lifts the wait.
        now += w;
        assert_eq!(t.reserve(CHILD, now, 0), Reserve::Go);
        t.succeeded(CHILD, now);
        assert_eq!(t.reserve(CHILD, now, 0), Reserve::Go);
        assert_eq!(wait_after(1), Duration::from_secs(1));
    }

    #[test]
    fn failures_gather_into_one_audit_row_per_source_per_period() {
        let mut t = Throttle::default();
        let t0 = Duration::from_secs(1_000);
        assert_eq!(t.reserve(CHILD, t0, 100), Reserve::Go);
        t.failed(CHILD, t0, 100);
        let first = t.take_dirty();
        assert_eq!(first.len(), 1);
        assert_eq!(
            (first[0].wrong, first[0].too_soon, first[0].id),
            (1, 0, None)
        );
        t.written(&first[0], 7);
        for _ in 0..19 {
            t.reserve(CHILD, t0, 100);
        }
        let dirty = t.take_dirty();
        assert_eq!(dirty.len(), 1);
        assert_eq!((dirty[0].id, dirty[0].tries()), (Some(7), 20));
        assert!(t.take_dirty().is_empty(), "written once");
        // A new period starts a new row.
        let later = t0 + AUDIT_PERIOD + Duration::from_secs(1);
        assert_eq!(t.reserve(CHILD, later, 800), Reserve::Go);
        t.failed(CHILD, later, 800);
        let next = t.take_dirty();
        assert_eq!((next[0].id, next[0].wrong, next[0].since), (None, 1, 800));
    }

    #[test]
    fn the_table_is_bounded_and_drops_the_least_recently_seen() {
        let mut t = Throttle::default();
        let t0 = Duration::from_secs(1_000);
        for i in 0..MAX_SOURCES as u32 + 10 {
            t.reserve(Source::User(i), t0 + Duration::from_millis(u64::from(i)), 0);
        }
        assert_eq!(t.len(), MAX_SOURCES);
        assert_eq!(t.evicted, 10);
        assert!(!t.sources.contains_key(&Source::User(0)));
        assert!(
            t.sources
                .contains_key(&Source::User(MAX_SOURCES as u32 + 9))
        );
    }

    #[test]
    fn ipv6_sources_are_taken_per_64() {
        let local: SocketAddr = "[2001:db8::1]:8053".parse().unwrap();
        let a = Source::of("[2001:db8:0:1::aaaa]:5000".parse().unwrap(), local);
        let b = Source::of("[2001:db8:0:1:ffff::1]:5001".parse().unwrap(), local);
        let c = Source::of("[2001:db8:0:2::1]:5001".parse().unwrap(), local);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string(), "2001:db8:0:1::/64");
        let v4 = Source::of("[::ffff:192.0.2.7]:5000".parse().unwrap(), local);
        assert_eq!(v4, Source::Addr("192.0.2.7".parse().unwrap()));
    }
}
