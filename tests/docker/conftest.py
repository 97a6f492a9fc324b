"""compose.yaml's stack on a real Docker engine, started by ``make compose-up``'s code.

The tests talk to it through the proxy's published port on loopback only, and take it down at
the end, stopping the dockerd if they started it. Nothing else may hold that port.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from telemetry_stack.compose.command import down, up
from telemetry_stack.compose.engine import stop_private
from telemetry_stack.compose.images import prune_dangling
from telemetry_stack.compose.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
PUBLISH = ("127.0.0.1", 8080)


# Package scope: the stack goes once the tests here are done, not at the end of the whole run,
# so that the tests after them do not share the cores with eight containers.
@pytest.fixture(scope="package")
def compose_stack() -> Iterator[Stack]:
    """Return the running stack of compose.yaml, its proxy on 127.0.0.1:8080."""
    with socket.socket() as probe:
        if probe.connect_ex(PUBLISH) == 0:
            pytest.fail(
                f"{PUBLISH[0]}:{PUBLISH[1]} is taken: the compose tests publish the proxy there "
                "(make compose-down stops a stack started by hand)",
                pytrace=False,
            )
    # The load of the fault tests comes from one client address: far over the default limit.
    unlimited = {"PROXY_RATE_LIMIT": "1000000"}
    try:
        stack, seconds = up(ROOT / "compose.yaml", f"{PUBLISH[0]}:{PUBLISH[1]}", unlimited)
    except BaseException:
        down(ROOT / "compose.yaml")  # whatever came up, and the dockerd if it was started here
        raise
    print(f"\nthe stack was healthy after {seconds:.0f} s")
    try:
        yield stack
    finally:
        stack.down()
        if stack.engine.started:
            prune_dangling(stack.engine)
            stop_private()


@pytest.fixture(scope="package")
def base_url(compose_stack: Stack) -> str:
    """Return the proxy's URL."""
    return f"http://{PUBLISH[0]}:{PUBLISH[1]}"
