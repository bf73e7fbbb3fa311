#!/usr/bin/env bash
# Runs the Huawei Cloud SDK interop test (tests/interop/huawei_sdk.py) against the real
# `ssowatch` binary. Needs python3 with the official SDK:
#   python3 -m pip install -r tests/interop/huawei-requirements.txt
# When the SDK is missing this SKIPS locally but FAILS under CI=true, so CI can never pass
# without actually running it.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1 \
   || ! "$PYTHON" -c 'import huaweicloudsdkidentitycenter.v1, huaweicloudsdkcore' >/dev/null 2>&1; then
  msg="huawei interop: python3 with huaweicloudsdkidentitycenter is not installed (python3 -m pip install huaweicloudsdkidentitycenter)"
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $msg" >&2
    exit 1
  fi
  echo "SKIP: $msg" >&2
  exit 0
fi

BIN="${SSOWATCH_BIN:-target/debug/ssowatch}"
if [ -z "${SSOWATCH_BIN:-}" ]; then
  cargo build --quiet --bin ssowatch
fi
exec "$PYTHON" tests/interop/huawei_sdk.py --bin "$BIN" "$@"
