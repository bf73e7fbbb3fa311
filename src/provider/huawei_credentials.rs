//! The Huawei Cloud credential chain, in one place. Credentials are looked for in this order,
//! the first complete AK/SK pair winning:
//!
//! 1. the environment, as the official SDK reads it: `HUAWEICLOUD_SDK_AK` + `HUAWEICLOUD_SDK_SK`
//!    (both needed), with `HUAWEICLOUD_SDK_SECURITY_TOKEN` and `HUAWEICLOUD_SDK_DOMAIN_ID`;
//! 2. the SDK's INI file `~/.huaweicloud/credentials` (or `HUAWEICLOUD_SDK_CREDENTIALS_FILE`),
//!    section `[global]`, keys `ak`, `sk`, `security_token`, `domain_id`;
//! 3. the ssowatch config file's `[huawei]` values (`access_key`, `secret_key`), the last
//!    resort, for a machine without any SDK setup.
//!
//! The domain id (sent as `X-Domain-Id`) comes with the source that won; when that source has
//! none, the config file's `domain_id` is used. So an operator whose `hcloud`/SDK setup already
//! works needs nothing new, and one who only has a config file is served too.
//!
//! Resolution takes the environment as a lookup closure and the config file's values as plain
//! data ([`ConfigValues`]) instead of reading the process environment or [`crate::config`]
//! itself: the provider layer stays below the config layer, tests never race on the global
//! environment, and the file path logic is testable without touching `$HOME`.
//!
//! Secrets (SK, security token) never appear in `Debug` output, errors or logs.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::provider::{ErrorKind, ProviderError};

pub const ENV_AK: &str = "HUAWEICLOUD_SDK_AK";
pub const ENV_SK: &str = "HUAWEICLOUD_SDK_SK";
pub const ENV_SECURITY_TOKEN: &str = "HUAWEICLOUD_SDK_SECURITY_TOKEN";
pub const ENV_DOMAIN_ID: &str = "HUAWEICLOUD_SDK_DOMAIN_ID";
pub const ENV_CREDENTIALS_FILE: &str = "HUAWEICLOUD_SDK_CREDENTIALS_FILE";

/// The section the SDK's global-service credentials live in. Identity Center is a global
/// service, so `[global]` (not `[basic]`) is the one to read.
pub const FILE_SECTION: &str = "global";

/// What the operator can do when no credentials were found or the service refused them.
pub const SETUP_HINT: &str = "set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (plus \
HUAWEICLOUD_SDK_SECURITY_TOKEN for temporary keys), or put ak/sk in the [global] section of \
~/.huaweicloud/credentials";

/// Where a set of credentials came from, shown to the operator (never with the values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    Environment,
    File(PathBuf),
    /// The ssowatch config file's `[huawei]` section.
    ConfigFile,
    /// Given directly (the embedded demo's well-known keys, tests).
    Static,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Environment => f.write_str("environment (HUAWEICLOUD_SDK_*)"),
            CredentialSource::File(p) => write!(f, "credentials file {}", p.display()),
            CredentialSource::ConfigFile => f.write_str("ssowatch config file [huawei]"),
            CredentialSource::Static => f.write_str("static"),
        }
    }
}

/// An AK/SK pair, optionally temporary (with a security token), plus the domain id sent as
/// `X-Domain-Id`. Fields holding secrets are private so they cannot be formatted by accident;
/// `Debug` redacts them.
#[derive(Clone, PartialEq, Eq)]
pub struct HuaweiCredentials {
    access_key: String,
    secret_key: String,
    security_token: Option<String>,
    domain_id: Option<String>,
    source: CredentialSource,
}

impl HuaweiCredentials {
    /// Credentials given directly (demo keys, tests).
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        HuaweiCredentials {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            security_token: None,
            domain_id: None,
            source: CredentialSource::Static,
        }
    }

    pub fn with_security_token(mut self, token: Option<String>) -> Self {
        self.security_token = token.filter(|t| !t.is_empty());
        self
    }

    pub fn with_domain_id(mut self, domain_id: Option<String>) -> Self {
        self.domain_id = domain_id.filter(|d| !d.is_empty());
        self
    }

    /// The access key id. Not secret by itself (it appears in every Authorization header),
    /// but still only shown masked by `Debug`.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key, for the signer only.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    pub fn domain_id(&self) -> Option<&str> {
        self.domain_id.as_deref()
    }

    pub fn source(&self) -> &CredentialSource {
        &self.source
    }
}

/// Shows the first four characters of the AK (enough to tell keys apart) and nothing of the
/// secrets.
impl fmt::Debug for HuaweiCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ak_prefix: String = self.access_key.chars().take(4).collect();
        f.debug_struct("HuaweiCredentials")
            .field("access_key", &format_args!("{ak_prefix}****"))
            .field("secret_key", &format_args!("<redacted>"))
            .field(
                "security_token",
                &format_args!(
                    "{}",
                    if self.security_token.is_some() {
                        "<redacted>"
                    } else {
                        "None"
                    }
                ),
            )
            .field("domain_id", &self.domain_id)
            .field("source", &self.source)
            .finish()
    }
}

/// The ssowatch config file's Huawei values, passed in as plain data by the layer that reads
/// the config (see the module doc). `Debug` redacts the secret key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConfigValues {
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub domain_id: Option<String>,
}

impl fmt::Debug for ConfigValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigValues")
            .field("access_key", &self.access_key.as_ref().map(|_| "<set>"))
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("domain_id", &self.domain_id)
            .finish()
    }
}

/// Resolves credentials along the chain of the module doc.
///
/// * `env` looks up an environment variable (pass `|k| std::env::var(k).ok()` in the program);
///   empty values count as unset, as in the SDK.
/// * `home` is the home directory, used for the default file path.
/// * `config` holds the ssowatch config file's values: its AK/SK are the last resort, its
///   domain id fills in for a source that has none.
///
/// A credentials file that exists but cannot be read is an error (silently skipping it would
/// send the operator hunting); one that is missing, or lacks `[global]` ak/sk, is skipped.
pub fn resolve(
    env: impl Fn(&str) -> Option<String>,
    home: Option<&Path>,
    config: &ConfigValues,
) -> Result<HuaweiCredentials, ProviderError> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let non_empty = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let config_domain = non_empty(&config.domain_id);

    if let (Some(ak), Some(sk)) = (get(ENV_AK), get(ENV_SK)) {
        let mut c = HuaweiCredentials::new(ak.trim(), sk.trim())
            .with_security_token(get(ENV_SECURITY_TOKEN).map(|t| t.trim().to_string()))
            .with_domain_id(
                get(ENV_DOMAIN_ID)
                    .map(|d| d.trim().to_string())
                    .or(config_domain),
            );
        c.source = CredentialSource::Environment;
        return Ok(c);
    }

    let path = match get(ENV_CREDENTIALS_FILE) {
        Some(p) => Some(PathBuf::from(p)),
        None => home.map(|h| h.join(".huaweicloud").join("credentials")),
    };
    if let Some(path) = path {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let section = ini_section(&text, FILE_SECTION);
                let value = |key: &str| {
                    section
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.clone())
                        .filter(|v| !v.is_empty())
                };
                if let (Some(ak), Some(sk)) = (value("ak"), value("sk")) {
                    let mut c = HuaweiCredentials::new(ak, sk)
                        .with_security_token(value("security_token"))
                        .with_domain_id(value("domain_id").or(config_domain));
                    c.source = CredentialSource::File(path);
                    return Ok(c);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ProviderError::new(
                    ErrorKind::Config,
                    format!(
                        "cannot read the Huawei Cloud credentials file {}: {e}",
                        path.display()
                    ),
                )
                .with_hint(SETUP_HINT));
            }
        }
    }

    if let (Some(ak), Some(sk)) = (non_empty(&config.access_key), non_empty(&config.secret_key)) {
        let mut c = HuaweiCredentials::new(ak, sk).with_domain_id(config_domain);
        c.source = CredentialSource::ConfigFile;
        return Ok(c);
    }

    Err(ProviderError::new(
        ErrorKind::Config,
        "no Huawei Cloud credentials found (environment, credentials file, ssowatch config)",
    )
    .with_hint(SETUP_HINT))
}

/// Resolves from the real process environment and home directory.
pub fn resolve_default(config: &ConfigValues) -> Result<HuaweiCredentials, ProviderError> {
    let home = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
    resolve(|k| std::env::var(k).ok(), home.as_deref(), config)
}

/// The `key = value` pairs of one INI section, read the way Python's `configparser` (which the
/// SDK uses) reads them for the simple files people write: `=` or `:` separators, keys
/// case-insensitive (returned lower-cased), values trimmed, whole-line `#` / `;` comments,
/// section names case-sensitive. A duplicate key (an error in `configparser`) takes the
/// later value rather than failing.
fn ini_section(text: &str, wanted: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut in_section = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(name) = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            in_section = name.trim() == wanted;
            continue;
        }
        if !in_section {
            continue;
        }
        let split = trimmed
            .find(['=', ':'])
            .map(|i| (&trimmed[..i], &trimmed[i + 1..]));
        if let Some((k, v)) = split {
            let key = k.trim().to_ascii_lowercase();
            let value = v.trim().to_string();
            out.retain(|(existing, _)| existing != &key);
            out.push((key, value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn write_file(dir: &Path, body: &str) -> PathBuf {
        let path = dir.join("creds.ini");
        let written = std::fs::write(&path, body);
        assert!(written.is_ok(), "{written:?}");
        path
    }

    fn domain_only(domain: &str) -> ConfigValues {
        ConfigValues {
            domain_id: Some(domain.into()),
            ..ConfigValues::default()
        }
    }

    #[test]
    fn config_file_keys_are_the_last_resort() {
        let home = tempfile::tempdir().expect("temp dir");
        let config = ConfigValues {
            access_key: Some("CFGAK".into()),
            secret_key: Some("cfgsecret".into()),
            domain_id: Some("cfgdomain".into()),
        };
        let c = resolve(env_of(&[]), Some(home.path()), &config);
        let c = c.as_ref().ok();
        assert_eq!(c.map(|c| c.access_key()), Some("CFGAK"));
        assert_eq!(c.and_then(|c| c.domain_id()), Some("cfgdomain"));
        assert_eq!(c.map(|c| c.source()), Some(&CredentialSource::ConfigFile));
        // The environment still wins over it, with the config's domain filling in.
        let env = env_of(&[(ENV_AK, "ENVAK"), (ENV_SK, "envsk")]);
        let c = resolve(env, Some(home.path()), &config);
        let c = c.as_ref().ok();
        assert_eq!(c.map(|c| c.access_key()), Some("ENVAK"));
        assert_eq!(c.and_then(|c| c.domain_id()), Some("cfgdomain"));
        // Half a pair in the config is no pair.
        let half = ConfigValues {
            secret_key: None,
            ..config.clone()
        };
        assert!(resolve(env_of(&[]), Some(home.path()), &half).is_err());
        assert!(!format!("{config:?}").contains("cfgsecret"));
    }

    const FILE: &str = "# comment\n[basic]\nak = BASICAK\nsk = basicsk\n\n[global]\nAK = FILEAK\nsk: filesk\nsecurity_token = filetoken\ndomain_id = filedomain\n";

    #[test]
    fn environment_wins_over_file_and_config() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write_file(dir.path(), FILE);
        let env = env_of(&[
            (ENV_AK, "ENVAK"),
            (ENV_SK, "envsk"),
            (ENV_SECURITY_TOKEN, "envtoken"),
            (ENV_DOMAIN_ID, "envdomain"),
            (ENV_CREDENTIALS_FILE, path.to_str().unwrap_or_default()),
        ]);
        let c = resolve(env, None, &domain_only("cfgdomain"));
        let c = c.as_ref().ok();
        assert_eq!(c.map(|c| c.access_key()), Some("ENVAK"));
        assert_eq!(c.map(|c| c.secret_key()), Some("envsk"));
        assert_eq!(c.and_then(|c| c.security_token()), Some("envtoken"));
        assert_eq!(c.and_then(|c| c.domain_id()), Some("envdomain"));
        assert_eq!(c.map(|c| c.source()), Some(&CredentialSource::Environment));
    }

    #[test]
    fn env_needs_both_keys_else_the_file_is_used() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write_file(dir.path(), FILE);
        let env = env_of(&[
            (ENV_AK, "ENVAK"),
            (ENV_CREDENTIALS_FILE, path.to_str().unwrap_or_default()),
        ]);
        let c = resolve(env, None, &ConfigValues::default());
        let c = c.as_ref().ok();
        assert_eq!(c.map(|c| c.access_key()), Some("FILEAK"));
        assert_eq!(c.map(|c| c.secret_key()), Some("filesk"));
        assert_eq!(c.and_then(|c| c.security_token()), Some("filetoken"));
        assert_eq!(c.and_then(|c| c.domain_id()), Some("filedomain"));
        assert_eq!(c.map(|c| c.source()), Some(&CredentialSource::File(path)));
    }

    #[test]
    fn default_file_under_home_and_config_domain_fallback() {
        let home = tempfile::tempdir().expect("temp dir");
        let dir = home.path().join(".huaweicloud");
        assert!(std::fs::create_dir_all(&dir).is_ok());
        write_file(&dir, "");
        assert!(std::fs::write(dir.join("credentials"), "[global]\nak=HAK\nsk=hsk\n").is_ok());
        let c = resolve(env_of(&[]), Some(home.path()), &domain_only("cfgdomain"));
        let c = c.as_ref().ok();
        assert_eq!(c.map(|c| c.access_key()), Some("HAK"));
        assert_eq!(c.and_then(|c| c.security_token()), None);
        assert_eq!(c.and_then(|c| c.domain_id()), Some("cfgdomain"));
    }

    #[test]
    fn env_domain_falls_back_to_config() {
        let env = env_of(&[(ENV_AK, "A"), (ENV_SK, "S"), (ENV_DOMAIN_ID, "")]);
        let c = resolve(env, None, &domain_only("cfgdomain"));
        assert_eq!(
            c.ok().and_then(|c| c.domain_id().map(str::to_string)),
            Some("cfgdomain".into())
        );
    }

    #[test]
    fn nothing_found_is_a_config_error_with_a_hint_and_no_secret() {
        let home = tempfile::tempdir().expect("temp dir");
        // Only a [basic] section: the global service does not use it.
        let path = write_file(home.path(), "[basic]\nak=X\nsk=topsecret\n");
        let env = env_of(&[
            (ENV_SK, "envsecret"),
            (ENV_CREDENTIALS_FILE, path.to_str().unwrap_or_default()),
        ]);
        let err = resolve(env, Some(home.path()), &ConfigValues::default()).err();
        let err = err.as_ref();
        assert_eq!(err.map(|e| e.kind), Some(ErrorKind::Config));
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("HUAWEICLOUD_SDK_AK"), "{text}");
        assert!(
            !text.contains("topsecret") && !text.contains("envsecret"),
            "{text}"
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = HuaweiCredentials::new("HPUAEXAMPLEAK0000001", "verysecretSK")
            .with_security_token(Some("tokensecret".into()))
            .with_domain_id(Some("dom".into()));
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("verysecretSK"), "{shown}");
        assert!(!shown.contains("tokensecret"), "{shown}");
        assert!(!shown.contains("HPUAEXAMPLEAK0000001"), "{shown}");
        assert!(shown.contains("HPUA****"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn ini_reader_handles_comments_case_and_separators() {
        let s = ini_section(
            "[global]\n; c\n  Ak =  X1 \nsk:Y\n[other]\nak=Z\n[global]\nak=X2\n",
            "global",
        );
        assert_eq!(
            s,
            vec![
                ("sk".to_string(), "Y".to_string()),
                ("ak".to_string(), "X2".to_string())
            ]
        );
        assert!(ini_section("[Global]\nak=1\n", "global").is_empty());
    }
}
