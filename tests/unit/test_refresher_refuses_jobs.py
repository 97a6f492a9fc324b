"""Writing the refresh queue is not a way to run code in a refresher.

A refresher's worker runs the refresh function only, and reads jobs as JSON: a job naming any
other function fails without being imported or run, and a pickled job is never unpickled.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import fakeredis
from rq import Queue
from rq.job import JobStatus
from rq.serializers import DefaultSerializer

from refresher_worker.worker import RefreshWorker
from telemetry_common.jobs import refresh_queue
from telemetry_common.keys import QUEUE_NAME


class Payload:
    """Unpickling this runs a shell command: what a pickled job can carry."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


def test_a_job_naming_another_function_fails_without_running(
    fake: fakeredis.FakeRedis, tmp_path: Path
) -> None:
    mark = tmp_path / "ran"
    job = refresh_queue(fake).enqueue("os.system", f"touch {shlex.quote(str(mark))}")
    RefreshWorker([QUEUE_NAME], connection=fake).work(burst=True)
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert "refused: the job names 'os.system', not refresher_worker.jobs.refresh" in str(
        job.latest_result().exc_string  # type: ignore[union-attr]
    )
    assert not mark.exists()


def test_a_pickled_job_is_never_unpickled(fake: fakeredis.FakeRedis, tmp_path: Path) -> None:
    mark = tmp_path / "unpickled"
    pickled = Queue(QUEUE_NAME, connection=fake, serializer=DefaultSerializer)
    job = pickled.enqueue("refresher_worker.jobs.refresh", Payload(f"touch {mark}"))
    RefreshWorker([QUEUE_NAME], connection=fake).work(burst=True)
    assert not mark.exists()  # a worker of RQ's default serializer runs the command here
    assert job.id in pickled.failed_job_registry.get_job_ids()
    assert fake.hget(job.key, "status") == b"failed"
