"""A refresh job left behind by a killed or frozen refresher does not hold the refresh up."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import fakeredis
import pytest
from rq.job import Job, JobStatus

from refresher_worker import jobs
from refresher_worker.fetch import fetch_counters
from refresher_worker.refresh import refresh_once
from refresher_worker.scheduler import Scheduler
from refresher_worker.settings import RefresherSettings
from refresher_worker.stale import handover_id, next_job_id, stale_reason, worker_identity
from refresher_worker.worker import RefreshWorker
from telemetry_common.jobs import FAILURE_TTL, enqueue_refresh, refresh_queue
from telemetry_common.keys import QUEUE_NAME, REFRESH_JOB_ID, Keys
from telemetry_common.reader import read_info
from tests.helpers.jobs import started_by
from tests.helpers.source import StubSource

HANDOVER = "telemetry-refresh-after-host-12-ab01-0"


def test_worker_names_map_to_refresher_identities() -> None:
    assert worker_identity("host.example-12-ab01.3") == "host.example-12-ab01"
    assert worker_identity("0123456789abcdef") is None  # a plain `rq worker`
    assert worker_identity(".3") is None
    assert handover_id("host.example-12-ab01.3") == "telemetry-refresh-after-host-example-12-ab01-3"


def test_a_job_whose_worker_stopped_beating_is_handed_over(fake: fakeredis.FakeRedis) -> None:
    started_by(fake, "host-12-ab01.0")
    seen: list[str] = []

    def alive(identity: str) -> bool:
        seen.append(identity)
        return False

    step = next_job_id(fake, REFRESH_JOB_ID, max_age=60, alive=alive)
    assert step == (HANDOVER, "its worker host-12-ab01.0 stopped beating")
    assert seen == ["host-12-ab01"]
    # The stuck job stays as it is: its worker may still wake up and close it.
    assert refresh_queue(fake).fetch_job(REFRESH_JOB_ID).get_status() == JobStatus.STARTED
    assert not enqueue_refresh(fake, reason="again")
    assert enqueue_refresh(fake, reason="again", job_id=HANDOVER)
    assert not enqueue_refresh(fake, reason="twice", job_id=HANDOVER)  # still one at a time


def test_rq_itself_releases_the_stuck_id_once_the_execution_expires(
    fake: fakeredis.FakeRedis,
) -> None:
    job, _ = started_by(fake, "host-12-ab01.0")
    registry = refresh_queue(fake).started_job_registry
    registry.cleanup()  # rq: a SimpleWorker's execution lasts job_timeout + 60 s
    assert job.get_status() == JobStatus.STARTED
    registry.cleanup(timestamp=time.time() + 30 + 60 + 1)
    assert job.get_status() == JobStatus.FAILED
    assert 0 < fake.ttl(Job.key_for(REFRESH_JOB_ID)) <= FAILURE_TTL


def test_a_job_of_a_live_worker_is_kept(fake: fakeredis.FakeRedis) -> None:
    started_by(fake, "host-12-ab01.0")
    assert next_job_id(fake, REFRESH_JOB_ID, max_age=60, alive=lambda identity: True) is None
    assert not enqueue_refresh(fake, reason="again")


def test_a_job_older_than_any_refresh_is_stale(fake: fakeredis.FakeRedis) -> None:
    assert enqueue_refresh(fake, reason="test")
    job = refresh_queue(fake).fetch_job(REFRESH_JOB_ID)
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert stale_reason(job, max_age=60, alive=lambda _: True, now=later) is None
    reason = stale_reason(job, max_age=20, alive=lambda _: True, now=later)
    assert reason is not None and reason.startswith("queued for 30 s")


def test_a_job_queued_for_too_long_is_deleted_and_its_id_reused(
    fake: fakeredis.FakeRedis,
) -> None:
    assert enqueue_refresh(fake, reason="test")
    job = refresh_queue(fake).fetch_job(REFRESH_JOB_ID)
    job.enqueued_at = datetime.now(UTC) - timedelta(seconds=30)
    job.save()
    step = next_job_id(fake, REFRESH_JOB_ID, max_age=20, alive=lambda _: True)
    assert step is not None and step[0] == REFRESH_JOB_ID
    assert step[1].startswith("queued for 30 s")
    assert refresh_queue(fake).count == 0
    assert enqueue_refresh(fake, reason="again")


def test_no_job_no_action(fake: fakeredis.FakeRedis) -> None:
    assert next_job_id(fake, REFRESH_JOB_ID, max_age=1, alive=lambda _: False) is None


def test_the_leader_hands_over_and_says_so_once(
    fake: fakeredis.FakeRedis, caplog: pytest.LogCaptureFixture
) -> None:
    started_by(fake, "host-12-ab01.0")
    settings = RefresherSettings(interval=4.0, ttl=10, fetch_timeout=1.0)
    scheduler = Scheduler(fake, settings, "leader-1-cd02", threading.Event())
    caplog.set_level(logging.INFO, logger="refresher_worker")
    scheduler.step()
    assert refresh_queue(fake).fetch_job(HANDOVER).get_status() == JobStatus.QUEUED
    refresh_queue(fake).fetch_job(HANDOVER).delete()  # as when it ran
    scheduler.next_tick = 0.0
    scheduler.step()
    assert scheduler.enqueued == 2
    stale = [r for r in caplog.records if "is stale" in r.getMessage()]
    assert [(r.levelno, r.getMessage()) for r in stale] == [
        (
            logging.WARNING,
            "refresh job telemetry-refresh is stale (its worker host-12-ab01.0 stopped "
            f"beating): refreshing as {HANDOVER}",
        )
    ]


def test_a_job_that_resumes_after_a_newer_snapshot_logs_no_error(
    fake: fakeredis.FakeRedis,
    stub: StubSource,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A frozen refresh wakes up after a standby has published a newer snapshot."""
    settings = RefresherSettings(source_url=stub.url, interval=4.0, ttl=10, fetch_timeout=1.0)
    jobs.configure(settings, "frozen-1-ab01.0", client=fake)
    leader = Scheduler(fake, settings, "leader-2-cd02", threading.Event())
    woke: list[bool] = []

    def fetch_while_frozen(url: str, **kwargs: object) -> object:
        if not woke:  # frozen here: no heartbeat; the leader asks, the standby writes
            woke.append(True)
            leader.step()
            standby = RefreshWorker([QUEUE_NAME], connection=fake, name="leader-2-cd02.0")
            standby.work(burst=True)
        return fetch_counters(url, **kwargs)  # type: ignore[arg-type]

    def frozen_refresh(*args: object, **kwargs: object) -> object:
        return refresh_once(*args, **kwargs, fetch=fetch_while_frozen)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "refresh_once", frozen_refresh)
    caplog.set_level(logging.DEBUG)
    assert enqueue_refresh(fake, reason="test")
    RefreshWorker([QUEUE_NAME], connection=fake, name="frozen-1-ab01.0").work(burst=True)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert not any(r.exc_info or "Traceback" in r.getMessage() for r in caplog.records)
    assert read_info(fake, Keys()).generation == 1  # the standby's; the late one wrote nothing
    assert fake.hget(Keys().status, "refreshes_fenced") == b"1"
    assert fake.hget(Keys().status, "refreshes_written") == b"1"
    assert not fake.exists(Job.key_for(REFRESH_JOB_ID))  # closed by rq as usual: id free
    assert enqueue_refresh(fake, reason="next")
    said = {(r.levelno, r.getMessage().split(":")[0]) for r in caplog.records}
    stale = "refresh job telemetry-refresh is stale (its worker frozen-1-ab01.0 stopped beating)"
    assert (logging.WARNING, stale) in said
    assert (logging.WARNING, "refresh fenced") in said
