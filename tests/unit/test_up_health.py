"""Health probes and the bounded wait of ``telemetry up``."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from telemetry_stack.servers.redis_server import free_port
from telemetry_stack.up.health import (
    Interrupted,
    StartError,
    http_ok,
    port_free,
    redis_ok,
    wait_healthy,
)
from telemetry_stack.up.supervisor import ChildFailed, Supervisor


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/healthz" else 503
        body = b"ok" if status == 200 else b"no snapshot"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_ok_is_healthy_on_200_and_says_what_it_saw_otherwise(server: str) -> None:
    assert http_ok(f"{server}/healthz") == (True, "200")
    assert http_ok(f"{server}/readyz") == (False, "503 no snapshot")
    healthy, detail = http_ok(f"http://127.0.0.1:{free_port()}/healthz", timeout=0.5)
    assert not healthy and detail


def test_redis_ok_fails_fast_on_a_closed_port() -> None:
    healthy, detail = redis_ok(f"redis://127.0.0.1:{free_port()}/0")
    assert not healthy and "ConnectionError" in detail


def test_port_free_sees_a_listener() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not port_free("127.0.0.1", port)
    assert port_free("127.0.0.1", free_port())


def test_wait_healthy_returns_when_the_probe_passes() -> None:
    answers = [(False, "not yet"), (False, "not yet"), (True, "ok"), (False, "too far")]
    asked: list[tuple[bool, str]] = []

    def probe() -> tuple[bool, str]:
        asked.append(answers[len(asked)])
        return asked[-1]

    assert wait_healthy(Supervisor(), "thing", probe, timeout=60) is None
    assert asked == answers[:3]  # polled until the first pass, not once more


def test_wait_healthy_gives_up_after_the_timeout_with_the_last_answer() -> None:
    with pytest.raises(StartError, match=r"thing not healthy within 0.2 s \(last answer: 503\)"):
        wait_healthy(Supervisor(), "thing", lambda: (False, "503"), timeout=0.2)


def test_wait_healthy_stops_waiting_when_a_stop_is_asked() -> None:
    supervisor = Supervisor()
    supervisor.request_stop()
    with pytest.raises(Interrupted):
        wait_healthy(supervisor, "thing", lambda: (False, "no"), timeout=5)


def test_wait_healthy_reports_a_child_that_died() -> None:
    supervisor = Supervisor()
    supervisor.start("api", [sys.executable, "-c", "raise SystemExit('no way')"], os.environ)
    try:
        with pytest.raises(ChildFailed, match="api exited"):
            wait_healthy(supervisor, "api", lambda: (False, "no"), timeout=10)
    finally:
        supervisor.stop_all()
