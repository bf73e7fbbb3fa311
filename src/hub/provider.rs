//! A [`Provider`] whose answers come from a hub: `wait --hub` runs the very same waiting code
//! on it, and spends the hub's budget only for what the hub does not know yet (a describe it
//! is asked for once, then shared with everyone).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::Command;
use super::client::{HubClient, HubTarget};
use super::known::Known;
use crate::model::{Described, Instance, NameKind, OperationKind, Page, Status};
use crate::poller::{DescribeRequest, Priority};
use crate::provider::{ErrorKind, Provider, ProviderError, ProviderInfo};

/// A snapshot younger than this is reused: the pages of one round read one snapshot.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// How long a describe waits for the hub's answer before saying "not yet" (the caller retries).
const DESCRIBE_WAIT: Duration = Duration::from_secs(5);

pub struct HubProvider {
    client: HubClient,
    info: ProviderInfo,
    last: Mutex<Option<(tokio::time::Instant, Arc<Known>)>>,
}

impl HubProvider {
    /// Reads the hub once: its provider and instance.
    pub async fn connect(target: HubTarget) -> anyhow::Result<(HubProvider, Instance)> {
        let client = HubClient::new(target)?;
        let snapshot = client.snapshot().await?;
        let mut info = snapshot.provider.clone();
        info.endpoint = Some(format!("hub {}", client.url()));
        let instance = snapshot.instance.clone();
        let known = Arc::new(Known::of(snapshot));
        Ok((
            HubProvider {
                client,
                info,
                last: Mutex::new(Some((tokio::time::Instant::now(), known))),
            },
            instance,
        ))
    }

    async fn known(&self, fresh: bool) -> Result<Arc<Known>, ProviderError> {
        if !fresh {
            let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, known)) = last.as_ref()
                && at.elapsed() < FRESH_FOR
            {
                return Ok(known.clone());
            }
        }
        let snapshot = self
            .client
            .snapshot()
            .await
            .map_err(|e| ProviderError::new(ErrorKind::Transient, format!("{e:#}")))?;
        let known = Arc::new(Known::of(snapshot));
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((tokio::time::Instant::now(), known.clone()));
        Ok(known)
    }
}

#[async_trait]
impl Provider for HubProvider {
    fn info(&self) -> ProviderInfo {
        self.info.clone()
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, ProviderError> {
        Err(ProviderError::new(
            ErrorKind::Unsupported,
            "a hub serves one instance",
        ))
    }

    /// Everything the hub knows of this kind (and status) as one page.
    async fn list_page(
        &self,
        _instance: &str,
        kind: OperationKind,
        status: Option<&Status>,
        _page_token: Option<&str>,
    ) -> Result<Page, ProviderError> {
        let known = self.known(false).await?;
        Ok(Page {
            items: known.rows(&[kind], status),
            next_token: None,
        })
    }

    async fn describe(
        &self,
        _instance: &str,
        kind: OperationKind,
        request_id: &str,
    ) -> Result<Described, ProviderError> {
        let key = (kind, request_id.to_string());
        let known = self.known(false).await?;
        if let Some(d) = known.described.get(&key) {
            return Ok(d.clone());
        }
        if !known.summaries.contains_key(&key) {
            // What the service says of an id it does not have (or of another kind).
            return Err(ProviderError::new(
                ErrorKind::NotFound,
                format!("the hub knows no {} request {request_id}", kind.label()),
            ));
        }
        let ask = Command::Describe(DescribeRequest {
            kind,
            request_id: request_id.to_string(),
            priority: Priority::Interactive,
        });
        self.client
            .send(&ask)
            .await
            .map_err(|e| ProviderError::new(ErrorKind::Transient, e))?;
        let start = tokio::time::Instant::now();
        while start.elapsed() < DESCRIBE_WAIT {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if let Some(d) = self.known(true).await?.described.get(&key) {
                return Ok(d.clone());
            }
        }
        Err(ProviderError::new(
            ErrorKind::Transient,
            format!("the hub has not described {request_id} yet"),
        ))
    }

    async fn permission_set_name(
        &self,
        _instance: &str,
        permission_set: &str,
    ) -> Result<Option<String>, ProviderError> {
        let known = self.known(false).await?;
        Ok(known
            .names
            .get(&(NameKind::PermissionSet, permission_set.to_string()))
            .cloned())
    }
}
