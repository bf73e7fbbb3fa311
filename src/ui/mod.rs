//! Rendering: `draw` reads the app state and changes nothing.

pub mod detail;
pub mod footer;
pub mod format;
pub mod groups;
pub mod header;
pub mod help;
pub mod pivot;
pub mod table;
pub mod theme;

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

pub use theme::Theme;

use crate::app::layout;
use crate::app::{AppState, Mode};

/// Draws one frame.
pub fn draw(frame: &mut Frame, state: &AppState, theme: &Theme) {
    let area = frame.area();
    if layout::too_small(area.width, area.height) {
        let message = format!(
            "Terminal too small ({}x{}). ssowatch needs at least {}x{}: enlarge the window, or press q to quit.",
            area.width,
            area.height,
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT
        );
        frame.render_widget(
            Paragraph::new(Line::styled(message, theme.warning())).wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let mode = &state.view.mode;
    let areas = layout::areas(area, mode.pane_open(), state.status_rows());
    header::draw(frame, areas.header, state, theme);
    table::draw_tabs(frame, areas.tabs, state, theme);
    if mode.groups().is_some() {
        // The groups take the whole body: table and detail pane alike.
        groups::draw(
            frame,
            layout::areas(area, false, state.status_rows()).table,
            state,
            theme,
        );
    } else if mode.pivot().is_some() {
        pivot::draw(
            frame,
            layout::areas(area, false, state.status_rows()).table,
            state,
            theme,
        );
    } else {
        table::draw_table(frame, areas.table, state, theme);
        if let Some(detail_area) = areas.detail {
            detail::draw(frame, detail_area, state, theme);
        }
    }
    footer::draw_status_line(frame, areas.status_line, state, theme);
    footer::draw_footer(frame, areas.footer, state, theme);
    if let Mode::Help(over) = mode {
        help::draw(frame, area, over.key_set(), theme);
    }
}
