"""The API's rows: against its minimal twins, against a separate plain Flask app doing one HGET
(benchmarks/plain_app.py, the same granian workers and threads), against a single-process
in-memory cache, and by number of worker processes. All servers read one private Redis holding
1,000 switches x 8.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator

from benchmarks import api_bench
from benchmarks.suite_load import child_env, interleave, launch, row, serve_factory, stop, wait_ok
from benchmarks.suite_table import Row
from telemetry_stack.servers.redis_server import RedisServer, free_port

GET = f"/telemetry/GetMetric?{api_bench.ONE}"
LIST3 = f"/telemetry/ListMetrics?metrics={api_bench.THREE}"
LIST8 = f"/telemetry/ListMetrics?metrics={api_bench.ALL}"
WORKERS = (1, 2, 4)


@contextlib.contextmanager
def api_servers(threads: int = 4) -> Iterator[dict[str, str]]:
    """Start Redis with the snapshot and every server; yield their base URLs by name."""
    redis_server = RedisServer().start()
    env = child_env(
        {
            "TELEMETRY_REDIS_URL": redis_server.url,
            "TELEMETRY_KEY_PREFIX": api_bench.PREFIX,
            "TELEMETRY_API_THREADS": str(threads),
        }
    )
    servers: list[subprocess.Popen[bytes]] = []
    try:
        api_bench.write_snapshot_of(redis_server.url)
        names = ("twins", "cache", "plain", *(f"api{n}" for n in WORKERS))
        ports = {name: free_port() for name in names}
        bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        launched = {
            "cache": serve_factory("benchmarks.suite_cache:cache_app", ports["cache"], 1, env),
            "plain": serve_factory("benchmarks.plain_app:plain_app", ports["plain"], 2, env),
        }
        api = ["-m", "telemetry_stack", "api"]
        for workers in WORKERS:
            bind = f"--bind=127.0.0.1:{ports[f'api{workers}']}"
            launched[f"api{workers}"] = [*api, bind, f"--workers={workers}"]
        waiting = {name: launch(command, env) for name, command in launched.items()}
        servers.extend(waiting.values())  # all start at once; the twins' server meanwhile
        servers.append(api_bench.start_server("granian", ports["twins"], env))
        for name, process in waiting.items():
            wait_ok(f"{bases[name]}/readyz", process)
        yield bases
    finally:
        stop(servers)
        redis_server.close()


def twin_rows(
    bases: dict[str, str], rounds: int, seconds: int, connections: int, full: bool
) -> list[Row]:
    """Return GetMetric and ListMetrics against twins doing the same Redis work (2 workers)."""
    base = bases["twins"]
    cases = [
        ("GetMetric", GET, f"/bench/hget?{api_bench.ONE}", "twin: one HGET"),
        (
            "ListMetrics, 3",
            LIST3,
            f"/bench/columns?metrics={api_bench.THREE}",
            "twin: MULTI 4 LRANGE",
        ),
    ]
    if full:
        cases.append(
            (
                "ListMetrics, 8",
                LIST8,
                f"/bench/columns?metrics={api_bench.ALL}",
                "twin: MULTI 9 LRANGE",
            )
        )
    urls = [base + path for _, api, twin, _ in cases for path in (twin, api)]
    if full:
        urls.insert(0, f"{base}/bench/hello")
    runs = interleave(urls, rounds, seconds, connections)
    section = "API vs twin (2 workers)"
    rows = []
    if full:
        rows.append(row(section, "hello-world", runs, f"{base}/bench/hello", None, ""))
    for label, api, twin, twin_label in cases:
        rows.append(row(section, f"{label}: {twin_label}", runs, base + twin, None, ""))
        rows.append(row(section, label, runs, base + api, base + twin, "its twin"))
    return rows


def cache_and_scaling_rows(
    bases: dict[str, str], rounds: int, seconds: int, connections: int
) -> list[Row]:
    """Return the API against a plain app and the in-memory cache, and by worker processes."""
    get = {name: bases[name] + GET for name in ("plain", "cache", *(f"api{n}" for n in WORKERS))}
    lists = {name: bases[name] + LIST3 for name in ("cache", "api2")}
    runs = interleave([*get.values(), *lists.values()], rounds, seconds, connections)
    cache, plain = "cache (1 process)", "plain app"
    rows = [
        row(
            "API vs plain app", "plain Flask app, one HGET, 2 workers", runs, get["plain"], None, ""
        ),
        row(
            "API vs plain app", "API, 2 workers: GetMetric", runs, get["api2"], get["plain"], plain
        ),
        row("API vs cache", "in-memory cache, 1 process: GetMetric", runs, get["cache"], None, ""),
        row("API vs cache", "API, 2 workers: GetMetric", runs, get["api2"], get["cache"], cache),
        row("API vs cache", "in-memory cache: ListMetrics, 3", runs, lists["cache"], None, ""),
        row(
            "API vs cache",
            "API, 2 workers: ListMetrics, 3",
            runs,
            lists["api2"],
            lists["cache"],
            cache,
        ),
    ]
    for workers in WORKERS:
        base = None if workers == 1 else get["api1"]
        label = f"GetMetric, {workers} worker" + ("s" if workers > 1 else "")
        rows.append(row("API scaling", label, runs, get[f"api{workers}"], base, "1 worker"))
    return rows
