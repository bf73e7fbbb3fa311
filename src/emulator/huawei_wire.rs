//! The emulator's Huawei Cloud protocol: the IAM Identity Center v1 REST paths, JSON bodies,
//! the API gateway's AK/SK check and its error bodies, served beside the AWS protocol on the
//! same port.
//!
//! Like the real service it authenticates first (a bad signature or an `X-Sdk-Date` more than
//! 15 minutes off the *real* wall clock is the gateway's 401, whatever the simulated time),
//! then validates `limit` (1..100), `status` and `marker` (exactly 24 characters, and one this
//! server issued), then answers from the same simulated organization as the AWS side.
//! `created_date` is epoch milliseconds as a number, except in the provisioning describe where
//! it is a string of digits: the official SDKs type that field as a string, and serving it so
//! keeps clients honest about accepting both.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::model::{OperationKind, Status};
use crate::provider::huawei_sign::{self, ReceivedRequest, VerifyError};

/// Largest page a client may ask for, and the default.
pub const MAX_LIMIT: usize = 100;

/// Length of every page marker, as the service documents it.
pub const MARKER_LEN: usize = 24;

/// The operation names recorded in the emulator's stats, prefixed so they never collide with
/// the AWS operations of the same name.
pub fn operation_name(route: &Route) -> String {
    let op = match route {
        Route::ListInstances => "ListInstances",
        Route::List { kind, .. } => match kind {
            OperationKind::AssignmentCreation => "ListAccountAssignmentCreationStatus",
            OperationKind::AssignmentDeletion => "ListAccountAssignmentDeletionStatus",
            OperationKind::PermissionSetProvisioning => "ListPermissionSetProvisioningStatus",
        },
        Route::Describe { kind, .. } => match kind {
            OperationKind::AssignmentCreation => "DescribeAccountAssignmentCreationStatus",
            OperationKind::AssignmentDeletion => "DescribeAccountAssignmentDeletionStatus",
            OperationKind::PermissionSetProvisioning => "DescribePermissionSetProvisioningStatus",
        },
        Route::PermissionSet { .. } => "DescribePermissionSet",
    };
    format!("huawei:{op}")
}

/// One of the API's operations, with its decoded path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    ListInstances,
    List {
        instance: String,
        kind: OperationKind,
    },
    Describe {
        instance: String,
        kind: OperationKind,
        request_id: String,
    },
    PermissionSet {
        instance: String,
        permission_set: String,
    },
}

/// Maps a GET path (still percent-encoded) to its operation; `None` for anything else, which
/// the gateway answers with its "API does not exist" 404.
pub fn route(method: &str, raw_path: &str) -> Option<Route> {
    if method != "GET" {
        return None;
    }
    let segs: Vec<String> = raw_path
        .trim_end_matches('/')
        .split('/')
        .skip(1)
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let kind_of = |group: &str, tail: &str| -> Option<(OperationKind, bool)> {
        match (group, tail) {
            ("account-assignments", "creation-statuses") => {
                Some((OperationKind::AssignmentCreation, true))
            }
            ("account-assignments", "deletion-statuses") => {
                Some((OperationKind::AssignmentDeletion, true))
            }
            ("permission-sets", "provisioning-statuses") => {
                Some((OperationKind::PermissionSetProvisioning, true))
            }
            ("account-assignments", "creation-status") => {
                Some((OperationKind::AssignmentCreation, false))
            }
            ("account-assignments", "deletion-status") => {
                Some((OperationKind::AssignmentDeletion, false))
            }
            ("permission-sets", "provisioning-status") => {
                Some((OperationKind::PermissionSetProvisioning, false))
            }
            _ => None,
        }
    };
    match s.as_slice() {
        ["v1", "instances"] => Some(Route::ListInstances),
        ["v1", "instances", id, group, tail] if !id.is_empty() => match kind_of(group, tail) {
            Some((kind, true)) => Some(Route::List {
                instance: id.to_string(),
                kind,
            }),
            _ if *group == "permission-sets" && !tail.is_empty() => Some(Route::PermissionSet {
                instance: id.to_string(),
                permission_set: tail.to_string(),
            }),
            _ => None,
        },
        ["v1", "instances", id, group, tail, rid] if !id.is_empty() && !rid.is_empty() => {
            match kind_of(group, tail) {
                Some((kind, false)) => Some(Route::Describe {
                    instance: id.to_string(),
                    kind,
                    request_id: rid.to_string(),
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A ready HTTP answer: status, extra headers, body.
pub type WireResponse = (u16, Vec<(String, String)>, Vec<u8>);

/// A fresh request id as the gateway makes them (32 lower-case hex digits).
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A JSON answer carrying `X-Request-Id`, as every answer of the real service does.
pub fn json_response(status: u16, request_id: &str, body: &Value) -> WireResponse {
    (
        status,
        vec![
            (
                "Content-Type".to_string(),
                "application/json;charset=UTF-8".to_string(),
            ),
            ("X-Request-Id".to_string(), request_id.to_string()),
        ],
        serde_json::to_vec(body).unwrap_or_default(),
    )
}

/// `{"error_code", "error_msg", "request_id"}` with the same id in the header.
pub fn error_response(status: u16, code: &str, msg: &str, request_id: &str) -> WireResponse {
    json_response(
        status,
        request_id,
        &json!({"error_code": code, "error_msg": msg, "request_id": request_id}),
    )
}

/// The gateway's 401 for a refused signature. The texts follow the real gateway's
/// ("Incorrect IAM authentication information: ...") and never echo the expected signature.
pub fn auth_error(err: &VerifyError, request_id: &str) -> WireResponse {
    let detail = match err {
        VerifyError::MissingAuthorization => "Authorization not found".to_string(),
        VerifyError::DateOutOfRange => {
            "The X-Sdk-Date is more than 15 minutes off the server time".to_string()
        }
        other => other.to_string(),
    };
    error_response(
        401,
        "APIGW.0301",
        &format!("Incorrect IAM authentication information: {detail}"),
        request_id,
    )
}

/// Checks the AK/SK signature against the real wall clock `now`.
pub fn authenticate(
    req: &ReceivedRequest<'_>,
    access_key: &str,
    secret_key: &str,
    now: DateTime<Utc>,
) -> Result<(), VerifyError> {
    huawei_sign::verify(req, access_key, secret_key, now).map(|_| ())
}

/// Validated list parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub status: Option<Status>,
    pub limit: usize,
    pub marker: Option<String>,
}

/// Parses and validates `status`, `limit` and `marker` as the service does; the error is the
/// `error_msg` of a 400 `IIC.400`.
pub fn parse_list_query(raw_query: Option<&str>, allow_status: bool) -> Result<ListQuery, String> {
    let mut q = ListQuery {
        status: None,
        limit: MAX_LIMIT,
        marker: None,
    };
    for (k, v) in huawei_sign::decode_query(raw_query.unwrap_or("")) {
        match k.as_str() {
            "limit" => {
                q.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| {
                        format!("Invalid parameter: limit must be between 1 and {MAX_LIMIT}")
                    })?;
            }
            "status" if allow_status => {
                q.status = Some(match v.as_str() {
                    "IN_PROGRESS" => Status::InProgress,
                    "SUCCEEDED" => Status::Succeeded,
                    "FAILED" => Status::Failed,
                    _ => {
                        return Err(
                            "Invalid parameter: status must be one of IN_PROGRESS, SUCCEEDED, FAILED"
                                .to_string(),
                        );
                    }
                });
            }
            "marker" => {
                if v.chars().count() != MARKER_LEN {
                    return Err(format!(
                        "Invalid parameter: marker length must be {MARKER_LEN}"
                    ));
                }
                q.marker = Some(v);
            }
            // Unknown parameters are ignored, as by the real gateway.
            _ => {}
        }
    }
    Ok(q)
}

/// Issues and checks page markers: 8 hex digits of position plus 16 of an HMAC over the
/// position and what is being listed, so a marker is only valid for the listing it came from
/// and a made-up one is refused, without any server-side state to grow or expire.
#[derive(Clone)]
pub struct MarkerCodec {
    key: [u8; 32],
}

impl MarkerCodec {
    pub fn new(seed: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..].copy_from_slice(b"ssowatch-huawei-marker-k");
        MarkerCodec { key }
    }

    fn tag(&self, scope: &str, position: u32) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(scope.as_bytes());
        mac.update(&position.to_be_bytes());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }

    /// The marker for resuming `scope` (instance, kind, status filter) at `position`.
    pub fn encode(&self, scope: &str, position: u32) -> String {
        format!("{position:08x}{}", self.tag(scope, position))
    }

    /// The position a marker stands for, or `None` when this server did not issue it for
    /// `scope`.
    pub fn decode(&self, scope: &str, marker: &str) -> Option<u32> {
        if marker.len() != MARKER_LEN || !marker.is_ascii() {
            return None;
        }
        let position = u32::from_str_radix(&marker[..8], 16).ok()?;
        let expected = self.tag(scope, position);
        huawei_sign::constant_time_eq(expected.as_bytes(), &marker.as_bytes()[8..])
            .then_some(position)
    }
}

/// Epoch milliseconds, the wire's `created_date`.
pub fn epoch_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// An instance as ListInstances shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireInstance {
    pub instance_id: String,
    pub identity_store_id: String,
    pub alias: Option<String>,
    pub instance_urn: String,
}

/// A permission set as DescribePermissionSet shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WirePermissionSet {
    pub permission_set_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created: DateTime<Utc>,
    pub session_duration: String,
}

/// What the Huawei protocol needs from the simulated organization. The emulator core
/// implements it; keeping it this small lets the protocol be tested on its own.
pub trait HuaweiBackend {
    fn instances(&self) -> Vec<WireInstance>;
    /// Every record of one kind in a stable order (oldest first, new ones appended), or `None`
    /// when the instance does not exist.
    fn records(
        &self,
        instance: &str,
        kind: OperationKind,
    ) -> Option<Vec<crate::model::StatusSummary>>;
    /// One record with its detail; outer `None` = unknown instance, inner = unknown request.
    fn describe(
        &self,
        instance: &str,
        kind: OperationKind,
        request_id: &str,
    ) -> Option<Option<(crate::model::StatusSummary, crate::model::RequestDetail)>>;
    /// Outer `None` = unknown instance, inner = unknown permission set.
    fn permission_set(
        &self,
        instance: &str,
        permission_set: &str,
    ) -> Option<Option<WirePermissionSet>>;
}

/// What the emulator's fault injection decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Serve,
    /// Answer with the gateway's throttling error (429 `APIGW.0308`).
    Throttle,
    /// Answer with the service's internal error (500 `IIC.1209`).
    Fail,
}

/// The Huawei protocol of one emulator: the keys it accepts and its marker key.
#[derive(Clone)]
pub struct HuaweiProtocol {
    access_key: String,
    secret_key: String,
    markers: MarkerCodec,
}

impl std::fmt::Debug for HuaweiProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HuaweiProtocol")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

impl HuaweiProtocol {
    pub fn new(access_key: &str, secret_key: &str, seed: u64) -> Self {
        HuaweiProtocol {
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            markers: MarkerCodec::new(seed),
        }
    }

    /// Answers one request. `real_now` is the real wall clock (the gateway's date check does
    /// not follow simulated time). `admit` is called once for every routed, authenticated
    /// request with its operation name (see [`operation_name`]); it counts the request and
    /// applies fault injection.
    pub fn handle(
        &self,
        backend: &dyn HuaweiBackend,
        req: &ReceivedRequest<'_>,
        real_now: DateTime<Utc>,
        admit: impl FnOnce(&str) -> Admission,
    ) -> WireResponse {
        let request_id = new_request_id();
        let Some(route) = route(req.method, req.raw_path) else {
            return error_response(
                404,
                "APIGW.0101",
                "The API does not exist or has not been published in the environment",
                &request_id,
            );
        };
        if let Err(e) = authenticate(req, &self.access_key, &self.secret_key, real_now) {
            return auth_error(&e, &request_id);
        }
        match admit(&operation_name(&route)) {
            Admission::Serve => {}
            Admission::Throttle => {
                return error_response(429, "APIGW.0308", "The request is throttled.", &request_id);
            }
            Admission::Fail => {
                return error_response(500, "IIC.1209", "Internal server error.", &request_id);
            }
        }
        match self.serve(backend, &route, req.raw_query) {
            Ok(body) => json_response(200, &request_id, &body),
            Err((status, code, msg)) => error_response(status, code, &msg, &request_id),
        }
    }

    fn serve(
        &self,
        backend: &dyn HuaweiBackend,
        route: &Route,
        raw_query: Option<&str>,
    ) -> Result<Value, (u16, &'static str, String)> {
        let bad = |msg: String| (400, "IIC.400", msg);
        let no_instance = |id: &str| (404, "IIC.404", format!("The instance {id} does not exist"));
        match route {
            Route::ListInstances => {
                let q = parse_list_query(raw_query, false).map_err(bad)?;
                let all = backend.instances();
                let scope = "instances";
                let (start, end, next) = self.page(scope, all.len(), &q).map_err(bad)?;
                let items: Vec<Value> = all[start..end]
                    .iter()
                    .map(|i| {
                        json!({
                            "instance_id": i.instance_id,
                            "identity_store_id": i.identity_store_id,
                            "alias": i.alias,
                            "instance_urn": i.instance_urn,
                        })
                    })
                    .collect();
                Ok(json!({
                    "instances": items,
                    "page_info": {"next_marker": next, "current_count": end - start},
                }))
            }
            Route::List { instance, kind } => {
                let q = parse_list_query(raw_query, true).map_err(bad)?;
                let records = backend
                    .records(instance, *kind)
                    .ok_or_else(|| no_instance(instance))?;
                let wanted = |r: &crate::model::StatusSummary| {
                    q.status.as_ref().is_none_or(|s| &r.status == s)
                };
                let scope = format!(
                    "{instance}|{}|{}",
                    kind.short(),
                    q.status.as_ref().map(Status::as_wire).unwrap_or("")
                );
                // The marker is a position in the *unfiltered* list (oldest first, new records
                // appended), so a record that changes status between two pages of a filtered
                // listing does not shift the others: nothing is skipped or repeated.
                let mut pos = self
                    .start_position(&scope, &q)
                    .map_err(bad)?
                    .min(records.len());
                let mut page = Vec::with_capacity(q.limit.min(records.len()));
                while pos < records.len() && page.len() < q.limit {
                    if wanted(&records[pos]) {
                        page.push(&records[pos]);
                    }
                    pos += 1;
                }
                let next = records[pos..]
                    .iter()
                    .any(wanted)
                    .then(|| u32::try_from(pos).ok())
                    .flatten()
                    .map(|p| self.markers.encode(&scope, p));
                let count = page.len();
                let items: Vec<Value> = page
                    .iter()
                    .map(|r| {
                        json!({
                            "created_date": epoch_ms(r.created),
                            "request_id": r.request_id,
                            "status": r.status.as_wire(),
                        })
                    })
                    .collect();
                let mut out = serde_json::Map::new();
                out.insert(list_field(*kind).to_string(), Value::Array(items));
                out.insert(
                    "page_info".to_string(),
                    json!({"next_marker": next, "current_count": count}),
                );
                Ok(Value::Object(out))
            }
            Route::Describe {
                instance,
                kind,
                request_id,
            } => {
                let found = backend
                    .describe(instance, *kind, request_id)
                    .ok_or_else(|| no_instance(instance))?;
                let (s, d) = found.ok_or_else(|| {
                    (
                        404,
                        "IIC.404",
                        format!("The request {request_id} does not exist"),
                    )
                })?;
                let body = match kind {
                    OperationKind::PermissionSetProvisioning => json!({
                        "account_id": d.target_account,
                        // A string here, as the official SDKs type it (see the module doc).
                        "created_date": epoch_ms(s.created).to_string(),
                        "failure_reason": d.failure_reason,
                        "permission_set_id": d.permission_set,
                        "request_id": s.request_id,
                        "status": s.status.as_wire(),
                    }),
                    _ => json!({
                        "created_date": epoch_ms(s.created),
                        "failure_reason": d.failure_reason,
                        "permission_set_id": d.permission_set,
                        "principal_id": d.principal_id,
                        "principal_type": d.principal_type,
                        "request_id": s.request_id,
                        "status": s.status.as_wire(),
                        "target_id": d.target_account,
                        "target_type": "ACCOUNT",
                    }),
                };
                let mut out = serde_json::Map::new();
                out.insert(describe_field(*kind).to_string(), body);
                Ok(Value::Object(out))
            }
            Route::PermissionSet {
                instance,
                permission_set,
            } => {
                let found = backend
                    .permission_set(instance, permission_set)
                    .ok_or_else(|| no_instance(instance))?;
                let ps = found.ok_or_else(|| {
                    (
                        404,
                        "IIC.1205",
                        format!("The permission set {permission_set} does not exist"),
                    )
                })?;
                Ok(json!({
                    "permission_set": {
                        "created_date": epoch_ms(ps.created),
                        "description": ps.description,
                        "name": ps.name,
                        "permission_set_id": ps.permission_set_id,
                        "relay_state": null,
                        "session_duration": ps.session_duration,
                        "permission_urn": format!("iam::ssoadmin:permissionSet:{}", ps.permission_set_id),
                    }
                }))
            }
        }
    }

    /// Where a listing resumes: 0 without a marker, else the position the marker stands for;
    /// an error (the `error_msg` of a 400) for a marker this server did not issue for `scope`.
    fn start_position(&self, scope: &str, q: &ListQuery) -> Result<usize, String> {
        match &q.marker {
            None => Ok(0),
            Some(m) => self
                .markers
                .decode(scope, m)
                .map(|p| p as usize)
                .ok_or_else(|| "Invalid parameter: marker is invalid or expired".to_string()),
        }
    }

    /// The slice `[start, end)` for this request and the marker of the next page (`None` on
    /// the last page, serialized as JSON null as the service does).
    fn page(
        &self,
        scope: &str,
        len: usize,
        q: &ListQuery,
    ) -> Result<(usize, usize, Option<String>), String> {
        let start = self.start_position(scope, q)?.min(len);
        let end = (start + q.limit).min(len);
        let next = (end < len)
            .then(|| u32::try_from(end).ok())
            .flatten()
            .map(|p| self.markers.encode(scope, p));
        Ok((start, end, next))
    }
}

fn list_field(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::AssignmentCreation => "account_assignments_creation_status",
        OperationKind::AssignmentDeletion => "account_assignments_deletion_status",
        OperationKind::PermissionSetProvisioning => "permission_sets_provisioning_status",
    }
}

fn describe_field(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::AssignmentCreation => "account_assignment_creation_status",
        OperationKind::AssignmentDeletion => "account_assignment_deletion_status",
        OperationKind::PermissionSetProvisioning => "permission_set_provisioning_status",
    }
}

/// Turns a [`WireResponse`] into an axum response.
pub fn into_axum(resp: WireResponse) -> axum::response::Response {
    let (status, headers, body) = resp;
    let mut out = axum::response::Response::new(axum::body::Body::from(body));
    *out.status_mut() = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            out.headers_mut().insert(n, v);
        }
    }
    out
}

/// Answers one axum request with `protocol` over `backend`: collects the raw method, path,
/// query and headers (the signature covers them as sent, so nothing may be normalized
/// first) and runs [`HuaweiProtocol::handle`] with the real wall clock.
pub fn handle_http(
    protocol: &HuaweiProtocol,
    backend: &dyn HuaweiBackend,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    admit: impl FnOnce(&str) -> Admission,
) -> axum::response::Response {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
        .collect();
    let req = ReceivedRequest {
        method: method.as_str(),
        raw_path: uri.path(),
        raw_query: uri.query(),
        headers: &pairs,
        body,
    };
    into_axum(protocol.handle(backend, &req, Utc::now(), admit))
}

/// Decides, for one routed and authenticated request, whether to serve it or inject a fault;
/// also where the emulator counts requests per operation. Called with [`operation_name`].
pub type AdmitFn = dyn Fn(&str) -> Admission + Send + Sync;

/// The Huawei REST routes, ready to be merged into the emulator's router (any state type):
/// everything under `/v1/`, any method, so that unknown paths and methods get the gateway's
/// own 404 rather than the AWS side's.
pub fn routes<S>(
    protocol: Arc<HuaweiProtocol>,
    backend: Arc<dyn HuaweiBackend + Send + Sync>,
    admit: Arc<AdmitFn>,
) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    axum::Router::new().route(
        "/v1/{*rest}",
        axum::routing::any(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: axum::http::HeaderMap,
                  body: axum::body::Bytes| {
                let (protocol, backend, admit) = (protocol.clone(), backend.clone(), admit.clone());
                async move {
                    handle_http(&protocol, &*backend, &method, &uri, &headers, &body, |op| {
                        admit(op)
                    })
                }
            },
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_cover_every_documented_path() {
        let r = |p: &str| route("GET", p);
        assert_eq!(r("/v1/instances"), Some(Route::ListInstances));
        assert_eq!(
            r("/v1/instances/ins-1/account-assignments/creation-statuses"),
            Some(Route::List {
                instance: "ins-1".into(),
                kind: OperationKind::AssignmentCreation
            })
        );
        assert_eq!(
            r("/v1/instances/ins-1/account-assignments/deletion-statuses"),
            Some(Route::List {
                instance: "ins-1".into(),
                kind: OperationKind::AssignmentDeletion
            })
        );
        assert_eq!(
            r("/v1/instances/ins-1/permission-sets/provisioning-statuses"),
            Some(Route::List {
                instance: "ins-1".into(),
                kind: OperationKind::PermissionSetProvisioning
            })
        );
        assert_eq!(
            r("/v1/instances/ins-1/account-assignments/creation-status/r%201"),
            Some(Route::Describe {
                instance: "ins-1".into(),
                kind: OperationKind::AssignmentCreation,
                request_id: "r 1".into()
            })
        );
        assert_eq!(
            r("/v1/instances/ins-1/account-assignments/deletion-status/r1"),
            Some(Route::Describe {
                instance: "ins-1".into(),
                kind: OperationKind::AssignmentDeletion,
                request_id: "r1".into()
            })
        );
        assert_eq!(
            r("/v1/instances/ins-1/permission-sets/provisioning-status/r1"),
            Some(Route::Describe {
                instance: "ins-1".into(),
                kind: OperationKind::PermissionSetProvisioning,
                request_id: "r1".into()
            })
        );
        assert_eq!(
            r("/v1/instances/ins-1/permission-sets/ps-9"),
            Some(Route::PermissionSet {
                instance: "ins-1".into(),
                permission_set: "ps-9".into()
            })
        );
        assert_eq!(
            r("/v1/instances/ins-1/account-assignments/creation-status"),
            None
        );
        assert_eq!(r("/v1/other"), None);
        assert_eq!(route("POST", "/v1/instances"), None);
    }

    #[test]
    fn list_query_validation() {
        let ok = parse_list_query(Some("limit=7&status=FAILED"), true);
        assert_eq!(
            ok,
            Ok(ListQuery {
                status: Some(Status::Failed),
                limit: 7,
                marker: None
            })
        );
        assert_eq!(parse_list_query(None, true).map(|q| q.limit), Ok(MAX_LIMIT));
        for bad in [
            "limit=0",
            "limit=101",
            "limit=x",
            "status=DONE",
            "marker=short",
            "marker=0123456789012345678901234",
        ] {
            assert!(parse_list_query(Some(bad), true).is_err(), "{bad}");
        }
    }

    #[test]
    fn markers_are_24_chars_scoped_and_unforgeable() {
        let codec = MarkerCodec::new(7);
        let m = codec.encode("ins|creation|", 300);
        assert_eq!(m.len(), MARKER_LEN);
        assert_eq!(codec.decode("ins|creation|", &m), Some(300));
        assert_eq!(codec.decode("ins|creation|FAILED", &m), None);
        assert_eq!(MarkerCodec::new(8).decode("ins|creation|", &m), None);
        assert_eq!(codec.decode("ins|creation|", &"0".repeat(24)), None);
        let mut forged = m.clone();
        forged.replace_range(0..8, "00000001");
        assert_eq!(codec.decode("ins|creation|", &forged), None);
    }

    #[test]
    fn error_bodies_carry_the_request_id_in_body_and_header() {
        let (status, headers, body) = auth_error(&VerifyError::SignatureMismatch, "rid1");
        assert_eq!(status, 401);
        assert!(headers.contains(&("X-Request-Id".to_string(), "rid1".to_string())));
        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(v["error_code"], "APIGW.0301");
        assert_eq!(v["request_id"], "rid1");
        assert_eq!(
            v["error_msg"],
            "Incorrect IAM authentication information: verify aksk signature fail"
        );
    }

    struct Changing(std::sync::Mutex<Vec<crate::model::StatusSummary>>);

    impl HuaweiBackend for Changing {
        fn instances(&self) -> Vec<WireInstance> {
            Vec::new()
        }
        fn records(
            &self,
            _instance: &str,
            _kind: OperationKind,
        ) -> Option<Vec<crate::model::StatusSummary>> {
            self.0.lock().ok().map(|v| v.clone())
        }
        fn describe(
            &self,
            _: &str,
            _: OperationKind,
            _: &str,
        ) -> Option<Option<(crate::model::StatusSummary, crate::model::RequestDetail)>> {
            None
        }
        fn permission_set(&self, _: &str, _: &str) -> Option<Option<WirePermissionSet>> {
            None
        }
    }

    /// Records leaving IN_PROGRESS between two pages of an IN_PROGRESS listing must not make
    /// the listing skip the ones still in progress.
    #[test]
    fn filtered_paging_survives_status_changes() {
        let records: Vec<_> = (0..10)
            .map(|i| crate::model::StatusSummary {
                kind: OperationKind::AssignmentCreation,
                request_id: format!("r{i}"),
                status: Status::InProgress,
                created: DateTime::from_timestamp(1_700_000_000 + i, 0).unwrap_or_default(),
            })
            .collect();
        let backend = Changing(std::sync::Mutex::new(records));
        let protocol = HuaweiProtocol::new("ak", "sk", 1);
        let route = Route::List {
            instance: "i".into(),
            kind: OperationKind::AssignmentCreation,
        };
        let ids = |v: &Value| -> Vec<String> {
            v["account_assignments_creation_status"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r["request_id"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let first = protocol
            .serve(&backend, &route, Some("status=IN_PROGRESS&limit=4"))
            .unwrap_or_default();
        assert_eq!(ids(&first), ["r0", "r1", "r2", "r3"]);
        let marker = first["page_info"]["next_marker"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        // Three of the first page finish before the next page is asked for.
        if let Ok(mut v) = backend.0.lock() {
            for r in v.iter_mut().take(3) {
                r.status = Status::Succeeded;
            }
        }
        let second = protocol
            .serve(
                &backend,
                &route,
                Some(&format!("status=IN_PROGRESS&limit=4&marker={marker}")),
            )
            .unwrap_or_default();
        assert_eq!(ids(&second), ["r4", "r5", "r6", "r7"]);
        let marker = second["page_info"]["next_marker"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let third = protocol
            .serve(
                &backend,
                &route,
                Some(&format!("status=IN_PROGRESS&limit=4&marker={marker}")),
            )
            .unwrap_or_default();
        assert_eq!(ids(&third), ["r8", "r9"]);
        assert_eq!(third["page_info"]["next_marker"], Value::Null);
        assert_eq!(third["page_info"]["current_count"], 2);
    }
}
