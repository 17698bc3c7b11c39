//! Building the daemon from a config, running it, and stopping it cleanly.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::config::Config;
use crate::dns::cache::{Cache, TtlPolicy};
use crate::dns::fd_limit;
use crate::dns::resolve::Resolver;
use crate::dns::server::{self, ServeContext};
use crate::dns::upstream::{Connections, Lifecycle, Upstream, Upstreams};
use crate::engine::Engine;
use crate::live::LiveSource;
use crate::observe::Observer;
use crate::policy::SystemLookups;
use crate::policy::neighbours::{self, KernelNeighbours, NeighbourSource, Neighbours};
use crate::policy::users::{KernelOwners, OwnerSource, Owners};
use crate::reload::{self, Reloader};

/// How long shutdown waits for answers in flight (the service manager's patience is longer).
const DRAIN_TIMEOUT: Duration = Duration::from_millis(1500);
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// How often schedules and temporary allows are re-evaluated: a window opens,
/// and an allow starts or ends, at most this late.
const LIVE_INTERVAL: Duration = Duration::from_secs(1);

/// What the daemon takes from its surroundings: time, the neighbour table and
/// the socket table (who owns a loopback client's socket). Tests replace them
/// (a `clock::ManualClock` they move on by hand, a neighbour table, an owner
/// source that answers slowly).
pub struct Environment {
    /// Every time the daemon reads, and every periodic tick it waits on.
    pub clock: Clock,
    pub neighbours: Arc<dyn NeighbourSource>,
    pub owners: Arc<dyn OwnerSource>,
    /// Where the machine's DNS setup (`/etc/resolv.conf`, systemd-resolved's
    /// drop-in) is read from for `/metrics`: `/`, or a copy of one (tests).
    pub system_root: std::path::PathBuf,
}

impl Environment {
    pub fn system() -> Environment {
        Environment {
            clock: Clock::system(),
            neighbours: Arc::new(KernelNeighbours),
            owners: Arc::new(KernelOwners),
            system_root: std::path::PathBuf::from("/"),
        }
    }
}

/// A running daemon. Dropping it does not stop it; call [`Daemon::shutdown`].
pub struct Daemon {
    /// The addresses actually bound (with the real port when the config said 0).
    pub addrs: Vec<SocketAddr>,
    pub resolver: Arc<Resolver>,
    /// The admin dashboard's address when the daemon started, if `[admin]`
    /// enabled it (a reload may start, move or stop it: see [`Daemon::admin_addr_now`]).
    pub admin_addr: Option<SocketAddr>,
    admin: Arc<crate::admin::Handle>,
    live: Arc<LiveSource>,
    reloader: Arc<Reloader>,
    events: Arc<crate::activity::events::Log>,
    totals: Arc<crate::activity::Totals>,
    /// Per-user profiles defeated by a local forwarder: recorded once per run.
    noticed: Arc<crate::activity::events::Noticed>,
    /// Asks the activity writer to flush now (None when activity is off).
    flush: Option<mpsc::Sender<oneshot::Sender<()>>>,
    clock: Clock,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

/// Puts what holds now in force, and tells `status.toml` whether an exam does.
fn update_live(resolver: &Resolver, live: &LiveSource, reloader: &Reloader) {
    resolver.update_live(|e| live.live_for(e));
    let current = resolver.current();
    reloader.note_exam(crate::status::ExamStatus::of(
        &current.engine,
        &current.live.exam,
    ));
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

/// Builds the resolver (cache and upstreams) a config describes, on `clock`.
pub fn build_resolver(
    config: &Config,
    neighbours: Arc<Neighbours>,
    clock: &Clock,
) -> anyhow::Result<Resolver> {
    let observer: Arc<dyn Observer> = if config.activity.enabled {
        Arc::new(crate::activity::Recorder::default())
    } else {
        Arc::new(crate::observe::Nothing)
    };
    build_resolver_with(
        config,
        neighbours,
        Arc::new(KernelOwners),
        observer,
        clock,
        Connections::default(),
    )
}

/// [`build_resolver`], with socket owners from `owners`, decided queries
/// reported to `observer`, and the upstream connections' tasks run in `links`
/// (the daemon's lifecycle).
pub fn build_resolver_with(
    config: &Config,
    neighbours: Arc<Neighbours>,
    owners: Arc<dyn OwnerSource>,
    observer: Arc<dyn Observer>,
    clock: &Clock,
    links: Connections,
) -> anyhow::Result<Resolver> {
    let upstreams = config
        .upstreams
        .iter()
        .map(|u| Upstream::from_config(u.get_ref(), &links).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    resolver_on(
        config, upstreams, neighbours, owners, observer, clock, links,
    )
}

/// [`build_resolver_with`], asking `upstreams` instead of the config's.
pub fn resolver_on(
    config: &Config,
    upstreams: Vec<Upstream>,
    neighbours: Arc<Neighbours>,
    owners: Arc<dyn OwnerSource>,
    observer: Arc<dyn Observer>,
    clock: &Clock,
    links: Connections,
) -> anyhow::Result<Resolver> {
    let c = &config.cache;
    let policy = TtlPolicy {
        min_ttl: secs(c.min_ttl),
        max_ttl: secs(c.max_ttl),
        max_negative_ttl: secs(c.max_negative_ttl),
        stale_retention: if c.serve_stale {
            secs(c.stale_retention).max(1)
        } else {
            0
        },
        stale_answer_ttl: 30,
        stale_answer_timeout: c.stale_answer_timeout,
        prefetch: c.prefetch,
    };
    let payload = *config.server.max_udp_payload.get_ref();
    let engine = Engine::build_on(config, clock.today())?;
    tracing::info!(
        domain_rules = engine.rules.domain_rules(),
        keywords = engine.rules.keyword_count(),
        regexes = engine.rules.regex_count(),
        "rules compiled"
    );
    Ok(Resolver::new(
        engine,
        Cache::new(c.max_entries, policy, clock.clone()),
        Upstreams::new(upstreams, payload, clock, links),
        payload,
        Box::new(SystemLookups {
            neighbours,
            owners: owners.clone(),
        }),
        Owners::new(owners, clock),
        observer,
        crate::dns::limit::Gate::new(&config.server, clock),
    ))
}

/// `max_inflight` and `max_tcp_clients`, lowered (with a warning) when the
/// open-file limit cannot hold that many upstream sockets and connections.
fn fit_to_open_file_limit(server: &crate::config::ServerConfig) -> fd_limit::Fitted {
    let soft = fd_limit::soft_limit();
    let fitted = fd_limit::fit(server.max_inflight, server.max_tcp_clients, soft);
    if fitted.max_inflight < server.max_inflight || fitted.max_tcp_clients < server.max_tcp_clients
    {
        tracing::warn!(
            open_file_limit = soft.unwrap_or(0),
            max_inflight = fitted.max_inflight,
            configured_max_inflight = server.max_inflight,
            max_tcp_clients = fitted.max_tcp_clients,
            configured_max_tcp_clients = server.max_tcp_clients,
            "lowered max_inflight and max_tcp_clients to fit the open-file limit (raise LimitNOFILE to serve more at once)"
        );
    }
    fitted
}

/// Address families the host lacks are skipped with a warning (a router with IPv6
/// turned off must still start on the embedded default); any other bind error is fatal.
fn family_missing(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(code) if code == libc_eafnosupport() || code == libc_eaddrnotavail())
}

// errno values, identical on Linux and the BSDs for these two.
const fn libc_eafnosupport() -> i32 {
    if cfg!(target_os = "linux") { 97 } else { 47 }
}
const fn libc_eaddrnotavail() -> i32 {
    if cfg!(target_os = "linux") { 99 } else { 49 }
}

impl Daemon {
    /// Binds every listen address and starts serving. Must run inside a tokio runtime.
    pub async fn start(config: &Config) -> anyhow::Result<Daemon> {
        Daemon::start_in(config, Environment::system()).await
    }

    /// Like [`Daemon::start`], with time and neighbours from `env` (tests set them by hand).
    pub async fn start_in(config: &Config, env: Environment) -> anyhow::Result<Daemon> {
        let clock = env.clock.clone();
        match Daemon::start_serving(config, env).await {
            Ok(daemon) => Ok(daemon),
            Err(e) => {
                // A start that fails is a failed start, not a start followed by a crash.
                let reason = format!("{e:#}");
                let state_dir = crate::state::dir(config);
                let now = clock.timestamp();
                crate::activity::events::Log::open(&state_dir, &clock)
                    .failed_start(now.as_second(), &reason);
                crate::status::failed_start(&state_dir, now, &reason);
                Err(e)
            }
        }
    }

    async fn start_serving(config: &Config, env: Environment) -> anyhow::Result<Daemon> {
        let clock = env.clock;
        let system_root = env.system_root;
        let neighbours = Arc::new(Neighbours::new(env.neighbours));
        // Activity counts what the pipeline reports (`observe`); when each
        // client was last seen is kept here for the writer's "gone" check.
        let recorder = Arc::new(crate::activity::Recorder::default());
        let observer: Arc<dyn Observer> = if config.activity.enabled {
            recorder.clone()
        } else {
            Arc::new(crate::observe::Nothing)
        };
        // The upstream connections' tasks are the daemon's, stopped with it.
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let links = Connections::new(Lifecycle::new(shutdown.clone(), tasks.clone()));
        let resolver = Arc::new(build_resolver_with(
            config,
            neighbours.clone(),
            env.owners,
            observer,
            &clock,
            links,
        )?);
        if resolver.engine().matches_by_mac() {
            // Read once before the first query, so devices get their profile from the start.
            neighbours.refresh();
        }
        let state_dir = crate::state::dir(config);
        tracing::debug!(dir = %state_dir.display(), "state directory");
        crate::policy::children::Recorded::keep(
            &state_dir,
            resolver.engine().children(),
            clock.today(),
        );
        // Private whatever the umask: 0700, and what it holds 0600. The
        // folders the dashboard and downloads write into exist private too,
        // so their new files are made 0600.
        for dir in [
            state_dir.clone(),
            crate::state::layout::lists_dir(&state_dir),
            crate::state::layout::profile_allows_dir(&state_dir),
        ] {
            if let Err(e) = crate::state::ensure_private(&dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot make the state folder private");
            }
        }
        let live = Arc::new(LiveSource::new(clock.clone(), &state_dir));
        resolver.update_live(|e| live.live_for(e));
        let events = Arc::new(crate::activity::events::Log::open(&state_dir, &clock));
        let noticed = Arc::new(crate::activity::events::Noticed::new(
            events.clone(),
            &clock,
        ));
        let reloader = Arc::new(Reloader::new(
            config.clone(),
            resolver.clone(),
            live.clone(),
            state_dir,
            events.clone(),
            clock.clone(),
        ));
        // Before the first query: a change made right after start is seen.
        let watch = reload::Watch::start(reloader.clone());
        let ctx = ServeContext::new(
            resolver.clone(),
            &config.server,
            fit_to_open_file_limit(&config.server),
            shutdown.clone(),
            tasks.clone(),
        );
        let mut addrs = Vec::new();
        for &addr in config.server.listen.get_ref() {
            let (udp, tcp) = match server::bind_pair(addr) {
                Ok(pair) => pair,
                Err(e) if family_missing(&e) => {
                    tracing::warn!(%addr, error = %e, "address family not available here; not listening on it");
                    continue;
                }
                Err(e) => {
                    shutdown.cancel();
                    return Err(e).with_context(|| format!("cannot listen on {addr}"));
                }
            };
            let bound = udp.local_addr()?;
            addrs.push(bound);
            #[cfg(target_os = "linux")]
            crate::dns::udp_batch::spawn(udp.into_std()?, ctx.clone())?;
            #[cfg(not(target_os = "linux"))]
            tasks.spawn(server::serve_udp(Arc::new(udp), ctx.clone()));
            tasks.spawn(server::serve_tcp(tcp, ctx.clone()));
        }
        if addrs.is_empty() {
            shutdown.cancel();
            anyhow::bail!("no listen address could be bound");
        }
        let sweeper = resolver.clone();
        let stop = shutdown.clone();
        let mut tick = clock.interval(SWEEP_INTERVAL);
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tick.tick() => {
                        let dropped = sweeper.cache().sweep(sweeper.cache().now());
                        tracing::trace!(dropped, "cache sweep");
                    }
                }
            }
        });
        let (ticker, ticker_live, stop) = (resolver.clone(), live.clone(), shutdown.clone());
        let (ticker_noticed, ticker_reloader) = (noticed.clone(), reloader.clone());
        let mut birthday_tried = None;
        let mut budgets_saved = clock.minute();
        // Minutes between two saves of the budget minutes (at least one).
        let budgets_every = config
            .state
            .save_interval
            .map_or(1, |d| (d.as_secs() / 60).max(1));
        let (mut tick, ticker_clock) = (clock.interval(LIVE_INTERVAL), clock.clone());
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => {
                        let live = ticker_live.clone();
                        let _ = tokio::task::spawn_blocking(move || live.save_budgets()).await;
                        break;
                    }
                    _ = tick.tick() => {
                        ticker_clock.refresh();
                        update_live(&ticker, &ticker_live, &ticker_reloader);
                        // Budget minutes are kept once a minute, off this task.
                        if ticker_clock.minute() >= budgets_saved.saturating_add(budgets_every)
                            && !ticker.engine().budgets().is_empty()
                        {
                            budgets_saved = ticker_clock.minute();
                            let live = ticker_live.clone();
                            tokio::task::spawn_blocking(move || live.save_budgets());
                        }
                        let engine = ticker.engine();
                        ticker_noticed.check(&engine);
                        // A birthday that moves a child (or starts a wait
                        // for a parent's confirmation) has come.
                        // Tried once a day: a failing rebuild is reported by the
                        // reloader and not retried every second.
                        let today = ticker_clock.today();
                        if engine.replan_on().is_some_and(|d| today >= d)
                            && birthday_tried != Some(today)
                        {
                            birthday_tried = Some(today);
                            if let Err(e) = ticker_reloader.reload("birthday").await {
                                tracing::warn!(error = %e, "a child's birthday: the rules could not be rebuilt");
                            }
                        }
                    }
                }
            }
        });
        tasks.spawn(watch_neighbours(
            neighbours,
            resolver.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(watch.run(shutdown.clone()));
        let (heartbeat, stop, beat_clock) = (events.clone(), shutdown.clone(), clock.clone());
        // The first beat after a full period: `started` (below, once
        // everything is up) must read the last run's beat, not this one.
        let every = config
            .state
            .save_interval
            .unwrap_or(crate::activity::events::HEARTBEAT);
        let mut tick = clock.interval_at(every, every);
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tick.tick() => {
                        // SQLite may wait on a lock: not on a thread that answers queries.
                        let h = heartbeat.clone();
                        let now = beat_clock.timestamp().as_second();
                        let _ = tokio::task::spawn_blocking(move || h.heartbeat(now)).await;
                    }
                }
            }
        });
        let totals = Arc::new(crate::activity::Totals::default());
        let flush = config.activity.enabled.then(|| {
            // A few requests in flight at most: each is answered by one flush.
            let (asks, asked) = mpsc::channel(4);
            tasks.spawn(flush_activity(
                config.activity.clone(),
                crate::state::layout::activity_db(&crate::state::dir(config)),
                resolver.clone(),
                recorder.last_seen.clone(),
                totals.clone(),
                asked,
                shutdown.clone(),
            ));
            asks
        });
        tasks.spawn(crate::update::run_periodically(
            config.clone(),
            clock.clone(),
            shutdown.clone(),
        ));
        // The dashboard lists devices seen lately that no child has yet.
        let seen: Arc<dyn crate::observe::SeenClients> = if config.activity.enabled {
            recorder.last_seen.clone()
        } else {
            Arc::new(crate::observe::Nothing)
        };
        let admin = crate::admin::start(
            config,
            crate::admin::Daemonside {
                resolver: resolver.clone(),
                reloader: reloader.clone(),
                totals: totals.clone(),
                seen,
                machine: crate::admin::metrics::Machine {
                    root: system_root,
                    dns: addrs.clone(),
                },
            },
            shutdown.clone(),
            &tasks,
        )
        .await
        .context("cannot start the admin dashboard")
        .inspect_err(|_| shutdown.cancel())?;
        // Desktop notices link to the child page wherever the dashboard is now.
        let dashboard = {
            let admin = admin.clone();
            Arc::new(move || admin.addr())
        };
        crate::notice::server::start(
            config,
            resolver.clone(),
            dashboard,
            shutdown.clone(),
            &tasks,
        )
        .context("cannot start desktop notices ([notify])")
        .inspect_err(|_| shutdown.cancel())?;
        // Everything is up: only now is this a start.
        events.started(&resolver.engine(), clock.timestamp().as_second());
        reloader.publish();
        Ok(Daemon {
            addrs,
            admin_addr: admin.addr(),
            admin,
            resolver,
            live,
            reloader,
            events,
            totals,
            noticed,
            flush,
            clock,
            shutdown,
            tasks,
        })
    }

    /// Where the admin dashboard listens now, if it runs.
    pub fn admin_addr_now(&self) -> Option<SocketAddr> {
        self.admin.addr()
    }

    /// Each daily budget's state as of the last second (used, granted, left).
    pub fn budgets_now(&self) -> Vec<crate::engine::BudgetNow> {
        self.resolver.current().live.budgets.clone()
    }

    /// Where the children's block page listens now (see `admin::blockpage`).
    pub fn block_page_addrs(&self) -> Vec<SocketAddr> {
        self.admin.block_page_addrs()
    }

    /// Re-evaluates schedules and temporary allows now (the daemon also does it every second).
    pub fn refresh(&self) {
        update_live(&self.resolver, &self.live, &self.reloader);
        self.noticed.check(&self.resolver.engine());
    }

    /// Drains the activity counters and writes them to the database now, as
    /// the next flush tick would, and returns once that write was tried
    /// (tests wait on this instead of a flush interval).
    pub async fn flush_activity(&self) {
        let Some(asks) = &self.flush else {
            return;
        };
        let (done, written) = oneshot::channel();
        if asks.send(done).await.is_ok() {
            let _ = written.await;
        }
    }

    /// How many times writing activity to the database has failed (kept and retried).
    pub fn activity_write_failures(&self) -> u64 {
        self.totals
            .writer
            .write_failures
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Reloads the config and rules now, as a SIGHUP would (a change held back is put in force).
    pub async fn reload(&self) -> Result<(), String> {
        self.reloader.reload("requested").await
    }

    /// Stops accepting, lets queries in flight finish (bounded), and returns.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.tasks.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some queries were still in flight at shutdown");
        }
        // Parents see when filtering stopped, in `nestguard status` and the report.
        self.events.stopped(self.clock.timestamp().as_second());
        self.reloader.stopped();
    }
}

/// Keeps the neighbour map fresh: a full read every few seconds, and within a
/// second when a query came from an address it did not know.
async fn watch_neighbours(
    neighbours: Arc<Neighbours>,
    resolver: Arc<Resolver>,
    stop: CancellationToken,
) {
    let mut last: Option<Instant> = None;
    let mut tick = tokio::time::interval(neighbours::MISS_REFRESH);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tick.tick() => {
                // Only while some [[client]] matches by MAC (a reload may add or drop them).
                if !resolver.engine().matches_by_mac() {
                    last = None;
                    continue;
                }
                let due = last.is_none_or(|t| t.elapsed() >= neighbours::REFRESH);
                if neighbours.refresh_wanted() || due {
                    let n = neighbours.clone();
                    // A netlink dump is a blocking syscall loop.
                    let _ = tokio::task::spawn_blocking(move || n.refresh()).await;
                    last = Some(Instant::now());
                }
            }
        }
    }
}

/// Longest wait between two tries of a database that fails, in flush intervals.
const MAX_BACKOFF_INTERVALS: u32 = 8;
/// …and in time.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Writes the activity counters to the database every `flush_interval`, and
/// once more at shutdown. The tallies are drained every interval into a
/// bounded backlog (`activity::backlog`); what cannot be written (a full
/// disk, a database that cannot be opened or is locked) stays there and is
/// written by the next try that works. Tries back off (one interval, then
/// doubling up to [`MAX_BACKOFF_INTERVALS`]) and the connection is opened
/// again after a failure. SQLite runs on the blocking pool, never on the
/// threads that answer queries. The ticks and the backoff are on the
/// daemon's clock; `asked` is a flush requested now ([`Daemon::flush_activity`]),
/// answered once the write was tried.
async fn flush_activity(
    config: crate::config::ActivityConfig,
    path: std::path::PathBuf,
    resolver: Arc<Resolver>,
    last_seen: Arc<crate::activity::LastSeen>,
    totals: Arc<crate::activity::Totals>,
    mut asked: mpsc::Receiver<oneshot::Sender<()>>,
    stop: CancellationToken,
) {
    use crate::activity::backlog::Backlog;
    use crate::activity::store::Store;
    use std::sync::atomic::Ordering;
    let clock = resolver.clock().clone();
    let interval = config.flush_interval.max(Duration::from_millis(100));
    let mut tick = clock.interval_at(interval, interval);
    let mut store: Option<Store> = None;
    let mut backlog = Backlog::default();
    let mut wait = interval;
    // Between writes the drained counts wait in the backlog, in memory,
    // each batch filed under the hour it was drained in (so a flush stays
    // short: the tallies keep two hours of minutes).
    let write_every = config.write_interval.unwrap_or(Duration::ZERO);
    let mut next_try = clock.elapsed().saturating_add(write_every);
    let warned = crate::log_every::LogEvery::new(&clock);
    // The tally of an engine a reload replaced is flushed once more, for the
    // queries that were counted on it while the swap happened.
    let mut previous = resolver.current();
    loop {
        let mut done: Option<oneshot::Sender<()>> = None;
        let stopping = tokio::select! {
            _ = stop.cancelled() => true,
            _ = tick.tick() => false,
            Some(reply) = asked.recv() => {
                done = Some(reply);
                false
            }
        };
        // Asked for: written now, whatever the backoff says.
        let forced = stopping || done.is_some();
        let now = resolver.current();
        let health = &totals.writer;
        let take = |cur: &crate::dns::resolve::Current| {
            let counts: &dyn std::any::Any = &*cur.counts;
            counts
                .downcast_ref::<crate::activity::EngineCounts>()
                .map(|counts| (cur.engine.clone(), counts.tally.drain()))
        };
        let mut drained = Vec::with_capacity(2);
        if !Arc::ptr_eq(&previous.counts, &now.counts) {
            drained.extend(take(&previous));
        }
        drained.extend(take(&now));
        // The minute is read after draining: every minute bit drained was
        // set at or before it, so a bit of the other hour parity belongs to
        // the hour before. Read first, a bit set just after the hour turned
        // (a query racing the flush) would be filed two hours back.
        let minute = u64::try_from(clock.timestamp().as_second() / 60).unwrap_or(0);
        for (engine, d) in drained {
            totals.add(&d, &engine);
            backlog.push(&engine, minute, d, health);
        }
        backlog.push_gone(&now.engine, minute, last_seen.gone(minute));
        previous = now;
        if backlog.is_empty() || (!forced && clock.elapsed() < next_try) {
            if stopping {
                break;
            }
            answer(done);
            continue;
        }
        let (p, top, keep) = (path.clone(), config.top_domains, config.retention);
        let mut s = store.take();
        let mut b = std::mem::take(&mut backlog);
        let tried = tokio::task::spawn_blocking(move || {
            let r = match s.as_mut() {
                Some(st) => Ok(st),
                None => Store::open(&p, top, keep).map(|st| s.insert(st)),
            }
            .and_then(|st| st.write_backlog(&mut b, minute));
            (s, b, r)
        })
        .await;
        let Ok((s, b, result)) = tried else {
            // The task panicked: what it held is gone; start afresh.
            health.write_failures.fetch_add(1, Ordering::Relaxed);
            if stopping {
                break;
            }
            answer(done);
            continue;
        };
        backlog = b;
        health
            .pending_batches
            .store(backlog.batches.len() as u64, Ordering::Relaxed);
        match result {
            Ok(_) => {
                store = s;
                wait = interval.max(write_every);
            }
            Err(e) => {
                health.write_failures.fetch_add(1, Ordering::Relaxed);
                // Opened again next time: the file may have been replaced or repaired.
                drop(s);
                if let Some(failures) = warned.hit() {
                    tracing::warn!(
                        path = %path.display(),
                        error = %e,
                        failures,
                        pending_batches = backlog.batches.len(),
                        "cannot write activity; the counts are kept (up to {} batches) and written once it works",
                        crate::activity::backlog::MAX_BATCHES
                    );
                }
                wait = (wait * 2)
                    .min(interval * MAX_BACKOFF_INTERVALS)
                    .min(MAX_BACKOFF.max(interval));
            }
        }
        next_try = clock.elapsed().saturating_add(wait);
        answer(done);
        if stopping {
            if !backlog.is_empty() {
                tracing::warn!(
                    pending_batches = backlog.batches.len(),
                    "stopping with activity that could not be written; it is lost"
                );
            }
            break;
        }
    }
}

/// Tells whoever asked for a flush that it was tried.
fn answer(done: Option<oneshot::Sender<()>>) {
    if let Some(d) = done {
        let _ = d.send(());
    }
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    refuse_if_writable(&config)?;
    // What the service manager allows is ours to use; the limits are fitted to it in start.
    fd_limit::raise_soft_limit();
    let daemon = Daemon::start(&config).await?;
    // Commands find this daemon's state even while its config is broken.
    let registration = config
        .path
        .as_deref()
        .and_then(|p| crate::runtime::register(p, &crate::state::dir(&config)));
    for addr in &daemon.addrs {
        tracing::info!(%addr, "listening (UDP and TCP)");
    }
    for up in daemon.resolver.upstreams().iter() {
        tracing::info!(upstream = %up, "upstream");
    }
    // Listeners bound, rules compiled: units after us may start.
    crate::service::notify("READY=1\nSTATUS=answering queries");
    let watchdog = crate::service::watchdog_interval().map(|every| {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                crate::service::notify("WATCHDOG=1");
            }
        })
    });
    wait_for_signal().await?;
    tracing::info!("shutting down");
    crate::service::notify("STOPPING=1");
    if let Some(w) = watchdog {
        w.abort();
    }
    daemon.shutdown().await;
    if let Some(r) = registration {
        r.remove();
    }
    Ok(())
}

/// A child's account must not be able to change the filter: run as root,
/// the daemon does not start when a file or folder policy is read from can
/// be changed by anyone but root (see `trust`).
fn refuse_if_writable(config: &Config) -> anyhow::Result<()> {
    crate::trust::check(config).map_err(|e| anyhow::anyhow!("refusing to run as root: {e}"))
}

#[cfg(unix)]
async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot install SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot wait for SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> anyhow::Result<()> {
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")
}
