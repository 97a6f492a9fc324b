"""The read functions: one whole generation per call, and their three outcomes."""

from __future__ import annotations

import fakeredis
import pytest

from telemetry_common.keys import Keys
from telemetry_common.reader import (
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
    fake.delete(KEYS.meta)  # what expiry does to the whole snapshot, the meta key first
    with pytest.raises(NoSnapshot):
        read_metric(fake, KEYS, "1", "Latency")
