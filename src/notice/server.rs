//! The daemon's side of desktop notices: a Unix socket any local user may
//! connect to, where each connection is told only of the blocks of its own
//! uid (the kernel's `SO_PEERCRED` for the connection, not anything the
//! client says), and the task that takes blocks off the query path's ring,
//! drops the silent ones, gathers bursts per user and words them.
//!
//! Rate: a user's first block waits `[notify] gather` for the rest of its
//! burst and goes out as one notice ("… and 39 more sites"); after that,
//! at most one notice per `[notify] every`, summing up what was blocked
//! meanwhile.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::queue::{Blocked, Queue};
use super::wire::Notice;
use crate::config::{Config, NotifyConfig};
use crate::dns::resolve::Resolver;
use crate::engine::{Decision, Engine};
use crate::log_every::LogEvery;

/// Agents connected at once, at most; more are turned away (counted).
pub const MAX_AGENTS: usize = 64;
/// Notices waiting to be written to one agent; more are dropped (counted).
const AGENT_BACKLOG: usize = 8;
/// How often the ring is emptied: the most a block waits before its burst
/// starts gathering.
const TICK: Duration = Duration::from_millis(100);

/// The running notice service (see [`start`]).
pub struct Notices {
    pub queue: Arc<Queue>,
    pub socket: PathBuf,
}

type AgentList = Arc<Mutex<Vec<Agent>>>;

struct Agent {
    id: u64,
    uid: u32,
    send: mpsc::Sender<Arc<str>>,
}

fn agents_of(list: &AgentList) -> std::sync::MutexGuard<'_, Vec<Agent>> {
    list.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Opens the socket and starts the notice task when `[notify] enabled`.
/// `dashboard` says where the child page is now (for the notice's link).
pub fn start(
    config: &Config,
    resolver: Arc<Resolver>,
    dashboard: Arc<dyn Fn() -> Option<SocketAddr> + Send + Sync>,
    stop: CancellationToken,
    tasks: &TaskTracker,
) -> anyhow::Result<Option<Notices>> {
    let n = &config.notify;
    if !n.enabled {
        return Ok(None);
    }
    let listener = bind(&n.socket)?;
    tracing::info!(socket = %n.socket.display(), "desktop notices: agents may connect");
    let queue = resolver.notices().clone();
    let drops_logged = LogEvery::new(resolver.clock());
    let agents: AgentList = Arc::default();
    tasks.spawn(accept(
        listener,
        agents.clone(),
        queue.clone(),
        resolver.clock().clone(),
        stop.clone(),
        tasks.clone(),
    ));
    tasks.spawn(gather(
        Gatherer {
            settings: Settings::of(n),
            resolver,
            dashboard,
            agents,
            pending: BTreeMap::new(),
            drops_seen: 0,
            drops_logged,
        },
        stop,
    ));
    Ok(Some(Notices {
        queue,
        socket: n.socket.clone(),
    }))
}

/// The socket, in place of a stale one a previous run left (never in place
/// of anything else), open to every local user: what each is told is
/// decided by its uid.
fn bind(path: &Path) -> anyhow::Result<UnixListener> {
    use std::os::unix::fs::FileTypeExt as _;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        anyhow::ensure!(
            meta.file_type().is_socket(),
            "[notify] socket {} exists and is not a socket",
            path.display()
        );
        std::fs::remove_file(path)
            .with_context(|| format!("cannot remove the old socket {}", path.display()))?;
    }
    let listener = UnixListener::bind(path)
        .with_context(|| format!("cannot open the notice socket {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))
        .with_context(|| format!("cannot open {} to the desktop users", path.display()))?;
    Ok(listener)
}

async fn accept(
    listener: UnixListener,
    agents: AgentList,
    queue: Arc<Queue>,
    clock: crate::clock::Clock,
    stop: CancellationToken,
    tasks: TaskTracker,
) {
    let refused_log = LogEvery::new(&clock);
    let error_log = LogEvery::new(&clock);
    let mut next_id = 0u64;
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                if let Some(times) = error_log.hit() {
                    tracing::warn!(error = %e, times, "desktop notices: cannot accept an agent");
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
                }
            }
        };
        let Ok(cred) = stream.peer_cred() else {
            continue;
        };
        let (send, recv) = mpsc::channel(AGENT_BACKLOG);
        {
            let mut list = agents_of(&agents);
            if list.len() >= MAX_AGENTS {
                queue
                    .counters
                    .agents_refused
                    .fetch_add(1, Ordering::Relaxed);
                if let Some(times) = refused_log.hit() {
                    tracing::warn!(
                        max = MAX_AGENTS,
                        times,
                        "desktop notices: too many agents connected; one more turned away"
                    );
                }
                continue;
            }
            next_id += 1;
            list.push(Agent {
                id: next_id,
                uid: cred.uid(),
                send,
            });
        }
        queue.agent_connected();
        tracing::debug!(uid = cred.uid(), "desktop notices: an agent connected");
        let (agents, queue, stop, id) = (agents.clone(), queue.clone(), stop.clone(), next_id);
        tasks.spawn(async move {
            serve_agent(stream, recv, stop).await;
            agents_of(&agents).retain(|a| a.id != id);
            queue.agent_gone();
        });
    }
}

/// Writes the agent's notices until it hangs up (or writes to us: agents
/// only listen) or the daemon stops.
async fn serve_agent(
    stream: UnixStream,
    mut recv: mpsc::Receiver<Arc<str>>,
    stop: CancellationToken,
) {
    let (mut read, mut write) = stream.into_split();
    let mut byte = [0u8; 1];
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = read.read(&mut byte) => return,
            line = recv.recv() => {
                let Some(line) = line else { return };
                let written = tokio::time::timeout(Duration::from_secs(5), write.write_all(line.as_bytes())).await;
                if !matches!(written, Ok(Ok(()))) {
                    return;
                }
            }
        }
    }
}

/// `[notify]` as the notice task uses it.
struct Settings {
    gather: Duration,
    every: Duration,
    silent_categories: BTreeSet<String>,
    during_bedtime: bool,
}

impl Settings {
    fn of(n: &NotifyConfig) -> Settings {
        Settings {
            gather: n.gather,
            every: n.every,
            silent_categories: n
                .silent_categories
                .iter()
                .map(|c| c.get_ref().clone())
                .collect(),
            during_bedtime: n.during_bedtime,
        }
    }

    /// Whether this block gives no notice.
    fn silent(&self, engine: &Engine, decision: Decision) -> bool {
        match decision {
            Decision::Block(o) => engine
                .rules
                .category(o.category)
                .is_some_and(|c| self.silent_categories.contains(&c.id)),
            Decision::Scheduled(_) | Decision::Paused => !self.during_bedtime,
            _ => true,
        }
    }
}

/// One user's blocks not yet told.
struct Pending {
    first: Blocked,
    names: BTreeSet<String>,
    since: u64,
}

/// A user's notices: what is waiting, and when the last went out.
#[derive(Default)]
struct PerUser {
    pending: Option<Pending>,
    last_sent: Option<u64>,
}

struct Gatherer {
    settings: Settings,
    resolver: Arc<Resolver>,
    dashboard: Arc<dyn Fn() -> Option<SocketAddr> + Send + Sync>,
    agents: AgentList,
    pending: BTreeMap<u32, PerUser>,
    /// Drops by a limit, as last seen, and their log line (once per interval).
    drops_seen: u64,
    drops_logged: LogEvery,
}

/// Names kept per pending notice, at most (the rest are only counted).
const MAX_NAMES: usize = 1000;

async fn gather(mut g: Gatherer, stop: CancellationToken) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => g.round(),
        }
    }
}

impl Gatherer {
    /// Takes in what the ring holds and sends what is due.
    fn round(&mut self) {
        let engine = self.resolver.engine();
        let now = self.resolver.clock().now_millis();
        let listening: BTreeSet<u32> = agents_of(&self.agents).iter().map(|a| a.uid).collect();
        let queue = self.resolver.notices().clone();
        while let Some(b) = queue.pop() {
            if !listening.contains(&b.uid) {
                continue;
            }
            if self.settings.silent(&engine, b.decision) {
                queue.counters.silent.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let user = self.pending.entry(b.uid).or_default();
            let p = user.pending.get_or_insert_with(|| Pending {
                first: b,
                names: BTreeSet::new(),
                since: now,
            });
            if p.names.len() < MAX_NAMES {
                p.names.insert(b.name());
            }
        }
        self.pending.retain(|uid, _| listening.contains(uid));
        let gather = millis(self.settings.gather);
        let every = millis(self.settings.every);
        let mut due = Vec::new();
        for (uid, user) in &mut self.pending {
            let Some(p) = &user.pending else { continue };
            let gathered = now.saturating_sub(p.since) >= gather;
            let rested = user
                .last_sent
                .is_none_or(|at| now.saturating_sub(at) >= every);
            if gathered
                && rested
                && let Some(p) = user.pending.take()
            {
                user.last_sent = Some(now);
                due.push((*uid, p));
            }
        }
        self.log_drops(&queue);
        let link = (self.dashboard)();
        for (uid, p) in due {
            let notice = words(&engine, &p.first, p.names.len().saturating_sub(1), link);
            self.send(uid, &notice);
        }
    }

    /// Says (once per interval) that blocks or notices were dropped by a limit.
    fn log_drops(&mut self, queue: &Queue) {
        let drops = queue.dropped() + queue.counters.agent_backlog_full.load(Ordering::Relaxed);
        if drops > self.drops_seen {
            self.drops_seen = drops;
            if let Some(times) = self.drops_logged.hit() {
                tracing::warn!(
                    times,
                    "desktop notices: blocks came faster than they could be told; some gave no notice (nestguard_notices_dropped in /metrics)"
                );
            }
        }
    }

    fn send(&self, uid: u32, notice: &Notice) {
        let Ok(mut line) = serde_json::to_string(notice) else {
            return;
        };
        line.push('\n');
        let line: Arc<str> = line.into();
        let counters = &self.resolver.notices().counters;
        for a in agents_of(&self.agents).iter().filter(|a| a.uid == uid) {
            match a.send.try_send(line.clone()) {
                Ok(()) => counters.sent.fetch_add(1, Ordering::Relaxed),
                Err(_) => counters.agent_backlog_full.fetch_add(1, Ordering::Relaxed),
            };
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The notice for a burst: the first site blocked, why (the child page's
/// words, [`crate::admin::notice_words`]), how many more were blocked with
/// it, and the child page's link (`dashboard`: where it listens).
pub fn words(
    engine: &Engine,
    first: &Blocked,
    more: usize,
    dashboard: Option<SocketAddr>,
) -> Notice {
    let name = first.name();
    // The child's own language (`[[child]] language`), else English.
    let lang = engine
        .child_of(first.profile)
        .and_then(|c| c.language.as_deref())
        .and_then(crate::words::Lang::parse)
        .unwrap_or(crate::words::Lang::En);
    let why = crate::admin::notice_words(engine, first.profile, first.decision, lang)
        .map(|w| w.notice().1)
        .unwrap_or_else(|| "Your family's filter blocked it.".to_string());
    let body = match more {
        0 => why,
        1 => format!("{why}\n\nOne more site was blocked too."),
        n => format!("{why}\n\n{n} more sites were blocked too."),
    };
    Notice {
        title: format!("{name} is blocked"),
        body,
        url: dashboard.map(|addr| child_page_url(addr, &name)),
    }
}

/// The child page for `name` on the dashboard at `addr` (an unspecified
/// address is this machine's loopback, where the agent runs).
fn child_page_url(addr: SocketAddr, name: &str) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!(
        "http://{}/blocked?name={name}",
        SocketAddr::new(ip, addr.port())
    )
}

#[cfg(test)]
mod tests {
    use super::child_page_url;

    #[test]
    fn the_link_points_at_this_machine() {
        assert_eq!(
            child_page_url("0.0.0.0:8053".parse().unwrap(), "a.example"),
            "http://127.0.0.1:8053/blocked?name=a.example"
        );
        assert_eq!(
            child_page_url("[::]:8053".parse().unwrap(), "a.example"),
            "http://[::1]:8053/blocked?name=a.example"
        );
        assert_eq!(
            child_page_url("192.168.1.2:80".parse().unwrap(), "a.example"),
            "http://192.168.1.2:80/blocked?name=a.example"
        );
    }
}
