//! The emulated service both protocols answer from, usable without HTTP: the simulated
//! organization on its clock, the request counters and the fault switches.

use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};

use super::EmulatorConfig;
use super::clock::Clock;
use super::faults::{Admission, Fault, FaultInjector, Faults};
use super::huawei_wire::HuaweiProtocol;
use super::lock;
use super::org::{Org, OrgSpec, SimRequest};
use super::paging::PageTokens;
use super::stats::{Stats, StatsRecorder};
use crate::model::OperationKind;

/// Which wire a request came in on; the stats keep the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Aws,
    Huawei,
}

/// The state behind one emulator. (Named for what it was before the protocols were split out;
/// kept because tests reach the organization through [`super::EmulatorHandle::core`].)
#[derive(Debug)]
pub struct EmulatorCore {
    org: Mutex<Org>,
    clock: Clock,
    stats: StatsRecorder,
    faults: FaultInjector,
    visible_instances: usize,
    tokens: PageTokens,
    pub huawei: HuaweiProtocol,
}

impl EmulatorCore {
    pub fn new(config: &EmulatorConfig, clock: Clock) -> EmulatorCore {
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
            stats: StatsRecorder::default(),
            faults: FaultInjector::new(
                Faults {
                    throttle_rps: config.throttle_rps.or(config.faults.throttle_rps),
                    ..config.faults.clone()
                },
                config.seed,
            ),
            visible_instances: config.instances,
            tokens: PageTokens::new(config.seed),
            huawei: HuaweiProtocol::new(&config.huawei_ak, &config.huawei_sk, config.seed),
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

    pub fn page_tokens(&self) -> &PageTokens {
        &self.tokens
    }

    pub fn stats(&self) -> Stats {
        self.stats.snapshot()
    }

    /// Keeps the signature of a request's `Authorization` header for [`Stats::signatures`].
    pub fn record_signature(&self, authorization: &str) {
        self.stats.record_signature(authorization);
    }

    pub fn set_faults(&self, update: impl FnOnce(&mut Faults)) {
        self.faults.update(update);
    }

    pub fn faults(&self) -> Faults {
        self.faults.current()
    }

    /// Starts a request of `kind` as a write operation does, failing later for the cause
    /// `fail_requests` names (if any) at this moment.
    pub fn submit(
        &self,
        kind: OperationKind,
        account: u32,
        permission_set: u32,
        principal: (bool, u32),
    ) -> SimRequest {
        let cause = self.faults().fail_requests;
        let now = self.clock.now();
        lock(&self.org).submit(
            kind,
            now,
            account,
            permission_set,
            principal,
            cause.as_deref(),
        )
    }

    /// Counts one routed, authenticated request of `operation` (a describe of `describe_id`,
    /// if any) and decides whether a fault replaces or alters its answer.
    pub fn admit(
        &self,
        protocol: Protocol,
        operation: &str,
        describe_id: Option<&str>,
    ) -> Admission {
        let counted = match protocol {
            Protocol::Aws => operation.to_string(),
            Protocol::Huawei => format!("huawei:{operation}"),
        };
        self.stats.record(&counted, describe_id);
        let admission = self.faults.decide(operation, self.clock.for_rate_limit());
        if admission == Admission::Inject(Fault::Throttle) {
            self.stats.record_throttled();
        }
        admission
    }
}
