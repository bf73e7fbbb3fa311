//! `ssowatch serve`: one poller for a whole team, exported to Prometheus.
//!
//! Ten dashboards are ten pollers on one shared limit; one `serve` is one poller, with
//! Prometheus, Grafana and Alertmanager on top. It runs the same poller and the same
//! `app::update` as the dashboard, with no terminal, and serves `/metrics` (OpenMetrics text,
//! via `prometheus-client`) and `/healthz` on loopback unless told otherwise.

use std::collections::{HashSet, VecDeque};
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
use clap::Args;
use tokio::sync::mpsc;

use crate::app::{self, AppState, ConnectionInfo, DescribeUrgency, Effect, Msg, PollEvent};
use crate::config::Settings;
use crate::connect::{Connection, connect};
use crate::metrics::{MeteredProvider, Metrics};
use crate::model::{OperationKind, Status};
use crate::poller::{self, PollerCommand, PollerConfig, PollerHandle};
use crate::provider::Provider;

/// The port registered for ssowatch's exporter would be guesswork; 9464 is the
/// OpenTelemetry-Prometheus default that many exporters reuse. Loopback by default: the
/// metrics name accounts and instances.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9464";

/// `ssowatch serve` options.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to serve /metrics and /healthz on. Loopback by default; use 0.0.0.0:9464 to
    /// let a Prometheus on another host scrape it.
    #[arg(long, default_value = DEFAULT_LISTEN, value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// A request IN_PROGRESS for longer than this counts as stuck
    /// (ssowatch_requests_stuck). Examples: 15m, 1h, 90s.
    #[arg(long, default_value = "15m", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub stuck_after: Duration,
}

/// Capacity of the poll-event channel, as in the dashboard.
const EVENT_CAPACITY: usize = 1024;

/// How many times the refresh interval the last successful poll may be old before /healthz
/// says unhealthy.
const HEALTHY_INTERVALS: u32 = 3;

/// The runtime behind `serve`: today the poller, the way the dashboard starts it. Kept in
/// one function so the shared headless runtime can replace it in one place.
fn start_runtime(
    provider: Arc<dyn Provider>,
    instance: &str,
    info_name: &str,
    endpoint: Option<&str>,
    settings: &Settings,
) -> (PollerHandle, mpsc::Receiver<PollEvent>) {
    let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
    let mut config = PollerConfig::new(settings.refresh, settings.api_budget_rps);
    if !settings.demo {
        config.cache_path = poller::cache::default_path(info_name, endpoint, instance);
    }
    let handle = poller::spawn(provider, instance.to_string(), config, event_tx);
    (handle, event_rx)
}

/// What the HTTP handlers read.
struct Shared {
    state: Mutex<AppState>,
    metrics: Arc<Metrics>,
    started: DateTime<Utc>,
    refresh: Duration,
}

pub async fn run(settings: &Settings, args: &ServeArgs) -> anyhow::Result<()> {
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

    let Connection {
        provider,
        instance,
        info,
        emulator,
    } = connect(settings).await?;
    let metrics = Arc::new(Metrics::new(&info.name, &instance.id, args.stuck_after));
    let metered: Arc<dyn Provider> = Arc::new(MeteredProvider::new(provider, metrics.clone()));
    let (poller, events) = start_runtime(
        metered,
        &instance.id,
        &info.name,
        info.endpoint.as_deref(),
        settings,
    );
    let started = Utc::now();
    let state = AppState::new(
        ConnectionInfo {
            provider: info,
            instance: Some(instance),
            demo: settings.demo,
        },
        settings.refresh,
        started,
        FixedOffset::east_opt(0).expect("UTC offset"),
    );
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        metrics,
        started,
        refresh: settings.refresh,
    });

    let app = Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz_handler))
        .route("/", get(index_handler))
        .with_state(shared.clone());
    // The first stdout line is the address, so a script (or a test) with --listen :0 knows it.
    {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "http://{local}\nssowatch serve: /metrics and /healthz on http://{local}. Ctrl-C stops it."
        );
        let _ = out.flush();
    }
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let result = drive(&shared, poller, events).await;
    server.abort();
    drop(emulator);
    result
}

/// Feeds the poller's events to the app state and the metrics until a signal or the poller
/// ends, and asks for the describes that FAILED requests need for their reasons.
async fn drive(
    shared: &Shared,
    poller: PollerHandle,
    mut events: mpsc::Receiver<PollEvent>,
) -> anyhow::Result<()> {
    let PollerHandle {
        commands,
        task: mut poller_task,
    } = poller;
    let mut reasons = ReasonQueue::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    #[cfg(unix)]
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    loop {
        let msg = tokio::select! {
            Some(event) = events.recv() => {
                shared.metrics.observe_event(&event);
                reasons.note(&event);
                Msg::Poll(event)
            }
            _ = tick.tick() => Msg::Tick(Utc::now()),
            joined = &mut poller_task => {
                let reason = match joined {
                    Ok(()) => "the poller ended".to_string(),
                    Err(error) if error.is_panic() => "the poller crashed (see the log file)".to_string(),
                    Err(error) => format!("the poller stopped: {error}"),
                };
                anyhow::bail!("{reason}; restart ssowatch serve");
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = recv_signal(&mut sigterm) => break,
        };
        let effects = app::update(&mut lock(&shared.state), msg);
        for effect in effects {
            let command = match effect {
                Effect::Describe {
                    kind,
                    request_id,
                    urgency,
                } => PollerCommand::Describe {
                    kind,
                    request_id,
                    urgency,
                },
                Effect::RefreshNow => PollerCommand::RefreshNow,
                Effect::Copy(_) | Effect::Quit => continue,
            };
            let _ = commands.try_send(command);
        }
        reasons.send(&commands);
    }
    // Closing the command channel stops the poller, which then writes its describe cache;
    // give it a moment to do so before the process ends.
    drop(commands);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, poller_task).await;
    Ok(())
}

/// How long a stopping serve waits for the poller to write its cache.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

#[cfg(unix)]
async fn recv_signal(signal: &mut tokio::signal::unix::Signal) {
    signal.recv().await;
}

/// FAILED requests whose reason is not known yet. The poller describes requests it saw in
/// flight by itself; failures found in the history need asking, once each, at background
/// priority so they never crowd out the live view.
#[derive(Default)]
struct ReasonQueue {
    waiting: VecDeque<(OperationKind, String)>,
    asked: HashSet<(OperationKind, String)>,
}

impl ReasonQueue {
    fn note(&mut self, event: &PollEvent) {
        if let PollEvent::Records { kind, items } = event {
            for item in items.iter().filter(|i| i.status == Status::Failed) {
                let key = (*kind, item.request_id.clone());
                if self.asked.insert(key.clone()) {
                    self.waiting.push_back(key);
                }
            }
        }
        // Described ones and cached ones were asked already (or need not be).
        if let PollEvent::Cached(all) = event {
            for d in all {
                self.asked
                    .insert((d.summary.kind, d.summary.request_id.clone()));
            }
        }
    }

    /// Hands the poller as many as its command channel takes; the rest wait for a later turn.
    fn send(&mut self, commands: &mpsc::Sender<PollerCommand>) {
        while let Some((kind, request_id)) = self.waiting.front().cloned() {
            let command = PollerCommand::Describe {
                kind,
                request_id,
                urgency: DescribeUrgency::Background,
            };
            if commands.try_send(command).is_err() {
                break;
            }
            self.waiting.pop_front();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn metrics_handler(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    {
        let state = lock(&shared.state);
        shared
            .metrics
            .refresh_from(&state, shared.started, Utc::now());
    }
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
        let state = lock(&shared.state);
        let last = state.last_success.unwrap_or(shared.started);
        (
            (Utc::now() - last).to_std().unwrap_or(Duration::ZERO),
            state.poller_stopped.clone(),
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
    "ssowatch serve: see /metrics and /healthz\n"
}
