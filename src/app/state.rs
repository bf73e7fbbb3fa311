//! The app state: everything the screen shows, and nothing about how it is drawn.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};

use super::table::{KindTable, SortSpec, StatusFilter};
use crate::model::{Instance, NameKind, OperationKind};
use crate::poller::{CallOutcome, SpendReport};
use crate::provider::ProviderInfo;

/// Keyboard mode: normal navigation, or typing the `/` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputMode {
    #[default]
    Normal,
    EditingFilter,
}

/// What the header shows about the connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectionInfo {
    pub provider: ProviderInfo,
    pub instance: Option<Instance>,
    pub demo: bool,
}

/// The last error, shown on the error line; it never clears data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorLine {
    pub at: DateTime<Utc>,
    pub message: String,
    /// The kind whose list call failed, if it was one: that kind's next success clears it,
    /// another kind's does not.
    pub kind: Option<OperationKind>,
}

/// The rows on screen, as enrichment sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenWindow {
    pub fingerprint: u64,
    pub since: DateTime<Utc>,
    pub enriched: bool,
}

/// The whole app state.
#[derive(Debug, Clone)]
pub struct AppState {
    pub tables: [KindTable; 3],
    pub active: OperationKind,
    pub status_filter: StatusFilter,
    /// The `/` filter as typed.
    pub text_filter: String,
    /// Lower-cased `text_filter`, computed once per keystroke.
    pub(crate) needle: String,
    pub input_mode: InputMode,
    pub sort: SortSpec,
    pub detail_open: bool,
    pub help_open: bool,
    pub connection: ConnectionInfo,
    pub refresh_interval: Duration,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<ErrorLine>,
    /// When the service last throttled us; the header warns for a while after.
    pub last_throttled: Option<DateTime<Utc>>,
    pub spend: SpendReport,
    /// Calls made, by operation and outcome (for the spend breakdown and metrics).
    pub api_calls: BTreeMap<(&'static str, CallOutcome), u64>,
    /// The rows on screen (a fingerprint of their kind and ids), since when they have held
    /// still, and whether their describes were asked: see `update::enrich_window`.
    pub(crate) window: Option<ScreenWindow>,
    /// Friendly names by kind and id (permission sets, accounts, users, groups), for rows
    /// whose describe answer arrives after the name.
    pub names: HashMap<(NameKind, String), String>,
    /// Describe errors per request, shown in the detail pane.
    pub describe_errors: HashMap<(OperationKind, Box<str>), String>,
    /// A short-lived message (e.g. "copied ...").
    pub flash: Option<(DateTime<Utc>, String)>,
    pub poller_stopped: Option<String>,
    pub now: DateTime<Utc>,
    /// Time zone of the Created column; fixed per run so snapshots are reproducible.
    pub tz: FixedOffset,
    pub terminal_size: (u16, u16),
    /// Spinner frame, advanced by ticks while loading.
    pub spinner: u8,
    pub should_quit: bool,
}

impl AppState {
    pub fn new(
        connection: ConnectionInfo,
        refresh_interval: Duration,
        now: DateTime<Utc>,
        tz: FixedOffset,
    ) -> AppState {
        AppState {
            tables: Default::default(),
            active: OperationKind::AssignmentCreation,
            status_filter: StatusFilter::All,
            text_filter: String::new(),
            needle: String::new(),
            input_mode: InputMode::Normal,
            sort: SortSpec::default(),
            detail_open: false,
            help_open: false,
            connection,
            refresh_interval,
            last_success: None,
            last_error: None,
            last_throttled: None,
            spend: SpendReport::default(),
            api_calls: BTreeMap::new(),
            window: None,
            names: HashMap::new(),
            describe_errors: HashMap::new(),
            flash: None,
            poller_stopped: None,
            now,
            tz,
            // No screen until a host says its size: `serve` never does, and so never asks to
            // describe rows nobody looks at.
            terminal_size: (0, 0),
            spinner: 0,
            should_quit: false,
        }
    }

    pub fn table(&self, kind: OperationKind) -> &KindTable {
        &self.tables[kind.index()]
    }

    pub(crate) fn table_mut(&mut self, kind: OperationKind) -> &mut KindTable {
        &mut self.tables[kind.index()]
    }

    pub fn active_table(&self) -> &KindTable {
        self.table(self.active)
    }

    /// Whether any kind is still in its first load.
    pub fn loading(&self) -> bool {
        self.tables.iter().any(|t| !t.history_load.done)
    }

    /// The data is stale when no poll has succeeded for three refresh intervals.
    pub fn is_stale(&self) -> bool {
        match self.last_success {
            Some(at) => {
                let limit = chrono::Duration::from_std(self.refresh_interval * 3)
                    .unwrap_or(chrono::Duration::seconds(30));
                self.now - at > limit
            }
            None => false,
        }
    }

    /// The header warns about throttling for a minute after the last throttled call.
    pub fn recently_throttled(&self) -> bool {
        self.last_throttled
            .is_some_and(|at| self.now - at < chrono::Duration::seconds(60))
    }

    /// Rebuilds the view of one kind (after data, filter or sort changed).
    pub(crate) fn rebuild(&mut self, kind: OperationKind) {
        let (sort, status) = (self.sort, self.status_filter);
        let needle = std::mem::take(&mut self.needle);
        self.tables[kind.index()].rebuild_view(sort, status, &needle);
        self.needle = needle;
        let rows = self.table_rows();
        self.tables[kind.index()].scroll_into_view(rows);
    }

    pub(crate) fn rebuild_all(&mut self) {
        for kind in OperationKind::ALL {
            self.rebuild(kind);
        }
    }

    /// How many table rows fit on screen; shared with the renderer's layout.
    pub fn table_rows(&self) -> usize {
        super::layout::table_body_rows(self.terminal_size, self.detail_open) as usize
    }
}
