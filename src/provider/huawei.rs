//! Huawei Cloud IAM Identity Center provider: a small signed REST client on reqwest.
//!
//! There is no official Rust SDK for this service, so the client is hand-written against the
//! documented REST API (`GET /v1/instances/...`, names from [`crate::wire::huawei_api`]) and
//! signs with [`crate::provider::huawei_sign`], whose output is pinned to the official SDK's
//! test vectors. Credentials come from [`crate::provider::huawei_credentials`]; the caller
//! picks them and passes them in. Every method is exactly one HTTP request with no retries:
//! the poller owns retries and the API budget, and a hidden retry here would make its
//! accounting wrong.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Url;
use serde::Deserialize;
use serde_json::Value;

use crate::model::{
    Described, Instance, NameKind, OperationKind, Page, RequestDetail, Status, StatusSummary,
};
use crate::provider::huawei_credentials::{HuaweiCredentials, SETUP_HINT};
use crate::provider::huawei_sign;
use crate::provider::{AccountPage, ErrorKind, Provider, ProviderError, ProviderInfo};
use crate::sanitize::{clean_opt, clean_text};
use crate::wire::huawei_api::{
    ACCOUNTS_PAGE_LIMIT, ACCOUNTS_PATH, DEFAULT_IDENTITY_STORE_REGION, GROUPS_GROUP,
    IDENTITY_STORES_PATH, INSTANCES_PATH, ORGANIZATIONS_ENDPOINT, PERMISSION_SETS_GROUP,
    USERS_GROUP, names,
};
use crate::wire::operations::{self, DESCRIBE_PERMISSION_SET, LIST_INSTANCES};

/// The one global endpoint of the service (every region maps to it).
pub const DEFAULT_ENDPOINT: &str = "https://identitycenter.myhuaweicloud.com";

/// Page size asked for: the service maximum, so a full list costs as few calls as possible.
pub const PAGE_LIMIT: u32 = 100;

/// Connecting should be quick; a slow connect means a network problem worth reporting fast.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Upper bound for one whole call, so a stuck connection can never stall the poller.
pub const REQUEST_TIMEOUT: Duration = super::CALL_TIMEOUT;

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

/// Gateway error codes that mean "no such API here": the wrong endpoint or region.
const UNSUPPORTED_CODES: &[&str] = &["APIGW.0101", "APIG.0101"];

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

    /// Where a name service is: its real host when ssowatch talks to the real cloud, and the
    /// one `--endpoint-url` (an emulator, a proxy) for every service otherwise.
    fn name_endpoint(&self, service: NameKind) -> Result<Url, ProviderError> {
        let default = Url::parse(DEFAULT_ENDPOINT).ok();
        if default.as_ref() != Some(&self.endpoint) {
            return Ok(self.endpoint.clone());
        }
        let url = match service {
            NameKind::Account => ORGANIZATIONS_ENDPOINT.to_string(),
            _ => format!(
                "https://identitystore.{}.myhuaweicloud.com",
                self.region
                    .as_deref()
                    .unwrap_or(DEFAULT_IDENTITY_STORE_REGION)
            ),
        };
        Url::parse(&url).map_err(|e| {
            ProviderError::new(ErrorKind::Config, format!("invalid region for {url}: {e}"))
        })
    }

    /// Signs and sends one GET, returning the parsed JSON body of a 2xx answer and mapping
    /// anything else to a typed error. `segments` are raw (unencoded) path segments.
    async fn get(
        &self,
        operation: &str,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Value, ProviderError> {
        self.get_at(&self.endpoint, operation, segments, query)
            .await
    }

    /// [`Self::get`] on another service's endpoint.
    async fn get_at(
        &self,
        endpoint: &Url,
        operation: &str,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Value, ProviderError> {
        let signed = huawei_sign::sign_get(
            endpoint,
            segments,
            query,
            &self.credentials,
            Utc::now() + self.clock_offset,
        );
        let mut request = self.http.get(&signed.url);
        for (name, value) in &signed.headers {
            request = request.header(*name, value);
        }
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
        // The gateway knows no such API (APIGW.0101), or the server does not implement it.
        _ if UNSUPPORTED_CODES.contains(&code.as_str()) => ErrorKind::Unsupported,
        501 => ErrorKind::Unsupported,
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
    match kind {
        ErrorKind::Unsupported => err = err.with_hint(super::UNSUPPORTED_HINT),
        ErrorKind::Validation => err = err.with_hint(super::VALIDATION_HINT),
        _ => {}
    }
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
        const OP: &str = LIST_INSTANCES;
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..20 {
            let mut query = vec![("limit", PAGE_LIMIT.to_string())];
            if let Some(m) = &marker {
                query.push(("marker", m.clone()));
            }
            let body = self.get(OP, &INSTANCES_PATH, &query).await?;
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
        let w = names(kind);
        let list_op = operations::list(kind);
        let mut query = vec![("limit", PAGE_LIMIT.to_string())];
        if let Some(s) = status {
            query.push(("status", s.as_wire().to_string()));
        }
        if let Some(m) = page_token.filter(|m| !m.is_empty()) {
            query.push(("marker", m.to_string()));
        }
        let body = self
            .get(
                list_op,
                &[
                    INSTANCES_PATH[0],
                    INSTANCES_PATH[1],
                    instance,
                    w.group,
                    w.list_segment,
                ],
                &query,
            )
            .await?;
        let items = match body.get(w.list_field) {
            Some(Value::Array(items)) => items.as_slice(),
            Some(Value::Null) | None => &[],
            Some(_) => {
                return Err(malformed(
                    list_op,
                    format!("{} is not a list", w.list_field),
                ));
            }
        };
        let items = items
            .iter()
            .map(|item| summary_from(list_op, kind, item))
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
        let w = names(kind);
        let describe_op = operations::describe(kind);
        let body = self
            .get(
                describe_op,
                &[
                    INSTANCES_PATH[0],
                    INSTANCES_PATH[1],
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
            .ok_or_else(|| malformed(describe_op, format!("no {} object", w.describe_field)))?;
        let summary = summary_from(describe_op, kind, obj)?;
        let detail = match kind {
            OperationKind::PermissionSetProvisioning => RequestDetail {
                failure_reason: clean_opt(str_field(obj, "failure_reason")),
                target_account: clean_opt(str_field(obj, "account_id")),
                permission_set: clean_opt(str_field(obj, "permission_set_id")),
                // Provisioning has no principal; names come later, from the name resolver.
                ..RequestDetail::default()
            },
            _ => RequestDetail {
                failure_reason: clean_opt(str_field(obj, "failure_reason")),
                target_account: clean_opt(str_field(obj, "target_id")),
                target_type: clean_opt(str_field(obj, "target_type")),
                permission_set: clean_opt(str_field(obj, "permission_set_id")),
                principal_type: clean_opt(str_field(obj, "principal_type")),
                principal_id: clean_opt(str_field(obj, "principal_id")),
                // Names come later, from the name resolver.
                ..RequestDetail::default()
            },
        };
        Ok(Described {
            summary,
            detail,
            // The call as Huawei Cloud names it: its REST path, not the AWS operation.
            source_call: format!(
                "GET /{}/{}/{{instance}}/{}/{}/{{request_id}}",
                INSTANCES_PATH[0], INSTANCES_PATH[1], w.group, w.describe_segment
            ),
            described_at: Utc::now(),
        })
    }

    async fn permission_set_name(
        &self,
        instance: &str,
        permission_set: &str,
    ) -> Result<Option<String>, ProviderError> {
        const OP: &str = DESCRIBE_PERMISSION_SET;
        let body = self
            .get(
                OP,
                &[
                    INSTANCES_PATH[0],
                    INSTANCES_PATH[1],
                    instance,
                    PERMISSION_SETS_GROUP,
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

    async fn principal_name(
        &self,
        identity_store: &str,
        kind: NameKind,
        principal: &str,
    ) -> Result<Option<String>, ProviderError> {
        let (op, group, name_field) = match kind {
            NameKind::User => (operations::DESCRIBE_USER, USERS_GROUP, "user_name"),
            NameKind::Group => (operations::DESCRIBE_GROUP, GROUPS_GROUP, "display_name"),
            NameKind::Account | NameKind::PermissionSet => {
                return Err(ProviderError::new(
                    ErrorKind::Validation,
                    format!("{kind:?} is not an identity-store principal"),
                ));
            }
        };
        let endpoint = self.name_endpoint(kind)?;
        let segments = [
            IDENTITY_STORES_PATH[0],
            IDENTITY_STORES_PATH[1],
            identity_store,
            group,
            principal,
        ];
        let body = self.get_at(&endpoint, op, &segments, &[]).await?;
        if !body.is_object() {
            return Err(malformed(op, "the answer is not an object"));
        }
        Ok(clean_opt(str_field(&body, name_field))
            .or_else(|| clean_opt(str_field(&body, "display_name"))))
    }

    async fn list_accounts_page(
        &self,
        page_token: Option<&str>,
    ) -> Result<AccountPage, ProviderError> {
        const OP: &str = operations::LIST_ACCOUNTS;
        let endpoint = self.name_endpoint(NameKind::Account)?;
        let mut query = vec![("limit", ACCOUNTS_PAGE_LIMIT.to_string())];
        if let Some(marker) = page_token {
            query.push(("marker", marker.to_string()));
        }
        let body = self.get_at(&endpoint, OP, &ACCOUNTS_PATH, &query).await?;
        let accounts = body
            .get("accounts")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed(OP, "no accounts array"))?
            .iter()
            .filter_map(|a| {
                Some((
                    clean_opt(str_field(a, "id"))?,
                    clean_opt(str_field(a, "name"))?,
                ))
            })
            .collect();
        Ok(AccountPage {
            accounts,
            next_token: next_marker(&body),
        })
    }

    async fn account_name(&self, account: &str) -> Result<Option<String>, ProviderError> {
        const OP: &str = operations::DESCRIBE_ACCOUNT;
        let endpoint = self.name_endpoint(NameKind::Account)?;
        let segments = [
            ACCOUNTS_PATH[0],
            ACCOUNTS_PATH[1],
            ACCOUNTS_PATH[2],
            account,
        ];
        let body = self.get_at(&endpoint, OP, &segments, &[]).await?;
        let account = body
            .get("account")
            .filter(|v| v.is_object())
            .ok_or_else(|| malformed(OP, "no account object"))?;
        Ok(clean_opt(str_field(account, "name")))
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
        // Not implemented here: said once with what to do, never retried.
        for e in [
            map_error("Op", 501, b"501 Not Implemented", None),
            map_error(
                "Op",
                404,
                br#"{"error_code":"APIGW.0101","error_msg":"The API does not exist"}"#,
                None,
            ),
        ] {
            assert_eq!(e.kind, ErrorKind::Unsupported, "{e}");
            assert!(!e.kind.is_retryable());
            assert!(
                e.hint
                    .as_deref()
                    .is_some_and(|h| h.contains("--endpoint-url"))
            );
        }
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
