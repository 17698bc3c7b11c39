//! The command line: parsing only. Each command is carried out by the library.

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
    Check,
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
    },
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
        } => {
            let Ok(qtype) = qtype
                .to_ascii_uppercase()
                .parse::<hickory_proto::rr::RecordType>()
            else {
                eprintln!("nestguard: unknown query type `{qtype}`");
                return ExitCode::from(EXIT_CONFIG);
            };
            let set = match crate::rules::catalog::compile(&config.rules) {
                Ok((set, _, _)) => set,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            match crate::explain::explain(&set, &name, u16::from(qtype), profile.as_deref()) {
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
        Command::Check => {
            let (set, diagnostics) = match crate::rules::catalog::compile(&config.rules) {
                Ok((set, d, _)) => (set, d),
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
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
            match runtime.block_on(crate::app::run(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("nestguard: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// RUST_LOG, when set, wins over the config's level.
fn init_logging(level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
