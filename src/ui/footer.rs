//! The status line (errors, the filter being typed, short messages) and the key bar.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::age;
use super::theme::Theme;
use crate::app::AppState;
use crate::app::state::InputMode;

pub fn draw_status_line(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let line = if state.input_mode == InputMode::EditingFilter {
        Line::from(vec![
            Span::styled(" filter: /", theme.key()),
            Span::raw(state.text_filter.clone()),
            Span::styled("▏", theme.key()),
            Span::styled("  Enter keeps it, Esc clears it", theme.dim()),
        ])
    } else if let Some(error) = &state.last_error {
        Line::from(vec![
            Span::styled(" error ", theme.error()),
            Span::styled(format!("{} ago: ", age(state.now, error.at)), theme.dim()),
            Span::raw(error.message.clone()),
            Span::styled("  (showing last good data)", theme.dim()),
        ])
    } else if let Some((_, message)) = &state.flash {
        Line::styled(format!(" {message}"), theme.key())
    } else {
        Line::raw("")
    };
    frame.render_widget(Paragraph::new(line), area);
}

pub fn draw_footer(frame: &mut Frame, area: Rect, theme: &Theme) {
    let keys = [
        ("Tab", "kind"),
        ("j/k", "move"),
        ("f", "failed"),
        ("i", "in progress"),
        ("a", "all"),
        ("/", "filter"),
        ("Enter", "detail"),
        ("s", "sort"),
        ("r", "refresh"),
        ("y", "copy id"),
        ("?", "help"),
        ("q", "quit"),
    ];
    let mut spans = Vec::with_capacity(keys.len() * 2);
    for (key, what) in keys {
        spans.push(Span::styled(format!(" {key}"), theme.key()));
        spans.push(Span::styled(format!(" {what} "), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
