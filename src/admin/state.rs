//! The dashboard's state, shared by its handlers: the parents' pages
//! (`admin`) and the child's (`admin::child`), which both read it and
//! neither of which the other's module needs to import for it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::auth::Auth;
use super::metrics::AdminCounters;
use super::{pages, serve};
use crate::activity;
use crate::config::Config;
use crate::dns::resolve::Resolver;
use crate::reload::Reloader;
use crate::rules::catalog::{self, Helplines};

pub(super) type Shared = State<Arc<Admin>>;

pub struct Admin {
    pub(super) resolver: Arc<Resolver>,
    pub(super) reloader: Arc<Reloader>,
    pub(super) auth: Auth,
    pub(super) db: Mutex<rusqlite::Connection>,
    pub(super) db_path: PathBuf,
    pub(super) state_dir: PathBuf,
    /// Help lines and the country whose ones children see (a reload swaps them).
    pub(super) local: ArcSwap<Local>,
    pub(super) listen: SocketAddr,
    pub(super) limits: Arc<serve::Limits>,
    /// Tokens handed out with the children's "ask" form.
    pub(super) ask_tokens: Mutex<Vec<String>>,
    pub(super) counters: Arc<AdminCounters>,
    /// "Too many requests waiting" is logged once per interval.
    pub(super) asks_logged: crate::log_every::LogEvery,
    /// What `/metrics` shows, read from the counters when scraped.
    pub(super) metrics: prometheus_client::registry::Registry,
    /// Clients seen lately (for the devices no child has yet).
    pub(super) seen: Arc<dyn crate::observe::SeenClients>,
    /// The SHA-256 of the monitoring token, when one is set (a reload swaps it).
    pub(super) metrics_token: ArcSwap<Option<[u8; 32]>>,
}

/// What the children's pages show where to get help, and the config's
/// allow lists the dashboard lists.
pub(super) struct Local {
    pub(super) helplines: Helplines,
    pub(super) country: String,
    pub(super) allow_lists: Vec<crate::config::ListConfig>,
    /// `allow_sites` of children and `[profile.<id>]` tables: the config's
    /// own allows, as (profile id, site, where it is written).
    pub(super) site_allows: Vec<(String, String, String)>,
    /// The language each child's pages are in, when set (child id → language).
    pub(super) languages: std::collections::HashMap<String, crate::words::Lang>,
    /// `[admin] language`, else the country's: for devices of children
    /// without their own.
    pub(super) language: Option<crate::words::Lang>,
    /// Bedtimes and quiet hours, for the "filtering is on" page.
    pub(super) schedules: Vec<Bedtime>,
}

/// Every `allow_sites` entry of the config, with the file and line it is on.
fn site_allows(config: &Config) -> Vec<(String, String, String)> {
    let at = |origin: usize, span: std::ops::Range<usize>| {
        config.origins.get(origin).map_or_else(String::new, |o| {
            let p = crate::config::Position::of(&o.name, &o.text, span.start);
            format!("{}:{}", p.origin, p.line)
        })
    };
    let children = config.children.iter().map(|c| {
        let c = c.get_ref();
        (c.id(), c.origin, &c.tweaks)
    });
    let profiles = config
        .profiles
        .iter()
        .map(|(id, t)| (id.clone(), 0, t.get_ref()));
    children
        .chain(profiles)
        .flat_map(|(id, origin, tweaks)| {
            tweaks
                .allow_sites
                .iter()
                .map(move |site| (id.clone(), site.get_ref().clone(), at(origin, site.span())))
        })
        .collect()
}

impl Local {
    pub(super) fn of(config: &Config) -> anyhow::Result<Local> {
        Ok(Local {
            helplines: catalog::load_helplines(&catalog::RulesDir::from_config(&config.rules))?,
            country: config.admin.country.to_ascii_uppercase(),
            allow_lists: config
                .rules
                .lists
                .iter()
                .filter(|l| l.allow)
                .cloned()
                .collect(),
            site_allows: site_allows(config),
            languages: config
                .children
                .iter()
                .filter_map(|c| {
                    let c = c.get_ref();
                    let lang = crate::words::Lang::parse(c.language.as_ref()?.get_ref())?;
                    Some((c.id(), lang))
                })
                .collect(),
            language: config
                .admin
                .language
                .as_ref()
                .and_then(|l| crate::words::Lang::parse(l.get_ref()))
                .or_else(|| crate::words::Lang::of_country(&config.admin.country)),
            schedules: Bedtime::of(config),
        })
    }
}

/// A `[[schedule]]` as the "filtering is on" page lists it.
pub(super) struct Bedtime {
    pub(super) name: String,
    profile: Option<String>,
    children: Vec<String>,
    pub(super) from: String,
    pub(super) to: String,
}

impl Bedtime {
    /// The allowlist-only windows of a config (the others only add categories).
    pub(super) fn of(config: &crate::config::Config) -> Vec<Bedtime> {
        config
            .schedules
            .iter()
            .map(|s| s.get_ref())
            .filter(|s| s.allow_only)
            .map(|s| Bedtime {
                name: s.name.clone(),
                profile: s.profile.as_ref().map(|p| p.get_ref().clone()),
                children: s
                    .children
                    .iter()
                    .map(|c| c.get_ref().trim().to_lowercase())
                    .collect(),
                from: s.from.get_ref().clone(),
                to: s.to.get_ref().clone(),
            })
            .collect()
    }

    /// A window applies to a profile's clients, to every child of that
    /// band, and to the children it names.
    pub(super) fn applies(&self, profile: &str, band: Option<&str>, child: Option<&str>) -> bool {
        let mine = |p: &str| self.profile.as_deref() == Some(p);
        mine(profile)
            || band.is_some_and(mine)
            || child.is_some_and(|id| self.children.iter().any(|c| c == id))
    }
}
/// A rendered page with its status; a template that failed to render (a
/// value that would not format) is a 500 with a line in the log.
pub(super) fn page(status: StatusCode, rendered: pages::Rendered) -> Response {
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render a dashboard page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot render this page\n",
            )
                .into_response()
        }
    }
}

/// A line in the audit trail (a failure to write it is logged, not fatal).
pub(super) fn audit(admin: &Admin, who: &str, action: &str, detail: &str) {
    if let Ok(db) = admin.db.lock() {
        let at = admin.resolver.clock().timestamp().as_second();
        if let Err(e) = activity::store::insert_audit(&db, at, who, action, detail) {
            tracing::warn!(error = %e, "cannot write the audit trail");
        }
    }
}
