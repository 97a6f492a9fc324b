"""`telemetry up`, the README's run command, as a real process: ready, answering, all stopped."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.helpers import free_port, wait_for

pytestmark = pytest.mark.integration

READY = "Press Ctrl-C to stop everything."


def session_pids(sid: int) -> set[int]:
    """Return the running (not zombie) processes of session ``sid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.add(int(stat.parent.name))
    return found


class Up:
    """`telemetry up` in its own session, stdout and stderr each in a file."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        base = {
            k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "TELEMETRY_REDIS_URL")
        }
        base |= {
            "PYTHONUNBUFFERED": "1",
            "TELEMETRY_REFRESH_INTERVAL": "1",
            "TELEMETRY_TTL": "4",
            "TELEMETRY_TICK_INTERVAL": "0.5",
        }
        self.dir = Path(tempfile.mkdtemp(prefix="telemetry-up-test-"))
        self.api_port, self.generator_port = free_port(), free_port()
        ports = ["--api-port", str(self.api_port), "--generator-port", str(self.generator_port)]
        with (self.dir / "out").open("wb") as out, (self.dir / "err").open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "telemetry_stack", "up", *ports, *args],
                env=base | (env or {}),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.api = f"http://127.0.0.1:{self.api_port}"

    def out(self) -> str:
        return (self.dir / "out").read_text(errors="replace")

    def err(self) -> str:
        return (self.dir / "err").read_text(errors="replace")

    def wait_ready(self, timeout: float = 40) -> str:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"up exited {self.process.returncode}:\n{self.err()}")
            return READY in self.out()

        try:
            wait_for(ready, timeout, interval=0.1, message="the summary of up")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- stderr:\n{self.err()}") from None
        return self.out()

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout)

    def kill_leftovers(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in session_pids(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def start() -> Iterator[type[Up]]:
    started: list[Up] = []

    class Tracked(Up):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            started.append(self)

    yield Tracked
    for up in started:
        up.kill_leftovers()


def get_json(url: str) -> dict:  # type: ignore[type-arg]
    response = requests.get(url, headers={"Accept": "application/json"}, timeout=5)
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def assert_get_metric_agrees_with_list_metrics(api: str, switches: int) -> None:
    def same_generation() -> bool:
        table = get_json(f"{api}/telemetry/ListMetrics?metrics=Latency,CpuUsage")
        one = get_json(f"{api}/telemetry/GetMetric?switch=3&metric=Latency")
        if table["generation"] != one["generation"]:
            return False  # a refresh came in between: ask again
        assert len(table["switches"]) == switches
        row = next(row for row in table["switches"] if row["switch"] == "3")
        assert one["value"] == row["values"]["Latency"]
        return True

    wait_for(same_generation, 10, message="two answers of one generation")


def test_up_serves_the_api_and_stops_every_process_on_ctrl_c(start: type[Up]) -> None:
    up = start(["--switches", "20", "--api-workers", "2"])
    summary = up.wait_ready()
    assert "20 switches, 1 refresher, API with 2 workers" in summary
    assert f"API        {up.api}" in summary
    assert f"generator  http://127.0.0.1:{up.generator_port}/counters" in summary
    assert "redis-server started for this run" in summary
    cli = r"redis-cli -u redis://127\.0\.0\.1:\d+/0"
    assert re.search(cli + r" GET telemetry:current\n", summary)
    assert re.search(cli + r" HGETALL 'telemetry:<generation>:switch:1'\n", summary)
    for url in re.findall(r"curl '([^']+)'", summary):  # the printed examples work
        response = requests.get(url, timeout=5)
        assert response.status_code == 200, (url, response.text)
        assert response.text.startswith("switch,")
    assert_get_metric_agrees_with_list_metrics(up.api, 20)
    err = up.err()
    for name in ("redis", "generator", "refresher", "api"):
        assert re.search(rf"^{name} +\| ", err, re.M), f"no output prefixed {name}"
    stack = session_pids(up.process.pid) - {up.process.pid}
    assert len(stack) >= 6  # redis, generator (+1 worker), refresher, api (+2 workers)

    assert up.stop(signal.SIGINT) == 0
    assert "Switch telemetry is up" not in up.err()  # the summary went to stdout only
    wait_for(lambda: not session_pids(up.process.pid), 3, message="no process left")


def test_up_runs_on_the_embedded_server_without_redis_server_on_path(start: type[Up]) -> None:
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    path = os.pathsep.join(d for d in dirs if not (Path(d) / "redis-server").exists())
    assert shutil.which("redis-server", path=path) is None
    up = start(["--switches", "10", "--api-workers", "1", "--refreshers", "2"], {"PATH": path})
    summary = up.wait_ready()
    assert "embedded valkey-server started for this run" in summary
    assert "2 refreshers" in summary
    assert re.search(r"^refresher-2 +\| ", up.err(), re.M)
    assert_get_metric_agrees_with_list_metrics(up.api, 10)
    assert up.stop(signal.SIGTERM) == 0
    wait_for(lambda: not session_pids(up.process.pid), 3, message="no process left")


def test_a_child_failing_at_start_is_named_with_its_reason_and_nothing_is_left(
    start: type[Up],
) -> None:
    up = start(["--switches", "5", "--api-workers", "1"], {"TELEMETRY_API_THREADS": "0"})
    assert up.process.wait(40) == 1
    err = up.err()
    assert "api exited (status 2)" in err, err
    assert "TELEMETRY_API_THREADS='0': must be at least 1" in err.rpartition("api exited")[2]
    assert "Switch telemetry is up" not in up.out()
    wait_for(lambda: not session_pids(up.process.pid), 3, message="no process left")


def test_a_taken_port_is_refused_before_anything_starts(start: type[Up]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        up = start(["--api-port", str(port)])  # the last --api-port given wins
        assert up.process.wait(20) == 1
    assert f"the API's port 127.0.0.1:{port} is taken" in up.err()
    assert "redis" not in up.err().partition("is taken")[0]  # nothing was started before
