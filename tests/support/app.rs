//! Fixtures for driving the app state without a terminal or network.
#![allow(dead_code)]

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ssowatch::app::{self, AppState, ConnectionInfo, Effect, Msg};
use ssowatch::model::{Described, Instance, OperationKind, RequestDetail, Status, StatusSummary};
use ssowatch::poller::{Event, Lane, Priority};
use ssowatch::provider::ProviderInfo;

pub const CREATION: OperationKind = OperationKind::AssignmentCreation;

/// The test clock's start time (`support::clock`).
pub fn t0() -> DateTime<Utc> {
    super::start_time()
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

/// The accounts, permission sets and principals of [`rollout`], by row index.
pub fn rollout_names(i: usize) -> (&'static str, &'static str, &'static str) {
    const ACCOUNTS: [&str; 4] = [
        "payments-prod",
        "payments-dev",
        "catalog-sandbox",
        "payments-prod-eu",
    ];
    const SETS: [&str; 3] = ["PowerUserAccess", "ReadOnlyAccess", "AdministratorAccess"];
    const WHO: [&str; 3] = ["payments-engineers", "jane.doe", "platform-admins"];
    (ACCOUNTS[i % 4], SETS[i % 3], WHO[(i / 2) % 3])
}

/// A describe answer of row `i` with the names of [`rollout_names`] (account id, permission
/// set and principal id differ per name, as they do in a real instance).
pub fn rollout_described(kind: OperationKind, i: usize, status: Status) -> Described {
    let (account, set, who) = rollout_names(i);
    let mut d = described(
        kind,
        i,
        status.clone(),
        (status == Status::Failed).then_some("Quota exceeded for IAM roles in the account"),
    );
    d.detail.target_account = Some(format!("1234567890{:02}", i % 4));
    d.detail.account_name = Some(account.into());
    d.detail.permission_set = Some(format!(
        "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-{:016x}",
        i % 3
    ));
    d.detail.permission_set_name = Some(set.into());
    d.detail.principal_type = Some(if who.contains('.') { "USER" } else { "GROUP" }.into());
    d.detail.principal_id = Some(format!("9067-{}", (i / 2) % 3));
    d.detail.principal_name = Some(who.into());
    d
}

/// `n` records of assignment creation, of which the first `described` are described with
/// the names of [`rollout_names`] (in-flight ones included).
pub fn rollout(width: u16, height: u16, n: usize, described: usize) -> AppState {
    let mut state = new_state(width, height);
    load(&mut state, CREATION, n);
    for i in 0..described {
        send(
            &mut state,
            Event::Described(Box::new(rollout_described(CREATION, i, status_for(i)))),
        );
    }
    state
}
