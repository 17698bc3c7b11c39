//! Hot reload: the config, `conf.d/` and every rule file in use are watched;
//! a change (or SIGHUP) compiles a new engine off the query path and swaps it
//! in atomically. Queries in flight finish on the engine they started with.
//!
//! What a reload keeps safe:
//! - A config that does not parse, a rule file that cannot be read or parsed,
//!   or an edit that adds rejected lines to a list is refused: the previous
//!   engine keeps serving, and the error (`file:line:column: reason`) is
//!   logged and shown by `nestguard status`.
//! - A file that disappears (an editor's delete-and-recreate, a rename into
//!   place, a mistake) is looked for again for half a second (`sources`); if
//!   it stays missing the reload fails and the previous engine keeps serving
//!   with every rule it had, until the file returns.
//! - A change seen by the watcher that makes a local block or keyword list
//!   lose rules (a save still being written: emptied, cut at a line end, or a
//!   list dropped from the config) is held back: the last good rules serve
//!   until the files have been unchanged for `[rules] shrink_hold` (on the
//!   daemon's injected clock), or a parent confirms it with SIGHUP or
//!   `nestguard reload`. `nestguard status` says what is held and why.
//! - Run as root, a change read from a file or folder others can write is
//!   refused (`trust`) and recorded as a protection event.
//!
//! Watching is by directory, so every way of saving is seen: in-place write,
//! truncate-and-write, write-to-temp-and-rename, delete-and-recreate. Events
//! are debounced: a reload starts once the files have been quiet for
//! [`QUIET`] (at most [`MAX_DELAY`] after the first event).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::activity::events::PolicySnapshot;
use crate::config::{CONF_D, Config};
use crate::dns::resolve::Resolver;
use crate::engine::Engine;
use crate::live::LiveSource;
use crate::rules::compile::Diagnostics;
use crate::status::{self, RuleCounts, Status};

/// How long the watched files must be quiet before a reload starts. Real
/// time, not the daemon's clock: it is measured against the modification
/// times the kernel stamps on files an editor is still writing, and a test
/// cannot fast-forward the editor.
pub const QUIET: Duration = Duration::from_millis(100);
/// The longest a reload waits for quiet after the first event.
pub const MAX_DELAY: Duration = Duration::from_millis(400);
/// How often a held change is looked at again (stat calls; no recompiling).
/// Real time, as a poll of the files; whether the hold is over is judged by
/// the daemon's clock.
pub const HELD_POLL: Duration = Duration::from_millis(250);

/// What to watch for one config.
#[derive(Debug, Default, PartialEq, Eq)]
struct Watched {
    /// Files whose change means a reload.
    files: BTreeSet<PathBuf>,
    /// Directories whose entries with this extension count (`toml` in
    /// conf.d, `txt` in the downloaded lists).
    dirs: BTreeMap<PathBuf, &'static str>,
    /// A rules directory: everything below it counts.
    trees: BTreeSet<PathBuf>,
}

impl Watched {
    fn of(config: &Config) -> Watched {
        let mut w = Watched::default();
        if let Some(path) = &config.path {
            w.files.insert(path.clone());
            if let Some(dir) = path.parent() {
                w.dirs.insert(dir.join(CONF_D), "toml");
            }
        }
        for list in crate::rules::subscriptions::rules_config(config).lists {
            w.files.insert(list.path);
        }
        // A first download, or the dashboard's first allow for a profile,
        // creates its file: watch the directories for them.
        let state_dir = crate::state::dir(config);
        w.dirs
            .insert(crate::state::layout::lists_dir(&state_dir), "txt");
        w.dirs
            .insert(crate::state::layout::profile_allows_dir(&state_dir), "txt");
        // A parent confirming a child's new band.
        w.files
            .insert(crate::state::layout::child_bands(&state_dir));
        // A device given to a child from the dashboard.
        w.files.insert(crate::state::layout::devices(&state_dir));
        // Service rules set on the dashboard (or edited by hand).
        w.files
            .insert(crate::state::layout::service_rules(&state_dir));
        if let Some(dir) = &config.rules.dir {
            w.trees.insert(dir.clone());
        }
        if config.fleet.url.is_some() {
            // A new bundle is put in force by renaming a symlink over
            // `current`; the folder is watched for when it first appears.
            let fleet = crate::state::layout::fleet_dir(&state_dir);
            w.files
                .insert(crate::state::layout::fleet_current(&state_dir));
            // (No entries of it count by extension: only `current`, above.)
            w.dirs.insert(fleet, "current");
        }
        w
    }

    /// Whether an event on `path` concerns us.
    fn concerns(&self, path: &Path) -> bool {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Editors' swap and backup files.
        if name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") {
            return false;
        }
        self.files.contains(path)
            || self.dirs.contains_key(path)
            || path.parent().is_some_and(|d| {
                self.dirs
                    .get(d)
                    .is_some_and(|ext| path.extension().is_some_and(|e| e == *ext))
            })
            || self.trees.iter().any(|t| path.starts_with(t))
    }

    /// The directories to give the OS watcher: each file's parent (so renames
    /// and re-creations are seen), the parents of `dirs` (so conf.d appearing
    /// is seen) and the dirs that exist, and the trees recursively.
    fn watch_list(&self) -> Vec<(PathBuf, RecursiveMode)> {
        let mut out: HashMap<PathBuf, RecursiveMode> = HashMap::new();
        let mut add = |p: &Path, mode: RecursiveMode| {
            if p.is_dir() {
                let e = out.entry(p.to_path_buf()).or_insert(mode);
                if mode == RecursiveMode::Recursive {
                    *e = mode;
                }
            }
        };
        for f in &self.files {
            if let Some(d) = f.parent() {
                add(d, RecursiveMode::NonRecursive);
            }
        }
        for d in self.dirs.keys() {
            add(d, RecursiveMode::NonRecursive);
            if let Some(p) = d.parent() {
                add(p, RecursiveMode::NonRecursive);
            }
        }
        for t in &self.trees {
            add(t, RecursiveMode::Recursive);
        }
        let mut v: Vec<_> = out.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

/// Whether a reload was asked for by a parent (SIGHUP, `nestguard reload`,
/// the API) or started by a file that changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirmed {
    /// A parent asked: a change that loses rules is put in force at once.
    Yes,
    /// A file changed: a change that loses rules waits until the files are stable.
    No,
}

/// A file's identity and state, to tell whether it changed while a change was held.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64, i64, i64),
}

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Fingerprint {
        len: meta.len(),
        modified: meta.modified().ok(),
        #[cfg(unix)]
        inode: {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
        },
    })
}

type Fingerprints = Vec<(PathBuf, Option<Fingerprint>)>;

fn fingerprints(paths: impl IntoIterator<Item = PathBuf>) -> Fingerprints {
    let mut v: Vec<PathBuf> = paths.into_iter().collect();
    v.sort();
    v.dedup();
    v.into_iter()
        .map(|p| {
            let f = fingerprint(&p);
            (p, f)
        })
        .collect()
}

/// A change read and compiled but not put in force: a local list would lose
/// rules, and its files have not been unchanged for `shrink_hold` yet.
struct Pending {
    config: Config,
    engine: Arc<Engine>,
    /// The config files and the shrunk lists, as they were when first seen so.
    files: Fingerprints,
    /// `clock.elapsed()` when the files were first seen as they are.
    since: Duration,
    hold: Duration,
    trigger: String,
}

/// Why a reload was refused.
enum Refusal {
    /// A file or folder policy is read from can be changed by others (run as root).
    Unsafe(String),
    /// A mistake in the config or a list, a file that cannot be read.
    Invalid(String),
}

/// Rebuilds the engine on demand and records how it went.
pub struct Reloader {
    /// The config as started (used again when it did not come from a file).
    startup: Config,
    resolver: Arc<Resolver>,
    live: Arc<LiveSource>,
    state_dir: PathBuf,
    status: Mutex<Status>,
    /// Protection events: a reload that loosens filtering is one.
    events: Arc<crate::activity::events::Log>,
    watched: Mutex<Watched>,
    /// One reload at a time.
    gate: tokio::sync::Mutex<()>,
    /// Measures how long a held change's files have been stable.
    clock: crate::clock::Clock,
    pending: Mutex<Option<Pending>>,
    /// The last unsafe-files refusal recorded as an event (one event per distinct refusal).
    last_unsafe: Mutex<Option<String>>,
    /// The dashboard, told each config put in force (weak: it holds this reloader).
    admin: OnceLock<Weak<dyn FollowsConfig>>,
}

/// Something that puts each config the reloader puts in force into effect
/// too: the dashboard, for `[admin]`. A trait here, so the reloader needs
/// nothing of the dashboard's (which uses the reloader).
pub trait FollowsConfig: Send + Sync {
    /// Called once per config put in force, one reload at a time.
    fn apply<'a>(
        &'a self,
        config: &'a Config,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;
}

impl Reloader {
    pub fn new(
        startup: Config,
        resolver: Arc<Resolver>,
        live: Arc<LiveSource>,
        state_dir: PathBuf,
        events: Arc<crate::activity::events::Log>,
        clock: crate::clock::Clock,
    ) -> Reloader {
        let engine = resolver.engine();
        let status = Status {
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            started: clock.timestamp(),
            stopped: None,
            config: config_files(&startup),
            last_reload: None,
            held: None,
            reloads: Default::default(),
            rules: RuleCounts::of(&engine),
            children: status::ChildStatus::of(&engine, clock.today()),
            exam: None,
            failed: None,
            policy: status::PolicyInForce::of(&startup),
        };
        Reloader {
            watched: Mutex::new(Watched::of(&startup)),
            startup,
            resolver,
            live,
            state_dir,
            status: Mutex::new(status),
            events,
            gate: tokio::sync::Mutex::new(()),
            clock,
            pending: Mutex::new(None),
            last_unsafe: Mutex::new(None),
            admin: OnceLock::new(),
        }
    }

    /// `status.toml` says whether an exam is in force (written when that changes).
    pub fn note_exam(&self, exam: Option<status::ExamStatus>) {
        if let Ok(mut status) = self.status.lock()
            && status.exam != exam
        {
            status.exam = exam;
            status::write(&self.state_dir, &status);
        }
    }

    /// Once the daemon is serving: `status.toml` says so. Not before, so a
    /// start that fails (the port is taken by a running daemon) leaves that
    /// daemon's status alone.
    pub fn publish(&self) {
        if let Ok(mut status) = self.status.lock() {
            status.started = self.clock.timestamp();
            status::write(&self.state_dir, &status);
        }
    }

    /// From now on each config put in force is handed to the dashboard too,
    /// so `[admin]` changes (a new password, turning it on) need no restart.
    pub fn follow_admin(&self, admin: Weak<dyn FollowsConfig>) {
        let _ = self.admin.set(admin);
    }

    /// At a clean shutdown: the status says filtering stopped, and when.
    pub fn stopped(&self) {
        if let Ok(mut status) = self.status.lock() {
            status.stopped = Some(self.clock.timestamp());
            status::write(&self.state_dir, &status);
        }
    }

    /// Re-reads what holds now (temporary allows, schedules) at once.
    pub fn refresh_live(&self) {
        self.resolver.update_live(|e| self.live.live_for(e));
    }

    /// The status as last written (for the dashboard and `/metrics`).
    pub fn status(&self) -> Option<Status> {
        self.status.lock().ok().map(|s| s.clone())
    }

    /// Whether a change is held back (the watcher then rechecks it often).
    pub fn holding(&self) -> bool {
        self.pending.lock().is_ok_and(|p| p.is_some())
    }

    /// Reads the config and rules again and, if they are good, puts them in
    /// force. `trigger` says why, for the log and `nestguard status`. A parent
    /// asked for it: a change that loses rules is put in force too.
    pub async fn reload(&self, trigger: &str) -> Result<(), String> {
        self.reload_as(trigger, Confirmed::Yes).await
    }

    /// [`Reloader::reload`]; when not `confirmed`, a change that makes a local
    /// list lose rules is held back until its files have been unchanged for
    /// `[rules] shrink_hold` (the previous rules serve meanwhile).
    pub async fn reload_as(&self, trigger: &str, confirmed: Confirmed) -> Result<(), String> {
        let _one = self.gate.lock().await;
        let mut attempts = 0;
        let built = loop {
            attempts += 1;
            if confirmed == Confirmed::No {
                // This reload may have waited for another one while an editor
                // started saving again: read nothing modified in the last
                // moment, or a file caught between truncate and write is read empty.
                self.settle().await;
            }
            let watched: Vec<PathBuf> = self
                .watched
                .lock()
                .map(|w| w.files.iter().cloned().collect())
                .unwrap_or_default();
            let before = fingerprints(watched.iter().cloned());
            let built = self.build().await;
            // A file that changed while it was read may have been read half
            // written: read again once it is quiet (bounded).
            if fingerprints(watched) == before || attempts >= 5 {
                break built;
            }
            tracing::debug!(trigger, "a file changed while it was read; reading again");
        };
        let at = self.clock.timestamp();
        let (config, engine) = match built {
            Ok(x) => x,
            Err(refusal) => return self.refused(trigger, refusal, at),
        };
        let engine = Arc::new(engine);
        if confirmed == Confirmed::No {
            let old = self.resolver.engine();
            // Resolved like the bundle's own paths (`fleet_bundle_in_force`).
            let fleet = crate::state::layout::fleet_dir(&crate::state::dir(&config));
            let lost = losses(
                &old,
                &engine,
                &std::fs::canonicalize(&fleet).unwrap_or(fleet),
            );
            // A config caught mid-save (truncated, cut at a line end) parses
            // as one that lost its clients or categories: a change that makes
            // anything reachable waits like a list that lost rules.
            let loosened = PolicySnapshot::of(&engine).loosened_since(&PolicySnapshot::of(&old));
            if !lost.is_empty() || !loosened.is_empty() {
                let hold = config.rules.shrink_hold;
                let files = fingerprints(
                    config
                        .path
                        .iter()
                        .cloned()
                        .chain(config.files().map(PathBuf::from))
                        .chain(lost.iter().filter_map(|l| l.file.clone())),
                );
                let now = self.clock.elapsed();
                let mut pending = self.pending.lock().map_err(|_| "lock poisoned")?;
                // The same files as when first held: the wait goes on from then.
                let since = match pending.as_ref() {
                    Some(p) if p.files == files => p.since,
                    _ => now,
                };
                if now.saturating_sub(since) < hold {
                    let first = pending.as_ref().is_none_or(|p| p.files != files);
                    *pending = Some(Pending {
                        config,
                        engine,
                        files,
                        since,
                        hold,
                        trigger: trigger.to_string(),
                    });
                    drop(pending);
                    let reasons: Vec<String> = lost
                        .iter()
                        .map(|l| format!("{}: {} → {} rules", l.name, l.before, l.after))
                        .chain(loosened.iter().map(|l| format!("loosens filtering: {l}")))
                        .collect();
                    self.held(trigger, &reasons, hold, first, at);
                    return Ok(());
                }
            }
        }
        self.put_in_force(config, engine, trigger, at).await
    }

    /// Reads the config and compiles the rules, off the query path.
    async fn build(&self) -> Result<(Config, Engine), Refusal> {
        let path = self.startup.path.clone();
        let startup = self.startup.clone();
        let old = self.resolver.engine();
        let downloaded = crate::state::layout::lists_dir(&self.state_dir);
        let today = self.clock.today();
        tokio::task::spawn_blocking(move || {
            let config = match &path {
                Some(p) => Config::load(&crate::config::ConfigSource::File(p.clone()))
                    .map_err(|e| Refusal::Invalid(e.to_string()))?,
                None => startup,
            };
            crate::trust::check(&config).map_err(Refusal::Unsafe)?;
            let engine =
                Engine::build_on(&config, today).map_err(|e| Refusal::Invalid(format!("{e:#}")))?;
            newly_rejected(&old.diagnostics, &engine.diagnostics, &downloaded)
                .map_err(Refusal::Invalid)?;
            Ok::<_, Refusal>((config, engine))
        })
        .await
        .unwrap_or_else(|e| Err(Refusal::Invalid(format!("the reload task failed: {e}"))))
    }

    /// Waits (at most [`MAX_DELAY`] in all) until no file the config and
    /// rules are read from was modified within the last [`QUIET`].
    async fn settle(&self) {
        let files: Vec<PathBuf> = self
            .watched
            .lock()
            .map(|w| w.files.iter().cloned().collect())
            .unwrap_or_default();
        let deadline = tokio::time::Instant::now() + MAX_DELAY;
        loop {
            let now = std::time::SystemTime::now();
            let youngest = files
                .iter()
                .filter_map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
                .filter_map(|m| now.duration_since(m).ok())
                .min();
            match youngest {
                Some(age) if age < QUIET && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(QUIET - age).await;
                }
                _ => return,
            }
        }
    }

    /// While a change is held: put it in force once its files have been
    /// unchanged for the hold; read everything again if they changed.
    pub async fn recheck(&self) {
        let one = self.gate.lock().await;
        let due = {
            let Ok(mut pending) = self.pending.lock() else {
                return;
            };
            let Some(p) = pending.as_ref() else {
                return;
            };
            let now = fingerprints(p.files.iter().map(|(f, _)| f.clone()));
            if now != p.files {
                // Changed since: a fresh look (the watcher normally starts one itself).
                *pending = None;
                None
            } else if self.clock.elapsed().saturating_sub(p.since) >= p.hold {
                pending.take()
            } else {
                return;
            }
        };
        match due {
            None => {
                drop(one);
                let _ = self
                    .reload_as("held change, its files changed", Confirmed::No)
                    .await;
            }
            Some(p) => {
                let trigger = format!(
                    "{}; held until unchanged for {}",
                    p.trigger,
                    humantime::format_duration(p.hold)
                );
                let _ = self
                    .put_in_force(p.config, p.engine, &trigger, self.clock.timestamp())
                    .await;
            }
        }
    }

    fn held(
        &self,
        trigger: &str,
        reasons: &[String],
        hold: Duration,
        first: bool,
        at: jiff::Timestamp,
    ) {
        let losses = reasons.to_vec();
        if first {
            tracing::warn!(
                trigger,
                "a change makes lists lose rules or loosens filtering; the previous rules stay in force until the files are unchanged for {} (or `nestguard reload`): {}",
                humantime::format_duration(hold),
                losses.join("; ")
            );
        }
        if let Ok(mut status) = self.status.lock() {
            if first {
                status.reloads.held += 1;
            }
            let since = match &status.held {
                Some(h) if !first => h.since,
                _ => at,
            };
            status.held = Some(status::Held {
                since,
                trigger: trigger.to_string(),
                losses,
                hold: humantime::format_duration(hold).to_string(),
            });
            status::write(&self.state_dir, &status);
        }
    }

    fn refused(&self, trigger: &str, refusal: Refusal, at: jiff::Timestamp) -> Result<(), String> {
        let e = match refusal {
            Refusal::Invalid(e) => e,
            Refusal::Unsafe(e) => {
                let again = self
                    .last_unsafe
                    .lock()
                    .map(|mut last| last.replace(e.clone()).as_deref() == Some(e.as_str()))
                    .unwrap_or(false);
                if !again {
                    self.events.refused(
                        &format!("a change was refused, the filter stays as it was: {e}"),
                        at.as_second(),
                    );
                }
                if let Ok(mut status) = self.status.lock() {
                    status.reloads.unsafe_files += 1;
                }
                e
            }
        };
        let mut status = self.status.lock().map_err(|_| "status lock poisoned")?;
        status.reloads.refused += 1;
        status.last_reload = Some(status::Reload {
            at,
            trigger: trigger.to_string(),
            ok: false,
            error: Some(e.clone()),
        });
        status::write(&self.state_dir, &status);
        drop(status);
        // Logged after the status is written, so whoever reads the log sees it in the status too.
        tracing::error!(
            trigger,
            "reload refused, the previous rules stay in force: {e}"
        );
        Err(e)
    }

    /// Puts a new config and engine in force, then the config's `[admin]`.
    async fn put_in_force(
        &self,
        config: Config,
        engine: Arc<Engine>,
        trigger: &str,
        at: jiff::Timestamp,
    ) -> Result<(), String> {
        self.swap_in(&config, engine, trigger, at)?;
        if let Some(admin) = self.admin.get().and_then(Weak::upgrade) {
            admin.apply(&config).await;
        }
        Ok(())
    }

    fn swap_in(
        &self,
        config: &Config,
        engine: Arc<Engine>,
        trigger: &str,
        at: jiff::Timestamp,
    ) -> Result<(), String> {
        let mut status = self.status.lock().map_err(|_| "status lock poisoned")?;
        if let Ok(mut p) = self.pending.lock() {
            *p = None;
        }
        if let Ok(mut last) = self.last_unsafe.lock() {
            *last = None;
        }
        self.resolver
            .set_engine(engine.clone(), |e| self.live.live_for(e));
        crate::policy::children::Recorded::keep(
            &self.state_dir,
            engine.children(),
            self.clock.today(),
        );
        warn_restart_needed(&self.startup, config);
        if let Ok(mut w) = self.watched.lock() {
            *w = Watched::of(config);
        }
        status.config = config_files(config);
        status.policy = status::PolicyInForce::of(config);
        status.rules = RuleCounts::of(&engine);
        status.children = status::ChildStatus::of(&engine, self.clock.today());
        status.held = None;
        status.reloads.ok += 1;
        status.last_reload = Some(status::Reload {
            at,
            trigger: trigger.to_string(),
            ok: true,
            error: None,
        });
        status::write(&self.state_dir, &status);
        self.events.reloaded(&engine, at.as_second());
        // Logged after the status is written, so whoever reads the log sees it in the status too.
        tracing::info!(
            trigger,
            domain_rules = engine.rules.domain_rules(),
            keywords = engine.rules.keyword_count(),
            regexes = engine.rules.regex_count(),
            "reloaded"
        );
        Ok(())
    }
}

/// A local list that would lose rules.
struct Loss {
    name: String,
    file: Option<PathBuf>,
    before: usize,
    after: usize,
}

/// The local block and keyword lists (files) with fewer rules in `new` than
/// in `old`, a list gone from the config counting as empty. Allowlists are
/// left out: losing exceptions only blocks more. So are a fleet bundle's
/// lists (under `fleet`): a bundle comes whole, signed and checked, and is
/// swapped in at once, so it cannot be caught half written; each bundle's
/// lists are at paths of their own, so the old ones always look gone.
fn losses(old: &Engine, new: &Engine, fleet: &Path) -> Vec<Loss> {
    let after: HashMap<&str, usize> = new
        .diagnostics
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.rules))
        .collect();
    old.diagnostics
        .sources
        .iter()
        .filter(|s| s.file.is_some() && !s.allow)
        .filter(|s| !s.file.as_deref().is_some_and(|f| f.starts_with(fleet)))
        .filter_map(|s| {
            let now = after.get(s.name.as_str()).copied().unwrap_or(0);
            (now < s.rules).then(|| Loss {
                name: s.name.clone(),
                file: s.file.clone(),
                before: s.rules,
                after: now,
            })
        })
        .collect()
}

fn config_files(config: &Config) -> Vec<String> {
    if config.path.is_none() && config.origins.len() <= 1 {
        return vec!["<embedded default or command line>".into()];
    }
    config.files().map(String::from).collect()
}

/// An edit that makes a list lose lines to rejection is a broken edit: refuse
/// it, so a typo never silently drops rules. Downloaded lists are checked by
/// `nestguard update` before they are written, and shipped lists are fixed.
fn newly_rejected(old: &Diagnostics, new: &Diagnostics, downloaded: &Path) -> Result<(), String> {
    let before: HashMap<&str, usize> = old
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.rejected))
        .collect();
    let broken: Vec<String> = new
        .sources
        .iter()
        .filter(|s| !Path::new(&s.name).starts_with(downloaded))
        .filter(|s| s.rejected > before.get(s.name.as_str()).copied().unwrap_or(0))
        .flat_map(|s| s.rejects.iter().take(5).cloned())
        .collect();
    if broken.is_empty() {
        Ok(())
    } else {
        Err(broken.join("\n"))
    }
}

/// Listen addresses, upstreams, the cache and desktop notices are set up once, at start.
fn warn_restart_needed(startup: &Config, now: &Config) {
    let differs =
        |a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| format!("{a:?}") != format!("{b:?}");
    for (what, changed) in [
        ("[server]", differs(&startup.server, &now.server)),
        ("[[upstream]]", differs(&startup.upstreams, &now.upstreams)),
        ("[cache]", differs(&startup.cache, &now.cache)),
        ("[state]", differs(&startup.state, &now.state)),
        ("[notify]", differs(&startup.notify, &now.notify)),
    ] {
        if changed {
            tracing::warn!("{what} changed: it takes effect at the next restart");
        }
    }
}

/// The OS file watcher and SIGHUP, set up before the daemon answers its
/// first query, so no change made after start is missed.
pub struct Watch {
    reloader: Arc<Reloader>,
    watcher: Option<notify::RecommendedWatcher>,
    watching: Vec<(PathBuf, RecursiveMode)>,
    events: mpsc::UnboundedReceiver<PathBuf>,
    hup: Hangup,
}

impl Watch {
    pub fn start(reloader: Arc<Reloader>) -> Watch {
        let (tx, events) = mpsc::unbounded_channel::<PathBuf>();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            // Reads (ours included) are not changes.
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            for p in event.paths {
                let _ = tx.send(p);
            }
        });
        let watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch files; reload with SIGHUP");
                None
            }
        };
        let mut w = Watch {
            reloader,
            watcher,
            watching: Vec::new(),
            events,
            hup: hangup(),
        };
        w.rewatch();
        w
    }

    /// Points the OS watcher at what the config in force uses. Returns
    /// whether a folder is watched now that was not before.
    fn rewatch(&mut self) -> bool {
        let Some(w) = self.watcher.as_mut() else {
            return false;
        };
        let wanted = self
            .reloader
            .watched
            .lock()
            .map(|w| w.watch_list())
            .unwrap_or_default();
        if wanted == self.watching {
            return false;
        }
        let added = wanted.iter().any(|p| !self.watching.contains(p));
        for (p, _) in &self.watching {
            let _ = w.unwatch(p);
        }
        for (p, mode) in &wanted {
            if let Err(e) = w.watch(p, *mode) {
                tracing::warn!(path = %p.display(), error = %e, "cannot watch");
            }
        }
        self.watching = wanted;
        added
    }

    /// Reloads, then watches what the new config uses. A folder watched only
    /// now (a fleet's first bundle, a `conf.d/` just made) may have changed
    /// before its watch began, between the reload's read and the watch: it
    /// is read once more (bounded, as new folders can keep appearing).
    async fn reload_and_rewatch(&mut self, trigger: &str, confirmed: Confirmed) {
        let _ = self.reloader.reload_as(trigger, confirmed).await;
        for _ in 0..3 {
            if !self.rewatch() {
                break;
            }
            let _ = self
                .reloader
                .reload_as("a folder watched from now on", Confirmed::No)
                .await;
        }
    }

    /// Runs until `stop`: each burst of changes, or a SIGHUP, becomes one
    /// reload; a held change is rechecked every [`HELD_POLL`].
    pub async fn run(mut self, stop: CancellationToken) {
        let mut poll = tokio::time::interval(HELD_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let holding = self.reloader.holding();
            let (trigger, confirmed) = tokio::select! {
                _ = stop.cancelled() => break,
                _ = poll.tick(), if holding => {
                    self.reloader.recheck().await;
                    let _ = self.rewatch();
                    continue;
                }
                _ = next_hangup(&mut self.hup) => ("SIGHUP".to_string(), Confirmed::Yes),
                Some(path) = self.events.recv() => {
                    let concerns = self.reloader.watched.lock().is_ok_and(|w| w.concerns(&path));
                    if !concerns {
                        continue;
                    }
                    // Debounce: wait for quiet, bounded.
                    let deadline = tokio::time::Instant::now() + MAX_DELAY;
                    loop {
                        let quiet = tokio::time::Instant::now() + QUIET;
                        tokio::select! {
                            _ = tokio::time::sleep_until(quiet.min(deadline)) => break,
                            more = self.events.recv() => if more.is_none() { break },
                        }
                    }
                    (format!("{} changed", path.display()), Confirmed::No)
                }
            };
            self.reload_and_rewatch(&trigger, confirmed).await;
        }
    }
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = ();

#[cfg(unix)]
fn hangup() -> Hangup {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

#[cfg(not(unix))]
fn hangup() -> Hangup {}

#[cfg(unix)]
async fn next_hangup(h: &mut Hangup) {
    match h {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangup) {
    std::future::pending().await
}
