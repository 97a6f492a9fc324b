"""The suite's one table: rows of figures and ratios, and the growth exponent of a cost."""

from __future__ import annotations

import math
import os
import platform
import statistics
from dataclasses import dataclass


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
