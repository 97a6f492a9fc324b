"""GetMetric's cost in instructions per request, counted by valgrind: steady on a busy machine.

Throughput on a shared machine swings by tens of percent between rounds, too much to show a
cost of a few percent. Instructions do not: callgrind counts what the process executes,
whatever else runs. Each app (the API as served, the API without its request counting, the
plain Flask app doing one HGET) answers GetMetric for random switches through WSGI in one
process, against a private Redis outside valgrind. Every app runs twice, with ``--warm`` calls
and with ``--warm`` + ``--calls`` calls; the difference over ``--calls`` is its instructions
per request, start-up and first-call costs excluded.

Instructions are not time, and their shares are not shares of throughput: a served request
also costs granian's and the kernel's work, which this count leaves out, and between two
answers those evict the caches, so code that touches many Python objects (as request counting
does) takes several times longer served than its instructions suggest. count_timing.py times
the counting where it runs; counting_bench.py measures its share of throughput.

The apps run without PROMETHEUS_MULTIPROC_DIR, so the worker's thread that writes its counts
to a file twice a second is not started: under valgrind, some fifty times slower, it would run
a hundred times for what takes a second when served, and its cost, per second and not per
request, would be charged to the requests.

Usage: python -m benchmarks.instruction_bench [--calls 2000] [--warm 200]  (needs valgrind)
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

APPS = ("API", "API, counting off", "plain app, one HGET")


def _app(name: str) -> Callable[..., Any]:
    from benchmarks.api_variants import instrumented, uninstrumented
    from benchmarks.plain_app import plain_app

    factories: dict[str, Callable[[], Any]] = {
        APPS[0]: instrumented,
        APPS[1]: uninstrumented,
        APPS[2]: plain_app,
    }
    app: Callable[..., Any] = factories[name]()
    return app


def _child(name: str, calls: int) -> None:
    """Answer ``calls`` GetMetric requests through ``name``'s WSGI app."""
    from benchmarks import api_bench, wsgi_loop_bench

    app = _app(name)
    chooser = random.Random(7)
    for _ in range(calls):
        environ = wsgi_loop_bench.environ_for(chooser.randint(1, api_bench.SWITCHES))
        body = app(environ, lambda *_args: None)
        b"".join(body)
        if hasattr(body, "close"):
            body.close()


def _instructions(name: str, calls: int, env: dict[str, str]) -> int:
    """Return the instructions callgrind counted for a child answering ``calls`` requests."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        command += [sys.executable, "-m", "benchmarks.instruction_bench", "--child", name]
        command += ["--calls", str(calls)]
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=1800)
        summary = re.search(r"^summary:\s+(\d+)", out.read_text(), re.MULTILINE)
        if summary is None:
            raise SystemExit(f"no instruction count in callgrind's output for {name}")
        return int(summary.group(1))


def main() -> None:
    """Start Redis, count each app's instructions twice, print instructions per request."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="requests counted per app")
    parser.add_argument("--warm", type=int, default=200, help="requests before those counted")
    parser.add_argument("--child", choices=APPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.calls)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not on PATH (Debian and Ubuntu: apt install valgrind)")
    from benchmarks import api_bench
    from telemetry_stack.servers.redis_server import RedisServer

    server = RedisServer().start()
    try:
        api_bench.write_snapshot_of(server.url)
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"} | {
            "TELEMETRY_REDIS_URL": server.url,
            "TELEMETRY_KEY_PREFIX": api_bench.PREFIX,
            "PYTHONHASHSEED": "0",
        }
        per_request = {}
        for name in APPS:
            base = _instructions(name, args.warm, env)
            total = _instructions(name, args.warm + args.calls, env)
            per_request[name] = (total - base) / args.calls
        print(f"{args.calls} GetMetric requests per app after {args.warm}, counted by callgrind")
        print("| app | instructions per request | ratio to the API |\n| --- | ---: | ---: |")
        for name, count in per_request.items():
            print(f"| {name} | {count:,.0f} | {count / per_request[APPS[0]]:.3f} |")
        share = 1 - per_request[APPS[1]] / per_request[APPS[0]]
        print(f"request counting: {share:.1%} of the API's instructions per request")
    finally:
        server.close()


if __name__ == "__main__":
    main()
