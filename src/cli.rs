//! The command line. Every command takes the global flags, `--demo` included.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Overrides, ProviderKind};
use crate::emulator::{self, EmulatorConfig, FaultRule, Faults};
use crate::model::{OperationKind, Status};

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
    pub provider: Option<ProviderKind>,
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
    /// dashboard and serve (ten operators stay under half the limit), 4 with --demo (its
    /// emulator is yours alone), 5 for list, describe and wait (a script listing 30,000 records
    /// ends in about three minutes while leaving three quarters of the limit to the pipelines).
    /// Throttling halves the rate until the service recovers.
    #[arg(long, global = true, value_name = "RPS", allow_negative_numbers = true)]
    pub api_budget: Option<f64>,
    /// Run against the embedded emulator (no cloud account needed).
    #[arg(long, global = true)]
    pub demo: bool,
}

impl GlobalArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            provider: self.provider,
            profile: self.profile.clone(),
            region: self.region.clone(),
            instance_arn: self.instance_arn.clone(),
            instance_id: self.instance_id.clone(),
            endpoint_url: self.endpoint_url.clone(),
            refresh_seconds: self.refresh,
            api_budget_rps: self.api_budget,
            demo: self.demo,
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
    Wait(crate::wait::WaitArgs),
    /// Poll once for a whole team and export Prometheus metrics on /metrics, with /healthz.
    Serve(crate::serve::ServeArgs),
}

/// A command line that is wrong in a way clap cannot see (a request id that is not an id):
/// reported like clap's own errors, with exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Creation,
    Deletion,
    Provisioning,
    All,
}

impl KindArg {
    pub fn kinds(self) -> Vec<OperationKind> {
        match self {
            KindArg::Creation => vec![OperationKind::AssignmentCreation],
            KindArg::Deletion => vec![OperationKind::AssignmentDeletion],
            KindArg::Provisioning => vec![OperationKind::PermissionSetProvisioning],
            KindArg::All => OperationKind::ALL.to_vec(),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
    Csv,
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
    /// Output format: an aligned table for people, JSON or CSV for scripts.
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Args)]
pub struct FailuresArgs {
    /// Which kind of request.
    #[arg(long, value_enum, default_value = "all")]
    pub kind: KindArg,
    /// Output format: an aligned table for people, JSON or CSV for scripts.
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: OutputFormat,
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
    pub output: OutputFormat,
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
    /// Inject a fault, repeatable: a NAME, optionally with :OPERATION and @RATIO. Names:
    /// throttle, server-error, unavailable, malformed, truncated, reset, hang, unknown-status,
    /// looping-token, endless-token, missing-fields, wrong-types, duplicate-ids, huge-body,
    /// denied, expired-credentials, unrecognized-credentials, unknown-operation, not-implemented.
    /// Example: --fault throttle@0.5 --fault
    /// unknown-status:ListAccountAssignmentCreationStatus. Change them while running with
    /// POST /_emulator/faults.
    #[arg(long = "fault", value_name = "NAME[:OPERATION][@RATIO]", value_parser = fault_rule)]
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
