//! The failure groups (`F`): every FAILED request of every kind, grouped by normalised reason,
//! each group with its count, what it touches, when it was seen and what to do about it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Paragraph, Wrap};

use super::format::{duration_words, shorten, thousands};
use super::theme::Theme;
use crate::app::keymap::{self, Action, KeySet};
use crate::app::state::READ_ALL_RATES;
use crate::app::table::format_local;
use crate::app::{AppState, Mode};
use crate::failures::FailureGroup;
use crate::model::Status;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let Some(view) = state.view.mode.groups() else {
        return;
    };
    let read = view.failed - view.unread;
    let mut title = vec![
        Span::styled(" Failure groups ", theme.title()),
        Span::raw(format!(
            "{} FAILED · {} of {} read ",
            thousands(view.failed as u64),
            thousands(read as u64),
            thousands(view.failed as u64),
        )),
    ];
    if view.unread > 0 && view.sampled > 0 {
        title.push(Span::styled(
            format!(
                "· ≈ estimated from a random sample of {} (95% intervals) ",
                thousands(view.sampled as u64)
            ),
            theme.warning(),
        ));
    }
    if let Some(rate) = view.reading_all {
        title.push(Span::styled(
            format!(
                "· reading all at {rate} req/s: {} left, about {} ({}: default budget) ",
                thousands(view.unread as u64),
                duration_words(view.unread as f64 / rate),
                back_key(),
            ),
            theme.warning(),
        ));
    }
    if !state.failed_known(crate::app::Tab::All) {
        title.push(Span::styled("(FAILED still loading) ", theme.warning()));
    }
    // The keys go on the bottom border: after the counts and the estimate's note they were
    // cut at 80 columns.
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Line::from(title))
        .title_bottom(Line::styled(
            format!(" {} ", keymap::hint(KeySet::Groups, keymap::GROUPS_HINT)),
            theme.dim(),
        ));
    if view.groups.is_empty() {
        let message = if state.failed_known(crate::app::Tab::All) {
            "No FAILED request in any kind."
        } else {
            "No FAILED request seen yet; the FAILED listing is still loading."
        };
        frame.render_widget(
            Paragraph::new(Line::styled(message, theme.dim())).block(block),
            area,
        );
        return;
    }
    let width = area.width.saturating_sub(4) as usize;
    let items: Vec<ListItem> = view
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| ListItem::new(group_lines(g, width, i == view.selected, state, theme)))
        .collect();
    let list = List::new(items)
        .block(block)
        .highlight_style(theme.selected_row())
        .highlight_symbol("▶ ");
    let mut list_state = ListState::default().with_selected(Some(view.selected));
    frame.render_stateful_widget(list, area, &mut list_state);
    if matches!(state.view.mode.under_help(), Mode::ReadAllOffer(_)) {
        draw_offer(frame, area, state, view.unread, theme);
    }
}

/// The cost of reading every reason now, stated before a single call is spent: how long at
/// the budget in force, and at each rate the operator may pick.
/// The key that leaves the groups, and a reading of every reason with them.
fn back_key() -> String {
    keymap::key_for(KeySet::Groups, Action::Back).unwrap_or_default()
}

pub fn offer_lines(unread: usize, budget: f64) -> Vec<String> {
    let n = unread as f64;
    let mut lines = vec![
        format!(
            "{} describes, one per FAILED request whose reason is not read yet:",
            thousands(unread as u64)
        ),
        format!(
            "   at the budget now, {budget} req/s: {}",
            duration_words(n / budget.max(0.01))
        ),
    ];
    for (i, rate) in READ_ALL_RATES.iter().enumerate() {
        let note = if *rate >= 20.0 {
            " (the account's whole limit, shared with the pipelines)"
        } else {
            ""
        };
        lines.push(format!(
            "{}  at {rate} req/s: {}{note}",
            i + 1,
            duration_words(n / rate)
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "Throttling still slows it down. {} returns to the default budget.",
        back_key()
    ));
    lines
}

fn draw_offer(frame: &mut Frame, area: Rect, state: &AppState, unread: usize, theme: &Theme) {
    let lines = offer_lines(unread, state.data.spend.budget_rps);
    let width =
        (lines.iter().map(|l| l.chars().count()).max().unwrap_or(40) as u16 + 4).min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = super::format::centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Line::styled(" Read every reason now? ", theme.title()))
        .title_bottom(Line::styled(
            format!(
                " {} ",
                keymap::hint(KeySet::ReadAllOffer, keymap::OFFER_HINT)
            ),
            theme.dim(),
        ));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines.into_iter().map(Line::raw).collect::<Vec<_>>())
            .wrap(Wrap { trim: false })
            .block(block),
        popup,
    );
}

/// A group's count as a person and a script read it: `≈ 2,100` while it is an estimate from
/// the sample, `2,100` once exact, `≥ 3` while no sample stands behind it yet.
pub fn count_label(g: &FailureGroup, sampled: usize) -> String {
    let e = &g.estimate;
    if !e.estimated {
        thousands(g.count as u64)
    } else if sampled == 0 {
        format!("≥ {}", thousands(g.count as u64))
    } else {
        format!("≈ {}", thousands(e.count.round() as u64))
    }
}

/// The share of all FAILED: `(70% ± 9%)` while estimated, `(70%)` once exact.
fn share_label(g: &FailureGroup, sampled: usize) -> String {
    let e = &g.estimate;
    let share = (e.share * 100.0).round() as u32;
    if e.estimated && sampled > 0 {
        format!("({share}% ± {}%)", e.plus_minus_percent())
    } else if e.estimated {
        String::new()
    } else {
        format!("({share}%)")
    }
}

/// Three lines per group: count and cause with its share and what it touches; the normalised
/// reason; the hint.
fn group_lines<'a>(
    g: &FailureGroup,
    width: usize,
    selected: bool,
    state: &AppState,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let kinds: Vec<&str> = g.kinds.iter().map(|k| k.short()).collect();
    let time = |t| format_local(t, state.data.tz);
    let sampled = state.view.mode.groups().map_or(0, |v| v.sampled);
    let summary = format!(
        " {}{} · {} · {} account{} · {} permission set{} · {} … {}",
        if g.is_pending() {
            "reason_pending"
        } else {
            g.cause.label()
        },
        match share_label(g, sampled) {
            share if share.is_empty() => share,
            share => format!(" {share}"),
        },
        kinds.join(", "),
        g.accounts.len(),
        if g.accounts.len() == 1 { "" } else { "s" },
        g.permission_sets.len(),
        if g.permission_sets.len() == 1 {
            ""
        } else {
            "s"
        },
        time(g.first_seen),
        time(g.last_seen),
    );
    let count = format!("{:>8}", count_label(g, sampled));
    let rest = width.saturating_sub(count.len());
    vec![
        Line::from(vec![
            Span::styled(count, theme.status(&Status::Failed)),
            Span::styled(shorten(&summary, rest), theme.key()),
        ]),
        Line::raw(format!(
            "       {}",
            shorten(&g.pattern, width.saturating_sub(7))
        )),
        Line::styled(
            format!(
                "       hint: {}",
                shorten(
                    if g.is_pending() {
                        g.hint
                    } else {
                        g.cause.hint_for(&state.data.connection.provider.name)
                    },
                    width.saturating_sub(13)
                )
            ),
            theme.secondary(selected),
        ),
    ]
}
