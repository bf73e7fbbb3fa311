//! The adapter between the Huawei protocol and the emulated service: the simulated
//! organization seen through [`HuaweiBackend`], with Huawei's ids.

use super::huawei_wire::{
    HuaweiBackend, RecordPage, WireInstance, WirePermissionSet, WirePrincipal, WriteInput,
};
use super::service::EmulatorCore;
use crate::model::{NameKind, OperationKind, RequestDetail, Status, StatusSummary};

/// The account id the demo's Huawei instance URNs carry.
const DOMAIN_ID: &str = super::DEMO_HUAWEI_DOMAIN_ID;

impl HuaweiBackend for EmulatorCore {
    fn submit(
        &self,
        write: &WriteInput<'_>,
    ) -> Option<Result<(StatusSummary, RequestDetail), String>> {
        let (account, ps, principal) = {
            let org = self.org();
            let idx = org
                .instance_by_huawei_id(write.instance)
                .filter(|&i| i < self.visible_instances())?;
            if idx != 0 {
                return Some(Err("The instance holds no permission sets".into()));
            }
            let Some(ps) = org
                .permission_sets
                .iter()
                .position(|p| p.huawei_id == write.permission_set)
            else {
                return Some(Err(format!(
                    "The permission set {} does not exist",
                    write.permission_set
                )));
            };
            let Some(account) = org.account_index(write.target_id) else {
                return Some(Err(format!(
                    "The account {} does not exist",
                    write.target_id
                )));
            };
            let principal = match write.principal {
                None => (false, 0),
                Some((t, id)) => match org.principal_index(t, id) {
                    Some(p) => p,
                    None => return Some(Err(format!("The {t} {id} does not exist"))),
                },
            };
            (account, ps as u32, principal)
        };
        let r = self.submit(write.kind, account, ps, principal);
        let org = self.org();
        let now = self.now();
        Some(Ok((
            org.summary(write.kind, &r, now),
            org.detail(write.kind, &r, now, true),
        )))
    }

    fn principal(&self, store: &str, kind: NameKind, id: &str) -> Option<Option<WirePrincipal>> {
        let org = self.org();
        org.instances
            .iter()
            .take(self.visible_instances())
            .find(|i| i.identity_store_id == store)?;
        let found = match kind {
            NameKind::User => org
                .users
                .iter()
                .position(|u| u == id)
                .map(|i| WirePrincipal {
                    id: id.to_string(),
                    user_name: Some(org.user_names[i].clone()),
                    display_name: org.user_display_name(i).unwrap_or_default(),
                }),
            _ => org
                .groups
                .iter()
                .position(|g| g == id)
                .map(|i| WirePrincipal {
                    id: id.to_string(),
                    user_name: None,
                    display_name: org.group_names[i].clone(),
                }),
        };
        Some(found)
    }

    fn accounts(&self) -> Vec<(String, String)> {
        let org = self.org();
        org.accounts
            .iter()
            .cloned()
            .zip(org.account_names.iter().cloned())
            .collect()
    }

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
