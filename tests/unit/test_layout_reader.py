"""The read functions: one whole generation per call, and their three outcomes."""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest

from telemetry_common.keys import Keys
from telemetry_common.reader import (
    GenerationGone,
    NoSnapshot,
    UnknownNames,
    read_catalog,
    read_columns,
    read_info,
    read_metric,
)
from telemetry_common.snapshot import SourceInfo
from telemetry_common.writer import write_snapshot
from tests.helpers.layout import table

KEYS = Keys()
METRICS = ["BandwidthConsumption", "CpuUsage", "Latency"]
ROWS = {"1": ["10.5", "3.25", "0.9"], "2": ["20", "4", "1.1"], "sw-3": ["30", "5.5", "7"]}


@pytest.fixture
def snapshot(fake: fakeredis.FakeRedis) -> fakeredis.FakeRedis:
    source = SourceInfo(etag='"r-4"', tick="4", tick_time=1000.0, fetched_at=1000.25)
    write_snapshot(fake, KEYS, table(ROWS, METRICS), ttl=10, source=source, now=1000.5)
    return fake


def test_read_metric_returns_the_value_and_its_snapshot(snapshot: fakeredis.FakeRedis) -> None:
    found = read_metric(snapshot, KEYS, "2", "Latency")
    assert (found.switch, found.metric, found.value) == ("2", "Latency", b"1.1")
    info = found.info
    assert (info.generation, info.source_time, info.source_etag, info.ttl) == (
        1,
        1000.0,
        '"r-4"',
        10,
    )
    assert (info.switch_count, info.metric_count) == (3, 3)
    assert 9.0 < info.expires_in <= 10.0
    assert info.age(now=1003.5) == 3.5


def test_read_columns_returns_the_asked_columns_in_row_order(snapshot: fakeredis.FakeRedis) -> None:
    found = read_columns(snapshot, KEYS, ["Latency", "BandwidthConsumption"])
    assert found.switches == [b"1", b"2", b"sw-3"]
    assert found.metrics == ["Latency", "BandwidthConsumption"]
    assert found.columns == [[b"0.9", b"1.1", b"7"], [b"10.5", b"20", b"30"]]
    assert found.info.generation == 1


def test_read_catalog_lists_switches_and_metrics(snapshot: fakeredis.FakeRedis) -> None:
    catalog = read_catalog(snapshot, KEYS)
    assert (catalog.switches, catalog.metrics) == (["1", "2", "sw-3"], METRICS)
    assert read_info(snapshot, KEYS).generation == 1


def test_unknown_switch_and_unknown_metric_are_told_apart(snapshot: fakeredis.FakeRedis) -> None:
    with pytest.raises(UnknownNames) as switch:
        read_metric(snapshot, KEYS, "99", "Latency")
    assert (switch.value.switches, switch.value.metrics) == (("99",), ())
    with pytest.raises(UnknownNames) as metric:
        read_metric(snapshot, KEYS, "1", "Nope")
    assert (metric.value.switches, metric.value.metrics) == ((), ("Nope",))
    with pytest.raises(UnknownNames) as both:
        read_metric(snapshot, KEYS, "99", "Nope")
    assert str(both.value) == "unknown switch '99', unknown metric 'Nope'"
    with pytest.raises(UnknownNames) as columns:
        read_columns(snapshot, KEYS, ["CpuUsage", "Nope", "Other"])
    assert columns.value.metrics == ("Nope", "Other")


def test_no_snapshot_when_nothing_was_written_or_it_expired(fake: fakeredis.FakeRedis) -> None:
    for read in (
        lambda: read_metric(fake, KEYS, "1", "Latency"),
        lambda: read_columns(fake, KEYS, ["Latency"]),
        lambda: read_catalog(fake, KEYS),
        lambda: read_info(fake, KEYS),
    ):
        with pytest.raises(NoSnapshot):
            read()
    write_snapshot(fake, KEYS, table(ROWS, METRICS), ttl=10)
    fake.delete(KEYS.current)  # what expiry does: the pointer and the generation go together
    with pytest.raises(NoSnapshot):
        read_metric(fake, KEYS, "1", "Latency")
    with pytest.raises(NoSnapshot):
        read_columns(fake, KEYS, ["Latency"])


def test_a_pinned_generation_reads_until_it_is_gone(fake: fakeredis.FakeRedis) -> None:
    write_snapshot(fake, KEYS, table(ROWS, METRICS), ttl=10)
    write_snapshot(fake, KEYS, table({"9": ["1", "2", "3"]}, METRICS), ttl=10)
    assert read_columns(fake, KEYS, ["CpuUsage"]).switches == [b"9"]
    old = read_columns(fake, KEYS, ["CpuUsage"], generation=1)
    assert (old.info.generation, old.columns) == (1, [[b"3.25", b"4", b"5.5"]])
    assert read_metric(fake, KEYS, "sw-3", "Latency", generation=1).value == b"7"
    for key in fake.keys(KEYS.at(1).base + ":*"):
        fake.delete(key)
    for read in (
        lambda: read_metric(fake, KEYS, "1", "Latency", generation=1),
        lambda: read_columns(fake, KEYS, ["Latency"], generation=1),
        lambda: read_info(fake, KEYS, generation=1),
    ):
        with pytest.raises(GenerationGone, match="generation 1 is no longer held"):
            read()


def test_a_read_follows_the_pointer_to_a_new_generation(fake: fakeredis.FakeRedis) -> None:
    write_snapshot(fake, KEYS, table(ROWS, METRICS), ttl=10)
    assert read_catalog(fake, KEYS).info.generation == 1  # this process last read generation 1
    write_snapshot(
        fake, KEYS, table({"9": ["1", "2", "3"], "8": ["4", "5", "6"]}, ["A", "B", "C"]), ttl=10
    )
    found = read_columns(fake, KEYS, ["C", "A"])
    assert (found.info.generation, found.switches) == (2, [b"9", b"8"])
    assert found.columns == [[b"3", b"6"], [b"1", b"4"]]


class ExpiringMidRead:
    """A pipeline that lets generation 1 expire while it runs: its last reply, PTTL, says gone.

    Before it answers, generation 1 is deleted and generation 2 published, as a refresh and
    the TTL would have done meanwhile.
    """

    def __init__(self, fake: fakeredis.FakeRedis, real: Any) -> None:
        self.fake, self.real = fake, real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def execute(self) -> list[Any]:
        replies = list(self.real.execute())
        if self.fake.exists(KEYS.at(1).meta):
            for key in self.fake.keys(KEYS.at(1).base + ":*"):
                self.fake.delete(key)
            write_snapshot(self.fake, KEYS, table({"7": ["1", "2", "3"]}, METRICS), ttl=10)
            replies[-1] = -2
        return replies


def test_a_generation_that_expires_mid_read_is_read_again_on_the_new_one(
    fake: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_snapshot(fake, KEYS, table(ROWS, METRICS), ttl=10)
    read_catalog(fake, KEYS)  # this process last read generation 1
    real_pipeline = fake.pipeline
    monkeypatch.setattr(
        fake, "pipeline", lambda transaction=True: ExpiringMidRead(fake, real_pipeline(transaction))
    )
    found = read_columns(fake, KEYS, ["Latency", "CpuUsage"])
    assert (found.info.generation, found.switches, found.columns) == (2, [b"7"], [[b"3"], [b"2"]])
