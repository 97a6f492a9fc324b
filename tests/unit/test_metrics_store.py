"""Per-thread counts lose nothing when many threads count at once, and add up when read."""

from __future__ import annotations

import threading

from api_service.metrics import AGE_BUCKETS, LATENCY_BUCKETS
from api_service.metrics_store import Counts

THREADS, EACH = 8, 5000


def test_counts_from_many_threads_add_up_exactly() -> None:
    counts = Counts(LATENCY_BUCKETS, AGE_BUCKETS)
    reads: list[int] = []

    def count() -> None:
        for number in range(EACH):
            counts.request("/r", 200, 0.0001, (1.5, number))
        counts.redis_error("timeout")

    def read() -> None:  # a reader copying while the threads count never fails
        for _ in range(50):
            reads.append(sum(n for _, _, n in counts.dump()["requests"]))

    threads = [threading.Thread(target=count) for _ in range(THREADS)]
    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    dump = counts.dump()
    assert dump["requests"] == [["/r", "200", THREADS * EACH]]
    latency = dump["latency"]["/r"]
    assert latency[0] == THREADS * EACH and sum(latency[:-1]) == THREADS * EACH
    assert (
        dump["age"][2] == THREADS * EACH
    )  # 1.5 s: the bucket le 2.0 and dump["age"][-1] == 1.5 * THREADS * EACH
    assert dump["redis_errors"] == {"timeout": THREADS}
    assert dump["generation"] == EACH - 1
    assert reads == sorted(reads) and len(reads) == 50  # counts only grow
