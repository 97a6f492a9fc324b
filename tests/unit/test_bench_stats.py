"""The bench's arithmetic: percentiles, latency summaries, counts that add up, merging."""

from __future__ import annotations

import pytest

from telemetry_stack.bench.stats import (
    BAD_ANSWER,
    CONNECTION,
    STATUS,
    TIMEOUT,
    Tally,
    error_rate,
    latency_ms,
    percentile,
)


def histogram(values: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([15, 20, 35, 40, 50], 5, 15),  # the nearest-rank examples of the textbook definition
        ([15, 20, 35, 40, 50], 30, 20),
        ([15, 20, 35, 40, 50], 40, 20),
        ([15, 20, 35, 40, 50], 50, 35),
        ([15, 20, 35, 40, 50], 100, 50),
        ([3, 6, 7, 8, 8, 10, 13, 15, 16, 20], 25, 7),
        ([3, 6, 7, 8, 8, 10, 13, 15, 16, 20], 50, 8),
        ([3, 6, 7, 8, 8, 10, 13, 15, 16, 20], 75, 15),
        ([7], 99, 7),
    ],
)
def test_percentile_is_the_nearest_rank(values: list[int], p: float, expected: int) -> None:
    assert percentile(histogram(values), p) == expected


def test_percentile_of_nothing_is_none() -> None:
    assert percentile({}, 50) is None


def test_p99_of_a_hundred_values_is_the_99th_and_one_slow_answer_shows_only_in_the_max() -> None:
    values = list(range(1, 101))
    assert percentile(histogram(values), 99) == 99
    summary = latency_ms(histogram([1000] * 999 + [250_000]))
    assert summary == {"min": 1.0, "p50": 1.0, "p90": 1.0, "p99": 1.0, "max": 250.0}


def test_latency_summary_of_no_answers_is_empty() -> None:
    assert latency_ms({}) == dict.fromkeys(("min", "p50", "p90", "p99", "max"))


def test_counts_add_up_and_each_failure_has_one_kind() -> None:
    tally = Tally()
    for _ in range(7):
        tally.answered(200, 0.002, 1.5, 10)
    tally.bad("row 3 is switch '9'")
    tally.answered(503, 0.001, None, None)
    tally.unanswered(CONNECTION)
    tally.unanswered(TIMEOUT)
    assert tally.requests == 10 == sum(tally.statuses.values())
    assert tally.statuses == {200: 7, 503: 1, 0: 2}
    assert tally.errors == {BAD_ANSWER: 1, STATUS: 1, CONNECTION: 1, TIMEOUT: 1}
    assert tally.failed == 4
    assert error_rate(tally) == pytest.approx(0.4)
    assert sum(tally.latency_us.values()) == 8  # answered ones only
    assert tally.latency_us == {2000: 7, 1000: 1}
    assert tally.max_age == 1.5 and tally.generations == (10, 10)


def test_merging_adds_counts_and_keeps_extremes() -> None:
    one, two = Tally(), Tally()
    one.answered(200, 0.001, 2.0, 5)
    two.answered(200, 0.001, 4.5, 7)
    two.answered(404, 0.003, None, None)
    one.cpu_s, two.cpu_s, one.wall_s, two.wall_s = 1.0, 2.0, 10.0, 10.2
    one.merge(two)
    assert one.statuses == {200: 2, 404: 1}
    assert one.latency_us == {1000: 2, 3000: 1}
    assert one.errors == {STATUS: 1}
    assert one.max_age == 4.5 and one.generations == (5, 7)
    assert one.cpu_s == 3.0 and one.wall_s == 10.2


def test_error_rate_of_no_requests_is_zero() -> None:
    assert error_rate(Tally()) == 0.0


def test_only_a_few_bad_answers_are_kept_as_examples() -> None:
    tally = Tally()
    for number in range(10):
        tally.answered(200, 0.001, None, None)
        tally.bad(f"reason {number}")
    assert tally.errors[BAD_ANSWER] == 10
    assert tally.bad_samples == ["reason 0", "reason 1", "reason 2"]
