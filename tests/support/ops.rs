//! Shared by the `wait` and `serve` tests: the real binary in a clean environment, an
//! `ssowatch emulate` child on loopback, and bounded waits that stop by themselves.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::headless as child;

// Each suite uses its own part of these.
#[allow(unused_imports)]
pub use child::{KillOnDrop, Run, finish, finish_with_stdin};

pub const AWS_KEY: &str = "AKIAOPSTESTKEY000000";
pub const AWS_SECRET: &str = "OpsTestSecretValueNeverPrinted0000000000";

/// The binary with HOME, XDG dirs and AWS config in `home` (see `headless`), and the
/// test's AWS keys and region.
pub fn command(args: &[&str], home: &Path) -> Command {
    let mut c = child::command(args, home);
    c.env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", AWS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", AWS_SECRET);
    c
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
    let headers: Vec<(&str, String)> = accept
        .map(|a| ("accept", a.to_string()))
        .into_iter()
        .collect();
    http_get_with(url, &headers)
}

/// GET over loopback with these headers; `None` when nothing answers.
pub fn http_get_with(url: &str, headers: &[(&str, String)]) -> Option<(u16, String)> {
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
        for (name, value) in headers {
            request = request.header(*name, value);
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
