//! Every call `wait` makes goes through the budget, with backoff on throttling.

use std::time::Duration;

use tokio::time::Instant;

use crate::poller::budget::RateLimiter;
use crate::provider::{ErrorKind, ProviderError};

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
}

impl Pace {
    pub(super) async fn call<T, Fut>(&mut self, make: impl Fn() -> Fut) -> Result<T, CallError>
    where
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        loop {
            let now = self.start.elapsed();
            let ready = self.limiter.ready_at(now);
            if self.start + ready >= self.deadline {
                return Err(CallError::Deadline);
            }
            if ready > now || !self.limiter.try_acquire(now) {
                let at = (self.start + ready).max(Instant::now() + Duration::from_millis(5));
                tokio::time::sleep_until(at).await;
                continue;
            }
            self.calls += 1;
            let Ok(result) = tokio::time::timeout_at(self.deadline, make()).await else {
                return Err(CallError::Deadline);
            };
            match result {
                Ok(value) => {
                    self.limiter.on_success();
                    return Ok(value);
                }
                Err(error) if error.kind.is_retryable() => {
                    if error.kind == ErrorKind::Throttled {
                        self.throttled += 1;
                    }
                    let wait = self.limiter.on_pushback(self.start.elapsed());
                    tracing::warn!(%error, backoff_secs = wait.as_secs_f64(), "wait: retrying");
                    self.last_retryable = Some(error);
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

    #[tokio::test(start_paused = true)]
    async fn throttling_backs_off_then_succeeds() {
        let mut pace = pace(20.0, Duration::from_secs(60));
        let refusals = std::cell::Cell::new(2u32);
        let answer = pace
            .call(|| {
                let refuse = refusals.get() > 0;
                refusals.set(refusals.get().saturating_sub(1));
                async move { if refuse { Err(throttled()) } else { Ok(7) } }
            })
            .await;
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
        assert!(pace.start.elapsed() <= Duration::from_secs(120));
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
}
