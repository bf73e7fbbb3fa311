//! The interactive dashboard: terminal set-up and tear-down, and the loop that feeds keys and
//! the clock to the shared [`Runtime`] and draws its state.
//!
//! A frame is drawn only when something changed: a key, a poll answer, a resize, or the clock
//! (once a second for ages and staleness, four times a second while a spinner is shown).
//! Bursts of messages are coalesced into one frame, and each frame is wrapped in synchronized
//! output so a terminal never shows half of it.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::{Local, Utc};
use ratatui::DefaultTerminal;
use ratatui::crossterm::clipboard::CopyToClipboard;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use tokio::sync::mpsc;

use crate::app::{Effect, Msg};
use crate::config::Settings;
use crate::connect::{connect, live_runtime};
use crate::runtime::Runtime;
use crate::ui::{self, Theme};

/// Capacity of the input channel. Bounded so a flood (a stuck key) applies back-pressure
/// instead of growing memory.
const INPUT_CAPACITY: usize = 256;

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
    let (runtime, emulator) = live_runtime(&settings, connection, *Local::now().offset());

    let mut terminal = init_terminal()?;
    let result = event_loop(&mut terminal, runtime).await;
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

async fn event_loop(terminal: &mut DefaultTerminal, mut runtime: Runtime) -> anyhow::Result<()> {
    let theme = Theme::from_env();
    let stop_input = Arc::new(AtomicBool::new(false));
    let mut input = spawn_input_reader(stop_input.clone());

    let size = terminal.size().context("cannot read the terminal size")?;
    runtime.handle(Msg::Resize {
        width: size.width,
        height: size.height,
    });

    let mut signals = Signals::new()?;
    let mut next_tick = tokio::time::Instant::now();
    let mut dirty = true;
    let result = loop {
        if dirty {
            draw(terminal, &runtime, &theme)?;
            dirty = false;
        }

        let mut batch: Vec<Msg> = Vec::new();
        tokio::select! {
            msg = input.recv() => match msg {
                Some(msg) => batch.push(msg),
                None => break Err(anyhow::anyhow!("the terminal input reader stopped")),
            },
            () = runtime.step() => dirty = true,
            _ = tokio::time::sleep_until(next_tick) => {
                batch.push(Msg::Tick(Utc::now()));
                let period = if runtime.state().loading() { Duration::from_millis(250) } else { Duration::from_secs(1) };
                next_tick = tokio::time::Instant::now() + period;
            }
            () = signals.recv() => break Ok(()),
        }
        // Coalesce the keys already waiting into the same frame.
        while batch.len() < 512 {
            match input.try_recv() {
                Ok(msg) => batch.push(msg),
                Err(_) => break,
            }
        }

        let mut quit = false;
        for msg in batch {
            dirty = true;
            for effect in runtime.handle(msg) {
                match effect {
                    Effect::Copy(text) => copy_to_clipboard(&text),
                    Effect::Quit => quit = true,
                    Effect::Describe(_) | Effect::DescribeOnScreen(_) | Effect::RefreshNow => {}
                }
            }
        }
        if quit {
            break Ok(());
        }
    };
    stop_input.store(true, Ordering::Relaxed);
    runtime.shutdown();
    result
}

/// Draws one frame inside synchronized output (where the terminal supports it), so a frame is
/// never shown half written.
fn draw(terminal: &mut DefaultTerminal, runtime: &Runtime, theme: &Theme) -> anyhow::Result<()> {
    let _ = execute!(std::io::stdout(), BeginSynchronizedUpdate);
    let drawn = terminal
        .draw(|frame| ui::draw(frame, runtime.state(), theme))
        .map(|_| ())
        .context("cannot draw to the terminal");
    let _ = execute!(std::io::stdout(), EndSynchronizedUpdate);
    drawn
}

/// The signals that end the dashboard cleanly, terminal restored: TERM and HUP (a closed
/// terminal or a service manager), and INT and QUIT sent as signals rather than typed (in raw
/// mode Ctrl-C arrives as a key).
struct Signals {
    #[cfg(unix)]
    listeners: Vec<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> anyhow::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listeners = [
                SignalKind::terminate(),
                SignalKind::hangup(),
                SignalKind::interrupt(),
                SignalKind::quit(),
            ]
            .into_iter()
            .map(|kind| signal(kind).context("cannot listen for signals"))
            .collect::<anyhow::Result<Vec<_>>>()?;
            Ok(Signals { listeners })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Resolves when any of the signals arrives.
    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            let waits = self.listeners.iter_mut().map(|s| Box::pin(s.recv()));
            futures_select_all(waits).await;
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
}

#[cfg(unix)]
async fn futures_select_all<F: std::future::Future + Unpin>(futures: impl Iterator<Item = F>) {
    let mut futures: Vec<F> = futures.collect();
    std::future::poll_fn(|cx| {
        for future in &mut futures {
            if std::pin::Pin::new(future).poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await;
}

/// Copies via OSC 52 (crossterm's `CopyToClipboard`), which works over SSH and in tmux (with
/// `set-clipboard on`).
fn copy_to_clipboard(text: &str) {
    let mut out = std::io::stdout();
    let _ = execute!(out, CopyToClipboard::to_clipboard_from(text));
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
