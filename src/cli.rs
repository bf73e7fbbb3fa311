//! The command line. Every command takes the global flags, `--demo` included.
//!
//! Every clap type of the crate is here, and only here: the commands take plain option
//! structs of their own (`headless::ListOptions`, `wait::WaitOptions`, `serve::ServeOptions`,
//! `output::OutputFormat`, ...), which `main` fills with the conversions below. So the
//! commands never import the command line, and a new flag changes this file and `main` only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::config::{Overrides, ProviderKind};
use crate::emulator::{self, EmulatorConfig, FaultRule, Faults};
use crate::handoff::Handoff;
use crate::headless::{DescribeOptions, FailuresOptions, ListOptions};
use crate::model::{KindSelection, Status};
use crate::output::OutputFormat;
use crate::serve::{DEFAULT_LISTEN, ServeOptions};
use crate::wait::{WaitOptions, WaitOutput};

#[derive(Debug, Parser)]
#[command(
    name = "ssowatch",
    version,
    about = "Watch IAM Identity Center account-assignment and permission-set provisioning requests live, on AWS and Huawei Cloud.",
    after_help = "Without a command, opens the dashboard. Try: ssowatch --demo"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Dashboard: count the progress header (started, in flight, succeeded, failed) from this
    /// long ago, e.g. `30m` or `2h`, instead of from ssowatch's start (`z` resets it to now).
    #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_since_flag)]
    pub since: Option<humantime::Duration>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Config file (default: the platform config dir's ssowatch/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Which cloud.
    #[arg(long, global = true, value_enum)]
    pub provider: Option<ProviderArg>,
    /// AWS profile (SSO profiles work).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Region of the Identity Center instance.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS instance ARN (discovered with ListInstances when absent).
    #[arg(long, global = true, value_name = "ARN")]
    pub instance_arn: Option<String>,
    /// Huawei Cloud instance id (discovered when absent).
    #[arg(long, global = true, value_name = "ID")]
    pub instance_id: Option<String>,
    /// A non-default endpoint, e.g. an `ssowatch emulate` URL.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Dashboard refresh interval in seconds (1 to 3600).
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    pub refresh: Option<i64>,
    /// Requests per second this process may spend at most (0.05 to 20). Identity Center allows
    /// 20 per account and region, shared with the pipelines you watch. Default: 0.9 for the
    /// dashboard (ten operators stay under half the limit), 1.0 for serve (a team's one
    /// poller), 4 with --demo (its
    /// emulator is yours alone), 5 for list, describe and wait (a script listing 30,000 records
    /// ends in about three minutes while leaving three quarters of the limit to the pipelines).
    /// Throttling halves the rate until the service recovers.
    #[arg(long, global = true, value_name = "RPS", allow_negative_numbers = true)]
    pub api_budget: Option<f64>,
    /// Run against the embedded emulator (no cloud account needed).
    #[arg(long, global = true)]
    pub demo: bool,
    /// Read from an `ssowatch serve` hub instead of the cloud: no cloud credentials, no
    /// polling of your own (the dashboard, list, failures and wait).
    #[arg(long, global = true, value_name = "URL")]
    pub hub: Option<String>,
    /// A file whose first line is the hub's bearer token (else SSOWATCH_HUB_TOKEN; never a
    /// flag: flags show in `ps`).
    #[arg(long, global = true, value_name = "PATH")]
    pub hub_token_file: Option<PathBuf>,
}

impl Cli {
    /// What the command line says for the configuration: the global flags, and whether the
    /// command is `serve` (whose default budget is the team's).
    pub fn overrides(&self) -> Overrides {
        Overrides {
            serving: matches!(self.command, Some(Command::Serve(_))),
            ..self.global.overrides()
        }
    }
}

impl GlobalArgs {
    /// The global flags alone: [`Cli::overrides`] adds what the command says.
    fn overrides(&self) -> Overrides {
        Overrides {
            provider: self.provider.map(ProviderArg::kind),
            profile: self.profile.clone(),
            region: self.region.clone(),
            instance_arn: self.instance_arn.clone(),
            instance_id: self.instance_id.clone(),
            endpoint_url: self.endpoint_url.clone(),
            refresh_seconds: self.refresh,
            api_budget_rps: self.api_budget,
            demo: self.demo,
            serving: false,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List requests (every page), newest first.
    List(ListArgs),
    /// Describe one request.
    Describe(DescribeArgs),
    /// FAILED requests grouped by cause (the dashboard's `F` view): count, kinds, accounts,
    /// permission sets, first and last seen, and a hint on what to do.
    Failures(FailuresArgs),
    /// Run the local emulator of both clouds' APIs.
    Emulate(EmulateArgs),
    /// Wait until a rollout's requests have finished; exit 0 if all succeeded, 1 if any failed,
    /// 2 on timeout, 3 when they cannot be read (for pipelines).
    Wait(WaitArgs),
    /// Poll once for a whole team and export Prometheus metrics on /metrics, with /healthz.
    Serve(ServeArgs),
}

/// `--provider`: [`ProviderKind`] on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    Aws,
    Huawei,
}

impl ProviderArg {
    pub fn kind(self) -> ProviderKind {
        match self {
            ProviderArg::Aws => ProviderKind::Aws,
            ProviderArg::Huawei => ProviderKind::Huawei,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Creation,
    Deletion,
    Provisioning,
    All,
}

impl KindArg {
    pub fn selection(self) -> KindSelection {
        match self {
            KindArg::Creation => KindSelection::Creation,
            KindArg::Deletion => KindSelection::Deletion,
            KindArg::Provisioning => KindSelection::Provisioning,
            KindArg::All => KindSelection::All,
        }
    }
}

/// The screen and the API spell statuses `IN_PROGRESS`, `FAILED`, `SUCCEEDED`; flags are
/// kebab-case. Both are accepted, in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    #[value(alias = "in_progress")]
    InProgress,
    Failed,
    Succeeded,
}

impl StatusArg {
    pub fn status(self) -> Status {
        match self {
            StatusArg::InProgress => Status::InProgress,
            StatusArg::Failed => Status::Failed,
            StatusArg::Succeeded => Status::Succeeded,
        }
    }
}

/// `--output` of list, describe and failures: [`OutputFormat`] on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    Table,
    Json,
    Csv,
}

impl OutputArg {
    pub fn format(self) -> OutputFormat {
        match self {
            OutputArg::Table => OutputFormat::Table,
            OutputArg::Json => OutputFormat::Json,
            OutputArg::Csv => OutputFormat::Csv,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Which kind of request.
    #[arg(long, value_enum, default_value = "all")]
    pub kind: KindArg,
    /// Only requests with this status (filtered by the service); IN_PROGRESS, FAILED and
    /// SUCCEEDED are accepted too.
    #[arg(long, value_enum, ignore_case = true)]
    pub status: Option<StatusArg>,
    /// Only requests this filter admits, in the dashboard's `/` language: words match any
    /// field; `account:payments-*`, `ps:PowerUser`, `principal:jane`, `status:failed`,
    /// `kind:deletion`, `reason:quota`, `id:1f2e` one field; `-` negates; terms are ANDed.
    /// Requests the listing cannot decide are described (within the budget; stderr says how
    /// many).
    #[arg(long, value_name = "FILTER", allow_hyphen_values = true)]
    pub filter: Option<String>,
    /// Output format: an aligned table for people, JSON or CSV for scripts.
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: OutputArg,
}

#[derive(Debug, Clone, Args)]
pub struct FailuresArgs {
    /// Which kind of request.
    #[arg(long, value_enum, default_value = "all")]
    pub kind: KindArg,
    /// Read every FAILED request's reason (one describe each). Without it a random sample of
    /// at most 200, stratified by kind and time, and each cause's count is an estimate with
    /// its 95% interval.
    #[arg(long)]
    pub exact: bool,
    /// Output format: an aligned table for people, JSON or CSV for scripts; or hand the
    /// failures on: ids (the file `wait --request-ids-from` reads), retry (a shell script of
    /// AWS CLI or KooCLI commands that redo them), plan (the same as JSON).
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: FailuresOutputArg,
    /// Only the FAILED requests of this cause (policy_missing, account_unreachable, ...: the
    /// keys `ssowatch failures` shows).
    #[arg(long, value_name = "KEY")]
    pub cause: Option<String>,
}

/// `--output` of `ssowatch failures`: the formats of [`OutputArg`], plus the hand-offs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailuresOutputArg {
    Table,
    Json,
    Csv,
    Ids,
    Retry,
    Plan,
}

#[derive(Debug, Clone, Args)]
pub struct DescribeArgs {
    /// The request id (a UUID on AWS), as `ssowatch list` prints it.
    #[arg(value_name = "REQUEST_ID")]
    pub request_id: String,
    /// Which kind of request; without it each kind is tried.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Output format: a field list for people, JSON or CSV for scripts.
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: OutputArg,
}

impl ListArgs {
    pub fn options(&self) -> ListOptions {
        ListOptions {
            kind: self.kind.selection(),
            status: self.status.map(StatusArg::status),
            output: self.output.format(),
            filter: self.filter.clone(),
        }
    }
}

impl FailuresArgs {
    pub fn options(&self) -> FailuresOptions {
        let (output, handoff) = match self.output {
            FailuresOutputArg::Table => (OutputFormat::Table, None),
            FailuresOutputArg::Json => (OutputFormat::Json, None),
            FailuresOutputArg::Csv => (OutputFormat::Csv, None),
            FailuresOutputArg::Ids => (OutputFormat::Table, Some(Handoff::Ids)),
            FailuresOutputArg::Retry => (OutputFormat::Table, Some(Handoff::Retry)),
            FailuresOutputArg::Plan => (OutputFormat::Table, Some(Handoff::Plan)),
        };
        FailuresOptions {
            kind: self.kind.selection(),
            output,
            cause: self.cause.clone(),
            handoff,
            exact: self.exact,
        }
    }
}

impl DescribeArgs {
    pub fn options(&self) -> DescribeOptions {
        DescribeOptions {
            request_id: self.request_id.clone(),
            kind: self.kind.map(KindArg::selection),
            output: self.output.format(),
        }
    }
}

/// `ssowatch wait` options.
#[derive(Debug, Clone, Args)]
#[command(
    group(
        ArgGroup::new("request_set")
            .required(true)
            .multiple(true)
            .args(["since", "request_id", "request_ids_from"])
    ),
    after_help = "Exit codes: 0 all succeeded; 1 one or more failed (each printed with its reason); \
2 the timeout passed (what is still in flight is printed); 3 the request set could not be read \
or the service refused the calls (credentials, permissions).\n\
Polls every --refresh seconds (default 10) within --api-budget."
)]
pub struct WaitArgs {
    /// Wait for every request of the chosen kinds created at or after TIME: a duration back
    /// from now (15m, 2h, 1h30m) or an RFC 3339 time (2026-05-01T12:00:00Z). The set is every
    /// such request that a full listing shows when wait starts, plus every one created since
    /// that a later poll sees IN_PROGRESS or the closing full listing shows. Requests that
    /// keep arriving keep wait waiting.
    #[arg(long, value_name = "DURATION|TIME", conflicts_with_all = ["request_id", "request_ids_from"])]
    pub since: Option<String>,
    /// A request id to wait for (repeatable).
    #[arg(long = "request-id", value_name = "ID")]
    pub request_id: Vec<String>,
    /// Read request ids from FILE, or stdin with '-': one id per line ('#' starts a comment),
    /// or the JSON that `aws sso-admin create-account-assignment`,
    /// `delete-account-assignment` or `provision-permission-set` prints (several documents
    /// one after another are fine).
    #[arg(long, value_name = "FILE")]
    pub request_ids_from: Option<PathBuf>,
    /// Which kinds of request to list and look ids up in.
    #[arg(long, value_enum, default_value = "all")]
    pub kind: KindArg,
    /// Give up after this long (exit 2). Examples: 30m, 1h, 90s.
    #[arg(long, default_value = "30m", value_parser = crate::config::parse_wait_timeout, value_name = "DURATION")]
    pub timeout: Duration,
    /// Report format on stdout: text for people, json for machines.
    #[arg(long, short, value_enum, default_value = "text")]
    pub output: WaitOutputArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WaitOutputArg {
    Text,
    Json,
}

impl WaitArgs {
    pub fn options(&self) -> WaitOptions {
        WaitOptions {
            since: self.since.clone(),
            request_id: self.request_id.clone(),
            request_ids_from: self.request_ids_from.clone(),
            kind: self.kind.selection(),
            timeout: self.timeout,
            output: match self.output {
                WaitOutputArg::Text => WaitOutput::Text,
                WaitOutputArg::Json => WaitOutput::Json,
            },
            hub: None,
        }
    }
}

/// `ssowatch serve` options.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to serve /metrics, /healthz and the hub's /v1/ API on. Loopback by default;
    /// any other address (0.0.0.0:9464 for a Prometheus on another host) needs --token-file.
    #[arg(long, default_value = DEFAULT_LISTEN, value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// A request IN_PROGRESS for longer than this counts as stuck
    /// (ssowatch_requests_stuck). Examples: 15m, 1h, 90s.
    #[arg(long, default_value = "15m", value_parser = crate::config::parse_stuck_after, value_name = "DURATION")]
    pub stuck_after: Duration,
    /// A file whose first line is the bearer token every client must send (dashboards with
    /// --hub, scripts, Prometheus). Required when --listen is not loopback.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}

impl ServeArgs {
    pub fn options(&self) -> ServeOptions {
        ServeOptions {
            listen: self.listen,
            stuck_after: self.stuck_after,
            token_file: self.token_file.clone(),
        }
    }
}

/// `ssowatch emulate` options. The emulator itself knows nothing of the command line: these
/// convert to an [`EmulatorConfig`] ([`EmulateArgs::config`]).
#[derive(Debug, Clone, Args)]
pub struct EmulateArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 4566)]
    pub port: u16,
    /// Seed of the simulated organization (same seed, same organization).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many instances ListInstances shows.
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100))]
    pub instances: usize,
    /// Accounts in the organization.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub accounts: u32,
    /// Finished records of each kind at start.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub history: u32,
    /// New requests per second across kinds (0 for none).
    #[arg(long, default_value_t = 0.5, value_parser = crate::config::parse_arrival_rate)]
    pub rate: f64,
    /// Share of requests that fail (0 to 1).
    #[arg(long, default_value_t = 0.1, value_parser = ratio)]
    pub failure_ratio: f64,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1.0, value_parser = crate::config::parse_time_scale)]
    pub time_scale: f64,
    /// Throttle above this many requests per second (the real limit is 20, shared).
    #[arg(long, value_parser = crate::config::parse_throttle_rps)]
    pub throttle_rps: Option<f64>,
    /// Inject a fault, repeatable: a NAME, optionally with :OPERATION, @RATIO and #TIMES (hit
    /// only the first TIMES requests). Names: throttle, server-error, unavailable, malformed,
    /// truncated, truncated-json, empty-answer, reset, hang, slow, unknown-status,
    /// looping-token, endless-token, missing-fields, wrong-types, duplicate-ids, huge-body,
    /// hostile, denied, expired-credentials, unrecognized-credentials, unknown-operation,
    /// not-implemented, not-the-api. Example: --fault throttle@0.5 --fault
    /// unknown-status:ListAccountAssignmentCreationStatus --fault reset:ListInstances#3.
    /// Change them while running with POST /_emulator/faults.
    #[arg(long = "fault", value_name = "NAME[:OPERATION][@RATIO][#TIMES]", value_parser = fault_rule)]
    pub faults: Vec<FaultRule>,
    /// Access key the Huawei side accepts.
    #[arg(long, default_value = emulator::DEFAULT_HUAWEI_AK)]
    pub huawei_ak: String,
    /// Secret key the Huawei side verifies signatures with.
    #[arg(long, default_value = emulator::DEFAULT_HUAWEI_SK, hide_default_value = true)]
    pub huawei_sk: String,
}

impl EmulateArgs {
    pub fn config(&self) -> EmulatorConfig {
        EmulatorConfig {
            seed: self.seed,
            instances: self.instances,
            accounts: self.accounts as usize,
            history: self.history as usize,
            rate: self.rate,
            failure_ratio: self.failure_ratio,
            time_scale: self.time_scale,
            huawei_ak: self.huawei_ak.clone(),
            huawei_sk: self.huawei_sk.clone(),
            throttle_rps: self.throttle_rps,
            faults: Faults {
                rules: self.faults.clone(),
                ..Faults::default()
            },
            hostile_text: false,
            warmup: std::time::Duration::ZERO,
        }
    }
}

fn fault_rule(s: &str) -> Result<FaultRule, String> {
    s.parse()
}

fn parse_f64(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("'{s}' is not a number"))
}

fn ratio(s: &str) -> Result<f64, String> {
    parse_f64(s).and_then(|v| {
        if (0.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            Err("must be between 0 and 1".into())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(args: &[&str]) -> Command {
        let cli = Cli::try_parse_from(std::iter::once("ssowatch").chain(args.iter().copied()));
        match cli.map(|c| c.command) {
            Ok(Some(command)) => command,
            other => panic!("{args:?} did not parse to a command: {other:?}"),
        }
    }

    /// Each flag lands in the command's own options: what `main` hands the command is what
    /// the user typed.
    #[test]
    fn the_flags_fill_each_command_s_options() {
        let Command::List(list) = command(&[
            "list",
            "--kind",
            "creation",
            "--status",
            "IN_PROGRESS",
            "-o",
            "csv",
        ]) else {
            panic!("not list");
        };
        let list = list.options();
        assert_eq!(list.kind, KindSelection::Creation);
        assert_eq!(list.status, Some(Status::InProgress));
        assert_eq!(list.output, OutputFormat::Csv);

        let Command::Failures(failures) = command(&["failures", "--kind", "provisioning"]) else {
            panic!("not failures");
        };
        let failures = failures.options();
        assert_eq!(failures.kind, KindSelection::Provisioning);
        assert_eq!(failures.output, OutputFormat::Table);

        let Command::Describe(describe) =
            command(&["describe", "abc", "--kind", "deletion", "--output", "json"])
        else {
            panic!("not describe");
        };
        let describe = describe.options();
        assert_eq!(describe.request_id, "abc");
        assert_eq!(describe.kind, Some(KindSelection::Deletion));
        assert_eq!(describe.output, OutputFormat::Json);

        let Command::Wait(wait) = command(&[
            "wait",
            "--request-id",
            "a",
            "--request-id",
            "b",
            "--timeout",
            "90s",
            "-o",
            "json",
        ]) else {
            panic!("not wait");
        };
        let wait = wait.options();
        assert_eq!(wait.request_id, ["a", "b"]);
        assert_eq!(wait.since, None);
        assert_eq!(wait.kind, KindSelection::All);
        assert_eq!(wait.timeout, Duration::from_secs(90));
        assert_eq!(wait.output, WaitOutput::Json);

        let Command::Serve(serve) = command(&["serve", "--stuck-after", "1h"]) else {
            panic!("not serve");
        };
        let serve = serve.options();
        assert_eq!(serve.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(serve.stuck_after, Duration::from_secs(3600));

        let cli = Cli::try_parse_from(["ssowatch", "--provider", "huawei"]);
        let overrides = cli.ok().map(|c| c.overrides());
        assert_eq!(
            overrides.as_ref().and_then(|o| o.provider),
            Some(ProviderKind::Huawei)
        );
        assert_eq!(overrides.map(|o| o.serving), Some(false));
        // `serve` takes the team's default budget, wherever its flags are.
        let cli = Cli::try_parse_from(["ssowatch", "--provider", "huawei", "serve"]);
        assert_eq!(cli.ok().map(|c| c.overrides().serving), Some(true));
    }

    /// Every duration and number a user can give, through the parser that reads it: nothing
    /// panics, whatever the text, and every value within the documented range is accepted.
    mod ranges {
        use crate::cli::{Cli, Command};
        use crate::config::*;
        use clap::Parser;
        use proptest::prelude::*;
        use std::path::Path;
        use std::time::Duration;

        fn cli(args: &[&str]) -> Result<Cli, clap::Error> {
            Cli::try_parse_from(std::iter::once("ssowatch").chain(args.iter().copied()))
        }

        /// Durations as people write them, in and far out of every range.
        fn duration_text() -> impl Strategy<Value = String> {
            prop_oneof![
                (
                    any::<u64>(),
                    prop::sample::select(vec!["s", "m", "h", "days", "years", "ms", "ns"])
                )
                    .prop_map(|(n, unit)| format!("{n}{unit}")),
                (0u64..10_000_000).prop_map(|n| format!("{n}s")),
                any::<String>(),
                "[0-9]{1,30}(years|y|d|h|m|s)",
            ]
        }

        fn secs_in(range: DurationRange) -> impl Strategy<Value = u64> {
            range.min.as_secs()..=range.max.as_secs()
        }

        proptest! {
            #[test]
            fn no_duration_text_panics(text in duration_text()) {
                let _ = cli(&["--since", &text]);
                let _ = cli(&["wait", "--since", "1h", "--timeout", &text]);
                let _ = cli(&["serve", "--stuck-after", &text]);
                let _ = crate::wait::parse_since(&text, chrono::Utc::now());
                let config = format!("stuck_after = {text:?}\n");
                if let Ok(file) = parse(&config, Path::new("c.toml")) {
                    let _ = merge(file, None, &Overrides::default());
                }
                // What the dashboard then does with an accepted --since.
                if let Ok(Cli { since: Some(since), .. }) = cli(&["--since", &text]) {
                    let d = chrono::Duration::from_std(since.into());
                    prop_assert!(d.is_ok_and(|d| chrono::Utc::now().checked_sub_signed(d).is_some()));
                }
            }

            #[test]
            fn durations_in_range_are_accepted(
                since in secs_in(SINCE_RANGE),
                timeout in secs_in(WAIT_TIMEOUT_RANGE),
                stuck in secs_in(STUCK_AFTER_RANGE),
            ) {
                let since_text = format!("{since}s");
                let parsed = cli(&["--since", &since_text]).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(parsed.since.map(Duration::from), Some(Duration::from_secs(since)));
                prop_assert!(crate::wait::parse_since(&since_text, chrono::Utc::now()).is_ok());
                let parsed = cli(&["wait", "--since", "1h", "--timeout", &format!("{timeout}s")])
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                match parsed.command {
                    Some(Command::Wait(args)) => prop_assert_eq!(args.timeout, Duration::from_secs(timeout)),
                    _ => prop_assert!(false, "not a wait"),
                }
                let parsed = cli(&["serve", "--stuck-after", &format!("{stuck}s")])
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                match parsed.command {
                    Some(Command::Serve(args)) => prop_assert_eq!(args.stuck_after, Duration::from_secs(stuck)),
                    _ => prop_assert!(false, "not a serve"),
                }
                let file = parse(&format!("stuck_after = \"{stuck}s\"\n"), Path::new("c.toml"))
                    .map_err(|e| TestCaseError::fail(e.0))?;
                let settings = merge(file, None, &Overrides::default()).map_err(|e| TestCaseError::fail(e.0))?;
                prop_assert_eq!(settings.stuck_after, Duration::from_secs(stuck));
            }

            #[test]
            fn out_of_range_durations_say_the_range(secs in prop_oneof![
                31_557_601..u64::MAX / 2,
                Just(31_557_601u64),
            ]) {
                let text = format!("{secs}s");
                let err = cli(&["--since", &text]).err().map(|e| e.to_string()).unwrap_or_default();
                prop_assert!(err.contains("must be between 0s and 1year"), "{}", err);
                let err = crate::wait::parse_since(&text, chrono::Utc::now()).err().unwrap_or_default();
                prop_assert!(err.contains("must be between 0s and 1year"), "{}", err);
            }

            #[test]
            fn numbers_never_panic_and_in_range_are_accepted(
                refresh in any::<i64>(),
                budget in any::<f64>(),
                file_budget in any::<f64>(),
                number in any::<f64>(),
                text in any::<String>(),
            ) {
                let o = Overrides { refresh_seconds: Some(refresh), api_budget_rps: Some(budget), ..Default::default() };
                let result = merge(FileConfig::default(), None, &o);
                let in_range = (MIN_REFRESH_SECS..=MAX_REFRESH_SECS).contains(&refresh)
                    && (MIN_API_BUDGET_RPS..=MAX_API_BUDGET_RPS).contains(&budget);
                prop_assert_eq!(result.is_ok(), in_range);
                if let Ok(file) = parse(&format!("api_budget_rps = {file_budget:?}\nrefresh_seconds = {refresh}\n"), Path::new("c.toml")) {
                    let _ = merge(file, None, &Overrides::default());
                }
                for flag in ["--time-scale", "--rate", "--throttle-rps", "--instances", "--accounts", "--history"] {
                    let _ = cli(&["emulate", flag, &number.to_string()]);
                    let _ = cli(&["emulate", flag, &text]);
                }
                let _ = cli(&["--refresh", &text]);
                let _ = cli(&["--api-budget", &text]);
            }

            #[test]
            fn emulator_numbers_in_range_are_accepted(
                scale in 0.01f64..=10_000.0,
                rate in 0.0f64..=1_000.0,
                throttle in 0.01f64..=1_000.0,
                instances in 1usize..=100,
            ) {
                let parsed = cli(&[
                    "emulate",
                    "--time-scale", &scale.to_string(),
                    "--rate", &rate.to_string(),
                    "--throttle-rps", &throttle.to_string(),
                    "--instances", &instances.to_string(),
                ]).map_err(|e| TestCaseError::fail(e.to_string()))?;
                match parsed.command {
                    Some(Command::Emulate(args)) => {
                        prop_assert_eq!(args.time_scale, scale);
                        prop_assert_eq!(args.rate, rate);
                        prop_assert_eq!(args.throttle_rps, Some(throttle));
                        prop_assert_eq!(args.instances, instances);
                    }
                    _ => prop_assert!(false, "not an emulate"),
                }
            }
        }

        #[test]
        fn out_of_range_values_give_one_line_with_the_range() {
            for (args, range) in [
                (vec!["--since", "1000000years"], "between 0s and 1year"),
                (
                    vec!["wait", "--since", "1h", "--timeout", "0s"],
                    "between 1s and 7days",
                ),
                (
                    vec!["wait", "--since", "1h", "--timeout", "30days"],
                    "between 1s and 7days",
                ),
                (
                    vec!["serve", "--stuck-after", "5s"],
                    "between 1m and 30days",
                ),
                (
                    vec!["emulate", "--time-scale", "1e300"],
                    "between 0.01 and 10000",
                ),
                (vec!["emulate", "--instances", "1000000000000"], "1..=100"),
            ] {
                let err = cli(&args).err().map(|e| e.to_string()).unwrap_or_default();
                let first = err.lines().next().unwrap_or_default();
                assert!(first.contains(range), "{args:?}: {err}");
            }
        }
    }
}
