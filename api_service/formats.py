"""Pick the answer's format (CSV unless the client asks for JSON) and render bodies in it.

CSV is built from the bytes Redis returned, by joins, without decoding a value; so is the JSON
of data answers (json_table.py). ``number`` is the reference reading of a value's text.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Request, abort
from werkzeug.datastructures import MIMEAccept, MultiDict
from werkzeug.http import parse_accept_header

CSV = "csv"
JSON = "json"
CONTENT_TYPES = {CSV: "text/csv; charset=utf-8", JSON: "application/json"}
TEXT_TYPE = "text/plain; charset=utf-8"
_OFFERED = ("text/csv", "application/json")
FORMAT_RULE = "parameter 'format' must be 'csv' or 'json'"

# Bytes that make a CSV cell need quotes.
_CSV_SPECIAL = re.compile(rb'[",\r\n]')


def _from_accept(accept: str | None) -> str:
    if not accept or "json" not in accept:  # the common case, without parsing the header
        return CSV
    best = parse_accept_header(accept, MIMEAccept).best_match(_OFFERED)
    return JSON if best == "application/json" else CSV


def format_of(args: MultiDict[str, str], accept: str | None) -> str:
    """Return the format asked by ``format=`` or else by ``accept``; abort with 400 on a bad one."""
    if "format" not in args:  # cheaper than get(), which raises inside for a missing key
        return _from_accept(accept)
    asked = args["format"].lower()
    if asked not in CONTENT_TYPES:
        abort(400, description=FORMAT_RULE)
    return asked


def negotiate(request: Request) -> str:
    """Return the format asked by ``format=`` or else by Accept; abort with 400 on a bad one."""
    return format_of(request.args, request.environ.get("HTTP_ACCEPT"))


def error_format(request: Request) -> str:
    """Return the format for an error answer; never fails."""
    asked = (request.args.get("format") or "").lower()
    return asked if asked in CONTENT_TYPES else _from_accept(request.environ.get("HTTP_ACCEPT"))


def csv_cell(text: bytes) -> bytes:
    """Return ``text`` as one CSV cell, quoted when it holds a comma, quote or line break."""
    if _CSV_SPECIAL.search(text) is None:
        return text
    return b'"' + text.replace(b'"', b'""') + b'"'


def csv_table(
    first: bytes, names: list[str], ids: list[bytes], columns: list[list[bytes]]
) -> bytes:
    """Return ``first,<name>,...`` then one row per id: the id, then its value in each column."""
    if _CSV_SPECIAL.search(b"".join(ids)) is not None:
        ids = [csv_cell(item) for item in ids]
    head = b",".join([first, *(name.encode() for name in names)])
    rows = list(map(b",".join, zip(ids, *columns, strict=True))) if columns else list(ids)
    return joined(head + b"\n", b"\n", rows, b"\n") if rows else head + b"\n"


def joined(head: bytes, separator: bytes, rows: list[bytes], tail: bytes) -> bytes:
    """Return ``head + separator.join(rows) + tail``, the megabytes copied once, not 3 times.

    ``rows`` must not be empty; its first and last items are changed.
    """
    rows[0] = head + rows[0]
    rows[-1] += tail  # the same item as rows[0] when there is one row
    return separator.join(rows)


def number(text: bytes) -> int | float | None:
    """Return the value's text as a JSON number; None when it is not a finite number."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def json_body(payload: dict[str, Any]) -> bytes:
    """Return ``payload`` as compact JSON bytes."""
    return json.dumps(payload, separators=(",", ":")).encode()
