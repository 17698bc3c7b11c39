//! "Pause the internet for Leo": `nestguard pause leo 30m`, the dashboard's
//! pause button, `nestguard resume leo`.
//!
//! While a child is paused, every name is blocked for them except their
//! profile's allowlist (help lines and online-safety reporting), whatever
//! the categories, allows or schedules say; it ends by itself. Pauses are
//! kept in `pauses.toml` in the state folder, written atomically by whoever
//! pauses, and read by the daemon every second (like temporary allows), so
//! they survive restarts and reloads.

use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One pause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// The child's id (`leo`), or a profile's.
    pub who: String,
    pub until: Timestamp,
    /// Who paused (`parent mum`, `cli (user root)`), for the audit trail.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PausesFile {
    #[serde(default, rename = "pause")]
    pauses: Vec<Pause>,
}

/// The pauses in the file (none when it does not exist).
pub fn load(path: &Path) -> Result<Vec<Pause>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn parse(text: &str) -> Result<Vec<Pause>, String> {
    toml::from_str::<PausesFile>(text)
        .map(|f| f.pauses)
        .map_err(|e| e.to_string())
}

fn save(path: &Path, pauses: &[Pause]) -> Result<(), String> {
    let body = toml::to_string(&PausesFile {
        pauses: pauses.to_vec(),
    })
    .map_err(|e| e.to_string())?;
    let text = format!(
        "# Pauses, written by `nestguard pause` and the dashboard; each ends at `until` (UTC).\n\n{body}"
    );
    crate::state::write_atomic(path, text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Pauses `who` until `until` (replacing a pause of theirs), dropping pauses that have ended.
pub fn pause(
    path: &Path,
    who: &str,
    until: Timestamp,
    now: Timestamp,
    by: &str,
) -> Result<(), String> {
    let mut pauses = load(path)?;
    pauses.retain(|p| p.until > now && p.who != who);
    pauses.push(Pause {
        who: who.to_string(),
        until,
        by: by.to_string(),
    });
    save(path, &pauses)
}

/// Ends `who`'s pause; returns whether one was in force.
pub fn resume(path: &Path, who: &str, now: Timestamp) -> Result<bool, String> {
    let mut pauses = load(path)?;
    let was = pauses.iter().any(|p| p.who == who && p.until > now);
    let before = pauses.len();
    pauses.retain(|p| p.until > now && p.who != who);
    if pauses.len() != before {
        save(path, &pauses)?;
    }
    Ok(was)
}

/// The pauses in force, as the query path reads them: bit p set, policy p is paused.
pub fn compile(pauses: &[Pause], now: Timestamp, index: impl Fn(&str) -> Option<usize>) -> u64 {
    pauses
        .iter()
        .filter(|p| p.until > now)
        .filter_map(|p| index(&p.who).filter(|&i| i < 64))
        .fold(0, |bits, i| bits | (1u64 << i))
}

/// Re-reads the pauses file when its content changes (the daemon polls it).
pub type Watch = super::watch::Watch<Vec<Pause>>;

/// The watch on the pauses file at `path`.
pub fn watch(path: PathBuf) -> Watch {
    Watch::new(path, "pauses", parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_resume_and_expiry() {
        let dir = std::env::temp_dir().join(format!("nestguard-pause-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pauses.toml");
        let now: Timestamp = "2026-12-03T15:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-12-03T15:30:00Z".parse().unwrap();
        pause(&file, "leo", later, now, "cli").unwrap();
        let index = |w: &str| ["mia", "leo"].iter().position(|x| *x == w);
        assert_eq!(compile(&load(&file).unwrap(), now, index), 0b10);
        assert_eq!(
            compile(&load(&file).unwrap(), later, index),
            0,
            "ends by itself"
        );
        assert!(resume(&file, "leo", now).unwrap());
        assert!(!resume(&file, "leo", now).unwrap());
        assert_eq!(compile(&load(&file).unwrap(), now, index), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
