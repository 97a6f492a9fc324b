"""The parameters beyond the original ones: rate, generation, sort, limit and offset.

Each is optional; a bad value aborts with 400 naming the parameter and the rule. Rates apply
to counters only (the catalogue's kind), since a gauge's change per second means nothing.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import Request, abort
from werkzeug.datastructures import MultiDict

from api_service.params import METRIC_NAME, show
from telemetry_common.catalogue import MEANINGS, Kind, meaning_of

MAX_LIMIT = 1_000_000
NUMBER = re.compile(r"[0-9]{1,18}")
RATE_HEADER = "X-Telemetry-Rate-Interval"
COUNTERS = ", ".join(m.name for m in MEANINGS if m.kind is Kind.COUNTER)


class NoPrevious(LookupError):
    """A rate was asked, but the generation it needs as its start is not held (yet)."""


def _single(args: MultiDict[str, str], name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        abort(400, description=f"parameter '{name}' is given {len(values)} times: give it once")
    return values[0] if values else None


def whole(args: MultiDict[str, str], name: str, low: int, high: int) -> int | None:
    """Return the integer parameter ``name`` in [low, high], None when absent, or abort."""
    value = _single(args, name)
    if value is None:
        return None
    rule = f"a whole number from {low} to {high:,}".replace(",", "")
    if NUMBER.fullmatch(value) is None or not low <= int(value) <= high:
        abort(400, description=f"parameter '{name}' is {show(value)}: expected {rule}")
    return int(value)


def generation(args: MultiDict[str, str]) -> int | None:
    """Return the pinned generation, or None for the current one."""
    return whole(args, "generation", 1, 10**18 - 1)


def rate(args: MultiDict[str, str]) -> bool:
    """Return whether rates are asked (``rate=true``)."""
    value = _single(args, "rate")
    if value is None or value == "false":
        return False
    if value != "true":
        abort(400, description=f"parameter 'rate' is {show(value)}: expected true or false")
    return True


def sort(args: MultiDict[str, str]) -> tuple[str, bool] | None:
    """Return the metric to sort by and whether descending (``sort=-<metric>``), or None."""
    value = _single(args, "sort")
    if value is None:
        return None
    name = value.removeprefix("-")
    if not METRIC_NAME.fullmatch(name):
        abort(
            400,
            description=f"parameter 'sort' is {show(value)}: expected a metric name, "
            "with a leading '-' for the largest first",
        )
    return name, value.startswith("-")


def counters_only(names: list[str]) -> None:
    """Abort with 400 unless every metric of ``names`` is a counter."""
    for name in names:
        meaning = meaning_of(name)
        if meaning is None or meaning.kind is not Kind.COUNTER:
            what = "a gauge" if meaning is not None else "not a known counter"
            abort(
                400,
                description=f"rate=true applies to counters only: {name!r} is {what} "
                f"(counters: {COUNTERS})",
            )


def next_link(request: Request, offset: int, generation: int) -> str:
    """Return the Link header's value for the page after this one, pinned to ``generation``."""
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in ("offset", "generation")]
    pairs += [("offset", str(offset)), ("generation", str(generation))]
    return f'<{request.path}?{urlencode(pairs, safe=",")}>; rel="next"'


def extra_key(args: MultiDict[str, str]) -> str:
    """Return what tells this request's ETag from the original routes' (empty without extras).

    The generation is left out: a pinned answer has the tag it had when it was current.
    """
    return "".join(f"\0{k}={v}" for k in ("rate", "sort", "limit", "offset") if (v := args.get(k)))
