"""A data answer's response: a bytes body and headers that answers.py built, sent as they are.

werkzeug copies and checks every header again before sending, to fix redirect locations and
lengths these answers never have. Here the values are numbers and constants made by answers.py
(no client text, no line break), so that pass is skipped through werkzeug's public hook,
``get_wsgi_headers``. (Handing the list to werkzeug's private header storage saved about 9 us
more per answer; GetMetric's 200s, the hot path, are answered by fast_path.py without it.)
"""

from __future__ import annotations

from typing import Any

from flask import Response
from werkzeug.datastructures import Headers


class DataResponse(Response):
    """A 200 answer whose headers, given as (name, value) pairs, go out as they are."""

    def __init__(self, body: bytes, headers: list[tuple[str, str]]) -> None:
        headers.append(("Content-Length", str(len(body))))
        super().__init__(None, 200, Headers(headers))
        self.response = [body]

    def get_wsgi_headers(self, environ: Any) -> Headers:
        """Return the headers unchanged."""
        return self.headers
