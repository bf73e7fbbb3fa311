//! The app state: everything the screen shows, and nothing about how it is drawn.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};

use super::columns::ColumnChoice;
use super::filter::Filter;
use super::keymap::KeySet;
use super::mode::Mode;
use super::msg::ExportRequest;
use super::pivot::PivotView;
use super::progress::{Counts, Progress};
use super::reasons::ReasonReading;
use super::table::{KindTable, SortSpec, StatusFilter};
use crate::failures::{FailedRequest, FailureGroup};
use crate::model::{Instance, NameKind, OperationKind, Status};
use crate::poller::{CallOutcome, SpendReport};
use crate::provider::ProviderInfo;

/// A tab of the table: every kind at once, or one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    All,
    Kind(OperationKind),
}

impl Tab {
    /// Tab order: all kinds first (key `0`), then the kinds (keys `1` to `3`).
    pub const ORDER: [Tab; 4] = [
        Tab::All,
        Tab::Kind(OperationKind::AssignmentCreation),
        Tab::Kind(OperationKind::AssignmentDeletion),
        Tab::Kind(OperationKind::PermissionSetProvisioning),
    ];

    /// Index into [`AppState::tables`]: the kinds keep their own index, all kinds is last.
    pub fn index(self) -> usize {
        match self {
            Tab::All => ALL_KINDS,
            Tab::Kind(kind) => kind.index(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tab::All => "All kinds",
            Tab::Kind(kind) => kind.label(),
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Tab::All => "all",
            Tab::Kind(kind) => kind.short(),
        }
    }
}

/// Where the all-kinds table sits in [`AppState::tables`].
const ALL_KINDS: usize = 3;

/// The failure groups view (`F`): groups of the FAILED requests of every kind.
#[derive(Debug, Clone, Default)]
pub struct GroupsView {
    pub groups: Vec<FailureGroup>,
    pub selected: usize,
    /// FAILED requests of every kind, those whose reason is not read yet, and the reasons read
    /// in the random sample that the estimates stand on.
    pub failed: usize,
    pub unread: usize,
    pub sampled: usize,
    /// Reading every reason at this rate (requests per second) until all are read, `Esc` or
    /// the view closes; then the configured budget again.
    pub reading_all: Option<f64>,
    /// Whether the operator moved the selection: until then it stays on the biggest cause as
    /// the estimates reorder the groups; after, it follows the group they chose.
    pub chosen: bool,
}

/// The rates `R` offers (keys `1` to `4`): 20 is the account's whole limit, shared with the
/// pipelines being watched.
pub const READ_ALL_RATES: [f64; 4] = [2.0, 5.0, 10.0, 20.0];

/// The table narrowed to one failure group's requests (`Enter` on a group; `Esc` clears it).
#[derive(Debug, Clone)]
pub struct GroupFilter {
    pub pattern: String,
    pub ids: HashSet<Box<str>>,
}

/// Where a drill-down came from, so `Esc` goes back there (issue 19, point 5).
#[derive(Debug, Clone)]
pub struct Drill {
    /// The pivot as it was, selection and sort included.
    pub pivot: PivotView,
    /// The `/` filter before the drill-down added its term.
    pub text_filter: String,
}

/// What the header shows about the connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectionInfo {
    pub provider: ProviderInfo,
    pub instance: Option<Instance>,
    pub demo: bool,
    /// The hub this dashboard is a client of (`ssowatch --hub URL`), if it is one.
    pub hub: Option<String>,
}

/// The last error, shown on the error line; it never clears data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorLine {
    pub at: DateTime<Utc>,
    pub message: String,
    /// The kind whose list call failed, if it was one: that kind's next success clears it,
    /// another kind's does not.
    pub kind: Option<OperationKind>,
    /// What the operator can do about it, shown first so a narrow terminal keeps it.
    pub hint: Option<String>,
}

/// The rows on screen, as enrichment sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenWindow {
    pub fingerprint: u64,
    pub since: DateTime<Utc>,
    pub enriched: bool,
}

/// The whole app state: what the service told us ([`DataState`]) and what the operator is
/// looking at ([`ViewState`]). `serve` and the metrics read the data alone, so nothing a key
/// does can change what a scrape reports.
#[derive(Debug, Clone)]
pub struct AppState {
    pub data: DataState,
    pub view: ViewState,
}

/// What the polls and describes brought in, and what is counted from it: the same whichever
/// view is open, and all that `serve`, the metrics and the hub's health read.
#[derive(Debug, Clone)]
pub struct DataState {
    /// One table per kind, then the all-kinds table (which holds every row once more, with
    /// its kind, so sorting, filtering and selection work the same on every tab). The copy
    /// costs memory, so it is made only once the operator first shows that tab. Each table's
    /// view (order, selection) is rebuilt from the [`ViewState`]'s sort and filters.
    pub tables: [KindTable; 4],
    /// Whether the all-kinds table has been filled and is kept in step.
    pub(crate) all_kinds_live: bool,
    pub connection: ConnectionInfo,
    pub refresh_interval: Duration,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<ErrorLine>,
    /// A standing notice for the status line, e.g. which permission would add names.
    pub notice: Option<String>,
    /// When the service last throttled us; the header warns for a while after.
    pub last_throttled: Option<DateTime<Utc>>,
    pub spend: SpendReport,
    /// Calls made, by operation and outcome (for the spend breakdown and metrics).
    pub api_calls: BTreeMap<(&'static str, CallOutcome), u64>,
    /// Friendly names by kind and id (permission sets, accounts, users, groups), for rows
    /// whose describe answer arrives after the name.
    pub names: HashMap<(NameKind, String), String>,
    /// Describe errors per request, shown in the detail pane.
    pub describe_errors: HashMap<(OperationKind, Box<str>), String>,
    pub poller_stopped: Option<String>,
    pub now: DateTime<Utc>,
    /// Time zone of the Created column; fixed per run so snapshots are reproducible.
    pub tz: FixedOffset,
    /// This rollout's progress: counts since a moment, completions, new failures.
    pub progress: Progress,
    /// The `F` view's reading of failure reasons: the random sample and its plan. Data, not
    /// view: the sample and what was read of it outlive the view.
    pub reasons: ReasonReading,
}

/// What the operator chose to look at and how: the open view, the tab, filters, sort,
/// columns, the screen. Nothing here is reported by `serve` or the metrics.
#[derive(Debug, Clone)]
pub struct ViewState {
    pub active: Tab,
    pub status_filter: StatusFilter,
    /// The `/` filter as typed.
    pub text_filter: String,
    /// `text_filter` parsed, once per keystroke; the last good parse while the text has an
    /// error (shown in the prompt).
    pub(crate) filter: Filter,
    pub filter_error: Option<String>,
    pub sort: SortSpec,
    /// What the screen shows, and so which keys apply: the one place that says it.
    pub mode: Mode,
    /// The table narrowed to a failure group's requests (`Enter` in the groups); `Esc`
    /// returns to the groups.
    pub group_filter: Option<GroupFilter>,
    /// The table narrowed from a pivot row (`Enter`); `Esc` returns to the pivot.
    pub drill: Option<Drill>,
    /// The optional columns shown (`c`; config `columns`).
    pub columns: ColumnChoice,
    /// The rows on screen (a fingerprint of their kind and ids), since when they have held
    /// still, and whether their describes were asked: see `update::enrich_window`.
    pub(crate) window: Option<ScreenWindow>,
    /// The same for the in-flight rows on screen alone: new requests arrive at the top while
    /// a first load streams older rows below, and the rows in flight are what a rollout's
    /// operator reads first (`update::enrich_in_flight`).
    pub(crate) flight_window: Option<ScreenWindow>,
    /// While the pivot is shown: the tab whose undescribed rows it asked to describe and a
    /// fingerprint of what it asked (`update::describe_for_pivot`), so it asks again only when
    /// that changes.
    pub(crate) pivot_asked: Option<(Tab, u64)>,
    /// A short-lived message (e.g. "copied ...").
    pub flash: Option<(DateTime<Utc>, String)>,
    pub terminal_size: (u16, u16),
    /// Spinner frame, advanced by ticks while loading.
    pub spinner: u8,
    pub should_quit: bool,
    /// The last export asked for (`e`/`E`); the host does it.
    pub export: Option<ExportRequest>,
    /// Lines the detail pane is scrolled down by.
    pub detail_scroll: u16,
    /// Whether the selected row shows its full failure reason, wrapped under it (`w`).
    pub wrap_selected: bool,
}

impl DataState {
    pub fn table(&self, kind: OperationKind) -> &KindTable {
        &self.tables[kind.index()]
    }
}

impl AppState {
    pub fn new(
        connection: ConnectionInfo,
        refresh_interval: Duration,
        now: DateTime<Utc>,
        tz: FixedOffset,
    ) -> AppState {
        let data = DataState {
            tables: Default::default(),
            all_kinds_live: false,
            connection,
            refresh_interval,
            last_success: None,
            last_error: None,
            notice: None,
            last_throttled: None,
            spend: SpendReport::default(),
            api_calls: BTreeMap::new(),
            names: HashMap::new(),
            describe_errors: HashMap::new(),
            poller_stopped: None,
            now,
            tz,
            progress: Progress::new(now),
            reasons: ReasonReading::default(),
        };
        let view = ViewState {
            active: Tab::Kind(OperationKind::AssignmentCreation),
            status_filter: StatusFilter::All,
            text_filter: String::new(),
            filter: Filter::default(),
            filter_error: None,
            sort: SortSpec::default(),
            mode: Mode::Table,
            group_filter: None,
            drill: None,
            columns: ColumnChoice::default(),
            window: None,
            flight_window: None,
            pivot_asked: None,
            flash: None,
            // No screen until a host says its size: `serve` never does, and so never asks to
            // describe rows nobody looks at.
            terminal_size: (0, 0),
            spinner: 0,
            should_quit: false,
            export: None,
            detail_scroll: 0,
            wrap_selected: false,
        };
        AppState { data, view }
    }

    pub fn table(&self, kind: OperationKind) -> &KindTable {
        self.data.table(kind)
    }

    pub(crate) fn table_mut(&mut self, kind: OperationKind) -> &mut KindTable {
        &mut self.data.tables[kind.index()]
    }

    pub fn tab_table(&self, tab: Tab) -> &KindTable {
        &self.data.tables[tab.index()]
    }

    pub(crate) fn tab_table_mut(&mut self, tab: Tab) -> &mut KindTable {
        &mut self.data.tables[tab.index()]
    }

    /// The all-kinds table, when it is live (shown at least once); updates skip it before.
    pub(crate) fn all_kinds_table_mut(&mut self) -> Option<&mut KindTable> {
        self.data
            .all_kinds_live
            .then(|| &mut self.data.tables[ALL_KINDS])
    }

    /// Fills the all-kinds table from the kind tables the first time it is needed.
    pub(crate) fn ensure_all_kinds(&mut self) {
        if self.data.all_kinds_live {
            return;
        }
        let (kinds, all) = self.data.tables.split_at_mut(ALL_KINDS);
        for table in kinds.iter() {
            all[0].extend_from(table);
        }
        self.data.all_kinds_live = true;
        self.rebuild_table(ALL_KINDS);
    }

    /// How many requests a tab holds (all kinds: the kinds' sum, live or not).
    pub fn tab_len(&self, tab: Tab) -> usize {
        match tab {
            Tab::All => OperationKind::ALL
                .iter()
                .map(|&k| self.table(k).len())
                .sum(),
            Tab::Kind(kind) => self.table(kind).len(),
        }
    }

    pub fn active_table(&self) -> &KindTable {
        self.tab_table(self.view.active)
    }

    /// Recounts the open pivot from the active tab's view.
    pub(crate) fn repivot(&mut self) {
        let table = &self.data.tables[self.view.active.index()];
        if let Some(view) = self.view.mode.pivot_mut() {
            view.recompute((0..table.view_len()).filter_map(|p| table.view_row(p)));
        }
    }

    /// The key table that applies now: the open mode's, or the too-small screen's, where no
    /// key may act on views the operator cannot see. A state no host gave a size (`serve`,
    /// tests) has no screen to be too small.
    pub fn key_set(&self) -> KeySet {
        let (width, height) = self.view.terminal_size;
        if (width, height) != (0, 0) && super::layout::too_small(width, height) {
            KeySet::TooSmall
        } else {
            self.view.mode.key_set()
        }
    }

    /// The FAILED requests of every kind, as the failure grouping reads them.
    pub fn failed_requests(&self) -> Vec<FailedRequest<'_>> {
        OperationKind::ALL
            .iter()
            .flat_map(|&k| self.table(k).rows())
            .filter(|r| r.status == Status::Failed)
            .map(|r| FailedRequest {
                kind: r.kind,
                request_id: &r.request_id,
                created: r.created,
                reason: r.failure_reason(),
                pattern: r.reason_pattern(),
                account: r.account(),
                permission_set: r.permission_set(),
            })
            .collect()
    }

    /// Recounts the progress since its moment (every row of every kind: cheap next to a
    /// rebuild, and always right).
    pub(crate) fn recount_progress(&mut self) {
        let (since, now) = (self.data.progress.since, self.data.now);
        let mut counts = Counts::default();
        for row in OperationKind::ALL
            .iter()
            .flat_map(|&k| self.table(k).rows())
        {
            if self.data.progress.is_stuck(&row.status, row.created, now) {
                counts.stuck += 1;
            }
            // In flight is what is IN_PROGRESS now, whenever it started.
            if row.status == Status::InProgress {
                counts.in_flight += 1;
            }
            if row.created < since {
                // Started before the moment, failed since: a failure of this rollout too.
                if row.status == Status::Failed
                    && self
                        .data
                        .progress
                        .failed_since
                        .contains(&(row.kind, row.request_id.clone()))
                {
                    counts.failed += 1;
                }
                continue;
            }
            counts.started += 1;
            match row.status {
                Status::Succeeded => counts.succeeded += 1,
                Status::Failed => counts.failed += 1,
                Status::InProgress | Status::Unknown(_) => {}
            }
        }
        self.data.progress.counts = counts;
    }

    /// Whether any kind is still in its first load.
    pub fn loading(&self) -> bool {
        OperationKind::ALL
            .iter()
            .any(|&k| !self.table(k).history_load.done)
    }

    /// Whether a tab's history is loaded (all kinds: every kind's).
    pub fn history_loaded(&self, tab: Tab) -> bool {
        match tab {
            Tab::All => !self.loading(),
            Tab::Kind(kind) => self.table(kind).history_load.done,
        }
    }

    /// Whether a tab's FAILED count is complete (all kinds: every kind's).
    pub fn failed_known(&self, tab: Tab) -> bool {
        match tab {
            Tab::All => OperationKind::ALL
                .iter()
                .all(|&k| self.table(k).failed_known()),
            Tab::Kind(kind) => self.table(kind).failed_known(),
        }
    }

    /// The data is stale when no poll has succeeded for three refresh intervals.
    pub fn is_stale(&self) -> bool {
        match self.data.last_success {
            Some(at) => {
                let limit = chrono::Duration::from_std(self.data.refresh_interval * 3)
                    .unwrap_or(chrono::Duration::seconds(30));
                self.data.now - at > limit
            }
            None => false,
        }
    }

    /// The header warns about throttling for a minute after the last throttled call.
    pub fn recently_throttled(&self) -> bool {
        self.data
            .last_throttled
            .is_some_and(|at| self.data.now - at < chrono::Duration::seconds(60))
    }

    /// Rebuilds the view of one kind (after data, filter or sort changed).
    /// Rebuilds the view of one kind and of the all-kinds table, which holds its rows too.
    pub(crate) fn rebuild(&mut self, kind: OperationKind) {
        self.rebuild_table(kind.index());
        if self.data.all_kinds_live {
            self.rebuild_table(ALL_KINDS);
        }
    }

    fn rebuild_table(&mut self, index: usize) {
        let (sort, status) = (self.view.sort, self.view.status_filter);
        let only = self.view.group_filter.as_ref().map(|g| &g.ids);
        self.data.tables[index].rebuild_view(sort, status, &self.view.filter, only);
        let rows = self.table_rows();
        self.data.tables[index].scroll_into_view(rows);
    }

    pub(crate) fn rebuild_all(&mut self) {
        let tables = if self.data.all_kinds_live { 4 } else { 3 };
        for index in 0..tables {
            self.rebuild_table(index);
        }
    }

    /// How many table rows fit on screen; shared with the renderer's layout.
    pub fn table_rows(&self) -> usize {
        super::layout::table_body_rows(
            self.view.terminal_size,
            self.view.mode.pane_open(),
            self.status_rows(),
        ) as usize
    }

    /// The status line's text when it shows an error: what to do first, then what happened.
    pub fn error_text(&self) -> Option<(Option<&str>, &str)> {
        if self.view.mode.typing_filter() {
            return None;
        }
        let error = self.data.last_error.as_ref()?;
        Some((error.hint.as_deref(), error.message.as_str()))
    }

    /// Rows the status line needs: one, or up to three when an error and its hint would not fit
    /// in one (they wrap instead of being cut, at 80 columns as at 160).
    pub fn status_rows(&self) -> u16 {
        let Some((hint, message)) = self.error_text() else {
            return 1;
        };
        // " error ", "12m ago: ", the hint and " — ", the message, "  (showing last good data)".
        let chars =
            7 + 10 + hint.map_or(0, |h| h.chars().count() + 3) + message.chars().count() + 26;
        let width = usize::from(self.view.terminal_size.0.max(1));
        chars.div_ceil(width).clamp(1, 3) as u16
    }
}
