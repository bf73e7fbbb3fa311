//! The provider interface: the few calls ssowatch needs from a cloud, and the typed errors the
//! rest of the product reacts to (back off on throttling, tell the operator how to log in, ...).

pub mod aws;
pub mod huawei;
pub mod huawei_credentials;
pub mod huawei_sign;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::model::{Described, Instance, NameKind, OperationKind, Page, Status, StatusSummary};

/// What kind of failure a provider call ended in. The poller decides what to do from this
/// alone (retry, back off, stop and tell the operator), so every provider maps to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
    /// The endpoint does not implement the call (`UnknownOperationException`, HTTP 501): the
    /// wrong endpoint, a proxy or an emulator that lacks it. Asking again cannot help.
    Unsupported,
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
            ErrorKind::Unsupported => "not supported by this endpoint",
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
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

impl ProviderError {
    /// What went wrong, without the hint: for a screen that shows the hint on its own.
    pub fn what(&self) -> String {
        match &self.request_id {
            Some(id) => format!("{}: {} (request id {id})", self.kind.label(), self.message),
            None => format!("{}: {}", self.kind.label(), self.message),
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what())?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// Where a provider points, for the header and for error messages. Never holds secrets.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
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

    /// The name of a user (its user name) or a group (its display name) in the identity store
    /// behind the instance: Identity Store `DescribeUser`/`DescribeGroup` on AWS, the Identity
    /// Center identity store API on Huawei Cloud. `None` when it has none. A provider without
    /// an identity store API answers [`ErrorKind::Config`], and ids stay on screen.
    async fn principal_name(
        &self,
        identity_store: &str,
        kind: NameKind,
        principal: &str,
    ) -> Result<Option<String>, ProviderError> {
        let _ = (identity_store, kind, principal);
        Err(names_unsupported())
    }

    /// One page of the organization's accounts, as (id, name), from Organizations
    /// `ListAccounts`: one paged listing names every account at once.
    async fn list_accounts_page(
        &self,
        page_token: Option<&str>,
    ) -> Result<AccountPage, ProviderError> {
        let _ = page_token;
        Err(names_unsupported())
    }

    /// One account's name (Organizations `DescribeAccount`), for callers allowed to describe
    /// accounts but not to list them.
    async fn account_name(&self, account: &str) -> Result<Option<String>, ProviderError> {
        let _ = account;
        Err(names_unsupported())
    }
}

/// The most pages one walk of the organization's accounts reads: 20 accounts a page on AWS
/// (100 on Huawei Cloud), so 200,000 accounts or more, far beyond the largest organizations.
/// An account listing is walked to name accounts, never to see every record, so a count
/// bound is enough here (the status listings are bounded by progress instead,
/// [`ListingGuard`]): it stops a service that hands out page tokens forever. The dashboard's
/// names (`poller::names`) and the scripts' (`call_path`) both walk to it.
pub const MAX_ACCOUNT_PAGES: usize = 10_000;

/// One page of an account listing: (account id, account name) pairs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountPage {
    pub accounts: Vec<(String, String)>,
    pub next_token: Option<String>,
}

/// The hint of an [`ErrorKind::Unsupported`] answer: what the operator can do about it.
pub const UNSUPPORTED_HINT: &str = "the endpoint does not implement this call: check --endpoint-url and --region (a proxy or an old emulator in between?); asking again will not help";

/// The hint of an [`ErrorKind::Validation`] answer to a call ssowatch built itself.
pub const VALIDATION_HINT: &str = "the service refused the request as invalid: check --instance-arn/--instance-id and the request id; if they are right, please report it (the service's API may have changed)";

/// The longest one call may take, connection included. Identity Center answers a page in well
/// under a second; a call without an answer after 10 s is a hanging server or network, and
/// waiting 30 s per call (as before) made a hanging server cost minutes before a command gave
/// up. Both providers use it, and [`RetryPolicy::run`] enforces it on any provider.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// What a provider without a name API answers: a configuration matter, never retried.
pub fn names_unsupported() -> ProviderError {
    ProviderError::new(ErrorKind::Config, "this provider cannot resolve names")
}

/// Picks the instance to watch: the explicit one if given, else the only one ListInstances
/// returns. None or several is an error that lists what was found, so the operator can pass
/// `--instance-arn` / `--instance-id`.
///
/// Discovery is the first call of every command, so it is retried like any other call: a
/// single throttle or 5xx at start must not end the dashboard or a script.
pub async fn resolve_instance(
    provider: &dyn Provider,
    explicit: Option<&str>,
) -> Result<Instance, ProviderError> {
    resolve_instance_with(provider, explicit, RetryPolicy::from_env()).await
}

/// [`resolve_instance`] with the caller's retry policy (`wait` retries on its own clock, to
/// its own deadline, and must see every error).
pub async fn resolve_instance_with(
    provider: &dyn Provider,
    explicit: Option<&str>,
    policy: RetryPolicy,
) -> Result<Instance, ProviderError> {
    if let Some(id) = explicit {
        return Ok(Instance {
            id: id.to_string(),
            identity_store_id: None,
            name: None,
        });
    }
    let instances = policy.run(|| provider.list_instances()).await?;
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

/// How one-shot work (discovery, the headless commands) retries a failed call: bounded
/// exponential backoff with jitter. Eight attempts with waits of 0.25, 0.5, 1, 2, 4, 8 and 16 s
/// (each drawn from half to all of that, capped at 20 s) ride out a throttling storm of half a
/// minute or so, while a dead endpoint still ends the command in well under a minute:
///
/// - each call gets at most [`CALL_TIMEOUT`]; a call without an answer is a transient failure,
///   and after [`RetryPolicy::timeouts`] of them the server is taken for hanging (about 31 s,
///   where 8 × 30 s took 263 s);
/// - no retry starts once [`RetryPolicy::total`] has passed since the first call;
/// - errors that retrying cannot fix ([`ErrorKind::is_retryable`]: unknown operation, HTTP 501,
///   validation, denied, ...) end it at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Calls in all, the first included.
    pub attempts: u32,
    /// The wait before the first retry; it doubles with each retry.
    pub base: Duration,
    /// The longest single wait.
    pub cap: Duration,
    /// The longest one call may take.
    pub call_timeout: Duration,
    /// Calls without an answer after which the server is taken for hanging.
    pub timeouts: u32,
    /// No retry starts later than this after the first call.
    pub total: Duration,
}

impl RetryPolicy {
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        attempts: 8,
        base: Duration::from_millis(250),
        cap: Duration::from_secs(20),
        call_timeout: CALL_TIMEOUT,
        timeouts: 3,
        total: Duration::from_secs(40),
    };

    /// The wait before retry number `retry` (0 for the first retry), for a jitter draw in
    /// `0.0..=1.0`: between half and all of `base * 2^retry`, capped. Half is fixed so that the
    /// waits really grow; half is random so that many clients throttled at once do not come
    /// back in lockstep.
    pub fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let exp = self.base.saturating_mul(2u32.saturating_pow(retry.min(30)));
        let ceiling = exp.min(self.cap);
        ceiling.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// The policy in force: [`RetryPolicy::DEFAULT`], unless the test-only variable
    /// `SSOWATCH_TEST_RETRY_BASE_MS` shortens its base. The fault-matrix tests run the real
    /// binary against faults that never end, to check the line the operator finally reads;
    /// with the real schedule each such run would sleep about 25 s. The schedule itself is
    /// tested in process, in paused time.
    pub fn from_env() -> RetryPolicy {
        let base = std::env::var("SSOWATCH_TEST_RETRY_BASE_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(|ms| Duration::from_millis(ms.clamp(1, 1000)));
        match base {
            Some(base) => RetryPolicy {
                base,
                ..RetryPolicy::DEFAULT
            },
            None => RetryPolicy::DEFAULT,
        }
    }

    /// The schedule of `wait`: every failure that waiting can fix is retried, a probe every few
    /// seconds (waits of 0.5 to 1, 1 to 2, 2 to 4, then 2.5 to 5 s), until the caller's
    /// deadline and never before it: a pipeline gate must not give up before its own
    /// `--timeout`. No attempt, timeout or total bound: the deadline is the bound.
    pub const UNTIL_DEADLINE: RetryPolicy = RetryPolicy {
        attempts: u32::MAX,
        base: Duration::from_secs(1),
        cap: Duration::from_secs(5),
        call_timeout: CALL_TIMEOUT,
        timeouts: u32::MAX,
        total: Duration::MAX,
    };

    /// Runs `call` until it succeeds, fails with an error that retrying cannot fix
    /// ([`ErrorKind::is_retryable`]), or has used every attempt. Unpaced, with no deadline:
    /// for discovery, which runs before any budget exists.
    pub async fn run<T, F, Fut>(&self, call: F) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        self.run_gated(&mut Ungated, call)
            .await
            .map_err(ProviderError::from)
    }

    /// The one retry loop: runs `call` through `gate` (which paces each attempt and may set a
    /// deadline) until it succeeds, fails with an error that retrying cannot fix, has used
    /// this policy's attempts, timeouts or total time, or the gate's deadline passes. The
    /// headless commands and `wait` reach it through [`crate::provider::Gate`]'s one
    /// implementation, the call path of the scripts; discovery through [`RetryPolicy::run`].
    pub async fn run_gated<T, F, Fut, G>(&self, gate: &mut G, mut call: F) -> Result<T, CallError>
    where
        G: Gate,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        let start = tokio::time::Instant::now();
        let mut retry = 0;
        let mut timeouts = 0;
        loop {
            if !gate.ready().await {
                return Err(CallError::Deadline);
            }
            let started = tokio::time::Instant::now();
            // A call is cut at the call timeout, or at the deadline when that comes first.
            let cut = started + self.call_timeout;
            let deadline = gate.deadline().filter(|d| *d <= cut);
            let answer = match tokio::time::timeout_at(deadline.unwrap_or(cut), call()).await {
                // A provider's own timeout (the SDK's) ends a hanging call as an error of its
                // own: a call that took the whole timeout is a call without an answer.
                Ok(Err(e)) if started.elapsed() >= self.call_timeout => {
                    timeouts += 1;
                    Err(e)
                }
                Ok(answer) => answer,
                Err(_) if deadline.is_some() => {
                    gate.answered(Answered::CutAtDeadline, started);
                    return Err(CallError::Deadline);
                }
                Err(_) => {
                    timeouts += 1;
                    Err(ProviderError::new(
                        ErrorKind::Transient,
                        format!(
                            "the service did not answer within {} s",
                            self.call_timeout.as_secs_f64()
                        ),
                    ))
                }
            };
            let error = match answer {
                Ok(value) => {
                    gate.answered(Answered::Ok, started);
                    return Ok(value);
                }
                Err(error) => error,
            };
            gate.answered(Answered::Failed(&error), started);
            if !error.kind.is_retryable() {
                return Err(error.into());
            }
            let wait = self.delay(retry, rand::random_range(0.0..=1.0));
            let in_time = start.elapsed().saturating_add(wait) < self.total;
            if retry.saturating_add(1) < self.attempts && timeouts < self.timeouts && in_time {
                tracing::warn!(%error, retry, ?wait, "retrying");
                let at = tokio::time::Instant::now() + wait;
                if let Some(deadline) = gate.deadline()
                    && at >= deadline
                {
                    // No retry fits: wait the deadline out all the same, so that a caller on
                    // a deadline never gives up before it.
                    tokio::time::sleep_until(deadline).await;
                    return Err(CallError::Deadline);
                }
                tokio::time::sleep_until(at).await;
                retry += 1;
                continue;
            }
            if retry == 0 {
                return Err(error.into());
            }
            let attempts = retry + 1;
            let took = start.elapsed().as_secs();
            return Err(ProviderError {
                message: format!(
                    "{} (gave up after {attempts} attempts in {took} s)",
                    error.message
                ),
                ..error
            }
            .into());
        }
    }
}

/// Why a retried call gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The service said no in a way retrying will not fix, or retrying was given up.
    Provider(ProviderError),
    /// The gate's deadline passed while waiting for budget, for a retry or for the answer.
    Deadline,
}

impl From<ProviderError> for CallError {
    fn from(error: ProviderError) -> CallError {
        CallError::Provider(error)
    }
}

impl From<CallError> for ProviderError {
    /// For callers without a deadline, which never see [`CallError::Deadline`]: an error
    /// that says what happened all the same.
    fn from(error: CallError) -> ProviderError {
        match error {
            CallError::Provider(error) => error,
            CallError::Deadline => ProviderError::new(
                ErrorKind::Transient,
                "the timeout passed before the service answered",
            ),
        }
    }
}

/// What [`RetryPolicy::run_gated`] tells its gate of an attempt.
#[derive(Debug, Clone, Copy)]
pub enum Answered<'a> {
    Ok,
    Failed(&'a ProviderError),
    /// The deadline cut the call before it answered.
    CutAtDeadline,
}

/// Paces the attempts of [`RetryPolicy::run_gated`] and says when they must end. It lives
/// here, under the loop, so that the loop is one for every caller; the budget of the scripts
/// (`crate::call_path`, on the poller's rate limiter) implements it.
pub trait Gate {
    /// When every attempt must have ended, if ever.
    fn deadline(&self) -> Option<tokio::time::Instant>;

    /// Waits until the next attempt may start, and counts it. `false` when the deadline
    /// comes first; the gate has then waited until it.
    fn ready(&mut self) -> impl std::future::Future<Output = bool> + Send;

    /// How an attempt that started at `started` ended.
    fn answered(&mut self, answer: Answered<'_>, started: tokio::time::Instant);
}

/// No pacing and no deadline: discovery, and the raw listings of the provider tests.
struct Ungated;

impl Gate for Ungated {
    fn deadline(&self) -> Option<tokio::time::Instant> {
        None
    }

    async fn ready(&mut self) -> bool {
        true
    }

    fn answered(&mut self, _: Answered<'_>, _: tokio::time::Instant) {}
}

/// Retries with [`RetryPolicy::from_env`], unpaced: for instance discovery (before any budget
/// exists) and [`list_all`]. The scripts retry on the same policy through their budget
/// (`crate::call_path`); the dashboard's poller owns its own retries, on the same
/// [`ErrorKind::is_retryable`] set.
pub async fn with_retry<T, F, Fut>(call: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    RetryPolicy::from_env().run(call).await
}

/// When a listing must stop, for every listing ssowatch makes (the dashboard's lanes and the
/// headless commands alike). A broken service can hand out page tokens forever, looping
/// (A, B, A) or always new, with pages that repeat or overlap what came before. A raw page
/// count cannot tell that from a large history (the planner said 100,000 pages, `list`
/// 1,000, and `list` ran 202 s before it stopped), so progress is judged instead:
///
/// - a page token seen before (a loop) stops the listing at once;
/// - [`STALLED_PAGES`] pages in a row without progress stop it: a page makes progress when
///   at least a quarter of its records, and at least one, are new to this listing. An
///   honest service makes progress on every page but a few short or empty ones while a
///   listing is being written to; an endless token makes none (the same records again, or
///   one new record per page of a hundred);
/// - a listing still going after [`LISTING_TIME_LIMIT`] stops: a backstop for a service
///   that makes just enough progress forever.
pub const STALLED_PAGES: u32 = 10;

/// The longest a listing may run: twice the dashboard's full re-list interval. The largest
/// history Identity Center keeps lists in minutes even at the dashboard's 0.9 req/s.
pub const LISTING_TIME_LIMIT: Duration = Duration::from_secs(3600);

/// Tracks one listing against the rules of [`STALLED_PAGES`]: feed it every page.
#[derive(Debug, Default)]
pub struct ListingGuard {
    tokens: std::collections::HashSet<String>,
    pages: u32,
    stalled: u32,
    started: Duration,
}

impl ListingGuard {
    /// A listing that started at `started` (on the caller's clock).
    pub fn new(started: Duration) -> ListingGuard {
        ListingGuard {
            started,
            ..ListingGuard::default()
        }
    }

    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// Pages in a row without progress, the last one included.
    pub fn stalled(&self) -> u32 {
        self.stalled
    }

    /// A page of `items` records arrived at `now`, `new` of them new to this listing, which
    /// now holds `records` distinct ones; `next` is its page token. Returns why the listing
    /// must stop, if it must: one line for the operator.
    pub fn on_page(
        &mut self,
        kind: OperationKind,
        items: usize,
        new: usize,
        records: usize,
        next: Option<&str>,
        now: Duration,
    ) -> Option<String> {
        self.pages += 1;
        let progress = new >= 1 && new * 4 >= items;
        self.stalled = if progress { 0 } else { self.stalled + 1 };
        let next = next?;
        let pages = self.pages;
        let kind = kind.short();
        if !self.tokens.insert(next.to_string()) {
            return Some(format!(
                "the {kind} listing loops: page {pages} handed back a page token already used ({records} records so far); stopped"
            ));
        }
        if self.stalled >= STALLED_PAGES {
            return Some(format!(
                "the {kind} listing made no progress for {STALLED_PAGES} pages (stopped after {pages} pages, {records} distinct records): the service keeps handing out page tokens without new records"
            ));
        }
        let lasted = now.saturating_sub(self.started);
        if lasted >= LISTING_TIME_LIMIT {
            return Some(format!(
                "the {kind} listing did not end in {} (stopped after {pages} pages, {records} distinct records)",
                humantime::format_duration(LISTING_TIME_LIMIT)
            ));
        }
        None
    }
}

/// Lists every page of one kind, retrying throttled and transient pages, de-duplicated by
/// request id (a record may move between pages while we walk them). `on_page` sees each page
/// as it arrives. A listing that loops or makes no progress is stopped ([`ListingGuard`]).
/// Unpaced: the scripts list through their budget (`crate::call_path`), on [`list_pages`].
pub async fn list_all(
    provider: &dyn Provider,
    instance: &str,
    kind: OperationKind,
    status: Option<&Status>,
    on_page: impl FnMut(&Page),
) -> Result<Vec<StatusSummary>, ProviderError> {
    list_pages(
        kind,
        async |token: Option<String>| {
            with_retry(|| provider.list_page(instance, kind, status, token.as_deref())).await
        },
        on_page,
    )
    .await
}

/// The one listing loop: every page `fetch` brings for a page token (`None` first), of one
/// kind, de-duplicated by request id and stopped by a [`ListingGuard`]. `fetch` retries (or
/// not) as its caller decides.
pub async fn list_pages<E: From<ProviderError>>(
    kind: OperationKind,
    mut fetch: impl AsyncFnMut(Option<String>) -> Result<Page, E>,
    mut on_page: impl FnMut(&Page),
) -> Result<Vec<StatusSummary>, E> {
    let mut all = Vec::new();
    let mut seen_ids = std::collections::HashSet::new();
    let mut token: Option<String> = None;
    let started = tokio::time::Instant::now();
    let mut guard = ListingGuard::new(Duration::ZERO);
    loop {
        let page = fetch(token.take()).await?;
        on_page(&page);
        let items = page.items.len();
        let before = all.len();
        all.extend(
            page.items
                .into_iter()
                .filter(|item| seen_ids.insert(item.request_id.clone())),
        );
        let next = page.next_token.filter(|t| !t.is_empty());
        if let Some(why) = guard.on_page(
            kind,
            items,
            all.len() - before,
            all.len(),
            next.as_deref(),
            started.elapsed(),
        ) {
            return Err(ProviderError::new(ErrorKind::Malformed, why).into());
        }
        let Some(next) = next else {
            break;
        };
        token = Some(next);
    }
    Ok(all)
}
