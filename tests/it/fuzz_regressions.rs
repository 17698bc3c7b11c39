//! Inputs the fuzzers (`fuzz/`) flagged, replayed through the same code
//! (`nestguard::fuzzing`) on every `cargo test`. Each file in
//! `tests/fixtures/fuzz/<target>/` is an artifact as libFuzzer wrote it; add
//! it here before fixing what it found.
//!
//! - `rule_list/timeout-ad09…`: a list whose regexes took over 10 s to
//!   compile on a starved core (0.25 s on an idle one); kept as a witness.
//! - `packet/crash-adb8…`: an upstream reply whose answer owner was a
//!   compression pointer into the header. The header is rewritten for each
//!   client, so the name changed under it; such replies are now malformed.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for f in files {
        eprintln!("replaying {}", f.display());
        run(&std::fs::read(&f).unwrap());
    }
}

#[test]
fn rule_list_findings() {
    replay("rule_list", nestguard::fuzzing::rule_list);
}

#[test]
fn packet_findings() {
    replay("packet", nestguard::fuzzing::packet);
}

#[test]
fn config_files_findings() {
    replay("config_files", nestguard::fuzzing::config_files);
}
