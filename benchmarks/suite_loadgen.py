"""The load generator's rows: ``telemetry bench``'s own ceiling, and it beside wrk on the API."""

from __future__ import annotations

import shutil
import statistics
from typing import Any

from benchmarks.suite_load import telemetry_bench, wrk
from benchmarks.suite_table import Row, ratios

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
