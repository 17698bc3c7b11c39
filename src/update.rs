//! `nestguard update`: downloading the full public lists (subscriptions).
//!
//! Each configured list is fetched over HTTPS (rustls) or read from a
//! `file://` URL, with `If-None-Match` / `If-Modified-Since` from the last
//! download so an unchanged list costs one 304. A download is accepted only
//! if it is within the size limit, parses into at least `min_entries` rules
//! (and more rules than rejected lines, so an HTML error page is refused),
//! and has not shrunk by more than `max_shrink` since the last good copy (a
//! truncated download). Accepted lists are written atomically into
//! `<state>/lists/`; a refused one leaves the previous copy in place. The
//! daemon's watcher sees the new file and reloads.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::rules::SourceLocation;
use crate::rules::compile::{Builder, ListKind};
use crate::rules::subscriptions::{Subscription, configured};

/// What is remembered about the last good download of a list.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Meta {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    entries: usize,
    fetched: Option<jiff::Timestamp>,
}

/// Where the last good download of `sub` is described.
fn meta_path(sub: &Subscription, state_dir: &Path) -> PathBuf {
    crate::state::layout::lists_dir(state_dir).join(format!("{}.meta.toml", sub.slug()))
}

/// The outcome for one list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Updated { entries: usize, bytes: usize },
    NotModified,
    Refused(String),
    Failed(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Updated { entries, bytes } => {
                write!(f, "updated: {entries} entries ({bytes} bytes)")
            }
            Outcome::NotModified => write!(f, "not modified"),
            Outcome::Refused(why) => write!(f, "REFUSED, the previous copy stays: {why}"),
            Outcome::Failed(why) => write!(f, "FAILED, the previous copy stays: {why}"),
        }
    }
}

/// How downloads report progress: a bar on a terminal, or nothing.
pub trait Progress {
    fn start(&self, name: &str, total: Option<u64>);
    fn advance(&self, bytes: u64);
    fn finish(&self);
}

/// No progress shown (the daemon, or output that is not a terminal).
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// A progress bar on standard error.
pub struct Bar(indicatif::ProgressBar);

impl Bar {
    pub fn new() -> Bar {
        Bar(indicatif::ProgressBar::hidden())
    }
}

impl Default for Bar {
    fn default() -> Self {
        Bar::new()
    }
}

impl Progress for Bar {
    fn start(&self, name: &str, total: Option<u64>) {
        self.0
            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        self.0.reset();
        match total {
            Some(t) => {
                self.0.set_length(t);
                self.0.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg:32} [{bar:30}] {bytes}/{total_bytes}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
            }
            None => {
                self.0.unset_length();
                self.0.set_style(
                    indicatif::ProgressStyle::with_template("{msg:32} {bytes}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
            }
        }
        self.0.set_message(name.to_string());
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Downloads every configured list; `each` is told the outcome of each.
pub fn update_all(
    config: &Config,
    progress: &dyn Progress,
    mut each: impl FnMut(&Subscription, &Outcome),
) -> Result<Vec<(Subscription, Outcome)>, String> {
    let subs = configured(config)?;
    let state_dir = crate::state::dir(config);
    let agent = crate::download::agent(config)?;
    let mut results = Vec::new();
    for sub in subs {
        let outcome = update_one(config, &agent, &sub, &state_dir, progress);
        each(&sub, &outcome);
        results.push((sub, outcome));
    }
    Ok(results)
}

/// A fetched body, or why there is none.
enum Fetched {
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    NotModified,
}

fn update_one(
    config: &Config,
    agent: &ureq::Agent,
    sub: &Subscription,
    state_dir: &Path,
    progress: &dyn Progress,
) -> Outcome {
    let meta_path = meta_path(sub, state_dir);
    let list_path = sub.list_path(state_dir);
    let old: Meta = std::fs::read_to_string(&meta_path)
        .ok()
        .and_then(|t| toml::from_str(&t).ok())
        .filter(|m: &Meta| m.url == sub.url && list_path.exists())
        .unwrap_or_default();
    let limit = config.update.max_size_mib.saturating_mul(1 << 20);
    let fetched = if let Some(path) = sub.url.strip_prefix("file://") {
        read_local(Path::new(path), limit)
    } else if sub.url.starts_with("https://") {
        fetch(agent, sub, &old, limit, progress)
    } else {
        // The config check refuses these in [[update.list]]; a rules directory
        // of one's own may still offer one in subscriptions.toml.
        return Outcome::Failed(format!("`{}`: only https:// and file:// URLs", sub.url));
    };
    let (bytes, etag, last_modified) = match fetched {
        Ok(Fetched::NotModified) => return Outcome::NotModified,
        Ok(Fetched::Body {
            bytes,
            etag,
            last_modified,
        }) => (bytes, etag, last_modified),
        Err(Outcome::Refused(why)) => return Outcome::Refused(why),
        Err(other) => return other,
    };
    let (entries, rejected) = count_entries(&sub.name, &bytes);
    let u = &config.update;
    if entries < u.min_entries {
        return Outcome::Refused(format!(
            "{entries} entries, fewer than the minimum of {}",
            u.min_entries
        ));
    }
    if rejected > entries {
        return Outcome::Refused(format!(
            "{rejected} lines are not rules and only {entries} are: not a block list (an error page?)"
        ));
    }
    if old.entries > 0 && (entries as f64) < (old.entries as f64) * (1.0 - u.max_shrink) {
        return Outcome::Refused(format!(
            "shrank from {} to {entries} entries, more than {:.0}% (a truncated download?)",
            old.entries,
            u.max_shrink * 100.0
        ));
    }
    if let Err(e) = crate::state::write_private(&list_path, &bytes) {
        return Outcome::Failed(format!("{}: {e}", list_path.display()));
    }
    let meta = Meta {
        url: sub.url.clone(),
        etag,
        last_modified,
        entries,
        fetched: Some(jiff::Timestamp::now()),
    };
    if let Ok(text) = toml::to_string(&meta)
        && let Err(e) = crate::state::write_private(&meta_path, text.as_bytes())
    {
        return Outcome::Failed(format!("{}: {e}", meta_path.display()));
    }
    Outcome::Updated {
        entries,
        bytes: bytes.len(),
    }
}

fn read_local(path: &Path, limit: u64) -> Result<Fetched, Outcome> {
    let size = std::fs::metadata(path)
        .map_err(|e| Outcome::Failed(format!("{}: {e}", path.display())))?
        .len();
    if size > limit {
        return Err(too_big(limit));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Outcome::Failed(format!("{}: {e}", path.display())))?;
    Ok(Fetched::Body {
        bytes,
        etag: None,
        last_modified: None,
    })
}

fn too_big(limit: u64) -> Outcome {
    Outcome::Refused(format!(
        "larger than update.max_size_mib ({} MiB)",
        limit >> 20
    ))
}

fn fetch(
    agent: &ureq::Agent,
    sub: &Subscription,
    old: &Meta,
    limit: u64,
    progress: &dyn Progress,
) -> Result<Fetched, Outcome> {
    let mut request = agent.get(&sub.url);
    if let Some(etag) = &old.etag {
        request = request.header("If-None-Match", etag);
    }
    if let Some(lm) = &old.last_modified {
        request = request.header("If-Modified-Since", lm);
    }
    let response = request
        .call()
        .map_err(|e| Outcome::Failed(format!("{}: {e}", sub.url)))?;
    let status = response.status().as_u16();
    if status == 304 {
        return Ok(Fetched::NotModified);
    }
    if status != 200 {
        return Err(Outcome::Failed(format!("{}: HTTP {status}", sub.url)));
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let (etag, last_modified) = (header("etag"), header("last-modified"));
    let total = header("content-length").and_then(|l| l.parse::<u64>().ok());
    if total.is_some_and(|t| t > limit) {
        return Err(too_big(limit));
    }
    progress.start(&sub.name, total);
    let mut reader = response.into_body().into_reader();
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let result = loop {
        match reader.read(&mut chunk) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                bytes.extend_from_slice(&chunk[..n]);
                progress.advance(n as u64);
                if bytes.len() as u64 > limit {
                    break Err(too_big(limit));
                }
            }
            Err(e) => break Err(Outcome::Failed(format!("{}: {e}", sub.url))),
        }
    };
    progress.finish();
    result.map(|()| Fetched::Body {
        bytes,
        etag,
        last_modified,
    })
}

/// Rules and rejected lines in a downloaded list, by the same parser the engine uses.
fn count_entries(name: &str, bytes: &[u8]) -> (usize, usize) {
    let mut b = Builder::new();
    let Ok(c) = b.category("check", "") else {
        return (0, 0);
    };
    if b.add_source_at(name, SourceLocation::Unknown, bytes, c, ListKind::Block)
        .is_err()
    {
        return (0, 0);
    }
    match b.build() {
        Ok((_, d)) => (d.rules(), d.rejected()),
        Err(_) => (0, 0),
    }
}

/// The daemon's periodic updates: every `interval` plus up to `jitter`, on
/// the daemon's clock (so tests move it on by hand instead of waiting).
pub async fn run_periodically(
    config: Config,
    clock: crate::clock::Clock,
    stop: tokio_util::sync::CancellationToken,
) {
    let u = &config.update;
    let fleet = config.fleet.url.is_some();
    if u.interval.is_zero() || (!fleet && configured(&config).map_or(true, |s| s.is_empty())) {
        return;
    }
    loop {
        let jitter = if u.jitter.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_millis(rand::random_range(0..u.jitter.as_millis().max(1) as u64))
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = clock.sleep(u.interval + jitter) => {}
        }
        let c = config.clone();
        let done = tokio::task::spawn_blocking(move || {
            // The fleet's bundle first: it may change which lists there are.
            match crate::fleet::update(&c) {
                Some(o @ crate::fleet::Outcome::Refused { .. }) => {
                    tracing::warn!("fleet bundle: {o}");
                }
                Some(o) => tracing::info!("fleet bundle: {o}"),
                None => {}
            }
            update_all(&c, &Quiet, |sub, outcome| match outcome {
                Outcome::Updated { .. } | Outcome::NotModified => {
                    tracing::info!(list = %sub.name, "{outcome}");
                }
                _ => tracing::warn!(list = %sub.name, "{outcome}"),
            })
        })
        .await;
        if let Ok(Err(e)) = done {
            tracing::warn!("list update: {e}");
        }
    }
}
