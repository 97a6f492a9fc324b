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
import requests

from telemetry_stack.servers.sentinel_set import SERVICE, NodeServer, SentinelSet
from tests.helpers import Service, free_port, wait_for
from tests.helpers.api import put_snapshot
from tests.helpers.load import Load, report, statuses
from tests.helpers.topology import SentinelStack, generation_on, generations_go_back, writes_resume

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

GET_METRIC = ("/telemetry/GetMetric?switch=3&metric=Latency",)
AFTER = 100  # answers (200) kept coming after writes resumed, as many as before the failover


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
        load.wait_answers(100)  # steady state under load
        before = generation_on(primary)
        started = time.monotonic()
        trigger(sentinels)
        try:
            resumed = writes_resume(sentinels, old_port, before, timeout=60) - started
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{stack.output()}") from None
        load.wait_answers(AFTER, after=started + resumed)  # load kept on the new primary
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


def test_reads_move_to_the_replica_once_it_is_in_sync(sentinel_set: SentinelSet) -> None:
    """An API started while its replica is out of sync reads the primary, then moves over."""
    sentinels, replica = sentinel_set, sentinel_set.replica
    watcher = sentinels.sentinels[0].client()

    def linked() -> bool:
        found = watcher.sentinel_slaves(SERVICE)
        return any(r["port"] == replica.port and r["master-link-status"] == "ok" for r in found)

    replica.client().config_set("masterauth", "cut-replication")  # the primary has none
    sentinels.primary.client().client_kill_filter(_type="replica")
    wait_for(lambda: not linked(), 30, 0.2, "the sentinels to see the replica out of sync")
    put_snapshot(sentinels.primary.client(), ttl=3600)
    bind = f"127.0.0.1:{free_port()}"
    env = {
        "TELEMETRY_REDIS_URL": sentinels.url(),
        "TELEMETRY_REDIS_READ_URL": sentinels.url(role="replica"),
    }
    api = Service(["api", "--bind", bind, "--workers", "1"], env=env)
    session = requests.Session()

    def served_by(node: NodeServer, count: int = 20) -> int:
        """Return how many of ``count`` GetMetric answers ``node`` read."""
        session.get(f"http://{bind}/telemetry/GetMetric?switch=1&metric=Latency")  # loads scripts
        node.client().config_resetstat()
        for _ in range(count):
            answer = session.get(f"http://{bind}/telemetry/GetMetric?switch=1&metric=Latency")
            assert answer.status_code == 200, answer.text
        stats = node.client().info("commandstats")
        return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))

    try:
        api.wait_http(f"http://{bind}/readyz", timeout=40)
        assert served_by(sentinels.primary) == 20  # no replica in sync: the primary answers
        replica.client().config_set("masterauth", "")
        wait_for(linked, 30, 0.2, "the sentinels to list the replica in sync")
        listed = time.monotonic()
        wait_for(
            lambda: served_by(replica) == 20,
            20,
            0.5,
            "reads on the replica " + api.output()[-3000:],
        )
        moved = time.monotonic() - listed
        print(f"\nFIGURES reads moved to the replica {moved:.1f} s after it was listed in sync")
        assert served_by(replica, 50) == 50, api.output()
    finally:
        api.stop()
