#!/usr/bin/env python3
"""Measures, live on the binary, what the `F` view shows one minute after start.

Starts `ssowatch emulate --seed 3 --history 10000 --rate 0` (about 3,000 FAILED), opens the
dashboard against it in tmux at 200x50 with a fresh cache and presses `F` at once, reads the
screen after 60 s, then asks `ssowatch failures --exact --output json` for the truth and prints,
per cause, the share on screen next to the true share. The emulator's own counter
(`/_emulator/stats`) gives the Identity Center calls the dashboard made in that minute.

    python3 scripts/reasons_in_a_minute.py target/release/ssowatch [seconds]

Loopback only; everything it starts is stopped before it returns.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request


def main() -> int:
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/ssowatch")
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    home = tempfile.mkdtemp(prefix="ssowatch-minute-")
    env = dict(os.environ, HOME=home, XDG_CACHE_HOME=os.path.join(home, ".cache"),
               AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="any",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    emulator = subprocess.Popen(
        [binary, "emulate", "--port", "0", "--seed", "3", "--history", "10000", "--rate", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    session = f"minute{os.getpid()}"
    try:
        url = emulator.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        dashboard = f"{binary} --endpoint-url {url}"
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50",
                        "env", f"HOME={home}", f"XDG_CACHE_HOME={home}/.cache",
                        "AWS_ACCESS_KEY_ID=AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY=any",
                        "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
                        "sh", "-c", dashboard], check=True)
        started = time.monotonic()
        time.sleep(0.3)
        subprocess.run(["tmux", "send-keys", "-t", session, "F"], check=True)
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                capture_output=True, text=True, check=True).stdout
        with urllib.request.urlopen(f"{url}/_emulator/stats") as r:
            calls = json.load(r)["identity_center_total"]
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
        truth_run = subprocess.run(
            [binary, "--endpoint-url", url, "--api-budget", "20", "failures", "--exact",
             "--output", "json"], capture_output=True, text=True, env=env, check=True)
        truth = json.loads(truth_run.stdout)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False,
                       stderr=subprocess.DEVNULL)
        emulator.kill()
        emulator.wait()
        shutil.rmtree(home, ignore_errors=True)

    title = next((l for l in screen.splitlines() if "Failure groups" in l), "")
    print(title.strip(" │┌┐─"))
    shown = {}
    for line in screen.splitlines():
        m = re.search(r"([≈≥]?)\s*([\d,]+) ([a-z_]+) \((\d+)%(?: ± (\d+)%)?\)", line)
        if m:
            shown[m.group(3)] = (int(m.group(4)), int(m.group(5) or 0), m.group(1))
    total = sum(g["count"] for g in truth)
    print(f"Identity Center calls in {seconds:.0f} s: {calls} ({calls / seconds:.2f} req/s)")
    print(f"{'cause':22} {'true share':>10} {'on screen':>12} {'error':>6}")
    worst = 0
    for g in sorted(truth, key=lambda g: -g["count"]):
        share = 100 * g["count"] / total
        seen = shown.get(g["cause"])
        if seen is None:
            print(f"{g['cause']:22} {share:9.1f}% {'absent':>12}")
            if share >= 10:
                worst = 100
            continue
        error = seen[0] - share
        if share >= 10:
            worst = max(worst, abs(error))
        print(f"{g['cause']:22} {share:9.1f}% {seen[2]}{seen[0]:4d}% ±{seen[1]:2d} {error:+6.1f}")
    print(f"largest error among causes of 10% or more: {worst:.1f} percentage points")
    return 0 if worst <= 15 else 1


if __name__ == "__main__":
    sys.exit(main())
