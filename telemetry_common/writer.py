"""Write a snapshot as a new generation in small steps, then publish it with one atomic flip.

A refresh never replaces keys that readers use. It numbers a new generation (INCR), writes
every key of it under ``<prefix>:<generation>:...`` (see keys.py) in batches that keep Redis
busy for a few milliseconds each, and gives every key an absolute expiry from Redis's clock:
the meta hash at the generation's deadline, its data keys a little later, spread batch by
batch over SPREAD_MS (all at one instant, 100,000 keys kept Redis's expiry cycle busy for
30 ms; over 5 s, 11 ms at most). A reader that finds the meta hash after reading has read live
data only. Then one short script decides the fence and, if the write wins, points
``<prefix>:current`` at the generation, with the meta hash's expiry; last, older generations
that can no longer be read are swept (sweep.py).
A write that loses writes no pointer: its keys are never read and expire by themselves. Each
batch is a short MULTI/EXEC, so no key ever exists without its expiry.
Switches and metrics that left the table are simply absent from the new generation.

Batches are packed with numpy (packing.py) and sent through redis-py's public
``Connection.send_packed_command``, the replies read with ``Connection.read_response``, on a
connection lent by the client's own pool: the same path for a plain server, TLS, Sentinel,
the slot's node of a cluster and fakeredis.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import redis

from telemetry_common import cluster_route, packing, ranking
from telemetry_common.fence import EXPIRED, Fence, Fenced, issue_token, read_fence, verdict
from telemetry_common.keys import Generation, Keys
from telemetry_common.snapshot import META_FIELDS, SourceInfo, Table
from telemetry_common.sweep import sweep

logger = logging.getLogger(__name__)

BATCH_ROWS = 1_000  # switch hashes a batch: 2,000 commands, about 1-2 ms of Redis's time
LIST_BATCH = 10_000  # list items an RPUSH
SPREAD_MS = 5_000  # the data keys expire over this long after the meta hash
Batch = tuple[bytes, int]  # packed commands and how many there are
MULTI = packing.pack((b"MULTI",))
EXEC = packing.pack((b"EXEC",))

# Decides the fence and publishes the generation, in one step. The token and source time are
# compared as fence.verdict does; a generation whose keys have expired is not published. The
# meta hash learns the generation it replaces ('previous'), which rates are computed against.
# KEYS: fence, current, the generation's meta. ARGV: token, source time, snapshot id,
# written at, generation, expiry (Unix ms).
FLIP_SCRIPT = """
local stored = redis.call('HMGET', KEYS[1], 'token', 'source_time', 'snapshot')
if stored[1] then
  if tonumber(ARGV[2]) < tonumber(stored[2]) then
    return {'older_source', stored[1], stored[2], stored[3]}
  end
  if tonumber(ARGV[1]) <= tonumber(stored[1]) then
    return {'older_token', stored[1], stored[2], stored[3]}
  end
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  return {'expired'}
end
local previous = redis.call('GET', KEYS[2])
if previous then
  redis.call('HSET', KEYS[3], 'previous', previous)
end
redis.call('SET', KEYS[2], ARGV[5], 'PXAT', ARGV[6])
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'source_time', ARGV[2], 'snapshot', ARGV[3],
  'generation', ARGV[5], 'written_at', ARGV[4], 'expires_at', ARGV[6])
return {'published'}
"""


def source_time(source: SourceInfo, now: float) -> float:
    """Return when the source made the table: its tick time, else when it was fetched."""
    if source.tick_time is not None:
        return source.tick_time
    return source.fetched_at or now


def meta_fields(
    table: Table, ttl: int, source: SourceInfo, now: float, snapshot: str, generation: int
) -> list[bytes]:
    """Return the meta hash of one generation as field, value pairs."""
    values = {
        "generation": str(generation),
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
    return [part.encode() for name in META_FIELDS for part in (name, values[name])]


def switch_batches(
    keys: Generation, table: Table, ids: packing.Strings, deadline: int
) -> Iterator[Batch]:
    """Yield the switch hashes (``ids``: the table's, encoded), HSET and PEXPIREAT each,
    BATCH_ROWS switches a batch; batch by batch, the expiry moves from ``deadline`` to
    ``deadline + SPREAD_MS``."""
    names = [name.encode() for name in table.metrics]
    base = keys.switch("").encode()
    hset = b"*%d\r\n$4\r\nHSET\r\n" % (2 + 2 * len(names))
    fields = [b"\r\n" + packing.bulk(name) for name in names]
    step = SPREAD_MS * BATCH_ROWS // max(len(ids), 1)
    for number, start in enumerate(range(0, len(ids), BATCH_ROWS)):
        expiry = str(deadline + min(number * step, SPREAD_MS)).encode()
        expire = (b"\r\n*3\r\n$9\r\nPEXPIREAT\r\n", b"\r\n" + packing.bulk(expiry))
        block_ids = ids[start : start + BATCH_ROWS]
        block = table.cells[start : start + BATCH_ROWS]
        key_len = packing.length_prefixes(packing.byte_lengths(block_ids) + len(base))
        value_len = packing.length_prefixes(packing.byte_lengths(block))
        key: list[packing.Piece] = [key_len, base, block_ids]
        pieces: list[packing.Piece] = [hset, *key]
        for j in range(len(names)):
            pieces += [fields[j], value_len[:, j], block[:, j]]
        pieces += [expire[0], *key, expire[1]]
        yield packing.rows(pieces, len(block_ids)), 2 * len(block_ids)


def list_batches(key: str, items: packing.Strings, expiry: bytes) -> Iterator[Batch]:
    """Yield one list in RPUSHes of LIST_BATCH items, each with the list's PEXPIREAT."""
    name = key.encode()
    expire = packing.pack((b"PEXPIREAT", name, expiry))
    for start in range(0, len(items), LIST_BATCH):
        part = items[start : start + LIST_BATCH]
        lengths = packing.length_prefixes(packing.byte_lengths(part))
        head = b"*%d\r\n$5\r\nRPUSH\r\n" % (len(part) + 2) + packing.bulk(name)
        yield head + packing.rows([lengths, part, b"\r\n"], len(part)) + expire, 2


def batches(keys: Generation, table: Table, meta: list[bytes], deadline: int) -> Iterator[Batch]:
    """Yield every command that writes one generation, in batches; the meta hash comes last."""
    ids = np.array([switch.encode() for switch in table.switches], dtype=np.bytes_)
    yield from switch_batches(keys, table, ids, deadline)
    expiry = str(deadline + SPREAD_MS).encode()
    for column, name in enumerate(table.metrics):
        yield from list_batches(keys.metric(name), table.cells[:, column], expiry)
    numbers = table.cells.astype(np.float64)  # the parser checked every value is a number
    for column, name in enumerate(table.metrics):
        for descending in (False, True):
            rows = ranking.sorted_rows(numbers[:, column], descending, ranking.WINDOW)
            yield from list_batches(keys.order(name, descending), ids[rows], expiry)
    yield from list_batches(keys.switches, ids, expiry)
    names = np.array([name.encode() for name in table.metrics], dtype=np.bytes_)
    yield from list_batches(keys.metrics, names, expiry)
    meta_key = keys.meta.encode()
    yield (
        packing.pack((b"HSET", meta_key, *meta))
        + packing.pack((b"PEXPIREAT", meta_key, str(deadline).encode())),
        2,
    )


def send(client: redis.Redis, commands: Iterator[Batch]) -> None:
    """Send each batch as one short MULTI/EXEC on one pooled connection.

    A batch sets every key's content and expiry together: no key is left without its TTL,
    whatever fails. The next batch is sent before the replies of the previous one are read,
    so Redis runs one while Python encodes the other. An error reply raises; the connection is
    then closed (replies are left unread), and Redis discards a transaction whose EXEC it did
    not get.
    """
    pool = client.connection_pool
    conn: Any = pool.get_connection()
    pending = 0  # replies of the batch sent before the last one
    try:
        for payload, count in commands:
            conn.send_packed_command([MULTI, payload, EXEC], check_health=False)
            for _ in range(pending):
                conn.read_response()
            pending = count + 2  # OK, QUEUED for each command, EXEC's array
        for _ in range(pending):
            conn.read_response()
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def begin(client: redis.Redis, keys: Keys, ttl: int) -> tuple[int, int]:
    """Number a new generation; return it and its deadline in Unix ms by Redis's clock."""
    pipe = client.pipeline(transaction=False)
    pipe.incr(keys.generation)
    pipe.time()
    generation, (seconds, micros) = pipe.execute()
    return int(generation), int(seconds) * 1000 + int(micros) // 1000 + ttl * 1000


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
    """Write ``table`` as a new generation and publish it if newer; return its generation.

    ``token`` is the fencing token the refresh took when it started (a new one if None).
    Raise fence.Fenced when Redis holds a newer snapshot (then the pointer is unchanged).
    """
    node = cluster_route.slot_node(client, keys)  # on a cluster: the node of the keys' slot
    if node is not client:
        return cluster_route.routed(
            client,
            lambda: write_snapshot(node, keys, table, ttl=ttl, source=source, now=now, token=token),
        )
    now = time.time() if now is None else now
    source = source or SourceInfo()
    token = issue_token(client, keys) if token is None else token
    when = float(f"{source_time(source, now):.3f}")  # as the meta and fence hashes hold it
    stored, _issued = read_fence(client, keys)
    reason = verdict(stored, token, when)
    if reason is not None:  # lost already: write nothing
        raise Fenced(reason, token, when, stored)
    generation, expiry = begin(client, keys, ttl)
    snapshot = secrets.token_hex(8)
    at = keys.at(generation)
    meta = meta_fields(table, ttl, source, now, snapshot, generation)
    send(client, batches(at, table, meta, expiry))
    flip = client.register_script(FLIP_SCRIPT)
    args: list[str | int] = [token, f"{when:.3f}", snapshot, f"{now:.3f}", generation, expiry]
    result = [_text(part) for part in flip(keys=[keys.fence, keys.current, at.meta], args=args)]
    if result[0] == "published":
        try:
            sweep(client, keys, generation)
        except redis.RedisError as exc:  # their keys expire by themselves
            logger.warning("could not sweep generations before %s: %r", generation, exc)
        return generation
    if result[0] == EXPIRED:
        raise Fenced(EXPIRED, token, when, stored)
    stored = Fence(int(result[1]), float(result[2]), result[3])
    raise Fenced(result[0], token, when, stored)


def _text(part: Any) -> str:
    return part.decode() if isinstance(part, bytes) else str(part)
