"""One load-generating process: an asyncio loop driving its share of the keep-alive connections.

The process reports to its parent through a pipe: ``ready`` once started, a ``tick`` each second
(requests and errors so far), and ``done`` with its Tally. The parent may send ``stop``.
"""

from __future__ import annotations

import asyncio
import math
import signal
import ssl
import time
from multiprocessing.connection import Connection

from telemetry_common.settings import host_port
from telemetry_stack.bench.answers import Requests
from telemetry_stack.bench.checks import check
from telemetry_stack.bench.client import Client
from telemetry_stack.bench.http import Answer
from telemetry_stack.bench.plan import Plan
from telemetry_stack.bench.stats import CONNECTION, TIMEOUT, Tally

RECONNECT_DELAY = 0.1  # seconds before a failed connection is tried again
SWEEP = 0.05  # seconds between two looks at timeouts, the clock and the parent


class Worker:
    """Keep ``plan.connections`` requests in flight until the run ends; count their outcomes."""

    def __init__(self, plan: Plan, pipe: Connection) -> None:
        self.plan, self.pipe = plan, pipe
        self.requests = Requests(plan.catalog, plan.weights, plan.list_size, plan.seed)
        host = host_port(plan.host, plan.port)
        tail = f" HTTP/1.1\r\nHost: {host}\r\nUser-Agent: telemetry-bench\r\n\r\n"
        self.tail = tail.encode()
        self.head = b"GET " + plan.base.encode()
        self.tally, self.warm = Tally(), Tally()
        self.clients: set[Client] = set()
        self.issued = 0
        self.measure_at = self.stop_at = math.inf
        self.cpu_at = 0.0
        self.last_at = 0.0  # when the last answer arrived
        self.ssl = ssl.create_default_context() if plan.tls else None

    def ready(self, client: Client) -> None:
        """Send the next request on ``client`` unless the run is over."""
        now = time.perf_counter()
        quota = self.plan.quota
        if client.asked is None:
            if now >= self.stop_at or (quota is not None and self.issued >= quota):
                self.stop_at = min(self.stop_at, now)  # no reconnects once the quota is used
                client.abort()
                return
            client.asked = self.requests.draw()
            measured = now >= self.measure_at
            client.tally = self.tally if measured else self.warm
            self.issued += measured
        client.sent_at = now
        client.send(self.head + client.asked.target + self.tail)

    def answered(self, client: Client, answer: Answer) -> None:
        """Count an answer, check a 200's content, then send the next request."""
        self.last_at = time.perf_counter()
        seconds = self.last_at - client.sent_at
        asked, client.asked = client.asked, None
        client.served += 1
        tally = client.tally or self.warm
        tally.answered(answer.status, seconds, answer.age, answer.generation)
        if answer.status == 200 and asked is not None:
            reason = check(asked, answer.body, self.plan.catalog)
            if reason is not None:
                tally.bad(f"{asked.target.decode(errors='replace')}: {reason}")
        if answer.close:
            client.abort()
        else:
            self.ready(client)

    def broken(self, client: Client, reason: str) -> None:
        """Count the request in flight as a connection error."""
        if client.asked is not None:
            (client.tally or self.warm).unanswered(CONNECTION)
            client.asked = None

    def closed(self, client: Client) -> None:
        """Open a new connection in place of ``client``'s."""
        self.clients.discard(client)
        if time.perf_counter() < self.stop_at:
            fresh = Client(self)
            if client.resend:
                fresh.asked, fresh.tally = client.asked, client.tally
            asyncio.get_running_loop().create_task(self.connect(fresh, 0.0))

    async def connect(self, client: Client, delay: float) -> None:
        """Open ``client``'s connection; count a failure and retry after a pause."""
        await asyncio.sleep(delay)
        loop = asyncio.get_running_loop()
        while time.perf_counter() < self.stop_at:
            self.clients.add(client)
            try:
                await loop.create_connection(
                    lambda: client, self.plan.host, self.plan.port, ssl=self.ssl
                )
                return
            except OSError:
                self.clients.discard(client)
                if self._quota_used():
                    return  # a reconnect racing the end of the run is not a request
                measured = time.perf_counter() >= self.measure_at
                (self.tally if measured else self.warm).unanswered(CONNECTION)
                self.issued += measured
                client.asked = None
                if self._quota_used():
                    self.stop_at = time.perf_counter()
                await asyncio.sleep(RECONNECT_DELAY)

    def _quota_used(self) -> bool:
        return self.plan.quota is not None and self.issued >= self.plan.quota

    def sweep(self, now: float) -> None:
        """Fail requests older than the timeout; end the run when its time or quota is up."""
        for client in list(self.clients):
            if client.asked is not None and now - client.sent_at > self.plan.timeout:
                (client.tally or self.warm).unanswered(TIMEOUT)
                client.asked = None
                client.abort()
        if self.plan.quota is not None and self.issued >= self.plan.quota:
            self.stop_at = min(self.stop_at, now)
        while self.pipe.poll():
            if self.pipe.recv() == "stop":
                self.stop_at = min(self.stop_at, now)

    async def run(self) -> Tally:
        """Run the warm-up and the measured part; return what the latter counted."""
        started = time.perf_counter()
        self.measure_at = started + self.plan.warmup
        self.stop_at = self.measure_at + (self.plan.duration or math.inf)
        for _ in range(self.plan.connections):
            asyncio.get_running_loop().create_task(self.connect(Client(self), 0.0))
        next_tick, measuring = started + 1.0, False
        while True:
            await asyncio.sleep(SWEEP)
            now = time.perf_counter()
            if not measuring and now >= self.measure_at:
                measuring, self.cpu_at = True, time.process_time()
            self.sweep(now)
            if now >= self.stop_at and not any(c.asked for c in self.clients):
                break
            if now >= next_tick:
                next_tick += 1.0
                done = self.tally.requests + self.warm.requests
                self.pipe.send(("tick", measuring, done, self.tally.requests, self.tally.failed))
        for client in list(self.clients):
            client.abort()
        self.tally.cpu_s = time.process_time() - self.cpu_at if measuring else 0.0
        # From the start of measuring to the last answer, or to the planned end if it came later.
        ended = max(self.last_at, self.stop_at if self.stop_at < math.inf else self.last_at)
        self.tally.wall_s = max(0.0, min(ended, time.perf_counter()) - self.measure_at)
        return self.tally


def work(plan: Plan, pipe: Connection) -> None:
    """Process entry: report ready, wait for go, run, send the tally."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the run
    pipe.send(("ready",))
    if pipe.recv() != "go":
        return
    tally = asyncio.run(Worker(plan, pipe).run())
    pipe.send(("done", tally))
    pipe.close()
