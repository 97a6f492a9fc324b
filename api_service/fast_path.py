"""A shortcut in front of the Flask app for GetMetric's 200 answers, the API's hottest path.

Flask's request context, routing and response objects, and the WSGI wrappers around them, cost
more per GetMetric than its checks, its Redis read and its rendering together. This shortcut
takes a GET of /telemetry/GetMetric, runs the same checks (params.py, formats.py) on the same
parsed query, reads once as the view does, and builds the same headers and body with the same
functions (answers.py, views.py); it counts the answer under the same metrics, more cheaply
(``Counts.answered``, metrics_store.py). Every other request
goes to the Flask app unchanged, and so does every other outcome: a bad parameter, a client
that sends If-None-Match (304 or not), a body large enough to gzip, and a read that failed
(no snapshot, an unknown name, Redis down), handed over with its error so Redis is not asked
twice. tests/unit/test_fast_path.py compares both paths' answers, every header and byte.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  registers the codec error handler werkzeug's parse uses
from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException

from api_service.answers import GZIP_MIN_BYTES, data_headers, etag_for
from api_service.formats import CONTENT_TYPES, format_of
from api_service.metrics import COUNTER
from api_service.params import metric_name, switch_id
from api_service.state import EXTENSION, ApiState
from api_service.views import GETMETRIC, READ_FAILED, metric_body, metric_key
from telemetry_common.reader import read_metric

PATH = GETMETRIC  # also the route label its answers are counted under
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _asked(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """Return the format, switch and metric asked, or None when a check fails."""
    try:  # as werkzeug parses request.args
        query = environ.get("QUERY_STRING", "").encode("latin1").decode()
        args = ImmutableMultiDict(
            parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote")
        )
        if "rate" in args or "generation" in args:  # answered by the view alone
            return None
        return format_of(args, environ.get("HTTP_ACCEPT")), switch_id(args), metric_name(args)
    except (HTTPException, LookupError, UnicodeError, ValueError):
        return None


class FastGetMetric:
    """Answer GetMetric's 200s itself; hand everything else to ``inner``, the Flask app."""

    def __init__(self, app: Flask, inner: WSGIApp) -> None:
        self.state: ApiState = app.extensions[EXTENSION]
        self.answered = app.extensions.get(COUNTER)  # None: the app counts nothing
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
        asked = _asked(environ)
        if asked is None:
            return self.inner(environ, start_response)
        fmt, switch, metric = asked
        try:
            found = read_metric(self.state.redis, self.state.keys, switch, metric)
        except Exception as error:  # the Flask app answers it, as if it had read it
            environ[READ_FAILED] = error
            return self.inner(environ, start_response)
        info = found.info
        age = info.age(time.time())
        body = metric_body(fmt, found, age)
        if len(body) >= GZIP_MIN_BYTES:  # its gzip rules are answers.py's
            return self.inner(environ, start_response)
        headers = data_headers(info, etag_for(info, fmt, metric_key(switch, metric)), age)
        headers += [("Content-Type", CONTENT_TYPES[fmt]), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers)
        if self.answered is not None:
            self.answered(time.perf_counter() - started, age, info.generation)
        return [body]
