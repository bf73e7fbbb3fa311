//! Turns [`Settings`] into a live provider and a resolved instance.
//!
//! This is the one place that knows the config, the emulator and the providers together: it
//! reads the settings and hands each provider plain values (an endpoint, credentials), so the
//! providers never import the layers above them.

use std::sync::Arc;

use anyhow::Context;

use crate::app::ConnectionInfo;
use crate::config::{ProviderKind, Settings};
use crate::emulator::{self, EmulatorConfig, EmulatorHandle};
use crate::model::Instance;
use crate::poller::{PollerConfig, cache};
use crate::provider::aws::{AwsOptions, AwsProvider};
use crate::provider::huawei::{DEFAULT_ENDPOINT, HuaweiProvider};
use crate::provider::huawei_credentials::{self, ConfigValues, HuaweiCredentials};
use crate::provider::{Provider, ProviderInfo, RetryPolicy, resolve_instance_with};
use crate::runtime::{Observer, Pace, Runtime};

/// Starts the shared runtime for a live host (the dashboard, `serve`): the budget and refresh
/// of the settings, a random jitter seed, and the describe cache unless this is the demo. The
/// emulator behind `--demo` comes back too: it stops when dropped.
pub fn live_runtime(
    settings: &Settings,
    connection: Connection,
    tz: chrono::FixedOffset,
    observer: Option<Observer>,
) -> (Runtime, Option<EmulatorHandle>) {
    let Connection {
        provider,
        instance,
        info,
        emulator,
        discovered,
    } = connection;
    let mut config = PollerConfig::new(settings.refresh, settings.api_budget_rps);
    config.seed = rand::random();
    if !settings.demo {
        config.cache_path = cache::default_path(&info.name, info.endpoint.as_deref(), &instance.id);
    }
    let mut runtime = Runtime::observed(
        provider,
        ConnectionInfo {
            provider: info,
            instance: Some(instance),
            demo: settings.demo,
            hub: None,
        },
        config,
        Pace::Live,
        chrono::Utc::now(),
        tz,
        observer,
    );
    if discovered {
        runtime.count_call_made_before_start();
    }
    (runtime, emulator)
}

/// The demo's organization. Huawei's is another seed: its ids and history are its own, not the
/// AWS demo's.
fn demo_config(provider: ProviderKind) -> EmulatorConfig {
    match provider {
        ProviderKind::Aws => EmulatorConfig::demo(),
        ProviderKind::Huawei => EmulatorConfig {
            seed: EmulatorConfig::demo().seed + 1,
            ..EmulatorConfig::demo()
        },
    }
}

pub struct Connection {
    pub provider: Arc<dyn Provider>,
    pub instance: Instance,
    pub info: ProviderInfo,
    /// The in-process emulator behind `--demo`; it stops when this is dropped.
    pub emulator: Option<EmulatorHandle>,
    /// Whether finding the instance took a `ListInstances` call (no instance was given): it
    /// counts against the budget like any other call.
    pub discovered: bool,
}

/// Connects as the settings say. With `demo`, starts the embedded emulator on loopback and
/// points the real provider (the AWS SDK, or the Huawei client) at it.
pub async fn connect(settings: &Settings) -> anyhow::Result<Connection> {
    connect_with(settings, RetryPolicy::from_env()).await
}

/// [`connect`] with the retry policy of instance discovery.
pub async fn connect_with(settings: &Settings, policy: RetryPolicy) -> anyhow::Result<Connection> {
    let emulator = if settings.demo {
        Some(
            emulator::start(demo_config(settings.provider), 0)
                .await
                .context("cannot start the demo emulator")?,
        )
    } else {
        None
    };
    let provider: Arc<dyn Provider> = match settings.provider {
        ProviderKind::Aws => {
            let options = match &emulator {
                Some(e) => AwsOptions {
                    profile: None,
                    region: Some("us-east-1".into()),
                    endpoint_url: Some(e.base_url.clone()),
                    static_credentials: Some((
                        emulator::DEMO_AWS_ACCESS_KEY.into(),
                        emulator::DEMO_AWS_SECRET_KEY.into(),
                    )),
                },
                None => AwsOptions {
                    profile: settings.profile.clone(),
                    region: settings.region.clone(),
                    endpoint_url: settings.endpoint_url.clone(),
                    static_credentials: None,
                },
            };
            Arc::new(AwsProvider::new(options).await?)
        }
        ProviderKind::Huawei => {
            let (endpoint, credentials) = match &emulator {
                Some(e) => (
                    e.base_url.clone(),
                    HuaweiCredentials::new(
                        emulator::DEFAULT_HUAWEI_AK,
                        emulator::DEFAULT_HUAWEI_SK,
                    )
                    .with_domain_id(Some(emulator::DEMO_HUAWEI_DOMAIN_ID.to_string())),
                ),
                None => (
                    settings
                        .endpoint_url
                        .clone()
                        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
                    huawei_credentials::resolve_default(&ConfigValues {
                        access_key: settings.huawei_access_key.clone(),
                        secret_key: settings.huawei_secret_key.clone(),
                        domain_id: settings.huawei_domain_id.clone(),
                    })?,
                ),
            };
            Arc::new(
                HuaweiProvider::new(&endpoint, credentials)?.with_region(settings.region.clone()),
            )
        }
    };
    let explicit = if settings.demo {
        None
    } else {
        settings.instance.as_deref()
    };
    let instance = resolve_instance_with(provider.as_ref(), explicit, policy).await?;
    let info = provider.info();
    Ok(Connection {
        discovered: explicit.is_none(),
        provider,
        instance,
        info,
        emulator,
    })
}
