"""Ask the refreshers for a snapshot when the API finds none, at most once per cooldown.

The API sets the refresh request key; the leading refresher turns it into its one unique RQ
job (telemetry_common/jobs.py). The cooldown spares Redis a write per request while a cold
start heals. Each ask returns the sentence the 503 says
about it, true to what happened: a refresh is requested only when the request was written;
when writing it failed, the client is told so.
"""

from __future__ import annotations

import logging
import threading
import time

import redis

from telemetry_common.jobs import request_refresh
from telemetry_common.keys import Keys

logger = logging.getLogger(__name__)

REQUESTED = "a refresh is requested"


class RefreshAsker:
    """Request a refresh when asked, unless one was asked for less than ``cooldown`` ago."""

    def __init__(self, cooldown: float) -> None:
        self.cooldown = cooldown
        self.asked = 0  # how many times this process wrote a request
        self.failed = 0  # how many of those writes failed
        self._next = 0.0
        self._said = REQUESTED  # the answer of the last call, repeated during the cooldown
        self._lock = threading.Lock()

    def ask(self, client: redis.Redis, keys: Keys, reason: str) -> str:
        """Request a refresh unless one was asked for recently; return what to tell the client."""
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                return self._said
            self._next = now + self.cooldown
            self.asked += 1
        try:
            request_refresh(client, keys, reason=reason)
        except redis.RedisError as exc:
            logger.warning("could not ask for a refresh: %s", exc)
            self.failed += 1
            self._said = f"requesting a refresh failed ({_failure(exc)})"
            return self._said
        logger.info("asked the refreshers for a snapshot (%s)", reason)
        self._said = REQUESTED
        return self._said


def _failure(exc: redis.RedisError) -> str:
    """Return why queueing failed, in a few words safe to show a client."""
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return "the queue's Redis is unreachable"
    if isinstance(exc, redis.ReadOnlyError):
        return "the queue's Redis is a read-only replica"
    return "the queue's Redis refused it"
