//! The lists a config subscribes to (named in the shipped
//! `subscriptions.toml`, or its own `[[update.list]]`), where their downloaded
//! copies live, and so which lists the rules are compiled from. Downloading
//! them is `update`'s; this is what the engine and the reloader read.

use std::path::{Path, PathBuf};

use crate::config::{Config, ListConfig};
use crate::rules::catalog::{self, RulesDir};

/// `subscriptions = ["all"]`: every list of `subscriptions.toml`.
pub const ALL: &str = "all";
/// `subscriptions = ["recommended"]`: the lists marked `recommended = true`.
pub const RECOMMENDED: &str = "recommended";

/// One list to download.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub name: String,
    pub url: String,
    pub category: String,
}

impl Subscription {
    /// The file name stem in the state directory: the name, lowercased, in `[a-z0-9-]`.
    pub fn slug(&self) -> String {
        let mut slug = String::new();
        for c in self.name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        slug.trim_matches('-').to_string()
    }

    pub fn list_path(&self, state_dir: &Path) -> PathBuf {
        crate::state::layout::lists_dir(state_dir).join(format!("{}.txt", self.slug()))
    }
}

/// The subscriptions the config asks for: names from `subscriptions.toml`
/// (or `all`, or `recommended` for those marked so), then `[[update.list]]`.
pub fn configured(config: &Config) -> Result<Vec<Subscription>, String> {
    let dir = RulesDir::from_config(&config.rules);
    let offered = catalog::load_subscriptions(&dir).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let wants = |name: &str| config.update.subscriptions.iter().any(|n| n == name);
    let (all, recommended) = (wants(ALL), wants(RECOMMENDED));
    for def in &offered {
        if all || (recommended && def.recommended) || wants(&def.name) {
            out.push(Subscription {
                name: def.name.clone(),
                url: def.url.clone(),
                category: def.category.clone(),
            });
        }
    }
    for wanted in config
        .update
        .subscriptions
        .iter()
        .filter(|n| *n != ALL && *n != RECOMMENDED)
    {
        if !offered.iter().any(|d| &d.name == wanted) {
            return Err(format!(
                "update.subscriptions: no subscription named `{wanted}` in {}",
                dir.display("subscriptions.toml")
            ));
        }
    }
    for own in &config.update.lists {
        out.push(Subscription {
            name: own.name.clone(),
            url: own.url.clone(),
            category: own.category.clone(),
        });
    }
    Ok(out)
}

/// The downloaded lists that exist, as rule lists for the engine.
pub fn lists_in_use(config: &Config) -> Vec<ListConfig> {
    let state_dir = crate::state::dir(config);
    configured(config)
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.list_path(&state_dir), s.category))
        .filter(|(path, _)| path.exists())
        .map(|(path, category)| ListConfig {
            path,
            category,
            allow: false,
            keywords: false,
            declared: None,
            declared_as: None,
            subscribed: true,
        })
        .collect()
}

/// The rule lists to compile: the config's own plus the downloaded ones.
pub fn rules_config(config: &Config) -> crate::config::RulesConfig {
    let mut rules = config.rules.clone();
    rules.lists.extend(lists_in_use(config));
    rules.profile_allow_dir = Some(crate::state::layout::profile_allows_dir(
        &crate::state::dir(config),
    ));
    rules
}
