"""Health of the stack's processes: probes (one HTTP GET or Redis PING each) and the wait.

Each probe returns ``(healthy, detail)``: the detail says what was seen, for the message when
a process never becomes healthy.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from telemetry_common.redis_client import connect
from telemetry_stack.up.supervisor import Supervisor

Probe = tuple[bool, str]


class StartError(RuntimeError):
    """The stack could not start: a port is taken or a process never became healthy."""


class Interrupted(Exception):
    """A stop was asked for while the stack was starting."""


def http_ok(url: str, timeout: float = 1.0) -> Probe:
    """GET ``url``; healthy when it answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200, f"{response.status}"
    except urllib.error.HTTPError as exc:
        body = exc.read(300).decode(errors="replace").strip()
        return False, f"{exc.code} {body}"
    except (OSError, ValueError) as exc:
        return False, str(getattr(exc, "reason", exc))


def redis_ok(url: str, timeout: float = 0.5) -> Probe:
    """PING the Redis at ``url``; healthy when it answers."""
    client = connect(url, timeout=timeout, retries=0)
    try:
        return bool(client.ping()), "PONG"
    except Exception as exc:  # any failure means "not yet": the detail says which
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        client.close()


def get_json(url: str, timeout: float = 2.0) -> Any:
    """Return the JSON body of ``url`` (asked with Accept: application/json)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def port_free(host: str, port: int) -> bool:
    """Return whether a server could listen on ``host:port`` now (nothing else listens there)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def poll(
    what: str,
    probe: Callable[[], Probe],
    timeout: float,
    *,
    check: Callable[[], object] | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> None:
    """Call ``probe`` until it passes; raise StartError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if check is not None:
            check()
        healthy, detail = probe()
        if healthy:
            return
        if time.monotonic() > deadline:
            raise StartError(f"{what} not healthy within {timeout:g} s (last answer: {detail})")
        sleep(0.1)


def wait_http_ok(url: str, timeout: float, check: Callable[[], object] | None = None) -> None:
    """Wait until ``url`` answers 200; ``check`` raises to give up early (a server that died)."""
    poll(url, lambda: http_ok(url), timeout, check=check)


def wait_healthy(
    supervisor: Supervisor, what: str, probe: Callable[[], Probe], timeout: float
) -> None:
    """Poll ``probe`` until it passes; raise if a child exits, time runs out or a stop is asked."""

    def check() -> None:
        supervisor.check()
        if supervisor.stopping.is_set():
            raise Interrupted

    poll(what, probe, timeout, check=check, sleep=supervisor.stopping.wait)
