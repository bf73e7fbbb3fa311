//! The header: where we are connected, how fresh the data is, what we spend, and counts.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::age;
use super::theme::Theme;
use crate::app::AppState;
use crate::app::Tab;
use crate::app::progress::sparkline;
use crate::app::table::zone_label;
use crate::model::OperationKind;
use crate::model::Status;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let lines = vec![
        connection_line(state, theme),
        freshness_line(state, theme),
        progress_line(state, theme),
        counts_line(state, theme, area.width),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

fn connection_line<'a>(state: &'a AppState, theme: &Theme) -> Line<'a> {
    let info = &state.data.connection.provider;
    let mut spans = vec![Span::styled(" ssowatch ", theme.title())];
    spans.push(Span::raw(" provider "));
    spans.push(Span::styled(info.name.clone(), theme.key()));
    if state.data.connection.demo {
        spans.push(Span::styled(" (demo)", theme.warning()));
    }
    if let Some(hub) = &state.data.connection.hub {
        spans.push(Span::raw("  hub "));
        // The runtime appends a mark while the hub is unreachable.
        let style = if hub.ends_with(')') {
            theme.error()
        } else {
            theme.key()
        };
        spans.push(Span::styled(hub.clone(), style));
    }
    if let Some(profile) = &info.profile {
        spans.push(Span::raw("  profile "));
        spans.push(Span::styled(profile.clone(), theme.key()));
    }
    if let Some(region) = &info.region {
        spans.push(Span::raw("  region "));
        spans.push(Span::styled(region.clone(), theme.key()));
    } else if let Some(endpoint) = &info.endpoint {
        // Huawei Cloud has one global endpoint: where we talk to is the useful part.
        spans.push(Span::raw("  endpoint "));
        spans.push(Span::styled(endpoint.clone(), theme.key()));
    }
    if let Some(instance) = &state.data.connection.instance {
        spans.push(Span::raw("  instance "));
        spans.push(Span::styled(instance.id.clone(), theme.key()));
        if let Some(name) = &instance.name {
            spans.push(Span::raw(format!(" ({name})")));
        }
    }
    Line::from(spans)
}

fn freshness_line<'a>(state: &'a AppState, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::raw(" last poll ")];
    match state.data.last_success {
        Some(at) => {
            let text = format!(
                "{} {} ({} ago)",
                at.with_timezone(&state.data.tz).format("%H:%M:%S"),
                zone_label(state.data.tz),
                age(state.data.now, at)
            );
            let style = if state.is_stale() {
                theme.warning()
            } else {
                theme.key()
            };
            spans.push(Span::styled(text, style));
        }
        None => spans.push(Span::styled("never", theme.dim())),
    }
    // Warnings first: on a narrow terminal the end of this line is what gets cut.
    if state.is_stale() {
        spans.push(Span::styled("  STALE", theme.error()));
    }
    if state.recently_throttled() {
        spans.push(Span::styled("  THROTTLED", theme.error()));
    } else if state.data.last_error.is_some() {
        spans.push(Span::styled("  CALLS FAILING", theme.error()));
    }
    let spend = &state.data.spend;
    if let Some(until) = spend.backoff_until.filter(|&until| until > state.data.now) {
        let secs = (until - state.data.now).num_milliseconds() as f64 / 1000.0;
        spans.push(Span::styled(
            format!("  backing off {:.0}s", secs.ceil()),
            theme.warning(),
        ));
    }
    spans.push(Span::styled("  │", theme.dim()));
    spans.push(Span::raw(format!(
        " every {}s, api {:.2}/{:.1} req/s",
        state.data.refresh_interval.as_secs(),
        spend.rps,
        spend.budget_rps,
    )));
    // The adaptive limiter cut its rate after throttling: say so, it explains a slow load.
    if spend.effective_rps > 0.0 && spend.effective_rps < spend.budget_rps - 0.005 {
        spans.push(Span::styled(
            format!(" (now {:.2})", spend.effective_rps),
            theme.warning(),
        ));
    }
    spans.push(Span::raw(format!(", {} calls", spend.total_calls)));
    if spend.throttled_calls > 0 {
        spans.push(Span::raw(format!(", {} throttled", spend.throttled_calls)));
    }
    if spend.failed_calls > 0 {
        spans.push(Span::raw(format!(", {} failed", spend.failed_calls)));
    }
    Line::from(spans)
}

/// This rollout: counts since a moment, new failures, completions per minute and an ETA.
/// What matters most comes first, so a narrow terminal cuts the least useful part.
fn progress_line<'a>(state: &'a AppState, theme: &Theme) -> Line<'a> {
    let p = &state.data.progress;
    let c = &p.counts;
    let mut spans = vec![Span::raw(" ")];
    // A new failure is the news: first, so no width cuts it off.
    if p.unseen_failed > 0 {
        spans.push(Span::styled(
            format!(" {} new FAILED ", p.unseen_failed),
            theme.error(),
        ));
        spans.push(Span::raw(" "));
    }
    let since = if p.since_start {
        format!(
            "since start {}",
            p.since.with_timezone(&state.data.tz).format("%H:%M")
        )
    } else {
        let local = p.since.with_timezone(&state.data.tz);
        if local.date_naive() == state.data.now.with_timezone(&state.data.tz).date_naive() {
            format!("since {}", local.format("%H:%M"))
        } else {
            format!("since {}", local.format("%m-%d %H:%M"))
        }
    };
    // What is running now first: it is not a count since the moment.
    spans.push(Span::styled(
        format!("{} in flight", c.in_flight),
        theme.status(&Status::InProgress),
    ));
    if c.stuck > 0 {
        spans.push(Span::styled(
            format!(" ⚠{} stuck", c.stuck),
            theme.warning(),
        ));
    }
    spans.push(Span::raw(" · "));
    spans.push(Span::styled(since, theme.title()));
    spans.push(Span::raw(format!(": {} started · ", c.started)));
    spans.push(Span::styled(
        format!("{} ok", c.succeeded),
        theme.status(&Status::Succeeded),
    ));
    spans.push(Span::raw(" · "));
    // Never "0 failed" before every kind's FAILED listing has been read.
    let failed = if state.failed_known(Tab::All) {
        format!("{} failed", c.failed)
    } else {
        format!("{}+ failed (loading)", c.failed)
    };
    spans.push(Span::styled(failed, theme.status(&Status::Failed)));
    spans.push(Span::styled(" │ ", theme.dim()));
    // From the first minute with completions: empty minutes before it say nothing.
    let spark = sparkline(&p.per_minute(state.data.now));
    spans.push(Span::styled(spark.trim_start().to_string(), theme.key()));
    match p.recent_rate(state.data.now) {
        Some(rate) => spans.push(Span::raw(format!(" {rate:.1} done/min"))),
        None => spans.push(Span::styled(" no completions yet", theme.dim())),
    }
    match p.eta(state.data.now) {
        Some(eta) => spans.push(Span::raw(format!(
            " · ETA {}",
            age(
                state.data.now,
                state.data.now - chrono::Duration::from_std(eta).unwrap_or_default()
            )
        ))),
        None if c.in_flight > 0 => spans.push(Span::styled(" · ETA -", theme.dim())),
        None => {}
    }
    Line::from(spans)
}

/// The counts per kind, in words when they fit, else in symbols (▶ in progress, ✗ failed,
/// ✓ succeeded) so all three kinds stay on an 80-column line.
fn counts_line<'a>(state: &'a AppState, theme: &Theme, width: u16) -> Line<'a> {
    let full = counts_spans(state, theme, false);
    if full.width() <= width as usize {
        full
    } else {
        counts_spans(state, theme, true)
    }
}

fn counts_spans<'a>(state: &'a AppState, theme: &Theme, compact: bool) -> Line<'a> {
    let (in_progress, failed, ok, loading) = if compact {
        ("▶", "✗", "✓", "+✗")
    } else {
        (" in progress", " failed", " ok", "+ failed (loading)")
    };
    let mut spans = vec![Span::raw(" ")];
    for (i, kind) in OperationKind::ALL.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(
                if compact { " │ " } else { "  │  " },
                theme.dim(),
            ));
        }
        let counts = state.table(kind).counts;
        spans.push(Span::raw(format!("{} ", kind.short())));
        spans.push(Span::styled(
            format!("{}{in_progress}", counts.in_progress),
            theme.status(&crate::model::Status::InProgress),
        ));
        spans.push(Span::raw(" "));
        // Never "0 failed" before the FAILED listing has been read: that would be a lie.
        let failed = if state.table(kind).failed_known() {
            format!("{}{failed}", counts.failed)
        } else {
            format!("{}{loading}", counts.failed)
        };
        spans.push(Span::styled(
            failed,
            theme.status(&crate::model::Status::Failed),
        ));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!("{}{ok}", counts.succeeded),
            theme.status(&crate::model::Status::Succeeded),
        ));
        if counts.other > 0 {
            spans.push(Span::raw(format!(" {} other", counts.other)));
        }
    }
    Line::from(spans)
}
