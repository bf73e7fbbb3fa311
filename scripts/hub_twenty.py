#!/usr/bin/env python3
"""Measures, live on the binary, one `ssowatch serve` hub with twenty `--hub` dashboards.

Starts `ssowatch emulate --seed 5 --history 2000 --rate 0.5 --failure-ratio 0.1` and one
`ssowatch serve` on it (default budget), waits until the hub has loaded (`/v1/snapshot`
says `health.loaded`), then opens twenty `ssowatch --hub URL` dashboards in tmux (80x24, no
cloud credentials) one after another. Within 5 s of each dashboard's start it reads the
FAILED counts of its header (`creation N✗ ...`) and compares them with `ssowatch list --status
failed` run at the same moment (the emulator keeps adding requests: a dashboard agrees when
its counts equal those of a list run just before or just after the capture; when one does not,
the ids `list` shows that the hub lacks are printed: with `SSOWATCH_LOG=info,ssowatch::runtime=debug`
on serve (`SSOWATCH_SERVE_LOG=...` sets it for serve alone), its log says when the hub listed
and described them). With all twenty
attached it then waits four minutes and reads the emulator's own counter
(`/_emulator/stats`, `identity_center_total`): the Identity Center calls per second of the
whole team in those four minutes, and from serve's start (the `list` runs' own calls taken
out).

    python3 scripts/hub_twenty.py target/debug/ssowatch [dashboards] [seconds]

Loopback only; everything it starts is stopped before it returns. With
`SSOWATCH_HUB_TWENTY_KEEP=1` the temporary home (with serve's log under `.state/ssowatch/`) is
kept and its path printed.
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

KINDS = ["creation", "deletion", "provisioning"]


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def ic_total(emulator):
    return get_json(f"{emulator}/_emulator/stats")["identity_center_total"]


def header_failed(screen):
    """The FAILED count per kind on a dashboard's header, or None when it is not drawn yet."""
    found = {}
    for kind in KINDS:
        m = re.search(rf"{kind} \d+▶ (\d+)\+?✗", screen)
        if not m:
            return None
        found[kind] = int(m.group(1))
    return found


def main() -> int:
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/debug/ssowatch")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 240.0
    # The hub's budget: its default unless SSOWATCH_SERVE_BUDGET says otherwise.
    budget = (["--api-budget", os.environ["SSOWATCH_SERVE_BUDGET"]]
              if os.environ.get("SSOWATCH_SERVE_BUDGET") else [])
    home = tempfile.mkdtemp(prefix="ssowatch-hub-")
    env = dict(os.environ, HOME=home, XDG_CACHE_HOME=os.path.join(home, ".cache"),
               XDG_STATE_HOME=os.path.join(home, ".state"),
               AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="any",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    socket = f"ssowatch-hub-{os.getpid()}"
    children = []
    list_calls = 0
    try:
        emulator = subprocess.Popen(
            [binary, "emulate", "--port", "0", "--seed", "5", "--history", "2000", "--rate",
             "0.5", "--failure-ratio", "0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        children.append(emulator)
        emu = emulator.stdout.readline().strip()
        assert emu.startswith("http://127.0.0.1:"), emu
        before = ic_total(emu)
        serve = subprocess.Popen(
            [binary, "--endpoint-url", emu] + budget + ["serve", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=dict(env, SSOWATCH_LOG=os.environ.get("SSOWATCH_SERVE_LOG", "info")))
        children.append(serve)
        started = time.monotonic()
        hub = serve.stdout.readline().strip()
        assert hub.startswith("http://127.0.0.1:"), hub
        while not get_json(f"{hub}/v1/snapshot")["health"]["loaded"]:
            time.sleep(1)
        loaded_at = time.monotonic() - started
        print(f"hub loaded {loaded_at:.0f} s after serve started", flush=True)

        def listed():
            nonlocal list_calls
            a = ic_total(emu)
            run = subprocess.run(
                [binary, "--endpoint-url", emu, "--api-budget", "20", "list", "--status",
                 "failed", "-o", "json"], capture_output=True, text=True, env=env, check=True)
            list_calls += ic_total(emu) - a
            counts = {k: 0 for k in KINDS}
            for row in json.loads(run.stdout):
                counts[row["kind"]] += 1
            return counts

        def missing_on_hub():
            """The FAILED request ids `list` shows that the hub's snapshot does not."""
            run = subprocess.run(
                [binary, "--endpoint-url", emu, "--api-budget", "20", "list", "--status",
                 "failed", "-o", "json"], capture_output=True, text=True, env=env, check=True)
            on_hub = set()
            for event in get_json(f"{hub}/v1/snapshot")["events"]:
                if event["type"] == "records":
                    on_hub.update(i["request_id"] for i in event["data"]["items"]
                                  if i["status"] == "FAILED")
                elif event["type"] == "cached":
                    on_hub.update(d["summary"]["request_id"] for d in event["data"]
                                  if d["summary"]["status"] == "FAILED")
            return sorted(r["request_id"] for r in json.loads(run.stdout)
                          if r["request_id"] not in on_hub)

        # A dashboard without cloud credentials.
        dash_env = ["env", "-u", "AWS_ACCESS_KEY_ID", "-u", "AWS_SECRET_ACCESS_KEY",
                    f"HOME={home}", f"XDG_CACHE_HOME={home}/.cache",
                    f"XDG_STATE_HOME={home}/.state"]
        results = []
        for i in range(count):
            command = dash_env + [binary, "--hub", hub]
            if i == 0:
                subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "hub", "-x",
                                "80", "-y", "24", "-n", f"d{i}"] + command, check=True)
            else:
                subprocess.run(["tmux", "-L", socket, "new-window", "-t", "hub", "-n", f"d{i}"]
                               + command, check=True)
            opened = time.monotonic()
            print(f"dashboard {i + 1} opened {opened - started:.2f} s after serve started",
                  flush=True)
            agreed = None
            last = None
            while time.monotonic() - opened < 5.0:
                truth_before = listed()
                screen = subprocess.run(
                    ["tmux", "-L", socket, "capture-pane", "-p", "-t", f"hub:d{i}"],
                    capture_output=True, text=True).stdout
                seen_at = time.monotonic() - opened
                truth_after = listed()
                shown = header_failed(screen)
                last = (shown, truth_before, truth_after)
                if shown is not None and shown in (truth_before, truth_after):
                    agreed = seen_at
                    break
            results.append((i, agreed, last))
            if agreed is None:
                print(f"  FAILED in list, not on the hub: {missing_on_hub()}", flush=True)
            print(f"dashboard {i + 1}: " + (f"agrees with list after {agreed:.1f} s: {last[0]}"
                                              if agreed is not None
                                              else f"DISAGREES within 5 s: {last}"),
                  flush=True)
        window_from, window_start = ic_total(emu), time.monotonic()
        time.sleep(seconds)
        window = time.monotonic() - window_start
        window_spent = ic_total(emu) - window_from
        alive = subprocess.run(["tmux", "-L", socket, "list-windows", "-t", "hub"],
                               capture_output=True, text=True).stdout.count("\n")
        print(f"{count} hub dashboards ({alive} still open) + 1 serve, {window:.0f} s with all "
              f"attached: {window_spent} Identity Center calls ({window_spent / window:.2f} req/s)",
              flush=True)
        elapsed = time.monotonic() - started
        spent = ic_total(emu) - before - list_calls
        print(f"from serve's start, {elapsed:.0f} s: {spent} Identity Center calls "
              f"({spent / elapsed:.2f} req/s), not counting the {list_calls} calls of the "
              f"list runs", flush=True)
        ok = (all(a is not None for _, a, _ in results) and window_spent / window <= 1.0
              and spent / elapsed <= 1.0)
        return 0 if ok else 1
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False,
                       stderr=subprocess.DEVNULL)
        for child in children:
            child.terminate()
            child.wait(timeout=10)
        if os.environ.get("SSOWATCH_HUB_TWENTY_KEEP") == "1":
            print(f"kept {home}", flush=True)
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
