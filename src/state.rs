//! The state directory: which folder it is ([`dir`]), what is in it
//! ([`layout`]: activity, temporary and permanent allows, downloaded lists,
//! status), and how files in it are written (private, atomically).
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

/// The first folder of a systemd directory variable (`STATE_DIRECTORY`,
/// `RUNTIME_DIRECTORY`): systemd may pass several, colon-separated; the
/// first is ours.
pub fn systemd_dir(var: &str) -> Option<PathBuf> {
    let d = std::env::var_os(var)?;
    let first = d
        .to_string_lossy()
        .split(':')
        .next()
        .unwrap_or("")
        .to_owned();
    (!first.is_empty()).then(|| PathBuf::from(first))
}

pub fn dir(config: &Config) -> PathBuf {
    if let Some(d) = &config.state.dir {
        return d.clone();
    }
    if let Some(d) = systemd_dir("STATE_DIRECTORY") {
        return d;
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

/// The state folder's layout: every file and folder the daemon keeps in it
/// is named here and nowhere else.
pub mod layout {
    use std::path::{Path, PathBuf};

    /// Activity counts and protection events (SQLite, with its -wal and -shm).
    pub fn activity_db(state_dir: &Path) -> PathBuf {
        state_dir.join("activity.sqlite")
    }

    /// Temporary allows (`nestguard allow`, the dashboard's "allow for an hour").
    pub fn temporary_allows(state_dir: &Path) -> PathBuf {
        state_dir.join("overrides.toml")
    }

    /// Pauses (`nestguard pause`, the dashboard's pause button).
    pub fn pauses(state_dir: &Path) -> PathBuf {
        state_dir.join("pauses.toml")
    }

    /// Active minutes of each daily budget (kept by the daemon).
    pub fn budgets(state_dir: &Path) -> PathBuf {
        state_dir.join("budgets.toml")
    }

    /// Extra time on daily budgets (`nestguard grant`, the dashboard).
    pub fn grants(state_dir: &Path) -> PathBuf {
        state_dir.join("grants.toml")
    }

    /// Exam mode (`nestguard exam`): the exam in force and the teacher's overrides.
    pub fn exam(state_dir: &Path) -> PathBuf {
        state_dir.join("exam.toml")
    }

    /// Devices the dashboard gave to children.
    pub fn devices(state_dir: &Path) -> PathBuf {
        state_dir.join("devices.toml")
    }

    /// The age band each child is in (see `policy::children`).
    pub fn child_bands(state_dir: &Path) -> PathBuf {
        state_dir.join("children.toml")
    }

    /// Service rules a parent set on the dashboard (see `policy::service_rules`).
    pub fn service_rules(state_dir: &Path) -> PathBuf {
        state_dir.join("services.toml")
    }

    /// What the running daemon says of itself, for `nestguard status`.
    pub fn status_file(state_dir: &Path) -> PathBuf {
        state_dir.join("status.toml")
    }

    /// Downloaded subscription lists (`<slug>.txt`, `<slug>.meta.toml`).
    pub fn lists_dir(state_dir: &Path) -> PathBuf {
        state_dir.join("lists")
    }

    /// Each profile's permanent allows from the dashboard (`<profile>.txt`,
    /// `<profile>.bedtime.txt`).
    pub fn profile_allows_dir(state_dir: &Path) -> PathBuf {
        state_dir.join("allow")
    }

    /// Fleet bundles (`fleet`): each unpacked into `v<version>/` (its
    /// `conf.d/`, `lists/` and `version`), `current` a symlink to the one in
    /// force, `record.toml` the failures counted.
    pub fn fleet_dir(state_dir: &Path) -> PathBuf {
        state_dir.join("fleet")
    }

    /// The symlink to the bundle in force.
    pub fn fleet_current(state_dir: &Path) -> PathBuf {
        fleet_dir(state_dir).join("current")
    }

    /// The bundle in force: the folder `current` points at, resolved once
    /// so that a config is read from one bundle even if a new one is
    /// swapped in meanwhile. `None` before the first bundle.
    pub fn fleet_bundle_in_force(state_dir: &Path) -> Option<PathBuf> {
        std::fs::canonicalize(fleet_current(state_dir))
            .ok()
            .filter(|p| p.is_dir())
    }

    /// What `nestguard update` and the daemon counted of bundles refused.
    pub fn fleet_record(state_dir: &Path) -> PathBuf {
        fleet_dir(state_dir).join("record.toml")
    }

    /// The record of `nestguard system-resolver enable`, in the system state
    /// folder under `root` (`/` outside tests and image builders).
    pub fn system_resolver_record(root: &Path) -> PathBuf {
        root.join(super::SYSTEM_STATE_DIR.trim_start_matches('/'))
            .join("system-resolver.toml")
    }
}

/// The system state folder on Linux and other Unixes.
const SYSTEM_STATE_DIR: &str = "/var/lib/nestguard";

/// The daemon's state directory on this platform when run as a system
/// service: `/var/lib/nestguard` on Linux, `/Library/Application
/// Support/nestguard/state` on macOS, `%ProgramData%\nestguard\state` on Windows.
pub fn system_state_dir() -> Option<PathBuf> {
    if cfg!(target_os = "macos") || cfg!(windows) {
        crate::config::system_dir().map(|d| d.join("state"))
    } else {
        Some(PathBuf::from(SYSTEM_STATE_DIR))
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

/// Makes `dir` the private folder the state folder must be: created 0700
/// when missing, and, when it is ours, tightened to 0700 with everything in
/// it (and in its folders, `lists/` and `allow/`) 0600/0700, whatever the
/// umask or an older version left. What a family does online is nobody
/// else's business on a shared machine.
pub fn ensure_private(dir: &Path) -> io::Result<()> {
    create_private_dir(dir)?;
    tighten(dir, 2);
    Ok(())
}

/// Creates `dir` (and missing parents) with mode 0700.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir)
}

/// Removes group and other permissions from `path` and, `depth` levels down,
/// what it holds; only entries this process owns (root's are root's).
fn tighten(path: &Path, depth: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let Ok(meta) = fs::symlink_metadata(path) else {
            return;
        };
        if meta.file_type().is_symlink() || euid().is_some_and(|me| meta.uid() != me) {
            return;
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o077 != 0 {
            let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode & !0o077));
        }
        if meta.is_dir() && depth > 0 {
            for e in fs::read_dir(path).into_iter().flatten().flatten() {
                tighten(&e.path(), depth - 1);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, depth);
}

#[cfg(target_os = "linux")]
fn euid() -> Option<u32> {
    Some(nix::unistd::geteuid().as_raw())
}

#[cfg(not(target_os = "linux"))]
fn euid() -> Option<u32> {
    None
}

/// Whether `dir` lets nobody but its owner in (a new file there is made 0600).
fn is_private(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        false
    }
}

/// [`write_atomic`] for the state folder: the folder is created 0700 if
/// missing and the file is 0600, whatever it was before.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    write_with(path, bytes, Mode::Private)
}

/// Replaces `path` with `bytes` so that a crash at any moment leaves either the
/// old file or the new one: write a temp file beside it, fsync, rename over,
/// fsync the directory. A replaced file keeps its mode and owner; a new one
/// is 0600 in a private folder (the state folder) and 0644 elsewhere (a
/// resolver drop-in others must read). The temp file is 0600 while written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, bytes, Mode::Keep)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// An existing file's mode and owner; a new one's from its folder.
    Keep,
    /// 0600.
    Private,
}

fn write_with(path: &Path, bytes: &[u8], mode: Mode) -> io::Result<()> {
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
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        // A leftover temp file of an earlier crash keeps its mode: set it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        match (mode, fs::metadata(path)) {
            (Mode::Private, _) => {}
            // A replaced file keeps its mode and owner (a config that is
            // `0640 root:nestguard` must stay so).
            (Mode::Keep, Ok(meta)) => {
                fs::set_permissions(&tmp, meta.permissions())?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::MetadataExt;
                    std::os::unix::fs::chown(&tmp, Some(meta.uid()), Some(meta.gid()))?;
                }
            }
            (Mode::Keep, Err(_)) =>
            {
                #[cfg(unix)]
                if !is_private(parent) {
                    use std::os::unix::fs::PermissionsExt;
                    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644))?;
                }
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

/// Creates `path` empty with mode 0600 if it does not exist (so that SQLite,
/// which gives its WAL and shared-memory files the database's mode, makes
/// them private too), and tightens it to 0600 if it is ours and looser.
///
/// An existing file is not opened: closing a descriptor of a file drops
/// every POSIX lock this process holds on it, SQLite's included. A database
/// whose locks a daemon lost looks unused to a command (`nestguard allow`
/// writing the audit trail), which then checkpoints and deletes the WAL
/// under the daemon's open connections (disk I/O errors from then on).
pub fn create_private_file(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path).is_ok() {
        tighten(path, 0);
        return Ok(());
    }
    let mut options = fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?;
    tighten(path, 0);
    Ok(())
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
