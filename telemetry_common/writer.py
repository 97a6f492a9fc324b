"""Write a whole snapshot in one MULTI/EXEC, only if it is newer than the one in Redis.

The transaction replaces every key of the layout (see keys.py), gives each the same TTL,
deletes the keys of switches and metrics that left the table, and numbers the snapshot with a
generation and a random snapshot id (a short Lua step inside the EXEC, which also records the
write's fencing token and source time in the fence hash). It runs on the connection that read
the fence under WATCH, and only if fence.verdict lets it (see fence.py and watched.py); a write
that loses raises fence.Fenced and writes nothing. Plain redis-py clients get the transaction
as pre-packed bytes, encoded a block of rows at a time with numpy and streamed while Redis
queues the previous block (see packing.py and raw_exec.py); other clients (fakeredis, Redis
Cluster) get the same commands through a redis-py pipeline. Either way it is one atomic EXEC.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import numpy as np
import redis

from telemetry_common import cluster_route, packing, raw_exec
from telemetry_common.fence import CONTENDED, Fenced, issue_token, verdict
from telemetry_common.keys import Keys
from telemetry_common.snapshot import META_FIELDS, SourceInfo, Table
from telemetry_common.watched import watch

Command = tuple[bytes, ...]
BLOCK_ROWS = 10_000
DEL_CHUNK = 1000
ATTEMPTS = 3  # a write whose EXEC was refused by a concurrent one is decided again

# Numbers the snapshot, replaces the meta hash and sets its TTL, notes when it will expire in a
# hash that outlives it (so the API can say since when data is stale), and records the write in
# the fence hash, in one step. The meta hash expires a few milliseconds before the key whose
# TTL was set first (KEYS[5]): Redis times each EXPIRE of a transaction when it runs it, so
# in a long EXEC the first keys expire earlier, and a reader must never see the meta without
# every key it describes.
# KEYS: meta, generation counter, last-snapshot, fence, the first key given a TTL.
# ARGV: TTL, expiry time, token, source time, snapshot id, write time, meta field pairs.
META_SCRIPT = b"""
local generation = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'generation', generation, unpack(ARGV, 7))
local left = redis.call('PTTL', KEYS[5])
if left > 10 then
  redis.call('PEXPIRE', KEYS[1], left - 5)
else
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
redis.call('HSET', KEYS[3], 'generation', generation, 'expires_at', ARGV[2])
redis.call('HSET', KEYS[4], 'token', ARGV[3], 'source_time', ARGV[4], 'snapshot', ARGV[5],
  'generation', generation, 'written_at', ARGV[6])
return generation
"""


class Plan:
    """Every command of one snapshot's transaction, as tuples or as packed bytes."""

    def __init__(
        self,
        keys: Keys,
        table: Table,
        ttl: int,
        gone: list[bytes],
        meta: list[bytes],
        fence: list[bytes],
        now: float,
    ):
        self.keys, self.table, self.gone, self.meta, self.fence = keys, table, gone, meta, fence
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
        keys = (self.keys.meta, self.keys.generation, self.keys.last_snapshot, self.keys.fence)
        first = self.switch_base + self.ids[0] if self.ids else self.lists[0]
        meta = (b"EVAL", META_SCRIPT, b"5", *(key.encode() for key in keys), first)
        return [*expires, (*meta, self.ttl, self.expires_at, *self.fence, *self.meta)]

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


def source_time(source: SourceInfo, now: float) -> float:
    """Return when the source made the table: its tick time, else when it was fetched."""
    if source.tick_time is not None:
        return source.tick_time
    return source.fetched_at or now


def meta_fields(
    table: Table, ttl: int, source: SourceInfo, now: float, snapshot: str
) -> list[bytes]:
    """Return the meta hash of one snapshot as field, value pairs."""
    values = {
        "written_at": f"{now:.3f}",
        "fetched_at": f"{source.fetched_at or now:.3f}",
        "source_time": f"{source_time(source, now):.3f}",
        "source_etag": source.etag,
        "source_tick": source.tick,
        "ttl": str(ttl),
        "switches": str(len(table.switches)),
        "metrics": str(len(table.metrics)),
        "snapshot": snapshot,
    }
    return [part.encode() for name in META_FIELDS[1:] for part in (name, values[name])]


def departed(
    keys: Keys, table: Table, old_switches: list[str], old_metrics: list[str]
) -> list[bytes]:
    """Return the keys of switches and metrics that left the table."""
    gone = [keys.switch(s) for s in set(old_switches).difference(table.switches)]
    gone += [keys.metric(m) for m in set(old_metrics).difference(table.metrics)]
    if old_metrics and old_metrics != table.metrics:  # old fields would linger in the hashes
        gone += [keys.switch(s) for s in table.switches]
    return [key.encode() for key in gone]


def write_snapshot(
    client: redis.Redis,
    keys: Keys,
    table: Table,
    *,
    ttl: int,
    source: SourceInfo | None = None,
    now: float | None = None,
    token: int | None = None,
) -> int:
    """Replace the snapshot with ``table`` atomically if newer; return its generation.

    ``token`` is the fencing token the refresh took when it started (a new one if None).
    Raise fence.Fenced, having written nothing, when Redis holds a newer snapshot.
    """
    node = cluster_route.slot_node(client, keys)  # on a cluster: the node of the snapshot's slot
    if node is not client:
        return cluster_route.routed(
            client,
            lambda: write_snapshot(node, keys, table, ttl=ttl, source=source, now=now, token=token),
        )
    now = time.time() if now is None else now
    source = source or SourceInfo()
    token = issue_token(client, keys) if token is None else token
    when = float(f"{source_time(source, now):.3f}")  # as the meta and fence hashes hold it
    stored = None
    for _ in range(ATTEMPTS):
        snapshot = secrets.token_hex(8)
        meta = meta_fields(table, ttl, source, now, snapshot)
        fence_args = [str(token).encode(), f"{when:.3f}".encode(), snapshot.encode()]
        fence_args.append(f"{now:.3f}".encode())
        try:
            with watch(client, keys) as watched:
                stored = watched.fence
                reason = verdict(stored, token, when)
                if reason is None:
                    gone = departed(keys, table, watched.switches, watched.metrics)
                    plan = Plan(keys, table, ttl, gone, meta, fence_args, now)
                    return int(watched.execute(plan)[-1])
        except redis.WatchError:
            continue  # another write committed first: decide again against it
        raise Fenced(reason, token, when, stored)
    raise Fenced(CONTENDED, token, when, stored)
