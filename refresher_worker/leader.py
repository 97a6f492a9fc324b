"""The leader lock: one key holding the leader's name, with a TTL the leader keeps renewing.

One Lua script both takes a free lock and renews a held one, so every refresher calls the
same thing every ``renew_every`` seconds. A leader that dies stops renewing; its lock expires
after ``ttl`` seconds and the next standby call takes it. Leadership is trusted locally only
until ``ttl`` after the last confirmed renewal, a little less for safety.
"""

from __future__ import annotations

import logging
import time

import redis

logger = logging.getLogger(__name__)

CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

SAFETY = 0.9  # trust a renewal for this share of the TTL (clock rates differ a little)


class LeaderLock:
    """Leadership of ``identity`` over the lock ``key``."""

    def __init__(self, client: redis.Redis, key: str, identity: str, ttl: float) -> None:
        self.client = client
        self.key = key
        self.identity = identity
        self.ttl_ms = max(1, int(ttl * 1000))
        self.leading = False
        self.valid_until = 0.0
        self._claim = client.register_script(CLAIM)
        self._release = client.register_script(RELEASE)

    def is_leader(self, now: float | None = None) -> bool:
        """Return whether this process may act as the leader now."""
        return self.leading and (time.monotonic() if now is None else now) < self.valid_until

    def claim(self) -> bool:
        """Take the lock if it is free, renew it if ours; return whether we lead."""
        started = time.monotonic()
        held = bool(self._claim(keys=[self.key], args=[self.identity, self.ttl_ms]))
        if held:
            self.valid_until = started + self.ttl_ms / 1000 * SAFETY
            if not self.leading:
                logger.info(
                    "leadership gained by %s",
                    self.identity,
                    extra={"event": "leadership_gained", "identity": self.identity},
                )
        elif self.leading:
            holder = self.holder()
            logger.warning(
                "leadership lost: the lock is held by %s",
                holder,
                extra={"event": "leadership_lost", "identity": self.identity, "holder": holder},
            )
        self.leading = held
        return held

    def lost_contact(self) -> None:
        """Note that Redis did not answer: leadership lapses when the last renewal does."""
        if self.leading and not self.is_leader():
            self.leading = False
            logger.warning(
                "leadership lost: could not renew the lock in time",
                extra={"event": "leadership_lost", "identity": self.identity, "holder": None},
            )

    def release(self) -> bool:
        """Give the lock up at once if ours, so a standby takes over; return whether it was."""
        was_leading = self.leading
        self.leading = False
        self.valid_until = 0.0
        released = bool(self._release(keys=[self.key], args=[self.identity]))
        if released or was_leading:
            logger.info(
                "leadership released by %s",
                self.identity,
                extra={"event": "leadership_released", "identity": self.identity},
            )
        return released

    def holder(self) -> str | None:
        """Return the name of the current leader, if any."""
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else None
