"""Measure the generator: tick time (step + render) and /counters throughput vs hello-world.

Run by hand from the repository root: ``.venv/bin/python benchmarks/generator_bench.py``.
Timings vary with the host; read the ratio measured side by side, not the absolute figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from generator_service.config import GeneratorConfig
from generator_service.feed import Feed
from telemetry_stack.bench import wrk
from telemetry_stack.servers.redis_server import free_port
from telemetry_stack.up.health import StartError, wait_http_ok

if TYPE_CHECKING:
    from flask import Flask

HERE = Path(__file__).resolve().parent


def tick_times(switches: int, runs: int) -> tuple[float, float, float]:
    """Return the median step, render and whole tick times in ms for ``switches``."""
    feed = Feed(GeneratorConfig(switches=switches, seed=1, spike_probability=0.0001))
    steps: list[float] = []
    renders: list[float] = []
    ticks: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        feed.model.step()
        stepped = time.perf_counter()
        feed.render()
        rendered = time.perf_counter()
        feed.tick()
        ticks.append(time.perf_counter() - rendered)
        steps.append(stepped - started)
        renders.append(rendered - stepped)
    step, render, tick = (statistics.median(x) * 1000 for x in (steps, renders, ticks))
    return step, render, tick


def hello_app() -> Flask:
    """Return a Flask hello-world app (the baseline, a granian factory)."""
    from flask import Flask

    app = Flask("hello")
    app.add_url_rule("/", "hello", lambda: "Hello, World!")
    return app


def start(args: list[str], url: str) -> subprocess.Popen[bytes]:
    """Start a server process and wait until ``url`` answers."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
    process = subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_http_ok(url, 20)
    except StartError:
        process.kill()
        raise SystemExit(f"server {args} did not answer at {url}") from None
    return process


def load_wrk(url: str, seconds: float, connections: int, headers: list[str]) -> float:
    """Return requests per second from wrk (one thread, keep-alive)."""
    return wrk.summary(wrk.run(url, seconds, connections, headers=headers))[0]


def load_python(url: str, seconds: float, connections: int, headers: list[str]) -> float:
    """Return requests per second from threads of keep-alive http.client (slow fallback)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    sent = dict(h.split(": ", 1) for h in headers)
    counts = [0] * connections
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
        while time.monotonic() < deadline:
            conn.request("GET", parts.path, headers=sent)
            conn.getresponse().read()
            counts[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def http_ratio(rounds: int, seconds: float, connections: int) -> None:
    """Print /counters (1,000 switches) and hello-world req/s, interleaved, with medians."""
    tool = "wrk" if shutil.which("wrk") else "python"
    load = load_wrk if tool == "wrk" else load_python
    gen_port, hello_port = free_port(), free_port()
    generator = start(
        ["-m", "telemetry_stack", "generator", "--switches=1000", f"--bind=127.0.0.1:{gen_port}"],
        f"http://127.0.0.1:{gen_port}/healthz",
    )
    hello = start([__file__, "--serve-hello", str(hello_port)], f"http://127.0.0.1:{hello_port}/")
    cases = {
        "hello-world": (f"http://127.0.0.1:{hello_port}/", []),
        "/counters": (f"http://127.0.0.1:{gen_port}/counters", []),
        "/counters 304": (f"http://127.0.0.1:{gen_port}/counters", ["If-None-Match: *"]),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for url, headers in cases.values():
            load(url, 1, connections, headers)  # warm up
        for _ in range(rounds):
            for name, (url, headers) in cases.items():
                results[name].append(load(url, seconds, connections, headers))
    finally:
        for process in (generator, hello):
            process.send_signal(signal.SIGTERM)
            process.wait(10)
    print(f"\nHTTP, granian 1 worker, {tool} -c{connections}, {rounds} x {seconds:g} s interleaved")
    base = statistics.median(results["hello-world"])
    for name, figures in results.items():
        runs = " ".join(f"{x:,.0f}" for x in figures)
        median = statistics.median(figures)
        print(f"  {name:<14} median {median:>8,.0f} req/s  ({median / base:.2f}x hello)  [{runs}]")


def main() -> None:
    """Run the benchmark, or serve the hello-world baseline when asked to."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs")
    parser.add_argument("--serve-hello", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_hello:
        from telemetry_common.wsgi_server import serve

        serve("generator_bench:hello_app", "127.0.0.1", args.serve_hello, workers=1)
        return
    runs = 3 if args.quick else 7
    print(f"tick time, 8 metrics, median of {runs} runs (ms)")
    print(f"  {'switches':>8} {'step':>8} {'render':>8} {'tick':>8}")
    for switches in (1_000, 10_000, 100_000):
        step, render, tick = tick_times(switches, runs)
        print(f"  {switches:>8,} {step:>8.1f} {render:>8.1f} {tick:>8.1f}")
    if args.quick:
        http_ratio(rounds=2, seconds=2, connections=32)
    else:
        http_ratio(rounds=3, seconds=5, connections=32)


if __name__ == "__main__":
    main()
