//! The command line: the commands and their options, and the short bodies
//! that turn each command into library calls and an exit code.

use crate::terminal::{errln, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{self, EXIT_CONFIG, ReportFormat};
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
        /// Check FILE as a conf.d drop-in of the main config (--config): what
        /// a drop-in may hold, and the whole config with it in place.
        #[arg(long, value_name = "FILE")]
        drop_in: Option<PathBuf>,
        /// With --drop-in: the conf.d file name it will be installed as
        /// (that file, if present, is left out; FILE is read in its place).
        #[arg(long = "as", value_name = "NAME", requires = "drop_in")]
        as_name: Option<std::ffi::OsString>,
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
        /// One child (by name) or one profile only.
        #[arg(long, short = 'p', visible_alias = "child")]
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
    Passwd {
        /// The parent whose password this is (`[[admin.parent]]`; added when
        /// new). Without it: `[admin] password_hash`, the account named `parent`.
        #[arg(long, value_name = "NAME")]
        parent: Option<String>,
    },
    /// Make a new read-only token for monitoring (`/metrics` and `/api/status`
    /// only): prints it on standard output and writes its SHA-256 into the
    /// config file (`[admin] metrics_token_hash`), replacing any earlier one.
    MetricsToken,
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
        /// The child (by name) or profile it is allowed for.
        #[arg(long, short = 'p', visible_alias = "child", required_unless_present_any = ["list", "end"])]
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
    /// Pause the internet for a child: everything blocked except help lines,
    /// until the time runs out or `nestguard resume`.
    ///
    /// `nestguard pause leo 30m`, `nestguard pause leo --until 07:00`.
    Pause {
        /// The child's name (or a profile's id).
        child: String,
        /// How long, e.g. 30m, 2h (at most 7 days).
        #[arg(required_unless_present = "until", conflicts_with = "until")]
        duration: Option<humantime::Duration>,
        /// Until this local time (HH:MM): today, or tomorrow if it has passed.
        #[arg(long, value_name = "HH:MM")]
        until: Option<String>,
    },
    /// End a child's pause now.
    Resume { child: String },
    /// Give a child extra time on a service's daily budget, for today.
    ///
    /// `nestguard grant leo youtube 30m`.
    Grant {
        /// The child's name (or a profile's id).
        child: String,
        /// The service's id in services.toml (`youtube`).
        service: String,
        /// How much more, e.g. 30m, 1h (at most 24h).
        minutes: humantime::Duration,
    },
    /// Exam mode for a school lab: only the exam's sites and help lines are
    /// reachable, AI chatbots and filter bypass stay blocked; it ends by itself.
    ///
    /// `nestguard exam start --for 90m --allow sites.txt`, `nestguard exam
    /// allow dictionary.com --for 15m`, `nestguard exam stop`.
    Exam {
        #[command(subcommand)]
        action: ExamAction,
    },
    /// Move a child into the age band their birthday says, once a parent
    /// agrees (`status` says when one is waiting).
    ConfirmBand { child: String },
    /// Show this user's blocks as desktop notifications: the per-user agent
    /// the desktop session starts (`/etc/xdg/autostart/nestguard-notify.desktop`).
    /// Needs `[notify] enabled = true` in the daemon's config; reads no config itself.
    Notify {
        /// The daemon's notice socket.
        #[arg(long, value_name = "PATH", default_value = crate::config::NOTIFY_SOCKET)]
        socket: PathBuf,
    },
    /// Make the router's config from UCI (/etc/config/nestguard), the router
    /// preset and the persistent [admin] file: what /etc/init.d/nestguard runs
    /// at every start. Exit status 2 with file:line:column on a mistake.
    OpenwrtConfig {
        /// The UCI config file.
        #[arg(value_name = "UCI_FILE")]
        uci: PathBuf,
        /// The preset the UCI options go over.
        #[arg(
            long,
            value_name = "FILE",
            default_value = "/usr/share/nestguard/router.toml"
        )]
        preset: PathBuf,
        /// The persistent [admin] file (`nestguard passwd` writes there); may be absent.
        #[arg(long, value_name = "FILE", default_value = "/etc/nestguard/admin.toml")]
        admin: PathBuf,
        /// Write here (atomically) instead of printing.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Make and sign policy bundles for a fleet's `[fleet] url` (reads no config).
    Fleet {
        #[command(subcommand)]
        action: FleetAction,
    },
}

/// What `nestguard fleet` does.
#[derive(Debug, Subcommand)]
pub enum FleetAction {
    /// Make a signing key pair (minisign's formats; the secret key has no password).
    Keygen {
        /// Where the public key goes (its second line is `[fleet] public_key`).
        #[arg(long, value_name = "FILE")]
        public: PathBuf,
        /// Where the secret key goes (keep it off the machines).
        #[arg(long, value_name = "FILE")]
        secret: PathBuf,
    },
    /// Bundle DIR's conf.d/*.toml and lists/* as VERSION and sign it:
    /// writes BUNDLE and BUNDLE.minisig.
    Sign {
        /// The minisign secret key file.
        #[arg(long, value_name = "SECRETKEY")]
        key: PathBuf,
        /// The bundle's version: above every version published before.
        #[arg(long)]
        version: u64,
        /// The folder with conf.d/ and lists/.
        dir: PathBuf,
        /// The bundle file to write.
        #[arg(long, short = 'o', value_name = "BUNDLE")]
        output: PathBuf,
    },
}

/// What `nestguard exam` does.
#[derive(Debug, Subcommand)]
pub enum ExamAction {
    /// Start an exam now (replacing one in force).
    Start {
        /// How long, e.g. 90m (at most 12 hours).
        #[arg(long = "for", value_name = "DURATION")]
        duration: humantime::Duration,
        /// A file of the sites reachable during the exam, one domain per line.
        #[arg(long, value_name = "FILE")]
        allow: Option<PathBuf>,
        /// A site reachable during the exam (repeat for more).
        #[arg(long = "site", value_name = "NAME")]
        sites: Vec<String>,
        /// Whom it holds for: all, or children, profiles and [[client]] names.
        #[arg(long, value_delimiter = ',', default_value = "all")]
        who: Vec<String>,
    },
    /// End the exam now, with its overrides.
    Stop,
    /// Say whether an exam holds, for whom, until when, and its overrides.
    Status,
    /// A teacher's override: open one site during the exam for a while.
    Allow {
        name: String,
        #[arg(long = "for", value_name = "DURATION")]
        duration: humantime::Duration,
    },
    /// A teacher's override: lift the exam for one child, profile or client for a while.
    Lift {
        who: String,
        #[arg(long = "for", value_name = "DURATION")]
        duration: humantime::Duration,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ResolverAction {
    Enable,
    Disable,
    Status,
}

fn load(cli: &Cli) -> Result<(ConfigSource, Config), config::ConfigError> {
    let source = config::locate(cli.config.as_deref())?;
    let config = match (&cli.command, &source) {
        (
            Command::Check {
                drop_in: Some(file),
                as_name,
                ..
            },
            ConfigSource::File(main),
        ) => Config::load_with_drop_in(main, file, as_name.as_deref())?,
        (
            Command::Check {
                drop_in: Some(file),
                ..
            },
            ConfigSource::Embedded,
        ) => {
            return Err(config::ConfigError::plain(
                &file.display().to_string(),
                "--drop-in needs the main config it goes with: --config /etc/nestguard/nestguard.toml"
                    .into(),
            ));
        }
        _ => Config::load(&source)?,
    };
    Ok((source, config))
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The agent runs as a desktop user, who cannot read the daemon's config.
    if let Command::Notify { socket } = &cli.command {
        return notify(socket.clone());
    }
    if let Command::Fleet { action } = &cli.command {
        return commands::report(match action {
            FleetAction::Keygen { public, secret } => commands::fleet_keygen(public, secret),
            FleetAction::Sign {
                key,
                version,
                dir,
                output,
            } => commands::fleet_sign(key, *version, dir, output),
        });
    }
    // Reads UCI, not a nestguard config (it makes one).
    if let Command::OpenwrtConfig {
        uci,
        preset,
        admin,
        output,
    } = &cli.command
    {
        let sources = crate::openwrt::Generated {
            uci: uci.clone(),
            preset: preset.clone(),
            admin: admin.clone(),
        };
        return match crate::openwrt::command(&sources, output.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                errln!("{e}");
                ExitCode::from(EXIT_CONFIG)
            }
        };
    }
    let (source, config) = match load(&cli) {
        Ok(x) => x,
        // `status` must work while the config is broken: that is when it is needed.
        Err(e) if matches!(cli.command, Command::Status { .. }) => {
            errln!("warning: {e}");
            return match config::locate(cli.config.as_deref()) {
                Ok(source) => commands::status(crate::runtime::state_dir(&source, Err(&e)), &[]),
                Err(e) => commands::report(Err(e.to_string())),
            };
        }
        Err(e) => {
            errln!("{e}");
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
                errln!("nestguard: unknown query type `{qtype}`");
                return ExitCode::from(EXIT_CONFIG);
            };
            // `explain` names each domain rule's list and line: compile with them kept.
            let mut config = config;
            config.rules.keep_origins = true;
            let explained = match client {
                Some(client) => commands::explain_client(
                    &config,
                    &name,
                    u16::from(qtype),
                    &client,
                    at.as_deref(),
                ),
                None => match crate::rules::catalog::compile(
                    &crate::rules::subscriptions::rules_config(&config),
                ) {
                    Ok((set, _, _)) => {
                        crate::explain::explain(&set, &name, u16::from(qtype), profile.as_deref())
                    }
                    Err(e) => Err(e.to_string()),
                },
            };
            commands::report(explained)
        }
        Command::Status { root } => commands::status(
            crate::runtime::state_dir(&source, Ok(&config)),
            &commands::per_user_warnings(&config, &root),
        ),
        Command::Reload => commands::report(commands::reload(&source, &config)),
        Command::Update => commands::update(&config),
        Command::Passwd { parent } => {
            commands::report(commands::passwd(&source, parent.as_deref()))
        }
        Command::MetricsToken => commands::metrics_token(&source),
        Command::SystemResolver { action, root } => {
            use crate::system_resolver as sr;
            commands::report(
                match action {
                    ResolverAction::Enable => {
                        match sr::local_address(config.server.listen.get_ref()) {
                            Some(addr) => sr::enable(&root, addr, commands::per_user(&config)),
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
        } => commands::report(commands::report_text(
            &config,
            profile.as_deref(),
            *since,
            format,
        )),
        Command::Allow {
            name,
            profile,
            duration,
            bedtime,
            end,
            list,
        } => commands::report(commands::allow(
            &source,
            &config,
            name.as_deref(),
            profile.as_deref(),
            *duration,
            commands::AllowAction { end, list, bedtime },
        )),
        Command::Pause {
            child,
            duration,
            until,
        } => commands::report(commands::pause(
            &source,
            &config,
            &child,
            duration.map(|d| *d),
            until.as_deref(),
        )),
        Command::Resume { child } => commands::report(commands::resume(&source, &config, &child)),
        Command::Grant {
            child,
            service,
            minutes,
        } => commands::report(commands::grant(
            &source,
            &config,
            (&child, &service),
            *minutes,
        )),
        Command::Exam { action } => commands::report(match action {
            ExamAction::Start {
                duration,
                allow,
                sites,
                who,
            } => commands::exam_start(
                &source,
                &config,
                commands::ExamStart {
                    duration: *duration,
                    allow_file: allow.as_deref(),
                    sites: &sites,
                    who: &who,
                },
            ),
            ExamAction::Stop => commands::exam_stop(&source, &config),
            ExamAction::Status => commands::exam_status(&config),
            ExamAction::Allow { name, duration } => commands::exam_override(
                &source,
                &config,
                commands::ExamOverride::Open(&name),
                *duration,
            ),
            ExamAction::Lift { who, duration } => commands::exam_override(
                &source,
                &config,
                commands::ExamOverride::Lift(&who),
                *duration,
            ),
        }),
        Command::ConfirmBand { child } => {
            commands::report(commands::confirm_band(&source, &config, &child))
        }
        Command::Check { root, drop_in, .. } => {
            let (engine, diagnostics) = match crate::engine::Engine::build(&config) {
                Ok(mut engine) => {
                    let d = std::mem::take(&mut engine.diagnostics);
                    (engine, d)
                }
                Err(e) => {
                    errln!("{e:#}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            for w in engine
                .warnings
                .iter()
                .chain(&commands::per_user_warnings(&config, &root))
            {
                errln!("warning: {w}");
            }
            let set = &engine.rules;
            for s in diagnostics.sources.iter().filter(|s| s.rejected > 0) {
                for r in &s.rejects {
                    errln!("{r}");
                }
                if s.rejected > s.rejects.len() {
                    errln!(
                        "{}: … and {} more rejected lines",
                        s.name,
                        s.rejected - s.rejects.len()
                    );
                }
            }

            // Third-party opinion lines kept off public institutions and help lines.
            let guarded: Vec<&str> = diagnostics.guarded().collect();
            for g in &guarded {
                errln!("{g}");
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
            if let Some(file) = &drop_in {
                outln!(
                    "{}: ok as a drop-in of {source} ({} config files read)",
                    file.display(),
                    config.files().count()
                );
            }
            outln!(
                "{source}: ok ({}, {})",
                plural(config.server.listen.get_ref().len(), "listen address"),
                plural(config.upstreams.len(), "upstream")
            );
            outln!(
                "rules: {} domain rules, {} keywords, {} regexes from {} lists ({} lines rejected, {} kept off public institutions and help lines)",
                set.domain_rules(),
                set.keyword_count(),
                set.regex_count(),
                diagnostics.sources.len(),
                diagnostics.rejected(),
                guarded.len()
            );
            ExitCode::SUCCESS
        }
        Command::Notify { socket } => notify(socket),
        // Answered above, before a config is read.
        Command::Fleet { .. } => ExitCode::SUCCESS,
        // Handled before the config is read.
        Command::OpenwrtConfig { .. } => ExitCode::SUCCESS,
        Command::Run => {
            init_logging(config.log.level.get_ref());
            tracing::info!(config = %source, version = env!("CARGO_PKG_VERSION"), "starting nestguard");
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    errln!("nestguard: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let listen = config.server.listen.get_ref().clone();
            match runtime.block_on(crate::app::run(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    errln!("nestguard: {e:#}");
                    if let Some(hint) = listen_hint(&e, &listen) {
                        errln!("{hint}");
                    }
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `nestguard notify`: runs until the session ends it.
#[cfg(not(feature = "desktop"))]
fn notify(_socket: PathBuf) -> ExitCode {
    errln!(
        "nestguard notify: this build has no desktop notices (built without the `desktop` feature, as for a router)"
    );
    ExitCode::FAILURE
}

#[cfg(feature = "desktop")]
fn notify(socket: PathBuf) -> ExitCode {
    init_logging("info");
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("nestguard notify: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(crate::notice::agent::run(socket)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("nestguard notify: {e:#}");
            ExitCode::FAILURE
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
