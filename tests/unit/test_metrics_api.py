"""GET /metrics of a single-process API: requests by route and status, latency, age, Redis."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import fakeredis
import pytest
import redis
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from api_service.cli import MULTIPROC_DIR, metrics_directory
from api_service.metrics import QUEUED
from tests.helpers import free_port
from tests.helpers.api import AGE, make_app, put_snapshot

GET_METRIC = "/telemetry/GetMetric"
LIST_METRICS = "/telemetry/ListMetrics"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: FlaskClient) -> Samples:
    """Return every sample of GET /metrics, keyed by name and sorted labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def counter(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def client(fake: fakeredis.FakeRedis) -> FlaskClient:
    assert not os.environ.get(MULTIPROC_DIR), "these tests use the default registry"
    return make_app(fake).test_client()


@pytest.fixture
def delta(client: FlaskClient) -> Callable[..., float]:
    """Return how much a sample grew since the test began (the registry lives per process)."""
    before = scrape(client)

    def grew(name: str, **labels: str) -> float:
        after = scrape(client)
        return counter(after, name, **labels) - counter(before, name, **labels)

    return grew


def test_requests_are_counted_by_route_rule_and_status(
    client: FlaskClient, fake: fakeredis.FakeRedis, delta: Callable[..., float]
) -> None:
    generation = put_snapshot(fake)
    for switch in ("1", "2", "sw-3"):
        assert client.get(f"{GET_METRIC}?switch={switch}&metric=Latency").status_code == 200
    assert client.get(f"{GET_METRIC}?switch=99&metric=Latency").status_code == 404
    assert client.get(f"{GET_METRIC}?switch=1").status_code == 400
    assert client.get(f"{LIST_METRICS}?metrics=Latency,CpuUsage").status_code == 200
    assert client.get("/no/such/path/42").status_code == 404
    total = "telemetry_api_requests_total"
    assert delta(total, route=GET_METRIC, status="200") == 3
    assert delta(total, route=GET_METRIC, status="404") == 1
    assert delta(total, route=GET_METRIC, status="400") == 1
    assert delta(total, route=LIST_METRICS, status="200") == 1
    assert delta(total, route="unmatched", status="404") == 1  # never the raw path
    latency = "telemetry_api_request_duration_seconds_count"
    assert delta(latency, route=GET_METRIC) == 5 and delta(latency, route=LIST_METRICS) == 1
    samples = scrape(client)
    assert counter(samples, "telemetry_api_generation") == generation
    assert not any("/no/such" in dict(labels).get("route", "") for _, labels in samples)


def test_the_age_of_each_data_answer_is_observed(
    client: FlaskClient, fake: fakeredis.FakeRedis, delta: Callable[..., float]
) -> None:
    put_snapshot(fake)
    for _ in range(4):
        client.get(f"{LIST_METRICS}?metrics=Latency")
    client.get("/healthz")  # not a data answer: no age
    assert delta("telemetry_api_data_age_seconds_count") == 4
    assert AGE * 4 <= delta("telemetry_api_data_age_seconds_sum") < (AGE + 5) * 4
    assert delta("telemetry_api_data_age_seconds_bucket", le="1.0") == 0
    assert delta("telemetry_api_data_age_seconds_bucket", le="+Inf") == 4


def test_redis_errors_are_counted_and_metrics_need_no_redis(delta: Callable[..., float]) -> None:
    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=None)
    client = make_app(dead).test_client()
    response = client.get(f"{GET_METRIC}?switch=1&metric=Latency")
    assert response.status_code == 503 and b"Redis is unreachable" in response.data
    assert delta("telemetry_api_redis_errors_total", kind="connection") == 1
    assert delta("telemetry_api_requests_total", route=GET_METRIC, status="503") == 1
    assert client.get("/metrics").status_code == 200


def test_the_cli_gives_the_workers_a_fresh_directory_and_removes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROC_DIR, raising=False)
    with metrics_directory() as path:
        assert os.environ[MULTIPROC_DIR] == str(path) and path.is_dir()
        (path / "counter_123.db").write_bytes(b"")
    assert not path.exists() and MULTIPROC_DIR not in os.environ


def test_a_given_directory_is_kept_but_emptied_of_earlier_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given = tmp_path / "metrics"
    given.mkdir()
    (given / "counter_99.db").write_bytes(b"old")
    (given / "notes.txt").write_text("not ours")
    monkeypatch.setenv(MULTIPROC_DIR, str(given))
    with metrics_directory() as path:
        assert path == given and sorted(p.name for p in given.iterdir()) == ["notes.txt"]
    assert given.is_dir() and os.environ[MULTIPROC_DIR] == str(given)


def test_with_a_token_metrics_answers_its_bearer_only(fake: fakeredis.FakeRedis) -> None:
    client = make_app(fake, metrics_token="t0ken").test_client()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "t0ken"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert refused.data == b"401 Unauthorized: /metrics needs 'Authorization: Bearer <token>'\n"
    allowed = client.get("/metrics", headers={"Authorization": "Bearer t0ken"})
    assert allowed.status_code == 200 and b"telemetry_api_requests_total" in allowed.data
    assert client.get("/healthz").status_code == 200  # only /metrics is guarded


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_counts_none_of_its_parents_queued_answers() -> None:
    QUEUED.start()
    QUEUED.flush()
    read, write = os.pipe()
    with QUEUED._lock:  # the parent's hand-over thread waits: its queue stays as it is
        QUEUED.count(("/telemetry/GetMetric", 200, 0.001, (1.0, 3)))
        pid = os.fork()
        if pid == 0:  # the child: report what it holds and whether its thread runs, then leave
            alive = QUEUED._thread is not None and QUEUED._thread.is_alive()
            os.write(write, f"{len(QUEUED.answers)} {alive}".encode())
            os._exit(0)
        os.close(write)
        said = os.read(read, 100).decode()
        os.waitpid(pid, 0)
        assert said == "0 True"
        assert len(QUEUED.answers) == 1  # the parent's own, still to be handed over
    QUEUED.flush()
    assert not QUEUED.answers
