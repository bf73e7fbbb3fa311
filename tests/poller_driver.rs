//! The poller task against an in-memory test double, in tokio's paused (simulated) time: budget
//! spacing, priorities, describe-once, recovery, and a crashing call reported to the UI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use ssowatch::app::{DescribeUrgency, PollEvent};
use ssowatch::model::{
    Described, Instance, OperationKind, Page, RequestDetail, Status, StatusSummary,
};
use ssowatch::poller::{self, PollerCommand, PollerConfig};
use ssowatch::provider::{ErrorKind, Provider, ProviderError, ProviderInfo};
use tokio::sync::mpsc;
use tokio::time::Instant;

#[derive(Default)]
struct World {
    /// kind -> (id, status)
    records: HashMap<OperationKind, Vec<(String, Status)>>,
    calls: Vec<(Instant, String)>,
    throttle_next: usize,
    panic_on_describe: bool,
}

/// An in-memory Identity Center: pages of `page_size`, status filter, describe.
struct FakeProvider {
    world: Arc<Mutex<World>>,
    page_size: usize,
}

fn created(i: usize) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + i as i64, 0)
        .single()
        .unwrap_or_default()
}

#[async_trait]
impl Provider for FakeProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            name: "fake".into(),
            ..Default::default()
        }
    }

    async fn list_instances(&self) -> Result<Vec<Instance>, ProviderError> {
        Ok(vec![])
    }

    async fn list_page(
        &self,
        _instance: &str,
        kind: OperationKind,
        status: Option<&Status>,
        token: Option<&str>,
    ) -> Result<Page, ProviderError> {
        let mut world = self.world.lock().unwrap();
        world
            .calls
            .push((Instant::now(), format!("list {kind} {status:?}")));
        if world.throttle_next > 0 {
            world.throttle_next -= 1;
            return Err(ProviderError::new(ErrorKind::Throttled, "Rate exceeded"));
        }
        let all: Vec<(usize, &(String, Status))> = world
            .records
            .get(&kind)
            .map(|v| {
                v.iter()
                    .enumerate()
                    .filter(|(_, (_, s))| status.is_none_or(|f| f == s))
                    .collect()
            })
            .unwrap_or_default();
        let start: usize = token.and_then(|t| t.parse().ok()).unwrap_or(0);
        let items = all
            .iter()
            .skip(start)
            .take(self.page_size)
            .map(|(i, (id, s))| StatusSummary {
                kind,
                request_id: id.clone(),
                status: s.clone(),
                created: created(*i),
            })
            .collect();
        let next = start + self.page_size;
        Ok(Page {
            items,
            next_token: (next < all.len()).then(|| next.to_string()),
        })
    }

    async fn describe(
        &self,
        _instance: &str,
        kind: OperationKind,
        request_id: &str,
    ) -> Result<Described, ProviderError> {
        let mut world = self.world.lock().unwrap();
        world
            .calls
            .push((Instant::now(), format!("describe {request_id}")));
        if world.panic_on_describe {
            drop(world);
            panic!("simulated bug in a describe call");
        }
        let found = world
            .records
            .get(&kind)
            .and_then(|v| v.iter().enumerate().find(|(_, (id, _))| id == request_id));
        match found {
            Some((i, (id, status))) => Ok(Described {
                summary: StatusSummary {
                    kind,
                    request_id: id.clone(),
                    status: status.clone(),
                    created: created(i),
                },
                detail: RequestDetail {
                    failure_reason: (*status == Status::Failed)
                        .then(|| "Received a 404 status error".to_string()),
                    ..Default::default()
                },
                source_call: "Describe".into(),
                described_at: Utc::now(),
            }),
            None => Err(ProviderError::new(ErrorKind::NotFound, "no such request")),
        }
    }

    async fn permission_set_name(&self, _: &str, _: &str) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }
}

const KIND: OperationKind = OperationKind::AssignmentCreation;

fn world_with(n: usize, in_progress: &[usize]) -> Arc<Mutex<World>> {
    let mut world = World::default();
    let records = (0..n)
        .map(|i| {
            let status = if in_progress.contains(&i) {
                Status::InProgress
            } else {
                Status::Succeeded
            };
            (format!("req-{i:05}"), status)
        })
        .collect();
    world.records.insert(KIND, records);
    Arc::new(Mutex::new(world))
}

fn start(
    world: &Arc<Mutex<World>>,
    budget: f64,
    refresh: u64,
) -> (poller::PollerHandle, mpsc::Receiver<PollEvent>) {
    let (tx, rx) = mpsc::channel(4096);
    let provider = Arc::new(FakeProvider {
        world: world.clone(),
        page_size: 10,
    });
    let handle = poller::spawn(
        provider,
        "ins".into(),
        PollerConfig::new(Duration::from_secs(refresh), budget),
        tx,
    );
    (handle, rx)
}

/// Collects events for `secs` of simulated time.
async fn collect(rx: &mut mpsc::Receiver<PollEvent>, secs: u64) -> Vec<PollEvent> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut events = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        events.push(event);
    }
    events
}

#[tokio::test(start_paused = true)]
async fn calls_never_exceed_the_budget_in_any_ten_second_window() {
    let world = world_with(500, &[1, 2, 3]);
    let (_handle, mut rx) = start(&world, 2.0, 5);
    collect(&mut rx, 120).await;
    let calls: Vec<Instant> = world
        .lock()
        .unwrap()
        .calls
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert!(
        calls.len() > 100,
        "the poller should use its budget during the first load: {}",
        calls.len()
    );
    for (i, &t) in calls.iter().enumerate() {
        let in_window = calls[i..]
            .iter()
            .take_while(|&&u| u < t + Duration::from_secs(10))
            .count();
        assert!(in_window <= 20, "{in_window} calls within 10 s");
    }
}

#[tokio::test(start_paused = true)]
async fn first_load_reports_progress_and_completes() {
    let world = world_with(95, &[]);
    let (_handle, mut rx) = start(&world, 5.0, 10);
    let events = collect(&mut rx, 30).await;
    let progress: Vec<(u32, u64, bool)> = events
        .iter()
        .filter_map(|e| match e {
            PollEvent::LoadProgress {
                kind: KIND,
                pages,
                records,
                done,
            } => Some((*pages, *records, *done)),
            _ => None,
        })
        .collect();
    assert_eq!(progress.first(), Some(&(1, 10, false)));
    assert_eq!(progress.last(), Some(&(10, 95, true)));
    let loaded: usize = events
        .iter()
        .map(|e| match e {
            PollEvent::Records { kind: KIND, items } => items.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(loaded, 95);
}

#[tokio::test(start_paused = true)]
async fn a_request_that_fails_shows_within_two_intervals_and_is_described_once() {
    let world = world_with(30, &[7]);
    let (_handle, mut rx) = start(&world, 2.0, 10);
    collect(&mut rx, 40).await;
    // It fails now.
    let failed_at = Instant::now();
    world.lock().unwrap().records.get_mut(&KIND).unwrap()[7].1 = Status::Failed;
    let events = collect(&mut rx, 60).await;
    let shown = events.iter().any(|e| matches!(e, PollEvent::Described(d) if d.summary.request_id == "req-00007" && d.summary.status == Status::Failed && d.detail.failure_reason.is_some()));
    assert!(shown, "the failure was never described");
    let describes: Vec<Instant> = world
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|(t, c)| c == "describe req-00007" && *t >= failed_at)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(describes.len(), 1, "described more than once");
    assert!(
        describes[0] - failed_at <= Duration::from_secs(20),
        "took {:?}",
        describes[0] - failed_at
    );
}

#[tokio::test(start_paused = true)]
async fn interactive_describes_jump_ahead_of_the_first_load() {
    let world = world_with(2000, &[]);
    let (handle, mut rx) = start(&world, 2.0, 10);
    collect(&mut rx, 5).await;
    handle
        .commands
        .send(PollerCommand::Describe {
            kind: KIND,
            request_id: "req-01999".into(),
            urgency: DescribeUrgency::Interactive,
        })
        .await
        .unwrap();
    let asked = Instant::now();
    let events = collect(&mut rx, 5).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, PollEvent::Described(d) if d.summary.request_id == "req-01999"))
    );
    let when = world
        .lock()
        .unwrap()
        .calls
        .iter()
        .find(|(_, c)| c == "describe req-01999")
        .map(|(t, _)| *t)
        .unwrap();
    assert!(
        when - asked <= Duration::from_millis(1100),
        "waited {:?} behind the load",
        when - asked
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_backs_off_and_recovers_without_losing_progress() {
    let world = world_with(50, &[]);
    world.lock().unwrap().throttle_next = 4;
    let (_handle, mut rx) = start(&world, 5.0, 10);
    let events = collect(&mut rx, 90).await;
    let throttled = events.iter().filter(|e| matches!(e, PollEvent::CallFailed { error, .. } if error.kind == ErrorKind::Throttled)).count();
    assert_eq!(throttled, 4);
    assert!(events.iter().any(|e| matches!(
        e,
        PollEvent::LoadProgress {
            kind: KIND,
            records: 50,
            done: true,
            ..
        }
    )));
    let spend = events.iter().rev().find_map(|e| match e {
        PollEvent::Spend(s) => Some(*s),
        _ => None,
    });
    assert_eq!(spend.map(|s| s.throttled_calls), Some(4));
    // Backoff spreads the retries out: the four throttled calls and the retry span seconds.
    let calls = world.lock().unwrap().calls.clone();
    let span = calls[4].0 - calls[0].0;
    assert!(span >= Duration::from_secs(5), "retries too fast: {span:?}");
}

#[tokio::test(start_paused = true)]
async fn a_panicking_call_stops_the_poller_with_a_message() {
    let world = world_with(5, &[]);
    world.lock().unwrap().panic_on_describe = true;
    let (handle, mut rx) = start(&world, 5.0, 10);
    handle
        .commands
        .send(PollerCommand::Describe {
            kind: KIND,
            request_id: "req-00001".into(),
            urgency: DescribeUrgency::Interactive,
        })
        .await
        .unwrap();
    let events = collect(&mut rx, 10).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, PollEvent::PollerStopped { .. })),
        "no PollerStopped"
    );
    assert!(
        tokio::time::timeout(Duration::from_secs(5), handle.task)
            .await
            .is_ok(),
        "poller did not end"
    );
}
