//! See `nestguard::fuzzing::rule_list` (src/fuzzing/rule_list.rs): the target's body lives
//! in the library so `tests/fuzz_regressions.rs` replays findings with it.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nestguard::fuzzing::rule_list(data));
