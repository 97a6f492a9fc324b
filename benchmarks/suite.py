"""The benchmark suite's parts: its one table, the servers and load it runs, and its rows.

- the table: rows of figures and ratios, and the growth exponent of a cost;
- servers and load: every server a child process on a loopback port; wrk runs interleaved
  (A B C, then C B A, ...), and ``telemetry bench`` runs;
- the rows: the refresh, the generator, the load generator's own ceiling, and the API against
  its minimal twins, a separate plain Flask app, a single-process cache, and by workers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import api_bench, generator_bench, refresh_bench
from telemetry_stack.servers.redis_server import RedisServer, free_port
from telemetry_stack.up.health import StartError, wait_http_ok

# The table.


@dataclass(frozen=True)
class Row:
    """One figure, with its ratio to what it is compared with (medians of interleaved runs)."""

    section: str
    case: str
    value: float
    unit: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None
    ratio_range: tuple[float, float] | None = None
    against: str = ""


def ratios(mine: list[float], theirs: list[float]) -> tuple[float, tuple[float, float]]:
    """Return the median and range of the ratios of runs made side by side."""
    found = [a / b for a, b in zip(mine, theirs, strict=True) if b]
    return statistics.median(found), (min(found), max(found))


def slope(sizes: list[float], costs: list[float]) -> float:
    """Return the least-squares slope of log(cost) on log(size): 1.0 is linear growth."""
    xs, ys = [math.log(s) for s in sizes], [math.log(c) for c in costs]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def _figure(value: float, unit: str) -> str:
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    return f"{value:,.3g} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def render(rows: list[Row]) -> str:
    """Return the rows as one markdown table."""
    lines = [
        "| section | case | figure | p50 ms | p99 ms | ratio (range) | compared with |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        ratio = "-"
        if row.ratio is not None:
            ratio = f"{row.ratio:.2f}x"
            if row.ratio_range is not None and row.ratio_range[0] != row.ratio_range[1]:
                ratio += f" ({row.ratio_range[0]:.2f}-{row.ratio_range[1]:.2f})"
        p50 = "-" if row.p50_ms is None else f"{row.p50_ms:.2f}"
        p99 = "-" if row.p99_ms is None else f"{row.p99_ms:.2f}"
        lines.append(
            f"| {row.section} | {row.case} | {_figure(row.value, row.unit)} | {p50} | {p99} "
            f"| {ratio} | {row.against or '-'} |"
        )
    return "\n".join(lines)


def machine() -> str:
    """Return one line describing the machine and the Python that ran the suite."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


# Servers and load.

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
Figures = tuple[float, float, float]  # req/s, p50 ms, p99 ms
Runs = dict[str, list[Figures]]


class NoWrk(RuntimeError):
    """wrk is not on PATH."""


class LoadError(RuntimeError):
    """A load run saw errors (non-2xx answers, socket errors) or failed."""


def wrk(url: str, seconds: int, connections: int, script: str | None = None) -> Figures:
    """Return req/s, p50 and p99 of one wrk run (api_bench's), raising LoadError on errors.

    A run that saw socket errors only (say, one timeout in a noisy moment) is run once more,
    with a warning; errors again, or any non-2xx answer, raise.
    """
    for attempt in range(2):
        try:
            return api_bench.wrk(url, seconds, connections, script)
        except SystemExit as exc:  # api_bench stops its own run on errors; this suite goes on
            text = str(exc)
            if attempt or "Non-2xx" in text:
                raise LoadError(text) from None
            socket_line = next(line for line in text.splitlines() if "Socket errors" in line)
            logger.warning("wrk socket errors on %s, running it again:%s", url, socket_line)
    raise AssertionError("unreachable")


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """Return the environment of a server child: this one, the repository importable, quiet."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "TELEMETRY_LOG_LEVEL": "WARNING", **extra}


def wait_ok(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait until ``url`` answers 200; fail if the process exits or time runs out."""

    def alive() -> None:
        if process.poll() is not None:
            raise RuntimeError(f"server {process.args!r} exited with {process.returncode}")

    try:
        wait_http_ok(url, timeout, check=alive)
    except StartError:
        process.kill()
        raise


def launch(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a server with ``python <command>``, without waiting for it."""
    return subprocess.Popen(
        [sys.executable, *command], env=env, stdout=subprocess.DEVNULL, cwd=ROOT
    )


def serve_factory(factory: str, port: int, workers: int, env: dict[str, str]) -> list[str]:
    """Return the arguments that serve a WSGI ``factory`` under granian, as the services are."""
    code = (
        "from telemetry_common.wsgi_server import serve; "
        f"serve({factory!r}, '127.0.0.1', {port}, workers={workers}, "
        f"blocking_threads={env.get('TELEMETRY_API_THREADS', '4')})"
    )
    return ["-c", code]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop the servers (SIGTERM, then SIGKILL after 10 s)."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def interleave(urls: list[str], rounds: int, seconds: int, connections: int) -> Runs:
    """Run wrk on each URL in turn, ``rounds`` times, reversing the order every other round.

    Each server is warmed up first by one short run on one of its URLs.
    """
    if not shutil.which("wrk"):
        raise NoWrk("wrk is not on PATH (Debian: apt install wrk)")
    runs: Runs = {url: [] for url in urls}
    servers = {url.split("/", 3)[2]: url for url in reversed(urls)}  # one URL per server
    for url in servers.values():
        try:
            wrk(url, 1, connections)  # warm up: workers, connections, caches
        except LoadError as exc:
            logger.warning("errors while warming up (ignored): %s", str(exc).splitlines()[0])
    for number in range(rounds):
        for url in urls if number % 2 == 0 else list(reversed(urls)):
            runs[url].append(wrk(url, seconds, connections))
    return runs


def row(section: str, case: str, runs: Runs, url: str, base: str | None, label: str) -> Row:
    """Return the medians of ``url``'s runs, with the ratio of req/s to ``base``'s if given."""
    rps, p50, p99 = (statistics.median(run[i] for run in runs[url]) for i in range(3))
    ratio = spread = None
    if base is not None:
        ratio, spread = ratios([r[0] for r in runs[url]], [r[0] for r in runs[base]])
    return Row(section, case, rps, "req/s", p50, p99, ratio, spread, label if base else "")


def telemetry_bench(args: list[str]) -> dict[str, object]:
    """Run ``telemetry bench --json --quiet`` with ``args``; return its report."""
    command = [sys.executable, "-m", "telemetry_stack", "bench", "--json", "--quiet", *args]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=child_env({}), cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"telemetry bench failed ({done.returncode}): {done.stderr[-500:]}")
    report: dict[str, object] = json.loads(done.stdout)
    return report


# The refresh's rows: parse + write against Redis's own execution of a reference write.

REFRESH_SIZES = [1_000, 10_000, 100_000]


def refresh_rows(repeat: int) -> list[Row]:
    """Return the refresh time at each size, its ratio to Redis's own time, and its growth."""
    measured = refresh_bench.run(REFRESH_SIZES, repeat)
    rows = []
    for found in measured:
        switches = int(found["switches"])
        ours, inside = found["refresh_s"], found["reference_redis_s"]
        rows.append(
            Row(
                "refresh",
                f"parse + write, {switches:,} switches x 8 "
                f"({ours / switches * 1e6:.1f} us per switch)",
                ours * 1000,
                "ms",
                ratio=ours / inside,
                against=f"Redis's own EXEC of the reference write ({inside * 1000:.1f} ms)",
            )
        )
    sizes = [float(found["switches"]) for found in measured]
    for name, key in (("refresh", "refresh_s"), ("Redis's own EXEC", "reference_redis_s")):
        exponent = slope(sizes, [found[key] for found in measured])
        rows.append(Row("refresh", f"{name} growth 1k-100k switches", exponent, "exponent"))
    return rows


# The generator's rows: tick time by table size, and /counters against hello-world.

GENERATOR_SIZES = (1_000, 10_000, 100_000)


def tick_rows(runs: int) -> list[Row]:
    """Return the median tick time (step + render) at each size, and its growth exponent."""
    rows, ticks = [], []
    for switches in GENERATOR_SIZES:
        step, render, tick = generator_bench.tick_times(switches, runs)
        ticks.append(tick)
        rows.append(
            Row(
                "generator",
                f"tick, {switches:,} switches x 8 (step {step:.1f} + render {render:.1f} ms)",
                tick,
                "ms",
                against=f"{tick / switches * 1000:.2f} us per switch",
            )
        )
    rows.append(
        Row(
            "generator",
            "tick growth 1k-100k switches",
            slope(list(GENERATOR_SIZES), ticks),
            "exponent",
        )
    )
    return rows


def serving_rows(rounds: int, seconds: int, connections: int) -> list[Row]:
    """Return /counters (1,000 switches) against hello-world, each on one granian worker."""
    gen_port, hello_port = free_port(), free_port()
    env = child_env({})
    hello = f"http://127.0.0.1:{hello_port}/"
    counters = f"http://127.0.0.1:{gen_port}/counters"
    generator = ["-m", "telemetry_stack", "generator", "--switches=1000"]
    servers = [
        launch([*generator, f"--bind=127.0.0.1:{gen_port}"], env),
        launch([generator_bench.__file__, "--serve-hello", str(hello_port)], env),
    ]
    try:
        wait_ok(f"http://127.0.0.1:{gen_port}/healthz", servers[0])
        wait_ok(hello, servers[1])
        runs = interleave([hello, counters], rounds, seconds, connections)
    finally:
        stop(servers)
    return [
        row("generator", "hello-world, 1 granian worker", runs, hello, None, ""),
        row("generator", "/counters, 1,000 switches", runs, counters, hello, "hello-world"),
    ]


# The load generator's rows: telemetry bench's own ceiling, and it beside wrk on the API.

SECTION = "load generator"


def _rps_cpu(report: dict[str, Any]) -> tuple[float, float, float, float]:
    lat, gen = report["latency_ms"], report["load_generator"]
    return report["rps"], lat["p50"], lat["p99"], gen["cpu_us_per_request"] or 0.0


def ceiling_rows(rounds: int, seconds: int, connections: int) -> list[Row]:
    """Return what ``telemetry bench --stub`` reaches with each engine, interleaved."""
    args = ["--stub", f"--duration={seconds}", "--warmup=0.5", f"--concurrency={connections}"]
    engines = ["python", "wrk"] if shutil.which("wrk") else ["python"]
    runs: dict[str, list[tuple[float, float, float, float]]] = {e: [] for e in engines}
    for number in range(rounds):
        for engine in engines if number % 2 == 0 else engines[::-1]:
            runs[engine].append(_rps_cpu(telemetry_bench([*args, f"--engine={engine}"])))
    rps, p50, p99, cpu_us = (statistics.median(run[i] for run in runs["python"]) for i in range(4))
    rows = []
    ratio = spread = None
    if "wrk" in runs:
        wrk_rps, wrk_p50, wrk_p99 = (statistics.median(r[i] for r in runs["wrk"]) for i in range(3))
        rows.append(
            Row(SECTION, "telemetry bench --stub --engine wrk", wrk_rps, "req/s", wrk_p50, wrk_p99)
        )
        ratio, spread = ratios([r[0] for r in runs["python"]], [r[0] for r in runs["wrk"]])
    rows.append(
        Row(
            SECTION,
            "telemetry bench --stub (python engine, answers checked)",
            rps,
            "req/s",
            p50,
            p99,
            ratio,
            spread,
            ("wrk engine; " if ratio else "")
            + f"{cpu_us:.0f} us CPU/request: one core drives {1e6 / cpu_us:,.0f} req/s",
        )
    )
    return rows


def engine_rows(base: str, rounds: int, seconds: int, connections: int) -> list[Row]:
    """Return ``telemetry bench`` and wrk on the same GetMetric of one API, interleaved."""
    switch, metric = "500", "Latency"
    url = f"{base}/telemetry/GetMetric?switch={switch}&metric={metric}"
    args = [
        f"--url={base}",
        f"--duration={seconds}",
        "--warmup=0.5",
        f"--concurrency={connections}",
        "--mix=getmetric=1",
        f"--switch-ids={switch}",
        f"--metric-names={metric}",
    ]
    ours: list[tuple[float, float, float, float]] = []
    theirs: list[tuple[float, float, float]] = []
    for number in range(rounds):
        if number % 2 == 0:
            ours.append(_rps_cpu(telemetry_bench(args)))
        if shutil.which("wrk"):
            theirs.append(wrk(url, seconds, connections))
        if number % 2 == 1:
            ours.append(_rps_cpu(telemetry_bench(args)))
    rps, p50, p99, cpu = (statistics.median(run[i] for run in ours) for i in range(4))
    ratio = spread = None
    rows = []
    if theirs:
        ratio, spread = ratios([r[0] for r in ours], [r[0] for r in theirs])
        wrk_rps, wrk_p50, wrk_p99 = (statistics.median(run[i] for run in theirs) for i in range(3))
        rows.append(
            Row(SECTION, "wrk -t1, GetMetric, API 2 workers", wrk_rps, "req/s", wrk_p50, wrk_p99)
        )
    rows.append(
        Row(
            SECTION,
            "telemetry bench, same GetMetric, API 2 workers",
            rps,
            "req/s",
            p50,
            p99,
            ratio,
            spread,
            f"wrk ({cpu:.0f} us CPU per request)" if theirs else f"{cpu:.0f} us CPU per request",
        )
    )
    return rows


# The API's rows: against its twins, a plain Flask app, a single-process cache, and by workers.

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
            "cache": serve_factory("benchmarks.apps:cache_app", ports["cache"], 1, env),
            "plain": serve_factory("benchmarks.apps:plain_app", ports["plain"], 2, env),
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
