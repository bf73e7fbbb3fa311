//! Huawei Cloud IAM Identity Center provider: a small signed REST client on reqwest.
//!
//! There is no official Rust SDK for this service, so the client is hand-written against the
//! documented REST API (`GET /v1/instances/...`) and signs with
//! [`huawei_sign`](crate::provider::huawei_sign), whose output is pinned to the official SDK's
//! test vectors. Every method is exactly one HTTP request with no retries: the poller owns
//! retries and the API budget, and a hidden retry here would make its accounting wrong.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Url;
use serde::Deserialize;
use serde_json::Value;

use crate::config::Settings;
use crate::model::{
    Described, Instance, OperationKind, Page, RequestDetail, Status, StatusSummary,
};
use crate::provider::huawei_credentials::{self, HuaweiCredentials, SETUP_HINT};
use crate::provider::huawei_sign::{self, CanonicalInput};
use crate::provider::{ErrorKind, Provider, ProviderError, ProviderInfo};
use crate::sanitize::{clean_opt, clean_text};

/// The one global endpoint of the service (every region maps to it).
pub const DEFAULT_ENDPOINT: &str = "https://identitycenter.myhuaweicloud.com";

/// Page size asked for: the service maximum, so a full list costs as few calls as possible.
pub const PAGE_LIMIT: u32 = 100;

/// Connecting should be quick; a slow connect means a network problem worth reporting fast.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Upper bound for one whole call, so a stuck connection can never stall the poller.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest response body accepted. A page of 100 summaries is ~10 KB; anything vastly larger
/// is not this API, and reading it whole would only waste memory.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Gateway error codes that mean "slow down" although some arrive with a status other than 429.
const THROTTLING_CODES: &[&str] = &[
    "APIGW.0308",
    "APIG.0308",
    "APIGW.0309",
    "APIG.0309",
    "IIC.429",
    "IIC.1429",
];

/// The Huawei Cloud provider. Holds credentials (redacted in `Debug`), never prints them.
#[derive(Debug, Clone)]
pub struct HuaweiProvider {
    http: reqwest::Client,
    endpoint: Url,
    credentials: HuaweiCredentials,
    region: Option<String>,
    /// Added to the wall clock when stamping `X-Sdk-Date`. Zero in normal use; tests use it to
    /// show how a skewed client clock is refused by the gateway.
    clock_offset: TimeDelta,
}

/// The connection parameters of the embedded demo: base URL of the in-process emulator and
/// the keys it accepts (the emulator's documented defaults).
#[derive(Debug, Clone, Copy)]
pub struct DemoEndpoint<'a> {
    pub base_url: &'a str,
    pub access_key: &'a str,
    pub secret_key: &'a str,
    pub domain_id: &'a str,
}

impl<'a> DemoEndpoint<'a> {
    /// The in-process emulator at `base_url` with its documented default keys
    /// ([`DEFAULT_HUAWEI_AK`](crate::emulator::DEFAULT_HUAWEI_AK), ...), which is what `--demo`
    /// starts.
    pub fn emulator_defaults(base_url: &'a str) -> Self {
        DemoEndpoint {
            base_url,
            access_key: crate::emulator::DEFAULT_HUAWEI_AK,
            secret_key: crate::emulator::DEFAULT_HUAWEI_SK,
            domain_id: crate::emulator::DEMO_HUAWEI_DOMAIN_ID,
        }
    }
}

impl HuaweiProvider {
    /// A provider for `endpoint` (e.g. [`DEFAULT_ENDPOINT`] or an emulator's base URL).
    pub fn new(endpoint: &str, credentials: HuaweiCredentials) -> Result<Self, ProviderError> {
        let endpoint = Url::parse(endpoint.trim()).map_err(|e| {
            ProviderError::new(
                ErrorKind::Config,
                format!("invalid Huawei Cloud endpoint URL {endpoint:?}: {e}"),
            )
        })?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.host_str().is_none() {
            return Err(ProviderError::new(
                ErrorKind::Config,
                format!(
                    "the Huawei Cloud endpoint must be an http(s) URL with a host, got {endpoint}"
                ),
            ));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("ssowatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ProviderError::new(
                    ErrorKind::Config,
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(HuaweiProvider {
            http,
            endpoint,
            credentials,
            region: None,
            clock_offset: TimeDelta::zero(),
        })
    }

    /// The region shown in the header. The service has one global endpoint, so it does not
    /// change where requests go.
    pub fn with_region(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }

    /// Shifts the signing clock (see the field's doc); for tests of the 15-minute window.
    pub fn with_clock_offset(mut self, offset: TimeDelta) -> Self {
        self.clock_offset = offset;
        self
    }

    /// The provider the CLI builds from merged settings. With `demo`, it talks to the
    /// in-process emulator with the emulator's keys; otherwise credentials come from the
    /// official SDK's chain (environment, `~/.huaweicloud/credentials`) and the endpoint from
    /// `endpoint_url` or the global default.
    pub async fn from_settings(
        settings: &Settings,
        demo: Option<DemoEndpoint<'_>>,
    ) -> Result<HuaweiProvider, ProviderError> {
        let (endpoint, credentials) = match demo {
            Some(d) => (
                d.base_url.to_string(),
                HuaweiCredentials::new(d.access_key, d.secret_key)
                    .with_domain_id(Some(d.domain_id.to_string())),
            ),
            None => (
                settings
                    .endpoint_url
                    .clone()
                    .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
                huawei_credentials::resolve_default(settings.huawei_domain_id.as_deref())?,
            ),
        };
        Ok(HuaweiProvider::new(&endpoint, credentials)?.with_region(settings.region.clone()))
    }

    /// Path segments of the endpoint itself (a proxy may mount the API under a prefix).
    fn base_segments(&self) -> Vec<String> {
        self.endpoint
            .path_segments()
            .map(|segs| {
                segs.filter(|s| !s.is_empty())
                    .map(|s| {
                        percent_encoding::percent_decode_str(s)
                            .decode_utf8_lossy()
                            .into_owned()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Signs and sends one GET, returning the parsed JSON body of a 2xx answer and mapping
    /// anything else to a typed error. `segments` are raw (unencoded) path segments.
    async fn get(
        &self,
        operation: &str,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Value, ProviderError> {
        let mut all_segments = self.base_segments();
        all_segments.extend(segments.iter().map(|s| s.to_string()));
        let host = self
            .endpoint
            .host_str()
            .map(|h| huawei_sign::host_header(h, self.endpoint.port()))
            .unwrap_or_default();
        let date = huawei_sign::format_sdk_date(Utc::now() + self.clock_offset);
        let mut headers: Vec<(&str, String)> = vec![
            ("Content-Type", "application/json".to_string()),
            ("Host", host.clone()),
            ("X-Sdk-Date", date.clone()),
        ];
        if let Some(domain) = self.credentials.domain_id() {
            headers.push(("X-Domain-Id", domain.to_string()));
        }
        if let Some(token) = self.credentials.security_token() {
            headers.push(("X-Security-Token", token.to_string()));
        }
        let input = CanonicalInput::new("GET", &all_segments, query, &headers, b"");
        let signed = huawei_sign::sign(
            &input,
            &date,
            self.credentials.access_key(),
            self.credentials.secret_key(),
        );

        // Built by hand rather than with `Url::join`/`set_path` so the path and query reach the
        // wire exactly as they were signed (the URL parser keeps `%XX` escapes as they are).
        let mut url = format!(
            "{}://{}{}",
            self.endpoint.scheme(),
            host,
            huawei_sign::wire_path(&all_segments)
        );
        if !input.query.is_empty() {
            url.push('?');
            url.push_str(&input.query);
        }
        let mut request = self.http.get(&url);
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        request = request.header("Authorization", signed.authorization);

        let response = request
            .send()
            .await
            .map_err(|e| transport_error(operation, &e))?;
        let status = response.status().as_u16();
        let header_request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(clean_text)
            .filter(|s| !s.is_empty());
        let body = read_body(response, operation).await?;
        if (200..300).contains(&status) {
            serde_json::from_slice::<Value>(&body).map_err(|e| {
                ProviderError::new(
                    ErrorKind::Malformed,
                    format!("{operation}: the response is not JSON: {e}"),
                )
                .with_request_id(header_request_id)
            })
        } else {
            Err(map_error(operation, status, &body, header_request_id))
        }
    }
}

/// Reads the body with a size cap; a transport failure midway is transient.
async fn read_body(
    mut response: reqwest::Response,
    operation: &str,
) -> Result<Vec<u8>, ProviderError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(ProviderError::new(
                        ErrorKind::Malformed,
                        format!("{operation}: the response is larger than {MAX_BODY_BYTES} bytes"),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(transport_error(operation, &e)),
        }
    }
}

/// Network-level failures are transient. The reqwest error text names the URL (no secrets:
/// credentials travel only in headers), so it is safe to show.
fn transport_error(operation: &str, e: &reqwest::Error) -> ProviderError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut source = String::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        if !source.is_empty() {
            source.push_str(": ");
        }
        source.push_str(&err.to_string());
        cur = err.source();
    }
    ProviderError::new(
        ErrorKind::Transient,
        format!("{operation} {what}: {source}"),
    )
}

/// The error body shape shared by the service and its API gateway.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_msg: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
}

/// Maps an HTTP error answer to a typed error, keeping the provider's request id (body first,
/// then the `X-Request-Id` header) so the operator can quote it to support.
pub fn map_error(
    operation: &str,
    status: u16,
    body: &[u8],
    header_request_id: Option<String>,
) -> ProviderError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let parsed_ok = parsed
        .as_ref()
        .is_some_and(|b| b.error_code.is_some() || b.error_msg.is_some());
    let b = parsed.unwrap_or_default();
    let code = b.error_code.as_deref().map(clean_text).unwrap_or_default();
    let msg = b.error_msg.as_deref().map(clean_text).unwrap_or_default();
    let request_id = clean_opt(b.request_id.as_deref()).or(header_request_id);

    let throttled_code = THROTTLING_CODES.contains(&code.as_str());
    let kind = match status {
        _ if throttled_code => ErrorKind::Throttled,
        429 => ErrorKind::Throttled,
        401 | 403 => ErrorKind::Auth,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        400 | 405 | 411..=428 => ErrorKind::Validation,
        500..=599 => ErrorKind::Transient,
        _ if !parsed_ok => ErrorKind::Malformed,
        _ => ErrorKind::Transient,
    };
    let detail = match (code.is_empty(), msg.is_empty()) {
        (false, false) => format!("{code}: {msg}"),
        (false, true) => code.clone(),
        (true, false) => msg.clone(),
        (true, true) => "no error details in the response".to_string(),
    };
    let mut err = ProviderError::new(
        kind,
        format!("{operation} returned HTTP {status}: {detail}"),
    )
    .with_request_id(request_id);
    if kind == ErrorKind::Auth {
        let hint = if msg.to_ascii_lowercase().contains("date") || msg.contains("expired") {
            format!(
                "check this machine's clock (requests are signed with the current UTC time); {SETUP_HINT}"
            )
        } else if status == 403 {
            format!(
                "the credentials are valid but lack IAM Identity Center read permissions, or {SETUP_HINT}"
            )
        } else {
            SETUP_HINT.to_string()
        };
        err = err.with_hint(hint);
    }
    err
}

/// Converts `created_date` into UTC. The service sends epoch milliseconds as a number in
/// lists, and the official SDKs type the provisioning detail's value as a string, so this
/// accepts a number, a string of digits, or an ISO-8601/RFC 3339 date. Numbers below 10^11
/// are taken as epoch *seconds* (10^11 ms is 1973, 10^11 s is the year 5138), so a service
/// change to seconds would not put every record in 1970.
pub fn parse_created(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                from_epoch_number(i as f64)
            } else {
                n.as_f64().and_then(from_epoch_number)
            }
        }
        Value::String(s) => parse_created_str(s.trim()),
        _ => None,
    }
}

fn from_epoch_number(n: f64) -> Option<DateTime<Utc>> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let ms = if n < 1e11 { n * 1000.0 } else { n };
    DateTime::from_timestamp_millis(ms.round() as i64)
}

fn parse_created_str(s: &str) -> Option<DateTime<Utc>> {
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<f64>().ok().and_then(from_epoch_number);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // ISO-8601 variants without a colon in the offset (`+0800`) or without any zone (UTC).
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

/// The wire names per kind: (list path tail, describe path tail, list field, describe field,
/// list operation, describe operation).
struct KindWire {
    group: &'static str,
    list_segment: &'static str,
    describe_segment: &'static str,
    list_field: &'static str,
    describe_field: &'static str,
    list_op: &'static str,
    describe_op: &'static str,
}

fn wire(kind: OperationKind) -> KindWire {
    match kind {
        OperationKind::AssignmentCreation => KindWire {
            group: "account-assignments",
            list_segment: "creation-statuses",
            describe_segment: "creation-status",
            list_field: "account_assignments_creation_status",
            describe_field: "account_assignment_creation_status",
            list_op: "ListAccountAssignmentCreationStatus",
            describe_op: "DescribeAccountAssignmentCreationStatus",
        },
        OperationKind::AssignmentDeletion => KindWire {
            group: "account-assignments",
            list_segment: "deletion-statuses",
            describe_segment: "deletion-status",
            list_field: "account_assignments_deletion_status",
            describe_field: "account_assignment_deletion_status",
            list_op: "ListAccountAssignmentDeletionStatus",
            describe_op: "DescribeAccountAssignmentDeletionStatus",
        },
        OperationKind::PermissionSetProvisioning => KindWire {
            group: "permission-sets",
            list_segment: "provisioning-statuses",
            describe_segment: "provisioning-status",
            list_field: "permission_sets_provisioning_status",
            describe_field: "permission_set_provisioning_status",
            list_op: "ListPermissionSetProvisioningStatus",
            describe_op: "DescribePermissionSetProvisioningStatus",
        },
    }
}

fn malformed(operation: &str, what: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(ErrorKind::Malformed, format!("{operation}: {what}"))
}

fn str_field<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

fn summary_from(
    operation: &str,
    kind: OperationKind,
    item: &Value,
) -> Result<StatusSummary, ProviderError> {
    let request_id = clean_opt(str_field(item, "request_id"))
        .ok_or_else(|| malformed(operation, "an entry has no request_id"))?;
    let status = str_field(item, "status")
        .map(Status::from_wire)
        .ok_or_else(|| malformed(operation, format!("entry {request_id} has no status")))?;
    let created = item
        .get("created_date")
        .and_then(parse_created)
        .ok_or_else(|| {
            malformed(
                operation,
                format!("entry {request_id} has no usable created_date"),
            )
        })?;
    Ok(StatusSummary {
        kind,
        request_id,
        status,
        created,
    })
}

#[async_trait]
impl Provider for HuaweiProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            name: "huawei".to_string(),
            profile: None,
            region: self.region.clone(),
            endpoint: Some(self.endpoint.as_str().trim_end_matches('/').to_string()),
        }
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, ProviderError> {
        // Accounts have one instance (a handful at most); page anyway, bounded, so a service
        // that pages small does not hide one, and one that never stops paging is an error
        // rather than a hang.
        const OP: &str = "ListInstances";
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..20 {
            let mut query = vec![("limit", PAGE_LIMIT.to_string())];
            if let Some(m) = &marker {
                query.push(("marker", m.clone()));
            }
            let body = self.get(OP, &["v1", "instances"], &query).await?;
            let items = body
                .get("instances")
                .and_then(Value::as_array)
                .ok_or_else(|| malformed(OP, "no instances array in the response"))?;
            for item in items {
                let id = clean_opt(str_field(item, "instance_id"))
                    .ok_or_else(|| malformed(OP, "an instance has no instance_id"))?;
                out.push(Instance {
                    id,
                    identity_store_id: clean_opt(str_field(item, "identity_store_id")),
                    name: clean_opt(str_field(item, "alias")),
                });
            }
            match next_marker(&body) {
                Some(m) if marker.as_deref() != Some(m.as_str()) => marker = Some(m),
                Some(_) => return Err(malformed(OP, "the service returned the same marker twice")),
                None => return Ok(out),
            }
        }
        Err(malformed(OP, "more than 20 pages of instances"))
    }

    async fn list_page(
        &self,
        instance: &str,
        kind: OperationKind,
        status: Option<&Status>,
        page_token: Option<&str>,
    ) -> Result<Page, ProviderError> {
        let w = wire(kind);
        let mut query = vec![("limit", PAGE_LIMIT.to_string())];
        if let Some(s) = status {
            query.push(("status", s.as_wire().to_string()));
        }
        if let Some(m) = page_token.filter(|m| !m.is_empty()) {
            query.push(("marker", m.to_string()));
        }
        let body = self
            .get(
                w.list_op,
                &["v1", "instances", instance, w.group, w.list_segment],
                &query,
            )
            .await?;
        let items = match body.get(w.list_field) {
            Some(Value::Array(items)) => items.as_slice(),
            Some(Value::Null) | None => &[],
            Some(_) => {
                return Err(malformed(
                    w.list_op,
                    format!("{} is not a list", w.list_field),
                ));
            }
        };
        let items = items
            .iter()
            .map(|item| summary_from(w.list_op, kind, item))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next_token: next_marker(&body),
        })
    }

    async fn describe(
        &self,
        instance: &str,
        kind: OperationKind,
        request_id: &str,
    ) -> Result<Described, ProviderError> {
        let w = wire(kind);
        let body = self
            .get(
                w.describe_op,
                &[
                    "v1",
                    "instances",
                    instance,
                    w.group,
                    w.describe_segment,
                    request_id,
                ],
                &[],
            )
            .await?;
        let obj = body
            .get(w.describe_field)
            .filter(|v| v.is_object())
            .ok_or_else(|| malformed(w.describe_op, format!("no {} object", w.describe_field)))?;
        let summary = summary_from(w.describe_op, kind, obj)?;
        let detail = match kind {
            OperationKind::PermissionSetProvisioning => RequestDetail {
                failure_reason: clean_opt(str_field(obj, "failure_reason")),
                target_account: clean_opt(str_field(obj, "account_id")),
                target_type: None,
                permission_set: clean_opt(str_field(obj, "permission_set_id")),
                permission_set_name: None,
                principal_type: None,
                principal_id: None,
            },
            _ => RequestDetail {
                failure_reason: clean_opt(str_field(obj, "failure_reason")),
                target_account: clean_opt(str_field(obj, "target_id")),
                target_type: clean_opt(str_field(obj, "target_type")),
                permission_set: clean_opt(str_field(obj, "permission_set_id")),
                permission_set_name: None,
                principal_type: clean_opt(str_field(obj, "principal_type")),
                principal_id: clean_opt(str_field(obj, "principal_id")),
            },
        };
        Ok(Described {
            summary,
            detail,
            source_call: w.describe_op.to_string(),
            described_at: Utc::now(),
        })
    }

    async fn permission_set_name(
        &self,
        instance: &str,
        permission_set: &str,
    ) -> Result<Option<String>, ProviderError> {
        const OP: &str = "DescribePermissionSet";
        let body = self
            .get(
                OP,
                &[
                    "v1",
                    "instances",
                    instance,
                    "permission-sets",
                    permission_set,
                ],
                &[],
            )
            .await?;
        let ps = body
            .get("permission_set")
            .filter(|v| v.is_object())
            .ok_or_else(|| malformed(OP, "no permission_set object"))?;
        Ok(clean_opt(str_field(ps, "name")))
    }
}

/// `page_info.next_marker`; null, absent or empty means the last page.
fn next_marker(body: &Value) -> Option<String> {
    body.get("page_info")
        .and_then(|p| p.get("next_marker"))
        .and_then(Value::as_str)
        .map(clean_text)
        .filter(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn created_date_accepts_numbers_and_strings() {
        let want = Utc.timestamp_millis_opt(1_677_175_760_379).single();
        assert_eq!(parse_created(&json!(1_677_175_760_379_i64)), want);
        assert_eq!(parse_created(&json!("1677175760379")), want);
        assert_eq!(parse_created(&json!(1_677_175_760.379)), want);
        assert_eq!(parse_created(&json!("2023-02-23T18:09:20.379Z")), want);
        assert_eq!(parse_created(&json!("2023-02-24T02:09:20.379+08:00")), want);
        assert_eq!(parse_created(&json!("2023-02-24T02:09:20.379+0800")), want);
        assert_eq!(parse_created(&json!("2023-02-23T18:09:20.379")), want);
        assert_eq!(parse_created(&json!("yesterday")), None);
        assert_eq!(parse_created(&json!(null)), None);
        assert_eq!(parse_created(&json!(-5)), None);
    }

    #[test]
    fn errors_map_to_kinds_with_request_ids() {
        let body = br#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail","request_id":"abc"}"#;
        let e = map_error("Op", 401, body, Some("hdr".into()));
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.request_id.as_deref(), Some("abc"));
        assert!(
            e.hint
                .as_deref()
                .unwrap_or_default()
                .contains("HUAWEICLOUD_SDK_AK")
        );
        assert!(e.message.contains("APIGW.0301"));

        let e = map_error(
            "Op",
            404,
            br#"{"error_code":"IIC.404","error_msg":"x"}"#,
            Some("hdr".into()),
        );
        assert_eq!(
            (e.kind, e.request_id.as_deref()),
            (ErrorKind::NotFound, Some("hdr"))
        );
        assert_eq!(
            map_error("Op", 409, br#"{"error_code":"IIC.1006"}"#, None).kind,
            ErrorKind::Conflict
        );
        assert_eq!(map_error("Op", 429, b"", None).kind, ErrorKind::Throttled);
        assert_eq!(
            map_error(
                "Op",
                403,
                br#"{"error_code":"APIGW.0308","error_msg":"The request is throttled."}"#,
                None
            )
            .kind,
            ErrorKind::Throttled
        );
        assert_eq!(
            map_error("Op", 503, b"<html>", None).kind,
            ErrorKind::Transient
        );
        assert_eq!(
            map_error("Op", 400, br#"{"error_code":"IIC.400"}"#, None).kind,
            ErrorKind::Validation
        );
        assert_eq!(
            map_error("Op", 302, b"<html>", None).kind,
            ErrorKind::Malformed
        );
        let e = map_error("Op", 500, b"{\"error_msg\":\"bad \\u001b[31mred\"}", None);
        assert!(!e.message.contains('\u{1b}'), "{}", e.message);
    }

    #[test]
    fn markers_null_absent_or_empty_end_paging() {
        assert_eq!(
            next_marker(&json!({"page_info": {"next_marker": null}})),
            None
        );
        assert_eq!(
            next_marker(&json!({"page_info": {"next_marker": ""}})),
            None
        );
        assert_eq!(next_marker(&json!({})), None);
        assert_eq!(
            next_marker(&json!({"page_info": {"next_marker": "abc"}})),
            Some("abc".to_string())
        );
    }

    #[test]
    fn provider_debug_does_not_leak_the_secret() {
        let p = HuaweiProvider::new(
            "http://127.0.0.1:1",
            HuaweiCredentials::new("AKAKAKAK", "SECRETSECRET"),
        );
        let shown = format!("{p:?}");
        assert!(!shown.contains("SECRETSECRET"), "{shown}");
    }

    #[test]
    fn bad_endpoints_are_config_errors() {
        for bad in ["not a url", "ftp://x", "unix:/tmp/sock"] {
            let e = HuaweiProvider::new(bad, HuaweiCredentials::new("a", "b")).err();
            assert_eq!(e.map(|e| e.kind), Some(ErrorKind::Config), "{bad}");
        }
    }
}
