#!/usr/bin/env python3
"""Measures, live on the binary, how fast the dashboard recovers from a throttling storm.

Starts `ssowatch emulate --seed 5 --history 2000 --rate 0.5 --failure-ratio 0.1`, opens the
dashboard against it in tmux at 200x50 with a fresh cache, lets it load for `settle` seconds,
then throttles every call for `storm` seconds (`POST /_emulator/faults`) and switches the
fault off. From the emulator's own record of the calls it served (`/_emulator/stats`, sampled
every half second) it prints: when the first call came after the storm ended, when the screen
lost its STALE mark, and when the spend was back at the budget (9 calls in 10 s at 0.9 req/s).

    python3 scripts/throttle_storm.py target/release/ssowatch [storm_seconds] [settle_seconds]

Loopback only; everything it starts is stopped before it returns.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request


def post(url: str, body: dict) -> None:
    request = urllib.request.Request(f"{url}/_emulator/faults", data=json.dumps(body).encode(),
                                     method="POST", headers={"content-type": "application/json"})
    urllib.request.urlopen(request).read()


def stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_emulator/stats") as r:
        return json.load(r)


def main() -> int:
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/ssowatch")
    storm = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
    settle = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    home = tempfile.mkdtemp(prefix="ssowatch-storm-")
    env = dict(os.environ, HOME=home, AWS_EC2_METADATA_DISABLED="true")
    emulator = subprocess.Popen(
        [binary, "emulate", "--port", "0", "--seed", "5", "--history", "2000", "--rate", "0.5",
         "--failure-ratio", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    session = f"storm{os.getpid()}"
    calls = set()
    stale_seen_at = None
    try:
        url = emulator.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50",
                        "env", f"HOME={home}", "AWS_ACCESS_KEY_ID=AKIAEXAMPLE",
                        "AWS_SECRET_ACCESS_KEY=any", "AWS_REGION=us-east-1",
                        "AWS_EC2_METADATA_DISABLED=true", binary, "--endpoint-url", url],
                       check=True)
        time.sleep(settle)
        post(url, {"rules": [{"fault": "throttle", "ratio": 1.0}]})
        storm_start = time.time()
        throttled_before = stats(url)["throttled"]
        while time.time() < storm_start + storm:
            time.sleep(1)
        post(url, {})
        healthy_at = time.time()
        during = stats(url)
        throttled_in_storm = during["throttled"] - throttled_before
        deadline = healthy_at + 120
        stale_cleared_at = None
        while time.time() < deadline:
            for t in stats(url)["recent"]:
                calls.add(t / 1000.0)
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                    capture_output=True, text=True).stdout
            if "STALE" in screen:
                stale_seen_at = time.time()
            elif stale_cleared_at is None and time.time() > healthy_at + 1:
                stale_cleared_at = time.time()
            time.sleep(0.5)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False,
                       stderr=subprocess.DEVNULL)
        emulator.kill()
        emulator.wait()
        shutil.rmtree(home, ignore_errors=True)

    after = sorted(t for t in calls if t >= healthy_at)
    first = after[0] - healthy_at if after else None
    back = None
    for i, t in enumerate(after):
        window = [u for u in after[: i + 1] if u > t - 10]
        if len(window) >= 9:
            back = t - healthy_at
            break
    print(f"storm: {storm:.0f} s of throttling, {throttled_in_storm} calls throttled in it")
    print(f"first call after the storm: +{first:.1f} s" if first is not None else "no call after the storm")
    if stale_seen_at is None:
        print("STALE: not on screen after the storm")
    else:
        print(f"STALE last seen: +{stale_seen_at - healthy_at:.1f} s")
    print(f"back at the budget (9 calls in 10 s): +{back:.1f} s" if back is not None else "not back at the budget within 120 s")
    return 0 if back is not None and first is not None and first < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
