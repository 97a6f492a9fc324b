"""`telemetry up --redis sentinel|cluster`: the stack on a local topology, then nothing left."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator

import pytest

from tests.helpers import wait_for
from tests.integration.test_up import Up, assert_get_metric_agrees_with_list_metrics, session_pids

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def started() -> Iterator[list[Up]]:
    ups: list[Up] = []
    yield ups
    for up in ups:
        up.kill_leftovers()


@pytest.mark.parametrize(
    ("kind", "url", "hint"),
    [
        ("sentinel", r"redis\+sentinel://(127\.0\.0\.1:\d+,?){3}/mymaster/0", "SENTINEL FAILOVER"),
        ("cluster", r"redis\+cluster://(127\.0\.0\.1:\d+,?){3}", "cluster of 3 masters"),
    ],
)
def test_up_runs_the_stack_on_a_local_topology(
    started: list[Up], kind: str, url: str, hint: str
) -> None:
    up = Up(["--redis", kind, "--switches", "10", "--api-workers", "1"])
    started.append(up)
    summary = up.wait_ready(60)
    assert re.search(rf"Redis +{url} +\({kind} started for this run\)", summary), summary
    assert "redis-cli -u" not in summary  # redis-cli takes no sentinel or cluster URL
    assert hint in up.err()
    assert_get_metric_agrees_with_list_metrics(up.api, 10)
    assert up.stop(signal.SIGINT, timeout=30) == 0
    wait_for(lambda: not session_pids(up.process.pid), 5, message="no process left")
