"""Fencing: tokens never go back, and a write older than the snapshot in Redis writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fakeredis
import pytest

from telemetry_common import fence, writer
from telemetry_common.fence import Fenced, issue_token, read_fence
from telemetry_common.keys import Keys
from telemetry_common.reader import read_info
from telemetry_common.snapshot import SourceInfo
from telemetry_common.writer import write_snapshot
from tests.helpers.layout import dump, meta_field, table

KEYS = Keys()
OLD = table({"1": ["1"], "2": ["2"]}, ["Hits"])
NEW = table({"1": ["5"], "3": ["7"]}, ["Hits"])


def source(tick: int, tick_time: float) -> SourceInfo:
    return SourceInfo(etag=f'"run-{tick}"', tick=str(tick), tick_time=tick_time, fetched_at=0.0)


def test_tokens_grow_and_jump_over_a_token_written_after_the_counter_was_lost(
    fake: fakeredis.FakeRedis,
) -> None:
    assert [issue_token(fake, KEYS) for _ in range(3)] == [1, 2, 3]
    fake.flushall()  # Redis restarted empty, while a paused refresher still holds token 50
    assert issue_token(fake, KEYS) == 1
    write_snapshot(fake, KEYS, OLD, ttl=10, source=source(9, 100.0), token=50)
    assert issue_token(fake, KEYS) == 51
    assert read_fence(fake, KEYS)[1] == 51


def test_a_write_with_an_older_token_writes_nothing_and_says_why(
    fake: fakeredis.FakeRedis,
) -> None:
    old_token, new_token = issue_token(fake, KEYS), issue_token(fake, KEYS)
    assert write_snapshot(fake, KEYS, NEW, ttl=10, source=source(8, 100.0), token=new_token) == 1
    before = dump(fake, KEYS)
    with pytest.raises(Fenced) as caught:
        write_snapshot(fake, KEYS, OLD, ttl=10, source=source(8, 100.0), token=old_token)
    assert caught.value.reason == fence.OLDER_TOKEN
    snapshot = meta_field(fake, KEYS, "snapshot").decode()
    assert str(caught.value) == (
        "write discarded (token 1, source time 1970-01-01T00:01:40.000Z): a refresh that "
        "started later has already written (token 2, source time 1970-01-01T00:01:40.000Z, "
        f"snapshot {snapshot})"
    )
    assert dump(fake, KEYS) == before


def test_a_write_of_older_source_data_writes_nothing_whatever_its_token(
    fake: fakeredis.FakeRedis,
) -> None:
    write_snapshot(fake, KEYS, NEW, ttl=10, source=source(13, 113.0))
    before = dump(fake, KEYS)
    with pytest.raises(Fenced) as caught:
        write_snapshot(fake, KEYS, OLD, ttl=10, source=source(11, 111.0))
    assert caught.value.reason == fence.OLDER_SOURCE
    assert "Redis holds a snapshot of newer source data" in str(caught.value)
    assert dump(fake, KEYS) == before
    assert meta_field(fake, KEYS, "source_tick") == b"13"


def test_a_restarted_source_whose_tick_starts_again_wins_by_its_time(
    fake: fakeredis.FakeRedis,
) -> None:
    write_snapshot(fake, KEYS, OLD, ttl=10, source=source(500, 1000.0))
    assert write_snapshot(fake, KEYS, NEW, ttl=10, source=source(1, 1000.5)) == 2
    assert meta_field(fake, KEYS, "source_tick") == b"1"
    assert read_info(fake, KEYS).source_time == 1000.5


def test_the_same_source_time_with_a_newer_token_is_written(fake: fakeredis.FakeRedis) -> None:
    first = write_snapshot(fake, KEYS, OLD, ttl=10, source=source(4, 50.0))
    assert write_snapshot(fake, KEYS, OLD, ttl=10, source=source(4, 50.0)) == first + 1


def test_each_snapshot_has_its_own_id_even_when_the_generation_repeats(
    fake: fakeredis.FakeRedis,
) -> None:
    seen = set()
    for _ in range(3):
        write_snapshot(fake, KEYS, OLD, ttl=10)
        info = read_info(fake, KEYS)
        seen.add((info.generation, info.snapshot))
        fake.flushall()  # the generation starts again at 1
    assert {generation for generation, _ in seen} == {1}
    assert len({snapshot for _, snapshot in seen}) == 3


def _between_write_and_flip(monkeypatch: pytest.MonkeyPatch, race: Callable[[], object]) -> None:
    """Run ``race`` once, after the next write has written its generation, before its flip."""
    real_send = writer.send

    def racing(*args: Any) -> None:
        monkeypatch.setattr(writer, "send", real_send)
        real_send(*args)
        race()

    monkeypatch.setattr(writer, "send", racing)


def test_a_write_overtaken_before_its_flip_is_never_published(
    fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, later = issue_token(fake, KEYS), issue_token(fake, KEYS)
    _between_write_and_flip(  # a later refresh publishes first
        monkeypatch,
        lambda: write_snapshot(fake, KEYS, NEW, ttl=10, source=source(3, 30.0), token=later),
    )
    with pytest.raises(Fenced) as caught:
        write_snapshot(fake, KEYS, OLD, ttl=10, source=source(3, 30.0), token=mine)
    assert caught.value.reason == fence.OLDER_TOKEN
    assert fake.get(KEYS.current) == b"2"  # the later refresh's generation
    assert read_info(fake, KEYS).source_etag == '"run-3"'
    assert fake.lrange(KEYS.at(2).metric("Hits"), 0, -1) == [b"5", b"7"]
    assert fake.lrange(KEYS.at(1).metric("Hits"), 0, -1) == [b"1", b"2"]  # never pointed at
    assert 0 < fake.pttl(KEYS.at(1).metric("Hits")) <= 10_000 + writer.SPREAD_MS  # by itself


def test_a_write_overtaken_by_an_older_one_publishes_after_it(
    fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier, mine = issue_token(fake, KEYS), issue_token(fake, KEYS)
    _between_write_and_flip(  # an earlier refresh publishes first
        monkeypatch,
        lambda: write_snapshot(fake, KEYS, OLD, ttl=10, source=source(3, 30.0), token=earlier),
    )
    assert write_snapshot(fake, KEYS, NEW, ttl=10, source=source(4, 40.0), token=mine) == 1
    assert fake.get(KEYS.current) == b"1"
    assert fake.lrange(KEYS.at(1).metric("Hits"), 0, -1) == [b"5", b"7"]
    assert fake.keys(KEYS.at(1).switch("2")) == []  # the earlier table's switch is not in it


def test_a_generation_that_expired_before_its_flip_is_not_published(
    fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_snapshot(fake, KEYS, OLD, ttl=10, source=source(1, 10.0))

    def expire_generation_2() -> None:  # as a writer paused past its TTL would find it
        for key in fake.keys(KEYS.at(2).base + ":*"):
            fake.delete(key)

    _between_write_and_flip(monkeypatch, expire_generation_2)
    with pytest.raises(Fenced) as caught:
        write_snapshot(fake, KEYS, NEW, ttl=10, source=source(2, 20.0), token=99)
    assert caught.value.reason == fence.EXPIRED
    assert "its generation expired before it could be published" in str(caught.value)
    assert fake.get(KEYS.current) == b"1"
    assert read_fence(fake, KEYS)[0] == fence.Fence(
        1, 10.0, meta_field(fake, KEYS, "snapshot").decode()
    )
