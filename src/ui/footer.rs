//! The status line (errors, the filter being typed, short messages) and the key bar.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::format::{age, thousands};
use super::theme::Theme;
use crate::app::AppState;
use crate::app::columns::OptionalColumn;
use crate::app::keymap;

pub fn draw_status_line(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let line = if state.view.mode.typing_filter() {
        let mut spans = vec![
            Span::styled(" filter: /", theme.key()),
            Span::raw(state.view.text_filter.clone()),
            Span::styled("▏ ", theme.key()),
        ];
        // What Enter and Esc do is the footer's: the filter's key table.
        spans.extend(filter_counts(state, theme));
        Line::from(spans)
    } else if state.view.mode.choosing_columns() {
        let mut spans = vec![Span::styled(" columns: ", theme.key())];
        for (i, column) in OptionalColumn::ALL.into_iter().enumerate() {
            spans.push(Span::styled(format!("{} ", i + 1), theme.key()));
            spans.push(Span::raw(format!(
                "{} {}  ",
                column.label(),
                if state.view.columns.shows(column) {
                    "✓"
                } else {
                    "·"
                }
            )));
        }
        // The keys are the footer's: the chooser's key table.
        Line::from(spans)
    } else if let Some(error) = &state.data.last_error {
        // What to do comes first: a narrow terminal cuts the end of the line, and the hint
        // (`run: aws sso login --profile prod`) is what the operator needs.
        let mut spans = vec![
            Span::styled(" error ", theme.error()),
            Span::styled(
                format!("{} ago: ", age(state.data.now, error.at)),
                theme.dim(),
            ),
        ];
        if let Some(hint) = &error.hint {
            spans.push(Span::styled(format!("{hint} — "), theme.key()));
        }
        spans.push(Span::raw(error.message.clone()));
        spans.push(Span::styled("  (showing last good data)", theme.dim()));
        Line::from(spans)
    } else if let Some((_, message)) = &state.view.flash {
        Line::styled(format!(" {message}"), theme.key())
    } else if let Some(notice) = &state.data.notice {
        Line::from(vec![
            Span::styled(" note ", theme.warning()),
            Span::raw(notice.clone()),
        ])
    } else {
        Line::raw("")
    };
    // An error wraps onto the rows the layout gave it rather than losing its end.
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
}

/// The key bar: the footer entries of the open view's keys (`keymap::footer_entries`) that fit
/// the width, the last two (`? help` and `q quit` where the view has them) always among them so
/// a narrow terminal still says where the rest is.
pub fn draw_footer(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let keys: Vec<(String, &str)> = keymap::footer_entries(state.key_set());
    let cost = |(key, what): &(String, &str)| key.chars().count() + what.chars().count() + 3;
    let always = keys.len().saturating_sub(2);
    let mut budget = (area.width as usize).saturating_sub(keys[always..].iter().map(cost).sum());
    let mut spans = Vec::with_capacity(keys.len() * 2);
    for (i, entry) in keys.iter().enumerate() {
        if i < always {
            if cost(entry) > budget {
                continue;
            }
            budget -= cost(entry);
        }
        spans.push(Span::styled(format!(" {}", entry.0), theme.key()));
        spans.push(Span::styled(format!(" {} ", entry.1), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `32 match · 1,180 not described yet`, or why the filter cannot be read.
pub fn filter_counts<'a>(state: &AppState, theme: &Theme) -> Vec<Span<'a>> {
    if let Some(error) = &state.view.filter_error {
        return vec![Span::styled(error.clone(), theme.error())];
    }
    let table = state.active_table();
    let mut spans = vec![Span::styled(
        format!("{} match", thousands(table.view_len() as u64)),
        theme.key(),
    )];
    if table.not_described > 0 {
        spans.push(Span::styled(
            format!(
                " · {} not described yet",
                thousands(table.not_described as u64)
            ),
            theme.warning(),
        ));
    }
    spans
}
