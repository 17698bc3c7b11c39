//! Shared helpers for integration tests: `mod support;` then use
//! [`FakeUpstream`], [`TestCa`], [`TempDir`] and the `client` functions.
#![allow(dead_code, unused_imports)]

pub mod cli;
pub mod client;
pub mod daemon;
pub mod http;
pub mod pipelined;
pub mod tls;
pub mod upstream;

pub use cli::stdout_of;
pub use client::{
    QueryOpts, a_records, aaaa_records, ede, min_answer_ttl, query_from, query_tcp, query_tcp_with,
    query_udp, query_udp_with, send_raw_tcp, send_raw_udp, tcp_pipeline, time_until,
};
pub use daemon::{
    TestDaemon, advance_past, bounded_wait, clock_today, manual_env, manual_env_with_neighbours,
    test_config, test_config_text, udp_upstream,
};
pub use tls::{TempDir, TestCa};
pub use upstream::FakeUpstream;

/// Whether the tests run as root (some tests create users or change ownership).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}
