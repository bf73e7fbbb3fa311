//! `ssowatch wait`: gate a pipeline on its rollout.
//!
//! A pipeline applies assignments, then needs to know whether they landed. `wait` takes the
//! request set (ids, the AWS CLI's JSON, or "everything since"), waits until every request in
//! it has finished, within the API budget, and exits 0 (all succeeded), 1 (some failed, each
//! printed with its full reason), 2 (timed out, what is in flight printed) or 3 (the set or the
//! service could not be read).
//!
//! It is frugal by design: each round lists only IN_PROGRESS requests of each kind (one page
//! in a normal rollout) and describes a tracked request once, when it leaves IN_PROGRESS, to
//! learn how it ended. It never describes every id every round.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{ArgGroup, Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio::time::Instant;

use crate::cli::KindArg;
use crate::config::Settings;
use crate::connect::connect;
use crate::model::{OperationKind, RequestDetail, Status, StatusSummary};
use crate::poller::budget::RateLimiter;
use crate::provider::{ErrorKind, Provider, ProviderError};
use crate::sanitize::clean_text;

/// `ssowatch wait` options.
#[derive(Debug, Clone, Args)]
#[command(
    group(
        ArgGroup::new("request_set")
            .required(true)
            .multiple(true)
            .args(["since", "request_id", "request_ids_from"])
    ),
    after_help = "Exit codes: 0 all succeeded; 1 one or more failed (each printed with its reason); \
2 the timeout passed (what is still in flight is printed); 3 the request set could not be read \
or the service refused the calls (credentials, permissions).\n\
Polls every --refresh seconds (default 10) within --api-budget."
)]
pub struct WaitArgs {
    /// Wait for every request of the chosen kinds created at or after TIME: a duration back
    /// from now (15m, 2h, 1h30m) or an RFC 3339 time (2026-05-01T12:00:00Z). The set is every
    /// such request that a full listing shows when wait starts, plus every one created since
    /// that a later poll sees IN_PROGRESS or the closing full listing shows. Requests that
    /// keep arriving keep wait waiting.
    #[arg(long, value_name = "DURATION|TIME", conflicts_with_all = ["request_id", "request_ids_from"])]
    pub since: Option<String>,
    /// A request id to wait for (repeatable).
    #[arg(long = "request-id", value_name = "ID")]
    pub request_id: Vec<String>,
    /// Read request ids from FILE, or stdin with '-': one id per line ('#' starts a comment),
    /// or the JSON that `aws sso-admin create-account-assignment`,
    /// `delete-account-assignment` or `provision-permission-set` prints (several documents
    /// one after another are fine).
    #[arg(long, value_name = "FILE")]
    pub request_ids_from: Option<PathBuf>,
    /// Which kinds of request to list and look ids up in.
    #[arg(long, value_enum, default_value = "all")]
    pub kind: KindArg,
    /// Give up after this long (exit 2). Examples: 30m, 1h, 90s.
    #[arg(long, default_value = "30m", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// Report format on stdout: text for people, json for machines.
    #[arg(long, short, value_enum, default_value = "text")]
    pub output: WaitOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WaitOutput {
    Text,
    Json,
}

/// One request named by the caller; the kind is known when the AWS CLI's JSON named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRef {
    pub kind: Option<OperationKind>,
    pub id: String,
}

/// Longest request id accepted (AWS ids are 36-character UUIDs; Huawei's are similar).
const MAX_ID_LEN: usize = 128;

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// The kind a key of the AWS CLI's (or Huawei's) JSON output names, e.g.
/// `AccountAssignmentCreationStatus` or `account_assignment_creation_status`.
fn kind_of_key(key: &str) -> Option<OperationKind> {
    let normal: String = key
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    match normal.as_str() {
        "accountassignmentcreationstatus" => Some(OperationKind::AssignmentCreation),
        "accountassignmentdeletionstatus" => Some(OperationKind::AssignmentDeletion),
        "permissionsetprovisioningstatus" => Some(OperationKind::PermissionSetProvisioning),
        _ => None,
    }
}

fn collect_ids(value: &serde_json::Value, kind: Option<OperationKind>, out: &mut Vec<RequestRef>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                let normal = key.replace('_', "").to_ascii_lowercase();
                if normal == "requestid"
                    && let Some(id) = v.as_str()
                {
                    out.push(RequestRef {
                        kind,
                        id: id.to_string(),
                    });
                } else {
                    collect_ids(v, kind_of_key(key).or(kind), out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_ids(v, kind, out)),
        _ => {}
    }
}

/// Parses a request-id file: the AWS CLI's JSON (one or more documents), or one id per line.
/// Duplicates are dropped, first occurrence kept.
pub fn parse_request_ids(text: &str) -> Result<Vec<RequestRef>, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let mut refs = Vec::new();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        for (n, value) in serde_json::Deserializer::from_str(trimmed)
            .into_iter::<serde_json::Value>()
            .enumerate()
        {
            let value =
                value.map_err(|e| format!("JSON document {} does not parse: {e}", n + 1))?;
            collect_ids(&value, None, &mut refs);
        }
        if refs.is_empty() {
            return Err("the JSON holds no RequestId".into());
        }
        if let Some(bad) = refs.iter().find(|r| !valid_id(&r.id)) {
            return Err(format!(
                "`{}` is not a request id",
                clean_text(&bad.id.chars().take(60).collect::<String>())
            ));
        }
    } else {
        for (n, line) in trimmed.lines().enumerate() {
            let id = line.split('#').next().unwrap_or("").trim();
            if id.is_empty() {
                continue;
            }
            if !valid_id(id) {
                return Err(format!(
                    "line {}: `{}` is not a request id (one id per line, or the AWS CLI's JSON)",
                    n + 1,
                    clean_text(&id.chars().take(60).collect::<String>())
                ));
            }
            refs.push(RequestRef {
                kind: None,
                id: id.to_string(),
            });
        }
    }
    let mut seen = HashSet::new();
    refs.retain(|r| seen.insert(r.id.clone()));
    Ok(refs)
}

/// `--since`: a duration back from `now`, or an RFC 3339 time.
pub fn parse_since(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = humantime::parse_duration(value.trim()).map_err(|_| {
        format!("--since `{}`: give a duration such as 15m or 2h, or an RFC 3339 time such as 2026-05-01T12:00:00Z", clean_text(value))
    })?;
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(|| format!("--since `{}` is too far back", clean_text(value)))
}

/// What wait was asked to wait for.
enum RequestSet {
    Ids(Vec<RequestRef>),
    Since(DateTime<Utc>),
}

fn read_request_set(args: &WaitArgs) -> Result<RequestSet, String> {
    if let Some(since) = &args.since {
        return parse_since(since, Utc::now()).map(RequestSet::Since);
    }
    let mut refs = Vec::new();
    for id in &args.request_id {
        if !valid_id(id) {
            return Err(format!(
                "--request-id `{}` is not a request id",
                clean_text(&id.chars().take(60).collect::<String>())
            ));
        }
        refs.push(RequestRef {
            kind: None,
            id: id.clone(),
        });
    }
    if let Some(path) = &args.request_ids_from {
        let (text, name) = if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read request ids from stdin: {e}"))?;
            (text, "stdin".to_string())
        } else {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            (text, path.display().to_string())
        };
        let from_file = parse_request_ids(&text).map_err(|e| format!("{name}: {e}"))?;
        if from_file.is_empty() {
            return Err(format!("{name} holds no request id"));
        }
        refs.extend(from_file);
    }
    let mut seen = HashSet::new();
    refs.retain(|r| seen.insert(r.id.clone()));
    Ok(RequestSet::Ids(refs))
}

/// Why a budgeted call gave no answer.
enum CallError {
    /// The service said no in a way waiting will not fix (or NotFound, for the caller).
    Provider(ProviderError),
    /// The timeout passed while waiting for budget or for the answer.
    Deadline,
}

/// Paces every call within the budget and backs off on throttling and transient failures,
/// which are retried until the deadline (never forever).
struct Pace {
    limiter: RateLimiter,
    start: Instant,
    deadline: Instant,
    calls: u64,
    throttled: u64,
    last_retryable: Option<ProviderError>,
}

impl Pace {
    async fn call<T, Fut>(&mut self, make: impl Fn() -> Fut) -> Result<T, CallError>
    where
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        loop {
            let now = self.start.elapsed();
            let ready = self.limiter.ready_at(now);
            if self.start + ready >= self.deadline {
                return Err(CallError::Deadline);
            }
            if ready > now || !self.limiter.try_acquire(now) {
                let at = (self.start + ready).max(Instant::now() + Duration::from_millis(5));
                tokio::time::sleep_until(at).await;
                continue;
            }
            self.calls += 1;
            let Ok(result) = tokio::time::timeout_at(self.deadline, make()).await else {
                return Err(CallError::Deadline);
            };
            match result {
                Ok(value) => {
                    self.limiter.on_success();
                    return Ok(value);
                }
                Err(error) if error.kind.is_retryable() => {
                    if error.kind == ErrorKind::Throttled {
                        self.throttled += 1;
                    }
                    let wait = self.limiter.on_pushback(self.start.elapsed());
                    tracing::warn!(%error, backoff_secs = wait.as_secs_f64(), "wait: retrying");
                    self.last_retryable = Some(error);
                }
                Err(error) => return Err(CallError::Provider(error)),
            }
        }
    }
}

/// One request wait follows.
#[derive(Debug, Clone)]
struct Tracked {
    kind: Option<OperationKind>,
    status: Option<Status>,
    created: Option<DateTime<Utc>>,
    detail: Option<RequestDetail>,
    /// Rounds in which no kind knew the id; after a few it is reported as not found.
    missing_rounds: u32,
    not_found: bool,
}

impl Tracked {
    fn new(kind: Option<OperationKind>) -> Tracked {
        Tracked {
            kind,
            status: None,
            created: None,
            detail: None,
            missing_rounds: 0,
            not_found: false,
        }
    }

    /// Nothing more to learn: SUCCEEDED (a listing is enough), FAILED (only ever set from a
    /// describe, so the reason is known), or not found.
    fn finished(&self) -> bool {
        self.not_found || self.status.as_ref().is_some_and(Status::is_finished)
    }

    fn failed(&self) -> bool {
        self.not_found || self.status == Some(Status::Failed)
    }
}

/// A request the service has not heard of after this many rounds is reported as failed
/// (a typo, another instance, or the wrong --kind): a gate must not pass on it.
const NOT_FOUND_ROUNDS: u32 = 3;

/// Shows progress on stderr: an indicatif bar on a terminal, a line per change otherwise.
enum Progress {
    Bar(ProgressBar),
    Lines,
}

impl Progress {
    fn new() -> Progress {
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        if std::io::stderr().is_terminal() && !dumb {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} finished, {msg}, ETA {eta}",
            )
            .expect("a valid template");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(250));
            Progress::Bar(bar)
        } else {
            Progress::Lines
        }
    }

    fn update(&self, done: u64, total: u64, failed: u64) {
        if let Progress::Bar(bar) = self {
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(format!("{failed} failed"));
        }
    }

    fn line(&self, text: &str) {
        match self {
            Progress::Bar(bar) => bar.println(text),
            Progress::Lines => eprintln!("{text}"),
        }
    }

    fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
    Timeout,
    Error,
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Succeeded => 0,
            Outcome::Failed => 1,
            Outcome::Timeout => 2,
            Outcome::Error => 3,
        }
    }
}

struct Waiter {
    provider: Arc<dyn Provider>,
    instance: String,
    pace: Pace,
    kinds: Vec<OperationKind>,
    since: Option<DateTime<Utc>>,
    tracked: BTreeMap<String, Tracked>,
    names: HashMap<String, Option<String>>,
    progress: Progress,
    refresh: Duration,
    /// Off while the initial `--since` listing reads what had finished before wait started:
    /// the summary line says how many, and failures are still printed once described.
    announce: bool,
}

/// Why waiting stopped early.
enum Stop {
    Deadline,
    Fatal(ProviderError),
}

impl From<CallError> for Stop {
    fn from(e: CallError) -> Stop {
        match e {
            CallError::Deadline => Stop::Deadline,
            CallError::Provider(error) => Stop::Fatal(error),
        }
    }
}

impl Waiter {
    /// Every page of one kind (optionally one status), within the budget.
    async fn list(
        &mut self,
        kind: OperationKind,
        status: Option<Status>,
    ) -> Result<Vec<StatusSummary>, Stop> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut tokens = HashSet::new();
        loop {
            let provider = &self.provider;
            let instance = &self.instance;
            let page = self
                .pace
                .call(|| provider.list_page(instance, kind, status.as_ref(), token.as_deref()))
                .await?;
            items.extend(page.items);
            match page.next_token {
                Some(next) if !next.is_empty() && tokens.insert(next.clone()) => {
                    token = Some(next);
                }
                _ => return Ok(items),
            }
        }
    }

    fn counts(&self) -> (u64, u64, u64) {
        let total = self.tracked.len() as u64;
        let done = self.tracked.values().filter(|t| t.finished()).count() as u64;
        let failed = self.tracked.values().filter(|t| t.failed()).count() as u64;
        (done, total, failed)
    }

    fn report_change(&self, id: &str) {
        let (done, total, failed) = self.counts();
        self.progress.update(done, total, failed);
        let Some(t) = self.tracked.get(id) else {
            return;
        };
        let status = if t.not_found {
            "NOT FOUND".to_string()
        } else {
            t.status
                .as_ref()
                .map_or_else(|| "?".to_string(), |s| s.as_wire().to_string())
        };
        let kind = t.kind.map_or("?", |k| k.short());
        let mut line = format!(
            "ssowatch wait: {kind} {id} {status} ({done}/{total} finished, {failed} failed)"
        );
        if let Some(reason) = t.detail.as_ref().and_then(|d| d.failure_reason.as_deref()) {
            line.push_str(&format!(": {}", clean_text(reason)));
        }
        if (self.announce && matches!(self.progress, Progress::Lines)) || t.failed() {
            self.progress.line(&line);
        }
    }

    /// Adds or updates a request a listing showed. Returns whether it is tracked.
    fn note_listed(&mut self, item: &StatusSummary) -> bool {
        let joins = self.since.is_some_and(|since| item.created >= since)
            && !self.tracked.contains_key(&item.request_id);
        if joins {
            self.tracked
                .insert(item.request_id.clone(), Tracked::new(Some(item.kind)));
        }
        let Some(t) = self.tracked.get_mut(&item.request_id) else {
            return false;
        };
        // Listed after all: it was not found only because the service had not caught up.
        t.not_found = false;
        t.missing_rounds = 0;
        if t.finished() && t.detail.is_some() {
            return true;
        }
        let changed = t.status.as_ref() != Some(&item.status);
        t.kind = Some(item.kind);
        t.created = Some(item.created);
        // A SUCCEEDED request from a listing needs no describe; a FAILED one does (for its
        // reason), so its status is only taken from the describe.
        if item.status == Status::Failed {
            // Reported once its describe brings the reason.
            return true;
        }
        t.status = Some(item.status.clone());
        if changed || joins {
            let id = item.request_id.clone();
            self.report_change(&id);
        }
        true
    }

    /// Describes one request that is not (or no longer) in flight, trying each kind when the
    /// kind is not known.
    async fn describe(&mut self, id: &str) -> Result<(), Stop> {
        let Some(known) = self.tracked.get(id).map(|t| t.kind) else {
            return Ok(());
        };
        let kinds = known.map_or_else(|| self.kinds.clone(), |k| vec![k]);
        for kind in kinds {
            let provider = &self.provider;
            let instance = &self.instance;
            match self
                .pace
                .call(|| provider.describe(instance, kind, id))
                .await
            {
                Ok(described) => {
                    let name = self.permission_set_name(&described.detail).await?;
                    if let Some(t) = self.tracked.get_mut(id) {
                        t.kind = Some(kind);
                        t.status = Some(described.summary.status.clone());
                        t.created = Some(described.summary.created);
                        let mut detail = described.detail;
                        detail.permission_set_name = detail.permission_set_name.or(name);
                        t.detail = Some(detail);
                        t.missing_rounds = 0;
                    }
                    if described.summary.status.is_finished() {
                        self.report_change(id);
                    }
                    return Ok(());
                }
                Err(CallError::Provider(e)) if e.kind == ErrorKind::NotFound => continue,
                Err(CallError::Provider(e)) if e.kind == ErrorKind::Validation => {
                    return Err(Stop::Fatal(ProviderError {
                        message: format!("request id {id} was refused: {}", e.message),
                        ..e
                    }));
                }
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(t) = self.tracked.get_mut(id) {
            t.missing_rounds += 1;
            if t.missing_rounds >= NOT_FOUND_ROUNDS {
                t.not_found = true;
                self.report_change(id);
            }
        }
        Ok(())
    }

    /// A permission set's name, asked once per permission set; a name is a nicety, so only
    /// the deadline and refusals stop the wait.
    async fn permission_set_name(
        &mut self,
        detail: &RequestDetail,
    ) -> Result<Option<String>, Stop> {
        let Some(ps) = detail.permission_set.as_deref() else {
            return Ok(None);
        };
        if detail.failure_reason.is_none() {
            return Ok(None);
        }
        if let Some(name) = self.names.get(ps) {
            return Ok(name.clone());
        }
        let provider = &self.provider;
        let instance = &self.instance;
        let name = match self
            .pace
            .call(|| provider.permission_set_name(instance, ps))
            .await
        {
            Ok(name) => name,
            Err(CallError::Deadline) => return Err(Stop::Deadline),
            Err(CallError::Provider(_)) => None,
        };
        self.names.insert(ps.to_string(), name.clone());
        Ok(name)
    }

    /// Every request of the kinds created since `--since`, from a full listing.
    async fn full_listing(&mut self) -> Result<(), Stop> {
        for kind in self.kinds.clone() {
            for item in self.list(kind, None).await? {
                self.note_listed(&item);
            }
        }
        Ok(())
    }

    /// One round: list what is in flight, then describe what left it.
    async fn round(&mut self) -> Result<(), Stop> {
        let mut in_flight = HashSet::new();
        for kind in self.kinds.clone() {
            for item in self.list(kind, Some(Status::InProgress)).await? {
                if self.note_listed(&item) {
                    in_flight.insert(item.request_id.clone());
                }
            }
        }
        let to_describe: Vec<String> = self
            .tracked
            .iter()
            .filter(|(id, t)| !in_flight.contains(*id) && !t.finished())
            .map(|(id, _)| id.clone())
            .collect();
        for id in to_describe {
            self.describe(&id).await?;
        }
        Ok(())
    }

    fn all_finished(&self) -> bool {
        self.tracked.values().all(Tracked::finished)
    }

    async fn wait(&mut self) -> Result<(), Stop> {
        if self.since.is_some() {
            self.announce = false;
            let listed = self.full_listing().await;
            self.announce = true;
            listed?;
        }
        let (done, total, failed) = self.counts();
        self.progress.update(done, total, failed);
        if matches!(self.progress, Progress::Lines) {
            self.progress.line(&format!(
                "ssowatch wait: {total} requests, {done} finished, {failed} failed"
            ));
        }
        let mut closing_listing_done = false;
        loop {
            let round_start = Instant::now();
            self.round().await?;
            if self.all_finished() {
                if self.since.is_some() && !closing_listing_done {
                    // Catch requests that started and finished between two rounds.
                    closing_listing_done = true;
                    self.full_listing().await?;
                    if !self.all_finished() {
                        continue;
                    }
                }
                return Ok(());
            }
            closing_listing_done = false;
            let next = round_start + self.refresh;
            if next >= self.pace.deadline {
                tokio::time::sleep_until(self.pace.deadline).await;
                return Err(Stop::Deadline);
            }
            tokio::time::sleep_until(next).await;
        }
    }
}

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
struct Report {
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

fn build_report(waiter: &Waiter, outcome: Outcome, error: Option<String>) -> Report {
    let mut failures = Vec::new();
    let mut in_flight = Vec::new();
    let mut succeeded = 0;
    for (id, t) in &waiter.tracked {
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
        total: waiter.tracked.len(),
        succeeded,
        failed: failures.len(),
        in_flight: in_flight.len(),
        api_calls: waiter.pace.calls,
        throttled: waiter.pace.throttled,
        error,
        failures,
        in_flight_requests: in_flight,
    }
}

fn write_text(out: &mut impl Write, report: &Report, timeout: Duration) -> std::io::Result<()> {
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

/// Runs `ssowatch wait` and exits with its code: 0, 1, 2 or 3.
pub async fn run(settings: &Settings, args: &WaitArgs) -> anyhow::Result<()> {
    let code = wait(settings, args).await;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

/// Does the waiting and the reporting; returns the exit code.
pub async fn wait(settings: &Settings, args: &WaitArgs) -> i32 {
    let set = match read_request_set(args) {
        Ok(set) => set,
        Err(message) => return setup_error(args, &message),
    };
    let start = Instant::now();
    let deadline = start + args.timeout;
    let connection = match tokio::time::timeout_at(deadline, connect_retrying(settings)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return setup_error(args, &format!("{e:#}")),
        Err(_) => return setup_error(args, "could not connect before the timeout"),
    };
    let mut kinds = args.kind.kinds();
    let (tracked, since) = match set {
        RequestSet::Ids(refs) => {
            for r in &refs {
                if let Some(k) = r.kind
                    && !kinds.contains(&k)
                {
                    kinds.push(k);
                }
            }
            let tracked = refs
                .into_iter()
                .map(|r| (r.id, Tracked::new(r.kind)))
                .collect();
            (tracked, None)
        }
        RequestSet::Since(since) => (BTreeMap::new(), Some(since)),
    };
    let mut waiter = Waiter {
        provider: connection.provider.clone(),
        instance: connection.instance.id.clone(),
        pace: Pace {
            limiter: RateLimiter::new(settings.api_budget_rps, rand::random()),
            start,
            deadline,
            calls: 0,
            throttled: 0,
            last_retryable: None,
        },
        kinds,
        since,
        tracked,
        names: HashMap::new(),
        progress: Progress::new(),
        refresh: settings.refresh,
        announce: true,
    };
    let result = waiter.wait().await;
    waiter.progress.finish();
    let (outcome, error) = match result {
        Ok(()) if waiter.tracked.values().any(Tracked::failed) => (Outcome::Failed, None),
        Ok(()) => (Outcome::Succeeded, None),
        Err(Stop::Deadline) => (
            Outcome::Timeout,
            waiter
                .pace
                .last_retryable
                .as_ref()
                .map(|e| format!("last error: {e}")),
        ),
        Err(Stop::Fatal(e)) => (Outcome::Error, Some(e.to_string())),
    };
    let report = build_report(&waiter, outcome, error.clone());
    drop(connection);
    if outcome == Outcome::Error
        && let Some(message) = &error
    {
        eprintln!("ssowatch: error: {}", clean_text(message));
    }
    if outcome == Outcome::Timeout
        && let Some(message) = &error
    {
        eprintln!("ssowatch wait: {}", clean_text(message));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match args.output {
        WaitOutput::Json => serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        WaitOutput::Text => write_text(&mut out, &report, args.timeout),
    };
    if written.and_then(|()| out.flush()).is_err() {
        // A closed stdout loses the report, not the verdict: the exit code still tells.
        tracing::warn!("cannot write the wait report");
    }
    outcome.exit_code()
}

/// How often connecting is tried: about 15 s of backoff in all, enough for throttling at the
/// start of a rollout or a blip, short enough that a wrong endpoint fails the job promptly.
const CONNECT_ATTEMPTS: u32 = 5;

/// Connects, retrying what waiting can fix (throttling in the middle of a rollout, a blip)
/// with exponential backoff, a few times; the caller's deadline bounds it too.
async fn connect_retrying(settings: &Settings) -> anyhow::Result<crate::connect::Connection> {
    let mut backoff = Duration::from_millis(500);
    let mut attempt = 1;
    loop {
        match connect(settings).await {
            Err(e)
                if attempt < CONNECT_ATTEMPTS
                    && e.chain().any(|c| {
                        c.downcast_ref::<ProviderError>()
                            .is_some_and(|p| p.kind.is_retryable())
                    }) =>
            {
                tracing::warn!(error = %format!("{e:#}"), "wait: connecting again");
                let jitter: f64 = rand::random_range(0.5..1.5);
                tokio::time::sleep(backoff.mul_f64(jitter)).await;
                backoff *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The set could not be read or the service not reached: one line, exit 3.
fn setup_error(args: &WaitArgs, message: &str) -> i32 {
    let message = clean_text(message).replace('\n', " ");
    eprintln!("ssowatch: error: {message}");
    if args.output == WaitOutput::Json {
        println!(
            "{}",
            serde_json::json!({ "outcome": Outcome::Error, "error": message })
        );
    }
    Outcome::Error.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1f2e3d4c-0000-4000-8000-000000000001";
    const B: &str = "1f2e3d4c-0000-4000-8000-000000000002";

    #[test]
    fn ids_one_per_line_with_comments_and_duplicates() {
        let refs = parse_request_ids(&format!("# rollout 42\n{A}\n\n  {B}  # second\n{A}\n"))
            .expect("parses");
        let ids: Vec<&str> = refs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, [A, B]);
        assert!(refs.iter().all(|r| r.kind.is_none()));
    }

    #[test]
    fn a_bad_line_names_its_number() {
        let err = parse_request_ids(&format!("{A}\nnot an id\n")).expect_err("refused");
        assert!(err.starts_with("line 2:"), "{err}");
    }

    #[test]
    fn the_aws_cli_json_gives_ids_and_kinds() {
        let text = format!(
            r#"{{
    "AccountAssignmentCreationStatus": {{
        "Status": "IN_PROGRESS",
        "RequestId": "{A}",
        "TargetId": "111122223333"
    }}
}}
{{"PermissionSetProvisioningStatus": {{"Status": "IN_PROGRESS", "RequestId": "{B}"}}}}
{{"account_assignment_deletion_status": {{"request_id": "c-3"}}}}"#
        );
        let refs = parse_request_ids(&text).expect("parses");
        assert_eq!(
            refs,
            vec![
                RequestRef {
                    kind: Some(OperationKind::AssignmentCreation),
                    id: A.into()
                },
                RequestRef {
                    kind: Some(OperationKind::PermissionSetProvisioning),
                    id: B.into()
                },
                RequestRef {
                    kind: Some(OperationKind::AssignmentDeletion),
                    id: "c-3".into()
                },
            ]
        );
    }

    #[test]
    fn json_without_an_id_or_broken_json_is_refused() {
        assert!(parse_request_ids(r#"{"Status": "IN_PROGRESS"}"#).is_err());
        assert!(parse_request_ids(r#"{"RequestId": "#).is_err());
    }

    fn pace(rate: f64, timeout: Duration) -> Pace {
        let start = Instant::now();
        Pace {
            limiter: RateLimiter::new(rate, 3),
            start,
            deadline: start + timeout,
            calls: 0,
            throttled: 0,
            last_retryable: None,
        }
    }

    fn throttled() -> ProviderError {
        ProviderError::new(ErrorKind::Throttled, "Rate exceeded")
    }

    #[tokio::test(start_paused = true)]
    async fn calls_keep_to_the_budget() {
        let mut pace = pace(2.0, Duration::from_secs(60));
        for _ in 0..9 {
            let answer: Result<(), CallError> = pace.call(|| async { Ok(()) }).await;
            assert!(answer.is_ok());
        }
        // Nine calls at two a second: the ninth starts 4 s after the first, not sooner.
        assert_eq!(pace.start.elapsed(), Duration::from_secs(4));
        assert_eq!(pace.calls, 9);
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_backs_off_then_succeeds() {
        let mut pace = pace(20.0, Duration::from_secs(60));
        let refusals = std::cell::Cell::new(2u32);
        let answer = pace
            .call(|| {
                let refuse = refusals.get() > 0;
                refusals.set(refusals.get().saturating_sub(1));
                async move { if refuse { Err(throttled()) } else { Ok(7) } }
            })
            .await;
        assert!(matches!(answer, Ok(7)));
        assert_eq!((pace.calls, pace.throttled), (3, 2));
        // Two backoffs of 1 s and 2 s, each with ±50% jitter: far more than the 0.1 s the
        // budget alone would ask for.
        assert!(
            pace.start.elapsed() >= Duration::from_millis(1500),
            "{:?}",
            pace.start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn endless_throttling_stops_at_the_deadline() {
        let mut pace = pace(20.0, Duration::from_secs(120));
        let answer: Result<(), CallError> = pace.call(|| async { Err(throttled()) }).await;
        assert!(matches!(answer, Err(CallError::Deadline)));
        assert!(pace.start.elapsed() <= Duration::from_secs(120));
        assert!(
            pace.throttled >= 3 && pace.throttled < 20,
            "backed off: {}",
            pace.throttled
        );
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_are_not_retried() {
        let mut pace = pace(20.0, Duration::from_secs(60));
        let answer: Result<(), CallError> = pace
            .call(|| async { Err(ProviderError::new(ErrorKind::Auth, "expired")) })
            .await;
        assert!(matches!(answer, Err(CallError::Provider(e)) if e.kind == ErrorKind::Auth));
        assert_eq!(pace.calls, 1);
    }

    #[test]
    fn since_takes_a_duration_or_a_time() {
        let now = DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("15m", now).expect("duration"),
            now - chrono::Duration::minutes(15)
        );
        assert_eq!(
            parse_since("2026-05-01T10:00:00+02:00", now).expect("time"),
            now - chrono::Duration::hours(4)
        );
        assert!(parse_since("yesterday", now).is_err());
    }
}
