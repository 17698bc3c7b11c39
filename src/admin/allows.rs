//! The dashboard's list of allows in force (every source: the dashboard,
//! `nestguard allow`, the config's allow lists; see [`crate::policy::allows`])
//! and its Revoke button. Revoking writes the state folder atomically and is
//! in force before the response: a temporary allow by re-reading what holds
//! now, a permanent one by reloading the rules at once (losing an allow only
//! blocks more, so nothing waits).

use std::path::Path;

use serde::Deserialize;

use super::pages::{self, local_time};
use crate::config::ListConfig;
use crate::engine::Engine;
use crate::policy::allows::{self, Kind};
use crate::policy::overrides::{self, Scope};
use crate::words::Tr;

/// The allows in force at `now` for the dashboard, per profile of
/// `engine`; `lists` are the config's allow lists.
pub(super) fn rows(
    tr: Tr,
    state_dir: &Path,
    now: jiff::Timestamp,
    lists: &[ListConfig],
    sites: &[(String, String, String)],
    engine: &Engine,
) -> pages::Allows {
    let profiles: Vec<&str> = engine.profile_ids().collect();
    let mut all = match allows::in_force(state_dir, &profiles, now) {
        Ok(a) => a,
        Err(e) => return pages::Allows::Unreadable(e),
    };
    all.extend(allows::config_lists(
        lists,
        &profiles,
        |profile, category| {
            engine
                .profile_index(profile)
                .is_some_and(|i| engine.profile_categories(i).contains(&category))
        },
    ));
    // A child's or a profile's `allow_sites`: in the config, not revocable here.
    all.extend(sites.iter().map(|(profile, site, declared)| allows::Allow {
        profile: profile.clone(),
        name: site.clone(),
        kind: Kind::Config {
            category: "allow_sites".into(),
            declared: Some(declared.clone()),
        },
        by: Some(tr.get("dashboard-by-config")),
        since: None,
    }));
    pages::Allows::Rows(all.iter().map(|a| row(tr, a)).collect())
}

fn row(tr: Tr, a: &allows::Allow) -> pages::AllowRow {
    let bedtime = |scope: &Scope| match scope {
        Scope::Categories => "no",
        Scope::AlsoBedtime => "yes",
    };
    let (ends, revoke) = match &a.kind {
        Kind::Temporary { until, scope } => (
            tr.args(
                "dashboard-ends-until",
                &[("time", &local_time(*until)), ("bedtime", bedtime(scope))],
            ),
            Some(("temporary", *scope == Scope::AlsoBedtime)),
        ),
        Kind::Permanent { scope } => (
            tr.with("dashboard-ends-always", "bedtime", bedtime(scope)),
            Some(("permanent", *scope == Scope::AlsoBedtime)),
        ),
        Kind::Config { category, declared } => (
            tr.args(
                "dashboard-ends-config",
                &[
                    ("category", category),
                    (
                        "file",
                        &declared
                            .clone()
                            .unwrap_or_else(|| tr.get("dashboard-main-config")),
                    ),
                ],
            ),
            None,
        ),
    };
    debug_assert_eq!(revoke.is_some(), a.kind.revocable());
    pages::AllowRow {
        profile: a.profile.clone(),
        name: a.name.clone(),
        ends,
        by: a
            .by
            .clone()
            .unwrap_or_else(|| tr.get("dashboard-by-unknown")),
        since: a.since.map(local_time).unwrap_or_default(),
        revoke: revoke.map(|(kind, bedtime)| pages::Revoke { kind, bedtime }),
    }
}

/// The Revoke button's form.
#[derive(Deserialize)]
pub(super) struct RevokeForm {
    pub csrf: String,
    pub kind: String,
    pub profile: String,
    pub name: String,
    /// Present for an allow that also held at bedtime.
    pub bedtime: Option<String>,
}

/// What revoking took away.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Revoked {
    /// Nothing: it had ended or was revoked already.
    Nothing,
    /// A temporary allow: what holds now is to be re-read.
    Temporary,
    /// A permanent one: the rules are to be reloaded.
    Permanent,
}

/// Takes the allow the form names out of the state folder (atomically).
pub(super) fn revoke(
    state_dir: &Path,
    engine: &Engine,
    form: &RevokeForm,
) -> Result<Revoked, String> {
    // A profile the rules know: the name is part of a file's path.
    if engine.profile_index(&form.profile).is_none() {
        return Err(format!("no profile `{}`", form.profile));
    }
    let found = |gone: bool, kind: Revoked| if gone { kind } else { Revoked::Nothing };
    match form.kind.as_str() {
        "temporary" => overrides::remove(
            &crate::state::layout::temporary_allows(state_dir),
            &form.name,
            Some(&form.profile),
        )
        .map(|n| found(n > 0, Revoked::Temporary)),
        "permanent" => allows::remove_permanent(
            state_dir,
            &form.profile,
            &form.name,
            Scope::of(form.bedtime.is_some()),
        )
        .map(|gone| found(gone, Revoked::Permanent)),
        other => Err(format!("unknown kind of allow `{other}`")),
    }
}
