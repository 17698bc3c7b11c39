//! The shipped rules (`rules/`) are embedded gzip-compressed (BENCHMARKS.md,
//! "Binary size"): this copies `rules/` into `$OUT_DIR/rules`, compressing
//! every file except those already gzip (`*.gz`, kept as they are).
//! `src/rules/catalog.rs` embeds that copy and decompresses a file when it is read.
//! It also compresses the public suffix list (`data/public_suffix_list.txt`)
//! for `src/activity/suffix.rs`, and the Fluent messages (`locales/`, into
//! `$OUT_DIR/locales`) for `src/words.rs`.
//!
//! For the `router` profile (the only one with `opt-level = "z"`) on Linux
//! it links the binary without unwind tables (see [`router_link`]).

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rerun-if-changed=rules");
    let out = std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?;
    let dest = Path::new(&out).join("rules");
    if dest.exists() {
        std::fs::remove_dir_all(&dest)?;
    }
    copy(Path::new("rules"), &dest)?;
    println!("cargo::rerun-if-changed=locales");
    let locales = Path::new(&out).join("locales");
    if locales.exists() {
        std::fs::remove_dir_all(&locales)?;
    }
    copy(Path::new("locales"), &locales)?;
    println!("cargo::rerun-if-changed=data/public_suffix_list.txt");
    let list = std::fs::read("data/public_suffix_list.txt")?;
    std::fs::write(
        Path::new(&out).join("public_suffix_list.txt.gz"),
        gzip(&list)?,
    )?;
    router_link(Path::new(&out))?;
    Ok(())
}

/// The router build is `panic = "abort"`: nothing ever unwinds, yet the
/// precompiled standard library and the C code (SQLite, ring) bring their
/// unwind tables (`.eh_frame`, `.eh_frame_hdr`), 1.1 MB of the aarch64
/// binary. A linker script inserted into the default one (GNU ld and lld
/// both take `INSERT`) discards them. A backtrace asked for with
/// `RUST_BACKTRACE` then stops at the first frame; nothing else changes.
///
/// Build scripts do not see the profile's panic strategy (`CARGO_CFG_PANIC`
/// is the target's default), so the sign is the profile's `opt-level = "z"`,
/// which only `[profile.router]` has (BENCHMARKS.md, "Binary size";
/// docs/decisions.md, "Router size").
fn router_link(out: &Path) -> std::io::Result<()> {
    println!("cargo::rerun-if-env-changed=OPT_LEVEL");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if !linux || std::env::var("OPT_LEVEL").as_deref() != Ok("z") {
        return Ok(());
    }
    let script = out.join("no-unwind-tables.ld");
    std::fs::write(
        &script,
        "SECTIONS {\n  /DISCARD/ : { *(.eh_frame) *(.eh_frame_hdr) }\n}\nINSERT AFTER .text;\n",
    )?;
    println!("cargo::rustc-link-arg-bins=-Wl,-T,{}", script.display());
    Ok(())
}

/// gzip at the best level; no file name and mtime 0 in the header, so the
/// same bytes every build.
fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(bytes)?;
    gz.finish()
}

fn copy(from: &Path, to: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(to)?;
    let mut entries = std::fs::read_dir(from)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy(&path, &target)?;
            continue;
        }
        println!("cargo::rerun-if-changed={}", path.display());
        let bytes = std::fs::read(&path)?;
        if path.extension().is_some_and(|e| e == "gz") {
            std::fs::write(&target, bytes)?;
        } else {
            std::fs::write(&target, gzip(&bytes)?)?;
        }
    }
    Ok(())
}
