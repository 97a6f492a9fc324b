"""The ticker's schedule: fixed slots on a monotonic clock, skipping rather than bursting."""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time

import pytest

from generator_service.ticker import Ticker, next_due
from tests.helpers import wait_for


def test_next_due_keeps_the_grid() -> None:
    assert next_due(10.0, 10.3, 1.0) == 11.0
    assert next_due(10.0, 10.999, 1.0) == 11.0


def test_next_due_skips_missed_slots() -> None:
    assert next_due(10.0, 11.0, 1.0) == 12.0
    assert next_due(10.0, 11.5, 1.0) == 12.0
    assert next_due(10.0, 13.2, 1.0) == 14.0
    assert next_due(0.0, 0.35, 0.1) == pytest.approx(0.4)


class Clock:
    """time.monotonic, remembering its first reading: the origin of the ticker's grid."""

    def __init__(self) -> None:
        self.origin: float | None = None

    def __call__(self) -> float:
        now = time.monotonic()
        if self.origin is None:
            self.origin = now
        return now

    def slot(self, at: float, interval: float) -> int:
        """Return the number of the grid's slot that ``at`` falls in (1 = the first tick's)."""
        assert self.origin is not None
        return math.floor((at - self.origin) / interval + 1e-4)  # + a rounding error


def test_ticks_run_on_schedule_in_a_daemon_thread() -> None:
    times: list[float] = []
    interval = 0.02
    clock = Clock()
    ticker = Ticker(lambda: times.append(time.monotonic()), interval, clock=clock)
    thread = ticker.start()
    assert thread.daemon
    wait_for(lambda: len(times) >= 5, 10, 0.01, "5 ticks")
    ticker.stop(timeout=1)
    assert not thread.is_alive()
    # A loaded machine may delay ticks (fewer of them), never add any: a late tick is skipped,
    # not caught up in a burst, so no two ticks fall in one slot of the grid, and none comes
    # before its slot.
    slots = [clock.slot(at, interval) for at in times]
    assert slots[0] >= 1
    assert all(b > a for a, b in itertools.pairwise(slots)), slots


def test_overrun_warns_once_per_episode_and_skips(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[float] = []
    done = threading.Event()

    def tick() -> None:
        calls.append(time.monotonic())
        if len(calls) <= 3:
            time.sleep(0.07)  # longer than the interval, three times in a row
        elif len(calls) >= 6:
            done.set()

    clock = Clock()
    ticker = Ticker(tick, 0.05, clock=clock)
    with caplog.at_level(logging.INFO, logger="generator_service.ticker"):
        ticker.start()
        assert done.wait(3)
        ticker.stop(timeout=1)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "longer than" in warnings[0].getMessage()
    assert any("fit their interval again" in r.getMessage() for r in caplog.records)
    # A 70 ms tick on a 50 ms schedule: the next one waits for the first slot after it ended
    # (100 ms after it began, when it began on time) instead of starting at once or catching up.
    ended = clock.slot(calls[0] + 0.07, 0.05)
    assert clock.slot(calls[1], 0.05) >= ended + 1


def test_failed_tick_is_logged_and_ticking_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    done = threading.Event()

    def tick() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        done.set()

    ticker = Ticker(tick, 0.01)
    ticker.start()
    assert done.wait(2)
    ticker.stop(timeout=1)
    assert any(r.exc_info for r in caplog.records if "tick failed" in r.getMessage())
