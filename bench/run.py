#!/usr/bin/env python3
"""Runs every benchmark scenario against every server and writes BENCHMARKS.md, with a chart
per scenario.

    python3 bench/run.py            # from the repository root; about 30 minutes
    python3 bench/run.py --quick    # the headline ratios only (echo and broadcast against their
                                    # floors and socketioxide, idle memory): under 10 minutes,
                                    # written to bench/target/BENCHMARKS-quick.md

Each server is pinned to core 0 and the load generator to core 1 (taskset); every figure is
measured in three rounds, the servers interleaved within each round, and reported as the median
with its spread (min-max).
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
REPEATS = 3
SECONDS = 4 if QUICK else 8
OUTPUT = BENCH / "target" / "BENCHMARKS-quick.md" if QUICK else ROOT / "BENCHMARKS.md"
CHARTS = OUTPUT.parent / ("charts-quick" if QUICK else "bench/charts")
# The charts are drawn by charts.py with matplotlib, from a virtualenv of their own.
CHART_VENV = BENCH / ".venv"


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
    # The cost of connection state recovery: every broadcast kept with its offset.
    "sio, recovery on": [str(RELEASE / "sio_server"), "--recovery"],
    # The cost of permessage-deflate: idle memory, and broadcasts of 2 KB compressed once each.
    "sio, deflate on": [str(RELEASE / "sio_server"), "--deflate"],
    # The cost of Prometheus metrics: every event, byte and broadcast counted (echo only).
    "sio, metrics on": [str(RELEASE / "sio_server"), "--metrics"],
    "socketioxide": [str(RELEASE / "socketioxide_server")],
    "node socket.io": ["node", str(BENCH / "peers" / "node" / "server.js")],
    # The MessagePack parser (socket.io-msgpack-parser's packets), on the echo only.
    "sio, msgpack": [str(RELEASE / "sio_server"), "--msgpack"],
    "socketioxide, msgpack": [str(RELEASE / "socketioxide_server"), "--msgpack"],
    "node socket.io, msgpack": ["node", str(BENCH / "peers" / "node" / "server.js"), "--msgpack"],
    "django-sio": daphne,
    "bare tungstenite echo": [str(RELEASE / "bare_echo")],
    "bare broadcast": [str(RELEASE / "bare_broadcast")],
}
# The floors: each runs only its own scenario, in its `bare` mode.
FLOORS = {"bare tungstenite echo": "echo", "bare broadcast": "broadcast"}
# The quick run: the headline ratios (sio against the floors and socketioxide, idle memory).
QUICK_SERVERS = ["sio", "sio, recovery on", "sio, deflate on", "socketioxide", "bare tungstenite echo",
                 "bare broadcast", "sio, msgpack", "socketioxide, msgpack", "sio, metrics on"]
QUICK_SCENARIOS = [("echo", 100), ("echo", 1000), ("idle", 10000), ("broadcast", 1000), ("broadcast", 10000),
                   ("broadcast-2k", 1000), ("echo-msgpack", 100)]
# The servers speaking the MessagePack parser run its echo only, and only they run it; each
# scenario's ratios are to the sio server of its own parser.
MSGPACK_SERVERS = {"sio, msgpack", "socketioxide, msgpack", "node socket.io, msgpack"}
BASE = {"echo-msgpack": "sio, msgpack"}
# Compression is measured on sio alone (no peer here compresses WebSocket messages): its idle
# memory with every client having agreed to it, and a broadcast of 2,000 bytes of chat-like text
# with it on and off (the clients offer it either way).
DEFLATE_SCENARIOS = {"idle", "broadcast-2k"}
BROADCAST_PAD = 2000

# (scenario, clients, figure, unit, lower is better)
SCENARIOS = [
    ("idle", 1000, "bytesPerConnection", "B/conn", True),
    ("idle", 10000, "bytesPerConnection", "B/conn", True),
    ("echo", 100, "serverCpuUsPerRoundTrip", "µs CPU/rt", True),
    ("echo", 1000, "serverCpuUsPerRoundTrip", "µs CPU/rt", True),
    ("echo-msgpack", 100, "serverCpuUsPerRoundTrip", "µs CPU/rt", True),
    ("echo-msgpack", 1000, "serverCpuUsPerRoundTrip", "µs CPU/rt", True),
    ("polling-echo", 100, "serverCpuUsPerRoundTrip", "µs CPU/rt", True),
    ("broadcast", 1000, "serverCpuNsPerDelivery", "ns CPU/delivery", True),
    ("broadcast", 10000, "serverCpuNsPerDelivery", "ns CPU/delivery", True),
    ("broadcast-2k", 1000, "serverCpuNsPerDelivery", "ns CPU/delivery", True),
]
ROUND_TRIPS = [("roundTripsPerSecond", "rt/s"), ("p50us", "p50 µs"), ("p99us", "p99 µs"), ("generatorCpuShare", "generator CPU")]
EXTRA = {
    "echo": ROUND_TRIPS,
    "echo-msgpack": ROUND_TRIPS,
    "polling-echo": ROUND_TRIPS,
    "broadcast": [("deliveriesPerSecond", "deliveries/s"), ("p99us", "p99 µs"), ("generatorCpuShare", "generator CPU")],
    "broadcast-2k": [("deliveriesPerSecond", "deliveries/s"), ("p99us", "p99 µs"), ("generatorCpuShare", "generator CPU")],
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


def loadgen(server, scenario, address, pid, clients):
    scheme = "http" if scenario == "polling-echo" else "ws"
    mode = {"broadcast-2k": "broadcast", "echo-msgpack": "echo"}.get(scenario, scenario)
    args = [str(RELEASE / "loadgen"), mode, f"{scheme}://{address}", str(pid), str(clients)]
    if scenario != "idle":
        args.append(str(SECONDS))
    if server in FLOORS:
        args.append("bare")
    if scenario == "echo-msgpack":
        args.append("msgpack")
    if scenario == "broadcast-2k":
        args += ["deflate", f"pad={BROADCAST_PAD}"]
    elif server == "sio, deflate on":
        args.append("deflate")
    output = subprocess.run(
        ["taskset", "-c", "1", *args], capture_output=True, text=True, timeout=600
    )
    lines = output.stdout.strip().splitlines()
    if output.returncode != 0 or not lines:
        return None
    return json.loads(lines[-1])


def planned():
    """Every (server, scenario, clients) to run, in the order of one round."""
    runs = []
    for scenario, clients, *_ in SCENARIOS:
        if QUICK and (scenario, clients) not in QUICK_SCENARIOS:
            continue
        for server in SERVERS:
            if QUICK and server not in QUICK_SERVERS:
                continue
            if server in FLOORS and FLOORS[server] != scenario:
                continue
            if scenario == "broadcast-2k" and server not in ("sio", "sio, deflate on"):
                continue
            if server == "sio, deflate on" and scenario not in DEFLATE_SCENARIOS:
                continue
            if (server in MSGPACK_SERVERS) != (scenario == "echo-msgpack"):
                continue
            if server == "sio, metrics on" and scenario != "echo":
                continue
            if QUICK and scenario == "idle" and not server.startswith("sio"):
                continue
            runs.append((server, scenario, clients))
    return runs


def measure():
    """Three rounds; within each, every server for every scenario, so a slow minute of the
    machine touches every server alike."""
    plan = planned()
    results = {key: [] for key in plan}
    total, done, began = len(plan) * REPEATS, 0, time.monotonic()
    for round_ in range(1, REPEATS + 1):
        for server, scenario, clients in plan:
            done += 1
            if (server, scenario, clients) in SKIPPED:
                continue
            # A fresh server per run, so memory and queues start from nothing.
            process, address = start(SERVERS[server])
            time.sleep(0.5)
            try:
                result = loadgen(server, scenario, address, process.pid, clients)
            finally:
                process.kill()
                process.wait()
            if result:
                results[(server, scenario, clients)].append(result)
            elapsed = time.monotonic() - began
            left = elapsed / done * (total - done)
            figure = result and next((result[k] for _, c, k, *_ in SCENARIOS if k in result), None)
            print(
                f"[{done}/{total}, round {round_}, {elapsed / 60:.1f} min, ~{left / 60:.0f} min left] "
                f"{server} {scenario} {clients}: {fmt(figure) if figure else 'failed'}",
                flush=True,
            )
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
    lines += headlines(results) + [""]
    charts = draw_charts(results)
    for scenario, clients, key, unit, _lower in SCENARIOS:
        if not any(s == scenario and c == clients for _, s, c in results):
            continue
        lines += [f"## {scenario}, {clients} clients: {unit}", ""]
        if (scenario, clients) in charts:
            lines += [f"![{scenario}, {clients} clients]({charts[(scenario, clients)]})", ""]
        extra = EXTRA[scenario]
        header = ["server", unit, "ratio to sio"] + [label for _, label in extra]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        base = BASE.get(scenario, "sio")
        sio_median = median_spread(results.get((base, scenario, clients), []), key)[0]
        notes = []
        for server in SERVERS:
            runs = results.get((server, scenario, clients))
            if runs is None:
                continue
            if not runs and (server, scenario, clients) not in SKIPPED:
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


def ratio(results, server, base, scenario, clients, key):
    """`server`'s median over `base`'s, or None."""
    mine = median_spread(results.get((server, scenario, clients), []), key)[0]
    theirs = median_spread(results.get((base, scenario, clients), []), key)[0]
    return mine / theirs if mine and theirs else None


def headlines(results):
    """The ratios the run-to-completion targets are stated in."""
    rows = []
    for clients in (100, 1000):
        value = ratio(results, "sio", "bare tungstenite echo", "echo", clients, "serverCpuUsPerRoundTrip")
        rows.append((f"echo, {clients}: sio CPU per round trip over the bare echo's", value))
    idle = median_spread(results.get(("sio", "idle", 10000), []), "bytesPerConnection")[0]
    rows.append(("idle, 10,000: sio bytes per connection", idle))
    for clients in (1000, 10000):
        key = "serverCpuNsPerDelivery"
        rows.append((f"broadcast, {clients}: sio CPU per delivery over the bare broadcast's",
                     ratio(results, "sio", "bare broadcast", "broadcast", clients, key)))
        rows.append((f"broadcast, {clients}: sio CPU per delivery over socketioxide's",
                     ratio(results, "sio", "socketioxide", "broadcast", clients, key)))
    # What connection state recovery costs where it works: each broadcast kept with its offset.
    for scenario, clients, key in (("echo", 100, "serverCpuUsPerRoundTrip"),
                                   ("broadcast", 1000, "serverCpuNsPerDelivery"),
                                   ("broadcast", 10000, "serverCpuNsPerDelivery")):
        rows.append((f"{scenario}, {clients}: sio with recovery on over sio without",
                     ratio(results, "sio, recovery on", "sio", scenario, clients, key)))
    # What permessage-deflate costs: memory per idle connection that agreed to it, and CPU per
    # delivery of a 2 KB broadcast, compressed once for all its recipients.
    idle_deflate = median_spread(results.get(("sio, deflate on", "idle", 10000), []), "bytesPerConnection")[0]
    rows.append(("idle, 10,000: sio with deflate on, bytes per connection", idle_deflate))
    rows.append(("broadcast of 2 KB, 1000: sio with deflate on over sio without",
                 ratio(results, "sio, deflate on", "sio", "broadcast-2k", 1000, "serverCpuNsPerDelivery")))
    # What counting for Prometheus costs on the echo (the target: within 5 %).
    for clients in (100, 1000):
        rows.append((f"echo, {clients}: sio with metrics on over sio without",
                     ratio(results, "sio, metrics on", "sio", "echo", clients, "serverCpuUsPerRoundTrip")))
    # The MessagePack parser: its echo against JSON's, and against the peers' on MessagePack.
    for clients in (100, 1000):
        key = "serverCpuUsPerRoundTrip"
        mine = median_spread(results.get(("sio, msgpack", "echo-msgpack", clients), []), key)[0]
        json_echo = median_spread(results.get(("sio", "echo", clients), []), key)[0]
        rows.append((f"echo over MessagePack, {clients}: sio CPU per round trip over sio's on JSON",
                     mine / json_echo if mine and json_echo else None))
        rows.append((f"echo over MessagePack, {clients}: sio CPU per round trip over socketioxide's",
                     ratio(results, "sio, msgpack", "socketioxide, msgpack", "echo-msgpack", clients, key)))
    lines = ["## Headline figures", "", "| figure | value |", "|---|---|"]
    lines += [f"| {name} | {fmt(value) if value else 'n/a'} |" for name, value in rows]
    return lines


def draw_charts(results):
    """One SVG per scenario, drawn by charts.py in its own virtualenv; {(scenario, clients): path
    relative to the report}."""
    if not (CHART_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(CHART_VENV)], check=True)
    subprocess.run(
        [str(CHART_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", "-r", str(BENCH / "requirements.txt")],
        check=True,
    )
    CHARTS.mkdir(parents=True, exist_ok=True)
    data = []
    for scenario, clients, key, unit, _ in SCENARIOS:
        servers = []
        for server in SERVERS:
            runs = results.get((server, scenario, clients))
            values = [run[key] for run in runs or [] if key in run]
            if values:
                servers.append({"server": server, "values": values, "floor": server in FLOORS})
        if servers:
            name = f"{scenario}-{clients}.svg"
            data.append({"title": f"{scenario}, {clients} clients", "unit": unit,
                         "file": str(CHARTS / name), "servers": servers})
    subprocess.run(
        [str(CHART_VENV / "bin" / "python"), str(BENCH / "charts.py")],
        input=json.dumps(data), text=True, check=True,
    )
    return {
        (scenario, clients): os.path.relpath(CHARTS / f"{scenario}-{clients}.svg", OUTPUT.parent)
        for scenario, clients, *_ in SCENARIOS
        if (CHARTS / f"{scenario}-{clients}.svg").exists()
    }


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(65536, hard), hard))
    build()
    write(measure())
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
