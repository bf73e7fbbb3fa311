//! Interop with the official AWS CLI (from PyPI, `pip install -r tests/interop/requirements.txt`):
//! the CLI pages through `ssowatch emulate`, filters and describes, and what it parses must
//! equal what `ssowatch list` / `ssowatch describe` print against the same emulator.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ssowatch");

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Env {
    url: String,
    home: tempfile::TempDir,
}

impl Env {
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        let h = self.home.path();
        std::fs::write(h.join("aws-config"), "").expect("config");
        std::fs::write(h.join("aws-credentials"), "").expect("credentials");
        c.env("HOME", h)
            .env("XDG_CONFIG_HOME", h.join("config"))
            .env("XDG_CACHE_HOME", h.join("cache"))
            .env("XDG_STATE_HOME", h.join("state"))
            .env("AWS_CONFIG_FILE", h.join("aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", h.join("aws-credentials"))
            .env("AWS_ACCESS_KEY_ID", "AKIAINTEROPTEST00000")
            .env("AWS_SECRET_ACCESS_KEY", "interop-secret")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null());
        c
    }

    fn aws(&self, args: &[&str]) -> serde_json::Value {
        let out = self
            .command("aws")
            .arg("sso-admin")
            .args(args)
            .args(["--endpoint-url", &self.url, "--output", "json"])
            .output()
            .expect("run aws");
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("aws json")
    }

    fn ssowatch(&self, args: &[&str]) -> serde_json::Value {
        let out = self
            .command(BIN)
            .args(args)
            .args([
                "--endpoint-url",
                &self.url,
                "--region",
                "us-east-1",
                "--output",
                "json",
            ])
            .output()
            .expect("run ssowatch");
        assert!(
            out.status.success(),
            "ssowatch {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("ssowatch json")
    }

    fn stats(&self, operation: &str) -> u64 {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        write!(
            stream,
            "GET /_emulator/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("{}");
        let value: serde_json::Value = serde_json::from_str(body).expect("stats json");
        value["by_operation"][operation].as_u64().unwrap_or(0)
    }
}

/// (status, created in epoch milliseconds) per request id.
type Listing = BTreeMap<String, (String, i64)>;

fn from_cli(items: &serde_json::Value) -> Listing {
    items
        .as_array()
        .expect("list")
        .iter()
        .map(|i| {
            // AWS CLI v1 prints the wire's epoch seconds as they came; v2 (and v1 with
            // cli_timestamp_format = iso8601) prints ISO 8601.
            let created = match &i["CreatedDate"] {
                serde_json::Value::Number(n) => {
                    (n.as_f64().expect("seconds") * 1000.0).round() as i64
                }
                v => chrono::DateTime::parse_from_rfc3339(v.as_str().expect("date"))
                    .expect("iso date")
                    .timestamp_millis(),
            };
            (
                i["RequestId"].as_str().expect("id").to_string(),
                (i["Status"].as_str().expect("status").to_string(), created),
            )
        })
        .collect()
}

fn from_ssowatch(rows: &serde_json::Value) -> Listing {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let created =
                chrono::DateTime::parse_from_rfc3339(r["created"].as_str().expect("date"))
                    .expect("date");
            (
                r["request_id"].as_str().expect("id").to_string(),
                (
                    r["status"].as_str().expect("status").to_string(),
                    created.timestamp_millis(),
                ),
            )
        })
        .collect()
}

#[test]
fn the_aws_cli_and_ssowatch_see_the_same_requests() {
    let version = Command::new("aws").arg("--version").output();
    if !version.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "the AWS CLI is required in CI (pip install -r tests/interop/requirements.txt)"
        );
        eprintln!("skipping: the AWS CLI is not installed");
        return;
    }
    let mut child = Command::new(BIN)
        .args([
            "emulate",
            "--port",
            "0",
            "--history",
            "250",
            "--rate",
            "0",
            "--seed",
            "11",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn emulator");
    let stdout = child.stdout.take().expect("stdout");
    let _guard = Kill(child);
    let mut url = String::new();
    BufReader::new(stdout)
        .read_line(&mut url)
        .expect("url line");
    let env = Env {
        url: url.trim().to_string(),
        home: tempfile::tempdir().expect("tempdir"),
    };

    let instances = env.aws(&["list-instances"]);
    let instance = instances["Instances"][0]["InstanceArn"]
        .as_str()
        .expect("instance arn")
        .to_string();

    let kinds = [
        (
            "creation",
            "list-account-assignment-creation-status",
            "AccountAssignmentsCreationStatus",
            "ListAccountAssignmentCreationStatus",
        ),
        (
            "deletion",
            "list-account-assignment-deletion-status",
            "AccountAssignmentsDeletionStatus",
            "ListAccountAssignmentDeletionStatus",
        ),
        (
            "provisioning",
            "list-permission-set-provisioning-status",
            "PermissionSetsProvisioningStatus",
            "ListPermissionSetProvisioningStatus",
        ),
    ];
    for (kind, command, field, operation) in kinds {
        let before = env.stats(operation);
        let all =
            from_cli(&env.aws(&[command, "--instance-arn", &instance, "--page-size", "40"])[field]);
        let pages = env.stats(operation) - before;
        assert!(
            pages >= 7,
            "{kind}: the CLI should have walked 7 pages of 40, walked {pages}"
        );
        assert_eq!(all.len(), 250, "{kind}");
        let ours = from_ssowatch(&env.ssowatch(&["list", "--kind", kind]));
        assert_eq!(all, ours, "{kind}: the CLI and ssowatch disagree");

        let failed = from_cli(
            &env.aws(&[
                command,
                "--instance-arn",
                &instance,
                "--page-size",
                "40",
                "--filter",
                "Status=FAILED",
            ])[field],
        );
        assert!(!failed.is_empty(), "{kind}: the scenario has failures");
        assert!(failed.values().all(|(s, _)| s == "FAILED"));
        let ours = from_ssowatch(&env.ssowatch(&["list", "--kind", kind, "--status", "failed"]));
        assert_eq!(failed, ours, "{kind} FAILED: the CLI and ssowatch disagree");

        // Describe one failed request of this kind with both.
        let id = failed.keys().next().expect("a failed id").clone();
        let (describe, id_flag, object) = match kind {
            "creation" => (
                "describe-account-assignment-creation-status",
                "--account-assignment-creation-request-id",
                "AccountAssignmentCreationStatus",
            ),
            "deletion" => (
                "describe-account-assignment-deletion-status",
                "--account-assignment-deletion-request-id",
                "AccountAssignmentDeletionStatus",
            ),
            _ => (
                "describe-permission-set-provisioning-status",
                "--provision-permission-set-request-id",
                "PermissionSetProvisioningStatus",
            ),
        };
        let cli = &env.aws(&[describe, "--instance-arn", &instance, id_flag, &id])[object];
        let ours = env.ssowatch(&["describe", &id, "--kind", kind]);
        assert_eq!(cli["Status"], ours["status"], "{kind} status");
        assert_eq!(cli["RequestId"], ours["request_id"]);
        assert_eq!(
            cli["FailureReason"], ours["failure_reason"],
            "{kind} reason"
        );
        assert_eq!(cli["PermissionSetArn"], ours["permission_set"]);
        if kind == "provisioning" {
            assert_eq!(cli["AccountId"], ours["target_account"]);
        } else {
            assert_eq!(cli["TargetId"], ours["target_account"]);
            assert_eq!(cli["TargetType"], ours["target_type"]);
            assert_eq!(cli["PrincipalType"], ours["principal_type"]);
            assert_eq!(cli["PrincipalId"], ours["principal_id"]);
        }
    }
}
