"""Refreshes that race, and a restarted generator: the snapshot never goes back, fresh data wins.

Racing refreshes run the real ``refresh_once`` from several threads at once against a real
Redis and a stub source whose every answer is a new tick. The restarted generator runs the
whole stack as processes (interval 1 s, generator tick 0.5 s): its tick counter starts again
from 1 while the old snapshot, many ticks ahead, is still live.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import redis

from refresher_worker.refresh import refresh_once
from refresher_worker.settings import RefresherSettings
from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import wait_for
from tests.helpers.faults import INTERVAL, KEYS, Stack, status
from tests.helpers.layout import meta_field, meta_of
from tests.helpers.load import report
from tests.helpers.monotone import Monotone
from tests.helpers.ticking import TickingSource

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

THREADS, ROUNDS = 4, 25


def test_refreshes_racing_never_move_the_snapshot_back(
    redis_url: str, real_redis: redis.Redis, request: pytest.FixtureRequest
) -> None:
    source = TickingSource(switches=2_000, delay=0.02)
    settings = RefresherSettings(source_url=source.url, key_prefix=KEYS.prefix, fetch_timeout=2)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def refresher(number: int) -> None:
        client = redis.Redis.from_url(redis_url, socket_timeout=5)
        for _ in range(ROUNDS):
            outcome = refresh_once(client, KEYS, settings, worker=f"racer-{number}")
            with lock:
                outcomes[outcome.result] += 1
        client.close()

    try:
        with Monotone(redis_url, KEYS) as watch:
            threads = [threading.Thread(target=refresher, args=(n,)) for n in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=100)
    finally:
        source.close()
    recorded = status(real_redis)
    report(
        request,
        refreshes=sum(outcomes.values()),
        outcomes=dict(outcomes),
        redis_reads=watch.redis_reads,
        redis_regressions=len(watch.redis_regressions),
    )
    assert watch.redis_regressions == [] and watch.redis_reads > 100
    assert set(outcomes) <= {"written", "fenced"} and sum(outcomes.values()) == THREADS * ROUNDS
    assert outcomes["written"] >= 1
    assert int(recorded.get("refreshes_fenced", 0)) == outcomes["fenced"]
    assert int(recorded["refreshes_written"]) == outcomes["written"]
    # Each write that passed the first fence check numbered a generation; fenced ones too.
    live = int(real_redis.get(KEYS.current) or 0)
    assert meta_field(real_redis, KEYS, "generation") == str(live).encode()
    assert outcomes["written"] <= int(real_redis.get(KEYS.generation) or 0) <= THREADS * ROUNDS
    assert real_redis.hget(KEYS.fence, "generation") == str(live).encode()


def test_a_restarted_generator_whose_tick_starts_again_wins_at_once(
    private_redis: RedisServer, request: pytest.FixtureRequest
) -> None:
    client = redis.Redis.from_url(private_redis.url, socket_timeout=2)
    stack = Stack(private_redis.url)

    def live() -> tuple[int, float]:
        tick, when = meta_of(client, KEYS, "source_tick", "source_time")
        return (int(tick), float(when)) if tick and when else (0, 0.0)

    try:
        wait_for(lambda: live()[0] >= 8, 30, 0.05, "a snapshot of tick 8 or later")
        stack.generator.stop()
        old_tick, old_time = live()
        stack.generator = stack.start_generator()
        back = time.monotonic()

        def new_run() -> tuple[int, float] | None:
            tick, when = live()
            return (tick, when) if 0 < tick < old_tick else None

        new_tick, new_time = wait_for(new_run, 10 * INTERVAL, 0.01, "the new run's data")
        waited = time.monotonic() - back
        recorded = status(client)
    finally:
        stack.stop()
        client.close()
    report(
        request,
        old_tick=old_tick,
        new_tick=new_tick,
        first_new_snapshot_after_return_s=round(waited, 3),
        fenced=int(recorded.get("refreshes_fenced", 0)),
    )
    assert new_tick < old_tick and new_time > old_time
    assert int(recorded.get("refreshes_fenced", 0)) == 0
