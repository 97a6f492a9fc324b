"""A stub source whose every answer is a new tick, and that remembers when each was served.

Each GET /counters gets the next tick: a new ETag, ``X-Telemetry-Tick`` and the time it was
answered as ``X-Telemetry-Tick-Time``, and a table whose ``Tick`` column holds the tick number,
so the API's answers show which tick they come from. The rest of the table is fixed, as large
as a test wants, so that parsing and writing it take long enough to be caught in the act.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.helpers.source import Reply, StubSource


@dataclass
class Served:
    """One request: its tick and when it came and was answered (monotonic seconds)."""

    tick: int
    began: float
    client_port: int
    done: float | None = None

    def still_read(self) -> bool:
        """Return whether the client has not closed its end yet: it is still fetching."""
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as lines:
                    for line in lines.readlines()[1:]:
                        local, state = line.split()[1], line.split()[3]
                        if int(local.rsplit(":", 1)[1], 16) == self.client_port:
                            return state in ("01", "08")  # ESTABLISHED, CLOSE_WAIT
            except OSError:
                continue
        return False


class TickingSource(StubSource):
    """A StubSource answering a new tick per request, after a random delay up to ``delay``."""

    def __init__(self, switches: int, delay: float = 0.0, seed: int = 1) -> None:
        self.delay = delay
        self.random = random.Random(seed)
        rows = [f"{i},0,{i % 97}.5,{i * 3},0.25,{i % 13},7,{i},8" for i in range(2, switches + 1)]
        self.header = b"switch,Tick,Latency,Hits,Loss,Queue,Temp,Errors,Drops\n"
        self.rest = ("\n".join(rows) + "\n").encode()
        self.served: list[Served] = []
        self.arrived = threading.Condition()
        self.current = threading.local()  # the request each handler thread is answering
        super().__init__()
        self.make_reply = self._next

    def _next(self) -> Reply:
        with self.arrived:
            tick = len(self.served) + 1
            self.current.served = Served(tick, time.monotonic(), self.current.port)
            self.served.append(self.current.served)
            self.arrived.notify_all()
            delay = self.random.uniform(0, self.delay)
        body = self.header + b"1,%d,1.5,3,0.25,1,7,1,8\n" % tick + self.rest
        return Reply(body=body, etag=f'"tick-{tick}"', tick=str(tick), delay=delay)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer as StubSource does, then note when the answer was sent."""
        self.current.port = handler.client_address[1]
        super().answer(handler)
        self.current.served.done = time.monotonic()

    def wait_request(self, after: int, timeout: float) -> Served:
        """Wait for the request after the ``after`` first ones; return it."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.served) <= after:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no request to the source within {timeout:g} s")
                self.arrived.wait(left)
            return self.served[after]
