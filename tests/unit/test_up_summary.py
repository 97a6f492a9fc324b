"""The summary ``telemetry up`` prints once the stack is ready."""

from __future__ import annotations

import pytest

from telemetry_stack.up import summary
from telemetry_stack.up.settings import UpSettings


def test_summary_shows_every_url_with_commands_to_try(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary, "examples", lambda api: ("sw 1", ["Latency", "CpuUsage"]))
    settings = UpSettings(api_port=8081, generator_port=9002, switches=20, api_workers=2)
    text = summary.render(settings, "redis://127.0.0.1:6390/0", "redis-server started here")
    assert "20 switches, 1 refresher, API with 2 workers" in text
    assert "API        http://127.0.0.1:8081\n" in text
    assert "curl 'http://127.0.0.1:8081/telemetry/GetMetric?switch=sw+1&metric=Latency'" in text
    assert "curl 'http://127.0.0.1:8081/telemetry/ListMetrics?metrics=Latency,CpuUsage'" in text
    assert "generator  http://127.0.0.1:9002/counters" in text
    assert "Redis      redis://127.0.0.1:6390/0  (redis-server started here)" in text
    assert "redis-cli -u redis://127.0.0.1:6390/0 GET telemetry:current\n" in text
    assert (
        "redis-cli -u redis://127.0.0.1:6390/0 HGETALL 'telemetry:<generation>:switch:sw 1'" in text
    )
    assert "Ctrl-C" in text


def test_summary_masks_a_redis_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary, "examples", lambda api: ("1", ["Latency"]))
    text = summary.render(UpSettings(), "redis://:secret@db:6379/0", "configured")
    assert "secret" not in text and "redis://:***@db:6379/0" in text


def test_examples_fall_back_when_the_api_does_not_answer() -> None:
    assert summary.examples("http://127.0.0.1:1") == ("1", ["Latency"])


def test_summary_says_where_redis_cli_comes_from_when_it_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(summary, "examples", lambda api: ("1", ["Latency"]))
    monkeypatch.setattr(summary.shutil, "which", lambda name: None)
    assert summary.NO_CLI in summary.render(UpSettings(), "redis://127.0.0.1:6390/0", "x")
