"""The WSGI apps the benchmarks serve beside the API, and the API's own variants.

- ``plain_app``: the least a Flask app must do to serve GetMetric, one redis-py HGET, no
  middleware; the twin the API is measured against (same granian workers and threads).
- ``instrumented`` / ``uninstrumented``: ``create_app()`` as served, and without its
  per-request instrumentation (run them with ``PROMETHEUS_MULTIPROC_DIR`` set).
- ``cache_app``: the original design's shape, one process holding the table in a dict.
"""

from __future__ import annotations

import os
import threading

import redis
from flask import Flask, Response, abort, request

from api_service import create_app, metrics
from telemetry_common.keys import Keys
from telemetry_common.reader import read_catalog, read_columns
from telemetry_common.redis_client import connect

# The plain app.


def plain_app() -> Flask:
    """Return the plain GetMetric app (a WSGI factory) for the Redis and prefix in the env."""
    client = redis.Redis.from_url(os.environ["TELEMETRY_REDIS_URL"])
    keys = Keys(os.environ["TELEMETRY_KEY_PREFIX"])
    at = keys.at(client.get(keys.current).decode())  # type: ignore[union-attr]  # the one snapshot
    app = Flask("plain", static_folder=None)

    @app.get("/readyz")
    def readyz() -> Response:
        return Response(b"ready\n", content_type="text/plain")

    @app.get("/telemetry/GetMetric")
    def get_metric() -> Response:
        switch, metric = request.args["switch"], request.args["metric"]
        value = client.hget(at.switch(switch), metric)
        if not isinstance(value, bytes):
            abort(404)
        body = b"switch,%s\n%s,%s\n" % (metric.encode(), switch.encode(), value)
        return Response(body, content_type="text/csv; charset=utf-8")

    return app


# The API, with and without its per-request instrumentation.


def instrumented() -> Flask:
    """Return the API as served (a WSGI factory)."""
    return create_app()


def uninstrumented() -> Flask:
    """Return the API without the request counting (a WSGI factory)."""
    register = metrics.register_metrics

    def without_counting(app: Flask) -> None:
        inner = app.wsgi_app
        register(app)
        if app.wsgi_app is inner:
            raise RuntimeError("api_service.metrics no longer wraps the app: update this variant")
        app.wsgi_app = inner  # type: ignore[method-assign]
        del app.extensions[metrics.COUNT]  # fast_path.py counts nothing either

    metrics.register_metrics = without_counting
    try:
        return create_app()
    finally:
        metrics.register_metrics = register


# The original design's shape: one process holding the table in a dict, reloaded every few seconds.

RELOAD_SECONDS = 5.0


class Table:
    """The whole table: one row dict per switch and one column list per metric."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: list[bytes] = []
        self.rows: dict[str, dict[str, bytes]] = {}
        self.columns: dict[str, list[bytes]] = {}

    def load(self, url: str, prefix: str) -> None:
        """Read the snapshot from Redis and swap it in."""
        client, keys = connect(url, timeout=5.0), Keys(prefix)
        catalog = read_catalog(client, keys)
        found = read_columns(client, keys, catalog.metrics)
        columns = dict(zip(found.metrics, found.columns, strict=True))
        rows = {
            switch.decode(): {name: column[i] for name, column in columns.items()}
            for i, switch in enumerate(found.switches)
        }
        with self.lock:
            self.ids, self.rows, self.columns = found.switches, rows, columns
        client.close()


def cache_app() -> Flask:
    """Return the single-process cache app (a WSGI factory)."""
    url, prefix = os.environ["TELEMETRY_REDIS_URL"], os.environ["TELEMETRY_KEY_PREFIX"]
    table = Table()
    table.load(url, prefix)
    stop = threading.Event()

    def reload() -> None:
        while not stop.wait(RELOAD_SECONDS):
            table.load(url, prefix)

    threading.Thread(target=reload, daemon=True, name="reload").start()
    app = Flask("cache")

    @app.get("/readyz")
    def readyz() -> Response:
        return Response(b"ready\n", content_type="text/plain")

    @app.get("/telemetry/GetMetric")
    def get_metric() -> Response:
        switch, metric = request.args.get("switch", ""), request.args.get("metric", "")
        with table.lock:
            value = table.rows.get(switch, {}).get(metric)
        if value is None:
            abort(404)
        body = b"switch,%s\n%s,%s\n" % (metric.encode(), switch.encode(), value)
        return Response(body, content_type="text/csv; charset=utf-8")

    @app.get("/telemetry/ListMetrics")
    def list_metrics() -> Response:
        names = request.args.get("metrics", "").split(",")
        with table.lock:
            ids = table.ids
            columns = [table.columns.get(name) for name in names]
        if any(column is None for column in columns):
            abort(404)
        head = b"switch," + ",".join(names).encode()
        rows = b"\n".join(map(b",".join, zip(ids, *columns, strict=True)))
        return Response(head + b"\n" + rows + b"\n", content_type="text/csv; charset=utf-8")

    return app
