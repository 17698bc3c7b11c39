//! The state directory (temporary allows now; downloaded lists and activity
//! later) and how files in it are written.
//!
//! Which directory: `[state] dir` in the config; else `$STATE_DIRECTORY`
//! (set by systemd's `StateDirectory=`); else the system state directory
//! when running as root (see [`system_state_dir`]; always on Windows); else
//! the user's state directory
//! (`~/.local/state/nestguard` on Linux). The daemon and the commands that
//! change its state (`nestguard allow`) must agree, so run both as the same
//! user (a service and `sudo nestguard allow`, or both as yourself).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::config::Config;

pub fn dir(config: &Config) -> PathBuf {
    if let Some(d) = &config.state.dir {
        return d.clone();
    }
    if let Some(d) = std::env::var_os("STATE_DIRECTORY") {
        // systemd may pass several, colon-separated; the first is ours.
        let first = d
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap_or("")
            .to_owned();
        if !first.is_empty() {
            return PathBuf::from(first);
        }
    }
    if (is_root() || cfg!(windows))
        && let Some(d) = system_state_dir()
    {
        return d;
    }
    directories::ProjectDirs::from("", "", "nestguard")
        .map(|p| {
            p.state_dir()
                .unwrap_or_else(|| p.data_local_dir())
                .to_path_buf()
        })
        .unwrap_or_else(|| PathBuf::from(".nestguard-state"))
}

/// The daemon's state directory on this platform when run as a system
/// service: `/var/lib/nestguard` on Linux, `/Library/Application
/// Support/nestguard/state` on macOS, `%ProgramData%\nestguard\state` on Windows.
pub fn system_state_dir() -> Option<PathBuf> {
    if cfg!(target_os = "macos") || cfg!(windows) {
        crate::config::system_dir().map(|d| d.join("state"))
    } else {
        Some(PathBuf::from("/var/lib/nestguard"))
    }
}

#[cfg(target_os = "linux")]
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[cfg(not(target_os = "linux"))]
pub fn is_root() -> bool {
    false
}

/// Replaces `path` with `bytes` so that a crash at any moment leaves either the
/// old file or the new one: write a temp file beside it, fsync, rename over,
/// fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(parent)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = parent.join(tmp_name);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        // A replaced file keeps its mode and owner (a config that is
        // `0640 root:nestguard` must stay so).
        if let Ok(meta) = fs::metadata(path) {
            fs::set_permissions(&tmp, meta.permissions())?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                std::os::unix::fs::chown(&tmp, Some(meta.uid()), Some(meta.gid()))?;
            }
        }
        fs::rename(&tmp, path)?;
        // The rename itself is durable only once the directory is synced.
        File::open(parent)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("nestguard-state-{}", std::process::id()));
        let path = dir.join("sub/file.toml");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.join("sub")).unwrap().collect();
        assert_eq!(names.len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
