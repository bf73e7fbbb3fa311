//! Interop with the official Huawei Cloud Python SDK (`huaweicloudsdkidentitycenter`): the SDK,
//! with its own signer and HTTP stack, lists (paging, status filters) and describes against
//! the emulator's Huawei protocol served in-process on loopback, and what it parsed must equal
//! what ssowatch's Huawei provider lists and describes from the same server.
//!
//! Needs `python3 -m pip install huaweicloudsdkidentitycenter`. Without it the test is skipped
//! locally but FAILS when `CI=true`, so CI cannot pass without running it.

use crate::support::huawei as huawei_support;
use crate::support::required_tool;

use std::collections::BTreeSet;
use std::process::Stdio;

use huawei_support::{AK, INSTANCE, SK, provider, serve};
use ssowatch::model::{OperationKind, Status};
use ssowatch::provider::{Provider, list_all};

const DOMAIN_ID: &str = "0123456789abcdef";

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// The SDK modules the listing and describe checks import.
const SDK_MODULES: &str = "huaweicloudsdkidentitycenter.v1, huaweicloudsdkcore";
/// And the names checks (identity store, Organizations).
const NAME_SDK_MODULES: &str = "huaweicloudsdkidentitycenter.v1, huaweicloudsdkcore, \
    huaweicloudsdkidentitycenterstore.v1, huaweicloudsdkorganizations.v1";

/// Whether python3 with `modules` is importable; the reason when not.
async fn sdk_available(modules: &str) -> Result<(), String> {
    let out = tokio::process::Command::new(python())
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}", python()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// True when the SDK (`modules`) can be used. Without it: a skip locally, a failure under
/// `CI=true`.
async fn require_sdk(modules: &str) -> bool {
    let Err(why) = sdk_available(modules).await else {
        return true;
    };
    let msg = format!(
        "huawei SDK interop needs python3 with {modules} \
         (python3 -m pip install -r tests/interop/huawei-requirements.txt): {why}"
    );
    required_tool::missing(
        &msg,
        "python3 -m pip install -r tests/interop/requirements.txt",
    );
    false
}

/// Runs `tests/interop/SCRIPT --bin <ssowatch>` to completion (bounded), asserts it succeeded,
/// and returns its stdout.
async fn run_with_binary(script: &str) -> String {
    run_script(script, &["--bin", env!("CARGO_BIN_EXE_ssowatch")]).await
}

/// Runs `tests/interop/SCRIPT ARGS` to completion (bounded), asserts it succeeded, and returns
/// its stdout.
async fn run_script(script: &str, args: &[&str]) -> String {
    let path = format!("{}/tests/interop/{script}", env!("CARGO_MANIFEST_DIR"));
    let run = tokio::process::Command::new(python())
        .arg(path)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(300), run)
        .await
        .expect("the SDK script finished within 5 minutes")
        .expect("the SDK script ran");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    stdout
}

fn kind_of(short: &str) -> OperationKind {
    OperationKind::from_short(short).unwrap_or_else(|| panic!("unknown kind {short}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_parses_what_ssowatch_lists() {
    if !require_sdk(SDK_MODULES).await {
        return;
    }

    let server = serve().await;
    let stdout = run_script(
        "huawei_sdk.py",
        &[
            "--endpoint",
            &server.url,
            "--ak",
            AK,
            "--sk",
            SK,
            "--domain-id",
            DOMAIN_ID,
        ],
    )
    .await;
    let parsed: serde_json::Value = serde_json::from_str(&stdout).expect("the script prints JSON");
    assert_eq!(parsed["instance_id"], INSTANCE);

    // Every record the SDK parsed, as (kind, id, status, created ms).
    let sdk: BTreeSet<(String, String, String, i64)> = parsed["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or_default().to_string(),
                r[1].as_str().unwrap_or_default().to_string(),
                r[2].as_str().unwrap_or_default().to_string(),
                r[3].as_i64().unwrap_or_default(),
            )
        })
        .collect();

    let p = provider(&server.url, SK);
    let mut ours = BTreeSet::new();
    for kind in OperationKind::ALL {
        for s in list_all(&p, INSTANCE, kind, None, |_| {})
            .await
            .expect("ssowatch lists")
        {
            ours.insert((
                kind.short().to_string(),
                s.request_id,
                s.status.as_wire().to_string(),
                s.created.timestamp_millis(),
            ));
        }
    }
    assert_eq!(sdk.len(), ours.len());
    assert_eq!(sdk, ours, "the SDK and ssowatch list the same records");

    // The describes the SDK made, compared field by field with ssowatch's.
    let describes = parsed["describes"].as_array().expect("describes");
    assert!(describes.len() >= 9, "{} describes", describes.len());
    for d in describes {
        let kind = kind_of(d["kind"].as_str().unwrap_or_default());
        let id = d["request_id"].as_str().unwrap_or_default();
        let ours = p
            .describe(INSTANCE, kind, id)
            .await
            .expect("ssowatch describes");
        assert_eq!(
            ours.summary.status,
            Status::from_wire(d["status"].as_str().unwrap_or_default())
        );
        assert_eq!(
            Some(ours.summary.created.timestamp_millis()),
            d["created_ms"].as_i64()
        );
        assert_eq!(
            ours.detail.target_account.as_deref(),
            d["account"].as_str(),
            "{id}"
        );
        assert_eq!(
            ours.detail.permission_set.as_deref(),
            d["permission_set"].as_str(),
            "{id}"
        );
        assert_eq!(
            ours.detail.principal_type.as_deref(),
            d["principal_type"].as_str(),
            "{id}"
        );
        assert_eq!(
            ours.detail.principal_id.as_deref(),
            d["principal_id"].as_str(),
            "{id}"
        );
        // ssowatch strips escape sequences the raw SDK keeps; compare after the same cleaning.
        let sdk_reason = d["failure_reason"]
            .as_str()
            .map(ssowatch::sanitize::clean_text);
        assert_eq!(ours.detail.failure_reason, sdk_reason, "{id}");
    }
}

/// The same SDK checks against the real binary: `ssowatch emulate --port 0` with its
/// documented default keys, and the SDK's records compared with what
/// `ssowatch list --provider huawei --endpoint-url URL --output json` prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_agrees_with_ssowatch_list_on_ssowatch_emulate() {
    if !require_sdk(SDK_MODULES).await {
        return;
    }
    let stdout = run_with_binary("huawei_sdk.py").await;
    assert!(stdout.contains("huawei SDK interop: OK"), "{stdout}");
}

/// Names: the official identity-store and Organizations SDKs read, from `ssowatch emulate`, the
/// same user, group and account names that `ssowatch describe --provider huawei` prints next
/// to the ids (tests/interop/huawei_names.py).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdks_read_the_names_ssowatch_describe_shows() {
    if !require_sdk(NAME_SDK_MODULES).await {
        return;
    }
    let stdout = run_with_binary("huawei_names.py").await;
    assert!(stdout.contains("huawei names interop: OK"), "{stdout}");
}

/// The hand-off on Huawei Cloud: requests fail for a cause on `ssowatch emulate`, `ssowatch
/// failures --output plan` plans their retry, the cause is switched off, the official SDK
/// replays the plan (CreateAccountAssignment, ProvisionPermissionSet) and `ssowatch wait` on
/// the new ids exits 0; the KooCLI script of the same failures names the SDK's operations and
/// parameters (tests/interop/huawei_replay.py).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_replays_the_failures_plan_and_wait_sees_it_done() {
    if !require_sdk(SDK_MODULES).await {
        return;
    }
    let stdout = run_with_binary("huawei_replay.py").await;
    assert!(stdout.contains("huawei replay: OK"), "{stdout}");
}

/// Every KooCLI command the retry script writes, for each kind, names an operation of the
/// SDK (`XRequest`, `client.x`) and exactly the attributes of its request model and body
/// (`XRequest`, `XReqBody`), checked by the SDK's own classes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn koocli_commands_name_the_sdks_request_models() {
    use ssowatch::failures::Cause;
    use ssowatch::handoff::{Cloud, FailedDetail, retry_script};
    use ssowatch::model::RequestDetail;
    if !require_sdk(SDK_MODULES).await {
        return;
    }
    let requests: Vec<FailedDetail> = OperationKind::ALL
        .into_iter()
        .map(|kind| FailedDetail {
            kind,
            request_id: format!("req-{}", kind.short()),
            cause: Cause::InternalError,
            detail: RequestDetail {
                failure_reason: Some("internal error".into()),
                target_account: Some("0a1b2c3d4e5f".into()),
                permission_set: Some("ps-0123456789abcdef".into()),
                principal_type: Some("USER".into()),
                principal_id: Some("5f0e9c1a-user".into()),
                ..RequestDetail::default()
            },
        })
        .collect();
    let script = retry_script(Cloud::Huawei, INSTANCE, &requests);
    assert_eq!(
        script.lines().filter(|l| l.starts_with("hcloud ")).count(),
        3,
        "{script}"
    );
    let dir = format!("{}/tests/interop", env!("CARGO_MANIFEST_DIR"));
    let snippet = format!(
        "import sys; sys.path.insert(0, {dir:?}); import huawei_replay as h; \
         h.check_koocli(sys.stdin.read()); sys.exit(1 if h.failures else 0)"
    );
    let mut child = tokio::process::Command::new(python())
        .args(["-c", &snippet])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python runs");
    if let Some(mut stdin) = child.stdin.take() {
        use tokio::io::AsyncWriteExt;
        stdin.write_all(script.as_bytes()).await.expect("write");
    }
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        child.wait_with_output(),
    )
    .await
    .expect("the check finished")
    .expect("the check ran");
    assert!(
        out.status.success(),
        "KooCLI names differ from the SDK's:\n{}\n{script}",
        String::from_utf8_lossy(&out.stderr)
    );
}
