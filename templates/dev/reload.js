// Live reload and the error overlay of `hipkit dev`. The server puts this script into every
// HTML page it serves; `hipkit build` output never contains it.
//
// It listens to /_hipkit/dev/events (Server-Sent Events) and
//   - reloads the page when a rebuild changed the page itself, or a file that is not a page
//     (a stylesheet, script or image it may use); a view HipChat signed reloads with a fresh
//     token from the room it is open in;
//   - shows the problems of a failed rebuild over the page, and hides them when a rebuild
//     succeeds (the page keeps showing the last good build meanwhile);
//   - reloads after reconnecting to a restarted `hipkit dev`, or when builds that happened while
//     it was disconnected or since its HTML was sent changed it (or cannot be told any more).
(function () {
  "use strict";
  if (window.__hipkitDev || typeof EventSource === "undefined") return;
  // The process and build this page was served from: builds that happened before the event
  // stream below opened are news the stream never repeats, so it is opened with that build
  // (?since=) and its first event says what they changed.
  var tag = document.currentScript;
  var dev = window.__hipkitDev = {
    instance: (tag && tag.getAttribute("data-instance")) || null,
    build: tag && /^[0-9]+$/.test(tag.getAttribute("data-build") || "") ? Number(tag.getAttribute("data-build")) : null,
    connected: false, problems: null, reloading: false
  };

  // The page's path in dist/, as a rebuild names it ("help/index.html", "sidebar.html").
  var here = decodeURIComponent(location.pathname);
  if (here.charAt(here.length - 1) === "/") here += "index.html";

  function showsChange(changed) {
    for (var i = 0; i < changed.length; i++) {
      var path = "/" + changed[i];
      if (/\.html?$/i.test(path)) {
        if (here.slice(-path.length) === path || (here + ".html").slice(-path.length) === path) return true;
      } else if (!/\.json$/i.test(path)) {
        return true;
      }
    }
    return false;
  }

  function reload() {
    if (dev.reloading) return;
    dev.reloading = true;
    // A view signed by HipChat reloads with a fresh token, asked of the room it is open in (its
    // signed_request lasts an hour; an old one would reload into a 401). Elsewhere, or without
    // an answer within five seconds, the page reloads as it is. (The local HipChat asks
    // `hipkit dev` for the token: on a loaded machine that has taken more than a second.)
    var signed = /[?&]signed_request=/.test(location.search);
    var auth = window.HipChat && window.HipChat.auth;
    if (!signed || !auth || typeof auth.withToken !== "function" || window.parent === window) {
      location.reload();
      return;
    }
    var done = false;
    var fallback = setTimeout(function () { done = true; location.reload(); }, 5000);
    auth.withToken(function (error, token) {
      if (done) return;
      done = true;
      clearTimeout(fallback);
      if (error || !token) { location.reload(); return; }
      var url = new URL(location.href);
      url.searchParams.set("signed_request", token);
      location.replace(url.href);
    });
  }

  function element(tag, css, text) {
    var node = document.createElement(tag);
    if (css) node.setAttribute("style", css);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function hideOverlay() {
    var host = document.getElementById("hipkit-dev-overlay");
    if (host) host.parentNode.removeChild(host);
  }

  function showOverlay(problems) {
    hideOverlay();
    var host = document.createElement("div");
    host.id = "hipkit-dev-overlay";
    host.setAttribute("data-problems", String(problems.length));
    host.setAttribute("style", "position:fixed;inset:0;z-index:2147483647;overflow:auto;background:rgba(20,20,20,.92)");
    // A shadow root keeps the page's stylesheets off the overlay and the overlay's off the page.
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var box = element("div", "font:14px/1.45 ui-monospace,Menlo,Consolas,monospace;color:#eee;max-width:60em;margin:2em auto;padding:1.5em;" +
      "background:#1e1e1e;border-top:4px solid #d04437;border-radius:4px");
    var errors = problems.filter(function (p) { return p.severity === "error"; }).length;
    box.appendChild(element("div", "font-weight:bold;font-size:16px;color:#ff8a80",
      "hipkit dev: the build failed with " + errors + " error" + (errors === 1 ? "" : "s")));
    box.appendChild(element("div", "color:#aaa;margin-bottom:1em", "Still serving the last good build. Fix the problem and save: this goes away."));
    problems.forEach(function (p) {
      var item = element("div", "margin:1em 0 0;padding-top:1em;border-top:1px solid #333");
      item.className = "problem";
      var where = p.file ? p.file + (p.line ? ":" + p.line + ":" + p.column : "") : "";
      var head = element("div", "");
      head.appendChild(element("span", "color:" + (p.severity === "error" ? "#ff8a80" : "#ffd180"), p.severity + " "));
      if (where) head.appendChild(element("span", "color:#82b1ff", where + " "));
      head.appendChild(element("span", "color:#fff", p.message));
      head.appendChild(element("span", "color:#777", " [" + p.code + "]"));
      item.appendChild(head);
      if (p.excerpt && p.excerpt.length) {
        var pre = element("pre", "margin:.5em 0;padding:.5em;background:#111;overflow:auto");
        p.excerpt.forEach(function (line) {
          var mark = line.number === p.line;
          pre.appendChild(element("div", mark ? "color:#fff;background:#3a1f1f" : "color:#999",
            (mark ? "> " : "  ") + String(line.number).padStart(4, " ") + " | " + line.text));
          if (mark && p.column) pre.appendChild(element("div", "color:#ff8a80", new Array(p.column + 9).join(" ") + "^"));
        });
        item.appendChild(pre);
      }
      if (p.hint) item.appendChild(element("div", "color:#b9f6ca", "hint: " + p.hint));
      box.appendChild(item);
    });
    root.appendChild(box);
    (document.body || document.documentElement).appendChild(host);
  }

  function whenReady(action) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", action);
    else action();
  }

  var events = new EventSource("/_hipkit/dev/events" + (dev.build !== null ? "?since=" + dev.build : ""));
  events.addEventListener("hello", function (event) {
    var data = JSON.parse(event.data);
    var restarted = dev.instance !== null && dev.instance !== data.instance;
    // Builds this page has not heard of; `changed` lists what they changed when the server still
    // knows (since ?since=, or after a reconnect since the last event's id, the last build heard).
    var missed = dev.build !== null && dev.build !== data.build;
    dev.instance = data.instance;
    dev.build = data.build;
    dev.connected = true;
    if (restarted || (missed && (!data.changed || showsChange(data.changed)))) return reload();
    dev.problems = data.problems;
    whenReady(function () { data.problems ? showOverlay(data.problems) : hideOverlay(); });
  });
  events.addEventListener("built", function (event) {
    var data = JSON.parse(event.data);
    dev.build = data.build;
    dev.problems = null;
    if (showsChange(data.changed)) return reload();
    whenReady(hideOverlay);
  });
  events.addEventListener("failed", function (event) {
    var data = JSON.parse(event.data);
    dev.problems = data.problems;
    whenReady(function () { showOverlay(data.problems); });
  });
})();
