"""Write a whole snapshot in one MULTI/EXEC.

The transaction replaces every key of the layout (see keys.py), gives each the same TTL,
deletes the keys of switches and metrics that left the table, and numbers the snapshot with a
generation. The commands are packed as one byte stream (see resp.py) and sent on one pooled
connection; clients without a plain socket (fakeredis, Redis Cluster) get the same commands
through a redis-py pipeline. Either way the write is one atomic transaction.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from telemetry_common import raw_exec
from telemetry_common.keys import Keys
from telemetry_common.resp import inline_arg, inline_chunks, is_plain, multibulk
from telemetry_common.snapshot import META_FIELDS, SourceInfo, Table

# Numbers the snapshot, replaces the meta hash and sets its TTL, in one step inside the EXEC.
META_SCRIPT = """
local generation = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'generation', generation, unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return generation
"""


def _meta_fields(table: Table, ttl: int, source: SourceInfo, now: float) -> list[str]:
    fetched = source.fetched_at or now
    values = {
        "written_at": f"{now:.3f}",
        "fetched_at": f"{fetched:.3f}",
        "source_time": f"{source.tick_time if source.tick_time is not None else fetched:.3f}",
        "source_etag": source.etag,
        "source_tick": source.tick,
        "ttl": str(ttl),
        "switches": str(len(table.switches)),
        "metrics": str(len(table.metrics)),
    }
    flat: list[str] = []
    for name in META_FIELDS[1:]:
        flat += [name, values[name]]
    return flat


def _departed(client: redis.Redis, keys: Keys, table: Table) -> tuple[list[str], bool]:
    """Return the keys of switches and metrics that left the table, and whether columns changed.

    Read outside the transaction: a key missed here still expires at its TTL.
    """
    pipe = client.pipeline(transaction=False)
    pipe.lrange(keys.switches, 0, -1)
    pipe.lrange(keys.metrics, 0, -1)
    old_switches, old_metrics = ([item.decode() for item in items] for items in pipe.execute())
    gone = [keys.switch(s) for s in set(old_switches).difference(table.switches)]
    gone += [keys.metric(m) for m in set(old_metrics).difference(table.metrics)]
    return gone, bool(old_metrics) and old_metrics != table.metrics


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
    now = time.time() if now is None else now
    gone, columns_changed = _departed(client, keys, table)
    if columns_changed:  # old fields would linger in the per-switch hashes
        gone += [keys.switch(s) for s in table.switches]
    meta = _meta_fields(table, ttl, source or SourceInfo(), now)
    if raw_exec.supports(client):
        return _write_packed(client, keys, table, ttl, gone, meta)
    return _write_pipeline(client, keys, table, ttl, gone, meta)


def _write_packed(
    client: redis.Redis, keys: Keys, table: Table, ttl: int, gone: list[str], meta: list[str]
) -> int:
    ttl_b = str(ttl).encode()
    lines: list[bytes] = []
    for start in range(0, len(gone), 1000):
        lines.append(multibulk(b"DEL", *(k.encode() for k in gone[start : start + 1000])))
    width = len(table.metrics)
    row_format = (
        b"HSET %s "
        + b" ".join(name.encode() + b" %s" for name in table.metrics)
        + b"\r\nEXPIRE %s "
        + ttl_b
        + b"\r\n"
    )
    switch_keys = [inline_arg(keys.switch(s).encode()) for s in table.switches]
    values = table.values
    lines += [
        row_format % (key, *values[row * width : (row + 1) * width], key)
        for row, key in enumerate(switch_keys)
    ]
    columns = [
        (keys.metric(name).encode(), table.column(i)) for i, name in enumerate(table.metrics)
    ]
    ids = [s.encode() for s in table.switches]
    if not all(map(is_plain, ids)):
        ids = [inline_arg(i) for i in ids]
    columns.append((keys.switches.encode(), ids))
    columns.append((keys.metrics.encode(), [m.encode() for m in table.metrics]))
    for key, items in columns:
        lines.append(b"DEL " + key + b"\r\n")
        lines += inline_chunks(b"RPUSH", key, items)
        lines.append(b"EXPIRE " + key + b" " + ttl_b + b"\r\n")
    script_args = [b"EVAL", META_SCRIPT.encode(), b"2", keys.meta.encode()]
    script_args += [keys.generation.encode(), ttl_b, *(f.encode() for f in meta)]
    lines.append(multibulk(*script_args))
    count = len(lines) + len(table.switches)  # each row line holds HSET and EXPIRE
    results = raw_exec.transaction(client, lines, count)
    return int(results[-1])


def _write_pipeline(
    client: redis.Redis, keys: Keys, table: Table, ttl: int, gone: list[str], meta: list[str]
) -> int:
    pipe: Any = client.pipeline(transaction=True)
    if gone:
        pipe.delete(*gone)
    for row, switch in enumerate(table.switches):
        key = keys.switch(switch)
        pipe.hset(key, mapping=dict(zip(table.metrics, table.row(row), strict=True)))
        pipe.expire(key, ttl)
    columns = [(keys.metric(name), table.column(i)) for i, name in enumerate(table.metrics)]
    columns.append((keys.switches, [s.encode() for s in table.switches]))
    columns.append((keys.metrics, [m.encode() for m in table.metrics]))
    for key, items in columns:
        pipe.delete(key)
        pipe.rpush(key, *items)
        pipe.expire(key, ttl)
    pipe.eval(META_SCRIPT, 2, keys.meta, keys.generation, ttl, *meta)
    return int(pipe.execute()[-1])
