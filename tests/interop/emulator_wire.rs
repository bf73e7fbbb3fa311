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

    let stats = get_json(&h, "/_emulator/stats").await;
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

use ssowatch::emulator::{Fault, FaultRule, Faults};

const CREATION: &str = "ListAccountAssignmentCreationStatus";
const DELETION: &str = "ListAccountAssignmentDeletionStatus";

fn rule(fault: Fault, operation: Option<&str>, ratio: f64) -> FaultRule {
    FaultRule {
        fault,
        operation: operation.map(str::to_string),
        ratio,
        times: None,
    }
}

/// `GET` of one of the emulator's control endpoints (`/_emulator/...`), as JSON.
async fn get_json(h: &EmulatorHandle, path: &str) -> Value {
    reqwest::get(format!("{}{path}", h.base_url))
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{path} JSON: {e}"))
}

async fn started() -> EmulatorHandle {
    emulator::start(config(), 0)
        .await
        .unwrap_or_else(|e| panic!("start: {e:#}"))
}

fn list_body(h: &EmulatorHandle) -> Value {
    json!({"InstanceArn": h.instance_arn(), "MaxResults": 10})
}

/// The faults that replace the answer, each with the status and error type a client sees.
#[tokio::test]
async fn every_error_fault_answers_like_the_service_and_only_for_its_operation() {
    let h = started().await;
    let cases = [
        (Fault::Throttle, 400, "ThrottlingException"),
        (Fault::ServerError, 500, "InternalServerException"),
        (Fault::Denied, 400, "AccessDeniedException"),
        (Fault::ExpiredCredentials, 400, "ExpiredTokenException"),
        (
            Fault::UnrecognizedCredentials,
            400,
            "UnrecognizedClientException",
        ),
    ];
    for (fault, status, kind) in cases {
        h.faults(|f| f.rules = vec![rule(fault, Some(CREATION), 1.0)]);
        let r = call(&h, CREATION, list_body(&h), Some(AUTH)).await;
        assert_error(&r, status, kind);
        let other = call(&h, DELETION, list_body(&h), Some(AUTH)).await;
        assert_eq!(other.0, 200, "{fault}: another operation is untouched");
    }
    h.faults(|f| f.rules.clear());
    assert_eq!(call(&h, CREATION, list_body(&h), Some(AUTH)).await.0, 200);
}

async fn raw_post(h: &EmulatorHandle, op: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/", h.base_url))
        .header("X-Amz-Target", format!("SWBExternalService.{op}"))
        .header("Authorization", AUTH)
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{op}: {e}"))
}

#[tokio::test]
async fn unavailable_malformed_and_truncated_bodies() {
    let h = started().await;
    h.faults(|f| f.rules = vec![FaultRule::always(Fault::Unavailable)]);
    let r = raw_post(&h, CREATION, &list_body(&h)).await;
    assert_eq!(r.status().as_u16(), 503);
    let content_type = r.headers().get("content-type").cloned();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("text/html")
    );
    assert!(r.text().await.unwrap_or_default().starts_with("<html>"));

    h.faults(|f| f.rules = vec![FaultRule::always(Fault::Malformed)]);
    let r = raw_post(&h, CREATION, &list_body(&h)).await;
    assert_eq!(r.status().as_u16(), 200);
    let body = r.bytes().await.unwrap_or_default();
    assert!(!body.is_empty());
    assert!(serde_json::from_slice::<Value>(&body).is_err(), "not JSON");

    h.faults(|f| f.rules = vec![FaultRule::always(Fault::Truncated)]);
    let r = raw_post(&h, CREATION, &list_body(&h)).await;
    assert_eq!(r.status().as_u16(), 200, "the head of a real answer");
    let announced = r.content_length().unwrap_or_default();
    assert!(announced > 100, "Content-Length announces the whole body");
    assert!(r.bytes().await.is_err(), "the connection closes mid-body");
}

#[tokio::test]
async fn unknown_status_reaches_lists_and_describes() {
    let h = started().await;
    let (_, _, page) = call(&h, DELETION, list_body(&h), Some(AUTH)).await;
    let id = page["AccountAssignmentsDeletionStatus"][0]["RequestId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    h.faults(|f| f.rules = vec![FaultRule::always(Fault::UnknownStatus)]);
    let (status, _, page) = call(&h, DELETION, list_body(&h), Some(AUTH)).await;
    assert_eq!(status, 200, "{page}");
    let items = page["AccountAssignmentsDeletionStatus"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(items.len(), 10);
    assert!(items.iter().all(|i| i["Status"] == "CANCELLED"), "{page}");
    let (status, _, one) = call(
        &h,
        "DescribeAccountAssignmentDeletionStatus",
        json!({"InstanceArn": h.instance_arn(), "AccountAssignmentDeletionRequestId": id}),
        Some(AUTH),
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(
        one["AccountAssignmentDeletionStatus"]["Status"],
        "CANCELLED"
    );
    // Instance states are not request statuses.
    let (_, _, instances) = call(&h, "ListInstances", json!({}), Some(AUTH)).await;
    assert_eq!(instances["Instances"][0]["Status"], "ACTIVE");
}

/// The tokens a client gets when it follows every NextToken, at most `pages` pages.
async fn follow_tokens(h: &EmulatorHandle, pages: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut body = list_body(h);
    for _ in 0..pages {
        let (status, _, v) = call(h, CREATION, body.clone(), Some(AUTH)).await;
        assert_eq!(status, 200, "{v}");
        let Some(token) = v["NextToken"].as_str() else {
            break;
        };
        tokens.push(token.to_string());
        body["NextToken"] = json!(token);
    }
    tokens
}

#[tokio::test]
async fn looping_and_endless_page_tokens() {
    let h = started().await;
    h.faults(|f| f.rules = vec![rule(Fault::LoopingToken, Some(CREATION), 1.0)]);
    let tokens = follow_tokens(&h, 5).await;
    assert_eq!(tokens.len(), 5, "a loop never ends");
    assert_ne!(tokens[0], tokens[1]);
    assert_eq!(tokens[0], tokens[2], "A -> B -> A");
    assert_eq!(tokens[1], tokens[3]);

    h.faults(|f| f.rules = vec![FaultRule::always(Fault::EndlessToken)]);
    let tokens = follow_tokens(&h, 60).await;
    assert_eq!(tokens.len(), 60, "never a last page");
    let distinct: std::collections::HashSet<&String> = tokens.iter().collect();
    assert_eq!(distinct.len(), 60, "always a new token");
    // ListInstances keeps working: token faults only touch status lists.
    assert_eq!(
        call(&h, "ListInstances", json!({}), Some(AUTH)).await.0,
        200
    );

    h.faults(|f| f.rules.clear());
    assert_eq!(
        follow_tokens(&h, 100).await.len(),
        24,
        "250 records, 10 a page"
    );
}

/// The throttled/served pattern of `n` creation lists at a 50% throttle.
async fn throttle_pattern(n: usize) -> Vec<bool> {
    let h = started().await;
    h.faults(|f| f.rules = vec![rule(Fault::Throttle, Some(CREATION), 0.5)]);
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(call(&h, CREATION, list_body(&h), Some(AUTH)).await.0 == 400);
    }
    assert_eq!(
        h.stats().throttled,
        out.iter().filter(|t| **t).count() as u64
    );
    out
}

#[tokio::test]
async fn half_throttling_is_seeded_and_deterministic() {
    let first = throttle_pattern(60).await;
    let throttled = first.iter().filter(|t| **t).count();
    assert!((15..=45).contains(&throttled), "{throttled} of 60");
    assert_eq!(first, throttle_pattern(60).await, "same seed, same pattern");
}

#[tokio::test]
async fn a_rate_limit_below_one_per_second_serves_the_first_request() {
    let h = emulator::start(
        EmulatorConfig {
            throttle_rps: Some(0.001),
            ..config()
        },
        0,
    )
    .await
    .unwrap_or_else(|e| panic!("start: {e:#}"));
    assert_eq!(
        call(&h, "ListInstances", json!({}), Some(AUTH)).await.0,
        200
    );
    let r = call(&h, "ListInstances", json!({}), Some(AUTH)).await;
    assert_error(&r, 400, "ThrottlingException");
}

async fn post_faults(h: &EmulatorHandle, body: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/_emulator/faults", h.base_url))
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("faults: {e}"));
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

/// Another process (here: plain HTTP) switches a fault on, sees it, and switches it off.
#[tokio::test]
async fn faults_are_switched_over_http() {
    let h = started().await;
    let (status, v) = post_faults(
        &h,
        r#"{"rules": [{"fault": "denied", "operation": "ListAccountAssignmentCreationStatus"}]}"#,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["rules"][0]["fault"], "denied");
    assert_eq!(v["rules"][0]["ratio"], 1.0);
    assert_eq!(
        h.faults_now().rules,
        vec![rule(Fault::Denied, Some(CREATION), 1.0)]
    );
    let r = call(&h, CREATION, list_body(&h), Some(AUTH)).await;
    assert_error(&r, 400, "AccessDeniedException");
    let current = get_json(&h, "/_emulator/faults").await;
    assert_eq!(current["rules"][0]["operation"], CREATION);

    let (status, _) = post_faults(&h, "{}").await;
    assert_eq!(status, 200);
    assert_eq!(h.faults_now(), Faults::default());
    assert_eq!(call(&h, CREATION, list_body(&h), Some(AUTH)).await.0, 200);

    for bad in [
        "not json",
        r#"{"rules": [{"fault": "nope"}]}"#,
        r#"{"rules": [{"fault": "throttle", "ratio": 2}]}"#,
        r#"{"rules": [{"fault": "throttle", "operation": "ListEverything"}]}"#,
        r#"{"throttle_rps": 0}"#,
        r#"{"unknown_field": 1}"#,
    ] {
        let (status, v) = post_faults(&h, bad).await;
        assert_eq!(status, 400, "{bad}: {v}");
        assert!(v["error"].is_string(), "{v}");
    }
    assert_eq!(
        h.faults_now(),
        Faults::default(),
        "a refused body changes nothing"
    );
}

#[tokio::test]
async fn stats_count_describes_per_request_id() {
    let h = started().await;
    let (_, _, page) = call(&h, CREATION, list_body(&h), Some(AUTH)).await;
    let ids: Vec<String> = page["AccountAssignmentsCreationStatus"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["RequestId"].as_str().map(str::to_string))
        .take(2)
        .collect();
    assert_eq!(ids.len(), 2);
    h.faults(|f| f.throttle_next = 1);
    for id in [&ids[0], &ids[0], &ids[1]] {
        call(
            &h,
            "DescribeAccountAssignmentCreationStatus",
            json!({"InstanceArn": h.instance_arn(), "AccountAssignmentCreationRequestId": id}),
            Some(AUTH),
        )
        .await;
    }
    let stats = get_json(&h, "/_emulator/stats").await;
    // The throttled describe reached the service too, so it counts.
    assert_eq!(stats["describes_by_request"][&ids[0]], 2, "{stats}");
    assert_eq!(stats["describes_by_request"][&ids[1]], 1, "{stats}");
    assert_eq!(stats["throttled"], 1);
    assert_eq!(h.stats().describes_by_request.len(), 2);
}

/// Kills the `ssowatch emulate` child when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An operator's `ssowatch emulate --fault ...`, then a test in another process switching the
/// fault off over HTTP.
#[tokio::test]
async fn the_emulate_command_takes_faults_and_they_switch_over_http() {
    use std::io::BufRead;
    let mut child = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_ssowatch"))
            .args([
                "emulate",
                "--port",
                "0",
                "--history",
                "5",
                "--rate",
                "0",
                "--fault",
                "denied:ListInstances",
                "--fault",
                "throttle:ListAccountAssignmentDeletionStatus@0.5",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn ssowatch emulate"),
    );
    let stdout = child.0.stdout.take().expect("piped stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let base_url = lines
        .next()
        .and_then(Result::ok)
        .expect("the first line is the base URL");
    let second = lines.next().and_then(Result::ok).unwrap_or_default();
    let faults_line = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(second.contains("Ctrl-C"), "{second}");
    assert_eq!(
        faults_line,
        "faults: denied on ListInstances, throttle on ListAccountAssignmentDeletionStatus (50%)"
    );
    let client = reqwest::Client::new();
    let list_instances = || {
        client
            .post(format!("{base_url}/"))
            .header("X-Amz-Target", "SWBExternalService.ListInstances")
            .header("Authorization", AUTH)
            .body("{}")
            .send()
    };
    let denied = list_instances().await.expect("emulator answers");
    assert_eq!(denied.status().as_u16(), 400);
    let body: Value = denied.json().await.unwrap_or_default();
    assert_eq!(body["__type"], "AccessDeniedException");
    let current: Value = client
        .post(format!("{base_url}/_emulator/faults"))
        .body("{}")
        .send()
        .await
        .expect("faults endpoint")
        .json()
        .await
        .unwrap_or_default();
    assert_eq!(current["rules"], json!([]));
    let served = list_instances().await.expect("emulator answers");
    assert_eq!(served.status().as_u16(), 200);
}

#[test]
fn bad_fault_flags_are_refused_with_the_names() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ssowatch"))
        .args(["emulate", "--port", "0", "--fault", "explode"])
        .output()
        .expect("run ssowatch emulate");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown fault 'explode'"), "{err}");
    assert!(err.contains("endless-token"), "{err}");
}

#[tokio::test]
async fn reset_and_hang_leave_the_client_without_an_answer() {
    let h = started().await;
    h.faults(|f| f.rules = vec![rule(Fault::Reset, Some(CREATION), 1.0)]);
    let client = reqwest::Client::new();
    let send = |op: &str, timeout: std::time::Duration| {
        client
            .post(format!("{}/", h.base_url))
            .header("X-Amz-Target", format!("SWBExternalService.{op}"))
            .header("Authorization", AUTH)
            .timeout(timeout)
            .body(list_body(&h).to_string())
            .send()
    };
    let long = std::time::Duration::from_secs(30);
    let reset = send(CREATION, long).await;
    assert!(
        reset.is_err_and(|e| !e.is_timeout()),
        "no answer at all, at once"
    );
    h.faults(|f| f.rules = vec![FaultRule::always(Fault::Hang)]);
    let hung = send(DELETION, std::time::Duration::from_millis(300)).await;
    assert!(
        hung.is_err_and(|e| e.is_timeout()),
        "the answer is an hour late"
    );
    h.faults(|f| f.rules.clear());
    assert_eq!(
        send(CREATION, long).await.map(|r| r.status().as_u16()).ok(),
        Some(200)
    );
}

#[tokio::test]
async fn record_faults_alter_real_list_pages() {
    let h = started().await;
    let records = |v: &Value| {
        v["AccountAssignmentsCreationStatus"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let page_under = |fault| {
        h.faults(move |f| f.rules = vec![FaultRule::always(fault)]);
        call(&h, CREATION, list_body(&h), Some(AUTH))
    };
    let (status, _, v) = page_under(Fault::MissingFields).await;
    assert_eq!(status, 200);
    assert_eq!(records(&v).len(), 10);
    assert!(
        records(&v).iter().all(|r| r.get("RequestId").is_none()),
        "{v}"
    );

    let (_, _, v) = page_under(Fault::WrongTypes).await;
    assert!(
        records(&v)
            .iter()
            .all(|r| r["CreatedDate"] == "yesterday" && r["Status"] == 42)
    );

    let (_, _, v) = page_under(Fault::DuplicateIds).await;
    let items = records(&v);
    assert_eq!(items.len(), 11);
    assert_eq!(items[0]["RequestId"], items[10]["RequestId"]);

    let (status, _, v) = page_under(Fault::HugeBody).await;
    assert_eq!(status, 200);
    assert_eq!(records(&v).len(), 10, "the records are still there");
    assert!(
        v["Padding"]
            .as_str()
            .is_some_and(|p| p.len() >= 10 * 1024 * 1024)
    );
}

/// Every cause the emulator can fail new requests with reads as that cause to ssowatch's
/// classifier, and `fail_requests` takes no other value.
#[test]
fn the_emulators_failure_causes_are_ssowatchs_causes() {
    use ssowatch::emulator::org::{FAILURE_CAUSES, Org, OrgSpec};
    use ssowatch::failures::{CAUSE_LABELS, Cause};
    use ssowatch::model::OperationKind;
    assert_eq!(FAILURE_CAUSES, CAUSE_LABELS);
    let mut org = Org::new(
        OrgSpec {
            seed: 5,
            instances: 1,
            accounts: 3,
            history: 0,
            rate: 0.0,
            failure_ratio: 0.0,
            hostile_text: false,
        },
        chrono::Utc::now(),
    );
    for cause in FAILURE_CAUSES {
        for kind in OperationKind::ALL {
            let reason = org
                .reason_of_cause(cause, kind, 1, (true, 0))
                .unwrap_or_default();
            assert_eq!(Cause::of(&reason).label(), cause, "{kind:?}: {reason}");
        }
    }
    let faults = |cause: &str| ssowatch::emulator::Faults {
        fail_requests: Some(cause.to_string()),
        ..Default::default()
    };
    assert!(faults("policy_missing").validate().is_ok());
    let err = faults("policy").validate().err().unwrap_or_default();
    assert!(err.contains("policy_missing, management_account"), "{err}");
}

/// A write operation starts a request that is IN_PROGRESS, then listed and described like any
/// other, FAILED with the chosen cause while `fail_requests` names it, SUCCEEDED once it is off.
#[tokio::test]
async fn writes_start_requests_that_fail_for_the_chosen_cause_until_it_is_off() {
    let clock_start = chrono::Utc::now();
    let h = emulator::start_with_clock(
        EmulatorConfig {
            history: 3,
            failure_ratio: 0.0,
            rate: 0.0,
            ..config()
        },
        emulator::Clock::manual(clock_start),
        0,
    )
    .await
    .expect("emulator starts");
    let (_, _, instances) = call(&h, "ListInstances", json!({}), Some(AUTH)).await;
    let instance = instances["Instances"][0]["InstanceArn"].clone();
    let (_, _, listed) = call(
        &h,
        "ListAccountAssignmentCreationStatus",
        json!({"InstanceArn": instance}),
        Some(AUTH),
    )
    .await;
    let old = listed["AccountAssignmentsCreationStatus"][0]["RequestId"].clone();
    let (_, _, d) = call(
        &h,
        "DescribeAccountAssignmentCreationStatus",
        json!({"InstanceArn": instance, "AccountAssignmentCreationRequestId": old}),
        Some(AUTH),
    )
    .await;
    let d = &d["AccountAssignmentCreationStatus"];
    let create = json!({
        "InstanceArn": instance,
        "PermissionSetArn": d["PermissionSetArn"],
        "TargetId": d["TargetId"],
        "TargetType": "AWS_ACCOUNT",
        "PrincipalType": d["PrincipalType"],
        "PrincipalId": d["PrincipalId"],
    });
    let mut finished = Vec::new();
    for cause in [Some("account_unreachable"), None] {
        h.core()
            .set_faults(|f| f.fail_requests = cause.map(str::to_string));
        let (status, _, started) =
            call(&h, "CreateAccountAssignment", create.clone(), Some(AUTH)).await;
        assert_eq!(status, 200, "{started}");
        let s = &started["AccountAssignmentCreationStatus"];
        assert_eq!(s["Status"], "IN_PROGRESS");
        assert_eq!(s["TargetId"], d["TargetId"]);
        finished.push((cause, s["RequestId"].clone()));
    }
    h.core().clock().advance(std::time::Duration::from_secs(
        ssowatch::emulator::org::WRITE_DURATION_SECS as u64,
    ));
    for (cause, id) in finished {
        let (_, _, d) = call(
            &h,
            "DescribeAccountAssignmentCreationStatus",
            json!({"InstanceArn": instance, "AccountAssignmentCreationRequestId": id}),
            Some(AUTH),
        )
        .await;
        let d = &d["AccountAssignmentCreationStatus"];
        match cause {
            Some(cause) => {
                assert_eq!(d["Status"], "FAILED");
                let reason = d["FailureReason"].as_str().unwrap_or_default();
                assert_eq!(ssowatch::failures::Cause::of(reason).label(), cause);
            }
            None => assert_eq!(d["Status"], "SUCCEEDED"),
        }
    }
    // Unknown ids are the service's not-found, and bad members its validation error.
    let mut bad = create.clone();
    bad["PrincipalId"] = json!("00000000-0000-4000-8000-000000000000");
    let (status, _, e) = call(&h, "CreateAccountAssignment", bad, Some(AUTH)).await;
    assert_eq!(
        (status, e["__type"].as_str()),
        (400, Some("ResourceNotFoundException"))
    );
    let mut bad = create;
    bad["TargetType"] = json!("ORG");
    let (status, _, e) = call(&h, "ProvisionPermissionSet", bad, Some(AUTH)).await;
    assert_eq!(
        (status, e["__type"].as_str()),
        (400, Some("ValidationException"))
    );
}
