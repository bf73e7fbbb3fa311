"""Interop test for names: the official Huawei Cloud Python SDKs for the identity store
(`huaweicloudsdkidentitycenterstore`) and Organizations (`huaweicloudsdkorganizations`)
against `ssowatch emulate`, compared with the names `ssowatch describe --provider huawei`
prints next to the ids.

Starts `ssowatch emulate --port 0` (through huawei_sdk.py's helper), finds the identity store
with the Identity Center SDK, lists every account with the Organizations SDK (limit/marker
paging), then for a sample of FAILED assignment requests runs `ssowatch describe ID --output
json` and checks `principal_name` equals what the identity-store SDK's DescribeUser
(`user_name`) or DescribeGroup (`display_name`) parsed, and `account_name` what Organizations
listed. Exit code 0 on success, 1 on any mismatch.
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import huawei_sdk  # noqa: E402  (the shared emulator and client helpers)
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials  # noqa: E402
from huaweicloudsdkcore.http.http_config import HttpConfig  # noqa: E402
from huaweicloudsdkidentitycenter.v1 import ListInstancesRequest  # noqa: E402
from huaweicloudsdkidentitycenterstore.v1 import (  # noqa: E402
    DescribeGroupRequest,
    DescribeUserRequest,
    IdentityCenterStoreClient,
)
from huaweicloudsdkorganizations.v1 import ListAccountsRequest, OrganizationsClient  # noqa: E402

SAMPLE = 12


def build(client_class, endpoint, regional=False):
    """Organizations is global (GlobalCredentials); the identity store is regional
    (BasicCredentials)."""
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.retry_times = 0
    if regional:
        credentials = BasicCredentials(huawei_sdk.AK, huawei_sdk.SK)
    else:
        credentials = GlobalCredentials(huawei_sdk.AK, huawei_sdk.SK, huawei_sdk.DOMAIN_ID)
    return (client_class.new_builder()
            .with_http_config(config)
            .with_credentials(credentials)
            .with_endpoints([endpoint])
            .build())


def sdk_accounts(endpoint):
    client = build(OrganizationsClient, endpoint)
    names, marker, pages = {}, None, 0
    while True:
        req = ListAccountsRequest(limit=20)
        if marker:
            req.marker = marker
        resp = client.list_accounts(req)
        pages += 1
        for account in resp.accounts or []:
            names[account.id] = account.name
        marker = resp.page_info.next_marker if resp.page_info else None
        if not marker or pages > 100:
            break
    huawei_sdk.check(pages > 1, f"accounts came in one page of 20 ({len(names)} accounts)")
    return names


def ssowatch(binary, endpoint, args):
    env = dict(os.environ)
    env.update({
        "HUAWEICLOUD_SDK_AK": huawei_sdk.AK,
        "HUAWEICLOUD_SDK_SK": huawei_sdk.SK,
        "HUAWEICLOUD_SDK_DOMAIN_ID": huawei_sdk.DOMAIN_ID,
        "HUAWEICLOUD_SDK_CREDENTIALS_FILE": os.devnull,
        "NO_COLOR": "1",
    })
    out = subprocess.run(
        [binary, *args, "--provider", "huawei", "--endpoint-url", endpoint, "--output", "json"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    if out.returncode != 0:
        raise SystemExit(f"ssowatch {args} failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the ssowatch binary")
    args = ap.parse_args()
    proc, endpoint = huawei_sdk.start_emulator(args.bin)
    compared = {"USER": 0, "GROUP": 0}
    try:
        instances = huawei_sdk.client_for(endpoint).list_instances(ListInstancesRequest())
        store = instances.instances[0].identity_store_id
        accounts = sdk_accounts(endpoint)
        identity = build(IdentityCenterStoreClient, endpoint, regional=True)
        rows = ssowatch(args.bin, endpoint, ["list", "--kind", "creation", "--status", "failed"])
        for row in rows[:SAMPLE]:
            rid = row["request_id"]
            ours = ssowatch(args.bin, endpoint, ["describe", rid, "--kind", "creation"])
            account = ours.get("target_account")
            huawei_sdk.check(ours.get("account_name") == accounts.get(account),
                             f"{rid}: account {account}: ssowatch {ours.get('account_name')!r}, "
                             f"SDK {accounts.get(account)!r}")
            principal, ptype = ours.get("principal_id"), ours.get("principal_type")
            if ptype == "USER":
                sdk_name = identity.describe_user(
                    DescribeUserRequest(identity_store_id=store, user_id=principal)).user_name
            else:
                sdk_name = identity.describe_group(
                    DescribeGroupRequest(identity_store_id=store, group_id=principal)).display_name
            huawei_sdk.check(sdk_name and ours.get("principal_name") == sdk_name,
                             f"{rid}: {ptype} {principal}: ssowatch "
                             f"{ours.get('principal_name')!r}, SDK {sdk_name!r}")
            compared[ptype] = compared.get(ptype, 0) + 1
        huawei_sdk.check(compared["USER"] > 0 and compared["GROUP"] > 0,
                         f"both users and groups compared: {compared}")
    finally:
        huawei_sdk.stop_emulator(proc)
    if huawei_sdk.failures:
        print(f"{len(huawei_sdk.failures)} check(s) failed", file=sys.stderr)
        return 1
    print(f"huawei names interop: OK ({compared})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
