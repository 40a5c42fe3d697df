#!/usr/bin/env python3
"""Runs every benchmark scenario against every server and writes BENCHMARKS.md.

    python3 bench/run.py            # from the repository root; about 30 minutes
    python3 bench/run.py --quick    # one repetition, shorter runs: a smoke test, written to
                                    # bench/target/BENCHMARKS-quick.md

Each server is pinned to core 0 and the load generator to core 1 (taskset); every figure is
measured three times and reported as the median with its spread (min-max).
"""

import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RELEASE = BENCH / "target" / "release"
DJANGO = BENCH / "peers" / "django"
VENV = DJANGO / ".venv"
QUICK = "--quick" in sys.argv
REPEATS = 1 if QUICK else 3
SECONDS = 3 if QUICK else 8
OUTPUT = BENCH / "target" / "BENCHMARKS-quick.md" if QUICK else ROOT / "BENCHMARKS.md"


def daphne(port):
    """django-sio under daphne, run from peers/django.

    Verbosity 0 keeps django-sio's INFO line per event (and the access log) from being formatted
    at all. A WebSocket handshake may take 60 s instead of 5: near 10,000 connections each new one
    costs about 10 ms of channel-layer sweep, so the last of a batch of 200 can wait past 5 s on a
    busy core and be refused."""
    return [
        str(VENV / "bin" / "daphne"), "-v", "0", "--websocket_connect_timeout", "60",
        "-b", "127.0.0.1", "-p", str(port), "peer.asgi:application",
    ]


# A command that prints "listening on <address>" when given 127.0.0.1:0, or a function of the port.
SERVERS = {
    "sio": [str(RELEASE / "sio_server")],
    "socketioxide": [str(RELEASE / "socketioxide_server")],
    "node socket.io": ["node", str(BENCH / "peers" / "node" / "server.js")],
    "django-sio": daphne,
    "bare tungstenite echo": [str(RELEASE / "bare_echo")],
}

# (scenario, clients, figure, unit, lower is better)
SCENARIOS = [
    ("idle", 1000, "bytesPerConnection", "B/conn", True),
    ("idle", 10000, "bytesPerConnection", "B/conn", True),
    ("echo", 100, "serverCpuUsPerRoundTrip", "µs CPU/rt", True),
    ("echo", 1000, "serverCpuUsPerRoundTrip", "µs CPU/rt", True),
    ("polling-echo", 100, "serverCpuUsPerRoundTrip", "µs CPU/rt", True),
    ("broadcast", 1000, "serverCpuNsPerDelivery", "ns CPU/delivery", True),
    ("broadcast", 10000, "serverCpuNsPerDelivery", "ns CPU/delivery", True),
]
ROUND_TRIPS = [("roundTripsPerSecond", "rt/s"), ("p50us", "p50 µs"), ("p99us", "p99 µs"), ("generatorCpuShare", "generator CPU")]
EXTRA = {
    "echo": ROUND_TRIPS,
    "polling-echo": ROUND_TRIPS,
    "broadcast": [("deliveriesPerSecond", "deliveries/s"), ("p99us", "p99 µs"), ("generatorCpuShare", "generator CPU")],
    "idle": [],
}
# Runs a server cannot finish within loadgen's limits: n/a in the table, with the reason under it.
SKIPPED = {
    ("django-sio", "broadcast", 10000): "django-sio is not run with 10,000 receivers: Channels' "
    "in-memory layer sweeps all its channels on every receive (about 10 ms with 10,000), so one "
    "broadcast would take about 100 s, ten times loadgen's wait for one.",
}


def build():
    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=BENCH, check=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH / "peers" / "node", check=True)
    # The django-sio peer's virtualenv (ignored by git): made once, brought to requirements.txt
    # every time (pip does nothing when it already matches).
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", str(DJANGO / "requirements.txt")],
        check=True,
    )


def start(command):
    if callable(command):
        return start_on_port(command)
    process = subprocess.Popen(
        ["taskset", "-c", "0", *command, "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline().strip()
    address = line.removeprefix("listening on ")
    return process, address


def start_on_port(command):
    """Starts a server that prints no address (daphne) on a free port; returns once it accepts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        ["taskset", "-c", "0", *command(port)],
        cwd=DJANGO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"127.0.0.1:{port}"
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{command(port)} did not start")
            time.sleep(0.1)


def loadgen(scenario, address, pid, clients, bare=False):
    scheme = "http" if scenario == "polling-echo" else "ws"
    args = [str(RELEASE / "loadgen"), scenario, f"{scheme}://{address}", str(pid), str(clients)]
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
            if (server, scenario, clients) in SKIPPED:
                print(f"{server:24} {scenario:12} {clients:6} skipped", flush=True)
                results[(server, scenario, clients)] = runs
                continue
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
                print(f"{server:24} {scenario:12} {clients:6} {result}", flush=True)
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
    pins = dict(
        line.lower().split("==")
        for line in (DJANGO / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    return {
        "rustc": run(["rustc", "--version"]),
        "node": run(["node", "--version"]),
        "socketioxide": crate("socketioxide"),
        "tokio-tungstenite": crate("tokio-tungstenite"),
        "socket.io (node)": node_socketio,
        "python": run([str(VENV / "bin" / "python"), "--version"]).removeprefix("Python "),
        **{name: pins.get(name, "n/a") for name in ("django-sio", "django", "channels", "daphne")},
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
        notes = []
        for server in SERVERS:
            runs = results.get((server, scenario, clients))
            if runs is None:
                continue
            median, low, high = median_spread(runs, key)
            ratio = fmt(median / sio_median) if median and sio_median else "n/a"
            row = [server, f"{fmt(median)} [{fmt(low)}-{fmt(high)}]", ratio]
            row += [fmt(median_spread(runs, k)[0]) for k, _ in extra]
            if (server, scenario, clients) in SKIPPED:
                row[1] = "n/a†"
                notes.append("† " + SKIPPED[(server, scenario, clients)])
            lines.append("| " + " | ".join(row) + " |")
        lines += [""] + [note + "\n" for note in notes]
    lines += [codec_benchmarks(), ""]
    OUTPUT.write_text("\n".join(lines))


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(65536, hard), hard))
    build()
    write(measure())
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
