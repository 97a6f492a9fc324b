"""Request counting's cost: the API with and without it, loaded at the same time.

Measured one after the other, two servers' throughputs on this shared two-core machine swing
by about 10 % from run to run, and a server started anew lands differently on the cores: runs
of 30 to 120 interleaved rounds put counting's cost anywhere from 1 % to 7 %. Here both
servers are loaded together, by one wrk each: whatever slows the machine slows both, and the
per-round difference shrinks to about 3 %. Each round reads, besides each wrk's req/s, each
server's CPU seconds from /proc (all its processes), divided by its answers: on a server
limited by its CPU, throughput is the CPU it gets over its CPU per answer.

Servers are started anew for every block of rounds, in turns first or second; within a block
the wrk runs start in turns too. The cost per round is 1 - on/off for req/s (the throughput
lost) and 1 - off/on for CPU per answer (what counting adds, as a share of it); the figure is the
median of all rounds, with a 95 % bootstrap interval of that median (fixed seed).

``--control`` compares the API with itself instead (two identical servers): the figure then
shows the method's own bias and spread, which should straddle zero.

Usage: python -m benchmarks.counting_bench [--blocks 4] [--rounds 20] [--seconds 3] [--control]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import tempfile
import threading
from pathlib import Path

from benchmarks import api_bench
from benchmarks.suite import child_env, launch, serve_factory, stop, wait_ok
from telemetry_stack.bench import wrk as wrk_engine
from telemetry_stack.servers.redis_server import RedisServer, free_port

ROUTE = "/telemetry/GetMetric?metric=Latency&switch="
ON = ("API", "benchmarks.apps:instrumented")
OFF = ("API, counting off", "benchmarks.apps:uninstrumented")
TWIN = ("API, a second one", "benchmarks.apps:instrumented")

Figures = tuple[float, float]  # req/s, server CPU us per answer
Servers = dict[str, tuple[subprocess.Popen[bytes], str]]  # name: (process, URL)


# CPU seconds used by a process and all its descendants, read from Linux's /proc.
#
# A server's CPU time per answer changes little when other work shares the machine, unlike its
# throughput, which swings with every other process's demand for the same cores. On a server
# limited by its CPU, throughput is the CPU it gets divided by its CPU per answer, so a change of
# CPU per answer is the change of throughput it causes. Linux only: elsewhere ``supported()`` is
# False.
PROC = Path("/proc")


def supported() -> bool:
    """Return whether /proc gives per-process CPU times here."""
    return (PROC / "self" / "stat").exists()


def _stat(pid: int) -> list[str] | None:
    """Return the fields after the command name of /proc/<pid>/stat, or None if it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses


def _tree(root: int) -> list[int]:
    """Return ``root`` and every live descendant of it."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))  # field 4: ppid
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    """Return the user + system CPU seconds used so far by ``root`` and its live descendants.

    Descendants that already exited are not counted: measure across a span in which the
    process tree stays the same (a server's workers, running).
    """
    ticks = 0
    for pid in _tree(root):
        fields = _stat(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])  # fields 14 and 15: utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def descendants(root: int) -> list[int]:
    """Return the live descendants of ``root`` (a server's workers), without ``root`` itself."""
    return _tree(root)[1:]


def _start(
    servers: list[tuple[str, str]], redis_url: str, args: argparse.Namespace, scratch: Path
) -> Servers:
    """Start each server under granian; return them once all answer."""
    started: Servers = {}
    for name, factory in servers:
        metrics_dir = Path(tempfile.mkdtemp(dir=scratch))
        env = child_env({
            "TELEMETRY_REDIS_URL": redis_url,
            "TELEMETRY_KEY_PREFIX": api_bench.PREFIX,
            "TELEMETRY_API_THREADS": str(args.threads),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        })  # fmt: skip
        port = free_port()
        process = launch(serve_factory(factory, port, args.workers, env), env)
        started[name] = (process, f"http://127.0.0.1:{port}{ROUTE}")
    for process, url in started.values():
        wait_ok(url.split("/telemetry")[0] + "/readyz", process)
    return started


def _together(servers: Servers, order: list[str], args: argparse.Namespace) -> dict[str, Figures]:
    """Load every server at once, one wrk each started in ``order``; return their figures."""
    before = {name: cpu_seconds(servers[name][0].pid) for name in order}
    outputs: dict[str, str] = {}

    def load(name: str) -> None:
        outputs[name] = wrk_engine.run(
            servers[name][1], args.seconds, args.connections, script=args.script
        )

    threads = [threading.Thread(target=load, args=(name,)) for name in order]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures = {}
    for name in order:
        if name not in outputs or "Non-2xx" in outputs[name] or "Socket errors" in outputs[name]:
            raise SystemExit(f"wrk failed or saw errors on {name}: {outputs.get(name, '')}")
        rps = wrk_engine.summary(outputs[name])[0]
        cpu = cpu_seconds(servers[name][0].pid) - before[name]
        figures[name] = (rps, cpu / (rps * args.seconds) * 1e6)
    return figures


def _median_interval(values: list[float], seed: int = 7) -> tuple[float, float, float]:
    """Return the median and a 95 % bootstrap interval of it (2,000 resamples)."""
    chooser = random.Random(seed)
    medians = sorted(statistics.median(chooser.choices(values, k=len(values))) for _ in range(2000))
    return statistics.median(values), medians[49], medians[1949]


def main() -> None:
    """Start Redis, then the two servers block after block; print the rounds' summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=4, help="times the servers start anew")
    parser.add_argument("--rounds", type=int, default=20, help="rounds per block")
    parser.add_argument("--seconds", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections, each")
    parser.add_argument("--workers", type=int, default=2, help="granian workers per server")
    parser.add_argument("--threads", type=int, default=4, help="granian threads per worker")
    parser.add_argument("--control", action="store_true", help="compare the API with itself")
    args = parser.parse_args()
    if not supported():
        raise SystemExit("needs Linux's /proc for the servers' CPU times")
    pair = [ON, TWIN if args.control else OFF]
    names = [name for name, _ in pair]
    rounds: dict[str, list[Figures]] = {name: [] for name in names}
    redis_server = RedisServer().start()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="counting-bench-") as scratch:
        args.script = api_bench.random_switch_script(scratch)
        try:
            api_bench.write_snapshot_of(redis_server.url)
            for block in range(args.blocks):
                servers = _start(
                    pair if block % 2 == 0 else pair[::-1], redis_server.url, args, Path(scratch)
                )
                try:
                    _together(servers, names, args)  # warm-up, not counted
                    for number in range(args.rounds):
                        order = names if number % 2 == 0 else names[::-1]
                        for name, figures in _together(servers, order, args).items():
                            rounds[name].append(figures)
                finally:
                    stop([process for process, _ in servers.values()])
        finally:
            redis_server.close()
    on, off = rounds[names[0]], rounds[names[1]]
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, both servers granian "
        f"{args.workers} workers x {args.threads} threads, loaded together by wrk -t1 "
        f"-c{args.connections} -d{args.seconds}s each; {args.blocks} blocks x {args.rounds} "
        f"rounds; load average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after\n"
    )
    print("| server | req/s, median | server CPU us per answer, median |")
    print("| --- | ---: | ---: |")
    for name in names:
        rps, us = (statistics.median(run[i] for run in rounds[name]) for i in range(2))
        print(f"| {name} | {rps:,.0f} | {us:.1f} |")
    what = "the second API's difference" if args.control else "counting's cost"
    throughput = [1 - a[0] / b[0] for a, b in zip(on, off, strict=True)]
    cpu = [1 - b[1] / a[1] for a, b in zip(on, off, strict=True)]
    for label, values in (("of throughput", throughput), ("of CPU per answer", cpu)):
        median, low, high = _median_interval(values)
        print(
            f"\n{what}, {label}: median {median:.1%} of {len(values)} rounds, 95 % interval "
            f"{low:.1%} to {high:.1%} (rounds: {min(values):.1%} to {max(values):.1%})",
            end="",
        )
    print()


if __name__ == "__main__":
    main()
