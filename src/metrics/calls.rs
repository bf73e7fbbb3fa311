//! API calls by operation: the closed set of label values.

/// Every operation name the `operation` label can take (the AWS API names; a Huawei call is
/// counted under the name of its AWS equivalent, so one dashboard serves both clouds).
pub const OPERATIONS: [&str; 8] = [
    "ListInstances",
    "ListAccountAssignmentCreationStatus",
    "ListAccountAssignmentDeletionStatus",
    "ListPermissionSetProvisioningStatus",
    "DescribeAccountAssignmentCreationStatus",
    "DescribeAccountAssignmentDeletionStatus",
    "DescribePermissionSetProvisioningStatus",
    "DescribePermissionSet",
];

/// Maps an operation name to its label value; anything unknown is `other`, so a caller can
/// never grow the label set.
pub(super) fn operation_label(operation: &str) -> &'static str {
    OPERATIONS
        .iter()
        .find(|&&op| op == operation)
        .copied()
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OperationKind;

    #[test]
    fn unknown_operations_do_not_grow_the_label_set() {
        assert_eq!(
            operation_label("DescribePermissionSet"),
            "DescribePermissionSet"
        );
        assert_eq!(operation_label("9f1c-some-request-id"), "other");
    }

    #[test]
    fn every_call_the_poller_makes_has_its_own_label() {
        for kind in OperationKind::ALL {
            assert_eq!(
                operation_label(kind.list_operation()),
                kind.list_operation()
            );
            assert_eq!(
                operation_label(kind.describe_operation()),
                kind.describe_operation()
            );
        }
    }
}
