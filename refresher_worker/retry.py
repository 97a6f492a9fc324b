"""After a failed refresh, the leader tries again sooner than the next tick, backing off.

While the source is healthy the leader enqueues once per interval. When a refresh fails
(source down, slow, or serving bad CSV), waiting a whole interval would let the snapshot
age for nothing, and retrying at once would hammer a struggling source: the retries follow
a capped exponential backoff from half a second up to the interval itself.

rq's ``Retry`` (raised from, or in rq 3.0 returned by, a job) does not give the same: its
intervals are whole seconds (``Retry(interval: int | list[int])``), so the first retry cannot
come after half a second; it stops after ``max`` attempts, where a source down for an hour
must still be retried every interval; and a retry with a delay waits in rq's scheduled
registry for the scheduler process of one worker, which polls once a second and whose lock
passes to another worker only 61 s (lock TTL) to 120 s (retry period) after that worker died.
Here the retry is timed by the leader itself, which a standby replaces within about 2.5 s.
"""

from __future__ import annotations

import redis

from refresher_worker.backoff import Backoff
from refresher_worker.status import OK, RESULTS
from telemetry_common.keys import Keys

COUNTERS = [f"refreshes_{result}" for result in RESULTS]


class SourceRetry:
    """Learn the outcome of the refresh the leader asked for; say when to retry a failure."""

    def __init__(self, client: redis.Redis, keys: Keys, interval: float) -> None:
        self.client = client
        self.keys = keys
        self.backoff = Backoff(base=min(0.5, interval / 4), cap=interval)
        self.baseline: int | None = None  # refreshes recorded before ours was enqueued

    def _read(self) -> tuple[str | None, int]:
        state, *counts = self.client.hmget(self.keys.status, ["state", *COUNTERS])
        text = state.decode() if isinstance(state, bytes) else state
        return text, sum(int(count or 0) for count in counts)

    def enqueued(self) -> None:
        """Note that a refresh was just enqueued: its outcome is awaited."""
        self.baseline = self._read()[1]

    def delay(self) -> float | None:
        """Return seconds until a retry if the awaited refresh failed, else None."""
        if self.baseline is None:
            return None
        state, total = self._read()
        if total <= self.baseline:
            return None  # not finished yet
        self.baseline = None
        if state is not None and state != OK:
            return self.backoff.next()
        self.backoff.reset()
        return None
