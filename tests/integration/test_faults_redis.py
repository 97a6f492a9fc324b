"""Redis stopped for five seconds under API load: fast 503s, then 200s, with no restart.

One refresher (interval 1 s, TTL 3 s), an API with 2 workers and a load loop of three threads.
The test's Redis persists nothing, so it comes back empty: the first 200s after its return
need the refresher's next snapshot, and measure the whole chain (API reconnection, refresher
reconnection and refresh). How fast that chain is depends on the machine's load: the test
reports the times and checks the order of events (the first refresh after the return refills
Redis, every answer after the refill is a 200) within generous deadlines.
"""

from __future__ import annotations

import time

import pytest
import redis

from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import wait_for
from tests.helpers.faults import Stack, generation, status
from tests.helpers.load import Load, Sample, report, statuses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

OUTAGE = 5.0
ANSWER_BOUND = 1.0  # no answer slower than this while Redis is down (they take ~0.06 s)
DEADLINE = 20.0  # to refill and answer 200 again after the return (it takes ~0.1-2.5 s)


def test_redis_stopped_for_five_seconds_under_load(
    private_redis: RedisServer, request: pytest.FixtureRequest
) -> None:
    stack = Stack(private_redis.url)
    pids = [service.process.pid for service in stack.services()]
    try:
        with Load(stack.api_url) as load:
            load.wait_answers(50)  # steady state under load
            private_redis.stop()
            down = time.monotonic()
            time.sleep(OUTAGE)  # the outage itself, not a wait: Redis stays down this long
            returning = time.monotonic()
            private_redis.start()
            up = time.monotonic()
            client = redis.Redis.from_url(private_redis.url, socket_timeout=2)
            wait_for(lambda: generation(client) > 0, DEADLINE, 0.02, "a snapshot after the outage")
            refilled_seen = time.monotonic()
            refilled = refilled_seen - up
            # The status hash came back empty with Redis: it counts the refreshes since.
            wait_for(lambda: "refreshes_written" in status(client), DEADLINE, 0.02, "its record")
            recorded = status(client)

            def first_200() -> Sample | None:
                return next(
                    (s for s in list(load.samples) if s.status == 200 and s.started > up), None
                )

            healed = wait_for(first_200, DEADLINE, message="a 200 after the outage")
            load.wait_answers(100, after=healed.started)  # and it keeps answering
        samples = load.stop()
        alive = [service.process.poll() is None for service in stack.services()]
        pids_after = [service.process.pid for service in stack.services()]
    finally:
        stack.stop()

    outage = [s for s in samples if s.started >= down and s.finished <= returning]
    while_down = [s for s in samples if down <= s.started <= up]
    after = [s for s in samples if s.started >= min(healed.finished, refilled_seen)]
    recovery = healed.finished - up
    reached = next(s for s in samples if s.started > up and "unreachable" not in s.text)
    report(
        request,
        outage_s=OUTAGE,
        requests=len(samples),
        requests_while_down=len(outage),
        statuses=statuses(samples),
        statuses_while_down=statuses(outage),
        slowest_answer_while_down_s=round(max(s.seconds for s in while_down), 3),
        api_reached_redis_after_return_s=round(reached.finished - up, 3),
        first_200_after_return_s=round(recovery, 3),
        refilled_after_return_s=round(refilled, 3),
        statuses_after_first_200=statuses(after),
    )
    assert all(alive) and pids_after == pids, "a process died or was restarted"
    assert outage and statuses(outage) == {503: len(outage)}
    assert all(s.retry_after for s in outage)
    assert all("Redis is unreachable" in s.text for s in outage), outage[0].text
    assert not [s for s in samples if s.status not in (200, 503)]  # no 500, no lost answer
    assert max(s.seconds for s in while_down) < ANSWER_BOUND
    assert statuses(after) == {200: len(after)}
    # The first refresh after the return refilled Redis: none failed since.
    assert recorded.get("refreshes_failed") is None, recorded
    assert int(recorded["refreshes_written"]) >= 1
