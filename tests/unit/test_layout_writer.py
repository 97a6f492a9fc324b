"""write_snapshot: the generation's keys, values and one expiry, the pointer, and what it leaves."""

from __future__ import annotations

import itertools
import re
import time

import fakeredis
import hiredis
import pytest
import redis

from telemetry_common import writer
from telemetry_common.keys import Keys
from telemetry_common.reader import read_columns, read_metric
from telemetry_common.snapshot import SourceInfo
from telemetry_common.writer import batches, meta_fields, write_snapshot
from tests.helpers.layout import dump, table

KEYS = Keys()
ROWS = {"1": ["0.5", "10"], "sw 2": ["1.25", "11"], "x,é": ["-3", "12"]}


def test_writes_a_generation_with_the_values_as_text_then_points_at_it(
    fake: fakeredis.FakeRedis,
) -> None:
    source = SourceInfo(etag='"run-7"', tick="7", tick_time=1000.5, fetched_at=1001.0)
    before = time.time()
    generation = write_snapshot(
        fake, KEYS, table(ROWS, ["CpuUsage", "Hits"]), ttl=10, source=source, now=1002.0
    )
    assert generation == 1
    assert fake.get("telemetry:current") == b"1"
    assert fake.hgetall("telemetry:1:switch:sw 2") == {b"CpuUsage": b"1.25", b"Hits": b"11"}
    assert fake.hgetall("telemetry:1:switch:x,é") == {b"CpuUsage": b"-3", b"Hits": b"12"}
    assert fake.lrange("telemetry:1:metric:CpuUsage", 0, -1) == [b"0.5", b"1.25", b"-3"]
    assert fake.lrange("telemetry:1:metric:Hits", 0, -1) == [b"10", b"11", b"12"]
    assert fake.lrange("telemetry:1:switches", 0, -1) == [b"1", b"sw 2", "x,é".encode()]
    assert fake.lrange("telemetry:1:metrics", 0, -1) == [b"CpuUsage", b"Hits"]
    meta = fake.hgetall("telemetry:1:meta")
    snapshot = meta.pop(b"snapshot")
    assert re.fullmatch(rb"[0-9a-f]{16}", snapshot)
    assert meta == {
        b"generation": b"1", b"written_at": b"1002.000", b"fetched_at": b"1001.000",
        b"source_time": b"1000.500", b"source_etag": b'"run-7"', b"source_tick": b"7",
        b"ttl": b"10", b"switches": b"3", b"metrics": b"2",
    }  # fmt: skip
    fence = fake.hgetall("telemetry:fence")
    expires_at = int(fence.pop(b"expires_at"))  # Unix ms, by Redis's clock
    assert (before + 10) * 1000 - 1000 <= expires_at <= (time.time() + 10) * 1000 + 1000
    assert fence == {
        b"issued": b"1", b"token": b"1", b"source_time": b"1000.500", b"snapshot": snapshot,
        b"generation": b"1", b"written_at": b"1002.000",
    }  # fmt: skip
    persistent = {b"telemetry:generation", b"telemetry:fence"}
    assert {fake.ttl(k) for k in persistent} == {-1}  # they outlive snapshots
    expiring = [k for k in fake.keys("telemetry:*") if k not in persistent]
    assert len(expiring) == 3 + 2 + 4 + 3 + 1  # switches, metrics, orders, 2 lists, meta, current
    assert fake.lrange("telemetry:1:order:desc:CpuUsage", 0, -1) == [b"sw 2", b"1", "x,é".encode()]
    assert fake.lrange("telemetry:1:order:asc:Hits", 0, -1) == [b"1", b"sw 2", "x,é".encode()]
    deadlines = {k: fake.pexpiretime(k) for k in expiring}
    assert deadlines.pop(b"telemetry:current") == deadlines.pop(b"telemetry:1:meta") == expires_at
    # The data outlives the meta hash, so a reader who still finds the meta read live data.
    assert all(expires_at <= at <= expires_at + writer.SPREAD_MS for at in deadlines.values())


def test_generation_grows_with_every_write(fake: fakeredis.FakeRedis) -> None:
    written = [write_snapshot(fake, KEYS, table(ROWS, ["A", "B"]), ttl=10) for _ in range(3)]
    assert written == [1, 2, 3]
    assert fake.get("telemetry:current") == b"3"


def test_a_new_generation_holds_only_the_new_table_and_the_old_stays_readable(
    fake: fakeredis.FakeRedis,
) -> None:
    write_snapshot(fake, KEYS, table(ROWS, ["A", "B"]), ttl=10)
    write_snapshot(fake, KEYS, table({"1": ["5", "6"], "9": ["7", "8"]}, ["A", "C"]), ttl=10)
    assert sorted(k for k in fake.keys("telemetry:2:*")) == [
        b"telemetry:2:meta", b"telemetry:2:metric:A", b"telemetry:2:metric:C",
        b"telemetry:2:metrics", b"telemetry:2:order:asc:A", b"telemetry:2:order:asc:C",
        b"telemetry:2:order:desc:A", b"telemetry:2:order:desc:C", b"telemetry:2:switch:1",
        b"telemetry:2:switch:9", b"telemetry:2:switches",
    ]  # fmt: skip
    assert fake.hgetall("telemetry:2:switch:1") == {b"A": b"5", b"C": b"6"}  # no field B
    assert fake.hgetall("telemetry:1:switch:1") == {b"A": b"0.5", b"B": b"10"}  # until its TTL
    assert read_metric(fake, KEYS, "1", "B", generation=1).value == b"10"


def test_another_prefix_writes_only_under_it(fake: fakeredis.FakeRedis) -> None:
    write_snapshot(fake, Keys("{edge}"), table(ROWS, ["A", "B"]), ttl=5)
    assert {k.split(b":")[0] for k in fake.keys("*")} == {b"{edge}"}
    assert 4 <= fake.ttl("{edge}:1:switch:1") <= 5


def test_a_write_that_fails_midway_publishes_nothing(
    fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_snapshot(fake, KEYS, table(ROWS, ["A", "B"]), ttl=10)
    before = dump(fake, KEYS)
    real_batches = writer.batches

    def failing(*args: object) -> object:
        for number, batch in enumerate(real_batches(*args)):  # type: ignore[arg-type]
            if number == 2:
                raise redis.ConnectionError("connection lost mid-write")
            yield batch

    monkeypatch.setattr(writer, "batches", failing)
    with pytest.raises(redis.ConnectionError, match="lost mid-write"):
        write_snapshot(fake, KEYS, table({"1": ["9", "9"]}, ["A", "C"]), ttl=10)
    after = dump(fake, KEYS)
    assert {k: v for k, v in after.items() if not k.startswith("telemetry:2:")} == {
        **before,
        "telemetry:generation": ("string", "2", -1),
    }
    assert all(v[2] == "expires" for k, v in after.items() if k.startswith("telemetry:2:"))
    assert read_columns(fake, KEYS, ["A", "B"]).info.generation == 1


def test_batches_are_exactly_the_commands_of_the_generation() -> None:
    rows = {str(i): [f"{i}.5", str(i * 10), "-0.001"] for i in range(1, 25_000)}
    rows["id with space"] = ["1", "2", "3"]
    rows["ünï"] = ["4", "5", "6e-3"]
    data = table(rows, ["A", "Bb", "C.c"])
    at = KEYS.at(7)
    meta = meta_fields(data, 10, SourceInfo(), 5.0, "0123456789abcdef", 7)
    reader = hiredis.Reader()  # a request is an array of bulk strings, as a reply would be
    decoded, counted = [], 0
    for payload, count in batches(at, data, meta, 99_000):
        assert len(payload) < 2_000_000  # each batch is small
        reader.feed(payload)
        while (command := reader.gets()) is not False:
            decoded.append(tuple(command))
        counted += count
    assert counted == len(decoded)
    expected = []
    for switch, values in rows.items():
        key = at.switch(switch).encode()
        pairs = [p for pair in zip([b"A", b"Bb", b"C.c"], values, strict=True) for p in pair]
        expected += [(b"HSET", key, *(p.encode() if isinstance(p, str) else p for p in pairs))]
        expected += [(b"PEXPIREAT", key)]
    hashes = [c if c[0] != b"PEXPIREAT" else c[:2] for c in decoded[: len(expected)]]
    assert hashes == expected
    expiries = [int(c[2]) for c in decoded[: len(expected)] if c[0] == b"PEXPIREAT"]
    assert expiries == sorted(expiries)  # spread batch by batch over SPREAD_MS
    assert expiries[0] == 99_000 and 99_000 < expiries[-1] <= 99_000 + writer.SPREAD_MS
    assert len(set(expiries)) == -(-len(rows) // writer.BATCH_ROWS)  # one expiry a batch
    lists = decoded[len(expected) :]
    pushed: dict[bytes, list[bytes]] = {}
    for command in lists:
        if command[0] == b"RPUSH":
            assert len(command) - 2 <= writer.LIST_BATCH
            pushed.setdefault(command[1], []).extend(command[2:])
    assert pushed[at.metric("Bb").encode()] == [values[1].encode() for values in rows.values()]
    assert pushed[at.switches.encode()] == [switch.encode() for switch in rows]
    assert pushed[at.metrics.encode()] == [b"A", b"Bb", b"C.c"]
    assert lists[-2][:2] == (b"HSET", at.meta.encode())  # the meta hash is written last
    assert lists[-1] == (b"PEXPIREAT", at.meta.encode(), b"99000")  # the deadline itself
    for command, following in itertools.pairwise(lists):
        if command[0] == b"RPUSH":  # in the same batch, so in the same MULTI/EXEC
            assert following == (b"PEXPIREAT", command[1], b"%d" % (99_000 + writer.SPREAD_MS))
    expired = {command[1] for command in decoded if command[0] == b"PEXPIREAT"}
    assert len(expired) == len(rows) + 3 + 6 + 2 + 1  # every key of the generation
    assert pushed[at.order("Bb", True).encode()][:3] == [b"24999", b"24998", b"24997"]
    assert pushed[at.order("A", False).encode()][:5] == [
        b"id with space",
        b"1",
        b"2",
        b"3",
        "ünï".encode(),
    ]
    assert len(pushed[at.order("A", False).encode()]) == 1_000  # the first rows only


def test_generations_that_can_no_longer_be_read_are_swept_after_a_write(
    fake: fakeredis.FakeRedis,
) -> None:
    for _ in range(3):
        write_snapshot(fake, KEYS, table(ROWS, ["A", "B"]), ttl=10)
    fake.delete(KEYS.at(1).meta, KEYS.at(2).meta)  # as their TTL does; their data lives on
    kept = sorted(fake.keys("telemetry:2:*"))
    fake.restore(b"telemetry:2:meta", 0, fake.dump(b"telemetry:3:meta"))  # 2: readable again
    assert write_snapshot(fake, KEYS, table(ROWS, ["A", "B"]), ttl=10) == 4
    assert fake.keys("telemetry:1:*") == []  # unreadable: swept
    assert sorted(fake.keys("telemetry:2:*")) == sorted([*kept, b"telemetry:2:meta"])
    assert len(fake.keys("telemetry:3:*")) == len(fake.keys("telemetry:4:*")) == 3 + 2 + 4 + 3
