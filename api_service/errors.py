"""Turn every failure into a short answer in the client's format, never a stack trace.

CSV clients get ``<status> <title>: <detail>`` as plain text, JSON clients an object with
``status``, ``title`` and ``detail``. Redis trouble and a missing snapshot are 503 with
Retry-After; anything unexpected is logged with its traceback and answered as a bare 500.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

import redis
from flask import Flask, Response, current_app, g, request, url_for
from werkzeug.exceptions import HTTPException, NotFound

from api_service.formats import CONTENT_TYPES, JSON, TEXT_TYPE, error_format, json_body
from api_service.params import show
from api_service.questions import NoPrevious
from api_service.state import ApiState, api_state
from telemetry_common.pages import held_generations
from telemetry_common.reader import GenerationGone, NoSnapshot, UnknownNames, read_last_expiry

logger = logging.getLogger(__name__)

REDIS_LOG_INTERVAL = 10.0  # seconds between two log lines about Redis failing
REDIS_ERRORS = "telemetry_api.redis_errors"  # app.extensions: called with each Redis error
ROUTES = (
    "/telemetry/GetMetric?switch=<id>&metric=<name>, /telemetry/ListMetrics?metrics=<a>,<b>, "
    "/telemetry/switches, /telemetry/metrics, /telemetry/prometheus, /healthz, /readyz, /metrics, "
    "/openapi.json and / (a dashboard for browsers)"
)


def error_response(
    status: int, title: str, detail: str, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    """Return an error answer in the format the client asked for."""
    if error_format(request) == JSON:
        body = json_body({"status": status, "title": title, "detail": detail})
        content_type = CONTENT_TYPES[JSON]
    else:
        body = f"{status} {title}: {detail}\n".encode()
        content_type = TEXT_TYPE
    extra = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
    return Response(body, status, [*headers, *extra], content_type=content_type)


def _http_error(error: HTTPException) -> Response | HTTPException:
    if error.code is None:
        return error
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    detail = error.description or error.name
    if isinstance(error, NotFound) and request.url_rule is None:
        detail = f"no endpoint at {show(request.path)}; the API serves {ROUTES}"
    return error_response(error.code, error.name, detail, headers)


def _unknown_names(error: UnknownNames) -> Response:
    asked = g.get("asked_metrics", 0)
    if error.metrics and error.info is not None and asked > error.info.metric_count:
        detail = (
            f"parameter 'metrics' asks for {asked} metrics but the snapshot has only "
            f"{error.info.metric_count}; list them at {url_for('telemetry.metrics')}"
        )
        return error_response(400, "Bad Request", detail)
    parts, places = [], []
    for names, one, many, endpoint in (
        (error.switches, "switch", "switches", "telemetry.switches"),
        (error.metrics, "metric", "metrics", "telemetry.metrics"),
    ):
        if names:
            label = one if len(names) == 1 else many
            parts.append(f"unknown {label} " + ", ".join(map(show, names)))
            places.append(url_for(endpoint))
    detail = f"{' and '.join(parts)}; list the known ones at {' and '.join(places)}"
    return error_response(404, "Not Found", detail)


def _unexpected(error: Exception) -> Response:
    logger.error("unexpected error answering %s %s", request.method, request.path, exc_info=error)
    return error_response(500, "Internal Server Error", "the error is logged on the server")


class _Throttle:
    """Allow one event per interval; count the ones held back."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.held = 0
        self._next = 0.0
        self._lock = threading.Lock()

    def allow(self) -> int | None:
        """Return how many events were held back since the last allowed one, or None."""
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                self.held += 1
                return None
            self._next, held, self.held = now + self.interval, self.held, 0
            return held


def _staleness(state: ApiState) -> str:
    """Say why there is no data: never written yet, stale since the last snapshot expired, or
    the last snapshot, not expired, could not be read."""
    try:
        last = read_last_expiry(state.redis, state.keys)
    except redis.RedisError:
        return "no fresh snapshot in Redis"
    if last is None:
        return "no snapshot has been written yet"
    generation, expired_at = last
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expired_at))
    ago = time.time() - expired_at  # the expiry is by Redis's clock: allow this host 1 s of skew
    if ago < -1:  # the last snapshot has not expired: it came after the read, or was evicted
        return (
            f"snapshot {generation} could not be read (published meanwhile, or its keys "
            f"evicted before their expiry at {when})"
        )
    ago = max(0.0, ago)
    return f"the data is stale since {when} ({ago:.0f} s ago), when snapshot {generation} expired"


def register_error_handlers(app: Flask) -> None:
    """Install the handlers that turn exceptions into answers."""
    throttle = _Throttle(REDIS_LOG_INTERVAL)

    def no_snapshot(_error: NoSnapshot) -> Response:
        state = api_state()
        asked = state.refresh.ask(
            state.queue or state.redis, state.keys, reason="the API found no fresh snapshot"
        )
        retry = state.config.retry_after
        detail = f"{_staleness(state)}; {asked}, retry in {retry} s"
        return error_response(503, "Service Unavailable", detail, [("Retry-After", str(retry))])

    def redis_failed(error: redis.RedisError) -> Response:
        count = current_app.extensions.get(REDIS_ERRORS)  # metrics.py counts them, when on
        if count is not None:
            count(error)
        held = throttle.allow()
        if held is not None:
            logger.warning("Redis failed: %r (%d more failures since the last report)", error, held)
        unreachable = isinstance(error, redis.ConnectionError | redis.TimeoutError)
        retry = api_state().config.retry_after
        detail = "Redis is unreachable" if unreachable else "Redis refused the read"
        return error_response(
            503,
            "Service Unavailable",
            f"{detail}; retry in {retry} s",
            [("Retry-After", str(retry))],
        )

    def gone(error: GenerationGone) -> Response:
        held = held_generations(api_state().redis, api_state().keys)
        listed = ", ".join(map(str, held)) if held else "none"
        detail = (
            f"generation {error.generation} is no longer held (held now: {listed}); pin a held "
            "generation, or leave out 'generation' for the current snapshot"
        )
        return error_response(410, "Gone", detail)

    def no_previous(error: NoPrevious) -> Response:
        retry = api_state().config.retry_after
        detail = f"no rate yet: {error}; rates need two generations, retry in {retry} s"
        return error_response(503, "Service Unavailable", detail, [("Retry-After", str(retry))])

    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(GenerationGone, gone)
    app.register_error_handler(NoPrevious, no_previous)
    app.register_error_handler(UnknownNames, _unknown_names)
    app.register_error_handler(NoSnapshot, no_snapshot)
    app.register_error_handler(redis.RedisError, redis_failed)
    app.register_error_handler(Exception, _unexpected)
