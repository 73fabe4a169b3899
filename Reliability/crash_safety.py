#!/usr/bin/env python3
"""Crash safety of hipkit, with SIGKILL at random moments.

    python3 Reliability/crash_safety.py [--hipkit .build/release/hipkit] [--builds 200] [--serves 200]

1. `hipkit build`, killed 200 times: a copy of examples/deploy-board is built alternately in
   two versions (A and B differ in one page and the spec's description). Before each run dist/
   holds one complete build; a build of the other version is started and SIGKILLed after a
   random delay within its usual duration. Afterwards dist/ must be byte for byte either the
   complete A build or the complete B build — never a mix, never half-written — and the next,
   uninterrupted build must give exactly the reference bytes (a killed build must not leave a
   cache entry that poisons later builds).
2. `hipkit serve`, killed right after each of 200 acknowledged writes: installs (POST to the
   descriptor's callbackUrl, with --no-verify-installs) and glance updates (the admin API)
   alternate; the server is SIGKILLed the moment a 2xx arrives and started again. At the end
   every acknowledged installation must be listed by the admin API, and every room's glance
   must answer the data last acknowledged for it, read with a JWT signed by an installation
   that was itself acknowledged just before a kill.
3. The same 200 kills with two `hipkit serve` processes on one throwaway PostgreSQL database
   (Debian's postgresql, PostgreSQL's default durability): the writes alternate between the two,
   each killed the moment it answers, and everything acknowledged is checked through both.

Prints a summary and exits 1 if anything was lost or mixed. Python standard library only.
"""
import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from hipkit_support import PostgresCluster, free_port, jwt, request  # noqa: E402


def snapshot(folder):
    """relative path -> sha256 of every file under folder."""
    out = {}
    for base, _, names in os.walk(folder):
        for name in names:
            full = Path(base) / name
            out[str(full.relative_to(folder))] = hashlib.sha256(full.read_bytes()).hexdigest()
    return out


def build(hipkit, project, check=True):
    run = subprocess.run([hipkit, "build", str(project)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if check and run.returncode != 0:
        raise SystemExit("build failed: %s" % run.stderr.decode())


def crash_builds(hipkit, work, count, rng):
    project = work / "project"
    shutil.copytree(ROOT / "examples" / "deploy-board", project)
    spec = project / "addon.yaml"
    page = next(sorted((project / "pages").glob("*.md")).__iter__())
    versions = {}
    originals = (spec.read_text(), page.read_text())

    def use(version):
        text, body = originals
        if version == "B":
            text = text.replace("description: ", "description: (B) ", 1)
            body = body + "\n\nVersion B of this page.\n"
        spec.write_text(text)
        page.write_text(body)

    durations = []
    for version in ("A", "B"):
        use(version)
        shutil.rmtree(project / "dist", ignore_errors=True)
        start = time.monotonic()
        build(hipkit, project)
        durations.append(time.monotonic() - start)
        versions[version] = snapshot(project / "dist")
    if versions["A"] == versions["B"]:
        raise SystemExit("the two versions build to the same bytes; the test would prove nothing")
    longest = max(durations)

    current = "B"
    killed = finished = 0
    for i in range(count):
        target = "A" if current == "B" else "B"
        use(target)
        process = subprocess.Popen([hipkit, "build", str(project)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, longest * 1.2))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        else:
            finished += 1
        process.wait()
        found = snapshot(project / "dist")
        if found == versions[target]:
            current = target
        elif found != versions[current]:
            extra = sorted(set(found) ^ set(versions[current]))[:5]
            raise SystemExit("build %d: dist/ is neither the old nor the new build (differs in %s)" % (i, extra))
        # Every few rounds, finish the build and check it against the reference: a killed run must
        # not have left anything (cache entries, staging folders) that changes later output.
        if i % 10 == 9:
            build(hipkit, project)
            if snapshot(project / "dist") != versions[target]:
                raise SystemExit("build %d: an uninterrupted build after kills differs from the reference" % i)
            current = target
    return {"runs": count, "killed_mid_build": killed, "finished_before_kill": finished,
            "build_seconds": round(longest, 3)}


class Server:
    def __init__(self, hipkit, dist, store_args, port, token, env=None):
        self.argv = [hipkit, "serve", str(dist), "--port", str(port), "--no-verify-installs",
                     "--log-level", "error"] + store_args
        self.env = {**os.environ, **(env or {}), "HIPKIT_ADMIN_TOKEN": token}
        self.port = port
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("hipkit serve exited with %d at start" % self.process.returncode)
            try:
                if request(self.url("/healthz"))[0] == 200:
                    return
            except OSError:
                time.sleep(0.02)
        raise SystemExit("hipkit serve did not start")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process:
            self.process.wait()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)


def crash_serves(hipkit, work, count, rng, postgres=None):
    """SIGKILL a server right after each acknowledged write, then check nothing was lost. With
    `postgres` (a PostgresCluster), two servers share one database: the writes alternate between
    them, each killed right after its answer, and the survivors are checked through both."""
    project = work / "serve-project"
    if not project.exists():
        shutil.copytree(ROOT / "examples" / "deploy-board", project)
        build(hipkit, project)
    token = "crash-test-admin-token-0123456789"
    if postgres:
        store_args = ["--database", postgres.create_database()]
        env = {"HIPKIT_SECRET_KEY": base64.b64encode(os.urandom(32)).decode()}
        servers = [Server(hipkit, project / "dist", store_args, free_port(), token, env) for _ in range(2)]
    else:
        servers = [Server(hipkit, project / "dist", ["--data", str(work / "data")], free_port(), token)]
    installs = {}   # oauthId -> secret, acknowledged
    glances = {}    # room -> label, acknowledged
    for i in range(count):
        server = servers[i % len(servers)]
        server.start()
        if (i // len(servers)) % 2 == 0:
            oauth_id = "crash-%04d-%s" % (i, os.urandom(3).hex())
            secret = base64.b64encode(os.urandom(30)).decode()
            status, body = request(server.url("/installed"), {
                "oauthId": oauth_id, "oauthSecret": secret, "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities",
                "groupId": 1, "roomId": None})
            server.kill()
            if 200 <= status < 300:
                installs[oauth_id] = secret
            else:
                raise SystemExit("install %d refused: %d %s" % (i, status, body[:200]))
        else:
            room = rng.randrange(1, 8)
            label = "<b>%d</b> at kill %d" % (rng.randrange(1000), i)
            status, body = request(server.url("/admin/glances/deploys?room=%d" % room), {"label": label},
                                   {"Authorization": "Bearer " + token})
            server.kill()
            if 200 <= status < 300:
                glances[room] = label
            else:
                raise SystemExit("glance update %d refused: %d %s" % (i, status, body[:200]))

    lost_installs, lost_glances = [], []
    for server in servers:
        server.start()
    try:
        for server in servers:
            status, body = request(server.url("/admin/installations"), headers={"Authorization": "Bearer " + token})
            listed = {entry["oauthId"] for entry in json.loads(body)["installations"]} if status == 200 else set()
            lost_installs += sorted(set(installs) - listed)
            oauth_id, secret = next(iter(sorted(installs.items())))
            for room, label in sorted(glances.items()):
                status, body = request(server.url("/glances/deploys.json"), headers={"Authorization": "JWT " + jwt(oauth_id, secret, room, 600)})
                got = json.loads(body).get("label", {}) if status == 200 else {}
                value = got.get("value") if isinstance(got, dict) else got
                if value != label:
                    lost_glances.append((room, label, status, value))
    finally:
        for server in servers:
            server.kill()
    if lost_installs or lost_glances:
        raise SystemExit("lost after kills: installs %s, glances %s" % (lost_installs[:5], lost_glances[:5]))
    return {"kills": count, "servers": len(servers), "acknowledged_installs": len(installs),
            "acknowledged_glance_updates": count - len(installs), "rooms_checked": len(glances)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hipkit", default=str(ROOT / ".build" / "release" / "hipkit"))
    parser.add_argument("--builds", type=int, default=200)
    parser.add_argument("--serves", type=int, default=200)
    parser.add_argument("--seed", default="hipkit-crash-1")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="hipkit-crash-"))
    try:
        started = time.monotonic()
        builds = crash_builds(args.hipkit, work, args.builds, rng)
        print("build: %(runs)d runs, %(killed_mid_build)d killed mid-build, %(finished_before_kill)d finished first; "
              "dist/ was always the old or the new complete build" % builds)
        serves = crash_serves(args.hipkit, work, args.serves, rng)
        print("serve: %(kills)d kills right after acknowledged writes (%(acknowledged_installs)d installs, "
              "%(acknowledged_glance_updates)d glance updates over %(rooms_checked)d rooms); none lost" % serves)
        cluster = PostgresCluster(tempfile.mkdtemp(prefix="hipkit-crash-postgres-"))
        try:
            shared = crash_serves(args.hipkit, work, args.serves, rng, postgres=cluster)
        finally:
            cluster.stop()
        print("serve on PostgreSQL, %(servers)d servers: %(kills)d kills right after acknowledged writes "
              "(%(acknowledged_installs)d installs, %(acknowledged_glance_updates)d glance updates over "
              "%(rooms_checked)d rooms); none lost, checked through both" % shared)
        print("crash safety: passed in %.0f s" % (time.monotonic() - started))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
