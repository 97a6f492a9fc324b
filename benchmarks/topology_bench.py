"""Refresh on a 3-master Redis Cluster against the same refresh on a standalone Redis.

One run starts a standalone redis-server and a local 3-master cluster, then refreshes (parse +
write of the whole snapshot) interleaved: standalone, cluster, and again. Medians and their
ratio to standalone are printed.

``--getmetric`` instead starts a Sentinel set (a primary, a replica, three sentinels) and two
APIs as served (granian, 2 workers) reading the same primary, one through the Sentinel URL and
one through the primary's plain URL, and loads them in turn with wrk (-c32, a random switch of
1,000, interleaved rounds): the medians and the per-round ratio of Sentinel to plain.

``--tls`` starts one redis-server with a plain and a TLS port (client certificates required,
made at run time) and two APIs on it, one over each: the per-round ratio of TLS to plain.

Usage: python -m benchmarks.topology_bench [--switches 10000] [--repeat 7]
       python -m benchmarks.topology_bench --getmetric [--repeat 7] [--seconds 5]
       python -m benchmarks.topology_bench --tls [--repeat 7] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import api_bench
from benchmarks.refresh_bench import TTL, make_body
from benchmarks.suite import child_env, launch, serve_factory, stop, wait_ok, wrk
from refresher_worker.parser import parse_counters
from telemetry_common.keys import Keys
from telemetry_common.redis_client import connect
from telemetry_common.writer import write_snapshot
from telemetry_stack.servers.cluster import LocalCluster
from telemetry_stack.servers.redis_server import RedisServer, free_port
from telemetry_stack.servers.sentinel_set import SentinelSet

KEYS = Keys("{telemetry}")


def routed(client: Any, body: bytes) -> None:
    """Refresh as the refresher does: parse, then write_snapshot (to the slot's node)."""
    write_snapshot(client, KEYS, parse_counters(body), ttl=TTL)


def timed(action: Callable[[Any, bytes], None], client: Any, body: bytes) -> float:
    """Return the seconds one refresh took."""
    started = time.perf_counter()
    action(client, body)
    return time.perf_counter() - started


def run(switches: int, repeat: int) -> dict[str, list[float]]:
    """Measure the three refreshes interleaved; return every time of each."""
    server, cluster = RedisServer().start(), LocalCluster().start()
    try:
        standalone = connect(server.url, timeout=60)
        clustered = connect(cluster.url, timeout=60)
        body = make_body(switches)
        cases = {
            "standalone": (routed, standalone),
            "cluster": (routed, clustered),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(repeat):
            for name, (action, client) in cases.items():
                times[name].append(timed(action, client, body))
        return times
    finally:
        server.close()
        cluster.close()


def report(switches: int, times: dict[str, list[float]]) -> str:
    """Return the medians and their ratios to standalone as a text table."""
    reference = statistics.median(times["standalone"])
    lines = [f"refresh of {switches:,} switches x 8 metrics, {len(times['standalone'])} runs each"]
    lines.append(f"{'target':<28} {'median ms':>10} {'min-max ms':>15} {'ratio':>6}")
    for name, values in times.items():
        median = statistics.median(values)
        spread = f"{min(values) * 1e3:.0f}-{max(values) * 1e3:.0f}"
        lines.append(f"{name:<28} {median * 1e3:>10.1f} {spread:>15} {median / reference:>6.2f}")
    lines.append(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return "\n".join(lines)


def load_apis(redis_urls: dict[str, str], rounds: int, seconds: int) -> dict[str, list[float]]:
    """Serve one API (2 workers) per Redis URL, load each in turn; return req/s per round."""
    processes: list[Any] = []
    try:
        with tempfile.TemporaryDirectory(prefix="topology-bench-") as scratch:
            script = api_bench.random_switch_script(scratch)
            urls = {}
            for number, (name, url) in enumerate(redis_urls.items()):
                metrics = Path(scratch) / f"metrics{number}"
                metrics.mkdir()
                env = child_env({
                    "TELEMETRY_REDIS_URL": url, "TELEMETRY_KEY_PREFIX": api_bench.PREFIX,
                    "PROMETHEUS_MULTIPROC_DIR": str(metrics),
                })  # fmt: skip
                port = free_port()
                factory = "benchmarks.apps:instrumented"
                processes.append(launch(serve_factory(factory, port, 2, env), env))
                wait_ok(f"http://127.0.0.1:{port}/readyz", processes[-1])
                urls[name] = f"http://127.0.0.1:{port}/telemetry/GetMetric?metric=Latency&switch="
            runs: dict[str, list[float]] = {name: [] for name in urls}
            for number in range(rounds):
                for name in urls if number % 2 == 0 else reversed(urls):
                    runs[name].append(wrk(urls[name], seconds, 32, script)[0])
            stop(processes)  # before their metrics folders go
    finally:
        stop(processes)
    return runs


def compare(runs: dict[str, list[float]], rounds: int, seconds: int) -> str:
    """Return the medians and the per-round ratio of the first URL's API to the second's."""
    (first, a), (second, b) = runs.items()
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    lines = [f"GetMetric, wrk -c32, {rounds} rounds of {seconds} s interleaved"]
    lines += [f"{name:<14} {statistics.median(r):>9,.0f} req/s" for name, r in runs.items()]
    lines.append(
        f"{first} / {second}: {statistics.median(ratios):.2f}x per round "
        f"({min(ratios):.2f}-{max(ratios):.2f})"
    )
    return "\n".join(lines)


def getmetric(rounds: int, seconds: int) -> str:
    """Load GetMetric through a Sentinel URL and the primary's plain URL; return a table."""
    sentinels = SentinelSet().start()
    try:
        api_bench.write_snapshot_of(sentinels.primary.url)
        urls = {"Sentinel URL": sentinels.url(), "plain URL": sentinels.primary.url}
        return compare(load_apis(urls, rounds, seconds), rounds, seconds)
    finally:
        sentinels.close()


def tls(rounds: int, seconds: int) -> str:
    """Load GetMetric over TLS (client certificates required) and plain TCP, one server."""
    import trustme

    with tempfile.TemporaryDirectory(prefix="tls-bench-") as scratch:
        files, ca = Path(scratch), trustme.CA()
        ca.cert_pem.write_to_path(str(files / "ca.pem"))
        for name, cert in (("server", ca.issue_cert("127.0.0.1")), ("client", ca.issue_cert("c"))):
            cert.cert_chain_pems[0].write_to_path(str(files / f"{name}.crt"))
            cert.private_key_pem.write_to_path(str(files / f"{name}.key"))
        tls_port = free_port()
        settings = (
            "--tls-port", str(tls_port), "--tls-auth-clients", "yes",
            "--tls-cert-file", str(files / "server.crt"),
            "--tls-key-file", str(files / "server.key"),
            "--tls-ca-cert-file", str(files / "ca.pem"),
        )  # fmt: skip
        server = RedisServer(extra=settings).start()
        try:
            api_bench.write_snapshot_of(server.url)
            query = f"ssl_ca_certs={files}/ca.pem&ssl_certfile={files}/client.crt"
            query += f"&ssl_keyfile={files}/client.key"
            urls = {
                "TLS": f"rediss://127.0.0.1:{tls_port}/0?{query}",
                "plain TCP": server.url,
            }
            return compare(load_apis(urls, rounds, seconds), rounds, seconds)
        finally:
            server.close()


def main() -> None:
    """Parse options, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--getmetric", action="store_true", help="Sentinel URL vs plain URL")
    parser.add_argument("--tls", action="store_true", help="GetMetric over TLS vs plain TCP")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per wrk run")
    args = parser.parse_args()
    if args.getmetric or args.tls:
        print((tls if args.tls else getmetric)(args.repeat, args.seconds))
    else:
        print(report(args.switches, run(args.switches, args.repeat)))


if __name__ == "__main__":
    main()
