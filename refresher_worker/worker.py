"""The RQ worker of a refresher process: runs refresh jobs in the main thread, survives Redis.

rq's SimpleWorker runs each job in the worker's own process (no fork per job), so the
signal handlers of the main thread stay in charge. When Redis goes away, rq's dequeue loop
retries every half second (cheap against a refused connection), so a refresh queued when Redis
returns runs at once; if the worker's loop ends for any other reason (Redis gone while it
registers, a timeout), a new worker is started after a backoff.
The process never needs a restart to come back.

The worker runs the refresh function and nothing else: a job that names any other function
fails without importing it (``RefreshJob``), and jobs are read as JSON, never unpickled
(telemetry_common/jobs.py), so that writing the queue is not a way to run code here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import redis
from rq import SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job

from refresher_worker.backoff import Backoff, Condition
from telemetry_common.jobs import REFRESH_FUNCTION, SERIALIZER
from telemetry_common.keys import QUEUE_NAME

logger = logging.getLogger(__name__)

WORKER_TTL = 30  # rq waits on the queue for WORKER_TTL - 15 s per BLPOP
STABLE_AFTER = 60.0  # a worker that ran this long resets the backoff


class RefusedJob(Exception):
    """A job in the refresh queue names something other than the refresh."""


class RefreshJob(Job):
    """An RQ job that resolves to the refresh function, or fails saying what it named."""

    @property
    def func(self) -> Callable[..., Any]:
        """Return the refresh function; raise RefusedJob for anything else."""
        if self.func_name != REFRESH_FUNCTION or self.instance is not None:
            raise RefusedJob(f"refused: the job names {self.func_name!r}, not {REFRESH_FUNCTION}")
        function: Callable[..., Any] = super().func
        return function


class RefreshWorker(SimpleWorker):
    """A SimpleWorker whose stop stops the whole process, and that retries Redis quickly.

    rq's ``work()`` installs its own SIGINT/SIGTERM handlers, its public ``request_stop`` (warm:
    after the current job) and, once stopping, ``request_force_stop`` (cold). Here the first
    also sets the process's stop event, so the scheduler thread stops with the worker, and the
    second keeps the stop warm: a refresh under way is finished, not cut mid-write.
    """

    max_connection_wait_time = 0.5  # rq starts at 1 s: then every 0.5 s until Redis is back
    stop_event: threading.Event | None = None  # the process's; set by WorkerLoop

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Build rq's worker; its jobs are always JSON and always RefreshJob."""
        kwargs |= {"job_class": RefreshJob, "serializer": SERIALIZER}
        super().__init__(*args, **kwargs)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Stop the process after the current refresh (rq's SIGTERM and SIGINT handler)."""
        if self.stop_event is not None and not self.stop_event.is_set():
            logger.info("signal %s: stopping after the current refresh", signum)
            self.stop_event.set()
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call,unused-ignore]

    def request_force_stop(self, signum: int, frame: FrameType | None) -> None:
        """Keep stopping warmly: a second signal does not cut the refresh under way."""
        logger.info("signal %s: already stopping after the current refresh", signum)

    def subscribe(self) -> None:
        """Skip rq's command channel: signals stop a refresher, and one thread less can fail."""


class QuietReconnects(logging.Filter):
    """Drop rq's line per reconnection attempt: the outage is logged once, by the scheduler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for rq's "could not connect to Redis" retry lines."""
        return "could not connect to Redis" not in str(record.msg)


class WorkerLoop:
    """Run RQ workers on the refresh queue until stopped, replacing one that ends early."""

    def __init__(
        self,
        client: redis.Redis,
        identity: str,
        stop: threading.Event,
        *,
        rq_log_level: str = "WARNING",
        backoff: Backoff | None = None,
    ) -> None:
        self.client = client
        self.identity = identity
        self.stop = stop
        self.rq_log_level = rq_log_level
        self.backoff = backoff or Backoff(base=0.5, cap=5.0)
        self.redis_state = Condition("Redis (worker)", logger)
        self.current: RefreshWorker | None = None
        self.started = 0
        logging.getLogger("rq.worker").addFilter(QuietReconnects())

    def handle_signal(self, signum: int, frame: FrameType | None) -> None:
        """Stop after the current refresh (installed for SIGTERM and SIGINT)."""
        if not self.stop.is_set():
            logger.info("signal %s: stopping after the current refresh", signum)
        self.stop.set()
        worker = self.current
        if worker is not None:
            worker.request_stop(signum, frame)  # raises when idle

    def run(self) -> None:
        """Work until stopped."""
        try:
            while not self.stop.is_set():
                began = time.monotonic()
                self._run_one()
                if self.stop.is_set():
                    break
                if time.monotonic() - began > STABLE_AFTER:
                    self.backoff.reset()
                self.stop.wait(self.backoff.next())
        except StopRequested:
            pass
        logger.info("worker stopped")

    def _run_one(self) -> None:
        name = f"{self.identity}.{self.started}"
        self.started += 1
        try:
            worker = RefreshWorker(
                [QUEUE_NAME],
                name=name,
                connection=self.client,
                worker_ttl=WORKER_TTL,
            )
            worker.stop_event = self.stop
            self.current = worker
            if self.stop.is_set():
                return
            self.redis_state.mark_up()
            worker.work(logging_level=self.rq_log_level)
        except StopRequested:
            pass
        except redis.RedisError as exc:
            self.redis_state.mark_down(exc)
        except Exception:
            logger.exception("the RQ worker failed; starting a new one")
        finally:
            self.current = None
        if not self.stop.is_set():
            logger.debug("RQ worker %s ended; starting another after a backoff", name)
