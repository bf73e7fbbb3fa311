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
//! keeps clients honest about accepting both. Paths and field names come from
//! [`crate::wire::huawei_api`], the table the provider uses too.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::faults::{self, Admission, Fault};
use super::http::WireResponse;
use super::huawei_verify::{ReceivedRequest, VerifyError, verify};
use super::paging::{PageTokens, TOKEN_LEN};
use crate::model::{NameKind, OperationKind, RequestDetail, Status, StatusSummary};
use crate::wire::huawei_api::{
    ACCOUNTS_PATH, GROUPS_GROUP, IDENTITY_STORES_PATH, INSTANCES_PATH, KINDS,
    PERMISSION_SETS_GROUP, USERS_GROUP, names,
};
use crate::wire::operations;
use crate::wire::percent::{decode_query, path_segments};

/// Largest page a client may ask for, and the default.
pub const MAX_LIMIT: usize = 100;

/// Length of every page marker, as the service documents it.
pub const MARKER_LEN: usize = TOKEN_LEN;

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
    /// Identity store: `/v1/identity-stores/{store}/users/{id}` and `.../groups/{id}`.
    Principal {
        store: String,
        kind: NameKind,
        id: String,
    },
    /// Organizations: `/v1/organizations/accounts` and `.../accounts/{id}`.
    Accounts,
    Account {
        id: String,
    },
    /// The write operations a retry calls (POST): `.../account-assignments/create`,
    /// `.../account-assignments/delete` and `.../permission-sets/{id}/provision`.
    Write {
        instance: String,
        kind: OperationKind,
        /// The path's permission set (provisioning); the assignments carry it in the body.
        permission_set: Option<String>,
    },
}

impl Route {
    /// The operation name, as counted in the stats and targeted by faults.
    pub fn operation(&self) -> &'static str {
        match self {
            Route::ListInstances => operations::LIST_INSTANCES,
            Route::List { kind, .. } => operations::list(*kind),
            Route::Describe { kind, .. } => operations::describe(*kind),
            Route::PermissionSet { .. } => operations::DESCRIBE_PERMISSION_SET,
            Route::Principal {
                kind: NameKind::User,
                ..
            } => operations::DESCRIBE_USER,
            Route::Principal { .. } => operations::DESCRIBE_GROUP,
            Route::Accounts => operations::LIST_ACCOUNTS,
            Route::Account { .. } => operations::DESCRIBE_ACCOUNT,
            Route::Write { kind, .. } => operations::write(*kind),
        }
    }
}

/// Maps a GET path (still percent-encoded) to its operation; `None` for anything else, which
/// the gateway answers with its "API does not exist" 404.
pub fn route(method: &str, raw_path: &str) -> Option<Route> {
    let segs = path_segments(raw_path.trim_end_matches('/'));
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    if method == "POST" {
        return write_route(&s);
    }
    if method != "GET" {
        return None;
    }
    if let Some(route) = name_route(&s) {
        return Some(route);
    }
    let (api, rest) = s.split_at_checked(INSTANCES_PATH.len())?;
    if api != INSTANCES_PATH {
        return None;
    }
    match rest {
        [] => Some(Route::ListInstances),
        [id, group, tail] if !id.is_empty() => {
            if let Some(k) = KINDS
                .iter()
                .find(|k| k.group == *group && k.list_segment == *tail)
            {
                return Some(Route::List {
                    instance: id.to_string(),
                    kind: k.kind,
                });
            }
            (*group == PERMISSION_SETS_GROUP && !tail.is_empty()).then(|| Route::PermissionSet {
                instance: id.to_string(),
                permission_set: tail.to_string(),
            })
        }
        [id, group, tail, rid] if !id.is_empty() && !rid.is_empty() => KINDS
            .iter()
            .find(|k| k.group == *group && k.describe_segment == *tail)
            .map(|k| Route::Describe {
                instance: id.to_string(),
                kind: k.kind,
                request_id: rid.to_string(),
            }),
        _ => None,
    }
}

/// The POST paths of the write operations (Huawei's API reference, and the SDK's
/// `CreateAccountAssignment`, `DeleteAccountAssignment` and `ProvisionPermissionSet`).
fn write_route(s: &[&str]) -> Option<Route> {
    let (api, rest) = s.split_at_checked(INSTANCES_PATH.len())?;
    if api != INSTANCES_PATH {
        return None;
    }
    let (instance, kind, permission_set) = match rest {
        [id, "account-assignments", "create"] => (id, OperationKind::AssignmentCreation, None),
        [id, "account-assignments", "delete"] => (id, OperationKind::AssignmentDeletion, None),
        [id, group, ps, "provision"] if *group == PERMISSION_SETS_GROUP && !ps.is_empty() => (
            id,
            OperationKind::PermissionSetProvisioning,
            Some(ps.to_string()),
        ),
        _ => return None,
    };
    (!instance.is_empty()).then(|| Route::Write {
        instance: instance.to_string(),
        kind,
        permission_set,
    })
}

/// The identity store and Organizations paths, which share the emulator's port.
fn name_route(s: &[&str]) -> Option<Route> {
    if let Some(rest) = s.strip_prefix(&IDENTITY_STORES_PATH[..]) {
        let [store, group, id] = rest else {
            return None;
        };
        let kind = match *group {
            USERS_GROUP => NameKind::User,
            GROUPS_GROUP => NameKind::Group,
            _ => return None,
        };
        return (!store.is_empty() && !id.is_empty()).then(|| Route::Principal {
            store: store.to_string(),
            kind,
            id: id.to_string(),
        });
    }
    match s.strip_prefix(&ACCOUNTS_PATH[..])? {
        [] => Some(Route::Accounts),
        [id] if !id.is_empty() => Some(Route::Account { id: id.to_string() }),
        _ => None,
    }
}

/// A fresh request id as the gateway makes them (32 lower-case hex digits).
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A JSON answer carrying `X-Request-Id`, as every answer of the real service does.
pub fn json_response(status: u16, request_id: &str, body: &Value) -> WireResponse {
    WireResponse::new(
        status,
        "application/json;charset=UTF-8",
        serde_json::to_vec(body).unwrap_or_default(),
    )
    .with_header("X-Request-Id", request_id)
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

/// The answer to an injected fault that replaces the real one; `None` for the faults that
/// alter a real answer instead.
fn fault_response(fault: Fault, access_key: &str, request_id: &str) -> Option<WireResponse> {
    if fault.alters_answer() {
        return None;
    }
    Some(match fault {
        Fault::Throttle => {
            error_response(429, "APIGW.0308", "The request is throttled.", request_id)
        }
        Fault::ServerError => error_response(500, "IIC.1209", "Internal server error.", request_id),
        Fault::Unavailable => WireResponse::unavailable().with_header("X-Request-Id", request_id),
        Fault::Malformed => WireResponse::new(
            200,
            "application/json;charset=UTF-8",
            b"{\"account_assignments_creation_status\": [{\"status\": 42, ".to_vec(),
        )
        .with_header("X-Request-Id", request_id),
        Fault::Denied => json_response(
            403,
            request_id,
            &json!({
                "error_code": "IIC.1000",
                "error_msg": "The user does not have permission to perform this operation.",
                "request_id": request_id,
                "encoded_authorization_message": "ZGVuaWVkIGJ5IHRoZSBlbXVsYXRvcg==",
            }),
        ),
        Fault::ExpiredCredentials => {
            error_response(401, "APIGW.0307", "The token must be updated.", request_id)
        }
        Fault::UnrecognizedCredentials => auth_error(
            &VerifyError::UnknownAccessKey(crate::sanitize::clean_text(access_key)),
            request_id,
        ),
        Fault::UnknownOperation => error_response(
            404,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment.",
            request_id,
        ),
        Fault::NotImplemented => {
            WireResponse::new(501, "text/plain", b"501 Not Implemented".to_vec())
                .with_header("X-Request-Id", request_id)
        }
        Fault::NotTheApi => WireResponse::not_the_api(),
        Fault::EmptyAnswer => json_response(200, request_id, &json!({})),
        _ => return None,
    })
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
    for (k, v) in decode_query(raw_query.unwrap_or("")) {
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

/// One page of a status list, as a backend returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPage {
    pub items: Vec<StatusSummary>,
    /// Raw position to resume from, when a matching record may remain.
    pub next: Option<usize>,
}

/// What the Huawei protocol needs from the simulated organization. The emulator implements it
/// (`super::huawei_backend`); keeping it this small lets the protocol be tested on its own.
pub trait HuaweiBackend {
    fn instances(&self) -> Vec<WireInstance>;
    /// One page of the records of `kind` (oldest first, new ones appended, so positions are
    /// stable) from raw position `from`, those with status `filter`, at most `limit`; `None`
    /// when the instance does not exist. Must cost the page, not the whole history (see
    /// [`super::paging::page`]).
    fn list(
        &self,
        instance: &str,
        kind: OperationKind,
        filter: Option<&Status>,
        from: usize,
        limit: usize,
    ) -> Option<RecordPage>;
    /// One record with its detail; outer `None` = unknown instance, inner = unknown request.
    fn describe(
        &self,
        instance: &str,
        kind: OperationKind,
        request_id: &str,
    ) -> Option<Option<(StatusSummary, RequestDetail)>>;
    /// Outer `None` = unknown instance, inner = unknown permission set.
    fn permission_set(
        &self,
        instance: &str,
        permission_set: &str,
    ) -> Option<Option<WirePermissionSet>>;
    /// A user or group of identity store `store`: outer `None` = unknown store, inner =
    /// unknown principal. A backend without an identity store knows no store.
    fn principal(&self, store: &str, kind: NameKind, id: &str) -> Option<Option<WirePrincipal>> {
        let _ = (store, kind, id);
        None
    }
    /// The organization's accounts as (id, name), in a stable order.
    fn accounts(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Starts a request of `kind` as a write operation does; outer `None` = unknown instance,
    /// `Err` = what was not found. A backend without writes knows no instance.
    fn submit(
        &self,
        write: &WriteInput<'_>,
    ) -> Option<Result<(StatusSummary, RequestDetail), String>> {
        let _ = write;
        None
    }
}

/// What a write operation asks for, from its path and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteInput<'a> {
    pub instance: &'a str,
    pub kind: OperationKind,
    pub permission_set: &'a str,
    pub target_id: &'a str,
    /// `(principal_type, principal_id)` of an assignment.
    pub principal: Option<(&'a str, &'a str)>,
}

/// A user or group as the identity store describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WirePrincipal {
    pub id: String,
    /// A user's user name; `None` for a group.
    pub user_name: Option<String>,
    pub display_name: String,
}

/// The Huawei protocol of one emulator: the keys it accepts and its page tokens.
#[derive(Clone)]
pub struct HuaweiProtocol {
    access_key: String,
    secret_key: String,
    markers: PageTokens,
}

impl std::fmt::Debug for HuaweiProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HuaweiProtocol")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

type ServeError = (u16, &'static str, String);

impl HuaweiProtocol {
    pub fn new(access_key: &str, secret_key: &str, seed: u64) -> Self {
        HuaweiProtocol {
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            markers: PageTokens::new(seed),
        }
    }

    /// Answers one request. `real_now` is the real wall clock (the gateway's date check does
    /// not follow simulated time). `admit` is called once for every routed, authenticated
    /// request with its operation name and, for a describe, the request id; it counts the
    /// request and picks a fault.
    pub fn handle(
        &self,
        backend: &dyn HuaweiBackend,
        req: &ReceivedRequest<'_>,
        real_now: DateTime<Utc>,
        admit: impl FnOnce(&str, Option<&str>) -> Admission,
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
        if let Err(e) = verify(req, &self.access_key, &self.secret_key, real_now) {
            return auth_error(&e, &request_id);
        }
        let describe_id = match &route {
            Route::Describe { request_id, .. } => Some(request_id.as_str()),
            Route::Principal { id, .. } | Route::Account { id } => Some(id.as_str()),
            _ => None,
        };
        let admission = admit(route.operation(), describe_id);
        if let Admission::Inject(fault) = admission
            && let Some(response) = fault_response(fault, &self.access_key, &request_id)
        {
            return response;
        }
        match self.serve(backend, &route, req.raw_query, req.body, admission) {
            Ok(body) => json_response(200, &request_id, &body),
            Err((status, code, msg)) => error_response(status, code, &msg, &request_id),
        }
        .under(admission)
    }

    fn serve(
        &self,
        backend: &dyn HuaweiBackend,
        route: &Route,
        raw_query: Option<&str>,
        body: &[u8],
        admission: Admission,
    ) -> Result<Value, ServeError> {
        let no_instance = |id: &str| (404, "IIC.404", format!("The instance {id} does not exist"));
        match route {
            Route::Write {
                instance,
                kind,
                permission_set,
            } => {
                let input: Value = serde_json::from_slice(body)
                    .map_err(|_| bad_request("The request body is not valid JSON".into()))?;
                let field = |name: &str| -> Result<&str, ServeError> {
                    input
                        .get(name)
                        .and_then(Value::as_str)
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| bad_request(format!("{name} is required")))
                };
                let expected_target = "ACCOUNT";
                if field("target_type")? != expected_target {
                    return Err(bad_request("target_type must be ACCOUNT".into()));
                }
                let principal = match kind {
                    OperationKind::PermissionSetProvisioning => None,
                    _ => {
                        let t = field("principal_type")?;
                        if t != "USER" && t != "GROUP" {
                            return Err(bad_request("principal_type must be USER or GROUP".into()));
                        }
                        Some((t, field("principal_id")?))
                    }
                };
                let permission_set = match permission_set {
                    Some(ps) => ps.as_str(),
                    None => field("permission_set_id")?,
                };
                let write = WriteInput {
                    instance,
                    kind: *kind,
                    permission_set,
                    target_id: field("target_id")?,
                    principal,
                };
                let (s, d) = backend
                    .submit(&write)
                    .ok_or_else(|| no_instance(instance))?
                    .map_err(|what| (404, "IIC.404", what))?;
                Ok(describe_body(*kind, &s, &d))
            }
            Route::Principal { store, kind, id } => principal_body(backend, store, *kind, id),
            Route::Accounts => self.list_accounts(backend, raw_query),
            Route::Account { id } => {
                let found = backend.accounts().into_iter().find(|(a, _)| a == id);
                let (id, name) = found.ok_or_else(|| {
                    (
                        404,
                        "Organizations.1002",
                        format!("The account {id} does not exist"),
                    )
                })?;
                Ok(json!({ "account": account_body(&id, &name) }))
            }
            Route::ListInstances => self.list_instances(backend, raw_query),
            Route::List { instance, kind } => {
                self.list_records(backend, instance, *kind, raw_query, admission)
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
                Ok(describe_body(*kind, &s, &d))
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

    fn list_accounts(
        &self,
        backend: &dyn HuaweiBackend,
        raw_query: Option<&str>,
    ) -> Result<Value, ServeError> {
        let all = backend.accounts();
        self.page_of("accounts", raw_query, &all, |(id, name)| {
            account_body(id, name)
        })
    }

    fn list_instances(
        &self,
        backend: &dyn HuaweiBackend,
        raw_query: Option<&str>,
    ) -> Result<Value, ServeError> {
        let all = backend.instances();
        self.page_of("instances", raw_query, &all, |i| {
            json!({
                "instance_id": i.instance_id,
                "identity_store_id": i.identity_store_id,
                "alias": i.alias,
                "instance_urn": i.instance_urn,
            })
        })
    }

    /// One `limit`/`marker` page of a short collection held whole (instances, accounts), as
    /// `{"<scope>": [...], "page_info": {...}}`.
    fn page_of<T>(
        &self,
        scope: &str,
        raw_query: Option<&str>,
        all: &[T],
        render: impl Fn(&T) -> Value,
    ) -> Result<Value, ServeError> {
        let q = parse_list_query(raw_query, false).map_err(bad_request)?;
        let start = self.start_position(scope, &q)?.min(all.len());
        let end = (start + q.limit).min(all.len());
        let next = (end < all.len())
            .then(|| u32::try_from(end).ok())
            .flatten()
            .map(|p| self.markers.encode(scope, p));
        let items: Vec<Value> = all[start..end].iter().map(render).collect();
        let mut out = serde_json::Map::new();
        out.insert(scope.to_string(), Value::Array(items));
        out.insert(
            "page_info".to_string(),
            json!({"next_marker": next, "current_count": end - start}),
        );
        Ok(Value::Object(out))
    }

    fn list_records(
        &self,
        backend: &dyn HuaweiBackend,
        instance: &str,
        kind: OperationKind,
        raw_query: Option<&str>,
        admission: Admission,
    ) -> Result<Value, ServeError> {
        let q = parse_list_query(raw_query, true).map_err(bad_request)?;
        let scope = format!(
            "{instance}|{}|{}",
            kind.short(),
            q.status.as_ref().map(Status::as_wire).unwrap_or("")
        );
        // The marker is a position in the *unfiltered* list (oldest first, new records
        // appended), so a record that changes status between two pages of a filtered listing
        // does not shift the others: nothing is skipped or repeated.
        let from = self.start_position(&scope, &q)?;
        let page = backend
            .list(instance, kind, q.status.as_ref(), from, q.limit)
            .ok_or_else(|| {
                (
                    404,
                    "IIC.404",
                    format!("The instance {instance} does not exist"),
                )
            })?;
        let real_next = page.next.and_then(|p| u32::try_from(p).ok());
        let next = faults::next_position(admission, from as u32, real_next)
            .map(|p| self.markers.encode(&scope, p));
        let items: Vec<Value> = page
            .items
            .iter()
            .map(|r| {
                json!({
                    "created_date": epoch_ms(r.created),
                    "request_id": r.request_id,
                    "status": r.status.as_wire(),
                })
            })
            .collect();
        let count = items.len();
        let mut out = serde_json::Map::new();
        out.insert(names(kind).list_field.to_string(), Value::Array(items));
        out.insert(
            "page_info".to_string(),
            json!({"next_marker": next, "current_count": count}),
        );
        Ok(Value::Object(out))
    }

    /// Where a listing resumes: 0 without a marker, else the position the marker stands for;
    /// a 400 for a marker this server did not issue for `scope`.
    fn start_position(&self, scope: &str, q: &ListQuery) -> Result<usize, ServeError> {
        match &q.marker {
            None => Ok(0),
            Some(m) => self
                .markers
                .decode(scope, m)
                .map(|p| p as usize)
                .ok_or_else(|| {
                    bad_request("Invalid parameter: marker is invalid or expired".into())
                }),
        }
    }
}

/// An account as Huawei Organizations describes it.
fn account_body(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "urn": format!("organizations::{}:account:o-example/{id}", super::DEMO_HUAWEI_DOMAIN_ID),
        "join_method": "invited",
        "status": "active",
        "joined_at": "2024-01-02T03:04:05Z",
        "name": name,
        "description": null,
    })
}

/// DescribeUser / DescribeGroup of the identity store API: the object itself, not wrapped.
fn principal_body(
    backend: &dyn HuaweiBackend,
    store: &str,
    kind: NameKind,
    id: &str,
) -> Result<Value, ServeError> {
    let found = backend.principal(store, kind, id).ok_or_else(|| {
        (
            404,
            "IdentityStore.1001",
            format!("The identity store {store} does not exist"),
        )
    })?;
    let (label, p) = match (kind, found) {
        (_, None) => {
            let label = if kind == NameKind::User {
                "user"
            } else {
                "group"
            };
            return Err((
                404,
                "IdentityStore.1002",
                format!("The {label} {id} does not exist"),
            ));
        }
        (NameKind::User, Some(p)) => ("user", p),
        (_, Some(p)) => ("group", p),
    };
    Ok(if label == "user" {
        json!({
            "identity_store_id": store,
            "user_id": p.id,
            "user_name": p.user_name,
            "display_name": p.display_name,
            "name": { "formatted": p.display_name },
            "emails": [{ "value": format!("{}@example.com", p.user_name.as_deref().unwrap_or("user")), "primary": true, "type": "work" }],
        })
    } else {
        json!({
            "identity_store_id": store,
            "group_id": p.id,
            "display_name": p.display_name,
            "description": format!("{} (synced from the corporate directory)", p.display_name),
        })
    })
}

fn bad_request(msg: String) -> ServeError {
    (400, "IIC.400", msg)
}

/// The simulated organization's reasons are quoted from AWS threads; Huawei Cloud's service
/// words its own, so its wire does not name AWS.
fn huawei_reason(reason: &Option<String>) -> Option<String> {
    reason.as_ref().map(|r| {
        r.replace("AWS SSO", "IAM Identity Center")
            .replace("your AWS account", "your account")
            .replace("contact AWS Support", "contact Huawei Cloud support")
            .replace("arn:aws:iam::aws:policy/", "system policy ")
    })
}

fn describe_body(kind: OperationKind, s: &StatusSummary, d: &RequestDetail) -> Value {
    let reason = huawei_reason(&d.failure_reason);
    let body = match kind {
        OperationKind::PermissionSetProvisioning => json!({
            "account_id": d.target_account,
            // A string here, as the official SDKs type it (see the module doc).
            "created_date": epoch_ms(s.created).to_string(),
            "failure_reason": reason,
            "permission_set_id": d.permission_set,
            "request_id": s.request_id,
            "status": s.status.as_wire(),
        }),
        _ => json!({
            "created_date": epoch_ms(s.created),
            "failure_reason": reason,
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
    out.insert(names(kind).describe_field.to_string(), body);
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huawei_reasons_do_not_name_aws() {
        let reason = Some(
            "AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '123' takes longer than usual. If this problem continues, contact AWS Support.".to_string(),
        );
        let huawei = huawei_reason(&reason).unwrap_or_default();
        assert!(!huawei.contains("AWS"), "{huawei}");
        assert!(
            huawei.starts_with("IAM Identity Center is unable"),
            "{huawei}"
        );
    }

    #[test]
    fn write_routes_are_the_sdks_post_paths() {
        let w = |p: &str| route("POST", p);
        assert_eq!(
            w("/v1/instances/ins-1/account-assignments/create"),
            Some(Route::Write {
                instance: "ins-1".into(),
                kind: OperationKind::AssignmentCreation,
                permission_set: None,
            })
        );
        assert_eq!(
            w("/v1/instances/ins-1/account-assignments/delete"),
            Some(Route::Write {
                instance: "ins-1".into(),
                kind: OperationKind::AssignmentDeletion,
                permission_set: None,
            })
        );
        assert_eq!(
            w("/v1/instances/ins-1/permission-sets/ps-9/provision"),
            Some(Route::Write {
                instance: "ins-1".into(),
                kind: OperationKind::PermissionSetProvisioning,
                permission_set: Some("ps-9".into()),
            })
        );
        assert_eq!(
            w("/v1/instances/ins-1/account-assignments/creation-statuses"),
            None
        );
        assert_eq!(
            route("GET", "/v1/instances/ins-1/account-assignments/create"),
            None
        );
    }

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
    fn the_faults_of_hostile_servers_answer_on_the_huawei_wire() {
        let r = fault_response(Fault::NotTheApi, "AK", "rid")
            .unwrap_or_else(|| json_response(0, "", &json!({})));
        assert_eq!(r.status, 404);
        assert!(r.headers.iter().any(|(_, v)| v.starts_with("text/html")));
        let r = fault_response(Fault::EmptyAnswer, "AK", "rid")
            .unwrap_or_else(|| json_response(0, "", &json!(null)));
        assert_eq!((r.status, r.body.as_slice()), (200, b"{}".as_slice()));
        assert!(
            r.headers
                .contains(&("X-Request-Id".to_string(), "rid".to_string()))
        );
        for fault in [Fault::Hostile, Fault::Slow, Fault::TruncatedJson] {
            assert!(
                fault_response(fault, "AK", "rid").is_none(),
                "{fault} alters the real answer"
            );
        }
    }

    #[test]
    fn error_bodies_carry_the_request_id_in_body_and_header() {
        let r = auth_error(&VerifyError::SignatureMismatch, "rid1");
        assert_eq!(r.status, 401);
        assert!(
            r.headers
                .contains(&("X-Request-Id".to_string(), "rid1".to_string()))
        );
        let v: Value = serde_json::from_slice(&r.body).unwrap_or_default();
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
        fn list(
            &self,
            _instance: &str,
            _kind: OperationKind,
            filter: Option<&Status>,
            from: usize,
            limit: usize,
        ) -> Option<RecordPage> {
            let records = self.0.lock().ok()?;
            let (items, next) = crate::emulator::paging::page(&records, from, limit, |r| {
                filter.is_none_or(|f| &r.status == f)
            });
            Some(RecordPage {
                items: items.into_iter().cloned().collect(),
                next,
            })
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
            .serve(
                &backend,
                &route,
                Some("status=IN_PROGRESS&limit=4"),
                b"",
                Admission::Serve,
            )
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
                b"",
                Admission::Serve,
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
                b"",
                Admission::Serve,
            )
            .unwrap_or_default();
        assert_eq!(ids(&third), ["r8", "r9"]);
        assert_eq!(third["page_info"]["next_marker"], Value::Null);
        assert_eq!(third["page_info"]["current_count"], 2);
    }
}
