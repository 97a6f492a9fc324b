"""Look into a running compose stack: its containers, a key in its Redis, who answered.

This module holds no tests. Requests go through the proxy's published port; the rest asks the
Docker engine, as an operator would with ``docker compose ps`` and ``docker inspect``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import requests

from telemetry_stack.compose.engine import docker
from telemetry_stack.compose.stack import Stack
from tests.helpers import wait_for

GET_METRIC = "/telemetry/GetMetric?switch=1&metric=Latency"


def container_ids(stack: Stack, service: str) -> list[str]:
    """Return the ids of the running containers of ``service``."""
    return stack.compose("ps", "-q", service, capture=True).stdout.split()


def inspect(stack: Stack, container: str, template: str) -> str:
    """Return ``docker inspect --format TEMPLATE`` of one container."""
    command = [docker(), "inspect", "--format", template, container]
    return subprocess.run(command, env=stack.env(), capture_output=True, text=True, check=True)\
        .stdout.strip()  # fmt: skip


def crash(stack: Stack, container: str) -> None:
    """SIGKILL a container's first process from the host, as the OOM killer would.

    Unlike ``docker kill``, which counts as a stop by hand, this leaves the restart policy on.
    """
    os.kill(int(inspect(stack, container, "{{.State.Pid}}")), signal.SIGKILL)


def redis_get(stack: Stack, key: str) -> str:
    """Return a string key of the stack's Redis (empty when absent), read with redis-cli."""
    return redis_cli(stack, "telemetry-reader", "TELEMETRY_READER_PASSWORD", "GET", key)


def redis_cli(stack: Stack, user: str, password_variable: str, *command: str) -> str:
    """Return what redis-cli in the Redis container prints for ``command``, run as ``user``.

    The password is the one the stack runs with: compose reads it from .env, and so does this.
    """
    login = []
    if user:  # else as the default user
        password = secrets_of(stack)[password_variable]
        login = ["--no-auth-warning", "--user", user, "--pass", password]
    return stack.compose(
        "exec", "-T", "redis", "redis-cli", *login, *command, capture=True
    ).stdout.strip()


def env_file(path: Path) -> dict[str, str]:
    """Return the NAME=value settings of an env file as Compose reads it (# starts a comment)."""
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def secrets_of(stack: Stack) -> dict[str, str]:
    """Return the passwords of the stack's .env (beside its compose file)."""
    return env_file(stack.file.parent / ".env")


def served_by(base_url: str, count: int) -> Counter[str]:
    """Send ``count`` GetMetric on new connections; count the replicas (proxy slots) answering."""
    seen: Counter[str] = Counter()
    for _ in range(count):
        answer = requests.get(base_url + GET_METRIC, timeout=5)
        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
        seen[answer.headers["X-Served-By"]] += 1
    return seen


def wait_served_by(base_url: str, replicas: int, timeout: float) -> float:
    """Wait until ``replicas`` distinct replicas answer within one round; return the seconds."""
    started = time.monotonic()
    answering = f"{replicas} replicas answering"
    wait_for(lambda: len(served_by(base_url, 2 * replicas)) >= replicas, timeout, 0.2, answering)
    return time.monotonic() - started
