//! The local emulator: AWS's SSO Admin JSON 1.1 protocol and Huawei Cloud's Identity Center
//! REST API, side by side on one loopback port, over one simulated organization.
//!
//! It powers `--demo` (a new user needs no cloud account), the tests and the benchmarks, and
//! real clients accept it: the AWS CLI and Huawei's Python SDK are tested against it. Tests
//! and operators switch faults on to see how a client copes ([`faults`]).
//!
//! It stands beside the product's layers and depends only on [`crate::model`],
//! [`crate::sanitize`] and [`crate::wire`]. One module per concept:
//! [`org`] (the simulated organization), [`clock`], [`service`] (the state both protocols
//! answer from), [`faults`], [`stats`], [`paging`] (page slicing and tokens), the two
//! protocols [`aws_wire`] and [`huawei_wire`] (with [`huawei_verify`], the gateway's signature
//! check, and [`huawei_backend`], the organization seen through Huawei's ids), and [`http`],
//! the axum glue.

pub mod aws_names;
pub mod aws_wire;
pub mod clock;
pub mod faults;
pub mod http;
pub mod huawei_backend;
pub mod huawei_verify;
pub mod huawei_wire;
pub mod org;
pub mod paging;
pub mod service;
pub mod stats;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use tokio::sync::oneshot;

pub use self::clock::Clock;
pub use self::faults::{Fault, FaultRule, Faults};
pub use self::service::EmulatorCore;
pub use self::stats::Stats;

/// Locks a mutex even if a panicking thread poisoned it: the data is plain counters and a
/// simulation that stays consistent between statements.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Dummy AWS credentials the demo client signs with. They are not secret and grant nothing.
pub const DEMO_AWS_ACCESS_KEY: &str = "AKIASSOWATCHDEMO0000";
pub const DEMO_AWS_SECRET_KEY: &str = "ssowatch/demo/secret/not-a-real-key00000";
/// The AK/SK the emulator's Huawei side accepts unless `--huawei-ak` / `--huawei-sk` say
/// otherwise. Not secret: they only open the local emulator.
pub const DEFAULT_HUAWEI_AK: &str = "SSOWATCHEMULATORAK01";
pub const DEFAULT_HUAWEI_SK: &str = "ssowatchEmulatorSecretKey0123456789abcdef";
pub const DEMO_HUAWEI_DOMAIN_ID: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";

/// How the simulated organization and its rollout are generated.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub seed: u64,
    /// How many instances ListInstances shows (records live in the first).
    pub instances: usize,
    pub accounts: usize,
    /// Finished records of each kind at start.
    pub history: usize,
    /// New requests per second, across kinds.
    pub rate: f64,
    pub failure_ratio: f64,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    pub huawei_ak: String,
    pub huawei_sk: String,
    /// Throttle above this many requests per second, like the real service's shared limit
    /// (wins over `faults.throttle_rps`).
    pub throttle_rps: Option<f64>,
    /// Faults active from the start (see [`faults`]).
    pub faults: Faults,
    /// Put escape sequences into some failure reasons (for sanitization tests).
    pub hostile_text: bool,
    /// How long the live rollout has already been running at start, so a one-shot command
    /// against a fresh emulator already sees requests in flight.
    pub warmup: std::time::Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: 1,
            instances: 1,
            accounts: 50,
            history: 100,
            rate: 0.5,
            failure_ratio: 0.1,
            time_scale: 1.0,
            huawei_ak: DEFAULT_HUAWEI_AK.to_string(),
            huawei_sk: DEFAULT_HUAWEI_SK.to_string(),
            throttle_rps: None,
            faults: Faults::default(),
            hostile_text: false,
            warmup: std::time::Duration::ZERO,
        }
    }
}

impl EmulatorConfig {
    /// A lively organization for `--demo`: some history and a rollout with failures.
    pub fn demo() -> Self {
        EmulatorConfig {
            seed: 7,
            history: 300,
            rate: 0.5,
            failure_ratio: 0.15,
            warmup: std::time::Duration::from_secs(600),
            ..EmulatorConfig::default()
        }
    }
}

/// A running in-process emulator. Dropping it shuts the server down.
pub struct EmulatorHandle {
    pub base_url: String,
    pub addr: SocketAddr,
    core: Arc<EmulatorCore>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl EmulatorHandle {
    pub fn core(&self) -> &Arc<EmulatorCore> {
        &self.core
    }

    pub fn stats(&self) -> Stats {
        self.core.stats()
    }

    /// Changes fault injection (throttle or fail the next N calls, a rate limit, lasting
    /// rules, ...). `POST /_emulator/faults` does the same from another process.
    pub fn faults(&self, update: impl FnOnce(&mut Faults)) {
        self.core.set_faults(update);
    }

    /// The faults in force now.
    pub fn faults_now(&self) -> Faults {
        self.core.faults()
    }

    /// The first instance's ARN (AWS) and id (Huawei): the one holding the records.
    pub fn instance_arn(&self) -> String {
        self.core.org().instances[0].aws_arn.clone()
    }

    pub fn huawei_instance_id(&self) -> String {
        self.core.org().instances[0].huawei_id.clone()
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the emulator in-process on 127.0.0.1 (`port` 0 picks a free one), on real time
/// scaled by `config.time_scale`.
pub async fn start(config: EmulatorConfig, port: u16) -> anyhow::Result<EmulatorHandle> {
    let clock = Clock::real(config.time_scale);
    start_with_clock(config, clock, port).await
}

/// Like [`start`], with a given clock (e.g. [`Clock::manual`] for simulated time).
pub async fn start_with_clock(
    config: EmulatorConfig,
    clock: Clock,
    port: u16,
) -> anyhow::Result<EmulatorHandle> {
    let core = Arc::new(EmulatorCore::new(&config, clock));
    // Loopback only: the emulator accepts dummy credentials and must never be reachable from
    // another machine.
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let (tx, rx) = oneshot::channel::<()>();
    let app = http::router(core.clone()).into_make_service_with_connect_info::<http::Peer>();
    tokio::spawn(async move {
        let server =
            axum::serve(http::ResettableListener(listener), app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
        if let Err(error) = server.await {
            tracing::error!(%error, "emulator server failed");
        }
    });
    Ok(EmulatorHandle {
        base_url: format!("http://{addr}"),
        addr,
        core,
        shutdown: Some(tx),
    })
}

/// `ssowatch emulate`: serve until Ctrl-C or SIGTERM. The first stdout line is the base URL.
pub async fn run(config: EmulatorConfig, port: u16) -> anyhow::Result<()> {
    let (history, rate) = (config.history, config.rate);
    let active: Vec<String> = config.faults.rules.iter().map(describe_rule).collect();
    let handle = start(config, port).await?;
    // Written without println!: a reader that takes the first line and closes the pipe (as
    // scripts do) must not kill the server.
    use std::io::Write;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", handle.base_url);
    let _ = writeln!(
        out,
        "ssowatch emulator: instance {} (Huawei: {}), {} finished records per kind, {} new requests/s. Ctrl-C stops it.",
        handle.instance_arn(),
        handle.huawei_instance_id(),
        history,
        rate
    );
    if !active.is_empty() {
        let _ = writeln!(out, "faults: {}", active.join(", "));
    }
    let _ = out.flush();
    wait_for_stop().await;
    drop(handle);
    Ok(())
}

fn describe_rule(rule: &FaultRule) -> String {
    let mut text = rule.fault.to_string();
    if let Some(op) = &rule.operation {
        text.push_str(&format!(" on {op}"));
    }
    if rule.ratio < 1.0 {
        text.push_str(&format!(" ({:.0}%)", rule.ratio * 100.0));
    }
    if let Some(times) = rule.times {
        text.push_str(&format!(", {times} times"));
    }
    text
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
