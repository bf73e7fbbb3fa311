//! The API operation names. AWS SSO Admin and Huawei Cloud IAM Identity Center name their
//! operations the same way; the provider labels its errors with them and the emulator counts
//! and targets faults by them.

use crate::model::OperationKind;

pub const LIST_INSTANCES: &str = "ListInstances";
pub const DESCRIBE_PERMISSION_SET: &str = "DescribePermissionSet";

/// The name operations, on Identity Store (users, groups) and Organizations (accounts). Huawei's
/// identity store and Organizations calls are counted and faulted under the same names.
pub const DESCRIBE_USER: &str = "DescribeUser";
pub const DESCRIBE_GROUP: &str = "DescribeGroup";
pub const LIST_USERS: &str = "ListUsers";
pub const LIST_GROUPS: &str = "ListGroups";
pub const LIST_ACCOUNTS: &str = "ListAccounts";
pub const DESCRIBE_ACCOUNT: &str = "DescribeAccount";
pub const NAME_OPERATIONS: [&str; 6] = [
    DESCRIBE_USER,
    DESCRIBE_GROUP,
    LIST_USERS,
    LIST_GROUPS,
    LIST_ACCOUNTS,
    DESCRIBE_ACCOUNT,
];

/// `List*Status` of `kind`.
pub fn list(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::AssignmentCreation => "ListAccountAssignmentCreationStatus",
        OperationKind::AssignmentDeletion => "ListAccountAssignmentDeletionStatus",
        OperationKind::PermissionSetProvisioning => "ListPermissionSetProvisioningStatus",
    }
}

/// `Describe*Status` of `kind`.
pub fn describe(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::AssignmentCreation => "DescribeAccountAssignmentCreationStatus",
        OperationKind::AssignmentDeletion => "DescribeAccountAssignmentDeletionStatus",
        OperationKind::PermissionSetProvisioning => "DescribePermissionSetProvisioningStatus",
    }
}

/// The write operation that starts a request of `kind`: what a retry calls. The emulator
/// answers them so that a retry script can run against it; ssowatch itself never calls them.
pub fn write(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::AssignmentCreation => "CreateAccountAssignment",
        OperationKind::AssignmentDeletion => "DeleteAccountAssignment",
        OperationKind::PermissionSetProvisioning => "ProvisionPermissionSet",
    }
}

/// The kind a write operation starts.
pub fn parse_write(operation: &str) -> Option<OperationKind> {
    OperationKind::ALL
        .into_iter()
        .find(|&kind| operation == write(kind))
}

/// The kind and whether it is a list (`true`) or a describe, for a per-kind operation name.
pub fn parse(operation: &str) -> Option<(OperationKind, bool)> {
    OperationKind::ALL.into_iter().find_map(|kind| {
        if operation == list(kind) {
            Some((kind, true))
        } else if operation == describe(kind) {
            Some((kind, false))
        } else {
            None
        }
    })
}

/// Every operation name, for validating a name given by an operator.
pub fn all() -> Vec<&'static str> {
    let mut out = vec![LIST_INSTANCES, DESCRIBE_PERMISSION_SET];
    for kind in OperationKind::ALL {
        out.push(list(kind));
        out.push(describe(kind));
    }
    out.extend(NAME_OPERATIONS);
    out.extend(OperationKind::ALL.map(write));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for kind in OperationKind::ALL {
            assert_eq!(parse(list(kind)), Some((kind, true)));
            assert_eq!(parse(describe(kind)), Some((kind, false)));
        }
        assert_eq!(parse(LIST_INSTANCES), None);
        for kind in OperationKind::ALL {
            assert_eq!(parse_write(write(kind)), Some(kind));
            assert_eq!(parse(write(kind)), None);
        }
        assert_eq!(all().len(), 17);
    }
}
