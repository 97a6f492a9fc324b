"""ListMetrics beyond the whole table: a page, an order, counter rates.

A page is read as the rows it shows (LRANGE of a span), a sorted page within the stored
ranking window as one short script (telemetry_common/pages.py); rates need both generations'
columns, so they are computed, sorted and cut here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import redis

from api_service.questions import NoPrevious
from telemetry_common import pages, ranking
from telemetry_common.keys import Keys
from telemetry_common.reader import Columns, GenerationGone, UnknownNames, read_columns

Order = tuple[str, bool] | None  # the metric to sort by, and whether largest first


@dataclass(frozen=True)
class Page:
    """The rows of one answer, the rows in all, and for rates their JSON texts and interval."""

    found: Columns  # switch ids and value texts (CSV)
    total: int
    json_columns: list[list[bytes]] | None = None  # None: found.columns
    interval: float | None = None


def plain(
    client: redis.Redis,
    keys: Keys,
    names: list[str],
    pinned: int | None,
    order: Order,
    rows: tuple[int, int | None],
) -> Page:
    """Return the asked page of the stored values."""
    if order is not None:
        found = pages.sorted_page(client, keys, names, order, rows, pinned)
    else:
        found = read_columns(client, keys, names, pinned, rows)
    return Page(found, found.info.switch_count)


def rated(
    client: redis.Redis,
    keys: Keys,
    names: list[str],
    pinned: int | None,
    order: Order,
    rows: tuple[int, int | None],
) -> Page:
    """Return the asked page of per-second rates since the generation this one replaced."""
    now = read_columns(client, keys, names, pinned)
    previous = now.info.previous
    if previous is None:
        raise NoPrevious(f"generation {now.info.generation} has no previous generation yet")
    try:
        before = read_columns(client, keys, names, previous)
    except (GenerationGone, UnknownNames):
        raise NoPrevious(f"generation {previous}, before {now.info.generation}, is gone") from None
    interval, values = pages.rates(now, before)
    if interval <= 0:
        raise NoPrevious(f"generation {previous} is not older than {now.info.generation}")
    if order is None:
        picked = np.arange(len(now.switches))
    else:
        key = values[names.index(order[0])]  # a switch without a rate sorts last
        filled = np.where(np.isnan(key), -np.inf if order[1] else np.inf, key)
        picked = ranking.sorted_rows(filled, order[1])
    offset, limit = rows
    picked = picked[offset : None if limit is None else offset + limit]
    csv = [_texts(column[picked], b"") for column in values]
    json = [_texts(column[picked], b"null") for column in values]
    switches = [now.switches[row] for row in picked.tolist()]
    page = Columns(now.info, switches, names, csv)
    return Page(page, len(now.switches), json, interval)


def _texts(column: np.ndarray, missing: bytes) -> list[bytes]:
    return [missing if np.isnan(x) else b"%.10g" % x for x in column.tolist()]


def rate_text(current: bytes, previous: bytes, interval: float) -> bytes:
    """Return one counter's per-second rate as text."""
    return b"%.10g" % float(pages.rate_of(float(current), float(previous), interval))
