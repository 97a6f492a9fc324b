"""The batched write against a real Redis: every key as the table says, and all-or-nothing."""

from __future__ import annotations

import pytest
import redis

from telemetry_common import packing, writer
from telemetry_common.keys import Keys
from telemetry_common.reader import read_catalog, read_columns, read_metric
from telemetry_common.writer import write_snapshot
from tests.helpers.layout import dump, table

pytestmark = pytest.mark.integration

METRICS = ["A", "B.b", "C_c"]


def big_rows(count: int, offset: int = 0) -> dict[str, list[str]]:
    rows = {str(i): [f"{i + offset}.25", str(i * 3 + offset), "-0.5"] for i in range(count)}
    rows["id with space"] = ["1", "2", "3"]
    rows["ünï,code"] = ["4", "5", "6e-3"]
    return rows


def test_a_large_generation_holds_exactly_the_table(real_redis: redis.Redis) -> None:
    rows = big_rows(45_000)  # more than one batch of hashes, list pushes and list reads
    keys = Keys("packed")
    generation = write_snapshot(real_redis, keys, table(rows, METRICS), ttl=30, now=1.0)
    at = keys.at(generation)
    found = dump(real_redis, keys)
    assert len(found) == 45_002 + 3 + 6 + 3 + 3  # hashes, metric lists, orders, 2 lists + meta, 3
    for switch, values in rows.items():
        assert found[at.switch(switch)] == (
            "hash",
            dict(zip(METRICS, values, strict=True)),
            "expires",
        )
    columns = read_columns(real_redis, keys, METRICS)
    assert columns.switches == [switch.encode() for switch in rows]
    for column in range(len(METRICS)):
        assert columns.columns[column] == [values[column].encode() for values in rows.values()]
    assert read_catalog(real_redis, keys).metrics == METRICS
    assert read_metric(real_redis, keys, "ünï,code", "C_c").value == b"6e-3"


def test_a_write_that_fails_mid_stream_publishes_nothing(
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
    after = dump(real_redis, keys)
    partial = {name: value for name, value in after.items() if name.startswith("telemetry:2:")}
    # The first batch was sent before the failure, and ran unless the closed connection cut it.
    assert len(partial) in (0, writer.BATCH_ROWS)
    assert {value[2] for value in partial.values()} <= {"expires"}
    assert {k: v for k, v in after.items() if k not in partial} == {
        **before,
        "telemetry:generation": ("string", "2", -1),
    }
    monkeypatch.setattr(packing, "rows", real_rows)
    assert read_columns(real_redis, keys, ["A"]).info.generation == 1
    assert write_snapshot(real_redis, keys, table(big_rows(10), METRICS), ttl=30) == 3
    assert read_columns(real_redis, keys, ["A"]).info.generation == 3
