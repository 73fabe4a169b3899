#!/usr/bin/env python3
"""Soak test of `hipkit serve`: views, glance queries with JWT and glance updates together.

    python3 Reliability/soak.py [--hipkit .build/release/hipkit] [--seconds 600] [--store sqlite|postgres]

Builds examples/deploy-board, serves it, installs one installation (with --no-verify-installs),
then for SECONDS runs at once: wrk on a JWT-checked view, wrk on the glance query with its JWT,
and a client posting glance updates through the admin API one after another (each with its own
label, for a random room). With --store postgres, two servers share a throwaway PostgreSQL
database: the view is asked of one, the glance of the other, and the updates alternate between
them. Passes when
  - wrk saw no answer other than 2xx or 3xx and no socket error,
  - every update was acknowledged, and at the end each room's glance answers the last label
    acknowledged for it,
  - each server's resident memory at the end is within 10% of what it was after the warm-up
    (the first tenth of the run, and at least 30 seconds or half of a shorter run: the heap
    of a SQLite server grows fastest in the first half-minute under this load, 34.7 MB at 6 s
    and 38.7 MB at 60 s in one run, 37.1 MB at 30 s and 39.2 MB at 300 s in another).
Prints the figures and exits 1 on any failure. Needs wrk (Debian's `wrk`). On PostgreSQL a
failure also lists the statements the database itself took over a second for (its
`log_min_duration_statement`), so that a stall of the database is told apart from one of hipkit.
"""
import argparse
import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from hipkit_support import PostgresCluster, jwt, request, rss_kib  # noqa: E402
TOKEN = "soak-admin-token-0123456789abcdef"


def autogroup_enabled():
    """Whether the kernel groups each session's processes for CPU time (autogroup)."""
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return False


def wrk(url, seconds, header, out):
    argv = ["wrk", "-t1", "-c8", "-d%ds" % seconds, "--timeout", "5s", "-H", header, url]
    out["result"] = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout


def failures_in(wrk_text):
    bad = 0
    requests = 0
    for line in wrk_text.splitlines():
        parts = line.split()
        if line.strip().startswith("Non-2xx or 3xx responses:"):
            bad += int(parts[-1])
        elif line.strip().startswith("Socket errors:"):
            bad += sum(int(x.rstrip(",")) for x in parts if x.rstrip(",").isdigit())
        elif "requests in" in line:
            requests = int(parts[0])
    return requests, bad


def start_server(hipkit, dist, store_args, env, log):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = "http://127.0.0.1:%d" % port
    server = subprocess.Popen([hipkit, "serve", str(dist), "--port", str(port), "--no-verify-installs",
                               "--log-level", "error"] + store_args, env=env,
                              stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
    deadline = time.monotonic() + 30
    while True:
        try:
            if request(base + "/healthz")[0] == 200:
                return server, base
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("hipkit serve did not start: %s" % open(log).read()[-2000:])
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hipkit", default=str(ROOT / ".build" / "release" / "hipkit"))
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="hipkit-soak-"))
    servers = []
    cluster = None
    try:
        project = work / "deploy-board"
        shutil.copytree(ROOT / "examples" / "deploy-board", project)
        subprocess.run([args.hipkit, "build", str(project)], check=True, stdout=subprocess.DEVNULL)
        env = {**os.environ, "HIPKIT_ADMIN_TOKEN": TOKEN}
        if args.store == "postgres":
            cluster = PostgresCluster(tempfile.mkdtemp(prefix="hipkit-soak-postgres-"),
                                      settings={"log_min_duration_statement": "1000"})
            store_args = ["--database", cluster.create_database()]
            env["HIPKIT_SECRET_KEY"] = base64.b64encode(os.urandom(32)).decode()
            count = 2
        else:
            store_args, count = [], 1
        servers = [start_server(args.hipkit, project / "dist", store_args, env, work / ("server-%d.log" % i))
                   for i in range(count)]
        bases = [base for _, base in servers]
        base = bases[0]
        oauth_id, secret = "soak-installation", base64.b64encode(os.urandom(30)).decode()
        status, body = request(base + "/installed", {"oauthId": oauth_id, "oauthSecret": secret,
                                                     "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1})
        if status != 200:
            raise SystemExit("install refused: %d %s" % (status, body[:200]))
        header = "Authorization: JWT " + jwt(oauth_id, secret, 1, args.seconds + 600)
        views = [b + "/recent.html" for b in bases]
        for view in views:
            if request(view, headers={"Authorization": header.split(": ", 1)[1]})[0] != 200:
                raise SystemExit("the view does not answer 200 with the token")

        outputs = [{}, {}]
        threads = [threading.Thread(target=wrk, args=(views[0], args.seconds, header, outputs[0])),
                   threading.Thread(target=wrk, args=(bases[-1] + "/glances/deploys.json", args.seconds, header, outputs[1]))]
        for t in threads:
            t.start()
        rng = random.Random("soak")
        last = {}
        updates = refused = timed_out = 0
        start = time.monotonic()
        warm_rss = None
        warm_up = max(args.seconds / 10, min(30, args.seconds / 2))
        while time.monotonic() - start < args.seconds:
            if warm_rss is None and time.monotonic() - start > warm_up:
                warm_rss = [rss_kib(server.pid) for server, _ in servers]
            room = rng.randrange(1, 6)
            label = "<b>%d</b> update %d" % (rng.randrange(100), updates)
            target = bases[updates % len(bases)]
            try:
                status, _ = request(target + "/admin/glances/deploys?room=%d" % room, {"label": label},
                                    {"Authorization": "Bearer " + TOKEN})
            except TimeoutError:
                status = None
            updates += 1
            if status == 200:
                last[room] = label
            elif status is None:
                timed_out += 1
            else:
                refused += 1
            time.sleep(0.01)
        for t in threads:
            t.join()
        end_rss = [rss_kib(server.pid) for server, _ in servers]
        lost = []
        for room, label in sorted(last.items()):
            for b in bases:
                status, body = request(b + "/glances/deploys.json", headers={"Authorization": "JWT " + jwt(oauth_id, secret, room, 600)})
                got = json.loads(body).get("label", {}) if status == 200 else {}
                if (got.get("value") if isinstance(got, dict) else got) != label:
                    lost.append((b, room))
        (view_requests, view_bad), (glance_requests, glance_bad) = failures_in(outputs[0]["result"]), failures_in(outputs[1]["result"])
        warm_rss = warm_rss or end_rss
        growth = max((e - w) / w for w, e in zip(warm_rss, end_rss))
        print("soak (%s, %d server%s): %d s; view %d requests (%d bad), glance query %d requests (%d bad), "
              "%d glance updates (%d refused, %d timed out), %d rooms checked (%d lost); RSS %s MB after warm-up, "
              "%s MB at the end (%+.1f%% at most)" % (
                  args.store, count, "" if count == 1 else "s", args.seconds, view_requests, view_bad, glance_requests,
                  glance_bad, updates, refused, timed_out, len(last), len(lost),
                  "/".join("%.1f" % (w / 1024) for w in warm_rss), "/".join("%.1f" % (e / 1024) for e in end_rss),
                  growth * 100))
        if view_bad or glance_bad or refused or timed_out or lost or growth > 0.10:
            # wrk's own lines on what went wrong: a status other than 2xx/3xx, or which socket
            # errors (connect, read, write, timeout) — a timeout and a refusal have other causes.
            for name, text, bad in (("view", outputs[0]["result"], view_bad), ("glance query", outputs[1]["result"], glance_bad)):
                if bad:
                    for line in text.splitlines():
                        if line.strip().startswith(("Non-2xx", "Socket errors")):
                            print("%s: wrk: %s" % (name, line.strip()))
            if cluster and autogroup_enabled():
                print("the kernel's autogroup scheduling is on (/proc/sys/kernel/sched_autogroup_enabled), which "
                      "under this load can hold single PostgreSQL statements for seconds on a 2-core machine; "
                      "run again with it off to tell that apart from hipkit")
            if cluster:
                slow = cluster.slow_statements()
                print("PostgreSQL took over a second for %d statement%s itself%s" % (
                    len(slow), "" if len(slow) == 1 else "s", ":" if slow else ""))
                for ms, what in slow[:5]:
                    print("  %.0f ms  %s" % (ms, what[:120]))
            print("soak: FAILED", file=sys.stderr)
            sys.exit(1)
        print("soak: passed")
    finally:
        for server, _ in servers:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                server.wait(10)
        if cluster:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
