"""The refresh job runs where there is no SIGALRM (Windows): rq's timer-thread timeouts."""

from __future__ import annotations

import signal

import fakeredis
import pytest
from rq.timeouts import TimerDeathPenalty, get_default_death_penalty_class

from refresher_worker import jobs
from refresher_worker.settings import RefresherSettings
from refresher_worker.worker import RefreshWorker
from telemetry_common.jobs import enqueue_refresh
from telemetry_common.keys import QUEUE_NAME, Keys
from telemetry_common.reader import read_info
from tests.helpers.source import StubSource


@pytest.fixture
def no_sigalrm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove SIGALRM and alarm() from the signal module, as on Windows."""
    monkeypatch.delattr(signal, "SIGALRM")
    monkeypatch.delattr(signal, "alarm")


def test_rq_times_jobs_with_a_thread_where_there_is_no_sigalrm(no_sigalrm: None) -> None:
    assert get_default_death_penalty_class() is TimerDeathPenalty


def test_a_refresh_job_runs_under_timer_timeouts(
    no_sigalrm: None, fake: fakeredis.FakeRedis, stub: StubSource
) -> None:
    jobs.configure(RefresherSettings(source_url=stub.url, fetch_timeout=0.5), "w.0", client=fake)
    assert enqueue_refresh(fake, reason="test")
    worker = RefreshWorker([QUEUE_NAME], connection=fake)
    worker.death_penalty_class = TimerDeathPenalty
    worker.work(burst=True)
    assert read_info(fake, Keys()).generation == 1
    assert len(stub.seen_etags) == 1
