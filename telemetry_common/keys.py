"""Every Redis key name of the system; no other module spells one.

Snapshots are immutable generations: each refresh writes its keys under
``<prefix>:<generation>:...`` and then points ``<prefix>:current`` at the generation.
A deployment on Redis Cluster sets the prefix to ``{telemetry}``: the braces make every key
hash to one slot, so the scripts that resolve the pointer and read a generation keep working.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "telemetry"
QUEUE_NAME = "telemetry"
REFRESH_JOB_ID = "telemetry-refresh"
# Refreshes queued while a stuck job holds the id: + the worker's name (refresher_worker.stale)
HANDOVER_JOB_PREFIX = f"{REFRESH_JOB_ID}-after-"

# The parts of a generation's key names after ``<prefix>:<generation>``; the server-side
# scripts get them as arguments, so that they too build names only from this module.
SWITCH = ":switch:"
METRIC = ":metric:"
SWITCHES = ":switches"
METRICS = ":metrics"
META = ":meta"
ORDER = ":order:"  # then "asc:" or "desc:", then the metric name


@dataclass(frozen=True)
class Generation:
    """Key names of one generation of the snapshot."""

    base: str  # ``<prefix>:<generation>``

    def switch(self, switch_id: str) -> str:
        """Return the hash of one switch's metrics."""
        return f"{self.base}{SWITCH}{switch_id}"

    def metric(self, name: str) -> str:
        """Return the list of one metric's values, in switch order."""
        return f"{self.base}{METRIC}{name}"

    @property
    def switches(self) -> str:
        """Return the list of switch ids in row order."""
        return f"{self.base}{SWITCHES}"

    @property
    def metrics(self) -> str:
        """Return the list of metric names in column order."""
        return f"{self.base}{METRICS}"

    @property
    def meta(self) -> str:
        """Return the hash describing this generation."""
        return f"{self.base}{META}"

    def order(self, name: str, descending: bool) -> str:
        """Return the list of the switch ids that rank first by one metric (ties: row order)."""
        return f"{self.base}{ORDER}{'desc' if descending else 'asc'}:{name}"


@dataclass(frozen=True)
class Keys:
    """Key names under one prefix."""

    prefix: str = DEFAULT_PREFIX

    def at(self, generation: int | str) -> Generation:
        """Return the key names of one generation."""
        return Generation(f"{self.prefix}:{generation}")

    @property
    def generation_base(self) -> str:
        """Return what every generation's key names start with, before the number."""
        return f"{self.prefix}:"

    @property
    def current(self) -> str:
        """Return the string naming the generation readers use (expires with it)."""
        return f"{self.prefix}:current"

    @property
    def generation(self) -> str:
        """Return the counter that numbers generations; it never expires."""
        return f"{self.prefix}:generation"

    @property
    def fence(self) -> str:
        """Return the hash that orders snapshot writes and remembers the last (never expires)."""
        return f"{self.prefix}:fence"

    @property
    def refresh_request(self) -> str:
        """Return the key through which the API asks for a refresh (the only key it writes)."""
        return f"{self.prefix}:refresh:request"

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
