"""Time /telemetry/prometheus against ListMetrics of the same columns, side by side.

Run by hand from the repository root: ``.venv/bin/python benchmarks/exposition_bench.py``.
The app answers in process (Flask's test client) from a private redis-server holding a snapshot
of every known metric; the three requests are interleaved and their medians compared. Timings
vary with the host; read the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import redis

from api_service import create_app
from api_service.config import ApiConfig
from telemetry_common.catalogue import MEANINGS
from telemetry_common.keys import Keys
from telemetry_common.snapshot import SourceInfo, Table
from telemetry_common.writer import write_snapshot
from telemetry_stack.servers.redis_server import RedisServer


def table(switches: int) -> Table:
    """Return a table of every known metric, with values shaped like the generator's."""
    rng = random.Random(1)
    shapes = [b"%.2f", b"%.2f", b"%.2f", b"%.3f", b"%.3f", b"%.2f", b"%d", b"%d"]
    highs = [5_000, 100, 100, 20, 1, 60, 10**9, 10**6]
    rows = [
        [shape % (rng.uniform(0, high)) for shape, high in zip(shapes, highs, strict=True)]
        for _ in range(switches)
    ]
    ids = [str(n) for n in range(1, switches + 1)]
    return Table.from_rows(ids, [meaning.name for meaning in MEANINGS], rows)


def main() -> None:
    """Print the median time of each request and its ratio to ListMetrics CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    server = RedisServer().start()
    try:
        client = redis.Redis.from_url(server.url)
        snapshot = table(args.switches)
        write_snapshot(client, Keys(), snapshot, ttl=3600, source=SourceInfo(tick="1"))
        app = create_app(ApiConfig(redis_url=server.url), redis=client).test_client()
        names = ",".join(snapshot.metrics)
        paths = {
            "prometheus": "/telemetry/prometheus",
            "ListMetrics CSV": f"/telemetry/ListMetrics?metrics={names}",
            "ListMetrics JSON": f"/telemetry/ListMetrics?format=json&metrics={names}",
        }
        times: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(args.runs):
            for name, path in paths.items():
                started = time.perf_counter()
                status = app.get(path).status_code
                times[name].append(time.perf_counter() - started)
                assert status == 200, (path, status)
        reference = statistics.median(times["ListMetrics CSV"])
        print(f"{args.switches:,} switches x {len(snapshot.metrics)} metrics, {args.runs} runs")
        for name, values in times.items():
            median = statistics.median(values)
            print(
                f"  {name:17} {median * 1000:7.1f} ms  {median / reference:5.2f}x ListMetrics CSV"
            )
    finally:
        server.close()


if __name__ == "__main__":
    main()
