"""Where operators look: the status hash in Redis and one heartbeat key per refresher process.

The status hash outlives the snapshot (a day), so the last error is still there after the
data expired. Its ``state`` field makes a change of state visible across processes: each
change is logged once, by whichever process saw it first.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from typing import Any

import redis

from telemetry_common.keys import Keys

logger = logging.getLogger(__name__)

STATUS_TTL = 24 * 3600
OK = "ok"
# Each has a counter: refreshes_<result>. A fenced refresh found a newer snapshot in Redis.
RESULTS = ("written", "unchanged", "failed", "fenced")
# Failures of the source itself (its event is source_down); others are refresh_failed.
SOURCE_KINDS = frozenset({"source_unreachable", "source_timeout", "bad_response", "body_too_large"})


def process_identity() -> str:
    """Return a name for this process, unique across hosts and restarts."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class Outcome:
    """What one refresh did: ``written``, ``unchanged``, ``failed`` or ``fenced``.

    A failure names its kind in ``error_kind``; a fenced refresh names there why it lost.
    """

    result: str
    duration: float
    generation: int | None = None
    rows: int = 0
    columns: int = 0
    source_tick: str = ""
    error_kind: str = ""
    error: str = ""

    @property
    def state(self) -> str:
        """Return the health this outcome implies: ``ok`` or ``failing:<kind>``."""
        return f"failing:{self.error_kind}" if self.result == "failed" else OK


def _fields(outcome: Outcome, worker: str, now: float) -> dict[str, Any]:
    stamp = f"{now:.3f}"
    fields: dict[str, Any] = {
        "state": outcome.state,
        "last_outcome": outcome.result,
        "last_attempt_at": stamp,
        "last_duration_ms": f"{outcome.duration * 1000:.1f}",
        "last_worker": worker,
    }
    if outcome.result == "failed":
        fields |= {"last_error": outcome.error, "last_error_kind": outcome.error_kind}
        fields["last_error_at"] = stamp
        return fields
    if outcome.result == "fenced":  # says nothing of the source's health: state unchanged
        del fields["state"]
        fields |= {"last_fenced": outcome.error, "last_fenced_reason": outcome.error_kind}
        fields["last_fenced_at"] = stamp
        return fields
    fields["last_success_at"] = stamp
    if outcome.result == "written":
        fields |= {"last_written_at": stamp, "generation": outcome.generation or 0}
        fields |= {"rows": outcome.rows, "columns": outcome.columns}
        fields["source_tick"] = outcome.source_tick
    return fields


def record(
    client: redis.Redis, keys: Keys, outcome: Outcome, worker: str, *, source_url: str = ""
) -> str | None:
    """Store ``outcome`` in the status hash, log a change of state once; return the old state."""
    pipe: Any = client.pipeline(transaction=True)
    pipe.hget(keys.status, "state")
    pipe.hset(keys.status, mapping=_fields(outcome, worker, time.time()))
    pipe.hincrby(keys.status, f"refreshes_{outcome.result}", 1)
    pipe.expire(keys.status, STATUS_TTL)
    raw = pipe.execute()[0]
    before = raw.decode() if raw is not None else None
    fields: dict[str, Any] = {"url": source_url, "worker": worker}  # masked by the formatters
    if outcome.result == "fenced":
        fields |= {"event": "fenced", "reason": outcome.error_kind, "error": outcome.error}
        logger.warning("refresh fenced: %s", outcome.error, extra=fields)
    elif outcome.result == "failed":
        level = logging.DEBUG if before == outcome.state else logging.WARNING
        event = "source_down" if outcome.error_kind in SOURCE_KINDS else "refresh_failed"
        fields |= {"event": event, "kind": outcome.error_kind, "error": outcome.error}
        logger.log(
            level, "refresh failed (%s): %s", outcome.error_kind, outcome.error, extra=fields
        )
    elif before is not None and before != OK:
        source = before.removeprefix("failing:") in SOURCE_KINDS
        fields |= {"event": "source_back" if source else "refresh_recovered", "after": before}
        logger.info("refresh works again (%s after %s)", outcome.result, before, extra=fields)
    return before


def set_leader(client: redis.Redis, keys: Keys, identity: str) -> None:
    """Name ``identity`` as the leader in the status hash."""
    pipe: Any = client.pipeline(transaction=True)
    pipe.hset(keys.status, mapping={"leader": identity, "leader_since": f"{time.time():.3f}"})
    pipe.expire(keys.status, STATUS_TTL)
    pipe.execute()


def mark_tick(client: redis.Redis, keys: Keys, queued: bool) -> None:
    """Note in the status hash that the leader asked for a refresh."""
    field = "last_enqueued_at" if queued else "last_skipped_at"
    client.hset(keys.status, field, f"{time.time():.3f}")


def beat(client: redis.Redis, keys: Keys, identity: str, role: str, ttl: float) -> None:
    """Write this process's heartbeat key, which expires ``ttl`` seconds after the last beat."""
    payload = {"role": role, "pid": os.getpid(), "host": socket.gethostname()}
    payload["at"] = round(time.time(), 3)
    client.set(keys.heartbeat(identity), json.dumps(payload), px=int(ttl * 1000))


def is_alive(client: redis.Redis, keys: Keys, identity: str) -> bool:
    """Return whether the process ``identity`` beat within its heartbeat TTL."""
    return bool(client.exists(keys.heartbeat(identity)))


def forget(client: redis.Redis, keys: Keys, identity: str) -> None:
    """Remove this process's heartbeat (on a clean exit)."""
    client.delete(keys.heartbeat(identity))
