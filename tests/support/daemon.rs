//! Starts the real daemon (the library's `Daemon`, with real sockets) on an
//! ephemeral loopback port for a test.

use std::net::SocketAddr;
use std::sync::Arc;

use nestguard::app::{Daemon, Environment};
use nestguard::clock::{Clock, LocalTime, ManualClock};
use nestguard::config::Config;

use super::tls::TempDir;
use super::upstream::FakeUpstream;

/// A running daemon; shut it down explicitly with [`TestDaemon::stop`] when a
/// test checks shutdown, otherwise the runtime ending takes it down.
pub struct TestDaemon {
    pub daemon: Daemon,
    pub addr: SocketAddr,
    /// Its state directory (temporary allows), removed when the test ends.
    pub state: TempDir,
}

/// Parses config text for a test daemon: `listen` is forced to 127.0.0.1:0
/// unless the text has a `[server]` table of its own, and the state directory
/// is `state` unless it has a `[state]` table.
pub fn test_config(config_text: &str, state: &TempDir) -> Config {
    let text = test_config_text(config_text, state);
    Config::parse(&text, "test.toml", None)
        .unwrap_or_else(|e| panic!("test config does not parse: {e}\n{text}"))
}

/// The text [`test_config`] parses: for a config file the command line
/// reads, so it finds the same state folder as the test's daemon.
pub fn test_config_text(config_text: &str, state: &TempDir) -> String {
    let mut text = if config_text.contains("[server]") {
        config_text.to_string()
    } else {
        format!("[server]\nlisten = [\"127.0.0.1:0\"]\n{config_text}")
    };
    if !text.contains("[state]") {
        text.push_str(&format!(
            "\n[state]\ndir = \"{}\"\n",
            state.path().display()
        ));
    }
    text
}

/// Polls `f` until it gives something: for work the daemon does in the
/// background (a reload after a file changed), at most 10 s of real time.
pub async fn bounded_wait<T>(f: impl Fn() -> Option<T>) -> Option<T> {
    for _ in 0..500 {
        if let Some(t) = f() {
            return Some(t);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    None
}

/// Today's date on a manual clock (the UTC date of its absolute time).
pub fn clock_today(clock: &Arc<ManualClock>) -> jiff::civil::Date {
    Clock::manual(clock.clone()).today()
}

/// A manual clock (Monday 12:00 local time, the real absolute time of now,
/// monotonic zero) and the system's environment with it: the daemon's time
/// then moves only when the test moves it.
pub fn manual_env() -> (Arc<ManualClock>, Environment) {
    let clock = Arc::new(ManualClock::new(LocalTime {
        weekday: 0,
        minute: 12 * 60,
    }));
    let env = Environment {
        clock: Clock::manual(clock.clone()),
        ..Environment::system()
    };
    (clock, env)
}

/// Moves a manual clock on by `d`, and its absolute time at least to
/// `since + d`: for something a command made at `since` to last `d` (the
/// command line reads the real clock, the daemon's stands where the test put
/// it), so it has surely ended however long the test took to get there.
pub fn advance_past(clock: &Arc<ManualClock>, since: jiff::Timestamp, d: std::time::Duration) {
    clock.advance(d);
    let due = since + jiff::SignedDuration::try_from(d).expect("a test's duration");
    if Clock::manual(clock.clone()).timestamp() < due {
        clock.set_timestamp(due);
    }
}

impl TestDaemon {
    /// Starts a daemon from config text (see [`test_config`]).
    pub async fn start(config_text: &str) -> TestDaemon {
        TestDaemon::start_in(config_text, Environment::system()).await
    }

    /// Like [`TestDaemon::start`], with a test's clock or neighbour table.
    pub async fn start_in(config_text: &str, env: Environment) -> TestDaemon {
        let state = TempDir::new();
        let config = test_config(config_text, &state);
        let daemon = Daemon::start_in(&config, env).await.expect("daemon starts");
        let addr = daemon.addrs[0];
        TestDaemon {
            daemon,
            addr,
            state,
        }
    }

    /// Like [`TestDaemon::start`], on a manual clock the test moves on (see [`manual_env`]).
    pub async fn start_manual(config_text: &str) -> (TestDaemon, Arc<ManualClock>) {
        let (clock, env) = manual_env();
        (TestDaemon::start_in(config_text, env).await, clock)
    }

    /// A daemon forwarding over UDP to `upstream`, plus `extra` config.
    pub async fn with_upstream(upstream: &FakeUpstream, extra: &str) -> TestDaemon {
        TestDaemon::start(&format!("{}\n{extra}", udp_upstream(upstream.addr(), "1s"))).await
    }

    /// What `/metrics` would show now (the DNS side; dashboard counters zero).
    pub fn metrics(&self) -> String {
        use nestguard::admin::metrics;
        let registry = metrics::registry(
            self.daemon.resolver.clone(),
            Default::default(),
            std::sync::Arc::new(|| None),
            Default::default(),
        );
        metrics::render(&registry).unwrap()
    }

    pub async fn stop(self) {
        self.daemon.shutdown().await;
    }
}

/// An `[[upstream]]` table for a plain-DNS upstream.
pub fn udp_upstream(addr: SocketAddr, timeout: &str) -> String {
    format!("[[upstream]]\nprotocol = \"udp\"\naddress = \"{addr}\"\ntimeout = \"{timeout}\"\n")
}

/// A neighbour table fixed by the test (IP → MAC), for devices matched by MAC.
pub struct FixedNeighbours(pub Vec<(std::net::IpAddr, nestguard::policy::neighbours::Mac)>);

impl nestguard::policy::neighbours::NeighbourSource for FixedNeighbours {
    fn read(&self) -> std::io::Result<Vec<(std::net::IpAddr, nestguard::policy::neighbours::Mac)>> {
        Ok(self.0.clone())
    }
}

/// A manual clock and a fixed neighbour table of `(ip, mac)` pairs.
pub fn manual_env_with_neighbours(pairs: &[(&str, &str)]) -> (Arc<ManualClock>, Environment) {
    let (clock, mut env) = manual_env();
    env.neighbours = Arc::new(FixedNeighbours(
        pairs
            .iter()
            .map(|(ip, mac)| (ip.parse().unwrap(), mac.parse().unwrap()))
            .collect(),
    ));
    (clock, env)
}
