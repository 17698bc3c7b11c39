//! The HTML the dashboard serves: plain pages, charts as inline SVG drawn on
//! the server (no scripts, nothing fetched from elsewhere, works offline).
//!
//! Pages are askama templates (`templates/`), checked when the crate is
//! compiled and HTML-escaped by default: text from the config, the rules
//! folder, the activity database or a request goes into a page only through
//! `{{ ... }}`, which escapes it, so no call site can forget to. No template
//! uses `|safe`.

use askama::Template;

use crate::activity::report::ProfileReport;
use crate::rules::catalog::{CountryHelp, International};
use crate::words::{Tr, Words};

/// A time as the parents' clock shows it.
pub fn local_time(t: jiff::Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// The page could not be rendered (a template's value failed to format).
pub type Rendered = Result<String, askama::Error>;

/// Who is logged in, for the page header: the session's CSRF token (for
/// the logout form) and the parent's name.
pub type LoggedIn<'a> = Option<(&'a str, &'a str)>;

/// The login form, with a note above it (empty: none) and the name filled
/// in (empty: none).
#[derive(Template)]
#[template(path = "login.html")]
struct Login<'a> {
    title: &'a str,
    tr: Tr,
    logout: LoggedIn<'a>,
    message: &'a str,
    name: &'a str,
}

pub fn login(tr: Tr, message: &str, name: &str) -> Rendered {
    Login {
        title: &tr.get("dashboard-title"),
        tr,
        logout: None,
        message,
        name,
    }
    .render()
}

/// One card with one paragraph of text (and a link back to the dashboard).
#[derive(Template)]
#[template(path = "message.html")]
struct Message<'a> {
    title: &'a str,
    tr: Tr,
    logout: LoggedIn<'a>,
    text: &'a str,
    back: bool,
}

/// `tr`: the language of the page (a child's or a parent's).
pub fn message(tr: Tr, title: &str, text: &str, back: bool) -> Rendered {
    Message {
        title,
        tr,
        logout: None,
        text,
        back,
    }
    .render()
}

/// A child's request to unblock, waiting for the parents.
pub struct Pending {
    pub id: i64,
    pub profile: String,
    /// The child's name (or the profile of a device no child has).
    pub who: String,
    /// When they asked, local time.
    pub at: String,
    pub domain: String,
    pub note: String,
}

/// One row of the audit trail.
pub struct AuditRow {
    pub at: String,
    pub who: String,
    pub action: String,
    pub detail: String,
}

/// What the activity part of the dashboard shows.
pub enum Activity {
    Cards(Vec<Card>),
    Nothing,
    /// The report could not be read: why.
    Unreadable(String),
}

impl Activity {
    /// A card per child (with their activity, or none yet), then one per
    /// profile that had activity from devices no child has.
    /// `today`: the local date now, for the minutes on services today.
    pub fn of(
        tr: Tr,
        children: Vec<ChildHead>,
        reports: &[ProfileReport],
        today: jiff::civil::Date,
    ) -> Activity {
        let mut cards: Vec<Card> = children
            .into_iter()
            .map(|head| {
                let mut card = match reports.iter().find(|r| r.profile == head.id) {
                    Some(r) => Card::of(tr, r, today),
                    None => Card::of(
                        tr,
                        &ProfileReport {
                            profile: head.id.clone(),
                            ..ProfileReport::default()
                        },
                        today,
                    ),
                };
                card.title = head.name.clone();
                card.child = Some(head);
                card
            })
            .collect();
        let others: Vec<Card> = reports
            .iter()
            .filter(|r| !cards.iter().any(|c| c.profile == r.profile))
            .map(|r| Card::of(tr, r, today))
            .collect();
        cards.extend(others);
        if cards.is_empty() {
            Activity::Nothing
        } else {
            Activity::Cards(cards)
        }
    }
}

/// The top of a child's card.
pub struct ChildHead {
    pub id: String,
    pub name: String,
    pub band: String,
    /// Years, or empty when not known (a child given a profile, not a birth month).
    pub age: String,
    /// A birthday move waiting for a parent, or coming soon.
    pub notice: Option<String>,
    /// A move is waiting: the confirm button shows.
    pub waiting: bool,
    /// Local time the pause ends, when paused.
    pub paused_until: Option<String>,
    /// What the parent sees of this child, and why.
    pub sees: String,
    /// The services a parent named for this child, with today's minutes.
    pub services: Vec<ServiceLine>,
}

/// One service on a child's card.
pub struct ServiceLine {
    /// The service id (the grant form's value).
    pub id: String,
    pub name: String,
    /// `blocked`, `allowed`, `16:00–18:00 mon tue`, `60 min a day`.
    pub rule: String,
    /// With a daily budget: minutes used, allowed today (budget and grants),
    /// and the bar's width in percent.
    pub budget: Option<(u64, u64, u64)>,
    /// "12 of 60 min today", in the parent's language (with a budget).
    pub budget_words: String,
    /// The rule was set on the dashboard (not the config's): "as configured" shows.
    pub set_here: bool,
}

/// One group of the services panel's list of the catalogue.
pub struct ServiceGroupOptions {
    /// `Short video`, in the parent's language.
    pub name: String,
    /// (id, `TikTok (13+)`).
    pub services: Vec<(String, String)>,
}

/// A device seen lately that no child has.
pub struct Device {
    /// The form value: `mac:…` or `ip:…`.
    pub key: String,
    pub mac: String,
    pub address: String,
    pub last_seen: String,
}

/// The children (id, name) and the devices none of them has.
pub struct Family {
    pub children: Vec<(String, String)>,
    pub devices: Vec<Device>,
    /// The services catalogue, for each child's services panel.
    pub catalogue: Vec<ServiceGroupOptions>,
}

/// One allow in force, as the dashboard lists it.
pub struct AllowRow {
    pub profile: String,
    pub name: String,
    /// When and how it ends ("until …", "always", or where the config has it).
    pub ends: String,
    pub by: String,
    /// When it was made (empty: not known).
    pub since: String,
    /// What the Revoke button sends; none when the dashboard cannot revoke it.
    pub revoke: Option<Revoke>,
}

/// The hidden fields of a Revoke button.
pub struct Revoke {
    /// `temporary` or `permanent`.
    pub kind: &'static str,
    pub bedtime: bool,
}

/// The allows part of the dashboard.
pub enum Allows {
    Rows(Vec<AllowRow>),
    /// The temporary-allow file could not be read: why.
    Unreadable(String),
}

/// The parents' dashboard.
#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard<'a> {
    title: &'a str,
    tr: Tr,
    logout: LoggedIn<'a>,
    csrf: &'a str,
    profiles: Vec<(&'a str, &'a str)>,
    pending: Vec<Pending>,
    activity: Activity,
    family: Family,
    audit: Vec<AuditRow>,
    allows: Allows,
}

/// What the dashboard shows, for the parent logged in.
pub struct DashboardPage<'a> {
    /// The parents' language.
    pub tr: Tr,
    pub csrf: &'a str,
    pub parent: &'a str,
    /// Who an allow can be for: (id, what the form shows): children by
    /// name first, then the profiles.
    pub profiles: Vec<(&'a str, &'a str)>,
    pub pending: Vec<Pending>,
    pub activity: Activity,
    pub family: Family,
    pub audit: Vec<AuditRow>,
    pub allows: Allows,
}

pub fn dashboard(p: DashboardPage<'_>) -> Rendered {
    Dashboard {
        title: &p.tr.get("dashboard-title"),
        tr: p.tr,
        logout: Some((p.csrf, p.parent)),
        csrf: p.csrf,
        profiles: p.profiles,
        pending: p.pending,
        activity: p.activity,
        family: p.family,
        audit: p.audit,
        allows: p.allows,
    }
    .render()
}

/// The children's "why was this blocked?" page.
#[derive(Template)]
#[template(path = "blocked.html")]
struct Blocked<'a> {
    title: &'a str,
    logout: LoggedIn<'a>,
    tr: Tr,
    /// The site asked about, normalised (none when the name is not one).
    site: Option<&'a str>,
    /// What happened, why, what they can do (none: no site named).
    words: Option<&'a Words>,
    /// The category's name as the parents see it, when a category blocks it.
    category: Option<&'a str>,
    /// The ask form's one-time token; none when asking cannot change it.
    token: Option<&'a str>,
    /// The name as asked, for the ask form.
    name: &'a str,
    country: Option<&'a CountryHelp>,
    international: &'a International,
}

pub struct BlockedPage<'a> {
    pub tr: Tr,
    pub site: Option<&'a str>,
    pub words: Option<&'a Words>,
    pub category: Option<&'a str>,
    pub token: Option<&'a str>,
    pub name: &'a str,
    pub country: Option<&'a CountryHelp>,
    pub international: &'a International,
}

pub fn blocked(p: BlockedPage<'_>) -> Rendered {
    Blocked {
        title: &p.tr.get("page-blocked-title"),
        logout: None,
        tr: p.tr,
        site: p.site,
        words: p.words,
        category: p.category,
        token: p.token,
        name: p.name,
        country: p.country,
        international: p.international,
    }
    .render()
}

/// The children's "filtering is on for you" page.
#[derive(Template)]
#[template(path = "filtering.html")]
struct Filtering<'a> {
    title: &'a str,
    logout: LoggedIn<'a>,
    tr: Tr,
    /// "Hello, Leo!" (none for a device no child has).
    hello: Option<String>,
    /// The kinds of sites kept away: name, and why in the child's words.
    kept: Vec<(String, String)>,
    bedtimes: Vec<String>,
    budgets: Vec<String>,
    country: Option<&'a CountryHelp>,
    international: &'a International,
}

pub struct FilteringPage<'a> {
    pub tr: Tr,
    pub child: Option<&'a str>,
    pub kept: Vec<(String, String)>,
    pub bedtimes: Vec<String>,
    /// Time left today on each daily budget, with a warning near the end.
    pub budgets: Vec<String>,
    pub country: Option<&'a CountryHelp>,
    pub international: &'a International,
}

pub fn filtering(p: FilteringPage<'_>) -> Rendered {
    Filtering {
        title: &p.tr.get("me-title"),
        logout: None,
        hello: p.child.map(|n| p.tr.with("me-hello", "name", n)),
        tr: p.tr,
        kept: p.kept,
        bedtimes: p.bedtimes,
        budgets: p.budgets,
        country: p.country,
        international: p.international,
    }
    .render()
}

/// One child's (or profile's) card.
pub struct Card {
    profile: String,
    /// The heading: the child's name, or the profile id.
    title: String,
    child: Option<ChildHead>,
    queries: u64,
    blocked: u64,
    online: String,
    bypass: u64,
    hours: Chart,
    /// None when nothing was blocked.
    categories: Option<Chart>,
    devices_gone: String,
    schedule_queries: Vec<(String, u64)>,
    top_blocked: Vec<(String, u64)>,
    /// Minutes today per service group; None when no service was used.
    group_minutes: Option<Chart>,
    /// Minutes today per service; None when none (or not kept at `aggregate`).
    service_minutes: Option<Chart>,
}

impl Card {
    fn of(tr: Tr, r: &ProfileReport, today: jiff::civil::Date) -> Card {
        let time = r.time_on(today);
        // Groups by their names in the parent's language (ids in the report).
        let groups: Option<Vec<(String, u64)>> = time.map(|t| {
            t.groups
                .iter()
                .map(|(g, m)| (tr.get(&format!("dashboard-group-{g}")), *m))
                .collect()
        });
        let minutes = |what: &str, list: Option<&Vec<(String, u64)>>| {
            hbars(
                format!("{what}-minutes-{}", r.profile),
                list.map_or(&[][..], |l| &l[..]),
                "bar",
            )
        };
        let by_hour: Vec<(String, u64)> = r
            .active_by_hour
            .iter()
            .enumerate()
            .map(|(h, m)| (format!("{h:02}"), *m))
            .collect();
        Card {
            profile: r.profile.clone(),
            title: tr.with("dashboard-other-devices", "profile", &r.profile),
            child: None,
            queries: r.queries,
            blocked: r.blocked,
            online: tr.minutes(r.active_minutes),
            bypass: r.bypass_attempts,
            hours: bars(format!("hours-{}", r.profile), &by_hour, "bar"),
            categories: hbars(
                format!("categories-{}", r.profile),
                &r.blocked_by_category,
                "block",
            ),
            devices_gone: r.devices_gone.join(", "),
            schedule_queries: r.schedule_queries.clone(),
            top_blocked: r.top_blocked.clone(),
            group_minutes: minutes("group", groups.as_ref()),
            service_minutes: minutes("service", time.map(|t| &t.services)),
        }
    }
}

/// An SVG chart: its size and what is drawn, positions already worked out.
pub struct Chart {
    id: String,
    width: String,
    height: String,
    marks: Vec<Mark>,
}

/// One thing drawn in a chart.
pub enum Mark {
    Bar {
        class: &'static str,
        x: String,
        y: String,
        width: String,
        height: String,
        /// The tooltip: label and value.
        title: String,
    },
    Text {
        x: String,
        y: String,
        text: String,
    },
}

fn at(v: f64) -> String {
    format!("{v:.1}")
}

/// Vertical bars, one per label (activity by hour).
fn bars(id: String, values: &[(String, u64)], class: &'static str) -> Chart {
    let (w, h, pad) = (480.0, 140.0, 18.0);
    let most = values.iter().map(|v| v.1).max().unwrap_or(0).max(1) as f64;
    let step = w / values.len().max(1) as f64;
    let mut marks = Vec::new();
    for (i, (label, v)) in values.iter().enumerate() {
        let bh = (*v as f64 / most) * (h - 4.0);
        let x = i as f64 * step;
        marks.push(Mark::Bar {
            class,
            x: at(x + 1.0),
            y: at(h - bh),
            width: at((step - 2.0).max(1.0)),
            height: at(bh),
            title: format!("{label}: {v}"),
        });
        if i % 3 == 0 {
            marks.push(Mark::Text {
                x: at(x + 1.0),
                y: format!("{}", h + 12.0),
                text: label.clone(),
            });
        }
    }
    Chart {
        id,
        width: format!("{w}"),
        height: format!("{}", h + pad),
        marks,
    }
}

/// Horizontal bars with labels (blocked by category, minutes by service);
/// none when empty.
fn hbars(id: String, values: &[(String, u64)], class: &'static str) -> Option<Chart> {
    if values.is_empty() {
        return None;
    }
    let (w, row) = (480.0, 18.0);
    let label_w = 130.0;
    let most = values.iter().map(|v| v.1).max().unwrap_or(1).max(1) as f64;
    let mut marks = Vec::new();
    for (i, (label, v)) in values.iter().enumerate() {
        let y = i as f64 * row;
        let bw = (*v as f64 / most) * (w - label_w - 40.0);
        marks.push(Mark::Text {
            x: "0".into(),
            y: at(y + 12.0),
            text: label.clone(),
        });
        marks.push(Mark::Bar {
            class,
            x: format!("{label_w}"),
            y: at(y + 2.0),
            width: at(bw.max(1.0)),
            height: at(row - 4.0),
            title: format!("{label}: {v}"),
        });
        marks.push(Mark::Text {
            x: at(label_w + bw + 4.0),
            y: at(y + 12.0),
            text: v.to_string(),
        });
    }
    Some(Chart {
        id,
        width: format!("{w}"),
        height: format!("{}", row * values.len() as f64),
        marks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_pages_is_escaped() {
        let tr = Tr::parents(crate::words::Lang::En);
        let page = message(tr, "<b>", "<script>alert(1)</script> & \"'", true).unwrap();
        assert!(
            !page.contains("<script>") && !page.contains("<b>"),
            "{page}"
        );
        assert!(page.contains("&#60;script&#62;") && page.contains("&#38;"));
        assert!(!page.contains("\"'"), "{page}");
    }

    #[test]
    fn charts_scale_to_the_largest_value() {
        let c = bars("h".into(), &[("00".into(), 2), ("01".into(), 4)], "bar");
        let heights: Vec<&str> = c
            .marks
            .iter()
            .filter_map(|m| match m {
                Mark::Bar { height, .. } => Some(height.as_str()),
                Mark::Text { .. } => None,
            })
            .collect();
        assert_eq!(heights, ["68.0", "136.0"]);
        assert!(hbars("c".into(), &[], "block").is_none());
    }
}
