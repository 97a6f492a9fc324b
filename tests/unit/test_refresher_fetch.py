"""The conditional fetch against a stub source: 200, 304, and every way a fetch fails.

StubSource is also used by the refresher's integration tests as a source that misbehaves
on demand.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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

CSV = b"switch,Latency,Errors\n1,0.5,3\n2,1.25,0\n"


@dataclass
class Reply:
    """How the stub answers: status, body, headers, and ways to misbehave."""

    body: bytes = CSV
    status: int = 200
    etag: str = '"t1"'
    tick: str = "1"
    delay: float = 0.0  # before the status line
    drip: float = 0.0  # seconds between body bytes
    truncate_to: int | None = None  # close after this many body bytes
    content_length: int | None = None  # declared length, default len(body)
    chunked: bool = False
    extra: dict[str, str] = field(default_factory=dict)


class StubSource:
    """A local HTTP server whose answer to GET /counters is ``reply`` (or ``make_reply()``)."""

    def __init__(self, reply: Reply | None = None) -> None:
        self.reply = reply or Reply()
        self.make_reply: Callable[[], Reply] | None = None
        self.seen_etags: list[str | None] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                stub.answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/counters"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer one request as the current reply says."""
        reply = self.make_reply() if self.make_reply else self.reply
        asked = handler.headers.get("If-None-Match")
        self.seen_etags.append(asked)
        time.sleep(reply.delay)
        try:
            if asked is not None and asked == reply.etag and reply.status == 200:
                handler.send_response(304)
                handler.send_header("ETag", reply.etag)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "text/csv")
            handler.send_header("ETag", reply.etag)
            handler.send_header("X-Telemetry-Tick", reply.tick)
            handler.send_header("X-Telemetry-Tick-Time", f"{time.time():.3f}")
            for name, value in reply.extra.items():
                handler.send_header(name, value)
            if reply.chunked:
                handler.send_header("Transfer-Encoding", "chunked")
            else:
                length = reply.content_length
                handler.send_header(
                    "Content-Length", str(len(reply.body) if length is None else length)
                )
            handler.send_header("Connection", "close")
            handler.end_headers()
            self._body(handler, reply)
        except OSError:
            pass  # the client gave up: that is what some tests want

    def _body(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        body = reply.body if reply.truncate_to is None else reply.body[: reply.truncate_to]
        if reply.chunked:
            for start in range(0, len(body), 4096):
                part = body[start : start + 4096]
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            if reply.truncate_to is None:
                handler.wfile.write(b"0\r\n\r\n")
        elif reply.drip:
            for byte in body:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(reply.drip)
        else:
            handler.wfile.write(body)
        handler.wfile.flush()
        handler.close_connection = True

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub() -> Iterator[StubSource]:
    source = StubSource()
    yield source
    source.close()


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
