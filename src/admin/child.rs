//! What a child sees: the "why was this blocked?" page, the "filtering is
//! on for you" page and the ask form, in the child's words and language
//! ([`crate::words`]). [`why_blocked`] is the one entry point a listener
//! that answers for blocked names calls.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::state::{Admin, Shared, audit, page};
use super::{auth, pages};
use crate::engine::{Decision, Engine};
use crate::policy::{Proto, Who};
use crate::words::{Band, Lang, Reason, Tr};
use throttle_source::Source;

mod throttle_source {
    pub use super::super::throttle::Source;
}

/// Children's requests waiting for the parents, at most: in all, per
/// profile, and per asker (a profile asked from one source, see
/// [`throttle::Source`]), so one child cannot crowd out another.
const MAX_ASKS: i64 = 100;
const MAX_ASKS_PER_PROFILE: i64 = 20;
const MAX_ASKS_PER_ASKER: i64 = 5;
/// Minutes before a budget runs out from which "/me" warns the child.
const BUDGET_WARNING: u64 = 10;

/// Who is asking, as the dashboard's listener sees them.
fn who(admin: &Admin, peer: SocketAddr) -> Who {
    Who {
        peer,
        listener: admin.listen,
        proto: Proto::Tcp,
        behind: crate::policy::ForwardedFor::NONE,
    }
}

/// The child (or profile) a device belongs to: profile index, band, the
/// child's id and name when a `[[child]]` has it.
struct Asker {
    profile: usize,
    band: Band,
    child: Option<(String, String)>,
}

fn asker(admin: &Admin, engine: &Engine, peer: SocketAddr) -> Asker {
    let profile = admin.resolver.profile_of(&who(admin, peer));
    Asker {
        profile,
        band: band_of(engine, profile),
        child: engine
            .child_of(profile)
            .map(|c| (c.id.clone(), c.name.clone())),
    }
}

/// The language of a child's page: the child's own setting, else the
/// config's (`[admin] language`, else the country's), else the browser's,
/// else English.
fn language(admin: &Admin, asker: &Asker, accept_language: Option<&str>) -> Lang {
    let local = admin.local.load();
    asker
        .child
        .as_ref()
        .and_then(|(id, _)| local.languages.get(id).copied())
        .or(local.language)
        .or_else(|| accept_language.and_then(Lang::from_accept_language))
        .unwrap_or(Lang::En)
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

/// Why `wire` is blocked for `profile` now, as a child is told; none when
/// it is not. A site a category blocks at every hour is told by its
/// category even at bedtime or in a pause: "try again later" would be wrong.
fn reason<'e>(engine: &'e Engine, decision: Decision, always: Decision) -> Option<Reason<'e>> {
    let category = |o: crate::rules::Origin| {
        engine
            .rules
            .category(o.category)
            .map(|c| Reason::of_category(&c.id, &c.name, c.security))
    };
    match decision {
        Decision::Block(o) => category(o),
        Decision::Canary => Some(Reason::Category {
            id: "bypass",
            name: "bypass",
        }),
        Decision::Scheduled(w) => match always {
            Decision::Block(o) => category(o),
            _ => Some(Reason::of_window(engine.window_name(w))),
        },
        Decision::Paused => match always {
            Decision::Block(o) => category(o),
            _ => Some(Reason::Paused),
        },
        Decision::Exam(_) => match always {
            Decision::Block(o) => category(o),
            _ => Some(Reason::Exam),
        },
        Decision::Service(s, why) => {
            let service = engine.services().get(s).map_or("?", |d| d.name.as_str());
            Some(match why {
                crate::engine::ServiceWhy::Parent => Reason::ServiceBlocked { service },
                crate::engine::ServiceWhy::Hours => Reason::ServiceHours { service },
                crate::engine::ServiceWhy::Budget(_) => Reason::BudgetUsedUp { service },
            })
        }
        _ => None,
    }
}

/// The band whose words fit a policy: a child's band, else the profile's.
fn band_of(engine: &Engine, profile: usize) -> Band {
    match engine.child_of(profile) {
        Some(c) => Band::of_profile(&c.band),
        None => Band::of_profile(engine.profile_id(profile)),
    }
}

/// A desktop notice's words for a block the daemon decided (`decision`,
/// for `profile`), in `lang`; none for what a child is not told of.
pub(crate) fn notice_words(
    engine: &Engine,
    profile: usize,
    decision: Decision,
    lang: Lang,
) -> Option<crate::words::Words> {
    let r = reason(engine, decision, decision)?;
    Some(crate::words::block_words(r, band_of(engine, profile), lang))
}

/// The block-page listener's answer to any request: the child page for the
/// site in its `Host` header. Never cached, so the site itself shows once a
/// parent unblocks it.
pub(super) async fn child_page(
    State(admin): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let name = super::blockpage::site_of(&headers).unwrap_or_default();
    let mut r = why_blocked(&admin, peer, &name, accept_language(&headers));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

/// The words for `name` as the asking device's child is told them now.
fn words_for(
    admin: &Admin,
    engine: &Engine,
    asker: &Asker,
    name: &str,
    lang: Lang,
) -> Option<(String, crate::words::Words, Option<String>)> {
    let n = crate::rules::name::normalize(name).ok()?;
    let wire = crate::rules::name::to_wire(&n);
    let current = admin.resolver.current();
    let ip = std::net::IpAddr::from([127, 0, 0, 1]);
    let now = engine.decide(&wire, 1, asker.profile, ip, &current.live);
    // What the categories alone say, with no window open, pause or allow.
    let always = engine.decide(&wire, 1, asker.profile, ip, &crate::policy::Live::default());
    let reason = reason(engine, now, always);
    let category = match reason {
        Some(Reason::Category { id, name } | Reason::Security { id, name }) => {
            Some(crate::words::category_name(lang, id, name))
        }
        _ => None,
    };
    let words = reason
        .map(|r| crate::words::block_words(r, asker.band, lang))
        .unwrap_or_else(|| crate::words::Words {
            title: n.clone(),
            why: crate::words::text(lang, "page-not-blocked", &[]),
            can: String::new(),
            // It may still look blocked to the child (another device's
            // answer, a browser's cache): asking stays possible.
            ask: true,
        });
    Some((n, words, category))
}

#[derive(Deserialize)]
pub(super) struct BlockedQuery {
    name: Option<String>,
}

pub(super) async fn blocked_page(
    State(admin): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<BlockedQuery>,
) -> Response {
    why_blocked(
        &admin,
        peer,
        q.name.as_deref().unwrap_or_default(),
        accept_language(&headers),
    )
}

/// The "why was this blocked?" page for `name`, as the child of the device
/// at `peer` is told it, in their language. For the block-page listener
/// (which has the name from the Host header) and `/blocked?name=`.
pub(crate) fn why_blocked(
    admin: &Arc<Admin>,
    peer: SocketAddr,
    name: &str,
    accept_language: Option<&str>,
) -> Response {
    let engine = admin.resolver.engine();
    let asker = asker(admin, &engine, peer);
    let lang = language(admin, &asker, accept_language);
    let tr = Tr {
        lang,
        band: asker.band,
    };
    let found = words_for(admin, &engine, &asker, name, lang);
    let token = found
        .as_ref()
        .filter(|(_, w, _)| w.ask)
        .map(|_| new_token(admin));
    let local = admin.local.load();
    let h = &local.helplines;
    let (site, words, category) = match &found {
        Some((n, w, c)) => (Some(n.as_str()), Some(w), c.as_deref()),
        None => (None, None, None),
    };
    page(
        StatusCode::OK,
        pages::blocked(pages::BlockedPage {
            tr,
            site,
            words,
            category,
            token: token.as_deref(),
            name,
            country: h.country.iter().find(|c| c.code == local.country),
            international: &h.international,
        }),
    )
}

/// A one-time token for the ask form (the oldest half is dropped past 1000).
fn new_token(admin: &Admin) -> String {
    let token = auth::token();
    if let Ok(mut t) = admin.ask_tokens.lock() {
        if t.len() > 1000 {
            t.drain(..500);
        }
        t.push(token.clone());
    }
    token
}

/// "Filtering is on for you": for the asking device's child only, what is
/// kept away and why, their bedtime, how to ask and where to get help.
pub(super) async fn filtering_page(
    State(admin): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let engine = admin.resolver.engine();
    let asker = asker(&admin, &engine, peer);
    let lang = language(&admin, &asker, accept_language(&headers));
    let tr = Tr {
        lang,
        band: asker.band,
    };
    let kept: Vec<(String, String)> = engine
        .profile_categories(asker.profile)
        .into_iter()
        .filter_map(|id| {
            let c = engine.rules.category(engine.rules.category_id(id)?)?;
            let reason = Reason::of_category(&c.id, &c.name, c.security);
            let w = crate::words::block_words(reason, asker.band, lang);
            Some((crate::words::category_name(lang, &c.id, &c.name), w.why))
        })
        .collect();
    let local = admin.local.load();
    let profile_id = engine.profile_id(asker.profile);
    let bedtimes: Vec<String> = local
        .schedules
        .iter()
        .filter(|s| {
            let child = asker.child.as_ref().map(|(id, _)| id.as_str());
            s.applies(profile_id, child.map(|_| asker.band.id()), child)
        })
        .map(|s| {
            text_with(
                lang,
                "me-bedtime-line",
                &[("window", &s.name), ("from", &s.from), ("to", &s.to)],
            )
        })
        .collect();
    // Time left on each daily budget, with a warning in its last minutes,
    // where the child can see it coming.
    let budgets: Vec<String> = admin
        .resolver
        .current()
        .live
        .budgets
        .iter()
        .filter(|b| b.budget.profile == asker.profile)
        .map(|b| {
            let service = engine
                .services()
                .get(b.budget.service)
                .map_or("?", |d| d.name.as_str());
            let (left, allowed) = (b.left().to_string(), b.allowed().to_string());
            let line = text_with(
                lang,
                "me-budget-line",
                &[("service", service), ("left", &left), ("allowed", &allowed)],
            );
            if (1..=BUDGET_WARNING).contains(&b.left()) {
                format!(
                    "{line}. {}",
                    crate::words::text(lang, "me-budget-soon", &[])
                )
            } else {
                line
            }
        })
        .collect();
    let h = &local.helplines;
    page(
        StatusCode::OK,
        pages::filtering(pages::FilteringPage {
            tr,
            child: asker.child.as_ref().map(|(_, name)| name.as_str()),
            kept,
            bedtimes,
            budgets,
            country: h.country.iter().find(|c| c.code == local.country),
            international: &h.international,
        }),
    )
}

fn text_with(lang: Lang, id: &str, args: &[(&str, &str)]) -> String {
    crate::words::text(lang, id, args)
}

#[derive(Deserialize)]
pub(super) struct AskForm {
    token: String,
    name: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn ask(
    State(admin): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<AskForm>,
) -> Response {
    let known = admin.ask_tokens.lock().is_ok_and(|mut t| {
        let before = t.len();
        t.retain(|x| !auth::same(x, &form.token));
        t.len() < before
    });
    let Ok(name) = crate::rules::name::normalize(form.name.trim()) else {
        return (StatusCode::BAD_REQUEST, "not a site name\n").into_response();
    };
    if !known {
        return (
            StatusCode::FORBIDDEN,
            "this form has expired; open the page again\n",
        )
            .into_response();
    }
    let engine = admin.resolver.engine();
    let asker = asker(&admin, &engine, peer);
    let lang = language(&admin, &asker, accept_language(&headers));
    let tr = Tr {
        lang,
        band: asker.band,
    };
    // A security list is dangerous for everyone: no parent can lift it, so
    // no one is asked (the page offers no form; a hand-made one lands here).
    if words_for(&admin, &engine, &asker, &name, lang).is_some_and(|(_, w, _)| !w.ask) {
        return page(
            StatusCode::FORBIDDEN,
            pages::message(tr, &tr.get("asked-not"), &tr.get("asked-security"), false),
        );
    }
    let profile = engine.profile_id(asker.profile).to_string();
    let note: String = form.note.chars().take(300).collect();
    let asker = Source::of(peer, admin.listen).key();
    // A panic elsewhere while holding the lock leaves the connection usable.
    let outcome = store_ask(
        &admin
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        &profile,
        &name,
        &note,
        &asker,
        admin.resolver.clock().timestamp().as_second(),
    );
    let refused = |counter: &portable_atomic::AtomicU64, why: &str, text: &str| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(times) = admin.asks_logged.hit() {
            tracing::warn!(%profile, times, "a child's request to unblock not stored: {why}");
        }
        page(
            StatusCode::TOO_MANY_REQUESTS,
            pages::message(tr, &tr.get("asked-not"), &tr.get(text), false),
        )
    };
    match outcome {
        Ok(Ask::Stored) => {
            audit(&admin, "child", "asked", &format!("{name} for {profile}"));
            page(
                StatusCode::OK,
                pages::message(tr, &tr.get("asked-title"), &tr.get("asked-thanks"), false),
            )
        }
        Ok(Ask::Duplicate) => {
            // Not an error for the child: the question is already there.
            admin
                .counters
                .asks_duplicate
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            page(
                StatusCode::OK,
                pages::message(tr, &tr.get("asked-title"), &tr.get("asked-again"), false),
            )
        }
        Ok(Ask::AskerFull) => refused(
            &admin.counters.asks_asker_full,
            "this asker has the most waiting",
            "asked-full-you",
        ),
        Ok(Ask::ProfileFull) => refused(
            &admin.counters.asks_profile_full,
            "this profile has the most waiting",
            "asked-full",
        ),
        Ok(Ask::QueueFull) => refused(
            &admin.counters.asks_queue_full,
            "the queue is full",
            "asked-full",
        ),
        Err(e) => {
            tracing::warn!(error = %e, "cannot store a child's request to unblock");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                pages::message(tr, &tr.get("asked-not"), &tr.get("asked-failed"), false),
            )
        }
    }
}

/// What became of a child's request to unblock.
enum Ask {
    Stored,
    /// The profile already has this site waiting: the one row is enough.
    Duplicate,
    AskerFull,
    ProfileFull,
    QueueFull,
}

/// Stores an ask unless it repeats a waiting one or a limit is reached; the
/// checks and the insert share the dashboard's one connection (and its lock).
fn store_ask(
    db: &rusqlite::Connection,
    profile: &str,
    domain: &str,
    note: &str,
    asker: &str,
    now: i64,
) -> rusqlite::Result<Ask> {
    let count = |sql: &str, params: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<i64> {
        db.query_row(sql, params, |r| r.get(0))
    };
    let pending = "SELECT COUNT(*) FROM requests WHERE status = 'pending'";
    if count(
        &format!("{pending} AND profile = ?1 AND domain = ?2"),
        &[&profile, &domain],
    )? > 0
    {
        return Ok(Ask::Duplicate);
    }
    if count(
        &format!("{pending} AND profile = ?1 AND asker = ?2"),
        &[&profile, &asker],
    )? >= MAX_ASKS_PER_ASKER
    {
        return Ok(Ask::AskerFull);
    }
    if count(&format!("{pending} AND profile = ?1"), &[&profile])? >= MAX_ASKS_PER_PROFILE {
        return Ok(Ask::ProfileFull);
    }
    if count(pending, &[])? >= MAX_ASKS {
        return Ok(Ask::QueueFull);
    }
    db.execute(
        "INSERT INTO requests (at, profile, domain, note, status, asker) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
        rusqlite::params![now, profile, domain, note, asker],
    )?;
    Ok(Ask::Stored)
}
