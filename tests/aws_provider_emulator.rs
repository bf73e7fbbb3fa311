//! The real AWS provider (the official SDK, SigV4, JSON 1.1) against the in-process emulator
//! over loopback: paging, status filters, each describe, the typed errors, and instance
//! discovery.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use ssowatch::emulator::{self, Clock, EmulatorConfig, EmulatorHandle};
use ssowatch::model::{OperationKind, Status};
use ssowatch::provider::aws::{AwsOptions, AwsProvider};
use ssowatch::provider::{ErrorKind, Provider, list_all, resolve_instance};

async fn provider_for(handle: &EmulatorHandle, access_key: &str) -> AwsProvider {
    AwsProvider::new(AwsOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(handle.base_url.clone()),
        static_credentials: Some((access_key.into(), emulator::DEMO_AWS_SECRET_KEY.into())),
    })
    .await
    .expect("provider")
}

async fn stable(history: usize) -> (EmulatorHandle, AwsProvider) {
    let handle = emulator::start(
        EmulatorConfig {
            history,
            rate: 0.0,
            ..EmulatorConfig::default()
        },
        0,
    )
    .await
    .expect("emulator");
    let provider = provider_for(&handle, emulator::DEMO_AWS_ACCESS_KEY).await;
    (handle, provider)
}

/// An emulator on a manual clock, moved into a live rollout so every status exists.
async fn live() -> (EmulatorHandle, AwsProvider, Clock) {
    let start = Utc
        .with_ymd_and_hms(2026, 6, 1, 8, 0, 0)
        .single()
        .expect("date");
    let clock = Clock::manual(start);
    let handle = emulator::start_with_clock(
        EmulatorConfig {
            history: 120,
            rate: 1.0,
            failure_ratio: 0.3,
            ..EmulatorConfig::default()
        },
        clock.clone(),
        0,
    )
    .await
    .expect("emulator");
    clock.advance(Duration::from_secs(600));
    let provider = provider_for(&handle, emulator::DEMO_AWS_ACCESS_KEY).await;
    (handle, provider, clock)
}

#[tokio::test]
async fn paging_returns_every_record_exactly_once_over_many_pages() {
    let (handle, provider) = stable(350).await;
    let instance = handle.instance_arn();
    for kind in OperationKind::ALL {
        let mut pages = 0;
        let items = list_all(&provider, &instance, kind, None, |_| pages += 1)
            .await
            .expect("list");
        assert_eq!(pages, 4, "{kind}: 350 records are 4 pages of 100");
        let ids: Vec<&str> = items.iter().map(|s| s.request_id.as_str()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{kind}: duplicates");
        let org = handle.core().org();
        let truth: HashMap<&str, _> = org
            .requests(kind)
            .iter()
            .map(|r| (r.request_id.as_str(), r.created))
            .collect();
        assert_eq!(unique.len(), truth.len(), "{kind}: count");
        for item in &items {
            let created = truth
                .get(item.request_id.as_str())
                .copied()
                .expect("known id");
            assert_eq!(
                item.created.timestamp_millis(),
                created.timestamp_millis(),
                "created survives the wire"
            );
            assert_eq!(item.kind, kind);
        }
    }
    let stats = handle.stats();
    assert_eq!(
        stats
            .by_operation
            .get("ListAccountAssignmentCreationStatus"),
        Some(&4)
    );
}

#[tokio::test]
async fn each_status_filter_returns_exactly_that_status() {
    let (handle, provider, clock) = live().await;
    let instance = handle.instance_arn();
    let now = clock.now();
    for kind in OperationKind::ALL {
        for status in [Status::InProgress, Status::Failed, Status::Succeeded] {
            let items = list_all(&provider, &instance, kind, Some(&status), |_| {})
                .await
                .expect("list");
            let org = handle.core().org();
            let expected: HashSet<String> = org
                .requests(kind)
                .iter()
                .filter(|r| r.created <= now && r.status_at(now) == status)
                .map(|r| r.request_id.clone())
                .collect();
            assert!(
                !expected.is_empty(),
                "{kind} {status}: the scenario should have some"
            );
            assert!(
                items.iter().all(|i| i.status == status),
                "{kind} {status}: wrong status in filtered list"
            );
            let got: HashSet<String> = items.into_iter().map(|i| i.request_id).collect();
            assert_eq!(got, expected, "{kind} {status}");
        }
    }
}

#[tokio::test]
async fn each_describe_fills_in_the_detail() {
    let (handle, provider, clock) = live().await;
    let instance = handle.instance_arn();
    let now = clock.now();
    for kind in OperationKind::ALL {
        let (failed, succeeded) = {
            let org = handle.core().org();
            let pick = |s: Status| {
                org.requests(kind)
                    .iter()
                    .find(|r| r.created <= now && r.status_at(now) == s)
                    .map(|r| r.request_id.clone())
                    .expect("one")
            };
            (pick(Status::Failed), pick(Status::Succeeded))
        };
        let d = provider
            .describe(&instance, kind, &failed)
            .await
            .expect("describe failed one");
        assert_eq!(d.summary.status, Status::Failed);
        assert_eq!(d.summary.request_id, failed);
        assert!(
            d.detail
                .failure_reason
                .as_deref()
                .is_some_and(|r| r.len() > 20),
            "{kind}: reason"
        );
        assert!(
            d.detail
                .target_account
                .as_deref()
                .is_some_and(|a| a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()))
        );
        assert!(
            d.detail
                .permission_set
                .as_deref()
                .is_some_and(|p| p.starts_with("arn:aws:sso:::permissionSet/"))
        );
        let expected_call = match kind {
            OperationKind::AssignmentCreation => "DescribeAccountAssignmentCreationStatus",
            OperationKind::AssignmentDeletion => "DescribeAccountAssignmentDeletionStatus",
            OperationKind::PermissionSetProvisioning => "DescribePermissionSetProvisioningStatus",
        };
        assert_eq!(d.source_call, expected_call);
        if kind == OperationKind::PermissionSetProvisioning {
            assert_eq!(d.detail.principal_id, None);
        } else {
            assert!(matches!(
                d.detail.principal_type.as_deref(),
                Some("USER" | "GROUP")
            ));
            assert!(d.detail.principal_id.is_some());
            assert_eq!(d.detail.target_type.as_deref(), Some("AWS_ACCOUNT"));
        }
        let ok = provider
            .describe(&instance, kind, &succeeded)
            .await
            .expect("describe succeeded one");
        assert_eq!(ok.summary.status, Status::Succeeded);
        assert_eq!(ok.detail.failure_reason, None);

        let ps = d.detail.permission_set.clone().expect("permission set");
        let name = provider
            .permission_set_name(&instance, &ps)
            .await
            .expect("name");
        assert!(name.is_some_and(|n| !n.is_empty()));
    }
}

#[tokio::test]
async fn validation_and_not_found_are_typed() {
    let (handle, provider) = stable(5).await;
    let err = provider
        .list_page(
            "arn:aws:sso:::instance/not-an-instance",
            OperationKind::AssignmentCreation,
            None,
            None,
        )
        .await
        .expect_err("bad ARN");
    assert_eq!(err.kind, ErrorKind::Validation, "{err}");
    assert!(err.message.contains("instanceArn"), "{err}");
    assert!(err.request_id.is_some(), "the service's request id is kept");

    let err = provider
        .describe(
            &handle.instance_arn(),
            OperationKind::AssignmentDeletion,
            "0b0e6a2c-1111-4222-8333-444455556666",
        )
        .await
        .expect_err("unknown id");
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");

    let err = provider
        .describe(
            &handle.instance_arn(),
            OperationKind::AssignmentDeletion,
            "NOT-A-UUID",
        )
        .await
        .expect_err("malformed id");
    assert_eq!(err.kind, ErrorKind::Validation, "{err}");

    let err = provider
        .list_page(
            &handle.instance_arn(),
            OperationKind::AssignmentCreation,
            None,
            Some("forged_token"),
        )
        .await
        .expect_err("forged token");
    assert_eq!(err.kind, ErrorKind::Validation, "{err}");
}

#[tokio::test]
async fn instance_discovery_with_zero_one_and_two_instances() {
    for (count, ok) in [(0usize, false), (1, true), (2, false)] {
        let handle = emulator::start(
            EmulatorConfig {
                instances: count,
                history: 1,
                rate: 0.0,
                ..EmulatorConfig::default()
            },
            0,
        )
        .await
        .expect("emulator");
        let provider = provider_for(&handle, emulator::DEMO_AWS_ACCESS_KEY).await;
        let result = resolve_instance(&provider, None).await;
        if ok {
            assert_eq!(result.expect("one instance").id, handle.instance_arn());
        } else {
            let err = result.expect_err("zero or two instances");
            assert_eq!(err.kind, ErrorKind::Config);
            assert!(
                err.hint
                    .as_deref()
                    .is_some_and(|h| h.contains("--instance-arn")),
                "{err}"
            );
            if count == 2 {
                assert!(
                    err.message.contains(&handle.instance_arn()),
                    "lists what was found: {err}"
                );
                assert!(
                    err.message.starts_with("2 Identity Center instances"),
                    "{err}"
                );
            }
        }
    }
}

#[tokio::test]
async fn expired_credentials_are_an_auth_error_with_a_hint() {
    let (handle, _) = stable(1).await;
    let provider = provider_for(&handle, "ASIAEXPIREDKEY000001").await;
    let err = provider.list_instances().await.expect_err("expired");
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert!(err.message.contains("ExpiredTokenException"), "{err}");
    assert!(
        err.hint
            .as_deref()
            .is_some_and(|h| h.contains("aws sso login")),
        "{err}"
    );
    assert!(
        !err.to_string().contains(emulator::DEMO_AWS_SECRET_KEY),
        "no secret in errors"
    );
}

#[tokio::test]
async fn throttling_server_errors_and_garbage_are_typed_not_panics() {
    let (handle, provider) = stable(5).await;
    let instance = handle.instance_arn();
    handle.faults(|f| f.throttle_next = 1);
    let err = provider
        .list_page(&instance, OperationKind::AssignmentCreation, None, None)
        .await
        .expect_err("throttled");
    assert_eq!(err.kind, ErrorKind::Throttled, "{err}");
    handle.faults(|f| f.fail_next = 1);
    let err = provider
        .list_page(&instance, OperationKind::AssignmentCreation, None, None)
        .await
        .expect_err("500");
    assert_eq!(err.kind, ErrorKind::Transient, "{err}");
    handle.faults(|f| f.malformed_next = 1);
    let err = provider
        .list_page(&instance, OperationKind::AssignmentCreation, None, None)
        .await
        .expect_err("garbage");
    assert_eq!(err.kind, ErrorKind::Malformed, "{err}");
    // And it recovers: the next call is fine, and each call was exactly one request.
    provider
        .list_page(&instance, OperationKind::AssignmentCreation, None, None)
        .await
        .expect("recovered");
    assert_eq!(
        handle
            .stats()
            .by_operation
            .get("ListAccountAssignmentCreationStatus"),
        Some(&4)
    );
}

#[tokio::test]
async fn hostile_failure_reasons_arrive_sanitized() {
    let handle = emulator::start(
        EmulatorConfig {
            history: 30,
            rate: 0.0,
            failure_ratio: 1.0,
            hostile_text: true,
            ..EmulatorConfig::default()
        },
        0,
    )
    .await
    .expect("emulator");
    let provider = provider_for(&handle, emulator::DEMO_AWS_ACCESS_KEY).await;
    let instance = handle.instance_arn();
    let raw_hostile = handle
        .core()
        .org()
        .requests(OperationKind::AssignmentCreation)
        .iter()
        .filter(|r| {
            r.failure_reason
                .as_deref()
                .is_some_and(|t| t.contains('\u{1b}'))
        })
        .count();
    assert!(raw_hostile > 0, "the scenario must contain hostile text");
    let items = list_all(
        &provider,
        &instance,
        OperationKind::AssignmentCreation,
        None,
        |_| {},
    )
    .await
    .expect("list");
    for item in items {
        let d = provider
            .describe(&instance, item.kind, &item.request_id)
            .await
            .expect("describe");
        let reason = d.detail.failure_reason.expect("failed");
        assert!(
            !reason.chars().any(|c| c.is_control()),
            "control characters reached the model: {reason:?}"
        );
        assert!(
            !reason.contains("pwned"),
            "OSC payload reached the model: {reason:?}"
        );
    }
}

#[tokio::test]
async fn full_listings_retry_throttled_pages_and_finish() {
    let (handle, provider) = stable(150).await;
    handle.faults(|f| f.throttle_next = 2);
    let items = list_all(
        &provider,
        &handle.instance_arn(),
        OperationKind::AssignmentCreation,
        None,
        |_| {},
    )
    .await
    .expect("a full listing rides out throttling");
    assert_eq!(items.len(), 150);
    let stats = handle.stats();
    assert_eq!(stats.throttled, 2);
    // Two throttled attempts, then the two pages.
    assert_eq!(
        stats
            .by_operation
            .get("ListAccountAssignmentCreationStatus"),
        Some(&4)
    );
}
