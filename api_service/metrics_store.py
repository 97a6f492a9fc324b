"""The API's request counts, kept in plain Python numbers and shared between workers by file.

Each thread counts into its own shard, without a lock (about 1-2 us per request): two threads
never add to the same number, so no count is lost, and a reader copies each shard's numbers
whole (a dict or list copy runs without letting another thread in). prometheus-client's
multiprocess values write every change to a memory-mapped file under a lock of their own,
which cost about 35 us per request here (five values) and about 10 % of GetMetric's
throughput. Instead, each worker process writes all its counts to its own JSON file in the
metrics directory, at most every FLUSH_SECONDS and only when they changed (from a thread),
and once more at exit; ``/metrics`` adds up every worker's file, its own counts taken live.
So another worker's counts reach ``/metrics`` at most FLUSH_SECONDS late.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

FLUSH_SECONDS = 0.5
FILE_PATTERN = "telemetry-api-*.json"

Histogram = list[float]  # one count per bucket, then +Inf's, then the sum


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

    def __init__(self, latency_buckets: tuple[float, ...], age_buckets: tuple[float, ...]) -> None:
        self.latency_buckets, self.age_buckets = latency_buckets, age_buckets
        self.generation = 0  # the latest served in this process; workers: the largest
        self.changed = False
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


class FileShare:
    """Write one process's counts to its file in ``directory``; read every process's back."""

    def __init__(self, counts: Counts, directory: Path) -> None:
        self.counts, self.directory = counts, directory
        self.path = directory / f"telemetry-api-{os.getpid()}-{time.time_ns()}.json"
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self) -> None:
        """Start the flushing thread once (in the worker process, after any fork)."""
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="metrics")
                self._thread.start()
                atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            if self.counts.changed:
                self.flush()

    def flush(self) -> None:
        """Write this process's counts to its file, atomically."""
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps(self.counts.dump(saving=True)))
        os.replace(scratch, self.path)

    def collect(self) -> dict[str, Any]:
        """Return every process's counts added up, this one's taken live."""
        parts = [self.counts.dump()]
        for path in self.directory.glob(FILE_PATTERN):
            if path != self.path:
                try:
                    parts.append(json.loads(path.read_text()))
                except (OSError, ValueError):  # replaced or removed meanwhile: skip it once
                    continue
        return merge(parts)
