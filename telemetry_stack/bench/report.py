"""The bench's report: figures from the merged tally, threshold verdicts, text and JSON forms."""

from __future__ import annotations

import json
from typing import Any

from telemetry_stack.bench.answers import Catalog
from telemetry_stack.bench.options import BenchSettings
from telemetry_stack.bench.stats import ERROR_KINDS, Tally, error_rate, latency_ms
from telemetry_stack.bench.thresholds import Latency, verdicts

BUSY_WARNING = 0.8  # share of its processes' time the load generator may be busy unremarked


def build(
    settings: BenchSettings, catalog: Catalog, tally: Tally, wrk_latency: Latency | None = None
) -> dict[str, Any]:
    """Return the whole report as one JSON-ready object (``wrk_latency``: from the wrk engine)."""
    requests, wall = tally.requests, tally.wall_s
    busy = tally.cpu_s / (wall * settings.processes) if wall > 0 and tally.cpu_s else None
    cpu_per_request = tally.cpu_s / requests if requests and tally.cpu_s else None
    latency = wrk_latency or latency_ms(tally.latency_us)
    checks = verdicts(settings, tally, latency)
    return {
        "engine": "python" if wrk_latency is None else "wrk",
        "answers_checked": wrk_latency is None,
        "url": settings.url,
        "concurrency": settings.concurrency,
        "processes": settings.processes,
        "warmup_s": settings.warmup,
        "duration_s": round(wall, 3),
        "mix": dict(settings.mix),
        "list_size": settings.list_size,
        "catalog": {
            "switches": len(catalog.switches),
            "metrics": len(catalog.metrics),
            "discovered": catalog.discovered,
        },
        "requests": requests,
        "rps": round(requests / wall, 1) if wall > 0 else 0.0,
        "latency_ms": latency,
        "statuses": {str(code): n for code, n in sorted(tally.statuses.items())},
        "errors": {kind: tally.errors.get(kind, 0) for kind in ERROR_KINDS},
        "error_rate": error_rate(tally),
        "max_age_s": tally.max_age,
        "generations": list(tally.generations) if tally.generations else None,
        "bad_answer_samples": tally.bad_samples,
        "load_generator": {
            "cpu_s": round(tally.cpu_s, 3),
            "busy": None if busy is None else round(busy, 3),
            "cpu_us_per_request": None if cpu_per_request is None else cpu_per_request * 1e6,
        },
        "thresholds": [
            {
                "name": v.name,
                "value": v.value,
                "limit": v.limit,
                "passed": v.passed,
                "verdict": v.describe(),
            }
            for v in checks
        ],
        "passed": all(v.passed for v in checks),
    }


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render(report: dict[str, Any]) -> str:
    """Return the report as text for a terminal."""
    lat, errors, gen = report["latency_ms"], report["errors"], report["load_generator"]
    statuses = "  ".join(
        f"{'no answer' if code == '0' else code}: {n:,}" for code, n in report["statuses"].items()
    )
    kinds = ", ".join(f"{kind.replace('_', ' ')} {n:,}" for kind, n in errors.items())
    cat = report["catalog"]
    source = "discovered" if cat["discovered"] else "given or placeholders"
    mix = " ".join(f"{kind}={weight:g}" for kind, weight in report["mix"].items())
    workers = (
        "process(es)" if report["engine"] == "python" else "wrk thread(s), answers not checked"
    )
    lines = [
        f"telemetry bench {report['url']}: {report['concurrency']} connections over "
        f"{report['processes']} {workers}, {report['warmup_s']:g} s warm-up",
        f"mix {mix}, {report['list_size']} metric(s) per ListMetrics; "
        f"{_count(cat['switches'], 'switch', 'switches')} and "
        f"{_count(cat['metrics'], 'metric', 'metrics')} ({source})",
        "",
        f"  requests     {report['requests']:,} in {report['duration_s']:.2f} s = "
        f"{report['rps']:,.1f} req/s",
        "  latency ms   " + "  ".join(f"{k} {_ms(v)}" for k, v in lat.items()),
        f"  statuses     {statuses or 'none'}",
        f"  errors       {sum(errors.values()):,} ({kinds}), error rate {report['error_rate']:.2%}",
    ]
    for sample in report["bad_answer_samples"]:
        lines.append(f"    bad answer: {sample}")
    if report["max_age_s"] is not None:
        span = report["generations"]
        seen = f" (generations {span[0]}-{span[1]})" if span else ""
        lines.append(f"  data age     at most {report['max_age_s']:.3f} s{seen}")
    if gen["cpu_us_per_request"]:
        lines.append(
            f"  load gen.    {gen['busy']:.0%} busy, {gen['cpu_us_per_request']:.0f} us CPU per "
            f"request (at that cost one core sends {1e6 / gen['cpu_us_per_request']:,.0f} req/s)"
        )
        if gen["busy"] is not None and gen["busy"] > BUSY_WARNING:
            lines.append(
                "  warning      the load generator was nearly saturated: the figures may be its "
                "limit, not the server's (add --processes, or use wrk)"
            )
    if report["thresholds"]:
        lines += ["", "thresholds"]
        for item in report["thresholds"]:
            lines.append(f"  {item['verdict']}: {'passed' if item['passed'] else 'FAILED'}")
    return "\n".join(lines)


def to_json(report: dict[str, Any]) -> str:
    """Return the report as one line of JSON."""
    return json.dumps(report, separators=(",", ":"))
