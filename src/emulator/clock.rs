//! Simulated time: the wall clock scaled, or a manual clock that only moves when told (for
//! deterministic tests and benchmarks).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

use super::lock;

/// The emulator's notion of "now" for the simulated organization. The API gateway's date check
/// and the rate limit follow the real clock instead, as they do in the real services.
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

    /// Moves a manual clock forward; a real clock ignores this.
    pub fn advance(&self, by: std::time::Duration) {
        if let Clock::Manual(now) = self {
            let mut now = lock(now);
            *now += Duration::milliseconds(by.as_millis() as i64);
        }
    }
}
