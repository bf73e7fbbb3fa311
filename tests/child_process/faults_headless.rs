//! The fault matrix for the headless commands: the real `ssowatch` binary runs `list` and
//! `describe` against the emulator (`ssowatch::emulator`, in process, on a clock that stands
//! still) with its faults switched on, one test per row. Every run is checked for: no panic,
//! one clear line on stderr when it fails (and none when it succeeds), the documented exit
//! code, no escape sequence or control character in any output, no credential in any output
//! or file it left behind, and a log file only its owner can read. Transient rows also check
//! that the command recovers by itself.
//!
//! Faults hit requests by sequence (a rule spent after its first `n` hits) or by a draw from
//! the emulator's seeded generator, never by the clock, so every run is the same. The
//! children run with `SSOWATCH_TEST_RETRY_BASE_MS=5` (see `RetryPolicy::from_env`) and
//! `--api-budget 20`, so that a fault that never ends costs seconds, not the real schedule's
//! half minute; the real schedule and the budget are tested in process, in paused time, at
//! the end of this file.

use crate::support::headless as headless_support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use headless_support::*;
use ssowatch::emulator::faults::HOSTILE_TEXT;
use ssowatch::emulator::{self, Clock, EmulatorConfig, EmulatorHandle, Fault, FaultRule, Stats};
use ssowatch::model::{Described, Instance, OperationKind, Page, Status, StatusSummary};
use ssowatch::provider::{
    ErrorKind, Provider, ProviderError, ProviderInfo, RetryPolicy, STALLED_PAGES,
};
use ssowatch::wire::operations;

/// Records of each kind: three pages of 100, the last one short.
const PER_KIND: usize = 250;

/// The emulator in process, on a runtime of its own (the tests run the binary synchronously),
/// with a fixed organization: `history` finished records of each kind, no live rollout, and a
/// manual clock nobody moves, so the same records in the same states on every run.
struct Server {
    // Fields drop in order: the server stops, then the runtime it ran on.
    handle: EmulatorHandle,
    _runtime: tokio::runtime::Runtime,
    url: String,
}

impl Server {
    /// [`PER_KIND`] records of each kind, with `rules` on from the first request.
    fn start(rules: Vec<FaultRule>) -> Server {
        Server::with(PER_KIND, 1, rules)
    }

    fn with(history: usize, seed: u64, rules: Vec<FaultRule>) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let config = EmulatorConfig {
            seed,
            history,
            rate: 0.0,
            failure_ratio: 0.2,
            ..EmulatorConfig::default()
        };
        config.faults.validate().expect("valid faults");
        let start = crate::support::start_time();
        let handle = runtime
            .block_on(emulator::start_with_clock(config, Clock::manual(start), 0))
            .expect("emulator");
        handle.faults(|f| f.rules = rules);
        Server {
            url: handle.base_url.clone(),
            handle,
            _runtime: runtime,
        }
    }

    fn handle(&self) -> &EmulatorHandle {
        &self.handle
    }

    fn stats(&self) -> Stats {
        self.handle().stats()
    }

    fn count(&self, operation: &str) -> usize {
        self.stats()
            .by_operation
            .get(operation)
            .map_or(0, |&n| n as usize)
    }

    /// Requests of the three `List*Status` operations.
    fn list_calls(&self) -> usize {
        OperationKind::ALL
            .into_iter()
            .map(|k| self.count(operations::list(k)))
            .sum()
    }

    /// The id of a record of `kind`, a FAILED one (with a reason) when `failed`.
    fn id(&self, kind: OperationKind, failed: bool) -> String {
        let core = self.handle().core();
        let org = core.org();
        org.requests(kind)
            .iter()
            .find(|r| r.failure_reason.is_some() == failed)
            .map(|r| r.request_id.clone())
            .expect("a record of that kind")
    }
}

/// `fault` on every operation it makes sense for.
fn everywhere(fault: Fault) -> Vec<FaultRule> {
    vec![FaultRule::always(fault)]
}

/// `fault` on the three `List*Status` operations.
fn on_lists(fault: Fault) -> Vec<FaultRule> {
    OperationKind::ALL
        .into_iter()
        .map(|k| FaultRule::on(fault, operations::list(k)))
        .collect()
}

/// `fault` on the three `Describe*Status` operations.
fn on_describes(fault: Fault) -> Vec<FaultRule> {
    OperationKind::ALL
        .into_iter()
        .map(|k| FaultRule::on(fault, operations::describe(k)))
        .collect()
}

/// Runs `ssowatch <args>` against `server`, and checks what every run must satisfy.
fn run_against(server: &Server, args: &[&str]) -> Run {
    let home = tempfile::tempdir().expect("tempdir");
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["--api-budget", "20"]);
    let r = finish(aws_command(&full, home.path(), &server.url));
    check_hygiene(&r, home.path(), &args.join(" "));
    r
}
/// No panic, no escape sequence or control character, no credential anywhere, a private log.
fn check_hygiene(r: &Run, home: &Path, what: &str) {
    assert!(r.status.code().is_some(), "{what}: killed by a signal");
    for (name, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        assert!(
            !text.contains("panicked"),
            "{what}: panic on {name}: {text}"
        );
        let bad = text.chars().find(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        });
        assert_eq!(bad, None, "{what}: control character on {name}");
        for secret in [SECRET, SESSION_TOKEN] {
            assert!(!text.contains(secret), "{what}: credential on {name}");
        }
    }
    for (path, bytes) in files_under(home) {
        let text = String::from_utf8_lossy(&bytes);
        for secret in [SECRET, SESSION_TOKEN] {
            assert!(
                !text.contains(secret),
                "{what}: credential in {}",
                path.display()
            );
        }
        if path.ends_with("ssowatch.log") {
            let risky = text
                .chars()
                .find(|&c| c.is_control() && c != '\n' && c != '\t');
            assert_eq!(risky, None, "{what}: control character in the log");
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{what}: log mode {mode:o}");
        }
    }
}

/// A failed run: one line, the exit code, and the words an operator needs.
fn assert_fails(r: &Run, code: i32, needles: &[&str], what: &str) {
    assert_one_line_error(r, what);
    assert_eq!(r.status.code(), Some(code), "{what}: {}", r.stderr);
    for needle in needles {
        assert!(
            r.stderr.contains(needle),
            "{what}: expected {needle:?} in {}",
            r.stderr
        );
    }
    for debug in [
        "ResponseError",
        "hyper::",
        "SdkBody",
        "HeaderValue",
        "Expected one of",
    ] {
        assert!(
            !r.stderr.contains(debug),
            "{what}: debug text: {}",
            r.stderr
        );
    }
}

/// A successful `list --output json` with every record of every kind, each once.
fn assert_full_listing(r: &Run, what: &str) -> Vec<serde_json::Value> {
    assert!(r.status.success(), "{what}: {}", r.stderr);
    assert!(r.stderr.is_empty(), "{what}: {}", r.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).expect("JSON array");
    assert_eq!(rows.len(), 3 * PER_KIND, "{what}");
    let ids: std::collections::HashSet<&str> = rows
        .iter()
        .filter_map(|r| r["request_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 3 * PER_KIND, "{what}: every id once");
    rows
}

const LIST_JSON: &[&str] = &["list", "--output", "json"];

#[test]
fn a_healthy_server_lists_every_record_once() {
    let server = Server::start(Vec::new());
    let r = run_against(&server, LIST_JSON);
    assert_full_listing(&r, "healthy");
    // Three pages per kind and one discovery: nothing wasted.
    assert_eq!(server.list_calls(), 9);
    assert_eq!(server.count(operations::LIST_INSTANCES), 1);
}

#[test]
fn the_binary_spaces_its_calls_by_the_budget_five_per_second_by_default() {
    for (budget, min_gap) in [(None, 160), (Some("2"), 400)] {
        let server = Server::start(Vec::new());
        let home = tempfile::tempdir().expect("tempdir");
        let mut args = vec!["list", "--output", "json"];
        args.extend(budget.iter().flat_map(|b| ["--api-budget", *b]));
        let r = finish(aws_command(&args, home.path(), &server.url));
        assert_full_listing(&r, &format!("budget {budget:?}"));
        // When each Identity Center request arrived (epoch ms): discovery, then nine lists.
        let arrivals: Vec<i64> = server.stats().recent.into_iter().collect();
        assert_eq!(arrivals.len(), 10);
        assert_eq!(server.list_calls(), 9);
        // A lower bound only (the limiter's spacing, 200 or 500 ms, less a margin for the
        // network): a slow machine can only make the gaps longer.
        for pair in arrivals[1..].windows(2) {
            assert!(
                pair[1] - pair[0] >= min_gap,
                "budget {budget:?}: calls {} ms apart",
                pair[1] - pair[0]
            );
        }
    }
}

#[test]
fn a_50_percent_throttle_storm_at_start_is_survived_in_10_runs_of_10() {
    for seed in 0..10 {
        // The emulator's seed drives both its organization and the storm's draws.
        let server = Server::with(
            PER_KIND,
            seed,
            vec![FaultRule::always(Fault::Throttle).share(0.5)],
        );
        let r = run_against(&server, LIST_JSON);
        assert_full_listing(&r, &format!("storm seed {seed}"));
        assert!(
            server.stats().throttled > 0,
            "seed {seed}: the storm must hit"
        );
    }
}

#[test]
fn a_throttle_at_discovery_is_retried() {
    let server = Server::start(vec![
        FaultRule::on(Fault::Throttle, operations::LIST_INSTANCES).first(3),
    ]);
    let r = run_against(&server, LIST_JSON);
    assert_full_listing(&r, "throttled discovery");
    assert_eq!(server.count(operations::LIST_INSTANCES), 4);
    assert_eq!(server.stats().throttled, 3);
}

#[test]
fn a_throttle_that_never_ends_gives_up_after_the_bounded_attempts() {
    let server = Server::start(everywhere(Fault::Throttle));
    let r = run_against(&server, LIST_JSON);
    assert_fails(
        &r,
        4,
        &["throttled", "gave up after 8 attempts"],
        "100% throttle",
    );
    assert_eq!(
        server.count(operations::LIST_INSTANCES),
        RetryPolicy::DEFAULT.attempts as usize
    );
    assert!(r.stdout.is_empty());
}

/// A fault that hits the first 3 requests of each operation `rules` name is ridden out; one
/// that never ends is reported in one line with the exit code and the words given.
fn transient_then_persistent(rules: Vec<FaultRule>, code: i32, needles: &[&str]) -> Run {
    let what = format!("{:?}", rules[0].fault);
    let transient: Vec<FaultRule> = rules.iter().map(|r| r.clone().first(3)).collect();
    let server = Server::start(transient);
    assert_full_listing(
        &run_against(&server, LIST_JSON),
        &format!("transient {what}"),
    );
    let server = Server::start(rules);
    let r = run_against(&server, LIST_JSON);
    assert_fails(&r, code, needles, &what);
    r
}

#[test]
fn internal_errors_are_retried_and_reported_when_they_persist() {
    transient_then_persistent(
        everywhere(Fault::ServerError),
        4,
        &["InternalServerException", "gave up"],
    );
}

#[test]
fn a_503_html_page_is_reported_with_its_status_not_as_a_json_error() {
    let r = transient_then_persistent(everywhere(Fault::Unavailable), 4, &["HTTP 503", "gave up"]);
    assert!(!r.stderr.contains("unexpected token"), "{}", r.stderr);
}

#[test]
fn a_slow_answer_is_waited_out() {
    // The first creation page comes 3 s late, within the client's 10 s timeout: it is waited
    // for, not given up on and asked again.
    let server = Server::start(vec![
        FaultRule::on(
            Fault::Slow,
            operations::list(OperationKind::AssignmentCreation),
        )
        .first(1),
    ]);
    assert_full_listing(&run_against(&server, LIST_JSON), "slow");
    assert_eq!(server.list_calls(), 9, "nothing asked twice");
}

#[test]
fn a_reset_connection_is_retried_and_reported_when_it_persists() {
    transient_then_persistent(everywhere(Fault::Reset), 4, &["reset", "gave up"]);
}

#[test]
fn a_connection_closed_mid_body_is_transient_and_never_dumps_sdk_debug_text() {
    let r = transient_then_persistent(
        on_lists(Fault::Truncated),
        4,
        &[
            "temporary failure",
            "connection closed before the whole answer",
        ],
    );
    assert!(r.stderr.len() < 400, "short: {}", r.stderr);
}

#[test]
fn malformed_json_is_retried_then_reported() {
    transient_then_persistent(
        on_lists(Fault::Malformed),
        1,
        &[
            "malformed response",
            "HTTP 200",
            "not valid SSO Admin API JSON",
        ],
    );
}

#[test]
fn a_truncated_body_is_reported() {
    let server = Server::start(on_lists(Fault::TruncatedJson));
    let r = run_against(&server, LIST_JSON);
    assert_fails(&r, 1, &["malformed response", "end of stream"], "truncated");
}

#[test]
fn wrong_types_are_reported() {
    let server = Server::start(on_lists(Fault::WrongTypes));
    let r = run_against(&server, LIST_JSON);
    assert_fails(&r, 1, &["malformed response", "yesterday"], "wrong types");
}

#[test]
fn records_without_an_id_are_reported() {
    let server = Server::start(on_lists(Fault::MissingFields));
    let r = run_against(&server, LIST_JSON);
    assert_fails(&r, 1, &["no RequestId"], "missing fields");
    let server = Server::start(on_describes(Fault::EmptyAnswer));
    let id = server.id(OperationKind::AssignmentCreation, true);
    let r = run_against(&server, &["describe", &id, "--kind", "creation"]);
    assert_fails(&r, 1, &["no status object"], "describe missing fields");
}

#[test]
fn an_unknown_status_is_shown_as_it_is() {
    let server = Server::start(everywhere(Fault::UnknownStatus));
    let rows = assert_full_listing(&run_against(&server, LIST_JSON), "unknown status");
    assert!(rows.iter().all(|r| r["status"] == "CANCELLED"));
    let id = server.id(OperationKind::AssignmentDeletion, false);
    let r = run_against(&server, &["describe", &id, "--output", "json"]);
    assert!(r.status.success(), "{}", r.stderr);
    let d: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(d["status"], "CANCELLED");
    assert_eq!(d["kind"], "deletion");
}

#[test]
fn duplicate_ids_are_listed_once() {
    let server = Server::start(on_lists(Fault::DuplicateIds));
    assert_full_listing(&run_against(&server, LIST_JSON), "duplicates");
}

#[test]
fn a_looping_page_token_ends_the_listing_with_one_line() {
    let server = Server::start(on_lists(Fault::LoopingToken));
    let r = run_against(&server, LIST_JSON);
    assert_fails(&r, 1, &["creation listing loops", "already used"], "loop");
    // A, B, then A again: three pages, no more.
    assert_eq!(server.list_calls(), 3);
}

#[test]
fn an_endless_page_token_ends_the_listing_when_pages_bring_nothing_new() {
    // 100 records of each kind, one page: every later page only repeats them.
    let server = Server::with(100, 1, on_lists(Fault::EndlessToken));
    let r = run_against(&server, LIST_JSON);
    // The first page brings 100 records, the next ten nothing.
    let bound = 1 + STALLED_PAGES;
    assert_eq!(bound, 11);
    assert_fails(
        &r,
        1,
        &[
            "creation listing made no progress for 10 pages",
            &format!("stopped after {bound} pages"),
            "100 distinct records",
        ],
        "endless",
    );
    assert_eq!(server.list_calls(), bound as usize);
}

#[test]
fn a_10_mb_answer_is_read_and_its_text_capped() {
    let server = Server::start(everywhere(Fault::HugeBody));
    assert_full_listing(&run_against(&server, LIST_JSON), "10 MB pages");
    // A FAILED record: its reason is 10 MB.
    let id = server.id(OperationKind::PermissionSetProvisioning, true);
    let r = run_against(&server, &["describe", &id, "--output", "json"]);
    assert!(r.status.success(), "{}", r.stderr);
    let d: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let reason = d["failure_reason"].as_str().expect("a reason");
    assert!(reason.chars().count() <= ssowatch::sanitize::MAX_FIELD_CHARS + 1);
    assert!(
        reason.chars().count() >= ssowatch::sanitize::MAX_FIELD_CHARS / 2,
        "the long reason was read: {} chars",
        reason.chars().count()
    );
    assert!(r.stdout.len() < 64 * 1024, "{} bytes", r.stdout.len());
}

#[test]
fn hostile_text_never_reaches_the_terminal() {
    let server = Server::start(everywhere(Fault::Hostile));
    // With everything logged, hostile text reaches the log only escaped.
    let home = tempfile::tempdir().expect("tempdir");
    let mut c = aws_command(&["list", "--api-budget", "20"], home.path(), &server.url);
    c.env("SSOWATCH_LOG", "trace");
    let r = finish(c);
    assert!(r.status.success(), "{}", r.stderr);
    check_hygiene(&r, home.path(), "hostile, traced");
    for format in ["table", "json", "csv"] {
        let r = run_against(&server, &["list", "--output", format]);
        assert!(r.status.success(), "{format}: {}", r.stderr);
        assert!(r.stdout.contains("evil"), "the text is kept, cleaned");
    }
    let id = server.id(OperationKind::AssignmentCreation, true);
    for format in ["table", "json", "csv"] {
        let r = run_against(&server, &["describe", &id, "--output", format]);
        assert!(r.status.success(), "{format}: {}", r.stderr);
        assert!(
            r.stdout.contains("evil") && r.stdout.contains("end"),
            "{}",
            r.stdout
        );
        assert!(!r.stdout.contains("pwned"), "an OSC title body is dropped");
    }
    assert!(HOSTILE_TEXT.contains('\u{1b}'));
}

#[test]
fn expired_unrecognized_and_denied_credentials_say_what_to_do() {
    for (fault, needles) in [
        (
            Fault::ExpiredCredentials,
            ["ExpiredTokenException", "refresh your credentials"],
        ),
        (
            Fault::UnrecognizedCredentials,
            ["UnrecognizedClientException", "not accepted"],
        ),
        (Fault::Denied, ["AccessDeniedException", "permissions"]),
    ] {
        let server = Server::start(everywhere(fault));
        let r = run_against(&server, LIST_JSON);
        assert_fails(&r, 3, &needles, &format!("{fault:?}"));
        // Not retried: retrying cannot fix credentials.
        assert_eq!(server.stats().total, 1, "{fault:?}");
    }
}

#[test]
fn an_endpoint_that_is_not_the_api_says_so() {
    let server = Server::start(everywhere(Fault::NotTheApi));
    let r = run_against(&server, LIST_JSON);
    assert_fails(
        &r,
        1,
        &["HTTP 404", "not the SSO Admin API", "--endpoint-url"],
        "404",
    );
    assert!(!r.stderr.contains("unexpected token"), "{}", r.stderr);
    assert_eq!(server.stats().total, 1, "not retried");
}

#[test]
fn trace_logging_keeps_credentials_and_signatures_out_of_a_private_log() {
    let server = Server::start(Vec::new());
    let home = tempfile::tempdir().expect("tempdir");
    // A log left world-readable by an older version is made private too.
    let log_dir = home.path().join("xdg-state/ssowatch");
    std::fs::create_dir_all(&log_dir).expect("log dir");
    std::fs::write(log_dir.join("ssowatch.log"), "").expect("old log");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            log_dir.join("ssowatch.log"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
    }
    let mut c = aws_command(
        &["list", "--kind", "creation", "--api-budget", "20"],
        home.path(),
        &server.url,
    );
    c.env("SSOWATCH_LOG", "trace");
    let r = finish(c);
    assert!(r.status.success(), "{}", r.stderr);
    check_hygiene(&r, home.path(), "trace");
    let log_path = home.path().join("xdg-state/ssowatch/ssowatch.log");
    let log = std::fs::read_to_string(&log_path).expect("the trace log exists");
    assert!(
        log.len() > 10_000,
        "trace logging is on: {} bytes",
        log.len()
    );
    assert!(
        log.contains("<redacted>"),
        "the signed request was logged, redacted"
    );
    // The signatures the emulator received appear nowhere in the log.
    let signatures = server.stats().signatures;
    assert_eq!(signatures.len(), 4, "discovery and three creation pages");
    for signature in signatures {
        assert!(
            !log.contains(&signature),
            "signature {signature} in the log"
        );
    }
}

// ---- In process, in paused time ------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn the_retry_schedule_doubles_with_jitter_and_is_bounded() {
    let policy = RetryPolicy::DEFAULT;
    let calls = AtomicUsize::new(0);
    let start = tokio::time::Instant::now();
    let result: Result<(), ProviderError> = policy
        .run(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(ProviderError::new(ErrorKind::Throttled, "Rate exceeded")) }
        })
        .await;
    let took = start.elapsed();
    assert_eq!(calls.load(Ordering::SeqCst), 8);
    let err = result.expect_err("gives up");
    assert!(err.message.contains("gave up after 8 attempts"), "{err}");
    // Waits of 0.25 .. 16 s, each between half and all of its step: 15.9 to 31.8 s in all.
    let (min, max) = (0..7).fold((Duration::ZERO, Duration::ZERO), |(lo, hi), n| {
        (lo + policy.delay(n, 0.0), hi + policy.delay(n, 1.0))
    });
    assert_eq!(min, Duration::from_micros(15_875_000));
    assert_eq!(max, Duration::from_millis(31_750));
    assert!(took >= min && took <= max, "{took:?}");
    assert_eq!(policy.delay(20, 1.0), Duration::from_secs(20), "capped");
}

#[tokio::test(start_paused = true)]
async fn errors_that_retrying_cannot_fix_are_not_retried() {
    for kind in [
        ErrorKind::Auth,
        ErrorKind::Validation,
        ErrorKind::NotFound,
        ErrorKind::Config,
        ErrorKind::Unsupported,
    ] {
        let calls = AtomicUsize::new(0);
        let result: Result<(), ProviderError> = RetryPolicy::DEFAULT
            .run(|| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move { Err(ProviderError::new(kind, "no")) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{kind:?}");
    }
}

/// A provider double that serves `pages` pages of 100 records per kind and records when each
/// call started (in tokio time).
struct Paged {
    pages: usize,
    started: std::sync::Mutex<Vec<tokio::time::Instant>>,
}

#[async_trait]
impl Provider for Paged {
    fn info(&self) -> ProviderInfo {
        ProviderInfo::default()
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, ProviderError> {
        Ok(Vec::new())
    }

    async fn list_page(
        &self,
        _instance: &str,
        kind: OperationKind,
        _status: Option<&Status>,
        page_token: Option<&str>,
    ) -> Result<Page, ProviderError> {
        self.started
            .lock()
            .expect("lock")
            .push(tokio::time::Instant::now());
        let page: usize = page_token.and_then(|t| t.parse().ok()).unwrap_or(0);
        let items = (0..100)
            .map(|i| StatusSummary {
                kind,
                request_id: format!("{}-{page}-{i}", kind.short()),
                status: Status::Succeeded,
                created: Utc::now(),
            })
            .collect();
        Ok(Page {
            items,
            next_token: (page + 1 < self.pages).then(|| (page + 1).to_string()),
        })
    }

    async fn describe(
        &self,
        _instance: &str,
        _kind: OperationKind,
        _request_id: &str,
    ) -> Result<Described, ProviderError> {
        Err(ProviderError::new(ErrorKind::NotFound, "none"))
    }

    async fn permission_set_name(
        &self,
        _instance: &str,
        _permission_set: &str,
    ) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }
}

#[tokio::test(start_paused = true)]
async fn headless_calls_are_spaced_by_the_budget() {
    let inner = Arc::new(Paged {
        pages: 10,
        started: std::sync::Mutex::new(Vec::new()),
    });
    let instance = Instance {
        id: "ins".into(),
        identity_store_id: None,
        name: None,
    };
    let mut calls = ssowatch::call_path::CallPath::for_script(inner.clone(), instance, 2.0);
    let args = ssowatch::headless::ListOptions {
        kind: ssowatch::model::KindSelection::All,
        status: None,
        output: ssowatch::output::OutputFormat::Json,
        filter: None,
    };
    let rows = ssowatch::headless::fetch_list(&mut calls, &args)
        .await
        .expect("lists");
    assert_eq!(rows.len(), 3000);
    let started = inner.started.lock().expect("lock").clone();
    assert_eq!(started.len(), 30);
    for pair in started.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(500),
            "calls {:?} apart at 2 req/s",
            pair[1] - pair[0]
        );
    }
    // And no 10 s window holds more than 20 starts.
    for (i, t) in started.iter().enumerate() {
        let in_window = started[i..]
            .iter()
            .take_while(|&&u| u - *t < Duration::from_secs(10))
            .count();
        assert!(in_window <= 20, "{in_window} calls in 10 s");
    }
}

/// Issue 21 #4: a server that never answers ends a one-shot call in tens of seconds: each call
/// is cut at `CALL_TIMEOUT`, and after three of them the server is taken for hanging (8 × 30 s,
/// 263 s, before). Paused time: the schedule is exact.
#[tokio::test(start_paused = true)]
async fn a_hanging_server_fails_in_tens_of_seconds() {
    let calls = AtomicUsize::new(0);
    let start = tokio::time::Instant::now();
    let result: Result<(), ProviderError> = RetryPolicy::DEFAULT
        .run(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            std::future::pending()
        })
        .await;
    let took = start.elapsed();
    let err = result.expect_err("gives up");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(
        err.message
            .starts_with("the service did not answer within 10 s (gave up after 3 attempts"),
        "{err}"
    );
    // Three timeouts of 10 s and two waits of at most 0.25 and 0.5 s.
    assert!(
        took >= Duration::from_secs(30) && took <= Duration::from_millis(30_750),
        "{took:?}"
    );
    assert_eq!(ssowatch::provider::CALL_TIMEOUT, Duration::from_secs(10));
    // The same when the provider's own timeout (the SDK's, also 10 s) ends each call first.
    let calls = AtomicUsize::new(0);
    let start = tokio::time::Instant::now();
    let result: Result<(), ProviderError> = RetryPolicy::DEFAULT
        .run(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Err(ProviderError::new(
                    ErrorKind::Transient,
                    "the request timed out",
                ))
            }
        })
        .await;
    assert!(result.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(start.elapsed() <= Duration::from_millis(30_750));
}

/// And a service failing fast and for good never holds a command past `total`.
#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_total_bound() {
    let policy = RetryPolicy {
        attempts: 100,
        ..RetryPolicy::DEFAULT
    };
    let start = tokio::time::Instant::now();
    let result: Result<(), ProviderError> = policy
        .run(|| async { Err(ProviderError::new(ErrorKind::Transient, "HTTP 500")) })
        .await;
    assert!(result.is_err());
    assert!(
        start.elapsed() < Duration::from_secs(40),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(policy.total, Duration::from_secs(40));
}
