"""Configure logging once per entry point: one line per event, to stderr."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        payload: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(env: Mapping[str, str]) -> None:
    """Send logs to stderr at ``TELEMETRY_LOG_LEVEL`` in ``TELEMETRY_LOG_FORMAT`` (text|json)."""
    level = env.get("TELEMETRY_LOG_LEVEL", "INFO").upper()
    fmt = env.get("TELEMETRY_LOG_FORMAT", "text").lower()
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
