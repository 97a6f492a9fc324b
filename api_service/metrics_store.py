"""The API's request counts, kept in plain Python numbers and shared between workers by file.

Counting a request is a few additions under a lock (about 2 us); prometheus-client's
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


def _observe(histogram: Histogram, buckets: tuple[float, ...], value: float) -> None:
    histogram[bisect_left(buckets, value)] += 1  # le is inclusive: bisect_left
    histogram[-1] += value


class Counts:
    """One process's counts: requests, latencies, data ages, Redis errors, last generation."""

    def __init__(self, latency_buckets: tuple[float, ...], age_buckets: tuple[float, ...]) -> None:
        self.latency_buckets, self.age_buckets = latency_buckets, age_buckets
        self.requests: dict[tuple[str, str], float] = {}
        self.latency: dict[str, Histogram] = {}
        self.age = _histogram(age_buckets)
        self.redis_errors: dict[str, float] = {}
        self.generation = 0.0
        self.changed = False
        self.lock = threading.Lock()

    def request(
        self,
        route: str,
        status: int,
        seconds: float | None,
        served: tuple[float, int] | None = None,
    ) -> None:
        """Count one answer, its latency if its start is known, its data's age if it has any."""
        key = (route, str(status))
        with self.lock:
            self.requests[key] = self.requests.get(key, 0.0) + 1
            if seconds is not None:
                histogram = self.latency.get(route)
                if histogram is None:
                    histogram = self.latency[route] = _histogram(self.latency_buckets)
                _observe(histogram, self.latency_buckets, seconds)
            if served is not None:
                _observe(self.age, self.age_buckets, served[0])
                self.generation = float(served[1])  # the latest; workers: the largest
            self.changed = True

    def redis_error(self, kind: str) -> None:
        """Count one Redis failure of ``kind``."""
        with self.lock:
            self.redis_errors[kind] = self.redis_errors.get(kind, 0.0) + 1
            self.changed = True

    def dump(self, saving: bool = False) -> dict[str, Any]:
        """Return the counts as plain JSON data; ``saving`` notes that they are being saved."""
        with self.lock:
            self.changed = self.changed and not saving
            return {
                "requests": [[*key, n] for key, n in self.requests.items()],
                "latency": {route: list(h) for route, h in self.latency.items()},
                "age": list(self.age),
                "redis_errors": dict(self.redis_errors),
                "generation": self.generation,
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
