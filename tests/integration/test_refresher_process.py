"""`telemetry refresher` as a real process with a real Redis: fill, survive, stop cleanly."""

from __future__ import annotations

import csv
import io
import signal
import threading
import time
from collections.abc import Iterator

import pytest
import redis
import requests

from telemetry_common.reader import read_catalog, read_columns
from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import wait_for
from tests.helpers.layout import meta_of
from tests.helpers.processes import KEYS, generation, generator, refresher, snapshot_dump, status
from tests.helpers.source import Reply, StubSource

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
def client(private_redis: RedisServer) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(private_redis.url, socket_timeout=2)
    yield connection
    connection.close()


def test_the_refresher_fills_redis_with_the_generators_table(
    private_redis: RedisServer, client: redis.Redis
) -> None:
    gen, url = generator(switches=30, tick="2")
    worker = refresher(private_redis.url, url, refresh_interval="0.5", ttl="5")
    try:

        def same_tick() -> tuple[str, list[list[bytes]], list[str]] | None:
            answer = requests.get(url, timeout=2)
            before, tick = meta_of(client, KEYS, "generation", "source_tick")
            if tick is None or tick.decode() != answer.headers["X-Telemetry-Tick"]:
                return None
            metrics = read_catalog(client, KEYS).metrics
            columns = read_columns(client, KEYS, metrics)
            if columns.info.generation != int(before):  # a refresh fell in between
                return None
            return answer.text, columns.columns, [s.decode() for s in columns.switches]

        text, columns, switches = wait_for(same_tick, 15, 0.1, "a snapshot of the served tick")
        rows = list(csv.reader(io.StringIO(text)))
        assert switches == [row[0] for row in rows[1:]] and len(switches) == 30
        for index, column in enumerate(columns, start=1):
            assert [value.decode() for value in column] == [row[index] for row in rows[1:]]
        recorded = status(client)
        assert recorded["state"] == "ok" and recorded["leader"] == recorded["last_worker"]
        assert client.ttl(KEYS.current) <= 5
    finally:
        assert worker.stop() == 0, worker.output()
        gen.stop()


def test_malformed_csv_leaves_the_last_good_snapshot_untouched(
    private_redis: RedisServer, client: redis.Redis, stub: StubSource
) -> None:
    worker = refresher(private_redis.url, stub.url, refresh_interval="0.3", ttl="6")
    try:
        wait_for(lambda: generation(client) == 1, 10, message="the first snapshot")
        good = snapshot_dump(client)
        stub.reply = Reply(body=b"switch,Latency\n1,0.5\n2,oops\n", etag='"bad"')
        wait_for(lambda: int(status(client).get("refreshes_failed", 0)) >= 3, 10)
        assert generation(client) == 1
        assert snapshot_dump(client) == good
        recorded = status(client)
        assert recorded["last_error_kind"] == "invalid_csv"
        assert "line 3: Latency value 'oops' is not a finite number" in recorded["last_error"]
        assert worker.output().count("refresh failed (invalid_csv)") == 1  # logged once
    finally:
        assert worker.stop() == 0, worker.output()


def test_redis_stopped_and_started_again_is_refilled_without_a_restart(
    private_redis: RedisServer,
    client: redis.Redis,
    stub: StubSource,
    record_property: pytest.RecordProperty,
) -> None:
    ticks = iter(range(1, 1_000_000))
    stub.make_reply = lambda: Reply(etag=f'"t{(tick := next(ticks))}"', tick=str(tick))
    worker = refresher(private_redis.url, stub.url, refresh_interval="0.5", ttl="3")
    try:
        wait_for(lambda: generation(client) >= 2, 10, message="snapshots before the outage")
        private_redis.stop()
        wait_for(lambda: "Redis down" in worker.output(), 30, 0.05, "the outage noticed")
        private_redis.start()
        began = time.monotonic()
        # Redis came back empty: two new snapshots mean the refresher found it again and ticks.
        # Its design bound is its Redis backoff's cap (2 s) plus two intervals (1 s); the wait
        # allows an order of magnitude more for a loaded machine.
        wait_for(lambda: generation(client) >= 2, 30, 0.1, "snapshots after the outage")
        record_property("refilled_after_return_seconds", round(time.monotonic() - began, 3))
        # The refresher took the leader lock again and writes its status on each tick.
        leader = client.get(KEYS.leader)
        assert leader is not None and status(client).get("leader") == leader.decode()
        assert "last_enqueued_at" in status(client)
        assert worker.process.poll() is None
        output = worker.output()
        assert output.count("Redis down") == 1 and output.count("Redis back") == 1, output
        assert "could not connect to Redis" not in output
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.process.wait(10) == 0, worker.output()
    assert not client.exists(KEYS.leader)  # released on the way out
    assert not list(client.scan_iter(KEYS.heartbeat_pattern))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_lets_the_current_refresh_finish_then_exits_0(
    private_redis: RedisServer, client: redis.Redis, stub: StubSource, sig: int
) -> None:
    answer = threading.Event()
    stub.reply = Reply(hold=answer)  # the fetch waits until the signal has been taken
    worker = refresher(
        private_redis.url, stub.url, refresh_interval="10", ttl="20", fetch_timeout="9"
    )
    try:
        wait_for(lambda: stub.seen_etags, 10, message="a refresh in progress")
        worker.signal(sig)
        wait_for(lambda: "stopping after the current refresh" in worker.output(), 8)
        assert worker.process.poll() is None  # still refreshing
        answer.set()
        assert worker.process.wait(10) == 0, worker.output()
    finally:
        worker.stop()
    assert generation(client) == 1  # the refresh under way was finished, not abandoned
    assert status(client)["last_outcome"] == "written"
    assert not client.exists(KEYS.leader)
