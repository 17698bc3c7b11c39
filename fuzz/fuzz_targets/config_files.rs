//! See `nestguard::fuzzing::config_files` (src/fuzzing/config_files.rs): the target's body lives
//! in the library so `tests/fuzz_regressions.rs` replays findings with it.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nestguard::fuzzing::config_files(data));
