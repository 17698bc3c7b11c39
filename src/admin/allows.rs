//! The dashboard's list of allows in force (every source: the dashboard,
//! `nestguard allow`, the config's allow lists; see [`crate::policy::allows`])
//! and its Revoke button. Revoking writes the state folder atomically and is
//! in force before the response: a temporary allow by re-reading what holds
//! now, a permanent one by reloading the rules at once (losing an allow only
//! blocks more, so nothing waits).

use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Admin, audit, form_session, page, pages};
use crate::engine::Engine;
use crate::policy::allows::{self, Kind};
use crate::policy::overrides::{self, Scope};

/// A time as the parents' clock shows it.
pub(super) fn local_time(t: jiff::Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// The allows in force for the dashboard, per profile.
pub(super) fn rows(admin: &Admin, engine: &Engine) -> pages::Allows {
    let profiles: Vec<&str> = engine.profile_ids().collect();
    let now = admin.resolver.clock().timestamp();
    let mut all = match allows::in_force(&admin.state_dir, &profiles, now) {
        Ok(a) => a,
        Err(e) => return pages::Allows::Unreadable(e),
    };
    let lists = &admin.local.load().allow_lists;
    all.extend(allows::config_lists(
        lists,
        &profiles,
        |profile, category| {
            engine
                .profile_index(profile)
                .is_some_and(|i| engine.profile_categories(i).contains(&category))
        },
    ));
    pages::Allows::Rows(all.iter().map(row).collect())
}

fn row(a: &allows::Allow) -> pages::AllowRow {
    let bedtime = |scope: &Scope| match scope {
        Scope::Categories => "",
        Scope::AlsoBedtime => ", also at bedtime",
    };
    let (ends, revoke) = match &a.kind {
        Kind::Temporary { until, scope } => (
            format!("until {}{}", local_time(*until), bedtime(scope)),
            Some(("temporary", *scope == Scope::AlsoBedtime)),
        ),
        Kind::Permanent { scope } => (
            format!("always{}", bedtime(scope)),
            Some(("permanent", *scope == Scope::AlsoBedtime)),
        ),
        Kind::Config { category, declared } => (
            format!(
                "allow list for “{category}” in the config file {}; change it there",
                declared.as_deref().unwrap_or("(the main config)")
            ),
            None,
        ),
    };
    debug_assert_eq!(revoke.is_some(), a.kind.revocable());
    pages::AllowRow {
        profile: a.profile.clone(),
        name: a.name.clone(),
        ends,
        by: a.by.clone().unwrap_or_else(|| "unknown".into()),
        since: a.since.map(local_time).unwrap_or_default(),
        revoke: revoke.map(|(kind, bedtime)| pages::Revoke { kind, bedtime }),
    }
}

#[derive(Deserialize)]
pub(super) struct RevokeForm {
    csrf: String,
    kind: String,
    profile: String,
    name: String,
    /// Present for an allow that also held at bedtime.
    bedtime: Option<String>,
}

pub(super) async fn revoke(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Form(form): Form<RevokeForm>,
) -> Response {
    let info = match form_session(&admin, &headers, &form.csrf) {
        Ok(info) => info,
        Err(r) => return r.response(&admin),
    };
    let refuse = |why: String| {
        page(
            StatusCode::BAD_REQUEST,
            pages::message("Not revoked", &why, true),
        )
    };
    // A profile the rules know: the name is part of a file's path.
    if admin
        .resolver
        .engine()
        .profile_index(&form.profile)
        .is_none()
    {
        return refuse(format!("no profile `{}`", form.profile));
    }
    let scope = Scope::of(form.bedtime.is_some());
    let done = match form.kind.as_str() {
        "temporary" => overrides::remove(
            &crate::state::layout::temporary_allows(&admin.state_dir),
            &form.name,
            Some(&form.profile),
        )
        .map(|n| n > 0),
        "permanent" => allows::remove_permanent(&admin.state_dir, &form.profile, &form.name, scope),
        other => Err(format!("unknown kind of allow `{other}`")),
    };
    match done {
        Ok(false) => Redirect::to("/").into_response(),
        Ok(true) => {
            if form.kind == "temporary" {
                admin.reloader.refresh_live();
            } else if let Err(e) = admin
                .reloader
                .reload("an allow revoked on the dashboard")
                .await
            {
                audit(
                    &admin,
                    &info.parent,
                    "revoke",
                    &format!("{} for {} (permanent): {e}", form.name, form.profile),
                );
                return refuse(format!(
                    "{} is gone from the allows, but the rules could not be reloaded ({e}); \
                     the previous rules, which still allow it, serve until that is fixed.",
                    form.name
                ));
            }
            audit(
                &admin,
                &info.parent,
                "revoke",
                &format!("{} for {} ({})", form.name, form.profile, form.kind),
            );
            Redirect::to("/").into_response()
        }
        Err(e) => refuse(e),
    }
}
