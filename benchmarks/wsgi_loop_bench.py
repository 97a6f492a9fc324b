"""GetMetric per request in one process: each app called through WSGI, no server, no network.

On a private Redis holding 1,000 switches x 8 metrics, the plain app (benchmarks/plain_app.py),
the API as served and the API without its request counting (benchmarks/api_variants.py) each
answer ``--calls`` GetMetric requests for random switches per round, rounds interleaved; a
lone redis-py HGET loop is the Redis floor. Figures are microseconds per request: the median
over rounds, and the best round, which a busy machine disturbs least.

Usage: python -m benchmarks.wsgi_loop_bench [--calls 4000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import redis

from benchmarks import api_bench
from telemetry_common.keys import Keys
from telemetry_stack.servers.redis_server import RedisServer


def environ_for(switch: int) -> dict[str, Any]:
    """Return the WSGI environ of a GetMetric request for ``switch``'s Latency."""
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/telemetry/GetMetric",
        "QUERY_STRING": f"metric=Latency&switch={switch}",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "wsgi.errors": sys.stderr,
    }


def _per_call(app: Callable[..., Any], calls: int) -> float:
    """Return microseconds per GetMetric answered by ``app``, body consumed and closed."""
    environs = [environ_for(random.randint(1, api_bench.SWITCHES)) for _ in range(calls)]
    started = time.perf_counter()
    for environ in environs:
        body = app(environ, lambda *_args: None)
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    """Start Redis, build the apps, run the rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4000, help="requests per app per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds, interleaved")
    args = parser.parse_args()
    server = RedisServer().start()
    try:
        api_bench.write_snapshot_of(server.url)
        os.environ.update(TELEMETRY_REDIS_URL=server.url, TELEMETRY_KEY_PREFIX=api_bench.PREFIX)
        from benchmarks.api_variants import instrumented, uninstrumented
        from benchmarks.plain_app import plain_app

        client, keys = redis.Redis.from_url(server.url), Keys(api_bench.PREFIX)
        at = keys.at(client.get(keys.current).decode())  # type: ignore[union-attr]

        def hget(_environ: dict[str, Any], _start: Any) -> list[bytes]:
            value = client.hget(at.switch(str(random.randint(1, 1000))), "Latency")
            return [value if isinstance(value, bytes) else b""]

        apps: dict[str, Callable[..., Any]] = {
            "plain app, one HGET": plain_app(),
            "API": instrumented(),
            "API, counting off": uninstrumented(),
            "redis-py HGET alone": hget,
        }
        times: dict[str, list[float]] = {name: [] for name in apps}
        for number in range(args.rounds):
            for name in apps if number % 2 == 0 else reversed(apps):
                times[name].append(_per_call(apps[name], args.calls))
        print(f"load average {os.getloadavg()[0]:.1f}; {args.rounds} rounds x {args.calls} calls")
        print("| app | us per request, median | best round |\n| --- | ---: | ---: |")
        for name, runs in times.items():
            print(f"| {name} | {statistics.median(runs):.1f} | {min(runs):.1f} |")
    finally:
        server.close()


if __name__ == "__main__":
    main()
