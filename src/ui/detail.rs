//! The detail pane: every field of the describe answer, the failure reason in full, and where
//! the data came from.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::format::age;
use super::theme::Theme;
use crate::app::AppState;
use crate::app::keymap::{self, KeySet};
use crate::app::table::format_local;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Line::styled(
            format!(
                " Detail ({}) ",
                keymap::hint(KeySet::Table, keymap::DETAIL_HINT)
            ),
            theme.title(),
        ));
    let Some(row) = state.active_table().selected() else {
        frame.render_widget(
            Paragraph::new(Line::styled("Nothing selected.", theme.dim())).block(block),
            area,
        );
        return;
    };

    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<16}"), theme.dim()),
            Span::raw(value),
        ])
    };
    let mut lines = vec![
        field("Kind", row.kind.label().to_string()),
        field("Request ID", row.request_id.to_string()),
        Line::from(vec![
            Span::styled(format!("{:<16}", "Status"), theme.dim()),
            Span::styled(row.status.as_wire().to_string(), theme.status(&row.status)),
        ]),
    ];
    // The failure reason comes right after the status: it is what the operator opened the
    // pane for, and it must not be pushed below the fold by the other fields.
    if let Some(reason) = row.failure_reason() {
        lines.push(Line::styled("Failure reason", theme.error()));
        lines.push(Line::raw(reason.to_string()));
        lines.push(Line::raw(""));
    }
    lines.extend([field(
        "Created",
        format!(
            "{} ({} ago; {} UTC)",
            format_local(row.created, state.data.tz),
            age(state.data.now, row.created),
            row.created.format("%Y-%m-%dT%H:%M:%S%.3fZ")
        ),
    )]);

    let key = (row.kind, row.request_id.clone());
    let describe_error = state.data.describe_errors.get(&key);
    match &row.answer {
        Some(answer) => {
            let d = &answer.detail;
            let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
            // Names when the poller has them, ids always: the id is what the CLI takes.
            let account = match (&d.target_account, &d.account_name) {
                (Some(id), Some(name)) => format!("{name} ({id})"),
                (id, _) => or_dash(id),
            };
            lines.push(field("Target account", account));
            if d.target_type.is_some() {
                lines.push(field("Target type", or_dash(&d.target_type)));
            }
            lines.push(field("Permission set", or_dash(&d.permission_set)));
            if d.permission_set_name.is_some() {
                lines.push(field("  name", or_dash(&d.permission_set_name)));
            }
            if d.principal_type.is_some() || d.principal_id.is_some() {
                let principal = match (&d.principal_type, &d.principal_name) {
                    (Some(kind), Some(name)) => format!("{kind} {name}"),
                    (kind, _) => or_dash(kind),
                };
                lines.push(field("Principal", principal));
                lines.push(field("Principal id", or_dash(&d.principal_id)));
            }
            if d.failure_reason.is_none() {
                lines.push(Line::styled("No failure reason.", theme.dim()));
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!(
                    "From {} at {} ({} ago){}",
                    answer.source_call,
                    format_local(answer.described_at, state.data.tz),
                    age(state.data.now, answer.described_at),
                    if answer.status != row.status {
                        "; status has changed since, describing again"
                    } else {
                        ""
                    }
                ),
                theme.dim(),
            ));
        }
        // The poller asks once and says when it gave up: no answer and no error is on its way.
        None if describe_error.is_none() => {
            lines.push(Line::raw(""));
            lines.push(Line::styled("Describing…", theme.warning()));
        }
        None => {}
    }
    if let Some(error) = describe_error {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("Describe failed: {error} (Enter asks again)"),
            theme.error(),
        ));
    }

    // J/K scroll a long reason; never past the last line.
    let scroll = state
        .view
        .detail_scroll
        .min(lines.len().saturating_sub(1) as u16);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}
