//! Shared by the simulated-time tests (`tests/simulated`) and the `api_cost` benchmark (which
//! includes `tests/support` by `#[path]`): the in-process emulator on a manual clock, the real
//! AWS provider pointed at it with the demo keys, and a simulated runtime on an operator-sized
//! terminal.

#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ssowatch::app::{ConnectionInfo, Msg};
use ssowatch::emulator::{self, Clock, EmulatorConfig, EmulatorHandle};
use ssowatch::model::Instance;
use ssowatch::poller::PollerConfig;
use ssowatch::provider::Provider;
use ssowatch::provider::aws::{AwsOptions, AwsProvider};
use ssowatch::runtime::{Observer, Pace, Runtime};

pub use super::clock::start_time;

pub async fn emulator_at_start(config: EmulatorConfig) -> (EmulatorHandle, Clock) {
    emulator_at(config, start_time()).await
}

/// The emulator on a manual clock that starts at `start` (any date: the product must take its
/// time from the runtime's clock, never the machine's).
pub async fn emulator_at(config: EmulatorConfig, start: DateTime<Utc>) -> (EmulatorHandle, Clock) {
    let clock = Clock::manual(start);
    let handle = emulator::start_with_clock(config, clock.clone(), 0)
        .await
        .expect("emulator");
    (handle, clock)
}

/// The real AWS provider against the emulator, with the demo's keys.
pub async fn aws_provider(handle: &EmulatorHandle) -> AwsProvider {
    AwsProvider::new(AwsOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(handle.base_url.clone()),
        static_credentials: Some((
            emulator::DEMO_AWS_ACCESS_KEY.into(),
            emulator::DEMO_AWS_SECRET_KEY.into(),
        )),
    })
    .await
    .expect("provider")
}

/// A simulated runtime watching `instance` through `provider`, on a 200x50 terminal.
pub fn simulated_runtime(
    provider: Arc<dyn Provider>,
    instance: Instance,
    config: PollerConfig,
    demo: bool,
) -> Runtime {
    observed_runtime(provider, instance, config, demo, None)
}

/// [`simulated_runtime`] with an observer of every poller event.
pub fn observed_runtime(
    provider: Arc<dyn Provider>,
    instance: Instance,
    config: PollerConfig,
    demo: bool,
    observer: Option<Observer>,
) -> Runtime {
    observed_runtime_at(provider, instance, config, demo, observer, start_time())
}

/// [`observed_runtime`] whose clock starts at `start`.
pub fn observed_runtime_at(
    provider: Arc<dyn Provider>,
    instance: Instance,
    config: PollerConfig,
    demo: bool,
    observer: Option<Observer>,
    start: DateTime<Utc>,
) -> Runtime {
    let connection = ConnectionInfo {
        provider: provider.info(),
        instance: Some(instance),
        demo,
        hub: None,
    };
    let mut runtime = Runtime::observed(
        provider,
        connection,
        config,
        Pace::Simulated,
        start,
        chrono::Offset::fix(&Utc),
        observer,
    );
    runtime.handle(Msg::Resize {
        width: 200,
        height: 50,
    });
    runtime
}

/// The busiest 10 s window of a run: from `starts` (simulated time, calls started then), the
/// most calls that started within 10 s of one another, and when that window began.
pub fn busiest_ten_seconds(starts: &[(std::time::Duration, u64)]) -> (u64, std::time::Duration) {
    let mut busiest = (0, std::time::Duration::ZERO);
    for (i, &(start, _)) in starts.iter().enumerate() {
        let in_window: u64 = starts[i..]
            .iter()
            .take_while(|(t, _)| *t < start + std::time::Duration::from_secs(10))
            .map(|(_, n)| n)
            .sum();
        if in_window > busiest.0 {
            busiest = (in_window, start);
        }
    }
    busiest
}
