//! The hub's side, used by `ssowatch serve`: it keeps, from the runtime's events, what a new
//! client needs (the compact state), streams every event to the clients attached, and queues
//! what their operators ask for until the serve loop hands it to the runtime.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::{broadcast, mpsc};

use super::{Command, Health, KindTotals, Snapshot, Token, VERSION};
use crate::app::Effect;
use crate::model::{Described, Instance, NameKind, OperationKind, Status, StatusSummary};
use crate::poller::{Event, Lane, Priority, SpendReport};
use crate::provider::ProviderInfo;
use crate::runtime::Runtime;

/// Events kept for clients that read slower than the hub produces. A client that falls
/// further behind is sent a fresh snapshot instead: the hub never waits for anyone.
pub const STREAM_BUFFER: usize = 1024;

/// How often the stream says it is alive when nothing happens, so a client can tell a quiet
/// hub from a dead connection.
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// The most a client may raise the hub's budget to (the `F` view's "read every reason"), and
/// for how long before the hub returns to its own budget by itself. The hub's budget is
/// shared by everyone, so one operator may spend more for a while, not forever.
pub const MAX_CLIENT_BUDGET_RPS: f64 = 10.0;
pub const CLIENT_BUDGET_FOR: Duration = Duration::from_secs(600);

/// The header a client sends its protocol version in; the hub answers another version with
/// one clear line.
pub const VERSION_HEADER: &str = "x-ssowatch-hub-version";

/// The shortest time between two fast-lane refreshes asked for by arriving clients: about
/// what one refresh takes while the hub's budget is busy (three list calls, evenly spaced),
/// so a client arriving while one runs shares it, and one arriving later still gets data as
/// fresh as the hub can make it. A 1 s gap was tried with twenty dashboards arriving 0.65 s
/// apart: eleven refreshes in 20 s, each three calls of a budget the rollout's describes
/// already keep busy, pushed back the describes that say what failed (seen in the call log),
/// and no more dashboards agreed with `list`.
pub const ATTACH_REFRESH_GAP: Duration = Duration::from_secs(3);

/// Commands waiting for the serve loop. Bounded: a client that floods gets 503.
const COMMAND_QUEUE: usize = 256;

/// What the hub knows, as little as rebuilds a client's state.
#[derive(Default)]
struct Compact {
    summaries: BTreeMap<(OperationKind, String), StatusSummary>,
    described: BTreeMap<(OperationKind, String), Described>,
    names: BTreeMap<(NameKind, String), String>,
    loads: BTreeMap<(OperationKind, u8), Event>,
    listed: BTreeMap<OperationKind, DateTime<Utc>>,
    names_unavailable: Vec<String>,
    spend: SpendReport,
    health: Health,
}

impl Compact {
    fn note(&mut self, event: &Event) {
        match event {
            Event::Records { items, .. } => {
                for item in items {
                    self.summaries
                        .insert((item.kind, item.request_id.clone()), item.clone());
                }
            }
            Event::Cached(all) => {
                for d in all {
                    self.note_described(d);
                }
            }
            Event::Described(d) => self.note_described(d),
            Event::Name { kind, id, name } => {
                self.names.insert((*kind, id.clone()), name.clone());
            }
            Event::LoadProgress { kind, lane, .. } => {
                let lane = match lane {
                    Lane::Failed => 0,
                    Lane::Full | Lane::Fast => 1,
                };
                self.loads.insert((*kind, lane), event.clone());
            }
            Event::ListSucceeded { kind, at } => {
                self.listed.insert(*kind, *at);
            }
            Event::NamesUnavailable { hint } => {
                if !self.names_unavailable.contains(hint) {
                    self.names_unavailable.push(hint.clone());
                }
            }
            Event::Spend(report) => self.spend = *report,
            Event::PollerStopped { reason } => self.health.poller_stopped = Some(reason.clone()),
            Event::DescribeFailed { .. }
            | Event::ListFailed { .. }
            | Event::CallFailed { .. }
            | Event::CallCompleted { .. } => {}
        }
    }

    fn note_described(&mut self, d: &Described) {
        let key = (d.summary.kind, d.summary.request_id.clone());
        self.summaries.insert(key.clone(), d.summary.clone());
        self.described.insert(key, d.clone());
    }

    fn totals(&self) -> Vec<KindTotals> {
        let mut totals: Vec<KindTotals> = OperationKind::ALL
            .into_iter()
            .map(|kind| KindTotals {
                kind,
                total: 0,
                in_progress: 0,
                failed: 0,
                succeeded: 0,
                failed_with_reason: 0,
            })
            .collect();
        for (key, summary) in &self.summaries {
            let t = &mut totals[summary.kind.index()];
            t.total += 1;
            match summary.status {
                Status::InProgress => t.in_progress += 1,
                Status::Succeeded => t.succeeded += 1,
                Status::Failed => {
                    t.failed += 1;
                    let reason = self
                        .described
                        .get(key)
                        .is_some_and(|d| d.detail.failure_reason.is_some());
                    t.failed_with_reason += u64::from(reason);
                }
                Status::Unknown(_) => {}
            }
        }
        totals
    }

    /// The events that rebuild this state on a client, in an order that reads as a start:
    /// the rows (described first), then their names, then the load progress (so old
    /// failures are not news), the last successes and the spend.
    fn events(&self) -> Vec<Event> {
        let mut events = vec![Event::Cached(self.described.values().cloned().collect())];
        for kind in OperationKind::ALL {
            let items: Vec<StatusSummary> = self
                .summaries
                .range((kind, String::new())..)
                .take_while(|((k, _), _)| *k == kind)
                .filter(|(key, s)| {
                    self.described
                        .get(*key)
                        .is_none_or(|d| d.summary.status != s.status)
                })
                .map(|(_, s)| s.clone())
                .collect();
            if !items.is_empty() {
                events.push(Event::Records { kind, items });
            }
        }
        events.extend(self.names.iter().map(|((kind, id), name)| Event::Name {
            kind: *kind,
            id: id.clone(),
            name: name.clone(),
        }));
        events.extend(self.loads.values().cloned());
        events.extend(self.listed.iter().map(|(kind, at)| Event::ListSucceeded {
            kind: *kind,
            at: *at,
        }));
        events.extend(
            self.names_unavailable
                .iter()
                .map(|hint| Event::NamesUnavailable { hint: hint.clone() }),
        );
        events.push(Event::Spend(self.spend));
        if let Some(reason) = &self.health.poller_stopped {
            events.push(Event::PollerStopped {
                reason: reason.clone(),
            });
        }
        events
    }
}

/// What the hub serves: fixed facts about the connection, the compact state, the stream.
struct Shared {
    provider: ProviderInfo,
    instance: Instance,
    demo: bool,
    refresh: Duration,
    token: Option<Token>,
    compact: Mutex<Compact>,
    stream: broadcast::Sender<Arc<str>>,
    commands: mpsc::Sender<Command>,
    /// When a client's arrival last asked the runtime for a fresh fast lane, and whether one
    /// that arrived since is owed one.
    attach_refresh: Mutex<AttachRefresh>,
}

/// The fresh fast lanes arriving clients asked for.
#[derive(Default)]
struct AttachRefresh {
    /// When the last one was asked.
    last: Option<tokio::time::Instant>,
    /// A client arrived within the gap after it: one more is asked when the gap ends.
    owed: bool,
}

/// The hub of one `serve`. Clone it freely: every clone is the same hub.
#[derive(Clone)]
pub struct Hub {
    shared: Arc<Shared>,
}

/// The serve loop's end of the clients' commands, with the state of a client's budget raise.
pub struct Commands {
    queue: mpsc::Receiver<Command>,
    raised_until: Option<tokio::time::Instant>,
}

impl Hub {
    pub fn new(
        provider: ProviderInfo,
        instance: Instance,
        demo: bool,
        refresh: Duration,
        token: Option<Token>,
    ) -> (Hub, Commands) {
        let (stream, _) = broadcast::channel(STREAM_BUFFER);
        let (commands, queue) = mpsc::channel(COMMAND_QUEUE);
        let hub = Hub {
            shared: Arc::new(Shared {
                provider,
                instance,
                demo,
                refresh,
                token,
                compact: Mutex::new(Compact::default()),
                stream,
                commands,
                attach_refresh: Mutex::new(AttachRefresh::default()),
            }),
        };
        (
            hub,
            Commands {
                queue,
                raised_until: None,
            },
        )
    }

    /// Notes one of the runtime's events and sends it to every client attached. Never
    /// waits: a client that is behind loses its place and is sent a snapshot.
    pub fn observe(&self, event: &Event) {
        let mut compact = lock(&self.shared.compact);
        compact.note(event);
        if self.shared.stream.receiver_count() > 0 {
            match serde_json::to_string(event) {
                Ok(text) => {
                    let _ = self.shared.stream.send(Arc::from(text));
                }
                Err(error) => tracing::error!(%error, "cannot serialize a hub event"),
            }
        }
    }

    /// A dashboard attached (opened, or reconnected after a restart). An operator opening a
    /// view expects what is true now, not what was true at the hub's last poll up to one
    /// refresh interval ago, so the hub polls its fast lane at once, as the `r` key does: at
    /// most once per [`ATTACH_REFRESH_GAP`] (or refresh interval, if shorter), so twenty
    /// dashboards opened together cost a few refreshes, and always within the hub's budget
    /// (the refresh skips the even spacing while the window has room, never the window). A
    /// client arriving within the gap is owed one: a refresh that started before it opened
    /// cannot have seen what failed just before, and the next regular fast lane may be a whole
    /// interval away (a failure in that second showed 10 s late, seen with twenty dashboards),
    /// so one more is asked when the gap ends, for all who arrived in it. Only the stream
    /// asks: a script that reads `/v1/snapshot` over and over (`wait --hub` does, and so would
    /// a monitor) would otherwise keep the fast lane running back to back and starve the
    /// history and the reasons. Returns whether this arrival asked for the refresh at once.
    pub fn client_attached(&self) -> bool {
        let now = tokio::time::Instant::now();
        let gap = self.attach_gap();
        let mut state = lock(&self.shared.attach_refresh);
        if let Some(last) = state.last.filter(|at| now.duration_since(*at) < gap) {
            if !state.owed {
                state.owed = true;
                let hub = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until(last + gap).await;
                    hub.owed_refresh();
                });
            }
            tracing::debug!("a client attached; a refresh follows when the gap ends");
            return false;
        }
        self.ask_refresh(&mut state, now, "a client attached")
    }

    /// The refresh owed to the clients that arrived within the gap, when it ends (unless an
    /// arrival since has asked for one already).
    fn owed_refresh(&self) {
        let now = tokio::time::Instant::now();
        let gap = self.attach_gap();
        let mut state = lock(&self.shared.attach_refresh);
        state.owed = false;
        if state.last.is_some_and(|at| now.duration_since(at) < gap) {
            return;
        }
        self.ask_refresh(&mut state, now, "the gap ended");
    }

    fn attach_gap(&self) -> Duration {
        ATTACH_REFRESH_GAP.min(self.shared.refresh)
    }

    fn ask_refresh(&self, state: &mut AttachRefresh, now: tokio::time::Instant, why: &str) -> bool {
        // A full queue means the runtime is busy with commands; the next arrival tries again.
        if self.shared.commands.try_send(Command::RefreshNow).is_err() {
            tracing::debug!(why, "the command queue is full: no refresh asked");
            return false;
        }
        tracing::debug!(why, "asked for a refresh");
        state.last = Some(now);
        true
    }

    /// The serve loop's view of the poll's health, for the snapshot.
    pub fn set_health(&self, last_success: Option<DateTime<Utc>>, loaded: bool) {
        let mut compact = lock(&self.shared.compact);
        compact.health.last_success = last_success;
        compact.health.loaded = loaded;
    }

    /// Whether a request with these headers may read or command the hub.
    pub fn authorized(&self, headers: &HeaderMap) -> bool {
        match &self.shared.token {
            None => true,
            Some(token) => token.accepts(
                headers
                    .get(header::AUTHORIZATION)
                    .map(axum::http::HeaderValue::as_bytes),
            ),
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let compact = lock(&self.shared.compact);
        self.snapshot_of(&compact)
    }

    fn snapshot_of(&self, compact: &Compact) -> Snapshot {
        Snapshot {
            version: VERSION,
            ssowatch: env!("CARGO_PKG_VERSION").to_string(),
            provider: self.shared.provider.clone(),
            instance: self.shared.instance.clone(),
            demo: self.shared.demo,
            refresh_seconds: self.shared.refresh.as_secs_f64(),
            totals: compact.totals(),
            health: compact.health.clone(),
            spend: compact.spend,
            events: compact.events(),
        }
    }

    /// A snapshot and a subscription taken together: no event falls between them.
    fn snapshot_and_subscribe(&self) -> (String, broadcast::Receiver<Arc<str>>) {
        let compact = lock(&self.shared.compact);
        let text = serde_json::to_string(&self.snapshot_of(&compact)).unwrap_or_default();
        (text, self.shared.stream.subscribe())
    }

    /// The `/v1` routes, to merge into serve's router.
    pub fn routes(&self) -> Router {
        Router::new()
            .route("/v1/snapshot", get(snapshot_handler))
            .route("/v1/stream", get(stream_handler))
            .route("/v1/command", post(command_handler))
            .with_state(self.clone())
    }
}

impl Commands {
    /// The next command a client sent (cancel-safe, for the serve loop's `select!`); never
    /// resolves once every sender is gone.
    pub async fn recv(&mut self) -> Command {
        match self.queue.recv().await {
            Some(command) => command,
            None => std::future::pending().await,
        }
    }

    /// Hands a command to the runtime. A client's budget raise is capped at
    /// [`MAX_CLIENT_BUDGET_RPS`] and lasts [`CLIENT_BUDGET_FOR`] at most.
    pub fn apply(&mut self, runtime: &mut Runtime, command: Command) {
        let effect = match command {
            Command::SetBudget(Some(rate)) => {
                let rate = rate.clamp(0.1, MAX_CLIENT_BUDGET_RPS);
                self.raised_until = Some(tokio::time::Instant::now() + CLIENT_BUDGET_FOR);
                tracing::info!(rate, "a client raised the hub's budget for a while");
                Effect::SetBudget(Some(rate))
            }
            Command::SetBudget(None) => {
                self.raised_until = None;
                Effect::SetBudget(None)
            }
            other => client_effect(other),
        };
        runtime.apply_remote(effect);
    }

    /// Ends a client's budget raise that has lasted its time (the serve loop calls this on
    /// its tick).
    pub fn expire(&mut self, runtime: &mut Runtime) {
        if self
            .raised_until
            .is_some_and(|until| tokio::time::Instant::now() >= until)
        {
            self.raised_until = None;
            runtime.apply_remote(Effect::SetBudget(None));
            tracing::info!("a client's budget raise expired: back to the hub's budget");
        }
    }
}

/// What a client's command asks of the hub's poller. A dashboard names the in-flight rows on
/// its screen as tracking work, next to its own fast lane; on a hub every client that
/// attaches asks for its screen's rows, and a dozen such describes ahead of the hub's fast lane
/// held it back 21 s instead of 10 (seen in the call log with twenty dashboards): for the
/// whole team, knowing what failed comes before naming what is still running. They are read
/// as rows on screen instead (in turn with the history, ahead of the background).
fn client_effect(command: Command) -> Effect {
    match command {
        Command::Describe(mut request) if request.priority == Priority::Tracking => {
            request.priority = Priority::OnScreen;
            Effect::Describe(request)
        }
        other => other.into_effect(),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The answer to a request without the token (or with another one). Says nothing of why.
fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "this hub needs its bearer token (Authorization: Bearer ...)\n",
    )
        .into_response()
}

/// A client that says it speaks another protocol version gets one clear line.
fn version_mismatch(headers: &HeaderMap) -> Option<Response> {
    let theirs = headers
        .get(VERSION_HEADER)?
        .to_str()
        .ok()?
        .trim()
        .to_string();
    if theirs == VERSION.to_string() {
        return None;
    }
    Some(
        (
            StatusCode::CONFLICT,
            format!(
                "this hub (ssowatch {}) speaks hub protocol v{VERSION}, the client v{theirs}: run the same ssowatch version on both sides\n",
                env!("CARGO_PKG_VERSION")
            ),
        )
            .into_response(),
    )
}

fn check(hub: &Hub, headers: &HeaderMap) -> Option<Response> {
    if !hub.authorized(headers) {
        return Some(unauthorized());
    }
    version_mismatch(headers)
}

async fn snapshot_handler(State(hub): State<Hub>, headers: HeaderMap) -> Response {
    if let Some(refused) = check(&hub, &headers) {
        return refused;
    }
    axum::Json(hub.snapshot()).into_response()
}

async fn stream_handler(State(hub): State<Hub>, headers: HeaderMap) -> Response {
    if let Some(refused) = check(&hub, &headers) {
        return refused;
    }
    hub.client_attached();
    let stream = client_stream(hub).map(|message| {
        Ok::<_, Infallible>(match message {
            Message::Snapshot(text) => SseEvent::default().event("snapshot").data(text),
            Message::Event(text) => SseEvent::default().event("event").data(&*text),
        })
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// What one client is sent, in order.
#[derive(Debug)]
enum Message {
    Snapshot(String),
    Event(Arc<str>),
}

/// One client's messages: a snapshot, then every event; when the client has fallen more
/// than [`STREAM_BUFFER`] events behind, a fresh snapshot and the events from there.
fn client_stream(hub: Hub) -> impl futures_util::Stream<Item = Message> {
    let (snapshot, events) = hub.snapshot_and_subscribe();
    let state = (hub, Some(snapshot), events);
    futures_util::stream::unfold(state, |(hub, first, mut events)| async move {
        if let Some(snapshot) = first {
            return Some((Message::Snapshot(snapshot), (hub, None, events)));
        }
        match events.recv().await {
            Ok(text) => Some((Message::Event(text), (hub, None, events))),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::info!(
                    missed,
                    "a hub client fell behind: sending it a fresh snapshot"
                );
                let (snapshot, events) = hub.snapshot_and_subscribe();
                Some((Message::Snapshot(snapshot), (hub, None, events)))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    })
}

async fn command_handler(
    State(hub): State<Hub>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refused) = check(&hub, &headers) {
        return refused;
    }
    let command: Command = match serde_json::from_slice(&body) {
        Ok(command) => command,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("not a hub v{VERSION} command: {error}\n"),
            )
                .into_response();
        }
    };
    match hub.shared.commands.try_send(command) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the hub is busy with other clients' commands; try again\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn hub() -> Hub {
        let instance = Instance {
            id: "ssoins-test".into(),
            name: None,
            identity_store_id: None,
        };
        Hub::new(
            ProviderInfo::default(),
            instance,
            false,
            Duration::from_secs(5),
            None,
        )
        .0
    }

    fn records(from: usize, n: usize) -> Event {
        let created = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        Event::Records {
            kind: OperationKind::AssignmentCreation,
            items: (from..from + n)
                .map(|i| StatusSummary {
                    kind: OperationKind::AssignmentCreation,
                    request_id: format!("req-{i:05}"),
                    status: if i % 10 == 0 {
                        Status::Failed
                    } else {
                        Status::Succeeded
                    },
                    created,
                })
                .collect(),
        }
    }

    fn snapshot_of(message: Option<Message>) -> Snapshot {
        match message {
            Some(Message::Snapshot(text)) => super::super::decode(&text).expect("a snapshot"),
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn arriving_clients_share_one_fresh_fast_lane_per_attach_gap() {
        let instance = Instance {
            id: "ssoins-test".into(),
            name: None,
            identity_store_id: None,
        };
        let refresh = Duration::from_secs(10);
        let (hub, mut commands) = Hub::new(ProviderInfo::default(), instance, false, refresh, None);
        let queued = |commands: &mut Commands| {
            let mut n = 0;
            while let Ok(command) = commands.queue.try_recv() {
                assert_eq!(command, Command::RefreshNow);
                n += 1;
            }
            n
        };
        // A script reading snapshots over and over asks for nothing: it would keep the fast
        // lane running back to back.
        for _ in 0..5 {
            let answer = snapshot_handler(State(hub.clone()), HeaderMap::new()).await;
            assert_eq!(answer.status(), StatusCode::OK);
            tokio::time::advance(ATTACH_REFRESH_GAP).await;
        }
        assert_eq!(queued(&mut commands), 0);
        // A dashboard attaching to the stream does.
        let answer = stream_handler(State(hub.clone()), HeaderMap::new()).await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(queued(&mut commands), 1);
        // Once the gap has passed, the next arrival refreshes at once.
        tokio::time::advance(ATTACH_REFRESH_GAP).await;
        assert!(hub.client_attached());
        assert_eq!(queued(&mut commands), 1);
        // Twenty more within the gap share one more refresh, when the gap ends: the one
        // before started before they opened.
        for _ in 0..20 {
            tokio::time::advance(ATTACH_REFRESH_GAP / 25).await;
            assert!(!hub.client_attached());
        }
        assert_eq!(queued(&mut commands), 0);
        // (The owed refresh is a task of its own: yielding lets it run.)
        let settle = || async {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::advance(ATTACH_REFRESH_GAP / 5).await;
        settle().await;
        assert_eq!(queued(&mut commands), 1);
        // Nobody arriving since, nothing more.
        tokio::time::advance(ATTACH_REFRESH_GAP * 3).await;
        settle().await;
        assert_eq!(queued(&mut commands), 0);
        // After a quiet spell an arrival refreshes at once; one just after it is owed one at
        // the gap's end, which serves the arrivals right after it too.
        assert!(hub.client_attached());
        assert_eq!(queued(&mut commands), 1);
        tokio::time::advance(ATTACH_REFRESH_GAP / 2).await;
        assert!(!hub.client_attached());
        tokio::time::advance(ATTACH_REFRESH_GAP / 2).await;
        settle().await;
        assert_eq!(queued(&mut commands), 1);
        assert!(!hub.client_attached());
        assert_eq!(queued(&mut commands), 0);
        // A hub that refreshes more often than the gap never refreshes faster than that.
        let (hub, mut commands) = Hub::new(
            ProviderInfo::default(),
            Instance {
                id: "ssoins-test".into(),
                name: None,
                identity_store_id: None,
            },
            false,
            Duration::from_secs(1),
            None,
        );
        let mut asked_at = Vec::new();
        let mut record = |commands: &mut Commands| {
            for _ in 0..queued(commands) {
                asked_at.push(tokio::time::Instant::now());
            }
        };
        for _ in 0..10 {
            hub.client_attached();
            record(&mut commands);
            // An owed refresh is asked at the end of a gap, a multiple of these steps.
            tokio::time::advance(Duration::from_millis(500)).await;
            settle().await;
            record(&mut commands);
        }
        // One at the first arrival, then one per second (the owed ones), never closer.
        assert!((5..=6).contains(&asked_at.len()), "{asked_at:?}");
        assert!(
            asked_at
                .windows(2)
                .all(|w| w[1] - w[0] >= Duration::from_secs(1)),
            "{asked_at:?}"
        );
    }

    #[test]
    fn a_clients_in_flight_names_wait_behind_the_hubs_tracking_and_its_own_asks_do_not() {
        use crate::poller::DescribeRequest;
        let ask = |priority| {
            Command::Describe(DescribeRequest {
                kind: OperationKind::AssignmentCreation,
                request_id: "req-1".into(),
                priority,
            })
        };
        let priority_of = |effect: Effect| match effect {
            Effect::Describe(request) => request.priority,
            other => panic!("a describe, not {other:?}"),
        };
        assert_eq!(
            priority_of(client_effect(ask(Priority::Tracking))),
            Priority::OnScreen
        );
        // What an operator asked for (Enter on a row) stays as urgent as on a direct
        // connection.
        assert_eq!(
            priority_of(client_effect(ask(Priority::Interactive))),
            Priority::Interactive
        );
        assert_eq!(client_effect(Command::RefreshNow), Effect::RefreshNow);
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_holds_up_nobody_and_gets_a_fresh_snapshot() {
        let hub = hub();
        hub.observe(&records(0, 10));
        let mut stuck = Box::pin(client_stream(hub.clone()));
        let mut reading = Box::pin(client_stream(hub.clone()));
        assert_eq!(snapshot_of(stuck.next().await).totals[0].total, 10);
        assert_eq!(snapshot_of(reading.next().await).totals[0].total, 10);
        // Far more events than the buffer while `stuck` reads nothing: observing never waits,
        // and the reading client gets every one of them.
        let more = 2 * STREAM_BUFFER;
        for i in 0..more {
            hub.observe(&records(10 + i, 1));
            match reading.next().await {
                Some(Message::Event(text)) => assert!(text.contains(&format!("req-{:05}", 10 + i))),
                other => panic!("the reading client gets each event: {other:?}"),
            }
        }
        // The stuck client, once it reads again, is sent the whole state at once, not the
        // events it missed.
        let fresh = snapshot_of(stuck.next().await);
        assert_eq!(fresh.totals[0].total, (10 + more) as u64);
        assert_eq!(fresh.totals[0].failed, (10 + more).div_ceil(10) as u64);
        // And from there it follows live again.
        hub.observe(&records(100_000, 1));
        assert!(matches!(stuck.next().await, Some(Message::Event(_))));
    }

    #[test]
    fn a_client_of_another_version_gets_one_line_and_the_token_is_checked_first() {
        let mut headers = HeaderMap::new();
        assert!(
            version_mismatch(&headers).is_none(),
            "a client that says nothing is served"
        );
        headers.insert(VERSION_HEADER, VERSION.to_string().parse().expect("header"));
        assert!(version_mismatch(&headers).is_none());
        headers.insert(VERSION_HEADER, "2".parse().expect("header"));
        let refused = version_mismatch(&headers).expect("refused");
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        let (hub, _) = Hub::new(
            ProviderInfo::default(),
            Instance {
                id: "i".into(),
                name: None,
                identity_store_id: None,
            },
            false,
            Duration::from_secs(5),
            Token::parse("t0ken"),
        );
        let refused = check(&hub, &headers).expect("refused");
        assert_eq!(
            refused.status(),
            StatusCode::UNAUTHORIZED,
            "no token, no version talk"
        );
    }

    #[test]
    fn a_snapshot_rebuilds_rows_names_progress_and_spend() {
        let hub = hub();
        hub.observe(&records(0, 3));
        hub.observe(&Event::Name {
            kind: NameKind::Account,
            id: "111111111111".into(),
            name: "prod".into(),
        });
        hub.observe(&Event::Spend(SpendReport {
            rps: 0.5,
            budget_rps: 1.0,
            ..SpendReport::default()
        }));
        let snapshot = hub.snapshot();
        assert_eq!(snapshot.version, VERSION);
        assert_eq!(snapshot.spend.budget_rps, 1.0);
        assert!(
            snapshot
                .events
                .iter()
                .any(|e| matches!(e, Event::Records { items, .. } if items.len() == 3))
        );
        assert!(
            snapshot
                .events
                .iter()
                .any(|e| matches!(e, Event::Name { name, .. } if name == "prod"))
        );
    }
}
