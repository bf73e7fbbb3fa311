//! Enrichment: finished rows on screen without their detail are asked to be described, once
//! the rows on screen have held still; rows that only pass through the screen while a load
//! streams in are not (the cause of a dashboard spending its whole budget on describes).

mod app_support;

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
    let finished_on_screen = (0..rows)
        .filter_map(|p| state.active_table().view_row(p))
        .filter(|r| r.status.is_finished())
        .count();
    assert_eq!(asked.len(), finished_on_screen);
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
