#!/usr/bin/env python3
"""Interop test: the hand-off of `ssowatch failures` replayed with the official Huawei Cloud
Python SDK against `ssowatch emulate` (tests/interop/huawei_sdk_interop.rs runs it).

`huawei_replay.py --bin target/debug/ssowatch`:

1. starts `ssowatch emulate` (a quiet organization whose history all succeeded, fast clock);
2. takes the ids of finished requests with the SDK, switches the emulator's `fail_requests`
   to `policy_missing`, and starts two assignments and two provisionings with the SDK's
   CreateAccountAssignment and ProvisionPermissionSet: `ssowatch wait` on them exits 1;
3. `ssowatch failures --provider huawei --cause policy_missing --output plan` gives the JSON
   plan; `--output retry` the KooCLI script, whose operations and parameters must be the SDK's
   request models' (operation `X` is `XRequest`, each `--name=` an attribute of `XRequest` or
   of its body `XReqBody`);
4. switches the cause off, replays every step of the plan with the SDK, and `ssowatch wait`
   on the new request ids exits 0.

Prints `huawei replay: OK` and exits 0 on success; exits 1 with the reasons otherwise.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import threading
import urllib.request

from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkidentitycenter import v1 as sdk

# The emulator's documented default keys and demo domain id (crate::emulator).
AK = "SSOWATCHEMULATORAK01"
SK = "ssowatchEmulatorSecretKey0123456789abcdef"
DOMAIN_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def start_emulator(binary):
    proc = subprocess.Popen(
        [binary, "emulate", "--port", "0", "--seed", "12", "--history", "4", "--rate", "0",
         "--failure-ratio", "0", "--time-scale", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    result = {}
    reader = threading.Thread(target=lambda: result.update(line=proc.stdout.readline()),
                              daemon=True)
    reader.start()
    reader.join(60)
    line = (result.get("line") or "").strip()
    if not line.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"emulator did not print its base URL (got {line!r})")
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, line


def set_faults(endpoint, body):
    req = urllib.request.Request(f"{endpoint}/_emulator/faults", data=json.dumps(body).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        check(resp.status == 200, f"faults {body}: HTTP {resp.status}")


def client_for(endpoint):
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.retry_times = 0
    return (sdk.IdentityCenterClient.new_builder()
            .with_http_config(config)
            .with_credentials(GlobalCredentials(AK, SK, DOMAIN_ID))
            .with_endpoints([endpoint])
            .build())


def ssowatch(binary, endpoint, args):
    env = dict(os.environ)
    env.update({
        "HUAWEICLOUD_SDK_AK": AK,
        "HUAWEICLOUD_SDK_SK": SK,
        "HUAWEICLOUD_SDK_DOMAIN_ID": DOMAIN_ID,
        "HUAWEICLOUD_SDK_CREDENTIALS_FILE": os.devnull,
        "NO_COLOR": "1",
    })
    return subprocess.run(
        [binary, *args, "--provider", "huawei", "--endpoint-url", endpoint, "--refresh", "1"],
        env=env, capture_output=True, text=True, timeout=180,
    )


def wait(binary, endpoint, ids):
    args = ["wait", "--timeout", "2m"]
    for i in ids:
        args += ["--request-id", i]
    return ssowatch(binary, endpoint, args).returncode


def start(client, instance, kind, ids):
    """Starts one request with the SDK; returns its new request id and status."""
    if kind == "provisioning":
        resp = client.provision_permission_set(sdk.ProvisionPermissionSetRequest(
            instance_id=instance, permission_set_id=ids["permission_set_id"],
            body=sdk.ProvisionPermissionSetReqBody(target_id=ids["target_id"],
                                                   target_type="ACCOUNT")))
        status = resp.permission_set_provisioning_status
    elif kind == "creation":
        resp = client.create_account_assignment(sdk.CreateAccountAssignmentRequest(
            instance_id=instance, body=sdk.CreateAccountAssignmentReqBody(
                permission_set_id=ids["permission_set_id"], principal_id=ids["principal_id"],
                principal_type=ids["principal_type"], target_id=ids["target_id"],
                target_type="ACCOUNT")))
        status = resp.account_assignment_creation_status
    else:
        resp = client.delete_account_assignment(sdk.DeleteAccountAssignmentRequest(
            instance_id=instance, body=sdk.DeleteAccountAssignmentReqBody(
                permission_set_id=ids["permission_set_id"], principal_id=ids["principal_id"],
                principal_type=ids["principal_type"], target_id=ids["target_id"],
                target_type="ACCOUNT")))
        status = resp.account_assignment_deletion_status
    return status.request_id, status.status


def check_koocli(script):
    """Every `hcloud IdentityCenter OP --name=value` names an SDK request model and its
    attributes; every attribute the model requires is given."""
    commands = [shlex.split(line) for line in script.splitlines()
                if line.startswith("hcloud ")]
    check(len(commands) > 0, "the KooCLI script has commands")
    for words in commands:
        check(words[:2] == ["hcloud", "IdentityCenter"], f"service: {words[:2]}")
        op = words[2]
        request = getattr(sdk, f"{op}Request", None)
        body = getattr(sdk, f"{op}ReqBody", None)
        check(request is not None, f"{op}: no {op}Request in the SDK")
        if request is None:
            continue
        client_method = "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_")
        check(hasattr(sdk.IdentityCenterClient, client_method), f"{op}: no client.{client_method}")
        known = set(request.openapi_types) - {"body", "x_security_token"}
        if body is not None:
            known |= set(body.openapi_types)
        given = {}
        for w in words[3:]:
            check(w.startswith("--") and "=" in w, f"{op}: parameter {w!r} is not --name=value")
            name, _, value = w[2:].partition("=")
            given[name] = value
        check(set(given) <= known, f"{op}: unknown parameters {sorted(set(given) - known)}")
        check(known <= set(given), f"{op}: missing parameters {sorted(known - set(given))}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    proc, endpoint = start_emulator(args.bin)
    try:
        client = client_for(endpoint)
        instance = client.list_instances(sdk.ListInstancesRequest()).instances[0].instance_id
        old = []
        for kind, list_req, list_field, describe in [
            ("creation", sdk.ListAccountAssignmentCreationStatusRequest,
             "account_assignments_creation_status",
             lambda rid: client.describe_account_assignment_creation_status(
                 sdk.DescribeAccountAssignmentCreationStatusRequest(
                     instance_id=instance, request_id=rid)).account_assignment_creation_status),
            ("provisioning", sdk.ListPermissionSetProvisioningStatusRequest,
             "permission_sets_provisioning_status",
             lambda rid: client.describe_permission_set_provisioning_status(
                 sdk.DescribePermissionSetProvisioningStatusRequest(
                     instance_id=instance, request_id=rid)).permission_set_provisioning_status),
        ]:
            method = {"creation": client.list_account_assignment_creation_status,
                      "provisioning": client.list_permission_set_provisioning_status}[kind]
            items = getattr(method(list_req(instance_id=instance)), list_field)[:2]
            for it in items:
                d = describe(it.request_id)
                ids = {"permission_set_id": d.permission_set_id,
                       "target_id": getattr(d, "target_id", None) or getattr(d, "account_id")}
                if kind == "creation":
                    ids.update(principal_id=d.principal_id, principal_type=d.principal_type)
                old.append((kind, ids))
        check(len(old) == 4, f"two of each kind to start from: {len(old)}")

        set_faults(endpoint, {"fail_requests": "policy_missing"})
        failed = []
        for kind, ids in old:
            rid, status = start(client, instance, kind, ids)
            check(status == "IN_PROGRESS", f"{kind} starts IN_PROGRESS: {status}")
            failed.append(rid)
        check(wait(args.bin, endpoint, failed) == 1, "wait on the failing requests exits 1")

        out = ssowatch(args.bin, endpoint,
                       ["failures", "--cause", "policy_missing", "--output", "plan"])
        check(out.returncode == 0, f"failures --output plan: {out.stderr.strip()}")
        plan = json.loads(out.stdout or "{}")
        steps = plan.get("retry", [])
        check(plan.get("cloud") == "huawei", f"plan cloud: {plan.get('cloud')}")
        check(sorted(s["request_id"] for s in steps) == sorted(failed),
              f"the plan redoes exactly the failed: {steps}")
        script = ssowatch(args.bin, endpoint,
                          ["failures", "--cause", "policy_missing", "--output", "retry"])
        check(script.returncode == 0, f"failures --output retry: {script.stderr.strip()}")
        check_koocli(script.stdout)
        check(endpoint not in script.stdout and AK not in script.stdout,
              "no endpoint or key in the script")

        # The cause is fixed; the pipeline replays the plan its own way, with the SDK.
        set_faults(endpoint, {})
        redone = []
        for s in steps:
            kind = s["kind"]
            ids = {"permission_set_id": s["permission_set"], "target_id": s["target"],
                   "principal_id": s.get("principal_id"), "principal_type": s.get("principal_type")}
            check(s["instance"] == instance, f"plan instance {s['instance']}")
            rid, status = start(client, s["instance"], kind, ids)
            check(status == "IN_PROGRESS", f"replayed {kind} starts IN_PROGRESS: {status}")
            redone.append(rid)
        check(len(redone) == 4 and not set(redone) & set(failed), f"new requests: {redone}")
        check(wait(args.bin, endpoint, redone) == 0, "wait on the replayed requests exits 0")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    if failures:
        print(f"huawei replay: {len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("huawei replay: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
