"""GetMetric against a plain Flask app doing one raw HGET, with the instrumentation on and off.

In one run, on one private Redis server holding 1,000 switches x 8 metrics, under granian with
the same workers and threads (2 x 4 by default), wrk asks each server for a random switch of
the 1,000 (one Lua script for all, same route and parameters):

- the API as served (``create_app()``, Prometheus multiprocess mode as ``telemetry api`` runs it);
- the API with its per-request instrumentation removed (benchmarks/apps.py);
- the plain app (benchmarks/apps.py): one redis-py HGET, no middleware, no checks;
- the original design's shape, one process holding the table in a dict (benchmarks/apps.py,
  one worker: it cannot have more).

First at ``--connections`` (throughput), then at one connection (latency). Runs are interleaved
(A B C D, then D C B A, ...); figures are medians, ratios the median of per-round ratios.

The line "instrumentation's cost" compares runs made one after the other, which on a shared
machine differ by about 10 % from round to round, more than the cost itself: read it as a rough
figure. benchmarks/counting_bench.py measures that cost with both servers loaded together.

Usage: python -m benchmarks.getmetric_bench [--seconds 5] [--rounds 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
from pathlib import Path

from benchmarks import api_bench
from benchmarks.suite import Runs, child_env, launch, serve_factory, stop, wait_ok, wrk
from telemetry_stack.servers.redis_server import RedisServer, free_port

ROUTE = "/telemetry/GetMetric?metric=Latency&switch="
SERVERS = {  # name: (WSGI factory, workers)
    "plain app, one HGET": ("benchmarks.apps:plain_app", 2),
    "API": ("benchmarks.apps:instrumented", 2),
    "API, instrumentation off": ("benchmarks.apps:uninstrumented", 2),
    "in-process dict (1 process)": ("benchmarks.apps:cache_app", 1),
}
REFERENCE = "plain app, one HGET"


def interleaved(urls: dict[str, str], args: argparse.Namespace, connections: int) -> Runs:
    """Run wrk with the random-switch script on each URL, rounds times, order reversed by turns."""
    runs: Runs = {name: [] for name in urls}
    for url in urls.values():
        wrk(url, 1, connections, args.script)
    for number in range(args.rounds):
        names = list(urls) if number % 2 == 0 else list(reversed(urls))
        for name in names:
            runs[name].append(wrk(urls[name], args.seconds, connections, args.script))
    return runs


def table(title: str, runs: Runs) -> None:
    """Print medians, and each server's req/s and p50 against the plain app's, per round."""
    print(
        f"\n| {title} | req/s | p50 ms | p99 ms | req/s vs plain app: per round (range), "
        "of medians | p50 - plain's p50: per round, of medians |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    base = runs[REFERENCE]
    base_rps, base_p50 = (statistics.median(run[i] for run in base) for i in range(2))
    for name, mine in runs.items():
        rps, p50, p99 = (statistics.median(run[i] for run in mine) for i in range(3))
        ratios = [a[0] / b[0] for a, b in zip(mine, base, strict=True)]
        gaps = [a[1] - b[1] for a, b in zip(mine, base, strict=True)]
        ratio = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}), "
        ratio += f"{rps / base_rps:.2f}x"
        gap = f"{statistics.median(gaps):+.3f} ms, {p50 - base_p50:+.3f} ms"
        print(f"| {name} | {rps:,.0f} | {p50:.3f} | {p99:.2f} | {ratio} | {gap} |")
    on, off = runs["API"], runs["API, instrumentation off"]
    cost = [1 - a[0] / b[0] for a, b in zip(on, off, strict=True)]
    of_medians = 1 - statistics.median(r[0] for r in on) / statistics.median(r[0] for r in off)
    print(
        f"\ninstrumentation's cost: {statistics.median(cost):.1%} of throughput per round "
        f"({min(cost):.1%} to {max(cost):.1%}), {of_medians:.1%} of the medians"
    )


def main() -> None:
    """Start Redis and the four servers, run both loads, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5, help="runs per server, interleaved")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=4, help="granian threads per worker")
    args = parser.parse_args()
    redis_server = RedisServer().start()
    processes = []
    with tempfile.TemporaryDirectory(prefix="getmetric-bench-") as scratch:
        args.script = api_bench.random_switch_script(scratch)
        try:
            api_bench.write_snapshot_of(redis_server.url)
            urls = {}
            for number, (name, (factory, workers)) in enumerate(SERVERS.items()):
                metrics_dir = Path(scratch) / f"metrics{number}"
                metrics_dir.mkdir()
                env = child_env({
                    "TELEMETRY_REDIS_URL": redis_server.url,
                    "TELEMETRY_KEY_PREFIX": api_bench.PREFIX,
                    "TELEMETRY_API_THREADS": str(args.threads),
                    "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                })  # fmt: skip
                port = free_port()
                processes.append(launch(serve_factory(factory, port, workers, env), env))
                urls[name] = f"http://127.0.0.1:{port}{ROUTE}"
            for process, url in zip(processes, urls.values(), strict=True):
                wait_ok(url.split("/telemetry")[0] + "/readyz", process)
            load = os.getloadavg()
            busy = interleaved(urls, args, args.connections)
            single = interleaved(urls, args, 1)
            print(
                f"python {platform.python_version()}, {os.cpu_count()} cores, granian "
                f"2 workers x {args.threads} threads, wrk -t1 -d{args.seconds}s, "
                f"{args.rounds} rounds interleaved, medians; load average "
                f"{load[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
            )
            table(f"GetMetric, wrk -c{args.connections}, random switch", busy)
            table("GetMetric, wrk -c1, random switch", single)
        finally:
            stop(processes)
            redis_server.close()


if __name__ == "__main__":
    main()
