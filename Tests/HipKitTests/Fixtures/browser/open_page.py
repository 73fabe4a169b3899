#!/usr/bin/env python3
"""Open one page in headless Chromium and report what went wrong on it, plus a screenshot.

Talks the DevTools protocol over `--remote-debugging-pipe` (fd 3: commands in, fd 4: replies and
events out, each message JSON ended by a NUL byte), so it needs nothing beyond the standard library:
no websocket client, no port to pick. Chromium's own `--enable-logging=stderr` output was not enough:
it prints console messages without their level (console.log and console.error look alike) and says
nothing about scripts or images that failed to load.

    python3 open_page.py --chromium /usr/bin/chromium --url URL --screenshot OUT.png
                         [--width 1024] [--height 768] [--timeout 20] [--settle 0.3]

Prints one JSON object on stdout:
    {"errors": [...], "screenshot": "OUT.png", "stats": {...pngstats...}, "timings": {...}}
and exits 0 whenever the page was opened and photographed, errors or not. Anything that stops the
harness itself (Chromium missing or crashing, time running out) is on stderr with a non-zero exit.

Every host name except localhost resolves to "not found", so a page never reaches the network: a
reference to a real CDN shows up as a load error instead of silently depending on it.
"""
import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pngstats  # noqa: E402  (lives next to this file)


class HarnessError(Exception):
    pass


class Browser:
    """A Chromium process and the two pipe ends used to drive it."""

    def __init__(self, chromium, width, height, deadline):
        self.deadline = deadline
        self.profile = tempfile.mkdtemp(prefix="hipkit-chromium-")
        self.log_path = os.path.join(self.profile, "chromium-stderr.log")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        flags = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "--hide-scrollbars",
            "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-default-apps", "--mute-audio",
            "--force-color-profile=srgb", "--force-device-scale-factor=1",
            "--disable-breakpad", "--disable-crash-reporter",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            "about:blank",
        ]

        # The child must see the pipe ends exactly as fds 3 and 4. Lift them above 10 first so
        # that dup2 onto 3/4 in the child can never overwrite the other end. (The high copies are
        # close-on-exec and so are all other fds Python opens: only 0-4 reach Chromium.)
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)

        def wire_fds():
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)
            # What close_fds=True would do, except that it would close 3 and 4 too: drop whatever
            # inheritable descriptor we were handed ourselves, so Chromium holds nothing of our parent's.
            for name in os.listdir("/proc/self/fd"):
                fd = int(name)
                try:
                    if fd > 4 and not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC:
                        os.close(fd)
                except OSError:
                    pass  # the descriptor listdir itself used, already gone

        try:
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(
                    [chromium] + flags, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    preexec_fn=wire_fds, close_fds=False,
                    start_new_session=True,  # one process group: renderer and GPU processes die with it
                )
        except OSError as error:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise HarnessError(f"cannot start {chromium}: {error}") from error
        finally:
            for fd in (high_r, high_w, to_browser_r, from_browser_w):  # the child's ends, not ours
                os.close(fd)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    # -- protocol -----------------------------------------------------------------------------

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.to_browser, data):]
        return self.next_id

    def read(self, until):
        """The next message from Chromium, or None if none comes before `until` (or the deadline)."""
        while True:
            if b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                return json.loads(raw)
            remaining = min(until, self.deadline) - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self.from_browser, 1 << 16)
                if not chunk:
                    raise HarnessError("Chromium closed the DevTools pipe (it crashed or failed to start)" + self.log_tail())
                self.buffer += chunk

    def call(self, method, params=None, session=None):
        wanted = self.send(method, params, session)
        while True:
            message = self.read(self.deadline)
            if message is None:
                raise HarnessError(f"timed out waiting for Chromium to answer {method}")
            if message.get("id") == wanted:
                if "error" in message:
                    raise HarnessError(f"{method} failed: {message['error'].get('message')}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for_events(self, seconds):
        """Collects events for `seconds` (or until the deadline)."""
        until = time.monotonic() + seconds
        while True:
            message = self.read(until)
            if message is None:
                return
            if "method" in message:
                self.events.append(message)

    def take_events(self):
        events, self.events = self.events, []
        return events

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\nChromium said:\n" + "\n".join(lines[-15:]) if lines else ""

    def close(self):
        try:
            if self.process.poll() is None:
                try:
                    self.send("Browser.close")
                    self.process.wait(timeout=3)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        finally:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # stragglers of the group, if any
            except ProcessLookupError:
                pass
            self.process.wait()
            for fd in (self.to_browser, self.from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)


# -- turning protocol events into readable error lines --------------------------------------------

def _where(url, line):
    if not url:
        return ""
    return f" ({url}:{line + 1})" if line is not None else f" ({url})"


def _remote_object_text(obj):
    if "value" in obj:
        value = obj["value"]
        return value if isinstance(value, str) else json.dumps(value)
    return obj.get("description") or obj.get("unserializableValue") or obj.get("type", "?")


def _frame_location(stack):
    frames = (stack or {}).get("callFrames") or []
    return (frames[0].get("url"), frames[0].get("lineNumber")) if frames else (None, None)


def _is_automatic_favicon(url):
    # Over HTTP Chromium asks every site for /favicon.ico by itself; a 404 there says nothing about
    # the page. (A page that links that exact path itself and lacks it goes unreported: acceptable.)
    parts = urllib.parse.urlsplit(url or "")
    return parts.scheme in ("http", "https") and parts.path == "/favicon.ico"


class ErrorCollector:
    """Keeps the page's errors, in the order they happened, from the events of one session."""

    def __init__(self, session):
        self.session = session
        self.errors = []
        self.pending = set()  # network requests not finished yet
        self.loaded = False

    def feed(self, events):
        for event in events:
            if event.get("sessionId") != self.session:
                continue
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                exception = details.get("exception") or {}
                description = exception.get("description")
                if description:  # "Error: boom\n    at ..." -> "Uncaught Error: boom"
                    text = f"{details.get('text', 'Uncaught')} {description.splitlines()[0]}"
                elif exception:
                    text = f"{details.get('text', 'Uncaught')} {_remote_object_text(exception)}"
                else:
                    text = details.get("text", "Uncaught exception")
                self.errors.append(text + _where(details.get("url"), details.get("lineNumber")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                text = " ".join(_remote_object_text(arg) for arg in params.get("args", []))
                url, line = _frame_location(params.get("stackTrace"))
                label = "console.assert" if params["type"] == "assert" else "console.error"
                self.errors.append(f"{label}: {text}{_where(url, line)}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                # Failed loads ("Failed to load resource: net::ERR_FILE_NOT_FOUND", HTTP 404s),
                # CSP violations and the like: the browser's own errors, not the page's console calls.
                entry = params["entry"]
                if _is_automatic_favicon(entry.get("url")):
                    continue
                self.errors.append(entry["text"] + _where(entry.get("url"), entry.get("lineNumber")))
            elif method == "Network.requestWillBeSent":
                self.pending.add(params["requestId"])
            elif method in ("Network.loadingFinished", "Network.loadingFailed"):
                self.pending.discard(params["requestId"])
            elif method == "Page.loadEventFired":
                self.loaded = True


def open_page(args):
    started = time.monotonic()
    deadline = started + args.timeout
    timings = {}
    browser = Browser(args.chromium, args.width, args.height, deadline)
    try:
        targets = browser.call("Target.getTargets")["targetInfos"]
        page = next((t for t in targets if t["type"] == "page"), None)
        target = page["targetId"] if page else browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        timings["launch"] = round(time.monotonic() - started, 3)

        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": args.width, "height": args.height, "deviceScaleFactor": 1, "mobile": False},
                     session=session)
        browser.take_events()  # anything about about:blank is not the page's business

        collector = ErrorCollector(session)
        navigation = browser.call("Page.navigate", {"url": args.url}, session=session)
        if navigation.get("errorText"):
            collector.errors.append(f"Navigation failed: {navigation['errorText']} ({args.url})")
        else:
            # Wait for the load event, then until the network has been quiet for `settle` seconds, so
            # late scripts, images and the errors they raise are in before the photo is taken.
            # Keep a few seconds back so a page that never settles (a request that hangs) is still
            # photographed and reported rather than lost to the overall timeout.
            load_deadline = deadline - min(5.0, args.timeout / 4)
            quiet_since = None
            while time.monotonic() < load_deadline:
                browser.wait_for_events(0.05)
                collector.feed(browser.take_events())
                if not (collector.loaded and not collector.pending):
                    quiet_since = None
                    continue
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= args.settle:
                    break
            else:
                collector.errors.append(f"Page did not finish loading within {args.timeout:g} s ({args.url})")
        timings["load"] = round(time.monotonic() - started, 3)

        # Two animation frames: whatever the last scripts changed has been painted.
        browser.call("Runtime.evaluate", {
            "expression": "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))",
            "awaitPromise": True}, session=session)
        shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)
        with open(args.screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        collector.feed(browser.take_events())
        timings["screenshot"] = round(time.monotonic() - started, 3)
    finally:
        browser.close()
    stats = pngstats.stats(args.screenshot, args.threshold)
    timings["total"] = round(time.monotonic() - started, 3)
    return {"errors": collector.errors, "screenshot": args.screenshot, "stats": stats, "timings": timings}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--url", required=True)
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--height", type=int, default=768)
    parser.add_argument("--timeout", type=float, default=20, help="seconds for the whole run")
    parser.add_argument("--settle", type=float, default=0.3, help="seconds of network quiet after load")
    parser.add_argument("--threshold", type=float, default=0.01, help="blank below this fraction of off-colour pixels")
    args = parser.parse_args()
    # A SIGTERM from whoever runs us (a test timing out) still goes through `finally`: no stray Chromium.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        report = open_page(args)
    except (HarnessError, OSError, pngstats.PNGError) as error:
        print(f"open_page: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
