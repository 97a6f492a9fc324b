"""Read the snapshot for the API: each call is one MULTI/EXEC, so one whole generation.

Values come back as the bytes the source wrote; switch ids and names as ``str``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from telemetry_common.keys import Keys
from telemetry_common.snapshot import META_FIELDS, SnapshotInfo


class NoSnapshot(LookupError):
    """Redis holds no fresh snapshot (never written, or expired)."""


class UnknownNames(LookupError):
    """The request named switches or metrics that the snapshot does not have."""

    def __init__(self, switches: Sequence[str] = (), metrics: Sequence[str] = ()) -> None:
        self.switches = tuple(switches)
        self.metrics = tuple(metrics)
        parts = [f"unknown switch {s!r}" for s in self.switches]
        parts += [f"unknown metric {m!r}" for m in self.metrics]
        super().__init__(", ".join(parts))


@dataclass(frozen=True)
class MetricValue:
    """One metric of one switch."""

    info: SnapshotInfo
    switch: str
    metric: str
    value: bytes


@dataclass(frozen=True)
class Columns:
    """Some metrics for every switch, in row order."""

    info: SnapshotInfo
    switches: list[bytes]
    metrics: list[str]
    columns: list[list[bytes]]


@dataclass(frozen=True)
class Catalog:
    """The snapshot's switch ids and metric names."""

    info: SnapshotInfo
    switches: list[str]
    metrics: list[str]


def _info(meta: list[Any], pttl: int) -> SnapshotInfo:
    """Build SnapshotInfo from HMGET of META_FIELDS and the meta key's PTTL."""
    if meta[0] is None or pttl == -2:
        raise NoSnapshot("no snapshot in Redis")
    fields = dict(zip(META_FIELDS, meta, strict=True))
    fetched_at = float(fields["fetched_at"] or 0)
    source_time = float(fields["source_time"] or 0) or fetched_at
    return SnapshotInfo(
        generation=int(fields["generation"]),
        written_at=float(fields["written_at"] or 0),
        fetched_at=fetched_at,
        source_time=source_time,
        source_etag=(fields["source_etag"] or b"").decode(),
        ttl=int(fields["ttl"] or 0),
        expires_in=max(pttl, 0) / 1000.0,
        switch_count=int(fields["switches"] or 0),
        metric_count=int(fields["metrics"] or 0),
    )


def _pipe(client: redis.Redis, keys: Keys) -> Any:
    pipe = client.pipeline(transaction=True)
    pipe.hmget(keys.meta, META_FIELDS)
    pipe.pttl(keys.meta)
    return pipe


def read_info(client: redis.Redis, keys: Keys) -> SnapshotInfo:
    """Return the current snapshot's description, or raise NoSnapshot."""
    meta, pttl = _pipe(client, keys).execute()
    return _info(meta, pttl)


def read_metric(client: redis.Redis, keys: Keys, switch: str, metric: str) -> MetricValue:
    """Return one metric of one switch, or raise NoSnapshot or UnknownNames."""
    pipe = _pipe(client, keys)
    pipe.hget(keys.switch(switch), metric)
    pipe.exists(keys.switch(switch))
    pipe.exists(keys.metric(metric))
    meta, pttl, value, switch_known, metric_known = pipe.execute()
    info = _info(meta, pttl)
    if value is None:
        raise UnknownNames(
            [switch] if not switch_known else [], [metric] if not metric_known else []
        )
    return MetricValue(info, switch, metric, value)


def read_columns(client: redis.Redis, keys: Keys, metrics: Sequence[str]) -> Columns:
    """Return the named metrics for every switch, or raise NoSnapshot or UnknownNames.

    A metric's list is never empty in a snapshot, so an empty answer means an unknown name.
    """
    pipe = _pipe(client, keys)
    pipe.lrange(keys.switches, 0, -1)
    for name in metrics:
        pipe.lrange(keys.metric(name), 0, -1)
    meta, pttl, switches, *columns = pipe.execute()
    info = _info(meta, pttl)
    unknown = [name for name, column in zip(metrics, columns, strict=True) if not column]
    if unknown:
        raise UnknownNames(metrics=unknown)
    return Columns(info, switches, list(metrics), columns)


def read_catalog(client: redis.Redis, keys: Keys) -> Catalog:
    """Return the snapshot's switch ids and metric names, or raise NoSnapshot."""
    pipe = _pipe(client, keys)
    pipe.lrange(keys.switches, 0, -1)
    pipe.lrange(keys.metrics, 0, -1)
    meta, pttl, switches, metrics = pipe.execute()
    info = _info(meta, pttl)
    return Catalog(info, [s.decode() for s in switches], [m.decode() for m in metrics])
