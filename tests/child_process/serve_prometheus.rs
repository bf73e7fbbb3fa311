//! `ssowatch serve` as a team runs it: a real Prometheus scrapes it on loopback and a PromQL
//! query returns the FAILED counts `ssowatch list` sees; `promtool` accepts the exposition, the
//! alert rules and every query of the Grafana dashboard; the series count stays flat however
//! many requests finish; two scrapes list the series in the same (sorted) order; the names
//! keep to Prometheus' base units; it keeps to its budget by the emulator's own counter; and it
//! survives the emulator going away and coming back.
//!
//! Prometheus and promtool come from Debian's `prometheus` package, which `.ci/run` installs.
//! Run locally without them, those tests print a notice and pass; under CI they must be there.

use crate::support::ops as ops_support;
use crate::support::required_tool;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use ops_support::*;
use ssowatch::app::{self, AppState, ConnectionInfo, Msg};
use ssowatch::metrics::Metrics;
use ssowatch::model::{Described, OperationKind, RequestDetail, Status, StatusSummary};
use ssowatch::poller::{CallOutcome, Event};

const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets");

/// The path of a Prometheus tool, or `None` (with a notice) when it is not installed locally.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        required_tool::missing(name, "apt-get install prometheus");
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `ssowatch serve` against an endpoint, on a free loopback port; returns it and its URL.
fn serve(endpoint: &str, extra: &[&str], home: &Path) -> (KillOnDrop, String) {
    let mut args = vec!["--endpoint-url", endpoint];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["serve", "--listen", "127.0.0.1:0"]);
    let mut c = command(&args, home);
    c.stderr(Stdio::null());
    let mut child = KillOnDrop(c.spawn().expect("spawn serve"));
    let url = first_line(child.0.stdout.take().expect("stdout"));
    assert!(url.starts_with("http://127.0.0.1:"), "serve URL: {url:?}");
    (child, url)
}

fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let Some(promtool) = tool("promtool") else {
        return (true, String::new());
    };
    let mut c = Command::new(promtool);
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn promtool");
    if let Some(mut pipe) = child.stdin.take() {
        use std::io::Write;
        pipe.write_all(stdin.unwrap_or("").as_bytes())
            .expect("write promtool stdin");
    }
    let out = child.wait_with_output().expect("promtool output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The sample lines of an exposition (what Prometheus stores as series).
fn series(exposition: &str) -> Vec<&str> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect()
}

fn failed(kind: OperationKind, n: usize, reason: &str) -> Described {
    let id = format!("{:08x}-0000-4000-8000-{:012x}", kind.index(), n);
    Described {
        summary: StatusSummary {
            kind,
            request_id: id,
            status: Status::Failed,
            created: Utc::now(),
        },
        detail: RequestDetail {
            failure_reason: Some(reason.to_string()),
            target_account: Some(format!("{:012}", 100_000_000_000u64 + n as u64)),
            principal_id: Some(format!("principal-{n}")),
            ..RequestDetail::default()
        },
        source_call: "DescribeAccountAssignmentCreationStatus".into(),
        described_at: Utc::now(),
    }
}

/// Feeds requests through the metrics and the app the way serve does.
fn feed(metrics: &Metrics, state: &mut AppState, event: Event) {
    metrics.observe_event(&event);
    app::update(state, Msg::Poll(event));
}

#[test]
fn the_series_count_stays_flat_while_10000_more_requests_finish() {
    let metrics = Metrics::new(
        "aws",
        "arn:aws:sso:::instance/ssoins-1",
        Duration::from_secs(900),
    );
    let mut state = AppState::new(
        ConnectionInfo::default(),
        Duration::from_secs(10),
        Utc::now(),
        chrono::FixedOffset::east_opt(0).expect("utc"),
    );
    let reasons = [
        "Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/P{n}",
        "AWS SSO is unable to complete your request at this time. Obtaining permissions to manage your AWS account '{n}' takes longer than usual.",
        "Received a 404 status error: the GROUP assignee g-{n} was not found in directory d-1",
        "something never seen before, number {n}",
    ];
    let batch = |from: usize, to: usize| -> Vec<Described> {
        (from..to)
            .map(|n| {
                let kind = OperationKind::ALL[n % 3];
                let reason = reasons[n % reasons.len()].replace("{n}", &n.to_string());
                let mut d = failed(kind, n, &reason);
                if n % 2 == 0 {
                    d.summary.status = Status::Succeeded;
                    d.detail.failure_reason = None;
                }
                d
            })
            .collect()
    };
    let scrape = |metrics: &Metrics, state: &AppState| {
        metrics.refresh_from(&state.data, Utc::now(), Utc::now());
        metrics.encode()
    };
    let first = batch(0, 100);
    for kind in OperationKind::ALL {
        let items = first
            .iter()
            .filter(|d| d.summary.kind == kind)
            .map(|d| d.summary.clone())
            .collect();
        feed(&metrics, &mut state, Event::Records { kind, items });
    }
    for d in &first {
        feed(&metrics, &mut state, Event::Described(Box::new(d.clone())));
    }
    let before = scrape(&metrics, &state);
    let failed_before: f64 = counter_sum(&before, "ssowatch_failures_total");
    assert_eq!(failed_before, 50.0, "{before}");

    let more = batch(100, 10_100);
    for kind in OperationKind::ALL {
        let items = more
            .iter()
            .filter(|d| d.summary.kind == kind)
            .map(|d| d.summary.clone())
            .collect();
        feed(&metrics, &mut state, Event::Records { kind, items });
    }
    feed(&metrics, &mut state, Event::Cached(more.clone()));
    let after = scrape(&metrics, &state);

    assert_eq!(
        series(&before).len(),
        series(&after).len(),
        "series appeared:\n{after}"
    );
    assert_eq!(counter_sum(&after, "ssowatch_failures_total"), 5_050.0);
    assert_eq!(counter_sum(&after, "ssowatch_failed_requests"), 5_050.0);
    let failed_gauge: f64 = series(&after)
        .iter()
        .filter(|l| l.starts_with("ssowatch_requests{") && l.contains("status=\"FAILED\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(failed_gauge, 5_050.0, "{after}");
    // No id, account or principal made it into a label value.
    for d in more.iter().step_by(97) {
        assert!(!after.contains(&d.summary.request_id));
        for v in [&d.detail.target_account, &d.detail.principal_id]
            .into_iter()
            .flatten()
        {
            assert!(!after.contains(v.as_str()), "{v} leaked into a label");
        }
    }
}

#[test]
fn history_failures_are_known_but_not_new() {
    let metrics = Metrics::new("aws", "i", Duration::from_secs(900));
    let state = AppState::new(
        ConnectionInfo::default(),
        Duration::from_secs(10),
        Utc::now(),
        chrono::FixedOffset::east_opt(0).expect("utc"),
    );
    let an_hour_ago = Utc::now() - chrono::Duration::hours(1);
    let reason = "Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/X";
    let mut history = failed(OperationKind::AssignmentCreation, 1, reason);
    history.summary.created = an_hour_ago;
    metrics.observe_event(&Event::Described(Box::new(history.clone())));
    // Seen again (a re-list, a second describe): still one.
    metrics.observe_event(&Event::Described(Box::new(history)));
    let mut watched = failed(OperationKind::AssignmentCreation, 2, reason);
    watched.summary.created = an_hour_ago;
    let mut in_flight = watched.summary.clone();
    in_flight.status = Status::InProgress;
    metrics.observe_event(&Event::Records {
        kind: OperationKind::AssignmentCreation,
        items: vec![in_flight],
    });
    metrics.observe_event(&Event::Described(Box::new(watched)));
    metrics.refresh_from(&state.data, Utc::now(), Utc::now());
    let exposition = metrics.encode();
    assert!(
        exposition
            .contains("ssowatch_failed_requests{kind=\"creation\",class=\"policy_missing\"} 2\n"),
        "{exposition}"
    );
    assert!(
        exposition
            .contains("ssowatch_failures_total{kind=\"creation\",class=\"policy_missing\"} 1\n"),
        "{exposition}"
    );
}

#[test]
fn requests_in_flight_past_the_threshold_are_stuck_until_they_finish() {
    let metrics = Metrics::new("aws", "i", Duration::from_secs(15 * 60));
    let state = AppState::new(
        ConnectionInfo::default(),
        Duration::from_secs(10),
        Utc::now(),
        chrono::FixedOffset::east_opt(0).expect("utc"),
    );
    let kind = OperationKind::PermissionSetProvisioning;
    let mut old = failed(kind, 1, "").summary;
    old.status = Status::InProgress;
    old.created = Utc::now() - chrono::Duration::minutes(20);
    let mut young = failed(kind, 2, "").summary;
    young.status = Status::InProgress;
    young.created = Utc::now() - chrono::Duration::minutes(1);
    metrics.observe_event(&Event::Records {
        kind,
        items: vec![old.clone(), young],
    });
    let stuck = |metrics: &Metrics| {
        metrics.refresh_from(&state.data, Utc::now(), Utc::now());
        counter_sum(&metrics.encode(), "ssowatch_requests_stuck")
    };
    assert_eq!(stuck(&metrics), 1.0);
    let mut finished = failed(kind, 1, "");
    finished.summary.created = old.created;
    finished.summary.status = Status::Succeeded;
    finished.detail.failure_reason = None;
    metrics.observe_event(&Event::Described(Box::new(finished)));
    assert_eq!(stuck(&metrics), 0.0);
}

/// The series of an exposition without their values, in the order listed.
fn series_keys(exposition: &str) -> Vec<&str> {
    series(exposition)
        .into_iter()
        .map(|l| l.rsplit_once(' ').map_or(l, |(key, _)| key))
        .collect()
}

/// An exporter that has seen calls of every outcome and failures of every class.
fn busy_metrics() -> Metrics {
    let metrics = Metrics::new("aws", "i", Duration::from_secs(900));
    for (n, operation) in ssowatch::metrics::OPERATIONS.iter().enumerate() {
        for outcome in [
            CallOutcome::Ok,
            CallOutcome::Throttled,
            CallOutcome::Denied,
            CallOutcome::Error,
        ] {
            for _ in 0..=n {
                metrics.observe_call(operation, outcome);
            }
        }
    }
    let reasons = [
        "Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/P",
        "Cannot exceed quota for RolesPerAccount: 1000",
        "something never seen before",
    ];
    for (n, reason) in reasons.iter().enumerate() {
        for kind in OperationKind::ALL {
            metrics.observe_event(&Event::Described(Box::new(failed(kind, n, reason))));
        }
    }
    metrics
}

#[test]
fn two_scrapes_list_the_same_series_in_the_same_order() {
    // Two exporters fed alike: each family keeps its series in a hash map with a random order
    // of its own, so only a sorted exposition lists them alike.
    let (one, other) = (busy_metrics(), busy_metrics());
    let first = one.encode();
    assert_eq!(series_keys(&first), series_keys(&other.encode()));
    // Families by name, series by name and labels.
    let families: Vec<&str> = first
        .lines()
        .filter_map(|l| l.strip_prefix("# HELP "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(families.len() >= 8, "{first}");
    assert!(families.is_sorted(), "{families:?}");
    for family in first.split("# HELP ").skip(1) {
        let samples = family.split_once('\n').map_or("", |(_, rest)| rest);
        assert!(series_keys(samples).is_sorted(), "{family}");
    }
    // A scrape after new series appeared lists the earlier ones in the same order.
    one.observe_call("a call of another service", CallOutcome::Error);
    let second = one.encode();
    let earlier: HashSet<&str> = series_keys(&first).into_iter().collect();
    let kept: Vec<&str> = series_keys(&second)
        .into_iter()
        .filter(|k| earlier.contains(k))
        .collect();
    assert_eq!(kept, series_keys(&first));
    assert_eq!(series_keys(&second).len(), series_keys(&first).len() + 1);
    // The classic text format keeps the order.
    let (_, classic) = one.encode_for("text/plain");
    assert_eq!(series_keys(&classic), series_keys(&second));
}

#[test]
fn metric_names_use_base_units_and_say_each_thing_once() {
    let metrics = Metrics::new("aws", "i", Duration::from_secs(900));
    let exposition = metrics.encode();
    let names: Vec<&str> = exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    for name in &names {
        assert!(
            !name.ends_with("_rps") && !name.contains("millis") && !name.contains("throttles"),
            "{name} is not named in base units, or duplicates the calls counter"
        );
    }
    // Times are in seconds, and say so to OpenMetrics too.
    for name in [
        "ssowatch_last_success_age_seconds",
        "ssowatch_last_success_timestamp_seconds",
    ] {
        assert!(
            exposition.contains(&format!("# UNIT {name} seconds\n")),
            "{exposition}"
        );
    }
    // Throttling is the calls counter's `throttled` outcome, there from the start at zero
    // for every operation, so the first throttle is an increase.
    for operation in ssowatch::metrics::OPERATIONS {
        let line = format!(
            "ssowatch_api_calls_total{{operation=\"{operation}\",outcome=\"throttled\"}} 0\n"
        );
        assert!(exposition.contains(&line), "{line}{exposition}");
    }
}

/// Sum of the samples of one metric in an exposition.
fn counter_sum(exposition: &str, name: &str) -> f64 {
    series(exposition)
        .iter()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn promtool_accepts_the_exposition_the_rules_and_the_dashboard_queries() {
    let home = tempfile::tempdir().expect("tempdir");
    let emu = emulator_with(
        &[
            ("--history", "50"),
            ("--rate", "0.2"),
            ("--failure-ratio", "0.3"),
        ],
        home.path(),
    );
    let (_serve, url) = serve(
        &emu.url,
        &["--api-budget", "10", "--refresh", "1"],
        home.path(),
    );
    // Wait until failures with reasons are counted, so every kind of series has a value.
    let exposition = eventually(240, "counted failures", || {
        let (status, body) = http_get(&format!("{url}/metrics"), None)?;
        assert_eq!(status, 200);
        (counter_sum(&body, "ssowatch_failed_requests") > 0.0).then_some(body)
    });
    let (ok, out) = promtool(&["check", "metrics"], Some(&exposition));
    assert!(
        ok && out.trim().is_empty(),
        "promtool check metrics: {out}\n{exposition}"
    );
    // A second scrape of the live exporter lists the series of the first in the same order.
    let (_, again) = http_get(&format!("{url}/metrics"), None).expect("metrics");
    let again_keys: HashSet<&str> = series_keys(&again).into_iter().collect();
    let first_keys: HashSet<&str> = series_keys(&exposition).into_iter().collect();
    assert_eq!(
        series_keys(&again)
            .into_iter()
            .filter(|k| first_keys.contains(k))
            .collect::<Vec<_>>(),
        series_keys(&exposition)
            .into_iter()
            .filter(|k| again_keys.contains(k))
            .collect::<Vec<_>>(),
    );
    // Prometheus itself asks for OpenMetrics and gets it.
    let (_, openmetrics) = http_get(
        &format!("{url}/metrics"),
        Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
    )
    .expect("metrics");
    assert!(openmetrics.ends_with("# EOF\n"), "{openmetrics}");

    let rules = format!("{ASSETS}/prometheus-alerts.yml");
    let (ok, out) = promtool(&["check", "rules", &rules], None);
    assert!(ok, "promtool check rules: {out}");

    // Every dashboard query parses (as a recording rule) and names only exported metrics.
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ASSETS}/grafana-dashboard.json")).expect("dashboard"),
    )
    .expect("the dashboard is JSON");
    let mut exprs = Vec::new();
    collect_exprs(&dashboard, &mut exprs);
    assert!(exprs.len() >= 10, "{exprs:?}");
    let mut names = HashSet::new();
    let name_re = regex::Regex::new(r"ssowatch_[a-z_]+").expect("regex");
    let alert_text = std::fs::read_to_string(&rules).expect("rules");
    for text in exprs
        .iter()
        .map(String::as_str)
        .chain([alert_text.as_str()])
    {
        names.extend(name_re.find_iter(text).map(|m| m.as_str().to_string()));
    }
    for name in &names {
        assert!(
            exposition.contains(&format!("\n{name}{{"))
                || exposition.contains(&format!("\n{name} ")),
            "{name} is queried but not exported"
        );
    }
    let recording: String = exprs
        .iter()
        .enumerate()
        .map(|(i, e)| {
            format!(
                "      - record: dashboard:query{i}\n        expr: {}\n",
                serde_json::to_string(&e.replace("$sso_instance", ".*")).expect("quote")
            )
        })
        .collect();
    let file = home.path().join("dashboard-queries.yml");
    std::fs::write(
        &file,
        format!("groups:\n  - name: dashboard\n    rules:\n{recording}"),
    )
    .expect("write queries");
    let (ok, out) = promtool(&["check", "rules", file.to_str().expect("utf-8")], None);
    assert!(ok, "a dashboard query does not parse: {out}");
}

fn collect_exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(e)) = map.get("expr") {
                out.push(e.clone());
            }
            map.values().for_each(|v| collect_exprs(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

/// Runs a real Prometheus scraping `target` every second, until dropped.
fn prometheus(target: &str, dir: &Path) -> Option<(KillOnDrop, String)> {
    let binary = tool("prometheus")?;
    let port = free_port();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: ssowatch\n    static_configs:\n      - targets: ['{}']\n",
            target.trim_start_matches("http://")
        ),
    )
    .expect("write prometheus.yml");
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn prometheus");
    Some((KillOnDrop(child), format!("http://127.0.0.1:{port}")))
}

/// An instant PromQL query through Prometheus's HTTP API: value by the `kind` label.
fn query_by_kind(prometheus: &str, promql: &str) -> Option<BTreeMap<String, u64>> {
    let url = reqwest::Url::parse_with_params(
        &format!("{prometheus}/api/v1/query"),
        &[("query", promql)],
    )
    .expect("query URL");
    let (status, body) = http_get(url.as_str(), None)?;
    if status != 200 {
        return None;
    }
    let answer: serde_json::Value = serde_json::from_str(&body).ok()?;
    let results = answer["data"]["result"].as_array()?;
    results
        .iter()
        .map(|r| {
            let kind = r["metric"]["kind"].as_str()?.to_string();
            let value = r["value"][1].as_str()?.parse::<f64>().ok()? as u64;
            Some((kind, value))
        })
        .collect()
}

/// The first `n` lines a child prints, within 60 s; the rest is drained so it never blocks.
fn first_lines(stdout: std::process::ChildStdout, n: usize) -> Vec<String> {
    use std::io::{BufRead, BufReader, Read};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut lines = Vec::new();
        for _ in 0..n {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            lines.push(line.trim_end().to_string());
        }
        let _ = tx.send(lines);
        let _ = reader.read_to_end(&mut Vec::new());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the child prints its URLs within 60 s")
}

/// `ssowatch --demo serve` on a free loopback port: the child, the exporter's URL and the URL
/// of the demo emulator it polls (its second stdout line).
fn serve_demo(extra: &[&str], home: &Path) -> (KillOnDrop, String, String) {
    let mut args = vec!["--demo"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["serve", "--listen", "127.0.0.1:0"]);
    let mut c = command(&args, home);
    c.stderr(Stdio::null());
    let mut child = KillOnDrop(c.spawn().expect("spawn serve"));
    let lines = first_lines(child.0.stdout.take().expect("stdout"), 3);
    assert_eq!(lines.len(), 3, "serve --demo prints three lines: {lines:?}");
    for url in &lines[..2] {
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "a loopback URL: {lines:?}"
        );
    }
    assert_ne!(lines[0], lines[1], "two servers: {lines:?}");
    assert!(
        lines[2].contains(&lines[1]),
        "the operator's line names the emulator too: {lines:?}"
    );
    (child, lines[0].clone(), lines[1].clone())
}

/// FAILED requests per kind as `ssowatch list --status failed` sees them.
fn failed_by_kind(endpoint: &str, home: &Path) -> Option<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for row in try_list_json(endpoint, &["--status", "failed"], home)? {
        *counts
            .entry(row["kind"].as_str()?.to_string())
            .or_insert(0u64) += 1;
    }
    Some(counts)
}

#[test]
fn prometheus_reports_the_failed_counts_that_list_shows() {
    // The issue's check, as an operator would do it: `serve --demo`, a real Prometheus
    // scraping it, and `list` against the very emulator that serve polls. The demo rollout
    // goes on (a failure every few seconds), so the two are compared until they agree: list
    // read between two Prometheus answers that agree with each other and with it.
    let home = tempfile::tempdir().expect("tempdir");
    let (_serve, url, emulator_url) =
        serve_demo(&["--api-budget", "10", "--refresh", "2"], home.path());
    let Some((_prometheus, prom)) = prometheus(&url, home.path()) else {
        return;
    };
    let failed_in_prometheus = || {
        let loaded = query_by_kind(&prom, "ssowatch_kind_loaded == 1")?;
        if loaded.len() < 3 {
            return None;
        }
        let counts = query_by_kind(
            &prom,
            r#"sum by (kind) (ssowatch_requests{status="FAILED"})"#,
        )?;
        (counts.len() == 3).then_some(counts)
    };
    let mut last_seen = None;
    let agreed = eventually(
        480,
        "Prometheus and list to agree on the FAILED counts",
        || {
            let before = failed_in_prometheus()?;
            let from_list = failed_by_kind(&emulator_url, home.path())?;
            let after = failed_in_prometheus()?;
            last_seen = Some((before.clone(), from_list.clone(), after.clone()));
            (before == from_list && from_list == after).then_some(from_list)
        },
    );
    assert_eq!(
        agreed.len(),
        3,
        "failures of every kind: {agreed:?} ({last_seen:?})"
    );
    assert!(
        agreed.values().all(|&n| n > 0),
        "the demo has failures of every kind: {agreed:?}"
    );
}

#[test]
fn serve_keeps_to_its_budget_by_the_emulators_counter() {
    let home = tempfile::tempdir().expect("tempdir");
    // Far more work than one call a second can do: 3 kinds x 300 records, 30% failed.
    let emu = emulator_with(
        &[
            ("--history", "300"),
            ("--rate", "0.5"),
            ("--failure-ratio", "0.3"),
        ],
        home.path(),
    );
    // The Identity Center calls: what the budget governs (names have limiters of their own).
    let before = emulator_stats(&emu.url)["identity_center_total"]
        .as_u64()
        .expect("identity_center_total");
    let started = Instant::now();
    let (serve_child, url) = serve(
        &emu.url,
        &["--api-budget", "1", "--refresh", "1"],
        home.path(),
    );
    // Let it work for a while, then read the counter and only then the clock: an upper bound.
    eventually(160, "serve to be busy", || {
        let (_, body) = http_get(&format!("{url}/metrics"), None)?;
        (counter_sum(&body, "ssowatch_api_calls_total") >= 8.0).then_some(())
    });
    let spent = emulator_stats(&emu.url)["identity_center_total"]
        .as_u64()
        .expect("identity_center_total")
        - before;
    let elapsed = started.elapsed().as_secs_f64();
    drop(serve_child);
    assert!(spent >= 8, "serve made {spent} calls");
    // One ListInstances to find the instance, then at most one call per second, the first
    // at once.
    assert!(
        spent as f64 <= elapsed + 2.0,
        "{spent} calls in {elapsed:.1} s at a budget of 1 per second"
    );
}

#[test]
fn serve_survives_the_emulator_going_away_and_coming_back() {
    let home = tempfile::tempdir().expect("tempdir");
    let port = free_port().to_string();
    let emulator_args = ["--port", port.as_str(), "--history", "20", "--rate", "0.1"];
    let mut emu = emulator(&emulator_args, home.path());
    let (mut serve_child, url) = serve(&emu.url, &["--refresh", "1"], home.path());
    let healthz = format!("{url}/healthz");
    let health = |expect: u16| {
        let healthz = healthz.clone();
        move || {
            let (status, body) = http_get(&healthz, None)?;
            (status == expect).then_some(body)
        }
    };
    eventually(120, "healthy at start", health(200));
    // Started without --api-budget: serve's own default, the team's budget, not a dashboard's.
    let budget = eventually(60, "the budget reported", || {
        let (_, body) = http_get(&format!("{url}/metrics"), None)?;
        let budget = counter_sum(&body, "ssowatch_api_budget_requests_per_second");
        (budget > 0.0).then_some(budget)
    });
    assert_eq!(budget, ssowatch::config::SERVE_API_BUDGET_RPS);

    drop(emu);
    let body = eventually(120, "unhealthy once the emulator is gone", health(503));
    assert!(body.contains("\"healthy\":false"), "{body}");

    emu = emulator(&emulator_args, home.path());
    eventually(360, "healthy again once it is back", health(200));
    assert!(
        serve_child.0.try_wait().expect("poll").is_none(),
        "serve kept running: no restart"
    );
    drop(emu);
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let r = run(&["--demo", "serve", "--listen", &addr], home.path());
    assert_exit(&r, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with(&format!("ssowatch: error: cannot listen on {addr}")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("--listen"),
        "says what to do: {}",
        r.stderr
    );
}

/// GET with an optional bearer token; `None` when nothing answers.
fn http_get_with_token(url: &str, token: Option<&str>) -> Option<(u16, String)> {
    let headers: Vec<(&str, String)> = token
        .map(|t| ("authorization", format!("Bearer {t}")))
        .into_iter()
        .collect();
    http_get_with(url, &headers)
}

/// FAILED per kind in a hub snapshot, once the hub has loaded.
fn hub_failed_by_kind(snapshot: &serde_json::Value) -> Option<BTreeMap<String, u64>> {
    if snapshot["health"]["loaded"] != serde_json::json!(true) {
        return None;
    }
    let mut counts = BTreeMap::new();
    for totals in snapshot["totals"].as_array()? {
        let failed = totals["failed"].as_u64()?;
        if failed > 0 {
            // list's kind labels: creation, deletion, provisioning.
            let kind = totals["kind"].as_str()?;
            let label = kind.rsplit('-').next()?;
            counts.insert(label.to_string(), failed);
        }
    }
    Some(counts)
}

#[test]
fn the_hub_answers_only_with_its_token_and_its_snapshot_counts_what_list_shows() {
    let home = tempfile::tempdir().expect("tempdir");
    let emu = emulator_with(
        &[
            ("--history", "60"),
            ("--rate", "0.1"),
            ("--failure-ratio", "0.3"),
        ],
        home.path(),
    );
    let token_file = home.path().join("hub-token");
    std::fs::write(&token_file, "hub-secret-0123456789\n").expect("token file");
    let token_path = token_file.display().to_string();
    let mut c = command(
        &[
            "--endpoint-url",
            &emu.url,
            "--api-budget",
            "10",
            "--refresh",
            "1",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--token-file",
            &token_path,
        ],
        home.path(),
    );
    c.stderr(Stdio::piped());
    let mut child = KillOnDrop(c.spawn().expect("spawn serve"));
    let url2 = first_line(child.0.stdout.take().expect("stdout"));
    let snapshot_url = format!("{url2}/v1/snapshot");
    for (token, what) in [
        (None, "no token"),
        (Some("hub-secret-012345678"), "a prefix of it"),
        (Some("hub-secret-0123456789x"), "a longer one"),
        (Some("wrong"), "a wrong one"),
    ] {
        let (status, body) = http_get_with_token(&snapshot_url, token).expect("serve answers");
        assert_eq!(status, 401, "{what}: {body}");
        assert!(!body.contains("hub-secret"), "{body}");
    }
    let (status, _) = http_get_with_token(&format!("{url2}/metrics"), None).expect("answers");
    assert_eq!(status, 401, "/metrics shows the organization too");
    let (status, _) =
        http_get_with_token(&format!("{url2}/v1/stream"), Some("wrong")).expect("answers");
    assert_eq!(status, 401);
    // With the token: a versioned snapshot whose FAILED counts are list's.
    let agreed = eventually(480, "the hub's FAILED counts to be list's", || {
        let (status, body) = http_get_with_token(&snapshot_url, Some("hub-secret-0123456789"))?;
        assert_eq!(status, 200, "{body}");
        let snapshot: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(snapshot["version"], serde_json::json!(1));
        let before = hub_failed_by_kind(&snapshot)?;
        let listed = failed_by_kind(&emu.url, home.path())?;
        (before == listed).then_some(listed)
    });
    assert!(!agreed.is_empty(), "the emulator has failures: {agreed:?}");
    // `list --hub` with the token from the environment: list's rows, from the hub's snapshot.
    let hub_list = |token: &str| {
        let mut c = command(
            &["--hub", &url2, "list", "--status", "failed", "-o", "json"],
            home.path(),
        );
        c.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("SSOWATCH_HUB_TOKEN", token);
        finish(c)
    };
    let r = hub_list("hub-secret-0123456789");
    assert_exit(&r, 0);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).expect("JSON rows");
    let mut from_hub = BTreeMap::new();
    for row in &rows {
        *from_hub
            .entry(row["kind"].as_str().expect("kind").to_string())
            .or_insert(0u64) += 1;
    }
    assert_eq!(from_hub, agreed, "list --hub counts what list counts");
    let r = hub_list("wrong");
    assert_exit(&r, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("refused the token"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("wrong") && !r.stderr.contains("hub-secret"),
        "{}",
        r.stderr
    );
    // The token never reaches the log or the terminal.
    drop(child);
    let log_dir = home.path();
    let mut leaked = Vec::new();
    for entry in walk(log_dir) {
        if entry == token_file {
            continue;
        }
        if std::fs::read_to_string(&entry).is_ok_and(|t| t.contains("hub-secret")) {
            leaked.push(entry);
        }
    }
    assert!(leaked.is_empty(), "the token was written to {leaked:?}");
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn serve_on_a_non_loopback_address_without_a_token_is_one_clear_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let r = run(&["--demo", "serve", "--listen", "0.0.0.0:0"], home.path());
    assert_exit(&r, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("--token-file"), "{}", r.stderr);
    assert!(r.stderr.contains("0.0.0.0"), "{}", r.stderr);
}

#[test]
fn a_hub_client_keeps_its_data_and_reconnects_after_the_hub_restarts() {
    use ssowatch::hub::client::{HubClient, HubTarget, Update};
    let home = tempfile::tempdir().expect("tempdir");
    let emu = emulator_with(&[("--history", "20"), ("--rate", "0.1")], home.path());
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let start_serve = || {
        let mut c = command(
            &[
                "--endpoint-url",
                &emu.url,
                "--refresh",
                "1",
                "serve",
                "--listen",
                &listen,
            ],
            home.path(),
        );
        c.stderr(Stdio::null());
        let mut child = KillOnDrop(c.spawn().expect("spawn serve"));
        first_line(child.0.stdout.take().expect("stdout"));
        child
    };
    let serve_child = start_serve();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = HubClient::new(HubTarget {
            url: format!("http://{listen}/"),
            token: None,
        })
        .expect("client");
        let (snapshot, stream) = client.open().await.expect("the hub answers");
        assert_eq!(snapshot.version, ssowatch::hub::VERSION);
        let (tx, mut updates) = tokio::sync::mpsc::channel(4096);
        let follower = client.follow(stream, tx);
        drop(serve_child);
        // The hub is gone: the client says so, and waits a jittered while before trying.
        let down = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match updates.recv().await {
                    Some(Update::Down { retry_in, .. }) => return retry_in,
                    Some(_) => continue,
                    None => panic!("the follower stopped"),
                }
            }
        })
        .await
        .expect("a Down within a minute");
        assert!(down >= Duration::from_millis(250), "{down:?}");
        let _serve_again = start_serve();
        let back = tokio::time::timeout(Duration::from_secs(120), async {
            loop {
                match updates.recv().await {
                    Some(Update::Snapshot(snapshot)) => return snapshot,
                    Some(Update::Fatal(line)) => panic!("not fatal: {line}"),
                    Some(_) => continue,
                    None => panic!("the follower stopped"),
                }
            }
        })
        .await
        .expect("a fresh snapshot once the hub is back");
        assert_eq!(back.version, ssowatch::hub::VERSION);
        follower.abort();
    });
}

#[test]
fn what_one_client_asks_the_hub_is_answered_to_every_client_and_a_raise_is_capped() {
    use ssowatch::hub::Command as HubCommand;
    use ssowatch::hub::client::{HubClient, HubTarget, Update};
    use ssowatch::poller::{DescribeRequest, Priority};
    let home = tempfile::tempdir().expect("tempdir");
    let emu = emulator_with(&[("--history", "30"), ("--rate", "0")], home.path());
    let (_serve, url) = serve(&emu.url, &["--api-budget", "5"], home.path());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let target = HubTarget {
            url: url.clone(),
            token: None,
        };
        let asking = HubClient::new(target.clone()).expect("client");
        let watching = HubClient::new(target).expect("client");
        // A SUCCEEDED request of the history: nobody describes those unless asked.
        let succeeded = loop {
            let snapshot = asking.snapshot().await.expect("snapshot");
            let found = snapshot.events.iter().find_map(|e| match e {
                Event::Records { items, .. } => items
                    .iter()
                    .find(|s| s.status == Status::Succeeded)
                    .cloned(),
                _ => None,
            });
            if let Some(found) = found {
                break found;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let (_, stream) = watching.open().await.expect("stream");
        let (tx, mut updates) = tokio::sync::mpsc::channel(4096);
        let follower = watching.clone().follow(stream, tx);
        asking
            .send(&HubCommand::Describe(DescribeRequest {
                kind: succeeded.kind,
                request_id: succeeded.request_id.clone(),
                priority: Priority::Interactive,
            }))
            .await
            .expect("the hub takes the describe");
        // The other client sees the answer.
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match updates.recv().await {
                    Some(Update::Event(event)) => {
                        if let Event::Described(d) = *event
                            && d.summary.request_id == succeeded.request_id
                        {
                            return;
                        }
                    }
                    Some(_) => {}
                    None => panic!("the follower stopped"),
                }
            }
        })
        .await
        .expect("the describe's answer reaches the other client");
        follower.abort();
        // A client may raise the shared budget, but no further than the cap.
        asking
            .send(&HubCommand::SetBudget(Some(50.0)))
            .await
            .expect("the hub takes the raise");
        let budget = loop {
            let spend = asking.snapshot().await.expect("snapshot").spend;
            // The hub's own budget is 5: wait for the raise to show.
            if (spend.budget_rps - 5.0).abs() > 0.01 {
                break spend.budget_rps;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        assert_eq!(budget, ssowatch::hub::server::MAX_CLIENT_BUDGET_RPS);
        asking
            .send(&HubCommand::SetBudget(None))
            .await
            .expect("the hub takes the reset");
        // A garbled command is refused with a line, not taken.
        let garbled = reqwest::Client::new()
            .post(format!("{url}/v1/command"))
            .body("{\"type\":\"drop_tables\"}")
            .send()
            .await
            .expect("answers");
        assert_eq!(garbled.status().as_u16(), 400);
    });
}

#[test]
fn wait_list_and_failures_run_on_a_hub_without_cloud_credentials() {
    let home = tempfile::tempdir().expect("tempdir");
    let emu = emulator_with(
        &[
            ("--history", "40"),
            ("--rate", "0"),
            ("--failure-ratio", "0.3"),
        ],
        home.path(),
    );
    let (_serve, url) = serve(&emu.url, &["--api-budget", "10"], home.path());
    let on_hub = |args: &[&str]| {
        let mut all = vec!["--hub", url.as_str()];
        all.extend_from_slice(args);
        let mut c = command(&all, home.path());
        c.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY");
        finish(c)
    };
    // Once the hub has loaded, pick a FAILED and a SUCCEEDED request from list --hub.
    let rows = eventually(480, "the hub to list every FAILED request", || {
        let (_, body) = http_get(&format!("{url}/v1/snapshot"), None)?;
        let snapshot: serde_json::Value = serde_json::from_str(&body).ok()?;
        let hub = hub_failed_by_kind(&snapshot)?;
        let listed = failed_by_kind(&emu.url, home.path())?;
        if hub != listed {
            return None;
        }
        let r = on_hub(&["list", "-o", "json"]);
        assert_exit(&r, 0);
        serde_json::from_str::<Vec<serde_json::Value>>(&r.stdout).ok()
    });
    let id_of = |status: &str| {
        rows.iter()
            .find(|r| r["status"] == status)
            .and_then(|r| r["request_id"].as_str())
            .expect("a request of that status")
            .to_string()
    };
    let (failed, succeeded) = (id_of("FAILED"), id_of("SUCCEEDED"));
    let r = on_hub(&["wait", "--request-id", &succeeded, "--timeout", "2m"]);
    assert_exit(&r, 0);
    let r = on_hub(&["wait", "--request-id", &failed, "--timeout", "2m"]);
    assert_exit(&r, 1);
    assert!(r.stdout.contains(&failed), "{}", r.stdout);
    let r = on_hub(&["failures", "--exact", "-o", "json"]);
    assert_exit(&r, 0);
    assert!(r.stdout.contains("\"count\""), "{}", r.stdout);
    let r = on_hub(&["describe", &failed]);
    assert_exit(&r, 1);
    assert!(r.stderr.contains("--hub works with"), "{}", r.stderr);
}
