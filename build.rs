//! The shipped rules (`rules/`) are embedded gzip-compressed (BENCHMARKS.md,
//! "Binary size"): this copies `rules/` into `$OUT_DIR/rules`, compressing
//! every file except those already gzip (`*.gz`, kept as they are).
//! `src/rules/catalog.rs` embeds that copy and decompresses a file when it is read.
//! It also compresses the public suffix list (`data/public_suffix_list.txt`)
//! for `src/activity/suffix.rs`.

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
    println!("cargo::rerun-if-changed=data/public_suffix_list.txt");
    let list = std::fs::read("data/public_suffix_list.txt")?;
    std::fs::write(
        Path::new(&out).join("public_suffix_list.txt.gz"),
        gzip(&list)?,
    )?;
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
