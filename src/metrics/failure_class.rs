//! Failure reasons, normalised into a closed set of causes for label values.

/// The failure classes [`failure_class`] sorts reasons into: a closed set, so the failures
/// counter has at most `3 kinds x classes` series.
pub const FAILURE_CLASSES: [&str; 10] = [
    "policy_missing",
    "management_account",
    "account_unreachable",
    "role_quota",
    "access_denied",
    "conflicting_operation",
    "principal_missing",
    "assignment_missing",
    "internal_error",
    "other",
];

/// Sorts a free-text failure reason into a small closed set of causes, so failures can be
/// counted by cause without putting ids, ARNs or account numbers into label values.
///
/// The patterns follow the reasons Identity Center is known to return (see
/// `shared/reference/api-facts.md`); anything unrecognised is `other`.
pub fn failure_class(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| r.contains(n));
    if has(&[
        "not supported policy",
        "policy arn",
        "managed policy",
        "policy does not exist",
        "policy not found",
        "nosuchentity",
    ]) {
        "policy_missing"
    } else if has(&["management account", "master account"]) {
        "management_account"
    } else if has(&[
        "suspended",
        "unreachable",
        "obtaining permissions to manage your aws account",
        "account is closed",
        "not a member of the organization",
    ]) {
        "account_unreachable"
    } else if has(&[
        "quota",
        "limitexceeded",
        "limit exceeded",
        "cannot exceed quota",
        "roles per account",
    ]) {
        "role_quota"
    } else if has(&[
        "access denied",
        "accessdenied",
        "not authorized",
        "iam:updatesamlprovider",
        "awsreservedsso_",
    ]) {
        "access_denied"
    } else if has(&["conflicting operation", "conflictexception", "conflict"]) {
        "conflicting_operation"
    } else if has(&["assignee", "principal"]) && has(&["not found", "does not exist"]) {
        "principal_missing"
    } else if has(&["entitlementitem doesn't exist", "entitlement"]) {
        "assignment_missing"
    } else if has(&[
        "internal service exception",
        "internal error",
        "internalserver",
        "unable to complete your request",
        "try again",
    ]) {
        "internal_error"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_reasons_fall_into_their_class() {
        let cases = [
            (
                "Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/ReadOnlyAccess",
                "policy_missing",
            ),
            (
                "AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '908000000001' takes longer than usual.",
                "account_unreachable",
            ),
            (
                "The account 123456789012 is suspended",
                "account_unreachable",
            ),
            (
                "An unexpected internal service exception was encountered",
                "internal_error",
            ),
            (
                "Received a 404 status error: the GROUP assignee 9067-abc was not found in directory d-1234",
                "principal_missing",
            ),
            (
                "Received a 404 status error: EntitlementItem doesn't exist with the given entitlement key EntitlementKey{}",
                "assignment_missing",
            ),
            (
                "ConflictException: There is a conflicting operation in process.",
                "conflicting_operation",
            ),
            (
                "User: arn:aws:sts::1:assumed-role/x is not authorized to perform: iam:UpdateSAMLProvider",
                "access_denied",
            ),
            (
                "Cannot exceed quota for RolesPerAccount: 1000",
                "role_quota",
            ),
            (
                "A delegated administrator cannot manage the management account",
                "management_account",
            ),
            ("something nobody has seen", "other"),
        ];
        for (reason, class) in cases {
            assert_eq!(failure_class(reason), class, "{reason}");
            assert!(FAILURE_CLASSES.contains(&class));
        }
    }
}
