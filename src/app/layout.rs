//! Screen geometry, shared by the renderer and by the update function (which needs to know how
//! many rows a page is) so the two can never disagree.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

/// Below this the dashboard shows a "terminal too small" message instead of a broken layout.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;
/// From this width the detail pane sits beside the table; below it, underneath.
pub const SIDE_BY_SIDE_WIDTH: u16 = 140;

const HEADER_ROWS: u16 = 4;

/// The areas of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub tabs: Rect,
    pub table: Rect,
    pub detail: Option<Rect>,
    pub status_line: Rect,
    pub footer: Rect,
}

pub fn too_small(width: u16, height: u16) -> bool {
    width < MIN_WIDTH || height < MIN_HEIGHT
}

/// `status_rows` is how many rows the status line needs (an error with its hint wraps rather
/// than being cut: see [`crate::app::AppState::status_rows`]).
pub fn areas(area: Rect, detail_open: bool, status_rows: u16) -> Areas {
    let [header, tabs, body, status_line, footer] = Layout::vertical([
        Constraint::Length(HEADER_ROWS),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(status_rows.max(1)),
        Constraint::Length(1),
    ])
    .areas(area);
    let (table, detail) = if detail_open {
        let direction = if area.width >= SIDE_BY_SIDE_WIDTH {
            Direction::Horizontal
        } else {
            Direction::Vertical
        };
        let [table, detail] = Layout::default()
            .direction(direction)
            .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(body);
        (table, Some(detail))
    } else {
        (body, None)
    };
    Areas {
        header,
        tabs,
        table,
        detail,
        status_line,
        footer,
    }
}

/// How many data rows the table shows: its area less the border and the column header.
pub fn table_body_rows((width, height): (u16, u16), detail_open: bool, status_rows: u16) -> u16 {
    if too_small(width, height) {
        return 1;
    }
    let a = areas(Rect::new(0, 0, width, height), detail_open, status_rows);
    a.table.height.saturating_sub(3).max(1)
}
