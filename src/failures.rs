//! Why requests fail, at a glance: failure reasons normalised (ids, account numbers, ARNs,
//! names and UUIDs taken out) and grouped, so 300 failures read as the handful of causes they
//! are, each with a one-line hint on what to do.
//!
//! This is the ONE classifier of reasons: the dashboard's failure groups, `ssowatch failures`
//! and the Prometheus failure classes all use [`Cause::of`]. The label of each cause, and so
//! the bounded `class` label set of the metrics ([`CAUSE_LABELS`]), lives here with it:
//! `metrics` imports it, and nothing here imports `metrics`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::Serialize;

use crate::estimate::{CauseTally, Estimate, KindTally, estimate};
use crate::model::{OperationKind, RequestDetail, StatusSummary};

/// The known causes of a failed request, plus `Other`. A closed set: it is also the metrics
/// label set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    PolicyMissing,
    ManagementAccount,
    AccountUnreachable,
    RoleQuota,
    AccessDenied,
    ConflictingOperation,
    PrincipalMissing,
    AssignmentMissing,
    InternalError,
    Other,
}

/// Every cause's label, in [`Cause::ALL`] order: the closed set of values of the metrics'
/// `class` label, so the failures counter has at most `3 kinds x causes` series.
pub const CAUSE_LABELS: [&str; Cause::ALL.len()] = {
    let mut labels = [""; Cause::ALL.len()];
    let mut i = 0;
    while i < Cause::ALL.len() {
        labels[i] = Cause::ALL[i].label();
        i += 1;
    }
    labels
};

/// Sorts a free-text failure reason into its cause's label: a bounded value without ids,
/// ARNs or account numbers, safe as a metrics label.
pub fn cause_label(reason: &str) -> &'static str {
    Cause::of(reason).label()
}

impl Cause {
    pub const ALL: [Cause; 10] = [
        Cause::PolicyMissing,
        Cause::ManagementAccount,
        Cause::AccountUnreachable,
        Cause::RoleQuota,
        Cause::AccessDenied,
        Cause::ConflictingOperation,
        Cause::PrincipalMissing,
        Cause::AssignmentMissing,
        Cause::InternalError,
        Cause::Other,
    ];

    /// The snake_case name: metrics label value and JSON field. A `const fn` so that
    /// [`CAUSE_LABELS`] is built from it at compile time and cannot drift from it.
    pub const fn label(self) -> &'static str {
        match self {
            Cause::PolicyMissing => "policy_missing",
            Cause::ManagementAccount => "management_account",
            Cause::AccountUnreachable => "account_unreachable",
            Cause::RoleQuota => "role_quota",
            Cause::AccessDenied => "access_denied",
            Cause::ConflictingOperation => "conflicting_operation",
            Cause::PrincipalMissing => "principal_missing",
            Cause::AssignmentMissing => "assignment_missing",
            Cause::InternalError => "internal_error",
            Cause::Other => "other",
        }
    }

    /// What to do about it, in one line. Written for both clouds: where the fix names an
    /// AWS-only thing (policy paths, the AWSReservedSSO_* roles), the hint says so.
    pub fn hint(self) -> &'static str {
        match self {
            Cause::PolicyMissing => {
                "create the policy the permission set attaches in the target account (same name; on AWS same path too), or remove it from the permission set; then reprovision"
            }
            Cause::ManagementAccount => {
                "a delegated administrator cannot manage the management account: run this from the management account"
            }
            Cause::AccountUnreachable => {
                "the account is suspended, closed or not reachable yet: check it in Organizations, then retry"
            }
            Cause::RoleQuota => {
                "the account hit an IAM quota (roles on AWS, agencies on Huawei Cloud): delete unused ones or ask for a higher quota, then retry"
            }
            Cause::AccessDenied => {
                "an SCP or IAM policy in the target account blocks Identity Center (on AWS: iam:UpdateSAMLProvider, AWSReservedSSO_* roles): allow it there"
            }
            Cause::ConflictingOperation => {
                "another operation on the same permission set or account was running: wait for it, then retry"
            }
            Cause::PrincipalMissing => {
                "the user or group is gone from the identity store: fix the assignment's principal or recreate it"
            }
            Cause::AssignmentMissing => {
                "the assignment no longer exists: nothing to delete; drop it from the pipeline's state"
            }
            Cause::InternalError => {
                "a service-side error: worth retrying; contact support if it persists"
            }
            Cause::Other => {
                "unrecognised reason: read it in full (Enter on the group, then the detail pane)"
            }
        }
    }

    /// What to do about it, in the words of the cloud that answered (`provider` is the
    /// provider's name, `aws` or `huawei`): on Huawei Cloud no AWS-only name (policy paths,
    /// SCPs, `AWSReservedSSO_*` roles) appears, and its own ones do (system and custom policies,
    /// agencies). Causes whose fix is the same on both clouds share [`Cause::hint`].
    pub fn hint_for(self, provider: &str) -> &'static str {
        if provider != "huawei" {
            return self.hint();
        }
        match self {
            Cause::PolicyMissing => {
                "create the custom policy the permission set attaches in the target account, or remove it from the permission set; then provision it again"
            }
            Cause::AccountUnreachable => {
                "the account is frozen, closed or not reachable yet: check it in Organizations, then retry"
            }
            Cause::RoleQuota => {
                "the account hit an IAM quota (agencies): delete unused agencies or ask for a higher quota, then retry"
            }
            Cause::AccessDenied => {
                "a policy or service control policy in the target account blocks IAM Identity Center (its agencies): allow it there"
            }
            other => other.hint(),
        }
    }

    /// Sorts a free-text failure reason into a cause. The patterns follow the reasons Identity
    /// Center (AWS and Huawei Cloud) is known to return; see `tests/data/failure_reasons.txt`.
    pub fn of(reason: &str) -> Cause {
        let r = reason.to_ascii_lowercase();
        let has = |needles: &[&str]| needles.iter().any(|n| r.contains(n));
        if has(&[
            "not supported policy",
            "policy arn",
            "managed policy",
            "policy does not exist",
            "policy not found",
            "nosuchentity",
            "policy with name",
        ]) {
            Cause::PolicyMissing
        } else if has(&["management account", "master account"]) {
            Cause::ManagementAccount
        } else if has(&[
            "suspended",
            "unreachable",
            "obtaining permissions to manage your",
            "account is closed",
            "not a member of the organization",
        ]) {
            Cause::AccountUnreachable
        } else if has(&[
            "quota",
            "limitexceeded",
            "limit exceeded",
            "roles per account",
        ]) {
            Cause::RoleQuota
        } else if has(&[
            "access denied",
            "accessdenied",
            "not authorized",
            "iam:updatesamlprovider",
            "awsreservedsso_",
        ]) {
            Cause::AccessDenied
        } else if has(&["conflicting operation", "conflictexception", "conflict"]) {
            Cause::ConflictingOperation
        } else if has(&["assignee", "principal"]) && has(&["not found", "does not exist"]) {
            Cause::PrincipalMissing
        } else if has(&["entitlementitem doesn't exist", "entitlement"]) {
            Cause::AssignmentMissing
        } else if has(&[
            "internal service exception",
            "internal error",
            "internalserver",
            "unable to complete your request",
            "try again",
        ]) {
            Cause::InternalError
        } else {
            Cause::Other
        }
    }
}

static ARN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(arn|urn):[^\s'\x22,;)]+").expect("valid regex"));
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
        .expect("valid regex")
});
static BRACED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{[^{}]*(\{[^{}]*\}[^{}]*)*\}").expect("valid regex"));
static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"'[^']*'|\x22[^\x22]*\x22").expect("valid regex"));
static ACCOUNT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d{12}\b").expect("valid regex"));
/// Tokens that hold a digit and are at least 4 long (ids like `ps-0123abcd`, `d-9067a1b2c3`,
/// `ssoins-…`, `9067-abc`), and the word after `assignee`/`name`/`named`, which is a
/// principal's id or name.
static ID_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[\w.-]*\d[\w.-]*\b|\b(?i:(?:assignee|name|named)) [\w.@-]+")
        .expect("valid regex")
});

/// A failure reason with the parts that differ between requests taken out: what is left is
/// the same text for every request that failed for the same reason.
pub fn normalise(reason: &str) -> String {
    let r = ARN.replace_all(reason, "<arn>");
    let r = UUID.replace_all(&r, "<id>");
    let r = BRACED.replace_all(&r, "{…}");
    let r = QUOTED.replace_all(&r, "'…'");
    let r = ACCOUNT.replace_all(&r, "<account>");
    let r = ID_TOKEN.replace_all(&r, |caps: &regex::Captures| {
        let m = &caps[0];
        match m.split_once(' ') {
            // "assignee 3f2a" keeps its word: it says what kind of thing went missing.
            Some((word, _)) => format!("{word} <id>"),
            // A 404 or a 1000 is part of the sentence, not an id.
            None if m.chars().all(|c| c.is_ascii_digit()) && m.len() <= 4 => m.to_string(),
            None => "<id>".to_string(),
        }
    });
    r.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One FAILED request, as much as is known of it.
#[derive(Debug, Clone, Copy)]
pub struct FailedRequest<'a> {
    pub kind: OperationKind,
    pub request_id: &'a str,
    pub created: DateTime<Utc>,
    /// `None` while it has not been described yet.
    pub reason: Option<&'a str>,
    /// The reason already normalised, when the caller keeps it (the dashboard does).
    pub pattern: Option<&'a str>,
    pub account: Option<&'a str>,
    pub permission_set: Option<&'a str>,
}

impl<'a> FailedRequest<'a> {
    /// A FAILED request as a listing gave it, with its describe answer when one was read: the
    /// headless commands and the hub's clients build their groups from these.
    pub fn of(summary: &'a StatusSummary, detail: Option<&'a RequestDetail>) -> Self {
        FailedRequest {
            kind: summary.kind,
            request_id: &summary.request_id,
            created: summary.created,
            reason: detail.and_then(|d| d.failure_reason.as_deref()),
            pattern: None,
            account: detail.and_then(|d| d.target_account.as_deref()),
            permission_set: detail.and_then(|d| {
                d.permission_set_name
                    .as_deref()
                    .or(d.permission_set.as_deref())
            }),
        }
    }
}

/// The pattern of requests whose reason is not known yet.
pub const NOT_DESCRIBED: &str = "(reason not read yet)";

/// Failures of one cause (or, for reasons no known cause matches, of one normalised reason).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureGroup {
    /// What the group is: the cause's label (`policy_missing`), the normalised reason for
    /// `other` reasons, or [`NOT_DESCRIBED`].
    pub key: String,
    /// The normalised reason of the group's first request (or [`NOT_DESCRIBED`]).
    pub pattern: String,
    pub cause: Cause,
    pub hint: &'static str,
    /// Requests of the group whose reason was read.
    pub count: usize,
    /// How many of all FAILED are of this cause: exact once every reason is read, an
    /// estimate from the random sample before (see [`crate::estimate`]).
    pub estimate: Estimate,
    pub kinds: BTreeSet<OperationKind>,
    pub accounts: BTreeSet<String>,
    pub permission_sets: BTreeSet<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// One real reason of the group, for reading in full.
    pub example: String,
    /// Every request of the group, so the table can be filtered to them.
    #[serde(skip)]
    pub requests: BTreeSet<(OperationKind, String)>,
}

impl FailureGroup {
    /// Whether this is the group of requests whose reason is not read yet.
    pub fn is_pending(&self) -> bool {
        self.key == NOT_DESCRIBED
    }
}

/// What a group is keyed by: one group per known cause on both clouds, whatever the ids,
/// names, principal types or policy names in the text; reasons no cause matches are grouped
/// by their normalised text, so an unknown failure still reads as the handful it is.
fn group_key(cause: Cause, pattern: &str) -> String {
    match cause {
        Cause::Other => pattern.to_string(),
        known => known.label().to_string(),
    }
}

/// Groups failed requests by cause: most requests first, then the most recent.
pub fn group<'a>(failed: impl IntoIterator<Item = FailedRequest<'a>>) -> Vec<FailureGroup> {
    group_sampled(failed, |_, _| false)
}

/// [`group`], with an estimate of each cause's share of all FAILED from the reasons read in
/// the random sample (`in_sample` says which requests were picked for it) while some reasons
/// are still unread.
pub fn group_sampled<'a>(
    failed: impl IntoIterator<Item = FailedRequest<'a>>,
    in_sample: impl Fn(OperationKind, &str) -> bool,
) -> Vec<FailureGroup> {
    let mut groups: BTreeMap<String, (FailureGroup, [CauseTally; 3])> = BTreeMap::new();
    let mut kinds = [KindTally::default(); 3];
    let mut total = 0usize;
    for f in failed {
        total += 1;
        let pattern = match (f.pattern, f.reason) {
            (Some(pattern), _) => pattern.to_string(),
            (None, Some(reason)) => normalise(reason),
            (None, None) => NOT_DESCRIBED.to_string(),
        };
        let cause = f.reason.map_or(Cause::Other, Cause::of);
        let key = if f.reason.is_some() {
            group_key(cause, &pattern)
        } else {
            NOT_DESCRIBED.to_string()
        };
        let (g, tallies) = groups.entry(key.clone()).or_insert_with(|| {
            (
                FailureGroup {
                    key,
                    pattern,
                    cause,
                    hint: if f.reason.is_some() {
                        cause.hint()
                    } else {
                        "their reasons are being read while this view is open: a random sample first, so the shares above are estimates until all are read"
                    },
                    count: 0,
                    estimate: estimate(&[], &[], 0),
                    kinds: BTreeSet::new(),
                    accounts: BTreeSet::new(),
                    permission_sets: BTreeSet::new(),
                    first_seen: f.created,
                    last_seen: f.created,
                    example: f.reason.unwrap_or_default().to_string(),
                    requests: BTreeSet::new(),
                },
                [CauseTally::default(); 3],
            )
        });
        g.count += 1;
        let k = f.kind.index();
        if f.reason.is_some() {
            tallies[k].read += 1;
            if in_sample(f.kind, f.request_id) {
                tallies[k].sampled += 1;
                kinds[k].sample += 1;
            }
        } else {
            kinds[k].unread += 1;
        }
        g.kinds.insert(f.kind);
        g.accounts.extend(f.account.map(str::to_string));
        g.permission_sets
            .extend(f.permission_set.map(str::to_string));
        g.first_seen = g.first_seen.min(f.created);
        g.last_seen = g.last_seen.max(f.created);
        g.requests.insert((f.kind, f.request_id.to_string()));
    }
    let mut out: Vec<FailureGroup> = groups
        .into_values()
        .map(|(mut g, tallies)| {
            g.estimate = if g.is_pending() {
                // The unread are counted exactly: they are what is left to read.
                let all_read = [CauseTally {
                    read: g.count,
                    sampled: 0,
                }];
                estimate(&all_read, &[KindTally::default()], total)
            } else {
                estimate(&tallies, &kinds, total)
            };
            g
        })
        .collect();
    out.sort_by(|a, b| {
        a.is_pending()
            .cmp(&b.is_pending())
            .then(b.estimate.count.total_cmp(&a.estimate.count))
            .then(b.count.cmp(&a.count))
            .then(b.last_seen.cmp(&a.last_seen))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_set_is_the_causes() {
        assert_eq!(CAUSE_LABELS.len(), Cause::ALL.len());
        for (cause, label) in Cause::ALL.into_iter().zip(CAUSE_LABELS) {
            assert_eq!(cause.label(), label);
        }
        let distinct: BTreeSet<&str> = CAUSE_LABELS.into_iter().collect();
        assert_eq!(distinct.len(), CAUSE_LABELS.len(), "labels are distinct");
        assert_eq!(
            cause_label("Cannot exceed quota for RolesPerAccount: 1000"),
            "role_quota"
        );
        assert_eq!(cause_label("something nobody has seen"), "other");
    }
}
