//! Shared by the `wait` and `serve` tests: the real binary in a clean environment, an
//! `ssowatch emulate` child on loopback, and bounded waits that stop by themselves.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_ssowatch");
/// A child that runs longer than this is killed and the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(180);
pub const AWS_KEY: &str = "AKIAOPSTESTKEY000000";
pub const AWS_SECRET: &str = "OpsTestSecretValueNeverPrinted0000000000";

/// Kills and reaps a child when dropped, whatever happened to the test.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// The binary with HOME, XDG dirs and AWS config in `home`, and the test's AWS keys.
pub fn command(args: &[&str], home: &Path) -> Command {
    let aws_config = home.join("aws-config");
    let aws_credentials = home.join("aws-credentials");
    std::fs::write(&aws_config, "").expect("write empty aws config");
    std::fs::write(&aws_credentials, "").expect("write empty aws credentials");
    let mut c = Command::new(BIN);
    c.args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("XDG_CACHE_HOME", home.join("xdg-cache"))
        .env("XDG_STATE_HOME", home.join("xdg-state"))
        .env("XDG_DATA_HOME", home.join("xdg-data"))
        .env("AWS_CONFIG_FILE", &aws_config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &aws_credentials)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", AWS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DEFAULT_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs to completion within [`TIMEOUT`], reading both pipes concurrently.
pub fn finish(c: Command) -> Run {
    finish_with_stdin(c, None)
}

/// Like [`finish`], writing `input` to the child's stdin first.
pub fn finish_with_stdin(mut c: Command, input: Option<&str>) -> Run {
    if input.is_some() {
        c.stdin(Stdio::piped());
    }
    let mut child = KillOnDrop(c.spawn().expect("spawn ssowatch"));
    if let (Some(input), Some(mut stdin)) = (input, child.0.stdin.take()) {
        use std::io::Write;
        stdin.write_all(input.as_bytes()).expect("write stdin");
    }
    let mut out_pipe = child.0.stdout.take().expect("stdout");
    let mut err_pipe = child.0.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let status = wait_with_timeout(&mut child.0, TIMEOUT)
        .unwrap_or_else(|| panic!("ssowatch did not finish within {TIMEOUT:?}"));
    let stdout = String::from_utf8_lossy(&out_reader.join().expect("stdout reader")).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned();
    Run {
        status,
        stdout,
        stderr,
    }
}

/// The exit code is `code`; else the assertion shows both outputs.
pub fn assert_exit(r: &Run, code: i32) {
    assert_eq!(
        r.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
}

pub fn run(args: &[&str], home: &Path) -> Run {
    finish(command(args, home))
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let polls = limit.as_millis() / 50;
    for _ in 0..polls {
        if let Some(status) = child.try_wait().expect("poll child") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Reads the first stdout line of a child that prints its URL first (emulate, serve).
pub fn first_line(stdout: ChildStdout) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // Keep draining so the child never blocks on a full pipe.
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the child prints its URL within 60 s")
        .trim_end()
        .to_string()
}

/// An `ssowatch emulate` child on loopback.
pub struct Emulator {
    pub child: KillOnDrop,
    pub url: String,
}

pub fn emulator(args: &[&str], home: &Path) -> Emulator {
    let mut all = vec!["emulate"];
    all.extend_from_slice(args);
    let mut c = command(&all, home);
    c.stderr(Stdio::null());
    let mut child = KillOnDrop(c.spawn().expect("spawn emulator"));
    let url = first_line(child.0.stdout.take().expect("stdout"));
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "emulator URL: {url:?}"
    );
    Emulator { child, url }
}

/// An emulator on a free loopback port, with `options` as `--name value` pairs.
pub fn emulator_with(options: &[(&str, &str)], home: &Path) -> Emulator {
    let mut args = vec!["--port", "0"];
    for (name, value) in options {
        args.extend_from_slice(&[name, value]);
    }
    emulator(&args, home)
}

/// GET over loopback; `None` when nothing answers.
pub fn http_get(url: &str, accept: Option<&str>) -> Option<(u16, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .ok()?;
        let mut request = client.get(url);
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    })
}

/// The emulator's own count of calls, by operation.
pub fn emulator_stats(url: &str) -> serde_json::Value {
    let (status, body) =
        http_get(&format!("{url}/_emulator/stats"), None).expect("the emulator answers");
    assert_eq!(status, 200);
    serde_json::from_str(&body).expect("stats are JSON")
}

/// Polls `check` every 250 ms, at most `tries` times, until it returns `Some`.
pub fn eventually<T>(tries: u32, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..tries {
        if let Some(value) = check() {
            return value;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("gave up waiting for {what}");
}

/// `ssowatch list --output json` against an endpoint, parsed.
pub fn list_json(url: &str, extra: &[&str], home: &Path) -> Vec<serde_json::Value> {
    try_list_json(url, extra, home).expect("list succeeds")
}

/// Like [`list_json`], `None` when list fails (e.g. throttled by an emulator's limit).
pub fn try_list_json(url: &str, extra: &[&str], home: &Path) -> Option<Vec<serde_json::Value>> {
    let mut args = vec![
        "--endpoint-url",
        url,
        "--api-budget",
        "20",
        "list",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    let r = run(&args, home);
    if !r.status.success() {
        eprintln!("list failed: {}", r.stderr);
        return None;
    }
    Some(serde_json::from_str(&r.stdout).expect("list prints a JSON array"))
}
