"""Call a tick function on a fixed monotonic schedule in a daemon thread."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


def next_due(due: float, now: float, interval: float) -> float:
    """Return the first slot of the schedule ``due + k * interval`` (k >= 1) after ``now``."""
    following = due + interval
    if now < following:
        return following
    # Overran: skip the missed slots instead of running them back to back.
    return following + (math.floor((now - following) / interval) + 1) * interval


class Ticker:
    """Runs ``tick`` every ``interval`` seconds until stopped; late ticks skip, never burst."""

    def __init__(
        self,
        tick: Callable[[], object],
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tick = tick
        self._interval = interval
        self._clock = clock
        self._stop = threading.Event()
        self._late = False
        self.thread: threading.Thread | None = None

    def start(self) -> threading.Thread:
        """Start the daemon thread and return it."""
        self.thread = threading.Thread(target=self.run, name="generator-ticker", daemon=True)
        self.thread.start()
        return self.thread

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to stop and wait for the thread, if any."""
        self._stop.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def run(self) -> None:
        """Tick on schedule until ``stop()``; log a failed tick and carry on."""
        logger.info("ticking every %g s", self._interval)
        due = self._clock() + self._interval
        while not self._stop.wait(max(0.0, due - self._clock())):
            started = self._clock()
            try:
                self._tick()
            except Exception:
                logger.exception("tick failed; trying again at the next slot")
            now = self._clock()
            self._note_duration(now - started)
            due = next_due(due, now, self._interval)

    def _note_duration(self, took: float) -> None:
        if took > self._interval:
            if not self._late:
                logger.warning(
                    "a tick took %.3f s, longer than the %g s interval; skipping missed ticks",
                    took,
                    self._interval,
                )
            self._late = True
        elif self._late:
            logger.info("ticks fit their interval again (%.3f s)", took)
            self._late = False
