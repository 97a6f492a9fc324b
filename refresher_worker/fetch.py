"""Fetch the generator's table with a conditional GET, a total deadline and a size cap.

The standard library's HTTP client is used because it lets the socket timeout follow the
remaining time before every read: a server that sends one byte a second cannot stretch a
fetch past its deadline. A body that is cut short, too large or late raises SourceError.
"""

from __future__ import annotations

import base64
import http.client
import socket
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from telemetry_common.redis_urls import redacted

CHUNK = 1 << 16
TICK_HEADER = "X-Telemetry-Tick"
TICK_TIME_HEADER = "X-Telemetry-Tick-Time"


class SourceError(Exception):
    """The source gave no usable body; ``kind`` names the failure for the status hash."""

    kind = "source_unreachable"


class SourceTimeout(SourceError):
    """The source did not deliver the whole answer in time."""

    kind = "source_timeout"


class BodyTooLarge(SourceError):
    """The body is over the size limit; it was not read further."""

    kind = "body_too_large"


class BadResponse(SourceError):
    """The source answered, but not with a whole 200 or 304."""

    kind = "bad_response"


@dataclass(frozen=True)
class Fetched:
    """A complete body and what the source said about it."""

    body: bytes
    etag: str
    tick: str
    tick_time: float | None
    fetched_at: float


@dataclass(frozen=True)
class NotModified:
    """The source still serves the table we hold (304)."""

    etag: str


def fetch_counters(
    url: str, *, etag: str | None, timeout: float, max_bytes: int
) -> Fetched | NotModified:
    """Return the source's table, or NotModified for ``etag``; raise SourceError on failure."""
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Accept": "text/csv", "If-None-Match": etag} if etag else {"Accept": "text/csv"}
    if parts.username is not None:  # http://user:password@host/...: HTTP basic authentication
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    deadline = time.monotonic() + timeout
    conn = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    sock: socket.socket | None = None
    try:
        conn.connect()
        sock = conn.sock
        conn.request("GET", path, headers=headers)
        _set_timeout(sock, deadline)
        response = conn.getresponse()
        try:
            return _answer(response, sock, deadline, max_bytes, etag)
        finally:
            response.close()
    except TimeoutError:
        raise SourceTimeout(f"{redacted(url)}: no complete answer within {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise SourceError(redacted(f"{url}: {type(exc).__name__}: {exc}")) from None
    finally:
        conn.close()
        if sock is not None:
            sock.close()


def _answer(
    response: http.client.HTTPResponse,
    sock: socket.socket | None,
    deadline: float,
    max_bytes: int,
    etag: str | None,
) -> Fetched | NotModified:
    if response.status == 304:
        return NotModified(response.getheader("ETag") or etag or "")
    if response.status != 200:
        raise BadResponse(f"HTTP {response.status} {response.reason}")
    declared = _content_length(response)
    if declared is not None and declared > max_bytes:
        raise BodyTooLarge(f"Content-Length {declared} is over the limit of {max_bytes} bytes")
    chunks: list[bytes] = []
    total = 0
    while True:
        _set_timeout(sock, deadline)
        chunk = response.read1(CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise BodyTooLarge(f"body is over the limit of {max_bytes} bytes")
        chunks.append(chunk)
    if declared is not None and total != declared:
        raise BadResponse(f"connection closed after {total} of {declared} bytes")
    return Fetched(
        body=b"".join(chunks),
        etag=response.getheader("ETag") or "",
        tick=response.getheader(TICK_HEADER) or "",
        tick_time=_float_or_none(response.getheader(TICK_TIME_HEADER)),
        fetched_at=time.time(),
    )


def _set_timeout(sock: socket.socket | None, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    if sock is not None:
        sock.settimeout(remaining)


def _content_length(response: http.client.HTTPResponse) -> int | None:
    text = response.getheader("Content-Length")
    if text is None or response.getheader("Transfer-Encoding"):
        return None
    try:
        return int(text)
    except ValueError:
        raise BadResponse(f"invalid Content-Length {text!r}") from None


def _float_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
