"""The CSV parser: each rule refuses a bad body with a message naming the line and the problem."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refresher_worker.parser import CsvError, parse_counters

GOOD = b"switch,Latency,Errors\n1,0.5,3\n2,1.25,0\n"


def error_of(body: bytes, max_bytes: int = 1 << 20) -> str:
    with pytest.raises(CsvError) as caught:
        parse_counters(body, max_bytes)
    return str(caught.value)


def test_a_good_body_becomes_a_table() -> None:
    table = parse_counters(GOOD)
    assert table.switches == ["1", "2"] and table.metrics == ["Latency", "Errors"]
    assert table.values == [b"0.5", b"3", b"1.25", b"0"]
    assert table.column(0) == [b"0.5", b"1.25"]


def test_crlf_line_ends_and_no_final_newline_are_accepted() -> None:
    table = parse_counters(b"switch,A\r\n1,2\r\n2,3")
    assert table.switches == ["1", "2"] and table.values == [b"2", b"3"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"id,Latency\n1,2\n", "line 1: first header column must be 'switch', got 'id'"),
        (b"switch\n1\n", "line 1: header names no metric"),
        (
            b"switch,Lat ency\n1,2\n",
            "line 1: metric name 'Lat ency' must match [A-Za-z0-9_.-]{1,64}",
        ),
        (b"switch," + b"m" * 65 + b"\n1,2\n", "line 1: metric name 'mmmm"),
        (b"switch,A,B,A\n1,2,3,4\n", "line 1: metric 'A' appears twice"),
        (b"switch,A\n1,2\n7,3\n1,4\n", "line 4: switch id '1' appears twice"),
        (b"switch,A\n1,2\n,3\n", "line 3: empty switch id"),
        (b"switch,A\n1,2\nsw\x01,3\n", "line 3: switch id 'sw\\x01' has a control character"),
        (b"switch,A\n" + b"x" * 129 + b",1\n", "line 2: switch id over 128 characters"),
        (b"switch,A,B\n1,2,3\n2,3\n", "line 3: 2 fields, expected 3 as in the header"),
        (b"switch,A,B\n1,2,3,4\n", "line 2: 4 fields, expected 3 as in the header"),
        (b"switch,A\n1,2\n2,NaN\n", "line 3: A value 'NaN' is not a finite number"),
        (b"switch,A\n1,inf\n", "line 2: A value 'inf' is not a finite number"),
        (b"switch,A\n1,-Infinity\n", "line 2: A value '-Infinity' is not a finite number"),
        (b"switch,A\n1,fast\n", "line 2: A value 'fast' is not a finite number"),
        (b"switch,A\n1,\n", "line 2: A value '' is not a finite number"),
        (b"switch,A\n1, 2\n", "line 2: A value ' 2' is not a finite number"),
        (b"switch,A\n1,1e999\n", "line 2: A value '1e999' is not a finite number"),
        (b"switch,A\n1,2\n2,\xff\xfe\n", "line 3: not UTF-8 text (invalid start byte)"),
        (b"", "line 1: empty body, expected a header 'switch,<metric>,...'"),
        (b"switch,A\n", "line 2: no switch rows after the header"),
    ],
    ids=[
        "header-first-column",
        "header-no-metric",
        "metric-name-pattern",
        "metric-name-too-long",
        "duplicate-metric",
        "duplicate-switch",
        "empty-id",
        "control-char-id",
        "id-over-128",
        "ragged-short-row",
        "ragged-long-row",
        "nan",
        "inf",
        "minus-infinity",
        "not-a-number",
        "empty-value",
        "spaced-value",
        "overflow",
        "non-utf8",
        "empty-body",
        "header-only",
    ],
)
def test_each_rule_names_the_line_and_the_problem(body: bytes, message: str) -> None:
    assert error_of(body).startswith(message)


def test_an_id_of_exactly_128_characters_is_accepted() -> None:
    assert parse_counters(b"switch,A\n" + b"x" * 128 + b",1\n").switches == ["x" * 128]


def test_a_body_over_the_size_limit_is_refused() -> None:
    assert error_of(GOOD, max_bytes=10) == (
        f"body of {len(GOOD)} bytes is over the limit of 10 bytes"
    )


def test_quoted_csv_is_accepted_with_a_comma_in_an_id() -> None:
    table = parse_counters(b'switch,"Latency"\n"rack 1, top",0.5\n"2",7\n')
    assert table.switches == ["rack 1, top", "2"]
    assert table.metrics == ["Latency"] and table.values == [b"0.5", b"7"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'switch,A\n"a,b",1,2\n', "line 2: 3 fields, expected 2 as in the header"),
        (b'switch,A\n"a",1\n"a",2\n', "line 3: switch id 'a' appears twice"),
        (b'switch,A\n"",1\n', "line 2: empty switch id"),
        (b'switch,A\n"x",NaN\n', "line 2: A value 'NaN' is not a finite number"),
        (b'switch,A\n"x,1\n', "line 2: unexpected end of data"),
    ],
    ids=["ragged", "duplicate-switch", "empty-id", "nan", "unclosed-quote"],
)
def test_quoted_csv_follows_the_same_rules(body: bytes, message: str) -> None:
    assert error_of(body).startswith(message)


def test_a_quoted_body_with_an_empty_first_line_is_refused() -> None:
    assert error_of(b'\n"x",1\n').startswith("line 1: first header column must be 'switch'")


def test_a_nul_byte_is_refused_with_its_line() -> None:
    assert error_of(b"switch,Latency\n1,0.5\n2,1\x00\n") == "line 3: NUL byte"


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (b"-0.25", True), (b"1e3", True), (b"2.5E-3", True), (b"0", True), (b"-0", True),
        (b"0.5", True), (b"10", True), (b"-1e+5", True), (b"1E5", True), (b"0e0", True),
        (b"+5", False), (b"5.", False), (b".5", False), (b"-.5", False), (b"007", False),
        (b"-01", False), (b"00.5", False), (b"1.e3", False), (b".5e3", False), (b"+1e3", False),
        (b"01e3", False), (b"1e999", False), (b"e5", False), (b"1e", False), (b"-", False),
        (b".", False), (b"1.2.3", False), (b"1-2", False), (b"--1", False), (b"1_000", False),
        (b"0x10", False), (b"nan", False), (b"inf", False), (b"1" * 65, False),
    ],
)  # fmt: skip
def test_number_rules_are_jsons(value: bytes, accepted: bool) -> None:
    body = b"switch,A,B\n1,1," + value + b"\n2,3,4\n"
    if accepted:
        assert parse_counters(body).value(0, 1) == value
    else:
        assert error_of(body).startswith("line 2: B value ")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789+-.eE", min_size=1, max_size=12))
def test_a_value_is_accepted_exactly_when_json_reads_it_as_a_finite_number(text: str) -> None:
    try:
        number = json.loads(text)
        json_accepts = isinstance(number, int | float) and math.isfinite(number)
    except ValueError:
        json_accepts = False
    body = b"switch,A\n1," + text.encode() + b"\n"
    if json_accepts:
        assert parse_counters(body).value(0, 0) == text.encode()
    else:
        assert error_of(body).startswith("line 2: A value ")
