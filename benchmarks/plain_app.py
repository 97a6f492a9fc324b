"""The least a Flask app must do to serve GetMetric: one redis-py HGET, no middleware.

The twin the API is measured against: same WSGI server (granian), same worker and thread
counts, same Redis, and the same route and parameters, so one wrk script drives both. It
checks nothing and answers no generation, age or ETag; an unknown switch is a 404.
"""

from __future__ import annotations

import os

import redis
from flask import Flask, Response, abort, request

from telemetry_common.keys import Keys


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
