"""Configure logging once per entry point: one line per event, to stderr.

A record may name an event and carry fields, passed as ``extra`` (or with ``log_event``):
``logger.warning("source down: %s", error, extra={"event": "source_down", "url": url})``.
The text format appends them as ``event=source_down url=...``; the JSON format (for log
shippers) makes each field a key of the line's object, next to the component, the level, the
logger and the message. Every line is masked by ``redacted``: no password or token of a URL
reaches a log, whichever message or exception names it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

from telemetry_common.options import B, Options
from telemetry_common.redis_urls import redacted
from telemetry_common.settings import environ
from telemetry_common.variables import LOG_FORMAT, LOG_LEVEL

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
EVENT = "event"

# The attributes every record has: anything else on a record is a field given in ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}
# Top-level packages and the component each one is.
COMPONENTS = {
    "generator_service": "generator",
    "refresher_worker": "refresher",
    "api_service": "api",
    "telemetry_stack": "telemetry",
    "telemetry_common": "common",
}


def component(logger_name: str) -> str:
    """Return the component a logger belongs to: ``refresher``, ``api``, ... or its package."""
    top = logger_name.partition(".")[0]
    return COMPONENTS.get(top, top or "root")


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """Return the record's event (first, if any) and the other fields given in ``extra``."""
    found = {k: v for k, v in vars(record).items() if k not in _STANDARD}
    if EVENT in found:
        found = {EVENT: found.pop(EVENT), **found}
    return found


def _logfmt(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text and not any(c in text for c in ' "=\\\n\r\t'):
        return text
    return json.dumps(text, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Render a record as a readable line, its event and fields appended as ``key=value``."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """Return the line, and the traceback if any, with every secret masked."""
        return redacted(super().format(record))

    def formatMessage(self, record: logging.LogRecord) -> str:
        """Return the line before any traceback: time, level, logger, message, fields."""
        line = super().formatMessage(record)
        extra = fields(record)
        if not extra:
            return line
        return line + " " + " ".join(f"{key}={_logfmt(value)}" for key, value in extra.items())


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object per line, each field a key of its own."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        payload: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "component": component(record.name),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in fields(record).items():
            payload[key if key not in payload else f"{key}_"] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return redacted(json.dumps(payload, ensure_ascii=False, default=str))


def log_event(
    logger: logging.Logger,
    event: str,
    message: str | None = None,
    *,
    level: int = logging.INFO,
    **values: object,
) -> None:
    """Log one event with its fields; the message defaults to the event's name in words."""
    if not logger.isEnabledFor(level):
        return
    extra: dict[str, object] = {EVENT: event}
    extra |= {(k if k not in _STANDARD else f"{k}_"): v for k, v in values.items()}
    logger.log(level, "%s", message or event.replace("_", " "), extra=extra, stacklevel=2)


def configure_logging(env: Mapping[str, str]) -> None:
    """Send logs to stderr at ``TELEMETRY_LOG_LEVEL`` in ``TELEMETRY_LOG_FORMAT`` (text|json)."""
    level, fmt = LOG_LEVEL.read(env), LOG_FORMAT.read(env)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def start_command(command: Options[B], args: argparse.Namespace) -> B:
    """Return a command's settings from the environment and ``args``; configure logging."""
    env = dict(environ())
    settings = command.resolve(args, env)
    configure_logging(env)
    return settings
