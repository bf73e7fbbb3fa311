//! Screens, rendered on ratatui's TestBackend and compared with reviewed snapshots. Messages are
//! fed through the real update function between snapshots.

mod app_support;

use app_support::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ssowatch::app::{self, AppState, Msg};
use ssowatch::model::{OperationKind, Status};
use ssowatch::poller::{Event, Lane, SpendReport};
use ssowatch::provider::{ErrorKind, ProviderError};
use ssowatch::ui::{self, Theme};

fn render(state: &AppState, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = match Terminal::new(TestBackend::new(width, height)) {
        Ok(t) => t,
        Err(e) => panic!("test backend: {e}"),
    };
    if let Err(e) = terminal.draw(|f| ui::draw(f, state, &Theme::default())) {
        panic!("draw: {e}");
    }
    terminal
}

const LONG_REASON: &str = "AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '908123456781' takes longer than usual. Please try again in a few minutes. If this problem continues, contact AWS Support.";

fn loaded(width: u16, height: u16) -> AppState {
    let mut state = new_state(width, height);
    load(&mut state, CREATION, 40);
    load(&mut state, OperationKind::AssignmentDeletion, 7);
    for i in [0usize, 5, 10] {
        send(
            &mut state,
            Event::Described(Box::new(described(
                CREATION,
                i,
                Status::Failed,
                Some(if i == 0 {
                    LONG_REASON
                } else {
                    "Received a 404 status error: the GROUP assignee 3f2a was not found in directory d-9067a1b2c3"
                }),
            ))),
        );
    }
    send(
        &mut state,
        Event::Spend(SpendReport {
            rps: 0.8,
            budget_rps: 2.0,
            effective_rps: 2.0,
            total_calls: 57,
            ..Default::default()
        }),
    );
    state
}

#[test]
fn first_load_in_progress() {
    let mut state = new_state(120, 16);
    send(
        &mut state,
        Event::LoadProgress {
            lane: Lane::Full,
            kind: CREATION,
            pages: 3,
            records: 300,
            done: false,
        },
    );
    app::update(&mut state, Msg::Tick(t0()));
    insta::assert_snapshot!(render(&state, 120, 16).backend());
}

#[test]
fn all_statuses() {
    let state = loaded(160, 20);
    insta::assert_snapshot!(render(&state, 160, 20).backend());
}

#[test]
fn failed_only() {
    let mut state = loaded(160, 20);
    key(&mut state, KeyCode::Char('f'));
    insta::assert_snapshot!(render(&state, 160, 20).backend());
}

#[test]
fn text_filter() {
    let mut state = loaded(160, 20);
    key(&mut state, KeyCode::Char('/'));
    chars(&mut state, "group assignee");
    insta::assert_snapshot!(render(&state, 160, 20).backend());
}

#[test]
fn detail_pane_with_long_failure_reason() {
    let mut state = loaded(160, 24);
    key(&mut state, KeyCode::Char('f'));
    key(&mut state, KeyCode::Enter);
    insta::assert_snapshot!(render(&state, 160, 24).backend());
}

#[test]
fn help_overlay() {
    let mut state = loaded(120, 30);
    key(&mut state, KeyCode::Char('?'));
    insta::assert_snapshot!(render(&state, 120, 30).backend());
}

#[test]
fn header_when_stale() {
    let mut state = loaded(120, 14);
    app::update(&mut state, Msg::Tick(t0() + chrono::Duration::seconds(95)));
    let error =
        ProviderError::new(ErrorKind::Transient, "connection refused").with_request_id(None);
    send(
        &mut state,
        Event::CallFailed {
            at: t0() + chrono::Duration::seconds(90),
            error,
        },
    );
    insta::assert_snapshot!(render(&state, 120, 14).backend());
}

#[test]
fn header_when_throttled() {
    let mut state = loaded(120, 14);
    let error = ProviderError::new(ErrorKind::Throttled, "Rate exceeded")
        .with_request_id(Some("5f0e3c1a-aaaa-bbbb-cccc-0123456789ab".into()));
    send(&mut state, Event::CallFailed { at: t0(), error });
    send(
        &mut state,
        Event::Spend(SpendReport {
            rps: 1.9,
            budget_rps: 2.0,
            total_calls: 120,
            throttled_calls: 4,
            failed_calls: 4,
            backoff_until: Some(t0() + chrono::Duration::seconds(8)),
            effective_rps: 1.0,
        }),
    );
    insta::assert_snapshot!(render(&state, 120, 14).backend());
}

#[test]
fn tiny_terminal_asks_for_more_room() {
    let mut state = loaded(30, 8);
    app::update(
        &mut state,
        Msg::Resize {
            width: 30,
            height: 8,
        },
    );
    insta::assert_snapshot!(render(&state, 30, 8).backend());
}
