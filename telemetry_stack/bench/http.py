"""Read HTTP/1.1 answers from a byte stream: status, the headers the bench needs, and the body.

A minimal incremental parser for a client that sends one request at a time on a keep-alive
connection: bodies sized by Content-Length, chunked, or read until the server closes.
"""

from __future__ import annotations

from dataclasses import dataclass


class ProtocolError(ValueError):
    """The bytes are not an HTTP/1.x answer."""


@dataclass(slots=True)
class Answer:
    """One HTTP answer as the bench uses it."""

    status: int
    body: bytes
    age: float | None = None  # X-Telemetry-Age, seconds
    generation: int | None = None  # X-Telemetry-Generation
    close: bool = False  # the server closes the connection after this answer


class AnswerReader:
    """Collect bytes until one whole answer has arrived."""

    __slots__ = ("_buffer", "_head")

    def __init__(self) -> None:
        self._buffer = b""
        self._head: tuple[Answer, int, bool] | None = None  # answer, length or -1, chunked

    @property
    def pending(self) -> bool:
        """Return whether part of an answer was received."""
        return bool(self._buffer) or self._head is not None

    def feed(self, data: bytes) -> Answer | None:
        """Add ``data``; return the answer once it is complete, else None."""
        buffer = self._buffer + data if self._buffer else data
        if self._head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > 65536:
                    raise ProtocolError("answer head longer than 64 KiB")
                self._buffer = buffer
                return None
            self._head = _parse_head(buffer[:end])
            buffer = buffer[end + 4 :]
        answer, length, chunked = self._head
        if chunked:
            body = _dechunk(buffer)
            if body is None:
                self._buffer = buffer
                return None
        elif length >= 0:
            if len(buffer) < length:
                self._buffer = buffer
                return None
            if len(buffer) > length:
                raise ProtocolError("bytes after the answer's body")
            body = buffer
        else:
            self._buffer = buffer  # the body ends when the server closes
            return None
        self._buffer, self._head = b"", None
        answer.body = body
        return answer

    def finish(self) -> Answer | None:
        """Return the answer whose body ran until the connection closed, if that is what it was."""
        if self._head is None or self._head[1] >= 0 or self._head[2]:
            return None
        answer = self._head[0]
        answer.body, self._buffer, self._head = self._buffer, b"", None
        return answer


def _parse_head(head: bytes) -> tuple[Answer, int, bool]:
    lines = head.split(b"\r\n")
    first = lines[0]
    if not first.startswith(b"HTTP/1.") or len(first) < 12 or not first[9:12].isdigit():
        raise ProtocolError(f"not an HTTP answer: {first[:40]!r}")
    answer = Answer(int(first[9:12]), b"", close=first.startswith(b"HTTP/1.0"))
    length, chunked = -1, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"x-telemetry-age":
            answer.age = float(value)
        elif name == b"x-telemetry-generation":
            answer.generation = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            answer.close = b"close" in value.lower()
    if answer.status in (204, 304) or 100 <= answer.status < 200:
        length = 0
    return answer, length, chunked


def _dechunk(data: bytes) -> bytes | None:
    """Return the body of complete chunked ``data``, or None while chunks are missing."""
    parts: list[bytes] = []
    at = 0
    while True:
        end = data.find(b"\r\n", at)
        if end < 0:
            return None
        size = int(data[at:end].split(b";", 1)[0], 16)
        if size == 0:
            trailer = data.find(b"\r\n\r\n", end)
            if data[end : end + 4] != b"\r\n\r\n" and trailer < 0:
                return None
            return b"".join(parts)
        start = end + 2
        if len(data) < start + size + 2:
            return None
        parts.append(data[start : start + size])
        at = start + size + 2
