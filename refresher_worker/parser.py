"""Validate a ``/counters`` CSV body completely and turn it into a Table.

The common case (no quoted fields) takes a fast path of whole-buffer operations; a body with
quotes goes through the ``csv`` module. Both apply the same rules, and any violation raises
CsvError naming the line and the problem, before anything is written anywhere.
"""

from __future__ import annotations

import csv
import io
import math
import re

import numpy as np

from telemetry_common.snapshot import Table

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_ID_CHARS = 128
METRIC_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NUMBER_CHARS = b"0123456789.eE+-"
MAX_VALUE_CHARS = 64


class CsvError(ValueError):
    """The body is not a valid counters table; the message names the line and the problem."""


def parse_counters(body: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Table:
    """Return the validated table in ``body``, or raise CsvError."""
    if len(body) > max_bytes:
        raise CsvError(f"body of {len(body)} bytes is over the limit of {max_bytes} bytes")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise CsvError(f"line {line}: not UTF-8 text ({exc.reason})") from None
    if b"\r" in body:
        body = body.replace(b"\r\n", b"\n")
    if b'"' in body:
        return _parse_quoted(body)
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise CsvError("line 1: empty body, expected a header 'switch,<metric>,...'")
    metrics = _header([field.decode() for field in lines[0].split(b",")])
    rows = lines[1:]
    width = len(metrics) + 1
    if body.count(b",") != len(lines) * (width - 1):
        for number, line in enumerate(lines, start=1):
            if line.count(b",") != width - 1:
                _width_error(number, line.count(b",") + 1, width)
    flat = b",".join(rows).split(b",") if rows else []
    ids = flat[0::width]
    del flat[0::width]
    switches = _switch_ids(ids)
    _check_numbers(flat, metrics)
    return Table(switches, metrics, flat)


def _header(fields: list[str]) -> list[str]:
    if not fields or fields[0] != "switch":
        raise CsvError(f"line 1: first header column must be 'switch', got {fields[0]!r}")
    metrics = fields[1:]
    if not metrics:
        raise CsvError("line 1: header names no metric")
    seen: set[str] = set()
    for name in metrics:
        if not METRIC_NAME.fullmatch(name):
            raise CsvError(f"line 1: metric name {name[:80]!r} must match [A-Za-z0-9_.-]{{1,64}}")
        if name in seen:
            raise CsvError(f"line 1: metric {name!r} appears twice")
        seen.add(name)
    return metrics


def _width_error(line: int, fields: int, width: int) -> None:
    raise CsvError(f"line {line}: {fields} fields, expected {width} as in the header")


def _switch_ids(raw: list[bytes]) -> list[str]:
    if not raw:
        raise CsvError("line 2: no switch rows after the header")
    ids = [value.decode() for value in raw]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        for row, switch in enumerate(ids):
            if switch in seen:
                raise CsvError(f"line {row + 2}: switch id {switch!r} appears twice")
            seen.add(switch)
    bad = CONTROL.search(",".join(ids))
    if bad or "" in ids or max(map(len, ids)) > MAX_ID_CHARS:
        for row, switch in enumerate(ids):
            if not switch:
                raise CsvError(f"line {row + 2}: empty switch id")
            if len(switch) > MAX_ID_CHARS:
                raise CsvError(f"line {row + 2}: switch id over {MAX_ID_CHARS} characters")
            if CONTROL.search(switch):
                raise CsvError(f"line {row + 2}: switch id {switch!r} has a control character")
    return ids


def _check_numbers(values: list[bytes], metrics: list[str]) -> None:
    """Check that every value is a finite decimal number, written without spaces."""
    joined = b",".join(values)
    clean = not joined.translate(None, NUMBER_CHARS + b",") and (
        max(map(len, values), default=0) <= MAX_VALUE_CHARS
    )
    if clean:
        try:
            numbers = np.fromiter(map(float, values), dtype=np.float64, count=len(values))
            clean = bool(np.isfinite(numbers).all())
        except ValueError:
            clean = False
    if clean:
        return
    width = len(metrics)
    for index, value in enumerate(values):
        if not _is_finite_number(value):
            row, column = divmod(index, width)
            raise CsvError(
                f"line {row + 2}: {metrics[column]} value {value[:40].decode(errors='replace')!r}"
                " is not a finite number of at most 64 characters"
            )


def _is_finite_number(value: bytes) -> bool:
    if not value or len(value) > MAX_VALUE_CHARS or value.translate(None, NUMBER_CHARS):
        return False
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _parse_quoted(body: bytes) -> Table:
    """Parse a body with quoted fields through the csv module, with the same rules."""
    reader = csv.reader(io.StringIO(body.decode("utf-8"), newline=""), strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise CsvError(f"line {reader.line_num}: {exc}") from None
    if not records:
        raise CsvError("line 1: empty body, expected a header 'switch,<metric>,...'")
    metrics = _header(records[0])
    width = len(metrics) + 1
    for number, record in enumerate(records[1:], start=2):
        if len(record) != width:
            _width_error(number, len(record), width)
    switches = _switch_ids([record[0].encode() for record in records[1:]])
    values = [field.encode() for record in records[1:] for field in record[1:]]
    _check_numbers(values, metrics)
    return Table(switches, metrics, values)
