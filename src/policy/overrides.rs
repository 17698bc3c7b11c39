//! Temporary allows: `nestguard allow NAME --profile P --for 1h`.
//!
//! A parent lifts a block for one profile for a while ("the homework site is
//! on a gaming domain"); it ends by itself. Allows are kept in
//! `overrides.toml` in the state directory, written atomically by the
//! command, and read by the daemon every second, so they survive restarts
//! and reloads. The daemon compiles the ones in force into [`TempAllows`];
//! an allow covers the name and its subdomains and lifts what the profile's
//! categories, keywords and safe search do to it (categories a schedule adds
//! included), but not security lists (malware, scams) or the anti-bypass
//! canaries. Bedtime and other allow-only windows stay in force unless the
//! parent said "also during bedtime" ([`Scope::AlsoBedtime`]): a parent who
//! unblocks a game site for the afternoon does not expect it to open bedtime.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::rules::name::{Candidate, normalize};

/// One temporary allow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TempAllow {
    pub name: String,
    pub profile: String,
    pub until: Timestamp,
    /// Also reachable while an allow-only window (bedtime) is open.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bedtime: bool,
    /// Who made it: a parent's name, or `cli (user NAME)`; none in files
    /// written before this was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
}

/// What an allow lifts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Category, keyword and safe-search blocks; allow-only windows stay.
    Categories,
    /// That, and allow-only windows (bedtime) too.
    AlsoBedtime,
}

impl Scope {
    pub fn of(bedtime: bool) -> Scope {
        if bedtime {
            Scope::AlsoBedtime
        } else {
            Scope::Categories
        }
    }

    /// What a parent is told the allow does.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::Categories => {
                "category blocks lifted; bedtime and other allow-only windows still apply"
            }
            Scope::AlsoBedtime => {
                "category blocks lifted, also during bedtime and other allow-only windows"
            }
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverridesFile {
    #[serde(default, rename = "allow")]
    allows: Vec<TempAllow>,
}

/// The allows in the file (none when it does not exist).
pub fn load(path: &Path) -> Result<Vec<TempAllow>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn parse(text: &str) -> Result<Vec<TempAllow>, String> {
    toml::from_str::<OverridesFile>(text)
        .map(|f| f.allows)
        .map_err(|e| e.to_string())
}

fn save(path: &Path, allows: &[TempAllow]) -> io::Result<()> {
    let file = OverridesFile {
        allows: allows.to_vec(),
    };
    let body = toml::to_string(&file).map_err(io::Error::other)?;
    let text = format!(
        "# Temporary allows, written by `nestguard allow`; each ends at `until` (UTC).\n\n{body}"
    );
    crate::state::write_atomic(path, text.as_bytes())
}

/// Adds (or extends) an allow of `name` for `profile` until `until`, dropping
/// allows that have ended. Returns the normalised name.
pub fn add(
    path: &Path,
    name: &str,
    profile: &str,
    until: Timestamp,
    now: Timestamp,
) -> Result<String, String> {
    add_scoped(path, name, profile, until, now, Scope::Categories, None)
}

/// [`add`], saying whether the allow also holds during allow-only windows,
/// and who made it (kept with the allow, made `now`).
pub fn add_scoped(
    path: &Path,
    name: &str,
    profile: &str,
    until: Timestamp,
    now: Timestamp,
    scope: Scope,
    by: Option<&str>,
) -> Result<String, String> {
    let name = normalize(name).map_err(|e| format!("`{name}`: {e}"))?;
    let mut allows = load(path)?;
    allows.retain(|a| a.until > now && !(a.name == name && a.profile == profile));
    allows.push(TempAllow {
        name: name.clone(),
        profile: profile.to_owned(),
        until,
        bedtime: scope == Scope::AlsoBedtime,
        by: by.map(str::to_owned),
        since: by.map(|_| now),
    });
    save(path, &allows).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(name)
}

/// Ends the allows of `name` (for one profile, or all); returns how many ended.
pub fn remove(path: &Path, name: &str, profile: Option<&str>) -> Result<usize, String> {
    let name = normalize(name).map_err(|e| format!("`{name}`: {e}"))?;
    let mut allows = load(path)?;
    let before = allows.len();
    allows.retain(|a| !(a.name == name && profile.is_none_or(|p| a.profile == p)));
    let removed = before - allows.len();
    if removed > 0 {
        save(path, &allows).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(removed)
}

/// The allows in force, as the query path reads them.
#[derive(Default, Debug)]
pub struct TempAllows {
    /// Name → (bit p set: allowed for profile p, bit p set: also at bedtime).
    names: HashMap<Box<[u8]>, (u64, u64)>,
}

impl TempAllows {
    /// The allows of `entries` still in force at `now`, for the profiles `index` knows.
    pub fn compile(
        entries: &[TempAllow],
        now: Timestamp,
        index: impl Fn(&str) -> Option<usize>,
    ) -> TempAllows {
        let mut names: HashMap<Box<[u8]>, (u64, u64)> = HashMap::new();
        for a in entries.iter().filter(|a| a.until > now) {
            if let Some(p) = index(&a.profile).filter(|&p| p < 64) {
                let bits = names.entry(a.name.as_bytes().into()).or_default();
                bits.0 |= 1 << p;
                if a.bedtime {
                    bits.1 |= 1 << p;
                }
            }
        }
        TempAllows { names }
    }

    /// Whether `name` or a parent of it is allowed for `profile`. Allocates nothing.
    pub fn allows(&self, name: &Candidate, profile: usize) -> bool {
        self.scope(name, profile).is_some()
    }

    /// What the allows of `name` (or a parent of it) lift for `profile`: the
    /// widest of them. Allocates nothing.
    pub fn scope(&self, name: &Candidate, profile: usize) -> Option<Scope> {
        if self.names.is_empty() || profile >= 64 {
            return None;
        }
        let bit = 1u64 << profile;
        let mut found = None;
        for i in 0..name.label_count() {
            if let Some(&(any, bedtime)) = self.names.get(name.suffix(i)) {
                if bedtime & bit != 0 {
                    return Some(Scope::AlsoBedtime);
                }
                if any & bit != 0 {
                    found = Some(Scope::Categories);
                }
            }
        }
        found
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Re-reads the overrides file when its content changes (the daemon polls it).
pub type Watch = super::watch::Watch<Vec<TempAllow>>;

/// The watch on the temporary-allows file at `path`.
pub fn watch(path: PathBuf) -> Watch {
    Watch::new(path, "temporary allows", parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn add_list_expire_remove() {
        let dir = std::env::temp_dir().join(format!("nestguard-ovr-{}", std::process::id()));
        let file = crate::state::layout::temporary_allows(&dir);
        let now = ts("2026-11-23T15:00:00Z");
        let hour = ts("2026-11-23T16:00:00Z");
        assert_eq!(
            add(&file, "Games.Example.", "child", hour, now).unwrap(),
            "games.example"
        );
        add(
            &file,
            "other.example",
            "teen",
            ts("2026-11-23T15:30:00Z"),
            now,
        )
        .unwrap();
        // Extending replaces, it does not duplicate.
        add(&file, "games.example", "child", hour, now).unwrap();
        let all = load(&file).unwrap();
        assert_eq!(all.len(), 2);

        let index = |p: &str| ["teen", "child"].iter().position(|x| *x == p);
        let live = TempAllows::compile(&all, now, index);
        let name = Candidate::from_text("www.games.example").unwrap();
        assert!(live.allows(&name, 1));
        assert!(!live.allows(&name, 0), "another profile");
        assert!(!live.allows(&Candidate::from_text("games.example.org").unwrap(), 1));
        // At the end time it is over.
        let later = TempAllows::compile(&all, hour, index);
        assert!(!later.allows(&name, 1));
        assert!(later.is_empty());

        // Ended allows are dropped on the next write.
        add(
            &file,
            "x.example",
            "child",
            ts("2026-11-23T18:00:00Z"),
            hour,
        )
        .unwrap();
        assert_eq!(load(&file).unwrap().len(), 1);
        assert_eq!(remove(&file, "x.example", None).unwrap(), 1);
        assert!(load(&file).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_broken_file_keeps_the_last_good_allows() {
        let dir = std::env::temp_dir().join(format!("nestguard-ovw-{}", std::process::id()));
        let file = crate::state::layout::temporary_allows(&dir);
        let mut watch = watch(file.clone());
        assert!(watch.poll().is_empty());
        add(
            &file,
            "a.example",
            "child",
            ts("2030-01-01T00:00:00Z"),
            ts("2026-01-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(watch.poll().len(), 1);
        std::fs::write(&file, "[[allow]]\nname = 3\n").unwrap();
        assert_eq!(watch.poll().len(), 1);
        assert!(load(&file).unwrap_err().contains("line 2"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
