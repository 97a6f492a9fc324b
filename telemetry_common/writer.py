"""Write a whole snapshot in one MULTI/EXEC.

The transaction replaces every key of the layout (see keys.py), gives each the same TTL,
deletes the keys of switches and metrics that left the table, and numbers the snapshot with a
generation (a short Lua step inside the EXEC). Plain redis-py clients get the transaction as
pre-packed bytes, encoded a block of rows at a time with numpy and streamed while Redis queues
the previous block (see packing.py and raw_exec.py); other clients (fakeredis, Redis Cluster)
get the same commands through a redis-py pipeline. Either way it is one atomic EXEC.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import redis

from telemetry_common import cluster_route, packing, raw_exec
from telemetry_common.keys import Keys
from telemetry_common.snapshot import META_FIELDS, SourceInfo, Table

Command = tuple[bytes, ...]
BLOCK_ROWS = 10_000
DEL_CHUNK = 1000

# Numbers the snapshot, replaces the meta hash and sets its TTL, and notes when it will expire
# in a hash that outlives it (so the API can say since when data is stale), in one step.
# KEYS: meta, generation counter, last-snapshot. ARGV: TTL, expiry time, meta field pairs.
META_SCRIPT = b"""
local generation = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'generation', generation, unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[3], 'generation', generation, 'expires_at', ARGV[2])
return generation
"""


class Plan:
    """Every command of one snapshot's transaction, as tuples or as packed bytes."""

    def __init__(
        self, keys: Keys, table: Table, ttl: int, gone: list[bytes], meta: list[bytes], now: float
    ):
        self.keys, self.table, self.gone, self.meta = keys, table, gone, meta
        self.ttl = str(ttl).encode()
        self.expires_at = f"{now + ttl:.3f}".encode()
        self.names = [name.encode() for name in table.metrics]
        self.ids = [switch.encode() for switch in table.switches]
        self.lists = [keys.metric(name).encode() for name in table.metrics]
        self.lists += [keys.switches.encode(), keys.metrics.encode()]
        self.switch_base = keys.switch("").encode()

    def head(self) -> list[Command]:
        """Return the deletions that open the transaction."""
        deletions = [(b"DEL", *self.lists)]
        gone = self.gone
        return deletions + [
            (b"DEL", *gone[i : i + DEL_CHUNK]) for i in range(0, len(gone), DEL_CHUNK)
        ]

    def tail(self) -> list[Command]:
        """Return the TTLs of the lists and the meta step that close the transaction."""
        expires: list[Command] = [(b"EXPIRE", key, self.ttl) for key in self.lists]
        keys = (self.keys.meta, self.keys.generation, self.keys.last_snapshot)
        meta = (b"EVAL", META_SCRIPT, b"3", *(key.encode() for key in keys))
        return [*expires, (*meta, self.ttl, self.expires_at, *self.meta)]

    def commands(self) -> list[Command]:
        """Return the whole transaction as argument tuples."""
        commands = self.head()
        for row, switch in enumerate(self.ids):
            key = self.switch_base + switch
            row_values = self.table.row(row)
            pairs = [p for pair in zip(self.names, row_values, strict=True) for p in pair]
            commands += [(b"HSET", key, *pairs), (b"EXPIRE", key, self.ttl)]
        columns = [self.table.column(j) for j in range(len(self.names))]
        for key, items in zip(self.lists, [*columns, self.ids, self.names], strict=True):
            commands.append((b"RPUSH", key, *items))
        return commands + self.tail()

    def packed(self) -> tuple[int, Iterator[bytes]]:
        """Return the number of commands and the transaction's bytes, block by block."""
        head, tail = self.head(), self.tail()
        count = len(head) + 2 * len(self.ids) + len(self.lists) + len(tail)
        return count, self._blocks(head, tail)

    def _blocks(self, head: list[Command], tail: list[Command]) -> Iterator[bytes]:
        yield b"".join(map(raw_exec.pack, head))
        cells = self.table.cells
        ids = np.array(self.ids, dtype=np.bytes_)
        width = len(self.names)
        hset = b"*%d\r\n$4\r\nHSET\r\n" % (2 + 2 * width)
        fields = [b"\r\n" + packing.bulk(name) for name in self.names]
        expire = (b"\r\n*3\r\n$6\r\nEXPIRE\r\n", b"\r\n" + packing.bulk(self.ttl))
        for start in range(0, len(ids), BLOCK_ROWS):
            block_ids = ids[start : start + BLOCK_ROWS]
            block = cells[start : start + BLOCK_ROWS]
            key_len = packing.length_prefixes(
                packing.byte_lengths(block_ids) + len(self.switch_base)
            )
            value_len = packing.length_prefixes(packing.byte_lengths(block))
            key_parts: list[packing.Piece] = [key_len, self.switch_base, block_ids]
            pieces: list[packing.Piece] = [hset, *key_parts]
            for j in range(width):
                pieces += [fields[j], value_len[:, j], block[:, j]]
            pieces += [expire[0], *key_parts, expire[1]]
            yield packing.rows(pieces, len(block_ids))
        columns = [cells[:, j] for j in range(width)]
        names = np.array(self.names, dtype=np.bytes_)
        for key, items in zip(self.lists, [*columns, ids, names], strict=True):
            lengths = packing.length_prefixes(packing.byte_lengths(items))
            header = b"*%d\r\n$5\r\nRPUSH\r\n" % (len(items) + 2) + packing.bulk(key)
            yield header + packing.rows([lengths, items, b"\r\n"], len(items))
        yield b"".join(map(raw_exec.pack, tail))


def _meta_fields(table: Table, ttl: int, source: SourceInfo, now: float) -> list[bytes]:
    fetched = source.fetched_at or now
    tick_time = source.tick_time if source.tick_time is not None else fetched
    values = {
        "written_at": f"{now:.3f}",
        "fetched_at": f"{fetched:.3f}",
        "source_time": f"{tick_time:.3f}",
        "source_etag": source.etag,
        "source_tick": source.tick,
        "ttl": str(ttl),
        "switches": str(len(table.switches)),
        "metrics": str(len(table.metrics)),
    }
    return [part.encode() for name in META_FIELDS[1:] for part in (name, values[name])]


def _departed(client: redis.Redis, keys: Keys, table: Table) -> list[bytes]:
    """Return the keys of switches and metrics that left the table.

    Read outside the transaction: a key missed here still expires at its TTL.
    """
    pipe = client.pipeline(transaction=False)
    pipe.lrange(keys.switches, 0, -1)
    pipe.lrange(keys.metrics, 0, -1)
    old_switches, old_metrics = ([item.decode() for item in items] for items in pipe.execute())
    gone = [keys.switch(s) for s in set(old_switches).difference(table.switches)]
    gone += [keys.metric(m) for m in set(old_metrics).difference(table.metrics)]
    if old_metrics and old_metrics != table.metrics:  # old fields would linger in the hashes
        gone += [keys.switch(s) for s in table.switches]
    return [key.encode() for key in gone]


def plan_snapshot(
    client: redis.Redis, keys: Keys, table: Table, *, ttl: int, source: SourceInfo, now: float
) -> Plan:
    """Return the plan of the transaction that replaces the snapshot with ``table``."""
    gone = _departed(client, keys, table)
    return Plan(keys, table, ttl, gone, _meta_fields(table, ttl, source, now), now)


def write_snapshot(
    client: redis.Redis,
    keys: Keys,
    table: Table,
    *,
    ttl: int,
    source: SourceInfo | None = None,
    now: float | None = None,
) -> int:
    """Replace the snapshot with ``table`` atomically and return its generation."""
    node = cluster_route.slot_node(client, keys)  # on a cluster: the node of the snapshot's slot
    if node is not client:
        return cluster_route.routed(
            client, lambda: write_snapshot(node, keys, table, ttl=ttl, source=source, now=now)
        )
    now = time.time() if now is None else now
    plan = plan_snapshot(client, keys, table, ttl=ttl, source=source or SourceInfo(), now=now)
    if raw_exec.supports(client):
        count, blocks = plan.packed()
        results = raw_exec.stream(client, blocks, count)
    else:
        pipe: Any = client.pipeline(transaction=True)
        for command in plan.commands():
            pipe.execute_command(command[0].decode(), *command[1:])  # str: RedisCluster
        results = pipe.execute()
    return int(results[-1])
