"""The refresh's rows: parse + write against Redis's own execution of a reference write."""

from __future__ import annotations

from benchmarks import refresh_bench
from benchmarks.suite_table import Row, slope

SIZES = [1_000, 10_000, 100_000]


def refresh_rows(repeat: int) -> list[Row]:
    """Return the refresh time at each size, its ratio to Redis's own time, and its growth."""
    measured = refresh_bench.run(SIZES, repeat)
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
