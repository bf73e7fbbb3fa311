//! API cost in deterministic simulated time: the poller's own planner, limiter and result
//! handling, the real AWS provider (SDK and wire), and the in-process emulator on a manual
//! clock. 10,000 finished records of each kind and a live rollout keeping about 50 requests in
//! flight, over 30 simulated minutes. Prints requests per second and the worst delay from a
//! request turning FAILED in the emulator to it showing FAILED in the app state, for the naive
//! strategy (list everything every interval) and for ssowatch's, side by side.
//!
//! Targets (README): ssowatch at most 1 request/s on average, and every new FAILED shown
//! within two refresh intervals.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use ssowatch::app::{self, AppState, ConnectionInfo, Msg, PollEvent, SpendReport};
use ssowatch::emulator::{self, Clock, EmulatorConfig};
use ssowatch::model::{OperationKind, Status};
use ssowatch::poller::budget::RateLimiter;
use ssowatch::poller::plan::{Planner, PlannerConfig, Strategy};
use ssowatch::poller::{execute, handle_result};
use ssowatch::provider::aws::{AwsOptions, AwsProvider};

const SIMULATED: Duration = Duration::from_secs(30 * 60);
const REFRESH: Duration = Duration::from_secs(10);
const HISTORY: usize = 10_000;
/// About 50 in flight: mean request duration is ~200 s in the emulator's mix.
const RATE: f64 = 0.37;

struct Outcome {
    calls: u64,
    worst_delay: Option<Duration>,
    failed_total: usize,
    failed_shown: usize,
    mean_in_flight: f64,
}

async fn simulate(strategy: Strategy, budget: f64) -> anyhow::Result<Outcome> {
    let start = Utc
        .with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
        .single()
        .unwrap_or_default();
    let clock = Clock::manual(start);
    let config = EmulatorConfig {
        seed: 2026,
        history: HISTORY,
        rate: RATE,
        failure_ratio: 0.1,
        ..EmulatorConfig::default()
    };
    let handle = emulator::start_with_clock(config, clock.clone(), 0).await?;
    let provider = AwsProvider::new(AwsOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(handle.base_url.clone()),
        static_credentials: Some((
            emulator::DEMO_AWS_ACCESS_KEY.into(),
            emulator::DEMO_AWS_SECRET_KEY.into(),
        )),
    })
    .await?;
    let instance = handle.instance_arn();

    let mut planner = Planner::new(PlannerConfig {
        refresh: REFRESH,
        full_relist_every: Duration::from_secs(30 * 60),
        strategy,
    });
    let mut limiter = RateLimiter::new(budget, 1);
    let mut spend = SpendReport::default();
    let mut state = AppState::new(
        ConnectionInfo::default(),
        REFRESH,
        start,
        chrono::Offset::fix(&Utc),
    );
    let mut shown_failed: HashMap<String, Duration> = HashMap::new();
    let mut now = Duration::ZERO;
    let mut calls = 0u64;
    let mut in_flight_samples = Vec::new();
    let mut next_sample = Duration::ZERO;

    while now <= SIMULATED {
        if now >= next_sample {
            let org = handle.core().org();
            let at = start + chrono::Duration::milliseconds(now.as_millis() as i64);
            let in_flight: usize = OperationKind::ALL
                .iter()
                .map(|&k| {
                    org.requests(k)
                        .iter()
                        .rev()
                        .take_while(|r| r.created > at - chrono::Duration::hours(1))
                        .filter(|r| r.created <= at && r.status_at(at) == Status::InProgress)
                        .count()
                })
                .sum();
            in_flight_samples.push(in_flight);
            next_sample += Duration::from_secs(60);
        }
        planner.schedule(now);
        while planner.has_work() && limiter.try_acquire(now) {
            let Some(call) = planner.next_call() else {
                break;
            };
            calls += 1;
            let result = execute(&provider, &instance, &call).await;
            let events = handle_result(
                &mut planner,
                &mut limiter,
                &mut spend,
                &mut None,
                call,
                result,
                now,
            );
            for event in events {
                match &event {
                    PollEvent::Records { items, .. } => {
                        for item in items.iter().filter(|i| i.status == Status::Failed) {
                            shown_failed.entry(item.request_id.clone()).or_insert(now);
                        }
                    }
                    PollEvent::Described(d) if d.summary.status == Status::Failed => {
                        shown_failed
                            .entry(d.summary.request_id.clone())
                            .or_insert(now);
                    }
                    _ => {}
                }
                app::update(&mut state, Msg::Poll(event));
            }
        }
        let mut next = planner.next_due().unwrap_or(now + REFRESH);
        if planner.has_work() {
            next = next.min(limiter.ready_at(now));
        }
        let next = next.max(now + Duration::from_millis(1));
        clock.advance(next - now);
        now = next;
    }

    // Every request that turned FAILED while there was time to see it (two intervals before
    // the end) must be on screen as FAILED.
    let org = handle.core().org();
    let horizon =
        start + chrono::Duration::milliseconds((SIMULATED - 2 * REFRESH).as_millis() as i64);
    let mut worst: Option<Duration> = None;
    let (mut total, mut shown) = (0, 0);
    for kind in OperationKind::ALL {
        for r in org
            .requests(kind)
            .iter()
            .filter(|r| r.failure_reason.is_some() && r.finishes > start && r.finishes <= horizon)
        {
            total += 1;
            let failed_at = (r.finishes - start).to_std().unwrap_or_default();
            if let Some(&seen) = shown_failed.get(&r.request_id) {
                shown += 1;
                let delay = seen.saturating_sub(failed_at);
                worst = Some(worst.map_or(delay, |w| w.max(delay)));
            }
        }
    }
    let app_failed = OperationKind::ALL
        .iter()
        .map(|&k| state.table(k).counts.failed)
        .sum::<usize>();
    assert!(app_failed >= shown, "app state lost FAILED rows");
    Ok(Outcome {
        calls,
        worst_delay: worst,
        failed_total: total,
        failed_shown: shown,
        mean_in_flight: in_flight_samples.iter().sum::<usize>() as f64
            / in_flight_samples.len().max(1) as f64,
    })
}

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let budget = ssowatch::config::DEFAULT_API_BUDGET_RPS;
    let naive = runtime.block_on(simulate(Strategy::Naive, 1000.0))?;
    let ours = runtime.block_on(simulate(Strategy::Budgeted, budget))?;
    let secs = SIMULATED.as_secs_f64();
    println!();
    println!(
        "api cost over {} simulated minutes: {HISTORY} finished records per kind, rollout of {RATE} requests/s (~{:.0} in flight), refresh {} s",
        SIMULATED.as_secs() / 60,
        ours.mean_in_flight,
        REFRESH.as_secs()
    );
    println!(
        "{:<10} {:>9} {:>8} {:>22} {:>14}",
        "strategy", "requests", "req/s", "worst FAILED delay", "FAILED shown"
    );
    for (name, o) in [("naive", &naive), ("ssowatch", &ours)] {
        println!(
            "{:<10} {:>9} {:>8.2} {:>22} {:>14}",
            name,
            o.calls,
            o.calls as f64 / secs,
            o.worst_delay
                .map_or("-".to_string(), |d| format!("{:.1} s", d.as_secs_f64())),
            format!("{}/{}", o.failed_shown, o.failed_total)
        );
    }
    let rps = ours.calls as f64 / secs;
    let worst = ours.worst_delay.unwrap_or(Duration::MAX);
    println!(
        "target: ssowatch <= 1.00 req/s and every FAILED within {} s",
        (2 * REFRESH).as_secs()
    );
    anyhow::ensure!(
        ours.failed_total > 0,
        "the rollout produced no failures to watch"
    );
    anyhow::ensure!(
        rps <= 1.0,
        "ssowatch spent {rps:.2} req/s, over the 1 req/s target"
    );
    anyhow::ensure!(
        ours.failed_shown == ours.failed_total,
        "{} FAILED requests never showed",
        ours.failed_total - ours.failed_shown
    );
    anyhow::ensure!(
        worst <= 2 * REFRESH,
        "worst FAILED delay {:.1} s exceeds two refresh intervals",
        worst.as_secs_f64()
    );
    Ok(())
}
