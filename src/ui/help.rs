//! The `?` overlay: every key of the key table (`app::keymap`), in one place.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::theme::Theme;
use crate::app::keymap::{self, KeySet, MOUSE_HELP};

/// The keys of the view under the help (`keys`: its key table): the table's, the failure
/// groups' (`F`) or the pivot's.
pub fn draw(frame: &mut Frame, area: Rect, keys: KeySet, theme: &Theme) {
    // The mouse and the filter's syntax only where they act: the table's wheel and click, the
    // groups' and pivot's wheel; the syntax where `/` opens the filter or it is being typed.
    let mouse = match keys {
        KeySet::Table => Some(MOUSE_HELP.1),
        KeySet::Groups | KeySet::Pivot => Some("the wheel moves the selection"),
        _ => None,
    };
    let syntax: &[(&str, &str)] = match keys {
        KeySet::Table | KeySet::Filter => crate::app::filter::SYNTAX_HELP,
        _ => &[],
    };
    let entries: Vec<(String, &str)> = keymap::help_entries(keys)
        .into_iter()
        .chain(mouse.map(|what| (MOUSE_HELP.0.to_string(), what)))
        .chain(syntax.iter().map(|(k, what)| (k.to_string(), *what)))
        .collect();
    // One column when it fits the height, two side by side when it does not, so every key
    // stays readable on a 24-row terminal.
    let columns: u16 = if entries.len() as u16 + 2 <= area.height {
        1
    } else {
        2
    };
    let per_column = entries.len().div_ceil(columns as usize);
    let height = (per_column as u16 + 2).min(area.height);
    let width = (78 * columns).min(area.width);
    let popup = super::format::centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(keymap::table(keys).title, theme.title()))
        .title_bottom(Line::styled(" any key closes this help ", theme.dim()));
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    let column_areas = Layout::horizontal(vec![Constraint::Fill(1); columns as usize]).split(inner);
    for (chunk, column_area) in entries.chunks(per_column.max(1)).zip(column_areas.iter()) {
        let lines: Vec<Line> = chunk
            .iter()
            .map(|(key, what)| {
                Line::from(vec![
                    Span::styled(format!(" {key:<13}"), theme.key()),
                    Span::raw(*what),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), *column_area);
    }
}
