"""A refresh job left behind by a killed refresher does not hold the unique id for long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fakeredis
from rq.job import Job

from refresher_worker.stale import clear_stale_refresh, stale_reason, worker_identity
from telemetry_common.jobs import enqueue_refresh
from telemetry_common.keys import REFRESH_JOB_ID


def started_by(fake: fakeredis.FakeRedis, worker_name: str) -> Job:
    assert enqueue_refresh(fake, reason="test")
    job = Job.fetch(REFRESH_JOB_ID, connection=fake)
    pipe = fake.pipeline()
    job.prepare_for_execution(worker_name, pipe)
    pipe.execute()
    return job


def test_worker_names_map_to_refresher_identities() -> None:
    assert worker_identity("host.example-12-ab01.3") == "host.example-12-ab01"
    assert worker_identity("0123456789abcdef") is None  # a plain `rq worker`
    assert worker_identity(".3") is None


def test_a_job_whose_worker_stopped_beating_is_deleted(fake: fakeredis.FakeRedis) -> None:
    started_by(fake, "host-12-ab01.0")
    seen: list[str] = []

    def alive(identity: str) -> bool:
        seen.append(identity)
        return False

    reason = clear_stale_refresh(fake, max_age=60, alive=alive)
    assert reason == "its worker host-12-ab01.0 stopped beating"
    assert seen == ["host-12-ab01"]
    assert enqueue_refresh(fake, reason="again")


def test_a_job_of_a_live_worker_is_kept(fake: fakeredis.FakeRedis) -> None:
    started_by(fake, "host-12-ab01.0")
    assert clear_stale_refresh(fake, max_age=60, alive=lambda identity: True) is None
    assert not enqueue_refresh(fake, reason="again")


def test_a_job_older_than_any_refresh_is_deleted(fake: fakeredis.FakeRedis) -> None:
    assert enqueue_refresh(fake, reason="test")
    job = Job.fetch(REFRESH_JOB_ID, connection=fake)
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert stale_reason(job, max_age=60, alive=lambda _: True, now=later) is None
    reason = stale_reason(job, max_age=20, alive=lambda _: True, now=later)
    assert reason is not None and reason.startswith("queued for 30 s")


def test_no_job_no_action(fake: fakeredis.FakeRedis) -> None:
    assert clear_stale_refresh(fake, max_age=1, alive=lambda _: False) is None
