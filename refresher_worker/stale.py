"""Hand the refresh over when the job holding the unique id can no longer finish in time.

A refresher killed with SIGKILL, or frozen (SIGSTOP, a VM stall), in the middle of a job
leaves the job "started" in RQ, and the unique id refuses every later enqueue. rq frees it by
its own rule: a SimpleWorker's execution expires ``job_timeout + 60`` s after it started (70 s
with the default TTL of 10 s), then ``StartedJobRegistry.cleanup`` moves the job to the failed
registry, and the id frees after ``failure_ttl``. The snapshot expires long before, so the
leader does not wait for that: when an enqueue is refused and the refresher running the job
has no heartbeat any more (or the job is older than any refresh can be), it enqueues the
refresh under a second unique id named after that worker, and asks rq for its cleanup.

It never deletes a started job: a frozen worker may still wake up and finish it, and rq
then closes a job record that is still there and its own (deleting it made rq log an ERROR
with a traceback, and re-create the record). The late refresh itself is fenced: it writes
nothing. Only a worker frozen for longer than rq's own rule (70 s) finds its job failed by rq.
A job queued for longer than any refresh may take (no worker took it) is deleted instead:
no worker holds it. rq's own ``ttl`` (expiry of a queued job) is not used for this: the id
stays in the queue's list when the record expires, so after a new enqueue the list holds the
id twice, and a second worker could run the new job at the same time as the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from telemetry_common.jobs import SERIALIZER, refresh_queue
from telemetry_common.keys import HANDOVER_JOB_PREFIX

PENDING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.CREATED, JobStatus.DEFERRED}
HANDOVERS = 3  # successive stuck holders the leader steps past; then it waits for rq


def worker_identity(worker_name: str) -> str | None:
    """Return the refresher identity of an RQ worker name ``<identity>.<n>``, else None."""
    identity, dot, number = worker_name.rpartition(".")
    return identity if dot and number.isdigit() and identity else None


def handover_id(worker_name: str) -> str:
    """Return the job id that refreshes while ``worker_name`` holds the unique one."""
    return HANDOVER_JOB_PREFIX + re.sub(r"[^A-Za-z0-9_-]", "-", worker_name)


def stale_reason(
    job: Job, *, max_age: float, alive: Callable[[str], bool], now: datetime | None = None
) -> str | None:
    """Return why ``job`` can no longer finish, or None when it may still."""
    status = job.get_status(refresh=False)
    if status not in PENDING:
        return None
    now = now or datetime.now(UTC)
    if status == JobStatus.STARTED and job.worker_name:
        identity = worker_identity(job.worker_name)
        if identity is not None and not alive(identity):
            return f"its worker {job.worker_name} stopped beating"
    since = job.started_at if status == JobStatus.STARTED else job.enqueued_at
    since = since or job.created_at
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    age = (now - since).total_seconds()
    if age > max_age:
        return f"{status.value} for {age:.0f} s, longer than any refresh may take"
    return None


def next_job_id(
    client: redis.Redis, job_id: str, *, max_age: float, alive: Callable[[str], bool]
) -> tuple[str, str] | None:
    """Return the id to refresh under and why, when ``job_id`` is held by a stuck job."""
    try:
        job = Job.fetch(job_id, connection=client, serializer=SERIALIZER)
    except NoSuchJobError:
        return None
    reason = stale_reason(job, max_age=max_age, alive=alive)
    if reason is None:
        return None
    if job.get_status(refresh=False) != JobStatus.STARTED or not job.worker_name:
        job.delete()  # queued for too long: no worker holds it, nothing will close it
        return job_id, reason
    refresh_queue(client).started_job_registry.cleanup()  # rq's own rule for abandoned jobs
    return handover_id(job.worker_name), reason
