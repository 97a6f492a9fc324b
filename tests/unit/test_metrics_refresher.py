"""The refresher's metrics move with every outcome of a refresh job, and with leadership."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

import fakeredis
import pytest
import redis
import requests
from prometheus_client import CollectorRegistry

from refresher_worker import jobs
from refresher_worker import metrics as refresher_metrics
from refresher_worker.fetch import (
    BadResponse,
    BodyTooLarge,
    Fetched,
    NotModified,
    SourceError,
    SourceTimeout,
)
from refresher_worker.metrics import ERROR_KINDS, RefresherMetrics, serve_metrics
from refresher_worker.refresh import refresh_once
from refresher_worker.scheduler import Scheduler
from refresher_worker.settings import RefresherSettings
from telemetry_common.keys import Keys
from telemetry_common.settings import ConfigError
from tests.helpers import free_port
from tests.helpers.layout import meta_field

CSV = b"switch,Latency,Errors\n1,0.5,3\n2,1.25,0\n"
SETTINGS = RefresherSettings(source_url="http://source.invalid/counters", fetch_timeout=0.5)
KEYS = Keys()


class Probe:
    """A private registry installed as this process's refresher metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.metrics = RefresherMetrics(self.registry)

    def value(self, name: str, **labels: str) -> float:
        found = self.registry.get_sample_value(name, labels)
        assert found is not None, f"no sample {name} {labels}"
        return found

    def refreshes(self, outcome: str) -> float:
        return self.value("telemetry_refreshes_total", outcome=outcome)

    def errors(self) -> dict[str, float]:
        return {k: self.value("telemetry_refresh_errors_total", kind=k) for k in ERROR_KINDS}


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Probe:
    installed = Probe()
    monkeypatch.setattr(refresher_metrics, "_current", installed.metrics)
    return installed


def answering(fetch: Callable[..., Fetched | NotModified], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make refresh jobs in this process fetch with ``fetch``."""
    monkeypatch.setattr(jobs, "refresh_once", functools.partial(refresh_once, fetch=fetch))


def table(*_args: object, **_kwargs: object) -> Fetched:
    return Fetched(CSV, '"t1"', "1", time.time(), time.time())


def failing(error: Exception) -> Callable[..., Fetched]:
    def fetch(*_args: object, **_kwargs: object) -> Fetched:
        raise error

    return fetch


def test_every_series_exists_before_the_first_refresh(probe: Probe) -> None:
    assert probe.errors() == dict.fromkeys(ERROR_KINDS, 0.0)
    assert [probe.refreshes(o) for o in ("written", "unchanged", "failed")] == [0.0] * 3
    assert probe.value("telemetry_source_up") == 0.0
    assert probe.value("telemetry_refresher_leader") == 0.0


def test_a_written_refresh_sets_the_source_up_and_the_table_gauges(
    probe: Probe, fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    answering(table, monkeypatch)
    jobs.configure(SETTINGS, "w.0", client=fake)
    before = time.time()
    assert jobs.refresh() == "written"
    assert probe.refreshes("written") == 1 and probe.value("telemetry_source_up") == 1
    assert probe.value("telemetry_refresh_last_success_timestamp_seconds") >= before - 1
    assert probe.value("telemetry_refresh_rows") == 2
    assert probe.value("telemetry_refresh_columns") == 2
    assert probe.value("telemetry_refresh_generation") == 1
    count = "telemetry_refresh_duration_seconds_count"
    assert probe.value(count, outcome="written") == 1
    assert sum(probe.errors().values()) == 0


def test_an_unchanged_source_counts_as_a_success_without_a_write(
    probe: Probe, fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    answering(lambda *_a, **_k: NotModified('"t1"'), monkeypatch)
    jobs.configure(SETTINGS, "w.0", client=fake)
    assert jobs.refresh() == "unchanged"
    assert probe.refreshes("unchanged") == 1 and probe.value("telemetry_source_up") == 1
    assert probe.value("telemetry_refresh_last_success_timestamp_seconds") > 0
    assert probe.value("telemetry_refresh_generation") == 0  # nothing written


@pytest.mark.parametrize(
    ("fetch", "kind"),
    [
        (failing(SourceError("refused")), "source_unreachable"),
        (failing(SourceTimeout("late")), "source_timeout"),
        (failing(BadResponse("HTTP 500 Internal Server Error")), "bad_response"),
        (failing(BodyTooLarge("too big")), "body_too_large"),
        (lambda *_a, **_k: Fetched(b"switch,A\n1,x\n", "", "", None, 0.0), "invalid_csv"),
    ],
)
def test_each_failure_of_the_source_counts_its_kind_and_puts_the_source_down(
    probe: Probe,
    fake: fakeredis.FakeRedis,
    monkeypatch: pytest.MonkeyPatch,
    fetch: Callable[..., Fetched],
    kind: str,
) -> None:
    jobs.configure(SETTINGS, "w.0", client=fake)
    answering(table, monkeypatch)
    jobs.refresh()
    answering(fetch, monkeypatch)
    assert jobs.refresh() == "failed"
    assert probe.errors() == {k: float(k == kind) for k in ERROR_KINDS}
    assert probe.refreshes("failed") == 1 and probe.value("telemetry_source_up") == 0
    assert probe.value("telemetry_refresh_generation") == 1  # the last write stays reported


def test_a_redis_failure_counts_as_redis_and_says_nothing_of_the_source(
    probe: Probe, fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    answering(table, monkeypatch)
    jobs.configure(SETTINGS, "w.0", client=fake)
    jobs.refresh()
    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=None)
    jobs.configure(SETTINGS, "w.0", client=dead)
    assert jobs.refresh() == "redis"
    assert probe.errors()["redis"] == 1 and probe.refreshes("failed") == 1
    assert probe.value("telemetry_source_up") == 1


def test_an_unexpected_error_counts_as_internal(
    probe: Probe, fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(jobs, "refresh_once", broken)
    jobs.configure(SETTINGS, "w.0", client=fake)
    with pytest.raises(RuntimeError):
        jobs.refresh()
    assert probe.errors()["internal_error"] == 1 and probe.refreshes("failed") == 1


def test_the_leader_gauge_follows_the_lock(probe: Probe, fake: fakeredis.FakeRedis) -> None:
    scheduler = Scheduler(fake, SETTINGS, "me", threading.Event(), enqueue=lambda *a, **k: True)
    scheduler.step()
    assert probe.value("telemetry_refresher_leader") == 1
    fake.set(Keys().leader, "someone else")
    scheduler.step()
    assert probe.value("telemetry_refresher_leader") == 0


def test_the_endpoint_serves_the_metrics_and_a_taken_port_is_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert serve_metrics(None) is None
    port = free_port()
    server = serve_metrics(("127.0.0.1", port))
    assert server is not None
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert (
            "telemetry_source_up " in text
            and 'telemetry_refresh_errors_total{kind="redis"}' in text
        )
        assert serve_metrics(("127.0.0.1", port)) is None
        (taken,) = [r for r in caplog.records if getattr(r, "event", "") == "metrics_unavailable"]
        assert taken.bind == f"127.0.0.1:{port}"  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def test_the_metrics_address_setting() -> None:
    assert RefresherSettings.from_env({}).metrics_address == ("127.0.0.1", 9102)
    for off in ("0", "off", "OFF"):
        env = {"TELEMETRY_REFRESHER_METRICS_BIND": off}
        assert RefresherSettings.from_env(env).metrics_address is None
    env = {"TELEMETRY_REFRESHER_METRICS_BIND": "0.0.0.0:9200"}
    assert RefresherSettings.from_env(env).metrics_address == ("0.0.0.0", 9200)
    with pytest.raises(ConfigError, match="TELEMETRY_REFRESHER_METRICS_BIND='9200': expected"):
        RefresherSettings.from_env({"TELEMETRY_REFRESHER_METRICS_BIND": "9200"})


def test_a_refresh_overtaken_during_its_fetch_is_fenced_counted_and_logged_once(
    probe: Probe,
    fake: fakeredis.FakeRedis,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old_time = time.time()

    def overtaken(*_args: object, **_kwargs: object) -> Fetched:
        # While this refresh waits for its answer, another one fetches later data and writes it.
        later = Fetched(CSV, '"t2"', "2", old_time + 1, time.time())
        assert refresh_once(fake, KEYS, SETTINGS, fetch=lambda *_a, **_k: later).result == "written"
        return Fetched(CSV, '"t1"', "1", old_time, time.time())

    answering(overtaken, monkeypatch)
    jobs.configure(SETTINGS, "w.0", client=fake)
    with caplog.at_level("INFO"):
        assert jobs.refresh() == "fenced"
    assert probe.refreshes("fenced") == 1 and probe.refreshes("written") == 0
    assert probe.value("telemetry_refresh_fenced_total", reason="older_source") == 1
    assert probe.value("telemetry_refresh_fenced_total", reason="older_token") == 0
    assert probe.value("telemetry_source_up") == 1
    assert meta_field(fake, KEYS, "source_tick") == b"2"
    events = [r for r in caplog.records if getattr(r, "event", None) == "fenced"]
    assert len(events) == 1 and events[0].reason == "older_source"  # type: ignore[attr-defined]
    assert events[0].getMessage().startswith("refresh fenced: write discarded (token 1, ")
    status = fake.hgetall(KEYS.status)
    assert status[b"refreshes_fenced"] == b"1" and status[b"last_fenced_reason"] == b"older_source"
    assert status[b"last_outcome"] == b"fenced" and status[b"refreshes_written"] == b"1"


def test_with_a_token_the_endpoint_answers_its_bearer_only() -> None:
    port = free_port()
    server = serve_metrics(("127.0.0.1", port), "s3cret")
    assert server is not None
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
            refused = requests.get(url, headers=headers, timeout=5)
            assert refused.status_code == 401, headers
            assert refused.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
            assert "telemetry_" not in refused.text
        allowed = requests.get(url, headers={"Authorization": "Bearer s3cret"}, timeout=5)
        assert allowed.status_code == 200 and "telemetry_source_up " in allowed.text
    finally:
        server.shutdown()
        server.server_close()
    settings = RefresherSettings.from_env({"TELEMETRY_METRICS_TOKEN": "s3cret"})
    assert settings.metrics_token == "s3cret" and "s3cret" not in repr(settings)
