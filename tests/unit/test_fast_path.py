"""GetMetric's shortcut (api_service/fast_path.py) answers exactly as the Flask app would."""

from __future__ import annotations

import time
from typing import Any

import fakeredis
import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder, run_wsgi_app

from api_service.fast_path import FastGetMetric
from api_service.metrics import QUEUED, REGISTRY
from tests.helpers.api import ROWS, make_app, put_snapshot

SWITCHES = ["1", "a,b", 'q"x', "ü-1"]  # plain, CSV-quoted, JSON-escaped, non-ASCII ids
GM = "/telemetry/GetMetric"
JSON = {"Accept": "application/json"}
CASES: list[tuple[str, str, dict[str, str], bool]] = [  # method, query, headers, shortcut answers
    ("GET", "switch=1&metric=Latency", {}, True),
    ("GET", "metric=CpuUsage&switch=a%2Cb", {}, True),
    ("GET", "switch=q%22x&metric=PacketLoss&format=json", {}, True),
    ("GET", "switch=%C3%BC-1&metric=SuccessfulRequests&format=JSON", {}, True),
    ("GET", "switch=1&metric=Latency", JSON, True),
    ("GET", "switch=1&metric=Latency", {"Accept": "text/csv, application/json;q=0.5"}, True),
    ("GET", "switch=1&metric=Latency", {"Accept": "application/json;q=0, text/*"}, True),
    ("GET", "switch=1&metric=Latency", {"Accept-Encoding": "gzip"}, True),
    ("GET", "switch=1&metric=Latency&extra=1", {}, True),
    ("GET", "switch=1&metric=Latency", {"If-None-Match": '"nothing"'}, False),
    ("HEAD", "switch=1&metric=Latency", {}, False),
    ("POST", "switch=1&metric=Latency", {}, False),
    ("GET", "switch=1", {}, False),
    ("GET", "metric=Latency", JSON, False),
    ("GET", "switch=&metric=Latency", {}, False),
    ("GET", "switch=1&switch=2&metric=Latency", {}, False),
    ("GET", "switch=%01&metric=Latency", {}, False),
    ("GET", "switch=" + "x" * 129 + "&metric=Latency", {}, False),
    ("GET", "switch=1&metric=Lat%20ency", {}, False),
    ("GET", "switch=%FF&metric=Latency", {}, False),
    ("GET", "switch=1&metric=Latency&format=xml", {}, False),
    ("GET", "switch=nope&metric=Latency", {}, False),
    ("GET", "switch=1&metric=Nope", JSON, False),
    ("GET", "switch=nope&metric=Nope&format=json", {}, False),
]


@pytest.fixture
def app(fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch) -> Flask:
    put_snapshot(fake, switches=SWITCHES, rows=[*ROWS, ROWS[0]][: len(SWITCHES)])
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)  # one age for both paths
    return make_app(fake)


def _run(wsgi: Any, method: str, query: str, headers: dict[str, str]) -> tuple[Any, ...]:
    environ = EnvironBuilder(GM, method=method, query_string=query, headers=headers).get_environ()
    body, status, sent = run_wsgi_app(wsgi, environ, buffered=True)
    return status, list(sent.items()), b"".join(body)


@pytest.mark.parametrize(("method", "query", "headers", "shortcut"), CASES)
def test_the_shortcut_answers_as_flask_does(
    app: Flask, method: str, query: str, headers: dict[str, str], shortcut: bool
) -> None:
    fast = app.wsgi_app
    assert isinstance(fast, FastGetMetric)
    flask_path, handed = fast.inner, []

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        handed.append(environ)
        return flask_path(environ, start_response)

    fast.inner = spy
    by_flask = _run(flask_path, method, query, headers)
    by_shortcut = _run(fast, method, query, headers)
    assert by_shortcut == by_flask
    assert (not handed) == shortcut
    if shortcut:
        assert by_flask[0] == "200 OK" and len(by_flask[2]) > 0
    else:
        assert not by_flask[0].startswith("200") or method == "HEAD" or "If-None-Match" in headers


def test_a_304_is_answered_by_flask_with_the_tag_the_shortcut_gave(app: Flask) -> None:
    status, headers, _ = _run(app.wsgi_app, "GET", "switch=1&metric=Latency", {})
    etag = dict(headers)["ETag"]
    again = _run(app.wsgi_app, "GET", "switch=1&metric=Latency", {"If-None-Match": etag})
    assert (status, again[0], again[2]) == ("200 OK", "304 NOT MODIFIED", b"")
    assert dict(again[1])["ETag"] == etag


def test_the_shortcut_counts_its_answers_as_flask_does(app: Flask) -> None:
    def served() -> tuple[float, float, float]:
        QUEUED.flush()
        ok = REGISTRY.get_sample_value(
            "telemetry_api_requests_total", {"route": GM, "status": "200"}
        )
        ages = REGISTRY.get_sample_value("telemetry_api_data_age_seconds_count")
        latencies = REGISTRY.get_sample_value(
            "telemetry_api_request_duration_seconds_count", {"route": GM}
        )
        return ok or 0.0, ages or 0.0, latencies or 0.0

    before = served()
    _run(app.wsgi_app, "GET", "switch=1&metric=Latency", {})  # the shortcut
    _run(app.wsgi_app, "HEAD", "switch=1&metric=Latency", {})  # Flask
    assert served() == (before[0] + 2, before[1] + 2, before[2] + 2)
    assert REGISTRY.get_sample_value("telemetry_api_generation") == 1
