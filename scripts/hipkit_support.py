"""What the reliability suites (Reliability/) and the benchmarks (Benchmarks/) share: talking to
a running `hipkit serve` the way HipChat does. Python standard library only.
"""
import base64
import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.request


def free_port():
    """A TCP port nothing listens on now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, body=None, headers=None, method=None, data=None):
    """(status, body bytes) of one request; `body` is sent as JSON, `data` as given."""
    if body is not None:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(oauth_id, secret, room=1, lifetime=3600):
    """An HS256 JWT as HipChat signed them for an installation, for user 1 in `room`."""
    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = b64url(json.dumps({"iss": oauth_id, "sub": "1", "iat": now, "exp": now + lifetime,
                                "context": {"room_id": room, "user_tz": "UTC"}}, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), ("%s.%s" % (header, claims)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (header, claims, b64url(signature))


def rss_kib(pid):
    """Resident memory of a process in KiB, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class PostgresCluster:
    """A throwaway PostgreSQL server from Debian's `postgresql` package: a new cluster in
    `folder` on a free loopback port, as the `postgres` user when run as root (PostgreSQL
    refuses root), with PostgreSQL's default durability (fsync on). `settings` are more of
    PostgreSQL's settings (`-c name=value`). `stop()` ends it and removes the folder."""

    def __init__(self, folder, settings=None):
        import glob
        import os
        import shutil
        import subprocess
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                            key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
        if not candidates:
            raise RuntimeError("no PostgreSQL server under /usr/lib/postgresql: install Debian's postgresql "
                               "package (scripts/install-deps does)")
        self.bin = os.path.dirname(candidates[-1])
        self.folder = str(folder)
        self._shutil, self._subprocess = shutil, subprocess
        os.makedirs(self.folder, exist_ok=True)
        self.as_root = os.geteuid() == 0
        if self.as_root:
            import pwd
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self.data = os.path.join(self.folder, "data")
        self._run(["initdb", "-D", self.data, "-A", "trust", "-U", "hipkit", "-E", "UTF8", "--no-sync",
                   "--no-instructions"])
        self.port = free_port()
        options = "-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s -c max_connections=300" % (
            self.port, self.folder)
        options += "".join(" -c %s=%s" % item for item in sorted((settings or {}).items()))
        self._run(["pg_ctl", "-D", self.data, "-l", os.path.join(self.folder, "log"), "-w", "-t", "60",
                   "-o", options, "start"])
        self.databases = 0

    def _run(self, argv):
        argv = [self.bin + "/" + argv[0]] + argv[1:]
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        p = self._subprocess.run(argv, cwd=self.folder, stdin=self._subprocess.DEVNULL,
                                 stdout=self._subprocess.PIPE, stderr=self._subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (argv, p.returncode, p.stdout))

    def create_database(self):
        """A new empty database; its postgres:// URL."""
        self.databases += 1
        name = "hipkit_%d" % self.databases
        self._run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "hipkit", name])
        return "postgres://hipkit@127.0.0.1:%d/%s?sslmode=disable" % (self.port, name)

    def slow_statements(self):
        """[(milliseconds, what)] of the statements the server logged as slow (with
        `log_min_duration_statement` among the settings), longest first."""
        import os
        import re
        found = []
        try:
            with open(os.path.join(self.folder, "log"), errors="replace") as log:
                for line in log:
                    m = re.search(r"duration: ([0-9.]+) ms\s+(.*)", line)
                    if m:
                        found.append((float(m.group(1)), m.group(2).strip()))
        except OSError:
            pass
        return sorted(found, reverse=True)

    def stop(self):
        try:
            self._run(["pg_ctl", "-D", self.data, "-m", "fast", "stop"])
        finally:
            self._shutil.rmtree(self.folder, ignore_errors=True)
