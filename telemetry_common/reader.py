"""Read the snapshot for the API: every answer comes from exactly one generation.

A generation's keys never change once written, and none expires before its meta hash
(writer.py), so a read needs no transaction: it resolves the pointer, reads that generation,
and checks at the end that the meta hash still exists (then every key of it existed during
the whole read).
GetMetric and the snapshot's description are one read-only script: the pointer, the meta hash
and the value in one round trip, which replicas accept. Lists are read with LRANGEs of at most
SLICE items in one pipeline, so no command keeps Redis busy for long. The pipeline opens with
that script (which names the generation) and reads the lists of the generation this process
read last: while that is still current, which is nearly always, a read is one round trip;
otherwise it runs again on the generation the script named. Values come back as the bytes
the source wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import redis
from redis.commands.core import Script
from redis.exceptions import NoScriptError
from redis.utils import str_if_bytes

from telemetry_common import cluster_route
from telemetry_common import keys as layout
from telemetry_common.keys import Generation, Keys
from telemetry_common.snapshot import SnapshotInfo

SLICE = 20_000  # list items an LRANGE: about 0.5 ms of Redis's time
ATTEMPTS = 3

# Resolve the generation (the pinned one, else the pointer), then its meta hash, its time left
# and, when ARGV[5] is '1', its metric names. Returns {} without a pointer, {generation} when
# the generation is gone, else {generation, pttl, meta as field/value pairs, names}.
# ARGV: pinned generation or '', the key parts from keys.py (base, meta, metric list), the
# names flag, then for METRIC_SCRIPT the parts for a switch and a metric, the switch, the metric.
HEAD = """
local g = ARGV[1]
if g == '' then g = redis.call('GET', KEYS[1]) end
if not g then return {} end
local base = ARGV[2] .. g
local pttl = redis.call('PTTL', base .. ARGV[3])
if pttl == -2 then return {g} end
local names = {}
if ARGV[5] == '1' then names = redis.call('LRANGE', base .. ARGV[4], 0, -1) end
local result = {g, pttl, redis.call('HGETALL', base .. ARGV[3]), names}
"""
HEAD_SCRIPT = HEAD + "return result\n"
# ... and one switch's metric; when absent, whether the switch and the metric exist; with
# ARGV[10] '1', also the generation this one replaced, the value there and its source time.
METRIC_SCRIPT = (
    HEAD
    + """
local switch = base .. ARGV[6] .. ARGV[8]
local value = redis.call('HGET', switch, ARGV[9])
if not value then
  table.insert(result, false)
  table.insert(result, redis.call('EXISTS', switch))
  table.insert(result, redis.call('EXISTS', base .. ARGV[7] .. ARGV[9]))
  return result
end
table.insert(result, value)
if ARGV[10] == '1' then
  local previous = redis.call('HGET', base .. ARGV[3], 'previous')
  if previous and redis.call('EXISTS', ARGV[2] .. previous .. ARGV[3]) == 1 then
    local old = ARGV[2] .. previous
    table.insert(result, previous)
    table.insert(result, redis.call('HGET', old .. ARGV[6] .. ARGV[8], ARGV[9]))
    table.insert(result, redis.call('HGET', old .. ARGV[3], 'source_time'))
  end
end
return result
"""
)


class NoSnapshot(LookupError):
    """Redis holds no fresh snapshot (never written, or expired)."""


class GenerationGone(NoSnapshot):
    """The generation asked for has expired (or never existed)."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        super().__init__(f"generation {generation} is no longer held")


class UnknownNames(LookupError):
    """The request named switches or metrics that the snapshot does not have."""

    def __init__(
        self,
        switches: Sequence[str] = (),
        metrics: Sequence[str] = (),
        info: SnapshotInfo | None = None,
    ) -> None:
        self.switches = tuple(switches)
        self.metrics = tuple(metrics)
        self.info = info  # the snapshot the names were looked up in
        parts = [f"unknown switch {s!r}" for s in self.switches]
        parts += [f"unknown metric {m!r}" for m in self.metrics]
        super().__init__(", ".join(parts))


@dataclass(frozen=True)
class MetricValue:
    """One metric of one switch (and, when asked, in the generation before)."""

    info: SnapshotInfo
    switch: str
    metric: str
    value: bytes
    previous: tuple[int, bytes | None, float] | None = None  # generation, value, source time


@dataclass(frozen=True)
class Columns:
    """Some metrics for every switch, in row order."""

    info: SnapshotInfo
    switches: list[bytes]
    metrics: list[str]
    columns: list[list[bytes]]


@dataclass(frozen=True)
class Catalog:
    """The snapshot's switch ids and metric names."""

    info: SnapshotInfo
    switches: list[str]
    metrics: list[str]


@dataclass(frozen=True)
class Head:
    """What a read learns of its generation first: the description and the metric names."""

    info: SnapshotInfo
    metrics: tuple[str, ...] = ()


@lru_cache(maxsize=16)
def _meta_values(meta: tuple[Any, ...]) -> dict[str, Any]:
    """Return SnapshotInfo's fields but the expiry, parsed once per generation's meta."""
    fields = {str_if_bytes(meta[i]): meta[i + 1] for i in range(0, len(meta), 2)}
    fetched_at = float(fields.get("fetched_at") or 0)
    return {
        "generation": int(fields["generation"]),
        "written_at": float(fields.get("written_at") or 0),
        "fetched_at": fetched_at,
        "source_time": float(fields.get("source_time") or 0) or fetched_at,
        "source_etag": (fields.get("source_etag") or b"").decode(),
        "ttl": int(fields.get("ttl") or 0),
        "switch_count": int(fields.get("switches") or 0),
        "metric_count": int(fields.get("metrics") or 0),
        "snapshot": (fields.get("snapshot") or b"").decode(),
        "previous": int(fields["previous"]) if fields.get("previous") else None,
    }


def head_args(
    keys: Keys, pinned: int | None, names: bool, switch: str = "", metric: str = ""
) -> list[Any]:
    """Return ARGV 1-9 of the read scripts (see HEAD)."""
    parts = [keys.generation_base, layout.META, layout.METRICS]
    pin = "" if pinned is None else pinned
    return [pin, *parts, "1" if names else "0", layout.SWITCH, layout.METRIC, switch, metric]


def parse_head(reply: list[Any], pinned: int | None) -> Head:
    """Build the Head from a HEAD reply, or raise NoSnapshot (GenerationGone if pinned)."""
    if len(reply) < 2:
        if pinned is not None:
            raise GenerationGone(pinned)
        raise NoSnapshot("no snapshot in Redis")
    meta = reply[2]
    pairs = tuple(meta) if isinstance(meta, list) else tuple(p for kv in meta.items() for p in kv)
    info = SnapshotInfo(**_meta_values(pairs), expires_in=max(int(reply[1]), 0) / 1000.0)
    return Head(info, tuple(str_if_bytes(name) for name in reply[3]))


_scripts: dict[str, Script] = {}  # redis-py loads each script once per server (EVALSHA)


def _script(node: redis.Redis, source: str) -> Script:
    script = _scripts.get(source)
    if script is None:
        script = _scripts.setdefault(source, node.register_script(source))
    return script


def call(client: redis.Redis, source: str, keys: Keys, args: list[Any]) -> list[Any]:
    """Run a read script (HEAD and more) on the node of the keys' slot; return its reply."""
    node = cluster_route.slot_node(client, keys)  # on a cluster: the node of the keys' slot
    script = _script(node, source)
    return cluster_route.routed(
        client, lambda: list(script(keys=[keys.current], args=args, client=node))
    )


def read_info(client: redis.Redis, keys: Keys, generation: int | None = None) -> SnapshotInfo:
    """Return the current (or the given) generation's description, or raise NoSnapshot."""
    reply = call(client, HEAD_SCRIPT, keys, head_args(keys, generation, names=False))
    return parse_head(reply, generation).info


def read_metric(
    client: redis.Redis,
    keys: Keys,
    switch: str,
    metric: str,
    generation: int | None = None,
    previous: bool = False,
) -> MetricValue:
    """Return one metric of one switch, or raise NoSnapshot or UnknownNames (one round trip).

    With ``previous``, also read it in the generation this one replaced, while that is held.
    """
    args = [*head_args(keys, generation, False, switch, metric), "1" if previous else "0"]
    reply = call(client, METRIC_SCRIPT, keys, args)
    info = parse_head(reply, generation).info
    value, *more = reply[4:]
    if value is None:
        switch_known, metric_known = more
        raise UnknownNames(
            [switch] if not switch_known else [], [metric] if not metric_known else [], info
        )
    before = None
    if more:
        number, old, when = more
        before = (int(number), old, float(when or 0))
    return MetricValue(info, switch, metric, value, before)


# The generation each prefix was read at last: list reads start from it (see above).
_last: dict[Keys, Head] = {}
Span = tuple[str, int, int | None]  # a list's key, the first item, how many (None: to the end)
Lists = Callable[[Head, Generation], Sequence[Span]]  # the spans a read wants, given its generation


def read_lists(
    client: redis.Redis, keys: Keys, wanted: Lists, pinned: int | None
) -> tuple[Head, list[list[bytes]]]:
    """Return one generation's head and the list spans ``wanted`` names, read in slices.

    An absent list reads as empty. ``pinned`` names the generation, else the current one.
    """
    node = cluster_route.slot_node(client, keys)
    script = _script(node, HEAD_SCRIPT)
    return cluster_route.routed(client, lambda: _lists_on(node, script, keys, wanted, pinned))


def _lists_on(
    client: redis.Redis, script: Script, keys: Keys, wanted: Lists, pinned: int | None
) -> tuple[Head, list[list[bytes]]]:
    args = head_args(keys, pinned, names=True)
    guess = _last.get(keys)
    if guess is None or (pinned is not None and guess.info.generation != pinned):
        guess = parse_head(list(script(keys=[keys.current], args=args, client=client)), pinned)
    for _attempt in range(ATTEMPTS):
        at = keys.at(guess.info.generation)
        pipe: Any = client.pipeline(transaction=False)
        pipe.evalsha(script.sha, 1, keys.current, *args)  # a Script in a pipeline costs a trip
        spans = []
        for key, first, count in wanted(guess, at):
            end = guess.info.switch_count if count is None else first + count
            starts = range(first, max(end, first + 1), SLICE)
            for start in starts:
                last = min(start + SLICE, end) - 1
                if count is None and start + SLICE >= end:
                    last = -1  # the whole list, to its end
                pipe.lrange(key, start, last)
            spans.append(len(starts))
        pipe.pttl(at.meta)
        try:
            head_reply, *replies, left = pipe.execute()
        except NoScriptError:  # the server lost its scripts (restart, SCRIPT FLUSH)
            client.script_load(HEAD_SCRIPT)
            continue
        head = parse_head(list(head_reply), pinned)
        if head.info.snapshot == guess.info.snapshot and int(left) != -2:
            # The guess was the generation asked for, and it lived through the whole read.
            if pinned is None:  # a pinned read says nothing of what is current
                _last[keys] = head
            lists, first = [], 0
            for span in spans:
                joined: list[bytes] = []
                for part in replies[first : first + span]:
                    joined += part
                lists.append(joined)
                first += span
            return head, lists
        guess = head  # the pointer moved, or the generation expired during the read
    raise NoSnapshot("the snapshot kept changing while being read")


def read_last_expiry(client: redis.Redis, keys: Keys) -> tuple[int, float] | None:
    """Return the generation and expiry time of the last snapshot published, or None if none was."""
    generation, expires_at = client.hmget(keys.fence, ["generation", "expires_at"])
    if generation is None or expires_at is None:
        return None
    return int(generation), int(expires_at) / 1000.0


def read_columns(
    client: redis.Redis,
    keys: Keys,
    metrics: Sequence[str],
    generation: int | None = None,
    rows: tuple[int, int | None] = (0, None),
) -> Columns:
    """Return the named metrics for every switch (or ``rows``: first, count), or raise
    NoSnapshot or UnknownNames."""
    first, count = rows
    head, (switches, *columns) = read_lists(
        client,
        keys,
        lambda _head, at: (
            [(at.switches, first, count)] + [(at.metric(name), first, count) for name in metrics]
        ),
        generation,
    )
    unknown = [name for name in metrics if name not in head.metrics]
    if unknown:
        raise UnknownNames(metrics=unknown, info=head.info)
    return Columns(head.info, switches, list(metrics), columns)


def read_catalog(client: redis.Redis, keys: Keys, generation: int | None = None) -> Catalog:
    """Return the snapshot's switch ids and metric names, or raise NoSnapshot."""
    head, (switches,) = read_lists(
        client, keys, lambda _head, at: [(at.switches, 0, None)], generation
    )
    return Catalog(head.info, [s.decode() for s in switches], list(head.metrics))


def read_every_column(client: redis.Redis, keys: Keys, generation: int | None = None) -> Columns:
    """Return every metric of every switch, or raise NoSnapshot."""
    head, (switches, *columns) = read_lists(
        client,
        keys,
        lambda guess, at: (
            [(at.switches, 0, None)] + [(at.metric(name), 0, None) for name in guess.metrics]
        ),
        generation,
    )
    return Columns(head.info, switches, list(head.metrics), columns)
