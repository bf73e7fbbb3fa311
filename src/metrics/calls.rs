//! API calls by operation and outcome: the label values, and the provider wrapper that
//! counts every call the product makes.

use std::sync::Arc;

use async_trait::async_trait;

use super::Metrics;
use crate::model::{Described, Instance, OperationKind, Page, Status};
use crate::provider::{ErrorKind, Provider, ProviderError, ProviderInfo};

/// The outcome of one API call, as the `outcome` label spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Ok,
    Throttled,
    Denied,
    Error,
}

impl CallOutcome {
    pub fn label(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Throttled => "throttled",
            CallOutcome::Denied => "denied",
            CallOutcome::Error => "error",
        }
    }

    pub fn of<T>(result: &Result<T, ProviderError>) -> CallOutcome {
        match result {
            Ok(_) => CallOutcome::Ok,
            Err(e) if e.kind == ErrorKind::Throttled => CallOutcome::Throttled,
            Err(e) if e.kind == ErrorKind::Auth => CallOutcome::Denied,
            Err(_) => CallOutcome::Error,
        }
    }
}

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

fn list_operation(kind: OperationKind) -> &'static str {
    OPERATIONS[1 + kind.index()]
}

fn describe_operation(kind: OperationKind) -> &'static str {
    OPERATIONS[4 + kind.index()]
}

/// Maps an operation name to its label value; anything unknown is `other`, so a caller can
/// never grow the label set.
pub(super) fn operation_label(operation: &str) -> &'static str {
    OPERATIONS
        .iter()
        .find(|&&op| op == operation)
        .copied()
        .unwrap_or("other")
}

/// A provider that counts every call it passes on, by operation and outcome. It wraps the real
/// provider, so the counts are exactly the calls the product made.
pub struct MeteredProvider {
    inner: Arc<dyn Provider>,
    metrics: Arc<Metrics>,
}

impl MeteredProvider {
    pub fn new(inner: Arc<dyn Provider>, metrics: Arc<Metrics>) -> MeteredProvider {
        MeteredProvider { inner, metrics }
    }

    fn note<T>(
        &self,
        operation: &str,
        result: Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        self.metrics
            .observe_call(operation, CallOutcome::of(&result));
        result
    }
}

#[async_trait]
impl Provider for MeteredProvider {
    fn info(&self) -> ProviderInfo {
        self.inner.info()
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, ProviderError> {
        let result = self.inner.list_instances().await;
        self.note("ListInstances", result)
    }

    async fn list_page(
        &self,
        instance: &str,
        kind: OperationKind,
        status: Option<&Status>,
        page_token: Option<&str>,
    ) -> Result<Page, ProviderError> {
        let result = self
            .inner
            .list_page(instance, kind, status, page_token)
            .await;
        self.note(list_operation(kind), result)
    }

    async fn describe(
        &self,
        instance: &str,
        kind: OperationKind,
        request_id: &str,
    ) -> Result<Described, ProviderError> {
        let result = self.inner.describe(instance, kind, request_id).await;
        self.note(describe_operation(kind), result)
    }

    async fn permission_set_name(
        &self,
        instance: &str,
        permission_set: &str,
    ) -> Result<Option<String>, ProviderError> {
        let result = self
            .inner
            .permission_set_name(instance, permission_set)
            .await;
        self.note("DescribePermissionSet", result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_operations_do_not_grow_the_label_set() {
        assert_eq!(
            operation_label("DescribePermissionSet"),
            "DescribePermissionSet"
        );
        assert_eq!(operation_label("9f1c-some-request-id"), "other");
    }
}
