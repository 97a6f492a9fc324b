"""One bench worker in process, against the stub endpoint in the same event loop."""

from __future__ import annotations

import asyncio
import multiprocessing
import socket

from telemetry_stack.bench.answers import Catalog
from telemetry_stack.bench.plan import Plan
from telemetry_stack.bench.stats import BAD_ANSWER, CONNECTION, STATUS, TIMEOUT, Tally
from telemetry_stack.bench.stub import STUB_METRICS, StubTable, _Server
from telemetry_stack.bench.worker import Worker
from tests.helpers import free_port

SWITCHES = [str(n) for n in range(1, 11)]


def plan(port: int, catalog: Catalog, **changes: object) -> Plan:
    fields: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "tls": False,
        "base": "",
        "connections": 3,
        "warmup": 0.0,
        "duration": 0.4,
        "quota": None,
        "timeout": 2.0,
        "catalog": catalog,
        "weights": {"getmetric": 1.0, "listmetrics": 1.0},
        "list_size": 2,
        "seed": 3,
    }
    fields.update(changes)
    return Plan(**fields)  # type: ignore[arg-type]


def run_against(table: StubTable | None, **changes: object) -> Tally:
    """Run one worker against ``table`` served in the same loop (None: nothing listens)."""
    catalog = Catalog(SWITCHES, list(STUB_METRICS), discovered=True)

    async def main() -> Tally:
        port = free_port()
        server = None
        if table is not None:
            loop = asyncio.get_running_loop()
            server = await loop.create_server(lambda: _Server(table), "127.0.0.1", port)
        mine, theirs = multiprocessing.Pipe()
        try:
            return await Worker(plan(port, catalog, **changes), theirs).run()
        finally:
            if server is not None:
                server.close()
            mine.close()
            theirs.close()

    return asyncio.run(main())


def test_right_answers_are_all_counted_as_200_with_their_age() -> None:
    tally = run_against(StubTable(len(SWITCHES)))
    assert tally.requests > 10
    assert tally.statuses == {200: tally.requests}
    assert tally.errors == {}
    assert sum(tally.latency_us.values()) == tally.requests
    assert tally.max_age == 0.5 and tally.generations == (1, 1)
    assert tally.wall_s >= 0.4 and tally.cpu_s > 0


def test_a_request_quota_is_exact() -> None:
    tally = run_against(StubTable(len(SWITCHES)), quota=25, duration=None)
    assert tally.requests == 25


class WrongRows(StubTable):
    """Answers ListMetrics with one switch missing."""

    def respond(self, target: bytes) -> bytes:
        answer = super().respond(target)
        if b"ListMetrics" not in target:
            return answer
        head, _, body = answer.partition(b"\r\n\r\n")
        body = body[: body.rfind(b"\n", 0, len(body) - 1) + 1]
        length = next(h for h in head.split(b"\r\n") if h.startswith(b"content-length"))
        return head.replace(length, b"content-length: %d" % len(body)) + b"\r\n\r\n" + body


def test_wrong_rows_count_as_bad_answers() -> None:
    tally = run_against(WrongRows(len(SWITCHES)), weights={"listmetrics": 1.0})
    assert tally.requests > 0
    assert tally.errors == {BAD_ANSWER: tally.requests}
    assert "9 rows, expected 10" in tally.bad_samples[0]


class NotFound(StubTable):
    def respond(self, target: bytes) -> bytes:
        return (
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 3\r\nretry-after: 1\r\n\r\nno\n"
        )


def test_error_statuses_are_counted_by_code() -> None:
    tally = run_against(NotFound(1))
    assert tally.statuses == {503: tally.requests}
    assert tally.errors == {STATUS: tally.requests}


def test_a_closed_port_counts_connection_errors_without_latencies() -> None:
    tally = run_against(None, duration=0.3)
    assert tally.requests > 0
    assert tally.statuses == {0: tally.requests}
    assert tally.errors == {CONNECTION: tally.requests}
    assert tally.latency_us == {}


def test_a_server_that_never_answers_counts_timeouts() -> None:
    catalog = Catalog(SWITCHES, list(STUB_METRICS), discovered=True)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = silent.getsockname()[1]
    mine, theirs = multiprocessing.Pipe()
    try:
        work = Worker(plan(port, catalog, timeout=0.2, duration=0.5, connections=2), theirs)
        tally = asyncio.run(work.run())
    finally:
        silent.close()
        mine.close()
        theirs.close()
    assert tally.errors.get(TIMEOUT, 0) >= 2
    assert tally.statuses == {0: tally.errors[TIMEOUT]}
