"""The questions asked of a snapshot beyond a plain read: sorted pages, rates, held generations.

A page sorted by a metric within the first ranking.WINDOW rows is one read-only script: the
generation's stored order gives the switch ids, their hashes the asked values. Deeper pages,
and anything sorted by a rate, are sorted here from whole columns, with the same rule
(numeric order, ties in row order). Rates follow Prometheus's ``rate``: the increase from the
generation a snapshot replaced over the difference of their source times, a decrease counting
as a counter reset (the new value is the increase).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import redis

from telemetry_common import ranking, reader
from telemetry_common.keys import Keys
from telemetry_common.reader import Columns, UnknownNames

# HEAD, then the switch ids of one order's rows ARGV[11]..ARGV[12] (key part ARGV[10]), and
# for each id its hash's fields ARGV[13]...
PAGE_SCRIPT = (
    reader.HEAD
    + """
local ids = redis.call('LRANGE', base .. ARGV[10], ARGV[11], ARGV[12])
table.insert(result, ids)
for _, id in ipairs(ids) do
  table.insert(result, redis.call('HMGET', base .. ARGV[6] .. id, unpack(ARGV, 13)))
end
return result
"""
)
LOOK_BACK = 8  # generations before the current one that held_generations looks for


def numbers(column: Sequence[bytes]) -> npt.NDArray[np.float64]:
    """Return a column's value texts as floats."""
    return np.array(column, dtype=np.bytes_).astype(np.float64) if column else np.empty(0)


def sorted_page(
    client: redis.Redis,
    keys: Keys,
    metrics: Sequence[str],
    by: tuple[str, bool],
    rows: tuple[int, int | None],
    generation: int | None = None,
) -> Columns:
    """Return ``metrics`` for rows ``(offset, limit)`` of the order ``by`` (metric, descending);
    a limit of None: every row from the offset on."""
    (name, descending), (offset, limit) = by, rows
    if limit is None or offset + limit > ranking.WINDOW:
        found = reader.read_columns(client, keys, list(dict.fromkeys([name, *metrics])), generation)
        count = None if limit is None else offset + limit
        order = ranking.sorted_rows(numbers(found.columns[0]), descending, count)
        return select(found, order[offset:], metrics)
    base = keys.at("")
    order_part = base.order(name, descending).removeprefix(base.base)
    args = reader.head_args(keys, generation, names=True)
    args += [order_part, offset, offset + limit - 1, *metrics]
    reply = reader.call(client, PAGE_SCRIPT, keys, args)
    head = reader.parse_head(reply, generation)
    unknown = [m for m in dict.fromkeys([name, *metrics]) if m not in head.metrics]
    if unknown:
        raise UnknownNames(metrics=unknown, info=head.info)
    ids, values = reply[4], reply[5:]
    columns = [[row[j] for row in values] for j in range(len(metrics))]
    return Columns(head.info, list(ids), list(metrics), columns)


def select(found: Columns, order: npt.NDArray[np.intp], metrics: Sequence[str]) -> Columns:
    """Return the rows ``order`` of ``found``, with the columns of ``metrics``."""
    picked = order.tolist()
    at = {name: found.columns[found.metrics.index(name)] for name in metrics}
    columns = [[at[name][row] for row in picked] for name in metrics]
    return Columns(found.info, [found.switches[row] for row in picked], list(metrics), columns)


def rates(now: Columns, before: Columns) -> tuple[float, list[npt.NDArray[np.float64]]]:
    """Return the interval and each column's per-second rate (NaN: absent from ``before``)."""
    interval = now.info.source_time - before.info.source_time
    index = {switch: row for row, switch in enumerate(before.switches)}
    rows = np.array([index.get(switch, -1) for switch in now.switches], dtype=np.intp)
    known = rows >= 0
    result = []
    for name, column in zip(now.metrics, now.columns, strict=True):
        current = numbers(column)
        old = numbers(before.columns[before.metrics.index(name)])
        previous = np.where(known, old[np.where(known, rows, 0)] if len(old) else 0.0, np.nan)
        result.append(rate_of(current, previous, interval))
    return interval, result


def rate_of(current: Any, previous: Any, interval: float) -> Any:
    """Return the per-second rate from ``previous`` to ``current`` (a decrease is a reset)."""
    increase = np.where(current < previous, current, current - previous)
    return increase / interval


def held_generations(client: redis.Redis, keys: Keys) -> list[int]:
    """Return the generations Redis still holds, newest first."""
    current = client.get(keys.current)
    if current is None:
        return []
    newest = int(current)
    candidates = list(range(newest, max(newest - LOOK_BACK - 1, 0), -1))
    pipe = client.pipeline(transaction=False)
    for number in candidates:
        pipe.exists(keys.at(number).meta)
    return [number for number, alive in zip(candidates, pipe.execute(), strict=True) if alive]
