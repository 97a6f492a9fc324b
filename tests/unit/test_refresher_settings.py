"""Refresher settings from the environment and the command line, failing fast on bad values."""

from __future__ import annotations

import threading

import pytest
import redis

from refresher_worker.backoff import Backoff
from refresher_worker.settings import RefresherSettings
from refresher_worker.worker import WorkerLoop
from telemetry_common.redis_client import redacted
from telemetry_common.settings import ConfigError
from telemetry_stack.cli import build_parser, main
from tests.helpers import free_port, wait_for


def test_defaults() -> None:
    settings = RefresherSettings.from_env({})
    assert settings == RefresherSettings()
    assert settings.source_url == "http://127.0.0.1:9001/counters"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.interval, settings.ttl, settings.fetch_timeout) == (5.0, 10, 3.0)
    assert (settings.key_prefix, settings.max_body_bytes) == ("telemetry", 64 * 1024 * 1024)
    assert (settings.leader_ttl, settings.renew_every, settings.job_timeout) == (2.0, 0.5, 10)


def test_every_variable_is_read() -> None:
    settings = RefresherSettings.from_env(
        {
            "TELEMETRY_SOURCE_URL": "http://gen:9001/counters",
            "REDIS_URL": "redis://cache:6379/2",
            "TELEMETRY_KEY_PREFIX": "{telemetry}",
            "TELEMETRY_REFRESH_INTERVAL": "1",
            "TELEMETRY_TTL": "4",
            "TELEMETRY_MAX_BODY_BYTES": "1000",
            "TELEMETRY_LEADER_TTL": "1",
        }
    )
    assert settings.redis_url == "redis://cache:6379/2"
    assert settings.fetch_timeout == pytest.approx(0.6)  # a bit under the interval
    assert (settings.key_prefix, settings.ttl, settings.max_body_bytes) == ("{telemetry}", 4, 1000)
    assert settings.renew_every == 0.25


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"TELEMETRY_TTL": "5"},
            "TELEMETRY_TTL=5: must be greater than TELEMETRY_REFRESH_INTERVAL",
        ),
        ({"TELEMETRY_REFRESH_INTERVAL": "0"}, "TELEMETRY_REFRESH_INTERVAL='0': must be greater"),
        ({"TELEMETRY_FETCH_TIMEOUT": "5"}, "TELEMETRY_FETCH_TIMEOUT=5: must be shorter"),
        ({"TELEMETRY_SOURCE_URL": "gen:9001"}, "TELEMETRY_SOURCE_URL='gen:9001': expected an http"),
        ({"TELEMETRY_MAX_BODY_BYTES": "big"}, "TELEMETRY_MAX_BODY_BYTES='big': expected a whole"),
        ({"TELEMETRY_REDIS_URL": "localhost"}, "TELEMETRY_REDIS_URL='localhost': expected a redis"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RefresherSettings.from_env(env)
    assert str(caught.value).startswith(message)


def test_the_command_line_lists_the_refresher_and_names_a_bad_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TELEMETRY_REFRESH_INTERVAL", raising=False)
    help_text = build_parser().format_help()
    assert "refresher" in help_text
    assert main(["refresher", "--ttl", "3"]) == 2
    error = capsys.readouterr().err
    assert "--ttl: TELEMETRY_TTL=3: must be greater than TELEMETRY_REFRESH_INTERVAL (5)" in error


def test_passwords_stay_out_of_the_log() -> None:
    assert redacted("redis://user:s3cret@cache:6379/0") == "redis://user:***@cache:6379/0"
    assert redacted("redis://cache:6379/0") == "redis://cache:6379/0"


def test_the_worker_loop_outlives_a_dead_redis_and_logs_it_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.1, retry=None)
    stop = threading.Event()
    loop = WorkerLoop(dead, "test-1-ab", stop)
    loop.backoff = Backoff(base=0.05, cap=0.05)

    def stop_after_three_workers() -> None:
        try:
            wait_for(lambda: loop.started >= 3, 30, message="three workers")
        finally:
            stop.set()

    watcher = threading.Thread(target=stop_after_three_workers, daemon=True)
    watcher.start()
    loop.run()  # a new worker after each failure, until stopped
    watcher.join(30)
    assert loop.started >= 3
    downs = [r for r in caplog.records if "down" in r.getMessage()]
    assert len(downs) == 1 and downs[0].getMessage().startswith("Redis (worker) down")
