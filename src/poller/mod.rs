//! The poller: which call to make next ([`plan::Planner`]), when it may start
//! ([`budget::RateLimiter`]), what its answer means, and the disk cache of finished answers.
//!
//! [`Poller`] is a plain state machine on a caller-supplied clock (a duration since start): it
//! makes no calls and spawns nothing. The runtime (`crate::runtime`) executes the calls it hands
//! out, in real time for the dashboard and `serve`, or in simulated time for the benchmark and
//! tests: one poller, whoever drives it. It reports in its own [`Event`] type.

pub mod budget;
pub mod cache;
pub mod event;
pub mod names;
pub mod plan;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use event::{CallOutcome, Event, SpendReport};
pub use plan::{Call, DescribeRequest, Lane, Priority, Strategy};

use crate::model::{Described, Instance, NameKind, Page};
use crate::provider::{AccountPage, ErrorKind, Provider, ProviderError};
use budget::RateLimiter;
use plan::{Planner, PlannerConfig};

/// The dashboard's default API budget, in requests per second. Identity Center allows 20 per
/// account and region, shared with the pipelines being watched; ten operators watching one
/// rollout must stay at or under half of that, start-up included. Every process also makes one
/// `ListInstances` call outside the poller, so the default stays a little under 1.
pub const DEFAULT_BUDGET_RPS: f64 = 0.9;

#[derive(Debug, Clone)]
pub struct PollerConfig {
    pub refresh: Duration,
    pub budget_rps: f64,
    pub full_relist_every: Duration,
    pub strategy: Strategy,
    /// Where finished, described records are kept across restarts; `None` disables it.
    pub cache_path: Option<PathBuf>,
    /// Seeds the limiter's jitter: fixed in tests and benchmarks, random in the product.
    pub seed: u64,
}

impl PollerConfig {
    pub fn new(refresh: Duration, budget_rps: f64) -> PollerConfig {
        PollerConfig {
            refresh,
            budget_rps,
            full_relist_every: Duration::from_secs(30 * 60),
            strategy: Strategy::Budgeted,
            cache_path: None,
            seed: 0,
        }
    }
}

/// What a call returned.
pub enum Outcome {
    Page(Page),
    Described(Box<Described>),
    Name(Option<String>),
    Accounts(AccountPage),
    Instances(Vec<Instance>),
}

/// How often the finished-and-described records are written to the cache.
const CACHE_FLUSH_EVERY: Duration = Duration::from_secs(30);

pub struct Poller {
    planner: Planner,
    limiter: RateLimiter,
    /// The budget the process was started with: what [`Poller::set_budget`]`(None)` returns to.
    configured_budget: f64,
    cache: Option<cache::DescribeCache>,
    names: names::NameResolver,
    spend: SpendReport,
    last_flush: Duration,
}

impl Poller {
    /// A poller, and the events of its start (the records it found in the cache). `wall_start`
    /// is the runtime's wall-clock time at the start: the name cache's age is judged on the
    /// runtime's clock, never the machine's, so a simulated run behaves the same on any date.
    pub fn new(config: &PollerConfig, wall_start: DateTime<Utc>) -> (Poller, Vec<Event>) {
        let mut planner_config = PlannerConfig::new(config.refresh);
        planner_config.full_relist_every = config.full_relist_every;
        planner_config.strategy = config.strategy;
        let mut planner = Planner::new(planner_config);
        let limiter = RateLimiter::new(config.budget_rps, config.seed);
        let cache = config.cache_path.clone().map(cache::DescribeCache::open);
        let name_cache = names::NameCache::open(
            config.cache_path.as_deref().map(names::path_beside),
            wall_start,
        );
        let mut names = names::NameResolver::new(name_cache, config.seed);
        let mut events = Vec::new();
        if let Some(cache) = &cache {
            let cached = cache.records();
            if !cached.is_empty() {
                planner.seed_from_cache(&cached);
                for d in &cached {
                    for ps in names.want(d.detail.named_ids()) {
                        planner.request_name(Some(&ps));
                    }
                }
                events.push(Event::Cached(cached));
            }
        }
        // After the cached rows, so the names land on them too.
        events.extend(names.cached_events());
        let spend = SpendReport {
            budget_rps: limiter.budget(),
            effective_rps: limiter.rate(),
            ..SpendReport::default()
        };
        let poller = Poller {
            planner,
            configured_budget: limiter.budget(),
            limiter,
            cache,
            names,
            spend,
            last_flush: Duration::ZERO,
        };
        (poller, events)
    }

    /// Which cloud is polled (for the permission names in hints) and the identity store behind
    /// the instance, which user and group names come from.
    pub fn set_name_target(
        &mut self,
        provider: &str,
        instance: &str,
        identity_store: Option<String>,
    ) {
        self.names.set_target(provider, instance, identity_store);
    }

    /// The calls that may start at `now`, given how many are already on the wire. Name calls
    /// on their own services come last, on their own limiters, and do not count against the
    /// status budget's concurrency.
    pub fn due_calls(&mut self, now: Duration, in_flight: usize) -> Vec<Call> {
        self.planner.schedule(now);
        let in_flight = in_flight.saturating_sub(self.names.in_flight());
        let mut calls = Vec::new();
        // Learning an explicit instance's identity store is one Identity Center call, made as
        // soon as a principal needs a name: every user and group name waits for it.
        if in_flight < self.limiter.max_in_flight()
            && self.names.wants_store_lookup()
            && self.limiter.try_acquire(now)
            && let Some(lookup) = self.names.take_store_lookup()
        {
            calls.push(lookup);
        }
        while in_flight + calls.len() < self.limiter.max_in_flight() && self.planner.has_work() {
            let pacing = self.pacing(in_flight + calls.len());
            if self.limiter.ready_at_for(now, pacing) > now {
                break;
            }
            match self.planner.next_call() {
                Some(call) if self.limiter.try_acquire_for(now, pacing) => calls.push(call),
                _ => break,
            }
        }
        let name_calls = self.names.due_calls(now);
        self.spend.total_calls += (calls.len() + name_calls.len()) as u64;
        calls.extend(name_calls);
        calls
    }

    /// How the next call is paced. Urgent work skips the even spacing one call at a time: the
    /// next urgent call starts when the last has answered, so a throttled answer cuts the rate
    /// before a second call is on the wire, and the burst never hits the service at once.
    fn pacing(&mut self, on_the_wire: usize) -> budget::Pacing {
        match self.planner.pacing() {
            budget::Pacing::Urgent if on_the_wire > 0 => budget::Pacing::Even,
            pacing => pacing,
        }
    }

    /// When there is next something to do (a lane due, or a budget slot for queued work).
    pub fn next_wake(&mut self, now: Duration, in_flight: usize) -> Option<Duration> {
        let in_flight = in_flight.saturating_sub(self.names.in_flight());
        let mut at = self.planner.next_due();
        if let Some(names_at) = self.names.next_wake(now) {
            at = Some(at.map_or(names_at, |a| a.min(names_at)));
        }
        if self.names.wants_store_lookup() && in_flight < self.limiter.max_in_flight() {
            let ready = self.limiter.ready_at(now);
            at = Some(at.map_or(ready, |a| a.min(ready)));
        }
        if self.planner.has_work() && in_flight < self.limiter.max_in_flight() {
            let pacing = self.pacing(in_flight);
            let ready = self.limiter.ready_at_for(now, pacing);
            at = Some(at.map_or(ready, |a| a.min(ready)));
        }
        at
    }

    /// Asks for a describe (from the operator, or for rows on screen). False when not needed.
    pub fn request_describe(&mut self, request: DescribeRequest) -> bool {
        self.planner.request_describe(request)
    }

    /// A call granted its slot at `granted` really started at `started`: the budget is kept
    /// from when the service saw it.
    pub fn call_started_late(&mut self, granted: Duration, started: Duration) {
        self.limiter.started_late(granted, started);
    }

    /// Counts a call made outside the poller at `now` against the budget.
    pub fn count_external_call(&mut self, now: Duration) {
        self.limiter.record_start(now);
        self.spend.total_calls += 1;
    }

    /// The describes the screen wants now; the earlier screen's that have not started are
    /// dropped.
    pub fn describe_on_screen(&mut self, requests: Vec<DescribeRequest>) {
        self.planner.replace_on_screen(requests);
    }

    /// The failure reasons the `F` view wants read, most informative first; `None` when it
    /// closes.
    pub fn read_reasons(&mut self, requests: Option<Vec<DescribeRequest>>) {
        self.planner.replace_reasons(requests);
    }

    /// Spends `budget` requests per second from now on, or the configured budget again
    /// (`None`): the operator chose to read every failure reason faster, knowing the cost.
    pub fn set_budget(&mut self, budget: Option<f64>) {
        self.limiter
            .set_budget(budget.unwrap_or(self.configured_budget));
        self.spend.budget_rps = self.limiter.budget();
        self.spend.effective_rps = self.limiter.rate();
    }

    /// Starts every fast lane now (the `r` key).
    pub fn refresh_now(&mut self, now: Duration) {
        self.planner.refresh_now(now);
    }

    /// Whether the first FAILED listing and history load of every kind are done.
    pub fn first_load_done(&self) -> bool {
        self.planner.first_load_done()
    }

    /// Feeds one call's result to the planner and limiter. `wall` is the wall-clock time of
    /// `now`, for the times the app shows. Returns what the app should learn.
    pub fn on_result(
        &mut self,
        call: Call,
        result: Result<Outcome, ProviderError>,
        now: Duration,
        wall: DateTime<Utc>,
    ) -> Vec<Event> {
        let mut events = vec![Event::CallCompleted {
            operation: call.operation(),
            outcome: CallOutcome::of(result.as_ref().map(|_| ())),
        }];
        if call.is_name_service_call() {
            // Their own services, their own limiters: the status budget learns nothing here.
            match &result {
                Ok(_) => {}
                Err(_) => self.spend.failed_calls += 1,
            }
        } else {
            match &result {
                Ok(_) => self.limiter.on_success(),
                Err(error) => self.note_failure(error, now),
            }
        }
        match (call, result) {
            (Call::List { kind, lane, .. }, Ok(Outcome::Page(page))) => {
                // The call worked; what the page means comes after, and may be that the
                // listing must stop (a looping or endless token), which must not be cleared.
                events.push(Event::ListSucceeded { kind, at: wall });
                events.extend(self.planner.on_list_page(kind, lane, page, now));
            }
            (Call::List { kind, lane, token }, Err(error)) => {
                events.push(self.planner.on_list_error(kind, lane, token, error, now));
            }
            (Call::Describe(request), Ok(Outcome::Described(mut described))) => {
                // The answer is for what we asked, whatever the wire said, and it was read at
                // the runtime's time (the provider stamps the machine's clock).
                described.summary.kind = request.kind;
                described.described_at = wall;
                if let Some(cache) = &mut self.cache
                    && described.summary.status.is_finished()
                {
                    cache.insert((*described).clone());
                }
                for ps in self.names.want(described.detail.named_ids()) {
                    self.planner.request_name(Some(&ps));
                }
                events.push(self.planner.on_described(*described));
            }
            (Call::Describe(request), Err(error)) => {
                let reported = error.clone();
                match self.planner.on_describe_error(request, error) {
                    Some(given_up) => events.push(given_up),
                    None => events.push(Event::CallFailed {
                        at: wall,
                        error: reported,
                    }),
                }
            }
            (Call::PermissionSetName { permission_set }, Ok(Outcome::Name(name))) => {
                events.extend(self.names.on_name(
                    NameKind::PermissionSet,
                    permission_set,
                    name,
                    wall,
                ));
            }
            (call @ Call::PermissionSetName { .. }, Err(error)) => {
                // Names are a nicety: the ARN stays on screen.
                events.extend(self.names.on_error(&call, &error, now, wall));
                if let Call::PermissionSetName { permission_set } = call {
                    self.planner
                        .on_name_error(permission_set, error.kind.is_retryable());
                }
            }
            (
                Call::PrincipalName {
                    kind, principal, ..
                },
                Ok(Outcome::Name(name)),
            ) => events.extend(self.names.on_name(kind, principal, name, wall)),
            (Call::AccountName { account }, Ok(Outcome::Name(name))) => {
                events.extend(self.names.on_name(NameKind::Account, account, name, wall));
            }
            (Call::FindIdentityStore, Ok(Outcome::Instances(instances))) => {
                self.names.on_instances(Ok(&instances));
            }
            (Call::FindIdentityStore, Err(error)) => self.names.on_instances(Err(&error)),
            (Call::ListAccounts { .. }, Ok(Outcome::Accounts(page))) => {
                events.extend(self.names.on_accounts(page, wall));
            }
            (
                call @ (Call::PrincipalName { .. }
                | Call::AccountName { .. }
                | Call::ListAccounts { .. }),
                Err(error),
            ) => events.extend(self.names.on_error(&call, &error, now, wall)),
            // A list call never yields a describe answer and vice versa.
            (call, Ok(_)) => tracing::error!(?call, "mismatched call outcome"),
        }
        events.push(Event::Spend(self.spend_report(now, wall)));
        events
    }

    /// The spend as of `now`.
    pub fn spend_report(&mut self, now: Duration, wall: DateTime<Utc>) -> SpendReport {
        self.spend.rps = self.limiter.recent_rps(now);
        self.spend.effective_rps = self.limiter.rate();
        self.spend.backoff_until = self
            .limiter
            .backoff_until()
            .filter(|&until| until > now)
            .and_then(|until| chrono::Duration::from_std(until - now).ok())
            .map(|remaining| wall + remaining);
        self.spend
    }

    fn note_failure(&mut self, error: &ProviderError, now: Duration) {
        self.spend.failed_calls += 1;
        let wait = match error.kind {
            ErrorKind::Throttled => {
                self.spend.throttled_calls += 1;
                Some(self.limiter.on_throttled(now))
            }
            // The answer says nothing about the service's health.
            ErrorKind::NotFound | ErrorKind::Validation | ErrorKind::Unsupported => None,
            // Every other failure slows us down: 5xx and network trouble obviously, but also
            // denied and expired credentials, which would otherwise be retried at full budget.
            _ => Some(self.limiter.on_pushback(now)),
        };
        if let Some(wait) = wait {
            tracing::warn!(error = %error, backoff_secs = wait.as_secs_f64(), "call failed");
        }
    }

    /// Writes the cache if it is due (every [`CACHE_FLUSH_EVERY`]).
    pub fn flush_cache_if_due(&mut self, now: Duration) {
        if now.saturating_sub(self.last_flush) >= CACHE_FLUSH_EVERY {
            self.flush_cache();
            self.last_flush = now;
        }
    }

    pub fn flush_cache(&mut self) {
        if let Some(cache) = &mut self.cache {
            cache.flush_logged();
        }
        self.names.flush();
    }
}

/// Makes one planned call: exactly one provider request.
pub async fn execute(
    provider: &dyn Provider,
    instance: &str,
    call: &Call,
) -> Result<Outcome, ProviderError> {
    match call {
        Call::List { kind, lane, token } => provider
            .list_page(
                instance,
                *kind,
                lane.status_filter().as_ref(),
                token.as_deref(),
            )
            .await
            .map(Outcome::Page),
        Call::Describe(request) => provider
            .describe(instance, request.kind, &request.request_id)
            .await
            .map(|d| Outcome::Described(Box::new(d))),
        Call::PermissionSetName { permission_set } => provider
            .permission_set_name(instance, permission_set)
            .await
            .map(Outcome::Name),
        Call::PrincipalName {
            kind,
            identity_store,
            principal,
        } => provider
            .principal_name(identity_store, *kind, principal)
            .await
            .map(Outcome::Name),
        Call::ListAccounts { token } => provider
            .list_accounts_page(token.as_deref())
            .await
            .map(Outcome::Accounts),
        Call::AccountName { account } => provider.account_name(account).await.map(Outcome::Name),
        Call::FindIdentityStore => provider.list_instances().await.map(Outcome::Instances),
    }
}
