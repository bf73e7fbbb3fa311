//! The provider interface: the few calls ssowatch needs from a cloud, and the typed errors the
//! rest of the product reacts to (back off on throttling, tell the operator how to log in, ...).

pub mod aws;
pub mod huawei;
pub mod huawei_credentials;
pub mod huawei_sign;

use std::fmt;

use async_trait::async_trait;

use crate::model::{Described, Instance, OperationKind, Page, Status, StatusSummary};

/// What kind of failure a provider call ended in. The poller decides what to do from this
/// alone (retry, back off, stop and tell the operator), so every provider maps to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The service refused the call for rate: back off and retry.
    Throttled,
    /// Bad or expired credentials, or access denied: retrying will not help until the
    /// operator acts on the hint.
    Auth,
    NotFound,
    Validation,
    /// Another operation holds the resource (Huawei 409).
    Conflict,
    /// Network trouble, timeouts, 5xx: retry with backoff.
    Transient,
    /// The answer did not parse as the protocol says it should.
    Malformed,
    /// Local configuration is wrong or incomplete (no credentials, no instance, ...).
    Config,
}

impl ErrorKind {
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Throttled => "throttled",
            ErrorKind::Auth => "credentials or access",
            ErrorKind::NotFound => "not found",
            ErrorKind::Validation => "invalid request",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Transient => "temporary failure",
            ErrorKind::Malformed => "malformed response",
            ErrorKind::Config => "configuration",
        }
    }

    /// Whether trying the same call again later can succeed without the operator doing
    /// anything.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Throttled
                | ErrorKind::Transient
                | ErrorKind::Conflict
                | ErrorKind::Malformed
        )
    }
}

/// A provider error, already safe to show: messages are sanitized and never contain
/// credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub message: String,
    /// The provider's own request id, so the operator can quote it to support.
    pub request_id: Option<String>,
    /// What the operator can do about it, e.g. `run: aws sso login --profile prod`.
    pub hint: Option<String>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            message: crate::sanitize::clean_text(&message.into()),
            request_id: None,
            hint: None,
        }
    }

    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id.map(|r| crate::sanitize::clean_text(&r));
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// Where a provider points, for the header and for error messages. Never holds secrets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderInfo {
    /// `aws` or `huawei`.
    pub name: String,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

/// The calls ssowatch makes. Implementations do one HTTP call per method call (no hidden
/// retries), so that the poller's budget accounting is exact.
#[async_trait]
pub trait Provider: Send + Sync {
    fn info(&self) -> ProviderInfo;

    /// One page of instances; providers page internally since there are at most a handful.
    async fn list_instances(&self) -> Result<Vec<Instance>, ProviderError>;

    /// One page of one kind of status, newest pages in no particular order: the service does
    /// not promise one.
    async fn list_page(
        &self,
        instance: &str,
        kind: OperationKind,
        status: Option<&Status>,
        page_token: Option<&str>,
    ) -> Result<Page, ProviderError>;

    /// Describe one request of one kind.
    async fn describe(
        &self,
        instance: &str,
        kind: OperationKind,
        request_id: &str,
    ) -> Result<Described, ProviderError>;

    /// Friendly name of a permission set (DescribePermissionSet), `None` when it has none.
    async fn permission_set_name(
        &self,
        instance: &str,
        permission_set: &str,
    ) -> Result<Option<String>, ProviderError>;
}

/// Picks the instance to watch: the explicit one if given, else the only one ListInstances
/// returns. None or several is an error that lists what was found, so the operator can pass
/// `--instance-arn` / `--instance-id`.
pub async fn resolve_instance(
    provider: &dyn Provider,
    explicit: Option<&str>,
) -> Result<Instance, ProviderError> {
    if let Some(id) = explicit {
        return Ok(Instance {
            id: id.to_string(),
            identity_store_id: None,
            name: None,
        });
    }
    let instances = provider.list_instances().await?;
    let flag = if provider.info().name == "huawei" {
        "--instance-id"
    } else {
        "--instance-arn"
    };
    if instances.len() == 1
        && let Some(only) = instances.first()
    {
        return Ok(only.clone());
    }
    if instances.is_empty() {
        return Err(ProviderError::new(
            ErrorKind::Config,
            "no Identity Center instance is visible to these credentials",
        )
        .with_hint(format!(
            "check the account/region, or pass {flag} explicitly"
        )));
    }
    let ids: Vec<&str> = instances.iter().map(|i| i.id.as_str()).collect();
    Err(ProviderError::new(
        ErrorKind::Config,
        format!(
            "{} Identity Center instances found: {}",
            instances.len(),
            ids.join(", ")
        ),
    )
    .with_hint(format!("pick one with {flag}")))
}

/// How often [`with_retry`] retries a throttled or transient failure before giving up.
pub const RETRIES: u32 = 3;

/// Retries throttled and transient failures with exponential backoff and jitter, for one-shot
/// work (the headless commands): a script run during a rollout competes with the rollout for
/// the same 20 requests per second. The dashboard does not use this; its poller owns retries.
pub async fn with_retry<T, F, Fut>(mut call: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Err(e)
                if attempt < RETRIES
                    && matches!(e.kind, ErrorKind::Throttled | ErrorKind::Transient) =>
            {
                let base = std::time::Duration::from_millis(250 * 2u64.pow(attempt));
                let jitter: f64 = rand::random_range(0.5..1.5);
                tracing::warn!(error = %e, attempt, "retrying");
                tokio::time::sleep(base.mul_f64(jitter)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Lists every page of one kind, retrying throttled and transient pages, de-duplicated by
/// request id (a record may move between pages while we walk them). `on_page` sees each page
/// as it arrives.
pub async fn list_all(
    provider: &dyn Provider,
    instance: &str,
    kind: OperationKind,
    status: Option<&Status>,
    mut on_page: impl FnMut(&Page),
) -> Result<Vec<StatusSummary>, ProviderError> {
    let mut all = Vec::new();
    let mut seen_ids = std::collections::HashSet::new();
    let mut token: Option<String> = None;
    // A service that hands back the same token forever would loop us forever.
    let mut seen_tokens = std::collections::HashSet::new();
    loop {
        let page =
            with_retry(|| provider.list_page(instance, kind, status, token.as_deref())).await?;
        on_page(&page);
        all.extend(
            page.items
                .into_iter()
                .filter(|item| seen_ids.insert(item.request_id.clone())),
        );
        match page.next_token {
            Some(next) if !next.is_empty() => {
                if !seen_tokens.insert(next.clone()) {
                    return Err(ProviderError::new(
                        ErrorKind::Malformed,
                        "the service returned the same page token twice",
                    ));
                }
                token = Some(next);
            }
            _ => break,
        }
    }
    Ok(all)
}
