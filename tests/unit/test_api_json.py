"""The spliced JSON answers read back exactly as a json.dumps rendering of the same data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api_service.formats import number
from api_service.json_table import around, json_object, json_rows, json_value

HOSTILE_IDS = [
    "1", 'quote"d', "back\\slash", '\\"', "</script>", "a,b", " spaced ", "ünï", "日本", "🚀",
    "\u2028\u2029", "tab\there", "nl\nx", "\x00nul", "\x7f\x9f", "{}[]:", "null", "-1",
]  # fmt: skip
EDGE_VALUES = [
    b"0", b"-0", b"0.0", b"-0.000", b"10", b"1e308", b"-1.5E-7", b"5e-324", b"2.5e+3",
    b"123456789012345678901234567890", b"-9007199254740993", b"0.1000000000000000055511151231",
]  # fmt: skip


def reference(ids: list[str], names: list[str], columns: list[list[bytes]]) -> list[Any]:
    """Return the rows as the obvious rendering builds them: one dict per switch."""
    return [
        {
            "switch": switch,
            "values": {n: number(c[row]) for n, c in zip(names, columns, strict=True)},
        }
        for row, switch in enumerate(ids)
    ]


def spliced(ids: list[str], names: list[str], columns: list[list[bytes]]) -> Any:
    return json.loads(json_rows([i.encode() for i in ids], names, columns))


def test_hostile_ids_and_edge_values_read_back_as_the_reference() -> None:
    count = len(HOSTILE_IDS)
    columns = [(EDGE_VALUES * 2)[:count], list(reversed(EDGE_VALUES * 2))[:count]]
    names = ["Latency", "Cpu.Usage_2"]
    found = spliced(HOSTILE_IDS, names, columns)
    assert found == json.loads(json.dumps(reference(HOSTILE_IDS, names, columns)))
    assert [row["switch"] for row in found] == HOSTILE_IDS
    assert found[9]["values"]["Latency"] == 123456789012345678901234567890  # exact, no float
    assert found[10]["values"]["Latency"] == -9007199254740993


def test_plain_ids_are_quoted_without_escaping() -> None:
    body = json_rows([b"1", b"sw-2"], ["A"], [[b"0.5", b"-3"]])
    assert body == b'[{"switch":"1","values":{"A":0.5}},{"switch":"sw-2","values":{"A":-3}}]'


def test_an_id_that_is_not_utf8_is_replaced_not_spliced() -> None:
    found = json.loads(json_rows([b"ok", b"\xff\xfe"], ["A"], [[b"1", b"2"]]))
    assert [row["switch"] for row in found] == ["ok", "\ufffd\ufffd"]


def test_no_switches_and_no_names() -> None:
    assert json_rows([], ["A"], [[]]) == b"[]"
    assert json.loads(json_rows([b"1"], [], [])) == [{"switch": "1", "values": {}}]
    assert json_rows([b"1"], ["A"], [[b"2"]]) == b'[{"switch":"1","values":{"A":2}}]'


@pytest.mark.parametrize("ids", [[], [b"1"], [b"1", b'q"x']])
def test_rows_within_an_object_are_that_object(ids: list[bytes]) -> None:
    head = {"generation": 7, "age": 0.5, "metrics": ["A"]}
    columns = [[b"1.5"] * len(ids)]
    body = json_rows(ids, ["A"], columns, around(head, b"switches"))
    assert body == json_object(head, b"switches", json_rows(ids, ["A"], columns))
    assert json.loads(body)["switches"] == json.loads(json_rows(ids, ["A"], columns))
    assert json.loads(json_rows(ids, ["A"], columns, around({}, b"s"))) == {
        "s": json.loads(json_rows(ids, ["A"], columns))
    }


def test_a_short_column_is_an_error_not_a_truncated_answer() -> None:
    with pytest.raises(ValueError, match="length"):
        json_rows([b"1", b"2"], ["A"], [[b"1"]])


@pytest.mark.parametrize("text", [b"+1", b".5", b"1.", b"007", b"NaN", b"Infinity", b"1,2", b'"'])
def test_a_value_json_refuses_is_null(text: bytes) -> None:
    assert json_value(text) == b"null"
    assert json.loads(json_object({"a": 1}, b"value", json_value(text))) == {"a": 1, "value": None}


def test_an_object_with_one_spliced_key() -> None:
    assert json_object({}, b"v", b"1.5") == b'{"v":1.5}'
    assert json.loads(json_object({"s": 'x"'}, b"v", b"-0")) == {"s": 'x"', "v": 0}


JSON_NUMBERS = st.from_regex(
    r"-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,2})?", fullmatch=True
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=8, unique=True),
    st.lists(st.from_regex(r"[A-Za-z0-9_.-]{1,8}", fullmatch=True), max_size=4, unique=True),
    st.data(),
)
def test_any_ids_and_numbers_read_back_as_the_reference(
    ids: list[str], names: list[str], data: st.DataObject
) -> None:
    values = st.lists(JSON_NUMBERS.map(str.encode), min_size=len(ids), max_size=len(ids))
    columns = [data.draw(values) for _ in names]
    found = spliced(ids, names, columns)
    assert found == json.loads(json.dumps(reference(ids, names, columns)))
