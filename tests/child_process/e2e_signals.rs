//! End to end: `kill -INT` and `kill -QUIT` on the dashboard (the real binary, `--demo`, in a
//! real terminal: a shell in tmux) leave the terminal as it was (issue 13 #6): the alternate
//! screen left, mouse reporting off, the line discipline cooked (`icanon`, `echo`), and the
//! shell's prompt back.
//!
//! Each test runs its own tmux server (`-L`, no config file) and kills only that server. The
//! dashboard writes its pid before it starts, so the signal goes to it and nothing else. Every
//! wait polls with a limit; none sleeps for a fixed time to let something happen. Without tmux
//! the tests skip locally and fail in CI (`support::required_tool`).

use crate::support::required_tool;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ssowatch");
const PROMPT: &str = "signals-test$";

/// A private tmux server with one session running an interactive bash; killed when dropped.
struct Terminal {
    socket: String,
    home: tempfile::TempDir,
}

impl Terminal {
    fn start(name: &str) -> Terminal {
        let home = tempfile::tempdir().expect("tempdir");
        let socket = format!("ssowatch-{name}-{}", std::process::id());
        let terminal = Terminal { socket, home };
        let started = Command::new("tmux")
            .args(["-L", &terminal.socket, "-f", "/dev/null"])
            .args(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40"])
            .args(["bash", "--norc", "--noprofile", "-i"])
            .env("HOME", terminal.home.path())
            .env("XDG_STATE_HOME", terminal.home.path().join("state"))
            .env("XDG_CACHE_HOME", terminal.home.path().join("cache"))
            .env("PS1", format!("{PROMPT} "))
            .env("TERM", "xterm-256color")
            // Run inside someone's tmux, still start a server of our own.
            .env_remove("TMUX")
            .status()
            .expect("tmux runs");
        assert!(started.success(), "tmux new-session");
        terminal
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    /// A pane flag from tmux's formats (`alternate_on`, `mouse_any_flag`, ...): "1" or "0".
    fn flag(&self, name: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "t", &format!("#{{{name}}}")])
            .trim()
            .to_string()
    }

    fn type_line(&self, line: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", line]);
        self.tmux(&["send-keys", "-t", "t", "Enter"]);
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// Polls until `check` holds, for at most `limit`; returns what it saw last on failure.
    fn wait_for(&self, what: &str, limit: Duration, check: impl Fn(&Terminal) -> bool) {
        let start = Instant::now();
        while !check(self) {
            assert!(
                start.elapsed() < limit,
                "gave up waiting for {what}; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .filter(|s| s.ends_with('\n'))
}

/// The shell's `exit=N` line, once printed (the typed command holds `exit=$?`, not digits).
fn exit_code(screen: &str) -> Option<u32> {
    screen
        .lines()
        .find_map(|l| l.trim().strip_prefix("exit=")?.parse().ok())
}

/// Starts the dashboard from the shell, sends it `signal` once it is drawn, and checks the
/// terminal it leaves behind and its exit code.
fn signal_restores_the_terminal(signal: &str, signal_number: u32) {
    if Command::new("tmux").arg("-V").output().is_err() {
        required_tool::missing("tmux", "apt-get install tmux");
        return;
    }
    let term = Terminal::start(&signal.to_lowercase());
    term.wait_for("the shell prompt", Duration::from_secs(20), |t| {
        t.screen().contains(PROMPT)
    });
    let (pid_file, stty_file) = (term.path("dashboard.pid"), term.path("stty.txt"));
    // `sh` writes the pid and becomes the dashboard (exec), so the pid is the dashboard's.
    // `stty -a` runs right after it, before the shell's line editor touches the terminal.
    term.type_line(&format!(
        "sh -c 'echo $$ > {pid}; exec {BIN} --demo'; echo \"exit=$?\"; stty -a > {stty}",
        pid = pid_file.display(),
        stty = stty_file.display(),
    ));
    term.wait_for("the dashboard on screen", Duration::from_secs(60), |t| {
        t.flag("alternate_on") == "1"
            && t.flag("mouse_any_flag") == "1"
            && t.screen().contains("Request ID")
    });
    let pid = read(&pid_file).expect("pid file").trim().to_string();
    assert!(pid.parse::<u32>().is_ok(), "pid {pid:?}");
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -{signal} {pid}");

    term.wait_for(
        "stty output after the dashboard",
        Duration::from_secs(30),
        |t| read(&t.path("stty.txt")).is_some() && exit_code(&t.screen()).is_some(),
    );
    term.wait_for("the prompt back", Duration::from_secs(10), |t| {
        t.screen()
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim_end() == PROMPT)
    });
    let screen = term.screen();
    // A clean exit: the handler ran (0, as for `q`), or the conventional 128 + signal.
    let code = exit_code(&screen).expect("exit code");
    assert!(
        code == 0 || code == 128 + signal_number,
        "the dashboard exits 0 or {} on SIG{signal}, not {code}:\n{screen}",
        128 + signal_number
    );
    assert!(!screen.contains("panicked"), "{screen}");
    assert_eq!(term.flag("alternate_on"), "0", "alternate screen left");
    for mouse in [
        "mouse_any_flag",
        "mouse_standard_flag",
        "mouse_button_flag",
        "mouse_all_flag",
        "mouse_sgr_flag",
    ] {
        assert_eq!(term.flag(mouse), "0", "{mouse}: mouse reporting off");
    }
    let stty = read(&stty_file).expect("stty output");
    let words: Vec<&str> = stty.split_whitespace().collect();
    for mode in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(
            words.contains(&mode),
            "{mode} restored (cooked mode) after SIG{signal}: {stty}"
        );
    }
}

#[test]
fn sigint_restores_the_terminal() {
    signal_restores_the_terminal("INT", 2);
}

#[test]
fn sigquit_restores_the_terminal() {
    signal_restores_the_terminal("QUIT", 3);
}
