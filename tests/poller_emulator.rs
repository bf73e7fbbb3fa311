//! The dashboard's poller against the real AWS provider and the in-process emulator over
//! loopback: it never exceeds its budget in any 10 s window (counted by the emulator), and the
//! describe cache survives a restart (zero describes for requests already seen finished).

use std::sync::Arc;
use std::time::Duration;

use ssowatch::app::{DescribeUrgency, PollEvent};
use ssowatch::emulator::{self, EmulatorConfig, EmulatorHandle};
use ssowatch::model::{OperationKind, Status};
use ssowatch::poller::{self, PollerCommand, PollerConfig};
use ssowatch::provider::Provider;
use ssowatch::provider::aws::{AwsOptions, AwsProvider};
use tokio::sync::mpsc;

async fn provider(handle: &EmulatorHandle) -> Arc<dyn Provider> {
    let provider = AwsProvider::new(AwsOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(handle.base_url.clone()),
        static_credentials: Some((
            emulator::DEMO_AWS_ACCESS_KEY.into(),
            emulator::DEMO_AWS_SECRET_KEY.into(),
        )),
    })
    .await
    .expect("provider");
    Arc::new(provider)
}

fn describe_calls(handle: &EmulatorHandle) -> u64 {
    handle
        .stats()
        .by_operation
        .iter()
        .filter(|(op, _)| op.starts_with("Describe") && op.ends_with("Status"))
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_never_exceeds_its_budget_in_any_ten_second_window() {
    // Enough history that the first load alone wants far more than the budget.
    let handle = emulator::start(
        EmulatorConfig {
            history: 2000,
            rate: 2.0,
            ..EmulatorConfig::default()
        },
        0,
    )
    .await
    .expect("emulator");
    let (tx, mut rx) = mpsc::channel(4096);
    let budget = 2.0;
    let poller = poller::spawn(
        provider(&handle).await,
        handle.instance_arn(),
        PollerConfig::new(Duration::from_secs(2), budget),
        tx,
    );
    // Ask for describes too: interactive work shares the same budget.
    let ids: Vec<String> = handle
        .core()
        .org()
        .requests(OperationKind::AssignmentCreation)
        .iter()
        .take(30)
        .map(|r| r.request_id.clone())
        .collect();
    for id in ids {
        let _ = poller
            .commands
            .send(PollerCommand::Describe {
                kind: OperationKind::AssignmentCreation,
                request_id: id,
                urgency: DescribeUrgency::Interactive,
            })
            .await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(23);
    while let Ok(Some(_)) = tokio::time::timeout_at(deadline, rx.recv()).await {}
    drop(poller);

    let recent: Vec<i64> = handle.stats().recent.into_iter().collect();
    assert!(
        recent.len() >= 40,
        "the poller should have used its budget: {} calls",
        recent.len()
    );
    let limit = (budget * 10.0) as usize;
    for (i, &start) in recent.iter().enumerate() {
        let in_window = recent[i..]
            .iter()
            .take_while(|&&t| t < start + 10_000)
            .count();
        assert!(
            in_window <= limit,
            "{in_window} requests within 10 s (budget {limit})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_requests_are_not_described_again_after_a_restart() {
    let handle = emulator::start(
        EmulatorConfig {
            history: 20,
            rate: 0.0,
            ..EmulatorConfig::default()
        },
        0,
    )
    .await
    .expect("emulator");
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("describes.json");
    let targets: Vec<(OperationKind, String)> = OperationKind::ALL
        .iter()
        .flat_map(|&kind| {
            let org = handle.core().org();
            org.requests(kind)
                .iter()
                .take(5)
                .map(|r| (kind, r.request_id.clone()))
                .collect::<Vec<_>>()
        })
        .collect();

    // Run 1: describe 15 finished requests, then stop (the cache is written on exit).
    let run = |expect_cached: usize| {
        let handle = &handle;
        let cache = cache.clone();
        let targets = targets.clone();
        async move {
            let (tx, mut rx) = mpsc::channel(4096);
            let mut config = PollerConfig::new(Duration::from_secs(5), 20.0);
            config.cache_path = Some(cache);
            let poller = poller::spawn(provider(handle).await, handle.instance_arn(), config, tx);
            for (kind, id) in &targets {
                poller
                    .commands
                    .send(PollerCommand::Describe {
                        kind: *kind,
                        request_id: id.clone(),
                        urgency: DescribeUrgency::Interactive,
                    })
                    .await
                    .expect("send");
            }
            let mut cached = 0;
            let mut described = 0;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while let Ok(Some(event)) = tokio::time::timeout_at(deadline, rx.recv()).await {
                match event {
                    PollEvent::Cached(records) => {
                        assert!(records.iter().all(|d| d.summary.status.is_finished()));
                        cached += records.len();
                    }
                    PollEvent::Described(d) if d.summary.status != Status::InProgress => {
                        described += 1
                    }
                    _ => {}
                }
                if cached + described >= targets.len() && cached == expect_cached {
                    break;
                }
            }
            let poller::PollerHandle { commands, task } = poller;
            drop(commands);
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("poller stops")
                .expect("poller ok");
            (cached, described)
        }
    };

    let before = describe_calls(&handle);
    let (cached, described) = run(0).await;
    assert_eq!((cached, described), (0, 15));
    let after_first = describe_calls(&handle);
    assert_eq!(after_first - before, 15, "each request described once");
    assert!(cache.exists(), "cache written");

    // Run 2: a fresh process with the same cache: every answer comes from disk.
    let (cached, described) = run(15).await;
    assert_eq!(cached, 15);
    assert_eq!(described, 0);
    assert_eq!(
        describe_calls(&handle),
        after_first,
        "no describe calls after the restart"
    );
}
