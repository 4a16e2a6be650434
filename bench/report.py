"""bench/run.sh's table: the median of each figure over the rounds, the ratios the
README's targets are stated in, and whether each was met. Markdown on stdout.

    python3 bench/report.py RESULTS ROUNDS SECONDS ROOT
RESULTS holds one "name value" line per measurement."""
import datetime
import os
import statistics
import subprocess
import sys

results_path, rounds, seconds, root = sys.argv[1:5]
values = {}
for line in open(results_path):
    name, value = line.split()
    values.setdefault(name, []).append(float(value))


def median(name):
    return statistics.median(values[name]) if name in values else None


def figure(value, unit=""):
    if value is None:
        return "not measured"
    text = f"{value:,.0f}" if value >= 100 else f"{value:.2f}".rstrip("0").rstrip(".")
    return text + unit


def ratio(numerator, denominator):
    a, b = median(numerator), median(denominator)
    return a / b if a is not None and b else None


rows = []


def row(target, measured, value, goal, met):
    shown = "not measured" if value is None else (figure(value) if value >= 100 else f"{value:.2f}" if isinstance(value, float) else str(value))
    verdict = "" if met is None or value is None else ("met" if met(value) else "**missed**")
    rows.append(f"| {target} | {measured} | {shown} | {goal} | {verdict} |")


r = ratio("balancer", "nginx")
row("1. Balancer ÷ nginx least_conn, c64", f"{figure(median('balancer'))} vs {figure(median('nginx'))} req/s", r, "≥ 0.9 (stretch 1.0)", lambda v: v >= 0.9)
r = ratio("balancer", "direct")
row("2. Balancer ÷ direct to one node, c64", f"{figure(median('balancer'))} vs {figure(median('direct'))} req/s", r, "≥ 0.7", lambda v: v >= 0.7)
r = ratio("p99_balancer", "p99_direct")
row("2. p99 at c16, balancer ÷ direct", f"{figure(median('p99_balancer'), ' ms')} vs {figure(median('p99_direct'), ' ms')}", r, "≤ 2", lambda v: v <= 2)
r = ratio("direct", "sync_off")
row("3. Group commit, FULL ÷ sync off, c64", f"{figure(median('direct'))} vs {figure(median('sync_off'))} req/s", r, "≥ 0.8", lambda v: v >= 0.8)
r = ratio("loader_default", "balancer")
row("4. Loader defaults (200,000 single) ÷ wrk c64, same balancer", f"{figure(median('loader_default'))} vs {figure(median('balancer'))} sentences/s", r, "≥ 0.8", lambda v: v >= 0.8)
r = ratio("batch", "sqlite")
row("5. `--batch 1000`, 1,000,000 ÷ SQLite alone (1,000-row transactions)", f"{figure(median('batch'))} vs {figure(median('sqlite'))} sentences/s", r, "≥ 0.3", lambda v: v >= 0.3)
row("5. `--batch 1000`, sentences/s", "end to end", median("batch"), "≥ 100,000", lambda v: v >= 100_000)
r = ratio("balancer", "original")
row("6. Balancer ÷ `--poll-interval 0` (the original's way), c64", f"{figure(median('balancer'))} vs {figure(median('original'))} req/s", r, "report", None)
row("7. Node resident while streaming 1,000,000 documents", f"{figure(median('node_stream_rate'))} documents/s", median("node_stream_rss"), "≤ 64 MiB, ≥ 500,000/s",
    lambda v: v <= 64 and (median("node_stream_rate") or 0) >= 500_000)
row("7. Balancer resident under c64, id memory full (peak)", "MiB", median("balancer_rss"), "≤ 64 MiB", lambda v: v <= 64)
row("7. Loader resident on a 1 GB file (`--dry-run`, peak)", "MiB", median("loader_1g_rss"), "≤ 64 MiB", lambda v: v <= 64)
row("7. Loader resident while sending (peak of its runs)", "MiB", max(values.get("loader_rss", [0])) or None, "≤ 64 MiB", lambda v: v <= 64)
gaps = [int(v) for name in ("balancer_gap", "loader_gap", "batch_gap") for v in values.get(name, [])]
row("8. Nodes' counts apart after each load through the balancer (largest)", f"{len(gaps)} loads", max(gaps) if gaps else None, "≤ 1", lambda v: v <= 1)
row("9. Release build from a fresh clone", "minutes, 2 cores", median("cold_build_minutes"), "state it", None)


def run(*command):
    try:
        return subprocess.run(command, cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


# What was measured is the code: uncommitted edits to documentation do not count.
code = ["Package.swift", "Sources", "scripts", "bench/run.sh", "bench/lib.sh", "bench/post-sentence.lua"]
commit = run("git", "rev-parse", "--short", "HEAD") + (" (with uncommitted changes to the code)" if run("git", "status", "--porcelain", "--untracked-files=no", "--", *code) else "")
model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
memory = next((int(line.split()[1]) // 1024 // 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
print(f"""# `make bench` results

- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC
- Machine: {os.cpu_count()} cores ({model}), {memory} GiB, Linux {os.uname().release}
- Commit: {commit}
- Medians of {rounds} interleaved rounds, {seconds} s per wrk run, everything on 127.0.0.1 (wrk, nginx,
  the nodes, the balancers and the loader share the same cores).

| target | measured | ratio / figure | goal | |
|---|---|---|---|---|""")
print("\n".join(rows))
print("\nEvery figure, in measurement order:\n")
for name, measured in values.items():
    print(f"- `{name}`: " + ", ".join(figure(v) for v in measured))
