//! The interactive dashboard: terminal set-up and tear-down, the event loop that feeds
//! messages to [`crate::app::update`], and the redraw policy.
//!
//! Redraws happen only when a message arrived (a key, data, a resize) or the clock ticked: once
//! a second for ages and staleness, four times a second while a spinner is shown. Bursts of
//! messages are coalesced into one frame.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use chrono::{Local, Utc};
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use tokio::sync::mpsc;

use crate::app::{self, AppState, ConnectionInfo, DescribeUrgency, Effect, Msg, PollEvent};
use crate::config::Settings;
use crate::connect::{Connection, connect};
use crate::poller::{self, PollerCommand, PollerConfig, PollerHandle};
use crate::ui::{self, Theme};

/// Capacity of the input and poll-event channels. Bounded so a flood (a stuck key, a huge
/// poll) applies back-pressure instead of growing memory.
const INPUT_CAPACITY: usize = 256;
const EVENT_CAPACITY: usize = 1024;

/// Runs the dashboard until the operator quits.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the dashboard needs an interactive terminal; for scripts use `ssowatch list` or `ssowatch describe`"
        );
    }
    // Connect before touching the terminal: a bad profile or no instance is a one-line error
    // on a normal screen.
    let connection = connect(&settings).await?;
    let Connection {
        provider,
        instance,
        info,
        emulator,
    } = connection;

    let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
    let mut poller_config = PollerConfig::new(settings.refresh, settings.api_budget_rps);
    if !settings.demo {
        poller_config.cache_path =
            poller::cache::default_path(&info.name, info.endpoint.as_deref(), &instance.id);
    }
    let poller = poller::spawn(provider, instance.id.clone(), poller_config, event_tx);

    let tz = *Local::now().offset();
    let state = AppState::new(
        ConnectionInfo {
            provider: info,
            instance: Some(instance),
            demo: settings.demo,
        },
        settings.refresh,
        Utc::now(),
        tz,
    );

    let mut terminal = init_terminal()?;
    let result = event_loop(&mut terminal, state, poller, event_rx).await;
    restore_terminal();
    // Keep the emulator alive until the UI is gone.
    drop(emulator);
    result
}

fn init_terminal() -> anyhow::Result<DefaultTerminal> {
    // ratatui::try_init installs a panic hook that restores the terminal. Wrap it so that only
    // a panic on this (the UI) thread restores: a panic in a background task is caught by
    // tokio and reported to the UI as a message, and restoring then would leave the UI drawing
    // on a normal screen.
    let terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let ui_thread = std::thread::current().id();
    let restore_and_report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread {
            let _ = execute!(std::io::stdout(), DisableMouseCapture);
            restore_and_report(info);
        } else {
            tracing::error!("panic in a background thread: {info}");
        }
    }));
    if let Err(error) = execute!(std::io::stdout(), EnableMouseCapture) {
        tracing::warn!(%error, "mouse capture unavailable");
    }
    Ok(terminal)
}

fn restore_terminal() {
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    mut state: AppState,
    poller: PollerHandle,
    mut events: mpsc::Receiver<PollEvent>,
) -> anyhow::Result<()> {
    let theme = Theme::from_env();
    let stop_input = Arc::new(AtomicBool::new(false));
    let mut input = spawn_input_reader(stop_input.clone());
    let PollerHandle {
        commands,
        task: mut poller_task,
    } = poller;
    let mut poller_alive = true;

    let size = terminal.size().context("cannot read the terminal size")?;
    app::update(
        &mut state,
        Msg::Resize {
            width: size.width,
            height: size.height,
        },
    );

    #[cfg(unix)]
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    #[cfg(unix)]
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("cannot listen for SIGHUP")?;

    let mut last_window: Option<(usize, usize, usize)> = None;
    let mut next_tick = tokio::time::Instant::now();
    let mut dirty = true;
    let result = loop {
        if dirty {
            terminal
                .draw(|frame| ui::draw(frame, &state, &theme))
                .context("cannot draw to the terminal")?;
            dirty = false;
        }
        if state.should_quit {
            break Ok(());
        }

        let mut batch: Vec<Msg> = Vec::new();
        tokio::select! {
            msg = input.recv() => match msg {
                Some(msg) => batch.push(msg),
                None => break Err(anyhow::anyhow!("the terminal input reader stopped")),
            },
            Some(event) = events.recv() => batch.push(Msg::Poll(event)),
            _ = tokio::time::sleep_until(next_tick) => {
                batch.push(Msg::Tick(Utc::now()));
                let period = if state.loading() { Duration::from_millis(250) } else { Duration::from_secs(1) };
                next_tick = tokio::time::Instant::now() + period;
            }
            joined = &mut poller_task, if poller_alive => {
                poller_alive = false;
                let reason = match joined {
                    Ok(()) => "the poller ended".to_string(),
                    Err(error) if error.is_panic() => "the poller crashed (see the log file)".to_string(),
                    Err(error) => format!("the poller stopped: {error}"),
                };
                batch.push(Msg::Poll(PollEvent::PollerStopped { reason }));
            }
            _ = recv_signal(&mut sigterm) => break Ok(()),
            _ = recv_signal(&mut sighup) => break Ok(()),
        }
        // Coalesce whatever else is already waiting into the same frame.
        while batch.len() < 512 {
            match input.try_recv() {
                Ok(msg) => batch.push(msg),
                Err(_) => match events.try_recv() {
                    Ok(event) => batch.push(Msg::Poll(event)),
                    Err(_) => break,
                },
            }
        }

        for msg in batch {
            dirty = true;
            for effect in app::update(&mut state, msg) {
                perform(effect, &commands);
            }
        }
        request_window_enrichment(&state, &commands, &mut last_window);
    };
    stop_input.store(true, Ordering::Relaxed);
    poller_task.abort();
    result
}

#[cfg(unix)]
async fn recv_signal(signal: &mut tokio::signal::unix::Signal) {
    signal.recv().await;
}

fn perform(effect: Effect, commands: &mpsc::Sender<PollerCommand>) {
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
        Effect::Copy(text) => {
            copy_osc52(&text);
            return;
        }
        Effect::Quit => return,
    };
    if commands.try_send(command).is_err() {
        tracing::warn!("poller busy; command dropped");
    }
}

/// Finished rows on screen get described in the background (lowest priority), so the detail
/// columns fill in for what the operator is looking at without spending budget on the rest.
fn request_window_enrichment(
    state: &AppState,
    commands: &mpsc::Sender<PollerCommand>,
    last_window: &mut Option<(usize, usize, usize)>,
) {
    let table = state.active_table();
    let window = (state.active.index(), table.offset, table.view_len());
    if *last_window == Some(window) {
        return;
    }
    *last_window = Some(window);
    for request_id in table.undescribed_in_window(state.table_rows()) {
        let _ = commands.try_send(PollerCommand::Describe {
            kind: state.active,
            request_id,
            urgency: DescribeUrgency::Background,
        });
    }
}

/// Copies via OSC 52, which works over SSH and in tmux (with `set-clipboard on`).
fn copy_osc52(text: &str) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}

/// Reads terminal events on a plain thread (crossterm's reader blocks) and forwards them as
/// messages. It wakes four times a second to notice it should stop.
fn spawn_input_reader(stop: Arc<AtomicBool>) -> mpsc::Receiver<Msg> {
    let (tx, rx) = mpsc::channel(INPUT_CAPACITY);
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(250)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::error!(%error, "terminal input failed");
                    break;
                }
            }
            let msg = match event::read() {
                Ok(Event::Key(key)) => Msg::Key(key),
                Ok(Event::Mouse(mouse)) => Msg::Mouse(mouse),
                Ok(Event::Resize(width, height)) => Msg::Resize { width, height },
                Ok(_) => continue,
                Err(error) => {
                    tracing::error!(%error, "terminal input failed");
                    break;
                }
            };
            if tx.blocking_send(msg).is_err() {
                break;
            }
        }
    });
    rx
}
