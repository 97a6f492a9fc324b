"""Validate query parameters before any of them reaches Redis as part of a key.

Each failure aborts with 400 and a message that names the parameter and the rule.
"""

from __future__ import annotations

import re

from flask import abort
from werkzeug.datastructures import MultiDict

MAX_SWITCH_CHARS = 128
MAX_METRICS = 1000  # names per ListMetrics request, checked before Redis is asked

METRIC_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
METRIC_LIST = re.compile(r"[A-Za-z0-9_.-]{1,64}(?:,[A-Za-z0-9_.-]{1,64})*")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

SWITCH_RULE = f"a switch id: 1 to {MAX_SWITCH_CHARS} characters, no control characters"
METRIC_RULE = "a metric name: 1 to 64 characters among A-Z a-z 0-9 _ . -"
METRICS_RULE = "metric names separated by commas, each 1 to 64 characters among A-Z a-z 0-9 _ . -"


def show(text: str) -> str:
    """Return ``text`` quoted for a message: escaped, and cut when long."""
    return repr(text[:40]) + ("..." if len(text) > 40 else "")


def _one(args: MultiDict[str, str], name: str, rule: str) -> str:
    values = args.getlist(name)
    if not values:
        abort(400, description=f"missing parameter '{name}': expected {rule}")
    if len(values) > 1:
        abort(400, description=f"parameter '{name}' is given {len(values)} times: give it once")
    value = values[0]
    if not value:
        abort(400, description=f"parameter '{name}' is empty: expected {rule}")
    return value


def switch_id(args: MultiDict[str, str]) -> str:
    """Return the ``switch`` parameter, or abort with 400."""
    value = _one(args, "switch", SWITCH_RULE)
    if len(value) > MAX_SWITCH_CHARS:
        abort(
            400,
            description=f"parameter 'switch' is too long ({len(value)} characters): "
            f"expected {SWITCH_RULE}",
        )
    if CONTROL.search(value):
        abort(
            400,
            description=f"parameter 'switch' holds a control character: expected {SWITCH_RULE}",
        )
    return value


def metric_name(args: MultiDict[str, str]) -> str:
    """Return the ``metric`` parameter, or abort with 400."""
    value = _one(args, "metric", METRIC_RULE)
    if METRIC_NAME.fullmatch(value) is None:
        abort(
            400,
            description=f"parameter 'metric' is malformed ({show(value)}): expected {METRIC_RULE}",
        )
    return value


def metric_names(args: MultiDict[str, str]) -> list[str]:
    """Return the distinct names of the ``metrics`` parameter in asked order, or abort with 400."""
    value = _one(args, "metrics", METRICS_RULE)
    if METRIC_LIST.fullmatch(value) is None:
        bad = next(name for name in value.split(",") if not METRIC_NAME.fullmatch(name))
        what = "an empty name" if not bad else f"a malformed name ({show(bad)})"
        abort(400, description=f"parameter 'metrics' holds {what}: expected {METRICS_RULE}")
    names = list(dict.fromkeys(value.split(",")))
    if len(names) > MAX_METRICS:
        abort(
            400,
            description=f"parameter 'metrics' asks for {len(names)} metrics: "
            f"at most {MAX_METRICS} per request",
        )
    return names
