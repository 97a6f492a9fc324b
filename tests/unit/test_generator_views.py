"""GET /counters and /healthz through the Flask test client: headers, ETag and 304."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from generator_service import create_app
from generator_service.config import GeneratorConfig
from generator_service.feed import Feed
from generator_service.views import EXTENSION


@pytest.fixture
def app() -> Flask:
    return create_app(GeneratorConfig(switches=10, seed=42, spike_probability=0.01))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def feed(app: Flask) -> Feed:
    found: Feed = app.extensions[EXTENSION]
    return found


def test_counters_headers(app: Flask, client: FlaskClient) -> None:
    response = client.get("/counters")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    run_id = feed(app).run_id
    assert response.headers["ETag"] == f'"{run_id}-0"'
    assert response.headers["X-Telemetry-Tick"] == "0"
    tick_time = response.headers["X-Telemetry-Tick-Time"]
    assert re.fullmatch(r"\d{10}\.\d{3}", tick_time)
    assert abs(float(tick_time) - feed(app).snapshot.tick_time) < 0.001
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.last_modified is not None
    assert response.data.startswith(b"switch,BandwidthConsumption,")


def test_same_tick_same_bytes_and_new_tag_after_a_tick(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_render() -> bytes:
        raise AssertionError("a request rendered the CSV")

    monkeypatch.setattr(feed(app), "render", no_render)  # requests reuse the tick's bytes
    first, second = client.get("/counters"), client.get("/counters")
    assert first.data == second.data == feed(app).snapshot.body
    assert first.headers["ETag"] == second.headers["ETag"]
    monkeypatch.undo()
    feed(app).tick()
    third = client.get("/counters")
    assert third.headers["ETag"] != first.headers["ETag"]
    assert third.headers["X-Telemetry-Tick"] == "1"
    assert third.data != first.data


@pytest.mark.parametrize(
    "template",
    ["{tag}", '"other", {tag}', "W/{tag}", "*"],
)
def test_if_none_match_answers_304(client: FlaskClient, template: str) -> None:
    tag = client.get("/counters").headers["ETag"]
    response = client.get("/counters", headers={"If-None-Match": template.format(tag=tag)})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == tag
    assert response.headers["X-Telemetry-Tick"] == "0"


def test_stale_tag_gets_the_new_body(app: Flask, client: FlaskClient) -> None:
    tag = client.get("/counters").headers["ETag"]
    feed(app).tick()
    response = client.get("/counters", headers={"If-None-Match": tag})
    assert response.status_code == 200
    assert response.data == feed(app).snapshot.body


def test_run_id_differs_between_starts() -> None:
    config = GeneratorConfig(switches=2, seed=1)
    assert Feed(config).run_id != Feed(config).run_id


def test_same_seed_same_csv_other_seed_other_csv() -> None:
    bodies = []
    for seed in (5, 5, 6):
        f = Feed(GeneratorConfig(switches=50, seed=seed, spike_probability=0.05))
        for _ in range(10):
            f.tick()
        bodies.append(f.snapshot.body)
    assert bodies[0] == bodies[1]
    assert bodies[0] != bodies[2]


def test_healthz(app: Flask, client: FlaskClient) -> None:
    feed(app).tick()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["status"] == "ok"
    assert response.json["tick"] == 1


def test_unknown_path_is_json_404(client: FlaskClient) -> None:
    response = client.get("/nothing")
    assert response.status_code == 404
    assert response.json is not None and response.json["error"] == "Not Found"
