//! The one call path of the scripts: `list`, `describe`, `failures` (and its hand-off) and
//! `wait` make every call through a [`CallPath`].
//!
//! A script shares the account's 20 requests per second with the pipelines it watches, so
//! each Identity Center call takes a slot of the same [`RateLimiter`] the dashboard's poller
//! spends (at `settings.headless_budget_rps`). A call that fails in a way waiting can fix
//! (throttling, 5xx, no answer: [`crate::provider::ErrorKind::is_retryable`]) is retried with
//! backoff and jitter by the one retry loop, [`RetryPolicy::run_gated`]; a refusal (denied,
//! invalid, not implemented) never is. Nothing retries forever:
//!
//! - `list`, `describe` and `failures` bound each call by [`RetryPolicy::from_env`] (eight
//!   attempts, no retry after 40 s, three calls without an answer), and say so in the error:
//!   `... (gave up after 8 attempts in 31 s)`;
//! - `wait` retries to its own `--timeout` ([`RetryPolicy::UNTIL_DEADLINE`]), never past it
//!   and never before it.
//!
//! Either way the path counts its calls and the throttled ones, and remembers since when every
//! call has failed: what [`CallPath::trouble`] says ("throttled for 1m 30s ...") when a
//! deadline passes. It also holds the one name cache of a script ([`NameCache`], in memory:
//! each permission set, principal and account asked once per command) and the one
//! "describe a request id, trying each kind" ([`CallPath::describe_any`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::model::{Described, Instance, NameKind, OperationKind, RequestDetail, Status};
use crate::poller::budget::RateLimiter;
use crate::poller::names::{NameCache, NameService};
use crate::provider::{
    Answered, CallError, ErrorKind, Gate, MAX_ACCOUNT_PAGES, Provider, ProviderError, ProviderInfo,
    RetryPolicy, list_pages,
};

/// The budget a call path spends: the poller's limiter on tokio's clock (so tests run it in
/// paused time), the deadline if any, and what the calls met.
struct Budget {
    limiter: RateLimiter,
    start: Instant,
    deadline: Option<Instant>,
    /// Whether the next call spends the Identity Center budget. Identity Store and
    /// Organizations have quotas of their own: their calls take no slot.
    spend: bool,
    calls: u64,
    throttled: u64,
    last_retryable: Option<ProviderError>,
    /// Since when every call has failed with an error that waiting can fix (none while the
    /// last call worked).
    failing_since: Option<Instant>,
}

impl Gate for Budget {
    fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    async fn ready(&mut self) -> bool {
        loop {
            let now = self.start.elapsed();
            let ready = if self.spend {
                self.limiter.ready_at(now)
            } else {
                now
            };
            if let Some(deadline) = self.deadline
                && self.start + ready >= deadline
            {
                // No call fits before the deadline: wait it out all the same, so that `wait`
                // never gives up before its own --timeout (it exited at 67 s of 90 s).
                tokio::time::sleep_until(deadline).await;
                return false;
            }
            if self.spend && (ready > now || !self.limiter.try_acquire(now)) {
                // `ready_at` can equal `now` while the window is still full by a hair: wait
                // at least a millisecond so this never spins.
                let at = (self.start + ready).max(Instant::now() + Duration::from_millis(1));
                tokio::time::sleep_until(at).await;
                continue;
            }
            self.calls += 1;
            return true;
        }
    }

    fn answered(&mut self, answer: Answered<'_>, started: Instant) {
        match answer {
            Answered::Ok => {
                if self.spend {
                    self.limiter.on_success();
                }
                self.failing_since = None;
            }
            Answered::Failed(error) if error.kind.is_retryable() => {
                if error.kind == ErrorKind::Throttled {
                    self.throttled += 1;
                }
                self.failing_since.get_or_insert(started);
                self.last_retryable = Some(error.clone());
            }
            Answered::Failed(_) => {}
            Answered::CutAtDeadline => {
                self.failing_since.get_or_insert(started);
            }
        }
    }
}

/// One script's calls: paced, retried, bounded, counted and named. See the module.
pub struct CallPath {
    provider: Arc<dyn Provider>,
    instance: Instance,
    policy: RetryPolicy,
    budget: Budget,
    names: NameCache,
    /// The instance's identity store, once looked up (`Some(None)`: it has none we can see).
    identity_store: Option<Option<String>>,
    /// DescribeAccount was denied: accounts are named from the listing only.
    describe_account_denied: bool,
    /// The account listing was read to its end: an account it did not name has no name.
    accounts_listed: bool,
    /// The hints already handed out, so each is said once.
    hints: Vec<String>,
}

impl CallPath {
    /// For `list`, `describe` and `failures`: each call bounded by [`RetryPolicy::from_env`],
    /// no deadline for the command as a whole (a listing of 100,000 records takes minutes).
    pub fn for_script(provider: Arc<dyn Provider>, instance: Instance, rate: f64) -> CallPath {
        CallPath::new(provider, instance, rate, RetryPolicy::from_env(), None)
    }

    /// For `wait`: every call retried until `deadline`, the end of its `--timeout` counted
    /// from `start`.
    pub fn until(
        provider: Arc<dyn Provider>,
        instance: Instance,
        rate: f64,
        start: Instant,
        deadline: Instant,
    ) -> CallPath {
        let mut path = CallPath::new(
            provider,
            instance,
            rate,
            RetryPolicy::UNTIL_DEADLINE,
            Some(deadline),
        );
        path.budget.start = start;
        path
    }

    pub fn new(
        provider: Arc<dyn Provider>,
        instance: Instance,
        rate: f64,
        policy: RetryPolicy,
        deadline: Option<Instant>,
    ) -> CallPath {
        CallPath {
            provider,
            instance,
            policy,
            budget: Budget {
                limiter: RateLimiter::new(rate, rand::random()),
                start: Instant::now(),
                deadline,
                spend: true,
                calls: 0,
                throttled: 0,
                last_retryable: None,
                failing_since: None,
            },
            names: NameCache::open(None, chrono::Utc::now()),
            identity_store: None,
            describe_account_denied: false,
            accounts_listed: false,
            hints: Vec::new(),
        }
    }

    pub fn info(&self) -> ProviderInfo {
        self.provider.info()
    }

    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// Calls started so far, retries included.
    pub fn calls(&self) -> u64 {
        self.budget.calls
    }

    /// Calls the service throttled.
    pub fn throttled(&self) -> u64 {
        self.budget.throttled
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.budget.deadline
    }

    /// What the calls met, if the service was failing when the deadline passed: "throttled
    /// for 1m 30s: ..." with the last error. `None` when the last call worked.
    pub fn trouble(&self) -> Option<String> {
        let until = self.budget.deadline.unwrap_or_else(Instant::now);
        trouble_line(
            self.budget.failing_since,
            self.budget.last_retryable.as_ref(),
            until,
        )
    }

    /// One call on the Identity Center budget, retried as the policy says.
    async fn call<T, F, Fut>(&mut self, make: F) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        self.budget.spend = true;
        self.policy.run_gated(&mut self.budget, make).await
    }

    /// One call to a service with a quota of its own (Identity Store, Organizations): retried
    /// and counted, but it takes no Identity Center slot.
    async fn call_elsewhere<T, F, Fut>(&mut self, make: F) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        self.budget.spend = false;
        let answer = self.policy.run_gated(&mut self.budget, make).await;
        self.budget.spend = true;
        answer
    }

    /// Every record of one kind (optionally of one status): the provider's one listing loop
    /// ([`list_pages`]), each page through this path.
    pub async fn list(
        &mut self,
        kind: OperationKind,
        status: Option<&Status>,
    ) -> Result<Vec<crate::model::StatusSummary>, CallError> {
        let provider = self.provider.clone();
        let instance = self.instance.id.clone();
        list_pages(
            kind,
            async |token: Option<String>| {
                self.call(|| provider.list_page(&instance, kind, status, token.as_deref()))
                    .await
            },
            |_| {},
        )
        .await
    }

    /// One request of one kind.
    pub async fn describe(
        &mut self,
        kind: OperationKind,
        request_id: &str,
    ) -> Result<Described, CallError> {
        let provider = self.provider.clone();
        let instance = self.instance.id.clone();
        self.call(|| provider.describe(&instance, kind, request_id))
            .await
    }

    /// Describes a request id trying each of `kinds` in turn, for an id whose kind is not
    /// known: the first kind that knows it answers (its kind is the summary's). `None` when
    /// every kind said not found; any other error ends the search.
    pub async fn describe_any(
        &mut self,
        kinds: &[OperationKind],
        request_id: &str,
    ) -> Result<Option<Described>, CallError> {
        for &kind in kinds {
            match self.describe(kind, request_id).await {
                Ok(described) => return Ok(Some(described)),
                Err(CallError::Provider(e)) if e.kind == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// A permission set's name, asked once per command. A name is a nicety: a refusal or a
    /// call given up on is remembered as no name; only the deadline stops the caller.
    pub async fn permission_set_name(
        &mut self,
        permission_set: &str,
    ) -> Result<Option<String>, CallError> {
        Ok(self
            .name_of(NameKind::PermissionSet, permission_set)
            .await?
            .0)
    }

    /// Fills in the names of a detail's permission set, principal and account, each id asked
    /// once per command. Returns the hints not handed out before: which permission would add
    /// the names of a service that refused.
    pub async fn name(&mut self, detail: &mut RequestDetail) -> Result<Vec<String>, CallError> {
        let ids: Vec<(NameKind, String)> = detail
            .named_ids()
            .into_iter()
            .map(|(kind, id)| (kind, id.to_string()))
            .collect();
        let mut hints = Vec::new();
        for (kind, id) in ids {
            let (name, hint) = self.name_of(kind, &id).await?;
            if let Some(name) = name {
                detail.set_name(kind, &id, &name);
            }
            if let Some(hint) = hint.filter(|h| !self.hints.contains(h)) {
                self.hints.push(hint.clone());
                hints.push(hint);
            }
        }
        Ok(hints)
    }

    /// One id's name, from the cache or asked (and remembered, misses and failures too), with
    /// the hint of a service that refused.
    async fn name_of(
        &mut self,
        kind: NameKind,
        id: &str,
    ) -> Result<(Option<String>, Option<String>), CallError> {
        if let Some(known) = self.names.get(kind, id) {
            return Ok((known.map(str::to_string), None));
        }
        let asked = match kind {
            NameKind::PermissionSet => {
                let provider = self.provider.clone();
                let instance = self.instance.id.clone();
                self.call(|| provider.permission_set_name(&instance, id))
                    .await
            }
            NameKind::User | NameKind::Group => match self.identity_store().await? {
                Some(store) => {
                    let provider = self.provider.clone();
                    self.call_elsewhere(|| provider.principal_name(&store, kind, id))
                        .await
                }
                None => Ok(None),
            },
            NameKind::Account => self.account_name(id).await,
        };
        let (name, hint) = match asked {
            Ok(name) => (name, None),
            Err(CallError::Deadline) => return Err(CallError::Deadline),
            // No name API on this provider: ids stay, nothing to say.
            Err(CallError::Provider(error)) if error.kind == ErrorKind::Config => (None, None),
            Err(CallError::Provider(error)) => {
                tracing::warn!(%error, "no name");
                let hint = (error.kind == ErrorKind::Auth)
                    .then(|| NameService::of(kind).denied_hint(&self.provider.info().name));
                (None, hint)
            }
        };
        self.names
            .insert(kind, id, name.clone(), chrono::Utc::now());
        Ok((name, hint))
    }

    /// The instance's identity store: known from discovery, or (for an instance given by id)
    /// from one ListInstances, once.
    async fn identity_store(&mut self) -> Result<Option<String>, CallError> {
        if let Some(store) = &self.instance.identity_store_id {
            return Ok(Some(store.clone()));
        }
        if let Some(known) = &self.identity_store {
            return Ok(known.clone());
        }
        let provider = self.provider.clone();
        let store = match self.call(|| provider.list_instances()).await {
            Ok(instances) => instances
                .into_iter()
                .find(|i| i.id == self.instance.id)
                .and_then(|i| i.identity_store_id),
            Err(CallError::Deadline) => return Err(CallError::Deadline),
            Err(CallError::Provider(_)) => None,
        };
        self.identity_store = Some(store.clone());
        Ok(store)
    }

    /// An account's name: DescribeAccount, or for callers that may list accounts but not
    /// describe them, the organization's listing, read once (every account on it named).
    async fn account_name(&mut self, account: &str) -> Result<Option<String>, CallError> {
        if !self.describe_account_denied {
            let provider = self.provider.clone();
            match self.call_elsewhere(|| provider.account_name(account)).await {
                Err(CallError::Provider(e)) if e.kind == ErrorKind::Auth => {
                    self.describe_account_denied = true;
                }
                other => return other,
            }
        }
        if !self.accounts_listed {
            self.list_accounts().await?;
        }
        Ok(self
            .names
            .get(NameKind::Account, account)
            .flatten()
            .map(str::to_string))
    }

    /// Reads the organization's account listing to its end (at most [`MAX_ACCOUNT_PAGES`],
    /// stopping at a page token seen before), naming every account on it.
    async fn list_accounts(&mut self) -> Result<(), CallError> {
        let provider = self.provider.clone();
        let mut token: Option<String> = None;
        let mut tokens = std::collections::HashSet::new();
        for _ in 0..MAX_ACCOUNT_PAGES {
            let page = self
                .call_elsewhere(|| provider.list_accounts_page(token.as_deref()))
                .await?;
            let now = chrono::Utc::now();
            for (id, name) in page.accounts {
                self.names.insert(NameKind::Account, &id, Some(name), now);
            }
            match page.next_token {
                Some(next) if tokens.insert(next.clone()) => token = Some(next),
                _ => break,
            }
        }
        self.accounts_listed = true;
        Ok(())
    }
}

/// What a caller saw when its deadline passed while the service kept failing: "throttled for
/// 1m 30s" or "the service did not answer for 1m 30s", with the last error. `None` when the
/// last call worked (the work was simply not done yet).
pub fn trouble_line(
    failing_since: Option<Instant>,
    last: Option<&ProviderError>,
    until: Instant,
) -> Option<String> {
    let since = failing_since?;
    let last = last?;
    let secs = until.saturating_duration_since(since).as_secs();
    let lasted = humantime::format_duration(Duration::from_secs(secs));
    let what = match last.kind {
        ErrorKind::Throttled => format!(
            "throttled for {lasted}: the account's shared limit was used up (by the rollout, or others)"
        ),
        _ if is_no_answer(last) => format!("the service did not answer for {lasted}"),
        _ => format!("the service failed for {lasted}"),
    };
    Some(format!("{what} (last error: {last})"))
}

/// Whether an error means that no answer came (a timeout, no connection).
fn is_no_answer(error: &ProviderError) -> bool {
    let m = error.message.to_ascii_lowercase();
    [
        "did not answer",
        "timed out",
        "timeout",
        "cannot reach",
        "connection",
    ]
    .iter()
    .any(|s| m.contains(s))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::model::{Page, StatusSummary};
    use crate::provider::AccountPage;

    /// A provider double: `kind` knows every request id, the other kinds know none; names come
    /// back as `name-<id>`, or are refused when `deny_names`; every call is logged.
    struct Fake {
        kind: OperationKind,
        deny_names: bool,
        log: Mutex<Vec<String>>,
    }

    impl Fake {
        fn new(kind: OperationKind, deny_names: bool) -> Arc<Fake> {
            Arc::new(Fake {
                kind,
                deny_names,
                log: Mutex::new(Vec::new()),
            })
        }

        fn note(&self, call: String) {
            self.log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(call);
        }

        fn log(&self) -> Vec<String> {
            self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
        }

        fn name(&self, id: &str) -> Result<Option<String>, ProviderError> {
            if self.deny_names {
                Err(ProviderError::new(ErrorKind::Auth, "AccessDenied"))
            } else {
                Ok(Some(format!("name-{id}")))
            }
        }
    }

    #[async_trait]
    impl Provider for Fake {
        fn info(&self) -> ProviderInfo {
            ProviderInfo {
                name: "aws".into(),
                ..ProviderInfo::default()
            }
        }

        async fn list_instances(&self) -> Result<Vec<Instance>, ProviderError> {
            self.note("ListInstances".into());
            Ok(vec![Instance {
                id: "ins".into(),
                identity_store_id: Some("store".into()),
                name: None,
            }])
        }

        async fn list_page(
            &self,
            _instance: &str,
            kind: OperationKind,
            _status: Option<&Status>,
            _page_token: Option<&str>,
        ) -> Result<Page, ProviderError> {
            self.note(format!("List {}", kind.short()));
            Ok(Page::default())
        }

        async fn describe(
            &self,
            _instance: &str,
            kind: OperationKind,
            request_id: &str,
        ) -> Result<Described, ProviderError> {
            self.note(format!("Describe {} {request_id}", kind.short()));
            if kind != self.kind {
                return Err(ProviderError::new(ErrorKind::NotFound, "no such request"));
            }
            Ok(Described {
                summary: StatusSummary {
                    kind,
                    request_id: request_id.to_string(),
                    status: Status::Failed,
                    created: chrono::Utc::now(),
                },
                detail: detail("ps-1", "111111111111", "u-1"),
                source_call: String::new(),
                described_at: chrono::Utc::now(),
            })
        }

        async fn permission_set_name(
            &self,
            _instance: &str,
            permission_set: &str,
        ) -> Result<Option<String>, ProviderError> {
            self.note(format!("DescribePermissionSet {permission_set}"));
            self.name(permission_set)
        }

        async fn principal_name(
            &self,
            _identity_store: &str,
            _kind: NameKind,
            principal: &str,
        ) -> Result<Option<String>, ProviderError> {
            self.note(format!("DescribeUser {principal}"));
            self.name(principal)
        }

        async fn list_accounts_page(
            &self,
            _page_token: Option<&str>,
        ) -> Result<AccountPage, ProviderError> {
            self.note("ListAccounts".into());
            Ok(AccountPage {
                accounts: vec![("111111111111".into(), "prod".into())],
                next_token: None,
            })
        }

        async fn account_name(&self, account: &str) -> Result<Option<String>, ProviderError> {
            self.note(format!("DescribeAccount {account}"));
            Err(ProviderError::new(ErrorKind::Auth, "AccessDenied"))
        }
    }

    fn detail(ps: &str, account: &str, user: &str) -> RequestDetail {
        RequestDetail {
            permission_set: Some(ps.into()),
            target_account: Some(account.into()),
            principal_type: Some("USER".into()),
            principal_id: Some(user.into()),
            ..RequestDetail::default()
        }
    }

    fn instance() -> Instance {
        Instance {
            id: "ins".into(),
            identity_store_id: None,
            name: None,
        }
    }

    /// `wait`'s path: retried until `timeout` from now.
    fn until(rate: f64, timeout: Duration) -> CallPath {
        let start = Instant::now();
        CallPath::until(
            Fake::new(OperationKind::AssignmentCreation, false),
            instance(),
            rate,
            start,
            start + timeout,
        )
    }

    /// The path of `list`, `describe` and `failures`: each call on the default policy.
    fn script(rate: f64) -> CallPath {
        CallPath::new(
            Fake::new(OperationKind::AssignmentCreation, false),
            instance(),
            rate,
            RetryPolicy::DEFAULT,
            None,
        )
    }

    fn throttled() -> ProviderError {
        ProviderError::new(ErrorKind::Throttled, "Rate exceeded")
    }

    fn elapsed(path: &CallPath) -> Duration {
        path.budget.start.elapsed()
    }

    #[tokio::test(start_paused = true)]
    async fn calls_keep_to_the_budget() {
        for wait in [true, false] {
            let mut path = if wait {
                until(2.0, Duration::from_secs(60))
            } else {
                script(2.0)
            };
            for _ in 0..9 {
                let answer: Result<(), CallError> = path.call(|| async { Ok(()) }).await;
                assert!(answer.is_ok());
            }
            // Nine calls at two a second: the ninth starts 4 s after the first, not sooner.
            assert_eq!(elapsed(&path), Duration::from_secs(4));
            assert_eq!(path.calls(), 9);
        }
    }

    /// A call throttled twice, then answering 7, and when each attempt started.
    async fn throttled_twice_then_seven(
        path: &mut CallPath,
    ) -> (Result<i32, CallError>, Vec<Instant>) {
        let starts = Mutex::new(Vec::new());
        let answer = path
            .call(|| {
                let mut starts = starts.lock().unwrap_or_else(|p| p.into_inner());
                starts.push(Instant::now());
                let refuse = starts.len() <= 2;
                async move { if refuse { Err(throttled()) } else { Ok(7) } }
            })
            .await;
        (
            answer,
            starts.into_inner().unwrap_or_else(|p| p.into_inner()),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_backs_off_then_succeeds() {
        let mut path = until(20.0, Duration::from_secs(60));
        let (answer, _) = throttled_twice_then_seven(&mut path).await;
        assert!(matches!(answer, Ok(7)));
        assert_eq!((path.calls(), path.throttled()), (3, 2));
        // Two backoffs of 1 s and 2 s, each from half to all of it: far more than the 0.1 s
        // the budget alone would ask for.
        assert!(
            elapsed(&path) >= Duration::from_millis(1500),
            "{:?}",
            elapsed(&path)
        );
    }

    /// A script's retry is paced like any call: at 0.5 req/s the backoff (0.125 to 0.25 s,
    /// then 0.25 to 0.5 s) is shorter than the spacing, so the budget decides: 2 s apart.
    #[tokio::test(start_paused = true)]
    async fn a_scripts_throttled_call_is_retried_within_the_budget() {
        let mut path = script(0.5);
        let (answer, starts) = throttled_twice_then_seven(&mut path).await;
        assert!(matches!(answer, Ok(7)));
        assert_eq!((path.calls(), path.throttled()), (3, 2));
        let gaps: Vec<Duration> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(gaps, vec![Duration::from_secs(2); 2]);
        // The last call worked: nothing to report.
        assert_eq!(path.trouble(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn endless_throttling_stops_at_the_deadline() {
        let mut path = until(20.0, Duration::from_secs(120));
        let answer: Result<(), CallError> = path.call(|| async { Err(throttled()) }).await;
        assert!(matches!(answer, Err(CallError::Deadline)));
        // At the deadline, never before it (issue 21: 67 s of a 90 s timeout).
        assert_eq!(elapsed(&path), Duration::from_secs(120));
        assert_eq!(
            path.trouble().as_deref().and_then(|t| t.split(':').next()),
            Some("throttled for 2m")
        );
        assert!(
            // A probe every few seconds (pauses of at most 5 s).
            path.throttled() >= 16 && path.throttled() < 60,
            "backed off: {}",
            path.throttled()
        );
        assert_eq!(path.calls(), path.throttled());
    }

    /// A script gives up on its own bound, with no deadline at all, and says so.
    #[tokio::test(start_paused = true)]
    async fn a_scripts_endless_throttling_gives_up_after_eight_attempts() {
        let mut path = script(20.0);
        let answer: Result<(), CallError> = path.call(|| async { Err(throttled()) }).await;
        let Err(CallError::Provider(error)) = answer else {
            panic!("gives up with the service's error: {answer:?}");
        };
        assert_eq!(error.kind, ErrorKind::Throttled);
        assert!(
            error.message.contains("gave up after 8 attempts"),
            "{error}"
        );
        assert_eq!((path.calls(), path.throttled()), (8, 8));
        assert!(
            elapsed(&path) < RetryPolicy::DEFAULT.total,
            "{:?}",
            elapsed(&path)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_are_never_retried() {
        for kind in [
            ErrorKind::Auth,
            ErrorKind::Validation,
            ErrorKind::NotFound,
            ErrorKind::Config,
            ErrorKind::Unsupported,
        ] {
            for mut path in [until(20.0, Duration::from_secs(60)), script(20.0)] {
                let answer: Result<(), CallError> = path
                    .call(|| async move { Err(ProviderError::new(kind, "no")) })
                    .await;
                assert!(
                    matches!(&answer, Err(CallError::Provider(e)) if e.kind == kind && e.message == "no"),
                    "{kind:?}: {answer:?}"
                );
                assert_eq!(path.calls(), 1, "{kind:?}");
                assert_eq!(elapsed(&path), Duration::ZERO, "{kind:?}");
                // A refusal is no trouble a deadline would explain.
                assert_eq!(path.trouble(), None, "{kind:?}");
            }
        }
    }

    /// Issue 21 #5: an outage (5xx) and a hanging service are retried to the deadline, to the
    /// second, and said for what they were.
    #[tokio::test(start_paused = true)]
    async fn an_outage_and_a_hang_are_waited_to_the_deadline_and_named() {
        for timeout in [90, 91, 97] {
            let mut path = until(5.0, Duration::from_secs(timeout));
            let answer: Result<(), CallError> = path
                .call(|| async { Err(ProviderError::new(ErrorKind::Transient, "HTTP 503")) })
                .await;
            assert!(matches!(answer, Err(CallError::Deadline)));
            assert_eq!(elapsed(&path), Duration::from_secs(timeout));
            let trouble = path.trouble().unwrap_or_default();
            assert!(
                trouble.starts_with("the service failed for 1m 3"),
                "{trouble}"
            );
        }
        let mut path = until(5.0, Duration::from_secs(90));
        let answer: Result<(), CallError> = path.call(std::future::pending).await;
        assert!(matches!(answer, Err(CallError::Deadline)));
        assert_eq!(elapsed(&path), Duration::from_secs(90));
        // Cut at 10 s each: several calls, not one that waited 90 s.
        assert!(path.calls() >= 6, "{}", path.calls());
        let trouble = path.trouble().unwrap_or_default();
        assert!(
            trouble.starts_with("the service did not answer for 1m 30s"),
            "{trouble}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_clears_what_was_seen() {
        let mut path = until(20.0, Duration::from_secs(60));
        let (answer, _) = throttled_twice_then_seven(&mut path).await;
        assert!(matches!(answer, Ok(7)));
        assert_eq!(path.trouble(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn describe_any_tries_each_kind_until_one_knows_the_id() -> Result<(), CallError> {
        let fake = Fake::new(OperationKind::PermissionSetProvisioning, false);
        let mut path = CallPath::for_script(fake.clone(), instance(), 20.0);
        let found = path.describe_any(&OperationKind::ALL, "r-1").await?;
        assert_eq!(
            found.map(|d| d.summary.kind),
            Some(OperationKind::PermissionSetProvisioning)
        );
        // Tried in order, stopped at the first that knew it.
        let tried: Vec<String> = OperationKind::ALL
            .iter()
            .take_while(|k| **k != OperationKind::PermissionSetProvisioning)
            .chain([&OperationKind::PermissionSetProvisioning])
            .map(|k| format!("Describe {} r-1", k.short()))
            .collect();
        assert_eq!(fake.log(), tried);
        let others = [
            OperationKind::AssignmentCreation,
            OperationKind::AssignmentDeletion,
        ];
        assert_eq!(path.describe_any(&others, "r-2").await?, None);
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn each_name_is_asked_once_per_command() -> Result<(), CallError> {
        let fake = Fake::new(OperationKind::AssignmentCreation, false);
        let mut path = CallPath::for_script(fake.clone(), instance(), 20.0);
        for _ in 0..3 {
            let mut d = detail("ps-1", "111111111111", "u-1");
            assert_eq!(path.name(&mut d).await?, Vec::<String>::new());
            assert_eq!(d.permission_set_name.as_deref(), Some("name-ps-1"));
            assert_eq!(d.principal_name.as_deref(), Some("name-u-1"));
            // DescribeAccount is denied: the listing names the account.
            assert_eq!(d.account_name.as_deref(), Some("prod"));
        }
        assert_eq!(
            path.permission_set_name("ps-1").await?.as_deref(),
            Some("name-ps-1")
        );
        assert_eq!(
            fake.log(),
            vec![
                "DescribePermissionSet ps-1",
                "DescribeAccount 111111111111",
                "ListAccounts",
                // The instance was given by id: its identity store is looked up once.
                "ListInstances",
                "DescribeUser u-1",
            ]
        );
        Ok(())
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_name_leaves_the_id_and_hints_once() -> Result<(), CallError> {
        let fake = Fake::new(OperationKind::AssignmentCreation, true);
        let mut path = CallPath::for_script(fake.clone(), instance(), 20.0);
        let mut d = detail("ps-1", "111111111111", "u-1");
        let hints = path.name(&mut d).await?;
        assert_eq!(d.permission_set_name, None);
        assert_eq!(d.principal_name, None);
        assert!(
            hints
                .iter()
                .any(|h| h.contains("sso:DescribePermissionSet")),
            "{hints:?}"
        );
        assert!(
            hints
                .iter()
                .any(|h| h.contains("identitystore:DescribeUser")),
            "{hints:?}"
        );
        // Another request with other ids of the same services: no hint said twice.
        let mut d = detail("ps-2", "111111111111", "u-2");
        assert_eq!(path.name(&mut d).await?, Vec::<String>::new());
        // Refusals are not retried.
        let asked = fake
            .log()
            .iter()
            .filter(|c| c.starts_with("DescribePermissionSet"))
            .count();
        assert_eq!(asked, 2);
        Ok(())
    }

    /// Identity Store and Organizations have quotas of their own: naming spends no slot of
    /// the Identity Center budget, so at 0.5 req/s it takes no time at all.
    #[tokio::test(start_paused = true)]
    async fn names_of_other_services_spend_no_budget() -> Result<(), CallError> {
        let fake = Fake::new(OperationKind::AssignmentCreation, false);
        let store = Instance {
            identity_store_id: Some("store".into()),
            ..instance()
        };
        let mut path = CallPath::for_script(fake, store, 0.5);
        for user in ["u-1", "u-2", "u-3"] {
            let mut d = RequestDetail {
                principal_type: Some("USER".into()),
                principal_id: Some(user.into()),
                ..RequestDetail::default()
            };
            path.name(&mut d).await?;
        }
        assert_eq!(elapsed(&path), Duration::ZERO);
        assert_eq!(path.calls(), 3);
        Ok(())
    }
}
