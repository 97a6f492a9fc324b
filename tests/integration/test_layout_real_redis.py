"""The packed write path against a real Redis: same result as the pipeline path, and atomic."""

from __future__ import annotations

import pytest
import redis

from telemetry_common import packing, raw_exec
from telemetry_common.keys import Keys
from telemetry_common.reader import read_columns
from telemetry_common.writer import write_snapshot
from tests.helpers.layout import dump, table

pytestmark = pytest.mark.integration

METRICS = ["A", "B.b", "C_c"]


def big_rows(count: int, offset: int = 0) -> dict[str, list[str]]:
    rows = {str(i): [f"{i + offset}.25", str(i * 3 + offset), "-0.5"] for i in range(count)}
    rows["id with space"] = ["1", "2", "3"]
    rows["ünï,code"] = ["4", "5", "6e-3"]
    return rows


def test_packed_and_pipeline_paths_write_the_same_snapshot(
    real_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = table(big_rows(12_000), METRICS)
    assert raw_exec.supports(real_redis)
    write_snapshot(real_redis, Keys("packed"), data, ttl=30, now=1.0)
    monkeypatch.setattr(raw_exec, "supports", lambda client: False)
    write_snapshot(real_redis, Keys("piped"), data, ttl=30, now=1.0)
    packed = {k.removeprefix("packed"): v for k, v in dump(real_redis, Keys("packed")).items()}
    piped = {k.removeprefix("piped"): v for k, v in dump(real_redis, Keys("piped")).items()}
    assert len(packed) == 12_002 + 3 + 6  # switches, metric lists, lists, meta, counters, fence
    assert packed == piped
    assert real_redis.hgetall("packed:switch:ünï,code") == {
        b"A": b"4",
        b"B.b": b"5",
        b"C_c": b"6e-3",
    }


def test_a_write_that_fails_mid_stream_writes_nothing(
    real_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = Keys()
    write_snapshot(real_redis, keys, table(big_rows(12_000), METRICS), ttl=30)
    before = dump(real_redis, keys)
    calls = []
    real_rows = packing.rows

    def fail_on_second_block(pieces: list[packing.Piece], count: int) -> bytes:
        calls.append(count)
        if len(calls) == 2:
            raise MemoryError("simulated failure while packing the second block")
        return real_rows(pieces, count)

    monkeypatch.setattr(packing, "rows", fail_on_second_block)
    with pytest.raises(MemoryError):
        write_snapshot(real_redis, keys, table(big_rows(12_000, offset=7), METRICS), ttl=30)
    assert dump(real_redis, keys) == before
    monkeypatch.setattr(packing, "rows", real_rows)
    assert read_columns(real_redis, keys, ["A"]).info.generation == 1
    assert write_snapshot(real_redis, keys, table(big_rows(10), METRICS), ttl=30) == 2
