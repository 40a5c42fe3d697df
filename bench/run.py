#!/usr/bin/env python3
"""Runs every benchmark scenario against every server and writes BENCHMARKS.md.

    python3 bench/run.py            # from the repository root; about 20 minutes
    python3 bench/run.py --quick    # one repetition, shorter runs: a smoke test

Each server is pinned to core 0 and the load generator to core 1 (taskset); every figure is
measured three times and reported as the median with its spread (min-max).
"""

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RELEASE = BENCH / "target" / "release"
QUICK = "--quick" in sys.argv
REPEATS = 1 if QUICK else 3
SECONDS = 3 if QUICK else 8

SERVERS = {
    "sio": [str(RELEASE / "sio_server")],
    "socketioxide": [str(RELEASE / "socketioxide_server")],
    "node socket.io": ["node", str(BENCH / "peers" / "node" / "server.js")],
    "bare tungstenite echo": [str(RELEASE / "bare_echo")],
}

# (scenario, clients, figure, unit, lower is better)
SCENARIOS = [
    ("idle", 1000, "bytesPerConnection", "B/conn", True),
    ("idle", 10000, "bytesPerConnection", "B/conn", True),
    ("echo", 100, "serverCpuUsPerRoundTrip", "µs CPU/rt", True),
    ("echo", 1000, "serverCpuUsPerRoundTrip", "µs CPU/rt", True),
    ("broadcast", 1000, "serverCpuNsPerDelivery", "ns CPU/delivery", True),
    ("broadcast", 10000, "serverCpuNsPerDelivery", "ns CPU/delivery", True),
]
EXTRA = {
    "echo": [("roundTripsPerSecond", "rt/s"), ("p50us", "p50 µs"), ("p99us", "p99 µs"), ("generatorCpuShare", "generator CPU")],
    "broadcast": [("deliveriesPerSecond", "deliveries/s"), ("p99us", "p99 µs"), ("generatorCpuShare", "generator CPU")],
    "idle": [],
}


def build():
    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=BENCH, check=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH / "peers" / "node", check=True)


def start(command):
    process = subprocess.Popen(
        ["taskset", "-c", "0", *command, "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline().strip()
    address = line.removeprefix("listening on ")
    return process, address


def loadgen(scenario, address, pid, clients, bare=False):
    args = [str(RELEASE / "loadgen"), scenario, f"ws://{address}", str(pid), str(clients)]
    if scenario != "idle":
        args.append(str(SECONDS))
    if bare:
        args.append("bare")
    output = subprocess.run(
        ["taskset", "-c", "1", *args], capture_output=True, text=True, timeout=600
    )
    lines = output.stdout.strip().splitlines()
    if output.returncode != 0 or not lines:
        return None
    return json.loads(lines[-1])


def measure():
    results = {}
    for server, command in SERVERS.items():
        bare = server.startswith("bare")
        for scenario, clients, *_ in SCENARIOS:
            if bare and scenario != "echo":
                continue
            runs = []
            for _ in range(REPEATS):
                # A fresh server per run, so memory and queues start from nothing.
                process, address = start(command)
                time.sleep(0.5)
                try:
                    result = loadgen(scenario, address, process.pid, clients, bare)
                finally:
                    process.kill()
                    process.wait()
                if result:
                    runs.append(result)
                print(f"{server:24} {scenario:9} {clients:6} {result}", flush=True)
            results[(server, scenario, clients)] = runs
    return results


def median_spread(runs, key):
    values = [run[key] for run in runs if key in run]
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def fmt(value):
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def versions():
    def run(args, cwd=None):
        try:
            return subprocess.run(args, capture_output=True, text=True, cwd=cwd).stdout.strip()
        except OSError:
            return "n/a"

    lock = (BENCH / "Cargo.lock").read_text()

    def crate(name):
        marker = f'name = "{name}"\nversion = "'
        start = lock.find(marker)
        return lock[start + len(marker):].split('"')[0] if start >= 0 else "n/a"

    node_lock = json.loads((BENCH / "peers" / "node" / "package-lock.json").read_text())
    node_socketio = node_lock["packages"].get("node_modules/socket.io", {}).get("version", "n/a")
    return {
        "rustc": run(["rustc", "--version"]),
        "node": run(["node", "--version"]),
        "socketioxide": crate("socketioxide"),
        "tokio-tungstenite": crate("tokio-tungstenite"),
        "socket.io (node)": node_socketio,
        "sio": run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT),
    }


def codec_benchmarks():
    """`cargo bench -p sio-core`, as a Markdown table of medians."""
    output = subprocess.run(
        ["cargo", "bench", "-p", "sio-core", "--bench", "codec"],
        cwd=ROOT, capture_output=True, text=True,
    ).stdout.splitlines()
    rows, name = [], None
    for line in output:
        if "change:" in line or "%" in line:
            continue  # criterion's comparison with a previous run, not a measurement
        if "time:" in line:
            name = line.split("time:")[0].strip() or name
            time_median = line.split("[")[1].split("]")[0].split()[2:4]
            rows.append([name, " ".join(time_median), ""])
        elif "thrpt:" in line and rows:
            rows[-1][2] = " ".join(line.split("[")[1].split("]")[0].split()[2:4])
        elif line and not line.startswith(" ") and "/" in line and "time:" not in line:
            name = line.strip()
    lines = ["## Codec: `cargo bench -p sio-core`", "", "| case | time per packet | throughput |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def write(results):
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "n/a")
    lines = [
        "# Benchmarks",
        "",
        f"Measured {date.today().isoformat()} on {model}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; server pinned to core 0, load generator to core 1.",
        f"Reproduce with `python3 bench/run.py` (see `bench/README.md`). {REPEATS} runs per figure: "
        "median, with the spread (min-max) in brackets; the ratio is the peer's median over sio's "
        "(above 1: sio does better).",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()) + ".",
        "",
    ]
    for scenario, clients, key, unit, _lower in SCENARIOS:
        lines += [f"## {scenario}, {clients} clients: {unit}", ""]
        extra = EXTRA[scenario]
        header = ["server", unit, "ratio to sio"] + [label for _, label in extra]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        sio_median = median_spread(results.get(("sio", scenario, clients), []), key)[0]
        for server in SERVERS:
            runs = results.get((server, scenario, clients))
            if runs is None:
                continue
            median, low, high = median_spread(runs, key)
            ratio = fmt(median / sio_median) if median and sio_median else "n/a"
            row = [server, f"{fmt(median)} [{fmt(low)}-{fmt(high)}]", ratio]
            row += [fmt(median_spread(runs, k)[0]) for k, _ in extra]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    lines += [codec_benchmarks(), ""]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines))


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(65536, hard), hard))
    build()
    write(measure())
    print(f"wrote {ROOT / 'BENCHMARKS.md'}")


if __name__ == "__main__":
    main()
