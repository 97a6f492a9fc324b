"""GET /telemetry/prometheus on fakeredis: names, types, values, formats, filter and errors."""

from __future__ import annotations

from typing import Any, ClassVar

import fakeredis
import pytest

from api_service.families import family_of, scaled, snake
from tests.helpers.api import METRICS, ROWS, SWITCHES, make_app, put_snapshot
from tests.helpers.exposition import expected, parse, switch_samples

OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"


class Counting(fakeredis.FakeRedisConnection):
    """A fake connection that counts the round trips it makes (one send each)."""

    transactions: ClassVar[int] = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        Counting.transactions += 1
        super().send_packed_command(command, check_health)  # type: ignore[no-untyped-call]


@pytest.fixture
def client() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(), connection_class=Counting)


def scrape(client: Any, query: str = "", accept: str = "*/*") -> Any:
    return (
        make_app(client)
        .test_client()
        .get(f"/telemetry/prometheus{query}", headers={"Accept": accept})
    )


def test_one_family_per_metric_named_by_prometheus_conventions_with_the_snapshots_values(
    client: fakeredis.FakeRedis,
) -> None:
    generation = put_snapshot(client)
    response = scrape(client)
    assert response.status_code == 200
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["X-Telemetry-Generation"] == str(generation)
    families = parse(response.get_data(as_text=True), response.content_type)
    assert set(families) == {
        "telemetry_snapshot_generation",
        "telemetry_snapshot_age_seconds",
        "telemetry_switch_cpu_usage_percent",
        "telemetry_switch_latency_seconds",
        "telemetry_switch_packet_loss_percent",
        "telemetry_switch_successful_requests",  # the parser drops a counter's _total
    }
    assert families["telemetry_switch_successful_requests"][0] == "counter"
    assert families["telemetry_switch_latency_seconds"][0] == "gauge"
    assert switch_samples(families) == expected(SWITCHES, METRICS, ROWS)
    assert families["telemetry_snapshot_generation"][1] == {
        ("telemetry_snapshot_generation", ""): generation
    }
    age = families["telemetry_snapshot_age_seconds"][1][("telemetry_snapshot_age_seconds", "")]
    assert age == float(response.headers["X-Telemetry-Age"]) >= 2.0
    body = response.get_data(as_text=True)
    assert 'telemetry_switch_cpu_usage_percent{switch="2"} 99.00\n' in body  # text as stored
    assert 'telemetry_switch_latency_seconds{switch="2"} 15.250e-3\n' in body  # 15.250 ms
    assert "# TYPE telemetry_switch_successful_requests_total counter\n" in body


def test_openmetrics_when_accept_prefers_it(client: fakeredis.FakeRedis) -> None:
    put_snapshot(client)
    response = scrape(client, accept=OPENMETRICS)
    assert response.content_type == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    body = response.get_data(as_text=True)
    assert body.endswith("# EOF\n")
    assert "# UNIT telemetry_switch_latency_seconds seconds\n" in body
    families = parse(body, response.content_type)
    assert families["telemetry_switch_successful_requests"][0] == "counter"
    assert families["telemetry_switch_cpu_usage_percent"][0] == "gauge"
    assert switch_samples(families) == expected(SWITCHES, METRICS, ROWS)


def test_the_metrics_filter_keeps_the_asked_families_and_names_an_unknown_one(
    client: fakeredis.FakeRedis,
) -> None:
    put_snapshot(client)
    response = scrape(client, "?metrics=Latency,SuccessfulRequests")
    families = parse(response.get_data(as_text=True), response.content_type)
    assert set(families) - {"telemetry_snapshot_generation", "telemetry_snapshot_age_seconds"} == {
        "telemetry_switch_latency_seconds",
        "telemetry_switch_successful_requests",
    }
    response = scrape(client, "?metrics=Latency,Nope")
    assert response.status_code == 404
    assert response.get_data(as_text=True) == (
        "404 Not Found: unknown metric 'Nope'; list the known ones at /telemetry/metrics\n"
    )
    response = scrape(client, "?metrics=Latency,,x")
    assert (
        response.status_code == 400 and "parameter 'metrics' holds an empty name" in response.text
    )


def test_no_snapshot_is_the_same_503_as_every_data_answer(client: fakeredis.FakeRedis) -> None:
    app = make_app(client).test_client()
    scraped = app.get("/telemetry/prometheus")
    listed = app.get("/telemetry/ListMetrics?metrics=Latency")
    assert scraped.status_code == listed.status_code == 503
    assert scraped.headers["Retry-After"] == "1"
    assert scraped.text == listed.text
    assert "no snapshot has been written yet" in scraped.text


def test_one_round_trip_once_the_metric_names_are_known(client: fakeredis.FakeRedis) -> None:
    put_snapshot(client)
    app = make_app(client).test_client()
    app.get("/telemetry/prometheus")  # may learn the table's metric names (a second trip)
    Counting.transactions = 0
    assert app.get("/telemetry/prometheus").status_code == 200
    assert Counting.transactions == 1
    assert app.get("/telemetry/prometheus?metrics=Latency").status_code == 200
    assert Counting.transactions == 2
    put_snapshot(client, metrics=["Latency", "Fans"], rows=[[b"1", b"2"]] * 3)
    Counting.transactions = 0
    response = app.get("/telemetry/prometheus")  # the columns changed: read again, once
    assert Counting.transactions == 2
    families = parse(response.text, response.content_type)
    assert families["telemetry_switch_fans"][0] == "unknown"
    assert "# TYPE telemetry_switch_fans untyped\n" in response.text


def test_switch_ids_are_escaped_and_odd_number_spellings_are_normalised(
    client: fakeredis.FakeRedis,
) -> None:
    put_snapshot(
        client,
        switches=['a"b', "c\\d", "e"],
        metrics=["Latency"],
        rows=[[b"1e3"], [b" 7"], [b"1_0"]],
    )
    response = scrape(client)
    samples = switch_samples(parse(response.text, response.content_type))
    name = "telemetry_switch_latency_seconds"
    assert samples == {(name, 'a"b'): 1.0, (name, "c\\d"): 0.007, (name, "e"): 0.01}
    assert f'{name}{{switch="a\\"b"}} 1\n' in response.text  # 1e3 ms, exactly


@pytest.mark.parametrize(
    ("metric", "family", "kind"),
    [
        (
            "BandwidthConsumption",
            "telemetry_switch_bandwidth_consumption_bytes_per_second",
            "gauge",
        ),
        ("Latency", "telemetry_switch_latency_seconds", "gauge"),
        ("Temperature", "telemetry_switch_temperature_celsius", "gauge"),
        ("FailedRequests", "telemetry_switch_failed_requests_total", "counter"),
        ("rx.bytes-In", "telemetry_switch_rx_bytes_in", "unknown"),
        ("HTTPErrors", "telemetry_switch_http_errors", "unknown"),
    ],
)
def test_family_names(metric: str, family: str, kind: str) -> None:
    assert family_of(metric).sample == family and family_of(metric).kind == kind
    assert snake("___") == "metric"


@pytest.mark.parametrize(
    ("text", "multiplier", "power", "result"),
    [
        (b"1997.62", 125, 3, b"249702500"),
        (b"0.01", 125, 3, b"1250"),
        (b"-2.5", 1, -3, b"-0.0025"),
        (b"1e3", 1, -3, b"1"),
        (b"7", 125, 3, b"875000"),
        (b".5", 125, -4, b"0.00625"),
        (b"12.50", 3, 0, b"37.50"),
    ],
)
def test_scaled_is_exact_decimal_arithmetic(
    text: bytes, multiplier: int, power: int, result: bytes
) -> None:
    assert scaled(text, multiplier, power) == result
