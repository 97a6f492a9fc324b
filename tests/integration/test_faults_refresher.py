"""The refresher leader dies by SIGKILL under API load: every answer stays a 200 within the TTL.

Two refreshers (interval 1 s, TTL 3 s, leader lock TTL 1 s so that a takeover, at most
1.25 s, fits in the TTL minus one interval), an API with 2 workers and a load loop of three
threads. The leader is killed at the worst moment, just before its next refresh.
"""

from __future__ import annotations

import signal
import time

import pytest
import redis

from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import leader_of, wait_for
from tests.helpers.faults import INTERVAL, KEYS, TTL, Stack, generation, wait_generation_above
from tests.helpers.layout import meta_field
from tests.helpers.load import Load, report, statuses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

LEADER_TTL = 1.0


def test_leader_killed_under_load_answers_stay_200_and_younger_than_the_ttl(
    private_redis: RedisServer, request: pytest.FixtureRequest
) -> None:
    client = redis.Redis.from_url(private_redis.url, socket_timeout=2)
    stack = Stack(private_redis.url, refreshers=2, leader_ttl=f"{LEADER_TTL:g}")
    try:
        leader = leader_of(client, stack.refreshers, KEYS)
        standby = next(service for service in stack.refreshers if service is not leader)
        with Load(stack.api_url) as load:
            load.wait_answers(100)  # steady state under load

            def snapshot_age() -> float:
                written = meta_field(client, KEYS, "written_at")
                return time.time() - float(written) if written else 0.0

            wait_for(lambda: snapshot_age() >= 0.7 * INTERVAL, 5, 0.01, "a refresh about due")
            before, old_holder = generation(client), client.get(KEYS.leader)
            leader.signal(signal.SIGKILL)
            killed = time.monotonic()
            wait_for(lambda: client.get(KEYS.leader) not in (None, old_holder), 10, 0.02)
            takeover = time.monotonic() - killed
            wait_generation_above(client, before, 10)
            refreshed = time.monotonic() - killed
            time.sleep(TTL)  # the window under test: load kept on for one TTL after takeover
        samples = load.stop()
        standby_alive = standby.process.poll() is None
        standby_log = standby.output()
    finally:
        stack.stop()
        client.close()

    during = [s for s in samples if killed <= s.started <= killed + refreshed]
    ages = [s.age for s in samples if s.age is not None]
    report(
        request,
        takeover_s=round(takeover, 3),
        first_refresh_after_kill_s=round(refreshed, 3),
        requests=len(samples),
        requests_during_takeover=len(during),
        statuses=statuses(samples),
        max_age_s=max(ages),
        slowest_answer_s=round(max(s.seconds for s in samples), 3),
    )
    assert statuses(samples) == {200: len(samples)}, [s for s in samples if s.status != 200][:5]
    assert during, "no request ran while the standby took over"
    assert len(ages) == len(samples) and max(ages) <= TTL
    assert standby_alive and "leadership gained" in standby_log
