"""The metric catalogue: names, kinds, bounds and step sizes."""

from __future__ import annotations

import pytest

from generator_service.catalogue import CATALOGUE, NAME_PATTERN, Kind, Metric, metric_names


def test_catalogue_has_the_required_metrics() -> None:
    names = metric_names()
    assert len(names) >= 8
    assert len(set(names)) == len(names)
    for required in ("BandwidthConsumption", "CpuUsage", "SuccessfulRequests", "Latency"):
        assert required in names


def test_kinds_and_bounds() -> None:
    by_name = {metric.name: metric for metric in CATALOGUE}
    assert by_name["CpuUsage"].kind is Kind.GAUGE
    assert (by_name["CpuUsage"].low, by_name["CpuUsage"].high) == (0, 100)
    assert by_name["SuccessfulRequests"].kind is Kind.COUNTER
    assert by_name["FailedRequests"].kind is Kind.COUNTER
    for metric in CATALOGUE:
        assert NAME_PATTERN.fullmatch(metric.name)
        assert metric.unit
        assert metric.low <= metric.initial[0] <= metric.initial[1] <= metric.high
        # A spike (at least a quarter of the range) stands far out of a normal step.
        assert metric.step * 5 <= (metric.high - metric.low) / 4
        if metric.kind is Kind.COUNTER:
            assert metric.decimals == 0
            assert metric.high < 2**53


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "bad name"}, "must match"),
        ({"name": "x" * 65}, "must match"),
        ({"initial": (-1.0, 5.0)}, "initial range"),
        ({"step": 0.0}, "step"),
        ({"step": 50.0}, "step"),
        ({"kind": Kind.COUNTER, "decimals": 2}, "whole numbers"),
    ],
)
def test_metric_rejects_bad_definitions(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "name": "Ok",
        "unit": "%",
        "kind": Kind.GAUGE,
        "low": 0.0,
        "high": 100.0,
        "initial": (1.0, 2.0),
        "step": 1.0,
        "decimals": 2,
    }
    fields.update(changes)
    with pytest.raises(ValueError, match=message):
        Metric(**fields)  # type: ignore[arg-type]
