"""The API described in OpenAPI 3.1, served as JSON at ``GET /openapi.json``.

The parameter rules repeat those of params.py and formats.py; the fuzz tests check the API
against this description.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response

bp = Blueprint("openapi", __name__)

Schema = dict[str, Any]
JSON, CSV, TEXT = "application/json", "text/csv", "text/plain"
NAME = r"[A-Za-z0-9_.\-]{1,64}"
STRING: Schema = {"type": "string"}
STRINGS: Schema = {"type": "array", "items": STRING}
VALUE: Schema = {"type": ["number", "null"]}  # null: a value that is not a finite number
AGE: Schema = {"generation": {"type": "integer"}, "age": {"type": "number", "minimum": 0}}


def _object(**properties: Schema) -> Schema:
    """Return the schema of a JSON object that has all of these properties."""
    return {"type": "object", "properties": properties, "required": list(properties)}


def _query(name: str, description: str, schema: Schema, required: bool = True) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _answer(description: str, json_body: Schema, other: str = TEXT, **headers: str) -> Schema:
    """Return a response in the client's format: JSON, else ``other``."""
    content = {other: {"schema": STRING}, JSON: {"schema": json_body}}
    answer: Schema = {"description": description, "content": content}
    if headers:
        answer["headers"] = {
            name.replace("_", "-"): {"description": text, "schema": STRING}
            for name, text in headers.items()
        }
    return answer


PROBLEM: Schema = {"$ref": "#/components/schemas/Problem"}
DATA_HEADERS = {
    "ETag": "the snapshot's id, the format and a checksum of the request",
    "Cache_Control": "max-age: seconds before the snapshot expires",
    "X_Telemetry_Generation": "the number of the snapshot the answer comes from",
    "X_Telemetry_Snapshot": "the random id of that snapshot, never reused",
    "X_Telemetry_Age": "seconds since the generator produced the data",
    "X_Telemetry_Previous": "the generation this one replaced, when there is one (rates)",
}
UNAVAILABLE = _answer(
    "no fresh snapshot (a refresh is then asked for), or Redis is unreachable",
    PROBLEM,
    Retry_After="seconds to wait before asking again",
)
FORMAT = _query(
    "format",
    "csv or json, in any case; without it the Accept header decides, CSV by default",
    {"type": "string", "pattern": "^([cC][sS][vV]|[jJ][sS][oO][nN])$"},
    required=False,
)
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": STRING}


def _data(
    summary: str,
    params: list[Schema],
    body: Schema,
    *,
    names: bool = False,
    headers: dict[str, str] | None = None,
) -> Schema:
    """Return the GET operation of a data endpoint whose JSON answer is ``body``."""
    responses = {
        "200": _answer(summary, body, CSV, **DATA_HEADERS, **(headers or {})),
        "304": {"description": "the ETag the client sent is current"},
        "400": _answer("a parameter is missing, repeated, empty or malformed", PROBLEM),
        "503": UNAVAILABLE,
    }
    if names:
        responses["404"] = _answer("an unknown switch or metric, and where to list them", PROBLEM)
        responses["410"] = _answer(
            "the pinned generation is no longer held (says which are)", PROBLEM
        )
    params = [*params, FORMAT, IF_NONE_MATCH]
    return {"get": {"summary": summary, "parameters": params, "responses": responses}}


def _probe(summary: str, body: Schema, *, ready: bool = False) -> Schema:
    """Return the GET operation of a liveness or readiness endpoint."""
    responses = {"200": _answer(summary, body), "400": _answer("a bad 'format'", PROBLEM)}
    if ready:
        responses["503"] = UNAVAILABLE
    return {"get": {"summary": summary, "parameters": [FORMAT], "responses": responses}}


SWITCH = _query(
    "switch",
    "a switch id: 1 to 128 characters, no control characters",
    {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[^\x00-\x1f\x7f-\x9f]+$"},
)
METRIC = _query("metric", "a metric name", {"type": "string", "pattern": f"^{NAME}$"})
METRICS = _query(
    "metrics",
    "up to 1000 metric names separated by commas (a repeated name counts once)",
    {"type": "string", "pattern": f"^{NAME}(,{NAME})*$"},
)
GENERATION = _query(
    "generation",
    "answer from this generation while Redis holds it (410 once gone); Link headers pin it",
    {"type": "string", "pattern": "^[1-9][0-9]{0,17}$"},
    required=False,
)
RATE = _query(
    "rate",
    "true: per-second rates of counters since the generation before (400 for a gauge; "
    "503 with Retry-After until there is one); the interval is in X-Telemetry-Rate-Interval "
    "and, in JSON, 'interval'",
    {"type": "string", "enum": ["true", "false"]},
    required=False,
)
SORT = _query(
    "sort",
    "a metric to sort the rows by, numerically, smallest first; '-<metric>' for the largest "
    "first; rows with equal values keep switch order",
    {"type": "string", "pattern": f"^-?{NAME}$"},
    required=False,
)
LIMIT = _query(
    "limit",
    "at most this many rows (1 to 1000000)",
    {"type": "string", "pattern": "^(1000000|[1-9][0-9]{0,5})$"},
    required=False,
)
OFFSET = _query(
    "offset",
    "skip this many rows first (0 to 1000000)",
    {"type": "string", "pattern": "^(1000000|0|[1-9][0-9]{0,5})$"},
    required=False,
)
PAGING = {
    "X_Total_Count": "rows in the whole listing",
    "Link": 'the next page, pinned to the generation: <url>; rel="next" (when there is one)',
    "X_Telemetry_Rate_Interval": "with rate=true: seconds between the two generations",
}
ROW = _object(switch=STRING, values={"type": "object", "additionalProperties": VALUE})
GET_METRIC = _object(**AGE, switch=STRING, metric=STRING, value=VALUE)
LIST_METRICS = _object(**AGE, metrics=STRINGS, switches={"type": "array", "items": ROW})
READY = _object(status={"const": "ready"}, **AGE, expires_in={"type": "number"})
PLAIN = {"description": "the document", "content": {TEXT: {"schema": STRING}}}
OPENMETRICS = "application/openmetrics-text"
PROMETHEUS = {
    "get": {
        "summary": "every metric of every switch in the Prometheus text format, one family per "
        "metric with a 'switch' label, plus the snapshot's generation and age; OpenMetrics when "
        "Accept prefers application/openmetrics-text",
        "parameters": [{**METRICS, "required": False, "description": "only these metrics"}],
        "responses": {
            "200": {
                "description": "the exposition",
                "content": {TEXT: {"schema": STRING}, OPENMETRICS: {"schema": STRING}},
            },
            "400": _answer("a malformed 'metrics'", PROBLEM),
            "404": _answer("an unknown metric, and where to list them", PROBLEM),
            "503": UNAVAILABLE,
        },
    }
}
INDEX = {
    "get": {
        "summary": "the live dashboard for a client that accepts text/html, else the routes",
        "responses": {
            "200": {
                "description": "the page, or the list of routes as plain text",
                "content": {"text/html": {"schema": STRING}, TEXT: {"schema": STRING}},
            },
            "304": {"description": "the ETag the browser sent is the page's"},
        },
    }
}

SPEC: Schema = {
    "openapi": "3.1.0",
    "info": {
        "title": "Switch telemetry API",
        "version": "1",
        "description": "Live switch metrics from the latest Redis snapshot, as CSV or JSON. "
        "Errors are short: plain text '<status> <title>: <detail>', or a Problem object.",
    },
    "paths": {
        "/telemetry/GetMetric": _data(
            "one metric of one switch",
            [SWITCH, METRIC, RATE, GENERATION],
            GET_METRIC,
            names=True,
            headers={"X_Telemetry_Rate_Interval": PAGING["X_Telemetry_Rate_Interval"]},
        ),
        "/telemetry/ListMetrics": _data(
            "the asked metrics in the asked order, for every switch in row order (or sorted, "
            "a page at a time)",
            [METRICS, RATE, GENERATION, SORT, LIMIT, OFFSET],
            LIST_METRICS,
            names=True,
            headers=PAGING,
        ),
        "/telemetry/switches": _data(
            "the known switch ids, in row order", [], _object(**AGE, switches=STRINGS)
        ),
        "/telemetry/metrics": _data(
            "the known metric names, in column order", [], _object(**AGE, metrics=STRINGS)
        ),
        "/healthz": _probe("the process is alive", _object(status={"const": "ok"})),
        "/readyz": _probe("Redis answers and holds a fresh snapshot", READY, ready=True),
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": PLAIN}}},
        "/telemetry/prometheus": PROMETHEUS,
        "/": INDEX,
        "/openapi.json": {
            "get": {
                "summary": "this description",
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {JSON: {}}}},
            }
        },
    },
    "components": {
        "schemas": {"Problem": _object(status={"type": "integer"}, title=STRING, detail=STRING)}
    },
}


@lru_cache(maxsize=1)
def _body() -> bytes:
    return json.dumps(SPEC, separators=(",", ":")).encode()


@bp.get("/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI description of the API."""
    return Response(_body(), content_type=JSON, headers={"Cache-Control": "max-age=3600"})
