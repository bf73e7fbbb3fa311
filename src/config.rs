//! Configuration: the TOML file, merged with flags into [`Settings`] (flags win).
//!
//! The file is strict: an unknown key or a bad value is an error that names the file, the line
//! and the key, because a silently ignored typo (`refesh_seconds`) is worse than a refusal.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// Which cloud to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
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
    /// Requests per second the dashboard may spend.
    pub api_budget_rps: f64,
    /// Requests per second the scripts (`list`, `describe`, `failures`, `wait`) may spend,
    /// through their one call path ([`crate::call_path`]).
    pub headless_budget_rps: f64,
    /// Start the embedded emulator and point the provider at it.
    pub demo: bool,
    /// Huawei domain (account) id, sent as X-Domain-Id.
    pub huawei_domain_id: Option<String>,
    /// Huawei AK/SK from the config file: the last resort of the credential chain.
    pub huawei_access_key: Option<String>,
    pub huawei_secret_key: Option<String>,
    /// The config file that was read, for error messages.
    pub config_path: Option<PathBuf>,
    /// Ring the terminal bell when a request newly fails (config `bell`, default on).
    pub bell: bool,
    /// Raise a desktop notification (OSC 9 and OSC 777) when a request newly fails (config
    /// `notify`, default off: not every terminal shows them, some print them).
    pub notify: bool,
    /// Requests in flight longer than this get a warning mark (config `stuck_after`).
    pub stuck_after: Duration,
    /// Where `e` writes exports (config `export_dir`; default the current directory).
    pub export_dir: Option<PathBuf>,
    /// The table's optional columns shown (config `columns`; `None`: all of them).
    pub columns: Option<crate::app::columns::ColumnChoice>,
}

/// Default of `stuck_after` (defined by the app, which marks stuck requests).
pub const DEFAULT_STUCK_AFTER: Duration = crate::app::progress::DEFAULT_STUCK_AFTER;

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
            .field("headless_budget_rps", &self.headless_budget_rps)
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
/// The dashboard's default budget with `--demo`: its emulator runs in this process and is
/// shared with nobody, so there is no account limit to protect, and a first look should not
/// take minutes. `--api-budget` (or the config file) still sets it.
pub const DEMO_API_BUDGET_RPS: f64 = 4.0;
/// `serve`'s default budget: the hub is the one poller of a whole team (any number of
/// dashboards and scripts attach to it and poll nothing themselves), so it has the team's
/// allowance, 1.0 req/s (5 % of the account's limit), not one dashboard's: an eighth more
/// calls for the fast lane and the describes that tell every viewer what failed.
pub const SERVE_API_BUDGET_RPS: f64 = 1.0;
/// The headless commands' default budget. A script that lists 30,000 records (300 pages a
/// kind, 900 calls) ends in about three minutes at 5 req/s, while a quarter of the account's
/// 20 req/s stays with the pipelines it shares them with; a script in a hurry passes
/// `--api-budget` up to 20, a polite one less.
pub const DEFAULT_HEADLESS_BUDGET_RPS: f64 = 5.0;
/// The service's limit, shared by every caller: a budget above it makes no sense.
pub const MAX_API_BUDGET_RPS: f64 = 20.0;
/// The smallest budget: one call every 20 s. Below that the dashboard would show nothing for
/// minutes (and far below, the spacing between calls overflows a Duration).
pub const MIN_API_BUDGET_RPS: f64 = 0.05;
pub const MIN_REFRESH_SECS: i64 = 1;
pub const MAX_REFRESH_SECS: i64 = 3600;

/// A duration a flag or the config file gives, with the range it must be in. Every duration
/// that reaches the program is checked against one of these where it is read, so that no value,
/// however large, reaches date arithmetic or a timer (`--since 1000000years` once panicked).
#[derive(Debug, Clone, Copy)]
pub struct DurationRange {
    pub min: Duration,
    pub max: Duration,
    /// Why the bounds are what they are, said with the range.
    pub why: &'static str,
}

/// `--since` (the dashboard's and `wait`'s): up to a year back, as far as anyone keeps history
/// of these requests.
pub const SINCE_RANGE: DurationRange = DurationRange {
    min: Duration::ZERO,
    // One year as humantime counts it (365.25 days), so that the message says `1year`.
    max: Duration::from_secs(31_557_600),
    why: "at most a year back",
};
/// `wait --timeout`: a rollout that takes longer than a week is not one a pipeline waits on.
pub const WAIT_TIMEOUT_RANGE: DurationRange = DurationRange {
    min: Duration::from_secs(1),
    max: Duration::from_secs(7 * 86_400),
    why: "a pipeline waits a week at most",
};
/// `stuck_after` (config file) and `serve --stuck-after`: a request in flight for less than a
/// minute is normal, and the service's requests do not live 30 days.
pub const STUCK_AFTER_RANGE: DurationRange = DurationRange {
    min: Duration::from_secs(60),
    max: Duration::from_secs(30 * 86_400),
    why: "from a minute to 30 days",
};

impl DurationRange {
    /// `Ok(d)` within the range, else the one line that says the allowed range.
    pub fn check(&self, d: Duration) -> Result<Duration, String> {
        if (self.min..=self.max).contains(&d) {
            Ok(d)
        } else {
            Err(format!(
                "must be between {} and {} ({})",
                humantime::format_duration(self.min),
                humantime::format_duration(self.max),
                self.why,
            ))
        }
    }

    /// Parses a duration such as `15m` or `1h 30m` and checks it.
    pub fn parse(&self, text: &str) -> Result<Duration, String> {
        let d = humantime::parse_duration(text.trim()).map_err(|e| {
            format!(
                "{e}: give a duration from {} to {}, such as 15m or 2h",
                humantime::format_duration(self.min),
                humantime::format_duration(self.max)
            )
        })?;
        self.check(d)
    }
}

/// clap's parser for the dashboard's `--since`.
pub fn parse_since_flag(text: &str) -> Result<humantime::Duration, String> {
    SINCE_RANGE.parse(text).map(Into::into)
}

/// clap's parser for `wait --timeout`.
pub fn parse_wait_timeout(text: &str) -> Result<Duration, String> {
    WAIT_TIMEOUT_RANGE.parse(text)
}

/// clap's parser for `serve --stuck-after`.
pub fn parse_stuck_after(text: &str) -> Result<Duration, String> {
    STUCK_AFTER_RANGE.parse(text)
}

/// A number flag of `ssowatch emulate` and its range: beyond it the emulator's clock or its
/// arrival process would overflow (a time scale of 1e300 makes every timer infinite).
fn number_in(text: &str, min: f64, max: f64) -> Result<f64, String> {
    let v = text
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("'{}' is not a number", crate::sanitize::clean_text(text)))?;
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be between {min} and {max}, got {v}"))
    }
}

/// `emulate --time-scale`: simulated seconds per real second, 0.01 to 10,000.
pub fn parse_time_scale(text: &str) -> Result<f64, String> {
    number_in(text, 0.01, 10_000.0)
}

/// `emulate --rate`: new requests per second, 0 to 1,000 (50 times the service's limit).
pub fn parse_arrival_rate(text: &str) -> Result<f64, String> {
    number_in(text, 0.0, 1_000.0)
}

/// `emulate --throttle-rps`: 0.01 to 1,000 requests per second.
pub fn parse_throttle_rps(text: &str) -> Result<f64, String> {
    number_in(text, 0.01, 1_000.0)
}

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
            headless_budget_rps: DEFAULT_HEADLESS_BUDGET_RPS,
            demo: false,
            huawei_domain_id: None,
            huawei_access_key: None,
            huawei_secret_key: None,
            config_path: None,
            bell: true,
            notify: false,
            stuck_after: DEFAULT_STUCK_AFTER,
            export_dir: None,
            columns: None,
        }
    }
}

/// The config file as written. Values checked after parsing keep their position, so that an
/// out-of-range value is reported with its line like a syntax error is.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub provider: Option<ProviderKind>,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub instance_arn: Option<String>,
    pub instance_id: Option<String>,
    pub endpoint_url: Option<Spanned<String>>,
    pub refresh_seconds: Option<Spanned<i64>>,
    pub api_budget_rps: Option<Spanned<f64>>,
    pub headless_api_budget_rps: Option<Spanned<f64>>,
    pub huawei: Option<HuaweiFileConfig>,
    pub bell: Option<bool>,
    pub notify: Option<bool>,
    /// A duration like `15m` or `1h 30m`.
    pub stuck_after: Option<Spanned<String>>,
    pub export_dir: Option<PathBuf>,
    /// The table's optional columns to show (`c` in the dashboard writes it).
    pub columns: Option<Spanned<Vec<String>>>,
    /// The text the file was parsed from, to turn value positions into line numbers.
    #[serde(skip)]
    text: String,
}

impl FileConfig {
    /// The 1-based line where a value starts.
    fn line_of<T>(&self, value: &Spanned<T>) -> Option<usize> {
        let start = value.span().start;
        (start <= self.text.len()).then(|| self.text[..start].matches('\n').count() + 1)
    }
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
    /// Signed, so that `--refresh -1` is refused with the range rather than by the parser.
    pub refresh_seconds: Option<i64>,
    pub api_budget_rps: Option<f64>,
    pub demo: bool,
    /// The command is `serve`, whose default budget is [`SERVE_API_BUDGET_RPS`].
    pub serving: bool,
}

/// A configuration problem, already phrased for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The default config path: `<platform config dir>/ssowatch/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "ssowatch").map(|d| d.config_dir().join("config.toml"))
}

/// Remembers the dashboard's columns (`c`) in the config file: the top-level `columns = […]`
/// line is replaced, or added before the first table; every other line is kept as it is. The
/// file is written to a temporary file and renamed over the old one.
pub fn save_columns(path: &Path, names: &[&str]) -> std::io::Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let line = format!(
        "columns = [{}]",
        names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let top_end = lines
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .unwrap_or(lines.len());
    let existing = lines[..top_end].iter().position(|l| {
        l.trim_start()
            .strip_prefix("columns")
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    });
    match existing {
        Some(at) => lines[at] = line,
        None => {
            // Before the first table, after a blank line the tables usually start with.
            let at = if top_end > 0 && lines[top_end - 1].trim().is_empty() {
                top_end - 1
            } else {
                top_end
            };
            lines.insert(at, line);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("toml.tmp{}", std::process::id()));
    std::fs::write(&tmp, out)?;
    std::fs::rename(&tmp, path)
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
    let mut file = toml::from_str::<FileConfig>(text).map_err(|e| {
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
    })?;
    file.text = text.to_string();
    Ok(file)
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

/// Where a value came from, for error messages: the flag if one was given, else the file,
/// line and key (`/etc/ssowatch.toml:3: key `refresh_seconds``).
struct Origin<'a> {
    flag: &'a str,
    flag_given: bool,
    path: Option<&'a Path>,
    line: Option<usize>,
    key: &'a str,
}

impl std::fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.flag_given, self.path, self.line) {
            (true, _, _) => write!(f, "{}", self.flag),
            (false, Some(p), Some(line)) => write!(f, "{}:{line}: key `{}`", p.display(), self.key),
            (false, Some(p), None) => write!(f, "{}: key `{}`", p.display(), self.key),
            (false, None, _) => write!(f, "{}", self.key),
        }
    }
}

/// Checks a budget in requests per second: finite and within the sane range.
fn check_budget(budget: f64, origin: &Origin<'_>) -> Result<f64, ConfigError> {
    if budget.is_finite() && (MIN_API_BUDGET_RPS..=MAX_API_BUDGET_RPS).contains(&budget) {
        return Ok(budget);
    }
    Err(ConfigError(format!(
        "{origin}: the API budget must be between {MIN_API_BUDGET_RPS} and {MAX_API_BUDGET_RPS} requests per second (at most the service's shared limit, at least one call every 20 s), got {budget:?}"
    )))
}

pub(crate) fn merge(
    file: FileConfig,
    path: Option<PathBuf>,
    o: &Overrides,
) -> Result<Settings, ConfigError> {
    let provider = o.provider.or(file.provider).unwrap_or_default();
    let origin = |flag, flag_given, line, key| Origin {
        flag,
        flag_given,
        path: path.as_deref(),
        line,
        key,
    };
    let refresh_seconds = match (o.refresh_seconds, &file.refresh_seconds) {
        (Some(flag), _) => flag,
        (None, Some(v)) => *v.get_ref(),
        (None, None) => DEFAULT_REFRESH_SECS as i64,
    };
    if !(MIN_REFRESH_SECS..=MAX_REFRESH_SECS).contains(&refresh_seconds) {
        let line = file.refresh_seconds.as_ref().and_then(|v| file.line_of(v));
        return Err(ConfigError(format!(
            "{}: refresh must be between {MIN_REFRESH_SECS} and {MAX_REFRESH_SECS} seconds, got {refresh_seconds}",
            origin(
                "--refresh",
                o.refresh_seconds.is_some(),
                line,
                "refresh_seconds"
            )
        )));
    }
    let budget_from_file = |value: &Option<Spanned<f64>>, key, default| match value {
        Some(v) => check_budget(
            *v.get_ref(),
            &origin("--api-budget", false, file.line_of(v), key),
        ),
        None => Ok(default),
    };
    // `--api-budget` is the budget of this process, whatever the command; the file keeps one
    // for the dashboard and one for the headless commands, which have different needs.
    let (budget, headless_budget) = match o.api_budget_rps {
        Some(flag) => {
            let flag = check_budget(flag, &origin("--api-budget", true, None, ""))?;
            (flag, flag)
        }
        None => (
            budget_from_file(
                &file.api_budget_rps,
                "api_budget_rps",
                if o.demo {
                    DEMO_API_BUDGET_RPS
                } else if o.serving {
                    SERVE_API_BUDGET_RPS
                } else {
                    DEFAULT_API_BUDGET_RPS
                },
            )?,
            budget_from_file(
                &file.headless_api_budget_rps,
                "headless_api_budget_rps",
                DEFAULT_HEADLESS_BUDGET_RPS,
            )?,
        ),
    };
    let stuck_after = match &file.stuck_after {
        None => DEFAULT_STUCK_AFTER,
        Some(v) => STUCK_AFTER_RANGE.parse(v.get_ref()).map_err(|why| {
            ConfigError(format!(
                "{}: {:?} {why}",
                origin("", false, file.line_of(v), "stuck_after"),
                crate::sanitize::clean_text(v.get_ref())
            ))
        })?,
    };
    let columns = match &file.columns {
        None => None,
        Some(v) => Some(
            crate::app::columns::ColumnChoice::from_names(v.get_ref()).map_err(|why| {
                ConfigError(format!(
                    "{}: {why}",
                    origin("", false, file.line_of(v), "columns")
                ))
            })?,
        ),
    };
    let file_endpoint_line = file.endpoint_url.as_ref().and_then(|v| file.line_of(v));
    let endpoint_url = o
        .endpoint_url
        .clone()
        .or(file.endpoint_url.map(Spanned::into_inner));
    if let Some(url) = &endpoint_url {
        let valid = reqwest::Url::parse(url)
            .ok()
            .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !valid {
            return Err(ConfigError(format!(
                "{}: '{}' is not an http(s) URL (e.g. https://sso.eu-west-1.amazonaws.com)",
                origin(
                    "--endpoint-url",
                    o.endpoint_url.is_some(),
                    file_endpoint_line,
                    "endpoint_url"
                ),
                crate::sanitize::clean_text(url)
            )));
        }
    }
    let instance = match provider {
        ProviderKind::Aws => o.instance_arn.clone().or(file.instance_arn),
        ProviderKind::Huawei => o.instance_id.clone().or(file.instance_id),
    };
    let huawei = file.huawei.unwrap_or_default();
    Ok(Settings {
        bell: file.bell.unwrap_or(true),
        notify: file.notify.unwrap_or(false),
        stuck_after,
        export_dir: file.export_dir,
        columns,
        provider,
        profile: o.profile.clone().or(file.profile),
        region: o.region.clone().or(file.region),
        instance,
        endpoint_url,
        refresh: Duration::from_secs(refresh_seconds.unsigned_abs()),
        api_budget_rps: budget,
        headless_budget_rps: headless_budget,
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

    /// The documented example is a config file ssowatch accepts as it is, every key included,
    /// with the defaults it states.
    #[test]
    fn the_example_config_is_accepted_and_states_the_defaults() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"));
        let settings = load(Some(path), &Overrides::default()).expect("config.example.toml loads");
        assert_eq!(settings.api_budget_rps, DEFAULT_API_BUDGET_RPS);
        assert_eq!(settings.stuck_after, DEFAULT_STUCK_AFTER);
        // The columns line it shows, uncommented, is the default: all four.
        let text = std::fs::read_to_string(path).expect("read the example");
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("# columns = "))
            .expect("the example shows `columns`");
        let file = parse(&format!("columns = {line}\n"), path).expect("parses");
        let shown = merge(file, None, &Overrides::default()).expect("merges");
        assert_eq!(
            shown.columns,
            Some(crate::app::columns::ColumnChoice::default())
        );
    }

    fn p() -> &'static Path {
        Path::new("/etc/ssowatch.toml")
    }

    #[test]
    fn columns_are_saved_in_place_and_read_back() {
        let dir = std::env::temp_dir().join(format!("ssowatch-columns-{}", std::process::id()));
        let path = dir.join("config.toml");
        let _ = std::fs::remove_dir_all(&dir);
        save_columns(&path, &["account", "reason"]).expect("saved");
        let settings = load(Some(&path), &Overrides::default()).expect("loads");
        let choice = settings.columns.expect("columns read back");
        assert_eq!(choice.names(), ["account", "reason"]);
        std::fs::write(
            &path,
            "# mine\nbell = false\n\n[huawei]\ndomain_id = \"d\"\n",
        )
        .expect("write");
        save_columns(&path, &["principal"]).expect("saved");
        save_columns(&path, &["principal", "reason"]).expect("saved again");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "# mine\nbell = false\ncolumns = [\"principal\", \"reason\"]\n\n[huawei]\ndomain_id = \"d\"\n"
        );
        assert!(load(Some(&path), &Overrides::default()).is_ok());
        std::fs::write(&path, "columns = [\"colour\"]\n").expect("write");
        let err = load(Some(&path), &Overrides::default())
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.contains("unknown column"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
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
            err.starts_with("/etc/ssowatch.toml:1: key `api_budget_rps`") && err.contains("and 20"),
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

    /// The error `merge` gives for a config file with `text`.
    fn file_error(text: &str) -> String {
        parse(text, p())
            .and_then(|file| merge(file, Some(p().to_path_buf()), &Overrides::default()))
            .err()
            .map(|e| e.0)
            .unwrap_or_default()
    }

    #[test]
    fn out_of_range_values_in_the_file_name_their_line() {
        for (text, start) in [
            (
                "# comment\nregion = \"eu-west-1\"\n\nrefresh_seconds = -1\n",
                "/etc/ssowatch.toml:4: key `refresh_seconds`: refresh must be between 1 and 3600",
            ),
            (
                "provider = \"aws\"\nendpoint_url = \"ftp://x\"\n",
                "/etc/ssowatch.toml:2: key `endpoint_url`:",
            ),
            (
                "\n\nheadless_api_budget_rps = 0.0\n",
                "/etc/ssowatch.toml:3: key `headless_api_budget_rps`:",
            ),
            (
                "api_budget_rps = 1e-300\n",
                "/etc/ssowatch.toml:1: key `api_budget_rps`: the API budget must be between 0.05 and 20",
            ),
        ] {
            let err = file_error(text);
            assert!(err.starts_with(start), "{err}");
        }
    }

    #[test]
    fn alert_stuck_and_export_keys() -> Result<(), ConfigError> {
        let path = Path::new("/etc/ssowatch.toml");
        let text =
            "bell = false\nnotify = true\nstuck_after = \"30m\"\nexport_dir = \"/tmp/exports\"\n";
        let s = merge(parse(text, path)?, None, &Overrides::default())?;
        assert!(!s.bell && s.notify);
        assert_eq!(s.stuck_after, Duration::from_secs(30 * 60));
        assert_eq!(s.export_dir, Some(PathBuf::from("/tmp/exports")));
        let defaults = merge(FileConfig::default(), None, &Overrides::default())?;
        assert!(defaults.bell && !defaults.notify);
        assert_eq!(defaults.stuck_after, DEFAULT_STUCK_AFTER);
        let bad = parse("\nstuck_after = \"soon\"\n", path)?;
        let err = merge(bad, Some(path.to_path_buf()), &Overrides::default())
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            err.starts_with("/etc/ssowatch.toml:2: key `stuck_after`: \"soon\""),
            "{err}"
        );
        let huge = parse("stuck_after = \"1000000years\"\n", path)?;
        let err = merge(huge, Some(path.to_path_buf()), &Overrides::default())
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            err.ends_with("must be between 1m and 30days (from a minute to 30 days)"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn budgets_outside_the_sane_range_are_refused_from_flags_too() {
        for bad in [
            1e-300,
            1e-10,
            0.01,
            0.0,
            -1.0,
            20.5,
            f64::NAN,
            f64::INFINITY,
        ] {
            let o = Overrides {
                api_budget_rps: Some(bad),
                ..Default::default()
            };
            let err = merge(FileConfig::default(), None, &o)
                .err()
                .map(|e| e.0)
                .unwrap_or_default();
            assert!(
                err.starts_with("--api-budget: the API budget must be between 0.05 and 20"),
                "{bad}: {err}"
            );
        }
        for good in [0.05, 1.0, 20.0] {
            let o = Overrides {
                api_budget_rps: Some(good),
                ..Default::default()
            };
            let s = merge(FileConfig::default(), None, &o).ok();
            assert_eq!(
                s.map(|s| (s.api_budget_rps, s.headless_budget_rps)),
                Some((good, good))
            );
        }
    }

    #[test]
    fn serve_defaults_to_the_teams_budget_and_the_file_or_the_flag_still_set_it()
    -> Result<(), ConfigError> {
        let serving = Overrides {
            serving: true,
            ..Default::default()
        };
        let s = merge(FileConfig::default(), None, &serving)?;
        assert_eq!(s.api_budget_rps, SERVE_API_BUDGET_RPS);
        let dashboard = merge(FileConfig::default(), None, &Overrides::default())?;
        assert!(s.api_budget_rps > dashboard.api_budget_rps);
        let file = parse("api_budget_rps = 0.5\n", p())?;
        assert_eq!(merge(file, None, &serving)?.api_budget_rps, 0.5);
        let flag = Overrides {
            api_budget_rps: Some(2.0),
            ..serving.clone()
        };
        assert_eq!(
            merge(FileConfig::default(), None, &flag)?.api_budget_rps,
            2.0
        );
        // `--demo serve` serves the demo's emulator, which is nobody else's.
        let demo = Overrides {
            demo: true,
            ..serving
        };
        assert_eq!(
            merge(FileConfig::default(), None, &demo)?.api_budget_rps,
            DEMO_API_BUDGET_RPS
        );
        Ok(())
    }

    #[test]
    fn headless_and_dashboard_budgets_default_apart_and_the_flag_sets_both()
    -> Result<(), ConfigError> {
        let s = merge(FileConfig::default(), None, &Overrides::default())?;
        assert_eq!(s.api_budget_rps, DEFAULT_API_BUDGET_RPS);
        assert_eq!(s.headless_budget_rps, DEFAULT_HEADLESS_BUDGET_RPS);
        let file = parse("api_budget_rps = 1.0\nheadless_api_budget_rps = 8.0\n", p())?;
        let s = merge(file, None, &Overrides::default())?;
        assert_eq!((s.api_budget_rps, s.headless_budget_rps), (1.0, 8.0));
        Ok(())
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
