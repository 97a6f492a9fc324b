"""The RQ worker of a refresher process: runs refresh jobs in the main thread, survives Redis.

rq's SimpleWorker runs each job in the worker's own process (no fork per job), so the
signal handlers of the main thread stay in charge. When Redis goes away, rq's dequeue loop
retries every half second (cheap against a refused connection), so a refresh queued when Redis
returns runs at once; if the worker's loop ends for any other reason (Redis gone while it
registers, a timeout), a new worker is started after a backoff.
The process never needs a restart to come back.
"""

from __future__ import annotations

import logging
import threading
import time
from types import FrameType

import redis
from rq import SimpleWorker
from rq.exceptions import StopRequested

from refresher_worker.backoff import Backoff, Condition
from telemetry_common.keys import QUEUE_NAME

logger = logging.getLogger(__name__)

WORKER_TTL = 30  # rq waits on the queue for WORKER_TTL - 15 s per BLPOP
STABLE_AFTER = 60.0  # a worker that ran this long resets the backoff


# rq's private method that RefreshWorker overrides: the one library internal of the refresher.
SIGNAL_HOOK = "_install_signal_handlers"


class RefreshWorker(SimpleWorker):
    """A SimpleWorker that leaves signals to the process and retries Redis for a few seconds.

    rq's ``work()`` installs its own SIGINT/SIGTERM handlers each time it starts, and rq has no
    public switch to keep the process's: its handlers would stop this worker but not the
    process's scheduler thread, and make a second signal a cold shutdown mid-write. Overriding
    the private ``_install_signal_handlers`` (rq 2.8 to 3.0; pyproject.toml bounds rq to the
    versions tested) keeps WorkerLoop.handle_signal in charge, which stops both after the
    current refresh. tests/unit/test_refresher_worker.py fails, naming the method, if rq drops it.
    """

    max_connection_wait_time = 0.5  # rq starts at 1 s: then every 0.5 s until Redis is back

    def _install_signal_handlers(self) -> None:
        """Keep the process's handlers (see WorkerLoop.handle_signal)."""

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
            worker.request_stop(signum, frame)  # type: ignore[no-untyped-call]  # raises when idle

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
                [QUEUE_NAME], name=name, connection=self.client, worker_ttl=WORKER_TTL
            )
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
