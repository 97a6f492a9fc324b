"""Prometheus metrics of the API, served at ``GET /metrics`` without touching Redis.

One WSGI wrapper counts every request, per route rule (never the raw path, so the labels stay
few) and status, with its latency; a data answer's age and generation come from answers.py
through the environ. GetMetric's 200s, which fast_path.py answers before Flask, are counted
by ``Counts.answered`` (``COUNTER``), cheaper, under the same route. Counts are plain numbers
in each process (metrics_store.py). Under the production server each worker also writes them
to a file in ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds up every worker's
(metrics_share.py); without that variable (tests, one process) it shows this process's counts.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import redis
from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from api_service.answers import SERVED
from api_service.errors import REDIS_ERRORS
from api_service.metrics_batch import Histogram
from api_service.metrics_share import FileShare
from api_service.metrics_store import Counts, merge
from api_service.views import GETMETRIC
from telemetry_common.variables import PROMETHEUS_MULTIPROC_DIR

MULTIPROC_DIR = PROMETHEUS_MULTIPROC_DIR.variable
COUNTER = "telemetry_api.count"  # app.extensions: fast_path.py's counting function, or None
UNMATCHED = "unmatched"  # the route label of a request that matched no rule
REDIS_ERROR_KINDS = ("connection", "timeout", "response")
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
AGE_BUCKETS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 30.0)


class ApiMetrics:
    """This process's counts, shared through files when a metrics directory is set."""

    def __init__(self, directory: str | None) -> None:
        self.counts = Counts(LATENCY_BUCKETS, AGE_BUCKETS, GETMETRIC)
        self.share = FileShare(self.counts, Path(directory)) if directory else None
        if self.share is not None:
            self.share.start()

    def collect(self) -> Iterator[Metric]:
        """Yield the metric families of every worker's counts added up."""
        total = self.share.collect() if self.share else merge([self.counts.dump()])
        requests = CounterMetricFamily(
            "telemetry_api_requests",
            "Requests answered, by route rule and status",
            labels=["route", "status"],
        )
        for (route, status), count in sorted(total["requests"].items()):
            requests.add_metric([route, status], count)
        latency = HistogramMetricFamily(
            "telemetry_api_request_duration_seconds",
            "Seconds from the request's arrival in Flask to its response, by route rule",
            labels=["route"],
        )
        for route, histogram in sorted(total["latency"].items()):
            latency.add_metric([route], *_buckets(LATENCY_BUCKETS, histogram))
        errors = CounterMetricFamily(
            "telemetry_api_redis_errors",
            "Redis failures answered with 503, by kind (connection, timeout, response)",
            labels=["kind"],
        )
        for kind in REDIS_ERROR_KINDS:  # every series exists from the start, at 0
            errors.add_metric([kind], total["redis_errors"].get(kind, 0.0))
        age = HistogramMetricFamily(
            "telemetry_api_data_age_seconds",
            "Age of the data served (X-Telemetry-Age of each data answer)",
        )
        age.add_metric([], *_buckets(AGE_BUCKETS, total["age"]))
        generation = GaugeMetricFamily(
            "telemetry_api_generation",
            "Newest snapshot generation served (X-Telemetry-Generation)",
            value=total["generation"],
        )
        yield from (requests, latency, errors, age, generation)


def _buckets(bounds: tuple[float, ...], histogram: Histogram) -> tuple[list[Any], float]:
    """Return cumulative (le, count) pairs ending with +Inf, and the sum."""
    pairs, running = [], 0.0
    for bound, count in zip([*map(str, bounds), "+Inf"], histogram[:-1], strict=True):
        running += count
        pairs.append((bound, running))
    return pairs, histogram[-1]


_current: ApiMetrics | None = None
_current_lock = threading.Lock()


def api_metrics() -> ApiMetrics:
    """Return this process's metrics, created on first use."""
    global _current
    with _current_lock:
        if _current is None:
            _current = ApiMetrics(os.environ.get(MULTIPROC_DIR) or None)
        return _current


class _Collector:
    def __init__(self, metrics: ApiMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics.collect()


def exposition() -> bytes:
    """Return the metrics as Prometheus text: every worker's, added up, when they share files."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(api_metrics()))
    return generate_latest(registry)


def _redis_kind(error: redis.RedisError) -> str:
    if isinstance(error, redis.TimeoutError):
        return "timeout"
    return "connection" if isinstance(error, redis.ConnectionError) else "response"


def register_metrics(app: Flask) -> None:
    """Count every request of ``app``, count its Redis errors, and serve ``/metrics``.

    Call it after the error handlers are registered: the Redis error handler is wrapped.
    """
    counts = api_metrics().counts
    inner = app.wsgi_app

    def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        answered: list[tuple[str, int]] = []

        def respond(line: str, headers: Any, exc_info: Any = None) -> Any:
            # Flask answers inside the request's context: its matched rule is still there.
            rule = getattr(environ.get("werkzeug.request"), "url_rule", None)
            answered.append((UNMATCHED if rule is None else rule.rule, int(line[:3])))
            return start_response(line, headers, exc_info)

        try:
            body = inner(environ, respond)
        except BaseException:
            route = answered[-1][0] if answered else UNMATCHED
            counts.request(route, 500, None, environ.get(SERVED))
            raise
        route, status = answered[-1] if answered else (UNMATCHED, 500)
        counts.request(route, status, time.perf_counter() - started, environ.get(SERVED))
        return body

    app.wsgi_app = counted  # type: ignore[method-assign]
    app.extensions[COUNTER] = counts.answered
    app.extensions[REDIS_ERRORS] = lambda error: counts.redis_error(_redis_kind(error))
    app.add_url_rule("/metrics", "metrics", _metrics_view, methods=["GET"])


def _metrics_view() -> Response:
    """Return every metric in the Prometheus text format."""
    headers = {"Cache-Control": "no-store"}
    return Response(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4, headers=headers)
