#!/usr/bin/env python3
"""Soak test of `hipkit serve`: views, glance queries with JWT and glance updates together.

    python3 Reliability/soak.py [--hipkit .build/release/hipkit] [--seconds 600]

Builds examples/deploy-board, serves it, installs one installation (with --no-verify-installs),
then for SECONDS runs at once: wrk on a JWT-checked view, wrk on the glance query with its JWT,
and a client posting glance updates through the admin API one after another (each with its own
label, for a random room). Passes when
  - wrk saw no answer other than 2xx or 3xx and no socket error,
  - every update was acknowledged, and at the end each room's glance answers the last label
    acknowledged for it,
  - the server's resident memory at the end is within 10% of what it was after the warm-up
    (the first tenth of the run).
Prints the figures and exits 1 on any failure. Needs wrk (Debian's `wrk`).
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
from hipkit_support import jwt, request, rss_kib  # noqa: E402
TOKEN = "soak-admin-token-0123456789abcdef"


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hipkit", default=str(ROOT / ".build" / "release" / "hipkit"))
    parser.add_argument("--seconds", type=int, default=600)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="hipkit-soak-"))
    server = None
    try:
        project = work / "deploy-board"
        shutil.copytree(ROOT / "examples" / "deploy-board", project)
        subprocess.run([args.hipkit, "build", str(project)], check=True, stdout=subprocess.DEVNULL)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        base = "http://127.0.0.1:%d" % port
        server = subprocess.Popen([args.hipkit, "serve", str(project / "dist"), "--port", str(port), "--no-verify-installs",
                                   "--log-level", "error"], env={**os.environ, "HIPKIT_ADMIN_TOKEN": TOKEN},
                                  stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "wb"))
        deadline = time.monotonic() + 20
        while True:
            try:
                if request(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("hipkit serve did not start")
            time.sleep(0.05)
        oauth_id, secret = "soak-installation", base64.b64encode(os.urandom(30)).decode()
        status, body = request(base + "/installed", {"oauthId": oauth_id, "oauthSecret": secret,
                                                     "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1})
        if status != 200:
            raise SystemExit("install refused: %d %s" % (status, body[:200]))
        header = "Authorization: JWT " + jwt(oauth_id, secret, 1, args.seconds + 600)
        view = base + "/recent.html"
        if request(view, headers={"Authorization": header.split(": ", 1)[1]})[0] != 200:
            raise SystemExit("the view does not answer 200 with the token")

        outputs = [{}, {}]
        threads = [threading.Thread(target=wrk, args=(view, args.seconds, header, outputs[0])),
                   threading.Thread(target=wrk, args=(base + "/glances/deploys.json", args.seconds, header, outputs[1]))]
        for t in threads:
            t.start()
        rng = random.Random("soak")
        last = {}
        updates = refused = 0
        start = time.monotonic()
        warm_rss = None
        while time.monotonic() - start < args.seconds:
            if warm_rss is None and time.monotonic() - start > args.seconds / 10:
                warm_rss = rss_kib(server.pid)
            room = rng.randrange(1, 6)
            label = "<b>%d</b> update %d" % (rng.randrange(100), updates)
            status, _ = request(base + "/admin/glances/deploys?room=%d" % room, {"label": label}, {"Authorization": "Bearer " + TOKEN})
            updates += 1
            if status == 200:
                last[room] = label
            else:
                refused += 1
            time.sleep(0.01)
        for t in threads:
            t.join()
        end_rss = rss_kib(server.pid)
        lost = []
        for room, label in sorted(last.items()):
            status, body = request(base + "/glances/deploys.json", headers={"Authorization": "JWT " + jwt(oauth_id, secret, room, 600)})
            got = json.loads(body).get("label", {}) if status == 200 else {}
            if (got.get("value") if isinstance(got, dict) else got) != label:
                lost.append(room)
        (view_requests, view_bad), (glance_requests, glance_bad) = failures_in(outputs[0]["result"]), failures_in(outputs[1]["result"])
        growth = (end_rss - warm_rss) / warm_rss if warm_rss else 0
        print("soak: %d s; view %d requests (%d bad), glance query %d requests (%d bad), %d glance updates (%d refused), "
              "%d rooms checked (%d lost); RSS %.1f MB after warm-up, %.1f MB at the end (%+.1f%%)" % (
                  args.seconds, view_requests, view_bad, glance_requests, glance_bad, updates, refused, len(last), len(lost),
                  (warm_rss or 0) / 1024, end_rss / 1024, growth * 100))
        if view_bad or glance_bad or refused or lost or growth > 0.10:
            print("soak: FAILED", file=sys.stderr)
            sys.exit(1)
        print("soak: passed")
    finally:
        if server and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
