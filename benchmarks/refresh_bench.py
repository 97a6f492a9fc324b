"""Refresh cost (parse + write) against the time Redis itself spends on a reference write.

For each table size it measures, in one run and against one private Redis server:

- refresh: parse_counters + write_snapshot, wall time, as the refresher does it;
- reference: the plain redis-py MULTI/EXEC (HSET + EXPIRE per switch, DEL + RPUSH + EXPIRE per
  metric); both its wall time and Redis's own execution time (EXEC's usec from INFO
  commandstats).

Runs are interleaved (refresh, reference, refresh, ...) and medians reported.

``--against REV`` instead times this tree's refresh against the refresh of git revision REV
(checked out in a temporary worktree), each in a fresh process on a fresh private Redis,
interleaved (this tree, REV, REV, this tree, ...), and prints the median of each and their
ratio per size.

Usage: python -m benchmarks.refresh_bench [--sizes 1000,10000,100000] [--repeat 5]
       python -m benchmarks.refresh_bench --against 331823a --sizes 100000 --repeat 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import redis

from refresher_worker.parser import parse_counters
from telemetry_common.keys import Keys
from telemetry_common.writer import write_snapshot
from telemetry_stack.servers.redis_server import RedisServer

METRICS = [
    "BandwidthConsumption", "CpuUsage", "MemoryUsage", "Latency",
    "PacketLoss", "Temperature", "SuccessfulRequests", "FailedRequests",
]  # fmt: skip
TTL = 10


def make_body(switches: int, seed: int = 1) -> bytes:
    """Return a counters CSV like the generator's: gauges with 3 decimals, integer counters."""
    rng = np.random.default_rng(seed)
    gauges = rng.random((switches, 6)) * 100
    counters = rng.integers(0, 10**9, (switches, 2))
    lines = ["switch," + ",".join(METRICS)]
    for i in range(switches):
        values = [f"{v:.3f}" for v in gauges[i]] + [str(c) for c in counters[i]]
        lines.append(f"{i + 1}," + ",".join(values))
    return ("\n".join(lines) + "\n").encode()


def refresh(client: redis.Redis, body: bytes) -> float:
    """Time one parse + snapshot write."""
    start = time.perf_counter()
    write_snapshot(client, Keys(), parse_counters(body), ttl=TTL)
    return time.perf_counter() - start


def reference(client: redis.Redis, body: bytes) -> tuple[float, float]:
    """Time the plain reference write; return (wall seconds, Redis EXEC seconds)."""
    table = parse_counters(body)
    keys = Keys().at("reference")
    client.config_resetstat()
    start = time.perf_counter()
    pipe = client.pipeline(transaction=True)
    for row, switch in enumerate(table.switches):
        pipe.hset(
            keys.switch(switch), mapping=dict(zip(table.metrics, table.row(row), strict=True))
        )
        pipe.expire(keys.switch(switch), TTL)
    for column, name in enumerate(table.metrics):
        pipe.delete(keys.metric(name))
        pipe.rpush(keys.metric(name), *table.column(column))
        pipe.expire(keys.metric(name), TTL)
    pipe.execute()
    wall = time.perf_counter() - start
    stats = client.info("commandstats")
    redis_us = stats["cmdstat_exec"]["usec"] + stats.get("cmdstat_multi", {}).get("usec", 0)
    return wall, redis_us / 1e6


def run(sizes: list[int], repeat: int) -> list[dict[str, float]]:
    """Measure every size; return one row of medians per size."""
    server = RedisServer().start()
    client = redis.Redis.from_url(server.url, socket_timeout=60)
    rows = []
    try:
        for size in sizes:
            body = make_body(size)
            ours, ref_wall, ref_redis = [], [], []
            for _ in range(repeat):
                ours.append(refresh(client, body))
                wall, inside = reference(client, body)
                ref_wall.append(wall)
                ref_redis.append(inside)
            client.flushall()
            rows.append({
                "switches": size,
                "refresh_s": statistics.median(ours),
                "reference_redis_s": statistics.median(ref_redis),
                "reference_wall_s": statistics.median(ref_wall),
            })  # fmt: skip
    finally:
        client.close()
        server.close()
    return rows


def report(rows: list[dict[str, float]]) -> str:
    """Return the results as a text table."""
    lines = [
        f"{'switches x 8':>13} {'refresh ms':>11} {'ref. in Redis ms':>17} {'ratio':>6}"
        f" {'ref. redis-py wall ms':>22}  target"
    ]
    for row in rows:
        ratio = row["refresh_s"] / row["reference_redis_s"]
        size = int(row["switches"])
        target = {10_000: "ratio <= 3", 100_000: "refresh < 1000 ms"}.get(size, "")
        lines.append(
            f"{size:>13,} {row['refresh_s'] * 1e3:>11.1f} {row['reference_redis_s'] * 1e3:>17.1f}"
            f" {ratio:>6.2f} {row['reference_wall_s'] * 1e3:>22.1f}  {target}"
        )
    return "\n".join(lines)


# One refresh timed in a fresh process, on a fresh private server, from the tree on sys.path.
ONE = """
import sys, time, redis
from benchmarks.refresh_bench import make_body, refresh
from telemetry_stack.servers.redis_server import RedisServer
server = RedisServer().start()
client = redis.Redis.from_url(server.url, socket_timeout=60)
body = make_body(int(sys.argv[1]))
refresh(client, body)  # warm: the server's first write allocates
print(refresh(client, body))
server.close()
"""


def against(revision: str, sizes: list[int], repeat: int) -> str:
    """Time this tree's refresh against ``revision``'s, interleaved; return a text table."""
    here = Path(__file__).resolve().parents[1]
    lines = [f"{'switches x 8':>13} {'this tree s':>12} {revision + ' s':>14} {'ratio':>6}"]
    with tempfile.TemporaryDirectory(prefix="refresh-against-") as scratch:
        tree = Path(scratch) / "tree"
        git = ["git", "-C", str(here)]
        subprocess.run([*git, "worktree", "add", "--detach", str(tree), revision], check=True)
        try:
            for size in sizes:
                times: dict[Path, list[float]] = {here: [], tree: []}
                for number in range(repeat):
                    for root in (here, tree) if number % 2 == 0 else (tree, here):
                        env = {**os.environ, "PYTHONPATH": str(root)}
                        done = subprocess.run(
                            [sys.executable, "-c", ONE, str(size)],
                            cwd=root, env=env, capture_output=True, text=True, check=True,
                        )  # fmt: skip
                        times[root].append(float(done.stdout.split()[-1]))
                ours, theirs = statistics.median(times[here]), statistics.median(times[tree])
                lines.append(f"{size:>13,} {ours:>12.3f} {theirs:>14.3f} {ours / theirs:>6.2f}")
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=True)
    return "\n".join(lines)


def main() -> None:
    """Parse options, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", metavar="REV", help="compare with this git revision")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.against:
        print(against(args.against, sizes, args.repeat))
    else:
        print(report(run(sizes, args.repeat)))


if __name__ == "__main__":
    main()
