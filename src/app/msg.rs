//! The messages that change the app state, and the effects an update asks the outside world
//! to perform. Keeping both as plain data is what lets tests drive the whole app without a
//! terminal or a network.

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyEvent, MouseEvent};

use crate::model::{Described, OperationKind, StatusSummary};
use crate::provider::ProviderError;

/// Everything that can change the state.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// The once-a-second clock (and the spinner clock while loading).
    Tick(DateTime<Utc>),
    Poll(PollEvent),
}

/// What the poller reports.
#[derive(Debug, Clone)]
pub enum PollEvent {
    /// Records from a list call (any lane). New ones are added, known ones updated.
    Records {
        kind: OperationKind,
        items: Vec<StatusSummary>,
    },
    /// Records that came from the disk cache at start-up, already described.
    Cached(Vec<Described>),
    /// Progress of the first full load of one kind.
    LoadProgress {
        kind: OperationKind,
        pages: u32,
        records: u64,
        done: bool,
    },
    Described(Box<Described>),
    /// A permission set's friendly name.
    PermissionSetName {
        permission_set: String,
        name: String,
    },
    DescribeFailed {
        kind: OperationKind,
        request_id: String,
        error: ProviderError,
    },
    /// A poll round finished without error.
    PollSucceeded {
        at: DateTime<Utc>,
    },
    /// A call failed; the last good data stays on screen.
    CallFailed {
        at: DateTime<Utc>,
        error: ProviderError,
    },
    /// What the process is spending, for the header.
    Spend(SpendReport),
    /// The poller stopped for good (it panicked or hit an unrecoverable error).
    PollerStopped {
        reason: String,
    },
}

/// API spend as the header shows it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SpendReport {
    /// Requests per second over the last minute.
    pub rps: f64,
    /// The configured budget.
    pub budget_rps: f64,
    pub total_calls: u64,
    pub throttled_calls: u64,
    pub failed_calls: u64,
    /// Seconds until the next call is allowed while backing off, if backing off.
    pub backoff_secs: Option<f64>,
}

/// How urgent a describe is; the poller orders its queue by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DescribeUrgency {
    /// The operator is looking at it right now.
    Interactive,
    /// Visible on screen; nice to have.
    Background,
}

/// What an update asks the outside world to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Describe {
        kind: OperationKind,
        request_id: String,
        urgency: DescribeUrgency,
    },
    RefreshNow,
    /// Put this text on the clipboard (OSC 52).
    Copy(String),
    Quit,
}
