"""The conditional fetch against a stub source: 200, 304, and every way a fetch fails."""

from __future__ import annotations

import socket
import time

import pytest

from refresher_worker.fetch import (
    BadResponse,
    BodyTooLarge,
    Fetched,
    NotModified,
    SourceError,
    SourceTimeout,
    fetch_counters,
)
from tests.helpers import free_port
from tests.helpers.source import CSV, Reply, StubSource


def fetch(url: str, etag: str | None = None, timeout: float = 1.0, max_bytes: int = 1 << 20):  # type: ignore[no-untyped-def]
    return fetch_counters(url, etag=etag, timeout=timeout, max_bytes=max_bytes)


def test_fetch_returns_the_body_and_the_source_headers(stub: StubSource) -> None:
    answer = fetch(stub.url)
    assert isinstance(answer, Fetched)
    assert answer.body == CSV
    assert (answer.etag, answer.tick) == ('"t1"', "1")
    assert answer.tick_time is not None and abs(answer.tick_time - time.time()) < 5
    assert stub.seen_etags == [None]


def test_fetch_sends_the_etag_and_returns_not_modified(stub: StubSource) -> None:
    answer = fetch(stub.url, etag='"t1"')
    assert answer == NotModified('"t1"')
    assert stub.seen_etags == ['"t1"']


def test_an_unreachable_source_is_a_source_error() -> None:
    with pytest.raises(SourceError) as caught:
        fetch(f"http://127.0.0.1:{free_port()}/counters")
    assert caught.value.kind == "source_unreachable"
    assert "127.0.0.1" in str(caught.value)


@pytest.mark.parametrize("reply", [Reply(delay=1.0), Reply(drip=0.05)], ids=["silent", "drip"])
def test_a_slow_source_times_out_at_the_deadline(stub: StubSource, reply: Reply) -> None:
    stub.reply = reply
    began = time.monotonic()
    with pytest.raises(SourceTimeout, match=r"within 0\.3 s"):
        fetch(stub.url, timeout=0.3)
    assert time.monotonic() - began < 0.8


def test_a_declared_length_over_the_limit_is_refused_unread(stub: StubSource) -> None:
    stub.reply = Reply(body=CSV * 100)
    with pytest.raises(
        BodyTooLarge, match=f"Content-Length {len(CSV) * 100} is over the limit of 100 bytes"
    ):
        fetch(stub.url, max_bytes=100)


def test_a_chunked_body_over_the_limit_is_cut_off(stub: StubSource) -> None:
    stub.reply = Reply(body=CSV * 1000, chunked=True)
    with pytest.raises(BodyTooLarge, match="over the limit of 1000 bytes"):
        fetch(stub.url, max_bytes=1000)


@pytest.mark.parametrize("chunked", [False, True])
def test_a_connection_closed_mid_body_is_an_error(stub: StubSource, chunked: bool) -> None:
    stub.reply = Reply(body=CSV, truncate_to=10, chunked=chunked)
    with pytest.raises(SourceError) as caught:
        fetch(stub.url)
    if not chunked:
        assert isinstance(caught.value, BadResponse)
        assert f"closed after 10 of {len(CSV)} bytes" in str(caught.value)


def test_an_error_status_is_a_bad_response(stub: StubSource) -> None:
    stub.reply = Reply(status=503, body=b"busy")
    with pytest.raises(BadResponse, match="HTTP 503"):
        fetch(stub.url)


def test_a_source_that_accepts_and_says_nothing_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/counters"
        with pytest.raises(SourceTimeout):
            fetch(url, timeout=0.2)
