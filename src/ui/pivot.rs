//! The pivot (`p`): the current tab's requests counted by account, permission set or
//! principal, with the failed share as a bar.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};

use super::format::{age, shorten, thousands};
use super::theme::Theme;
use crate::app::AppState;
use crate::app::keymap::{self, KeySet};
use crate::app::pivot::{PivotRow, PivotSort};
use crate::model::Status;

/// Cells of the failed-share bar (fewer on a narrow terminal).
const BAR: usize = 10;
const BAR_NARROW: usize = 5;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let Some(view) = state.view.mode.pivot() else {
        return;
    };
    let mut title = vec![
        Span::styled(
            format!(
                " {} by {} ",
                state.view.active.label(),
                view.dimension.label()
            ),
            theme.title(),
        ),
        Span::raw(format!(
            "{} values · {} requests ",
            thousands(view.rows.len() as u64),
            thousands(view.counted as u64)
        )),
    ];
    if view.not_described > 0 {
        title.push(Span::styled(
            format!(
                "· {} not described yet ",
                thousands(view.not_described as u64)
            ),
            theme.warning(),
        ));
    }
    // The keys go on the bottom border: after the counts they were cut at 80 columns.
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Line::from(title))
        .title_bottom(Line::styled(
            format!(" {} ", keymap::hint(KeySet::Pivot, keymap::PIVOT_HINT)),
            theme.dim(),
        ));
    if view.rows.is_empty() {
        let message = if view.counted == 0 {
            "No request in this view."
        } else {
            "No request described yet: the names arrive as rows are described."
        };
        frame.render_widget(
            Paragraph::new(Line::styled(message, theme.dim())).block(block),
            area,
        );
        return;
    }
    let inner = area.width.saturating_sub(2);
    let bar = if inner >= 100 { BAR } else { BAR_NARROW };
    // Total, Flight, OK, Failed, the share (bar and percent), Newest, and the spacing.
    let numbers: u16 = 7 + 8 + 6 + 8 + (bar as u16 + 5) + 8 + 6;
    let key_width = inner.saturating_sub(numbers).clamp(12, 48);
    let arrow = if view.descending { "▼" } else { "▲" };
    let head = |label: &str, column: PivotSort| {
        if view.sort == column {
            format!("{label} {arrow}")
        } else {
            label.to_string()
        }
    };
    let header = Row::new(vec![
        Cell::from(head(view.dimension.label(), PivotSort::Key)),
        Cell::from(head("Total", PivotSort::Total)),
        Cell::from(head("Flight", PivotSort::InFlight)),
        Cell::from(head("OK", PivotSort::Succeeded)),
        Cell::from(head("Failed", PivotSort::Failed)),
        Cell::from(head(
            if bar == BAR {
                "Failed share"
            } else {
                "Failed %"
            },
            PivotSort::FailedShare,
        )),
        Cell::from(head("Newest", PivotSort::Newest)),
    ])
    .style(theme.title());
    let visible = area.height.saturating_sub(3) as usize;
    let offset = view.selected.saturating_sub(visible.saturating_sub(1));
    let rows: Vec<Row> = view
        .rows
        .iter()
        .skip(offset)
        .take(visible)
        .map(|r| pivot_row(r, key_width as usize, bar, state, theme))
        .collect();
    let widths = [
        Constraint::Length(key_width),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(bar as u16 + 5),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .row_highlight_style(theme.selected_row())
        .column_spacing(1);
    let mut table_state = TableState::default().with_selected(Some(view.selected - offset));
    frame.render_stateful_widget(table, area, &mut table_state);
}

fn pivot_row<'a>(
    row: &PivotRow,
    key_width: usize,
    cells: usize,
    state: &AppState,
    theme: &Theme,
) -> Row<'a> {
    let share = row.failed_share();
    let filled = (share * cells as f64).ceil() as usize;
    let filled = if row.failed == 0 {
        0
    } else {
        filled.clamp(1, cells)
    };
    let bar = Line::from(vec![
        Span::styled("█".repeat(filled), theme.status(&Status::Failed)),
        Span::styled("·".repeat(cells - filled), theme.dim()),
        Span::raw(format!(" {:>3.0}%", share * 100.0)),
    ]);
    Row::new(vec![
        Cell::from(shorten(&row.key, key_width)),
        Cell::from(format!("{:>5}", thousands(row.total as u64))),
        Cell::from(format!("{:>6}", thousands(row.in_flight as u64))),
        Cell::from(format!("{:>5}", thousands(row.succeeded as u64))),
        Cell::from(Span::styled(
            format!("{:>6}", thousands(row.failed as u64)),
            if row.failed > 0 {
                theme.status(&Status::Failed)
            } else {
                theme.dim()
            },
        )),
        Cell::from(bar),
        Cell::from(format!("{:>4} ago", age(state.data.now, row.newest))),
    ])
}
