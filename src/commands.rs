//! What each command does: the short bodies behind `nestguard status`,
//! `reload`, `update`, `passwd`, `report`, `explain --client` and `allow`,
//! each turning library calls into text and an exit code. Parsing the command
//! line is `cli`'s.

use crate::terminal::{errln, out, outln};
use std::process::ExitCode;

use crate::config::{self, Config, ConfigSource};

/// Exit code for a config the user has to fix.
pub const EXIT_CONFIG: u8 = 2;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Csv,
}

/// Whether some `[[client]]` matches by local user.
pub fn per_user(config: &Config) -> bool {
    config.clients.iter().any(|c| !c.get_ref().users.is_empty())
}

/// With per-user clients: why this machine's setup would hide the users from nestguard.
pub fn per_user_warnings(config: &Config, root: &std::path::Path) -> Vec<String> {
    if !per_user(config) {
        return Vec::new();
    }
    crate::system_resolver::per_user_warnings(root, config.server.listen.get_ref())
}

/// `update`: a progress bar on a terminal, one plain line per list otherwise.
pub fn update(config: &Config) -> ExitCode {
    use crate::update::{self, Outcome};
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = update::Bar::new();
    let progress: &dyn update::Progress = if terminal { &bar } else { &update::Quiet };
    let mut bad = 0;
    let fleet = crate::fleet::update(config);
    if let Some(outcome) = &fleet {
        if matches!(outcome, crate::fleet::Outcome::Refused { .. }) {
            bad += 1;
        }
        outln!("fleet bundle: {outcome}");
    }
    let result = update::update_all(config, progress, |sub, outcome| {
        if matches!(outcome, Outcome::Refused(_) | Outcome::Failed(_)) {
            bad += 1;
        }
        outln!("{} ({}): {outcome}", sub.name, sub.category);
    });
    match result {
        Ok(all) if all.is_empty() && fleet.is_some() => {
            if bad > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Ok(all) if all.is_empty() => {
            outln!(
                "no lists to update: set [update] subscriptions (names from rules/subscriptions.toml) or add [[update.list]]"
            );
            ExitCode::SUCCESS
        }
        Ok(_) if bad > 0 => ExitCode::FAILURE,
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("nestguard: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// The fleet bundle in force and the last one refused, if there were any.
fn fleet_status(state_dir: &std::path::Path) -> Option<String> {
    let version = crate::fleet::version_in_force(state_dir);
    let record = crate::fleet::Record::read(state_dir);
    if version.is_none() && record.last_failure.is_none() {
        return None;
    }
    let mut out = match version {
        Some(v) => format!("fleet bundle: version {v} in force"),
        None => "fleet bundle: none in force yet".to_string(),
    };
    if let Some(at) = record.applied_at {
        out.push_str(&format!(" (applied {at})"));
    }
    let refused: u64 = record.failures.values().sum();
    if let Some(last) = &record.last_failure {
        out.push_str(&format!(
            "\n  {refused} refused so far; the last at {}: {last}",
            record
                .last_failure_at
                .map(|t| t.to_string())
                .unwrap_or_default()
        ));
    }
    Some(out)
}

fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    crate::state::write_atomic(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// `fleet keygen`: a key pair for signing bundles.
pub fn fleet_keygen(public: &std::path::Path, secret: &std::path::Path) -> Result<String, String> {
    for p in [public, secret] {
        if p.exists() {
            return Err(format!("{}: exists already; not overwritten", p.display()));
        }
    }
    let (pk, sk) = crate::fleet::keygen()?;
    // Private (0600) whatever the folder: it signs the fleet's policy.
    crate::state::create_private_file(secret).map_err(|e| format!("{}: {e}", secret.display()))?;
    write_file(secret, sk.as_bytes())?;
    write_file(public, pk.as_bytes())?;
    Ok(format!(
        "public key: {}\nsecret key: {} (keep it off the machines)\nin each machine's config:\n[fleet]\npublic_key = \"{}\"\n",
        public.display(),
        secret.display(),
        crate::fleet::public_key_line(&pk).unwrap_or_default()
    ))
}

/// `fleet sign`: DIR bundled as VERSION, written to OUTPUT and OUTPUT.minisig.
pub fn fleet_sign(
    key: &std::path::Path,
    version: u64,
    dir: &std::path::Path,
    output: &std::path::Path,
) -> Result<String, String> {
    let sk = std::fs::read_to_string(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let (bundle, sig) = crate::fleet::sign(&sk, version, dir)?;
    let mut sig_path = output.as_os_str().to_owned();
    sig_path.push(".minisig");
    let sig_path = std::path::PathBuf::from(sig_path);
    write_file(output, &bundle)?;
    write_file(&sig_path, sig.as_bytes())?;
    Ok(format!(
        "{}: version {version} ({} bytes), signature {}\n",
        output.display(),
        bundle.len(),
        sig_path.display()
    ))
}

/// `report`: the activity database, as text, JSON or CSV.
pub fn report_text(
    config: &Config,
    profile: Option<&str>,
    since: std::time::Duration,
    format: ReportFormat,
) -> Result<String, String> {
    use crate::activity::report;
    let span = jiff::SignedDuration::try_from(since).map_err(|e| e.to_string())?;
    let from = jiff::Timestamp::now()
        .checked_sub(span)
        .map_err(|e| format!("--since: {e}"))?;
    let path = crate::state::layout::activity_db(&crate::state::dir(config));
    // A child by name (`--child Mia`): ids are lowercase.
    let profile = profile.map(|p| p.trim().to_lowercase());
    let profile = profile.as_deref();
    // Some(message) when the child or profile asked for is not one the config or rules define.
    let unknown = match profile {
        Some(p) => {
            let dir = crate::rules::catalog::RulesDir::from_config(&config.rules);
            let ids: Vec<String> = crate::rules::catalog::load_catalog(&dir)
                .map_err(|e| e.to_string())?
                .profiles
                .into_iter()
                .map(|p| p.id)
                .collect();
            let children: Vec<String> = config.children.iter().map(|c| c.get_ref().id()).collect();
            let known = ids.iter().chain(&children).any(|id| id == p);
            (!known).then(|| match children.is_empty() {
                true => format!("no profile `{p}`; profiles: {}", ids.join(", ")),
                false => format!(
                    "no child or profile `{p}`; children: {}; profiles: {}",
                    children.join(", "),
                    ids.join(", ")
                ),
            })
        }
        None => None,
    };
    let built = report::build(&path, from, profile);
    if let Some(message) = unknown {
        // A profile the rules no longer have may still have activity to show;
        // a name with neither is a typo, not "no activity recorded".
        if !matches!(&built, Ok(r) if !r.profiles.is_empty()) {
            return Err(message);
        }
    }
    let r = built?;
    Ok(match format {
        ReportFormat::Text => report::text(&r),
        ReportFormat::Json => report::json(&r),
        ReportFormat::Csv => report::csv(&r),
    })
}

/// The config file a command writes into, or why there is none.
fn config_file(source: &ConfigSource, what: &str) -> Result<std::path::PathBuf, String> {
    match source {
        ConfigSource::File(path) => Ok(path.clone()),
        _ => Err(format!(
            "no config file to write {what} into: create one (e.g. /etc/nestguard/nestguard.toml) and pass it with --config"
        )),
    }
}

/// Changes the config file with `edit` (on its parsed document, so comments
/// and layout stay as they are) and writes it atomically, keeping its mode
/// and owner. Returns what `edit` returns.
fn edit_config<T>(
    path: &std::path::Path,
    edit: impl FnOnce(&mut toml_edit::DocumentMut) -> Result<T, String>,
) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // A config made from UCI (OpenWrt) is made again at every start: the
    // change goes into its persistent [admin] file, and the config is made
    // again from that at once, so the running daemon sees it too.
    if let Some(sources) = crate::openwrt::Generated::of(&text) {
        let admin = &sources.admin;
        let text = match std::fs::read_to_string(admin) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("{}: {e}", admin.display())),
        };
        let out = edit_doc(admin, &text, edit)?;
        // The file itself, not a link to it (/etc/nestguard/nestguard.toml
        // on the router), which would become a stale copy.
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        return crate::openwrt::command(&sources, Some(&target)).map(|()| out);
    }
    edit_doc(path, &text, edit)
}

/// [`edit_config`] on one file's `text`.
fn edit_doc<T>(
    path: &std::path::Path,
    text: &str,
    edit: impl FnOnce(&mut toml_edit::DocumentMut) -> Result<T, String>,
) -> Result<T, String> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if !doc.contains_table("admin") {
        doc["admin"] = toml_edit::table();
    }
    let out = edit(&mut doc)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    crate::state::write_atomic(path, doc.to_string().as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(out)
}

/// Sets `parent`'s hash in `[[admin.parent]]` (a new table when there is
/// none of that name); where it was written.
fn set_parent_hash(
    doc: &mut toml_edit::DocumentMut,
    parent: &str,
    hash: &str,
) -> Result<String, String> {
    let admin = doc["admin"]
        .as_table_mut()
        .ok_or("[admin] is not a table")?;
    let parents = admin
        .entry("parent")
        .or_insert_with(|| toml_edit::Item::ArrayOfTables(toml_edit::ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or("write the parents as [[admin.parent]] tables to use `passwd --parent`")?;
    let found = parents
        .iter_mut()
        .find(|t| t.get("name").and_then(|n| n.as_str()) == Some(parent));
    match found {
        Some(t) => {
            t["password_hash"] = toml_edit::value(hash);
            Ok(format!("[[admin.parent]] name = \"{parent}\""))
        }
        None => {
            let mut t = toml_edit::Table::new();
            t["name"] = toml_edit::value(parent);
            t["password_hash"] = toml_edit::value(hash);
            parents.push(t);
            Ok(format!("a new [[admin.parent]] name = \"{parent}\""))
        }
    }
}

/// `passwd [--parent NAME]`: the Argon2 hash of a new password into
/// `[admin] password_hash` (the account `parent`) or NAME's
/// `[[admin.parent]]` (the rest of the file is kept as it is), written
/// atomically.
pub fn passwd(source: &ConfigSource, parent: Option<&str>) -> Result<String, String> {
    let path = config_file(source, "the password")?;
    let path = &path;
    let password = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        let first =
            rpassword::prompt_password("New dashboard password: ").map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if password.chars().count() < 8 {
        return Err("use at least 8 characters".into());
    }
    let hash = crate::admin::auth::hash_password(&password)?;
    let (enabled, place) = edit_config(path, |doc| {
        let name = parent.unwrap_or(config::FIRST_PARENT);
        let in_a_table = doc["admin"]
            .get("parent")
            .and_then(|p| p.as_array_of_tables())
            .is_some_and(|ts| {
                ts.iter()
                    .any(|t| t.get("name").and_then(|n| n.as_str()) == Some(name))
            });
        // The account `parent` is `[admin] password_hash`, unless the config
        // already has it as a `[[admin.parent]]` table: one place per account.
        let place = if name == config::FIRST_PARENT && !in_a_table {
            doc["admin"]["password_hash"] = toml_edit::value(hash);
            "[admin] password_hash".to_string()
        } else {
            set_parent_hash(doc, name, &hash)?
        };
        let enabled = doc["admin"]
            .get("enabled")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        Ok((enabled, place))
    })?;
    // A running daemon reloads the file it watches: no restart to wait for.
    let next = if enabled {
        "a running daemon puts it in force within a second (or at `nestguard reload`) and signs this parent out of the dashboard"
    } else {
        "set [admin] enabled = true to turn the dashboard on; a running daemon starts it at its next reload"
    };
    Ok(format!(
        "password set in {} ({place}); {next}\n",
        path.display()
    ))
}

/// `metrics-token`: a new random monitoring token on standard output (for
/// Prometheus's `credentials_file`), its SHA-256 into `[admin]
/// metrics_token_hash`; what was done on standard error.
pub fn metrics_token(source: &ConfigSource) -> ExitCode {
    let made = config_file(source, "the token's hash").and_then(|path| {
        let token = crate::admin::auth::token();
        let hash = crate::admin::token_hash(&token);
        edit_config(&path, |doc| {
            doc["admin"]["metrics_token_hash"] = toml_edit::value(hash);
            Ok(())
        })?;
        Ok((path, token))
    });
    match made {
        Ok((path, token)) => {
            outln!("{token}");
            errln!(
                "its SHA-256 is in {} ([admin] metrics_token_hash; any earlier token no longer works). \
                 Give the token above to the monitoring (Prometheus: authorization credentials_file), \
                 in a file only it can read; nestguard keeps only the hash.",
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => report(Err(e)),
    }
}

/// `status`: what the daemon last wrote into `state_dir`.
/// Exit status of `nestguard status` when filtering is off (as `systemctl status` does).
const EXIT_STOPPED: u8 = 3;

pub fn status(found: Result<crate::runtime::Located, String>, warnings: &[String]) -> ExitCode {
    use crate::runtime::How;
    let found = match found {
        Ok(f) => f,
        Err(e) => return report(Err(e)),
    };
    let state_dir = found.dir;
    match found.how {
        How::Running { .. } | How::Config => {}
        How::Recorded { pid } => errln!(
            "note: the state folder {} is the one the daemon with this config (pid {pid}, not running now) recorded",
            state_dir.display()
        ),
        How::Scanned => errln!(
            "note: the state folder {} is read from the broken config's [state] dir",
            state_dir.display()
        ),
    }
    let s = match crate::status::read(&state_dir) {
        Ok(s) => s,
        Err(e) => {
            for w in warnings {
                errln!("warning: {w}");
            }
            return report(Err(e));
        }
    };
    let alive = crate::status::alive(s.pid);
    let since = jiff::Timestamp::now().as_second() - crate::status::EVENT_DAYS * 86_400;
    let events =
        crate::activity::events::recent(&crate::state::layout::activity_db(&state_dir), since);
    out!("{}", crate::status::render(&s, alive, &events));
    if let Some(line) = fleet_status(&state_dir) {
        outln!("{line}");
    }
    for w in warnings {
        outln!("warning: {w}");
    }
    if crate::status::is_stopped(&s, alive) {
        ExitCode::from(EXIT_STOPPED)
    } else {
        ExitCode::SUCCESS
    }
}

/// `reload`: SIGHUP to the daemon running with this config. It reloads at
/// once, and puts in force a change it was holding back (a list that lost
/// rules): the parent confirms it.
pub fn reload(source: &ConfigSource, config: &Config) -> Result<String, String> {
    let found = crate::runtime::state_dir(source, Ok(config))?;
    let pid = crate::runtime::running_pid(&found)
        .ok_or_else(|| format!("no running daemon found for {source}"))?;
    crate::service::hangup(pid)?;
    Ok(format!(
        "asked the daemon (pid {pid}) to reload; `nestguard status` shows the outcome\n"
    ))
}

/// Prints a command's text, or its error with exit status 2.
pub fn report(result: Result<String, String>) -> ExitCode {
    match result {
        Ok(text) => {
            out!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("nestguard: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// `explain --client`: the whole engine, with the client's lookups given on the command line.
pub fn explain_client(
    config: &Config,
    name: &str,
    qtype: u16,
    client: &str,
    at: Option<&str>,
) -> Result<String, String> {
    use crate::schedule::LocalTime;
    let engine = crate::engine::Engine::build(config).map_err(|e| format!("{e:#}"))?;
    let tz = jiff::tz::TimeZone::system();
    let at = match at {
        None => {
            let now = jiff::Timestamp::now();
            let local = now.to_zoned_datetime(tz).datetime();
            (LocalTime::of(local), now, "now".to_string())
        }
        Some(text) => {
            let dt: jiff::civil::DateTime = text
                .trim()
                .replace(' ', "T")
                .parse()
                .map_err(|e| format!("--at `{text}`: {e} (write it as 2026-11-22T21:30)"))?;
            let ts = tz
                .to_timestamp(dt)
                .map_err(|e| format!("--at `{text}`: {e}"))?;
            let shown = dt.strftime("%Y-%m-%d %H:%M (%A)").to_string();
            (LocalTime::of(dt), ts, shown)
        }
    };
    let dir = crate::state::dir(config);
    let held = crate::explain::Held {
        allows: crate::policy::overrides::load(&crate::state::layout::temporary_allows(&dir))
            .unwrap_or_default(),
        pauses: crate::policy::pause::load(&crate::state::layout::pauses(&dir)).unwrap_or_default(),
        exam: crate::policy::exam::load(&crate::state::layout::exam(&dir)).unwrap_or_default(),
    };
    let client = crate::explain::ClientArg::parse(client);
    crate::explain::explain_client(&engine, name, qtype, &client, at, &held)
}

/// Who the audit trail says ran a command: `cli (user NAME)`, the user
/// this process runs as. As root, sudo's `SUDO_USER` is added (root could
/// write anything anyway; for anyone else it is not to be believed).
fn cli_user() -> String {
    let sudo = std::env::var("SUDO_USER")
        .ok()
        .filter(|u| !u.is_empty() && crate::state::is_root());
    #[cfg(target_os = "linux")]
    let me = {
        let uid = nix::unistd::geteuid().as_raw();
        crate::policy::users::name_of(uid).unwrap_or_else(|| format!("uid {uid}"))
    };
    #[cfg(not(target_os = "linux"))]
    let me = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    match sudo {
        Some(by) => format!("cli (user {me}, by sudo from {by})"),
        _ => format!("cli (user {me})"),
    }
}

/// Longest temporary allow: anything longer belongs in the profile's allowlist.
const MAX_ALLOW: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// What `allow` was asked to do besides adding.
pub struct AllowAction {
    pub end: bool,
    pub list: bool,
    pub bedtime: bool,
}

/// `allow`: add, end or list temporary allows in the state directory.
pub fn allow(
    source: &ConfigSource,
    config: &Config,
    name: Option<&str>,
    profile: Option<&str>,
    duration: std::time::Duration,
    action: AllowAction,
) -> Result<String, String> {
    let AllowAction { end, list, bedtime } = action;
    use crate::policy::overrides;
    use std::fmt::Write as _;
    // The running daemon's state folder, not this user's default one.
    let found = crate::runtime::state_dir(source, Ok(config))?;
    let file = crate::state::layout::temporary_allows(&found.dir);
    if !list && let Some(dir) = file.parent() {
        // The state folder is private (0700) even when this command makes it.
        crate::state::create_private_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let now = jiff::Timestamp::now();
    let tz = jiff::tz::TimeZone::system();
    let local = |t: jiff::Timestamp| {
        t.to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    if list {
        let mut out = String::new();
        let allows = overrides::load(&file)?;
        let live: Vec<_> = allows.iter().filter(|a| a.until > now).collect();
        if live.is_empty() {
            out.push_str("no temporary allows\n");
        }
        for a in live {
            let scope = overrides::Scope::of(a.bedtime).describe();
            let by = match (&a.by, a.since) {
                (Some(by), Some(since)) => format!(", by {by} at {}", local(since)),
                (Some(by), None) => format!(", by {by}"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{} for {} until {} ({scope}{by})",
                a.name,
                a.profile,
                local(a.until)
            );
        }
        return Ok(out);
    }
    let name = name.ok_or("a name is needed")?;
    let who = cli_user();
    let audit = |action: &str, detail: &str| {
        let db = crate::state::layout::activity_db(&found.dir);
        if let Err(e) = crate::activity::store::Store::audit_from_command(&db, &who, action, detail)
        {
            errln!(
                "warning: {}: {e}; this change is not in the dashboard's audit trail",
                db.display()
            );
        }
    };
    if end {
        let n = overrides::remove(&file, name, profile)?;
        if n > 0 {
            let whose = profile.map_or("every profile".to_string(), |p| format!("profile {p}"));
            audit("revoke", &format!("{name} for {whose} (temporary)"));
        }
        return Ok(format!(
            "ended {n} temporary allow{} of {name}\n",
            if n == 1 { "" } else { "s" }
        ));
    }
    let profile = profile.ok_or("--profile is needed")?;
    let engine = crate::engine::Engine::build(config).map_err(|e| format!("{e:#}"))?;
    let Some(index) = engine.profile_index(profile) else {
        return Err(format!(
            "no profile `{profile}`; profiles: {}",
            engine.profile_ids().collect::<Vec<_>>().join(", ")
        ));
    };
    if duration > MAX_ALLOW || duration.is_zero() {
        return Err("--for must be between 1s and 30 days; for good, add the name to the profile's allowlist".into());
    }
    if let Some(category) = engine.security_block(name, index) {
        return Err(format!(
            "{name} is on a security list ({category}) for profile {profile}; an allow cannot lift \
             malware, phishing and scam blocks, so nothing was written. If the listing is a mistake, \
             report it to the list's maintainers."
        ));
    }
    let span = jiff::SignedDuration::try_from(duration).map_err(|e| e.to_string())?;
    let until = now.checked_add(span).map_err(|e| e.to_string())?;
    let scope = overrides::Scope::of(bedtime);
    let name = overrides::add_scoped(&file, name, profile, until, now, scope, Some(&who)).map_err(
        |e| {
            format!(
                "{e}; run `nestguard allow` as the daemon's user (for a system service: with sudo)"
            )
        },
    )?;
    audit(
        "allow",
        &format!(
            "{name} for {profile} (until {}): {}",
            local(until),
            scope.describe()
        ),
    );
    let applies = match crate::runtime::running_pid(&found) {
        Some(pid) => format!("the running daemon (pid {pid}) applies it within a second"),
        None => format!(
            "no running nestguard daemon was found for {source}: it applies when one starts with this config"
        ),
    };
    Ok(format!(
        "allowed {name} for profile {profile} until {}: {} (written to {}; {applies})\n",
        local(until),
        scope.describe(),
        file.display()
    ))
}

/// Longest pause: a longer one is a setting, not a pause.
const MAX_PAUSE: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// The running daemon's state folder (made private when missing), and the
/// engine with the child or profile `who` names: its id.
fn child_target(
    source: &ConfigSource,
    config: &Config,
    who: &str,
) -> Result<(crate::runtime::Located, crate::engine::Engine, String), String> {
    let found = crate::runtime::state_dir(source, Ok(config))?;
    crate::state::create_private_dir(&found.dir)
        .map_err(|e| format!("{}: {e}", found.dir.display()))?;
    let engine = crate::engine::Engine::build(config).map_err(|e| format!("{e:#}"))?;
    let id = match engine.child(who) {
        Some(c) => c.id.clone(),
        None if engine.profile_index(who).is_some() => who.to_string(),
        None => {
            let children: Vec<&str> = engine.children().iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "no child or profile `{who}`; children: {}",
                if children.is_empty() {
                    "none in the config".to_string()
                } else {
                    children.join(", ")
                }
            ));
        }
    };
    Ok((found, engine, id))
}

fn applies(source: &ConfigSource, found: &crate::runtime::Located) -> String {
    match crate::runtime::running_pid(found) {
        Some(pid) => format!("the running daemon (pid {pid}) applies it within a second"),
        None => format!(
            "no running nestguard daemon was found for {source}: it applies when one starts with this config"
        ),
    }
}

/// `pause CHILD DURATION` or `pause CHILD --until HH:MM`.
pub fn pause(
    source: &ConfigSource,
    config: &Config,
    who: &str,
    duration: Option<std::time::Duration>,
    until: Option<&str>,
) -> Result<String, String> {
    let (found, _, id) = child_target(source, config, who)?;
    let now = jiff::Timestamp::now();
    let tz = jiff::tz::TimeZone::system();
    let end = match (duration, until) {
        (Some(d), _) => {
            if d.is_zero() || d > MAX_PAUSE {
                return Err("a pause lasts between 1s and 7 days".into());
            }
            let span = jiff::SignedDuration::try_from(d).map_err(|e| e.to_string())?;
            now.checked_add(span).map_err(|e| e.to_string())?
        }
        (None, Some(hhmm)) => {
            let minute = crate::schedule::parse_hhmm(hhmm)
                .ok_or_else(|| format!("--until `{hhmm}` is not a time of day as HH:MM"))?;
            crate::schedule::next_local(now, &tz, minute)?
        }
        (None, None) => return Err("say how long (30m) or until when (--until 07:00)".into()),
    };
    let file = crate::state::layout::pauses(&found.dir);
    crate::policy::pause::pause(&file, &id, end, now, &cli_user())?;
    crate::activity::events::note(
        &found.dir,
        "pause",
        &format!("{} paused {id} until {end}", cli_user()),
    );
    let shown = end
        .to_zoned_datetime(tz)
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    Ok(format!(
        "paused {id} until {shown}: everything blocked except help lines ({})\n",
        applies(source, &found)
    ))
}

/// `grant CHILD SERVICE DURATION`: extra time on today's budget.
pub fn grant(
    source: &ConfigSource,
    config: &Config,
    (who, service): (&str, &str),
    extra: std::time::Duration,
) -> Result<String, String> {
    let (found, engine, id) = child_target(source, config, who)?;
    let minutes = u32::try_from(extra.as_secs() / 60).unwrap_or(u32::MAX);
    if minutes == 0 || minutes > 24 * 60 {
        return Err("extra time is between 1m and 24h".into());
    }
    let now = jiff::ZonedDateTime::now();
    let local = crate::schedule::LocalTime::of(now.datetime());
    let minute = u64::try_from(now.timestamp().as_second() / 60).unwrap_or(0);
    let grant = crate::engine::grant_for(
        engine.budgets(),
        &id,
        service,
        minutes,
        (minute, local, now.date()),
        &cli_user(),
    )?;
    crate::policy::budget::add_grant(&crate::state::layout::grants(&found.dir), grant)?;
    crate::activity::events::note(
        &found.dir,
        "grant",
        &format!(
            "{} gave {id} {minutes} more minutes of {service}",
            cli_user()
        ),
    );
    Ok(format!(
        "{id} has {minutes} more minutes of {service} today ({})\n",
        applies(source, &found)
    ))
}

/// `resume CHILD`.
pub fn resume(source: &ConfigSource, config: &Config, who: &str) -> Result<String, String> {
    let (found, _, id) = child_target(source, config, who)?;
    let was = crate::policy::pause::resume(
        &crate::state::layout::pauses(&found.dir),
        &id,
        jiff::Timestamp::now(),
    )?;
    if !was {
        return Ok(format!("{id} was not paused\n"));
    }
    crate::activity::events::note(&found.dir, "pause", &format!("{} resumed {id}", cli_user()));
    Ok(format!("resumed {id} ({})\n", applies(source, &found)))
}

/// `confirm-band CHILD`.
pub fn confirm_band(source: &ConfigSource, config: &Config, who: &str) -> Result<String, String> {
    let (found, engine, id) = child_target(source, config, who)?;
    let child = engine
        .child(&id)
        .ok_or_else(|| format!("`{who}` is a profile, not a child"))?;
    let today = jiff::ZonedDateTime::now().date();
    let mut recorded = crate::policy::children::Recorded::load(&found.dir)?;
    let Some(band) = recorded.confirm(child, today) else {
        return Ok(format!(
            "{} stays in `{}`: no move to another band is waiting\n",
            child.name, child.band
        ));
    };
    recorded
        .save(&found.dir)
        .map_err(|e| format!("{}: {e}", found.dir.display()))?;
    crate::activity::events::note(
        &found.dir,
        "band",
        &format!(
            "{} moved {} from {} to {band}",
            cli_user(),
            child.name,
            child.band
        ),
    );
    Ok(format!(
        "{} moves from `{}` to `{band}` ({})\n",
        child.name,
        child.band,
        applies(source, &found)
    ))
}

/// Longest exam (or teacher's override): a longer one is a schedule.
const MAX_EXAM: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

/// What `exam start` was given.
pub struct ExamStart<'a> {
    pub duration: std::time::Duration,
    pub allow_file: Option<&'a std::path::Path>,
    pub sites: &'a [String],
    pub who: &'a [String],
}

/// A teacher's override during an exam.
pub enum ExamOverride<'a> {
    /// A site opened.
    Open(&'a str),
    /// The exam lifted for a child, profile or client.
    Lift(&'a str),
}

/// The end of an exam or override lasting `d` from `now`.
fn exam_end(now: jiff::Timestamp, d: std::time::Duration) -> Result<jiff::Timestamp, String> {
    if d < std::time::Duration::from_secs(60) || d > MAX_EXAM {
        return Err("an exam or an override lasts between 1 minute and 12 hours".into());
    }
    let span = jiff::SignedDuration::try_from(d).map_err(|e| e.to_string())?;
    now.checked_add(span).map_err(|e| e.to_string())
}

/// `until` as the local time of day.
fn local_hhmm(t: jiff::Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%H:%M")
        .to_string()
}

/// The state folder and engine, with every `who` name checked.
fn exam_target(
    source: &ConfigSource,
    config: &Config,
    who: &[&str],
) -> Result<crate::runtime::Located, String> {
    let found = crate::runtime::state_dir(source, Ok(config))?;
    crate::state::create_private_dir(&found.dir)
        .map_err(|e| format!("{}: {e}", found.dir.display()))?;
    let engine = crate::engine::Engine::build(config).map_err(|e| format!("{e:#}"))?;
    for w in who {
        if engine.exam_targets(w).is_none() {
            return Err(format!(
                "no child, profile or [[client]] named `{w}` (or `{}` for everyone)",
                crate::policy::exam::EVERYONE
            ));
        }
    }
    Ok(found)
}

/// `exam start --for D [--allow FILE] [--site NAME]… [--who A,B]`.
pub fn exam_start(
    source: &ConfigSource,
    config: &Config,
    start: ExamStart<'_>,
) -> Result<String, String> {
    let now = jiff::Timestamp::now();
    let until = exam_end(now, start.duration)?;
    let mut allow = match start.allow_file {
        Some(file) => crate::policy::exam::read_allow_file(file)?,
        None => Vec::new(),
    };
    for site in start.sites {
        allow.push(
            crate::rules::name::normalize(site).map_err(|e| format!("--site `{site}`: {e}"))?,
        );
    }
    let who: Vec<&str> = start.who.iter().map(|w| w.trim()).collect();
    let found = exam_target(source, config, &who)?;
    let sites = allow.len();
    crate::policy::exam::start(
        &crate::state::layout::exam(&found.dir),
        crate::policy::exam::Exam {
            who: who.iter().map(|w| w.to_string()).collect(),
            until,
            allow,
            by: cli_user(),
        },
    )?;
    let whom = who.join(", ");
    crate::activity::events::note(
        &found.dir,
        "exam",
        &format!("{} started an exam for {whom} until {until}", cli_user()),
    );
    Ok(format!(
        "exam for {whom} until {}: only {sites} exam site(s) and help lines reachable, AI chatbots and filter bypass blocked ({})\n",
        local_hhmm(until),
        applies(source, &found)
    ))
}

/// `exam stop`.
pub fn exam_stop(source: &ConfigSource, config: &Config) -> Result<String, String> {
    let found = exam_target(source, config, &[])?;
    let was = crate::policy::exam::stop(
        &crate::state::layout::exam(&found.dir),
        jiff::Timestamp::now(),
    )?;
    if !was {
        return Ok("no exam started with `nestguard exam start` was in force\n".into());
    }
    crate::activity::events::note(
        &found.dir,
        "exam",
        &format!("{} ended the exam", cli_user()),
    );
    Ok(format!("exam ended ({})\n", applies(source, &found)))
}

/// `exam allow NAME --for D`, `exam lift WHO --for D`.
pub fn exam_override(
    source: &ConfigSource,
    config: &Config,
    what: ExamOverride<'_>,
    duration: std::time::Duration,
) -> Result<String, String> {
    use crate::policy::exam::{Lift, OpenSite};
    let now = jiff::Timestamp::now();
    let until = exam_end(now, duration)?;
    let who = match what {
        ExamOverride::Lift(w) => vec![w.trim()],
        ExamOverride::Open(_) => Vec::new(),
    };
    let found = exam_target(source, config, &who)?;
    let by = cli_user();
    let path = crate::state::layout::exam(&found.dir);
    let done = match what {
        ExamOverride::Open(name) => {
            let name = crate::rules::name::normalize(name).map_err(|e| format!("`{name}`: {e}"))?;
            let done = format!("{name} is open during the exam");
            let by = by.clone();
            crate::policy::exam::add_override(&path, now, |f| {
                f.open.retain(|o| o.name != name);
                f.open.push(OpenSite { name, until, by });
            })?;
            done
        }
        ExamOverride::Lift(who) => {
            let who = who.trim().to_string();
            let done = format!("the exam is lifted for {who}");
            let by = by.clone();
            crate::policy::exam::add_override(&path, now, |f| {
                f.lifts.retain(|l| l.who != who);
                f.lifts.push(Lift { who, until, by });
            })?;
            done
        }
    };
    crate::activity::events::note(&found.dir, "exam", &format!("{by}: {done} until {until}"));
    Ok(format!(
        "{done} until {} ({})\n",
        local_hhmm(until),
        applies(source, &found)
    ))
}

/// `exam status`: the exam from the command line, the config's `[[exam]]`
/// windows, and the overrides in force.
pub fn exam_status(config: &Config) -> Result<String, String> {
    use std::fmt::Write as _;
    let now = jiff::Timestamp::now();
    let file = crate::policy::exam::load(&crate::state::layout::exam(&crate::state::dir(config)))?;
    let mut out = String::new();
    match file.current(now) {
        Some(e) => {
            let _ = writeln!(
                out,
                "exam for {} until {} ({} site(s){})",
                e.who.join(", "),
                local_hhmm(e.until),
                e.allow.len(),
                if e.by.is_empty() {
                    String::new()
                } else {
                    format!(", started by {}", e.by)
                }
            );
            for o in file.open.iter().filter(|o| o.until > now) {
                let _ = writeln!(out, "  open: {} until {}", o.name, local_hhmm(o.until));
            }
            for l in file.lifts.iter().filter(|l| l.until > now) {
                let _ = writeln!(out, "  lifted for {} until {}", l.who, local_hhmm(l.until));
            }
        }
        None => out.push_str("no exam started with `nestguard exam start` is in force\n"),
    }
    let local = crate::clock::LocalTime::of(jiff::ZonedDateTime::now().datetime());
    let engine = if config.exams.is_empty() {
        None
    } else {
        Some(crate::engine::Engine::build(config).map_err(|e| format!("{e:#}"))?)
    };
    let windows = engine.as_ref().map_or(&[][..], |e| e.exam_windows());
    for (w, plan) in config.exams.iter().zip(windows) {
        let w = w.get_ref();
        let open = plan.window.active(local);
        let _ = writeln!(
            out,
            "[[exam]] \"{}\" {}–{}{}: {}",
            w.name,
            w.from.get_ref(),
            w.to.get_ref(),
            if w.days.is_empty() {
                String::new()
            } else {
                format!(
                    " on {}",
                    w.days
                        .iter()
                        .map(|d| d.get_ref().as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            if open { "open now" } else { "not open now" }
        );
    }
    Ok(out)
}
