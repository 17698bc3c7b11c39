//! Inputs the fuzzers (`fuzz/`) flagged, replayed through the same code on
//! every `cargo test`. Each file in `tests/fixtures/fuzz/<target>/` is an
//! artifact as libFuzzer wrote it; add one here before fixing what it found.

use std::path::Path;

use nestguard::rules::CategoryMask;
use nestguard::rules::compile::{Builder, ListKind};

fn artifacts(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read(e.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// As `fuzz/fuzz_targets/rule_list.rs`: byte 0 picks the list kind, the rest is the file.
#[test]
fn rule_list_artifacts_compile_or_are_rejected() {
    let found = artifacts("rule_list");
    assert!(!found.is_empty(), "the committed artifacts are missing");
    for (name, data) in found {
        let Some((&kind, text)) = data.split_first() else {
            continue;
        };
        let kind = match kind % 3 {
            0 => ListKind::Block,
            1 => ListKind::Allow,
            _ => ListKind::Keywords,
        };
        let mut b = Builder::new();
        let cat = b.category("fuzz", "Fuzz").unwrap();
        if b.add_source(&name, text, cat, kind).is_err() {
            continue;
        }
        b.profile("p", CategoryMask::default().with(cat));
        // Compiles (its regexes included) or reports an error; either way, it returns.
        let _ = b.build();
    }
}
