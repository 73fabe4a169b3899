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
