"""The reader against a real Redis: whole answers, however the lists are sliced."""

from __future__ import annotations

import pytest
import redis

from telemetry_common import reader
from telemetry_common.keys import Keys
from telemetry_common.redis_client import connect
from telemetry_common.snapshot import Table
from telemetry_common.writer import write_snapshot
from telemetry_stack.servers.redis_server import RedisServer

pytestmark = pytest.mark.integration

KEYS = Keys("readertest")


def fill(client: redis.Redis) -> None:
    table = Table.from_rows(
        ["1", "a,b", "交换机"],
        ["CpuUsage", "Latency"],
        [[b"1.50", b"2"], [b"3", b"4.25"], [b"5", b"-6e3"]],
    )
    write_snapshot(client, KEYS, table, ttl=30)


def test_reads_agree_however_the_lists_are_sliced(
    real_redis: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(real_redis)
    packed = connect(redis_url)
    piped = connect(redis_url)
    one_slice = reader.read_columns(packed, KEYS, ["Latency", "CpuUsage"])
    monkeypatch.setattr(reader, "SLICE", 2)  # three switches: two LRANGEs a list
    sliced = reader.read_columns(piped, KEYS, ["Latency", "CpuUsage"])
    assert (sliced.switches, sliced.columns) == (one_slice.switches, one_slice.columns)
    assert sliced.info.snapshot == one_slice.info.snapshot
    for client in (packed, piped):
        assert reader.read_metric(client, KEYS, "a,b", "Latency").value == b"4.25"
    assert reader.read_info(packed, KEYS).generation == reader.read_info(piped, KEYS).generation
    one = reader.read_columns(packed, KEYS, ["Latency", "CpuUsage"])
    other = reader.read_columns(piped, KEYS, ["Latency", "CpuUsage"])
    assert (one.switches, one.columns) == (other.switches, other.columns)
    assert one.switches == [b"1", b"a,b", "交换机".encode()]
    assert reader.read_catalog(packed, KEYS).switches == reader.read_catalog(piped, KEYS).switches
    for client in (packed, piped):
        with pytest.raises(reader.UnknownNames) as caught:
            reader.read_metric(client, KEYS, "9", "Nope")
        assert (caught.value.switches, caught.value.metrics) == (("9",), ("Nope",))
        with pytest.raises(reader.UnknownNames) as caught:
            reader.read_columns(client, KEYS, ["Latency", "Nope"])
        assert caught.value.metrics == ("Nope",)
        assert caught.value.info is not None and caught.value.info.metric_count == 2


def test_a_redis_error_is_raised_and_the_connection_stays_usable(
    real_redis: redis.Redis, redis_url: str
) -> None:
    real_redis.set(KEYS.current, "3")
    real_redis.set(KEYS.at(3).meta, "not a hash")
    client = connect(redis_url)
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        reader.read_info(client, KEYS)
    real_redis.delete(KEYS.at(3).meta, KEYS.current)
    with pytest.raises(reader.NoSnapshot):
        reader.read_info(client, KEYS)
    fill(real_redis)
    assert reader.read_metric(client, KEYS, "1", "CpuUsage").value == b"1.50"


def test_pooled_connections_survive_a_redis_restart(private_redis: RedisServer) -> None:
    client = connect(private_redis.url)
    fill(client)
    assert reader.read_metric(client, KEYS, "1", "CpuUsage").value == b"1.50"
    private_redis.stop()
    private_redis.start()  # the pooled connection is now dead, and nothing has noticed yet
    fill(redis.Redis.from_url(private_redis.url))
    assert reader.read_metric(client, KEYS, "1", "CpuUsage").value == b"1.50"
    private_redis.stop()
    with pytest.raises(redis.ConnectionError):
        reader.read_info(client, KEYS)
