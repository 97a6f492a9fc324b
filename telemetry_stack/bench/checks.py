"""What a 200 answer must hold, checked on every answer the bench counts.

Against what was asked: the CSV header names exactly the asked columns in order; GetMetric has
one row, for the asked switch, with a numeric value; ListMetrics has one row per known switch
(when the switches were discovered) and in every row one non-empty numeric cell per asked
column. Whole-table checks run as byte operations (line and comma skeletons, a character
class), so a check costs far less than the server's answer; the switch ids in the rows are
compared on three rows per answer (first, last, one at random) when ids are plain, on every
row otherwise.
"""

from __future__ import annotations

import random

from telemetry_stack.bench.answers import GET_METRIC, Asked, Catalog

_NUMBERS = b"0123456789.-+eE"
_TABLE = _NUMBERS + b",\n"  # what a table of numbers with numeric ids is made of
_NOT_SEPARATORS = bytes(range(256)).translate(None, b",\n")
_EMPTY = (b",,", b",\n", b"\n,", b"\n\n")


def split_first(row: bytes) -> tuple[bytes, bytes]:
    """Return a CSV row's first cell as written (quoted or not) and the rest after its comma."""
    if not row.startswith(b'"'):
        first, _, rest = row.partition(b",")
        return first, rest
    at = 1
    while (quote_at := row.find(b'"', at)) >= 0:
        if row[quote_at + 1 : quote_at + 2] != b'"':
            return row[: quote_at + 1], row[quote_at + 2 :]
        at = quote_at + 2
    return row, b""


def _number(value: bytes) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return bool(value) and not value.translate(None, _NUMBERS)


def check(asked: Asked, body: bytes, catalog: Catalog) -> str | None:
    """Return what is wrong with a 200 answer to ``asked``, or None when it is right."""
    end = body.find(b"\n")
    if end < 0 or not body.endswith(b"\n"):
        return "not CSV lines ending in a line break"
    if body[:end] != asked.header:
        return f"header {body[:end][:80]!r}, asked {asked.header[:80]!r}"
    table = body[end + 1 :]
    if asked.kind != GET_METRIC:
        return _check_table(asked, table, catalog)
    rows = table.count(b"\n")
    if rows != 1:
        return f"{rows} rows, expected 1"
    switch, value = split_first(table[:-1])
    if switch != asked.switch:
        return f"row of switch {switch[:40]!r}, asked {asked.switch!r}"
    if not _number(value):
        return f"value {value[:40]!r} is not a number"
    return None


def _check_table(asked: Asked, table: bytes, catalog: Catalog) -> str | None:
    rows = table.count(b"\n")
    if catalog.discovered and rows != len(catalog.cells):
        return f"{rows} rows, expected {len(catalog.cells)} (one per switch)"
    if not catalog.plain:
        return _check_rows(asked, table.split(b"\n")[:-1], catalog)
    skeleton = b"," * asked.columns + b"\n"
    if table.translate(None, _NOT_SEPARATORS) != skeleton * rows or _empty(table):
        return f"rows do not all have {asked.columns} value(s)"
    if catalog.numeric_ids and table.translate(None, _TABLE):
        return "a value is not a number"
    if not rows or (not catalog.discovered and catalog.numeric_ids):
        return None
    starts = {0, table.rfind(b"\n", 0, len(table) - 1) + 1}
    starts.add(table.rfind(b"\n", 0, random.randrange(len(table))) + 1)
    for start in starts:
        row = table[start : table.find(b"\n", start)]
        first, rest = split_first(row)
        at = table.count(b"\n", 0, start)
        if catalog.discovered and first != catalog.cells[at]:
            return f"row {at + 1} is switch {first[:40]!r}, expected {catalog.cells[at][:40]!r}"
        if not all(map(_number, rest.split(b","))):
            return f"a value of row {at + 1} is not a number"
    return None


def _empty(table: bytes) -> bool:
    return table.startswith((b",", b"\n")) or any(pair in table for pair in _EMPTY)


def _check_rows(asked: Asked, rows: list[bytes], catalog: Catalog) -> str | None:
    """Check every row on its own: for ids that need CSV quoting."""
    for at, row in enumerate(rows):
        first, rest = split_first(row)
        if catalog.discovered and first != catalog.cells[at]:
            return f"row {at + 1} is switch {first[:40]!r}, expected {catalog.cells[at][:40]!r}"
        values = rest.split(b",")
        if len(values) != asked.columns:
            return f"rows do not all have {asked.columns} value(s)"
        if not all(map(_number, values)):
            return f"a value of row {at + 1} is not a number"
    return None
