//! What each policy (a child, or a profile) says about services: blocked,
//! allowed, open only in some hours, or with a daily budget — compiled from
//! the config once per engine, and judged per query without allocating.

use std::collections::BTreeMap;

use anyhow::Context;
use toml::Spanned;

use crate::config::{Config, ServiceAction, ServiceRule};
use crate::policy::ClosedServices;
use crate::policy::budget::{self, Budget, BudgetNow, Grant, Usage};
use crate::policy::service_rules::DashboardServices;
use crate::rules::catalog::Catalog;
use crate::rules::services::{ServiceId, ServiceIndex, ServiceMask};
use crate::schedule::{LocalTime, Window, parse_day, parse_hhmm};

/// One policy's service rules, as the query path reads them.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ServicePolicy {
    /// Never reachable.
    pub block: ServiceMask,
    /// Reachable even if a category blocks them (with hours or a budget too).
    pub allow: ServiceMask,
    /// Those with a daily budget (their lookups are metered).
    pub budgeted: ServiceMask,
}

impl ServicePolicy {
    pub fn is_empty(&self) -> bool {
        self.block.is_empty() && self.allow.is_empty()
    }
}

/// Hours a service is open for one policy.
pub(super) struct Hours {
    pub profile: usize,
    pub service: ServiceId,
    pub window: Window,
}

/// Everything the config says about services, compiled.
#[derive(Default)]
pub(super) struct Compiled {
    pub per_profile: Vec<ServicePolicy>,
    pub hours: Vec<Hours>,
    pub budgets: Vec<Budget>,
}

/// The service rules of every profile of the catalog: a child's are their
/// band's `[profile.<band>]` rules with the child's own on top.
pub(super) fn compile(
    config: &Config,
    catalog: &Catalog,
    index: &ServiceIndex,
    dashboard: &DashboardServices,
) -> anyhow::Result<Compiled> {
    let mut out = Compiled {
        per_profile: vec![ServicePolicy::default(); catalog.profiles.len()],
        ..Compiled::default()
    };
    for (p, def) in catalog.profiles.iter().enumerate() {
        let mut rules: BTreeMap<&str, &Spanned<ServiceRule>> = BTreeMap::new();
        let band = def.base.as_deref().unwrap_or(&def.id);
        if let Some(t) = config.profiles.get(band) {
            rules.extend(t.get_ref().services.iter().map(|(k, v)| (k.as_str(), v)));
        }
        if def.base.is_some()
            && let Some(child) = config.children.iter().find(|c| c.get_ref().id() == def.id)
        {
            rules.extend(
                child
                    .get_ref()
                    .tweaks
                    .services
                    .iter()
                    .map(|(k, v)| (k.as_str(), v)),
            );
        }
        // The dashboard's rule for a service takes the place of the config's.
        if def.base.is_some() {
            rules.extend(dashboard.of(&def.id));
        }
        for (id, rule) in rules {
            let s = index
                .id_of(id)
                .with_context(|| format!("profile `{}`: no service `{id}`", def.id))?;
            let policy = &mut out.per_profile[p];
            match rule.get_ref() {
                ServiceRule::Simple(ServiceAction::Block) => policy.block = policy.block.with(s),
                ServiceRule::Simple(ServiceAction::Allow) => policy.allow = policy.allow.with(s),
                ServiceRule::Limited(l) => {
                    policy.allow = policy.allow.with(s);
                    if let (Some(from), Some(to)) = (&l.from, &l.to) {
                        let days = if l.days.is_empty() {
                            0x7f
                        } else {
                            l.days
                                .iter()
                                .filter_map(|d| parse_day(d.get_ref()))
                                .fold(0u8, |m, d| m | (1 << d))
                        };
                        out.hours.push(Hours {
                            profile: p,
                            service: s,
                            window: Window {
                                days,
                                from: parse_hhmm(from.get_ref()).context("service hours: from")?,
                                to: parse_hhmm(to.get_ref()).context("service hours: to")?,
                            },
                        });
                    } else if !l.days.is_empty() {
                        // Days without hours: open all day on those days.
                        let days = l
                            .days
                            .iter()
                            .filter_map(|d| parse_day(d.get_ref()))
                            .fold(0u8, |m, d| m | (1 << d));
                        out.hours.push(Hours {
                            profile: p,
                            service: s,
                            window: Window {
                                days,
                                from: 0,
                                to: 0,
                            },
                        });
                    }
                    if let Some(b) = l.budget {
                        policy.budgeted = policy.budgeted.with(s);
                        let reset = match &l.reset {
                            Some(r) => parse_hhmm(r.get_ref()).context("budget reset")?,
                            None => 0,
                        };
                        out.budgets.push(Budget {
                            profile: p,
                            service: s,
                            minutes: u32::try_from(b.as_secs() / 60).unwrap_or(u32::MAX),
                            reset,
                            key: format!("{}/{id}", def.id),
                        });
                    }
                }
            }
        }
    }
    anyhow::ensure!(
        out.budgets.len() <= usize::from(u16::MAX),
        "too many service budgets"
    );
    Ok(out)
}

/// A grant of `minutes` on the budget `who` has for `service`, for the
/// budget day of the moment given (epoch minute, local time, local date):
/// an error naming the budgets there are when there is none.
pub fn grant_for(
    budgets: &[Budget],
    who: &str,
    service: &str,
    minutes: u32,
    (minute, local, today): (u64, crate::clock::LocalTime, jiff::civil::Date),
    by: &str,
) -> Result<Grant, String> {
    let key = format!("{who}/{service}");
    let Some(b) = budgets.iter().find(|b| b.key == key) else {
        let theirs: Vec<&str> = budgets
            .iter()
            .filter_map(|b| b.key.strip_prefix(&format!("{who}/")))
            .collect();
        return Err(format!(
            "{who} has no daily budget for `{service}`; budgets: {}",
            if theirs.is_empty() {
                "none (give one in the config: services = {{ youtube = {{ budget = \"60m\" }} }})"
                    .to_string()
            } else {
                theirs.join(", ")
            }
        ));
    };
    let (_, day) = budget::budget_day(minute, local, today, b.reset);
    Ok(Grant {
        who: who.to_string(),
        service: service.to_string(),
        minutes,
        day,
        by: by.to_string(),
        at: jiff::Timestamp::now(),
    })
}

/// Every budget's state at `now` (off the query path).
pub(super) fn budgets_now(
    budgets: &[Budget],
    usage: &Usage,
    grants: &[Grant],
    (minute, local, today): (u64, LocalTime, jiff::civil::Date),
) -> Vec<BudgetNow> {
    budgets
        .iter()
        .filter_map(|b| {
            let (start, day) = budget::budget_day(minute, local, today, b.reset);
            let used = usage
                .slot(&b.key)
                .map_or(0, |s| usage.used(s, start, minute));
            let (who, service) = b.key.split_once('/')?;
            Some(BudgetNow {
                budget: b.clone(),
                used,
                granted: budget::granted(grants, who, service, day),
                day,
            })
        })
        .collect()
}

/// Each policy's services closed now: outside their hours, or out of budget.
pub(super) fn closed(
    profiles: usize,
    hours: &[Hours],
    budgets: &[BudgetNow],
    local: LocalTime,
) -> Vec<ClosedServices> {
    let mut out = vec![ClosedServices::default(); profiles];
    // A service with several windows is open when any is.
    let mut open = vec![ServiceMask::NONE; profiles];
    let mut windowed = vec![ServiceMask::NONE; profiles];
    for h in hours {
        windowed[h.profile] = windowed[h.profile].with(h.service);
        let active = if h.window.from == h.window.to {
            h.window.days & (1 << local.weekday) != 0
        } else {
            h.window.active(local)
        };
        if active {
            open[h.profile] = open[h.profile].with(h.service);
        }
    }
    for p in 0..profiles {
        out[p].hours = windowed[p].without(open[p]);
    }
    for b in budgets {
        if b.used >= b.allowed() {
            let c = &mut out[b.budget.profile];
            c.budget = c.budget.with(b.budget.service);
        }
    }
    out
}
