"""Every Redis key name of the system; no other module spells one.

A deployment on Redis Cluster sets the prefix to ``{telemetry}``: the braces make every key of a
snapshot hash to one slot, so the snapshot's MULTI/EXEC keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "telemetry"
QUEUE_NAME = "telemetry"
REFRESH_JOB_ID = "telemetry-refresh"


@dataclass(frozen=True)
class Keys:
    """Key names under one prefix."""

    prefix: str = DEFAULT_PREFIX

    def switch(self, switch_id: str) -> str:
        """Return the hash of one switch's metrics."""
        return f"{self.prefix}:switch:{switch_id}"

    def metric(self, name: str) -> str:
        """Return the list of one metric's values, in switch order."""
        return f"{self.prefix}:metric:{name}"

    @property
    def switches(self) -> str:
        """Return the list of switch ids in row order."""
        return f"{self.prefix}:switches"

    @property
    def metrics(self) -> str:
        """Return the list of metric names in column order."""
        return f"{self.prefix}:metrics"

    @property
    def meta(self) -> str:
        """Return the hash describing the current snapshot."""
        return f"{self.prefix}:meta"

    @property
    def generation(self) -> str:
        """Return the counter that numbers snapshots; it never expires."""
        return f"{self.prefix}:generation"

    @property
    def last_snapshot(self) -> str:
        """Return the hash that remembers the last snapshot after it expired (never expires)."""
        return f"{self.prefix}:last-snapshot"

    @property
    def fence(self) -> str:
        """Return the hash that orders snapshot writes (never expires)."""
        return f"{self.prefix}:fence"

    @property
    def status(self) -> str:
        """Return the refresher's status hash (outlives the snapshot)."""
        return f"{self.prefix}:refresher:status"

    @property
    def leader(self) -> str:
        """Return the refresher leader lock."""
        return f"{self.prefix}:refresher:leader"

    def heartbeat(self, worker: str) -> str:
        """Return one refresher process's heartbeat key."""
        return f"{self.prefix}:refresher:heartbeat:{worker}"

    @property
    def heartbeat_pattern(self) -> str:
        """Return the SCAN pattern matching every refresher heartbeat."""
        return f"{self.prefix}:refresher:heartbeat:*"
