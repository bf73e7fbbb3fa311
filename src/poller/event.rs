//! What the poller reports. The poller owns this type, as gitui's asyncgit owns its
//! notifications: layers above (the runtime, the app) consume it, the poller never sees theirs.

use chrono::{DateTime, Utc};

use super::plan::Lane;
use crate::model::{Described, NameKind, OperationKind, StatusSummary};
use crate::provider::{ErrorKind, ProviderError};

#[derive(Debug, Clone)]
pub enum Event {
    /// Records from a list call (any lane) that are new or changed status.
    Records {
        kind: OperationKind,
        items: Vec<StatusSummary>,
    },
    /// Records that came from the disk cache at start-up, already described.
    Cached(Vec<Described>),
    /// Progress of the first FAILED listing or the first history load of one kind.
    LoadProgress {
        kind: OperationKind,
        lane: Lane,
        pages: u32,
        records: u64,
        done: bool,
    },
    Described(Box<Described>),
    /// The friendly name of an id (a permission set, an account, a user or a group).
    Name {
        kind: NameKind,
        id: String,
        name: String,
    },
    /// A name service refused (denied): ids stay for its kinds, and this says once which
    /// permission would add the names.
    NamesUnavailable {
        hint: String,
    },
    /// A describe was given up (not retryable, or it kept failing): its row must stop waiting.
    DescribeFailed {
        kind: OperationKind,
        request_id: String,
        error: ProviderError,
    },
    /// A list page of this kind arrived.
    ListSucceeded {
        kind: OperationKind,
        at: DateTime<Utc>,
    },
    /// A list call of this kind failed; `gave_up` when the lane stopped until its next turn.
    ListFailed {
        kind: OperationKind,
        error: ProviderError,
        gave_up: bool,
    },
    /// A call other than a list failed and will be retried (a describe or a name).
    CallFailed {
        at: DateTime<Utc>,
        error: ProviderError,
    },
    /// One call finished: its operation and outcome, for the spend breakdown and metrics.
    CallCompleted {
        operation: &'static str,
        outcome: CallOutcome,
    },
    /// What the process is spending, for the header.
    Spend(SpendReport),
    /// The poller stopped for good (a call panicked).
    PollerStopped {
        reason: String,
    },
}

/// How a call ended, coarsely: a bounded label set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallOutcome {
    Ok,
    Throttled,
    Denied,
    Error,
}

impl CallOutcome {
    pub fn of(result: Result<(), &ProviderError>) -> CallOutcome {
        match result {
            Ok(()) => CallOutcome::Ok,
            Err(e) if e.kind == ErrorKind::Throttled => CallOutcome::Throttled,
            Err(e) if e.kind == ErrorKind::Auth => CallOutcome::Denied,
            Err(_) => CallOutcome::Error,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Throttled => "throttled",
            CallOutcome::Denied => "denied",
            CallOutcome::Error => "error",
        }
    }
}

/// API spend as the header shows it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SpendReport {
    /// Requests per second over the last minute.
    pub rps: f64,
    /// The configured budget: the most this process ever spends.
    pub budget_rps: f64,
    /// The rate the adaptive limiter allows now: the budget, or less after throttling.
    pub effective_rps: f64,
    pub total_calls: u64,
    pub throttled_calls: u64,
    pub failed_calls: u64,
    /// Until when calls are paused after a failure, if they are. A time, not a duration, so
    /// the header counts it down on its own clock instead of showing a stale number.
    pub backoff_until: Option<DateTime<Utc>>,
}
