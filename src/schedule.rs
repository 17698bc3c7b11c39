//! Schedules: time windows (bedtime, homework) that tighten a profile.
//!
//! A window has days of the week and a local start and end time; it may cross
//! midnight (`20:30`–`07:00` on Sunday covers Sunday night into Monday morning).
//! While it is active it either adds categories to the profile or switches the
//! profile to allowlist-only. Local time is read off the daemon's clock once
//! a second, off the query path (`live`), into the bitmask of open windows in
//! `policy::Live`, which is part of the one snapshot a query loads.

// Local time is read off the daemon's one clock (`clock.rs`); windows are
// judged against it here.
pub use crate::clock::LocalTime;

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

/// The next time after `now` that the local clock of `tz` shows `minute`
/// (minutes after midnight): today, or tomorrow if it has passed.
pub fn next_local(
    now: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
    minute: u16,
) -> Result<jiff::Timestamp, String> {
    let here = now.to_zoned_datetime(tz.clone());
    let time = jiff::civil::Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0)
        .map_err(|e| e.to_string())?;
    let mut day = here.date();
    for _ in 0..3 {
        let at = tz
            .to_timestamp(day.to_datetime(time))
            .map_err(|e| e.to_string())?;
        if at > now {
            return Ok(at);
        }
        day = day.tomorrow().map_err(|e| e.to_string())?;
    }
    Err(format!(
        "no {:02}:{:02} in the next two days",
        minute / 60,
        minute % 60
    ))
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
