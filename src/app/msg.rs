//! The messages that change the app state, and the effects an update asks the outside world
//! to perform. Keeping both as plain data is what lets tests drive the whole app without a
//! terminal or a network.

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyEvent, MouseEvent};

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
}

/// What an update asks the outside world to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Describe a request: the operator opened it.
    Describe(DescribeRequest),
    /// The finished rows on screen without their detail: describe these, and forget the
    /// earlier screen's that have not started yet (nobody sees those rows any more).
    DescribeOnScreen(Vec<DescribeRequest>),
    RefreshNow,
    /// Put this text on the clipboard.
    Copy(String),
    Quit,
}
