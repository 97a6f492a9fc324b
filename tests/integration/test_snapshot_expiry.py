"""A large generation's pointer and meta hash expire first, its data keys shortly after.

A generation is written in many batches over a while. Were each key given a relative TTL when
written, the first keys would expire first, and a reader would find a generation whose early
switches are gone (a 404 for a known switch). Every key gets an absolute expiry instead: the
pointer and the meta hash at the deadline, the data spread over the next SPREAD_MS, so that
Redis never expires a whole generation in one go.
"""

from __future__ import annotations

import pytest
import redis

from benchmarks.refresh_bench import make_body
from refresher_worker.parser import parse_counters
from telemetry_common.keys import Keys
from telemetry_common.writer import SPREAD_MS, write_snapshot

pytestmark = pytest.mark.integration

KEYS = Keys("expiry")


def test_no_key_of_a_generation_expires_before_its_pointer_and_meta_hash(
    real_redis: redis.Redis,
) -> None:
    table = parse_counters(make_body(40_000))  # twenty batches: written over a while

    def now_ms() -> int:  # by Redis's clock, as the writer takes its deadline
        seconds, micros = real_redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    before = now_ms()
    generation = write_snapshot(real_redis, KEYS, table, ttl=30)
    after = now_ms()
    at = KEYS.at(generation)
    pipe = real_redis.pipeline(transaction=False)
    pipe.pexpiretime(KEYS.current)
    pipe.pexpiretime(at.meta)
    for switch in table.switches:
        pipe.pexpiretime(at.switch(switch))
    for name in table.metrics:
        pipe.pexpiretime(at.metric(name))
    pipe.pexpiretime(at.switches)
    pipe.pexpiretime(at.metrics)
    pointer, meta, *data = pipe.execute()
    assert len(data) == 40_000 + 8 + 2
    assert pointer == meta and before + 30_000 <= meta <= after + 30_000  # TTL from the start
    assert meta <= min(data) and max(data) == meta + SPREAD_MS  # by Redis's clock
    assert len(set(data)) > 20  # spread, batch by batch
