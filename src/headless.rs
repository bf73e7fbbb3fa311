//! The headless commands, for scripts and for people without a TTY: `list` and `describe`.
//!
//! A script shares the account's 20 requests per second with the pipelines it watches, so every
//! call goes through the scripts' one call path ([`CallPath`]): paced by the limiter the
//! dashboard uses (at `--api-budget`, by default
//! [`crate::config::DEFAULT_HEADLESS_BUDGET_RPS`]), each failed call retried on one bounded
//! policy ([`crate::provider::RetryPolicy`]), each name asked once.

use std::io::Write;

use anyhow::{Context, bail};
use chrono::Offset;

use std::collections::HashMap;

use crate::call_path::CallPath;
use crate::config::{ProviderKind, Settings};
use crate::connect::{Connection, connect};
use crate::failures::{CAUSE_LABELS, Cause, FailedRequest};
use crate::handoff::{self, Cloud, FailedDetail, Handoff};
use crate::model::{
    KindSelection, OperationKind, RequestDetail, Status, StatusSummary, UsageError,
};
use crate::output::{self, OutputFormat};
use crate::provider::ProviderError;

/// The call path of one headless command, at the headless budget, with its connection: keep
/// the connection until the command ends (`--demo`'s emulator stops when it is dropped).
async fn script_calls(settings: &Settings) -> anyhow::Result<(Connection, CallPath)> {
    let connection = connect(settings).await?;
    let calls = CallPath::for_script(
        connection.provider.clone(),
        connection.instance.clone(),
        settings.headless_budget_rps,
    );
    Ok((connection, calls))
}

/// `ssowatch list` options, filled by `main` from the command line.
#[derive(Debug, Clone)]
pub struct ListOptions {
    pub kind: KindSelection,
    /// Only requests with this status (filtered by the service).
    pub status: Option<Status>,
    pub output: OutputFormat,
    /// The dashboard's `/` filter language ([`crate::app::filter`]): terms on account,
    /// permission set, principal or reason describe the requests the listing cannot decide.
    pub filter: Option<String>,
}

/// `ssowatch failures` options.
#[derive(Debug, Clone)]
pub struct FailuresOptions {
    pub kind: KindSelection,
    pub output: OutputFormat,
    /// Read every FAILED request's reason; without it, a random sample (stratified by kind and
    /// time, [`crate::estimate::SAMPLE_SIZE`] at most) and estimates with their intervals.
    pub exact: bool,
    /// Only the FAILED requests of this cause (a [`crate::failures::Cause`] label).
    pub cause: Option<String>,
    /// Hand the failures on (ids, retry script, JSON plan) instead of grouping them.
    pub handoff: Option<Handoff>,
}

/// `ssowatch describe` options.
#[derive(Debug, Clone)]
pub struct DescribeOptions {
    pub request_id: String,
    /// Which kind of request; without it each kind is tried.
    pub kind: Option<KindSelection>,
    pub output: OutputFormat,
}

/// Every page of the asked kinds, merged, newest first.
pub async fn fetch_list(
    calls: &mut CallPath,
    args: &ListOptions,
) -> Result<Vec<StatusSummary>, ProviderError> {
    let mut rows = Vec::new();
    for kind in args.kind.kinds() {
        rows.extend(calls.list(kind, args.status.as_ref()).await?);
    }
    // The service promises no order: sort client side.
    newest_first(&mut rows);
    Ok(rows)
}

/// Every FAILED request of the asked kinds (the service filters them), newest first.
async fn list_failed(
    calls: &mut CallPath,
    kind: KindSelection,
) -> Result<Vec<StatusSummary>, ProviderError> {
    let args = ListOptions {
        kind,
        status: Some(Status::Failed),
        output: OutputFormat::Table,
        filter: None,
    };
    fetch_list(calls, &args).await
}

/// Newest first, ties by request id: the order every listing prints in.
fn newest_first(rows: &mut [StatusSummary]) {
    rows.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.request_id.cmp(&b.request_id))
    });
}

pub async fn list(settings: &Settings, args: &ListOptions) -> anyhow::Result<()> {
    // A filter the language cannot read is a usage error, said before any call.
    let filter = match args.filter.as_deref().map(crate::app::filter::parse) {
        Some(Err(error)) => return Err(UsageError(format!("--filter: {error}")).into()),
        Some(Ok(filter)) => Some(filter),
        None => None,
    };
    let (_connection, mut calls) = script_calls(settings).await?;
    let mut rows = fetch_list(&mut calls, args).await?;
    if let Some(filter) = filter.filter(|f| !f.is_empty()) {
        rows = filter_list(&mut calls, &filter, rows, settings).await?;
    }
    write_stdout(|out| output::write_list(out, &rows, args.output))
}

/// What a filter reads of a listed record, described or not.
fn field_texts(
    s: &StatusSummary,
    detail: Option<&RequestDetail>,
) -> crate::app::filter::FieldTexts {
    crate::app::filter::FieldTexts::new(crate::app::filter::Values {
        id: &s.request_id,
        status: s.status.as_wire(),
        created: &crate::app::table::format_local(s.created, chrono::Utc.fix()),
        kind: s.kind.short(),
        detail,
    })
}

/// Keeps the records a filter admits. What the listing decides (id, status, kind) costs
/// nothing; only the records it leaves open are described, within the headless budget, once
/// each, with the names of their ids (each id named once), and stderr says how many.
async fn filter_list(
    calls: &mut CallPath,
    filter: &crate::app::filter::Filter,
    rows: Vec<StatusSummary>,
    settings: &Settings,
) -> anyhow::Result<Vec<StatusSummary>> {
    use crate::app::filter::Verdict;
    let total = rows.len();
    let mut open = Vec::new();
    let mut kept = Vec::new();
    for s in rows {
        let texts = field_texts(&s, None);
        match filter.verdict(&texts) {
            Verdict::Match => kept.push(s),
            Verdict::NoMatch => {}
            Verdict::Unknown if filter.verdict_listed(&texts) == Verdict::NoMatch => {}
            Verdict::Unknown => open.push(s),
        }
    }
    if open.is_empty() {
        return Ok(kept);
    }
    eprintln!(
        "--filter: describing {} of {} requests that the listing cannot decide, at up to {} calls/s",
        open.len(),
        total,
        settings.headless_budget_rps
    );
    let mut hints: Vec<String> = Vec::new();
    for s in open {
        let mut d = calls
            .describe(s.kind, &s.request_id)
            .await
            .map_err(ProviderError::from)
            .with_context(|| format!("cannot describe request {}", s.request_id))?;
        hints.extend(
            calls
                .name(&mut d.detail)
                .await
                .map_err(ProviderError::from)?,
        );
        // The describe's status is the newer one.
        let summary = StatusSummary {
            status: d.summary.status.clone(),
            ..s
        };
        if filter.verdict(&field_texts(&summary, Some(&d.detail))) == Verdict::Match {
            kept.push(summary);
        }
    }
    for hint in hints {
        eprintln!("note: {hint}");
    }
    newest_first(&mut kept);
    Ok(kept)
}

/// `ssowatch failures`: the FAILED requests of the asked kinds, grouped by cause as the
/// dashboard's `F` view groups them. By default a random sample of their reasons is read
/// (stratified by kind and time, as the `F` view reads them first) and each cause's count is
/// an estimate with its 95 % interval: 3,000 failures cost 200 describes, not 3,000. `--exact`
/// reads every reason. Within the headless budget either way.
pub async fn failures(settings: &Settings, args: &FailuresOptions) -> anyhow::Result<()> {
    let wanted = args.cause.as_deref().map(parse_cause).transpose()?;
    if let Some(handoff) = args.handoff {
        return failures_handoff(settings, args, handoff).await;
    }
    let (_connection, mut calls) = script_calls(settings).await?;
    let failed = list_failed(&mut calls, args.kind).await?;
    let to_read: Vec<&StatusSummary> = if args.exact {
        failed.iter().collect()
    } else {
        let candidates: Vec<crate::estimate::Candidate> = failed
            .iter()
            .map(|s| crate::estimate::Candidate {
                kind: s.kind,
                request_id: &s.request_id,
                created: s.created,
                picked: false,
                unread: true,
            })
            .collect();
        crate::estimate::read_order(&candidates, crate::estimate::SAMPLE_SIZE)
            .into_iter()
            .take_while(|(_, stage)| *stage == crate::estimate::Stage::Sample)
            .map(|(i, _)| &failed[i])
            .collect()
    };
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) && to_read.len() > 20 {
        // Reading reasons takes a while within the budget: say so rather than hang.
        eprintln!(
            "reading the reasons of {} of {} FAILED requests at up to {} calls/s…",
            to_read.len(),
            failed.len(),
            settings.headless_budget_rps
        );
    }
    let mut described = Vec::with_capacity(to_read.len());
    for summary in &to_read {
        let mut d = calls
            .describe(summary.kind, &summary.request_id)
            .await
            .map_err(ProviderError::from)
            .with_context(|| format!("cannot describe FAILED request {}", summary.request_id))?;
        if let Some(ps) = d.detail.permission_set.clone() {
            d.detail.permission_set_name = calls
                .permission_set_name(&ps)
                .await
                .map_err(ProviderError::from)?;
        }
        // The list said FAILED; the detail carries the reason.
        d.summary = (*summary).clone();
        described.push(d);
    }
    let by_id: HashMap<&str, &crate::model::Described> = described
        .iter()
        .map(|d| (d.summary.request_id.as_str(), d))
        .collect();
    let sampled = if args.exact { 0 } else { described.len() };
    let groups = crate::failures::group_sampled(
        failed
            .iter()
            .map(|s| FailedRequest::of(s, by_id.get(s.request_id.as_str()).map(|d| &d.detail))),
        |_, id| !args.exact && by_id.contains_key(id),
    );
    // The unread are in the causes' estimates: a "reason pending" line would count them twice.
    let groups: Vec<_> = groups
        .into_iter()
        .filter(|g| !g.is_pending() && wanted.is_none_or(|w| g.cause == w))
        .collect();
    let provider_name = calls.info().name;
    let report = output::FailureReport {
        provider: &provider_name,
        groups: &groups,
        failed: failed.len(),
        read: described.len(),
        sampled,
        details: described
            .iter()
            .map(|d| (d.summary.request_id.as_str(), &d.detail))
            .collect(),
    };
    write_stdout(|out| output::write_failure_groups(out, &report, args.output))
}

/// The cause `--cause` names, or one clear line listing the keys there are.
pub fn parse_cause(key: &str) -> Result<Cause, UsageError> {
    Cause::ALL
        .into_iter()
        .find(|c| c.label() == key)
        .ok_or_else(|| {
            UsageError(format!(
                "--cause '{}' is no cause: one of {}",
                crate::sanitize::clean_text(key),
                CAUSE_LABELS.join(", ")
            ))
        })
}

/// `ssowatch failures --output ids|retry|plan`: every FAILED request of the asked kinds is
/// described (every reason read, never a sample: a retry must name each request), those of
/// `--cause` (all causes without it) are kept, and handed on in the asked format
/// ([`crate::handoff`]).
pub async fn failures_handoff(
    settings: &Settings,
    args: &FailuresOptions,
    handoff: Handoff,
) -> anyhow::Result<()> {
    let wanted = args.cause.as_deref().map(parse_cause).transpose()?;
    let (_connection, mut calls) = script_calls(settings).await?;
    let failed = list_failed(&mut calls, args.kind).await?;
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) && failed.len() > 20 {
        eprintln!(
            "reading the reasons of {} FAILED requests at up to {} calls/s…",
            failed.len(),
            settings.headless_budget_rps
        );
    }
    let mut chosen = Vec::new();
    for summary in &failed {
        let d = calls
            .describe(summary.kind, &summary.request_id)
            .await
            .map_err(ProviderError::from)
            .with_context(|| format!("cannot describe FAILED request {}", summary.request_id))?;
        let cause = d
            .detail
            .failure_reason
            .as_deref()
            .map_or(Cause::Other, Cause::of);
        if wanted.is_none_or(|w| w == cause) {
            chosen.push(FailedDetail {
                kind: summary.kind,
                request_id: summary.request_id.clone(),
                cause,
                detail: d.detail,
            });
        }
    }
    let cloud = match settings.provider {
        ProviderKind::Aws => Cloud::Aws,
        ProviderKind::Huawei => Cloud::Huawei,
    };
    let instance = &calls.instance().id;
    let text = match handoff {
        Handoff::Ids => handoff::ids_file(&chosen),
        Handoff::Retry => handoff::retry_script(cloud, instance, &chosen),
        Handoff::Plan => {
            let mut json =
                serde_json::to_string_pretty(&handoff::plan_json(cloud, instance, &chosen))?;
            json.push('\n');
            json
        }
    };
    write_stdout(|out| out.write_all(text.as_bytes()))
}

/// Writes through one buffered lock of stdout. A closed pipe (`ssowatch list | head`) comes
/// back as an io error of kind `BrokenPipe`, which `main` treats as a normal end.
pub(crate) fn write_stdout(
    write: impl FnOnce(&mut std::io::BufWriter<std::io::StdoutLock<'static>>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write(&mut out)
        .and_then(|()| out.flush())
        .context("cannot write the output")
}

/// Checks a request id before any call, so that a typo gets a clear line instead of the
/// service's validation regex. AWS ids are UUIDs; Huawei documents its ids only as strings,
/// and they travel in a URL path, so they must be short and path-safe.
pub fn validate_request_id(provider: ProviderKind, id: &str) -> Result<(), UsageError> {
    let shown = crate::sanitize::clean_text(id);
    match provider {
        ProviderKind::Aws => {
            let is_uuid = id.len() == 36 && uuid::Uuid::try_parse(id).is_ok();
            if !is_uuid {
                return Err(UsageError(format!(
                    "'{shown}' is not an AWS request id: ids are UUIDs such as 7d9c0a4e-5b1f-4c2a-9e3d-0123456789ab (copy one from ssowatch list)"
                )));
            }
        }
        ProviderKind::Huawei => {
            let ok = (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err(UsageError(format!(
                    "'{shown}' is not a Huawei Cloud request id: ids are up to 64 letters, digits, '-' or '_' (copy one from ssowatch list)"
                )));
            }
        }
    }
    Ok(())
}

pub async fn describe(settings: &Settings, args: &DescribeOptions) -> anyhow::Result<()> {
    validate_request_id(settings.provider, &args.request_id)?;
    let (_connection, mut calls) = script_calls(settings).await?;
    let kinds = args
        .kind
        .map_or_else(|| OperationKind::ALL.to_vec(), |k| k.kinds());
    let found = calls
        .describe_any(&kinds, &args.request_id)
        .await
        .map_err(ProviderError::from)?;
    if let Some(mut described) = found {
        for hint in calls
            .name(&mut described.detail)
            .await
            .map_err(ProviderError::from)?
        {
            eprintln!("note: {hint}");
        }
        return write_stdout(|out| output::write_described(out, &described, args.output));
    }
    match args.kind {
        Some(kind) => bail!(
            "request {} was not found as a {} request (check the id, or try another --kind)",
            args.request_id,
            kind.name()
        ),
        None => bail!(
            "request {} was not found as any kind of request (check the id and the instance)",
            args.request_id
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_ids_must_be_uuids() {
        assert!(
            validate_request_id(ProviderKind::Aws, "7d9c0a4e-5b1f-4c2a-9e3d-0123456789ab").is_ok()
        );
        for bad in [
            "not-a-uuid",
            "7d9c0a4e5b1f4c2a9e3d0123456789ab",
            "",
            "7d9c0a4e-5b1f-4c2a-9e3d-0123456789ab\u{1b}[2J",
        ] {
            let err = validate_request_id(ProviderKind::Aws, bad)
                .err()
                .map(|e| e.0)
                .unwrap_or_default();
            assert!(err.contains("not an AWS request id"), "{bad:?}: {err}");
            assert!(!err.contains('\u{1b}'), "{err:?}");
        }
    }

    #[test]
    fn huawei_ids_must_be_short_and_path_safe() {
        assert!(
            validate_request_id(ProviderKind::Huawei, "9238e6aaaaaaaaaaaaaaaaaaaa4cad92").is_ok()
        );
        assert!(
            validate_request_id(ProviderKind::Huawei, "7d9c0a4e-5b1f-4c2a-9e3d-0123456789ab")
                .is_ok()
        );
        for bad in ["../../v1/instances", "a b", "", &"x".repeat(65)] {
            assert!(
                validate_request_id(ProviderKind::Huawei, bad).is_err(),
                "{bad:?}"
            );
        }
    }
}
