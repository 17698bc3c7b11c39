//! The daemon's one clock: monotonic time, wall time and local time, handed in.
//!
//! Everything that measures how long (cache TTLs, the rate limit, upstream
//! health, [`crate::log_every::LogEvery`], login throttles and sessions, the
//! hold on a reload that loses rules) reads the monotonic side, so wall-clock
//! jumps (NTP on a router that booted in 1970) never expire or resurrect
//! anything. Schedules read local time, temporary allows and activity's
//! minute buckets wall time. The daemon's own periodic work (activity flush,
//! schedule and allow re-evaluation, cache sweep, heartbeat) waits on this
//! clock too ([`Clock::interval`]).
//!
//! The daemon gets its clock from `app::Environment`; tests hand it a
//! [`ManualClock`] and move time on instead of sleeping. Timeouts on real
//! peers (an upstream that does not answer, a client that does not read, a
//! file an editor is still writing) are not on this clock: they are about
//! the world outside, which a test cannot fast-forward.
//!
//! Reading the clock takes no lock, makes no system call beyond the vDSO
//! clock read and allocates nothing: the query path reads it for cache
//! lookups and rate-limit tokens.

use std::sync::Arc;
use std::time::{Duration, Instant};

use portable_atomic::{AtomicI64, AtomicU64};
use std::sync::atomic::Ordering;

/// Minutes since local midnight, and the day of the week (0 = Monday).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    pub weekday: usize,
    pub minute: u16,
}

impl LocalTime {
    /// The local time of a civil date and time.
    pub fn of(dt: jiff::civil::DateTime) -> LocalTime {
        LocalTime {
            weekday: usize::from(dt.weekday().to_monday_zero_offset() as u8),
            minute: (dt.hour() as u16) * 60 + dt.minute() as u16,
        }
    }
}

/// Where the daemon's time comes from. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Clock(Source);

#[derive(Clone)]
enum Source {
    System(Arc<System>),
    Manual(Arc<ManualClock>),
}

/// The system's clocks: `Instant` for monotonic time, the system time and
/// zone (TZ, /etc/localtime, through jiff) for wall and local time.
struct System {
    base: Instant,
    /// Wall-clock minute since the epoch as of the last [`Clock::refresh`]:
    /// the query path reads it for every counted query, so it is an atomic
    /// load there, not a clock read.
    minute: AtomicU64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Source::System(_) => f.write_str("Clock::System"),
            Source::Manual(_) => f.write_str("Clock::Manual"),
        }
    }
}

fn unix_minute(t: jiff::Timestamp) -> u64 {
    u64::try_from(t.as_second() / 60).unwrap_or(0)
}

impl Clock {
    /// The system's time.
    pub fn system() -> Clock {
        Clock(Source::System(Arc::new(System {
            base: Instant::now(),
            minute: AtomicU64::new(unix_minute(jiff::Timestamp::now())),
        })))
    }

    /// Time a test sets and moves on by hand.
    pub fn manual(m: Arc<ManualClock>) -> Clock {
        Clock(Source::Manual(m))
    }

    /// Monotonic time since this clock was made.
    pub fn elapsed(&self) -> Duration {
        match &self.0 {
            Source::System(s) => s.base.elapsed(),
            Source::Manual(m) => Duration::from_nanos(m.mono.load(Ordering::Relaxed)),
        }
    }

    /// [`Clock::elapsed`] in whole seconds (DNS TTLs are whole seconds).
    pub fn now_secs(&self) -> u64 {
        self.elapsed().as_secs()
    }

    /// [`Clock::elapsed`] in milliseconds (rate-limit tokens).
    pub fn now_millis(&self) -> u64 {
        u64::try_from(self.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Wall-clock time: expiries a parent sets (temporary allows), records.
    pub fn timestamp(&self) -> jiff::Timestamp {
        match &self.0 {
            Source::System(_) => jiff::Timestamp::now(),
            Source::Manual(m) => m.timestamp(),
        }
    }

    /// Today's local date, for birthdays. A manual clock's date is the UTC
    /// date of its absolute time (tests set it with `set_timestamp`).
    pub fn today(&self) -> jiff::civil::Date {
        match &self.0 {
            Source::System(_) => jiff::ZonedDateTime::now().date(),
            Source::Manual(m) => m
                .timestamp()
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .date(),
        }
    }

    /// Local time, for schedules.
    pub fn local(&self) -> LocalTime {
        match &self.0 {
            Source::System(_) => LocalTime::of(jiff::ZonedDateTime::now().datetime()),
            Source::Manual(m) => m.local(),
        }
    }

    /// Wall-clock minutes since the epoch, for activity's buckets. Cheap: on
    /// the system clock it is the minute as of the last [`Clock::refresh`]
    /// (the daemon refreshes every second, off the query path).
    pub fn minute(&self) -> u64 {
        match &self.0 {
            Source::System(s) => s.minute.load(Ordering::Relaxed),
            Source::Manual(m) => unix_minute(m.timestamp()),
        }
    }

    /// Reads the wall clock into what [`Clock::minute`] returns.
    pub fn refresh(&self) {
        if let Source::System(s) = &self.0 {
            s.minute
                .store(unix_minute(jiff::Timestamp::now()), Ordering::Relaxed);
        }
    }

    /// Waits until this clock has moved `d` on.
    pub async fn sleep(&self, d: Duration) {
        match &self.0 {
            Source::System(_) => tokio::time::sleep(d).await,
            Source::Manual(m) => m.until(self.elapsed().saturating_add(d)).await,
        }
    }

    /// A tick every `period` of this clock, the first one at once. Ticks a
    /// slow consumer missed are not made up: the next is a period after the
    /// late one.
    pub fn interval(&self, period: Duration) -> Interval {
        self.interval_at(Duration::ZERO, period)
    }

    /// Like [`Clock::interval`], the first tick `first` from now.
    pub fn interval_at(&self, first: Duration, period: Duration) -> Interval {
        let period = period.max(Duration::from_millis(1));
        match &self.0 {
            Source::System(_) => {
                let mut i = tokio::time::interval_at(tokio::time::Instant::now() + first, period);
                i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                Interval::System(i)
            }
            Source::Manual(m) => Interval::Manual {
                clock: m.clone(),
                next: self.elapsed().saturating_add(first),
                period,
            },
        }
    }
}

/// See [`Clock::interval`].
pub enum Interval {
    System(tokio::time::Interval),
    Manual {
        clock: Arc<ManualClock>,
        next: Duration,
        period: Duration,
    },
}

impl Interval {
    pub async fn tick(&mut self) {
        match self {
            Interval::System(i) => {
                i.tick().await;
            }
            Interval::Manual {
                clock,
                next,
                period,
            } => {
                clock.until(*next).await;
                let now = Duration::from_nanos(clock.mono.load(Ordering::Relaxed));
                *next = now.saturating_add(*period);
            }
        }
    }
}

const WEEK_NANOS: u64 = 7 * 24 * 3600 * 1_000_000_000;

/// A clock tests set by hand: a local time (for schedules), an absolute
/// time (for expiries and activity) and a monotonic time. [`ManualClock::advance`]
/// moves all three; the daemon's periodic work waiting on it wakes.
pub struct ManualClock {
    /// Nanoseconds since the clock was made.
    mono: AtomicU64,
    /// Nanoseconds since the Unix epoch.
    wall: AtomicI64,
    /// Nanoseconds since Monday 00:00, local time.
    local: AtomicU64,
    /// Told whenever the time moves.
    moved: tokio::sync::Notify,
}

impl ManualClock {
    /// Stands at `t` local time, the real absolute time of now (so what the
    /// daemon records is near the truth unless a test sets it), and monotonic zero.
    pub fn new(t: LocalTime) -> ManualClock {
        let wall = i64::try_from(jiff::Timestamp::now().as_nanosecond()).unwrap_or(0);
        let c = ManualClock {
            mono: AtomicU64::new(0),
            wall: AtomicI64::new(wall),
            local: AtomicU64::new(0),
            moved: tokio::sync::Notify::new(),
        };
        c.set(t);
        c
    }

    /// Moves every side of the clock on by `d`.
    pub fn advance(&self, d: Duration) {
        let n = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.mono.fetch_add(n, Ordering::Relaxed);
        self.wall
            .fetch_add(i64::try_from(n).unwrap_or(i64::MAX), Ordering::Relaxed);
        let local = self.local.load(Ordering::Relaxed);
        self.local.store(
            ((u128::from(local) + u128::from(n)) % u128::from(WEEK_NANOS)) as u64,
            Ordering::Relaxed,
        );
        self.moved.notify_waiters();
    }

    /// Sets the local time (the absolute and monotonic times stay).
    pub fn set(&self, t: LocalTime) {
        let secs = (t.weekday as u64 % 7) * 86_400 + u64::from(t.minute) * 60;
        self.local
            .store(secs * 1_000_000_000 % WEEK_NANOS, Ordering::Relaxed);
        self.moved.notify_waiters();
    }

    /// Sets the absolute time (the local and monotonic times stay).
    pub fn set_timestamp(&self, t: jiff::Timestamp) {
        let n = i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX);
        self.wall.store(n, Ordering::Relaxed);
        self.moved.notify_waiters();
    }

    fn timestamp(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_nanosecond(i128::from(self.wall.load(Ordering::Relaxed)))
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    fn local(&self) -> LocalTime {
        let minutes = self.local.load(Ordering::Relaxed) / 60_000_000_000;
        LocalTime {
            weekday: (minutes / (24 * 60)) as usize % 7,
            minute: (minutes % (24 * 60)) as u16,
        }
    }

    /// Waits until the monotonic time is at least `deadline`.
    async fn until(&self, deadline: Duration) {
        loop {
            // Registered before the time is read: an advance in between is not missed.
            let moved = self.moved.notified();
            tokio::pin!(moved);
            moved.as_mut().enable();
            if Duration::from_nanos(self.mono.load(Ordering::Relaxed)) >= deadline {
                return;
            }
            moved.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_all_its_sides_together() {
        let m = Arc::new(ManualClock::new(LocalTime {
            weekday: 6,
            minute: 23 * 60 + 59,
        }));
        m.set_timestamp(jiff::Timestamp::from_second(600).unwrap());
        let c = Clock::manual(m.clone());
        assert_eq!((c.now_secs(), c.minute()), (0, 10));
        m.advance(Duration::from_secs(61));
        assert_eq!(c.now_secs(), 61);
        assert_eq!(c.now_millis(), 61_000);
        assert_eq!(c.minute(), 11);
        assert_eq!(
            c.local(),
            LocalTime {
                weekday: 0,
                minute: 0
            },
            "Sunday 23:59 + 61 s is Monday 00:00"
        );
    }

    #[tokio::test]
    async fn intervals_on_a_manual_clock_tick_when_it_is_moved_on() {
        let m = Arc::new(ManualClock::new(LocalTime {
            weekday: 0,
            minute: 0,
        }));
        let c = Clock::manual(m.clone());
        let mut i = c.interval(Duration::from_secs(10));
        i.tick().await; // the first at once
        let ticked = tokio::spawn(async move { i.tick().await });
        tokio::task::yield_now().await;
        m.advance(Duration::from_secs(9));
        tokio::task::yield_now().await;
        assert!(!ticked.is_finished(), "not a period yet");
        m.advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(5), ticked)
            .await
            .expect("ticks once the period has passed")
            .unwrap();
    }
}
