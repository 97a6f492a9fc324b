"""Format choice and rendering: CSV from bytes by joins, JSON with numbers."""

from __future__ import annotations

import pytest
from flask import Flask, request
from werkzeug.exceptions import BadRequest

from api_service.formats import csv_cell, csv_table, error_format, negotiate, number


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "csv"),
        ("*/*", "csv"),
        ("text/csv", "csv"),
        ("application/json", "json"),
        ("application/json, text/csv", "csv"),  # equal quality: the default wins
        ("text/csv, application/json", "csv"),
        ("text/csv;q=0.5, application/json", "json"),
        ("application/json;q=0, */*", "csv"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "csv"),
        ("application/problem+json", "csv"),
    ],
)
def test_accept_header_picks_the_format(accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept else {}
    with Flask(__name__).test_request_context("/", headers=headers):
        assert negotiate(request) == expected


def test_format_parameter_wins_and_a_bad_one_is_400_except_for_errors() -> None:
    app = Flask(__name__)
    with app.test_request_context("/?format=csv", headers={"Accept": "application/json"}):
        assert negotiate(request) == "csv"
    with app.test_request_context("/?format=yaml", headers={"Accept": "application/json"}):
        with pytest.raises(BadRequest):
            negotiate(request)
        assert error_format(request) == "json"


def test_csv_cell_quotes_only_when_needed() -> None:
    assert csv_cell(b"sw-1") == b"sw-1"
    assert csv_cell(b"a,b") == b'"a,b"'
    assert csv_cell(b'say "x"') == b'"say ""x"""'
    assert csv_cell(b"a\nb") == b'"a\nb"'


def test_csv_table_joins_columns_row_by_row() -> None:
    body = csv_table(b"switch", ["A", "B"], [b"1", b"2"], [[b"1.5", b"2.5"], [b"7", b"8"]])
    assert body == b"switch,A,B\n1,1.5,7\n2,2.5,8\n"
    assert csv_table(b"metric", [], [b"A", b"B"], []) == b"metric\nA\nB\n"


def test_csv_table_of_one_row_or_none_has_its_header_and_no_blank_line() -> None:
    assert csv_table(b"switch", ["A"], [b"1"], [[b"0.5"]]) == b"switch,A\n1,0.5\n"
    assert csv_table(b"switch", ["A"], [], [[]]) == b"switch,A\n"
    assert csv_table(b"metric", [], [], []) == b"metric\n"
    with pytest.raises(ValueError):  # a short column is an error, not a truncated table
        csv_table(b"switch", ["A"], [b"1", b"2"], [[b"0.5"]])


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b"12", 12),
        (b"-3", -3),
        (b"12.50", 12.5),
        (b"1e-3", 0.001),
        (b"nan", None),
        (b"inf", None),
        (b"n/a", None),
    ],
)
def test_values_become_json_numbers(text: bytes, value: float | None) -> None:
    assert number(text) == value
    assert type(number(text)) is type(value)
