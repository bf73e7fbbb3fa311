//! The headless runtime: the poller, the app state and every effect, with no terminal.
//!
//! The dashboard adds a terminal around it, `serve` adds an HTTP exporter, and the API-cost
//! benchmark and the budget tests drive it in simulated time. They all run this code, so a
//! figure measured on one is a figure for the others.
//!
//! One step: start the calls the poller allows now, wait for one to answer (or for the next
//! time something is due), feed the answer to the poller, and its events to
//! [`app::update`]. Effects of the update go back to the poller (describes, refresh) or out to
//! the host (clipboard, quit).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use tokio::task::JoinSet;

use crate::app::{self, AppState, ConnectionInfo, DataState, Effect, Msg};
use crate::poller::{self, Call, DescribeRequest, Event, Outcome, Poller, PollerConfig};
use crate::provider::{Provider, ProviderError};

/// A call's answer, with when its slot was granted and when it really started (a task that
/// the scheduler runs late sends its request late).
type CallResult = (Call, Result<Outcome, ProviderError>, Duration, Duration);

/// Where the runtime's time comes from.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// Real time: calls answer when the network does.
    Live,
    /// Simulated time, moved only by [`Runtime::advance_to`]: each step waits for every call on
    /// the wire (answers take no simulated time), so runs are deterministic.
    Simulated,
}

enum Clock {
    Live {
        start: tokio::time::Instant,
        wall_start: DateTime<Utc>,
    },
    Simulated {
        now: Duration,
        wall_start: DateTime<Utc>,
    },
}

/// What the header adds to a hub's URL while the hub cannot be reached.
pub const HUB_DOWN: &str = " (unreachable: last data shown)";

/// Sees every poller event before the app does (`serve` counts calls and failures with it).
pub type Observer = Box<dyn FnMut(&Event) + Send>;

pub struct Runtime {
    state: AppState,
    observer: Option<Observer>,
    poller: Poller,
    /// `None` on a hub's client: its events come from the hub, and what it would ask its
    /// poller goes back to the host (which sends it to the hub).
    provider: Option<Arc<dyn Provider>>,
    instance: String,
    in_flight: JoinSet<CallResult>,
    clock: Clock,
    stopped: bool,
}

impl Runtime {
    /// A runtime for `connection`'s instance. `wall_start` is the wall-clock time of the start
    /// (the simulated one, in simulated time); `tz` the time zone tables show times in.
    pub fn new(
        provider: Arc<dyn Provider>,
        connection: ConnectionInfo,
        config: PollerConfig,
        pace: Pace,
        wall_start: DateTime<Utc>,
        tz: FixedOffset,
    ) -> Runtime {
        Runtime::observed(provider, connection, config, pace, wall_start, tz, None)
    }

    /// Like [`Runtime::new`], with an observer that sees every poller event before the app
    /// applies it, the events of the start (the disk cache) included.
    pub fn observed(
        provider: Arc<dyn Provider>,
        connection: ConnectionInfo,
        config: PollerConfig,
        pace: Pace,
        wall_start: DateTime<Utc>,
        tz: FixedOffset,
        observer: Option<Observer>,
    ) -> Runtime {
        let instance = connection
            .instance
            .as_ref()
            .map(|i| i.id.clone())
            .unwrap_or_default();
        let refresh = config.refresh;
        let (mut poller, events) = Poller::new(&config, wall_start);
        poller.set_name_target(
            &provider.info().name,
            &instance,
            connection
                .instance
                .as_ref()
                .and_then(|i| i.identity_store_id.clone()),
        );
        let state = AppState::new(connection, refresh, wall_start, tz);
        let clock = match pace {
            Pace::Live => Clock::Live {
                start: tokio::time::Instant::now(),
                wall_start,
            },
            Pace::Simulated => Clock::Simulated {
                now: Duration::ZERO,
                wall_start,
            },
        };
        let mut runtime = Runtime {
            state,
            observer,
            poller,
            provider: Some(provider),
            instance,
            in_flight: JoinSet::new(),
            clock,
            stopped: false,
        };
        runtime.apply(events);
        runtime
    }

    /// A runtime with no poller of its own, for a hub's client (`ssowatch --hub`): the host
    /// feeds it the hub's events with [`Runtime::feed`], and [`Runtime::handle`] hands the
    /// effects meant for a poller (describes, reasons, budget, refresh) back to the host.
    pub fn remote(
        connection: ConnectionInfo,
        refresh: Duration,
        wall_start: DateTime<Utc>,
        tz: FixedOffset,
    ) -> Runtime {
        let config = PollerConfig::new(refresh, 1.0);
        let (poller, _) = Poller::new(&config, wall_start);
        Runtime {
            state: AppState::new(connection, refresh, wall_start, tz),
            observer: None,
            poller,
            provider: None,
            instance: String::new(),
            in_flight: JoinSet::new(),
            clock: Clock::Live {
                start: tokio::time::Instant::now(),
                wall_start,
            },
            stopped: true,
        }
    }

    /// Whether this runtime is a hub's client (see [`Runtime::remote`]).
    pub fn is_remote(&self) -> bool {
        self.provider.is_none()
    }

    /// Applies events that arrived from elsewhere (a hub) as if this runtime's poller had
    /// reported them.
    pub fn feed(&mut self, events: Vec<Event>) {
        self.apply(events);
    }

    /// Marks the hub this client follows as unreachable (its data is the last it sent), or
    /// back; the header shows it next to the hub's URL.
    pub fn mark_hub_down(&mut self, down: bool) {
        if let Some(hub) = &mut self.state.data.connection.hub {
            let url = hub.trim_end_matches(HUB_DOWN).to_string();
            *hub = if down {
                format!("{url}{HUB_DOWN}")
            } else {
                url
            };
        }
    }

    /// Shows a one-line note on the status line (a hub's client: what the hub said).
    pub fn flash(&mut self, text: String) {
        self.state.view.flash = Some((self.state.data.now, text));
    }

    /// Carries out, on this runtime's poller, an effect that a hub's client asked for.
    pub fn apply_remote(&mut self, effect: Effect) {
        if let Some(effect) = self.route(effect) {
            tracing::debug!(?effect, "not a poller effect; ignored");
        }
    }

    /// Counts a call the host made just before the runtime started (instance discovery), so
    /// that no 10 s window from the start holds more calls than the budget allows.
    pub fn count_call_made_before_start(&mut self) {
        self.poller.count_external_call(Duration::ZERO);
    }

    /// Asks for a describe on the host's behalf (`serve` wants every failure's reason).
    pub fn describe(&mut self, request: DescribeRequest) -> bool {
        self.poller.request_describe(request)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The data alone, without the view state: what `serve` and the metrics read.
    pub fn data(&self) -> &DataState {
        &self.state.data
    }

    /// Time since start.
    pub fn now(&self) -> Duration {
        match &self.clock {
            Clock::Live { start, .. } => start.elapsed(),
            Clock::Simulated { now, .. } => *now,
        }
    }

    /// The runtime's wall-clock time now: the hosts tick the app with it, so one clock rules
    /// every age, TTL and "stuck" judgement, live or simulated.
    pub fn wall_now(&self) -> DateTime<Utc> {
        self.wall(self.now())
    }

    fn wall(&self, now: Duration) -> DateTime<Utc> {
        let wall_start = match &self.clock {
            Clock::Live { wall_start, .. } | Clock::Simulated { wall_start, .. } => *wall_start,
        };
        wall_start + chrono::Duration::from_std(now).unwrap_or_default()
    }

    /// Applies one message; returns the effects only the host can carry out (clipboard, quit).
    pub fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        let effects = app::update(&mut self.state, msg);
        if self.is_remote() {
            return effects;
        }
        effects
            .into_iter()
            .filter_map(|effect| self.route(effect))
            .collect()
    }

    /// Gives a poller's effect to the poller; returns the others (clipboard, quit).
    fn route(&mut self, effect: Effect) -> Option<Effect> {
        match effect {
            Effect::Describe(request) => {
                self.poller.request_describe(request);
            }
            Effect::DescribeOnScreen(requests) => self.poller.describe_on_screen(requests),
            Effect::ReadReasons(requests) => self.poller.read_reasons(requests),
            Effect::SetBudget(budget) => self.poller.set_budget(budget),
            Effect::RefreshNow => {
                let now = self.now();
                tracing::debug!(at = ?now, "refresh asked");
                self.poller.refresh_now(now);
            }
            Effect::Copy(_) | Effect::Quit | Effect::SaveColumns(_) => return Some(effect),
        }
        None
    }

    fn apply(&mut self, events: Vec<Event>) {
        for event in events {
            if let Some(observer) = &mut self.observer {
                observer(&event);
            }
            // Poll events never produce host effects.
            self.handle(Msg::Poll(event));
        }
    }

    /// Starts every call the poller allows now.
    fn start_due_calls(&mut self) {
        if self.stopped {
            return;
        }
        let Some(provider) = self.provider.clone() else {
            return;
        };
        let now = self.now();
        let live_start = match &self.clock {
            Clock::Live { start, .. } => Some(*start),
            Clock::Simulated { .. } => None,
        };
        for call in self.poller.due_calls(now, self.in_flight.len()) {
            // Every call the budget allowed, in order: `SSOWATCH_LOG=ssowatch::runtime=debug`
            // shows where a budget goes (ids only, never a credential).
            tracing::debug!(at = ?now, ?call, "call");
            let provider = provider.clone();
            let instance = self.instance.clone();
            self.in_flight.spawn(async move {
                let started = live_start.map_or(now, |start| start.elapsed());
                let result = poller::execute(provider.as_ref(), &instance, &call).await;
                (call, result, now, started)
            });
        }
    }

    fn on_joined(&mut self, joined: Result<CallResult, tokio::task::JoinError>) {
        let now = self.now();
        match joined {
            Ok((call, result, granted, started)) => {
                self.poller.call_started_late(granted, started);
                let events = self.poller.on_result(call, result, now, self.wall(now));
                self.apply(events);
            }
            Err(error) => {
                // A panicking call is a bug: stop polling rather than loop on it.
                let reason = if error.is_panic() {
                    "a poll call crashed (see the log file)".to_string()
                } else {
                    format!("a poll call stopped: {error}")
                };
                tracing::error!("{reason}");
                self.stopped = true;
                self.in_flight.abort_all();
                self.apply(vec![Event::PollerStopped { reason }]);
            }
        }
        self.poller.flush_cache_if_due(now);
    }

    /// Live pace: starts what is due, then waits for one answer or for the next thing due.
    /// Cancel-safe, so a host can `select!` on it beside its own input.
    pub async fn step(&mut self) {
        self.start_due_calls();
        let now = self.now();
        let wake = if self.stopped {
            None
        } else {
            self.poller.next_wake(now, self.in_flight.len())
        };
        let sleep = match wake {
            Some(at) => at.saturating_sub(now),
            None => Duration::from_secs(3600),
        };
        tokio::select! {
            Some(joined) = self.in_flight.join_next() => self.on_joined(joined),
            _ = tokio::time::sleep(sleep) => {}
        }
    }

    /// Simulated pace: makes every call due now, and the calls their answers make due, until
    /// nothing more can start at this instant.
    pub async fn settle(&mut self) {
        loop {
            self.start_due_calls();
            match self.in_flight.join_next().await {
                Some(joined) => self.on_joined(joined),
                None => break,
            }
        }
    }

    /// When something is next due (simulated pace), if anything ever is.
    pub fn next_wake(&mut self) -> Option<Duration> {
        if self.stopped {
            return None;
        }
        let now = self.now();
        self.poller.next_wake(now, self.in_flight.len())
    }

    /// Moves simulated time to `at` (never backwards) and ticks the app's clock.
    pub fn advance_to(&mut self, at: Duration) {
        if let Clock::Simulated { now, .. } = &mut self.clock {
            *now = (*now).max(at);
        }
        let now = self.now();
        let wall = self.wall(now);
        self.handle(Msg::Tick(wall));
    }

    /// Whether the first FAILED listing and the first history load of every kind are done.
    pub fn first_load_done(&self) -> bool {
        self.poller.first_load_done()
    }

    /// Stops: calls on the wire are dropped and the cache is written.
    pub fn shutdown(&mut self) {
        self.in_flight.abort_all();
        self.poller.flush_cache();
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Runs several runtimes that share one simulated world (one emulator on a manual clock) in
/// lockstep until `until`: at each instant every runtime settles, then time moves to the
/// earliest next wake (at most `max_step` later, so the world itself moves on even when no
/// runtime has anything due), and `advance_world` moves the world's clock by the same amount.
pub async fn simulate(
    runtimes: &mut [Runtime],
    until: Duration,
    max_step: Duration,
    mut advance_world: impl FnMut(Duration),
    mut observe: impl FnMut(Duration, &[Runtime]),
) {
    let mut now = Duration::ZERO;
    loop {
        for runtime in runtimes.iter_mut() {
            runtime.settle().await;
        }
        observe(now, runtimes);
        let next = runtimes
            .iter_mut()
            .filter_map(Runtime::next_wake)
            .min()
            .unwrap_or(now + max_step)
            .clamp(now, now + max_step);
        // Always move at least a millisecond: a limiter slot can be due at this very instant.
        let next = next.max(now + Duration::from_millis(1));
        if next > until {
            break;
        }
        advance_world(next - now);
        now = next;
        for runtime in runtimes.iter_mut() {
            runtime.advance_to(now);
        }
    }
}

#[cfg(test)]
mod hub_tests {
    use super::*;

    #[test]
    fn a_remote_runtime_hands_poller_effects_to_its_host_and_marks_its_hub() {
        let connection = ConnectionInfo {
            hub: Some("http://127.0.0.1:9464".into()),
            ..ConnectionInfo::default()
        };
        let mut runtime = Runtime::remote(
            connection,
            Duration::from_secs(10),
            Utc::now(),
            FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()),
        );
        assert!(runtime.is_remote());
        let effects = runtime.handle(Msg::Key(crossterm_key('r')));
        assert!(
            effects.contains(&Effect::RefreshNow),
            "r goes to the host (and on to the hub): {effects:?}"
        );
        runtime.mark_hub_down(true);
        runtime.mark_hub_down(true);
        assert_eq!(
            runtime.state().data.connection.hub.as_deref(),
            Some(format!("http://127.0.0.1:9464{HUB_DOWN}").as_str())
        );
        runtime.mark_hub_down(false);
        assert_eq!(
            runtime.state().data.connection.hub.as_deref(),
            Some("http://127.0.0.1:9464")
        );
    }

    fn crossterm_key(c: char) -> ratatui::crossterm::event::KeyEvent {
        ratatui::crossterm::event::KeyEvent::new(
            ratatui::crossterm::event::KeyCode::Char(c),
            ratatui::crossterm::event::KeyModifiers::NONE,
        )
    }
}
