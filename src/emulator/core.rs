//! The emulator core, shared by both wire protocols and usable without HTTP: the simulated
//! organization, the clock, request statistics and fault injection.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::huawei_wire::{self, HuaweiBackend, WireInstance, WirePermissionSet};
use super::org::{Org, OrgSpec};
use crate::model::{OperationKind, RequestDetail, StatusSummary};

/// Simulated time: real time scaled, or a manual clock that only moves when told (for
/// deterministic benchmarks).
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

/// Locks a mutex even if a panicking thread poisoned it: the data is plain counters and a
/// simulation that stays consistent between statements.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What to do with one request after it was routed and authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Serve,
    Throttle,
    Fail,
    Malformed,
}

/// Faults to inject, for tests of how clients cope.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    pub throttle_next: u32,
    pub fail_next: u32,
    pub malformed_next: u32,
    /// Emulates the service's rate limit: above this many requests per second (token bucket of
    /// the same depth), requests are throttled.
    pub throttle_rps: Option<f64>,
}

#[derive(Debug, Default)]
struct Bucket {
    tokens: f64,
    last: Option<Instant>,
}

/// What `GET /_emulator/stats` answers.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    pub total: u64,
    pub by_operation: HashMap<String, u64>,
    pub throttled: u64,
    /// Real-time epoch milliseconds of the last requests (at most [`RECENT_LIMIT`]).
    pub recent: VecDeque<i64>,
}

pub const RECENT_LIMIT: usize = 10_000;

#[derive(Debug)]
pub struct EmulatorCore {
    org: Mutex<Org>,
    clock: Clock,
    stats: Mutex<Stats>,
    faults: Mutex<Faults>,
    bucket: Mutex<Bucket>,
    visible_instances: usize,
    token_secret: Vec<u8>,
    pub huawei: huawei_wire::HuaweiProtocol,
}

impl EmulatorCore {
    pub fn new(config: &super::EmulatorConfig, clock: Clock) -> EmulatorCore {
        let spec = OrgSpec {
            seed: config.seed,
            instances: config.instances,
            accounts: config.accounts,
            history: config.history,
            rate: config.rate,
            failure_ratio: config.failure_ratio,
            hostile_text: config.hostile_text,
        };
        let now = clock.now();
        let warmup = Duration::milliseconds(config.warmup.as_millis() as i64);
        let mut org = Org::new(spec, now - warmup);
        org.advance_to(now);
        EmulatorCore {
            org: Mutex::new(org),
            clock,
            stats: Mutex::new(Stats::default()),
            faults: Mutex::new(Faults {
                throttle_rps: config.throttle_rps,
                ..Faults::default()
            }),
            bucket: Mutex::new(Bucket::default()),
            visible_instances: config.instances,
            token_secret: config
                .seed
                .to_le_bytes()
                .iter()
                .chain(b"ssowatch-token")
                .copied()
                .collect(),
            huawei: huawei_wire::HuaweiProtocol::new(
                &config.huawei_ak,
                &config.huawei_sk,
                config.seed,
            ),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The organization, advanced to the current time.
    pub fn org(&self) -> MutexGuard<'_, Org> {
        let mut org = lock(&self.org);
        org.advance_to(self.clock.now());
        org
    }

    pub fn visible_instances(&self) -> usize {
        self.visible_instances
    }

    pub fn token_secret(&self) -> &[u8] {
        &self.token_secret
    }

    pub fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    pub fn set_faults(&self, update: impl FnOnce(&mut Faults)) {
        update(&mut lock(&self.faults));
    }

    /// Counts one request and decides whether a fault replaces its answer.
    pub fn admit(&self, operation: &str) -> Admission {
        {
            let mut stats = lock(&self.stats);
            stats.total += 1;
            *stats.by_operation.entry(operation.to_string()).or_default() += 1;
            stats.recent.push_back(Utc::now().timestamp_millis());
            while stats.recent.len() > RECENT_LIMIT {
                stats.recent.pop_front();
            }
        }
        let admission = self.decide();
        if admission == Admission::Throttle {
            lock(&self.stats).throttled += 1;
        }
        admission
    }

    fn decide(&self) -> Admission {
        let mut faults = lock(&self.faults);
        if faults.throttle_next > 0 {
            faults.throttle_next -= 1;
            return Admission::Throttle;
        }
        if faults.fail_next > 0 {
            faults.fail_next -= 1;
            return Admission::Fail;
        }
        if faults.malformed_next > 0 {
            faults.malformed_next -= 1;
            return Admission::Malformed;
        }
        if let Some(rps) = faults.throttle_rps.filter(|r| *r > 0.0) {
            let mut bucket = lock(&self.bucket);
            let now = Instant::now();
            let refill = bucket
                .last
                .map_or(rps, |last| now.duration_since(last).as_secs_f64() * rps);
            bucket.tokens = (bucket.tokens + refill).min(rps.max(1.0));
            bucket.last = Some(now);
            if bucket.tokens < 1.0 {
                return Admission::Throttle;
            }
            bucket.tokens -= 1.0;
        }
        Admission::Serve
    }

    /// The Huawei wire's admission: the same counters and faults.
    pub fn admit_huawei(&self, operation: &str) -> huawei_wire::Admission {
        match self.admit(operation) {
            Admission::Serve | Admission::Malformed => huawei_wire::Admission::Serve,
            Admission::Throttle => huawei_wire::Admission::Throttle,
            Admission::Fail => huawei_wire::Admission::Fail,
        }
    }
}

impl HuaweiBackend for EmulatorCore {
    fn instances(&self) -> Vec<WireInstance> {
        let org = self.org();
        org.instances
            .iter()
            .take(self.visible_instances)
            .map(|i| WireInstance {
                instance_id: i.huawei_id.clone(),
                identity_store_id: i.identity_store_id.clone(),
                alias: Some(i.name.to_lowercase()),
                instance_urn: format!(
                    "IdentityCenter::{}:instance:{}",
                    super::DEMO_HUAWEI_DOMAIN_ID,
                    i.huawei_id
                ),
            })
            .collect()
    }

    fn records(&self, instance: &str, kind: OperationKind) -> Option<Vec<StatusSummary>> {
        let org = self.org();
        let idx = org
            .instance_by_huawei_id(instance)
            .filter(|&i| i < self.visible_instances)?;
        if idx != 0 {
            return Some(Vec::new());
        }
        let now = self.clock.now();
        Some(
            org.requests(kind)
                .iter()
                .take_while(|r| r.created <= now)
                .map(|r| org.summary(kind, r, now))
                .collect(),
        )
    }

    fn describe(
        &self,
        instance: &str,
        kind: OperationKind,
        request_id: &str,
    ) -> Option<Option<(StatusSummary, RequestDetail)>> {
        let org = self.org();
        let idx = org
            .instance_by_huawei_id(instance)
            .filter(|&i| i < self.visible_instances)?;
        let now = self.clock.now();
        Some(
            (idx == 0)
                .then(|| org.find(kind, request_id))
                .flatten()
                .filter(|r| r.created <= now)
                .map(|r| (org.summary(kind, r, now), org.detail(kind, r, now, true))),
        )
    }

    fn permission_set(
        &self,
        instance: &str,
        permission_set: &str,
    ) -> Option<Option<WirePermissionSet>> {
        let org = self.org();
        org.instance_by_huawei_id(instance)
            .filter(|&i| i < self.visible_instances)?;
        Some(
            org.permission_set_by_huawei_id(permission_set)
                .map(|p| WirePermissionSet {
                    permission_set_id: p.huawei_id.clone(),
                    name: p.name.clone(),
                    description: Some(p.description.clone()),
                    created: p.created,
                    session_duration: "PT1H".to_string(),
                }),
        )
    }
}
