//! What `wait` prints at the end: text for people, JSON for machines.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use super::{Outcome, Tracked};
use crate::sanitize::clean_text;

/// One request in the report.
#[derive(Debug, Serialize)]
struct ReportEntry {
    kind: Option<&'static str>,
    request_id: String,
    status: String,
    created: Option<String>,
    failure_reason: Option<String>,
    target_account: Option<String>,
    permission_set: Option<String>,
    permission_set_name: Option<String>,
    principal_type: Option<String>,
    principal_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct Report {
    outcome: Outcome,
    total: usize,
    succeeded: usize,
    failed: usize,
    in_flight: usize,
    api_calls: u64,
    throttled: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    failures: Vec<ReportEntry>,
    in_flight_requests: Vec<ReportEntry>,
}

fn entry(id: &str, t: &Tracked) -> ReportEntry {
    let d = t.detail.clone().unwrap_or_default();
    let status = if t.not_found {
        "NOT_FOUND".to_string()
    } else {
        t.status
            .as_ref()
            .map_or("UNKNOWN".to_string(), |s| s.as_wire().to_string())
    };
    let failure_reason = if t.not_found {
        Some(format!(
            "not found as {} on this instance (check the id, --kind and the instance)",
            t.kind
                .map_or("any kind of request".to_string(), |k| format!(
                    "a {k} request"
                ))
        ))
    } else {
        d.failure_reason.as_deref().map(clean_text)
    };
    ReportEntry {
        kind: t.kind.map(|k| k.short()),
        request_id: id.to_string(),
        status,
        created: t
            .created
            .map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        failure_reason,
        target_account: d.target_account.as_deref().map(clean_text),
        permission_set: d.permission_set.as_deref().map(clean_text),
        permission_set_name: d.permission_set_name.as_deref().map(clean_text),
        principal_type: d.principal_type.as_deref().map(clean_text),
        principal_id: d.principal_id.as_deref().map(clean_text),
    }
}

/// The report over every tracked request; `calls` and `throttled` are the API spend.
pub(super) fn build_report(
    tracked: &BTreeMap<String, Tracked>,
    (calls, throttled): (u64, u64),
    outcome: Outcome,
    error: Option<String>,
) -> Report {
    let mut failures = Vec::new();
    let mut in_flight = Vec::new();
    let mut succeeded = 0;
    for (id, t) in tracked {
        if t.failed() {
            failures.push(entry(id, t));
        } else if t.finished() {
            succeeded += 1;
        } else {
            in_flight.push(entry(id, t));
        }
    }
    Report {
        outcome,
        total: tracked.len(),
        succeeded,
        failed: failures.len(),
        in_flight: in_flight.len(),
        api_calls: calls,
        throttled,
        error,
        failures,
        in_flight_requests: in_flight,
    }
}

pub(super) fn write_text(
    out: &mut impl Write,
    report: &Report,
    timeout: Duration,
) -> std::io::Result<()> {
    for f in &report.failures {
        let mut about = Vec::new();
        if let Some(a) = &f.target_account {
            about.push(format!("account {a}"));
        }
        match (&f.permission_set_name, &f.permission_set) {
            (Some(name), Some(ps)) => about.push(format!("permission set {name} ({ps})")),
            (None, Some(ps)) => about.push(format!("permission set {ps}")),
            _ => {}
        }
        if let Some(p) = &f.principal_id {
            about.push(format!(
                "{} {p}",
                f.principal_type.as_deref().unwrap_or("principal")
            ));
        }
        writeln!(
            out,
            "{} {} {}{}",
            f.status,
            f.kind.unwrap_or("?"),
            f.request_id,
            if about.is_empty() {
                String::new()
            } else {
                format!(": {}", about.join(", "))
            }
        )?;
        writeln!(
            out,
            "  reason: {}",
            f.failure_reason
                .as_deref()
                .unwrap_or("(the service gave none)")
        )?;
    }
    if report.outcome == Outcome::Timeout {
        writeln!(
            out,
            "timed out after {}: {} of {} requests still in flight:",
            humantime::format_duration(timeout),
            report.in_flight,
            report.total
        )?;
        for r in &report.in_flight_requests {
            writeln!(
                out,
                "{} {} {} created {}",
                r.status,
                r.kind.unwrap_or("?"),
                r.request_id,
                r.created.as_deref().unwrap_or("?")
            )?;
        }
    }
    writeln!(
        out,
        "{} requests: {} succeeded, {} failed, {} in flight ({} API calls, {} throttled)",
        report.total,
        report.succeeded,
        report.failed,
        report.in_flight,
        report.api_calls,
        report.throttled
    )
}
