//! The tabs and the request table. Rows are built for the visible window only: with 100,000
//! records a frame costs the same as with 100.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TableRow, Table, TableState};

use super::format::{age, shorten};
use super::theme::Theme;
use crate::app::AppState;
use crate::app::InputMode;
use crate::app::table::{KindTable, RequestRow, SortColumn, StatusFilter, format_local};
use crate::model::OperationKind;
use crate::model::short_permission_set;

const SPINNER: [&str; 4] = ["⠋", "⠙", "⠸", "⠴"];

pub fn draw_tabs(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let mut spans = Vec::new();
    for (i, kind) in OperationKind::ALL.into_iter().enumerate() {
        let table = state.table(kind);
        let label = format!(" {} {} ({}) ", i + 1, kind.label(), table.len());
        let style = if kind == state.active {
            theme.active_tab()
        } else {
            theme.dim()
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
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
        frame.render_widget(
            Paragraph::new(Line::styled(message, theme.dim())).block(block),
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
    let columns = Columns::for_width(area.width.saturating_sub(2));
    let header = TableRow::new(
        columns
            .visible()
            .map(|column| Cell::from(header_label(column, state))),
    )
    .style(theme.title());
    let rows: Vec<TableRow> = rows_for(table, offset, end, &columns, state, theme);
    let widget = Table::new(rows, columns.constraints())
        .header(header)
        .block(block)
        .row_highlight_style(theme.selected_row())
        .column_spacing(1);
    let mut table_state = TableState::default().with_selected(Some(selected - offset));
    frame.render_stateful_widget(widget, area, &mut table_state);
}

/// The table's columns. Which ones are shown depends on the width: the request id and status
/// always, the rest as room allows, so a narrow terminal or an open detail pane never squeezes
/// the id into something that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Created,
    CreatedShort,
    Status,
    RequestId,
    Account,
    PermissionSet,
    Principal,
    FailureReason,
}

impl Column {
    /// Width in cells (the failure reason's is its minimum; it fills the rest).
    fn width(self) -> u16 {
        match self {
            Column::Created => 26,
            Column::CreatedShort => 16,
            Column::Status => 11,
            Column::RequestId => 36,
            Column::Account => 12,
            Column::PermissionSet => 22,
            Column::Principal => 24,
            Column::FailureReason => 40,
        }
    }
}

struct Columns(Vec<Column>);

impl Columns {
    fn for_width(width: u16) -> Columns {
        use Column::*;
        let created = if width >= 110 { Created } else { CreatedShort };
        let mut columns = vec![created, Status, RequestId];
        let mut used: u16 = columns.iter().map(|c| c.width() + 1).sum();
        // Optional columns by how much they help, each only if it fits whole.
        for column in [Account, FailureReason, PermissionSet, Principal] {
            if used + column.width() < width {
                used += column.width() + 1;
                columns.push(column);
            }
        }
        // The failure reason, when shown, goes last: it takes whatever room is left.
        columns.sort_by_key(|c| *c == FailureReason);
        Columns(columns)
    }

    fn visible(&self) -> impl Iterator<Item = Column> + '_ {
        self.0.iter().copied()
    }

    fn constraints(&self) -> Vec<Constraint> {
        self.visible()
            .map(|c| match c {
                Column::FailureReason => Constraint::Fill(1),
                fixed => Constraint::Length(fixed.width()),
            })
            .collect()
    }
}

fn header_label(column: Column, state: &AppState) -> String {
    let (name, sort) = match column {
        Column::Created | Column::CreatedShort => ("Created", Some(SortColumn::Created)),
        Column::Status => ("Status", Some(SortColumn::Status)),
        Column::RequestId => ("Request ID", Some(SortColumn::RequestId)),
        Column::Account => ("Account", Some(SortColumn::Account)),
        Column::PermissionSet => ("Permission set", Some(SortColumn::PermissionSet)),
        Column::Principal => ("Principal", None),
        Column::FailureReason => ("Failure reason", None),
    };
    if sort == Some(state.sort.column) {
        let arrow = if state.sort.descending { "▼" } else { "▲" };
        format!("{name} {arrow}")
    } else {
        name.to_string()
    }
}

/// Builds rows for the visible window only.
fn rows_for<'a>(
    table: &'a KindTable,
    offset: usize,
    end: usize,
    columns: &Columns,
    state: &AppState,
    theme: &Theme,
) -> Vec<TableRow<'a>> {
    (offset..end)
        .filter_map(|pos| table.view_row(pos))
        .map(|row| table_row(row, columns, state, theme))
        .collect()
}

fn table_row<'a>(
    row: &'a RequestRow,
    columns: &Columns,
    state: &AppState,
    theme: &Theme,
) -> TableRow<'a> {
    let dash = || Cell::from(Span::styled("-", theme.dim()));
    let opt = |value: Option<&str>| value.map_or_else(dash, |v| Cell::from(v.to_string()));
    let cells = columns.visible().map(|column| match column {
        Column::Created => Cell::from(format!(
            "{} {:>4}",
            format_local(row.created, state.tz),
            age(state.now, row.created)
        )),
        Column::CreatedShort => Cell::from(format!(
            "{} {:>4}",
            row.created.with_timezone(&state.tz).format("%m-%d %H:%M"),
            age(state.now, row.created)
        )),
        Column::Status => Cell::from(Span::styled(
            row.status.as_wire().to_string(),
            theme.status(&row.status),
        )),
        Column::RequestId => Cell::from(&*row.request_id),
        Column::Account => opt(row.account()),
        Column::PermissionSet => opt(row.permission_set().map(short_permission_set)),
        Column::Principal => row.principal().map_or_else(dash, Cell::from),
        Column::FailureReason => row.failure_reason().map_or_else(dash, |r| {
            Cell::from(Span::styled(shorten(r, 200), theme.status(&row.status)))
        }),
    });
    TableRow::new(cells.collect::<Vec<_>>())
}

fn title<'a>(state: &'a AppState, theme: &Theme) -> Line<'a> {
    let table = state.active_table();
    let mut spans = vec![Span::styled(
        format!(" {} ", state.active.label()),
        theme.title(),
    )];
    spans.push(Span::raw(format!(
        "{} of {} ",
        table.view_len(),
        table.len()
    )));
    if state.status_filter != StatusFilter::All {
        spans.push(Span::styled(
            format!("[status: {}] ", state.status_filter.label()),
            theme.warning(),
        ));
    }
    if !state.text_filter.is_empty() || state.input_mode == InputMode::EditingFilter {
        spans.push(Span::styled(
            format!("[/{}] ", state.text_filter),
            theme.warning(),
        ));
    }
    spans.push(Span::styled(
        format!(
            "[sort: {} {}] ",
            state.sort.column.label(),
            if state.sort.descending { "desc" } else { "asc" }
        ),
        theme.dim(),
    ));
    if !table.history_load.done {
        spans.push(Span::styled(
            format!(
                "{} loading: {} pages, {} records ",
                SPINNER[state.spinner as usize % SPINNER.len()],
                table.history_load.pages,
                table.history_load.records
            ),
            theme.warning(),
        ));
    }
    Line::from(spans)
}

fn empty_message(state: &AppState) -> String {
    let table = state.active_table();
    if !table.history_load.done && table.is_empty() {
        format!(
            "Loading {} requests… {} pages, {} records so far",
            state.active.short(),
            table.history_load.pages,
            table.history_load.records
        )
    } else if table.is_empty() {
        "No requests of this kind.".to_string()
    } else {
        "No request matches the filter. Press a for all statuses, Esc to clear the text filter."
            .to_string()
    }
}
