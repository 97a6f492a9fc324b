"""A Sentinel set under steady GetMetric load: SIGKILL of the primary, then a planned failover.

The API reads from the replica that Sentinel names, the refreshers write through Sentinel.
Figures (answers that were not 2xx, time until writes resume) are printed and recorded; the
asserts are the outcomes the system promises, not timings.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest

from telemetry_stack.servers.sentinel_set import SERVICE, SentinelSet
from tests.helpers import wait_for
from tests.helpers.load import Load, report, statuses
from tests.helpers.topology import SentinelStack, generation_on, generations_go_back, writes_resume

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

GET_METRIC = ("/telemetry/GetMetric?switch=3&metric=Latency",)
AFTER = 3.0  # seconds of load kept after writes resumed


@pytest.fixture
def stack(sentinel_set: SentinelSet) -> Iterator[SentinelStack]:
    started = SentinelStack(sentinel_set)
    yield started
    started.stop()


def _failover_under_load(stack: SentinelStack, trigger, request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    sentinels = stack.sentinels
    old_port = sentinels.primary_port()
    primary = stack.primary()
    wait_for(lambda: generation_on(primary) >= 3, 30, message="three snapshots")
    with Load(stack.api_url, threads=3, paths=GET_METRIC) as load:
        time.sleep(2.0)
        before = generation_on(primary)
        started = time.monotonic()
        trigger(sentinels)
        try:
            resumed = writes_resume(sentinels, old_port, before, timeout=60) - started
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{stack.output()}") from None
        time.sleep(AFTER)
        samples = load.stop()
    counts = statuses(samples)
    failed = [s for s in samples if not 200 <= s.status < 300]
    during = [s for s in samples if s.started >= started]
    report(
        request,
        answers=len(samples),
        answers_during_failover=len(during),
        statuses=counts,
        non_2xx=len(failed),
        writes_resumed_s=round(resumed, 2),
        first_errors=[(s.status, s.text[:120]) for s in failed[:3]],
    )
    assert len(during) > 0
    assert failed == [], f"non-2xx: {counts}; first: {failed[:3]}\n{stack.output()}"
    assert generations_go_back(samples) == []
    assert sentinels.primary_port() != old_port


def test_sigkill_of_the_primary_loses_no_answer(
    stack: SentinelStack, request: pytest.FixtureRequest
) -> None:
    def kill(sentinels: SentinelSet) -> None:
        process = sentinels.node(sentinels.primary_port()).process
        assert process is not None
        process.send_signal(signal.SIGKILL)

    _failover_under_load(stack, kill, request)


def test_planned_failover_loses_no_answer(
    stack: SentinelStack, request: pytest.FixtureRequest
) -> None:
    def failover(sentinels: SentinelSet) -> None:
        sentinels.sentinels[0].client().execute_command("SENTINEL", "FAILOVER", SERVICE)

    _failover_under_load(stack, failover, request)
