"""Every error answer of the API: status, exact message, format, and speed when Redis is down."""

from __future__ import annotations

import logging
import time

import fakeredis
import pytest
import redis
from flask.testing import FlaskClient

from api_service.params import MAX_METRICS
from api_service.state import EXTENSION
from telemetry_common.keys import Keys
from telemetry_common.redis_client import connect
from telemetry_stack.servers.redis_server import free_port
from tests.helpers import wait_for
from tests.helpers.api import make_app, put_snapshot

SWITCH_RULE = "expected a switch id: 1 to 128 characters, no control characters"
METRIC_RULE = "expected a metric name: 1 to 64 characters among A-Z a-z 0-9 _ . -"
METRICS_RULE = (
    "expected metric names separated by commas, each 1 to 64 characters among A-Z a-z 0-9 _ . -"
)


@pytest.fixture
def client(fake: fakeredis.FakeRedis) -> FlaskClient:
    put_snapshot(fake)
    return make_app(fake).test_client()


def plain(status: int, title: str, detail: str) -> bytes:
    return f"{status} {title}: {detail}\n".encode()


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("metric=Latency", f"missing parameter 'switch': {SWITCH_RULE}"),
        ("switch=&metric=Latency", f"parameter 'switch' is empty: {SWITCH_RULE}"),
        ("switch=1&switch=2&metric=Latency", "parameter 'switch' is given 2 times: give it once"),
        (
            f"switch={'x' * 129}&metric=Latency",
            f"parameter 'switch' is too long (129 characters): {SWITCH_RULE}",
        ),
        (
            "switch=a%00b&metric=Latency",
            f"parameter 'switch' holds a control character: {SWITCH_RULE}",
        ),
        (
            "switch=a%C2%85&metric=Latency",
            f"parameter 'switch' holds a control character: {SWITCH_RULE}",
        ),
        ("switch=1", f"missing parameter 'metric': {METRIC_RULE}"),
        ("switch=1&metric=", f"parameter 'metric' is empty: {METRIC_RULE}"),
        ("switch=1&metric=x:y", f"parameter 'metric' is malformed ('x:y'): {METRIC_RULE}"),
        ("switch=1&metric=Latency&format=xml", "parameter 'format' must be 'csv' or 'json'"),
    ],
)
def test_get_metric_refuses_bad_parameters(client: FlaskClient, query: str, detail: str) -> None:
    response = client.get(f"/telemetry/GetMetric?{query}")
    assert response.status_code == 400
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.data == plain(400, "Bad Request", detail)


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("", f"missing parameter 'metrics': {METRICS_RULE}"),
        ("metrics=", f"parameter 'metrics' is empty: {METRICS_RULE}"),
        ("metrics=Latency,,CpuUsage", f"parameter 'metrics' holds an empty name: {METRICS_RULE}"),
        ("metrics=Latency,", f"parameter 'metrics' holds an empty name: {METRICS_RULE}"),
        (
            "metrics=Latency,Cpu%20Usage",
            f"parameter 'metrics' holds a malformed name ('Cpu Usage'): {METRICS_RULE}",
        ),
        (
            f"metrics={'m' * 65}",
            f"parameter 'metrics' holds a malformed name ('{'m' * 40}'...): {METRICS_RULE}",
        ),
        (
            "metrics=" + ",".join(f"m{i}" for i in range(MAX_METRICS + 1)),
            f"parameter 'metrics' asks for {MAX_METRICS + 1} metrics: "
            f"at most {MAX_METRICS} per request",
        ),
        (
            "metrics=CpuUsage,Latency,PacketLoss,SuccessfulRequests,Other",
            "parameter 'metrics' asks for 5 metrics but the snapshot has only 4; "
            "list them at /telemetry/metrics",
        ),
    ],
)
def test_list_metrics_refuses_bad_parameters(client: FlaskClient, query: str, detail: str) -> None:
    response = client.get(f"/telemetry/ListMetrics?{query}")
    assert response.status_code == 400
    assert response.data == plain(400, "Bad Request", detail)


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        (
            "/telemetry/GetMetric?switch=99&metric=Latency",
            "unknown switch '99'; list the known ones at /telemetry/switches",
        ),
        (
            "/telemetry/GetMetric?switch=1&metric=Nope",
            "unknown metric 'Nope'; list the known ones at /telemetry/metrics",
        ),
        (
            "/telemetry/GetMetric?switch=99&metric=Nope",
            "unknown switch '99' and unknown metric 'Nope'; "
            "list the known ones at /telemetry/switches and /telemetry/metrics",
        ),
        (
            "/telemetry/ListMetrics?metrics=Nope,Latency,Gone",
            "unknown metrics 'Nope', 'Gone'; list the known ones at /telemetry/metrics",
        ),
        (
            "/telemetry/ListMetrics?metrics=Nope,Nope",
            "unknown metric 'Nope'; list the known ones at /telemetry/metrics",
        ),
    ],
)
def test_unknown_names_are_404_naming_each_and_where_to_look(
    client: FlaskClient, url: str, detail: str
) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.data == plain(404, "Not Found", detail)


def test_errors_in_json_for_json_clients(client: FlaskClient) -> None:
    response = client.get(
        "/telemetry/GetMetric?switch=99&metric=Latency", headers={"Accept": "application/json"}
    )
    assert response.status_code == 404
    assert response.content_type == "application/json"
    assert response.get_json() == {
        "status": 404,
        "title": "Not Found",
        "detail": "unknown switch '99'; list the known ones at /telemetry/switches",
    }
    bad = client.get("/telemetry/ListMetrics?format=json").get_json()
    assert bad == {
        "status": 400,
        "title": "Bad Request",
        "detail": f"missing parameter 'metrics': {METRICS_RULE}",
    }


def test_unknown_route_and_wrong_method(client: FlaskClient) -> None:
    response = client.get("/telemetry/getmetric")
    assert response.status_code == 404
    assert response.data.decode().startswith(
        "404 Not Found: no endpoint at '/telemetry/getmetric'; "
    )
    assert "/telemetry/GetMetric?switch=<id>&metric=<name>" in response.data.decode()
    post = client.post("/telemetry/GetMetric?switch=1&metric=Latency")
    assert post.status_code == 405
    assert "GET" in post.headers["Allow"]
    assert post.data.startswith(b"405 Method Not Allowed: ")


def test_cold_start_is_503_and_asks_for_exactly_one_refresh(fake: fakeredis.FakeRedis) -> None:
    app = make_app(fake, retry_after=3)
    client = app.test_client()
    for url in (
        "/telemetry/GetMetric?switch=1&metric=Latency",
        "/telemetry/ListMetrics?metrics=Latency",
        "/readyz",
    ):
        for _ in range(3):
            response = client.get(url)
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "3"
            assert response.data == plain(
                503,
                "Service Unavailable",
                "no snapshot has been written yet; a refresh is requested, retry in 3 s",
            )
    assert fake.get(Keys().refresh_request) == b"the API found no fresh snapshot"
    assert fake.keys("rq:*") == []  # the API never writes the queue: the refresher does
    assert app.extensions[EXTENSION].refresh.asked == 1
    put_snapshot(fake)
    assert client.get("/telemetry/GetMetric?switch=1&metric=Latency").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_a_503_says_so_when_the_refresh_could_not_be_requested(
    fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_args: object, **_kwargs: object) -> None:  # as a user without the right
        raise redis.ResponseError("NOPERM this user has no permissions to access a key")

    monkeypatch.setattr(fake, "set", refused)
    app = make_app(fake, retry_after=2)
    client = app.test_client()
    for _ in range(2):  # the second answer, within the cooldown, repeats what happened
        response = client.get("/telemetry/GetMetric?switch=1&metric=Latency")
        assert response.status_code == 503
        assert response.data == plain(
            503,
            "Service Unavailable",
            "no snapshot has been written yet; requesting a refresh failed (the queue's Redis "
            "refused it), retry in 2 s",
        )
    asker = app.extensions[EXTENSION].refresh
    assert (asker.asked, asker.failed) == (1, 1)


def test_expired_snapshot_is_503_saying_since_when_it_is_stale(fake: fakeredis.FakeRedis) -> None:
    keys = Keys()
    put_snapshot(fake, ttl=2)
    expires_at = int(fake.hget(keys.fence, "expires_at")) / 1000  # Unix ms
    client = make_app(fake).test_client()
    assert client.get("/telemetry/GetMetric?switch=1&metric=Latency").status_code == 200
    wait_for(lambda: not fake.exists(keys.current), 10, message="the snapshot to expire")
    response = client.get("/telemetry/GetMetric?switch=1&metric=Latency")
    assert response.status_code == 503
    expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at))
    text = response.data.decode()
    assert text.startswith(f"503 Service Unavailable: the data is stale since {expired} (")
    assert text.endswith("s ago), when snapshot 1 expired; a refresh is requested, retry in 1 s\n")


def test_a_snapshot_not_yet_expired_but_unreadable_is_not_called_stale(
    fake: fakeredis.FakeRedis,
) -> None:
    keys = Keys()
    put_snapshot(fake, ttl=60)
    expires_at = int(fake.hget(keys.fence, "expires_at")) / 1000
    fake.delete(keys.current)  # as an eviction, or a read made just before the publication
    response = make_app(fake).test_client().get("/telemetry/GetMetric?switch=1&metric=Latency")
    assert response.status_code == 503
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at))
    assert response.data == plain(
        503,
        "Service Unavailable",
        f"snapshot 1 could not be read (published meanwhile, or its keys evicted before their "
        f"expiry at {when}); a refresh is requested, retry in 1 s",
    )


def test_a_snapshot_expiring_within_the_clock_skew_allowance_is_called_stale(
    fake: fakeredis.FakeRedis,
) -> None:
    keys = Keys()
    put_snapshot(fake, ttl=1)  # expires at most 1 s from now by Redis's clock
    fake.delete(keys.current)  # as a host whose clock is up to 1 s behind Redis's sees it
    response = make_app(fake).test_client().get("/telemetry/GetMetric?switch=1&metric=Latency")
    assert response.status_code == 503
    assert b"the data is stale since " in response.data
    assert b"(0 s ago), when snapshot 1 expired" in response.data


def test_dead_redis_is_503_in_well_under_a_second() -> None:
    dead = connect(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5, retries=1)
    client = make_app(dead).test_client()
    for url in (
        "/telemetry/GetMetric?switch=1&metric=Latency",
        "/telemetry/ListMetrics?metrics=Latency",
        "/telemetry/switches",
        "/readyz",
    ):
        started = time.monotonic()
        response = client.get(url)
        elapsed = time.monotonic() - started
        assert response.status_code == 503
        assert elapsed < 1.0
        assert response.headers["Retry-After"] == "1"
        assert response.data == plain(
            503, "Service Unavailable", "Redis is unreachable; retry in 1 s"
        )
    json_answer = client.get("/readyz", headers={"Accept": "application/json"}).get_json()
    assert json_answer["status"] == 503
    assert client.get("/healthz").status_code == 200


def test_unexpected_errors_are_logged_and_answered_without_details(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("api_service.views.read_metric", broken)  # one builder, both paths
    with caplog.at_level(logging.ERROR, logger="api_service.errors"):
        response = client.get("/telemetry/GetMetric?switch=1&metric=Latency")
    assert response.status_code == 500
    assert response.data == plain(500, "Internal Server Error", "the error is logged on the server")
    assert b"secret" not in response.data and b"Traceback" not in response.data
    assert "secret internals" in caplog.text and "Traceback" in caplog.text
