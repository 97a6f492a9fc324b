"""A slow generator and one that closes connections mid-body, through the fault proxy.

The refresher (interval 1 s, TTL 5 s: long enough to watch two failed refreshes before the last
good snapshot expires; fetch timeout 0.6 s) polls the real generator through a FaultProxy.
While the fault lasts, the last good snapshot must stay exactly as it was (same generation,
same bytes in every key), each failure must be counted in the status hash, and the API must
keep answering from it; once the fault is gone, at most the refresh under way fails: the next
one writes.
"""

from __future__ import annotations

import socket
import time

import pytest
import redis
import requests

from telemetry_stack.servers.redis_server import RedisServer
from tests.helpers import wait_for
from tests.helpers.faultproxy import FaultProxy
from tests.helpers.faults import (
    Stack,
    generation,
    snapshot_dump,
    status,
    wait_generation_above,
)
from tests.helpers.load import report

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

TTL = 5
FETCH_TIMEOUT = 0.6
SLOW = 2.0  # seconds the proxy holds each chunk of the answer: over the fetch timeout


def answer_sizes(port: int) -> tuple[int, int]:
    """Return the header and body sizes, in bytes, of one raw GET /counters."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"GET /counters HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    return len(head) + 4, len(body)


def inject(proxy: FaultProxy, kind: str, generator_port: int) -> str:
    """Start the fault ``kind``; return the error kind the refresher should record."""
    if kind == "slow":
        proxy.set(latency=SLOW)
        return "source_timeout"
    head, body = answer_sizes(generator_port)
    assert body > 1000, "the table is too small to be cut in its middle"
    proxy.set(limit_bytes=head + body // 2)
    return "bad_response"


@pytest.mark.parametrize("kind", ["slow", "cut"])
def test_a_failing_source_leaves_the_last_good_snapshot_untouched(
    private_redis: RedisServer, request: pytest.FixtureRequest, kind: str
) -> None:
    client = redis.Redis.from_url(private_redis.url, socket_timeout=2)
    stack = Stack(private_redis.url, ttl=TTL, proxy=True, fetch_timeout=f"{FETCH_TIMEOUT:g}")
    assert stack.proxy is not None
    api = f"{stack.api_url}/telemetry/GetMetric?switch=5&metric=Latency"
    try:
        wait_generation_above(client, 1, 10)
        failed_before = int(status(client).get("refreshes_failed", 0))
        expected_kind = inject(stack.proxy, kind, stack.generator_port)
        faulted = time.monotonic()

        def failures() -> int:
            return int(status(client).get("refreshes_failed", 0)) - failed_before

        wait_for(lambda: failures() >= 1, 5, 0.02, "a failed refresh")
        good, live = snapshot_dump(client), generation(client)
        first = requests.get(api, timeout=2)
        wait_for(lambda: failures() >= 3, 5, 0.02, "two more failed refreshes")
        after, later = snapshot_dump(client), requests.get(api, timeout=2)
        recorded = status(client)
        failed_at_clear = failures()
        stack.proxy.clear()
        cleared = time.monotonic()
        wait_generation_above(client, live, 10)
        healed = time.monotonic() - cleared
        failed_after_clear = failures() - failed_at_clear
    finally:
        stack.stop()
        client.close()

    report(
        request,
        fault=kind,
        failed_refreshes=failures_seen(recorded, failed_before),
        error=recorded["last_error"],
        snapshot_kept_s=round(cleared - faulted, 3),
        connections_cut=stack.proxy.cut,
        new_snapshot_after_fault_cleared_s=round(healed, 3),
        failed_refreshes_after_clear=failed_after_clear,
    )
    assert good and after == good, "the snapshot changed while the source failed"
    assert (first.status_code, later.status_code) == (200, 200)
    assert first.text == later.text
    assert first.headers["X-Telemetry-Generation"] == later.headers["X-Telemetry-Generation"]
    assert int(later.headers["X-Telemetry-Generation"]) == live
    assert recorded["last_error_kind"] == expected_kind
    assert recorded["state"] == f"failing:{expected_kind}"
    assert failures_seen(recorded, failed_before) >= 3
    assert kind != "cut" or stack.proxy.cut >= 3
    # The first refresh that starts after the fault is cleared succeeds: at most the one under
    # way (its fetch begun through the fault) fails.
    assert failed_after_clear <= 1


def failures_seen(recorded: dict[str, str], before: int) -> int:
    """Return how many failed refreshes the status hash counted since ``before``."""
    return int(recorded.get("refreshes_failed", 0)) - before
