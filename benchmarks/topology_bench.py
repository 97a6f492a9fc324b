"""Refresh on a 3-master Redis Cluster against the same refresh on a standalone Redis.

One run starts a standalone redis-server and a local 3-master cluster, then refreshes (parse +
write of the whole snapshot) interleaved: standalone, cluster, and again. Medians and their
ratio to standalone are printed.
Usage: python -m benchmarks.topology_bench [--switches 10000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.refresh_bench import TTL, make_body
from refresher_worker.parser import parse_counters
from telemetry_common.keys import Keys
from telemetry_common.redis_client import connect
from telemetry_common.writer import write_snapshot
from telemetry_stack.servers.cluster import LocalCluster
from telemetry_stack.servers.redis_server import RedisServer

KEYS = Keys("{telemetry}")


def routed(client: Any, body: bytes) -> None:
    """Refresh as the refresher does: parse, then write_snapshot (to the slot's node)."""
    write_snapshot(client, KEYS, parse_counters(body), ttl=TTL)


def timed(action: Callable[[Any, bytes], None], client: Any, body: bytes) -> float:
    """Return the seconds one refresh took."""
    started = time.perf_counter()
    action(client, body)
    return time.perf_counter() - started


def run(switches: int, repeat: int) -> dict[str, list[float]]:
    """Measure the three refreshes interleaved; return every time of each."""
    server, cluster = RedisServer().start(), LocalCluster().start()
    try:
        standalone = connect(server.url, timeout=60)
        clustered = connect(cluster.url, timeout=60)
        body = make_body(switches)
        cases = {
            "standalone": (routed, standalone),
            "cluster": (routed, clustered),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(repeat):
            for name, (action, client) in cases.items():
                times[name].append(timed(action, client, body))
        return times
    finally:
        server.close()
        cluster.close()


def report(switches: int, times: dict[str, list[float]]) -> str:
    """Return the medians and their ratios to standalone as a text table."""
    reference = statistics.median(times["standalone"])
    lines = [f"refresh of {switches:,} switches x 8 metrics, {len(times['standalone'])} runs each"]
    lines.append(f"{'target':<28} {'median ms':>10} {'min-max ms':>15} {'ratio':>6}")
    for name, values in times.items():
        median = statistics.median(values)
        spread = f"{min(values) * 1e3:.0f}-{max(values) * 1e3:.0f}"
        lines.append(f"{name:<28} {median * 1e3:>10.1f} {spread:>15} {median / reference:>6.2f}")
    lines.append(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return "\n".join(lines)


def main() -> None:
    """Parse options, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(report(args.switches, run(args.switches, args.repeat)))


if __name__ == "__main__":
    main()
