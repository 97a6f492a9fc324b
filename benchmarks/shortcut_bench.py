"""What the private shortcuts buy: the raw transaction path and the API's prebuilt headers.

On one private Redis server, interleaved (A B A B ...), medians of each round:

- GetMetric's read (MULTI, HMGET meta, PTTL, HGET, 2 EXISTS, EXEC) through ``raw_exec`` and
  through a redis-py transaction pipeline, with a lone redis-py HGET for scale;
- a snapshot write of 10,000 switches x 8 metrics through ``raw_exec.stream`` and through a
  redis-py pipeline;
- a data response with the API's six headers built as ``answers.DataResponse`` does, and as a
  plain ``flask.Response``.

Usage: python -m benchmarks.shortcut_bench [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import redis
from flask import Response

from api_service.data_response import DataResponse
from telemetry_common import reader, writer
from telemetry_common.keys import Keys
from telemetry_common.snapshot import Table
from telemetry_stack.servers.redis_server import RedisServer

HEADERS = [
    ("ETag", '"7-csv-0a1b2c3d"'),
    ("Cache-Control", "max-age=9"),
    ("Vary", "Accept"),
    ("X-Telemetry-Generation", "7"),
    ("X-Telemetry-Age", "0.512"),
    ("Content-Type", "text/csv; charset=utf-8"),
]
ENVIRON = {"REQUEST_METHOD": "GET", "SERVER_NAME": "x", "SERVER_PORT": "80"}


def per_call(function: Callable[[], Any], calls: int) -> float:
    """Return the seconds per call of ``function`` over ``calls`` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - started) / calls


def compare(cases: dict[str, tuple[Callable[[], Any], int]], rounds: int) -> dict[str, float]:
    """Time every case once per round, in alternating order; return each median."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            function, calls = cases[name]
            times[name].append(per_call(function, calls))
    return {name: statistics.median(values) for name, values in times.items()}


def pipeline_client(url: str) -> redis.Redis:
    """Return a client that raw_exec refuses (a subclass), so the code takes redis-py's path."""

    class Piped(redis.Redis):
        pass

    return Piped.from_url(url)


def main() -> None:
    """Run the three comparisons and print their medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    server = RedisServer().start()
    try:
        raw, piped = redis.Redis.from_url(server.url), pipeline_client(server.url)
        keys = Keys("shortcut")
        rng = np.random.default_rng(1)
        ids = [str(n) for n in range(10_000)]
        values = [[b"%.3f" % v for v in row] for row in rng.random((10_000, 8)) * 100]
        table = Table.from_rows(ids, [f"M{n}" for n in range(8)], values)
        writer.write_snapshot(raw, keys, table, ttl=3600)
        load = os.getloadavg()[0]
        reads = compare(
            {
                "raw_exec": (lambda: reader.read_metric(raw, keys, "500", "M3"), 3000),
                "pipeline": (lambda: reader.read_metric(piped, keys, "500", "M3"), 3000),
                "lone HGET": (lambda: raw.hget(keys.switch("500"), "M3"), 3000),
            },
            args.rounds,
        )
        writes = compare(
            {
                "raw_exec": (lambda: writer.write_snapshot(raw, keys, table, ttl=3600), 3),
                "pipeline": (lambda: writer.write_snapshot(piped, keys, table, ttl=3600), 3),
            },
            args.rounds,
        )
        body = b"switch,M3\n500,1.5\n"

        def prebuilt() -> object:
            return DataResponse(body, list(HEADERS)).get_wsgi_headers(ENVIRON)

        def plain() -> object:
            return Response(body, 200, HEADERS).get_wsgi_headers(ENVIRON)

        answers = compare(
            {"DataResponse": (prebuilt, 20000), "Response": (plain, 20000)},
            args.rounds,
        )
        print(
            f"{args.rounds} rounds, medians; load average {load:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after"
        )
        for title, found, unit, scale in (
            ("GetMetric's read", reads, "us", 1e6),
            ("snapshot write, 10,000 x 8", writes, "ms", 1e3),
            ("data response headers", answers, "us", 1e6),
        ):
            first = next(iter(found.values()))
            cells = [
                f"{name} {seconds * scale:.1f} {unit} ({seconds / first:.2f}x)"
                for name, seconds in found.items()
            ]
            print(f"{title}: " + ", ".join(cells))
    finally:
        server.close()


if __name__ == "__main__":
    main()
