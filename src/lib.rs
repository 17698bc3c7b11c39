//! nestguard: an on-device parental safety DNS filter.
//!
//! The binary (`src/main.rs`) is a thin command line over this library:
//! [`config`] reads and checks the configuration, [`app`] builds the daemon from
//! it, and [`dns`] holds the resolver, the cache, the upstream transports and
//! the listening sockets.

pub mod activity;
pub mod admin;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dns;
pub mod engine;
pub mod explain;
#[doc(hidden)]
pub mod fuzzing;
pub mod log_every;
pub mod policy;
pub mod reload;
pub mod rules;
pub mod runtime;
pub mod schedule;
pub mod service;
pub mod sources;
pub mod state;
pub mod status;
pub mod system_resolver;
pub mod trust;
pub mod update;
