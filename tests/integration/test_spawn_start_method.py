"""The services and the bench under ``spawn``, the start method of Windows and macOS.

Linux forks granian's and the bench's worker processes; Windows and macOS start them fresh
(``spawn``), so each must rebuild its app from the environment alone. Here each command runs
with the start method forced to ``spawn``, as real processes answering real HTTP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis
import requests

from telemetry_common.keys import Keys
from telemetry_common.snapshot import SourceInfo, Table
from telemetry_common.writer import write_snapshot
from tests.helpers import free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SPAWNED = (
    "import multiprocessing, sys; multiprocessing.set_start_method('spawn'); "
    "from telemetry_stack.cli import main; sys.exit(main(sys.argv[1:]))"
)


class Spawned:
    """``telemetry <args>`` with the spawn start method, in its own process group."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SPAWNED, *args],
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> tuple[int, str]:
        """SIGINT the process, wait for it (SIGKILL its group after 15 s); return status, output."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            output, _ = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            output, _ = self.process.communicate()
        return self.process.returncode, output.decode(errors="replace")


@pytest.fixture
def spawned() -> Iterator[list[Spawned]]:
    """Collect the processes a test starts; stop any left running."""
    started: list[Spawned] = []
    yield started
    for process in started:
        process.stop()


def ok(url: str) -> requests.Response | None:
    """Return the answer of ``url`` if it is a 200, else None."""
    try:
        response = requests.get(url, timeout=2)
    except requests.RequestException:
        return None
    return response if response.status_code == 200 else None


def test_the_generator_serves_from_a_spawned_worker(spawned: list[Spawned]) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    spawned.append(Spawned(["generator", "--bind", base[7:], "--switches", "3"]))
    answer = wait_for(lambda: ok(f"{base}/counters"), 30, message="the generator")
    assert answer.text.splitlines()[0].startswith("switch,")
    assert [line.split(",")[0] for line in answer.text.splitlines()[1:]] == ["1", "2", "3"]
    status, output = spawned[0].stop()
    assert status == 0, output


def test_the_api_serves_and_counts_from_two_spawned_workers(
    spawned: list[Spawned], real_redis: redis.Redis, redis_url: str
) -> None:
    table = Table.from_rows(["1", "2"], ["Latency"], [[b"0.5"], [b"1.5"]])
    write_snapshot(real_redis, Keys(), table, ttl=120, source=SourceInfo(tick_time=time.time()))
    base = f"http://127.0.0.1:{free_port()}"
    api = Spawned(
        ["api", "--bind", base[7:], "--workers", "2"],
        {"TELEMETRY_REDIS_URL": redis_url, "PROMETHEUS_MULTIPROC_DIR": ""},
    )
    spawned.append(api)
    wait_for(lambda: ok(f"{base}/healthz"), 30, message="the API")
    for _ in range(20):
        answer = requests.get(f"{base}/telemetry/GetMetric?switch=2&metric=Latency", timeout=5)
        assert (answer.status_code, answer.text) == (200, "switch,Latency\n2,1.5\n")

    def counted() -> float:
        metrics = requests.get(f"{base}/metrics", timeout=5).text
        line = next(
            line
            for line in metrics.splitlines()
            if line.startswith("telemetry_api_requests_total{")
            and 'route="/telemetry/GetMetric"' in line
            and 'status="200"' in line
        )
        return float(line.rsplit(" ", 1)[1])

    # Each worker shares its counts with the other within 0.5 s, and /metrics is answered by
    # either: wait until four answers in a row, from whichever worker, add up to the 20.
    wait_for(lambda: [counted() for _ in range(4)] == [20] * 4, 15, message="20 requests counted")
    status, output = api.stop()
    assert status == 0, output


def test_the_bench_loads_from_spawned_processes() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SPAWNED, "bench", "--stub", "--duration", "1", "--processes", "2",
         "--quiet"],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "errors       0 (connection 0, timeout 0, bad answer 0, status 0)" in result.stdout
