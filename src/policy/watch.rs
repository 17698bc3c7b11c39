//! Re-reading a state file the commands and the dashboard write (temporary
//! allows, pauses, exams) when its content changes: the daemon polls each
//! one every second, off the query path.
//!
//! A file that cannot be read or parsed keeps the last good entries: a broken
//! save must not lift a pause or end an exam. A file that does not exist
//! means none.

use std::io;
use std::path::PathBuf;

/// One polled file and what was last read from it.
pub struct Watch<T> {
    path: PathBuf,
    /// What the file holds, for logs ("pauses", "temporary allows").
    what: &'static str,
    parse: fn(&str) -> Result<T, String>,
    last: Option<Vec<u8>>,
    entries: T,
}

impl<T: Default> Watch<T> {
    pub fn new(path: PathBuf, what: &'static str, parse: fn(&str) -> Result<T, String>) -> Self {
        Watch {
            path,
            what,
            parse,
            last: None,
            entries: T::default(),
        }
    }

    /// What the file holds now (read again only when its bytes changed).
    pub fn poll(&mut self) -> &T {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                tracing::debug!(path = %self.path.display(), error = %e, "cannot read {}", self.what);
                return &self.entries;
            }
        };
        if self.last.as_deref() == Some(&bytes[..]) {
            return &self.entries;
        }
        match (self.parse)(&String::from_utf8_lossy(&bytes)) {
            Ok(entries) => {
                tracing::info!(path = %self.path.display(), "{} read", self.what);
                self.entries = entries;
            }
            Err(e) => tracing::warn!(
                "{}: {e}; keeping the previous {}",
                self.path.display(),
                self.what
            ),
        }
        self.last = Some(bytes);
        &self.entries
    }
}
