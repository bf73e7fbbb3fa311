//! Simulated time: the wall clock scaled, or a manual clock that only moves when told (for
//! deterministic tests and benchmarks).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

use super::lock;

/// The emulator's notion of "now" for the simulated organization. The API gateway's date check
/// follows the real clock instead, as it does in the real services; the rate limit follows the
/// real clock unscaled, or the manual clock when there is one (see [`Clock::for_rate_limit`]).
#[derive(Debug, Clone)]
pub enum Clock {
    Real {
        origin: DateTime<Utc>,
        started: Instant,
        scale: f64,
    },
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// Real time from now on, `scale` simulated seconds per real second (1 when not a positive
    /// number).
    pub fn real(scale: f64) -> Clock {
        Clock::Real {
            origin: Utc::now(),
            started: Instant::now(),
            scale: if scale.is_finite() && scale > 0.0 {
                scale
            } else {
                1.0
            },
        }
    }

    pub fn manual(start: DateTime<Utc>) -> Clock {
        Clock::Manual(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::Real {
                origin,
                started,
                scale,
            } => {
                let elapsed = started.elapsed().as_secs_f64() * scale;
                *origin + Duration::milliseconds((elapsed * 1000.0) as i64)
            }
            Clock::Manual(now) => *lock(now),
        }
    }

    /// A monotonic time for the rate limit. Clients are not time-scaled, so a real clock's limit
    /// runs on unscaled real time; a manual clock's runs on the manual time, so that runtimes
    /// driven in simulated time meet the limit the way real clients meet the service's.
    pub fn for_rate_limit(&self) -> std::time::Duration {
        match self {
            Clock::Real { started, .. } => started.elapsed(),
            Clock::Manual(now) => {
                let micros = lock(now).timestamp_micros().max(0);
                std::time::Duration::from_micros(micros.unsigned_abs())
            }
        }
    }

    /// Moves a manual clock forward; a real clock ignores this.
    pub fn advance(&self, by: std::time::Duration) {
        if let Clock::Manual(now) = self {
            let mut now = lock(now);
            *now += Duration::milliseconds(by.as_millis() as i64);
        }
    }
}
