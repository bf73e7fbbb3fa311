//! Names (users, groups, accounts, permission sets) through the shared runtime, the real AWS
//! provider (Identity Store and Organizations SDK clients) and the in-process emulator, in
//! simulated time: names for the rows on screen arrive within 15 s on the demo config; denied
//! name services leave the ids, hint once and are not asked again (counted by the emulator);
//! and a restart asks for no name it already has on disk.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ssowatch::app::AppState;
use ssowatch::emulator::faults::{Fault, FaultRule};
use ssowatch::emulator::{self, Clock, EmulatorConfig, EmulatorHandle};
use ssowatch::poller::{Event, PollerConfig};
use ssowatch::provider::Provider;
use ssowatch::provider::huawei::HuaweiProvider;
use ssowatch::provider::huawei_credentials::HuaweiCredentials;
use ssowatch::runtime::{self, Runtime};

use crate::support::sim as sim_support;
use sim_support::{aws_provider, emulator_at, emulator_at_start, observed_runtime_at};

async fn aws(handle: &EmulatorHandle) -> Box<dyn Provider> {
    Box::new(aws_provider(handle).await)
}

fn huawei(handle: &EmulatorHandle) -> Box<dyn Provider> {
    let credentials =
        HuaweiCredentials::new(emulator::DEFAULT_HUAWEI_AK, emulator::DEFAULT_HUAWEI_SK)
            .with_domain_id(Some(emulator::DEMO_HUAWEI_DOMAIN_ID.into()));
    Box::new(HuaweiProvider::new(&handle.base_url, credentials).expect("provider"))
}

/// A runtime on the real AWS provider, the instance discovered as the dashboard does it (so it
/// knows the identity store), and the events it reported.
async fn runtime(handle: &EmulatorHandle, config: PollerConfig) -> (Runtime, Events) {
    runtime_at(handle, config, sim_support::start_time()).await
}

/// [`runtime`] with its clock starting at `start`.
async fn runtime_at(
    handle: &EmulatorHandle,
    config: PollerConfig,
    start: chrono::DateTime<chrono::Utc>,
) -> (Runtime, Events) {
    let provider: Arc<dyn Provider> = Arc::from(aws(handle).await);
    let instance = ssowatch::provider::resolve_instance(provider.as_ref(), None)
        .await
        .expect("instance");
    runtime_for_at(provider, instance, config, start)
}

type Events = Arc<Mutex<Vec<Event>>>;

async fn runtime_on(provider: Box<dyn Provider>, config: PollerConfig) -> (Runtime, Events) {
    let provider: Arc<dyn Provider> = Arc::from(provider);
    let instance = ssowatch::provider::resolve_instance(provider.as_ref(), None)
        .await
        .expect("instance");
    assert!(instance.identity_store_id.is_some());
    runtime_for(provider, instance, config)
}

/// A runtime watching `instance` as given (an explicit `--instance-arn` has no identity store).
fn runtime_for(
    provider: Arc<dyn Provider>,
    instance: ssowatch::model::Instance,
    config: PollerConfig,
) -> (Runtime, Events) {
    runtime_for_at(provider, instance, config, sim_support::start_time())
}

fn runtime_for_at(
    provider: Arc<dyn Provider>,
    instance: ssowatch::model::Instance,
    config: PollerConfig,
    start: chrono::DateTime<chrono::Utc>,
) -> (Runtime, Events) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let runtime = observed_runtime_at(
        provider,
        instance,
        config,
        true,
        Some(Box::new(move |e: &Event| {
            seen.lock().expect("lock").push(e.clone())
        })),
        start,
    );
    (runtime, events)
}

async fn run_for(runtimes: &mut [Runtime], clock: &Clock, secs: u64) {
    runtime::simulate(
        runtimes,
        Duration::from_secs(secs),
        Duration::from_millis(250),
        |step| clock.advance(step),
        |_, _| {},
    )
    .await;
}

/// The described rows on screen in the active tab, with their details.
fn described_on_screen(state: &AppState) -> Vec<ssowatch::model::RequestDetail> {
    let table = state.active_table();
    (table.offset..(table.offset + state.table_rows()).min(table.view_len()))
        .filter_map(|pos| table.view_row(pos))
        .filter_map(|row| row.answer.as_ref().map(|a| a.detail.clone()))
        .collect()
}

fn name_calls(handle: &EmulatorHandle) -> [u64; 4] {
    let stats = handle.stats();
    let count = |op: &str| stats.by_operation.get(op).copied().unwrap_or(0);
    [
        count("DescribeUser"),
        count("DescribeGroup"),
        count("ListAccounts"),
        count("DescribeAccount"),
    ]
}

/// Every described row on screen carries the organization's names for its ids.
fn assert_named_on_screen(handle: &EmulatorHandle, state: &AppState, huawei: bool) {
    let on_screen = described_on_screen(state);
    assert!(
        on_screen.len() >= 5,
        "too few described rows on screen to judge: {}",
        on_screen.len()
    );
    let org = handle.core().org();
    for detail in &on_screen {
        let account = detail.target_account.as_deref().unwrap_or_default();
        let expected_account = org
            .accounts
            .iter()
            .position(|a| a == account)
            .map(|i| org.account_names[i].clone());
        assert_eq!(detail.account_name, expected_account, "{detail:?}");
        let principal = detail.principal_id.as_deref().unwrap_or_default();
        let expected_principal = match detail.principal_type.as_deref() {
            Some("USER") => org
                .users
                .iter()
                .position(|u| u == principal)
                .map(|i| org.user_names[i].clone()),
            _ => org
                .groups
                .iter()
                .position(|g| g == principal)
                .map(|i| org.group_names[i].clone()),
        };
        assert_eq!(detail.principal_name, expected_principal, "{detail:?}");
        let ps = detail.permission_set.as_deref().unwrap_or_default();
        let expected_ps = org
            .permission_sets
            .iter()
            .find(|p| {
                if huawei {
                    p.huawei_id == ps
                } else {
                    p.aws_arn == ps
                }
            })
            .map(|p| p.name.clone());
        assert_eq!(detail.permission_set_name, expected_ps, "{detail:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_for_the_rows_on_screen_arrive_within_15_s_on_the_demo_config() {
    let (handle, clock) = emulator_at_start(EmulatorConfig::demo()).await;
    let (rt, _) = runtime(&handle, PollerConfig::new(Duration::from_secs(10), 4.0)).await;
    let mut runtimes = vec![rt];
    run_for(&mut runtimes, &clock, 15).await;
    assert_named_on_screen(&handle, runtimes[0].state(), false);
    let org = handle.core().org();
    // One paged listing (20 accounts a page) named every account, none described one by one.
    let pages = org.accounts.len().div_ceil(20) as u64;
    assert_eq!(name_calls(&handle)[2], pages);
    assert_eq!(name_calls(&handle)[3], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_names_leave_the_ids_hint_once_and_are_not_asked_again() {
    let (handle, clock) = emulator_at_start(EmulatorConfig::demo()).await;
    handle.faults(|f| {
        for op in [
            "DescribeUser",
            "DescribeGroup",
            "ListAccounts",
            "DescribeAccount",
        ] {
            f.rules.push(FaultRule {
                operation: Some(op.to_string()),
                ..FaultRule::always(Fault::Denied)
            });
        }
    });
    let (rt, events) = runtime(&handle, PollerConfig::new(Duration::from_secs(10), 4.0)).await;
    let mut runtimes = vec![rt];
    run_for(&mut runtimes, &clock, 10).await;
    let hint_line = runtimes[0].state().data.notice.clone().unwrap_or_default();
    assert!(hint_line.contains("need"), "{hint_line}");
    run_for(&mut runtimes, &clock, 110).await;
    // The hint stays: it is a standing condition, not an error the next success clears.
    assert_eq!(
        runtimes[0].state().data.notice.clone().unwrap_or_default(),
        hint_line
    );
    // Each denied operation was tried once at most, however many ids were on screen.
    let [users, groups, listings, accounts] = name_calls(&handle);
    assert!(users <= 1 && groups <= 1, "{users} {groups}");
    assert_eq!((listings, accounts), (1, 1));
    let hints: Vec<String> = events
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|e| match e {
            Event::NamesUnavailable { hint } => Some(hint.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(hints.len(), 2, "one per refusing service: {hints:?}");
    assert!(
        hints
            .iter()
            .any(|h| h.contains("identitystore:DescribeUser"))
    );
    assert!(
        hints
            .iter()
            .any(|h| h.contains("organizations:ListAccounts"))
    );
    let on_screen = described_on_screen(runtimes[0].state());
    assert!(!on_screen.is_empty());
    for detail in on_screen {
        assert_eq!(detail.principal_name, None);
        assert_eq!(detail.account_name, None);
        assert!(detail.principal_id.is_some() && detail.target_account.is_some());
        // Identity Center's own names are not denied.
        assert!(detail.permission_set_name.is_some());
    }
}

/// The names file a run left: (kind, id) of every name or miss it holds.
fn cached_names(path: &std::path::Path) -> HashSet<(String, String)> {
    let text = std::fs::read_to_string(path).expect("the names file was written");
    let file: serde_json::Value = serde_json::from_str(&text).expect("names file JSON");
    file["names"]
        .as_array()
        .expect("names")
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap_or_default().to_string(),
                n["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_asks_for_no_name_it_already_has() {
    restart_asks_for_nothing_it_already_has(sim_support::start_time()).await;
}

/// The time-dependent paths (the name cache's TTL, the describe cache, ages and staleness) run
/// with the runtime's clock years away from the machine's, both ways: the product takes its
/// time from the runtime's clock only, so the suite passes on any date.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_dependent_paths_hold_with_the_clock_years_ahead_or_behind() {
    for start in ["2046-06-01T08:00:00Z", "1999-12-31T23:00:00Z"] {
        let start = start.parse().expect("a date");
        restart_asks_for_nothing_it_already_has(start).await;
    }
}

/// Runs a runtime for 90 s with the caches on, restarts it, and checks that the cached names
/// and reasons are on screen at once and that none of them is asked for again.
async fn restart_asks_for_nothing_it_already_has(start: chrono::DateTime<chrono::Utc>) {
    let (handle, clock) = emulator_at(
        EmulatorConfig {
            rate: 0.0,
            ..EmulatorConfig::demo()
        },
        start,
    )
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = PollerConfig::new(Duration::from_secs(10), 4.0);
    config.cache_path = Some(dir.path().join("describes-aws-test.json"));

    let (rt, _) = runtime_at(&handle, config.clone(), start).await;
    let mut runtimes = vec![rt];
    run_for(&mut runtimes, &clock, 90).await;
    assert!(
        !runtimes[0].state().is_stale(),
        "{start}: stale on a healthy emulator"
    );
    let wall = runtimes[0].state().data.now;
    assert_eq!(wall, start + chrono::Duration::seconds(90), "{start}");
    let described_before: HashSet<String> = runtimes[0]
        .state()
        .active_table()
        .rows()
        .filter(|r| r.answer.is_some() && r.status.is_finished())
        .map(|r| r.request_id.to_string())
        .collect();
    assert!(!described_before.is_empty(), "{start}: nothing described");
    drop(runtimes);
    let cached = cached_names(&dir.path().join("names-aws-test.json"));
    let principals: Vec<&String> = cached
        .iter()
        .filter(|(kind, _)| kind == "user" || kind == "group")
        .map(|(_, id)| id)
        .collect();
    assert!(principals.len() >= 10, "{start}: {cached:?}");
    let cached_sets = cached.iter().filter(|(k, _)| k == "permission-set").count();

    let before = handle.stats();
    let (rt, _) = runtime_at(&handle, config, start + chrono::Duration::seconds(90)).await;
    // Cached names are on screen before any call.
    let on_screen = described_on_screen(rt.state());
    assert!(
        on_screen
            .iter()
            .any(|d| d.principal_name.is_some() && d.account_name.is_some()),
        "{start}: {on_screen:?}"
    );
    let mut runtimes = vec![rt];
    run_for(&mut runtimes, &clock, 90).await;
    let after = handle.stats();
    let asked = |stats: &ssowatch::emulator::stats::Stats, id: &str| {
        stats.describes_by_request.get(id).copied().unwrap_or(0)
    };
    // No finished request described before the restart is described again.
    for id in &described_before {
        assert_eq!(
            asked(&after, id),
            asked(&before, id),
            "{start}: {id} described again after a restart"
        );
    }
    let delta = |op: &str| {
        after.by_operation.get(op).copied().unwrap_or(0)
            - before.by_operation.get(op).copied().unwrap_or(0)
    };
    assert_eq!(delta("ListAccounts"), 0, "{start}");
    let sets = handle.core().org().permission_sets.len();
    assert!(
        delta("DescribePermissionSet") as usize <= sets - cached_sets,
        "{start}: {} permission-set names asked with {cached_sets} of {sets} cached",
        delta("DescribePermissionSet")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huawei_names_for_the_rows_on_screen_arrive_within_15_s_on_the_demo_config() {
    let (handle, clock) = emulator_at_start(EmulatorConfig::demo()).await;
    let (rt, _) = runtime_on(
        huawei(&handle),
        PollerConfig::new(Duration::from_secs(10), 4.0),
    )
    .await;
    let mut runtimes = vec![rt];
    run_for(&mut runtimes, &clock, 15).await;
    assert_named_on_screen(&handle, runtimes[0].state(), true);
    // Accounts came from the paged listing (100 a page on Huawei), not one call each.
    let [_, _, listings, describes] = name_calls(&handle);
    assert_eq!(
        (listings, describes),
        (0, 0),
        "AWS operations are not counted here"
    );
    let stats = handle.stats();
    assert_eq!(stats.by_operation.get("huawei:ListAccounts"), Some(&1));
    assert_eq!(stats.by_operation.get("huawei:DescribeAccount"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_instance_learns_its_identity_store_with_one_list_instances() {
    let (handle, clock) = emulator_at_start(EmulatorConfig::demo()).await;
    let explicit = ssowatch::model::Instance {
        id: handle.instance_arn(),
        identity_store_id: None,
        name: None,
    };
    let provider: Arc<dyn Provider> = Arc::from(aws(&handle).await);
    let (rt, _) = runtime_for(
        provider,
        explicit,
        PollerConfig::new(Duration::from_secs(10), 4.0),
    );
    let mut runtimes = vec![rt];
    run_for(&mut runtimes, &clock, 15).await;
    assert_named_on_screen(&handle, runtimes[0].state(), false);
    let stats = handle.stats();
    assert_eq!(stats.by_operation.get("ListInstances"), Some(&1));
    assert!(
        stats.by_operation.contains_key("DescribeUser")
            || stats.by_operation.contains_key("DescribeGroup")
    );
}
