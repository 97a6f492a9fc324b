"""Snapshots under read load: Redis's longest stall, GetMetric's tail and memory, by table size.

For each size, on its own private redis-server: a refresher process writes a snapshot of
``switches`` x 8 metrics every ``--interval`` seconds (``--ttl``: 10 s as deployed), the API as
served (granian, 2 workers) answers GetMetric of a random switch under ``wrk -t1 -c8 --latency``,
and in one run it records:

- each refresh's time (parse + write, end to end);
- wrk's p50, p99 and slowest answer;
- Redis's longest event (``latency-monitor-threshold 10``, ``LATENCY LATEST``: any command,
  script or transaction that kept Redis busy 10 ms or more) and its slowest command (SLOWLOG);
- ``used_memory`` at its peak (sampled every 50 ms) against one generation's size.

After the load, the largest size also answers ListMetrics of all 8 metrics 5 times; its slowest
Redis command is reported. The figures the design asks for are printed beside their bounds:
p99 at the largest size at most max(4x p99 at the smallest, 20 ms), no Redis event over 30 ms,
peak memory at most 3.5x one generation.

Usage: python -m benchmarks.generations_bench [--switches 1000,100000] [--seconds 30]
       python -m benchmarks.generations_bench --switches 1000000 --seconds 0 --interval 15 --ttl 30
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import redis
import requests

from benchmarks.refresh_bench import make_body
from benchmarks.suite import child_env, launch, serve_factory, stop, wait_ok
from refresher_worker.parser import parse_counters
from telemetry_common.keys import Keys
from telemetry_common.writer import write_snapshot
from telemetry_stack.bench import wrk as wrk_engine
from telemetry_stack.servers.redis_server import RedisServer, free_port

PREFIX = "genbench"
ALL = ",".join(parse_counters(make_body(1)).metrics)


def refresher(url: str, switches: int, interval: float, ttl: int, stop_at: Any, times: Any) -> None:
    """Write a snapshot every ``interval`` seconds until ``stop_at`` is set; report each time."""
    client, body = redis.Redis.from_url(url, socket_timeout=60), make_body(switches)
    pause = interval  # the first snapshot was written just before: keep its cadence
    while not stop_at.wait(pause):
        started = time.perf_counter()
        table = parse_counters(body, len(body))
        parsed = time.perf_counter()
        write_snapshot(client, Keys(PREFIX), table, ttl=ttl)
        times.put((time.perf_counter() - started, parsed - started))
        pause = max(0.0, interval - (time.perf_counter() - started))


class Memory(threading.Thread):
    """Samples ``used_memory`` every 50 ms and keeps the peak."""

    def __init__(self, client: redis.Redis) -> None:
        super().__init__(daemon=True)
        self.client, self.peak, self.done = client, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, int(self.client.info("memory")["used_memory"]))


def slowest(client: redis.Redis) -> tuple[float, float]:
    """Return Redis's longest latency event and its slowest logged command, in ms."""
    events = client.latency_latest()
    event = max((int(e[2]) for e in events), default=0)
    command = max((e["duration"] for e in client.slowlog_get(1024)), default=0) / 1000
    return float(event), command


def measure(size: int, args: argparse.Namespace, scratch: str) -> dict[str, Any]:
    """Run one size: refreshes under GetMetric load; return its figures."""
    server = RedisServer().start()
    client = redis.Redis.from_url(server.url)
    baseline = int(client.info("memory")["used_memory"])
    body = make_body(size)  # over 64 MiB at 1,000,000: TELEMETRY_MAX_BODY_BYTES must allow it
    write_snapshot(client, Keys(PREFIX), parse_counters(body, len(body)), ttl=args.ttl)
    one_generation = int(client.info("memory")["used_memory"]) - baseline
    client.config_set("latency-monitor-threshold", 10)
    client.config_set("slowlog-log-slower-than", 1000)  # 1 ms
    stop_at, times = multiprocessing.Event(), multiprocessing.Queue()  # type: ignore[var-annotated]
    writer = multiprocessing.Process(
        target=refresher, args=(server.url, size, args.interval, args.ttl, stop_at, times)
    )
    writer.start()
    processes, figures = [], {"switches": size, "one generation MB": one_generation / 2**20}
    try:
        if args.seconds:
            port, metrics_dir = free_port(), Path(scratch) / f"metrics-{size}"
            metrics_dir.mkdir()
            env = child_env({
                "TELEMETRY_REDIS_URL": server.url, "TELEMETRY_KEY_PREFIX": PREFIX,
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            })  # fmt: skip
            processes.append(
                launch(serve_factory("benchmarks.apps:instrumented", port, 2, env), env)
            )
            base = f"http://127.0.0.1:{port}"
            wait_ok(f"{base}/readyz", processes[0])
            script = Path(scratch) / f"random-{size}.lua"
            pick = f"wrk.path .. math.random(1, {size})"
            script.write_text(f"request = function()\n  return wrk.format(nil, {pick})\nend\n")
            memory = Memory(redis.Redis.from_url(server.url))
            memory.start()
            client.latency_reset()
            client.slowlog_reset()
            out = wrk_engine.run(
                f"{base}/telemetry/GetMetric?metric=Latency&switch=",
                args.seconds,
                8,
                script=str(script),
            )
            memory.done.set()
            memory.join()
            _rps, p50, p99 = wrk_engine.summary(out)
            top = re.search(r"Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)", out)
            scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
            event, command = slowest(client)
            figures |= {
                "p50 ms": p50, "p99 ms": p99,
                "max ms": float(top[1]) * scale[top[2]] if top else float("nan"),
                "Redis event ms": event, "slowest command ms": command,
                "peak MB": memory.peak / 2**20,
                "peak / one generation": memory.peak / one_generation,
                "errors": "Non-2xx" in out or "Socket errors" in out,
            }  # fmt: skip
            if size == max(args.sizes):
                client.latency_reset()
                client.slowlog_reset()
                for _ in range(5):
                    answer = requests.get(f"{base}/telemetry/ListMetrics?metrics={ALL}", timeout=60)
                    assert answer.status_code == 200, answer.text[:200]
                (
                    figures["ListMetrics 8: Redis event ms"],
                    figures["ListMetrics 8: slowest command ms"],
                ) = slowest(client)
        else:
            memory = Memory(redis.Redis.from_url(server.url))
            memory.start()
            time.sleep(args.interval * 3)
            memory.done.set()
            memory.join()
            figures |= {
                "peak MB": memory.peak / 2**20,
                "peak / one generation": memory.peak / one_generation,
            }
    finally:
        stop_at.set()
        writer.join(120)
        stop(processes)
        server.close()
    refreshes = []
    while not times.empty():
        refreshes.append(times.get())
    figures["refresh s"] = statistics.median(r[0] for r in refreshes) if refreshes else 0.0
    figures["of which parse s"] = statistics.median(r[1] for r in refreshes) if refreshes else 0.0
    figures["refreshes"] = len(refreshes)
    return figures


def main() -> None:
    """Measure every size, print one row each and the bounds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", default="1000,100000", help="comma-separated table sizes")
    parser.add_argument("--seconds", type=int, default=30, help="wrk duration (0: no load)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between refreshes")
    parser.add_argument("--ttl", type=int, default=10, help="the snapshot's TTL in seconds")
    args = parser.parse_args()
    args.sizes = [int(size) for size in args.switches.split(",")]
    with tempfile.TemporaryDirectory(prefix="generations-bench-") as scratch:
        rows = [measure(size, args, scratch) for size in args.sizes]
    for row in rows:
        print(
            ", ".join(
                f"{k}: {v:.3g}" if isinstance(v, float) else f"{k}: {v}" for k, v in row.items()
            )
        )
    if args.seconds and len(rows) > 1:
        small, large = rows[0], rows[-1]
        bound = max(4 * small["p99 ms"], 20.0)
        print(
            f"p99 at {large['switches']:,}: {large['p99 ms']:.2f} ms, bound {bound:.2f} ms "
            f"(ratio to p99 at {small['switches']:,}: {large['p99 ms'] / small['p99 ms']:.2f}x); "
            f"longest Redis event {max(r['Redis event ms'] for r in rows):.0f} ms (bound 30); "
            f"peak / one generation {large['peak / one generation']:.2f} (bound 3.5)"
        )


if __name__ == "__main__":
    main()
