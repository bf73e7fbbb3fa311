//! The Huawei provider against the full in-process emulator (`ssowatch::emulator::start` on
//! an ephemeral loopback port): the same simulated organization the AWS side serves, signed
//! requests verified with the emulator's AK/SK.

use chrono::TimeDelta;
use ssowatch::config::{ProviderKind, Settings};
use ssowatch::emulator::{self, EmulatorConfig};
use ssowatch::model::{OperationKind, Status};
use ssowatch::provider::huawei::HuaweiProvider;
use ssowatch::provider::huawei_credentials::HuaweiCredentials;
use ssowatch::provider::{ErrorKind, Provider, list_all, resolve_instance};

const HISTORY: usize = 350;

fn config() -> EmulatorConfig {
    EmulatorConfig {
        seed: 3,
        instances: 1,
        history: HISTORY,
        rate: 0.0,
        ..EmulatorConfig::default()
    }
}

fn provider(url: &str, sk: &str) -> HuaweiProvider {
    HuaweiProvider::new(
        url,
        HuaweiCredentials::new(emulator::DEFAULT_HUAWEI_AK, sk)
            .with_domain_id(Some(emulator::DEMO_HUAWEI_DOMAIN_ID.to_string())),
    )
    .expect("provider")
}

async fn stats(url: &str) -> serde_json::Value {
    reqwest::get(format!("{url}/_emulator/stats"))
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats json")
}

#[tokio::test]
async fn lists_every_kind_over_pages_and_describes() {
    let em = emulator::start(config(), 0).await.expect("emulator");
    let p = provider(&em.base_url, emulator::DEFAULT_HUAWEI_SK);
    let instance = resolve_instance(&p, None).await.expect("instance");
    for kind in OperationKind::ALL {
        let mut pages = 0;
        let all = list_all(&p, &instance.id, kind, None, |_| pages += 1)
            .await
            .expect("list");
        // No live rollout (rate 0): exactly the history, in 100-record pages.
        assert_eq!(all.len(), HISTORY, "{kind}");
        assert_eq!(pages, 4, "{kind}");
        let mut ids: Vec<&str> = all.iter().map(|s| s.request_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "{kind}: every record exactly once");
        let mut total = 0;
        for status in [Status::InProgress, Status::Failed, Status::Succeeded] {
            let filtered = list_all(&p, &instance.id, kind, Some(&status), |_| {})
                .await
                .expect("filtered");
            assert!(filtered.iter().all(|s| s.status == status));
            total += filtered.len();
        }
        assert_eq!(total, all.len(), "{kind}: the filters partition the list");
        let failed = all
            .iter()
            .find(|s| s.status == Status::Failed)
            .expect("a FAILED record");
        let d = p
            .describe(&instance.id, kind, &failed.request_id)
            .await
            .expect("describe");
        assert_eq!(d.summary, *failed);
        // The source line names the Huawei call, not an AWS operation.
        assert!(
            d.source_call.starts_with("GET /v1/instances/"),
            "{}",
            d.source_call
        );
        let reason = d.detail.failure_reason.clone().unwrap_or_default();
        assert!(!reason.contains("AWS"), "{reason}");
        assert!(d.detail.failure_reason.is_some());
        assert!(d.detail.permission_set.is_some());
        let name = p
            .permission_set_name(
                &instance.id,
                d.detail.permission_set.as_deref().unwrap_or_default(),
            )
            .await
            .expect("permission set");
        assert!(name.is_some());
    }
    // Every call was one request, counted under the Huawei operation names: 4 unfiltered
    // pages plus one page per status filter (at most 100 records each... or more pages).
    let s = stats(&em.base_url).await;
    let lists = s["by_operation"]["huawei:ListAccountAssignmentCreationStatus"]
        .as_u64()
        .unwrap_or(0);
    assert!(lists >= 7, "{s}");
    assert_eq!(
        s["by_operation"]["huawei:DescribeAccountAssignmentCreationStatus"].as_u64(),
        Some(1),
        "{s}"
    );
}

#[tokio::test]
async fn bad_signature_and_expired_date_are_refused() {
    let em = emulator::start(config(), 0).await.expect("emulator");
    let e = provider(&em.base_url, "wrong-secret")
        .list_instances()
        .await
        .expect_err("wrong SK");
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.request_id.is_some());
    let e = provider(&em.base_url, emulator::DEFAULT_HUAWEI_SK)
        .with_clock_offset(TimeDelta::minutes(-20))
        .list_instances()
        .await
        .expect_err("expired date");
    assert_eq!(e.kind, ErrorKind::Auth);
}

#[tokio::test]
async fn not_found() {
    let em = emulator::start(config(), 0).await.expect("emulator");
    let p = provider(&em.base_url, emulator::DEFAULT_HUAWEI_SK);
    let instance = resolve_instance(&p, None).await.expect("instance");
    let e = p
        .describe(
            &instance.id,
            OperationKind::AssignmentCreation,
            "00000000-0000-0000-0000-000000000000",
        )
        .await
        .expect_err("unknown request");
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn throttling_and_server_faults_are_typed_one_request_each() {
    let em = emulator::start(config(), 0).await.expect("emulator");
    let p = provider(&em.base_url, emulator::DEFAULT_HUAWEI_SK);
    let instance = em.huawei_instance_id();
    em.faults(|f| f.throttle_next = 2);
    for _ in 0..2 {
        let e = p
            .list_page(
                &instance,
                OperationKind::PermissionSetProvisioning,
                None,
                None,
            )
            .await
            .expect_err("throttled");
        assert_eq!(e.kind, ErrorKind::Throttled, "{e}");
        assert!(e.request_id.is_some());
    }
    em.faults(|f| f.fail_next = 1);
    let e = p
        .list_page(
            &instance,
            OperationKind::PermissionSetProvisioning,
            None,
            None,
        )
        .await
        .expect_err("500");
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    let page = p
        .list_page(
            &instance,
            OperationKind::PermissionSetProvisioning,
            None,
            None,
        )
        .await
        .expect("recovered");
    assert_eq!(page.items.len(), 100);
    let stats = em.stats();
    assert_eq!(
        stats
            .by_operation
            .get("huawei:ListPermissionSetProvisioningStatus"),
        Some(&4),
        "no hidden retries: {stats:?}"
    );
    assert_eq!(stats.throttled, 2);
}

#[tokio::test]
async fn emulator_rate_limit_throttles_a_burst() {
    let em = emulator::start(
        EmulatorConfig {
            throttle_rps: Some(2.0),
            ..config()
        },
        0,
    )
    .await
    .expect("emulator");
    let p = provider(&em.base_url, emulator::DEFAULT_HUAWEI_SK);
    let instance = em.huawei_instance_id();
    let mut throttled = 0;
    for _ in 0..10 {
        match p
            .list_page(&instance, OperationKind::AssignmentDeletion, None, None)
            .await
        {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Throttled => throttled += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert!(throttled >= 5, "{throttled} of 10 throttled");
}

/// `--demo` with the Huawei provider: `connect` starts the embedded emulator and hands the
/// provider its keys as plain values; the provider finds the emulator's instance.
#[tokio::test]
async fn demo_connects_the_huawei_provider_to_the_embedded_emulator() {
    let settings = Settings {
        provider: ProviderKind::Huawei,
        demo: true,
        ..Settings::default()
    };
    let conn = ssowatch::connect::connect(&settings)
        .await
        .expect("demo connection");
    assert_eq!(conn.info.name, "huawei");
    let em = conn.emulator.as_ref().expect("the demo runs an emulator");
    assert_eq!(conn.instance.id, em.huawei_instance_id());
    assert!(
        conn.info
            .endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://127.0.0.1:")),
        "{:?}",
        conn.info.endpoint
    );
}
