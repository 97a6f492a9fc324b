"""A local HTTP source that answers GET /counters as a test says, and misbehaves on demand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CSV = b"switch,Latency,Errors\n1,0.5,3\n2,1.25,0\n"


@dataclass
class Reply:
    """How the stub answers: status, body, headers, and ways to misbehave."""

    body: bytes = CSV
    status: int = 200
    etag: str = '"t1"'
    tick: str = "1"
    delay: float = 0.0  # silence before the status line: what a fetch timeout must cut short
    hold: threading.Event | None = None  # answer only once the test sets it (30 s at most)
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
        if reply.hold is not None:
            reply.hold.wait(30)
        time.sleep(reply.delay)  # the silence is the condition under test, not a wait for one
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
