"""write_snapshot: the keys, values, TTLs and order it writes, and what it deletes."""

from __future__ import annotations

import re
from typing import Any

import fakeredis
import hiredis
import pytest
import redis

from telemetry_common import raw_exec
from telemetry_common.keys import Keys
from telemetry_common.snapshot import SourceInfo
from telemetry_common.writer import Plan, write_snapshot
from tests.helpers.layout import dump, table

KEYS = Keys()
ROWS = {"1": ["0.5", "10"], "sw 2": ["1.25", "11"], "x,é": ["-3", "12"]}


def test_writes_every_key_with_the_values_as_text_and_one_ttl(fake: fakeredis.FakeRedis) -> None:
    source = SourceInfo(etag='"run-7"', tick="7", tick_time=1000.5, fetched_at=1001.0)
    generation = write_snapshot(
        fake, KEYS, table(ROWS, ["CpuUsage", "Hits"]), ttl=10, source=source, now=1002.0
    )
    assert generation == 1
    assert fake.hgetall("telemetry:switch:sw 2") == {b"CpuUsage": b"1.25", b"Hits": b"11"}
    assert fake.hgetall("telemetry:switch:x,é") == {b"CpuUsage": b"-3", b"Hits": b"12"}
    assert fake.lrange("telemetry:metric:CpuUsage", 0, -1) == [b"0.5", b"1.25", b"-3"]
    assert fake.lrange("telemetry:metric:Hits", 0, -1) == [b"10", b"11", b"12"]
    assert fake.lrange("telemetry:switches", 0, -1) == [b"1", b"sw 2", "x,é".encode()]
    assert fake.lrange("telemetry:metrics", 0, -1) == [b"CpuUsage", b"Hits"]
    meta = fake.hgetall("telemetry:meta")
    snapshot = meta.pop(b"snapshot")
    assert re.fullmatch(rb"[0-9a-f]{16}", snapshot)
    assert meta == {
        b"generation": b"1", b"written_at": b"1002.000", b"fetched_at": b"1001.000",
        b"source_time": b"1000.500", b"source_etag": b'"run-7"', b"source_tick": b"7",
        b"ttl": b"10", b"switches": b"3", b"metrics": b"2",
    }  # fmt: skip
    assert fake.hgetall("telemetry:last-snapshot") == {
        b"generation": b"1",
        b"expires_at": b"1012.000",
    }
    assert fake.hgetall("telemetry:fence") == {
        b"issued": b"1", b"token": b"1", b"source_time": b"1000.500", b"snapshot": snapshot,
        b"generation": b"1", b"written_at": b"1002.000",
    }  # fmt: skip
    persistent = {b"telemetry:generation", b"telemetry:last-snapshot", b"telemetry:fence"}
    assert {fake.ttl(k) for k in persistent} == {-1}  # they outlive snapshots
    snapshot_keys = [k for k in fake.keys("telemetry:*") if k not in persistent]
    assert len(snapshot_keys) == 3 + 2 + 3
    assert {fake.ttl(k) for k in snapshot_keys} == {10}


def test_generation_grows_with_every_write(fake: fakeredis.FakeRedis) -> None:
    assert [write_snapshot(fake, KEYS, table(ROWS, ["A", "B"]), ttl=10) for _ in range(3)] == [
        1,
        2,
        3,
    ]


def test_switches_and_metrics_that_leave_the_table_are_deleted(fake: fakeredis.FakeRedis) -> None:
    write_snapshot(fake, KEYS, table(ROWS, ["A", "B"]), ttl=10)
    write_snapshot(fake, KEYS, table({"1": ["5", "6"], "9": ["7", "8"]}, ["A", "C"]), ttl=10)
    assert sorted(fake.keys("telemetry:*")) == [
        b"telemetry:fence", b"telemetry:generation", b"telemetry:last-snapshot", b"telemetry:meta",
        b"telemetry:metric:A", b"telemetry:metric:C", b"telemetry:metrics", b"telemetry:switch:1",
        b"telemetry:switch:9", b"telemetry:switches",
    ]  # fmt: skip
    # The old field B is gone from the hash of a switch that stayed.
    assert fake.hgetall("telemetry:switch:1") == {b"A": b"5", b"C": b"6"}


def test_another_prefix_writes_only_under_it(fake: fakeredis.FakeRedis) -> None:
    write_snapshot(fake, Keys("{edge}"), table(ROWS, ["A", "B"]), ttl=5)
    assert {k.split(b":")[0] for k in fake.keys("*")} == {b"{edge}"}
    assert fake.ttl("{edge}:switch:1") == 5


def test_a_write_that_fails_before_exec_leaves_the_previous_snapshot_whole(
    fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_snapshot(fake, KEYS, table(ROWS, ["A", "B"]), ttl=10)
    before = dump(fake, KEYS)
    real_pipeline = fake.pipeline
    monkeypatch.setattr(
        fake, "pipeline", lambda transaction=True: _FailingPipeline(real_pipeline(transaction))
    )
    with pytest.raises(redis.ConnectionError, match="lost before EXEC"):
        write_snapshot(fake, KEYS, table({"1": ["9", "9"]}, ["A", "C"]), ttl=10)
    assert dump(fake, KEYS) == before


class _FailingPipeline:
    """A pipeline whose transaction never reaches the server."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def execute(self) -> list[Any]:
        if self.real.transaction:
            raise redis.ConnectionError("connection lost before EXEC")
        return list(self.real.execute())


def test_packed_bytes_are_exactly_the_planned_commands() -> None:
    rows = {str(i): [f"{i}.5", str(i * 10), "-0.001"] for i in range(1, 25_000)}
    rows["id with space"] = ["1", "2", "3"]
    rows["ünï"] = ["4", "5", "6e-3"]
    plan = Plan(
        KEYS,
        table(rows, ["A", "Bb", "C.c"]),
        10,
        [b"telemetry:switch:old"],
        [b"ttl", b"10"],
        [b"1", b"4.000", b"0123456789abcdef", b"5.000"],
        5.0,
    )
    count, blocks = plan.packed()
    reader = hiredis.Reader()  # a request is an array of bulk strings, as a reply would be
    reader.feed(b"".join(blocks))
    decoded = []
    while (command := reader.gets()) is not False:
        decoded.append(tuple(command))
    assert decoded == plan.commands()
    assert count == len(decoded)


def test_the_packed_path_is_used_only_for_plain_clients(fake: fakeredis.FakeRedis) -> None:
    assert raw_exec.supports(redis.Redis())
    assert not raw_exec.supports(fake)
