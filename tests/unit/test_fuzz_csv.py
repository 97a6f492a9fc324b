"""Hostile /counters bodies: each is refused naming its line, and the last snapshot stays as it was.

A valid table is drawn, then broken in one way whose line is known (bad header, ragged row,
NaN or infinity, duplicate id, huge field, wrong encoding, truncation, stray quote...). The
body goes through the parser and through the real refresh, with an injected fetch, over a
good snapshot in fakeredis. Random bodies check that the parser either refuses with a line or
returns a table that the csv module reads the same way and that follows every rule.
"""

from __future__ import annotations

import csv
import io
import math
import re
import string
from dataclasses import dataclass
from typing import Any

import fakeredis
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from refresher_worker.fetch import Fetched
from refresher_worker.parser import CsvError, parse_counters
from refresher_worker.refresh import refresh_once
from refresher_worker.settings import RefresherSettings
from telemetry_common.keys import Keys

KEYS = Keys("fuzz")
SETTINGS = RefresherSettings(source_url="http://127.0.0.1:9/counters", key_prefix=KEYS.prefix)
LINE = re.compile(r"line (\d+): ")
NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")  # JSON's
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NAME_CHARS = string.ascii_letters + string.digits + "_.-"
CONTROLS = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))
FIELD = st.characters(codec="utf-8", exclude_characters=',"\r\n')  # utf-8: no surrogates
IDS = st.text(
    st.characters(codec="utf-8", exclude_characters=',"' + CONTROLS), min_size=1, max_size=10
)
VALUES = st.one_of(
    st.integers(-(10**15), 10**15).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(0, 1e5).map(lambda x: f"{x:.3f}"),
)
NOT_FINITE = ["nan", "NaN", "inf", "-inf", "+Infinity", "1e999", "-1e400", "", " 1", "1 ", "0x10"]
NOT_FINITE += ["1_000", "\u0661", "1e", "e5", "--1", "1..2", ".", "+", "1.2.3", "Inf", "1e5.5"]
NOT_FINITE += ["+1", ".5", "1.", "007", "-01", "1.e5"]  # JSON refuses them too
BAD_UTF8 = [b"\xff", b"\xc3\x28", b"\xe9", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]


@dataclass(frozen=True)
class Table:
    """A valid table as text: metric names, then one row of [id, value, ...] per switch."""

    metrics: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Broken:
    """A body broken in one way, the good body it came from, and the lines it may be refused at."""

    kind: str
    body: bytes
    good: bytes
    lines: range


@st.composite
def good_tables(draw: st.DrawFn) -> Table:
    """Draw a valid table of 1-5 metrics and 1-6 switches."""
    metrics = draw(
        st.lists(st.text(NAME_CHARS, min_size=1, max_size=12), min_size=1, max_size=5, unique=True)
    )
    ids = draw(st.lists(IDS, min_size=1, max_size=6, unique=True))
    rows = [[switch, *draw(st.lists(VALUES, min_size=len(metrics), max_size=len(metrics)))]
            for switch in ids]  # fmt: skip
    return Table(metrics, rows)


def render(table: Table) -> bytes:
    """Return the table as a CSV body."""
    return "".join(
        f"{line}\n" for line in [",".join(["switch", *table.metrics]), *map(",".join, table.rows)]
    ).encode()


def _lines(draw: st.DrawFn, table: Table, kind: str) -> tuple[list[list[str]], range]:
    """Break the table's lines in the way ``kind`` names; return them and the expected line."""
    lines = [["switch", *table.metrics], *(list(row) for row in table.rows)]
    width, count = len(lines[0]), len(lines)
    r = draw(st.integers(1, count - 1))  # a row's index in lines; its line number is r + 1
    c = draw(st.integers(1, width - 1))
    if kind == "header":
        lines[0][0] = draw(st.text(FIELD, max_size=20).filter(lambda text: text != "switch"))
        return lines, range(1, 2)
    if kind == "metric name":
        part = st.text(NAME_CHARS, max_size=4)
        bad_char = st.characters(codec="utf-8", exclude_characters=NAME_CHARS + ',"\r\n')
        bad = st.tuples(part, bad_char, part).map("".join)
        bad_names = st.one_of(st.just(""), st.text(NAME_CHARS, min_size=65, max_size=300), bad)
        lines[0][c] = draw(bad_names)
        return lines, range(1, 2)
    if kind == "duplicate metric" and width > 2:
        lines[0][c] = lines[0][1 if c > 1 else 2]
        return lines, range(1, 2)
    if kind == "duplicate switch" and count > 2:
        first = draw(st.integers(1, count - 2))
        r = draw(st.integers(first + 1, count - 1))
        lines[r][0] = lines[first][0]
    elif kind == "ragged":
        lines[r] = lines[r][:-1] if draw(st.booleans()) else [*lines[r], "1"]
    elif kind == "not finite":
        lines[r][c] = draw(st.sampled_from(NOT_FINITE))
    elif kind == "huge field":
        column = draw(st.sampled_from([0, c]))  # an id over 128 characters, a value over 64
        size = draw(st.integers(129 if column == 0 else 65, 5000))
        lines[r][column] = ("x" if column == 0 else "9") * size
    elif kind == "bad id":
        mark = draw(st.sampled_from(["", "\x01", "\x1b", "\x7f", "\x9b", "\t", "\x00"]))
        lines[r][0] = lines[r][0] + mark if mark else ""  # a control character, or empty
    elif kind == "blank line":
        lines.insert(r, [""])
    elif kind == "stray quote":
        lines[r][c] = '"' + lines[r][c]
        return lines, range(r + 1, len(lines) + 1)
    else:
        lines[r] = lines[r][:-1]  # a kind that needs a bigger table: a short row instead
    return lines, range(r + 1, r + 2)


TEXT_KINDS = ["header", "metric name", "duplicate metric", "duplicate switch", "ragged"]
TEXT_KINDS += ["not finite", "huge field", "bad id", "blank line", "stray quote"]
KINDS = [*TEXT_KINDS, "encoding", "utf-16", "truncated", "empty"]


@st.composite
def broken_bodies(draw: st.DrawFn, kind: str) -> Broken:
    """Draw a valid table's body and the same body broken in the way ``kind`` names."""
    table = draw(good_tables())
    good = render(table)
    count = len(table.rows) + 1
    r = draw(st.integers(1, count - 1))
    if kind == "encoding":
        raw = good.split(b"\n")
        raw[r] = draw(st.sampled_from(BAD_UTF8)) + raw[r]
        return Broken(kind, b"\n".join(raw), good, range(r + 1, r + 2))
    if kind == "utf-16":
        return Broken(kind, good.decode().encode("utf-16"), good, range(1, 2))
    if kind == "truncated":  # inside row r, before its last comma: the row is short
        start = len(b"\n".join(good.split(b"\n")[:r])) + 1
        row = good.split(b"\n")[r]
        cut = start + draw(st.integers(1, row.rindex(b",")))
        return Broken(kind, good[:cut], good, range(r + 1, r + 2))
    if kind == "empty":
        body = draw(st.sampled_from([b"", b"\n", render(Table(table.metrics, []))]))
        return Broken(kind, body, good, range(1, 3))
    lines, expected = _lines(draw, table, kind)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    body = (newline.join(map(",".join, lines)) + newline * draw(st.booleans())).encode()
    return Broken(kind, body, good, expected)


def fetch_of(body: bytes) -> Any:
    """Return a fetch function that answers ``body`` as a new table."""

    def fetch(url: str, **_options: object) -> Fetched:
        return Fetched(body=body, etag=f'"{hash(body)}"', tick="1", tick_time=None, fetched_at=0.0)

    return fetch


def keyspace(client: Any) -> dict[bytes, Any]:
    """Return every key but the status hash, with its type, content and whether it expires.

    The fence's count of tokens issued is left out: every refresh advances it when it starts.
    """
    found: dict[bytes, Any] = {}
    for key in sorted(client.scan_iter()):
        if key == KEYS.status.encode():
            continue
        kind = client.type(key).decode()
        content = {
            "hash": client.hgetall,
            "list": lambda k: client.lrange(k, 0, -1),
            "string": client.get,
        }[kind](key)
        if key == KEYS.fence.encode():
            content.pop(b"issued")
        found[key] = (kind, content, client.ttl(key) > 0)
    return found


def line_of(message: str) -> int:
    """Return the line number a CsvError message names, or fail."""
    match = LINE.match(message)
    assert match, f"the message names no line: {message!r}"
    return int(match.group(1))


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_broken_body_is_refused_naming_its_line_and_the_snapshot_stays(
    kind: str, data: st.DataObject
) -> None:
    case = data.draw(broken_bodies(kind), label="case")
    with pytest.raises(CsvError) as refused:
        parse_counters(case.body)
    line = line_of(str(refused.value))
    assert line in case.lines, f"{case.kind}: {refused.value} (expected line {case.lines})"

    client = fakeredis.FakeRedis()
    first = refresh_once(client, KEYS, SETTINGS, fetch=fetch_of(case.good))
    assert first.result == "written", first.error
    before = keyspace(client)
    outcome = refresh_once(client, KEYS, SETTINGS, fetch=fetch_of(case.body))
    assert (outcome.result, outcome.error_kind) == ("failed", "invalid_csv")
    assert f"line {line}: " in outcome.error
    assert keyspace(client) == before
    assert client.hget(KEYS.status, "last_error_kind") == b"invalid_csv"


def agrees_with_csv_module(body: bytes) -> None:
    """Check a body the parser accepted against the rules, read with the csv module."""
    table = parse_counters(body)
    text = body.decode("utf-8").replace("\r\n", "\n")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert rows[0] == ["switch", *table.metrics]
    assert [row[0] for row in rows[1:]] == table.switches
    assert len(set(table.switches)) == len(table.switches)
    assert all(0 < len(s) <= 128 and not CONTROL.search(s) for s in table.switches)
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name) for name in table.metrics)
    assert len(set(table.metrics)) == len(table.metrics)
    for row, values in zip(rows[1:], map(table.row, range(len(table.switches))), strict=True):
        assert [value.decode() for value in values] == row[1:]
        for value in row[1:]:
            assert NUMBER.fullmatch(value) and len(value) <= 64 and math.isfinite(float(value))


CSV_BYTES = b'switch,Lat.1\n\r"0-+eE .9naifNI\x00\x85\xc3\xa9\xff'
CSVISH = st.binary(max_size=200).map(lambda raw: bytes(CSV_BYTES[b % len(CSV_BYTES)] for b in raw))


@st.composite
def near_valid(draw: st.DrawFn) -> bytes:
    """Draw a valid body with up to three bytes inserted, deleted or replaced."""
    body = bytearray(render(draw(good_tables())))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(body)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = CSV_BYTES[draw(st.integers(0, len(CSV_BYTES) - 1))]
        if edit == "insert":
            body.insert(at, byte)
        elif at < len(body):
            body[at : at + 1] = b"" if edit == "delete" else bytes([byte])
    return bytes(body)


@FUZZ
@given(st.one_of(st.binary(max_size=300), CSVISH, near_valid()))
def test_any_body_is_refused_with_a_line_or_read_as_the_rules_say(body: bytes) -> None:
    try:
        agrees_with_csv_module(body)
        event("accepted")
    except CsvError as exc:
        event("refused")
        line = line_of(str(exc))
        assert 1 <= line <= body.count(b"\n") + body.count(b"\r") + 2
