//! `list --hub` and `failures --hub`: the headless commands on a hub's snapshot. No cloud
//! credentials and no Identity Center calls: the hub has read it all once for everyone.

use std::collections::HashMap;
use std::time::Duration;

use crate::failures::FailedRequest;
use crate::headless::{FailuresOptions, ListOptions};
use crate::hub::Snapshot;
use crate::hub::client::{HubClient, HubTarget};
use crate::hub::known::Known;
use crate::model::Status;
use crate::output;

/// How often `failures --hub --exact` asks again while the hub is still reading reasons.
const EXACT_POLL: Duration = Duration::from_secs(2);

async fn snapshot(target: &HubTarget) -> anyhow::Result<Snapshot> {
    let client = HubClient::new(target.clone())?;
    let snapshot = client.snapshot().await?;
    if !snapshot.health.loaded {
        eprintln!(
            "note: the hub at {} is still loading its first listing; this is what it has so far",
            client.url()
        );
    }
    Ok(snapshot)
}

/// `ssowatch list --hub URL`.
pub async fn list(target: &HubTarget, args: &ListOptions) -> anyhow::Result<()> {
    let known = Known::of(snapshot(target).await?);
    let rows = known.rows(&args.kind.kinds(), args.status.as_ref());
    crate::headless::write_stdout(|out| output::write_list(out, &rows, args.output))
}

/// `ssowatch failures --hub URL`: the hub's FAILED requests grouped by cause, from the
/// reasons the hub has read (it reads every one, in the background). Reasons it has not read
/// yet are one group of their own; `--exact` waits until there are none.
pub async fn failures(target: &HubTarget, args: &FailuresOptions) -> anyhow::Result<()> {
    let kinds = args.kind.kinds();
    let mut noted = false;
    let (provider, known) = loop {
        let snapshot = snapshot(target).await?;
        let provider = snapshot.provider.name.clone();
        let loaded = snapshot.health.loaded;
        let known = Known::of(snapshot);
        let failed = known.rows(&kinds, Some(&Status::Failed));
        let unread = failed
            .iter()
            .filter(|s| {
                !known
                    .described
                    .contains_key(&(s.kind, s.request_id.clone()))
            })
            .count();
        if !args.exact || (loaded && unread == 0) {
            break (provider, known);
        }
        if !noted {
            eprintln!("waiting for the hub to read {unread} more FAILED reasons (--exact)…");
            noted = true;
        }
        tokio::time::sleep(EXACT_POLL).await;
    };
    let failed = known.rows(&kinds, Some(&Status::Failed));
    let details: HashMap<&str, &crate::model::RequestDetail> = failed
        .iter()
        .filter_map(|s| {
            let d = known.described.get(&(s.kind, s.request_id.clone()))?;
            Some((s.request_id.as_str(), &d.detail))
        })
        .collect();
    let groups = crate::failures::group_sampled(
        failed
            .iter()
            .map(|s| FailedRequest::of(s, details.get(s.request_id.as_str()).copied())),
        |_, _| false,
    );
    let report = output::FailureReport {
        provider: &provider,
        groups: &groups,
        failed: failed.len(),
        // Every reason the hub read counts; the unread are their own group, not estimated.
        read: failed.len(),
        sampled: 0,
        details,
    };
    crate::headless::write_stdout(|out| output::write_failure_groups(out, &report, args.output))
}
