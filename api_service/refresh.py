"""Ask the refreshers for a snapshot when the API finds none, at most once per cooldown.

RQ's unique job id already turns many asks into one fetch; the cooldown also spares Redis a
Lua call per request while a cold start heals.
"""

from __future__ import annotations

import logging
import threading
import time

import redis

from telemetry_common.jobs import enqueue_refresh

logger = logging.getLogger(__name__)


class RefreshAsker:
    """Queue a refresh job when asked, unless one was asked for less than ``cooldown`` ago."""

    def __init__(self, cooldown: float) -> None:
        self.cooldown = cooldown
        self.asked = 0  # how many times this process called enqueue_refresh
        self.queued = 0  # how many of those calls queued a new job
        self.failing = False  # the last call could not reach the queue
        self._next = 0.0
        self._lock = threading.Lock()

    def ask(self, client: redis.Redis, reason: str) -> bool:
        """Queue a refresh unless one was asked for recently; return whether a job was queued."""
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                return False
            self._next = now + self.cooldown
            self.asked += 1
        try:
            queued = enqueue_refresh(client, reason=reason)
        except redis.RedisError as exc:
            logger.warning("could not ask for a refresh: %s", exc)
            self.failing = True
            return False
        self.failing = False
        if queued:
            self.queued += 1
            logger.info("asked the refreshers for a snapshot (%s)", reason)
        return queued
