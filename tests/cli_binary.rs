//! The real binary, as a script or a person would run it: output formats, and one clear line
//! on stderr for every kind of bad input.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ssowatch");

/// Runs the binary with an isolated home, config and cache, and dummy AWS credentials (no real
/// profile is ever read, and the SDK never probes the metadata address).
fn run(args: &[&str], home: &std::path::Path) -> Output {
    Command::new(BIN)
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("AWS_CONFIG_FILE", home.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
        .env("AWS_SECRET_ACCESS_KEY", "SUPERSECRETVALUE123")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .stdin(Stdio::null())
        .output()
        .expect("run ssowatch")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One line on stderr, starting `ssowatch: error:`, no panic, no debug dump, non-zero exit.
fn assert_one_line_error(out: &Output, what: &str) -> String {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{what}: should fail");
    assert_eq!(
        stderr.lines().count(),
        1,
        "{what}: one line expected, got:\n{stderr}"
    );
    assert!(stderr.starts_with("ssowatch: error: "), "{what}: {stderr}");
    for bad in [
        "panicked",
        "Backtrace",
        "RUST_BACKTRACE",
        " { ",
        "})",
        "Some(",
        "SdkError",
    ] {
        assert!(
            !stderr.contains(bad),
            "{what}: debug output leaked ({bad}): {stderr}"
        );
    }
    assert!(
        !stderr.contains("SUPERSECRETVALUE123"),
        "{what}: secret leaked"
    );
    assert!(
        !text(&out.stdout).contains("SUPERSECRETVALUE123"),
        "{what}: secret leaked"
    );
    stderr
}

#[test]
fn list_demo_json_has_every_kind_newest_first() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = run(&["list", "--demo", "--output", "json"], home.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = rows.as_array().expect("array");
    assert!(
        rows.len() >= 900,
        "demo history is 300 per kind: {}",
        rows.len()
    );
    for kind in ["creation", "deletion", "provisioning"] {
        assert!(rows.iter().any(|r| r["kind"] == kind), "no {kind}");
    }
    let created: Vec<&str> = rows.iter().filter_map(|r| r["created"].as_str()).collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "not newest first");
}

#[test]
fn list_csv_and_status_filter() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = run(
        &[
            "list", "--demo", "--kind", "deletion", "--status", "failed", "--output", "csv",
        ],
        home.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("kind,request_id,status,created"));
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|l| l.starts_with("deletion,") && l.contains(",FAILED,")),
        "{stdout}"
    );
}

#[test]
fn describe_an_id_from_list() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = run(
        &[
            "list", "--demo", "--kind", "creation", "--status", "failed", "--output", "json",
        ],
        home.path(),
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let id = rows[0]["request_id"].as_str().expect("an id").to_string();
    let out = run(&["describe", "--demo", &id], home.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for field in [
        "Request ID",
        "Status          FAILED",
        "Failure reason",
        "Target account",
        "Permission set",
        "Source",
    ] {
        assert!(stdout.contains(field), "missing {field}:\n{stdout}");
    }
    assert!(stdout.contains(&id));
    let json = run(
        &[
            "describe", "--demo", "--kind", "creation", "--output", "json", &id,
        ],
        home.path(),
    );
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(value["status"], "FAILED");
    assert!(
        value["failure_reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert!(
        value["permission_set_name"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "name looked up"
    );
}

#[test]
fn every_kind_of_bad_input_is_one_clear_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("bad.toml");
    std::fs::write(&config, "region = \"eu-west-1\"\nrefesh_seconds = 5\n").expect("write");
    let config = config.to_string_lossy().into_owned();
    let missing = home
        .path()
        .join("missing.toml")
        .to_string_lossy()
        .into_owned();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--bogus"], "--bogus"),
        (vec!["list", "--output", "xml"], "xml"),
        (vec!["list", "--refresh", "0"], "--refresh"),
        (vec!["list", "--api-budget", "50"], "--api-budget"),
        (vec!["list", "--config", &config], "refesh_seconds"),
        (vec!["list", "--config", &missing], "missing.toml"),
        (
            vec![
                "list",
                "--endpoint-url",
                "http://127.0.0.1:1",
                "--region",
                "us-east-1",
            ],
            "reach",
        ),
        (
            vec!["describe", "--demo", "0b0e6a2c-1111-4222-8333-444455556666"],
            "not found",
        ),
        (vec!["--demo"], "terminal"),
    ];
    for (args, needle) in cases {
        let out = run(&args, home.path());
        let stderr = assert_one_line_error(&out, &args.join(" "));
        assert!(
            stderr.contains(needle),
            "{args:?}: expected {needle:?} in {stderr}"
        );
    }
    // The config error names the file, the line and the key.
    let out = run(&["list", "--config", &config], home.path());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{config}:2: key `refesh_seconds`")),
        "{stderr}"
    );
}

#[test]
fn emulate_prints_its_url_first_and_serves_it() {
    let mut child = Command::new(BIN)
        .args(["emulate", "--port", "0", "--history", "5", "--rate", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn emulator");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().expect("stdout");
    let guard = Kill(child);
    let mut first = String::new();
    let start = Instant::now();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    assert!(start.elapsed() < Duration::from_secs(30));
    let url = first.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    assert_ne!(port, 0);
    let home = tempfile::tempdir().expect("tempdir");
    let out = run(
        &[
            "list",
            "--endpoint-url",
            url,
            "--region",
            "us-east-1",
            "--output",
            "json",
        ],
        home.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(15));
    drop(guard);
}
