"""Rates, pinned generations, sorting and paging, checked against plain answers of the same data."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

import fakeredis
import pytest

from telemetry_common import ranking
from telemetry_common.keys import Keys
from telemetry_common.snapshot import SourceInfo, Table
from telemetry_common.writer import write_snapshot
from tests.helpers.api import make_app

KEYS = Keys()
METRICS = ["Latency", "SuccessfulRequests", "FailedRequests"]


def publish(fake: fakeredis.FakeRedis, rows: dict[str, list[str]], tick_time: float) -> int:
    """Write one generation of ``rows`` with the given source time; return its number."""
    table = Table.from_rows(list(rows), METRICS, [[v.encode() for v in r] for r in rows.values()])
    return write_snapshot(fake, KEYS, table, ttl=60, source=SourceInfo(tick_time=tick_time))


def table_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def two(fake: fakeredis.FakeRedis) -> Any:
    """Two generations 5 s apart; switch 3 resets its counter, switch 4 is new in the second."""
    now = time.time()
    publish(
        fake, {"1": ["1.5", "100", "10"], "2": ["7", "200", "0"], "3": ["2", "50", "5"]}, now - 5
    )
    second = {"1": ["2.5", "150", "10"], "2": ["7", "260", "3"], "3": ["9", "20", "5"]}
    publish(fake, {**second, "4": ["1", "8", "1"]}, now)
    return make_app(fake).test_client()


def test_a_counters_rate_is_its_increase_over_the_source_interval(two: Any) -> None:
    answer = two.get("/telemetry/GetMetric?switch=2&metric=SuccessfulRequests&rate=true")
    assert answer.status_code == 200
    assert answer.text == "switch,SuccessfulRequests\n2,12\n"  # (260 - 200) / 5
    assert answer.headers["X-Telemetry-Rate-Interval"] == "5.000"
    assert answer.headers["X-Telemetry-Generation"] == "2"
    data = two.get("/telemetry/GetMetric?switch=3&metric=SuccessfulRequests&rate=true&format=json")
    body = data.get_json()
    assert (body["value"], body["interval"], body["rate"], body["generation"]) == (4, 5.0, True, 2)
    # switch 3 went from 50 to 20: a reset, counted as Prometheus does (20 / 5 s)


def test_listing_rates_match_the_plain_answers_of_both_generations(two: Any) -> None:
    now = table_of(two.get("/telemetry/ListMetrics?metrics=SuccessfulRequests,FailedRequests").text)
    before = table_of(
        two.get(
            "/telemetry/ListMetrics?metrics=SuccessfulRequests,FailedRequests&generation=1"
        ).text
    )
    rated = two.get("/telemetry/ListMetrics?metrics=SuccessfulRequests,FailedRequests&rate=true")
    assert rated.headers["X-Telemetry-Rate-Interval"] == "5.000"
    old = {row[0]: row[1:] for row in before[1:]}
    expected = [now[0]]
    for switch, *values in now[1:]:
        if switch not in old:
            expected.append([switch, "", ""])  # no rate for a switch new in this generation
            continue
        rates = []
        for value, previous in zip(values, old[switch], strict=True):
            v, p = float(value), float(previous)
            rates.append("%.10g" % ((v if v < p else v - p) / 5.0))
        expected.append([switch, *rates])
    assert table_of(rated.text) == expected
    assert expected[1:] == [["1", "10", "0"], ["2", "12", "0.6"], ["3", "4", "0"], ["4", "", ""]]
    as_json = two.get(
        "/telemetry/ListMetrics?metrics=SuccessfulRequests&rate=true&format=json"
    ).get_json()
    assert as_json["interval"] == 5.0 and as_json["switches"][3] == {
        "switch": "4",
        "values": {"SuccessfulRequests": None},
    }


def test_a_gauge_has_no_rate_and_a_first_generation_waits_for_a_second(
    fake: fakeredis.FakeRedis,
) -> None:
    publish(fake, {"1": ["1.5", "100", "10"]}, time.time())
    client = make_app(fake).test_client()
    gauge = client.get("/telemetry/GetMetric?switch=1&metric=Latency&rate=true")
    assert gauge.status_code == 400
    assert gauge.text == (
        "400 Bad Request: rate=true applies to counters only: 'Latency' is a gauge "
        "(counters: SuccessfulRequests, FailedRequests)\n"
    )
    listed = client.get("/telemetry/ListMetrics?metrics=FailedRequests,Latency&rate=true")
    assert listed.status_code == 400 and "'Latency' is a gauge" in listed.text
    first = client.get("/telemetry/GetMetric?switch=1&metric=FailedRequests&rate=true")
    assert first.status_code == 503 and first.headers["Retry-After"] == "1"
    assert "no rate yet: generation 1 has no previous generation held" in first.text
    bad = client.get("/telemetry/GetMetric?switch=1&metric=FailedRequests&rate=yes")
    assert (
        bad.status_code == 400 and "parameter 'rate' is 'yes': expected true or false" in bad.text
    )


def test_a_pinned_generation_answers_as_it_did_and_is_gone_with_a_410(
    fake: fakeredis.FakeRedis,
) -> None:
    publish(fake, {"1": ["1.5", "100", "10"], "2": ["7", "200", "0"]}, time.time() - 5)
    client = make_app(fake).test_client()
    path = "/telemetry/ListMetrics?metrics=Latency,FailedRequests"
    then = client.get(path)
    publish(fake, {"1": ["2.5", "150", "10"]}, time.time())
    pinned = client.get(path + "&generation=1")
    assert pinned.status_code == 200 and pinned.data == then.data
    assert pinned.headers["ETag"] == then.headers["ETag"]
    assert pinned.headers["X-Telemetry-Generation"] == "1"
    assert client.get(path).text == "switch,Latency,FailedRequests\n1,2.5,10\n"
    for key in fake.keys(KEYS.at(1).base + ":*"):
        fake.delete(key)
    gone = client.get(path + "&generation=1")
    assert gone.status_code == 410
    assert gone.text == (
        "410 Gone: generation 1 is no longer held (held now: 2); pin a held generation, "
        "or leave out 'generation' for the current snapshot\n"
    )
    metric = client.get("/telemetry/GetMetric?switch=1&metric=Latency&generation=1")
    assert metric.status_code == 410
    for bad in ("0", "-1", "x", "1.5"):
        answer = client.get(path + f"&generation={bad}")
        assert answer.status_code == 400, bad
        assert "parameter 'generation' is" in answer.text


def rows_of(switches: int) -> dict[str, list[str]]:
    """Return rows whose Latency has ties, so that the order of ties shows."""
    return {str(n): [str((n * 7) % 13), str(n), "0"] for n in range(1, switches + 1)}


@pytest.mark.parametrize("switches", [40, ranking.WINDOW + 200])  # within and past the window
def test_sorted_pages_put_together_equal_the_whole_listing_in_order(
    fake: fakeredis.FakeRedis, switches: int
) -> None:
    publish(fake, rows_of(switches), time.time())
    client = make_app(fake).test_client()
    whole = table_of(client.get("/telemetry/ListMetrics?metrics=Latency,SuccessfulRequests").text)
    for sort, descending in (("-Latency", True), ("Latency", False)):
        expected = sorted(
            whole[1:], key=lambda row: -float(row[1]) if descending else float(row[1])
        )
        # sorted() is stable: ties keep the switch order, as the API promises
        walked: list[list[str]] = []
        path = f"/telemetry/ListMetrics?metrics=Latency,SuccessfulRequests&sort={sort}&limit=300"
        while path:
            page = client.get(path)
            assert page.status_code == 200 and page.headers["X-Total-Count"] == str(switches)
            walked += table_of(page.text)[1:]
            link = page.headers.get("Link")
            path = link[1 : link.index(">")] if link else ""
            if link:
                assert "generation=1" in link and link.endswith('>; rel="next"')
        assert walked == expected
        unpaged = client.get(
            f"/telemetry/ListMetrics?metrics=Latency,SuccessfulRequests&sort={sort}"
        )
        assert table_of(unpaged.text)[1:] == expected and "Link" not in unpaged.headers
        top = client.get(f"/telemetry/ListMetrics?metrics=SuccessfulRequests&sort={sort}&limit=5")
        assert table_of(top.text)[1:] == [[row[0], row[2]] for row in expected[:5]]


def test_plain_paging_and_bad_values(fake: fakeredis.FakeRedis) -> None:
    publish(fake, rows_of(25), time.time())
    client = make_app(fake).test_client()
    whole = table_of(client.get("/telemetry/ListMetrics?metrics=Latency").text)
    page = client.get("/telemetry/ListMetrics?metrics=Latency&offset=20&limit=10")
    assert table_of(page.text)[1:] == whole[21:] and "Link" not in page.headers
    first = client.get("/telemetry/ListMetrics?metrics=Latency&limit=10")
    assert first.headers["Link"] == (
        '</telemetry/ListMetrics?metrics=Latency&limit=10&offset=10&generation=1>; rel="next"'
    )
    for query, message in (
        ("limit=0", "parameter 'limit' is '0': expected a whole number from 1 to 1000000"),
        ("offset=-2", "parameter 'offset' is '-2': expected a whole number from 0 to 1000000"),
        ("sort=Lat%20ency", "parameter 'sort' is 'Lat ency': expected a metric name"),
        ("limit=1&limit=2", "parameter 'limit' is given 2 times: give it once"),
    ):
        answer = client.get(f"/telemetry/ListMetrics?metrics=Latency&{query}")
        assert answer.status_code == 400 and message in answer.text, query
    unknown = client.get("/telemetry/ListMetrics?metrics=Latency&sort=-Nope&limit=3")
    assert unknown.status_code == 404 and "unknown metric 'Nope'" in unknown.text


def test_rates_sorted_and_paged(two: Any) -> None:
    path = "/telemetry/ListMetrics?metrics=SuccessfulRequests&rate=true&sort=-SuccessfulRequests"
    answer = two.get(path + "&limit=2&format=json")
    body = json.loads(answer.data)
    assert [row["switch"] for row in body["switches"]] == ["2", "1"]
    assert answer.headers["X-Total-Count"] == "4"
    rest = table_of(two.get(path + "&offset=2").text)
    assert rest[1:] == [["3", "4"], ["4", ""]]  # the switch without a rate comes last
