//! Reading the files that hot reload watches (the config, `conf.d/`, rule
//! lists), keeping the last good content of each.
//!
//! Editors and tools save in different ways; delete-and-recreate, or a rename
//! into place, leaves a moment when the file does not exist. A reload that
//! lands in that moment, or a file someone removed by mistake, must not drop
//! the file's rules: a file that is missing is read as its last content, with
//! a warning, until it returns. (A file that exists but cannot be parsed is
//! an error of its own; the reload keeps the previous engine then.)

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

fn last_good() -> &'static Mutex<HashMap<PathBuf, Arc<[u8]>>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<[u8]>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The file's bytes; its last content if it has gone missing since a read.
pub fn read(path: &Path) -> io::Result<Arc<[u8]>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes: Arc<[u8]> = bytes.into();
            if let Ok(mut cache) = last_good().lock() {
                cache.insert(path.to_path_buf(), bytes.clone());
            }
            Ok(bytes)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let kept = last_good().lock().ok().and_then(|c| c.get(path).cloned());
            match kept {
                Some(bytes) => {
                    tracing::warn!(
                        path = %path.display(),
                        "file is missing; its last content stays in force until it returns"
                    );
                    Ok(bytes)
                }
                None => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    let bytes = read(path)?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_reads_as_its_last_content() {
        let dir = std::env::temp_dir().join(format!("nestguard-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("list.txt");
        assert!(read(&path).is_err(), "never seen: an error");
        std::fs::write(&path, "one\n").unwrap();
        assert_eq!(&*read(&path).unwrap(), b"one\n");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(&*read(&path).unwrap(), b"one\n");
        std::fs::write(&path, "two\n").unwrap();
        assert_eq!(read_to_string(&path).unwrap(), "two\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
