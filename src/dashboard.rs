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
use chrono::Local;
use ratatui::DefaultTerminal;
use ratatui::crossterm::clipboard::CopyToClipboard;
use ratatui::crossterm::event::{self, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use tokio::sync::mpsc;

use crate::app::progress::ViewConfig;
use crate::app::{ConnectionInfo, Effect, Msg};
use crate::config::Settings;
use crate::connect::{connect, live_runtime};
use crate::hub::Command;
use crate::hub::client::{HubClient, HubTarget};
use crate::poller::Event as PollEvent;
use crate::provider::{ErrorKind, ProviderError};
use crate::runtime::Runtime;
use crate::ui::{self, Theme};

/// Capacity of the input channel. Bounded so a flood (a stuck key) applies back-pressure
/// instead of growing memory.
const INPUT_CAPACITY: usize = 256;

/// Runs the dashboard until the operator quits.
/// Runs the dashboard; `since` counts the progress header from that long ago.
pub async fn run(settings: Settings, since: Option<Duration>) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the dashboard needs an interactive terminal; for scripts use `ssowatch list` or `ssowatch describe`"
        );
    }
    // Connect before touching the terminal: a bad profile or no instance is a one-line error
    // on a normal screen.
    let connection = connect(&settings).await?;
    let (runtime, emulator) = live_runtime(&settings, connection, *Local::now().offset(), None);
    let result = run_runtime(&settings, since, runtime, None).await;
    // Keep the emulator alive until the UI is gone.
    drop(emulator);
    result
}

/// The dashboard on a hub (`ssowatch --hub URL`): no cloud credentials, no poller of its own.
/// It opens the hub's stream before touching the terminal (a wrong URL, token or version is
/// one line on a normal screen), starts from the hub's snapshot, and sends what the operator
/// asks for (describes, reasons, the read-all burst, refresh) to the hub.
pub async fn run_hub(
    settings: Settings,
    since: Option<Duration>,
    target: HubTarget,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the dashboard needs an interactive terminal; for scripts use `ssowatch list --hub URL`"
        );
    }
    let client = HubClient::new(target)?;
    let (snapshot, stream) = client.open().await?;
    let refresh = Duration::from_secs_f64(snapshot.refresh_seconds.clamp(1.0, 3600.0));
    let connection = ConnectionInfo {
        provider: snapshot.provider.clone(),
        instance: Some(snapshot.instance.clone()),
        demo: snapshot.demo,
        hub: Some(client.url().to_string()),
    };
    let mut runtime = Runtime::remote(
        connection,
        refresh,
        chrono::Utc::now(),
        *Local::now().offset(),
    );
    runtime.feed(snapshot.events);
    let (updates_tx, updates) = mpsc::channel(HUB_UPDATES);
    let (commands, commands_rx) = mpsc::channel(HUB_COMMANDS);
    let follower = client.clone().follow(stream, updates_tx.clone());
    let sender = tokio::spawn(send_commands(client.clone(), commands_rx, updates_tx));
    let link = HubLink {
        url: client.url().to_string(),
        updates,
        commands,
        down: false,
    };
    let result = run_runtime(&settings, since, runtime, Some(link)).await;
    follower.abort();
    sender.abort();
    result
}

/// Events waiting for the UI; the follower waits when it is full (the hub then sends this
/// client a fresh snapshot if it falls too far behind).
const HUB_UPDATES: usize = 4096;
/// Commands waiting to be posted; beyond this an operator's request is dropped with a note.
const HUB_COMMANDS: usize = 64;

/// The dashboard's end of a hub connection.
struct HubLink {
    url: String,
    updates: mpsc::Receiver<HubMessage>,
    commands: mpsc::Sender<Command>,
    down: bool,
}

type HubMessage = crate::hub::client::Update;

/// Posts the operator's commands in order; a refusal comes back as a note for the status
/// line.
async fn send_commands(
    client: HubClient,
    mut commands: mpsc::Receiver<Command>,
    updates: mpsc::Sender<HubMessage>,
) {
    while let Some(command) = commands.recv().await {
        if let Err(error) = client.send(&command).await {
            tracing::warn!(%error, "a command to the hub failed");
            let note = HubMessage::Note(format!("the hub did not take it: {error}"));
            if updates.send(note).await.is_err() {
                return;
            }
        }
    }
}

/// The next message from the hub, or never on a direct connection.
async fn next_hub_message(hub: &mut Option<HubLink>) -> Option<HubMessage> {
    match hub {
        Some(link) => link.updates.recv().await,
        None => std::future::pending().await,
    }
}

/// Applies one message from the hub. `Err` ends the dashboard with that line.
fn on_hub_message(
    runtime: &mut Runtime,
    link: &mut HubLink,
    message: HubMessage,
) -> anyhow::Result<()> {
    match message {
        HubMessage::Snapshot(snapshot) => {
            runtime.feed(snapshot.events);
            if link.down {
                link.down = false;
                runtime.mark_hub_down(false);
                runtime.flash(format!("hub {} is back", link.url));
            }
        }
        HubMessage::Event(event) => runtime.feed(vec![*event]),
        HubMessage::Down { error, retry_in } => {
            link.down = true;
            runtime.mark_hub_down(true);
            let at = runtime.wall_now();
            let message = format!(
                "{error}; showing the hub's last data, reconnecting in {:.1} s",
                retry_in.as_secs_f64()
            );
            runtime.feed(vec![PollEvent::CallFailed {
                at,
                error: ProviderError::new(ErrorKind::Transient, message),
            }]);
        }
        HubMessage::Note(text) => runtime.flash(text),
        HubMessage::Fatal(line) => anyhow::bail!(line),
    }
    Ok(())
}

async fn run_runtime(
    settings: &Settings,
    since: Option<Duration>,
    mut runtime: Runtime,
    hub: Option<HubLink>,
) -> anyhow::Result<()> {
    let now = runtime.wall_now();
    runtime.handle(Msg::Configure(ViewConfig {
        stuck_after: settings.stuck_after,
        // Checked: a window reaching before the calendar's start means "everything".
        since: since.and_then(|d| now.checked_sub_signed(chrono::Duration::from_std(d).ok()?)),
        columns: settings.columns,
    }));
    let alerts = Alerts {
        bell: settings.bell,
        notify: settings.notify,
    };
    let profile = TerminalProfile::from_env();
    let mut terminal = init_terminal(profile)?;
    let export_dir = settings
        .export_dir
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let config_path = settings
        .config_path
        .clone()
        .or_else(crate::config::default_path);
    let result = event_loop(
        &mut terminal,
        runtime,
        profile,
        alerts,
        export_dir,
        config_path,
        hub,
    )
    .await;
    restore_terminal(profile);
    result
}

/// What the terminal is asked to do. A `TERM=dumb` terminal still gets the dashboard, drawn
/// inline in the normal screen, without mouse tracking, colours or synchronized output: only
/// plain text with bold and reverse video for emphasis (crossterm writes every colour as a
/// 256-colour sequence, which such a terminal cannot be assumed to understand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalProfile {
    pub alternate_screen: bool,
    pub mouse: bool,
    pub colour: bool,
    pub synchronized_output: bool,
}

impl TerminalProfile {
    pub fn for_term(term: Option<&str>, no_color: bool) -> TerminalProfile {
        let dumb = term.is_none_or(|t| t.is_empty() || t == "dumb");
        TerminalProfile {
            alternate_screen: !dumb,
            mouse: !dumb,
            colour: !dumb && !no_color,
            synchronized_output: !dumb,
        }
    }

    fn from_env() -> TerminalProfile {
        let term = std::env::var("TERM").ok();
        TerminalProfile::for_term(term.as_deref(), !Theme::from_env().color)
    }
}

/// Mouse reporting for clicks and the wheel only (X11 mode 1000, SGR encoding 1006). Unlike
/// crossterm's `EnableMouseCapture` it does not ask for every motion (1003), so the terminal's
/// own text selection keeps working with Shift held and moving the pointer costs nothing.
pub struct EnableClickAndWheel;

impl ratatui::crossterm::Command for EnableClickAndWheel {
    fn write_ansi(&self, f: &mut impl std::fmt::Write) -> std::fmt::Result {
        f.write_str("\x1b[?1000h\x1b[?1006h")
    }
}

/// Undoes [`EnableClickAndWheel`] (and any motion mode a crashed program left on).
pub struct DisableMouse;

impl ratatui::crossterm::Command for DisableMouse {
    fn write_ansi(&self, f: &mut impl std::fmt::Write) -> std::fmt::Result {
        f.write_str("\x1b[?1006l\x1b[?1003l\x1b[?1002l\x1b[?1000l")
    }
}

fn init_terminal(profile: TerminalProfile) -> anyhow::Result<DefaultTerminal> {
    // ratatui::try_init installs a panic hook that restores the terminal. Wrap it so that only
    // a panic on this (the UI) thread restores: a panic in a background task is caught by
    // tokio and reported to the UI as a message, and restoring then would leave the UI drawing
    // on a normal screen.
    let terminal = if profile.alternate_screen {
        ratatui::try_init()
    } else {
        let (_, height) =
            ratatui::crossterm::terminal::size().context("cannot read the terminal size")?;
        ratatui::try_init_with_options(ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Inline(height.max(1)),
        })
    }
    .context("cannot set up the terminal")?;
    let ui_thread = std::thread::current().id();
    let restore_and_report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread {
            if profile.mouse {
                let _ = execute!(std::io::stdout(), DisableMouse);
            }
            restore_and_report(info);
        } else {
            tracing::error!("panic in a background thread: {info}");
        }
    }));
    if profile.mouse
        && let Err(error) = execute!(std::io::stdout(), EnableClickAndWheel)
    {
        tracing::warn!(%error, "mouse capture unavailable");
    }
    Ok(terminal)
}

fn restore_terminal(profile: TerminalProfile) {
    if profile.mouse {
        let _ = execute!(std::io::stdout(), DisableMouse);
    }
    ratatui::restore();
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    mut runtime: Runtime,
    profile: TerminalProfile,
    alerts: Alerts,
    export_dir: std::path::PathBuf,
    config_path: Option<std::path::PathBuf>,
    mut hub: Option<HubLink>,
) -> anyhow::Result<()> {
    let mut failures_alerted = runtime.state().data.progress.new_failed_total;
    let mut exports_done = 0u64;
    let theme = Theme {
        color: profile.colour,
    };
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
            let failed = runtime.state().data.progress.new_failed_total;
            if failed > failures_alerted {
                alerts.raise(failed - failures_alerted);
                failures_alerted = failed;
            }
            draw(terminal, &runtime, &theme, profile)?;
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
                batch.push(Msg::Tick(runtime.wall_now()));
                let period = if runtime.state().loading() { Duration::from_millis(250) } else { Duration::from_secs(1) };
                next_tick = tokio::time::Instant::now() + period;
            }
            () = signals.recv() => break Ok(()),
            Some(message) = next_hub_message(&mut hub) => {
                dirty = true;
                if let Some(link) = hub.as_mut() {
                    if let Err(error) = on_hub_message(&mut runtime, link, message) {
                        break Err(error);
                    }
                    // A burst of events (a snapshot's worth) makes one frame.
                    let mut failed = None;
                    for _ in 0..1024 {
                        let Ok(message) = link.updates.try_recv() else { break };
                        if let Err(error) = on_hub_message(&mut runtime, link, message) {
                            failed = Some(error);
                            break;
                        }
                    }
                    if let Some(error) = failed {
                        break Err(error);
                    }
                }
            }
        }
        // Coalesce the keys already waiting into the same frame.
        while batch.len() < 512 {
            match input.try_recv() {
                Ok(msg) => batch.push(msg),
                Err(_) => break,
            }
        }

        let mut quit = false;
        let mut saved = None;
        for msg in batch {
            dirty = true;
            for effect in runtime.handle(msg) {
                match effect {
                    Effect::Copy(text) => copy_to_clipboard(&text),
                    Effect::Quit => quit = true,
                    // `c`: the columns shown are remembered in the config file.
                    Effect::SaveColumns(columns) => {
                        saved = Some(match &config_path {
                            Some(path) => crate::config::save_columns(path, &columns.names())
                                .map(|()| path.display().to_string())
                                .map_err(|e| format!("cannot write {}: {e}", path.display())),
                            None => Err("no config directory on this system".to_string()),
                        });
                    }
                    other => {
                        // Only a hub's client gets these back: they go to the hub.
                        if let (Some(link), Some(command)) = (hub.as_ref(), Command::of(other))
                            && link.commands.try_send(command).is_err()
                        {
                            runtime
                                .flash("too many requests for the hub at once; try again".into());
                        }
                    }
                }
            }
        }
        if let Some(result) = saved {
            runtime.handle(Msg::Saved(result));
        }
        if quit {
            break Ok(());
        }
        // `e`/`E`: the view asked for an export; write it here, where I/O belongs.
        if let Some(request) = runtime.state().view.export
            && request.seq > exports_done
        {
            exports_done = request.seq;
            let dir = export_dir.clone();
            let result = crate::output::export_view(runtime.state(), &dir, request.format)
                .map(|path| match request.format {
                    crate::app::ExportFormat::Handoff => {
                        format!("{} (+ .ids, .plan.json)", path.display())
                    }
                    _ => path.display().to_string(),
                })
                .map_err(|e| format!("{}: {e}", dir.display()));
            runtime.handle(Msg::Exported(result));
        }
    };
    stop_input.store(true, Ordering::Relaxed);
    runtime.shutdown();
    result
}

/// Draws one frame inside synchronized output (where the terminal supports it), so a frame is
/// never shown half written.
fn draw(
    terminal: &mut DefaultTerminal,
    runtime: &Runtime,
    theme: &Theme,
    profile: TerminalProfile,
) -> anyhow::Result<()> {
    if profile.synchronized_output {
        let _ = execute!(std::io::stdout(), BeginSynchronizedUpdate);
    }
    let drawn = terminal
        .draw(|frame| ui::draw(frame, runtime.state(), theme))
        .map(|_| ())
        .context("cannot draw to the terminal");
    if profile.synchronized_output {
        let _ = execute!(std::io::stdout(), EndSynchronizedUpdate);
    }
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

/// What a new FAILED does besides the on-screen marker: the bell (config `bell`, on by
/// default) and a desktop notification (config `notify`, opt-in).
#[derive(Debug, Clone, Copy)]
struct Alerts {
    bell: bool,
    notify: bool,
}

impl Alerts {
    fn raise(self, new_failures: u64) {
        let mut out = std::io::stdout();
        let text = notification_text(new_failures);
        if self.notify {
            let _ = out.write_all(desktop_notification(&text).as_bytes());
        }
        if self.bell {
            let _ = out.write_all(b"\x07");
        }
        let _ = out.flush();
    }
}

fn notification_text(new_failures: u64) -> String {
    match new_failures {
        1 => "ssowatch: 1 request newly FAILED".to_string(),
        n => format!("ssowatch: {n} requests newly FAILED"),
    }
}

/// OSC 9 (iTerm2, WezTerm, Windows Terminal, kitty) and OSC 777 (urxvt, foot, VTE): terminals
/// ignore the one they do not know. The text is ours, never API text.
fn desktop_notification(text: &str) -> String {
    format!("\x1b]9;{text}\x07\x1b]777;notify;ssowatch;{text}\x07")
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

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::Command;

    fn ansi(command: impl Command) -> String {
        let mut out = String::new();
        command.write_ansi(&mut out).expect("writing to a String");
        out
    }

    #[test]
    fn mouse_reports_clicks_and_wheel_but_not_motion() {
        let on = ansi(EnableClickAndWheel);
        assert!(on.contains("?1000h") && on.contains("?1006h"), "{on:?}");
        assert!(!on.contains("?1003h") && !on.contains("?1002h"), "{on:?}");
        assert!(ansi(DisableMouse).contains("?1000l"));
    }

    #[test]
    fn a_desktop_notification_speaks_osc_9_and_777() {
        let text = notification_text(3);
        assert_eq!(text, "ssowatch: 3 requests newly FAILED");
        let osc = desktop_notification(&text);
        assert!(osc.starts_with("\x1b]9;ssowatch: 3 requests"));
        assert!(osc.contains("\x1b]777;notify;ssowatch;ssowatch: 3"));
        assert_eq!(osc.matches('\x07').count(), 2);
    }

    #[test]
    fn a_dumb_terminal_gets_no_alternate_screen_mouse_or_colour() {
        let dumb = TerminalProfile::for_term(Some("dumb"), false);
        assert!(!dumb.alternate_screen && !dumb.mouse && !dumb.colour);
        assert!(!dumb.synchronized_output);
        assert!(!TerminalProfile::for_term(None, false).mouse);
        let xterm = TerminalProfile::for_term(Some("xterm-256color"), false);
        assert!(xterm.alternate_screen && xterm.mouse && xterm.colour);
        assert!(!TerminalProfile::for_term(Some("xterm-256color"), true).colour);
    }
}
