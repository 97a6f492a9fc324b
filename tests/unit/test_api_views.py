"""Data endpoints of the API against a snapshot written by the real writer into fakeredis."""

from __future__ import annotations

import json
import re

import fakeredis
import pytest
from flask.testing import FlaskClient

from tests.helpers.api import AGE, METRICS, SWITCHES, make_app, put_snapshot

JSON = {"Accept": "application/json"}


@pytest.fixture
def client(fake: fakeredis.FakeRedis) -> FlaskClient:
    return make_app(fake).test_client()


@pytest.fixture
def generation(fake: fakeredis.FakeRedis) -> int:
    return put_snapshot(fake)


def assert_data_headers(response, generation: int, fmt: str) -> None:  # type: ignore[no-untyped-def]
    assert response.headers["X-Telemetry-Generation"] == str(generation)
    assert AGE <= float(response.headers["X-Telemetry-Age"]) < AGE + 5
    snapshot = response.headers["X-Telemetry-Snapshot"]
    assert re.fullmatch(r"[0-9a-f]{16}", snapshot)
    assert response.headers["ETag"].startswith(f'"{snapshot}-{fmt}-')
    assert response.headers["ETag"].endswith('"')
    max_age = int(response.headers["Cache-Control"].removeprefix("max-age="))
    assert 0 <= max_age <= 10
    assert response.headers["Vary"] == "Accept, Accept-Encoding"


def test_get_metric_answers_csv_by_default(client: FlaskClient, generation: int) -> None:
    response = client.get("/telemetry/GetMetric?switch=2&metric=Latency")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.data == b"switch,Latency\n2,15.250\n"
    assert_data_headers(response, generation, "csv")


@pytest.mark.parametrize(
    ("url", "headers"), [("?format=json", {}), ("", JSON), ("?format=JSON", {})]
)
def test_get_metric_answers_json_when_asked(
    client: FlaskClient, generation: int, url: str, headers: dict[str, str]
) -> None:
    sep = "&" if url else "?"
    response = client.get(
        f"/telemetry/GetMetric{url}{sep}switch=sw-3&metric=SuccessfulRequests", headers=headers
    )
    assert response.status_code == 200
    assert response.content_type == "application/json"
    body = response.get_json()
    assert AGE <= body.pop("age") < AGE + 5
    assert body == {
        "generation": generation,
        "switch": "sw-3",
        "metric": "SuccessfulRequests",
        "value": 123456789012,
    }
    assert_data_headers(response, generation, "json")


def test_list_metrics_keeps_the_asked_order_and_counts_a_repeat_once(
    client: FlaskClient, generation: int
) -> None:
    response = client.get("/telemetry/ListMetrics?metrics=Latency,CpuUsage,Latency")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert (
        response.data
        == b"switch,Latency,CpuUsage\n1,0.812,12.50\n2,15.250,99.00\nsw-3,3.000,0.75\n"
    )
    assert_data_headers(response, generation, "csv")


def test_list_metrics_in_json_has_numbers_ids_generation_and_age(
    client: FlaskClient, generation: int
) -> None:
    response = client.get(
        "/telemetry/ListMetrics?metrics=PacketLoss,SuccessfulRequests", headers=JSON
    )
    body = json.loads(response.data)
    assert AGE <= body.pop("age") < AGE + 5
    assert body == {
        "generation": generation,
        "metrics": ["PacketLoss", "SuccessfulRequests"],
        "switches": [
            {"switch": "1", "values": {"PacketLoss": 0.0, "SuccessfulRequests": 1200}},
            {"switch": "2", "values": {"PacketLoss": 0.125, "SuccessfulRequests": 7}},
            {"switch": "sw-3", "values": {"PacketLoss": 1.5, "SuccessfulRequests": 123456789012}},
        ],
    }
    assert_data_headers(response, generation, "json")


def test_all_metrics_of_every_switch(client: FlaskClient, generation: int) -> None:
    response = client.get("/telemetry/ListMetrics?metrics=" + ",".join(METRICS))
    lines = response.data.decode().splitlines()
    assert lines[0] == "switch," + ",".join(METRICS)
    assert [line.split(",")[0] for line in lines[1:]] == SWITCHES


def test_discovery_lists_switches_and_metrics(client: FlaskClient, generation: int) -> None:
    switches = client.get("/telemetry/switches")
    assert switches.data == b"switch\n1\n2\nsw-3\n"
    assert_data_headers(switches, generation, "csv")
    metrics = client.get("/telemetry/metrics")
    assert metrics.data == ("metric\n" + "\n".join(METRICS) + "\n").encode()
    body = client.get("/telemetry/switches", headers=JSON).get_json()
    assert (body["generation"], body["switches"]) == (generation, SWITCHES)
    body = client.get("/telemetry/metrics?format=json").get_json()
    assert (body["generation"], body["metrics"]) == (generation, METRICS)


def test_switch_ids_that_need_quotes_are_quoted_in_csv(fake: fakeredis.FakeRedis) -> None:
    put_snapshot(fake, switches=["a,b", 'say "hi"', "3"])
    client = make_app(fake).test_client()
    answer = client.get("/telemetry/ListMetrics?metrics=CpuUsage")
    assert answer.data == b'switch,CpuUsage\n"a,b",12.50\n"say ""hi""",99.00\n3,0.75\n'
    one = client.get("/telemetry/GetMetric", query_string={"switch": "a,b", "metric": "CpuUsage"})
    assert one.data == b'switch,CpuUsage\n"a,b",12.50\n'


def test_if_none_match_answers_304_without_a_body(client: FlaskClient, generation: int) -> None:
    url = "/telemetry/GetMetric?switch=1&metric=CpuUsage"
    etag = client.get(url).headers["ETag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(url, headers={"If-None-Match": sent})
        assert response.status_code == 304
        assert response.data == b""
        assert response.headers["ETag"] == etag
        assert_data_headers(response, generation, "csv")
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_etag_depends_on_generation_request_and_format(
    fake: fakeredis.FakeRedis, client: FlaskClient, generation: int
) -> None:
    def tag(url: str, **kwargs: dict[str, str]) -> str:
        return str(client.get(url, **kwargs).headers["ETag"])

    one = "/telemetry/GetMetric?switch=1&metric=CpuUsage"
    first = tag(one)
    assert tag(one) == first
    assert tag(one, headers=JSON) != first
    assert tag("/telemetry/GetMetric?switch=2&metric=CpuUsage") != first
    assert tag("/telemetry/ListMetrics?metrics=CpuUsage") != tag(
        "/telemetry/ListMetrics?metrics=Latency"
    )
    put_snapshot(fake)
    assert tag(one) != first
    assert client.get(one, headers={"If-None-Match": first}).status_code == 200


def test_each_request_reads_the_current_snapshot(
    fake: fakeredis.FakeRedis, client: FlaskClient
) -> None:
    put_snapshot(fake)
    assert client.get("/telemetry/GetMetric?switch=1&metric=CpuUsage").data.endswith(b",12.50\n")
    rows = [[b"1.00", b"2", b"3", b"4"]] * 3
    generation = put_snapshot(fake, rows=rows)
    answer = client.get("/telemetry/GetMetric?switch=1&metric=CpuUsage")
    assert answer.data.endswith(b",1.00\n")
    assert answer.headers["X-Telemetry-Generation"] == str(generation)


def test_head_answers_headers_only(client: FlaskClient, generation: int) -> None:
    response = client.head("/telemetry/ListMetrics?metrics=Latency")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["X-Telemetry-Generation"] == str(generation)


def test_healthz_and_readyz(client: FlaskClient, generation: int) -> None:
    assert client.get("/healthz").data == b"ok\n"
    assert client.get("/healthz", headers=JSON).get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.data.startswith(f"ready: generation {generation}, age ".encode())
    body = client.get("/readyz?format=json").get_json()
    assert (body["status"], body["generation"]) == ("ready", generation)
    assert 0 < body["expires_in"] <= 10


def test_forwarded_headers_count_only_behind_a_configured_proxy(
    fake: fakeredis.FakeRedis, generation: int
) -> None:
    url, forwarded = "/telemetry/GetMetric?switch=99&metric=Latency", {"X-Forwarded-Prefix": "/api"}
    trusting = make_app(fake, proxy_hops=1).test_client().get(url, headers=forwarded)
    assert trusting.status_code == 404
    assert "/api/telemetry/switches" in trusting.data.decode()
    direct = make_app(fake).test_client().get(url, headers=forwarded)  # 0 hops by default
    assert direct.status_code == 404 and "/api/" not in direct.data.decode()
    assert "/telemetry/switches" in direct.data.decode()
