//! The integration tests, one binary (one link of the daemon, SQLite, axum
//! and rustls instead of one per file), a module per area. Each starts the
//! real daemon on loopback with real sockets, files and peers (`support`).
//! Tests that change or measure something process-wide have binaries of
//! their own: `alloc_free` (its allocator counts), `descriptor_limits` (the
//! open-file limit), `private_files` (the umask), and `admin_defences`,
//! `dns_limits` and `hostile_packets` (they bound the process's memory, which
//! other tests in one process would grow).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests say what failed by panicking

#[path = "../support/mod.rs"]
mod support;

mod activity;
mod admin;
mod admin_reload;
mod block_page;
mod check;
mod children;
mod cli;
mod clients;
mod dashboard_browser;
mod dashboard_words;
mod desktop_notice;
mod encrypted_upstreams;
mod exam;
mod fake_upstream;
mod fleet;
mod fleet_bundles;
mod forwarders;
mod fuzz_regressions;
mod hardening;
mod openwrt;
mod parents;
mod per_user;
mod profiles;
mod promises;
mod quality;
mod reload;
mod resolver;
mod rules_reference;
mod rules_shipped;
mod service_minutes;
mod services;
mod services_catalogue;
mod services_panel;
mod shared_lists;
mod update;
mod watching;
mod wire;
mod words;
mod writable_sources;
