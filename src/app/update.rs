//! `update(state, msg)`: the only place the app state changes. Plain code, no I/O: side effects
//! come back as [`Effect`]s for the caller to carry out.

use std::hash::{Hash, Hasher};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};

use super::msg::{Effect, Msg};

use super::state::{AppState, ErrorLine, InputMode, ScreenWindow};
use super::table::{ListTrouble, StatusFilter};
use crate::model::{NameKind, OperationKind};
use crate::poller::{DescribeRequest, Event, Lane, Priority};
use crate::provider::ErrorKind;

/// Rows the mouse wheel moves per notch.
const WHEEL_STEP: usize = 3;

/// Applies one message. Returns the effects to perform, and whether the screen must be redrawn
/// is the caller's call: every message that reaches here can change what is shown.
pub fn update(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    let mut effects = Vec::new();
    match msg {
        Msg::Key(key) => on_key(state, key, &mut effects),
        Msg::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollDown => move_by(state, WHEEL_STEP as isize, &mut effects),
            MouseEventKind::ScrollUp => move_by(state, -(WHEEL_STEP as isize), &mut effects),
            _ => {}
        },
        Msg::Resize { width, height } => {
            state.terminal_size = (width, height);
            let rows = state.table_rows();
            for table in &mut state.tables {
                table.scroll_into_view(rows);
            }
        }
        Msg::Tick(now) => {
            state.now = now;
            state.spinner = state.spinner.wrapping_add(1);
            if state
                .flash
                .as_ref()
                .is_some_and(|(at, _)| now - *at > chrono::Duration::seconds(3))
            {
                state.flash = None;
            }
        }
        Msg::Poll(event) => on_poll(state, event, &mut effects),
    }
    enrich_window(state, &mut effects);
    effects
}

/// How long the rows on screen must hold still before their describes are asked.
const ENRICH_AFTER: chrono::Duration = chrono::Duration::seconds(2);

/// Finished rows on screen without their detail get described at [`Priority::OnScreen`], so
/// the account, permission set and principal columns fill in for what the operator is looking
/// at, without spending budget on the rest of the history.
///
/// Only once the rows on screen have held still for [`ENRICH_AFTER`]: while the first load
/// streams pages in, new rows keep pushing through the top of the table, and describing each
/// row that passes by spent most of the budget on rows nobody read (1.97 req/s against a
/// 2 req/s budget, 182 describes of different requests in 150 s, in the walkthrough that found
/// it). The poller de-duplicates, so asking again for a window is free.
fn enrich_window(state: &mut AppState, effects: &mut Vec<Effect>) {
    if state.terminal_size == (0, 0) {
        return;
    }
    let kind = state.active;
    let rows = state.table_rows();
    let table = state.active_table();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    kind.hash(&mut hasher);
    let end = (table.offset + rows).min(table.view_len());
    for pos in table.offset..end {
        if let Some(row) = table.view_row(pos) {
            row.request_id.hash(&mut hasher);
        }
    }
    let fingerprint = hasher.finish();
    let now = state.now;
    let window = match state.window {
        Some(window) if window.fingerprint == fingerprint => window,
        previous => {
            // The rows the last screen asked for are not on screen any more.
            if previous.is_some_and(|w| w.enriched) {
                effects.push(Effect::DescribeOnScreen(Vec::new()));
            }
            state.window = Some(ScreenWindow {
                fingerprint,
                since: now,
                enriched: false,
            });
            return;
        }
    };
    if window.enriched || now - window.since < ENRICH_AFTER {
        return;
    }
    let undescribed = table.undescribed_in_window(rows);
    state.window = Some(ScreenWindow {
        enriched: true,
        ..window
    });
    effects.push(Effect::DescribeOnScreen(
        undescribed
            .into_iter()
            .map(|request_id| DescribeRequest {
                kind,
                request_id,
                priority: Priority::OnScreen,
            })
            .collect(),
    ));
}

fn on_poll(state: &mut AppState, event: Event, effects: &mut Vec<Effect>) {
    let (tz, sort) = (state.tz, state.sort);
    match event {
        Event::Records { kind, items } => {
            if state.table_mut(kind).upsert(items, tz, sort) {
                state.rebuild(kind);
                // A record that just finished and is open in the detail pane needs its final
                // answer.
                describe_selected_if_needed(state, effects);
            }
        }
        Event::Cached(described) => {
            let mut touched = [false; 3];
            for d in described {
                let kind = d.summary.kind;
                touched[kind.index()] |= state.table_mut(kind).apply_described(d, tz, sort);
            }
            for kind in OperationKind::ALL {
                if touched[kind.index()] {
                    state.rebuild(kind);
                }
            }
        }
        Event::LoadProgress {
            kind,
            lane,
            pages,
            records,
            done,
        } => {
            let table = state.table_mut(kind);
            let load = match lane {
                Lane::Failed => &mut table.failed_load,
                Lane::Full | Lane::Fast => &mut table.history_load,
            };
            load.pages = pages;
            load.records = records;
            load.done = done;
        }
        Event::Name { kind, id, name } => {
            for op in OperationKind::ALL {
                if state.table_mut(op).apply_name(kind, &id, &name, tz, sort) {
                    state.rebuild(op);
                }
            }
            state.names.insert((kind, id), name);
        }
        Event::Described(mut described) => {
            let known: Vec<(NameKind, String, String)> = described
                .detail
                .named_ids()
                .into_iter()
                .filter_map(|(kind, id)| {
                    let name = state.names.get(&(kind, id.to_string()))?;
                    Some((kind, id.to_string(), name.clone()))
                })
                .collect();
            for (kind, id, name) in known {
                described.detail.set_name(kind, &id, &name);
            }
            let kind = described.summary.kind;
            let key = (kind, Box::from(described.summary.request_id.as_str()));
            state.describe_errors.remove(&key);
            if state.table_mut(kind).apply_described(*described, tz, sort) {
                state.rebuild(kind);
            }
        }
        Event::DescribeFailed {
            kind,
            request_id,
            error,
        } => {
            if error.kind == ErrorKind::Throttled {
                state.last_throttled = Some(state.now);
            }
            state
                .describe_errors
                .insert((kind, Box::from(request_id.as_str())), error.to_string());
        }
        Event::ListSucceeded { kind, at } => {
            state.last_success = Some(at);
            let table = state.table_mut(kind);
            table.last_listed = Some(at);
            table.trouble = None;
            // This kind recovered: its error has done its job. Another kind's stays.
            if state
                .last_error
                .as_ref()
                .is_some_and(|e| e.at <= at && e.kind.is_none_or(|k| k == kind))
            {
                state.last_error = None;
            }
        }
        Event::ListFailed {
            kind,
            error,
            gave_up: _,
        } => {
            let at = state.now;
            if error.kind == ErrorKind::Throttled {
                state.last_throttled = Some(at);
            }
            let message = error.to_string();
            state.table_mut(kind).trouble = Some(ListTrouble {
                at,
                message: message.clone(),
                denied: error.kind == ErrorKind::Auth,
            });
            state.last_error = Some(ErrorLine {
                at,
                message: format!("{}: {message}", kind.label()),
                kind: Some(kind),
            });
        }
        Event::NamesUnavailable { hint } => {
            state.last_error = Some(ErrorLine {
                at: state.now,
                message: hint,
                kind: None,
            });
        }
        Event::CallFailed { at, error } => {
            if error.kind == ErrorKind::Throttled {
                state.last_throttled = Some(at);
            }
            state.last_error = Some(ErrorLine {
                at,
                message: error.to_string(),
                kind: None,
            });
        }
        Event::CallCompleted { operation, outcome } => {
            *state.api_calls.entry((operation, outcome)).or_default() += 1;
        }
        Event::Spend(report) => state.spend = report,
        Event::PollerStopped { reason } => {
            state.last_error = Some(ErrorLine {
                at: state.now,
                message: format!("polling stopped: {reason}; press q to quit"),
                kind: None,
            });
            state.poller_stopped = Some(reason);
        }
    }
}

fn on_key(state: &mut AppState, key: KeyEvent, effects: &mut Vec<Effect>) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        quit(state, effects);
        return;
    }
    if state.input_mode == InputMode::EditingFilter {
        on_filter_key(state, key, effects);
        return;
    }
    if state.help_open {
        // Any key closes help; q still quits so nobody gets stuck.
        match key.code {
            KeyCode::Char('q') => quit(state, effects),
            _ => state.help_open = false,
        }
        return;
    }
    let page = state.table_rows().max(1) as isize;
    match key.code {
        KeyCode::Char('q') => quit(state, effects),
        KeyCode::Char('?') => state.help_open = true,
        KeyCode::Tab => switch_kind(state, 1, effects),
        KeyCode::BackTab => switch_kind(state, -1, effects),
        KeyCode::Char('1') => set_kind(state, OperationKind::AssignmentCreation, effects),
        KeyCode::Char('2') => set_kind(state, OperationKind::AssignmentDeletion, effects),
        KeyCode::Char('3') => set_kind(state, OperationKind::PermissionSetProvisioning, effects),
        KeyCode::Char('j') | KeyCode::Down => move_by(state, 1, effects),
        KeyCode::Char('k') | KeyCode::Up => move_by(state, -1, effects),
        KeyCode::PageDown => move_by(state, page, effects),
        KeyCode::PageUp => move_by(state, -page, effects),
        KeyCode::Char('g') | KeyCode::Home => move_to(state, 0, effects),
        KeyCode::Char('G') | KeyCode::End => move_to(state, usize::MAX, effects),
        KeyCode::Char('f') => toggle_status(state, StatusFilter::FailedOnly, effects),
        KeyCode::Char('i') => toggle_status(state, StatusFilter::InProgressOnly, effects),
        KeyCode::Char('a') => set_status(state, StatusFilter::All, effects),
        KeyCode::Char('/') => state.input_mode = InputMode::EditingFilter,
        KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
            state.detail_open = true;
            let rows = state.table_rows();
            state.tables[state.active.index()].scroll_into_view(rows);
            // Opening a request asks again even if an earlier describe of it was given up.
            if let Some(id) = state.active_table().selected_id() {
                let key = (state.active, Box::from(id));
                state.describe_errors.remove(&key);
            }
            describe_selected_if_needed(state, effects);
        }
        KeyCode::Esc | KeyCode::Left | KeyCode::Char('h') => {
            if state.detail_open {
                state.detail_open = false;
            } else if key.code == KeyCode::Esc && !state.text_filter.is_empty() {
                set_text_filter(state, String::new(), effects);
            }
        }
        KeyCode::Char('s') => {
            state.sort.column = state.sort.column.next();
            resort(state, effects);
        }
        KeyCode::Char('S') => {
            state.sort.descending = !state.sort.descending;
            resort(state, effects);
        }
        KeyCode::Char('r') => effects.push(Effect::RefreshNow),
        KeyCode::Char('y') => {
            if let Some(id) = state.active_table().selected_id() {
                let id = id.to_string();
                state.flash = Some((state.now, format!("copied {id}")));
                effects.push(Effect::Copy(id));
            }
        }
        _ => {}
    }
}

fn on_filter_key(state: &mut AppState, key: KeyEvent, effects: &mut Vec<Effect>) {
    let mut text = state.text_filter.clone();
    match key.code {
        KeyCode::Esc => {
            text.clear();
            state.input_mode = InputMode::Normal;
        }
        KeyCode::Enter => state.input_mode = InputMode::Normal,
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => text.clear(),
        KeyCode::Char(c) if !c.is_control() => text.push(c),
        _ => return,
    }
    if text != state.text_filter {
        set_text_filter(state, text, effects);
    }
}

fn set_text_filter(state: &mut AppState, text: String, effects: &mut Vec<Effect>) {
    state.needle = text.to_lowercase();
    state.text_filter = text;
    state.rebuild_all();
    describe_selected_if_needed(state, effects);
}

fn quit(state: &mut AppState, effects: &mut Vec<Effect>) {
    state.should_quit = true;
    effects.push(Effect::Quit);
}

fn switch_kind(state: &mut AppState, step: isize, effects: &mut Vec<Effect>) {
    let idx = (state.active.index() as isize + step).rem_euclid(3) as usize;
    set_kind(state, OperationKind::ALL[idx], effects);
}

fn set_kind(state: &mut AppState, kind: OperationKind, effects: &mut Vec<Effect>) {
    state.active = kind;
    describe_selected_if_needed(state, effects);
}

fn toggle_status(state: &mut AppState, filter: StatusFilter, effects: &mut Vec<Effect>) {
    let next = if state.status_filter == filter {
        StatusFilter::All
    } else {
        filter
    };
    set_status(state, next, effects);
}

fn set_status(state: &mut AppState, filter: StatusFilter, effects: &mut Vec<Effect>) {
    if state.status_filter != filter {
        state.status_filter = filter;
        state.rebuild_all();
        describe_selected_if_needed(state, effects);
    }
}

fn resort(state: &mut AppState, effects: &mut Vec<Effect>) {
    for table in &mut state.tables {
        table.invalidate_sort();
    }
    state.rebuild_all();
    describe_selected_if_needed(state, effects);
}

fn move_by(state: &mut AppState, delta: isize, effects: &mut Vec<Effect>) {
    let current = state.active_table().selected_pos().unwrap_or(0);
    let target = current.saturating_add_signed(delta);
    move_to(state, target, effects);
}

fn move_to(state: &mut AppState, pos: usize, effects: &mut Vec<Effect>) {
    let rows = state.table_rows();
    let table = state.table_mut(state.active);
    table.select_pos(pos);
    table.scroll_into_view(rows);
    describe_selected_if_needed(state, effects);
}

/// With the detail pane open, the selected request is described unless its final answer is
/// already known (finished requests never change) or its describe was given up. Whether one is
/// already on its way is the poller's to know: it asks each request once.
fn describe_selected_if_needed(state: &mut AppState, effects: &mut Vec<Effect>) {
    if !state.detail_open {
        return;
    }
    let kind = state.active;
    let Some(row) = state.active_table().selected() else {
        return;
    };
    let fresh_enough = match &row.answer {
        Some(answer) if answer.status.is_finished() => true,
        // An in-progress answer is still good if the status has not moved since.
        Some(answer) => answer.status == row.status,
        None => false,
    };
    if fresh_enough
        || state
            .describe_errors
            .contains_key(&(kind, row.request_id.clone()))
    {
        return;
    }
    effects.push(Effect::Describe(DescribeRequest {
        kind,
        request_id: row.request_id.to_string(),
        priority: Priority::Interactive,
    }));
}
