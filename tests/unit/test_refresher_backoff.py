"""Backoff delays grow and stop at the cap; a condition logs each change of state once."""

from __future__ import annotations

import logging

import pytest

from refresher_worker.backoff import Backoff, Condition


def test_delays_double_up_to_the_cap_and_stay_there() -> None:
    backoff = Backoff(base=0.25, cap=2.0, jitter=0)
    assert [backoff.next() for _ in range(7)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0, 2.0]


def test_reset_starts_from_the_base_again() -> None:
    backoff = Backoff(base=0.1, cap=1.0, jitter=0)
    for _ in range(10):
        backoff.next()
    backoff.reset()
    assert backoff.next() == 0.1


def test_jitter_only_shortens_and_never_passes_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=3.0, jitter=0.5)
    delays = [backoff.next() for _ in range(200)]
    assert all(0 < d <= 3.0 for d in delays)
    assert max(delays[5:]) <= 3.0 and min(delays[5:]) >= 1.5


def test_a_huge_number_of_attempts_does_not_overflow() -> None:
    backoff = Backoff(base=0.1, cap=5.0, jitter=0)
    backoff.attempts = 10_000
    assert backoff.next() == 5.0


@pytest.mark.parametrize("args", [(0, 1), (2, 1), (1, 2, -0.1), (1, 2, 1.0)])
def test_nonsense_parameters_are_refused(args: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        Backoff(*args)


def test_a_condition_logs_down_and_back_once_each(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.condition")
    caplog.set_level(logging.INFO, logger="test.condition")
    redis_state = Condition("Redis", logger)
    assert redis_state.mark_up() is False
    assert [redis_state.mark_down(f"error {n}") for n in range(5)] == [True] + [False] * 4
    assert redis_state.mark_up() is True and redis_state.mark_up() is False
    assert [r.getMessage() for r in caplog.records] == [
        "Redis down: error 0 (retrying with backoff)",
        "Redis back after 5 failed attempts",
    ]
