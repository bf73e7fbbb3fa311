//! The local emulator: AWS's SSO Admin JSON 1.1 protocol and Huawei Cloud's Identity Center
//! REST API, side by side on one loopback port, over one simulated organization.
//!
//! It powers `--demo` (a new user needs no cloud account), the tests and the benchmarks, and
//! real clients accept it: the AWS CLI and Huawei's Python SDK are tested against it.

pub mod aws_json;
pub mod core;
pub mod huawei_wire;
pub mod org;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::oneshot;

pub use self::core::{Clock, EmulatorCore, Faults, Stats};

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
    /// Throttle above this many requests per second, like the real service's shared limit.
    pub throttle_rps: Option<f64>,
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

/// `ssowatch emulate` options.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulateArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 4566)]
    pub port: u16,
    /// Seed of the simulated organization (same seed, same organization).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many instances ListInstances shows.
    #[arg(long, default_value_t = 1)]
    pub instances: usize,
    /// Accounts in the organization.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub accounts: u32,
    /// Finished records of each kind at start.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub history: u32,
    /// New requests per second across kinds (0 for none).
    #[arg(long, default_value_t = 0.5, value_parser = non_negative)]
    pub rate: f64,
    /// Share of requests that fail (0 to 1).
    #[arg(long, default_value_t = 0.1, value_parser = ratio)]
    pub failure_ratio: f64,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1.0, value_parser = positive)]
    pub time_scale: f64,
    /// Throttle above this many requests per second (the real limit is 20, shared).
    #[arg(long, value_parser = positive)]
    pub throttle_rps: Option<f64>,
    /// Access key the Huawei side accepts.
    #[arg(long, default_value = DEFAULT_HUAWEI_AK)]
    pub huawei_ak: String,
    /// Secret key the Huawei side verifies signatures with.
    #[arg(long, default_value = DEFAULT_HUAWEI_SK, hide_default_value = true)]
    pub huawei_sk: String,
}

fn parse_f64(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("'{s}' is not a number"))
}

fn non_negative(s: &str) -> Result<f64, String> {
    parse_f64(s).and_then(|v| {
        if v >= 0.0 {
            Ok(v)
        } else {
            Err("must be 0 or more".into())
        }
    })
}

fn positive(s: &str) -> Result<f64, String> {
    parse_f64(s).and_then(|v| {
        if v > 0.0 {
            Ok(v)
        } else {
            Err("must be more than 0".into())
        }
    })
}

fn ratio(s: &str) -> Result<f64, String> {
    parse_f64(s).and_then(|v| {
        if (0.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            Err("must be between 0 and 1".into())
        }
    })
}

impl EmulateArgs {
    pub fn config(&self) -> EmulatorConfig {
        EmulatorConfig {
            seed: self.seed,
            instances: self.instances,
            accounts: self.accounts as usize,
            history: self.history as usize,
            rate: self.rate,
            failure_ratio: self.failure_ratio,
            time_scale: self.time_scale,
            huawei_ak: self.huawei_ak.clone(),
            huawei_sk: self.huawei_sk.clone(),
            throttle_rps: self.throttle_rps,
            hostile_text: false,
            warmup: std::time::Duration::ZERO,
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

    /// Changes fault injection (throttle or fail the next N calls, a rate limit, ...).
    pub fn faults(&self, update: impl FnOnce(&mut Faults)) {
        self.core.set_faults(update);
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
    let app = router(core.clone());
    tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
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

fn router(core: Arc<EmulatorCore>) -> Router {
    let backend: Arc<dyn huawei_wire::HuaweiBackend + Send + Sync> = core.clone();
    let admit_core = core.clone();
    let admit: Arc<huawei_wire::AdmitFn> = Arc::new(move |op: &str| admit_core.admit_huawei(op));
    let huawei = huawei_wire::routes(Arc::new(core.huawei.clone()), backend, admit);
    Router::new()
        .route("/", post(aws_handler))
        .route("/_emulator/stats", get(stats_handler))
        .with_state(core)
        .merge(huawei)
}

async fn aws_handler(
    State(core): State<Arc<EmulatorCore>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (status, out_headers, body) = aws_json::handle(
        &core,
        header("x-amz-target"),
        header("authorization"),
        &body,
    );
    let mut response = Response::new(axum::body::Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in out_headers {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(n, v);
        }
    }
    response
}

async fn stats_handler(State(core): State<Arc<EmulatorCore>>) -> Response {
    axum::Json(core.stats()).into_response()
}

/// `ssowatch emulate`: serve until Ctrl-C or SIGTERM. The first stdout line is the base URL.
pub async fn run_cli(args: EmulateArgs) -> anyhow::Result<()> {
    let handle = start(args.config(), args.port).await?;
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
        args.history,
        args.rate
    );
    let _ = out.flush();
    wait_for_stop().await;
    drop(handle);
    Ok(())
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
