"""One refresh against a stub source and fake Redis: what it writes, and what it refuses to."""

from __future__ import annotations

import logging

import fakeredis
import pytest

from refresher_worker.refresh import refresh_once
from refresher_worker.settings import RefresherSettings
from telemetry_common.keys import Keys
from telemetry_common.reader import read_catalog, read_columns, read_info
from tests.helpers import free_port
from tests.helpers.layout import meta_field
from tests.helpers.source import CSV, Reply, StubSource

KEYS = Keys()


def settings_for(url: str, **overrides: object) -> RefresherSettings:
    values: dict[str, object] = {"source_url": url, "fetch_timeout": 0.3, "max_body_bytes": 4096}
    return RefresherSettings(**(values | overrides))  # type: ignore[arg-type]


def status(client: fakeredis.FakeRedis) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in client.hgetall(KEYS.status).items()}


def snapshot(client: fakeredis.FakeRedis) -> dict[bytes, object]:
    """Return every snapshot key with its content (not the status hash).

    The fence's count of tokens issued is left out: every refresh advances it when it starts.
    """
    found: dict[bytes, object] = {}
    for key in client.scan_iter():
        if key.decode() == KEYS.status:
            continue
        kind = client.type(key)
        if kind == b"hash":
            found[key] = client.hgetall(key)
            if key.decode() == KEYS.fence:
                del found[key][b"issued"]  # type: ignore[attr-defined]
                if not found[key]:  # tokens issued, but nothing written
                    del found[key]
        elif kind == b"list":
            found[key] = client.lrange(key, 0, -1)
        else:
            found[key] = client.get(key)
    return found


def test_a_refresh_writes_the_sources_table_and_records_it(
    fake: fakeredis.FakeRedis, stub: StubSource
) -> None:
    outcome = refresh_once(fake, KEYS, settings_for(stub.url), worker="w1")
    assert (outcome.result, outcome.rows, outcome.columns) == ("written", 2, 2)
    catalog = read_catalog(fake, KEYS)
    assert (catalog.switches, catalog.metrics) == (["1", "2"], ["Latency", "Errors"])
    columns = read_columns(fake, KEYS, ["Latency", "Errors"])
    assert columns.columns == [[b"0.5", b"1.25"], [b"3", b"0"]]
    assert fake.hget(KEYS.at(1).switch("2"), "Latency") == b"1.25"
    info = read_info(fake, KEYS)
    assert (info.generation, info.source_etag, info.ttl) == (1, '"t1"', 10)
    assert meta_field(fake, KEYS, "source_tick") == b"1"
    recorded = status(fake)
    assert recorded["state"] == "ok" and recorded["last_outcome"] == "written"
    assert (recorded["rows"], recorded["columns"], recorded["generation"]) == ("2", "2", "1")
    assert recorded["last_worker"] == "w1" and recorded["refreshes_written"] == "1"
    assert float(recorded["last_duration_ms"]) >= 0 and "last_success_at" in recorded
    assert 0 < fake.ttl(KEYS.status) <= 24 * 3600


def test_the_next_refresh_asks_with_the_live_etag_and_writes_nothing_on_304(
    fake: fakeredis.FakeRedis, stub: StubSource
) -> None:
    settings = settings_for(stub.url)
    refresh_once(fake, KEYS, settings)
    before = snapshot(fake)
    outcome = refresh_once(fake, KEYS, settings)
    assert outcome.result == "unchanged"
    assert stub.seen_etags == [None, '"t1"']
    assert snapshot(fake) == before
    recorded = status(fake)
    assert recorded["last_outcome"] == "unchanged" and recorded["refreshes_unchanged"] == "1"


def test_no_etag_is_sent_once_the_snapshot_is_gone(
    fake: fakeredis.FakeRedis, stub: StubSource
) -> None:
    settings = settings_for(stub.url)
    refresh_once(fake, KEYS, settings)
    fake.delete(KEYS.current)  # as when the snapshot expired
    assert refresh_once(fake, KEYS, settings).result == "written"
    assert stub.seen_etags == [None, None]


FAILURES = [
    pytest.param(
        Reply(delay=1.0), "source_timeout", "no complete answer within 0.3 s", id="timeout"
    ),
    pytest.param(
        Reply(body=b"switch,Latency\n1,fast\n"),
        "invalid_csv",
        "line 2: Latency value 'fast' is not a finite number",
        id="bad-csv",
    ),
    pytest.param(Reply(body=CSV * 200), "body_too_large", "over the limit of 4096", id="too-large"),
    pytest.param(Reply(truncate_to=12), "bad_response", "closed after 12 of", id="cut-short"),
]


@pytest.mark.parametrize(("reply", "kind", "message"), FAILURES)
def test_a_failure_writes_nothing_and_records_the_error(
    fake: fakeredis.FakeRedis, stub: StubSource, reply: Reply, kind: str, message: str
) -> None:
    settings = settings_for(stub.url)
    refresh_once(fake, KEYS, settings)
    good = snapshot(fake)
    stub.reply = reply
    stub.reply.etag = '"t2"'
    outcome = refresh_once(fake, KEYS, settings)
    assert (outcome.result, outcome.error_kind) == ("failed", kind)
    assert message in outcome.error
    assert snapshot(fake) == good
    recorded = status(fake)
    assert recorded["state"] == f"failing:{kind}" and message in recorded["last_error"]
    assert recorded["last_error_kind"] == kind and "last_error_at" in recorded
    assert recorded["refreshes_failed"] == "1" and recorded["generation"] == "1"


def test_an_unreachable_source_writes_nothing(fake: fakeredis.FakeRedis) -> None:
    url = f"http://127.0.0.1:{free_port()}/counters"
    outcome = refresh_once(fake, KEYS, settings_for(url))
    assert outcome.error_kind == "source_unreachable"
    assert snapshot(fake) == {}
    assert url in status(fake)["last_error"]


def test_each_change_of_state_is_logged_once(
    fake: fakeredis.FakeRedis, stub: StubSource, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(stub.url)
    caplog.set_level(logging.INFO, logger="refresher_worker")
    refresh_once(fake, KEYS, settings)
    stub.reply = Reply(body=b"nonsense\n", etag='"t2"')
    for _ in range(3):
        refresh_once(fake, KEYS, settings)
    stub.reply = Reply(etag='"t3"')
    refresh_once(fake, KEYS, settings)
    refresh_once(fake, KEYS, settings)
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len([m for m in messages if m.startswith("refresh failed")]) == 1
    assert len([m for m in messages if m.startswith("refresh works again")]) == 1
    assert status(fake)["refreshes_failed"] == "3"


def test_an_unexpected_parser_error_writes_nothing_and_is_recorded(
    fake: fakeredis.FakeRedis, stub: StubSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(body: bytes, max_bytes: int) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr("refresher_worker.refresh.parse_counters", broken)
    outcome = refresh_once(fake, KEYS, settings_for(stub.url))
    assert outcome.error_kind == "invalid_csv"
    assert "parser error IndexError" in outcome.error
    assert snapshot(fake) == {}
