"""The refresher's Prometheus metrics, and the small HTTP endpoint that serves them.

Each process reports the refreshes it ran itself (RQ hands the jobs to the refreshers in
turn) and whether it leads: across refreshers, take the ``max`` of ``telemetry_source_up`` and
of the last-success time.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    make_wsgi_app,
)
from prometheus_client.exposition import ThreadingWSGIServer

from refresher_worker.status import SOURCE_KINDS, Outcome
from telemetry_common.fence import REASONS
from telemetry_common.logs import log_event
from telemetry_common.settings import host_port
from telemetry_common.wsgi_server import CHALLENGE, REFUSED, REFUSED_TYPE, authorized

logger = logging.getLogger(__name__)

OUTCOMES = ("written", "unchanged", "failed", "fenced")
# The kinds of failure, as the status hash names them, plus Redis (which has no status then).
ERROR_KINDS = (
    "source_unreachable",
    "source_timeout",
    "bad_response",
    "body_too_large",
    "invalid_csv",
    "redis",
    "internal_error",
)
# Failures after which the source gave no usable table.
SOURCE_DOWN_KINDS = SOURCE_KINDS | {"invalid_csv"}
DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class RefresherMetrics:
    """Every metric of one refresher process, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.source_up = Gauge(
            "telemetry_source_up",
            "1 when this process's last refresh got a valid table (or a 304) from the source",
            registry=registry,
        )
        self.last_success = Gauge(
            "telemetry_refresh_last_success_timestamp_seconds",
            "Unix time of this process's last successful refresh (written or unchanged)",
            registry=registry,
        )
        self.duration = Histogram(
            "telemetry_refresh_duration_seconds",
            "Seconds one refresh took: fetch, validation and write",
            ["outcome"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.refreshes = Counter(
            "telemetry_refreshes", "Refreshes run by this process", ["outcome"], registry=registry
        )
        self.errors = Counter(
            "telemetry_refresh_errors", "Failed refreshes, by kind", ["kind"], registry=registry
        )
        self.fenced = Counter(
            "telemetry_refresh_fenced",
            "Tables discarded whole because Redis held a newer snapshot, by reason",
            ["reason"],
            registry=registry,
        )
        self.rows = Gauge(
            "telemetry_refresh_rows", "Switches (rows) of the last table written", registry=registry
        )
        self.columns = Gauge(
            "telemetry_refresh_columns",
            "Metrics (columns) of the last table written",
            registry=registry,
        )
        self.generation = Gauge(
            "telemetry_refresh_generation",
            "Generation of the last snapshot this process wrote",
            registry=registry,
        )
        self.leader = Gauge(
            "telemetry_refresher_leader", "1 while this process holds the leader lock",
            registry=registry,
        )  # fmt: skip
        for outcome in OUTCOMES:  # every series exists from the start, at 0
            self.refreshes.labels(outcome)
            self.duration.labels(outcome)
        for kind in ERROR_KINDS:
            self.errors.labels(kind)
        for reason in REASONS:
            self.fenced.labels(reason)

    def observe(self, outcome: Outcome) -> None:
        """Count one refresh and update the gauges it moves."""
        self.refreshes.labels(outcome.result).inc()
        self.duration.labels(outcome.result).observe(outcome.duration)
        if outcome.result == "failed":
            kind = outcome.error_kind if outcome.error_kind in ERROR_KINDS else "internal_error"
            self.errors.labels(kind).inc()
            if kind in SOURCE_DOWN_KINDS:
                self.source_up.set(0)
            return
        self.source_up.set(1)
        if outcome.result == "fenced":
            self.fenced.labels(outcome.error_kind).inc()
            return
        if outcome.result == "written":
            self.rows.set(outcome.rows)
            self.columns.set(outcome.columns)
            self.generation.set(outcome.generation or 0)
        self.last_success.set(time.time())  # last: a scrape that sees it sees the gauges above

    def set_leader(self, leading: bool) -> None:
        """Note whether this process leads now."""
        self.leader.set(1 if leading else 0)


_current: RefresherMetrics | None = None
_lock = threading.Lock()


def metrics() -> RefresherMetrics:
    """Return this process's metrics, registered in the default registry on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = RefresherMetrics()
        return _current


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep scrapes out of the logs."""


def guarded(app: Callable[..., Any], token: str) -> Callable[..., Any]:
    """Return ``app`` answering 401 to a request without ``Authorization: Bearer <token>``."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if authorized(environ.get("HTTP_AUTHORIZATION"), token):
            return app(environ, start_response)
        start_response("401 Unauthorized", [CHALLENGE, ("Content-Type", REFUSED_TYPE)])
        return [REFUSED]

    return wsgi


def serve_metrics(address: tuple[str, int] | None, token: str = "") -> WSGIServer | None:
    """Serve the default registry at ``http://host:port/metrics`` from a daemon thread.

    With a ``token``, a scrape must carry it as a bearer token. A port already taken (say, a
    second refresher on the same host) is logged, not fatal: the refresher works on without
    its endpoint.
    """
    if address is None:
        return None
    metrics()  # the series exist before the first scrape
    host, port = address
    where = host_port(host, port)
    server_class = type("Server", (ThreadingWSGIServer,), {"address_family": _family(host)})
    try:
        app = guarded(make_wsgi_app(), token)
        server: WSGIServer = make_server(host, port, app, server_class, _Quiet)
    except OSError as exc:
        log_event(
            logger,
            "metrics_unavailable",
            f"cannot serve metrics on {where}: {exc}",
            level=logging.WARNING,
            bind=where,
            error=str(exc),
        )
        return None
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    log_event(logger, "metrics_serving", f"metrics on http://{where}/metrics", bind=where)
    return server


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
