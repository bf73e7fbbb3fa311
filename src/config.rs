//! Configuration: the TOML file, merged with flags into [`Settings`] (flags win).
//!
//! The file is strict: an unknown key or a bad value is an error that names the file, the line
//! and the key, because a silently ignored typo (`refesh_seconds`) is worse than a refusal.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Which cloud to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    #[default]
    Aws,
    Huawei,
}

/// Everything a command needs, after the config file and flags are merged (flags win).
#[derive(Clone)]
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
    /// Huawei AK/SK from the config file: the last resort of the credential chain.
    pub huawei_access_key: Option<String>,
    pub huawei_secret_key: Option<String>,
    /// The config file that was read, for error messages.
    pub config_path: Option<PathBuf>,
}

impl std::fmt::Debug for Settings {
    /// Never prints the secret key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("provider", &self.provider)
            .field("profile", &self.profile)
            .field("region", &self.region)
            .field("instance", &self.instance)
            .field("endpoint_url", &self.endpoint_url)
            .field("refresh", &self.refresh)
            .field("api_budget_rps", &self.api_budget_rps)
            .field("demo", &self.demo)
            .field("huawei_domain_id", &self.huawei_domain_id)
            .field("huawei_access_key", &self.huawei_access_key)
            .field(
                "huawei_secret_key",
                &self.huawei_secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("config_path", &self.config_path)
            .finish()
    }
}

pub const DEFAULT_REFRESH_SECS: u64 = 10;
pub const DEFAULT_API_BUDGET_RPS: f64 = crate::poller::DEFAULT_BUDGET_RPS;
/// The service's limit, shared by every caller: a budget above it makes no sense.
pub const MAX_API_BUDGET_RPS: f64 = 20.0;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            provider: ProviderKind::Aws,
            profile: None,
            region: None,
            instance: None,
            endpoint_url: None,
            refresh: Duration::from_secs(DEFAULT_REFRESH_SECS),
            api_budget_rps: DEFAULT_API_BUDGET_RPS,
            demo: false,
            huawei_domain_id: None,
            huawei_access_key: None,
            huawei_secret_key: None,
            config_path: None,
        }
    }
}

/// The config file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub provider: Option<ProviderKind>,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub instance_arn: Option<String>,
    pub instance_id: Option<String>,
    pub endpoint_url: Option<String>,
    pub refresh_seconds: Option<u64>,
    pub api_budget_rps: Option<f64>,
    pub huawei: Option<HuaweiFileConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuaweiFileConfig {
    pub domain_id: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
}

/// What the command line says; `None` means "not given".
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub provider: Option<ProviderKind>,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub instance_arn: Option<String>,
    pub instance_id: Option<String>,
    pub endpoint_url: Option<String>,
    pub refresh_seconds: Option<u64>,
    pub api_budget_rps: Option<f64>,
    pub demo: bool,
}

/// A configuration problem, already phrased for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The default config path: `<platform config dir>/ssowatch/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "ssowatch").map(|d| d.config_dir().join("config.toml"))
}

/// Reads the config (the explicit path must exist; the default one may be absent) and merges
/// the flags over it.
pub fn load(explicit: Option<&Path>, overrides: &Overrides) -> Result<Settings, ConfigError> {
    let (path, file) = match explicit {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!("cannot read config file {}: {e}", path.display()))
            })?;
            (Some(path.to_path_buf()), parse(&text, path)?)
        }
        None => match default_path() {
            Some(path) => match std::fs::read_to_string(&path) {
                Ok(text) => (Some(path.clone()), parse(&text, &path)?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, FileConfig::default()),
                Err(e) => {
                    return Err(ConfigError(format!(
                        "cannot read config file {}: {e}",
                        path.display()
                    )));
                }
            },
            None => (None, FileConfig::default()),
        },
    };
    merge(file, path, overrides)
}

/// Parses config text; errors name the file, line and key.
pub fn parse(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    toml::from_str::<FileConfig>(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let key = e.span().and_then(|span| key_at(text, span.start));
        let message = e.message().trim().replace('\n', " ");
        let mut out = format!("{}", path.display());
        if let Some(line) = line {
            out.push_str(&format!(":{line}"));
        }
        out.push_str(": ");
        if let Some(key) = key {
            out.push_str(&format!("key `{key}`: "));
        }
        out.push_str(&message);
        out.push_str(" (see config.example.toml for every key)");
        ConfigError(out)
    })
}

/// The key on the line where a parse error points.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_string())
}

/// Names where a value came from, for error messages: the flag if one was given, else the
/// file and key.
fn source(flag: &str, flag_given: bool, path: Option<&Path>, key: &str) -> String {
    match (flag_given, path) {
        (true, _) => flag.to_string(),
        (false, Some(p)) => format!("{}: key `{key}`", p.display()),
        (false, None) => key.to_string(),
    }
}

fn merge(file: FileConfig, path: Option<PathBuf>, o: &Overrides) -> Result<Settings, ConfigError> {
    let provider = o.provider.or(file.provider).unwrap_or_default();
    let refresh_seconds = o
        .refresh_seconds
        .or(file.refresh_seconds)
        .unwrap_or(DEFAULT_REFRESH_SECS);
    if !(1..=3600).contains(&refresh_seconds) {
        return Err(ConfigError(format!(
            "{}: refresh must be between 1 and 3600 seconds, got {refresh_seconds}",
            source(
                "--refresh",
                o.refresh_seconds.is_some(),
                path.as_deref(),
                "refresh_seconds"
            )
        )));
    }
    let budget = o
        .api_budget_rps
        .or(file.api_budget_rps)
        .unwrap_or(DEFAULT_API_BUDGET_RPS);
    if !(budget.is_finite() && budget > 0.0 && budget <= MAX_API_BUDGET_RPS) {
        return Err(ConfigError(format!(
            "{}: the API budget must be more than 0 and at most {MAX_API_BUDGET_RPS} requests per second (the service's shared limit), got {budget}",
            source(
                "--api-budget",
                o.api_budget_rps.is_some(),
                path.as_deref(),
                "api_budget_rps"
            )
        )));
    }
    let endpoint_url = o.endpoint_url.clone().or(file.endpoint_url);
    if let Some(url) = &endpoint_url {
        let valid = reqwest::Url::parse(url)
            .ok()
            .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !valid {
            return Err(ConfigError(format!(
                "{}: '{url}' is not an http(s) URL (e.g. https://sso.eu-west-1.amazonaws.com)",
                source(
                    "--endpoint-url",
                    o.endpoint_url.is_some(),
                    path.as_deref(),
                    "endpoint_url"
                )
            )));
        }
    }
    let instance = match provider {
        ProviderKind::Aws => o.instance_arn.clone().or(file.instance_arn),
        ProviderKind::Huawei => o.instance_id.clone().or(file.instance_id),
    };
    let huawei = file.huawei.unwrap_or_default();
    Ok(Settings {
        provider,
        profile: o.profile.clone().or(file.profile),
        region: o.region.clone().or(file.region),
        instance,
        endpoint_url,
        refresh: Duration::from_secs(refresh_seconds),
        api_budget_rps: budget,
        demo: o.demo,
        huawei_domain_id: huawei.domain_id,
        huawei_access_key: huawei.access_key,
        huawei_secret_key: huawei.secret_key,
        config_path: path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("/etc/ssowatch.toml")
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let err = parse("region = \"eu-west-1\"\nrefesh_seconds = 5\n", p())
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            err.starts_with(
                "/etc/ssowatch.toml:2: key `refesh_seconds`: unknown field `refesh_seconds`"
            ),
            "{err}"
        );
    }

    #[test]
    fn bad_values_name_file_line_and_key() {
        let err = parse("provider = \"gcp\"\n", p())
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            err.starts_with("/etc/ssowatch.toml:1: key `provider`:"),
            "{err}"
        );
        assert!(err.contains("gcp"), "{err}");
        let err = parse("\n\nrefresh_seconds = \"ten\"\n", p())
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            err.starts_with("/etc/ssowatch.toml:3: key `refresh_seconds`:"),
            "{err}"
        );
        let err = parse("[huawei]\ndomain_id = \"x\"\npassword = \"y\"\n", p())
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            err.starts_with("/etc/ssowatch.toml:3: key `password`:"),
            "{err}"
        );
    }

    #[test]
    fn flags_override_the_file() -> Result<(), ConfigError> {
        let file = parse(
            "provider = \"aws\"\nprofile = \"file\"\nregion = \"eu-west-1\"\nrefresh_seconds = 30\ninstance_arn = \"arn:file\"\n",
            p(),
        )?;
        let o = Overrides {
            profile: Some("flag".into()),
            refresh_seconds: Some(5),
            ..Default::default()
        };
        let s = merge(file, Some(p().to_path_buf()), &o)?;
        assert_eq!(s.profile.as_deref(), Some("flag"));
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.refresh, Duration::from_secs(5));
        assert_eq!(s.instance.as_deref(), Some("arn:file"));
        assert_eq!(s.api_budget_rps, DEFAULT_API_BUDGET_RPS);
        Ok(())
    }

    #[test]
    fn out_of_range_values_are_refused() -> Result<(), ConfigError> {
        let file = parse("api_budget_rps = 50.0\n", p())?;
        let err = merge(file, Some(p().to_path_buf()), &Overrides::default())
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            err.contains("key `api_budget_rps`") && err.contains("at most 20"),
            "{err}"
        );
        let o = Overrides {
            endpoint_url: Some("not a url".into()),
            ..Default::default()
        };
        let err = merge(FileConfig::default(), None, &o)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.starts_with("--endpoint-url:"), "{err}");
        let o = Overrides {
            refresh_seconds: Some(0),
            ..Default::default()
        };
        let err = merge(FileConfig::default(), None, &o)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.starts_with("--refresh:"), "{err}");
        Ok(())
    }

    #[test]
    fn the_example_config_parses() -> Result<(), ConfigError> {
        let text = include_str!("../config.example.toml");
        parse(text, Path::new("config.example.toml")).map(|_| ())
    }

    #[test]
    fn debug_never_shows_the_secret_key() {
        let s = Settings {
            huawei_secret_key: Some("s3cr3t-value".into()),
            ..Default::default()
        };
        assert!(!format!("{s:?}").contains("s3cr3t-value"));
    }
}
