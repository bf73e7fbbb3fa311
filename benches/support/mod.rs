//! Shared fixtures for the benchmarks: a dashboard state holding `n` records.
#![allow(dead_code)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use ssowatch::app::{self, AppState, ConnectionInfo, Msg};
use ssowatch::model::{Described, Instance, OperationKind, RequestDetail, Status, StatusSummary};
use ssowatch::poller::{Event, Lane};
use ssowatch::provider::ProviderInfo;

pub const KIND: OperationKind = OperationKind::AssignmentCreation;

#[path = "../../tests/support/clock.rs"]
mod clock;

/// The tests' clock start (`tests/support/clock.rs`).
pub fn t0() -> DateTime<Utc> {
    clock::start_time()
}

pub fn request_id(i: usize) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        i * 2654435761 % 0xffff_ffff,
        i % 0xffff,
        i % 0xfff,
        (i * 7) % 0xfff,
        i * 40503
    )
}

pub fn status_of(i: usize) -> Status {
    match i % 20 {
        0 | 1 => Status::Failed,
        2 => Status::InProgress,
        _ => Status::Succeeded,
    }
}

pub fn summary(i: usize, status: Status) -> StatusSummary {
    StatusSummary {
        kind: KIND,
        request_id: request_id(i),
        status,
        created: t0() - chrono::Duration::seconds(i as i64 * 7),
    }
}

/// A state with `n` records of one kind, every tenth one described (as enrichment would leave
/// it), sized to `width` x `height`, with the detail pane open on a FAILED row.
pub fn loaded_state(n: usize, width: u16, height: u16) -> AppState {
    let mut state = AppState::new(
        ConnectionInfo {
            provider: ProviderInfo {
                name: "aws".into(),
                profile: Some("prod".into()),
                region: Some("eu-west-1".into()),
                endpoint: None,
            },
            instance: Some(Instance {
                id: "arn:aws:sso:::instance/ssoins-1234567890abcdef".into(),
                identity_store_id: None,
                name: None,
            }),
            demo: false,
            hub: None,
        },
        Duration::from_secs(10),
        t0(),
        chrono::Offset::fix(&Utc),
    );
    app::update(&mut state, Msg::Resize { width, height });
    let items: Vec<StatusSummary> = (0..n).map(|i| summary(i, status_of(i))).collect();
    app::update(&mut state, Msg::Poll(Event::Records { kind: KIND, items }));
    let described: Vec<Described> = (0..n)
        .step_by(10)
        .map(|i| described(i, status_of(i)))
        .collect();
    app::update(&mut state, Msg::Poll(Event::Cached(described)));
    for kind in OperationKind::ALL {
        app::update(
            &mut state,
            Msg::Poll(Event::LoadProgress {
                lane: Lane::Full,
                kind,
                pages: 1,
                records: n as u64,
                done: true,
            }),
        );
    }
    app::update(
        &mut state,
        Msg::Poll(Event::ListSucceeded {
            kind: KIND,
            at: t0(),
        }),
    );
    state
}

pub fn described(i: usize, status: Status) -> Described {
    let failed = status == Status::Failed;
    Described {
        summary: summary(i, status),
        detail: RequestDetail {
            failure_reason: failed.then(|| format!("Received a 404 status error: the GROUP assignee {i:08x} was not found in directory d-9067a1b2c3")),
            target_account: Some(format!("{:012}", 100_000_000_000u64 + (i as u64 % 500))),
            target_type: Some("AWS_ACCOUNT".into()),
            permission_set: Some(format!("arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-{:016x}", i % 40)),
            permission_set_name: None,
            principal_name: None,
            account_name: None,
            principal_type: Some("GROUP".into()),
            principal_id: Some(format!("f81d4fae-7dec-11d0-a765-{:012x}", i % 3000)),
        },
        source_call: "DescribeAccountAssignmentCreationStatus".into(),
        described_at: t0(),
    }
}
