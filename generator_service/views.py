"""HTTP endpoints: the CSV of the latest tick at /counters, liveness at /healthz."""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from generator_service.feed import Feed

EXTENSION = "generator_feed"
CSV_TYPE = "text/csv; charset=utf-8"

bp = Blueprint("generator", __name__)


def feed() -> Feed:
    """Return the feed of the current app."""
    found: Feed = current_app.extensions[EXTENSION]
    return found


@bp.get("/counters")
def counters() -> Response:
    """Return the CSV of the latest tick, or 304 when the client already has it."""
    snapshot = feed().snapshot  # read the reference once: one tick, whole
    if request.if_none_match.contains_weak(snapshot.tag):
        return Response(status=304, headers=snapshot.headers)
    return Response(snapshot.body, headers=snapshot.headers, content_type=CSV_TYPE)


@bp.get("/healthz")
def healthz() -> Response:
    """Return liveness with the latest tick number and its age in seconds."""
    snapshot = feed().snapshot
    age = round(max(0.0, time.time() - snapshot.tick_time), 3)
    return jsonify(status="ok", tick=snapshot.tick, age=age)


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[Response, int]:
    """Return an HTTP error as a small JSON body."""
    return jsonify(error=error.name, description=error.description), error.code or 500
