//! Fixtures for driving the app state without a terminal or network.
#![allow(dead_code)]

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ssowatch::app::{self, AppState, ConnectionInfo, Effect, Msg};
use ssowatch::model::{Described, Instance, OperationKind, RequestDetail, Status, StatusSummary};
use ssowatch::poller::{Event, Lane, Priority};
use ssowatch::provider::ProviderInfo;

pub const CREATION: OperationKind = OperationKind::AssignmentCreation;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A deterministic request id for index `i` (of assignment creation).
pub fn rid(i: usize) -> String {
    rid_of(OperationKind::AssignmentCreation, i)
}

/// A deterministic request id for index `i` of a kind: ids are unique across kinds, as
/// Identity Center's UUIDs are.
pub fn rid_of(kind: OperationKind, i: usize) -> String {
    format!(
        "{:08x}-{}111-4222-8333-{:012x}",
        i,
        kind.index() + 1,
        i * 7919
    )
}

pub fn summary(kind: OperationKind, i: usize, status: Status) -> StatusSummary {
    StatusSummary {
        kind,
        request_id: rid_of(kind, i),
        status,
        created: t0() - chrono::Duration::seconds(60 * i as i64 + 30),
    }
}

pub fn status_for(i: usize) -> Status {
    match i % 5 {
        0 => Status::Failed,
        1 | 2 => Status::InProgress,
        _ => Status::Succeeded,
    }
}

pub fn described(kind: OperationKind, i: usize, status: Status, reason: Option<&str>) -> Described {
    Described {
        summary: summary(kind, i, status),
        detail: RequestDetail {
            failure_reason: reason.map(str::to_string),
            target_account: Some("123456789012".into()),
            target_type: Some("AWS_ACCOUNT".into()),
            permission_set: Some(
                "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-0123456789abcdef".into(),
            ),
            permission_set_name: None,
            principal_name: None,
            account_name: None,
            principal_type: Some("GROUP".into()),
            principal_id: Some("f81d4fae-7dec-11d0-a765-00a0c91e6bf6".into()),
        },
        source_call: "DescribeAccountAssignmentCreationStatus".into(),
        described_at: t0() - chrono::Duration::seconds(5),
    }
}

pub fn new_state(width: u16, height: u16) -> AppState {
    let mut state = AppState::new(
        ConnectionInfo {
            provider: ProviderInfo {
                name: "aws".into(),
                profile: Some("prod-admin".into()),
                region: Some("us-east-1".into()),
                endpoint: None,
            },
            instance: Some(Instance {
                id: "arn:aws:sso:::instance/ssoins-1234567890abcdef".into(),
                identity_store_id: Some("d-1234567890".into()),
                name: None,
            }),
            demo: false,
            hub: None,
        },
        Duration::from_secs(10),
        t0(),
        utc_offset(),
    );
    app::update(&mut state, Msg::Resize { width, height });
    state
}

pub fn utc_offset() -> FixedOffset {
    chrono::Offset::fix(&Utc)
}

/// Loads `n` records of `kind` with the status pattern of [`status_for`], all loads done.
pub fn load(state: &mut AppState, kind: OperationKind, n: usize) {
    let items = (0..n).map(|i| summary(kind, i, status_for(i))).collect();
    send(state, Event::Records { kind, items });
    for k in OperationKind::ALL {
        send(
            state,
            Event::LoadProgress {
                lane: Lane::Full,
                kind: k,
                pages: 1,
                records: n as u64,
                done: true,
            },
        );
    }
    send(
        state,
        Event::ListSucceeded {
            kind: CREATION,
            at: t0() - chrono::Duration::seconds(2),
        },
    );
}

pub fn send(state: &mut AppState, event: Event) -> Vec<Effect> {
    app::update(state, Msg::Poll(event))
}

pub fn key(state: &mut AppState, code: KeyCode) -> Vec<Effect> {
    app::update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn chars(state: &mut AppState, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| key(state, KeyCode::Char(c)))
        .collect()
}

pub fn visible_ids(state: &AppState) -> Vec<String> {
    let table = state.active_table();
    (0..table.view_len())
        .filter_map(|p| table.view_row(p))
        .map(|r| r.request_id.to_string())
        .collect()
}

/// How many describes the operator's action asked for (enrichment of the rows on screen is
/// counted by [`enrichment`]).
pub fn describes(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Describe(r) if r.priority == Priority::Interactive))
        .count()
}

/// The request ids the update asked to describe because they are on screen without detail.
pub fn enrichment(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .flat_map(|e| match e {
            Effect::DescribeOnScreen(requests) => {
                requests.iter().map(|r| r.request_id.clone()).collect()
            }
            _ => Vec::new(),
        })
        .collect()
}
