"""Ask for a refresh through RQ: one fixed, unique job id, so concurrent asks cause one fetch.

The API imports only this module, never the refresher: RQ names the job's function by its
dotted path, and only refresher processes import and run it.
"""

from __future__ import annotations

import redis
from rq import Queue
from rq.exceptions import DuplicateJobError

from telemetry_common.keys import QUEUE_NAME, REFRESH_JOB_ID

REFRESH_FUNCTION = "refresher_worker.jobs.refresh"
FAILURE_TTL = 1  # seconds a failed job holds the id: a retry may come soon after a failure


def refresh_queue(connection: redis.Redis) -> Queue:
    """Return the RQ queue the refreshers work on."""
    return Queue(QUEUE_NAME, connection=connection)


def enqueue_refresh(
    connection: redis.Redis, *, reason: str, timeout: int = 30, job_id: str = REFRESH_JOB_ID
) -> bool:
    """Queue one refresh; return False when one is already queued or running under ``job_id``."""
    try:
        refresh_queue(connection).enqueue(
            REFRESH_FUNCTION,
            job_id=job_id,
            unique=True,
            result_ttl=0,  # free the id as soon as the job ends (RQ keeps it otherwise)
            failure_ttl=FAILURE_TTL,
            job_timeout=timeout,
            description=f"refresh the snapshot ({reason})",
        )
    except DuplicateJobError:
        return False
    return True
