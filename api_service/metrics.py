"""Prometheus metrics of the API, served at ``GET /metrics`` without touching Redis.

Requests are counted by Flask hooks, per route rule (never the raw path, so the labels stay
few) and status; a data answer's age and generation are read back from its headers. Under
the production server each worker process writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds them up across workers; without that
variable (tests, one process) the values live in the default registry.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import redis
from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
AGE_HEADER = "X-Telemetry-Age"
GENERATION_HEADER = "X-Telemetry-Generation"
UNMATCHED = "unmatched"  # the route label of a request that matched no rule
STARTED = "telemetry.started"  # where before_request leaves the start time, in the environ
COUNTED = "telemetry.counted"
REDIS_ERROR_KINDS = ("connection", "timeout", "response")
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
AGE_BUCKETS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 30.0)


class ApiMetrics:
    """The API's metrics, with each label combination's child kept for the hot path."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.requests = Counter(
            "telemetry_api_requests",
            "Requests answered, by route rule and status",
            ["route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "telemetry_api_request_duration_seconds",
            "Seconds from the request's arrival in Flask to its response, by route rule",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.redis_errors = Counter(
            "telemetry_api_redis_errors",
            "Redis failures answered with 503, by kind (connection, timeout, response)",
            ["kind"],
            registry=registry,
        )
        self.age = Histogram(
            "telemetry_api_data_age_seconds",
            "Age of the data served (X-Telemetry-Age of each data answer)",
            buckets=AGE_BUCKETS,
            registry=registry,
        )
        self.generation = Gauge(
            "telemetry_api_generation",
            "Newest snapshot generation served (X-Telemetry-Generation)",
            multiprocess_mode="max",
            registry=registry,
        )
        for kind in REDIS_ERROR_KINDS:  # every series exists from the start, at 0
            self.redis_errors.labels(kind)
        self._served = ""  # the last generation header seen (a gauge write costs a few µs)
        self._counters: dict[tuple[str, int], Any] = {}
        self._timers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def observe(self, route: str, status: int, seconds: float | None) -> None:
        """Count one answer and, when its start is known, its latency."""
        counter = self._counters.get((route, status))
        if counter is None:
            with self._lock:
                counter = self.requests.labels(route, str(status))
                self._counters[(route, status)] = counter
        counter.inc()
        if seconds is None:
            return
        timer = self._timers.get(route)
        if timer is None:
            with self._lock:
                timer = self._timers[route] = self.latency.labels(route)
        timer.observe(seconds)

    def served(self, age: str, generation: str | None) -> None:
        """Observe the age of one data answer and note its generation."""
        self.age.observe(float(age))
        if generation is not None and generation != self._served:
            self._served = generation
            self.generation.set(float(generation))


_current: ApiMetrics | None = None
_current_lock = threading.Lock()


def api_metrics() -> ApiMetrics:
    """Return this process's metrics, created in the default registry on first use."""
    global _current
    with _current_lock:
        if _current is None:
            _current = ApiMetrics()
        return _current


def exposition() -> bytes:
    """Return the metrics as Prometheus text: every worker's, added up, in multiprocess mode."""
    if not os.environ.get(MULTIPROC_DIR):
        return generate_latest(REGISTRY)
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def _redis_kind(error: redis.RedisError) -> str:
    if isinstance(error, redis.TimeoutError):
        return "timeout"
    return "connection" if isinstance(error, redis.ConnectionError) else "response"


def register_metrics(app: Flask) -> None:
    """Count every request of ``app``, count its Redis errors, and serve ``/metrics``.

    Call it after the error handlers are registered: the Redis error handler is wrapped.
    """
    metrics = api_metrics()

    def before() -> None:
        request.environ[STARTED] = time.perf_counter()

    def after(response: Response) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
        environ = req.environ
        started = environ.get(STARTED)
        rule = req.url_rule
        route = rule.rule if rule is not None else UNMATCHED
        seconds = None if started is None else time.perf_counter() - started
        metrics.observe(route, response.status_code, seconds)
        environ[COUNTED] = True
        age = response.headers.get(AGE_HEADER)
        if age is not None:
            metrics.served(age, response.headers.get(GENERATION_HEADER))
        return response

    def teardown(_error: BaseException | None) -> None:
        if COUNTED not in request.environ:  # no answer went through after_request
            rule = request.url_rule
            metrics.observe(rule.rule if rule is not None else UNMATCHED, 500, None)

    app.before_request(before)
    app.after_request(after)
    app.teardown_request(teardown)
    handlers = app.error_handler_spec[None][None]
    answer_redis_error = handlers.get(redis.RedisError)

    def redis_failed(error: redis.RedisError) -> Any:
        metrics.redis_errors.labels(_redis_kind(error)).inc()
        if answer_redis_error is None:
            raise error
        return answer_redis_error(error)

    app.register_error_handler(redis.RedisError, redis_failed)
    app.add_url_rule("/metrics", "metrics", _metrics_view, methods=["GET"])


def _metrics_view() -> Response:
    """Return every metric in the Prometheus text format."""
    headers = {"Cache-Control": "no-store"}
    return Response(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4, headers=headers)
