//! `ssowatch serve`: one poller for a whole team, exported to Prometheus.
//!
//! Ten dashboards are ten pollers on one shared limit; one `serve` is one poller, with
//! Prometheus, Grafana and Alertmanager on top. It runs the same poller and the same
//! `app::update` as the dashboard, with no terminal, and serves `/metrics` (OpenMetrics text,
//! via `prometheus-client`) and `/healthz` on loopback unless told otherwise.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, FixedOffset, Utc};

use crate::app::Msg;
use crate::config::Settings;
use crate::connect::{connect, live_runtime};
use crate::hub::Token;
use crate::hub::server::{Commands, Hub};
use crate::metrics::Metrics;
use crate::model::{OperationKind, Status};
use crate::poller::{DescribeRequest, Event, Priority};
use crate::runtime::Runtime;

/// The port registered for ssowatch's exporter would be guesswork; 9464 is the
/// OpenTelemetry-Prometheus default that many exporters reuse. Loopback by default: the
/// metrics name accounts and instances.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9464";

/// `ssowatch serve` options, filled by `main` from the command line.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to serve /metrics and /healthz on.
    pub listen: SocketAddr,
    /// A request IN_PROGRESS for longer than this counts as stuck (ssowatch_requests_stuck).
    pub stuck_after: Duration,
    /// The bearer token every client must send (`/metrics` and `/v1/...`): required when
    /// `listen` is not loopback.
    pub token_file: Option<std::path::PathBuf>,
}

/// How many times the refresh interval the last successful poll may be old before /healthz
/// says unhealthy.
const HEALTHY_INTERVALS: u32 = 3;

/// What the HTTP handlers read: the metrics (atomics) and what /healthz needs.
struct Shared {
    metrics: Arc<Metrics>,
    health: Mutex<Health>,
    started: DateTime<Utc>,
    refresh: Duration,
    /// The hub's read API: it also holds the token `/metrics` asks for.
    hub: Hub,
}

#[derive(Default)]
struct Health {
    last_success: Option<DateTime<Utc>>,
    poller_stopped: Option<String>,
}

pub async fn run(settings: &Settings, args: &ServeOptions) -> anyhow::Result<()> {
    let token = match &args.token_file {
        Some(path) => Some(Token::from_file(path)?),
        None => None,
    };
    if token.is_none() && !args.listen.ip().is_loopback() {
        anyhow::bail!(
            "serve shows your organization's requests: listening on {} (not loopback) needs --token-file PATH with a bearer token (and TLS in front, see docs/hub.md)",
            args.listen
        );
    }
    // Bind first: a port in use is the most likely mistake, and it should not wait for a
    // connection to the cloud to be reported.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (is another serve running? pick another with --listen)",
                args.listen
            )
        })?;
    let local = listener
        .local_addr()
        .context("cannot read the listening address")?;

    let connection = connect(settings).await?;
    let metrics = Arc::new(Metrics::new(
        &connection.info.name,
        &connection.instance.id,
        args.stuck_after,
    ));
    let reasons = Arc::new(Mutex::new(ReasonQueue::default()));
    let (hub, mut commands) = Hub::new(
        connection.info.clone(),
        connection.instance.clone(),
        settings.demo,
        settings.refresh,
        token.clone(),
    );
    let observer = {
        let (metrics, reasons, hub) = (metrics.clone(), reasons.clone(), hub.clone());
        Box::new(move |event: &Event| {
            metrics.observe_event(event);
            lock(&reasons).note(event);
            hub.observe(event);
        })
    };
    let (runtime, emulator) = live_runtime(
        settings,
        connection,
        FixedOffset::east_opt(0).expect("UTC offset"),
        Some(observer),
    );
    let started = runtime.data().now;
    let shared = Arc::new(Shared {
        metrics,
        health: Mutex::new(Health::default()),
        started,
        refresh: settings.refresh,
        hub: hub.clone(),
    });

    let app = Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz_handler))
        .route("/", get(index_handler))
        .with_state(shared.clone())
        .merge(hub.routes());
    print_addresses(local, emulator.as_ref().map(|e| e.base_url.as_str()));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let result = drive(&shared, runtime, &reasons, &mut commands).await;
    server.abort();
    drop(emulator);
    result
}

/// Prints where to find things, one per line, so a script (or a test) with `--listen
/// 127.0.0.1:0` knows: first the exporter's URL; with `--demo`, then the in-process emulator's
/// URL, so `ssowatch --endpoint-url URL list` (or the AWS CLI) can look at the very data being
/// exported; last a line for the operator.
fn print_addresses(local: SocketAddr, demo_emulator: Option<&str>) {
    use std::io::Write;
    let mut text = format!("http://{local}\n");
    if let Some(url) = demo_emulator {
        text.push_str(&format!("{url}\n"));
    }
    text.push_str(&format!(
        "ssowatch serve: /metrics, /healthz and the hub (ssowatch --hub http://{local}) on http://{local}"
    ));
    if let Some(url) = demo_emulator {
        text.push_str(&format!(
            "; the demo emulator answers on {url} (ssowatch --region us-east-1 --endpoint-url {url} list)"
        ));
    }
    text.push_str(". Ctrl-C stops it.\n");
    let mut out = std::io::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Runs the shared runtime until a signal, keeping the metrics and health current, and asks
/// for the describes that FAILED requests need for their reasons.
async fn drive(
    shared: &Shared,
    mut runtime: Runtime,
    reasons: &Mutex<ReasonQueue>,
    commands: &mut Commands,
) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    #[cfg(unix)]
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    loop {
        tokio::select! {
            () = runtime.step() => {}
            command = commands.recv() => commands.apply(&mut runtime, command),
            _ = tick.tick() => {
                let wall = runtime.wall_now();
                runtime.handle(Msg::Tick(wall));
                commands.expire(&mut runtime);
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = recv_signal(&mut sigterm) => break,
        }
        for request in lock(reasons).drain() {
            runtime.describe(request);
        }
        let data = runtime.data();
        shared
            .metrics
            .refresh_from(data, shared.started, Utc::now());
        shared
            .hub
            .set_health(data.last_success, runtime.first_load_done());
        let mut health = lock(&shared.health);
        health.last_success = data.last_success;
        health.poller_stopped = data.poller_stopped.clone();
    }
    // Writes the describe cache.
    runtime.shutdown();
    Ok(())
}

#[cfg(unix)]
async fn recv_signal(signal: &mut tokio::signal::unix::Signal) {
    signal.recv().await;
}

/// FAILED requests whose reason is not known yet. The poller describes the newest failures
/// and requests it saw in flight by itself; the rest of the history's failures need asking,
/// once each, at the lowest priority so they never crowd out the live view. The poller skips
/// what it already has.
#[derive(Default)]
struct ReasonQueue {
    waiting: Vec<DescribeRequest>,
    asked: HashSet<(OperationKind, String)>,
}

impl ReasonQueue {
    fn note(&mut self, event: &Event) {
        match event {
            Event::Records { kind, items } => {
                for item in items.iter().filter(|i| i.status == Status::Failed) {
                    if self.asked.insert((*kind, item.request_id.clone())) {
                        self.waiting.push(DescribeRequest {
                            kind: *kind,
                            request_id: item.request_id.clone(),
                            priority: Priority::Background,
                        });
                    }
                }
            }
            // Cached ones were described already.
            Event::Cached(all) => {
                for d in all {
                    self.asked
                        .insert((d.summary.kind, d.summary.request_id.clone()));
                }
            }
            _ => {}
        }
    }

    fn drain(&mut self) -> Vec<DescribeRequest> {
        std::mem::take(&mut self.waiting)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn metrics_handler(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !shared.hub.authorized(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "this serve needs its bearer token (Authorization: Bearer ...)\n",
        )
            .into_response();
    }
    let last_success = lock(&shared.health).last_success;
    shared
        .metrics
        .set_last_success(last_success, shared.started, Utc::now());
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (content_type, body) = shared.metrics.encode_for(accept);
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Healthy while the last successful poll is at most three refresh intervals old (counting
/// from start before the first one).
async fn healthz_handler(State(shared): State<Arc<Shared>>) -> Response {
    let (age, stopped) = {
        let health = lock(&shared.health);
        let last = health.last_success.unwrap_or(shared.started);
        (
            (Utc::now() - last).to_std().unwrap_or(Duration::ZERO),
            health.poller_stopped.clone(),
        )
    };
    let limit = shared.refresh * HEALTHY_INTERVALS;
    let body = serde_json::json!({
        "healthy": stopped.is_none() && age <= limit,
        "last_success_age_seconds": age.as_secs_f64(),
        "limit_seconds": limit.as_secs_f64(),
        "poller_stopped": stopped,
    });
    let status = if stopped.is_none() && age <= limit {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn index_handler() -> &'static str {
    "ssowatch serve: see /metrics, /healthz and the hub's /v1/snapshot and /v1/stream (docs/hub.md)\n"
}
