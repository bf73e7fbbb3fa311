//! What the poller reports. The poller owns this type, as gitui's asyncgit owns its
//! notifications: layers above (the runtime, the app) consume it, the poller never sees theirs.

use chrono::{DateTime, Utc};

use super::plan::Lane;
use crate::model::{Described, NameKind, OperationKind, StatusSummary};
use crate::provider::{ErrorKind, ProviderError};

/// It travels between a hub and its clients (`ssowatch serve`, `ssowatch --hub`) as JSON: a
/// change of its serialized form is a change of the hub protocol's version.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
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
        #[serde(deserialize_with = "known_operation")]
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
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
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
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

/// An operation name read back from the wire, as the one `&'static str` this build knows for
/// it; a name it does not know (a newer hub's) is counted as `other`.
fn known_operation<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    use crate::model::OperationKind;
    use crate::wire::operations as ops;
    let name = <String as serde::Deserialize>::deserialize(d)?;
    let known = OperationKind::ALL
        .into_iter()
        .flat_map(|kind| [ops::list(kind), ops::describe(kind)])
        .chain(ops::NAME_OPERATIONS)
        .chain([ops::LIST_INSTANCES, ops::DESCRIBE_PERMISSION_SET]);
    Ok(known.into_iter().find(|op| *op == name).unwrap_or("other"))
}
