"""Read the snapshot for the API: each call is one MULTI/EXEC, so one whole generation.

Values come back as the bytes the source wrote; switch ids and names as ``str``.
A plain redis-py client sends the transaction as one packed buffer on a pooled connection and
hiredis parses every reply (raw_exec.execute): one send, one receive, a fraction of the Python
a pipeline runs, which matters on the API's answer paths. Other clients (fakeredis, Redis
Cluster) send the same commands through a redis-py pipeline. The results are identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import redis

from telemetry_common import cluster_route, raw_exec
from telemetry_common.keys import Keys
from telemetry_common.snapshot import META_FIELDS, SnapshotInfo


class NoSnapshot(LookupError):
    """Redis holds no fresh snapshot (never written, or expired)."""


class UnknownNames(LookupError):
    """The request named switches or metrics that the snapshot does not have."""

    def __init__(
        self,
        switches: Sequence[str] = (),
        metrics: Sequence[str] = (),
        info: SnapshotInfo | None = None,
    ) -> None:
        self.switches = tuple(switches)
        self.metrics = tuple(metrics)
        self.info = info  # the snapshot the names were looked up in
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
    return SnapshotInfo(**_meta_values(tuple(meta)), expires_in=max(pttl, 0) / 1000.0)


@lru_cache(maxsize=8)
def _meta_values(meta: tuple[Any, ...]) -> dict[str, Any]:
    """Return SnapshotInfo's fields but the expiry, parsed once per generation's meta."""
    fields = dict(zip(META_FIELDS, meta, strict=True))
    fetched_at = float(fields["fetched_at"] or 0)
    return {
        "generation": int(fields["generation"]),
        "written_at": float(fields["written_at"] or 0),
        "fetched_at": fetched_at,
        "source_time": float(fields["source_time"] or 0) or fetched_at,
        "source_etag": (fields["source_etag"] or b"").decode(),
        "ttl": int(fields["ttl"] or 0),
        "switch_count": int(fields["switches"] or 0),
        "metric_count": int(fields["metrics"] or 0),
        "snapshot": (fields["snapshot"] or b"").decode(),
    }


Command = tuple[bytes, ...]


@lru_cache(maxsize=16)
def _info_commands(keys: Keys) -> tuple[list[Command], bytes]:
    """Return the meta commands that open every read, and MULTI with them, packed once."""
    meta = keys.meta.encode()
    commands = [(b"HMGET", meta, *(f.encode() for f in META_FIELDS)), (b"PTTL", meta)]
    return commands, raw_exec.MULTI + b"".join(map(raw_exec.pack, commands))


def _transaction(client: redis.Redis, keys: Keys, commands: list[Command]) -> list[Any]:
    """Run the meta commands then ``commands`` in one MULTI/EXEC; return every result."""
    node = cluster_route.slot_node(client, keys)  # on a cluster: the node of the snapshot's slot
    if node is not client:
        return cluster_route.routed(client, lambda: _transaction(node, keys, commands))
    info_commands, head = _info_commands(keys)
    if raw_exec.supports(client):
        payload = b"".join([head, *map(raw_exec.pack, commands), raw_exec.EXEC])
        count = len(info_commands) + len(commands)
        retry = client.get_retry()
        if retry is None:
            return raw_exec.execute(client, payload, count)
        # As redis-py does: a dead pooled connection (say, after a restart) is retried anew.
        return retry.call_with_retry(
            lambda: raw_exec.execute(client, payload, count), lambda _error: None
        )
    pipe: Any = client.pipeline(transaction=True)
    for command in (*info_commands, *commands):
        pipe.execute_command(command[0].decode(), *command[1:])  # str: RedisCluster
    return list(pipe.execute())


def read_last_expiry(client: redis.Redis, keys: Keys) -> tuple[int, float] | None:
    """Return the generation and expiry time of the last snapshot written, or None if none was."""
    generation, expires_at = client.hmget(keys.last_snapshot, ["generation", "expires_at"])
    if generation is None or expires_at is None:
        return None
    return int(generation), float(expires_at)


def read_info(client: redis.Redis, keys: Keys) -> SnapshotInfo:
    """Return the current snapshot's description, or raise NoSnapshot."""
    meta, pttl = _transaction(client, keys, [])
    return _info(meta, pttl)


def read_metric(client: redis.Redis, keys: Keys, switch: str, metric: str) -> MetricValue:
    """Return one metric of one switch, or raise NoSnapshot or UnknownNames.

    The answer path reads the meta and the value only; which name is unknown is asked in a
    second transaction, on a miss alone.
    """
    switch_key = keys.switch(switch).encode()
    metric_name = metric.encode()
    for _ in range(2):  # a miss, then a new snapshot holding both names: read once more
        meta, pttl, value = _transaction(client, keys, [(b"HGET", switch_key, metric_name)])
        info = _info(meta, pttl)
        if value is not None:
            return MetricValue(info, switch, metric, value)
        meta, pttl, switch_known, metric_known = _transaction(
            client, keys, [(b"EXISTS", switch_key), (b"EXISTS", keys.metric(metric).encode())]
        )
        info = _info(meta, pttl)
        if not (switch_known and metric_known):
            raise UnknownNames(
                [switch] if not switch_known else [], [metric] if not metric_known else [], info
            )
    raise UnknownNames([switch], [metric], info)  # names that come and go between snapshots


def read_columns(client: redis.Redis, keys: Keys, metrics: Sequence[str]) -> Columns:
    """Return the named metrics for every switch, or raise NoSnapshot or UnknownNames.

    A metric's list is never empty in a snapshot, so an empty answer means an unknown name.
    """
    commands: list[Command] = [(b"LRANGE", keys.switches.encode(), b"0", b"-1")]
    commands += [(b"LRANGE", keys.metric(name).encode(), b"0", b"-1") for name in metrics]
    meta, pttl, switches, *columns = _transaction(client, keys, commands)
    info = _info(meta, pttl)
    unknown = [name for name, column in zip(metrics, columns, strict=True) if not column]
    if unknown:
        raise UnknownNames(metrics=unknown, info=info)
    return Columns(info, switches, list(metrics), columns)


def read_catalog(client: redis.Redis, keys: Keys) -> Catalog:
    """Return the snapshot's switch ids and metric names, or raise NoSnapshot."""
    meta, pttl, switches, metrics = _transaction(
        client,
        keys,
        [
            (b"LRANGE", keys.switches.encode(), b"0", b"-1"),
            (b"LRANGE", keys.metrics.encode(), b"0", b"-1"),
        ],
    )
    info = _info(meta, pttl)
    return Catalog(info, [s.decode() for s in switches], [m.decode() for m in metrics])


def read_every_column(client: redis.Redis, keys: Keys, hint: Sequence[str]) -> Columns:
    """Return every metric of every switch, or raise NoSnapshot.

    ``hint`` guesses the snapshot's metric names (the names of the last answer): when it is
    right, which is nearly always, this costs one round trip; else the read runs again with
    the names it found. Each attempt is one MULTI/EXEC, so the answer is one generation.
    """
    names = list(hint)
    for _attempt in range(3):
        commands: list[Command] = [
            (b"LRANGE", keys.switches.encode(), b"0", b"-1"),
            (b"LRANGE", keys.metrics.encode(), b"0", b"-1"),
        ]
        commands += [(b"LRANGE", keys.metric(name).encode(), b"0", b"-1") for name in names]
        meta, pttl, switches, metrics, *columns = _transaction(client, keys, commands)
        info = _info(meta, pttl)
        found = [name.decode() for name in metrics]
        if found == names:
            return Columns(info, switches, names, columns)
        names = found  # the table's columns changed since the hint was taken
    raise NoSnapshot("the snapshot's metrics kept changing while being read")
