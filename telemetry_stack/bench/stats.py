"""Counts of one bench run: outcomes, latencies to the microsecond, and their arithmetic.

Latencies go into a histogram of whole microseconds (exact percentiles at that resolution, memory
bounded by the spread of values, merged across worker processes by adding counts). A request
that got no answer has status 0, as k6 and vegeta count it, so the status counts add up to the
requests; its error kind says why (connection or timeout).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TypeVar

K = TypeVar("K", int, str)

CONNECTION = "connection"
TIMEOUT = "timeout"
BAD_ANSWER = "bad_answer"
STATUS = "status"  # an answer other than 200
ERROR_KINDS = (CONNECTION, TIMEOUT, BAD_ANSWER, STATUS)
NO_ANSWER = 0
SAMPLES_KEPT = 3  # examples of bad answers kept for the report


@dataclass
class Tally:
    """What happened to the measured requests of one worker, or of all of them merged."""

    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    latency_us: dict[int, int] = field(default_factory=dict)  # microseconds -> answers
    max_age: float | None = None
    generations: tuple[int, int] | None = None  # lowest and highest seen
    bad_samples: list[str] = field(default_factory=list)
    cpu_s: float = 0.0  # CPU time of the load generator's processes
    wall_s: float = 0.0  # longest measured time of one process

    @property
    def requests(self) -> int:
        """Return the number of finished requests, answered or not."""
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        """Return the number of requests that failed in any way."""
        return sum(self.errors.values())

    def answered(self, status: int, seconds: float, age: float | None, gen: int | None) -> None:
        """Count one answer and its latency."""
        self.statuses[status] = self.statuses.get(status, 0) + 1
        micros = round(seconds * 1e6)
        self.latency_us[micros] = self.latency_us.get(micros, 0) + 1
        if status != 200:
            self.errors[STATUS] = self.errors.get(STATUS, 0) + 1
        if age is not None and (self.max_age is None or age > self.max_age):
            self.max_age = age
        if gen is not None:
            low, high = self.generations or (gen, gen)
            self.generations = (min(low, gen), max(high, gen))

    def bad(self, reason: str) -> None:
        """Count a 200 answer whose content is wrong (already counted as answered)."""
        self.errors[BAD_ANSWER] = self.errors.get(BAD_ANSWER, 0) + 1
        if len(self.bad_samples) < SAMPLES_KEPT:
            self.bad_samples.append(reason)

    def unanswered(self, kind: str) -> None:
        """Count a request that got no answer, for a connection error or a timeout."""
        self.statuses[NO_ANSWER] = self.statuses.get(NO_ANSWER, 0) + 1
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def merge(self, other: Tally) -> None:
        """Add the counts of ``other`` to these."""
        _add(self.statuses, other.statuses)
        _add(self.errors, other.errors)
        _add(self.latency_us, other.latency_us)
        if other.max_age is not None and (self.max_age is None or other.max_age > self.max_age):
            self.max_age = other.max_age
        if other.generations is not None:
            low, high = self.generations or other.generations
            self.generations = (min(low, other.generations[0]), max(high, other.generations[1]))
        self.bad_samples = (self.bad_samples + other.bad_samples)[:SAMPLES_KEPT]
        self.cpu_s += other.cpu_s
        self.wall_s = max(self.wall_s, other.wall_s)


def _add(mine: dict[K, int], theirs: dict[K, int]) -> None:
    for key, count in theirs.items():
        mine[key] = mine.get(key, 0) + count


def percentile(histogram: dict[int, int], p: float) -> int | None:
    """Return the nearest-rank ``p``-th percentile (0 < p <= 100) of a histogram's values."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to the total")


def latency_ms(histogram: dict[int, int]) -> dict[str, float | None]:
    """Return min, p50, p90, p99 and max of a microsecond histogram, in milliseconds."""
    if not histogram:
        return dict.fromkeys(("min", "p50", "p90", "p99", "max"))
    points = {"p50": 50.0, "p90": 90.0, "p99": 99.0}
    found: dict[str, float | None] = {"min": min(histogram) / 1000}
    for name, p in points.items():
        value = percentile(histogram, p)
        found[name] = None if value is None else value / 1000
    found["max"] = max(histogram) / 1000
    return found


def error_rate(tally: Tally) -> float:
    """Return the share of requests that failed in any way (0 when none finished)."""
    return tally.failed / tally.requests if tally.requests else 0.0
