//! The adapter between the Huawei protocol and the emulated service: the simulated
//! organization seen through [`HuaweiBackend`], with Huawei's ids.

use super::huawei_wire::{HuaweiBackend, RecordPage, WireInstance, WirePermissionSet};
use super::service::EmulatorCore;
use crate::model::{OperationKind, RequestDetail, Status, StatusSummary};

/// The account id the demo's Huawei instance URNs carry.
const DOMAIN_ID: &str = super::DEMO_HUAWEI_DOMAIN_ID;

impl HuaweiBackend for EmulatorCore {
    fn instances(&self) -> Vec<WireInstance> {
        let org = self.org();
        org.instances
            .iter()
            .take(self.visible_instances())
            .map(|i| WireInstance {
                instance_id: i.huawei_id.clone(),
                identity_store_id: i.identity_store_id.clone(),
                alias: Some(i.name.to_lowercase()),
                instance_urn: format!("IdentityCenter::{DOMAIN_ID}:instance:{}", i.huawei_id),
            })
            .collect()
    }

    fn list(
        &self,
        instance: &str,
        kind: OperationKind,
        filter: Option<&Status>,
        from: usize,
        limit: usize,
    ) -> Option<RecordPage> {
        let org = self.org();
        let idx = org
            .instance_by_huawei_id(instance)
            .filter(|&i| i < self.visible_instances())?;
        if idx != 0 {
            return Some(RecordPage {
                items: Vec::new(),
                next: None,
            });
        }
        let now = self.now();
        let (items, next) = org.page(kind, filter, from, limit, now);
        Some(RecordPage {
            items: items
                .into_iter()
                .map(|r| org.summary(kind, r, now))
                .collect(),
            next,
        })
    }

    fn describe(
        &self,
        instance: &str,
        kind: OperationKind,
        request_id: &str,
    ) -> Option<Option<(StatusSummary, RequestDetail)>> {
        let org = self.org();
        let idx = org
            .instance_by_huawei_id(instance)
            .filter(|&i| i < self.visible_instances())?;
        let now = self.now();
        Some(
            (idx == 0)
                .then(|| org.find(kind, request_id))
                .flatten()
                .filter(|r| r.created <= now)
                .map(|r| (org.summary(kind, r, now), org.detail(kind, r, now, true))),
        )
    }

    fn permission_set(
        &self,
        instance: &str,
        permission_set: &str,
    ) -> Option<Option<WirePermissionSet>> {
        let org = self.org();
        org.instance_by_huawei_id(instance)
            .filter(|&i| i < self.visible_instances())?;
        Some(
            org.permission_set_by_huawei_id(permission_set)
                .map(|p| WirePermissionSet {
                    permission_set_id: p.huawei_id.clone(),
                    name: p.name.clone(),
                    description: Some(p.description.clone()),
                    created: p.created,
                    session_duration: "PT1H".to_string(),
                }),
        )
    }
}
