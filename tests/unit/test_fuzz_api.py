"""Hostile query strings on every endpoint: no 5xx but a deliberate 503, no key outside the prefix.

Requests go through the Flask test client to an app on fakeredis whose connection records
every command it sends. Decoy keys outside the prefix hold values that must never show up.
With a snapshot in Redis, every answer is a 200 that tells the truth, a 304, a 400 that names
its parameter or a 404; without one, the data endpoints answer a deliberate 503 and ask RQ
for a refresh (RQ's own three keys are the only ones outside the prefix they touch).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

import fakeredis
import hiredis
import pytest
from flask import Flask
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from api_service.formats import number
from api_service.openapi import SPEC

try:
    import schemathesis
    from schemathesis.checks import positive_data_acceptance
except ImportError:  # not a dev dependency yet: the conformance test is skipped
    schemathesis = None  # type: ignore[assignment]
from tests.helpers.api import METRICS, ROWS, SWITCHES, make_app, put_snapshot
from tests.helpers.exposition import expected as exposition
from tests.helpers.exposition import parse, switch_samples

PREFIX = b"telemetry:"
REQUEST_KEY = b"telemetry:refresh:request"  # the one key the API writes: asking for a refresh
DECOYS = ["secret", "telemetryx:switch:1", "other:switch:1", "{x}:switch:1", "{telemetry}:meta"]
READS = {
    b"GET",
    b"HMGET",
    b"PTTL",
    b"HGET",
    b"EXISTS",
    b"LRANGE",
    b"EVALSHA",
    b"SCRIPT",
}  # EVALSHA: reader.py's read-only scripts
SETUP = {b"HELLO", b"CLIENT"}  # sent once per new connection
ASK = {b"SET"}  # asking for a refresh, on REQUEST_KEY only
PATHS = ["/telemetry/GetMetric", "/telemetry/ListMetrics", "/telemetry/switches"]
PATHS += ["/telemetry/metrics", "/healthz", "/readyz", "/metrics", "/openapi.json"]
PATHS += ["/telemetry/prometheus", "/"]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


class Recording(fakeredis.FakeRedisConnection):
    """A fake Redis connection that records every command it sends, as Redis receives it."""

    sent: ClassVar[list[list[bytes]]] = []

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        reader = hiredis.Reader()
        for part in [command] if isinstance(command, bytes | str) else command:
            reader.feed(bytes(part))  # type: ignore[arg-type]
        while (parsed := reader.gets()) is not False:
            Recording.sent.append(parsed)
        super().send_packed_command(command, check_health)  # type: ignore[no-untyped-call]


def keys_of(command: list[bytes]) -> list[bytes]:
    """Return the keys a command names (its first argument for the few commands seen here)."""
    name = command[0].upper()
    if name in SETUP or name in {b"MULTI", b"EXEC", b"INFO", b"SCRIPT"}:
        return []
    if name == b"EVALSHA":
        return command[3 : 3 + int(command[2])]
    if name == b"EXISTS":
        return command[1:]
    return command[1:2]


@dataclass(frozen=True)
class Api:
    """An app over fakeredis, with or without a snapshot."""

    app: Flask
    live: bool


def build(live: bool) -> Api:
    """Return the app on a recording fakeredis, with decoys outside the prefix."""
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer(), connection_class=Recording)
    for decoy in DECOYS:
        client.hset(decoy, mapping={"Latency": "do-not-leak", "generation": "do-not-leak"})
        client.rpush(decoy + ":list", "do-not-leak")
    if live:
        put_snapshot(client, ttl=3600)
    return Api(make_app(client), live)


@pytest.fixture(scope="module")
def live_api() -> Api:
    return build(live=True)


@pytest.fixture(scope="module")
def empty_api() -> Api:
    return build(live=False)


HOSTILE = ["", "*", "?", "[a-z]*", "\\*", "{x}:", "{telemetry}:meta", "telemetry:meta", "../"]
HOSTILE += ["../../meta", "..%2Fmeta", "%00", "%2A", "%252A", "\x00", "\r\nFLUSHALL\r\n", ","]
HOSTILE += ["a" * 129, "a" * 5000, "Latency,*", "Latency,,CpuUsage", " 1", "\uff11", "交换机", "💥"]
HOSTILE += ["\u202e1", "\ufeff1", "\x7f", "\x9b", "secret", "1:meta", "-1", "null", "JSON", "xml"]
HOSTILE += ["{x}:switch:1", "other:switch:1", "telemetryx:switch:1", ":", "1:", ":1", "[", "]"]
HOSTILE_VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=200),
    st.text(st.sampled_from("*?[]{}:/.%\\-^!,12LatencyCpu"), max_size=30),
    st.lists(st.sampled_from(METRICS + HOSTILE[:12]), min_size=1, max_size=8).map(",".join),
)
GOOD = {
    "switch": st.sampled_from(SWITCHES),
    "metric": st.sampled_from(METRICS),
    "metrics": st.lists(st.sampled_from(METRICS), min_size=1, max_size=6).map(",".join),
    "format": st.sampled_from(["csv", "json", "JSON", "Csv"]),
}
NAMES = st.sampled_from(list(GOOD)) | st.text(max_size=12)
EXPECTED = {"/telemetry/GetMetric": ["switch", "metric"], "/telemetry/ListMetrics": ["metrics"]}
ACCEPT = ["application/json", "text/csv", "*/*", "application/json;q=0.1, text/csv", "text/html"]
OTHER_PATH = st.text(max_size=20).map(lambda text: "/" + quote(text))


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str]]:
    """Draw a path, its parameters (half of them hostile, some repeated or missing), headers."""
    pick = draw(st.integers(0, 19))  # GetMetric 40 %, ListMetrics 30 %, the others 30 %
    path = PATHS[0] if pick < 8 else PATHS[1] if pick < 14 else draw(st.sampled_from(PATHS))
    path = draw(OTHER_PATH) if pick == 19 else path
    names = [name for name in EXPECTED.get(path, []) if draw(st.integers(0, 9))]  # 10% missing
    if not draw(st.integers(0, 2)):  # a third of the requests: unexpected or repeated ones
        names += draw(st.lists(NAMES, max_size=3))
    pairs = []
    for name in draw(st.permutations(names)):
        good = name in GOOD and draw(st.booleans())
        value = draw(GOOD[name] if good else HOSTILE_VALUES)
        text = quote(value, safe=draw(st.sampled_from(["", "/", ",", "*?[]{}:,/"])))
        if draw(st.booleans()) and "%" in text:
            text = quote(text, safe="")  # encoded twice
        pairs.append(f"{quote(name, safe='')}={text}" if name or value else "")
    headers = {}
    if draw(st.booleans()):
        headers["Accept"] = draw(st.sampled_from(ACCEPT))
    if not draw(st.integers(0, 4)):
        headers["If-None-Match"] = draw(st.sampled_from(['"1-csv-0"', "*", "garbage", '""']))
    return path, "&".join(pairs), headers


def table(response: TestResponse) -> list[list[str]]:
    """Return the rows of a CSV body."""
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def check_truth(path: str, response: TestResponse) -> None:
    """Check that a 200 data answer holds exactly the snapshot's values."""
    if path.endswith("prometheus"):
        exposed = switch_samples(parse(response.get_data(as_text=True), response.content_type))
        assert exposed.items() <= exposition(SWITCHES, METRICS, ROWS).items() and exposed
        return
    expected = {
        s: dict(zip(METRICS, row, strict=True)) for s, row in zip(SWITCHES, ROWS, strict=True)
    }
    if response.content_type.startswith("application/json"):
        body = response.get_json()
        if "value" in body:  # GetMetric
            assert body["value"] == number(expected[body["switch"]][body["metric"]])
        elif "metrics" in body and "switches" in body:  # ListMetrics
            assert [row["switch"] for row in body["switches"]] == SWITCHES
            for row in body["switches"]:
                for name, value in row["values"].items():
                    assert value == number(expected[row["switch"]][name])
        else:
            assert body.get("switches", SWITCHES) == SWITCHES
            assert body.get("metrics", METRICS) == METRICS
        return
    head, *rows = table(response)
    if path.endswith(("switches", "metrics")):
        assert [row[0] for row in rows] == (SWITCHES if path.endswith("switches") else METRICS)
        return
    assert head[0] == "switch" and len(set(head)) == len(head)
    for row in rows:
        for name, value in zip(head[1:], row[1:], strict=True):
            assert value == expected[row[0]][name].decode()
    if path.endswith("ListMetrics"):
        assert [row[0] for row in rows] == SWITCHES


def check(api: Api, path: str, response: TestResponse) -> None:
    """Check one answer and every command it cost."""
    status, data = response.status_code, response.get_data()
    event(f"{status} {path if path in PATHS else 'other path'}")
    assert b"Traceback" not in data and b"do-not-leak" not in data
    assert status < 500 or (status == 503 and not api.live), (status, data[:200])
    if status == 503:
        assert response.headers["Retry-After"] and b"no snapshot has been written yet" in data
    if status == 400:
        assert b"parameter '" in data, data[:200]
    if status == 404 and path in PATHS:
        assert b"unknown" in data and b"list the known ones at /telemetry/" in data, data[:200]
    if status == 200 and path.startswith("/telemetry/"):
        check_truth(path, response)
    check_commands(api)


def check_commands(api: Api) -> None:
    """Check every command sent since the last clear: reads only, keys under the prefix."""
    allowed = READS | SETUP if api.live else READS | SETUP | ASK
    for command in Recording.sent:
        assert command[0].upper() in allowed, command[:3]
        for key in keys_of(command):
            assert key.startswith(PREFIX), command[:3]
            assert command[0].upper() not in ASK or key == REQUEST_KEY, command[:3]


@FUZZ
@given(requests())
def test_with_a_snapshot_no_query_string_causes_a_5xx_or_a_read_outside_the_prefix(
    live_api: Api, asked: tuple[str, str, dict[str, str]]
) -> None:
    path, query, headers = asked
    Recording.sent.clear()
    response = live_api.app.test_client().get(path, query_string=query, headers=headers)
    check(live_api, path, response)


@settings(FUZZ, max_examples=150)
@given(requests())
def test_without_a_snapshot_only_deliberate_503s_and_the_request_key(
    empty_api: Api, asked: tuple[str, str, dict[str, str]]
) -> None:
    path, query, headers = asked
    Recording.sent.clear()
    response = empty_api.app.test_client().get(path, query_string=query, headers=headers)
    check(empty_api, path, response)


def test_the_openapi_description_is_served_and_names_every_route(live_api: Api) -> None:
    response = live_api.app.test_client().get("/openapi.json")
    assert response.status_code == 200 and response.content_type == "application/json"
    spec = json.loads(response.get_data())
    assert spec["openapi"].startswith("3.1")
    routes = {rule.rule for rule in live_api.app.url_map.iter_rules() if "static" not in rule.rule}
    assert set(spec["paths"]) == routes


# ListMetrics refuses (400) more distinct names than the snapshot has, and both data routes
# refuse rate=true for a gauge: no schema can say so.
REFUSES_TOO_MANY = ["/telemetry/ListMetrics", "/telemetry/prometheus", "/telemetry/GetMetric"]
EXCLUDED = {path: [positive_data_acceptance] for path in REFUSES_TOO_MANY} if schemathesis else {}


def conforms(api: Api, operation: Any, mode: str) -> None:
    """Run schemathesis's checks on bounded examples of one operation, and check_commands."""

    @settings(FUZZ, max_examples=25, database=None)
    @given(case=operation.as_strategy(schemathesis.GenerationMode(mode)))
    def run(case: Any) -> None:
        Recording.sent.clear()
        response = case.call()
        case.validate_response(response, excluded_checks=EXCLUDED.get(operation.path))
        check_commands(api)

    run()


@pytest.mark.skipif(schemathesis is None, reason="schemathesis is not installed")
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_every_operation_conforms_to_the_openapi_description(live_api: Api, mode: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", live_api.app)
    for result in schema.get_all_operations():
        operation: Any = result.ok()  # type: ignore[union-attr]
        if mode == "positive" or SPEC["paths"][operation.path]["get"].get("parameters"):
            conforms(live_api, operation, mode)  # negative needs a parameter to break
