"""Prometheus metrics of the API, kept by prometheus-client and served at ``GET /metrics``.

One WSGI wrapper counts every request, per route rule (never the raw path, so the labels stay
few) and status, with its latency; a data answer's age and generation come from answers.py
through the environ. GetMetric's shortcut (fast_path.py) counts its answers the same way.
Under the production server the library runs in its multiprocess mode: each worker keeps its
values in files under ``PROMETHEUS_MULTIPROC_DIR`` and a scrape adds up every worker's. Without
that variable (tests, one process) the values live in this process.

An answer is not handed to the library at once: it is appended to a queue (one C call, about
0.3 us), which a thread hands to the library every FLUSH_SECONDS, as does a scrape and the
worker's exit. In multiprocess mode each value the library changes is a locked write to a
memory-mapped file: ``Histogram.observe`` took 4.2 us and ``Counter.inc`` 2.9 us a call inside
a loaded worker, some 14 us per answer for its five values, 5-6 % of GetMetric's CPU; in the
thread's tight loop an observation takes about 3 us and the requests are added up into one
``inc`` per route and status (docs/benchmarks.md, "Request counting").
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
import threading
import time
from collections import Counter as Tally
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from api_service.answers import SERVED
from api_service.errors import REDIS_ERRORS
from api_service.state import EXTENSION
from telemetry_common.variables import PROMETHEUS_MULTIPROC_DIR
from telemetry_common.wsgi_server import CHALLENGE, REFUSED, REFUSED_TYPE, authorized

MULTIPROC_DIR = PROMETHEUS_MULTIPROC_DIR.variable
COUNT = "telemetry_api.count"  # app.extensions: the counting function, absent when off
UNMATCHED = "unmatched"  # the route label of a request that matched no rule
REDIS_ERROR_KINDS = ("connection", "timeout", "response")
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
AGE_BUCKETS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 30.0)
FLUSH_SECONDS = 0.5


class _ProcessId:
    """This process's id, read once and again after a fork, for prometheus-client's files.

    The library asks ``os.getpid()`` before every value it changes, to notice a fork: 0.3 us a
    call here, two per observation. ``MultiProcessValue`` takes the function that names the
    process instead (its public argument); this one gives the same answer without a system call.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self.pid = os.getpid()

    def __call__(self) -> int:
        return self.pid


if os.environ.get(MULTIPROC_DIR):  # before any value is made: the library reads it then
    values.ValueClass = values.MultiProcessValue(_ProcessId())  # type: ignore[no-untyped-call]

# The API's own registry: /metrics shows these families, not the library's process defaults.
REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "telemetry_api_requests",
    "Requests answered, by route rule and status",
    ["route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "telemetry_api_request_duration_seconds",
    "Seconds from the request's arrival in Flask to its response, by route rule",
    ["route"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
ERRORS = Counter(
    "telemetry_api_redis_errors",
    "Redis failures answered with 503, by kind (connection, timeout, response)",
    ["kind"],
    registry=REGISTRY,
)
AGE = Histogram(
    "telemetry_api_data_age_seconds",
    "Age of the data served (X-Telemetry-Age of each data answer)",
    buckets=AGE_BUCKETS,
    registry=REGISTRY,
)
GENERATION = Gauge(
    "telemetry_api_generation",
    "Newest snapshot generation served (X-Telemetry-Generation)",
    multiprocess_mode="max",
    registry=REGISTRY,
)
for _kind in REDIS_ERROR_KINDS:  # every series exists from the start, at 0
    ERRORS.labels(_kind)

# One answer: route, status, seconds (None: unknown), (age, generation) of its data or None.
Answer = tuple[str, int, float | None, tuple[float, int] | None]


class Queued:
    """Answers counted by any thread, handed to prometheus-client in batches."""

    def __init__(self) -> None:
        self.answers: deque[Answer] = deque()
        self.count: Callable[[Answer], None] = self.answers.append
        self._lock = threading.Lock()  # one hand-over at a time: each answer counted once
        self._thread: threading.Thread | None = None
        self._registered = False  # exit and fork hooks, once per process and its children

    def flush(self) -> None:
        """Hand every answer queued so far to the library."""
        requests, latencies = Tally[tuple[str, int]](), defaultdict[str, list[float]](list)
        ages, generation = [], None
        with self._lock:
            take = self.answers.popleft
            for _ in range(len(self.answers)):
                route, status, seconds, served = take()
                requests[route, status] += 1
                if seconds is not None:
                    latencies[route].append(seconds)
                if served is not None:
                    ages.append(served[0])
                    generation = served[1]
            for (route, status), number in requests.items():
                REQUESTS.labels(route, str(status)).inc(number)
            for route, values in latencies.items():
                observe = LATENCY.labels(route).observe
                for value in values:
                    observe(value)
            observe = AGE.observe
            for value in ages:
                observe(value)
            if generation is not None:
                GENERATION.set(generation)

    def start(self) -> None:
        """Start the hand-over thread (once per process, and again in a forked child)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, daemon=True, name="metrics")
        self._thread.start()
        if self._registered:
            return
        self._registered = True
        atexit.register(self.flush)
        # granian's workers are multiprocessing processes, which end with os._exit, past
        # atexit; multiprocessing runs its own finalizers first.
        multiprocessing.util.Finalize(self, self.flush, exitpriority=10)
        if hasattr(os, "register_at_fork"):  # POSIX; Windows spawns, and builds the app anew
            os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        self.answers.clear()  # the parent's answers are the parent's to count
        self._lock = threading.Lock()  # another thread may have held it at the fork
        self._thread = None
        self.start()

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()


QUEUED = Queued()


def exposition() -> bytes:
    """Return the metrics as Prometheus text: every worker's, added up, in multiprocess mode."""
    QUEUED.flush()
    if not os.environ.get(MULTIPROC_DIR):
        return generate_latest(REGISTRY)
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
    count = QUEUED.count
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
            count((route, 500, None, environ.get(SERVED)))
            raise
        route, status = answered[-1] if answered else (UNMATCHED, 500)
        count((route, status, time.perf_counter() - started, environ.get(SERVED)))
        return body

    QUEUED.start()
    app.wsgi_app = counted  # type: ignore[method-assign]
    app.extensions[COUNT] = count
    app.extensions[REDIS_ERRORS] = lambda error: ERRORS.labels(_redis_kind(error)).inc()
    token = app.extensions[EXTENSION].config.metrics_token

    def metrics_view() -> Response:
        """Return every metric in the Prometheus text format (to the token's bearer, if set)."""
        if not authorized(request.headers.get("Authorization"), token):
            return Response(REFUSED, 401, [CHALLENGE], content_type=REFUSED_TYPE)
        headers = {"Cache-Control": "no-store"}
        return Response(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4, headers=headers)

    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
