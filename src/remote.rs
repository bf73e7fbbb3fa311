//! `list --hub` and `failures --hub`: the headless commands on a hub's snapshot. No cloud
//! credentials and no Identity Center calls: the hub has read it all once for everyone.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Duration;

use anyhow::Context;

use crate::failures::FailedRequest;
use crate::headless::{FailuresOptions, ListOptions};
use crate::hub::Snapshot;
use crate::hub::client::{HubClient, HubTarget};
use crate::model::{Described, NameKind, OperationKind, Status, StatusSummary};
use crate::output;
use crate::poller::Event;

/// How often `failures --hub --exact` asks again while the hub is still reading reasons.
const EXACT_POLL: Duration = Duration::from_secs(2);

/// What a snapshot says about each request: its latest summary, its detail when described.
struct Known {
    summaries: BTreeMap<(OperationKind, String), StatusSummary>,
    described: HashMap<(OperationKind, String), Described>,
    names: HashMap<(NameKind, String), String>,
}

impl Known {
    fn of(snapshot: Snapshot) -> Known {
        let mut known = Known {
            summaries: BTreeMap::new(),
            described: HashMap::new(),
            names: HashMap::new(),
        };
        for event in snapshot.events {
            match event {
                Event::Cached(all) => {
                    for d in all {
                        known.described_one(d);
                    }
                }
                Event::Described(d) => known.described_one(*d),
                Event::Records { items, .. } => {
                    for s in items {
                        known.summaries.insert((s.kind, s.request_id.clone()), s);
                    }
                }
                Event::Name { kind, id, name } => {
                    known.names.insert((kind, id), name);
                }
                _ => {}
            }
        }
        for d in known.described.values_mut() {
            let named: Vec<(NameKind, String)> = d
                .detail
                .named_ids()
                .into_iter()
                .map(|(kind, id)| (kind, id.to_string()))
                .collect();
            for (kind, id) in named {
                if let Some(name) = known.names.get(&(kind, id.clone())) {
                    d.detail.set_name(kind, &id, name);
                }
            }
        }
        known
    }

    fn described_one(&mut self, d: Described) {
        let key = (d.summary.kind, d.summary.request_id.clone());
        self.summaries
            .entry(key.clone())
            .or_insert(d.summary.clone());
        self.described.insert(key, d);
    }

    /// The asked kinds' requests (of one status, if asked), newest first, as `list` orders
    /// them.
    fn rows(&self, kinds: &[OperationKind], status: Option<&Status>) -> Vec<StatusSummary> {
        let mut rows: Vec<StatusSummary> = self
            .summaries
            .values()
            .filter(|s| kinds.contains(&s.kind) && status.is_none_or(|st| &s.status == st))
            .cloned()
            .collect();
        rows.sort_by(|a, b| {
            b.created
                .cmp(&a.created)
                .then_with(|| a.request_id.cmp(&b.request_id))
        });
        rows
    }
}

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
    write_stdout(|out| output::write_list(out, &rows, args.output))
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
        failed.iter().map(|s| {
            let detail = details.get(s.request_id.as_str());
            FailedRequest {
                kind: s.kind,
                request_id: &s.request_id,
                created: s.created,
                reason: detail.and_then(|d| d.failure_reason.as_deref()),
                pattern: None,
                account: detail.and_then(|d| d.target_account.as_deref()),
                permission_set: detail.and_then(|d| {
                    d.permission_set_name
                        .as_deref()
                        .or(d.permission_set.as_deref())
                }),
            }
        }),
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
    write_stdout(|out| output::write_failure_groups(out, &report, args.output))
}

fn write_stdout(
    write: impl FnOnce(&mut std::io::BufWriter<std::io::StdoutLock<'static>>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write(&mut out)
        .and_then(|()| out.flush())
        .context("cannot write the output")
}
