"""The snapshot for Prometheus at ``GET /telemetry/prometheus``: one family per metric.

The text exposition format by default, OpenMetrics when ``Accept`` prefers it. Every sample
has a ``switch`` label and the value GetMetric answers (the same text, or the same quantity in
a Prometheus base unit, converted exactly; see families.py); the snapshot's generation and age
are gauges of their own. ``?metrics=a,b`` limits the families to those
metrics. One Redis round trip; a missing snapshot is the same 503 as every data answer.
"""

from __future__ import annotations

import re
import time

from flask import Blueprint, Request, Response, g, request

from api_service.answers import AGE_HEADER, GENERATION_HEADER
from api_service.families import Family, families_of
from api_service.formats import number
from api_service.params import metric_names
from api_service.state import api_state
from telemetry_common.reader import Columns, read_columns, read_every_column

bp = Blueprint("exposition", __name__)

TEXT = "text/plain"
OPENMETRICS = "application/openmetrics-text"
CONTENT_TYPES = {
    TEXT: "text/plain; version=0.0.4; charset=utf-8",
    OPENMETRICS: "application/openmetrics-text; version=1.0.0; charset=utf-8",
}
# A number both Prometheus (Go's ParseFloat) and Python read the same way.
_NUMBER = rb"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_PLAIN = rb"-?[0-9]+(?:\.[0-9]+)?"  # how the generator writes every value: checked fastest
_COLUMN = re.compile(rb"(?:%s\n)*%s" % (_PLAIN, _PLAIN))


def _format(req: Request) -> str:
    """Return OpenMetrics when Accept rates it at least as high as plain text, else text.

    Prometheus sends media types with a version parameter, which werkzeug's matching does not
    equate with the bare type: the quality of each type is read here.
    """
    accept = req.environ.get("HTTP_ACCEPT", "")
    if OPENMETRICS not in accept:
        return TEXT
    quality: dict[str, float] = {}
    for item in accept.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        q = next((param[2:] for param in params if param.startswith("q=")), "1")
        try:
            quality[kind.lower()] = max(quality.get(kind.lower(), 0.0), float(q))
        except ValueError:
            continue
    text = max(quality.get(name, 0.0) for name in (TEXT, "text/*", "*/*"))
    openmetrics = quality.get(OPENMETRICS, 0.0)
    return OPENMETRICS if openmetrics > 0 and openmetrics >= text else TEXT


def _label(switch: bytes) -> bytes:
    escaped = switch.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n")
    return b'{switch="' + escaped + b'"} '


def _value(text: bytes) -> bytes:
    if re.fullmatch(_NUMBER, text):
        return text
    value = number(text)  # another spelling of a finite number, or None
    return b"NaN" if value is None else repr(float(value)).encode()


def _values(column: list[bytes]) -> list[bytes]:
    """Return the values as they are when every one is a plain number, else each one checked."""
    if _COLUMN.fullmatch(b"\n".join(column)):
        return column
    return [_value(text) for text in column]


def _header(family: Family, fmt: str) -> bytes:
    name = family.name if fmt == OPENMETRICS else family.sample
    kind = family.kind if fmt == OPENMETRICS or family.kind != "unknown" else "untyped"
    lines = [f"# HELP {name} {family.help}", f"# TYPE {name} {kind}"]
    if fmt == OPENMETRICS and family.unit:
        lines.append(f"# UNIT {name} {family.unit}")
    return "\n".join(lines).encode() + b"\n"


def _gauge(name: str, help_text: str, value: str, fmt: str, unit: str = "") -> bytes:
    family = Family("", name, "gauge", unit, help_text)
    return _header(family, fmt) + f"{name} {value}\n".encode()


def render(found: Columns, age: float, fmt: str) -> bytes:
    """Return the exposition of ``found``, whose data is ``age`` seconds old."""
    labels = [_label(switch) for switch in found.switches]
    by_metric = dict(zip(found.metrics, found.columns, strict=True))
    parts = [
        _gauge(
            "telemetry_snapshot_generation",
            "Generation of the snapshot these values come from",
            str(found.info.generation),
            fmt,
        ),
        _gauge(
            "telemetry_snapshot_age_seconds",
            "Seconds since the source produced the snapshot's data",
            f"{age:.3f}",
            fmt,
            "seconds",
        ),
    ]
    for family in families_of(found.metrics):
        sample = family.sample.encode()
        values = family.convert(_values(by_metric[family.metric]))
        parts.append(_header(family, fmt))
        lines = [sample + lab + val + b"\n" for lab, val in zip(labels, values, strict=True)]
        parts.append(b"".join(lines))
    if fmt == OPENMETRICS:
        parts.append(b"# EOF\n")
    return b"".join(parts)


@bp.get("/telemetry/prometheus")
def prometheus() -> Response:
    """Return the snapshot in the Prometheus text format, or OpenMetrics when asked."""
    fmt = _format(request)
    state = api_state()
    if "metrics" in request.args:
        names = metric_names(request.args)
        g.asked_metrics = len(names)  # errors.py refuses more names than the snapshot has
        found = read_columns(state.redis, state.keys, names)
    else:
        found = read_every_column(state.redis, state.keys)
    age = found.info.age(time.time())
    headers = {
        "Cache-Control": "no-store",
        "Vary": "Accept",
        GENERATION_HEADER: str(found.info.generation),
        AGE_HEADER: f"{age:.3f}",
    }
    return Response(render(found, age, fmt), headers=headers, content_type=CONTENT_TYPES[fmt])
