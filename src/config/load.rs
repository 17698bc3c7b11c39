//! Reading a configuration: the main file and `conf.d/` merged, relative
//! paths resolved, and every value checked, with mistakes reported at their
//! file, line and column.

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::checks;
use super::error::ConfigError;
use super::locate::ConfigSource;
use super::schema::*;

/// The include directory beside the main config file.
pub const CONF_D: &str = "conf.d";

/// The `*.toml` files of a `conf.d/` directory, in name order (none if it does not exist).
pub fn conf_d_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "toml")
                        && !p
                            .file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Which fleet bundle a config is read with.
enum Bundle<'a> {
    /// The one in force in the state folder, when `[fleet]` is set.
    InForce,
    /// One unpacked but not yet in force (checked before it is swapped in).
    Candidate(&'a Path),
}

/// A window's times and days (`[[schedule]]`, `[[exam]]`), each checked.
fn check_window(
    err: &dyn Fn(std::ops::Range<usize>, String) -> ConfigError,
    from: &Spanned<String>,
    to: &Spanned<String>,
    days: &[Spanned<String>],
) -> Result<(), ConfigError> {
    for t in [from, to] {
        if crate::schedule::parse_hhmm(t.get_ref()).is_none() {
            return Err(err(
                t.span(),
                format!("`{}` is not a time of day as HH:MM (24-hour)", t.get_ref()),
            ));
        }
    }
    for d in days {
        if crate::schedule::parse_day(d.get_ref()).is_none() {
            return Err(err(
                d.span(),
                format!(
                    "`{}` is not a day: mon, tue, wed, thu, fri, sat or sun",
                    d.get_ref()
                ),
            ));
        }
    }
    Ok(())
}

impl Config {
    /// The embedded default.
    pub fn embedded() -> Result<Config, ConfigError> {
        Config::parse(DEFAULT_TOML, "<embedded default>", None)
    }

    /// Parses and validates a config file's text. `origin` names it in errors;
    /// `base_dir` is where relative paths in it are resolved from.
    pub fn parse(text: &str, origin: &str, base_dir: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text)
            .map_err(|e| ConfigError::at(origin, text, e.span(), e.message().to_string()))?;
        config.validate(text, origin, base_dir)?;
        config.origins = vec![Origin {
            name: origin.to_string(),
            text: text.into(),
        }];
        Ok(config)
    }

    /// Loads the config from wherever `source` says.
    pub fn load(source: &ConfigSource) -> Result<Config, ConfigError> {
        match source {
            ConfigSource::Embedded => Config::embedded(),
            ConfigSource::File(path) => Config::load_main(path, None, Bundle::InForce),
        }
    }

    /// Loads the main file at `path` with its `conf.d/`, and `candidate` read
    /// as the drop-in `conf.d/<as_name>` (replacing that file when it exists;
    /// the candidate's own file name when `as_name` is `None`), in name order:
    /// what every machine with this main config would read once the
    /// candidate is in place. Mistakes in the candidate are reported at its
    /// own path.
    pub fn load_with_drop_in(
        path: &Path,
        candidate: &Path,
        as_name: Option<&std::ffi::OsStr>,
    ) -> Result<Config, ConfigError> {
        let name = match as_name.or(candidate.file_name()) {
            Some(n) => n.to_os_string(),
            None => {
                return Err(ConfigError::plain(
                    &candidate.display().to_string(),
                    "a drop-in needs a file name".into(),
                ));
            }
        };
        Config::load_main(path, Some((name, candidate)), Bundle::InForce)
    }

    fn load_main(
        path: &Path,
        candidate: Option<(std::ffi::OsString, &Path)>,
        bundle: Bundle<'_>,
    ) -> Result<Config, ConfigError> {
        let text = crate::sources::read_to_string(path).map_err(|e| {
            ConfigError::plain(&path.display().to_string(), format!("cannot read: {e}"))
        })?;
        let mut config = Config::parse(&text, &path.display().to_string(), path.parent())?;
        config.path = Some(path.to_path_buf());
        let Some(dir) = path.parent() else {
            return Ok(config);
        };
        // (name it sorts by, file read)
        let mut files: Vec<(std::ffi::OsString, PathBuf)> = conf_d_files(&dir.join(CONF_D))
            .into_iter()
            .filter_map(|f| Some((f.file_name()?.to_os_string(), f)))
            .collect();
        if let Some((name, file)) = candidate {
            files.retain(|(n, _)| *n != name);
            files.push((name, file.to_path_buf()));
            files.sort();
        }
        for (_, drop_in) in files {
            config.add_drop_in(&drop_in, None)?;
        }
        let bundle = match bundle {
            Bundle::InForce if config.fleet.url.is_some() => {
                crate::state::layout::fleet_bundle_in_force(&crate::state::dir(&config))
            }
            Bundle::InForce => None,
            Bundle::Candidate(dir) => Some(dir.to_path_buf()),
        };
        if let Some(root) = bundle {
            // A fleet's bundle: its drop-ins after the machine's own, with
            // paths in them relative to the bundle's top (its `lists/`).
            for drop_in in conf_d_files(&root.join(CONF_D)) {
                config.add_drop_in(&drop_in, Some(&root))?;
            }
            config.fleet_bundle = Some(root);
        }
        Ok(config)
    }

    /// Loads the main file at `path` with its `conf.d/` and the fleet
    /// bundle unpacked at `bundle` (its `conf.d/` and `lists/`) in place of
    /// the one in force: what the daemon would read once it is swapped in.
    pub fn load_with_bundle(path: &Path, bundle: &Path) -> Result<Config, ConfigError> {
        Config::load_main(path, None, Bundle::Candidate(bundle))
    }

    /// Merges one `conf.d/` file: its `[[client]]`, `[[schedule]]` and
    /// `[[rules.list]]` tables are added after the ones already read, and the
    /// `[policy]` keys it sets replace the earlier values.
    fn add_drop_in(&mut self, path: &Path, base: Option<&Path>) -> Result<(), ConfigError> {
        let name = path.display().to_string();
        let text = crate::sources::read_to_string(path)
            .map_err(|e| ConfigError::plain(&name, format!("cannot read: {e}")))?;
        // Keys with their positions, so a misplaced section is reported where it is.
        let table: std::collections::BTreeMap<Spanned<String>, toml::Value> = toml::from_str(&text)
            .map_err(|e| ConfigError::at(&name, &text, e.span(), e.message().to_string()))?;
        for (key, value) in &table {
            let allowed = match key.get_ref().as_str() {
                "client" | "child" | "device" | "schedule" | "exam" | "policy" | "update" => true,
                "rules" => value
                    .as_table()
                    .is_some_and(|t| t.keys().all(|k| k == "list")),
                _ => false,
            };
            if !allowed {
                return Err(ConfigError::at(
                    &name,
                    &text,
                    Some(key.span()),
                    format!(
                        "a conf.d file may hold [[child]], [[device]], [[client]], [[schedule]], [[exam]], [[rules.list]], [policy] and [update]; `{}` belongs in the main config file",
                        key.get_ref()
                    ),
                ));
            }
        }
        let mut drop_in = Config::parse(&text, &name, base.or(path.parent()))?;
        let origin = self.origins.len();
        self.origins.push(Origin {
            name,
            text: text.as_str().into(),
        });
        for mut c in drop_in.clients {
            c.get_mut().origin = origin;
            self.clients.push(c);
        }
        for mut c in drop_in.children {
            let id = c.get_ref().id();
            if let Some(first) = self.children.iter().find(|k| k.get_ref().id() == id) {
                let first = first.get_ref();
                let was = self.origins.get(first.origin).map(|o| {
                    let p = super::Position::of(&o.name, &o.text, first.name.span().start);
                    format!("{}:{}:{}", p.origin, p.line, p.column)
                });
                return Err(ConfigError::at(
                    &self.origins[origin].name,
                    &self.origins[origin].text,
                    Some(c.get_ref().name.span()),
                    format!(
                        "a child named `{id}` is already in {}",
                        was.unwrap_or_default()
                    ),
                ));
            }
            c.get_mut().origin = origin;
            self.children.push(c);
        }
        for mut dev in drop_in.devices {
            dev.get_mut().origin = origin;
            self.devices.push(dev);
        }
        for mut sc in drop_in.schedules {
            sc.get_mut().origin = origin;
            self.schedules.push(sc);
        }
        for mut ex in drop_in.exams {
            ex.get_mut().origin = origin;
            self.exams.push(ex);
        }
        self.rules.lists.append(&mut drop_in.rules.lists);
        let policy = table
            .iter()
            .find(|(k, _)| k.get_ref() == "policy")
            .and_then(|(_, v)| v.as_table());
        if let Some(policy) = policy {
            let d = drop_in.policy;
            if policy.contains_key("default_profile") {
                self.policy.default_profile = d.default_profile;
                self.policy.origin = origin;
            }
            if policy.contains_key("block_mode") {
                self.policy.block_mode = d.block_mode;
                self.policy.block_addresses = d.block_addresses;
            } else if policy.contains_key("block_addresses") {
                self.policy.block_addresses = d.block_addresses;
            }
            if policy.contains_key("blocked_ttl") {
                self.policy.blocked_ttl = d.blocked_ttl;
            }
            if policy.contains_key("version") {
                self.policy.version = d.version;
            }
        }
        let update = table
            .iter()
            .find(|(k, _)| k.get_ref() == "update")
            .and_then(|(_, v)| v.as_table());
        if let Some(update) = update {
            self.merge_update(update, drop_in.update);
        }
        Ok(())
    }

    /// A drop-in's `[update]`: its `[[update.list]]` tables are added to the
    /// ones already read, and each other key it sets replaces the earlier value.
    fn merge_update(&mut self, keys: &toml::Table, mut d: UpdateConfig) {
        let u = &mut self.update;
        u.lists.append(&mut d.lists);
        for key in keys.keys() {
            match key.as_str() {
                "subscriptions" => u.subscriptions = std::mem::take(&mut d.subscriptions),
                "interval" => u.interval = d.interval,
                "jitter" => u.jitter = d.jitter,
                "timeout" => u.timeout = d.timeout,
                "max_size_mib" => u.max_size_mib = d.max_size_mib,
                "max_shrink" => u.max_shrink = d.max_shrink,
                "min_entries" => u.min_entries = d.min_entries,
                "ca_file" => u.ca_file = d.ca_file.take(),
                // `list`, merged above; serde refused any other key already.
                _ => {}
            }
        }
    }

    fn validate(
        &mut self,
        text: &str,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<(), ConfigError> {
        let err = |span: std::ops::Range<usize>, msg: String| {
            ConfigError::at(origin, text, Some(span), msg)
        };
        if self.server.listen.get_ref().is_empty() {
            return Err(err(
                self.server.listen.span(),
                "listen needs at least one address".into(),
            ));
        }
        if *self.server.max_udp_payload.get_ref() < 512 {
            return Err(err(
                self.server.max_udp_payload.span(),
                "max_udp_payload must be at least 512 (the DNS minimum)".into(),
            ));
        }
        if self.upstreams.is_empty() {
            return Err(ConfigError::plain(
                origin,
                "at least one [[upstream]] is needed".into(),
            ));
        }
        if self.upstreams.iter().all(|u| u.get_ref().fallback) {
            return Err(err(
                self.upstreams[0].span(),
                "every [[upstream]] is a fallback; at least one must not be".into(),
            ));
        }
        if let Some(extra) = self.upstreams.get(MAX_UPSTREAMS) {
            return Err(err(
                extra.span(),
                format!("at most {MAX_UPSTREAMS} upstreams are supported"),
            ));
        }
        for up in &mut self.upstreams {
            let span = up.span();
            let u = up.get_mut();
            if u.protocol.uses_tls() {
                match &u.tls_name {
                    None => {
                        return Err(err(
                            span,
                            format!(
                                "a {:?} upstream needs tls_name: the name on its certificate",
                                u.protocol
                            )
                            .to_lowercase(),
                        ));
                    }
                    Some(name)
                        if rustls_pki_types::ServerName::try_from(name.as_str()).is_err() =>
                    {
                        return Err(err(
                            span,
                            format!("tls_name `{name}` is not a valid server name"),
                        ));
                    }
                    Some(_) => {}
                }
            } else if u.tls_name.is_some() || u.ca_file.is_some() {
                return Err(err(
                    span,
                    "tls_name and ca_file apply only to tls and https upstreams".into(),
                ));
            }
            if u.path.is_some() && u.protocol != Protocol::Https {
                return Err(err(span, "path applies only to https upstreams".into()));
            }
            if let Some(p) = &u.path
                && !p.starts_with('/')
            {
                return Err(err(span, format!("path `{p}` must start with /")));
            }
            if u.timeout.is_zero() {
                return Err(err(span, "timeout must be more than zero".into()));
            }
            if let Some(ca) = &mut u.ca_file {
                let ca_span = ca.span();
                let path = ca.get_mut();
                if path.is_relative()
                    && let Some(base) = base_dir
                {
                    *path = base.join(&*path);
                }
                if let Err(e) = std::fs::metadata(&*path) {
                    return Err(err(
                        ca_span,
                        format!("cannot read ca_file {}: {e}", path.display()),
                    ));
                }
            }
        }
        let level = self.log.level.get_ref();
        if level.parse::<tracing::Level>().is_err() {
            return Err(err(
                self.log.level.span(),
                format!("unknown log level `{level}`: use error, warn, info, debug or trace"),
            ));
        }
        let up = &self.update;
        if !(0.0..=1.0).contains(&up.max_shrink) || up.max_size_mib == 0 {
            return Err(ConfigError::plain(
                origin,
                "update.max_shrink must be between 0 and 1, and update.max_size_mib above 0".into(),
            ));
        }
        self.validate_fleet(&err)?;
        if let Some(ca) = &mut self.update.ca_file
            && ca.is_relative()
            && let Some(base) = base_dir
        {
            *ca = base.join(&*ca);
        }
        if let Some(dir) = &mut self.state.dir
            && dir.is_relative()
            && let Some(base) = base_dir
        {
            *dir = base.join(&*dir);
        }
        if let Some(dir) = &mut self.rules.dir
            && dir.is_relative()
            && let Some(base) = base_dir
        {
            *dir = base.join(&*dir);
        }
        for list in &mut self.rules.lists {
            if list.path.is_relative()
                && let Some(base) = base_dir
            {
                list.path = base.join(&list.path);
            }
        }
        for sched in &self.schedules {
            let sc = sched.get_ref();
            if sc.profile.is_none() && sc.children.is_empty() {
                return Err(err(
                    sched.span(),
                    "a schedule needs profile = \"…\" or children = [\"…\"]: whom it applies to"
                        .into(),
                ));
            }
            check_window(&err, &sc.from, &sc.to, &sc.days)?;
            if !sc.allow_only && sc.block.is_empty() {
                return Err(err(
                    sched.span(),
                    "a schedule needs allow_only = true or categories in block".into(),
                ));
            }
        }
        for exam in &mut self.exams {
            let ex = exam.get_ref();
            if ex.who.is_empty() {
                return Err(err(
                    exam.span(),
                    "an exam needs who = [\"all\"] or children, profiles or [[client]] names: whom it holds for"
                        .into(),
                ));
            }
            check_window(&err, &ex.from, &ex.to, &ex.days)?;
            for site in &ex.allow {
                crate::rules::name::normalize(site.get_ref())
                    .map_err(|e| err(site.span(), format!("`{}`: {e}", site.get_ref())))?;
            }
            if let Some(file) = &mut exam.get_mut().allow_file
                && file.is_relative()
                && let Some(base) = base_dir
            {
                *file = base.join(&*file);
            }
        }
        let mode = &self.policy.block_mode;
        let addrs = &self.policy.block_addresses;
        let v4 = addrs.iter().filter(|a| a.is_ipv4()).count();
        if *mode.get_ref() == BlockMode::Address
            && (addrs.is_empty() || v4 > 1 || addrs.len() - v4 > 1)
        {
            return Err(err(
                mode.span(),
                "block_mode = \"address\" needs block_addresses: one IPv4 and/or one IPv6 address"
                    .into(),
            ));
        }
        if *mode.get_ref() != BlockMode::Address && !addrs.is_empty() {
            return Err(err(
                mode.span(),
                "block_addresses is used only with block_mode = \"address\"".into(),
            ));
        }
        if self.cache.max_entries == 0 {
            return Err(ConfigError::plain(
                origin,
                "cache.max_entries must be at least 1".into(),
            ));
        }
        if self.admin.max_connections == 0 || self.admin.header_read_timeout.is_zero() {
            return Err(ConfigError::plain(
                origin,
                "admin.max_connections and admin.header_read_timeout must be more than zero".into(),
            ));
        }
        self.validate_parents(&err)?;
        checks::run(self, text, origin)
    }

    /// `[[admin.parent]]` names are unique and plain (they go into the audit
    /// trail and the login form), every hash is a PHC string, and the
    /// monitoring token's hash is `sha256:` and 64 hex digits.
    /// `[fleet]`: a URL needs the key its bundles are checked with, and the key must be one.
    fn validate_fleet(
        &self,
        err: &dyn Fn(std::ops::Range<usize>, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        let f = &self.fleet;
        if let Some(url) = &f.url {
            let u = url.get_ref();
            if !(u.starts_with("https://") || u.starts_with("file://")) {
                return Err(err(
                    url.span(),
                    format!("fleet.url `{u}`: only https:// and file:// URLs"),
                ));
            }
            if f.public_key.is_none() {
                return Err(err(
                    url.span(),
                    "fleet.url needs fleet.public_key: the minisign public key bundles are signed with".into(),
                ));
            }
        }
        if let Some(key) = &f.public_key
            && let Err(e) = minisign_verify::PublicKey::from_base64(key.get_ref().trim())
        {
            return Err(err(
                key.span(),
                format!(
                    "fleet.public_key is not a minisign public key (the base64 line of minisign.pub, `RW…`): {e}"
                ),
            ));
        }
        Ok(())
    }

    fn validate_parents(
        &self,
        err: &dyn Fn(std::ops::Range<usize>, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        let mut seen: Vec<&str> = Vec::new();
        if self.admin.password_hash.is_some() {
            seen.push(FIRST_PARENT);
        }
        let phc = |h: &str| argon2::password_hash::PasswordHash::new(h).is_ok();
        for p in &self.admin.parents {
            let (span, parent) = (p.span(), p.get_ref());
            let name = parent.name.as_str();
            let plain = (1..=32).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !plain {
                return Err(err(
                    span,
                    format!("parent name `{name}`: use 1 to 32 letters, digits, `-`, `_` or `.`"),
                ));
            }
            if ["child", "cli"].contains(&name) {
                return Err(err(
                    span,
                    format!(
                        "parent name `{name}` is what the audit trail calls others; choose another"
                    ),
                ));
            }
            if seen.contains(&name) {
                let why = if name == FIRST_PARENT && self.admin.password_hash.is_some() {
                    " ([admin] password_hash is the account named `parent`)"
                } else {
                    ""
                };
                return Err(err(span, format!("two parents named `{name}`{why}")));
            }
            seen.push(name);
            if !phc(&parent.password_hash) {
                return Err(err(
                    span,
                    format!(
                        "parent `{name}`: password_hash is not an Argon2 hash; set it with `nestguard passwd --parent {name}`"
                    ),
                ));
            }
        }
        if let Some(h) = &self.admin.metrics_token_hash {
            let hex = h.get_ref().strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err(
                    h.span(),
                    "metrics_token_hash must be `sha256:` and 64 hex digits; `nestguard metrics-token` writes it".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_matches_code_defaults() {
        let c = Config::embedded().expect("embedded default parses");
        let d = ServerConfig::default();
        assert_eq!(c.server.listen.get_ref(), d.listen.get_ref());
        assert_eq!(
            c.server.max_udp_payload.get_ref(),
            d.max_udp_payload.get_ref()
        );
        assert_eq!(c.server.tcp_idle_timeout, d.tcp_idle_timeout);
        assert_eq!(c.server.max_tcp_clients, d.max_tcp_clients);
        assert_eq!(
            c.server.max_tcp_clients_per_address,
            d.max_tcp_clients_per_address
        );
        assert_eq!(c.server.max_inflight, d.max_inflight);
        let dc = CacheConfig::default();
        assert_eq!(c.cache.max_entries, dc.max_entries);
        assert_eq!(c.cache.max_ttl, dc.max_ttl);
        assert_eq!(c.cache.min_ttl, dc.min_ttl);
        assert_eq!(c.cache.max_negative_ttl, dc.max_negative_ttl);
        assert_eq!(c.cache.stale_retention, dc.stale_retention);
        assert_eq!(c.cache.serve_stale, dc.serve_stale);
        assert_eq!(c.cache.stale_answer_timeout, dc.stale_answer_timeout);
        assert_eq!(c.cache.prefetch, dc.prefetch);
        let ups: Vec<_> = c
            .upstreams
            .iter()
            .map(|u| u.get_ref().socket_addr())
            .collect();
        let dups: Vec<_> = default_upstreams()
            .iter()
            .map(|u| u.get_ref().socket_addr())
            .collect();
        assert_eq!(ups, dups);
        // An empty file means "all defaults".
        let empty = Config::parse("", "empty", None).expect("empty config");
        assert_eq!(empty.upstreams.len(), 2);
    }

    #[test]
    fn unknown_key_is_reported_with_line_and_column() {
        let text = "[server]\nlisten = [\"127.0.0.1:53\"]\nlisten_port = 5\n";
        let e = Config::parse(text, "t.toml", None).unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(1)), "{e}");
        assert!(e.to_string().starts_with("t.toml:3:1: "), "{e}");
        assert!(e.to_string().contains("listen_port"), "{e}");
    }

    #[test]
    fn semantic_errors_point_at_the_table() {
        let text = "[[upstream]]\nprotocol = \"tls\"\naddress = \"1.1.1.1\"\n";
        let e = Config::parse(text, "t.toml", None).unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
        assert!(e.message.contains("tls_name"), "{e}");
        let text = "[[upstream]]\nprotocol = \"udp\"\naddress = \"dns.google\"\n";
        let e = Config::parse(text, "t.toml", None).unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(11)), "{e}");
    }

    #[test]
    fn schedule_mistakes_point_at_the_value() {
        let text = "[[schedule]]\nprofile = \"child\"\nname = \"bedtime\"\nfrom = \"8pm\"\nto = \"07:00\"\nallow_only = true\n";
        let e = Config::parse(text, "t.toml", None).unwrap_err();
        assert_eq!((e.line, e.column), (Some(4), Some(8)), "{e}");
        assert!(e.message.contains("HH:MM"), "{e}");
        let text = "[[schedule]]\nprofile = \"child\"\nname = \"x\"\ndays = [\"monday\"]\nfrom = \"20:00\"\nto = \"07:00\"\nallow_only = true\n";
        let e = Config::parse(text, "t.toml", None).unwrap_err();
        assert_eq!((e.line, e.column), (Some(4), Some(9)), "{e}");
    }

    #[test]
    fn host_port_forms() {
        assert_eq!("9.9.9.9".parse::<HostPort>().unwrap().port, None);
        assert_eq!("9.9.9.9:853".parse::<HostPort>().unwrap().port, Some(853));
        assert!("[2620:fe::fe]:853".parse::<HostPort>().is_ok());
        assert!("2620:fe::fe".parse::<HostPort>().is_ok());
        assert!("dns.quad9.net".parse::<HostPort>().is_err());
    }

    #[test]
    fn conf_d_files_add_clients_and_override_policy() {
        let dir = std::env::temp_dir().join(format!("nestguard-confd-{}", std::process::id()));
        let d = dir.join(CONF_D);
        std::fs::create_dir_all(&d).unwrap();
        let main = dir.join("nestguard.toml");
        std::fs::write(
            &main,
            "[[client]]\nprofile = \"teen\"\naddresses = [\"10.0.0.1\"]\n",
        )
        .unwrap();
        std::fs::write(
            d.join("20-lab.toml"),
            "[policy]\ndefault_profile = \"young-child\"\n[[client]]\nprofile = \"unfiltered\"\naddresses = [\"10.0.0.2\"]\n",
        )
        .unwrap();
        std::fs::write(d.join("10-first.toml"), "[[schedule]]\nprofile = \"child\"\nname = \"lessons\"\nfrom = \"08:00\"\nto = \"12:00\"\nblock = [\"gaming\"]\n").unwrap();
        std::fs::write(d.join("notes.txt"), "not toml").unwrap();
        let c = Config::load(&ConfigSource::File(main.clone())).unwrap();
        assert_eq!(c.clients.len(), 2);
        assert_eq!(
            c.clients[1].get_ref().origin,
            2,
            "20-lab.toml is read second"
        );
        assert_eq!(c.schedules[0].get_ref().origin, 1);
        assert_eq!(c.policy.default_profile.get_ref(), "young-child");
        assert_eq!(c.files().count(), 3);

        // Only policy belongs in conf.d; the rest is named with its line and column.
        std::fs::write(
            d.join("30-bad.toml"),
            "# listen here\n[server]\nlisten = [\"0.0.0.0:53\"]\n",
        )
        .unwrap();
        let e = Config::load(&ConfigSource::File(main))
            .unwrap_err()
            .to_string();
        assert!(e.contains("30-bad.toml:2:2: a conf.d file may hold"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
