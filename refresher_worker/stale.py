"""Free the unique refresh job id when the job holding it can no longer finish.

A refresher killed with SIGKILL in the middle of a job leaves the job "started" in RQ, and
RQ would keep its id (so every later enqueue is refused) until its own cleanup runs, minutes
later. The leader checks the job when an enqueue is refused: if the refresher running it has
no heartbeat any more, or the job is older than any refresh can be, it deletes the job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from telemetry_common.keys import REFRESH_JOB_ID

logger = logging.getLogger(__name__)

PENDING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.CREATED, JobStatus.DEFERRED}


def worker_identity(worker_name: str) -> str | None:
    """Return the refresher identity of an RQ worker name ``<identity>.<n>``, else None."""
    identity, dot, number = worker_name.rpartition(".")
    return identity if dot and number.isdigit() and identity else None


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


def clear_stale_refresh(
    client: redis.Redis, *, max_age: float, alive: Callable[[str], bool]
) -> str | None:
    """Delete the refresh job if it can no longer finish; return why it was deleted."""
    try:
        job = Job.fetch(REFRESH_JOB_ID, connection=client)
    except NoSuchJobError:
        return None
    reason = stale_reason(job, max_age=max_age, alive=alive)
    if reason is not None:
        job.delete()
        logger.warning("deleted the stuck refresh job %s: %s", REFRESH_JOB_ID, reason)
    return reason
