//! The fuzz targets' bodies, here so that `fuzz/` (cargo-fuzz, nightly) and
//! `tests/fuzz_regressions.rs` (every `cargo test`) run the same code on an
//! input. Test support, not part of the daemon: the oracles are assertions,
//! and a panic here is the finding.

#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod config_files;
pub mod packet;
pub mod rule_list;

pub use config_files::config_files;
pub use packet::packet;
pub use rule_list::rule_list;
