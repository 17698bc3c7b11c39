//! `nestguard report`: what the activity database says, per child.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use jiff::Timestamp;
use rusqlite::{Connection, params};
use serde::Serialize;

/// Sites listed per profile in a report.
const TOP: usize = 10;

#[derive(Debug, Default, Serialize)]
pub struct ProfileReport {
    pub profile: String,
    pub queries: u64,
    pub allowed: u64,
    pub blocked: u64,
    pub rewritten: u64,
    /// Minutes with at least one query (a proxy for time online).
    pub active_minutes: u64,
    /// Active minutes by local hour of day, 0–23, summed over the period.
    pub active_by_hour: Vec<u64>,
    /// Blocked queries by category, most first.
    pub blocked_by_category: Vec<(String, u64)>,
    /// Hits on DoH/VPN/proxy names and bypass canaries, plus devices gone quiet.
    pub bypass_attempts: u64,
    /// Devices (addresses) that stopped using the filter: a day without a query.
    pub devices_gone: Vec<String>,
    /// Queries while a schedule window (bedtime, homework) was open, by window.
    pub schedule_queries: Vec<(String, u64)>,
    /// Blocked sites (registrable domains), most first; empty at the `aggregate` level.
    pub top_blocked: Vec<(String, u64)>,
    /// Visited sites; only at the `detailed` level.
    pub top_allowed: Vec<(String, u64)>,
    /// Time on services per local day, oldest first.
    pub service_time: Vec<DayTime>,
}

/// Minutes spent on services in one local day, counted as daily budgets
/// count them ([`crate::policy::budget::active_minutes`]): the minutes in
/// which a service's names were looked up and allowed, and gaps of up to
/// three minutes between two of them.
#[derive(Debug, Clone, Serialize)]
pub struct DayTime {
    pub day: jiff::civil::Date,
    /// Per service group (the union of its services' minutes), most first.
    pub groups: Vec<(String, u64)>,
    /// Per service, most first; empty at the `aggregate` privacy level.
    pub services: Vec<(String, u64)>,
}

impl ProfileReport {
    /// The services' time on `day`, if any was recorded.
    pub fn time_on(&self, day: jiff::civil::Date) -> Option<&DayTime> {
        self.service_time.iter().find(|t| t.day == day)
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub since: Timestamp,
    pub until: Timestamp,
    /// Filtering stopped, started again, or loosened (for every profile).
    /// In JSON their times are RFC 3339, as `since` and `until` are.
    #[serde(serialize_with = "events_rfc3339")]
    pub events: Vec<super::events::Event>,
    pub profiles: Vec<ProfileReport>,
}

/// An event as JSON: `{"at": "2026-11-22T20:15:00Z", "kind": …, "detail": …}`
/// (the database keeps unix seconds; every timestamp a JSON reader sees is RFC 3339).
fn events_rfc3339<S: serde::Serializer>(
    events: &[super::events::Event],
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct At<'a> {
        at: Timestamp,
        kind: &'a str,
        detail: &'a str,
    }
    s.collect_seq(events.iter().map(|e| At {
        at: Timestamp::from_second(e.at).unwrap_or_default(),
        kind: &e.kind,
        detail: &e.detail,
    }))
}

/// Reads the report for the period since `since` (all profiles, or one).
pub fn build(path: &Path, since: Timestamp, profile: Option<&str>) -> Result<Report, String> {
    if !path.exists() {
        return Err(format!(
            "{}: no activity database yet (has the daemon run with this state directory?)",
            path.display()
        ));
    }
    let conn = super::store::Store::open_read_only(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    read(&conn, since, profile).map_err(|e| format!("{}: {e}", path.display()))
}

fn read(conn: &Connection, since: Timestamp, only: Option<&str>) -> rusqlite::Result<Report> {
    let from_hour = since.as_second().div_euclid(3600);
    let from_day = from_hour.div_euclid(24);
    let mut by: BTreeMap<String, ProfileReport> = BTreeMap::new();
    let wanted = |p: &str| only.is_none_or(|o| o == p);
    let tz = jiff::tz::TimeZone::system();

    let counts = rows(
        conn,
        "SELECT profile, category, action, SUM(n), 0 FROM counts WHERE hour >= ?1
         GROUP BY profile, category, action",
        from_hour,
    )?;
    for Row {
        profile,
        a: category,
        b: action,
        x: n,
        ..
    } in counts
    {
        if !wanted(&profile) {
            continue;
        }
        let n = n.max(0) as u64;
        let r = entry(&mut by, &profile);
        r.queries += n;
        match action.as_str() {
            "allowed" => r.allowed += n,
            "blocked" => {
                r.blocked += n;
                r.blocked_by_category.push((category, n));
            }
            _ => r.rewritten += n,
        }
    }
    let minutes = rows(
        conn,
        "SELECT profile, '', '', hour, bits FROM minutes WHERE hour >= ?1",
        from_hour,
    )?;
    for Row {
        profile,
        x: hour,
        y: bits,
        ..
    } in minutes
    {
        if !wanted(&profile) {
            continue;
        }
        let minutes = u64::from((bits as u64).count_ones());
        let local_hour = Timestamp::from_second(hour * 3600)
            .map(|t| usize::try_from(t.to_zoned_datetime(tz.clone()).hour()).unwrap_or(0))
            .unwrap_or(0);
        let r = entry(&mut by, &profile);
        r.active_minutes += minutes;
        r.active_by_hour[local_hour % 24] += minutes;
    }
    let bypass = rows(
        conn,
        "SELECT profile, '', '', SUM(n), 0 FROM bypass WHERE hour >= ?1 GROUP BY profile",
        from_hour,
    )?;
    for Row { profile, x: n, .. } in bypass.into_iter().filter(|r| wanted(&r.profile)) {
        entry(&mut by, &profile).bypass_attempts += n.max(0) as u64;
    }
    let gone = rows(
        conn,
        "SELECT profile, client, '', at, 0 FROM gone WHERE at >= ?1 ORDER BY at",
        from_hour * 3600,
    )?;
    for Row {
        profile, a: client, ..
    } in gone.into_iter().filter(|r| wanted(&r.profile))
    {
        let r = entry(&mut by, &profile);
        r.bypass_attempts += 1;
        r.devices_gone.push(client);
    }
    let windows = rows(
        conn,
        "SELECT profile, window, '', SUM(n), 0 FROM windows WHERE hour >= ?1 GROUP BY profile, window",
        from_hour,
    )?;
    for Row {
        profile,
        a: window,
        x: n,
        ..
    } in windows.into_iter().filter(|r| wanted(&r.profile))
    {
        entry(&mut by, &profile)
            .schedule_queries
            .push((window, n.max(0) as u64));
    }
    let domains = rows(
        conn,
        "SELECT profile, action, domain, SUM(n), 0 FROM domains WHERE day >= ?1
         GROUP BY profile, action, domain",
        from_day,
    )?;
    for Row {
        profile,
        a: action,
        b: domain,
        x: n,
        ..
    } in domains.into_iter().filter(|r| wanted(&r.profile))
    {
        let r = entry(&mut by, &profile);
        let list = if action == "blocked" {
            &mut r.top_blocked
        } else {
            &mut r.top_allowed
        };
        list.push((domain, n.max(0) as u64));
    }

    service_time(conn, from_hour, &tz, &wanted, &mut by)?;

    let mut profiles: Vec<ProfileReport> = by.into_values().collect();
    for r in &mut profiles {
        for list in [
            &mut r.blocked_by_category,
            &mut r.top_blocked,
            &mut r.top_allowed,
            &mut r.schedule_queries,
        ] {
            list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        r.top_blocked.truncate(TOP);
        r.top_allowed.truncate(TOP);
    }
    Ok(Report {
        since,
        until: Timestamp::now(),
        // A database from before protection events has none to show.
        events: super::events::read(conn, since.as_second()).unwrap_or_default(),
        profiles,
    })
}

/// Minutes by local day of each service and group, from their hourly
/// bitmaps: a group's minutes are the union of its services', kept as such.
fn service_time(
    conn: &Connection,
    from_hour: i64,
    tz: &jiff::tz::TimeZone,
    wanted: &dyn Fn(&str) -> bool,
    by: &mut BTreeMap<String, ProfileReport>,
) -> rusqlite::Result<()> {
    type Marked = BTreeMap<jiff::civil::Date, BTreeMap<String, Vec<u64>>>;
    let mut seen: BTreeMap<String, (Marked, Marked)> = BTreeMap::new();
    for (table, key, is_group) in [
        ("group_minutes", "grp", true),
        ("service_minutes", "service", false),
    ] {
        let sql = format!("SELECT profile, {key}, '', hour, bits FROM {table} WHERE hour >= ?1");
        for row in rows(conn, &sql, from_hour)? {
            if !wanted(&row.profile) {
                continue;
            }
            let (groups, services) = seen.entry(row.profile).or_default();
            let marked = if is_group { groups } else { services };
            let mut bits = row.y as u64;
            while bits != 0 {
                let minute = row.x * 60 + i64::from(bits.trailing_zeros());
                bits &= bits - 1;
                let Ok(at) = Timestamp::from_second(minute * 60) else {
                    continue;
                };
                let day = at.to_zoned_datetime(tz.clone()).date();
                marked
                    .entry(day)
                    .or_default()
                    .entry(row.a.clone())
                    .or_default()
                    .push(minute as u64);
            }
        }
    }
    let total = |m: BTreeMap<String, Vec<u64>>| -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = m
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_unstable();
                (k, crate::policy::budget::active_minutes(v))
            })
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    };
    for (profile, (mut groups, mut services)) in seen {
        let days: std::collections::BTreeSet<jiff::civil::Date> =
            groups.keys().chain(services.keys()).copied().collect();
        let r = entry(by, &profile);
        for day in days {
            r.service_time.push(DayTime {
                day,
                groups: total(groups.remove(&day).unwrap_or_default()),
                services: total(services.remove(&day).unwrap_or_default()),
            });
        }
    }
    Ok(())
}

/// One result row: the profile, two texts and two numbers (queries fill the
/// columns they lack with '' or 0).
struct Row {
    profile: String,
    a: String,
    b: String,
    x: i64,
    y: i64,
}

fn rows(conn: &Connection, sql: &str, from: i64) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare(sql)?;
    let mapped = stmt.query_map(params![from], |r| {
        Ok(Row {
            profile: r.get(0)?,
            a: r.get(1)?,
            b: r.get(2)?,
            x: r.get(3)?,
            y: r.get(4)?,
        })
    })?;
    mapped.collect()
}

fn entry<'a>(by: &'a mut BTreeMap<String, ProfileReport>, p: &str) -> &'a mut ProfileReport {
    by.entry(p.to_string()).or_insert_with(|| ProfileReport {
        profile: p.to_string(),
        active_by_hour: vec![0; 24],
        ..ProfileReport::default()
    })
}

fn hours_minutes(m: u64) -> String {
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// The report as text for a terminal.
pub fn text(report: &Report) -> String {
    let tz = jiff::tz::TimeZone::system();
    let since = report
        .since
        .to_zoned_datetime(tz)
        .strftime("%Y-%m-%d %H:%M");
    let mut out = format!("Activity since {since}\n");
    if !report.events.is_empty() {
        let _ = writeln!(out, "\nprotection events (filtering stopped or loosened):");
        for e in &report.events {
            let at = Timestamp::from_second(e.at)
                .unwrap_or_default()
                .to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M");
            let _ = writeln!(out, "  {at}  {:<8} {}", e.kind, e.detail);
        }
    }
    if report.profiles.is_empty() {
        out.push_str("\nno activity recorded in this period\n");
    }
    for r in &report.profiles {
        let _ = writeln!(out, "\n{}", r.profile);
        let _ = writeln!(
            out,
            "  queries: {} (allowed {}, blocked {}, rewritten {})",
            r.queries, r.allowed, r.blocked, r.rewritten
        );
        let _ = writeln!(
            out,
            "  time online: {} (minutes with any query)",
            hours_minutes(r.active_minutes)
        );
        let _ = writeln!(out, "  bypass attempts: {}", r.bypass_attempts);
        if !r.devices_gone.is_empty() {
            let _ = writeln!(
                out,
                "  devices that stopped using the filter (a day without a query): {}",
                r.devices_gone.join(", ")
            );
        }
        for (w, n) in &r.schedule_queries {
            let _ = writeln!(out, "  during schedule \"{w}\": {n} queries");
        }
        if !r.blocked_by_category.is_empty() {
            let _ = writeln!(out, "  blocked by category:");
            for (c, n) in &r.blocked_by_category {
                let _ = writeln!(out, "    {c:<20} {n:>7}");
            }
        }
        if !r.top_blocked.is_empty() {
            let _ = writeln!(out, "  top blocked sites:");
            for (d, n) in &r.top_blocked {
                let _ = writeln!(out, "    {d:<32} {n:>7}");
            }
        }
        if !r.top_allowed.is_empty() {
            let _ = writeln!(out, "  top visited sites:");
            for (d, n) in &r.top_allowed {
                let _ = writeln!(out, "    {d:<32} {n:>7}");
            }
        }
        for t in &r.service_time {
            let _ = writeln!(
                out,
                "  time on services {} (minutes with lookups, as budgets count them):",
                t.day
            );
            for (g, m) in &t.groups {
                let _ = writeln!(out, "    {g:<20} {:>9}", hours_minutes(*m));
            }
            for (sv, m) in &t.services {
                let _ = writeln!(out, "      {sv:<18} {:>9}", hours_minutes(*m));
            }
        }
        let most = r.active_by_hour.iter().copied().max().unwrap_or(0);
        if most > 0 {
            let _ = writeln!(out, "  active hours (local time):");
            for (h, m) in r.active_by_hour.iter().enumerate() {
                if *m == 0 {
                    continue;
                }
                let width = (m * 30).div_ceil(most) as usize;
                let _ = writeln!(
                    out,
                    "    {h:02}:00 {:<30} {}",
                    "#".repeat(width),
                    hours_minutes(*m)
                );
            }
        }
    }
    out
}

/// The report as JSON.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

/// The report as CSV: `profile,metric,key,value`, one row per figure.
pub fn csv(report: &Report) -> String {
    let mut out = String::from("profile,metric,key,value\n");
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    for r in &report.profiles {
        let p = field(&r.profile);
        for (metric, value) in [
            ("queries", r.queries),
            ("allowed", r.allowed),
            ("blocked", r.blocked),
            ("rewritten", r.rewritten),
            ("active_minutes", r.active_minutes),
            ("bypass_attempts", r.bypass_attempts),
        ] {
            let _ = writeln!(out, "{p},{metric},,{value}");
        }
        for (metric, list) in [
            ("blocked_by_category", &r.blocked_by_category),
            ("schedule_queries", &r.schedule_queries),
            ("top_blocked", &r.top_blocked),
            ("top_allowed", &r.top_allowed),
        ] {
            for (k, v) in list {
                let _ = writeln!(out, "{p},{metric},{},{v}", field(k));
            }
        }
        for (h, m) in r.active_by_hour.iter().enumerate() {
            if *m > 0 {
                let _ = writeln!(out, "{p},active_minutes_by_hour,{h:02},{m}");
            }
        }
        for t in &r.service_time {
            for (metric, list) in [
                ("group_minutes", &t.groups),
                ("service_minutes", &t.services),
            ] {
                for (k, m) in list {
                    let _ = writeln!(out, "{p},{metric},{}/{},{m}", t.day, field(k));
                }
            }
        }
        for client in &r.devices_gone {
            let _ = writeln!(out, "{p},device_gone,{},1", field(client));
        }
    }
    for e in &report.events {
        let at = Timestamp::from_second(e.at).unwrap_or_default();
        let what = format!("{}: {}", e.kind, e.detail);
        let _ = writeln!(out, ",event,{at},{}", field(&what));
    }
    out
}
