"""The HTTP endpoints: the original GetMetric and ListMetrics, discovery, liveness and readiness.

Views validate, read once from Redis and render; every failure is raised and turned into an
answer by errors.py.
"""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Request, Response, g, request

from api_service.answers import answer
from api_service.formats import (
    CONTENT_TYPES,
    CSV,
    TEXT_TYPE,
    csv_cell,
    csv_table,
    json_body,
    negotiate,
)
from api_service.json_table import around, json_object, json_rows, json_value
from api_service.params import metric_name, metric_names, switch_id
from api_service.state import api_state
from telemetry_common.reader import (
    MetricValue,
    read_catalog,
    read_columns,
    read_info,
    read_metric,
)

bp = Blueprint("telemetry", __name__)
GETMETRIC = "/telemetry/GetMetric"  # also the route label of its answers in the metrics
READ_FAILED = "telemetry.read_failed"  # a GetMetric read that failed in fast_path.py


def _request() -> Request:
    """Return the request itself: each access through Flask's proxy costs a lookup."""
    real: Request = request._get_current_object()  # type: ignore[attr-defined]
    return real


def metric_key(switch: str, metric: str) -> str:
    """Return the request key of a GetMetric answer's ETag."""
    return f"GetMetric\0{switch}\0{metric}"


def metric_body(fmt: str, found: MetricValue, age: float) -> bytes:
    """Return GetMetric's body for one value read, in ``fmt``."""
    if fmt == CSV:
        switch = csv_cell(found.switch.encode())
        return b"switch,%s\n%s,%s\n" % (found.metric.encode(), switch, found.value)
    head = {
        "generation": found.info.generation,
        "age": round(age, 3),
        "switch": found.switch,
        "metric": found.metric,
    }
    return json_object(head, b"value", json_value(found.value))


@bp.get(GETMETRIC)
def get_metric() -> Response:
    """Return one metric of one switch."""
    req = _request()
    fmt = negotiate(req)
    switch = switch_id(req.args)
    metric = metric_name(req.args)
    failed = req.environ.pop(READ_FAILED, None)  # fast_path.py read it and failed: say why
    if failed is not None:
        raise failed
    state = api_state()
    found = read_metric(state.redis, state.keys, switch, metric)
    return answer(
        req, found.info, fmt, metric_key(switch, metric), partial(metric_body, fmt, found)
    )


@bp.get("/telemetry/ListMetrics")
def list_metrics() -> Response:
    """Return the asked metrics, in the asked order, for every switch in row order."""
    req = _request()
    fmt = negotiate(req)
    names = metric_names(req.args)
    g.asked_metrics = len(names)  # errors.py refuses more names than the snapshot has
    state = api_state()
    found = read_columns(state.redis, state.keys, names)

    def render(age: float) -> bytes:
        if fmt == CSV:
            return csv_table(b"switch", names, found.switches, found.columns)
        head = {"generation": found.info.generation, "age": round(age, 3), "metrics": names}
        within = around(head, b"switches")
        return json_rows(found.switches, names, found.columns, within)

    return answer(req, found.info, fmt, "ListMetrics\0" + ",".join(names), render)


def _catalog(kind: str, plural: str) -> Response:
    fmt = negotiate(request)
    state = api_state()
    catalog = read_catalog(state.redis, state.keys)
    items = catalog.switches if kind == "switch" else catalog.metrics

    def render(age: float) -> bytes:
        if fmt == CSV:
            return csv_table(kind.encode(), [], [item.encode() for item in items], [])
        return json_body(
            {"generation": catalog.info.generation, "age": round(age, 3), plural: items}
        )

    return answer(request, catalog.info, fmt, plural, render)


@bp.get("/telemetry/switches")
def switches() -> Response:
    """Return the known switch ids in row order."""
    return _catalog("switch", "switches")


@bp.get("/telemetry/metrics")
def metrics() -> Response:
    """Return the known metric names in column order."""
    return _catalog("metric", "metrics")


@bp.get("/healthz")
def healthz() -> Response:
    """Return 200 while the process is alive."""
    if negotiate(request) == CSV:
        return Response(b"ok\n", content_type=TEXT_TYPE)
    return Response(json_body({"status": "ok"}), content_type=CONTENT_TYPES["json"])


@bp.get("/readyz")
def readyz() -> Response:
    """Return 200 when Redis answers and holds a fresh snapshot (errors.py answers 503)."""
    fmt = negotiate(request)
    state = api_state()
    info = read_info(state.redis, state.keys)
    age = round(info.age(), 3)
    headers = {"Cache-Control": "no-store"}
    if fmt == CSV:
        text = f"ready: generation {info.generation}, age {age} s, expires in {info.expires_in} s\n"
        return Response(text.encode(), headers=headers, content_type=TEXT_TYPE)
    body = json_body(
        {
            "status": "ready",
            "generation": info.generation,
            "age": age,
            "expires_in": info.expires_in,
        }
    )
    return Response(body, headers=headers, content_type=CONTENT_TYPES["json"])
