"""Servers for the suite and load on them: wrk runs interleaved, and ``telemetry bench`` runs.

Every server is a child process on a loopback port, started and waited for here. Runs over
several URLs go A B C, then C B A, ..., so that a drifting machine weighs on all of them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks import api_bench
from benchmarks.suite_table import Row, ratios
from telemetry_stack.up.health import StartError, wait_http_ok

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
