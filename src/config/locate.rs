//! Where the config file is found.
//!
//! In order: `--config PATH`, `$NESTGUARD_CONFIG`, the system file
//! (`/etc/nestguard/nestguard.toml` on Unix), the user's config directory
//! (for a trial run as a normal user), then the embedded default. A path given
//! explicitly must exist; the others are used only if they do.

use std::path::{Path, PathBuf};

use super::ConfigError;

pub const ENV_VAR: &str = "NESTGUARD_CONFIG";
pub const FILE_NAME: &str = "nestguard.toml";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    Embedded,
}

impl std::fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigSource::File(p) => write!(f, "{}", p.display()),
            ConfigSource::Embedded => f.write_str("<embedded default>"),
        }
    }
}

/// The system-wide directory for the daemon's config: `/etc/nestguard` on
/// Linux and the BSDs, `/Library/Application Support/nestguard` on macOS,
/// `%ProgramData%\nestguard` on Windows.
pub fn system_dir() -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        Some(PathBuf::from("/Library/Application Support/nestguard"))
    } else if cfg!(windows) {
        std::env::var_os("ProgramData").map(|d| PathBuf::from(d).join("nestguard"))
    } else if cfg!(unix) {
        Some(PathBuf::from("/etc/nestguard"))
    } else {
        None
    }
}

/// The system-wide config path, if this platform has one.
pub fn system_path() -> Option<PathBuf> {
    system_dir().map(|d| d.join(FILE_NAME))
}

/// The per-user config path (e.g. `~/.config/nestguard/nestguard.toml`).
pub fn user_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "nestguard").map(|d| d.config_dir().join(FILE_NAME))
}

/// Finds the config to use. `cli` is the `--config` argument.
pub fn locate(cli: Option<&Path>) -> Result<ConfigSource, ConfigError> {
    let env = std::env::var_os(ENV_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    for (explicit, what) in [(cli.map(Path::to_path_buf), "--config"), (env, ENV_VAR)] {
        if let Some(path) = explicit {
            if !path.is_file() {
                return Err(ConfigError::plain(
                    &path.display().to_string(),
                    format!("no such config file (given by {what})"),
                ));
            }
            // Absolute from here on: the file watcher reports absolute paths,
            // and a relative `--config nestguard.toml` has an empty parent.
            let path = std::path::absolute(&path).unwrap_or(path);
            return Ok(ConfigSource::File(path));
        }
    }
    Ok([system_path(), user_path()]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .map_or(ConfigSource::Embedded, ConfigSource::File))
}

/// The path as the user would look for it (relative paths from the working directory).
pub fn absolute(path: &Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
