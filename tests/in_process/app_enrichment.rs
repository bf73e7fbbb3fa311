//! Enrichment: finished rows on screen without their detail are asked to be described, once
//! the rows on screen have held still; rows that only pass through the screen while a load
//! streams in are not (the cause of a dashboard spending its whole budget on describes).

use crate::support::app as app_support;

use app_support::*;
use chrono::Duration;
use ssowatch::app::{self, Msg};
use ssowatch::model::OperationKind;
use ssowatch::poller::Event;

fn tick(state: &mut ssowatch::app::AppState, at: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    enrichment(&app::update(state, Msg::Tick(at)))
}

#[test]
fn rows_on_screen_are_described_once_they_hold_still() {
    let mut state = new_state(120, 30);
    app::update(&mut state, Msg::Tick(t0()));
    load(&mut state, CREATION, 60);
    // Not at once: the rows just arrived.
    assert!(tick(&mut state, t0() + Duration::milliseconds(500)).is_empty());
    let asked = tick(&mut state, t0() + Duration::seconds(3));
    let rows = state.table_rows();
    // Every row on screen, in-flight ones included: who and what never change.
    let on_screen = (0..rows)
        .filter_map(|p| state.active_table().view_row(p))
        .count();
    assert_eq!(asked.len(), on_screen);
    assert!(!asked.is_empty());
    // Once per window.
    assert!(tick(&mut state, t0() + Duration::seconds(10)).is_empty());
}

#[test]
fn rows_passing_through_a_loading_screen_are_not_described() {
    let mut state = new_state(120, 30);
    let mut asked = Vec::new();
    // A first load: every second a page of newer records pushes the screen's rows down.
    for second in 0..30i64 {
        let now = t0() + Duration::seconds(second);
        asked.extend(tick(&mut state, now));
        let items = (0..10)
            .map(|i| {
                let mut s = summary(CREATION, 10_000 - (second as usize * 10 + i), status_for(i));
                s.created = now + Duration::milliseconds(i as i64);
                s
            })
            .collect();
        asked.extend(enrichment(&app::update(
            &mut state,
            Msg::Poll(Event::Records {
                kind: CREATION,
                items,
            }),
        )));
    }
    assert!(
        asked.is_empty(),
        "described rows nobody could read: {asked:?}"
    );
    // The load ends; the screen holds still; now its rows are described.
    let end = t0() + Duration::seconds(40);
    assert!(
        !tick(&mut state, end).is_empty()
            || !tick(&mut state, end + Duration::seconds(3)).is_empty()
    );
}

#[test]
fn a_host_without_a_screen_asks_for_nothing() {
    let mut state = ssowatch::app::AppState::new(
        Default::default(),
        std::time::Duration::from_secs(10),
        t0(),
        utc_offset(),
    );
    load(&mut state, OperationKind::AssignmentDeletion, 50);
    for s in 0..10 {
        assert!(tick(&mut state, t0() + Duration::seconds(s)).is_empty());
    }
}

#[test]
fn in_flight_rows_on_screen_are_described_once_for_who_and_what() {
    use ratatui::crossterm::event::KeyCode;
    use ssowatch::model::Status;
    let mut state = new_state(120, 30);
    app::update(&mut state, Msg::Tick(t0()));
    load(&mut state, CREATION, 60);
    let asked = tick(&mut state, t0() + Duration::seconds(3));
    // Rows 1 and 2 are IN_PROGRESS (status_for): asked along with the finished ones.
    assert!(
        asked.contains(&rid(1)) && asked.contains(&rid(2)),
        "{asked:?}"
    );
    // Row 1 is described while in flight; row 0 (FAILED) with its final answer.
    send(
        &mut state,
        Event::Described(Box::new(described(CREATION, 1, Status::InProgress, None))),
    );
    send(
        &mut state,
        Event::Described(Box::new(described(
            CREATION,
            0,
            Status::Failed,
            Some("quota"),
        ))),
    );
    // A new window (FAILED only, then back) asks again only for what is still unknown.
    key(&mut state, KeyCode::Char('i'));
    key(&mut state, KeyCode::Char('i'));
    tick(&mut state, t0() + Duration::seconds(4));
    let again = tick(&mut state, t0() + Duration::seconds(7));
    assert!(!again.is_empty());
    assert!(!again.contains(&rid(1)), "described twice in flight");
    assert!(!again.contains(&rid(0)), "final answer asked again");
    assert!(again.contains(&rid(2)));
    // Row 1 finishes: its final status and reason are worth one more describe.
    send(
        &mut state,
        Event::Records {
            kind: CREATION,
            items: vec![summary(CREATION, 1, Status::Failed)],
        },
    );
    key(&mut state, KeyCode::Char('i'));
    key(&mut state, KeyCode::Char('i'));
    tick(&mut state, t0() + Duration::seconds(8));
    let after = tick(&mut state, t0() + Duration::seconds(11));
    assert!(after.contains(&rid(1)));
}

/// Issue 19: the in-flight rows on screen are described as tracking work once they hold still
/// on their own, even while rows below them keep changing (a first load streams older rows
/// in), so a rollout's rows show who and what within the first minute.
#[test]
fn in_flight_rows_are_described_as_tracking_work_while_rows_below_change() {
    use ssowatch::app::Effect;
    use ssowatch::model::Status;
    use ssowatch::poller::Priority;
    let tracking = |effects: &[Effect]| -> Vec<String> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Describe(r) if r.priority == Priority::Tracking => {
                    Some(r.request_id.clone())
                }
                _ => None,
            })
            .collect()
    };
    let mut state = new_state(120, 30);
    app::update(&mut state, Msg::Tick(t0()));
    // Three requests in flight at the top, then finished history streaming in below them.
    let flying: Vec<_> = (0..3)
        .map(|i| summary(CREATION, i, Status::InProgress))
        .collect();
    send(
        &mut state,
        Event::Records {
            kind: CREATION,
            items: flying,
        },
    );
    let mut asked = Vec::new();
    for second in 0..5i64 {
        let now = t0() + Duration::seconds(second);
        asked.extend(tracking(&app::update(&mut state, Msg::Tick(now))));
        let page = (0..5)
            .map(|i| summary(CREATION, 100 + second as usize * 5 + i, Status::Succeeded))
            .collect();
        asked.extend(tracking(&send(
            &mut state,
            Event::Records {
                kind: CREATION,
                items: page,
            },
        )));
    }
    asked.sort();
    assert_eq!(asked, vec![rid(0), rid(1), rid(2)]);
}
