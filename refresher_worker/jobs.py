"""The function RQ runs for a refresh job (``telemetry_common.jobs.REFRESH_FUNCTION``).

It takes no arguments: the refresher's command line loads the settings with ``configure``;
any other worker process reads them from its environment (a plain ``rq worker --serializer
rq.serializers.JSONSerializer telemetry`` runs it too, but only ``telemetry refresher``'s
worker refuses jobs that name another function).
Expected failures are recorded by the refresh itself, so the job ends normally and its
unique id frees at once; only something unexpected fails the job (kept one second).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass, field

import redis

from refresher_worker.backoff import Condition
from refresher_worker.metrics import metrics
from refresher_worker.refresh import refresh_once
from refresher_worker.settings import RefresherSettings
from refresher_worker.status import Outcome, process_identity, record
from telemetry_common.keys import Keys
from telemetry_common.redis_client import connect, follow_primary

logger = logging.getLogger(__name__)

WRITE_TIMEOUT = 5.0  # seconds per Redis call: a snapshot of 100,000 switches takes about one


@dataclass
class RefreshContext:
    """What a refresh job needs in this process: settings, a Redis client and a name."""

    settings: RefresherSettings
    client: redis.Redis
    worker: str
    keys: Keys = field(init=False)
    redis_state: Condition = field(init=False)

    def __post_init__(self) -> None:
        self.keys = Keys(self.settings.key_prefix)
        self.redis_state = Condition("Redis (refresh job)", logger)


_context: RefreshContext | None = None


def configure(
    settings: RefresherSettings, worker: str, client: redis.Redis | None = None
) -> RefreshContext:
    """Set the settings, client and process name that refresh jobs in this process use."""
    global _context
    if client is None:
        client = connect(settings.redis_url, timeout=WRITE_TIMEOUT, retries=1)
    _context = RefreshContext(settings, client, worker)
    return _context


def context() -> RefreshContext:
    """Return this process's refresh context, built from the environment if not configured."""
    if _context is None:
        return configure(RefresherSettings.from_env(os.environ), process_identity())
    return _context


def _record_unexpected(ctx: RefreshContext, exc: Exception, duration: float) -> None:
    outcome = Outcome("failed", duration, error_kind="internal_error", error=repr(exc))
    metrics().observe(outcome)
    with contextlib.suppress(redis.RedisError):
        record(ctx.client, ctx.keys, outcome, ctx.worker)


def refresh() -> str:
    """Refresh the snapshot once and return ``written``, ``unchanged``, ``failed`` or ``redis``."""
    ctx = context()
    follow_primary(ctx.client)  # on Sentinel: write to the primary of now, not of the last write
    started = time.monotonic()
    try:
        outcome = refresh_once(ctx.client, ctx.keys, ctx.settings, worker=ctx.worker)
    except redis.RedisError as exc:
        ctx.redis_state.mark_down(exc)
        metrics().observe(Outcome("failed", time.monotonic() - started, error_kind="redis"))
        return "redis"
    except Exception as exc:  # a bug: RQ logs the traceback; operators also see it in the status
        _record_unexpected(ctx, exc, time.monotonic() - started)
        raise
    ctx.redis_state.mark_up()
    metrics().observe(outcome)
    return outcome.result
