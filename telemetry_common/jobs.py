"""Ask for a refresh: the refreshers through RQ, the API through one request key.

RQ jobs have one fixed, unique id, so concurrent asks cause one fetch. An RQ job names the
function a worker imports and runs, so only the refreshers write the queue: the API sets the
request key (``Keys.refresh_request``, the one key its Redis user may write) and the leading
refresher turns it into a job (``take_request``). The API imports only this module, never the
refresher.
"""

from __future__ import annotations

import redis
from rq import Queue
from rq.exceptions import DuplicateJobError
from rq.serializers import JSONSerializer

from telemetry_common.keys import QUEUE_NAME, REFRESH_JOB_ID, Keys

REFRESH_FUNCTION = "refresher_worker.jobs.refresh"
REQUEST_TTL_MS = 60_000  # an ask no refresher took within a minute is forgotten
FAILURE_TTL = 1  # seconds a failed job holds the id: a retry may come soon after a failure


# Jobs are JSON, not RQ's default pickle: reading a pickled job runs whatever it names, before
# the worker can refuse it (refresher_worker/worker.py).
SERIALIZER = JSONSerializer


def refresh_queue(connection: redis.Redis) -> Queue:
    """Return the RQ queue the refreshers work on."""
    return Queue(QUEUE_NAME, connection=connection, serializer=SERIALIZER)


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


def request_refresh(connection: redis.Redis, keys: Keys, *, reason: str) -> None:
    """Ask the leading refresher for a refresh (the API's one write)."""
    connection.set(keys.refresh_request, reason, px=REQUEST_TTL_MS)


def take_request(connection: redis.Redis, keys: Keys) -> str | None:
    """Return the reason of a pending refresh request and remove it, or None."""
    reason = connection.getdel(keys.refresh_request)
    return reason.decode(errors="replace") if isinstance(reason, bytes) else reason
