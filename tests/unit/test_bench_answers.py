"""Answer checking: good and bad CSV bodies for GetMetric and ListMetrics; drawn requests."""

from __future__ import annotations

from collections import Counter

import pytest

from telemetry_stack.bench.answers import (
    GET_METRIC,
    LIST_METRICS,
    Asked,
    Catalog,
    Requests,
)
from telemetry_stack.bench.checks import check

CATALOG = Catalog(["1", "2", "3"], ["Latency", "CpuUsage", "PacketLoss"], discovered=True)


def get(switch: str = "2", metric: str = "Latency") -> Asked:
    header = b"switch," + metric.encode()
    target = f"/telemetry/GetMetric?switch={switch}&metric={metric}".encode()
    return Asked(GET_METRIC, target, header, 1, switch.encode())


def listing(*names: str) -> Asked:
    joined = ",".join(names).encode()
    target = b"/telemetry/ListMetrics?metrics=" + joined
    return Asked(LIST_METRICS, target, b"switch," + joined, len(names))


def test_a_right_get_metric_answer_passes() -> None:
    assert check(get(), b"switch,Latency\n2,18.705\n", CATALOG) is None
    assert check(get(), b"switch,Latency\n2,1200\n", CATALOG) is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"switch,CpuUsage\n2,18.7\n", "header"),
        (b"switch,Latency\n3,18.7\n", "switch"),
        (b"switch,Latency\n2,fast\n", "not a number"),
        (b"switch,Latency\n2,\n", "not a number"),
        (b"switch,Latency\n2,1\n3,2\n", "2 rows"),
        (b"switch,Latency\n", "0 rows"),
        (b"switch,Latency\n2,18.7", "line break"),
        (b"", "line break"),
    ],
)
def test_a_wrong_get_metric_answer_says_what_is_wrong(body: bytes, words: str) -> None:
    reason = check(get(), body, CATALOG)
    assert reason is not None and words in reason


def test_a_right_list_metrics_answer_passes() -> None:
    body = b"switch,PacketLoss,Latency\n1,0.1,3.5\n2,0.2,4\n3,0,1e-3\n"
    assert check(listing("PacketLoss", "Latency"), body, CATALOG) is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"switch,Latency,PacketLoss\n1,3.5,0.1\n2,4,0.2\n3,1,0\n", "header"),  # order swapped
        (b"switch,PacketLoss\n1,0.1\n2,0.2\n3,0\n", "header"),  # a column missing
        (b"switch,PacketLoss,Latency\n1,0.1,3.5\n2,0.2,4\n", "2 rows, expected 3"),
        (b"switch,PacketLoss,Latency\n1,0.1,3.5\n3,0.2,4\n2,0,1\n", "is switch"),
        (b"switch,PacketLoss,Latency\n1,0.1,3.5\n2,0.2,4,9\n3,0,1\n", "2 value"),
        (b"switch,PacketLoss,Latency\n1,0.1,3.5\n2,0.2\n3,0,1\n", "2 value"),
        (b"switch,PacketLoss,Latency\n1,0.1,3.5\n2,,4\n3,0,1,\n", "2 value"),
        (b"switch,PacketLoss,Latency\n1,0.1,3.5\n2,0.2,x\n3,0,1\n", "not a number"),
    ],
)
def test_a_wrong_list_metrics_answer_says_what_is_wrong(body: bytes, words: str) -> None:
    reason = check(listing("PacketLoss", "Latency"), body, CATALOG)
    assert reason is not None and words in reason


def test_ids_that_are_not_numbers_still_leave_values_checked() -> None:
    named = Catalog(["sw-a", "sw-b"], ["Latency"], discovered=True)
    assert check(listing("Latency"), b"switch,Latency\nsw-a,1\nsw-b,2\n", named) is None
    reason = check(listing("Latency"), b"switch,Latency\nsw-a,x\nsw-b,2\n", named)
    assert reason is not None and "not a number" in reason
    reason = check(listing("Latency"), b"switch,Latency\nsw-b,1\nsw-a,2\n", named)
    assert reason is not None and "row 1 is switch" in reason


def test_ids_that_need_quotes_are_checked_row_by_row() -> None:
    quoted = Catalog(["a,1", "b"], ["Latency", "CpuUsage"], discovered=True)
    good = b'switch,Latency,CpuUsage\n"a,1",1,2\nb,3,4\n'
    assert check(listing("Latency", "CpuUsage"), good, quoted) is None
    for bad, words in (
        (b'switch,Latency,CpuUsage\n"a,1",1\nb,3,4\n', "2 value"),
        (b'switch,Latency,CpuUsage\nb,3,4\n"a,1",1,2\n', "row 1 is switch"),
        (b'switch,Latency,CpuUsage\n"a,1",1,2\nb,3,?\n', "row 2 is not"),
    ):
        reason = check(listing("Latency", "CpuUsage"), bad, quoted)
        assert reason is not None and words in reason, (bad, reason)


def test_rows_are_not_counted_when_the_switches_were_not_discovered() -> None:
    given = Catalog(["1"], ["Latency"], discovered=False)
    body = b"switch,Latency\n7,1\n8,2\n"
    assert check(listing("Latency"), body, given) is None
    assert check(listing("Latency"), b"switch,Latency\n7,1,2\n8,2\n", given) is not None


def test_switch_ids_are_quoted_in_urls_and_in_csv_as_the_api_writes_them() -> None:
    catalog = Catalog(['a "b", c'], ["Latency"], discovered=True)
    asked = Requests(catalog, {GET_METRIC: 1.0}, 3, seed=1).draw()
    assert asked.target == b"/telemetry/GetMetric?switch=a%20%22b%22%2C%20c&metric=Latency"
    assert check(asked, b'switch,Latency\n"a ""b"", c",1\n', catalog) is None
    assert check(listing("Latency"), b'switch,Latency\n"a ""b"", c",1\n', catalog) is None


def test_draws_follow_the_weights_and_ask_distinct_metrics() -> None:
    requests = Requests(CATALOG, {GET_METRIC: 3.0, LIST_METRICS: 1.0}, 2, seed=7)
    drawn = [requests.draw() for _ in range(4000)]
    kinds = Counter(asked.kind for asked in drawn)
    assert 2800 < kinds[GET_METRIC] < 3200
    for asked in drawn:
        if asked.kind == LIST_METRICS:
            names = asked.header.split(b",")[1:]
            assert len(names) == len(set(names)) == 2 == asked.columns
    only_get = Requests(CATALOG, {GET_METRIC: 1.0, LIST_METRICS: 0.0}, 2, seed=1)
    assert {only_get.draw().kind for _ in range(100)} == {GET_METRIC}


def test_list_size_is_capped_by_the_metrics_there_are() -> None:
    asked = Requests(CATALOG, {LIST_METRICS: 1.0}, 10, seed=1).draw()
    assert asked.columns == 3


def test_an_empty_catalog_is_refused() -> None:
    with pytest.raises(ValueError):
        Catalog([], ["Latency"], discovered=True)
