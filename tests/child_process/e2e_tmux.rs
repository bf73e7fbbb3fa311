//! End to end: the real binary in a real terminal (tmux) against `--demo`. Press `f` and
//! `Enter`, and read the screen: only FAILED rows, and a failure reason in the detail pane.

use crate::support::required_tool;
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
        s.contains("Detail (Esc: close")
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

/// A child process killed when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const TEST_AWS_ENV: [(&str, &str); 3] = [
    ("AWS_REGION", "us-east-1"),
    ("AWS_ACCESS_KEY_ID", "AKIAE2ETESTKEY000000"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "E2eTestSecretValueNeverPrinted0000000000",
    ),
];

/// Starts `ssowatch args...` with its state in `dir`; returns it and its first stdout line
/// (the URL that emulate and serve print first).
fn start_child(args: &[&str], dir: &std::path::Path) -> (Child, String) {
    use std::io::BufRead;
    let mut command = Command::new(BIN);
    command
        .args(args)
        .envs(TEST_AWS_ENV)
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir)
        .env("XDG_CACHE_HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = Child(command.spawn().expect("spawn ssowatch"));
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let mut rest = Vec::new();
        let _ = std::io::Read::read_to_end(&mut reader, &mut rest);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the child prints its URL");
    (child, line.trim().to_string())
}

/// A tmux session running `command` (a shell line) at this size.
fn start_session(name: &str, width: u16, height: u16, command: &str) -> Session {
    let (w, h) = (width.to_string(), height.to_string());
    tmux(&["new-session", "-d", "-s", name, "-x", &w, "-y", &h, command])
        .expect("start tmux session");
    Session(name.to_string())
}

/// Polls the screen until `check` holds, for at most `limit`, taking each capture as it is.
fn wait_for_any(
    session: &str,
    limit: Duration,
    check: impl Fn(&str) -> bool,
) -> Result<String, String> {
    let start = Instant::now();
    loop {
        let screen = capture(session);
        if check(&screen) {
            return Ok(screen);
        }
        if start.elapsed() > limit {
            return Err(screen);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The table's rows on screen at any width (ids may be cut short): its lines with a status.
fn status_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter(|l| l.starts_with('│'))
        .filter(|l| {
            ["SUCCEEDED", "FAILED", "IN_PROGRESS"]
                .iter()
                .any(|s| l.contains(s))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn a_hub_dashboard_and_a_direct_one_show_the_same_rows() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path();
    // A still world (no new requests), so both screens can be compared row for row.
    let (_emulator, emulator_url) = start_child(
        &[
            "emulate",
            "--port",
            "0",
            "--seed",
            "5",
            "--history",
            "150",
            "--rate",
            "0",
            "--failure-ratio",
            "0.2",
        ],
        path,
    );
    let (_serve, hub_url) = start_child(
        &[
            "--endpoint-url",
            &emulator_url,
            "--api-budget",
            "2",
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
        path,
    );
    let state = |tag: &str| {
        let d = path.join(tag);
        std::fs::create_dir_all(&d).expect("state dir");
        d.display().to_string()
    };
    for (width, height) in [(80u16, 24u16), (200, 50)] {
        let tag = format!("{width}x{height}-{}", std::process::id());
        let hub_dir = state(&format!("hub-{tag}"));
        let direct_dir = state(&format!("direct-{tag}"));
        // The hub's client has no cloud credentials at all.
        let hub = start_session(
            &format!("ssowatch-hub-{tag}"),
            width,
            height,
            &format!(
                "env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME={hub_dir} XDG_STATE_HOME={hub_dir} XDG_CACHE_HOME={hub_dir} XDG_CONFIG_HOME={hub_dir} {BIN} --hub {hub_url}; sleep 30"
            ),
        );
        let (region, key, secret) = (TEST_AWS_ENV[0].1, TEST_AWS_ENV[1].1, TEST_AWS_ENV[2].1);
        let direct = start_session(
            &format!("ssowatch-direct-{tag}"),
            width,
            height,
            &format!(
                "env AWS_REGION={region} AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret} HOME={direct_dir} XDG_STATE_HOME={direct_dir} XDG_CACHE_HOME={direct_dir} XDG_CONFIG_HOME={direct_dir} {BIN} --endpoint-url {emulator_url} --api-budget 2; sleep 30"
            ),
        );
        // Both screens loaded and showing the same rows. Each capture is compared as it is:
        // two half-written frames would not agree, so agreement needs no holding still.
        let same_rows = |what: &str, shown: &str| {
            let start = Instant::now();
            loop {
                let (a, b) = (capture(&hub.0), capture(&direct.0));
                let loaded = |s: &str| {
                    !s.contains("loading") && s.contains(shown) && !status_rows(s).is_empty()
                };
                let rows = status_rows(&a);
                if loaded(&a) && loaded(&b) && rows == status_rows(&b) {
                    assert!(
                        a.contains(&format!("hub {hub_url}")) || width < 100,
                        "the header names the hub:\n{a}"
                    );
                    return rows;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(180),
                    "{what}: the rows differ at {width}x{height} (loaded {} {}, rows {} {}): {:?}\nhub:\n{a}\ndirect:\n{b}",
                    loaded(&a),
                    loaded(&b),
                    rows.len(),
                    status_rows(&b).len(),
                    rows.iter()
                        .zip(status_rows(&b))
                        .filter(|(x, y)| *x != y)
                        .collect::<Vec<_>>()
                );
                std::thread::sleep(Duration::from_millis(300));
            }
        };
        let rows = same_rows("all rows", "");
        assert!(rows.len() >= 5, "few rows:\n{rows:?}");
        for session in [&hub, &direct] {
            tmux(&["send-keys", "-t", &session.0, "f"]).expect("send f");
        }
        let failed = same_rows("FAILED only", "[status: FAILED]");
        assert!(failed.iter().all(|r| r.contains("FAILED")), "{failed:?}");
        // The detail pane's describe goes to the hub, which answers every client.
        tmux(&["send-keys", "-t", &hub.0, "Enter"]).expect("send Enter");
        // The header moves with every call the hub makes: a screen is read as it comes.
        wait_for_any(&hub.0, Duration::from_secs(60), |s| {
            let after = s
                .lines()
                .skip_while(|l| !l.contains("│Failure reason"))
                .nth(1);
            after.is_some_and(|l| {
                l.trim_matches(|c: char| c == '│' || c.is_whitespace())
                    .len()
                    > 10
            })
        })
        .unwrap_or_else(|s| panic!("no failure reason through the hub:\n{s}"));
    }
}
