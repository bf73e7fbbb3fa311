//! Prometheus metrics for `ssowatch serve`, with `prometheus-client` (the official crate).
//!
//! Cardinality is bounded by construction: every label value comes from a closed set (kinds,
//! statuses, failure classes, operation names, outcomes) or is fixed for the process (provider,
//! instance). Request ids, principal ids and free-text reasons never become label values, so a
//! rollout of any size exports the same number of series.
//!
//! Names follow Prometheus' naming practice (<https://prometheus.io/docs/practices/naming/>):
//! a counter ends in `_total`, a time is in seconds and says so (`_seconds`, with an OpenMetrics
//! `UNIT`), and what Prometheus can compute is not exported twice. So there is no rate gauge of
//! the calls made (`rate(ssowatch_api_calls_total{operation!="other"}[1m])` is the Identity
//! Center spend, over any window the reader picks; `other` is the name lookups on services of
//! their own) and no separate throttle counter (`ssowatch_api_calls_total{outcome="throttled"}`).
//! The two gauges in requests per second are set points, not measurements: the configured
//! budget and the rate the adaptive limiter allows now. No counter exists to derive them from,
//! and Prometheus has no base unit for a frequency (its base units are seconds, bytes, ratios,
//! ...), so their unit is spelled out in full, `_requests_per_second`, rather than as `_rps`.
//!
//! The exposition is sorted, families by name and series by their labels, so two scrapes list
//! the same series in the same order: `prometheus-client` keeps a family's series in a hash
//! map, whose order changes as series are added and from one process to the next.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::app::DataState;
use crate::failures::{CAUSE_LABELS, cause_label};
use crate::model::{Described, OperationKind, Status, StatusSummary};
use crate::poller::{CallOutcome, Event, SpendReport};

mod calls;

pub use calls::OPERATIONS;
use calls::operation_label;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    provider: String,
    /// Not `instance`: Prometheus attaches its own `instance` label (the scrape target).
    sso_instance: String,
    kind: &'static str,
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    kind: &'static str,
    class: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    operation: &'static str,
    outcome: &'static str,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The metrics `ssowatch serve` exports, and what they are computed from.
pub struct Metrics {
    registry: Registry,
    provider: String,
    instance: String,
    stuck_after: Duration,
    requests: Family<RequestLabels, Gauge>,
    loaded: Family<KindLabels, Gauge>,
    stuck: Family<KindLabels, Gauge>,
    failures: Family<FailureLabels, Counter>,
    failed_requests: Family<FailureLabels, Gauge>,
    /// Failures of requests created before this time, and never seen in flight by this
    /// process, are history: they are in `failed_requests`, not in the counter of new ones.
    started: DateTime<Utc>,
    api_calls: Family<CallLabels, Counter>,
    limiter_rate: FloatGauge,
    budget: FloatGauge,
    last_success_age: FloatGauge,
    last_success_time: FloatGauge,
    tracking: Mutex<Tracking>,
}

/// What the failure counter and the stuck gauge need beyond the app's counts: which failures
/// were already counted, and when each in-flight request was created.
#[derive(Default)]
struct Tracking {
    /// FAILED requests already classified (each counted once).
    classified: HashSet<(OperationKind, Box<str>)>,
    /// Requests this process saw IN_PROGRESS: when they fail, the failure is new.
    watched: HashSet<(OperationKind, Box<str>)>,
    in_flight: HashMap<(OperationKind, Box<str>), DateTime<Utc>>,
}

impl Metrics {
    /// `provider` and `instance` are fixed for the process: one value each.
    pub fn new(provider: &str, instance: &str, stuck_after: Duration) -> Metrics {
        let mut registry = Registry::default();
        let requests: Family<RequestLabels, Gauge> = registered(
            &mut registry,
            "ssowatch_requests",
            "Requests known to ssowatch, by provider, Identity Center instance, kind and status (what `ssowatch list` would count)",
        );
        let loaded: Family<KindLabels, Gauge> = registered(
            &mut registry,
            "ssowatch_kind_loaded",
            "1 once the first full load of a kind is done; until then its request counts are partial",
        );
        let stuck: Family<KindLabels, Gauge> = registered(
            &mut registry,
            "ssowatch_requests_stuck",
            "Requests IN_PROGRESS for longer than the stuck threshold (--stuck-after)",
        );
        let failures: Family<FailureLabels, Counter> = registered(
            &mut registry,
            "ssowatch_failures",
            "New failures: requests that failed while ssowatch watched (seen in flight, or created after it started), by kind and normalised reason class",
        );
        let failed_requests: Family<FailureLabels, Gauge> = registered(
            &mut registry,
            "ssowatch_failed_requests",
            "FAILED requests whose reason is known, history included, by kind and normalised reason class",
        );
        let api_calls: Family<CallLabels, Counter> = registered(
            &mut registry,
            "ssowatch_api_calls",
            "Identity Center API calls made by this process, by operation and outcome (ok, throttled, denied, error)",
        );
        let limiter_rate: FloatGauge = registered(
            &mut registry,
            "ssowatch_limiter_requests_per_second",
            "The rate the adaptive limiter allows now, in requests per second: the budget, or less after throttling",
        );
        let budget: FloatGauge = registered(
            &mut registry,
            "ssowatch_api_budget_requests_per_second",
            "The configured API budget, in requests per second",
        );
        let last_success_age: FloatGauge = registered_in_seconds(
            &mut registry,
            "ssowatch_last_success_age",
            "Seconds since the last successful poll (since start while there has been none)",
        );
        let last_success_time: FloatGauge = registered_in_seconds(
            &mut registry,
            "ssowatch_last_success_timestamp",
            "Unix time of the last successful poll (0 before the first)",
        );
        let metrics = Metrics {
            registry,
            provider: provider.to_string(),
            instance: instance.to_string(),
            stuck_after,
            requests,
            loaded,
            stuck,
            failures,
            failed_requests,
            started: Utc::now(),
            api_calls,
            limiter_rate,
            budget,
            last_success_age,
            last_success_time,
            tracking: Mutex::new(Tracking::default()),
        };
        metrics.create_every_series();
        metrics
    }

    /// Every series exists from the start, at zero: `rate()` and `increase()` then see the
    /// first failure as an increase, and dashboards show 0 rather than "no data".
    fn create_every_series(&self) {
        for kind in OperationKind::ALL {
            for status in ["IN_PROGRESS", "FAILED", "SUCCEEDED", "OTHER"] {
                let _ = self
                    .requests
                    .get_or_create(&self.request_labels(kind, status));
            }
            let _ = self
                .loaded
                .get_or_create(&KindLabels { kind: kind.short() });
            let _ = self.stuck.get_or_create(&KindLabels { kind: kind.short() });
            for class in CAUSE_LABELS {
                let labels = FailureLabels {
                    kind: kind.short(),
                    class,
                };
                let _ = self.failures.get_or_create(&labels);
                let _ = self.failed_requests.get_or_create(&labels);
            }
        }
        // Throttled too: an alert on `rate(...{outcome="throttled"}[5m])` then sees the
        // first throttle as an increase, as it did the dedicated throttle counter this
        // replaces.
        for operation in OPERATIONS {
            for outcome in [CallOutcome::Ok, CallOutcome::Throttled] {
                let _ = self.api_calls.get_or_create(&CallLabels {
                    operation,
                    outcome: outcome.label(),
                });
            }
        }
    }

    fn request_labels(&self, kind: OperationKind, status: &'static str) -> RequestLabels {
        RequestLabels {
            provider: self.provider.clone(),
            sso_instance: self.instance.clone(),
            kind: kind.short(),
            status,
        }
    }

    /// One API call's operation and outcome.
    pub fn observe_call(&self, operation: &str, outcome: CallOutcome) {
        self.api_calls
            .get_or_create(&CallLabels {
                operation: operation_label(operation),
                outcome: outcome.label(),
            })
            .inc();
    }

    /// The limiter's current (possibly adaptive) rate.
    pub fn set_limiter_rate(&self, rps: f64) {
        self.limiter_rate.set(rps);
    }

    /// What the poller reports about its spend: the budget. What it spent is in the calls
    /// counter, for Prometheus to rate.
    pub fn observe_spend(&self, spend: &SpendReport) {
        self.budget.set(spend.budget_rps);
    }

    /// Looks at one poller event before the app applies it: calls are counted by operation
    /// and outcome, failures with their reasons once per request, and in-flight requests are
    /// remembered with their creation time.
    pub fn observe_event(&self, event: &Event) {
        match event {
            Event::Records { items, .. } => {
                let mut tracking = lock(&self.tracking);
                for item in items {
                    tracking.note_status(item);
                }
            }
            Event::Described(described) => self.observe_described(described),
            Event::Cached(all) => all.iter().for_each(|d| self.observe_described(d)),
            // Not describable (gone, or not ours): no longer counted as in flight.
            Event::DescribeFailed {
                kind, request_id, ..
            } => {
                lock(&self.tracking)
                    .in_flight
                    .remove(&(*kind, Box::<str>::from(request_id.as_str())));
            }
            Event::Spend(spend) => {
                self.observe_spend(spend);
                self.set_limiter_rate(spend.effective_rps);
            }
            Event::CallCompleted { operation, outcome } => self.observe_call(operation, *outcome),
            _ => {}
        }
    }

    fn observe_described(&self, described: &Described) {
        let summary = &described.summary;
        let mut tracking = lock(&self.tracking);
        tracking.note_status(summary);
        let key: (OperationKind, Box<str>) = (summary.kind, summary.request_id.as_str().into());
        if summary.status == Status::Failed
            && let Some(reason) = &described.detail.failure_reason
            && tracking.classified.insert(key.clone())
        {
            let labels = FailureLabels {
                kind: summary.kind.short(),
                class: cause_label(reason),
            };
            self.failed_requests.get_or_create(&labels).inc();
            if tracking.watched.remove(&key) || summary.created >= self.started {
                self.failures.get_or_create(&labels).inc();
            }
        } else if summary.status.is_finished() {
            tracking.watched.remove(&key);
        }
    }

    /// Sets the gauges from the app's data (never its view state), as of `now`. Called before each scrape is encoded.
    pub fn refresh_from(&self, state: &DataState, started: DateTime<Utc>, now: DateTime<Utc>) {
        for kind in OperationKind::ALL {
            let table = state.table(kind);
            let counts = table.counts;
            for (status, n) in [
                ("IN_PROGRESS", counts.in_progress),
                ("FAILED", counts.failed),
                ("SUCCEEDED", counts.succeeded),
                ("OTHER", counts.other),
            ] {
                self.requests
                    .get_or_create(&self.request_labels(kind, status))
                    .set(n as i64);
            }
            self.loaded
                .get_or_create(&KindLabels { kind: kind.short() })
                .set(i64::from(table.history_load.done));
        }
        let stuck_before =
            now - chrono::Duration::from_std(self.stuck_after).unwrap_or(chrono::Duration::MAX);
        let mut stuck = [0i64; 3];
        for ((kind, _), created) in &lock(&self.tracking).in_flight {
            if *created <= stuck_before {
                stuck[kind.index()] += 1;
            }
        }
        for kind in OperationKind::ALL {
            self.stuck
                .get_or_create(&KindLabels { kind: kind.short() })
                .set(stuck[kind.index()]);
        }
        self.set_last_success(state.last_success, started, now);
    }

    /// The staleness gauges as of `now` (set again at scrape time, so the age is current).
    pub fn set_last_success(
        &self,
        last_success: Option<DateTime<Utc>>,
        started: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let since = last_success.unwrap_or(started);
        self.last_success_age
            .set((now - since).num_milliseconds().max(0) as f64 / 1000.0);
        self.last_success_time
            .set(last_success.map_or(0.0, |t| t.timestamp_millis() as f64 / 1000.0));
    }

    /// The exposition for a scraper that asked for it (`Accept` names OpenMetrics): what
    /// Prometheus itself asks for. Anything else (curl, `promtool check metrics`, older
    /// scrapers) gets the classic Prometheus text format.
    pub fn encode_for(&self, accept: &str) -> (&'static str, String) {
        if accept.contains("application/openmetrics-text") {
            (OPENMETRICS_CONTENT_TYPE, self.encode())
        } else {
            (
                PROMETHEUS_TEXT_CONTENT_TYPE,
                openmetrics_to_prometheus_text(&self.encode()),
            )
        }
    }

    /// The OpenMetrics text exposition, families sorted by name and series by labels.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("encoding to a String");
        sorted_exposition(&out)
    }
}

pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const PROMETHEUS_TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Turns this crate's OpenMetrics text into the classic Prometheus text format (0.0.4). The
/// two differ, for what we export, only in three ways: a counter's HELP and TYPE lines name the
/// `_total` sample in the classic format, and it has neither UNIT lines nor the `# EOF` end.
fn openmetrics_to_prometheus_text(openmetrics: &str) -> String {
    let counters: HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let descriptor = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|prefix| line.strip_prefix(prefix).map(|rest| (prefix, rest)));
        match descriptor {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                if counters.contains(name) {
                    out.push_str(&format!("{prefix}{name}_total {tail}"));
                } else {
                    out.push_str(line);
                }
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

impl Tracking {
    fn note_status(&mut self, summary: &StatusSummary) {
        let key = (summary.kind, Box::<str>::from(summary.request_id.as_str()));
        if summary.status == Status::InProgress {
            self.watched.insert(key.clone());
            self.in_flight.insert(key, summary.created);
        } else {
            self.in_flight.remove(&key);
        }
    }
}

/// One metric family of an exposition: its descriptor lines (HELP, TYPE, UNIT) and its samples.
struct FamilyText<'a> {
    name: &'a str,
    descriptor: Vec<&'a str>,
    samples: Vec<&'a str>,
}

/// The exposition with its families in name order and each family's samples in the order of
/// their names and labels (the text before the value), ending in `# EOF` as it began. Every
/// family of `prometheus-client`'s text starts with its `# HELP` line.
fn sorted_exposition(text: &str) -> String {
    let mut families: Vec<FamilyText<'_>> = Vec::new();
    for line in text.lines() {
        if line == "# EOF" || line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            families.push(FamilyText {
                name: rest.split(' ').next().unwrap_or(rest),
                descriptor: vec![line],
                samples: Vec::new(),
            });
            continue;
        }
        let Some(family) = families.last_mut() else {
            // Nothing before the first family in this crate's output; kept all the same.
            families.push(FamilyText {
                name: "",
                descriptor: Vec::new(),
                samples: vec![line],
            });
            continue;
        };
        if line.starts_with('#') {
            family.descriptor.push(line);
        } else {
            family.samples.push(line);
        }
    }
    families.sort_by(|a, b| a.name.cmp(b.name));
    let mut out = String::with_capacity(text.len());
    for family in &mut families {
        family.samples.sort_by_key(|sample| series_key(sample));
        for line in family.descriptor.iter().chain(&family.samples) {
            out.push_str(line);
            out.push('\n');
        }
    }
    if text.lines().any(|l| l == "# EOF") {
        out.push_str("# EOF\n");
    }
    out
}

/// A sample line without its value: the name and labels that identify the series. The value
/// after them is a number, so the last `}` ends the key (the first space, without labels).
fn series_key(sample: &str) -> &str {
    let end = sample.rfind('}').map_or_else(
        || sample.find(' ').unwrap_or(sample.len()),
        |brace| brace + 1,
    );
    &sample[..end]
}

/// A new metric, registered: the registry keeps one handle, the caller the other.
fn registered<M>(registry: &mut Registry, name: &str, help: &str) -> M
where
    M: prometheus_client::registry::Metric + Clone + Default,
{
    let metric = M::default();
    registry.register(name, help, metric.clone());
    metric
}

/// A new metric in seconds: registered with the OpenMetrics unit, which also appends
/// `_seconds` to `name`.
fn registered_in_seconds<M>(registry: &mut Registry, name: &str, help: &str) -> M
where
    M: prometheus_client::registry::Metric + Clone + Default,
{
    let metric = M::default();
    registry.register_with_unit(name, help, Unit::Seconds, metric.clone());
    metric
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
