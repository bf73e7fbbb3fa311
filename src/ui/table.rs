//! The tabs and the request table. Rows are built for the visible window only: with 100,000
//! records a frame costs the same as with 100.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, Borders, Cell, Paragraph, Row as TableRow, Scrollbar, ScrollbarOrientation,
    ScrollbarState, Table, TableState, Wrap,
};

use super::format::{age, shorten, wrap_text};
use super::theme::Theme;
use crate::app::AppState;
use crate::app::Tab;
use crate::app::columns::{ColumnChoice, OptionalColumn};
use crate::app::keymap::{self, Action, KeySet};
use crate::app::table::{
    KindTable, RequestRow, SortColumn, StatusFilter, format_local, zone_label,
};
use crate::app::table::{ListTrouble, LoadProgress};
use crate::model::short_permission_set;

const SPINNER: [&str; 4] = ["⠋", "⠙", "⠸", "⠴"];

pub fn draw_tabs(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let line = |short: bool| {
        let mut spans = Vec::new();
        for (i, tab) in Tab::ORDER.into_iter().enumerate() {
            let name = if short { tab.short() } else { tab.label() };
            let label = format!(" {i} {name} ({}) ", state.tab_len(tab));
            let style = if tab == state.view.active {
                theme.active_tab()
            } else {
                theme.dim()
            };
            spans.push(Span::styled(label, style));
            spans.push(Span::raw(" "));
        }
        Line::from(spans)
    };
    // Short names when the full ones would cut the last tab off.
    let full = line(false);
    let tabs = if full.width() <= area.width as usize {
        full
    } else {
        line(true)
    };
    frame.render_widget(Paragraph::new(tabs), area);
}

pub fn draw_table(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let table = state.active_table();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(title(state, theme));
    let visible = area.height.saturating_sub(3) as usize;

    if table.view_len() == 0 {
        let message = empty_message(state);
        let style = if tab_troubles(state).is_empty() {
            theme.dim()
        } else {
            theme.error()
        };
        let lines: Vec<Line> = message
            .lines()
            .map(|l| Line::styled(l.to_string(), style))
            .collect();
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(block),
            area,
        );
        return;
    }

    // The update function keeps `offset` so that the selection is visible for the layout's
    // row count; clamp again here in case this frame is smaller than that.
    let selected = table.selected_pos().unwrap_or(0);
    let mut offset = table.offset.min(table.view_len().saturating_sub(1));
    if selected >= offset + visible.max(1) {
        offset = selected + 1 - visible.max(1);
    }
    let end = (offset + visible).min(table.view_len());
    let inner_width = area.width.saturating_sub(2);
    let columns = Columns::for_width(
        inner_width,
        state.view.active == Tab::All,
        state.view.sort.column,
        state.view.columns,
    );
    let header = TableRow::new(
        columns
            .visible()
            .map(|column| Cell::from(header_label(column, state))),
    )
    .style(theme.title());
    let reason_width = columns.reason_width(inner_width);
    let rows: Vec<TableRow> = rows_for(table, (offset, end), &columns, reason_width, state, theme);
    let widget = Table::new(rows, columns.constraints())
        .header(header)
        .block(block)
        .row_highlight_style(theme.selected_row())
        .column_spacing(1);
    let mut table_state = TableState::default().with_selected(Some(selected - offset));
    frame.render_stateful_widget(widget, area, &mut table_state);
    // Where the window is in the whole view, on the right border: rows above the top (newer
    // failures after a filter toggle, say) are never out of sight without a sign.
    if table.view_len() > visible {
        let mut scroll = ScrollbarState::new(table.view_len().saturating_sub(visible))
            .position(offset)
            .viewport_content_length(visible);
        let bar_area = Rect {
            y: area.y + 2,
            height: area.height.saturating_sub(3),
            ..area
        };
        frame.render_stateful_widget(
            Scrollbar::new(ScrollbarOrientation::VerticalRight)
                .begin_symbol(None)
                .end_symbol(None)
                .thumb_style(theme.key())
                .track_style(theme.border()),
            bar_area,
            &mut scroll,
        );
    }
}

/// The failure reason's width before optional columns may take room from it.
const REASON_WANTED: u16 = 40;

/// The table's columns. Which ones are shown depends on the width: the request id and status
/// always, the rest as room allows, so a narrow terminal or an open detail pane never squeezes
/// the id into something that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Created,
    CreatedShort,
    Status,
    RequestId,
    /// The first 8 characters of the id and an ellipsis: on a narrow terminal the failure
    /// reason is worth more than the rest of the id (the detail pane and `y` have it whole).
    RequestIdShort,
    Account,
    PermissionSet,
    Principal,
    /// On the all-kinds tab: which kind the row is.
    Kind,
    FailureReason,
}

impl Column {
    /// Width in cells on a table `total` cells wide (the failure reason's is its minimum; it
    /// fills the rest). Names get more room on a wide terminal: `payments-prod-eu-west` and
    /// `GROUP platform-administrators` should not be cut at 200 columns.
    fn width_at(self, total: u16) -> u16 {
        let wide = total >= 190;
        match self {
            Column::Account if wide => 22,
            Column::PermissionSet if wide => 24,
            Column::Principal if wide => 28,
            other => other.width(),
        }
    }

    /// Left to right.
    fn order(self) -> u8 {
        match self {
            Column::Created | Column::CreatedShort => 0,
            Column::Status => 1,
            Column::Kind => 2,
            Column::RequestId | Column::RequestIdShort => 3,
            Column::Account => 4,
            Column::PermissionSet => 5,
            Column::Principal => 6,
            Column::FailureReason => 7,
        }
    }

    /// Width in cells on a narrow table.
    fn width(self) -> u16 {
        match self {
            Column::Created => 26,
            Column::CreatedShort => 16,
            Column::Status => 11,
            Column::RequestId => 36,
            Column::RequestIdShort => 9,
            Column::Account => 12,
            Column::PermissionSet => 22,
            Column::Principal => 24,
            Column::Kind => 12,
            Column::FailureReason => 16,
        }
    }
}

/// The columns shown, and the table's width (which sets the width of the name columns).
struct Columns(Vec<Column>, u16);

impl Columns {
    fn for_width(width: u16, all_kinds: bool, sorted: SortColumn, choice: ColumnChoice) -> Columns {
        use Column::*;
        let created = if width >= 110 { Created } else { CreatedShort };
        let id = if width >= 100 {
            RequestId
        } else {
            RequestIdShort
        };
        let mut columns = vec![created, Status];
        if all_kinds {
            columns.push(Kind);
        }
        columns.push(id);
        let mut used: u16 = columns.iter().map(|c| c.width_at(width) + 1).sum();
        // Why a request failed comes first, so it shows even at 60 columns; the other
        // optional columns join only while the reason keeps a readable width.
        let show_reason =
            choice.shows(OptionalColumn::Reason) && used + FailureReason.width() < width;
        let reason_room = if show_reason { REASON_WANTED + 1 } else { 0 };
        // The sorted column comes first and stays while the reason keeps its minimum: sorting
        // by a column nobody can see looks like no order at all (issue 19).
        let sorted = match sorted {
            SortColumn::Account => Some(Account),
            SortColumn::PermissionSet => Some(PermissionSet),
            SortColumn::Principal => Some(Principal),
            _ => None,
        };
        if let Some(column) = sorted {
            // The reason keeps a few cells; the detail pane and `w` have it whole.
            let room = if show_reason { 8 } else { 0 };
            if used + column.width_at(width) + 1 + room <= width {
                used += column.width_at(width) + 1;
                columns.push(column);
            }
        }
        let chosen = |column: Column| match column {
            Account => choice.shows(OptionalColumn::Account),
            PermissionSet => choice.shows(OptionalColumn::PermissionSet),
            Principal => choice.shows(OptionalColumn::Principal),
            _ => true,
        };
        for column in [Account, PermissionSet, Principal] {
            if Some(column) != sorted
                && chosen(column)
                && used + column.width_at(width) + 1 + reason_room <= width
            {
                used += column.width_at(width) + 1;
                columns.push(column);
            }
        }
        // Shown in the table's own order whatever was placed first.
        columns.sort_by_key(|c| c.order());
        if show_reason {
            // Last: it takes whatever room is left.
            columns.push(FailureReason);
        }
        Columns(columns, width)
    }

    /// The width of one shown column.
    fn width_of(&self, column: Column) -> usize {
        column.width_at(self.1) as usize
    }

    fn visible(&self) -> impl Iterator<Item = Column> + '_ {
        self.0.iter().copied()
    }

    /// Cells left for the failure reason (it fills what the fixed columns leave).
    fn reason_width(&self, width: u16) -> usize {
        let fixed: u16 = self
            .visible()
            .filter(|c| *c != Column::FailureReason)
            .map(|c| c.width_at(self.1) + 1)
            .sum();
        width.saturating_sub(fixed) as usize
    }

    fn constraints(&self) -> Vec<Constraint> {
        self.visible()
            .map(|c| match c {
                Column::FailureReason => Constraint::Fill(1),
                fixed => Constraint::Length(fixed.width_at(self.1)),
            })
            .collect()
    }
}

fn header_label(column: Column, state: &AppState) -> String {
    let (name, sort) = match column {
        Column::Created | Column::CreatedShort => {
            // Times are in the operator's zone; say which, headless output is UTC.
            let name = format!("Created {}", zone_label(state.data.tz));
            return with_sort_arrow(name, Some(SortColumn::Created), state);
        }
        Column::Status => ("Status", Some(SortColumn::Status)),
        Column::RequestId | Column::RequestIdShort => ("Request ID", Some(SortColumn::RequestId)),
        Column::Account => ("Account", Some(SortColumn::Account)),
        Column::PermissionSet => ("Permission set", Some(SortColumn::PermissionSet)),
        Column::Principal => ("Principal", Some(SortColumn::Principal)),
        Column::Kind => ("Kind", None),
        Column::FailureReason => ("Failure reason", None),
    };
    with_sort_arrow(name.to_string(), sort, state)
}

fn with_sort_arrow(name: String, sort: Option<SortColumn>, state: &AppState) -> String {
    if sort == Some(state.view.sort.column) {
        let arrow = if state.view.sort.descending {
            "▼"
        } else {
            "▲"
        };
        format!("{name} {arrow}")
    } else {
        name
    }
}

/// Builds rows for the visible window only.
fn rows_for<'a>(
    table: &'a KindTable,
    (offset, end): (usize, usize),
    columns: &Columns,
    reason_width: usize,
    state: &AppState,
    theme: &Theme,
) -> Vec<TableRow<'a>> {
    let selected = table.selected_pos();
    (offset..end)
        .filter_map(|pos| Some((pos, table.view_row(pos)?)))
        .map(|(pos, row)| {
            let is_selected = Some(pos) == selected;
            let wrap = state.view.wrap_selected && is_selected;
            table_row(row, columns, reason_width, wrap, is_selected, state, theme)
        })
        .collect()
}

fn table_row<'a>(
    row: &'a RequestRow,
    columns: &Columns,
    reason_width: usize,
    wrap: bool,
    selected: bool,
    state: &AppState,
    theme: &Theme,
) -> TableRow<'a> {
    // `w`: the selected row grows to show its whole reason, wrapped in the reason column.
    let wrapped = wrap
        .then(|| row.failure_reason())
        .flatten()
        .filter(|_| columns.visible().any(|c| c == Column::FailureReason))
        .map(|r| wrap_text(r, reason_width));
    let dash = || Cell::from(Span::styled("-", theme.secondary(selected)));
    // Cut by display width with an ellipsis, never silently at the column's edge.
    let fit = |column: Column, value: Option<&str>| {
        value.map_or_else(dash, |v| Cell::from(shorten(v, columns.width_of(column))))
    };
    let cells = columns.visible().map(|column| match column {
        Column::Created => Cell::from(Line::from(vec![
            Span::raw(format_local(row.created, state.data.tz)),
            age_span(row, state, theme),
        ])),
        Column::CreatedShort => Cell::from(Line::from(vec![
            Span::raw(
                row.created
                    .with_timezone(&state.data.tz)
                    .format("%m-%d %H:%M")
                    .to_string(),
            ),
            age_span(row, state, theme),
        ])),
        Column::Status => Cell::from(Span::styled(
            row.status.as_wire().to_string(),
            theme.status(&row.status),
        )),
        Column::RequestId => Cell::from(&*row.request_id),
        Column::RequestIdShort => Cell::from(shorten(&row.request_id, 9)),
        Column::Account => fit(Column::Account, row.account()),
        Column::PermissionSet => fit(
            Column::PermissionSet,
            row.permission_set().map(short_permission_set),
        ),
        Column::Principal => fit(Column::Principal, row.principal().as_deref()),
        Column::Kind => Cell::from(row.kind.short()),
        Column::FailureReason if wrapped.is_some() => Cell::from(Text::from(
            wrapped
                .iter()
                .flatten()
                .map(|l| Line::styled(l.clone(), theme.status(&row.status)))
                .collect::<Vec<_>>(),
        )),
        Column::FailureReason => row.failure_reason().map_or_else(dash, |r| {
            Cell::from(Span::styled(
                shorten(r, reason_width),
                theme.status(&row.status),
            ))
        }),
    });
    let height = wrapped.as_ref().map_or(1, |l| l.len().max(1) as u16);
    TableRow::new(cells.collect::<Vec<_>>()).height(height)
}

/// The age, with a warning mark when the request has been in flight longer than
/// `stuck_after`.
fn age_span<'a>(row: &RequestRow, state: &AppState, theme: &Theme) -> Span<'a> {
    let age = age(state.data.now, row.created);
    if state
        .data
        .progress
        .is_stuck(&row.status, row.created, state.data.now)
    {
        Span::styled(format!(" ⚠{age:>3}"), theme.warning())
    } else {
        Span::raw(format!(" {age:>4}"))
    }
}

fn title<'a>(state: &'a AppState, theme: &Theme) -> Line<'a> {
    let table = state.active_table();
    let mut spans = vec![Span::styled(
        format!(" {} ", state.view.active.label()),
        theme.title(),
    )];
    spans.push(Span::raw(format!(
        "{} of {} ",
        table.view_len(),
        table.len()
    )));
    if let Some(pos) = table.selected_pos() {
        spans.push(Span::styled(
            format!("row {}/{} ", pos + 1, table.view_len()),
            theme.key(),
        ));
    }
    if table.following() && table.view_len() > 0 {
        spans.push(Span::styled("⇡follow ", theme.dim()));
    }
    if state.view.status_filter != StatusFilter::All {
        spans.push(Span::styled(
            format!("[status: {}] ", state.view.status_filter.label()),
            theme.warning(),
        ));
    }
    if let Some(group) = &state.view.group_filter {
        spans.push(Span::styled(
            format!("[group: {}] ", shorten(&group.pattern, 48)),
            theme.warning(),
        ));
    }
    if !state.view.text_filter.is_empty() || state.view.mode.typing_filter() {
        spans.push(Span::styled(
            format!("[/{}] ", state.view.text_filter),
            theme.warning(),
        ));
        if table.not_described > 0 {
            spans.push(Span::styled(
                format!("{} not described yet ", table.not_described),
                theme.dim(),
            ));
        }
    }
    spans.push(Span::styled(
        format!(
            "[sort: {} {}] ",
            state.view.sort.column.label(),
            if state.view.sort.descending {
                "desc"
            } else {
                "asc"
            }
        ),
        theme.dim(),
    ));
    let load = tab_load(state);
    let troubles = tab_troubles(state);
    if let Some((kind, trouble)) = troubles.first() {
        // Said on the tab itself: "loading" would be a lie while the listing fails.
        spans.push(Span::styled(
            format!(
                "⚠ {} listing {}: {} ",
                kind.short(),
                if trouble.denied {
                    "denied"
                } else if trouble.gave_up {
                    "failed"
                } else {
                    "failing"
                },
                trouble.message
            ),
            theme.error(),
        ));
    } else if !load.done {
        spans.push(Span::styled(
            format!(
                "{} loading: {} pages, {} records ",
                SPINNER[state.view.spinner as usize % SPINNER.len()],
                load.pages,
                load.records
            ),
            theme.warning(),
        ));
    }
    Line::from(spans)
}

/// The first load of the tab's kinds, summed on the all-kinds tab.
fn tab_load(state: &AppState) -> LoadProgress {
    match state.view.active {
        Tab::Kind(kind) => state.table(kind).history_load,
        Tab::All => {
            let mut sum = LoadProgress {
                done: state.history_loaded(Tab::All),
                ..LoadProgress::default()
            };
            for kind in crate::model::OperationKind::ALL {
                let load = state.table(kind).history_load;
                sum.pages += load.pages;
                sum.records += load.records;
            }
            sum
        }
    }
}

/// The listings of the tab's kinds that fail now, with why.
fn tab_troubles(state: &AppState) -> Vec<(crate::model::OperationKind, &ListTrouble)> {
    let kinds: Vec<crate::model::OperationKind> = match state.view.active {
        Tab::Kind(kind) => vec![kind],
        Tab::All => crate::model::OperationKind::ALL.to_vec(),
    };
    kinds
        .into_iter()
        .filter_map(|kind| Some((kind, state.table(kind).trouble.as_ref()?)))
        .collect()
}

fn empty_message(state: &AppState) -> String {
    let table = state.active_table();
    let load = tab_load(state);
    let troubles = tab_troubles(state);
    if table.is_empty() && !troubles.is_empty() {
        // The tab says what is wrong and what to do, whole, instead of "Loading… 0 pages".
        return troubles
            .iter()
            .map(|(kind, t)| {
                let what = if t.denied {
                    "access was denied"
                } else if t.gave_up {
                    "the listing failed and was given up until its next turn"
                } else {
                    "the listing is failing and is being retried"
                };
                let again = if t.denied {
                    " ssowatch asks again every 5 minutes, so a fix is picked up without a restart."
                } else {
                    ""
                };
                format!(
                    "Cannot list {} requests: {what}. {}.{}{again}",
                    kind.short(),
                    t.message.trim_end_matches('.'),
                    t.hint
                        .as_deref()
                        .map(|h| format!(" What to do: {h}."))
                        .unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    if !load.done && table.is_empty() {
        format!(
            "Loading {} requests… {} pages, {} records so far",
            state.view.active.short(),
            load.pages,
            load.records
        )
    } else if table.is_empty() {
        "No requests of this kind.".to_string()
    } else {
        let key = |action| keymap::key_for(KeySet::Table, action).unwrap_or_default();
        format!(
            "No request matches the filter. Press {} for all statuses, {} to clear the text filter.",
            key(Action::AllStatuses),
            key(Action::Back)
        )
    }
}
