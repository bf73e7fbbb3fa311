//! The Huawei provider against the emulator's Huawei protocol, over loopback HTTP, with a
//! small fixed organization as backend. This pins the protocol itself (paths, bodies,
//! paging, validation, the gateway's signature and date checks, fault answers) independently
//! of the simulation behind it; `huawei_provider.rs` drives the full emulator.

use crate::support::huawei as huawei_support;

use chrono::TimeDelta;
use huawei_support::{AK, INSTANCE, PER_KIND, SK, created_of, provider, serve, status_of};
use ssowatch::model::{OperationKind, Status};
use ssowatch::provider::huawei::HuaweiProvider;
use ssowatch::provider::huawei_credentials::HuaweiCredentials;
use ssowatch::provider::{ErrorKind, Provider, list_all};

#[tokio::test]
async fn pages_over_every_record_exactly_once() {
    let server = serve().await;
    let p = provider(&server.url, SK);
    for kind in OperationKind::ALL {
        let mut pages = Vec::new();
        let all = list_all(&p, INSTANCE, kind, None, |page| {
            pages.push(page.items.len())
        })
        .await
        .expect("list");
        assert_eq!(pages, vec![100, 100, 100, 50], "{kind}");
        let mut ids: Vec<&str> = all.iter().map(|s| s.request_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), PER_KIND as usize, "{kind}");
        for s in &all {
            let i: u32 = s.request_id[s.request_id.len() - 4..]
                .parse()
                .expect("index");
            assert_eq!(s.kind, kind);
            assert_eq!(s.status, status_of(i));
            assert_eq!(s.created, created_of(i), "created_date is epoch ms");
        }
    }
}

#[tokio::test]
async fn each_status_filter_is_applied_by_the_server() {
    let server = serve().await;
    let p = provider(&server.url, SK);
    for status in [Status::InProgress, Status::Failed, Status::Succeeded] {
        let got = list_all(
            &p,
            INSTANCE,
            OperationKind::AssignmentDeletion,
            Some(&status),
            |_| {},
        )
        .await
        .expect("list");
        let want = (0..PER_KIND).filter(|i| status_of(*i) == status).count();
        assert_eq!(got.len(), want, "{status}");
        assert!(got.iter().all(|s| s.status == status), "{status}");
    }
}

#[tokio::test]
async fn describes_each_kind_and_names_the_permission_set() {
    let server = serve().await;
    let p = provider(&server.url, SK);
    for kind in OperationKind::ALL {
        let id = format!("{}-0001", kind.short());
        let d = p.describe(INSTANCE, kind, &id).await.expect("describe");
        assert_eq!(d.summary.request_id, id);
        assert_eq!(d.summary.status, Status::Failed);
        // Provisioning's created_date is served as a string; both must parse the same.
        assert_eq!(d.summary.created, created_of(1), "{kind}");
        assert_eq!(
            d.detail.failure_reason.as_deref(),
            Some("Received a 404 status error: no such group"),
            "escape sequences are stripped"
        );
        assert_eq!(d.detail.target_account.as_deref(), Some("0a1b2c3d4e5f"));
        assert_eq!(d.detail.permission_set.as_deref(), Some("ps-1"));
        if kind == OperationKind::PermissionSetProvisioning {
            assert_eq!(d.detail.principal_id, None);
        } else {
            assert_eq!(d.detail.principal_type.as_deref(), Some("GROUP"));
            assert_eq!(d.detail.principal_id.as_deref(), Some("g-1"));
            assert_eq!(d.detail.target_type.as_deref(), Some("ACCOUNT"));
        }
    }
    let name = p.permission_set_name(INSTANCE, "ps-1").await.expect("ps");
    assert_eq!(name.as_deref(), Some("AdministratorAccess"));
    let instances = p.list_instances().await.expect("instances");
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].id, INSTANCE);
    assert_eq!(instances[0].name.as_deref(), Some("demo"));
    let seen = server.seen.lock().map(|v| v.clone()).unwrap_or_default();
    assert!(seen.contains(&"DescribePermissionSetProvisioningStatus".to_string()));
    assert!(seen.contains(&"DescribePermissionSet".to_string()));
}

#[tokio::test]
async fn not_found_and_validation_errors_carry_request_ids() {
    let server = serve().await;
    let p = provider(&server.url, SK);
    let e = p
        .describe(
            INSTANCE,
            OperationKind::AssignmentCreation,
            "no-such-request",
        )
        .await
        .expect_err("unknown request");
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.request_id.as_ref().map(String::len), Some(32));
    let e = p
        .list_page("ins-unknown", OperationKind::AssignmentCreation, None, None)
        .await
        .expect_err("unknown instance");
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = p
        .permission_set_name(INSTANCE, "ps-404")
        .await
        .expect_err("unknown permission set");
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("IIC.1205"), "{e}");
    let e = p
        .list_page(
            INSTANCE,
            OperationKind::AssignmentCreation,
            None,
            Some("AAAAAAAAAAAAAAAAAAAAAAAA"),
        )
        .await
        .expect_err("forged marker");
    assert_eq!(e.kind, ErrorKind::Validation);
    let e = p
        .list_page(
            INSTANCE,
            OperationKind::AssignmentCreation,
            None,
            Some("short"),
        )
        .await
        .expect_err("short marker");
    assert_eq!(e.kind, ErrorKind::Validation);
    // A marker is only good for the listing it came from.
    let page = p
        .list_page(INSTANCE, OperationKind::AssignmentCreation, None, None)
        .await
        .expect("page");
    let marker = page.next_token.expect("more pages");
    assert_eq!(marker.len(), 24);
    let e = p
        .list_page(
            INSTANCE,
            OperationKind::AssignmentDeletion,
            None,
            Some(&marker),
        )
        .await
        .expect_err("marker of another kind");
    assert_eq!(e.kind, ErrorKind::Validation);
}

#[tokio::test]
async fn wrong_secret_and_skewed_clock_get_the_gateway_401() {
    let server = serve().await;
    let e = provider(&server.url, "not-the-secret")
        .list_instances()
        .await
        .expect_err("wrong SK");
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("APIGW.0301"), "{e}");
    assert!(e.request_id.is_some());
    assert!(
        e.hint
            .as_deref()
            .unwrap_or_default()
            .contains("HUAWEICLOUD_SDK_AK"),
        "{e}"
    );
    assert!(!e.to_string().contains("not-the-secret"), "{e}");

    for minutes in [-16, 16] {
        let e = provider(&server.url, SK)
            .with_clock_offset(TimeDelta::minutes(minutes))
            .list_instances()
            .await
            .expect_err("skewed date");
        assert_eq!(e.kind, ErrorKind::Auth, "{minutes}");
        assert!(
            e.hint.as_deref().unwrap_or_default().contains("clock"),
            "{e}"
        );
    }
    // Inside the window is fine.
    let ok = provider(&server.url, SK)
        .with_clock_offset(TimeDelta::minutes(-14))
        .list_instances()
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    // Refused requests never reach the service (nor its counters).
    let seen = server.seen.lock().map(|v| v.len()).unwrap_or_default();
    assert_eq!(seen, 1);
}

#[tokio::test]
async fn throttling_is_typed_and_costs_exactly_one_request() {
    let server = serve().await;
    let p = provider(&server.url, SK);
    *server.throttle_next.lock().expect("lock") = 1;
    let e = p
        .list_page(INSTANCE, OperationKind::AssignmentCreation, None, None)
        .await
        .expect_err("throttled");
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert!(e.message.contains("APIGW.0308"), "{e}");
    assert!(e.request_id.is_some());
    // No hidden retry: the one throttled call was the only request.
    assert_eq!(server.seen.lock().map(|v| v.len()).unwrap_or_default(), 1);
    let ok = p
        .list_page(INSTANCE, OperationKind::AssignmentCreation, None, None)
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn temporary_credentials_send_and_sign_the_security_token() {
    let server = serve().await;
    let p = HuaweiProvider::new(
        &server.url,
        HuaweiCredentials::new(AK, SK).with_security_token(Some("temporary+token/==".into())),
    )
    .expect("provider");
    // The token is among the signed headers; had it been signed but not sent (or sent
    // altered), the gateway check would refuse the call.
    let ok = p.list_instances().await;
    assert!(ok.is_ok(), "{ok:?}");
}

mod faults {
    //! Every fault of the emulator's switchboard on the Huawei side, over raw signed HTTP
    //! against the full emulator.

    use super::huawei_support::signed_get;
    use serde_json::Value;
    use ssowatch::emulator::{self, EmulatorConfig, EmulatorHandle, Fault, FaultRule};
    use ssowatch::provider::huawei_credentials::HuaweiCredentials;

    const CREATION: &str = "ListAccountAssignmentCreationStatus";

    async fn started() -> EmulatorHandle {
        emulator::start(
            EmulatorConfig {
                seed: 5,
                history: 250,
                rate: 0.0,
                ..EmulatorConfig::default()
            },
            0,
        )
        .await
        .expect("emulator")
    }

    fn credentials() -> HuaweiCredentials {
        HuaweiCredentials::new(emulator::DEFAULT_HUAWEI_AK, emulator::DEFAULT_HUAWEI_SK)
    }

    /// GET of a kind's list (`tail`: creation-statuses, deletion-statuses) with `limit=10` and
    /// an optional marker.
    async fn list(h: &EmulatorHandle, tail: &str, marker: Option<&str>) -> reqwest::Response {
        let instance = h.huawei_instance_id();
        let mut query = vec![("limit", "10".to_string())];
        if let Some(m) = marker {
            query.push(("marker", m.to_string()));
        }
        signed_get(
            &h.base_url,
            &credentials(),
            &["v1", "instances", &instance, "account-assignments", tail],
            &query,
        )
        .await
    }

    async fn json_of(r: reqwest::Response) -> (u16, Value) {
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }

    fn only_creation(fault: Fault) -> Vec<FaultRule> {
        vec![FaultRule {
            fault,
            operation: Some(CREATION.to_string()),
            ratio: 1.0,
            times: None,
        }]
    }

    #[tokio::test]
    async fn every_error_fault_answers_like_the_gateway_and_only_for_its_operation() {
        let h = started().await;
        let cases = [
            (Fault::Throttle, 429, "APIGW.0308"),
            (Fault::ServerError, 500, "IIC.1209"),
            (Fault::Denied, 403, "IIC.1000"),
            (Fault::ExpiredCredentials, 401, "APIGW.0307"),
            (Fault::UnrecognizedCredentials, 401, "APIGW.0301"),
        ];
        for (fault, status, code) in cases {
            h.faults(|f| f.rules = only_creation(fault));
            let (got, v) = json_of(list(&h, "creation-statuses", None).await).await;
            assert_eq!(
                (got, v["error_code"].as_str()),
                (status, Some(code)),
                "{fault}: {v}"
            );
            assert!(v["request_id"].is_string(), "{v}");
            let (other, _) = json_of(list(&h, "deletion-statuses", None).await).await;
            assert_eq!(other, 200, "{fault}: another operation is untouched");
        }
        assert_eq!(
            h.stats()
                .by_operation
                .get("huawei:ListAccountAssignmentCreationStatus"),
            Some(&5)
        );
    }

    #[tokio::test]
    async fn unavailable_malformed_and_truncated_bodies() {
        let h = started().await;
        h.faults(|f| f.rules = vec![FaultRule::always(Fault::Unavailable)]);
        let r = list(&h, "creation-statuses", None).await;
        assert_eq!(r.status().as_u16(), 503);
        assert!(r.text().await.unwrap_or_default().starts_with("<html>"));

        // Malformed: the Huawei side used to serve the real answer here.
        h.faults(|f| {
            f.rules.clear();
            f.malformed_next = 1;
        });
        let r = list(&h, "creation-statuses", None).await;
        assert_eq!(r.status().as_u16(), 200);
        let body = r.bytes().await.unwrap_or_default();
        assert!(serde_json::from_slice::<Value>(&body).is_err(), "not JSON");
        h.faults(|f| f.rules = vec![FaultRule::always(Fault::Malformed)]);
        let body = list(&h, "creation-statuses", None).await.bytes().await;
        assert!(serde_json::from_slice::<Value>(&body.unwrap_or_default()).is_err());

        h.faults(|f| f.rules = vec![FaultRule::always(Fault::Truncated)]);
        let r = list(&h, "creation-statuses", None).await;
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.content_length().unwrap_or_default() > 100);
        assert!(r.bytes().await.is_err(), "the connection closes mid-body");
    }

    #[tokio::test]
    async fn unknown_status_reaches_lists_and_describes() {
        let h = started().await;
        let (_, page) = json_of(list(&h, "creation-statuses", None).await).await;
        let id = page["account_assignments_creation_status"][0]["request_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        h.faults(|f| f.rules = vec![FaultRule::always(Fault::UnknownStatus)]);
        let (status, page) = json_of(list(&h, "creation-statuses", None).await).await;
        assert_eq!(status, 200, "{page}");
        let items = page["account_assignments_creation_status"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(items.len(), 10);
        assert!(items.iter().all(|i| i["status"] == "CANCELLED"), "{page}");
        let instance = h.huawei_instance_id();
        let r = signed_get(
            &h.base_url,
            &credentials(),
            &[
                "v1",
                "instances",
                &instance,
                "account-assignments",
                "creation-status",
                &id,
            ],
            &[],
        )
        .await;
        let (status, one) = json_of(r).await;
        assert_eq!(status, 200, "{one}");
        assert_eq!(
            one["account_assignment_creation_status"]["status"],
            "CANCELLED"
        );
        assert_eq!(h.stats().describes_by_request.get(&id), Some(&1));
    }

    /// Markers a client gets when it follows every `next_marker`, at most `pages` pages.
    async fn follow_markers(h: &EmulatorHandle, pages: usize) -> Vec<String> {
        let mut markers: Vec<String> = Vec::new();
        for _ in 0..pages {
            let (status, v) =
                json_of(list(h, "creation-statuses", markers.last().map(String::as_str)).await)
                    .await;
            assert_eq!(status, 200, "{v}");
            match v["page_info"]["next_marker"].as_str() {
                Some(m) => markers.push(m.to_string()),
                None => break,
            }
        }
        markers
    }

    #[tokio::test]
    async fn looping_and_endless_markers() {
        let h = started().await;
        h.faults(|f| f.rules = only_creation(Fault::LoopingToken));
        let markers = follow_markers(&h, 5).await;
        assert_eq!(markers.len(), 5, "a loop never ends");
        assert_ne!(markers[0], markers[1]);
        assert_eq!(markers[0], markers[2], "A -> B -> A");
        assert!(markers.iter().all(|m| m.len() == 24), "{markers:?}");

        h.faults(|f| f.rules = vec![FaultRule::always(Fault::EndlessToken)]);
        let markers = follow_markers(&h, 40).await;
        let distinct: std::collections::HashSet<&String> = markers.iter().collect();
        assert_eq!(
            (markers.len(), distinct.len()),
            (40, 40),
            "always a new marker"
        );

        h.faults(|f| f.rules.clear());
        assert_eq!(
            follow_markers(&h, 100).await.len(),
            24,
            "250 records, 10 a page"
        );
    }

    #[tokio::test]
    async fn half_throttling_is_seeded_and_deterministic() {
        let mut patterns = Vec::new();
        for _ in 0..2 {
            let h = started().await;
            h.faults(|f| {
                f.rules = vec![FaultRule {
                    fault: Fault::Throttle,
                    operation: None,
                    ratio: 0.5,
                    times: None,
                }]
            });
            let mut pattern = Vec::new();
            for _ in 0..40 {
                pattern.push(list(&h, "creation-statuses", None).await.status().as_u16() == 429);
            }
            assert_eq!(
                h.stats().throttled,
                pattern.iter().filter(|t| **t).count() as u64
            );
            patterns.push(pattern);
        }
        let throttled = patterns[0].iter().filter(|t| **t).count();
        assert!((10..=30).contains(&throttled), "{throttled} of 40");
        assert_eq!(patterns[0], patterns[1], "same seed, same pattern");
    }
}

mod delivery_and_record_faults {
    //! The faults that break or alter a real answer, on the Huawei side.

    use super::huawei_support::signed_get;
    use serde_json::Value;
    use ssowatch::emulator::{self, EmulatorConfig, Fault, FaultRule};
    use ssowatch::provider::huawei_credentials::HuaweiCredentials;

    #[tokio::test]
    async fn every_altering_fault_on_the_creation_list() {
        let h = emulator::start(
            EmulatorConfig {
                rate: 0.0,
                ..EmulatorConfig::default()
            },
            0,
        )
        .await
        .expect("emulator");
        let creds =
            HuaweiCredentials::new(emulator::DEFAULT_HUAWEI_AK, emulator::DEFAULT_HUAWEI_SK);
        let instance = h.huawei_instance_id();
        let path = [
            "v1",
            "instances",
            instance.as_str(),
            "account-assignments",
            "creation-statuses",
        ];
        let query = [("limit", "10".to_string())];
        let records = |v: &Value| {
            v["account_assignments_creation_status"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        let page_under = async |fault| -> Value {
            h.faults(|f| f.rules = vec![FaultRule::always(fault)]);
            let r = signed_get(&h.base_url, &creds, &path, &query).await;
            assert_eq!(r.status().as_u16(), 200, "{fault}");
            r.json().await.unwrap_or_default()
        };
        let v = page_under(Fault::MissingFields).await;
        assert_eq!(records(&v).len(), 10);
        assert!(
            records(&v).iter().all(|r| r.get("request_id").is_none()),
            "{v}"
        );
        let v = page_under(Fault::WrongTypes).await;
        assert!(
            records(&v)
                .iter()
                .all(|r| r["created_date"] == "yesterday" && r["status"] == 42)
        );
        let v = page_under(Fault::DuplicateIds).await;
        let items = records(&v);
        assert_eq!((items.len(), &items[0]), (11, &items[10]));
        let v = page_under(Fault::HugeBody).await;
        assert_eq!(records(&v).len(), 10);
        assert!(v.to_string().len() > 10 * 1024 * 1024);

        h.faults(|f| f.rules = vec![FaultRule::always(Fault::Reset)]);
        let endpoint = reqwest::Url::parse(&h.base_url).expect("base URL");
        let get = ssowatch::provider::huawei_sign::sign_get(
            &endpoint,
            &path,
            &query,
            &creds,
            chrono::Utc::now(),
        );
        let mut request = reqwest::Client::new()
            .get(&get.url)
            .timeout(std::time::Duration::from_millis(300));
        for (name, value) in &get.headers {
            request = request.header(*name, value);
        }
        let reset = request.try_clone().expect("plain GET").send().await;
        assert!(reset.is_err_and(|e| !e.is_timeout()), "closed, not late");
        h.faults(|f| f.rules = vec![FaultRule::always(Fault::Hang)]);
        let hung = request.send().await;
        assert!(hung.is_err_and(|e| e.is_timeout()), "an hour late");
    }
}
