"""Wrap a data body in its response: generation, age, ETag, Cache-Control, and 304 when unchanged.

The ETag names the snapshot's random id, the format and a checksum of the request, so one
snapshot answers the same request with the same tag; a client that sends it back gets a
bodiless 304 and the body is never rendered. The id, unlike the generation, never names two
snapshots, even after Redis lost its data and the generation counter started again.

A body of GZIP_MIN_BYTES or more is gzipped (level 1) when the client accepts gzip, and its
ETag ends in ``-gzip``. Level 1 shrank ListMetrics 2x (CSV) to 4.5x (JSON) at 25-110 MB/s of
one busy core: it pays for clients on links slower than about 100-300 Mbit/s (CSV) or
300-700 Mbit/s (JSON), and costs time on a fast LAN or loopback, where clients can leave gzip
out of Accept-Encoding (docs/benchmarks.md). Below 8 KiB an answer is a few packets either way.
"""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Callable
from typing import Any, NamedTuple

from flask import Request, Response
from werkzeug.datastructures import Headers
from werkzeug.http import parse_accept_header, parse_etags

from api_service.formats import CONTENT_TYPES
from telemetry_common.snapshot import SnapshotInfo

GENERATION_HEADER = "X-Telemetry-Generation"
AGE_HEADER = "X-Telemetry-Age"
SNAPSHOT_HEADER = "X-Telemetry-Snapshot"
PREVIOUS_HEADER = "X-Telemetry-Previous"
SERVED = "telemetry.served"  # where a data answer leaves (age, generation) for metrics.py

GZIP_MIN_BYTES = 8192
GZIP_LEVEL = 1
# Renders the body from the data's age in seconds.
Render = Callable[[float], bytes]


class Answer(NamedTuple):
    """A data answer as it is sent: status, headers in order, body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def etag_for(info: SnapshotInfo, fmt: str, request_key: str) -> str:
    """Return the unquoted ETag of one request's answer from one snapshot."""
    snapshot = info.snapshot or f"g{info.generation}"  # no id: written by an older refresher
    return f"{snapshot}-{fmt}-{zlib.crc32(request_key.encode()):08x}"


def _held(environ: dict[str, Any], etag: str) -> str | None:
    """Return the tag (plain or gzipped variant) the client already holds, if any."""
    header = environ.get("HTTP_IF_NONE_MATCH")
    if header is None:
        return None
    held = parse_etags(header)
    return next((tag for tag in (etag, etag + "-gzip") if held.contains_weak(tag)), None)


def _gzip_accepted(environ: dict[str, Any]) -> bool:
    header = environ.get("HTTP_ACCEPT_ENCODING")
    return header is not None and "gzip" in header and parse_accept_header(header)["gzip"] > 0


def data_headers(info: SnapshotInfo, etag: str, age: float) -> list[tuple[str, str]]:
    """Return a data answer's headers but its type and length, in the order they are sent."""
    headers = [
        ("ETag", f'"{etag}"'),
        ("Cache-Control", f"max-age={int(info.expires_in)}"),
        ("Vary", "Accept, Accept-Encoding"),
        (GENERATION_HEADER, str(info.generation)),
        (SNAPSHOT_HEADER, info.snapshot),
        (AGE_HEADER, f"{age:.3f}"),
    ]
    if info.previous is not None:  # what rate=true and generation=N can start from
        headers.append((PREVIOUS_HEADER, str(info.previous)))
    return headers


def data_answer(
    environ: dict[str, Any],
    info: SnapshotInfo,
    fmt: str,
    request_key: str,
    render: Render,
    extra: list[tuple[str, str]] | None = None,
) -> Answer:
    """Return the data answer to the request of ``environ``: 304 when the client holds it.

    ``extra`` headers (a rate's interval, paging) follow the data headers.
    """
    age = info.age(time.time())
    environ[SERVED] = (age, info.generation)
    etag = etag_for(info, fmt, request_key)
    headers = data_headers(info, etag, age) + (extra or [])
    held = _held(environ, etag)
    if held is not None:
        headers[0] = ("ETag", f'"{held}"')
        return Answer(304, headers, b"")
    headers.append(("Content-Type", CONTENT_TYPES[fmt]))
    body = render(age)
    if len(body) >= GZIP_MIN_BYTES and _gzip_accepted(environ):
        body = gzip.compress(body, GZIP_LEVEL, mtime=0)
        headers[0] = ("ETag", f'"{etag}-gzip"')
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Length", str(len(body))))
    return Answer(200, headers, body)


class DataResponse(Response):
    """A 200 whose headers, built here from numbers and constants, go out as they are.

    werkzeug copies and checks every header again before sending, to fix redirect locations
    and lengths these answers never have; its public hook ``get_wsgi_headers`` skips that.
    """

    def __init__(self, body: bytes, headers: list[tuple[str, str]]) -> None:
        super().__init__(None, 200, Headers(headers))
        self.response = [body]

    def get_wsgi_headers(self, environ: Any) -> Headers:
        """Return the headers unchanged."""
        return self.headers


def response(answer: Answer) -> Response:
    """Return ``answer`` as Flask's response."""
    if answer.status == 304:
        return Response(status=304, headers=answer.headers)
    return DataResponse(answer.body, answer.headers)


def answer(
    request: Request,
    info: SnapshotInfo,
    fmt: str,
    request_key: str,
    render: Render,
    extra: list[tuple[str, str]] | None = None,
) -> Response:
    """Return the data response for ``request`` (see data_answer)."""
    return response(data_answer(request.environ, info, fmt, request_key, render, extra))
