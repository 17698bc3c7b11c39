//! nestguard: an on-device parental safety DNS filter.
//!
//! The binary (`src/main.rs`) is a thin command line ([`cli`]) over this
//! library. The modules are layered, and dependencies point one way (see
//! `docs/architecture.md`): the wire format and the clock; the configuration
//! ([`config`]) and the state folder ([`state`]); the rules ([`rules`]); who
//! is asking and which profile applies ([`policy`], [`engine`]); what holds now
//! and what is counted ([`live`], [`activity`]); the query pipeline, cache and
//! upstreams ([`dns`]); serving and control ([`admin`], [`reload`], [`status`]);
//! and the daemon itself ([`app`]).

pub mod activity;
pub mod admin;
pub mod app;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod dns;
pub mod download;
pub mod engine;
pub mod explain;
pub mod fleet;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod live;
pub mod log_every;
pub mod mac;
pub mod notice;
pub mod observe;
pub mod openwrt;
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
mod terminal;
pub mod trust;
pub mod update;
pub mod words;
