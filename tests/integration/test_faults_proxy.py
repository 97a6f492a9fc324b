"""The fault proxy itself, against a local server that sends a fixed payload per connection.

Timings are checked as lower bounds only (a fault delays at least this much); the fault tests
rely on what these tests show.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.helpers.faultproxy import FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

PAYLOAD = bytes(range(256)) * 80  # 20,480 bytes


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    """Return a proxy in front of a server that sends PAYLOAD to each client, then closes."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(PAYLOAD)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with FaultProxy(server.getsockname()) as started:
        yield started
    stop.set()
    thread.join(timeout=2)
    server.close()


def fetch(proxy: FaultProxy, timeout: float = 5.0) -> bytes:
    """Return everything the proxy passes on for one connection."""
    with socket.create_connection((proxy.host, proxy.port), timeout=timeout) as sock:
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_without_faults_every_byte_passes(proxy: FaultProxy) -> None:
    assert fetch(proxy) == PAYLOAD
    assert proxy.accepted == 1


def test_limit_bytes_closes_the_connection_after_that_many_bytes(proxy: FaultProxy) -> None:
    proxy.set(limit_bytes=5000)
    assert fetch(proxy) == PAYLOAD[:5000]
    assert proxy.cut == 1


def test_reset_answers_with_a_tcp_reset(proxy: FaultProxy) -> None:
    proxy.set(reset=True)
    with pytest.raises(ConnectionResetError):
        fetch(proxy)
    assert proxy.resets == 1


def test_latency_and_bandwidth_delay_the_answer(proxy: FaultProxy) -> None:
    proxy.set(latency=0.3)
    started = time.monotonic()
    assert fetch(proxy) == PAYLOAD
    assert time.monotonic() - started >= 0.3
    proxy.set(latency=0.0, bandwidth=len(PAYLOAD) * 4)  # a quarter of a second for the payload
    started = time.monotonic()
    assert fetch(proxy) == PAYLOAD
    assert time.monotonic() - started >= 0.25


def test_stall_holds_the_data_until_cleared(proxy: FaultProxy) -> None:
    proxy.set(stall=True)
    with socket.create_connection((proxy.host, proxy.port), timeout=0.3) as sock:
        with pytest.raises(TimeoutError):
            sock.recv(1)
        proxy.clear()
        sock.settimeout(5)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received == PAYLOAD
