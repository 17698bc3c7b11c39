//! The shipped rules (`rules/`) are embedded gzip-compressed (BENCHMARKS.md,
//! "Binary size"): this copies `rules/` into `$OUT_DIR/rules`, compressing
//! every file except those already gzip (`*.gz`, kept as they are).
//! `src/rules/catalog.rs` embeds that copy and decompresses a file when it is read.

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
    copy(Path::new("rules"), &dest)
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
            // No file name and mtime 0 in the header: the same bytes every build.
            let mut gz = GzEncoder::new(Vec::new(), Compression::best());
            gz.write_all(&bytes)?;
            std::fs::write(&target, gz.finish()?)?;
        }
    }
    Ok(())
}
