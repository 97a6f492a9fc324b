"""Validate a ``/counters`` CSV body completely and turn it into a Table.

The common case (no quoted fields) takes a fast path of whole-buffer operations: one split,
then the values checked as a numpy byte matrix. A body with quotes goes through the ``csv``
module. Both apply the same rules; any violation raises CsvError naming the line and the
problem, before anything is written anywhere.
"""

from __future__ import annotations

import csv
import io
import re
from itertools import repeat

import numpy as np
import numpy.typing as npt

from refresher_worker.number_text import bad_number_index, values_matrix
from telemetry_common.snapshot import Table

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_ID_CHARS = 128
METRIC_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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
    if b"\x00" in body:
        line = body.count(b"\n", 0, body.index(b"\x00")) + 1
        raise CsvError(f"line {line}: NUL byte")
    if b'"' in body:
        return _parse_quoted(body)
    if body.endswith(b"\n"):
        body = body[:-1]
    if not body:
        raise CsvError("line 1: empty body, expected a header 'switch,<metric>,...'")
    header, _, data = body.partition(b"\n")
    metrics = _header(header.decode().split(","))
    width = len(metrics) + 1
    if not data:
        raise CsvError("line 2: no switch rows after the header")
    lines = data.split(b"\n")
    commas = set(map(bytes.count, lines, repeat(b",")))
    if commas != {width - 1}:
        for number, row in enumerate(lines, start=2):
            if _fields(row) != width:
                _width_error(number, _fields(row), width)
    flat = data.replace(b"\n", b",").split(b",")
    raw_ids = flat[0::width]
    del flat[0::width]
    switches = _switch_ids(b"\n".join(raw_ids).decode().split("\n"))
    return Table(switches, metrics, _numbers(flat, len(switches), metrics))


def _fields(line: bytes) -> int:
    return line.count(b",") + 1


def _header(fields: list[str]) -> list[str]:
    if fields[0] != "switch":
        raise CsvError(f"line 1: first header column must be 'switch', got {fields[0][:80]!r}")
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


def _switch_ids(ids: list[str]) -> list[str]:
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        for row, switch in enumerate(ids):
            if switch in seen:
                raise CsvError(f"line {row + 2}: switch id {switch[:80]!r} appears twice")
            seen.add(switch)
    if CONTROL.search(",".join(ids)) or "" in ids or max(map(len, ids)) > MAX_ID_CHARS:
        for row, switch in enumerate(ids):
            if not switch:
                raise CsvError(f"line {row + 2}: empty switch id")
            if len(switch) > MAX_ID_CHARS:
                raise CsvError(f"line {row + 2}: switch id over {MAX_ID_CHARS} characters")
            if CONTROL.search(switch):
                raise CsvError(f"line {row + 2}: switch id {switch!r} has a control character")
    return ids


def _numbers(values: list[bytes], rows: int, metrics: list[str]) -> npt.NDArray[np.bytes_]:
    """Return the values as a (rows, metrics) byte matrix, or raise naming the first bad one."""
    matrix = values_matrix(values, rows, len(metrics))
    bad = bad_number_index(matrix, values)
    if bad is not None:
        row, column = divmod(bad, len(metrics))
        text = values[bad][:40].decode(errors="replace")
        raise CsvError(
            f"line {row + 2}: {metrics[column]} value {text!r} is not a finite number"
            " (JSON's grammar: no '+', no leading zero, digits around a point, <= 64 chars)"
        )
    return matrix


def _parse_quoted(body: bytes) -> Table:
    """Parse a body with quoted fields through the csv module, with the same rules."""
    reader = csv.reader(io.StringIO(body.decode("utf-8"), newline=""), strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise CsvError(f"line {reader.line_num}: {exc}") from None
    if not records:
        raise CsvError("line 1: empty body, expected a header 'switch,<metric>,...'")
    metrics = _header(records[0] or [""])
    width = len(metrics) + 1
    if len(records) < 2:
        raise CsvError("line 2: no switch rows after the header")
    for number, record in enumerate(records[1:], start=2):
        if len(record) != width:
            _width_error(number, len(record), width)
    switches = _switch_ids([record[0] for record in records[1:]])
    values = [field.encode() for record in records[1:] for field in record[1:]]
    return Table(switches, metrics, _numbers(values, len(switches), metrics))
