"""The original design's shape for comparison: one process holding the table in a dict.

A tiny Flask app (a granian WSGI factory) that loads the snapshot once into a dict under a lock
and reloads it every few seconds from a background thread, as a single-process cache in front
of the generator would; GetMetric and ListMetrics answer the same CSV as the API, with no Redis
on the request path. It cannot be scaled out (each replica would hold its own copy), which is
what the API pays Redis round trips for.
"""

from __future__ import annotations

import os
import threading

from flask import Flask, Response, abort, request

from telemetry_common.keys import Keys
from telemetry_common.reader import read_catalog, read_columns
from telemetry_common.redis_client import connect

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
