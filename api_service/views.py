"""The HTTP endpoints: the original GetMetric and ListMetrics, discovery, liveness and readiness.

Views validate, read once from Redis and render; every failure is raised and turned into an
answer by errors.py.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from flask import Blueprint, Request, Response, abort, g, request
from werkzeug.datastructures import MultiDict

from api_service import listing, questions
from api_service.answers import Answer, answer, data_answer, response
from api_service.formats import (
    CONTENT_TYPES,
    CSV,
    TEXT_TYPE,
    csv_cell,
    csv_table,
    format_of,
    json_body,
    negotiate,
)
from api_service.json_table import around, json_object, json_rows, json_value
from api_service.params import metric_name, metric_names, switch_id
from api_service.questions import NoPrevious
from api_service.state import ApiState, api_state
from telemetry_common.reader import (
    MetricValue,
    read_catalog,
    read_info,
    read_metric,
)

bp = Blueprint("telemetry", __name__)
GETMETRIC = "/telemetry/GetMetric"  # also the route label of its answers in the metrics
FAILED = "telemetry.failed"  # the error of a GetMetric answer fast_path.py could not build


def _request() -> Request:
    """Return the request itself: each access through Flask's proxy costs a lookup."""
    real: Request = request._get_current_object()  # type: ignore[attr-defined]
    return real


def metric_key(switch: str, metric: str) -> str:
    """Return the request key of a GetMetric answer's ETag."""
    return f"GetMetric\0{switch}\0{metric}"


def metric_body(fmt: str, found: MetricValue, age: float, interval: float | None = None) -> bytes:
    """Return GetMetric's body for one value read (a rate over ``interval``), in ``fmt``."""
    if fmt == CSV:
        switch = csv_cell(found.switch.encode())
        return b"switch,%s\n%s,%s\n" % (found.metric.encode(), switch, found.value)
    head: dict[str, object] = {
        "generation": found.info.generation,
        "age": round(age, 3),
        "switch": found.switch,
        "metric": found.metric,
    }
    if interval is not None:
        head |= {"rate": True, "interval": round(interval, 3)}
    return json_object(head, b"value", json_value(found.value))


def per_second(found: MetricValue) -> tuple[MetricValue, float]:
    """Return ``found`` with its value as a per-second rate, and the rate's interval."""
    if found.previous is None:
        raise NoPrevious(f"generation {found.info.generation} has no previous generation held")
    _generation, old, when = found.previous
    interval = found.info.source_time - when
    if old is None or interval <= 0:
        raise NoPrevious(f"switch {found.switch!r} has no value in the previous generation")
    return replace(found, value=listing.rate_text(found.value, old, interval)), interval


def metric_answer(state: ApiState, environ: dict[str, Any], args: MultiDict[str, str]) -> Answer:
    """Return GetMetric's answer to ``args``: the view's and fast_path.py's one builder."""
    fmt = format_of(args, environ.get("HTTP_ACCEPT"))
    switch = switch_id(args)
    metric = metric_name(args)
    asked = len(args) > 2  # more than switch and metric: the common case skips the questions
    pinned = questions.generation(args) if asked else None
    rate = questions.rate(args) if asked else False
    if rate:
        questions.counters_only([metric])
    found = read_metric(state.redis, state.keys, switch, metric, pinned, previous=rate)
    interval, extra = None, []
    if rate:
        found, interval = per_second(found)
        extra = [(questions.RATE_HEADER, f"{interval:.3f}")]
    key = metric_key(switch, metric) + (questions.extra_key(args) if asked else "")
    render = partial(metric_body, fmt, found, interval=interval)
    return data_answer(environ, found.info, fmt, key, render, extra)


@bp.get(GETMETRIC)
def get_metric() -> Response:
    """Return one metric of one switch."""
    req = _request()
    failed = req.environ.pop(FAILED, None)  # fast_path.py's attempt failed: answer why
    if failed is not None:
        raise failed
    return response(metric_answer(api_state(), req.environ, req.args))


@bp.get("/telemetry/ListMetrics")
def list_metrics() -> Response:
    """Return the asked metrics, in the asked order, for every switch in row order."""
    req = _request()
    fmt = negotiate(req)
    names = metric_names(req.args)
    g.asked_metrics = len(names)  # errors.py refuses more names than the snapshot has
    pinned, rate, order = (
        questions.generation(req.args),
        questions.rate(req.args),
        questions.sort(req.args),
    )
    limit = questions.whole(req.args, "limit", 1, questions.MAX_LIMIT)
    offset = questions.whole(req.args, "offset", 0, questions.MAX_LIMIT) or 0
    state, rows = api_state(), (offset, limit)
    if rate:
        questions.counters_only(names)
        if order is not None and order[0] not in names:
            abort(400, description="with rate=true, 'sort' must name one of the asked metrics")
        page = listing.rated(state.redis, state.keys, names, pinned, order, rows)
    else:
        page = listing.plain(state.redis, state.keys, names, pinned, order, rows)
    found = page.found
    extra = [("X-Total-Count", str(page.total))]
    if page.interval is not None:
        extra.append((questions.RATE_HEADER, f"{page.interval:.3f}"))
    if limit is not None and offset + limit < page.total:
        extra.append(("Link", questions.next_link(req, offset + limit, found.info.generation)))

    def render(age: float) -> bytes:
        if fmt == CSV:
            return csv_table(b"switch", names, found.switches, found.columns)
        head: dict[str, object] = {
            "generation": found.info.generation, "age": round(age, 3), "metrics": names,
        }  # fmt: skip
        if page.interval is not None:
            head |= {"rate": True, "interval": round(page.interval, 3)}
        columns = page.json_columns if page.json_columns is not None else found.columns
        return json_rows(found.switches, names, columns, around(head, b"switches"))

    key = "ListMetrics\0" + ",".join(names) + questions.extra_key(req.args)
    return answer(req, found.info, fmt, key, render, extra)


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
