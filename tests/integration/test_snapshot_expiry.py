"""A large generation expires as one: every key and the pointer at the same instant.

A generation is written in many batches over a while. Were each key given a relative TTL when
written, the first keys would expire first, and a reader would find a generation whose early
switches are gone (a 404 for a known switch). Every key gets one absolute expiry instead.
"""

from __future__ import annotations

import pytest
import redis

from benchmarks.refresh_bench import make_body
from refresher_worker.parser import parse_counters
from telemetry_common.keys import Keys
from telemetry_common.writer import write_snapshot

pytestmark = pytest.mark.integration

KEYS = Keys("expiry")


def test_every_key_of_a_generation_and_the_pointer_expire_at_one_instant(
    real_redis: redis.Redis,
) -> None:
    table = parse_counters(make_body(40_000))  # twenty batches: written over a while
    generation = write_snapshot(real_redis, KEYS, table, ttl=30)
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
    instants = pipe.execute()
    assert len(instants) == 2 + 40_000 + 8 + 2
    assert len(set(instants)) == 1 and instants[0] > 0  # one absolute expiry, by Redis's clock
    assert 29_000 < instants[0] - int(real_redis.time()[0]) * 1000 <= 30_000 + 1000
