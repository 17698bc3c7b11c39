//! `nestguard status`: what the daemon reports about itself.
//!
//! The daemon writes `status.toml` into the state directory when it starts
//! and after every reload (atomically), and `nestguard status` reads it. A
//! file, not a socket, so the command works without an admin API and shows
//! the last state even when the daemon is down.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::engine::Engine;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub version: String,
    pub started: Timestamp,
    /// Set at a clean shutdown: filtering has been off since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Timestamp>,
    /// The config files in force.
    pub config: Vec<String>,
    pub last_reload: Option<Reload>,
    /// A change read but not put in force yet (a list that lost rules, until
    /// its files have been unchanged for a while).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
    /// Reloads since start, by outcome (for `/metrics`).
    #[serde(default)]
    pub reloads: ReloadCounts,
    pub rules: RuleCounts,
    /// The children, their bands, and a move waiting or coming soon.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildStatus>,
    /// An exam in force (`nestguard exam`, an `[[exam]]` window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exam: Option<ExamStatus>,
    /// Set when this run failed to start: why. Filtering did not start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// Which policy is in force, for a fleet's monitoring (`/metrics`).
    #[serde(default)]
    pub policy: PolicyInForce,
}

/// Which policy is in force: what a fleet compares across its machines.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PolicyInForce {
    /// `[policy] version`, as the config (a fleet's drop-in) names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `sha256:` and the hex SHA-256 of the config files read, in order
    /// (each file's length, then its bytes): it changes when any of them does.
    #[serde(default)]
    pub config_hash: String,
    /// The rule list files in force (`[[rules.list]]` and downloaded lists).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<std::path::PathBuf>,
}

impl PolicyInForce {
    pub fn of(config: &crate::config::Config) -> PolicyInForce {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for o in &config.origins {
            ctx.update(&(o.text.len() as u64).to_be_bytes());
            ctx.update(o.text.as_bytes());
        }
        let hex: String = ctx
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        PolicyInForce {
            version: config.policy.version.clone(),
            config_hash: format!("sha256:{hex}"),
            lists: crate::rules::subscriptions::rules_config(config)
                .lists
                .into_iter()
                .map(|l| l.path)
                .collect(),
        }
    }
}

/// One child as `status` shows them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChildStatus {
    pub name: String,
    pub band: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<i16>,
    /// A move to another band waiting for a parent, or coming within a month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

impl ChildStatus {
    pub fn of(engine: &Engine, today: jiff::civil::Date) -> Vec<ChildStatus> {
        engine
            .children()
            .iter()
            .map(|c| ChildStatus {
                name: c.name.clone(),
                band: c.band.clone(),
                age: c.age,
                notice: c.notice(today),
            })
            .collect()
    }
}

/// An exam in force, as `status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamStatus {
    /// The profiles (children's included) it holds for.
    pub profiles: Vec<String>,
    /// Local time it ends, `HH:MM`.
    pub until: String,
}

impl ExamStatus {
    /// The exam in force for `engine`'s profiles, if any.
    pub fn of(engine: &Engine, exam: &crate::policy::exam::ExamLive) -> Option<ExamStatus> {
        let profiles: Vec<usize> = (0..engine.profile_ids().count())
            .filter(|&p| exam.holds(p))
            .collect();
        let end = exam.ends(*profiles.first()?);
        Some(ExamStatus {
            profiles: profiles
                .iter()
                .map(|&p| engine.profile_id(p).to_string())
                .collect(),
            until: format!("{:02}:{:02}", end / 60, end % 60),
        })
    }
}

/// A change held back, and why.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Held {
    /// When the files were first seen this way.
    pub since: Timestamp,
    /// What started it.
    pub trigger: String,
    /// The lists that would lose rules: `path: 151 → 0 rules`.
    pub losses: Vec<String>,
    /// How long the files must stay unchanged (`3s`).
    pub hold: String,
}

/// Reloads since start, by outcome.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReloadCounts {
    pub ok: u64,
    /// Refused: a config or list with a mistake, a missing file.
    pub refused: u64,
    /// Refused because a file or folder could be changed by users other than root.
    pub unsafe_files: u64,
    /// Held back (a list lost rules), counted once per change.
    pub held: u64,
}

/// The outcome of the last reload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reload {
    pub at: Timestamp,
    /// What started it: a file that changed, SIGHUP, …
    pub trigger: String,
    pub ok: bool,
    /// Why it was refused (`file:line:column: reason`); the previous rules kept serving.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Rule counts of the engine in force.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RuleCounts {
    pub domain_rules: usize,
    pub keywords: usize,
    pub regexes: usize,
    /// Distinct names blocked, per category: each name counted once, under
    /// the category its block is reported as (the first in precedence order),
    /// so these add up to `total_names`.
    pub categories: BTreeMap<String, usize>,
    /// Distinct names blocked by any category.
    #[serde(default)]
    pub total_names: usize,
    /// Distinct names the categories a profile blocks hold.
    pub profiles: BTreeMap<String, usize>,
}

impl RuleCounts {
    pub fn of(engine: &Engine) -> RuleCounts {
        let rules = &engine.rules;
        let names = rules.blocked_names();
        let categories = names
            .by_category
            .iter()
            .enumerate()
            .filter_map(|(i, &n)| {
                let info = rules.category(crate::rules::CategoryId(i as u8))?;
                Some((info.id.clone(), n as usize))
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        let profiles = rules
            .profile_ids()
            .zip(&names.by_profile)
            .map(|(id, &n)| (id.to_string(), n as usize))
            .collect();
        RuleCounts {
            domain_rules: rules.domain_rules(),
            keywords: rules.keyword_count(),
            regexes: rules.regex_count(),
            categories,
            total_names: names.total as usize,
            profiles,
        }
    }
}

pub fn write(state_dir: &Path, status: &Status) {
    let text = match toml::to_string(status) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "cannot encode the status");
            return;
        }
    };
    let body = format!("# Written by the nestguard daemon; read by `nestguard status`.\n\n{text}");
    if let Err(e) = crate::state::write_private(
        &crate::state::layout::status_file(state_dir),
        body.as_bytes(),
    ) {
        tracing::warn!(dir = %state_dir.display(), error = %e, "cannot write status.toml");
    }
}

/// Records a start that failed. The status of another daemon that is still
/// running with this state folder (the usual reason a port is taken) is
/// left as it is: `status` goes on showing that one, and the failed attempt
/// is in its protection events.
pub fn failed_start(state_dir: &Path, at: Timestamp, reason: &str) {
    if let Ok(s) = read(state_dir)
        && s.pid != std::process::id()
        && s.stopped.is_none()
        && alive(s.pid) == Some(true)
    {
        return;
    }
    let status = Status {
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        started: at,
        stopped: Some(at),
        config: Vec::new(),
        last_reload: None,
        held: None,
        reloads: Default::default(),
        rules: RuleCounts::default(),
        children: Vec::new(),
        exam: None,
        failed: Some(reason.to_string()),
        policy: PolicyInForce::default(),
    };
    write(state_dir, &status);
}

pub fn read(state_dir: &Path) -> Result<Status, String> {
    let p = crate::state::layout::status_file(state_dir);
    let text = std::fs::read_to_string(&p).map_err(|e| {
        format!(
            "{}: {e} (has the daemon run with this state directory?)",
            p.display()
        )
    })?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// Whether the process that wrote the status is still running (Linux: /proc).
pub fn alive(pid: u32) -> Option<bool> {
    if cfg!(target_os = "linux") {
        Some(Path::new(&format!("/proc/{pid}")).exists())
    } else {
        None
    }
}

/// Whether filtering is off: a clean shutdown said so, or the process is gone.
pub fn is_stopped(s: &Status, alive: Option<bool>) -> bool {
    s.stopped.is_some() || alive == Some(false)
}

/// The text `nestguard status` prints; `events` are the recent protection events.
pub fn render(
    s: &Status,
    alive: Option<bool>,
    events: &[crate::activity::events::Event],
) -> String {
    let tz = jiff::tz::TimeZone::system();
    let local = |t: Timestamp| {
        t.to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let mut out = String::new();
    let state = match (s.stopped, alive) {
        (Some(at), _) if s.failed.is_some() => format!(
            "FAILED TO START at {}: {}; filtering is off",
            local(at),
            s.failed.as_deref().unwrap_or("?")
        ),
        (Some(at), _) => format!(
            "STOPPED at {}: filtering is off (what follows is what it last reported)",
            local(at)
        ),
        (None, Some(false)) => {
            "NOT RUNNING: it stopped without saying so (killed or crashed); filtering is off".into()
        }
        (None, Some(true)) => "running".into(),
        (None, None) => "unknown (cannot check the process here)".into(),
    };
    let _ = writeln!(
        out,
        "nestguard {}: {state}, pid {}, started {}",
        s.version,
        s.pid,
        local(s.started)
    );
    let _ = writeln!(out, "config: {}", s.config.join(", "));
    match &s.last_reload {
        None => {
            let _ = writeln!(out, "reload: none since start");
        }
        Some(r) if r.ok => {
            let _ = writeln!(out, "reload: ok at {} ({})", local(r.at), r.trigger);
        }
        Some(r) => {
            let _ = writeln!(
                out,
                "reload: FAILED at {} ({}); the previous rules are still in force\n  {}",
                local(r.at),
                r.trigger,
                r.error.as_deref().unwrap_or("?").replace('\n', "\n  ")
            );
        }
    }
    if let Some(h) = &s.held {
        let _ = writeln!(
            out,
            "held back since {} ({}): the previous rules stay in force until the files have been unchanged for {} (or `nestguard reload` confirms now):\n  {}",
            local(h.since),
            h.trigger,
            h.hold,
            h.losses.join("\n  ")
        );
    }
    let r = &s.rules;
    let _ = writeln!(
        out,
        "rules: {} domain rules, {} keywords, {} regexes",
        r.domain_rules, r.keywords, r.regexes
    );
    let _ = writeln!(
        out,
        "distinct names blocked per category: (a name several categories block counts once, under the category its block is reported as)"
    );
    for (c, n) in &r.categories {
        let _ = writeln!(out, "  {c:<24} {n:>9}");
    }
    let _ = writeln!(
        out,
        "  {:<24} {:>9}",
        "total (distinct names)", r.total_names
    );
    let _ = writeln!(
        out,
        "distinct names blocked per profile: (on the lists of the categories it blocks)"
    );
    for (p, n) in &r.profiles {
        let _ = writeln!(out, "  {p:<24} {n:>9}");
    }
    if !s.children.is_empty() {
        let _ = writeln!(out, "children:");
    }
    for c in &s.children {
        let age = c.age.map_or(String::new(), |a| format!(", {a}"));
        let _ = writeln!(out, "  {:<16} {}{age}", c.name, c.band);
        if let Some(n) = &c.notice {
            let _ = writeln!(out, "    {n}");
        }
    }
    if let Some(e) = &s.exam {
        let _ = writeln!(
            out,
            "EXAM until {} for {}: only the exam's sites and help lines are reachable (`nestguard exam status`)",
            e.until,
            e.profiles.join(", ")
        );
    }
    let _ = writeln!(out, "protection events, last {EVENT_DAYS} days:");
    if events.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for e in events {
        let at = Timestamp::from_second(e.at).unwrap_or_default();
        let _ = writeln!(out, "  {}  {:<8} {}", local(at), e.kind, e.detail);
    }
    out
}

/// How far back `nestguard status` lists protection events.
pub const EVENT_DAYS: i64 = 7;
