"""Order snapshot writes, so that a snapshot never replaces a newer one.

Every refresh takes a fencing token when it starts (``issue_token``), before it fetches. The
token comes from the ``<prefix>:fence`` hash, beside the snapshot, and is above every token
issued or written before: when Redis has lost the counter while a paused refresher still holds
a high token, the next token issued jumps over the one that refresher wrote. A snapshot is
applied only if its token is above that of the snapshot in Redis and its source time is not
older (``verdict``). The writer checks the fence before it writes a generation (a write that has
lost already writes nothing), and decides it again in the script that points readers at the
new generation: the decision and the publication are one atomic step (see writer.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis

from telemetry_common.keys import Keys

# Returns max(issued + 1, token written + 1) and stores it as the highest token issued.
ISSUE_SCRIPT = """
local issued = redis.call('HINCRBY', KEYS[1], 'issued', 1)
local written = tonumber(redis.call('HGET', KEYS[1], 'token') or '0')
if issued <= written then
  issued = written + 1
  redis.call('HSET', KEYS[1], 'issued', issued)
end
return issued
"""

FIELDS = (b"token", b"source_time", b"snapshot")  # what a write is compared with
OLDER_SOURCE = "older_source"
OLDER_TOKEN = "older_token"
EXPIRED = "expired"
REASONS = (OLDER_SOURCE, OLDER_TOKEN, EXPIRED)


@dataclass(frozen=True)
class Fence:
    """What the last snapshot written was: its token, source time and snapshot id."""

    token: int
    source_time: float
    snapshot: str


class Fenced(Exception):
    """A snapshot write lost to a newer one, or outlived its TTL: it was never published."""

    def __init__(self, reason: str, token: int, source_time: float, stored: Fence | None) -> None:
        self.reason = reason
        self.token = token
        self.source_time = source_time
        self.stored = stored
        super().__init__(describe(reason, token, source_time, stored))


def describe(reason: str, token: int, source_time: float, stored: Fence | None) -> str:
    """Return why the write of ``token`` was discarded, in words."""
    ours = f"token {token}, source time {stamp(source_time)}"
    if reason == EXPIRED:
        return f"write discarded ({ours}): its generation expired before it could be published"
    if stored is None:
        return f"write discarded ({ours})"
    theirs = f"token {stored.token}, source time {stamp(stored.source_time)}"
    if reason == OLDER_SOURCE:
        why = "Redis holds a snapshot of newer source data"
    else:
        why = "a refresh that started later has already written"
    return f"write discarded ({ours}): {why} ({theirs}, snapshot {stored.snapshot})"


def stamp(unix: float) -> str:
    """Return a Unix time as UTC ISO 8601 with milliseconds."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(unix))
    return f"{whole}.{int(unix * 1000) % 1000:03d}Z"


def issue_token(client: redis.Redis, keys: Keys) -> int:
    """Return a new fencing token, above every token issued or written so far."""
    return int(client.eval(ISSUE_SCRIPT, 1, keys.fence))


def parse(values: list[Any]) -> Fence | None:
    """Return the fence from HMGET of FIELDS, or None when no snapshot was written yet."""
    token, source_time, snapshot = values
    if token is None:
        return None
    return Fence(int(token), float(source_time or 0), (snapshot or b"").decode())


def verdict(stored: Fence | None, token: int, source_time: float) -> str | None:
    """Return why a write of ``token`` and ``source_time`` must be discarded, or None."""
    if stored is None:
        return None
    if source_time < stored.source_time:
        return OLDER_SOURCE
    if token <= stored.token:
        return OLDER_TOKEN
    return None


def read_fence(client: redis.Redis, keys: Keys) -> tuple[Fence | None, int]:
    """Return the last write's fence (None before any) and the highest token issued."""
    *values, issued = client.hmget(keys.fence, [*FIELDS, b"issued"])
    return parse(values), int(issued or 0)
