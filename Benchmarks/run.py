#!/usr/bin/env python3
"""hipkit's benchmark suite: hipkit against Hugo, cmark-gfm and nginx, side by side in one run.

    python3 Benchmarks/run.py [--hipkit .build/release/hipkit] [--quick]

Every figure is a ratio of two timings taken in the same run (hipkit's and a reference's, the
repetitions interleaved so that load from elsewhere on the machine falls on both), and every
timing is a median over repeated runs. The results are printed as a table and written to
Benchmarks/results/latest.json. Benchmarks/README.md says what each row means.

Python 3 standard library only; the tools (hugo, cmark-gfm, nginx, wrk, hyperfine, GNU time)
come from Debian and are installed with apt-get when missing.
"""

import argparse
import base64
import hashlib
import datetime
import json
import os
import re
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import sitegen  # noqa: E402
from hipkit_support import PostgresCluster, free_port, jwt, request, rss_kib  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GNU_TIME = "/usr/bin/time"
NGINX = "/usr/sbin/nginx"

# (command, Debian package) — all in bookworm's main archive.
TOOLS = [("hugo", "hugo"), ("cmark-gfm", "cmark-gfm"), (NGINX, "nginx"), ("wrk", "wrk"),
         ("hyperfine", "hyperfine"), (GNU_TIME, "time"), ("valgrind", "valgrind")]

# Repetitions, chosen so the whole run fits in 15 minutes on 2 cores (see README.md).
FULL = {
    "sizes": [100, 1000, 10000],
    "build_rounds": {100: 11, 1000: 7, 10000: 5},
    "hyperfine_runs": 30,
    "validate_runs": 10,
    "wrk_seconds": 5,
    "wrk_rounds": 3,
    "dev_edits": 30,
    "callgrind_sizes": [1000, 10000],
}
QUICK = {
    "sizes": [100, 1000],
    "build_rounds": {100: 3, 1000: 2, 10000: 1},
    "hyperfine_runs": 5,
    "validate_runs": 3,
    "wrk_seconds": 2,
    "wrk_rounds": 1,
    "dev_edits": 8,
    "callgrind_sizes": [100],
}

WRK_THREADS = 2
WRK_CONNECTIONS = 32
SERVER_WORKERS = 2

START = time.monotonic()


def log(message):
    elapsed = int(time.monotonic() - START)
    print("[%2d:%02d] %s" % (elapsed // 60, elapsed % 60, message), flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Tools and machine

def ensure_tools(install):
    missing = [pkg for cmd, pkg in TOOLS if not (os.path.isabs(cmd) and os.access(cmd, os.X_OK) or shutil.which(cmd))]
    if not missing:
        return
    if not install:
        raise BenchError("missing tools (Debian packages): %s" % " ".join(missing))
    log("installing %s with apt-get" % " ".join(missing))
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(prefix + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(prefix + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                   check=True, env=env, stdout=subprocess.DEVNULL)
    # Debian starts nginx when it is installed; stop that one (only the one the package started).
    if "nginx" in missing and os.path.exists("/run/nginx.pid"):
        subprocess.run(prefix + ["/usr/sbin/nginx", "-s", "stop"], stderr=subprocess.DEVNULL)


def first_line(argv):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        return p.stdout.strip().splitlines()[0] if p.stdout.strip() else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": first_line(["sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""]),
        "loadavg_start": open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else None,
    }


def default_tmpdir():
    """/dev/shm when it is a tmpfs with 4 GiB free: both tools then write to memory, so a build
    times the tool rather than this virtual disk (whose write-back stalls, shared with everything
    else on the host, varied a build's time several-fold in trials). None: the system default."""
    try:
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize >= 4 << 30 and os.access("/dev/shm", os.W_OK) and \
                filesystem_of(Path("/dev/shm")) == "tmpfs":
            return "/dev/shm"
    except OSError:
        pass
    return None


def filesystem_of(path):
    """The type of the filesystem holding path, from /proc/mounts (longest mount point that is a prefix)."""
    best, kind = "", "unknown"
    try:
        for line in open("/proc/mounts"):
            parts = line.split()
            mount = parts[1]
            if (str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
                best, kind = mount, parts[2]
    except OSError:
        pass
    return kind


def tool_versions(hipkit):
    return {
        "hipkit": first_line([hipkit, "--version"]),
        "hugo": first_line(["hugo", "version"]),
        "cmark-gfm": first_line(["cmark-gfm", "--version"]),
        "nginx": first_line([NGINX, "-v"]),
        "wrk": first_line(["wrk", "-v"]),
        "hyperfine": first_line(["hyperfine", "--version"]),
        "python": platform.python_version(),
        "swift": first_line(["swift", "--version"]),
    }


def git_commit():
    """The commit of the tree the suite runs from, with "+dirty" when files differ from it
    (Benchmarks/ and the Makefile, which hold the suite and its target, aside)."""
    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    try:
        p = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", ".", ":!Benchmarks", ":!Makefile"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=30)
        if commit and p.stdout.strip():
            commit += "+dirty"
    except (OSError, subprocess.SubprocessError):
        pass
    return commit


def has_command(hipkit, name):
    """Whether `hipkit --help` lists the subcommand (an unknown one's --help prints the top help, exit 0)."""
    p = subprocess.run([hipkit, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return any(line.split()[:1] == [name] and line.startswith("  ") for line in p.stdout.splitlines())


# ---------------------------------------------------------------------------------------------
# Timing

def median(values):
    return statistics.median(values) if values else None


def timed(argv, cwd=None, stdout_path=None):
    """Runs argv under GNU time; returns (wall seconds, peak RSS in KiB). Raises on failure."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
        try:
            t0 = time.perf_counter()
            p = subprocess.run([GNU_TIME, "-f", "%M", "-o", tf.name] + list(argv), cwd=cwd, stdout=out,
                               stderr=subprocess.PIPE)
            elapsed = time.perf_counter() - t0
        finally:
            if stdout_path:
                out.close()
        if p.returncode != 0:
            raise BenchError("%s failed (%d): %s" % (" ".join(map(str, argv)), p.returncode,
                                                      p.stderr.decode(errors="replace")[-2000:]))
        return elapsed, int(tf.read().split()[-1])


def timed_parallel(jobs):
    """Starts every (argv, stdout_path) at once; returns (wall seconds until the last ends, largest
    peak RSS in KiB)."""
    files, procs = [], []
    t0 = time.perf_counter()
    for argv, out_path in jobs:
        tf = tempfile.NamedTemporaryFile("r", suffix=".time")
        out = open(out_path, "wb")
        files.append((tf, out))
        procs.append(subprocess.Popen([GNU_TIME, "-f", "%M", "-o", tf.name] + list(argv), stdout=out,
                                      stderr=subprocess.PIPE))
    errors = []
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            errors.append(err.decode(errors="replace")[-500:])
    elapsed = time.perf_counter() - t0
    peaks = []
    for tf, out in files:
        out.close()
        try:
            peaks.append(int(tf.read().split()[-1]))
        except (ValueError, IndexError):
            pass
        tf.close()
    if errors:
        raise BenchError("parallel job failed: %s" % errors[0])
    return elapsed, max(peaks) if peaks else 0


def instructions(argv, cwd=None):
    """Instructions `argv` executes, all threads and children's own work included, as
    `valgrind --tool=callgrind` counts them (its "Collected" Ir): a figure that does not depend
    on the machine's load, unlike a timing."""
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + [str(a) for a in argv],
                       cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    text = p.stderr.decode(errors="replace")
    found = re.search(r"Collected : (\d+)", text)
    if p.returncode != 0 or not found:
        raise BenchError("callgrind %s: exit %d: %s" % (argv[0], p.returncode, text[-1000:]))
    return int(found.group(1))


def callgrind_binary(ctx):
    """The hipkit binary without its debug information, which Debian's valgrind (3.19) cannot
    read from a Swift 6 release build (DWARF 5 forms it does not know): the same code, so the same
    instruction count. Made once per run, in the work folder."""
    if "callgrind_hipkit" not in ctx:
        stripped = ctx["work"] / "hipkit-stripped"
        subprocess.run(["objcopy", "--strip-debug", ctx["hipkit"], str(stripped)], check=True)
        ctx["callgrind_hipkit"] = str(stripped)
    return ctx["callgrind_hipkit"]


def hyperfine(commands, runs, workdir, name, warmup=3, prepare=None):
    """Runs hyperfine (no shell, -N) over {label: argv}; returns {label: {median, mean, stddev,
    min, max, runs}} in seconds."""
    export = Path(workdir) / ("hyperfine-%s.json" % name)
    argv = ["hyperfine", "-N", "--style", "none", "--warmup", str(warmup), "--runs", str(runs),
            "--export-json", str(export)]
    labels = list(commands)
    for label in labels:
        argv += ["--command-name", label]
        if prepare is not None:
            argv += ["--prepare", prepare.get(label) or "true"]
    argv += [" ".join(commands[label]) for label in labels]
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise BenchError("hyperfine failed: %s" % p.stderr.decode(errors="replace")[-2000:])
    data = json.loads(export.read_text())
    out = {}
    for result in data["results"]:
        out[result["command"]] = {k: result[k] for k in ("median", "mean", "stddev", "min", "max")}
        out[result["command"]]["runs"] = len(result["times"])
    return out


def rmtree(*paths):
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)
        try:
            os.unlink(path)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# Results

class Results:
    def __init__(self):
        self.rows = []
        self.measurements = {}

    def row(self, group, figure, hipkit, reference, ratio=None, ratio_of="", target="", met=None,
            pending=False, note=""):
        self.rows.append({"group": group, "figure": figure, "hipkit": hipkit, "reference": reference,
                          "ratio": None if ratio is None else round(ratio, 4), "ratio_of": ratio_of,
                          "target": target, "met": met, "pending": pending, "note": note})


def fmt_time(seconds):
    if seconds is None:
        return "—"
    if seconds < 1:
        return "%.1f ms" % (seconds * 1000)
    return "%.2f s" % seconds


def fmt_ratio(ratio):
    if ratio is None:
        return "—"
    return "%.2f×" % ratio if ratio < 10 else "%.0f×" % ratio


def status(row):
    if row["pending"]:
        return "pending"
    if row["met"] is None:
        return "—"
    return "met" if row["met"] else "NOT MET"


def table(rows):
    headers = ["benchmark", "hipkit", "reference", "ratio", "target", "status"]
    lines = [[r["figure"], r["hipkit"], r["reference"],
              (fmt_ratio(r["ratio"]) + (" " + r["ratio_of"] if r["ratio_of"] else "")) if r["ratio"] is not None else "—",
              r["target"] or "—", status(r)] for r in rows]
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# 1. Build throughput

def bench_build(ctx, n):
    hipkit, work, res, cfg = ctx["hipkit"], ctx["work"], ctx["results"], ctx["cfg"]
    rounds = cfg["build_rounds"][n]
    base = work / ("site-%d" % n)
    log("build/%d: generating %d pages (seed %s)" % (n, n, ctx["seed"]))
    bodies, total = sitegen.markdown_site(base / "md", n, ctx["seed"])
    hk = base / "hipkit"
    hg = base / "hugo"
    # hipkit builds the `full` scaffold (its add-on, views and Marketplace listing) with the pages;
    # Hugo builds the same Markdown.
    sitegen.hipkit_site(hk, base / "md", scaffold_with=hipkit)
    sitegen.hugo_site(hg, base / "md", sitegen.hugo_shell(ROOT / "templates" / "layouts"))

    # cmark-gfm, the floor: the same Markdown (bodies without front matter) rendered with the
    # extensions and options hipkit uses (GFM table, strikethrough, autolink, tasklist, tagfilter;
    # smart punctuation; UTF-8 validation; raw HTML left out). One process per page would mostly
    # time process start-up (~1 ms each), which is unfair to cmark; so the pages are concatenated
    # and split into one chunk per core, and one cmark-gfm process per core renders its chunk in
    # parallel — hipkit renders pages on every core too. Reading one big file instead of n small
    # ones favours cmark slightly; that is the point of a floor.
    cores = os.cpu_count() or 1
    chunks = [bodies[i::cores] for i in range(cores)]
    cmark_jobs = []
    for i, chunk in enumerate(chunks):
        src = base / ("cmark-%d.md" % i)
        src.write_text("\n\n".join(chunk))
        cmark_jobs.append((["cmark-gfm", "--smart", "--validate-utf8", "-e", "table", "-e", "strikethrough",
                            "-e", "autolink", "-e", "tasklist", "-e", "tagfilter", str(src)],
                           base / ("cmark-%d.html" % i)))

    # The no-change rebuild runs in its own copy of the project (the same pages, hard-linked), built
    # once with the cache before the rounds; each round then times `hipkit build` there again — the
    # second of two builds with nothing changed in between.
    hk_cached = base / "hipkit-cached"
    sitegen.hipkit_site(hk_cached, base / "md", scaffold_with=hipkit)

    def hipkit_clean():
        rmtree(hk / "dist", hk / ".hipkit")
        return timed([hipkit, "build", str(hk), "--no-cache"])

    def hipkit_rebuild():
        return timed([hipkit, "build", str(hk_cached)])

    def hugo_clean():
        rmtree(hg / "public", hg / "resources", hg / ".hugo_build.lock")
        return timed(["hugo", "--source", str(hg), "--destination", str(hg / "public"), "--quiet",
                      "--cacheDir", str(base / "hugo-cache")])

    def cmark():
        return timed_parallel(cmark_jobs)

    log("build/%d: warm-up and output check" % n)
    hipkit_clean()
    fill_seconds, _ = timed([hipkit, "build", str(hk_cached)])
    hugo_clean()
    cmark()
    hk_pages = sum(1 for p in (hk / "dist").glob("p*.html"))
    hg_pages = sum(1 for p in (hg / "public").glob("p*.html"))
    if hk_pages != n or hg_pages != n:
        raise BenchError("build/%d: hipkit wrote %d pages, Hugo %d" % (n, hk_pages, hg_pages))
    sample = sorted((hk / "dist").glob("p*.html"))[0].name
    hk_size = (hk / "dist" / sample).stat().st_size
    hg_size = (hg / "public" / sample).stat().st_size

    samples = {"hipkit": [], "hugo": [], "cmark": [], "hipkit_rebuild": []}
    peaks = {k: [] for k in samples}
    for r in range(rounds):
        log("build/%d: round %d/%d" % (n, r + 1, rounds))
        for name, fn in (("hipkit", hipkit_clean), ("hugo", hugo_clean), ("cmark", cmark),
                         ("hipkit_rebuild", hipkit_rebuild)):
            t, peak = fn()
            samples[name].append(t)
            peaks[name].append(peak)
    med = {k: median(v) for k, v in samples.items()}
    counted = None
    if n in cfg["callgrind_sizes"]:
        log("build/%d: instructions under callgrind (hipkit clean build, cmark-gfm)" % n)
        rmtree(hk / "dist", hk / ".hipkit")
        counted = {"hipkit": instructions([callgrind_binary(ctx), "build", str(hk), "--no-cache"]),
                   "cmark": sum(instructions(argv) for argv, _ in cmark_jobs)}
    res.measurements["build_%d" % n] = {
        "instructions": counted,
        "pages": n, "markdown_bytes": total, "rounds": rounds, "seconds": samples, "median_seconds": med,
        "peak_rss_kib": peaks, "median_peak_rss_mib": {k: round(median(v) / 1024, 1) for k, v in peaks.items()},
        "sample_page": sample, "sample_page_bytes": {"hipkit": hk_size, "hugo": hg_size},
        "hipkit_cache_filling_build_seconds": fill_seconds,
    }
    per = lambda t: "%s (%.3f ms/page)" % (fmt_time(t), t / n * 1000)  # noqa: E731
    # The targets apply from 1,000 pages; at 100 a build is mostly start-up and the scaffold.
    targeted = n >= 1000
    label = "clean build, `full` + %s pages" % format(n, ",")
    r_hugo = med["hipkit"] / med["hugo"]
    res.row("build", label + ": hipkit vs Hugo", per(med["hipkit"]), "Hugo " + per(med["hugo"]),
            r_hugo, "hipkit/Hugo", "≤ 0.4×" if targeted else "", (r_hugo <= 0.4) if targeted else None)
    r_cmark = med["hipkit"] / med["cmark"]
    res.row("build", label + ": hipkit vs cmark-gfm, time", per(med["hipkit"]),
            "cmark-gfm " + per(med["cmark"]), r_cmark, "hipkit/cmark", "", None)
    if counted:
        r_ir = counted["hipkit"] / counted["cmark"]
        res.row("build", label + ": hipkit vs cmark-gfm, instructions (callgrind)",
                "%.2f G" % (counted["hipkit"] / 1e9), "cmark-gfm %.2f G" % (counted["cmark"] / 1e9),
                r_ir, "hipkit/cmark", "≤ 2×" if targeted else "", (r_ir <= 2.0) if targeted else None)
    r_re = med["hipkit_rebuild"] / med["hipkit"]
    res.row("build", "no-change rebuild, %s pages" % format(n, ","), fmt_time(med["hipkit_rebuild"]),
            "clean " + fmt_time(med["hipkit"]), r_re, "rebuild/clean", "< 0.10×" if targeted else "",
            (r_re < 0.10) if targeted else None)
    if n == max(cfg["sizes"]):
        mh, mg = median(peaks["hipkit"]) / 1024, median(peaks["hugo"]) / 1024
        big = n >= 10000
        res.row("build", "build %s pages: peak memory" % format(n, ","), "%.0f MB" % mh, "Hugo %.0f MB" % mg,
                mh / mg, "hipkit/Hugo", "≤ 0.1×" if big else "", (mh / mg <= 0.1) if big else None)
    log("build/%d: hipkit %s, Hugo %s, cmark-gfm %s, rebuild %s" % (
        n, fmt_time(med["hipkit"]), fmt_time(med["hugo"]), fmt_time(med["cmark"]), fmt_time(med["hipkit_rebuild"])))
    rmtree(base)


# ---------------------------------------------------------------------------------------------
# 2. Cold start

def bench_cold(ctx):
    hipkit, work, res, cfg = ctx["hipkit"], ctx["work"], ctx["results"], ctx["cfg"]
    project = work / "full"
    rmtree(project)
    subprocess.run([hipkit, "init", str(project), "--template", "full"], check=True, stdout=subprocess.DEVNULL)
    log("cold start: hyperfine over `hipkit build` and `hipkit validate` of the full scaffold")
    runs = cfg["hyperfine_runs"]
    commands = {
        "build": [hipkit, "build", str(project)],
        "validate": [hipkit, "validate", str(project)],
        "version": [hipkit, "--version"],
    }
    # Each build starts without dist/ and without .hipkit/cache: a cold build.
    prepare = {"build": "rm -rf %s %s" % (project / "dist", project / ".hipkit")}
    out = hyperfine(commands, runs, work, "cold", prepare=prepare)
    res.measurements["cold_start"] = out
    b, v, floor = out["build"]["median"], out["validate"]["median"], out["version"]["median"]
    res.row("cold", "cold `hipkit build` of `full` (no cache)", fmt_time(b), "`hipkit --version` " + fmt_time(floor),
            b / floor, "build/--version", "< 80 ms", b < 0.080)
    res.row("cold", "`hipkit validate` of `full`", fmt_time(v), "`hipkit --version` " + fmt_time(floor),
            v / floor, "validate/--version", "< 30 ms", v < 0.030)
    log("cold start: build %s, validate %s, --version %s" % (fmt_time(b), fmt_time(v), fmt_time(floor)))


# ---------------------------------------------------------------------------------------------
# 3. Validation scale

def bench_validate(ctx):
    hipkit, work, res, cfg = ctx["hipkit"], ctx["work"], ctx["results"], ctx["cfg"]
    big = work / "modules-5000" / "addon.yaml"
    small = work / "modules-4" / "addon.yaml"
    sitegen.modules_spec(big, 1250)
    sitegen.modules_spec(small, 1)
    for spec in (big, small):
        p = subprocess.run([hipkit, "validate", str(spec)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            raise BenchError("validate %s failed: %s" % (spec, p.stdout.decode(errors="replace")[-2000:]))
    log("validation: hyperfine over 5,000 modules and 4 modules")
    out = hyperfine({"5000": [hipkit, "validate", str(big)], "4": [hipkit, "validate", str(small)]},
                    cfg["validate_runs"], work, "validate", warmup=1)
    peaks = {"5000": [], "4": []}
    for _ in range(3):
        for key, spec in (("5000", big), ("4", small)):
            peaks[key].append(timed([hipkit, "validate", str(spec)])[1])
    res.measurements["validate_5000"] = {"seconds": out, "peak_rss_kib": peaks,
                                         "spec_bytes": big.stat().st_size}
    t5000, t4 = out["5000"]["median"], out["4"]["median"]
    m5000, m4 = median(peaks["5000"]) / 1024, median(peaks["4"]) / 1024
    res.row("validate", "validate 5,000 modules", fmt_time(t5000), "4 modules " + fmt_time(t4),
            t5000 / t4, "5,000/4", "< 0.5 s", t5000 < 0.5)
    res.row("validate", "validate 5,000 modules: peak memory", "%.1f MB" % m5000, "4 modules %.1f MB" % m4,
            m5000 / m4, "5,000/4", "", None)
    log("validation: 5,000 modules %s (%.1f MB), 4 modules %s (%.1f MB)" % (fmt_time(t5000), m5000, fmt_time(t4), m4))


# ---------------------------------------------------------------------------------------------
# 4–5. Serving and memory

def wait_for_port(port, proc, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError("server exited with %d before listening" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError("nothing listens on 127.0.0.1:%d after %d s" % (port, seconds))


def tree_rss_kib(pid):
    """VmRSS of pid and its children (nginx's master and workers)."""
    total = rss_kib(pid) or 0
    try:
        children = open("/proc/%d/task/%d/children" % (pid, pid)).read().split()
    except OSError:
        children = []
    for child in children:
        total += rss_kib(int(child)) or 0
    return total


def parse_wrk(text):
    def seconds(value):
        for unit, scale in (("us", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0)):
            if value.endswith(unit):
                return float(value[: -len(unit)]) * scale
        return float(value)

    out = {"errors": 0, "non_2xx": 0}
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            out["rps"] = float(parts[1])
        elif len(parts) == 2 and parts[0] in ("50%", "75%", "90%", "99%"):
            out["p" + parts[0].rstrip("%")] = seconds(parts[1])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            out["non_2xx"] = int(parts[-1])
        elif line.strip().startswith("Socket errors:"):
            out["errors"] = sum(int(x.rstrip(",")) for x in parts if x.rstrip(",").isdigit())
        elif "requests in" in line:
            out["requests"] = int(parts[0])
    if "rps" not in out or "p99" not in out:
        raise BenchError("could not read wrk's output:\n" + text)
    return out


def run_wrk(url, seconds, headers=(), script=None, connections=WRK_CONNECTIONS):
    argv = ["wrk", "-t%d" % WRK_THREADS, "-c%d" % connections, "-d%ds" % seconds, "--timeout", "5s", "--latency"]
    for h in headers:
        argv += ["-H", h]
    if script:
        argv += ["-s", str(script)]
    argv.append(url)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=seconds + 30)
    result = parse_wrk(p.stdout)
    if result["non_2xx"] or result["errors"]:
        raise BenchError("wrk %s: %d non-2xx responses, %d socket errors" % (url, result["non_2xx"], result["errors"]))
    return result


def nginx_conf(work, dist, port):
    tmp = work / "nginx-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    conf = work / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text("""\
# The reference static server: nginx as Debian ships it, two worker processes, logging off.
%(user)sworker_processes %(workers)d;
daemon off;
pid %(tmp)s/nginx.pid;
error_log %(tmp)s/error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    client_body_temp_path %(tmp)s/body;
    proxy_temp_path %(tmp)s/proxy;
    fastcgi_temp_path %(tmp)s/fastcgi;
    uwsgi_temp_path %(tmp)s/uwsgi;
    scgi_temp_path %(tmp)s/scgi;
    server {
        listen 127.0.0.1:%(port)d;
        root %(dist)s;
        index index.html;
    }
}
""" % {"user": user, "workers": SERVER_WORKERS, "tmp": tmp, "port": port, "dist": dist})
    return conf


class Server:
    def __init__(self, name, argv, port, stdout_path):
        self.name, self.port = name, port
        self.log = open(stdout_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(port, self.proc)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def serve_help(hipkit):
    p = subprocess.run([hipkit, "serve", "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.stdout


def pending_serving(res, why):
    for figure, target in (("serve 5 KB HTML page: req/s", "≥ 0.8×"), ("serve 5 KB HTML page: p99", "≤ 2×"),
                           ("serve static glance JSON: req/s", "≥ 0.8×"), ("serve static glance JSON: p99", "≤ 2×"),
                           ("serve 1 MB asset: req/s", ""), ("serve 1 MB asset: p99", ""),
                           ("serve 1,000-page preview: req/s", "≥ 0.8×"), ("serve 1,000-page preview: p99", "≤ 2×"),
                           ("glance queryUrl with JWT check: req/s", "≥ 0.5×"),
                           ("glance queryUrl with JWT check: p99", "≤ 2×"),
                           ("`hipkit serve` RSS idle, `full`", "< 30 MB"),
                           ("`hipkit serve` RSS idle, 1,000-page site", "< 40 MB"),
                           ("`hipkit serve` RSS under load (peak)", "< 60 MB")):
        res.row("serve", figure, "—", "—", None, "", target, None, True, why)


def bench_serving(ctx):
    hipkit, work, res, cfg = ctx["hipkit"], ctx["work"], ctx["results"], ctx["cfg"]
    if not has_command(hipkit, "serve"):
        log("serving: `hipkit serve` does not exist in this build; rows marked pending")
        pending_serving(res, "pending `hipkit serve`")
        return
    # Idle memory with the `full` scaffold: a server started on its build, before any request.
    full = work / "serve-full"
    rmtree(full)
    subprocess.run([hipkit, "init", str(full), "--template", "full"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([hipkit, "build", str(full)], check=True, stdout=subprocess.DEVNULL)
    full_port = free_port()
    full_server = Server("hipkit", [hipkit, "serve", str(full / "dist"), "--host", "127.0.0.1", "--port",
                                    str(full_port), "--data", str(full / ".hipkit"), "--no-verify-installs"],
                         full_port, work / "hipkit-serve-full.out")
    try:
        time.sleep(1.0)
        full_idle_kib = rss_kib(full_server.proc.pid)
    finally:
        full_server.stop()

    # The serving site: a public page, a glance, a 1 MB asset, and 1,000 generated pages, whose
    # preview (`_preview/index.html`) lists them all.
    project = work / "serve"
    sitegen.serve_project(project, ctx["seed"])
    sitegen.markdown_site(work / "serve-md", 1000, ctx["seed"])
    for f in sorted((work / "serve-md").iterdir()):
        os.link(f, project / "pages" / f.name)
    dist = project / "dist"
    subprocess.run([hipkit, "build", str(project), "--out", str(dist)], check=True, stdout=subprocess.DEVNULL)
    # The glance's data is written to dist/glances/KEY.json, which is also its default queryUrl:
    # `hipkit serve` answers that path only with a JWT (glances always need one). For the plain
    # static-file case both servers get the same bytes as a project asset, copied from the build.
    glance_file = sorted((dist / "glances").glob("*.json"))[0]
    shutil.copyfile(glance_file, project / "assets" / "glance.json")
    subprocess.run([hipkit, "build", str(project), "--out", str(dist)], check=True, stdout=subprocess.DEVNULL)
    descriptor = json.loads((dist / "atlassian-connect.json").read_text())
    caps = descriptor["capabilities"]
    glance_path = urllib.parse.urlparse(caps["glance"][0]["queryUrl"]).path
    install_path = urllib.parse.urlparse(caps["installable"]["callbackUrl"]).path
    html_path = "/about.html"
    static_glance = "/assets/glance.json"
    asset_path = "/assets/blob.bin"
    preview_path = "/_preview/index.html"
    preview_bytes = (dist / "_preview" / "index.html").stat().st_size
    html_bytes = (dist / "about.html").stat().st_size
    glance_bytes = (dist / "assets" / "glance.json").stat().st_size

    nginx_port, hipkit_port = free_port(), free_port()
    conf = nginx_conf(work, dist, nginx_port)
    servers = []
    try:
        nginx = Server("nginx", [NGINX, "-c", str(conf), "-e", str(work / "nginx-tmp" / "error.log")],
                       nginx_port, work / "nginx.out")
        servers.append(nginx)
        data_dir = work / "serve-data"
        data_dir.mkdir(exist_ok=True)
        # Request logging off on both sides: nginx's access_log is off, and hipkit logs warnings only.
        quiet = ["--log-level", "warning"] if "--log-level" in serve_help(hipkit) else []
        server = Server("hipkit", [hipkit, "serve", str(dist), "--host", "127.0.0.1", "--port", str(hipkit_port),
                                   "--data", str(data_dir), "--no-verify-installs"] + quiet,
                        hipkit_port, work / "hipkit-serve.out")
        servers.append(server)
        time.sleep(1.0)
        idle_kib = rss_kib(server.proc.pid)

        # An installation, and a JWT signed with its secret.
        oauth_id = "bench-" + hashlib.sha256(ctx["seed"].encode()).hexdigest()[:12]
        secret = hashlib.sha256(("secret" + ctx["seed"]).encode()).hexdigest()[:40]
        install = {"oauthId": oauth_id, "oauthSecret": secret, "groupId": 1,
                   "capabilitiesUrl": server.url("/atlassian-connect.json")}
        code, body = request(server.url(install_path), install)
        if code >= 300:
            raise BenchError("install POST %s: %d %s" % (install_path, code, body[:300]))
        token = jwt(oauth_id, secret)
        auth = "Authorization: JWT " + token

        checks = [(server, html_path, ()), (nginx, html_path, ()), (server, static_glance, ()), (nginx, static_glance, ()),
                  (server, asset_path, ()), (nginx, asset_path, ()), (server, glance_path, (auth,)), (nginx, glance_path, ()),
                  (server, preview_path, ()), (nginx, preview_path, ())]
        for srv, path, headers in checks:
            code, body = request(srv.url(path), headers=dict(h.split(": ", 1) for h in headers))
            if code != 200:
                raise BenchError("%s %s: %d %s" % (srv.name, path, code, body[:300]))
        code, _ = request(server.url(glance_path))
        if code != 401:
            raise BenchError("%s without a JWT answered %d, not 401: is the JWT check on?" % (glance_path, code))

        # (key, label, hipkit's path, nginx's path, headers for hipkit)
        cases = [("html", "5 KB HTML page", html_path, html_path, ()),
                 ("glance", "static glance JSON", static_glance, static_glance, ()),
                 ("asset", "1 MB asset", asset_path, asset_path, ()),
                 ("preview", "1,000-page preview", preview_path, preview_path, ()),
                 ("jwt", "glance queryUrl with JWT check", glance_path, glance_path, (auth,))]
        seconds, rounds = cfg["wrk_seconds"], cfg["wrk_rounds"]
        samples = {key: {"hipkit": [], "nginx": []} for key, *_ in cases}
        load_rss = []
        stop_sampling = threading.Event()

        def sampler():
            while not stop_sampling.wait(0.25):
                v = rss_kib(server.proc.pid)
                if v:
                    load_rss.append(v)

        for r in range(rounds):
            for key, label, hipkit_path, nginx_path, headers in cases:
                log("serving: round %d/%d, %s (wrk -t%d -c%d -d%ds, hipkit then nginx)" % (
                    r + 1, rounds, label, WRK_THREADS, WRK_CONNECTIONS, seconds))
                stop_sampling.clear()
                t = threading.Thread(target=sampler)
                t.start()
                try:
                    samples[key]["hipkit"].append(run_wrk(server.url(hipkit_path), seconds, headers))
                finally:
                    stop_sampling.set()
                    t.join()
                samples[key]["nginx"].append(run_wrk(nginx.url(nginx_path), seconds))
        nginx_idle = tree_rss_kib(nginx.proc.pid)
        after_kib = rss_kib(server.proc.pid)
    finally:
        for s in servers:
            s.stop()

    meds = {}
    for key, label, hipkit_path, nginx_path, _ in cases:
        h, n = samples[key]["hipkit"], samples[key]["nginx"]
        meds[key] = {
            "hipkit": {"rps": median([x["rps"] for x in h]), "p99": median([x["p99"] for x in h]),
                       "p50": median([x["p50"] for x in h])} if h else None,
            "nginx": {"rps": median([x["rps"] for x in n]), "p99": median([x["p99"] for x in n]),
                      "p50": median([x["p50"] for x in n])} if n else None,
        }
    res.measurements["serving"] = {
        "wrk": {"threads": WRK_THREADS, "connections": WRK_CONNECTIONS, "seconds": seconds, "rounds": rounds},
        "paths": {"html": html_path, "html_bytes": html_bytes, "preview": preview_path, "preview_bytes": preview_bytes,
                  "static_glance": static_glance,
                  "glance_bytes": glance_bytes, "query_url": glance_path, "asset": asset_path},
        "samples": samples, "medians": meds,
        "rss_kib": {"hipkit_idle_full": full_idle_kib, "hipkit_idle": idle_kib, "hipkit_load_samples": load_rss, "hipkit_after": after_kib,
                    "nginx_master_and_workers": nginx_idle},
    }
    # The lowest req/s ratio each answer must reach (None: no target); p99 ≤ 2× nginx's wherever
    # there is one. The JWT-checked query does work nginx does not, against nginx's static file.
    targets = {"html": 0.8, "glance": 0.8, "preview": 0.8, "jwt": 0.5, "asset": None}
    for key, label, *_ in cases:
        m = meds[key]
        rr = m["hipkit"]["rps"] / m["nginx"]["rps"]
        pr = m["hipkit"]["p99"] / m["nginx"]["p99"]
        ref = "nginx" + (" (static file)" if key == "jwt" else "")
        t = targets[key]
        res.row("serve", "serve %s: req/s" % label if key != "jwt" else "%s: req/s" % label,
                "%.0f/s" % m["hipkit"]["rps"], "%s %.0f/s" % (ref, m["nginx"]["rps"]),
                rr, "hipkit/nginx", "≥ %.1f×" % t if t else "", (rr >= t) if t else None)
        res.row("serve", "serve %s: p99" % label if key != "jwt" else "%s: p99" % label,
                fmt_time(m["hipkit"]["p99"]), "%s %s" % (ref, fmt_time(m["nginx"]["p99"])),
                pr, "hipkit/nginx", "≤ 2×" if t else "", (pr <= 2.0) if t else None)
    nginx_mb = nginx_idle / 1024 if nginx_idle else None
    full_mb = (full_idle_kib or 0) / 1024
    idle_mb = (idle_kib or 0) / 1024
    load_mb = (max(load_rss) if load_rss else 0) / 1024
    nginx_ref = "nginx (master+2 workers) %.1f MB" % nginx_mb if nginx_mb else "nginx —"
    res.row("serve", "`hipkit serve` RSS idle, `full`", "%.1f MB" % full_mb, nginx_ref,
            full_mb / nginx_mb if nginx_mb else None, "hipkit/nginx", "< 30 MB", full_mb < 30)
    res.row("serve", "`hipkit serve` RSS idle, 1,000-page site", "%.1f MB" % idle_mb, nginx_ref,
            idle_mb / nginx_mb if nginx_mb else None, "hipkit/nginx", "< 40 MB", idle_mb < 40)
    res.row("serve", "`hipkit serve` RSS under load (peak)", "%.1f MB" % load_mb, "idle %.1f MB" % idle_mb,
            load_mb / idle_mb if idle_mb else None, "load/idle", "< 60 MB", load_mb < 60)


def bench_stores(ctx):
    """The JWT-checked glance query and glance updates (POST /admin/glances/KEY) on the SQLite
    store and on PostgreSQL with one and two instances, side by side in one run. With two
    instances, wrk drives both at once (half the connections each) and the rates add up. The
    PostgreSQL server is a throwaway cluster with PostgreSQL's default durability (fsync on), as
    hipkit's SQLite store commits with synchronous=FULL."""
    hipkit, work, res, cfg = ctx["hipkit"], ctx["work"], ctx["results"], ctx["cfg"]
    project = work / "stores"
    sitegen.serve_project(project, ctx["seed"])
    dist = project / "dist"
    subprocess.run([hipkit, "build", str(project), "--out", str(dist)], check=True, stdout=subprocess.DEVNULL)
    descriptor = json.loads((dist / "atlassian-connect.json").read_text())
    caps = descriptor["capabilities"]
    glance_path = urllib.parse.urlparse(caps["glance"][0]["queryUrl"]).path
    glance_key = caps["glance"][0]["key"]
    install_path = urllib.parse.urlparse(caps["installable"]["callbackUrl"]).path
    admin = "bench-admin-token"
    update_script = work / "update.lua"
    update_script.write_text(
        'wrk.method = "POST"\n'
        'wrk.body = \'{"label": "<b>7</b> open", "status": {"lozenge": {"label": "NEW", "type": "new"}}}\'\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["Authorization"] = "Bearer %s"\n' % admin)
    oauth_id = "bench-" + hashlib.sha256(ctx["seed"].encode()).hexdigest()[:12]
    secret = hashlib.sha256(("secret" + ctx["seed"]).encode()).hexdigest()[:40]
    auth = "Authorization: JWT " + jwt(oauth_id, secret)
    quiet = ["--log-level", "warning"] if "--log-level" in serve_help(hipkit) else []
    key = base64.b64encode(hashlib.sha256(ctx["seed"].encode()).digest()).decode()
    seconds, rounds = cfg["wrk_seconds"], cfg["wrk_rounds"]

    # Both stores on the same file system, the system's temporary folder rather than the work
    # folder (often a tmpfs, where SQLite's fsync would cost nothing), in a folder PostgreSQL's
    # own user can pass through.
    stores = Path(tempfile.mkdtemp(prefix="hipkit-bench-stores-"))
    os.chmod(stores, 0o711)
    cluster = PostgresCluster(stores / "postgres")
    figures = {}
    try:
        for name, instances in (("SQLite", 1), ("PostgreSQL", 1), ("PostgreSQL", 2)):
            label = "%s ×%d" % (name, instances)
            store = (["--data", str(stores / "sqlite")] if name == "SQLite"
                     else ["--database", cluster.create_database()])
            env = dict(os.environ, HIPKIT_SECRET_KEY=key, HIPKIT_ADMIN_TOKEN=admin)
            servers = []
            try:
                for i in range(instances):
                    port = free_port()
                    argv = [hipkit, "serve", str(dist), "--host", "127.0.0.1", "--port", str(port),
                            "--no-verify-installs"] + store + quiet
                    proc_log = open(work / ("stores-%s-%d-%d.out" % (name, instances, i)), "wb")
                    proc = subprocess.Popen(argv, stdout=proc_log, stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True)
                    srv = Server.__new__(Server)
                    srv.name, srv.port, srv.log, srv.proc = "hipkit", port, proc_log, proc
                    servers.append(srv)
                    wait_for_port(port, proc, 60)
                code, body = request(servers[0].url(install_path), {
                    "oauthId": oauth_id, "oauthSecret": secret, "groupId": 1,
                    "capabilitiesUrl": servers[0].url("/atlassian-connect.json")})
                if code >= 300:
                    raise BenchError("install through %s: %d %s" % (label, code, body[:300]))
                for srv in servers:
                    code, body = request(srv.url(glance_path), headers={"Authorization": auth.split(": ", 1)[1]})
                    if code != 200:
                        raise BenchError("%s %s: %d %s" % (label, glance_path, code, body[:300]))
                for case, path, headers, script in (
                        ("query", glance_path, (auth,), None),
                        ("update", "/admin/glances/%s?room=1" % glance_key, (), update_script)):
                    samples = []
                    for r in range(rounds):
                        log("stores: %s, %s, round %d/%d" % (label, case, r + 1, rounds))
                        results = [None] * len(servers)

                        def drive(i):
                            results[i] = run_wrk(servers[i].url(path), seconds, headers, script,
                                                 WRK_CONNECTIONS // len(servers))
                        threads = [threading.Thread(target=drive, args=(i,)) for i in range(len(servers))]
                        for t in threads:
                            t.start()
                        for t in threads:
                            t.join()
                        if any(x is None for x in results):
                            raise BenchError("wrk failed against %s" % label)
                        samples.append({"rps": sum(x["rps"] for x in results),
                                        "p99": max(x["p99"] for x in results)})
                    figures[(label, case)] = {"rps": median([x["rps"] for x in samples]),
                                              "p99": median([x["p99"] for x in samples]), "samples": samples}
            finally:
                for srv in servers:
                    srv.stop()
    finally:
        cluster.stop()
        rmtree(stores)

    res.measurements["stores"] = {"%s, %s" % k: v for k, v in figures.items()}
    res.measurements["stores"]["file_system"] = filesystem_of(stores.parent)
    for case, title in (("query", "glance queryUrl with JWT check"), ("update", "glance update (admin API)")):
        base = figures[("SQLite ×1", case)]
        for label in ("SQLite ×1", "PostgreSQL ×1", "PostgreSQL ×2"):
            m = figures[(label, case)]
            res.row("stores", "%s, %s: req/s" % (title, label), "%.0f/s" % m["rps"],
                    "SQLite ×1 %.0f/s" % base["rps"], m["rps"] / base["rps"], "store/SQLite ×1", "", None)
            res.row("stores", "%s, %s: p99" % (title, label), fmt_time(m["p99"]),
                    "SQLite ×1 %s" % fmt_time(base["p99"]), m["p99"] / base["p99"], "store/SQLite ×1", "", None)


# ---------------------------------------------------------------------------------------------
# 6. Incremental (hipkit dev)

def bench_incremental(ctx):
    """Save-to-served latency of `hipkit dev` on a 100-page project: the time from renaming an
    edited page into place (as editors save) until a GET of that page returns the new text.
    The client polls the page in a tight loop, so the figure includes the watcher's quiet period,
    the rebuild, the swap of dist/, and the server picking the new build up."""
    hipkit, work, res, cfg = ctx["hipkit"], ctx["work"], ctx["results"], ctx["cfg"]
    if not has_command(hipkit, "dev"):
        res.row("dev", "save-to-served latency, 100 pages (`hipkit dev`)", "—", "—", None, "", "< 50 ms", None, True,
                "pending `hipkit dev`")
        return
    n = 100
    base = work / "dev-100"
    sitegen.markdown_site(base / "md", n, ctx["seed"])
    project = base / "hipkit"
    sitegen.hipkit_site(project, base / "md")
    port = free_port()
    proc = Server("hipkit dev", [hipkit, "dev", str(project), "--port", str(port)], port, base / "dev.log")
    edits = cfg["dev_edits"]
    latencies = []
    try:
        wait_for_port(port, proc.proc, 120)
        page = sorted((project / "pages").glob("p*.md"))[n // 2]
        url = proc.url("/" + page.stem + ".html")
        original = page.read_text()
        for i in range(edits + 2):
            token = "edit-%d-%s" % (i, os.urandom(4).hex())
            tmp = page.with_name(page.name + ".tmp~")
            tmp.write_text(original + "\n\nSaved %s.\n" % token)
            start = time.monotonic()
            os.replace(tmp, page)
            deadline = start + 10
            while True:
                try:
                    _, body = request(url)
                    if token.encode() in body:
                        break
                except (urllib.error.URLError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise BenchError("dev: the edit %s was not served within 10 s" % token)
            if i >= 2:  # the first two warm the page cache and the server
                latencies.append(time.monotonic() - start)
            time.sleep(0.2)
    finally:
        proc.stop()
    med = median(latencies)
    res.measurements["dev_100"] = {"pages": n, "edits": len(latencies), "seconds": latencies, "median_seconds": med,
                                   "p90_seconds": sorted(latencies)[int(0.9 * (len(latencies) - 1))]}
    res.row("dev", "save-to-served latency, 100 pages (`hipkit dev`)", "%.1f ms" % (med * 1000),
            "p90 %.1f ms" % (res.measurements["dev_100"]["p90_seconds"] * 1000), None, "", "< 50 ms", med < 0.050)
    log("dev: median save-to-served %.1f ms over %d edits" % (med * 1000, len(latencies)))
    rmtree(base)


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hipkit", default=str(ROOT / ".build" / "release" / "hipkit"), help="the hipkit binary (release)")
    ap.add_argument("--quick", action="store_true", help="few repetitions and small sites: a smoke test, not a result")
    ap.add_argument("--sizes", help="page counts for the build benchmark, e.g. 100,1000")
    ap.add_argument("--only", help="comma-separated groups: build,cold,validate,serve,stores,dev")
    ap.add_argument("--output", help="where to write the JSON (default Benchmarks/results/latest.json; "
                                     "with --quick, Benchmarks/results/quick.json)")
    ap.add_argument("--seed", default="hipkit-bench-1", help="seed of the generated sites")
    ap.add_argument("--tmpdir", help="where the generated sites go (default: /dev/shm when it is a tmpfs with "
                                     "room, else the system's temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--no-install", action="store_true", help="fail instead of apt-get installing missing tools")
    args = ap.parse_args()

    cfg = dict(QUICK if args.quick else FULL)
    if args.sizes:
        cfg["sizes"] = [int(s) for s in args.sizes.split(",")]
    groups = set((args.only or "build,cold,validate,serve,stores,dev").split(","))
    hipkit = str(Path(args.hipkit).resolve())
    if not os.access(hipkit, os.X_OK):
        raise SystemExit("no hipkit binary at %s: run `swift build -c release` (or `make bench`)" % hipkit)
    output = Path(args.output) if args.output else ROOT / "Benchmarks" / "results" / (
        "quick.json" if args.quick else "latest.json")

    ensure_tools(not args.no_install)
    machine = machine_info()
    log("hipkit %s at %s; %d cores, %s, %.1f GiB; load %s" % (
        first_line([hipkit, "--version"]), hipkit, machine["nproc"], machine["cpu"], machine["memory_gib"],
        " ".join(machine["loadavg_start"] or [])))
    if machine["loadavg_start"] and float(machine["loadavg_start"][0]) > 0.5 * (machine["nproc"] or 1):
        log("warning: the machine is busy (load %s); ratios hold up better than absolute times" % machine["loadavg_start"][0])

    work = Path(tempfile.mkdtemp(prefix="hipkit-bench-", dir=args.tmpdir or default_tmpdir()))
    machine["work_filesystem"] = filesystem_of(work)
    log("generated sites in %s (%s)" % (work, machine["work_filesystem"]))
    results = Results()
    ctx = {"hipkit": hipkit, "work": work, "results": results, "cfg": cfg, "seed": args.seed}
    try:
        if "build" in groups:
            for n in cfg["sizes"]:
                bench_build(ctx, n)
        if "cold" in groups:
            bench_cold(ctx)
        if "validate" in groups:
            bench_validate(ctx)
        if "serve" in groups:
            bench_serving(ctx)
        if "stores" in groups:
            bench_stores(ctx)
        if "dev" in groups:
            bench_incremental(ctx)
    finally:
        if args.keep:
            log("kept %s" % work)
        else:
            rmtree(work)

    machine["loadavg_end"] = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else None
    duration = time.monotonic() - START
    doc = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "quick": args.quick,
        "duration_seconds": round(duration, 1),
        "machine": machine,
        "tools": tool_versions(hipkit),
        "hipkit_commit": git_commit(),
        "seed": args.seed,
        "config": {**cfg, "wrk_threads": WRK_THREADS, "wrk_connections": WRK_CONNECTIONS,
                   "server_workers": SERVER_WORKERS},
        "rows": results.rows,
        "measurements": results.measurements,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print()
    print("hipkit benchmarks, %s, %d cores (%s), %.0f GiB; %d s in all%s" % (
        doc["date"][:10], machine["nproc"], machine["cpu"], machine["memory_gib"], duration,
        " — QUICK: not a result" if args.quick else ""))
    print()
    print(table(results.rows))
    print()
    not_met = [r["figure"] for r in results.rows if r["met"] is False]
    pending = [r["figure"] for r in results.rows if r["pending"]]
    print("targets met: %d, not met: %d, pending: %d" % (
        sum(1 for r in results.rows if r["met"] is True), len(not_met), len(pending)))
    print("written to %s" % output)


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        log("error: %s" % e)
        sys.exit(1)
