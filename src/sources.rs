//! Reading the files that hot reload watches (the config, `conf.d/`, rule
//! lists).
//!
//! Editors and tools save in different ways; delete-and-recreate, or a rename
//! into place, leaves a moment when the file does not exist. A missing file
//! is read again a few times over half a second before it counts as missing;
//! a file that stays missing fails the reload, and the previous engine keeps
//! serving with every rule it had (the log and `nestguard status` name the
//! file). Keeping each file's last content in memory instead would cost as
//! much RAM as the lists themselves (23 MB for a million domains), which a
//! router cannot spare. A file read while it is being written (empty, or cut
//! short) is caught by the reloader, which holds back any change that makes
//! a list lose rules until its files are stable (`reload`).

use std::io;
use std::path::Path;
use std::time::Duration;

/// How often, and how far apart, a missing file is looked for again.
const RETRIES: u32 = 10;
const RETRY_GAP: Duration = Duration::from_millis(50);

/// The file's bytes, waiting out a save in progress if it is missing.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut tries = 0;
    loop {
        match std::fs::read(path) {
            Ok(bytes) => return Ok(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound && tries < RETRIES => {
                tries += 1;
                std::thread::sleep(RETRY_GAP);
            }
            Err(e) => return Err(e),
        }
    }
}

/// The file opened for reading, waiting out a save in progress as [`read`] does.
pub fn open(path: &Path) -> io::Result<std::fs::File> {
    let mut tries = 0;
    loop {
        match std::fs::File::open(path) {
            Ok(file) => return Ok(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound && tries < RETRIES => {
                tries += 1;
                std::thread::sleep(RETRY_GAP);
            }
            Err(e) => return Err(e),
        }
    }
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    let bytes = read(path)?;
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_recreated_within_the_retries_is_read() {
        let dir = std::env::temp_dir().join(format!("nestguard-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("list.txt");
        assert!(read(&path).is_err(), "missing: an error, after the retries");
        let later = path.clone();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(120));
            std::fs::write(&later, "two\n").unwrap();
        });
        assert_eq!(read_to_string(&path).unwrap(), "two\n");
        writer.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
