//! Raw-HTTP checks of the emulator's AWS JSON 1.1 wire: error bodies and codes as the real
//! service sends them, pagination that yields every record exactly once, fault injection and
//! the request counter behind `/_emulator/stats`. Everything is on 127.0.0.1 with port 0.

use serde_json::{Value, json};
use ssowatch::emulator::{self, EmulatorConfig, EmulatorHandle};

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIAWIRETEST00000000/20260101/us-east-1/sso/aws4_request, SignedHeaders=host, Signature=00";

fn config() -> EmulatorConfig {
    EmulatorConfig {
        seed: 11,
        history: 250,
        rate: 0.0,
        ..EmulatorConfig::default()
    }
}

async fn call(
    h: &EmulatorHandle,
    op: &str,
    body: Value,
    auth: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let client = reqwest::Client::new();
    let mut req = client
        .post(format!("{}/", h.base_url))
        .header("X-Amz-Target", format!("SWBExternalService.{op}"))
        .header("Content-Type", "application/x-amz-json-1.1")
        .body(body.to_string());
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{op}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, value)
}

fn assert_error(r: &(u16, reqwest::header::HeaderMap, Value), status: u16, kind: &str) {
    assert_eq!(r.0, status, "body: {}", r.2);
    assert_eq!(r.2["__type"].as_str(), Some(kind), "body: {}", r.2);
    assert!(
        r.2["Message"].is_string() || r.2["message"].is_string(),
        "body: {}",
        r.2
    );
    let header =
        r.1.get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
    assert!(header.starts_with(kind), "X-Amzn-Errortype: {header}");
    assert!(r.1.get("x-amzn-requestid").is_some());
}

#[tokio::test]
async fn errors_look_like_the_real_service() {
    let h = emulator::start(config(), 0)
        .await
        .unwrap_or_else(|e| panic!("start: {e:#}"));
    let arn = h.instance_arn();

    let r = call(&h, "ListInstances", json!({}), None).await;
    assert_error(&r, 400, "MissingAuthenticationTokenException");

    let r = call(
        &h,
        "ListAccountAssignmentCreationStatus",
        json!({"InstanceArn": arn, "MaxResults": 500}),
        Some(AUTH),
    )
    .await;
    assert_error(&r, 400, "ValidationException");
    let msg = r.2["Message"].as_str().unwrap_or_default();
    assert!(msg.contains("'500'") && msg.contains("maxResults"), "{msg}");

    let r = call(
        &h,
        "ListAccountAssignmentCreationStatus",
        json!({"InstanceArn": "arn:aws:sso:::nope"}),
        Some(AUTH),
    )
    .await;
    assert_error(&r, 400, "ValidationException");

    let r = call(
        &h,
        "ListAccountAssignmentCreationStatus",
        json!({"InstanceArn": arn, "NextToken": "garbled-token"}),
        Some(AUTH),
    )
    .await;
    assert_error(&r, 400, "ValidationException");

    let r = call(
        &h,
        "ListPermissionSetProvisioningStatus",
        json!({"InstanceArn": "arn:aws:sso:::instance/ssoins-0000000000000000"}),
        Some(AUTH),
    )
    .await;
    assert_error(&r, 400, "ResourceNotFoundException");

    let r = call(
        &h,
        "DescribeAccountAssignmentCreationStatus",
        json!({"InstanceArn": arn, "AccountAssignmentCreationRequestId": "not-a-uuid"}),
        Some(AUTH),
    )
    .await;
    assert_error(&r, 400, "ValidationException");

    let r = call(&h, "DescribeAccountAssignmentCreationStatus",
        json!({"InstanceArn": arn, "AccountAssignmentCreationRequestId": "00000000-0000-4000-8000-000000000000"}), Some(AUTH)).await;
    assert_error(&r, 400, "ResourceNotFoundException");

    let r = call(&h, "NoSuchOperation", json!({}), Some(AUTH)).await;
    assert_error(&r, 400, "UnknownOperationException");

    h.faults(|f| f.throttle_next = 1);
    let r = call(&h, "ListInstances", json!({}), Some(AUTH)).await;
    assert_error(&r, 400, "ThrottlingException");
    h.faults(|f| f.fail_next = 1);
    let r = call(&h, "ListInstances", json!({}), Some(AUTH)).await;
    assert_error(&r, 500, "InternalServerException");
    let r = call(&h, "ListInstances", json!({}), Some(AUTH)).await;
    assert_eq!(r.0, 200, "faults are used up: {}", r.2);
}

#[tokio::test]
async fn pagination_covers_every_record_once_and_stats_count_calls() {
    let h = emulator::start(config(), 0)
        .await
        .unwrap_or_else(|e| panic!("start: {e:#}"));
    let arn = h.instance_arn();
    let before = h.stats().total;
    let mut seen = std::collections::HashSet::new();
    let mut token: Option<String> = None;
    let mut pages = 0u64;
    for _ in 0..100 {
        let mut body = json!({"InstanceArn": arn, "MaxResults": 33});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let (status, _, v) =
            call(&h, "ListAccountAssignmentDeletionStatus", body, Some(AUTH)).await;
        assert_eq!(status, 200, "{v}");
        pages += 1;
        for item in v["AccountAssignmentsDeletionStatus"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert!(item["CreatedDate"].is_number(), "{item}");
            let id = item["RequestId"].as_str().unwrap_or_default().to_string();
            assert!(seen.insert(id), "duplicate record across pages");
        }
        token = v["NextToken"].as_str().map(str::to_string);
        if let Some(t) = &token {
            assert!(
                t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-+=/_".contains(c)),
                "{t}"
            );
        } else {
            break;
        }
    }
    assert_eq!(seen.len(), 250);
    assert_eq!(pages, 8);

    let stats: Value = reqwest::get(format!("{}/_emulator/stats", h.base_url))
        .await
        .unwrap_or_else(|e| panic!("stats: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("stats json: {e}"));
    assert_eq!(
        stats["by_operation"]["ListAccountAssignmentDeletionStatus"].as_u64(),
        Some(pages)
    );
    assert_eq!(h.stats().total - before, pages);
    assert!(
        stats["recent"]
            .as_array()
            .is_some_and(|r| r.len() as u64 >= pages)
    );
}
