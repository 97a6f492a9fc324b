"""The Docker engine the stack runs on: one that answers already, or a private dockerd.

A private engine keeps its socket, state and images under one directory of the temporary
directory, so that a later start finds its images again; ``stop`` ends only that engine.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_HOST = "unix:///var/run/docker.sock"
INSTALL = "apt-get install docker.io mmdebstrap"
_STARTED: dict[str, subprocess.Popen[bytes]] = {}  # private engines this process started


class EngineError(RuntimeError):
    """No Docker engine answers and none could be started."""


def state_dir() -> Path:
    """Return the directory of the private engine (socket, pid file, data, log)."""
    return Path(tempfile.gettempdir()) / "switch-telemetry-docker"


def private_host(state: Path | None = None) -> str:
    """Return the DOCKER_HOST of the private engine."""
    return f"unix://{(state or state_dir()) / 'docker.sock'}"


@dataclass(frozen=True)
class Engine:
    """A Docker engine that answers at ``host``; ``started`` when this call started it."""

    host: str
    started: bool = False

    def env(self) -> dict[str, str]:
        """Return this process's environment pointed at the engine."""
        return {**os.environ, "DOCKER_HOST": self.host}


def docker() -> str:
    """Return the docker command line client, or fail saying how to install it."""
    found = shutil.which("docker")
    if not found:
        raise EngineError(f"no docker command: on Debian or Ubuntu, {INSTALL}")
    return found


def answers(host: str) -> bool:
    """Return whether a Docker engine answers at ``host``."""
    try:
        result = subprocess.run(
            [docker(), "version", "--format", "{{.Server.Version}}"],
            env={**os.environ, "DOCKER_HOST": host},
            capture_output=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def find() -> Engine | None:
    """Return the first engine that answers: DOCKER_HOST's, the system's, the private one."""
    for host in (os.environ.get("DOCKER_HOST"), DEFAULT_HOST, private_host()):
        if host and answers(host):
            return Engine(host)
    return None


def find_or_start(timeout: float = 60.0) -> Engine:
    """Return the engine that answers, or the private one, started."""
    return find() or start_private(timeout)


def start_private(timeout: float = 60.0) -> Engine:
    """Start a private dockerd in the background and wait until it answers."""
    dockerd = shutil.which("dockerd")
    if not dockerd:
        raise EngineError(f"no Docker engine answers and there is no dockerd: {INSTALL}")
    state = state_dir()
    state.mkdir(parents=True, exist_ok=True)
    host = private_host(state)
    command = [
        dockerd,
        f"--host={host}",
        f"--data-root={state / 'data'}",
        f"--exec-root={state / 'exec'}",
        f"--pidfile={state / 'dockerd.pid'}",
    ]
    logger.info("starting a private dockerd at %s (log: %s)", host, state / "dockerd.log")
    with (state / "dockerd.log").open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while not answers(host):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = (state / "dockerd.log").read_text(errors="replace")[-2000:]
            raise EngineError(f"dockerd did not answer at {host}:\n{tail}")
        time.sleep(0.5)
    _STARTED[host] = process
    return Engine(host, started=True)


def stop_private(timeout: float = 30.0) -> bool:
    """Stop the private dockerd if it runs (SIGTERM, as its service unit does); say if it did."""
    process = _STARTED.pop(private_host(), None)
    if process is not None:  # started by this process: wait for it, so that it is reaped
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return True
    try:
        pid = int((state_dir() / "dockerd.pid").read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            raise EngineError(f"dockerd (pid {pid}) did not stop within {timeout:g} s of SIGTERM")
        time.sleep(0.2)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
