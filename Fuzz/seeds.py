#!/usr/bin/env python3
"""Seeds of the runtime's fuzz targets, `jwt` and `install`, written into a corpus folder.

    python3 Fuzz/seeds.py jwt Fuzz/corpus/jwt
    python3 Fuzz/seeds.py install Fuzz/corpus/install

The formats are FuzzTarget.swift's. jwt: a first byte, even for a token as sent, odd for a
header and claims (JSON split by a NUL byte) that the target signs with the installation's
secret. install: a first byte, even for an install, odd for an update, then the body; or,
with the byte's second bit set, the query string of a browser flow. The seeds are the attacks
of the attack suite (alg none, algorithm confusion, expired, future, unknown issuer, tampered,
oversized, garbage), the install bodies HipChat sends, with the ways they go wrong, and browser
flow queries with forged, off-host and open-redirect parameters. Each file is named by the SHA-1 of its bytes, as libFuzzer names its own.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
from urllib.parse import quote

SECRET = b"fuzz-secret-0123456789abcdefghijklmnopqrstuvwxyz"  # FuzzFixture.installation's
NOW = 1767225600  # FuzzFixture.now
CAPABILITIES = "https://api.hipchat.com/v2/capabilities"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def token(header, claims, key=SECRET):
    signing_input = b64(json.dumps(header, separators=(",", ":")).encode()) + b"." + \
        b64(json.dumps(claims, separators=(",", ":")).encode())
    return signing_input + b"." + b64(hmac.new(key, signing_input, hashlib.sha256).digest())


def jwt_seeds():
    good = {"iss": "fuzz-installation", "sub": "101", "iat": NOW - 60, "exp": NOW + 3600,
            "jti": "k3Jd82hdKs92jd83hsAq", "context": {"room_id": 7, "user_tz": "UTC"}}
    hs256 = {"alg": "HS256", "typ": "JWT"}
    seeds = []

    def signed_here(header, claims):
        seeds.append(b"\x01" + json.dumps(header).encode() + b"\x00" + json.dumps(claims).encode())

    def as_sent(text):
        seeds.append(b"\x00" + text)

    signed_here(hs256, good)
    for header in ({"alg": "none"}, {"alg": "HS512", "typ": "JWT"}, {"alg": "RS256"}):
        signed_here(header, good)
    signed_here(hs256, {k: v for k, v in good.items() if k != "exp"})
    signed_here(hs256, dict(good, exp=NOW - 3600))
    signed_here(hs256, dict(good, exp=float(NOW + 10.5)))
    signed_here(hs256, dict(good, nbf=NOW + 3600))
    signed_here(hs256, dict(good, iat=NOW + 3600))
    signed_here(hs256, dict(good, iss="someone-else"))
    signed_here(hs256, dict(good, iss=""))
    signed_here(hs256, dict({k: v for k, v in good.items() if k != "sub"}, prn="102"))
    signed_here(hs256, dict(good, context={"room_id": "7"}))
    signed_here(hs256, dict(good, exp="1767228600"))
    as_sent(token(hs256, good))
    as_sent(token(hs256, good, key=b"another-secret-0123456789abcdefghijklmnopqrstuv"))
    header, _, signature = token(hs256, good).split(b".")
    as_sent(header + b"." + b64(json.dumps(dict(good, sub="1")).encode()) + b"." + signature)
    as_sent(b64(b'{"alg":"none","typ":"JWT"}') + b"." + b64(json.dumps(good).encode()) + b".")
    as_sent(token(hs256, good) + b"==")
    as_sent(b"not.a.jwt")
    as_sent(b"a.b")
    as_sent(b"%%%.###.$$$")
    as_sent(token(hs256, dict(good, pad="x" * 9000)))
    return seeds


def install_seeds():
    base = {"oauthId": "fuzz-new-install", "oauthSecret": "s" * 40, "capabilitiesUrl": CAPABILITIES,
            "groupId": 1, "roomId": 7}
    seeds = []

    def body(form, value):
        seeds.append(bytes([form]) + (value if isinstance(value, bytes) else json.dumps(value).encode()))

    body(0, base)
    body(0, dict(base, roomId=None))
    body(0, {k: v for k, v in base.items() if k != "roomId"})
    body(0, dict(base, oauthId="fuzz-installation"))
    body(0, dict(base, oauthId="fuzz-installation", capabilitiesUrl="https://evil.example.com/capabilities"))
    body(0, dict(base, oauthId="fuzz-installation", groupId=2))
    body(1, {"oauthId": "fuzz-installation", "capabilitiesUrl": CAPABILITIES, "groupId": 1})
    body(1, {"oauthId": "fuzz-installation", "capabilitiesUrl": CAPABILITIES, "roomId": None})
    body(1, {"oauthId": "nobody", "capabilitiesUrl": CAPABILITIES, "groupId": 1})
    body(0, dict(base, oauthSecret="short"))
    body(0, dict(base, groupId="1"))
    body(0, dict(base, groupId=1.5))
    body(0, dict(base, oauthId=""))
    body(0, dict(base, oauthId="x" * 300))
    body(0, dict(base, oauthId="snowman \u2603 \u0000 nul"))
    body(0, {k: v for k, v in base.items() if k != "capabilitiesUrl"})
    body(0, b"[1,2,3]")
    body(0, b'"text"')
    body(0, b'{"oauthId": ')

    def query(installable, redirect, extra=""):
        q = "installable_url=%s&redirect_url=%s%s" % (quote(installable, safe=""), quote(redirect, safe=""), extra)
        body(2, q.encode())

    installable = "https://api.hipchat.com/v2/oauth/installable/abc"
    query(installable, "https://example.hipchat.com/rooms/show/1")
    query(installable, "https://api.hipchat.com/")
    query("https://hipchat.example.org:8443/v2/oauth/installable/abc", "https://hipchat.example.org:8443/home")
    query(installable, "https://evil.example/")
    query(installable, "//evil.example/")
    query(installable, "javascript:alert(1)")
    query(installable, "https://api.hipchat.com@evil.example/")
    query(installable, "https://hipchat.com.evil.example/")
    query(installable, "https://example.hipchat.com/\r\nSet-Cookie: a=b")
    query("http://127.0.0.1:1/installable", "http://127.0.0.1:1/")
    query("http://169.254.169.254/latest/meta-data/", "https://example.hipchat.com/")
    query("https://user:pw@api.hipchat.com/x", "https://example.hipchat.com/")
    query(installable, "https://example.hipchat.com/", "&installable_url=https%3A%2F%2Fevil.example%2F")
    body(2, b"installable_url=%zz&redirect_url=%")
    body(3, b"")
    return seeds


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("jwt", "install"):
        raise SystemExit(__doc__)
    seeds = jwt_seeds() if sys.argv[1] == "jwt" else install_seeds()
    os.makedirs(sys.argv[2], exist_ok=True)
    for seed in seeds:
        with open(os.path.join(sys.argv[2], hashlib.sha1(seed).hexdigest()), "wb") as f:
            f.write(seed)
    print("%d seeds in %s" % (len(seeds), sys.argv[2]))


if __name__ == "__main__":
    main()
