//! Huawei Cloud IAM Identity Center's REST names per kind: the path segments and the JSON
//! fields of list and describe answers (operation names are in [`super::operations`]). The provider builds its requests and
//! reads its answers from this table and the emulator routes and answers from it, so the two
//! cannot disagree on a name.

use crate::model::OperationKind;

/// The API's version prefix and the instances collection: `/v1/instances`.
pub const INSTANCES_PATH: [&str; 2] = ["v1", "instances"];

/// The collection of permission sets under an instance (`.../permission-sets/{id}`).
pub const PERMISSION_SETS_GROUP: &str = "permission-sets";

/// The Identity Center identity store API (SDK `huaweicloudsdkidentitycenterstore`):
/// `GET /v1/identity-stores/{identity_store_id}/users/{user_id}` and `.../groups/{group_id}`,
/// on `identitystore.{region}.myhuaweicloud.com`.
pub const IDENTITY_STORES_PATH: [&str; 2] = ["v1", "identity-stores"];
pub const USERS_GROUP: &str = "users";
pub const GROUPS_GROUP: &str = "groups";
/// Huawei Organizations (SDK `huaweicloudsdkorganizations`): `GET /v1/organizations/accounts`
/// (paged by `limit`/`marker`) and `.../accounts/{account_id}`, on one global endpoint.
pub const ACCOUNTS_PATH: [&str; 3] = ["v1", "organizations", "accounts"];
pub const ORGANIZATIONS_ENDPOINT: &str = "https://organizations.myhuaweicloud.com";
/// Region of the identity store when none is configured (the SDK's first listed region).
pub const DEFAULT_IDENTITY_STORE_REGION: &str = "cn-north-4";
/// Largest page of accounts Organizations returns.
pub const ACCOUNTS_PAGE_LIMIT: u32 = 100;

/// The names one kind of request has on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindNames {
    pub kind: OperationKind,
    /// Path segment after the instance id: `account-assignments` or `permission-sets`.
    pub group: &'static str,
    /// Last path segment of the list: `/v1/instances/{id}/{group}/{list_segment}`.
    pub list_segment: &'static str,
    /// Path segment before the request id: `/v1/instances/{id}/{group}/{describe_segment}/{rid}`.
    pub describe_segment: &'static str,
    /// The array in a list answer.
    pub list_field: &'static str,
    /// The object in a describe answer.
    pub describe_field: &'static str,
}

/// The names of every kind, in [`OperationKind::ALL`] order.
pub const KINDS: [KindNames; 3] = [
    KindNames {
        kind: OperationKind::AssignmentCreation,
        group: "account-assignments",
        list_segment: "creation-statuses",
        describe_segment: "creation-status",
        list_field: "account_assignments_creation_status",
        describe_field: "account_assignment_creation_status",
    },
    KindNames {
        kind: OperationKind::AssignmentDeletion,
        group: "account-assignments",
        list_segment: "deletion-statuses",
        describe_segment: "deletion-status",
        list_field: "account_assignments_deletion_status",
        describe_field: "account_assignment_deletion_status",
    },
    KindNames {
        kind: OperationKind::PermissionSetProvisioning,
        group: "permission-sets",
        list_segment: "provisioning-statuses",
        describe_segment: "provisioning-status",
        list_field: "permission_sets_provisioning_status",
        describe_field: "permission_set_provisioning_status",
    },
];

/// The wire names of `kind`.
pub fn names(kind: OperationKind) -> &'static KindNames {
    &KINDS[kind.index()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_kind_order() {
        for kind in OperationKind::ALL {
            assert_eq!(names(kind).kind, kind);
        }
    }
}
