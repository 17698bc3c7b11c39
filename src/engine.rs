//! The engine: compiled rules plus who gets which profile. One immutable value,
//! held in an `ArcSwap` so a reload can replace it whole; the query path loads
//! it and calls [`Engine::profile_for`] then [`Engine::decide`], which allocate
//! nothing.
//!
//! Order of a decision, and why:
//! 1. Which profile ([`Engine::profile_for`]): the listener the query came on,
//!    then the local OS user, then the MAC address, then the client's IP
//!    address (first matching `[[client]]` of each kind), else
//!    `policy.default_profile`. The most deliberate binding wins: a listener
//!    is set up for one purpose, a user account and a device belong to one
//!    person, an address may be shared or change.
//! 2. An unfiltered profile (no categories) forwards everything untouched.
//! 3. Anti-bypass names get fixed answers, whatever the lists say: the Firefox and
//!    iCloud Private Relay canaries NXDOMAIN (that is the signal those clients
//!    read; a null address would not switch them off), and discovery of
//!    designated resolvers (RFC 9462) NODATA, so clients do not upgrade past us.
//! 4. A temporary allow (`nestguard allow`) lifts everything but security lists.
//! 5. Safe search, for profiles that ask for it: the search engines and
//!    YouTube hosts of `rules/safesearch.toml` are answered with a CNAME to
//!    the provider's safe-search host (resolved upstream, never pinned).
//! 6. The rules of the profile's categories, with any open schedule window.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use ipnet::IpNet;
use toml::Spanned;

use crate::config::{BlockMode, Config, UpstreamFailure};
use crate::policy::neighbours::Mac;
use crate::policy::overrides::Scope;
use crate::policy::service_rules::DashboardServices;
use crate::policy::{Live, Lookups, Who, children, users};
use crate::rules::catalog::{SafeSearchDef, YoutubeLevel};
use crate::rules::name::{Candidate, to_wire};
use crate::rules::parse::{ClientInfo, Rewrite};
use crate::rules::services::{ServiceId, ServiceIndex, ServicesSeen};
use crate::rules::{CategoryMask, Origin, RewriteId, RuleSet, Verdict, catalog};
use crate::schedule::{LocalTime, Window, parse_day, parse_hhmm};

mod services;
pub use crate::policy::budget::{Budget, BudgetNow};
pub use services::grant_for;

/// A service rule of a policy, for a parent to read (the dashboard words it
/// in their language): [`Engine::service_rules`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceRuleSaid {
    Blocked,
    /// Reachable whenever the child's other rules allow.
    Allowed,
    /// Reachable in these hours, for these minutes a day.
    Limited {
        hours: Vec<crate::schedule::Window>,
        budgets: Vec<u32>,
    },
}

/// Names whose NXDOMAIN tells a client to turn its own encrypted DNS or relay off.
const CANARIES: &[&[u8]] = &[
    b"use-application-dns.net",
    b"mask.icloud.com",
    b"mask-h2.icloud.com",
];
/// RFC 9462 discovery of designated resolvers.
const DDR_NAME: &[u8] = b"_dns.resolver.arpa";

/// What to do with a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Resolve it normally (cache, then upstream).
    Forward,
    Block(Origin),
    /// A bypass canary: NXDOMAIN, whatever the block mode.
    Canary,
    /// Resolver discovery: NOERROR with no records.
    NoData,
    Rewrite(Origin, RewriteId),
    /// Answer with a CNAME to this safe-search host (index for [`Engine::safe_search_target`]).
    SafeSearch(u16),
    /// Blocked because an allowlist-only schedule window is active (window index).
    Scheduled(u16),
    /// Blocked because a parent paused the internet for this child.
    Paused,
    /// Blocked because an exam holds for this client (local time it ends,
    /// minutes after midnight, for the answer's text).
    Exam(u16),
    /// A service of `rules/services.toml` that is blocked for this child now.
    Service(ServiceId, ServiceWhy),
    /// Resolve it normally, counting the minute towards budget i (the
    /// answer's TTL is capped so the device keeps asking).
    Metered(u16),
}

/// Why a service is blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceWhy {
    /// A parent blocked it.
    Parent,
    /// It is outside the hours it is open.
    Hours,
    /// Its daily budget (budget i) is used up.
    Budget(u16),
}

/// A `[[schedule]]` window as the engine uses it.
struct ScheduleWindow {
    name: String,
    window: Window,
    allow_only: bool,
    extra: CategoryMask,
}

/// What a safe-search host name is.
#[derive(Clone, Copy, Debug)]
enum SafeHost {
    Search(u16),
    Youtube,
}

/// A profile as the query path needs it.
struct ProfilePolicy {
    id: String,
    mask: CategoryMask,
    /// The profile's own allowlist (what an allowlist-only window leaves reachable).
    allow_mask: CategoryMask,
    /// Bit w set: schedule window w belongs to this profile.
    windows: u64,
    safe_search: bool,
    youtube: YoutubeLevel,
    /// With every upstream down and nothing stale: ask the fallback upstreams.
    fail_open: bool,
    services: services::ServicePolicy,
}

impl ProfilePolicy {
    fn filters(&self, active: u64) -> bool {
        self.mask != CategoryMask::NONE
            || !self.services.is_empty()
            || self.safe_search
            || self.youtube != YoutubeLevel::Off
            || active & self.windows != 0
    }
}

/// Safe-search hosts by name, and their targets in wire form.
#[derive(Default)]
struct SafeSearch {
    hosts: HashMap<Box<[u8]>, SafeHost, foldhash::fast::RandomState>,
    targets: Vec<Box<[u8]>>,
    youtube_moderate: u16,
    youtube_strict: u16,
}

impl SafeSearch {
    fn build(def: &SafeSearchDef) -> SafeSearch {
        let mut s = SafeSearch::default();
        let target = |name: &str, s: &mut SafeSearch| {
            s.targets
                .push(to_wire(&name.to_ascii_lowercase()).into_boxed_slice());
            (s.targets.len() - 1) as u16
        };
        for search in &def.search {
            let t = target(&search.target, &mut s);
            for h in &search.hosts {
                s.hosts.insert(
                    h.to_ascii_lowercase().into_bytes().into(),
                    SafeHost::Search(t),
                );
            }
        }
        s.youtube_moderate = target(&def.youtube.moderate, &mut s);
        s.youtube_strict = target(&def.youtube.strict, &mut s);
        for h in &def.youtube.hosts {
            s.hosts.insert(
                h.to_ascii_lowercase().into_bytes().into(),
                SafeHost::Youtube,
            );
        }
        s
    }
}

/// The device keys of a `[[child]]` or `[[client]]` table.
struct Devices<'a> {
    origin: usize,
    addresses: &'a [crate::config::Net],
    listeners: &'a [SocketAddr],
    users: &'a [Spanned<String>],
    macs: &'a [Mac],
}

impl Devices<'_> {
    /// The matcher for them; a user this system lacks is a warning (a fleet
    /// config may name users some machines do not have), not an error.
    fn rule(
        &self,
        config: &Config,
        name: Option<String>,
        profile: usize,
        warnings: &mut Vec<String>,
    ) -> ClientRule {
        let mut uids = Vec::new();
        for user in self.users {
            match users::uid_by_name(user.get_ref()) {
                Some(uid) => uids.push(uid),
                None => warnings.push(
                    config
                        .error_at(
                            self.origin,
                            user.span(),
                            format!("no user `{}` on this system; ignored", user.get_ref()),
                        )
                        .to_string(),
                ),
            }
        }
        ClientRule {
            name,
            nets: self.addresses.iter().map(|n| n.0).collect(),
            listeners: self.listeners.to_vec(),
            uids,
            macs: self.macs.to_vec(),
            profile,
        }
    }
}

struct ClientRule {
    name: Option<String>,
    nets: Vec<IpNet>,
    listeners: Vec<SocketAddr>,
    uids: Vec<u32>,
    macs: Vec<Mac>,
    profile: usize,
}

/// Why a client got its profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchedBy {
    /// `[[client]]` table i, by the listener the query came on.
    Listener(usize),
    /// Table i, by the local OS user that sent it.
    User(usize, u32),
    /// Table i, by the device's MAC address.
    Mac(usize, Mac),
    /// Table i, by IP address.
    Address(usize),
    /// No table matched: `policy.default_profile`.
    Default,
}

pub struct Engine {
    pub rules: RuleSet,
    profiles: Vec<ProfilePolicy>,
    windows: Vec<ScheduleWindow>,
    safe_search: SafeSearch,
    clients: Vec<ClientRule>,
    /// Whether any table matches by user / by MAC (else those lookups are skipped).
    by_user: bool,
    by_mac: bool,
    default_profile: usize,
    /// Categories that are security lists: a temporary allow does not lift them.
    security: CategoryMask,
    pub block_mode: BlockMode,
    /// The block page's addresses (`block_mode = "address"`).
    pub block_addresses: Vec<IpAddr>,
    pub blocked_ttl: u32,
    /// Things worth telling the admin that do not stop the daemon.
    pub warnings: Vec<String>,
    /// Per profile: what the activity counters keep of domain names.
    pub privacy: Vec<crate::config::Privacy>,
    /// The `bypass` category, for counting bypass attempts.
    bypass: Option<crate::rules::CategoryId>,
    /// The profiles' own allowlists and the parent's allows: categories that
    /// lift blocks rather than make them.
    allow_lists: CategoryMask,
    /// What each rule source gave (rules, rejected lines), from [`Engine::build`].
    pub diagnostics: crate::rules::compile::Diagnostics,
    /// Queries from system accounts no per-user `[[client]]` names (a stub in front?).
    forwarded: crate::policy::forwarder::ForwarderWatch,
    /// The children, in config order, each with the band in force (their
    /// policy is the profile of the same id).
    children: Vec<children::ChildPlan>,
    /// Which service a name belongs to (`rules/services.toml`).
    services: ServiceIndex,
    /// Hours services are open, per policy.
    service_hours: Vec<services::Hours>,
    /// Daily budgets, per policy and service.
    budgets: Vec<Budget>,
    /// The service rules a parent set on the dashboard (merged above).
    dashboard_services: DashboardServices,
    /// The config's `[[exam]]` windows.
    exam_windows: Vec<crate::policy::exam::ExamWindow>,
    /// What an exam blocks whatever its allowlist says: bypass and AI chatbots.
    exam_blocks: CategoryMask,
    /// Every profile's own allowlist (help lines): what an exam leaves
    /// reachable for a profile that has none (`unfiltered`).
    help_lines: CategoryMask,
}

impl Engine {
    /// Compiles the rules and checks that every profile the config names
    /// exists, with children in the bands they have today (the system's date).
    pub fn build(config: &Config) -> anyhow::Result<Engine> {
        Engine::build_on(config, jiff::ZonedDateTime::now().date())
    }

    /// [`Engine::build`] on a given day (the daemon's clock's).
    pub fn build_on(config: &Config, today: jiff::civil::Date) -> anyhow::Result<Engine> {
        let mut rules_config = crate::rules::subscriptions::rules_config(config);
        let recorded =
            children::Recorded::load(&crate::state::dir(config)).map_err(anyhow::Error::msg)?;
        let shipped = catalog::load_catalog(&catalog::RulesDir::from_config(&rules_config))?;
        let plans = children::plan(config, &shipped.profiles, today, &recorded)
            .map_err(anyhow::Error::msg)?;
        rules_config.derived = plans
            .iter()
            .zip(&config.children)
            .map(|(plan, c)| crate::config::DerivedProfile {
                id: plan.id.clone(),
                name: plan.name.clone(),
                base: plan.band.clone(),
                tweaks: c.get_ref().tweaks.clone(),
            })
            .collect();
        let (rules, diagnostics, catalog) = catalog::compile(&rules_config)?;
        if diagnostics.rejected() > 0 {
            tracing::warn!(
                rejected = diagnostics.rejected(),
                "some rule lines were rejected; `nestguard check` lists them"
            );
        }
        let assigned =
            crate::policy::devices::load(&crate::state::dir(config)).unwrap_or_else(|e| {
                tracing::warn!("{e}; devices given to children from the dashboard are left out");
                Vec::new()
            });
        let mut engine = Engine::assemble(config, rules, &catalog, &assigned)?;
        engine.diagnostics = diagnostics;
        engine.children = plans;
        let defs =
            crate::rules::services::load_services(&catalog::RulesDir::from_config(&rules_config))?;
        // A broken file fails the build: the last good rules keep serving.
        let dashboard = DashboardServices::load(&crate::state::dir(config), &defs)
            .map_err(anyhow::Error::msg)?;
        for child in dashboard.children.keys() {
            if engine.child(child).is_none() {
                engine.warnings.push(format!(
                    "{}: no [[child]] named `{child}`; their service rules are left out",
                    dashboard.path.display()
                ));
            }
        }
        let index = ServiceIndex::new(defs);
        let compiled = services::compile(config, &catalog, &index, &dashboard)?;
        for (p, s) in engine.profiles.iter_mut().zip(compiled.per_profile) {
            p.services = s;
        }
        engine.services = index;
        engine.service_hours = compiled.hours;
        engine.budgets = compiled.budgets;
        engine.dashboard_services = dashboard;
        Ok(engine)
    }

    /// The engine for compiled rules: profiles, schedules and clients from the config.
    pub fn assemble(
        config: &Config,
        rules: RuleSet,
        catalog: &catalog::Catalog,
        assigned: &[crate::config::DeviceConfig],
    ) -> anyhow::Result<Engine> {
        let mut profiles: Vec<ProfilePolicy> = catalog
            .profiles
            .iter()
            .map(|p| ProfilePolicy {
                id: p.id.clone(),
                mask: rules.profile_mask(&p.id).unwrap_or_default(),
                allow_mask: p
                    .allowlist
                    .as_ref()
                    .and_then(|a| rules.category_id(a))
                    .map_or(CategoryMask::NONE, |c| CategoryMask::NONE.with(c)),
                windows: 0,
                safe_search: p.safe_search,
                youtube: p.youtube,
                fail_open: p.upstream_failure == UpstreamFailure::Open,
                services: services::ServicePolicy::default(),
            })
            .collect();
        let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
        let find = |origin: usize, id: &Spanned<String>| {
            ids.iter().position(|p| p == id.get_ref()).ok_or_else(|| {
                config.error_at(
                    origin,
                    id.span(),
                    format!(
                        "no profile `{}`; profiles: {}",
                        id.get_ref(),
                        ids.join(", ")
                    ),
                )
            })
        };
        let default_profile = find(config.policy.origin, &config.policy.default_profile)?;
        let mut windows = Vec::new();
        for sched in &config.schedules {
            let sc = sched.get_ref();
            // The profile's own clients, every child in that band, and the
            // children named.
            let mut targets = Vec::new();
            if let Some(profile) = &sc.profile {
                let band = find(sc.origin, profile)?;
                targets.push(band);
                targets.extend(
                    catalog
                        .profiles
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| p.base.as_deref() == Some(profile.get_ref().as_str()))
                        .map(|(i, _)| i),
                );
            }
            for child in &sc.children {
                let id = child.get_ref().trim().to_lowercase();
                let i = catalog
                    .profiles
                    .iter()
                    .position(|p| p.base.is_some() && p.id == id)
                    .ok_or_else(|| {
                        config.error_at(
                            sc.origin,
                            child.span(),
                            format!("no [[child]] named `{}`", child.get_ref()),
                        )
                    })?;
                targets.push(i);
            }
            anyhow::ensure!(windows.len() < 64, "at most 64 schedule windows");
            let mut extra = CategoryMask::NONE;
            for c in &sc.block {
                let id = rules.category_id(c.get_ref()).ok_or_else(|| {
                    config.error_at(
                        sc.origin,
                        c.span(),
                        format!("no category `{}`", c.get_ref()),
                    )
                })?;
                extra = extra.with(id);
            }
            let days = if sc.days.is_empty() {
                0x7f
            } else {
                sc.days
                    .iter()
                    .filter_map(|d| parse_day(d.get_ref()))
                    .fold(0u8, |m, d| m | (1 << d))
            };
            let window = Window {
                days,
                from: parse_hhmm(sc.from.get_ref()).context("schedule from")?,
                to: parse_hhmm(sc.to.get_ref()).context("schedule to")?,
            };
            for t in targets {
                profiles[t].windows |= 1u64 << windows.len();
            }
            windows.push(ScheduleWindow {
                name: sc.name.clone(),
                window,
                allow_only: sc.allow_only,
                extra,
            });
        }
        let mut clients = Vec::new();
        let mut warnings = Vec::new();
        // Children match before `[[client]]` tables: a device named as a
        // child's is theirs.
        for c in &config.children {
            let c = c.get_ref();
            let id = c.id();
            let profile = ids.iter().position(|p| *p == id).ok_or_else(|| {
                config.error_at(
                    c.origin,
                    c.name.span(),
                    format!("child `{id}` has no profile"),
                )
            })?;
            // Devices given to them by `[[device]]` tables, in the config
            // or from the dashboard.
            let given = config
                .devices
                .iter()
                .map(|d| d.get_ref())
                .chain(assigned)
                .filter(|d| d.child.trim().to_lowercase() == id);
            let (mut macs, mut addresses) = (c.macs.clone(), c.addresses.clone());
            for d in given {
                macs.extend(d.mac);
                addresses.extend(d.address.map(|a| crate::config::Net(ipnet::IpNet::from(a))));
            }
            let devices = Devices {
                origin: c.origin,
                addresses: &addresses,
                listeners: &c.listeners,
                users: &c.users,
                macs: &macs,
            };
            clients.push(devices.rule(
                config,
                Some(c.name.get_ref().trim().to_string()),
                profile,
                &mut warnings,
            ));
        }
        for d in config.devices.iter().map(|d| d.get_ref()).chain(assigned) {
            let id = d.child.trim().to_lowercase();
            if !config.children.iter().any(|c| c.get_ref().id() == id) {
                warnings.push(format!(
                    "a [[device]] is given to `{}`, who is not a [[child]] in the config; ignored",
                    d.child
                ));
            }
        }
        for c in &config.clients {
            let c = c.get_ref();
            let devices = Devices {
                origin: c.origin,
                addresses: &c.addresses,
                listeners: &c.listeners,
                users: &c.users,
                macs: &c.macs,
            };
            let profile = find(c.origin, &c.profile)?;
            clients.push(devices.rule(config, c.name.clone(), profile, &mut warnings));
        }
        if clients.iter().any(|c| !c.uids.is_empty()) && !cfg!(target_os = "linux") {
            warnings.push("matching clients by OS user works on Linux only".into());
        }
        let security = (0..64u8)
            .map(crate::rules::CategoryId)
            .filter(|&c| rules.category(c).is_some_and(|info| info.security))
            .fold(CategoryMask::NONE, CategoryMask::with);
        let mut privacy: Vec<crate::config::Privacy> =
            catalog.profiles.iter().map(|p| p.activity).collect();
        for (id, level) in &config.activity.privacy {
            match ids.iter().position(|p| p == id) {
                Some(i) => privacy[i] = *level,
                None => warnings.push(format!("[activity] privacy: no profile `{id}`; ignored")),
            }
        }
        for (id, policy) in &config.policy.upstream_failure {
            let Some(i) = ids.iter().position(|p| p == id) else {
                warnings.push(format!(
                    "[policy] upstream_failure: no profile `{id}`; ignored"
                ));
                continue;
            };
            let preset = catalog.profiles[i].upstream_failure;
            if *policy == UpstreamFailure::Open && preset == UpstreamFailure::Closed {
                warnings.push(format!(
                    "profile `{id}` now fails open: with every upstream down its clients are answered by the fallback upstreams, unencrypted if those are plain DNS"
                ));
            }
            profiles[i].fail_open = *policy == UpstreamFailure::Open;
        }
        let rules_bypass = rules.category_id("bypass");
        let mut allow_lists = CategoryMask::NONE;
        for p in &profiles {
            allow_lists = CategoryMask(allow_lists.0 | p.allow_mask.0);
            if let Some(c) = rules.category_id(&format!("parent-allow:{}", p.id)) {
                allow_lists = allow_lists.with(c);
            }
        }
        for w in &warnings {
            tracing::warn!("{w}");
        }
        let exam_blocks = ["bypass", "ai-chatbots"]
            .iter()
            .filter_map(|c| rules.category_id(c))
            .fold(CategoryMask::NONE, CategoryMask::with);
        let help_lines = profiles.iter().fold(CategoryMask::NONE, |m, p| {
            CategoryMask(m.0 | p.allow_mask.0)
        });
        let mut engine = Engine {
            help_lines,
            windows,
            safe_search: SafeSearch::build(&catalog.safe_search),
            rules,
            profiles,
            by_user: clients.iter().any(|c| !c.uids.is_empty()),
            by_mac: clients.iter().any(|c| !c.macs.is_empty()),
            clients,
            default_profile,
            security,
            block_mode: *config.policy.block_mode.get_ref(),
            block_addresses: config.policy.block_addresses.clone(),
            blocked_ttl: u32::try_from(config.policy.blocked_ttl.as_secs()).unwrap_or(u32::MAX),
            warnings,
            privacy,
            bypass: rules_bypass,
            allow_lists,
            diagnostics: Default::default(),
            forwarded: Default::default(),
            children: Vec::new(),
            services: ServiceIndex::default(),
            service_hours: Vec::new(),
            budgets: Vec::new(),
            dashboard_services: DashboardServices::default(),
            exam_windows: Vec::new(),
            exam_blocks,
        };
        engine.exam_windows = crate::policy::exam::windows(config, |n| engine.exam_targets(n))?;
        Ok(engine)
    }

    /// The config's `[[exam]]` windows.
    pub fn exam_windows(&self) -> &[crate::policy::exam::ExamWindow] {
        &self.exam_windows
    }

    /// The policies an exam's `who` name covers (bit p: policy p):
    /// `all`, a child, a profile, or a `[[client]]` name (its profile).
    pub fn exam_targets(&self, name: &str) -> Option<u64> {
        let bits = |i: usize| if i < 64 { 1u64 << i } else { 0 };
        if name == crate::policy::exam::EVERYONE {
            return Some((0..self.profiles.len()).fold(0, |m, i| m | bits(i)));
        }
        let id = name.trim().to_lowercase();
        if let Some(i) = self.profile_index(&id) {
            return Some(bits(i));
        }
        let named: Vec<usize> = self
            .clients
            .iter()
            .filter(|c| {
                c.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name.trim()))
            })
            .map(|c| c.profile)
            .collect();
        (!named.is_empty()).then(|| named.into_iter().fold(0, |m, i| m | bits(i)))
    }

    /// The services catalogue the engine was built with.
    pub fn services(&self) -> &ServiceIndex {
        &self.services
    }

    /// Every daily budget, per policy and service.
    pub fn budgets(&self) -> &[Budget] {
        &self.budgets
    }

    /// Each budget's state at `now`, and each policy's services closed now
    /// (outside their hours or out of budget). Off the query path.
    pub fn services_now(
        &self,
        usage: &crate::policy::budget::Usage,
        grants: &[crate::policy::budget::Grant],
        (minute, local, today): (u64, LocalTime, jiff::civil::Date),
    ) -> (Vec<crate::policy::ClosedServices>, Vec<BudgetNow>) {
        let budgets = services::budgets_now(&self.budgets, usage, grants, (minute, local, today));
        let closed = services::closed(self.profiles.len(), &self.service_hours, &budgets, local);
        (closed, budgets)
    }

    /// The service rules a parent set on the dashboard.
    pub fn dashboard_services(&self) -> &DashboardServices {
        &self.dashboard_services
    }

    /// The services a policy's rules name, each with its rule in words
    /// (`blocked`, `allowed`, `16:00–18:00 sat sun`, `60 min a day`).
    pub fn service_rules(&self, profile: usize) -> Vec<(ServiceId, ServiceRuleSaid)> {
        let Some(p) = self.profiles.get(profile) else {
            return Vec::new();
        };
        let rules = &p.services;
        let mut out: Vec<(ServiceId, ServiceRuleSaid)> = rules
            .block
            .union(rules.allow)
            .iter()
            .map(|s| {
                if rules.block.contains(s) {
                    return (s, ServiceRuleSaid::Blocked);
                }
                let hours: Vec<crate::schedule::Window> = self
                    .service_hours
                    .iter()
                    .filter(|h| h.profile == profile && h.service == s)
                    .map(|h| h.window)
                    .collect();
                let budgets: Vec<u32> = self
                    .budgets
                    .iter()
                    .filter(|b| b.profile == profile && b.service == s)
                    .map(|b| b.minutes)
                    .collect();
                if hours.is_empty() && budgets.is_empty() {
                    return (s, ServiceRuleSaid::Allowed);
                }
                (s, ServiceRuleSaid::Limited { hours, budgets })
            })
            .collect();
        out.sort_by_key(|(s, _)| self.services.get(*s).map(|d| d.name.to_lowercase()));
        out
    }

    /// The usage store's slot of each budget (registering new ones).
    pub fn metering(
        &self,
        usage: &std::sync::Arc<crate::policy::budget::Usage>,
    ) -> crate::policy::Metering {
        crate::policy::Metering {
            usage: Some(usage.clone()),
            slots: self.budgets.iter().map(|b| usage.slot(&b.key)).collect(),
        }
    }

    /// The budget a decided lookup counts towards: a [`Decision::Metered`]
    /// one, or a budgeted service's name answered by a safe-search alias
    /// (YouTube in restricted mode). Allocates nothing.
    pub fn metered(
        &self,
        query: &crate::dns::wire::Query<'_>,
        (profile_index, decision): (usize, Decision),
        live: &Live,
        seen: &ServicesSeen,
    ) -> Option<u16> {
        match decision {
            Decision::Metered(b) => Some(b),
            Decision::SafeSearch(_) => {
                let profile = self.profiles.get(profile_index)?;
                if profile.services.budgeted.is_empty() {
                    return None;
                }
                let name = Candidate::from_wire(query.qname_wire())?;
                self.service_check(&name, profile_index, profile, live, seen)?
                    .ok()
                    .flatten()
            }
            _ => None,
        }
    }

    /// What a profile's service rules say of a name, if it belongs to a
    /// service they name: blocked now, or reachable (metered if budgeted).
    /// A name several services share is blocked only when all of them are.
    fn service_check(
        &self,
        name: &Candidate,
        profile_index: usize,
        profile: &ProfilePolicy,
        live: &Live,
        seen: &ServicesSeen,
    ) -> Option<Result<Option<u16>, Decision>> {
        let of = seen.of(&self.services, name);
        if of.is_empty() {
            return None;
        }
        let rules = &profile.services;
        let closed = live
            .services
            .get(profile_index)
            .copied()
            .unwrap_or_default();
        let shut = rules.block.union(closed.hours).union(closed.budget);
        if of.without(shut).is_empty() {
            let s = of.first()?;
            let why = if rules.block.contains(s) {
                ServiceWhy::Parent
            } else if closed.hours.contains(s) {
                ServiceWhy::Hours
            } else {
                let i = self
                    .budgets
                    .iter()
                    .position(|b| b.profile == profile_index && b.service == s)?;
                ServiceWhy::Budget(u16::try_from(i).ok()?)
            };
            return Some(Err(Decision::Service(s, why)));
        }
        let open = of.without(shut).and(rules.allow);
        if open.is_empty() {
            return None;
        }
        let metered = open.and(rules.budgeted).first().and_then(|s| {
            let i = self
                .budgets
                .iter()
                .position(|b| b.profile == profile_index && b.service == s)?;
            u16::try_from(i).ok()
        });
        Some(Ok(metered))
    }

    /// The children, with their bands.
    pub fn children(&self) -> &[children::ChildPlan] {
        &self.children
    }

    /// The child a device belongs to, by its MAC address or IP address (the
    /// dashboard's "unassigned devices" are those with none).
    pub fn device_owner(&self, ip: IpAddr, mac: Option<Mac>) -> Option<&children::ChildPlan> {
        let ip = canonical(ip);
        self.clients
            .iter()
            .filter(|c| {
                mac.is_some_and(|m| c.macs.contains(&m)) || c.nets.iter().any(|n| n.contains(&ip))
            })
            .find_map(|c| self.child_of(c.profile))
    }

    /// The first day on which the children's bands must be worked out
    /// again (a birthday that moves one, or starts a wait for a parent).
    pub fn replan_on(&self) -> Option<jiff::civil::Date> {
        children::replan_on(&self.children)
    }

    /// The child of this id (`leo`) or name (`Leo`).
    pub fn child(&self, name: &str) -> Option<&children::ChildPlan> {
        let id = name.trim().to_lowercase();
        self.children.iter().find(|c| c.id == id)
    }

    /// Whether a policy index is a child's, and whose.
    pub fn child_of(&self, profile: usize) -> Option<&children::ChildPlan> {
        let id = self.profile_id(profile);
        self.children.iter().find(|c| c.id == id)
    }

    /// Whether a profile's clients are answered by the fallback upstreams when
    /// every upstream is down and nothing stale is kept.
    pub fn fails_open(&self, profile: usize) -> bool {
        self.profiles.get(profile).is_some_and(|p| p.fail_open)
    }

    /// Which profile applies to a client, and why. Allocates nothing; the user
    /// and MAC lookups run only when some `[[client]]` table needs them.
    pub fn profile_for(&self, who: &Who, lookups: &dyn Lookups) -> (usize, MatchedBy) {
        let found = |by: MatchedBy, i: usize| Some((self.clients[i].profile, by));
        let position = |f: &dyn Fn(&ClientRule) -> bool| self.clients.iter().position(f);
        if let Some(i) = position(&|c| c.listeners.contains(&who.listener)) {
            return (self.clients[i].profile, MatchedBy::Listener(i));
        }
        // Behind a trusted forwarder the socket is the forwarder's: its
        // owner says nothing about the device that asked.
        let by_user = || {
            if who.behind.is_some() {
                return None;
            }
            let uid = lookups.uid(who)?;
            let Some(i) = position(&|c| c.uids.contains(&uid)) else {
                if crate::policy::forwarder::is_system_account(uid) {
                    self.forwarded.saw(uid);
                }
                return None;
            };
            found(MatchedBy::User(i, uid), i)
        };
        let ip = canonical(who.client_ip());
        let by_mac = || {
            let mac = who.behind.mac.or_else(|| lookups.mac(ip))?;
            let i = position(&|c| c.macs.contains(&mac))?;
            found(MatchedBy::Mac(i, mac), i)
        };
        let by_address = || {
            let i = position(&|c| c.nets.iter().any(|n| n.contains(&ip)))?;
            found(MatchedBy::Address(i), i)
        };
        (if self.by_user { by_user() } else { None })
            .or_else(|| if self.by_mac { by_mac() } else { None })
            .or_else(by_address)
            .unwrap_or((self.default_profile, MatchedBy::Default))
    }

    /// `policy.default_profile`: what a client no `[[client]]` matches gets.
    pub fn default_profile(&self) -> usize {
        self.default_profile
    }

    /// Queries seen from system accounts that no per-user `[[client]]` names.
    pub fn forwarded(&self) -> &crate::policy::forwarder::ForwarderWatch {
        &self.forwarded
    }

    /// Whether some `[[client]]` matches by MAC address (the neighbour table is needed).
    pub fn matches_by_mac(&self) -> bool {
        self.by_mac
    }

    /// How many schedule windows there are.
    pub fn window_count(&self) -> usize {
        self.windows.len()
    }

    /// The schedule windows that belong to a profile (bit per window).
    pub fn profile_windows(&self, profile: usize) -> u64 {
        self.profiles.get(profile).map_or(0, |p| p.windows)
    }

    /// The `bypass` category (DoH, VPN, proxies), if the rules have one.
    pub fn bypass_category(&self) -> Option<crate::rules::CategoryId> {
        self.bypass
    }

    /// Every profile's id.
    pub fn profile_ids(&self) -> impl Iterator<Item = &str> {
        self.profiles.iter().map(|p| p.id.as_str())
    }

    /// The categories a profile blocks (its allowlists left out).
    pub fn profile_categories(&self, profile: usize) -> Vec<&str> {
        let mask = self.profiles.get(profile).map_or(CategoryMask::NONE, |p| {
            CategoryMask(p.mask.0 & !self.allow_lists.0)
        });
        (0..64u8)
            .map(crate::rules::CategoryId)
            .filter(|&c| mask.contains(c))
            .filter_map(|c| self.rules.category(c).map(|i| i.id.as_str()))
            .collect()
    }

    /// Whether the profile enforces safe search.
    pub fn profile_safe_search(&self, profile: usize) -> bool {
        self.profiles.get(profile).is_some_and(|p| p.safe_search)
    }

    /// Who gets which profile: `client NAME` (or `client #N`, 1-based, for a
    /// table without a name) and `default`, each with a profile id.
    pub fn assignments(&self) -> std::collections::BTreeMap<String, String> {
        let mut out: std::collections::BTreeMap<String, String> = self
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let who = match &c.name {
                    Some(n) => format!("client {n}"),
                    None => format!("client #{}", i + 1),
                };
                (who, self.profile_id(c.profile).to_string())
            })
            .collect();
        out.insert(
            "default".into(),
            self.profile_id(self.default_profile).to_string(),
        );
        out
    }

    /// The profile's id (`child`, …).
    pub fn profile_id(&self, profile: usize) -> &str {
        self.profiles.get(profile).map_or("?", |p| p.id.as_str())
    }

    /// The index of a profile id, for [`Engine::decide`] and temporary allows.
    pub fn profile_index(&self, id: &str) -> Option<usize> {
        self.profiles.iter().position(|p| p.id == id)
    }

    /// The `name` of `[[client]]` table i, if it has one.
    pub fn client_name(&self, i: usize) -> Option<&str> {
        self.clients.get(i).and_then(|c| c.name.as_deref())
    }

    /// Bit w set: schedule window w is active at `t`. Computed off the query path.
    pub fn active_windows(&self, t: LocalTime) -> u64 {
        self.windows
            .iter()
            .enumerate()
            .filter(|(_, w)| w.window.active(t))
            .fold(0, |m, (i, _)| m | (1u64 << i))
    }

    /// The name of a schedule window (for answers and logs).
    pub fn window_name(&self, index: u16) -> &str {
        self.windows
            .get(usize::from(index))
            .map_or("?", |w| w.name.as_str())
    }

    /// The schedule windows of `profile` open in `active`: name, and whether allowlist-only.
    pub fn open_windows(&self, profile: usize, active: u64) -> Vec<(&str, bool)> {
        let mine = self.profiles.get(profile).map_or(0, |p| p.windows);
        self.windows
            .iter()
            .enumerate()
            .filter(|(i, _)| (active & mine) & (1u64 << i) != 0)
            .map(|(_, w)| (w.name.as_str(), w.allow_only))
            .collect()
    }

    /// The safe-search host of a [`Decision::SafeSearch`], in wire form.
    pub fn safe_search_target(&self, index: u16) -> Option<&[u8]> {
        self.safe_search
            .targets
            .get(usize::from(index))
            .map(|t| &**t)
    }

    /// The decision for one query of a client with `profile` (from
    /// [`Engine::profile_for`]), given what holds now. Allocates nothing.
    pub fn decide(
        &self,
        qname_wire: &[u8],
        qtype: u16,
        profile_index: usize,
        peer: IpAddr,
        live: &Live,
    ) -> Decision {
        let seen = ServicesSeen::default();
        self.decide_noting(qname_wire, qtype, profile_index, peer, live, &seen)
    }

    /// [`Engine::decide`], keeping the name's services in `seen` if it looks
    /// them up (the activity counters then need no second lookup).
    pub fn decide_noting(
        &self,
        qname_wire: &[u8],
        qtype: u16,
        profile_index: usize,
        peer: IpAddr,
        live: &Live,
        seen: &ServicesSeen,
    ) -> Decision {
        let Some(profile) = self.profiles.get(profile_index) else {
            return Decision::Forward;
        };
        let paused = profile_index < 64 && live.paused & (1u64 << profile_index) != 0;
        let exam = live.exam.holds(profile_index);
        if !paused && !exam && !profile.filters(live.windows) {
            return Decision::Forward;
        }
        let Some(name) = Candidate::from_wire(qname_wire) else {
            return Decision::Forward;
        };
        if CANARIES.contains(&name.name()) {
            return Decision::Canary;
        }
        if name.name() == DDR_NAME {
            return Decision::NoData;
        }
        let client = ClientInfo {
            ip: Some(peer),
            name: None,
        };
        let mut mask = profile.mask;
        let mut allow_only = None;
        let mut on = live.windows & profile.windows;
        while on != 0 {
            let w = on.trailing_zeros() as usize;
            on &= on - 1;
            let window = &self.windows[w];
            mask = CategoryMask(mask.0 | window.extra.0);
            if window.allow_only && allow_only.is_none() {
                allow_only = Some(w as u16);
            }
        }
        if paused {
            // Paused: only the profile's allowlist (help lines) is reachable;
            // no allow lifts a pause.
            return self
                .outside_allowlist(&name, qtype, &client, profile, mask, Decision::Paused)
                .unwrap_or(Decision::Forward);
        }
        if exam && let Some(d) = self.exam_decision(&name, qtype, &client, profile_index, live) {
            return d;
        }
        let allowed = live.allows.scope(&name, profile_index);
        if let Some(w) = allow_only {
            // Bedtime: only the profile's own allowlist (and allows the parent
            // made "also during bedtime") is reachable; safe-search hosts and
            // YouTube included.
            if allowed != Some(Scope::AlsoBedtime)
                && let Some(d) = self.outside_allowlist(
                    &name,
                    qtype,
                    &client,
                    profile,
                    mask,
                    Decision::Scheduled(w),
                )
            {
                return d;
            }
        }
        let security = CategoryMask(profile.mask.0 & self.security.0);
        if allowed.is_some() {
            return match self.rules.check(&name, qtype, &client, security, false) {
                Verdict::Blocked(o) => Decision::Block(o),
                _ => Decision::Forward,
            };
        }
        // Services a parent named: blocked, closed now, or reachable whatever
        // the categories say (metered when budgeted). Safe search and the
        // security lists still apply to a reachable one.
        let service = if profile.services.is_empty() {
            None
        } else {
            match self.service_check(&name, profile_index, profile, live, seen) {
                Some(Err(blocked)) => return blocked,
                Some(Ok(metered)) => Some(metered),
                None => None,
            }
        };
        // Only profiles that ask for it pay for the safe-search table lookup.
        let wants_safe_search = profile.safe_search || profile.youtube != YoutubeLevel::Off;
        let safe_host = if wants_safe_search {
            self.safe_search.hosts.get(name.name())
        } else {
            None
        };
        match safe_host {
            Some(SafeHost::Search(t)) if profile.safe_search => return Decision::SafeSearch(*t),
            Some(SafeHost::Youtube) => match profile.youtube {
                YoutubeLevel::Moderate => {
                    return Decision::SafeSearch(self.safe_search.youtube_moderate);
                }
                YoutubeLevel::Strict => {
                    return Decision::SafeSearch(self.safe_search.youtube_strict);
                }
                YoutubeLevel::Off => {}
            },
            _ => {}
        }
        if let Some(metered) = service {
            return match self.rules.check(&name, qtype, &client, security, false) {
                Verdict::Blocked(o) => Decision::Block(o),
                _ => metered.map_or(Decision::Forward, Decision::Metered),
            };
        }
        let (verdict, bypass) =
            self.rules
                .check_noting(&name, qtype, &client, mask, false, self.bypass);
        match verdict {
            Verdict::NoMatch | Verdict::Allowed(_) => Decision::Forward,
            // A name on a bypass list and another list is a bypass attempt
            // (the activity report counts them), unless a security list
            // blocks it: security comes first in the precedence of reasons.
            Verdict::Blocked(o) if self.security.contains(o.category) => Decision::Block(o),
            Verdict::Blocked(o) => Decision::Block(bypass.unwrap_or(o)),
            Verdict::Rewritten(o, id) => Decision::Rewrite(o, id),
        }
    }

    /// The security category (malware, scams) that blocks `name` for
    /// `profile`, as "id (name)": what no allow can lift.
    pub fn security_block(&self, name: &str, profile: usize) -> Option<String> {
        let p = self.profiles.get(profile)?;
        let candidate = Candidate::from_text(name)?;
        let security = CategoryMask(p.mask.0 & self.security.0);
        match self.rules.check(
            &candidate,
            1, // A: security lists block every type alike
            &ClientInfo::default(),
            security,
            false,
        ) {
            Verdict::Blocked(o) => self
                .rules
                .category(o.category)
                .map(|c| format!("{}, {}", c.id, c.name)),
            _ => None,
        }
    }

    /// For an allow-only time (bedtime, a pause): `None` when `name` is on
    /// the profile's allowlist, else the block: `otherwise`, or the bypass
    /// rule, so a bypass name is still counted as one. Allocates nothing.
    fn outside_allowlist(
        &self,
        name: &Candidate,
        qtype: u16,
        client: &ClientInfo,
        profile: &ProfilePolicy,
        mask: CategoryMask,
        otherwise: Decision,
    ) -> Option<Decision> {
        let listed = matches!(
            self.rules
                .check(name, qtype, client, profile.allow_mask, false),
            Verdict::Allowed(_)
        );
        if listed {
            return None;
        }
        Some(match self.bypass_origin(name, qtype, client, mask) {
            Some(o) => Decision::Block(o),
            None => otherwise,
        })
    }

    /// During an exam: bypass and AI chatbots blocked whatever the exam's
    /// allowlist says; the exam's sites and a teacher's opened sites left to
    /// the rest of the policy (`None`: a school's list does not lift a
    /// parent's blocks); the profile's allowlist (help lines; every
    /// profile's for one that has none) forwarded; anything else blocked.
    /// Allocates nothing.
    fn exam_decision(
        &self,
        name: &Candidate,
        qtype: u16,
        client: &ClientInfo,
        profile_index: usize,
        live: &Live,
    ) -> Option<Decision> {
        let profile = self.profiles.get(profile_index)?;
        let end = Decision::Exam(live.exam.ends(profile_index));
        match self
            .rules
            .check(name, qtype, client, self.exam_blocks, false)
        {
            Verdict::Blocked(o) if Some(o.category) == self.bypass => {
                return Some(Decision::Block(o));
            }
            Verdict::Blocked(_) => return Some(end),
            _ => {}
        }
        if live.exam.allows(name, profile_index) {
            return None;
        }
        let help = if profile.allow_mask == CategoryMask::NONE {
            self.help_lines
        } else {
            profile.allow_mask
        };
        match self.rules.check(name, qtype, client, help, false) {
            Verdict::Allowed(_) => Some(Decision::Forward),
            _ => Some(end),
        }
    }

    /// The bypass-list rule that blocks `name` under `mask`, if any.
    fn bypass_origin(
        &self,
        name: &Candidate,
        qtype: u16,
        client: &ClientInfo,
        mask: CategoryMask,
    ) -> Option<Origin> {
        let bypass = self.bypass.filter(|&c| mask.contains(c))?;
        match self
            .rules
            .check(name, qtype, client, CategoryMask::NONE.with(bypass), false)
        {
            Verdict::Blocked(o) => Some(o),
            _ => None,
        }
    }

    /// The name a decision answers with a CNAME to, in wire form: a safe-search
    /// host or a `$dnsrewrite` CNAME target. Its records are resolved upstream.
    pub fn alias_target(&self, decision: Decision) -> Option<Vec<u8>> {
        match decision {
            Decision::SafeSearch(t) => self.safe_search_target(t).map(<[u8]>::to_vec),
            Decision::Rewrite(_, id) => match self.rules.rewrite(id) {
                Some(Rewrite::Cname(target)) => Some(to_wire(target)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether a decision is answered with an alias resolved upstream (see [`Engine::alias_target`]).
    pub fn is_alias(&self, decision: Decision) -> bool {
        match decision {
            Decision::SafeSearch(_) => true,
            Decision::Rewrite(_, id) => matches!(self.rules.rewrite(id), Some(Rewrite::Cname(_))),
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 clients (on dual-stack sockets) match IPv4 rules.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
