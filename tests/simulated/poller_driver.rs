//! The shared runtime (poller, app update, effects) against an in-memory test double, in
//! tokio's paused (simulated) time: budget spacing, priorities, describe-once, bounded retries,
//! recovery, and a crashing call reported to the operator.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ssowatch::app::{ConnectionInfo, Msg};
use ssowatch::model::{
    Described, Instance, OperationKind, Page, RequestDetail, Status, StatusSummary,
};
use ssowatch::poller::{PollerConfig, plan::MAX_ATTEMPTS};
use ssowatch::provider::{ErrorKind, Provider, ProviderError, ProviderInfo};
use ssowatch::runtime::{Pace, Runtime};
use tokio::time::Instant;

#[derive(Default)]
struct World {
    /// kind -> (id, status)
    records: HashMap<OperationKind, Vec<(String, Status)>>,
    calls: Vec<(Instant, String)>,
    throttle_next: usize,
    panic_on_describe: bool,
    /// Every list of this kind fails with this error.
    failing_kind: Option<(OperationKind, ErrorKind)>,
    /// Every describe answers with this error.
    describe_error: Option<ErrorKind>,
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
        if let Some((failing, error)) = world.failing_kind
            && failing == kind
        {
            return Err(ProviderError::new(error, "HTTP 500"));
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
        if let Some(error) = world.describe_error {
            return Err(ProviderError::new(error, "unexpected end of JSON"));
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

fn start(world: &Arc<Mutex<World>>, budget: f64, refresh: u64) -> Runtime {
    let provider = Arc::new(FakeProvider {
        world: world.clone(),
        page_size: 10,
    });
    let mut config = PollerConfig::new(Duration::from_secs(refresh), budget);
    config.seed = 7;
    let connection = ConnectionInfo {
        provider: provider.info(),
        instance: Some(Instance {
            id: "ins".into(),
            identity_store_id: None,
            name: None,
        }),
        demo: false,
        hub: None,
    };
    let mut runtime = Runtime::new(
        provider,
        connection,
        config,
        Pace::Live,
        Utc::now(),
        chrono::Offset::fix(&Utc),
    );
    runtime.handle(Msg::Resize {
        width: 120,
        height: 30,
    });
    runtime
}

/// Runs the runtime until `request_id` is listed, for at most ten simulated minutes.
async fn until_listed(runtime: &mut Runtime, request_id: &str) {
    for _ in 0..600 {
        if runtime.state().table(KIND).row_by_id(request_id).is_some() {
            return;
        }
        run_for(runtime, 1, |_| {}).await;
    }
    panic!("{request_id} was not listed within ten minutes");
}

/// Runs the runtime for `secs` of simulated time, calling `observe` after every step.
async fn run_for(runtime: &mut Runtime, secs: u64, mut observe: impl FnMut(&Runtime)) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        tokio::select! {
            () = runtime.step() => observe(runtime),
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
}

fn press(runtime: &mut Runtime, code: KeyCode) {
    runtime.handle(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Opens the detail pane on one request, the way an operator does: `/`, its id, Enter, Enter.
fn open(runtime: &mut Runtime, request_id: &str) {
    press(runtime, KeyCode::Char('/'));
    for c in request_id.chars() {
        press(runtime, KeyCode::Char(c));
    }
    press(runtime, KeyCode::Enter);
    press(runtime, KeyCode::Enter);
}

fn calls_matching(world: &Arc<Mutex<World>>, what: &str) -> Vec<Instant> {
    world
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|(_, c)| c == what)
        .map(|(t, _)| *t)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn calls_never_exceed_the_budget_in_any_ten_second_window() {
    let world = world_with(500, &[1, 2, 3]);
    let mut runtime = start(&world, 2.0, 5);
    run_for(&mut runtime, 120, |_| {}).await;
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
    let mut runtime = start(&world, 5.0, 10);
    let mut progress: Vec<(u32, u64, bool)> = Vec::new();
    run_for(&mut runtime, 30, |runtime| {
        let load = runtime.state().table(KIND).history_load;
        let now = (load.pages, load.records, load.done);
        if load.pages > 0 && progress.last() != Some(&now) {
            progress.push(now);
        }
    })
    .await;
    assert_eq!(progress.first(), Some(&(1, 10, false)));
    assert_eq!(progress.last(), Some(&(10, 95, true)));
    assert_eq!(runtime.state().table(KIND).len(), 95);
}

#[tokio::test(start_paused = true)]
async fn failed_records_are_listed_before_the_history() {
    let world = world_with(300, &[]);
    {
        let mut w = world.lock().unwrap();
        let records = w.records.get_mut(&KIND).unwrap();
        for i in [5, 150, 299] {
            records[i].1 = Status::Failed;
        }
    }
    let mut runtime = start(&world, 1.0, 10);
    let mut all_failed_while_history_loads = false;
    run_for(&mut runtime, 60, |runtime| {
        let table = runtime.state().table(KIND);
        if table.counts.failed == 3 && !table.history_load.done && table.failed_known() {
            all_failed_while_history_loads = true;
        }
    })
    .await;
    assert!(all_failed_while_history_loads);
    let calls = world.lock().unwrap().calls.clone();
    let first_history = calls
        .iter()
        .position(|(_, c)| c == &format!("list {KIND} None"))
        .unwrap();
    let failed_list = calls
        .iter()
        .position(|(_, c)| c == &format!("list {KIND} Some(Failed)"))
        .unwrap();
    assert!(failed_list < first_history, "{calls:?}");
    // Their reasons come early too: described before the history is loaded.
    for id in ["req-00005", "req-00150", "req-00299"] {
        let row = runtime.state().table(KIND).row_by_id(id).unwrap();
        assert!(row.failure_reason().is_some(), "{id} has no reason");
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_that_fails_shows_within_two_intervals_and_is_described_once() {
    let world = world_with(30, &[7]);
    let mut runtime = start(&world, 2.0, 10);
    run_for(&mut runtime, 40, |_| {}).await;
    // It fails now.
    let failed_at = Instant::now();
    world.lock().unwrap().records.get_mut(&KIND).unwrap()[7].1 = Status::Failed;
    run_for(&mut runtime, 60, |_| {}).await;
    let row = runtime.state().table(KIND).row_by_id("req-00007").unwrap();
    assert_eq!(row.status, Status::Failed);
    assert!(
        row.failure_reason().is_some(),
        "the failure was never described"
    );
    let describes: Vec<Instant> = calls_matching(&world, "describe req-00007")
        .into_iter()
        .filter(|t| *t >= failed_at)
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
    let mut runtime = start(&world, 2.0, 10);
    run_for(&mut runtime, 5, |_| {}).await;
    // Wait until the record is listed, then open it.
    until_listed(&mut runtime, "req-01999").await;
    let asked = Instant::now();
    open(&mut runtime, "req-01999");
    run_for(&mut runtime, 5, |_| {}).await;
    let row = runtime.state().table(KIND).row_by_id("req-01999").unwrap();
    assert!(row.answer.is_some());
    let when = calls_matching(&world, "describe req-01999")[0];
    assert!(
        when - asked <= Duration::from_millis(1100),
        "waited {:?} behind the load",
        when - asked
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_is_described_once_however_often_the_operator_selects_it() {
    let world = world_with(40, &[]);
    let mut runtime = start(&world, 0.5, 10);
    run_for(&mut runtime, 5, |_| {}).await;
    until_listed(&mut runtime, "req-00001").await;
    open(&mut runtime, "req-00001");
    // Away and back, again and again, before and after the answer.
    for _ in 0..5 {
        press(&mut runtime, KeyCode::Esc);
        press(&mut runtime, KeyCode::Enter);
        run_for(&mut runtime, 1, |_| {}).await;
    }
    run_for(&mut runtime, 60, |_| {}).await;
    assert_eq!(calls_matching(&world, "describe req-00001").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_describe_that_keeps_failing_is_given_up_and_the_row_stops_waiting() {
    let world = world_with(20, &[]);
    world.lock().unwrap().describe_error = Some(ErrorKind::Malformed);
    let mut runtime = start(&world, 2.0, 10);
    until_listed(&mut runtime, "req-00003").await;
    open(&mut runtime, "req-00003");
    run_for(&mut runtime, 300, |_| {}).await;
    let attempts = calls_matching(&world, "describe req-00003").len();
    assert_eq!(attempts, MAX_ATTEMPTS as usize);
    let error = runtime
        .state()
        .data
        .describe_errors
        .get(&(KIND, Box::from("req-00003")))
        .expect("the app was told");
    assert!(error.contains("malformed"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn one_kind_failing_never_starves_the_others() {
    let world = world_with(20, &[1]);
    world.lock().unwrap().failing_kind = Some((KIND, ErrorKind::Transient));
    world.lock().unwrap().records.insert(
        OperationKind::PermissionSetProvisioning,
        vec![("prov-1".into(), Status::Succeeded)],
    );
    let mut runtime = start(&world, 2.0, 10);
    run_for(&mut runtime, 120, |_| {}).await;
    let state = runtime.state();
    // The others were polled, and recently.
    let provisioning = state.table(OperationKind::PermissionSetProvisioning);
    assert_eq!(provisioning.len(), 1);
    let listed = provisioning.last_listed.expect("provisioning was listed");
    assert!(state.data.now - listed <= chrono::Duration::seconds(20));
    // The failing kind says so on its tab and on the error line; it is retried a bounded
    // number of times per refresh interval, not in a loop.
    assert!(state.table(KIND).trouble.is_some());
    assert!(state.data.last_error.is_some());
    let failing_calls = world
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|(_, c)| c.starts_with(&format!("list {KIND}")))
        .count();
    assert!(
        failing_calls <= 3 * 12 * MAX_ATTEMPTS as usize,
        "{failing_calls}"
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_backs_off_and_recovers_without_losing_progress() {
    let world = world_with(50, &[]);
    world.lock().unwrap().throttle_next = 4;
    let mut runtime = start(&world, 5.0, 10);
    run_for(&mut runtime, 90, |_| {}).await;
    let state = runtime.state();
    assert_eq!(state.data.spend.throttled_calls, 4);
    assert_eq!(state.table(KIND).history_load.records, 50);
    assert!(state.table(KIND).history_load.done);
    // Backoff spreads the retries out: the four throttled calls and the retry span seconds.
    let calls = world.lock().unwrap().calls.clone();
    let span = calls[4].0 - calls[0].0;
    assert!(span >= Duration::from_secs(5), "retries too fast: {span:?}");
    // The adaptive limiter cut its rate at least in half, and successes are bringing it back.
    let rate = state.data.spend.effective_rps;
    assert!(rate > 2.5 && rate <= 5.0, "rate {rate}");
}

#[tokio::test(start_paused = true)]
async fn a_panicking_call_stops_polling_with_a_message() {
    let world = world_with(5, &[]);
    world.lock().unwrap().panic_on_describe = true;
    let mut runtime = start(&world, 5.0, 10);
    until_listed(&mut runtime, "req-00001").await;
    open(&mut runtime, "req-00001");
    run_for(&mut runtime, 10, |_| {}).await;
    assert!(
        runtime.state().data.poller_stopped.is_some(),
        "no PollerStopped"
    );
    let calls = world.lock().unwrap().calls.len();
    run_for(&mut runtime, 60, |_| {}).await;
    assert_eq!(world.lock().unwrap().calls.len(), calls, "still polling");
}
