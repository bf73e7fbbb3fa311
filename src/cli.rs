//! The command line. Every command takes the global flags, `--demo` included.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Overrides, ProviderKind};
use crate::emulator::EmulateArgs;
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
    /// Dashboard refresh interval in seconds.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub refresh: Option<u64>,
    /// Requests per second this process may spend at most.
    #[arg(long, global = true, value_name = "RPS")]
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
    /// Run the local emulator of both clouds' APIs.
    Emulate(EmulateArgs),
    /// Wait until a rollout's requests have finished; exit 0 if all succeeded, 1 if any failed,
    /// 2 on timeout, 3 when they cannot be read (for pipelines).
    Wait(crate::wait::WaitArgs),
    /// Poll once for a whole team and export Prometheus metrics on /metrics, with /healthz.
    Serve(crate::serve::ServeArgs),
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
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
    /// Only requests with this status (filtered by the service).
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Output format: an aligned table for people, JSON or CSV for scripts.
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Args)]
pub struct DescribeArgs {
    /// The request id (a UUID on AWS).
    pub request_id: String,
    /// Which kind of request; without it each kind is tried.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Output format: a field list for people, JSON or CSV for scripts.
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: OutputFormat,
}
