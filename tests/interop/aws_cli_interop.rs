//! The official AWS CLI (`pip install -r tests/interop/requirements.txt`) against
//! `ssowatch emulate` started from the real binary: what the CLI parses (through botocore's
//! own service model, paginators and JSON 1.1 parser) must equal what `ssowatch list` and
//! `ssowatch describe` print against the same emulator.
//!
//! Without `aws` on PATH the test prints a skip notice, except in CI (env `CI` set), where a
//! missing CLI is a failure.

use crate::support::headless as headless_support;
use crate::support::required_tool;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use headless_support::{BIN, KillOnDrop};
use std::sync::mpsc;
use std::time::Duration;

const HISTORY: usize = 250;

/// Runs a command to completion within the shared bound; returns (success, stdout, stderr).
fn finish(c: Command) -> (bool, String, String) {
    let r = headless_support::finish(c);
    (r.status.success(), r.stdout, r.stderr)
}

struct Harness {
    url: String,
    home: tempfile::TempDir,
    _emulator: KillOnDrop,
}

impl Harness {
    fn env(&self, c: &mut Command) {
        let h = self.home.path();
        c.env("HOME", h)
            .env("XDG_CONFIG_HOME", h.join("xdg-config"))
            .env("XDG_CACHE_HOME", h.join("xdg-cache"))
            .env("XDG_STATE_HOME", h.join("xdg-state"))
            .env("AWS_CONFIG_FILE", h.join("aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", h.join("aws-credentials"))
            .env("AWS_ACCESS_KEY_ID", "AKIAINTEROPDUMMY0001")
            .env("AWS_SECRET_ACCESS_KEY", "interop/dummy/secret")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_PROFILE")
            .env_remove("AWS_REGION")
            .env_remove("AWS_SESSION_TOKEN");
    }

    fn aws(&self, args: &[&str]) -> serde_json::Value {
        self.aws_service("sso-admin", args)
    }

    /// `aws SERVICE ARGS` against the emulator, parsed.
    fn aws_service(&self, service: &str, args: &[&str]) -> serde_json::Value {
        let mut c = Command::new("aws");
        self.env(&mut c);
        c.arg(service)
            .args(args)
            .args(["--endpoint-url", &self.url, "--output", "json"]);
        let (ok, stdout, stderr) = finish(c);
        assert!(ok, "aws {service} {args:?} failed: {stderr}");
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("aws {args:?}: not JSON ({e}): {stdout}"))
    }

    fn ssowatch(&self, args: &[&str]) -> serde_json::Value {
        let mut c = Command::new(BIN);
        self.env(&mut c);
        c.args(args).args([
            "--endpoint-url",
            &self.url,
            "--region",
            "us-east-1",
            "--output",
            "json",
        ]);
        let (ok, stdout, stderr) = finish(c);
        assert!(ok, "ssowatch {args:?} failed: {stderr}");
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("ssowatch {args:?}: not JSON ({e}): {stdout}"))
    }

    /// `POST /_emulator/faults` with `body`: the emulator's fault set from now on.
    fn set_faults(&self, body: &str) {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect to the emulator");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        write!(
            stream,
            "POST /_emulator/faults HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }

    /// `ssowatch ARGS` against the emulator: (exit code, stdout, stderr).
    fn ssowatch_raw(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let mut c = Command::new(BIN);
        self.env(&mut c);
        c.args(args)
            .args(["--endpoint-url", &self.url, "--region", "us-east-1"]);
        let r = headless_support::finish(c);
        (r.status.code(), r.stdout, r.stderr)
    }

    /// Requests the emulator served for one operation (`GET /_emulator/stats`).
    fn served(&self, operation: &str) -> u64 {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect to the emulator");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        write!(
            stream,
            "GET /_emulator/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read stats");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .expect("an HTTP response");
        let stats: serde_json::Value = serde_json::from_str(body).expect("stats JSON");
        stats["by_operation"][operation].as_u64().unwrap_or(0)
    }
}

fn start_emulator() -> Harness {
    start_emulator_with(&[
        "--history",
        &HISTORY.to_string(),
        "--rate",
        "0",
        "--seed",
        "2024",
        "--failure-ratio",
        "0.2",
    ])
}

fn start_emulator_with(args: &[&str]) -> Harness {
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::write(home.path().join("aws-config"), "").expect("empty config");
    std::fs::write(home.path().join("aws-credentials"), "").expect("empty credentials");
    let mut child = Command::new(BIN)
        .args(["emulate", "--port", "0"])
        .args(args)
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("xdg-state"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ssowatch emulate");
    let stdout = child.stdout.take().expect("stdout");
    let guard = KillOnDrop(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the emulator prints its URL within 30 s");
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line:?}");
    Harness {
        url,
        home,
        _emulator: guard,
    }
}

/// Epoch milliseconds of a CLI timestamp: AWS CLI v1 prints the wire's epoch seconds as a
/// number, v2 (or `cli_timestamp_format = iso8601`) an ISO 8601 string. The number is read
/// from its decimal text, so no float rounding can hide a millisecond.
fn cli_millis(v: &serde_json::Value) -> i64 {
    match v {
        serde_json::Value::Number(n) => {
            let text = n.to_string();
            match text.split_once('.') {
                _ if text.contains(['e', 'E']) => {
                    (n.as_f64().expect("seconds") * 1000.0).round() as i64
                }
                Some((secs, frac)) => {
                    let mut frac = frac.to_string();
                    assert!(
                        frac.len() <= 3,
                        "sub-millisecond timestamp on the wire: {text}"
                    );
                    while frac.len() < 3 {
                        frac.push('0');
                    }
                    secs.parse::<i64>().expect("seconds") * 1000
                        + frac.parse::<i64>().expect("millis")
                }
                None => text.parse::<i64>().expect("seconds") * 1000,
            }
        }
        serde_json::Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("CLI date {s:?}: {e}"))
            .timestamp_millis(),
        other => panic!("unexpected CreatedDate {other}"),
    }
}

fn ssowatch_millis(v: &serde_json::Value) -> i64 {
    let s = v.as_str().expect("created is a string");
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("ssowatch date {s:?}: {e}"))
        .timestamp_millis()
}

/// request id -> (status, created epoch ms).
type Listing = BTreeMap<String, (String, i64)>;

fn from_cli(items: &serde_json::Value) -> Listing {
    let items = items.as_array().expect("the CLI answer holds a list");
    let listing: Listing = items
        .iter()
        .map(|i| {
            (
                i["RequestId"].as_str().expect("RequestId").to_string(),
                (
                    i["Status"].as_str().expect("Status").to_string(),
                    cli_millis(&i["CreatedDate"]),
                ),
            )
        })
        .collect();
    assert_eq!(listing.len(), items.len(), "the CLI saw a request twice");
    listing
}

fn from_ssowatch(rows: &serde_json::Value, kind: &str) -> Listing {
    let rows = rows.as_array().expect("ssowatch prints an array");
    let listing: Listing = rows
        .iter()
        .map(|r| {
            assert_eq!(r["kind"], kind);
            (
                r["request_id"].as_str().expect("request_id").to_string(),
                (
                    r["status"].as_str().expect("status").to_string(),
                    ssowatch_millis(&r["created"]),
                ),
            )
        })
        .collect();
    assert_eq!(
        listing.len(),
        rows.len(),
        "ssowatch printed a request twice"
    );
    listing
}

struct KindSpec {
    kind: &'static str,
    list: &'static str,
    list_field: &'static str,
    list_operation: &'static str,
    describe: &'static str,
    id_flag: &'static str,
    describe_field: &'static str,
}

const KINDS: [KindSpec; 3] = [
    KindSpec {
        kind: "creation",
        list: "list-account-assignment-creation-status",
        list_field: "AccountAssignmentsCreationStatus",
        list_operation: "ListAccountAssignmentCreationStatus",
        describe: "describe-account-assignment-creation-status",
        id_flag: "--account-assignment-creation-request-id",
        describe_field: "AccountAssignmentCreationStatus",
    },
    KindSpec {
        kind: "deletion",
        list: "list-account-assignment-deletion-status",
        list_field: "AccountAssignmentsDeletionStatus",
        list_operation: "ListAccountAssignmentDeletionStatus",
        describe: "describe-account-assignment-deletion-status",
        id_flag: "--account-assignment-deletion-request-id",
        describe_field: "AccountAssignmentDeletionStatus",
    },
    KindSpec {
        kind: "provisioning",
        list: "list-permission-set-provisioning-status",
        list_field: "PermissionSetsProvisioningStatus",
        list_operation: "ListPermissionSetProvisioningStatus",
        describe: "describe-permission-set-provisioning-status",
        id_flag: "--provision-permission-set-request-id",
        describe_field: "PermissionSetProvisioningStatus",
    },
];

fn aws_cli_available() -> bool {
    let mut c = Command::new("aws");
    c.arg("--version");
    match c.stdin(Stdio::null()).output() {
        Ok(out) => out.status.success(),
        Err(_) => false,
    }
}

/// Whether the AWS CLI can run; without it a skip notice locally, a failure in CI.
fn aws_cli_or_skip() -> bool {
    if aws_cli_available() {
        return true;
    }
    required_tool::missing(
        "the AWS CLI (`aws`)",
        "pip install -r tests/interop/requirements.txt",
    );
    false
}

fn compare_describe(h: &Harness, instance: &str, spec: &KindSpec, id: &str) {
    let cli = h.aws(&[spec.describe, "--instance-arn", instance, spec.id_flag, id]);
    let cli = &cli[spec.describe_field];
    assert!(cli.is_object(), "{}: {cli}", spec.kind);
    let ours = h.ssowatch(&["describe", id, "--kind", spec.kind]);
    let what = format!("{} {id}", spec.kind);
    assert_eq!(cli["RequestId"].as_str(), Some(id), "{what}");
    assert_eq!(ours["request_id"].as_str(), Some(id), "{what}");
    assert_eq!(ours["kind"], spec.kind, "{what}");
    assert_eq!(cli["Status"], ours["status"], "{what}: status");
    assert_eq!(
        cli_millis(&cli["CreatedDate"]),
        ssowatch_millis(&ours["created"]),
        "{what}: created"
    );
    // Absent on the wire (CLI) is null in ssowatch's JSON.
    let same = |cli_key: &str, ours_key: &str| {
        let theirs = cli.get(cli_key).cloned().unwrap_or(serde_json::Value::Null);
        assert_eq!(theirs, ours[ours_key], "{what}: {cli_key} vs {ours_key}");
    };
    same("FailureReason", "failure_reason");
    same("PermissionSetArn", "permission_set");
    if spec.kind == "provisioning" {
        same("AccountId", "target_account");
        assert!(ours["principal_id"].is_null(), "{what}");
    } else {
        same("TargetId", "target_account");
        same("TargetType", "target_type");
        same("PrincipalType", "principal_type");
        same("PrincipalId", "principal_id");
    }
    assert_eq!(
        cli["Status"] == "FAILED",
        cli.get("FailureReason").is_some(),
        "{what}: a failure reason if and only if FAILED"
    );
    assert!(
        ours["source_call"]
            .as_str()
            .is_some_and(|s| s.starts_with("Describe"))
    );
}

#[test]
fn the_aws_cli_parses_what_ssowatch_lists_and_describes() {
    if !aws_cli_or_skip() {
        return;
    }
    let h = start_emulator();
    assert!(Path::new(BIN).exists());

    let instances = h.aws(&["list-instances"]);
    let list = instances["Instances"].as_array().expect("Instances");
    assert_eq!(list.len(), 1, "{instances}");
    let instance = list[0]["InstanceArn"]
        .as_str()
        .expect("InstanceArn")
        .to_string();

    for spec in &KINDS {
        // Every record, walked in pages of 40 by the CLI's own paginator.
        let before = h.served(spec.list_operation);
        let cli_all = from_cli(
            &h.aws(&[spec.list, "--instance-arn", &instance, "--page-size", "40"])[spec.list_field],
        );
        let pages = h.served(spec.list_operation) - before;
        assert_eq!(
            pages,
            HISTORY.div_ceil(40) as u64,
            "{}: the CLI walks {HISTORY} records in pages of 40",
            spec.kind
        );
        assert_eq!(cli_all.len(), HISTORY, "{}", spec.kind);
        let ours_all = from_ssowatch(&h.ssowatch(&["list", "--kind", spec.kind]), spec.kind);
        assert_eq!(
            cli_all, ours_all,
            "{}: the AWS CLI and ssowatch list differ",
            spec.kind
        );

        // Only FAILED, filtered by the service.
        let cli_failed = from_cli(
            &h.aws(&[
                spec.list,
                "--instance-arn",
                &instance,
                "--page-size",
                "40",
                "--filter",
                "Status=FAILED",
            ])[spec.list_field],
        );
        assert!(
            !cli_failed.is_empty(),
            "{}: the scenario has failures",
            spec.kind
        );
        assert!(
            cli_failed.len() < HISTORY,
            "{}: the filter filters",
            spec.kind
        );
        assert!(cli_failed.values().all(|(s, _)| s == "FAILED"));
        let expected: Listing = cli_all
            .iter()
            .filter(|(_, (s, _))| s == "FAILED")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(cli_failed, expected, "{}: filter vs full list", spec.kind);
        let ours_failed = from_ssowatch(
            &h.ssowatch(&["list", "--kind", spec.kind, "--status", "failed"]),
            spec.kind,
        );
        assert_eq!(
            cli_failed, ours_failed,
            "{}: FAILED lists differ",
            spec.kind
        );

        // Describe one FAILED and one SUCCEEDED request of this kind with both.
        let failed_id = cli_failed.keys().next().expect("a failed id").clone();
        compare_describe(&h, &instance, spec, &failed_id);
        let succeeded_id = cli_all
            .iter()
            .find(|(_, (s, _))| s == "SUCCEEDED")
            .map(|(k, _)| k.clone())
            .expect("a succeeded id");
        compare_describe(&h, &instance, spec, &succeeded_id);
    }
}

/// Names: `aws identitystore describe-user` / `describe-group` and `aws organizations
/// list-accounts` (through botocore's models for those services, on the same port) read the
/// names that `ssowatch describe` shows next to the ids.
#[test]
fn the_aws_cli_reads_the_names_ssowatch_shows() {
    if !aws_cli_or_skip() {
        return;
    }
    let h = start_emulator();
    let instances = h.aws(&["list-instances"]);
    let store = instances["Instances"][0]["IdentityStoreId"]
        .as_str()
        .expect("IdentityStoreId")
        .to_string();
    let accounts = h.aws_service("organizations", &["list-accounts"]);
    let account_names: BTreeMap<String, String> = accounts["Accounts"]
        .as_array()
        .expect("Accounts")
        .iter()
        .map(|a| {
            (
                a["Id"].as_str().unwrap_or_default().to_string(),
                a["Name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(account_names.len() > 20, "the CLI walked every page");

    let rows = h.ssowatch(&["list", "--kind", "creation", "--status", "failed"]);
    let mut seen_types = std::collections::BTreeSet::new();
    for row in rows.as_array().expect("rows").iter().take(12) {
        let id = row["request_id"].as_str().expect("request_id");
        let ours = h.ssowatch(&["describe", id, "--kind", "creation"]);
        let account = ours["target_account"].as_str().expect("target_account");
        assert_eq!(
            ours["account_name"].as_str(),
            account_names.get(account).map(String::as_str),
            "{id}: account name"
        );
        let principal = ours["principal_id"].as_str().expect("principal_id");
        let principal_type = ours["principal_type"].as_str().expect("principal_type");
        let (cli, field) = match principal_type {
            "USER" => (
                h.aws_service(
                    "identitystore",
                    &[
                        "describe-user",
                        "--identity-store-id",
                        &store,
                        "--user-id",
                        principal,
                    ],
                ),
                "UserName",
            ),
            _ => (
                h.aws_service(
                    "identitystore",
                    &[
                        "describe-group",
                        "--identity-store-id",
                        &store,
                        "--group-id",
                        principal,
                    ],
                ),
                "DisplayName",
            ),
        };
        let expected = cli[field].as_str().expect("a name");
        assert_eq!(
            ours["principal_name"].as_str(),
            Some(expected),
            "{id}: {principal_type} name"
        );
        seen_types.insert(principal_type.to_string());
    }
    assert_eq!(
        seen_types.len(),
        2,
        "both users and groups were compared: {seen_types:?}"
    );
    // ssowatch described each account by id (one call each), never walking the whole listing.
    assert!(h.served("DescribeAccount") >= 1);
}

/// What a retry needs of a finished request: its permission set, account and principal.
fn ids_of(h: &Harness, instance: &str, spec: &KindSpec, id: &str) -> Vec<String> {
    let d =
        &h.aws(&[spec.describe, "--instance-arn", instance, spec.id_flag, id])[spec.describe_field];
    let field = |name: &str| d[name].as_str().unwrap_or_default().to_string();
    match spec.kind {
        "provisioning" => vec![field("PermissionSetArn"), field("AccountId")],
        _ => vec![
            field("PermissionSetArn"),
            field("TargetId"),
            field("PrincipalType"),
            field("PrincipalId"),
        ],
    }
}

/// Starts, through the AWS CLI, `creations` assignments and `provisionings` provisionings with
/// the ids of finished history requests; returns what the CLI printed (one JSON document
/// each: the ids file `ssowatch wait --request-ids-from` reads) and the new ids.
fn start_requests(
    h: &Harness,
    instance: &str,
    creations: usize,
    provisionings: usize,
) -> (String, Vec<String>) {
    let mut printed = String::new();
    let mut ids = Vec::new();
    for (spec, n) in [(&KINDS[0], creations), (&KINDS[2], provisionings)] {
        let listed = h.aws(&[spec.list, "--instance-arn", instance]);
        let history: Vec<String> = listed[spec.list_field]
            .as_array()
            .expect("a listing")
            .iter()
            .filter_map(|r| r["RequestId"].as_str().map(str::to_string))
            .take(n)
            .collect();
        assert_eq!(history.len(), n, "enough history of {}", spec.kind);
        for old in history {
            let v = ids_of(h, instance, spec, &old);
            let mut args = vec![
                if spec.kind == "provisioning" {
                    "provision-permission-set"
                } else {
                    "create-account-assignment"
                },
                "--instance-arn",
                instance,
                "--permission-set-arn",
                &v[0],
                "--target-id",
                &v[1],
                "--target-type",
                "AWS_ACCOUNT",
            ];
            if v.len() == 4 {
                args.extend(["--principal-type", &v[2], "--principal-id", &v[3]]);
            }
            let answer = h.aws(&args);
            let status = answer
                .as_object()
                .and_then(|o| o.values().next())
                .expect("a status");
            assert_eq!(status["Status"], "IN_PROGRESS", "{answer}");
            ids.push(status["RequestId"].as_str().expect("RequestId").to_string());
            printed.push_str(&answer.to_string());
            printed.push('\n');
        }
    }
    (printed, ids)
}

/// `ssowatch wait --request-ids-from FILE` on what the CLI printed: its exit code.
fn wait_for(h: &Harness, printed: &str) -> Option<i32> {
    let file = h.home.path().join(format!("ids-{}.json", printed.len()));
    std::fs::write(&file, printed).expect("write ids");
    let (code, stdout, stderr) = h.ssowatch_raw(&[
        "wait",
        "--refresh",
        "1",
        "--timeout",
        "2m",
        "--request-ids-from",
        file.to_str().expect("utf-8 path"),
    ]);
    eprintln!("wait: {stdout}{stderr}");
    code
}

/// The issue's loop end to end, with the real AWS CLI: requests fail for a cause; `ssowatch
/// failures --cause policy_missing --output retry` writes a script; the cause is switched off;
/// the script runs under the AWS CLI (endpoint from the environment, not from the script);
/// `ssowatch wait` on the new ids exits 0. A cause a retry cannot fix leaves its requests out.
#[test]
fn a_retry_script_redoes_the_failed_requests_under_the_aws_cli() {
    if !aws_cli_or_skip() {
        return;
    }
    let h = start_emulator_with(&[
        "--history",
        "4",
        "--rate",
        "0",
        "--seed",
        "2025",
        "--failure-ratio",
        "0",
        "--time-scale",
        "20",
    ]);
    let instance = h.aws(&["list-instances"])["Instances"][0]["InstanceArn"]
        .as_str()
        .expect("InstanceArn")
        .to_string();

    h.set_faults(r#"{"fail_requests": "policy_missing"}"#);
    let (printed, failed_ids) = start_requests(&h, &instance, 3, 2);
    assert_eq!(wait_for(&h, &printed), Some(1), "they all fail");

    let (code, script, stderr) =
        h.ssowatch_raw(&["failures", "--cause", "policy_missing", "--output", "retry"]);
    assert_eq!(code, Some(0), "{stderr}");
    let commands: Vec<&str> = script.lines().filter(|l| l.starts_with("aws ")).collect();
    assert_eq!(commands.len(), 5, "{script}");
    for id in &failed_ids {
        assert!(
            script.contains(&format!(" {id}\n")),
            "{id} is redone: {script}"
        );
    }
    assert!(!script.contains(&h.url) && !script.contains("--endpoint-url"));
    assert!(!script.contains("AKIA") && !script.contains("interop/dummy"));

    let (code, ids, _) =
        h.ssowatch_raw(&["failures", "--cause", "policy_missing", "--output", "ids"]);
    assert_eq!(code, Some(0));
    let listed: Vec<&str> = ids.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(listed.len(), 5, "{ids}");

    // The operator fixes the cause, then runs the script as it is.
    h.set_faults("{}");
    let path = h.home.path().join("retry.sh");
    std::fs::write(&path, &script).expect("write the script");
    let mut sh = Command::new("sh");
    h.env(&mut sh);
    sh.arg(&path).env("AWS_ENDPOINT_URL", &h.url);
    let (ok, redone, stderr) = finish(sh);
    assert!(ok, "the script runs: {stderr}");
    let new_ids: Vec<String> = serde_json::Deserializer::from_str(&redone)
        .into_iter::<serde_json::Value>()
        .filter_map(|v| {
            let v = v.ok()?;
            let status = v.as_object()?.values().next()?.clone();
            status["RequestId"].as_str().map(str::to_string)
        })
        .collect();
    assert_eq!(new_ids.len(), 5, "{redone}");
    assert!(new_ids.iter().all(|id| !failed_ids.contains(id)));
    assert_eq!(wait_for(&h, &redone), Some(0), "the retries succeed");

    // A cause a retry cannot fix: its requests are not in the script.
    h.set_faults(r#"{"fail_requests": "principal_missing"}"#);
    let (printed, gone) = start_requests(&h, &instance, 2, 0);
    assert_eq!(wait_for(&h, &printed), Some(1));
    let (code, script, stderr) = h.ssowatch_raw(&[
        "failures",
        "--cause",
        "principal_missing",
        "--output",
        "retry",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!script.lines().any(|l| l.starts_with("aws ")), "{script}");
    assert!(script.contains("# left out, a retry cannot fix them: the user or group is gone"));
    for id in &gone {
        assert!(script.contains(&format!("#   creation {id}")), "{script}");
    }
    let (code, plan, _) = h.ssowatch_raw(&[
        "failures",
        "--cause",
        "principal_missing",
        "--output",
        "plan",
    ]);
    assert_eq!(code, Some(0));
    let plan: serde_json::Value = serde_json::from_str(&plan).expect("plan JSON");
    assert_eq!(plan["retry"].as_array().map(Vec::len), Some(0));
    assert_eq!(plan["left_out"].as_array().map(Vec::len), Some(2));

    let (code, _, stderr) = h.ssowatch_raw(&["failures", "--cause", "policy", "--output", "ids"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("policy_missing, management_account"),
        "{stderr}"
    );
}
