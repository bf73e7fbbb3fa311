//! The AWS side: SSO Admin's JSON 1.1 protocol exactly as the service speaks it
//! (`POST /`, `X-Amz-Target: SWBExternalService.<Operation>`), with its validation rules, error
//! bodies and status codes, and epoch-seconds timestamps.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::{Map, Value, json};

use super::aws_names;
use super::faults::{self, Admission, Fault};
use super::http::WireResponse;
use super::org::SimRequest;
use super::service::{EmulatorCore, Protocol};
use crate::model::{OperationKind, Status};
use crate::wire::operations;

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

const TARGET_PREFIX: &str = "SWBExternalService.";
const INSTANCE_ARN_PATTERN: &str =
    r"arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}";
const REQUEST_ID_PATTERN: &str =
    r"\b[0-9a-f]{8}\b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\b[0-9a-f]{12}\b";
const PERMISSION_SET_ARN_PATTERN: &str = r"arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}";
/// Access keys starting with this are treated as expired session credentials.
pub const EXPIRED_ACCESS_KEY_PREFIX: &str = "ASIAEXPIRED";

static INSTANCE_ARN: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(&format!("^{INSTANCE_ARN_PATTERN}$")).ok());
static REQUEST_ID: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(&format!("^{REQUEST_ID_PATTERN}$")).ok());
static PERMISSION_SET_ARN: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(&format!("^{PERMISSION_SET_ARN_PATTERN}$")).ok());
static NEXT_TOKEN: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[-a-zA-Z0-9+=/_]*$").ok());

fn matches(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

pub(super) fn error(status: u16, kind: &str, message: &str) -> WireResponse {
    let body = json!({ "__type": kind, "Message": message });
    WireResponse::new(status, CONTENT_TYPE, body.to_string().into_bytes())
        .with_header("x-amzn-errortype", format!("{kind}:"))
        .with_header("x-amzn-requestid", uuid::Uuid::new_v4().to_string())
}

pub(super) fn ok(body: Value) -> WireResponse {
    WireResponse::new(200, CONTENT_TYPE, body.to_string().into_bytes())
        .with_header("x-amzn-requestid", uuid::Uuid::new_v4().to_string())
}

/// The answer to an injected fault that replaces the real one; `None` for the faults that
/// alter a real answer instead.
fn fault_response(fault: Fault, operation: &str) -> Option<WireResponse> {
    if fault.alters_answer() {
        return None;
    }
    Some(match fault {
        Fault::Throttle => error(400, "ThrottlingException", "Rate exceeded"),
        Fault::ServerError => error(
            500,
            "InternalServerException",
            "An unexpected internal service exception was encountered",
        ),
        Fault::Unavailable => WireResponse::unavailable(),
        Fault::Malformed => WireResponse::new(
            200,
            CONTENT_TYPE,
            b"{\"AccountAssignmentsCreationStatus\": [{\"Status\": 42, ".to_vec(),
        ),
        Fault::Denied => error(
            400,
            "AccessDeniedException",
            &format!(
                "User: arn:aws:sts::111122223333:assumed-role/ssowatch-demo/session is not authorized to perform: sso:{operation}"
            ),
        ),
        Fault::ExpiredCredentials => error(
            400,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ),
        Fault::UnrecognizedCredentials => error(
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        Fault::UnknownOperation => error(400, "UnknownOperationException", ""),
        Fault::NotImplemented => {
            WireResponse::new(501, "text/plain", b"501 Not Implemented".to_vec())
        }
        Fault::NotTheApi => WireResponse::not_the_api(),
        Fault::EmptyAnswer => ok(json!({})),
        _ => return None,
    })
}

/// The request-id parameter of a describe of `kind`, and its name in validation messages.
fn describe_param(kind: OperationKind) -> (&'static str, &'static str) {
    match kind {
        OperationKind::AssignmentCreation => (
            "AccountAssignmentCreationRequestId",
            "accountAssignmentCreationRequestId",
        ),
        OperationKind::AssignmentDeletion => (
            "AccountAssignmentDeletionRequestId",
            "accountAssignmentDeletionRequestId",
        ),
        OperationKind::PermissionSetProvisioning => (
            "ProvisionPermissionSetRequestId",
            "provisionPermissionSetRequestId",
        ),
    }
}

/// The request id a describe asks for, read leniently before validation so that the stats
/// count every describe that reached the service.
fn describe_id_of(operation: &str, body: &[u8]) -> Option<String> {
    // The name describes count by the id they name, so a test can check each is asked once.
    let param = match operation {
        operations::DESCRIBE_USER => "UserId",
        operations::DESCRIBE_GROUP => "GroupId",
        operations::DESCRIBE_ACCOUNT => "AccountId",
        _ => match operations::parse(operation)? {
            (kind, false) => describe_param(kind).0,
            (_, true) => return None,
        },
    };
    let input: Value = serde_json::from_slice(body).ok()?;
    input.get(param)?.as_str().map(str::to_string)
}

fn validation(message: String) -> WireResponse {
    error(400, "ValidationException", &message)
}

fn epoch_seconds(t: DateTime<Utc>) -> Value {
    json!(t.timestamp_millis() as f64 / 1000.0)
}

/// Answers one AWS JSON 1.1 request.
pub fn handle(
    core: &EmulatorCore,
    target: Option<&str>,
    authorization: Option<&str>,
    body: &[u8],
) -> WireResponse {
    // Identity Store and Organizations share the port, told apart by their target prefix.
    let name_operation = target.and_then(aws_names::operation_of);
    let operation = match (
        name_operation,
        target.and_then(|t| t.strip_prefix(TARGET_PREFIX)),
    ) {
        (Some(op), _) => op,
        (None, Some(op))
            if operations::all().contains(&op) && !operations::NAME_OPERATIONS.contains(&op) =>
        {
            op
        }
        _ => return error(400, "UnknownOperationException", ""),
    };
    // Authentication comes before anything else, as with the real endpoint.
    let Some(access_key) = authorization.and_then(access_key_of) else {
        return error(
            400,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        );
    };
    if access_key.starts_with(EXPIRED_ACCESS_KEY_PREFIX) {
        return error(
            400,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        );
    }
    let describe_id = describe_id_of(operation, body);
    let admission = core.admit(Protocol::Aws, operation, describe_id.as_deref());
    if let Admission::Inject(fault) = admission {
        if fault == Fault::Denied && name_operation.is_some() {
            return aws_names::denied(operation);
        }
        if let Some(response) = fault_response(fault, operation) {
            return response;
        }
    }
    if name_operation.is_some() {
        return match parse_input(body) {
            Ok(input) => aws_names::answer(core, operation, &input, admission),
            Err(e) => e,
        };
    }
    answer(core, operation, body, admission).under(admission)
}

/// A JSON 1.1 body: an object, or empty for no parameters.
fn parse_input(body: &[u8]) -> Result<Map<String, Value>, WireResponse> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(error(
            400,
            "SerializationException",
            "Start of structure or map found where not expected.",
        )),
    }
}

/// The real answer to an admitted request.
fn answer(core: &EmulatorCore, operation: &str, body: &[u8], admission: Admission) -> WireResponse {
    let input = match parse_input(body) {
        Ok(input) => input,
        Err(e) => return e,
    };
    let now = core.now();
    if let Some(kind) = operations::parse_write(operation) {
        return write(core, kind, &input);
    }
    match operations::parse(operation) {
        Some((kind, true)) => list(core, kind, &input, now, admission),
        Some((kind, false)) => describe(core, kind, &input, now),
        None if operation == operations::LIST_INSTANCES => list_instances(core),
        None => describe_permission_set(core, &input),
    }
}

/// The access key id from a SigV4 `Authorization` header.
fn access_key_of(authorization: &str) -> Option<&str> {
    let credential = authorization.split("Credential=").nth(1)?;
    let key = credential.split('/').next()?;
    (!key.is_empty()).then_some(key)
}

fn list_instances(core: &EmulatorCore) -> WireResponse {
    let org = core.org();
    let instances: Vec<Value> = org
        .instances
        .iter()
        .take(core.visible_instances())
        .map(|i| {
            json!({
                "InstanceArn": i.aws_arn,
                "IdentityStoreId": i.identity_store_id,
                "Name": i.name,
                "Status": "ACTIVE",
                "OwnerAccountId": org.accounts[0],
                "CreatedDate": epoch_seconds(i.created),
            })
        })
        .collect();
    ok(json!({ "Instances": instances }))
}

/// Validates `InstanceArn` and finds the instance; `Ok(true)` when it is the one holding the
/// records.
fn instance(core: &EmulatorCore, input: &Map<String, Value>) -> Result<bool, WireResponse> {
    let arn = match input.get("InstanceArn") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(error(
                400,
                "SerializationException",
                "Expected a string for InstanceArn",
            ));
        }
        None => {
            return Err(validation(
                "1 validation error detected: Value null at 'instanceArn' failed to satisfy constraint: Member must not be null".into(),
            ));
        }
    };
    if arn.len() < 10 || arn.len() > 1224 {
        return Err(validation(format!(
            "1 validation error detected: Value '{arn}' at 'instanceArn' failed to satisfy constraint: Member must have length between 10 and 1224"
        )));
    }
    if !matches(&INSTANCE_ARN, arn) {
        return Err(validation(format!(
            "1 validation error detected: Value '{arn}' at 'instanceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: {INSTANCE_ARN_PATTERN}"
        )));
    }
    let org = core.org();
    match org.instance_by_aws_arn(arn) {
        Some(i) if i < core.visible_instances() => Ok(i == 0),
        _ => Err(error(
            400,
            "ResourceNotFoundException",
            &format!("Instance {arn} does not exist."),
        )),
    }
}

fn list(
    core: &EmulatorCore,
    kind: OperationKind,
    input: &Map<String, Value>,
    now: DateTime<Utc>,
    admission: Admission,
) -> WireResponse {
    // Like the real service, field constraints are checked before any resource is looked up,
    // so a bad MaxResults on an unknown instance is a ValidationException, not a not-found.
    let max = match input.get("MaxResults") {
        None | Some(Value::Null) => 100,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if (1..=100).contains(&v) => v as usize,
            Some(v) if v < 1 => {
                return validation(format!(
                    "1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
                ));
            }
            _ => {
                return validation(format!(
                    "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
                ));
            }
        },
        Some(_) => {
            return error(
                400,
                "SerializationException",
                "Expected an integer for MaxResults",
            );
        }
    };
    let filter = match input.get("Filter").and_then(|f| f.get("Status")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match s.as_str() {
            "IN_PROGRESS" | "FAILED" | "SUCCEEDED" => Some(Status::from_wire(s)),
            other => {
                return validation(format!(
                    "1 validation error detected: Value '{other}' at 'filter.status' failed to satisfy constraint: Member must satisfy enum value set: [IN_PROGRESS, FAILED, SUCCEEDED]"
                ));
            }
        },
        Some(_) => {
            return error(
                400,
                "SerializationException",
                "Expected a string for Filter.Status",
            );
        }
    };
    let scope = format!(
        "{}|{}",
        kind.short(),
        filter.as_ref().map_or("", |f| f.as_wire())
    );
    let from = match input.get("NextToken") {
        None | Some(Value::Null) => 0,
        Some(Value::String(token)) => {
            if token.len() > 2048 || !matches(&NEXT_TOKEN, token) {
                return validation(
                    "1 validation error detected: Value at 'nextToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [-a-zA-Z0-9+=/_]*".to_string(),
                );
            }
            match core.page_tokens().decode(&scope, token) {
                Some(pos) => pos as usize,
                None => {
                    return validation("The NextToken provided is invalid or has expired.".into());
                }
            }
        }
        Some(_) => {
            return error(
                400,
                "SerializationException",
                "Expected a string for NextToken",
            );
        }
    };
    let field = match kind {
        OperationKind::AssignmentCreation => "AccountAssignmentsCreationStatus",
        OperationKind::AssignmentDeletion => "AccountAssignmentsDeletionStatus",
        OperationKind::PermissionSetProvisioning => "PermissionSetsProvisioningStatus",
    };
    let has_records = match instance(core, input) {
        Ok(v) => v,
        Err(e) => return e,
    };
    if !has_records {
        return ok(json!({ field: [] }));
    }
    let org = core.org();
    let (items, next) = org.page(kind, filter.as_ref(), from, max, now);
    let next = faults::next_position(
        admission,
        u32::try_from(from).unwrap_or(u32::MAX),
        next.and_then(|p| u32::try_from(p).ok()),
    );
    let items: Vec<Value> = items
        .into_iter()
        .map(|r| {
            json!({
                "Status": r.status_at(now).as_wire(),
                "RequestId": r.request_id,
                "CreatedDate": epoch_seconds(r.created),
            })
        })
        .collect();
    let mut out = Map::new();
    out.insert(field.into(), Value::Array(items));
    if let Some(pos) = next {
        out.insert(
            "NextToken".into(),
            Value::String(core.page_tokens().encode(&scope, pos)),
        );
    }
    ok(Value::Object(out))
}

fn describe(
    core: &EmulatorCore,
    kind: OperationKind,
    input: &Map<String, Value>,
    now: DateTime<Utc>,
) -> WireResponse {
    let has_records = match instance(core, input) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let (param, wire_param) = describe_param(kind);
    let id = match input.get(param) {
        Some(Value::String(s)) => s.as_str(),
        _ => {
            return validation(format!(
                "1 validation error detected: Value null at '{wire_param}' failed to satisfy constraint: Member must not be null"
            ));
        }
    };
    if id.len() != 36 || !matches(&REQUEST_ID, id) {
        return validation(format!(
            "1 validation error detected: Value '{id}' at '{wire_param}' failed to satisfy constraint: Member must satisfy regular expression pattern: {REQUEST_ID_PATTERN}"
        ));
    }
    let org = core.org();
    let found: Option<&SimRequest> = has_records
        .then(|| org.find(kind, id))
        .flatten()
        .filter(|r| r.created <= now);
    let Some(r) = found else {
        return error(
            400,
            "ResourceNotFoundException",
            &format!("Request {id} does not exist."),
        );
    };
    ok(status_body(&org, kind, r, now))
}

/// The status of one request as a describe (and a write) answers it.
fn status_body(
    org: &super::org::Org,
    kind: OperationKind,
    r: &SimRequest,
    now: DateTime<Utc>,
) -> Value {
    let detail = org.detail(kind, r, now, false);
    let mut status = Map::new();
    status.insert("Status".into(), json!(r.status_at(now).as_wire()));
    status.insert("RequestId".into(), json!(r.request_id));
    if let Some(reason) = &detail.failure_reason {
        status.insert("FailureReason".into(), json!(reason));
    }
    match kind {
        OperationKind::PermissionSetProvisioning => {
            status.insert("AccountId".into(), json!(detail.target_account));
        }
        _ => {
            status.insert("TargetId".into(), json!(detail.target_account));
            status.insert("TargetType".into(), json!("AWS_ACCOUNT"));
            status.insert("PrincipalType".into(), json!(detail.principal_type));
            status.insert("PrincipalId".into(), json!(detail.principal_id));
        }
    }
    status.insert("PermissionSetArn".into(), json!(detail.permission_set));
    status.insert("CreatedDate".into(), epoch_seconds(r.created));
    let field = match kind {
        OperationKind::AssignmentCreation => "AccountAssignmentCreationStatus",
        OperationKind::AssignmentDeletion => "AccountAssignmentDeletionStatus",
        OperationKind::PermissionSetProvisioning => "PermissionSetProvisioningStatus",
    };
    json!({ field: Value::Object(status) })
}

/// A required string member, or the validation error the service gives without it.
fn required<'a>(
    input: &'a Map<String, Value>,
    member: &str,
    wire: &str,
) -> Result<&'a str, WireResponse> {
    match input.get(member) {
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(error(
            400,
            "SerializationException",
            &format!("Expected a string for {member}"),
        )),
        None => Err(validation(format!(
            "1 validation error detected: Value null at '{wire}' failed to satisfy constraint: Member must not be null"
        ))),
    }
}

/// `CreateAccountAssignment`, `DeleteAccountAssignment`, `ProvisionPermissionSet`: a new
/// request IN_PROGRESS, answered with its status; it finishes like any other (failing while
/// `fail_requests` names a cause).
fn write(core: &EmulatorCore, kind: OperationKind, input: &Map<String, Value>) -> WireResponse {
    let has_records = match instance(core, input) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let checked = (|| {
        let ps = required(input, "PermissionSetArn", "permissionSetArn")?;
        if !matches(&PERMISSION_SET_ARN, ps) {
            return Err(validation(format!(
                "1 validation error detected: Value '{ps}' at 'permissionSetArn' failed to satisfy constraint: Member must satisfy regular expression pattern: {PERMISSION_SET_ARN_PATTERN}"
            )));
        }
        let target_type = required(input, "TargetType", "targetType")?;
        let all_accounts = kind == OperationKind::PermissionSetProvisioning
            && target_type == "ALL_PROVISIONED_ACCOUNTS";
        if target_type != "AWS_ACCOUNT" && !all_accounts {
            return Err(validation(format!(
                "1 validation error detected: Value '{target_type}' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT{}]",
                if kind == OperationKind::PermissionSetProvisioning {
                    ", ALL_PROVISIONED_ACCOUNTS"
                } else {
                    ""
                }
            )));
        }
        let target = if all_accounts {
            None
        } else {
            let t = required(input, "TargetId", "targetId")?;
            if t.len() != 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(validation(format!(
                    "1 validation error detected: Value '{t}' at 'targetId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{{12}}"
                )));
            }
            Some(t)
        };
        let principal = match kind {
            OperationKind::PermissionSetProvisioning => None,
            _ => {
                let t = required(input, "PrincipalType", "principalType")?;
                if t != "USER" && t != "GROUP" {
                    return Err(validation(format!(
                        "1 validation error detected: Value '{t}' at 'principalType' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]"
                    )));
                }
                Some((t, required(input, "PrincipalId", "principalId")?))
            }
        };
        Ok((ps, target, principal))
    })();
    let (ps, target, principal) = match checked {
        Ok(v) => v,
        Err(e) => return e,
    };
    let not_found = |what: String| error(400, "ResourceNotFoundException", &what);
    let resolved = {
        let org = core.org();
        if !has_records {
            return not_found("The instance holds no permission sets.".into());
        }
        let Some(ps_index) = org.permission_sets.iter().position(|p| p.aws_arn == ps) else {
            return not_found(format!("Could not find PermissionSet with ARN {ps}"));
        };
        let account = match target {
            None => Some(0),
            Some(t) => org.account_index(t),
        };
        let Some(account) = account else {
            return not_found(format!(
                "Account {} is not a member of the organization.",
                target.unwrap_or_default()
            ));
        };
        let principal = match principal {
            None => (false, 0),
            Some((t, id)) => match org.principal_index(t, id) {
                Some(p) => p,
                None => {
                    return not_found(format!("{t} {id} does not exist in the identity store."));
                }
            },
        };
        (account, ps_index as u32, principal)
    };
    let r = core.submit(kind, resolved.0, resolved.1, resolved.2);
    let org = core.org();
    ok(status_body(&org, kind, &r, core.now()))
}

fn describe_permission_set(core: &EmulatorCore, input: &Map<String, Value>) -> WireResponse {
    if let Err(e) = instance(core, input) {
        return e;
    }
    let arn = match input.get("PermissionSetArn") {
        Some(Value::String(s)) => s.as_str(),
        _ => {
            return validation(
                "1 validation error detected: Value null at 'permissionSetArn' failed to satisfy constraint: Member must not be null".into(),
            );
        }
    };
    if !matches(&PERMISSION_SET_ARN, arn) {
        return validation(format!(
            "1 validation error detected: Value '{arn}' at 'permissionSetArn' failed to satisfy constraint: Member must satisfy regular expression pattern: {PERMISSION_SET_ARN_PATTERN}"
        ));
    }
    let org = core.org();
    match org.permission_set_by_aws_arn(arn) {
        Some(ps) => ok(json!({
            "PermissionSet": {
                "Name": ps.name,
                "PermissionSetArn": ps.aws_arn,
                "Description": ps.description,
                "CreatedDate": epoch_seconds(ps.created),
                "SessionDuration": "PT1H",
            }
        })),
        None => error(
            400,
            "ResourceNotFoundException",
            &format!("Could not find PermissionSet with ARN {arn}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::{Clock, EmulatorConfig};
    use chrono::TimeZone;
    use std::collections::HashSet;

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIAUNITTEST000000000/20260101/us-east-1/sso/aws4_request, SignedHeaders=host, Signature=00";

    fn call(core: &EmulatorCore, op: &str, body: Value) -> (u16, Value) {
        let target = format!("{TARGET_PREFIX}{op}");
        let r = handle(core, Some(&target), Some(AUTH), body.to_string().as_bytes());
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    fn core() -> EmulatorCore {
        let config = EmulatorConfig {
            seed: 3,
            history: 120,
            rate: 2.0,
            ..EmulatorConfig::default()
        };
        let start = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        EmulatorCore::new(&config, Clock::manual(start))
    }

    #[test]
    fn the_faults_of_hostile_servers_answer_on_the_aws_wire() {
        use crate::emulator::http::Delivery;
        use crate::emulator::{Fault, FaultRule};
        let core = core();
        let run = |fault: Fault| {
            core.set_faults(|f| f.rules = vec![FaultRule::always(fault)]);
            let target = format!("{TARGET_PREFIX}ListInstances");
            handle(&core, Some(&target), Some(AUTH), b"{}")
        };
        let r = run(Fault::NotTheApi);
        assert_eq!(r.status, 404);
        assert!(r.headers.iter().any(|(_, v)| v.starts_with("text/html")));
        assert!(String::from_utf8_lossy(&r.body).contains("<h1>Not Found</h1>"));
        let r = run(Fault::EmptyAnswer);
        assert_eq!((r.status, r.body.as_slice()), (200, b"{}".as_slice()));
        let healthy = run(Fault::Slow);
        assert_eq!(healthy.delay, Some(crate::emulator::faults::SLOW));
        assert_eq!(healthy.status, 200);
        let r = run(Fault::TruncatedJson);
        assert_eq!((r.status, r.delivery), (200, Delivery::Whole));
        assert!(r.body.len() < healthy.body.len() && healthy.body.starts_with(&r.body));
        assert!(serde_json::from_slice::<Value>(&r.body).is_err());
        let r = run(Fault::Hostile);
        let v: Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let name = v["Instances"][0]["Name"].as_str().unwrap_or_default();
        assert!(
            name.ends_with(crate::emulator::faults::HOSTILE_TEXT),
            "{name}"
        );
    }

    /// A client walking pages while the rollout adds records must neither repeat nor miss a
    /// record that existed when it started: tokens are positions in creation order, and new
    /// records only ever append.
    #[test]
    fn tokens_stay_valid_while_records_arrive() {
        let core = core();
        let (_, v) = call(&core, "ListInstances", json!({}));
        let arn = v["Instances"][0]["InstanceArn"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let op = "ListAccountAssignmentCreationStatus";
        let (status, first) = call(&core, op, json!({"InstanceArn": arn, "MaxResults": 100}));
        assert_eq!(status, 200, "{first}");
        let mut before: HashSet<String> = HashSet::new();
        let mut seen: Vec<String> = Vec::new();
        let ids = |v: &Value| -> Vec<String> {
            v["AccountAssignmentsCreationStatus"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["RequestId"].as_str().map(str::to_string))
                .collect()
        };
        seen.extend(ids(&first));
        let mut token = first["NextToken"].as_str().map(str::to_string);
        assert!(token.is_some(), "120+ records need a second page");
        // Ground truth before the clock moves: every record visible now.
        let mut t2 = None;
        for _ in 0..10 {
            let mut body = json!({"InstanceArn": arn, "MaxResults": 100});
            if let Some(t) = &t2 {
                body["NextToken"] = json!(t);
            }
            let (_, v) = call(&core, op, body);
            before.extend(ids(&v));
            t2 = v["NextToken"].as_str().map(str::to_string);
            if t2.is_none() {
                break;
            }
        }
        core.clock().advance(std::time::Duration::from_secs(600));
        for _ in 0..10 {
            let Some(t) = token.take() else { break };
            let (status, v) = call(
                &core,
                op,
                json!({"InstanceArn": arn, "MaxResults": 100, "NextToken": t}),
            );
            assert_eq!(status, 200, "{v}");
            seen.extend(ids(&v));
            token = v["NextToken"].as_str().map(str::to_string);
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "a record was listed twice");
        assert!(
            before.iter().all(|id| unique.contains(id)),
            "a record was missed"
        );
        assert!(
            seen.len() > before.len(),
            "the rollout added records meanwhile"
        );
    }

    #[test]
    fn validation_matches_the_service_wording() {
        let core = core();
        let (status, v) = call(
            &core,
            "ListPermissionSetProvisioningStatus",
            json!({"InstanceArn": "arn:aws:sso:::instance/ssoins-1234567890abcdef", "MaxResults": 500}),
        );
        assert_eq!(status, 400);
        assert_eq!(v["__type"], "ValidationException");
        assert_eq!(
            v["Message"],
            "1 validation error detected: Value '500' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
        );
    }
}
