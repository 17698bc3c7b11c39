//! Every TOML file a user or a rules directory can hand us: the config (and a
//! `conf.d` drop-in), `categories.toml`, a profile, `safesearch.toml`,
//! `subscriptions.toml` and `helplines.toml`. Errors must point at a place in
//! the text (file:line:col), never panic.
//!
//! Input: byte 0 picks the file, the rest is its text.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::config::{Config, ConfigSource};
use crate::rules::catalog::{self, RulesDir};

/// A private copy of the shipped rules directory, one file of which each input replaces.
fn rules_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("nestguard-fuzz-rules-{}", std::process::id()));
        copy_dir(
            &PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")),
            &dir,
        );
        dir
    })
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("temp dir");
    for e in std::fs::read_dir(from).expect("rules dir").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

fn config_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("nestguard-fuzz-conf-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).expect("temp dir");
        std::fs::write(
            dir.join("nestguard.toml"),
            "[policy]\ndefault_profile = \"child\"\n",
        )
        .expect("write");
        dir
    })
}

const FILES: &[&str] = &[
    "categories.toml",
    "profiles/child.toml",
    "safesearch.toml",
    "subscriptions.toml",
    "helplines.toml",
];

fn check_error(e: &impl std::fmt::Display) {
    // Rendering the message walks the span back to line and column.
    let _ = e.to_string();
}

pub fn config_files(data: &[u8]) {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match usize::from(which) % (FILES.len() + 2) {
        0 => match Config::parse(text, "fuzz.toml", None) {
            Ok(c) => {
                let _ = c.clients.len();
            }
            Err(e) => check_error(&e),
        },
        1 => {
            // A conf.d drop-in beside a minimal main config.
            let main = config_dir().join("nestguard.toml");
            std::fs::write(config_dir().join("conf.d/fuzz.toml"), text).expect("write");
            if let Err(e) = Config::load(&ConfigSource::File(main)) {
                check_error(&e);
            }
        }
        i => {
            let rel = FILES[i - 2];
            let path = rules_dir().join(rel);
            let original = std::fs::read(&path).expect("shipped file");
            std::fs::write(&path, text).expect("write");
            let dir = RulesDir::Path(rules_dir().clone());
            if let Err(e) = catalog::load_catalog(&dir) {
                check_error(&e);
            }
            if let Err(e) = catalog::load_subscriptions(&dir) {
                check_error(&e);
            }
            if let Err(e) = catalog::load_helplines(&dir) {
                check_error(&e);
            }
            std::fs::write(&path, original).expect("restore");
        }
    }
}
