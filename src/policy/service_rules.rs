//! Service rules a parent set on the dashboard, kept in the state folder
//! (`services.toml`), in the config's own syntax:
//!
//! ```toml
//! [child.mia]
//! youtube = { budget = "45m" }
//! tiktok = "block"
//! ```
//!
//! A rule here for a child and a service takes the place of what the config
//! says for that child and service (their `[[child]]` rule, or their band's
//! `[profile.<band>]` one); "as configured" on the dashboard removes it. The
//! engine merges the file when it is built, so a broken file fails the
//! reload (or `nestguard check`) with the file's line and column, and the
//! last good rules keep serving.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::config::{ConfigError, ServiceRule};
use crate::rules::services::ServiceDef;

/// The dashboard's service rules, by child id then service id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardServices {
    #[serde(default, rename = "child")]
    pub children: BTreeMap<String, BTreeMap<String, Spanned<ServiceRule>>>,
    /// The file they were read from (for errors naming it).
    #[serde(skip)]
    pub path: PathBuf,
}

impl DashboardServices {
    /// The rules in `state_dir`; none when there is no file yet. A file that
    /// cannot be read, parsed or checked against the catalogue `services` is
    /// an error naming it (with line and column where there is one).
    pub fn load(state_dir: &Path, services: &[ServiceDef]) -> Result<DashboardServices, String> {
        let path = crate::state::layout::service_rules(state_dir);
        let origin = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(DashboardServices {
                    path,
                    ..DashboardServices::default()
                });
            }
            Err(e) => return Err(format!("{origin}: {e}")),
        };
        let mut rules: DashboardServices = toml::from_str(&text).map_err(|e| {
            ConfigError::at(&origin, &text, e.span(), e.message().to_string()).to_string()
        })?;
        let at = |span, message| ConfigError::at(&origin, &text, Some(span), message);
        for child in rules.children.values() {
            crate::config::check_service_rules(child, services, &at).map_err(|e| e.to_string())?;
        }
        rules.path = path;
        Ok(rules)
    }

    /// Writes them atomically.
    pub fn save(&self, state_dir: &Path) -> io::Result<()> {
        let body = toml::to_string(self).map_err(io::Error::other)?;
        let text = format!(
            "# Service rules set on the parents' dashboard, kept by nestguard. Each one\n# takes the place of the config's rule for that child and service.\n\n{body}"
        );
        crate::state::write_atomic(
            &crate::state::layout::service_rules(state_dir),
            text.as_bytes(),
        )
    }

    /// Sets `child`'s rule for `service`, or removes it (`None`: as configured).
    pub fn set(&mut self, child: &str, service: &str, rule: Option<ServiceRule>) {
        match rule {
            Some(rule) => {
                self.children
                    .entry(child.to_string())
                    .or_default()
                    .insert(service.to_string(), Spanned::new(0..0, rule));
            }
            None => {
                if let Some(rules) = self.children.get_mut(child) {
                    rules.remove(service);
                    if rules.is_empty() {
                        self.children.remove(child);
                    }
                }
            }
        }
    }

    /// Whether `child`'s rule for `service` was set here.
    pub fn has(&self, child: &str, service: &str) -> bool {
        self.children
            .get(child)
            .is_some_and(|r| r.contains_key(service))
    }

    /// `child`'s rules.
    pub fn of(&self, child: &str) -> impl Iterator<Item = (&str, &Spanned<ServiceRule>)> {
        self.children
            .get(child)
            .into_iter()
            .flat_map(|r| r.iter().map(|(k, v)| (k.as_str(), v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ServiceAction, ServiceLimits};

    /// A fresh state folder for one test.
    fn state_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "nestguard-service-rules-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn catalogue() -> Vec<ServiceDef> {
        crate::rules::services::load_services(&crate::rules::catalog::RulesDir::Embedded).unwrap()
    }

    #[test]
    fn rules_are_written_in_the_configs_syntax_and_read_back() {
        let dir = state_dir("roundtrip");
        let mut rules = DashboardServices::default();
        rules.set(
            "mia",
            "tiktok",
            Some(ServiceRule::Simple(ServiceAction::Block)),
        );
        rules.set(
            "mia",
            "youtube",
            Some(ServiceRule::Limited(ServiceLimits {
                days: vec![Spanned::new(0..0, "sat".into())],
                from: Some(Spanned::new(0..0, "16:00".into())),
                to: Some(Spanned::new(0..0, "18:00".into())),
                budget: Some(std::time::Duration::from_secs(45 * 60)),
                reset: None,
            })),
        );
        rules.set(
            "leo",
            "roblox",
            Some(ServiceRule::Simple(ServiceAction::Allow)),
        );
        rules.set("leo", "roblox", None);
        rules.save(dir.as_path()).unwrap();
        let text =
            std::fs::read_to_string(crate::state::layout::service_rules(dir.as_path())).unwrap();
        assert!(text.contains("tiktok = \"block\""), "{text}");
        assert!(text.contains("budget = \"45m\""), "{text}");
        assert!(!text.contains("leo"), "{text}");
        let back = DashboardServices::load(dir.as_path(), &catalogue()).unwrap();
        assert!(back.has("mia", "youtube") && !back.has("leo", "roblox"));
        assert_eq!(back.children, rules.children);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_broken_file_is_an_error_naming_it_with_line_and_column() {
        let dir = state_dir("broken");
        let path = crate::state::layout::service_rules(dir.as_path());
        std::fs::write(&path, "[child.mia]\nyoutube = \"sometimes\"\n").unwrap();
        let e = DashboardServices::load(dir.as_path(), &catalogue()).unwrap_err();
        assert!(e.starts_with(&format!("{}:2:", path.display())), "{e}");
        std::fs::write(&path, "[child.mia]\nnosuch = \"block\"\n").unwrap();
        let e = DashboardServices::load(dir.as_path(), &catalogue()).unwrap_err();
        assert!(
            e.contains(":2:") && e.contains("no service `nosuch`"),
            "{e}"
        );
        std::fs::write(
            &path,
            "[child.mia]\nyoutube = { from = \"25:00\", to = \"18:00\" }\n",
        )
        .unwrap();
        let e = DashboardServices::load(dir.as_path(), &catalogue()).unwrap_err();
        assert!(e.contains("25:00"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
