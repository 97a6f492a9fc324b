"""The bench's report: thresholds, figures that add up, the text, and how runs are split."""

from __future__ import annotations

import json

from telemetry_stack.bench.answers import Catalog
from telemetry_stack.bench.options import BenchSettings
from telemetry_stack.bench.plan import plans, shares
from telemetry_stack.bench.report import build, render, to_json
from telemetry_stack.bench.stats import CONNECTION, Tally
from telemetry_stack.bench.thresholds import verdicts

CATALOG = Catalog(["1", "2"], ["Latency"], discovered=True)


def tally() -> Tally:
    counted = Tally(cpu_s=0.5, wall_s=2.0)
    for millis in range(1, 101):
        counted.answered(200, millis / 1000, 3.25, 40 + millis % 3)
    counted.bad("/telemetry/ListMetrics?metrics=Latency: 1 rows, expected 2")
    counted.answered(503, 0.0005, None, None)
    counted.unanswered(CONNECTION)
    return counted


def test_thresholds_pass_within_their_limits_and_fail_beyond() -> None:
    counted = tally()  # 102 requests, 3 failed; p99 is 99 ms
    lenient = BenchSettings(max_error_rate=0.05, max_p99_ms=100.0)
    strict = BenchSettings(max_error_rate=0.01, max_p99_ms=0.001)
    assert [v.passed for v in verdicts(lenient, counted)] == [True, True]
    failed = verdicts(strict, counted)
    assert [v.passed for v in failed] == [False, False]
    assert failed[0].describe() == "error rate 2.941 % > limit 1 %"
    assert failed[1].describe() == "p99 latency 99 ms > limit 0.001 ms"
    assert verdicts(BenchSettings(), counted) == []


def test_a_threshold_fails_when_nothing_was_measured() -> None:
    (verdict,) = verdicts(BenchSettings(max_p99_ms=1e9), Tally())
    assert not verdict.passed and verdict.value is None


def test_the_report_adds_up() -> None:
    report = json.loads(to_json(build(BenchSettings(processes=2), CATALOG, tally())))
    assert report["requests"] == 102 == sum(report["statuses"].values())
    assert report["statuses"] == {"0": 1, "200": 100, "503": 1}
    assert report["errors"] == {"connection": 1, "timeout": 0, "bad_answer": 1, "status": 1}
    assert report["statuses"]["0"] == report["errors"]["connection"] + report["errors"]["timeout"]
    assert report["rps"] == 51.0
    assert report["latency_ms"]["p50"] == 50.0 and report["latency_ms"]["max"] == 100.0
    assert report["max_age_s"] == 3.25 and report["generations"] == [40, 42]
    assert report["load_generator"]["busy"] == 0.125
    assert report["passed"] is True and report["thresholds"] == []


def test_the_text_shows_every_figure_and_the_failed_threshold() -> None:
    text = render(build(BenchSettings(max_p99_ms=0.001), CATALOG, tally()))
    assert "102 in 2.00 s = 51.0 req/s" in text
    assert "p50 50.00  p90 90.00  p99 99.00  max 100.00" in text
    assert "200: 100  503: 1" in text and "no answer: 1" in text
    assert "bad answer: /telemetry/ListMetrics?metrics=Latency: 1 rows, expected 2" in text
    assert "at most 3.250 s (generations 40-42)" in text
    assert "p99 latency 99 ms > limit 0.001 ms: FAILED" in text


def test_connections_and_requests_spread_evenly_over_processes() -> None:
    assert shares(32, 3) == [11, 11, 10]
    settings = BenchSettings(
        url="https://example.test:8443/api/", concurrency=5, processes=2, requests=101
    )
    made = plans(settings, CATALOG)
    assert [p.connections for p in made] == [3, 2]
    assert sum(p.quota or 0 for p in made) == 101
    assert {(p.host, p.port, p.tls, p.base) for p in made} == {("example.test", 8443, True, "/api")}
