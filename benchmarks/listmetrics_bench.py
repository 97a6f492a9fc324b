"""ListMetrics at scale: JSON against CSV, CSV against its floor, and what gzip costs and saves.

On one private Redis server holding ``--switches`` switches x 8 metrics (100,000 by default),
the API as served (granian, 2 workers, 4 threads) answers ListMetrics of 3 and of all 8
metrics as CSV, as JSON, and as gzipped JSON, and the Latency column whole, as its top 20
(``sort=-Latency&limit=20``: the stored ranking) and as rows 1,000-1,019 by Latency (past the
stored ranking: sorted at read time), one request at a time over one keep-alive
connection, timed from sending the request to the last byte. The floor is measured in this
process, between the requests: a redis-py MULTI/EXEC of the same LRANGEs plus the byte join
of the CSV. Each round runs every case once, in alternating order; figures are medians over
rounds, ratios the median of per-round ratios. Then gzip's cost by size, in this process.

Usage: python -m benchmarks.listmetrics_bench [--switches 100000] [--rounds 11]
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from functools import partial

import numpy as np
import redis

from api_service.formats import csv_table
from api_service.json_table import json_rows
from benchmarks.api_bench import METRICS
from benchmarks.suite import child_env, launch, serve_factory, stop, wait_ok
from telemetry_common.keys import Keys
from telemetry_common.snapshot import Table
from telemetry_common.writer import write_snapshot
from telemetry_stack.servers.redis_server import RedisServer, free_port

PREFIX = "listbench"
THREE = ["Latency", "CpuUsage", "PacketLoss"]


def snapshot(url: str, switches: int) -> None:
    """Write a generator-like snapshot of ``switches`` x 8 metrics, for an hour."""
    rng = np.random.default_rng(1)
    cells = np.char.mod("%.3f", rng.random((switches, len(METRICS))) * 100).astype(np.bytes_)
    table = Table([str(n) for n in range(1, switches + 1)], METRICS, cells)
    write_snapshot(redis.Redis.from_url(url), Keys(PREFIX), table, ttl=3600)


def floor(client: redis.Redis, names: list[str]) -> bytes:
    """Read the columns in one redis-py MULTI/EXEC and join them into CSV bytes."""
    keys, pipe = Keys(PREFIX), client.pipeline(transaction=True)
    at = keys.at(client.get(keys.current).decode())  # type: ignore[union-attr]
    pipe.lrange(at.switches, 0, -1)
    for name in names:
        pipe.lrange(at.metric(name), 0, -1)
    ids, *columns = pipe.execute()
    return csv_table(b"switch", names, ids, columns)


def fetch(connection: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> int:
    """GET ``path`` and read the whole body; return its size."""
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"{path}: {response.status} {body[:200]!r}")
    return len(body)


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def http_cases(port: int, client: redis.Redis, rounds: int) -> dict[str, list[float]]:
    """Time every case once per round, order reversed every other round; return ms by case."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    gz = {"Accept-Encoding": "gzip"}
    cases: dict[str, Callable[[], object]] = {}
    for label, names in (("3", THREE), ("8", METRICS)):
        path = "/telemetry/ListMetrics?metrics=" + ",".join(names)
        cases[f"{label}: floor"] = partial(floor, client, names)
        cases[f"{label}: CSV"] = partial(fetch, connection, path, {})
        cases[f"{label}: JSON"] = partial(fetch, connection, path + "&format=json", {})
        cases[f"{label}: JSON gzip"] = partial(fetch, connection, path + "&format=json", gz)
    cases["3: CSV gzip"] = partial(
        fetch, connection, "/telemetry/ListMetrics?metrics=" + ",".join(THREE), gz
    )
    latency = "/telemetry/ListMetrics?metrics=Latency"
    cases["Latency: whole column"] = partial(fetch, connection, latency, {})
    cases["Latency: top 20"] = partial(fetch, connection, latency + "&sort=-Latency&limit=20", {})
    cases["Latency: rows 1000-1019 by Latency"] = partial(
        fetch, connection, latency + "&sort=-Latency&limit=20&offset=1000", {}
    )
    for function in cases.values():  # warm up
        function()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for number in range(rounds):
        for name in list(cases) if number % 2 == 0 else list(reversed(cases)):
            times[name].append(timed(cases[name]))
    return times


def ratio(times: dict[str, list[float]], mine: str, base: str) -> str:
    found = [a / b for a, b in zip(times[mine], times[base], strict=True)]
    return f"{statistics.median(found):.2f}x ({min(found):.2f}-{max(found):.2f})"


def gzip_costs(switches: list[int]) -> None:
    """Print each body's size, its gzipped size and the time to gzip it at levels 1 and 6."""
    print("\n| body, x 3 metrics | bytes | gzip -1: bytes, ms | gzip -6: bytes, ms |")
    print("| --- | ---: | ---: | ---: |")
    rng = np.random.default_rng(2)
    for count in switches:
        ids = [str(n).encode() for n in range(1, count + 1)]
        columns = [[b"%.3f" % v for v in rng.random(count) * 100] for _ in THREE]
        bodies = {"CSV": csv_table(b"switch", THREE, ids, columns)}
        bodies["JSON"] = json_rows(ids, THREE, columns)
        for kind, body in bodies.items():
            cells = []
            for level in (1, 6):
                took = statistics.median(
                    timed(partial(zlib.compress, body, level, 31)) for _ in range(5)
                )
                cells.append(f"{len(zlib.compress(body, level, 31)):,}, {took:.2f}")
            print(f"| {count:,} switches, {kind} | {len(body):,} | {cells[0]} | {cells[1]} |")


def main() -> None:
    """Start Redis and the API, run the cases, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    redis_server = RedisServer().start()
    process = None
    try:
        snapshot(redis_server.url, args.switches)
        with tempfile.TemporaryDirectory(prefix="listmetrics-bench-") as metrics_dir:
            env = child_env({
                "TELEMETRY_REDIS_URL": redis_server.url, "TELEMETRY_KEY_PREFIX": PREFIX,
                "TELEMETRY_API_THREADS": "4", "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
            })  # fmt: skip
            port = free_port()
            factory = "benchmarks.apps:instrumented"
            process = launch(serve_factory(factory, port, 2, env), env)
            wait_ok(f"http://127.0.0.1:{port}/readyz", process)
            load = os.getloadavg()[0]
            times = http_cases(port, redis.Redis.from_url(redis_server.url), args.rounds)
            stop([process])  # before its metrics folder goes
        print(
            f"{args.switches:,} switches, {args.rounds} rounds interleaved, medians; load "
            f"average {load:.1f} before, {os.getloadavg()[0]:.1f} after\n"
        )
        print("| ListMetrics | ms | ratio (range) |")
        print("| --- | ---: | ---: |")
        for label in ("3", "8"):
            for case, base in (
                ("floor", None),
                ("CSV", "floor"),
                ("JSON", "CSV"),
                ("JSON gzip", "JSON"),
            ):
                name = f"{label}: {case}"
                against = f"{ratio(times, name, f'{label}: {base}')} of {base}" if base else "-"
                print(f"| {name} | {statistics.median(times[name]):.1f} | {against} |")
        print(
            f"| 3: CSV gzip | {statistics.median(times['3: CSV gzip']):.1f} | "
            f"{ratio(times, '3: CSV gzip', '3: CSV')} of CSV |"
        )
        whole = "Latency: whole column"
        print(f"| {whole} | {statistics.median(times[whole]):.1f} | - |")
        for name in ("Latency: top 20", "Latency: rows 1000-1019 by Latency"):
            print(
                f"| {name} | {statistics.median(times[name]):.1f} | "
                f"{ratio(times, name, whole)} of the whole column |"
            )
    finally:
        if process is not None:
            stop([process])
        redis_server.close()
    gzip_costs([1_000, 10_000, 100_000])


if __name__ == "__main__":
    main()
