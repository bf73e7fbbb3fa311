//! Configuration: the TOML file, merged with flags into [`Settings`].

use std::path::PathBuf;
use std::time::Duration;

/// Which cloud to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProviderKind {
    #[default]
    Aws,
    Huawei,
}

/// Everything a command needs, after the config file and flags are merged (flags win).
#[derive(Debug, Clone)]
pub struct Settings {
    pub provider: ProviderKind,
    /// AWS profile name.
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Instance ARN (AWS) or instance id (Huawei); discovered when absent.
    pub instance: Option<String>,
    pub endpoint_url: Option<String>,
    /// How often the dashboard's fast lane polls.
    pub refresh: Duration,
    /// Requests per second the whole process may spend.
    pub api_budget_rps: f64,
    /// Start the embedded emulator and point the provider at it.
    pub demo: bool,
    /// Huawei domain (account) id, sent as X-Domain-Id.
    pub huawei_domain_id: Option<String>,
    /// The config file that was read, for error messages.
    pub config_path: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            provider: ProviderKind::Aws,
            profile: None,
            region: None,
            instance: None,
            endpoint_url: None,
            refresh: Duration::from_secs(10),
            api_budget_rps: 2.0,
            demo: false,
            huawei_domain_id: None,
            config_path: None,
        }
    }
}
