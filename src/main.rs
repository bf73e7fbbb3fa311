//! The `ssowatch` binary: parse, dispatch, and turn any error into one clear line.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use ssowatch::cli::{Cli, Command};
use ssowatch::hub::Token;
use ssowatch::hub::client::HubTarget;
use ssowatch::{config, dashboard, emulator, headless};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, invoked_command().as_deref()),
    };
    let command = invoked_command();
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
            exit_code(&e, command.as_deref())
        }
    }
}

/// Exit codes a script can act on: 2 the command line or config is wrong, 3 the credentials
/// or access are (log in again), 4 the service stayed throttled or unavailable through every
/// retry (try later), 1 anything else.
///
/// `wait` has its own contract (0 all succeeded, 1 some failed, 2 timeout, 3 cannot even
/// start), so a pipeline that gates on it must not read a typo in its flags or config as "the
/// timeout passed": for `wait`, a wrong command line or config exits 3.
fn exit_code(e: &anyhow::Error, command: Option<&str>) -> ExitCode {
    use ssowatch::provider::{ErrorKind, ProviderError};
    if e.chain()
        .any(|c| c.is::<ssowatch::model::UsageError>() || c.is::<ssowatch::config::ConfigError>())
    {
        return setup_exit_code(command);
    }
    match e
        .chain()
        .find_map(|c| c.downcast_ref::<ProviderError>())
        .map(|p| p.kind)
    {
        Some(ErrorKind::Auth) => ExitCode::from(3),
        Some(ErrorKind::Throttled | ErrorKind::Transient) => ExitCode::from(4),
        _ => ExitCode::FAILURE,
    }
}

/// The exit code for a command line or config that cannot be read: 3 for `wait` (its "could
/// not start" code), 2 for the others.
fn setup_exit_code(command: Option<&str>) -> ExitCode {
    if command == Some("wait") {
        ExitCode::from(3)
    } else {
        ExitCode::from(2)
    }
}

/// The subcommand on the command line, found even when the rest of it does not parse (clap
/// then matches what it can).
fn invoked_command() -> Option<String> {
    Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(std::env::args_os())
        .ok()
        .and_then(|m| m.subcommand_name().map(str::to_string))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Emulate(args)) = &cli.command {
        return emulator::run(args.config(), args.port).await;
    }
    let settings = config::load(cli.global.config.as_deref(), &cli.overrides())?;
    if let Some(url) = &cli.global.hub {
        let target = HubTarget {
            url: url.clone(),
            token: Token::for_client(cli.global.hub_token_file.as_deref())?,
        };
        return match &cli.command {
            None => dashboard::run_hub(settings, cli.since.map(Into::into), target).await,
            Some(Command::List(args)) => ssowatch::remote::list(&target, &args.options()).await,
            Some(Command::Failures(args)) => {
                ssowatch::remote::failures(&target, &args.options()).await
            }
            Some(Command::Wait(args)) => {
                let options = ssowatch::wait::WaitOptions {
                    hub: Some(target),
                    ..args.options()
                };
                ssowatch::wait::run(&settings, &options).await
            }
            Some(_) => Err(anyhow::anyhow!(
                "--hub works with the dashboard, list, failures and wait; the other commands talk to the cloud"
            )),
        };
    }
    match &cli.command {
        None => dashboard::run(settings, cli.since.map(Into::into)).await,
        Some(Command::List(args)) => headless::list(&settings, &args.options()).await,
        Some(Command::Describe(args)) => headless::describe(&settings, &args.options()).await,
        Some(Command::Failures(args)) => headless::failures(&settings, &args.options()).await,
        Some(Command::Emulate(_)) => Ok(()),
        Some(Command::Wait(args)) => ssowatch::wait::run(&settings, &args.options()).await,
        Some(Command::Serve(args)) => ssowatch::serve::run(&settings, &args.options()).await,
    }
}

/// Clap's errors are several lines with usage; keep help and version as they are, and turn
/// real errors into one line that says what to do.
fn usage_error(e: clap::Error, command: Option<&str>) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "ssowatch: error: {} (see {})",
                one_line(&e),
                help_for(&e, command)
            );
            setup_exit_code(command)
        }
    }
}

/// Clap's error in one line, with what matters kept: the message, the names of missing
/// arguments, the possible values and the tip, without the usage block.
fn one_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let mut parts: Vec<String> = Vec::new();
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() {
            continue;
        }
        let line = line.strip_prefix("error: ").unwrap_or(line);
        match line.strip_prefix("tip: ") {
            Some(tip) => parts.push(format!("; {tip}")),
            None => parts.push(format!(" {line}")),
        }
    }
    let joined = parts.concat().replace(": ;", ";").trim().to_string();
    let joined = joined.trim_end_matches(':').to_string();
    if joined.is_empty() {
        "invalid arguments".to_string()
    } else {
        ssowatch::sanitize::clean_text(&joined)
    }
}

/// `ssowatch <command> --help` when the error is about a command's arguments (named in the
/// usage line, or else the command clap found on the line).
fn help_for(e: &clap::Error, invoked: Option<&str>) -> String {
    let rendered = e.render().to_string();
    let command = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: ssowatch "))
        .and_then(|rest| rest.split_whitespace().next())
        .or(invoked)
        .filter(|word| ["list", "describe", "emulate", "wait", "serve"].contains(word));
    match command {
        Some(command) => format!("ssowatch {command} --help"),
        None => "ssowatch --help".to_string(),
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
///
/// At trace level the HTTP layers print signed requests, so the file is created 0600, every
/// line passes through [`ssowatch::sanitize::RedactingWriter`], and the transport crates stay
/// at info unless the filter names them (their trace is byte-level noise).
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dirs = directories::ProjectDirs::from("", "", "ssowatch")?;
    let dir = dirs.state_dir().unwrap_or(dirs.cache_dir()).to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    let file = open_private(&dir.join("ssowatch.log")).ok()?;
    let (writer, guard) =
        tracing_appender::non_blocking(ssowatch::sanitize::RedactingWriter::new(file));
    let spec = std::env::var("SSOWATCH_LOG").unwrap_or_else(|_| "info".to_string());
    let mut filter = tracing_subscriber::EnvFilter::try_new(&spec)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    for noisy in [
        "mio",
        "hyper",
        "hyper_util",
        "h2",
        "rustls",
        "tower",
        "want",
    ] {
        if !spec.contains(noisy)
            && let Ok(directive) = format!("{noisy}=info").parse()
        {
            filter = filter.add_directive(directive);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

/// Opens the log for appending, readable by its owner only (and makes an older, wider file
/// private too).
fn open_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}
