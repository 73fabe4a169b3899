"""Deterministic inputs for hipkit's benchmarks: Markdown sites, large specs, a serving project.

Everything here is a pure function of its arguments and a seed, so two runs (or two machines)
benchmark the same bytes. Only the Python standard library is used.
"""

import json
import os
import random
import subprocess
from pathlib import Path

WORDS = """
incident deploy release rollback sidebar glance dialog action webhook room message notify
server client token install scope oauth callback descriptor capability module page layout
template render build cache preview listing marketplace screenshot banner highlight summary
status lozenge label metadata queue review merge branch commit pipeline stage artifact
latency throughput memory profile trace metric alert threshold severity oncall escalation
runbook playbook owner team service cluster region replica shard index query schema migrate
backup restore snapshot archive retention policy quota limit budget forecast report export
import config environment variable secret rotate audit compliance review approve reject
the a an of to in for on with by from at as is are was be it this that these those and or
but not only each every all some any more most less fewer first last next previous new old
quick careful simple clear small large fast slow safe strict loose daily weekly monthly
""".split()

LANGS = ["swift", "python", "bash", "json", "yaml", "go", "text"]

CODE_SNIPPETS = {
    "swift": ["let build = try ProjectBuild.prepare(path)", "for page in site.pages where page.isView {",
              "    renderer.render(page, into: &files)", "}", "guard let token = request.signedRequest else { return }",
              "print(\"built \\(files.count) files\")"],
    "python": ["def handler(event, context):", "    room = event[\"item\"][\"room\"]", "    return {\"message\": f\"hi {room}\"}",
               "for key, value in sorted(settings.items()):", "    print(key, value)"],
    "bash": ["hipkit validate examples/deploy-board", "hipkit build --env dev", "curl -s localhost:8080/glances/queue.json",
             "export HIPKIT_TOKEN=$(cat token.txt)", "make test && make release"],
    "json": ["{", "  \"label\": {\"type\": \"html\", \"value\": \"<b>3</b> open\"},", "  \"status\": {\"type\": \"lozenge\"}", "}"],
    "yaml": ["glances:", "  - key: queue", "    name: Queue", "    target: queue-sidebar", "sidebars:", "  - {key: queue-sidebar, page: pages/queue.md}"],
    "go": ["func main() {", "\thttp.HandleFunc(\"/installed\", install)", "\tlog.Fatal(http.ListenAndServe(\":8080\", nil))", "}"],
    "text": ["2024-05-01T10:00:00Z deploy started", "2024-05-01T10:02:13Z deploy finished", "status=ok pages=120 warnings=0"],
}


def page_name(i):
    return "p%05d.md" % i


def _words(rng, lo, hi):
    return [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]


def _title(rng):
    return " ".join(_words(rng, 2, 5)).capitalize()


def _sentence(rng, i, n):
    words = _words(rng, 6, 18)
    # Inline markup in some sentences: emphasis, code, a link to another page, an external link,
    # strikethrough, a bare autolink, and quotes for smart punctuation.
    roll = rng.random()
    pos = rng.randrange(len(words))
    if roll < 0.18 and n > 1:
        other = rng.randrange(n - 1)
        other = other if other < i else other + 1
        words[pos] = "[%s](%s)" % (" ".join(_words(rng, 1, 3)), page_name(other))
    elif roll < 0.26:
        words[pos] = "[%s](https://docs.example.com/%s/%s)" % (words[pos], rng.choice(WORDS), rng.choice(WORDS))
    elif roll < 0.36:
        words[pos] = "`%s.%s()`" % (words[pos], rng.choice(WORDS))
    elif roll < 0.46:
        words[pos] = "**%s**" % words[pos]
    elif roll < 0.54:
        words[pos] = "*%s*" % words[pos]
    elif roll < 0.58:
        words[pos] = "~~%s~~" % words[pos]
    elif roll < 0.61:
        words[pos] = "https://status.example.com/%s" % rng.choice(WORDS)
    elif roll < 0.66:
        words[pos] = "\"%s\"" % words[pos]
    s = " ".join(words)
    return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "!", "?", " -- really."])


def _paragraph(rng, i, n):
    return " ".join(_sentence(rng, i, n) for _ in range(rng.randint(2, 6)))


def _block(rng, i, n):
    kind = rng.choices(["p", "ul", "ol", "task", "table", "code", "quote", "h3"],
                       weights=[40, 10, 6, 4, 8, 8, 4, 6])[0]
    if kind == "p":
        return _paragraph(rng, i, n)
    if kind == "ul":
        return "\n".join("- " + _sentence(rng, i, n) for _ in range(rng.randint(3, 7)))
    if kind == "ol":
        return "\n".join("%d. %s" % (k + 1, _sentence(rng, i, n)) for k in range(rng.randint(3, 6)))
    if kind == "task":
        return "\n".join("- [%s] %s" % (rng.choice([" ", "x"]), " ".join(_words(rng, 3, 8))) for _ in range(rng.randint(2, 5)))
    if kind == "table":
        cols = rng.randint(3, 5)
        head = [rng.choice(WORDS).capitalize() for _ in range(cols)]
        rows = ["| " + " | ".join(head) + " |",
                "|" + "|".join(rng.choice([" --- ", " :-- ", " --: ", " :-: "]) for _ in range(cols)) + "|"]
        for _ in range(rng.randint(3, 8)):
            cells = []
            for _ in range(cols):
                r = rng.random()
                cells.append(str(rng.randint(0, 9999)) if r < 0.3 else ("`%s`" % rng.choice(WORDS)) if r < 0.4 else " ".join(_words(rng, 1, 4)))
            rows.append("| " + " | ".join(cells) + " |")
        return "\n".join(rows)
    if kind == "code":
        lang = rng.choice(LANGS)
        lines = [rng.choice(CODE_SNIPPETS[lang]) for _ in range(rng.randint(3, 12))]
        return "```%s\n%s\n```" % (lang, "\n".join(lines))
    if kind == "quote":
        return "> " + _sentence(rng, i, n) + "\n> " + _sentence(rng, i, n)
    return "### " + _title(rng)


def page(rng, i, n):
    """(title, body): a page of 2–8 KB of Markdown. The body has no front matter."""
    title = _title(rng) + " %d" % i
    target = rng.randint(2048, 8192)
    parts = ["# " + title, _paragraph(rng, i, n)]
    size = sum(len(p) for p in parts)
    while size < target - 200:
        if rng.random() < 0.2:
            block = "## " + _title(rng)
        else:
            block = _block(rng, i, n)
        parts.append(block)
        size += len(block) + 2
    return title, "\n\n".join(parts) + "\n"


def markdown_site(directory, n, seed):
    """Writes n pages as `directory/pNNNNN.md` (YAML front matter with the title, then the body)
    and returns (bodies, total_bytes): bodies are the pages without front matter, for cmark-gfm."""
    rng = random.Random("%s-%d" % (seed, n))
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    bodies = []
    total = 0
    for i in range(n):
        title, body = page(rng, i, n)
        text = "---\ntitle: %s\n---\n\n%s" % (json.dumps(title), body)
        data = text.encode()
        (directory / page_name(i)).write_bytes(data)
        total += len(data)
        bodies.append(body)
    return bodies, total


ADDON_FOR_PAGES = """\
key: com.example.bench-docs
name: Bench Docs
description: Generated Markdown pages for hipkit's build benchmark.
baseUrl: https://bench.example.com
"""


def hipkit_site(root, pages_dir, scaffold_with=None):
    """A hipkit project at root whose pages/ holds pages_dir's files (hard links). With
    scaffold_with (a hipkit binary), the project is first `hipkit init --template full`: the
    scaffold's add-on, views and Marketplace listing, with the generated pages beside its own."""
    root = Path(root)
    if scaffold_with:
        subprocess.run([str(scaffold_with), "init", str(root), "--template", "full"], check=True,
                       stdout=subprocess.DEVNULL)
    else:
        (root / "pages").mkdir(parents=True, exist_ok=True)
        (root / "addon.yaml").write_text(ADDON_FOR_PAGES)
    for f in sorted(Path(pages_dir).iterdir()):
        os.link(f, root / "pages" / f.name)


HUGO_CONFIG = """\
baseURL = "https://bench.example.com/"
title = "Bench Docs"
# page.md -> page.html, like hipkit
uglyURLs = true
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404", "section"]
[markup.goldmark.renderer]
unsafe = false
[markup.goldmark.extensions]
typographer = true
linkify = true
strikethrough = true
table = true
taskList = true
# hipkit does not highlight code; Hugo's Chroma would be extra work only Hugo does.
[markup.highlight]
codeFences = false
"""

# Links to other pages are written `pNNNNN.md`; hipkit points them at the built page, and this hook
# does the same for Hugo, so both sites link the same way.
HUGO_LINK_HOOK = """<a href="{{ replaceRE `\\.md(#|$)` ".html$1" .Destination | safeURL }}"{{ with .Title }} title="{{ . }}"{{ end }}>{{ .Text | safeHTML }}</a>"""


def hugo_site(root, pages_dir, shell):
    """A Hugo site at root with pages_dir's files as content (hard links) and a layout that is the
    same HTML shell as hipkit's `page` layout (`shell` = (head, tail) around the content)."""
    root = Path(root)
    content = root / "content"
    content.mkdir(parents=True, exist_ok=True)
    for f in sorted(Path(pages_dir).iterdir()):
        os.link(f, content / f.name)
    (root / "config.toml").write_text(HUGO_CONFIG)
    layouts = root / "layouts" / "_default"
    (layouts / "_markup").mkdir(parents=True, exist_ok=True)
    head, tail = shell
    (layouts / "single.html").write_text(head + "{{ .Content }}" + tail)
    (layouts / "_markup" / "render-link.html").write_text(HUGO_LINK_HOOK)
    (root / "layouts" / "index.html").write_text(
        "<!DOCTYPE html><html><head><title>{{ .Site.Title }}</title></head><body><h1>{{ .Site.Title }}</h1></body></html>\n")


def hugo_shell(layouts_dir):
    """The HTML around a page's content in hipkit's built-in `page` layout: base.mustache with its
    style and view-script partials inlined, Mustache variables replaced by Go template ones."""
    layouts_dir = Path(layouts_dir)
    try:
        style = (layouts_dir / "style.mustache").read_text()
        script = (layouts_dir / "view-script.mustache").read_text()
    except OSError:
        style, script = "<style>body { font: 14px sans-serif; }</style>\n", "<script>void 0;</script>\n"
    head = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>{{ .Title }}</title>\n" + style +
            "</head>\n<body class=\"hipkit-view hipkit-page\">\n<main class=\"hipkit-page hipkit-page-page\">\n")
    tail = ("</main>\n<script type=\"application/json\" id=\"hipkit-view\">{\"view\":\"page\"}</script>\n"
            + script + "</body>\n</html>\n")
    return head, tail


def modules_spec(path, per_kind):
    """An addon.yaml with per_kind glances, sidebars, dialogs and actions, all by URL (no pages): the
    views and icons on another host (an add-on whose pages live elsewhere), so that the build does
    not ask for files of its own at those URLs."""
    lines = [
        "key: com.example.many-modules",
        "name: Many Modules",
        "description: A spec with many modules, for the validation benchmark.",
        "baseUrl: https://many.example.com",
        "glances:",
    ]
    for k in range(per_kind):
        lines += ["  - key: glance-%d" % k,
                  "    name: Glance %d" % k,
                  "    queryUrl: /glances/g%d" % k,
                  "    icon: {url: \"https://static.example.net/icons/g%d.png\", url@2x: \"https://static.example.net/icons/g%d@2x.png\"}" % (k, k),
                  "    target: sidebar-%d" % k]
    lines.append("sidebars:")
    for k in range(per_kind):
        lines.append("  - {key: sidebar-%d, name: Sidebar %d, url: \"https://static.example.net/sidebars/s%d\"}" % (k, k, k))
    lines.append("dialogs:")
    for k in range(per_kind):
        lines.append("  - {key: dialog-%d, title: Dialog %d, url: \"https://static.example.net/dialogs/d%d\", size: medium}" % (k, k, k))
    lines.append("actions:")
    for k in range(per_kind):
        lines.append("  - {key: action-%d, name: Action %d, location: %s, target: dialog-%d}"
                     % (k, k, "message" if k % 2 == 0 else "input", k))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n")


def serve_project(root, seed, html_body_bytes=1000):
    """A project for the serving benchmark: a public page (`pages/about.md`, about 5 KB of HTML once
    in the `page` layout), a sidebar view with JWT authentication, a glance with static data, and
    a 1 MB asset of incompressible bytes."""
    rng = random.Random("%s-serve" % seed)
    root = Path(root)
    (root / "pages").mkdir(parents=True, exist_ok=True)
    (root / "assets").mkdir(parents=True, exist_ok=True)
    (root / "addon.yaml").write_text("""\
key: com.example.bench-serve
name: Bench Serve
description: The serving benchmark's add-on.
baseUrl: https://serve.example.com
install: {global: true, room: true, callbackUrl: /installed}
glances:
  - key: queue
    name: Queue
    icon: {url: "https://static.example.net/q.png", url@2x: "https://static.example.net/q@2x.png"}
    target: queue-sidebar
    data:
      label: "<b>4</b> to review"
      status: {lozenge: {label: 2 NEW, type: new}}
      metadata: {waiting: 4, fresh: 2}
sidebars:
  - {key: queue-sidebar, name: Queue, page: pages/queue.md}
""")
    body = ["# About the bench add-on", ""]
    size = 0
    while size < html_body_bytes:
        s = _paragraph(rng, 0, 1)
        body.append(s)
        body.append("")
        size += len(s)
    (root / "pages" / "about.md").write_text("---\ntitle: About\n---\n\n" + "\n".join(body))
    (root / "pages" / "queue.md").write_text("---\ntitle: Queue\n---\n\n# Queue\n\nWaiting for review.\n")
    blob = random.Random("%s-blob" % seed).randbytes(1 << 20)
    (root / "assets" / "blob.bin").write_bytes(blob)
