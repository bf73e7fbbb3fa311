//! From cause to action: what to hand to the pipeline, the shell and `ssowatch wait` once the
//! cause of a failure group is fixed. ssowatch stays read-only: it writes out what to run, and
//! the operator (or the pipeline) runs it.
//!
//! Three formats over described FAILED requests, all pure functions:
//!
//! - [`ids_file`]: the request ids, one a line with `#` comments, the format
//!   `ssowatch wait --request-ids-from` reads;
//! - [`retry_script`]: one official CLI command per request that redoes it with the same
//!   instance, target, permission set and principal (AWS CLI `aws sso-admin …`, Huawei
//!   KooCLI `hcloud IdentityCenter …`), shell-quoted, a comment per cause with its hint, and
//!   no credentials or endpoint (they come from the environment that runs it);
//! - [`plan_json`]: the same as data, for pipelines that redo it their own way.
//!
//! Requests a retry cannot fix ([`not_retryable`]) and requests whose detail lacks an id a
//! retry needs are left out of the script with a comment that says why.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::failures::Cause;
use crate::model::{OperationKind, RequestDetail};

/// Which official command line the script is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// The AWS CLI, `aws sso-admin …`.
    Aws,
    /// Huawei Cloud's KooCLI, `hcloud IdentityCenter …`.
    Huawei,
}

/// What `--output` of `ssowatch failures` hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    Ids,
    Retry,
    Plan,
}

/// One FAILED request, described.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedDetail {
    pub kind: OperationKind,
    pub request_id: String,
    pub cause: Cause,
    pub detail: RequestDetail,
}

/// Why a retry of `cause` cannot work, or `None` when it can once the cause is fixed.
pub fn not_retryable(cause: Cause) -> Option<&'static str> {
    match cause {
        Cause::PrincipalMissing => Some(
            "the user or group is gone from the identity store: a retry fails the same way; recreate the principal (it gets a new id) or fix the pipeline's assignment, then create it anew",
        ),
        Cause::AssignmentMissing => Some(
            "the assignment no longer exists: there is nothing left to delete; drop it from the pipeline's state instead",
        ),
        Cause::ManagementAccount => Some(
            "only the management account can manage assignments in the management account: a delegated administrator's retry fails the same way; run it from the management account by hand",
        ),
        _ => None,
    }
}

/// The longest id a command takes from the API (AWS ARNs are at most 1224 characters).
const MAX_ID_CHARS: usize = 1224;

/// An id from the API, if it is safe to put on a command line: not empty, not too long, and
/// only printable ASCII without spaces or quotes. Quoting would make anything safe for the
/// shell, but an id with such characters is no id the service issues: it is left out, not
/// passed on.
fn safe_id(value: Option<&str>) -> Option<&str> {
    let v = value?;
    let ok = !v.is_empty()
        && v.len() <= MAX_ID_CHARS
        && v.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b'.' | b':' | b'/' | b'@' | b'+' | b'=' | b','
                )
        });
    ok.then_some(v)
}

/// The shell word for `word`, single-quoted where it needs it.
fn quote(word: &str) -> String {
    shlex::try_quote(word).map_or_else(|_| "''".to_string(), |q| q.into_owned())
}

/// The ids a retry of one request needs, checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Redo<'a> {
    target: &'a str,
    target_type: &'static str,
    permission_set: &'a str,
    principal_type: Option<&'static str>,
    principal_id: Option<&'a str>,
}

/// The ids of `request` a retry needs, or what is missing.
fn redo<'a>(cloud: Cloud, request: &'a FailedDetail) -> Result<Redo<'a>, String> {
    let d = &request.detail;
    let target = safe_id(d.target_account.as_deref()).ok_or(match request.kind {
        // A provisioning to ALL_PROVISIONED_ACCOUNTS names no account: redoing it to every
        // account is not a call to write on the strength of a missing field.
        OperationKind::PermissionSetProvisioning => {
            "no target account (a provisioning to all provisioned accounts? redo it by hand)"
        }
        _ => "no usable target account",
    })?;
    let permission_set = safe_id(d.permission_set.as_deref()).ok_or("no usable permission set")?;
    let target_type = match cloud {
        Cloud::Aws => "AWS_ACCOUNT",
        Cloud::Huawei => "ACCOUNT",
    };
    let (principal_type, principal_id) = match request.kind {
        OperationKind::PermissionSetProvisioning => (None, None),
        _ => {
            let principal_type = match d.principal_type.as_deref() {
                Some("USER") => "USER",
                Some("GROUP") => "GROUP",
                _ => return Err("no usable principal type".to_string()),
            };
            let id = safe_id(d.principal_id.as_deref()).ok_or("no usable principal id")?;
            (Some(principal_type), Some(id))
        }
    };
    Ok(Redo {
        target,
        target_type,
        permission_set,
        principal_type,
        principal_id,
    })
}

/// The KooCLI operation that redoes a request of `kind` (the API Explorer operation names,
/// the same as the Huawei SDK's request classes without `Request`).
pub fn huawei_operation(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::AssignmentCreation => "CreateAccountAssignment",
        OperationKind::AssignmentDeletion => "DeleteAccountAssignment",
        OperationKind::PermissionSetProvisioning => "ProvisionPermissionSet",
    }
}

/// The AWS CLI subcommand that redoes a request of `kind`.
pub fn aws_subcommand(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::AssignmentCreation => "create-account-assignment",
        OperationKind::AssignmentDeletion => "delete-account-assignment",
        OperationKind::PermissionSetProvisioning => "provision-permission-set",
    }
}

/// The words of the command that redoes one request (unquoted).
fn command(cloud: Cloud, instance: &str, kind: OperationKind, r: &Redo<'_>) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    match cloud {
        Cloud::Aws => {
            words.extend(["aws", "sso-admin", aws_subcommand(kind)].map(String::from));
            let mut flag = |name: &str, value: &str| {
                words.push(format!("--{name}"));
                words.push(value.to_string());
            };
            flag("instance-arn", instance);
            flag("permission-set-arn", r.permission_set);
            flag("target-id", r.target);
            flag("target-type", r.target_type);
            if let (Some(t), Some(id)) = (r.principal_type, r.principal_id) {
                flag("principal-type", t);
                flag("principal-id", id);
            }
        }
        Cloud::Huawei => {
            words.extend(["hcloud", "IdentityCenter", huawei_operation(kind)].map(String::from));
            let mut param = |name: &str, value: &str| words.push(format!("--{name}={value}"));
            param("instance_id", instance);
            param("permission_set_id", r.permission_set);
            if let (Some(t), Some(id)) = (r.principal_type, r.principal_id) {
                param("principal_id", id);
                param("principal_type", t);
            }
            param("target_id", r.target);
            param("target_type", r.target_type);
        }
    }
    words
}

/// Requests grouped by cause, in [`Cause::ALL`] order, each group in request-id order.
fn by_cause(requests: &[FailedDetail]) -> BTreeMap<Cause, Vec<&FailedDetail>> {
    let mut groups: BTreeMap<Cause, Vec<&FailedDetail>> = BTreeMap::new();
    for r in requests {
        groups.entry(r.cause).or_default().push(r);
    }
    for g in groups.values_mut() {
        g.sort_by(|a, b| (a.kind, &a.request_id).cmp(&(b.kind, &b.request_id)));
    }
    groups
}

/// A request id fit for a comment: the safe id, or a placeholder.
fn shown_id(id: &str) -> &str {
    safe_id(Some(id)).unwrap_or("(unprintable id)")
}

/// The ids file: one request id a line, a comment per cause. `ssowatch wait
/// --request-ids-from` reads it.
pub fn ids_file(requests: &[FailedDetail]) -> String {
    let mut out = String::from("# FAILED request ids, from ssowatch failures\n");
    for (cause, group) in by_cause(requests) {
        let _ = writeln!(out, "# {}: {} request(s)", cause.label(), group.len());
        for r in group {
            match safe_id(Some(&r.request_id)) {
                Some(id) => {
                    let _ = writeln!(out, "{id}");
                }
                None => out.push_str("# (an unprintable request id left out)\n"),
            }
        }
    }
    out
}

/// The retry script for `cloud`: `#!/bin/sh`, one command per request that a retry can fix, a
/// comment per cause with its hint, and a comment for each request left out and why. No
/// credentials, no endpoint, no region: the environment that runs it supplies them
/// (`AWS_PROFILE`, `AWS_ENDPOINT_URL`, … for the AWS CLI; KooCLI's profile for `hcloud`).
pub fn retry_script(cloud: Cloud, instance: &str, requests: &[FailedDetail]) -> String {
    let mut out = String::from("#!/bin/sh\n");
    out.push_str("# Retry of FAILED Identity Center requests, written by ssowatch failures.\n");
    out.push_str("# Fix each cause first (see its hint). Credentials, region and endpoint come\n");
    match cloud {
        Cloud::Aws => {
            out.push_str(
                "# from the environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...).\n",
            );
            out.push_str(
                "# Each command prints the new request's status as JSON: collect the output and\n",
            );
            out.push_str("# gate on it with `ssowatch wait --request-ids-from FILE`.\n");
        }
        Cloud::Huawei => {
            out.push_str("# from KooCLI's profile (hcloud configure).\n");
            out.push_str("# Each command prints the new request's status as JSON.\n");
        }
    }
    out.push_str("set -eu\n");
    let Some(instance) = safe_id(Some(instance)) else {
        out.push_str("# the instance id is not usable on a command line: nothing to run\n");
        return out;
    };
    let mut commands = 0usize;
    for (cause, group) in by_cause(requests) {
        let _ = writeln!(out, "\n# {}: {} request(s)", cause.label(), group.len());
        let _ = writeln!(out, "# hint: {}", cause.hint());
        if let Some(why) = not_retryable(cause) {
            let _ = writeln!(out, "# left out, a retry cannot fix them: {why}");
            for r in group {
                let _ = writeln!(out, "#   {} {}", r.kind.short(), shown_id(&r.request_id));
            }
            continue;
        }
        for r in group {
            match redo(cloud, r) {
                Ok(ids) => {
                    let _ = writeln!(out, "# redo {} {}", r.kind.short(), shown_id(&r.request_id));
                    let words = command(cloud, instance, r.kind, &ids);
                    let quoted: Vec<String> = words.iter().map(|w| quote(w)).collect();
                    let _ = writeln!(out, "{}", quoted.join(" "));
                    commands += 1;
                }
                Err(why) => {
                    let _ = writeln!(
                        out,
                        "# left out {} {}: its detail has {why}",
                        r.kind.short(),
                        shown_id(&r.request_id)
                    );
                }
            }
        }
    }
    let _ = writeln!(out, "\n# {commands} command(s)");
    out
}

/// One request of the plan.
#[derive(Debug, Serialize)]
struct PlanStep<'a> {
    request_id: &'a str,
    kind: &'static str,
    /// The API operation that redoes it (AWS names; the Huawei operations are named the same).
    operation: &'static str,
    instance: &'a str,
    cause: &'static str,
    #[serde(flatten)]
    ids: Redo<'a>,
}

/// A request the plan leaves out, and why.
#[derive(Debug, Serialize)]
struct PlanLeftOut<'a> {
    request_id: &'a str,
    kind: &'static str,
    cause: &'static str,
    why: String,
}

#[derive(Debug, Serialize)]
struct Plan<'a> {
    cloud: Cloud,
    instance: &'a str,
    retry: Vec<PlanStep<'a>>,
    left_out: Vec<PlanLeftOut<'a>>,
}

/// The JSON plan: for each request a retry can fix, its kind, the operation that redoes it,
/// the instance, target, permission set and principal, and its cause; the others under
/// `left_out` with why.
pub fn plan_json(cloud: Cloud, instance: &str, requests: &[FailedDetail]) -> serde_json::Value {
    let mut plan = Plan {
        cloud,
        instance,
        retry: Vec::new(),
        left_out: Vec::new(),
    };
    for (cause, group) in by_cause(requests) {
        for r in group {
            let verdict = match not_retryable(cause) {
                Some(why) => Err(why.to_string()),
                None => redo(cloud, r).map_err(|why| format!("its detail has {why}")),
            };
            match verdict {
                Ok(ids) => plan.retry.push(PlanStep {
                    request_id: &r.request_id,
                    kind: r.kind.short(),
                    operation: huawei_operation(r.kind),
                    instance,
                    cause: cause.label(),
                    ids,
                }),
                Err(why) => plan.left_out.push(PlanLeftOut {
                    request_id: &r.request_id,
                    kind: r.kind.short(),
                    cause: cause.label(),
                    why,
                }),
            }
        }
    }
    serde_json::to_value(&plan).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-0123456789abcdef";
    const PS: &str = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";

    fn failed(kind: OperationKind, id: &str, cause: Cause) -> FailedDetail {
        let assignment = kind != OperationKind::PermissionSetProvisioning;
        FailedDetail {
            kind,
            request_id: id.to_string(),
            cause,
            detail: RequestDetail {
                failure_reason: Some("whatever".into()),
                target_account: Some("111122223333".into()),
                target_type: Some("AWS_ACCOUNT".into()),
                permission_set: Some(PS.into()),
                principal_type: assignment.then(|| "GROUP".to_string()),
                principal_id: assignment.then(|| "9067-abcd".to_string()),
                ..RequestDetail::default()
            },
        }
    }

    fn sample() -> Vec<FailedDetail> {
        vec![
            failed(
                OperationKind::AssignmentCreation,
                "c1",
                Cause::PolicyMissing,
            ),
            failed(
                OperationKind::PermissionSetProvisioning,
                "p1",
                Cause::PolicyMissing,
            ),
            failed(
                OperationKind::AssignmentDeletion,
                "d1",
                Cause::AssignmentMissing,
            ),
            failed(
                OperationKind::AssignmentCreation,
                "c2",
                Cause::PrincipalMissing,
            ),
            failed(
                OperationKind::AssignmentCreation,
                "c3",
                Cause::ManagementAccount,
            ),
        ]
    }

    fn commands(script: &str) -> Vec<Vec<String>> {
        script
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty() && *l != "set -eu")
            .map(|l| shlex::split(l).unwrap_or_default())
            .collect()
    }

    #[test]
    fn the_aws_script_redoes_each_fixable_request_with_its_ids() {
        let script = retry_script(Cloud::Aws, INSTANCE, &sample());
        let cmds = commands(&script);
        assert_eq!(cmds.len(), 2, "{script}");
        assert_eq!(
            cmds[0],
            [
                "aws",
                "sso-admin",
                "create-account-assignment",
                "--instance-arn",
                INSTANCE,
                "--permission-set-arn",
                PS,
                "--target-id",
                "111122223333",
                "--target-type",
                "AWS_ACCOUNT",
                "--principal-type",
                "GROUP",
                "--principal-id",
                "9067-abcd"
            ]
        );
        assert_eq!(
            cmds[1],
            [
                "aws",
                "sso-admin",
                "provision-permission-set",
                "--instance-arn",
                INSTANCE,
                "--permission-set-arn",
                PS,
                "--target-id",
                "111122223333",
                "--target-type",
                "AWS_ACCOUNT"
            ]
        );
        assert!(script.starts_with("#!/bin/sh\n"));
        assert!(script.contains(&format!("# hint: {}", Cause::PolicyMissing.hint())));
        for cause in [
            Cause::PrincipalMissing,
            Cause::AssignmentMissing,
            Cause::ManagementAccount,
        ] {
            let why = not_retryable(cause).unwrap_or_default();
            assert!(script.contains(&format!("# left out, a retry cannot fix them: {why}")));
        }
        assert!(script.contains("#   deletion d1"));
        assert!(!script.contains("--endpoint-url") && !script.contains("--profile"));
        assert!(!script.contains("--region") && !script.to_lowercase().contains("secret"));
    }

    #[test]
    fn the_koocli_script_names_huawei_operations_and_parameters() {
        let mut requests = sample();
        for r in &mut requests {
            r.detail.permission_set = Some("ps-0123456789abcdef".into());
        }
        let script = retry_script(Cloud::Huawei, "ins-0123456789abcdef", &requests);
        let cmds = commands(&script);
        assert_eq!(
            cmds[0],
            [
                "hcloud",
                "IdentityCenter",
                "CreateAccountAssignment",
                "--instance_id=ins-0123456789abcdef",
                "--permission_set_id=ps-0123456789abcdef",
                "--principal_id=9067-abcd",
                "--principal_type=GROUP",
                "--target_id=111122223333",
                "--target_type=ACCOUNT"
            ]
        );
        assert_eq!(cmds[1][2], "ProvisionPermissionSet");
        assert!(!script.contains("cli-access-key") && !script.contains("cli-endpoint"));
    }

    #[test]
    fn hostile_values_never_reach_the_script() {
        let mut evil = failed(
            OperationKind::AssignmentCreation,
            "c9",
            Cause::InternalError,
        );
        evil.detail.principal_id = Some("x'; rm -rf / #\n\u{1b}[2J".into());
        let mut ok = failed(
            OperationKind::AssignmentCreation,
            "bad\nid; reboot",
            Cause::InternalError,
        );
        ok.detail.target_account = Some("1111$(id)".into());
        let script = retry_script(Cloud::Aws, INSTANCE, &[evil, ok]);
        assert_eq!(commands(&script).len(), 0, "{script}");
        assert!(script.contains("# left out creation c9: its detail has no usable principal id"));
        assert!(script.contains("(unprintable id)"));
        assert!(
            !script.contains("rm -rf") && !script.contains("reboot") && !script.contains("$(id)")
        );
        assert!(!script.chars().any(|c| c.is_control() && c != '\n'));
        // Every line that is not a comment parses as one command.
        for line in script.lines().filter(|l| !l.starts_with('#')) {
            assert!(shlex::split(line).is_some(), "{line:?}");
        }
    }

    #[test]
    fn a_provisioning_without_an_account_is_left_out_not_widened() {
        let mut p = failed(
            OperationKind::PermissionSetProvisioning,
            "p9",
            Cause::InternalError,
        );
        p.detail.target_account = None;
        let script = retry_script(Cloud::Aws, INSTANCE, &[p]);
        assert_eq!(commands(&script).len(), 0, "{script}");
        assert!(script.contains("# left out provisioning p9: its detail has no target account"));
        assert!(!script.contains("ALL_PROVISIONED_ACCOUNTS"));
    }

    #[test]
    fn words_that_need_quotes_get_them() {
        assert_eq!(quote("ps-1"), "ps-1");
        assert_eq!(
            shlex::split(&quote("it's a b")),
            Some(vec!["it's a b".to_string()])
        );
        let words = command(
            Cloud::Huawei,
            "ins-1",
            OperationKind::PermissionSetProvisioning,
            &Redo {
                target: "1",
                target_type: "ACCOUNT",
                permission_set: "ps-1",
                principal_type: None,
                principal_id: None,
            },
        );
        let line = words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
        assert_eq!(shlex::split(&line), Some(words));
    }

    #[test]
    fn the_ids_file_is_what_wait_reads() {
        let ids = ids_file(&sample());
        let lines: Vec<&str> = ids.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines, ["c1", "p1", "c3", "c2", "d1"]);
        assert!(ids.contains("# policy_missing: 2 request(s)"));
    }

    #[test]
    fn the_plan_carries_the_ids_and_the_left_out() {
        let plan = plan_json(Cloud::Aws, INSTANCE, &sample());
        let retry = plan["retry"].as_array().cloned().unwrap_or_default();
        assert_eq!(retry.len(), 2);
        assert_eq!(retry[0]["operation"], "CreateAccountAssignment");
        assert_eq!(retry[0]["kind"], "creation");
        assert_eq!(retry[0]["instance"], INSTANCE);
        assert_eq!(retry[0]["target"], "111122223333");
        assert_eq!(retry[0]["permission_set"], PS);
        assert_eq!(retry[0]["principal_type"], "GROUP");
        assert_eq!(retry[0]["principal_id"], "9067-abcd");
        assert_eq!(retry[0]["cause"], "policy_missing");
        assert_eq!(retry[1]["operation"], "ProvisionPermissionSet");
        assert!(retry[1]["principal_id"].is_null());
        let left: Vec<&str> = plan["left_out"]
            .as_array()
            .map(|a| a.iter().filter_map(|l| l["cause"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            left,
            [
                "management_account",
                "principal_missing",
                "assignment_missing"
            ]
        );
    }
}
