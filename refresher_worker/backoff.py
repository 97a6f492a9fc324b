"""Capped exponential backoff, and a flag that logs a state change once instead of every retry.

The delays are redis-py's ``ExponentialBackoff`` (``min(cap, base * 2**n)``); its classes are
stateless, so ``Backoff`` counts the attempts and shortens each delay by a little jitter, so
that processes that failed together do not retry in step.
"""

from __future__ import annotations

import logging
import random

from redis.backoff import ExponentialBackoff

MAX_DOUBLINGS = 64  # past this the cap rules anyway; a larger exponent overflows a float


class Backoff:
    """Delays of ``base * 2**n`` seconds, never more than ``cap``, shortened by up to ``jitter``."""

    def __init__(self, base: float = 0.25, cap: float = 5.0, jitter: float = 0.1) -> None:
        if base <= 0 or cap < base or not 0 <= jitter < 1:
            raise ValueError("backoff needs 0 < base <= cap and 0 <= jitter < 1")
        self.delays = ExponentialBackoff(cap=cap, base=base)
        self.jitter = jitter
        self.attempts = 0

    def next(self) -> float:
        """Return the delay before the next attempt, and count the attempt."""
        delay: float = self.delays.compute(min(self.attempts, MAX_DOUBLINGS))
        self.attempts += 1
        return delay * (1 - self.jitter * random.random())

    def reset(self) -> None:
        """Start again from the base delay (after a success)."""
        self.attempts = 0


class Condition:
    """A named condition (e.g. "Redis") that is up or down; each change is logged once.

    The log lines carry the events ``<event>_down`` and ``<event>_back`` (``event`` defaults
    to the name's first word in lower case: ``redis_down``) with the condition's name.
    """

    def __init__(
        self, name: str, logger: logging.Logger, up: bool = True, event: str | None = None
    ) -> None:
        self.name = name
        self.logger = logger
        self.up = up
        self.failures = 0
        self.event = event or name.split()[0].lower()

    def mark_down(self, error: object) -> bool:
        """Record a failure; log it if the condition was up, and return whether it was."""
        self.failures += 1
        if not self.up:
            self.logger.debug("%s still down: %s", self.name, error)
            return False
        self.up = False
        self.logger.warning(
            "%s down: %s (retrying with backoff)",
            self.name,
            error,
            extra={"event": f"{self.event}_down", "condition": self.name, "error": str(error)},
        )
        return True

    def mark_up(self) -> bool:
        """Record a success; log it if the condition was down, and return whether it was."""
        if self.up:
            return False
        self.logger.info(
            "%s back after %d failed attempts",
            self.name,
            self.failures,
            extra={"event": f"{self.event}_back", "condition": self.name},
        )
        self.up = True
        self.failures = 0
        return True
