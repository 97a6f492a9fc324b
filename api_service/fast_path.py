"""A shortcut in front of the Flask app for GetMetric, the API's hottest path.

Flask's request context, routing and response objects, and the WSGI wrappers around them, cost
more per GetMetric than its checks, its Redis read and its rendering together. This shortcut
takes a GET of /telemetry/GetMetric, parses its query as werkzeug does, and builds the answer
with the view's own function (views.metric_answer); it counts the answer under the same
metrics. Every other request goes to the Flask app unchanged, and so does every other outcome:
a query that is not UTF-8, a client that sends If-None-Match, and any error the answer raised
(a bad parameter, no snapshot, an unknown name, Redis down), which the view raises again so
that errors.py answers it and Redis is not asked twice. tests/unit/test_fast_path.py compares
both paths' answers, every header and byte.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict

from api_service.answers import SERVED
from api_service.metrics import COUNT
from api_service.state import EXTENSION, ApiState
from api_service.views import FAILED, GETMETRIC, metric_answer

PATH = GETMETRIC  # also the route label its answers are counted under
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FastGetMetric:
    """Answer GetMetric itself when it can; hand everything else to ``inner``, the Flask app."""

    def __init__(self, app: Flask, inner: WSGIApp) -> None:
        self.state: ApiState = app.extensions[EXTENSION]
        self.count = app.extensions.get(COUNT)  # None: the app counts nothing
        self.inner = inner

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Answer one WSGI request."""
        if (
            environ.get("PATH_INFO") != PATH
            or environ.get("REQUEST_METHOD") != "GET"
            or "HTTP_IF_NONE_MATCH" in environ
        ):
            return self.inner(environ, start_response)
        started = time.perf_counter()
        try:  # werkzeug's request.args, less its escaping of bytes that are not UTF-8
            query = environ.get("QUERY_STRING", "").encode("latin1")
            pairs = parse_qsl(query.decode(), keep_blank_values=True, errors="strict")
            args = ImmutableMultiDict(pairs)
        except UnicodeError:
            return self.inner(environ, start_response)
        try:
            status, headers, body = metric_answer(self.state, environ, args)
        except Exception as error:  # the view raises it again: errors.py answers it
            environ[FAILED] = error
            return self.inner(environ, start_response)
        start_response("200 OK", headers)  # a 304 needs If-None-Match: Flask answers those
        if self.count is not None:
            self.count((PATH, status, time.perf_counter() - started, environ.get(SERVED)))
        return [body]
