"""Histograms filled by appending numbers, binned in batches: how GetMetric's 200s are counted.

Counting the shortcut's answers (fast_path.py) as every other answer is counted
(metrics_store.Counts.request: a per-thread shard, a dict per route and status, two histograms
binned at once) measured 3 us per answer inside a loaded worker, some 2.6 % of its CPU per
answer, though the same code takes 0.6 us in a tight loop: between two answers the worker runs
granian's and the kernel's code, and each Python object counting touches is a cache miss
(benchmarks/count_timing.py, at commit 108bbca). Here an answer costs two appends to two
``array('d')`` (C calls, each atomic under the GIL, so any thread appends without a lock; a
free-threaded build takes a lock) and one attribute store (Counts.answered): about 1 us in the
loaded worker. The values are binned later, in bulk (sorted, then cut at each bucket's bound:
about 45 ns a value), by whichever thread sees a batch full, by the metrics file thread, or by a
reader; the number of answers is the latency histogram's count. Binning takes the lock and
returns a copy made under it, so a reader sees every answer once, never one twice.
"""

from __future__ import annotations

import sys
import threading
from array import array
from bisect import bisect_right

BATCH = 1024  # values kept before binning by the thread that appends: 8 KiB per array

Histogram = list[float]  # one count per bucket, then +Inf's, then the sum


class Batched:
    """Values any thread may ``append``; binned into a histogram of ``buckets`` in batches."""

    __slots__ = ("_binned", "_histogram", "_lock", "append", "buckets", "values")

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.values = array("d")
        self._lock = threading.Lock()
        if getattr(sys, "_is_gil_enabled", lambda: True)():
            self.append = self.values.append  # never replaced: binning deletes what it binned
        else:  # a free-threaded build: an append is atomic only under the lock
            self.append = self._append_locked
        self._histogram: Histogram = [0.0] * (len(buckets) + 2)
        self._binned = 0

    def _append_locked(self, value: float) -> None:
        with self._lock:
            self.values.append(value)

    def count(self) -> int:
        """Return how many values were appended so far."""
        with self._lock:
            return self._binned + len(self.values)

    def histogram(self) -> Histogram:
        """Bin the values appended so far; return a copy of the histogram."""
        with self._lock:
            values = self.values[:]  # one C call: another thread's append lands wholly after
            del self.values[: len(values)]  # only those binned: appends since stay
            self._binned += len(values)
            histogram, ordered, below = self._histogram, sorted(values), 0
            for index, bound in enumerate(self.buckets):  # le is inclusive: bisect_right
                up_to = bisect_right(ordered, bound, below)
                histogram[index] += up_to - below
                below = up_to
            histogram[len(self.buckets)] += len(ordered) - below  # +Inf's
            histogram[-1] += sum(values)
            return list(histogram)
