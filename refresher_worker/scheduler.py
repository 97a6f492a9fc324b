"""The scheduling thread: heartbeat, leader election, and one refresh job per interval.

Every refresher runs one. Each step writes the heartbeat and claims the leader lock (taking
it when free, renewing it when ours). The leader enqueues the refresh job on a monotonic
schedule that continues the previous leader's cadence (taken from the snapshot's write time),
at once when the API asked for a refresh (the request key: telemetry_common/jobs.py), and
retries a failed refresh sooner (see retry.py); standbys only keep trying the lock.
Redis errors are retried with capped backoff.

rq's own schedulers do not give these guarantees (rq 3.0, read in its code): ``CronScheduler``
(``rq cron``) takes whole-second intervals, has no leader election (every process running it
enqueues every tick), starts its cadence afresh rather than continuing the last snapshot's,
and lets the ``DuplicateJobError`` of a unique id end its loop; ``enqueue_in`` needs the
worker's scheduler process, which polls once a second and whose lock a surviving worker can
take only after 61 s, retrying every 120 s, while a snapshot lives 10 s by default.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from refresher_worker.backoff import Backoff, Condition
from refresher_worker.leader import LeaderLock
from refresher_worker.metrics import metrics
from refresher_worker.retry import SourceRetry
from refresher_worker.settings import RefresherSettings
from refresher_worker.stale import HANDOVERS, next_job_id
from refresher_worker.status import beat, forget, is_alive, mark_tick, set_leader
from telemetry_common.jobs import enqueue_refresh, take_request
from telemetry_common.keys import REFRESH_JOB_ID, Keys
from telemetry_common.reader import NoSnapshot, read_info

logger = logging.getLogger(__name__)

Enqueue = Callable[..., bool]


class Scheduler:
    """Leader election and periodic enqueueing for one refresher process."""

    def __init__(
        self,
        client: redis.Redis,
        settings: RefresherSettings,
        identity: str,
        stop: threading.Event,
        *,
        enqueue: Enqueue = enqueue_refresh,
    ) -> None:
        self.client = client
        self.settings = settings
        self.identity = identity
        self.stop = stop
        self.done = threading.Event()  # set by the process once its worker has finished
        self.enqueue = enqueue
        self.keys = Keys(settings.key_prefix)
        self.lock = LeaderLock(client, self.keys.leader, identity, settings.leader_ttl)
        self.redis_state = Condition("Redis", logger)
        self.backoff = Backoff(base=0.1, cap=2.0)
        self.retry = SourceRetry(client, self.keys, settings.interval)
        self.next_tick = 0.0
        self.announced = False  # leadership taken up: status written, cadence set
        self.enqueued = 0
        self.skipped = 0  # ticks in a row that found a refresh still queued or running
        self.handovers: set[str] = set()  # stuck job ids already reported (once each)
        self.thread = threading.Thread(target=self.run, name="refresh-scheduler", daemon=True)

    def start(self) -> None:
        """Start the scheduling thread."""
        self.thread.start()

    def run(self) -> None:
        """Step until stopped; then give up the lock, but beat until the worker is done."""
        while not self.stop.is_set():
            self.stop.wait(self.step())
        self._quietly(self.lock.release)
        metrics().set_leader(False)
        while not self.done.wait(self.settings.renew_every):
            self._quietly(self._beat, "stopping")
        self._quietly(forget, self.client, self.keys, self.identity)

    def step(self) -> float:
        """Beat, claim the lock, enqueue a refresh when due; return seconds until the next step."""
        try:
            leading = self.lock.claim()
            self._beat("leader" if leading else "standby")
            self.announced = self.announced and leading
            if leading and not self.announced:
                self._on_gain()
                self.announced = True
            if leading:
                self._answer_request()
                self._tick_if_due()
                self._retry_if_failed()
        except redis.RedisError as exc:
            self.redis_state.mark_down(exc)
            self.lock.lost_contact()
            self.announced = False  # Redis may come back empty: name the leader again, re-time
            metrics().set_leader(self.lock.leading)
            return self.backoff.next()
        except Exception:
            logger.exception("scheduler step failed")
            return self.backoff.next()
        self.redis_state.mark_up()
        self.backoff.reset()
        metrics().set_leader(leading)
        delay = self.settings.renew_every
        if leading:
            delay = min(delay, self.next_tick - time.monotonic())
        return max(0.0, delay)

    def _on_gain(self) -> None:
        """Continue the cadence of the snapshot in Redis, and name ourselves in the status."""
        set_leader(self.client, self.keys, self.identity)
        now = time.monotonic()
        try:
            age = time.time() - read_info(self.client, self.keys).written_at
        except NoSnapshot:
            age = self.settings.interval
        self.next_tick = now + min(self.settings.interval, max(0.0, self.settings.interval - age))

    def _answer_request(self) -> None:
        """Make the next tick due now when the API asked for a refresh."""
        reason = take_request(self.client, self.keys)
        if reason is not None:
            logger.info("refresh asked for: %s", reason)
            self.next_tick = min(self.next_tick, time.monotonic())

    def _tick_if_due(self) -> None:
        now = time.monotonic()
        if now < self.next_tick or not self.lock.is_leader(now):
            return
        self.next_tick += self.settings.interval
        if self.next_tick <= now:  # fell behind (an outage): skip the missed ticks
            self.next_tick = now + self.settings.interval
        queued = self._enqueue()
        mark_tick(self.client, self.keys, queued)
        if queued:
            self.enqueued += 1
            self.retry.enqueued()
            if self.skipped:
                logger.info("refreshes keep up again after %d skipped ticks", self.skipped)
        elif not self.skipped:
            logger.warning("tick skipped: the previous refresh is still queued or running")
        self.skipped = 0 if queued else self.skipped + 1

    def _retry_if_failed(self) -> None:
        delay = self.retry.delay()
        if delay is not None:
            self.next_tick = min(self.next_tick, time.monotonic() + delay)

    def _enqueue(self) -> bool:
        """Enqueue under the unique id, or past the stuck jobs holding it (see stale.py)."""
        timeout = self.settings.job_timeout
        reason = f"tick of {self.identity}"
        job_id = REFRESH_JOB_ID
        for _ in range(HANDOVERS):
            if self.enqueue(self.client, reason=reason, timeout=timeout, job_id=job_id):
                if job_id == REFRESH_JOB_ID:
                    self.handovers.clear()
                return True
            stuck = job_id
            step = next_job_id(
                self.client,
                stuck,
                max_age=timeout + self.settings.interval,
                alive=lambda identity: is_alive(self.client, self.keys, identity),
            )
            if step is None:
                return False
            job_id, why = step
            if stuck not in self.handovers:
                self.handovers.add(stuck)
                logger.warning(
                    "refresh job %s is stale (%s): refreshing as %s",
                    stuck,
                    why,
                    job_id,
                    extra={"event": "refresh_job_stale", "job_id": stuck, "reason": why},
                )
        return False

    def _beat(self, role: str) -> None:
        beat(self.client, self.keys, self.identity, role, self.settings.leader_ttl)

    def _quietly(self, action: Callable[..., object], *args: object) -> None:
        try:
            action(*args)
        except redis.RedisError as exc:
            logger.warning("while stopping: %s", exc)
