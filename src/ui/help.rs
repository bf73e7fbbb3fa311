//! The `?` overlay: every key, in one place.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::theme::Theme;

/// Every key the dashboard understands. The footer and README list the same keys.
pub const KEYS: &[(&str, &str)] = &[
    ("Tab / Shift-Tab", "next / previous kind"),
    ("1 2 3", "creation / deletion / provisioning"),
    ("j k ↓ ↑", "move down / up"),
    ("PgDn PgUp", "page down / up"),
    ("g G Home End", "first / last row"),
    ("mouse wheel", "scroll"),
    ("f", "FAILED only (toggle)"),
    ("i", "IN_PROGRESS only (toggle)"),
    ("a", "all statuses"),
    ("/", "text filter over every field (Enter keeps it)"),
    ("Esc", "close detail / help, clear the text filter"),
    ("Enter → l", "open the detail pane (describes the request)"),
    ("← h", "close the detail pane"),
    ("s / S", "cycle sort column / reverse sort"),
    ("r", "refresh now"),
    ("y", "copy the request id (OSC 52)"),
    ("?", "this help"),
    ("q Ctrl-C", "quit"),
];

pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme) {
    let height = (KEYS.len() as u16 + 4).min(area.height);
    let width = 64.min(area.width);
    let [vertical] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(vertical);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!(" {key:<16}"), theme.key()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(" any key closes this help", theme.dim()));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Line::styled(" Keys ", theme.title())),
        ),
        popup,
    );
}
