//! Provider-neutral types: what an Identity Center status request *is*, whichever cloud
//! answered. Providers translate their wire shapes into these, and everything above the
//! provider layer (poller, app state, UI, headless output) only ever sees these.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sanitize::clean_text;

/// The three asynchronous operations whose status Identity Center tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OperationKind {
    AssignmentCreation,
    AssignmentDeletion,
    PermissionSetProvisioning,
}

impl OperationKind {
    pub const ALL: [OperationKind; 3] = [
        OperationKind::AssignmentCreation,
        OperationKind::AssignmentDeletion,
        OperationKind::PermissionSetProvisioning,
    ];

    /// Human label, used for tab titles and table output.
    pub fn label(self) -> &'static str {
        match self {
            OperationKind::AssignmentCreation => "Assignment creation",
            OperationKind::AssignmentDeletion => "Assignment deletion",
            OperationKind::PermissionSetProvisioning => "Permission-set provisioning",
        }
    }

    /// Short machine name, the one the CLI accepts and the JSON/CSV output carries.
    pub fn short(self) -> &'static str {
        match self {
            OperationKind::AssignmentCreation => "creation",
            OperationKind::AssignmentDeletion => "deletion",
            OperationKind::PermissionSetProvisioning => "provisioning",
        }
    }

    pub fn index(self) -> usize {
        match self {
            OperationKind::AssignmentCreation => 0,
            OperationKind::AssignmentDeletion => 1,
            OperationKind::PermissionSetProvisioning => 2,
        }
    }

    pub fn from_short(s: &str) -> Option<Self> {
        OperationKind::ALL.into_iter().find(|k| k.short() == s)
    }

    /// The AWS API operation that lists this kind (Huawei's list calls map one to one); a
    /// bounded set of names for logs and metrics.
    pub fn list_operation(self) -> &'static str {
        match self {
            OperationKind::AssignmentCreation => "ListAccountAssignmentCreationStatus",
            OperationKind::AssignmentDeletion => "ListAccountAssignmentDeletionStatus",
            OperationKind::PermissionSetProvisioning => "ListPermissionSetProvisioningStatus",
        }
    }

    /// The AWS API operation that describes one request of this kind.
    pub fn describe_operation(self) -> &'static str {
        match self {
            OperationKind::AssignmentCreation => "DescribeAccountAssignmentCreationStatus",
            OperationKind::AssignmentDeletion => "DescribeAccountAssignmentDeletionStatus",
            OperationKind::PermissionSetProvisioning => "DescribePermissionSetProvisioningStatus",
        }
    }
}

/// The short form of a permission set as tables show it: the last path segment of an AWS ARN
/// (`ps-0123…`), or a Huawei id as it is.
pub fn short_permission_set(permission_set: &str) -> &str {
    permission_set.rsplit('/').next().unwrap_or(permission_set)
}

/// Which kinds a command reads: one of them, or all three. The commands take this rather than
/// a list so that a message can name what the user asked for ("not found as a creation
/// request").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindSelection {
    Creation,
    Deletion,
    Provisioning,
    All,
}

impl KindSelection {
    pub fn kinds(self) -> Vec<OperationKind> {
        match self {
            KindSelection::Creation => vec![OperationKind::AssignmentCreation],
            KindSelection::Deletion => vec![OperationKind::AssignmentDeletion],
            KindSelection::Provisioning => vec![OperationKind::PermissionSetProvisioning],
            KindSelection::All => OperationKind::ALL.to_vec(),
        }
    }

    /// The word the command line uses for it (`--kind creation`).
    pub fn name(self) -> &'static str {
        match self {
            KindSelection::Creation => "creation",
            KindSelection::Deletion => "deletion",
            KindSelection::Provisioning => "provisioning",
            KindSelection::All => "all",
        }
    }
}

/// A command line that is wrong in a way the parser cannot see (a request id that is not an
/// id): `main` reports it like a parse error, with the command line's exit code. It lives
/// here, not in `cli`, so that the commands that find such errors need not import `cli`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short())
    }
}

/// Status of one request. Unknown values are kept verbatim (sanitized) so that a status the
/// service adds tomorrow is shown rather than breaking parsing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    InProgress,
    Failed,
    Succeeded,
    Unknown(String),
}

impl Status {
    pub fn from_wire(s: &str) -> Status {
        match s {
            "IN_PROGRESS" => Status::InProgress,
            "FAILED" => Status::Failed,
            "SUCCEEDED" => Status::Succeeded,
            other => Status::Unknown(clean_text(other)),
        }
    }

    pub fn as_wire(&self) -> &str {
        match self {
            Status::InProgress => "IN_PROGRESS",
            Status::Failed => "FAILED",
            Status::Succeeded => "SUCCEEDED",
            Status::Unknown(s) => s,
        }
    }

    /// Finished requests never change again, which is what lets them be described once and
    /// cached forever. A status we do not know (a value the service added after this build, such
    /// as `CANCELLED`) is never in the IN_PROGRESS list, so tracking it as in flight would
    /// describe it again every round: for polling it is final, and it is shown as it came.
    pub fn is_finished(&self) -> bool {
        !matches!(self, Status::InProgress)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_wire())
    }
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_wire())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Status::from_wire(&s))
    }
}

/// One entry of a List*Status page: all a list call tells about a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSummary {
    pub kind: OperationKind,
    pub request_id: String,
    pub status: Status,
    pub created: DateTime<Utc>,
}

/// What a Describe*Status call adds. Every field is optional because the two clouds and the
/// three kinds fill in different subsets, and a malformed answer must not lose the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestDetail {
    pub failure_reason: Option<String>,
    /// The target account (TargetId for assignments, AccountId for provisioning).
    pub target_account: Option<String>,
    pub target_type: Option<String>,
    /// Permission set ARN (AWS) or id (Huawei).
    pub permission_set: Option<String>,
    /// Friendly permission-set name, when DescribePermissionSet has been asked.
    pub permission_set_name: Option<String>,
    pub principal_type: Option<String>,
    pub principal_id: Option<String>,
    /// The principal's name (a user's user name, a group's display name), when resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_name: Option<String>,
    /// The target account's name, when resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
}

/// The ids the status APIs speak in, and which have names worth showing instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NameKind {
    User,
    Group,
    Account,
    PermissionSet,
}

impl NameKind {
    /// The API operation that resolves one name of this kind (AWS names; Huawei's map to them).
    pub fn operation(self) -> &'static str {
        match self {
            NameKind::User => "DescribeUser",
            NameKind::Group => "DescribeGroup",
            NameKind::Account => "DescribeAccount",
            NameKind::PermissionSet => "DescribePermissionSet",
        }
    }

    /// The kind of name a principal id has, from its `PrincipalType` (`USER` or `GROUP`).
    pub fn of_principal(principal_type: &str) -> Option<NameKind> {
        match principal_type {
            "USER" => Some(NameKind::User),
            "GROUP" => Some(NameKind::Group),
            _ => None,
        }
    }
}

impl RequestDetail {
    /// The ids of this detail that have names, with the kind of each.
    pub fn named_ids(&self) -> Vec<(NameKind, &str)> {
        let mut ids = Vec::new();
        if let Some(ps) = &self.permission_set {
            ids.push((NameKind::PermissionSet, ps.as_str()));
        }
        if let Some(account) = &self.target_account {
            ids.push((NameKind::Account, account.as_str()));
        }
        if let (Some(kind), Some(id)) = (
            self.principal_type
                .as_deref()
                .and_then(NameKind::of_principal),
            &self.principal_id,
        ) {
            ids.push((kind, id.as_str()));
        }
        ids
    }

    /// Fills in the name of `id` if this detail refers to it; returns whether it changed.
    pub fn set_name(&mut self, kind: NameKind, id: &str, name: &str) -> bool {
        let slot = match kind {
            NameKind::PermissionSet if self.permission_set.as_deref() == Some(id) => {
                &mut self.permission_set_name
            }
            NameKind::Account if self.target_account.as_deref() == Some(id) => {
                &mut self.account_name
            }
            NameKind::User | NameKind::Group
                if self.principal_id.as_deref() == Some(id)
                    && self
                        .principal_type
                        .as_deref()
                        .and_then(NameKind::of_principal)
                        == Some(kind) =>
            {
                &mut self.principal_name
            }
            _ => return false,
        };
        if slot.as_deref() == Some(name) {
            return false;
        }
        *slot = Some(name.to_string());
        true
    }
}

/// The answer to one Describe*Status call: the current status plus the detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Described {
    pub summary: StatusSummary,
    pub detail: RequestDetail,
    /// The API operation that produced this answer (e.g. `DescribeAccountAssignmentCreationStatus`),
    /// shown in the detail pane so the operator knows where the data came from.
    pub source_call: String,
    pub described_at: DateTime<Utc>,
}

/// One page of a list call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub items: Vec<StatusSummary>,
    pub next_token: Option<String>,
}

/// An Identity Center instance: an ARN on AWS, an instance id on Huawei Cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// What every other call takes: the instance ARN (AWS) or instance id (Huawei).
    pub id: String,
    pub identity_store_id: Option<String>,
    /// A name to show: the alias (Huawei) or instance name (AWS) when there is one.
    pub name: Option<String>,
}
