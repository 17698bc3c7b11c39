//! Building the daemon from a config, running it, and stopping it cleanly.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use arc_swap::ArcSwap;

use crate::clock;
use crate::config::Config;
use crate::dns::cache::{Cache, TtlPolicy};
use crate::dns::resolve::Resolver;
use crate::dns::server::{self, ServeContext};
use crate::dns::upstream::{Upstream, Upstreams};
use crate::engine::Engine;
use crate::schedule::{LocalClock, SystemClock};

/// How long shutdown waits for answers in flight (the service manager's patience is longer).
const DRAIN_TIMEOUT: Duration = Duration::from_millis(1500);
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// How often schedules are re-evaluated: a window opens at most this late.
const SCHEDULE_INTERVAL: Duration = Duration::from_secs(5);

/// A running daemon. Dropping it does not stop it; call [`Daemon::shutdown`].
pub struct Daemon {
    /// The addresses actually bound (with the real port when the config said 0).
    pub addrs: Vec<SocketAddr>,
    pub resolver: Arc<Resolver>,
    clock: Arc<dyn LocalClock>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

/// Builds the resolver (cache and upstreams) a config describes.
pub fn build_resolver(config: &Config) -> anyhow::Result<Resolver> {
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
    };
    let payload = *config.server.max_udp_payload.get_ref();
    let upstreams = config
        .upstreams
        .iter()
        .map(|u| Upstream::from_config(u.get_ref()).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let engine = Engine::build(config)?;
    tracing::info!(
        domain_rules = engine.rules.domain_rules(),
        keywords = engine.rules.keyword_count(),
        regexes = engine.rules.regex_count(),
        "rules compiled"
    );
    Ok(Resolver::new(
        Arc::new(ArcSwap::from_pointee(engine)),
        Cache::new(c.max_entries, policy),
        Upstreams::new(upstreams, payload),
        payload,
    ))
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
        Daemon::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Like [`Daemon::start`], with local time from `clock` (tests set it by hand).
    pub async fn start_with_clock(
        config: &Config,
        clock: Arc<dyn LocalClock>,
    ) -> anyhow::Result<Daemon> {
        let resolver = Arc::new(build_resolver(config)?);
        refresh_schedule(&resolver, clock.as_ref());
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let ctx = ServeContext {
            resolver: resolver.clone(),
            shutdown: shutdown.clone(),
            tasks: tasks.clone(),
            inflight: Arc::new(Semaphore::new(config.server.max_inflight.max(1))),
            tcp_clients: Arc::new(Semaphore::new(config.server.max_tcp_clients.max(1))),
            idle_timeout: config.server.tcp_idle_timeout,
        };
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
            tasks.spawn(server::serve_udp(Arc::new(udp), ctx.clone()));
            tasks.spawn(server::serve_tcp(tcp, ctx.clone()));
        }
        if addrs.is_empty() {
            anyhow::bail!("no listen address could be bound");
        }
        let sweeper = resolver.clone();
        let stop = shutdown.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_INTERVAL);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tick.tick() => {
                        let dropped = sweeper.cache().sweep(clock::now_secs());
                        tracing::trace!(dropped, "cache sweep");
                    }
                }
            }
        });
        let (ticker, ticker_clock, stop) = (resolver.clone(), clock.clone(), shutdown.clone());
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(SCHEDULE_INTERVAL);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tick.tick() => refresh_schedule(&ticker, ticker_clock.as_ref()),
                }
            }
        });
        Ok(Daemon {
            addrs,
            resolver,
            clock,
            shutdown,
            tasks,
        })
    }

    /// Re-evaluates the schedules now (the daemon also does it every few seconds).
    pub fn refresh_schedule(&self) {
        refresh_schedule(&self.resolver, self.clock.as_ref());
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
    }
}

fn refresh_schedule(resolver: &Resolver, clock: &dyn LocalClock) {
    let active = resolver.engine().load().active_windows(clock.now());
    resolver.set_active_windows(active);
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let daemon = Daemon::start(&config).await?;
    for addr in &daemon.addrs {
        tracing::info!(%addr, "listening (UDP and TCP)");
    }
    for up in daemon.resolver.upstreams().iter() {
        tracing::info!(upstream = %up, "upstream");
    }
    wait_for_signal().await?;
    tracing::info!("shutting down");
    daemon.shutdown().await;
    Ok(())
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
