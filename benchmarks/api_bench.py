"""The API's answer paths against minimal endpoints doing the same Redis work, under wrk.

In one run, on one private Redis server holding a snapshot of 1,000 switches x 8 metrics, and on
one server configuration (granian, 2 workers, the API's threads), it measures requests per
second and p50/p99 latency of:

- a hello-world endpoint;
- GetMetric, and its minimal twin: one plain redis-py HGET of the same key and field;
- ListMetrics for 3 and for all 8 metrics, and their minimal twin: one redis-py MULTI/EXEC of
  the LRANGEs and the CSV joined from them.

The twins live in the same app (same middleware), so a ratio is the cost of the API's own work:
validation, the snapshot's generation and age, headers, ETag. Then GetMetric alone under gunicorn
sync, gunicorn gthread and granian. Runs are interleaved (A B, then B A, ...) and medians
reported; the machine is shared, so read ratios, not absolute figures. wrk, Redis and the servers
share the cores.

Usage: python -m benchmarks.api_bench [--duration 5] [--rounds 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
from flask import Flask, Response, request

from telemetry_common.keys import Keys
from telemetry_common.redis_client import connect
from telemetry_stack.bench import wrk as wrk_engine
from telemetry_stack.servers.redis_server import RedisServer, free_port
from telemetry_stack.up.health import StartError, wait_http_ok

PREFIX = "apibench"
SWITCHES = 1000
METRICS = [
    "BandwidthConsumption", "CpuUsage", "MemoryUsage", "Latency",
    "PacketLoss", "Temperature", "SuccessfulRequests", "FailedRequests",
]  # fmt: skip
THREE = "Latency,CpuUsage,PacketLoss"
ALL = ",".join(METRICS)
ONE = "switch=500&metric=Latency"
CASES = [  # (label, API path, minimal twin's path)
    ("hello-world", "/bench/hello", None),
    ("GetMetric", f"/telemetry/GetMetric?{ONE}", f"/bench/hget?{ONE}"),
    (
        "ListMetrics, 3 metrics",
        f"/telemetry/ListMetrics?metrics={THREE}",
        f"/bench/columns?metrics={THREE}",
    ),
    (
        "ListMetrics, all 8",
        f"/telemetry/ListMetrics?metrics={ALL}",
        f"/bench/columns?metrics={ALL}",
    ),
]
SERVERS = ("granian", "gunicorn sync", "gunicorn gthread")


def bench_app() -> Flask:
    """Return the API app with the minimal endpoints added (a WSGI factory)."""
    from api_service import create_app

    app = create_app()
    client = connect(os.environ["TELEMETRY_REDIS_URL"])
    keys = Keys(PREFIX)
    at = keys.at(client.get(keys.current).decode())  # type: ignore[union-attr]  # the one snapshot

    @app.get("/bench/hello")
    def hello() -> Response:
        return Response(b"hello\n", content_type="text/plain")

    @app.get("/bench/hget")
    def hget() -> Response:
        value = client.hget(at.switch(request.args["switch"]), request.args["metric"])
        assert isinstance(value, bytes)
        return Response(b"%s\n" % value, content_type="text/csv")

    @app.get("/bench/columns")
    def columns() -> Response:
        names = request.args["metrics"].split(",")
        pipe = client.pipeline(transaction=True)
        pipe.lrange(at.switches, 0, -1)
        for name in names:
            pipe.lrange(at.metric(name), 0, -1)
        cols = pipe.execute()
        head = b"switch," + ",".join(names).encode()
        body = head + b"\n" + b"\n".join(map(b",".join, zip(*cols, strict=True))) + b"\n"
        return Response(body, content_type="text/csv")

    return app


def write_snapshot_of(url: str) -> None:
    """Put a generator-like snapshot of SWITCHES x 8 metrics under PREFIX, for an hour."""
    from refresher_worker.parser import parse_counters
    from telemetry_common.writer import write_snapshot

    rng = np.random.default_rng(1)
    lines = ["switch," + ALL]
    for switch in range(1, SWITCHES + 1):
        values = [f"{v:.3f}" for v in rng.random(6) * 100]
        values += [str(v) for v in rng.integers(0, 10**9, 2)]
        lines.append(f"{switch}," + ",".join(values))
    table = parse_counters(("\n".join(lines) + "\n").encode())
    write_snapshot(connect(url), Keys(PREFIX), table, ttl=3600)


def random_switch_script(folder: Path | str) -> str:
    """Write a wrk Lua script that appends a random switch of the SWITCHES; return its path."""
    path = Path(folder) / "random_switch.lua"
    path.write_text(
        "request = function()\n"
        f"  return wrk.format(nil, wrk.path .. math.random(1, {SWITCHES}))\n"
        "end\n"
    )
    return str(path)


def start_server(kind: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start one server of ``kind`` with 2 workers on 127.0.0.1:``port``."""
    bind = f"127.0.0.1:{port}"
    if kind == "granian":
        code = (
            "from telemetry_common.wsgi_server import serve; "
            f"serve('benchmarks.api_bench:bench_app', '127.0.0.1', {port}, workers=2, "
            f"blocking_threads={env['TELEMETRY_API_THREADS']})"
        )
        command = [sys.executable, "-c", code]
    else:
        worker = ["-k", "sync"] if kind == "gunicorn sync" else ["-k", "gthread", "--threads", "4"]
        command = [sys.executable, "-m", "gunicorn", "-w", "2", *worker, "-b", bind]
        command += ["--log-level", "warning", "benchmarks.api_bench:bench_app()"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_http_ok(f"http://{bind}/readyz", 30)
    except StartError:
        process.kill()
        raise SystemExit(f"{kind} did not become ready on {bind}") from None
    return process


def wrk(
    url: str, duration: int, connections: int, script: str | None = None
) -> tuple[float, float, float]:
    """Return requests per second, p50 and p99 in milliseconds of one wrk run (Lua ``script``)."""
    out = wrk_engine.run(url, duration, connections, script=script)
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors on {url}:\n{out}")
    return wrk_engine.summary(out)


Runs = dict[str, list[tuple[float, float, float]]]


def interleave(urls: list[str], args: argparse.Namespace) -> Runs:
    """Run wrk on every URL in turn, ``args.rounds`` times; return every run.

    Every other round runs in reverse order (A B, B A, ...), so a drifting load weighs on both.
    """
    runs: Runs = {url: [] for url in urls}
    for url in urls:  # warm up
        wrk(url, 1, args.connections)
    for number in range(args.rounds):
        for url in urls if number % 2 == 0 else reversed(urls):
            runs[url].append(wrk(url, args.duration, args.connections))
    return runs


def row(label: str, runs: Runs, url: str, twin: str | None) -> str:
    """Return one markdown row: medians, and the median ratio of req/s to the twin's.

    Each ratio compares two runs of the same round, next to each other in time.
    """
    rps, p50, p99 = (statistics.median(run[i] for run in runs[url]) for i in range(3))
    ratio = "-"
    if twin:
        ratios = [a[0] / b[0] for a, b in zip(runs[url], runs[twin], strict=True)]
        ratio = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
    return f"| {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {ratio} |"


def main() -> None:
    """Run the whole benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="runs per endpoint, interleaved")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=4, help="granian threads per worker")
    args = parser.parse_args()
    redis_server = RedisServer().start()
    ports = {kind: free_port() for kind in SERVERS}
    env = {
        **os.environ,
        "TELEMETRY_REDIS_URL": redis_server.url,
        "TELEMETRY_KEY_PREFIX": PREFIX,
        "TELEMETRY_API_THREADS": str(args.threads),
        "TELEMETRY_LOG_LEVEL": "WARNING",
    }
    servers = []
    try:
        write_snapshot_of(redis_server.url)
        servers = [start_server(kind, ports[kind], env) for kind in SERVERS]
        base = f"http://127.0.0.1:{ports['granian']}"
        urls = [base + path for _, api, twin in CASES for path in (twin, api) if path]
        load = os.getloadavg()[0]
        runs = interleave(urls, args)
        print(
            f"python {platform.python_version()}, {os.cpu_count()} cores, wrk -t1 "
            f"-c{args.connections} -d{args.duration}s, {args.rounds} rounds, medians; "
            f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after\n"
        )
        print("| endpoint (granian, 2 workers) | req/s | p50 ms | p99 ms | ratio to twin (range) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for label, api, twin in CASES:
            if twin:
                print(row(f"{label}: minimal twin", runs, base + twin, None))
            print(row(label, runs, base + api, base + twin if twin else None))
        path = CASES[1][1]
        by_server = {kind: f"http://127.0.0.1:{ports[kind]}{path}" for kind in SERVERS}
        runs = interleave(list(by_server.values()), args)
        print("\n| GetMetric under | req/s | p50 ms | p99 ms | ratio to granian (range) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for kind in SERVERS:
            print(row(kind, runs, by_server[kind], by_server["granian"]))
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        redis_server.close()


if __name__ == "__main__":
    main()
