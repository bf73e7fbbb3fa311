//! A fault-injecting AWS SSO Admin server (JSON 1.1 over HTTP/1.1, raw tokio TCP so that it can
//! also misbehave below HTTP: reset a connection, close it mid-body, hang). The real AWS SDK
//! client talks to it: `ListInstances`, the three `List*Status` and `Describe*Status`
//! operations and `DescribePermissionSet`.
//!
//! A [`Plan`] says which fault hits which requests: every request, the first `n`, or a seeded
//! fraction of them. The fraction is drawn from the request's sequence number and the seed,
//! never from the clock, so a run is the same every time. Every request is recorded (operation,
//! headers, when it arrived), so tests can count calls, check their spacing, and look for the
//! signature a log must not contain.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const INSTANCE_ARN: &str = "arn:aws:sso:::instance/ssoins-1111222233334444";
pub const IDENTITY_STORE: &str = "d-1234567890";
pub const PERMISSION_SET: &str =
    "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-0123456789abcdef";
/// Records of each kind: three pages of 100, the last one short.
pub const PER_KIND: usize = 250;
pub const PAGE: usize = 100;
/// The longest hang: a hang is bounded so that no test can wait forever on this server.
pub const MAX_HANG: Duration = Duration::from_secs(3);
/// Text that a hostile server puts in every string it can: CSI, OSC title and clipboard writes,
/// a bidi override, C1 controls, a bell.
pub const HOSTILE: &str = "evil\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}]52;c;ZXZpbA==\u{1b}\\\u{202e}txet\u{9b}31m\u{85}\u{7}end";

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 `ThrottlingException`.
    Throttle,
    /// HTTP 500 `InternalServerException`.
    Internal,
    /// HTTP 503 with an HTML page, as a load balancer sends it.
    Html503,
    /// Wait [`MAX_HANG`], then answer normally.
    Hang,
    /// Reset the connection (RST) after reading the request.
    Reset,
    /// Announce a body, send part of it and close.
    CloseMidBody,
    /// HTTP 200 with a body that is not JSON.
    Malformed,
    /// HTTP 200 with the first half of the right JSON, and a Content-Length that matches it.
    Truncated,
    /// HTTP 200 with JSON whose fields have the wrong types.
    WrongTypes,
    /// HTTP 200 with records that have no RequestId.
    MissingFields,
    /// Records whose status is `CANCELLED`.
    UnknownStatus,
    /// Every record of a page twice.
    DuplicateIds,
    /// Page tokens A -> B -> A -> ...
    LoopingToken,
    /// A new page token on every page, forever, with the same records.
    EndlessToken,
    /// A 10 MB answer: a describe with a 10 MB failure reason, list pages with 10 MB of padding.
    Huge,
    /// Control and escape sequences in every string field and in error messages.
    Hostile,
    /// HTTP 400 `ExpiredTokenException`.
    Expired,
    /// HTTP 400 `UnrecognizedClientException`.
    Unrecognized,
    /// HTTP 400 `AccessDeniedException`.
    Denied,
    /// HTTP 404 with an HTML page: an endpoint that is not the SSO Admin API.
    NotTheApi,
}

/// Which requests a fault hits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hits {
    Every,
    /// The first `n` matching requests, then none: a transient fault.
    First(usize),
    /// A seeded fraction of matching requests.
    Fraction {
        ratio: f64,
        seed: u64,
    },
}

/// Which operations a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    /// The three List*Status operations.
    Lists,
    /// The Describe*Status operations.
    Describes,
    ListInstances,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub fault: Option<Fault>,
    pub hits: Hits,
    pub scope: Scope,
}

impl Plan {
    pub fn healthy() -> Plan {
        Plan {
            fault: None,
            hits: Hits::Every,
            scope: Scope::All,
        }
    }

    pub fn every(fault: Fault) -> Plan {
        Plan {
            fault: Some(fault),
            hits: Hits::Every,
            scope: Scope::All,
        }
    }

    pub fn first(fault: Fault, n: usize) -> Plan {
        Plan {
            hits: Hits::First(n),
            ..Plan::every(fault)
        }
    }

    pub fn fraction(fault: Fault, ratio: f64, seed: u64) -> Plan {
        Plan {
            hits: Hits::Fraction { ratio, seed },
            ..Plan::every(fault)
        }
    }

    pub fn on(self, scope: Scope) -> Plan {
        Plan { scope, ..self }
    }
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Seen {
    pub operation: String,
    pub headers: Vec<(String, String)>,
    pub at: Instant,
    pub faulted: bool,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    seen: Vec<Seen>,
    matching: usize,
}

pub struct FaultServer {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultServer {
    /// Serves `plan` on an ephemeral loopback port, from a thread of its own, so that both
    /// synchronous tests (which run the binary) and async tests can use it.
    pub fn start(plan: Plan) -> FaultServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("tokio listener");
                let accept = async {
                    while let Ok((stream, _)) = listener.accept().await {
                        tokio::spawn(serve(stream, plan, state.clone()));
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
        });
        FaultServer {
            url,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().expect("lock").seen.clone()
    }

    pub fn count(&self, operation: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.operation == operation)
            .count()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A deterministic draw in `0..1` for request number `n` under `seed` (splitmix64).
fn draw(seed: u64, n: usize) -> f64 {
    let mut z = seed
        .wrapping_add((n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn in_scope(scope: Scope, operation: &str) -> bool {
    match scope {
        Scope::All => true,
        Scope::Lists => operation.starts_with("List") && operation.ends_with("Status"),
        Scope::Describes => operation.starts_with("Describe") && operation.ends_with("Status"),
        Scope::ListInstances => operation == "ListInstances",
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<(Vec<(String, String)>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 1 << 20 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((headers, body))
}

async fn serve(mut stream: TcpStream, plan: Plan, shared: Arc<Mutex<Shared>>) {
    // One request per connection (every answer says `Connection: close`), so a fault that
    // breaks a connection never leaks into the next request.
    let Some((headers, body)) = read_request(&mut stream).await else {
        return;
    };
    let operation = headers
        .iter()
        .find(|(n, _)| n == "x-amz-target")
        .and_then(|(_, v)| v.rsplit('.').next())
        .unwrap_or("")
        .to_string();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let fault = {
        let mut s = shared.lock().expect("lock");
        let fault = plan
            .fault
            .filter(|_| in_scope(plan.scope, &operation))
            .filter(|_| {
                let n = s.matching;
                s.matching += 1;
                match plan.hits {
                    Hits::Every => true,
                    Hits::First(k) => n < k,
                    Hits::Fraction { ratio, seed } => draw(seed, n) < ratio,
                }
            });
        s.seen.push(Seen {
            operation: operation.clone(),
            headers: headers.clone(),
            at: Instant::now(),
            faulted: fault.is_some(),
        });
        fault
    };
    let _ = respond(&mut stream, &operation, &request, fault).await;
}

async fn write(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: 6f1e2d3c-0000-4000-8000-00000000beef\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    stream.shutdown().await
}

async fn write_json(stream: &mut TcpStream, status: &str, body: &Value) -> std::io::Result<()> {
    write(
        stream,
        status,
        "application/x-amz-json-1.1",
        body.to_string().as_bytes(),
    )
    .await
}

async fn aws_error(stream: &mut TcpStream, status: &str, code: &str, message: &str) {
    let _ = write_json(stream, status, &json!({"__type": code, "message": message})).await;
}

const HTML_503: &str = "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>";
const HTML_404: &str = "<!DOCTYPE html><html><head><title>Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>";

async fn respond(
    stream: &mut TcpStream,
    operation: &str,
    request: &Value,
    fault: Option<Fault>,
) -> std::io::Result<()> {
    match fault {
        Some(Fault::Throttle) => {
            aws_error(stream, "400 Bad Request", "ThrottlingException", "Rate exceeded").await
        }
        Some(Fault::Internal) => {
            aws_error(
                stream,
                "500 Internal Server Error",
                "InternalServerException",
                "An unexpected internal service exception was encountered",
            )
            .await
        }
        Some(Fault::Html503) => {
            let _ = write(
                stream,
                "503 Service Unavailable",
                "text/html",
                HTML_503.as_bytes(),
            )
            .await;
        }
        Some(Fault::NotTheApi) => {
            let _ = write(stream, "404 Not Found", "text/html", HTML_404.as_bytes()).await;
        }
        Some(Fault::Expired) => {
            aws_error(
                stream,
                "400 Bad Request",
                "ExpiredTokenException",
                "The security token included in the request is expired",
            )
            .await
        }
        Some(Fault::Unrecognized) => {
            aws_error(
                stream,
                "400 Bad Request",
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
            .await
        }
        Some(Fault::Denied) => {
            aws_error(
                stream,
                "400 Bad Request",
                "AccessDeniedException",
                "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sso:ListAccountAssignmentCreationStatus",
            )
            .await
        }
        Some(Fault::Reset) => {
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
            return Ok(());
        }
        Some(Fault::CloseMidBody) => {
            let body = answer(operation, request, None).to_string();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len() + 4096
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body.as_bytes()[..body.len() / 2]).await?;
            stream.flush().await?;
            return stream.shutdown().await;
        }
        Some(Fault::Malformed) => {
            return write(
                stream,
                "200 OK",
                "application/x-amz-json-1.1",
                b"{\"AccountAssignmentsCreationStatus\": [{\"Status\": oops",
            )
            .await;
        }
        Some(Fault::Truncated) => {
            let body = answer(operation, request, None).to_string();
            return write(
                stream,
                "200 OK",
                "application/x-amz-json-1.1",
                &body.as_bytes()[..body.len() / 2],
            )
            .await;
        }
        Some(Fault::Hang) => {
            tokio::time::sleep(MAX_HANG).await;
            return write_json(stream, "200 OK", &answer(operation, request, None)).await;
        }
        other => {
            if let Some(kind) = DESCRIBES.iter().position(|(op, _, _)| *op == operation) {
                let id = request[DESCRIBES[kind].1].as_str().unwrap_or("");
                if !(0..PER_KIND).any(|i| request_id(kind, i) == id) {
                    aws_error(
                        stream,
                        "400 Bad Request",
                        "ResourceNotFoundException",
                        "Request not found",
                    )
                    .await;
                    return Ok(());
                }
            }
            return write_json(stream, "200 OK", &answer(operation, request, other)).await;
        }
    }
    Ok(())
}

/// A deterministic request id for record `i` of kind `k`.
pub fn request_id(kind: usize, i: usize) -> String {
    format!("{:08x}-{:04x}-4000-8000-{:012x}", 0x5eed_0000 + kind, i, i)
}

/// Created time of record `i`: one minute apart, newest first in page order.
fn created(i: usize) -> f64 {
    1_760_000_000.0 - 60.0 * i as f64 + 0.25
}

/// The record's status in the healthy data set.
pub fn status_of(i: usize) -> &'static str {
    match i % 5 {
        0 => "FAILED",
        1 => "IN_PROGRESS",
        _ => "SUCCEEDED",
    }
}

const LISTS: [(&str, &str); 3] = [
    (
        "ListAccountAssignmentCreationStatus",
        "AccountAssignmentsCreationStatus",
    ),
    (
        "ListAccountAssignmentDeletionStatus",
        "AccountAssignmentsDeletionStatus",
    ),
    (
        "ListPermissionSetProvisioningStatus",
        "PermissionSetsProvisioningStatus",
    ),
];

const DESCRIBES: [(&str, &str, &str); 3] = [
    (
        "DescribeAccountAssignmentCreationStatus",
        "AccountAssignmentCreationRequestId",
        "AccountAssignmentCreationStatus",
    ),
    (
        "DescribeAccountAssignmentDeletionStatus",
        "AccountAssignmentDeletionRequestId",
        "AccountAssignmentDeletionStatus",
    ),
    (
        "DescribePermissionSetProvisioningStatus",
        "ProvisionPermissionSetRequestId",
        "PermissionSetProvisioningStatus",
    ),
];

/// The answer of a healthy server, bent by the faults that change content rather than
/// transport.
fn answer(operation: &str, request: &Value, fault: Option<Fault>) -> Value {
    if operation == "ListInstances" {
        let name = if fault == Some(Fault::Hostile) {
            HOSTILE
        } else {
            "prod"
        };
        return json!({"Instances": [{
            "InstanceArn": INSTANCE_ARN,
            "IdentityStoreId": IDENTITY_STORE,
            "Name": name,
            "Status": "ACTIVE",
        }]});
    }
    if operation == "DescribePermissionSet" {
        return json!({"PermissionSet": {
            "Name": if fault == Some(Fault::Hostile) { HOSTILE } else { "AdministratorAccess" },
            "PermissionSetArn": PERMISSION_SET,
        }});
    }
    if let Some(kind) = LISTS.iter().position(|(op, _)| *op == operation) {
        return list_page(kind, request, fault);
    }
    if let Some(kind) = DESCRIBES.iter().position(|(op, _, _)| *op == operation) {
        return describe(kind, request, fault);
    }
    json!({})
}

fn list_page(kind: usize, request: &Value, fault: Option<Fault>) -> Value {
    let token = request["NextToken"].as_str().unwrap_or("");
    let filter = request["Filter"]["Status"].as_str();
    let matching: Vec<usize> = (0..PER_KIND)
        .filter(|&i| filter.is_none_or(|f| f == status_of(i)))
        .collect();
    let page: usize = token
        .strip_prefix("page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let (page, next) = match fault {
        Some(Fault::LoopingToken) => (0, Some(if token == "A" { "B" } else { "A" }.to_string())),
        Some(Fault::EndlessToken) => {
            let n: u64 = token
                .strip_prefix("endless")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            (0, Some(format!("endless{}", n + 1)))
        }
        _ => {
            let more = (page + 1) * PAGE < matching.len();
            (page, more.then(|| format!("page{}", page + 1)))
        }
    };
    let items: Vec<Value> = matching
        .iter()
        .skip(page * PAGE)
        .take(PAGE)
        .map(|&i| record(kind, i, fault))
        .collect();
    let items = if fault == Some(Fault::DuplicateIds) {
        items.iter().chain(items.iter()).cloned().collect()
    } else {
        items
    };
    let mut out = json!({ LISTS[kind].1: items });
    if let Some(next) = next {
        out["NextToken"] = json!(next);
    }
    if fault == Some(Fault::Huge) {
        out["Padding"] = json!("x".repeat(10 << 20));
    }
    out
}

fn record(kind: usize, i: usize, fault: Option<Fault>) -> Value {
    let id = request_id(kind, i);
    match fault {
        Some(Fault::WrongTypes) => {
            json!({"Status": 7, "RequestId": 12345, "CreatedDate": "yesterday"})
        }
        Some(Fault::MissingFields) => json!({"Status": status_of(i), "CreatedDate": created(i)}),
        Some(Fault::UnknownStatus) => {
            json!({"Status": "CANCELLED", "RequestId": id, "CreatedDate": created(i)})
        }
        Some(Fault::Hostile) => {
            json!({"Status": HOSTILE, "RequestId": format!("{id}{HOSTILE}"), "CreatedDate": created(i)})
        }
        _ => json!({"Status": status_of(i), "RequestId": id, "CreatedDate": created(i)}),
    }
}

fn describe(kind: usize, request: &Value, fault: Option<Fault>) -> Value {
    let (_, id_field, out_field) = DESCRIBES[kind];
    let id = request[id_field].as_str().unwrap_or("");
    let i = (0..PER_KIND)
        .find(|&i| request_id(kind, i) == id)
        .unwrap_or_default();
    let reason = match fault {
        Some(Fault::Hostile) => HOSTILE.to_string(),
        Some(Fault::Huge) => "r".repeat(10 << 20),
        _ => "Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/Nope"
            .to_string(),
    };
    let mut status = json!({
        "Status": if fault == Some(Fault::UnknownStatus) { "CANCELLED" } else { status_of(i) },
        "RequestId": id,
        "CreatedDate": created(i),
        "PermissionSetArn": PERMISSION_SET,
    });
    if status_of(i) == "FAILED" {
        status["FailureReason"] = json!(reason);
    }
    if kind == 2 {
        status["AccountId"] = json!("123456789012");
    } else {
        status["TargetId"] = json!("123456789012");
        status["TargetType"] = json!("AWS_ACCOUNT");
        status["PrincipalType"] = json!("USER");
        status["PrincipalId"] = json!("9067e5c2-0000-4000-8000-000000000001");
    }
    if fault == Some(Fault::WrongTypes) {
        status["CreatedDate"] = json!("yesterday");
    }
    if fault == Some(Fault::MissingFields) {
        return json!({});
    }
    json!({ out_field: status })
}
