//! Whether the files that decide what is filtered can be changed by someone
//! other than root.
//!
//! A daemon run as root filters for the whole household; whoever can write
//! one of the files it reads policy from (the config, a `conf.d/` drop-in, a
//! rule list, a parent's allow file, the temporary allows) can switch the
//! filter off. So, run as root, every such file and every folder they are
//! read from must be root's alone: owned by root, and not writable by a group
//! other than root's or by everyone. A folder counts as much as a file in it:
//! a new `conf.d/zz.toml` needs only a writable `conf.d/`.
//!
//! The folders above them are checked too (whoever can write `/etc` could
//! rename `/etc/nestguard` away and put their own in its place), with one
//! exception, as sshd's `StrictModes` and most careful daemons make: a
//! world-writable folder with the sticky bit, owned by root (`/tmp`), is
//! accepted *above* the folders policy is read from, because there nobody
//! can rename or delete an entry they do not own. The folders policy is read
//! from are never accepted sticky: there a new file is enough.
//!
//! A daemon run by a user for themselves is that user's business and is not checked.

use std::path::{Path, PathBuf};

use crate::config::{CONF_D, Config};

/// Most entries looked at under a rules directory (a shipped one has about fifty).
const MAX_TREE_ENTRIES: usize = 10_000;

/// Run as root: `Err` naming the first file or folder someone else can
/// change (and how to fix it). Not root: always `Ok`.
pub fn check(config: &Config) -> Result<(), String> {
    if !crate::state::is_root() {
        return Ok(());
    }
    check_paths(&sources(config))
}

/// Every file and folder policy is read from, for `config`.
pub fn sources(config: &Config) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    if let Some(path) = &config.path {
        out.push(path.clone());
        if let Some(dir) = path.parent() {
            out.push(dir.to_path_buf());
            let conf_d = dir.join(CONF_D);
            out.extend(crate::config::conf_d_files(&conf_d));
            out.push(conf_d);
        }
    }
    if let Some(bundle) = &config.fleet_bundle {
        // A fleet's bundle: its drop-ins and the folders they sit in (its
        // lists are the rule lists below).
        let conf_d = bundle.join(CONF_D);
        out.extend(crate::config::conf_d_files(&conf_d));
        out.push(conf_d);
        out.push(bundle.clone());
        out.extend(bundle.parent().map(Path::to_path_buf));
    }
    let rules = crate::rules::subscriptions::rules_config(config);
    if let Some(dir) = &rules.dir {
        tree(dir, &mut out);
    }
    for list in &rules.lists {
        out.push(list.path.clone());
        out.extend(list.path.parent().map(Path::to_path_buf));
    }
    let state = crate::state::dir(config);
    out.push(state.clone());
    out.push(crate::state::layout::temporary_allows(&state));
    for dir in [
        crate::state::layout::lists_dir(&state),
        crate::state::layout::profile_allows_dir(&state),
    ] {
        entries(&dir, &mut out);
        out.push(dir);
    }
    out.sort();
    out.dedup();
    out
}

fn entries(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        out.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
    }
}

/// A directory and everything below it (bounded).
fn tree(root: &Path, out: &mut Vec<PathBuf>) {
    let mut todo = vec![root.to_path_buf()];
    let mut seen = 0;
    while let Some(dir) = todo.pop() {
        out.push(dir.clone());
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.filter_map(Result::ok) {
            seen += 1;
            if seen > MAX_TREE_ENTRIES {
                return;
            }
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
}

/// Checks `paths` (each strictly) and the folders above them (a sticky
/// root-owned one accepted). A path that does not exist is checked through
/// the nearest folder above it that does: whoever can write there can create it.
pub fn check_paths(paths: &[PathBuf]) -> Result<(), String> {
    let mut above: Vec<PathBuf> = Vec::new();
    for p in paths {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
        let mut strict: &Path = &abs;
        while std::fs::metadata(strict).is_err() {
            match strict.parent() {
                Some(parent) => strict = parent,
                None => break,
            }
        }
        one(strict, false)?;
        above.extend(strict.ancestors().skip(1).map(Path::to_path_buf));
        // A symbolic link on the way: the folders of where it leads count too.
        if let Ok(real) = std::fs::canonicalize(strict) {
            one(&real, false)?;
            above.extend(real.ancestors().skip(1).map(Path::to_path_buf));
        }
    }
    above.sort();
    above.dedup();
    for dir in &above {
        one(dir, true)?;
    }
    Ok(())
}

/// One path: owned by root and writable by no one else (unless `sticky_ok`
/// and it is a sticky folder).
fn one(path: &Path, sticky_ok: bool) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(());
        };
        let mode = meta.mode();
        let others_write = mode & 0o002 != 0 || (mode & 0o020 != 0 && meta.gid() != 0);
        let sticky = meta.is_dir() && mode & 0o1000 != 0;
        if meta.uid() != 0 || (others_write && !(sticky_ok && sticky)) {
            return Err(format!(
                "{} can be changed by users other than root (owner uid {}, mode {:o}), so anyone with that access could turn the filter off; fix it with `chown root {0}` and `chmod go-w {0}`",
                path.display(),
                meta.uid(),
                mode & 0o7777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, sticky_ok);
    Ok(())
}
