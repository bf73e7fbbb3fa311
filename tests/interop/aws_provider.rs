//! The real `AwsProvider` (official SDK: SigV4 signing, JSON 1.1 serialization, its error
//! parsing) against the in-process emulator on 127.0.0.1, compared with the emulator's own
//! ground truth (`handle.core().org()`).
//!
//! Every list walk here calls `Provider::list_page` page by page instead of `list_all`, because
//! `list_all` de-duplicates by request id and would hide a provider that returns a record twice.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ssowatch::emulator::{self, Clock, EmulatorConfig, EmulatorHandle};
use ssowatch::model::{OperationKind, Page, Status};
use ssowatch::provider::aws::{AwsOptions, AwsProvider};
use ssowatch::provider::{ErrorKind, Provider, resolve_instance};

const WELL_FORMED_UNKNOWN_ID: &str = "7d9c0a4e-5b1f-4c2a-9e3d-0123456789ab";

fn list_operation(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::AssignmentCreation => "ListAccountAssignmentCreationStatus",
        OperationKind::AssignmentDeletion => "ListAccountAssignmentDeletionStatus",
        OperationKind::PermissionSetProvisioning => "ListPermissionSetProvisioningStatus",
    }
}

fn describe_operation(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::AssignmentCreation => "DescribeAccountAssignmentCreationStatus",
        OperationKind::AssignmentDeletion => "DescribeAccountAssignmentDeletionStatus",
        OperationKind::PermissionSetProvisioning => "DescribePermissionSetProvisioningStatus",
    }
}

async fn provider_with_key(handle: &EmulatorHandle, access_key: &str) -> AwsProvider {
    AwsProvider::new(AwsOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(handle.base_url.clone()),
        static_credentials: Some((access_key.into(), emulator::DEMO_AWS_SECRET_KEY.into())),
    })
    .await
    .expect("the provider builds with a region and static credentials")
}

async fn provider_for(handle: &EmulatorHandle) -> AwsProvider {
    provider_with_key(handle, emulator::DEMO_AWS_ACCESS_KEY).await
}

async fn start(config: EmulatorConfig) -> EmulatorHandle {
    let handle = emulator::start(config, 0).await.expect("emulator starts");
    assert!(
        handle.base_url.starts_with("http://127.0.0.1:"),
        "loopback only: {}",
        handle.base_url
    );
    handle
}

/// A frozen organization: 350 finished records per kind, no rollout.
fn stable_config() -> EmulatorConfig {
    EmulatorConfig {
        history: 350,
        rate: 0.0,
        ..EmulatorConfig::default()
    }
}

/// An emulator on a manual clock moved 15 minutes into a live rollout, so that IN_PROGRESS,
/// FAILED and SUCCEEDED records all exist. The clock never moves again, so ground truth taken
/// from the emulator stays exact for the whole test.
async fn live() -> (EmulatorHandle, AwsProvider, DateTime<Utc>) {
    let start = crate::support::start_time();
    let clock = Clock::manual(start);
    let handle = emulator::start_with_clock(
        EmulatorConfig {
            seed: 42,
            history: 150,
            rate: 2.0,
            failure_ratio: 0.25,
            ..EmulatorConfig::default()
        },
        clock.clone(),
        0,
    )
    .await
    .expect("emulator starts");
    clock.advance(Duration::from_secs(15 * 60));
    let provider = provider_for(&handle).await;
    let now = clock.now();
    (handle, provider, now)
}

/// Walks every page of one kind with `list_page`, returning the pages as they came.
async fn walk(
    provider: &AwsProvider,
    instance: &str,
    kind: OperationKind,
    status: Option<&Status>,
) -> Vec<Page> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        assert!(pages.len() < 1000, "{kind}: the page walk does not end");
        let page = provider
            .list_page(instance, kind, status, token.as_deref())
            .await
            .unwrap_or_else(|e| panic!("{kind} {status:?} page {}: {e}", pages.len() + 1));
        token = page.next_token.clone();
        if let Some(t) = &token {
            assert!(!t.is_empty(), "an empty token must be reported as None");
        }
        pages.push(page);
        if token.is_none() {
            return pages;
        }
    }
}

#[tokio::test]
async fn pagination_walks_four_pages_per_kind_and_returns_every_record_exactly_once() {
    let handle = start(stable_config()).await;
    let provider = provider_for(&handle).await;
    let instance = handle.instance_arn();
    for kind in OperationKind::ALL {
        let before = handle
            .stats()
            .by_operation
            .get(list_operation(kind))
            .copied()
            .unwrap_or(0);
        let pages = walk(&provider, &instance, kind, None).await;
        let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
        assert_eq!(
            sizes,
            vec![100, 100, 100, 50],
            "{kind}: 350 records in pages of MaxResults 100"
        );
        let after = handle.stats().by_operation[list_operation(kind)];
        assert_eq!(after - before, 4, "{kind}: one HTTP request per page");

        let items: Vec<_> = pages.into_iter().flat_map(|p| p.items).collect();
        let mut seen = HashSet::new();
        for item in &items {
            assert!(
                seen.insert(item.request_id.clone()),
                "{kind}: {} came twice",
                item.request_id
            );
            assert_eq!(item.kind, kind);
        }
        let org = handle.core().org();
        let now = handle.core().now();
        let truth: HashMap<&str, (Status, i64)> = org
            .requests(kind)
            .iter()
            .map(|r| {
                (
                    r.request_id.as_str(),
                    (r.status_at(now), r.created.timestamp_millis()),
                )
            })
            .collect();
        assert_eq!(truth.len(), 350, "{kind}: ground truth");
        assert_eq!(items.len(), truth.len(), "{kind}: every record once");
        for item in &items {
            let (status, created) = truth
                .get(item.request_id.as_str())
                .unwrap_or_else(|| panic!("{kind}: unknown id {}", item.request_id));
            assert_eq!(&item.status, status, "{kind} {}", item.request_id);
            assert_eq!(
                item.created.timestamp_millis(),
                *created,
                "{kind} {}: CreatedDate survives the wire to the millisecond",
                item.request_id
            );
        }
    }
}

#[tokio::test]
async fn each_status_filter_returns_exactly_the_records_with_that_status() {
    let (handle, provider, now) = live().await;
    let instance = handle.instance_arn();
    for kind in OperationKind::ALL {
        let mut union = HashSet::new();
        for status in [Status::InProgress, Status::Failed, Status::Succeeded] {
            let items: Vec<_> = walk(&provider, &instance, kind, Some(&status))
                .await
                .into_iter()
                .flat_map(|p| p.items)
                .collect();
            let expected: HashSet<String> = handle
                .core()
                .org()
                .requests(kind)
                .iter()
                .filter(|r| r.created <= now && r.status_at(now) == status)
                .map(|r| r.request_id.clone())
                .collect();
            assert!(
                !expected.is_empty(),
                "{kind} {status}: the scenario must contain some"
            );
            for item in &items {
                assert_eq!(
                    item.status, status,
                    "{kind}: {} in {status}",
                    item.request_id
                );
            }
            let got: HashSet<String> = items.iter().map(|i| i.request_id.clone()).collect();
            assert_eq!(got.len(), items.len(), "{kind} {status}: duplicates");
            assert_eq!(got, expected, "{kind} {status}: differs from ground truth");
            union.extend(got);
        }
        // The three filters partition the unfiltered listing.
        let all: HashSet<String> = walk(&provider, &instance, kind, None)
            .await
            .into_iter()
            .flat_map(|p| p.items)
            .map(|i| i.request_id)
            .collect();
        assert_eq!(union, all, "{kind}: the filters partition the listing");
    }
}

#[tokio::test]
async fn each_describe_kind_fills_in_the_detail_like_the_emulator_knows_it() {
    let (handle, provider, now) = live().await;
    let instance = handle.instance_arn();
    for kind in OperationKind::ALL {
        for status in [Status::Failed, Status::Succeeded, Status::InProgress] {
            let (id, created, truth) = {
                let org = handle.core().org();
                let r = org
                    .requests(kind)
                    .iter()
                    .rev()
                    .find(|r| r.created <= now && r.status_at(now) == status)
                    .unwrap_or_else(|| panic!("{kind}: no {status} record in the scenario"));
                (
                    r.request_id.clone(),
                    r.created,
                    org.detail(kind, r, now, false),
                )
            };
            let d = provider
                .describe(&instance, kind, &id)
                .await
                .unwrap_or_else(|e| panic!("describe {kind} {status} {id}: {e}"));
            let what = format!("{kind} {status} {id}");
            assert_eq!(d.summary.kind, kind, "{what}");
            assert_eq!(d.summary.request_id, id, "{what}");
            assert_eq!(d.summary.status, status, "{what}");
            assert_eq!(
                d.summary.created.timestamp_millis(),
                created.timestamp_millis(),
                "{what}"
            );
            assert_eq!(d.source_call, describe_operation(kind), "{what}");
            // Failure reason present if and only if FAILED.
            match status {
                Status::Failed => assert!(
                    d.detail
                        .failure_reason
                        .as_deref()
                        .is_some_and(|r| !r.trim().is_empty()),
                    "{what}: a FAILED request carries its reason"
                ),
                _ => assert_eq!(d.detail.failure_reason, None, "{what}: no reason"),
            }
            assert_eq!(d.detail.failure_reason, truth.failure_reason, "{what}");
            let account = d.detail.target_account.clone().expect("target account");
            assert!(
                account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()),
                "{what}: account id {account}"
            );
            assert_eq!(d.detail.target_account, truth.target_account, "{what}");
            assert!(
                d.detail
                    .permission_set
                    .as_deref()
                    .is_some_and(|p| p.starts_with("arn:aws:sso:::permissionSet/")),
                "{what}: {:?}",
                d.detail.permission_set
            );
            assert_eq!(d.detail.permission_set, truth.permission_set, "{what}");
            if kind == OperationKind::PermissionSetProvisioning {
                assert_eq!(d.detail.principal_type, None, "{what}");
                assert_eq!(d.detail.principal_id, None, "{what}");
                assert_eq!(d.detail.target_type, None, "{what}");
            } else {
                assert!(
                    matches!(d.detail.principal_type.as_deref(), Some("USER" | "GROUP")),
                    "{what}: {:?}",
                    d.detail.principal_type
                );
                assert!(d.detail.principal_id.is_some(), "{what}: principal id");
                assert_eq!(d.detail.principal_type, truth.principal_type, "{what}");
                assert_eq!(d.detail.principal_id, truth.principal_id, "{what}");
                assert_eq!(d.detail.target_type.as_deref(), Some("AWS_ACCOUNT"));
            }
        }
    }
    assert_eq!(
        handle.stats().by_operation[describe_operation(OperationKind::AssignmentCreation)],
        3,
        "one HTTP request per describe"
    );
}

#[tokio::test]
async fn a_bad_instance_arn_is_a_validation_error() {
    let handle = start(EmulatorConfig {
        history: 5,
        rate: 0.0,
        ..EmulatorConfig::default()
    })
    .await;
    let provider = provider_for(&handle).await;
    for bad in [
        "arn:aws:sso:::instance/not-an-instance",
        "not-an-arn-at-all",
        "arn:aws:sso:::instance/ssoins-short",
    ] {
        let err = provider
            .list_page(bad, OperationKind::AssignmentCreation, None, None)
            .await
            .expect_err("a malformed instance ARN is refused");
        assert_eq!(err.kind, ErrorKind::Validation, "{bad}: {err}");
        assert!(!err.message.is_empty());
        let err = provider
            .describe(
                bad,
                OperationKind::PermissionSetProvisioning,
                WELL_FORMED_UNKNOWN_ID,
            )
            .await
            .expect_err("a malformed instance ARN is refused");
        assert_eq!(err.kind, ErrorKind::Validation, "{bad}: {err}");
    }
    // A request id that is not a UUID is a validation error too, not "not found".
    let err = provider
        .describe(
            &handle.instance_arn(),
            OperationKind::AssignmentCreation,
            "not-a-uuid",
        )
        .await
        .expect_err("not a UUID");
    assert_eq!(err.kind, ErrorKind::Validation, "{err}");
}

#[tokio::test]
async fn an_unknown_well_formed_request_id_is_not_found_for_every_kind() {
    let handle = start(EmulatorConfig {
        history: 5,
        rate: 0.0,
        ..EmulatorConfig::default()
    })
    .await;
    let provider = provider_for(&handle).await;
    for kind in OperationKind::ALL {
        let err = provider
            .describe(&handle.instance_arn(), kind, WELL_FORMED_UNKNOWN_ID)
            .await
            .expect_err("unknown id");
        assert_eq!(err.kind, ErrorKind::NotFound, "{kind}: {err}");
        assert!(
            !err.kind.is_retryable(),
            "not found must not be retried: {err}"
        );
    }
    // A request id of one kind is not found as another kind.
    let creation_id = handle
        .core()
        .org()
        .requests(OperationKind::AssignmentCreation)[0]
        .request_id
        .clone();
    let err = provider
        .describe(
            &handle.instance_arn(),
            OperationKind::AssignmentDeletion,
            &creation_id,
        )
        .await
        .expect_err("wrong kind");
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn instance_discovery_with_zero_one_and_two_instances() {
    for count in [0usize, 1, 2] {
        let handle = start(EmulatorConfig {
            instances: count,
            history: 1,
            rate: 0.0,
            ..EmulatorConfig::default()
        })
        .await;
        let provider = provider_for(&handle).await;
        let listed = provider.list_instances().await.expect("list instances");
        assert_eq!(listed.len(), count, "ListInstances shows {count}");
        let result = resolve_instance(&provider, None).await;
        match count {
            1 => {
                let instance = result.expect("exactly one instance is used");
                assert_eq!(instance.id, handle.instance_arn());
                assert!(instance.identity_store_id.is_some());
            }
            0 => {
                let err = result.expect_err("no instance");
                assert_eq!(err.kind, ErrorKind::Config, "{err}");
                assert!(err.message.contains("no Identity Center instance"), "{err}");
                assert!(
                    err.hint
                        .as_deref()
                        .is_some_and(|h| h.contains("--instance-arn")),
                    "{err}"
                );
            }
            _ => {
                let err = result.expect_err("two instances");
                assert_eq!(err.kind, ErrorKind::Config, "{err}");
                assert!(err.message.contains('2'), "says how many: {err}");
                for found in &listed {
                    assert!(
                        err.message.contains(&found.id),
                        "lists {} in: {err}",
                        found.id
                    );
                }
                assert!(
                    err.hint
                        .as_deref()
                        .is_some_and(|h| h.contains("--instance-arn")),
                    "{err}"
                );
            }
        }
        // An explicit instance is used as given, with no call at all.
        let before = handle.stats().total;
        let explicit = resolve_instance(&provider, Some("arn:aws:sso:::instance/ssoins-0000"))
            .await
            .expect("explicit");
        assert_eq!(explicit.id, "arn:aws:sso:::instance/ssoins-0000");
        assert_eq!(handle.stats().total, before);
    }
}

#[tokio::test]
async fn expired_credentials_are_an_auth_error_with_a_hint() {
    let handle = start(EmulatorConfig {
        history: 5,
        rate: 0.0,
        ..EmulatorConfig::default()
    })
    .await;
    let provider = provider_with_key(&handle, "ASIAEXPIREDTESTKEY01").await;
    let err = provider
        .list_instances()
        .await
        .expect_err("expired credentials");
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert!(!err.kind.is_retryable());
    assert!(
        err.hint
            .as_deref()
            .is_some_and(|h| h.contains("aws sso login")),
        "the hint says what to do: {err}"
    );
    let err = provider
        .list_page(
            &handle.instance_arn(),
            OperationKind::AssignmentDeletion,
            None,
            None,
        )
        .await
        .expect_err("expired credentials");
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    let shown = err.to_string();
    assert!(
        !shown.contains(emulator::DEMO_AWS_SECRET_KEY),
        "no secret in errors: {shown}"
    );
}

#[tokio::test]
async fn throttling_internal_errors_and_malformed_bodies_are_typed() {
    let handle = start(EmulatorConfig {
        history: 5,
        rate: 0.0,
        ..EmulatorConfig::default()
    })
    .await;
    let provider = provider_for(&handle).await;
    let instance = handle.instance_arn();
    let kind = OperationKind::PermissionSetProvisioning;

    handle.faults(|f| f.throttle_next = 1);
    let err = provider
        .list_page(&instance, kind, None, None)
        .await
        .expect_err("throttled");
    assert_eq!(err.kind, ErrorKind::Throttled, "{err}");
    assert!(err.kind.is_retryable());
    assert_eq!(handle.stats().throttled, 1);

    handle.faults(|f| f.fail_next = 1);
    let err = provider
        .list_page(&instance, kind, None, None)
        .await
        .expect_err("InternalServerException");
    assert_eq!(err.kind, ErrorKind::Transient, "{err}");

    handle.faults(|f| f.malformed_next = 1);
    let err = provider
        .list_page(&instance, kind, None, None)
        .await
        .expect_err("malformed body");
    assert_eq!(err.kind, ErrorKind::Malformed, "{err}");

    // The same faults on a describe.
    let id = handle.core().org().requests(kind)[0].request_id.clone();
    handle.faults(|f| f.throttle_next = 1);
    let err = provider
        .describe(&instance, kind, &id)
        .await
        .expect_err("throttled describe");
    assert_eq!(err.kind, ErrorKind::Throttled, "{err}");
    handle.faults(|f| f.malformed_next = 1);
    let err = provider
        .describe(&instance, kind, &id)
        .await
        .expect_err("malformed describe");
    assert_eq!(err.kind, ErrorKind::Malformed, "{err}");

    // No hidden SDK retries: every failed call was exactly one request, and the next call
    // succeeds.
    let page = provider
        .list_page(&instance, kind, None, None)
        .await
        .expect("recovers");
    assert_eq!(page.items.len(), 5);
    provider
        .describe(&instance, kind, &id)
        .await
        .expect("recovers");
    let stats = handle.stats();
    assert_eq!(stats.by_operation[list_operation(kind)], 4);
    assert_eq!(stats.by_operation[describe_operation(kind)], 3);
}

#[tokio::test]
async fn hostile_failure_reasons_reach_the_model_without_control_characters() {
    const WRAP_START: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}";
    let handle = start(EmulatorConfig {
        history: 40,
        rate: 0.0,
        hostile_text: true,
        failure_ratio: 1.0,
        ..EmulatorConfig::default()
    })
    .await;
    let provider = provider_for(&handle).await;
    let instance = handle.instance_arn();
    let mut hostile_seen = 0;
    for kind in OperationKind::ALL {
        let raw: HashMap<String, String> = handle
            .core()
            .org()
            .requests(kind)
            .iter()
            .map(|r| {
                (
                    r.request_id.clone(),
                    r.failure_reason.clone().expect("failure_ratio 1.0"),
                )
            })
            .collect();
        let items: Vec<_> = walk(&provider, &instance, kind, None)
            .await
            .into_iter()
            .flat_map(|p| p.items)
            .collect();
        assert_eq!(items.len(), 40);
        for item in items {
            assert_eq!(item.status, Status::Failed);
            let d = provider
                .describe(&instance, kind, &item.request_id)
                .await
                .expect("describe");
            let reason = d.detail.failure_reason.expect("a FAILED reason");
            assert!(
                !reason.chars().any(|c| c.is_control()),
                "{kind}: control characters reached the model: {reason:?}"
            );
            assert!(!reason.contains('\u{1b}'), "{kind}: ESC: {reason:?}");
            assert!(
                !reason.contains("pwned"),
                "{kind}: OSC title payload: {reason:?}"
            );
            assert!(!reason.contains("[2J") && !reason.contains("[31m"));
            let original = &raw[&item.request_id];
            if let Some(rest) = original.strip_prefix(WRAP_START) {
                hostile_seen += 1;
                // The readable text in between survives.
                let inner = rest.split('\u{1b}').next().unwrap_or_default();
                assert!(
                    !inner.is_empty() && reason.contains(inner),
                    "{kind}: lost the reason itself: {reason:?} vs {original:?}"
                );
            } else {
                assert_eq!(&reason, original, "{kind}: a clean reason is kept verbatim");
            }
        }
    }
    assert!(
        hostile_seen > 0,
        "the scenario must contain hostile reasons"
    );
}

const CHILD_ENV: &str = "SSOWATCH_TEST_MISSING_REGION_CHILD";

/// Without a region anywhere the provider refuses to build, with a Config error. The AWS SDK
/// reads the region from the environment and from ~/.aws/config, which this test process cannot
/// safely change while other tests run, so it re-runs itself (just the test below) in a child
/// process whose environment has no region, no profile files and no metadata service.
#[test]
fn a_missing_region_is_a_config_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").expect("write");
    let exe = std::env::current_exe().expect("test binary");
    let mut child = std::process::Command::new(exe)
        .args([
            "aws_provider::missing_region_child",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, "1")
        .env("HOME", dir.path())
        .env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_PROFILE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the child test");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child test did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut s, &mut out);
    }
    assert!(status.success(), "child failed:\n{out}");
    assert!(
        out.contains("1 passed") && out.contains("MISSING-REGION-CHECKED"),
        "the child test did not run its check:\n{out}"
    );
}

/// Runs only as the child of [`a_missing_region_is_a_config_error`]; a no-op otherwise.
#[tokio::test]
async fn missing_region_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let result = AwsProvider::new(AwsOptions {
        profile: None,
        region: None,
        endpoint_url: Some("http://127.0.0.1:1".into()),
        static_credentials: Some((
            emulator::DEMO_AWS_ACCESS_KEY.into(),
            emulator::DEMO_AWS_SECRET_KEY.into(),
        )),
    })
    .await;
    let err = match result {
        Ok(_) => panic!("a provider without a region must not build"),
        Err(e) => e,
    };
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    assert!(err.message.contains("region"), "{err}");
    assert!(
        err.hint.as_deref().is_some_and(|h| h.contains("--region")),
        "{err}"
    );
    println!("MISSING-REGION-CHECKED");
}

#[tokio::test]
async fn full_listings_retry_throttled_pages_and_finish() {
    let handle = start(EmulatorConfig {
        history: 150,
        ..stable_config()
    })
    .await;
    let provider = provider_for(&handle).await;
    handle.faults(|f| f.throttle_next = 2);
    let items = ssowatch::provider::list_all(
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

/// Each transport and content fault of the emulator maps to the kind the poller and the
/// retry policy act on, with a message that names what happened and no SDK debug text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_and_content_faults_are_typed_by_what_happened() {
    use ssowatch::emulator::{Fault, FaultRule};
    let cases = [
        (Fault::Unavailable, ErrorKind::Transient, "HTTP 503"),
        (
            Fault::Truncated,
            ErrorKind::Transient,
            "connection closed before the whole answer",
        ),
        (
            Fault::Reset,
            ErrorKind::Transient,
            "cannot reach the service",
        ),
        (
            Fault::NotTheApi,
            ErrorKind::Config,
            "HTTP 404 with something that is not the SSO Admin API",
        ),
        (Fault::Malformed, ErrorKind::Malformed, "HTTP 200"),
        (Fault::TruncatedJson, ErrorKind::Malformed, "end of stream"),
        (Fault::WrongTypes, ErrorKind::Malformed, "yesterday"),
        (
            Fault::ExpiredCredentials,
            ErrorKind::Auth,
            "ExpiredTokenException",
        ),
        (
            Fault::UnrecognizedCredentials,
            ErrorKind::Auth,
            "UnrecognizedClientException",
        ),
        (Fault::Denied, ErrorKind::Auth, "AccessDeniedException"),
    ];
    for (fault, kind, needle) in cases {
        let handle = start(stable_config()).await;
        handle.faults(|f| f.rules = vec![FaultRule::always(fault)]);
        let provider = provider_for(&handle).await;
        let err = provider
            .list_page(
                &handle.instance_arn(),
                OperationKind::AssignmentCreation,
                None,
                None,
            )
            .await
            .expect_err("the fault fails the call");
        let shown = err.to_string();
        assert_eq!(err.kind, kind, "{fault:?}: {shown}");
        assert!(shown.contains(needle), "{fault:?}: {shown}");
        for debug in [
            "ResponseError",
            "hyper::",
            "SdkBody",
            "Expected one of",
            "{",
        ] {
            assert!(!shown.contains(debug), "{fault:?}: debug text in {shown}");
        }
        assert_eq!(handle.stats().total, 1, "{fault:?}: one request per call");
    }
}
