//! The AWS name services beside SSO Admin, on the same port: Identity Store
//! (`AWSIdentityStore.DescribeUser`, `DescribeGroup`, `ListUsers`, `ListGroups`) and
//! Organizations (`AWSOrganizationsV20161128.ListAccounts`, `DescribeAccount`), JSON 1.1 like
//! SSO Admin, with the validation rules and error shapes of their botocore service models.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use super::aws_wire::{error, ok};
use super::faults::Admission;
use super::http::WireResponse;
use super::org::Org;
use super::service::EmulatorCore;
use crate::wire::operations;

pub const IDENTITY_STORE_PREFIX: &str = "AWSIdentityStore.";
pub const ORGANIZATIONS_PREFIX: &str = "AWSOrganizationsV20161128.";

const IDENTITY_STORE_ID_PATTERN: &str =
    r"d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const RESOURCE_ID_PATTERN: &str =
    r"([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}";
const NEXT_TOKEN_PATTERN: &str = r"[-a-zA-Z0-9+=/:_]*";
/// Organizations pages hold at most 20 accounts.
const ORGANIZATIONS_PAGE: usize = 20;

static IDENTITY_STORE_ID: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(&format!("^{IDENTITY_STORE_ID_PATTERN}$")).ok());
static RESOURCE_ID: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(&format!("^{RESOURCE_ID_PATTERN}$")).ok());
static NEXT_TOKEN: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(&format!("^{NEXT_TOKEN_PATTERN}$")).ok());
static ACCOUNT_ID: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^\d{12}$").ok());

fn matches(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

/// The operation a name-service target names, if it is one this emulator serves.
pub fn operation_of(target: &str) -> Option<&'static str> {
    let (prefix_ok, op) = if let Some(op) = target.strip_prefix(IDENTITY_STORE_PREFIX) {
        (true, op)
    } else if let Some(op) = target.strip_prefix(ORGANIZATIONS_PREFIX) {
        (false, op)
    } else {
        return None;
    };
    let identity_store = [
        operations::DESCRIBE_USER,
        operations::DESCRIBE_GROUP,
        operations::LIST_USERS,
        operations::LIST_GROUPS,
    ];
    let organizations = [operations::LIST_ACCOUNTS, operations::DESCRIBE_ACCOUNT];
    let known: &[&'static str] = if prefix_ok {
        &identity_store
    } else {
        &organizations
    };
    known.iter().copied().find(|k| *k == op)
}

/// The answer to an injected `Denied` on a name operation: the service's own wording.
pub fn denied(operation: &str) -> WireResponse {
    let service =
        if operations::LIST_ACCOUNTS == operation || operations::DESCRIBE_ACCOUNT == operation {
            "organizations"
        } else {
            "identitystore"
        };
    error(
        400,
        "AccessDeniedException",
        &format!(
            "User: arn:aws:sts::111122223333:assumed-role/ssowatch-demo/session is not authorized to perform: {service}:{operation} because no identity-based policy allows the {service}:{operation} action"
        ),
    )
}

fn validation(field: &str, value: &str, constraint: &str) -> WireResponse {
    error(
        400,
        "ValidationException",
        &format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ),
    )
}

fn required(field: &str) -> WireResponse {
    error(
        400,
        "ValidationException",
        &format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ),
    )
}

/// A required string parameter, or the answer to its absence or wrong type.
fn string_param<'a>(
    input: &'a Map<String, Value>,
    param: &str,
    field: &str,
) -> Result<&'a str, WireResponse> {
    match input.get(param) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(required(field)),
        Some(_) => Err(error(
            400,
            "SerializationException",
            &format!("Expected a string for {param}"),
        )),
    }
}

/// Validates `IdentityStoreId` and checks it is the store of a visible instance; returns it.
fn identity_store<'a>(
    core: &EmulatorCore,
    input: &'a Map<String, Value>,
) -> Result<&'a str, WireResponse> {
    let id = string_param(input, "IdentityStoreId", "identityStoreId")?;
    if id.is_empty() || id.len() > 36 || !matches(&IDENTITY_STORE_ID, id) {
        return Err(validation(
            "identityStoreId",
            id,
            &format!("Member must satisfy regular expression pattern: {IDENTITY_STORE_ID_PATTERN}"),
        ));
    }
    let org = core.org();
    let known = org
        .instances
        .iter()
        .take(core.visible_instances())
        .any(|i| i.identity_store_id == id);
    if known {
        Ok(id)
    } else {
        Err(not_found("IDENTITY_STORE", id))
    }
}

/// An error whose body carries members besides `Message` (the model's extra fields).
fn typed_error(kind: &str, mut body: Value) -> WireResponse {
    body["__type"] = json!(kind);
    WireResponse::new(
        400,
        "application/x-amz-json-1.1",
        body.to_string().into_bytes(),
    )
    .with_header("x-amzn-errortype", format!("{kind}:"))
    .with_header("x-amzn-requestid", uuid::Uuid::new_v4().to_string())
}

fn not_found(resource_type: &str, id: &str) -> WireResponse {
    typed_error(
        "ResourceNotFoundException",
        json!({
            "Message": format!("{} not found.", capital(resource_type)),
            "ResourceType": resource_type,
            "ResourceId": id,
            "RequestId": uuid::Uuid::new_v4().to_string(),
        }),
    )
}

fn capital(resource_type: &str) -> String {
    match resource_type {
        "USER" => "User".into(),
        "GROUP" => "Group".into(),
        _ => "Identity store".into(),
    }
}

fn user_json(org: &Org, store: &str, index: usize) -> Value {
    let display = org.user_display_name(index).unwrap_or_default();
    let (given, family) = display.split_once(' ').unwrap_or((&display, ""));
    json!({
        "IdentityStoreId": store,
        "UserId": org.users[index],
        "UserName": org.user_names[index],
        "DisplayName": display,
        "Name": { "GivenName": given, "FamilyName": family, "Formatted": display },
        "Emails": [{ "Value": format!("{}@example.com", org.user_names[index]), "Type": "work", "Primary": true }],
    })
}

fn group_json(org: &Org, store: &str, index: usize) -> Value {
    json!({
        "IdentityStoreId": store,
        "GroupId": org.groups[index],
        "DisplayName": org.group_names[index],
        "Description": format!("{} (synced from the corporate directory)", org.group_names[index]),
    })
}

fn account_json(org: &Org, index: usize) -> Value {
    let id = &org.accounts[index];
    let management = &org.accounts[0];
    json!({
        "Id": id,
        "Arn": format!("arn:aws:organizations::{management}:account/o-exampleorgid/{id}"),
        "Email": format!("aws+{}@example.com", org.account_names[index]),
        "Name": org.account_names[index],
        "Status": "ACTIVE",
        "State": "ACTIVE",
        "JoinedMethod": if index == 0 { "CREATED" } else { "INVITED" },
        "JoinedTimestamp": 1_600_000_000.0 + index as f64 * 86_400.0,
    })
}

/// Answers one admitted name-service request.
pub fn answer(
    core: &EmulatorCore,
    operation: &str,
    input: &Map<String, Value>,
    admission: Admission,
) -> WireResponse {
    let response = match operation {
        operations::DESCRIBE_USER | operations::DESCRIBE_GROUP => {
            describe_principal(core, input, operation == operations::DESCRIBE_USER)
        }
        operations::LIST_USERS | operations::LIST_GROUPS => {
            list_principals(core, input, operation == operations::LIST_USERS)
        }
        operations::LIST_ACCOUNTS => list_accounts(core, input),
        _ => describe_account(core, input),
    };
    response.under(admission)
}

fn describe_principal(core: &EmulatorCore, input: &Map<String, Value>, user: bool) -> WireResponse {
    let (param, field, kind) = if user {
        ("UserId", "userId", "USER")
    } else {
        ("GroupId", "groupId", "GROUP")
    };
    // Field constraints come before any lookup, as with the real service.
    let id = match string_param(input, param, field) {
        Ok(id) => id,
        Err(e) => return e,
    };
    if id.is_empty() || id.len() > 47 || !matches(&RESOURCE_ID, id) {
        return validation(
            field,
            id,
            &format!("Member must satisfy regular expression pattern: {RESOURCE_ID_PATTERN}"),
        );
    }
    let store = match identity_store(core, input) {
        Ok(store) => store,
        Err(e) => return e,
    };
    let org = core.org();
    let ids = if user { &org.users } else { &org.groups };
    match ids.iter().position(|u| u == id) {
        Some(index) if user => ok(user_json(&org, store, index)),
        Some(index) => ok(group_json(&org, store, index)),
        None => not_found(kind, id),
    }
}

/// `MaxResults` within `1..=max`, `default` when absent.
fn max_results(
    input: &Map<String, Value>,
    max: i64,
    default: usize,
    invalid: impl Fn(String) -> WireResponse,
) -> Result<usize, WireResponse> {
    match input.get("MaxResults") {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if (1..=max).contains(&v) => Ok(v as usize),
            _ => Err(invalid(format!(
                "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and {max}"
            ))),
        },
        Some(_) => Err(error(
            400,
            "SerializationException",
            "Expected an integer for MaxResults",
        )),
    }
}

/// The position a `NextToken` encodes, for pages of `scope`.
fn position(
    core: &EmulatorCore,
    input: &Map<String, Value>,
    scope: &str,
    invalid: impl Fn(String) -> WireResponse,
) -> Result<usize, WireResponse> {
    match input.get("NextToken") {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(token)) => {
            if token.is_empty() || !matches(&NEXT_TOKEN, token) {
                return Err(invalid(format!(
                    "1 validation error detected: Value at 'nextToken' failed to satisfy constraint: Member must satisfy regular expression pattern: {NEXT_TOKEN_PATTERN}"
                )));
            }
            core.page_tokens()
                .decode(scope, token)
                .map(|p| p as usize)
                .ok_or_else(|| invalid("The NextToken provided is invalid or has expired.".into()))
        }
        Some(_) => Err(error(
            400,
            "SerializationException",
            "Expected a string for NextToken",
        )),
    }
}

fn list_principals(core: &EmulatorCore, input: &Map<String, Value>, users: bool) -> WireResponse {
    let invalid = |m: String| error(400, "ValidationException", &m);
    let max = match max_results(input, 100, 100, invalid) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let scope = if users { "names|users" } else { "names|groups" };
    let from = match position(core, input, scope, invalid) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let store = match identity_store(core, input) {
        Ok(store) => store,
        Err(e) => return e,
    };
    let org = core.org();
    let total = if users {
        org.users.len()
    } else {
        org.groups.len()
    };
    let end = (from + max).min(total);
    let items: Vec<Value> = (from.min(end)..end)
        .map(|i| {
            if users {
                user_json(&org, store, i)
            } else {
                group_json(&org, store, i)
            }
        })
        .collect();
    let field = if users { "Users" } else { "Groups" };
    let mut out = Map::new();
    out.insert(field.into(), Value::Array(items));
    if end < total {
        out.insert(
            "NextToken".into(),
            json!(core.page_tokens().encode(scope, end as u32)),
        );
    }
    ok(Value::Object(out))
}

fn invalid_input(message: String) -> WireResponse {
    typed_error(
        "InvalidInputException",
        json!({ "Message": message, "Reason": "INVALID_INPUT" }),
    )
}

fn list_accounts(core: &EmulatorCore, input: &Map<String, Value>) -> WireResponse {
    let max = match max_results(input, 20, ORGANIZATIONS_PAGE, invalid_input) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let scope = "names|accounts";
    let from = match input.get("NextToken") {
        // Organizations tokens are opaque strings of any form: only ours decode.
        Some(Value::String(token)) => match core.page_tokens().decode(scope, token) {
            Some(p) => p as usize,
            None => return invalid_input("The NextToken is not valid.".into()),
        },
        None | Some(Value::Null) => 0,
        Some(_) => {
            return error(
                400,
                "SerializationException",
                "Expected a string for NextToken",
            );
        }
    };
    let org = core.org();
    let total = org.accounts.len();
    let end = (from + max).min(total);
    let accounts: Vec<Value> = (from.min(end)..end)
        .map(|i| account_json(&org, i))
        .collect();
    let mut out = json!({ "Accounts": accounts });
    if end < total {
        out["NextToken"] = json!(core.page_tokens().encode(scope, end as u32));
    }
    ok(out)
}

fn describe_account(core: &EmulatorCore, input: &Map<String, Value>) -> WireResponse {
    let id = match input.get("AccountId") {
        Some(Value::String(s)) => s.as_str(),
        None | Some(Value::Null) => {
            return invalid_input(
                "You provided a value that does not match the required pattern.".into(),
            );
        }
        Some(_) => {
            return error(
                400,
                "SerializationException",
                "Expected a string for AccountId",
            );
        }
    };
    if !matches(&ACCOUNT_ID, id) {
        return invalid_input(
            "You provided a value that does not match the required pattern.".into(),
        );
    }
    let org = core.org();
    match org.accounts.iter().position(|a| a == id) {
        Some(index) => ok(json!({ "Account": account_json(&org, index) })),
        None => error(
            400,
            "AccountNotFoundException",
            "You specified an account that doesn't exist.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::aws_wire::handle;
    use crate::emulator::faults::{Fault, FaultRule};
    use crate::emulator::{Clock, EmulatorConfig};
    use chrono::{TimeZone, Utc};

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIAUNITTEST000000000/20260101/us-east-1/identitystore/aws4_request, SignedHeaders=host, Signature=00";

    fn core() -> EmulatorCore {
        let start = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        EmulatorCore::new(&EmulatorConfig::default(), Clock::manual(start))
    }

    fn call(core: &EmulatorCore, target: &str, body: Value) -> (u16, Value) {
        let r = handle(core, Some(target), Some(AUTH), body.to_string().as_bytes());
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    #[test]
    fn identity_store_answers_names_and_the_services_errors() {
        let core = core();
        let (store, user, user_name, group, group_name) = {
            let org = core.org();
            (
                org.instances[0].identity_store_id.clone(),
                org.users[3].clone(),
                org.user_names[3].clone(),
                org.groups[1].clone(),
                org.group_names[1].clone(),
            )
        };
        let (status, v) = call(
            &core,
            "AWSIdentityStore.DescribeUser",
            json!({"IdentityStoreId": store, "UserId": user}),
        );
        assert_eq!((status, v["UserName"].as_str()), (200, Some(&*user_name)));
        let (status, v) = call(
            &core,
            "AWSIdentityStore.DescribeGroup",
            json!({"IdentityStoreId": store, "GroupId": group}),
        );
        assert_eq!(
            (status, v["DisplayName"].as_str()),
            (200, Some(&*group_name))
        );
        // Field validation first, then the lookup, with the service's error types.
        let (status, v) = call(
            &core,
            "AWSIdentityStore.DescribeUser",
            json!({"IdentityStoreId": store, "UserId": "jane"}),
        );
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("ValidationException"))
        );
        let (_, v) = call(
            &core,
            "AWSIdentityStore.DescribeUser",
            json!({"IdentityStoreId": store}),
        );
        assert!(
            v["Message"].as_str().unwrap_or("").contains("userId"),
            "{v}"
        );
        let (status, v) = call(
            &core,
            "AWSIdentityStore.DescribeUser",
            json!({"IdentityStoreId": store, "UserId": "00000000-0000-4000-8000-000000000000"}),
        );
        assert_eq!(
            (status, v["__type"].as_str(), v["ResourceType"].as_str()),
            (400, Some("ResourceNotFoundException"), Some("USER"))
        );
        let (status, v) = call(&core, "AWSIdentityStore.DeleteUser", json!({}));
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("UnknownOperationException"))
        );
    }

    #[test]
    fn organizations_pages_accounts_by_twenty_and_denies_on_request() {
        let core = core();
        let total = core.org().accounts.len();
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..20 {
            let body = match &token {
                Some(t) => json!({ "NextToken": t }),
                None => json!({}),
            };
            let (status, v) = call(&core, "AWSOrganizationsV20161128.ListAccounts", body);
            assert_eq!(status, 200, "{v}");
            let page = v["Accounts"].as_array().cloned().unwrap_or_default();
            assert!(page.len() <= 20);
            names.extend(
                page.iter()
                    .filter_map(|a| a["Name"].as_str().map(str::to_string)),
            );
            token = v["NextToken"].as_str().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        assert_eq!(names, core.org().account_names[..total].to_vec());
        let (status, v) = call(
            &core,
            "AWSOrganizationsV20161128.ListAccounts",
            json!({"MaxResults": 21}),
        );
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("InvalidInputException"))
        );
        let (status, v) = call(
            &core,
            "AWSOrganizationsV20161128.DescribeAccount",
            json!({"AccountId": "000000000000"}),
        );
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("AccountNotFoundException"))
        );
        core.set_faults(|f| {
            f.rules.push(FaultRule {
                operation: Some("ListAccounts".into()),
                ..FaultRule::always(Fault::Denied)
            })
        });
        let (status, v) = call(&core, "AWSOrganizationsV20161128.ListAccounts", json!({}));
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("AccessDeniedException"))
        );
        assert!(
            v["Message"]
                .as_str()
                .unwrap_or("")
                .contains("organizations:ListAccounts")
        );
        assert_eq!(
            core.stats().by_operation.get("ListAccounts"),
            Some(&(names.len().div_ceil(20) as u64 + 2))
        );
    }
}
