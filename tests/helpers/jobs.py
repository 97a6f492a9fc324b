"""A refresh job taken by a worker, as rq records it, without running it."""

from __future__ import annotations

import redis
from rq import Queue, SimpleWorker
from rq.executions import Execution
from rq.job import Job

from telemetry_common.jobs import SERIALIZER, enqueue_refresh, refresh_queue
from telemetry_common.keys import REFRESH_JOB_ID


def started_by(client: redis.Redis, worker_name: str) -> tuple[Job, Execution]:
    """Queue the refresh job and have ``worker_name`` take it: it stays started."""
    assert enqueue_refresh(client, reason="test")
    queues = [refresh_queue(client)]
    job, queue = Queue.dequeue_any(queues, None, connection=client, serializer=SERIALIZER)
    assert job.id == REFRESH_JOB_ID
    worker = SimpleWorker([queue], connection=client, name=worker_name, serializer=SERIALIZER)
    execution = worker.prepare_execution(job)
    worker.prepare_job_execution(job)
    return job, execution
