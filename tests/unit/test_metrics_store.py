"""Counts lose nothing when many threads count at once, count nothing twice, and add up."""

from __future__ import annotations

import json
import os
import random
import threading
from bisect import bisect_left
from pathlib import Path

import pytest

from api_service import metrics_share
from api_service.metrics import AGE_BUCKETS, LATENCY_BUCKETS
from api_service.metrics_batch import BATCH, Batched
from api_service.metrics_share import FileShare
from api_service.metrics_store import Counts

THREADS, EACH = 8, 5000
FAST = "/fast"


def _in_threads(count: object, read: object) -> None:
    threads = [threading.Thread(target=count) for _ in range(THREADS)]  # type: ignore[arg-type]
    threads.append(threading.Thread(target=read))  # type: ignore[arg-type]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_counts_from_many_threads_add_up_exactly() -> None:
    counts = Counts(LATENCY_BUCKETS, AGE_BUCKETS, FAST)
    reads: list[int] = []

    def count() -> None:
        for number in range(EACH):
            counts.request("/r", 200, 0.0001, (1.5, number))
        counts.redis_error("timeout")

    def read() -> None:  # a reader copying while the threads count never fails
        for _ in range(50):
            reads.append(sum(n for _, _, n in counts.dump()["requests"]))

    _in_threads(count, read)
    dump = counts.dump()
    assert dump["requests"] == [["/r", "200", THREADS * EACH]]
    latency = dump["latency"]["/r"]
    assert latency[0] == THREADS * EACH and sum(latency[:-1]) == THREADS * EACH
    assert dump["age"][2] == THREADS * EACH  # 1.5 s: the bucket le 2.0
    assert dump["age"][-1] == pytest.approx(1.5 * THREADS * EACH)
    assert dump["redis_errors"] == {"timeout": THREADS}
    assert dump["generation"] == EACH - 1
    assert reads == sorted(reads) and len(reads) == 50  # counts only grow


def test_answers_counted_by_appending_add_up_exactly_across_batches() -> None:
    counts = Counts(LATENCY_BUCKETS, AGE_BUCKETS, FAST)
    reads: list[tuple[int, float]] = []
    latencies = (0.0005, 0.0007, 3.0)  # le 0.0005 (inclusive), le 0.001, +Inf

    def count() -> None:
        for number in range(EACH):
            counts.answered(latencies[number % 3], 4.5, 7)

    def read() -> None:  # readers bin too: no answer may be seen twice, or lost
        for _ in range(200):
            dump = counts.dump()
            answered = dict(((r, s), n) for r, s, n in dump["requests"]).get((FAST, "200"), 0)
            reads.append((answered, sum(dump["age"][:-1])))

    _in_threads(count, read)
    dump = counts.dump()
    total = THREADS * EACH
    assert dump["requests"] == [[FAST, "200", total]]
    thirds = [THREADS * len(range(i, EACH, 3)) for i in range(3)]
    latency = dump["latency"][FAST]
    assert latency[:3] == [thirds[0], thirds[1], 0.0]
    assert latency[-2] == thirds[2] and sum(latency[:-1]) == total
    assert latency[-1] == pytest.approx(sum(n * s for n, s in zip(thirds, latencies, strict=True)))
    assert dump["age"][5] == total  # 4.5 s: the bucket le 5.0
    assert dump["age"][-1] == pytest.approx(4.5 * total)
    assert dump["generation"] == 7
    assert [a for a, _ in reads] == sorted(a for a, _ in reads)  # never back, never over
    assert all(0 <= a <= total and 0 <= age <= total for a, age in reads)


def test_batched_values_fall_in_the_buckets_that_one_at_a_time_binning_gives() -> None:
    chooser = random.Random(3)
    values = [*LATENCY_BUCKETS, 0.0, 1e-9, 2.5000001, 1e6, *(b * 0.999 for b in LATENCY_BUCKETS)]
    values += [chooser.lognormvariate(-6, 2) for _ in range(3000)]
    batched, expected = Batched(LATENCY_BUCKETS), [0.0] * (len(LATENCY_BUCKETS) + 2)
    for number, value in enumerate(values):
        batched.append(value)
        expected[bisect_left(LATENCY_BUCKETS, value)] += 1  # le is inclusive
        if number % 500 == 0:
            batched.histogram()  # binned in several batches
    expected[-1] = sum(values)
    histogram = batched.histogram()
    assert histogram[:-1] == expected[:-1]
    assert histogram[-1] == pytest.approx(expected[-1])
    assert batched.count() == len(values)
    edges = Batched(LATENCY_BUCKETS)
    for value in (0.0005, 0.00050001, 2.5, 2.6):
        edges.append(value)
    assert edges.histogram() == [1, 1, *[0] * 9, 1, 1, pytest.approx(5.10100001)]


def test_the_counting_thread_bins_a_full_batch_itself() -> None:
    counts = Counts(LATENCY_BUCKETS, AGE_BUCKETS, FAST)
    for _ in range(BATCH - 1):
        counts.answered(0.001, 1.0, 1)
    assert len(counts.fast_latency.values) == BATCH - 1
    counts.answered(0.001, 1.0, 1)
    assert len(counts.fast_latency.values) == len(counts.fast_age.values) == 0
    assert counts.fast_latency.count() == BATCH


def test_both_ways_of_counting_add_up_under_one_route() -> None:
    counts = Counts(LATENCY_BUCKETS, AGE_BUCKETS, FAST)
    counts.answered(0.002, 0.7, 3)
    counts.request(FAST, 200, 0.002, (0.7, 4))
    counts.request(FAST, 404, 0.0001)
    dump = counts.dump()
    assert sorted(dump["requests"]) == [[FAST, "200", 2], [FAST, "404", 1]]
    latency = dump["latency"][FAST]
    assert latency[2] == 2 and latency[0] == 1 and sum(latency[:-1]) == 3  # le 0.0025, le 0.0005
    assert latency[-1] == pytest.approx(0.0041)
    assert dump["age"][1] == 2 and dump["generation"] == 4  # 0.7 s: the bucket le 1.0


def test_pending_says_whether_anything_was_counted_since_the_last_save() -> None:
    counts = Counts(LATENCY_BUCKETS, AGE_BUCKETS, FAST)
    assert not counts.pending()
    counts.answered(0.001, 1.0, 1)
    assert counts.pending()
    counts.dump()  # a live read bins the answers, but saves nothing
    assert counts.pending()
    counts.dump(saving=True)
    assert not counts.pending()
    counts.request("/r", 200, None)
    assert counts.pending()
    counts.dump(saving=True)
    assert not counts.pending()


def test_workers_sums_never_go_back_whichever_worker_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_share, "FLUSH_SECONDS", 3600)  # no save but the reads' own
    first, second = (Counts(LATENCY_BUCKETS, AGE_BUCKETS, FAST) for _ in range(2))
    shares = [FileShare(first, tmp_path), FileShare(second, tmp_path)]
    for share in shares:
        share.start()
        share.start()  # a second start starts nothing more
    sums = []
    for number in range(6):  # reads served in turns by each worker, counting in between
        (first if number % 3 else second).answered(0.001, 1.0, 1)
        total = shares[number % 2].collect()["requests"]
        sums.append(total.get((FAST, "200"), 0))
    assert sums == [0, 1, 3, 4, 5, 5]  # never back; another worker's latest counts come late
    assert shares[0].collect()["requests"][(FAST, "200")] == 6  # the one that counted them
    assert len(list(tmp_path.glob(metrics_share.FILE_PATTERN))) == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_a_forked_child_counts_from_zero_into_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_share, "FLUSH_SECONDS", 3600)  # only this test's own saves
    counts = Counts(LATENCY_BUCKETS, AGE_BUCKETS, FAST)
    share = FileShare(counts, tmp_path)
    share.start()
    counts.answered(0.001, 1.0, 5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it sees, then count one answer and save it
        try:
            seen = {"requests": counts.dump()["requests"], "path": str(share.path)}
            counts.answered(0.001, 1.0, 6)
            share.flush()
            os.write(write, json.dumps(seen).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        seen = json.loads(pipe.read())
    os.waitpid(pid, 0)
    assert seen["requests"] == [] and seen["path"] != str(share.path)
    share.flush()
    files = {path: json.loads(path.read_text()) for path in tmp_path.glob("*.json")}
    assert sorted(part["requests"][0][2] for part in files.values()) == [1, 1]
    assert files[Path(seen["path"])]["generation"] == 6
    assert files[share.path]["generation"] == 5
