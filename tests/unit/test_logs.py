"""Log lines: one per event, fields as JSON keys or ``key=value``; the refresher's state changes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import fakeredis
import pytest

from refresher_worker.backoff import Condition
from refresher_worker.leader import LeaderLock
from refresher_worker.status import Outcome, record
from telemetry_common.keys import Keys
from telemetry_common.logs import JsonFormatter, TextFormatter, configure_logging, log_event
from telemetry_common.settings import ConfigError

URL = "http://gen:9001/counters"


def emit(formatter: logging.Formatter, action: object) -> list[str]:
    """Run ``action(logger)`` with a logger that writes through ``formatter``; return the lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("refresher_worker.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        action(logger)  # type: ignore[operator]
    finally:
        logger.removeHandler(handler)
    return stream.getvalue().splitlines()


def source_down(logger: logging.Logger) -> None:
    extra = {"event": "source_down", "url": URL, "error": "connection refused"}
    logger.warning("source down: %s", "connection refused", extra=extra)


def test_json_lines_parse_and_carry_the_fields() -> None:
    lines = emit(JsonFormatter(), source_down)
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["event"] == "source_down" and line["url"] == URL
    assert line["error"] == "connection refused" and line["message"].startswith("source down")
    assert (line["component"], line["level"]) == ("refresher", "WARNING")
    assert line["logger"] == "refresher_worker.test_logs" and line["time"].endswith("Z")


def test_text_lines_stay_readable_with_the_fields_appended() -> None:
    (line,) = emit(TextFormatter(), source_down)
    assert line.endswith(
        "WARNING refresher_worker.test_logs source down: connection refused "
        f'event=source_down url={URL} error="connection refused"'
    )


def test_log_event_names_the_event_and_keeps_every_field_apart_from_the_records_own() -> None:
    def action(logger: logging.Logger) -> None:
        log_event(logger, "leadership_gained", identity="host-1", name="clash", n=3)
        log_event(logger, "hidden", level=logging.DEBUG - 1)

    (line,) = [json.loads(text) for text in emit(JsonFormatter(), action)]
    assert line["event"] == "leadership_gained" and line["message"] == "leadership gained"
    assert (line["identity"], line["name_"], line["n"]) == ("host-1", "clash", 3)


def test_a_traceback_stays_inside_the_one_json_line() -> None:
    def action(logger: logging.Logger) -> None:
        try:
            raise ValueError("bad")
        except ValueError:
            logger.exception("failed", extra={"event": "refresh_failed"})

    (line,) = emit(JsonFormatter(), action)
    parsed = json.loads(line)
    assert parsed["event"] == "refresh_failed" and "ValueError: bad" in parsed["exception"]


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_the_format_and_level_come_from_the_environment() -> None:
    configure_logging({"TELEMETRY_LOG_FORMAT": "JSON", "TELEMETRY_LOG_LEVEL": "debug"})
    root = logging.getLogger()
    assert isinstance(root.handlers[0].formatter, JsonFormatter) and root.level == logging.DEBUG
    configure_logging({})
    assert isinstance(root.handlers[0].formatter, TextFormatter) and root.level == logging.INFO
    with pytest.raises(ConfigError, match="TELEMETRY_LOG_FORMAT='xml': expected one of text"):
        configure_logging({"TELEMETRY_LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="TELEMETRY_LOG_LEVEL='loud'"):
        configure_logging({"TELEMETRY_LOG_LEVEL": "loud"})


def events(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """Return the fields of every captured record that names an event."""
    found = []
    for rec in caplog.records:
        if hasattr(rec, "event"):
            found.append({k: v for k, v in vars(rec).items() if k in FIELDS})
    return found


FIELDS = {"event", "url", "kind", "error", "after", "condition", "identity", "holder"}


def test_the_refreshers_state_changes_are_events(
    fake: fakeredis.FakeRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    keys = Keys()
    failed = Outcome("failed", 1.0, error_kind="source_timeout", error="late")
    record(fake, keys, failed, "w", source_url=URL)
    record(fake, keys, Outcome("written", 0.1, generation=1), "w", source_url=URL)
    record(fake, keys, Outcome("failed", 0.1, error_kind="invalid_csv", error="line 2"), "w")
    redis_state = Condition("Redis (worker)", logging.getLogger("refresher_worker.worker"))
    redis_state.mark_down(ConnectionError("refused"))
    redis_state.mark_up()
    lock = LeaderLock(fake, keys.leader, "me", ttl=2)
    lock.claim()
    fake.set(keys.leader, "other")
    lock.claim()
    assert events(caplog) == [
        {"event": "source_down", "url": URL, "kind": "source_timeout", "error": "late"},
        {"event": "source_back", "url": URL, "after": "failing:source_timeout"},
        {"event": "refresh_failed", "url": "", "kind": "invalid_csv", "error": "line 2"},
        {"event": "redis_down", "condition": "Redis (worker)", "error": "refused"},
        {"event": "redis_back", "condition": "Redis (worker)"},
        {"event": "leadership_gained", "identity": "me"},
        {"event": "leadership_lost", "identity": "me", "holder": "other"},
    ]
