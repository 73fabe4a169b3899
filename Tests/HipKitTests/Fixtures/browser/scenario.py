#!/usr/bin/env python3
"""Drive one headless Chromium page through a list of steps and report what happened.

Built on open_page.py's Browser (the DevTools protocol over a pipe). The steps come as a JSON
file; each is an object with one action:

    {"navigate": URL}                       load URL and wait for its load event
    {"eval": JS}                            evaluate JS (promises awaited); its value is recorded
    {"waitFor": JS, "timeout": 10}          evaluate JS every 50 ms until it is truthy
    {"write": PATH, "text": TEXT}           write a file (an edit, as an editor would save it)
    {"replace": PATH, "old": A, "new": B}   replace A by B in a file (A must be there)
    {"click": CSS}                          a real mouse click at the centre of the first match; fails
                                            when it is missing or something else covers that point
    {"click": CSS, "frame": CSS}            the same inside the (same-origin) iframe FRAME matches
    {"type": TEXT}                          type TEXT into the focused element
    {"screenshot": PATH}                    save a PNG of the page
    {"sleep": SECONDS}
    {"name": "..."} may be added to any step, to be named in the report.

    python3 scenario.py --chromium /usr/bin/chromium --steps steps.json [--width 1024 --height 768 --timeout 60]

Prints one JSON object: {"ok": bool, "failed": null or {"step": n, "name": ..., "error": ...},
"values": [...], "timings": [...seconds when each step ended...], "errors": [page errors]}.
Exits 0 whenever the scenario ran (passed or failed); non-zero only when the harness broke.
"""
import argparse
import base64
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from open_page import Browser, ErrorCollector, HarnessError  # noqa: E402


class StepFailed(Exception):
    pass


class PageNavigated(StepFailed):
    """The page went away while an evaluation ran in it (a reload): nothing was there to answer."""


# What Chromium answers when the page navigates during Runtime.evaluate.
NAVIGATION_ERRORS = ("Inspected target navigated or closed", "Execution context was destroyed",
                     "Cannot find context with specified id")


def evaluate(browser, session, expression):
    try:
        result = browser.call("Runtime.evaluate",
                              {"expression": expression, "awaitPromise": True, "returnByValue": True},
                              session=session)
    except HarnessError as error:
        # A waitFor asks again; an eval fails as a step, saying why, instead of breaking the run.
        if any(text in str(error) for text in NAVIGATION_ERRORS):
            raise PageNavigated(f"{expression!r}: the page navigated while it was evaluated ({error})") from error
        raise
    if "exceptionDetails" in result:
        details = result["exceptionDetails"]
        text = (details.get("exception") or {}).get("description") or details.get("text", "exception")
        raise StepFailed(f"{expression!r} threw: {text.splitlines()[0]}")
    return result.get("result", {}).get("value")


def wait_for_load(browser, collector, until):
    while time.monotonic() < until:
        browser.wait_for_events(0.05)
        collector.feed(browser.take_events())
        if collector.loaded:
            return
    raise StepFailed("the page did not load in time")


def run(args):
    with open(args.steps) as f:
        steps = json.load(f)
    started = time.monotonic()
    browser = Browser(args.chromium, args.width, args.height, started + args.timeout)
    report = {"ok": True, "failed": None, "values": [], "timings": [], "errors": []}
    try:
        targets = browser.call("Target.getTargets")["targetInfos"]
        page = next((t for t in targets if t["type"] == "page"), None)
        target = page["targetId"] if page else browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": args.width, "height": args.height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.take_events()
        collector = ErrorCollector(session)
        for index, step in enumerate(steps):
            value = None
            try:
                if "navigate" in step:
                    collector.loaded = False
                    navigation = browser.call("Page.navigate", {"url": step["navigate"]}, session=session)
                    if navigation.get("errorText"):
                        raise StepFailed(f"navigation failed: {navigation['errorText']}")
                    wait_for_load(browser, collector, time.monotonic() + step.get("timeout", 15))
                elif "eval" in step:
                    value = evaluate(browser, session, step["eval"])
                elif "waitFor" in step:
                    until = time.monotonic() + step.get("timeout", 10)
                    while True:
                        try:
                            value = evaluate(browser, session, step["waitFor"])
                        except StepFailed:
                            value = None  # mid-reload the page may not be there to answer
                        if value:
                            break
                        if time.monotonic() > until:
                            raise StepFailed(f"{step['waitFor']!r} still false after {step.get('timeout', 10)} s")
                        browser.wait_for_events(0.05)
                        collector.feed(browser.take_events())
                elif "write" in step:
                    tmp = step["write"] + ".scenario-tmp"
                    with open(tmp, "w") as f:
                        f.write(step["text"])
                    os.replace(tmp, step["write"])
                elif "replace" in step:
                    with open(step["replace"]) as f:
                        text = f.read()
                    if step["old"] not in text:
                        raise StepFailed(f"{step['old']!r} is not in {step['replace']}")
                    with open(step["replace"], "w") as f:
                        f.write(text.replace(step["old"], step["new"], 1))
                elif "click" in step:
                    selector = json.dumps(step["click"])
                    frame = json.dumps(step.get("frame"))
                    # Inside a frame: the element's centre in the frame's document, then that point
                    # moved by the frame's own place in the page; both must hit what is meant.
                    box = evaluate(browser, session, f"""(() => {{
                        const f = {frame} ? document.querySelector({frame}) : null;
                        if ({frame} && (!f || !f.contentDocument)) return null;
                        const doc = f ? f.contentDocument : document;
                        const e = doc.querySelector({selector});
                        if (!e) return null;
                        e.scrollIntoView({{block: 'center', inline: 'center'}});
                        const r = e.getBoundingClientRect();
                        let x = r.left + r.width / 2, y = r.top + r.height / 2;
                        const hit = doc.elementFromPoint(x, y);
                        let ok = !!hit && (hit === e || e.contains(hit));
                        if (f) {{
                            const fr = f.getBoundingClientRect();
                            x += fr.left + f.clientLeft; y += fr.top + f.clientTop;
                            ok = ok && document.elementFromPoint(x, y) === f;
                        }}
                        return {{x: x, y: y, hit: ok, what: hit ? hit.outerHTML.slice(0, 160) : null}};
                    }})()""")
                    if not box:
                        raise StepFailed(f"nothing matches {step['click']!r}")
                    if not box["hit"]:
                        raise StepFailed(f"{step['click']!r} is covered by {box['what']}")
                    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
                        browser.call("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"], "button": "left",
                                                                  "clickCount": 1}, session=session)
                elif "type" in step:
                    browser.call("Input.insertText", {"text": step["type"]}, session=session)
                elif "screenshot" in step:
                    evaluate(browser, session, "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                    shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)
                    os.makedirs(os.path.dirname(step["screenshot"]) or ".", exist_ok=True)
                    with open(step["screenshot"], "wb") as f:
                        f.write(base64.b64decode(shot["data"]))
                elif "sleep" in step:
                    browser.wait_for_events(step["sleep"])
                else:
                    raise StepFailed(f"unknown step {step!r}")
            except StepFailed as failure:
                report["ok"] = False
                report["failed"] = {"step": index, "name": step.get("name"), "error": str(failure)}
                break
            collector.feed(browser.take_events())
            report["values"].append(value)
            report["timings"].append(round(time.monotonic() - started, 3))
        collector.feed(browser.take_events())
        report["errors"] = collector.errors
    finally:
        browser.close()
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--steps", required=True)
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--height", type=int, default=768)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        report = run(args)
    except (HarnessError, OSError) as error:
        print(f"scenario: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
