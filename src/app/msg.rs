//! The messages that change the app state, and the effects an update asks the outside world
//! to perform. Keeping both as plain data is what lets tests drive the whole app without a
//! terminal or a network.

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyEvent, MouseEvent};

use super::progress::ViewConfig;
use crate::poller::{DescribeRequest, Event};

/// Everything that can change the state.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock: ages, staleness and the spinner move with it.
    Tick(DateTime<Utc>),
    Poll(Event),
    /// Settings from the config and flags, sent once by the host before anything else.
    Configure(ViewConfig),
    /// The host carried out the export the operator asked for: the file's path, or why not.
    Exported(Result<String, String>),
    /// The host wrote the columns shown into the config file: its path, or why not.
    Saved(Result<String, String>),
}

/// The format of an export of the current view (`e` CSV, `E` JSON; the groups when the `F`
/// view is open), or the hand-off of its FAILED requests (`x`: retry script, ids file, plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
    Handoff,
}

/// An export the operator asked for and the host has not done yet. The host notices a new
/// `seq` after each update, writes the file and answers with [`Msg::Exported`]; keeping the
/// file I/O in the host keeps `update` pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportRequest {
    pub seq: u64,
    pub format: ExportFormat,
}

/// What an update asks the outside world to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Describe a request: the operator opened it.
    Describe(DescribeRequest),
    /// The finished rows on screen without their detail: describe these, and forget the
    /// earlier screen's that have not started yet (nobody sees those rows any more).
    DescribeOnScreen(Vec<DescribeRequest>),
    /// The failure reasons the `F` view wants read, most informative first (a random sample,
    /// then one per burst, then the rest); it replaces the previous list. `None`: the view
    /// closed, reasons are read at their usual priority again.
    ReadReasons(Option<Vec<DescribeRequest>>),
    /// Spend this many requests per second from now on (`None`: the configured budget again).
    SetBudget(Option<f64>),
    RefreshNow,
    /// Remember the columns shown in the config file (the host writes it).
    SaveColumns(super::columns::ColumnChoice),
    /// Put this text on the clipboard.
    Copy(String),
    Quit,
}
