"""What fencing costs a snapshot write: the fenced write against the same write unfenced.

Both write the same parsed table to one private Redis, interleaved (fenced, unfenced, ...),
medians reported with their ratio:

- fenced: ``write_snapshot`` as the refresher runs it: a fencing token (one Lua call), WATCH
  and the fence read with the switch and metric lists in one round trip, the decision, then
  the MULTI/EXEC streamed on the watched connection;
- unfenced: the write path without fencing: the switch and metric lists read in one
  pipeline round trip, then the same MULTI/EXEC streamed on a pooled connection.

Usage: python -m benchmarks.fence_bench [--sizes 1000,10000,100000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import redis

from benchmarks.refresh_bench import make_body
from refresher_worker.parser import parse_counters
from telemetry_common import raw_exec
from telemetry_common.keys import Keys
from telemetry_common.snapshot import SourceInfo, Table
from telemetry_common.writer import Plan, departed, meta_fields, write_snapshot
from telemetry_stack.servers.redis_server import RedisServer

TTL = 10
KEYS = Keys()


def fenced(client: redis.Redis, table: Table) -> float:
    """Time one fenced write."""
    start = time.perf_counter()
    write_snapshot(client, KEYS, table, ttl=TTL)
    return time.perf_counter() - start


def unfenced(client: redis.Redis, table: Table) -> float:
    """Time the same write without the token, the WATCH and the fence read."""
    start = time.perf_counter()
    now = time.time()
    pipe = client.pipeline(transaction=False)
    pipe.lrange(KEYS.switches, 0, -1)
    pipe.lrange(KEYS.metrics, 0, -1)
    switches, metrics = ([i.decode() for i in items] for items in pipe.execute())
    meta = meta_fields(table, TTL, SourceInfo(), now, "0123456789abcdef")
    fence = [b"0", f"{now:.3f}".encode(), b"0123456789abcdef", f"{now:.3f}".encode()]
    plan = Plan(KEYS, table, TTL, departed(KEYS, table, switches, metrics), meta, fence, now)
    count, blocks = plan.packed()
    raw_exec.stream(client, blocks, count)
    return time.perf_counter() - start


def run(sizes: list[int], repeat: int) -> list[tuple[int, float, float]]:
    """Measure every size; return (switches, fenced median, unfenced median) per size."""
    server = RedisServer().start()
    client = redis.Redis.from_url(server.url, socket_timeout=60)
    rows = []
    try:
        assert raw_exec.supports(client), "the packed write path is not available"
        for size in sizes:
            table = parse_counters(make_body(size))
            ours, plain = [], []
            for _ in range(repeat):
                ours.append(fenced(client, table))
                plain.append(unfenced(client, table))
            client.flushall()
            rows.append((size, statistics.median(ours), statistics.median(plain)))
    finally:
        client.close()
        server.close()
    return rows


def main() -> None:
    """Parse options, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"{'switches x 8':>13} {'fenced ms':>10} {'unfenced ms':>12} {'ratio':>6}")
    for size, ours, plain in run([int(s) for s in args.sizes.split(",")], args.repeat):
        print(f"{size:>13,} {ours * 1e3:>10.1f} {plain * 1e3:>12.1f} {ours / plain:>6.2f}")


if __name__ == "__main__":
    main()
