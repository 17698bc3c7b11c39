//! Shared helpers for integration tests: `mod support;` then use
//! [`FakeUpstream`], [`TestCa`], [`TempDir`] and the `client` functions.
#![allow(dead_code, unused_imports)]

pub mod cli;
pub mod client;
pub mod daemon;
pub mod http;
pub mod tls;
pub mod upstream;

pub use client::{
    QueryOpts, a_records, aaaa_records, ede, min_answer_ttl, query_from, query_tcp, query_tcp_with,
    query_udp, query_udp_with, send_raw_tcp, send_raw_udp, tcp_pipeline,
};
pub use daemon::{TestDaemon, test_config, udp_upstream};
pub use tls::{TempDir, TestCa};
pub use upstream::FakeUpstream;
