//! The command line: the commands and their options, and the short bodies
//! that turn each command into library calls and an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, Config, ConfigSource};

#[derive(Debug, Parser)]
#[command(
    name = "nestguard",
    version,
    about = "On-device parental safety DNS filter"
)]
pub struct Cli {
    /// Config file to use instead of the usual search
    /// ($NESTGUARD_CONFIG, /etc/nestguard/nestguard.toml, the user config dir, the embedded default).
    #[arg(long, short = 'c', global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the DNS daemon until SIGINT or SIGTERM.
    Run,
    /// Check the config and the rules; report the first mistake as file:line:column (exit 2 on error).
    Check {
        /// Look at the system's DNS setup under this directory instead of / (for tests).
        #[arg(long, default_value = "/", hide = true)]
        root: PathBuf,
    },
    /// Say what the rules decide for a name, and which rule (file:line) decides it.
    Explain {
        /// The domain name to look up.
        name: String,
        /// An age profile (young-child, child, teen, older-teen, unfiltered, …); all categories when omitted.
        #[arg(long, short = 'p')]
        profile: Option<String>,
        /// Query type.
        #[arg(long = "type", short = 't', default_value = "A")]
        qtype: String,
        /// Explain for a client, as the daemon would see it: an IP address, a MAC
        /// address or a local user name (profile, schedules and temporary allows included).
        #[arg(long, conflicts_with = "profile")]
        client: Option<String>,
        /// With --client: the local time to explain for, e.g. 2026-11-22T21:30 (default: now).
        #[arg(long, requires = "client")]
        at: Option<String>,
    },
    /// Show whether the daemon runs, its last reload and its rule counts per category and profile.
    Status {
        /// Look at the system's DNS setup under this directory instead of / (for tests).
        #[arg(long, default_value = "/", hide = true)]
        root: PathBuf,
    },
    /// Make the running daemon reload now (SIGHUP), putting in force a change
    /// it holds back (a list that lost rules waits until it has been unchanged for a while).
    Reload,
    /// Show what the children's activity looked like: per profile, queries,
    /// time online, blocks by category, bypass attempts, top blocked sites, active hours.
    Report {
        /// One profile only.
        #[arg(long, short = 'p')]
        profile: Option<String>,
        /// The period: the last 24h, 7d, 30d, …
        #[arg(long, default_value = "7d", value_name = "DURATION")]
        since: humantime::Duration,
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Make this machine use nestguard for DNS (a systemd-resolved drop-in, or
    /// /etc/resolv.conf with the original saved), undo it exactly, or show which.
    SystemResolver {
        #[arg(value_enum)]
        action: ResolverAction,
        /// Work under this directory instead of / (for images and tests).
        #[arg(long, default_value = "/", hide = true)]
        root: PathBuf,
    },
    /// Set the dashboard password: reads it (twice) from the terminal, or once
    /// from standard input, and writes its Argon2 hash into the config file.
    Passwd,
    /// Download the subscribed lists (`[update]` in the config) into the state
    /// directory; a running daemon reloads them. Exit status 1 if any list failed or was refused.
    Update,
    /// Lift a block for one profile for a while; it ends by itself.
    ///
    /// `nestguard allow games.example --profile child --for 1h`. The running
    /// daemon applies it within a second. It lifts category blocks; bedtime and
    /// other allow-only windows still apply unless --bedtime is given.
    /// Security lists (malware, scams) cannot be lifted: such a name is refused.
    Allow {
        /// The domain name to allow (with its subdomains).
        #[arg(required_unless_present = "list")]
        name: Option<String>,
        /// The profile it is allowed for.
        #[arg(long, short = 'p', required_unless_present_any = ["list", "end"])]
        profile: Option<String>,
        /// How long, e.g. 30m, 1h, 2h30m (at most 30 days).
        #[arg(long = "for", value_name = "DURATION", default_value = "1h")]
        duration: humantime::Duration,
        /// Also during bedtime and other allow-only schedule windows.
        #[arg(long, conflicts_with_all = ["list", "end"])]
        bedtime: bool,
        /// End the allows of NAME now (for --profile only, when given).
        #[arg(long, conflicts_with = "list")]
        end: bool,
        /// List the temporary allows in force.
        #[arg(long)]
        list: bool,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ResolverAction {
    Enable,
    Disable,
    Status,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Csv,
}

/// Exit code for a config the user has to fix.
pub const EXIT_CONFIG: u8 = 2;

fn load(cli: &Cli) -> Result<(ConfigSource, Config), config::ConfigError> {
    let source = config::locate(cli.config.as_deref())?;
    let config = Config::load(&source)?;
    Ok((source, config))
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let (source, config) = match load(&cli) {
        Ok(x) => x,
        // `status` must work while the config is broken: that is when it is needed.
        Err(e) if matches!(cli.command, Command::Status { .. }) => {
            eprintln!("warning: {e}");
            return match config::locate(cli.config.as_deref()) {
                Ok(source) => status(crate::runtime::state_dir(&source, Err(&e)), &[]),
                Err(e) => report(Err(e.to_string())),
            };
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match cli.command {
        Command::Explain {
            name,
            profile,
            qtype,
            client,
            at,
        } => {
            let Ok(qtype) = qtype
                .to_ascii_uppercase()
                .parse::<hickory_proto::rr::RecordType>()
            else {
                eprintln!("nestguard: unknown query type `{qtype}`");
                return ExitCode::from(EXIT_CONFIG);
            };
            let explained = match client {
                Some(client) => {
                    explain_client(&config, &name, u16::from(qtype), &client, at.as_deref())
                }
                None => match crate::rules::catalog::compile(
                    &crate::rules::subscriptions::rules_config(&config),
                ) {
                    Ok((set, _, _)) => {
                        crate::explain::explain(&set, &name, u16::from(qtype), profile.as_deref())
                    }
                    Err(e) => Err(e.to_string()),
                },
            };
            report(explained)
        }
        Command::Status { root } => status(
            crate::runtime::state_dir(&source, Ok(&config)),
            &per_user_warnings(&config, &root),
        ),
        Command::Reload => report(reload(&source, &config)),
        Command::Update => update(&config),
        Command::Passwd => report(passwd(&source)),
        Command::SystemResolver { action, root } => {
            use crate::system_resolver as sr;
            report(
                match action {
                    ResolverAction::Enable => {
                        match sr::local_address(config.server.listen.get_ref()) {
                            Some(addr) => sr::enable(&root, addr, per_user(&config)),
                            None => Err("nestguard listens on no loopback address: add 127.0.0.1:53 to [server] listen".into()),
                        }
                    }
                    ResolverAction::Disable => sr::disable(&root).inspect(|_| {
                        // Parents see it: this machine's lookups no longer go through the filter.
                        crate::activity::events::note(
                            &crate::state::dir(&config),
                            "resolver",
                            "this machine stopped using nestguard (system-resolver disable)",
                        );
                    }),
                    ResolverAction::Status => sr::status(&root),
                },
            )
        }
        Command::Report {
            profile,
            since,
            format,
        } => report(report_text(&config, profile.as_deref(), *since, format)),
        Command::Allow {
            name,
            profile,
            duration,
            bedtime,
            end,
            list,
        } => report(allow(
            &source,
            &config,
            name.as_deref(),
            profile.as_deref(),
            *duration,
            AllowAction { end, list, bedtime },
        )),
        Command::Check { root } => {
            let (engine, diagnostics) = match crate::rules::catalog::compile(
                &crate::rules::subscriptions::rules_config(&config),
            )
            .map_err(anyhow::Error::from)
            .and_then(|(set, d, catalog)| {
                Ok((crate::engine::Engine::assemble(&config, set, &catalog)?, d))
            }) {
                Ok(x) => x,
                Err(e) => {
                    eprintln!("{e:#}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            for w in engine
                .warnings
                .iter()
                .chain(&per_user_warnings(&config, &root))
            {
                eprintln!("warning: {w}");
            }
            let set = &engine.rules;
            for s in diagnostics.sources.iter().filter(|s| s.rejected > 0) {
                for r in &s.rejects {
                    eprintln!("{r}");
                }
                if s.rejected > s.rejects.len() {
                    eprintln!(
                        "{}: … and {} more rejected lines",
                        s.name,
                        s.rejected - s.rejects.len()
                    );
                }
            }

            let plural = |n: usize, word: &str| {
                format!(
                    "{n} {word}{}",
                    if n == 1 {
                        ""
                    } else if word.ends_with('s') {
                        "es"
                    } else {
                        "s"
                    }
                )
            };
            println!(
                "{source}: ok ({}, {})",
                plural(config.server.listen.get_ref().len(), "listen address"),
                plural(config.upstreams.len(), "upstream")
            );
            println!(
                "rules: {} domain rules, {} keywords, {} regexes from {} lists ({} lines rejected)",
                set.domain_rules(),
                set.keyword_count(),
                set.regex_count(),
                diagnostics.sources.len(),
                diagnostics.rejected()
            );
            ExitCode::SUCCESS
        }
        Command::Run => {
            init_logging(config.log.level.get_ref());
            tracing::info!(config = %source, version = env!("CARGO_PKG_VERSION"), "starting nestguard");
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("nestguard: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let listen = config.server.listen.get_ref().clone();
            match runtime.block_on(crate::app::run(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("nestguard: {e:#}");
                    if let Some(hint) = listen_hint(&e, &listen) {
                        eprintln!("{hint}");
                    }
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// What to do about a daemon that could not start listening, when the
/// reason is one a user can fix: a port below 1024 without the right to bind
/// it (the README's quick start runs as a normal user; DNS is port 53).
pub fn listen_hint(error: &anyhow::Error, listen: &[std::net::SocketAddr]) -> Option<String> {
    let denied = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
    });
    let low = listen.iter().find(|a| a.port() != 0 && a.port() < 1024)?;
    if !denied {
        return None;
    }
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "nestguard".into());
    Some(format!(
        "hint: {low}: port {} is below 1024, which only root or a program with the CAP_NET_BIND_SERVICE capability may listen on. \
         Run nestguard as root or as the packaged systemd service (it grants the capability), \
         or give the binary the capability (sudo setcap cap_net_bind_service=+ep {exe}), \
         or, for a trial as a normal user, listen on port 5353: [server] listen = [\"127.0.0.1:5353\"]",
        low.port()
    ))
}

/// Whether some `[[client]]` matches by local user.
fn per_user(config: &Config) -> bool {
    config.clients.iter().any(|c| !c.get_ref().users.is_empty())
}

/// With per-user clients: why this machine's setup would hide the users from nestguard.
fn per_user_warnings(config: &Config, root: &std::path::Path) -> Vec<String> {
    if !per_user(config) {
        return Vec::new();
    }
    crate::system_resolver::per_user_warnings(root, config.server.listen.get_ref())
}

/// `update`: a progress bar on a terminal, one plain line per list otherwise.
fn update(config: &Config) -> ExitCode {
    use crate::update::{self, Outcome};
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = update::Bar::new();
    let progress: &dyn update::Progress = if terminal { &bar } else { &update::Quiet };
    let mut bad = 0;
    let result = update::update_all(config, progress, |sub, outcome| {
        if matches!(outcome, Outcome::Refused(_) | Outcome::Failed(_)) {
            bad += 1;
        }
        println!("{} ({}): {outcome}", sub.name, sub.category);
    });
    match result {
        Ok(all) if all.is_empty() => {
            println!(
                "no lists to update: set [update] subscriptions (names from rules/subscriptions.toml) or add [[update.list]]"
            );
            ExitCode::SUCCESS
        }
        Ok(_) if bad > 0 => ExitCode::FAILURE,
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nestguard: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// `report`: the activity database, as text, JSON or CSV.
fn report_text(
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
    // Some(ids) when the profile asked for is not one the rules define.
    let unknown = match profile {
        Some(p) => {
            let dir = crate::rules::catalog::RulesDir::from_config(&config.rules);
            let ids: Vec<String> = crate::rules::catalog::load_catalog(&dir)
                .map_err(|e| e.to_string())?
                .profiles
                .into_iter()
                .map(|p| p.id)
                .collect();
            (!ids.iter().any(|id| id == p)).then_some(ids)
        }
        None => None,
    };
    let built = report::build(&path, from, profile);
    if let (Some(ids), Some(p)) = (unknown, profile) {
        // A profile the rules no longer have may still have activity to show;
        // a name with neither is a typo, not "no activity recorded".
        if !matches!(&built, Ok(r) if !r.profiles.is_empty()) {
            return Err(format!("no profile `{p}`; profiles: {}", ids.join(", ")));
        }
    }
    let r = built?;
    Ok(match format {
        ReportFormat::Text => report::text(&r),
        ReportFormat::Json => report::json(&r),
        ReportFormat::Csv => report::csv(&r),
    })
}

/// `passwd`: the Argon2 hash of a new password into `[admin] password_hash`
/// (the rest of the file is kept as it is), written atomically.
fn passwd(source: &config::ConfigSource) -> Result<String, String> {
    let config::ConfigSource::File(path) = source else {
        return Err("no config file to write the password into: create one (e.g. /etc/nestguard/nestguard.toml) and pass it with --config".into());
    };
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
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if !doc.contains_table("admin") {
        doc["admin"] = toml_edit::table();
    }
    doc["admin"]["password_hash"] = toml_edit::value(hash);
    let enabled = doc["admin"]
        .get("enabled")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    crate::state::write_atomic(path, doc.to_string().as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // A running daemon reloads the file it watches: no restart to wait for.
    let next = if enabled {
        "a running daemon puts it in force within a second (or at `nestguard reload`) and signs everyone out of the dashboard"
    } else {
        "set [admin] enabled = true to turn the dashboard on; a running daemon starts it at its next reload"
    };
    Ok(format!(
        "password set in {} ([admin] password_hash); {next}\n",
        path.display()
    ))
}

/// `status`: what the daemon last wrote into `state_dir`.
/// Exit status of `nestguard status` when filtering is off (as `systemctl status` does).
const EXIT_STOPPED: u8 = 3;

fn status(found: Result<crate::runtime::Located, String>, warnings: &[String]) -> ExitCode {
    use crate::runtime::How;
    let found = match found {
        Ok(f) => f,
        Err(e) => return report(Err(e)),
    };
    let state_dir = found.dir;
    match found.how {
        How::Running { .. } | How::Config => {}
        How::Recorded { pid } => eprintln!(
            "note: the state folder {} is the one the daemon with this config (pid {pid}, not running now) recorded",
            state_dir.display()
        ),
        How::Scanned => eprintln!(
            "note: the state folder {} is read from the broken config's [state] dir",
            state_dir.display()
        ),
    }
    let s = match crate::status::read(&state_dir) {
        Ok(s) => s,
        Err(e) => {
            for w in warnings {
                eprintln!("warning: {w}");
            }
            return report(Err(e));
        }
    };
    let alive = crate::status::alive(s.pid);
    let since = jiff::Timestamp::now().as_second() - crate::status::EVENT_DAYS * 86_400;
    let events =
        crate::activity::events::recent(&crate::state::layout::activity_db(&state_dir), since);
    print!("{}", crate::status::render(&s, alive, &events));
    for w in warnings {
        println!("warning: {w}");
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
fn reload(source: &ConfigSource, config: &Config) -> Result<String, String> {
    let found = crate::runtime::state_dir(source, Ok(config))?;
    let pid = crate::runtime::running_pid(&found)
        .ok_or_else(|| format!("no running daemon found for {source}"))?;
    crate::service::hangup(pid)?;
    Ok(format!(
        "asked the daemon (pid {pid}) to reload; `nestguard status` shows the outcome\n"
    ))
}

/// Prints a command's text, or its error with exit status 2.
fn report(result: Result<String, String>) -> ExitCode {
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nestguard: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// `explain --client`: the whole engine, with the client's lookups given on the command line.
fn explain_client(
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
    let allows = crate::policy::overrides::load(&crate::state::layout::temporary_allows(
        &crate::state::dir(config),
    ))
    .unwrap_or_default();
    let client = crate::explain::ClientArg::parse(client);
    crate::explain::explain_client(&engine, name, qtype, &client, at, &allows)
}

/// Longest temporary allow: anything longer belongs in the profile's allowlist.
const MAX_ALLOW: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// What `allow` was asked to do besides adding.
struct AllowAction {
    end: bool,
    list: bool,
    bedtime: bool,
}

/// `allow`: add, end or list temporary allows in the state directory.
fn allow(
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
            let _ = writeln!(
                out,
                "{} for {} until {} ({scope})",
                a.name,
                a.profile,
                local(a.until)
            );
        }
        return Ok(out);
    }
    let name = name.ok_or("a name is needed")?;
    if end {
        let n = overrides::remove(&file, name, profile)?;
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
    let name = overrides::add_scoped(&file, name, profile, until, now, scope).map_err(|e| {
        format!("{e}; run `nestguard allow` as the daemon's user (for a system service: with sudo)")
    })?;
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

/// RUST_LOG, when set, wins over the config's level.
fn init_logging(level: &str) {
    use tracing_subscriber::EnvFilter;
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // The file watcher's crate logs every inotify event at trace level; with
    // the log file in a watched folder each line written is another event, a
    // loop. Its own logs are wanted only when asked for by name.
    let named = std::env::var("RUST_LOG").is_ok_and(|v| v.contains("notify"));
    if !named && let Ok(quiet) = "notify=info".parse() {
        filter = filter.add_directive(quiet);
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
