"""How long counting one GetMetric answer takes inside a loaded API worker, two ways.

Timed alone in a tight loop, counting an answer takes well under a microsecond; inside a worker
under load it takes several times that, because between two answers the worker runs granian's
and the kernel's code, and every Python object the counting touches is then a cache miss. This
benchmark times it where it runs: two API servers (granian, 2 workers x 4 threads, one private
Redis with 1,000 switches x 8) whose shortcut counts through a wrapper that times each call
with ``perf_counter_ns``, loaded together by one wrk each (random switch of the 1,000):

- ``answered``: ``Counts.answered``, as the API counts its shortcut answers;
- ``request``: ``Counts.request``, the general way every other answer is counted (a
  per-thread shard, a dict per route and status, both histograms binned at once).

Each worker keeps the first 200,000 durations and reports them when the benchmark signals it.
The wrapper's own two clock reads are included, so the figures are upper bounds. Each server's
CPU per answer (from /proc) gives the count's share of it.

Usage: python -m benchmarks.count_timing [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks import api_bench, cpu_time
from benchmarks.suite_load import child_env, launch, serve_factory, stop, wait_ok
from telemetry_stack.bench import wrk as wrk_engine
from telemetry_stack.servers.redis_server import RedisServer, free_port

WAYS = ("answered", "request")
ROUTE = "/telemetry/GetMetric?metric=Latency&switch="
KEEP = 200_000
WORKERS = 2


def timed_app() -> Any:
    """Return the API whose shortcut counts through a timing wrapper (a WSGI factory).

    ``COUNT_TIMING_WAY`` picks the counting; on SIGUSR1 the worker writes its durations'
    summary to ``COUNT_TIMING_DIR``.
    """
    from api_service import create_app, metrics, views

    app = create_app()
    counts = metrics.api_metrics().counts
    way = os.environ["COUNT_TIMING_WAY"]

    def general(seconds: float, age: float, generation: int) -> None:
        counts.request(views.GETMETRIC, 200, seconds, (age, generation))

    count = counts.answered if way == "answered" else general
    durations: list[int] = []
    clock = time.perf_counter_ns

    def timed(seconds: float, age: float, generation: int) -> None:
        start = clock()
        count(seconds, age, generation)
        took = clock() - start
        if len(durations) < KEEP:
            durations.append(took)

    def report(*_: Any) -> None:
        path = Path(os.environ["COUNT_TIMING_DIR"]) / f"{os.getpid()}.json"
        path.write_text(json.dumps(durations))

    app.wsgi_app.answered = timed  # type: ignore[attr-defined]  # fast_path.FastGetMetric
    signal.signal(signal.SIGUSR1, report)
    return app


Server = tuple[Any, str, Path]  # process, URL, the folder its workers report to


def _serve(way: str, redis_url: str, scratch: Path) -> Server:
    reports, metrics_dir = scratch / way, scratch / f"{way}-metrics"
    reports.mkdir()
    metrics_dir.mkdir()
    env = child_env({
        "TELEMETRY_REDIS_URL": redis_url,
        "TELEMETRY_KEY_PREFIX": api_bench.PREFIX,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "COUNT_TIMING_WAY": way,
        "COUNT_TIMING_DIR": str(reports),
    })  # fmt: skip
    port = free_port()
    process = launch(serve_factory("benchmarks.count_timing:timed_app", port, WORKERS, env), env)
    return process, f"http://127.0.0.1:{port}{ROUTE}", reports


def _durations(server: Server) -> list[int]:
    """Ask the server's workers for their durations; return them all, sorted."""
    process, _, reports = server
    for pid in cpu_time.descendants(process.pid):
        os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while len(list(reports.glob("*.json"))) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.1)
    found = [d for path in reports.glob("*.json") for d in json.loads(path.read_text())]
    if not found:
        raise SystemExit(f"no durations reported by the workers in {reports.name}")
    return sorted(found)


def main() -> None:
    """Serve both ways, load them together, print each way's durations and share."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections, each")
    args = parser.parse_args()
    redis_server = RedisServer().start()
    servers: dict[str, Server] = {}
    with tempfile.TemporaryDirectory(prefix="count-timing-") as scratch:
        script = api_bench.random_switch_script(scratch)
        try:
            api_bench.write_snapshot_of(redis_server.url)
            servers = {way: _serve(way, redis_server.url, Path(scratch)) for way in WAYS}
            for process, url, _ in servers.values():
                wait_ok(url.split("/telemetry")[0] + "/readyz", process)
            before = {way: cpu_time.cpu_seconds(server[0].pid) for way, server in servers.items()}
            outputs: dict[str, str] = {}

            def load(way: str) -> None:
                url, seconds, connections = servers[way][1], args.seconds, args.connections
                outputs[way] = wrk_engine.run(url, seconds, connections, script=script)

            threads = [threading.Thread(target=load, args=(way,)) for way in WAYS]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            print(
                f"{args.seconds} s of wrk -c{args.connections} on each server, together; "
                f"load average {os.getloadavg()[0]:.1f}\n"
            )
            print(
                "| counting | calls timed | p10 ns | p50 ns | p90 ns | mean ns "
                "| server CPU us per answer | mean's share of it |"
            )
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for way, server in servers.items():
                answers = wrk_engine.summary(outputs[way])[0] * args.seconds
                cpu = (cpu_time.cpu_seconds(server[0].pid) - before[way]) / answers * 1e9
                durations = _durations(server)
                n, mean = len(durations), statistics.fmean(durations)
                print(
                    f"| {way} | {n:,} | {durations[n // 10]:,} | {durations[n // 2]:,} "
                    f"| {durations[n * 9 // 10]:,} | {mean:,.0f} | {cpu / 1000:.1f} "
                    f"| {mean / cpu:.1%} |"
                )
        finally:
            stop([server[0] for server in servers.values()])
            redis_server.close()


if __name__ == "__main__":
    main()
