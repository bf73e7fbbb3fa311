//! `ssowatch wait`, the real binary against `ssowatch emulate` with a live rollout: exit 0 when
//! every request succeeded, 1 with every failure's reason, 2 at the timeout with what is in
//! flight, 3 on bad credentials or an unreadable request set. The emulator's `--time-scale`
//! makes minutes of rollout pass in seconds; every wait is bounded by `--timeout` and by the
//! child timeout of the support module.

use crate::support::ops as ops_support;

use std::collections::HashSet;
use std::path::Path;

use ops_support::*;

/// An emulator whose rollout runs 60 times faster than real time: assignments finish within
/// seconds, provisioning within 15 s.
fn rollout(failure_ratio: &str, seed: &str, home: &Path) -> Emulator {
    emulator_with(
        &[
            ("--history", "5"),
            ("--rate", "0.1"),
            ("--failure-ratio", failure_ratio),
            ("--time-scale", "60"),
            ("--seed", seed),
        ],
        home,
    )
}

/// Request ids (with their kinds) in flight on the emulator right now: at least `min`.
fn in_flight(url: &str, min: usize, home: &Path) -> Vec<(String, String)> {
    eventually(240, "requests in flight on the emulator", || {
        let rows = try_list_json(url, &["--status", "in-progress"], home)?;
        (rows.len() >= min).then(|| {
            rows.iter()
                .map(|r| {
                    (
                        r["kind"].as_str().expect("kind").to_string(),
                        r["request_id"].as_str().expect("id").to_string(),
                    )
                })
                .collect()
        })
    })
}

/// The JSON `aws sso-admin create-account-assignment` (and its siblings) print, one document
/// per request, as a pipeline would collect them.
fn aws_cli_json(requests: &[(String, String)]) -> String {
    requests
        .iter()
        .map(|(kind, id)| {
            let key = match kind.as_str() {
                "creation" => "AccountAssignmentCreationStatus",
                "deletion" => "AccountAssignmentDeletionStatus",
                _ => "PermissionSetProvisioningStatus",
            };
            format!("{{\n    \"{key}\": {{\n        \"Status\": \"IN_PROGRESS\",\n        \"RequestId\": \"{id}\"\n    }}\n}}\n")
        })
        .collect()
}

fn describes(stats: &serde_json::Value) -> u64 {
    stats["by_operation"]
        .as_object()
        .expect("by_operation")
        .iter()
        .filter(|(op, _)| op.starts_with("Describe") && op.ends_with("Status"))
        .map(|(_, n)| n.as_u64().expect("count"))
        .sum()
}

/// `wait --request-ids-from FILE` with a 10-minute timeout.
fn wait_on_file(url: &str, file: &Path, extra: &[&str], home: &Path) -> Run {
    let file = file.to_str().expect("utf-8 path");
    let mut rest = vec!["--request-ids-from", file, "--timeout", "10m"];
    rest.extend_from_slice(extra);
    run(&wait_args(url, &rest), home)
}

fn wait_args<'a>(url: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--endpoint-url",
        url,
        "--api-budget",
        "20",
        "--refresh",
        "1",
        "wait",
    ];
    args.extend_from_slice(rest);
    args
}

#[test]
fn all_succeeded_exits_0_and_describes_each_request_at_most_once() {
    let home = tempfile::tempdir().expect("tempdir");
    let emu = rollout("0", "11", home.path());
    let requests = in_flight(&emu.url, 5, home.path());
    let file = home.path().join("rollout.json");
    std::fs::write(&file, aws_cli_json(&requests)).expect("write ids");
    let before = describes(&emulator_stats(&emu.url));

    let r = wait_on_file(&emu.url, &file, &[], home.path());
    assert_exit(&r, 0);
    let n = requests.len();
    assert!(
        r.stdout.contains(&format!(
            "{n} requests: {n} succeeded, 0 failed, 0 in flight"
        )),
        "{}",
        r.stdout
    );
    // Not a line per request per round: stderr (not a terminal) has one line per change.
    for (_, id) in &requests {
        assert!(
            r.stderr.contains(&format!("{id} SUCCEEDED")),
            "{id} in {}",
            r.stderr
        );
    }
    let spent = describes(&emulator_stats(&emu.url)) - before;
    assert!(
        spent <= n as u64,
        "{spent} describes for {n} requests whose kinds were given: each at most once"
    );
}

#[test]
fn failures_exit_1_and_print_every_reason_in_text_and_json() {
    let home = tempfile::tempdir().expect("tempdir");
    let emu = rollout("1", "12", home.path());
    let requests = in_flight(&emu.url, 4, home.path());
    // One id per line this time, and kinds unknown: wait finds them.
    let file = home.path().join("ids.txt");
    let lines: Vec<&str> = requests.iter().map(|(_, id)| id.as_str()).collect();
    std::fs::write(&file, format!("# rollout\n{}\n", lines.join("\n"))).expect("write ids");

    let r = wait_on_file(&emu.url, &file, &[], home.path());
    assert_exit(&r, 1);
    let text_lines: Vec<&str> = r.stdout.lines().collect();
    for (kind, id) in &requests {
        let at = text_lines
            .iter()
            .position(|l| l.starts_with(&format!("FAILED {kind} {id}")))
            .unwrap_or_else(|| panic!("{kind} {id} is reported as failed:\n{}", r.stdout));
        let reason = text_lines[at + 1]
            .strip_prefix("  reason: ")
            .unwrap_or_else(|| panic!("a reason line follows {id}"));
        assert!(reason.len() > 20, "the full reason: {reason:?}");
        assert!(text_lines[at].contains("account "), "{}", text_lines[at]);
    }

    let r = wait_on_file(&emu.url, &file, &["--output", "json"], home.path());
    assert_exit(&r, 1);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON report");
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["failed"], requests.len());
    let failures = report["failures"].as_array().expect("failures");
    let ids: HashSet<&str> = failures
        .iter()
        .map(|f| f["request_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, lines.iter().copied().collect::<HashSet<_>>());
    for f in failures {
        let reason = f["failure_reason"].as_str().expect("a reason");
        assert!(!reason.is_empty());
        assert!(
            f["kind"].is_string() && f["target_account"].is_string(),
            "{f}"
        );
    }
}

#[test]
fn the_timeout_exits_2_and_lists_what_is_in_flight() {
    let home = tempfile::tempdir().expect("tempdir");
    // The demo's rollout never ends, and runs in real time: requests take 12 s at least, and
    // provisioning a minute at least, so some are in flight whenever the timeout passes.
    let r = run(
        &[
            "--demo",
            "--api-budget",
            "10",
            "wait",
            "--since",
            "1h",
            "--timeout",
            "15s",
        ],
        home.path(),
    );
    assert_exit(&r, 2);
    let header = r
        .stdout
        .lines()
        .find(|l| l.starts_with("timed out after 15s: "))
        .unwrap_or_else(|| panic!("a timeout line:\n{}", r.stdout));
    let in_flight: usize = header
        .trim_start_matches("timed out after 15s: ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(in_flight > 0, "{header}");
    let listed = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("IN_PROGRESS "))
        .count();
    assert_eq!(listed, in_flight, "{}", r.stdout);
}

#[test]
fn bad_credentials_and_bad_request_sets_exit_3_with_one_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let emu = emulator_with(&[("--history", "5"), ("--rate", "0")], home.path());
    let id = "1f2e3d4c-0000-4000-8000-000000000001";
    let mut c = command(&wait_args(&emu.url, &["--request-id", id]), home.path());
    c.env("AWS_ACCESS_KEY_ID", "ASIAEXPIREDOPSTEST00");
    let r = finish(c);
    assert_exit(&r, 3);
    assert!(r.stderr.starts_with("ssowatch: error: "), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("expired"),
        "says what is wrong: {}",
        r.stderr
    );
    assert!(!r.stderr.contains(AWS_SECRET) && !r.stdout.contains(AWS_SECRET));

    let missing = home.path().join("no-such-file");
    let r = run(
        &wait_args(
            &emu.url,
            &["--request-ids-from", missing.to_str().expect("utf-8")],
        ),
        home.path(),
    );
    assert_exit(&r, 3);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);

    let garbage = home.path().join("garbage.txt");
    std::fs::write(&garbage, format!("{id}\nrm -rf /\n")).expect("write");
    let r = run(
        &wait_args(
            &emu.url,
            &["--request-ids-from", garbage.to_str().expect("utf-8")],
        ),
        home.path(),
    );
    assert_exit(&r, 3);
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
}

#[test]
fn an_unknown_id_is_a_failure_not_a_pass() {
    let home = tempfile::tempdir().expect("tempdir");
    let emu = emulator_with(&[("--history", "5"), ("--rate", "0")], home.path());
    let r = run(
        &wait_args(
            &emu.url,
            &[
                "--request-id",
                "1f2e3d4c-0000-4000-8000-00000000dead",
                "--timeout",
                "5m",
            ],
        ),
        home.path(),
    );
    assert_exit(&r, 1);
    assert!(r.stdout.contains("not found"), "{}", r.stdout);
}

#[test]
fn huawei_ids_on_stdin_are_waited_for() {
    let home = tempfile::tempdir().expect("tempdir");
    let emu = rollout("1", "13", home.path());
    let huawei = |mut c: std::process::Command| {
        c.env("HUAWEICLOUD_SDK_AK", "SSOWATCHEMULATORAK01").env(
            "HUAWEICLOUD_SDK_SK",
            "ssowatchEmulatorSecretKey0123456789abcdef",
        );
        c
    };
    let ids: Vec<String> = eventually(240, "Huawei requests in flight", || {
        let r = finish(huawei(command(
            &[
                "--provider",
                "huawei",
                "--endpoint-url",
                &emu.url,
                "list",
                "--status",
                "in-progress",
                "-o",
                "json",
            ],
            home.path(),
        )));
        assert!(r.status.success(), "{}", r.stderr);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).expect("JSON");
        (rows.len() >= 3).then(|| {
            rows.iter()
                .map(|r| r["request_id"].as_str().expect("id").to_string())
                .collect()
        })
    });
    let mut args = vec!["--provider", "huawei"];
    args.extend(wait_args(
        &emu.url,
        &["--request-ids-from", "-", "--timeout", "10m"],
    ));
    let r = finish_with_stdin(huawei(command(&args, home.path())), Some(&ids.join("\n")));
    assert_exit(&r, 1);
    for id in &ids {
        assert!(r.stdout.contains(id), "{id} reported:\n{}", r.stdout);
    }
    assert!(
        r.stdout.contains(&format!(
            "{n} requests: 0 succeeded, {n} failed",
            n = ids.len()
        )),
        "{}",
        r.stdout
    );
}

#[test]
fn throttling_is_backed_off_and_the_wait_still_succeeds() {
    let home = tempfile::tempdir().expect("tempdir");
    // The service allows 2 requests/s; wait may spend 20: it is throttled, backs off, retries.
    let emu = emulator_with(
        &[
            ("--history", "5"),
            ("--rate", "0.1"),
            ("--failure-ratio", "0"),
            ("--time-scale", "60"),
            ("--seed", "14"),
            ("--throttle-rps", "2"),
        ],
        home.path(),
    );
    let requests = in_flight(&emu.url, 5, home.path());
    let file = home.path().join("rollout.json");
    std::fs::write(&file, aws_cli_json(&requests)).expect("write ids");
    let r = wait_on_file(&emu.url, &file, &["--output", "json"], home.path());
    assert_exit(&r, 0);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON report");
    assert_eq!(report["outcome"], "succeeded");
    assert_eq!(report["succeeded"], requests.len());
    let throttled = report["throttled"].as_u64().expect("throttled");
    assert!(throttled > 0, "the emulator's limit was hit: {report}");
    assert!(
        emulator_stats(&emu.url)["throttled"].as_u64() >= Some(throttled),
        "the report counts what the service refused"
    );
}

#[test]
fn unreadable_flags_and_config_exit_3_for_wait_and_2_for_the_others() {
    // These all stop before `wait` could run; a pipeline gating on `wait` must read them as
    // "could not start" (3), not as "the timeout passed" (2).
    let home = tempfile::tempdir().expect("tempdir");
    let id = "1f2e3d4c-0000-4000-8000-000000000001";
    let bad_config = home.path().join("bad.toml");
    std::fs::write(&bad_config, "refresh_seconds = \"often\"\n").expect("write");
    let bad_config = bad_config.to_str().expect("utf-8 path");
    let missing_config = home.path().join("missing.toml");
    let missing_config = missing_config.to_str().expect("utf-8 path");
    let cases: [(&str, Vec<&str>); 5] = [
        (
            "an unknown wait flag",
            vec!["wait", "--request-id", id, "--bogus"],
        ),
        (
            "a bad wait value",
            vec!["wait", "--request-id", id, "--timeout", "soon"],
        ),
        (
            "a bad global value",
            vec!["--api-budget", "1e-300", "wait", "--request-id", id],
        ),
        (
            "an unreadable config",
            vec!["--config", missing_config, "wait", "--request-id", id],
        ),
        (
            "a config with a wrong value",
            vec!["--config", bad_config, "wait", "--request-id", id],
        ),
    ];
    for (what, args) in &cases {
        let r = run(args, home.path());
        assert_eq!(r.status.code(), Some(3), "{what}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("ssowatch: error: "),
            "{what}: {}",
            r.stderr
        );
        assert_eq!(r.stderr.lines().count(), 1, "{what}: {}", r.stderr);
        // The same mistake on another command keeps the usual code 2.
        let wait_at = args.iter().position(|a| *a == "wait").expect("wait");
        let mut other = args.clone();
        other.splice(wait_at..wait_at + 3, ["list"]);
        let r = run(&other, home.path());
        assert_eq!(
            r.status.code(),
            Some(2),
            "{what} on list ({other:?}): {}",
            r.stderr
        );
    }
    // Help is not an error.
    let r = run(&["wait", "--help"], home.path());
    assert_eq!(r.status.code(), Some(0), "{}", r.stderr);
}

/// Issue 21 #5: a service that throttles every call, or fails every call, from the start: wait
/// keeps trying until its own --timeout (never before it), exits 2 (the timeout), and says
/// what it saw. On main it exited 3 saying "could not connect before the timeout", or 2 at
/// 67 s of 90.
#[test]
fn throttled_or_failing_to_the_timeout_exits_2_and_says_what_it_saw() {
    let home = tempfile::tempdir().expect("tempdir");
    let id = "1f2e3d4c-0000-4000-8000-000000000001";
    for (fault, said) in [
        ("throttle", "throttled for 6s"),
        ("unavailable", "the service failed for 6s"),
    ] {
        let emu = emulator_with(
            &[("--history", "5"), ("--rate", "0"), ("--fault", fault)],
            home.path(),
        );
        let started = std::time::Instant::now();
        let r = run(
            &wait_args(&emu.url, &["--request-id", id, "--timeout", "6s"]),
            home.path(),
        );
        let took = started.elapsed();
        assert_exit(&r, 2);
        assert!(r.stderr.contains(said), "{fault}: {}", r.stderr);
        assert!(
            r.stderr.contains("timed out after 6s"),
            "{fault}: {}",
            r.stderr
        );
        assert!(
            took >= std::time::Duration::from_secs(6),
            "{fault}: gave up after {took:?}, before its timeout"
        );
    }
}
