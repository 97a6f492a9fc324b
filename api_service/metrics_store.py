"""The API's request counts, kept in plain Python numbers in each process.

Each thread counts into its own shard, without a lock: two threads never add to the same
number, so no count is lost, and a reader copies each shard's numbers whole (a dict or list
copy runs without letting another thread in). GetMetric's 200s from the shortcut, the API's
hottest path, are counted cheaper still (``answered``, metrics_batch.py). prometheus-client's
multiprocess values write every change to a memory-mapped file under a lock of their own,
which cost about 35 us per request here (five values) and about 10 % of GetMetric's
throughput; metrics_share.py shares these counts between workers instead.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from typing import Any

from api_service.metrics_batch import BATCH, Batched, Histogram


def _histogram(buckets: tuple[float, ...]) -> Histogram:
    return [0.0] * (len(buckets) + 2)


class _Shard:
    """One thread's counts; only that thread adds to them."""

    __slots__ = ("age", "latency", "redis_errors", "requests")

    def __init__(self, age_buckets: tuple[float, ...]) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.latency: dict[str, Histogram] = {}
        self.age = _histogram(age_buckets)
        self.redis_errors: dict[str, int] = {}


class Counts:
    """One process's counts: requests, latencies, data ages, Redis errors, last generation."""

    def __init__(
        self, latency_buckets: tuple[float, ...], age_buckets: tuple[float, ...], fast_route: str
    ) -> None:
        self.latency_buckets, self.age_buckets = latency_buckets, age_buckets
        self.fast_route = fast_route  # the route label of the 200s counted by ``answered``
        self.forget()

    def forget(self) -> None:
        """Start again from zero counts, with new locks (in a child process, after a fork)."""
        self.fast_latency = Batched(self.latency_buckets)
        self.fast_age = Batched(self.age_buckets)
        self._fast_values = self.fast_latency.values  # the hot path's names, looked up once
        self._add_latency, self._add_age = self.fast_latency.append, self.fast_age.append
        self.generation = 0  # the latest served in this process; workers: the largest
        self.changed = False  # set by every count but ``answered``'s: see ``pending``
        self._fast_saved = 0  # answers counted by ``answered`` when last saved
        self._shards: list[_Shard] = []
        self._local = threading.local()
        self._lock = threading.Lock()  # guards the list of shards, taken once per thread

    def _shard(self) -> _Shard:
        try:
            shard: _Shard = self._local.shard
        except AttributeError:
            shard = self._local.shard = _Shard(self.age_buckets)
            with self._lock:
                self._shards.append(shard)  # kept after the thread ends: its counts stay
        return shard

    def request(
        self,
        route: str,
        status: int,
        seconds: float | None,
        served: tuple[float, int] | None = None,
    ) -> None:
        """Count one answer, its latency if its start is known, its data's age if it has any."""
        shard = self._shard()
        key = (route, status)
        requests = shard.requests
        requests[key] = requests.get(key, 0) + 1
        if seconds is not None:
            histogram = shard.latency.get(route)
            if histogram is None:
                histogram = shard.latency[route] = _histogram(self.latency_buckets)
            histogram[bisect_left(self.latency_buckets, seconds)] += 1  # le is inclusive
            histogram[-1] += seconds
        if served is not None:
            age = shard.age
            age[bisect_left(self.age_buckets, served[0])] += 1
            age[-1] += served[0]
            self.generation = served[1]
        self.changed = True

    def answered(self, seconds: float, age: float, generation: int) -> None:
        """Count one 200 of ``fast_route`` that took ``seconds``, its data ``age`` seconds old."""
        self.generation = generation
        self._add_age(age)
        self._add_latency(seconds)  # last: a save that counts this answer has its age too
        if len(self._fast_values) >= BATCH:
            self.fast_latency.histogram()
            self.fast_age.histogram()

    def pending(self) -> bool:
        """Return whether anything was counted since the last ``dump(saving=True)``."""
        return self.changed or self.fast_latency.count() != self._fast_saved

    def redis_error(self, kind: str) -> None:
        """Count one Redis failure of ``kind``."""
        errors = self._shard().redis_errors
        errors[kind] = errors.get(kind, 0) + 1
        self.changed = True

    def dump(self, saving: bool = False) -> dict[str, Any]:
        """Return the counts as plain JSON data; ``saving`` notes that they are being saved."""
        if saving:
            self.changed = False  # before copying: a request counted meanwhile sets it again
        with self._lock:
            shards = list(self._shards)
        requests: dict[tuple[str, int], int] = {}
        latency: dict[str, Histogram] = {}
        age, errors = _histogram(self.age_buckets), dict[str, int]()
        fast_latency, fast_age = self.fast_latency.histogram(), self.fast_age.histogram()
        fast_answers = int(sum(fast_latency[:-1]))
        if saving:
            self._fast_saved = fast_answers
        if fast_answers:
            requests[(self.fast_route, 200)] = fast_answers
            latency[self.fast_route] = fast_latency
        age = _add(age, fast_age)
        for shard in shards:  # each copied whole first: its thread may be adding to it
            for key, count in dict(shard.requests).items():
                requests[key] = requests.get(key, 0) + count
            for route, histogram in dict(shard.latency).items():
                latency[route] = _add(latency.get(route), list(histogram))
            age = _add(age, list(shard.age))
            for kind, count in dict(shard.redis_errors).items():
                errors[kind] = errors.get(kind, 0) + count
        return {
            "requests": [[route, str(status), n] for (route, status), n in requests.items()],
            "latency": latency,
            "age": age,
            "redis_errors": errors,
            "generation": float(self.generation),
        }


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the sum of several dumps (the generation is the largest)."""
    total: dict[str, Any] = {"requests": {}, "latency": {}, "age": None, "redis_errors": {}}
    total["generation"] = max((part["generation"] for part in parts), default=0.0)
    for part in parts:
        for route, status, count in part["requests"]:
            total["requests"][(route, status)] = total["requests"].get((route, status), 0) + count
        for route, histogram in part["latency"].items():
            total["latency"][route] = _add(total["latency"].get(route), histogram)
        total["age"] = _add(total["age"], part["age"])
        for kind, count in part["redis_errors"].items():
            total["redis_errors"][kind] = total["redis_errors"].get(kind, 0) + count
    return total


def _add(into: Histogram | None, histogram: Histogram) -> Histogram:
    if into is None:
        return list(histogram)
    return [a + b for a, b in zip(into, histogram, strict=True)]
