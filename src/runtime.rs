//! How the commands find the running daemon: its pid and its state folder.
//!
//! The state folder normally comes from the config (`state::dir`). But the
//! config can be broken (an edit with a syntax error, which is exactly when a
//! parent runs `nestguard status`), or changed since the daemon started
//! (`[state] dir` takes effect at a restart). So the daemon, at start, writes
//! a small runtime record naming its config file, its state folder and its
//! pid, keyed by the config file's canonical path, into the runtime folder:
//! `$RUNTIME_DIRECTORY` (systemd's `RuntimeDirectory=`), else
//! `/run/nestguard` when run as root, else `$XDG_RUNTIME_DIR/nestguard`. It is
//! removed at a clean stop.
//!
//! [`state_dir`] is the one lookup every command uses: the record of a
//! running daemon for this config first; then the config; then, if the
//! config does not load, a stale record or a lenient scan of the broken file
//! for `[state] dir`; and otherwise an error that says so. Never another
//! daemon's folder: records are keyed by config file, and a broken config is
//! never replaced by the default.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigError, ConfigSource};

/// Most records looked at when pruning a runtime folder.
const MAX_RECORDS: usize = 1000;

/// What a running daemon says about itself.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub pid: u32,
    /// The config file, canonical.
    pub config: PathBuf,
    pub state_dir: PathBuf,
}

/// The runtime folders looked in, the one written to first.
pub fn dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(d) = crate::state::systemd_dir("RUNTIME_DIRECTORY") {
        out.push(d);
    }
    if cfg!(unix) {
        out.push(PathBuf::from("/run/nestguard"));
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        out.push(PathBuf::from(d).join("nestguard"));
    }
    out.dedup();
    out
}

/// Where this process writes its record.
fn write_dir() -> Option<PathBuf> {
    if std::env::var_os("RUNTIME_DIRECTORY").is_some() || crate::state::is_root() {
        return dirs().into_iter().next();
    }
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d).join("nestguard"))
}

fn file_name(config: &Path) -> String {
    let canonical = std::fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf());
    let hash = xxhash_rust::xxh3::xxh3_64(canonical.as_os_str().as_encoded_bytes());
    format!("daemon-{hash:016x}.toml")
}

/// The daemon's record; removed by [`Registration::remove`] at a clean stop.
pub struct Registration {
    path: PathBuf,
}

impl Registration {
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Writes the record of this daemon (run with `config` and `state_dir`).
/// Records of daemons that are gone are removed on the way. A daemon that
/// cannot write one still runs; commands then go by the config.
pub fn register(config: &Path, state_dir: &Path) -> Option<Registration> {
    let dir = write_dir()?;
    let record = Record {
        pid: std::process::id(),
        config: std::fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf()),
        state_dir: std::path::absolute(state_dir).unwrap_or_else(|_| state_dir.to_path_buf()),
    };
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        prune(&dir);
        let text = toml::to_string(&record).map_err(std::io::Error::other)?;
        let body = format!(
            "# Written by the running nestguard daemon; read by `nestguard status`.\n\n{text}"
        );
        let path = dir.join(file_name(config));
        crate::state::write_atomic(&path, body.as_bytes()).map(|()| path)
    });
    match written {
        Ok(path) => Some(Registration { path }),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot write the runtime record; `nestguard status` goes by the config");
            None
        }
    }
}

/// Removes the records of daemons that are no longer running.
fn prune(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(Result::ok).take(MAX_RECORDS) {
        let p = e.path();
        if let Some(r) = read(&p)
            && crate::status::alive(r.pid) == Some(false)
        {
            let _ = std::fs::remove_file(&p);
        }
    }
}

fn read(path: &Path) -> Option<Record> {
    let text = std::fs::read_to_string(path).ok()?;
    toml::from_str(&text).ok()
}

/// The record for `config`, a running daemon's first.
pub fn lookup(config: &Path) -> Option<Record> {
    let name = file_name(config);
    let canonical = std::fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf());
    let mut found: Vec<Record> = dirs()
        .iter()
        .filter_map(|d| read(&d.join(&name)))
        .filter(|r| r.config == canonical)
        .collect();
    found.sort_by_key(|r| crate::status::alive(r.pid) != Some(true));
    found.into_iter().next()
}

/// How the state folder was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum How {
    /// From the record of the daemon running with this config.
    Running { pid: u32 },
    /// From the config.
    Config,
    /// The config does not load: from the record a daemon with this config
    /// left (it is not running now).
    Recorded { pid: u32 },
    /// The config does not load: `[state] dir`, read leniently from it.
    Scanned,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub dir: PathBuf,
    pub how: How,
}

/// The pid of the daemon running with the state folder `found`: from its
/// runtime record, else from the `status.toml` a daemon run with the
/// built-in config (which has no record) keeps there.
pub fn running_pid(found: &Located) -> Option<u32> {
    match found.how {
        How::Running { pid } => Some(pid),
        _ => crate::status::read(&found.dir)
            .ok()
            .filter(|s| s.stopped.is_none() && crate::status::alive(s.pid) == Some(true))
            .map(|s| s.pid),
    }
}

/// The state folder of the daemon run with `source`, given what loading the
/// config gave (see the module documentation for the order).
pub fn state_dir(
    source: &ConfigSource,
    loaded: Result<&Config, &ConfigError>,
) -> Result<Located, String> {
    let record = match source {
        ConfigSource::File(p) => lookup(p),
        ConfigSource::Embedded => None,
    };
    if let Some(r) = &record
        && crate::status::alive(r.pid) == Some(true)
    {
        return Ok(Located {
            dir: r.state_dir.clone(),
            how: How::Running { pid: r.pid },
        });
    }
    let error = match loaded {
        Ok(config) => {
            return Ok(Located {
                dir: crate::state::dir(config),
                how: How::Config,
            });
        }
        Err(e) => e,
    };
    if let Some(r) = record {
        return Ok(Located {
            dir: r.state_dir,
            how: How::Recorded { pid: r.pid },
        });
    }
    if let ConfigSource::File(p) = source
        && let Some(dir) = scan_state_dir(p)
    {
        return Ok(Located {
            dir,
            how: How::Scanned,
        });
    }
    Err(format!(
        "cannot tell which state folder the daemon uses: {source} does not load ({error}), it names no [state] dir that can be read, and no running daemon has a record for it in {}",
        dirs()
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(" or ")
    ))
}

/// `[state] dir` of a config file that does not parse as a whole: a line
/// `dir = "…"` (or `'…'`) in the `[state]` table. Strings with escapes are
/// not guessed at.
pub fn scan_state_dir(path: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(path).ok()?;
    let dir = scan(&text)?;
    Some(match path.parent() {
        Some(base) if dir.is_relative() => base.join(dir),
        _ => dir,
    })
}

fn scan(text: &str) -> Option<PathBuf> {
    let mut in_state = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let header = line.split('#').next().unwrap_or("").trim();
            in_state = header == "[state]";
            continue;
        }
        if !in_state {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "dir" {
            continue;
        }
        let value = value.trim();
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let rest = &value[1..];
        let end = rest.find(quote)?;
        let s = &rest[..end];
        if s.is_empty() || (quote == '"' && s.contains('\\')) {
            return None;
        }
        return Some(PathBuf::from(s));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_reads_state_dir_from_a_broken_file() {
        let text = "[server]\nlisten = [\n[state] # here\ndir = \"/var/lib/x\" # c\n[log]\n";
        assert_eq!(scan(text), Some(PathBuf::from("/var/lib/x")));
        assert_eq!(scan("[state]\ndir = 'rel'\n"), Some(PathBuf::from("rel")));
        assert_eq!(scan("[other]\ndir = \"/no\"\n"), None);
        assert_eq!(scan("[state]\ndir = \"C:\\\\x\"\n"), None);
        assert_eq!(scan("dir = \"/top\"\n"), None);
    }
}
