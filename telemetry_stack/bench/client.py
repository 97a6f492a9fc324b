"""One keep-alive connection of a bench worker: send a request, read its answer, report it.

The connection is an asyncio protocol driven by callbacks (no coroutine per request): each
answer, as soon as it is complete, is handed to the worker, which sends the next request on the
same connection.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from telemetry_stack.bench.answers import Asked
from telemetry_stack.bench.http import Answer, AnswerReader

if TYPE_CHECKING:
    from telemetry_stack.bench.stats import Tally


class Owner(Protocol):
    """What a connection reports to (the worker)."""

    def ready(self, client: Client) -> None:
        """Send the next request on ``client``, or let it rest."""

    def answered(self, client: Client, answer: Answer) -> None:
        """Count the answer to the request in flight on ``client``."""

    def broken(self, client: Client, reason: str) -> None:
        """Count a request that failed without an answer (protocol or connection error)."""

    def closed(self, client: Client) -> None:
        """Reconnect ``client`` after its connection ended."""


class Client(asyncio.Protocol):
    """One connection and the request in flight on it."""

    def __init__(self, owner: Owner) -> None:
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self.reader = AnswerReader()
        self.asked: Asked | None = None
        self.sent_at = 0.0
        self.tally: Tally | None = None  # where the answer is counted (warm-up or measured)
        self.served = 0  # answers on this connection
        self.resend = False  # resend ``asked`` on a fresh connection, once

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start sending."""
        self.transport = transport  # type: ignore[assignment]
        self.owner.ready(self)

    def data_received(self, data: bytes) -> None:
        """Hand a complete answer to the owner."""
        try:
            answer = self.reader.feed(data)
        except ValueError as exc:
            self.owner.broken(self, f"protocol error: {exc}")
            self.abort()
            return
        if answer is not None:
            self.owner.answered(self, answer)

    def eof_received(self) -> bool | None:
        """Let the transport close: an answer that runs to the end is finished there."""
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """Finish an answer read until close, or fail or resend the request in flight."""
        self.transport = None
        answer = self.reader.finish()
        if answer is not None and self.asked is not None:
            self.owner.answered(self, answer)
        elif self.asked is not None:
            # A reused keep-alive connection the server closed before answering: resend once.
            self.resend = self.served > 0 and not self.reader.pending
            if not self.resend:
                self.owner.broken(self, "connection lost")
        self.owner.closed(self)

    def send(self, request: bytes) -> None:
        """Write one request."""
        if self.transport is not None:
            self.transport.write(request)

    def abort(self) -> None:
        """Drop the connection at once."""
        if self.transport is not None:
            self.transport.abort()
