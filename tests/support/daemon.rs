//! Starts the real daemon (the library's `Daemon`, with real sockets) on an
//! ephemeral loopback port for a test.

use std::net::SocketAddr;

use nestguard::app::Daemon;
use nestguard::config::Config;

use super::upstream::FakeUpstream;

/// A running daemon; shut it down explicitly with [`TestDaemon::stop`] when a
/// test checks shutdown, otherwise the runtime ending takes it down.
pub struct TestDaemon {
    pub daemon: Daemon,
    pub addr: SocketAddr,
}

impl TestDaemon {
    /// Starts a daemon from config text; `listen` is forced to 127.0.0.1:0 unless
    /// the text has a `[server]` table of its own.
    pub async fn start(config_text: &str) -> TestDaemon {
        let text = if config_text.contains("[server]") {
            config_text.to_string()
        } else {
            format!("[server]\nlisten = [\"127.0.0.1:0\"]\n{config_text}")
        };
        let config = Config::parse(&text, "test.toml", None)
            .unwrap_or_else(|e| panic!("test config does not parse: {e}\n{text}"));
        let daemon = Daemon::start(&config).await.expect("daemon starts");
        let addr = daemon.addrs[0];
        TestDaemon { daemon, addr }
    }

    /// A daemon forwarding over UDP to `upstream`, plus `extra` config.
    pub async fn with_upstream(upstream: &FakeUpstream, extra: &str) -> TestDaemon {
        TestDaemon::start(&format!("{}\n{extra}", udp_upstream(upstream.addr(), "1s"))).await
    }

    pub async fn stop(self) {
        self.daemon.shutdown().await;
    }
}

/// An `[[upstream]]` table for a plain-DNS upstream.
pub fn udp_upstream(addr: SocketAddr, timeout: &str) -> String {
    format!("[[upstream]]\nprotocol = \"udp\"\naddress = \"{addr}\"\ntimeout = \"{timeout}\"\n")
}
