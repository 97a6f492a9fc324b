"""A trivial local endpoint with the API's routes, to measure the bench's own ceiling.

It answers discovery, GetMetric and ListMetrics from canned bytes (valid answers, so the bench
checks them as it checks the API's) without Redis, Flask or a WSGI server: what ``telemetry bench
--stub`` reaches is close to the most the load generator itself can send and check.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import signal
import socket
from multiprocessing.process import BaseProcess
from urllib.parse import parse_qs, urlsplit

STUB_METRICS = ("Latency", "CpuUsage", "MemoryUsage", "PacketLoss")
HEADERS = b"x-telemetry-generation: 1\r\nx-telemetry-age: 0.500\r\n"


def _answer(status: int, body: bytes, content_type: bytes = b"text/csv") -> bytes:
    reason = b"OK" if status == 200 else b"Not Found"
    return b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n%s\r\n%s" % (
        status,
        reason,
        content_type,
        len(body),
        HEADERS,
        body,
    )


class StubTable:
    """The canned table: ``switches`` ids and the stub's metrics, every value 1.5."""

    def __init__(self, switches: int) -> None:
        self.ids = [str(n).encode() for n in range(1, switches + 1)]
        self.rows: dict[int, bytes] = {}
        self.discovery = {
            plural: _answer(200, json.dumps({plural: items}).encode(), b"application/json")
            for plural, items in (
                ("switches", [i.decode() for i in self.ids]),
                ("metrics", list(STUB_METRICS)),
            )
        }

    def respond(self, target: bytes) -> bytes:
        """Return the whole HTTP answer to a GET of ``target``."""
        parts = urlsplit(target.decode())
        query = parse_qs(parts.query)
        if parts.path == "/telemetry/GetMetric":
            switch, metric = query["switch"][0].encode(), query["metric"][0].encode()
            return _answer(200, b"switch,%s\n%s,1.5\n" % (metric, switch))
        if parts.path == "/telemetry/ListMetrics":
            names = query["metrics"][0].encode()
            count = names.count(b",") + 1
            if count not in self.rows:
                self.rows[count] = b"".join(i + b",1.5" * count + b"\n" for i in self.ids)
            return _answer(200, b"switch," + names + b"\n" + self.rows[count])
        plural = parts.path.rpartition("/")[2]
        return self.discovery.get(plural) or _answer(404, b"not found\n", b"text/plain")


class _Server(asyncio.Protocol):
    def __init__(self, table: StubTable) -> None:
        self.table, self.buffer = table, b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            line = self.buffer[: self.buffer.find(b"\r\n")]
            self.buffer = self.buffer[end + 4 :]
            if self.transport is not None:
                self.transport.write(self.table.respond(line.split(b" ")[1]))


def serve(sock: socket.socket, switches: int) -> None:
    """Serve the stub on the listening ``sock`` until SIGTERM (a process entry)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        table = StubTable(switches)
        server = await loop.create_server(lambda: _Server(table), sock=sock)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_stub(switches: int = 100) -> tuple[str, BaseProcess]:
    """Start the stub in a child process on a free loopback port; return its URL and process."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = sock.getsockname()[1]
    process = multiprocessing.get_context().Process(target=serve, args=(sock, switches))
    process.daemon = True
    process.start()
    sock.close()
    return f"http://127.0.0.1:{port}", process
