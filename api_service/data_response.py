"""A data answer's response: a bytes body and headers that answers.py built, sent as they are.

werkzeug checks every header value as it is added, and copies and checks them all again before
sending, to fix redirect locations and lengths these answers never have. Here the values are
numbers and constants made by answers.py (no client text, no line break), so both passes are
skipped: the second through werkzeug's public hook, ``get_wsgi_headers``; the first by handing
the list to werkzeug's own storage, the private ``Headers._list``. Measured per answer, one
process, busy machine: 5.0 us this way, 14.2 us through the public ``Headers(list)`` (a plain
Response with only a content type: 6.0 us), so the private step saved about 9 us of the
API's 200 us per GetMetric, about a quarter of its cost over a plain Flask app, before
GetMetric's 200s moved to fast_path.py; it still serves every other data answer. pyproject.toml
bounds werkzeug to the versions tested, tests/unit/test_library_internals.py fails by name if
the attribute is gone, and without it the public constructor is used.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from werkzeug.datastructures import Headers

PRIVATE_LIST = isinstance(getattr(Headers(), "_list", None), list)


class DataResponse(Response):
    """A 200 answer whose headers, given as (name, value) pairs, go out as they are."""

    def __init__(self, body: bytes, headers: list[tuple[str, str]]) -> None:
        headers.append(("Content-Length", str(len(body))))
        if PRIVATE_LIST:
            ready = Headers()
            ready._list = headers
        else:
            ready = Headers(headers)
        super().__init__(None, 200, ready)
        self.response = [body]

    def get_wsgi_headers(self, environ: Any) -> Headers:
        """Return the headers unchanged."""
        return self.headers
