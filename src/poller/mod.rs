//! The poller task: runs the [`plan::Planner`] against a real provider, within the
//! [`budget::RateLimiter`], and reports to the UI over a bounded channel.
//!
//! The UI never waits on the network: it sends commands (describe this, refresh now) and
//! receives [`PollEvent`]s.

pub mod budget;
pub mod cache;
pub mod plan;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::app::{DescribeUrgency, PollEvent, SpendReport};
use crate::model::{Described, OperationKind, Page};
use crate::provider::{ErrorKind, Provider, ProviderError};
use budget::RateLimiter;
use plan::{Call, Planner, PlannerConfig, Priority, Strategy};

/// Commands from the UI.
#[derive(Debug, Clone)]
pub enum PollerCommand {
    Describe {
        kind: OperationKind,
        request_id: String,
        urgency: DescribeUrgency,
    },
    RefreshNow,
}

#[derive(Debug, Clone)]
pub struct PollerConfig {
    pub refresh: Duration,
    pub budget_rps: f64,
    pub full_relist_every: Duration,
    pub strategy: Strategy,
    /// Where finished, described records are kept across restarts; `None` disables it.
    pub cache_path: Option<PathBuf>,
}

impl PollerConfig {
    pub fn new(refresh: Duration, budget_rps: f64) -> PollerConfig {
        PollerConfig {
            refresh,
            budget_rps,
            full_relist_every: Duration::from_secs(30 * 60),
            strategy: Strategy::Budgeted,
            cache_path: None,
        }
    }
}

/// The running poller. Dropping the command sender stops it.
pub struct PollerHandle {
    pub commands: mpsc::Sender<PollerCommand>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Capacity of the command channel; the UI drops a command rather than block when full.
pub const COMMAND_CAPACITY: usize = 256;

pub fn spawn(
    provider: Arc<dyn Provider>,
    instance: String,
    config: PollerConfig,
    events: mpsc::Sender<PollEvent>,
) -> PollerHandle {
    let (tx, rx) = mpsc::channel(COMMAND_CAPACITY);
    let task = tokio::spawn(run(provider, instance, config, rx, events));
    PollerHandle { commands: tx, task }
}

/// What a call returned.
pub enum Outcome {
    Page(Page),
    Described(Box<Described>),
    Name(Option<String>),
}

/// How often the finished-and-described records are written to the cache.
const CACHE_FLUSH_EVERY: Duration = Duration::from_secs(30);

async fn run(
    provider: Arc<dyn Provider>,
    instance: String,
    config: PollerConfig,
    mut commands: mpsc::Receiver<PollerCommand>,
    events: mpsc::Sender<PollEvent>,
) {
    let start = Instant::now();
    let mut planner = Planner::new(PlannerConfig {
        refresh: config.refresh,
        full_relist_every: config.full_relist_every,
        strategy: config.strategy,
    });
    let mut limiter = RateLimiter::new(config.budget_rps, rand::random());
    let mut cache = config.cache_path.clone().map(cache::DescribeCache::open);
    if let Some(cache) = &cache {
        let cached = cache.records();
        if !cached.is_empty() {
            planner.seed_from_cache(&cached);
            if events.send(PollEvent::Cached(cached)).await.is_err() {
                return;
            }
        }
    }
    let mut spend = SpendReport {
        budget_rps: limiter.rate(),
        ..SpendReport::default()
    };
    let mut in_flight: JoinSet<(Call, Result<Outcome, ProviderError>)> = JoinSet::new();
    let mut last_flush = Instant::now();

    loop {
        let now = start.elapsed();
        planner.schedule(now);
        while in_flight.len() < limiter.max_in_flight()
            && planner.has_work()
            && limiter.try_acquire(now)
        {
            let Some(call) = planner.next_call() else {
                break;
            };
            spend.total_calls += 1;
            let provider = provider.clone();
            let instance = instance.clone();
            in_flight.spawn(async move {
                let result = execute(provider.as_ref(), &instance, &call).await;
                (call, result)
            });
        }
        spend.rps = limiter.recent_rps(now);
        spend.backoff_secs = limiter.backoff_remaining(now).map(|d| d.as_secs_f64());

        let wake_at = {
            let mut at = planner.next_due();
            if planner.has_work() && in_flight.len() < limiter.max_in_flight() {
                let ready = limiter.ready_at(now);
                at = Some(at.map_or(ready, |a| a.min(ready)));
            }
            at.unwrap_or(now + Duration::from_secs(3600))
        };

        tokio::select! {
            command = commands.recv() => match command {
                Some(PollerCommand::Describe { kind, request_id, urgency }) => {
                    let priority = match urgency {
                        DescribeUrgency::Interactive => Priority::Interactive,
                        DescribeUrgency::Background => Priority::Background,
                    };
                    planner.request_describe(kind, &request_id, priority);
                }
                Some(PollerCommand::RefreshNow) => planner.refresh_now(start.elapsed()),
                None => break,
            },
            Some(joined) = in_flight.join_next() => {
                let now = start.elapsed();
                let (call, result) = match joined {
                    Ok(done) => done,
                    Err(error) => {
                        // A panicking call is a bug; stop polling rather than loop on it.
                        let reason = format!("internal error in a poll call: {error}");
                        tracing::error!("{reason}");
                        let _ = events.send(PollEvent::PollerStopped { reason }).await;
                        return;
                    }
                };
                let outgoing = handle_result(&mut planner, &mut limiter, &mut spend, &mut cache, call, result, now);
                for event in outgoing {
                    if events.send(event).await.is_err() {
                        return;
                    }
                }
                spend.rps = limiter.recent_rps(now);
                if events.send(PollEvent::Spend(spend)).await.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep_until(start + wake_at) => {}
        }

        if let Some(cache) = &mut cache
            && last_flush.elapsed() >= CACHE_FLUSH_EVERY
        {
            cache.flush_logged();
            last_flush = Instant::now();
        }
    }
    if let Some(cache) = &mut cache {
        cache.flush_logged();
    }
}

/// Makes one planned call. Public so the simulated-time benchmark runs exactly the poller's
/// code.
pub async fn execute(
    provider: &dyn Provider,
    instance: &str,
    call: &Call,
) -> Result<Outcome, ProviderError> {
    match call {
        Call::List { kind, token, .. } => provider
            .list_page(
                instance,
                *kind,
                call.status_filter().as_ref(),
                token.as_deref(),
            )
            .await
            .map(Outcome::Page),
        Call::Describe {
            kind, request_id, ..
        } => {
            let mut described = provider.describe(instance, *kind, request_id).await?;
            described.summary.kind = *kind;
            Ok(Outcome::Described(Box::new(described)))
        }
        Call::PermissionSetName { permission_set } => provider
            .permission_set_name(instance, permission_set)
            .await
            .map(Outcome::Name),
    }
}

/// Feeds one call's result to the planner and limiter; returns what the UI should hear.
pub fn handle_result(
    planner: &mut Planner,
    limiter: &mut RateLimiter,
    spend: &mut SpendReport,
    cache: &mut Option<cache::DescribeCache>,
    call: Call,
    result: Result<Outcome, ProviderError>,
    now: Duration,
) -> Vec<PollEvent> {
    match (call, result) {
        (Call::List { kind, lane, .. }, Ok(Outcome::Page(page))) => {
            limiter.on_success();
            let mut events = planner.on_list_page(kind, lane, page, now);
            events.push(PollEvent::PollSucceeded { at: Utc::now() });
            events
        }
        (Call::Describe { .. }, Ok(Outcome::Described(described))) => {
            limiter.on_success();
            if let Some(cache) = cache
                && described.summary.status.is_finished()
            {
                cache.insert((*described).clone());
            }
            planner.on_described(*described)
        }
        (Call::PermissionSetName { permission_set }, Ok(Outcome::Name(name))) => {
            limiter.on_success();
            name.map(|name| PollEvent::PermissionSetName {
                permission_set,
                name,
            })
            .into_iter()
            .collect()
        }
        (Call::PermissionSetName { permission_set }, Err(error)) => {
            // Names are a nicety: the ARN stays on screen. Still, back off like any failure.
            note_failure(limiter, spend, &error, now);
            tracing::warn!(%permission_set, %error, "no permission-set name");
            Vec::new()
        }
        (Call::List { kind, lane, token }, Err(error)) => {
            note_failure(limiter, spend, &error, now);
            planner.on_list_error(kind, lane, token, error.kind.is_retryable(), now);
            vec![PollEvent::CallFailed {
                at: Utc::now(),
                error,
            }]
        }
        (
            Call::Describe {
                kind,
                request_id,
                priority,
            },
            Err(error),
        ) => {
            note_failure(limiter, spend, &error, now);
            let retryable = error.kind.is_retryable();
            planner.on_describe_error(kind, &request_id, priority, retryable);
            if retryable {
                vec![PollEvent::CallFailed {
                    at: Utc::now(),
                    error,
                }]
            } else {
                vec![PollEvent::DescribeFailed {
                    kind,
                    request_id,
                    error,
                }]
            }
        }
        // A list call never yields a describe answer and vice versa.
        (call, Ok(_)) => {
            tracing::error!(?call, "mismatched call outcome");
            Vec::new()
        }
    }
}

fn note_failure(
    limiter: &mut RateLimiter,
    spend: &mut SpendReport,
    error: &ProviderError,
    now: Duration,
) {
    spend.failed_calls += 1;
    if error.kind == ErrorKind::Throttled {
        spend.throttled_calls += 1;
    }
    // Every failure slows us down: throttling and 5xx obviously, but also auth errors, which
    // would otherwise be retried at full budget until the operator logs in again.
    if error.kind != ErrorKind::NotFound && error.kind != ErrorKind::Validation {
        let wait = limiter.on_pushback(now);
        tracing::warn!(error = %error, backoff_secs = wait.as_secs_f64(), "call failed");
    }
}
