//! Failure reasons as a closed set of label values. The classifier itself is
//! [`crate::failures::Cause::of`], shared with the dashboard's failure groups and
//! `ssowatch failures`; metrics only keeps the label set bounded.

use crate::failures::Cause;

/// The failure classes [`failure_class`] sorts reasons into: a closed set, so the failures
/// counter has at most `3 kinds x classes` series.
pub const FAILURE_CLASSES: [&str; 10] = {
    let mut labels = [""; 10];
    let mut i = 0;
    while i < Cause::ALL.len() {
        labels[i] = cause_label(Cause::ALL[i]);
        i += 1;
    }
    labels
};

pub(crate) const fn cause_label(cause: Cause) -> &'static str {
    match cause {
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

/// Sorts a free-text failure reason into a label value, without ids, ARNs or account numbers.
pub fn failure_class(reason: &str) -> &'static str {
    Cause::of(reason).label()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_causes() {
        for cause in Cause::ALL {
            assert_eq!(cause_label(cause), cause.label());
            assert!(FAILURE_CLASSES.contains(&cause.label()));
        }
        assert_eq!(
            failure_class("Cannot exceed quota for RolesPerAccount: 1000"),
            "role_quota"
        );
        assert_eq!(failure_class("something nobody has seen"), "other");
    }
}
