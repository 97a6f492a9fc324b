"""The generator's rows: tick time by table size, and /counters served against hello-world."""

from __future__ import annotations

from benchmarks import generator_bench
from benchmarks.suite_load import child_env, interleave, launch, row, stop, wait_ok
from benchmarks.suite_table import Row, slope
from telemetry_stack.servers.redis_server import free_port

SIZES = (1_000, 10_000, 100_000)


def tick_rows(runs: int) -> list[Row]:
    """Return the median tick time (step + render) at each size, and its growth exponent."""
    rows, ticks = [], []
    for switches in SIZES:
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
        Row("generator", "tick growth 1k-100k switches", slope(list(SIZES), ticks), "exponent")
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
