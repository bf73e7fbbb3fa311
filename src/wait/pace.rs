//! Every call `wait` makes goes through the budget, with backoff on throttling.

use std::time::Duration;

use tokio::time::Instant;

use crate::poller::budget::RateLimiter;
use crate::provider::{CALL_TIMEOUT, ErrorKind, ProviderError};

/// Why a budgeted call gave no answer.
pub(super) enum CallError {
    /// The service said no in a way waiting will not fix (or NotFound, for the caller).
    Provider(ProviderError),
    /// The timeout passed while waiting for budget or for the answer.
    Deadline,
}

/// Paces every call within the budget and backs off on throttling and transient failures,
/// which are retried until the deadline (never forever).
pub(super) struct Pace {
    pub(super) limiter: RateLimiter,
    pub(super) start: Instant,
    pub(super) deadline: Instant,
    pub(super) calls: u64,
    pub(super) throttled: u64,
    pub(super) last_retryable: Option<ProviderError>,
    /// Since when every call has failed with an error that waiting can fix (none while the
    /// last call worked): what `wait` reports when the timeout passes.
    pub(super) failing_since: Option<Instant>,
}

/// What wait saw when its timeout passed while the service kept failing: "throttled for 1m 30s"
/// or "the service did not answer for 1m 30s", with the last error. `None` when the last call
/// worked (the requests were simply still in flight).
pub(super) fn trouble_line(
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

impl Pace {
    /// Notes a failure that waiting can fix, of a call that started at `started`.
    pub(super) fn note_retryable(&mut self, error: ProviderError, started: Instant) {
        if error.kind == ErrorKind::Throttled {
            self.throttled += 1;
        }
        self.failing_since.get_or_insert(started);
        self.last_retryable = Some(error);
    }

    /// What wait saw, if the service was failing when the deadline passed.
    pub(super) fn trouble(&self) -> Option<String> {
        trouble_line(
            self.failing_since,
            self.last_retryable.as_ref(),
            self.deadline,
        )
    }

    pub(super) async fn call<T, Fut>(&mut self, make: impl Fn() -> Fut) -> Result<T, CallError>
    where
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        loop {
            let now = self.start.elapsed();
            let ready = self.limiter.ready_at(now);
            if self.start + ready >= self.deadline {
                // No call fits before the deadline: wait it out all the same, so that `wait`
                // never gives up before its own --timeout (it exited at 67 s of 90 s).
                tokio::time::sleep_until(self.deadline).await;
                return Err(CallError::Deadline);
            }
            if ready > now || !self.limiter.try_acquire(now) {
                let at = (self.start + ready).max(Instant::now() + Duration::from_millis(5));
                tokio::time::sleep_until(at).await;
                continue;
            }
            self.calls += 1;
            // One call gets at most CALL_TIMEOUT (the providers' own bound too), so that a
            // hanging call is seen, and counted, as one.
            let started = Instant::now();
            let cut = (started + CALL_TIMEOUT).min(self.deadline);
            let result = match tokio::time::timeout_at(cut, make()).await {
                Ok(result) => result,
                Err(_) if cut >= self.deadline => {
                    self.failing_since.get_or_insert(started);
                    return Err(CallError::Deadline);
                }
                Err(_) => Err(ProviderError::new(
                    ErrorKind::Transient,
                    format!(
                        "the service did not answer within {} s",
                        CALL_TIMEOUT.as_secs()
                    ),
                )),
            };
            match result {
                Ok(value) => {
                    self.limiter.on_success();
                    self.failing_since = None;
                    return Ok(value);
                }
                Err(error) if error.kind.is_retryable() => {
                    let wait = self.limiter.on_pushback(self.start.elapsed());
                    tracing::warn!(%error, backoff_secs = wait.as_secs_f64(), "wait: retrying");
                    self.note_retryable(error, started);
                }
                Err(error) => return Err(CallError::Provider(error)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(rate: f64, timeout: Duration) -> Pace {
        let start = Instant::now();
        Pace {
            limiter: RateLimiter::new(rate, 3),
            start,
            deadline: start + timeout,
            calls: 0,
            throttled: 0,
            last_retryable: None,
            failing_since: None,
        }
    }

    fn throttled() -> ProviderError {
        ProviderError::new(ErrorKind::Throttled, "Rate exceeded")
    }

    #[tokio::test(start_paused = true)]
    async fn calls_keep_to_the_budget() {
        let mut pace = pace(2.0, Duration::from_secs(60));
        for _ in 0..9 {
            let answer: Result<(), CallError> = pace.call(|| async { Ok(()) }).await;
            assert!(answer.is_ok());
        }
        // Nine calls at two a second: the ninth starts 4 s after the first, not sooner.
        assert_eq!(pace.start.elapsed(), Duration::from_secs(4));
        assert_eq!(pace.calls, 9);
    }

    /// A pace whose call is throttled twice, then answers 7.
    async fn throttled_twice_then_seven() -> (Pace, Result<i32, CallError>) {
        let mut pace = pace(20.0, Duration::from_secs(60));
        let refusals = std::cell::Cell::new(2u32);
        let answer = pace
            .call(|| {
                let refuse = refusals.get() > 0;
                refusals.set(refusals.get().saturating_sub(1));
                async move { if refuse { Err(throttled()) } else { Ok(7) } }
            })
            .await;
        (pace, answer)
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_backs_off_then_succeeds() {
        let (pace, answer) = throttled_twice_then_seven().await;
        assert!(matches!(answer, Ok(7)));
        assert_eq!((pace.calls, pace.throttled), (3, 2));
        // Two backoffs of 1 s and 2 s, each with ±50% jitter: far more than the 0.1 s the
        // budget alone would ask for.
        assert!(
            pace.start.elapsed() >= Duration::from_millis(1500),
            "{:?}",
            pace.start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn endless_throttling_stops_at_the_deadline() {
        let mut pace = pace(20.0, Duration::from_secs(120));
        let answer: Result<(), CallError> = pace.call(|| async { Err(throttled()) }).await;
        assert!(matches!(answer, Err(CallError::Deadline)));
        // At the deadline, never before it (issue 21: 67 s of a 90 s timeout).
        assert_eq!(pace.start.elapsed(), Duration::from_secs(120));
        assert_eq!(
            pace.trouble().as_deref().and_then(|t| t.split(':').next()),
            Some("throttled for 2m")
        );
        assert!(
            // A probe every few seconds (pauses of at most 5 s, ±50 %).
            pace.throttled >= 16 && pace.throttled < 60,
            "backed off: {}",
            pace.throttled
        );
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_are_not_retried() {
        let mut pace = pace(20.0, Duration::from_secs(60));
        let answer: Result<(), CallError> = pace
            .call(|| async { Err(ProviderError::new(ErrorKind::Auth, "expired")) })
            .await;
        assert!(matches!(answer, Err(CallError::Provider(e)) if e.kind == ErrorKind::Auth));
        assert_eq!(pace.calls, 1);
    }

    /// Issue 21 #5: an outage (5xx) and a hanging service are retried to the deadline, to the
    /// second, and said for what they were.
    #[tokio::test(start_paused = true)]
    async fn an_outage_and_a_hang_are_waited_to_the_deadline_and_named() {
        for timeout in [90, 91, 97] {
            let mut pace = pace(5.0, Duration::from_secs(timeout));
            let answer: Result<(), CallError> = pace
                .call(|| async { Err(ProviderError::new(ErrorKind::Transient, "HTTP 503")) })
                .await;
            assert!(matches!(answer, Err(CallError::Deadline)));
            assert_eq!(pace.start.elapsed(), Duration::from_secs(timeout));
            let trouble = pace.trouble().unwrap_or_default();
            assert!(
                trouble.starts_with("the service failed for 1m 3"),
                "{trouble}"
            );
        }
        let mut pace = pace(5.0, Duration::from_secs(90));
        let answer: Result<(), CallError> = pace.call(std::future::pending).await;
        assert!(matches!(answer, Err(CallError::Deadline)));
        assert_eq!(pace.start.elapsed(), Duration::from_secs(90));
        // Cut at 10 s each: several calls, not one that waited 90 s.
        assert!(pace.calls >= 6, "{}", pace.calls);
        let trouble = pace.trouble().unwrap_or_default();
        assert!(
            trouble.starts_with("the service did not answer for 1m 30s"),
            "{trouble}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_clears_what_was_seen() {
        let (pace, answer) = throttled_twice_then_seven().await;
        assert!(matches!(answer, Ok(7)));
        assert_eq!(pace.trouble(), None);
    }
}
