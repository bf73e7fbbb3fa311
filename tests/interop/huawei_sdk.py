#!/usr/bin/env python3
"""Interop test: the official Huawei Cloud Python SDK against `ssowatch emulate`.

Starts `ssowatch emulate --port 0` (a quiet organization: no live rollout, so every client
sees the same records), then, with the SDK's own signer and HTTP client:

* lists every kind with `limit`/`marker` paging (page size 37, so several pages), with and
  without a `status` filter, and checks paging gives every record exactly once;
* describes a sample of requests of every kind (FAILED ones included) and the permission set
  of one of them;
* checks that a request signed with a wrong secret key is refused with the gateway's 401 body.

It then runs `ssowatch list --provider huawei --endpoint-url URL --output json --kind all`
and checks that what ssowatch lists equals what the SDK parsed (request id, kind, status,
created time to the millisecond). Exit code 0 on success, 1 on any mismatch.

Two ways to run it:

* `huawei_sdk.py --bin target/debug/ssowatch`: as above, against `ssowatch emulate`, compared
  with `ssowatch list` (tests/interop/huawei_sdk.sh);
* `huawei_sdk.py --endpoint URL --ak AK --sk SK --domain-id ID`: against a server that is
  already running; prints what the SDK parsed as JSON on stdout for the caller to compare
  (tests/interop/huawei_sdk_interop.rs does that with ssowatch's Huawei provider in-process).
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading

from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.exceptions import exceptions as sdk_exceptions
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkidentitycenter.v1 import (
    DescribeAccountAssignmentCreationStatusRequest,
    DescribeAccountAssignmentDeletionStatusRequest,
    DescribePermissionSetProvisioningStatusRequest,
    DescribePermissionSetRequest,
    IdentityCenterClient,
    ListAccountAssignmentCreationStatusRequest,
    ListAccountAssignmentDeletionStatusRequest,
    ListInstancesRequest,
    ListPermissionSetProvisioningStatusRequest,
)

# The emulator's documented default keys (`ssowatch emulate --help`) and demo domain id.
# (crate::emulator::DEFAULT_HUAWEI_AK / DEFAULT_HUAWEI_SK / DEMO_HUAWEI_DOMAIN_ID)
DEFAULT_AK = "SSOWATCHEMULATORAK01"
DEFAULT_SK = "ssowatchEmulatorSecretKey0123456789abcdef"
DOMAIN_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

HISTORY = 120  # finished records of each kind; page size 37 gives 4 pages per kind
PAGE = 37

KINDS = {
    # kind: (list request, list field, describe request, describe field)
    "creation": (
        ListAccountAssignmentCreationStatusRequest,
        "account_assignments_creation_status",
        DescribeAccountAssignmentCreationStatusRequest,
        "account_assignment_creation_status",
    ),
    "deletion": (
        ListAccountAssignmentDeletionStatusRequest,
        "account_assignments_deletion_status",
        DescribeAccountAssignmentDeletionStatusRequest,
        "account_assignment_deletion_status",
    ),
    "provisioning": (
        ListPermissionSetProvisioningStatusRequest,
        "permission_sets_provisioning_status",
        DescribePermissionSetProvisioningStatusRequest,
        "permission_set_provisioning_status",
    ),
}

failures = []
AK, SK = DEFAULT_AK, DEFAULT_SK


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def start_emulator(binary):
    proc = subprocess.Popen(
        [binary, "emulate", "--port", "0", "--seed", "11", "--history", str(HISTORY),
         "--rate", "0"],  # no --huawei-ak/--huawei-sk: the documented defaults are tested
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    result = {}

    def read_first_line():
        result["line"] = proc.stdout.readline()

    reader = threading.Thread(target=read_first_line, daemon=True)
    reader.start()
    reader.join(60)
    line = (result.get("line") or "").strip()
    if not line.startswith("http://127.0.0.1:"):
        proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
        raise SystemExit(f"emulator did not print its base URL (got {line!r}); stderr: {err}")
    # Drain stdout so the emulator never blocks on a full pipe.
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, line


def stop_emulator(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def client_for(endpoint, sk=None):
    sk = SK if sk is None else sk
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.retry_times = 0
    credentials = GlobalCredentials(AK, sk, DOMAIN_ID)
    # `with_endpoints` takes a full URL; the builder keeps an explicit http:// scheme (it only
    # adds https:// to bare host names), so no region table or TLS is involved.
    return (IdentityCenterClient.new_builder()
            .with_http_config(config)
            .with_credentials(credentials)
            .with_endpoints([endpoint])
            .build())


def created_ms(value):
    """created_date is epoch ms (int) in lists; a string in the provisioning detail."""
    if isinstance(value, (int, float)):
        return int(value)
    s = str(value).strip()
    if s.isdigit():
        return int(s)
    return int(dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)


def list_all(client, instance_id, kind, status=None):
    req_type, field, _, _ = KINDS[kind]
    marker = None
    records = []
    pages = 0
    while True:
        req = req_type(instance_id=instance_id, limit=PAGE)
        if status:
            req.status = status
        if marker:
            req.marker = marker
        resp = client.__getattribute__(
            {"creation": "list_account_assignment_creation_status",
             "deletion": "list_account_assignment_deletion_status",
             "provisioning": "list_permission_set_provisioning_status"}[kind])(req)
        items = getattr(resp, field) or []
        pages += 1
        check(len(items) <= PAGE, f"{kind}: page larger than the limit ({len(items)})")
        check(resp.page_info is not None and resp.page_info.current_count == len(items),
              f"{kind}: page_info.current_count does not match the page")
        for it in items:
            records.append((kind, it.request_id, it.status, created_ms(it.created_date)))
        marker = resp.page_info.next_marker if resp.page_info else None
        if not marker:
            break
        check(len(marker) == 24, f"{kind}: marker is not 24 chars: {marker!r}")
        if pages > 1000:
            raise SystemExit(f"{kind}: paging does not end")
    return records, pages


def describe(client, instance_id, kind, request_id):
    _, _, req_type, field = KINDS[kind]
    method = {"creation": "describe_account_assignment_creation_status",
              "deletion": "describe_account_assignment_deletion_status",
              "provisioning": "describe_permission_set_provisioning_status"}[kind]
    resp = getattr(client, method)(req_type(instance_id=instance_id, request_id=request_id))
    return getattr(resp, field)


def ssowatch_list(binary, endpoint):
    env = dict(os.environ)
    env.update({
        "HUAWEICLOUD_SDK_AK": AK,
        "HUAWEICLOUD_SDK_SK": SK,
        "HUAWEICLOUD_SDK_DOMAIN_ID": DOMAIN_ID,
        # No stray ~/.huaweicloud/credentials or config file may change what is used.
        "HUAWEICLOUD_SDK_CREDENTIALS_FILE": os.devnull,
        "NO_COLOR": "1",
    })
    out = subprocess.run(
        [binary, "list", "--provider", "huawei", "--endpoint-url", endpoint,
         "--output", "json", "--kind", "all"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    if out.returncode != 0:
        raise SystemExit(f"ssowatch list failed ({out.returncode}): {out.stderr.strip()}")
    data = json.loads(out.stdout)
    if isinstance(data, dict):
        for key in ("records", "items", "requests"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    records = set()
    for r in data:
        summary = r.get("summary", r)
        created = summary.get("created") or summary.get("created_date") or summary.get("created_at")
        if isinstance(created, str) and not created.strip().isdigit():
            created = int(dt.datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp() * 1000)
        else:
            created = created_ms(created)
        records.add((summary.get("kind"), summary.get("request_id"), summary.get("status"), created))
    return records


def sdk_checks(endpoint):
    """Everything the SDK checks on its own; returns (records, describes) as it parsed them."""
    client = client_for(endpoint)
    instances = client.list_instances(ListInstancesRequest(limit=100)).instances
    check(len(instances) == 1, f"expected 1 instance, got {len(instances)}")
    instance_id = instances[0].instance_id

    sdk_records = set()
    describes = []
    for kind in KINDS:
        records, pages = list_all(client, instance_id, kind)
        ids = [r[1] for r in records]
        check(len(ids) == len(set(ids)), f"{kind}: a record appeared twice across pages")
        check(len(ids) >= HISTORY, f"{kind}: {len(ids)} records, expected at least {HISTORY}")
        check(pages >= 2, f"{kind}: expected several pages, got {pages}")
        sdk_records.update(records)
        by_status = {}
        for status in ("IN_PROGRESS", "SUCCEEDED", "FAILED"):
            filtered, _ = list_all(client, instance_id, kind, status)
            check(all(r[2] == status for r in filtered), f"{kind}: status filter {status} leaked")
            by_status[status] = {r[1] for r in filtered}
        union = set().union(*by_status.values())
        check(union == set(ids), f"{kind}: the status filters do not partition the list")

        sample = [r for r in records if r[2] == "FAILED"][:3] + records[:3]
        for (_, rid, status, created) in sample:
            d = describe(client, instance_id, kind, rid)
            check(d.request_id == rid, f"{kind}: describe returned another id")
            check(d.status == status, f"{kind}: describe status {d.status} != list {status}")
            check(created_ms(d.created_date) == created,
                  f"{kind}: describe created {d.created_date} != list {created}")
            check(d.permission_set_id, f"{kind}: describe without permission_set_id")
            if status == "FAILED":
                check(d.failure_reason, f"{kind}: FAILED {rid} without failure_reason")
            if kind == "provisioning":
                check(d.account_id, f"{kind}: no account_id")
                account, ptype, pid = d.account_id, None, None
            else:
                check(d.principal_type in ("USER", "GROUP"), f"{kind}: principal_type {d.principal_type}")
                check(d.target_type == "ACCOUNT", f"{kind}: target_type {d.target_type}")
                account, ptype, pid = d.target_id, d.principal_type, d.principal_id
            describes.append({
                "kind": kind, "request_id": rid, "status": d.status,
                "created_ms": created_ms(d.created_date), "failure_reason": d.failure_reason,
                "account": account, "permission_set": d.permission_set_id,
                "principal_type": ptype, "principal_id": pid,
            })
            if kind == "creation" and rid == sample[0][1]:
                ps = client.describe_permission_set(DescribePermissionSetRequest(
                    instance_id=instance_id, permission_set_id=d.permission_set_id)).permission_set
                check(ps is not None and ps.name, "describe_permission_set without a name")

    # A wrong secret key: the gateway's 401.
    try:
        client_for(endpoint, sk=SK + "x").list_instances(ListInstancesRequest())
        check(False, "a wrong SK was accepted")
    except sdk_exceptions.ClientRequestException as e:
        check(e.status_code == 401, f"wrong SK: HTTP {e.status_code}")
        check(str(e.error_code).startswith("APIG"), f"wrong SK: error_code {e.error_code}")
        check(bool(e.request_id), "wrong SK: no request id")

    # A marker this server never issued: 400.
    try:
        client.list_account_assignment_creation_status(ListAccountAssignmentCreationStatusRequest(
            instance_id=instance_id, marker="A" * 24))
        check(False, "an unknown marker was accepted")
    except sdk_exceptions.ClientRequestException as e:
        check(e.status_code == 400, f"unknown marker: HTTP {e.status_code}")
    return instance_id, sdk_records, describes


def main():
    global AK, SK, DOMAIN_ID
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", help="ssowatch binary: start `ssowatch emulate` and compare with `ssowatch list`")
    ap.add_argument("--endpoint", help="an already running server: print what the SDK parsed as JSON")
    ap.add_argument("--ak", default=DEFAULT_AK)
    ap.add_argument("--sk", default=DEFAULT_SK)
    ap.add_argument("--domain-id", default=DOMAIN_ID)
    ap.add_argument("--skip-cli", action="store_true",
                    help="with --bin: only check the SDK against the emulator, not `ssowatch list`")
    args = ap.parse_args()
    AK, SK, DOMAIN_ID = args.ak, args.sk, args.domain_id

    if args.endpoint:
        instance_id, sdk_records, describes = sdk_checks(args.endpoint)
        print(json.dumps({
            "instance_id": instance_id,
            "records": sorted(list(r) for r in sdk_records),
            "describes": describes,
            "failures": failures,
        }))
        return 1 if failures else 0

    if not args.bin:
        ap.error("give --bin or --endpoint")
    proc, endpoint = start_emulator(args.bin)
    try:
        _, sdk_records, _ = sdk_checks(endpoint)
        print(f"SDK: {len(sdk_records)} records over 3 kinds")
        if not args.skip_cli:
            cli_records = ssowatch_list(args.bin, endpoint)
            print(f"ssowatch list: {len(cli_records)} records")
            only_sdk = sorted(sdk_records - cli_records)[:5]
            only_cli = sorted(cli_records - sdk_records)[:5]
            check(sdk_records == cli_records,
                  f"SDK and ssowatch differ: only SDK {only_sdk}, only ssowatch {only_cli}")
    finally:
        stop_emulator(proc)

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("huawei SDK interop: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
