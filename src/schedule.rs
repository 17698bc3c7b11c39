//! Schedules: time windows (bedtime, homework) that tighten a profile.
//!
//! A window has days of the week and a local start and end time; it may cross
//! midnight (`20:30`–`07:00` on Sunday covers Sunday night into Monday morning).
//! While it is active it either adds categories to the profile or switches the
//! profile to allowlist-only. Local time is read off the query path once a
//! second (`live`) into the bitmask of open windows in `policy::Live`, which
//! is part of the one snapshot a query loads.

use std::sync::Mutex;

/// Minutes since local midnight, and the day of the week (0 = Monday).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    pub weekday: usize,
    pub minute: u16,
}

/// Where time comes from: the system, or a test.
pub trait LocalClock: Send + Sync {
    /// Local wall-clock time, for schedules.
    fn now(&self) -> LocalTime;
    /// The absolute time, for expiries (temporary allows).
    fn timestamp(&self) -> jiff::Timestamp;
    /// Monotonic time since a fixed point, for waits that a wall-clock jump
    /// must not shorten (a change held back until files are stable).
    fn elapsed(&self) -> std::time::Duration {
        static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        BASE.get_or_init(std::time::Instant::now).elapsed()
    }
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

/// The system's local time zone (TZ, /etc/localtime), through jiff.
pub struct SystemClock;

impl LocalClock for SystemClock {
    fn now(&self) -> LocalTime {
        LocalTime::of(jiff::ZonedDateTime::now().datetime())
    }

    fn timestamp(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// A clock tests set by hand: a local time and, separately, an absolute
/// time and a monotonic one.
pub struct ManualClock(Mutex<(LocalTime, jiff::Timestamp, std::time::Duration)>);

impl ManualClock {
    pub fn new(t: LocalTime) -> ManualClock {
        ManualClock(Mutex::new((
            t,
            jiff::Timestamp::UNIX_EPOCH,
            std::time::Duration::ZERO,
        )))
    }

    /// Moves the absolute and the monotonic time on by `d`.
    pub fn advance(&self, d: std::time::Duration) {
        if let Ok(mut g) = self.0.lock() {
            g.2 += d;
            if let Ok(span) = jiff::SignedDuration::try_from(d)
                && let Ok(t) = g.1.checked_add(span)
            {
                g.1 = t;
            }
        }
    }

    pub fn set(&self, t: LocalTime) {
        if let Ok(mut g) = self.0.lock() {
            g.0 = t;
        }
    }

    pub fn set_timestamp(&self, t: jiff::Timestamp) {
        if let Ok(mut g) = self.0.lock() {
            g.1 = t;
        }
    }
}

impl LocalClock for ManualClock {
    fn now(&self) -> LocalTime {
        self.0.lock().map(|g| g.0).unwrap_or(LocalTime {
            weekday: 0,
            minute: 0,
        })
    }

    fn timestamp(&self) -> jiff::Timestamp {
        self.0
            .lock()
            .map(|g| g.1)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    fn elapsed(&self) -> std::time::Duration {
        self.0.lock().map(|g| g.2).unwrap_or_default()
    }
}

/// One window's times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Bit d set: the window starts on day d (0 = Monday).
    pub days: u8,
    pub from: u16,
    pub to: u16,
}

impl Window {
    /// Is the window active at `t`? A window whose end is not after its start runs
    /// past midnight into the next day.
    pub fn active(&self, t: LocalTime) -> bool {
        let on = |d: usize| self.days & (1 << d) != 0;
        if self.from < self.to {
            on(t.weekday) && (self.from..self.to).contains(&t.minute)
        } else {
            (on(t.weekday) && t.minute >= self.from)
                || (on((t.weekday + 6) % 7) && t.minute < self.to)
        }
    }
}

/// Parses `HH:MM` (24-hour) into minutes since midnight.
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && s.len() == 5).then_some(h * 60 + m)
}

/// Parses a day name (`mon` … `sun`) into 0 … 6.
pub fn parse_day(s: &str) -> Option<usize> {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .position(|d| d.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(weekday: usize, hhmm: &str) -> LocalTime {
        LocalTime {
            weekday,
            minute: parse_hhmm(hhmm).unwrap(),
        }
    }

    #[test]
    fn windows_within_a_day_and_across_midnight() {
        let homework = Window {
            days: 0b0001_1111,
            from: parse_hhmm("16:00").unwrap(),
            to: parse_hhmm("18:00").unwrap(),
        };
        assert!(homework.active(at(0, "16:00")) && homework.active(at(4, "17:59")));
        assert!(!homework.active(at(0, "18:00")) && !homework.active(at(5, "17:00")));
        // Sunday to Thursday nights.
        let bedtime = Window {
            days: 0b0100_1111,
            from: parse_hhmm("20:30").unwrap(),
            to: parse_hhmm("07:00").unwrap(),
        };
        assert!(bedtime.active(at(6, "21:00")), "Sunday evening");
        assert!(
            bedtime.active(at(0, "06:59")),
            "Monday morning, from Sunday night"
        );
        assert!(!bedtime.active(at(0, "07:00")));
        assert!(!bedtime.active(at(4, "22:00")), "Friday night is free");
        assert!(
            bedtime.active(at(4, "06:00")),
            "Friday morning, from Thursday night"
        );
        assert!(
            !bedtime.active(at(5, "06:00")),
            "Saturday morning: Friday night was free"
        );
    }

    #[test]
    fn time_and_day_parsing() {
        assert_eq!(parse_hhmm("07:05"), Some(425));
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(parse_hhmm("7:05"), None);
        assert_eq!(parse_day("Sun"), Some(6));
        assert_eq!(parse_day("sunday"), None);
    }
}
