//! Output of the headless commands: an aligned table for people, JSON and CSV for scripts.
//! Everything is written through one buffered writer, so 30,000 records print in a blink.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::app::table::RequestRow;
use crate::app::{AppState, ExportFormat};
use crate::failures::FailureGroup;
use crate::handoff;
use crate::model::{Described, RequestDetail, StatusSummary};

/// How a headless command writes what it found. Defined here, where it is used; `cli` maps its
/// `--output` flag onto it, so this module never imports the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// An aligned table (a field list for one request): for people.
    #[default]
    Table,
    Json,
    Csv,
}

/// A CSV cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or
/// carriage return first) gets a leading `'`, so that opening an export of hostile API text
/// never executes anything. JSON and the table keep the text as it is.
fn spreadsheet_safe(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        text
    }
}

/// One list row as JSON/CSV carry it (stable keys).
#[derive(Serialize)]
struct ListRow<'a> {
    kind: &'a str,
    request_id: Cow<'a, str>,
    status: Cow<'a, str>,
    created: String,
}

impl ListRow<'_> {
    fn spreadsheet_safe(self) -> Self {
        ListRow {
            request_id: spreadsheet_safe(self.request_id),
            status: spreadsheet_safe(self.status),
            ..self
        }
    }
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl<'a> From<&'a StatusSummary> for ListRow<'a> {
    fn from(s: &'a StatusSummary) -> Self {
        ListRow {
            kind: s.kind.short(),
            request_id: Cow::Borrowed(&s.request_id),
            status: Cow::Borrowed(s.status.as_wire()),
            created: rfc3339(s.created),
        }
    }
}

pub fn write_list(
    out: &mut impl Write,
    rows: &[StatusSummary],
    format: OutputFormat,
) -> io::Result<()> {
    match format {
        OutputFormat::Table => {
            writeln!(
                out,
                "{:<13} {:<11} {:<24} REQUEST ID",
                "KIND", "STATUS", "CREATED (UTC)"
            )?;
            for s in rows {
                writeln!(
                    out,
                    "{:<13} {:<11} {:<24} {}",
                    s.kind.short(),
                    s.status.as_wire(),
                    rfc3339(s.created),
                    s.request_id
                )?;
            }
        }
        OutputFormat::Json => {
            out.write_all(b"[")?;
            for (i, s) in rows.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(b"\n  ")?;
                serde_json::to_writer(&mut *out, &ListRow::from(s)).map_err(io::Error::from)?;
            }
            out.write_all(if rows.is_empty() { b"]\n" } else { b"\n]\n" })?;
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            for s in rows {
                w.serialize(ListRow::from(s).spreadsheet_safe())
                    .map_err(csv_error)?;
            }
            if rows.is_empty() {
                w.write_record(["kind", "request_id", "status", "created"])
                    .map_err(csv_error)?;
            }
            w.flush()?;
        }
    }
    Ok(())
}

/// The io error inside a csv error, kept as it is, so that the caller still sees a closed pipe
/// (`ssowatch list | head`) as `BrokenPipe` and ends quietly.
fn csv_error(e: csv::Error) -> io::Error {
    if !e.is_io_error() {
        return io::Error::other(e);
    }
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// A describe answer as JSON/CSV carry it.
#[derive(Serialize)]
struct DescribeRow<'a> {
    kind: &'a str,
    request_id: Cow<'a, str>,
    status: Cow<'a, str>,
    created: String,
    failure_reason: Option<Cow<'a, str>>,
    target_account: Option<Cow<'a, str>>,
    account_name: Option<Cow<'a, str>>,
    target_type: Option<Cow<'a, str>>,
    permission_set: Option<Cow<'a, str>>,
    permission_set_name: Option<Cow<'a, str>>,
    principal_type: Option<Cow<'a, str>>,
    principal_id: Option<Cow<'a, str>>,
    principal_name: Option<Cow<'a, str>>,
    source_call: &'a str,
}

impl<'a> DescribeRow<'a> {
    fn spreadsheet_safe(self) -> Self {
        let safe = |field: Option<Cow<'a, str>>| field.map(spreadsheet_safe);
        DescribeRow {
            request_id: spreadsheet_safe(self.request_id),
            status: spreadsheet_safe(self.status),
            failure_reason: safe(self.failure_reason),
            target_account: safe(self.target_account),
            account_name: safe(self.account_name),
            target_type: safe(self.target_type),
            permission_set: safe(self.permission_set),
            permission_set_name: safe(self.permission_set_name),
            principal_type: safe(self.principal_type),
            principal_id: safe(self.principal_id),
            principal_name: safe(self.principal_name),
            ..self
        }
    }
}

pub fn write_described(
    out: &mut impl Write,
    d: &Described,
    format: OutputFormat,
) -> io::Result<()> {
    let row = DescribeRow {
        kind: d.summary.kind.short(),
        request_id: Cow::Borrowed(&d.summary.request_id),
        status: Cow::Borrowed(d.summary.status.as_wire()),
        created: rfc3339(d.summary.created),
        failure_reason: d.detail.failure_reason.as_deref().map(Cow::Borrowed),
        target_account: d.detail.target_account.as_deref().map(Cow::Borrowed),
        account_name: d.detail.account_name.as_deref().map(Cow::Borrowed),
        target_type: d.detail.target_type.as_deref().map(Cow::Borrowed),
        permission_set: d.detail.permission_set.as_deref().map(Cow::Borrowed),
        permission_set_name: d.detail.permission_set_name.as_deref().map(Cow::Borrowed),
        principal_type: d.detail.principal_type.as_deref().map(Cow::Borrowed),
        principal_id: d.detail.principal_id.as_deref().map(Cow::Borrowed),
        principal_name: d.detail.principal_name.as_deref().map(Cow::Borrowed),
        source_call: &d.source_call,
    };
    match format {
        OutputFormat::Table => {
            let fields: [(&str, Option<&str>); 14] = [
                ("Kind", Some(d.summary.kind.label())),
                ("Request ID", Some(&*row.request_id)),
                ("Status", Some(&*row.status)),
                ("Created (UTC)", Some(&row.created)),
                ("Failure reason", row.failure_reason.as_deref()),
                ("Target account", row.target_account.as_deref()),
                ("  name", row.account_name.as_deref()),
                ("Target type", row.target_type.as_deref()),
                ("Permission set", row.permission_set.as_deref()),
                ("  name", row.permission_set_name.as_deref()),
                ("Principal type", row.principal_type.as_deref()),
                ("Principal id", row.principal_id.as_deref()),
                ("  name", row.principal_name.as_deref()),
                ("Source", Some(row.source_call)),
            ];
            for (name, value) in fields {
                if let Some(value) = value {
                    writeln!(out, "{name:<16}{value}")?;
                }
            }
        }
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &row).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.serialize(row.spreadsheet_safe()).map_err(csv_error)?;
            w.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OperationKind, Status};
    use chrono::TimeZone;

    fn rows() -> Vec<StatusSummary> {
        vec![StatusSummary {
            kind: OperationKind::AssignmentDeletion,
            request_id: "1f2e3d4c-0000-4000-8000-000000000001".into(),
            status: Status::Failed,
            created: chrono::Utc
                .timestamp_opt(1_650_989_104, 461_000_000)
                .single()
                .unwrap_or_default(),
        }]
    }

    fn render(format: OutputFormat) -> String {
        let mut buf = Vec::new();
        write_list(&mut buf, &rows(), format)
            .map_err(|e| e.to_string())
            .unwrap_or_default();
        String::from_utf8_lossy(&buf).into_owned()
    }

    #[test]
    fn json_has_stable_keys_and_parses() {
        let text = render(OutputFormat::Json);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(value[0]["kind"], "deletion");
        assert_eq!(value[0]["status"], "FAILED");
        assert_eq!(value[0]["created"], "2022-04-26T16:05:04.461Z");
        assert_eq!(
            value[0]["request_id"],
            "1f2e3d4c-0000-4000-8000-000000000001"
        );
    }

    #[test]
    fn csv_has_a_header_even_when_empty() {
        assert!(render(OutputFormat::Csv).starts_with("kind,request_id,status,created\ndeletion,"));
        let mut buf = Vec::new();
        let _ = write_list(&mut buf, &[], OutputFormat::Csv);
        assert_eq!(
            String::from_utf8_lossy(&buf),
            "kind,request_id,status,created\n"
        );
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_defused() {
        let mut hostile = rows();
        hostile[0].request_id = "=HYPERLINK(\"http://evil\")".into();
        hostile[0].status = Status::Unknown("+SUM(A1)".into());
        let mut buf = Vec::new();
        let _ = write_list(&mut buf, &hostile, OutputFormat::Csv);
        let text = String::from_utf8_lossy(&buf);
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains(",'+SUM(A1),"), "{text}");
        // JSON keeps the text as the API sent it.
        let mut buf = Vec::new();
        let _ = write_list(&mut buf, &hostile, OutputFormat::Json);
        assert!(String::from_utf8_lossy(&buf).contains("\"=HYPERLINK"));
    }

    #[test]
    fn table_aligns_columns() {
        let text = render(OutputFormat::Table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].find("STATUS"), lines[1].find("FAILED"));
        assert_eq!(lines[0].find("REQUEST ID"), lines[1].find("1f2e3d4c"));
    }
}

/// What `ssowatch failures` found: the groups, how many FAILED there are and how many of their
/// reasons were read, and the describe answers (for the accounts' and permission sets' ids and
/// names).
pub struct FailureReport<'a> {
    pub groups: &'a [FailureGroup],
    pub failed: usize,
    pub read: usize,
    /// Reasons read in the random sample that the estimates stand on (0 with `--exact`).
    pub sampled: usize,
    pub details: HashMap<&'a str, &'a RequestDetail>,
    /// The provider that answered (`aws`, `huawei`): hints speak its words.
    pub provider: &'a str,
}

impl FailureReport<'_> {
    fn estimated(&self) -> bool {
        self.read < self.failed
    }
}

/// An account a group touches: its id, and its name when known.
#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct AccountRef<'a> {
    id: Cow<'a, str>,
    name: Option<Cow<'a, str>>,
}

/// A permission set a group touches: its name when known, and its ARN (Huawei: its id).
#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct PermissionSetRef<'a> {
    name: Option<Cow<'a, str>>,
    arn: Cow<'a, str>,
}

/// One failure group as JSON/CSV carry it (stable keys; lists joined by `;` in CSV). `count`
/// is the best estimate while `estimated` is true, `low`..`high` its 95 % interval; `read` of
/// the group's requests had their reason read, out of `of` FAILED in all.
#[derive(Serialize)]
struct GroupRow<'a> {
    count: u64,
    estimated: bool,
    low: u64,
    high: u64,
    read: usize,
    of: usize,
    cause: &'static str,
    key: Cow<'a, str>,
    reason: Cow<'a, str>,
    hint: &'static str,
    kinds: Vec<&'static str>,
    accounts: Vec<AccountRef<'a>>,
    permission_sets: Vec<PermissionSetRef<'a>>,
    first_seen: String,
    last_seen: String,
    example: Cow<'a, str>,
    request_ids: Vec<Cow<'a, str>>,
}

impl<'a> GroupRow<'a> {
    fn new(g: &'a FailureGroup, report: &FailureReport<'a>) -> Self {
        let e = &g.estimate;
        let pending = g.is_pending();
        let mut accounts = BTreeSet::new();
        let mut permission_sets = BTreeSet::new();
        for (_, id) in &g.requests {
            let Some(detail) = report.details.get(id.as_str()) else {
                continue;
            };
            if let Some(account) = &detail.target_account {
                accounts.insert(AccountRef {
                    id: clean(account),
                    name: detail.account_name.as_deref().map(clean),
                });
            }
            if let Some(arn) = &detail.permission_set {
                permission_sets.insert(PermissionSetRef {
                    name: detail.permission_set_name.as_deref().map(clean),
                    arn: clean(arn),
                });
            }
        }
        GroupRow {
            count: e.count.round() as u64,
            estimated: e.estimated && !pending,
            low: e.low.floor() as u64,
            high: e.high.ceil() as u64,
            read: if pending { 0 } else { g.count },
            of: report.failed,
            cause: if pending {
                "reason_pending"
            } else {
                g.cause.label()
            },
            key: clean(&g.key),
            reason: clean(&g.pattern),
            hint: if pending {
                g.hint
            } else {
                g.cause.hint_for(report.provider)
            },
            kinds: g.kinds.iter().map(|k| k.short()).collect(),
            accounts: accounts.into_iter().collect(),
            permission_sets: permission_sets.into_iter().collect(),
            first_seen: rfc3339(g.first_seen),
            last_seen: rfc3339(g.last_seen),
            example: clean(&g.example),
            request_ids: if pending {
                Vec::new()
            } else {
                g.requests.iter().map(|(_, id)| clean(id)).collect()
            },
        }
    }

    /// `≈ 2,100`, `2,100`: how a person reads the count.
    fn count_label(&self) -> String {
        if self.estimated {
            format!("≈ {}", self.count)
        } else {
            self.count.to_string()
        }
    }
}

/// API text without control characters, before it reaches a terminal or a file.
fn clean(text: &str) -> Cow<'_, str> {
    Cow::Owned(crate::sanitize::clean_text(text))
}

/// `ssowatch failures`: the failure groups, most requests first, each with its count (an
/// estimate with its interval while not every reason is read).
pub fn write_failure_groups(
    out: &mut impl Write,
    report: &FailureReport<'_>,
    format: OutputFormat,
) -> io::Result<()> {
    let groups = report.groups;
    match format {
        OutputFormat::Table => {
            if groups.is_empty() {
                writeln!(out, "No FAILED request.")?;
            } else if report.estimated() {
                writeln!(
                    out,
                    "estimated from {} of {} FAILED (a random sample, stratified by kind and time; 95% intervals; --exact reads every reason)",
                    report.read, report.failed
                )?;
            }
            for g in groups {
                let row = GroupRow::new(g, report);
                let interval = if row.estimated {
                    format!(" ({}..{})", row.low, row.high)
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "{:>7}{interval}  {}  kinds {}  {} account(s)  {} permission set(s)  {} .. {}",
                    row.count_label(),
                    row.cause,
                    row.kinds.join(","),
                    row.accounts.len(),
                    row.permission_sets.len(),
                    row.first_seen,
                    row.last_seen
                )?;
                writeln!(out, "         {}", row.reason)?;
                writeln!(out, "         hint: {}", row.hint)?;
            }
        }
        OutputFormat::Json => {
            let rows: Vec<GroupRow> = groups.iter().map(|g| GroupRow::new(g, report)).collect();
            serde_json::to_writer_pretty(&mut *out, &rows).map_err(io::Error::from)?;
            out.write_all(b"\n")?;
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record([
                "count",
                "estimated",
                "low",
                "high",
                "read",
                "of",
                "cause",
                "reason",
                "hint",
                "kinds",
                "accounts",
                "permission_sets",
                "first_seen",
                "last_seen",
                "example",
            ])
            .map_err(csv_error)?;
            for g in groups {
                let row = GroupRow::new(g, report);
                let accounts: Vec<&str> = row.accounts.iter().map(|a| a.id.as_ref()).collect();
                let sets: Vec<&str> = row
                    .permission_sets
                    .iter()
                    .map(|p| p.name.as_deref().unwrap_or(&p.arn))
                    .collect();
                let cells: [Cow<str>; 15] = [
                    row.count.to_string().into(),
                    row.estimated.to_string().into(),
                    row.low.to_string().into(),
                    row.high.to_string().into(),
                    row.read.to_string().into(),
                    row.of.to_string().into(),
                    row.cause.into(),
                    row.reason.clone(),
                    row.hint.into(),
                    row.kinds.join(";").into(),
                    accounts.join(";").into(),
                    sets.join(";").into(),
                    row.first_seen.clone().into(),
                    row.last_seen.clone().into(),
                    row.example.clone(),
                ];
                w.write_record(cells.into_iter().map(|c| spreadsheet_safe(c).into_owned()))
                    .map_err(csv_error)?;
            }
            w.flush()?;
        }
    }
    Ok(())
}

/// One table row as an export carries it: every column, full reasons and names.
#[derive(Serialize)]
struct ExportRow<'a> {
    kind: &'static str,
    request_id: Cow<'a, str>,
    status: Cow<'a, str>,
    created: String,
    account: Option<Cow<'a, str>>,
    account_name: Option<Cow<'a, str>>,
    permission_set: Option<Cow<'a, str>>,
    permission_set_name: Option<Cow<'a, str>>,
    principal_type: Option<Cow<'a, str>>,
    principal_id: Option<Cow<'a, str>>,
    principal_name: Option<Cow<'a, str>>,
    failure_reason: Option<Cow<'a, str>>,
}

impl<'a> ExportRow<'a> {
    fn new(row: &'a RequestRow) -> ExportRow<'a> {
        let detail = row.answer.as_ref().map(|a| &a.detail);
        let field = |get: fn(&RequestDetail) -> &Option<String>| {
            detail.and_then(|d| get(d).as_deref()).map(clean)
        };
        ExportRow {
            kind: row.kind.short(),
            request_id: clean(&row.request_id),
            status: Cow::Borrowed(row.status.as_wire()),
            created: rfc3339(row.created),
            account: field(|d| &d.target_account),
            account_name: field(|d| &d.account_name),
            permission_set: field(|d| &d.permission_set),
            permission_set_name: field(|d| &d.permission_set_name),
            principal_type: field(|d| &d.principal_type),
            principal_id: field(|d| &d.principal_id),
            principal_name: field(|d| &d.principal_name),
            failure_reason: field(|d| &d.failure_reason),
        }
    }

    const HEADER: [&'static str; 12] = [
        "kind",
        "request_id",
        "status",
        "created",
        "account",
        "account_name",
        "permission_set",
        "permission_set_name",
        "principal_type",
        "principal_id",
        "principal_name",
        "failure_reason",
    ];

    /// The CSV record, in [`Self::HEADER`] order, each cell spreadsheet-safe.
    fn csv_record(self) -> impl Iterator<Item = String> + 'a {
        let text = |v: Option<Cow<'a, str>>| v.unwrap_or_default();
        [
            Cow::Borrowed(self.kind),
            self.request_id,
            self.status,
            Cow::Owned(self.created),
            text(self.account),
            text(self.account_name),
            text(self.permission_set),
            text(self.permission_set_name),
            text(self.principal_type),
            text(self.principal_id),
            text(self.principal_name),
            text(self.failure_reason),
        ]
        .into_iter()
        .map(|cell| spreadsheet_safe(cell).into_owned())
    }
}

/// Writes the dashboard's current view (tab, filters and sort as shown) to a new file in `dir`
/// and returns its path: `ssowatch-<tab>-<UTC time>.csv` or `.json`. CSV is spreadsheet-safe.
pub fn export_view(state: &AppState, dir: &Path, format: ExportFormat) -> io::Result<PathBuf> {
    let stamp = state.data.now.format("%Y%m%dT%H%M%SZ");
    let extension = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Json => "json",
        ExportFormat::Handoff => return export_handoff(state, dir),
    };
    // In the `F` view, the groups are what is shown: they are what is exported.
    if let Some(view) = state.view.mode.groups() {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("ssowatch-failure-groups-{stamp}.{extension}"));
        let mut out = io::BufWriter::new(new_file(&path)?);
        let as_format = match format {
            ExportFormat::Csv => OutputFormat::Csv,
            _ => OutputFormat::Json,
        };
        let details = crate::model::OperationKind::ALL
            .iter()
            .flat_map(|&k| state.table(k).rows())
            .filter_map(|r| Some((r.request_id.as_ref(), &r.answer.as_ref()?.detail)))
            .collect();
        let report = FailureReport {
            groups: &view.groups,
            failed: view.failed,
            read: view.failed - view.unread,
            sampled: view.sampled,
            details,
            provider: &state.data.connection.provider.name,
        };
        write_failure_groups(&mut out, &report, as_format)?;
        out.flush()?;
        return Ok(path);
    }
    let table = state.active_table();
    let rows: Vec<&RequestRow> = (0..table.view_len())
        .filter_map(|p| table.view_row(p))
        .collect();
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!(
        "ssowatch-{}-{stamp}.{extension}",
        state.view.active.short()
    ));
    let mut out = io::BufWriter::new(new_file(&path)?);
    match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(ExportRow::HEADER).map_err(csv_error)?;
            for row in &rows {
                w.write_record(ExportRow::new(row).csv_record())
                    .map_err(csv_error)?;
            }
            w.flush()?;
        }
        ExportFormat::Json | ExportFormat::Handoff => {
            let rows: Vec<ExportRow> = rows.iter().map(|r| ExportRow::new(r)).collect();
            serde_json::to_writer_pretty(&mut out, &rows).map_err(io::Error::from)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(path)
}

/// A new file only: never overwrite an earlier export.
fn new_file(path: &Path) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// `x` in the dashboard: the hand-off of what the view shows (the `F` view's group, or the
/// view's FAILED), as three new files in `dir`: `ssowatch-retry-<cause>-<UTC time>.sh` (the
/// retry script, executable), `.ids` (for `ssowatch wait --request-ids-from`) and
/// `.plan.json`. Returns the script's path.
pub fn export_handoff(state: &AppState, dir: &Path) -> io::Result<PathBuf> {
    let selection = crate::app::handoff::selection(state).map_err(io::Error::other)?;
    let (cloud, instance, requests) = (selection.cloud, &selection.instance, &selection.requests);
    let stamp = state.data.now.format("%Y%m%dT%H%M%SZ");
    std::fs::create_dir_all(dir)?;
    let stem = format!("ssowatch-retry-{}-{stamp}", selection.label);
    let script = dir.join(format!("{stem}.sh"));
    let files = [
        (
            script.clone(),
            handoff::retry_script(cloud, instance, requests),
        ),
        (dir.join(format!("{stem}.ids")), handoff::ids_file(requests)),
        (
            dir.join(format!("{stem}.plan.json")),
            serde_json::to_string_pretty(&handoff::plan_json(cloud, instance, requests))
                .map_err(io::Error::from)?
                + "\n",
        ),
    ];
    for (path, text) in &files {
        let mut file = new_file(path)?;
        file.write_all(text.as_bytes())?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(script)
}
