"""``telemetry compose up|down``: compose.yaml on this machine, whatever it has of Docker.

``up`` uses the Docker engine that answers (DOCKER_HOST, the system's) or starts a private
dockerd, runs the public images or, where they cannot be pulled, images made from Debian's
packages, publishes the proxy on 127.0.0.1:8080 by default, and returns once every service is
healthy. Its last line is the DOCKER_HOST to use by hand. ``down`` removes what ``up`` made
and stops the private dockerd.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import time
from pathlib import Path

from telemetry_common.logs import configure_logging
from telemetry_stack.compose.engine import (
    Engine,
    EngineError,
    answers,
    find,
    find_or_start,
    private_host,
    stop_private,
)
from telemetry_stack.compose.images import choose, prune_dangling
from telemetry_stack.compose.stack import Stack

logger = logging.getLogger(__name__)

HELP = "run compose.yaml on this machine: up (build, start, wait until healthy) or down"
PUBLISH = "127.0.0.1:8080"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the action, the compose file and where to publish the proxy."""
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument(
        "--file", type=Path, default=Path("compose.yaml"), help="the compose file (compose.yaml)"
    )
    parser.add_argument(
        "--publish", default=PUBLISH, help=f"where the proxy's port is published ({PUBLISH})"
    )


def secrets_file(directory: Path) -> Path:
    """Return ``directory``'s .env, written first with random passwords when there is none.

    compose.yaml reads every Redis user's password from it (.env.example names them); the
    file is the owner's alone (0600), and git ignores it.
    """
    path = directory / ".env"
    if path.exists():
        return path
    example = (directory / ".env.example").read_text()
    lines = [
        f"{line.partition('=')[0]}={secrets.token_urlsafe(24)}"
        if line.endswith("=change-me")
        else line
        for line in example.splitlines()
    ]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write("\n".join(lines) + "\n")
    logger.info("wrote %s with new random passwords (see .env.example)", path)
    return path


def up(
    file: Path, publish: str = PUBLISH, settings: dict[str, str] | None = None
) -> tuple[Stack, float]:
    """Start the stack of ``file`` on an engine; return it and the seconds it took.

    ``settings`` are more of compose.yaml's variables (say, PROXY_RATE_LIMIT).
    """
    started = time.monotonic()
    secrets_file(file.resolve().parent)
    engine = find_or_start()
    variables = {**choose(engine, file.resolve().parent), "PROXY_PUBLISH": publish}
    variables |= settings or {}
    stack = Stack(file, engine, variables)
    stack.up()
    return stack, time.monotonic() - started


def down(file: Path) -> None:
    """Remove the stack of ``file`` from the engine that answers; stop the private dockerd."""
    engine = find()
    if engine is not None:
        Stack(file, engine).down()
    if answers(private_host()):
        prune_dangling(Engine(private_host()))  # earlier builds of the image, on our engine only
    stop_private()


def run(args: argparse.Namespace) -> int:
    """Bring the stack up or down; return the exit status."""
    configure_logging(os.environ)
    try:
        if args.action == "down":
            down(args.file)
            return 0
        stack, seconds = up(args.file, args.publish)
    except EngineError as exc:
        print(f"telemetry compose {args.action}: {exc}", file=sys.stderr)
        return 1
    host, port = args.publish.rpartition(":")[::2]
    print(f"every service is healthy after {seconds:.0f} s; with " + ", ".join(
        f"{name}={value}" for name, value in sorted(stack.variables.items())
    ))  # fmt: skip
    url = f"http://{host or 'localhost'}:{port}/telemetry/GetMetric?switch=1&metric=Latency"
    print(f"try: curl '{url}'")
    print(f"DOCKER_HOST={stack.engine.host}")
    return 0
