//! The dashboard's per-child side: a card per child (band, a birthday move
//! waiting for a parent, a pause, what the parent sees of them and why), the
//! pause, resume and confirm buttons, and the devices no child has yet with
//! a way to say whose they are.

use std::path::Path;

use toml::Spanned;

use super::pages;
use crate::config::{DeviceConfig, Privacy, ServiceAction, ServiceLimits, ServiceRule};
use crate::dns::resolve::Resolver;
use crate::engine::ServiceRuleSaid;
use crate::observe::SeenClients;
use crate::policy::service_rules::DashboardServices;
use crate::policy::{children, devices, pause};
use crate::rules::services::ServiceGroup;
use crate::words::Tr;

/// Devices that asked within this long are listed when no child has them.
const RECENT_MINUTES: u64 = 7 * 24 * 60;
/// What the dashboard's "more time" button gives.
const GRANT_MINUTES: u32 = 30;
/// "Until tomorrow morning": 07:00 local time.
const MORNING: u16 = 7 * 60;

/// What the card of each child says above their activity.
pub(super) fn heads(tr: Tr, resolver: &Resolver, state_dir: &Path) -> Vec<pages::ChildHead> {
    let engine = resolver.engine();
    let clock = resolver.clock();
    let now = clock.timestamp();
    let today = clock.today();
    let paused = pause::load(&crate::state::layout::pauses(state_dir)).unwrap_or_default();
    engine
        .children()
        .iter()
        .map(|c| {
            let until = paused
                .iter()
                .filter(|p| p.who == c.id && p.until > now)
                .map(|p| p.until)
                .max();
            let privacy = engine
                .profile_index(&c.id)
                .and_then(|i| engine.privacy.get(i).copied())
                .unwrap_or_default();
            pages::ChildHead {
                id: c.id.clone(),
                name: c.name.clone(),
                band: c.band.clone(),
                age: c.age.map_or(String::new(), |a| format!("{a}")),
                notice: notice(tr, c, today),
                waiting: c.next.as_ref().is_some_and(|n| n.waiting),
                // The date, not a weekday name: the same in every language.
                paused_until: until.map(pages::local_time),
                sees: sees(tr, c, privacy),
                services: service_lines(tr, resolver, &c.id),
            }
        })
        .collect()
}

/// The services a parent named for a child (their own and their band's),
/// with today's minutes of each budget.
fn service_lines(tr: Tr, resolver: &Resolver, child: &str) -> Vec<pages::ServiceLine> {
    let engine = resolver.engine();
    let Some(profile) = engine.profile_index(child) else {
        return Vec::new();
    };
    let live = resolver.current();
    engine
        .service_rules(profile)
        .into_iter()
        .filter_map(|(s, rule)| {
            let def = engine.services().get(s)?;
            let budget = live
                .live
                .budgets
                .iter()
                .find(|b| b.budget.profile == profile && b.budget.service == s)
                .map(|b| {
                    let allowed = b.allowed();
                    (b.used, allowed, (b.used * 100 / allowed.max(1)).min(100))
                });
            Some(pages::ServiceLine {
                id: def.id.clone(),
                name: def.name.clone(),
                rule: rule_words(tr, &rule),
                budget_words: budget.map_or_else(String::new, |(used, allowed, _)| {
                    tr.args(
                        "dashboard-svc-used",
                        &[
                            ("used", &used.to_string()),
                            ("allowed", &allowed.to_string()),
                        ],
                    )
                }),
                budget,
                set_here: engine.dashboard_services().has(child, &def.id),
            })
        })
        .collect()
}

/// A service rule in the parent's words: "blocked", "16:00–18:00 (Mon Tue)",
/// "60 min a day".
fn rule_words(tr: Tr, rule: &ServiceRuleSaid) -> String {
    let (hours, budgets) = match rule {
        ServiceRuleSaid::Blocked => return tr.get("dashboard-svc-blocked"),
        ServiceRuleSaid::Allowed => return tr.get("dashboard-svc-allowed"),
        ServiceRuleSaid::Limited { hours, budgets } => (hours, budgets),
    };
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    let words = hours.iter().map(|w| {
        let days = (w.days & 0x7f != 0x7f).then(|| {
            (0..7)
                .filter(|d| w.days & (1 << d) != 0)
                .map(|d| tr.get(&format!("dashboard-day-{}", DAYS[d])))
                .collect::<Vec<_>>()
                .join(" ")
        });
        let (from, to) = (hhmm(w.from), hhmm(w.to));
        match (w.from == w.to, days) {
            (true, None) => tr.get("dashboard-svc-every-day"),
            (true, Some(days)) => tr.with("dashboard-svc-days-only", "days", &days),
            (false, None) => tr.args("dashboard-svc-hours", &[("from", &from), ("to", &to)]),
            (false, Some(days)) => tr.args(
                "dashboard-svc-hours-days",
                &[("from", &from), ("to", &to), ("days", &days)],
            ),
        }
    });
    words
        .chain(
            budgets
                .iter()
                .map(|m| tr.count("dashboard-svc-budget", u64::from(*m))),
        )
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every service of the catalogue, by group, for the services panel's
/// list: "TikTok (13+)".
pub(super) fn catalogue(tr: Tr, resolver: &Resolver) -> Vec<pages::ServiceGroupOptions> {
    let engine = resolver.engine();
    let mut defs: Vec<_> = engine.services().defs().iter().collect();
    defs.sort_by(|a, b| (a.group, &a.name).cmp(&(b.group, &b.name)));
    let mut out: Vec<pages::ServiceGroupOptions> = Vec::new();
    for d in defs {
        let label = if d.min_age > 0 {
            format!("{} ({}+)", d.name, d.min_age)
        } else {
            d.name.clone()
        };
        let name = group_name(tr, d.group);
        match out.last_mut() {
            Some(g) if g.name == name => g.services.push((d.id.clone(), label)),
            _ => out.push(pages::ServiceGroupOptions {
                name,
                services: vec![(d.id.clone(), label)],
            }),
        }
    }
    out
}

/// A group's name as a parent reads it, in their language.
pub(super) fn group_name(tr: Tr, g: ServiceGroup) -> String {
    tr.get(&format!("dashboard-group-{}", g.id()))
}

/// What the services panel asks for one service of a child.
#[derive(Debug, Default)]
pub(super) struct ServiceChoice {
    /// `block`, `allow`, `hours`, `budget`, or `config` (as configured).
    pub rule: String,
    /// Opening hours, `HH:MM`.
    pub from: String,
    pub to: String,
    /// `every` day, `school` days or `weekend`s.
    pub days: String,
    /// The daily budget.
    pub minutes: String,
}

/// Longest daily budget the panel takes: a whole day.
const MAX_BUDGET_MINUTES: u64 = 24 * 60;

impl ServiceChoice {
    /// The rule it asks for (`None`: as configured), and it in words for
    /// the audit trail; a clear error for what does not make sense.
    fn rule(&self) -> Result<(Option<ServiceRule>, String), String> {
        let spanned = |v: &str| Spanned::new(0..0, v.to_string());
        Ok(match self.rule.as_str() {
            "config" => (None, "as configured".into()),
            "block" => (
                Some(ServiceRule::Simple(ServiceAction::Block)),
                "blocked".into(),
            ),
            "allow" => (
                Some(ServiceRule::Simple(ServiceAction::Allow)),
                "allowed".into(),
            ),
            "hours" => {
                let (from, to) = (self.from.trim(), self.to.trim());
                for t in [from, to] {
                    if crate::schedule::parse_hhmm(t).is_none() {
                        return Err(format!("`{t}`: opening hours are HH:MM, 00:00 to 23:59"));
                    }
                }
                let (days, words): (&[&str], &str) = match self.days.as_str() {
                    "every" | "" => (&[], "every day"),
                    "school" => (&["mon", "tue", "wed", "thu", "fri"], "school days"),
                    "weekend" => (&["sat", "sun"], "weekends"),
                    other => return Err(format!("`{other}`: say every, school or weekend")),
                };
                (
                    Some(ServiceRule::Limited(ServiceLimits {
                        days: days.iter().map(|d| spanned(d)).collect(),
                        from: Some(spanned(from)),
                        to: Some(spanned(to)),
                        budget: None,
                        reset: None,
                    })),
                    format!("open {from}–{to} {words}"),
                )
            }
            "budget" => {
                let minutes = self
                    .minutes
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|m| (1..=MAX_BUDGET_MINUTES).contains(m))
                    .ok_or_else(|| {
                        format!(
                            "`{}`: a daily budget is 1 to {MAX_BUDGET_MINUTES} minutes",
                            self.minutes
                        )
                    })?;
                (
                    Some(ServiceRule::Limited(ServiceLimits {
                        days: Vec::new(),
                        from: None,
                        to: None,
                        budget: Some(std::time::Duration::from_secs(minutes * 60)),
                        reset: None,
                    })),
                    format!("{minutes} min a day"),
                )
            }
            other => return Err(format!("`{other}`: no such rule")),
        })
    }
}

/// What the parent sees of a child, and why: it narrows as the child grows,
/// and the child can see that filtering is on (UK Age Appropriate Design
/// Code, standard 11: monitoring proportionate and visible to the child).
fn sees(tr: Tr, child: &children::ChildPlan, privacy: Privacy) -> String {
    let age = child.age.map_or("none".to_string(), |a| a.to_string());
    let id = match privacy {
        Privacy::Detailed => "dashboard-sees-detailed",
        Privacy::BlockedDomains => "dashboard-sees-blocked",
        Privacy::Aggregate => "dashboard-sees-aggregate",
    };
    tr.args(id, &[("name", &child.name), ("age", &age)])
}

/// A birthday move waiting for a parent, or coming soon (the same news as
/// [`children::ChildPlan::notice`] gives `status`, in the parents' language).
fn notice(tr: Tr, child: &children::ChildPlan, today: jiff::civil::Date) -> Option<String> {
    let english = child.notice(today)?;
    let Some(next) = child.next.as_ref() else {
        return Some(english);
    };
    let on = next.on.to_string();
    let age = child.age.unwrap_or_default().to_string();
    let args = [
        ("name", child.name.as_str()),
        ("age", age.as_str()),
        ("date", on.as_str()),
        ("band", child.band.as_str()),
        ("next", next.band.as_str()),
        ("id", child.id.as_str()),
    ];
    let id = if next.waiting {
        "dashboard-band-waiting"
    } else {
        "dashboard-band-soon"
    };
    Some(tr.args(id, &args))
}

/// Devices seen lately that belong to no child, newest first.
pub(super) fn unassigned(
    tr: Tr,
    resolver: &Resolver,
    seen: &dyn SeenClients,
) -> Vec<pages::Device> {
    let engine = resolver.engine();
    let clock = resolver.clock();
    let since = clock.minute().saturating_sub(RECENT_MINUTES);
    let tz = jiff::tz::TimeZone::system();
    seen.seen_since(since)
        .into_iter()
        .filter_map(|(ip, minute)| {
            let mac = resolver.mac_of(ip);
            if engine.device_owner(ip, mac).is_some() {
                return None;
            }
            let seconds = i64::try_from(minute.saturating_mul(60)).unwrap_or(0);
            let last = jiff::Timestamp::from_second(seconds)
                .map(|t| {
                    t.to_zoned_datetime(tz.clone())
                        .strftime("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default();
            Some(pages::Device {
                key: match mac {
                    Some(m) => format!("mac:{m}"),
                    None => format!("ip:{ip}"),
                },
                mac: mac.map_or_else(|| tr.get("dashboard-mac-unknown"), |m| m.to_string()),
                address: if ip.is_loopback() {
                    tr.with("dashboard-this-computer", "address", &ip.to_string())
                } else {
                    ip.to_string()
                },
                last_seen: last,
            })
        })
        .take(50)
        .collect()
}

/// What a parent asks of a child from the dashboard.
pub(super) enum Action {
    /// `30m`, `1h`, `2h` or `morning` (until 07:00).
    Pause(String),
    Resume,
    ConfirmBand,
    /// Half an hour more of a service's daily budget, today.
    Grant(String),
    /// The services panel: a rule for a service (from the dashboard, in
    /// place of the config's), or back to what the config says.
    Service(String, ServiceChoice),
}

/// Reloads the rules (a child's new band, a device given to a child).
pub(super) type Reload =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// Carries out `action` for `child`; the audit trail's action and detail.
pub(super) async fn act(
    resolver: &Resolver,
    state_dir: &Path,
    child: &children::ChildPlan,
    action: Action,
    who: &str,
    reload: impl FnOnce() -> Reload,
) -> Result<(&'static str, String), String> {
    let now = resolver.clock().timestamp();
    let pauses = crate::state::layout::pauses(state_dir);
    match action {
        Action::Pause(length) => {
            let after = |d: jiff::SignedDuration| now.checked_add(d).map_err(|e| e.to_string());
            let until = match length.as_str() {
                "30m" => after(jiff::SignedDuration::from_mins(30)),
                "1h" => after(jiff::SignedDuration::from_hours(1)),
                "2h" => after(jiff::SignedDuration::from_hours(2)),
                "morning" => {
                    crate::schedule::next_local(now, &jiff::tz::TimeZone::system(), MORNING)
                }
                other => Err(format!("unknown length `{other}`")),
            }?;
            pause::pause(&pauses, &child.id, until, now, who)?;
            Ok(("pause", format!("{} until {until}", child.name)))
        }
        Action::Resume => {
            pause::resume(&pauses, &child.id, now)?;
            Ok(("resume", child.name.clone()))
        }
        Action::Grant(service) => {
            let clock = resolver.clock();
            let grant = crate::engine::grant_for(
                resolver.engine().budgets(),
                &child.id,
                &service,
                GRANT_MINUTES,
                (clock.minute(), clock.local(), clock.today()),
                who,
            )?;
            crate::policy::budget::add_grant(&crate::state::layout::grants(state_dir), grant)?;
            Ok((
                "grant",
                format!("{} {GRANT_MINUTES} more minutes of {service}", child.name),
            ))
        }
        Action::Service(service, choice) => {
            let engine = resolver.engine();
            let def = engine
                .services()
                .defs()
                .iter()
                .find(|d| d.id == service)
                .ok_or_else(|| format!("there is no service `{service}`"))?;
            let (rule, words) = choice.rule()?;
            let mut rules = DashboardServices::load(state_dir, engine.services().defs())?;
            rules.set(&child.id, &def.id, rule);
            rules
                .save(state_dir)
                .map_err(|e| format!("{}: {e}", rules.path.display()))?;
            reload().await?;
            Ok(("service", format!("{}: {} {words}", child.name, def.name)))
        }
        Action::ConfirmBand => {
            let mut recorded = children::Recorded::load(state_dir)?;
            let Some(band) = recorded.confirm(child, resolver.clock().today()) else {
                return Ok(("band", format!("{} stays {}", child.name, child.band)));
            };
            recorded
                .save(state_dir)
                .map_err(|e| format!("{}: {e}", state_dir.display()))?;
            reload().await?;
            Ok((
                "band",
                format!("{} moved from {} to {band}", child.name, child.band),
            ))
        }
    }
}

/// "This is Leo's tablet": `device` is `mac:…` or `ip:…` from the list. The
/// device is recorded in the state folder as a `[[device]]` table and the
/// rules are rebuilt at once. The audit trail's detail.
pub(super) async fn assign(
    resolver: &Resolver,
    state_dir: &Path,
    child: &children::ChildPlan,
    device: &str,
    name: &str,
    who: &str,
    reload: impl FnOnce() -> Reload,
) -> Result<String, String> {
    let (mac, address): (Option<crate::mac::Mac>, Option<std::net::IpAddr>) =
        match device.split_once(':') {
            Some(("mac", m)) => (m.parse().ok(), None),
            Some(("ip", ip)) => (None, ip.parse().ok()),
            _ => (None, None),
        };
    if mac.is_none() && address.is_none() {
        return Err(format!("`{device}` is not a device"));
    }
    let name = Some(name.trim().to_string()).filter(|n| !n.is_empty());
    let what = match (mac, address) {
        (Some(m), _) => m.to_string(),
        (None, a) => a.map(|a| a.to_string()).unwrap_or_default(),
    };
    let detail = format!(
        "{what} ({}) is {}'s",
        name.as_deref().unwrap_or("unnamed"),
        child.name
    );
    devices::assign(
        state_dir,
        DeviceConfig {
            origin: 0,
            child: child.id.clone(),
            name,
            mac,
            address,
            added_by: Some(who.to_string()),
            added: Some(resolver.clock().timestamp()),
        },
    )?;
    reload().await?;
    Ok(detail)
}
