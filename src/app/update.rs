//! `update(state, msg)`: the only place the app state changes. Plain code, no I/O: side effects
//! come back as [`Effect`]s for the caller to carry out.

use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEventKind};
use ratatui::layout::Rect;

use super::columns::OptionalColumn;
use super::keymap::{self, Action, KeySet};
use super::mode::Mode;
use super::msg::{Effect, ExportFormat, ExportRequest, Msg};
use super::pivot::{self, PivotView};
use super::reasons;
use super::state::{
    AppState, Drill, ErrorLine, GroupFilter, GroupsView, READ_ALL_RATES, ScreenWindow, Tab,
};
use super::table::{ListTrouble, StatusFilter};
use crate::failures;
use crate::model::{NameKind, OperationKind, Status};
use crate::poller::{DescribeRequest, Event, Lane, Priority};
use crate::provider::ErrorKind;

/// Rows the mouse wheel moves per notch.
const WHEEL_STEP: usize = 3;

/// The wheel moves what the screen shows, the way the move keys do: the table's rows (also
/// under the filter prompt and the chooser, which leave the table in sight), the groups or
/// the pivot; over the help or the too-small screen, nothing.
fn wheel(state: &mut AppState, action: Action, effects: &mut Vec<Effect>) {
    let delta = if action == Action::Down {
        WHEEL_STEP as isize
    } else {
        -(WHEEL_STEP as isize)
    };
    match state.key_set() {
        KeySet::Table | KeySet::Filter | KeySet::Columns => move_by(state, delta, effects),
        KeySet::Groups => {
            for _ in 0..WHEEL_STEP {
                on_groups_action(state, action, effects);
            }
        }
        KeySet::Pivot => {
            for _ in 0..WHEEL_STEP {
                on_pivot_action(state, action, effects);
            }
        }
        KeySet::ReadAllOffer | KeySet::Help | KeySet::TooSmall => {}
    }
}

/// Applies one message. Returns the effects to perform, and whether the screen must be redrawn
/// is the caller's call: every message that reaches here can change what is shown.
pub fn update(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    let mut effects = Vec::new();
    let groups_were_open = state.view.mode.groups().is_some();
    let mut rows_changed = false;
    match msg {
        Msg::Key(key) => on_key(state, key, &mut effects),
        Msg::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollDown => wheel(state, Action::Down, &mut effects),
            MouseEventKind::ScrollUp => wheel(state, Action::Up, &mut effects),
            MouseEventKind::Down(MouseButton::Left) => {
                click(state, mouse.column, mouse.row, &mut effects)
            }
            _ => {}
        },
        Msg::Resize { width, height } => {
            state.view.terminal_size = (width, height);
            let rows = state.table_rows();
            for table in &mut state.data.tables {
                table.scroll_into_view(rows);
            }
        }
        Msg::Tick(now) => {
            state.data.now = now;
            state.view.spinner = state.view.spinner.wrapping_add(1);
            state.data.progress.prune(now);
            // Ages move with the clock: a request can become stuck without any new data.
            state.recount_progress();
            if state
                .view
                .flash
                .as_ref()
                .is_some_and(|(at, _)| now - *at > chrono::Duration::seconds(3))
            {
                state.view.flash = None;
            }
        }
        Msg::Exported(result) => {
            state.view.flash = Some((
                state.data.now,
                match result {
                    Ok(path) => format!("exported to {path}"),
                    Err(error) => format!("export failed: {error}"),
                },
            ));
        }
        Msg::Saved(result) => {
            state.view.flash = Some((
                state.data.now,
                match result {
                    Ok(path) => format!("columns remembered in {path}"),
                    Err(error) => format!("columns not remembered: {error}"),
                },
            ));
        }
        Msg::Configure(config) => {
            state.data.progress.stuck_after = config.stuck_after;
            if let Some(columns) = config.columns {
                state.view.columns = columns;
            }
            if let Some(since) = config.since {
                state.data.progress.since = since;
                state.data.progress.since_start = false;
            }
            state.recount_progress();
        }
        Msg::Poll(event) => {
            observe_transitions(state, &event);
            let recount = matches!(
                event,
                Event::Records { .. } | Event::Cached(_) | Event::Described(_)
            );
            // What the failure groups, their reading plan and the pivot are built from: only
            // these events change it, and rebuilding on every call report or spend tick walked
            // every FAILED row for nothing.
            rows_changed =
                recount || matches!(event, Event::Name { .. } | Event::DescribeFailed { .. });
            on_poll(state, event, &mut effects);
            if recount {
                state.recount_progress();
            }
            if rows_changed {
                if state.view.mode.groups().is_some() {
                    regroup(state);
                }
                state.repivot();
            }
        }
    }
    if state.view.mode.pivot().is_some() {
        describe_for_pivot(state, rows_changed, &mut effects);
    } else {
        if state.view.pivot_asked.take().is_some() {
            // The pivot's describes are not wanted any more; the table asks for its own.
            effects.push(Effect::DescribeOnScreen(Vec::new()));
            state.view.window = None;
        }
        enrich_window(state, &mut effects);
    }
    enrich_in_flight(state, &mut effects);
    read_reasons(state, groups_were_open, rows_changed, &mut effects);
    effects
}

/// While the `F` view is open its reasons are read, whatever else happens: FAILED rows that
/// arrive while it is open (during the first load too, on any tab) join the plan, and closing
/// it hands reasons back to their usual priority.
fn read_reasons(
    state: &mut AppState,
    were_open: bool,
    rows_changed: bool,
    effects: &mut Vec<Effect>,
) {
    // Reading every reason fast ends when they are all read, or with the view.
    if let Some(view) = state.view.mode.groups_mut()
        && view.reading_all.is_some()
        && view.unread == 0
    {
        view.reading_all = None;
        effects.push(Effect::SetBudget(None));
        state.view.flash = Some((
            state.data.now,
            "every reason read: back to the default budget".into(),
        ));
    }
    let open = state.view.mode.groups().is_some();
    if were_open && !open && state.data.reasons.reading_all {
        effects.push(Effect::SetBudget(None));
    }
    state.data.reasons.reading_all = state
        .view
        .mode
        .groups()
        .is_some_and(|g| g.reading_all.is_some());
    match (were_open, open) {
        // A plan changes only with the rows (or when the view opens): keys and ticks make none.
        (_, true) if !were_open || rows_changed => {
            if let Some(plan) = reasons::plan(state, !were_open) {
                effects.push(Effect::ReadReasons(Some(plan)));
            }
        }
        (true, false) => {
            reasons::stop(state);
            effects.push(Effect::ReadReasons(None));
        }
        _ => {}
    }
}

/// How long the rows on screen must hold still before their describes are asked.
const ENRICH_AFTER: chrono::Duration = chrono::Duration::seconds(2);

/// Notes, before an event is applied, the requests it shows finishing (for the completion
/// rate) and failing (for the bell and the "new FAILED" marker). A failure counts as new when
/// it is seen changing to FAILED, or appears FAILED after its kind's FAILED listing was read
/// and was created since the progress moment: old history read late is not news.
fn observe_transitions(state: &mut AppState, event: &Event) {
    let changes: Vec<(OperationKind, &str, &Status, chrono::DateTime<chrono::Utc>)> = match event {
        Event::Records { kind, items } => items
            .iter()
            .map(|s| (*kind, s.request_id.as_str(), &s.status, s.created))
            .collect(),
        Event::Described(d) => vec![(
            d.summary.kind,
            d.summary.request_id.as_str(),
            &d.summary.status,
            d.summary.created,
        )],
        _ => return,
    };
    let now = state.data.now;
    for (kind, id, status, created) in changes {
        let table = state.table(kind);
        let before = table.row_by_id(id).map(|r| r.status.clone());
        let failed_known = table.failed_known();
        if before.as_ref() == Some(status) {
            continue;
        }
        if before == Some(Status::InProgress) && status.is_finished() {
            state.data.progress.record_completion(now);
        }
        let news = *status == Status::Failed
            && failed_known
            && (before.is_some() || created >= state.data.progress.since);
        if news {
            state.data.progress.new_failed_total += 1;
            state.data.progress.unseen_failed += 1;
            state
                .data
                .progress
                .failed_since
                .insert((kind, Box::from(id)));
        }
    }
}

/// What a screen window's timer says of the rows it fingerprints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// Other rows than last time: the clock starts again. `was_asked`: the rows that left
    /// had their describes asked.
    Moved { was_asked: bool },
    /// The same rows, not still for long enough yet, or asked for already.
    Waiting,
    /// The same rows for [`ENRICH_AFTER`]: ask for them now (once).
    Ready,
}

/// The one timer behind both screen windows (every row on screen, and the rows in flight on
/// screen): rows are described once they have held still for [`ENRICH_AFTER`], and once only.
fn hold(slot: &mut Option<ScreenWindow>, fingerprint: u64, now: DateTime<Utc>) -> Held {
    match *slot {
        Some(window) if window.fingerprint == fingerprint => {
            if window.enriched || now - window.since < ENRICH_AFTER {
                return Held::Waiting;
            }
            *slot = Some(ScreenWindow {
                enriched: true,
                ..window
            });
            Held::Ready
        }
        previous => {
            *slot = Some(ScreenWindow {
                fingerprint,
                since: now,
                enriched: false,
            });
            Held::Moved {
                was_asked: previous.is_some_and(|w| w.enriched),
            }
        }
    }
}

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
    if state.view.terminal_size == (0, 0) {
        return;
    }
    let tab = state.view.active;
    let rows = state.table_rows();
    let table = state.active_table();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    tab.hash(&mut hasher);
    let end = (table.offset + rows).min(table.view_len());
    for pos in table.offset..end {
        if let Some(row) = table.view_row(pos) {
            row.request_id.hash(&mut hasher);
        }
    }
    let fingerprint = hasher.finish();
    match hold(&mut state.view.window, fingerprint, state.data.now) {
        // The rows the last screen asked for are not on screen any more.
        Held::Moved { was_asked: true } => {
            effects.push(Effect::DescribeOnScreen(Vec::new()));
            return;
        }
        Held::Moved { was_asked: false } | Held::Waiting => return,
        Held::Ready => {}
    }
    let undescribed = state.active_table().undescribed_in_window(rows);
    effects.push(describe_on_screen(undescribed));
}

/// The describes of rows the operator looks at (on screen, or counted by the pivot): they
/// replace what the last screen asked for.
fn describe_on_screen(rows: Vec<(OperationKind, String)>) -> Effect {
    Effect::DescribeOnScreen(
        rows.into_iter()
            .map(|(kind, request_id)| DescribeRequest {
                kind,
                request_id,
                priority: Priority::OnScreen,
            })
            .collect(),
    )
}

/// How many of the pivot's undescribed rows are asked for at a time: the queue is refilled as
/// they are answered, so a tab of 100,000 rows never puts 100,000 entries in the planner.
pub const PIVOT_DESCRIBE_BATCH: usize = 200;

/// While the pivot is shown it is what the operator looks at: a row is counted under an
/// account, a permission set or a principal only once it is described, so the tab's
/// undescribed rows are described, in the table's order, as the rows on screen would be
/// ([`Priority::OnScreen`]: within the budget, in turn with the history). The title's
/// "N not described yet" counts down as they arrive. Asked again when the rows change or the
/// tab does, and only if what would be asked changed.
fn describe_for_pivot(state: &mut AppState, rows_changed: bool, effects: &mut Vec<Effect>) {
    let tab = state.view.active;
    let asked_tab = state.view.pivot_asked.map(|(t, _)| t);
    if !rows_changed && asked_tab == Some(tab) {
        return;
    }
    let table = state.tab_table(tab);
    let refused = &state.data.describe_errors;
    let wanted: Vec<(OperationKind, String)> = (0..table.view_len())
        .filter_map(|p| table.view_row(p))
        // A row whose describe was refused says why in its detail; asking again would not
        // change the answer.
        .filter(|r| r.needs_describe() && !refused.contains_key(&(r.kind, r.request_id.clone())))
        .take(PIVOT_DESCRIBE_BATCH)
        .map(|r| (r.kind, r.request_id.to_string()))
        .collect();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    wanted.hash(&mut hasher);
    let fingerprint = hasher.finish();
    if state.view.pivot_asked == Some((tab, fingerprint)) {
        return;
    }
    state.view.pivot_asked = Some((tab, fingerprint));
    effects.push(describe_on_screen(wanted));
}

/// The in-flight rows on screen that were never described are described once, as tracking
/// work ([`Priority::Tracking`]: ahead of the newest failures' reasons, the rows on screen and
/// the history, in turn with the describes of what finishes), as soon as they have held still for [`ENRICH_AFTER`] on their own: they sit at
/// the top while a first load streams older rows below, which would keep the whole screen
/// from ever holding still. Who and what never change, so one answer names them for good;
/// the planner describes them once more when they finish, for the final status and reason.
fn enrich_in_flight(state: &mut AppState, effects: &mut Vec<Effect>) {
    if state.view.terminal_size == (0, 0) || !state.view.mode.shows_table() {
        return;
    }
    let rows = state.table_rows();
    let table = state.active_table();
    let end = (table.offset + rows).min(table.view_len());
    let flying: Vec<(OperationKind, String)> = (table.offset..end)
        .filter_map(|p| table.view_row(p))
        .filter(|r| r.status == Status::InProgress && r.answer.is_none())
        .map(|r| (r.kind, r.request_id.to_string()))
        .collect();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    state.view.active.hash(&mut hasher);
    flying.hash(&mut hasher);
    let fingerprint = hasher.finish();
    if hold(&mut state.view.flight_window, fingerprint, state.data.now) != Held::Ready {
        return;
    }
    effects.extend(flying.into_iter().map(|(kind, request_id)| {
        Effect::Describe(DescribeRequest {
            kind,
            request_id,
            priority: Priority::Tracking,
        })
    }));
}

fn on_poll(state: &mut AppState, event: Event, effects: &mut Vec<Effect>) {
    let (tz, sort) = (state.data.tz, state.view.sort);
    match event {
        Event::Records { kind, items } => {
            if let Some(all) = state.all_kinds_table_mut() {
                all.upsert(items.clone(), tz, sort);
            }
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
                if let Some(all) = state.all_kinds_table_mut() {
                    all.apply_described(d.clone(), tz, sort);
                }
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
            if let Some(all) = state.all_kinds_table_mut() {
                all.apply_name(kind, &id, &name, tz, sort);
            }
            for op in OperationKind::ALL {
                if state.table_mut(op).apply_name(kind, &id, &name, tz, sort) {
                    state.rebuild(op);
                }
            }
            state.data.names.insert((kind, id), name);
        }
        Event::Described(mut described) => {
            let known: Vec<(NameKind, String, String)> = described
                .detail
                .named_ids()
                .into_iter()
                .filter_map(|(kind, id)| {
                    let name = state.data.names.get(&(kind, id.to_string()))?;
                    Some((kind, id.to_string(), name.clone()))
                })
                .collect();
            for (kind, id, name) in known {
                described.detail.set_name(kind, &id, &name);
            }
            let kind = described.summary.kind;
            let key = (kind, Box::from(described.summary.request_id.as_str()));
            state.data.describe_errors.remove(&key);
            // A good answer from the service: the data is not stale, whichever call it was
            // (after a throttling storm the first call through is often a describe).
            state.data.last_success = Some(
                state
                    .data
                    .last_success
                    .map_or(state.data.now, |t| t.max(state.data.now)),
            );
            if let Some(all) = state.all_kinds_table_mut() {
                all.apply_described((*described).clone(), tz, sort);
            }
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
                state.data.last_throttled = Some(state.data.now);
            }
            state
                .data
                .describe_errors
                .insert((kind, Box::from(request_id.as_str())), error.to_string());
        }
        Event::ListSucceeded { kind, at } => {
            state.data.last_success = Some(at);
            let table = state.table_mut(kind);
            table.last_listed = Some(at);
            table.trouble = None;
            // This kind recovered: its error has done its job. Another kind's stays.
            if state
                .data
                .last_error
                .as_ref()
                .is_some_and(|e| e.at <= at && e.kind.is_none_or(|k| k == kind))
            {
                state.data.last_error = None;
            }
        }
        Event::ListFailed {
            kind,
            error,
            gave_up,
        } => {
            let at = state.data.now;
            if error.kind == ErrorKind::Throttled {
                state.data.last_throttled = Some(at);
            }
            state.table_mut(kind).trouble = Some(ListTrouble {
                at,
                // What happened; what to do is the hint, shown beside it.
                message: error.what(),
                denied: error.kind == ErrorKind::Auth,
                hint: error.hint.clone(),
                gave_up,
            });
            state.data.last_error = Some(ErrorLine {
                at,
                message: format!("{}: {}", kind.label(), error.what()),
                kind: Some(kind),
                hint: error.hint.clone(),
            });
        }
        // A standing condition, not an error that the next success clears: it stays on the
        // status line (under any error) for the rest of the run. Several hints add up.
        Event::NamesUnavailable { hint } => {
            state.data.notice = Some(match state.data.notice.take() {
                Some(earlier) if !earlier.contains(&hint) => format!("{earlier}; {hint}"),
                Some(earlier) => earlier,
                None => hint,
            });
        }
        Event::CallFailed { at, error } => {
            if error.kind == ErrorKind::Throttled {
                state.data.last_throttled = Some(at);
            }
            state.data.last_error = Some(ErrorLine {
                at,
                message: error.what(),
                kind: None,
                hint: error.hint.clone(),
            });
        }
        Event::CallCompleted { operation, outcome } => {
            *state
                .data
                .api_calls
                .entry((operation, outcome))
                .or_default() += 1;
        }
        Event::Spend(report) => state.data.spend = report,
        Event::PollerStopped { reason } => {
            state.data.last_error = Some(ErrorLine {
                at: state.data.now,
                message: format!("polling stopped: {reason}"),
                kind: None,
                hint: Some("press q to quit".into()),
            });
            state.data.poller_stopped = Some(reason);
        }
    }
}

/// A key goes to the key table of what the screen shows ([`AppState::key_set`]): a key that
/// table does not list does nothing, so no view's keys reach the view hidden behind it.
fn on_key(state: &mut AppState, key: KeyEvent, effects: &mut Vec<Effect>) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    let set = state.key_set();
    if let Some(action) = keymap::action_for(set, key) {
        perform(state, set, action, key, effects);
    }
}

/// Carries out an action of a view's key table.
fn perform(
    state: &mut AppState,
    set: KeySet,
    action: Action,
    key: KeyEvent,
    effects: &mut Vec<Effect>,
) {
    if action == Action::Quit {
        quit(state, effects);
        return;
    }
    match set {
        KeySet::Table => on_table_action(state, action, effects),
        KeySet::Filter => on_filter_action(state, action, key, effects),
        KeySet::Columns => on_columns_action(state, action, key, effects),
        KeySet::Groups => on_groups_action(state, action, effects),
        KeySet::ReadAllOffer => on_offer_action(state, action, key, effects),
        KeySet::Pivot => on_pivot_action(state, action, effects),
        // Any key closes the help, `q` too: reading the help never quits by surprise.
        KeySet::Help => close_help(state),
        // Only quitting is bound there.
        KeySet::TooSmall => {}
    }
}

/// The digit of `1` to `4` as an index (0 to 3).
fn digit(key: KeyEvent) -> Option<usize> {
    match key.code {
        KeyCode::Char(c @ '1'..='4') => c.to_digit(10).map(|d| d as usize - 1),
        _ => None,
    }
}

/// `?`: the help over the open view, showing that view's keys.
fn open_help(state: &mut AppState) {
    let over = std::mem::take(&mut state.view.mode);
    state.view.mode = Mode::Help(Box::new(over));
}

fn close_help(state: &mut AppState) {
    if let Mode::Help(over) = std::mem::take(&mut state.view.mode) {
        state.view.mode = *over;
    }
}

/// Keys while the offer to read every reason is shown: `1` to `4` pick a rate, any other key
/// declines. Either way the groups are shown again.
fn on_offer_action(state: &mut AppState, action: Action, key: KeyEvent, effects: &mut Vec<Effect>) {
    let Mode::ReadAllOffer(mut view) = std::mem::take(&mut state.view.mode) else {
        return;
    };
    let rate = match action {
        Action::Choose => digit(key).and_then(|i| READ_ALL_RATES.get(i).copied()),
        _ => None,
    };
    if let Some(rate) = rate {
        view.reading_all = Some(rate);
        effects.push(Effect::SetBudget(Some(rate)));
        state.view.flash = Some((
            state.data.now,
            format!("reading every reason at {rate} req/s; Esc returns to the default budget"),
        ));
    }
    state.view.mode = Mode::Groups(view);
}

/// Keys while the column chooser is open: `1` to `4` toggle a column (and the config remembers
/// it), any other key closes the chooser.
fn on_columns_action(
    state: &mut AppState,
    action: Action,
    key: KeyEvent,
    effects: &mut Vec<Effect>,
) {
    let column = match action {
        Action::Choose => digit(key).and_then(|i| OptionalColumn::ALL.get(i).copied()),
        _ => None,
    };
    match column {
        Some(column) => {
            state.view.columns.toggle(column);
            effects.push(Effect::SaveColumns(state.view.columns));
        }
        None => state.view.mode = Mode::table(state.view.mode.pane_open()),
    }
}

/// Keys while typing the `/` filter: the table narrows with each keystroke.
fn on_filter_action(
    state: &mut AppState,
    action: Action,
    key: KeyEvent,
    effects: &mut Vec<Effect>,
) {
    let mut text = state.view.text_filter.clone();
    let back = Mode::table(state.view.mode.pane_open());
    match action {
        Action::ClearFilter => {
            text.clear();
            state.view.mode = back;
        }
        Action::KeepFilter => state.view.mode = back,
        Action::DeleteChar => {
            text.pop();
        }
        Action::ClearLine => text.clear(),
        Action::Type => match key.code {
            KeyCode::Char(c) => text.push(c),
            _ => return,
        },
        _ => return,
    }
    if text != state.view.text_filter {
        set_text_filter(state, text, effects);
    }
}

/// Keys of the table (with or without the detail pane).
fn on_table_action(state: &mut AppState, action: Action, effects: &mut Vec<Effect>) {
    let page = state.table_rows().max(1) as isize;
    if matches!(action, Action::FailedOnly | Action::FailureGroups) {
        // The operator is looking at the failures: they are not new any more.
        state.data.progress.unseen_failed = 0;
    }
    match action {
        Action::FailureGroups => open_groups(state),
        Action::Pivot => {
            state.view.mode = Mode::Pivot(PivotView::new());
            state.repivot();
        }
        Action::Columns => {
            state.view.mode = Mode::Columns {
                pane: state.view.mode.pane_open(),
            }
        }
        Action::ReadAllReasons => {
            state.view.flash = Some((
                state.data.now,
                "R reads every failure reason now: press F first".into(),
            ));
        }
        Action::CopyReason => {
            let reason = state
                .active_table()
                .selected()
                .and_then(|r| r.failure_reason())
                .map(str::to_string);
            match reason {
                Some(reason) => {
                    state.view.flash = Some((state.data.now, "copied the failure reason".into()));
                    effects.push(Effect::Copy(reason));
                }
                None => {
                    state.view.flash = Some((state.data.now, "no failure reason to copy".into()));
                }
            }
        }
        Action::ExportCsv => request_export(state, ExportFormat::Csv),
        Action::ExportJson => request_export(state, ExportFormat::Json),
        Action::Handoff => request_handoff(state),
        Action::CopyRetry => copy_retry(state, effects),
        Action::WrapReason => state.view.wrap_selected = !state.view.wrap_selected,
        Action::DetailScrollDown => {
            state.view.detail_scroll = state.view.detail_scroll.saturating_add(3);
        }
        Action::DetailScrollUp => {
            state.view.detail_scroll = state.view.detail_scroll.saturating_sub(3);
        }
        Action::ResetProgress => {
            state.data.progress.since = state.data.now;
            state.data.progress.since_start = false;
            // From now on: earlier failures are neither "new" nor counted since the moment.
            state.data.progress.failed_since.clear();
            state.data.progress.unseen_failed = 0;
            state.recount_progress();
            state.view.flash = Some((state.data.now, "progress counts from now".into()));
        }
        Action::Help => open_help(state),
        Action::NextKind
        | Action::PreviousKind
        | Action::AllKinds
        | Action::KindCreation
        | Action::KindDeletion
        | Action::KindProvisioning => choose_tab(state, action, effects),
        Action::Down => move_by(state, 1, effects),
        Action::Up => move_by(state, -1, effects),
        Action::PageDown => move_by(state, page, effects),
        Action::PageUp => move_by(state, -page, effects),
        Action::First => move_to(state, 0, effects),
        Action::Last => move_to(state, usize::MAX, effects),
        Action::ToggleFollow => toggle_follow(state, effects),
        Action::FailedOnly => toggle_status(state, StatusFilter::FailedOnly, effects),
        Action::InProgressOnly => toggle_status(state, StatusFilter::InProgressOnly, effects),
        Action::AllStatuses => set_status(state, StatusFilter::All, effects),
        Action::TextFilter => {
            state.view.mode = Mode::Filter {
                pane: state.view.mode.pane_open(),
            }
        }
        Action::OpenDetail => open_detail(state, effects),
        Action::Back => {
            if state.view.mode.pane_open() {
                state.view.mode = Mode::Table;
            } else if let Some(drill) = state.view.drill.take() {
                // Back to the pivot the operator drilled down from, as it was.
                set_text_filter(state, drill.text_filter, effects);
                state.view.mode = Mode::Pivot(drill.pivot);
                state.repivot();
            } else if let Some(group) = state.view.group_filter.take() {
                // Back to the failure groups, on the group the operator opened.
                state.rebuild_all();
                open_groups(state);
                if let Some(view) = state.view.mode.groups_mut()
                    && let Some(at) = view.groups.iter().position(|g| g.pattern == group.pattern)
                {
                    view.selected = at;
                }
            } else if !state.view.text_filter.is_empty() {
                set_text_filter(state, String::new(), effects);
            }
        }
        Action::CycleSort => {
            state.view.sort.column = state.view.sort.column.next();
            resort(state, effects);
        }
        Action::ReverseSort => {
            state.view.sort.descending = !state.view.sort.descending;
            resort(state, effects);
        }
        Action::Refresh => effects.push(Effect::RefreshNow),
        Action::CopyId => {
            // Only a row the operator can see: with `0 of N` shown there is nothing to copy.
            if let Some(id) = state
                .active_table()
                .selected()
                .map(|r| r.request_id.to_string())
            {
                state.view.flash = Some((state.data.now, format!("copied {id}")));
                effects.push(Effect::Copy(id));
            } else {
                state.view.flash =
                    Some((state.data.now, "nothing to copy: no row is shown".into()));
            }
        }
        // Not in the table's key table.
        Action::Quit
        | Action::Choose
        | Action::KeepFilter
        | Action::ClearFilter
        | Action::DeleteChar
        | Action::ClearLine
        | Action::Type
        | Action::Close => {}
    }
}

/// `F`: the FAILED requests of every kind, grouped by cause. Their reasons are read while the
/// view is open (`read_reasons`), most informative first, so the groups' estimates fill in and
/// narrow while the operator looks.
fn open_groups(state: &mut AppState) {
    state.view.mode = Mode::Groups(GroupsView::default());
    regroup(state);
}

/// Recomputes the groups from the rows, keeping the selected group by its pattern.
fn regroup(state: &mut AppState) {
    let reading = &state.data.reasons;
    let groups = failures::group_sampled(state.failed_requests(), |kind, id| {
        reading.in_sample(kind, id)
    });
    let sampled_read = groups
        .iter()
        .filter(|g| !g.is_pending())
        .flat_map(|g| &g.requests)
        .filter(|(kind, id)| reading.in_sample(*kind, id))
        .count();
    let Some(view) = state.view.mode.groups_mut() else {
        return;
    };
    view.failed = groups.iter().map(|g| g.count).sum();
    view.unread = groups
        .iter()
        .filter(|g| g.is_pending())
        .map(|g| g.count)
        .sum();
    view.sampled = sampled_read;
    // The selection follows the group the operator chose; until they choose, it stays on the
    // biggest cause while the estimates reorder the groups.
    let selected = view.groups.get(view.selected);
    view.selected = match selected {
        _ if !view.chosen => 0,
        _ => selected
            .and_then(|g| groups.iter().position(|new| new.key == g.key))
            .unwrap_or(view.selected),
    }
    .min(groups.len().saturating_sub(1));
    view.groups = groups;
}

/// Keys while the groups are shown (`keymap::GROUP_BINDINGS`): they act on the groups.
fn on_groups_action(state: &mut AppState, action: Action, effects: &mut Vec<Effect>) {
    if on_group_keys(state, action, effects) {
        return;
    }
    let now = state.data.now;
    let Some(view) = state.view.mode.groups_mut() else {
        return;
    };
    let last = view.groups.len().saturating_sub(1);
    let step = |pos: usize, delta: isize| pos.saturating_add_signed(delta).min(last);
    if matches!(
        action,
        Action::Down
            | Action::Up
            | Action::PageDown
            | Action::PageUp
            | Action::First
            | Action::Last
    ) {
        view.chosen = true;
    }
    match action {
        Action::Down => view.selected = step(view.selected, 1),
        Action::Up => view.selected = step(view.selected, -1),
        Action::PageDown => view.selected = step(view.selected, 5),
        Action::PageUp => view.selected = step(view.selected, -5),
        Action::First => view.selected = 0,
        Action::Last => view.selected = last,
        Action::OpenDetail => {
            let Some(group) = view.groups.get(view.selected) else {
                return;
            };
            state.view.group_filter = Some(GroupFilter {
                pattern: group.pattern.clone(),
                ids: group
                    .requests
                    .iter()
                    .map(|(_, id)| Box::from(id.as_str()))
                    .collect(),
            });
            state.view.mode = Mode::Table;
            // A group can span kinds: show it on the all-kinds tab.
            state.ensure_all_kinds();
            state.view.active = Tab::All;
            state.rebuild_all();
            let rows = state.table_rows();
            let table = state.tab_table_mut(Tab::All);
            table.set_following(true);
            table.scroll_into_view(rows);
            describe_selected_if_needed(state, effects);
        }
        Action::ReadAllReasons => {
            if view.unread > 0 {
                if let Mode::Groups(view) = std::mem::take(&mut state.view.mode) {
                    state.view.mode = Mode::ReadAllOffer(view);
                }
            } else {
                state.view.flash = Some((now, "every reason is read already".into()));
            }
        }
        // Esc while reading every reason: back to the default budget, the view stays.
        Action::Back if view.reading_all.is_some() => {
            view.reading_all = None;
            effects.push(Effect::SetBudget(None));
            state.view.flash = Some((now, "back to the default budget".into()));
        }
        Action::Back | Action::FailureGroups => state.view.mode = Mode::Table,
        Action::Refresh => effects.push(Effect::RefreshNow),
        Action::Help => open_help(state),
        _ => {}
    }
}

/// The `F` view's keys that act on the selected group or on the groups (copy, export, hand
/// off): see `keymap::GROUP_BINDINGS`. Returns whether the action was one of them.
fn on_group_keys(state: &mut AppState, action: Action, effects: &mut Vec<Effect>) -> bool {
    let group = state
        .view
        .mode
        .groups()
        .and_then(|v| v.groups.get(v.selected));
    match action {
        Action::CopyId => {
            let copied = group.filter(|g| !g.requests.is_empty()).map(|g| {
                let ids: Vec<&str> = g.requests.iter().map(|(_, id)| id.as_str()).collect();
                (
                    format!("copied {} request ids of {}", ids.len(), g.key),
                    ids.join("\n"),
                )
            });
            match copied {
                Some((message, ids)) => {
                    state.view.flash = Some((state.data.now, message));
                    effects.push(Effect::Copy(ids));
                }
                None => state.view.flash = Some((state.data.now, "no group to copy".into())),
            }
        }
        Action::CopyReason => match group.map(|g| g.example.clone()) {
            Some(example) if !example.is_empty() => {
                state.view.flash =
                    Some((state.data.now, "copied the group's failure reason".into()));
                effects.push(Effect::Copy(example));
            }
            _ => state.view.flash = Some((state.data.now, "no failure reason to copy".into())),
        },
        Action::ExportCsv => request_export(state, ExportFormat::Csv),
        Action::ExportJson => request_export(state, ExportFormat::Json),
        Action::Handoff => request_handoff(state),
        Action::CopyRetry => copy_retry(state, effects),
        _ => return false,
    }
    true
}

/// The tab keys, the same in the table and in the pivot (where they choose what it counts).
fn choose_tab(state: &mut AppState, action: Action, effects: &mut Vec<Effect>) {
    match action {
        Action::NextKind => switch_tab(state, 1, effects),
        Action::PreviousKind => switch_tab(state, -1, effects),
        Action::AllKinds => set_tab(state, Tab::All, effects),
        Action::KindCreation => set_kind(state, OperationKind::AssignmentCreation, effects),
        Action::KindDeletion => set_kind(state, OperationKind::AssignmentDeletion, effects),
        Action::KindProvisioning => {
            set_kind(state, OperationKind::PermissionSetProvisioning, effects)
        }
        _ => {}
    }
}

/// Keys while the pivot is shown (`keymap::PIVOT_BINDINGS`): they act on the pivot, and the
/// tab keys choose the tab it counts.
fn on_pivot_action(state: &mut AppState, action: Action, effects: &mut Vec<Effect>) {
    let page = state.table_rows().max(1) as isize;
    match action {
        Action::NextKind
        | Action::PreviousKind
        | Action::AllKinds
        | Action::KindCreation
        | Action::KindDeletion
        | Action::KindProvisioning => choose_tab(state, action, effects),
        Action::OpenDetail => drill_down(state, effects),
        Action::Back => state.view.mode = Mode::Table,
        Action::Refresh => effects.push(Effect::RefreshNow),
        Action::Help => open_help(state),
        _ => {
            let Some(view) = state.view.mode.pivot_mut() else {
                return;
            };
            let last = view.rows.len().saturating_sub(1);
            let step = |pos: usize, delta: isize| pos.saturating_add_signed(delta).min(last);
            match action {
                Action::Down => view.selected = step(view.selected, 1),
                Action::Up => view.selected = step(view.selected, -1),
                Action::PageDown => view.selected = step(view.selected, page),
                Action::PageUp => view.selected = step(view.selected, -page),
                Action::First => view.selected = 0,
                Action::Last => view.selected = last,
                _ => {}
            }
            match action {
                Action::Pivot => {
                    view.dimension = view.dimension.next();
                    view.selected = 0;
                }
                Action::CycleSort => view.sort = view.sort.next(),
                Action::ReverseSort => view.descending = !view.descending,
                // A move: the counts stay.
                _ => return,
            }
        }
    }
    // Counts follow the tab, the field and the sort.
    state.repivot();
}

/// `e`/`E` (and `x`): asks the host to write the file; it answers with `Msg::Exported`.
fn request_export(state: &mut AppState, format: ExportFormat) {
    let seq = state.view.export.map_or(1, |e| e.seq + 1);
    state.view.export = Some(ExportRequest { seq, format });
}

/// `x`: the retry script, ids file and JSON plan of what the view shows, written by the host.
fn request_handoff(state: &mut AppState) {
    match super::handoff::selection(state) {
        Ok(_) => request_export(state, ExportFormat::Handoff),
        Err(why) => state.view.flash = Some((state.data.now, why)),
    }
}

/// `X`: the retry script of what the view shows, to the clipboard.
fn copy_retry(state: &mut AppState, effects: &mut Vec<Effect>) {
    match super::handoff::selection(state) {
        Ok(s) => {
            let script = crate::handoff::retry_script(s.cloud, &s.instance, &s.requests);
            state.view.flash = Some((
                state.data.now,
                format!(
                    "copied the retry script of {} request(s) of {}",
                    s.requests.len(),
                    s.label
                ),
            ));
            effects.push(Effect::Copy(script));
        }
        Err(why) => state.view.flash = Some((state.data.now, why)),
    }
}

/// `Enter` on a pivot row: the table filtered to that value (a `/` term the operator can see
/// and edit); `Esc` returns to the pivot.
fn drill_down(state: &mut AppState, effects: &mut Vec<Effect>) {
    let Mode::Pivot(view) = std::mem::take(&mut state.view.mode) else {
        return;
    };
    let Some(row) = view.selected_row() else {
        state.view.mode = Mode::Pivot(view);
        return;
    };
    let term = pivot::drill_term(view.dimension, &row.key);
    let saved = state.view.text_filter.clone();
    let text = if saved.trim().is_empty() {
        term
    } else {
        format!("{} {term}", saved.trim_end())
    };
    state.view.drill = Some(Drill {
        pivot: view,
        text_filter: saved,
    });
    state.view.mode = Mode::Table;
    set_text_filter(state, text, effects);
    let rows = state.table_rows();
    let table = state.tab_table_mut(state.view.active);
    table.set_following(true);
    table.scroll_into_view(rows);
}

/// Opens the detail pane on the selection. An open pane never moves by itself: opening it
/// stops following the newest request.
fn open_detail(state: &mut AppState, effects: &mut Vec<Effect>) {
    state.view.mode = Mode::Detail;
    state.view.detail_scroll = 0;
    let rows = state.table_rows();
    let table = state.tab_table_mut(state.view.active);
    table.set_following(false);
    table.scroll_into_view(rows);
    // Opening a request asks again even if an earlier describe of it was given up.
    if let Some(row) = state.active_table().selected() {
        let key = (row.kind, row.request_id.clone());
        state.data.describe_errors.remove(&key);
    }
    describe_selected_if_needed(state, effects);
}

/// `t`: follow the newest request (selection on the top row, moving with new rows), or stop.
fn toggle_follow(state: &mut AppState, effects: &mut Vec<Effect>) {
    let rows = state.table_rows();
    let table = state.tab_table_mut(state.view.active);
    let follow = !table.following();
    table.set_following(follow);
    table.scroll_into_view(rows);
    state.view.flash = Some((
        state.data.now,
        if follow {
            "following the newest request".into()
        } else {
            "selection pinned".into()
        },
    ));
    describe_selected_if_needed(state, effects);
}

fn set_text_filter(state: &mut AppState, text: String, effects: &mut Vec<Effect>) {
    match super::filter::parse(&text) {
        Ok(filter) => {
            state.view.filter = filter;
            state.view.filter_error = None;
        }
        // While a term is being typed wrong, the last good filter stays and the prompt says why.
        Err(error) => state.view.filter_error = Some(error.to_string()),
    }
    state.view.text_filter = text;
    state.rebuild_all();
    describe_selected_if_needed(state, effects);
}

fn quit(state: &mut AppState, effects: &mut Vec<Effect>) {
    state.view.should_quit = true;
    effects.push(Effect::Quit);
}

fn switch_tab(state: &mut AppState, step: isize, effects: &mut Vec<Effect>) {
    let current = Tab::ORDER
        .iter()
        .position(|&t| t == state.view.active)
        .unwrap_or(0);
    let next = (current as isize + step).rem_euclid(Tab::ORDER.len() as isize) as usize;
    set_tab(state, Tab::ORDER[next], effects);
}

fn set_kind(state: &mut AppState, kind: OperationKind, effects: &mut Vec<Effect>) {
    set_tab(state, Tab::Kind(kind), effects);
}

fn set_tab(state: &mut AppState, tab: Tab, effects: &mut Vec<Effect>) {
    if tab == Tab::All {
        state.ensure_all_kinds();
    }
    state.view.active = tab;
    describe_selected_if_needed(state, effects);
}

fn toggle_status(state: &mut AppState, filter: StatusFilter, effects: &mut Vec<Effect>) {
    let next = if state.view.status_filter == filter {
        StatusFilter::All
    } else {
        filter
    };
    set_status(state, next, effects);
}

fn set_status(state: &mut AppState, filter: StatusFilter, effects: &mut Vec<Effect>) {
    if state.view.status_filter != filter {
        state.view.status_filter = filter;
        state.rebuild_all();
        describe_selected_if_needed(state, effects);
    }
}

fn resort(state: &mut AppState, effects: &mut Vec<Effect>) {
    for table in &mut state.data.tables {
        table.invalidate_sort();
    }
    state.rebuild_all();
    describe_selected_if_needed(state, effects);
}

/// A left click on a table row selects it (with help open, it only closes the help).
fn click(state: &mut AppState, column: u16, row: u16, effects: &mut Vec<Effect>) {
    match state.key_set() {
        KeySet::Help => return close_help(state),
        // Only the table's rows take a click; the groups and the pivot are keys-only.
        KeySet::TooSmall => return,
        _ if !state.view.mode.shows_table() => return,
        _ => {}
    }
    let (width, height) = state.view.terminal_size;
    let table = super::layout::areas(
        Rect::new(0, 0, width, height),
        state.view.mode.pane_open(),
        state.status_rows(),
    )
    .table;
    // Rows start under the top border and the column header, and end above the bottom border.
    let first_row = table.y + 2;
    let inside = column > table.x
        && column < table.right().saturating_sub(1)
        && row >= first_row
        && row < table.bottom().saturating_sub(1);
    if !inside {
        return;
    }
    let pos = state.active_table().offset + (row - first_row) as usize;
    if pos < state.active_table().view_len() {
        move_to(state, pos, effects);
    }
}

fn move_by(state: &mut AppState, delta: isize, effects: &mut Vec<Effect>) {
    let current = state.active_table().selected_pos().unwrap_or(0);
    let target = current.saturating_add_signed(delta);
    move_to(state, target, effects);
}

fn move_to(state: &mut AppState, pos: usize, effects: &mut Vec<Effect>) {
    let (rows, pane_open) = (state.table_rows(), state.view.mode.pane_open());
    state.view.detail_scroll = 0;
    let table = state.tab_table_mut(state.view.active);
    table.select_pos(pos);
    if pane_open {
        // The pane shows what the operator chose, even the top row: it never moves by itself.
        table.set_following(false);
    }
    table.scroll_into_view(rows);
    describe_selected_if_needed(state, effects);
}

/// With the detail pane open, the selected request is described unless its final answer is
/// already known (finished requests never change) or its describe was given up. Whether one is
/// already on its way is the poller's to know: it asks each request once.
fn describe_selected_if_needed(state: &mut AppState, effects: &mut Vec<Effect>) {
    if !state.view.mode.pane_open() {
        return;
    }
    let Some(row) = state.active_table().selected() else {
        return;
    };
    let kind = row.kind;
    let fresh_enough = match &row.answer {
        Some(answer) if answer.status.is_finished() => true,
        // An in-progress answer is still good if the status has not moved since.
        Some(answer) => answer.status == row.status,
        None => false,
    };
    if fresh_enough
        || state
            .data
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
