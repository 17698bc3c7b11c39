//! The allows in force, from every source, as a parent sees them: the
//! temporary ones (`overrides.toml`: the dashboard's "for an hour",
//! `nestguard allow`), the permanent ones the dashboard writes (the state
//! folder's `allow/<profile>.txt`, and `<profile>.bedtime.txt` for those
//! that hold at bedtime too), and the config's own allow lists
//! (`[[rules.list]] allow = true`), which only the config file can change.
//!
//! A permanent allow is one line of its file, with a comment line above it
//! saying who added it and when (`# added by mum at 2026-12-03T13:00:00Z`),
//! so the file stays a plain list the rules compiler reads and a parent can
//! edit; a line without that comment (written by hand, or before it was kept)
//! is listed with who and when unknown.

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::overrides::{self, Scope};
use crate::config::ListConfig;

/// One allow in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allow {
    pub profile: String,
    /// The name allowed (with its subdomains); for a config list, its path.
    pub name: String,
    pub kind: Kind,
    /// Who made it, when known.
    pub by: Option<String>,
    /// When it was made, when known.
    pub since: Option<Timestamp>,
}

/// Where an allow comes from, which says how it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Ends by itself at `until`.
    Temporary { until: Timestamp, scope: Scope },
    /// Holds until revoked.
    Permanent { scope: Scope },
    /// A `[[rules.list]] allow = true` list for a category the profile
    /// blocks; `declared` is where the config names it (`file:line`).
    Config {
        category: String,
        declared: Option<String>,
    },
}

impl Kind {
    /// Whether a parent can revoke it from the dashboard (config lists are
    /// changed in the config file).
    pub fn revocable(&self) -> bool {
        !matches!(self, Kind::Config { .. })
    }
}

const ADDED_BY: &str = "# added by ";
const AT: &str = " at ";

/// The file of `profile`'s permanent allows of this scope.
pub fn permanent_file(state_dir: &Path, profile: &str, scope: Scope) -> PathBuf {
    let suffix = match scope {
        Scope::Categories => ".txt",
        Scope::AlsoBedtime => ".bedtime.txt",
    };
    crate::state::layout::profile_allows_dir(state_dir).join(format!("{profile}{suffix}"))
}

/// Adds `name` (normalised) to `profile`'s permanent allows, saying who and
/// when; written atomically. Nothing changes when it is there already.
pub fn add_permanent(
    state_dir: &Path,
    profile: &str,
    name: &str,
    scope: Scope,
    by: &str,
    at: Timestamp,
) -> Result<(), String> {
    let file = permanent_file(state_dir, profile, scope);
    let mut text = std::fs::read_to_string(&file).unwrap_or_else(|_| {
        format!("# Sites the parents allowed for profile {profile} (written by the dashboard).\n")
    });
    if text.lines().any(|l| l.trim() == name) {
        return Ok(());
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{ADDED_BY}{by}{AT}{at}\n{name}\n"));
    crate::state::write_private(&file, text.as_bytes())
        .map_err(|e| format!("{}: {e}", file.display()))
}

/// Removes `name` (and the comment saying who added it) from `profile`'s
/// permanent allows of this scope, atomically; whether it was there.
pub fn remove_permanent(
    state_dir: &Path,
    profile: &str,
    name: &str,
    scope: Scope,
) -> Result<bool, String> {
    let file = permanent_file(state_dir, profile, scope);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(format!("{}: {e}", file.display())),
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    let mut found = false;
    for line in lines {
        if line.trim() == name {
            found = true;
            if kept.last().is_some_and(|l| l.starts_with(ADDED_BY)) {
                kept.pop();
            }
            continue;
        }
        kept.push(line);
    }
    if found {
        let mut out = kept.join("\n");
        out.push('\n');
        crate::state::write_private(&file, out.as_bytes())
            .map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(found)
}

/// The names in a permanent-allow file, with who added each and when.
fn read_permanent(file: &Path) -> Vec<(String, Option<String>, Option<Timestamp>)> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut added: Option<(String, Option<Timestamp>)> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix(ADDED_BY) {
            added = Some(match rest.rsplit_once(AT) {
                Some((by, at)) => (by.to_string(), at.parse().ok()),
                None => (rest.to_string(), None),
            });
            continue;
        }
        if line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let (by, since) = added.take().map_or((None, None), |(b, s)| (Some(b), s));
        out.push((line.to_string(), by, since));
    }
    out
}

/// The temporary and permanent allows of `profiles` in force at `now`,
/// temporary first, each by profile in the order given. A temporary-allow
/// file that cannot be read is an error (the dashboard says so).
pub fn in_force(state_dir: &Path, profiles: &[&str], now: Timestamp) -> Result<Vec<Allow>, String> {
    let temporary = overrides::load(&crate::state::layout::temporary_allows(state_dir))?;
    let mut out = Vec::new();
    for profile in profiles {
        for a in temporary
            .iter()
            .filter(|a| a.until > now && a.profile == *profile)
        {
            out.push(Allow {
                profile: a.profile.clone(),
                name: a.name.clone(),
                kind: Kind::Temporary {
                    until: a.until,
                    scope: Scope::of(a.bedtime),
                },
                by: a.by.clone(),
                since: a.since,
            });
        }
        for scope in [Scope::Categories, Scope::AlsoBedtime] {
            for (name, by, since) in read_permanent(&permanent_file(state_dir, profile, scope)) {
                out.push(Allow {
                    profile: profile.to_string(),
                    name,
                    kind: Kind::Permanent { scope },
                    by,
                    since,
                });
            }
        }
    }
    Ok(out)
}

/// The config's allow lists, one row per profile that blocks the list's
/// category (`blocks(profile, category)`): what they lift is theirs.
pub fn config_lists(
    lists: &[ListConfig],
    profiles: &[&str],
    blocks: impl Fn(&str, &str) -> bool,
) -> Vec<Allow> {
    let mut out = Vec::new();
    for profile in profiles {
        for list in lists
            .iter()
            .filter(|l| l.allow && blocks(profile, &l.category))
        {
            out.push(Allow {
                profile: profile.to_string(),
                name: list.path.display().to_string(),
                kind: Kind::Config {
                    category: list.category.clone(),
                    declared: list
                        .declared
                        .as_ref()
                        .map(|p| format!("{}:{}", p.origin, p.line)),
                },
                by: None,
                since: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_allows_keep_who_and_when_and_revoke_cleanly() {
        let dir = std::env::temp_dir().join(format!("nestguard-allows-{}", std::process::id()));
        let at: Timestamp = "2026-12-03T13:00:00Z".parse().unwrap();
        add_permanent(&dir, "child", "games.example", Scope::Categories, "mum", at).unwrap();
        add_permanent(&dir, "child", "maps.example", Scope::Categories, "dad", at).unwrap();
        add_permanent(&dir, "child", "games.example", Scope::Categories, "dad", at).unwrap();
        // Written by hand: listed, who unknown.
        let file = permanent_file(&dir, "child", Scope::Categories);
        let mut text = std::fs::read_to_string(&file).unwrap();
        text.push_str("# homework\nschool.example\n");
        std::fs::write(&file, text).unwrap();
        let all = in_force(&dir, &["child", "teen"], at).unwrap();
        let shown: Vec<_> = all
            .iter()
            .map(|a| (a.name.as_str(), a.by.as_deref(), a.since))
            .collect();
        assert_eq!(
            shown,
            [
                ("games.example", Some("mum"), Some(at)),
                ("maps.example", Some("dad"), Some(at)),
                ("school.example", None, None),
            ]
        );
        assert!(remove_permanent(&dir, "child", "games.example", Scope::Categories).unwrap());
        assert!(!remove_permanent(&dir, "child", "games.example", Scope::Categories).unwrap());
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("mum") && text.contains("by dad"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
