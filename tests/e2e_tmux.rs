//! End to end: the real binary in a real terminal (tmux) against `--demo`. Press `f` and
//! `Enter`, and read the screen: only FAILED rows, and a failure reason in the detail pane.

mod required_tool;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ssowatch");

fn tmux(args: &[&str]) -> Option<String> {
    let out = Command::new("tmux").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Kills the tmux session however the test ends.
struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

fn capture(session: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", session]).unwrap_or_default()
}

/// Polls the screen until `check` holds, for at most `limit`.
fn wait_for(
    session: &str,
    limit: Duration,
    check: impl Fn(&str) -> bool,
) -> Result<String, String> {
    let start = Instant::now();
    loop {
        let screen = capture(session);
        // A capture can catch a frame half-written; only a screen that holds still counts.
        if check(&screen) {
            std::thread::sleep(Duration::from_millis(300));
            if capture(session) == screen {
                return Ok(screen);
            }
        }
        // Checked on every round, so a screen that never holds still cannot loop past it.
        if start.elapsed() > limit {
            return Err(screen);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn is_request_id(word: &str) -> bool {
    let parts: Vec<&str> = word.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The table rows on screen: lines of the table (left of the detail pane) holding a request id.
fn table_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|line| {
            // With the detail pane open, the table is the left box: cut at its right border.
            let left = line.split("││").next().unwrap_or(line);
            let has_id = left
                .split(|c: char| c.is_whitespace() || c == '│')
                .any(is_request_id);
            has_id.then(|| left.to_string())
        })
        .filter(|l| !l.contains("Request ID  "))
        .collect()
}

/// Whether tmux is there (it must be in CI).
fn have_tmux() -> bool {
    if tmux(&["-V"]).is_some() {
        return true;
    }
    required_tool::missing("tmux", "apt-get install tmux");
    false
}

/// Starts `ssowatch --demo` in a detached tmux session of the given size, with its state,
/// cache and config in a temporary directory.
fn start_demo(tag: &str, width: u16, height: u16) -> (Session, tempfile::TempDir) {
    let name = format!("ssowatch-e2e-{tag}-{}", std::process::id());
    let state_dir = tempfile::tempdir().expect("temp dir");
    let dir = state_dir.path().display();
    let command = format!(
        "env XDG_STATE_HOME={dir} XDG_CACHE_HOME={dir} XDG_CONFIG_HOME={dir} {BIN} --demo; sleep 30"
    );
    let (w, h) = (width.to_string(), height.to_string());
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &name,
        "-x",
        &w,
        "-y",
        &h,
        &command,
    ])
    .expect("start tmux session");
    (Session(name), state_dir)
}

/// One failure group as the `F` view shows it: its count and the line after (the reason).
fn groups_on(screen: &str) -> Vec<(usize, String, String)> {
    let lines: Vec<&str> = screen.lines().collect();
    let mut groups = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let text = line.trim_matches(|c: char| c == '│' || c.is_whitespace());
        let text = text.trim_start_matches('▶').trim_start();
        let Some((count, rest)) = text.split_once(' ') else {
            continue;
        };
        let (Ok(count), true) = (count.parse::<usize>(), rest.contains(" · ")) else {
            continue;
        };
        let reason = lines.get(i + 1).map_or("", |l| {
            l.trim_matches(|c: char| c == '│' || c.is_whitespace())
        });
        let hint = lines.get(i + 2).map_or("", |l| {
            l.trim_matches(|c: char| c == '│' || c.is_whitespace())
        });
        if hint.starts_with("hint: ") && !rest.starts_with("reason pending") {
            groups.push((count, reason.to_string(), hint.to_string()));
        }
    }
    groups
}

#[test]
fn demo_all_kinds_failure_groups_and_a_group_s_requests() {
    if !have_tmux() {
        return;
    }
    let (session, _dir) = start_demo("groups", 200, 50);
    wait_for(&session.0, Duration::from_secs(60), |s| {
        s.contains("FAILED") && !s.contains("loading:")
    })
    .unwrap_or_else(|s| panic!("the demo never loaded; screen:\n{s}"));
    for key in ["0", "f"] {
        tmux(&["send-keys", "-t", &session.0, key]).expect("send key");
    }
    let screen = wait_for(&session.0, Duration::from_secs(10), |s| {
        s.contains("All kinds") && s.contains("[status: FAILED]")
    })
    .unwrap_or_else(|s| panic!("0 f did not show every FAILED; screen:\n{s}"));
    let kinds: Vec<&str> = ["creation", "deletion", "provisioning"]
        .into_iter()
        .filter(|k| table_rows(&screen).iter().any(|r| r.contains(k)))
        .collect();
    assert!(
        kinds.len() >= 2,
        "the all-kinds tab shows one kind:\n{screen}"
    );

    tmux(&["send-keys", "-t", &session.0, "F"]).expect("send F");
    // Reasons are read within the budget: wait for three groups with a reason and a hint.
    let screen = wait_for(&session.0, Duration::from_secs(90), |s| {
        groups_on(s).len() >= 3
    })
    .unwrap_or_else(|s| panic!("fewer than 3 failure groups; screen:\n{s}"));
    let groups = groups_on(&screen);
    assert!(groups.iter().all(|(count, _, _)| *count > 0), "{groups:?}");

    // The top group (the largest), then Enter: the table holds only its requests.
    tmux(&["send-keys", "-t", &session.0, "g"]).expect("send g");
    tmux(&["send-keys", "-t", &session.0, "Enter"]).expect("send Enter");
    let screen = wait_for(&session.0, Duration::from_secs(10), |s| {
        s.contains("[group: ")
    })
    .unwrap_or_else(|s| panic!("Enter did not narrow to a group; screen:\n{s}"));
    let title = screen
        .lines()
        .find(|l| l.contains("[group: "))
        .unwrap_or_default();
    let pattern = title
        .split("[group: ")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_default();
    // The fixed start of the pattern, before the first placeholder or cut.
    let prefix: String = pattern
        .chars()
        .take_while(|&c| c != '<' && c != '…' && c != '\'')
        .collect();
    let prefix: String = prefix.chars().take(30).collect();
    assert!(
        prefix.len() >= 10,
        "short group pattern {pattern:?}:\n{screen}"
    );
    let rows = table_rows(&screen);
    assert!(!rows.is_empty(), "no rows for the group:\n{screen}");
    for row in &rows {
        assert!(
            row.contains("FAILED") && row.contains(prefix.trim()),
            "a row outside the group {prefix:?}: {row}\n{screen}"
        );
    }
}

#[test]
fn demo_failed_only_and_detail_pane() {
    if !have_tmux() {
        return;
    }
    let (session, _dir) = start_demo("failed", 160, 45);

    // The demo loads: rows of every status appear.
    let screen = wait_for(&session.0, Duration::from_secs(60), |s| {
        s.contains("SUCCEEDED") && s.contains("FAILED") && !s.contains("loading:")
    })
    .unwrap_or_else(|s| panic!("the demo never showed loaded rows; screen:\n{s}"));
    assert!(table_rows(&screen).len() > 5, "few rows:\n{screen}");

    tmux(&["send-keys", "-t", &session.0, "f"]).expect("send f");
    let screen = wait_for(&session.0, Duration::from_secs(10), |s| {
        s.contains("[status: FAILED]")
    })
    .unwrap_or_else(|s| panic!("f did not filter; screen:\n{s}"));
    let rows = table_rows(&screen);
    assert!(!rows.is_empty(), "no FAILED rows shown:\n{screen}");
    for row in &rows {
        assert!(
            row.contains("FAILED") && !row.contains("SUCCEEDED") && !row.contains("IN_PROGRESS"),
            "non-FAILED row under the FAILED filter: {row}\n{screen}"
        );
    }

    tmux(&["send-keys", "-t", &session.0, "Enter"]).expect("send Enter");
    let screen = wait_for(&session.0, Duration::from_secs(30), |s| {
        s.contains("Detail (Esc to close")
            && s.contains("Failure reason")
            && s.contains("From Describe")
    })
    .unwrap_or_else(|s| panic!("the detail pane never showed a failure reason; screen:\n{s}"));
    let reason_line = screen
        .lines()
        .skip_while(|l| !l.contains("Failure reason"))
        .nth(1)
        .unwrap_or_default();
    let pane_text = reason_line.split("││").nth(1).unwrap_or(reason_line);
    assert!(
        pane_text
            .trim_matches(|c: char| c == '│' || c.is_whitespace())
            .len()
            > 10,
        "empty failure reason:\n{screen}"
    );
    for row in table_rows(&screen) {
        assert!(row.contains("FAILED"), "non-FAILED row: {row}\n{screen}");
    }

    tmux(&["send-keys", "-t", &session.0, "q"]).expect("send q");
    wait_for(&session.0, Duration::from_secs(10), |s| {
        !s.contains("Tab kind")
    })
    .unwrap_or_else(|s| panic!("q did not quit; screen:\n{s}"));
}
