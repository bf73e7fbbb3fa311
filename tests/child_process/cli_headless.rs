//! The real `ssowatch` binary, run the way a script runs it: `list` and `describe` on the
//! embedded demo, output formats, `emulate`, and one clear line on stderr for every kind of
//! bad input, with no panic, no debug dump and no secret.
//!
//! Every child runs with HOME and the XDG dirs in a fresh temp dir and empty AWS config files,
//! so nothing of the machine's own configuration is read, and with bounded waits: a hung child
//! is killed and the test fails.

use crate::support::headless as headless_support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use headless_support::*;

fn parse_created(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("created {s:?}: {e}"))
}

#[test]
fn list_demo_json_is_an_array_of_every_kind_newest_first() {
    let home = tempfile::tempdir().expect("tempdir");
    let r = run(&["list", "--demo", "--output", "json"], home.path());
    assert!(r.status.success(), "{}", r.stderr);
    assert!(r.stderr.is_empty(), "nothing on stderr: {}", r.stderr);
    let value: serde_json::Value = serde_json::from_str(&r.stdout).expect("stdout is JSON");
    let rows = value.as_array().expect("a JSON array");
    assert!(!rows.is_empty());
    let mut ids = std::collections::HashSet::new();
    for row in rows {
        let obj = row.as_object().expect("each row is an object");
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created", "kind", "request_id", "status"]);
        assert!(
            matches!(
                row["status"].as_str(),
                Some("IN_PROGRESS" | "FAILED" | "SUCCEEDED")
            ),
            "{row}"
        );
        let id = row["request_id"].as_str().expect("id");
        assert!(uuid::Uuid::parse_str(id).is_ok() && id.len() == 36, "{id}");
        assert!(ids.insert(id.to_string()), "{id} listed twice");
    }
    for kind in ["creation", "deletion", "provisioning"] {
        let n = rows.iter().filter(|r| r["kind"] == kind).count();
        assert!(
            n >= 300,
            "{kind}: the demo has 300 finished records, got {n}"
        );
    }
    let created: Vec<_> = rows
        .iter()
        .map(|r| parse_created(r["created"].as_str().expect("created")))
        .collect();
    for (i, w) in created.windows(2).enumerate() {
        assert!(
            w[0] >= w[1],
            "not newest first at row {i}: {} then {}",
            w[0],
            w[1]
        );
    }
}

#[test]
fn list_demo_csv_has_the_header_and_the_failed_filter_keeps_only_failed() {
    let home = tempfile::tempdir().expect("tempdir");
    let r = run(&["list", "--demo", "--output", "csv"], home.path());
    assert!(r.status.success(), "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(lines.next(), Some("kind,request_id,status,created"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.len() >= 900, "{} rows", rows.len());
    assert!(rows.iter().all(|r| r.len() == 4), "four columns");
    let statuses: std::collections::HashSet<&str> = rows.iter().map(|r| r[2]).collect();
    assert!(
        statuses.contains("FAILED") && statuses.contains("SUCCEEDED"),
        "{statuses:?}"
    );

    let r = run(
        &["list", "--demo", "--status", "failed", "--output", "csv"],
        home.path(),
    );
    assert!(r.status.success(), "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(lines.next(), Some("kind,request_id,status,created"));
    let failed: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(!failed.is_empty(), "the demo has failures");
    assert!(
        failed.len() < rows.len() / 2,
        "the filter must actually filter"
    );
    for row in &failed {
        assert_eq!(row[2], "FAILED", "{row:?}");
    }
    let kinds: std::collections::HashSet<&str> = failed.iter().map(|r| r[0]).collect();
    assert_eq!(kinds.len(), 3, "failures of every kind: {kinds:?}");

    // The same filter in JSON agrees.
    let r = run(
        &["list", "--demo", "--status", "failed", "--output", "json"],
        home.path(),
    );
    let value: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let json_rows = value.as_array().expect("array");
    assert!(json_rows.iter().all(|r| r["status"] == "FAILED"));
}

#[test]
fn describe_demo_prints_the_fields_of_an_id_from_list() {
    let home = tempfile::tempdir().expect("tempdir");
    let r = run(
        &["list", "--demo", "--status", "failed", "--output", "json"],
        home.path(),
    );
    assert!(r.status.success(), "{}", r.stderr);
    let value: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let rows = value.as_array().expect("array");
    // The oldest FAILED record of each kind: finished history, the same in every demo run.
    for kind in ["creation", "deletion", "provisioning"] {
        let row = rows
            .iter()
            .rev()
            .find(|r| r["kind"] == kind)
            .unwrap_or_else(|| panic!("a failed {kind}"));
        let id = row["request_id"].as_str().expect("id");

        let r = run(&["describe", "--demo", id], home.path());
        assert!(r.status.success(), "describe {id}: {}", r.stderr);
        assert!(r.stderr.is_empty(), "{}", r.stderr);
        let field = |name: &str| -> Option<String> {
            r.stdout.lines().find_map(|l| {
                l.strip_prefix(name)
                    .filter(|rest| rest.starts_with(' '))
                    .map(|rest| rest.trim().to_string())
            })
        };
        assert_eq!(field("Request ID").as_deref(), Some(id), "{}", r.stdout);
        assert_eq!(field("Status").as_deref(), Some("FAILED"), "{}", r.stdout);
        assert!(
            field("Failure reason").is_some_and(|f| !f.is_empty()),
            "{}",
            r.stdout
        );
        assert!(
            field("Target account")
                .is_some_and(|a| a.len() == 12 && a.chars().all(|c| c.is_ascii_digit())),
            "{}",
            r.stdout
        );
        assert!(
            field("Permission set").is_some_and(|p| p.starts_with("arn:aws:sso:::permissionSet/")),
            "{}",
            r.stdout
        );
        assert!(field("Created (UTC)").is_some(), "{}", r.stdout);
        let principal = field("Principal id");
        if kind == "provisioning" {
            assert_eq!(principal, None, "{}", r.stdout);
            assert_eq!(
                field("Source").as_deref(),
                Some("DescribePermissionSetProvisioningStatus")
            );
        } else {
            assert!(principal.is_some(), "{}", r.stdout);
            assert!(matches!(
                field("Principal type").as_deref(),
                Some("USER" | "GROUP")
            ));
        }

        // JSON describe of the same id with --kind agrees with the list row.
        let r = run(
            &["describe", "--demo", id, "--kind", kind, "--output", "json"],
            home.path(),
        );
        assert!(r.status.success(), "{}", r.stderr);
        let d: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
        assert_eq!(d["request_id"], row["request_id"]);
        assert_eq!(d["kind"], kind);
        assert_eq!(d["status"], "FAILED");
        assert!(d["failure_reason"].as_str().is_some_and(|s| !s.is_empty()));
    }
}

#[test]
fn describe_demo_of_an_unknown_id_is_one_line_and_non_zero() {
    let home = tempfile::tempdir().expect("tempdir");
    let r = run(&["describe", "--demo", UNKNOWN_ID], home.path());
    assert_one_line_error(&r, "describe unknown id");
    assert!(r.stderr.contains(UNKNOWN_ID), "{}", r.stderr);
    assert!(r.stderr.contains("not found"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing on stdout: {}", r.stdout);
}

#[test]
fn bad_flags_and_bad_config_are_one_clear_line_each() {
    let home = tempfile::tempdir().expect("tempdir");
    let bad_config = home.path().join("bad.toml");
    std::fs::write(
        &bad_config,
        "# ssowatch config\nregion = \"eu-west-1\"\nrefersh_seconds = 5\n",
    )
    .expect("write config");
    let bad_config = bad_config.to_string_lossy().into_owned();
    // A value out of range: reported with its line like a syntax error.
    let bad_value = home.path().join("values.toml");
    std::fs::write(
        &bad_value,
        "# ssowatch\nregion = \"eu-west-1\"\n\napi_budget_rps = 1e-300\n",
    )
    .expect("write config");
    let bad_value = bad_value.to_string_lossy().into_owned();
    let missing = home
        .path()
        .join("does-not-exist.toml")
        .to_string_lossy()
        .into_owned();
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["--bogus"], vec!["--bogus"]),
        (vec!["list", "--bogus"], vec!["--bogus"]),
        (vec!["list", "--refresh", "0"], vec!["--refresh"]),
        (vec!["list", "--api-budget", "50"], vec!["--api-budget"]),
        (vec!["list", "--output", "xml"], vec!["xml"]),
        (vec!["list", "--kind", "sideways"], vec!["sideways"]),
        (
            vec!["list", "--config", &bad_config],
            vec![&bad_config, ":3", "refersh_seconds"],
        ),
        (vec!["list", "--config", &missing], vec![&missing]),
    ];
    for (args, needles) in cases {
        let r = run(&args, home.path());
        let what = args.join(" ");
        assert_one_line_error(&r, &what);
        for needle in needles {
            assert!(
                r.stderr.contains(needle),
                "{what}: expected {needle:?} in {}",
                r.stderr
            );
        }
    }
    // File, line and key together, in that order.
    for (config, expected) in [
        (
            &bad_config,
            format!("{bad_config}:3: key `refersh_seconds`"),
        ),
        (
            &bad_value,
            format!("{bad_value}:4: key `api_budget_rps`: the API budget"),
        ),
    ] {
        let r = run(&["list", "--config", config], home.path());
        assert!(r.stderr.contains(&expected), "{}", r.stderr);
    }
}

#[test]
fn an_unreachable_endpoint_is_one_line_and_never_shows_the_secret() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut c = command(
        &[
            "list",
            "--endpoint-url",
            "http://127.0.0.1:1",
            "--region",
            "us-east-1",
        ],
        home.path(),
    );
    c.env("AWS_ACCESS_KEY_ID", "AKIAHEADLESSTEST0001")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("SSOWATCH_TEST_RETRY_BASE_MS", "5");
    // `finish` fails the test if the run does not end within its bound: nothing is retried
    // forever.
    let r = finish(c);
    assert_one_line_error(&r, "unreachable endpoint");
    assert!(
        r.stderr.contains("reach") || r.stderr.contains("refused"),
        "says what went wrong: {}",
        r.stderr
    );
    assert!(!r.stdout.contains(SECRET), "secret on stdout");
    assert!(!r.stderr.contains(SECRET), "secret on stderr");
    // Nor in any file the run left behind (its log, caches).
    for (path, bytes) in files_under(home.path()) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "secret written to {}",
            path.display()
        );
    }
}

#[test]
fn emulate_prints_its_base_url_as_the_first_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut c = command(
        &["emulate", "--port", "0", "--history", "5", "--rate", "0"],
        home.path(),
    );
    c.stderr(Stdio::null());
    let mut child = KillOnDrop(c.spawn().expect("spawn emulator"));
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the emulator prints its URL within 30 s");
    let url = first.trim_end_matches('\n');
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("first line is the loopback base URL: {first:?}"));
    let port: u16 = port.parse().expect("a port number");
    assert_ne!(port, 0, "--port 0 picks a real port");
    // It is really listening there.
    std::net::TcpStream::connect(("127.0.0.1", port)).expect("the emulator accepts connections");
    assert!(child.0.try_wait().expect("poll").is_none(), "still running");
    drop(child);
}

#[test]
fn the_dashboard_without_a_terminal_says_so_in_one_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let r = run(&["--demo"], home.path());
    assert_one_line_error(&r, "--demo without a tty");
    assert!(r.stderr.contains("interactive terminal"), "{}", r.stderr);
}

#[test]
fn describe_looks_up_the_permission_set_name() {
    let home = tempfile::tempdir().expect("tempdir");
    let listed = run(
        &["list", "--demo", "--kind", "creation", "--output", "json"],
        home.path(),
    );
    let rows: serde_json::Value = serde_json::from_str(&listed.stdout).expect("json");
    // The oldest record: finished history, the same in every demo process (the newest may
    // be a live request that only the listing process's emulator started).
    let id = rows
        .as_array()
        .and_then(|rows| rows.last())
        .and_then(|row| row["request_id"].as_str())
        .expect("an id")
        .to_string();
    let r = run(
        &[
            "describe", "--demo", "--kind", "creation", "--output", "json", &id,
        ],
        home.path(),
    );
    assert!(r.status.success(), "{}", r.stderr);
    let value: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert!(
        value["permission_set_name"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{value}"
    );
}

#[test]
fn the_demo_has_requests_in_flight_from_the_start() {
    let home = tempfile::tempdir().expect("tempdir");
    let r = run(
        &[
            "list",
            "--demo",
            "--status",
            "in-progress",
            "--output",
            "csv",
        ],
        home.path(),
    );
    assert!(r.status.success(), "{}", r.stderr);
    assert!(
        r.stdout.lines().count() > 1,
        "no IN_PROGRESS rows in the demo:\n{}",
        r.stdout
    );
}

#[test]
fn a_reader_that_closes_the_pipe_early_is_a_normal_end() {
    for format in ["json", "csv", "table"] {
        let home = tempfile::tempdir().expect("tempdir");
        let mut c = command(&["list", "--demo", "--output", format], home.path());
        let mut child = KillOnDrop(c.spawn().expect("spawn"));
        let mut stdout = child.0.stdout.take().expect("stdout");
        let mut err_pipe = child.0.stderr.take().expect("stderr");
        // Read one small chunk, like `head -c`, then close our end while ssowatch still has
        // far more to write than a pipe holds (the demo lists about 100 KB).
        let mut first = [0u8; 256];
        let n = std::io::Read::read(&mut stdout, &mut first).expect("read");
        assert!(n > 0, "{format}: some output first");
        drop(stdout);
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut err_pipe, &mut stderr).expect("stderr");
        let status = wait_bounded(&mut child, format);
        assert_eq!(status.code(), Some(0), "{format}: {stderr}");
        assert!(
            stderr.is_empty(),
            "{format}: nothing on stderr, got {stderr:?}"
        );
    }
}

#[test]
fn cli_errors_keep_what_the_operator_needs() {
    let home = tempfile::tempdir().expect("tempdir");
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["describe"],
            vec!["<REQUEST_ID>", "ssowatch describe --help"],
        ),
        (
            vec!["list", "--status", "bogus"],
            vec!["bogus", "in-progress", "failed", "succeeded"],
        ),
        (
            vec!["list", "--kind"],
            vec!["--kind", "creation", "provisioning"],
        ),
        (
            vec!["describe", "not-a-uuid"],
            vec!["'not-a-uuid' is not an AWS request id", "UUID"],
        ),
        (
            vec!["list", "--refresh", "-1"],
            vec!["--refresh", "between 1 and 3600", "got -1"],
        ),
        (
            vec!["list", "--api-budget", "1e-300"],
            vec!["--api-budget", "between 0.05 and 20", "1e-300"],
        ),
        (
            vec!["list", "--api-budget", "-2"],
            vec!["--api-budget", "got -2"],
        ),
        (vec!["list", "--api-budget", "1e-10"], vec!["1e-10"]),
    ];
    for (args, needles) in cases {
        let r = run(&args, home.path());
        let what = args.join(" ");
        assert_one_line_error(&r, &what);
        assert_eq!(r.status.code(), Some(2), "{what}: usage errors exit 2");
        for needle in needles {
            assert!(
                r.stderr.contains(needle),
                "{what}: expected {needle:?} in {}",
                r.stderr
            );
        }
        assert!(!r.stderr.contains("ValidationException"), "{}", r.stderr);
        assert!(!r.stderr.contains("unexpected argument"), "{}", r.stderr);
    }
}

#[test]
fn status_filters_accept_the_screen_spelling() {
    let home = tempfile::tempdir().expect("tempdir");
    for spelling in ["FAILED", "failed", "Failed"] {
        let r = run(
            &[
                "list", "--demo", "--kind", "creation", "--status", spelling, "--output", "csv",
            ],
            home.path(),
        );
        assert!(r.status.success(), "{spelling}: {}", r.stderr);
        let rows: Vec<&str> = r.stdout.lines().skip(1).collect();
        assert!(!rows.is_empty(), "{spelling}");
        assert!(rows.iter().all(|l| l.contains(",FAILED,")), "{spelling}");
    }
    for spelling in ["IN_PROGRESS", "in_progress", "in-progress"] {
        let r = run(
            &[
                "list", "--demo", "--kind", "creation", "--status", spelling, "--output", "csv",
            ],
            home.path(),
        );
        assert!(r.status.success(), "{spelling}: {}", r.stderr);
        assert!(
            r.stdout
                .lines()
                .skip(1)
                .all(|l| l.contains(",IN_PROGRESS,")),
            "{spelling}"
        );
    }
}

/// Issue 10: the Huawei demo is an organization of its own, not the AWS demo's ids.
#[test]
fn the_huawei_demo_has_ids_of_its_own() {
    let home = tempfile::tempdir().expect("tempdir");
    let ids = |provider: &str| -> std::collections::HashSet<String> {
        let r = run(
            &["list", "--demo", "--provider", provider, "--output", "json"],
            home.path(),
        );
        assert!(r.status.success(), "{}", r.stderr);
        let value: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
        value
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|row| row["request_id"].as_str().map(str::to_string))
            .collect()
    };
    let (aws, huawei) = (ids("aws"), ids("huawei"));
    assert!(!aws.is_empty() && !huawei.is_empty());
    assert!(aws.is_disjoint(&huawei), "the two demos share request ids");
}

#[test]
fn failures_with_an_unknown_cause_is_one_line_listing_the_keys() {
    let home = tempfile::tempdir().expect("tempdir");
    let r = run(
        &[
            "failures", "--demo", "--cause", "policy", "--output", "retry",
        ],
        home.path(),
    );
    assert_one_line_error(&r, "failures --cause policy");
    assert_eq!(r.status.code(), Some(2), "a usage error: {}", r.stderr);
    for key in [
        "policy_missing",
        "principal_missing",
        "internal_error",
        "other",
    ] {
        assert!(r.stderr.contains(key), "{key}: {}", r.stderr);
    }
    assert!(r.stdout.is_empty());
}

#[test]
fn failures_hands_the_huawei_demos_failures_on_as_koocli_ids_and_plan() {
    let home = tempfile::tempdir().expect("tempdir");
    let args = |output: &'static str| {
        [
            "failures",
            "--demo",
            "--provider",
            "huawei",
            "--api-budget",
            "20",
            "--cause",
            "account_unreachable",
            "--output",
            output,
        ]
    };
    let r = run(&args("retry"), home.path());
    assert!(r.status.success(), "{}", r.stderr);
    let commands: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("hcloud IdentityCenter "))
        .collect();
    assert!(!commands.is_empty(), "{}", r.stdout);
    assert!(r.stdout.contains("# account_unreachable: "));
    assert!(!r.stdout.contains("127.0.0.1") && !r.stdout.contains("cli-access-key"));
    let plan = run(&args("plan"), home.path());
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
    assert_eq!(plan["cloud"], "huawei");
    assert_eq!(
        plan["retry"].as_array().map(Vec::len),
        Some(commands.len()),
        "one step per command"
    );
    let ids = run(&args("ids"), home.path());
    let listed: Vec<&str> = ids.stdout.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(listed.len(), commands.len(), "{}", ids.stdout);
    for step in plan["retry"].as_array().into_iter().flatten() {
        let id = step["request_id"].as_str().unwrap_or_default();
        assert!(listed.contains(&id), "{id}");
        assert_eq!(step["cause"], "account_unreachable");
    }
}

use crate::support::app as app_support;

/// An `ssowatch emulate` child on loopback, and its URL.
fn emulate(args: &[&str], home: &std::path::Path) -> (KillOnDrop, String) {
    let mut all = vec!["emulate", "--port", "0"];
    all.extend_from_slice(args);
    let mut c = command(&all, home);
    c.stderr(Stdio::null());
    let mut child = KillOnDrop(c.spawn().expect("spawn emulator"));
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the emulator prints its URL within 30 s")
        .trim_end()
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
    (child, url)
}

/// Issue 19: `list --filter`, the dashboard's `/` filter and its pivot give the answers a
/// script computes over `ssowatch list` and `ssowatch describe --output json` for the same
/// records (an emulator with a fixed history and no new requests, so nothing moves).
#[test]
fn list_filter_and_the_dashboards_filter_and_pivot_agree_with_a_script() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ssowatch::app::{self, Msg};
    use ssowatch::model::{Described, OperationKind, RequestDetail, Status, StatusSummary};
    use ssowatch::poller::Event;
    use std::collections::{BTreeMap, BTreeSet};

    let home = tempfile::tempdir().expect("tempdir");
    let (_emulator, url) = emulate(
        &[
            "--seed",
            "5",
            "--history",
            "12",
            "--rate",
            "0",
            "--failure-ratio",
            "0.3",
            "--accounts",
            "6",
        ],
        home.path(),
    );
    let sso = |args: &[&str]| {
        let mut all = vec!["--api-budget", "20"];
        all.extend_from_slice(args);
        finish(aws_command(&all, home.path(), &url))
    };
    let list_json = |extra: &[&str]| -> Vec<serde_json::Value> {
        let mut args = vec!["list", "-o", "json"];
        args.extend_from_slice(extra);
        let r = sso(&args);
        assert!(r.status.success(), "list {extra:?}: {}", r.stderr);
        serde_json::from_str(&r.stdout).expect("list prints a JSON array")
    };
    let listed = list_json(&[]);
    assert!(listed.len() >= 30, "{}", listed.len());
    // The script: describe every request, as a script over the JSON would.
    let described: Vec<serde_json::Value> = listed
        .iter()
        .map(|row| {
            let (id, kind) = (row["request_id"].as_str(), row["kind"].as_str());
            let (Some(id), Some(kind)) = (id, kind) else {
                panic!("list row without id or kind: {row}");
            };
            let r = sso(&["describe", id, "--kind", kind, "-o", "json"]);
            assert!(r.status.success(), "describe {id}: {}", r.stderr);
            serde_json::from_str(&r.stdout).expect("describe prints JSON")
        })
        .collect();
    let field = |d: &serde_json::Value, name: &str| d[name].as_str().unwrap_or("").to_lowercase();
    let account = |d: &serde_json::Value| {
        let name = field(d, "account_name");
        if name.is_empty() {
            field(d, "target_account")
        } else {
            name
        }
    };
    let principal = |d: &serde_json::Value| {
        let name = field(d, "principal_name");
        let who = if name.is_empty() {
            field(d, "principal_id")
        } else {
            name
        };
        format!("{} {who}", field(d, "principal_type"))
    };
    let ps_name = |d: &serde_json::Value| field(d, "permission_set_name");
    let script = |pred: &dyn Fn(&serde_json::Value) -> bool| -> BTreeSet<String> {
        described
            .iter()
            .filter(|d| pred(d))
            .map(|d| field(d, "request_id"))
            .collect()
    };
    // What to ask: the account of the first FAILED request, a permission set's name.
    let failed_one = described
        .iter()
        .find(|d| d["status"] == "FAILED")
        .expect("a FAILED request");
    let some_account = account(failed_one);
    let some_set = ps_name(failed_one);
    let set_word: String = some_set.chars().take(5).collect();
    let who = principal(
        described
            .iter()
            .find(|d| d["kind"] == "deletion")
            .expect("a deletion request"),
    );
    let cases: Vec<(String, BTreeSet<String>)> = vec![
        (
            format!("account:\"{some_account}\""),
            script(&|d| account(d) == some_account),
        ),
        (
            format!("status:failed ps:{set_word}"),
            script(&|d| field(d, "status") == "failed" && ps_name(d).contains(&set_word)),
        ),
        (
            format!("-kind:creation principal:\"{who}\""),
            script(&|d| field(d, "kind") != "creation" && principal(d) == who),
        ),
        (
            "reason:account -status:succeeded".to_string(),
            script(&|d| field(d, "failure_reason").contains("account")),
        ),
    ];
    // The dashboard over the same records: the listing, then each describe answer.
    let mut state = app_support::new_state(200, 50);
    let parse_time = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    };
    for d in &described {
        let kind = OperationKind::from_short(&field(d, "kind")).expect("a kind");
        let summary = StatusSummary {
            kind,
            request_id: field(d, "request_id"),
            status: Status::from_wire(d["status"].as_str().unwrap_or("")),
            created: parse_time(d["created"].as_str().unwrap_or("")),
        };
        let text = |name: &str| d[name].as_str().map(str::to_string);
        app_support::send(
            &mut state,
            Event::Records {
                kind,
                items: vec![summary.clone()],
            },
        );
        app_support::send(
            &mut state,
            Event::Described(Box::new(Described {
                summary,
                detail: RequestDetail {
                    failure_reason: text("failure_reason"),
                    target_account: text("target_account"),
                    target_type: text("target_type"),
                    permission_set: text("permission_set"),
                    permission_set_name: text("permission_set_name"),
                    principal_type: text("principal_type"),
                    principal_id: text("principal_id"),
                    principal_name: text("principal_name"),
                    account_name: text("account_name"),
                },
                source_call: "test".into(),
                described_at: app_support::t0(),
            })),
        );
    }
    app_support::key(&mut state, KeyCode::Char('0'));
    for (filter, want) in &cases {
        assert!(!want.is_empty() || filter.starts_with("reason"), "{filter}");
        // `ssowatch list --filter`.
        let got: BTreeSet<String> = list_json(&["--filter", filter])
            .iter()
            .filter_map(|r| r["request_id"].as_str().map(str::to_lowercase))
            .collect();
        assert_eq!(&got, want, "list --filter {filter}");
        // The dashboard's `/`.
        app_support::key(&mut state, KeyCode::Char('/'));
        app::update(
            &mut state,
            Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
        );
        app_support::chars(&mut state, filter);
        app_support::key(&mut state, KeyCode::Enter);
        let shown: BTreeSet<String> = app_support::visible_ids(&state)
            .into_iter()
            .map(|id| id.to_lowercase())
            .collect();
        assert_eq!(&shown, want, "/{filter}");
        assert_eq!(state.active_table().not_described, 0);
    }
    // What the listing decides costs no describe, and stderr says when describes are made.
    let filtered = |filter: &str| sso(&["list", "-o", "json", "--filter", filter]);
    let r = filtered("status:failed -kind:creation");
    assert!(r.status.success() && r.stderr.is_empty(), "{}", r.stderr);
    let r = filtered("ps:a status:failed");
    assert!(r.status.success(), "{}", r.stderr);
    assert!(r.stderr.contains("describing"), "{}", r.stderr);
    let r = filtered("colour:red");
    assert!(!r.status.success());
    assert!(
        r.stderr.contains("unknown field \"colour\""),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
    app_support::key(&mut state, KeyCode::Esc);
    assert!(state.view.text_filter.is_empty());
    // The pivot by account: the script's counts per account.
    let mut counts: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for d in &described {
        let c = counts.entry(account(d)).or_default();
        c[0] += 1;
        match d["status"].as_str() {
            Some("IN_PROGRESS") => c[1] += 1,
            Some("SUCCEEDED") => c[2] += 1,
            Some("FAILED") => c[3] += 1,
            _ => {}
        }
    }
    app_support::key(&mut state, KeyCode::Char('p'));
    let view = state.view.mode.pivot().cloned().expect("the pivot is open");
    let pivot: BTreeMap<String, [usize; 4]> = view
        .rows
        .iter()
        .map(|r| {
            (
                r.key.to_lowercase(),
                [r.total, r.in_flight, r.succeeded, r.failed],
            )
        })
        .collect();
    assert_eq!(pivot, counts);
}
