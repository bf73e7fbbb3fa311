//! The `ssowatch` binary: parse, dispatch, and turn any error into one clear line.

use std::process::ExitCode;

use clap::Parser;
use ssowatch::cli::{Cli, Command};
use ssowatch::{config, dashboard, emulator, headless};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let _log_guard = init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ssowatch: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if is_broken_pipe(&e) {
                // `ssowatch list | head`: the reader has all it wanted.
                return ExitCode::SUCCESS;
            }
            let message = format!("{e:#}").replace('\n', " ");
            tracing::error!("{message}");
            eprintln!(
                "ssowatch: error: {}",
                ssowatch::sanitize::clean_text(&message)
            );
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Emulate(args)) = &cli.command {
        return emulator::run_cli(args.clone()).await;
    }
    let settings = config::load(cli.global.config.as_deref(), &cli.global.overrides())?;
    match &cli.command {
        None => dashboard::run(settings).await,
        Some(Command::List(args)) => headless::list(&settings, args).await,
        Some(Command::Describe(args)) => headless::describe(&settings, args).await,
        Some(Command::Emulate(_)) => Ok(()),
        Some(Command::Wait(args)) => ssowatch::wait::run(&settings, args).await,
        Some(Command::Serve(args)) => ssowatch::serve::run(&settings, args).await,
    }
}

/// Clap's errors are several lines with usage; keep help and version as they are, and turn
/// real errors into one line that says what to do.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            let rendered = e.render().to_string();
            let first = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ")
                .trim();
            let tip = rendered
                .lines()
                .find_map(|l| l.trim().strip_prefix("tip: "))
                .map(|t| format!("; {t}"))
                .unwrap_or_default();
            eprintln!("ssowatch: error: {first}{tip} (see ssowatch --help)");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Logs go to a file in the platform state (or cache) dir, never to the terminal: the
/// dashboard owns the screen. `SSOWATCH_LOG` sets the filter (default `info`).
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dirs = directories::ProjectDirs::from("", "", "ssowatch")?;
    let dir = dirs.state_dir().unwrap_or(dirs.cache_dir()).to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "ssowatch.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("SSOWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}
