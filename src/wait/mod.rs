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

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio::time::Instant;

use crate::call_path::{CallPath, trouble_line};
use crate::config::Settings;
use crate::model::{KindSelection, OperationKind, RequestDetail, Status, StatusSummary};
use crate::provider::{CallError, ErrorKind, Provider, ProviderError};
use crate::sanitize::clean_text;

/// `ssowatch wait` options, filled by `main` from the command line. The set is named by
/// `since`, by ids, or by both ids sources (the command line guarantees at least one).
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// Every request of the chosen kinds created at or after this: a duration back from now
    /// or an RFC 3339 time, read by [`parse_since`].
    pub since: Option<String>,
    /// Request ids to wait for.
    pub request_id: Vec<String>,
    /// Read request ids from this file, or stdin with `-`.
    pub request_ids_from: Option<PathBuf>,
    /// Which kinds of request to list and look ids up in.
    pub kind: KindSelection,
    /// Give up after this long (exit 2).
    pub timeout: Duration,
    pub output: WaitOutput,
    /// Read the requests from this hub (`wait --hub URL`) instead of the cloud.
    pub hub: Option<crate::hub::client::HubTarget>,
}

/// The report's format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutput {
    /// For people.
    Text,
    /// For machines.
    Json,
}

mod report;
mod request_set;

use report::{build_report, write_text};
pub use request_set::{RequestRef, parse_request_ids, parse_since};
use request_set::{RequestSet, read_request_set};

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
    /// Every call, paced, retried and named through the scripts' one path, to the deadline.
    calls: CallPath,
    deadline: Instant,
    kinds: Vec<OperationKind>,
    since: Option<DateTime<Utc>>,
    tracked: BTreeMap<String, Tracked>,
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
        Ok(self.calls.list(kind, status.as_ref()).await?)
    }

    fn counts(&self) -> (u64, u64, u64) {
        let total = self.tracked.len() as u64;
        let done = self.tracked.values().filter(|t| t.finished()).count() as u64;
        let failed = self.tracked.values().filter(|t| t.failed()).count() as u64;
        (done, total, failed)
    }

    /// Updates the progress and, when `notable` (finished, or new to the set), prints a line
    /// on a non-terminal. Failures are always printed, with their reason.
    fn report_change(&self, id: &str, notable: bool) {
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
        if (notable && self.announce && matches!(self.progress, Progress::Lines)) || t.failed() {
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
            self.report_change(&id, joins || item.status.is_finished());
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
        let described = match self.calls.describe_any(&kinds, id).await {
            Ok(described) => described,
            Err(CallError::Provider(e)) if e.kind == ErrorKind::Validation => {
                return Err(Stop::Fatal(ProviderError {
                    message: format!("request id {id} was refused: {}", e.message),
                    ..e
                }));
            }
            Err(e) => return Err(e.into()),
        };
        let Some(described) = described else {
            if let Some(t) = self.tracked.get_mut(id) {
                t.missing_rounds += 1;
                if t.missing_rounds >= NOT_FOUND_ROUNDS {
                    t.not_found = true;
                    self.report_change(id, true);
                }
            }
            return Ok(());
        };
        let name = self.permission_set_name(&described.detail).await?;
        if let Some(t) = self.tracked.get_mut(id) {
            t.kind = Some(described.summary.kind);
            t.status = Some(described.summary.status.clone());
            t.created = Some(described.summary.created);
            let mut detail = described.detail;
            detail.permission_set_name = detail.permission_set_name.or(name);
            t.detail = Some(detail);
            t.missing_rounds = 0;
        }
        if described.summary.status.is_finished() {
            self.report_change(id, true);
        }
        Ok(())
    }

    /// A failed request's permission-set name, asked once per permission set; a name is a
    /// nicety, so only the deadline stops the wait.
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
        Ok(self.calls.permission_set_name(ps).await?)
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
            if next >= self.deadline {
                tokio::time::sleep_until(self.deadline).await;
                return Err(Stop::Deadline);
            }
            tokio::time::sleep_until(next).await;
        }
    }
}

/// Runs `ssowatch wait` and exits with its code: 0, 1, 2 or 3.
pub async fn run(settings: &Settings, args: &WaitOptions) -> anyhow::Result<()> {
    let code = wait(settings, args).await;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

/// Does the waiting and the reporting; returns the exit code.
pub async fn wait(settings: &Settings, args: &WaitOptions) -> i32 {
    let set = match read_request_set(args) {
        Ok(set) => set,
        Err(message) => return setup_error(args, &message),
    };
    let start = Instant::now();
    let deadline = start + args.timeout;
    let connected = match &args.hub {
        Some(target) => connect_hub(target).await,
        None => connect_retrying(settings, start, deadline).await,
    };
    let connection = match connected {
        Ok(c) => c,
        Err(ConnectStop::Fatal(e)) => return setup_error(args, &format!("{e:#}")),
        Err(ConnectStop::Deadline(trouble)) => return connect_timeout(args, &trouble),
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
        calls: CallPath::until(
            connection.provider.clone(),
            connection.instance.clone(),
            settings.headless_budget_rps,
            start,
            deadline,
        ),
        deadline,
        kinds,
        since,
        tracked,
        progress: Progress::new(),
        refresh: settings.refresh,
        announce: true,
    };
    let result = waiter.wait().await;
    waiter.progress.finish();
    let (outcome, error) = match result {
        Ok(()) if waiter.tracked.values().any(Tracked::failed) => (Outcome::Failed, None),
        Ok(()) => (Outcome::Succeeded, None),
        Err(Stop::Deadline) => (Outcome::Timeout, waiter.calls.trouble()),
        Err(Stop::Fatal(e)) => (Outcome::Error, Some(e.to_string())),
    };
    let report = build_report(
        &waiter.tracked,
        (waiter.calls.calls(), waiter.calls.throttled()),
        outcome,
        error.clone(),
    );
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

/// A connection whose provider is a hub: the same waiting code reads the hub's snapshot.
async fn connect_hub(
    target: &crate::hub::client::HubTarget,
) -> Result<crate::connect::Connection, ConnectStop> {
    let (provider, instance) = crate::hub::provider::HubProvider::connect(target.clone())
        .await
        .map_err(ConnectStop::Fatal)?;
    let info = provider.info();
    Ok(crate::connect::Connection {
        provider: Arc::new(provider),
        instance,
        info,
        emulator: None,
        discovered: false,
    })
}

/// Why connecting stopped.
enum ConnectStop {
    /// Waiting cannot fix it (credentials, configuration): exit 3 at once.
    Fatal(anyhow::Error),
    /// The timeout passed while the service kept failing: what wait saw.
    Deadline(String),
}

/// The longest pause between two connection attempts: a probe every few seconds.
const CONNECT_MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Connects, retrying what waiting can fix (throttling in the middle of a rollout, an outage,
/// a hang) until wait's own deadline, never giving up before it; one call per attempt, so
/// that wait knows what it saw when the deadline passes.
async fn connect_retrying(
    settings: &Settings,
    start: Instant,
    deadline: Instant,
) -> Result<crate::connect::Connection, ConnectStop> {
    let once = crate::provider::RetryPolicy {
        attempts: 1,
        ..crate::provider::RetryPolicy::DEFAULT
    };
    let mut backoff = Duration::from_millis(500);
    let mut failing_since: Option<Instant> = None;
    let mut last: Option<ProviderError> = None;
    let stop = |failing_since: Option<Instant>, last: Option<&ProviderError>| {
        let seen =
            trouble_line(failing_since.or(Some(start)), last, deadline).unwrap_or_else(|| {
                format!(
                    "the service did not answer for {}",
                    humantime::format_duration(Duration::from_secs(
                        deadline.saturating_duration_since(start).as_secs()
                    ))
                )
            });
        ConnectStop::Deadline(seen)
    };
    loop {
        let attempt =
            tokio::time::timeout_at(deadline, crate::connect::connect_with(settings, once)).await;
        match attempt {
            Ok(Ok(connection)) => return Ok(connection),
            Ok(Err(e)) => {
                let retryable = e
                    .chain()
                    .find_map(|c| c.downcast_ref::<ProviderError>())
                    .filter(|p| p.kind.is_retryable())
                    .cloned();
                let Some(error) = retryable else {
                    return Err(ConnectStop::Fatal(e));
                };
                tracing::warn!(%error, "wait: connecting again");
                // Nothing has worked since wait started.
                failing_since.get_or_insert(start);
                last = Some(error);
                let jitter: f64 = rand::random_range(0.5..1.5);
                let at = Instant::now() + backoff.mul_f64(jitter);
                if at >= deadline {
                    tokio::time::sleep_until(deadline).await;
                    return Err(stop(failing_since, last.as_ref()));
                }
                tokio::time::sleep_until(at).await;
                backoff = (backoff * 2).min(CONNECT_MAX_BACKOFF);
            }
            Err(_) => return Err(stop(failing_since, last.as_ref())),
        }
    }
}

/// The timeout passed before wait could even connect: exit 2 (the timeout), saying what it saw.
fn connect_timeout(args: &WaitOptions, trouble: &str) -> i32 {
    let message = format!(
        "{} before connecting; timed out after {}",
        clean_text(trouble).replace('\n', " "),
        humantime::format_duration(args.timeout)
    );
    eprintln!("ssowatch wait: {message}");
    if args.output == WaitOutput::Json {
        println!(
            "{}",
            serde_json::json!({ "outcome": Outcome::Timeout, "error": message })
        );
    }
    Outcome::Timeout.exit_code()
}

/// The set could not be read or the service not reached: one line, exit 3.
fn setup_error(args: &WaitOptions, message: &str) -> i32 {
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
