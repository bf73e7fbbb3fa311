//! Fault injection, the same on both protocols: what a client must survive, switched on by
//! tests (in process with [`super::EmulatorHandle::faults`], from another process with
//! `POST /_emulator/faults`) or by an operator (`ssowatch emulate --fault ...`).
//!
//! A request is first routed and authenticated, then [`FaultInjector::decide`] picks what
//! happens to it: the one-shot counters (`throttle_next`, `fail_next`, `malformed_next`) first,
//! then each [`FaultRule`] in order, then the rate limit (`throttle_rps`). Rules can target one
//! operation and apply to a share of requests drawn from a seeded RNG, so a run is
//! reproducible. Each protocol turns the chosen [`Fault`] into its own wire answer.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lock;
use crate::wire::operations;

/// The status value the `unknown-status` fault puts into answers: one no client knows today.
pub const UNKNOWN_STATUS: &str = "CANCELLED";

/// How late the `hang` fault answers.
pub const HANG: std::time::Duration = std::time::Duration::from_secs(3600);

/// How late the `slow` fault answers: late, but within any sane client's timeout.
pub const SLOW: std::time::Duration = std::time::Duration::from_secs(3);

/// How large the `huge-body` fault makes an answer.
pub const HUGE_BODY_BYTES: usize = 10 * 1024 * 1024;

/// What the `hostile` fault appends to every text field it touches: a CSI screen clear, an
/// OSC title and an OSC 52 clipboard write, a bidi override, C1 controls (CSI and NEL as
/// single code points) and a bell.
pub const HOSTILE_TEXT: &str = "evil\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}]52;c;ZXZpbA==\u{1b}\\\u{202e}txet\u{9b}31m\u{85}\u{7}end";

/// One kind of misbehaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// The throttling error (AWS `ThrottlingException`, Huawei 429 `APIGW.0308`).
    Throttle,
    /// HTTP 500, the service's internal error.
    ServerError,
    /// HTTP 503 with an HTML page, as a load balancer in front of the service sends it.
    Unavailable,
    /// HTTP 200 with a body that is not valid JSON.
    Malformed,
    /// The real answer, announced in full by `Content-Length` but cut off halfway: the
    /// connection closes mid-body.
    Truncated,
    /// The real answer with every request status replaced by [`UNKNOWN_STATUS`] (list and
    /// describe answers only).
    UnknownStatus,
    /// Page tokens that loop: none, then A, then B, then A again (list answers only).
    LoopingToken,
    /// A new page token on every page, forever (list answers only).
    EndlessToken,
    /// Access denied (AWS `AccessDeniedException`, Huawei 403 `IIC.1000`).
    Denied,
    /// No answer: the connection is closed as soon as the request is read.
    Reset,
    /// The real answer, an hour late ([`HANG`]): a client without a timeout waits forever.
    Hang,
    /// The real answer without the request ids (`RequestId` / `request_id`) of its records.
    MissingFields,
    /// The real answer with the records' dates as text that is no date and their statuses as
    /// numbers.
    WrongTypes,
    /// The real answer with the first record of each list repeated at its end.
    DuplicateIds,
    /// The real answer padded past 10 MB with a field no client knows.
    HugeBody,
    /// Expired temporary credentials (AWS `ExpiredTokenException`, Huawei 401 `APIGW.0307`).
    ExpiredCredentials,
    /// Credentials the service does not know (AWS `UnrecognizedClientException`, Huawei 401
    /// `APIGW.0301`).
    UnrecognizedCredentials,
    /// An operation the endpoint does not know (AWS `UnknownOperationException`, Huawei 404
    /// `APIGW.0101`), as a wrong endpoint or an old emulator answers.
    UnknownOperation,
    /// HTTP 501 with a plain-text page, as a proxy that does not implement the call answers.
    NotImplemented,
    /// HTTP 404 with an HTML page: the endpoint is some web server, not the API.
    NotTheApi,
    /// HTTP 200 with the first half of the real JSON, sent whole: `Content-Length` matches
    /// the half, so the transport is sound and only the JSON ends early (unlike `truncated`).
    TruncatedJson,
    /// HTTP 200 with an empty JSON object: no records, no status, no token.
    EmptyAnswer,
    /// The real answer with [`HOSTILE_TEXT`] appended to every text a client shows: request
    /// statuses and ids, failure reasons, instance and permission-set names.
    Hostile,
    /// The real answer, [`SLOW`] late: a client must wait for it rather than give up.
    Slow,
}

impl Fault {
    pub const ALL: [Fault; 24] = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::Unavailable,
        Fault::Malformed,
        Fault::Truncated,
        Fault::Reset,
        Fault::Hang,
        Fault::MissingFields,
        Fault::WrongTypes,
        Fault::DuplicateIds,
        Fault::HugeBody,
        Fault::UnknownStatus,
        Fault::LoopingToken,
        Fault::EndlessToken,
        Fault::Denied,
        Fault::ExpiredCredentials,
        Fault::UnrecognizedCredentials,
        Fault::UnknownOperation,
        Fault::NotImplemented,
        Fault::NotTheApi,
        Fault::TruncatedJson,
        Fault::EmptyAnswer,
        Fault::Hostile,
        Fault::Slow,
    ];

    /// The name used on the command line and in the JSON of `/_emulator/faults`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Throttle => "throttle",
            Fault::ServerError => "server-error",
            Fault::Unavailable => "unavailable",
            Fault::Malformed => "malformed",
            Fault::Truncated => "truncated",
            Fault::Reset => "reset",
            Fault::Hang => "hang",
            Fault::MissingFields => "missing-fields",
            Fault::WrongTypes => "wrong-types",
            Fault::DuplicateIds => "duplicate-ids",
            Fault::HugeBody => "huge-body",
            Fault::UnknownStatus => "unknown-status",
            Fault::LoopingToken => "looping-token",
            Fault::EndlessToken => "endless-token",
            Fault::Denied => "denied",
            Fault::ExpiredCredentials => "expired-credentials",
            Fault::UnrecognizedCredentials => "unrecognized-credentials",
            Fault::UnknownOperation => "unknown-operation",
            Fault::NotImplemented => "not-implemented",
            Fault::NotTheApi => "not-the-api",
            Fault::TruncatedJson => "truncated-json",
            Fault::EmptyAnswer => "empty-answer",
            Fault::Hostile => "hostile",
            Fault::Slow => "slow",
        }
    }

    /// Whether this fault means anything for `operation`: token faults and duplicates need a
    /// status list, the record alterations a status list or describe. A rule for all
    /// operations skips the others, so `--fault endless-token` does not also break instance
    /// discovery.
    pub fn applies_to(self, operation: &str) -> bool {
        match self {
            Fault::LoopingToken | Fault::EndlessToken | Fault::DuplicateIds => {
                matches!(operations::parse(operation), Some((_, true)))
            }
            Fault::UnknownStatus | Fault::MissingFields | Fault::WrongTypes => {
                operations::parse(operation).is_some()
            }
            _ => true,
        }
    }

    /// Whether this fault edits the records of a real answer ([`alter_json`]).
    pub fn edits_records(self) -> bool {
        matches!(
            self,
            Fault::UnknownStatus
                | Fault::MissingFields
                | Fault::WrongTypes
                | Fault::DuplicateIds
                | Fault::HugeBody
                | Fault::Hostile
        )
    }

    /// Whether this fault alters or delays the real answer (rather than replacing it).
    pub fn alters_answer(self) -> bool {
        self.edits_records()
            || matches!(
                self,
                Fault::Truncated
                    | Fault::TruncatedJson
                    | Fault::Slow
                    | Fault::Reset
                    | Fault::Hang
                    | Fault::LoopingToken
                    | Fault::EndlessToken
            )
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                format!("unknown fault '{s}' (one of: {})", names.join(", "))
            })
    }
}

fn one() -> f64 {
    1.0
}

/// A fault applied to every request of one operation (or of all), or to a share of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    pub fault: Fault,
    /// The operation name (`ListAccountAssignmentCreationStatus`, same on both protocols);
    /// `None` for every operation.
    #[serde(default)]
    pub operation: Option<String>,
    /// Share of the matching requests that get the fault, 0 to 1 (1 when absent).
    #[serde(default = "one")]
    pub ratio: f64,
    /// How many more requests the rule may hit: a transient fault that hits the first N
    /// matching requests (with a ratio, the first N drawn) and then none. Counts down as it
    /// hits; `None` (absent) for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl FaultRule {
    /// `fault` on every request.
    pub fn always(fault: Fault) -> FaultRule {
        FaultRule {
            fault,
            operation: None,
            ratio: 1.0,
            times: None,
        }
    }

    /// `fault` on every request of `operation`.
    pub fn on(fault: Fault, operation: &str) -> FaultRule {
        FaultRule {
            operation: Some(operation.to_string()),
            ..FaultRule::always(fault)
        }
    }

    /// The same rule, spent after `n` hits.
    pub fn first(self, n: u32) -> FaultRule {
        FaultRule {
            times: Some(n),
            ..self
        }
    }

    /// The same rule on a share of the matching requests.
    pub fn share(self, ratio: f64) -> FaultRule {
        FaultRule { ratio, ..self }
    }

    fn matches(&self, operation: &str) -> bool {
        self.times != Some(0)
            && self.operation.as_deref().is_none_or(|o| o == operation)
            && self.fault.applies_to(operation)
    }

    fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.ratio) {
            return Err(format!(
                "the ratio of fault {} must be between 0 and 1",
                self.fault
            ));
        }
        match &self.operation {
            Some(op) if !operations::all().contains(&op.as_str()) => Err(format!(
                "unknown operation '{op}' (one of: {})",
                operations::all().join(", ")
            )),
            _ => Ok(()),
        }
    }
}

/// `NAME[:OPERATION][@RATIO][#TIMES]`, e.g. `throttle@0.5`,
/// `unknown-status:ListAccountAssignmentCreationStatus`, `reset:ListInstances#3`.
impl FromStr for FaultRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (s, times) = match s.split_once('#') {
            Some((rest, n)) => (
                rest,
                Some(
                    n.parse::<u32>()
                        .map_err(|_| format!("'{n}' is not a number of requests"))?,
                ),
            ),
            None => (s, None),
        };
        let (rest, ratio) = match s.split_once('@') {
            Some((rest, r)) => (
                rest,
                r.parse::<f64>()
                    .map_err(|_| format!("'{r}' is not a ratio (0 to 1)"))?,
            ),
            None => (s, 1.0),
        };
        let (name, operation) = match rest.split_once(':') {
            Some((name, op)) => (name, Some(op.to_string())),
            None => (rest, None),
        };
        let rule = FaultRule {
            fault: name.parse()?,
            operation,
            ratio,
            times,
        };
        rule.validate()?;
        Ok(rule)
    }
}

/// Faults to inject. Also the JSON body of `POST /_emulator/faults`, which replaces the whole
/// set (`{}` clears everything).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Throttle the next N requests.
    pub throttle_next: u32,
    /// Answer the next N requests with HTTP 500.
    pub fail_next: u32,
    /// Answer the next N requests with malformed JSON.
    pub malformed_next: u32,
    /// Emulates the service's rate limit: above this many requests per second (token bucket
    /// of depth `max(1, rps)`, full at start), requests are throttled.
    pub throttle_rps: Option<f64>,
    /// Lasting faults, checked in order after the one-shot counters.
    pub rules: Vec<FaultRule>,
    /// Requests started by the write operations (`CreateAccountAssignment`,
    /// `DeleteAccountAssignment`, `ProvisionPermissionSet` and Huawei's equivalents) fail
    /// with a reason of this cause (`policy_missing`, `principal_missing`, ...: see
    /// [`super::org::FAILURE_CAUSES`]) while it is set; `None` lets them succeed. Switching it
    /// off is "fixing the cause".
    pub fail_requests: Option<String>,
}

impl Faults {
    /// Checks what a test or an operator sent: ratios in 0..=1, known operations, a positive
    /// rate.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(rps) = self.throttle_rps
            && !(rps.is_finite() && rps > 0.0)
        {
            return Err("throttle_rps must be more than 0".to_string());
        }
        if let Some(cause) = &self.fail_requests
            && !super::org::FAILURE_CAUSES.contains(&cause.as_str())
        {
            return Err(format!(
                "fail_requests must be one of: {}",
                super::org::FAILURE_CAUSES.join(", ")
            ));
        }
        self.rules.iter().try_for_each(FaultRule::validate)
    }
}

/// What happens to one routed, authenticated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Serve,
    Inject(Fault),
}

/// A token bucket: `rate` tokens per second, at most `depth`, full at start so that even a
/// limit below 1 request per second lets the first request through.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    depth: f64,
    tokens: f64,
    last: Option<Duration>,
}

impl TokenBucket {
    pub fn new(rate: f64) -> TokenBucket {
        let depth = rate.max(1.0);
        TokenBucket {
            rate,
            depth,
            tokens: depth,
            last: None,
        }
    }

    /// Takes one token at `now`; `false` when the bucket is empty (throttle).
    pub fn try_take(&mut self, now: Duration) -> bool {
        if let Some(last) = self.last {
            let refill = now.saturating_sub(last).as_secs_f64() * self.rate;
            self.tokens = (self.tokens + refill).min(self.depth);
        }
        self.last = Some(now);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

#[derive(Debug)]
struct InjectorState {
    faults: Faults,
    bucket: Option<TokenBucket>,
    rng: ChaCha8Rng,
}

/// The live fault set of one emulator, shared by both protocols.
#[derive(Debug)]
pub struct FaultInjector {
    state: Mutex<InjectorState>,
}

impl FaultInjector {
    /// `seed` makes the ratio draws reproducible.
    pub fn new(faults: Faults, seed: u64) -> FaultInjector {
        let bucket = faults.throttle_rps.map(TokenBucket::new);
        FaultInjector {
            state: Mutex::new(InjectorState {
                faults,
                bucket,
                rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_fa17),
            }),
        }
    }

    /// Changes the faults in place; a changed rate limit starts with a full bucket.
    pub fn update(&self, change: impl FnOnce(&mut Faults)) {
        let mut state = lock(&self.state);
        let before = state.faults.throttle_rps;
        change(&mut state.faults);
        if state.faults.throttle_rps != before {
            state.bucket = state.faults.throttle_rps.map(TokenBucket::new);
        }
    }

    pub fn current(&self) -> Faults {
        lock(&self.state).faults.clone()
    }

    /// Decides the fate of one request of `operation` (its name without protocol prefix),
    /// with `now` as the rate limit's clock.
    pub fn decide(&self, operation: &str, now: Duration) -> Admission {
        let mut state = lock(&self.state);
        let state = &mut *state;
        let faults = &mut state.faults;
        for (counter, fault) in [
            (&mut faults.throttle_next, Fault::Throttle),
            (&mut faults.fail_next, Fault::ServerError),
            (&mut faults.malformed_next, Fault::Malformed),
        ] {
            if *counter > 0 {
                *counter -= 1;
                return Admission::Inject(fault);
            }
        }
        for rule in faults.rules.iter_mut().filter(|r| r.matches(operation)) {
            let hit = rule.ratio >= 1.0 || state.rng.random_bool(rule.ratio.clamp(0.0, 1.0));
            if hit {
                if let Some(times) = &mut rule.times {
                    *times = times.saturating_sub(1);
                }
                return Admission::Inject(rule.fault);
            }
        }
        // The rate limit is Identity Center's: the name services have limits of their own.
        let plain = operation.trim_start_matches("huawei:");
        let name_service = operations::NAME_OPERATIONS.contains(&plain);
        let within_rate = name_service || state.bucket.as_mut().is_none_or(|b| b.try_take(now));
        if within_rate {
            Admission::Serve
        } else {
            Admission::Inject(Fault::Throttle)
        }
    }
}

/// The next page position a list answer announces under a token fault: `looping-token`
/// alternates positions 1 and 2 (none, A, B, A, ...), `endless-token` always moves one on.
/// Without a token fault, the real next position.
pub fn next_position(admission: Admission, from: u32, real_next: Option<u32>) -> Option<u32> {
    match admission {
        Admission::Inject(Fault::LoopingToken) => Some(if from == 1 { 2 } else { 1 }),
        Admission::Inject(Fault::EndlessToken) => Some(from.saturating_add(1)),
        _ => real_next,
    }
}

/// Where the `truncated-json` fault cuts an answer: inside the first JSON string that runs
/// past the middle of the body, so the text ends in an open string whatever the records are
/// (a cut after a comma or a brace would read as a different syntax error from one answer to
/// the next). The middle itself when no string crosses it.
pub fn mid_string_cut(body: &[u8]) -> usize {
    let half = body.len() / 2;
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in body.iter().enumerate() {
        if in_string && i >= half && !escaped && b != b'"' && b != b'\\' {
            return i;
        }
        if escaped {
            escaped = false;
        } else if in_string && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            in_string = !in_string;
        }
    }
    half
}

/// Alters a served JSON answer for the faults that edit records; other faults leave it alone.
pub fn alter_json(fault: Fault, value: &mut Value) {
    match fault {
        Fault::UnknownStatus => edit_fields(value, &mut |key, v| {
            if is_request_status(key, v) {
                *v = Value::String(UNKNOWN_STATUS.to_string());
            }
            true
        }),
        Fault::WrongTypes => edit_fields(value, &mut |key, v| {
            if is_request_status(key, v) {
                *v = Value::from(42);
            } else if matches!(key, "CreatedDate" | "created_date") {
                *v = Value::String("yesterday".to_string());
            }
            true
        }),
        Fault::MissingFields => edit_fields(value, &mut |key, _| {
            !matches!(key, "RequestId" | "request_id")
        }),
        Fault::DuplicateIds => duplicate_first_records(value),
        Fault::HugeBody => {
            // A failure reason (a describe's) becomes 10 MB itself, so that a client's cap on
            // the text it keeps is tested too; any other answer gets a padding field.
            let mut stretched = false;
            edit_fields(value, &mut |key, v| {
                if !stretched
                    && matches!(key, "FailureReason" | "failure_reason")
                    && let Value::String(reason) = v
                {
                    let mut long = reason.repeat(HUGE_BODY_BYTES / reason.len().max(1) + 1);
                    long.push_str(&"r".repeat(HUGE_BODY_BYTES.saturating_sub(long.len())));
                    *reason = long;
                    stretched = true;
                }
                true
            });
            if let Value::Object(map) = value
                && !stretched
            {
                map.insert(
                    "Padding".to_string(),
                    Value::String("x".repeat(HUGE_BODY_BYTES)),
                );
            }
        }
        Fault::Hostile => edit_fields(value, &mut |key, v| {
            let text = is_request_status(key, v)
                || matches!(
                    key,
                    "RequestId"
                        | "request_id"
                        | "FailureReason"
                        | "failure_reason"
                        | "Name"
                        | "name"
                );
            if text && let Value::String(s) = v {
                s.push_str(HOSTILE_TEXT);
            }
            true
        }),
        _ => {}
    }
}

/// `Status` / `status` holding a request status (not an instance's `ACTIVE`).
fn is_request_status(key: &str, v: &Value) -> bool {
    matches!(key, "Status" | "status")
        && matches!(v.as_str(), Some("IN_PROGRESS" | "SUCCEEDED" | "FAILED"))
}

/// Calls `edit` on every field of every object, depth first; a field is dropped when `edit`
/// answers `false`.
fn edit_fields(value: &mut Value, edit: &mut dyn FnMut(&str, &mut Value) -> bool) {
    match value {
        Value::Object(map) => {
            map.retain(|key, v| {
                edit_fields(v, edit);
                edit(key, v)
            });
        }
        Value::Array(items) => items.iter_mut().for_each(|v| edit_fields(v, edit)),
        _ => {}
    }
}

/// Repeats the first record of each list (an array of objects) at its end.
fn duplicate_first_records(value: &mut Value) {
    if let Value::Object(map) = value {
        for v in map.values_mut() {
            if let Value::Array(items) = v
                && let Some(first) = items.first().filter(|f| f.is_object()).cloned()
            {
                items.push(first);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Below one request per second the first request must pass (the bucket starts full),
    /// the second right after it is throttled, and one token comes back after 1/rate s.
    #[test]
    fn slow_bucket_starts_full() {
        let t0 = Duration::from_secs(1000);
        let mut bucket = TokenBucket::new(0.5);
        assert!(bucket.try_take(t0), "first request");
        assert!(!bucket.try_take(t0 + Duration::from_millis(100)));
        assert!(!bucket.try_take(t0 + Duration::from_millis(1900)));
        assert!(bucket.try_take(t0 + Duration::from_millis(2100)));
        let mut fast = TokenBucket::new(5.0);
        let granted = (0..10).filter(|_| fast.try_take(t0)).count();
        assert_eq!(granted, 5, "depth is the rate");
    }

    #[test]
    fn injector_rate_limit_lets_the_first_request_through() {
        let injector = FaultInjector::new(
            Faults {
                throttle_rps: Some(0.2),
                ..Faults::default()
            },
            1,
        );
        let t0 = Duration::from_secs(1000);
        assert_eq!(injector.decide("ListInstances", t0), Admission::Serve);
        assert_eq!(
            injector.decide("ListInstances", t0),
            Admission::Inject(Fault::Throttle)
        );
    }

    #[test]
    fn one_shot_counters_come_first_and_run_out() {
        let injector = FaultInjector::new(Faults::default(), 1);
        injector.update(|f| {
            f.throttle_next = 1;
            f.fail_next = 1;
            f.malformed_next = 1;
        });
        let t = Duration::from_secs(1000);
        let got: Vec<Admission> = (0..4)
            .map(|_| injector.decide("ListInstances", t))
            .collect();
        assert_eq!(
            got,
            [
                Admission::Inject(Fault::Throttle),
                Admission::Inject(Fault::ServerError),
                Admission::Inject(Fault::Malformed),
                Admission::Serve
            ]
        );
    }

    #[test]
    fn rules_target_one_operation_and_ratios_are_seeded() {
        let op = "ListAccountAssignmentCreationStatus";
        let faults = Faults {
            rules: vec![FaultRule {
                fault: Fault::Throttle,
                operation: Some(op.into()),
                ratio: 0.5,
                times: None,
            }],
            ..Faults::default()
        };
        let run = |seed| {
            let injector = FaultInjector::new(faults.clone(), seed);
            let t = Duration::from_secs(1000);
            (0..200)
                .map(|_| injector.decide(op, t) == Admission::Inject(Fault::Throttle))
                .collect::<Vec<bool>>()
        };
        let first = run(3);
        assert_eq!(first, run(3), "same seed, same draws");
        let hits = first.iter().filter(|h| **h).count();
        assert!((70..=130).contains(&hits), "{hits} of 200 at 50%");
        let injector = FaultInjector::new(faults, 3);
        assert_eq!(
            injector.decide(
                "ListAccountAssignmentDeletionStatus",
                Duration::from_secs(1000)
            ),
            Admission::Serve,
            "another operation is not targeted"
        );
    }

    #[test]
    fn token_faults_only_touch_status_lists() {
        let injector = FaultInjector::new(
            Faults {
                rules: vec![FaultRule::always(Fault::EndlessToken)],
                ..Faults::default()
            },
            1,
        );
        let t = Duration::from_secs(1000);
        assert_eq!(injector.decide("ListInstances", t), Admission::Serve);
        assert_eq!(
            injector.decide("DescribeAccountAssignmentCreationStatus", t),
            Admission::Serve
        );
        let list = injector.decide("ListPermissionSetProvisioningStatus", t);
        assert_eq!(list, Admission::Inject(Fault::EndlessToken));
        assert_eq!(next_position(list, 0, None), Some(1));
        assert_eq!(next_position(list, 7, None), Some(8));
        let looping = Admission::Inject(Fault::LoopingToken);
        assert_eq!(next_position(looping, 0, Some(100)), Some(1));
        assert_eq!(next_position(looping, 1, Some(101)), Some(2));
        assert_eq!(next_position(looping, 2, Some(102)), Some(1));
        assert_eq!(next_position(Admission::Serve, 2, None), None);
    }

    #[test]
    fn rules_parse_from_the_command_line() {
        assert_eq!(
            "throttle@0.5".parse::<FaultRule>(),
            Ok(FaultRule {
                fault: Fault::Throttle,
                operation: None,
                ratio: 0.5,
                times: None,
            })
        );
        assert_eq!(
            "unknown-status:DescribeAccountAssignmentCreationStatus".parse::<FaultRule>(),
            Ok(FaultRule {
                fault: Fault::UnknownStatus,
                operation: Some("DescribeAccountAssignmentCreationStatus".into()),
                ratio: 1.0,
                times: None,
            })
        );
        for bad in ["nope", "throttle@2", "throttle@x", "denied:ListEverything"] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad}");
        }
    }

    fn sample() -> Value {
        serde_json::json!({
            "Instances": [{"Status": "ACTIVE"}],
            "list": [
                {"status": "FAILED", "request_id": "r1", "created_date": 1},
                {"Status": "IN_PROGRESS", "RequestId": "r2", "CreatedDate": 2.5}
            ],
            "one": {"status": "SUCCEEDED", "failure_reason": "FAILED"}
        })
    }

    #[test]
    fn statuses_are_disguised_but_not_instance_states() {
        let mut v = sample();
        alter_json(Fault::UnknownStatus, &mut v);
        assert_eq!(v["Instances"][0]["Status"], "ACTIVE");
        assert_eq!(v["list"][0]["status"], UNKNOWN_STATUS);
        assert_eq!(v["list"][1]["Status"], UNKNOWN_STATUS);
        assert_eq!(v["one"]["status"], UNKNOWN_STATUS);
        assert_eq!(v["one"]["failure_reason"], "FAILED");
    }

    #[test]
    fn record_alterations() {
        let mut v = sample();
        alter_json(Fault::WrongTypes, &mut v);
        assert_eq!(v["list"][0]["status"], 42);
        assert_eq!(v["list"][1]["CreatedDate"], "yesterday");
        assert_eq!(v["list"][0]["request_id"], "r1");

        let mut v = sample();
        alter_json(Fault::MissingFields, &mut v);
        assert!(v["list"][0].get("request_id").is_none(), "{v}");
        assert!(v["list"][1].get("RequestId").is_none(), "{v}");
        assert_eq!(v["list"][1]["Status"], "IN_PROGRESS");

        let mut v = sample();
        alter_json(Fault::DuplicateIds, &mut v);
        assert_eq!(v["list"].as_array().map(Vec::len), Some(3));
        assert_eq!(v["list"][2], v["list"][0]);

        let mut v = sample();
        alter_json(Fault::HugeBody, &mut v);
        assert!(v.to_string().len() > HUGE_BODY_BYTES);
        assert_eq!(v["list"], sample()["list"]);
    }

    #[test]
    fn every_fault_parses_from_its_name() {
        for fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>(), Ok(fault));
        }
        let names: std::collections::HashSet<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), Fault::ALL.len(), "names are distinct");
    }

    /// A rule with `times` is a transient fault: it hits the first N matching requests, then
    /// none; requests it does not match do not spend it.
    #[test]
    fn a_rule_is_spent_after_its_first_hits() {
        let injector = FaultInjector::new(
            Faults {
                rules: vec![FaultRule::on(Fault::Reset, "ListInstances").first(2)],
                ..Faults::default()
            },
            1,
        );
        let t = Duration::from_secs(1000);
        let other = "ListAccountAssignmentCreationStatus";
        assert_eq!(injector.decide(other, t), Admission::Serve);
        let got: Vec<Admission> = (0..4)
            .map(|_| injector.decide("ListInstances", t))
            .collect();
        assert_eq!(
            got,
            [
                Admission::Inject(Fault::Reset),
                Admission::Inject(Fault::Reset),
                Admission::Serve,
                Admission::Serve
            ]
        );
        assert_eq!(injector.current().rules[0].times, Some(0), "spent, shown");
        // With a ratio, the first N drawn: the same seed spends it on the same requests.
        let run = || {
            let injector = FaultInjector::new(
                Faults {
                    rules: vec![FaultRule::always(Fault::Throttle).share(0.5).first(5)],
                    ..Faults::default()
                },
                9,
            );
            (0..100)
                .map(|_| injector.decide(other, t) != Admission::Serve)
                .collect::<Vec<bool>>()
        };
        let hits = run();
        assert_eq!(hits.iter().filter(|h| **h).count(), 5);
        assert_eq!(hits, run());
    }

    #[test]
    fn times_parse_from_the_command_line_and_json() {
        assert_eq!(
            "reset:ListInstances#3".parse::<FaultRule>(),
            Ok(FaultRule::on(Fault::Reset, "ListInstances").first(3))
        );
        assert_eq!(
            "throttle@0.5#2".parse::<FaultRule>(),
            Ok(FaultRule::always(Fault::Throttle).share(0.5).first(2))
        );
        for bad in ["reset#", "reset#x", "reset#-1", "nope#3"] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad}");
        }
        let rule: FaultRule =
            serde_json::from_str(r#"{"fault": "not-the-api", "times": 1}"#).expect("rule");
        assert_eq!(rule, FaultRule::always(Fault::NotTheApi).first(1));
        let json = serde_json::to_string(&FaultRule::always(Fault::Slow)).expect("json");
        assert!(!json.contains("times"), "{json}");
    }

    #[test]
    fn hostile_text_goes_into_every_text_a_client_shows() {
        let mut v = serde_json::json!({
            "Instances": [{"Name": "Corp", "Status": "ACTIVE", "InstanceArn": "arn"}],
            "list": [{"Status": "FAILED", "RequestId": "r1", "CreatedDate": 1.5}],
            "one": {"status": "FAILED", "request_id": "r2", "failure_reason": "why",
                    "created_date": "2026-01-01T00:00:00Z"},
            "PermissionSet": {"Name": "Admin"},
            "NextToken": "abc"
        });
        alter_json(Fault::Hostile, &mut v);
        let hostile = |s: &str| format!("{s}{HOSTILE_TEXT}");
        assert_eq!(v["Instances"][0]["Name"], hostile("Corp"));
        assert_eq!(v["list"][0]["Status"], hostile("FAILED"));
        assert_eq!(v["list"][0]["RequestId"], hostile("r1"));
        assert_eq!(v["one"]["status"], hostile("FAILED"));
        assert_eq!(v["one"]["request_id"], hostile("r2"));
        assert_eq!(v["one"]["failure_reason"], hostile("why"));
        assert_eq!(v["PermissionSet"]["Name"], hostile("Admin"));
        // What a client sends back or parses as a date stays as it was.
        assert_eq!(v["Instances"][0]["Status"], "ACTIVE");
        assert_eq!(v["Instances"][0]["InstanceArn"], "arn");
        assert_eq!(v["list"][0]["CreatedDate"], 1.5);
        assert_eq!(v["one"]["created_date"], "2026-01-01T00:00:00Z");
        assert_eq!(v["NextToken"], "abc");
        for bad in ['\u{1b}', '\u{9b}', '\u{85}', '\u{202e}', '\u{7}'] {
            assert!(HOSTILE_TEXT.contains(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_huge_describe_has_a_10_mb_reason_and_a_huge_list_padding() {
        let mut v = serde_json::json!({
            "AccountAssignmentCreationStatus": {"Status": "FAILED", "FailureReason": "why"}
        });
        alter_json(Fault::HugeBody, &mut v);
        let reason = v["AccountAssignmentCreationStatus"]["FailureReason"]
            .as_str()
            .map_or(0, str::len);
        assert!(reason >= HUGE_BODY_BYTES, "{reason}");
        assert!(reason < HUGE_BODY_BYTES + 64, "{reason}");
        assert!(v.get("Padding").is_none(), "one 10 MB field, not two");
        let mut v = serde_json::json!({"list": [{"Status": "FAILED", "RequestId": "r1"}]});
        alter_json(Fault::HugeBody, &mut v);
        assert_eq!(v["list"][0]["RequestId"], "r1");
        assert!(
            v["Padding"]
                .as_str()
                .is_some_and(|p| p.len() >= HUGE_BODY_BYTES)
        );
    }

    /// `truncated-json` always ends in an open string, so a parser reports the end of the
    /// input, not some other syntax error that depends on where the middle fell.
    #[test]
    fn the_json_cut_ends_inside_a_string() {
        let bodies = [
            r#"{"Items":[{"Status":"FAILED","RequestId":"r1"},{"Status":"SUCCEEDED","RequestId":"r2"}]}"#
                .to_string(),
            r#"{"a":"x\"y\\","b":"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"}"#.to_string(),
            serde_json::json!({"PermissionSetsProvisioningStatus": (0..100)
                .map(|i| serde_json::json!({"Status": "FAILED", "RequestId": format!("id-{i}"),
                    "CreatedDate": 1.5 + f64::from(i)}))
                .collect::<Vec<_>>()})
            .to_string(),
        ];
        for body in bodies {
            let cut = mid_string_cut(body.as_bytes());
            assert!(cut >= body.len() / 2 && cut < body.len(), "{body}");
            let head = &body[..cut];
            let err = serde_json::from_str::<Value>(head).expect_err("cut");
            assert!(err.is_eof(), "{head}: {err}");
            assert!(!head.ends_with('\\'), "not inside an escape: {head}");
        }
        assert_eq!(mid_string_cut(b"[1,2,3,4]"), 4, "no string: the middle");
    }
}
