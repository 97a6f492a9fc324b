"""Run ``telemetry`` subcommands as real processes in tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import redis

from telemetry_common.keys import Keys
from telemetry_stack.servers.redis_server import free_port
from telemetry_stack.up.health import StartError, wait_http_ok

__all__ = ["Service", "free_port", "leader_of", "wait_for"]


def wait_for(predicate, timeout: float, interval: float = 0.05, message: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {message}")
        time.sleep(interval)


class Service:
    """One ``telemetry <role>`` child process with its output in a log file."""

    def __init__(self, args: list[str], env: Mapping[str, str] | None = None) -> None:
        self.args = args
        self.log = Path(tempfile.mkstemp(prefix="telemetry-test-", suffix=".log")[1])
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "telemetry_stack", *args],
                env=full_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        """Return everything the process printed so far."""
        return self.log.read_text(errors="replace")

    def wait_http(self, url: str, timeout: float = 20.0) -> None:
        """Wait until ``url`` answers 200, or fail with the process's output."""

        def alive() -> None:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.args} exited {self.process.returncode}:\n{self.output()}"
                )

        try:
            wait_http_ok(url, timeout, check=alive)
        except StartError as exc:
            raise AssertionError(f"{exc}\n--- output of {self.args}:\n{self.output()}") from None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process."""
        self.process.send_signal(sig)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM the process (SIGKILL its group after ``timeout``) and return its status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):  # leftovers of the group, if any
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.returncode


def leader_of(client: redis.Redis, services: list[Service], keys: Keys | None = None) -> Service:
    """Return the refresher service whose process holds the leader lock (its name holds the pid)."""
    lock = (keys or Keys()).leader
    holder = wait_for(lambda: client.get(lock), 10, message="a leader").decode()
    pid = int(holder.rsplit("-", 2)[1])
    return next(service for service in services if service.process.pid == pid)
