"""Wrap a data body in its response: generation, age, ETag, Cache-Control, and 304 when unchanged.

The ETag names the snapshot's generation, the format and a checksum of the request, so one
generation answers the same request with the same tag; a client that sends it back gets a
bodiless 304 and the body is never rendered.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable

from flask import Request, Response
from werkzeug.http import parse_etags

from api_service.formats import CONTENT_TYPES
from telemetry_common.snapshot import SnapshotInfo

GENERATION_HEADER = "X-Telemetry-Generation"
AGE_HEADER = "X-Telemetry-Age"

# Renders the body from the data's age in seconds.
Render = Callable[[float], bytes]


def etag_for(info: SnapshotInfo, fmt: str, request_key: str) -> str:
    """Return the unquoted ETag of one request's answer from one snapshot."""
    return f"{info.generation}-{fmt}-{zlib.crc32(request_key.encode()):08x}"


def _not_modified(request: Request, etag: str) -> bool:
    header = request.environ.get("HTTP_IF_NONE_MATCH")
    return header is not None and parse_etags(header).contains_weak(etag)


def answer(
    request: Request, info: SnapshotInfo, fmt: str, request_key: str, render: Render
) -> Response:
    """Return the data response for ``request``, or 304 when the client holds this answer."""
    age = info.age(time.time())
    etag = etag_for(info, fmt, request_key)
    headers = [
        ("ETag", f'"{etag}"'),
        ("Cache-Control", f"max-age={int(info.expires_in)}"),
        ("Vary", "Accept"),
        (GENERATION_HEADER, str(info.generation)),
        (AGE_HEADER, f"{age:.3f}"),
    ]
    if _not_modified(request, etag):
        return Response(status=304, headers=headers)
    return Response(render(age), 200, headers, content_type=CONTENT_TYPES[fmt])
