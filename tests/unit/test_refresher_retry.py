"""A failed refresh is retried sooner than the next tick, with a backoff capped at the interval."""

from __future__ import annotations

import threading
import time

import fakeredis
import pytest

from refresher_worker.retry import SourceRetry
from refresher_worker.scheduler import Scheduler
from refresher_worker.settings import RefresherSettings
from refresher_worker.status import Outcome, record
from telemetry_common.keys import Keys

KEYS = Keys()
FAILED = Outcome("failed", 0.1, error_kind="source_unreachable", error="refused")
WRITTEN = Outcome("written", 0.1, generation=1)


def test_no_retry_is_asked_before_the_outcome_is_known(fake: fakeredis.FakeRedis) -> None:
    retry = SourceRetry(fake, KEYS, interval=4.0)
    assert retry.delay() is None
    retry.enqueued()
    assert retry.delay() is None  # still running
    record(fake, KEYS, FAILED, "w")
    assert retry.delay() == pytest.approx(0.5, rel=0.11)  # the backoff's jitter is 10 %
    assert retry.delay() is None  # asked once per failure


def test_retries_back_off_up_to_the_interval_and_reset_on_success(
    fake: fakeredis.FakeRedis,
) -> None:
    retry = SourceRetry(fake, KEYS, interval=4.0)
    retry.backoff.jitter = 0
    delays = []
    for _ in range(5):
        retry.enqueued()
        record(fake, KEYS, FAILED, "w")
        delays.append(retry.delay())
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0]
    retry.enqueued()
    record(fake, KEYS, WRITTEN, "w")
    assert retry.delay() is None
    retry.enqueued()
    record(fake, KEYS, FAILED, "w")
    assert retry.delay() == 0.5


def test_the_leader_brings_the_next_tick_forward_after_a_failure(
    fake: fakeredis.FakeRedis,
) -> None:
    calls: list[str] = []

    def enqueue(connection: object, *, reason: str, timeout: int, job_id: str) -> bool:
        calls.append(reason)
        return True

    settings = RefresherSettings(interval=4.0, ttl=10, fetch_timeout=1.0)
    scheduler = Scheduler(fake, settings, "a", threading.Event(), enqueue=enqueue)
    scheduler.step()
    assert len(calls) == 1  # no snapshot yet: refresh at once
    assert scheduler.next_tick - time.monotonic() > 3.5
    record(fake, KEYS, FAILED, "a")
    scheduler.step()
    assert scheduler.next_tick - time.monotonic() <= 0.55
