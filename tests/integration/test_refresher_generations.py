"""Readers never see two generations in one answer, while the refresher rewrites the table.

The stub source serves a new table on every request: tick ``n`` has ``5 + n % 4`` switches
(so switches come and go) and every value equal to ``n``. An answer mixing generations would
hold two different values, or columns of a different length than the switch list.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from itertools import count

import pytest
import redis

from telemetry_common.reader import NoSnapshot, read_columns
from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import wait_for
from tests.helpers.processes import KEYS, generation, refresher
from tests.helpers.source import Reply, StubSource

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

METRICS = ["Latency", "Errors", "Drops"]
READS = 3000  # at least, and over at least GENERATIONS snapshots
GENERATIONS = 10


def table(tick: int) -> bytes:
    rows = [f"sw-{n},{tick},{tick},{tick}" for n in range(5 + tick % 4)]
    return ("switch," + ",".join(METRICS) + "\n" + "\n".join(rows) + "\n").encode()


@pytest.fixture
def changing_source() -> Iterator[StubSource]:
    ticks = count(1)
    source = StubSource()

    def reply() -> Reply:
        tick = next(ticks)
        return Reply(body=table(tick), etag=f'"t{tick}"', tick=str(tick))

    source.make_reply = reply
    yield source
    source.close()


def test_every_answer_comes_from_one_generation(
    private_redis: RedisServer, changing_source: StubSource
) -> None:
    client = redis.Redis.from_url(private_redis.url, socket_timeout=2)
    worker = refresher(
        private_redis.url, changing_source.url, refresh_interval="0.1", ttl="2", leader_ttl="0.8"
    )
    mixed: list[str] = []
    seen: set[int] = set()
    answers = 0

    def read() -> None:
        nonlocal answers
        deadline = time.monotonic() + 30
        while (answers < READS or len(seen) < GENERATIONS) and time.monotonic() < deadline:
            try:
                columns = read_columns(client, KEYS, METRICS)
            except NoSnapshot:
                continue
            answers += 1
            seen.add(columns.info.generation)
            values = {value for column in columns.columns for value in column}
            lengths = {len(column) for column in columns.columns}
            if len(values) != 1 or lengths != {len(columns.switches)}:
                mixed.append(f"generation {columns.info.generation}: {columns}")
            elif len(columns.switches) != 5 + int(values.pop()) % 4:
                mixed.append(f"generation {columns.info.generation}: switches {columns.switches}")

    try:
        wait_for(lambda: generation(client) >= 1, 10, message="the first snapshot")
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(45)
        assert not reader.is_alive()
    finally:
        assert worker.stop() == 0, worker.output()
        client.close()
    print(f"\n{answers} answers over {len(seen)} generations")
    assert mixed == []
    assert answers >= READS and len(seen) >= GENERATIONS
