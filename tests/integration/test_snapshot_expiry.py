"""A large snapshot's meta hash expires before any key it describes, never after.

Redis times each EXPIRE of a transaction when it runs it, so in a long EXEC the first keys
written expire first. If the meta hash outlived them, a reader would find a snapshot whose
switches are gone (a 404 for a known switch) at the moment it expires.
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


def test_the_meta_hash_expires_before_every_key_of_its_snapshot(real_redis: redis.Redis) -> None:
    table = parse_counters(make_body(40_000))
    write_snapshot(real_redis, KEYS, table, ttl=30)
    pipe = real_redis.pipeline(transaction=True)  # one point in time
    pipe.pttl(KEYS.meta)
    for switch in table.switches:
        pipe.pttl(KEYS.switch(switch))
    for name in table.metrics:
        pipe.pttl(KEYS.metric(name))
    pipe.pttl(KEYS.switches)
    pipe.pttl(KEYS.metrics)
    meta, *others = pipe.execute()
    assert len(others) == 40_000 + 8 + 2 and min(others) > 0
    assert 0 < meta < min(others), (meta, min(others), max(others))
    assert min(others) - meta <= 10  # a few milliseconds, not the length of the write
